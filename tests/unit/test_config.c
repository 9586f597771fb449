/* test_config.c - the options table and the configuration parser.
 *
 * Drives shim/core/options.c and shim/core/config.c directly: every key's values and
 * defaults, every kind of bad input with the exact error line, files and
 * profiles, precedence with the sources print_config reports, strict mode in
 * a forked child, and random input that must never crash the parser. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "../tap.h"
#include "core/config.h"
#include "core/options.h"

static char tmpdir[512];

/* ---- helpers -------------------------------------------------------------- */

static const char *tmp_path(const char *name)
{
	static char buf[4][768];
	static int next;
	char *p = buf[next++ % 4];
	snprintf(p, sizeof(buf[0]), "%s/%s", tmpdir, name);
	return p;
}

static const char *write_file(const char *name, const char *text, size_t len)
{
	const char *path = tmp_path(name);
	FILE *f = fopen(path, "wb");
	if (!f) {
		perror(path);
		exit(99);
	}
	fwrite(text, 1, len, f);
	fclose(f);
	return path;
}

static const char *write_text(const char *name, const char *text)
{
	return write_file(name, text, strlen(text));
}

static void fresh(struct mv_options *o)
{
	mv_options_defaults(o);
}

/* The formatted error line of the last failure. */
static const char *line_of(const struct mv_config_error *e)
{
	static char line[1024];
	mv_config_format_error(e, line, sizeof(line));
	return line;
}

static int apply_env(struct mv_options *o, const char *text, struct mv_config_error *e)
{
	return mv_config_apply_string(o, text, MV_SRC_ENV, "MADVISOR_CONF", e);
}

/* Apply text, expect an error whose formatted line is exactly `want`. */
static void expect_error(const char *text, const char *want)
{
	struct mv_options o;
	struct mv_config_error e;
	fresh(&o);
	int r = apply_env(&o, text, &e);
	const char *got = r < 0 ? line_of(&e) : "(accepted)\n";
	char shown[80];
	size_t n = 0;
	for (const char *p = text; *p && n < sizeof(shown) - 1; p++)
		shown[n++] = (*p >= 0x20 && *p < 0x7f) ? *p : '?';
	shown[n] = 0;
	if (!tap_ok(r < 0 && strcmp(got, want) == 0, "'%s' rejected with the right line", shown))
		tap_diag("want: %sgot:  %s", want, got);
}

