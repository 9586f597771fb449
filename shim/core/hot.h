/* hot.h - the few globals every intercepted call reads, kept in one cache
 * line so that a call touches as few pages as possible (a purge flushes the
 * TLB; every page touched around it then costs a page walk). Written at
 * start-up and in the fork child, read without locks. */
#ifndef MADVISOR_HOT_H
#define MADVISOR_HOT_H

#include "core/advice.h"

/* Bits of mv_hot.route: what a call must pass through besides the kernel.
 * With none set (the default: no report, no strategy) mv_handle() sends the
 * call straight to the kernel (route/handle.h). Each feature that is on sets
 * its bits (route/features.c); the router reads them once per call. */
enum mv_route_bit {
	MV_ROUTE_COUNT = 1,   /* count and time each call (stats.c): a report or live stats show it */
	MV_ROUTE_MODEL = 2,   /* the page-table model's hooks (ptmodel/hook.h) and the call trace (trace.h) */
	MV_ROUTE_ATTRIB = 4,  /* purge attribution (attrib.h) */
	MV_ROUTE_MUNMAP = 8,  /* a munmap strategy takes every call, range calls too (munmap.h) */
	MV_ROUTE_ADVICE = 16, /* advice transforms apply to the allocator's purges (advice.h) */
	MV_ROUTE_NEXT = 32,   /* a next function is installed (kernel.h) */
};

struct mv_hot {
	unsigned route;        /* enum mv_route_bit; calls before the constructor are counted */
	unsigned time_mask;    /* time one call in time_mask + 1 of each row (stats.c) */
	struct mv_advice advice;
};

extern struct mv_hot mv_hot;

#endif
