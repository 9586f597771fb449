/* model.c - nodes of the page-table model: refcounts, directory, totals.
 *
 * Every transition of a PTE node is one compare-and-swap on its word, so the
 * populated count, the visitors and the "table held" bit change together
 * and the PMD node's count of held tables follows exactly. Memory comes from
 * the own-memory reservation (sys/ownmem.h) and is never returned while the
 * process runs (a node may be visited at any time; there is no reclamation
 * scheme to make freeing safe). */
#include <fcntl.h>
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

static void *raw_map(size_t len)
{
	return mv_ownmem_alloc(len);
}

int mv_ptm_init(int pt_reclaim)
{
	(void)pt_reclaim;
	if (LOAD(&ready))
		return 0;
	struct mv_ptm_pmd **d = raw_map(MV_PTM_SLOTS * sizeof(*d));
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

struct mv_ptm_pmd *mv_ptm_pmd_of(uintptr_t addr, int create)
{
	uintptr_t slot = addr >> 30;
	if (!dir || slot >= MV_PTM_SLOTS)
		return NULL;
	struct mv_ptm_pmd *p = LOAD(&dir[slot]);
	if (p || !create)
		return p;
	struct mv_ptm_pmd *n = raw_map(sizeof(*n));
	if (!n)
		return NULL;
	n->base = slot << 30;
	if (!CAS(&dir[slot], &p, n)) {
		mv_ownmem_free(n, sizeof(*n));
		return p;
	}
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

void mv_ptm_totals(struct mv_ptm_totals *t)
{
	memset(t, 0, sizeof(*t));
	/* The list is newest first, not sorted: count PUD slots with a small
	 * bitmap of the 256 possible 512 GiB slots below 128 TiB. */
	uint64_t puds[4] = { 0 };
	for (struct mv_ptm_pmd *p = LOAD(&all); p; p = p->next) {
		uint32_t held = 0;
		for (int i = 0; i < 512; i++) {
			uint64_t w = LOAD(&p->pte[i].w);
			if (w & MV_PTM_TAB) {
				held++;
				if ((w & MV_PTM_POP_MASK) == 0)
					t->stranded++;
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
		struct mv_ptm_pmd *next = p->next;
		uint64_t base = p->base;
		memset((char *)p + offsetof(struct mv_ptm_pmd, ntab), 0,
		       sizeof(*p) - offsetof(struct mv_ptm_pmd, ntab));
		p->next = next;
		p->base = base;
	}
}

/* Set bits [a, b) of a 512-bit page map. */
static void bits_set(uint64_t *m, unsigned a, unsigned b)
{
	for (unsigned i = a; i < b;) {
		unsigned w = i / 64, o = i % 64, n = 64 - o < b - i ? 64 - o : b - i;
		uint64_t mask = (n == 64 ? ~0ull : ((1ull << n) - 1)) << o;
		__atomic_fetch_or(&m[w], mask, __ATOMIC_ACQ_REL);
		i += n;
	}
}

void mv_ptm_map_set(uintptr_t lo, uintptr_t hi)
{
	for (uintptr_t a = lo; a < hi;) {
		uintptr_t r = a & ~(MV_PTM_PTE_SPAN - 1), e = r + MV_PTM_PTE_SPAN < hi ? r + MV_PTM_PTE_SPAN : hi;
		struct mv_ptm_pmd *p = mv_ptm_pmd_of(a, 1);
		if (!p)
			return;
		unsigned idx = (unsigned)((a >> 21) & 511);
		bits_set(p->map[idx], (unsigned)((a - r) >> 12), (unsigned)((e - r) >> 12));
		a = e;
	}
}

int mv_ptm_region_mapped(struct mv_ptm_pmd *p, unsigned idx)
{
	uint64_t any = 0;
	for (int i = 0; i < 8; i++)
		any |= LOAD(&p->map[idx][i]);
	return any != 0;
}

long mv_ptm_pagemap(uintptr_t addr, size_t n, uint64_t *out)
{
	if (pagemap_fd < 0)
		return -9; /* EBADF */
	long r = mv_own4(SYS_pread64, pagemap_fd, out, n * 8, (long)(addr / MV_PTM_PAGE * 8));
	return mv_raw_failed(r) ? r : r / 8;
}
