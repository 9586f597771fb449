/* launcher.c - the `madvisor` command: run a program with libmadvisor.so.
 *
 * It turns command-line options into the environment the library reads
 * (MADVISOR_PROFILE, MADVISOR_CONF), checks them with the library's own
 * parser first, puts the library at the front of LD_PRELOAD and execs the
 * command, so the command's exit status is the launcher's. `madvisor config`
 * checks configuration files and prints the effective configuration. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tools/replay.h"
#include "tools/where.h"
#include "mvconfig.h"
#include "core/config.h"
#include "core/options.h"

#ifndef MV_LIBDIR
#define MV_LIBDIR "/usr/local/lib"
#endif
#define LIB_NAME MV_LIB_NAME
#ifndef MV_SRCDIR
#define MV_SRCDIR ""
#endif
#ifndef MV_PKGLIBEXECDIR
#define MV_PKGLIBEXECDIR "/usr/local/libexec/madvisor"
#endif

static void die(int status, const char *fmt, ...)
{
	va_list ap;
	fputs("madvisor: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

static char *xstrdup(const char *s)
{
	char *p = strdup(s);
	if (!p)
		die(2, "out of memory");
	return p;
}

/* a + b, freshly allocated. */
static char *concat(const char *a, const char *b)
{
	size_t na = strlen(a), nb = strlen(b);
	char *p = malloc(na + nb + 1);
	if (!p)
		die(2, "out of memory");
	memcpy(p, a, na);
	memcpy(p + na, b, nb + 1);
	return p;
}

static int is_regular(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static const char *env_get(const char *name)
{
	return getenv(name);
}

/* ---- help ----------------------------------------------------------------- */

static const char *type_name(const struct mv_option_desc *d)
{
	switch (d->type) {
	case MV_T_BOOL: return "bool";
	case MV_T_UINT: return "uint";
	case MV_T_STRING: return d->flags & MV_OPT_F_PATH ? "path" : "string";
	case MV_T_ENUM: return "choice";
	}
	return "?";
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: madvisor [OPTIONS] [--] COMMAND [ARGS...]\n"
		"       madvisor config --check FILE...\n"
		"       madvisor config --print\n"
		"       madvisor config --keys\n"
		"       madvisor replay TRACE [--profile NAME|FILE.conf|key:value,...]...\n"
		"       madvisor bench [--allocators LIST] [--profiles LIST] [--conf K:V,...] [--reps N]\n"
		"                      [--metric REGEX] [--out DIR] -- COMMAND [ARGS...]\n"
		"       madvisor tune [--objective cpu|rss|balanced] [--budget-s S] [--reps N]\n"
		"                     [--allocator NAME|PATH] [--out FILE] -- COMMAND [ARGS...]\n"
		"\n"
		"Run COMMAND with libmadvisor.so preloaded.\n"
		"\n"
		"  --profile P       use a profile: a NAME (MADVISOR_PROFILE) or FILE.conf\n"
		"  --conf K:V,...    set configuration keys (added to MADVISOR_CONF)\n"
		"  --stats[=FILE]    print the statistics table at exit, on stderr or to FILE\n"
		"  --json FILE       write the statistics as JSON to FILE at exit (%%p = pid)\n"
		"  --lib PATH        the library to preload (default: $MADVISOR_LIB, else\n"
		"                    %s/%s)\n"
		"  -h, --help        show this help\n"
		"  -V, --version     show the version\n"
		"\n"
		"  config --check FILE...  validate configuration files\n"
		"  config --print          show the configuration the environment gives\n"
		"  config --keys           the key reference as a markdown table\n"
		"  replay TRACE            what profiles would do with a trace:PATH recording\n"
		"  bench -- COMMAND        COMMAND without and with madvisor, per allocator and\n"
		"                          profile: report.md, plots, CSV\n"
		"  tune -- COMMAND         the configuration that suits COMMAND best: traced,\n"
		"                          replayed, measured; writes it to a file\n"
		"  (`madvisor config --help`, `madvisor replay --help`, `madvisor bench --help`\n"
		"  and `madvisor tune --help` list their options.)\n"
		"\n"
		"Configuration keys (key:value):\n",
		MV_LIBDIR, LIB_NAME);
	for (int i = 0; i < MV_OPT_COUNT; i++) {
		const struct mv_option_desc *d = &mv_option_table[i];
		fprintf(f, "  %-16s %-6s (default %s)\n      %s\n", d->name, type_name(d),
			d->def[0] ? d->def : "\"\"", d->help);
	}
	fprintf(f, "\nSources, lowest first: profile, MADVISOR_CONFIG file, MADVISOR_CONF.\n");
}

