/* model.c - nodes of the page-table model: refcounts, directory, what maps
 * each region, totals (model.h).
 *
 * Every transition of a region's word is one compare-and-swap, so the
 * populated count, the visitors and the "table held" bit change together
 * and the PMD node's count of held tables follows exactly. A group or a
 * region's bits are filled in privately and published with one
 * compare-and-swap; the loser of a race keeps its copy for its next attempt
 * (one per thread). Memory comes from own memory in 64 KiB chunks cut by an
 * atomic bump and is never returned while the process runs. */
#include <fcntl.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>
#include "ptmodel/model.h"
#include "sys/ownmem.h"
#include "sys/ownsys.h"

static struct mv_ptm_pmd **dir;       /* MV_PTM_SLOTS entries */
static struct mv_ptm_pmd *all;        /* list of every node */
static int pagemap_fd = -1;
static int ready;

#define LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define CAS(p, o, n) __atomic_compare_exchange_n((p), (o), (n), 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)

void mv_ptm_get(struct mv_ptm_node *n)
{
	__atomic_fetch_add(&n->w, MV_PTM_VIS_ONE, __ATOMIC_ACQ_REL);
}

int mv_ptm_try_get(struct mv_ptm_node *n)
{
	uint64_t w = LOAD(&n->w);
	do {
		if (mv_ptm_refs(w) == 0)
			return 0;
	} while (!CAS(&n->w, &w, w + MV_PTM_VIS_ONE));
	return 1;
}

int mv_ptm_put(struct mv_ptm_node *n)
{
	uint64_t w = __atomic_sub_fetch(&n->w, MV_PTM_VIS_ONE, __ATOMIC_ACQ_REL);
	return mv_ptm_refs(w) == 0;
}

static void tab_on(struct mv_ptm_pmd *p)
{
	if (__atomic_fetch_add(&p->ntab, 1, __ATOMIC_ACQ_REL) == 0)
		__atomic_store_n(&p->tab, 1, __ATOMIC_RELEASE);
}

static uint64_t bump_gen(uint64_t w, uint64_t nw)
{
	return (nw & ~(MV_PTM_GEN_MASK | MV_PTM_SAMPLED)) | ((w + MV_PTM_GEN_ONE) & MV_PTM_GEN_MASK);
}

void mv_ptm_populate(struct mv_ptm_pmd *p, struct mv_ptm_node *n, unsigned k)
{
	uint64_t w = LOAD(&n->w), nw;
	do {
		uint64_t pop = (w & MV_PTM_POP_MASK) + k;
		if (pop > 512)
			pop = 512;
		nw = bump_gen(w, (w & ~MV_PTM_POP_MASK) | pop | MV_PTM_TAB);
	} while (!CAS(&n->w, &w, nw));
	if (!(w & MV_PTM_TAB))
		tab_on(p);
}

int mv_ptm_unpopulate(struct mv_ptm_node *n, unsigned k)
{
	uint64_t w = LOAD(&n->w), nw;
	do {
		uint64_t pop = w & MV_PTM_POP_MASK;
		pop = pop > k ? pop - k : 0;
		nw = bump_gen(w, (w & ~MV_PTM_POP_MASK) | pop);
	} while (!CAS(&n->w, &w, nw));
	return mv_ptm_refs(w) != 0 && mv_ptm_refs(nw) == 0;
}

void mv_ptm_free_table(struct mv_ptm_pmd *p, struct mv_ptm_node *n)
{
	uint64_t w = LOAD(&n->w), nw;
	do
		nw = bump_gen(w, w & ~(MV_PTM_POP_MASK | MV_PTM_TAB | MV_PTM_ANON1));
	while (!CAS(&n->w, &w, nw));
	if (w & MV_PTM_TAB)
		__atomic_fetch_sub(&p->ntab, 1, __ATOMIC_ACQ_REL);
}

