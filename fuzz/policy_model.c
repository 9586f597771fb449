/* policy_model.c - the shadow model of fuzz_policy.c (policy_model.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/mman.h>
#include "core/advice.h"
#include "sys/rawsys.h"
#include "policy_model.h"

/* The model is the fuzzer's yardstick, not code under test: no coverage
 * feedback or comparison tracing (they made it most of the run time). */
#ifdef __clang__
#pragma clang attribute push(__attribute__((no_sanitize("coverage"))), apply_to = function)
#endif

#define SLOTS 16384u             /* power of two */
#define FILL_MAX (SLOTS / 2)     /* stop taking steps beyond this many pages */
#define WIN_HINT 0x200000000000UL /* far below where the kernel places mappings */

enum content { C_ZERO, C_SEED, C_EITHER };

/* Advice bits that split VMAs (VM_* flags). */
enum { A_RAND = 1, A_SEQ = 2, A_DONTFORK = 4, A_DONTDUMP = 8, A_WIPE = 16, A_HUGE = 32, A_NOHUGE = 64 };

struct mpage {
	uintptr_t addr;
	uint64_t seed;
	uint32_t origin;
	uint16_t adv;
	uint8_t used, mapped, prot, shared, content, dirty;
};

uintptr_t win;
uintptr_t mdl_out[MDL_OUT_MAX];
size_t mdl_nout;

static struct mpage table[SLOTS];
static size_t used;
static uint32_t next_origin;
static uint64_t next_seed;
static struct mpage snap[4 * WIN_PAGES];

/* ---- the table ------------------------------------------------------------------ */

static struct mpage *find(uintptr_t a, int create)
{
	uint64_t h = (a >> 12) * 0x9E3779B97F4A7C15ull;
	for (uint32_t i = (uint32_t)(h >> 40) & (SLOTS - 1);; i = (i + 1) & (SLOTS - 1)) {
		struct mpage *p = &table[i];
		if (p->used && p->addr == a)
			return p;
		if (!p->used) {
			if (!create)
				return NULL;
			if (used >= SLOTS - 1)
				abort();
			memset(p, 0, sizeof(*p));
			p->used = 1;
			p->addr = a;
			used++;
			return p;
		}
	}
}

static struct mpage *mapped_at(uintptr_t a)
{
	struct mpage *p = find(a, 0);
	return p && p->mapped ? p : NULL;
}

static int in_window(uintptr_t a)
{
	return a >= win && a < win + WIN_BYTES;
}

void mdl_setup(void)
{
	long r = mv_raw6(SYS_mmap, WIN_HINT, WIN_BYTES, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED_NOREPLACE, -1, 0);
	if (mv_raw_failed(r)) {
		/* Taken: any 2 MiB-aligned 4 MiB. */
		r = mv_raw6(SYS_mmap, 0, WIN_BYTES + (2UL << 20), PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			    -1, 0);
		if (mv_raw_failed(r))
			abort();
		uintptr_t a = ((uintptr_t)r + (2UL << 20) - 1) & ~((2UL << 20) - 1);
		if (a > (uintptr_t)r)
			mv_raw2(SYS_munmap, r, a - (uintptr_t)r);
		if ((uintptr_t)r + WIN_BYTES + (2UL << 20) > a + WIN_BYTES)
			mv_raw2(SYS_munmap, a + WIN_BYTES, (uintptr_t)r + WIN_BYTES + (2UL << 20) - a - WIN_BYTES);
		r = (long)a;
	}
	win = (uintptr_t)r;
}

void mdl_reset(void)
{
	memset(table, 0, sizeof(table));
	used = 0;
	mdl_nout = 0;
	next_origin = 1;
	for (size_t i = 0; i < WIN_PAGES; i++) {
		struct mpage *p = find(win + i * PG, 1);
		p->mapped = 1;
		p->prot = PROT_NONE;
	}
}

