/* outbuf.c - fixed-buffer text output without stdio. */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include "sys/outbuf.h"
#include "sys/ownsys.h"

void mv_out_init(struct mv_outbuf *o, char *buf, size_t cap, int fd)
{
	o->buf = buf;
	o->cap = cap;
	o->len = 0;
	o->fd = fd;
	o->truncated = 0;
	o->failed = 0;
}

static int write_all(int fd, const char *p, size_t n)
{
	int interrupted = 0;
	while (n) {
		long r = mv_own3(SYS_write, fd, p, n);
		if (r == -EINTR && ++interrupted < 64)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

int mv_out_flush(struct mv_outbuf *o)
{
	if (o->fd < 0 || !o->len)
		return 0;
	if (write_all(o->fd, o->buf, o->len) < 0)
		o->failed = 1;
	o->len = 0;
	return o->failed ? -1 : 0;
}

void mv_out_mem(struct mv_outbuf *o, const char *s, size_t n)
{
	size_t keep = o->fd < 0; /* a string builder keeps a byte for the NUL */

	if (o->fd >= 0 && !o->cap) {
		/* No buffer at all: write through (flushing would free no room). */
		if (n && write_all(o->fd, s, n) < 0)
			o->failed = 1;
		return;
	}
	while (n) {
		/* A zero-size string builder has no room, not SIZE_MAX of it. */
		size_t room = o->cap > o->len + keep ? o->cap - o->len - keep : 0;
		if (!room) {
			if (o->fd < 0) {
				o->truncated = 1;
				return;
			}
			mv_out_flush(o);
			continue;
		}
		size_t k = n < room ? n : room;
		memcpy(o->buf + o->len, s, k);
		o->len += k;
		s += k;
		n -= k;
	}
}

void mv_out_str(struct mv_outbuf *o, const char *s)
{
	mv_out_mem(o, s, strlen(s));
}

void mv_out_char(struct mv_outbuf *o, char c)
{
	mv_out_mem(o, &c, 1);
}

static int fmt_u64(char *tmp, uint64_t v)
{
	int n = 0;
	char rev[24];
	do {
		rev[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (int i = 0; i < n; i++)
		tmp[i] = rev[n - 1 - i];
	return n;
}

void mv_out_u64(struct mv_outbuf *o, uint64_t v)
{
	char tmp[24];
	mv_out_mem(o, tmp, (size_t)fmt_u64(tmp, v));
}

void mv_out_i64(struct mv_outbuf *o, int64_t v)
{
	if (v < 0) {
		mv_out_char(o, '-');
		mv_out_u64(o, (uint64_t)0 - (uint64_t)v);
	} else {
		mv_out_u64(o, (uint64_t)v);
	}
}

void mv_out_hex(struct mv_outbuf *o, uint64_t v)
{
	char tmp[18];
	int n = 0;
	mv_out_str(o, "0x");
	do {
		tmp[sizeof(tmp) - 1 - n++] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	mv_out_mem(o, tmp + sizeof(tmp) - n, (size_t)n);
}

void mv_out_fixed(struct mv_outbuf *o, double v, int decimals)
{
	/* 10^decimals and the scaled value must fit in 64 bits (and the digits in
	 * tmp below): at most 18 decimals. */
	if (decimals < 0)
		decimals = 0;
	if (decimals > 18)
		decimals = 18;
	if (v != v) { /* NaN */
		mv_out_str(o, "0");
		return;
	}
	if (v < 0) {
		mv_out_char(o, '-');
		v = -v;
	}
	uint64_t scale = 1;
	for (int i = 0; i < decimals; i++)
		scale *= 10;
	if (v > 1e18 / (double)scale)
		v = 1e18 / (double)scale;
	uint64_t x = (uint64_t)(v * (double)scale + 0.5);
	mv_out_u64(o, x / scale);
	if (decimals > 0) {
		char tmp[24];
		uint64_t frac = x % scale;
		mv_out_char(o, '.');
		for (int i = decimals - 1; i >= 0; i--) {
			tmp[i] = (char)('0' + frac % 10);
			frac /= 10;
		}
		mv_out_mem(o, tmp, (size_t)decimals);
	}
}

void mv_out_pad_u64(struct mv_outbuf *o, uint64_t v, int w)
{
	char tmp[24];
	int n = fmt_u64(tmp, v);
	for (int i = n; i < w; i++)
		mv_out_char(o, ' ');
	mv_out_mem(o, tmp, (size_t)n);
}

void mv_out_pad_str(struct mv_outbuf *o, const char *s, int w)
{
	int n = (int)strlen(s);
	mv_out_str(o, s);
	for (int i = n; i < w; i++)
		mv_out_char(o, ' ');
}

void mv_out_json_str(struct mv_outbuf *o, const char *s)
{
	mv_out_char(o, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		unsigned char c = *p;
		if (c == '"' || c == '\\') {
			mv_out_char(o, '\\');
			mv_out_char(o, (char)c);
		} else if (c < 0x20 || c == 0x7f) {
			mv_out_str(o, "\\u00");
			mv_out_char(o, "0123456789abcdef"[c >> 4]);
			mv_out_char(o, "0123456789abcdef"[c & 15]);
		} else {
			mv_out_char(o, (char)c);
		}
	}
	mv_out_char(o, '"');
}

const char *mv_out_cstr(struct mv_outbuf *o)
{
	if (o->cap)
		o->buf[o->len < o->cap ? o->len : o->cap - 1] = 0;
	return o->buf;
}

void mv_out_say(int fd, long err, const char *then, const char *what, ...)
{
	char buf[1024]; /* a path and a list of keys fit: one write(2) */
	struct mv_outbuf o;
	va_list ap;
	mv_out_init(&o, buf, sizeof(buf), fd);
	mv_out_str(&o, "madvisor: ");
	va_start(ap, what);
	for (const char *p = what; p; p = va_arg(ap, const char *))
		mv_out_str(&o, p);
	va_end(ap);
	if (err) {
		mv_out_str(&o, " (error ");
		mv_out_i64(&o, err < 0 ? -err : err);
		mv_out_char(&o, ')');
	}
	mv_out_str(&o, "; ");
	mv_out_str(&o, then);
	mv_out_char(&o, '\n');
	mv_out_flush(&o);
}

const char *mv_out_errno_text(long err)
{
	static const struct {
		int no;
		const char *text;
	} table[] = {
		{ ENOENT, "no such file or directory" },
		{ EACCES, "permission denied" },
		{ EISDIR, "is a directory" },
		{ ELOOP, "too many levels of symbolic links" },
		{ ENAMETOOLONG, "file name too long" },
		{ ENOTDIR, "not a directory" },
		{ EPERM, "operation not permitted" },
		{ EIO, "input/output error" },
		{ ENXIO, "no such device or address" },
		{ EMFILE, "too many open files" },
		{ ENFILE, "too many open files in system" },
		{ ENOMEM, "out of memory" },
		{ EROFS, "read-only file system" },
		{ ENOSPC, "no space left on device" },
	};
	if (err < 0)
		err = -err;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (table[i].no == err)
			return table[i].text;
	return NULL;
}
