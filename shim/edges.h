/* edges.h - calls that are not purges but act on mapped ranges.
 *
 * mlock, mlock2, munlock, mlockall, munlockall, msync, mincore, mseal and
 * pkey_mprotect are not counted or transformed, but while a munmap strategy
 * holds ranges the program unmapped (munmap.h) they must behave as if those
 * ranges were gone (mlock or msync of an unmapped range fails with ENOMEM),
 * and the marks they leave (locked, sealed, protection key) must keep a range
 * out of recycling: a fresh mapping would not carry them. Without a strategy
 * they go straight to the kernel (msync through libc's, a cancellation point). */
#ifndef MADVISOR_EDGES_H
#define MADVISOR_EDGES_H

#include <stddef.h>

enum mv_edge_op {
	MV_EDGE_MLOCK,         /* mlock(addr, len) */
	MV_EDGE_MLOCK2,        /* mlock2(addr, len, a) */
	MV_EDGE_MUNLOCK,       /* munlock(addr, len) */
	MV_EDGE_MLOCKALL,      /* mlockall(a) */
	MV_EDGE_MUNLOCKALL,    /* munlockall() */
	MV_EDGE_MSYNC,         /* msync(addr, len, a) */
	MV_EDGE_MINCORE,       /* mincore(addr, len, (unsigned char *)a) */
	MV_EDGE_MSEAL,         /* mseal(addr, len, a) */
	MV_EDGE_PKEY_MPROTECT, /* pkey_mprotect(addr, len, a = prot, b = pkey) */
};

struct mv_edge {
	enum mv_edge_op op;
	void *addr;
	size_t len;
	long a, b;
};

/* Run the call; returns the kernel's result or a negative errno. Safe before
 * constructors and from signal handlers; never allocates. */
long mv_edge_call(const struct mv_edge *c);
/* The call exactly as given, to the kernel. */
long mv_edge_raw(const struct mv_edge *c);
/* libc's msync (a pthread cancellation point), used once set (constructor). */
void mv_edge_set_msync(int (*fn)(void *, size_t, int));

#endif
