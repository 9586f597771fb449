/* mapcache.c - arenas of held ranges (mapcache.h). */
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <time.h>
#include "munmap/mapcache.h"
#include "sys/outbuf.h"
#include "sys/once.h"
#include "munmap/registry.h"
#include "munmap/whatif.h"
#include "sys/ownsys.h"
#include "sys/linux.h"

#define IOV_MAX_ 1024

struct piece {
	uintptr_t start, end;
	uint32_t owner, zapped;
};

static struct mv_arena *arenas;
static uint32_t cap;
static int pidfd_self;
static struct piece *scratch;      /* drain: MV_ARENAS * cap pieces */
static struct iovec *iov;          /* drain: IOV_MAX_ */
static uint64_t held_bytes;        /* sum of arena bytes (atomic) */
static uint64_t shared_count[MV_MC_COUNT];
static unsigned next_arena;
static int unmap_error;            /* errno of the first held range that stayed mapped (atomic) */
static __thread unsigned my_arena __attribute__((tls_model("initial-exec")));

static void *raw_alloc(size_t len)
{
	long r = mv_own6(SYS_mmap, 0, (long)len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return mv_raw_failed(r) ? NULL : (void *)r;
}

uint64_t mv_mc_now(void)
{
	if (__builtin_expect(mv_whatif_on != NULL, 0))
		return mv_whatif_on->now(mv_whatif_on->arg);
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int mv_mc_init(uint32_t entries, int self)
{
	if (arenas)
		return 0;
	size_t per = (size_t)entries * sizeof(struct mv_held);
	struct mv_arena *a = raw_alloc(sizeof(*a) * MV_ARENAS);
	char *lists = raw_alloc(per * MV_ARENAS);
	struct piece *sc = raw_alloc(sizeof(*sc) * MV_ARENAS * entries);
	struct iovec *v = raw_alloc(sizeof(*v) * IOV_MAX_);
	if (!a || !lists || !sc || !v)
		return -1; /* what was mapped stays mapped: a few pages, once */
	for (unsigned k = 0; k < MV_ARENAS; k++)
		a[k].e = (struct mv_held *)(lists + per * k);
	cap = entries;
	pidfd_self = self;
	scratch = sc;
	iov = v;
	__atomic_store_n(&arenas, a, __ATOMIC_RELEASE);
	return 0;
}

void mv_mc_reset(uint32_t entries)
{
	struct mv_arena *a = arenas;
	if (a && entries != cap) {
		/* Other tables: map them again at the new size. */
		size_t per = (size_t)cap * sizeof(struct mv_held);
		__atomic_store_n(&arenas, NULL, __ATOMIC_RELEASE);
		mv_own2(SYS_munmap, a[0].e, per * MV_ARENAS);
		mv_own2(SYS_munmap, scratch, sizeof(*scratch) * MV_ARENAS * cap);
		mv_own2(SYS_munmap, iov, sizeof(*iov) * IOV_MAX_);
		mv_own2(SYS_munmap, a, sizeof(*a) * MV_ARENAS);
		a = NULL;
	}
	for (unsigned k = 0; a && k < MV_ARENAS; k++) {
		struct mv_held *e = a[k].e;
		memset(&a[k], 0, sizeof(a[k]));
		a[k].e = e;
	}
	memset(shared_count, 0, sizeof(shared_count));
	held_bytes = 0;
	unmap_error = 0;
}

int mv_mc_ready(void)
{
	return __atomic_load_n(&arenas, __ATOMIC_ACQUIRE) != NULL;
}

unsigned mv_mc_mine(void)
{
	if (__builtin_expect(mv_whatif_on != NULL, 0))
		return mv_whatif_on->arena(mv_whatif_on->arg) % MV_ARENAS;
	if (__builtin_expect(!my_arena, 0))
		my_arena = 1 + __atomic_fetch_add(&next_arena, 1, __ATOMIC_RELAXED) % MV_ARENAS;
	return my_arena - 1;
}

struct mv_arena *mv_mc_arena(unsigned k)
{
	return &arenas[k];
}

uint32_t mv_mc_cap(void)
{
	return cap;
}

uint64_t mv_mc_bytes(void)
{
	return __atomic_load_n(&held_bytes, __ATOMIC_RELAXED);
}

void mv_mc_count(int k, int counter, uint64_t v)
{
	if (k >= 0)
		MV_MC_BUMP(&arenas[k], counter, v);
	else
		__atomic_fetch_add(&shared_count[counter], v, __ATOMIC_RELAXED);
}

static void bytes_add(struct mv_arena *a, int64_t d)
{
	a->bytes += (uint64_t)d;
	__atomic_fetch_add(&held_bytes, (uint64_t)d, __ATOMIC_RELAXED);
}

/* ---- the list of one arena (lock held) ---------------------------------- */

static void list_remove(struct mv_arena *a, uint32_t i)
{
	bytes_add(a, -(int64_t)(a->e[i].end - a->e[i].start));
	a->e[i] = a->e[--a->n];
}

void mv_mc_insert(unsigned k, uintptr_t s, uintptr_t e, uint64_t now, int zapped, uint32_t origin,
		  uint32_t flags)
{
	struct mv_arena *a = &arenas[k];
	int left = -1, right = -1;
	for (uint32_t i = 0; i < a->n; i++) {
		if (a->e[i].origin != origin)
			continue;
		if (a->e[i].end == s)
			left = (int)i;
		else if (a->e[i].start == e)
			right = (int)i;
	}
	bytes_add(a, (int64_t)(e - s));
	if (left >= 0) {
		struct mv_held *l = &a->e[left];
		l->end = e;
		l->t_ns = now;
		l->zapped = l->zapped && zapped;
		if (right >= 0) {
			l->end = a->e[right].end;
			l->zapped = l->zapped && a->e[right].zapped;
			a->e[right] = a->e[--a->n]; /* bytes stay: the range moved into l */
		}
		return;
	}
	if (right >= 0) {
		struct mv_held *r = &a->e[right];
		r->start = s;
		r->t_ns = now;
		r->zapped = r->zapped && zapped;
		return;
	}
	/* The caller made room. */
	a->e[a->n++] = (struct mv_held){ .start = s, .end = e, .t_ns = now, .zapped = (uint32_t)zapped,
					 .origin = origin, .flags = flags };
}

int mv_mc_best_fit(unsigned k, size_t n, uint32_t flags)
{
	struct mv_arena *a = &arenas[k];
	int best = -1;
	size_t best_len = 0;
	for (uint32_t i = 0; i < a->n; i++) {
		size_t len = a->e[i].end - a->e[i].start;
		if (len < n || a->e[i].flags != flags)
			continue;
		if (best < 0 || len < best_len || (len == best_len && a->e[i].t_ns > a->e[best].t_ns)) {
			best = (int)i;
			best_len = len;
		}
	}
	return best;
}

void mv_mc_take_front(unsigned k, int i, size_t n)
{
	struct mv_arena *a = &arenas[k];
	if (a->e[i].end - a->e[i].start <= n) {
		list_remove(a, (uint32_t)i);
		return;
	}
	a->e[i].start += n;
	bytes_add(a, -(int64_t)n);
}

/* ---- giving memory back ------------------------------------------------- */

int mv_mc_unmap_failed(void)
{
	return __atomic_load_n(&unmap_error, __ATOMIC_RELAXED) != 0;
}

/* Give a held range back to the kernel, retrying once. Should the kernel
 * still refuse, the range stays mapped although the program unmapped it:
 * say so once; munmap.c then takes no more ranges. */
static void unmap_range(uintptr_t lo, uintptr_t hi)
{
	struct mv_request q = { .kind = MV_MUNMAP, .addr = (void *)lo, .len = hi - lo };
	long r = mv_held_call(&q);
	if (mv_raw_failed(r))
		r = mv_held_call(&q);
	if (!mv_raw_failed(r) || __atomic_exchange_n(&unmap_error, (int)-r, __ATOMIC_RELAXED) ||
	    !mv_once(MV_ONCE_UNMAP))
		return;
	mv_out_say(2, r, "munmap passes through unchanged from now on",
		   "munmap: the kernel refused to unmap a kept range", NULL);
}

struct unmap_arg {
	struct mv_arena *a;
};

static void unmap_piece(uintptr_t lo, uintptr_t hi, void *arg)
{
	struct unmap_arg *u = arg;
	unmap_range(lo, hi);
	MV_MC_BUMP(u->a, MV_MC_UNMAP_CALLS, 1);
}

/* Unmap what the registry says arena k holds in [s, e) (lock held). */
static void unmap_held(unsigned k, uintptr_t s, uintptr_t e)
{
	struct mv_arena *a = &arenas[k];
	if (mv_reg_held_all(s, e, k)) {
		unmap_range(s, e);
		MV_MC_BUMP(a, MV_MC_UNMAP_CALLS, 1);
	} else {
		struct unmap_arg u = { a };
		mv_reg_held_pieces(s, e, k, unmap_piece, &u);
	}
	mv_reg_unhold(s, e, k);
}

static uint64_t release(unsigned k, uintptr_t s, uintptr_t e)
{
	struct mv_arena *a = &arenas[k];
	uint64_t before = a->bytes;
	for (uint32_t i = 0; i < a->n;) {
		struct mv_held *h = &a->e[i];
		if (h->end <= s || h->start >= e) {
			i++;
			continue;
		}
		if (h->start >= s && h->end <= e) {
			list_remove(a, i);
			continue;
		}
		if (h->start < s && h->end > e) {
			if (a->n < cap) {
				/* The middle goes: keep both sides. */
				a->e[a->n++] = (struct mv_held){ .start = e, .end = h->end, .t_ns = h->t_ns,
								 .zapped = h->zapped, .origin = h->origin };
				h->end = s;
				bytes_add(a, -(int64_t)(e - s));
				i++;
				continue;
			}
			/* No room to split: the right side goes too. */
			unmap_held(k, e, h->end);
			bytes_add(a, -(int64_t)(h->end - s));
			h->end = s;
			i++;
			continue;
		}
		if (h->start < s) {
			bytes_add(a, -(int64_t)(h->end - s));
			h->end = s;
		} else {
			bytes_add(a, -(int64_t)(e - h->start));
			h->start = e;
		}
		i++;
	}
	unmap_held(k, s, e);
	uint64_t released = before - a->bytes;
	MV_MC_BUMP(a, MV_MC_RELEASED_BYTES, released);
	return released;
}

uint64_t mv_mc_release_entry(unsigned k, int i)
{
	struct mv_held h = arenas[k].e[i];
	return release(k, h.start, h.end);
}

uint64_t mv_mc_release_oldest(unsigned k)
{
	struct mv_arena *a = &arenas[k];
	if (!a->n)
		return 0;
	uint32_t o = 0;
	for (uint32_t i = 1; i < a->n; i++)
		if (a->e[i].t_ns < a->e[o].t_ns)
			o = i;
	MV_MC_BUMP(a, MV_MC_EVICTED, 1);
	return mv_mc_release_entry(k, (int)o);
}

uint64_t mv_mc_release_older(unsigned k, uint64_t cutoff)
{
	struct mv_arena *a = &arenas[k];
	uint64_t b = 0;
	for (uint32_t i = 0; i < a->n;) {
		if (a->e[i].t_ns < cutoff) {
			MV_MC_BUMP(a, MV_MC_AGED, 1);
			b += mv_mc_release_entry(k, (int)i);
			i = 0; /* the list was reordered */
		} else {
			i++;
		}
	}
	return b;
}

int mv_mc_resolve(uintptr_t s, uintptr_t e)
{
	if (!arenas)
		return 0;
	uint64_t mask = mv_reg_holders(s, e);
	if (!mask)
		return 0;
	for (unsigned k = 0; k < MV_ARENAS; k++) {
		if (!(mask >> k & 1))
			continue;
		mv_lock(&arenas[k].lock);
		release(k, s, e);
		MV_MC_BUMP(&arenas[k], MV_MC_RESOLVED, 1);
		mv_unlock(&arenas[k].lock);
	}
	return 1;
}

/* ---- draining everything, coalesced ------------------------------------- */

static void sort_pieces(struct piece *p, size_t n)
{
	static const size_t gaps[] = { 4071, 1750, 701, 301, 132, 57, 23, 10, 4, 1 };
	for (size_t g = 0; g < sizeof(gaps) / sizeof(gaps[0]); g++) {
		size_t gap = gaps[g];
		for (size_t i = gap; i < n; i++) {
			struct piece t = p[i];
			size_t j = i;
			for (; j >= gap && p[j - gap].start > t.start; j -= gap)
				p[j] = p[j - gap];
			p[j] = t;
		}
	}
}

static void zap_batch(struct mv_arena *a, size_t n)
{
	if (n >= 2 && pidfd_self) {
		struct mv_request q = { .kind = MV_PROCESS_MADVISE, .fd = PIDFD_SELF, .advice = MADV_DONTNEED,
					.iov = iov, .vlen = n };
		long r = mv_held_call(&q);
		MV_MC_BUMP(a, MV_MC_ZAP_CALLS, 1);
		(void)r; /* a failure leaves the pages to munmap */
	}
}

void mv_mc_drain(void)
{
	if (!arenas)
		return;
	for (unsigned k = 0; k < MV_ARENAS; k++)
		mv_lock(&arenas[k].lock);
	size_t n = 0;
	for (unsigned k = 0; k < MV_ARENAS; k++) {
		struct mv_arena *a = &arenas[k];
		for (uint32_t i = 0; i < a->n; i++) {
			const struct mv_held *h = &a->e[i];
			/* Only what the registry confirms; stale pieces are dropped. */
			if (mv_reg_held_all(h->start, h->end, k))
				scratch[n++] = (struct piece){ h->start, h->end, k, h->zapped };
			else
				unmap_held(k, h->start, h->end);
		}
	}
	struct mv_arena *a0 = &arenas[0];
	if (n) {
		sort_pieces(scratch, n);
		/* Phase 1: drop the pages under the read lock, in batches. */
		size_t nv = 0;
		for (size_t i = 0; i < n; i++) {
			if (scratch[i].zapped)
				continue;
			iov[nv].iov_base = (void *)scratch[i].start;
			iov[nv].iov_len = scratch[i].end - scratch[i].start;
			if (++nv == IOV_MAX_) {
				zap_batch(a0, nv);
				nv = 0;
			}
		}
		zap_batch(a0, nv);
		/* Phase 2: one munmap per run of adjacent pieces. */
		for (size_t i = 0; i < n;) {
			size_t j = i + 1;
			while (j < n && scratch[j].start == scratch[j - 1].end)
				j++;
			unmap_range(scratch[i].start, scratch[j - 1].end);
			MV_MC_BUMP(a0, MV_MC_UNMAP_CALLS, 1);
			for (size_t x = i; x < j; x++)
				mv_reg_unhold(scratch[x].start, scratch[x].end, scratch[x].owner);
			i = j;
		}
	}
	for (unsigned k = 0; k < MV_ARENAS; k++) {
		struct mv_arena *a = &arenas[k];
		MV_MC_BUMP(a, MV_MC_RELEASED_BYTES, a->bytes);
		bytes_add(a, -(int64_t)a->bytes);
		a->n = 0;
	}
	MV_MC_BUMP(a0, MV_MC_DRAINS, 1);
	for (unsigned k = MV_ARENAS; k-- > 0;)
		mv_unlock(&arenas[k].lock);
}

uint64_t mv_mc_oldest(void)
{
	uint64_t o = UINT64_MAX;
	for (unsigned k = 0; arenas && k < MV_ARENAS; k++) {
		struct mv_arena *a = &arenas[k];
		mv_lock(&a->lock);
		for (uint32_t i = 0; i < a->n; i++)
			if (a->e[i].t_ns < o)
				o = a->e[i].t_ns;
		mv_unlock(&a->lock);
	}
	return o;
}

void mv_mc_counters(uint64_t out[MV_MC_COUNT])
{
	for (int c = 0; c < MV_MC_COUNT; c++)
		out[c] = __atomic_load_n(&shared_count[c], __ATOMIC_RELAXED);
	for (unsigned k = 0; arenas && k < MV_ARENAS; k++)
		for (int c = 0; c < MV_MC_COUNT; c++)
			out[c] += __atomic_load_n(&arenas[k].count[c], __ATOMIC_RELAXED);
}

void mv_mc_atfork_prepare(void)
{
	for (unsigned k = 0; arenas && k < MV_ARENAS; k++)
		mv_lock(&arenas[k].lock);
}

void mv_mc_atfork_parent(void)
{
	for (unsigned k = MV_ARENAS; arenas && k-- > 0;)
		mv_unlock(&arenas[k].lock);
}

void mv_mc_atfork_child(void)
{
	for (unsigned k = 0; arenas && k < MV_ARENAS; k++)
		mv_lock_reset(&arenas[k].lock);
}
