/* options.h - every configuration key, declared once.
 *
 * The table in options.c gives each key its name, type, default, range and
 * help text; the parser, print_config, `madvisor config --check` and the
 * README's reference are all driven from it. */
#ifndef MADVISOR_OPTIONS_H
#define MADVISOR_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sys/outfile.h" /* MV_PATH_MAX */

/* Where a value came from; later sources override earlier ones. */
enum mv_source {
	MV_SRC_DEFAULT,
	MV_SRC_PROFILE,  /* MADVISOR_PROFILE=name -> <profile dir>/name.conf */
	MV_SRC_FILE,     /* MADVISOR_CONFIG=/path */
	MV_SRC_ENV,      /* MADVISOR_CONF="k:v,..." */
};

enum mv_opt_id {
	MV_OPT_ENABLED,
	MV_OPT_STATS,
	MV_OPT_STATS_FILE,
	MV_OPT_STATS_TEXT_FILE,
	MV_OPT_PRINT_CONFIG,
	MV_OPT_STRICT,
	MV_OPT_TIME_EVERY,
	MV_OPT_MADVISE,
	MV_OPT_PT_RECLAIM,
	MV_OPT_MADVISE_CALLERS,
	/* allocator knobs (alloc/api.h), adaptive controller, live stats, attribution */
	MV_OPT_JEMALLOC_DIRTY_DECAY_MS,
	MV_OPT_JEMALLOC_MUZZY_DECAY_MS,
	MV_OPT_JEMALLOC_BACKGROUND_THREAD,
	MV_OPT_TCMALLOC_AGGRESSIVE_DECOMMIT,
	MV_OPT_TCMALLOC_RELEASE_RATE,
	MV_OPT_MIMALLOC_PURGE_DELAY,
	MV_OPT_ADAPTIVE,
	MV_OPT_ADAPTIVE_TARGET_RSS,
	MV_OPT_ADAPTIVE_IDLE_MS,
	MV_OPT_ADAPTIVE_INTERVAL_MS,
	MV_OPT_ADAPTIVE_PSI_HIGH,
	MV_OPT_ADAPTIVE_PSI_LOW,
	MV_OPT_ADAPTIVE_HOLD_MS,
	MV_OPT_ADAPTIVE_CPU_BUDGET,
	MV_OPT_ADAPTIVE_MIN_FREE,
	MV_OPT_ADAPTIVE_PRESSURE_FILE,
	MV_OPT_ADAPTIVE_CGROUP_DIR,
	MV_OPT_LIVE_SIGNAL,
	MV_OPT_LIVE_FILE,
	MV_OPT_LIVE_PROM_FILE,
	MV_OPT_LIVE_INTERVAL_MS,
	MV_OPT_ATTRIBUTION,
	MV_OPT_ATTRIBUTION_EVERY,
	MV_OPT_ATTRIBUTION_BYTES,
	MV_OPT_ATTRIBUTION_TOP,
	MV_OPT_PTMODEL,
	MV_OPT_PTMODEL_BUDGET,
	MV_OPT_SWEEP,
	MV_OPT_SWEEP_MAX,
	MV_OPT_ADAPTIVE_PURGE_INTERVAL_MS,
	MV_OPT_TRACE,
	MV_OPT_TRACE_MAX,
	/* munmap strategies (munmap.h) */
	MV_OPT_MUNMAP,
	MV_OPT_MUNMAP_CACHE_BYTES,
	MV_OPT_MUNMAP_CACHE_ENTRIES,
	MV_OPT_MUNMAP_MAX_RANGE,
	MV_OPT_MUNMAP_ZERO_MEMSET_MAX,
	MV_OPT_MUNMAP_MAX_AGE_MS,
	MV_OPT_MUNMAP_ZAP_FIRST,
	MV_OPT_MUNMAP_PSI,
	MV_OPT_MUNMAP_CALLERS,
	MV_OPT_MUNMAP_RECYCLE_RESIDENT,
	MV_OPT_ADAPTIVE_EAGER,
	MV_OPT_COUNT
};

