/* policy_model.h - the shadow model of fuzz_policy.c: what the program must
 * see of its address space after each call, whatever madvisor does behind it.
 *
 * One record per page the program has had (a hash table, reset per input):
 * mapped or not, protection, shared or private, the mapping it came from
 * (pages of one mapping with equal attributes are one kernel VMA), advice
 * that splits VMAs, and what it must read: zero, a pattern written by the
 * target (a 64-bit seed; the pattern does not depend on the address, so it
 * moves with mremap), or either of the two (MADV_FREE). The mdl_expect_*
 * functions give the kernel's result for a call before it is made; the
 * others apply a call's effect. */
#ifndef MADVISOR_FUZZ_POLICY_MODEL_H
#define MADVISOR_FUZZ_POLICY_MODEL_H

#include <stddef.h>
#include <stdint.h>

#define PG 4096UL
#define WIN_PAGES 1024UL                 /* the reserved window: 4 MiB, 2 MiB-aligned */
#define WIN_BYTES (WIN_PAGES * PG)
#define MDL_OUT_MAX 256

extern uintptr_t win;                    /* the window's start */
extern uintptr_t mdl_out[MDL_OUT_MAX];   /* starts of mappings made outside the window */
extern size_t mdl_nout;

/* Reserve the window (once); start an input: the window is one PROT_NONE
 * reservation the library does not know; nothing else is the program's. */
void mdl_setup(void);
void mdl_reset(void);
/* Room for another step (the table is not nearly full). */
int mdl_room(void);

/* No page of [s, s + n pages) is mapped. */
int mdl_all_free(uintptr_t s, size_t n);
/* Some mapped page of the range is MAP_SHARED. */
int mdl_any_shared(uintptr_t s, size_t n);
/* Some page outside the window that is mapped (in *p): 1, or 0. */
int mdl_mapped_outside(uintptr_t *p);
/* Mapped pages in a row from p, at most max (0 when p is not mapped). */
size_t mdl_run(uintptr_t p, size_t max);

void mdl_map(uintptr_t s, size_t n, int prot, int shared);
void mdl_unmap(uintptr_t s, size_t n);
/* Write a fresh pattern into the writable mapped pages of the range. */
void mdl_write(uintptr_t s, size_t n);

/* mprotect: the result, and *done = the pages it changes (up to a hole). */
long mdl_expect_mprotect(uintptr_t s, size_t n, size_t *done);
void mdl_protect(uintptr_t s, size_t n, int prot);

struct mdl_madv {
	uintptr_t s;
	size_t n;       /* pages the kernel acts on (before the first refusing VMA) */
	int advice;
};
long mdl_expect_madvise(uintptr_t s, size_t n, int advice, struct mdl_madv *m);
/* mode: the madvise policy applied to the call (enum mv_madvise_mode). */
void mdl_madvise(const struct mdl_madv *m, int mode, int pt_reclaim);

struct mdl_remap {
	uintptr_t s, to;
	size_t oldn, nn;
	int flags, outside;
	int expect;     /* MDL_EXACT, MDL_MOVE, MDL_INPLACE_OR, MDL_AMBIG */
	long value;     /* MDL_EXACT */
	const char *error; /* set by mdl_mremap when the result is wrong */
};
enum { MDL_EXACT, MDL_MOVE, MDL_INPLACE_OR, MDL_AMBIG };
void mdl_expect_mremap(uintptr_t s, size_t oldn, size_t nn, int flags, uintptr_t to, int outside,
		       struct mdl_remap *m);
/* Check result r against the expectation and apply it. */
void mdl_mremap(struct mdl_remap *m, long r);

/* Every readable page reads as the model says: pages changed since the last
 * call in full, the others by a few words (all in full when full is set).
 * NULL, or a description of the first difference. */
const char *mdl_verify(int full);

#endif
