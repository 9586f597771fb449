/* attrib.h - who purges: sampled call stacks of the program's purges.
 *
 * With attribution:true, one purge call (madvise DONTNEED / FREE / REMOVE /
 * DONTNEED_LOCKED / PAGEOUT, process_madvise with those, munmap) in
 * attribution.every per thread -- or one each time a thread's purged bytes
 * pass attribution.bytes -- is timed and its call stack taken with
 * libunwind's unw_init_local/unw_step, which allocate nothing and take no
 * lock the program may hold (attrib_unwind.c). The sample stands for the calls and bytes
 * (asked for, failed calls included) since the thread's previous sample, so
 * the sums match the totals. Stacks are
 * aggregated in a fixed table (raw mmap, MV_ATTRIB_SLOTS distinct stacks,
 * lock-free); what does not fit is counted as dropped. Symbols are looked
 * up only at report time: dladdr, then libunwind's procedure names (which
 * also read .symtab). The worker thread's own purges (the adaptive
 * controller) are recorded as one site without unwinding.
 *
 * libunwind is loaded with dlopen(RTLD_LOCAL) when attribution is asked
 * for, never linked: libunwind.so.8 exports _Unwind_RaiseException and
 * friends, and linked into a preloaded library it would take over C++
 * exception unwinding from libgcc_s in every program. It is primed in the
 * constructor (caches filled before threads run: unwinders that call
 * dl_iterate_phdr for the first time inside an allocator's lock can
 * deadlock against dlopen). When off, nothing of this is on the hot path. */
#ifndef MADVISOR_ATTRIB_H
#define MADVISOR_ATTRIB_H

#include <stddef.h>
#include <stdint.h>
#include "core/options.h"
#include "core/request.h"
#include "sys/testhook.h"

#define MV_COUNT_ATTRIB 4     /* bit of mv_hot.counting: purge attribution on */
#define MV_ATTRIB_DEPTH 12    /* frames kept per stack */
#define MV_ATTRIB_SLOTS 1024  /* distinct stacks kept */
#define MV_ATTRIB_TOP_MAX 100
#define MV_ATTRIB_SYM 64      /* bytes per symbol or object name */
#define MV_ATTRIB_SHOW MV_ATTRIB_DEPTH /* frames symbolised per site */

/* One sampled call in flight (on the caller's stack). */
struct mv_attrib_sample {
	int n;
	void *pc[MV_ATTRIB_DEPTH];
	uint64_t calls, bytes;    /* what the sample stands for */
	int worker;               /* made by madvisor's worker */
};

/* ---- hot path (handle.c) ----------------------------------------------------- */
/* Whether to sample this call; if so the stack is in *s. */
int mv_attrib_begin(const struct mv_request *q, struct mv_attrib_sample *s);
/* Record a sampled call: its result and time in ticks. */
void mv_attrib_end(struct mv_attrib_sample *s, const struct mv_request *q, long result, uint64_t ticks);
/* Non-zero for a call libunwind makes itself (its caches' mmap and munmap)
 * while this thread unwinds: not the program's, so passed through uncounted.
 * (A signal handler's call at that moment is the program's.) */
int mv_attrib_own(const struct mv_request *q);

/* ---- set-up -------------------------------------------------------------------- */
/* Start attribution if the options ask for it (constructor). Loads and
 * primes libunwind; without it, one line and attribution stays off. */
int mv_attrib_start(const struct mv_options *o, int fd);
/* The fork child starts from an empty table. */
void mv_attrib_atfork_child(void);

/* The unwinder (attrib_unwind.c). */
int mv_unwind_load(char *why, size_t cap);                   /* 0 or -1 */
const void *mv_unwind_code(void);                            /* an address in its code */
int mv_unwind_shared(void);              /* the program uses the same libunwind itself */
int mv_unwind_backtrace(void **pcs, int max);
int mv_unwind_proc_name(uintptr_t pc, char *buf, size_t cap, uintptr_t *off);  /* 0 or -1 */
const char *mv_unwind_library(void);                          /* path loaded */
/* Test hook: replace the unwinder. */
MV_TEST_HOOK void mv_unwind_set(int (*backtrace)(void **, int), int (*proc_name)(uintptr_t, char *, size_t, uintptr_t *));

/* ---- reports ----------------------------------------------------------------- */
struct mv_attrib_frame {
	uintptr_t pc;
	char object[MV_ATTRIB_SYM];   /* base name of the object, "" unknown */
	char symbol[MV_ATTRIB_SYM];   /* function name, "" unknown */
	uintptr_t offset;             /* from the symbol, or from the object's base */
};

struct mv_attrib_site {
	uint64_t samples, calls, bytes, kernel_ns;
	int worker;
	int nframes;
	struct mv_attrib_frame frames[MV_ATTRIB_SHOW];
};

struct mv_attrib_report {
	int enabled;
	uint32_t every;
	uint64_t bytes_every;
	uint64_t samples, dropped_samples, dropped_calls; /* dropped: table full */
	uint64_t total_calls, total_bytes;                  /* what the samples stand for */
	int distinct;                                       /* stacks in the table */
	int nsites;                                         /* shown: top by calls, bytes, kernel time */
	struct mv_attrib_site sites[MV_ATTRIB_TOP_MAX];
	int by_calls[MV_ATTRIB_TOP_MAX], by_bytes[MV_ATTRIB_TOP_MAX], by_time[MV_ATTRIB_TOP_MAX];
	int top;                                            /* entries in each by_* list */
};

/* Aggregate, rank and symbolise (worker or destructor; not on an
 * intercepted call). Returns a static report, or NULL when off. */
const struct mv_attrib_report *mv_attrib_gather(double ticks_per_sec);

#endif
