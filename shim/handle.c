/* handle.c - run one request: choose what to do, do it, count it.
 *
 * An allocator's madvise may be transformed by the policy (policy.h);
 * everything else goes to the kernel unchanged. Each call is timed and
 * counted as the program made it. */
#include "request.h"
#include "kernel.h"
#include "clock.h"
#include "stats.h"
#include "runtime.h"
#include "policy.h"

struct mv_runtime mv_rt = { .counting = 1 };

long mv_handle(const struct mv_request *q)
{
	/* Inside a next function (another preloaded library's mmap, say): a call
	 * arriving now is either that function issuing its own system call
	 * through a wrapped symbol (gperftools' mmap calls syscall(SYS_mmap)),
	 * which is the same logical call, or a signal handler interrupting it,
	 * which is a new call to count. Both go straight to the kernel. */
	int nested = mv_kernel_in_next;
	if (__builtin_expect(nested, 0) && mv_kernel_from_next(q->caller))
		return mv_kernel_raw(q);
	if (!__atomic_load_n(&mv_rt.counting, __ATOMIC_RELAXED))
		return nested ? mv_kernel_raw(q) : mv_kernel_call(q);
	uint64_t t0 = mv_ticks();
	long r;
	if (__builtin_expect(nested, 0))
		r = mv_kernel_raw(q);
	else if (mv_policy_applies(&mv_policy, q))
		r = mv_policy_madvise(&mv_policy, q);
	else
		r = mv_kernel_call(q);
	uint64_t t1 = mv_ticks();
	mv_stats_record(q, r, t1 - t0);
	return r;
}
