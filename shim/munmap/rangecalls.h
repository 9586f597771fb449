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

#include "core/kernel.h"

/* Run the call; returns the kernel's result or a negative errno. Safe before
 * constructors and from signal handlers; never allocates. */
long mv_edge_call(const struct mv_edge *c);
#endif