int mv_ptm_commit(struct mv_ptm_pmd *p, struct mv_ptm_node *n, uint64_t seen, unsigned pop, int anon1)
{
	if (pop > 512)
		pop = 512;
	uint64_t nw = (seen & ~(MV_PTM_POP_MASK | MV_PTM_ANON1)) | pop | (anon1 ? MV_PTM_ANON1 : 0) | MV_PTM_SAMPLED;
	if (pop)
		nw |= MV_PTM_TAB;
	uint64_t w = seen;
	/* Only the visitor count may have moved since `seen`; anything else
	 * (an event) makes the sample stale. */
	for (;;) {
		uint64_t want = (nw & ~MV_PTM_VIS_MASK) | (w & MV_PTM_VIS_MASK);
		if ((w & ~MV_PTM_VIS_MASK) != (seen & ~MV_PTM_VIS_MASK))
			return 0;
		if (CAS(&n->w, &w, want))
			break;
	}
	if (pop && !(seen & MV_PTM_TAB))
		tab_on(p);
	return 1;
}

void mv_ptm_touch(struct mv_ptm_node *n)
{
	uint64_t w = LOAD(&n->w);
	while (!CAS(&n->w, &w, bump_gen(w, w)))
		;
}

#define CHUNK_BYTES (64u << 10)
#define REGION_SPAN MV_PTM_PTE_SPAN
#define GROUP_SPAN ((uintptr_t)MV_PTM_GROUP * MV_PTM_PTE_SPAN)

/* ---- memory ------------------------------------------------------------------ */

struct chunk {
	uint64_t used;             /* bump offset; may run past the end (then full) */
};

static struct chunk *cur;
static uint64_t chunk_bytes;
static __thread void *spare_group __attribute__((tls_model("initial-exec")));
static __thread void *spare_bits __attribute__((tls_model("initial-exec")));

/* n bytes (a multiple of 64), zeroed, or NULL. Lock-free. */
static void *piece(size_t n)
{
	for (;;) {
		struct chunk *c = LOAD(&cur);
		if (c) {
			uint64_t off = __atomic_fetch_add(&c->used, n, __ATOMIC_ACQ_REL);
			if (off + n <= CHUNK_BYTES)
				return (char *)c + off;
		}
		struct chunk *fresh = mv_ownmem_alloc(CHUNK_BYTES);
		if (!fresh)
			return NULL;
		fresh->used = 64;
		if (CAS(&cur, &c, fresh))
			__atomic_fetch_add(&chunk_bytes, CHUNK_BYTES, __ATOMIC_RELAXED);
		else
			mv_ownmem_free(fresh, CHUNK_BYTES);
	}
}

/* A piece, the thread's spare first (a signal handler may take it meanwhile:
 * the exchange makes it one taker's). */
static void *take(void **spare, size_t n)
{
	void *x = __atomic_exchange_n(spare, NULL, __ATOMIC_RELAXED);
	if (x) {
		memset(x, 0, n);
		return x;
	}
	return piece(n);
}

static void keep(void **spare, void *x)
{
	__atomic_store_n(spare, x, __ATOMIC_RELAXED); /* a spare already there is lost: rare */
}

size_t mv_ptm_bytes(void)
{
	return LOAD(&chunk_bytes) + (dir ? MV_PTM_SLOTS * sizeof(*dir) : 0);
}

int mv_ptm_init(int pt_reclaim)
{
	(void)pt_reclaim;
	if (LOAD(&ready))
		return 0;
	struct mv_ptm_pmd **d = mv_ownmem_alloc(MV_PTM_SLOTS * sizeof(*d));
	if (!d)
		return -1;
	struct mv_ptm_pmd **none = NULL;
	if (!CAS(&dir, &none, d))
		mv_ownmem_free(d, MV_PTM_SLOTS * sizeof(*d));
	if (pagemap_fd < 0) {
		long fd = mv_own4(SYS_openat, AT_FDCWD, "/proc/self/pagemap", O_RDONLY | O_CLOEXEC, 0);
		if (mv_raw_failed(fd))
			return (int)fd; /* no samples, no sweep: the model stays off */
		pagemap_fd = (int)fd;
	}
	__atomic_store_n(&ready, 1, __ATOMIC_RELEASE);
	return 0;
}

