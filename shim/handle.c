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
#include "hot.h"

struct mv_runtime mv_rt;
__attribute__((aligned(64))) struct mv_hot mv_hot = { .counting = 1, .time_mask = 15 };

/* Straight to the kernel, out of line: the hot path keeps one copy of the
 * dispatch so that it stays within as few code pages as possible. */
__attribute__((cold, noinline)) static long raw(const struct mv_request *q)
{
	return mv_kernel_raw(q);
}

/* The strategy for a request: the policy for an allocator's purge, the
 * kernel for everything else. */
static inline long dispatch(const struct mv_request *q, int nested)
{
	if (__builtin_expect(nested, 0))
		return raw(q);
	if (mv_policy_applies(&mv_hot.policy, q))
		return mv_policy_madvise(&mv_hot.policy, q);
	return mv_kernel_call(q);
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
	if (!__atomic_load_n(&mv_hot.counting, __ATOMIC_RELAXED))
		return dispatch(q, nested);
	int timed;
	struct mv_stat_row *row = mv_stats_begin(q, &timed);
	uint64_t t0 = timed ? mv_ticks() : 0;
	long r = dispatch(q, nested);
	mv_stats_end(row, q, r, timed ? mv_ticks() - t0 : 0, timed);
	return r;
}
