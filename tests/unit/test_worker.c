/* test_worker.c - the background thread runs tasks on time, wakes on
 * demand, blocks signals, stops, and comes back after fork. */
#define MV_TEST_HOOKS /* calls test hooks (sys/testhook.h) */
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "sys/worker.h"
#include "../tap.h"

static int runs, sig_blocked = -1, on_worker = -1;

static void task_run(void *arg, uint64_t now)
{
	(void)now;
	sigset_t cur;
	pthread_sigmask(SIG_SETMASK, NULL, &cur);
	__atomic_store_n(&sig_blocked, sigismember(&cur, SIGINT) && sigismember(&cur, SIGTERM) &&
					       sigismember(&cur, SIGALRM), __ATOMIC_RELAXED);
	__atomic_store_n(&on_worker, mv_worker_is_self(), __ATOMIC_RELAXED);
	__atomic_fetch_add((int *)arg, 1, __ATOMIC_RELEASE);
}

static void wait_for(int *c, int n)
{
	for (int i = 0; i < 2000 && __atomic_load_n(c, __ATOMIC_ACQUIRE) < n; i++)
		usleep(1000);
}

int main(void)
{
	static struct mv_task t = { .name = "test", .period_ns = 20000000, .run = task_run, .arg = &runs };
	tap_ok(mv_worker_add(&t) == 0, "a task starts the worker");
	wait_for(&runs, 1);
	tap_ok(__atomic_load_n(&runs, __ATOMIC_ACQUIRE) >= 1, "the task ran at once");
	tap_ok(__atomic_load_n(&sig_blocked, __ATOMIC_RELAXED) == 1, "the worker blocks signals");
	tap_ok(__atomic_load_n(&on_worker, __ATOMIC_RELAXED) == 1 && !mv_worker_is_self(), "the task runs on the worker, not here");
	usleep(200000);
	int r = __atomic_load_n(&runs, __ATOMIC_ACQUIRE);
	tap_ok(r >= 2 && r <= 50, "periodic and not spinning: %d runs in ~200 ms at a 20 ms period", r);

	static int woken;
	static struct mv_task slow = { .name = "slow", .period_ns = 3600ull * 1000000000u, .run = task_run,
				       .arg = &woken };
	mv_worker_add(&slow);
	wait_for(&woken, 1);
	uint64_t p = mv_worker_passes();
	mv_worker_wake();
	for (int i = 0; i < 1000 && mv_worker_passes() == p; i++)
		usleep(1000);
	tap_ok(mv_worker_passes() > p, "a wake-up makes the worker pass again");

	pid_t pid = fork();
	if (pid == 0) {
		mv_worker_atfork_child();
		int before = __atomic_load_n(&runs, __ATOMIC_ACQUIRE);
		usleep(100000);
		int idle = __atomic_load_n(&runs, __ATOMIC_ACQUIRE) == before;
		mv_worker_ensure();
		wait_for(&runs, before + 2);
		_exit(idle && __atomic_load_n(&runs, __ATOMIC_ACQUIRE) >= before + 2 ? 0 : 1);
	}
	int st;
	waitpid(pid, &st, 0);
	tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "fork child: no worker until ensured, then tasks run");

	mv_worker_stop();
	r = __atomic_load_n(&runs, __ATOMIC_ACQUIRE);
	usleep(100000);
	tap_ok(__atomic_load_n(&runs, __ATOMIC_ACQUIRE) == r, "stopped: no more runs");
	tap_ok(mv_worker_ensure() == 0, "ensure restarts it");
	wait_for(&runs, r + 1);
	tap_ok(__atomic_load_n(&runs, __ATOMIC_ACQUIRE) > r, "runs again after restart");
	mv_worker_stop();
	return tap_done();
}
