/* purge_loop.c - N calls of one kind in a tight loop, timed one by one.
 *
 * The interposition-overhead benchmark (bench/overhead) runs this with and
 * without the preload library, under callgrind (instructions) and natively
 * (nanoseconds). Kinds, all on 4 KiB:
 *   dontneed     madvise(MADV_DONTNEED) on a page written before every call
 *   unpopulated  madvise(MADV_DONTNEED) on a page that is never written
 *   syscall      the same through syscall(SYS_madvise, ...)
 *   munmap       munmap of a mapped (unwritten) page, then mmap it again:
 *                one call pair per iteration
 *   mmap         mmap of a new anonymous page just below the previous one
 *                (so it merges with it), never unmapped
 * The address-space layout around the pages is fixed (PROT_NONE guard pages,
 * address hints) so that VMA splits and merges, which dominate munmap and
 * mmap costs, are the same whatever else is mapped: without that a second
 * preloaded library alone moves these costs by 20%.
 * Only the calls are timed (clock_gettime around each); the page write of
 * "dontneed" is outside. 1000 untimed warm-up iterations come first.
 *
 * --paired: every iteration makes the call twice, once through the normal
 * (interposable) function and once as an inline system call that no library
 * can intercept, alternating which goes first. The difference of the two
 * medians is the cost of the path through the function, measured call by
 * call in one process, so drift in machine load cancels out.
 *
 * Output, one line on stdout:
 *   purge_loop: kind=K calls=N ns_per_call=X ns_median=M loop_ns_per_iter=Y timer_ns=Z
 * with --paired also: raw_ns_median=R paired_extra_ns=M-R
 * ns_per_call is the mean time inside the calls of one iteration, ns_median
 * the median over iterations (robust against preemption and interrupts);
 * both have the cost of the empty clock_gettime pairs (timer_ns each)
 * subtracted. loop_ns_per_iter is the whole loop, untimed parts included. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include "sys/rawsys.h"
#include "wl.h"

#define PAGE 4096u
#define WARMUP 1000u
#define HIST_NS 65536u   /* 1 ns buckets; longer iterations land in the last */

enum kind { K_DONTNEED, K_UNPOPULATED, K_SYSCALL, K_MUNMAP, K_MMAP };
static const char *const kind_names[] = { "dontneed", "unpopulated", "syscall", "munmap", "mmap" };

/* Path 0 goes through the libc functions (and any preloaded wrapper),
 * path 1 straight to the kernel. */
enum { VIA_LIBC, VIA_RAW };
static uint32_t hist[2][HIST_NS];
static unsigned char *page[2];
static unsigned char *next_page;  /* kind mmap: where the next page goes */

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static void *do_mmap(int via, void *hint, size_t len, int prot, int flags)
{
	if (via == VIA_RAW) {
		long r = mv_raw6(SYS_mmap, (long)hint, (long)len, prot, flags, -1, 0);
		return mv_raw_failed(r) ? MAP_FAILED : (void *)r;
	}
	return mmap(hint, len, prot, flags, -1, 0);
}

static int do_munmap(int via, void *p, size_t len)
{
	if (via == VIA_RAW)
		return mv_raw_failed(mv_raw2(SYS_munmap, p, len)) ? -1 : 0;
	return munmap(p, len);
}

static int do_madvise(int via, int use_syscall, void *p)
{
	if (via == VIA_RAW)
		return mv_raw_failed(mv_raw3(SYS_madvise, p, PAGE, MADV_DONTNEED)) ? -1 : 0;
	if (use_syscall)
		return (int)syscall(SYS_madvise, p, PAGE, MADV_DONTNEED);
	return madvise(p, PAGE, MADV_DONTNEED);
}

/* Map one read-write page; at `hint` exactly when hint is not NULL. */
static unsigned char *map_page(int via, void *hint)
{
	void *p = do_mmap(via, hint, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS);
	if (p == MAP_FAILED)
		die("purge_loop: mmap");
	if (hint && p != hint) {
		fprintf(stderr, "purge_loop: mmap ignored the address hint %p\n", hint);
		exit(1);
	}
	return p;
}

