/* churn.c - a multi-threaded allocator workload: grow, shrink, idle, repeat.
 *
 * Each thread repeats three phases until its time (-s) or op budget (-n) is
 * spent:
 *   grow    2 x live-cap operations on random slots: an occupied slot is
 *           freed, then a new object of a random size (log-uniform between
 *           16 B and --max-size, one octave picked uniformly, then a uniform
 *           size inside it) is allocated and every page of it written;
 *   shrink  about 90% of the live objects are freed;
 *   idle    a short sleep, so that decay-based purging (jemalloc's decay,
 *           tcmalloc's release, mimalloc's purge delay) gets to run.
 * One allocation in eight is a calloc whose zero-fill is checked, and every
 * object's page bytes are checked before it is freed: a purge that lost data
 * or returned stale pages makes the program exit with status 3.
 *
 * The op sequence of each thread depends only on the seed (-S) and the thread
 * index; with -n the op count is exact and reproducible.
 *
 * Output, one line on stdout:
 *   churn: threads=2 seconds=3.00 ops=N ops_per_sec=N peak_live_bytes=N
 * With --progress-ms MS, also one line on stderr every MS milliseconds:
 *   churn_progress: t_s=T ops=N cpu_s=C
 * (time since the start, ops done by all threads, the process's CPU time:
 * madvisor's thread included), so that a run can be cut into phases. */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "wl.h"

#define PAGE 4096u

struct config {
	unsigned threads;
	double seconds;
	uint64_t seed;
	uint64_t max_size;
	uint64_t live_cap;     /* objects kept live per thread at most */
	uint64_t ops;          /* per thread; 0 = bounded by seconds */
	unsigned idle_ms;
	unsigned progress_ms;  /* 0: no progress lines */
};

struct object {
	unsigned char *p;
	size_t size;
	unsigned char tag;
};

struct worker {
	pthread_t tid;
	unsigned index;
	uint64_t ops;
};

static struct config cfg = {
	.threads = 2, .seconds = 3.0, .seed = 1, .max_size = 256 * 1024,
	.live_cap = 1024, .ops = 0, .idle_ms = 50,
};
static uint64_t deadline_ns;
static atomic_ullong live_bytes, peak_bytes;
static atomic_ulong corrupt;
static atomic_uint finished; /* threads done */

static void add_live(size_t n)
{
	unsigned long long now = atomic_fetch_add_explicit(&live_bytes, n, memory_order_relaxed) + n;
	unsigned long long peak = atomic_load_explicit(&peak_bytes, memory_order_relaxed);
	while (now > peak &&
	       !atomic_compare_exchange_weak_explicit(&peak_bytes, &peak, now, memory_order_relaxed,
						      memory_order_relaxed))
		;
}

/* Log-uniform-ish size in [16, max]: octave uniformly, then uniform within. */
static size_t pick_size(uint64_t *rng)
{
	unsigned top = 63 - (unsigned)__builtin_clzll(cfg.max_size);  /* floor(log2 max) */
	unsigned octaves = top > 4 ? top - 4 : 0;
	size_t lo = (size_t)16 << (octaves ? wl_below(rng, octaves + 1) : 0);
	size_t size = lo + (size_t)wl_below(rng, lo);
	return size > cfg.max_size ? (size_t)cfg.max_size : size;
}

static void report_corrupt(const struct object *o, size_t off, unsigned want, unsigned got)
{
	if (atomic_fetch_add(&corrupt, 1) == 0)
		fprintf(stderr, "churn: object %p size %zu: byte at offset %zu is 0x%02x, expected 0x%02x\n",
			(void *)o->p, o->size, off, got, want);
}

static void check_and_free(struct object *o)
{
	size_t last = o->size - 1;
	for (size_t off = 0;; off += PAGE) {
		if (off > last)
			off = last;
		if (o->p[off] != o->tag) {
			report_corrupt(o, off, o->tag, o->p[off]);
			break;
		}
		if (off == last)
			break;
	}
	free(o->p);
	atomic_fetch_sub_explicit(&live_bytes, o->size, memory_order_relaxed);
	o->p = NULL;
}

static bool make(struct object *o, uint64_t *rng)
{
	uint64_t r = wl_rand(rng);
	o->size = pick_size(rng);
	o->tag = (unsigned char)(r | 1);
	bool zeroed = (r >> 8) % 8 == 0;
	o->p = zeroed ? calloc(1, o->size) : malloc(o->size);
	if (!o->p) {
		fprintf(stderr, "churn: out of memory allocating %zu bytes\n", o->size);
		exit(1);
	}
	size_t last = o->size - 1;
	for (size_t off = 0;; off += PAGE) {
		if (off > last)
			off = last;
		if (zeroed && o->p[off] != 0)
			report_corrupt(o, off, 0, o->p[off]);
		o->p[off] = o->tag;
		if (off == last)
			break;
	}
	add_live(o->size);
	return true;
}

/* One op done; published for the progress lines (a relaxed store is a plain
 * one on the machines this runs on). */
static inline void count_op(struct worker *w)
{
	__atomic_store_n(&w->ops, w->ops + 1, __ATOMIC_RELAXED);
}