int mdl_room(void)
{
	return used + 4 * WIN_PAGES < FILL_MAX;
}

int mdl_all_free(uintptr_t s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (mapped_at(s + i * PG))
			return 0;
	return 1;
}

int mdl_any_shared(uintptr_t s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct mpage *p = mapped_at(s + i * PG);
		if (p && p->shared)
			return 1;
	}
	return 0;
}

int mdl_mapped_outside(uintptr_t *p)
{
	for (size_t i = 0; i < SLOTS; i++) {
		if (table[i].used && table[i].mapped && !in_window(table[i].addr)) {
			*p = table[i].addr;
			return 1;
		}
	}
	return 0;
}

size_t mdl_run(uintptr_t p, size_t max)
{
	size_t n = 0;
	while (n < max && mapped_at(p + n * PG))
		n++;
	return n;
}

/* ---- memory contents ------------------------------------------------------------ */

static inline __attribute__((always_inline)) uint64_t word(uint64_t seed, size_t i)
{
	return seed ^ ((uint64_t)i * 0x9E3779B97F4A7C15ull);
}

__attribute__((no_sanitize("address")))
static void fill(uintptr_t a, uint64_t seed)
{
	uint64_t *w = (uint64_t *)a;
	for (size_t i = 0; i < PG / 8; i++)
		w[i] = word(seed, i);
}

static uint64_t mix[PG / 8]; /* i * K: the pattern is seed ^ mix[i] */

/* 0: reads zero, 1: reads the pattern, -1: neither (first bad word in *at).
 * The whole page in one pass of ORs (vectorized), the details only on failure. */
__attribute__((no_sanitize("address")))
static int reads(uintptr_t a, uint64_t seed, int full, size_t *at)
{
	const uint64_t *w = (const uint64_t *)a;
	static const size_t sample[] = { 0, 1, PG / 16, PG / 8 - 1 };
	uint64_t z = 0, d = 0;
	if (!mix[1])
		for (size_t i = 0; i < PG / 8; i++)
			mix[i] = word(0, i);
	if (full) {
		for (size_t i = 0; i < PG / 8; i++) {
			z |= w[i];
			d |= w[i] ^ seed ^ mix[i];
		}
	} else {
		for (size_t k = 0; k < sizeof(sample) / sizeof(sample[0]); k++) {
			z |= w[sample[k]];
			d |= w[sample[k]] ^ seed ^ mix[sample[k]];
		}
	}
	if (!z)
		return 0;
	if (!d && seed)
		return 1;
	for (size_t i = 0; i < PG / 8; i++) {
		if (w[i] != 0 && (!seed || w[i] != word(seed, i))) {
			*at = i * 8;
			break;
		}
	}
	return -1;
}

static char why[256];

const char *mdl_verify(int full)
{
	for (size_t i = 0; i < SLOTS; i++) {
		struct mpage *p = &table[i];
		if (!p->used || !p->mapped)
			continue;
		int whole = full || p->dirty || p->content == C_EITHER;
		p->dirty = 0;
		if (!(p->prot & (PROT_READ | PROT_WRITE)))
			continue;
		size_t at = 0;
		int r = reads(p->addr, p->content == C_ZERO ? 0 : p->seed, whole, &at);
		int ok = p->content == C_ZERO ? r == 0 : p->content == C_SEED ? r == 1 : r >= 0;
		if (!ok) {
			snprintf(why, sizeof(why), "page %#lx (%s, prot %d, %s) should read %s; byte %zu reads %#llx",
				 (unsigned long)p->addr, in_window(p->addr) ? "window" : "outside", p->prot,
				 p->shared ? "shared" : "private",
				 p->content == C_ZERO ? "zero" : p->content == C_SEED ? "its pattern" : "zero or its pattern",
				 at, (unsigned long long)*(const volatile uint64_t *)(p->addr + (at & ~7ul)));
			return why;
		}
		if (p->content == C_EITHER && r == 0 && whole)
			p->content = C_ZERO;
	}
	return NULL;
}

