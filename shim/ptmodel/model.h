/* model.h - a model of the process's page tables, after the pte_ref design.
 *
 * One node per PTE table (2 MiB of address space) holds, in one atomic word,
 * the number of populated entries plus the number of visitors (pte_ref's
 * refcount), whether the kernel has the table allocated, and a generation
 * that every event bumps. A node "dies" in the pte_ref sense when its count
 * reaches zero and nobody visits; if the kernel still holds the table then,
 * the table is stranded. PMD-level nodes (1 GiB) hold 512 PTE nodes, a bit
 * per 4 KiB page saying whether a VMA maps it, and the VMA boundaries seen in
 * /proc/self/maps. Nodes live in own memory (sys/ownmem.h) and are found
 * through a directory indexed by the 1 GiB slot, so updates from many threads
 * need no lock: each node is its own shard.
 *
 * Inputs: the interposer's events (events.c) and samples of /proc/self/maps
 * and /proc/self/pagemap (sample.c). The kernel rules deciding when a table
 * is freed are in events.c. */
#ifndef MADVISOR_PTMODEL_H
#define MADVISOR_PTMODEL_H

#include <stdint.h>
#include <stddef.h>
#include "sys/testhook.h"

#define MV_PTM_PAGE 4096ul
#define MV_PTM_PTE_SPAN (2ul << 20)      /* address space one PTE table maps */
#define MV_PTM_PMD_SPAN (1ul << 30)      /* ... one PMD table */
#define MV_PTM_PUD_SPAN (512ul << 30)    /* ... one PUD table */
#define MV_PTM_SLOTS (1ul << 17)         /* 1 GiB slots below 128 TiB */

/* The node word. */
#define MV_PTM_POP_MASK 0x3ffull                /* populated entries, 0..512 */
#define MV_PTM_VIS_ONE (1ull << 10)             /* one visitor */
#define MV_PTM_VIS_MASK (0xffffull << 10)
#define MV_PTM_GEN_ONE (1ull << 26)             /* event generation, 8 bits */
#define MV_PTM_GEN_MASK (0xffull << 26)
#define MV_PTM_TAB (1ull << 34)                 /* the kernel holds this table */
#define MV_PTM_ANON1 (1ull << 35)               /* inside one private anonymous VMA (last sample) */
#define MV_PTM_SAMPLED (1ull << 36)             /* the count is a sample's, no event since */

struct mv_ptm_node {
	uint64_t w;
};

struct mv_ptm_pmd {
	struct mv_ptm_pmd *next;   /* every PMD node, newest first */
	uint64_t base;             /* first address of the 1 GiB */
	uint32_t ntab;             /* children with MV_PTM_TAB */
	uint32_t tab;              /* the kernel holds this PMD table */
	uint32_t seq;              /* bumped by every mapping event here */
	uint32_t busy;             /* address-space calls in flight (sweep exclusion) */
	uint32_t sweeping;         /* the sweep works here */
	uint32_t pad[3];
	struct mv_ptm_node pte[512];
	uint64_t map[512][8];      /* a VMA maps this 4 KiB page */
	uint64_t bnd[512][8];      /* a VMA starts at this page (inside the 2 MiB) */
};

/* Totals, computed by walking the nodes. */
struct mv_ptm_totals {
	uint64_t pte_tables, pmd_tables, pud_tables;
	uint64_t stranded;         /* PTE tables held with no populated entry */
	uint64_t bytes;            /* (pte + pmd + pud) * 4 KiB */
	uint64_t reclaimable;      /* stranded * 4 KiB */
};

/* --- refcount (pte_ref) on one PTE node ----------------------------------- */
static inline uint64_t mv_ptm_refs(uint64_t w)
{
	return (w & MV_PTM_POP_MASK) + ((w & MV_PTM_VIS_MASK) >> 10);
}
/* A visitor that knows the node is alive (it holds another reference). */
void mv_ptm_get(struct mv_ptm_node *n);
/* Test hook: a visitor only if the count is not zero (the node is alive).
 * 1 or 0. */
MV_TEST_HOOK int mv_ptm_try_get(struct mv_ptm_node *n);
/* Drop a visitor. Returns 1 when this put made the node die (count 0). */
int mv_ptm_put(struct mv_ptm_node *n);
/* k more populated entries (capped at 512); a populated entry needs a table. */
void mv_ptm_populate(struct mv_ptm_pmd *p, struct mv_ptm_node *n, unsigned k);
/* k fewer populated entries. Returns 1 when the node died. */
int mv_ptm_unpopulate(struct mv_ptm_node *n, unsigned k);
/* The kernel freed the table: no entries, no table; visitors stay. */
void mv_ptm_free_table(struct mv_ptm_pmd *p, struct mv_ptm_node *n);
/* Set the populated count from a sample taken when the word was `seen`;
 * ignored (returns 0) when an event changed the node meanwhile. */
int mv_ptm_commit(struct mv_ptm_pmd *p, struct mv_ptm_node *n, uint64_t seen, unsigned pop, int anon1);
/* Bump the generation (an event touched the node). */
void mv_ptm_touch(struct mv_ptm_node *n);

/* --- the model -------------------------------------------------------------- */
/* Set up (idempotent). pt_reclaim: the kernel frees a table on one aligned
 * 2 MiB MADV_DONTNEED. Returns 0, -1 (no memory) or -errno (no
 * /proc/self/pagemap). */
int mv_ptm_init(int pt_reclaim);
/* In a fork child: open the child's own /proc/self/pagemap (0 or -errno;
 * without it, samples and the sweep skip every region). */
int mv_ptm_pagemap_reopen(void);
int mv_ptm_ready(void);
/* The PMD node for an address; create it when asked. NULL if absent. */
struct mv_ptm_pmd *mv_ptm_pmd_of(uintptr_t addr, int create);
struct mv_ptm_pmd *mv_ptm_first(void);
static inline struct mv_ptm_node *mv_ptm_node_of(struct mv_ptm_pmd *p, uintptr_t addr)
{
	return &p->pte[(addr >> 21) & 511];
}
void mv_ptm_totals(struct mv_ptm_totals *t);
/* Forget everything (tests; the fork child before resampling). */
void mv_ptm_reset(void);

/* Mapping bits: [lo, hi) page-aligned. */
void mv_ptm_map_set(uintptr_t lo, uintptr_t hi);
/* Whether any page of the 2 MiB region at `r` is mapped. */
int mv_ptm_region_mapped(struct mv_ptm_pmd *p, unsigned idx);

/* --- events (events.c; the calls reach it through hook.h) ----------------- */
void mv_ptm_on_fork_child(void);
/* Event counters. */
uint64_t mv_ptm_events(void);

/* Read pagemap entries for [addr, addr + n pages) into out (an open fd or -1
 * to use the model's). Returns entries read or -errno. */
long mv_ptm_pagemap(uintptr_t addr, size_t n, uint64_t *out);
/* Whether a pagemap entry maps something (present, swapped, marker). */
static inline int mv_ptm_entry_used(uint64_t e)
{
	return (e & ((1ull << 63) | (1ull << 62) | (1ull << 58) | (1ull << 57))) != 0;
}

#endif