static char *read_all(int fd)
{
	static char buf[16384];
	size_t n = 0;
	ssize_t r;
	while (n < sizeof(buf) - 1 && (r = read(fd, buf + n, sizeof(buf) - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = 0;
	return buf;
}

static char *print_to_string(const struct mv_options *o)
{
	int p[2];
	if (pipe(p) < 0)
		exit(99);
	mv_config_print(o, p[1]);
	close(p[1]);
	char *s = read_all(p[0]);
	close(p[0]);
	return s;
}

static int count_lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* A fake environment for mv_config_load. */
static const char *env_profile, *env_profile_dir, *env_config, *env_conf;

static const char *fake_get(const char *name)
{
	if (!strcmp(name, "MADVISOR_PROFILE"))
		return env_profile;
	if (!strcmp(name, "MADVISOR_PROFILE_DIR"))
		return env_profile_dir;
	if (!strcmp(name, "MADVISOR_CONFIG"))
		return env_config;
	if (!strcmp(name, "MADVISOR_CONF"))
		return env_conf;
	return NULL;
}

static void set_env(const char *profile, const char *dir, const char *config, const char *conf)
{
	env_profile = profile;
	env_profile_dir = dir;
	env_config = config;
	env_conf = conf;
}

/* mv_config_load in a child: its exit status (or 100 + return value when it
 * returned) and what it wrote on its error descriptor. */
static int load_in_child(char *err_out, size_t cap)
{
	int p[2];
	if (pipe(p) < 0)
		exit(99);
	pid_t pid = fork();
	if (pid == 0) {
		struct mv_options o;
		close(p[0]);
		int r = mv_config_load(&o, fake_get, p[1]);
		_exit(100 + (r < 0 ? 1 : 0));
	}
	close(p[1]);
	snprintf(err_out, cap, "%s", read_all(p[0]));
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 200 + WTERMSIG(st);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* ---- the table ------------------------------------------------------------ */

static void test_table(void)
{
	struct mv_options o;
	int bad = 0;
	for (int i = 0; i < MV_OPT_COUNT; i++) {
		const struct mv_option_desc *d = &mv_option_table[i];
		char reason[128];
		struct mv_options scratch;
		fresh(&scratch);
		if (mv_option_find(d->name, strlen(d->name)) != i || !d->help || !d->help[0] ||
		    d->offset + d->size > sizeof(struct mv_options))
			bad++;
		/* Every non-empty default must be a value the parser accepts. */
		if (d->def[0] && mv_option_parse(d, &scratch, d->def, strlen(d->def), reason,
						 sizeof(reason)) != 0) {
			tap_diag("default of %s: %s", d->name, reason);
			bad++;
		}
		if (d->type == MV_T_STRING && d->def[0] == 0 && d->size < 2)
			bad++;
	}
	tap_ok(bad == 0, "every key is found by name, has help, and a default the parser accepts");
	tap_ok(mv_option_find("stats", 5) == MV_OPT_STATS && mv_option_find("stats_file", 5) == MV_OPT_STATS,
	       "mv_option_find takes a length");
	tap_ok(mv_option_find("Stats", 5) < 0 && mv_option_find("nope", 4) < 0,
	       "mv_option_find is exact and case-sensitive");

	memset(&o, 0x5a, sizeof(o));
	mv_options_defaults(&o);
	int src_ok = 1;
	for (int i = 0; i < MV_OPT_COUNT; i++)
		src_ok &= o.source[i] == MV_SRC_DEFAULT;
	tap_ok(o.enabled == true && o.stats == false && o.stats_file[0] == 0 &&
	       o.stats_text_file[0] == 0 && o.print_config == false && o.strict == false && src_ok,
	       "defaults: enabled, no stats, no files, no print_config, not strict");
	/* The defaults agree with the table's text. */
	int agree = 1;
	for (int i = 0; i < MV_OPT_COUNT; i++) {
		const struct mv_option_desc *d = &mv_option_table[i];
		const char *field = (const char *)&o + d->offset;
		if (d->type == MV_T_BOOL)
			agree &= *(const bool *)field == (strcmp(d->def, "true") == 0);
		else if (d->type == MV_T_STRING)
			agree &= strcmp(field, d->def) == 0;
		else if (d->type == MV_T_ENUM)
			agree &= strcmp(mv_option_choice(d, &o), d->def) == 0;
	}
	tap_ok(agree, "mv_options_defaults matches the table's default text");
	tap_ok(mv_option_table[MV_OPT_STATS_FILE].flags & MV_OPT_F_PATH &&
	       mv_option_table[MV_OPT_STATS_TEXT_FILE].flags & MV_OPT_F_PATH &&
	       mv_option_table[MV_OPT_STATS_TEXT_FILE].size == MV_PATH_MAX,
	       "stats_file and stats_text_file are paths of MV_PATH_MAX bytes");
}

/* ---- good values ---------------------------------------------------------- */

static void test_bools(void)
{
	static const struct { const char *text; bool v; } words[] = {
		{ "true", true }, { "false", false }, { "1", true }, { "0", false },
		{ "yes", true }, { "no", false }, { "on", true }, { "off", false },
		{ "TRUE", true }, { "Off", false },
	};
	static const int keys[] = { MV_OPT_ENABLED, MV_OPT_STATS, MV_OPT_PRINT_CONFIG, MV_OPT_STRICT,
				    MV_OPT_PT_RECLAIM };
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		const struct mv_option_desc *d = &mv_option_table[keys[k]];
		int bad = 0;
		for (size_t w = 0; w < sizeof(words) / sizeof(words[0]); w++) {
			struct mv_options o;
			struct mv_config_error e;
			char text[64];
			fresh(&o);
			/* Start from the opposite value so that a no-op would show. */
			*(bool *)((char *)&o + d->offset) = !words[w].v;
			snprintf(text, sizeof(text), "%s:%s", d->name, words[w].text);
			if (apply_env(&o, text, &e) != 0 ||
			    *(bool *)((char *)&o + d->offset) != words[w].v ||
			    o.source[keys[k]] != MV_SRC_ENV) {
				tap_diag("%s", text);
				bad++;
			}
		}
		tap_ok(bad == 0, "%s accepts true/false/1/0/yes/no/on/off", d->name);
	}
}

static void test_enums(void)
{
	struct mv_options o;
	struct mv_config_error e;
	fresh(&o);
	tap_ok(o.madvise == MV_MADVISE_PASSTHROUGH, "madvise defaults to passthrough");
	tap_ok(apply_env(&o, "madvise:free_to_dontneed", &e) == 0 && o.madvise == MV_MADVISE_FREE_TO_DONTNEED &&
		       o.source[MV_OPT_MADVISE] == MV_SRC_ENV,
	       "madvise:free_to_dontneed parses");
	tap_ok(apply_env(&o, "madvise:dontneed_to_free", &e) == 0 && o.madvise == MV_MADVISE_DONTNEED_TO_FREE &&
		       !strcmp(mv_option_choice(&mv_option_table[MV_OPT_MADVISE], &o), "dontneed_to_free"),
	       "madvise:dontneed_to_free parses and prints back");
	tap_ok(apply_env(&o, "madvise:Free_To_Dontneed", &e) != 0 && o.madvise == MV_MADVISE_DONTNEED_TO_FREE,
	       "choices are case-sensitive and a bad one leaves the value");
	tap_ok(!strcmp(e.key, "madvise") &&
		       !strcmp(e.reason, "expected one of passthrough, free_to_dontneed or dontneed_to_free, "
					 "got 'Free_To_Dontneed'"),
	       "bad choice names the choices (%s)", e.reason);
}

static void test_paths(void)
{
	static const char *good[] = { "/tmp/x.json", "./out-%p.json", "rel/out.txt", "a%%b",
				      "/tmp/a:b", "/tmp/a#b", "x" };
	static const int keys[] = { MV_OPT_STATS_FILE, MV_OPT_STATS_TEXT_FILE };
	for (size_t k = 0; k < 2; k++) {
		const struct mv_option_desc *d = &mv_option_table[keys[k]];
		int bad = 0;
		for (size_t g = 0; g < sizeof(good) / sizeof(good[0]); g++) {
			struct mv_options o;
			struct mv_config_error e;
			char text[128];
			fresh(&o);
			snprintf(text, sizeof(text), "%s:%s", d->name, good[g]);
			if (apply_env(&o, text, &e) != 0 ||
			    strcmp((char *)&o + d->offset, good[g]) != 0 || o.source[keys[k]] != MV_SRC_ENV) {
				tap_diag("%s", text);
				bad++;
			}
		}
		tap_ok(bad == 0, "%s accepts absolute, ./ and relative paths, %%p, %%%% and ':'", d->name);
	}

	/* Longest value that fits, and one byte more. */
	char text[MV_PATH_MAX + 64], want[256];
	struct mv_options o;
	struct mv_config_error e;
	fresh(&o);
	int n = snprintf(text, sizeof(text), "stats_file:/");
	memset(text + n, 'a', MV_PATH_MAX - 2);
	text[n + MV_PATH_MAX - 2] = 0;
	tap_ok(apply_env(&o, text, &e) == 0 && strlen(o.stats_file) == MV_PATH_MAX - 1,
	       "a path of %d bytes fits", MV_PATH_MAX - 1);
	strcat(text, "b");
	snprintf(want, sizeof(want),
		 "madvisor: MADVISOR_CONF: key 'stats_file': value too long (%d bytes, limit %d)\n",
		 MV_PATH_MAX, MV_PATH_MAX - 1);
	expect_error(text, want);
}

static void test_syntax(void)
{
	struct mv_options o;
	struct mv_config_error e;

	fresh(&o);
	tap_ok(apply_env(&o, "  stats : true ,\tprint_config:\ton  ", &e) == 0 && o.stats &&
	       o.print_config, "white space around keys and values is trimmed");
	fresh(&o);
	tap_ok(apply_env(&o, ",,stats:true,, ,", &e) == 0 && o.stats, "empty entries are ignored");
	fresh(&o);
	tap_ok(apply_env(&o, "", &e) == 0 && o.source[MV_OPT_STATS] == MV_SRC_DEFAULT,
	       "an empty string changes nothing");
	fresh(&o);
	tap_ok(apply_env(&o, "stats:true,stats:false", &e) == 0 && !o.stats &&
	       o.source[MV_OPT_STATS] == MV_SRC_ENV, "a duplicate key: the later value wins");
	fresh(&o);
	tap_ok(apply_env(&o, "stats_file:/tmp/a,stats_file:/tmp/b", &e) == 0 &&
	       !strcmp(o.stats_file, "/tmp/b"), "a duplicate string key: the later value wins");
	fresh(&o);
	tap_ok(mv_config_apply_string(&o, "stats:true", MV_SRC_PROFILE, "x", &e) == 0 &&
	       o.source[MV_OPT_STATS] == MV_SRC_PROFILE, "the source given is recorded per key");
	fresh(&o);
	int r = apply_env(&o, "stats:true,bogus:1,print_config:true", &e);
	tap_ok(r < 0 && !o.print_config && !strcmp(e.key, "bogus"),
	       "nothing after the first bad entry is applied");
	fresh(&o);
	r = apply_env(&o, "stat:1,also:bad", &e);
	tap_ok(r < 0 && !strcmp(e.key, "stat"), "the first bad entry is the one reported");
}

/* ---- bad values and error lines ------------------------------------------- */

static void test_errors(void)
{
	expect_error("stat:1", "madvisor: MADVISOR_CONF: key 'stat': unknown key\n");
	expect_error("Stats:true", "madvisor: MADVISOR_CONF: key 'Stats': unknown key\n");
	expect_error("stats:maybe",
		     "madvisor: MADVISOR_CONF: key 'stats': expected true or false, got 'maybe'\n");
	expect_error("enabled:",
		     "madvisor: MADVISOR_CONF: key 'enabled': expected true or false, got ''\n");
	expect_error("strict:2", "madvisor: MADVISOR_CONF: key 'strict': expected true or false, got '2'\n");
	expect_error("stats", "madvisor: MADVISOR_CONF: expected key:value, got 'stats'\n");
	expect_error("stats:true,print_config",
		     "madvisor: MADVISOR_CONF: expected key:value, got 'print_config'\n");
	expect_error(":true", "madvisor: MADVISOR_CONF: expected key:value, got ':true'\n");
	expect_error("stats_file:",
		     "madvisor: MADVISOR_CONF: key 'stats_file': expected a non-empty value\n");
	expect_error("stats_file:/tmp/a\001b",
		     "madvisor: MADVISOR_CONF: key 'stats_file': control or non-ASCII character in value, "
		     "got '/tmp/a?b'\n");
	expect_error("stats_text_file:/tmp/\xc3\xa9",
		     "madvisor: MADVISOR_CONF: key 'stats_text_file': control or non-ASCII character in "
		     "value, got '/tmp/?\?'\n");
	expect_error("stats_file:/tmp/x-%d.json",
		     "madvisor: MADVISOR_CONF: key 'stats_file': expected %p or %% after '%' in a file "
		     "name, got '/tmp/x-%d.json'\n");
	expect_error("stats_text_file:/tmp/%",
		     "madvisor: MADVISOR_CONF: key 'stats_text_file': expected %p or %% after '%' in a "
		     "file name, got '/tmp/%'\n");
	expect_error("stats_file:/tmp/",
		     "madvisor: MADVISOR_CONF: key 'stats_file': expected a file name, not a directory, "
		     "got '/tmp/'\n");
	/* A key with a newline must not break the one-line rule. */
	expect_error("st\nats:1", "madvisor: MADVISOR_CONF: key 'st?ats': unknown key\n");

	/* Long keys and values are cut, and the line still ends in one newline. */
	struct mv_options o;
	struct mv_config_error e;
	char text[600];
	memset(text, 'k', 300);
	strcpy(text + 300, ":1");
	fresh(&o);
	int r = apply_env(&o, text, &e);
	const char *line = line_of(&e);
	tap_ok(r < 0 && strlen(e.key) == sizeof(e.key) - 1 && count_lines(line) == 1 &&
	       line[strlen(line) - 1] == '\n', "a 300-byte key is cut to %zu bytes in one line",
	       sizeof(e.key) - 1);
	memset(text, 'v', 300);
	memcpy(text, "stats:", 6);
	text[300] = 0;
	fresh(&o);
	r = apply_env(&o, text, &e);
	tap_ok(r < 0 && strstr(e.reason, "...'") && strlen(e.reason) < 100,
	       "a long bad value is shown shortened: %s", e.reason);

	/* Formatting into a small buffer still ends in a newline. */
	char small[24];
	fresh(&o);
	apply_env(&o, "stat:1", &e);
	mv_config_format_error(&e, small, sizeof(small));
	tap_ok(strlen(small) == sizeof(small) - 1 && small[sizeof(small) - 2] == '\n',
	       "a cut error line still ends in a newline");
}

/* ---- unsigned numbers (no key uses them yet: a test descriptor) ----------- */

struct uint_box {
	uint64_t v64;
	uint32_t v32;
};

static void test_uint(void)
{
	struct mv_option_desc d64 = { "n", MV_T_UINT, offsetof(struct uint_box, v64), 8, "1",
				      1, 4ull << 30, "test", 0, NULL };
	struct mv_option_desc d32 = { "m", MV_T_UINT, offsetof(struct uint_box, v32), 4, "0",
				      0, UINT32_MAX, "test", 0, NULL };
	static const struct { const char *text; uint64_t v; } good[] = {
		{ "1", 1 }, { "42", 42 }, { "007", 7 }, { "4k", 4096 }, { "4K", 4096 },
		{ "2m", 2u << 20 }, { "3M", 3u << 20 }, { "1g", 1u << 30 }, { "4g", 4ull << 30 },
		{ "4294967296", 4ull << 30 },
	};
	static const struct { const char *text; const char *reason; } bad[] = {
		{ "", "expected a number (optional k, m or g suffix), got ''" },
		{ "abc", "expected a number (optional k, m or g suffix), got 'abc'" },
		{ "-1", "expected a number (optional k, m or g suffix), got '-1'" },
		{ "+1", "expected a number (optional k, m or g suffix), got '+1'" },
		{ "0x10", "unknown suffix (use k, m or g), got '0x10'" },
		{ "12q", "unknown suffix (use k, m or g), got '12q'" },
		{ "12kb", "unknown suffix (use k, m or g), got '12kb'" },
		{ "1 k", "unknown suffix (use k, m or g), got '1 k'" },
		{ "0", "out of range 1..4294967296, got '0'" },
		{ "4294967297", "out of range 1..4294967296, got '4294967297'" },
		{ "5g", "out of range 1..4294967296, got '5g'" },
		{ "99999999999999999999999", "out of range 1..4294967296, got '99999999999999999999999'" },
		{ "17179869184g", "out of range 1..4294967296, got '17179869184g'" },
	};
	int nbad = 0;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		struct uint_box b = { 0xdead, 0xbeef };
		char reason[128];
		if (mv_option_parse(&d64, &b, good[i].text, strlen(good[i].text), reason, sizeof(reason)) ||
		    b.v64 != good[i].v || b.v32 != 0xbeef) {
			tap_diag("%s -> %llu", good[i].text, (unsigned long long)b.v64);
			nbad++;
		}
	}
	tap_ok(nbad == 0, "uint: decimal with k/m/g (KiB multiples) up to the maximum");
	nbad = 0;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct uint_box b = { 0xdead, 0xbeef };
		char reason[128] = "";
		if (!mv_option_parse(&d64, &b, bad[i].text, strlen(bad[i].text), reason, sizeof(reason)) ||
		    strcmp(reason, bad[i].reason) != 0 || b.v64 != 0xdead) {
			tap_diag("'%s': got reason '%s'", bad[i].text, reason);
			nbad++;
		}
	}
	tap_ok(nbad == 0, "uint: bad numbers, suffixes and out-of-range values are rejected with a reason");
	struct uint_box b = { 0xdead, 0xbeef };
	char reason[128];
	tap_ok(mv_option_parse(&d32, &b, "4294967295", 10, reason, sizeof(reason)) == 0 &&
	       b.v32 == UINT32_MAX && b.v64 == 0xdead &&
	       mv_option_parse(&d32, &b, "4g", 2, reason, sizeof(reason)) < 0 && b.v32 == UINT32_MAX,
	       "uint: a 32-bit field is written with its own size and range");
}

/* ---- files ---------------------------------------------------------------- */

static void test_files(void)
{
	struct mv_options o;
	struct mv_config_error e;
	char want[1024];
	const char *path;

	path = write_text("good.conf",
			  "# a comment\n"
			  "\n"
			  "   # indented comment\n"
			  "stats: true\r\n"
			  "\tstats_file : /tmp/a#b.json   # trailing comment\n"
			  "print_config:on\r\n"
			  "stats_text_file:./t-%p.txt"); /* no final newline */
	fresh(&o);
	int r = mv_config_apply_file(&o, path, MV_SRC_FILE, &e);
	tap_ok(r == 0 && o.stats && o.print_config && !strcmp(o.stats_file, "/tmp/a#b.json") &&
	       !strcmp(o.stats_text_file, "./t-%p.txt") && o.source[MV_OPT_STATS] == MV_SRC_FILE &&
	       o.source[MV_OPT_ENABLED] == MV_SRC_DEFAULT,
	       "a file with comments, blank lines, CRLF and no final newline");
	if (r)
		tap_diag("%s", line_of(&e));

	path = write_text("bad3.conf", "# ok\nstats:true\nstats: maybe\nbogus:1\n");
	fresh(&o);
	r = mv_config_apply_file(&o, path, MV_SRC_FILE, &e);
	snprintf(want, sizeof(want), "madvisor: %s:3: key 'stats': expected true or false, got 'maybe'\n",
		 path);
	tap_ok(r < 0 && !strcmp(line_of(&e), want), "a bad line is reported with its line number");

	path = write_text("noval.conf", "stats true\n");
	fresh(&o);
	r = mv_config_apply_file(&o, path, MV_SRC_FILE, &e);
	snprintf(want, sizeof(want), "madvisor: %s:1: expected key:value, got 'stats true'\n", path);
	tap_ok(r < 0 && !strcmp(line_of(&e), want), "a line without ':' in a file");

	path = write_text("comma.conf", "stats_file:/tmp/a,b\n");
	fresh(&o);
	tap_ok(mv_config_apply_file(&o, path, MV_SRC_FILE, &e) == 0 && !strcmp(o.stats_file, "/tmp/a,b"),
	       "a file holds one entry per line, so a value may contain ','");

	path = write_file("nul.conf", "stats:tr\0ue\n", 12);
	fresh(&o);
	tap_ok(mv_config_apply_file(&o, path, MV_SRC_FILE, &e) < 0 && !strcmp(e.key, "stats") &&
	       strstr(e.reason, "got 'tr?ue'"), "a NUL byte inside a value is an error, not an end");

	path = tmp_path("missing.conf");
	fresh(&o);
	r = mv_config_apply_file(&o, path, MV_SRC_FILE, &e);
	snprintf(want, sizeof(want), "madvisor: %s: cannot open: no such file or directory\n", path);
	tap_ok(r < 0 && !strcmp(line_of(&e), want), "a missing file");

	fresh(&o);
	r = mv_config_apply_file(&o, tmpdir, MV_SRC_FILE, &e);
	snprintf(want, sizeof(want), "madvisor: %s: is a directory\n", tmpdir);
	tap_ok(r < 0 && !strcmp(line_of(&e), want), "a directory");

	path = tmp_path("fifo");
	if (mkfifo(path, 0600) == 0) {
		fresh(&o);
		r = mv_config_apply_file(&o, path, MV_SRC_FILE, &e);
		snprintf(want, sizeof(want), "madvisor: %s: not a regular file\n", path);
		tap_ok(r < 0 && !strcmp(line_of(&e), want), "a FIFO is refused without blocking");
	} else {
		tap_skip("mkfifo failed");
	}

	path = tmp_path("good.conf/x");
	fresh(&o);
	r = mv_config_apply_file(&o, path, MV_SRC_FILE, &e);
	tap_ok(r < 0 && !strcmp(e.reason, "cannot open: not a directory"),
	       "a path through a file: %s", e.reason);

	/* Size limit: exactly MV_CONFIG_FILE_MAX bytes is fine, one more is not. */
	static char big[MV_CONFIG_FILE_MAX + 2];
	memset(big, '#', sizeof(big));
	memcpy(big, "stats:true\n", 11);
	big[MV_CONFIG_FILE_MAX - 1] = '\n';
	path = write_file("max.conf", big, MV_CONFIG_FILE_MAX);
	fresh(&o);
	tap_ok(mv_config_apply_file(&o, path, MV_SRC_FILE, &e) == 0 && o.stats,
	       "a file of exactly %d bytes is read", MV_CONFIG_FILE_MAX);
	path = write_file("big.conf", big, MV_CONFIG_FILE_MAX + 1);
	fresh(&o);
	r = mv_config_apply_file(&o, path, MV_SRC_FILE, &e);
	snprintf(want, sizeof(want), "madvisor: %s: file too large (%d bytes, limit %d)\n", path,
		 MV_CONFIG_FILE_MAX + 1, MV_CONFIG_FILE_MAX);
	tap_ok(r < 0 && !strcmp(line_of(&e), want) && !o.stats, "a file one byte too large is refused");

	path = write_text("target.conf", "stats:true\n");
	const char *link = tmp_path("link.conf");
	if (symlink(path, link) == 0) {
		fresh(&o);
		tap_ok(mv_config_apply_file(&o, link, MV_SRC_FILE, &e) == 0 && o.stats,
		       "a symbolic link to a good file is read");
	} else {
		tap_skip("symlink failed");
	}
	const char *loop = tmp_path("loop.conf");
	if (symlink(loop, loop) == 0) {
		fresh(&o);
		r = mv_config_apply_file(&o, loop, MV_SRC_FILE, &e);
		tap_ok(r < 0 && !strcmp(e.reason, "cannot open: too many levels of symbolic links"),
		       "a symbolic link loop: %s", e.reason);
	} else {
		tap_skip("symlink failed");
	}

	/* An unreadable file; root reads anything, so drop to nobody for this. */
	path = write_text("secret.conf", "stats:true\n");
	chmod(path, 0);
	chmod(tmpdir, 0711);
	int p[2];
	if (pipe(p) < 0)
		exit(99);
	pid_t pid = fork();
	if (pid == 0) {
		close(p[0]);
		if (geteuid() == 0 && (setgid(65534) != 0 || setuid(65534) != 0))
			_exit(3);
		fresh(&o);
		r = mv_config_apply_file(&o, path, MV_SRC_FILE, &e);
		const char *l = r < 0 ? line_of(&e) : "(accepted)\n";
		if (write(p[1], l, strlen(l)) < 0)
			_exit(4);
		_exit(0);
	}
	close(p[1]);
	char *got = read_all(p[0]);
	close(p[0]);
	int st;
	waitpid(pid, &st, 0);
	chmod(tmpdir, 0700);
	snprintf(want, sizeof(want), "madvisor: %s: cannot open: permission denied\n", path);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 3)
		tap_skip("cannot switch to an unprivileged user");
	else
		tap_ok(!strcmp(got, want), "an unreadable file: %.*s", (int)strcspn(got, "\n"), got);
}