/* ---- where things are ----------------------------------------------------- */

/* An absolute path, so that the command may change directory. */
static char *absolute(const char *path)
{
	if (path[0] == '/')
		return xstrdup(path);
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		die(2, "cannot get the current directory: %s", strerror(errno));
	char *a = concat(cwd, "/");
	char *b = concat(a, path);
	free(a);
	return b;
}

/* ---- configuration -------------------------------------------------------- */

static void config_fail(const struct mv_config_error *err, int status)
{
	char line[sizeof(*err) + 64];
	mv_config_format_error(err, line, sizeof(line));
	fputs(line, stderr);
	exit(status);
}

/* The keys the launcher adds to MADVISOR_CONF, checked one at a time. */
struct conf_list {
	char *text;
};

static void conf_add(struct conf_list *l, const char *where, const char *entries)
{
	struct mv_options scratch;
	struct mv_config_error err;
	if (!entries[strspn(entries, " \t,")])
		return; /* nothing but separators */
	mv_options_defaults(&scratch);
	if (mv_config_apply_string(&scratch, entries, MV_SRC_ENV, where, &err) < 0)
		config_fail(&err, 2);
	char *t = l->text ? concat(l->text, ",") : xstrdup("");
	char *u = concat(t, entries);
	free(t);
	free(l->text);
	l->text = u;
}

/* key:value from an option such as --json FILE. */
static void conf_add_key(struct conf_list *l, const char *where, const char *key, const char *value)
{
	if (strchr(value, ','))
		die(2, "%s: key '%s': ',' cannot be used in a value passed through MADVISOR_CONF, got '%s'",
		    where, key, value);
	char *a = concat(key, ":");
	char *b = concat(a, value);
	conf_add(l, where, b);
	free(a);
	free(b);
}

static int config_check(int n, char **files)
{
	int bad = 0;
	for (int i = 0; i < n; i++) {
		struct mv_options o;
		struct mv_config_error err;
		char line[sizeof(err) + 64];
		mv_options_defaults(&o);
		if (mv_config_apply_file(&o, files[i], MV_SRC_FILE, &err) == 0) {
			printf("%s: ok\n", files[i]);
		} else {
			mv_config_format_error(&err, line, sizeof(line));
			fflush(stdout);
			fputs(line, stderr);
			bad = 1;
		}
	}
	return bad;
}

/* The README's key reference, generated from the option table. */
static void keys_markdown(FILE *f)
{
	fprintf(f, "| key | type | default | meaning |\n|---|---|---|---|\n");
	for (int i = 0; i < MV_OPT_COUNT; i++) {
		const struct mv_option_desc *d = &mv_option_table[i];
		fprintf(f, "| `%s` | %s | %s%s%s | %s |\n", d->name, type_name(d), d->def[0] ? "`" : "",
			d->def[0] ? d->def : "(empty)", d->def[0] ? "`" : "", d->help);
	}
}

static void config_usage(FILE *f)
{
	fprintf(f,
		"usage: madvisor config --check FILE...\n"
		"       madvisor config --print\n"
		"       madvisor config --keys\n"
		"\n"
		"  --check FILE...   validate configuration files (MADVISOR_CONFIG syntax);\n"
		"                    exit 1 if any is bad\n"
		"  --print           show every key's effective value and its source for the\n"
		"                    environment's MADVISOR_PROFILE, MADVISOR_CONFIG, MADVISOR_CONF\n"
		"  --keys            the key reference as a markdown table\n"
		"  -h, --help        show this help\n");
}

static int config_cmd(int argc, char **argv)
{
	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		config_usage(stdout);
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "--check") == 0)
		return config_check(argc - 2, argv + 2);
	if (argc == 2 && strcmp(argv[1], "--print") == 0) {
		struct mv_options o;
		mv_where_source_profiles();
		fflush(stdout);
		int r = mv_config_load(&o, env_get, 2);
		mv_config_print(&o, 1);
		return r == 0 ? 0 : 1;
	}
	if (argc == 2 && strcmp(argv[1], "--keys") == 0) {
		keys_markdown(stdout);
		return 0;
	}
	fprintf(stderr, "madvisor: config: expected --check FILE..., --print or --keys\n");
	config_usage(stderr);
	return 2;
}

/* ---- LD_PRELOAD ----------------------------------------------------------- */

/* lib first, then the other entries of old (space or colon separated), without
 * another copy of lib. */
