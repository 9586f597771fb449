/* registry.h - the mappings the program made through the library.
 *
 * What each range is (mmap flags, protection, advice applied since) and
 * whether the program still has it (LIVE) or gave it up to a munmap strategy
 * that keeps it mapped for now (HELD by a holder: a recycling cache or a
 * deferred-munmap queue, munmap.h). Ranges made before the library loaded,
 * by libc internals, or larger than MV_REG_MAX_MAP are unknown: strategies
 * pass them through.
 *
 * Costs by mappings, not bytes: the address space is cut into 1 GiB slots
 * hashed onto MV_REG_SHARDS shards, each a treap (a binary search tree kept
 * balanced by random priorities; O(log n) per call) of disjoint entries,
 * equal neighbours merged, behind its own short futex lock: one entry per
 * mapping, or two when it crosses a slot boundary (entries never do), plus
 * one per distinct change made inside it. Nothing waits on a global lock.
 * mv_reg_holders() answers "is anything held here?" with one atomic load per
 * shard when nothing is. Tree nodes come from shim/sys/ownmem, never malloc.
 * Only started (mv_reg_init) when a munmap strategy is on. All addresses are
 * page-aligned, a < b. */
#ifndef MADVISOR_REGISTRY_H
#define MADVISOR_REGISTRY_H

#include <stddef.h>
#include <stdint.h>
#include "sys/testhook.h"

#define MV_REG_SLOT_SHIFT 30              /* entries never cross a 1 GiB slot boundary */
#define MV_REG_SHARDS 256                 /* power of two */
#define MV_REG_MAX_MAP (1UL << 30)        /* larger mappings stay unknown */
#define MV_REG_OWNERS 64                  /* holders 0..63 */

/* Changes a range carries (mv_reg_entry.advice); any of them but
 * MV_ADV_NOMERGE keeps it out of recycling, because a fresh mapping would not
 * have it. */
enum {
	MV_ADV_HUGEPAGE = 1 << 0,
	MV_ADV_NOHUGEPAGE = 1 << 1,
	MV_ADV_DONTFORK = 1 << 2,
	MV_ADV_WIPEONFORK = 1 << 3,
	MV_ADV_MERGEABLE = 1 << 4,
	MV_ADV_DONTDUMP = 1 << 5,
	MV_ADV_RANDOM = 1 << 6,
	MV_ADV_SEQUENTIAL = 1 << 7,
	MV_ADV_GUARD = 1 << 8,      /* guard regions installed */
	MV_ADV_LOCKED = 1 << 9,     /* mlock, mlock2 */
	MV_ADV_OTHER = 1 << 10,     /* unknown advice, a failed or partial change, odd prot bits, pkey */
	MV_ADV_SEALED = 1 << 11,    /* mseal: munmap fails with EPERM, so it is never held */
	MV_ADV_MOVED = 1 << 12,     /* moved by mremap: its page offset no longer follows its address */
	MV_ADV_FORKED = 1 << 13,    /* inherited across fork: its anonymous memory has a parent's */
};
/* Marks that only keep a fresh mapping made over part of the range from
 * merging back into it (pt_reclaim's fresh cores, advice.h); recycling, which
 * hands the range out whole, ignores them. */
#define MV_ADV_NOMERGE (MV_ADV_MOVED | MV_ADV_FORKED)

enum mv_reg_state { MV_REG_LIVE, MV_REG_HELD };

/* What a strategy may take. */
enum mv_reg_class {
	MV_REG_RECYCLABLE, /* private anonymous, plain flags, PROT_READ|PROT_WRITE, no advice */
	MV_REG_DEFERRABLE, /* private anonymous, not hugetlb/locked/sealed/growsdown */
	MV_REG_ANYCLASS,   /* anything (undoing a hold) */
};

struct mv_reg_entry {
	uintptr_t start, end;
	uint32_t flags;     /* mmap flags */
	uint16_t advice;    /* MV_ADV_* */
	uint8_t prot;       /* PROT_* */
	uint8_t state;      /* enum mv_reg_state */
	uint32_t owner;     /* holder of a HELD range */
	uint32_t origin;    /* the mmap call that made it: one origin lies in one kernel VMA */
};

