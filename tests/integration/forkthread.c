/* forkthread - can a fork child start a thread here, while another thread of
 * the parent was in malloc at the fork?
 *
 * Without madvisor. Some sanitizer runtimes (gcc 12's AddressSanitizer) do not
 * reset their allocator's locks in a fork child, and their thread start-up
 * allocates: the child's new thread then waits forever on a lock its parent's
 * thread held. madvisor starts its worker thread again in a fork child when
 * the page-table model, the sweep, live stats or the adaptive controller is
 * on, so the tests ask this first (tests/lib.sh: fork_threads_ok).
 * Exit 0 after 100 forks; a runtime with the fault hangs (the caller's timeout). */
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#define BUSY 3
static int stop;

/* Allocations of many sizes, so that some allocator lock is often held. */
static void *busy(void *arg)
{
	unsigned x = (unsigned)(uintptr_t)arg;
	void *keep[64] = { 0 };
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED)) {
		x = x * 1103515245u + 12345u;
		unsigned i = (x >> 8) % 64;
		free(keep[i]);
		keep[i] = malloc(16u << ((x >> 16) % 13));
	}
	for (int i = 0; i < 64; i++)
		free(keep[i]);
	return NULL;
}

static void *nothing(void *arg)
{
	return arg;
}

int main(void)
{
	pthread_t t[BUSY];
	for (int i = 0; i < BUSY; i++)
		if (pthread_create(&t[i], NULL, busy, (void *)(uintptr_t)(i + 1)) != 0)
			return 99;
	for (int c = 0; c < 100; c++) {
		pid_t pid = fork();
		if (pid < 0)
			return 99;
		if (pid == 0) {
			pthread_t u;
			if (pthread_create(&u, NULL, nothing, NULL) != 0 || pthread_join(u, NULL) != 0)
				_exit(1);
			_exit(0);
		}
		int st;
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
			return 1;
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	for (int i = 0; i < BUSY; i++)
		pthread_join(t[i], NULL);
	return 0;
}
