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
 * Output, one line on stdout:
 *   purge_loop: kind=K calls=N ns_per_call=X ns_median=M loop_ns_per_iter=Y timer_ns=Z
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
#include "wl.h"

#define PAGE 4096u
#define WARMUP 1000u
#define HIST_NS 65536u   /* 1 ns buckets; longer iterations land in the last */

static uint32_t hist[HIST_NS];

enum kind { K_DONTNEED, K_UNPOPULATED, K_SYSCALL, K_MUNMAP, K_MMAP };
static const char *const kind_names[] = { "dontneed", "unpopulated", "syscall", "munmap", "mmap" };

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static unsigned char *next_page;  /* kind mmap: where the next page goes */

/* Map one read-write page; at `hint` exactly when hint is not NULL. */
static unsigned char *map_page(void *hint)
{
	void *p = mmap(hint, PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
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

/* The first page for a kind, with guards where VMAs change. */
static unsigned char *setup(enum kind k, uint64_t n)
{
	unsigned char *r;
	switch (k) {
	case K_MUNMAP:
		/* guard | page | guard: the page never merges with a neighbour. */
		r = reserve(3);
		if (munmap(r + PAGE, PAGE) != 0)
			die("purge_loop: munmap");
		return map_page(r + PAGE);
	case K_MMAP:
		/* guard | room for every page | guard; pages are mapped top-down. */
		r = reserve(n + WARMUP + 3);
		if (munmap(r + PAGE, (n + WARMUP + 1) * PAGE) != 0)
			die("purge_loop: munmap");
		next_page = r + (n + WARMUP + 2) * PAGE;
		next_page -= PAGE;
		return map_page(next_page);
	default:
		return map_page(NULL);
	}
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

/* One iteration; returns the nanoseconds spent inside the calls. */
static uint64_t step(enum kind k, unsigned char **page, unsigned i)
{
	unsigned char *p = *page;
	uint64_t t0, t1, t2, t3;
	switch (k) {
	case K_DONTNEED:
		p[0] = (unsigned char)(i | 1);
		t0 = wl_now_ns();
		if (madvise(p, PAGE, MADV_DONTNEED) != 0)
			die("purge_loop: madvise");
		t1 = wl_now_ns();
		return t1 - t0;
	case K_UNPOPULATED:
		t0 = wl_now_ns();
		if (madvise(p, PAGE, MADV_DONTNEED) != 0)
			die("purge_loop: madvise");
		t1 = wl_now_ns();
		return t1 - t0;
	case K_SYSCALL:
		t0 = wl_now_ns();
		if (syscall(SYS_madvise, p, PAGE, MADV_DONTNEED) != 0)
			die("purge_loop: syscall(SYS_madvise)");
		t1 = wl_now_ns();
		return t1 - t0;
	case K_MUNMAP:
		t0 = wl_now_ns();
		if (munmap(p, PAGE) != 0)
			die("purge_loop: munmap");
		t1 = wl_now_ns();
		t2 = wl_now_ns();
		*page = map_page(p);
		t3 = wl_now_ns();
		return (t1 - t0) + (t3 - t2);
	case K_MMAP:
		t0 = wl_now_ns();
		next_page -= PAGE;
		*page = map_page(next_page);
		t1 = wl_now_ns();
		return t1 - t0;
	}
	return 0;
}

int main(int argc, char **argv)
{
	if (argc != 3) {
		fprintf(stderr, "usage: purge_loop dontneed|unpopulated|syscall|munmap|mmap N\n");
		return 2;
	}
	int k = -1;
	for (int i = 0; i < (int)(sizeof kind_names / sizeof kind_names[0]); i++)
		if (strcmp(argv[1], kind_names[i]) == 0)
			k = i;
	if (k < 0) {
		fprintf(stderr, "purge_loop: unknown kind '%s'\n", argv[1]);
		return 2;
	}
	uint64_t n = wl_parse_size("N", argv[2]);
	if (n < 1 || n > 100000000) {
		fprintf(stderr, "purge_loop: N must be 1..100000000\n");
		return 2;
	}

	unsigned char *page = setup(k, n);
	for (unsigned i = 0; i < WARMUP; i++)
		(void)step(k, &page, i);
	double timer = timer_cost();

	uint64_t inside = 0, start = wl_now_ns();
	for (uint64_t i = 0; i < n; i++) {
		uint64_t ns = step(k, &page, (unsigned)i);
		inside += ns;
		hist[ns < HIST_NS ? ns : HIST_NS - 1]++;
	}
	uint64_t total = wl_now_ns() - start;

	uint64_t seen = 0, median = HIST_NS - 1;
	for (uint64_t b = 0; b < HIST_NS; b++) {
		seen += hist[b];
		if (2 * seen >= n) {
			median = b;
			break;
		}
	}
	/* munmap pairs carry two timer pairs per iteration. */
	double timers = k == K_MUNMAP ? 2 * timer : timer;
	double per_call = (double)inside / (double)n - timers;
	double med = (double)median - timers;
	printf("purge_loop: kind=%s calls=%llu ns_per_call=%.1f ns_median=%.1f loop_ns_per_iter=%.1f "
	       "timer_ns=%.1f\n",
	       kind_names[k], (unsigned long long)n, per_call > 0 ? per_call : 0.0, med > 0 ? med : 0.0,
	       (double)total / (double)n, timer);
	return 0;
}