struct mv_options {
	bool enabled;                    /* false: pure passthrough, nothing counted */
	bool stats;                      /* table on stderr at exit */
	char stats_file[MV_PATH_MAX];    /* JSON at exit; %p = pid; "" = none */
	char stats_text_file[MV_PATH_MAX]; /* the stats table here, not stderr; %p = pid */
	bool print_config;               /* effective configuration on stderr at start */
	bool strict;                     /* bad configuration: exit 2 instead of passthrough */
	uint32_t time_every;             /* time one call in N per row (power of two) */
	int madvise;                     /* enum mv_madvise_mode: how allocator purges are sent */
	bool pt_reclaim;                 /* purges: whole 2 MiB cores as one MADV_DONTNEED */
	int madvise_callers;             /* enum mv_callers: whose madvise calls the transforms take */
	/* allocator knobs: applied only when a source sets them (alloc/api.h) */
	uint32_t jemalloc_dirty_decay_ms;
	uint32_t jemalloc_muzzy_decay_ms;
	bool jemalloc_background_thread;
	bool tcmalloc_aggressive_decommit;
	uint32_t tcmalloc_release_rate;
	uint32_t mimalloc_purge_delay;
	/* adaptive purge controller (adaptive.h) */
	bool adaptive;
	uint64_t adaptive_target_rss;    /* bytes; 0 = none */
	uint32_t adaptive_idle_ms;       /* purge once after this long without allocation; 0 = off */
	uint32_t adaptive_interval_ms;
	uint32_t adaptive_purge_interval_ms;
	bool adaptive_eager;             /* under pressure, the allocator's eager setting too */
	uint32_t adaptive_psi_high;      /* memory "some" avg10, hundredths of a percent */
	uint32_t adaptive_psi_low;
	uint32_t adaptive_hold_ms;
	uint32_t adaptive_cpu_budget;    /* per mille of one CPU */
	uint64_t adaptive_min_free;      /* bytes */
	char adaptive_pressure_file[MV_PATH_MAX];
	char adaptive_cgroup_dir[MV_PATH_MAX];
	/* live stats (live.h) */
	int live_signal;                 /* enum mv_live_signal */
	char live_file[MV_PATH_MAX];
	char live_prom_file[MV_PATH_MAX];
	uint32_t live_interval_ms;
	/* purge attribution (attrib.h) */
	bool attribution;
	uint32_t attribution_every;
	uint64_t attribution_bytes;
	uint32_t attribution_top;
	bool ptmodel;                    /* model the page tables (stats "ptmodel") */
	uint32_t ptmodel_budget;         /* sampling CPU budget, % of one CPU */
	bool sweep;                      /* reclaim stranded page tables (userfaultfd) */
	uint32_t sweep_max;              /* stranded regions swept per second, at most */
	char trace[MV_PATH_MAX];         /* record every call here (trace.h); %p = pid */
	uint64_t trace_max;              /* bytes the trace file may grow to */
	/* munmap strategies (munmap.h) */
	int munmap;                      /* enum mv_munmap_mode */
	uint64_t munmap_cache_bytes;     /* held (cached or queued) bytes, at most */
	uint32_t munmap_cache_entries;   /* held ranges per arena, at most */
	uint64_t munmap_max_range;       /* larger ranges pass through */
	uint64_t munmap_zero_memset_max; /* recycled ranges up to this are cleared with memset */
	uint32_t munmap_max_age_ms;      /* held ranges go back to the kernel after this */
	bool munmap_zap_first;           /* defer: MADV_DONTNEED at once, unmap later */
	uint32_t munmap_psi;             /* memory "some" avg10 (hundredths of %) that drains; 0 = off */
	int munmap_callers;              /* enum mv_callers: whose calls the strategy takes */
	bool munmap_recycle_resident;    /* recycle: hand out resident pages cleared (true) or dropped */
	unsigned char source[MV_OPT_COUNT]; /* enum mv_source per key */
};

enum mv_opt_type { MV_T_BOOL, MV_T_UINT, MV_T_STRING, MV_T_ENUM };

/* Values of `munmap.callers` and `madvise.callers`: whose calls a strategy
 * takes. The allocator's are those made from the code of the object that
 * defines malloc; the program's are all others. */
enum mv_callers { MV_CALLERS_ANY, MV_CALLERS_ALLOCATOR, MV_CALLERS_PROGRAM };

/* Values of the `madvise` key. */
enum mv_madvise_mode {
	MV_MADVISE_PASSTHROUGH,      /* as asked */
	MV_MADVISE_FREE_TO_DONTNEED, /* MADV_FREE -> MADV_DONTNEED: RSS drops at once */
	MV_MADVISE_DONTNEED_TO_FREE, /* MADV_DONTNEED -> MADV_FREE, only for allocators that
					do not rely on zero-fill (tcmalloc, mimalloc) */
};

struct mv_option_desc {
	const char *name;
	enum mv_opt_type type;
	size_t offset;          /* into struct mv_options */
	size_t size;            /* of the field (string capacity) */
	const char *def;        /* default, as text */
	uint64_t min, max;      /* MV_T_UINT range */
	const char *help;
	unsigned flags;         /* MV_OPT_F_* */
	const char *const *choices; /* MV_T_ENUM: value names, NULL-terminated; the field is an int */
};

#define MV_OPT_F_PATH 1u        /* MV_T_STRING naming a file written at exit */
#define MV_OPT_F_UNSET 2u       /* empty default = not set: the allocator's own value applies */

extern const struct mv_option_desc mv_option_table[MV_OPT_COUNT];

/* Fill every key with its default (source MV_SRC_DEFAULT). */
void mv_options_defaults(struct mv_options *o);
/* Index of a key by name (exact, case-sensitive), or -1. */
int mv_option_find(const char *name, size_t len);
/* Parse `len` bytes of `val` as key `d` and store it into the field at
 * `base + d->offset` (base: a struct mv_options). Returns 0, or -1 with a
 * one-line, printable reason in reason[cap]; the field is unchanged then. */
int mv_option_parse(const struct mv_option_desc *d, void *base, const char *val, size_t len,
		    char *reason, size_t cap);

/* Name of a `madvise` key value. */
const char *mv_madvise_mode_name(int mode);
/* Name of the current value of an MV_T_ENUM key in *base. */
const char *mv_option_choice(const struct mv_option_desc *d, const void *base);

#endif
