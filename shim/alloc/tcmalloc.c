/* tcmalloc.c - gperftools tcmalloc through its C API.
 *
 * Figures: MallocExtension_GetNumericProperty for the generic.* and
 * tcmalloc.* properties (pageheap_free_bytes is what ReleaseFreeMemory can
 * give back; pageheap_unmapped_bytes was given back already).
 * Purge: MallocExtension_ReleaseFreeMemory (the whole page heap).
 * Activity: the bytes allocated and the free bytes of the caches.
 * Knobs: tcmalloc.aggressive_memory_decommit through SetNumericProperty. The
 * release rate has no C entry point: the C++ virtual
 * TCMallocImplementation::SetMemoryReleaseRate(double) is called on
 * MallocExtension::instance(), after checking that the instance's vtable
 * holds that very function (so that another MallocExtension is never
 * called through a guessed slot). */
#include <stddef.h>
#include "alloc/api.h"
#include "core/options.h"

typedef int (*get_fn)(const char *, size_t *);
typedef int (*set_fn)(const char *, size_t);
static get_fn get_prop;
static set_fn set_prop;
static void (*release_free)(void);
static void *(*instance)(void);
static void (*set_rate)(void *self, double rate);
static double (*get_rate)(void *self);

static int bind(void *(*sym)(const char *))
{
	get_prop = (get_fn)sym("MallocExtension_GetNumericProperty");
	set_prop = (set_fn)sym("MallocExtension_SetNumericProperty");
	release_free = (void (*)(void))sym("MallocExtension_ReleaseFreeMemory");
	instance = (void *(*)(void))sym("_ZN15MallocExtension8instanceEv");
	set_rate = (void (*)(void *, double))sym("_ZN22TCMallocImplementation20SetMemoryReleaseRateEd");
	get_rate = (double (*)(void *))sym("_ZN22TCMallocImplementation20GetMemoryReleaseRateEv");
	return get_prop && set_prop && release_free ? 0 : -1;
}

static int stats(struct mv_alloc_stats *s)
{
	static const struct { const char *name; size_t off; } figures[] = {
#define NONE ((size_t)-1)
		{ "generic.current_allocated_bytes", offsetof(struct mv_alloc_stats, allocated) },
		{ "generic.heap_size", offsetof(struct mv_alloc_stats, mapped) },
		{ "generic.total_physical_bytes", offsetof(struct mv_alloc_stats, resident) },
		{ "tcmalloc.pageheap_free_bytes", offsetof(struct mv_alloc_stats, dirty) },
		{ "tcmalloc.pageheap_unmapped_bytes", offsetof(struct mv_alloc_stats, retained) },
		{ "tcmalloc.central_cache_free_bytes", NONE },
		{ "tcmalloc.transfer_cache_free_bytes", NONE },
		{ "tcmalloc.thread_cache_free_bytes", NONE },
		{ "tcmalloc.current_total_thread_cache_bytes", NONE },
		{ "tcmalloc.max_total_thread_cache_bytes", NONE },
		{ "tcmalloc.pageheap_committed_bytes", NONE },
		{ "tcmalloc.pageheap_scavenge_count", NONE },
		{ "tcmalloc.pageheap_commit_count", NONE },
		{ "tcmalloc.pageheap_total_commit_bytes", NONE },
		{ "tcmalloc.pageheap_decommit_count", NONE },
		{ "tcmalloc.pageheap_total_decommit_bytes", NONE },
		{ "tcmalloc.pageheap_reserve_count", NONE },
		{ "tcmalloc.pageheap_total_reserve_bytes", NONE },
	};
	int any = 0;
	for (unsigned i = 0; i < sizeof(figures) / sizeof(figures[0]); i++) {
		size_t v;
		if (!get_prop(figures[i].name, &v))
			continue;
		any = 1;
		mv_alloc_prop_add(s, figures[i].name, v);
		if (figures[i].off != NONE)
			*(int64_t *)((char *)s + figures[i].off) = (int64_t)v;
	}
#undef NONE
	s->free_resident = s->dirty;
	return any ? 0 : -1;
}

