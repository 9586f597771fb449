/* reserve.c - large untouched reservations, made and given back.
 *
 * Maps -n regions of -z bytes each (default 4096 x 1 GiB), private
 * anonymous MAP_NORESERVE, read-write and never touched, as language
 * runtimes, databases and sanitizers reserve address space; then, with all
 * of them live, times -p mmap+munmap pairs of -q bytes (the cost of one call
 * at that many live mappings); then unmaps the regions one by one, in the
 * order they were made (-r: in a seeded random order).
 *
 * The kernel merges adjacent mappings of the same kind into one VMA, so
 * without -d the regions (placed side by side by the kernel) make a few
 * VMAs; -d alternates read-write and read-only regions so that each is its
 * own VMA (then at most vm.max_map_count - 1000 regions are made). Mapping
 * stops early at the first ENOMEM (address space or vm.max_map_count used
 * up): the run goes on with the regions it has and says so (enomem=1).
 *
 * Output, one line on stdout (RSS from /proc/self/status: with every region
 * live, and the peak at the end):
 *   reserve: regions=N size=B pairs=P pair_size=B enomem=0|1 map_s=S pairs_s=S
 *            unmap_s=S seconds=S ns_per_pair=N live_rss_kb=K peak_rss_kb=K */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "wl.h"

static long max_map_count(void)
{
	FILE *f = fopen("/proc/sys/vm/max_map_count", "r");
	long v = 65530;
	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = 65530;
		fclose(f);
	}
	return v;
}

/* A "Vm...:" line of /proc/self/status in kB, or -1. */
static long status_kb(const char *key)
{
	char line[256];
	long v = -1;
	size_t n = strlen(key);
	FILE *f = fopen("/proc/self/status", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':') {
			v = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(f);
	return v;
}

int main(int argc, char **argv)
{
	uint64_t n = 4096, size = 1ull << 30, pairs = 0, pair_size = 64u << 10, seed = 1;
	int distinct = 0, shuffle = 0, c;
	while ((c = getopt(argc, argv, "n:z:p:q:drS:h")) != -1) {
		switch (c) {
		case 'n': n = wl_parse_size("-n", optarg); break;
		case 'z': size = wl_parse_size("-z", optarg); break;
		case 'p': pairs = wl_parse_size("-p", optarg); break;
		case 'q': pair_size = wl_parse_size("-q", optarg); break;
		case 'd': distinct = 1; break;
		case 'r': shuffle = 1; break;
		case 'S': seed = wl_parse_size("-S", optarg); break;
		default:
			fprintf(c == 'h' ? stdout : stderr,
				"usage: reserve [-n regions (4096)] [-z bytes each (1g)] [-p pairs] [-q pair bytes (64k)]"
				" [-d distinct VMAs] [-r random unmap order] [-S seed]\n");
			return c == 'h' ? 0 : 2;
		}
	}
	if (optind != argc || !size || size % 4096 || pair_size % 4096 || (pairs && !pair_size)) {
		fprintf(stderr, "reserve: bad arguments\n");
		return 2;
	}
	if (distinct) {
		long cap = max_map_count() - 1000;
		if (cap < 1)
			cap = 1;
		if (n > (uint64_t)cap)
			n = (uint64_t)cap;
	}
	void **r = malloc((n ? n : 1) * sizeof(*r));
	if (!r) {
		fprintf(stderr, "reserve: no memory for %llu pointers\n", (unsigned long long)n);
		return 1;
	}
	uint64_t t0 = wl_now_ns(), made = 0;
	int enomem = 0;
	for (; made < n; made++) {
		int prot = distinct && (made & 1) ? PROT_READ : PROT_READ | PROT_WRITE;
		void *p = mmap(NULL, size, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED) {
			if (errno != ENOMEM) {
				perror("reserve: mmap");
				return 1;
			}
			enomem = 1;
			break;
		}
		r[made] = p;
	}
	uint64_t t1 = wl_now_ns();
	long live_rss = status_kb("VmRSS");
	for (uint64_t i = 0; i < pairs; i++) {
		void *p = mmap(NULL, pair_size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED) {
			perror("reserve: pair mmap");
			return 1;
		}
		if (munmap(p, pair_size) != 0) {
			perror("reserve: pair munmap");
			return 1;
		}
	}
	uint64_t t2 = wl_now_ns();
	if (shuffle)
		for (uint64_t i = made; i > 1; i--) {
			uint64_t j = wl_below(&seed, i);
			void *t = r[i - 1];
			r[i - 1] = r[j];
			r[j] = t;
		}
	for (uint64_t i = 0; i < made; i++)
		if (munmap(r[i], size) != 0) {
			perror("reserve: munmap");
			return 1;
		}
	uint64_t t3 = wl_now_ns();
	free(r);
	printf("reserve: regions=%llu size=%llu pairs=%llu pair_size=%llu enomem=%d map_s=%.4f pairs_s=%.4f"
	       " unmap_s=%.4f seconds=%.4f ns_per_pair=%.0f live_rss_kb=%ld peak_rss_kb=%ld\n",
	       (unsigned long long)made, (unsigned long long)size, (unsigned long long)pairs,
	       (unsigned long long)pair_size, enomem, (t1 - t0) / 1e9, (t2 - t1) / 1e9, (t3 - t2) / 1e9,
	       (t3 - t0) / 1e9, pairs ? (double)(t2 - t1) / (double)pairs : 0.0, live_rss, status_kb("VmHWM"));
	return 0;
}
