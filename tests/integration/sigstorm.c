/* sigstorm - madvise, mmap and munmap from a SIGALRM handler firing every
 * 100 us while the main thread and a second thread make the same calls.
 *
 * usage: sigstorm [MILLISECONDS]   (default 400)
 * A call interrupted by the handler, and the handler's own calls, must all be
 * counted once; a lock in the call path would deadlock here. Prints
 * "handler N" (signals handled) and the counts (counts.h). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "counts.h"
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

#define PG 4096UL

static char *page;
static int stop; /* set once by main, read with atomics */
static unsigned long handled;

static void on_alarm(int sig)
{
	(void)sig;
	int e = errno;
	t_madvise(page, PG, MADV_COLD);
	char *s = t_mmap(NULL, PG, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s != MAP_FAILED)
		t_munmap(s, PG);
	__atomic_add_fetch(&handled, 1, __ATOMIC_RELAXED);
	errno = e;
}

static void calls(void)
{
	t_madvise(page + PG, PG, MADV_COLD);
	t_sys_madvise(page + 2 * PG, PG, MADV_PAGEOUT);
	char *s = t_mmap(NULL, 2 * PG, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (s != MAP_FAILED)
		t_munmap(s, 2 * PG);
}

static void *loop(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED))
		calls();
	return NULL;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	int ms = argc > 1 ? atoi(argv[1]) : 400;
	page = t_map_or_die(4 * PG);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval it = { { 0, 100 }, { 0, 100 } };
	setitimer(ITIMER_REAL, &it, NULL);
	pthread_t t;
	if (pthread_create(&t, NULL, loop, NULL) != 0)
		return 99;
	double end = now() + ms / 1000.0;
	while (now() < end)
		calls();
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	signal(SIGALRM, SIG_IGN);
	printf("pid %d\nhandler %lu\n", (int)getpid(), __atomic_load_n(&handled, __ATOMIC_RELAXED));
	cnt_print(stdout, "");
	return 0;
}
