/* test_sweep.c - the stranded-table sweep never loses data and does reclaim.
 *
 * Threads keep faulting and writing random pages of the candidate regions
 * while sweeps run; afterwards every page must hold what was last written.
 * A region the model believes empty but which has a page is skipped with its
 * data intact. Once the writers stop and the regions are emptied with small
 * DONTNEED calls, the sweep brings the stranded tables to zero and VmPTE
 * falls by as much. */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "core/hot.h"
#include "sys/probe.h"
#include "sys/procstat.h"
#include "ptmodel/model.h"
#include "ptmodel/hook.h"
#include "core/request.h"
#include "ptmodel/sweep.h"
#include "../tap.h"

#define R2 (2ul << 20)
#define NREG 32
#define PAGES (NREG * 512)
#define WRITERS 2

static char *base;
static uint64_t *shadow;
static int stop, pause_req, paused;

static long vm_pte(void)
{
	struct mv_procstat ps;
	mv_procstat_read(&ps);
	return ps.vm_pte_kb * 1024;
}

static void *writer(void *arg)
{
	unsigned id = (unsigned)(long)arg, seed = id * 7919 + 1;
	uint64_t v = ((uint64_t)id << 56) + 1;
	for (unsigned n = 0; !__atomic_load_n(&stop, __ATOMIC_ACQUIRE); n++) {
		if (__atomic_load_n(&pause_req, __ATOMIC_ACQUIRE)) {
			__atomic_fetch_add(&paused, 1, __ATOMIC_ACQ_REL);
			while (__atomic_load_n(&pause_req, __ATOMIC_ACQUIRE))
				usleep(100);
			__atomic_fetch_sub(&paused, 1, __ATOMIC_ACQ_REL);
		}
		if (n % 16 == 0)
			usleep(20); /* leave the sweep empty regions to find */
		unsigned pg = (unsigned)rand_r(&seed) % PAGES;
		pg -= pg % WRITERS;
		pg += id; /* each writer owns its own pages */
		if (pg >= PAGES)
			continue;
		uint64_t *p = (uint64_t *)(base + (size_t)pg * 4096);
		if (*p != shadow[pg]) /* read back what this thread wrote last */
			__atomic_store_n(&stop, 2, __ATOMIC_RELEASE);
		*p = v;
		shadow[pg] = v++;
	}
	return NULL;
}

static long stranded_in_range(void)
{
	long n = 0;
	for (uintptr_t r = (uintptr_t)base; r < (uintptr_t)base + NREG * R2; r += R2) {
		struct mv_ptm_pmd *p = mv_ptm_pmd_of(r, 0);
		uint64_t w = p ? mv_ptm_word(p, r) : 0;
		n += (w & MV_PTM_TAB) && (w & MV_PTM_POP_MASK) == 0;
	}
	return n;
}

