/* worker.c - one background thread running periodic tasks.
 *
 * Sleeps on a futex word with a timeout (the nearest task deadline), so a
 * wake-up from any thread or signal handler is one atomic add and a
 * FUTEX_WAKE system call. */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <time.h>
#include "sys/clock.h"
#include "sys/outbuf.h"
#include "sys/once.h"
#include "sys/ownsys.h"
#include "sys/ownmem.h"
#include "sys/worker.h"

static struct mv_task *tasks[MV_WORKER_TASKS];
static int ntasks;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER; /* task table and start/stop only */
static pthread_t thread;
static int running;       /* thread exists */
static int stopping;
static unsigned wake_seq; /* futex word */
static uint64_t passes;
static __thread int is_worker __attribute__((tls_model("initial-exec")));
static int failed_once;

static void futex_wait(unsigned *w, unsigned old, uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000u), (long)(ns % 1000000000u) };
	mv_own4(SYS_futex, w, FUTEX_WAIT_PRIVATE, old, &ts);
}

void mv_worker_wake(void)
{
	__atomic_fetch_add(&wake_seq, 1, __ATOMIC_RELEASE);
	mv_own3(SYS_futex, &wake_seq, FUTEX_WAKE_PRIVATE, 1);
}

uint64_t mv_worker_passes(void)
{
	return __atomic_load_n(&passes, __ATOMIC_ACQUIRE);
}

int mv_worker_is_self(void)
{
	return is_worker;
}

static void *loop(void *arg)
{
	(void)arg;
	is_worker = 1;
	prctl(PR_SET_NAME, "madvisor", 0, 0, 0);
	while (!__atomic_load_n(&stopping, __ATOMIC_ACQUIRE)) {
		unsigned seq = __atomic_load_n(&wake_seq, __ATOMIC_ACQUIRE);
		uint64_t now = mv_clock_mono_ns(), sleep = 1000000000u;
		int n = __atomic_load_n(&ntasks, __ATOMIC_ACQUIRE);
		for (int i = 0; i < n; i++) {
			struct mv_task *t = tasks[i];
			if (now >= t->next_ns) {
				t->run(t->arg, now);
				now = mv_clock_mono_ns();
				t->next_ns = now + t->period_ns;
			}
			if (t->next_ns - now < sleep)
				sleep = t->next_ns - now;
		}
		__atomic_fetch_add(&passes, 1, __ATOMIC_RELEASE);
		if (__atomic_load_n(&wake_seq, __ATOMIC_ACQUIRE) == seq)
			futex_wait(&wake_seq, seq, sleep);
	}
	return NULL;
}

static void say_failed(int err)
{
	if (__atomic_exchange_n(&failed_once, 1, __ATOMIC_ACQ_REL) || !mv_once(MV_ONCE_WORKER))
		return;
	mv_out_say(2, err, "features that need it stay off", "cannot start the background thread", NULL);
}

/* The thread's stack comes from madvisor's own reservation (ownmem.h), with
 * a guard page: libc would otherwise map one wherever the kernel finds room,
 * possibly in a hole the program has just made (a fork child restarts the
 * thread right away). Kept for the next start: a thread is never joined
 * while another runs. */
#define STACK (1UL << 20)
static void *stack;

static int stack_attr(pthread_attr_t *attr)
{
	if (!stack) {
		void *s = mv_ownmem_alloc(STACK);
		if (!s)
			return -1;
		mv_own3(SYS_mprotect, s, 4096, PROT_NONE); /* the guard: overflow faults */
		stack = s;
	}
	if (pthread_attr_init(attr) != 0)
		return -1;
	if (pthread_attr_setstack(attr, (char *)stack + 4096, STACK - 4096) != 0) {
		pthread_attr_destroy(attr);
		return -1;
	}
	return 0;
}

/* Call with lock held. */
static int start_locked(void)
{
	if (running)
		return 0;
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old); /* the thread inherits a full mask */
	__atomic_store_n(&stopping, 0, __ATOMIC_RELEASE);
	pthread_attr_t attr;
	int have_attr = stack_attr(&attr) == 0;
	int err = mv_own_pthread_create(&thread, have_attr ? &attr : NULL, loop, NULL);
	if (have_attr)
		pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (err) {
		say_failed(err);
		return -1;
	}
	running = 1;
	return 0;
}

int mv_worker_ensure(void)
{
	if (__atomic_load_n(&running, __ATOMIC_ACQUIRE))
		return 0;
	pthread_mutex_lock(&lock);
	int r = ntasks ? start_locked() : 0;
	pthread_mutex_unlock(&lock);
	return r;
}

int mv_worker_add(struct mv_task *t)
{
	pthread_mutex_lock(&lock);
	if (ntasks == MV_WORKER_TASKS) {
		pthread_mutex_unlock(&lock);
		return -1;
	}
	t->next_ns = 0;
	tasks[ntasks] = t;
	__atomic_store_n(&ntasks, ntasks + 1, __ATOMIC_RELEASE);
	int r = start_locked();
	pthread_mutex_unlock(&lock);
	mv_worker_wake();
	return r;
}

void mv_worker_atfork_child(void)
{
	/* The mutex may have been held by a thread that does not exist here. */
	pthread_mutex_t fresh = PTHREAD_MUTEX_INITIALIZER;
	lock = fresh;
	running = 0;
	stopping = 0;
	is_worker = 0;
}

void mv_worker_stop(void)
{
	pthread_mutex_lock(&lock);
	if (running && !is_worker) {
		__atomic_store_n(&stopping, 1, __ATOMIC_RELEASE);
		mv_worker_wake();
		pthread_join(thread, NULL);
		running = 0;
	}
	pthread_mutex_unlock(&lock);
}
