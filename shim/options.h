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

#define MV_PATH_MAX 256

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
	bool pt_reclaim;                 /* allocator purges: whole 2 MiB cores as one MADV_DONTNEED */
	unsigned char source[MV_OPT_COUNT]; /* enum mv_source per key */
};

enum mv_opt_type { MV_T_BOOL, MV_T_UINT, MV_T_STRING, MV_T_ENUM };

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
