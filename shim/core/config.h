/* config.h - read MADVISOR_PROFILE, MADVISOR_CONFIG and MADVISOR_CONF.
 *
 * Precedence, lowest first: built-in defaults < profile < config file <
 * MADVISOR_CONF. Any error (unknown key, bad value, unreadable or oversized
 * file, unknown profile) fails open: one line on stderr naming the source, the
 * key and the reason, then plain passthrough with defaults -- unless strict:true
 * was asked for anywhere, in which case the process exits with status 2.
 * Nothing here allocates: it runs in the constructor, before main. */
#ifndef MADVISOR_CONFIG_H
#define MADVISOR_CONFIG_H

#include <stddef.h>
#include "core/options.h"

#define MV_CONFIG_FILE_MAX (64 * 1024)   /* larger files are refused */

struct mv_config_error {
	char where[MV_PATH_MAX + 32];  /* "MADVISOR_CONF", "/etc/x.conf:12", "profile 'fast'" */
	char key[64];                  /* offending key ("" when not about a key) */
	char reason[128];              /* "unknown key", "expected true or false", ... */
};

/* Apply "key:value,key:value" text. Returns 0, or -1 with *err filled at the
 * first bad entry (entries after it are still scanned for strict). */
int mv_config_apply_string(struct mv_options *o, const char *text, enum mv_source src,
			   const char *where, struct mv_config_error *err);
/* Apply a file: one key:value per line, '#' comments, blank lines. */
int mv_config_apply_file(struct mv_options *o, const char *path, enum mv_source src,
			 struct mv_config_error *err);
/* Apply profile `name` ([A-Za-z0-9_.-]+, no '/') from directory `dir`. */
int mv_config_apply_profile(struct mv_options *o, const char *name, const char *dir,
			    struct mv_config_error *err);

/* Environment lookup used by mv_config_load (secure_getenv in the library). */
typedef const char *(*mv_getenv_fn)(const char *name);

/* The start-up sequence: defaults, then MADVISOR_PROFILE (looked up in
 * MADVISOR_PROFILE_DIR or the compiled-in directory), MADVISOR_CONFIG,
 * MADVISOR_CONF. On error writes one line to stderr_fd and either leaves *o at
 * defaults (returns -1) or, when strict was requested, calls _exit(2).
 * Returns 0 when the configuration was valid. */
int mv_config_load(struct mv_options *o, mv_getenv_fn get, int stderr_fd);

/* Format the one-line error message (ends with '\n'). */
void mv_config_format_error(const struct mv_config_error *e, char *buf, size_t cap);

/* Print the effective configuration, one key per line with its source. */
void mv_config_print(const struct mv_options *o, int fd);

#endif
