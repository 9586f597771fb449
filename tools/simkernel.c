/* simkernel.c - the pretend kernel of `madvisor replay` (simkernel.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "tools/simkernel.h"
#include "core/kernel.h"

#define PAGE 4096UL
#define FRESH_BASE (1UL << 44)   /* where mappings go that cannot have the traced place */

/* Disjoint ranges in address order, each with a displacement. */
struct ival {
	uintptr_t lo, hi;
	intptr_t d;
};
struct iset {
	struct ival *v;
	size_t n, cap;
};

static struct iset space;        /* what the replayed process has mapped */
static struct iset moved;        /* traced range -> replayed range (d = replayed - traced) */
static struct mv_sim_counts counts;
static uintptr_t preferred, fresh = FRESH_BASE;
/* Mappings of the trace a newer one covered (mv_sim_got). */
#define SHADOWS 1024
static struct ival shadow[SHADOWS];
static size_t nshadow;

/* First range with hi > a. */
static size_t first_after(const struct iset *s, uintptr_t a)
{
	size_t lo = 0, hi = s->n;
	while (lo < hi) {
		size_t m = (lo + hi) / 2;
		if (s->v[m].hi > a)
			hi = m;
		else
			lo = m + 1;
	}
	return lo;
}

/* The range that holds a, or NULL. */
static const struct ival *find(const struct iset *s, uintptr_t a)
{
	size_t i = first_after(s, a);
	return i < s->n && s->v[i].lo <= a ? &s->v[i] : NULL;
}

static int overlaps(const struct iset *s, uintptr_t a, uintptr_t b)
{
	size_t i = first_after(s, a);
	return i < s->n && s->v[i].lo < b;
}

static void insert_at(struct iset *s, size_t i, struct ival x)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 256;
		struct ival *v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			abort(); /* replay's own memory: nothing sensible to go on with */
		s->v = v, s->cap = cap;
	}
	memmove(&s->v[i + 1], &s->v[i], (s->n - i) * sizeof(*s->v));
	s->v[i] = x;
	s->n++;
}

/* Take [a, b) out, cutting the ranges it splits. */
static void cut(struct iset *s, uintptr_t a, uintptr_t b)
{
	size_t i = first_after(s, a);
	while (i < s->n && s->v[i].lo < b) {
		struct ival *x = &s->v[i];
		if (x->lo < a && x->hi > b) {
			struct ival right = { b, x->hi, x->d };
			x->hi = a;
			insert_at(s, i + 1, right);
			return;
		}
		if (x->lo < a) {
			x->hi = a;
			i++;
		} else if (x->hi > b) {
			x->lo = b;
			return;
		} else {
			memmove(x, x + 1, (s->n - i - 1) * sizeof(*x));
			s->n--;
		}
	}
}

static void add(struct iset *s, uintptr_t a, uintptr_t b, intptr_t d)
{
	cut(s, a, b);
	insert_at(s, first_after(s, a), (struct ival){ a, b, d });
}

static size_t page_up(size_t n)
{
	return (n + PAGE - 1) & ~(PAGE - 1);
}

/* A free place for n bytes: the traced one, else a fresh one. */
static uintptr_t place(size_t n)
{
	uintptr_t p = preferred;
	preferred = 0;
	if (p && !(p & (PAGE - 1)) && !overlaps(&space, p, p + n))
		return p;
	while (overlaps(&space, fresh, fresh + n))
		fresh = space.v[first_after(&space, fresh)].hi;
	p = fresh;
	fresh += n;
	return p;
}

/* ---- the next functions (kernel.h): libc conventions ---------------------------- */

static void *sim_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	(void)prot, (void)fd, (void)off;
	counts.program[MV_MMAP]++;
	size_t n = page_up(len);
	uintptr_t a = (uintptr_t)addr, at;
	if (!n) {
		errno = EINVAL;
		return MAP_FAILED;
	}
	if (flags & MAP_FIXED) {
		at = a;
	} else if (flags & MAP_FIXED_NOREPLACE) {
		if (overlaps(&space, a, a + n)) {
			errno = EEXIST;
			return MAP_FAILED;
		}
		at = a;
	} else if (a && !(a & (PAGE - 1)) && !overlaps(&space, a, a + n)) {
		at = a; /* a hint that is free */
		preferred = 0;
	} else {
		at = place(n);
	}
	add(&space, at, at + n, 0);
	return (void *)at;
}

