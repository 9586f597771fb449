/* config.c - read MADVISOR_PROFILE, MADVISOR_CONFIG and MADVISOR_CONF.
 *
 * Runs in the library constructor, before main and possibly before malloc
 * works: no malloc, no stdio, no errno. Files are read with raw system calls
 * into one static buffer (configuration is read once, single-threaded).
 *
 * At the first bad entry nothing more is applied, but the rest of that source
 * and the later sources are still scanned for strict:true, so that a request
 * for strictness is honoured wherever it is written. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include "core/config.h"
#include "sys/outbuf.h"
#include "sys/ownsys.h"

#ifndef MV_PROFILE_DIR
#define MV_PROFILE_DIR "/usr/local/share/madvisor/configs"
#endif

#define PROFILE_NAME_MAX 64

static char file_buf[MV_CONFIG_FILE_MAX + 1];

/* How to name the place of an entry in an error: "<pre>[:line]<post>". */
struct where {
	const char *pre;       /* "MADVISOR_CONF", a path, or "profile 'x' (" */
	const char *pre2;      /* the profile's path, or NULL */
	const char *post;      /* ")" or "" */
	int lines;             /* append ":<line>" */
};

struct ctx {
	struct mv_options *o;
	enum mv_source src;
	struct mv_config_error *err;
	const struct where *w;
	int failed;            /* an error was recorded: only look for strict now */
};

/* ---- error text ----------------------------------------------------------- */

static void out_clean(struct mv_outbuf *b, const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		mv_out_char(b, c >= 0x20 && c < 0x7f ? (char)c : '?');
	}
}

static void set_where(struct mv_config_error *e, const struct where *w, int line)
{
	struct mv_outbuf b;
	mv_out_init(&b, e->where, sizeof(e->where), -1);
	mv_out_str(&b, w->pre);
	if (w->pre2)
		mv_out_str(&b, w->pre2);
	if (w->lines && line > 0) {
		mv_out_char(&b, ':');
		mv_out_u64(&b, (uint64_t)line);
	}
	mv_out_str(&b, w->post);
	mv_out_cstr(&b);
}

static void set_text(char *dst, size_t cap, const char *s, size_t n)
{
	struct mv_outbuf b;
	mv_out_init(&b, dst, cap, -1);
	out_clean(&b, s, n);
	mv_out_cstr(&b);
}

static void record(struct ctx *c, int line, const char *key, size_t klen, const char *reason)
{
	set_where(c->err, c->w, line);
	set_text(c->err->key, sizeof(c->err->key), key, klen);
	set_text(c->err->reason, sizeof(c->err->reason), reason, strlen(reason));
	c->failed = 1;
}

void mv_config_format_error(const struct mv_config_error *e, char *buf, size_t cap)
{
	struct mv_outbuf b;
	if (!cap)
		return;
	/* Keep room for the newline even when the text is cut short. */
	mv_out_init(&b, buf, cap > 1 ? cap - 1 : cap, -1);
	mv_out_str(&b, "madvisor: ");
	mv_out_str(&b, e->where);
	mv_out_str(&b, ": ");
	if (e->key[0]) {
		mv_out_str(&b, "key '");
		mv_out_str(&b, e->key);
		mv_out_str(&b, "': ");
	}
	mv_out_str(&b, e->reason);
	size_t n = b.len;
	if (cap > 1)
		buf[n++] = '\n';
	buf[n] = 0;
}

/* Text for the errors open() and read() give on configuration files. */
static const char *errno_text(long err, char *tmp, size_t cap)
{
	const char *text = mv_out_errno_text(err);
	if (text)
		return text;
	struct mv_outbuf b;
	mv_out_init(&b, tmp, cap, -1);
	mv_out_str(&b, "errno ");
	mv_out_i64(&b, err);
	return mv_out_cstr(&b);
}

/* ---- entries -------------------------------------------------------------- */

static int is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

static void trim(const char **s, size_t *n)
{
	while (*n && is_space(**s)) {
		(*s)++;
		(*n)--;
	}
	while (*n && is_space((*s)[*n - 1]))
		(*n)--;
}

