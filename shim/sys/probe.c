/* probe.c - detect kernel features by using them on a scratch mapping. */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include "sys/probe.h"
#include "sys/procstat.h"
#include "sys/ownsys.h"
#include "sys/linux.h"

#define PMD (2UL << 20)
#define PROBE_REGIONS 4

int mv_probe_parse_release(const char *r, int *major, int *minor)
{
	int v[2] = { 0, 0 };
	for (int i = 0; i < 2; i++) {
		if (*r < '0' || *r > '9')
			return -1;
		while (*r >= '0' && *r <= '9')
			v[i] = v[i] * 10 + (*r++ - '0');
		if (i == 0 && *r++ != '.')
			return -1;
	}
	*major = v[0];
	*minor = v[1];
	return 0;
}

enum mv_thp_mode mv_probe_parse_thp(const char *t)
{
	if (strstr(t, "[always]"))
		return MV_THP_ALWAYS;
	if (strstr(t, "[madvise]"))
		return MV_THP_MADVISE;
	if (strstr(t, "[never]"))
		return MV_THP_NEVER;
	return MV_THP_UNKNOWN;
}

const char *mv_probe_thp_name(enum mv_thp_mode m)
{
	static const char *const n[] = { "unknown", "always", "madvise", "never" };
	return n[m];
}

static void read_text(const char *path, char *buf, size_t cap)
{
	long fd = mv_own4(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC, 0);
	long n = 0;
	if (!mv_raw_failed(fd)) {
		n = mv_own3(SYS_read, fd, buf, cap - 1);
		mv_own1(SYS_close, fd);
	}
	buf[n > 0 ? n : 0] = 0;
}

/* Populate one page in each of PROBE_REGIONS aligned 2 MiB regions, then free
 * each region with one aligned MADV_DONTNEED: with PT_RECLAIM, VmPTE drops by
 * a page table (4 kB) per region. NOHUGEPAGE keeps THP from mapping a PMD. */
static void probe_tables(struct mv_probe *p, char *base)
{
	struct mv_procstat before, after;
	mv_own3(SYS_madvise, base, PROBE_REGIONS * PMD, MADV_NOHUGEPAGE);
	for (int i = 0; i < PROBE_REGIONS; i++)
		base[i * PMD] = 1;
	if (mv_procstat_read(&before) < 0 || before.vm_pte_kb < 0)
		return;
	for (int i = 0; i < PROBE_REGIONS; i++)
		mv_own3(SYS_madvise, base + i * PMD, PMD, MADV_DONTNEED);
	mv_procstat_read(&after);
	/* Other threads may add tables meanwhile; demand most of the expected drop. */
	p->pt_reclaim = before.vm_pte_kb - after.vm_pte_kb >= (PROBE_REGIONS - 1) * 4;
}

static void probe_process_madvise(struct mv_probe *p, char *page)
{
	struct iovec iov = { page, 4096 };
	if (mv_own6(SYS_process_madvise, PIDFD_SELF, (long)&iov, 1, MADV_COLD, 0, 0) == 4096) {
		p->process_madvise_self = p->pidfd_self = 1;
		return;
	}
	long fd = mv_own2(SYS_pidfd_open, mv_raw0(SYS_getpid), 0);
	if (mv_raw_failed(fd))
		return;
	p->process_madvise_self = mv_own6(SYS_process_madvise, fd, (long)&iov, 1, MADV_COLD, 0, 0) == 4096;
	mv_own1(SYS_close, fd);
}

static void probe_now(struct mv_probe *p)
{
	struct utsname u;
	char buf[256];
	memset(p, 0, sizeof(*p));
	if (mv_own1(SYS_uname, &u) == 0)
		mv_probe_parse_release(u.release, &p->kernel_major, &p->kernel_minor);
	p->vma_lock_madvise = p->kernel_major > 6 || (p->kernel_major == 6 && p->kernel_minor >= 17);
	read_text("/sys/kernel/mm/transparent_hugepage/enabled", buf, sizeof(buf));
	p->thp = mv_probe_parse_thp(buf);

	long fd = mv_own1(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	if (!mv_raw_failed(fd)) {
		p->userfaultfd = 1;
		mv_own1(SYS_close, fd);
	} else {
		p->userfaultfd_err = (int)-fd;
	}
	/* An empty range seals nothing: 0 where the call exists, ENOSYS where not. */
	p->mseal = mv_own3(SYS_mseal, 0, 0, 0) == 0;

	/* Scratch: PROBE_REGIONS aligned 2 MiB regions out of one reservation. */
	size_t span = (PROBE_REGIONS + 1) * PMD;
	long m = mv_own6(SYS_mmap, 0, (long)span, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			 -1, 0);
	if (mv_raw_failed(m)) {
		p->done = 1;
		return;
	}
	char *base = (char *)(((unsigned long)m + PMD - 1) & ~(PMD - 1));
	base[0] = 1;
	p->madv_free = mv_own3(SYS_madvise, base, 4096, MADV_FREE) == 0;
	probe_process_madvise(p, base);
	probe_tables(p, base);
	mv_own2(SYS_munmap, m, span);
	p->done = 1;
}

static struct mv_probe cached;
static int state; /* 0 not run, 1 running, 2 done */

const struct mv_probe *mv_probe_get(void)
{
	int s = __atomic_load_n(&state, __ATOMIC_ACQUIRE);
	if (s == 2)
		return &cached;
	int expect = 0;
	if (__atomic_compare_exchange_n(&state, &expect, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
		probe_now(&cached);
		mv_probe_mask(&cached);
		__atomic_store_n(&state, 2, __ATOMIC_RELEASE);
		return &cached;
	}
	while (__atomic_load_n(&state, __ATOMIC_ACQUIRE) != 2)
		mv_raw0(SYS_sched_yield);
	return &cached;
}
