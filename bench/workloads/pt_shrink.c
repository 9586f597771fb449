/* pt_shrink.c - page tables left behind after a program shrinks.
 *
 *   pt_shrink churn  [-l LIVE] [-r ROUNDS] [-x MAX] [--idle-ms MS] [-S SEED]
 *       grow to LIVE bytes of malloc'd objects (16 B..256 KiB, or up to
 *       about MAX, log-uniform; every page written), free 90%, ROUNDS
 *       times; then free all but 2%, ask the allocator to purge everything
 *       (jemalloc: arena.<all>.purge through mallctl, when present;
 *       malloc_trim otherwise) and idle.
 *   pt_shrink sparse [-R RANGE] [--idle-ms MS] [-S SEED]
 *       one MAP_NORESERVE mapping of RANGE bytes; one page written in every
 *       2 MiB, then each given back with its own 4 KiB MADV_DONTNEED (as an
 *       allocator purging small extents does), which frees no page table;
 *       then idle.
 * VmPTE is read from /proc/self/status at the peak, right after the shrink
 * and after the idle time; every kept byte is checked at the end (exit 3 if
 * anything changed; in sparse mode the emptied pages are not read back, which
 * would fault page tables in again).
 *
 * Output, one line on stdout:
 *   pt_shrink: mode=M pte_peak_kb=N pte_shrunk_kb=N pte_idle_kb=N rss_idle_kb=N */
#include <dlfcn.h>
#include <getopt.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include "wl.h"

#define PAGE 4096u
#define PMD (2u << 20)

static void idle(uint64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) != 0)
		;
}

static void purge_all(void)
{
	int (*mallctl)(const char *, void *, size_t *, void *, size_t) =
		(int (*)(const char *, void *, size_t *, void *, size_t))dlsym(RTLD_DEFAULT, "mallctl");
	if (mallctl)
		mallctl("arena.4096.purge", NULL, NULL, NULL, 0);
	else
		malloc_trim(0);
}

struct obj {
	unsigned char *p;
	size_t size;
	unsigned char tag;
};

static int churn(uint64_t live, uint64_t rounds, unsigned octaves, uint64_t idle_ms, uint64_t seed)
{
	size_t cap = (size_t)(live / 16 + 16);
	struct obj *o = calloc(cap, sizeof(*o));
	uint64_t rng = wl_thread_seed(seed, 0);
	size_t n = 0;
	long peak = 0;
	if (!o)
		return 1;
	for (uint64_t r = 0; r <= rounds; r++) {
		uint64_t have = 0;
		for (size_t i = 0; i < n; i++)
			have += o[i].size;
		while (have < live && n < cap) {
			unsigned oct = (unsigned)wl_below(&rng, octaves); /* 16 B .. 256 KiB by default */
			size_t lo = (size_t)16 << oct, size = lo + (size_t)wl_below(&rng, lo);
			unsigned char *p = malloc(size);
			if (!p)
				return 1;
			unsigned char tag = (unsigned char)wl_rand(&rng);
			for (size_t k = 0; k < size; k += PAGE)
				p[k] = (unsigned char)(tag + k / PAGE);
			o[n].p = p, o[n].size = size, o[n].tag = tag, n++;
			have += size;
		}
		long pte = wl_status_kb("VmPTE:");
		if (pte > peak)
			peak = pte;
		/* Shrink: free 90% (the last round: 98%), keeping the rest packed. */
		unsigned keep_pct = r == rounds ? 2 : 10;
		size_t kept = 0;
		for (size_t i = 0; i < n; i++) {
			if (wl_below(&rng, 100) < keep_pct) {
				o[kept++] = o[i];
				continue;
			}
			free(o[i].p);
		}
		n = kept;
	}
	purge_all();
	long shrunk = wl_status_kb("VmPTE:");
	idle(idle_ms);
	long pte_idle = wl_status_kb("VmPTE:");
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < o[i].size; k += PAGE)
			if (o[i].p[k] != (unsigned char)(o[i].tag + k / PAGE)) {
				fprintf(stderr, "pt_shrink: object contents changed\n");
				return 3;
			}
	printf("pt_shrink: mode=churn pte_peak_kb=%ld pte_shrunk_kb=%ld pte_idle_kb=%ld rss_idle_kb=%ld\n", peak,
	       shrunk, pte_idle, wl_status_kb("VmRSS:"));
	return 0;
}

