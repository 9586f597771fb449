/* registry.c - sharded record of the program's mappings (registry.h).
 *
 * Each shard's entries form a treap ordered by start address. A node's
 * priority is a hash of the node's own address: fixed while it lives and
 * unrelated to the addresses the program maps, so the expected depth is
 * O(log n) whatever the program does. Every call works on a span: the tree is
 * split (iteratively, no recursion) into the entries before [lo, hi), those
 * overlapping it (cut at lo and hi when the call changes them) and those
 * after; the overlapping ones become a list in address order, the call walks
 * it, equal neighbours merge, and the three parts are joined again. Nodes
 * come from per-shard slabs of own memory; a shard that empties gives back
 * all but its first slab. */
#include <string.h>
#include <sys/mman.h>
#include "munmap/registry.h"
#include "munmap/whatif.h"
#include "sys/ownmem.h"
#include "sys/lock.h"
#include "sys/ownsys.h"

#define SLOT (1UL << MV_REG_SLOT_SHIFT)
#define ANY_OWNER (~0u)
#define SLAB_FIRST 4096u
#define SLAB_MAX (64u << 10)

struct node {
	struct mv_reg_entry e;
	struct node *l, *r;        /* tree children; in a list, r is the next entry */
};

struct slab {
	struct slab *next;
	size_t bytes;
};

struct shard {
	mv_lock_t lock;
	int held;                  /* HELD entries; read without the lock */
	uint32_t n;                /* entries */
	uint32_t dontfork;         /* an entry may carry MV_ADV_DONTFORK */
	struct node *root;
	struct node *spare;        /* free nodes, linked by r */
	struct slab *slabs;        /* newest first */
	size_t bytes;              /* in slabs */
} __attribute__((aligned(64)));

static struct shard *shards;
static uint32_t next_origin;
static size_t bytes_now, bytes_peak;  /* in slabs, over all shards */
static uint64_t seed;

int mv_reg_init(void)
{
	if (__atomic_load_n(&shards, __ATOMIC_ACQUIRE))
		return 0;
	struct shard *s = mv_ownmem_alloc(sizeof(struct shard) * MV_REG_SHARDS);
	if (!s)
		return -1;
	seed = (uintptr_t)s * 0x9e3779b97f4a7c15ULL; /* where own memory landed: differs per run */
	__atomic_store_n(&shards, s, __ATOMIC_RELEASE);
	return 0;
}

int mv_reg_ready(void)
{
	return __atomic_load_n(&shards, __ATOMIC_ACQUIRE) != NULL;
}

static inline struct shard *shard_of(uintptr_t a)
{
	return &shards[(a >> MV_REG_SLOT_SHIFT) & (MV_REG_SHARDS - 1)];
}

static inline void held_add(struct shard *s, int d)
{
	if (d)
		__atomic_store_n(&s->held, s->held + d, __ATOMIC_RELEASE);
}

/* ---- nodes ---------------------------------------------------------------- */

static void thread_slab(struct shard *s, struct slab *b)
{
	char *end = (char *)b + b->bytes;
	for (char *p = (char *)(b + 1); p + sizeof(struct node) <= end; p += sizeof(struct node)) {
		struct node *x = (struct node *)p;
		x->r = s->spare;
		s->spare = x;
	}
}

static struct node *node_new(struct shard *s)
{
	if (!s->spare) {
		size_t bytes = !s->slabs ? SLAB_FIRST : s->slabs->bytes >= SLAB_MAX / 2 ? SLAB_MAX : s->slabs->bytes * 2;
		struct slab *b = mv_ownmem_alloc(bytes);
		if (!b)
			return NULL;
		b->bytes = bytes;
		b->next = s->slabs;
		s->slabs = b;
		s->bytes += bytes;
		size_t now = __atomic_add_fetch(&bytes_now, bytes, __ATOMIC_RELAXED), peak = bytes_peak;
		while (now > peak && !__atomic_compare_exchange_n(&bytes_peak, &peak, now, 0, __ATOMIC_RELAXED,
								  __ATOMIC_RELAXED))
			;
		thread_slab(s, b);
	}
	struct node *x = s->spare;
	s->spare = x->r;
	x->l = x->r = NULL;
	return x;
}

