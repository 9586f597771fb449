/* outfile.c - expand output path templates and create output files. */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include "sys/outfile.h"
#include "sys/outbuf.h"
#include "sys/ownsys.h"

int mv_outfile_path(const char *t, long pid, char *out, size_t cap)
{
	struct mv_outbuf o;
	mv_out_init(&o, out, cap, -1);
	for (; *t; t++) {
		if (t[0] == '%' && t[1] == 'p') {
			mv_out_i64(&o, pid);
			t++;
		} else if (t[0] == '%' && t[1] == '%') {
			mv_out_char(&o, '%');
			t++;
		} else {
			mv_out_char(&o, *t);
		}
	}
	mv_out_cstr(&o);
	return o.truncated ? -1 : 0;
}

static int open_output(const char *path, int how, int mode)
{
	long fd = mv_own4(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | how | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY,
			  mode);
	if (mv_raw_failed(fd))
		return (int)fd;
	struct stat st;
	long r = mv_own2(SYS_fstat, fd, &st);
	if (r < 0 || !S_ISREG(st.st_mode)) {
		mv_own1(SYS_close, fd);
		return r < 0 ? (int)r : -EINVAL;
	}
	return (int)fd;
}

int mv_outfile_open(const char *path)
{
	return open_output(path, O_TRUNC, 0600);
}

int mv_outfile_open_new(const char *path, int mode)
{
	mv_own1(SYS_unlink, path); /* a stale one, left by a process killed mid-write */
	return open_output(path, O_EXCL, mode);
}
