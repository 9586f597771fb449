/* registry.c - sharded record of the program's mappings (registry.h). */
#include <string.h>
#include <sys/mman.h>
#include "munmap/registry.h"
#include "sys/ownmem.h"
#include "sys/lock.h"
#include "sys/ownsys.h"

#define CHUNK (1UL << MV_REG_CHUNK_SHIFT)
#define ANY_OWNER (~0u)
#define SMALL 16   /* entries each shard starts with, in one shared slab */

struct shard {
	mv_lock_t lock;
	int held;                 /* HELD entries; read without the lock */
	uint32_t n, cap;
	struct mv_reg_entry *e;   /* sorted by start, disjoint */
} __attribute__((aligned(64)));

static struct shard *shards;
static struct mv_reg_entry *slab;   /* SMALL entries per shard: a touched page serves 8 shards */
static uint32_t next_origin;

static void *raw_alloc(size_t len)
{
	return mv_ownmem_alloc(len);
}

int mv_reg_init(void)
{
	if (__atomic_load_n(&shards, __ATOMIC_ACQUIRE))
		return 0;
	struct shard *s = raw_alloc(sizeof(struct shard) * MV_REG_SHARDS);
	struct mv_reg_entry *e = raw_alloc(sizeof(*e) * SMALL * MV_REG_SHARDS);
	if (!s || !e)
		return -1;
	slab = e;
	for (size_t i = 0; i < MV_REG_SHARDS; i++) {
		s[i].e = slab + i * SMALL;
		s[i].cap = SMALL;
	}
	__atomic_store_n(&shards, s, __ATOMIC_RELEASE);
	return 0;
}

int mv_reg_ready(void)
{
	return __atomic_load_n(&shards, __ATOMIC_ACQUIRE) != NULL;
}

static inline struct shard *shard_of(uintptr_t a)
{
	return &shards[(a >> MV_REG_CHUNK_SHIFT) & (MV_REG_SHARDS - 1)];
}

/* ---- one shard, lock held -------------------------------------------- */

static inline void held_add(struct shard *s, int d)
{
	__atomic_store_n(&s->held, s->held + d, __ATOMIC_RELEASE);
}

/* First entry ending after x. */
static size_t lower(const struct shard *s, uintptr_t x)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t m = (lo + hi) / 2;
		if (s->e[m].end > x)
			hi = m;
		else
			lo = m + 1;
	}
	return lo;
}

static int grow(struct shard *s)
{
	uint32_t cap = s->cap > SMALL ? s->cap * 2 : 4096 / sizeof(*s->e);
	struct mv_reg_entry *e = raw_alloc(cap * sizeof(*e));
	if (!e)
		return -1;
	if (s->n)
		memcpy(e, s->e, s->n * sizeof(*e));
	if (s->cap > SMALL)
		mv_ownmem_free(s->e, s->cap * sizeof(*e));
	s->e = e;
	s->cap = cap;
	return 0;
}

/* An emptied shard gives its own array back and returns to the slab. */
static void shrink(struct shard *s)
{
	if (s->n || s->cap <= SMALL)
		return;
	mv_ownmem_free(s->e, s->cap * sizeof(*s->e));
	s->e = slab + (size_t)(s - shards) * SMALL;
	s->cap = SMALL;
}

static int insert_at(struct shard *s, size_t i, const struct mv_reg_entry *x)
{
	if (s->n == s->cap && grow(s) < 0)
		return -1;
	memmove(&s->e[i + 1], &s->e[i], (s->n - i) * sizeof(*x));
	s->e[i] = *x;
	s->n++;
	if (x->state == MV_REG_HELD)
		held_add(s, 1);
	return 0;
}

static void remove_at(struct shard *s, size_t i, size_t k)
{
	int h = 0;
	for (size_t j = i; j < i + k; j++)
		h += s->e[j].state == MV_REG_HELD;
	memmove(&s->e[i], &s->e[i + k], (s->n - i - k) * sizeof(s->e[0]));
	s->n -= (uint32_t)k;
	if (h)
		held_add(s, -h);
	shrink(s);
}