int mv_ptm_pagemap_reopen(void)
{
	/* An inherited descriptor reads the parent's page tables, not ours. */
	if (pagemap_fd >= 0)
		mv_own1(SYS_close, pagemap_fd);
	long fd = mv_own4(SYS_openat, AT_FDCWD, "/proc/self/pagemap", O_RDONLY | O_CLOEXEC, 0);
	pagemap_fd = mv_raw_failed(fd) ? -1 : (int)fd;
	return mv_raw_failed(fd) ? (int)fd : 0;
}

int mv_ptm_ready(void)
{
	return LOAD(&ready);
}

/* ---- the directory, nodes, groups ---------------------------------------------- */

struct mv_ptm_pmd *mv_ptm_pmd_of(uintptr_t addr, int create)
{
	uintptr_t slot = addr >> 30;
	if (!dir || slot >= MV_PTM_SLOTS)
		return NULL;
	struct mv_ptm_pmd *p = LOAD(&dir[slot]);
	if (p || !create)
		return p;
	struct mv_ptm_pmd *n = piece((sizeof(*n) + 63) & ~(size_t)63);
	if (!n)
		return NULL;
	n->base = slot << 30;
	if (!CAS(&dir[slot], &p, n))
		return p; /* the piece is lost: rare */
	struct mv_ptm_pmd *head = LOAD(&all);
	do
		n->next = head;
	while (!CAS(&all, &head, n));
	return n;
}

struct mv_ptm_pmd *mv_ptm_first(void)
{
	return LOAD(&all);
}

/* A group slot without a node: a run of FULL regions (the rest EMPTY) in
 * one odd word, or 0 for none. Nodes are 64-byte aligned: even. */
static inline int is_node(uintptr_t v)
{
	return v && !(v & 1);
}

static inline uint64_t run_mask(uintptr_t v)
{
	unsigned lo = (unsigned)(v >> 8) & 127, hi = (unsigned)(v >> 16) & 127;
	if (!v || lo >= hi)
		return 0;
	return (hi >= 64 ? ~0ull : (1ull << hi) - 1) & ~((1ull << lo) - 1);
}

/* The slot word for mask m, or 1 (not a word: m is not one run). */
static inline uintptr_t run_word(uint64_t m)
{
	if (!m)
		return 0;
	unsigned lo = (unsigned)__builtin_ctzll(m), n = (unsigned)__builtin_popcountll(m);
	if (run_mask(((uintptr_t)lo << 8) | ((uintptr_t)(lo + n) << 16) | 1) != m)
		return 1;
	return ((uintptr_t)lo << 8) | ((uintptr_t)(lo + n) << 16) | 1;
}

struct mv_ptm_group *mv_ptm_group_of(struct mv_ptm_pmd *p, unsigned idx, int create)
{
	uintptr_t *slot = &p->grp[(idx & 511) / MV_PTM_GROUP], v = LOAD(slot);
	if (is_node(v) || !create)
		return is_node(v) ? (struct mv_ptm_group *)v : NULL;
	struct mv_ptm_group *g = take(&spare_group, sizeof(*g));
	if (!g)
		return NULL;
	for (;;) {
		uint64_t m = run_mask(v); /* what the whole group was */
		for (int i = 0; i < MV_PTM_GROUP; i++)
			g->shape[i] = (m >> i & 1) ? MV_PTM_FULL : MV_PTM_EMPTY;
		if (CAS(slot, &v, (uintptr_t)g))
			return g;
		if (is_node(v)) {
			keep(&spare_group, g);
			return (struct mv_ptm_group *)v;
		}
	}
}

struct mv_ptm_node *mv_ptm_node_of(struct mv_ptm_pmd *p, uintptr_t addr)
{
	unsigned idx = (unsigned)((addr >> 21) & 511);
	struct mv_ptm_group *g = mv_ptm_group_of(p, idx, 1);
	return g ? &g->pte[idx % MV_PTM_GROUP] : NULL;
}

struct mv_ptm_node *mv_ptm_node_peek(struct mv_ptm_pmd *p, uintptr_t addr)
{
	unsigned idx = (unsigned)((addr >> 21) & 511);
	struct mv_ptm_group *g = mv_ptm_group_of(p, idx, 0);
	return g ? &g->pte[idx % MV_PTM_GROUP] : NULL;
}

