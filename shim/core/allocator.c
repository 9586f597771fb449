/* allocator.c - detect the program's malloc implementation and where its
 * API is (allocator.h). */
#include <dlfcn.h>
#include <string.h>
#include "sys/ownsys.h"
#include "core/allocator.h"
#include "sys/elfsym.h"
#include "sys/objtext.h"
#include "sys/outbuf.h"

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

static int known(enum mv_allocator k)
{
	return k == MV_ALLOC_JEMALLOC || k == MV_ALLOC_TCMALLOC || k == MV_ALLOC_MIMALLOC;
}

/* The allocator lives in object t: its code, and its file for reports. */
static void place(struct mv_allocator_info *out, const struct mv_text *t)
{
	out->text_lo = t->lo;
	out->text_hi = t->hi;
	out->in_executable = t->is_main;
	out->api_bias = t->bias;
	if (t->is_main) {
		long n = mv_own3(SYS_readlink, "/proc/self/exe", out->library, MV_PATH_MAX - 1);
		out->library[n > 0 ? n : 0] = 0;
	} else {
		copy_path(out->library, t->name);
	}
}

/* The markers, with the prefixes jemalloc builds give their API. */
static const struct {
	const char *name;
	enum mv_allocator kind;
	const char *prefix;
} markers[] = {
	{ "mallctl", MV_ALLOC_JEMALLOC, "" },
	{ "je_mallctl", MV_ALLOC_JEMALLOC, "je_" },
	{ "_rjem_mallctl", MV_ALLOC_JEMALLOC, "_rjem_" },
	{ "MallocExtension_GetNumericProperty", MV_ALLOC_TCMALLOC, "" },
	{ "mi_version", MV_ALLOC_MIMALLOC, "" },
};
#define NMARKERS ((int)(sizeof(markers) / sizeof(markers[0])))

/* A prefixed jemalloc API exported by any loaded object. */
static int exported_prefixed(struct mv_allocator_info *out)
{
	for (int i = 0; i < NMARKERS; i++) {
		Dl_info di;
		struct mv_text t;
		if (!markers[i].prefix[0])
			continue;
		void *p = mv_own_dlsym(RTLD_DEFAULT, markers[i].name);
		if (!p || !dladdr(p, &di) || mv_object_text(p, &t) != 0)
			continue;
		out->kind = markers[i].kind;
		out->found_by = MV_FOUND_EXPORTED;
		copy_path(out->prefix, markers[i].prefix);
		out->api_base = (uintptr_t)di.dli_fbase;
		place(out, &t);
		return 1;
	}
	return 0;
}

/* The markers in the .symtab of object t. Returns 1 when found, 0 when
 * not, MV_ELFSYM_* when the file has no .symtab or cannot be read. */
static int in_symtab(struct mv_allocator_info *out, const struct mv_text *t)
{
	const char *names[NMARKERS];
	uintptr_t addrs[NMARKERS];
	const char *path = t->is_main ? "/proc/self/exe" : t->name;
	for (int i = 0; i < NMARKERS; i++)
		names[i] = markers[i].name;
	if (!path[0])
		return 0;
	int r = mv_elfsym_find(path, t->bias, names, addrs, NMARKERS);
	if (r < 0)
		return r;
	for (int i = 0; r > 0 && i < NMARKERS; i++) {
		if (!addrs[i])
			continue;
		out->kind = markers[i].kind;
		out->found_by = MV_FOUND_SYMTAB;
		copy_path(out->prefix, markers[i].prefix);
		copy_path(out->symfile, path);
		place(out, t);
		return 1;
	}
	return 0;
}

void mv_allocator_detect(struct mv_allocator_info *out, int deep)
{
	Dl_info di;
	struct mv_text t, exe;
	int have_text = 0;
	void *m = mv_own_dlsym(RTLD_DEFAULT, "malloc");
	memset(out, 0, sizeof(*out));
	out->kind = MV_ALLOC_UNKNOWN;
	if (m && dladdr(m, &di)) {
		copy_path(out->library, di.dli_fname);
		out->api_base = (uintptr_t)di.dli_fbase;
		if (mv_object_text(m, &t) == 0) {
			have_text = 1;
			out->text_lo = t.lo;
			out->text_hi = t.hi;
			out->in_executable = t.is_main;
			out->api_bias = t.bias;
		}
		int je = marker_in("mallctl", &di), tc = marker_in("MallocExtension_GetNumericProperty", &di),
		    mi = marker_in("mi_version", &di);
		out->kind = mv_allocator_classify(di.dli_fname, je, tc, mi);
		if (known(out->kind)) {
			out->found_by = je || tc || mi ? MV_FOUND_EXPORTED : MV_FOUND_NAME;
			return;
		}
	}
	if (exported_prefixed(out))
		return;
	/* malloc defined by an object we do not recognise (the executable, most
	 * often): its full symbol table, when it has one. */
	if (have_text && out->kind == MV_ALLOC_OTHER) {
		int r = in_symtab(out, &t);
		if (r == 1)
			return;
		out->stripped = r == MV_ELFSYM_STRIPPED ? MV_HIDDEN_STRIPPED : r < 0 ? MV_HIDDEN_UNREADABLE : 0;
		if (t.is_main)
			return;
	}
	if (deep && mv_object_main(&exe) == 0 && !(have_text && t.is_main))
		(void)in_symtab(out, &exe);
}

int mv_allocator_wanted(const struct mv_options *o)
{
	for (int i = 0; i < MV_OPT_COUNT; i++) /* the allocator keys: jemalloc.*, tcmalloc.*, mimalloc.* */
		if ((mv_option_table[i].flags & MV_OPT_F_UNSET) && o->source[i] != MV_SRC_DEFAULT)
			return 1;
	return o->adaptive || o->madvise_callers != MV_CALLERS_ANY || o->madvise == MV_MADVISE_DONTNEED_TO_FREE ||
	       o->munmap_callers != MV_CALLERS_ANY || o->stats || o->stats_file[0] || o->stats_text_file[0] ||
	       o->live_file[0] || o->live_prom_file[0] || o->live_signal || o->trace[0];
}

void mv_allocator_say_stripped(const struct mv_allocator_info *a, int fd)
{
	if (!a->stripped)
		return;
	mv_out_say(fd, 0, "its API and the allocator keys are not used", "malloc is linked into ",
		   a->in_executable ? "the program" : a->library,
		   a->stripped == MV_HIDDEN_STRIPPED ? ", which is stripped" : ", whose symbol table cannot be read",
		   ": an allocator linked there cannot be identified", NULL);
}

const char *mv_allocator_found_name(enum mv_found f)
{
	switch (f) {
	case MV_FOUND_NAME:
		return "name";
	case MV_FOUND_EXPORTED:
		return "exported";
	case MV_FOUND_SYMTAB:
		return "symtab";
	case MV_FOUND_NONE:
		break;
	}
	return "none";
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