/* Cut entry i at x (start < x < end). */
static int split(struct shard *s, size_t i, uintptr_t x)
{
	struct mv_reg_entry t = s->e[i];
	t.start = x;
	if (insert_at(s, i + 1, &t) < 0)
		return -1;
	s->e[i].end = x;
	return 0;
}

/* Split so that no entry straddles lo or hi; entries [*first, *last) then
 * lie within [lo, hi). -1 when out of memory (some splits may be done:
 * harmless, a split changes nothing that is recorded). */
static int isolate(struct shard *s, uintptr_t lo, uintptr_t hi, size_t *first, size_t *last)
{
	size_t i = lower(s, lo);
	if (i < s->n && s->e[i].start < lo) {
		if (split(s, i, lo) < 0)
			return -1;
		i++;
	}
	size_t j = i;
	for (; j < s->n && s->e[j].start < hi; j++)
		if (s->e[j].end > hi && split(s, j, hi) < 0)
			return -1;
	*first = i;
	*last = j;
	return 0;
}

/* Entries overlapping [lo, hi) without splitting: [*first, *last). */
static void overlapping(const struct shard *s, uintptr_t lo, uintptr_t hi, size_t *first, size_t *last)
{
	size_t i = lower(s, lo), j = i;
	while (j < s->n && s->e[j].start < hi)
		j++;
	*first = i;
	*last = j;
}

static int mergeable(const struct mv_reg_entry *x, const struct mv_reg_entry *y)
{
	return x->end == y->start && x->flags == y->flags && x->advice == y->advice && x->prot == y->prot &&
	       x->state == y->state && x->origin == y->origin && (x->state != MV_REG_HELD || x->owner == y->owner);
}

/* Merge equal neighbours among entries first-1 .. last. */
static void merge(struct shard *s, size_t first, size_t last)
{
	size_t i = first ? first - 1 : 0;
	size_t stop = last + 1; /* one past the last index that may merge into its predecessor */
	while (i + 1 < s->n && i + 1 < stop) {
		if (mergeable(&s->e[i], &s->e[i + 1])) {
			s->e[i].end = s->e[i + 1].end;
			remove_at(s, i + 1, 1);
			stop--;
		} else {
			i++;
		}
	}
}

/* Whether [lo, hi) is covered without gaps by entries in state/owner and,
 * for LIVE or claims, of class cls (cls < 0: any). */
static int class_ok(const struct mv_reg_entry *e, int cls)
{
	unsigned type = e->flags & MAP_TYPE;
	int anon_private = (e->flags & MAP_ANONYMOUS) && type == MAP_PRIVATE;
	switch (cls) {
	case MV_REG_RECYCLABLE:
		return anon_private && !(e->flags & ~(unsigned)(MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED |
							      MAP_FIXED_NOREPLACE | MAP_POPULATE | MAP_NORESERVE)) &&
		       e->prot == (PROT_READ | PROT_WRITE) && e->advice == 0;
	case MV_REG_DEFERRABLE:
		return anon_private && !(e->flags & (MAP_HUGETLB | MAP_LOCKED | MAP_GROWSDOWN)) &&
		       !(e->advice & (MV_ADV_LOCKED | MV_ADV_SEALED));
	default:
		return 1;
	}
}

/* *origin: 0 = take the first entry's; recyclable ranges must have one. */
static int covered(const struct shard *s, uintptr_t lo, uintptr_t hi, int state, unsigned owner, int cls,
		   uint32_t *origin)
{
	uintptr_t at = lo;
	for (size_t i = lower(s, lo); i < s->n && s->e[i].start < hi; i++) {
		const struct mv_reg_entry *e = &s->e[i];
		if (e->start > at || e->state != state || !class_ok(e, cls))
			return 0;
		if (state == MV_REG_HELD && owner != ANY_OWNER && e->owner != owner)
			return 0;
		if (!*origin)
			*origin = e->origin;
		else if (e->origin != *origin) {
			if (cls == MV_REG_RECYCLABLE)
				return 0;
			*origin = UINT32_MAX; /* several */
		}
		at = e->end;
	}
	return at >= hi;
}

/* ---- walking the shards of a range ------------------------------------ */

typedef int (*piece_fn)(struct shard *s, uintptr_t lo, uintptr_t hi, void *arg);