/* One "key:value" entry, already trimmed and non-empty. */
static void entry(struct ctx *c, const char *s, size_t n, int line)
{
	char reason[128];
	const char *colon = memchr(s, ':', n);
	const char *k = s, *v;
	size_t kn, vn;

	if (colon) {
		kn = (size_t)(colon - s);
		v = colon + 1;
		vn = n - kn - 1;
		trim(&k, &kn);
		trim(&v, &vn);
	}
	if (c->failed) {
		/* Only strict:true still matters; it makes the recorded error fatal. */
		struct mv_option_desc d = mv_option_table[MV_OPT_STRICT];
		bool b = false;
		d.offset = 0; /* parse into b */
		if (colon && kn == 6 && memcmp(k, "strict", 6) == 0 &&
		    mv_option_parse(&d, &b, v, vn, reason, sizeof(reason)) == 0 && b)
			c->o->strict = true;
		return;
	}
	if (!colon || kn == 0) {
		struct mv_outbuf b;
		mv_out_init(&b, reason, sizeof(reason), -1);
		mv_out_str(&b, "expected key:value, got '");
		out_clean(&b, s, n < 40 ? n : 40);
		mv_out_str(&b, n > 40 ? "...'" : "'");
		record(c, line, "", 0, mv_out_cstr(&b));
		return;
	}
	int id = mv_option_find(k, kn);
	if (id < 0) {
		record(c, line, k, kn, "unknown key");
		return;
	}
	if (mv_option_parse(&mv_option_table[id], c->o, v, vn, reason, sizeof(reason)) < 0) {
		record(c, line, k, kn, reason);
		return;
	}
	c->o->source[id] = (unsigned char)c->src;
}

/* Comma-separated entries (MADVISOR_CONF, the launcher's --conf). */
static void apply_list(struct ctx *c, const char *text)
{
	const char *p = text;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *s = p;
		trim(&s, &n);
		if (n)
			entry(c, s, n, 0);
		if (!end)
			break;
		p = end + 1;
	}
}

/* One entry per line; '#' starts a comment at the start of a line or after
 * white space (so "a#b.json" keeps its '#'). */
static void apply_lines(struct ctx *c, const char *text, size_t len)
{
	int line = 0;
	size_t i = 0;
	while (i < len) {
		const char *s = text + i;
		const char *nl = memchr(s, '\n', len - i);
		size_t n = nl ? (size_t)(nl - s) : len - i;
		i += n + 1;
		line++;
		for (size_t j = 0; j < n; j++) {
			if (s[j] == '#' && (j == 0 || is_space(s[j - 1]))) {
				n = j;
				break;
			}
		}
		trim(&s, &n);
		if (n)
			entry(c, s, n, line);
	}
}

/* ---- files ---------------------------------------------------------------- */

/* Read a whole regular file into file_buf. Returns its length, or -1 with a
 * reason in reason[cap]; *missing is set for ENOENT. */
static long read_file(const char *path, char *reason, size_t cap, int *missing)
{
	char tmp[32];
	struct stat st;
	struct mv_outbuf b;
	long fd, r;
	size_t len = 0;

	*missing = 0;
	mv_out_init(&b, reason, cap, -1);
	/* O_NONBLOCK: opening a FIFO must not hang the program before main. */
	fd = mv_own4(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK, 0);
	if (mv_raw_failed(fd)) {
		*missing = fd == -ENOENT;
		mv_out_str(&b, "cannot open: ");
		mv_out_str(&b, errno_text(-fd, tmp, sizeof(tmp)));
		mv_out_cstr(&b);
		return -1;
	}
	r = mv_own2(SYS_fstat, fd, &st);
	if (mv_raw_failed(r)) {
		mv_out_str(&b, "cannot stat: ");
		mv_out_str(&b, errno_text(-r, tmp, sizeof(tmp)));
		goto fail;
	}
	if (S_ISDIR(st.st_mode)) {
		mv_out_str(&b, "is a directory");
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		mv_out_str(&b, "not a regular file");
		goto fail;
	}
	if (st.st_size > MV_CONFIG_FILE_MAX)
		goto too_large;
	/* Read to end of file: the size may change under us, or be 0 (procfs). */
	for (int again = 0;;) {
		r = mv_own3(SYS_read, fd, file_buf + len, sizeof(file_buf) - len);
		if ((r == -EINTR || r == -EAGAIN) && ++again < 64)
			continue;
		if (mv_raw_failed(r)) {
			mv_out_str(&b, "cannot read: ");
			mv_out_str(&b, errno_text(-r, tmp, sizeof(tmp)));
			goto fail;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > MV_CONFIG_FILE_MAX) {
			st.st_size = (off_t)len;
			goto too_large;
		}
	}
	mv_own1(SYS_close, fd);
	file_buf[len] = 0;
	return (long)len;

too_large:
	mv_out_str(&b, "file too large (");
	mv_out_u64(&b, (uint64_t)st.st_size);
	mv_out_str(&b, len > MV_CONFIG_FILE_MAX ? "+ bytes, limit " : " bytes, limit ");
	mv_out_u64(&b, MV_CONFIG_FILE_MAX);
	mv_out_char(&b, ')');
fail:
	mv_out_cstr(&b);
	mv_own1(SYS_close, fd);
	return -1;
}