/* ---- calls ---------------------------------------------------------------------- */

void mdl_map(uintptr_t s, size_t n, int prot, int shared)
{
	uint32_t origin = next_origin++;
	for (size_t i = 0; i < n; i++) {
		struct mpage *p = find(s + i * PG, 1);
		p->mapped = 1;
		p->prot = (uint8_t)prot;
		p->shared = (uint8_t)shared;
		p->content = C_ZERO;
		p->seed = 0;
		p->adv = 0;
		p->origin = origin;
		p->dirty = 1;
	}
	if (!in_window(s) && mdl_nout < MDL_OUT_MAX)
		mdl_out[mdl_nout++] = s;
}

void mdl_unmap(uintptr_t s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct mpage *p = find(s + i * PG, 0);
		if (p)
			p->mapped = 0;
	}
}

void mdl_write(uintptr_t s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct mpage *p = mapped_at(s + i * PG);
		if (!p || !(p->prot & PROT_WRITE))
			continue;
		p->seed = (++next_seed << 16) | 0x5a5a;
		p->content = C_SEED;
		p->dirty = 1;
		fill(p->addr, p->seed);
	}
}

long mdl_expect_mprotect(uintptr_t s, size_t n, size_t *done)
{
	size_t k = mdl_run(s, n);
	*done = k;
	return k == n ? 0 : -ENOMEM;
}

void mdl_protect(uintptr_t s, size_t n, int prot)
{
	for (size_t i = 0; i < n; i++) {
		struct mpage *p = mapped_at(s + i * PG);
		p->prot = (uint8_t)prot;
		p->dirty = 1;
	}
}

/* The kernel walks the VMAs in order: a VMA that refuses the advice ends the
 * call with its error (the earlier ones keep it); holes give ENOMEM at the end. */
long mdl_expect_madvise(uintptr_t s, size_t n, int advice, struct mdl_madv *m)
{
	int hole = 0;
	m->s = s;
	m->n = n;
	m->advice = advice;
	for (size_t i = 0; i < n; i++) {
		struct mpage *p = mapped_at(s + i * PG);
		if (!p) {
			hole = 1;
			continue;
		}
		if (p->shared && (advice == MADV_FREE || advice == MADV_WIPEONFORK)) {
			m->n = i;
			return -EINVAL;
		}
	}
	return hole ? -ENOMEM : 0;
}

void mdl_madvise(const struct mdl_madv *m, int mode, int pt_reclaim)
{
	(void)pt_reclaim; /* its whole-2 MiB DONTNEED reads as "zero or as before" too */
	for (size_t i = 0; i < m->n; i++) {
		struct mpage *p = mapped_at(m->s + i * PG);
		if (!p)
			continue;
		switch (m->advice) {
		case MADV_DONTNEED:
			if (p->shared)
				break;
			if (mode == MV_MADVISE_DONTNEED_TO_FREE && p->content != C_ZERO)
				p->content = C_EITHER;
			else
				p->content = C_ZERO;
			break;
		case MADV_FREE:
			if (mode == MV_MADVISE_FREE_TO_DONTNEED)
				p->content = C_ZERO;
			else if (p->content != C_ZERO)
				p->content = C_EITHER;
			break;
		case MADV_NORMAL: p->adv &= (uint16_t)~(A_RAND | A_SEQ); break;
		case MADV_RANDOM: p->adv = (uint16_t)((p->adv & ~A_SEQ) | A_RAND); break;
		case MADV_SEQUENTIAL: p->adv = (uint16_t)((p->adv & ~A_RAND) | A_SEQ); break;
		case MADV_DONTFORK: p->adv |= A_DONTFORK; break;
		case MADV_DOFORK: p->adv &= (uint16_t)~A_DONTFORK; break;
		case MADV_DONTDUMP: p->adv |= A_DONTDUMP; break;
		case MADV_DODUMP: p->adv &= (uint16_t)~A_DONTDUMP; break;
		case MADV_WIPEONFORK: p->adv |= A_WIPE; break;
		case MADV_KEEPONFORK: p->adv &= (uint16_t)~A_WIPE; break;
		case MADV_HUGEPAGE: p->adv = (uint16_t)((p->adv & ~A_NOHUGE) | A_HUGE); break;
		case MADV_NOHUGEPAGE: p->adv = (uint16_t)((p->adv & ~A_HUGE) | A_NOHUGE); break;
		default: break;
		}
		p->dirty = 1;
	}
}

