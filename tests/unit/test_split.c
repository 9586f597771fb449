/* test_split.c - the split of an allocator's purge into an aligned core and
 * ragged edges (core/split.h), the rule the live path, the page-table model
 * and replay share: which calls go as they were made, which advice each part
 * gets, and where the parts begin and end. */
#include <stdint.h>
#include <sys/mman.h>
#include "core/split.h"
#include "../tap.h"

#define PG 4096UL
#define PMD (2UL << 20)
#define BASE ((uintptr_t)0x7f0000000000) /* 2 MiB aligned */

static struct mv_split s;
static uintptr_t vouched_lo, vouched_hi; /* what plain_vma was asked */
static int vouch;                        /* and whether it vouches */
static int mine = 1;                     /* the call is the allocator's */

static int plain_vma(uintptr_t lo, uintptr_t hi, int *flags)
{
	vouched_lo = lo, vouched_hi = hi;
	*flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	return vouch;
}

/* reclaim: enum mv_pt_reclaim_how. */
static void split(uintptr_t a, size_t len, int advice, int mode, int reclaim)
{
	struct mv_advice p = { .active = 1, .madvise_mode = mode, .pt_reclaim = reclaim,
			       .plain_vma = reclaim == MV_PTR_REMAP ? plain_vma : NULL };
	/* Stale contents must not show through. */
	for (int i = 0; i < 4; i++)
		s.part[i].addr = 1, s.part[i].len = 1, s.part[i].advice = -2;
	mv_split_purge(&p, a, len, advice, mine, &s);
}

static int part_is(int i, uintptr_t a, size_t len, int advice)
{
	return i < s.n && s.part[i].addr == a && s.part[i].len == len && s.part[i].advice == advice;
}

