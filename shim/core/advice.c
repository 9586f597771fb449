/* advice.c - advice transforms: madvise strategies for MADV_FREE and MADV_DONTNEED calls (advice.h). */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>
#include "core/advice.h"
#include "core/kernel.h"
#include "core/split.h"
#include "sys/outbuf.h"
#include "core/stats.h"
#include "sys/ownsys.h"

/* One line: "madvisor: KEY: WHY; THEN" (THEN "exiting (strict)" with
 * strict, and then exit 2). */
static void refuse(int fd, int strict, const char *key, const char *why, const char *then)
{
	mv_out_say(fd, 0, strict ? "exiting (strict)" : then, key, ": ", why, NULL);
	if (strict)
		_exit(2);
}

#define UNCHANGED "allocator purges pass through unchanged"

/* Why MADV_DONTNEED may not be sent as MADV_FREE here, or NULL. */
static const char *dontneed_to_free_refused(int callers, const struct mv_allocator_info *a, int apart,
					    const struct mv_probe *(*kernel)(void))
{
	if (callers == MV_CALLERS_PROGRAM)
		return "a program's MADV_DONTNEED may rely on zero-filled pages: refused for program calls";
	if (a->kind == MV_ALLOC_JEMALLOC)
		return "jemalloc relies on zero-filled pages after MADV_DONTNEED (calloc skips its memset)";
	if (a->kind != MV_ALLOC_TCMALLOC && a->kind != MV_ALLOC_MIMALLOC)
		return "only tcmalloc's and mimalloc's calls may be sent as MADV_FREE, and neither was found behind"
		       " the library";
	if (!apart)
		return "the allocator is linked into the program, so its calls cannot be told from the program's";
	if (!kernel()->madv_free)
		return "this kernel has no MADV_FREE";
	return NULL;
}

void mv_advice_init(struct mv_advice *p, const struct mv_options *o, const struct mv_allocator_info *a,
		    const struct mv_probe *(*kernel)(void), mv_plain_vma_fn plain_vma, int fd)
{
	int mode = o->madvise, reclaim = o->pt_reclaim ? MV_PTR_MADVISE : MV_PTR_OFF, callers = o->madvise_callers;
	p->active = 0;
	p->madvise_mode = MV_MADVISE_PASSTHROUGH;
	p->pt_reclaim = MV_PTR_OFF;
	p->plain_vma = NULL;
	p->callers = callers;
	p->alloc_lo = p->alloc_hi = 0;
	if (mode == MV_MADVISE_PASSTHROUGH && !reclaim)
		return;
	const char *key = mode == MV_MADVISE_FREE_TO_DONTNEED   ? "madvise:free_to_dontneed"
			  : mode == MV_MADVISE_DONTNEED_TO_FREE ? "madvise:dontneed_to_free"
								: "pt_reclaim";
	/* The allocator's calls can be told from the program's by their code. */
	int apart = !a->in_executable && a->text_lo < a->text_hi;
	if (apart) {
		p->alloc_lo = a->text_lo;
		p->alloc_hi = a->text_hi;
	}
	if (callers != MV_CALLERS_ANY && !apart) {
		refuse(fd, o->strict,
		       callers == MV_CALLERS_ALLOCATOR ? "madvise.callers:allocator" : "madvise.callers:program",
		       a->in_executable ? "the allocator is linked into the program, so its calls cannot be told from the"
					  " program's"
					: "no allocator's code found to tell its calls from the program's",
		       "purges pass through unchanged");
		return;
	}
	if (callers == MV_CALLERS_ALLOCATOR && a->kind != MV_ALLOC_JEMALLOC && a->kind != MV_ALLOC_TCMALLOC &&
	    a->kind != MV_ALLOC_MIMALLOC) {
		refuse(fd, o->strict, key,
		       a->kind == MV_ALLOC_GLIBC ? "glibc malloc purges inside libc where no preload library sees them"
						 : "no jemalloc, tcmalloc or mimalloc found behind the library",
		       UNCHANGED);
		return;
	}
	if (mode == MV_MADVISE_DONTNEED_TO_FREE) {
		const char *why = dontneed_to_free_refused(callers, a, apart, kernel);
		if (why) {
			refuse(fd, o->strict, key, why, "MADV_DONTNEED passes through unchanged");
			mode = MV_MADVISE_PASSTHROUGH;
		} else if (callers == MV_CALLERS_ANY && o->source[MV_OPT_MADVISE_CALLERS] != MV_SRC_DEFAULT) {
			/* Asked for every caller: the program's calls are refused, the
			 * allocator's converted (split.h). */
			refuse(fd, o->strict, "madvise:dontneed_to_free with madvise.callers:any",
			       "a program's MADV_DONTNEED may rely on zero-filled pages: refused for program calls",
			       "only the allocator's are sent as MADV_FREE");
		}
	}
	if (reclaim && !kernel()->pt_reclaim) {
		if (plain_vma) {
			mv_out_say(fd, 0, "whole 2 MiB cores of plain private anonymous mappings are replaced with fresh ones",
				   "pt_reclaim: ", MV_NO_PT_RECLAIM, NULL);
			reclaim = MV_PTR_REMAP;
			p->plain_vma = plain_vma;
		} else {
			refuse(fd, o->strict, "pt_reclaim",
			       MV_NO_PT_RECLAIM " and, without a munmap strategy, the mappings are not known well enough to"
					     " replace cores with fresh ones",
			       UNCHANGED);
			reclaim = MV_PTR_OFF;
		}
	}
	p->madvise_mode = mode;
	p->pt_reclaim = reclaim;
	p->active = mode != MV_MADVISE_PASSTHROUGH || reclaim;
}