static int purge(void)
{
	release_free();
	return 0;
}

/* Activity: the bytes the program holds and what the caches in front of
 * the page heap hold; any allocation or free moves one of them. */
static int activity(uint64_t *fp)
{
	static const char *const figures[] = {
		"generic.current_allocated_bytes", "tcmalloc.thread_cache_free_bytes",
		"tcmalloc.central_cache_free_bytes", "tcmalloc.transfer_cache_free_bytes", "generic.heap_size",
	};
	uint64_t h = 0;
	for (unsigned i = 0; i < sizeof(figures) / sizeof(figures[0]); i++) {
		size_t v;
		if (!get_prop(figures[i], &v))
			return -1;
		h = mv_alloc_mix(h, v);
	}
	*fp = h;
	return 0;
}

static int set_aggressive(uint64_t v, const char **why)
{
	if (set_prop("tcmalloc.aggressive_memory_decommit", (size_t)v))
		return 0;
	*why = "tcmalloc refused tcmalloc.aggressive_memory_decommit";
	return -1;
}

static int get_aggressive(int64_t *v)
{
	size_t x;
	if (!get_prop("tcmalloc.aggressive_memory_decommit", &x))
		return -1;
	*v = (int64_t)x;
	return 0;
}

/* The MallocExtension instance, if it is tcmalloc's own implementation. */
static void *tcmalloc_instance(void)
{
	if (!instance || !set_rate || !get_rate)
		return NULL;
	void *self = instance();
	if (!self)
		return NULL;
	void *const *vtable = *(void *const *const *)self;
	for (int i = 0; i < 48; i++)
		if (vtable[i] == (void *)set_rate)
			return self;
	return NULL;
}

static int set_release_rate(uint64_t v, const char **why)
{
	void *self = tcmalloc_instance();
	if (!self) {
		*why = "this tcmalloc has no SetMemoryReleaseRate";
		return -1;
	}
	set_rate(self, (double)v);
	return 0;
}

static int get_release_rate(int64_t *v)
{
	void *self = tcmalloc_instance();
	if (!self)
		return -1;
	*v = (int64_t)(get_rate(self) + 0.5);
	return 0;
}

/* Under pressure tcmalloc decommits every freed span at once: the page
 * heap release reaches neither thread caches nor central lists. */
static int pressure(int on)
{
	static int saved = -1;
	size_t v;
	if (on) {
		if (saved < 0 && get_prop("tcmalloc.aggressive_memory_decommit", &v))
			saved = (int)v;
		return set_prop("tcmalloc.aggressive_memory_decommit", 1) ? 0 : -1;
	}
	if (saved >= 0) {
		set_prop("tcmalloc.aggressive_memory_decommit", (size_t)saved);
		saved = -1;
	}
	return 0;
}

/* tcmalloc's own extension is registered (the stub answers no property). */
static int ready(void)
{
	size_t v;
	return get_prop("generic.current_allocated_bytes", &v);
}

static const struct mv_alloc_knob knobs[] = {
	{ MV_OPT_TCMALLOC_AGGRESSIVE_DECOMMIT, set_aggressive, get_aggressive },
	{ MV_OPT_TCMALLOC_RELEASE_RATE, set_release_rate, get_release_rate },
};

const struct mv_alloc_backend mv_alloc_tcmalloc = {
	.kind = MV_ALLOC_TCMALLOC,
	.purge_name = "MallocExtension_ReleaseFreeMemory",
	.bind = bind,
	.stats = stats,
	.purge = purge,
	.activity = activity,
	.pressure = pressure,
	.ready = ready,
	.knobs = knobs,
	.nknobs = sizeof(knobs) / sizeof(knobs[0]),
};
