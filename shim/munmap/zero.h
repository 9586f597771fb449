/* zero.h - make a recycled range read like a fresh anonymous mapping.
 *
 * A range handed out again must read all zero. Small ranges are cleared with
 * memset (they were just used: the pages are there and usually in cache), and
 * so are ranges up to 2 MiB that mincore shows mostly resident. A larger range
 * that pagemap samples show mostly empty is dropped with one MADV_DONTNEED
 * (the kernel skips what is empty). Others are
 * cleared as /proc/self/pagemap says, one 2 MiB chunk at a
 * time: where most pages are present and mapped only here (used densely),
 * those pages are cleared with memset; everything else that holds data
 * (present pages of sparse chunks, shared pages such as the zero page or
 * pages shared with a fork child, swapped-out pages) is dropped with
 * MADV_DONTNEED, batched through process_madvise; absent pages are left
 * alone. So a sparse range costs what it holds, not its size, and keeps no
 * memory a fresh mapping would not have. Without pagemap the whole range is
 * dropped. Raw system calls, stack buffers only. */
#ifndef MADVISOR_ZERO_H
#define MADVISOR_ZERO_H

#include <stddef.h>

enum mv_zero_how { MV_ZERO_MEMSET, MV_ZERO_PAGEMAP, MV_ZERO_DONTNEED };

/* Whether process_madvise(PIDFD_SELF, ...) works here (probe.h). */
void mv_zero_init(int process_madvise_self);

/* Zero [p, p + len) (page-aligned, read-write, private anonymous). Returns
 * how it was done. */
enum mv_zero_how mv_zero_fresh(void *p, size_t len, size_t memset_max);

#endif