static long advise(void *addr, size_t len, int advice)
{
	struct mv_request q = { .kind = MV_MADVISE, .addr = addr, .len = len, .advice = advice };
	mv_stats_policy(MV_POL_KERNEL_CALLS, 1);
	return mv_kernel_call(&q);
}

/* A whole 2 MiB core [lo, hi) of one plain mapping (plain_vma), where the
 * kernel would leave its page table after MADV_DONTNEED: one mmap(MAP_FIXED)
 * of fresh private anonymous memory reads zero and holds nothing, as after
 * MADV_DONTNEED, re-merges with its neighbours, and the kernel frees the
 * table with the old pages. A refused mmap (out of memory, the map count)
 * falls back to MADV_DONTNEED; where it had unmapped the range before
 * failing (older kernels), the range is mapped fresh again. Issued as the
 * library's own calls (fault.c can fail them). */
static long remap_core(uintptr_t lo, uintptr_t hi, int flags)
{
	mv_stats_policy(MV_POL_KERNEL_CALLS, 1);
	long r = mv_own6(SYS_mmap, (long)lo, (long)(hi - lo), PROT_READ | PROT_WRITE, flags | MAP_FIXED, -1, 0);
	if (r == (long)lo) {
		mv_stats_policy(MV_POL_REMAPPED, 1);
		return 0;
	}
	r = advise((void *)lo, hi - lo, MADV_DONTNEED);
	if (r == -ENOMEM) {
		mv_stats_policy(MV_POL_KERNEL_CALLS, 1);
		if (mv_own6(SYS_mmap, (long)lo, (long)(hi - lo), PROT_READ | PROT_WRITE, flags | MAP_FIXED, -1, 0) ==
		    (long)lo)
			r = 0;
	}
	return r;
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
	mv_split_purge(p, (uintptr_t)q->addr, q->len, q->advice, mv_advice_from_allocator(p, q->caller), &s);
	if (!s.n)
		return mv_kernel_call(q);
	if (s.core >= 0) {
		mv_stats_policy(MV_POL_CORES, 1);
		mv_stats_policy(MV_POL_CORE_BYTES, s.part[s.core].len);
	}
	if (s.converted)
		mv_stats_policy(MV_POL_CONVERTED, 1);
	for (int i = 0; i < s.n; i++) {
		uintptr_t lo = s.part[i].addr, len = s.part[i].len;
		long r = s.part[i].advice == MV_SPLIT_REMAP ? remap_core(lo, lo + len, s.remap_flags)
							    : advise((void *)lo, len, s.part[i].advice);
		if (s.validate) { /* the kernel's MADV_FREE gave the result; the rest only drops pages */
			if (i == 0 && r != 0)
				return r;
			continue;
		}
		if (fold(r, &result) < 0)
			break;
	}
	return result;
}
