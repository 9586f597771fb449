/* shadow.c - shadow-memory checker for the munmap strategies.
 *
 * Threads run random sequences of mmap (NULL, MAP_FIXED, MAP_FIXED_NOREPLACE,
 * hint), munmap (whole and partial), mremap (grow, shrink, move, fixed),
 * mprotect, madvise and fork on their own mappings and keep a shadow of what
 * every page must hold: a pattern derived from a per-page tag, zero, or "old
 * pattern or zero" after MADV_FREE. Every live byte is checked after each
 * operation on it, every new mapping must read zero, and every call's result
 * and errno must be what the kernel gives without madvisor (the model below
 * says what that is; run the program without the library to check the model).
 *
 * Unmapped ranges are probed too (madvise, mprotect, mremap, munmap,
 * MAP_FIXED_NOREPLACE, hints): each thread owns an address window far below
 * where the kernel places mappings, so only its own fixed mappings, or ranges
 * handed to other threads by mmap(NULL), can be there; probes run while no
 * other operation is in flight (a write lock) and compare against all
 * threads' shadows. Fork children check every mapping of every thread (with
 * MADV_DONTFORK pages gone and MADV_WIPEONFORK pages zero), then modify their
 * copies and churn mappings of their own; the parent's later checks show that
 * nothing leaked back.
 *
 * With -i, a timer signal arrives every N microseconds and its handler maps,
 * checks (zero), writes, purges, protects and unmaps pages of its own, so
 * calls also arrive while a thread is inside the library. (Handlers skip
 * their calls while a thread probes the windows: a range the handler holds
 * could be one a probe expects unmapped.)
 *
 * With -x, a storm thread runs beside the workers (one action every 0 to 2N
 * microseconds, at random): it sends that signal to a random worker, forks
 * while the workers are inside their calls (the child checks and overwrites
 * the storm thread's own pages, maps and unmaps memory of its own, then exits
 * or execs /bin/true or this program in a short run of its own), starts and
 * joins short-lived threads that map memory, and purges and refills its own
 * pages. Fork children must neither hang nor see other data; the parent's
 * pages must not change.
 *
 * With -d, every thread runs for that many seconds instead of -n operations.
 *
 *   shadow [-t threads] [-n ops per thread] [-d seconds] [-S seed] [-f fork one op in N]
 *          [-i usec] [-x usec]
 * Prints "shadow: threads=T ops=N checks=C probes=P forks=F signals=S
 * storm=A storm_forks=K execs=E thread_churn=C crashes=Z mismatches=M
 * errno_mismatches=R failures=X" (mismatches: memory that read wrong;
 * errno_mismatches: a result or errno other than the kernel's; crashes: fork
 * or exec children killed by a signal) and exits 1 when anything differed.
 * Nothing in the operation loop allocates. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/mman.h>

#define PG 4096UL
#define MAXSLOTS 24
#define MAXPAGES 32
#define MAXTHREADS 64
static uintptr_t wbase;         /* the windows: far below the kernel's mmap area */
#define WIN (16UL << 20)        /* each thread's window */
#define DENSE (1UL << 20)       /* where in the window most fixed mappings go */
#define GHOSTS 16

enum { F_FREE = 1, F_DONTFORK = 2, F_WIPE = 4, F_MARK = 8 };

struct slot {
	int used;
	uintptr_t addr;
	size_t pages;
	uint32_t tag[MAXPAGES];   /* 0: zero */
	uint8_t prot[MAXPAGES];
	uint8_t flags[MAXPAGES];
};

struct th {
	pthread_t tid;
	int idx;
	uint64_t rng;
	uintptr_t wlo;
	struct slot s[MAXSLOTS];
	uintptr_t ghost[GHOSTS];
	unsigned nghost;
	uint32_t next_tag;
	uint64_t ops, checks, probes, forks, failures, mism, emism;
};

static struct th ths[MAXTHREADS];
static int nthreads = 4;
static uint64_t nops = 2000;
static uint64_t seed = 1;
static unsigned fork_every = 400;
static pthread_rwlock_t gl;
static int merge_errno;     /* what MADV_MERGEABLE gives here (0 or EINVAL) */
static volatile int stop;
static double deadline;     /* -d: monotonic seconds; 0: run -n operations */
/* Handler statistics, updated with atomics (handlers run on every thread). */
static unsigned long handler_runs, handler_skips, handler_mism, handler_emism;
/* Window probes in flight (writer) and handlers in their calls: a handler
 * maps nothing while a probe runs (Dekker-style, sequentially consistent). */
static int probing, in_handler;

static void hcount(unsigned long *c)
{
	__atomic_add_fetch(c, 1, __ATOMIC_RELAXED);
}

/* Every page of [p, p + n) holds byte v? */
static int bytes_are(const unsigned char *p, size_t n, unsigned char v)
{
	for (size_t i = 0; i < n; i += 64)
		if (p[i] != v || p[i + 63] != v)
			return 0;
	return 1;
}

/* The storm signals: a mapping of the handler's own, which must read zero,
 * then written, partly purged (zero again), made read-only and unmapped. */