static void node_free(struct shard *s, struct node *x)
{
	x->l = NULL;
	x->r = s->spare;
	s->spare = x;
}

/* An entry leaves the shard. */
static void drop(struct shard *s, struct node *x)
{
	s->n--;
	if (x->e.state == MV_REG_HELD)
		held_add(s, -1);
	node_free(s, x);
}

/* An emptied shard keeps only its first (oldest) slab. */
static void shrink(struct shard *s)
{
	if (s->n || !s->slabs || !s->slabs->next)
		return;
	struct slab *b = s->slabs;
	while (b->next) {
		struct slab *next = b->next;
		s->bytes -= b->bytes;
		__atomic_sub_fetch(&bytes_now, b->bytes, __ATOMIC_RELAXED);
		mv_ownmem_free(b, b->bytes);
		b = next;
	}
	s->slabs = b;
	s->spare = NULL;
	thread_slab(s, b);
}

/* ---- the treap ------------------------------------------------------------ */

static inline uint64_t prio(const struct node *x)
{
	uint64_t z = (uintptr_t)x ^ seed;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* *L: the entries starting below x; *R: the rest. */
static void split(struct node *t, uintptr_t x, struct node **L, struct node **R)
{
	struct node **l = L, **r = R;
	while (t) {
		if (t->e.start < x) {
			*l = t;
			l = &t->r;
			t = t->r;
		} else {
			*r = t;
			r = &t->l;
			t = t->l;
		}
	}
	*l = *r = NULL;
}

/* Every entry of a lies below every entry of b. */
static struct node *join(struct node *a, struct node *b)
{
	struct node *root = NULL, **w = &root;
	while (a && b) {
		if (prio(a) >= prio(b)) {
			*w = a;
			w = &a->r;
			a = a->r;
		} else {
			*w = b;
			w = &b->l;
			b = b->l;
		}
	}
	*w = a ? a : b;
	return root;
}

static struct node *pop_max(struct node **t)
{
	if (!*t)
		return NULL;
	while ((*t)->r)
		t = &(*t)->r;
	struct node *x = *t;
	*t = x->l;
	x->l = NULL;
	return x;
}

static struct node *pop_min(struct node **t)
{
	if (!*t)
		return NULL;
	while ((*t)->l)
		t = &(*t)->l;
	struct node *x = *t;
	*t = x->r;
	x->r = NULL;
	return x;
}

/* The tree as a list in address order, linked by r (rotations, no stack). */
static struct node *flatten(struct node *t)
{
	struct node head = { .r = t }, *tail = &head, *rest = t;
	while (rest) {
		if (!rest->l) {
			tail = rest;
			rest = rest->r;
		} else {
			struct node *x = rest->l;
			rest->l = x->r;
			x->r = rest;
			rest = x;
			tail->r = x;
		}
	}
	return head.r;
}

/* A list in address order as a treap. */
static struct node *build(struct node *list)
{
	struct node *t = NULL;
	while (list) {
		struct node *next = list->r;
		list->l = list->r = NULL;
		t = join(t, list);
		list = next;
	}
	return t;
}

/* ---- spans ---------------------------------------------------------------- */

static int mergeable(const struct mv_reg_entry *x, const struct mv_reg_entry *y)
{
	return x->end == y->start && x->flags == y->flags && x->advice == y->advice && x->prot == y->prot &&
	       x->state == y->state && x->origin == y->origin && (x->state != MV_REG_HELD || x->owner == y->owner);
}

struct span {
	struct node *left, *right;   /* trees: the entries before and after */
	struct node *list;           /* the entries overlapping [lo, hi), in order */
};

/* A copy of x from `at` on (x is cut there). */
static struct node *cut_at(struct shard *s, struct node *x, struct node *y, uintptr_t at)
{
	y->e = x->e;
	y->e.start = at;
	x->e.end = at;
	s->n++;
	if (y->e.state == MV_REG_HELD)
		held_add(s, 1);
	return y;
}

/* Take the entries overlapping [lo, hi) out of the tree; with `cut`, cut
 * those straddling lo or hi first, so that the list lies within [lo, hi).
 * -1 when a cut needs a node and there is none (nothing changed). */
static int open_span(struct shard *s, uintptr_t lo, uintptr_t hi, int cut, struct span *sp)
{
	struct node *spare[2] = { NULL, NULL }, *L, *R, *M, *first = NULL;
	int used = 0;
	if (cut) {
		spare[0] = node_new(s);
		spare[1] = spare[0] ? node_new(s) : NULL;
		if (!spare[1]) {
			if (spare[0])
				node_free(s, spare[0]);
			return -1;
		}
	}
	split(s->root, lo, &L, &R);
	s->root = NULL;
	struct node *x = pop_max(&L);
	if (x && x->e.end > lo) {
		if (cut) {
			first = cut_at(s, x, spare[used++], lo);
			L = join(L, x);
		} else {
			first = x;
		}
	} else if (x) {
		L = join(L, x);
	}
	split(R, hi, &M, &sp->right);
	struct node *list = flatten(M);
	if (first) {
		first->r = list;
		list = first;
	}
	struct node *last = list;
	while (last && last->r)
		last = last->r;
	if (cut && last && last->e.end > hi)
		sp->right = join(cut_at(s, last, spare[used++], hi), sp->right);
	while (cut && used < 2)
		node_free(s, spare[used++]);
	sp->left = L;
	sp->list = list;
	return 0;
}

/* Put the entries back; with `merge`, equal neighbours (the span's and the
 * entries next to it) become one. */
static void close_span(struct shard *s, struct span *sp, int merge)
{
	struct node *list = sp->list;
	if (merge) {
		struct node *a = pop_max(&sp->left), *b = pop_min(&sp->right), **tail = &list;
		while (*tail)
			tail = &(*tail)->r;
		*tail = b;
		if (a) {
			a->r = list;
			list = a;
		}
		for (struct node *x = list; x && x->r;) {
			struct node *y = x->r;
			if (mergeable(&x->e, &y->e)) {
				x->e.end = y->e.end;
				x->r = y->r;
				drop(s, y);
			} else {
				x = y;
			}
		}
	}
	s->root = join(join(sp->left, build(list)), sp->right);
	if (!s->n)
		s->dontfork = 0;
	shrink(s);
}

static void drop_list(struct shard *s, struct node **list)
{
	while (*list) {
		struct node *x = *list;
		*list = x->r;
		drop(s, x);
	}
}

/* ---- checks over a span's list ---------------------------------------------- */

static int class_ok(const struct mv_reg_entry *e, int cls)
{
	unsigned type = e->flags & MAP_TYPE;
	int anon_private = (e->flags & MAP_ANONYMOUS) && type == MAP_PRIVATE;
	switch (cls) {
	case MV_REG_RECYCLABLE:
		return anon_private && !(e->flags & ~(unsigned)(MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED |
							      MAP_FIXED_NOREPLACE | MAP_POPULATE | MAP_NORESERVE)) &&
		       e->prot == (PROT_READ | PROT_WRITE) && (e->advice & ~MV_ADV_NOMERGE) == 0;
	case MV_REG_DEFERRABLE:
		return anon_private && !(e->flags & (MAP_HUGETLB | MAP_LOCKED | MAP_GROWSDOWN)) &&
		       !(e->advice & (MV_ADV_LOCKED | MV_ADV_SEALED));
	default:
		return 1;
	}
}

/* Whether [lo, hi) is covered without gaps by entries in state/owner and,
 * for LIVE or claims, of class cls (cls < 0: any). *origin: 0 = take the
 * first entry's; recyclable ranges must have one. */
static int covered(const struct node *list, uintptr_t lo, uintptr_t hi, int state, unsigned owner, int cls,
		   uint32_t *origin)
{
	uintptr_t at = lo;
	for (const struct node *x = list; x; x = x->r) {
		const struct mv_reg_entry *e = &x->e;
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

/* Out of memory, the listed entries are about to go whole where only their
 * parts in [lo, hi) should. The parts outside of HELD ones (the owner's, or
 * anyone's with ANY_OWNER) are mapped memory the program gave up, which
 * nothing would unmap once forgotten: unmap them now. */
static void unmap_held_outside(const struct node *list, uintptr_t lo, uintptr_t hi, unsigned owner)
{
	for (const struct node *x = list; x; x = x->r) {
		const struct mv_reg_entry *e = &x->e;
		if (e->state != MV_REG_HELD || (owner != ANY_OWNER && e->owner != owner))
			continue;
		struct mv_request q = { .kind = MV_MUNMAP };
		if (e->start < lo) {
			q.addr = (void *)e->start, q.len = lo - e->start;
			mv_held_call(&q);
		}
		if (e->end > hi) {
			q.addr = (void *)hi, q.len = e->end - hi;
			mv_held_call(&q);
		}
	}
}

static void set_state(struct shard *s, struct node *list, int state, unsigned owner)
{
	for (struct node *x = list; x; x = x->r) {
		if (x->e.state != state)
			held_add(s, state == MV_REG_HELD ? 1 : -1);
		x->e.state = (uint8_t)state;
		x->e.owner = state == MV_REG_HELD ? owner : 0;
	}
}

/* ---- walking the shards of a range ------------------------------------ */

typedef int (*piece_fn)(struct shard *s, uintptr_t lo, uintptr_t hi, void *arg);

/* fn on each slot of [a, b) in address order (a range spanning more slots
 * than there are shards visits every shard once, with the whole range); stops
 * at the first nonzero return and returns it. Locks are fn's business. */
static int each(uintptr_t a, uintptr_t b, piece_fn fn, void *arg)
{
	if (!shards || b <= a)
		return 0;
	if (((b - a) >> MV_REG_SLOT_SHIFT) >= MV_REG_SHARDS) {
		for (size_t i = 0; i < MV_REG_SHARDS; i++) {
			int r = fn(&shards[i], a, b, arg);
			if (r)
				return r;
		}
		return 0;
	}
	for (uintptr_t c = a; c < b;) {
		uintptr_t ce = (c | (SLOT - 1)) + 1;
		if (ce > b || ce == 0)
			ce = b;
		int r = fn(shard_of(c), c, ce, arg);
		if (r)
			return r;
		c = ce;
	}
	return 0;
}

/* ---- changes ---------------------------------------------------------------- */

struct map_arg {
	int prot, flags, insert;
	uint32_t origin;
};

static int map_piece(struct shard *s, uintptr_t lo, uintptr_t hi, void *arg)
{
	const struct map_arg *m = arg;
	struct span sp;
	mv_lock(&s->lock);
	if (open_span(s, lo, hi, 1, &sp) < 0) {
		/* No node for a cut: the overlapping entries go whole. */
		open_span(s, lo, hi, 0, &sp);
		unmap_held_outside(sp.list, lo, hi, ANY_OWNER);
	}
	drop_list(s, &sp.list);
	struct node *x = m->insert ? node_new(s) : NULL;
	if (x) {
		x->e = (struct mv_reg_entry){ .start = lo, .end = hi, .flags = (uint32_t)m->flags,
					      .prot = (uint8_t)m->prot, .state = MV_REG_LIVE, .origin = m->origin };
		if (m->prot & ~(PROT_READ | PROT_WRITE | PROT_EXEC))
			x->e.advice = MV_ADV_OTHER;
		s->n++;
		sp.list = x;
	}
	close_span(s, &sp, 1);
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
	struct span sp;
	mv_lock(&s->lock);
	if (open_span(s, lo, hi, 1, &sp) < 0) {
		/* Cannot cut: the straddling entries take the change as "unknown". */
		open_span(s, lo, hi, 0, &sp);
		for (struct node *x = sp.list; x; x = x->r)
			x->e.advice |= MV_ADV_OTHER;
	} else {
		for (struct node *x = sp.list; x; x = x->r) {
			struct mv_reg_entry *e = &x->e;
			if (m->prot >= 0) {
				e->prot = (uint8_t)(m->prot & 7);
				if (m->prot & ~7)
					e->advice |= MV_ADV_OTHER;
			}
			e->advice = (uint16_t)((e->advice | m->set) & ~m->clear);
		}
		if (m->set & MV_ADV_DONTFORK)
			s->dontfork = 1;
	}
	close_span(s, &sp, 1);
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

static int move_piece(struct shard *s, uintptr_t lo, uintptr_t hi, void *arg)
{
	struct move_arg *m = arg;
	struct span sp;
	int r = 0;
	mv_lock(&s->lock);
	switch (m->phase) {
	case 0:
		open_span(s, lo, hi, 0, &sp);
		r = !covered(sp.list, lo, hi, m->from, m->from_owner, m->cls, &m->origin);
		close_span(s, &sp, 0);
		break;
	case 1: {
		uint32_t o = m->origin;
		if (open_span(s, lo, hi, 1, &sp) < 0) {
			r = 1;
			break;
		}
		if (!covered(sp.list, lo, hi, m->from, m->from_owner, m->cls, &o) || o != m->origin) {
			close_span(s, &sp, 1); /* undo the cuts */
			r = 1;
			break;
		}
		/* Unmerged: a rollback needs no new cut. */
		set_state(s, sp.list, m->to, m->to_owner);
		close_span(s, &sp, 0);
		m->done = hi;
		break;
	}
	case 2:
		/* Undo phase 1 over [lo, hi): those entries are in state `to`. */
		if (open_span(s, lo, hi, 1, &sp) == 0) {
			set_state(s, sp.list, m->from, m->from_owner);
			close_span(s, &sp, 1);
		}
		break;
	case 3:
		open_span(s, lo, hi, 0, &sp);
		close_span(s, &sp, 1);
		break;
	}
	mv_unlock(&s->lock);
	return r;
}

static int move(uintptr_t a, uintptr_t b, struct move_arg *m)
{
	if (!shards || b <= a || b - a > MV_REG_MAX_MAP)
		return -1;
	if (((a ^ (b - 1)) >> MV_REG_SLOT_SHIFT) == 0) {
		/* One slot: one lock. */
		struct shard *s = shard_of(a);
		struct span sp;
		int r = -1;
		mv_lock(&s->lock);
		if (open_span(s, a, b, 1, &sp) == 0) {
			if (covered(sp.list, a, b, m->from, m->from_owner, m->cls, &m->origin)) {
				set_state(s, sp.list, m->to, m->to_owner);
				r = 0;
			}
			close_span(s, &sp, 1);
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

/* ---- questions ------------------------------------------------------------- */

static int held_all_piece(struct shard *s, uintptr_t lo, uintptr_t hi, void *arg)
{
	unsigned owner = *(const unsigned *)arg;
	uint32_t origin = 0;
	struct span sp;
	mv_lock(&s->lock);
	open_span(s, lo, hi, 0, &sp);
	int r = !covered(sp.list, lo, hi, MV_REG_HELD, owner, -1, &origin);
	close_span(s, &sp, 0);
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
	struct span sp;
	mv_lock(&s->lock);
	open_span(s, lo, hi, 0, &sp);
	for (const struct node *x = sp.list; x; x = x->r) {
		const struct mv_reg_entry *e = &x->e;
		if (e->state != MV_REG_HELD || e->owner != p->owner)
			continue;
		p->fn(e->start > lo ? e->start : lo, e->end < hi ? e->end : hi, p->arg);
		p->count++;
	}
	close_span(s, &sp, 0);
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
	struct span sp;
	mv_lock(&s->lock);
	if (__atomic_load_n(&s->held, __ATOMIC_RELAXED)) {
		if (open_span(s, lo, hi, 1, &sp) < 0) {
			open_span(s, lo, hi, 0, &sp); /* out of memory: drop whole entries */
			unmap_held_outside(sp.list, lo, hi, owner);
		}
		for (struct node **p = &sp.list; *p;) {
			struct node *x = *p;
			if (x->e.state == MV_REG_HELD && x->e.owner == owner) {
				*p = x->r;
				drop(s, x);
			} else {
				p = &x->r;
			}
		}
		close_span(s, &sp, 1);
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
	struct span sp;
	if (!__atomic_load_n(&s->held, __ATOMIC_ACQUIRE))
		return 0;
	mv_lock(&s->lock);
	open_span(s, lo, hi, 0, &sp);
	for (const struct node *x = sp.list; x; x = x->r)
		if (x->e.state == MV_REG_HELD)
			*mask |= 1ULL << (x->e.owner & (MV_REG_OWNERS - 1));
	close_span(s, &sp, 0);
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
	struct span sp;
	mv_lock(&s->lock);
	open_span(s, lo, hi, 0, &sp);
	for (const struct node *x = sp.list; x && !bad; x = x->r) {
		const struct mv_reg_entry *e = &x->e;
		if (!m->have) {
			m->first = *e;
			m->have = 1;
		}
		bad = e->start > at || e->state != MV_REG_LIVE || e->origin != m->first.origin ||
		      e->flags != m->first.flags || e->prot != m->first.prot || e->advice != m->first.advice;
		at = e->end;
	}
	close_span(s, &sp, 0);
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
	if (!shards || addr == UINTPTR_MAX)
		return -1;
	struct shard *s = shard_of(addr);
	struct span sp;
	int r = -1;
	mv_lock(&s->lock);
	open_span(s, addr, addr + 1, 0, &sp);
	if (sp.list) {
		*out = sp.list->e;
		r = 0;
	}
	close_span(s, &sp, 0);
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

size_t mv_reg_bytes(size_t *peak)
{
	if (peak)
		*peak = __atomic_load_n(&bytes_peak, __ATOMIC_RELAXED);
	return __atomic_load_n(&bytes_now, __ATOMIC_RELAXED);
}

struct walk {
	const struct shard *s;
	const struct node *prev;
	size_t n, held;
	int bad;
};

static void check_tree(struct walk *w, const struct node *x, int depth)
{
	if (!x || w->bad)
		return;
	const struct mv_reg_entry *e = &x->e;
	if (depth > 4096 || (x->l && prio(x->l) > prio(x)) || (x->r && prio(x->r) > prio(x))) {
		w->bad = 1;
		return;
	}
	check_tree(w, x->l, depth + 1);
	w->n++;
	w->held += e->state == MV_REG_HELD;
	if (e->start >= e->end || (e->start >> MV_REG_SLOT_SHIFT) != ((e->end - 1) >> MV_REG_SLOT_SHIFT) ||
	    shard_of(e->start) != w->s || (w->prev && (w->prev->e.end > e->start || mergeable(&w->prev->e, e))))
		w->bad = 1;
	w->prev = x;
	check_tree(w, x->r, depth + 1);
}

int mv_reg_check(void)
{
	int bad = 0;
	for (size_t i = 0; shards && i < MV_REG_SHARDS; i++) {
		struct shard *s = &shards[i];
		mv_lock(&s->lock);
		struct walk w = { .s = s };
		check_tree(&w, s->root, 0);
		size_t spare = 0, cap = 0;
		for (const struct node *x = s->spare; x && spare <= s->bytes; x = x->r)
			spare++;
		for (const struct slab *b = s->slabs; b; b = b->next)
			cap += (b->bytes - sizeof(*b)) / sizeof(struct node);
		if (w.bad || w.n != s->n || w.held != (size_t)s->held || spare + s->n != cap)
			bad = 1;
		mv_unlock(&s->lock);
	}
	return bad ? -1 : 0;
}

void mv_reg_reset(void)
{
	for (size_t i = 0; shards && i < MV_REG_SHARDS; i++) {
		struct shard *s = &shards[i];
		mv_lock(&s->lock);
		struct node *list = flatten(s->root);
		s->root = NULL;
		drop_list(s, &list);
		shrink(s);
		mv_unlock(&s->lock);
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

/* The child has no MADV_DONTFORK ranges: forget them there. The others are
 * its copies of the parent's. */
void mv_reg_atfork_child(void)
{
	for (size_t i = 0; shards && i < MV_REG_SHARDS; i++) {
		struct shard *s = &shards[i];
		mv_lock_reset(&s->lock);
		struct node *list = flatten(s->root);
		for (struct node **p = &list; *p;) {
			struct node *x = *p;
			if (x->e.advice & MV_ADV_DONTFORK) {
				*p = x->r;
				drop(s, x);
			} else {
				x->e.advice |= MV_ADV_FORKED;
				p = &x->r;
			}
		}
		s->root = build(list);
		shrink(s);
	}
}
