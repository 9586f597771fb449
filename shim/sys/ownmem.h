/* ownmem.h - memory madvisor maps for itself.
 *
 * A mapping of madvisor's own must never appear, in the middle of one of the
 * program's calls, in a hole of the program's address space: the program may
 * have just unmapped that range and expect madvise there to fail with ENOMEM,
 * or map it again with MAP_FIXED_NOREPLACE. So whatever madvisor needs while
 * the program runs (per-thread stats slots and trace rings, page-table model
 * nodes, registry arrays) comes from one reservation made at start-up: a
 * PROT_NONE range (no commit charge, no page tables) whose pieces are made
 * read-write as they are handed out, and kept on free lists by size when
 * given back. Only when it is used up does an allocation map fresh memory. */
#ifndef MADVISOR_OWNMEM_H
#define MADVISOR_OWNMEM_H

#include <stddef.h>

#define MV_OWNMEM_RESERVE (64UL << 20)

/* Make the reservation (start-up; also done by the first allocation). 0 or -errno. */
int mv_ownmem_reserve(void);
/* len bytes (rounded up to a power-of-two number of pages), zeroed, or NULL.
 * Async-signal-safe; never waits on a lock. */
void *mv_ownmem_alloc(size_t len);
/* Give back what mv_ownmem_alloc(len) returned. */
void mv_ownmem_free(void *p, size_t len);

#endif