static void on_signal(int sig)
{
	(void)sig;
	int saved = errno;
	__atomic_add_fetch(&in_handler, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&probing, __ATOMIC_SEQ_CST)) {
		__atomic_sub_fetch(&in_handler, 1, __ATOMIC_SEQ_CST);
		hcount(&handler_skips);
		errno = saved;
		return;
	}
	unsigned long run = __atomic_add_fetch(&handler_runs, 1, __ATOMIC_RELAXED);
	size_t pages = 1 + (size_t)(run % 4);
	unsigned char *p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		hcount(&handler_emism);
	} else {
		if (!bytes_are(p, pages * PG, 0))
			hcount(&handler_mism);
		memset(p, 0x77, pages * PG);
		int adv = run % 3 == 0 ? MADV_FREE : MADV_DONTNEED;
		if (madvise(p, PG, adv) != 0)
			hcount(&handler_emism);
		else if (adv == MADV_DONTNEED && !bytes_are(p, PG, 0))
			hcount(&handler_mism);
		else if (adv == MADV_FREE && !bytes_are(p, PG, 0) && !bytes_are(p, PG, 0x77))
			hcount(&handler_mism);
		if (pages > 1 && !bytes_are(p + PG, (pages - 1) * PG, 0x77))
			hcount(&handler_mism);
		if (mprotect(p, pages * PG, PROT_READ) != 0)
			hcount(&handler_emism);
		if (pages > 1 && !bytes_are(p + PG, (pages - 1) * PG, 0x77))
			hcount(&handler_mism);
		if (munmap(p, pages * PG) != 0)
			hcount(&handler_emism);
	}
	__atomic_sub_fetch(&in_handler, 1, __ATOMIC_SEQ_CST);
	errno = saved;
}

/* Take the write lock and keep the handlers' mappings out of the way. */
static void probe_lock(pthread_rwlock_t *l)
{
	pthread_rwlock_wrlock(l);
	__atomic_store_n(&probing, 1, __ATOMIC_SEQ_CST);
	while (__atomic_load_n(&in_handler, __ATOMIC_SEQ_CST))
		sched_yield();
}

static void probe_unlock(pthread_rwlock_t *l)
{
	__atomic_store_n(&probing, 0, __ATOMIC_SEQ_CST);
	pthread_rwlock_unlock(l);
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- helpers --------------------------------------------------------------- */

static uint64_t rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t below(struct th *t, uint64_t n)
{
	return rnd(&t->rng) % n;
}

static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(buf) - 2)
		n = (int)sizeof(buf) - 2;
	buf[n++] = '\n';
	if (write(2, buf, (size_t)n) < 0)
		_exit(4);
}

