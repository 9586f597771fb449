/* procstat.c - VmRSS, VmHWM, VmPTE, VmSize from /proc/self/status; page
 * faults from /proc/self/stat. */
#include <fcntl.h>
#include <string.h>
#include "sys/procstat.h"
#include "sys/ownsys.h"

static int64_t field(const char *text, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p) {
		if (strncmp(p, name, n) || p[n] != ':')
			continue;
		p += n + 1;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p < '0' || *p > '9')
			return -1;
		int64_t v = 0;
		while (*p >= '0' && *p <= '9')
			v = v * 10 + (*p++ - '0');
		return v;
	}
	return -1;
}

void mv_procstat_parse(const char *text, struct mv_procstat *out)
{
	out->vm_rss_kb = field(text, "VmRSS");
	out->vm_hwm_kb = field(text, "VmHWM");
	out->vm_pte_kb = field(text, "VmPTE");
	out->vm_size_kb = field(text, "VmSize");
}

/* Read a /proc file into buf (NUL-terminated). Returns 0, or -1. */
static int slurp(const char *path, char *buf, size_t cap)
{
	size_t len = 0;
	long fd = mv_own4(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
	if (mv_raw_failed(fd)) {
		buf[0] = 0;
		return -1;
	}
	for (;;) {
		long r = mv_own3(SYS_read, fd, buf + len, cap - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len == cap - 1)
			break;
	}
	mv_own1(SYS_close, fd);
	buf[len] = 0;
	return 0;
}

int mv_procstat_read(struct mv_procstat *out)
{
	char buf[4096];
	int r = slurp("/proc/self/status", buf, sizeof(buf));
	mv_procstat_parse(buf, out);
	return r;
}

/* Parse the text of a stat file. Returns 0, or -1. */
static int parse_faults(const char *text, uint64_t *out)
{
	/* "pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt
	 * majflt ...": the command name may hold spaces and ')', so count from
	 * the last ')'. minflt is the 8th field after it, majflt the 10th. */
	const char *p = strrchr(text, ')');
	uint64_t minflt = 0, majflt = 0;
	if (!p)
		return -1;
	for (int f = 0; f < 10; f++) {
		while (*p && *p != ' ')
			p++;
		while (*p == ' ')
			p++;
		if (*p < '0' || *p > '9') {
			if (f >= 7)
				return -1;
			continue;
		}
		uint64_t v = 0;
		while (*p >= '0' && *p <= '9')
			v = v * 10 + (uint64_t)(*p++ - '0');
		if (f == 7)
			minflt = v;
		else if (f == 9)
			majflt = v;
	}
	*out = minflt + majflt;
	return 0;
}

int mv_procstat_faults(uint64_t *out)
{
	char buf[1024];
	if (slurp("/proc/self/stat", buf, sizeof(buf)) != 0)
		return -1;
	return parse_faults(buf, out);
}
