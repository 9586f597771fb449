/* advice.c - madvise strategies: transforms of MADV_FREE and MADV_DONTNEED calls (advice.h). */
#include <errno.h>
#include <sys/mman.h>
#include <unistd.h>
#include "core/advice.h"
#include "core/kernel.h"
#include "sys/outbuf.h"
#include "core/stats.h"
#include "sys/ownsys.h"

#define PAGE 4096UL
#define PMD (2UL << 20)

/* One line: "madvisor: KEY: WHY; THEN". */
static void say(int fd, const char *key, const char *why, const char *then)
{
	char buf[400];
	struct mv_outbuf o;
	mv_out_init(&o, buf, sizeof(buf), fd);
	mv_out_str(&o, "madvisor: ");
	mv_out_str(&o, key);
	mv_out_str(&o, ": ");
	mv_out_str(&o, why);
	mv_out_str(&o, then);
	mv_out_flush(&o);
}

/* say(), then exit 2 with strict. */
static void refuse(int fd, int strict, const char *key, const char *why, const char *then)
{
	say(fd, key, why, strict ? "; exiting (strict)\n" : then);
	if (strict)
		_exit(2);
}

#define NO_PT_RECLAIM "this kernel does not free page tables on MADV_DONTNEED (PT_RECLAIM, Linux 6.14+ on x86_64)"
#define UNCHANGED "; allocator purges pass through unchanged\n"

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

void mv_policy_init(struct mv_policy *p, const struct mv_options *o, const struct mv_allocator_info *a,
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
		       "; purges pass through unchanged\n");
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
			refuse(fd, o->strict, key, why, "; MADV_DONTNEED passes through unchanged\n");
			mode = MV_MADVISE_PASSTHROUGH;
		} else if (callers == MV_CALLERS_ANY && o->source[MV_OPT_MADVISE_CALLERS] != MV_SRC_DEFAULT) {
			/* Asked for every caller: the program's calls are refused, the
			 * allocator's converted (mv_policy_madvise). */
			refuse(fd, o->strict, "madvise:dontneed_to_free with madvise.callers:any",
			       "a program's MADV_DONTNEED may rely on zero-filled pages: refused for program calls",
			       "; only the allocator's are sent as MADV_FREE\n");
		}
	}
	if (reclaim && !kernel()->pt_reclaim) {
		if (plain_vma) {
			say(fd, "pt_reclaim", NO_PT_RECLAIM,
			    "; whole 2 MiB cores of plain private anonymous mappings are replaced with fresh ones\n");
			reclaim = MV_PTR_REMAP;
			p->plain_vma = plain_vma;
		} else {
			refuse(fd, o->strict, "pt_reclaim",
			       NO_PT_RECLAIM " and, without a munmap strategy, the mappings are not known well enough to"
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

/* A MADV_FREE that is not the allocator's, sent (whole, or its core) as
 * MADV_DONTNEED or a fresh mapping. The program's memory may be shared or
 * file-backed, where MADV_FREE fails (EINVAL) and MADV_DONTNEED would not:
 * the kernel's MADV_FREE over the whole range [a, a + len) goes first and
 * gives the result, and only when it succeeded are pages dropped (zero
 * fill, which MADV_FREE allows): without split the whole range; with split
 * the core lo..hi (by a fresh mapping with remap), and the edges too when
 * edge says MADV_DONTNEED. */
static long validated_free(uintptr_t a, size_t len, uintptr_t lo, uintptr_t hi, int split, int edge, int remap,
			   int flags)
{
	long r = advise((void *)a, len, MADV_FREE);
	if (r != 0)
		return r;
	if (!split) {
		advise((void *)a, len, MADV_DONTNEED);
		return 0;
	}
	if (edge == MADV_DONTNEED && lo > a)
		advise((void *)a, lo - a, MADV_DONTNEED);
	if (remap)
		remap_core(lo, hi, flags);
	else
		advise((void *)lo, hi - lo, MADV_DONTNEED);
	if (edge == MADV_DONTNEED && a + len > hi)
		advise((void *)hi, a + len - hi, MADV_DONTNEED);
	return 0;
}

long mv_policy_madvise(const struct mv_policy *p, const struct mv_request *q)
{
	int asked = q->advice, edge = asked;
	uintptr_t a = (uintptr_t)q->addr;
	size_t len = (q->len + PAGE - 1) & ~(PAGE - 1);

	if (asked != MADV_FREE && asked != MADV_DONTNEED)
		return mv_kernel_call(q);
	/* Bad arguments (and the empty call) go as they are: the kernel's error. */
	if ((a & (PAGE - 1)) || q->len == 0 || len < q->len || a + len < a)
		return mv_kernel_call(q);

	int mine = mv_policy_from_allocator(p, q->caller);
	if (p->madvise_mode == MV_MADVISE_FREE_TO_DONTNEED && asked == MADV_FREE)
		edge = MADV_DONTNEED;
	else if (p->madvise_mode == MV_MADVISE_DONTNEED_TO_FREE && asked == MADV_DONTNEED && mine)
		edge = MADV_FREE; /* never a program's call: it may rely on zero-fill */
	int core = p->pt_reclaim == MV_PTR_MADVISE ? MADV_DONTNEED : edge;
	uintptr_t lo = (a + PMD - 1) & ~(PMD - 1), hi = (a + len) & ~(PMD - 1);
	int flags = 0;
	int remap = p->pt_reclaim == MV_PTR_REMAP && hi > lo && p->plain_vma(lo, hi, &flags);
	int split = hi > lo && (core != edge || remap);
	if (asked == MADV_FREE && (edge != asked || split) && !mine) {
		mv_stats_policy(MV_POL_CONVERTED, edge != asked);
		mv_stats_policy(MV_POL_CORES, split);
		mv_stats_policy(MV_POL_CORE_BYTES, split ? hi - lo : 0);
		return validated_free(a, len, lo, hi, split, edge, remap, flags);
	}
	if (!split) {
		if (edge == asked)
			return advise(q->addr, q->len, asked);
		mv_stats_policy(MV_POL_CONVERTED, 1);
		return advise(q->addr, q->len, edge);
	}
	/* Whole 2 MiB regions as one DONTNEED (frees their page tables under
	 * PT_RECLAIM) or one fresh mapping, the ragged edges as the mode says. */
	long result = 0;
	mv_stats_policy(MV_POL_CORES, 1);
	mv_stats_policy(MV_POL_CORE_BYTES, hi - lo);
	if (edge != asked)
		mv_stats_policy(MV_POL_CONVERTED, 1);
	if (lo > a && fold(advise((void *)a, lo - a, edge), &result) < 0)
		return result;
	if (fold(remap ? remap_core(lo, hi, flags) : advise((void *)lo, hi - lo, core), &result) < 0)
		return result;
	if (a + len > hi)
		fold(advise((void *)hi, a + len - hi, edge), &result);
	return result;
}
