/* zero.h - make a recycled range read like a fresh anonymous mapping.
 *
 * A range handed out again must read all zero. Small ranges are cleared with
 * memset (they were just used: the pages are there and usually in cache).
 * Larger ones are cleared page by page as /proc/self/pagemap says: pages that
 * are present and mapped only here are cleared with memset; shared pages (the
 * zero page, pages shared with a fork child) and swapped-out pages are
 * dropped with MADV_DONTNEED; absent pages are left alone, so a sparse range
 * costs what it holds, not its size. Without pagemap the whole range is
 * dropped with MADV_DONTNEED. Raw system calls, stack buffers only. */
#ifndef MADVISOR_ZERO_H
#define MADVISOR_ZERO_H

#include <stddef.h>

enum mv_zero_how { MV_ZERO_MEMSET, MV_ZERO_PAGEMAP, MV_ZERO_DONTNEED };

/* Zero [p, p + len) (page-aligned, read-write, private anonymous). Returns
 * how it was done. */
enum mv_zero_how mv_zero_fresh(void *p, size_t len, size_t memset_max);

#endif