static void apply_path(struct ctx *c, const char *path, const char *missing_reason)
{
	char reason[128];
	int missing;
	long len;

	if (c->failed) {
		/* Still read it, but only to look for strict:true. */
		len = read_file(path, reason, sizeof(reason), &missing);
		if (len > 0)
			apply_lines(c, file_buf, (size_t)len);
		return;
	}
	len = read_file(path, reason, sizeof(reason), &missing);
	if (len < 0) {
		record(c, 0, "", 0, missing && missing_reason ? missing_reason : reason);
		return;
	}
	apply_lines(c, file_buf, (size_t)len);
}

static int valid_profile_name(const char *name)
{
	size_t n = strlen(name);
	if (n == 0 || n > PROFILE_NAME_MAX || name[0] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char ch = name[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
		      ch == '_' || ch == '.' || ch == '-'))
			return 0;
	}
	return 1;
}

static void apply_profile(struct ctx *c, const char *name, const char *dir)
{
	char path[MV_PATH_MAX];
	char pre[PROFILE_NAME_MAX + 24];
	struct mv_outbuf b;
	struct where w = { pre, NULL, "", 0 };
	const struct where *saved = c->w;

	mv_out_init(&b, pre, sizeof(pre), -1);
	mv_out_str(&b, "profile '");
	out_clean(&b, name, strlen(name) < PROFILE_NAME_MAX ? strlen(name) : PROFILE_NAME_MAX);
	mv_out_char(&b, '\'');
	mv_out_cstr(&b);
	c->w = &w;
	if (!valid_profile_name(name)) {
		if (!c->failed)
			record(c, 0, "", 0,
			       "invalid profile name (letters, digits, '_', '-' and '.'; no leading '.')");
		goto out;
	}
	mv_out_init(&b, path, sizeof(path), -1);
	mv_out_str(&b, dir);
	mv_out_char(&b, '/');
	mv_out_str(&b, name);
	mv_out_str(&b, ".conf");
	mv_out_cstr(&b);
	if (b.truncated) {
		if (!c->failed)
			record(c, 0, "", 0, "profile path too long");
		goto out;
	}
	mv_out_init(&b, pre, sizeof(pre), -1); /* reuse: "profile 'x' (" */
	mv_out_str(&b, "profile '");
	mv_out_str(&b, name);
	mv_out_str(&b, "' (");
	mv_out_cstr(&b);
	w.pre2 = path;
	w.post = ")";
	w.lines = 1;
	apply_path(c, path, "no such profile");
out:
	c->w = saved;
}

/* ---- public entry points -------------------------------------------------- */

static void ctx_init(struct ctx *c, struct mv_options *o, enum mv_source src,
		     struct mv_config_error *err, const struct where *w)
{
	c->o = o;
	c->src = src;
	c->err = err;
	c->w = w;
	c->failed = 0;
	err->where[0] = err->key[0] = err->reason[0] = 0;
}

int mv_config_apply_string(struct mv_options *o, const char *text, enum mv_source src,
			   const char *where, struct mv_config_error *err)
{
	struct where w = { where, NULL, "", 0 };
	struct ctx c;
	ctx_init(&c, o, src, err, &w);
	apply_list(&c, text);
	return c.failed ? -1 : 0;
}

int mv_config_apply_file(struct mv_options *o, const char *path, enum mv_source src,
			 struct mv_config_error *err)
{
	struct where w = { path, NULL, "", 1 };
	struct ctx c;
	ctx_init(&c, o, src, err, &w);
	apply_path(&c, path, NULL);
	return c.failed ? -1 : 0;
}

