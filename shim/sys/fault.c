/* fault.c - forced failures of madvisor's own calls, for the tests.
 *
 * Compiled into tests/libmadvisor_fault.so only (-DMV_FAULT_INJECTION); the
 * installed library has no trace of it. MADVISOR_FAULT lists the calls to
 * fail, comma-separated:
 *
 *     NAME[@SKIP][%EVERY]:ERRNO[:FILTER]
 *
 * NAME is a system call (openat, mmap, userfaultfd, ...) or pthread_create,
 * dlopen, dlsym; ERRNO a name (ENOMEM) or a number. The first SKIP matching
 * calls succeed, then every EVERY-th one fails (default: all of them).
 * FILTER restricts the rule to calls whose path argument contains it
 * (openat, faccessat, readlink, rename, unlink, dlopen, dlsym) or, written
 * "fd>N", to calls whose first argument (the descriptor; for mmap, the
 * address) is above N.
 * Parsed once without malloc; a bad rule is reported on stderr and ignored.
 * At exit each process appends "NAME SPEC failed N" per rule to the file
 * MADVISOR_FAULT_REPORT names, if any, so a test knows its fault fired. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include "sys/ownsys.h"
#include "sys/linux.h"

#define MAX_RULES 16
#define FILTER_MAX 64

struct rule {
	const char *spec; /* in the environment */
	size_t spec_len;
	unsigned long failed; /* calls failed so far (atomic) */
	long nr;
	long err;
	unsigned long skip, every;
	int fd_above; /* -1: FILTER is a path substring (or empty) */
	char filter[FILTER_MAX];
	unsigned long seen; /* matching calls so far (atomic) */
};

static struct rule rules[MAX_RULES];
static int nrules;
static int state; /* 0 not parsed, 1 parsing, 2 ready */

static const struct {
	const char *name;
	long nr;
} calls[] = {
	{ "openat", SYS_openat }, { "read", SYS_read }, { "pread64", SYS_pread64 }, { "write", SYS_write },
	{ "close", SYS_close }, { "fstat", SYS_fstat }, { "readlink", SYS_readlink },
	{ "faccessat", SYS_faccessat }, { "rename", SYS_rename }, { "unlink", SYS_unlink },
	{ "mmap", SYS_mmap }, { "munmap", SYS_munmap }, { "madvise", SYS_madvise }, { "mprotect", SYS_mprotect },
	{ "process_madvise", SYS_process_madvise }, { "pidfd_open", SYS_pidfd_open },
	{ "process_vm_readv", SYS_process_vm_readv }, { "mincore", SYS_mincore },
	{ "userfaultfd", SYS_userfaultfd }, { "ioctl", SYS_ioctl }, { "futex", SYS_futex },
	{ "clock_gettime", SYS_clock_gettime }, { "uname", SYS_uname }, { "mseal", SYS_mseal },
	{ "pthread_create", MV_OWN_PTHREAD_CREATE }, { "dlopen", MV_OWN_DLOPEN }, { "dlsym", MV_OWN_DLSYM },
};

static const struct {
	const char *name;
	long err;
} errnos[] = {
	{ "EPERM", EPERM }, { "ENOENT", ENOENT }, { "ESRCH", ESRCH }, { "EINTR", EINTR }, { "EIO", EIO },
	{ "EBADF", EBADF }, { "EAGAIN", EAGAIN }, { "ENOMEM", ENOMEM }, { "EACCES", EACCES },
	{ "EFAULT", EFAULT }, { "EBUSY", EBUSY }, { "EEXIST", EEXIST }, { "EINVAL", EINVAL },
	{ "EMFILE", EMFILE }, { "ENFILE", ENFILE }, { "ENOSPC", ENOSPC }, { "EROFS", EROFS },
	{ "ENOSYS", ENOSYS }, { "EOPNOTSUPP", EOPNOTSUPP }, { "ETIMEDOUT", ETIMEDOUT }, { "EXDEV", EXDEV },
	{ "ENOTDIR", ENOTDIR }, { "EISDIR", EISDIR }, { "ENAMETOOLONG", ENAMETOOLONG }, { "ELOOP", ELOOP },
	{ "EDQUOT", EDQUOT }, { "ENODEV", ENODEV }, { "ENXIO", ENXIO }, { "ESPIPE", ESPIPE },
};

static void complain(const char *what, const char *s, size_t n)
{
	char buf[160];
	size_t len = 0;
	const char *head = "madvisor: MADVISOR_FAULT: ";
	for (const char *p = head; *p && len < sizeof(buf) - 2; p++)
		buf[len++] = *p;
	for (const char *p = what; *p && len < sizeof(buf) - 2; p++)
		buf[len++] = *p;
	for (size_t i = 0; i < n && len < sizeof(buf) - 2; i++)
		buf[len++] = s[i];
	buf[len++] = '\n';
	mv_raw3(SYS_write, 2, buf, len);
}

/* A decimal number in s[0..n), or -1. */
static long number(const char *s, size_t n)
{
	long v = 0;
	if (!n)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > 100000000)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int same(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(s, word, n) == 0;
}

