/* sparse_map.c - large mappings used sparsely, over and over.
 *
 * Each cycle maps -m bytes (private anonymous, read-write), writes one byte
 * in -f per mille of its pages (spread by the seed), checks them, and unmaps
 * it. A recycled mapping must read zero: every touched page is checked
 * before it is written (exit 3 otherwise). Clearing a recycled range must
 * cost what it holds, not its size: this is the case that shows it.
 *
 * Output, one line on stdout (cycles and touched are exact with -n):
 *   sparse_map: size_mb=N per_mille=N seconds=S cycles=N touched=N ops_per_sec=N */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include "wl.h"

#define PAGE 4096u

int main(int argc, char **argv)
{
	uint64_t size = 64u << 20, per_mille = 10, cycles = 0, seed = 1;
	double seconds = 2.0;
	int c;
	while ((c = getopt(argc, argv, "m:f:s:n:S:h")) != -1) {
		switch (c) {
		case 'm': size = wl_parse_size("-m", optarg); break;
		case 'f': per_mille = wl_parse_size("-f", optarg); break;
		case 's': seconds = wl_parse_seconds("-s", optarg); break;
		case 'n': cycles = wl_parse_size("-n", optarg); break;
		case 'S': seed = wl_parse_size("-S", optarg); break;
		default:
			fprintf(c == 'h' ? stdout : stderr,
				"usage: sparse_map [-m bytes (64m)] [-f per mille touched (10)] [-s seconds | -n cycles] [-S seed]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	size_t pages = size / PAGE, touch = pages * per_mille / 1000;
	if (optind != argc || !pages || !touch || per_mille > 1000) {
		fprintf(stderr, "sparse_map: bad arguments\n");
		return 2;
	}
	uint64_t t0 = wl_now_ns(), deadline = t0 + (uint64_t)(seconds * 1e9), done = 0, touched = 0;
	uint64_t rng = seed;
	while (cycles ? done < cycles : wl_now_ns() < deadline) {
		unsigned char *p = mmap(NULL, pages * PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			perror("sparse_map: mmap");
			return 1;
		}
		unsigned char tag = (unsigned char)(done | 1);
		for (size_t i = 0; i < touch; i++) {
			size_t pg = (size_t)wl_below(&rng, pages);
			if (p[pg * PAGE + 64] != 0 && p[pg * PAGE + 64] != tag) {
				fprintf(stderr, "sparse_map: new mapping not zero at page %zu\n", pg);
				return 3;
			}
			p[pg * PAGE + 64] = tag;
		}
		touched += touch;
		if (munmap(p, pages * PAGE) != 0) {
			perror("sparse_map: munmap");
			return 1;
		}
		done++;
	}
	double secs = (double)(wl_now_ns() - t0) / 1e9;
	printf("sparse_map: size_mb=%llu per_mille=%llu seconds=%.2f cycles=%llu touched=%llu ops_per_sec=%.1f\n",
	       (unsigned long long)(size >> 20), (unsigned long long)per_mille, secs, (unsigned long long)done,
	       (unsigned long long)touched, secs > 0 ? (double)done / secs : 0.0);
	return 0;
}
