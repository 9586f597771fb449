/* test_probe.c - the kernel probe agrees with direct measurements. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "sys/probe.h"
#include "sys/procstat.h"
#include "../tap.h"

int main(void)
{
	int maj = 0, min = 0;
	tap_ok(mv_probe_parse_release("6.18.44-fc-v669", &maj, &min) == 0 && maj == 6 && min == 18, "release parses");
	tap_ok(mv_probe_parse_release("x.1", &maj, &min) < 0, "bad release is refused");
	tap_ok(mv_probe_parse_thp("always [madvise] never") == MV_THP_MADVISE, "THP madvise mode");
	tap_ok(mv_probe_parse_thp("[always] madvise never") == MV_THP_ALWAYS, "THP always mode");
	tap_ok(mv_probe_parse_thp("") == MV_THP_UNKNOWN, "THP unknown");

	const struct mv_probe *p = mv_probe_get();
	tap_ok(p->done && mv_probe_get() == p, "probe runs once and caches");
	struct utsname u;
	uname(&u);
	mv_probe_parse_release(u.release, &maj, &min);
	tap_ok(p->kernel_major == maj && p->kernel_minor == min, "kernel version %d.%d", maj, min);

	/* MADV_FREE: the probe must agree with a direct call. */
	char *m = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	m[0] = 1;
	tap_ok(p->madv_free == (madvise(m, 4096, MADV_FREE) == 0), "MADV_FREE support matches a direct call");
	struct iovec iov = { m, 4096 };
	long pfd = syscall(SYS_pidfd_open, getpid(), 0);
	long r = pfd >= 0 ? syscall(SYS_process_madvise, (int)pfd, &iov, 1, MADV_COLD, 0) : -1;
	tap_ok(p->process_madvise_self == (r == 4096), "process_madvise on self matches a direct call");
	long pr = syscall(SYS_process_madvise, -10000 /* PIDFD_SELF */, &iov, 1, MADV_COLD, 0);
	tap_ok(p->pidfd_self == (pr == 4096), "process_madvise through PIDFD_SELF matches a direct call");
	long uffd = syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK);
	int uffd_err = uffd < 0 ? errno : 0;
	if (uffd >= 0)
		close((int)uffd);
	tap_ok(p->userfaultfd == (uffd >= 0) && p->userfaultfd_err == uffd_err,
	       "userfaultfd for kernel faults matches a direct call (error %d)", uffd_err);
	tap_ok(p->mseal == (syscall(462 /* SYS_mseal */, 0, 0, 0) == 0), "mseal matches a direct call");

	/* PT_RECLAIM: measure independently on 8 regions. */
	size_t pmd = 2UL << 20;
	char *raw = mmap(NULL, 9 * pmd, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *b = (char *)(((unsigned long)raw + pmd - 1) & ~(pmd - 1));
	madvise(b, 8 * pmd, MADV_NOHUGEPAGE);
	for (int i = 0; i < 8; i++)
		b[i * pmd] = 1;
	struct mv_procstat s0, s1;
	mv_procstat_read(&s0);
	for (int i = 0; i < 8; i++)
		madvise(b + i * pmd, pmd, MADV_DONTNEED);
	mv_procstat_read(&s1);
	int freed = s0.vm_pte_kb - s1.vm_pte_kb >= 28;
	tap_ok(p->pt_reclaim == freed, "PT_RECLAIM detection (%d) matches VmPTE %lld -> %lld kB", p->pt_reclaim,
	       (long long)s0.vm_pte_kb, (long long)s1.vm_pte_kb);
	return tap_done();
}
