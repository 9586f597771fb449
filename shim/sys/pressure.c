/* pressure.c - read memory pressure: PSI and the memory cgroup (pressure.h). */
#include <fcntl.h>
#include <string.h>
#include "sys/outbuf.h"
#include "sys/pressure.h"
#include "sys/ownsys.h"

/* ---- small text helpers ---------------------------------------------------- */

/* Read a whole small file into buf (NUL-terminated). Returns its length or -1. */
static long read_small(const char *path, char *buf, size_t cap)
{
	long fd = mv_own4(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0);
	size_t len = 0;
	if (mv_raw_failed(fd))
		return -1;
	while (len + 1 < cap) {
		long r = mv_own3(SYS_read, fd, buf + len, cap - 1 - len);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	mv_own1(SYS_close, fd);
	buf[len] = 0;
	return (long)len;
}

/* Call fn on each line of a file of any size (lines longer than 1 KiB are cut). */
static int each_line(const char *path, void (*fn)(const char *line, size_t n, void *arg), void *arg)
{
	char buf[4096];
	size_t len = 0;
	long fd = mv_own4(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
	if (mv_raw_failed(fd))
		return -1;
	for (;;) {
		long r = mv_own3(SYS_read, fd, buf + len, sizeof(buf) - len);
		if (r > 0)
			len += (size_t)r;
		size_t start = 0;
		for (size_t i = 0; i < len; i++) {
			if (buf[i] == '\n') {
				fn(buf + start, i - start, arg);
				start = i + 1;
			}
		}
		if (r <= 0) {
			if (start < len)
				fn(buf + start, len - start, arg);
			break;
		}
		if (start == 0 && len == sizeof(buf)) { /* an over-long line: cut */
			fn(buf, len, arg);
			len = 0;
			continue;
		}
		memmove(buf, buf + start, len - start);
		len -= start;
	}
	mv_own1(SYS_close, fd);
	return 0;
}

static void each_text_line(const char *text, void (*fn)(const char *line, size_t n, void *arg), void *arg)
{
	while (*text) {
		const char *nl = strchr(text, '\n');
		size_t n = nl ? (size_t)(nl - text) : strlen(text);
		fn(text, n, arg);
		text += n + (nl != NULL);
	}
}

static const char *skip_digits(const char *p, uint64_t *v)
{
	*v = 0;
	while (*p >= '0' && *p <= '9')
		*v = *v * 10 + (uint64_t)(*p++ - '0');
	return p;
}

/* ---- PSI --------------------------------------------------------------------- */

/* "avg10=12.34" inside a line -> 1234. */
static int avg10(const char *line, size_t n, uint32_t *out)
{
	for (size_t i = 0; i + 6 < n; i++) {
		if (memcmp(line + i, "avg10=", 6))
			continue;
		uint64_t whole, frac = 0;
		const char *p = skip_digits(line + i + 6, &whole);
		if (p == line + i + 6)
			return -1;
		if (*p == '.') {
			const char *q = p + 1;
			if (q[0] >= '0' && q[0] <= '9') {
				frac = (uint64_t)(q[0] - '0') * 10;
				if (q[1] >= '0' && q[1] <= '9')
					frac += (uint64_t)(q[1] - '0');
			}
		}
		*out = (uint32_t)(whole * 100 + frac);
		return 0;
	}
	return -1;
}

struct psi_acc {
	uint32_t some, full;
	int got_some;
};

static void psi_line(const char *line, size_t n, void *arg)
{
	struct psi_acc *a = arg;
	if (n > 5 && !memcmp(line, "some ", 5) && avg10(line, n, &a->some) == 0)
		a->got_some = 1;
	else if (n > 5 && !memcmp(line, "full ", 5))
		(void)avg10(line, n, &a->full);
}

int mv_psi_parse(const char *text, uint32_t *some, uint32_t *full)
{
	struct psi_acc a = { 0, 0, 0 };
	each_text_line(text, psi_line, &a);
	*some = a.some;
	*full = a.full;
	return a.got_some ? 0 : -1;
}

/* ---- cgroup files ------------------------------------------------------------ */

int64_t mv_cg_parse_value(const char *text)
{
	uint64_t v;
	while (*text == ' ' || *text == '\t')
		text++;
	if (!strncmp(text, "max", 3))
		return -1;
	const char *p = skip_digits(text, &v);
	if (p == text)
		return -2;
	return v > (uint64_t)INT64_MAX ? -1 : (int64_t)v;
}

int64_t mv_cg_parse_key(const char *text, const char *key)
{
	size_t k = strlen(key);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : p) {
		if (strncmp(p, key, k) || p[k] != ' ')
			continue;
		uint64_t v;
		const char *e = skip_digits(p + k + 1, &v);
		return e == p + k + 1 ? -1 : (int64_t)v;
	}
	return -1;
}

static void copy_n(char *dst, size_t cap, const char *s, size_t n)
{
	if (!cap)
		return;
	if (n >= cap)
		n = cap - 1;
	memcpy(dst, s, n);
	dst[n] = 0;
}

/* Whether comma-separated list s[0..n) holds word. */
static int in_list(const char *s, size_t n, const char *word)
{
	size_t w = strlen(word), i = 0;
	while (i < n) {
		size_t j = i;
		while (j < n && s[j] != ',')
			j++;
		if (j - i == w && !memcmp(s + i, word, w))
			return 1;
		i = j + 1;
	}
	return 0;
}

struct self_acc {
	char *v2, *v1;
	size_t v2cap, v1cap;
	int got2, got1;
};

/* "hierarchy-ID:controller-list:cgroup-path" */
static void self_line(const char *line, size_t n, void *arg)
{
	struct self_acc *a = arg;
	const char *c1 = memchr(line, ':', n);
	if (!c1)
		return;
	const char *c2 = memchr(c1 + 1, ':', n - (size_t)(c1 + 1 - line));
	if (!c2)
		return;
	const char *path = c2 + 1;
	size_t plen = n - (size_t)(path - line);
	size_t clen = (size_t)(c2 - c1 - 1);
	if (c1 == line + 1 && line[0] == '0' && clen == 0) {
		copy_n(a->v2, a->v2cap, path, plen);
		a->got2 = 1;
	} else if (in_list(c1 + 1, clen, "memory")) {
		copy_n(a->v1, a->v1cap, path, plen);
		a->got1 = 1;
	}
}

int mv_cg_parse_self(const char *text, char *v2, size_t v2cap, char *v1, size_t v1cap)
{
	struct self_acc a = { v2, v1, v2cap, v1cap, 0, 0 };
	if (v2cap)
		v2[0] = 0;
	if (v1cap)
		v1[0] = 0;
	each_text_line(text, self_line, &a);
	return a.got2 || a.got1 ? 0 : -1;
}

struct mount_acc {
	char *v2, *v1;
	size_t v2cap, v1cap;
};

/* Field i (0-based, space-separated) of a line. */
static const char *field(const char *line, size_t n, int i, size_t *len)
{
	size_t p = 0;
	for (int f = 0; p <= n; f++) {
		size_t q = p;
		while (q < n && line[q] != ' ')
			q++;
		if (f == i) {
			*len = q - p;
			return line + p;
		}
		p = q + 1;
	}
	return NULL;
}

/* "id parent maj:min root mountpoint opts [optional...] - fstype source superopts" */
static void mount_line(const char *line, size_t n, void *arg)
{
	struct mount_acc *a = arg;
	size_t mlen = 0, flen = 0, slen = 0;
	const char *mp = field(line, n, 4, &mlen);
	const char *dash = NULL;
	for (size_t i = 0; i + 2 < n; i++)
		if (line[i] == ' ' && line[i + 1] == '-' && line[i + 2] == ' ') {
			dash = line + i + 3;
			break;
		}
	if (!mp || !dash)
		return;
	size_t rest = n - (size_t)(dash - line);
	const char *fs = field(dash, rest, 0, &flen);
	const char *so = field(dash, rest, 2, &slen);
	if (!fs)
		return;
	if (flen == 7 && !memcmp(fs, "cgroup2", 7) && !a->v2[0])
		copy_n(a->v2, a->v2cap, mp, mlen);
	else if (flen == 6 && !memcmp(fs, "cgroup", 6) && so && in_list(so, slen, "memory") && !a->v1[0])
		copy_n(a->v1, a->v1cap, mp, mlen);
}

void mv_cg_parse_mounts(const char *text, char *v2, size_t v2cap, char *v1, size_t v1cap)
{
	struct mount_acc a = { v2, v1, v2cap, v1cap };
	if (v2cap)
		v2[0] = 0;
	if (v1cap)
		v1[0] = 0;
	each_text_line(text, mount_line, &a);
}

/* ---- set-up and reading -------------------------------------------------------- */

static void join(char *out, size_t cap, const char *a, const char *b, const char *c)
{
	struct mv_outbuf o;
	mv_out_init(&o, out, cap, -1);
	mv_out_str(&o, a);
	mv_out_str(&o, b);
	mv_out_str(&o, c);
	mv_out_cstr(&o);
	if (o.truncated)
		out[0] = 0;
}

static int exists(const char *dir, const char *file)
{
	char path[MV_PATH_MAX + 64];
	join(path, sizeof(path), dir, "/", file);
	return path[0] && mv_own4(SYS_faccessat, AT_FDCWD, path, R_OK, 0) == 0;
}

/* Version of the cgroup directory: 2 with memory.current, 1 with
 * memory.usage_in_bytes, else 0. */
static int cg_version_of(const char *dir)
{
	if (exists(dir, "memory.current"))
		return 2;
	if (exists(dir, "memory.usage_in_bytes"))
		return 1;
	return 0;
}

static void mount_stream(const char *line, size_t n, void *arg)
{
	mount_line(line, n, arg);
}

void mv_pressure_setup(struct mv_pressure_src *src, const char *psi_override, const char *cg_override)
{
	memset(src, 0, sizeof(*src));
	copy_n(src->psi_path, sizeof(src->psi_path), psi_override && psi_override[0] ? psi_override
					   : "/proc/pressure/memory",
	       strlen(psi_override && psi_override[0] ? psi_override : "/proc/pressure/memory"));
	if (cg_override && cg_override[0]) {
		copy_n(src->cg_dir, sizeof(src->cg_dir), cg_override, strlen(cg_override));
		src->cg_version = cg_version_of(src->cg_dir);
		return;
	}
	char self[2048], p2[MV_PATH_MAX], p1[MV_PATH_MAX], m2[MV_PATH_MAX], m1[MV_PATH_MAX];
	struct mount_acc ma = { m2, m1, sizeof(m2), sizeof(m1) };
	if (read_small("/proc/self/cgroup", self, sizeof(self)) < 0 ||
	    mv_cg_parse_self(self, p2, sizeof(p2), p1, sizeof(p1)) < 0)
		return;
	m2[0] = m1[0] = 0;
	if (each_line("/proc/self/mountinfo", mount_stream, &ma) < 0)
		return;
	char dir[MV_PATH_MAX];
	if (m2[0] && p2[0]) {
		join(dir, sizeof(dir), m2, strcmp(p2, "/") ? p2 : "", "");
		if (dir[0] && cg_version_of(dir) == 2) {
			copy_n(src->cg_dir, sizeof(src->cg_dir), dir, strlen(dir));
			src->cg_version = 2;
			return;
		}
	}
	if (m1[0] && p1[0]) {
		join(dir, sizeof(dir), m1, strcmp(p1, "/") ? p1 : "", "");
		if (dir[0] && cg_version_of(dir) == 1) {
			copy_n(src->cg_dir, sizeof(src->cg_dir), dir, strlen(dir));
			src->cg_version = 1;
		}
	}
}

static int64_t cg_file(const char *dir, const char *file)
{
	char path[MV_PATH_MAX + 64], buf[64];
	join(path, sizeof(path), dir, "/", file);
	if (!path[0] || read_small(path, buf, sizeof(buf)) <= 0)
		return -2;
	return mv_cg_parse_value(buf);
}

/* v1 "no limit" is a huge page-rounded number: treat >= 2^62 as none. */
static int64_t v1_limit(int64_t v)
{
	return v >= ((int64_t)1 << 62) ? -1 : v;
}

void mv_pressure_read(const struct mv_pressure_src *src, struct mv_pressure *out)
{
	char buf[512];
	memset(out, 0, sizeof(*out));
	out->cg_current = out->cg_high = out->cg_max = out->cg_high_events = -1;
	if (read_small(src->psi_path, buf, sizeof(buf)) > 0 &&
	    mv_psi_parse(buf, &out->some_avg10, &out->full_avg10) == 0)
		out->psi_ok = 1;
	out->cg_version = src->cg_version;
	if (src->cg_version == 2) {
		int64_t v = cg_file(src->cg_dir, "memory.current");
		out->cg_current = v >= 0 ? v : -1;
		v = cg_file(src->cg_dir, "memory.high");
		out->cg_high = v >= 0 ? v : -1;
		v = cg_file(src->cg_dir, "memory.max");
		out->cg_max = v >= 0 ? v : -1;
		char path[MV_PATH_MAX + 64];
		join(path, sizeof(path), src->cg_dir, "/", "memory.events");
		if (path[0] && read_small(path, buf, sizeof(buf)) > 0)
			out->cg_high_events = mv_cg_parse_key(buf, "high");
	} else if (src->cg_version == 1) {
		int64_t v = cg_file(src->cg_dir, "memory.usage_in_bytes");
		out->cg_current = v >= 0 ? v : -1;
		v = cg_file(src->cg_dir, "memory.soft_limit_in_bytes");
		out->cg_high = v >= 0 ? v1_limit(v) : -1;
		v = cg_file(src->cg_dir, "memory.limit_in_bytes");
		out->cg_max = v >= 0 ? v1_limit(v) : -1;
	}
}
