/* edges.c - calls that act on mapped ranges (edges.h). */
#include <errno.h>
#include <sys/syscall.h>
#include "edges.h"
#include "hot.h"
#include "munmap.h"
#include "rawsys.h"

#ifndef SYS_mseal
#define SYS_mseal 462
#endif

static int (*libc_msync)(void *, size_t, int);

void mv_edge_set_msync(int (*fn)(void *, size_t, int))
{
	__atomic_store_n(&libc_msync, fn, __ATOMIC_RELEASE);
}

long mv_edge_raw(const struct mv_edge *c)
{
	switch (c->op) {
	case MV_EDGE_MLOCK: return mv_raw2(SYS_mlock, c->addr, c->len);
	case MV_EDGE_MLOCK2: return mv_raw3(SYS_mlock2, c->addr, c->len, c->a);
	case MV_EDGE_MUNLOCK: return mv_raw2(SYS_munlock, c->addr, c->len);
	case MV_EDGE_MLOCKALL: return mv_raw1(SYS_mlockall, c->a);
	case MV_EDGE_MUNLOCKALL: return mv_raw0(SYS_munlockall);
	case MV_EDGE_MSYNC: {
		int (*fn)(void *, size_t, int) = __atomic_load_n(&libc_msync, __ATOMIC_ACQUIRE);
		if (!fn)
			return mv_raw3(SYS_msync, c->addr, c->len, c->a);
		int saved = errno;
		long r = fn(c->addr, c->len, (int)c->a) == 0 ? 0 : -errno;
		errno = saved;
		return r;
	}
	case MV_EDGE_MINCORE: return mv_raw3(SYS_mincore, c->addr, c->len, c->a);
	case MV_EDGE_MSEAL: return mv_raw3(SYS_mseal, c->addr, c->len, c->a);
	case MV_EDGE_PKEY_MPROTECT: return mv_raw4(SYS_pkey_mprotect, c->addr, c->len, c->a, c->b);
	}
	return -ENOSYS;
}

long mv_edge_call(const struct mv_edge *c)
{
	if (__atomic_load_n(&mv_hot.counting, __ATOMIC_RELAXED) & MV_COUNT_MUNMAP)
		return mv_munmap_edge(c);
	return mv_edge_raw(c);
}
