/* holes.c - madvisor's own memory never lands in the program's holes.
 *
 * Each round unmaps a range and then, from a thread making its first call
 * (madvisor sets up per-thread state then), expects the kernel's view of that
 * hole: madvise there fails with ENOMEM, and MAP_FIXED_NOREPLACE there
 * succeeds. Any mapping of madvisor's own placed in the hole in between would
 * change both results. Prints "holes: rounds=N failures=N"; exits 1 on any
 * failure. Usage: holes [ROUNDS] */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#define LEN (64 * 4096UL)

static int failures;

static pthread_barrier_t ready;
static char *hole;

/* Started before the hole exists (glibc maps thread stacks behind
 * madvisor's back); its first intercepted call is the probe. */
static void *probe(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&ready);
	char *p = hole;
	errno = 0;
	if (madvise(p, 4096, MADV_WILLNEED) != -1 || errno != ENOMEM) {
		fprintf(stderr, "holes: madvise in the hole at %p did not fail with ENOMEM\n", (void *)p);
		__atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
	}
	char *q = mmap(p, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (q != p) {
		fprintf(stderr, "holes: MAP_FIXED_NOREPLACE at %p: %s\n", (void *)p, q == MAP_FAILED ? "failed" : "moved");
		__atomic_fetch_add(&failures, 1, __ATOMIC_RELAXED);
	}
	if (q != MAP_FAILED)
		munmap(q, LEN);
	return NULL;
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? atoi(argv[1]) : 200;
	for (int i = 0; i < rounds; i++) {
		pthread_t t;
		pthread_barrier_init(&ready, NULL, 2);
		if (pthread_create(&t, NULL, probe, NULL) != 0)
			return 2;
		char *p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return 2;
		p[0] = 1;
		munmap(p, LEN);
		hole = p;
		pthread_barrier_wait(&ready);
		pthread_join(t, NULL);
		pthread_barrier_destroy(&ready);
	}
	printf("holes: rounds=%d failures=%d\n", rounds, failures);
	return failures ? 1 : 0;
}