int main(void)
{
	tap_plan(9);
	const struct mv_probe *k = mv_probe_get();
	if (!k->userfaultfd || !k->pt_reclaim || mv_ptm_init(k->pt_reclaim) != 0) {
		for (int i = 0; i < 9; i++)
			tap_skip(!k->userfaultfd ? "userfaultfd for kernel faults is not permitted"
						 : "the kernel does not free page tables on MADV_DONTNEED");
		return 0;
	}
	mv_ptm_pt_reclaim = 1;
	__atomic_fetch_or(&mv_hot.counting, MV_COUNT_MODEL, __ATOMIC_RELEASE);
	tap_ok(mv_sweep_open(1000, 2) == 0, "userfaultfd opened in full mode");
	__atomic_store_n(&mv_ptm_exclusive, 1, __ATOMIC_SEQ_CST);

	shadow = calloc(PAGES, sizeof(*shadow));
	struct mv_request q = { .kind = MV_MMAP, .len = (NREG + 1) * R2, .prot = PROT_READ | PROT_WRITE,
				.flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, .fd = -1 };
	char *m = (char *)mv_handle(&q);
	base = (char *)(((uintptr_t)m + R2 - 1) & ~(R2 - 1));
	madvise(base, NREG * R2, MADV_NOHUGEPAGE);
	/* Strand every region: a page in, a 4 KiB DONTNEED out. */
	for (int i = 0; i < NREG; i++) {
		base[i * R2] = 1;
		mv_handle(&(struct mv_request){ .kind = MV_MADVISE, .addr = base + i * R2, .len = 4096,
						.advice = MADV_DONTNEED });
	}
	mv_ptm_sample_all();

	/* 1. A region the model thinks empty but which holds a page. */
	long before = stranded_in_range();
	memset(base + 5 * R2 + 12288, 0xab, 4096);
	struct mv_sweep_stats s0, s1;
	mv_sweep_stats(&s0);
	mv_sweep_pass(NREG);
	mv_sweep_stats(&s1);
	int intact = 1;
	for (int i = 0; i < 4096; i++)
		intact &= (unsigned char)base[5 * R2 + 12288 + i] == 0xab;
	tap_ok(s1.skipped_live == s0.skipped_live + 1 && intact,
	       "a stranded candidate written behind the model's back is skipped, its page intact"
	       " (skipped %lu, %ld candidates)", (unsigned long)(s1.skipped_live - s0.skipped_live), before);
	tap_ok(s1.swept - s0.swept == (uint64_t)before - 1, "the other %ld candidates were swept (%lu)",
	       before - 1, (unsigned long)(s1.swept - s0.swept));
	memset(base + 5 * R2 + 12288, 0, 4096);

	/* 2. Writers fault and write random pages while sweeps run. */
	pthread_t t[WRITERS];
	for (long i = 0; i < WRITERS; i++)
		pthread_create(&t[i], NULL, writer, (void *)i);
	uint64_t rounds = 0;
	unsigned seed = 12345;
	for (int i = 0; i < 400 && __atomic_load_n(&stop, __ATOMIC_ACQUIRE) != 2; i++) {
		/* Writers paused: empty a few regions with small calls (their
		 * pages read zero from now on), let the model see it, resume,
		 * and sweep while the writers fault into those regions. */
		__atomic_store_n(&pause_req, 1, __ATOMIC_RELEASE);
		while (__atomic_load_n(&paused, __ATOMIC_ACQUIRE) != WRITERS)
			usleep(50);
		for (int j = 0; j < 8; j++) {
			int r = (i * 8 + j) % NREG;
			for (int pg = 0; pg < 512; pg += 64)
				mv_handle(&(struct mv_request){ .kind = MV_MADVISE, .addr = base + r * R2 + pg * 4096,
								.len = 64 * 4096, .advice = MADV_DONTNEED });
			memset(shadow + r * 512, 0, 512 * sizeof(*shadow));
		}
		mv_ptm_sample_all();
		__atomic_store_n(&pause_req, 0, __ATOMIC_RELEASE);
		usleep((unsigned)rand_r(&seed) % 400); /* writers mid-fault when the sweep starts */
		rounds += mv_sweep_pass(NREG);
	}
	__atomic_store_n(&stop, stop ? stop : 1, __ATOMIC_RELEASE);
	for (int i = 0; i < WRITERS; i++)
		pthread_join(t[i], NULL);
	mv_sweep_stats(&s0);
	size_t bad = 0;
	for (size_t pg = 0; pg < PAGES; pg++)
		bad += *(uint64_t *)(base + pg * 4096) != shadow[pg];
	tap_ok(stop == 1 && bad == 0, "%d writers vs %lu sweep attempts (%lu swept, %lu skipped live):"
	       " no page changed (%zu differ)", WRITERS, (unsigned long)rounds,
	       (unsigned long)(s0.swept - s1.swept), (unsigned long)(s0.skipped_live - s1.skipped_live), bad);
	tap_ok(s0.unregister_failed == 0 && s0.zap_failed == 0, "every run unregistered, every zap succeeded");

	/* 3. Writers gone: empty everything with small calls; the sweep reclaims. */
	for (size_t pg = 0; pg < PAGES; pg += 16)
		mv_handle(&(struct mv_request){ .kind = MV_MADVISE, .addr = base + pg * 4096, .len = 16 * 4096,
						.advice = MADV_DONTNEED });
	base[7 * R2 + 4096] = 7; /* one region keeps a live page */
	mv_ptm_sample_all();
	long st0 = stranded_in_range(), k0 = vm_pte();
	tap_ok(st0 == NREG - 1, "%ld stranded tables in the test range before the sweep", st0);
	for (int i = 0; i < 4 && stranded_in_range(); i++)
		mv_sweep_pass(NREG);
	mv_ptm_sample_all();
	long st1 = stranded_in_range(), k1 = vm_pte();
	tap_ok(st1 == 0, "stranded tables after the sweep: %ld", st1);
	tap_ok(k0 - k1 >= st0 * 4096, "VmPTE fell by %ld B (>= %ld B)", k0 - k1, st0 * 4096);
	tap_ok(base[7 * R2 + 4096] == 7, "the live region kept its page");
	return tap_failed ? 1 : 0;
}