/* FAIL: memory that reads wrong; EFAIL: a result or errno not the kernel's. */
#define FAIL_(t, kind, fmt, ...)                                              \
	do {                                                                  \
		(t)->kind++;                                                  \
		if ((t)->failures++ < 20)                                     \
			say("shadow: thread %d: " fmt, (t)->idx, ##__VA_ARGS__); \
	} while (0)
#define FAIL(t, ...) FAIL_(t, mism, __VA_ARGS__)
#define EFAIL(t, ...) FAIL_(t, emism, __VA_ARGS__)

static inline uint64_t word(uint32_t tag, unsigned i)
{
	uint64_t z = (uint64_t)tag * 0x9e3779b97f4a7c15ULL + i;
	z = (z ^ (z >> 31)) * 0xbf58476d1ce4e5b9ULL;
	return z ^ (z >> 29) ^ 1; /* never the all-zero page */
}

static void fill_page(uintptr_t p, uint32_t tag)
{
	uint64_t *w = (uint64_t *)p;
	for (unsigned i = 0; i < PG / 8; i++)
		w[i] = word(tag, i);
}

static int page_is(uintptr_t p, uint32_t tag)
{
	const uint64_t *w = (const uint64_t *)p;
	for (unsigned i = 0; i < PG / 8; i++)
		if (w[i] != (tag ? word(tag, i) : 0))
			return 0;
	return 1;
}

static int check_page(uintptr_t p, uint32_t tag, uint8_t flags)
{
	if (page_is(p, tag))
		return 1;
	return (flags & F_FREE) && page_is(p, 0);
}

/* Check every readable page of a slot. */
static void check_slot(struct th *t, struct slot *s, const char *after)
{
	for (size_t i = 0; i < s->pages; i++) {
		if (!(s->prot[i] & PROT_READ))
			continue;
		t->checks++;
		if (!check_page(s->addr + i * PG, s->tag[i], s->flags[i]))
			FAIL(t, "after %s: page %zu of %#lx (%zu pages) does not hold %s %u", after, i,
			     (unsigned long)s->addr, s->pages, s->tag[i] ? "pattern" : "zero", s->tag[i]);
	}
}

/* Write new patterns into the writable pages of s from page i to j. */
static void refill(struct th *t, struct slot *s, size_t i, size_t j)
{
	for (; i < j; i++) {
		if (s->prot[i] != (PROT_READ | PROT_WRITE))
			continue;
		uint32_t tag = (uint32_t)(t->idx + 1) << 20 | (++t->next_tag & 0xfffff);
		if (!tag)
			tag = 1;
		fill_page(s->addr + i * PG, tag);
		s->tag[i] = tag;
		s->flags[i] &= (uint8_t)~F_FREE;
	}
}

static struct slot *free_slot(struct th *t)
{
	for (int i = 0; i < MAXSLOTS; i++)
		if (!t->s[i].used)
			return &t->s[i];
	return NULL;
}

static int free_slots(struct th *t)
{
	int n = 0;
	for (int i = 0; i < MAXSLOTS; i++)
		n += !t->s[i].used;
	return n;
}

static struct slot *any_slot(struct th *t)
{
	int k = (int)below(t, MAXSLOTS);
	for (int i = 0; i < MAXSLOTS; i++) {
		struct slot *s = &t->s[(k + i) % MAXSLOTS];
		if (s->used)
			return s;
	}
	return NULL;
}

static void new_slot(struct th *t, struct slot *s, uintptr_t a, size_t pages)
{
	s->used = 1;
	s->addr = a;
	s->pages = pages;
	for (size_t i = 0; i < pages; i++) {
		s->tag[i] = 0;
		s->prot[i] = PROT_READ | PROT_WRITE;
		s->flags[i] = 0;
	}
	/* A new mapping reads zero, every byte. */
	check_slot(t, s, "mmap (zero fill)");
	refill(t, s, 0, pages);
}

static int in_window(struct th *t, uintptr_t a)
{
	return a >= t->wlo && a < t->wlo + WIN;
}

static void add_ghost(struct th *t, uintptr_t a)
{
	if (in_window(t, a))
		t->ghost[t->nghost++ % GHOSTS] = a;
}

/* Remove pages [a, b) from t's slots (they were unmapped or replaced).
 * Returns -1, changing nothing, when a middle split needs a slot there is not. */
static int cut(struct th *t, uintptr_t a, uintptr_t b)
{
	int need = 0;
	for (int i = 0; i < MAXSLOTS; i++) {
		struct slot *s = &t->s[i];
		if (s->used && s->addr < a && s->addr + s->pages * PG > b)
			need++;
	}
	if (need > free_slots(t))
		return -1;
	for (int i = 0; i < MAXSLOTS; i++) {
		struct slot *s = &t->s[i];
		uintptr_t e = s->addr + s->pages * PG;
		if (!s->used || e <= a || s->addr >= b)
			continue;
		if (s->addr >= a && e <= b) {
			s->used = 0;
		} else if (s->addr < a && e > b) {
			struct slot *r = free_slot(t);
			size_t k = (b - s->addr) / PG;
			r->used = 1;
			r->addr = b;
			r->pages = s->pages - k;
			memcpy(r->tag, s->tag + k, r->pages * sizeof(s->tag[0]));
			memcpy(r->prot, s->prot + k, r->pages);
			memcpy(r->flags, s->flags + k, r->pages);
			s->pages = (a - s->addr) / PG;
		} else if (s->addr < a) {
			s->pages = (a - s->addr) / PG;
		} else {
			size_t k = (b - s->addr) / PG;
			memmove(s->tag, s->tag + k, (s->pages - k) * sizeof(s->tag[0]));
			memmove(s->prot, s->prot + k, s->pages - k);
			memmove(s->flags, s->flags + k, s->pages - k);
			s->addr = b;
			s->pages -= k;
		}
	}
	return 0;
}

/* Pages of [a, b) covered by any thread's slots; *own_only: only by t's. */
static size_t covered(struct th *t, uintptr_t a, uintptr_t b, int *own_only)
{
	size_t n = 0;
	*own_only = 1;
	for (int k = 0; k < nthreads; k++) {
		for (int i = 0; i < MAXSLOTS; i++) {
			struct slot *s = &ths[k].s[i];
			if (!s->used)
				continue;
			uintptr_t lo = s->addr > a ? s->addr : a, e = s->addr + s->pages * PG;
			uintptr_t hi = e < b ? e : b;
			if (lo < hi) {
				n += (hi - lo) / PG;
				if (&ths[k] != t)
					*own_only = 0;
			}
		}
	}
	return n;
}

static int uniform(const struct slot *s)
{
	for (size_t i = 1; i < s->pages; i++)
		if (s->prot[i] != s->prot[0] || (s->flags[i] & ~F_FREE) != (s->flags[0] & ~F_FREE))
			return 0;
	return 1;
}

#define EXPECT(t, what, r, want_r, want_errno)                                                       \
	do {                                                                                         \
		long r_ = (long)(r);                                                                 \
		int e_ = errno;                                                                      \
		if (r_ != (long)(want_r) || (r_ == -1 && e_ != (want_errno)))                        \
			EFAIL(t, "%s: got %ld (errno %d), the kernel gives %ld (errno %d)", what, r_, \
			     r_ == -1 ? e_ : 0, (long)(want_r), (long)(want_r) == -1 ? (want_errno) : 0); \
	} while (0)

/* ---- operations on the thread's own mappings (read lock) ------------------- */

static void op_mmap_null(struct th *t)
{
	struct slot *s = free_slot(t);
	if (!s)
		return;
	size_t pages = 1 + below(t, MAXPAGES / 2);
	void *p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		EFAIL(t, "mmap(NULL, %zu pages): errno %d", pages, errno);
		return;
	}
	new_slot(t, s, (uintptr_t)p, pages);
}

static void op_munmap(struct th *t)
{
	struct slot *s = any_slot(t);
	if (!s)
		return;
	size_t i = 0, j = s->pages;
	switch (below(t, 4)) {
	case 0: break;
	case 1: j = 1 + below(t, s->pages); break;
	case 2: i = below(t, s->pages); break;
	default: i = below(t, s->pages); j = i + 1 + below(t, s->pages - i); break;
	}
	uintptr_t a = s->addr + i * PG, b = s->addr + j * PG;
	if (cut(t, a, b) < 0)
		return;
	EXPECT(t, "munmap", munmap((void *)a, b - a), 0, 0);
	add_ghost(t, a);
}

