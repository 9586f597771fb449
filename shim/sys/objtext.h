/* objtext.h - the executable address range of a loaded object.
 *
 * Tells apart who made a call from its return address: the allocator's
 * purges (policy) and a next function coming back into the library (kernel). */
#ifndef MADVISOR_OBJTEXT_H
#define MADVISOR_OBJTEXT_H

#include <stdint.h>

struct mv_text {
	uintptr_t lo, hi; /* union of the object's executable segments; lo == hi: none */
	int is_main;      /* the object is the main program */
	uintptr_t bias;   /* its load bias (l_addr): symbol values are relative to it */
	const char *name; /* its file as the loader names it ("" for the main program) */
};

/* Find the object whose code contains pc. Returns 0, or -1 if none. */
int mv_object_text(const void *pc, struct mv_text *out);
/* The main program. Returns 0, or -1. */
int mv_object_main(struct mv_text *out);

static inline int mv_text_has(const struct mv_text *t, const void *pc)
{
	return (uintptr_t)pc - t->lo < t->hi - t->lo;
}

#endif
