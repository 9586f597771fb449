/* errno_table - bad and boundary inputs to every intercepted call, one line each.
 *
 * Prints "NAME RESULT ERRNO" per case: RESULT is the return value (for calls
 * returning an address: 0 = success, 1 = MAP_FAILED, or whether the address is
 * the expected one) and ERRNO is errno after the call, which is set to 12345
 * before every call so success shows that errno was left alone. Addresses are
 * never printed: errno.sh runs this with and without madvisor and requires
 * byte-identical output. Cases whose outcome depends on privilege are chosen
 * by capability, the same way in both runs. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>
#include "sys/linux.h" /* constants older headers lack */

#define SENTINEL 12345
#define PG 4096UL

static long pg;

static void line(const char *name, long ret, int err)
{
	const char *en = err == SENTINEL ? NULL : strerrorname_np(err);
	if (en)
		printf("%s %ld %s\n", name, ret, en);
	else
		printf("%s %ld %d\n", name, ret, err);
}

/* Each CASE sets the sentinel, evaluates the call once, then prints. */
#define CASE(name, expr)                          \
	do {                                      \
		errno = SENTINEL;                 \
		long r_ = (long)(expr);           \
		int e_ = errno;                   \
		line(name, r_, e_);               \
	} while (0)
#define CASE_MAP(name, expr)                      \
	do {                                      \
		errno = SENTINEL;                 \
		void *p_ = (expr);                \
		int e_ = errno;                   \
		line(name, p_ == MAP_FAILED, e_); \
	} while (0)

static char *map(size_t len, int prot, int flags)
{
	char *p = mmap(NULL, len, prot, flags | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		exit(99);
	}
	return p;
}
#define MAPRW(len) map((len), PROT_READ | PROT_WRITE, MAP_PRIVATE)

/* An address range that is certainly unmapped right now. */
static char *hole(size_t len)
{
	char *p = MAPRW(len);
	munmap(p, len);
	return p;
}

static int have_cap_sys_admin(void)
{
	struct __user_cap_header_struct h = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct d[2];
	if (syscall(SYS_capget, &h, d) != 0)
		return 0;
	return (d[CAP_SYS_ADMIN / 32].effective >> (CAP_SYS_ADMIN % 32)) & 1;
}

static int memfd(size_t len)
{
	int fd = memfd_create("errno_table", 0);
	if (fd < 0 || ftruncate(fd, (off_t)len) != 0) {
		perror("memfd");
		exit(99);
	}
	for (size_t i = 0; i < len / PG; i++)
		if (pwrite(fd, "ABCDEFGH" + (i % 8), 1, (off_t)(i * PG)) != 1)
			exit(99);
	return fd;
}

static void cases_madvise(void)
{
	char *p = MAPRW(4 * PG);
	CASE("madvise_ok_cold", madvise(p, 2 * PG, MADV_COLD));
	CASE("madvise_ok_dontneed", madvise(p, 4 * PG, MADV_DONTNEED));
	CASE("madvise_unaligned", madvise(p + 1, PG, MADV_DONTNEED));
	CASE("madvise_len0", madvise(p, 0, MADV_DONTNEED));
	CASE("madvise_len0_unaligned", madvise(p + 1, 0, MADV_DONTNEED));
	CASE("madvise_len_unaligned", madvise(p, PG + 1, MADV_COLD));
	CASE("madvise_wrap", madvise(p, (size_t)-PG, MADV_DONTNEED));
	CASE("madvise_wrap_huge", madvise(p, SIZE_MAX, MADV_DONTNEED));
	CASE("madvise_bad_advice", madvise(p, PG, 9999));
	CASE("madvise_negative_advice", madvise(p, PG, -1));
	char *h = hole(2 * PG);
	CASE("madvise_unmapped", madvise(h, 2 * PG, MADV_DONTNEED));
	CASE("madvise_unmapped_cold", madvise(h, PG, MADV_COLD));
	char *q = MAPRW(3 * PG);
	munmap(q + PG, PG);
	CASE("madvise_partly_unmapped", madvise(q, 3 * PG, MADV_DONTNEED));
	munmap(q, 3 * PG);
	char *n = map(2 * PG, PROT_NONE, MAP_PRIVATE);
	CASE("madvise_dontneed_protnone", madvise(n, 2 * PG, MADV_DONTNEED));
	CASE("madvise_free_protnone", madvise(n, 2 * PG, MADV_FREE));
	munmap(n, 2 * PG);
	char *s = map(2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED);
	CASE("madvise_free_shared", madvise(s, 2 * PG, MADV_FREE));
	CASE("madvise_dontneed_shared", madvise(s, 2 * PG, MADV_DONTNEED));
	munmap(s, 2 * PG);
	CASE("madvise_guard_install", madvise(p, PG, MADV_GUARD_INSTALL));
	CASE("madvise_guard_remove", madvise(p, PG, MADV_GUARD_REMOVE));
	if (have_cap_sys_admin())
		printf("madvise_hwpoison not-run-with-CAP_SYS_ADMIN\n"); /* would poison a page */
	else
		CASE("madvise_hwpoison", madvise(p, PG, MADV_HWPOISON));
	munmap(p, 4 * PG);
}

