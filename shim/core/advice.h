/* advice.h - advice transforms: what an allocator's purge becomes.
 *
 * The madvise strategies transform an allocator's purge; they never postpone it
 * and never widen it. A call is the allocator's when it comes from the code of
 * the object that defines malloc (jemalloc, tcmalloc or mimalloc, loaded as a
 * shared object): those calls advise the allocator's own private anonymous
 * memory, so changing MADV_FREE and MADV_DONTNEED into each other keeps the
 * kernel's result. Everything else passes through unchanged. */
#ifndef MADVISOR_ADVICE_H
#define MADVISOR_ADVICE_H

#include "core/allocator.h"
#include "core/options.h"
#include "sys/probe.h"
#include "core/request.h"

struct mv_advice {
	int active;           /* some strategy applies to allocator calls */
	int madvise_mode;     /* enum mv_madvise_mode in force */
	int pt_reclaim;       /* whole 2 MiB cores go out as one MADV_DONTNEED */
	uintptr_t alloc_lo, alloc_hi;
};

/* Decide what is in force from the options, the allocator and the kernel.
 * A requested strategy that is unsafe or useless here is turned off with one
 * line on stderr_fd naming the key and the reason; with strict it exits 2.
 * kernel may be NULL when no strategy needs the probe. */
void mv_advice_init(struct mv_advice *p, const struct mv_options *o, const struct mv_allocator_info *a,
		    const struct mv_probe *(*kernel)(void), int stderr_fd);

/* Whether the transforms apply to this request. */
static inline int mv_advice_applies(const struct mv_advice *p, const struct mv_request *q)
{
	return p->active && q->kind == MV_MADVISE && (uintptr_t)q->caller - p->alloc_lo < p->alloc_hi - p->alloc_lo;
}

/* Execute an allocator's madvise under the transforms p (split.h). Returns the
 * kernel-style result. */
long mv_advice_madvise(const struct mv_advice *p, const struct mv_request *q);

#endif
