/* api.h - drive the program's allocator through its own API.
 *
 * jemalloc (mallctl), gperftools tcmalloc (MallocExtension_* C API),
 * mimalloc (mi_option_*, mi_collect, mi_process_info) and glibc malloc
 * (malloc_trim only) each get a backend (alloc_<name>.c). Their functions
 * are found with dlsym at run time, in the object that defines malloc, so
 * madvisor has no link-time dependency on any of them.
 *
 * Call these only from the constructor, the destructor or the worker thread,
 * never from inside an intercepted call: an allocator may hold its own locks
 * while it calls madvise/munmap, and calling back into it from there
 * deadlocks. */
#ifndef MADVISOR_ALLOC_API_H
#define MADVISOR_ALLOC_API_H

#include <stdint.h>
#include "core/allocator.h"
#include "sys/testhook.h"

#define MV_ALLOC_PROPS 24   /* raw figures kept per snapshot */
#define MV_ALLOC_KNOBS 8    /* knobs per allocator */

/* The allocator's own figure, under the allocator's own name. */
struct mv_alloc_prop {
	const char *name;   /* "stats.resident", "tcmalloc.pageheap_free_bytes", ... */
	uint64_t value;     /* bytes (or a count) */
};

/* A snapshot of the allocator's memory. Bytes; -1 when this allocator does
 * not tell. */
struct mv_alloc_stats {
	int64_t resident;      /* physically resident pages the allocator holds */
	int64_t active;        /* in pages handed out to the program */
	int64_t allocated;     /* bytes the program asked for and holds */
	int64_t mapped;        /* mapped address space in use */
	int64_t retained;      /* mapped but returned to the kernel (no RSS) */
	int64_t dirty;         /* free, not yet purged: resident */
	int64_t muzzy;         /* free, purged lazily (MADV_FREE): resident until reclaimed */
	int64_t free_resident; /* what an allocator-wide purge can give back now */
	int nprops;
	struct mv_alloc_prop props[MV_ALLOC_PROPS];
};

/* One tunable, set through the configuration key `opt` (enum mv_opt_id). */
struct mv_alloc_knob {
	int opt;
	/* Apply v (the parsed key value; bool keys give 0/1). Returns 0, or -1
	 * with a short reason in why (set when non-NULL). */
	int (*set)(uint64_t v, const char **why);
	/* Read the effective value back. Returns 0, or -1 when unknown. */
	int (*get)(int64_t *v);
};

struct mv_alloc_backend {
	enum mv_allocator kind;
	const char *purge_name;        /* what an allocator-wide purge calls */
	/* Resolve the API (sym() finds a symbol in malloc's object). Returns 0
	 * when the backend can work. */
	int (*bind)(void *(*sym)(const char *name));
	int (*stats)(struct mv_alloc_stats *out);   /* NULL: no figures */
	int (*purge)(void);                          /* allocator-wide; 0 or -1 */
	/* A fingerprint of the allocator's activity: counters that change when
	 * the program allocates or frees (compared, never interpreted). NULL:
	 * the process's page faults stand in. 0 or -1. */
	int (*activity)(uint64_t *fp);
	/* Under memory pressure (on = 1), switch to the allocator's eager
	 * setting where allocator-wide purges cannot reach what other threads
	 * hold; on = 0 restores what was there. NULL: purges are enough. */
	int (*pressure)(int on);
	/* Whether the API answers yet (NULL: always). A tcmalloc linked into the
	 * program registers its implementation in the program's own static
	 * constructors, after madvisor's: until then its extension is a stub. */
	int (*ready)(void);
	const struct mv_alloc_knob *knobs;
	int nknobs;
	/* Informational note for reports, or NULL. */
	const char *note;
};

extern const struct mv_alloc_backend mv_alloc_jemalloc, mv_alloc_tcmalloc, mv_alloc_mimalloc,
	mv_alloc_glibc;

/* Effective value of one knob as read back from the allocator. */
struct mv_alloc_knob_value {
	const char *key;    /* configuration key, "jemalloc.dirty_decay_ms" */
	int known;          /* 0: the allocator did not tell */
	int64_t value;
	int requested;      /* the configuration set it */
	int applied;        /* ...and the allocator accepted it */
};

/* What reports show about the allocator API. */
struct mv_alloc_report {
	int bound;                      /* the API was found */
	const char *purge_name;
	const char *note;
	int have_stats;
	struct mv_alloc_stats stats;
	int nknobs;
	struct mv_alloc_knob_value knobs[MV_ALLOC_KNOBS];
	uint64_t purges;                /* allocator-wide purges madvisor made */
	uint64_t purge_ns;              /* wall time inside them */
};

/* Bind the backend of the detected allocator (constructor). Returns 0 when
 * its API is usable. */
int mv_alloc_init(const struct mv_allocator_info *a);
/* Test hook: bind backend b (a fake allocator) with symbols from lookup;
 * NULL unbinds. Returns 0, or -1 when b->bind fails. */
MV_TEST_HOOK int mv_alloc_use(const struct mv_alloc_backend *b, void *(*lookup)(const char *name));
/* The detected allocator (mv_alloc_init's), or NULL before. */
const struct mv_allocator_info *mv_alloc_info(void);
/* The bound backend, or NULL. */
const struct mv_alloc_backend *mv_alloc_backend(void);
/* The allocator the program runs on (as detected, bound or not). */
enum mv_allocator mv_alloc_detected(void);

/* Take a snapshot. Returns 0, or -1 (fields -1) when there is no API. */
int mv_alloc_stats(struct mv_alloc_stats *out);
/* Append a raw figure to a snapshot (backends). */
void mv_alloc_prop_add(struct mv_alloc_stats *s, const char *name, uint64_t value);
/* The activity fingerprint (the backend's, or the process's page faults).
 * Returns 0, or -1 when neither can be read. */
int mv_alloc_activity(uint64_t *fp);
/* Mix one counter into a fingerprint (backends). */
static inline uint64_t mv_alloc_mix(uint64_t fp, uint64_t v)
{
	return (fp ^ v) * 0x100000001b3ull + (v >> 29);
}
/* Allocator-wide purge, timed and counted. Returns 0, or -1. */
int mv_alloc_purge(void);
/* Pressure mode on or off (backend's pressure hook). 1 when switched, 0
 * when the backend has none, -1 on failure. */
int mv_alloc_pressure(int on);
/* Purges made through mv_alloc_purge and the wall time inside them. */
void mv_alloc_purge_counts(uint64_t *n, uint64_t *ns);

/* Apply the allocator keys of *o that the configuration set: those of the
 * detected allocator through its API, others ignored; every key ignored or
 * refused is named in one line on fd. When the allocator's API does not
 * answer yet (ready()), the keys are applied from the worker as soon as it
 * does (within 5 s). Returns the number applied now. */
struct mv_options;
int mv_alloc_apply_knobs(const struct mv_options *o, int fd);
/* Whether option id is an allocator knob, and for which allocator. */
enum mv_allocator mv_alloc_knob_owner(int opt);

/* Fill a report section (reads the allocator: not on an application's
 * intercepted call). */
void mv_alloc_gather(struct mv_alloc_report *out);

#endif
