/* mapcache.h - ranges the program unmapped that madvisor keeps mapped for now.
 *
 * Recycling caches them and hands them out again; deferral queues them and
 * unmaps them later in coalesced calls. Either way they live in arenas: a
 * thread uses one arena (threads are spread round-robin over MV_ARENAS), so
 * the common path takes one uncontended lock. The registry (registry.h) is
 * the authority on what is held: a range is HELD(k) there exactly while arena
 * k may hand it out or unmap it; an arena's list may hold stale pieces, which
 * are dropped, never unmapped. Lock order: arenas by index, then registry
 * shards. Memory from raw mmap only. */
#ifndef MADVISOR_MAPCACHE_H
#define MADVISOR_MAPCACHE_H

#include <stddef.h>
#include <stdint.h>
#include "sys/lock.h"

#define MV_ARENAS 64

/* What the strategies did (summed over arenas for reports). */
enum mv_mc_counter {
	MV_MC_CACHED,          /* munmaps kept for recycling */
	MV_MC_RECYCLED,        /* mmaps served from the cache */
	MV_MC_RECYCLED_BYTES,
	MV_MC_MISSES,          /* servable mmaps the cache could not serve */
	MV_MC_DEFERRED,        /* munmaps queued */
	MV_MC_DEFERRED_BYTES,
	MV_MC_PASSED,          /* munmaps passed through while a strategy was on */
	MV_MC_UNMAP_CALLS,     /* munmap system calls issued for held ranges */
	MV_MC_RELEASED_BYTES,  /* held bytes given back to the kernel */
	MV_MC_ZAP_CALLS,       /* MADV_DONTNEED / process_madvise calls on held ranges */
	MV_MC_RESOLVED,        /* program calls that overlapped held ranges (resolved first) */
	MV_MC_AGED,            /* entries released by age */
	MV_MC_EVICTED,         /* entries released to stay within the limits */
	MV_MC_DRAINS,          /* full drains (limits, pressure, out of memory) */
	MV_MC_PRESSURE,        /* drains caused by memory pressure */
	MV_MC_ZERO_MEMSET,     /* hand-outs zeroed with memset */
	MV_MC_ZERO_PAGEMAP,    /* hand-outs zeroed guided by /proc/self/pagemap */
	MV_MC_ZERO_DONTNEED,   /* hand-outs (mostly empty) dropped with one MADV_DONTNEED */
	MV_MC_COUNT
};

struct mv_held {
	uintptr_t start, end;
	uint64_t t_ns;         /* when it was (last) given up: CLOCK_MONOTONIC_COARSE */
	uint32_t zapped;       /* pages already dropped (MADV_DONTNEED) */
	uint32_t origin;       /* registry origin: only equal origins merge (one kernel VMA) */
	uint32_t flags;        /* MAP_NORESERVE or 0: served only to requests with the same */
};

struct mv_arena {
	mv_lock_t lock;
	uint32_t n;
	uint32_t ops;          /* puts since the last age check */
	uint64_t bytes;
	uint64_t last_age_ns;
	uint64_t count[MV_MC_COUNT];
	struct mv_held *e;     /* cap entries */
} __attribute__((aligned(64)));

/* Set up MV_ARENAS arenas of `cap` entries (raw mmap). 0 or -1. */
int mv_mc_init(uint32_t cap, int pidfd_self);
int mv_mc_ready(void);
/* Forget everything held and every count (a what-if run starting,
 * whatif.h); with another entries, the tables go (mv_mc_init again). */
void mv_mc_reset(uint32_t entries);
/* True once the kernel refused to unmap a held range (said on stderr): the
 * strategy takes no more ranges. */
int mv_mc_unmap_failed(void);
/* The calling thread's arena index. */
unsigned mv_mc_mine(void);
struct mv_arena *mv_mc_arena(unsigned k);
uint32_t mv_mc_cap(void);
/* Bytes held over all arenas. */
uint64_t mv_mc_bytes(void);

/* ---- with arena k's lock held ------------------------------------------- */
/* Add [s, e) (already HELD(k) in the registry), merging with neighbours of
 * the same origin. */
void mv_mc_insert(unsigned k, uintptr_t s, uintptr_t e, uint64_t now, int zapped, uint32_t origin,
		  uint32_t flags);
/* Best fit for n bytes mapped with these flags: smallest entry >= n, the
 * most recent among equals; -1. */
int mv_mc_best_fit(unsigned k, size_t n, uint32_t flags);
/* Drop the first n bytes of entry i from the list (handed out). */
void mv_mc_take_front(unsigned k, int i, size_t n);
/* Release entry i / the oldest entry / entries given up before cutoff. */
uint64_t mv_mc_release_entry(unsigned k, int i);
uint64_t mv_mc_release_oldest(unsigned k);
uint64_t mv_mc_release_older(unsigned k, uint64_t cutoff_ns);

/* ---- no lock held ---------------------------------------------------------- */
/* Make the program's view exact for [s, e): unmap every held piece in it.
 * Returns 1 when something was held there. */
int mv_mc_resolve(uintptr_t s, uintptr_t e);
/* Unmap everything held, coalescing adjacent ranges across arenas into one
 * munmap each (zapping unzapped ranges first in one process_madvise). */
void mv_mc_drain(void);
/* Oldest t_ns over all arenas (UINT64_MAX when nothing is held). */
uint64_t mv_mc_oldest(void);
/* Add v to counter c of arena a, whose lock is held (reports read the
 * counters without it, atomically). */
#define MV_MC_BUMP(a, c, v) \
	__atomic_store_n(&(a)->count[c], __atomic_load_n(&(a)->count[c], __ATOMIC_RELAXED) + (v), __ATOMIC_RELAXED)

/* Sum of the counters. */
void mv_mc_counters(uint64_t out[MV_MC_COUNT]);
/* Bump a counter of arena k (lock held) or, with k < 0, atomically. */
void mv_mc_count(int k, int counter, uint64_t v);

/* fork: all arena locks before, released in both processes after. */
void mv_mc_atfork_prepare(void);
void mv_mc_atfork_parent(void);
void mv_mc_atfork_child(void);

/* CLOCK_MONOTONIC_COARSE in ns (vDSO; a few ns). */
uint64_t mv_mc_now(void);

#endif
