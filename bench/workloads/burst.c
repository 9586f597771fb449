/* burst - a service's day: busy, a burst, then silence.
 *
 * usage: burst THREADS MIB DIR [stay]
 * (burst_static_je, _tc: the same with jemalloc or tcmalloc linked in;
 * burst_prefixed_je: with a jemalloc whose API is prefixed je_)
 *   1. prints "start_rss_kb N" and "pid P";
 *   2. busy: THREADS threads allocate blocks of 1-512 KiB (every page
 *      written) up to 8 MiB each, free them, and again, until DIR/burst
 *      exists; prints "busy" when they have started, and at the end
 *      "busy_max_gap_ms N": the longest time no thread made an allocation;
 *   3. burst: the threads allocate MIB MiB in all in such blocks, each
 *      filled with a pattern, and free 95% of them (they keep every 20th);
 *      prints "quiet_realtime_ns T" (CLOCK_REALTIME: the silence starts) and
 *      "quiet live_kb N" (the bytes kept); the threads then exit
 *      (with "stay": they stay alive, blocked, holding what their caches
 *      hold, until the end);
 *   4. silence: no allocator call until DIR/stop exists;
 *   5. prints "rss_kb N" (VmRSS), checks every kept block's pattern, prints
 *      "kept_ok 1" or "kept_bad N", frees everything and exits 0 (3 when a
 *      block was damaged). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "wl.h"

#ifdef BURST_JE_PREFIX
/* Built against a jemalloc whose API is prefixed je_ (malloc stays glibc's). */
void *je_malloc(size_t size);
void je_free(void *p);
#define malloc je_malloc
#define free je_free
#endif

#define MAXT 16

static const char *dir;
static size_t per_thread;
static pthread_barrier_t started, burst_done, stop_seen;
static volatile int phase; /* 0 busy, 1 burst */
static int stay;
static uint64_t max_gap_ns[MAXT];
static uint64_t last_any; /* time of the latest allocation by any thread (atomic) */
static size_t live_bytes[MAXT];
/* what each thread kept: checked and freed by the main thread at the end */
static char **kept[MAXT];
static size_t *kept_size[MAXT], nkept[MAXT];

static int exists(const char *name)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return access(path, F_OK) == 0;
}

static size_t block_size(unsigned *seed)
{
	return 1024 + (size_t)(rand_r(seed) % (511u << 10));
}

static unsigned char pattern(size_t i, size_t o)
{
	return (unsigned char)(i * 131 + o / 4096 * 7 + 1);
}

static void *worker(void *arg)
{
	int id = (int)(intptr_t)arg;
	unsigned seed = 17 + (unsigned)id;
	enum { BUSY_MAX = 256 };
	char *busy[BUSY_MAX];
	int first = 1;
	/* busy */
	while (!phase) {
		size_t used = 0;
		int n = 0;
		while (used < (8u << 20) && n < BUSY_MAX) {
			size_t sz = block_size(&seed);
			char *p = malloc(sz);
			if (!p)
				exit(1);
			for (size_t o = 0; o < sz; o += 4096)
				p[o] = 1;
			busy[n++] = p;
			used += sz;
			uint64_t t = wl_now_ns(), prev = __atomic_exchange_n(&last_any, t, __ATOMIC_RELAXED);
			if (!first && t > prev && t - prev > max_gap_ns[id])
				max_gap_ns[id] = t - prev;
		}
		for (int i = 0; i < n; i++)
			free(busy[i]);
		if (first) {
			pthread_barrier_wait(&started);
			first = 0;
		}
	}
	/* burst: keep every 20th block */
	size_t cap = per_thread / 1024 + 1, k = 0, used = 0;
	char **blocks = malloc(cap * sizeof(*blocks));
	size_t *sizes = malloc(cap * sizeof(*sizes));
	if (!blocks || !sizes)
		exit(1);
	while (used < per_thread && k < cap) {
		size_t sz = block_size(&seed);
		char *p = malloc(sz);
		if (!p)
			exit(1);
		for (size_t o = 0; o < sz; o += 4096)
			p[o] = (char)pattern(k, o);
		p[sz - 1] = (char)pattern(k, sz - 1);
		blocks[k] = p;
		sizes[k++] = sz;
		used += sz;
	}
	for (size_t i = 0; i < k; i++) {
		if (i % 20) {
			free(blocks[i]);
			blocks[i] = NULL;
		} else {
			live_bytes[id] += sizes[i];
		}
	}
	kept[id] = blocks;
	kept_size[id] = sizes;
	nkept[id] = k;
	pthread_barrier_wait(&burst_done);
	if (stay) /* silence: blocked until the main thread has seen DIR/stop */
		pthread_barrier_wait(&stop_seen);
	return NULL;
}