static int sparse(uint64_t range, uint64_t idle_ms, uint64_t seed)
{
	range = range / PMD * PMD;
	unsigned char *m = mmap(NULL, range + PMD, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (m == MAP_FAILED) {
		perror("pt_shrink: mmap");
		return 1;
	}
	unsigned char *a = (unsigned char *)(((uintptr_t)m + PMD - 1) & ~(uintptr_t)(PMD - 1));
	madvise(a, range, MADV_NOHUGEPAGE);
	uint64_t rng = wl_thread_seed(seed, 0);
	size_t regions = range / PMD;
	/* One region in 64 keeps its page: data that must survive. */
	for (size_t i = 0; i < regions; i++)
		a[i * PMD + wl_below(&rng, PMD / PAGE) * PAGE] = (unsigned char)(i | 1);
	long peak = wl_status_kb("VmPTE:");
	rng = wl_thread_seed(seed, 0);
	for (size_t i = 0; i < regions; i++) {
		size_t off = i * PMD + wl_below(&rng, PMD / PAGE) * PAGE;
		if (i % 64 && madvise(a + off, PAGE, MADV_DONTNEED) != 0) {
			perror("pt_shrink: madvise");
			return 1;
		}
	}
	long shrunk = wl_status_kb("VmPTE:");
	idle(idle_ms);
	long pte_idle = wl_status_kb("VmPTE:");
	rng = wl_thread_seed(seed, 0);
	for (size_t i = 0; i < regions; i++) {
		size_t off = i * PMD + wl_below(&rng, PMD / PAGE) * PAGE;
		/* Only the kept pages: reading an emptied one would fault in a
		 * zero page and a page table again. */
		if (i % 64 == 0 && a[off] != (unsigned char)(i | 1)) {
			fprintf(stderr, "pt_shrink: page contents changed\n");
			return 3;
		}
	}
	printf("pt_shrink: mode=sparse range_mb=%llu pte_peak_kb=%ld pte_shrunk_kb=%ld pte_idle_kb=%ld rss_idle_kb=%ld\n",
	       (unsigned long long)(range >> 20), peak, shrunk, pte_idle, wl_status_kb("VmRSS:"));
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "idle-ms", required_argument, NULL, 'I' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t live = 256u << 20, rounds = 4, idle_ms = 2000, seed = 1, range = 16ull << 30, max = 256u << 10;
	int c;
	while ((c = getopt_long(argc, argv, "l:r:R:S:x:", longopts, NULL)) != -1) {
		switch (c) {
		case 'l': live = wl_parse_size("-l", optarg); break;
		case 'x': max = wl_parse_size("-x", optarg); break;
		case 'r': rounds = wl_parse_size("-r", optarg); break;
		case 'R': range = wl_parse_size("-R", optarg); break;
		case 'S': seed = wl_parse_size("-S", optarg); break;
		case 'I': idle_ms = wl_parse_size("--idle-ms", optarg); break;
		default: goto usage;
		}
	}
	unsigned octaves = 1;
	while (octaves < 30 && ((uint64_t)16 << octaves) <= max)
		octaves++;
	if (optind + 1 == argc && strcmp(argv[optind], "churn") == 0 && live >= PAGE && max >= 16)
		return churn(live, rounds, octaves, idle_ms, seed);
	if (optind + 1 == argc && strcmp(argv[optind], "sparse") == 0 && range >= PMD && range <= (64ull << 30))
		return sparse(range, idle_ms, seed);
usage:
	fprintf(stderr, "usage: pt_shrink churn [-l LIVE] [-r ROUNDS] [-x MAX] [--idle-ms MS] [-S SEED]\n"
			"       pt_shrink sparse [-R RANGE (<= 64G)] [--idle-ms MS] [-S SEED]\n");
	return 2;
}