int main(void)
{
	tap_plan(28);

	/* As made: not a purge, bad arguments, the empty call. */
	split(BASE, 4 * PMD, MADV_WILLNEED, MV_MADVISE_FREE_TO_DONTNEED, MV_PTR_MADVISE);
	tap_ok(s.n == 0 && !s.converted && s.core == -1, "MADV_WILLNEED goes as it was made");
	split(BASE + 1, PG, MADV_FREE, MV_MADVISE_FREE_TO_DONTNEED, MV_PTR_MADVISE);
	tap_ok(s.n == 0, "an unaligned start goes as it was made (the kernel's EINVAL)");
	split(BASE, 0, MADV_DONTNEED, MV_MADVISE_DONTNEED_TO_FREE, MV_PTR_MADVISE);
	tap_ok(s.n == 0, "a zero length goes as it was made");
	split(BASE, SIZE_MAX - 10, MADV_DONTNEED, MV_MADVISE_DONTNEED_TO_FREE, MV_PTR_MADVISE);
	tap_ok(s.n == 0, "a length that wraps when rounded goes as it was made");
	split(UINTPTR_MAX & ~(PG - 1), PG, MADV_DONTNEED, MV_MADVISE_PASSTHROUGH, MV_PTR_MADVISE);
	tap_ok(s.n == 0, "a range that wraps the address space goes as it was made");

	/* One part: the length as asked, the advice as the mode says. */
	split(BASE, 3 * PMD + 5, MADV_DONTNEED, MV_MADVISE_PASSTHROUGH, MV_PTR_OFF);
	tap_ok(s.n == 1 && part_is(0, BASE, 3 * PMD + 5, MADV_DONTNEED) && !s.converted && s.core == -1,
	       "passthrough without pt_reclaim: one call, unchanged");
	split(BASE + PG, 5 * PG + 1, MADV_FREE, MV_MADVISE_FREE_TO_DONTNEED, MV_PTR_OFF);
	tap_ok(s.n == 1 && part_is(0, BASE + PG, 5 * PG + 1, MADV_DONTNEED) && s.converted,
	       "free_to_dontneed: MADV_FREE becomes one MADV_DONTNEED, length as asked");
	split(BASE, PMD, MADV_DONTNEED, MV_MADVISE_FREE_TO_DONTNEED, MV_PTR_OFF);
	tap_ok(s.n == 1 && part_is(0, BASE, PMD, MADV_DONTNEED) && !s.converted,
	       "free_to_dontneed leaves MADV_DONTNEED alone");
	split(BASE, PMD, MADV_DONTNEED, MV_MADVISE_DONTNEED_TO_FREE, MV_PTR_OFF);
	tap_ok(s.n == 1 && part_is(0, BASE, PMD, MADV_FREE) && s.converted,
	       "dontneed_to_free: MADV_DONTNEED becomes MADV_FREE");
	split(BASE, 4 * PMD, MADV_DONTNEED, MV_MADVISE_PASSTHROUGH, MV_PTR_MADVISE);
	tap_ok(s.n == 1 && part_is(0, BASE, 4 * PMD, MADV_DONTNEED) && s.core == -1,
	       "pt_reclaim on a MADV_DONTNEED: already one call, no split");
	split(BASE + PG, PMD, MADV_FREE, MV_MADVISE_PASSTHROUGH, MV_PTR_MADVISE);
	tap_ok(s.n == 1 && part_is(0, BASE + PG, PMD, MADV_FREE) && s.core == -1,
	       "pt_reclaim: 2 MiB that hold no aligned 2 MiB region stay one call");
	split((UINTPTR_MAX & ~(PG - 1)) - PG, PG, MADV_FREE, MV_MADVISE_PASSTHROUGH, MV_PTR_MADVISE);
	tap_ok(s.n == 1 && part_is(0, (UINTPTR_MAX & ~(PG - 1)) - PG, PG, MADV_FREE),
	       "pt_reclaim at the top of the address space: no core from a wrapped round-up");

	/* pt_reclaim: the core as one MADV_DONTNEED, the edges as the mode says. */
	split(BASE + 3 * PG, 3 * PMD, MADV_FREE, MV_MADVISE_PASSTHROUGH, MV_PTR_MADVISE);
	tap_ok(s.n == 3 && s.core == 1 && !s.converted, "pt_reclaim on an unaligned MADV_FREE: three parts");
	tap_ok(part_is(0, BASE + 3 * PG, PMD - 3 * PG, MADV_FREE) && part_is(1, BASE + PMD, 2 * PMD, MADV_DONTNEED) &&
		       part_is(2, BASE + 3 * PMD, 3 * PG, MADV_FREE),
	       "edges keep MADV_FREE, the aligned core is one MADV_DONTNEED, nothing widened");
	split(BASE, 2 * PMD + PG + 1, MADV_FREE, MV_MADVISE_PASSTHROUGH, MV_PTR_MADVISE);
	tap_ok(s.n == 2 && s.core == 0 && part_is(0, BASE, 2 * PMD, MADV_DONTNEED) &&
		       part_is(1, BASE + 2 * PMD, 2 * PG, MADV_FREE),
	       "aligned start: core first, the last edge ends at the rounded-up page");
	split(BASE + PMD - PG, PMD + PG, MADV_FREE, MV_MADVISE_PASSTHROUGH, MV_PTR_MADVISE);
	tap_ok(s.n == 2 && s.core == 1 && part_is(0, BASE + PMD - PG, PG, MADV_FREE) &&
		       part_is(1, BASE + PMD, PMD, MADV_DONTNEED),
	       "aligned end: edge then core");
	split(BASE, 2 * PMD, MADV_FREE, MV_MADVISE_PASSTHROUGH, MV_PTR_MADVISE);
	tap_ok(s.n == 1 && s.core == 0 && part_is(0, BASE, 2 * PMD, MADV_DONTNEED),
	       "an exactly aligned MADV_FREE becomes its core alone");
	split(BASE + PG, 3 * PMD, MADV_DONTNEED, MV_MADVISE_DONTNEED_TO_FREE, MV_PTR_MADVISE);
	tap_ok(s.n == 3 && s.converted && part_is(0, BASE + PG, PMD - PG, MADV_FREE) &&
		       part_is(1, BASE + PMD, 2 * PMD, MADV_DONTNEED) && part_is(2, BASE + 3 * PMD, PG, MADV_FREE),
	       "dontneed_to_free with pt_reclaim: converted edges around a MADV_DONTNEED core");

	/* pt_reclaim by fresh mappings: only where plain_vma vouches for the core. */
	vouch = 1;
	split(BASE + PG, 3 * PMD, MADV_DONTNEED, MV_MADVISE_PASSTHROUGH, MV_PTR_REMAP);
	tap_ok(vouched_lo == BASE + PMD && vouched_hi == BASE + 3 * PMD && s.n == 3 && s.core == 1 &&
		       part_is(0, BASE + PG, PMD - PG, MADV_DONTNEED) &&
		       part_is(1, BASE + PMD, 2 * PMD, MV_SPLIT_REMAP) && part_is(2, BASE + 3 * PMD, PG, MADV_DONTNEED) &&
		       s.remap_flags == (MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE),
	       "a vouched core goes as a fresh mapping with the flags plain_vma gave, edges as asked");
	vouch = 0;
	split(BASE + PG, 3 * PMD, MADV_DONTNEED, MV_MADVISE_PASSTHROUGH, MV_PTR_REMAP);
	tap_ok(s.n == 1 && part_is(0, BASE + PG, 3 * PMD, MADV_DONTNEED) && s.core == -1,
	       "a core not vouched for stays in the one call");
	vouched_lo = vouched_hi = 0;
	vouch = 1;
	split(BASE + PG, PMD, MADV_FREE, MV_MADVISE_PASSTHROUGH, MV_PTR_REMAP);
	tap_ok(s.n == 1 && vouched_lo == 0 && vouched_hi == 0, "no whole 2 MiB region: plain_vma not asked");

	/* A program's call: MADV_DONTNEED never becomes MADV_FREE, and a
	 * MADV_FREE converted or split is validated by the kernel's MADV_FREE. */
	mine = 0;
	vouch = 0;
	split(BASE, PMD, MADV_DONTNEED, MV_MADVISE_DONTNEED_TO_FREE, MV_PTR_OFF);
	tap_ok(s.n == 1 && part_is(0, BASE, PMD, MADV_DONTNEED) && !s.converted && !s.validate,
	       "a program's MADV_DONTNEED stays MADV_DONTNEED under dontneed_to_free");
	split(BASE + PG, 5 * PG + 1, MADV_FREE, MV_MADVISE_PASSTHROUGH, MV_PTR_OFF);
	tap_ok(s.n == 1 && part_is(0, BASE + PG, 5 * PG + 1, MADV_FREE) && !s.validate,
	       "a program's MADV_FREE left as it is: one call, nothing to validate");
	split(BASE + PG, 5 * PG + 1, MADV_FREE, MV_MADVISE_FREE_TO_DONTNEED, MV_PTR_OFF);
	tap_ok(s.n == 2 && s.validate && s.converted && s.core == -1 && part_is(0, BASE + PG, 5 * PG + 1, MADV_FREE) &&
		       part_is(1, BASE + PG, 5 * PG + 1, MADV_DONTNEED),
	       "free_to_dontneed on a program's MADV_FREE: MADV_FREE first, then MADV_DONTNEED over the same range");
	split(BASE + 3 * PG, 3 * PMD, MADV_FREE, MV_MADVISE_PASSTHROUGH, MV_PTR_MADVISE);
	tap_ok(s.n == 2 && s.validate && !s.converted && s.core == 1 && part_is(0, BASE + 3 * PG, 3 * PMD, MADV_FREE) &&
		       part_is(1, BASE + PMD, 2 * PMD, MADV_DONTNEED),
	       "pt_reclaim on a program's MADV_FREE: MADV_FREE over it all, then the core; the edges are done");
	split(BASE + 3 * PG, 3 * PMD, MADV_FREE, MV_MADVISE_FREE_TO_DONTNEED, MV_PTR_MADVISE);
	tap_ok(s.n == 2 && s.validate && s.converted && s.core == -1 && part_is(0, BASE + 3 * PG, 3 * PMD, MADV_FREE) &&
		       part_is(1, BASE + 3 * PG, 3 * PMD, MADV_DONTNEED),
	       "free_to_dontneed with pt_reclaim: MADV_FREE over it all, then one MADV_DONTNEED (already one call)");
	vouch = 1;
	split(BASE + PG, 3 * PMD, MADV_FREE, MV_MADVISE_PASSTHROUGH, MV_PTR_REMAP);
	tap_ok(s.n == 2 && s.validate && s.core == 1 && part_is(0, BASE + PG, 3 * PMD, MADV_FREE) &&
		       part_is(1, BASE + PMD, 2 * PMD, MV_SPLIT_REMAP),
	       "a vouched core of a program's MADV_FREE: MADV_FREE over it all, then the fresh mapping");
	split(BASE + PG, 3 * PMD, MADV_FREE, MV_MADVISE_FREE_TO_DONTNEED, MV_PTR_REMAP);
	tap_ok(s.n == 4 && s.validate && s.converted && s.core == 2 && part_is(0, BASE + PG, 3 * PMD, MADV_FREE) &&
		       part_is(1, BASE + PG, PMD - PG, MADV_DONTNEED) && part_is(2, BASE + PMD, 2 * PMD, MV_SPLIT_REMAP) &&
		       part_is(3, BASE + 3 * PMD, PG, MADV_DONTNEED),
	       "free_to_dontneed, vouched core, a program's MADV_FREE: MADV_FREE, then edges and fresh core in order");
	return tap_failed != 0;
}