static void op_mprotect(struct th *t)
{
	struct slot *s = any_slot(t);
	if (!s)
		return;
	size_t i = below(t, s->pages), j = i + 1 + below(t, s->pages - i);
	static const int prots[] = { PROT_READ | PROT_WRITE, PROT_READ | PROT_WRITE, PROT_READ, PROT_NONE };
	int prot = prots[below(t, 4)];
	EXPECT(t, "mprotect", mprotect((void *)(s->addr + i * PG), (j - i) * PG, prot), 0, 0);
	for (size_t k = i; k < j; k++)
		s->prot[k] = (uint8_t)prot;
	check_slot(t, s, "mprotect");
}

static void op_madvise(struct th *t)
{
	static const int adv[] = { MADV_DONTNEED, MADV_DONTNEED, MADV_FREE, MADV_WILLNEED, MADV_COLD,
				   MADV_PAGEOUT, MADV_HUGEPAGE, MADV_NOHUGEPAGE, MADV_DONTFORK, MADV_DOFORK,
				   MADV_WIPEONFORK, MADV_KEEPONFORK, MADV_MERGEABLE, MADV_UNMERGEABLE,
				   MADV_RANDOM, MADV_SEQUENTIAL, MADV_NORMAL, MADV_DONTDUMP, MADV_DODUMP };
	struct slot *s = any_slot(t);
	if (!s)
		return;
	size_t i = below(t, s->pages), j = i + 1 + below(t, s->pages - i);
	int a = adv[below(t, sizeof(adv) / sizeof(adv[0]))];
	int want = a == MADV_MERGEABLE ? merge_errno : 0;
	EXPECT(t, "madvise", madvise((void *)(s->addr + i * PG), (j - i) * PG, a), want ? -1 : 0, want);
	for (size_t k = i; k < j; k++) {
		switch (a) {
		case MADV_DONTNEED:
			s->tag[k] = 0;
			s->flags[k] &= (uint8_t)~F_FREE;
			break;
		case MADV_FREE:
			s->flags[k] |= F_FREE;
			break;
		case MADV_DONTFORK: s->flags[k] |= F_DONTFORK | F_MARK; break;
		case MADV_DOFORK: s->flags[k] &= (uint8_t)~F_DONTFORK; s->flags[k] |= F_MARK; break;
		case MADV_WIPEONFORK: s->flags[k] |= F_WIPE | F_MARK; break;
		case MADV_KEEPONFORK: s->flags[k] &= (uint8_t)~F_WIPE; s->flags[k] |= F_MARK; break;
		case MADV_WILLNEED: case MADV_COLD: case MADV_PAGEOUT: break;
		default:
			if (!want)
				s->flags[k] |= F_MARK;
			break;
		}
	}
	check_slot(t, s, "madvise");
	if (a == MADV_DONTNEED || a == MADV_FREE)
		refill(t, s, i, j);
}

static void op_mremap(struct th *t)
{
	struct slot *s = any_slot(t);
	if (!s || !uniform(s) || s->prot[0] != (PROT_READ | PROT_WRITE) || (s->flags[0] & F_MARK))
		return;
	size_t np = 1 + below(t, MAXPAGES);
	uintptr_t old = s->addr;
	void *p = mremap((void *)old, s->pages * PG, np * PG, MREMAP_MAYMOVE);
	if (p == MAP_FAILED) {
		EFAIL(t, "mremap(%#lx, %zu -> %zu pages, MAYMOVE): errno %d", (unsigned long)old, s->pages, np, errno);
		return;
	}
	size_t had = s->pages;
	s->addr = (uintptr_t)p;
	for (size_t k = had; k < np; k++) {
		s->tag[k] = 0;
		s->prot[k] = PROT_READ | PROT_WRITE;
		s->flags[k] = s->flags[0] & (uint8_t)~F_FREE;
	}
	s->pages = np;
	check_slot(t, s, "mremap (kept and zero-filled pages)");
	refill(t, s, had < np ? had : np, np);
	if ((uintptr_t)p != old)
		add_ghost(t, old);
}

static void op_check_all(struct th *t)
{
	for (int i = 0; i < MAXSLOTS; i++)
		if (t->s[i].used)
			check_slot(t, &t->s[i], "nothing (periodic check)");
}

static void op_invalid(struct th *t)
{
	struct slot *s = any_slot(t);
	uintptr_t a = s ? s->addr : t->wlo;
	switch (below(t, 5)) {
	case 0: EXPECT(t, "munmap unaligned", munmap((void *)(a + 1), PG), -1, EINVAL); break;
	case 1: EXPECT(t, "munmap length 0", munmap((void *)a, 0), -1, EINVAL); break;
	case 2: EXPECT(t, "mmap length 0", (long)mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0),
		       (long)MAP_FAILED, EINVAL); break;
	case 3: EXPECT(t, "madvise unaligned", madvise((void *)(a + 8), PG, MADV_DONTNEED), -1, EINVAL); break;
	default: EXPECT(t, "mprotect unaligned", mprotect((void *)(a + 8), PG, PROT_READ), -1, EINVAL); break;
	}
}

