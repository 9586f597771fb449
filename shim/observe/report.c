/* report.c - gather a report and write it where the options say. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include "observe/report.h"
#include "sys/clock.h"
#include "sys/outbuf.h"
#include "sys/ownsys.h"

void mv_report_gather(struct mv_report *r, const struct mv_options *opt,
		      const struct mv_allocator_info *alloc, uint64_t start_ns)
{
	mv_stats_merge(&r->stats);
	mv_procstat_read(&r->mem);
	r->allocator = alloc;
	r->opt = opt;
	r->kernel = mv_probe_get();
	r->pid = mv_raw0(SYS_getpid);
	long n = mv_own3(SYS_readlink, "/proc/self/exe", r->exe, sizeof(r->exe) - 1);
	r->exe[n > 0 ? n : 0] = 0;
	uint64_t now = mv_clock_mono_ns();
	r->elapsed_ns = now > start_ns ? now - start_ns : 0;
	r->ticks_per_sec = mv_clock_ticks_per_sec();
	mv_alloc_gather(&r->alloc_api);
	mv_adaptive_gather(&r->adaptive);
	r->attrib = mv_attrib_gather(r->ticks_per_sec);
}

double mv_report_kernel_ns(const struct mv_report *r, const struct mv_stat_row *row)
{
	if (!row->timed)
		return 0;
	double per_call = (double)row->ticks * 1e9 / r->ticks_per_sec / (double)row->timed;
	return per_call * (double)row->calls;
}

/* Why mv_outfile_open failed (outfile.h: it does not follow a symbolic
 * link and takes only regular files). */
static const char *open_error(int e)
{
	const char *text = mv_out_errno_text(e);
	if (e == ELOOP)
		return "is a symbolic link (not followed)";
	if (e == EINVAL)
		return "not a regular file";
	return text ? text : "cannot be created";
}

static void complain(const char *key, const char *path, const char *why)
{
	mv_out_say(2, 0, "report not written", key, " '", path, "': ", why, NULL);
}

/* Open a report file named by option `key` (its name left in path), or
 * complain once and return -1. */
static int open_for(const char *key, const char *tmpl, long pid, char *path, size_t cap)
{
	if (mv_outfile_path(tmpl, pid, path, cap) < 0) {
		complain(key, tmpl, "path too long");
		return -1;
	}
	int fd = mv_outfile_open(path);
	if (fd < 0) {
		complain(key, path, open_error(-fd));
		return -1;
	}
	return fd;
}

/* Close a report file; a failed write leaves no partial file behind. */
static void finish(const char *key, const char *path, int fd, int written)
{
	if (mv_raw_failed(mv_own1(SYS_close, fd)))
		written = -1;
	if (written < 0) {
		mv_own1(SYS_unlink, path);
		complain(key, path, "write failed");
	}
}

static struct mv_report exit_report; /* too large for a thread's stack */

void mv_report_at_exit(const struct mv_options *opt, const struct mv_allocator_info *alloc,
		       uint64_t start_ns)
{
	if (!opt->stats && !opt->stats_file[0] && !opt->stats_text_file[0])
		return;
	int saved = errno;
	char path[MV_PATH_MAX + 32];
	struct mv_report *r = &exit_report;
	mv_report_gather(r, opt, alloc, start_ns);
	if (opt->stats_text_file[0]) {
		int fd = open_for("stats_text_file", opt->stats_text_file, r->pid, path, sizeof(path));
		if (fd >= 0)
			finish("stats_text_file", path, fd, mv_report_text(r, fd));
	} else if (opt->stats) {
		mv_report_text(r, 2);
	}
	if (opt->stats_file[0]) {
		int fd = open_for("stats_file", opt->stats_file, r->pid, path, sizeof(path));
		if (fd >= 0)
			finish("stats_file", path, fd, mv_report_json(r, fd));
	}
	errno = saved;
}