/* fn on each chunk of [a, b) in address order (a range spanning more chunks
 * than there are shards visits every shard once, with the whole range); stops
 * at the first nonzero return and returns it. Locks are fn's business. */
static int each(uintptr_t a, uintptr_t b, piece_fn fn, void *arg)
{
	if (!shards || b <= a)
		return 0;
	if (((b - a) >> MV_REG_CHUNK_SHIFT) >= MV_REG_SHARDS) {
		for (size_t i = 0; i < MV_REG_SHARDS; i++) {
			int r = fn(&shards[i], a, b, arg);
			if (r)
				return r;
		}
		return 0;
	}
	for (uintptr_t c = a; c < b;) {
		uintptr_t ce = (c | (CHUNK - 1)) + 1;
		if (ce > b || ce == 0)
			ce = b;
		int r = fn(shard_of(c), c, ce, arg);
		if (r)
			return r;
		c = ce;
	}
	return 0;
}

/* Out of memory, entries [f, l) are about to go whole where only their
 * parts in [lo, hi) should. The parts outside of HELD ones (the owner's, or
 * anyone's with ANY_OWNER) are mapped memory the program gave up, which
 * nothing would unmap once forgotten: unmap them now. */
static void unmap_held_outside(const struct shard *s, size_t f, size_t l, uintptr_t lo, uintptr_t hi,
			       unsigned owner)
{
	for (size_t i = f; i < l; i++) {
		const struct mv_reg_entry *e = &s->e[i];
		if (e->state != MV_REG_HELD || (owner != ANY_OWNER && e->owner != owner))
			continue;
		if (e->start < lo)
			mv_own2(SYS_munmap, e->start, lo - e->start);
		if (e->end > hi)
			mv_own2(SYS_munmap, hi, e->end - hi);
	}
}

/* Drop entries overlapping [lo, hi) wholly (out-of-memory fallback). */
static void drop_overlapping(struct shard *s, uintptr_t lo, uintptr_t hi)
{
	size_t f, l;
	overlapping(s, lo, hi, &f, &l);
	unmap_held_outside(s, f, l, lo, hi, ANY_OWNER);
	if (l > f)
		remove_at(s, f, l - f);
}

struct map_arg {
	int prot, flags, insert;
	uint32_t origin;
};

static int map_piece(struct shard *s, uintptr_t lo, uintptr_t hi, void *arg)
{
	const struct map_arg *m = arg;
	size_t f, l;
	mv_lock(&s->lock);
	if (isolate(s, lo, hi, &f, &l) < 0) {
		drop_overlapping(s, lo, hi);
	} else {
		if (l > f)
			remove_at(s, f, l - f);
		if (m->insert) {
			struct mv_reg_entry e = { .start = lo, .end = hi, .flags = (uint32_t)m->flags,
						  .prot = (uint8_t)m->prot, .state = MV_REG_LIVE, .origin = m->origin };
			if (m->prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC))
				e.advice = MV_ADV_OTHER;
			if (insert_at(s, f, &e) == 0)
				merge(s, f, f + 1);
		}
	}
	mv_unlock(&s->lock);
	return 0;
}

void mv_reg_map(uintptr_t a, uintptr_t b, int prot, int flags)
{
	uint32_t o = __atomic_add_fetch(&next_origin, 1, __ATOMIC_RELAXED);
	if (o == UINT32_MAX || !o)
		o = __atomic_add_fetch(&next_origin, 2, __ATOMIC_RELAXED); /* 0 and ~0 mean "none", "several" */
	struct map_arg m = { prot, flags, b - a <= MV_REG_MAX_MAP, o };
	each(a, b, map_piece, &m);
}

void mv_reg_forget(uintptr_t a, uintptr_t b)
{
	struct map_arg m = { 0, 0, 0, 0 };
	each(a, b, map_piece, &m);
}

struct attr_arg {
	int prot;       /* -1: leave */
	unsigned set, clear;
};

