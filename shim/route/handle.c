/* handle.c - run one request through the features that are on (handle.h).
 *
 * The bits of mv_hot.route (hot.h) say which: an allocator's madvise may be
 * transformed by the advice transforms (advice.h), a munmap strategy may take the
 * call (munmap.h), the page-table model and the trace see it (ptmodel/hook.h,
 * trace.h), attribution samples it (attrib.h); each call is counted and timed
 * as the program made it. Range calls (mlock, msync, ...) only meet the munmap
 * strategy. Everything else goes to the kernel unchanged (kernel.h). */
#include "route/handle.h"
#include "sys/clock.h"
#include "core/stats.h"
#include "core/runtime.h"
#include "munmap/munmap.h"
#include "ptmodel/hook.h"
#include "core/trace.h"
#include "observe/attrib.h"

/* Straight to the kernel, out of line: the routed path keeps one copy of the
 * dispatch so that it stays within as few code pages as possible. */
__attribute__((cold, noinline)) static long raw(const struct mv_request *q)
{
	return mv_kernel_raw(q);
}

/* The kernel (through the next function, if any), or the advice transforms for
 * an allocator's purge. */
static inline __attribute__((always_inline)) long dispatch(const struct mv_request *q, int nested, unsigned route)
{
	if (__builtin_expect(nested, 0))
		return raw(q);
	if (mv_advice_applies(&mv_hot.advice, q))
		return mv_advice_madvise(&mv_hot.advice, q);
	if (__builtin_expect(route & MV_ROUTE_NEXT, 0))
		return mv_kernel_call_next(q);
	return mv_kernel_raw(q);
}

/* Off the common path (MV_ROUTE_MUNMAP may be set): a munmap strategy, when
 * on, takes every call. */
static inline __attribute__((always_inline)) long dispatch_all(const struct mv_request *q, int nested,
								unsigned route)
{
	if (!nested && (route & MV_ROUTE_MUNMAP))
		return mv_munmap_dispatch(q);
	return dispatch(q, nested, route);
}

/* The call, counted (and one in time_every timed) with MV_ROUTE_COUNT; `all`
 * routes through the munmap strategy as well. */
static inline __attribute__((always_inline)) long counted(const struct mv_request *q, int nested, unsigned route,
							   int all)
{
	if (!(route & MV_ROUTE_COUNT))
		return all ? dispatch_all(q, nested, route) : dispatch(q, nested, route);
	int timed;
	struct mv_stat_row *row = mv_stats_begin(q, &timed);
	uint64_t t0 = timed ? mv_ticks() : 0;
	long r = all ? dispatch_all(q, nested, route) : dispatch(q, nested, route);
	mv_stats_end(row, q, r, timed ? mv_ticks() - t0 : 0, timed);
	return r;
}

/* With the page-table model (ptmodel/hook.h) or the trace (trace.h) on: the
 * call between the model's hooks, recorded, counted when a report is asked for. */
__attribute__((cold, noinline)) static long modelled(const struct mv_request *q, int nested, unsigned route)
{
	int model = mv_ptm_ready();
	int excl = model ? mv_ptm_before(q) : 0;
	long r = counted(q, nested, route, 1);
	if (model)
		mv_ptm_after(q, r, excl);
	/* The allocator's calls, whatever the transforms in force: replay may try others. */
	const struct mv_allocator_info *a = &mv_rt.allocator;
	mv_trace_call(q, r, !a->in_executable && (uintptr_t)q->caller - a->text_lo < a->text_hi - a->text_lo);
	return r;
}

/* With purge attribution on (attrib.h): a sampled purge is timed and its
 * stack recorded around the usual path; every call is counted. */
__attribute__((cold, noinline)) static long attributed(const struct mv_request *q, int nested, unsigned route)
{
	struct mv_attrib_sample s;
	if (__builtin_expect(mv_attrib_own(q), 0)) /* libunwind's own call */
		return raw(q);
	int sampled = mv_attrib_begin(q, &s);
	uint64_t t0 = sampled ? mv_ticks() : 0;
	long r = route & MV_ROUTE_MODEL ? modelled(q, nested, route) : counted(q, nested, route | MV_ROUTE_COUNT, 1);
	if (sampled)
		mv_attrib_end(&s, q, r, mv_ticks() - t0);
	return r;
}

/* Inside a next function (another preloaded library's mmap, say), a call
 * arriving now is either that function issuing its own system call through a
 * wrapped symbol (gperftools' mmap calls syscall(SYS_mmap)), which is the
 * same logical call (1: straight to the kernel, uncounted), or a signal
 * handler interrupting it, which is a new call to count (*nested set: it goes
 * to the kernel too). */
static inline __attribute__((always_inline)) int own_call_of_next(const struct mv_request *q, unsigned route,
								  int *nested)
{
	*nested = (route & MV_ROUTE_NEXT) && mv_kernel_in_next;
	return __builtin_expect(*nested, 0) && mv_kernel_from_next(q->caller);
}

/* Counting or advice with a next function: the common path with gperftools. */
__attribute__((noinline)) static long with_next(const struct mv_request *q, unsigned route)
{
	int nested;
	route |= MV_ROUTE_NEXT; /* set: tells the compiler */
	if (own_call_of_next(q, route, &nested))
		return raw(q);
	return counted(q, nested, route, 0);
}

/* The features off the common path: a munmap strategy, the page-table model
 * or the trace, attribution. A range call comes with MV_ROUTE_MUNMAP only
 * (mv_route): the strategy must see it (it must find the ranges held gone,
 * and its marks keep a range out of recycling), uncounted. */
__attribute__((noinline)) static long featured(const struct mv_request *q, unsigned route)
{
	int nested;
	if (own_call_of_next(q, route, &nested))
		return raw(q);
	if (route & MV_ROUTE_ATTRIB)
		return attributed(q, nested, route);
	if (route & MV_ROUTE_MODEL)
		return modelled(q, nested, route);
	return counted(q, nested, route, 1);
}

long mv_route_other(const struct mv_request *q, unsigned route)
{
	/* Only a next function (gperftools' default): through it, or, for a
	 * call made from inside it, to the kernel. */
	if (route == MV_ROUTE_NEXT)
		return __builtin_expect(mv_kernel_in_next, 0) ? raw(q) : mv_kernel_call_next(q);
	if (!(route & ~(MV_ROUTE_COMMON | MV_ROUTE_NEXT)))
		return with_next(q, route);
	return featured(q, route);
}

/* Counting and advice only: the common path when a report is asked for. */
__attribute__((hot)) long mv_route_common(const struct mv_request *q, unsigned route)
{
	return counted(q, 0, route, 0);
}

long mv_handle(const struct mv_request *q)
{
	unsigned route = mv_route(q->kind);
	if (!route)
		return raw(q);
	return route & ~MV_ROUTE_COMMON ? mv_route_other(q, route) : mv_route_common(q, route);
}

void mv_handle_set_next(const struct mv_next *n)
{
	if (mv_kernel_set_next(n))
		__atomic_fetch_or(&mv_hot.route, MV_ROUTE_NEXT, __ATOMIC_RELEASE);
	else
		__atomic_fetch_and(&mv_hot.route, ~(unsigned)MV_ROUTE_NEXT, __ATOMIC_RELEASE);
}