/* Set up the shard table (own memory). 0, or -1 when out of memory. */
int mv_reg_init(void);

/* A new mapping [a, b): replaces whatever was recorded there. */
void mv_reg_map(uintptr_t a, uintptr_t b, int prot, int flags);
/* Forget [a, b), whatever its state. */
void mv_reg_forget(uintptr_t a, uintptr_t b);
/* A successful mprotect. */
void mv_reg_protect(uintptr_t a, uintptr_t b, int prot);
/* Add advice bits `set`, then remove `clear`, over the recorded parts of [a, b). */
void mv_reg_advise(uintptr_t a, uintptr_t b, unsigned set, unsigned clear);

/* LIVE -> HELD(owner) when all of [a, b) is recorded, LIVE and of class cls.
 * Recyclable ranges must also come from one mmap call (one origin): adjacent
 * mappings may be separate kernel VMAs, and a range handed out again must be
 * one VMA, as a fresh mapping is (mremap of it would fail otherwise). The
 * origin goes to *origin (0 when several). Returns 0, or -1 with nothing changed. */
int mv_reg_hold(uintptr_t a, uintptr_t b, unsigned owner, enum mv_reg_class cls, uint32_t *origin);
/* HELD(owner) -> LIVE when all of [a, b) is HELD(owner) and of class cls
 * (recyclable: of one origin). Returns 0, or -1 with nothing changed. */
int mv_reg_claim(uintptr_t a, uintptr_t b, unsigned owner, enum mv_reg_class cls);
/* Whether all of [a, b) is HELD(owner). */
int mv_reg_held_all(uintptr_t a, uintptr_t b, unsigned owner);
/* Call fn on each piece of [a, b) HELD(owner), in address order, with the
 * shard lock held (fn may make system calls, nothing else). Returns the count. */
size_t mv_reg_held_pieces(uintptr_t a, uintptr_t b, unsigned owner,
			  void (*fn)(uintptr_t lo, uintptr_t hi, void *arg), void *arg);
/* Forget the parts of [a, b) HELD(owner). */
void mv_reg_unhold(uintptr_t a, uintptr_t b, unsigned owner);
/* Bit mask of the owners holding something in [a, b); 0 (one atomic load per
 * 2 MiB chunk) when nothing is held in those shards. */
uint64_t mv_reg_holders(uintptr_t a, uintptr_t b);

/* Whether all of [a, b) is LIVE, from one mmap call, with one set of flags,
 * protection and advice (so one kernel VMA): 0 with them in *out, or -1.
 * mremap carries them to where the range goes. */
int mv_reg_attrs(uintptr_t a, uintptr_t b, struct mv_reg_entry *out);

/* Entries recorded, and how many of them are HELD. */
void mv_reg_counts(size_t *entries, size_t *held);
/* Bytes of own memory the registry's tree nodes take now, and at most so far. */
size_t mv_reg_bytes(size_t *peak);
/* The entry containing addr. 0, or -1 when addr is unknown. */
int mv_reg_lookup(uintptr_t addr, struct mv_reg_entry *out);
/* Forget everything (tests; a what-if run starting, whatif.h). */
void mv_reg_reset(void);
/* Test hooks. The shard table is set up. Check the invariants (search order,
 * heap order of the priorities, disjoint, inside one slot and its shard,
 * merged, counts): 0, or -1. */
MV_TEST_HOOK int mv_reg_ready(void);
MV_TEST_HOOK int mv_reg_check(void);

/* fork: take every shard lock before, release in both processes after (the
 * child also forgets its MADV_DONTFORK ranges, which it does not have, and
 * marks the others MV_ADV_FORKED). */
void mv_reg_atfork_prepare(void);
void mv_reg_atfork_parent(void);
void mv_reg_atfork_child(void);

#endif
