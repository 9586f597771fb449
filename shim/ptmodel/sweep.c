/* sweep.c - reclaim stranded page tables without ever losing data.
 *
 * A pagemap check followed by MADV_DONTNEED is not safe on its own: a thread
 * can fault a page in between and the zap destroys it. So each run of
 * candidate regions (table held, no entry, inside one private anonymous VMA,
 * as the last sample saw them with no event since) is registered with userfaultfd in MISSING mode - not
 * user-mode-only, so faults taken inside the kernel wait too - for the
 * duration of check-then-zap: any fault on an empty entry now sleeps. Then
 * pagemap must show every entry of a region empty, the region is zapped with
 * ONE aligned 2 MiB MADV_DONTNEED (which frees its table under PT_RECLAIM),
 * and the run is unregistered, which wakes every sleeping fault to retry it
 * normally (a fresh zero page: nothing was there). A waker is issued as well
 * in case unregistering failed. Address-space calls through the library wait
 * for the run (events.c), so no VMA is replaced under it.
 *
 * During a run the worker touches only memory it touched before (its stack
 * frame, the model's node): a first touch of an empty page inside the run
 * would sleep on our own userfaultfd. Regions next to its stack are skipped.
 * Runs only on the worker, rate-limited by sweep.max. */
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include "sys/outbuf.h"
#include "ptmodel/model.h"
#include "ptmodel/hook.h"
#include "sys/ownsys.h"
#include "ptmodel/sweep.h"

#define RUN_MAX 8 /* regions registered at once */

static int uffd = -1;
static uint32_t per_sec;
static uint64_t last_ns;
static struct mv_sweep_stats st;

#define LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)

void mv_sweep_stats(struct mv_sweep_stats *out)
{
	*out = st;
	out->active = uffd >= 0;
}

int mv_sweep_open(uint32_t max_per_sec, int stderr_fd)
{
	per_sec = max_per_sec;
	if (uffd >= 0)
		return 0;
	/* Full mode on purpose: no UFFD_USER_MODE_ONLY. */
	long fd = mv_own1(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK), err = fd;
	if (!mv_raw_failed(fd)) {
		struct uffdio_api api = { .api = UFFD_API, .features = 0 };
		err = mv_own3(SYS_ioctl, fd, UFFDIO_API, &api);
		if (err == 0) {
			uffd = (int)fd;
			return 0;
		}
		mv_own1(SYS_close, fd);
	}
	if (stderr_fd >= 0)
		mv_sweep_refuse(-err, stderr_fd);
	return -1;
}

void mv_sweep_refuse(int err, int stderr_fd)
{
	if (err == EPERM)
		mv_out_say(stderr_fd, 0, "the sweep stays off", "sweep: userfaultfd for kernel faults is not permitted here"
			   " (vm.unprivileged_userfaultfd=0 without CAP_SYS_PTRACE)", NULL);
	else if (err == ENOSYS)
		mv_out_say(stderr_fd, 0, "the sweep stays off", "sweep: this kernel has no userfaultfd", NULL);
	else
		mv_out_say(stderr_fd, err, "the sweep stays off", "sweep: userfaultfd cannot be set up", NULL);
}

void mv_sweep_atfork_child(void)
{
	/* The inherited descriptor works on the parent's address space: a
	 * registration through it would not guard the child's zaps. */
	if (uffd < 0)
		return;
	mv_own1(SYS_close, uffd);
	uffd = -1;
	/* Without one (refused in the child), the sweep is off in this process:
	 * an expected condition, said in its report ("active": false), not on
	 * stderr. */
	mv_sweep_open(per_sec, -1);
}

static int uffd_ioctl(unsigned long req, void *arg)
{
	return (int)mv_own3(SYS_ioctl, uffd, req, arg);
}

