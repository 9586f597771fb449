/* probe.h - what this kernel can do, found by trying it once.
 *
 * Strategies consult it (a page table is freed by MADV_DONTNEED only with
 * PT_RECLAIM; process_madvise on self needs 5.10+/6.13+ semantics) and the
 * stats show it. The probe uses a scratch mapping of its own and raw system
 * calls; it costs a few dozen microseconds and runs at most once. */
#ifndef MADVISOR_PROBE_H
#define MADVISOR_PROBE_H

enum mv_thp_mode { MV_THP_UNKNOWN, MV_THP_ALWAYS, MV_THP_MADVISE, MV_THP_NEVER };

struct mv_probe {
	int done;
	int kernel_major, kernel_minor;
	int madv_free;              /* MADV_FREE accepted */
	int pt_reclaim;             /* one aligned 2 MiB MADV_DONTNEED frees its PTE table (MV_NO_PT_RECLAIM) */
	int process_madvise_self;   /* process_madvise on our own pidfd works */
	int pidfd_self;             /* ... through PIDFD_SELF (-10000), no fd needed */
	int vma_lock_madvise;       /* per-VMA-lock DONTNEED/FREE (6.17+, from the version) */
	enum mv_thp_mode thp;
	int userfaultfd;            /* full (kernel-fault) userfaultfd can be opened */
	int userfaultfd_err;        /* ... or the error opening one gave (EPERM, ENOSYS) */
	int mseal;                  /* the mseal system call exists (6.10+) */
};

/* Tests only: the test library (built with -DMV_FAULT_INJECTION) makes the
 * probe see a leaner kernel than the one it runs on, as MADVISOR_PROBE_MASK
 * says (probemask.c), so that every fallback runs on any machine. The
 * installed library has no trace of it. */
#ifdef MV_FAULT_INJECTION
void mv_probe_mask(struct mv_probe *p);
#else
static inline void mv_probe_mask(struct mv_probe *p)
{
	(void)p;
}
#endif

/* What a feature that needs pt_reclaim says where the kernel lacks it. */
#define MV_NO_PT_RECLAIM "this kernel does not free page tables on MADV_DONTNEED (PT_RECLAIM, Linux 6.14+ on x86_64)"

/* Run the probe once (thread-safe: later callers wait for the first). */
const struct mv_probe *mv_probe_get(void);
/* Parse "6.18.44-..." into major/minor; returns 0 or -1. */
int mv_probe_parse_release(const char *release, int *major, int *minor);
/* THP mode from the text of /sys/kernel/mm/transparent_hugepage/enabled. */
enum mv_thp_mode mv_probe_parse_thp(const char *text);
const char *mv_probe_thp_name(enum mv_thp_mode m);

#endif