static bool out_of_budget(const struct worker *w)
{
	if (cfg.ops)
		return w->ops >= cfg.ops;
	/* The clock is cheap (vDSO), but look at it only every 32 ops. */
	return (w->ops & 31) == 0 && wl_now_ns() >= deadline_ns;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	uint64_t rng = wl_thread_seed(cfg.seed, w->index);
	struct object *objs = calloc(cfg.live_cap, sizeof *objs);
	if (!objs) {
		fprintf(stderr, "churn: out of memory\n");
		exit(1);
	}
	bool done = false;
	while (!done) {
		for (uint64_t i = 0; i < 2 * cfg.live_cap && !done; i++) {
			struct object *o = &objs[wl_below(&rng, cfg.live_cap)];
			if (o->p) {
				check_and_free(o);
				count_op(w);
				if ((done = out_of_budget(w)))
					break;
			}
			make(o, &rng);
			count_op(w);
			done = out_of_budget(w);
		}
		for (uint64_t i = 0; i < cfg.live_cap && !done; i++) {
			if (!objs[i].p || wl_below(&rng, 10) == 0)
				continue;
			check_and_free(&objs[i]);
			count_op(w);
			done = out_of_budget(w);
		}
		if (done)
			break;
		struct timespec idle = { cfg.idle_ms / 1000, (long)(cfg.idle_ms % 1000) * 1000000L };
		nanosleep(&idle, NULL);
		if (!cfg.ops && wl_now_ns() >= deadline_ns)
			done = true;
	}
	for (uint64_t i = 0; i < cfg.live_cap; i++)
		if (objs[i].p)
			check_and_free(&objs[i]);
	free(objs);
	atomic_fetch_add(&finished, 1);
	return NULL;
}

/* Progress lines until every thread is done. */
static void progress(const struct worker *ws, uint64_t start)
{
	struct timespec nap = { cfg.progress_ms / 1000, (long)(cfg.progress_ms % 1000) * 1000000L }, cpu;
	while (atomic_load(&finished) < cfg.threads) {
		nanosleep(&nap, NULL);
		uint64_t ops = 0;
		for (unsigned i = 0; i < cfg.threads; i++)
			ops += __atomic_load_n(&ws[i].ops, __ATOMIC_RELAXED);
		clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &cpu);
		fprintf(stderr, "churn_progress: t_s=%.3f ops=%llu cpu_s=%.4f\n", (double)(wl_now_ns() - start) / 1e9,
			(unsigned long long)ops, (double)cpu.tv_sec + (double)cpu.tv_nsec / 1e9);
	}
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: churn [-t threads] [-s seconds | -n ops] [-S seed] [--max-size bytes]\n"
		"             [--live N] [--idle-ms MS] [--progress-ms MS]\n"
		"  -t N          worker threads (default 2)\n"
		"  -s SECONDS    run this long (default 3)\n"
		"  -n OPS        instead of -s: exactly OPS malloc/free operations per thread\n"
		"  -S SEED       seed of the op sequence (default 1)\n"
		"  --max-size B  largest object, K/M suffixes accepted (default 256K)\n"
		"  --live N      objects kept live per thread at most (default 1024)\n"
		"  --idle-ms MS  sleep between rounds (default 50)\n"
		"  --progress-ms MS  a churn_progress line on stderr every MS ms\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "max-size", required_argument, NULL, 'M' },
		{ "live", required_argument, NULL, 'L' },
		{ "idle-ms", required_argument, NULL, 'I' },
		{ "progress-ms", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "t:s:S:n:h", longopts, NULL)) != -1) {
		switch (c) {
		case 't': cfg.threads = (unsigned)wl_parse_size("-t", optarg); break;
		case 's': cfg.seconds = wl_parse_seconds("-s", optarg); break;
		case 'S': cfg.seed = wl_parse_size("-S", optarg); break;
		case 'n': cfg.ops = wl_parse_size("-n", optarg); break;
		case 'M': cfg.max_size = wl_parse_size("--max-size", optarg); break;
		case 'L': cfg.live_cap = wl_parse_size("--live", optarg); break;
		case 'I': cfg.idle_ms = (unsigned)wl_parse_size("--idle-ms", optarg); break;
		case 'P': cfg.progress_ms = (unsigned)wl_parse_size("--progress-ms", optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || cfg.threads < 1 || cfg.threads > 1024 || cfg.max_size < 16 ||
	    cfg.max_size > (1ULL << 40) || cfg.live_cap < 1 || cfg.live_cap > (1u << 24) ||
	    cfg.idle_ms > 60000 || cfg.progress_ms > 60000) {
		usage(stderr);
		return 2;
	}

	struct worker *ws = calloc(cfg.threads, sizeof *ws);
	if (!ws)
		return 1;
	uint64_t start = wl_now_ns();
	deadline_ns = start + (uint64_t)(cfg.seconds * 1e9);
	for (unsigned i = 0; i < cfg.threads; i++) {
		ws[i].index = i;
		int err = pthread_create(&ws[i].tid, NULL, work, &ws[i]);
		if (err) {
			fprintf(stderr, "churn: pthread_create: %s\n", strerror(err));
			return 1;
		}
	}
	if (cfg.progress_ms)
		progress(ws, start);
	uint64_t ops = 0;
	for (unsigned i = 0; i < cfg.threads; i++) {
		pthread_join(ws[i].tid, NULL);
		ops += ws[i].ops;
	}
	double secs = (double)(wl_now_ns() - start) / 1e9;
	free(ws);
	printf("churn: threads=%u seconds=%.2f ops=%llu ops_per_sec=%.0f peak_live_bytes=%llu\n",
	       cfg.threads, secs, (unsigned long long)ops, secs > 0 ? (double)ops / secs : 0.0,
	       (unsigned long long)atomic_load(&peak_bytes));
	unsigned long bad = atomic_load(&corrupt);
	if (bad) {
		fprintf(stderr, "churn: %lu objects had wrong contents\n", bad);
		return 3;
	}
	return 0;
}
