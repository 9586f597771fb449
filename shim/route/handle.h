/* handle.h - run one request: the entry point from the interposer.
 *
 * With no bit of mv_hot.route set (the default: no report, no strategy, no
 * next function) the request goes straight to the kernel, inlined into the
 * wrapper so that the default path costs a load and a branch; otherwise
 * handle.c passes it through the features that are on. */
#ifndef MADVISOR_HANDLE_H
#define MADVISOR_HANDLE_H

#include "core/request.h"
#include "core/hot.h"
#include "core/kernel.h"

/* Run one request. Returns what the kernel would: the result (address, byte
 * count or 0) or a negative errno. Never allocates, never takes a global
 * lock, safe from signal handlers and before constructors. */
long mv_handle(const struct mv_request *q);

/* The same, inlined into a wrapper: route is mv_route(kind), read before
 * the request is built (an atomic load after it would make the compiler keep
 * the request in memory and switch on its kind at run time). Range calls are
 * not counted, traced or modelled: only a munmap strategy routes them. */
static inline __attribute__((always_inline)) unsigned mv_route(enum mv_kind kind)
{
	unsigned route = __atomic_load_n(&mv_hot.route, __ATOMIC_RELAXED);
	return kind >= MV_FIRST_RANGE_CALL ? route & MV_ROUTE_MUNMAP : route;
}

/* The bits of the common path with a report: counting, advice transforms. */
#define MV_ROUTE_COMMON (MV_ROUTE_COUNT | MV_ROUTE_ADVICE)
/* Only MV_ROUTE_COMMON bits set; any other (handle.c). */
long mv_route_common(const struct mv_request *q, unsigned route);
long mv_route_other(const struct mv_request *q, unsigned route);

static inline __attribute__((always_inline)) long mv_handle_inline(const struct mv_request *q, unsigned route)
{
	if (__builtin_expect(!route, 1))
		return mv_kernel_raw(q);
	if (__builtin_expect(route & ~MV_ROUTE_COMMON, 0))
		return mv_route_other(q, route);
	return mv_route_common(q, route);
}

/* Install next functions (kernel.h) and route calls accordingly. */
void mv_handle_set_next(const struct mv_next *next);

#endif
