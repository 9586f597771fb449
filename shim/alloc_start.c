/* alloc_start.c - start-up of the allocator integration (alloc_start.h). */
#include <pthread.h>
#include "adaptive.h"
#include "alloc_api.h"
#include "alloc_start.h"
#include "attrib.h"
#include "hot.h"
#include "live.h"
#include "worker.h"

/* The fork child has no worker thread: start it again for the tasks. */
static void atfork_child(void)
{
	mv_worker_ensure();
}

void mv_alloc_start(const struct mv_options *o, const struct mv_allocator_info *a, int fd)
{
	mv_alloc_init(a);
	mv_alloc_apply_knobs(o, fd);
	/* Live stats show the counters: count every call from now on. */
	if (o->live_file[0] || o->live_prom_file[0] || o->live_signal)
		__atomic_fetch_or(&mv_hot.counting, 1, __ATOMIC_RELEASE);
	/* Attribution first: its unwinder is primed before any thread of ours runs. */
	mv_attrib_start(o, fd);
	int tasks = mv_adaptive_start(o, fd) == 0 && o->adaptive;
	tasks |= mv_live_start(o, fd) == 0 && (o->live_file[0] || o->live_prom_file[0] || o->live_signal);
	if (tasks)
		pthread_atfork(NULL, NULL, atfork_child);
}
