/* whatif.h - the munmap strategies run on paper, for `madvisor replay`.
 *
 * Replay answers "what would munmap:recycle or munmap:defer have done with
 * this trace" by driving the library's own strategy code (munmap.c,
 * mapcache.c, registry.c) with the trace's calls, not a copy of it. Two
 * things must then not reach the kernel: the program's calls, which replay
 * sends to a pretend kernel installed as the next functions (core/kernel.h),
 * and the calls the strategy makes on its own behalf on held ranges (unmap,
 * page drops, zeroing a recycled range). The latter go through
 * mv_held_call() below: the kernel normally, the what-if hook in a what-if
 * run, which counts them and answers as the kernel would. The clock and the
 * thread (arena) are the trace's, and replay calls mv_munmap_tick() at the
 * worker's period (mv_munmap_worker_task.period_ns, set here) of trace time;
 * memory pressure is not read. */
#ifndef MADVISOR_WHATIF_H
#define MADVISOR_WHATIF_H

#include <stdint.h>
#include "core/request.h"
#include "core/options.h"

struct mv_whatif {
	/* A call the strategy makes on a held range (MV_MUNMAP, MV_MADVISE with
	 * MADV_DONTNEED, MV_PROCESS_MADVISE over iov): the kernel's result. */
	long (*call)(void *arg, const struct mv_request *q);
	uint64_t (*now)(void *arg);       /* the trace's clock, ns */
	unsigned (*arena)(void *arg);     /* the arena of the thread making the call */
	void *arg;
};

/* Set in a what-if run only (replay, one thread). */
extern const struct mv_whatif *mv_whatif_on;

/* A call on a held range: issued with the library's own system calls, or
 * handed to the what-if hook. */
long mv_held_call(const struct mv_request *q);

/* Start the strategy o asks for on paper, forgetting everything an earlier
 * run held or knew (registry, arenas, counters). Returns the mode in force
 * (0: passthrough, nothing to run), or -1 when its tables cannot be mapped.
 * Requests then go to mv_munmap_dispatch(); mv_munmap_tick() ages; the
 * report functions (munmap.h) give the counters. */
int mv_whatif_start(const struct mv_options *o, const struct mv_whatif *w);
/* End the run, as the process would exit: what is held goes, no call made. */
void mv_whatif_end(void);

#endif
