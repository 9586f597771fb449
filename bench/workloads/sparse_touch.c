/* sparse_touch.c - page-table bloat from sparse use of a large range.
 *
 * Each cycle takes a large range (-r bytes), writes one byte in one page of
 * every 2 MiB of it (the page inside each 2 MiB is picked from the seed), so
 * every 2 MiB costs a whole 4 KiB page table for one 4 KiB data page, holds
 * it (--hold-ms, so a sampler sees it), then gives the range back and idles
 * (--idle-ms) so that decay-based purging runs. VmPTE is read from /proc/self/status after touching, right after
 * giving back and after the idle time.
 *   -m malloc   (default) the range is malloc()ed in blocks of -b bytes
 *               (default: one block), given back with free(): what happens
 *               to the tables is the allocator's call. One huge block is
 *               unmapped or purged at once by every allocator; 2 MiB blocks
 *               are what jemalloc, tcmalloc and mimalloc keep dirty and
 *               purge later in pieces
 *   -m madvise  the range is one mmap() kept for all cycles; each touched
 *               page is given back with its own 4 KiB MADV_DONTNEED, which
 *               never frees a page table (facts: PT_RECLAIM needs one call
 *               covering a whole aligned 2 MiB)
 *
 * Output, one line on stdout (touched_pages is exact):
 *   sparse_touch: mode=M range_mb=N block_kb=N cycles=N touched_pages=N seconds=S
 *     pages_per_sec=N pte_touched_kb=N pte_freed_kb=N pte_idle_kb=N
 *     pte_max_kb=N   (the pte_* values of the last cycle; pte_max_kb over all) */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "wl.h"

#define PAGE 4096u
#define PMD (2u << 20)

static long vm_pte_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, "VmPTE:", 6) == 0)
			kb = strtol(line + 6, NULL, 10);
	fclose(f);
	return kb;
}

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: sparse_touch [-m malloc|madvise] [-r range-bytes] [-b block-bytes] [-c cycles] [-S seed]\n"
		"                    [--hold-ms MS] [--idle-ms MS]\n"
		"  -m MODE       how the range is taken and given back (default malloc)\n"
		"  -r B          size of the range, K/M/G suffixes (default 1G)\n"
		"  -b B          malloc mode: allocate the range in blocks of B bytes (default: one)\n"
		"  -c N          cycles (default 4)\n"
		"  -S N          seed of the touched page offsets (default 1)\n"
		"  --hold-ms MS  sleep after touching (default 0)\n"
		"  --idle-ms MS  sleep after giving the range back (default 200)\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "idle-ms", required_argument, NULL, 'I' },
		{ "hold-ms", required_argument, NULL, 'H' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *mode = "malloc";
	uint64_t range = 1u << 30, block = 0, cycles = 4, seed = 1, idle_ms = 200, hold_ms = 0;
	int c;
	while ((c = getopt_long(argc, argv, "m:r:b:c:S:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'm': mode = optarg; break;
		case 'r': range = wl_parse_size("-r", optarg); break;
		case 'b': block = wl_parse_size("-b", optarg); break;
		case 'c': cycles = wl_parse_size("-c", optarg); break;
		case 'S': seed = wl_parse_size("-S", optarg); break;
		case 'I': idle_ms = wl_parse_size("--idle-ms", optarg); break;
		case 'H': hold_ms = wl_parse_size("--hold-ms", optarg); break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	int use_malloc = strcmp(mode, "malloc") == 0;
	range = range / PMD * PMD;
	if (block == 0 || !use_malloc)
		block = range;
	if (optind != argc || (!use_malloc && strcmp(mode, "madvise") != 0) || range < PMD || cycles < 1 ||
	    idle_ms > 60000 || hold_ms > 60000 || block % PMD != 0 || range % block != 0) {
		if (optind == argc)
			fprintf(stderr, "sparse_touch: -b must be a multiple of 2 MiB that divides the range\n");
		usage(stderr);
		return 2;
	}
	size_t regions = range / PMD, nblocks = range / block, per_block = block / PMD;
	unsigned char *keep = NULL;
	if (!use_malloc) {
		/* One extra 2 MiB so the touched regions can start 2 MiB-aligned. */
		unsigned char *m = mmap(NULL, range + PMD, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (m == MAP_FAILED) {
			perror("sparse_touch: mmap");
			return 1;
		}
		keep = (unsigned char *)(((uintptr_t)m + PMD - 1) & ~(uintptr_t)(PMD - 1));
	}
	unsigned char **blocks = malloc(nblocks * sizeof *blocks);
	unsigned char **pages = malloc(regions * sizeof *pages);
	if (!blocks || !pages)
		return 1;
	uint64_t rng = wl_thread_seed(seed, 0), touched = 0;
	long pte_touched = 0, pte_freed = 0, pte_idle = 0, pte_max = 0;
	uint64_t start = wl_now_ns();
	for (uint64_t cycle = 0; cycle < cycles; cycle++) {
		for (size_t b = 0; b < nblocks; b++) {
			blocks[b] = keep ? keep : malloc(block);
			if (!blocks[b]) {
				fprintf(stderr, "sparse_touch: malloc(%llu) failed\n", (unsigned long long)block);
				return 1;
			}
		}
		for (size_t i = 0; i < regions; i++) {
			unsigned char *base = keep ? keep + i * PMD : blocks[i / per_block] + (i % per_block) * PMD;
			pages[i] = base + (size_t)wl_below(&rng, PMD / PAGE) * PAGE;
			pages[i][0] = (unsigned char)(i | 1);
		}
		touched += regions;
		for (size_t i = 0; i < regions; i++)
			if (pages[i][0] != (unsigned char)(i | 1)) {
				fprintf(stderr, "sparse_touch: page contents lost\n");
				return 3;
			}
		pte_touched = vm_pte_kb();
		if (pte_touched > pte_max)
			pte_max = pte_touched;
		sleep_ms(hold_ms);
		if (keep) {
			for (size_t i = 0; i < regions; i++)
				if (madvise(pages[i], PAGE, MADV_DONTNEED) != 0) {
					perror("sparse_touch: madvise");
					return 1;
				}
		} else {
			for (size_t b = 0; b < nblocks; b++)
				free(blocks[b]);
		}
		pte_freed = vm_pte_kb();
		sleep_ms(idle_ms);
		pte_idle = vm_pte_kb();
	}
	double secs = (double)(wl_now_ns() - start) / 1e9;
	free(pages);
	free(blocks);
	printf("sparse_touch: mode=%s range_mb=%llu block_kb=%llu cycles=%llu touched_pages=%llu seconds=%.2f "
	       "pages_per_sec=%.0f pte_touched_kb=%ld pte_freed_kb=%ld pte_idle_kb=%ld pte_max_kb=%ld\n",
	       mode, (unsigned long long)(range >> 20), (unsigned long long)(block >> 10), (unsigned long long)cycles,
	       (unsigned long long)touched,
	       secs, secs > 0 ? (double)touched / secs : 0.0, pte_touched, pte_freed, pte_idle, pte_max);
	return 0;
}