static int attr_piece(struct shard *s, uintptr_t lo, uintptr_t hi, void *arg)
{
	const struct attr_arg *m = arg;
	size_t f, l;
	mv_lock(&s->lock);
	if (isolate(s, lo, hi, &f, &l) < 0) {
		/* Cannot split: the straddling entries take the change as "unknown". */
		overlapping(s, lo, hi, &f, &l);
		for (size_t i = f; i < l; i++)
			s->e[i].advice |= MV_ADV_OTHER;
	} else {
		for (size_t i = f; i < l; i++) {
			struct mv_reg_entry *e = &s->e[i];
			if (m->prot >= 0) {
				e->prot = (uint8_t)(m->prot & 7);
				if (m->prot & ~7)
					e->advice |= MV_ADV_OTHER;
			}
			e->advice = (uint16_t)((e->advice | m->set) & ~m->clear);
		}
		merge(s, f, l);
	}
	mv_unlock(&s->lock);
	return 0;
}

void mv_reg_protect(uintptr_t a, uintptr_t b, int prot)
{
	struct attr_arg m = { prot, 0, 0 };
	each(a, b, attr_piece, &m);
}

void mv_reg_advise(uintptr_t a, uintptr_t b, unsigned set, unsigned clear)
{
	struct attr_arg m = { -1, set, clear };
	each(a, b, attr_piece, &m);
}

/* ---- LIVE <-> HELD ------------------------------------------------------ */

struct move_arg {
	int from, to;            /* states */
	unsigned from_owner, to_owner;
	int cls;
	int phase;               /* 0 check, 1 check and move, 2 move back (rollback), 3 merge */
	uintptr_t done;          /* phase 1: moved up to here */
	uint32_t origin;         /* phase 0: the range's origin */
};

static void set_state(struct shard *s, size_t f, size_t l, int state, unsigned owner)
{
	for (size_t i = f; i < l; i++) {
		struct mv_reg_entry *e = &s->e[i];
		if (e->state != state)
			held_add(s, state == MV_REG_HELD ? 1 : -1);
		e->state = (uint8_t)state;
		e->owner = state == MV_REG_HELD ? owner : 0;
	}
}

static int move_piece(struct shard *s, uintptr_t lo, uintptr_t hi, void *arg)
{
	struct move_arg *m = arg;
	size_t f, l;
	int r = 0;
	mv_lock(&s->lock);
	switch (m->phase) {
	case 0:
		r = !covered(s, lo, hi, m->from, m->from_owner, m->cls, &m->origin);
		break;
	case 1: {
		uint32_t o = m->origin;
		if (!covered(s, lo, hi, m->from, m->from_owner, m->cls, &o) || o != m->origin ||
		    isolate(s, lo, hi, &f, &l) < 0) {
			r = 1;
			break;
		}
		set_state(s, f, l, m->to, m->to_owner);
		m->done = hi;
		break;
	}
	case 2:
		/* Undo phase 1 over [lo, hi): those entries are in state `to`. */
		if (isolate(s, lo, hi, &f, &l) == 0)
			set_state(s, f, l, m->from, m->from_owner);
		break;
	case 3:
		overlapping(s, lo, hi, &f, &l);
		merge(s, f, l);
		break;
	}
	mv_unlock(&s->lock);
	return r;
}

static int move(uintptr_t a, uintptr_t b, struct move_arg *m)
{
	if (!shards || b <= a || b - a > MV_REG_MAX_MAP)
		return -1;
	if (((a ^ (b - 1)) >> MV_REG_CHUNK_SHIFT) == 0) {
		/* One chunk: one lock. */
		struct shard *s = shard_of(a);
		size_t f, l;
		int r = -1;
		mv_lock(&s->lock);
		if (covered(s, a, b, m->from, m->from_owner, m->cls, &m->origin) && isolate(s, a, b, &f, &l) == 0) {
			set_state(s, f, l, m->to, m->to_owner);
			merge(s, f, l);
			r = 0;
		}
		mv_unlock(&s->lock);
		return r;
	}
	m->phase = 0;
	if (each(a, b, move_piece, m))
		return -1;
	m->phase = 1;
	m->done = a;
	if (each(a, b, move_piece, m)) {
		/* Changed under us (a race in the program) or out of memory. */
		struct move_arg back = *m;
		back.phase = 2;
		each(a, m->done, move_piece, &back);
		return -1;
	}
	m->phase = 3;
	each(a, b, move_piece, m);
	return 0;
}

