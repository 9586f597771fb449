/* call_counts - a known number of calls of each kind, failing ones included.
 *
 * Prints its own counts (see counts.h); counts.sh compares them with the rows
 * of madvisor's JSON. The numbers are deliberately odd so that a row counted
 * twice, or a call landing in the wrong row, cannot match by accident. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "counts.h"
#include <stdint.h>
#include <stdlib.h>

#define PG 4096UL

int main(void)
{
	char *p = t_map_or_die(64 * PG);
	/* Failing calls use a low address that mmap never hands out (it
	 * allocates top-down, far above the program). */
	char *gone = (char *)(uintptr_t)0x100000;

	/* 37 madvise(MADV_COLD): 30 succeed, 7 fail (unaligned) */
	for (int i = 0; i < 30; i++)
		t_madvise(p + (i % 8) * PG, 2 * PG, MADV_COLD);
	for (int i = 0; i < 7; i++)
		t_madvise(p + 1, PG, MADV_COLD);

	/* 13 syscall(SYS_madvise, MADV_PAGEOUT): 10 succeed, 3 fail (unmapped) */
	for (int i = 0; i < 10; i++)
		t_sys_madvise(p + 8 * PG, 4 * PG, MADV_PAGEOUT);
	for (int i = 0; i < 3; i++)
		t_sys_madvise(gone, PG, MADV_PAGEOUT);

	/* 5 posix_madvise: 3 DONTNEED (no system call in glibc), 2 WILLNEED, 1 failing */
	for (int i = 0; i < 3; i++)
		t_posix_madvise(p + 12 * PG, 3 * PG, POSIX_MADV_DONTNEED);
	t_posix_madvise(p, 5 * PG, POSIX_MADV_WILLNEED);
	t_posix_madvise(gone, 5 * PG, POSIX_MADV_WILLNEED);

	/* 6 process_madvise(MADV_COLD) through syscall(): 4 succeed, 2 with a bad pidfd */
	int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (pidfd < 0) {
		perror("pidfd_open");
		return 99;
	}
	struct iovec iov[3] = { { p, PG }, { p + 2 * PG, 2 * PG }, { p + 5 * PG, PG } };
	for (int i = 0; i < 4; i++)
		t_sys_process_madvise(pidfd, iov, 3, MADV_COLD);
	for (int i = 0; i < 2; i++)
		t_sys_process_madvise(987654, iov, 2, MADV_COLD);
	/* 3 process_madvise(MADV_PAGEOUT) through glibc's function, 1 failing (bad flags) */
	t_process_madvise(pidfd, iov, 2, MADV_PAGEOUT);
	t_process_madvise(pidfd, iov + 1, 2, MADV_PAGEOUT);
	long bad = process_madvise(pidfd, iov, 1, MADV_PAGEOUT, 1);
	cnt_add(C_PROC_PAGEOUT, bad < 0, 0);
	close(pidfd);

	/* 11 munmap of 4 KiB pieces, 1 failing (unaligned) */
	char *m = t_map_or_die(10 * PG);
	for (int i = 0; i < 10; i++)
		t_munmap(m + i * PG, PG);
	t_munmap(p + 1, PG);

	/* 3 mremap: shrink, grow with MREMAP_MAYMOVE, one failing (unmapped) */
	char *r = t_map_or_die(8 * PG);
	r = t_mremap(r, 8 * PG, 4 * PG, 0, NULL);
	r = t_mremap(r, 4 * PG, 32 * PG, MREMAP_MAYMOVE, NULL);
	t_mremap(gone, PG, 2 * PG, MREMAP_MAYMOVE, NULL);
	if (r == MAP_FAILED)
		return 99;

	/* 7 mprotect, 2 failing (unaligned, unmapped) */
	for (int i = 0; i < 5; i++)
		t_mprotect(r + i * PG, PG, i % 2 ? PROT_READ : PROT_NONE);
	t_mprotect(r + 1, PG, PROT_READ);
	t_mprotect(gone, PG, PROT_READ);

	/* 4 shared anonymous mappings, 1 failing (length 0) */
	for (int i = 0; i < 3; i++)
		t_munmap(t_mmap(NULL, (i + 1) * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0),
			 (i + 1) * PG);
	t_mmap(NULL, 0, PROT_READ, MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	/* 3 file mappings, 1 failing (bad fd) */
	int fd = memfd_create("call_counts", 0);
	if (fd < 0 || ftruncate(fd, 4 * PG) != 0)
		return 99;
	for (int i = 0; i < 2; i++)
		t_munmap(t_mmap(NULL, 2 * PG, PROT_READ, MAP_PRIVATE, fd, (off_t)(i * PG)), 2 * PG);
	t_mmap(NULL, PG, PROT_READ, MAP_PRIVATE, 987654, 0);
	close(fd);

	t_munmap(r, 32 * PG);
	t_munmap(p, 64 * PG);
	printf("pid %d\n", (int)getpid());
	cnt_print(stdout, "");
	return 0;
}
