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

static void split(uintptr_t a, size_t len, int advice, int mode, int reclaim)
{
	/* Stale contents must not show through. */
	for (int i = 0; i < 3; i++)
		s.part[i].addr = 1, s.part[i].len = 1, s.part[i].advice = -1;
	mv_split_purge(a, len, advice, mode, reclaim, &s);
}

static int part_is(int i, uintptr_t a, size_t len, int advice)
{
	return i < s.n && s.part[i].addr == a && s.part[i].len == len && s.part[i].advice == advice;
}

int main(void)
{
	tap_plan(18);

	/* As made: not a purge, bad arguments, the empty call. */
	split(BASE, 4 * PMD, MADV_WILLNEED, MV_MADVISE_FREE_TO_DONTNEED, 1);
	tap_ok(s.n == 0 && !s.converted && s.core == -1, "MADV_WILLNEED goes as it was made");
	split(BASE + 1, PG, MADV_FREE, MV_MADVISE_FREE_TO_DONTNEED, 1);
	tap_ok(s.n == 0, "an unaligned start goes as it was made (the kernel's EINVAL)");
	split(BASE, 0, MADV_DONTNEED, MV_MADVISE_DONTNEED_TO_FREE, 1);
	tap_ok(s.n == 0, "a zero length goes as it was made");
	split(BASE, SIZE_MAX - 10, MADV_DONTNEED, MV_MADVISE_DONTNEED_TO_FREE, 1);
	tap_ok(s.n == 0, "a length that wraps when rounded goes as it was made");
	split(UINTPTR_MAX & ~(PG - 1), PG, MADV_DONTNEED, MV_MADVISE_PASSTHROUGH, 1);
	tap_ok(s.n == 0, "a range that wraps the address space goes as it was made");

	/* One part: the length as asked, the advice as the mode says. */
	split(BASE, 3 * PMD + 5, MADV_DONTNEED, MV_MADVISE_PASSTHROUGH, 0);
	tap_ok(s.n == 1 && part_is(0, BASE, 3 * PMD + 5, MADV_DONTNEED) && !s.converted && s.core == -1,
	       "passthrough without pt_reclaim: one call, unchanged");
	split(BASE + PG, 5 * PG + 1, MADV_FREE, MV_MADVISE_FREE_TO_DONTNEED, 0);
	tap_ok(s.n == 1 && part_is(0, BASE + PG, 5 * PG + 1, MADV_DONTNEED) && s.converted,
	       "free_to_dontneed: MADV_FREE becomes one MADV_DONTNEED, length as asked");
	split(BASE, PMD, MADV_DONTNEED, MV_MADVISE_FREE_TO_DONTNEED, 0);
	tap_ok(s.n == 1 && part_is(0, BASE, PMD, MADV_DONTNEED) && !s.converted,
	       "free_to_dontneed leaves MADV_DONTNEED alone");
	split(BASE, PMD, MADV_DONTNEED, MV_MADVISE_DONTNEED_TO_FREE, 0);
	tap_ok(s.n == 1 && part_is(0, BASE, PMD, MADV_FREE) && s.converted,
	       "dontneed_to_free: MADV_DONTNEED becomes MADV_FREE");
	split(BASE, 4 * PMD, MADV_DONTNEED, MV_MADVISE_PASSTHROUGH, 1);
	tap_ok(s.n == 1 && part_is(0, BASE, 4 * PMD, MADV_DONTNEED) && s.core == -1,
	       "pt_reclaim on a MADV_DONTNEED: already one call, no split");
	split(BASE + PG, PMD, MADV_FREE, MV_MADVISE_PASSTHROUGH, 1);
	tap_ok(s.n == 1 && part_is(0, BASE + PG, PMD, MADV_FREE) && s.core == -1,
	       "pt_reclaim: 2 MiB that hold no aligned 2 MiB region stay one call");
	split((UINTPTR_MAX & ~(PG - 1)) - PG, PG, MADV_FREE, MV_MADVISE_PASSTHROUGH, 1);
	tap_ok(s.n == 1 && part_is(0, (UINTPTR_MAX & ~(PG - 1)) - PG, PG, MADV_FREE),
	       "pt_reclaim at the top of the address space: no core from a wrapped round-up");

	/* pt_reclaim: the core as one MADV_DONTNEED, the edges as the mode says. */
	split(BASE + 3 * PG, 3 * PMD, MADV_FREE, MV_MADVISE_PASSTHROUGH, 1);
	tap_ok(s.n == 3 && s.core == 1 && !s.converted, "pt_reclaim on an unaligned MADV_FREE: three parts");
	tap_ok(part_is(0, BASE + 3 * PG, PMD - 3 * PG, MADV_FREE) && part_is(1, BASE + PMD, 2 * PMD, MADV_DONTNEED) &&
		       part_is(2, BASE + 3 * PMD, 3 * PG, MADV_FREE),
	       "edges keep MADV_FREE, the aligned core is one MADV_DONTNEED, nothing widened");
	split(BASE, 2 * PMD + PG + 1, MADV_FREE, MV_MADVISE_PASSTHROUGH, 1);
	tap_ok(s.n == 2 && s.core == 0 && part_is(0, BASE, 2 * PMD, MADV_DONTNEED) &&
		       part_is(1, BASE + 2 * PMD, 2 * PG, MADV_FREE),
	       "aligned start: core first, the last edge ends at the rounded-up page");
	split(BASE + PMD - PG, PMD + PG, MADV_FREE, MV_MADVISE_PASSTHROUGH, 1);
	tap_ok(s.n == 2 && s.core == 1 && part_is(0, BASE + PMD - PG, PG, MADV_FREE) &&
		       part_is(1, BASE + PMD, PMD, MADV_DONTNEED),
	       "aligned end: edge then core");
	split(BASE, 2 * PMD, MADV_FREE, MV_MADVISE_PASSTHROUGH, 1);
	tap_ok(s.n == 1 && s.core == 0 && part_is(0, BASE, 2 * PMD, MADV_DONTNEED),
	       "an exactly aligned MADV_FREE becomes its core alone");
	split(BASE + PG, 3 * PMD, MADV_DONTNEED, MV_MADVISE_DONTNEED_TO_FREE, 1);
	tap_ok(s.n == 3 && s.converted && part_is(0, BASE + PG, PMD - PG, MADV_FREE) &&
		       part_is(1, BASE + PMD, 2 * PMD, MADV_DONTNEED) && part_is(2, BASE + 3 * PMD, PG, MADV_FREE),
	       "dontneed_to_free with pt_reclaim: converted edges around a MADV_DONTNEED core");
	return tap_failed != 0;
}