/* Check and free what thread id kept; the number of damaged pages. */
static long check_kept(int id)
{
	long bad = 0;
	for (size_t i = 0; i < nkept[id]; i++) {
		char *b = kept[id][i];
		size_t sz = kept_size[id][i];
		if (!b)
			continue;
		for (size_t o = 0; o < sz; o += 4096)
			bad += (unsigned char)b[o] != pattern(i, o);
		bad += (unsigned char)b[sz - 1] != pattern(i, sz - 1);
		free(b);
	}
	free(kept[id]);
	free(kept_size[id]);
	return bad;
}

static void wait_for(const char *name)
{
	struct timespec ts = { 0, 10 * 1000000 };
	while (!exists(name))
		nanosleep(&ts, NULL);
}

int main(int argc, char **argv)
{
	if (argc != 4 && argc != 5)
		return 2;
	stay = argc == 5 && !strcmp(argv[4], "stay");
	int nt = atoi(argv[1]);
	if (nt < 1 || nt > MAXT)
		return 2;
	per_thread = ((size_t)atol(argv[2]) << 20) / (size_t)nt;
	dir = argv[3];
	printf("start_rss_kb %ld\npid %d\n", wl_status_kb("VmRSS:"), (int)getpid());
	fflush(stdout);
	pthread_barrier_init(&started, NULL, (unsigned)nt + 1);
	pthread_barrier_init(&burst_done, NULL, (unsigned)nt + 1);
	pthread_barrier_init(&stop_seen, NULL, stay ? (unsigned)nt + 1 : 1);
	pthread_t t[MAXT];
	for (int i = 0; i < nt; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(intptr_t)i) != 0)
			return 1;
	pthread_barrier_wait(&started);
	printf("busy\n");
	fflush(stdout);
	wait_for("burst");
	phase = 1;
	pthread_barrier_wait(&burst_done);
	if (!stay)
		for (int i = 0; i < nt; i++)
			pthread_join(t[i], NULL);
	uint64_t gap = 0;
	size_t live = 0;
	for (int i = 0; i < nt; i++) {
		gap = max_gap_ns[i] > gap ? max_gap_ns[i] : gap;
		live += live_bytes[i];
	}
	struct timespec rt;
	clock_gettime(CLOCK_REALTIME, &rt);
	printf("busy_max_gap_ms %llu\nquiet_realtime_ns %lld%09ld\nquiet live_kb %zu\n",
	       (unsigned long long)(gap / 1000000u), (long long)rt.tv_sec, rt.tv_nsec, live >> 10);
	fflush(stdout);
	wait_for("stop");
	printf("rss_kb %ld\n", wl_status_kb("VmRSS:"));
	pthread_barrier_wait(&stop_seen);
	long nbad = 0;
	for (int i = 0; i < nt; i++) {
		if (stay)
			pthread_join(t[i], NULL);
		nbad += check_kept(i);
	}
	if (nbad)
		printf("kept_bad %ld\n", nbad);
	else
		printf("kept_ok 1\n");
	return nbad ? 3 : 0;
}