/* ---- operations on the window (write lock: nothing else in flight) -------- */

static uintptr_t pick_target(struct th *t, size_t pages)
{
	uintptr_t a;
	unsigned r = (unsigned)below(t, 4);
	if (r < 2 && t->nghost) {
		a = t->ghost[below(t, t->nghost < GHOSTS ? t->nghost : GHOSTS)];
		a += (below(t, 5) - 2) * PG;
	} else if (r == 2) {
		struct slot *s = any_slot(t);
		a = s && in_window(t, s->addr) ? s->addr + s->pages * PG - below(t, 2) * PG : t->wlo;
	} else {
		a = t->wlo + below(t, DENSE / PG) * PG;
	}
	if (a < t->wlo || a + pages * PG > t->wlo + WIN)
		a = t->wlo;
	return a;
}

static void op_window(struct th *t)
{
	size_t pages = 1 + below(t, MAXPAGES / 2);
	uintptr_t a = pick_target(t, pages), b = a + pages * PG;
	int own_only;
	size_t cov = covered(t, a, b, &own_only);
	t->probes++;
	if (cov == 0) {
		struct slot *s = free_slot(t);
		switch (below(t, s ? 9 : 5)) {
		case 0:
			EXPECT(t, "madvise on an unmapped range", madvise((void *)a, b - a, MADV_DONTNEED), -1, ENOMEM);
			return;
		case 1:
			EXPECT(t, "madvise(HUGEPAGE) on an unmapped range", madvise((void *)a, b - a, MADV_HUGEPAGE),
			       -1, ENOMEM);
			return;
		case 2:
			EXPECT(t, "mprotect on an unmapped range", mprotect((void *)a, b - a, PROT_READ), -1, ENOMEM);
			return;
		case 3:
			EXPECT(t, "mremap of an unmapped range",
			       (long)mremap((void *)a, b - a, b - a + PG, MREMAP_MAYMOVE), (long)MAP_FAILED, EFAULT);
			return;
		case 4:
			EXPECT(t, "munmap of an unmapped range", munmap((void *)a, b - a), 0, 0);
			return;
		default: {
			static const int how[] = { MAP_FIXED, MAP_FIXED_NOREPLACE, 0 };
			int f = how[below(t, 3)];
			void *p = mmap((void *)a, b - a, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | f, -1, 0);
			EXPECT(t, f == MAP_FIXED ? "mmap MAP_FIXED over an unmapped range"
			       : f ? "mmap MAP_FIXED_NOREPLACE over an unmapped range" : "mmap with a free hint",
			       (long)p, (long)a, 0);
			if (p == (void *)a)
				new_slot(t, s, a, pages);
			else if (p != MAP_FAILED)
				munmap(p, b - a);
			return;
		}
		}
	}
	if (!own_only || below(t, 3) == 0) {
		/* Someone's mapping there: only calls that change nothing. */
		if (below(t, 2))
			EXPECT(t, "mmap MAP_FIXED_NOREPLACE over a mapping",
			       (long)mmap((void *)a, b - a, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE,
					  -1, 0), (long)MAP_FAILED, EEXIST);
		else if (cov == pages)
			EXPECT(t, "madvise(WILLNEED) on mapped pages", madvise((void *)a, b - a, MADV_WILLNEED), 0, 0);
		else
			EXPECT(t, "madvise(WILLNEED) across a hole", madvise((void *)a, b - a, MADV_WILLNEED), -1, ENOMEM);
		return;
	}
	/* Only this thread's mappings: replace them with MAP_FIXED. */
	if (free_slots(t) < 2 || cut(t, a, b) < 0)
		return;
	struct slot *s = free_slot(t);
	void *p = mmap((void *)a, b - a, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	EXPECT(t, "mmap MAP_FIXED over own mappings", (long)p, (long)a, 0);
	if (p == (void *)a)
		new_slot(t, s, a, pages);
}

/* mremap to a fixed free place in the window. */
static void op_mremap_fixed(struct th *t)
{
	struct slot *s = any_slot(t);
	if (!s || !uniform(s) || s->prot[0] != (PROT_READ | PROT_WRITE) || (s->flags[0] & F_MARK))
		return;
	uintptr_t to = pick_target(t, s->pages), end = to + s->pages * PG;
	int own_only;
	if (covered(t, to, end, &own_only) || (to < s->addr + s->pages * PG && end > s->addr))
		return;
	uintptr_t old = s->addr;
	void *p = mremap((void *)old, s->pages * PG, s->pages * PG, MREMAP_MAYMOVE | MREMAP_FIXED, (void *)to);
	EXPECT(t, "mremap MREMAP_FIXED to a free range", (long)p, (long)to, 0);
	if (p != (void *)to)
		return;
	s->addr = to;
	check_slot(t, s, "mremap MREMAP_FIXED");
	add_ghost(t, old);
}

/* ---- fork ------------------------------------------------------------------- */

static uint64_t child_failures;
static unsigned long crashes;   /* children killed by a signal (atomics) */

#define CFAIL(...)                                          \
	do {                                                \
		if (child_failures++ < 20)                  \
			say("shadow: fork child: " __VA_ARGS__); \
	} while (0)

/* Does page p hold tag's pattern? Read without faulting (the page may be
 * anyone's mapping, unreadable). */
static int holds_tag(uintptr_t p, uint32_t tag)
{
	static uint64_t buf[PG / 8];
	struct iovec l = { buf, PG }, r = { (void *)p, PG };
	if (process_vm_readv(getpid(), &l, 1, &r, 1, 0) != (ssize_t)PG)
		return 0;
	for (unsigned i = 0; i < PG / 8; i++)
		if (buf[i] != word(tag, i))
			return 0;
	return 1;
}

/* Churn n mappings of the child's own: zero fill, no parent range handed out. */
static void child_churn(uint64_t rs, int count)
{
	for (int n = 0; n < count; n++) {
		size_t pages = 1 + rnd(&rs) % MAXPAGES;
		unsigned char *p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			CFAIL("mmap: errno %d", errno);
			continue;
		}
		for (size_t i = 0; i < pages; i++)
			if (!page_is((uintptr_t)p + i * PG, 0))
				CFAIL("new mapping %p page %zu is not zero", (void *)p, i);
		memset(p, 0x5a, pages * PG);
		if (munmap(p, pages * PG) != 0)
			CFAIL("munmap: errno %d", errno);
	}
}