int mv_reg_hold(uintptr_t a, uintptr_t b, unsigned owner, enum mv_reg_class cls, uint32_t *origin)
{
	struct move_arg m = { .from = MV_REG_LIVE, .to = MV_REG_HELD, .to_owner = owner, .cls = (int)cls };
	int r = move(a, b, &m);
	if (origin)
		*origin = m.origin == UINT32_MAX ? 0 : m.origin;
	return r;
}

int mv_reg_claim(uintptr_t a, uintptr_t b, unsigned owner, enum mv_reg_class cls)
{
	struct move_arg m = { .from = MV_REG_HELD, .from_owner = owner, .to = MV_REG_LIVE, .cls = (int)cls };
	return move(a, b, &m);
}

static int held_all_piece(struct shard *s, uintptr_t lo, uintptr_t hi, void *arg)
{
	unsigned owner = *(const unsigned *)arg;
	uint32_t origin = 0;
	mv_lock(&s->lock);
	int r = !covered(s, lo, hi, MV_REG_HELD, owner, -1, &origin);
	mv_unlock(&s->lock);
	return r;
}

int mv_reg_held_all(uintptr_t a, uintptr_t b, unsigned owner)
{
	if (!shards || b <= a)
		return 0;
	return each(a, b, held_all_piece, &owner) == 0;
}

struct pieces_arg {
	unsigned owner;
	void (*fn)(uintptr_t, uintptr_t, void *);
	void *arg;
	size_t count;
};

static int pieces_piece(struct shard *s, uintptr_t lo, uintptr_t hi, void *arg)
{
	struct pieces_arg *p = arg;
	size_t f, l;
	mv_lock(&s->lock);
	overlapping(s, lo, hi, &f, &l);
	for (size_t i = f; i < l; i++) {
		const struct mv_reg_entry *e = &s->e[i];
		if (e->state != MV_REG_HELD || e->owner != p->owner)
			continue;
		p->fn(e->start > lo ? e->start : lo, e->end < hi ? e->end : hi, p->arg);
		p->count++;
	}
	mv_unlock(&s->lock);
	return 0;
}

size_t mv_reg_held_pieces(uintptr_t a, uintptr_t b, unsigned owner,
			  void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg)
{
	struct pieces_arg p = { owner, fn, arg, 0 };
	each(a, b, pieces_piece, &p);
	return p.count;
}

static int unhold_piece(struct shard *s, uintptr_t lo, uintptr_t hi, void *arg)
{
	unsigned owner = *(const unsigned *)arg;
	size_t f, l;
	mv_lock(&s->lock);
	if (__atomic_load_n(&s->held, __ATOMIC_RELAXED)) {
		if (isolate(s, lo, hi, &f, &l) < 0) {
			overlapping(s, lo, hi, &f, &l); /* out of memory: drop whole entries */
			unmap_held_outside(s, f, l, lo, hi, owner);
		}
		size_t left = l;
		for (size_t i = l; i-- > f;)
			if (s->e[i].state == MV_REG_HELD && s->e[i].owner == owner) {
				remove_at(s, i, 1);
				left--;
			}
		merge(s, f, left);
	}
	mv_unlock(&s->lock);
	return 0;
}

void mv_reg_unhold(uintptr_t a, uintptr_t b, unsigned owner)
{
	each(a, b, unhold_piece, &owner);
}

static int holders_piece(struct shard *s, uintptr_t lo, uintptr_t hi, void *arg)
{
	uint64_t *mask = arg;
	size_t f, l;
	if (!__atomic_load_n(&s->held, __ATOMIC_ACQUIRE))
		return 0;
	mv_lock(&s->lock);
	overlapping(s, lo, hi, &f, &l);
	for (size_t i = f; i < l; i++)
		if (s->e[i].state == MV_REG_HELD)
			*mask |= 1ULL << (s->e[i].owner & (MV_REG_OWNERS - 1));
	mv_unlock(&s->lock);
	return 0;
}

uint64_t mv_reg_holders(uintptr_t a, uintptr_t b)
{
	uint64_t mask = 0;
	each(a, b, holders_piece, &mask);
	return mask;
}

struct attrs_arg {
	struct mv_reg_entry first;
	int have;
};