void mv_ptm_totals(struct mv_ptm_totals *t)
{
	memset(t, 0, sizeof(*t));
	/* The list is newest first, not sorted: count PUD slots with a small
	 * bitmap of the 256 possible 512 GiB slots below 128 TiB. */
	uint64_t puds[4] = { 0 };
	for (struct mv_ptm_pmd *p = LOAD(&all); p; p = p->next) {
		uint32_t held = 0;
		for (unsigned g = 0; g < MV_PTM_GROUPS; g++) {
			uintptr_t v = LOAD(&p->grp[g]);
			if (!is_node(v))
				continue;
			struct mv_ptm_group *gr = (struct mv_ptm_group *)v;
			for (int i = 0; i < MV_PTM_GROUP; i++) {
				uint64_t w = LOAD(&gr->pte[i].w);
				if (w & MV_PTM_TAB) {
					held++;
					if ((w & MV_PTM_POP_MASK) == 0)
						t->stranded++;
				}
			}
		}
		t->pte_tables += held;
		if (LOAD(&p->tab) || held) {
			t->pmd_tables++;
			unsigned s = (unsigned)(p->base >> 39) & 255;
			puds[s / 64] |= 1ull << (s % 64);
		}
	}
	for (int i = 0; i < 4; i++)
		t->pud_tables += (uint64_t)__builtin_popcountll(puds[i]);
	t->bytes = (t->pte_tables + t->pmd_tables + t->pud_tables) * MV_PTM_PAGE;
	t->reclaimable = t->stranded * MV_PTM_PAGE;
}

void mv_ptm_reset(void)
{
	for (struct mv_ptm_pmd *p = LOAD(&all); p; p = p->next) {
		p->ntab = p->tab = p->seq = p->busy = p->sweeping = p->pass_seq = p->pass_old = 0;
		for (unsigned g = 0; g < MV_PTM_GROUPS; g++) {
			uintptr_t v = p->grp[g];
			if (is_node(v))
				memset((void *)v, 0, sizeof(struct mv_ptm_group)); /* kept: all EMPTY, no word */
			else
				p->grp[g] = 0;
		}
	}
}

/* ---- what maps each region ------------------------------------------------------- */

/* Bits [a, b) of a 512-bit map: set or clear, atomically or not. */
static void bits_change(uint64_t *m, unsigned a, unsigned b, bool set, bool atomic)
{
	for (unsigned i = a; i < b;) {
		unsigned w = i / 64, o = i % 64, n = 64 - o < b - i ? 64 - o : b - i;
		uint64_t mask = (n == 64 ? ~0ull : ((1ull << n) - 1)) << o;
		if (!atomic)
			m[w] = set ? m[w] | mask : m[w] & ~mask;
		else if (set)
			__atomic_fetch_or(&m[w], mask, __ATOMIC_ACQ_REL);
		else
			__atomic_fetch_and(&m[w], ~mask, __ATOMIC_ACQ_REL);
		i += n;
	}
}

/* Bits standing for an EMPTY or FULL region, not yet published. */
static struct mv_ptm_bits *new_bits(uintptr_t from)
{
	struct mv_ptm_bits *d = take(&spare_bits, sizeof(*d));
	if (d && from == MV_PTM_FULL)
		memset(d->map, 0xff, sizeof(d->map));
	return d;
}

/* Pages [a, b) of region i of group g: mapped (set) or not. Bits, once a
 * region has them, stay (a thread may be changing them). */
static void region_change(struct mv_ptm_group *g, unsigned i, unsigned a, unsigned b, bool set)
{
	uintptr_t *sh = &g->shape[i], v = LOAD(sh), done = set ? MV_PTM_FULL : MV_PTM_EMPTY;
	while (v <= MV_PTM_FULL) {
		if (v == done)
			return;
		if (a == 0 && b == 512) {
			if (CAS(sh, &v, done))
				return;
			continue;
		}
		struct mv_ptm_bits *d = new_bits(v);
		if (!d)
			return; /* out of memory: the region keeps what it was */
		bits_change(d->map, a, b, set, false);
		if (CAS(sh, &v, (uintptr_t)d))
			return;
		keep(&spare_bits, d);
	}
	struct mv_ptm_bits *d = (struct mv_ptm_bits *)v;
	bits_change(d->map, a, b, set, true);
	if (!set)
		bits_change(d->bnd, a, b, false, true);
}

