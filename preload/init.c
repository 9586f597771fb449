/* init.c - start-up, fork and exit for the preload library.
 *
 * Calls made before the constructor runs (other libraries' constructors, the
 * allocator's own start-up) already work: they go to the kernel as raw system
 * calls and are counted. The constructor reads the configuration, resolves
 * the next definitions of the wrapped functions, detects the allocator and
 * starts the features in their order (route/features.c, which also registers
 * the fork handlers). The destructor writes the report. */
#include <dlfcn.h>
#include <stdlib.h>
#include <gnu/libc-version.h>
#include "sys/clock.h"
#include "core/config.h"
#include "core/kernel.h"
#include "sys/ownmem.h"
#include "sys/once.h"
#include "core/hot.h"
#include "core/trace.h"
#include "observe/report.h"
#include "core/runtime.h"
#include "core/stats.h"
#include "sys/worker.h"
#include "sys/ownsys.h"
#include "route/handle.h"
#include "route/features.h"

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
	mv_handle_set_next(&n);
	/* libc's msync is a cancellation point: keep it one. */
	mv_kernel_set_msync((int (*)(void *, size_t, int))mv_own_dlsym(RTLD_NEXT, "msync"));
}

__attribute__((constructor)) static void mv_init(void)
{
	mv_clock_start();
	mv_rt.start_ns = mv_clock_mono_ns();
	if (mv_config_load(&mv_rt.opt, env_get, 2) != 0)
		mv_rt.opt.enabled = 0; /* fail open: plain passthrough */
	if (!mv_rt.opt.enabled) {
		__atomic_store_n(&mv_hot.route, 0, __ATOMIC_RELAXED);
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
	/* Advice transforms, counting, the allocator API and knobs, attribution,
	 * the fork handlers, adaptive purging, live stats, the trace, the
	 * page-table model and sweep, munmap strategies: each as the options say. */
	mv_features_start(&mv_rt.opt, 2);
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