/* ---- profiles ------------------------------------------------------------- */

static void test_profiles(void)
{
	struct mv_options o;
	struct mv_config_error e;
	char want[1024], dir[600];

	snprintf(dir, sizeof(dir), "%s/profiles", tmpdir);
	mkdir(dir, 0700);
	write_text("profiles/fast.conf", "stats:true\nstats_file:/tmp/p.json\n");
	write_text("profiles/a-b_c.1.conf", "print_config:true\n");
	write_text("profiles/bad.conf", "# bad\nx:1\n");

	fresh(&o);
	tap_ok(mv_config_apply_profile(&o, "fast", dir, &e) == 0 && o.stats &&
	       !strcmp(o.stats_file, "/tmp/p.json") && o.source[MV_OPT_STATS] == MV_SRC_PROFILE,
	       "a profile is read from <dir>/<name>.conf");
	fresh(&o);
	tap_ok(mv_config_apply_profile(&o, "a-b_c.1", dir, &e) == 0 && o.print_config,
	       "profile names may hold letters, digits, '-', '_' and '.'");

	fresh(&o);
	int r = mv_config_apply_profile(&o, "nope", dir, &e);
	snprintf(want, sizeof(want), "madvisor: profile 'nope' (%s/nope.conf): no such profile\n", dir);
	tap_ok(r < 0 && !strcmp(line_of(&e), want), "an unknown profile");

	fresh(&o);
	r = mv_config_apply_profile(&o, "bad", dir, &e);
	snprintf(want, sizeof(want), "madvisor: profile 'bad' (%s/bad.conf:2): key 'x': unknown key\n", dir);
	tap_ok(r < 0 && !strcmp(line_of(&e), want), "a bad line in a profile names profile, file and line");

	static const char *names[] = { "../x", "a/b", "", ".hidden", "..", "fast conf", "x\ny",
				       "0123456789012345678901234567890123456789012345678901234567890123456789" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		fresh(&o);
		r = mv_config_apply_profile(&o, names[i], dir, &e);
		tap_ok(r < 0 && strstr(e.reason, "invalid profile name") && count_lines(line_of(&e)) == 1,
		       "profile name #%zu rejected: %s", i, e.where);
	}
	fresh(&o);
	r = mv_config_apply_profile(&o, "../x", dir, &e);
	tap_ok(r < 0 && !strcmp(line_of(&e),
				"madvisor: profile '../x': invalid profile name (letters, digits, '_', "
				"'-' and '.'; no leading '.')\n"), "the line for a bad profile name");

	/* The profiles shipped in configs/ must all be valid. */
	const char *top = getenv("top_srcdir");
	char cdir[600];
	snprintf(cdir, sizeof(cdir), "%s/configs", top ? top : ".");
	DIR *d = opendir(cdir);
	if (!d) {
		tap_skip("configs/ not found (top_srcdir unset)");
		return;
	}
	int n = 0, bad = 0;
	struct dirent *de;
	while ((de = readdir(d)) != NULL) {
		size_t len = strlen(de->d_name);
		if (len < 6 || strcmp(de->d_name + len - 5, ".conf") != 0)
			continue;
		char name[256];
		snprintf(name, sizeof(name), "%.*s", (int)(len - 5), de->d_name);
		fresh(&o);
		if (mv_config_apply_profile(&o, name, cdir, &e) != 0) {
			tap_diag("%s", line_of(&e));
			bad++;
		}
		n++;
	}
	closedir(d);
	tap_ok(n > 0 && bad == 0, "all %d shipped profiles are valid", n);
}

