/* attrib_nomalloc.c - purge attribution never calls malloc.
 *
 * The program defines malloc, calloc, realloc and free itself (over glibc's
 * __libc_* functions) and counts the calls that arrive while one of its
 * threads is inside a purge it made: with attribution sampling every purge,
 * any allocation madvisor's sampling path makes (libunwind's thread-local
 * storage, say) is counted there.
 *   attrib_nomalloc count THREADS PURGES   prints "inside N purges M"
 *   attrib_nomalloc storm THREADS SECONDS  every thread mallocs and frees in a
 *       loop while signals, sent to each thread in turn, purge from their
 *       handlers; prints "signals N purges M" (a hang is the failure)
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

extern void *__libc_malloc(size_t);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void __libc_free(void *);

static __thread int in_purge;
static unsigned long inside; /* allocations made while in_purge */

static void note(void)
{
	if (in_purge)
		__atomic_fetch_add(&inside, 1, __ATOMIC_RELAXED);
}
void *malloc(size_t n) { note(); return __libc_malloc(n); }
void *calloc(size_t a, size_t b) { note(); return __libc_calloc(a, b); }
void *realloc(void *p, size_t n) { note(); return __libc_realloc(p, n); }
void free(void *p) { note(); __libc_free(p); }

static long page;
static unsigned long purges;

static void purge(char *p)
{
	p[0] = 1;
	in_purge = 1;
	if (madvise(p, (size_t)page, MADV_DONTNEED) == 0)
		__atomic_fetch_add(&purges, 1, __ATOMIC_RELAXED);
	in_purge = 0;
}

static int per_thread;

static void *count_thread(void *arg)
{
	(void)arg;
	char *p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	for (int i = 0; i < per_thread; i++)
		purge(p);
	munmap(p, (size_t)page);
	return NULL;
}

static volatile int stop;
static unsigned long signals;
static __thread char *handler_page;

static void on_signal(int sig)
{
	(void)sig;
	if (handler_page) {
		purge(handler_page);
		__atomic_fetch_add(&signals, 1, __ATOMIC_RELAXED);
	}
}

static void *storm_thread(void *arg)
{
	(void)arg;
	handler_page = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	void *keep[64] = { 0 };
	unsigned i = 0;
	while (!stop) {
		unsigned k = i++ % 64;
		free(keep[k]);
		keep[k] = malloc(16 + (i * 2654435761u) % 4096);
	}
	for (unsigned k = 0; k < 64; k++)
		free(keep[k]);
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 4)
		return 2;
	page = sysconf(_SC_PAGESIZE);
	int n = atoi(argv[2]);
	pthread_t *t = calloc((size_t)n, sizeof(*t));
	if (!strcmp(argv[1], "count")) {
		per_thread = atoi(argv[3]);
		for (int i = 0; i < n; i++)
			pthread_create(&t[i], NULL, count_thread, NULL);
		for (int i = 0; i < n; i++)
			pthread_join(t[i], NULL);
		printf("inside %lu purges %lu\n", inside, purges);
		return 0;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGUSR1, &sa, NULL);
	for (int i = 0; i < n; i++)
		pthread_create(&t[i], NULL, storm_thread, NULL);
	struct timespec end, now, pause = { 0, 200000 };
	clock_gettime(CLOCK_MONOTONIC, &end);
	end.tv_sec += atoi(argv[3]);
	for (unsigned k = 0;; k++) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > end.tv_sec || (now.tv_sec == end.tv_sec && now.tv_nsec >= end.tv_nsec))
			break;
		pthread_kill(t[k % (unsigned)n], SIGUSR1);
		nanosleep(&pause, NULL);
	}
	stop = 1;
	for (int i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	printf("signals %lu purges %lu inside %lu\n", signals, purges, inside);
	return 0;
}