static void child_run(uint64_t rs)
{
	for (int k = 0; k < nthreads; k++) {
		for (int i = 0; i < MAXSLOTS; i++) {
			struct slot *s = &ths[k].s[i];
			if (!s->used)
				continue;
			for (size_t p = 0; p < s->pages; p++) {
				uintptr_t a = s->addr + p * PG;
				if (s->flags[p] & F_DONTFORK) {
					/* Not copied: unmapped, or (when something in the child,
					 * a library's fork handler say, mapped memory into the
					 * hole) anything but the parent's data. */
					errno = 0;
					if (madvise((void *)a, PG, MADV_WILLNEED) != -1 || errno != ENOMEM) {
						if (s->tag[p] && holds_tag(a, s->tag[p]))
							CFAIL("MADV_DONTFORK page %#lx has its data in the child",
							      (unsigned long)a);
					}
					continue;
				}
				if (!(s->prot[p] & PROT_READ))
					continue;
				uint32_t tag = (s->flags[p] & F_WIPE) ? 0 : s->tag[p];
				if (!check_page(a, tag, s->flags[p]))
					CFAIL("page %#lx does not hold its parent's contents", (unsigned long)a);
				/* Modify the copy: the parent must not see it. */
				if (s->prot[p] == (PROT_READ | PROT_WRITE))
					fill_page(a, 0xdead0000u + (uint32_t)p);
			}
		}
	}
	child_churn(rs, 64);
	_exit(child_failures ? 1 : 0);
}

/* waitpid for a child; 1 when it exited 0. A child killed by a signal is a crash. */
static int child_ok(pid_t pid, int *st)
{
	pid_t r;
	do
		r = waitpid(pid, st, 0);
	while (r < 0 && errno == EINTR);
	if (r == pid && WIFSIGNALED(*st))
		hcount(&crashes);
	return r == pid && WIFEXITED(*st) && WEXITSTATUS(*st) == 0;
}

static void op_fork(struct th *t)
{
	t->forks++;
	pid_t pid = fork();
	if (pid < 0) {
		EFAIL(t, "fork: errno %d", errno);
		return;
	}
	if (pid == 0)
		child_run(t->rng);
	int st = 0;
	if (!child_ok(pid, &st))
		FAIL(t, "fork child failed (status %#x)", st);
	op_check_all(t);
}

/* ---- the storm (-x) ------------------------------------------------------------ */

static long storm_usec;
static struct th storm;                 /* slot 0: its own pages, never unmapped */
static uint64_t storm_forks, storm_execs, thread_churns;
static int workers_done;                /* atomics */
static unsigned long churn_mism, churn_emism;
static char exec_seed[32];
static char *const true_argv[] = { "true", NULL };
static char *exec_argv[] = { "shadow", "-t", "2", "-n", "300", "-f", "40", "-i", "500", "-S", exec_seed, NULL };

/* A fork taken while the workers are inside their calls: the storm thread's
 * pages are as the parent left them; overwrite them, map memory, then exit
 * or exec. Only system calls here (the other threads are gone). */
static void storm_child(uint64_t rs)
{
	struct slot *s = &storm.s[0];
	for (size_t p = 0; p < s->pages; p++) {
		if (!check_page(s->addr + p * PG, s->tag[p], s->flags[p]))
			CFAIL("storm page %zu does not hold its parent's contents", p);
		fill_page(s->addr + p * PG, 0xbeef0000u + (uint32_t)p);
	}
	child_churn(rs, 16);
	if (child_failures)
		_exit(1);
	switch ((rs >> 8) % 4) {
	case 0:
		execv("/bin/true", true_argv);
		_exit(127);
	case 1: {
		int fd = open("/dev/null", O_WRONLY);
		if (fd >= 0)
			dup2(fd, 1);
		execv("/proc/self/exe", exec_argv);
		_exit(127);
	}
	default:
		_exit(0);
	}
}

static void storm_fork(struct th *t)
{
	uint64_t rs = rnd(&t->rng);
	snprintf(exec_seed, sizeof(exec_seed), "%llu", (unsigned long long)(rs >> 16));
	if ((rs >> 8) % 4 < 2)
		storm_execs++;
	storm_forks++;
	pid_t pid = fork();
	if (pid < 0) {
		EFAIL(t, "fork: errno %d", errno);
		return;
	}
	if (pid == 0)
		storm_child(rs);
	int st = 0;
	if (!child_ok(pid, &st))
		FAIL(t, "storm fork child failed (status %#x)", st);
	check_slot(t, &t->s[0], "a fork child wrote its copy");
}

