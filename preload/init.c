/* init.c - start-up, fork and exit for the preload library.
 *
 * Calls made before the constructor runs (other libraries' constructors, the
 * allocator's own start-up) already work: they go to the kernel as raw system
 * calls and are counted. The constructor then reads the configuration,
 * resolves the next definitions of the wrapped functions, detects the
 * allocator and registers the fork handler. The destructor writes the report. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <gnu/libc-version.h>
#include "sys/clock.h"
#include "core/config.h"
#include "core/kernel.h"
#include "munmap/rangecalls.h"
#include "sys/ownmem.h"
#include "sys/once.h"
#include "core/hot.h"
#include "sys/probe.h"
#include "ptmodel/hook.h"
#include "core/trace.h"
#include "observe/report.h"
#include "core/runtime.h"
#include "core/stats.h"
#include "sys/worker.h"
#include "munmap/munmap.h"
#include "sys/ownsys.h"
#include "alloc/adaptive.h"
#include "alloc/api.h"
#include "observe/attrib.h"
#include "observe/live.h"

static const char *env_get(const char *name)
{
	return secure_getenv(name);
}

/* The next definition of `name` when it lives outside libc (gperftools'
 * libtcmalloc exports its own mmap/munmap/mremap); NULL means "use raw system
 * calls", which is exactly what libc's own definitions do. */
static void *next_if_foreign(const char *name)
{
	Dl_info self, libc, nx;
	void *p = mv_own_dlsym(RTLD_NEXT, name);
	if (!p || !dladdr(p, &nx))
		return NULL;
	if (dladdr((void *)gnu_get_libc_version, &libc) && nx.dli_fbase == libc.dli_fbase)
		return NULL;
	if (dladdr((void *)next_if_foreign, &self) && nx.dli_fbase == self.dli_fbase)
		return NULL;
	return p;
}

static void resolve_next(void)
{
	struct mv_next n = {
		.mmap = (void *(*)(void *, size_t, int, int, int, off_t))next_if_foreign("mmap"),
		.munmap = (int (*)(void *, size_t))next_if_foreign("munmap"),
		.mremap = (void *(*)(void *, size_t, size_t, int, ...))next_if_foreign("mremap"),
		.madvise = (int (*)(void *, size_t, int))next_if_foreign("madvise"),
		.mprotect = (int (*)(void *, size_t, int))next_if_foreign("mprotect"),
	};
	/* The objects those functions live in (libtcmalloc, typically). */
	void *fns[] = { (void *)n.mmap, (void *)n.munmap, (void *)n.mremap, (void *)n.madvise, (void *)n.mprotect };
	int k = 0;
	for (unsigned i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		int known = 0;
		for (int j = 0; j < k; j++)
			known |= mv_text_has(&n.text[j], fns[i]);
		if (fns[i] && !known && k < 2 && mv_object_text(fns[i], &n.text[k]) == 0)
			k++;
	}
	mv_kernel_set_next(&n);
	/* libc's msync is a cancellation point: keep it one. */
	mv_kernel_set_msync((int (*)(void *, size_t, int))mv_own_dlsym(RTLD_NEXT, "msync"));
}

static void atfork_child(void)
{
	/* The child counts its own calls from here on. */
	mv_stats_atfork_child();
	mv_worker_atfork_child();
	mv_ptm_atfork_child();
	mv_trace_atfork_child();
	mv_clock_start();
	mv_rt.start_ns = mv_clock_mono_ns();
}

/* The fork child has no worker thread: start it again for the tasks that
 * need one there (the page-table model's, adaptive purging, live stats).
 * Registered last, so that it runs after every other child handler of
 * madvisor's: a thread started earlier could find a lock (a munmap arena's)
 * still held from before the fork, and wait on it for ever. */
static int child_worker;

static void atfork_child_worker(void)
{
	if (child_worker)
		mv_worker_ensure();
}

