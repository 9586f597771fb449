/* fuzz_config_load.c - libFuzzer target: mv_config_load, the start-up
 * sequence that layers MADVISOR_PROFILE < MADVISOR_CONFIG < MADVISOR_CONF.
 *
 * Input: one selector byte, then up to three parts separated by NUL bytes:
 * the profile (its text, or its name), the MADVISOR_CONFIG file, the
 * MADVISOR_CONF string. The selector picks the profile - none, one of the
 * shipped configs/NAME.conf by name, a profile holding part 1 (in a temporary
 * profile directory), part 1 as the name, a missing one, or the compiled-in
 * directory - and which of the file and the string are set. Checks:
 *  - the result is the three layers applied one after the other with the
 *    single-source entry points (mv_config_apply_profile/_file/_string),
 *    stopping at the first error, later layers still scanned for strict:true;
 *  - on success every key's value and source come from the highest layer
 *    that sets it (each layer read alone, from the defaults);
 *  - on failure: options back at the defaults, return -1, and exactly one
 *    line on the error descriptor naming the first error; with strict:true
 *    anywhere, exit status 2 instead (checked in a child process);
 *  - the invariants of fuzz_check.h on the options. */
#include <errno.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>
#include "fuzz_check.h"

#ifndef FUZZ_CONFIGS_DIR
#error "FUZZ_CONFIGS_DIR: the source tree's configs/ directory"
#endif

static int file_fd = -1, scan_fd = -1, msg_fd = -1, prof_fd = -1;
static char file_path[64], scan_path[64], prof_dir[64], prof_file[96];
static const char *env_profile, *env_dir, *env_file, *env_conf;

static const char *getter(const char *name)
{
	if (!strcmp(name, "MADVISOR_PROFILE"))
		return env_profile;
	if (!strcmp(name, "MADVISOR_PROFILE_DIR"))
		return env_dir;
	if (!strcmp(name, "MADVISOR_CONFIG"))
		return env_file;
	if (!strcmp(name, "MADVISOR_CONF"))
		return env_conf;
	return NULL;
}

static void cleanup_dir(void)
{
	unlink(prof_file);
	rmdir(prof_dir);
}

