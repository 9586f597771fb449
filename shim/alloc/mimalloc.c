/* mimalloc.c - mimalloc through mi_option_*, mi_collect and
 * mi_process_info.
 *
 * Figures: what mi_process_info gives (current/peak RSS of the process,
 * current/peak memory committed by mimalloc); mimalloc has no public count
 * of its free-but-resident memory.
 * Purge: mi_collect(true) on madvisor's thread, made a mimalloc thread first
 * (mi_thread_init): mi_collect works on the calling thread's heap and
 * returns at once on a thread mimalloc does not know; on a known one it
 * also takes over and frees the segments that threads which have exited
 * left behind. Memory that live threads have freed stays theirs: only they
 * purge it (after the purge delay, when they next call into mimalloc).
 * Knob: the purge delay. mimalloc 1.x/2.0 call it mi_option_decommit_delay,
 * 2.1 mi_option_purge_delay; both are option number 15. Other major
 * versions are not assumed to keep the number: the knob is refused there. */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include "alloc/api.h"
#include "core/options.h"

#define OPT_PURGE_DELAY 15

static int (*version)(void);
static long (*option_get)(int);
static void (*option_set)(int, long);
static void (*collect)(bool);
static void (*thread_init)(void);
static void (*process_info)(size_t *, size_t *, size_t *, size_t *, size_t *, size_t *, size_t *, size_t *);

static int bind(void *(*sym)(const char *))
{
	version = (int (*)(void))sym("mi_version");
	option_get = (long (*)(int))sym("mi_option_get");
	option_set = (void (*)(int, long))sym("mi_option_set");
	collect = (void (*)(bool))sym("mi_collect");
	thread_init = (void (*)(void))sym("mi_thread_init");
	process_info = (void (*)(size_t *, size_t *, size_t *, size_t *, size_t *, size_t *, size_t *, size_t *))
		sym("mi_process_info");
	return version && collect ? 0 : -1;
}

static int stats(struct mv_alloc_stats *s)
{
	size_t elapsed, user, sys, rss, peak_rss, commit, peak_commit, faults;
	if (!process_info)
		return -1;
	process_info(&elapsed, &user, &sys, &rss, &peak_rss, &commit, &peak_commit, &faults);
	mv_alloc_prop_add(s, "current_rss", rss);
	mv_alloc_prop_add(s, "peak_rss", peak_rss);
	mv_alloc_prop_add(s, "current_commit", commit);
	mv_alloc_prop_add(s, "peak_commit", peak_commit);
	s->resident = (int64_t)commit;
	return 0;
}

static int purge(void)
{
	if (thread_init)
		thread_init(); /* once per thread; later calls return at once */
	collect(true);
	return 0;
}

/* CPU time of the program's own threads in steps of 20 ms: the process's
 * less the calling thread's (madvisor's worker, which asks). A thread that
 * allocates steps it within milliseconds; a quiet one polling a timer (a few
 * microseconds a wake-up) moves it once in minutes. */
#define CPU_STEP_MS 20u
static uint64_t program_cpu_steps(void)
{
	struct timespec p, t;
	if (clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &p) != 0 || clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t) != 0)
		return 0;
	uint64_t pn = (uint64_t)p.tv_sec * 1000000000u + (uint64_t)p.tv_nsec;
	uint64_t tn = (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
	return (pn > tn ? pn - tn : 0) / (CPU_STEP_MS * 1000000u);
}

/* Activity: mimalloc keeps no allocation count in release builds; its
 * committed memory and the process's page faults move as a program
 * allocates into new pages, but reuse of pages it holds moves neither
 * (a busy program looked idle). So the program's CPU time counts too: a
 * program whose threads run is not idle; one whose threads sleep or only
 * wake now and then is. */
static int activity(uint64_t *fp)
{
	size_t elapsed, user, sys, rss, peak_rss, commit, peak_commit, faults;
	if (!process_info)
		return -1;
	process_info(&elapsed, &user, &sys, &rss, &peak_rss, &commit, &peak_commit, &faults);
	*fp = mv_alloc_mix(mv_alloc_mix(mv_alloc_mix(mv_alloc_mix(0, commit), peak_commit), faults),
			   program_cpu_steps());
	return 0;
}

static int known_layout(void)
{
	int v = version();
	return option_get && option_set && v >= 100 && v < 300;
}

static int set_purge_delay(uint64_t v, const char **why)
{
	if (!known_layout()) {
		*why = "unknown mimalloc version";
		return -1;
	}
	option_set(OPT_PURGE_DELAY, (long)v);
	if (option_get(OPT_PURGE_DELAY) != (long)v) {
		*why = "mimalloc did not take the value";
		return -1;
	}
	return 0;
}

static int get_purge_delay(int64_t *v)
{
	if (!known_layout())
		return -1;
	*v = option_get(OPT_PURGE_DELAY);
	return 0;
}

/* Under pressure the purge delay goes to 0: mi_collect only reaches the
 * calling thread's heap, so the other threads must purge as they free. */
static int pressure(int on)
{
	static long saved = -1;
	if (!known_layout())
		return -1;
	if (on) {
		if (saved < 0)
			saved = option_get(OPT_PURGE_DELAY);
		option_set(OPT_PURGE_DELAY, 0);
	} else if (saved >= 0) {
		option_set(OPT_PURGE_DELAY, saved);
		saved = -1;
	}
	return 0;
}

static const struct mv_alloc_knob knobs[] = {
	{ MV_OPT_MIMALLOC_PURGE_DELAY, set_purge_delay, get_purge_delay },
};

const struct mv_alloc_backend mv_alloc_mimalloc = {
	.kind = MV_ALLOC_MIMALLOC,
	.purge_name = "mi_collect(true)",
	.bind = bind,
	.stats = stats,
	.purge = purge,
	.activity = activity,
	.pressure = pressure,
	.knobs = knobs,
	.nknobs = sizeof(knobs) / sizeof(knobs[0]),
	.note = "mimalloc does not report its free-but-resident memory; resident is its committed memory",
};
