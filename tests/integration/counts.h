/* counts.h - test programs count their own memory calls, to compare with the
 * stats madvisor writes.
 *
 * Every t_*() helper makes one call and records it in the row madvisor would
 * use (kind, detail), with atomic adds only, so it is safe from any thread and
 * from signal handlers. cnt_print() writes one line per row with calls:
 *     count KIND DETAIL CALLS ERRORS BYTES exact|min
 * BYTES sums the lengths of the calls that succeeded (mremap: the old length;
 * process_madvise: what the kernel reports as advised), as madvisor does.
 * DETAIL is "-" for munmap, mremap and mprotect. "exact" rows use arguments
 * no allocator uses (MADV_COLD, MADV_PAGEOUT, posix_madvise, process_madvise,
 * shared and file mappings), so madvisor must report exactly these numbers;
 * "min" rows (munmap, mprotect, mremap, private anonymous mmap) are shared
 * with the allocator, which may add calls of its own. */
#ifndef MADVISOR_TEST_COUNTS_H
#define MADVISOR_TEST_COUNTS_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include "sys/linux.h" /* constants older headers lack */

enum {
	C_MADV_COLD, C_MADV_PAGEOUT, C_MADV_OTHER,
	C_PROC_COLD, C_PROC_PAGEOUT,
	C_POSIX_DONTNEED, C_POSIX_WILLNEED,
	C_MUNMAP, C_MMAP_PRIVATE, C_MMAP_SHARED, C_MMAP_FILE,
	C_MREMAP, C_MPROTECT, C_ROWS
};

static const struct {
	const char *kind, *detail;
	int exact;
} cnt_row_name[C_ROWS] = {
	{ "madvise", "MADV_COLD", 1 },
	{ "madvise", "MADV_PAGEOUT", 1 },
	{ "madvise", "other", 0 },
	{ "process_madvise", "MADV_COLD", 1 },
	{ "process_madvise", "MADV_PAGEOUT", 1 },
	{ "posix_madvise", "POSIX_MADV_DONTNEED", 1 },
	{ "posix_madvise", "POSIX_MADV_WILLNEED", 1 },
	{ "munmap", "-", 0 },
	{ "mmap", "anon-private", 0 },
	{ "mmap", "anon-shared", 1 },
	{ "mmap", "file", 1 },
	{ "mremap", "-", 0 },
	{ "mprotect", "-", 0 },
};

static unsigned long cnt_calls[C_ROWS], cnt_errors[C_ROWS], cnt_bytes[C_ROWS];

static inline void cnt_add(int row, int failed, unsigned long bytes)
{
	__atomic_add_fetch(&cnt_calls[row], 1, __ATOMIC_RELAXED);
	if (failed)
		__atomic_add_fetch(&cnt_errors[row], 1, __ATOMIC_RELAXED);
	else
		__atomic_add_fetch(&cnt_bytes[row], bytes, __ATOMIC_RELAXED);
}

/* The fork child counts from zero, as madvisor does. */
static inline void cnt_reset(void)
{
	for (int i = 0; i < C_ROWS; i++)
		cnt_calls[i] = cnt_errors[i] = cnt_bytes[i] = 0;
}

static inline void cnt_print(FILE *f, const char *prefix)
{
	for (int i = 0; i < C_ROWS; i++) {
		unsigned long c = __atomic_load_n(&cnt_calls[i], __ATOMIC_RELAXED);
		if (c == 0 || i == C_MADV_OTHER)
			continue;
		fprintf(f, "%scount %s %s %lu %lu %lu %s\n", prefix, cnt_row_name[i].kind,
			cnt_row_name[i].detail, c, __atomic_load_n(&cnt_errors[i], __ATOMIC_RELAXED),
			__atomic_load_n(&cnt_bytes[i], __ATOMIC_RELAXED),
			cnt_row_name[i].exact ? "exact" : "min");
	}
	fflush(f);
}

static inline int cnt_madv_row(int advice)
{
	return advice == MADV_COLD ? C_MADV_COLD : advice == MADV_PAGEOUT ? C_MADV_PAGEOUT : C_MADV_OTHER;
}

static inline int t_madvise(void *a, size_t len, int advice)
{
	int r = madvise(a, len, advice);
	cnt_add(cnt_madv_row(advice), r != 0, len);
	return r;
}

static inline long t_sys_madvise(void *a, size_t len, int advice)
{
	long r = syscall(SYS_madvise, a, len, advice);
	cnt_add(cnt_madv_row(advice), r != 0, len);
	return r;
}

static inline int t_posix_madvise(void *a, size_t len, int advice)
{
	int r = posix_madvise(a, len, advice);
	cnt_add(advice == POSIX_MADV_DONTNEED ? C_POSIX_DONTNEED : C_POSIX_WILLNEED, r != 0, len);
	return r;
}

static inline long t_sys_process_madvise(int pidfd, const struct iovec *iov, size_t n, int advice)
{
	long r = syscall(SYS_process_madvise, pidfd, iov, n, advice, 0);
	cnt_add(advice == MADV_COLD ? C_PROC_COLD : C_PROC_PAGEOUT, r < 0, r < 0 ? 0 : (unsigned long)r);
	return r;
}

/* glibc's process_madvise() (2.35+), not syscall(). */
static inline long t_process_madvise(int pidfd, const struct iovec *iov, size_t n, int advice)
{
	long r = process_madvise(pidfd, iov, n, advice, 0);
	cnt_add(advice == MADV_COLD ? C_PROC_COLD : C_PROC_PAGEOUT, r < 0, r < 0 ? 0 : (unsigned long)r);
	return r;
}

static inline int t_munmap(void *a, size_t len)
{
	int r = munmap(a, len);
	cnt_add(C_MUNMAP, r != 0, len);
	return r;
}

static inline void *t_mmap(void *a, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p = mmap(a, len, prot, flags, fd, off);
	int row = !(flags & MAP_ANONYMOUS) ? C_MMAP_FILE : (flags & MAP_SHARED) ? C_MMAP_SHARED : C_MMAP_PRIVATE;
	cnt_add(row, p == MAP_FAILED, len);
	return p;
}

static inline void *t_mremap(void *a, size_t old_len, size_t new_len, int flags, void *new_addr)
{
	void *p = mremap(a, old_len, new_len, flags, new_addr);
	cnt_add(C_MREMAP, p == MAP_FAILED, old_len);
	return p;
}

static inline int t_mprotect(void *a, size_t len, int prot)
{
	int r = mprotect(a, len, prot);
	cnt_add(C_MPROTECT, r != 0, len);
	return r;
}

/* Anonymous private mapping that the test cannot do without. */
static inline void *t_map_or_die(size_t len)
{
	void *p = t_mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		_exit(99);
	}
	return p;
}

#endif