/* A short-lived thread: maps, checks, partly unmaps and unmaps memory. */
static void *churn_thread(void *arg)
{
	uint64_t rs = (uintptr_t)arg;
	for (int n = 0; n < 8; n++) {
		size_t pages = 2 + rnd(&rs) % MAXPAGES;
		unsigned char *p = mmap(NULL, pages * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			hcount(&churn_emism);
			continue;
		}
		if (!bytes_are(p, pages * PG, 0))
			hcount(&churn_mism);
		memset(p, 0x3c, pages * PG);
		if (munmap(p, PG) != 0)
			hcount(&churn_emism);
		if (!bytes_are(p + PG, (pages - 1) * PG, 0x3c))
			hcount(&churn_mism);
		if (munmap(p + PG, (pages - 1) * PG) != 0)
			hcount(&churn_emism);
	}
	return NULL;
}

static void *storm_run(void *arg)
{
	struct th *t = arg;
	struct slot *s = &t->s[0];
	while (__atomic_load_n(&workers_done, __ATOMIC_ACQUIRE) < nthreads) {
		long us = (long)below(t, 2 * (uint64_t)storm_usec + 1);
		struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
		nanosleep(&ts, NULL);
		t->ops++;
		unsigned r = (unsigned)below(t, 100);
		if (r < 40) {
			pthread_kill(ths[below(t, (uint64_t)nthreads)].tid, SIGUSR1);
		} else if (r < 55) {
			storm_fork(t);
		} else if (r < 65) {
			/* Its mappings come from mmap(NULL): keep window probes out meanwhile. */
			pthread_t tid;
			pthread_rwlock_rdlock(&gl);
			if (pthread_create(&tid, NULL, churn_thread, (void *)(uintptr_t)rnd(&t->rng)) == 0) {
				pthread_join(tid, NULL);
				thread_churns++;
			}
			pthread_rwlock_unlock(&gl);
		} else if (r < 85) {
			size_t i = below(t, s->pages), j = i + 1 + below(t, s->pages - i);
			int a = r < 75 ? MADV_DONTNEED : MADV_FREE;
			EXPECT(t, "madvise (storm pages)", madvise((void *)(s->addr + i * PG), (j - i) * PG, a), 0, 0);
			for (size_t k = i; k < j; k++) {
				if (a == MADV_DONTNEED)
					s->tag[k] = 0;
				else
					s->flags[k] |= F_FREE;
			}
			check_slot(t, s, "madvise (storm pages)");
			refill(t, s, i, j);
		} else {
			size_t i = below(t, s->pages), j = i + 1 + below(t, s->pages - i);
			EXPECT(t, "mprotect (storm pages)",
			       mprotect((void *)(s->addr + i * PG), (j - i) * PG, PROT_READ), 0, 0);
			check_slot(t, s, "mprotect (storm pages)");
			EXPECT(t, "mprotect (storm pages)",
			       mprotect((void *)(s->addr + i * PG), (j - i) * PG, PROT_READ | PROT_WRITE), 0, 0);
			refill(t, s, i, j);
		}
	}
	return NULL;
}

/* ---- main loop ---------------------------------------------------------------- */

