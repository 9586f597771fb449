/* churn - an allocator workload: threads malloc, touch, realloc and free
 * blocks from 16 bytes to 4 MiB, so the allocator maps, purges and unmaps.
 *
 * usage: churn [THREADS [MILLISECONDS]]   (default 4 x 500)
 * Makes no memory calls of its own. Prints "pid P" and the number of
 * allocations. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define SLOTS 512

static double deadline;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static size_t pick(unsigned *seed)
{
	unsigned r = rand_r(seed);
	switch (r % 16) {
	case 0:
		return (size_t)(1 << 20) + r % (3 << 20);   /* 1-4 MiB */
	case 1: case 2:
		return 16384 + r % (256 << 10);              /* 16-272 KiB */
	default:
		return 16 + r % 4096;
	}
}

static void *worker(void *arg)
{
	unsigned seed = (unsigned)(size_t)arg;
	char *slot[SLOTS] = { 0 };
	size_t size[SLOTS] = { 0 };
	unsigned long n = 0;
	while (now() < deadline) {
		for (int k = 0; k < 64; k++, n++) {
			int i = rand_r(&seed) % SLOTS;
			if (slot[i] && rand_r(&seed) % 4 == 0) {
				size_t ns = pick(&seed);
				char *q = realloc(slot[i], ns);
				if (q) {
					slot[i] = q, size[i] = ns;
					memset(q, 1, ns < 8192 ? ns : 8192);
				}
				continue;
			}
			free(slot[i]);
			size[i] = pick(&seed);
			slot[i] = malloc(size[i]);
			if (slot[i])
				for (size_t o = 0; o < size[i]; o += 4096)
					slot[i][o] = (char)o;
		}
		if (rand_r(&seed) % 64 == 0) /* free everything now and then */
			for (int i = 0; i < SLOTS; i++)
				free(slot[i]), slot[i] = NULL;
	}
	for (int i = 0; i < SLOTS; i++)
		free(slot[i]);
	return (void *)n;
}

int main(int argc, char **argv)
{
	int nt = argc > 1 ? atoi(argv[1]) : 4;
	int ms = argc > 2 ? atoi(argv[2]) : 500;
	pthread_t t[64];
	if (nt < 1 || nt > 64)
		return 2;
	deadline = now() + ms / 1000.0;
	for (int i = 0; i < nt; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(size_t)(i + 1)) != 0)
			return 99;
	unsigned long total = 0;
	for (int i = 0; i < nt; i++) {
		void *r;
		pthread_join(t[i], &r);
		total += (unsigned long)r;
	}
	printf("pid %d\nallocations %lu\n", (int)getpid(), total);
	return 0;
}
