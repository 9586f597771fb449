/* outfile.h - the files the library writes (reports, live files, traces).
 *
 * Paths come from the configuration as templates; a file is created only as
 * a regular file, never through a symbolic link, so that a report path in a
 * shared directory cannot be turned against the program. */
#ifndef MADVISOR_SYS_OUTFILE_H
#define MADVISOR_SYS_OUTFILE_H

#include <stddef.h>

/* The longest path the library keeps (configuration values included). */
#define MV_PATH_MAX 256

/* Expand %p (pid) and %% in a path template. Returns 0, or -1 if too long. */
int mv_outfile_path(const char *tmpl, long pid, char *out, size_t cap);
/* Create an output file: 0600, O_NOFOLLOW|O_CLOEXEC, regular files only.
 * Returns an fd, or -errno. */
int mv_outfile_open(const char *path);
/* The same for a temporary file only madvisor writes (then renames): any old
 * file of that name is removed and the new one created with O_EXCL, so
 * nothing planted there in between (a hard link, say) is ever written.
 * mode: 0600, or 0644 for a file another user's collector reads (the
 * process's umask still applies). */
int mv_outfile_open_new(const char *path, int mode);

#endif
