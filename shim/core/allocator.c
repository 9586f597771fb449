/* allocator.c - detect the program's malloc implementation. */
#include <dlfcn.h>
#include <string.h>
#include "sys/ownsys.h"
#include "core/allocator.h"
#include "sys/objtext.h"

static void copy_path(char *dst, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	if (n >= MV_PATH_MAX)
		n = MV_PATH_MAX - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = 0;
}

/* The marker counts only when defined by the same object as malloc. */
static int marker_in(const char *sym, const Dl_info *malloc_info)
{
	Dl_info di;
	void *p = mv_own_dlsym(RTLD_DEFAULT, sym);
	return p && dladdr(p, &di) && di.dli_fbase == malloc_info->dli_fbase;
}

enum mv_allocator mv_allocator_classify(const char *lib, int has_mallctl,
					int has_malloc_extension, int has_mi_version)
{
	if (has_mallctl || (lib && strstr(lib, "jemalloc")))
		return MV_ALLOC_JEMALLOC;
	if (has_malloc_extension || (lib && strstr(lib, "tcmalloc")))
		return MV_ALLOC_TCMALLOC;
	if (has_mi_version || (lib && strstr(lib, "mimalloc")))
		return MV_ALLOC_MIMALLOC;
	if (lib && strstr(lib, "/libc.so"))
		return MV_ALLOC_GLIBC;
	return lib && *lib ? MV_ALLOC_OTHER : MV_ALLOC_UNKNOWN;
}

void mv_allocator_detect(struct mv_allocator_info *out)
{
	Dl_info di;
	void *m = mv_own_dlsym(RTLD_DEFAULT, "malloc");
	out->kind = MV_ALLOC_UNKNOWN;
	out->library[0] = 0;
	out->text_lo = out->text_hi = 0;
	out->in_executable = 0;
	if (!m || !dladdr(m, &di))
		return;
	copy_path(out->library, di.dli_fname);
	struct mv_text t;
	if (mv_object_text(m, &t) == 0) {
		out->text_lo = t.lo;
		out->text_hi = t.hi;
		out->in_executable = t.is_main;
	}
	out->kind = mv_allocator_classify(di.dli_fname, marker_in("mallctl", &di),
					  marker_in("MallocExtension_GetNumericProperty", &di),
					  marker_in("mi_version", &di));
}

const char *mv_allocator_name(enum mv_allocator a)
{
	switch (a) {
	case MV_ALLOC_GLIBC:
		return "glibc";
	case MV_ALLOC_JEMALLOC:
		return "jemalloc";
	case MV_ALLOC_TCMALLOC:
		return "tcmalloc";
	case MV_ALLOC_MIMALLOC:
		return "mimalloc";
	case MV_ALLOC_OTHER:
		return "other";
	case MV_ALLOC_UNKNOWN:
		break;
	}
	return "unknown";
}

int mv_allocator_purges_visible(enum mv_allocator a)
{
	return a != MV_ALLOC_GLIBC;
}