/* ---- mv_config_load: precedence and reporting ------------------------------ */

static void test_load(void)
{
	struct mv_options o;
	char dir[600], err[2048], want[1024];

	snprintf(dir, sizeof(dir), "%s/profiles", tmpdir);
	const char *file = write_text("load.conf", "stats_file:/tmp/f.json\nprint_config:true\n");
	write_text("profiles/prec.conf", "stats:true\nstats_file:/tmp/p.json\nprint_config:true\n");

	set_env("prec", dir, file, "print_config:false");
	int r = mv_config_load(&o, fake_get, -1);
	tap_ok(r == 0 && o.stats && !strcmp(o.stats_file, "/tmp/f.json") && !o.print_config,
	       "precedence: profile < file < MADVISOR_CONF");
	char *out = print_to_string(&o);
	tap_ok(strstr(out, "madvisor: config enabled = true (default)\n") &&
	       strstr(out, "madvisor: config stats = true (profile)\n") &&
	       strstr(out, "madvisor: config stats_file = /tmp/f.json (file)\n") &&
	       strstr(out, "madvisor: config print_config = false (env)\n") &&
	       strstr(out, "madvisor: config stats_text_file = \"\" (default)\n"),
	       "print_config names each value's source");
	tap_ok(count_lines(out) == MV_OPT_COUNT, "print_config prints one line per key (%d)",
	       count_lines(out));
	if (count_lines(out) != MV_OPT_COUNT)
		tap_diag("%s", out);

	set_env(NULL, NULL, NULL, NULL);
	r = mv_config_load(&o, fake_get, -1);
	struct mv_options def;
	mv_options_defaults(&def);
	tap_ok(r == 0 && !memcmp(&o, &def, sizeof(o)), "an empty environment gives the defaults");
	set_env("", "", "", "");
	r = mv_config_load(&o, fake_get, -1);
	tap_ok(r == 0 && !memcmp(&o, &def, sizeof(o)), "empty variables count as unset");

	/* A bad entry: one line on the error descriptor, defaults, -1. */
	set_env("prec", dir, file, "stat:1");
	tap_ok(load_in_child(err, sizeof(err)) == 101 &&
	       !strcmp(err, "madvisor: MADVISOR_CONF: key 'stat': unknown key; running as plain passthrough\n"),
	       "a bad MADVISOR_CONF: one line, plain passthrough");
	int p[2];
	if (pipe(p) < 0)
		exit(99);
	r = mv_config_load(&o, fake_get, p[1]);
	close(p[1]);
	read_all(p[0]);
	close(p[0]);
	tap_ok(r < 0 && !memcmp(&o, &def, sizeof(o)), "after an error every key is back at its default");

	set_env("nope", dir, NULL, NULL);
	snprintf(want, sizeof(want),
		 "madvisor: profile 'nope' (%s/nope.conf): no such profile; running as plain passthrough\n", dir);
	tap_ok(load_in_child(err, sizeof(err)) == 101 && !strcmp(err, want), "an unknown profile");

#ifdef MV_PROFILE_DIR
	set_env("nope", NULL, NULL, NULL);
	snprintf(want, sizeof(want), "(%s/nope.conf)", MV_PROFILE_DIR);
	tap_ok(load_in_child(err, sizeof(err)) == 101 && strstr(err, want),
	       "without MADVISOR_PROFILE_DIR profiles come from %s", MV_PROFILE_DIR);
#else
	tap_skip("MV_PROFILE_DIR not defined for this build");
#endif

	set_env(NULL, NULL, tmp_path("missing.conf"), NULL);
	snprintf(want, sizeof(want),
		 "madvisor: %s: cannot open: no such file or directory; running as plain passthrough\n",
		 tmp_path("missing.conf"));
	tap_ok(load_in_child(err, sizeof(err)) == 101 && !strcmp(err, want), "a missing MADVISOR_CONFIG");
}

