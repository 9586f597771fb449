/* split.h - how a purge goes to the kernel under the advice transforms
 * (advice.h): the one rule that the live path (advice.c), the page-table
 * model (ptmodel/events.c) and replay's what-if figures (tools/replay.c) all
 * follow, so that none of them can drift from the others.
 *
 * A purge (MADV_FREE or MADV_DONTNEED) takes the advice the mode gives it
 * (free_to_dontneed; dontneed_to_free only for the allocator's calls, as a
 * program's may rely on zero fill). With pt_reclaim, the whole aligned 2 MiB
 * regions inside it (the core) go apart from the ragged edges on either side,
 * which go as the mode says: as one MADV_DONTNEED (MV_PTR_MADVISE), or as a
 * fresh mapping over the core (MV_PTR_REMAP) where plain_vma vouches for it.
 * A MADV_FREE that is not the allocator's may be over shared or file memory,
 * where MADV_FREE fails (EINVAL) and MADV_DONTNEED would not: when it is
 * converted or split, the kernel's MADV_FREE over the whole range goes first
 * (validate) and gives the call's result, and the pages are dropped only
 * after it succeeded (zero fill, which MADV_FREE allows). Any other advice,
 * and bad arguments, go as they were made (the kernel's error). No state and
 * no system call: plain_vma, a lookup, is all it calls. */
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
	int n;           /* parts to issue, in order; 0: the call goes as it was made */
	int converted;   /* the parts' advice (the core's aside) differs from the one asked */
	int core;        /* index of the whole-2 MiB core issued apart from its edges, or -1 */
	int remap_flags; /* the core is MV_SPLIT_REMAP: mmap flags to map it with (MAP_FIXED aside) */
	int validate;    /* part 0 is MADV_FREE over the whole range: its result is the call's, and the
			  * other parts (in address order) go only when it succeeded, their results unused */
	struct {
		uintptr_t addr;
		size_t len;
		int advice;
	} part[4];
};

static inline void mv_split_part(struct mv_split *s, uintptr_t addr, size_t len, int advice)
{
	s->part[s->n].addr = addr;
	s->part[s->n].len = len;
	s->part[s->n].advice = advice;
	s->n++;
}

/* The parts of a validated MADV_FREE: the whole range first, then only
 * what goes further than MADV_FREE did (MADV_DONTNEED, a fresh mapping). */
static inline void mv_split_validate(struct mv_split *s, uintptr_t addr, size_t len)
{
	int n = 0, core = -1;
	for (int i = 0; i < s->n; i++)
		if (s->part[i].advice != MADV_FREE) {
			if (i == s->core)
				core = n;
			s->part[n++] = s->part[i];
		}
	for (int i = n; i > 0; i--)
		s->part[i] = s->part[i - 1];
	s->n = n + 1;
	s->core = core < 0 ? -1 : core + 1;
	s->validate = 1;
	s->part[0].addr = addr;
	s->part[0].len = len;
	s->part[0].advice = MADV_FREE;
}

/* Split madvise(addr, len, advice) under the transforms p into *s; mine: the
 * call is the allocator's (mv_advice_from_allocator). */
static inline void mv_split_purge(const struct mv_advice *p, uintptr_t addr, size_t len, int advice, int mine,
				  struct mv_split *s)
{
	size_t whole = (len + MV_SPLIT_PAGE - 1) & ~(MV_SPLIT_PAGE - 1);
	int edge = advice;
	s->n = 0;
	s->converted = 0;
	s->core = -1;
	s->remap_flags = 0;
	s->validate = 0;
	if (advice != MADV_FREE && advice != MADV_DONTNEED)
		return;
	if ((addr & (MV_SPLIT_PAGE - 1)) || len == 0 || whole < len || addr + whole < addr)
		return;
	if (p->madvise_mode == MV_MADVISE_FREE_TO_DONTNEED && advice == MADV_FREE)
		edge = MADV_DONTNEED;
	else if (p->madvise_mode == MV_MADVISE_DONTNEED_TO_FREE && advice == MADV_DONTNEED && mine)
		edge = MADV_FREE; /* never a program's call: it may rely on zero fill */
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
		if (advice == MADV_FREE && !mine && s->converted)
			mv_split_validate(s, addr, len);
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
	if (advice == MADV_FREE && !mine)
		mv_split_validate(s, addr, len);
}

#endif