static void start_alloc(const struct mv_options *o, const struct mv_allocator_info *a, int fd)
{
	mv_alloc_init(a);
	mv_alloc_apply_knobs(o, fd);
	/* Live stats show the counters: count every call from now on. */
	int live = o->live_file[0] || o->live_prom_file[0] || o->live_signal;
	if (live)
		__atomic_fetch_or(&mv_hot.counting, 1, __ATOMIC_RELEASE);
	/* Attribution first: its unwinder is primed before any thread of ours runs. */
	mv_attrib_start(o, fd);
	int tasks = mv_adaptive_start(o, fd) == 0 && o->adaptive;
	tasks |= mv_live_start(o, fd) == 0 && live;
	child_worker |= tasks;
}

__attribute__((constructor)) static void mv_init(void)
{
	mv_clock_start();
	mv_rt.start_ns = mv_clock_mono_ns();
	if (mv_config_load(&mv_rt.opt, env_get, 2) != 0)
		mv_rt.opt.enabled = 0; /* fail open: plain passthrough */
	if (!mv_rt.opt.enabled) {
		__atomic_store_n(&mv_hot.counting, 0, __ATOMIC_RELAXED);
		mv_rt.configured = 1;
		return;
	}
	mv_ownmem_reserve(); /* before the program's calls, so never in one of its holes */
	mv_once_start();     /* likewise: the flags a process tree shares */
	mv_stats_set_time_every(mv_rt.opt.time_every);
	mv_stats_init_threads();
	resolve_next();
	int wanted = mv_allocator_wanted(&mv_rt.opt);
	mv_allocator_detect(&mv_rt.allocator, wanted);
	if (wanted)
		mv_allocator_say_stripped(&mv_rt.allocator, 2);
	/* pt_reclaim's fresh cores need the munmap strategies' map registry (started below). */
	mv_advice_init(&mv_hot.advice, &mv_rt.opt, &mv_rt.allocator, mv_probe_get,
		       mv_rt.opt.munmap != MV_MUNMAP_PASSTHROUGH ? mv_munmap_plain_vma : NULL, 2);
	pthread_atfork(NULL, NULL, atfork_child);
	/* Counting costs a few dozen instructions a call: only when a report
	 * will show it. Calls made before this point were counted anyway. */
	if (!mv_rt.opt.stats && !mv_rt.opt.stats_file[0] && !mv_rt.opt.stats_text_file[0])
		__atomic_store_n(&mv_hot.counting, 0, __ATOMIC_RELAXED);
	mv_munmap_start(&mv_rt.opt, 2); /* munmap strategies (off by default) */
	/* Allocator API and knobs, purge attribution, adaptive purging, live stats. */
	start_alloc(&mv_rt.opt, &mv_rt.allocator, 2);
	/* Call trace, page-table model and stranded-table sweep (off by default;
	 * the trace first, so that it holds the model's first sample). */
	if (mv_rt.opt.trace[0] &&
	    mv_trace_start(mv_rt.opt.trace, mv_rt.opt.trace_max, (unsigned)mv_rt.allocator.kind, 2) == 0)
		__atomic_fetch_or(&mv_hot.counting, MV_COUNT_MODEL, __ATOMIC_RELEASE);
	if (mv_rt.opt.ptmodel || mv_rt.opt.sweep)
		mv_ptm_start(&mv_rt.opt, mv_probe_get(), 2);
	child_worker |= mv_ptm_enabled();
	pthread_atfork(NULL, NULL, atfork_child_worker);
	if (mv_rt.opt.print_config)
		mv_config_print(&mv_rt.opt, 2);
	mv_rt.configured = 1;
}

__attribute__((destructor)) static void mv_fini(void)
{
	mv_worker_stop();
	if (mv_rt.configured && mv_rt.opt.enabled)
		mv_report_at_exit(&mv_rt.opt, &mv_rt.allocator, mv_rt.start_ns);
	mv_trace_flush(); /* after the report: its final sample is traced too */
}
