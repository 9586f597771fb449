/* threads - many threads map, advise, protect and unmap at once.
 *
 * usage: threads [NTHREADS [ITERATIONS]]   (default 16 x 2000)
 * Each iteration also mallocs and frees through the allocator under test, so
 * the allocator's own calls run concurrently with the program's. Prints the
 * program's counts (counts.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "counts.h"
#include <pthread.h>
#include <stdlib.h>

#define PG 4096UL

static int iterations = 2000;

static void *worker(void *arg)
{
	unsigned seed = (unsigned)(size_t)arg;
	for (int i = 0; i < iterations; i++) {
		char *p = t_map_or_die(16 * PG);
		p[0] = 1;
		t_madvise(p, 4 * PG, MADV_COLD);
		if (i % 4 == 0)
			t_sys_madvise(p + 4 * PG, 2 * PG, MADV_PAGEOUT);
		t_mprotect(p, PG, PROT_READ);
		if (i % 16 == 0) {
			char *s = t_mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
			if (s != MAP_FAILED)
				t_munmap(s, PG);
		}
		t_munmap(p, 16 * PG);
		size_t sz = 16 + rand_r(&seed) % (i % 8 == 0 ? 1 << 20 : 4096);
		char *m = malloc(sz);
		if (m) {
			m[0] = m[sz - 1] = 1;
			free(m);
		}
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 16;
	if (argc > 2)
		iterations = atoi(argv[2]);
	pthread_t t[256];
	if (n < 1 || n > 256)
		return 2;
	for (int i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)(size_t)(i + 1)) != 0)
			return 99;
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	printf("pid %d\n", (int)getpid());
	cnt_print(stdout, "");
	return 0;
}
