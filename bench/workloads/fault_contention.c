/* fault_contention.c - page-fault throughput while other threads change the
 * address space.
 *
 * Faulter threads (-f) each own one anonymous region (-r bytes, one VMA) and
 * repeat: write one byte in every page (one fault each), then MADV_DONTNEED
 * the whole region so the next pass faults again; each faulter does exactly
 * -p passes. Meanwhile disturber threads (-d) repeat until every faulter is
 * done: mmap a buffer of 1..128 pages (seeded), write every page, madvise
 * MADV_DONTNEED its first half, munmap it. munmap takes the mmap lock for
 * writing; faults take the per-VMA lock (6.4+) or the mmap lock for reading,
 * so this is the contention the per-VMA-lock patch series measured.
 *
 * Output, one line on stdout (faults is exact: faulters x passes x pages):
 *   fault_contention: faulters=F disturbers=D seconds=S faults=N
 *     faults_per_sec=N faults_per_sec_per_thread=N min_thread_faults_per_sec=N
 *     disturber_ops=N */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "wl.h"

#define PAGE 4096u
#define MAX_PAGES 128u

static unsigned nfaulters = 1, ndisturbers = 1;
static uint64_t region = 32u << 20, passes = 20, seed = 1;
static atomic_uint faulters_left;

struct thread {
	pthread_t tid;
	unsigned index;
	uint64_t count;
	double seconds;
};

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void *faulter(void *arg)
{
	struct thread *t = arg;
	unsigned char *p = mmap(NULL, region, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("fault_contention: mmap");
	uint64_t start = wl_now_ns();
	for (uint64_t pass = 0; pass < passes; pass++) {
		unsigned char tag = (unsigned char)(pass | 1);
		for (uint64_t off = 0; off < region; off += PAGE)
			p[off] = tag;
		t->count += region / PAGE;
		if (p[0] != tag || p[region - PAGE] != tag) {
			fprintf(stderr, "fault_contention: page contents lost\n");
			exit(3);
		}
		if (madvise(p, region, MADV_DONTNEED) != 0)
			die("fault_contention: madvise");
	}
	t->seconds = (double)(wl_now_ns() - start) / 1e9;
	munmap(p, region);
	atomic_fetch_sub(&faulters_left, 1);
	return NULL;
}

static void *disturber(void *arg)
{
	struct thread *t = arg;
	uint64_t rng = wl_thread_seed(seed, 1000 + t->index);
	while (atomic_load_explicit(&faulters_left, memory_order_relaxed) > 0) {
		size_t pages = 1 + (size_t)wl_below(&rng, MAX_PAGES), len = pages * PAGE;
		unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			die("fault_contention: mmap");
		for (size_t off = 0; off < len; off += PAGE)
			p[off] = 1;
		if (pages >= 2 && madvise(p, (pages / 2) * PAGE, MADV_DONTNEED) != 0)
			die("fault_contention: madvise");
		if (munmap(p, len) != 0)
			die("fault_contention: munmap");
		t->count++;
	}
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fault_contention [-f faulters] [-d disturbers] [-r region-bytes] [-p passes] [-S seed]\n"
		"  -f N   faulting threads (default 1)\n"
		"  -d N   threads doing mmap/touch/madvise/munmap meanwhile (default 1)\n"
		"  -r B   region each faulter faults, K/M/G suffixes (default 32M)\n"
		"  -p N   passes over the region per faulter (default 20)\n"
		"  -S N   seed of the disturbers' sizes (default 1)\n");
}

int main(int argc, char **argv)
{
	int c;
	while ((c = getopt(argc, argv, "f:d:r:p:S:h")) != -1) {
		switch (c) {
		case 'f': nfaulters = (unsigned)wl_parse_size("-f", optarg); break;
		case 'd': ndisturbers = (unsigned)wl_parse_size("-d", optarg); break;
		case 'r': region = wl_parse_size("-r", optarg); break;
		case 'p': passes = wl_parse_size("-p", optarg); break;
		case 'S': seed = wl_parse_size("-S", optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	region = region / PAGE * PAGE;
	if (optind != argc || nfaulters < 1 || nfaulters > 256 || ndisturbers > 256 || region < PAGE ||
	    passes < 1) {
		usage(stderr);
		return 2;
	}
	struct thread *ts = calloc(nfaulters + ndisturbers, sizeof *ts);
	if (!ts)
		return 1;
	atomic_store(&faulters_left, nfaulters);
	uint64_t start = wl_now_ns();
	for (unsigned i = 0; i < nfaulters + ndisturbers; i++) {
		ts[i].index = i;
		int err = pthread_create(&ts[i].tid, NULL, i < nfaulters ? faulter : disturber, &ts[i]);
		if (err) {
			fprintf(stderr, "fault_contention: pthread_create: %s\n", strerror(err));
			return 1;
		}
	}
	uint64_t faults = 0, ops = 0;
	double sum_rate = 0, min_rate = 0;
	for (unsigned i = 0; i < nfaulters + ndisturbers; i++) {
		pthread_join(ts[i].tid, NULL);
		if (i < nfaulters) {
			double rate = ts[i].seconds > 0 ? (double)ts[i].count / ts[i].seconds : 0;
			faults += ts[i].count;
			sum_rate += rate;
			if (i == 0 || rate < min_rate)
				min_rate = rate;
		} else {
			ops += ts[i].count;
		}
	}
	double secs = (double)(wl_now_ns() - start) / 1e9;
	free(ts);
	printf("fault_contention: faulters=%u disturbers=%u seconds=%.2f faults=%llu faults_per_sec=%.0f "
	       "faults_per_sec_per_thread=%.0f min_thread_faults_per_sec=%.0f disturber_ops=%llu\n",
	       nfaulters, ndisturbers, secs, (unsigned long long)faults, secs > 0 ? (double)faults / secs : 0.0,
	       sum_rate / nfaulters, min_rate, (unsigned long long)ops);
	return 0;
}
