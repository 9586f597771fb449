/* jemalloc.c - jemalloc through mallctl.
 *
 * Figures: stats.{resident,active,allocated,mapped,retained,metadata} after
 * an "epoch" refresh, and stats.arenas.<ALL>.{pdirty,pmuzzy} (pages).
 * Purge: arena.<ALL>.purge (every arena, dirty and muzzy, at once).
 * Activity: the arenas' allocation counts and stats.allocated.
 * Knobs: arenas.{dirty,muzzy}_decay_ms is the value for arenas created later;
 * arenas that already exist keep theirs, so each is set through
 * arena.<i>.{dirty,muzzy}_decay_ms as well (arena.<ALL> does not take a
 * decay time in jemalloc 5.x). background_thread is process-wide. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include "alloc/api.h"
#include "core/options.h"
#include "sys/outbuf.h"

#define NONE ((size_t)-1) /* a figure kept only as a raw property */

typedef int (*mallctl_fn)(const char *, void *, size_t *, void *, size_t);
static mallctl_fn mallctl;

static int get_size(const char *name, size_t *v)
{
	size_t sz = sizeof(*v);
	return mallctl(name, v, &sz, NULL, 0) == 0 && sz == sizeof(*v) ? 0 : -1;
}

static int bind(void *(*sym)(const char *))
{
	mallctl = (mallctl_fn)sym("mallctl");
	const char *version = NULL;
	size_t sz = sizeof(version);
	if (!mallctl || mallctl("version", &version, &sz, NULL, 0) != 0)
		return -1;
	return 0;
}

static int stats(struct mv_alloc_stats *s)
{
	static const struct { const char *name; size_t off; } figures[] = {
		{ "stats.resident", offsetof(struct mv_alloc_stats, resident) },
		{ "stats.active", offsetof(struct mv_alloc_stats, active) },
		{ "stats.allocated", offsetof(struct mv_alloc_stats, allocated) },
		{ "stats.mapped", offsetof(struct mv_alloc_stats, mapped) },
		{ "stats.retained", offsetof(struct mv_alloc_stats, retained) },
		{ "stats.metadata", NONE },
	};
	uint64_t epoch = 1;
	size_t sz = sizeof(epoch);
	if (mallctl("epoch", &epoch, &sz, &epoch, sz) != 0)
		return -1;
	int any = 0;
	for (unsigned i = 0; i < sizeof(figures) / sizeof(figures[0]); i++) {
		size_t v;
		if (get_size(figures[i].name, &v) != 0)
			continue;
		any = 1;
		mv_alloc_prop_add(s, figures[i].name, v);
		if (figures[i].off != NONE)
			*(int64_t *)((char *)s + figures[i].off) = (int64_t)v;
	}
	size_t page = 4096, pdirty, pmuzzy;
	(void)get_size("arenas.page", &page);
	if (get_size("stats.arenas.4096.pdirty", &pdirty) == 0) {
		mv_alloc_prop_add(s, "stats.arenas.4096.pdirty", pdirty);
		s->dirty = (int64_t)(pdirty * page);
	}
	if (get_size("stats.arenas.4096.pmuzzy", &pmuzzy) == 0) {
		mv_alloc_prop_add(s, "stats.arenas.4096.pmuzzy", pmuzzy);
		s->muzzy = (int64_t)(pmuzzy * page);
	}
	if (s->dirty >= 0)
		s->free_resident = s->dirty + (s->muzzy > 0 ? s->muzzy : 0);
	return any ? 0 : -1;
}

static int purge(void)
{
	return mallctl("arena.4096.purge", NULL, NULL, NULL, 0) == 0 ? 0 : -1;
}

/* Activity: the arenas' allocation and deallocation counts and the bytes
 * allocated, after an epoch refresh. A thread cache serves small requests
 * without the arena; it fills and flushes (and is trimmed) as a program
 * keeps allocating, which these counts see. */
