/* probemask.c - the probe sees a leaner kernel (tests only, probe.h).
 *
 * Compiled into tests/libmadvisor_fault.so only. MADVISOR_PROBE_MASK lists,
 * comma-separated, what the probe must not find, whatever this kernel has:
 *
 *     no_pt_reclaim       one aligned 2 MiB MADV_DONTNEED frees no page table (before 6.14)
 *     no_process_madvise  no process_madvise on our own process (nor PIDFD_SELF)
 *     no_pidfd_self       process_madvise through a pidfd only (before 6.15)
 *     no_uffd             no userfaultfd for kernel faults
 *     no_mseal            no mseal (before 6.10)
 *     no_madv_free        no MADV_FREE (before 4.5)
 *     no_vma_lock         madvise under the mmap lock (before 6.17)
 *     thp_never, thp_madvise, thp_always   that THP mode
 *
 * The strategies then take the fallbacks they take on such a kernel. An
 * unknown word is reported on stderr once and ignored. Read without malloc. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "sys/probe.h"
#include "sys/outbuf.h"

static int word(const char *s, size_t n, const char *w)
{
	return strlen(w) == n && memcmp(s, w, n) == 0;
}

void mv_probe_mask(struct mv_probe *p)
{
	const char *m = secure_getenv("MADVISOR_PROBE_MASK");
	while (m && *m) {
		size_t n = strcspn(m, ",");
		if (word(m, n, "no_pt_reclaim"))
			p->pt_reclaim = 0;
		else if (word(m, n, "no_process_madvise"))
			p->process_madvise_self = p->pidfd_self = 0;
		else if (word(m, n, "no_pidfd_self"))
			p->pidfd_self = 0;
		else if (word(m, n, "no_uffd"))
			p->userfaultfd = 0, p->userfaultfd_err = ENOSYS;
		else if (word(m, n, "no_mseal"))
			p->mseal = 0;
		else if (word(m, n, "no_madv_free"))
			p->madv_free = 0;
		else if (word(m, n, "no_vma_lock"))
			p->vma_lock_madvise = 0;
		else if (word(m, n, "thp_never"))
			p->thp = MV_THP_NEVER;
		else if (word(m, n, "thp_madvise"))
			p->thp = MV_THP_MADVISE;
		else if (word(m, n, "thp_always"))
			p->thp = MV_THP_ALWAYS;
		else if (n) {
			char buf[160];
			struct mv_outbuf o;
			mv_out_init(&o, buf, sizeof(buf), 2);
			mv_out_str(&o, "madvisor: MADVISOR_PROBE_MASK: ignoring ");
			mv_out_mem(&o, m, n < 64 ? n : 64);
			mv_out_char(&o, '\n');
			mv_out_flush(&o);
		}
		m += n;
		if (*m)
			m++;
	}
}