/* ---- strict ---------------------------------------------------------------- */

static void test_strict(void)
{
	char err[2048], dir[600];
	int st;

	snprintf(dir, sizeof(dir), "%s/profiles", tmpdir);
	set_env(NULL, NULL, NULL, "strict:true,bogus:1");
	st = load_in_child(err, sizeof(err));
	tap_ok(st == 2 && !strcmp(err, "madvisor: MADVISOR_CONF: key 'bogus': unknown key; exiting (strict)\n"),
	       "strict:true then an error: exit status 2 (%d) and the line", st);

	set_env(NULL, NULL, NULL, "bogus:1,strict:true");
	st = load_in_child(err, sizeof(err));
	tap_ok(st == 2 && !strcmp(err, "madvisor: MADVISOR_CONF: key 'bogus': unknown key; exiting (strict)\n"),
	       "strict:true after the bad entry is still fatal (%d)", st);

	set_env(NULL, NULL, NULL, "bogus:1,strict:maybe");
	st = load_in_child(err, sizeof(err));
	tap_ok(st == 101 && strstr(err, "key 'bogus'") && strstr(err, "running as plain passthrough"),
	       "a bad strict value after the error does not make it fatal (%d)", st);

	const char *sfile = write_text("strict.conf", "strict:yes\n");
	set_env(NULL, NULL, sfile, "stats:maybe");
	st = load_in_child(err, sizeof(err));
	tap_ok(st == 2 && strstr(err, "key 'stats'") && strstr(err, "; exiting (strict)\n"),
	       "strict in the file, the error in MADVISOR_CONF: fatal (%d)", st);

	write_text("profiles/oops.conf", "stats:sometimes\n");
	set_env("oops", dir, NULL, "strict:on");
	st = load_in_child(err, sizeof(err));
	tap_ok(st == 2 && strstr(err, "profile 'oops'") && strstr(err, "; exiting (strict)\n"),
	       "an error in the profile, strict in MADVISOR_CONF: fatal (%d)", st);

	const char *later = write_text("strict-late.conf", "# a comment\nstrict:true\n");
	set_env("missing-profile", dir, later, NULL);
	st = load_in_child(err, sizeof(err));
	tap_ok(st == 2 && strstr(err, "no such profile; exiting (strict)\n"),
	       "a missing profile with strict in the file: fatal (%d)", st);

	set_env(NULL, NULL, NULL, "strict:true,stats:true");
	st = load_in_child(err, sizeof(err));
	tap_ok(st == 100 && err[0] == 0, "strict without an error runs normally and says nothing (%d)", st);
}

