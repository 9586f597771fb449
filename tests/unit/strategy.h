/* strategy.h - drive the munmap strategies (munmap.h) as the interposer
 * would, on real memory: shared by the unit tests of recycling, deferral and
 * the calls that act on ranges. */
#ifndef MADVISOR_TEST_STRATEGY_H
#define MADVISOR_TEST_STRATEGY_H

#include <stdint.h>
#include <sys/mman.h>
#include "munmap/munmap.h"
#include "munmap/mapcache.h"
#include "munmap/rangecalls.h"

#define PG 4096UL
#define RW (PROT_READ | PROT_WRITE)

static inline long do_mmap_from(const void *caller, void *addr, size_t len, int prot, int flags)
{
	struct mv_request q = { .kind = MV_MMAP, .addr = addr, .len = len, .prot = prot, .flags = flags, .fd = -1,
				.caller = caller };
	return mv_munmap_dispatch(&q);
}

static inline long do_mmap(void *addr, size_t len, int prot, int flags)
{
	return do_mmap_from(NULL, addr, len, prot, flags);
}

static inline long do_munmap_from(const void *caller, void *addr, size_t len)
{
	struct mv_request q = { .kind = MV_MUNMAP, .addr = addr, .len = len, .caller = caller };
	return mv_munmap_dispatch(&q);
}

static inline long do_munmap(void *addr, size_t len)
{
	return do_munmap_from(NULL, addr, len);
}

static inline long do_madvise(void *addr, size_t len, int advice)
{
	struct mv_request q = { .kind = MV_MADVISE, .addr = addr, .len = len, .advice = advice };
	return mv_munmap_dispatch(&q);
}

static inline long do_mprotect(void *addr, size_t len, int prot)
{
	struct mv_request q = { .kind = MV_MPROTECT, .addr = addr, .len = len, .prot = prot };
	return mv_munmap_dispatch(&q);
}

static inline long do_mremap(void *addr, size_t len, size_t new_len, int flags, void *to)
{
	struct mv_request q = { .kind = MV_MREMAP, .addr = addr, .len = len, .new_len = new_len, .flags = flags,
				.new_addr = to };
	return mv_munmap_dispatch(&q);
}

static inline long do_edge(enum mv_edge_op op, void *addr, size_t len, long a, long b)
{
	struct mv_edge c = { .op = op, .addr = addr, .len = len, .a = a, .b = b };
	return mv_munmap_edge(&c);
}

static inline char *anon(size_t pages)
{
	long r = do_mmap(NULL, pages * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS);
	return r < 0 ? NULL : (char *)r;
}

static inline int all_zero(const char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i])
			return 0;
	return 1;
}

static inline uint64_t counter(int c)
{
	uint64_t v[MV_MC_COUNT];
	mv_mc_counters(v);
	return v[c];
}

/* Whether the kernel has anything mapped at p (the library's own view aside). */
static inline int mapped(void *p)
{
	unsigned char v;
	return mincore(p, PG, &v) == 0;
}

#endif
