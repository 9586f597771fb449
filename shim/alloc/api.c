/* api.c - bind the detected allocator's backend; snapshots and
 * allocator-wide purges through it, counted for reports. */
#include <dlfcn.h>
#include <string.h>
#include "sys/ownsys.h"
#include "alloc/api.h"
#include "sys/clock.h"
#include "sys/procstat.h"
#include "sys/elfsym.h"
#include "core/options.h"

static const struct mv_alloc_backend *bound;
static enum mv_allocator detected = MV_ALLOC_UNKNOWN;
static const struct mv_allocator_info *where; /* the detected allocator's object */
static uint64_t purges, purge_ns;

/* prefix + name into buf. */
static const char *prefixed(char *buf, size_t cap, const char *name)
{
	size_t p = strlen(where->prefix), n = strlen(name);
	if (p + n >= cap)
		return name;
	memcpy(buf, where->prefix, p);
	memcpy(buf + p, name, n + 1);
	return buf;
}

/* An exported symbol of the allocator's object: an allocator linked
 * privately into another library must not be mistaken for the program's. */
static void *exported(const char *name)
{
	Dl_info di;
	char buf[128];
	void *p = mv_own_dlsym(RTLD_DEFAULT, prefixed(buf, sizeof(buf), name));
	if (!p || !dladdr(p, &di) || (uintptr_t)di.dli_fbase != where->api_base)
		return NULL;
	return p;
}

/* A symbol from the object's .symtab: the backend's bind() runs twice,
 * first to learn the names it wants (record), then on what one read of the
 * file found (from_symtab). */
#define MAX_WANT 16
static char want_buf[MAX_WANT][128];
static const char *want[MAX_WANT];
static uintptr_t found[MAX_WANT];
static int nwant;

static void *record(const char *name)
{
	if (nwant < MAX_WANT)
		want[nwant] = prefixed(want_buf[nwant], sizeof(want_buf[nwant]), name), nwant++;
	return NULL;
}

static void *from_symtab(const char *name)
{
	char buf[128];
	const char *full = prefixed(buf, sizeof(buf), name);
	for (int i = 0; i < nwant; i++)
		if (!strcmp(want[i], full))
			return (void *)found[i];
	return NULL;
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
	const struct mv_alloc_backend *b = backend_for(a->kind);
	bound = NULL;
	detected = a->kind;
	where = a;
	if (!b)
		return -1;
	if (a->found_by == MV_FOUND_SYMTAB) {
		nwant = 0;
		(void)b->bind(record);
		if (mv_elfsym_find(a->symfile, a->api_bias, want, found, nwant) <= 0 || b->bind(from_symtab) != 0)
			return -1;
	} else if (b->bind(exported) != 0) {
		return -1;
	}
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

const struct mv_allocator_info *mv_alloc_info(void)
{
	return where;
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

int mv_alloc_activity(uint64_t *fp)
{
	if (bound && bound->activity)
		return bound->activity(fp);
	return mv_procstat_faults(fp);
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
