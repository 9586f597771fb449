/* events.c - what each intercepted call does to the page tables.
 *
 * The kernel rules (Linux 6.14+ with PT_RECLAIM, measured on 6.18):
 *  - munmap, and the unmap part of mmap(MAP_FIXED) and mremap, free a PTE
 *    table once no VMA overlaps its 2 MiB region, and a PMD table once no
 *    VMA overlaps its 1 GiB (free_pgtables between the neighbouring VMAs);
 *  - MADV_DONTNEED frees a table only when ONE call covers the whole aligned
 *    2 MiB and that region lies inside one VMA (and only with PT_RECLAIM);
 *    smaller calls, however many, and MADV_FREE never do;
 *  - a populated entry needs a table.
 * Before a zap or an unmap whose table may survive, regions the model does
 * not yet know to hold a table are checked in pagemap (a page faulted in and
 * purged between two samples still left its table behind). */
#include <sys/mman.h>
#include "core/hot.h"
#include "core/split.h"
#include "ptmodel/model.h"
#include "ptmodel/hook.h"
#include "sys/rawsys.h"
#include "core/trace.h"
#include "sys/linux.h"

#define RESERVE_EDGES (64ul << 20) /* as sample.c's NONE_SCAN_MAX */
#define HUGE_EDGES (256ul << 30)   /* as sample.c's SCAN_MAX */
#define PRECHECK_MAX 8 /* regions checked in pagemap per call, at most */

int mv_ptm_pt_reclaim;
int mv_ptm_exclusive;  /* the sweep runs: address-space calls announce themselves */
static uint64_t events;

#define LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)

uint64_t mv_ptm_events(void)
{
	return LOAD(&events);
}

static uintptr_t page_up(uintptr_t a)
{
	return (a + MV_PTM_PAGE - 1) & ~(MV_PTM_PAGE - 1);
}

/* Nothing maps [lo, hi) any more. */
static void unmap_range(uintptr_t lo, uintptr_t hi)
{
	for (uintptr_t a = lo; a < hi;) {
		uintptr_t pe = (a & ~(MV_PTM_PMD_SPAN - 1)) + MV_PTM_PMD_SPAN;
		if (pe > hi || pe == 0)
			pe = hi;
		struct mv_ptm_pmd *p = mv_ptm_pmd_of(a, 0);
		if (!p) { /* nothing known in this 1 GiB */
			a = pe;
			continue;
		}
		__atomic_fetch_add(&p->seq, 1, __ATOMIC_ACQ_REL);
		mv_ptm_map_clear(p, a, pe);
		/* Regions with a word: the table goes with the last VMA there;
		 * otherwise the entries in the unmapped part go. */
		for (uintptr_t r = a; r < pe;) {
			uintptr_t rs = r & ~(MV_PTM_PTE_SPAN - 1);
			struct mv_ptm_group *g = mv_ptm_group_of(p, (unsigned)((r >> 21) & 511), 0);
			if (!g) { /* no word in this group */
				uintptr_t ge = (r & ~((uintptr_t)MV_PTM_GROUP * MV_PTM_PTE_SPAN - 1)) +
					       (uintptr_t)MV_PTM_GROUP * MV_PTM_PTE_SPAN;
				r = ge < pe ? ge : pe;
				continue;
			}
			unsigned idx = (unsigned)((r >> 21) & 511);
			struct mv_ptm_node *n = &g->pte[idx % MV_PTM_GROUP];
			if (!mv_ptm_region_mapped(p, idx)) {
				mv_ptm_free_table(p, n);
			} else {
				unsigned left = mv_ptm_region_pages(p, idx);
				unsigned pop = (unsigned)(LOAD(&n->w) & MV_PTM_POP_MASK);
				mv_ptm_unpopulate(n, pop > left ? pop - left : 0);
			}
			r = rs + MV_PTM_PTE_SPAN;
		}
		if (!mv_ptm_pmd_mapped(p))
			__atomic_store_n(&p->tab, 0, __ATOMIC_RELEASE);
		a = pe;
	}
}

