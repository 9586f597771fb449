/* allocator.h - which malloc the program runs on.
 *
 * Strategies differ per allocator (jemalloc relies on zero-fill after
 * MADV_DONTNEED; glibc malloc's own purges are invisible to any preload
 * library). Detected once in the constructor: the object that defines the
 * malloc symbol the program binds to, confirmed by marker symbols. */
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

struct mv_allocator_info {
	enum mv_allocator kind;
	char library[MV_PATH_MAX]; /* object defining malloc ("" if unknown) */
	uintptr_t text_lo, text_hi; /* its executable segments: calls from here are the allocator's */
	int in_executable;          /* malloc is linked into the main program */
};

/* Inspect the running process (uses dlsym/dladdr: constructor only). */
void mv_allocator_detect(struct mv_allocator_info *out);
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