static int attrs_piece(struct shard *s, uintptr_t lo, uintptr_t hi, void *arg)
{
	struct attrs_arg *m = arg;
	uintptr_t at = lo;
	int bad = 0;
	mv_lock(&s->lock);
	for (size_t i = lower(s, lo); i < s->n && s->e[i].start < hi && !bad; i++) {
		const struct mv_reg_entry *e = &s->e[i];
		if (!m->have) {
			m->first = *e;
			m->have = 1;
		}
		bad = e->start > at || e->state != MV_REG_LIVE || e->origin != m->first.origin ||
		      e->flags != m->first.flags || e->prot != m->first.prot || e->advice != m->first.advice;
		at = e->end;
	}
	mv_unlock(&s->lock);
	return bad || at < hi;
}

int mv_reg_attrs(uintptr_t a, uintptr_t b, struct mv_reg_entry *out)
{
	struct attrs_arg m;
	m.have = 0;
	if (!shards || b <= a || b - a > MV_REG_MAX_MAP || each(a, b, attrs_piece, &m) || !m.have)
		return -1;
	*out = m.first;
	return 0;
}

/* ---- inspection, tests, fork -------------------------------------------- */

int mv_reg_lookup(uintptr_t addr, struct mv_reg_entry *out)
{
	if (!shards)
		return -1;
	struct shard *s = shard_of(addr);
	int r = -1;
	mv_lock(&s->lock);
	size_t i = lower(s, addr);
	if (i < s->n && s->e[i].start <= addr) {
		*out = s->e[i];
		r = 0;
	}
	mv_unlock(&s->lock);
	return r;
}

void mv_reg_counts(size_t *entries, size_t *held)
{
	size_t n = 0, h = 0;
	for (size_t i = 0; shards && i < MV_REG_SHARDS; i++) {
		mv_lock(&shards[i].lock);
		n += shards[i].n;
		h += (size_t)shards[i].held;
		mv_unlock(&shards[i].lock);
	}
	*entries = n;
	*held = h;
}

int mv_reg_check(void)
{
	int bad = 0;
	for (size_t i = 0; shards && i < MV_REG_SHARDS; i++) {
		struct shard *s = &shards[i];
		int h = 0;
		mv_lock(&s->lock);
		if (s->cap < SMALL || (s->cap == SMALL && s->e != slab + i * SMALL) || s->n > s->cap)
			bad = 1;
		for (size_t j = 0; j < s->n; j++) {
			const struct mv_reg_entry *e = &s->e[j];
			h += e->state == MV_REG_HELD;
			if (e->start >= e->end || (e->start >> MV_REG_CHUNK_SHIFT) != ((e->end - 1) >> MV_REG_CHUNK_SHIFT) ||
			    shard_of(e->start) != s || (j && s->e[j - 1].end > e->start) ||
			    (j && mergeable(&s->e[j - 1], e)))
				bad = 1;
		}
		if (h != s->held)
			bad = 1;
		mv_unlock(&s->lock);
	}
	return bad ? -1 : 0;
}

void mv_reg_reset(void)
{
	for (size_t i = 0; shards && i < MV_REG_SHARDS; i++) {
		mv_lock(&shards[i].lock);
		shards[i].n = 0;
		held_add(&shards[i], -shards[i].held);
		shrink(&shards[i]);
		mv_unlock(&shards[i].lock);
	}
}

void mv_reg_atfork_prepare(void)
{
	for (size_t i = 0; shards && i < MV_REG_SHARDS; i++)
		mv_lock(&shards[i].lock);
}

void mv_reg_atfork_parent(void)
{
	for (size_t i = 0; shards && i < MV_REG_SHARDS; i++)
		mv_unlock(&shards[i].lock);
}

/* The child has no MADV_DONTFORK ranges: forget them there. */
void mv_reg_atfork_child(void)
{
	for (size_t i = 0; shards && i < MV_REG_SHARDS; i++) {
		struct shard *s = &shards[i];
		mv_lock_reset(&s->lock);
		for (size_t j = s->n; j-- > 0;)
			if (s->e[j].advice & MV_ADV_DONTFORK)
				remove_at(s, j, 1);
	}
}
