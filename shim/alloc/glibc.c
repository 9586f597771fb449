/* glibc.c - glibc malloc: malloc_trim only.
 *
 * glibc has no purge knobs worth driving at run time and no count of its
 * free resident memory; malloc_trim(0) returns what it can (top of the heap
 * and, since 2.8, whole free pages inside every arena). Its own madvise and
 * munmap calls use libc-internal entry points that no preload library sees,
 * so the calls it makes are not counted. */
#include <stddef.h>
#include "alloc/api.h"

static int (*trim)(size_t);

static int bind(void *(*sym)(const char *))
{
	trim = (int (*)(size_t))sym("malloc_trim");
	return trim ? 0 : -1;
}

static int purge(void)
{
	trim(0);
	return 0;
}

const struct mv_alloc_backend mv_alloc_glibc = {
	.kind = MV_ALLOC_GLIBC,
	.purge_name = "malloc_trim(0)",
	.bind = bind,
	.stats = NULL,
	.purge = purge,
	.knobs = NULL,
	.nknobs = 0,
	.note = "glibc malloc: purges through malloc_trim only; its own madvise/munmap calls are invisible to"
		" any preload library",
};
