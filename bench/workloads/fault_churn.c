/* fault_churn.c - map, fault and unmap small regions from many threads.
 *
 * Each thread repeats a cycle: mmap -r regions of -p pages each (private
 * anonymous, read-write), write one byte in every page (one fault each), then
 * munmap them all. This is the spf_test pattern (100 threads x 2 regions of 10
 * pages): every cycle takes the mmap lock for writing 2 x regions times and
 * faults regions x pages times, so threads contend on the address space.
 * The first byte of every page is checked before munmap; exit 3 if one lost
 * its value (a recycled range must come back zeroed and stay the thread's).
 *
 * Output, one line on stdout (cycles is exact with -n):
 *   fault_churn: threads=T regions=R pages=P seconds=S cycles=N ops_per_sec=N
 * where ops_per_sec counts cycles (all threads). */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "wl.h"

#define PAGE 4096u
#define MAX_REGIONS 64u

static unsigned threads = 2, regions = 2, pages = 10;
static double seconds = 2.0;
static uint64_t cycles_per_thread; /* 0 = bounded by seconds */
static uint64_t deadline_ns;
static pthread_barrier_t start;

struct worker {
	pthread_t tid;
	unsigned index;
	uint64_t cycles;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	unsigned char *r[MAX_REGIONS];
	size_t len = (size_t)pages * PAGE;
	pthread_barrier_wait(&start);
	for (;;) {
		if (cycles_per_thread ? w->cycles >= cycles_per_thread
				      : (w->cycles & 15) == 0 && wl_now_ns() >= deadline_ns)
			break;
		unsigned char tag = (unsigned char)(w->cycles * 2 + w->index + 1) | 1;
		for (unsigned i = 0; i < regions; i++) {
			r[i] = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			if (r[i] == MAP_FAILED) {
				perror("fault_churn: mmap");
				exit(1);
			}
			for (size_t off = 0; off < len; off += PAGE) {
				if (r[i][off] != 0) {
					fprintf(stderr, "fault_churn: new mapping %p not zero at +%zu\n", (void *)r[i], off);
					exit(3);
				}
				r[i][off] = tag;
			}
		}
		for (unsigned i = 0; i < regions; i++) {
			for (size_t off = 0; off < len; off += PAGE)
				if (r[i][off] != tag) {
					fprintf(stderr, "fault_churn: page %p+%zu lost its value\n", (void *)r[i], off);
					exit(3);
				}
			if (munmap(r[i], len) != 0) {
				perror("fault_churn: munmap");
				exit(1);
			}
		}
		w->cycles++;
	}
	return NULL;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: fault_churn [-t threads] [-r regions] [-p pages] [-s seconds | -n cycles]\n"
		"  -t N        threads (default 2)\n"
		"  -r N        regions mapped per cycle (default 2, at most 64)\n"
		"  -p N        pages per region (default 10)\n"
		"  -s SECONDS  run this long (default 2)\n"
		"  -n N        instead of -s: exactly N cycles per thread\n");
}

int main(int argc, char **argv)
{
	int c;
	while ((c = getopt(argc, argv, "t:r:p:s:n:h")) != -1) {
		switch (c) {
		case 't': threads = (unsigned)wl_parse_size("-t", optarg); break;
		case 'r': regions = (unsigned)wl_parse_size("-r", optarg); break;
		case 'p': pages = (unsigned)wl_parse_size("-p", optarg); break;
		case 's': seconds = wl_parse_seconds("-s", optarg); break;
		case 'n': cycles_per_thread = wl_parse_size("-n", optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || threads < 1 || threads > 4096 || regions < 1 || regions > MAX_REGIONS || pages < 1) {
		usage(stderr);
		return 2;
	}
	struct worker *ws = calloc(threads, sizeof *ws);
	if (!ws || pthread_barrier_init(&start, NULL, threads + 1))
		return 1;
	for (unsigned i = 0; i < threads; i++) {
		ws[i].index = i;
		int err = pthread_create(&ws[i].tid, NULL, work, &ws[i]);
		if (err) {
			fprintf(stderr, "fault_churn: pthread_create: %s\n", strerror(err));
			return 1;
		}
	}
	uint64_t t0 = wl_now_ns();
	deadline_ns = t0 + (uint64_t)(seconds * 1e9);
	pthread_barrier_wait(&start);
	uint64_t total = 0;
	for (unsigned i = 0; i < threads; i++) {
		pthread_join(ws[i].tid, NULL);
		total += ws[i].cycles;
	}
	double secs = (double)(wl_now_ns() - t0) / 1e9;
	free(ws);
	printf("fault_churn: threads=%u regions=%u pages=%u seconds=%.2f cycles=%llu ops_per_sec=%.0f\n", threads,
	       regions, pages, secs, (unsigned long long)total, secs > 0 ? (double)total / secs : 0.0);
	return 0;
}
