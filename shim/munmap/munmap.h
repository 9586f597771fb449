/* munmap.h - munmap strategies: recycle mappings, or defer and batch munmap.
 *
 * munmap is the one purge that may be postponed or recycled: the program has
 * given the range up. With `munmap:recycle`, private anonymous read-write
 * ranges the program unmaps are kept (mapcache.h) and served to later
 * mmap(NULL, len, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0)
 * calls, zeroed (zero.h). With `munmap:defer`, munmap of a known private
 * anonymous range returns 0 at once and the range is unmapped later,
 * coalesced with its neighbours (with munmap_zap_first its pages are dropped
 * at once with MADV_DONTNEED, so only the short unmap waits).
 *
 * What the program sees stays exact: every call that touches a held range
 * (MAP_FIXED, MAP_FIXED_NOREPLACE or a hint, mremap, mprotect, madvise,
 * posix_madvise, process_madvise, munmap) first unmaps it for real, so it
 * behaves as if the range were gone; so do the range calls mlock, munlock,
 * msync, mincore, mseal and pkey_mprotect (request.h), whose marks (locked,
 * sealed, protection key) keep a range out of recycling since a fresh mapping
 * would not carry them, and mlockall stops holding anything until
 * munlockall. Known differences: a stray access to a held range does not
 * fault; /proc/self/maps still lists it; mappings changed behind the library's
 * back (raw system calls, userfaultfd registration) are not noticed. Off by
 * default; only profiles or the `munmap` key turn it on. `munmap.callers`
 * limits a strategy to the allocator's calls or to the program's own.
 *
 * mv_handle() (route/handle.c) sends every request here, range calls too,
 * while MV_ROUTE_MUNMAP (hot.h) is set. */
#ifndef MADVISOR_MUNMAP_H
#define MADVISOR_MUNMAP_H

#include <stdint.h>
#include "core/request.h"
#include "core/options.h"
#include "sys/testhook.h"

/* Values of the `munmap` key. */
enum mv_munmap_mode { MV_MUNMAP_PASSTHROUGH, MV_MUNMAP_RECYCLE, MV_MUNMAP_DEFER };

/* Set up the strategy the options ask for (the "munmap" feature's start,
 * route/features.c): registry, arenas, the worker task. On failure prints one
 * line on fd and stays passthrough (strict: exits 2). Returns the mode in
 * force. The router then sets MV_ROUTE_MUNMAP and adds the task. */
int mv_munmap_start(const struct mv_options *o, int fd);
/* Ages what is held and watches memory pressure. */
struct mv_task;
extern struct mv_task mv_munmap_worker_task;
/* fork: every lock taken before, released after; the child gives back at
 * once what it inherited. */
void mv_munmap_atfork_prepare(void);
void mv_munmap_atfork_parent(void);
void mv_munmap_atfork_child(void);
/* Run one request (a range call too) under the strategy. */
long mv_munmap_dispatch(const struct mv_request *q);
/* The worker's periodic work: age, memory pressure. now_ns: the coarse
 * monotonic clock (mv_mc_now), 0 = now (tests pass a later time). */
void mv_munmap_tick(uint64_t now_ns);
const char *mv_munmap_mode_name(int mode);

/* For pt_reclaim's fresh cores (advice.h, mv_plain_vma_fn): whether the
 * registry vouches that [lo, hi) is one plain private anonymous read-write
 * mapping a fresh one re-merges with: recorded from one mmap call, live, no
 * advice, lock, seal or protection key on it, not moved by mremap nor
 * inherited across fork, no mlockall in force, and no userfaultfd made by the
 * program (mv_munmap_note_userfaultfd: a registration is not seen). A
 * strategy must be on (the registry kept up to date). */
int mv_munmap_plain_vma(uintptr_t lo, uintptr_t hi, int *flags);
void mv_munmap_note_userfaultfd(void);

/* The report's "munmap" member (JSON, through the emitter) and text line;
 * nothing when no strategy is on (no text line when it did nothing). */
struct mv_outbuf;
struct mv_emit;
void mv_munmap_report_json(struct mv_emit *e);
void mv_munmap_report_text(struct mv_outbuf *o);
/* The same figures for a report that formats them itself (Prometheus):
 * fn(arg, name, value) for each counter, named as in the JSON object, and
 * *held_bytes. Returns the mode in force; with none (0), fn is not called. */
int mv_munmap_figures(void (*fn)(void *arg, const char *name, uint64_t value), void *arg, uint64_t *held_bytes);

/* Test hooks, after mv_munmap_start. Give every held range back now. */
MV_TEST_HOOK void mv_munmap_drain(void);
/* Switch strategy (everything held is given back first; passthrough takes
 * the library's calls off this file). */
MV_TEST_HOOK void mv_munmap_set_mode(int mode);
/* Zap first or not; keep a recycled range's pages resident or not
 * (munmap.recycle_resident); whose calls a strategy takes (enum
 * mv_munmap_callers); the largest recycled range cleared with memset; read
 * memory pressure from another file. */
MV_TEST_HOOK void mv_munmap_set_zap_first(int on);
MV_TEST_HOOK void mv_munmap_set_recycle_resident(int on);
MV_TEST_HOOK void mv_munmap_set_callers(int callers);
MV_TEST_HOOK void mv_munmap_set_zero_max(uint64_t bytes);
MV_TEST_HOOK void mv_munmap_set_psi_path(const char *path);

#endif
