/* advice.c - advice transforms: madvise strategies for allocator purges. */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>
#include "core/advice.h"
#include "core/kernel.h"
#include "core/split.h"
#include "sys/outbuf.h"
#include "core/stats.h"

static void refuse(int fd, int strict, const char *key, const char *why)
{
	mv_out_say(fd, 0, strict ? "exiting (strict)" : "allocator purges pass through unchanged", key, ": ", why,
		   NULL);
	if (strict)
		_exit(2);
}

void mv_advice_init(struct mv_advice *p, const struct mv_options *o, const struct mv_allocator_info *a,
		    const struct mv_probe *(*kernel)(void), int fd)
{
	int mode = o->madvise, reclaim = o->pt_reclaim;
	p->active = 0;
	p->madvise_mode = MV_MADVISE_PASSTHROUGH;
	p->pt_reclaim = 0;
	if (mode == MV_MADVISE_PASSTHROUGH && !reclaim)
		return;
	const char *key = mode == MV_MADVISE_FREE_TO_DONTNEED   ? "madvise:free_to_dontneed"
			  : mode == MV_MADVISE_DONTNEED_TO_FREE ? "madvise:dontneed_to_free"
								: "pt_reclaim";
	if (a->kind != MV_ALLOC_JEMALLOC && a->kind != MV_ALLOC_TCMALLOC && a->kind != MV_ALLOC_MIMALLOC) {
		refuse(fd, o->strict, key,
		       a->kind == MV_ALLOC_GLIBC ? "glibc malloc purges inside libc where no preload library sees them"
						 : "no jemalloc, tcmalloc or mimalloc found behind the library");
		return;
	}
	if (a->in_executable || a->text_lo >= a->text_hi) {
		refuse(fd, o->strict, key,
		       "the allocator is linked into the program, so its purges cannot be told from the program's");
		return;
	}
	if (mode == MV_MADVISE_DONTNEED_TO_FREE) {
		if (a->kind == MV_ALLOC_JEMALLOC) {
			refuse(fd, o->strict, key,
			       "jemalloc relies on zero-filled pages after MADV_DONTNEED (calloc skips its memset)");
			mode = MV_MADVISE_PASSTHROUGH;
		} else if (!kernel()->madv_free) {
			refuse(fd, o->strict, key, "this kernel has no MADV_FREE");
			mode = MV_MADVISE_PASSTHROUGH;
		}
	}
	if (reclaim && !kernel()->pt_reclaim) {
		refuse(fd, o->strict, "pt_reclaim",
		       "this kernel does not free page tables on MADV_DONTNEED (PT_RECLAIM, Linux 6.14+ on x86_64)");
		reclaim = 0;
	}
	p->madvise_mode = mode;
	p->pt_reclaim = reclaim;
	p->alloc_lo = a->text_lo;
	p->alloc_hi = a->text_hi;
	p->active = mode != MV_MADVISE_PASSTHROUGH || reclaim;
}

static long advise(void *addr, size_t len, int advice)
{
	struct mv_request q = { .kind = MV_MADVISE, .addr = addr, .len = len, .advice = advice };
	mv_stats_policy(MV_POL_KERNEL_CALLS, 1);
	return mv_kernel_call(&q);
}

/* Fold one part's result into the call's: the kernel goes on past unmapped
 * holes and reports ENOMEM at the end, and stops at any other error. */
static int fold(long r, long *result)
{
	if (r == -ENOMEM) {
		if (*result == 0)
			*result = r;
		return 0;
	}
	if (r < 0) {
		*result = r;
		return -1;
	}
	return 0;
}

long mv_advice_madvise(const struct mv_advice *p, const struct mv_request *q)
{
	struct mv_split s;
	long result = 0;
	mv_split_purge((uintptr_t)q->addr, q->len, q->advice, p->madvise_mode, p->pt_reclaim, &s);
	if (!s.n)
		return mv_kernel_call(q);
	if (s.core >= 0) {
		mv_stats_policy(MV_POL_CORES, 1);
		mv_stats_policy(MV_POL_CORE_BYTES, s.part[s.core].len);
	}
	if (s.converted)
		mv_stats_policy(MV_POL_CONVERTED, 1);
	for (int i = 0; i < s.n; i++)
		if (fold(advise((void *)s.part[i].addr, s.part[i].len, s.part[i].advice), &result) < 0)
			break;
	return result;
}
