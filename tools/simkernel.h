/* simkernel.h - the pretend kernel `madvisor replay` runs the munmap
 * strategies against (shim/munmap/whatif.h).
 *
 * It keeps the address space of the replayed process as ranges only (nothing
 * is mapped), places new mappings as the kernel would have given the trace
 * (the traced address when it is free there, the hint the strategy passes
 * when free, else a fresh place), and counts every call that reaches it: the
 * program's calls the strategy lets through, and the calls the strategy makes
 * on held ranges. When a strategy hands out a different address than the
 * traced run got (a recycled range), later calls on the traced address are
 * translated to it. */
#ifndef MADVISOR_SIMKERNEL_H
#define MADVISOR_SIMKERNEL_H

#include <stdint.h>
#include <stddef.h>
#include "core/request.h"

struct mv_sim_counts {
	uint64_t program[MV_KIND_COUNT];  /* the program's calls that reached the kernel */
	uint64_t held_unmap, held_zap;    /* the strategy's own: munmap, page drops */
	uint64_t held_zap_batch;          /* ... process_madvise batches */
};

/* Forget everything and install the pretend kernel as the next functions. */
void mv_sim_start(void);
/* Remove it again (requests go to the real kernel). */
void mv_sim_stop(void);
const struct mv_sim_counts *mv_sim_counts(void);
/* The whatif.h hook: a call the strategy makes on a held range. */
long mv_sim_held_call(void *arg, const struct mv_request *q);

/* The traced run's address a, as the replayed program sees it; n: the
 * length of a call on a whole mapping (munmap), else 0. */
uintptr_t mv_sim_at(uintptr_t a, size_t n);
/* The traced run got [a, a + n) where the replayed one got s (0: [a, a + n)
 * was given up). */
void mv_sim_got(uintptr_t a, size_t n, uintptr_t s);
/* The traced address a replayed program's mmap should get: the pretend
 * kernel prefers it when free. */
void mv_sim_prefer(uintptr_t a);

#endif
