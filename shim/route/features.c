/* features.c - every feature of the library in one table, in the one order
 * that start-up, fork and the report follow (features.h).
 *
 * Start-up starts the rows top to bottom: a row that comes up sets its bits
 * of mv_hot.route (so mv_handle() starts routing calls through it) and adds
 * its periodic work to the worker. One set of fork handlers, registered at
 * the "fork" row, runs the rows that are on: prepare top to bottom, parent
 * and child bottom to top (locks taken in one order are released in the
 * reverse one, as jemalloc's prefork/postfork do); then, in the child, the
 * worker starts again if a row needs its tick there. The report prints the
 * rows' sections top to bottom.
 *
 * Why this order:
 *  - core first: the counters, clock and worker every other row uses. Its
 *    child handler, run last, leaves them fresh for the child: it counts its
 *    own calls, and its worker is started again only after every row has
 *    reset its own state and locks.
 *  - advice and stats only decide (the policy for allocator purges, whether
 *    calls are counted: calls before the constructor were) and start
 *    nothing; their refusals come first on stderr, as before any feature.
 *  - alloc, then attrib, before the fork row: both call into the allocator
 *    (attribution also dlopens libunwind, which mallocs), so the allocator
 *    has registered its own fork handlers by then. Ours, registered later,
 *    run their child part after the allocator's postfork, so that starting
 *    the worker there may malloc, and prepare before its prefork takes its
 *    locks. Attribution primes libunwind before any thread of ours runs: no
 *    row above it has a task.
 *  - the fork row before every row that holds locks across calls or runs on
 *    the worker: none of them is ever on without the handlers.
 *  - trace before ptmodel: the trace holds the model's first sample; the
 *    sweep needs the model.
 *  - munmap last: its prepare takes the registry and cache locks after every
 *    other prepare has run (no other prepare runs while they are held), its
 *    child releases them and gives back what the child inherited before any
 *    other child handler runs; and ptmodel's report section comes before
 *    munmap's. */
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include "route/features.h"
#include "core/hot.h"
#include "core/runtime.h"
#include "core/stats.h"
#include "core/trace.h"
#include "sys/clock.h"
#include "sys/outbuf.h"
#include "sys/probe.h"
#include "sys/worker.h"
#include "munmap/munmap.h"
#include "ptmodel/hook.h"
#include "ptmodel/sweep.h"
#include "alloc/api.h"
#include "alloc/adaptive.h"
#include "observe/attrib.h"
#include "observe/live.h"

/* ---- each row's start, as the table calls it ------------------------------ */

static int start_fork(const struct mv_options *o, int fd);

/* In a fork child: it counts its own calls from here on, and its worker
 * thread does not exist. */
static void core_child(void)
{
	mv_stats_atfork_child();
	mv_worker_atfork_child();
	mv_clock_start();
	mv_rt.start_ns = mv_clock_mono_ns();
}

/* pt_reclaim's fresh cores need the munmap strategies' map registry (the
 * munmap row, below). */
static int start_advice(const struct mv_options *o, int fd)
{
	mv_advice_init(&mv_hot.advice, o, &mv_rt.allocator, mv_probe_get,
		       o->munmap != MV_MUNMAP_PASSTHROUGH ? mv_munmap_plain_vma : NULL, fd);
	return mv_hot.advice.active;
}

/* Counting costs a few dozen instructions a call: only when a report will
 * show it. */
static int start_stats(const struct mv_options *o, int fd)
{
	(void)fd;
	return o->stats || o->stats_file[0] || o->stats_text_file[0];
}

static int start_alloc(const struct mv_options *o, int fd)
{
	int bound = mv_alloc_init(&mv_rt.allocator) == 0;
	mv_alloc_apply_knobs(o, fd);
	return bound;
}

static int start_attrib(const struct mv_options *o, int fd)
{
	return o->attribution && mv_attrib_start(o, fd) == 0;
}

static int start_adaptive(const struct mv_options *o, int fd)
{
	return o->adaptive && mv_adaptive_start(o, fd) == 0;
}

/* Live stats show the counters: every call is counted while they are on. */
static int start_live(const struct mv_options *o, int fd)
{
	return (o->live_file[0] || o->live_prom_file[0] || o->live_signal) && mv_live_start(o, fd) == 0;
}

static int start_trace(const struct mv_options *o, int fd)
{
	return o->trace[0] && mv_trace_start(o->trace, o->trace_max, (unsigned)mv_rt.allocator.kind, fd) == 0;
}

static int start_ptmodel(const struct mv_options *o, int fd)
{
	(void)fd; /* its lines go to stderr */
	return (o->ptmodel || o->sweep) && mv_ptm_start(o, mv_probe_get()) == 0;
}

static int start_sweep(const struct mv_options *o, int fd)
{
	return mv_sweep_start(o, mv_probe_get(), fd) == 0;
}

static int start_munmap(const struct mv_options *o, int fd)
{
	return mv_munmap_start(o, fd) != MV_MUNMAP_PASSTHROUGH;
}

/* ---- the table ------------------------------------------------------------- */