static void cases_munmap(void)
{
	char *p = MAPRW(4 * PG);
	CASE("munmap_unaligned", munmap(p + 1, PG));
	CASE("munmap_len0", munmap(p, 0));
	CASE("munmap_wrap", munmap(p, (size_t)-PG));
	CASE("munmap_ok_partial", munmap(p + PG, PG));
	CASE("munmap_len_unaligned", munmap(p + 2 * PG, 1));
	CASE("munmap_ok_rest", munmap(p, 4 * PG));
	char *h = hole(2 * PG);
	CASE("munmap_unmapped", munmap(h, 2 * PG));
}

static void cases_mmap(void)
{
	int fd = memfd(4 * PG);
	CASE_MAP("mmap_len0", mmap(NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	CASE_MAP("mmap_len_huge", mmap(NULL, SIZE_MAX - PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	CASE_MAP("mmap_no_type", mmap(NULL, PG, PROT_READ, MAP_ANONYMOUS, -1, 0));
	int bad = dup(fd);
	close(bad);
	CASE_MAP("mmap_bad_fd", mmap(NULL, PG, PROT_READ, MAP_PRIVATE, bad, 0));
	CASE_MAP("mmap_fd_negative", mmap(NULL, PG, PROT_READ, MAP_PRIVATE, -1, 0));
	CASE_MAP("mmap_unaligned_offset", mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 1));
	int wo = open("/dev/null", O_WRONLY);
	CASE_MAP("mmap_writeonly_fd", mmap(NULL, PG, PROT_READ, MAP_SHARED, wo, 0));
	close(wo);
	char *live = MAPRW(2 * PG);
	CASE_MAP("mmap_fixed_noreplace_live", mmap(live, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0));
	CASE_MAP("mmap_fixed_unaligned", mmap(live + 1, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0));
	errno = SENTINEL;
	void *r = mmap(live, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	line("mmap_fixed_replace_same_addr", r == (void *)live, errno);
	munmap(live, 2 * PG);
	errno = SENTINEL;
	char *pn = mmap(NULL, 2 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	line("mmap_protnone", pn == MAP_FAILED, errno);
	if (pn != MAP_FAILED)
		munmap(pn, 2 * PG);
	errno = SENTINEL;
	char *sh = mmap(NULL, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	line("mmap_shared_anon", sh == MAP_FAILED, errno);
	if (sh != MAP_FAILED)
		munmap(sh, PG);
	errno = SENTINEL;
	char *f = mmap(NULL, PG, PROT_READ, MAP_PRIVATE, fd, 2 * PG);
	int e = errno;
	line("mmap_file_offset", f == MAP_FAILED ? -1 : f[0], e);
	if (f != MAP_FAILED)
		munmap(f, PG);
	close(fd);
}

static void cases_mremap(void)
{
	char *p = MAPRW(4 * PG);
	char *spare;
	errno = SENTINEL;
	void *r = mremap(p, 4 * PG, 2 * PG, 0);
	line("mremap_shrink_same_addr", r == (void *)p, errno);
	/* the freed tail is free space: growing back in place works */
	errno = SENTINEL;
	r = mremap(p, 2 * PG, 3 * PG, 0);
	line("mremap_grow_in_place", r == (void *)p, errno);
	spare = mmap(p + 3 * PG, PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	CASE_MAP("mremap_grow_blocked", mremap(p, 3 * PG, 5 * PG, 0));
	errno = SENTINEL;
	r = mremap(p, 3 * PG, 8 * PG, MREMAP_MAYMOVE);
	line("mremap_grow_maymove", r == MAP_FAILED, errno);
	if (r != MAP_FAILED)
		p = r;
	char *dst = hole(8 * PG);
	CASE_MAP("mremap_fixed_without_maymove", mremap(p, 8 * PG, 8 * PG, MREMAP_FIXED, dst));
	errno = SENTINEL;
	r = mremap(p, 8 * PG, 8 * PG, MREMAP_FIXED | MREMAP_MAYMOVE, dst);
	line("mremap_fixed_maymove_at_dst", r == (void *)dst, errno);
	if (r != MAP_FAILED)
		p = r;
	CASE_MAP("mremap_bad_flags", mremap(p, PG, PG, 0x100));
	CASE_MAP("mremap_unaligned", mremap(p + 1, PG, 2 * PG, MREMAP_MAYMOVE));
	CASE_MAP("mremap_new_len0", mremap(p, PG, 0, MREMAP_MAYMOVE));
	CASE_MAP("mremap_old_len0_private", mremap(p, 0, PG, MREMAP_MAYMOVE));
	char *h = hole(2 * PG);
	CASE_MAP("mremap_unmapped", mremap(h, PG, 2 * PG, MREMAP_MAYMOVE));
	char *s = map(2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED);
	errno = SENTINEL;
	r = mremap(s, 0, 2 * PG, MREMAP_MAYMOVE);
	line("mremap_old_len0_shared", r == MAP_FAILED, errno);
	if (r != MAP_FAILED)
		munmap(r, 2 * PG);
	munmap(s, 2 * PG);
	/* MREMAP_DONTUNMAP reads new_address as a hint even without
	 * MREMAP_FIXED, so it is always passed here. */
	errno = SENTINEL;
	r = mremap(p, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
	line("mremap_dontunmap", r == MAP_FAILED, errno);
	if (r != MAP_FAILED)
		munmap(r, 2 * PG);
	char *hint = hole(2 * PG);
	errno = SENTINEL;
	r = mremap(p, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, hint);
	line("mremap_dontunmap_hint_used", r == (void *)hint, errno);
	if (r != MAP_FAILED)
		munmap(r, 2 * PG);
	CASE_MAP("mremap_dontunmap_unaligned_hint", mremap(p, 2 * PG, 2 * PG, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, hint + 1));
	munmap(p, 8 * PG);
	munmap(spare, PG);
}

static void cases_mprotect(void)
{
	char *p = MAPRW(2 * PG);
	CASE("mprotect_unaligned", mprotect(p + 1, PG, PROT_READ));
	CASE("mprotect_len0", mprotect(p, 0, PROT_READ));
	CASE("mprotect_bad_prot", mprotect(p, PG, 0x1000));
	CASE("mprotect_protnone", mprotect(p, 2 * PG, PROT_NONE));
	CASE("mprotect_rw_again", mprotect(p, 2 * PG, PROT_READ | PROT_WRITE));
	CASE("mprotect_wrap", mprotect(p, (size_t)-PG, PROT_READ));
	munmap(p, 2 * PG);
	char *h = hole(2 * PG);
	CASE("mprotect_unmapped", mprotect(h, 2 * PG, PROT_READ));
}

static void cases_posix_madvise(void)
{
	char *p = MAPRW(2 * PG);
	/* posix_madvise returns the error and must leave errno alone */
	CASE("posix_madvise_bad_advice", posix_madvise(p, PG, 9999));
	CASE("posix_madvise_unaligned", posix_madvise(p + 1, PG, POSIX_MADV_WILLNEED));
	CASE("posix_madvise_dontneed", posix_madvise(p, 2 * PG, POSIX_MADV_DONTNEED));
	CASE("posix_madvise_dontneed_unaligned", posix_madvise(p + 1, PG, POSIX_MADV_DONTNEED));
	CASE("posix_madvise_willneed", posix_madvise(p, 2 * PG, POSIX_MADV_WILLNEED));
	CASE("posix_madvise_random", posix_madvise(p, 2 * PG, POSIX_MADV_RANDOM));
	munmap(p, 2 * PG);
	char *h = hole(2 * PG);
	CASE("posix_madvise_unmapped", posix_madvise(h, 2 * PG, POSIX_MADV_SEQUENTIAL));
}

static void cases_syscall(void)
{
	char *p = MAPRW(4 * PG);
	CASE("sys_madvise_ok", syscall(SYS_madvise, p, 2 * PG, MADV_COLD));
	CASE("sys_madvise_bad_advice", syscall(SYS_madvise, p, PG, 9999));
	CASE("sys_madvise_unaligned", syscall(SYS_madvise, p + 1, PG, MADV_DONTNEED));
	CASE("sys_mprotect_bad_prot", syscall(SYS_mprotect, p, PG, 0x1000));
	CASE("sys_mprotect_ok", syscall(SYS_mprotect, p, PG, PROT_READ));
	CASE("sys_munmap_unaligned", syscall(SYS_munmap, p + 1, PG));
	CASE("sys_munmap_ok", syscall(SYS_munmap, p + 3 * PG, PG));
	errno = SENTINEL;
	long r = syscall(SYS_mremap, p, PG, 16 * PG, MREMAP_MAYMOVE, 0);
	line("sys_mremap_grow_maymove", r == -1, errno);
	if (r != -1)
		munmap((void *)r, 16 * PG);
	char *dst = hole(2 * PG);
	errno = SENTINEL;
	r = syscall(SYS_mremap, p + 2 * PG, PG, PG, MREMAP_MAYMOVE | MREMAP_FIXED, dst);
	line("sys_mremap_fixed_at_dst", r == (long)dst, errno);
	munmap(dst, PG);
	char *h = hole(2 * PG);
	CASE("sys_mremap_unmapped", syscall(SYS_mremap, h, PG, 2 * PG, MREMAP_MAYMOVE, 0));

	int fd = memfd(4 * PG);
	errno = SENTINEL;
	r = syscall(SYS_mmap, NULL, PG, PROT_READ, MAP_PRIVATE, fd, 3 * PG);
	int e = errno;
	line("sys_mmap_file_offset", r == -1 ? -1 : *(char *)r, e);
	if (r != -1)
		munmap((void *)r, PG);
	CASE("sys_mmap_len0", syscall(SYS_mmap, NULL, 0, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
	CASE("sys_mmap_unaligned_offset", syscall(SYS_mmap, NULL, PG, PROT_READ, MAP_PRIVATE, fd, 5));
	close(fd);

	char *q = MAPRW(4 * PG);
	struct iovec iov[2] = { { q, PG }, { q + 2 * PG, 2 * PG } };
	int pidfd = (int)syscall(SYS_pidfd_open, getpid(), 0);
	if (pidfd < 0) {
		printf("sys_process_madvise_pidfd not-run-no-pidfd_open\n");
	} else {
		CASE("sys_process_madvise_pidfd", syscall(SYS_process_madvise, pidfd, iov, 2, MADV_COLD, 0));
		CASE("sys_process_madvise_bad_flags", syscall(SYS_process_madvise, pidfd, iov, 2, MADV_COLD, 1));
		CASE("sys_process_madvise_bad_advice", syscall(SYS_process_madvise, pidfd, iov, 2, 9999, 0));
		CASE("process_madvise_libc", process_madvise(pidfd, iov, 2, MADV_PAGEOUT, 0));
		close(pidfd);
	}
	int badfd = 987654; /* above any fd limit in use */
	CASE("sys_process_madvise_bad_pidfd", syscall(SYS_process_madvise, badfd, iov, 2, MADV_COLD, 0));
	CASE("sys_process_madvise_pidfd_self", syscall(SYS_process_madvise, PIDFD_SELF, iov, 1, MADV_COLD, 0));
	CASE("sys_process_madvise_vlen0", syscall(SYS_process_madvise, PIDFD_SELF, iov, 0, MADV_COLD, 0));
	munmap(q, 4 * PG);
	munmap(p + PG, PG);

	errno = SENTINEL;
	r = syscall(SYS_getpid);
	line("sys_getpid_forwarded", r == getpid(), errno);
	CASE("sys_close_bad_fd", syscall(SYS_close, badfd));
	CASE("sys_bogus_number", syscall(100000));
}

/* Range calls: mlock family, msync, mincore, mseal, pkey_mprotect. */
static void cases_range_calls(void)
{
	unsigned char vec[8];
	char *p = MAPRW(4 * PG);
	char *h = hole(2 * PG);
	CASE("mlock_unmapped", mlock(h, PG));
	CASE("mlock_len0", mlock(p, 0));
	CASE("mlock_wrap", mlock(p, (size_t)-PG));
	CASE("mlock2_bad_flags", mlock2(p, PG, 0x100));
	CASE("munlock_unmapped", munlock(h, PG));
	CASE("munlock_ok", munlock(p, PG));
	CASE("mlockall_zero", mlockall(0));
	CASE("mlockall_bad_flags", mlockall(0x100));
	CASE("mlockall_onfault_alone", mlockall(MCL_ONFAULT));
	CASE("munlockall_ok", munlockall());
	CASE("msync_unaligned", msync(p + 1, PG, MS_SYNC));
	CASE("msync_both", msync(p, PG, MS_SYNC | MS_ASYNC));
	CASE("msync_bad_flags", msync(p, PG, 0x100));
	CASE("msync_unmapped", msync(h, PG, MS_SYNC));
	CASE("msync_ok", msync(p, 2 * PG, MS_ASYNC));
	CASE("mincore_unaligned", mincore(p + 1, PG, vec));
	CASE("mincore_unmapped", mincore(h, PG, vec));
	CASE("mincore_bad_vec", mincore(p, PG, (unsigned char *)8));
	CASE("mincore_ok", mincore(p, 2 * PG, vec));
	CASE("pkey_mprotect_bad_key", pkey_mprotect(p, PG, PROT_READ, 1000));
	CASE("pkey_mprotect_unmapped", pkey_mprotect(h, PG, PROT_READ, 0));
	CASE("pkey_mprotect_ok", pkey_mprotect(p, PG, PROT_READ | PROT_WRITE, 0));
	CASE("mseal_unaligned", syscall(SYS_mseal, p + 1, PG, 0));
	CASE("mseal_bad_flags", syscall(SYS_mseal, p, PG, 1));
	CASE("mseal_unmapped", syscall(SYS_mseal, h, PG, 0));
	CASE("sys_mlock_unmapped", syscall(SYS_mlock, h, PG));
	CASE("sys_msync_unmapped", syscall(SYS_msync, h, PG, MS_SYNC));
	CASE("sys_mincore_unmapped", syscall(SYS_mincore, h, PG, vec));
	munmap(p, 4 * PG);
}

int main(void)
{
	pg = sysconf(_SC_PAGESIZE);
	if (pg != (long)PG) {
		printf("page size %ld is not 4096: cases assume 4 KiB pages\n", pg);
		return 77;
	}
	cases_madvise();
	cases_munmap();
	cases_mmap();
	cases_mremap();
	cases_mprotect();
	cases_posix_madvise();
	cases_syscall();
	cases_range_calls();
	return 0;
}
