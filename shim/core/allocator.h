/* allocator.h - which malloc the program runs on, and where its API is.
 *
 * Strategies differ per allocator (jemalloc relies on zero-fill after
 * MADV_DONTNEED; glibc malloc's own purges are invisible to any preload
 * library). Detected once in the constructor: the object that defines the
 * malloc symbol the program binds to, confirmed by marker symbols it exports
 * (mallctl, MallocExtension_GetNumericProperty, mi_version). An allocator
 * linked statically exports malloc but not its API: then the markers are
 * looked up in that object's .symtab when it is not stripped, and a
 * prefixed jemalloc API (je_mallctl, _rjem_mallctl) is looked for among the
 * exported symbols of every loaded object and in the executable's .symtab. */
#ifndef MADVISOR_ALLOCATOR_H
#define MADVISOR_ALLOCATOR_H

#include <stdint.h>
#include "core/options.h"

enum mv_allocator {
	MV_ALLOC_UNKNOWN,
	MV_ALLOC_GLIBC,
	MV_ALLOC_JEMALLOC,
	MV_ALLOC_TCMALLOC,
	MV_ALLOC_MIMALLOC,
	MV_ALLOC_OTHER,
};

/* How the allocator was recognised. */
enum mv_found {
	MV_FOUND_NONE,
	MV_FOUND_NAME,     /* the file name of the object defining malloc */
	MV_FOUND_EXPORTED, /* its API among the object's exported (dynamic) symbols */
	MV_FOUND_SYMTAB,   /* its API in the object file's .symtab */
};

struct mv_allocator_info {
	enum mv_allocator kind;
	char library[MV_PATH_MAX]; /* the allocator's object ("" if unknown): malloc's, or where its API is */
	uintptr_t text_lo, text_hi; /* its executable segments: calls from here are the allocator's */
	int in_executable;          /* the allocator is linked into the main program */
	enum mv_found found_by;
	char prefix[8];             /* its API's prefix: "", "je_" or "_rjem_" */
	uintptr_t api_base;         /* the object's load address as dladdr reports it (exported symbols) */
	uintptr_t api_bias;         /* its load bias (.symtab values are relative to it) */
	char symfile[MV_PATH_MAX];  /* the file whose .symtab holds the API (MV_FOUND_SYMTAB) */
	int stripped;               /* MV_HIDDEN_*: malloc is defined outside libc, in an object whose
				       .symtab is missing or unreadable: an allocator may be there, unseen */
};
#define MV_HIDDEN_STRIPPED 1
#define MV_HIDDEN_UNREADABLE 2

/* Inspect the running process (uses dlsym/dladdr: constructor only). With
 * deep, the executable's .symtab is searched even when malloc is libc's (a
 * prefixed jemalloc beside it); otherwise only when malloc's own object is
 * not recognised. */
void mv_allocator_detect(struct mv_allocator_info *out, int deep);
/* Whether the options use the allocator (its API, its calls, a report
 * naming it): the detection is worth a deep search then. */
int mv_allocator_wanted(const struct mv_options *o);
/* One line on fd when malloc lives in a stripped object that may hide an
 * allocator (a->stripped). */
void mv_allocator_say_stripped(const struct mv_allocator_info *a, int fd);
/* How it was found, for reports: "name", "exported", "symtab" or "none". */
const char *mv_allocator_found_name(enum mv_found f);
/* Classify from a library path and the presence of marker symbols. */
enum mv_allocator mv_allocator_classify(const char *library, int has_mallctl,
					int has_malloc_extension, int has_mi_version);
const char *mv_allocator_name(enum mv_allocator a);
/* Whether a call made from code address `pc` comes from the allocator. */
static inline int mv_allocator_owns(const struct mv_allocator_info *a, const void *pc)
{
	return (uintptr_t)pc - a->text_lo < a->text_hi - a->text_lo;
}
/* Whether madvisor can see the allocator's purges (false for glibc malloc). */
int mv_allocator_purges_visible(enum mv_allocator a);

#endif
