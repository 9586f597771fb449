/* slots - threads start and exit continuously (thousands of them, more than
 * madvisor keeps per-thread slots for) while a long-lived thread keeps
 * calling madvise. Every call of every thread must be counted once.
 *
 * usage: slots [THREADS]   (default 3000 short-lived threads, 8 at a time)
 * Prints the counts (counts.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "counts.h"
#include <pthread.h>
#include <stdlib.h>

#define PG 4096UL

static char *page;
static int stop; /* set once by main, read with atomics */

static void *steady(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		t_madvise(page, PG, MADV_COLD);
		t_sys_madvise(page + PG, PG, MADV_PAGEOUT);
	}
	return NULL;
}

static void *brief(void *arg)
{
	int n = (int)(size_t)arg;
	for (int i = 0; i < n; i++)
		t_madvise(page + 2 * PG, PG, MADV_COLD);
	t_posix_madvise(page, PG, POSIX_MADV_WILLNEED);
	return NULL;
}

int main(int argc, char **argv)
{
	int total = argc > 1 ? atoi(argv[1]) : 3000;
	page = t_map_or_die(4 * PG);
	pthread_t s;
	if (pthread_create(&s, NULL, steady, NULL) != 0)
		return 99;
	for (int done = 0; done < total; done += 8) {
		pthread_t t[8];
		int k = 0;
		for (; k < 8 && done + k < total; k++)
			if (pthread_create(&t[k], NULL, brief, (void *)(size_t)(1 + (done + k) % 5)) != 0)
				return 99;
		while (k-- > 0)
			pthread_join(t[k], NULL);
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	pthread_join(s, NULL);
	t_munmap(page, 4 * PG);
	printf("pid %d\n", (int)getpid());
	cnt_print(stdout, "");
	return 0;
}
