/* api.c - bind the detected allocator's backend; snapshots and
 * allocator-wide purges through it, counted for reports. */
#include <dlfcn.h>
#include <string.h>
#include "sys/ownsys.h"
#include "alloc/api.h"
#include "sys/clock.h"
#include "core/options.h"

static const struct mv_alloc_backend *bound;
static enum mv_allocator detected = MV_ALLOC_UNKNOWN;
static void *malloc_base; /* load address of the object defining malloc */
static uint64_t purges, purge_ns;

/* A symbol of the object that defines malloc: an allocator linked privately
 * into another library must not be mistaken for the program's. */
static void *sym(const char *name)
{
	Dl_info di;
	void *p = mv_own_dlsym(RTLD_DEFAULT, name);
	if (!p || !dladdr(p, &di) || di.dli_fbase != malloc_base)
		return NULL;
	return p;
}

static const struct mv_alloc_backend *backend_for(enum mv_allocator kind)
{
	switch (kind) {
	case MV_ALLOC_JEMALLOC:
		return &mv_alloc_jemalloc;
	case MV_ALLOC_TCMALLOC:
		return &mv_alloc_tcmalloc;
	case MV_ALLOC_MIMALLOC:
		return &mv_alloc_mimalloc;
	case MV_ALLOC_GLIBC:
		return &mv_alloc_glibc;
	default:
		return NULL;
	}
}

int mv_alloc_init(const struct mv_allocator_info *a)
{
	Dl_info di;
	void *m = mv_own_dlsym(RTLD_DEFAULT, "malloc");
	const struct mv_alloc_backend *b = backend_for(a->kind);
	bound = NULL;
	detected = a->kind;
	if (!b || !m || !dladdr(m, &di))
		return -1;
	malloc_base = di.dli_fbase;
	if (b->bind(sym) != 0)
		return -1;
	bound = b;
	return 0;
}

int mv_alloc_use(const struct mv_alloc_backend *b, void *(*lookup)(const char *name))
{
	bound = NULL;
	if (b && b->bind(lookup) != 0)
		return -1;
	bound = b;
	return 0;
}

const struct mv_alloc_backend *mv_alloc_backend(void)
{
	return bound;
}

enum mv_allocator mv_alloc_detected(void)
{
	return bound ? bound->kind : detected;
}

void mv_alloc_prop_add(struct mv_alloc_stats *s, const char *name, uint64_t value)
{
	if (s->nprops < MV_ALLOC_PROPS) {
		s->props[s->nprops].name = name;
		s->props[s->nprops].value = value;
		s->nprops++;
	}
}

int mv_alloc_stats(struct mv_alloc_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->resident = out->active = out->allocated = out->mapped = -1;
	out->retained = out->dirty = out->muzzy = out->free_resident = -1;
	if (!bound || !bound->stats)
		return -1;
	return bound->stats(out);
}

int mv_alloc_purge(void)
{
	if (!bound || !bound->purge)
		return -1;
	uint64_t t0 = mv_clock_mono_ns();
	int r = bound->purge();
	uint64_t dt = mv_clock_mono_ns() - t0;
	__atomic_fetch_add(&purges, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&purge_ns, dt, __ATOMIC_RELAXED);
	return r;
}

int mv_alloc_pressure(int on)
{
	if (!bound || !bound->pressure)
		return 0;
	return bound->pressure(on) == 0 ? 1 : -1;
}

void mv_alloc_purge_counts(uint64_t *n, uint64_t *ns)
{
	*n = __atomic_load_n(&purges, __ATOMIC_RELAXED);
	*ns = __atomic_load_n(&purge_ns, __ATOMIC_RELAXED);
}

enum mv_allocator mv_alloc_knob_owner(int opt)
{
	static const struct { const char *prefix; enum mv_allocator kind; } owners[] = {
		{ "jemalloc.", MV_ALLOC_JEMALLOC },
		{ "tcmalloc.", MV_ALLOC_TCMALLOC },
		{ "mimalloc.", MV_ALLOC_MIMALLOC },
	};
	if (opt < 0 || opt >= MV_OPT_COUNT)
		return MV_ALLOC_UNKNOWN;
	for (unsigned i = 0; i < sizeof(owners) / sizeof(owners[0]); i++)
		if (!strncmp(mv_option_table[opt].name, owners[i].prefix, strlen(owners[i].prefix)))
			return owners[i].kind;
	return MV_ALLOC_UNKNOWN;
}
