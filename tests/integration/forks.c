/* forks - fork and fork+exec while another thread keeps calling madvise.
 *
 * Output lines are prefixed by who wrote them: "parent ", "child N " (forked,
 * exits normally), "exec " (forked, then exec'd this program with argument
 * "exec"). Each writes "pid P" and its own counts (counts.h); the fork child
 * starts counting from zero, as madvisor does. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "counts.h"
#include <pthread.h>
#include <stdlib.h>
#include <sys/wait.h>

#define PG 4096UL
#define CHILDREN 4

static int stop; /* set once by main, read with atomics */
static char *page;

static void *busy(void *arg)
{
	(void)arg;
	while (!__atomic_load_n(&stop, __ATOMIC_RELAXED))
		t_madvise(page, PG, MADV_COLD);
	return NULL;
}

static void report(const char *prefix)
{
	printf("%spid %d\n", prefix, (int)getpid());
	cnt_print(stdout, prefix);
}

static int exec_mode(void)
{
	char *p = t_map_or_die(4 * PG);
	for (int i = 0; i < 9; i++)
		t_madvise(p, 2 * PG, MADV_COLD);
	t_posix_madvise(p, PG, POSIX_MADV_WILLNEED);
	t_posix_madvise(p, PG, POSIX_MADV_WILLNEED);
	t_munmap(p, 4 * PG);
	report("exec ");
	return 0;
}

int main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "exec") == 0)
		return exec_mode();
	page = t_map_or_die(4 * PG);
	for (int i = 0; i < 5; i++)
		t_madvise(page, PG, MADV_COLD);
	pthread_t t;
	if (pthread_create(&t, NULL, busy, NULL) != 0)
		return 99;
	for (int c = 0; c < CHILDREN; c++) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0)
			return 99;
		if (pid == 0) {
			cnt_reset();
			for (int i = 0; i < 7 + c; i++)
				t_madvise(page, 2 * PG, MADV_COLD);
			for (int i = 0; i < 3; i++)
				t_sys_madvise(page, PG, MADV_PAGEOUT);
			char *s = t_mmap(NULL, PG, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
			t_munmap(s, PG);
			char prefix[32];
			snprintf(prefix, sizeof prefix, "child %d ", c);
			report(prefix);
			exit(0);
		}
		int st;
		if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
			printf("parent child %d failed: status %d\n", c, st);
			return 1;
		}
	}
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		execl("/proc/self/exe", argv[0], "exec", (char *)NULL);
		_exit(127);
	}
	int st;
	if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		printf("parent exec child failed: status %d\n", st);
		return 1;
	}
	__atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
	pthread_join(t, NULL);
	for (int i = 0; i < 4; i++)
		t_madvise(page, PG, MADV_COLD);
	t_munmap(page, 4 * PG);
	report("parent ");
	return 0;
}
