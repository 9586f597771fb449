/* where.h - where the `madvisor` command finds its library and profiles.
 *
 * One place for the launcher and `madvisor replay`: an uninstalled launcher
 * (one with libtool's .libs/libmadvisor.so next to it) takes the profiles of
 * the source tree; MADVISOR_PROFILE_DIR overrides; otherwise the install
 * prefix. A profile may also be given as a file, a path ending in .conf: it
 * is then the profile named by the file's base name in the file's directory,
 * so the library reads it the same way. */
#ifndef MADVISOR_WHERE_H
#define MADVISOR_WHERE_H

#include "core/config.h"

#define MV_LIB_NAME "libmadvisor.so"

/* Directory of this executable, freshly allocated, or NULL. */
char *mv_where_exe_dir(void);
/* libmadvisor.so next to an uninstalled launcher, freshly allocated, or NULL. */
char *mv_where_build_lib(void);
/* An uninstalled command (libmadvisor.so next to it) takes the profiles of
 * its source tree, whichever library it preloads: set MADVISOR_PROFILE_DIR
 * to them unless it is set. The launcher, `config --print` and replay all
 * start with this. */
void mv_where_source_profiles(void);
/* The profile directory in force: MADVISOR_PROFILE_DIR or the install's. */
const char *mv_where_profile_dir(void);

/* A profile argument (NAME, or a path ending in .conf) as the directory and the
 * name the library's loader takes; *dir and *name point into buf or into
 * static text. -1 when buf is too small. */
struct mv_profile_ref {
	const char *dir, *name;
	int is_path;
};
int mv_where_profile(const char *arg, char *buf, size_t size, struct mv_profile_ref *ref);
/* Apply a profile argument to o (its errors as mv_config_apply_profile's). */
int mv_where_apply_profile(struct mv_options *o, const char *arg, struct mv_config_error *err);

#endif
