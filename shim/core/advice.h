/* advice.h - advice transforms: what a madvise purge becomes.
 *
 * The madvise strategies transform a purge; they never postpone it and never
 * widen it. `madvise.callers` says whose calls they take: any (the default),
 * the allocator's (calls from the code of the object that defines malloc:
 * jemalloc, tcmalloc or mimalloc loaded as a shared object) or the
 * program's (all others). MADV_FREE sent as MADV_DONTNEED and a DONTNEED
 * split into an aligned core and its edges keep what every caller may rely
 * on; MADV_DONTNEED sent as MADV_FREE does not (the pages need not read as
 * zero), so it only ever applies to the calls of an allocator known not to
 * rely on zero-fill. Everything else passes through unchanged. */
#ifndef MADVISOR_ADVICE_H
#define MADVISOR_ADVICE_H

#include "core/allocator.h"
#include "core/options.h"
#include "sys/probe.h"
#include "core/request.h"

/* How pt_reclaim gives whole 2 MiB cores back (mv_advice.pt_reclaim). */
enum mv_pt_reclaim_how {
	MV_PTR_OFF,
	MV_PTR_MADVISE, /* one MADV_DONTNEED: the kernel frees the table (PT_RECLAIM, 6.14+) */
	MV_PTR_REMAP,   /* a fresh mapping over the core (MAP_FIXED), which frees the table on
			 * every kernel, where plain_vma vouches for the range; else MADV_DONTNEED */
};

/* Whether [lo, hi) lies in one plain private anonymous read-write mapping
 * that a fresh one re-merges with (no advice, lock, seal, DONTFORK, nothing
 * inherited or moved, no userfaultfd seen): 1 with the mmap flags to map it
 * with in *flags, else 0. The munmap strategies' map registry knows
 * (munmap.h); without it nothing is vouched for. */
typedef int (*mv_plain_vma_fn)(uintptr_t lo, uintptr_t hi, int *flags);

struct mv_advice {
	int active;           /* some strategy applies */
	int madvise_mode;     /* enum mv_madvise_mode in force */
	int pt_reclaim;       /* enum mv_pt_reclaim_how: whole 2 MiB cores go as one DONTNEED or a fresh mapping */
	int callers;          /* enum mv_callers: whose calls the strategies take */
	uintptr_t alloc_lo, alloc_hi; /* the allocator's code; empty when unknown */
	mv_plain_vma_fn plain_vma;
};

/* Decide what is in force from the options, the allocator and the kernel.
 * A requested strategy that is unsafe or useless here is turned off with one
 * line on stderr_fd naming the key and the reason; with strict it exits 2.
 * A fallback (pt_reclaim by fresh mappings where the kernel lacks
 * PT_RECLAIM) is said in one line. kernel may be NULL when no strategy needs
 * the probe; plain_vma NULL when no map registry runs. */
void mv_advice_init(struct mv_advice *p, const struct mv_options *o, const struct mv_allocator_info *a,
		    const struct mv_probe *(*kernel)(void), mv_plain_vma_fn plain_vma, int stderr_fd);

/* Whether a call made from code address pc is the allocator's. */
static inline int mv_advice_from_allocator(const struct mv_advice *p, const void *pc)
{
	return (uintptr_t)pc - p->alloc_lo < p->alloc_hi - p->alloc_lo;
}

/* Whether the transforms apply to this request. */
static inline int mv_advice_applies(const struct mv_advice *p, const struct mv_request *q)
{
	if (!p->active || q->kind != MV_MADVISE)
		return 0;
	if (p->callers == MV_CALLERS_ANY)
		return 1;
	return mv_advice_from_allocator(p, q->caller) == (p->callers == MV_CALLERS_ALLOCATOR);
}

/* Execute a madvise the transforms p apply to (split.h). Returns the
 * kernel-style result. */
long mv_advice_madvise(const struct mv_advice *p, const struct mv_request *q);

#endif
