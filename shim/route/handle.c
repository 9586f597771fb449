/* handle.c - run one request: choose what to do, do it, count it.
 *
 * An allocator's madvise may be transformed (core/advice.h);
 * everything else goes to the kernel unchanged. Each call is timed and
 * counted as the program made it. */
#include "core/request.h"
#include "core/kernel.h"
#include "sys/clock.h"
#include "core/stats.h"
#include "core/runtime.h"
#include "core/hot.h"
#include "munmap/munmap.h"
#include "ptmodel/hook.h"
#include "core/trace.h"
#include "observe/attrib.h"

/* Straight to the kernel, out of line: the hot path keeps one copy of the
 * dispatch so that it stays within as few code pages as possible. */
__attribute__((cold, noinline)) static long raw(const struct mv_request *q)
{
	return mv_kernel_raw(q);
}

/* The strategy for a request: the advice transforms for an allocator's purge, the
 * kernel for everything else. */
static inline __attribute__((always_inline)) long dispatch(const struct mv_request *q, int nested)
{
	if (__builtin_expect(nested, 0))
		return raw(q);
	if (mv_advice_applies(&mv_hot.advice, q))
		return mv_advice_madvise(&mv_hot.advice, q);
	return mv_kernel_call(q);
}

/* Off the default path (a bit of mv_hot.counting is set): a munmap strategy
 * (munmap.h), when on, takes every call. */
static inline long dispatch_all(const struct mv_request *q, int nested)
{
	if (!nested && (__atomic_load_n(&mv_hot.counting, __ATOMIC_RELAXED) & MV_COUNT_MUNMAP))
		return mv_munmap_dispatch(q);
	return dispatch(q, nested);
}

/* The call, counted (and one in time_every timed) when count is set; `all`
 * routes through the munmap strategy as well. */
static inline __attribute__((always_inline)) long counted(const struct mv_request *q, int nested, int count,
							   int all)
{
	if (!count)
		return all ? dispatch_all(q, nested) : dispatch(q, nested);
	int timed;
	struct mv_stat_row *row = mv_stats_begin(q, &timed);
	uint64_t t0 = timed ? mv_ticks() : 0;
	long r = all ? dispatch_all(q, nested) : dispatch(q, nested);
	mv_stats_end(row, q, r, timed ? mv_ticks() - t0 : 0, timed);
	return r;
}

__attribute__((cold, noinline)) static long munmapped(const struct mv_request *q, int nested, int count)
{
	return counted(q, nested, count, 1);
}

/* With the page-table model (ptmodel/hook.h) or the trace (trace.h) on: the
 * call between the model's hooks, recorded, counted when a report is asked for. */
__attribute__((cold, noinline)) static long modelled(const struct mv_request *q, int nested, int count)
{
	int model = mv_ptm_ready();
	int excl = model ? mv_ptm_before(q) : 0;
	long r = counted(q, nested, count, 1);
	if (model)
		mv_ptm_after(q, r, excl);
	/* The allocator's calls, whatever the transforms in force: replay may try others. */
	const struct mv_allocator_info *a = &mv_rt.allocator;
	mv_trace_call(q, r, !a->in_executable && (uintptr_t)q->caller - a->text_lo < a->text_hi - a->text_lo);
	return r;
}

/* With purge attribution on (attrib.h): a sampled purge is timed and its
 * stack recorded around the usual path. */
__attribute__((cold, noinline)) static long attributed(const struct mv_request *q, int nested, int counting)
{
	struct mv_attrib_sample s;
	if (__builtin_expect(mv_attrib_own(q), 0)) /* libunwind's own call */
		return raw(q);
	int sampled = mv_attrib_begin(q, &s);
	uint64_t t0 = sampled ? mv_ticks() : 0;
	long r = counting & MV_COUNT_MODEL ? modelled(q, nested, counting & 1) : counted(q, nested, 1, 1);
	if (sampled)
		mv_attrib_end(&s, q, r, mv_ticks() - t0);
	return r;
}

__attribute__((hot)) long mv_handle(const struct mv_request *q)
{
	/* Inside a next function (another preloaded library's mmap, say): a call
	 * arriving now is either that function issuing its own system call
	 * through a wrapped symbol (gperftools' mmap calls syscall(SYS_mmap)),
	 * which is the same logical call, or a signal handler interrupting it,
	 * which is a new call to count. Both go straight to the kernel. */
	int nested = __builtin_expect(mv_hot.have_next, 0) && mv_kernel_in_next;
	if (__builtin_expect(nested, 0) && mv_kernel_from_next(q->caller))
		return raw(q);
	int counting = __atomic_load_n(&mv_hot.counting, __ATOMIC_RELAXED);
	if (!counting)
		return dispatch(q, nested);
	if (__builtin_expect(counting & ~1, 0)) /* page-table model, purge attribution */
		return counting & MV_COUNT_ATTRIB  ? attributed(q, nested, counting)
		       : counting & MV_COUNT_MODEL ? modelled(q, nested, counting & 1)
						   : munmapped(q, nested, counting & 1);
	return counted(q, nested, 1, 0);
}
