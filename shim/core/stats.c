/* stats.c - per-thread counter slots, merged at report time. */
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include "core/stats.h"
#include "sys/ownmem.h"
#include "sys/ownsys.h"
#include "core/hot.h"

#define MV_SLOTS 1024
#define PMD_SIZE (2UL << 20)

enum { TLS_NONE, TLS_CLAIMING, TLS_OWN, TLS_EXITED };

struct slot {
	struct mv_stats s;
};

static struct slot *slot_mem[MV_SLOTS];   /* mapped on first claim, never freed */
static int slot_owned[MV_SLOTS];
static struct mv_stats shared;            /* updated with atomic adds */
static pthread_key_t slot_key;
static int threads_ready;

static __thread int tls_state __attribute__((tls_model("initial-exec")));
static __thread struct slot *tls_slot __attribute__((tls_model("initial-exec")));
static __thread int tls_index __attribute__((tls_model("initial-exec")));

int mv_stats_advice_row(int advice)
{
	if (advice >= 0 && advice <= 26)
		return advice;
	if (advice >= 100 && advice <= 103) /* HWPOISON, SOFT_OFFLINE, GUARD_INSTALL, GUARD_REMOVE */
		return 27 + (advice - 100);
	return MV_MADV_ROWS - 1;
}

int mv_stats_row_advice(int row)
{
	if (row >= 0 && row <= 26)
		return row;
	if (row >= 27 && row <= 30)
		return 100 + (row - 27);
	return -1;
}

static inline int row_of(const struct mv_request *q)
{
	switch (q->kind) {
	case MV_MADVISE:
		return MV_ROW_MADVISE + mv_stats_advice_row(q->advice);
	case MV_PROCESS_MADVISE:
		return MV_ROW_PROCESS_MADVISE + mv_stats_advice_row(q->advice);
	case MV_POSIX_MADVISE:
		return MV_ROW_POSIX_MADVISE + ((unsigned)q->advice <= 4 ? q->advice : 0);
	case MV_MUNMAP:
		return MV_ROW_MUNMAP;
	case MV_MMAP:
		if (!(q->flags & MAP_ANONYMOUS))
			return MV_ROW_MMAP_FILE;
		return (q->flags & MAP_SHARED) ? MV_ROW_MMAP_ANON_SHARED : MV_ROW_MMAP_ANON_PRIVATE;
	case MV_MREMAP:
		return MV_ROW_MREMAP;
	case MV_MPROTECT:
	case MV_KIND_COUNT:
		break;
	}
	return MV_ROW_MPROTECT;
}

int mv_stats_row(const struct mv_request *q)
{
	return row_of(q);
}

int mv_stats_bucket(size_t bytes)
{
	if (bytes < 4096)
		return 0;
	int b = 63 - __builtin_clzl(bytes) - 11; /* 4 KiB -> 1 */
	return b < MV_HIST_BUCKETS ? b : MV_HIST_BUCKETS - 1;
}

uint64_t mv_stats_bucket_floor(int bucket)
{
	return bucket <= 0 ? 0 : 1ULL << (bucket + 11);
}

static int covers_pmd(uintptr_t a, size_t len)
{
	uintptr_t start = (a + PMD_SIZE - 1) & ~(PMD_SIZE - 1);
	return len >= PMD_SIZE && start >= a && start - a <= len - PMD_SIZE;
}

/* ---- slot ownership -------------------------------------------------- */

static void slot_release(void *p)
{
	(void)p;
	if (tls_state != TLS_OWN)
		return;
	tls_state = TLS_EXITED;
	tls_slot = NULL;
	__atomic_store_n(&slot_owned[tls_index], 0, __ATOMIC_RELEASE);
}

void mv_stats_init_threads(void)
{
	if (threads_ready)
		return;
	if (pthread_key_create(&slot_key, slot_release) == 0)
		__atomic_store_n(&threads_ready, 1, __ATOMIC_RELEASE);
}