static void map_range(uintptr_t lo, uintptr_t hi, int populate)
{
	mv_ptm_map_set(lo, hi);
	struct mv_ptm_pmd *last = NULL;
	for (uintptr_t a = lo; a < hi;) {
		uintptr_t r = a & ~(MV_PTM_PTE_SPAN - 1);
		uintptr_t e = r + MV_PTM_PTE_SPAN < hi ? r + MV_PTM_PTE_SPAN : hi;
		struct mv_ptm_pmd *p = mv_ptm_pmd_of(a, 1);
		if (!p)
			return;
		if (p != last) /* a sample in flight for a region without a word sees this */
			__atomic_fetch_add(&p->seq, 1, __ATOMIC_ACQ_REL);
		last = p;
		if (populate) {
			struct mv_ptm_node *n = mv_ptm_node_of(p, a);
			if (n)
				mv_ptm_populate(p, n, (unsigned)((e - a) >> 12));
		} else {
			struct mv_ptm_group *g = mv_ptm_group_of(p, (unsigned)((a >> 21) & 511), 0);
			if (!g) { /* no word to touch in the rest of this group */
				uintptr_t ge = (a & ~((uintptr_t)MV_PTM_GROUP * MV_PTM_PTE_SPAN - 1)) +
					       (uintptr_t)MV_PTM_GROUP * MV_PTM_PTE_SPAN;
				a = ge < hi ? ge : hi;
				continue;
			}
			mv_ptm_touch(&g->pte[(a >> 21) % MV_PTM_GROUP]);
		}
		a = e;
	}
}

static void on_mmap(uintptr_t addr, size_t len, int flags, int prot)
{
	uintptr_t hi = page_up(addr + len);
	if ((flags & MAP_FIXED) && !(flags & MAP_FIXED_NOREPLACE))
		unmap_range(addr, hi);
	/* A huge reservation (PROT_NONE over RESERVE_EDGES, or anything over
	 * HUGE_EDGES): only its edge regions, where it can share a table with a
	 * neighbour; the model would otherwise spend memory on every GiB. */
	if (hi - addr > (prot == PROT_NONE ? RESERVE_EDGES : HUGE_EDGES)) {
		map_range(addr, page_up(addr + 1), 0);
		map_range(hi - MV_PTM_PAGE, hi, 0);
		return;
	}
	map_range(addr, hi, (flags & (MAP_POPULATE | MAP_LOCKED)) != 0);
}

static void on_munmap(uintptr_t addr, size_t len)
{
	unmap_range(addr, page_up(addr + len));
}

/* Regions of [lo, hi) whose table the model does not know of but which hold
 * pages now: the table exists and the coming zap may leave it behind. */
static void before_zap(uintptr_t lo, size_t len, int advice)
{
	uintptr_t hi = page_up(lo + len);
	uint64_t e[512];
	int checked = 0;
	for (uintptr_t a = lo; a < hi && checked < PRECHECK_MAX;) {
		uintptr_t r = a & ~(MV_PTM_PTE_SPAN - 1);
		uintptr_t end = r + MV_PTM_PTE_SPAN < hi ? r + MV_PTM_PTE_SPAN : hi;
		struct mv_ptm_pmd *p = mv_ptm_pmd_of(a, 1);
		if (!p)
			return;
		uint64_t w = mv_ptm_word(p, a);
		int freed_anyway = mv_ptm_pt_reclaim && advice != MADV_FREE && a == r && end == r + MV_PTM_PTE_SPAN &&
				   mv_ptm_region_one_vma(p, (unsigned)((a >> 21) & 511));
		if (!(w & MV_PTM_TAB) && !freed_anyway) {
			long got = mv_ptm_pagemap(a, (end - a) >> 12, e);
			unsigned used = 0;
			for (long i = 0; i < got; i++)
				used += (unsigned)mv_ptm_entry_used(e[i]);
			struct mv_ptm_node *n = used ? mv_ptm_node_of(p, a) : NULL;
			if (n) {
				mv_ptm_populate(p, n, used);
				mv_trace_region(r, (unsigned)(LOAD(&n->w) & MV_PTM_POP_MASK));
			}
			checked++;
		}
		a = end;
	}
}

static void on_zap(uintptr_t lo, size_t len, int advice)
{
	if (advice != MADV_DONTNEED && advice != MADV_DONTNEED_LOCKED)
		return; /* MADV_FREE: pages stay until reclaim; the table always stays */
	uintptr_t hi = page_up(lo + len);
	for (uintptr_t a = lo; a < hi;) {
		uintptr_t r = a & ~(MV_PTM_PTE_SPAN - 1);
		uintptr_t e = r + MV_PTM_PTE_SPAN < hi ? r + MV_PTM_PTE_SPAN : hi;
		struct mv_ptm_pmd *p = mv_ptm_pmd_of(a, 0);
		if (!p) {
			a = (a & ~(MV_PTM_PMD_SPAN - 1)) + MV_PTM_PMD_SPAN;
			continue;
		}
		unsigned idx = (unsigned)((a >> 21) & 511);
		struct mv_ptm_node *n = mv_ptm_node_peek(p, a);
		if (!n)
			; /* no table known, no entry counted */
		else if (mv_ptm_pt_reclaim && a == r && e == r + MV_PTM_PTE_SPAN && mv_ptm_region_one_vma(p, idx))
			mv_ptm_free_table(p, n);
		else
			mv_ptm_unpopulate(n, (unsigned)((e - a) >> 12));
		a = e;
	}
}