int mv_config_apply_profile(struct mv_options *o, const char *name, const char *dir,
			    struct mv_config_error *err)
{
	struct ctx c;
	ctx_init(&c, o, MV_SRC_PROFILE, err, NULL);
	apply_profile(&c, name, dir);
	return c.failed ? -1 : 0;
}

static const char *nonempty(const char *s)
{
	return s && s[0] ? s : NULL;
}

int mv_config_load(struct mv_options *o, mv_getenv_fn get, int stderr_fd)
{
	struct mv_config_error err;
	const char *profile = nonempty(get("MADVISOR_PROFILE"));
	const char *file = nonempty(get("MADVISOR_CONFIG"));
	const char *env = nonempty(get("MADVISOR_CONF"));
	struct where wf = { file, NULL, "", 1 };
	struct where we = { "MADVISOR_CONF", NULL, "", 0 };
	struct ctx c;

	mv_options_defaults(o);
	ctx_init(&c, o, MV_SRC_PROFILE, &err, NULL);
	if (profile) {
		const char *dir = nonempty(get("MADVISOR_PROFILE_DIR"));
		apply_profile(&c, profile, dir ? dir : MV_PROFILE_DIR);
	}
	if (file) {
		c.src = MV_SRC_FILE;
		c.w = &wf;
		apply_path(&c, file, NULL);
	}
	if (env) {
		c.src = MV_SRC_ENV;
		c.w = &we;
		apply_list(&c, env);
	}
	if (!c.failed)
		return 0;

	char msg[sizeof(err) + 64];
	char line[sizeof(msg) + 40];
	struct mv_outbuf b;
	int strict = o->strict;
	size_t n;
	mv_config_format_error(&err, msg, sizeof(msg));
	n = strlen(msg);
	if (n && msg[n - 1] == '\n')
		msg[n - 1] = 0;
	/* One write, so that the line is not interleaved with other output. */
	mv_out_init(&b, line, sizeof(line), stderr_fd);
	mv_out_str(&b, msg);
	mv_out_str(&b, strict ? "; exiting (strict)\n" : "; running as plain passthrough\n");
	mv_out_flush(&b);
	if (strict)
		mv_raw1(SYS_exit_group, 2);
	mv_options_defaults(o);
	return -1;
}

/* ---- print_config --------------------------------------------------------- */

static const char *source_name(unsigned s)
{
	switch (s) {
	case MV_SRC_PROFILE: return "profile";
	case MV_SRC_FILE: return "file";
	case MV_SRC_ENV: return "env";
	default: return "default";
	}
}

static uint64_t load_uint(const void *field, size_t size)
{
	switch (size) {
	case 1: { uint8_t x; memcpy(&x, field, 1); return x; }
	case 2: { uint16_t x; memcpy(&x, field, 2); return x; }
	case 4: { uint32_t x; memcpy(&x, field, 4); return x; }
	default: { uint64_t x; memcpy(&x, field, 8); return x; }
	}
}

void mv_config_print(const struct mv_options *o, int fd)
{
	char buf[MV_OPT_COUNT * (MV_PATH_MAX + 96)];
	struct mv_outbuf b;

	mv_out_init(&b, buf, sizeof(buf), fd);
	for (int i = 0; i < MV_OPT_COUNT; i++) {
		const struct mv_option_desc *d = &mv_option_table[i];
		const char *field = (const char *)o + d->offset;
		mv_out_str(&b, "madvisor: config ");
		mv_out_str(&b, d->name);
		mv_out_str(&b, " = ");
		if ((d->flags & MV_OPT_F_UNSET) && o->source[i] == MV_SRC_DEFAULT) {
			mv_out_str(&b, "unset: the allocator's own (default)\n");
			continue;
		}
		switch (d->type) {
		case MV_T_BOOL: {
			bool v;
			memcpy(&v, field, sizeof(v));
			mv_out_str(&b, v ? "true" : "false");
			break;
		}
		case MV_T_UINT:
			mv_out_u64(&b, load_uint(field, d->size));
			break;
		case MV_T_ENUM:
			mv_out_str(&b, mv_option_choice(d, o));
			break;
		case MV_T_STRING:
			if (field[0])
				out_clean(&b, field, strnlen(field, d->size));
			else
				mv_out_str(&b, "\"\"");
			break;
		}
		mv_out_str(&b, " (");
		mv_out_str(&b, source_name(o->source[i]));
		mv_out_str(&b, ")\n");
	}
	mv_out_flush(&b);
}
