/* split.h - how an allocator's purge goes to the kernel under the advice
 * transforms (advice.h): the one rule that the live path (advice.c), the
 * page-table model (ptmodel/events.c) and replay's what-if figures
 * (tools/replay.c) all follow, so that none of them can drift from the others.
 *
 * A purge (MADV_FREE or MADV_DONTNEED) takes the advice the mode gives it
 * (free_to_dontneed, dontneed_to_free). With pt_reclaim, the whole aligned
 * 2 MiB regions inside it (the core) go as one MADV_DONTNEED, which frees
 * their page tables, and the ragged edges on either side as the mode says.
 * Any other advice, and bad arguments, go as they were made (the kernel's
 * error). Pure: no state, no system call. */
#ifndef MADVISOR_SPLIT_H
#define MADVISOR_SPLIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>
#include "core/options.h"

#define MV_SPLIT_PAGE 4096UL
#define MV_SPLIT_PMD (2UL << 20)

struct mv_split {
	int n;         /* parts to issue, in address order; 0: the call goes as it was made */
	int converted; /* the parts' advice (the core's aside) differs from the one asked */
	int core;      /* index of the whole-2 MiB core issued apart from its edges, or -1 */
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

/* Split madvise(addr, len, advice) under madvise_mode (enum mv_madvise_mode)
 * and pt_reclaim into *s. */
static inline void mv_split_purge(uintptr_t addr, size_t len, int advice, int madvise_mode, int pt_reclaim,
				  struct mv_split *s)
{
	size_t whole = (len + MV_SPLIT_PAGE - 1) & ~(MV_SPLIT_PAGE - 1);
	int edge = advice;
	s->n = 0;
	s->converted = 0;
	s->core = -1;
	if (advice != MADV_FREE && advice != MADV_DONTNEED)
		return;
	if ((addr & (MV_SPLIT_PAGE - 1)) || len == 0 || whole < len || addr + whole < addr)
		return;
	if (madvise_mode == MV_MADVISE_FREE_TO_DONTNEED && advice == MADV_FREE)
		edge = MADV_DONTNEED;
	else if (madvise_mode == MV_MADVISE_DONTNEED_TO_FREE && advice == MADV_DONTNEED)
		edge = MADV_FREE;
	s->converted = edge != advice;
	int core = pt_reclaim ? MADV_DONTNEED : edge;
	uintptr_t end = addr + whole, lo = 0, hi = 0;
	if (whole >= MV_SPLIT_PMD) { /* then addr + MV_SPLIT_PMD - 1 cannot wrap */
		lo = (addr + MV_SPLIT_PMD - 1) & ~(MV_SPLIT_PMD - 1);
		hi = end & ~(MV_SPLIT_PMD - 1);
	}
	if (core == edge || hi <= lo) {
		mv_split_part(s, addr, len, edge); /* the length as asked: the kernel rounds it */
		return;
	}
	if (lo > addr)
		mv_split_part(s, addr, lo - addr, edge);
	s->core = s->n;
	mv_split_part(s, lo, hi - lo, core);
	if (end > hi)
		mv_split_part(s, hi, end - hi, edge);
}

#endif
