/* advice.h - which strategy a madvise call gets.
 *
 * madvise strategies transform a purge; they never postpone it and never
 * widen it. `madvise.callers` says whose calls they take: any (the default),
 * the allocator's (calls from the code of the object that defines malloc:
 * jemalloc, tcmalloc or mimalloc loaded as a shared object) or the
 * program's (all others). MADV_FREE sent as MADV_DONTNEED and a DONTNEED
 * split into an aligned core and its edges keep what every caller may rely
 * on; MADV_DONTNEED sent as MADV_FREE does not (the pages need not read as
 * zero), so it only ever applies to the calls of an allocator known not to
 * rely on zero-fill. Everything else passes through unchanged. */
#ifndef MADVISOR_POLICY_H
#define MADVISOR_POLICY_H

#include "core/allocator.h"
#include "core/options.h"
#include "sys/probe.h"
#include "core/request.h"

struct mv_policy {
	int active;           /* some strategy applies */
	int madvise_mode;     /* enum mv_madvise_mode in force */
	int pt_reclaim;       /* whole 2 MiB cores go out as one MADV_DONTNEED */
	int callers;          /* enum mv_callers: whose calls the strategies take */
	uintptr_t alloc_lo, alloc_hi; /* the allocator's code; empty when unknown */
};

/* Decide what is in force from the options, the allocator and the kernel.
 * A requested strategy that is unsafe or useless here is turned off with one
 * line on stderr_fd naming the key and the reason; with strict it exits 2.
 * kernel may be NULL when no strategy needs the probe. */
void mv_policy_init(struct mv_policy *p, const struct mv_options *o, const struct mv_allocator_info *a,
		    const struct mv_probe *(*kernel)(void), int stderr_fd);

/* Whether a call made from code address pc is the allocator's. */
static inline int mv_policy_from_allocator(const struct mv_policy *p, const void *pc)
{
	return (uintptr_t)pc - p->alloc_lo < p->alloc_hi - p->alloc_lo;
}

/* Whether the policy applies to this request. */
static inline int mv_policy_applies(const struct mv_policy *p, const struct mv_request *q)
{
	if (!p->active || q->kind != MV_MADVISE)
		return 0;
	if (p->callers == MV_CALLERS_ANY)
		return 1;
	return mv_policy_from_allocator(p, q->caller) == (p->callers == MV_CALLERS_ALLOCATOR);
}

/* Execute a madvise the policy applies to. Returns the kernel-style result. */
long mv_policy_madvise(const struct mv_policy *p, const struct mv_request *q);

#endif