/* [lo, hi) within one PMD node: mapped or not. */
static void pmd_change(struct mv_ptm_pmd *p, uintptr_t lo, uintptr_t hi, bool set)
{
	for (uintptr_t a = lo; a < hi;) {
		unsigned idx = (unsigned)((a >> 21) & 511), gi = idx / MV_PTM_GROUP;
		uintptr_t gs = p->base + gi * GROUP_SPAN, ge = gs + GROUP_SPAN, e = hi < ge ? hi : ge;
		/* Regions of the group wholly in [a, e), and those in part. */
		unsigned fa = (unsigned)((((a - gs) + REGION_SPAN - 1)) >> 21), fb = (unsigned)((e - gs) >> 21);
		unsigned pa = (unsigned)((a - gs) >> 21), pb = (unsigned)((e - gs + REGION_SPAN - 1) >> 21);
		uint64_t whole = fa < fb ? run_mask(((uintptr_t)fa << 8) | ((uintptr_t)fb << 16) | 1) : 0;
		uint64_t part = run_mask(((uintptr_t)pa << 8) | ((uintptr_t)pb << 16) | 1) & ~whole;
		uintptr_t v = LOAD(&p->grp[gi]);
		bool done = false;
		/* No node: a run of FULL regions changes in one word, when the
		 * result is a run and no region changes in part. */
		while (!is_node(v)) {
			uint64_t m = run_mask(v), want = set ? m | whole : m & ~whole;
			uint64_t moved = part & (set ? ~m : m); /* regions in part that would change */
			uintptr_t w = run_word(want);
			if (moved || w == 1)
				break; /* a node is needed */
			if (w == v || CAS(&p->grp[gi], &v, w)) {
				done = true;
				break;
			}
		}
		if (done) {
			a = e;
			continue;
		}
		struct mv_ptm_group *g = mv_ptm_group_of(p, idx, 1);
		if (!g)
			return;
		for (uintptr_t r = a; r < e;) {
			uintptr_t rs = r & ~(REGION_SPAN - 1), re = rs + REGION_SPAN < e ? rs + REGION_SPAN : e;
			region_change(g, (unsigned)((r >> 21) & (MV_PTM_GROUP - 1)), (unsigned)((r - rs) >> 12),
				      (unsigned)((re - rs) >> 12), set);
			r = re;
		}
		a = e;
	}
}

void mv_ptm_map_set(uintptr_t lo, uintptr_t hi)
{
	for (uintptr_t a = lo; a < hi;) {
		uintptr_t e = (a & ~(MV_PTM_PMD_SPAN - 1)) + MV_PTM_PMD_SPAN;
		if (e > hi || e == 0)
			e = hi;
		struct mv_ptm_pmd *p = mv_ptm_pmd_of(a, 1);
		if (!p)
			return;
		pmd_change(p, a, e, true);
		a = e;
	}
}

void mv_ptm_map_clear(struct mv_ptm_pmd *p, uintptr_t lo, uintptr_t hi)
{
	pmd_change(p, lo, hi, false);
}

static uintptr_t shape_of(struct mv_ptm_pmd *p, unsigned idx)
{
	uintptr_t v = LOAD(&p->grp[(idx & 511) / MV_PTM_GROUP]);
	if (!is_node(v))
		return (run_mask(v) >> (idx % MV_PTM_GROUP) & 1) ? MV_PTM_FULL : MV_PTM_EMPTY;
	return LOAD(&((struct mv_ptm_group *)v)->shape[idx % MV_PTM_GROUP]);
}

unsigned mv_ptm_region_pages(struct mv_ptm_pmd *p, unsigned idx)
{
	uintptr_t v = shape_of(p, idx);
	if (v <= MV_PTM_FULL)
		return v == MV_PTM_FULL ? 512 : 0;
	const struct mv_ptm_bits *d = (const struct mv_ptm_bits *)v;
	unsigned n = 0;
	for (int i = 0; i < 8; i++)
		n += (unsigned)__builtin_popcountll(LOAD(&d->map[i]));
	return n;
}