static int sim_munmap(void *addr, size_t len)
{
	counts.program[MV_MUNMAP]++;
	cut(&space, (uintptr_t)addr, (uintptr_t)addr + page_up(len));
	return 0;
}

static void *sim_mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	counts.program[MV_MREMAP]++;
	uintptr_t a = (uintptr_t)old, at;
	size_t o = page_up(old_len), n = page_up(new_len);
	if (flags & MREMAP_FIXED) {
		va_list ap;
		va_start(ap, flags);
		at = (uintptr_t)va_arg(ap, void *);
		va_end(ap);
	} else if (n <= o || !overlaps(&space, a + o, a + n)) {
		at = a;
	} else if (flags & MREMAP_MAYMOVE) {
		cut(&space, a, a + o);
		at = place(n);
	} else {
		errno = ENOMEM;
		return MAP_FAILED;
	}
	if (!(flags & MREMAP_DONTUNMAP))
		cut(&space, a, a + o);
	add(&space, at, at + n, 0);
	return (void *)at;
}

static int sim_madvise(void *addr, size_t len, int advice)
{
	(void)addr, (void)len, (void)advice;
	counts.program[MV_MADVISE]++;
	return 0;
}

static int sim_mprotect(void *addr, size_t len, int prot)
{
	(void)addr, (void)len, (void)prot;
	counts.program[MV_MPROTECT]++;
	return 0;
}

long mv_sim_held_call(void *arg, const struct mv_request *q)
{
	(void)arg;
	switch (q->kind) {
	case MV_MUNMAP:
		counts.held_unmap++;
		cut(&space, (uintptr_t)q->addr, (uintptr_t)q->addr + page_up(q->len));
		return 0;
	case MV_MADVISE:
		counts.held_zap++;
		return 0;
	case MV_PROCESS_MADVISE:
		counts.held_zap_batch++;
		return 0;
	default:
		return -ENOSYS;
	}
}

/* ---- set-up, translation ---------------------------------------------------- */

void mv_sim_start(void)
{
	space.n = moved.n = nshadow = 0;
	memset(&counts, 0, sizeof(counts));
	preferred = 0;
	fresh = FRESH_BASE;
	struct mv_next next = { .mmap = sim_mmap, .munmap = sim_munmap, .mremap = sim_mremap,
				.madvise = sim_madvise, .mprotect = sim_mprotect };
	mv_kernel_set_next(&next);
}

void mv_sim_stop(void)
{
	mv_kernel_set_next(NULL);
}

const struct mv_sim_counts *mv_sim_counts(void)
{
	return &counts;
}

/* Mappings of the trace that a newer one covered: the trace orders calls by
 * when they were recorded, after they returned, so a thread's munmap can
 * come after another thread's mmap that already reused the range. Such a
 * munmap names its own mapping exactly; it is looked up here first. */

static struct ival *shadowed(uintptr_t a, uintptr_t b)
{
	for (size_t i = nshadow; i-- > 0;)
		if (shadow[i].lo == a && shadow[i].hi == b)
			return &shadow[i];
	return NULL;
}

uintptr_t mv_sim_at(uintptr_t a, size_t n)
{
	const struct ival *x = n ? shadowed(a, a + page_up(n)) : NULL;
	if (!x)
		x = find(&moved, a);
	return x ? (uintptr_t)((intptr_t)a + x->d) : a;
}

void mv_sim_got(uintptr_t a, size_t n, uintptr_t s)
{
	n = page_up(n);
	if (!n)
		return;
	if (!s) {
		struct ival *x = shadowed(a, a + n);
		if (x)
			*x = shadow[--nshadow];
		else
			cut(&moved, a, a + n);
		return;
	}
	/* Whole mappings the new one covers go to the shadows (oldest out). */
	for (size_t i = first_after(&moved, a); i < moved.n && moved.v[i].lo < a + n; i++) {
		if (nshadow == SHADOWS)
			memmove(shadow, shadow + 1, --nshadow * sizeof(shadow[0]));
		shadow[nshadow++] = moved.v[i];
	}
	add(&moved, a, a + n, (intptr_t)(s - a));
}

void mv_sim_prefer(uintptr_t a)
{
	preferred = a;
}