static struct mv_stats *slot_claim(void)
{
	tls_state = TLS_CLAIMING;
	__atomic_signal_fence(__ATOMIC_SEQ_CST);
	for (int i = 0; i < MV_SLOTS; i++) {
		int expect = 0;
		if (__atomic_load_n(&slot_owned[i], __ATOMIC_RELAXED) ||
		    !__atomic_compare_exchange_n(&slot_owned[i], &expect, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			continue;
		struct slot *s = __atomic_load_n(&slot_mem[i], __ATOMIC_ACQUIRE);
		if (!s) {
			s = mv_ownmem_alloc(sizeof(struct slot));
			if (!s) {
				__atomic_store_n(&slot_owned[i], 0, __ATOMIC_RELEASE);
				break;
			}
			__atomic_store_n(&slot_mem[i], s, __ATOMIC_RELEASE);
		}
		tls_index = i;
		/* The key's destructor hands the slot back when the thread exits;
		 * without it the slot would stay owned, so keep using "shared". */
		if (pthread_setspecific(slot_key, s) != 0) {
			__atomic_store_n(&slot_owned[i], 0, __ATOMIC_RELEASE);
			break;
		}
		__atomic_signal_fence(__ATOMIC_SEQ_CST);
		tls_state = TLS_OWN;
		tls_slot = s;
		return &s->s;
	}
	tls_state = TLS_EXITED; /* no slot: this thread uses the shared one */
	return NULL;
}

/* tls_slot is set exactly while the thread owns a slot (state TLS_OWN). */
static inline struct mv_stats *my_stats(void)
{
	struct slot *s = tls_slot;
	if (__builtin_expect(s != NULL, 1))
		return &s->s;
	if (tls_state == TLS_NONE && __atomic_load_n(&threads_ready, __ATOMIC_ACQUIRE))
		return slot_claim();
	return NULL;
}

/* ---- recording --------------------------------------------------------- */

/* Whether a row lives in this thread's own slot (else in the shared one). */
static inline int my_owns(const struct mv_stat_row *r)
{
	const struct slot *s = tls_slot;
	return s && (const void *)r >= (const void *)s && (const void *)r < (const void *)(s + 1);
}

/* Add to a counter. A thread's own slot has one writer, but a signal handler
 * on that thread may record in the middle of an update: on x86 a single
 * non-locked add instruction cannot be split by a signal, so it is both cheap
 * and exact. Shared counters use atomic adds. */
static inline void bump(uint64_t *c, uint64_t v, int own)
{
#if defined(__x86_64__)
	if (own) {
		__asm__ volatile("addq %1, %0" : "+m"(*c) : "er"(v) : "cc");
		return;
	}
#endif
	(void)own;
	__atomic_fetch_add(c, v, __ATOMIC_RELAXED);
}

void mv_stats_set_time_every(unsigned n)
{
	unsigned p = 1;
	while (n && p <= n / 2)
		p *= 2;
	mv_hot.time_mask = p - 1;
}

/* ranges is only kept for process_madvise; for other kinds it equals calls
 * less errors, filled in at merge time. */
static inline void count_range(struct mv_stat_row *r, const void *addr, size_t len, int own)
{
	bump(&r->bytes, len, own);
	bump(&r->hist[mv_stats_bucket(len)], 1, own);
	if (__builtin_expect(len >= PMD_SIZE, 0) && covers_pmd((uintptr_t)addr, len))
		bump(&r->pmd_calls, 1, own);
}

static inline struct mv_stat_row *begin(struct mv_stats *st, const struct mv_request *q, int *timed, int own)
{
	struct mv_stat_row *r = &st->row[row_of(q)];
	*timed = !(__atomic_load_n(&r->calls, __ATOMIC_RELAXED) & mv_hot.time_mask);
	bump(&r->calls, 1, own);
	/* process_madvise: what was advised is known only afterwards. */
	if (q->kind != MV_PROCESS_MADVISE)
		count_range(r, q->addr, q->len, own);
	return r;
}

__attribute__((cold, noinline)) static struct mv_stat_row *begin_slow(const struct mv_request *q, int *timed)
{
	struct mv_stats *mine = my_stats();
	return mine ? begin(mine, q, timed, 1) : begin(&shared, q, timed, 0);
}

__attribute__((hot)) struct mv_stat_row *mv_stats_begin(const struct mv_request *q, int *timed)
{
	struct slot *s = tls_slot;
	if (__builtin_expect(s != NULL, 1))
		return begin(&s->s, q, timed, 1);
	return begin_slow(q, timed);
}

/* A failed call, or a process_madvise whose ranges are known only now. */
__attribute__((cold, noinline)) static void end_slow(struct mv_stat_row *r, const struct mv_request *q, long result)
{
	int own = my_owns(r);
	if (mv_raw_failed(result)) {
		bump(&r->errors, 1, own);
		if (q->kind != MV_PROCESS_MADVISE) {
			/* A failed call advised nothing: take back what begin counted. */
			bump(&r->bytes, (uint64_t)0 - q->len, own);
			bump(&r->hist[mv_stats_bucket(q->len)], (uint64_t)-1, own);
			if (covers_pmd((uintptr_t)q->addr, q->len))
				bump(&r->pmd_calls, (uint64_t)-1, own);
		}
		return;
	}
	/* process_madvise succeeded: the kernel read the iovec, so it is readable. */
	bump(&r->bytes, (uint64_t)result, own);
	for (size_t i = 0; i < q->vlen; i++) {
		bump(&r->ranges, 1, own);
		bump(&r->hist[mv_stats_bucket(q->iov[i].iov_len)], 1, own);
		if (covers_pmd((uintptr_t)q->iov[i].iov_base, q->iov[i].iov_len))
			bump(&r->pmd_calls, 1, own);
	}
}

__attribute__((hot)) void mv_stats_end(struct mv_stat_row *r, const struct mv_request *q, long result,
				       uint64_t ticks, int timed)
{
	if (__builtin_expect(timed, 0)) {
		int own = my_owns(r);
		bump(&r->ticks, ticks, own);
		bump(&r->timed, 1, own);
	}
	if (__builtin_expect(mv_raw_failed(result) || q->kind == MV_PROCESS_MADVISE, 0))
		end_slow(r, q, result);
}

void mv_stats_record(const struct mv_request *q, long result, uint64_t ticks)
{
	int timed;
	struct mv_stat_row *r = mv_stats_begin(q, &timed);
	mv_stats_end(r, q, result, ticks, 1);
}

void mv_stats_policy(int counter, uint64_t v)
{
	struct mv_stats *mine = my_stats();
	bump(&(mine ? mine : &shared)->policy[counter], v, mine != NULL);
}

const char *mv_stats_policy_name(int counter)
{
	static const char *const names[MV_POL_COUNT] = { "kernel_calls", "converted", "pmd_cores",
							  "pmd_core_bytes", "pmd_cores_remapped" };
	return names[counter];
}

/* ---- merging ------------------------------------------------------------ */

static void add_atomic(struct mv_stats *dst, const struct mv_stats *src)
{
	const uint64_t *s = (const uint64_t *)src;
	uint64_t *d = (uint64_t *)dst;
	for (size_t i = 0; i < sizeof(*src) / sizeof(uint64_t); i++)
		d[i] += __atomic_load_n(&s[i], __ATOMIC_RELAXED);
}

void mv_stats_merge(struct mv_stats *out)
{
	memset(out, 0, sizeof(*out));
	add_atomic(out, &shared);
	for (int i = 0; i < MV_SLOTS; i++) {
		struct slot *s = __atomic_load_n(&slot_mem[i], __ATOMIC_ACQUIRE);
		if (s)
			add_atomic(out, &s->s);
	}
	for (int i = 0; i < MV_ROW_COUNT; i++)
		if (i < MV_ROW_PROCESS_MADVISE || i >= MV_ROW_POSIX_MADVISE)
			out->row[i].ranges = out->row[i].calls - out->row[i].errors;
}

static void reset(void)
{
	memset(&shared, 0, sizeof(shared));
	for (int i = 0; i < MV_SLOTS; i++)
		if (slot_mem[i])
			memset(slot_mem[i], 0, sizeof(struct slot));
}

void mv_stats_atfork_child(void)
{
	/* Only the forking thread exists in the child: every other slot is free. */
	for (int i = 0; i < MV_SLOTS; i++)
		slot_owned[i] = (tls_state == TLS_OWN && i == tls_index);
	reset();
}

/* ---- names ---------------------------------------------------------------- */

static const char *const advice_names[MV_MADV_ROWS] = {
	"MADV_NORMAL", "MADV_RANDOM", "MADV_SEQUENTIAL", "MADV_WILLNEED", "MADV_DONTNEED",
	"advice-5", "advice-6", "advice-7", "MADV_FREE", "MADV_REMOVE", "MADV_DONTFORK",
	"MADV_DOFORK", "MADV_MERGEABLE", "MADV_UNMERGEABLE", "MADV_HUGEPAGE", "MADV_NOHUGEPAGE",
	"MADV_DONTDUMP", "MADV_DODUMP", "MADV_WIPEONFORK", "MADV_KEEPONFORK", "MADV_COLD",
	"MADV_PAGEOUT", "MADV_POPULATE_READ", "MADV_POPULATE_WRITE", "MADV_DONTNEED_LOCKED",
	"MADV_COLLAPSE", "advice-26", "MADV_HWPOISON", "MADV_SOFT_OFFLINE", "MADV_GUARD_INSTALL",
	"MADV_GUARD_REMOVE", "other",
};

static const char *const posix_names[5] = {
	"POSIX_MADV_NORMAL", "POSIX_MADV_RANDOM", "POSIX_MADV_SEQUENTIAL",
	"POSIX_MADV_WILLNEED", "POSIX_MADV_DONTNEED",
};

const char *mv_stats_row_kind(int row)
{
	if (row < MV_ROW_PROCESS_MADVISE)
		return "madvise";
	if (row < MV_ROW_POSIX_MADVISE)
		return "process_madvise";
	if (row < MV_ROW_MUNMAP)
		return "posix_madvise";
	switch (row) {
	case MV_ROW_MUNMAP:
		return "munmap";
	case MV_ROW_MMAP_ANON_PRIVATE:
	case MV_ROW_MMAP_ANON_SHARED:
	case MV_ROW_MMAP_FILE:
		return "mmap";
	case MV_ROW_MREMAP:
		return "mremap";
	default:
		return "mprotect";
	}
}

const char *mv_stats_row_detail(int row)
{
	if (row < MV_ROW_PROCESS_MADVISE)
		return advice_names[row - MV_ROW_MADVISE];
	if (row < MV_ROW_POSIX_MADVISE)
		return advice_names[row - MV_ROW_PROCESS_MADVISE];
	if (row < MV_ROW_MUNMAP)
		return posix_names[row - MV_ROW_POSIX_MADVISE];
	switch (row) {
	case MV_ROW_MMAP_ANON_PRIVATE:
		return "anon-private";
	case MV_ROW_MMAP_ANON_SHARED:
		return "anon-shared";
	case MV_ROW_MMAP_FILE:
		return "file";
	default:
		return "";
	}
}
