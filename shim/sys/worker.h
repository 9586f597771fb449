/* worker.h - madvisor's background thread.
 *
 * Work that must not run on an application thread (flushing queues, trimming
 * caches, sampling /proc, sweeping page tables, reading memory pressure)
 * runs here as periodic tasks. The thread blocks every signal, never runs
 * application code, and is started only when a feature registers a task.
 * After fork the child has no worker; it starts again on the next
 * mv_worker_ensure() or mv_worker_add(). */
#ifndef MADVISOR_WORKER_H
#define MADVISOR_WORKER_H

#include <stdint.h>
#include "sys/testhook.h"

#define MV_WORKER_TASKS 16

struct mv_task {
	const char *name;
	uint64_t period_ns;                       /* run at least this often */
	void (*run)(void *arg, uint64_t now_ns);  /* never blocks for long */
	void *arg;
	uint64_t next_ns;                         /* managed by the worker */
};

/* Register a task (its storage must stay valid) and make sure the worker
 * runs. Returns 0, or -1 when the task table is full or the thread cannot be
 * created (said once on stderr; the feature should then degrade). */
int mv_worker_add(struct mv_task *t);
/* Start the worker if it is not running (after fork, say). 0 or -1. */
int mv_worker_ensure(void);
/* Wake the worker now (async-signal-safe, lock-free). */
void mv_worker_wake(void);
/* Test hook: the number of completed passes over the task list. */
MV_TEST_HOOK uint64_t mv_worker_passes(void);
/* Whether the calling thread is the worker. */
int mv_worker_is_self(void);
/* In the fork child: the worker thread does not exist there. */
void mv_worker_atfork_child(void);
/* Stop the worker and wait for it (at exit). Tasks stay registered. */
void mv_worker_stop(void);

#endif