static void on_mremap(uintptr_t old, size_t old_len, uintptr_t new_addr, size_t new_len, int flags)
{
	uintptr_t ohi = page_up(old + old_len);
	if (new_addr == old) {
		uintptr_t nhi = page_up(old + new_len);
		if (nhi < ohi)
			unmap_range(nhi, ohi);
		else if (nhi > ohi)
			map_range(ohi, nhi, 0);
		return;
	}
	map_range(new_addr, page_up(new_addr + new_len), 0);
	/* The entries move with the pages: carry the populated counts over. */
	for (uintptr_t a = old; a < ohi && a - old < new_len;) {
		uintptr_t r = a & ~(MV_PTM_PTE_SPAN - 1);
		uintptr_t e = r + MV_PTM_PTE_SPAN < ohi ? r + MV_PTM_PTE_SPAN : ohi;
		struct mv_ptm_pmd *p = mv_ptm_pmd_of(a, 0), *q;
		struct mv_ptm_node *n = p ? mv_ptm_node_peek(p, a) : NULL, *m;
		if (n) {
			unsigned pop = (unsigned)(LOAD(&n->w) & MV_PTM_POP_MASK);
			uintptr_t d = new_addr + (a - old);
			if (pop && (q = mv_ptm_pmd_of(d, 1)) && (m = mv_ptm_node_of(q, d)))
				mv_ptm_populate(q, m, pop);
			if (pop && (flags & MREMAP_DONTUNMAP))
				mv_ptm_unpopulate(n, pop);
		}
		a = e;
	}
	if (!(flags & MREMAP_DONTUNMAP))
		unmap_range(old, ohi);
}

void mv_ptm_on_fork_child(void)
{
	/* The child's tables: copied for VMAs with anonymous pages (even empty
	 * ones), faulted in lazily for the rest; the next sample drops those
	 * outside writable private VMAs (sample.c). Visitors and the
	 * sweep's handshake were the parent's threads'. */
	mv_ptm_sample_after_fork();
	for (struct mv_ptm_pmd *p = mv_ptm_first(); p; p = p->next) {
		for (unsigned i = 0; i < 512; i += MV_PTM_GROUP) {
			struct mv_ptm_group *g = mv_ptm_group_of(p, i, 0);
			for (unsigned k = 0; g && k < MV_PTM_GROUP; k++)
				__atomic_store_n(&g->pte[k].w, LOAD(&g->pte[k].w) & ~MV_PTM_VIS_MASK, __ATOMIC_RELEASE);
		}
		__atomic_store_n(&p->busy, 0, __ATOMIC_RELEASE);
		__atomic_store_n(&p->sweeping, 0, __ATOMIC_RELEASE);
	}
}

/* --- the interposer's side ------------------------------------------------- */

/* Address-space calls wait while the sweep checks and zaps in their 1 GiB,
 * and the sweep waits for calls in flight (a Dekker handshake on two words
 * per PMD node, sequentially consistent on both sides). */
static void enter(uintptr_t lo, uintptr_t hi)
{
	for (uintptr_t a = lo & ~(MV_PTM_PMD_SPAN - 1); a < hi; a += MV_PTM_PMD_SPAN) {
		struct mv_ptm_pmd *p = mv_ptm_pmd_of(a, 1);
		if (!p)
			continue;
		for (;;) {
			__atomic_fetch_add(&p->busy, 1, __ATOMIC_SEQ_CST);
			if (!__atomic_load_n(&p->sweeping, __ATOMIC_SEQ_CST))
				break;
			__atomic_fetch_sub(&p->busy, 1, __ATOMIC_SEQ_CST);
			while (__atomic_load_n(&p->sweeping, __ATOMIC_SEQ_CST))
				mv_raw0(SYS_sched_yield);
		}
	}
}

static void leave(uintptr_t lo, uintptr_t hi)
{
	for (uintptr_t a = lo & ~(MV_PTM_PMD_SPAN - 1); a < hi; a += MV_PTM_PMD_SPAN) {
		struct mv_ptm_pmd *p = mv_ptm_pmd_of(a, 0);
		if (p)
			__atomic_fetch_sub(&p->busy, 1, __ATOMIC_SEQ_CST);
	}
}