static void *work(void *arg)
{
	struct th *t = arg;
	for (uint64_t n = 0; (deadline > 0 ? (n & 15) || now() < deadline : n < nops) && !stop; n++) {
		unsigned r = (unsigned)below(t, 100);
		t->ops++;
		if (fork_every && below(t, fork_every) == 0) {
			pthread_rwlock_wrlock(&gl);
			op_fork(t);
			pthread_rwlock_unlock(&gl);
			continue;
		}
		if (r < 20) {
			probe_lock(&gl);
			if (r < 17)
				op_window(t);
			else
				op_mremap_fixed(t);
			probe_unlock(&gl);
			continue;
		}
		pthread_rwlock_rdlock(&gl);
		if (r < 40)
			op_mmap_null(t);
		else if (r < 60)
			op_munmap(t);
		else if (r < 68)
			op_mprotect(t);
		else if (r < 85)
			op_madvise(t);
		else if (r < 92)
			op_mremap(t);
		else if (r < 95)
			op_invalid(t);
		else
			op_check_all(t);
		pthread_rwlock_unlock(&gl);
		if (t->failures >= 20)
			stop = 1;
	}
	op_check_all(t);
	__atomic_add_fetch(&workers_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: shadow [-t threads] [-n ops per thread] [-d seconds] [-S seed]"
			" [-f fork one op in N, 0 = never] [-i timer signal every N usec] [-x storm every N usec]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int c;
	long interval = 0;
	double seconds = 0;
	while ((c = getopt(argc, argv, "t:n:d:S:f:i:x:")) != -1) {
		switch (c) {
		case 't': nthreads = atoi(optarg); break;
		case 'n': nops = strtoull(optarg, NULL, 0); break;
		case 'S': seed = strtoull(optarg, NULL, 0); break;
		case 'f': fork_every = (unsigned)strtoul(optarg, NULL, 0); break;
		case 'i': interval = strtol(optarg, NULL, 0); break;
		case 'x': storm_usec = strtol(optarg, NULL, 0); break;
		case 'd': seconds = strtod(optarg, NULL); break;
		default: usage();
		}
	}
	if (optind != argc || nthreads < 1 || nthreads > MAXTHREADS || storm_usec < 0 || seconds < 0)
		usage();
	/* The storm thread's own pages (mapped before the windows are chosen). */
	storm.idx = nthreads;
	storm.rng = seed * 0x9e3779b97f4a7c15ULL + 0x5bd1e995;
	if (storm_usec) {
		void *sp = mmap(NULL, 16 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (sp == MAP_FAILED) {
			fprintf(stderr, "shadow: mmap for the storm thread failed\n");
			return 2;
		}
		new_slot(&storm, &storm.s[0], (uintptr_t)sp, 16);
	}
	/* What this kernel says to MADV_MERGEABLE (no KSM: EINVAL). */
	void *m = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	merge_errno = madvise(m, PG, MADV_MERGEABLE) ? errno : 0;
	munmap(m, PG);
	/* The windows must be free (nothing the kernel placed there; AddressSanitizer
	 * keeps its shadow at 16 TiB). */
	static const uintptr_t bases[] = { 0x300000000000UL, 0x200000000000UL, 0x100000000000UL };
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]) && !wbase; i++) {
		void *w = mmap((void *)bases[i], WIN * (size_t)nthreads, PROT_NONE,
			       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | MAP_NORESERVE, -1, 0);
		if (w == (void *)bases[i])
			wbase = bases[i];
		if (w != MAP_FAILED)
			munmap(w, WIN * (size_t)nthreads);
	}
	if (!wbase) {
		fprintf(stderr, "shadow: no free address range for the test windows\n");
		return 2;
	}
	pthread_rwlockattr_t ra;
	pthread_rwlockattr_init(&ra);
	pthread_rwlockattr_setkind_np(&ra, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
	pthread_rwlock_init(&gl, &ra);
	for (int i = 0; i < nthreads; i++) {
		ths[i].idx = i;
		ths[i].rng = seed * 0x2545f4914f6cdd1dULL + (uint64_t)i * 0x9e3779b97f4a7c15ULL;
		ths[i].wlo = wbase + (uintptr_t)i * WIN;
	}
	if (interval > 0 || storm_usec > 0) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_signal;
		sa.sa_flags = SA_RESTART;
		sigemptyset(&sa.sa_mask);
		sigaddset(&sa.sa_mask, SIGALRM);
		sigaddset(&sa.sa_mask, SIGUSR1);
		sigaction(SIGALRM, &sa, NULL);
		sigaction(SIGUSR1, &sa, NULL);
	}
	if (interval > 0) {
		struct itimerval it = { { 0, interval }, { 0, interval } };
		setitimer(ITIMER_REAL, &it, NULL);
	}
	if (seconds > 0)
		deadline = now() + seconds;
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&ths[i].tid, NULL, work, &ths[i]) != 0) {
			fprintf(stderr, "shadow: pthread_create failed\n");
			return 2;
		}
	pthread_t storm_tid;
	if (storm_usec > 0 && pthread_create(&storm_tid, NULL, storm_run, &storm) != 0) {
		fprintf(stderr, "shadow: pthread_create failed\n");
		return 2;
	}
	if (storm_usec > 0)
		pthread_join(storm_tid, NULL);
	uint64_t ops = 0, checks = 0, probes = 0, forks = 0, failures = 0, mism = 0, emism = 0;
	for (int i = 0; i < nthreads; i++) {
		pthread_join(ths[i].tid, NULL);
		ops += ths[i].ops;
		checks += ths[i].checks;
		probes += ths[i].probes;
		forks += ths[i].forks;
		failures += ths[i].failures;
		mism += ths[i].mism;
		emism += ths[i].emism;
	}
	if (interval > 0) {
		struct itimerval off = { { 0, 0 }, { 0, 0 } };
		setitimer(ITIMER_REAL, &off, NULL);
	}
	if (storm_usec > 0)
		op_check_all(&storm);
	unsigned long hm = __atomic_load_n(&handler_mism, __ATOMIC_RELAXED) + churn_mism;
	unsigned long he = __atomic_load_n(&handler_emism, __ATOMIC_RELAXED) + churn_emism;
	if (hm || he)
		fprintf(stderr, "shadow: signal handlers and short-lived threads: %lu mismatches, %lu errno mismatches\n",
			hm, he);
	mism += storm.mism + hm;
	emism += storm.emism + he;
	failures += storm.failures + hm + he;
	unsigned long nc = __atomic_load_n(&crashes, __ATOMIC_RELAXED);
	printf("shadow: threads=%d ops=%llu checks=%llu probes=%llu forks=%llu signals=%lu storm=%llu storm_forks=%llu"
	       " execs=%llu thread_churn=%llu crashes=%lu mismatches=%llu errno_mismatches=%llu failures=%llu\n",
	       nthreads, (unsigned long long)ops, (unsigned long long)(checks + storm.checks),
	       (unsigned long long)probes, (unsigned long long)forks, handler_runs, (unsigned long long)storm.ops,
	       (unsigned long long)storm_forks, (unsigned long long)storm_execs, (unsigned long long)thread_churns, nc,
	       (unsigned long long)mism, (unsigned long long)emism, (unsigned long long)failures);
	return failures ? 1 : 0;
}