static char *compose_preload(const char *lib, const char *old)
{
	size_t cap = strlen(lib) + (old ? strlen(old) : 0) + 2;
	char *out = malloc(cap);
	if (!out)
		die(2, "out of memory");
	strcpy(out, lib);
	if (!old)
		return out;
	const char *p = old;
	while (*p) {
		size_t n = strcspn(p, " :");
		if (n && !(n == strlen(lib) && memcmp(p, lib, n) == 0)) {
			strcat(out, ":");
			strncat(out, p, n);
		}
		p += n;
		if (*p)
			p++;
	}
	return out;
}

/* ---- bench ---------------------------------------------------------------- */

/* The value of option NAME at argv[*i] (--NAME VALUE or --NAME=VALUE), or
 * NULL; *i moves past a separate value. */
static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
	const char *a = argv[*i];
	size_t n = strlen(name);
	if (strncmp(a, name, n) != 0)
		return NULL;
	if (a[n] == '=')
		return a + n + 1;
	if (a[n] || *i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

static int run_script(const char *name, char *lib, int argc, char **argv);

/* `madvisor bench`: bench/matrix with the user's command as its workload.
 * The profiles and --conf keys are checked here with the library's parser
 * (one line, exit 2); the matrix, bench/report and bench/monitor come from
 * the build tree next to an uninstalled launcher, else from
 * $MADVISOR_LIBEXEC_DIR, else from PKGLIBEXECDIR. */
static int bench_cmd(int argc, char **argv)
{
	char *lib = mv_where_build_lib();
	mv_where_source_profiles();
	for (int i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		const char *v;
		struct mv_options scratch;
		struct mv_config_error err;
		if ((v = opt_value(argc, argv, &i, "--conf")) != NULL) {
			mv_options_defaults(&scratch);
			if (mv_config_apply_string(&scratch, v, MV_SRC_ENV, "--conf", &err) < 0)
				config_fail(&err, 2);
		} else if ((v = opt_value(argc, argv, &i, "--profiles")) != NULL) {
			char *list = xstrdup(v), *save = NULL;
			for (char *p = strtok_r(list, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
				mv_options_defaults(&scratch);
				if (mv_where_apply_profile(&scratch, p, &err) < 0)
					config_fail(&err, 2);
			}
			free(list);
		}
	}

	return run_script("matrix", lib, argc, argv);
}

/* Run the bench/ script NAME (matrix, tune) with the user's arguments:
 * `sh SCRIPT --as "madvisor CMD" --profile-dir DIR (--builddir DIR |
 * --installed) [--lib LIB] [--madvisor SELF] ARGS...`, from the source tree
 * next to an uninstalled launcher (lib: its build tree's library), else from
 * $MADVISOR_LIBEXEC_DIR, else from PKGLIBEXECDIR. */
static int run_script(const char *name, char *lib, int argc, char **argv)
{
	int build_tree = lib != NULL;
	char *script;
	const char *where, *where_arg;
	if (build_tree) {
		script = concat(MV_SRCDIR "/bench/", name);
		where = "--builddir";
		where_arg = mv_where_exe_dir();
	} else {
		const char *d = getenv("MADVISOR_LIBEXEC_DIR");
		char *dir = concat(d && d[0] ? d : MV_PKGLIBEXECDIR, "/");
		script = concat(dir, name);
		free(dir);
		where = "--installed";
		where_arg = NULL;
	}
	if (!is_regular(script))
		die(2, "%s: %s: not found (madvisor is not fully installed)", argv[0], script);
	const char *env_lib = getenv("MADVISOR_LIB");
	if (!lib && !(env_lib && env_lib[0]))
		lib = xstrdup(MV_LIBDIR "/" LIB_NAME);
	char self[PATH_MAX];
	ssize_t ns = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (ns <= 0)
		die(2, "%s: cannot find the madvisor command itself: %s", argv[0], strerror(errno));
	self[ns] = 0;
	char *as = concat("madvisor ", argv[0]);

	char **av = calloc((size_t)argc + 14, sizeof(*av));
	if (!av)
		die(2, "out of memory");
	int n = 0;
	av[n++] = "sh";
	av[n++] = script;
	av[n++] = "--as";
	av[n++] = as;
	av[n++] = "--profile-dir";
	av[n++] = (char *)mv_where_profile_dir();
	if (strcmp(name, "tune") == 0) {
		/* tune runs the other subcommands through this command */
		av[n++] = "--madvisor";
		av[n++] = self;
	} else {
		av[n++] = (char *)where;
		if (where_arg)
			av[n++] = (char *)where_arg;
		if (lib && !build_tree) {
			av[n++] = "--lib";
			av[n++] = lib;
		}
	}
	for (int i = 1; i < argc; i++)
		av[n++] = argv[i];
	av[n] = NULL;
	/* A shell that starts with SIGINT ignored (a background job) cannot trap
	 * it: the script needs it to stop its runs. */
	signal(SIGINT, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	execv("/bin/sh", av);
	die(2, "%s: /bin/sh: %s", argv[0], strerror(errno));
	return 2;
}

/* `madvisor tune`: bench/tune, which traces the command, replays the trace
 * and measures the survivors with `madvisor bench` (through this command). */
static int tune_cmd(int argc, char **argv)
{
	char *lib = mv_where_build_lib();
	mv_where_source_profiles();
	return run_script("tune", lib, argc, argv);
}

/* ---- main ----------------------------------------------------------------- */

enum { OPT_PROFILE = 256, OPT_CONF, OPT_STATS, OPT_JSON, OPT_LIB };

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "profile", required_argument, NULL, OPT_PROFILE },
		{ "conf", required_argument, NULL, OPT_CONF },
		{ "stats", optional_argument, NULL, OPT_STATS },
		{ "json", required_argument, NULL, OPT_JSON },
		{ "lib", required_argument, NULL, OPT_LIB },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct conf_list conf = { NULL };
	const char *profile = NULL, *lib_opt = NULL;
	int c;

	if (argc > 1 && strcmp(argv[1], "config") == 0)
		return config_cmd(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "replay") == 0)
		return mv_replay_main(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "bench") == 0)
		return bench_cmd(argc - 1, argv + 1);
	if (argc > 1 && strcmp(argv[1], "tune") == 0)
		return tune_cmd(argc - 1, argv + 1);

	/* '+': stop at the first non-option, which starts the command. */
	while ((c = getopt_long(argc, argv, "+hV", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_PROFILE:
			profile = optarg;
			break;
		case OPT_CONF:
			conf_add(&conf, "--conf", optarg);
			break;
		case OPT_STATS:
			conf_add(&conf, "--stats", "stats:true");
			if (optarg)
				conf_add_key(&conf, "--stats", "stats_text_file", optarg);
			break;
		case OPT_JSON:
			conf_add_key(&conf, "--json", "stats_file", optarg);
			break;
		case OPT_LIB:
			lib_opt = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("madvisor %s\n", PACKAGE_VERSION);
			return 0;
		default:
			fprintf(stderr, "Try 'madvisor --help'.\n");
			return 2;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "madvisor: no command given\n");
		usage(stderr);
		return 2;
	}

	/* The library: --lib, $MADVISOR_LIB, the build tree, the install. */
	char *lib;
	const char *env_lib = getenv("MADVISOR_LIB");
	if (lib_opt)
		lib = xstrdup(lib_opt);
	else if (env_lib && env_lib[0])
		lib = xstrdup(env_lib);
	else if ((lib = mv_where_build_lib()) == NULL)
		lib = xstrdup(MV_LIBDIR "/" LIB_NAME);
	if (!is_regular(lib))
		die(2, "%s: %s (give the library with --lib PATH or MADVISOR_LIB)", lib,
		    access(lib, F_OK) == 0 ? "not a regular file" : strerror(errno));
	char *abs_lib = absolute(lib);
	free(lib);
	mv_where_source_profiles();

	if (profile) {
		struct mv_options scratch;
		struct mv_config_error err;
		char buf[PATH_MAX];
		struct mv_profile_ref ref;
		if (mv_where_profile(profile, buf, sizeof(buf), &ref) < 0)
			die(2, "--profile %s: path too long", profile);
		mv_options_defaults(&scratch);
		if (mv_config_apply_profile(&scratch, ref.name, ref.dir, &err) < 0)
			config_fail(&err, 2);
		if (ref.is_path) { /* FILE.conf: the profile of that name in its directory */
			char *dir = absolute(ref.dir);
			setenv("MADVISOR_PROFILE_DIR", dir, 1);
			free(dir);
		}
		setenv("MADVISOR_PROFILE", ref.name, 1);
	}
	if (conf.text) {
		const char *old = getenv("MADVISOR_CONF");
		char *all;
		if (old && old[0]) {
			char *t = concat(old, ",");
			all = concat(t, conf.text);
			free(t);
		} else {
			all = xstrdup(conf.text);
		}
		setenv("MADVISOR_CONF", all, 1);
		free(all);
	}
	char *preload = compose_preload(abs_lib, getenv("LD_PRELOAD"));
	setenv("LD_PRELOAD", preload, 1);
	free(preload);
	free(abs_lib);
	free(conf.text);

	execvp(argv[optind], argv + optind);
	int e = errno;
	fprintf(stderr, "madvisor: %s: %s\n", argv[optind], strerror(e));
	return e == EACCES ? 126 : 127;
}