/* ---- mremap --------------------------------------------------------------------- */

/* All n pages mapped, from one mapping, with equal attributes: one VMA. */
static int one_vma(uintptr_t s, size_t n)
{
	struct mpage *f = mapped_at(s);
	if (!f)
		return 0;
	for (size_t i = 1; i < n; i++) {
		struct mpage *p = mapped_at(s + i * PG);
		if (!p || p->origin != f->origin || p->prot != f->prot || p->shared != f->shared || p->adv != f->adv)
			return 0;
	}
	return 1;
}

/* Pages [s, s + n): 1 all known and free, 0 one is mapped, -1 some unknown. */
static int known_free(uintptr_t s, size_t n)
{
	int unknown = 0;
	for (size_t i = 0; i < n; i++) {
		struct mpage *p = find(s + i * PG, 0);
		if (p && p->mapped)
			return 0;
		unknown |= !p;
	}
	return unknown ? -1 : 1;
}

/* Old origin -> new origin, for the pages of one mremap. */
struct renum {
	size_t n;
	uint32_t from[4 * WIN_PAGES], to[4 * WIN_PAGES];
};

static uint32_t renumber(struct renum *r, uint32_t from)
{
	for (size_t i = 0; i < r->n; i++)
		if (r->from[i] == from)
			return r->to[i];
	r->from[r->n] = from;
	r->to[r->n] = next_origin++;
	return r->to[r->n++];
}

void mdl_expect_mremap(uintptr_t s, size_t oldn, size_t nn, int flags, uintptr_t to, int outside,
		       struct mdl_remap *m)
{
	memset(m, 0, sizeof(*m));
	m->s = s, m->oldn = oldn, m->nn = nn, m->flags = flags, m->to = to, m->outside = outside;
	m->expect = MDL_AMBIG;
	if (!one_vma(s, oldn))
		return; /* EFAULT, or (newer kernels) a move of several VMAs */
	if (flags & MREMAP_FIXED) {
		m->expect = MDL_EXACT;
		m->value = to < s + oldn * PG && s < to + nn * PG ? -EINVAL : (long)to;
		return;
	}
	if (flags & MREMAP_DONTUNMAP) {
		m->expect = MDL_MOVE;
		return;
	}
	if (nn <= oldn) {
		m->expect = MDL_EXACT;
		m->value = (long)s;
		return;
	}
	int g = known_free(s + oldn * PG, nn - oldn);
	if (g == 1) {
		m->expect = MDL_EXACT;
		m->value = (long)s;
	} else if (g == 0) {
		m->expect = flags & MREMAP_MAYMOVE ? MDL_MOVE : MDL_EXACT;
		m->value = -ENOMEM;
	} else {
		m->expect = MDL_INPLACE_OR;
	}
}

static int result_ok(const struct mdl_remap *m, long r)
{
	int moves = (m->flags & MREMAP_MAYMOVE) != 0;
	int ok_addr = r > 0 && !(r & (PG - 1));
	switch (m->expect) {
	case MDL_EXACT: return r == m->value;
	case MDL_MOVE: return ok_addr && r != (long)m->s;
	case MDL_INPLACE_OR: return r == (long)m->s || (!moves && r == -ENOMEM) || (moves && ok_addr);
	default:
		if (r == -EFAULT || r == -ENOMEM || r == -EINVAL)
			return 1;
		if (!ok_addr)
			return 0;
		if (m->flags & MREMAP_FIXED)
			return r == (long)m->to;
		return moves || r == (long)m->s;
	}
}

