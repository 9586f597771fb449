/* mmap_churn.c - threads that map, touch and unmap private buffers.
 *
 * Each record is: mmap an anonymous read-write buffer of a random size
 * (a uniform number of 4 KiB pages, 4 KiB to 512 KiB), write every page,
 * check the first page, munmap. Every record takes the mmap lock for
 * writing twice and faults every page, so threads contend on the address
 * space the way the munmap and page-fault threads in facts.md describe.
 *
 * Output, one line on stdout:
 *   mmap_churn: threads=2 seconds=3.00 records=N records_per_sec=N */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "wl.h"

#define PAGE 4096u
#define MAX_PAGES 128u   /* 512 KiB */

static unsigned threads = 2;
static double seconds = 3.0;
static uint64_t seed = 1;
static uint64_t records_per_thread;  /* 0 = bounded by seconds */
static uint64_t deadline_ns;

struct worker {
	pthread_t tid;
	unsigned index;
	uint64_t records;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	uint64_t rng = wl_thread_seed(seed, w->index);
	for (;;) {
		if (records_per_thread ? w->records >= records_per_thread
				       : (w->records & 7) == 0 && wl_now_ns() >= deadline_ns)
			break;
		size_t pages = 1 + (size_t)wl_below(&rng, MAX_PAGES);
		size_t len = pages * PAGE;
		unsigned char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			perror("mmap_churn: mmap");
			exit(1);
		}
		unsigned char tag = (unsigned char)(w->records | 1);
		for (size_t off = 0; off < len; off += PAGE)
			p[off] = tag;
		if (p[0] != tag || p[len - PAGE] != tag) {
			fprintf(stderr, "mmap_churn: page contents lost at %p\n", (void *)p);
			exit(3);
		}
		if (munmap(p, len) != 0) {
			perror("mmap_churn: munmap");
			exit(1);
		}
		w->records++;
	}
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: mmap_churn [-t threads] [-s seconds | -n records] [-S seed]\n"
		"  -t N        worker threads (default 2)\n"
		"  -s SECONDS  run this long (default 3)\n"
		"  -n N        instead of -s: exactly N records per thread\n"
		"  -S SEED     seed of the size sequence (default 1)\n");
}

int main(int argc, char **argv)
{
	int c;
	while ((c = getopt(argc, argv, "t:s:S:n:h")) != -1) {
		switch (c) {
		case 't': threads = (unsigned)wl_parse_size("-t", optarg); break;
		case 's': seconds = wl_parse_seconds("-s", optarg); break;
		case 'S': seed = wl_parse_size("-S", optarg); break;
		case 'n': records_per_thread = wl_parse_size("-n", optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || threads < 1 || threads > 1024) {
		usage(stderr);
		return 2;
	}
	struct worker *ws = calloc(threads, sizeof *ws);
	if (!ws)
		return 1;
	uint64_t start = wl_now_ns();
	deadline_ns = start + (uint64_t)(seconds * 1e9);
	for (unsigned i = 0; i < threads; i++) {
		ws[i].index = i;
		int err = pthread_create(&ws[i].tid, NULL, work, &ws[i]);
		if (err) {
			fprintf(stderr, "mmap_churn: pthread_create: %s\n", strerror(err));
			return 1;
		}
	}
	uint64_t records = 0;
	for (unsigned i = 0; i < threads; i++) {
		pthread_join(ws[i].tid, NULL);
		records += ws[i].records;
	}
	double secs = (double)(wl_now_ns() - start) / 1e9;
	free(ws);
	printf("mmap_churn: threads=%u seconds=%.2f records=%llu records_per_sec=%.0f\n", threads, secs,
	       (unsigned long long)records, secs > 0 ? (double)records / secs : 0.0);
	return 0;
}
