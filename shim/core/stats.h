/* stats.h - what madvisor saw: per call kind and advice, merged at report time.
 *
 * Each thread owns a slot it updates without atomic read-modify-writes; the
 * reporter sums all slots. Threads that cannot own a slot (before the library
 * is initialised, inside a signal handler that interrupted slot setup, after
 * thread exit) add to a shared slot with atomic operations. */
#ifndef MADVISOR_STATS_H
#define MADVISOR_STATS_H

#include <stdint.h>
#include <stddef.h>
#include "core/request.h"
#include "sys/testhook.h"

#define MV_HIST_BUCKETS 40          /* log2(bytes) from <4 KiB up to >= 2^50 */
#define MV_MADV_ROWS 32             /* advice values tracked one by one */

/* Row layout: one row per (kind, advice) or (kind, mapping type). */
enum {
	MV_ROW_MADVISE = 0,                              /* + advice row */
	MV_ROW_PROCESS_MADVISE = MV_ROW_MADVISE + MV_MADV_ROWS, /* + advice row */
	MV_ROW_POSIX_MADVISE = MV_ROW_PROCESS_MADVISE + MV_MADV_ROWS, /* + 0..4 */
	MV_ROW_MUNMAP = MV_ROW_POSIX_MADVISE + 5,
	MV_ROW_MMAP_ANON_PRIVATE,
	MV_ROW_MMAP_ANON_SHARED,
	MV_ROW_MMAP_FILE,
	MV_ROW_MREMAP,
	MV_ROW_MPROTECT,
	MV_ROW_COUNT
};

struct mv_stat_row {
	uint64_t calls;
	uint64_t errors;
	uint64_t ranges;     /* ranges advised by successful calls (iovec entries for process_madvise) */
	uint64_t bytes;      /* bytes asked for by successful calls (mremap: old length) */
	uint64_t ticks;      /* time inside the timed calls, in clock ticks */
	uint64_t timed;      /* calls that were timed (one in mv_stats_time_every) */
	uint64_t pmd_calls;  /* ranges covering a whole aligned 2 MiB region */
	uint64_t hist[MV_HIST_BUCKETS];
};

/* What the policy did to the program's calls. */
enum mv_pol_counter {
	MV_POL_KERNEL_CALLS, /* system calls the policy issued for transformed calls */
	MV_POL_CONVERTED,    /* calls sent with other advice (FREE <-> DONTNEED) */
	MV_POL_CORES,        /* calls split so whole 2 MiB regions went as one DONTNEED */
	MV_POL_CORE_BYTES,   /* bytes in those cores */
	MV_POL_REMAPPED,     /* cores replaced with a fresh mapping (kernels without PT_RECLAIM) */
	MV_POL_COUNT
};

struct mv_stats {
	struct mv_stat_row row[MV_ROW_COUNT];
	uint64_t policy[MV_POL_COUNT];
};

/* Row index for an advice value of madvise/process_madvise (0..MV_MADV_ROWS-1). */
int mv_stats_advice_row(int advice);
/* Advice value a row stands for, or -1 for the "other" row. */
int mv_stats_row_advice(int row);
/* Test hook: the row for a request. */
MV_TEST_HOOK int mv_stats_row(const struct mv_request *req);
/* Histogram bucket for a byte count. */
int mv_stats_bucket(size_t bytes);
/* Lower bound in bytes of a histogram bucket. */
uint64_t mv_stats_bucket_floor(int bucket);
/* Printable names. */
const char *mv_stats_row_kind(int row);    /* "madvise", "munmap", ... */
const char *mv_stats_row_detail(int row);  /* "MADV_DONTNEED", "anon-private", ... */

/* ---- hot path ---------------------------------------------------------------
 * mv_stats_begin counts a call before it is made and says whether to time
 * it; mv_stats_end adds the time of a timed call and corrects a failed one.
 * Counting before the call keeps the counters' page out of the path after
 * it: a purge flushes the TLB, and every page touched afterwards costs a
 * page walk. One call in mv_stats_time_every of each row is timed (the first
 * of each row always); kernel time is estimated from those. */
struct mv_stat_row *mv_stats_begin(const struct mv_request *req, int *timed);
void mv_stats_end(struct mv_stat_row *row, const struct mv_request *req, long result, uint64_t ticks, int timed);
/* Time one call in n (rounded down to a power of two; 1 = every call). */
void mv_stats_set_time_every(unsigned n);

/* Test hook: record one completed, timed call (begin + end). */
MV_TEST_HOOK void mv_stats_record(const struct mv_request *req, long result, uint64_t ticks);

/* Add v to a policy counter. */
void mv_stats_policy(int counter, uint64_t v);
/* JSON/text name of a policy counter. */
const char *mv_stats_policy_name(int counter);

/* Sum every slot into out. Safe while other threads record. */
void mv_stats_merge(struct mv_stats *out);
/* Called in the fork child: slots of threads that do not exist there are freed. */
void mv_stats_atfork_child(void);
/* Enable per-thread slots (needs pthread keys: call from the constructor). */
void mv_stats_init_threads(void);


#endif
