/* handle.c - run one request: choose what to do, do it, count it.
 *
 * The foundation policy is exact passthrough: the request goes to the kernel
 * unchanged and the call is timed and counted. */
#include "request.h"
#include "kernel.h"
#include "clock.h"
#include "stats.h"
#include "runtime.h"

struct mv_runtime mv_rt = { .counting = 1 };

long mv_handle(const struct mv_request *q)
{
	/* Back in the library from a next function: same logical call. */
	if (__builtin_expect(mv_kernel_in_next, 0))
		return mv_kernel_raw(q);
	if (!__atomic_load_n(&mv_rt.counting, __ATOMIC_RELAXED))
		return mv_kernel_call(q);
	uint64_t t0 = mv_ticks();
	long r = mv_kernel_call(q);
	uint64_t t1 = mv_ticks();
	mv_stats_record(q, r, t1 - t0);
	return r;
}