/* Check and zap the n regions starting at r, all in group g of PMD node p. */
static void sweep_run(struct mv_ptm_pmd *p, struct mv_ptm_group *g, uintptr_t r, unsigned n)
{
	uint64_t e[RUN_MAX * 512];
	memset(e, 0, sizeof(e)); /* touch the stack now, not inside the run */
	unsigned first = (unsigned)((r >> 21) % MV_PTM_GROUP);
	for (unsigned i = 0; i < n; i++)
		mv_ptm_get(&g->pte[first + i]);
	struct uffdio_register reg = { .range = { r, n * MV_PTM_PTE_SPAN }, .mode = UFFDIO_REGISTER_MODE_MISSING };
	st.registrations++; /* writes to our own data happen before the run too */
	if (uffd_ioctl(UFFDIO_REGISTER, &reg) != 0) {
		st.registrations--;
		st.register_failed++;
		goto out;
	}
	long got = mv_ptm_pagemap(r, n * 512, e);
	for (unsigned i = 0; i < n; i++) {
		unsigned used = 0;
		if (got < (long)((i + 1) * 512)) {
			st.skipped_live++; /* cannot tell: leave it */
			continue;
		}
		for (unsigned k = 0; k < 512; k++)
			used |= (unsigned)mv_ptm_entry_used(e[i * 512 + k]);
		if (used) {
			st.skipped_live++;
			continue;
		}
		long z = mv_own3(SYS_madvise, r + i * MV_PTM_PTE_SPAN, MV_PTM_PTE_SPAN, MADV_DONTNEED);
		if (mv_raw_failed(z)) {
			st.zap_failed++;
			continue;
		}
		st.swept++;
		if (mv_ptm_pt_reclaim)
			mv_ptm_free_table(p, &g->pte[first + i]);
	}
	struct uffdio_range rng = { r, n * MV_PTM_PTE_SPAN };
	if (uffd_ioctl(UFFDIO_UNREGISTER, &rng) != 0)
		st.unregister_failed++;
	uffd_ioctl(UFFDIO_WAKE, &rng); /* harmless when nobody waits */
out:
	for (unsigned i = 0; i < n; i++)
		mv_ptm_put(&g->pte[first + i]);
}

static int candidate(uint64_t w)
{
	/* Empty as a sample saw it, no event since: fewer wasted registrations. */
	return (w & MV_PTM_TAB) && (w & MV_PTM_ANON1) && (w & MV_PTM_SAMPLED) && mv_ptm_refs(w) == 0;
}

unsigned mv_sweep_pass(unsigned budget)
{
	if (uffd < 0 || !budget)
		return 0;
	uintptr_t sp = (uintptr_t)__builtin_frame_address(0);
	uintptr_t avoid_lo = (sp - (1ul << 20)) & ~(MV_PTM_PTE_SPAN - 1), avoid_hi = sp + (64ul << 10);
	unsigned done = 0;
	for (struct mv_ptm_pmd *p = mv_ptm_first(); p && done < budget; p = p->next) {
		int entered = 0;
		for (unsigned i = 0; i < 512 && done < budget;) {
			uintptr_t r = p->base + ((uintptr_t)i << 21);
			struct mv_ptm_group *g = mv_ptm_group_of(p, i, 0);
			if (!g) { /* no word in this group: no table */
				i += MV_PTM_GROUP;
				continue;
			}
			unsigned k = i % MV_PTM_GROUP;
			if (!candidate(LOAD(&g->pte[k].w)) || (r + MV_PTM_PTE_SPAN > avoid_lo && r < avoid_hi)) {
				i++;
				continue;
			}
			unsigned n = 1;
			while (k + n < MV_PTM_GROUP && n < RUN_MAX && done + n < budget && candidate(LOAD(&g->pte[k + n].w)))
				n++;
			if (!entered) {
				/* Exclude address-space calls in this 1 GiB (events.c). */
				__atomic_store_n(&p->sweeping, 1, __ATOMIC_SEQ_CST);
				while (__atomic_load_n(&p->busy, __ATOMIC_SEQ_CST))
					mv_raw0(SYS_sched_yield);
				entered = 1;
			}
			sweep_run(p, g, r, n);
			done += n;
			i += n;
		}
		if (entered)
			__atomic_store_n(&p->sweeping, 0, __ATOMIC_SEQ_CST);
	}
	st.passes++;
	return done;
}

void mv_sweep_task(void *arg, uint64_t now_ns)
{
	(void)arg;
	uint64_t since = last_ns ? now_ns - last_ns : 250000000u;
	if (since > 1000000000u)
		since = 1000000000u;
	last_ns = now_ns;
	unsigned budget = (unsigned)(since * per_sec / 1000000000u);
	mv_sweep_pass(budget ? budget : 1);
}