/* The ranges a call may replace or unmap: [lo, hi) and a second one. */
static int spans(const struct mv_request *q, uintptr_t s[4])
{
	uintptr_t a = (uintptr_t)q->addr;
	s[2] = s[3] = 0;
	switch (q->kind) {
	case MV_MUNMAP:
		s[0] = a, s[1] = page_up(a + q->len);
		return 1;
	case MV_MMAP:
		if (!(q->flags & MAP_FIXED) || (q->flags & MAP_FIXED_NOREPLACE))
			return 0;
		s[0] = a, s[1] = page_up(a + q->len);
		return 1;
	case MV_MREMAP:
		s[0] = a, s[1] = page_up(a + (q->len > q->new_len ? q->len : q->new_len));
		if (q->flags & MREMAP_FIXED)
			s[2] = (uintptr_t)q->new_addr, s[3] = page_up(s[2] + q->new_len);
		return 1;
	default:
		return 0;
	}
}

static int is_zap(int advice)
{
	return advice == MADV_DONTNEED || advice == MADV_DONTNEED_LOCKED || advice == MADV_FREE;
}

int mv_ptm_before(const struct mv_request *q)
{
	uintptr_t s[4];
	int excl = LOAD(&mv_ptm_exclusive) && spans(q, s);
	if (excl) {
		enter(s[0], s[1]);
		if (s[3])
			enter(s[2], s[3]);
	}
	if (q->kind == MV_MADVISE && is_zap(q->advice))
		before_zap((uintptr_t)q->addr, q->len, q->advice);
	else if (q->kind == MV_PROCESS_MADVISE && is_zap(q->advice) && q->iov)
		for (size_t i = 0; i < q->vlen && i < 64; i++)
			before_zap((uintptr_t)q->iov[i].iov_base, q->iov[i].iov_len, q->advice);
	else if (q->kind == MV_MUNMAP) {
		/* Only the ragged edges can keep their table. */
		uintptr_t a = (uintptr_t)q->addr, e = page_up(a + q->len);
		uintptr_t first_end = (a | (MV_PTM_PTE_SPAN - 1)) + 1;
		if ((a & (MV_PTM_PTE_SPAN - 1)) || e < first_end)
			before_zap(a, (first_end < e ? first_end : e) - a, MADV_FREE);
		if ((e & (MV_PTM_PTE_SPAN - 1)) && (e & ~(MV_PTM_PTE_SPAN - 1)) > a)
			before_zap(e & ~(MV_PTM_PTE_SPAN - 1), e & (MV_PTM_PTE_SPAN - 1), MADV_FREE);
	}
	return excl;
}

/* A purge as the advice transforms sent it (core/split.h: the advice may be
 * converted, and with pt_reclaim the whole 2 MiB core goes as one DONTNEED
 * or, on kernels without PT_RECLAIM, as a fresh mapping). */
static void advice_zap(const struct mv_advice *p, const struct mv_request *q)
{
	struct mv_split s;
	mv_split_purge(p, (uintptr_t)q->addr, q->len, q->advice, mv_advice_from_allocator(p, q->caller), &s);
	if (!s.n)
		on_zap((uintptr_t)q->addr, q->len, q->advice);
	for (int i = 0; i < s.n; i++) {
		if (s.part[i].advice == MV_SPLIT_REMAP) /* a fresh mapping over the core: its tables go */
			on_mmap(s.part[i].addr, s.part[i].len, s.remap_flags | MAP_FIXED, PROT_READ | PROT_WRITE);
		else
			on_zap(s.part[i].addr, s.part[i].len, s.part[i].advice);
	}
}

void mv_ptm_after(const struct mv_request *q, long r, int excl)
{
	uintptr_t s[4];
	int ok = !mv_raw_failed(r);
	if (ok) {
		__atomic_fetch_add(&events, 1, __ATOMIC_RELAXED);
		switch (q->kind) {
		case MV_MMAP:
			on_mmap((uintptr_t)r, q->len, q->flags, q->prot);
			break;
		case MV_MUNMAP:
			on_munmap((uintptr_t)q->addr, q->len);
			break;
		case MV_MREMAP:
			on_mremap((uintptr_t)q->addr, q->len, (uintptr_t)r, q->new_len, q->flags);
			break;
		case MV_MADVISE: /* posix_madvise's POSIX_MADV_DONTNEED does nothing on Linux */
			if (mv_advice_applies(&mv_hot.advice, q))
				advice_zap(&mv_hot.advice, q);
			else
				on_zap((uintptr_t)q->addr, q->len, q->advice);
			break;
		case MV_PROCESS_MADVISE:
			if (q->iov)
				for (size_t i = 0; i < q->vlen; i++)
					on_zap((uintptr_t)q->iov[i].iov_base, q->iov[i].iov_len, q->advice);
			break;
		default:
			break;
		}
	}
	if (excl && spans(q, s)) {
		leave(s[0], s[1]);
		if (s[3])
			leave(s[2], s[3]);
	}
}