static int activity(uint64_t *fp)
{
	static const char *const counts[] = {
		"stats.arenas.4096.small.nmalloc", "stats.arenas.4096.small.ndalloc",
		"stats.arenas.4096.large.nmalloc", "stats.arenas.4096.large.ndalloc",
	};
	uint64_t epoch = 1, h = 0;
	size_t sz = sizeof(epoch), allocated;
	if (mallctl("epoch", &epoch, &sz, &epoch, sz) != 0 || get_size("stats.allocated", &allocated) != 0)
		return -1;
	h = mv_alloc_mix(h, allocated);
	for (unsigned i = 0; i < sizeof(counts) / sizeof(counts[0]); i++) {
		uint64_t v;
		sz = sizeof(v);
		if (mallctl(counts[i], &v, &sz, NULL, 0) == 0 && sz == sizeof(v))
			h = mv_alloc_mix(h, v);
	}
	*fp = h;
	return 0;
}

/* Name "arena.<i>.<leaf>" into buf. */
static const char *arena_name(char *buf, size_t cap, unsigned i, const char *leaf)
{
	struct mv_outbuf o;
	mv_out_init(&o, buf, cap, -1);
	mv_out_str(&o, "arena.");
	mv_out_u64(&o, i);
	mv_out_char(&o, '.');
	mv_out_str(&o, leaf);
	return mv_out_cstr(&o);
}

/* Set a decay time for new arenas and for every existing one. */
static int set_decay(const char *leaf, uint64_t v, const char **why)
{
	char name[64], nname[48];
	ssize_t ms = (ssize_t)v;
	struct mv_outbuf o;
	mv_out_init(&o, nname, sizeof(nname), -1);
	mv_out_str(&o, "arenas.");
	mv_out_str(&o, leaf);
	if (mallctl(mv_out_cstr(&o), NULL, NULL, &ms, sizeof(ms)) != 0) {
		*why = "jemalloc refused the value";
		return -1;
	}
	unsigned narenas = 0;
	size_t sz = sizeof(narenas);
	if (mallctl("arenas.narenas", &narenas, &sz, NULL, 0) != 0)
		return 0;
	for (unsigned i = 0; i < narenas; i++) {
		/* Arenas not created yet answer EFAULT; they will take the new default. */
		int r = mallctl(arena_name(name, sizeof(name), i, leaf), NULL, NULL, &ms, sizeof(ms));
		if (r != 0 && r != EFAULT) {
			*why = "jemalloc refused the value for an existing arena";
			return -1;
		}
	}
	return 0;
}

static int get_decay(const char *leaf, int64_t *v)
{
	char name[64];
	ssize_t ms;
	size_t sz = sizeof(ms);
	/* Arena 0 always exists: its value is what the program's allocations see. */
	if (mallctl(arena_name(name, sizeof(name), 0, leaf), &ms, &sz, NULL, 0) != 0)
		return -1;
	*v = ms;
	return 0;
}

static int set_dirty(uint64_t v, const char **why)
{
	return set_decay("dirty_decay_ms", v, why);
}

static int get_dirty(int64_t *v)
{
	return get_decay("dirty_decay_ms", v);
}

static int set_muzzy(uint64_t v, const char **why)
{
	return set_decay("muzzy_decay_ms", v, why);
}

static int get_muzzy(int64_t *v)
{
	return get_decay("muzzy_decay_ms", v);
}

static int set_bg(uint64_t v, const char **why)
{
	bool b = v != 0;
	int r = mallctl("background_thread", NULL, NULL, &b, sizeof(b));
	if (r == 0)
		return 0;
	*why = r == ENOENT ? "this jemalloc has no background threads" : "jemalloc could not start its background threads";
	return -1;
}

static int get_bg(int64_t *v)
{
	bool b;
	size_t sz = sizeof(b);
	if (mallctl("background_thread", &b, &sz, NULL, 0) != 0)
		return -1;
	*v = b;
	return 0;
}

static const struct mv_alloc_knob knobs[] = {
	{ MV_OPT_JEMALLOC_DIRTY_DECAY_MS, set_dirty, get_dirty },
	{ MV_OPT_JEMALLOC_MUZZY_DECAY_MS, set_muzzy, get_muzzy },
	{ MV_OPT_JEMALLOC_BACKGROUND_THREAD, set_bg, get_bg },
};

const struct mv_alloc_backend mv_alloc_jemalloc = {
	.kind = MV_ALLOC_JEMALLOC,
	.purge_name = "arena.4096.purge",
	.bind = bind,
	.stats = stats,
	.purge = purge,
	.activity = activity,
	.knobs = knobs,
	.nknobs = sizeof(knobs) / sizeof(knobs[0]),
};