static void setup(void)
{
	const char *tmp = getenv("TMPDIR");
	snprintf(prof_dir, sizeof(prof_dir), "%s/mvfuzz-XXXXXX", tmp && strlen(tmp) < 40 ? tmp : "/tmp");
	fuzz_require(mkdtemp(prof_dir) != NULL, "mkdtemp");
	snprintf(prof_file, sizeof(prof_file), "%s/fuzz.conf", prof_dir);
	prof_fd = open(prof_file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	fuzz_require(prof_fd >= 0, "create the profile file");
	atexit(cleanup_dir);
	file_fd = memfd_create("fuzz-config", MFD_CLOEXEC);
	scan_fd = memfd_create("fuzz-scan", MFD_CLOEXEC);
	msg_fd = memfd_create("fuzz-msg", MFD_CLOEXEC);
	fuzz_require(file_fd >= 0 && scan_fd >= 0 && msg_fd >= 0, "memfd_create works");
	snprintf(file_path, sizeof(file_path), "/proc/self/fd/%d", file_fd);
	snprintf(scan_path, sizeof(scan_path), "/proc/self/fd/%d", scan_fd);
}

static void put(int fd, const void *a, size_t n, const void *b, size_t m)
{
	fuzz_require(ftruncate(fd, 0) == 0, "truncate");
	fuzz_require(n == 0 || pwrite(fd, a, n, 0) == (ssize_t)n, "write");
	fuzz_require(m == 0 || pwrite(fd, b, m, (off_t)n) == (ssize_t)m, "write");
}

/* Whether a layer read after an error asks for strict:true: the same text
 * behind a first entry that fails, so the parser only scans. */
static int scan_strict_file(const char *text, size_t n)
{
	struct mv_options s;
	struct mv_config_error e;
	put(scan_fd, "\x01\n", 2, text, n);
	mv_options_defaults(&s);
	mv_config_apply_file(&s, scan_path, MV_SRC_FILE, &e);
	return s.strict;
}

static int scan_strict_string(const char *text)
{
	struct mv_options s;
	struct mv_config_error e;
	size_t n = strlen(text);
	char *t = malloc(n + 3);
	fuzz_require(t != NULL, "malloc");
	memcpy(t, "\x01,", 2);
	memcpy(t + 2, text, n + 1);
	mv_options_defaults(&s);
	mv_config_apply_string(&s, t, MV_SRC_ENV, "MADVISOR_CONF", &e);
	free(t);
	return s.strict;
}

/* Whether strict:true may be written in some layer (then an error exits). */
static int may_be_strict(const char *const part[3], const size_t plen[3])
{
	for (int k = 0; k < 3; k++)
		if (memmem(part[k], plen[k], "strict", 6))
			return 1;
	return 0;
}

static int same_field(const struct mv_options *a, const struct mv_options *b, int i)
{
	const struct mv_option_desc *d = &mv_option_table[i];
	if (d->type == MV_T_STRING)
		return strcmp((const char *)a + d->offset, (const char *)b + d->offset) == 0;
	return memcmp((const char *)a + d->offset, (const char *)b + d->offset, d->size) == 0;
}

/* The message mv_config_load writes for error e. */
static void expected_line(const struct mv_config_error *e, int strict, char *buf, size_t cap)
{
	char msg[sizeof(*e) + 64];
	mv_config_format_error(e, msg, sizeof(msg));
	size_t n = strlen(msg);
	if (n && msg[n - 1] == '\n')
		msg[n - 1] = 0;
	snprintf(buf, cap, "%s%s", msg, strict ? "; exiting (strict)\n" : "; running as plain passthrough\n");
}

static size_t read_msg(char *buf, size_t cap)
{
	ssize_t n = pread(msg_fd, buf, cap - 1, 0);
	fuzz_require(n >= 0, "read the message");
	buf[n] = 0;
	return (size_t)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const shipped[] = { "default", "churn", "lowmem", "service" };
	if (file_fd < 0)
		setup();
	if (size < 1)
		return 0;
	uint8_t sel = data[0];
	const char *part[3] = { "", "", "" };
	size_t plen[3] = { 0, 0, 0 };
	char *copy = malloc(size);
	fuzz_require(copy != NULL, "malloc");
	memcpy(copy, data + 1, size - 1);
	copy[size - 1] = 0;
	/* Split on the first two NUL bytes; the last part ends at the input's end. */
	char *p = copy, *end = copy + size - 1;
	for (int k = 0; k < 3; k++) {
		char *z = k < 2 ? memchr(p, 0, (size_t)(end - p)) : NULL;
		part[k] = p;
		plen[k] = (size_t)((z ? z : end) - p);
		if (!z) {
			*end = 0;
			break;
		}
		p = z + 1;
	}

	/* The environment. */
	int pk = sel & 7;
	env_profile = env_dir = env_file = env_conf = NULL;
	switch (pk) {
	case 1: case 2: case 3: env_profile = shipped[pk - 1 + (sel >> 7)]; env_dir = FUZZ_CONFIGS_DIR; break;
	case 4:
		env_profile = "fuzz";
		env_dir = prof_dir;
		put(prof_fd, part[0], plen[0], NULL, 0);
		break;
	case 5: env_profile = part[0]; env_dir = prof_dir; break;
	case 6: env_profile = "nosuch"; env_dir = FUZZ_CONFIGS_DIR; break;
	case 7: env_profile = "default"; env_dir = sel & 0x40 ? "" : NULL; break; /* the compiled-in directory */
	default: break;
	}
	if (sel & 8) {
		env_file = sel & 0x10 ? "/nonexistent/madvisor.conf" : file_path;
		put(file_fd, part[1], plen[1], NULL, 0);
	}
	if (sel & 0x20)
		env_conf = part[2];

	/* The layers one by one. */
	struct mv_options want, alone[3];
	struct mv_config_error err, first, e2;
	const char *prof = env_profile && env_profile[0] ? env_profile : NULL;
	const char *dir = env_dir && env_dir[0] ? env_dir : NULL;
	int failed = 0, has[3] = { prof != NULL, env_file && env_file[0], env_conf && env_conf[0] };
	memset(&first, 0, sizeof(first));
	mv_options_defaults(&want);
	for (int k = 0; k < 3; k++)
		mv_options_defaults(&alone[k]);
	if (has[0]) {
		if (!dir) {
			/* The compiled-in directory: only its outcome is compared. */
			failed = -1;
		} else if (mv_config_apply_profile(&want, prof, dir, &err) < 0) {
			failed = 1, first = err;
		}
		if (dir)
			mv_config_apply_profile(&alone[0], prof, dir, &e2);
	}
	if (has[1] && failed >= 0) {
		if (!failed) {
			if (mv_config_apply_file(&want, env_file, MV_SRC_FILE, &err) < 0)
				failed = 1, first = err;
		} else if (env_file == file_path && scan_strict_file(part[1], plen[1])) {
			want.strict = true;
		}
		mv_config_apply_file(&alone[1], env_file, MV_SRC_FILE, &e2);
	}
	if (has[2] && failed >= 0) {
		if (!failed) {
			if (mv_config_apply_string(&want, env_conf, MV_SRC_ENV, "MADVISOR_CONF", &err) < 0)
				failed = 1, first = err;
		} else if (scan_strict_string(env_conf)) {
			want.strict = true;
		}
		mv_config_apply_string(&alone[2], env_conf, MV_SRC_ENV, "MADVISOR_CONF", &e2);
	}

	/* The start-up sequence. */
	struct mv_options got;
	char msg[1024], line[1024];
	fuzz_require(ftruncate(msg_fd, 0) == 0 && lseek(msg_fd, 0, SEEK_SET) == 0, "reset the message file");
	if (failed) {
		/* An error: mv_config_load exits with status 2 under strict, so it
		 * runs in a child. 0: returned -1 at the defaults, 3: returned 0. */
		struct mv_options def;
		mv_options_defaults(&def);
		int code;
		if (may_be_strict(part, plen)) {
			pid_t pid = fork(), w;
			fuzz_require(pid >= 0, "fork");
			if (pid == 0) {
				int r = mv_config_load(&got, getter, msg_fd);
				_exit(r == -1 && memcmp(&got, &def, sizeof(def)) == 0 ? 0 : r == 0 ? 3 : 1);
			}
			int st;
			while ((w = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
				; /* libFuzzer's timer */
			fuzz_require(w == pid && WIFEXITED(st), "the child exits");
			code = WEXITSTATUS(st);
		} else {
			/* No "strict" anywhere: in this process (a fork costs 10 ms here). */
			int r = mv_config_load(&got, getter, msg_fd);
			code = r == -1 && memcmp(&got, &def, sizeof(def)) == 0 ? 0 : r == 0 ? 3 : 1;
		}
		size_t n = read_msg(msg, sizeof(msg));
		if (failed < 0) {
			/* The compiled-in profile directory: fine, or one line. */
			fuzz_require(code == 3 ? n == 0 : (code == 0 || code == 2) && n > 0 &&
								  memchr(msg, '\n', n) == msg + n - 1,
				     "compiled-in profile directory: 0, or one line and -1 (or exit 2)");
		} else {
			fuzz_require(code == (want.strict ? 2 : 0),
				     want.strict ? "strict:true and an error: exit status 2"
						 : "an error: -1 and the options back at the defaults");
			expected_line(&first, want.strict, line, sizeof(line));
			fuzz_require(strcmp(msg, line) == 0, "an error: one line naming the first error");
		}
		free(copy);
		return 0;
	}
	int r = mv_config_load(&got, getter, msg_fd);
	size_t n = read_msg(msg, sizeof(msg));
	fuzz_check_options(&got);
	fuzz_require(r == 0 && n == 0, "valid layers: 0 and nothing written");
	fuzz_require(memcmp(&got, &want, sizeof(want)) == 0, "the layers applied in order give the result");
	/* Precedence: each key from the highest layer that sets it. */
	for (int i = 0; i < MV_OPT_COUNT; i++) {
		int top = -1;
		for (int k = 0; k < 3; k++)
			if (has[k] && alone[k].source[i] != MV_SRC_DEFAULT)
				top = k;
		if (top < 0) {
			fuzz_require(got.source[i] == MV_SRC_DEFAULT, "a key no layer sets stays at its default");
			continue;
		}
		fuzz_require(got.source[i] == alone[top].source[i], "a key's source is the highest layer setting it");
		fuzz_require(same_field(&got, &alone[top], i), "a key's value is the highest layer's");
	}
	free(copy);
	return 0;
}
