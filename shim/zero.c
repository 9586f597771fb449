/* zero.c - clear a recycled range (zero.h). */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include "zero.h"
#include "rawsys.h"

#define PAGE 4096UL
#define PM_PRESENT (1ULL << 63)
#define PM_SWAP (1ULL << 62)
#define PM_EXCLUSIVE (1ULL << 56)
#define BATCH 512            /* pagemap entries per read: 2 MiB of address space */
#define MAX_DROP_RUNS 32     /* more scattered drops than this: drop the rest at once */

enum { NONE, CLEAR, DROP };

struct run {
	int kind;
	uintptr_t start, end;
	unsigned drops;
};

static void flush(struct run *r)
{
	if (r->kind == CLEAR)
		memset((void *)r->start, 0, r->end - r->start);
	else if (r->kind == DROP) {
		mv_raw3(SYS_madvise, r->start, r->end - r->start, MADV_DONTNEED);
		r->drops++;
	}
	r->kind = NONE;
}

static void add(struct run *r, int kind, uintptr_t a)
{
	if (r->kind == kind && r->end == a) {
		r->end = a + PAGE;
		return;
	}
	flush(r);
	r->kind = kind;
	r->start = a;
	r->end = a + PAGE;
}

enum mv_zero_how mv_zero_fresh(void *p, size_t len, size_t memset_max)
{
	uintptr_t a = (uintptr_t)p, end = a + len;
	if (len <= memset_max) {
		memset(p, 0, len);
		return MV_ZERO_MEMSET;
	}
	long fd = mv_raw4(SYS_openat, AT_FDCWD, "/proc/self/pagemap", O_RDONLY | O_CLOEXEC, 0);
	if (mv_raw_failed(fd)) {
		mv_raw3(SYS_madvise, a, len, MADV_DONTNEED);
		return MV_ZERO_DONTNEED;
	}
	uint64_t buf[BATCH];
	struct run r = { NONE, 0, 0, 0 };
	while (a < end) {
		size_t n = (end - a) / PAGE;
		if (n > BATCH)
			n = BATCH;
		long got = mv_raw4(SYS_pread64, fd, buf, n * sizeof(buf[0]), (long)(a / PAGE * sizeof(buf[0])));
		if (mv_raw_failed(got) || (size_t)got != n * sizeof(buf[0]) || r.drops > MAX_DROP_RUNS) {
			/* Cannot tell what is there: drop the rest. */
			flush(&r);
			mv_raw3(SYS_madvise, a, end - a, MADV_DONTNEED);
			break;
		}
		for (size_t i = 0; i < n; i++, a += PAGE) {
			uint64_t v = buf[i];
			if ((v & PM_PRESENT) && (v & PM_EXCLUSIVE))
				add(&r, CLEAR, a);
			else if (v & (PM_PRESENT | PM_SWAP))
				add(&r, DROP, a);
		}
	}
	flush(&r);
	mv_raw1(SYS_close, fd);
	return MV_ZERO_PAGEMAP;
}
