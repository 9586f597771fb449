/* where.c - the library and the profiles of the `madvisor` command (where.h). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tools/where.h"

#ifndef MV_SRCDIR
#define MV_SRCDIR ""
#endif

char *mv_where_exe_dir(void)
{
	char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
	if (n <= 0)
		return NULL;
	buf[n] = 0;
	char *slash = strrchr(buf, '/');
	if (!slash)
		return NULL;
	*slash = 0;
	return strdup(buf[0] ? buf : "/");
}

char *mv_where_build_lib(void)
{
	char *dir = mv_where_exe_dir();
	if (!dir)
		return NULL;
	size_t n = strlen(dir) + sizeof("/.libs/" MV_LIB_NAME);
	char *lib = malloc(n);
	if (lib)
		snprintf(lib, n, "%s/.libs/" MV_LIB_NAME, dir);
	free(dir);
	struct stat st;
	if (lib && stat(lib, &st) == 0 && S_ISREG(st.st_mode))
		return lib;
	free(lib);
	return NULL;
}

void mv_where_source_profiles(void)
{
	const char *d = getenv("MADVISOR_PROFILE_DIR");
	if ((d && d[0]) || !MV_SRCDIR[0])
		return;
	char *lib = mv_where_build_lib();
	if (lib)
		setenv("MADVISOR_PROFILE_DIR", MV_SRCDIR "/configs", 1);
	free(lib);
}

const char *mv_where_profile_dir(void)
{
	const char *d = getenv("MADVISOR_PROFILE_DIR");
	return d && d[0] ? d : MV_PROFILE_DIR;
}

int mv_where_profile(const char *arg, char *buf, size_t size, struct mv_profile_ref *ref)
{
	size_t n = strlen(arg);
	const char *slash = strrchr(arg, '/');
	ref->is_path = n > 5 && strcmp(arg + n - 5, ".conf") == 0;
	if (!ref->is_path) {
		ref->dir = mv_where_profile_dir();
		ref->name = arg;
		return 0;
	}
	if (n + 2 > size)
		return -1;
	/* "x.conf" -> ".", "x"; "/a/x.conf" -> "/a", "x"; "/x.conf" -> "/", "x" */
	memcpy(buf, arg, n + 1);
	char *base = slash ? buf + (slash - arg) + 1 : buf;
	if (slash)
		buf[slash - arg] = 0;
	size_t bn = strlen(base);
	if (bn > 5 && strcmp(base + bn - 5, ".conf") == 0)
		base[bn - 5] = 0;
	ref->dir = !slash ? "." : slash == arg ? "/" : buf;
	ref->name = base;
	return 0;
}

int mv_where_apply_profile(struct mv_options *o, const char *arg, struct mv_config_error *err)
{
	char buf[PATH_MAX];
	struct mv_profile_ref ref;
	if (mv_where_profile(arg, buf, sizeof(buf), &ref) < 0) {
		snprintf(err->where, sizeof(err->where), "profile");
		err->key[0] = 0;
		snprintf(err->reason, sizeof(err->reason), "profile path too long");
		return -1;
	}
	return mv_config_apply_profile(o, ref.name, ref.dir, err);
}