/* One rule from s[0..n); returns 0 or -1. */
static int parse_rule(const char *s, size_t n, struct rule *r)
{
	const char *c1 = memchr(s, ':', n);
	if (!c1)
		return -1;
	size_t head = (size_t)(c1 - s), name_len = strcspn(s, "@%:");
	const char *rest = c1 + 1;
	size_t rest_len = n - head - 1;
	const char *c2 = memchr(rest, ':', rest_len);
	size_t err_len = c2 ? (size_t)(c2 - rest) : rest_len;

	int known = 0;
	for (unsigned i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		if (same(s, name_len, calls[i].name))
			r->nr = calls[i].nr, known = 1; /* SYS_read is 0 on x86_64 */
	if (!known)
		return -1;
	r->skip = 0;
	r->every = 1;
	for (const char *p = s + name_len; p < c1;) {
		char k = *p++;
		size_t len = strcspn(p, "@%:");
		long v = number(p, len);
		if (v < 0 || (k == '%' && v == 0))
			return -1;
		if (k == '@')
			r->skip = (unsigned long)v;
		else
			r->every = (unsigned long)v;
		p += len;
	}
	r->err = number(rest, err_len);
	for (unsigned i = 0; i < sizeof(errnos) / sizeof(errnos[0]); i++)
		if (same(rest, err_len, errnos[i].name))
			r->err = errnos[i].err;
	if (r->err <= 0 || r->err >= 4096)
		return -1;
	r->fd_above = -1;
	r->filter[0] = 0;
	if (c2) {
		size_t flen = rest_len - err_len - 1;
		if (flen >= FILTER_MAX)
			return -1;
		memcpy(r->filter, c2 + 1, flen);
		r->filter[flen] = 0;
		if (flen > 3 && memcmp(r->filter, "fd>", 3) == 0 && (r->fd_above = (int)number(r->filter + 3, flen - 3)) < 0)
			return -1;
	}
	r->seen = 0;
	return 0;
}

static void parse(const char *spec)
{
	while (spec && *spec) {
		size_t n = strcspn(spec, ",");
		if (n && nrules < MAX_RULES && parse_rule(spec, n, &rules[nrules]) == 0) {
			rules[nrules].spec = spec;
			rules[nrules].spec_len = n;
			nrules++;
		}
		else if (n)
			complain("ignoring ", spec, n);
		spec += n;
		if (*spec)
			spec++;
	}
}

/* The path argument of call n, or NULL. */
static const char *path_of(long n, long a, long b)
{
	switch (n) {
	case SYS_openat:
	case SYS_faccessat:
		return (const char *)b;
	case SYS_readlink:
	case SYS_rename:
	case SYS_unlink:
	case MV_OWN_DLOPEN:
	case MV_OWN_DLSYM:
		return (const char *)a;
	default:
		return NULL;
	}
}

static int matches(const struct rule *r, long n, long a, long b)
{
	if (r->nr != n)
		return 0;
	if (r->fd_above >= 0)
		return a > r->fd_above;
	if (!r->filter[0])
		return 1;
	const char *p = path_of(n, a, b);
	return p && strstr(p, r->filter);
}

long mv_fault_check(long n, long a, long b)
{
	int s = __atomic_load_n(&state, __ATOMIC_ACQUIRE);
	if (s != 2) {
		int expect = 0;
		if (s != 0 || !__atomic_compare_exchange_n(&state, &expect, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return 0; /* another thread is parsing: let this call through */
		parse(secure_getenv("MADVISOR_FAULT"));
		__atomic_store_n(&state, 2, __ATOMIC_RELEASE);
	}
	for (int i = 0; i < nrules; i++) {
		struct rule *r = &rules[i];
		if (!matches(r, n, a, b))
			continue;
		unsigned long k = __atomic_fetch_add(&r->seen, 1, __ATOMIC_RELAXED);
		if (k >= r->skip && (k - r->skip) % r->every == 0) {
			__atomic_fetch_add(&r->failed, 1, __ATOMIC_RELAXED);
			return -r->err;
		}
	}
	return 0;
}

static void put(char *buf, size_t cap, size_t *len, const char *s, size_t n)
{
	for (size_t i = 0; i < n && *len < cap; i++)
		buf[(*len)++] = s[i];
}

/* Priority 101: after the library's own destructor, which writes the report. */
__attribute__((destructor(101))) static void report(void)
{
	const char *path = secure_getenv("MADVISOR_FAULT_REPORT");
	if (!path || !*path || __atomic_load_n(&state, __ATOMIC_ACQUIRE) != 2 || !nrules)
		return;
	char buf[MAX_RULES * 128];
	size_t len = 0;
	for (int i = 0; i < nrules; i++) {
		char num[24];
		size_t d = sizeof(num);
		unsigned long v = __atomic_load_n(&rules[i].failed, __ATOMIC_RELAXED);
		do
			num[--d] = (char)('0' + v % 10);
		while ((v /= 10) && d);
		put(buf, sizeof(buf), &len, rules[i].spec, rules[i].spec_len);
		put(buf, sizeof(buf), &len, " failed ", 8);
		put(buf, sizeof(buf), &len, num + d, sizeof(num) - d);
		put(buf, sizeof(buf), &len, "\n", 1);
	}
	long fd = mv_raw4(SYS_openat, AT_FDCWD, path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	if (mv_raw_failed(fd))
		return;
	mv_raw3(SYS_write, fd, buf, len);
	mv_raw1(SYS_close, fd);
}
