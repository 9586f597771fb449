/* test_registry.c - the map registry against a page-by-page model.
 *
 * Random map / forget / protect / advise / hold / claim / unhold calls over
 * 8 MiB (across a 1 GiB slot boundary, so ranges cross shards) are applied to
 * the registry and to an array with one record per page; after each call
 * every page's record and the call's result must agree, and the registry's
 * own invariants must hold. Then the fixed rules: recycling needs one
 * origin, classes, holders, huge ranges. No system calls on these addresses:
 * the registry only records. */
#define MV_TEST_HOOKS /* calls test hooks (sys/testhook.h) */
#include <string.h>
#include <sys/mman.h>
#include "munmap/registry.h"
#include "../tap.h"

#define PG 4096UL
#define NPAGES 2048UL                 /* 8 MiB */
#define BASE (0x7e0000000000UL - (4UL << 20)) /* 4 MiB below a slot boundary */

struct page {
	int known, state, prot, owner;
	unsigned advice, flags, origin;
};

static struct page model[NPAGES];
static uint64_t rng = 42;

static uint64_t rnd(void)
{
	uint64_t z = (rng += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int recyclable(const struct page *p)
{
	return p->known && (p->flags & MAP_ANONYMOUS) && (p->flags & MAP_TYPE) == MAP_PRIVATE &&
	       !(p->flags & ~(unsigned)(MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_FIXED_NOREPLACE | MAP_POPULATE |
					MAP_NORESERVE)) &&
	       p->prot == (PROT_READ | PROT_WRITE) && p->advice == 0;
}

static int deferrable(const struct page *p)
{
	return p->known && (p->flags & MAP_ANONYMOUS) && (p->flags & MAP_TYPE) == MAP_PRIVATE &&
	       !(p->flags & (MAP_HUGETLB | MAP_LOCKED | MAP_GROWSDOWN)) && !(p->advice & MV_ADV_LOCKED);
}

static int ok_class(const struct page *p, int cls)
{
	return cls == MV_REG_RECYCLABLE ? recyclable(p) : cls == MV_REG_DEFERRABLE ? deferrable(p) : p->known;
}

/* What a transition should do, page by page: all of [i, j) in state `from`
 * (owner for HELD), of the class, and (recyclable) of one origin. */
static int model_can(size_t i, size_t j, int from, unsigned owner, int cls)
{
	unsigned origin = model[i].origin;
	for (size_t k = i; k < j; k++) {
		const struct page *p = &model[k];
		if (!p->known || p->state != from || !ok_class(p, cls))
			return 0;
		if (from == MV_REG_HELD && (unsigned)p->owner != owner)
			return 0;
		if (cls == MV_REG_RECYCLABLE && p->origin != origin)
			return 0;
	}
	return 1;
}

static int compare(const char *after)
{
	for (size_t i = 0; i < NPAGES; i++) {
		struct mv_reg_entry e;
		int found = mv_reg_lookup(BASE + i * PG, &e) == 0;
		const struct page *p = &model[i];
		int same = found == p->known &&
			   (!found || ((int)e.state == p->state && e.prot == p->prot && e.advice == p->advice &&
				       e.flags == p->flags && e.origin == p->origin &&
				       (p->state != MV_REG_HELD || (int)e.owner == p->owner)));
		if (!same) {
			tap_diag("page %zu after %s: registry %s state %d prot %d advice %#x origin %u;"
				 " model known %d state %d prot %d advice %#x origin %u", i, after,
				 found ? "has it," : "does not have it", found ? e.state : -1, found ? e.prot : -1,
				 found ? e.advice : 0, found ? e.origin : 0, p->known, p->state, p->prot, p->advice,
				 p->origin);
			return 0;
		}
	}
	return 1;
}

static void random_ops(int n)
{
	int bad = 0, holds = 0, claims = 0;
	size_t last_i = 0, last_j = 1;
	unsigned last_owner = 0;
	for (int it = 0; it < n && !bad; it++) {
		size_t i = rnd() % NPAGES, len = 1 + rnd() % (rnd() % 4 == 0 ? 1024 : 64);
		size_t j = i + len > NPAGES ? NPAGES : i + len;
		uintptr_t a = BASE + i * PG, b = BASE + j * PG;
		const char *what = "?";
		switch (rnd() % 9) {
		case 0:
		case 1: {
			static const int fl[] = { MAP_PRIVATE | MAP_ANONYMOUS, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED,
						  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, MAP_SHARED | MAP_ANONYMOUS,
						  MAP_PRIVATE };
			int f = fl[rnd() % 5], prot = rnd() % 4 ? PROT_READ | PROT_WRITE : PROT_READ;
			mv_reg_map(a, b, prot, f);
			struct mv_reg_entry e;
			mv_reg_lookup(a, &e);
			for (size_t k = i; k < j; k++)
				model[k] = (struct page){ 1, MV_REG_LIVE, prot, 0, 0, (unsigned)f, e.origin };
			what = "map";
			break;
		}
		case 2:
			mv_reg_forget(a, b);
			for (size_t k = i; k < j; k++)
				model[k].known = 0;
			what = "forget";
			break;
		case 3: {
			int prot = rnd() % 2 ? PROT_READ | PROT_WRITE : PROT_NONE;
			mv_reg_protect(a, b, prot);
			for (size_t k = i; k < j; k++)
				model[k].prot = prot;
			what = "protect";
			break;
		}
		case 4: {
			unsigned set = rnd() % 3 ? 0 : 1u << (rnd() % 11), clear = rnd() % 2 ? 1u << (rnd() % 11) : 0;
			mv_reg_advise(a, b, set, clear);
			for (size_t k = i; k < j; k++)
				model[k].advice = (model[k].advice | set) & ~clear;
			what = "advise";
			break;
		}
		case 5:
		case 6: {
			unsigned owner = (unsigned)(rnd() % 3);
			int cls = (int)(rnd() % 3);
			int want = model_can(i, j, MV_REG_LIVE, 0, cls);
			uint32_t origin = 7;
			int got = mv_reg_hold(a, b, owner, (enum mv_reg_class)cls, &origin) == 0;
			if (got != want) {
				tap_diag("hold [%zu, %zu) class %d: registry %d, model %d", i, j, cls, got, want);
				bad = 1;
			}
			if (got) {
				holds++;
				last_i = i;
				last_j = j;
				last_owner = owner;
				for (size_t k = i; k < j; k++) {
					model[k].state = MV_REG_HELD;
					model[k].owner = (int)owner;
				}
			}
			what = "hold";
			break;
		}
		case 7: {
			unsigned owner = (unsigned)(rnd() % 3);
			if (rnd() % 2) {
				/* Often a range just held, or part of it. */
				i = last_i + rnd() % 2;
				j = last_j - rnd() % 2;
				if (i >= NPAGES)
					i = NPAGES - 1;
				if (j <= i)
					j = i + 1;
				a = BASE + i * PG;
				b = BASE + j * PG;
				owner = last_owner;
			}
			int cls = (int)(rnd() % 3);
			int want = model_can(i, j, MV_REG_HELD, owner, cls);
			int got = mv_reg_claim(a, b, owner, (enum mv_reg_class)cls) == 0;
			if (got != want) {
				tap_diag("claim [%zu, %zu) class %d: registry %d, model %d", i, j, cls, got, want);
				bad = 1;
			}
			if (got) {
				claims++;
				for (size_t k = i; k < j; k++)
					model[k].state = MV_REG_LIVE;
			}
			what = "claim";
			break;
		}
		default: {
			unsigned owner = (unsigned)(rnd() % 3);
			int all = 1;
			for (size_t k = i; k < j; k++)
				all &= model[k].known && model[k].state == MV_REG_HELD && model[k].owner == (int)owner;
			if (mv_reg_held_all(a, b, owner) != all) {
				tap_diag("held_all [%zu, %zu): registry %d, model %d", i, j, !all, all);
				bad = 1;
			}
			mv_reg_unhold(a, b, owner);
			for (size_t k = i; k < j; k++)
				if (model[k].known && model[k].state == MV_REG_HELD && model[k].owner == (int)owner)
					model[k].known = 0;
			what = "unhold";
			break;
		}
		}
		if (!bad && !compare(what))
			bad = 1;
		/* mv_reg_attrs on another random range: one LIVE mapping, one set of attributes? */
		size_t x = rnd() % NPAGES, y = x + 1 + rnd() % 32;
		if (y > NPAGES)
			y = NPAGES;
		int uni = 1;
		for (size_t k = x; k < y; k++) {
			const struct page *p = &model[k], *f = &model[x];
			uni &= p->known && p->state == MV_REG_LIVE && p->origin == f->origin && p->flags == f->flags &&
			       p->prot == f->prot && p->advice == f->advice;
		}
		struct mv_reg_entry ae;
		if (!bad && (mv_reg_attrs(BASE + x * PG, BASE + y * PG, &ae) == 0) != uni) {
			tap_diag("attrs [%zu, %zu): registry %d, model %d", x, y, !uni, uni);
			bad = 1;
		}
		if (!bad && mv_reg_check() != 0) {
			tap_diag("invariants broken after %s", what);
			bad = 1;
		}
	}
	tap_ok(!bad, "20000 random calls: every page agrees with the model and the invariants hold");
	tap_ok(holds > 100 && claims > 10, "the random calls moved ranges both ways (%d holds, %d claims)", holds,
	       claims);
}

static void fixed_rules(void)
{
	const int anon = MAP_PRIVATE | MAP_ANONYMOUS, rw = PROT_READ | PROT_WRITE;
	uintptr_t a = BASE + 0x100000, chunk = BASE + (4UL << 20);
	mv_reg_reset();

	/* Two mappings side by side: recyclable one at a time, not together. */
	mv_reg_map(a, a + 4 * PG, rw, anon);
	mv_reg_map(a + 4 * PG, a + 8 * PG, rw, anon);
	uint32_t o1 = 0, o2 = 0;
	tap_ok(mv_reg_hold(a, a + 8 * PG, 1, MV_REG_RECYCLABLE, &o1) < 0,
	       "recycling refuses a range made by two mmap calls (two VMAs, maybe)");
	tap_ok(mv_reg_hold(a, a + 8 * PG, 1, MV_REG_DEFERRABLE, &o1) == 0 && o1 == 0,
	       "deferral takes it, reporting no single origin");
	tap_ok(mv_reg_claim(a, a + 8 * PG, 1, MV_REG_ANYCLASS) == 0, "and gives it back");
	tap_ok(mv_reg_hold(a, a + 4 * PG, 1, MV_REG_RECYCLABLE, &o1) == 0 &&
	       mv_reg_hold(a + 4 * PG, a + 8 * PG, 1, MV_REG_RECYCLABLE, &o2) == 0 && o1 && o2 && o1 != o2,
	       "each one alone is recyclable, with its own origin");
	tap_ok(mv_reg_claim(a, a + 8 * PG, 1, MV_REG_RECYCLABLE) < 0,
	       "a hand-out cannot span both origins");
	tap_ok(mv_reg_holders(a, a + 8 * PG) == 2 && mv_reg_holders(a + 8 * PG, a + 9 * PG) == 0,
	       "holders: owner 1 inside, nobody next to it");
	tap_ok(mv_reg_held_all(a, a + 8 * PG, 1) && !mv_reg_held_all(a, a + 9 * PG, 1) &&
	       !mv_reg_held_all(a, a + 8 * PG, 2), "held_all needs every page, held by that owner");
	mv_reg_unhold(a + 2 * PG, a + 6 * PG, 1);
	struct mv_reg_entry e;
	tap_ok(mv_reg_lookup(a + 3 * PG, &e) < 0 && mv_reg_lookup(a + PG, &e) == 0 && e.state == MV_REG_HELD &&
	       mv_reg_lookup(a + 7 * PG, &e) == 0 && e.state == MV_REG_HELD, "unhold cuts out just its range");

	/* Changes that make a range unfit for recycling. */
	mv_reg_reset();
	mv_reg_map(a, a + 4 * PG, rw, anon);
	mv_reg_protect(a, a + PG, PROT_READ);
	tap_ok(mv_reg_hold(a, a + 4 * PG, 0, MV_REG_RECYCLABLE, NULL) < 0, "read-only pages are not recycled");
	mv_reg_protect(a, a + PG, rw);
	tap_ok(mv_reg_hold(a, a + 4 * PG, 0, MV_REG_RECYCLABLE, NULL) == 0 &&
	       mv_reg_claim(a, a + 4 * PG, 0, MV_REG_RECYCLABLE) == 0, "read-write again: recyclable");
	mv_reg_advise(a + PG, a + 2 * PG, MV_ADV_DONTFORK, 0);
	tap_ok(mv_reg_hold(a, a + 4 * PG, 0, MV_REG_RECYCLABLE, NULL) < 0, "advice keeps a range out");
	mv_reg_advise(a + PG, a + 2 * PG, 0, MV_ADV_DONTFORK);
	tap_ok(mv_reg_hold(a, a + 4 * PG, 0, MV_REG_RECYCLABLE, NULL) == 0, "its inverse lets it back in");
	mv_reg_map(a + 8 * PG, a + 9 * PG, rw, anon | MAP_NORESERVE);
	tap_ok(mv_reg_hold(a + 8 * PG, a + 9 * PG, 0, MV_REG_RECYCLABLE, NULL) == 0 &&
	       mv_reg_claim(a + 8 * PG, a + 9 * PG, 0, MV_REG_RECYCLABLE) == 0 &&
	       mv_reg_hold(a + 8 * PG, a + 9 * PG, 0, MV_REG_DEFERRABLE, NULL) == 0,
	       "MAP_NORESERVE: recycled (served only with the same flags) and deferred");
	mv_reg_map(a + 10 * PG, a + 11 * PG, rw, MAP_SHARED | MAP_ANONYMOUS);
	tap_ok(mv_reg_hold(a + 10 * PG, a + 11 * PG, 0, MV_REG_DEFERRABLE, NULL) < 0, "shared mappings are left alone");
	tap_ok(mv_reg_hold(a + 11 * PG, a + 12 * PG, 0, MV_REG_DEFERRABLE, NULL) < 0, "unknown ranges are left alone");

	/* Across a slot (and shard) boundary. */
	mv_reg_reset();
	mv_reg_map(chunk - 8 * PG, chunk + 8 * PG, rw, anon);
	tap_ok(mv_reg_hold(chunk - 4 * PG, chunk + 4 * PG, 3, MV_REG_RECYCLABLE, NULL) == 0 &&
	       mv_reg_held_all(chunk - 4 * PG, chunk + 4 * PG, 3) && mv_reg_holders(chunk, chunk + PG) == 8,
	       "a range across two shards is held as one");
	mv_reg_protect(chunk + 2 * PG, chunk + 3 * PG, PROT_READ);
	tap_ok(mv_reg_claim(chunk - 4 * PG, chunk + 4 * PG, 3, MV_REG_RECYCLABLE) < 0 &&
	       mv_reg_held_all(chunk - 4 * PG, chunk + 4 * PG, 3),
	       "a claim failing in the second shard leaves the first one held (rolled back)");
	tap_ok(mv_reg_check() == 0, "invariants hold");

	/* Huge ranges: not recorded, but they still clear what they cover. */
	mv_reg_map(BASE, BASE + PG, rw, anon);
	mv_reg_map(BASE - (1UL << 31), BASE + (1UL << 31), rw, anon);
	tap_ok(mv_reg_lookup(BASE, &e) < 0, "a mapping over %lu GiB is unknown and replaces what was there",
	       MV_REG_MAX_MAP >> 30);
	size_t n, h;
	mv_reg_counts(&n, &h);
	tap_ok(n == 0 && h == 0, "nothing left in the registry");
}

int main(void)
{
	tap_ok(mv_reg_init() == 0 && mv_reg_ready(), "registry tables mapped");
	random_ops(20000);
	fixed_rules();
	return tap_done();
}
