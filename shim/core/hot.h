/* hot.h - the few globals every intercepted call reads, kept in one cache
 * line so that a call touches as few pages as possible (a purge flushes the
 * TLB; every page touched around it then costs a page walk). Written at
 * start-up and in the fork child, read without locks. */
#ifndef MADVISOR_HOT_H
#define MADVISOR_HOT_H

#include "core/advice.h"

struct mv_hot {
	int counting;          /* count each call: a report was asked for */
	int have_next;         /* a next function is installed (kernel.c) */
	unsigned time_mask;    /* time one call in time_mask + 1 of each row (stats.c) */
	struct mv_advice advice;
};

extern struct mv_hot mv_hot;

#endif