/* PROT_NONE reservation of `pages` pages. */
static unsigned char *reserve(uint64_t pages)
{
	void *p = mmap(NULL, pages * PAGE, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		die("purge_loop: mmap (reserve)");
	return p;
}

/* The page of one path, with guards where VMAs change. */
static unsigned char *setup(enum kind k, uint64_t pages_needed)
{
	unsigned char *r;
	switch (k) {
	case K_MUNMAP:
		/* guard | page | guard: the page never merges with a neighbour. */
		r = reserve(3);
		if (munmap(r + PAGE, PAGE) != 0)
			die("purge_loop: munmap");
		return map_page(VIA_LIBC, r + PAGE);
	case K_MMAP:
		/* guard | room for every page | guard; pages are mapped top-down. */
		if (!next_page) {
			r = reserve(pages_needed + 3);
			if (munmap(r + PAGE, (pages_needed + 1) * PAGE) != 0)
				die("purge_loop: munmap");
			next_page = r + (pages_needed + 2) * PAGE;
		}
		next_page -= PAGE;
		return map_page(VIA_LIBC, next_page);
	default:
		return map_page(VIA_LIBC, NULL);
	}
}

/* One call (a pair for munmap) on path `via`; returns the nanoseconds spent
 * inside the calls. */
static uint64_t step(enum kind k, int via, unsigned i)
{
	unsigned char *p = page[via];
	uint64_t t0, t1, t2, t3;
	switch (k) {
	case K_DONTNEED:
		p[0] = (unsigned char)(i | 1);
		/* fall through */
	case K_UNPOPULATED:
	case K_SYSCALL:
		t0 = wl_now_ns();
		if (do_madvise(via, k == K_SYSCALL, p) != 0)
			die("purge_loop: madvise");
		t1 = wl_now_ns();
		return t1 - t0;
	case K_MUNMAP:
		t0 = wl_now_ns();
		if (do_munmap(via, p, PAGE) != 0)
			die("purge_loop: munmap");
		t1 = wl_now_ns();
		t2 = wl_now_ns();
		page[via] = map_page(via, p);
		t3 = wl_now_ns();
		return (t1 - t0) + (t3 - t2);
	case K_MMAP:
		next_page -= PAGE;
		t0 = wl_now_ns();
		page[via] = map_page(via, next_page);
		t1 = wl_now_ns();
		return t1 - t0;
	}
	return 0;
}

/* Cost of an empty clock_gettime pair, the best of a few batches. */
static double timer_cost(void)
{
	double best = 1e9;
	for (int b = 0; b < 5; b++) {
		uint64_t sum = 0;
		for (int i = 0; i < 20000; i++) {
			uint64_t t0 = wl_now_ns();
			sum += wl_now_ns() - t0;
		}
		if ((double)sum / 20000 < best)
			best = (double)sum / 20000;
	}
	return best;
}

static uint64_t median(const uint32_t *h, uint64_t n)
{
	uint64_t seen = 0;
	for (uint64_t b = 0; b < HIST_NS; b++) {
		seen += h[b];
		if (2 * seen >= n)
			return b;
	}
	return HIST_NS - 1;
}

static void usage(void)
{
	fprintf(stderr, "usage: purge_loop [--paired] dontneed|unpopulated|syscall|munmap|mmap N\n");
	exit(2);
}

int main(int argc, char **argv)
{
	int paired = argc > 1 && strcmp(argv[1], "--paired") == 0;
	if (argc != 3 + paired)
		usage();
	const char *kname = argv[1 + paired];
	int k = -1;
	for (int i = 0; i < (int)(sizeof kind_names / sizeof kind_names[0]); i++)
		if (strcmp(kname, kind_names[i]) == 0)
			k = i;
	if (k < 0) {
		fprintf(stderr, "purge_loop: unknown kind '%s'\n", kname);
		usage();
	}
	uint64_t n = wl_parse_size("N", argv[2 + paired]);
	if (n < 1 || n > 100000000) {
		fprintf(stderr, "purge_loop: N must be 1..100000000\n");
		return 2;
	}

	int paths = paired ? 2 : 1;
	uint64_t pages_needed = (n + WARMUP) * (uint64_t)paths + 1;
	for (int v = 0; v < paths; v++)
		page[v] = setup(k, pages_needed);
	for (unsigned i = 0; i < WARMUP; i++)
		for (int v = 0; v < paths; v++)
			(void)step(k, v, i);
	double timer = timer_cost();

	uint64_t inside = 0, start = wl_now_ns();
	for (uint64_t i = 0; i < n; i++) {
		for (int j = 0; j < paths; j++) {
			int via = paired ? (int)((i + j) & 1) : VIA_LIBC;  /* alternate who goes first */
			uint64_t ns = step(k, via, (unsigned)i);
			if (via == VIA_LIBC)
				inside += ns;
			hist[via][ns < HIST_NS ? ns : HIST_NS - 1]++;
		}
	}
	uint64_t total = wl_now_ns() - start;

	/* munmap pairs carry two timer pairs per iteration. */
	double timers = k == K_MUNMAP ? 2 * timer : timer;
	double per_call = (double)inside / (double)n - timers;
	double med = (double)median(hist[VIA_LIBC], n) - timers;
	printf("purge_loop: kind=%s calls=%llu ns_per_call=%.1f ns_median=%.1f loop_ns_per_iter=%.1f "
	       "timer_ns=%.1f",
	       kind_names[k], (unsigned long long)n, per_call > 0 ? per_call : 0.0, med > 0 ? med : 0.0,
	       (double)total / (double)n, timer);
	if (paired) {
		double raw = (double)median(hist[VIA_RAW], n) - timers;
		printf(" raw_ns_median=%.1f paired_extra_ns=%.1f", raw > 0 ? raw : 0.0, med - raw);
	}
	printf("\n");
	return 0;
}
