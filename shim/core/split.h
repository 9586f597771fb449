/* split.h - how an allocator's purge goes to the kernel under the advice
 * transforms (advice.h): the one rule that the live path (advice.c), the
 * page-table model (ptmodel/events.c) and replay's what-if figures
 * (tools/replay.c) all follow, so that none of them can drift from the others.
 *
 * A purge (MADV_FREE or MADV_DONTNEED) takes the advice the mode gives it
 * (free_to_dontneed, dontneed_to_free). With pt_reclaim, the whole aligned
 * 2 MiB regions inside it (the core) go apart from the ragged edges on either
 * side, which go as the mode says: as one MADV_DONTNEED (MV_PTR_MADVISE), or
 * as a fresh mapping over the core (MV_PTR_REMAP) where plain_vma vouches for
 * it. Any other advice, and bad arguments, go as they were made (the kernel's
 * error). No state and no system call: plain_vma, a lookup, is all it calls. */
#ifndef MADVISOR_SPLIT_H
#define MADVISOR_SPLIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include "core/advice.h"

#define MV_SPLIT_PAGE 4096UL
#define MV_SPLIT_PMD (2UL << 20)
/* The advice of a core that goes as a fresh mapping (flags in remap_flags). */
#define MV_SPLIT_REMAP (-1)

struct mv_split {
	int n;           /* parts to issue, in address order; 0: the call goes as it was made */
	int converted;   /* the parts' advice (the core's aside) differs from the one asked */
	int core;        /* index of the whole-2 MiB core issued apart from its edges, or -1 */
	int remap_flags; /* the core is MV_SPLIT_REMAP: mmap flags to map it with (MAP_FIXED aside) */
	struct {
		uintptr_t addr;
		size_t len;
		int advice;
	} part[3];
};

static inline void mv_split_part(struct mv_split *s, uintptr_t addr, size_t len, int advice)
{
	s->part[s->n].addr = addr;
	s->part[s->n].len = len;
	s->part[s->n].advice = advice;
	s->n++;
}

/* Split madvise(addr, len, advice) under the transforms p into *s. */
static inline void mv_split_purge(const struct mv_advice *p, uintptr_t addr, size_t len, int advice,
				  struct mv_split *s)
{
	size_t whole = (len + MV_SPLIT_PAGE - 1) & ~(MV_SPLIT_PAGE - 1);
	int edge = advice;
	s->n = 0;
	s->converted = 0;
	s->core = -1;
	s->remap_flags = 0;
	if (advice != MADV_FREE && advice != MADV_DONTNEED)
		return;
	if ((addr & (MV_SPLIT_PAGE - 1)) || len == 0 || whole < len || addr + whole < addr)
		return;
	if (p->madvise_mode == MV_MADVISE_FREE_TO_DONTNEED && advice == MADV_FREE)
		edge = MADV_DONTNEED;
	else if (p->madvise_mode == MV_MADVISE_DONTNEED_TO_FREE && advice == MADV_DONTNEED)
		edge = MADV_FREE;
	s->converted = edge != advice;
	int core = p->pt_reclaim == MV_PTR_MADVISE ? MADV_DONTNEED : edge;
	uintptr_t end = addr + whole, lo = 0, hi = 0;
	if (whole >= MV_SPLIT_PMD) { /* then addr + MV_SPLIT_PMD - 1 cannot wrap */
		lo = (addr + MV_SPLIT_PMD - 1) & ~(MV_SPLIT_PMD - 1);
		hi = end & ~(MV_SPLIT_PMD - 1);
	}
	int flags = 0;
	int remap = p->pt_reclaim == MV_PTR_REMAP && hi > lo && p->plain_vma && p->plain_vma(lo, hi, &flags);
	if ((core == edge && !remap) || hi <= lo) {
		mv_split_part(s, addr, len, edge); /* the length as asked: the kernel rounds it */
		return;
	}
	if (lo > addr)
		mv_split_part(s, addr, lo - addr, edge);
	s->core = s->n;
	if (remap) {
		s->remap_flags = flags;
		mv_split_part(s, lo, hi - lo, MV_SPLIT_REMAP);
	} else {
		mv_split_part(s, lo, hi - lo, core);
	}
	if (end > hi)
		mv_split_part(s, hi, end - hi, edge);
}

#endif
