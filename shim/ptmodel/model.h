/* model.h - a model of the process's page tables, after the pte_ref design.
 *
 * One word per PTE table (2 MiB of address space, a "region") holds the
 * number of populated entries plus the number of visitors (pte_ref's
 * refcount), whether the kernel has the table allocated, and a generation
 * that every event bumps. A node "dies" in the pte_ref sense when its count
 * reaches zero and nobody visits; if the kernel still holds the table then,
 * the table is stranded. PMD-level nodes (1 GiB) hold what the model knows
 * of the VMAs there: per region, nothing mapped (EMPTY), all of it mapped by
 * one VMA as far as known (FULL), or a bit per 4 KiB page saying whether a
 * VMA maps it and where VMAs start (seen in /proc/self/maps).
 *
 * The model costs by page tables, not by bytes mapped: regions come in
 * groups of 64 (128 MiB), and a PMD node holds, per group, either one word
 * saying which run of its regions is FULL (the others EMPTY) or a group made
 * when a region of it first needs a word (a table, a visitor), a partial
 * mapping, or FULL regions that are not one run; per-page bits are made only
 * for regions a VMA covers in part. An untouched reservation costs a small
 * PMD node per GiB, bits for the regions its edges cut (none when it is
 * 2 MiB-aligned, as the kernel places large anonymous mappings), and nothing
 * per 2 MiB. Every change is one compare-and-swap (a group or bits are made
 * privately, then published), so updates from many threads, and from signal
 * handlers, need no lock. Nodes come from own memory (sys/ownmem.h) and are
 * never given back while the process runs (a node may be visited at any time;
 * there is no reclamation scheme to make freeing safe). They are found
 * through a directory indexed by the 1 GiB slot.
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

/* What maps a region: one of these, or a struct mv_ptm_bits *. */
#define MV_PTM_EMPTY ((uintptr_t)0)  /* no page */
#define MV_PTM_FULL ((uintptr_t)1)   /* every page, no VMA starting after its first page */

struct mv_ptm_bits {
	uint64_t map[8];           /* a VMA maps this 4 KiB page */
	uint64_t bnd[8];           /* a VMA starts at this page */
};

#define MV_PTM_GROUP 64                 /* regions in a group */
#define MV_PTM_GROUPS (512 / MV_PTM_GROUP)

struct mv_ptm_group {
	struct mv_ptm_node pte[MV_PTM_GROUP];
	uintptr_t shape[MV_PTM_GROUP];  /* MV_PTM_EMPTY, MV_PTM_FULL or a struct mv_ptm_bits * */
};

struct mv_ptm_pmd {
	struct mv_ptm_pmd *next;   /* every PMD node, newest first */
	uint64_t base;             /* first address of the 1 GiB */
	uint32_t ntab;             /* regions with MV_PTM_TAB */
	uint32_t tab;              /* the kernel holds this PMD table */
	uint32_t seq;              /* bumped by every mapping event here */
	uint32_t busy;             /* address-space calls in flight (sweep exclusion) */
	uint32_t sweeping;         /* the sweep works here */
	uint32_t pass_seq;         /* the sampler's: seq when its pass began */
	uint32_t pass_old;         /* the sampler's: the node existed when its pass began */
	uint32_t pad;
	uintptr_t grp[MV_PTM_GROUPS]; /* a struct mv_ptm_group *, or (odd) a run of FULL regions */
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
/* The group of region idx (0..511): NULL when it has none; made when asked
 * (NULL when out of memory). */
struct mv_ptm_group *mv_ptm_group_of(struct mv_ptm_pmd *p, unsigned idx, int create);
/* The region's word: made when it has none (NULL when out of memory). */
struct mv_ptm_node *mv_ptm_node_of(struct mv_ptm_pmd *p, uintptr_t addr);
/* The region's word if it has one, else NULL (its word is then 0). */
struct mv_ptm_node *mv_ptm_node_peek(struct mv_ptm_pmd *p, uintptr_t addr);
static inline uint64_t mv_ptm_word(struct mv_ptm_pmd *p, uintptr_t addr)
{
	struct mv_ptm_node *n = mv_ptm_node_peek(p, addr);
	return n ? __atomic_load_n(&n->w, __ATOMIC_ACQUIRE) : 0;
}
void mv_ptm_totals(struct mv_ptm_totals *t);
/* Forget everything (tests, replay). */
void mv_ptm_reset(void);
/* Bytes of own memory the model takes. */
size_t mv_ptm_bytes(void);

/* Mapping knowledge; [lo, hi) page-aligned. Set: a VMA maps it now. Clear
 * (within one PMD node): nothing maps it, no VMA starts there. */
void mv_ptm_map_set(uintptr_t lo, uintptr_t hi);
void mv_ptm_map_clear(struct mv_ptm_pmd *p, uintptr_t lo, uintptr_t hi);
/* Region idx (0..511) of a PMD node: whether any page is mapped, how many,
 * and whether one VMA maps all of it (as far as the model knows). */
int mv_ptm_region_mapped(struct mv_ptm_pmd *p, unsigned idx);
unsigned mv_ptm_region_pages(struct mv_ptm_pmd *p, unsigned idx);
int mv_ptm_region_one_vma(struct mv_ptm_pmd *p, unsigned idx);
/* Whether any region of the node is mapped. */
int mv_ptm_pmd_mapped(struct mv_ptm_pmd *p);
/* Replace what the model knows of one region (a sample): kind MV_PTM_EMPTY,
 * MV_PTM_FULL, or anything else for the bits given. 0, or -1 when out of
 * memory (nothing changed). */
int mv_ptm_region_write(struct mv_ptm_pmd *p, unsigned idx, uintptr_t kind, const uint64_t map[8],
			const uint64_t bnd[8]);
/* Replace what the model knows of group g (regions g * 64 ...) when it has
 * no node and `full` (its FULL regions, the rest EMPTY) is one run: 1 done,
 * 0 not (write the regions one by one). */
int mv_ptm_group_write(struct mv_ptm_pmd *p, unsigned g, uint64_t full);

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
