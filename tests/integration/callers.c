/* callers - a program's own MADV_FREE or MADV_DONTNEED over whole 2 MiB
 * regions, with no allocator in between.
 *
 * usage: callers free|dontneed N
 *   maps N whole 2 MiB-aligned regions (MADV_NOHUGEPAGE, so each has a page
 *   table), writes the first page of each, prints "pte_before_kb X"
 *   (VmPTE), advises the N regions in one call, prints "pte_after_kb Y",
 *   "result R", "zero Z" (how many of the written pages now read zero), then
 *   the same advice on an unaligned address and on an unmapped range:
 *   "einval R E" and "enomem R E" (result and errno). Exits 0. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "../../bench/workloads/wl.h"

#define PMD (2UL << 20)

int main(int argc, char **argv)
{
	if (argc != 3)
		return 2;
	int advice = !strcmp(argv[1], "free") ? MADV_FREE : MADV_DONTNEED;
	size_t n = (size_t)atol(argv[2]);
	char *raw = mmap(NULL, (n + 1) * PMD, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (raw == MAP_FAILED)
		return 1;
	char *b = (char *)(((unsigned long)raw + PMD - 1) & ~(PMD - 1));
	madvise(b, n * PMD, MADV_NOHUGEPAGE);
	for (size_t i = 0; i < n; i++)
		b[i * PMD] = 7;
	printf("pte_before_kb %ld\n", wl_status_kb("VmPTE:"));
	int r = madvise(b, n * PMD, advice);
	printf("pte_after_kb %ld\nresult %d\n", wl_status_kb("VmPTE:"), r);
	size_t zero = 0;
	for (size_t i = 0; i < n; i++)
		zero += b[i * PMD] == 0;
	printf("zero %zu\n", zero);
	errno = 0;
	r = madvise(b + 1, 4096, advice);
	printf("einval %d %d\n", r, r ? errno : 0);
	munmap(b, PMD);
	errno = 0;
	r = madvise(b, PMD, advice);
	printf("enomem %d %d\n", r, r ? errno : 0);
	return 0;
}
