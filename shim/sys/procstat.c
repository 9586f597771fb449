/* procstat.c - VmRSS, VmHWM, VmPTE, VmSize from /proc/self/status. */
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

int mv_procstat_read(struct mv_procstat *out)
{
	char buf[4096];
	size_t len = 0;
	long fd = mv_own4(SYS_openat, AT_FDCWD, "/proc/self/status", O_RDONLY | O_CLOEXEC, 0);
	if (mv_raw_failed(fd)) {
		mv_procstat_parse("", out);
		return -1;
	}
	for (;;) {
		long r = mv_own3(SYS_read, fd, buf + len, sizeof(buf) - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
		if (len == sizeof(buf) - 1)
			break;
	}
	mv_own1(SYS_close, fd);
	buf[len] = 0;
	mv_procstat_parse(buf, out);
	return 0;
}