/* ---- random input ---------------------------------------------------------- */

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_rand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

static void test_random(void)
{
	static const char *pieces[] = { "stats", "strict", "enabled", "stats_file", "stats_text_file",
					 "print_config", ":", ",", " ", "true", "0", "%p", "/", "%", "\n" };
	int ok = 0, accepted = 0, bad_reason = 0, bad_line = 0;
	const int runs = 10000;
	for (int i = 0; i < runs; i++) {
		char text[400];
		size_t n = 0, len = next_rand() % 300;
		int words_only = i % 2; /* half the runs: mostly well-formed pieces */
		while (n < len) {
			uint64_t x = next_rand();
			if (words_only || x % 3 == 0) {
				const char *p = pieces[(x >> 8) % (sizeof(pieces) / sizeof(pieces[0]))];
				size_t k = strlen(p);
				if (n + k >= sizeof(text))
					break;
				memcpy(text + n, p, k);
				n += k;
			} else {
				text[n++] = (char)(1 + (x >> 8) % 255); /* any byte but NUL */
			}
		}
		text[n] = 0;
		struct mv_options o;
		struct mv_config_error e;
		fresh(&o);
		memset(&e, 0x41, sizeof(e)); /* garbage: must be overwritten */
		int r = mv_config_apply_string(&o, text, MV_SRC_ENV, "MADVISOR_CONF", &e);
		if (r == 0) {
			accepted++;
			ok++;
		} else if (r == -1) {
			const char *line = line_of(&e);
			if (!e.reason[0] || strnlen(e.reason, sizeof(e.reason)) == sizeof(e.reason))
				bad_reason++;
			else if (count_lines(line) != 1 || line[strlen(line) - 1] != '\n')
				bad_line++;
			else
				ok++;
		}
	}
	tap_ok(ok == runs && bad_reason == 0 && bad_line == 0,
	       "%d random strings: %d accepted, the rest rejected with a reason on one line", runs, accepted);
}

int main(void)
{
	const char *t = getenv("TMPDIR");
	snprintf(tmpdir, sizeof(tmpdir), "%s/mv-config-XXXXXX", t && t[0] ? t : "/tmp");
	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return 99;
	}
	test_table();
	test_bools();
	test_enums();
	test_paths();
	test_syntax();
	test_errors();
	test_uint();
	test_files();
	test_profiles();
	test_load();
	test_strict();
	test_random();
	nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	return tap_done();
}