void mdl_mremap(struct mdl_remap *m, long r)
{
	static char msg[160];
	if (!result_ok(m, r)) {
		snprintf(msg, sizeof(msg), "expected %s%ld", m->expect == MDL_EXACT ? "" : "(kind) ",
			 m->expect == MDL_EXACT ? m->value : (long)m->expect);
		m->error = msg;
		return;
	}
	if (r < 0 && r > -4096)
		return;
	uintptr_t s = m->s, t = (uintptr_t)r;
	size_t oldn = m->oldn, nn = m->nn;
	for (size_t i = 0; i < oldn; i++) {
		struct mpage *p = find(s + i * PG, 0);
		if (p)
			snap[i] = *p;
		else
			memset(&snap[i], 0, sizeof(snap[i]));
	}
	if (t == s && !(m->flags & (MREMAP_FIXED | MREMAP_DONTUNMAP))) {
		if (nn < oldn)
			mdl_unmap(s + nn * PG, oldn - nn);
		if (nn > oldn) {
			if (!mdl_all_free(s + oldn * PG, nn - oldn)) {
				m->error = "grew in place over pages the program has mapped";
				return;
			}
			for (size_t i = oldn; i < nn; i++) {
				struct mpage *p = find(s + i * PG, 1), *last = &snap[oldn - 1];
				p->mapped = 1, p->prot = last->prot, p->shared = last->shared, p->adv = last->adv;
				p->origin = last->origin, p->content = C_ZERO, p->seed = 0, p->dirty = 1;
			}
		}
		return;
	}
	if (!(m->flags & MREMAP_FIXED) && !mdl_all_free(t, nn)) {
		m->error = "moved onto pages the program has mapped";
		return;
	}
	/* A move may take several VMAs (Linux 6.17+); each stays its own VMA,
	 * where it lands and (MREMAP_DONTUNMAP) where it was: one new origin
	 * per old one, never one for all. */
	static struct renum moved, left;
	moved.n = left.n = 0;
	if (m->flags & MREMAP_DONTUNMAP) {
		for (size_t i = 0; i < oldn; i++) {
			struct mpage *p = mapped_at(s + i * PG);
			if (!p)
				continue;
			p->origin = renumber(&left, snap[i].origin);
			p->dirty = 1;
			if (!p->shared)
				p->content = C_ZERO, p->seed = 0;
		}
	} else {
		mdl_unmap(s, oldn);
	}
	/* A move of several VMAs with gaps between them (MREMAP_FIXED, Linux
	 * 6.17+) moves each VMA onto its own place: what the target holds
	 * opposite a gap stays. Otherwise the whole target is replaced. */
	int gaps = 0;
	for (size_t i = 0; i < oldn; i++)
		gaps |= !snap[i].mapped;
	if (!gaps)
		mdl_unmap(t, nn);
	for (size_t i = 0; i < nn; i++) {
		const struct mpage *from = &snap[i < oldn ? i : oldn - 1];
		if (!from->mapped)
			continue;
		struct mpage *p = find(t + i * PG, 1);
		p->mapped = 1, p->prot = from->prot, p->shared = from->shared, p->adv = from->adv;
		p->origin = renumber(&moved, from->origin), p->dirty = 1;
		p->content = i < oldn ? from->content : C_ZERO;
		p->seed = i < oldn ? from->seed : 0;
	}
	if (!in_window(t) && mdl_nout < MDL_OUT_MAX)
		mdl_out[mdl_nout++] = t;
}

#ifdef __clang__
#pragma clang attribute pop
#endif