static const struct mv_feature features[] = {
	{ .name = "core", .child = core_child },
	{ .name = "advice", .route = MV_ROUTE_ADVICE, .start = start_advice },
	{ .name = "stats", .route = MV_ROUTE_COUNT, .start = start_stats },
	{ .name = "alloc", .start = start_alloc },
	{ .name = "attrib", .route = MV_ROUTE_COUNT | MV_ROUTE_ATTRIB, .start = start_attrib,
	  .child = mv_attrib_atfork_child },
	{ .name = "fork", .start = start_fork },
	{ .name = "adaptive", .start = start_adaptive, .tick = &mv_adaptive_worker_task, .tick_in_child = 1 },
	{ .name = "live", .route = MV_ROUTE_COUNT, .start = start_live, .tick = &mv_live_worker_task,
	  .tick_in_child = 1 },
	{ .name = "trace", .route = MV_ROUTE_MODEL, .start = start_trace, .child = mv_trace_atfork_child,
	  .tick = &mv_trace_worker_task },
	{ .name = "ptmodel", .route = MV_ROUTE_MODEL, .start = start_ptmodel, .child = mv_ptm_atfork_child,
	  .tick = &mv_ptm_worker_task, .tick_in_child = 1, .emit_json = mv_ptm_report_json,
	  .emit_text = mv_ptm_report_text },
	{ .name = "sweep", .start = start_sweep, .child = mv_sweep_atfork_child, .tick = &mv_sweep_worker_task,
	  .tick_in_child = 1 },
	{ .name = "munmap", .route = MV_ROUTE_MUNMAP, .start = start_munmap, .prepare = mv_munmap_atfork_prepare,
	  .parent = mv_munmap_atfork_parent, .child = mv_munmap_atfork_child, .tick = &mv_munmap_worker_task,
	  .emit_json = mv_munmap_report_json, .emit_text = mv_munmap_report_text },
};

#define NFEATURES ((int)(sizeof(features) / sizeof(features[0])))
_Static_assert(NFEATURES <= 32, "one bit of `on` per row");

static unsigned on;       /* rows that are on (bit i: features[i]) */
static unsigned on_route; /* their route bits */

/* ---- fork -------------------------------------------------------------------- */

static void fork_prepare(void)
{
	for (int i = 0; i < NFEATURES; i++)
		if ((on >> i & 1) && features[i].prepare)
			features[i].prepare();
}

static void fork_parent(void)
{
	for (int i = NFEATURES; i-- > 0;)
		if ((on >> i & 1) && features[i].parent)
			features[i].parent();
}

static void fork_child(void)
{
	int worker = 0;
	for (int i = NFEATURES; i-- > 0;) {
		if (!(on >> i & 1))
			continue;
		if (features[i].child)
			features[i].child();
		worker |= features[i].tick_in_child;
	}
	if (worker)
		mv_worker_ensure();
}

static int start_fork(const struct mv_options *o, int fd)
{
	static int registered;
	if (registered)
		return 1;
	int err = pthread_atfork(fork_prepare, fork_parent, fork_child);
	if (err == 0)
		return registered = 1;
	char then[256];
	struct mv_outbuf b;
	mv_out_init(&b, then, sizeof(then), -1);
	if (o->strict) {
		mv_out_str(&b, "exiting (strict)");
	} else {
		/* Every row below this one needs them. */
		int i = 0;
		while (features[i].start != start_fork)
			i++;
		for (int j = i + 1; j < NFEATURES; j++) {
			mv_out_str(&b, features[j].name);
			mv_out_str(&b, j + 1 == NFEATURES ? " stay off" : j + 2 == NFEATURES ? " and " : ", ");
		}
	}
	(void)fd; /* the line goes to stderr */
	mv_out_say(2, err, mv_out_cstr(&b), "cannot register the fork handlers", NULL);
	if (o->strict)
		_exit(2);
	return 0;
}

/* ---- start-up ------------------------------------------------------------------ */

static int start_row(int i, const struct mv_options *o, int fd)
{
	const struct mv_feature *f = &features[i];
	int up = f->start ? f->start(o, fd) : 1;
	if (up) {
		on |= 1u << i;
		on_route |= f->route;
		if (f->route)
			__atomic_fetch_or(&mv_hot.route, f->route, __ATOMIC_RELEASE);
		if (f->tick)
			(void)mv_worker_add(f->tick); /* said once on stderr when it fails */
	} else if (f->route & ~on_route) {
		/* Off: its bits go, unless a row that is on has them too. */
		__atomic_fetch_and(&mv_hot.route, ~(f->route & ~on_route), __ATOMIC_RELEASE);
	}
	return up;
}

void mv_features_start(const struct mv_options *o, int fd)
{
	mv_rt.features = features;
	mv_rt.nfeatures = NFEATURES;
	for (int i = 0; i < NFEATURES; i++)
		if (!start_row(i, o, fd) && features[i].start == start_fork)
			break; /* the rows below need the fork handlers */
}

int mv_feature_start(const char *name, const struct mv_options *o, int fd)
{
	mv_rt.features = features;
	mv_rt.nfeatures = NFEATURES;
	if (!start_fork(o, fd))
		return 0;
	for (int i = 0; i < NFEATURES; i++)
		if (strcmp(features[i].name, name) == 0)
			return start_row(i, o, fd);
	return -1;
}