int mv_ptm_region_mapped(struct mv_ptm_pmd *p, unsigned idx)
{
	uintptr_t v = shape_of(p, idx);
	if (v <= MV_PTM_FULL)
		return v == MV_PTM_FULL;
	const struct mv_ptm_bits *d = (const struct mv_ptm_bits *)v;
	uint64_t any = 0;
	for (int i = 0; i < 8; i++)
		any |= LOAD(&d->map[i]);
	return any != 0;
}

int mv_ptm_region_one_vma(struct mv_ptm_pmd *p, unsigned idx)
{
	uintptr_t v = shape_of(p, idx);
	if (v <= MV_PTM_FULL)
		return v == MV_PTM_FULL;
	const struct mv_ptm_bits *d = (const struct mv_ptm_bits *)v;
	uint64_t b = LOAD(&d->bnd[0]) & ~1ull;
	for (int i = 1; i < 8; i++)
		b |= LOAD(&d->bnd[i]);
	return b == 0 && mv_ptm_region_pages(p, idx) == 512;
}

int mv_ptm_pmd_mapped(struct mv_ptm_pmd *p)
{
	for (unsigned g = 0; g < MV_PTM_GROUPS; g++) {
		uintptr_t v = LOAD(&p->grp[g]);
		if (!is_node(v) && v)
			return 1;
		for (unsigned i = 0; is_node(v) && i < MV_PTM_GROUP; i++)
			if (mv_ptm_region_mapped(p, g * MV_PTM_GROUP + i))
				return 1;
	}
	return 0;
}

int mv_ptm_group_write(struct mv_ptm_pmd *p, unsigned g, uint64_t full)
{
	uintptr_t v = LOAD(&p->grp[g]), w = run_word(full);
	if (w == 1)
		return 0;
	while (!is_node(v) && v != w && !CAS(&p->grp[g], &v, w))
		;
	return !is_node(v);
}

static void store_changed(uint64_t *dst, const uint64_t *src)
{
	for (int i = 0; i < 8; i++) /* stores only where the bits changed */
		if (LOAD(&dst[i]) != src[i])
			__atomic_store_n(&dst[i], src[i], __ATOMIC_RELEASE);
}

int mv_ptm_region_write(struct mv_ptm_pmd *p, unsigned idx, uintptr_t kind, const uint64_t map[8],
			const uint64_t bnd[8])
{
	static const uint64_t none[8], ones[8] = { ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull, ~0ull };
	if (kind <= MV_PTM_FULL && shape_of(p, idx) == kind)
		return 0;
	struct mv_ptm_group *g = mv_ptm_group_of(p, idx, 1);
	if (!g)
		return -1;
	uintptr_t *sh = &g->shape[idx % MV_PTM_GROUP], v = LOAD(sh);
	if (kind <= MV_PTM_FULL) {
		map = kind == MV_PTM_FULL ? ones : none;
		bnd = none;
		if (v <= MV_PTM_FULL) {
			CAS(sh, &v, kind); /* lost to an event: the event wins */
			return 0;
		}
	} else if (v <= MV_PTM_FULL) {
		struct mv_ptm_bits *d = new_bits(MV_PTM_EMPTY);
		if (!d)
			return -1;
		memcpy(d->map, map, sizeof(d->map));
		memcpy(d->bnd, bnd, sizeof(d->bnd));
		if (CAS(sh, &v, (uintptr_t)d))
			return 0;
		keep(&spare_bits, d);
		if (v <= MV_PTM_FULL)
			return 0;
	}
	struct mv_ptm_bits *d = (struct mv_ptm_bits *)v;
	store_changed(d->map, map);
	store_changed(d->bnd, bnd);
	return 0;
}

long mv_ptm_pagemap(uintptr_t addr, size_t n, uint64_t *out)
{
	if (pagemap_fd < 0)
		return -9; /* EBADF */
	long r = mv_own4(SYS_pread64, pagemap_fd, out, n * 8, (long)(addr / MV_PTM_PAGE * 8));
	return mv_raw_failed(r) ? r : r / 8;
}
