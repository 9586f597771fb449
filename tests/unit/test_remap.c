/* test_remap.c - pt_reclaim on kernels without PT_RECLAIM (advice.h,
 * MV_PTR_REMAP): an allocator's MADV_DONTNEED over whole aligned 2 MiB
 * regions of one plain private anonymous mapping the map registry knows is
 * given back as one fresh mmap(MAP_FIXED), which frees the page tables on
 * every kernel. What the program sees is what MADV_DONTNEED gives (zero, not
 * resident, the edges purged, nothing else touched), the mapping stays one
 * VMA in /proc/self/maps, and ranges the registry cannot vouch for (advice,
 * mlock, mremap, fork, userfaultfd) get plain MADV_DONTNEED. */
#define MV_TEST_HOOKS /* calls test hooks (sys/testhook.h) */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/advice.h"
#include "core/hot.h"
#include "core/stats.h"
#include "munmap/registry.h"
#include "sys/procstat.h"
#include "../tap.h"
#include "strategy.h"

#define PMD (2UL << 20)
#define N 6 /* regions in the test mapping */

static const char alloc_code[64]; /* the allocator's code, as far as the policy knows */

static uint64_t pol_count(int c)
{
	static struct mv_stats s;
	mv_stats_merge(&s);
	return s.policy[c];
}

/* The allocator's purge, as the interposer hands it to the strategy. */
static long purge(void *p, size_t len, int advice)
{
	struct mv_request q = { .kind = MV_MADVISE, .addr = p, .len = len, .advice = advice,
				.caller = alloc_code + 8 };
	return mv_munmap_dispatch(&q);
}

static long vm_pte_kb(void)
{
	struct mv_procstat s;
	return mv_procstat_read(&s) == 0 ? (long)s.vm_pte_kb : -1;
}

/* Lines of /proc/self/maps, and the one VMA holding addr. */
static int maps(uintptr_t addr, uintptr_t *lo, uintptr_t *hi)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[512];
	int n = 0;
	*lo = *hi = 0;
	while (f && fgets(line, sizeof(line), f)) {
		unsigned long a, b;
		n++;
		if (sscanf(line, "%lx-%lx", &a, &b) == 2 && a <= addr && addr < b)
			*lo = a, *hi = b;
	}
	if (f)
		fclose(f);
	return n;
}

/* A mapping made through the strategy (so the registry knows it) holding N
 * aligned 2 MiB regions, each with a few pages written. */
static char *region(char **raw)
{
	*raw = anon((N + 1) * PMD / PG);
	char *b = (char *)(((uintptr_t)*raw + PMD - 1) & ~(PMD - 1));
	for (size_t i = 0; i < N; i++) {
		memset(b + i * PMD, 7, PG);
		b[i * PMD + PMD - PG] = 8;
	}
	return b;
}

static void whole_cores(void)
{
	char *raw, *b = region(&raw);
	uintptr_t lo0, hi0, lo1, hi1;
	int vmas = maps((uintptr_t)b, &lo0, &hi0);
	b[PMD - PG] = 9;           /* the leading edge: the last page before the core */
	b[(N - 1) * PMD + PG] = 9; /* just past the trailing edge (one page) */
	uint64_t remapped = pol_count(MV_POL_REMAPPED), cores = pol_count(MV_POL_CORES);
	long k0 = vm_pte_kb();
	long r = purge(b + PMD - PG, (N - 2) * PMD + 2 * PG, MADV_DONTNEED);
	long k1 = vm_pte_kb();
	tap_ok(r == 0, "DONTNEED with ragged edges over %d whole regions: 0", N - 2);
	tap_ok(pol_count(MV_POL_REMAPPED) == remapped + 1 && pol_count(MV_POL_CORES) == cores + 1,
	       "the core went as one fresh mapping");
	tap_ok(k0 - k1 >= (N - 3) * 4, "the page tables of the whole regions are freed (VmPTE %ld -> %ld kB)", k0, k1);
	unsigned char vec[N * PMD / PG];
	int resident = 0;
	mincore(b + PMD - PG, (N - 2) * PMD + 2 * PG, vec);
	for (size_t i = 0; i < (N - 2) * PMD / PG + 2; i++)
		resident += vec[i] & 1;
	tap_ok(resident == 0, "nothing in the range is resident (%d pages)", resident);
	int zero = 1;
	for (size_t i = 1; i < N - 1; i++)
		zero &= all_zero(b + i * PMD, PG) && b[i * PMD + PMD - PG] == 0;
	tap_ok(zero && b[PMD - PG] == 0 && b[(N - 1) * PMD] == 0, "the core and the edges read zero");
	tap_ok(b[0] == 7 && b[(N - 1) * PMD + PG] == 9 && b[(N - 1) * PMD + PMD - PG] == 8,
	       "pages outside the call are untouched");
	int vmas1 = maps((uintptr_t)b, &lo1, &hi1);
	tap_ok(vmas1 == vmas && lo1 == lo0 && hi1 == hi0,
	       "the fresh core re-merged: still one VMA %lx-%lx (%d lines in /proc/self/maps, were %d)",
	       (unsigned long)lo1, (unsigned long)hi1, vmas1, vmas);
	struct mv_reg_entry e;
	tap_ok(mv_reg_attrs((uintptr_t)b, (uintptr_t)b + N * PMD, &e) == 0 && e.advice == 0,
	       "the registry still has it as one plain mapping");
	memset(b + 2 * PMD, 5, PG);
	tap_ok(b[2 * PMD] == 5 && b[2 * PMD + PG] == 0, "the core is writable again");

	/* Exactly the core: one call, nothing else. */
	uint64_t calls = pol_count(MV_POL_KERNEL_CALLS);
	remapped = pol_count(MV_POL_REMAPPED);
	r = purge(b + 2 * PMD, PMD, MADV_DONTNEED);
	tap_ok(r == 0 && b[2 * PMD] == 0 && pol_count(MV_POL_REMAPPED) == remapped + 1 &&
		       pol_count(MV_POL_KERNEL_CALLS) == calls + 1,
	       "an exactly aligned 2 MiB DONTNEED: one fresh mapping, one system call");
	/* Smaller than a region: as asked. */
	memset(b + 3 * PMD, 5, PG);
	remapped = pol_count(MV_POL_REMAPPED);
	tap_ok(purge(b + 3 * PMD, PMD - PG, MADV_DONTNEED) == 0 && b[3 * PMD] == 0 &&
		       pol_count(MV_POL_REMAPPED) == remapped,
	       "less than a whole region: plain DONTNEED");
	do_munmap(raw, (N + 1) * PMD);
	mv_munmap_drain();
}

/* Ranges a fresh mapping would change, or that the registry does not know:
 * plain MADV_DONTNEED, which still zeroes them. */
static void refused_as(const char *what, char *b, long want)
{
	uint64_t remapped = pol_count(MV_POL_REMAPPED);
	memset(b + PMD, 3, PG);
	long r = purge(b + PMD, PMD, MADV_DONTNEED);
	tap_ok(r == want && (r != 0 || b[PMD] == 0) && pol_count(MV_POL_REMAPPED) == remapped,
	       "%s: plain DONTNEED, the kernel's %ld (got %ld)", what, want, r);
}

static void refused(const char *what, char *b)
{
	refused_as(what, b, 0);
}

static void not_vouched(void)
{
	char *raw, *b = region(&raw);
	do_madvise(b + PMD, PMD, MADV_NOHUGEPAGE);
	refused("THP advice on the range", b);
	do_munmap(raw, (N + 1) * PMD);

	/* mlock: the kernel refuses DONTNEED on locked memory (EINVAL), and
	 * what failed part-way (ENOMEM, EAGAIN) may be partly locked. EPERM
	 * (no permission at all) locks nothing. */
	char *k = mmap(NULL, 2 * PMD, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	int locked = syscall(SYS_mlock, k + PMD + PG, PG) == 0 ? 0 : errno; /* not libc's: sanitizers stub it */
	long want = madvise(k + PMD, PMD, MADV_DONTNEED) ? -errno : 0;
	munmap(k, 2 * PMD);
	if (locked == EPERM) {
		tap_skip("mlock is not permitted here: nothing to lock");
	} else {
		b = region(&raw);
		long l = do_edge(MV_EDGE_MLOCK, b + PMD + PG, PG, 0, 0);
		refused_as(l == 0 ? "an mlocked page in the region" : "a refused mlock in the region", b, want);
		do_munmap(raw, (N + 1) * PMD);
	}

	b = region(&raw);
	/* Moved onto a reservation of our own (MREMAP_FIXED replaces what is there). */
	char *to = mmap(NULL, (N + 1) * PMD, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *m = (char *)do_mremap(raw, (N + 1) * PMD, (N + 1) * PMD, MREMAP_MAYMOVE | MREMAP_FIXED, to);
	if (m == MAP_FAILED || (long)m < 0) {
		tap_skip("mremap to a fixed address refused here");
	} else {
		refused("moved by mremap", m + (b - raw));
		do_munmap(m, (N + 1) * PMD);
	}

	/* Mapped behind the strategy's back: unknown. */
	raw = mmap(NULL, (N + 1) * PMD, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	b = (char *)(((uintptr_t)raw + PMD - 1) & ~(PMD - 1));
	refused("a mapping the registry does not know", b);
	munmap(raw, (N + 1) * PMD);

	/* A fork child's copies share their pages with the parent's. */
	b = region(&raw);
	fflush(stdout);
	pid_t pid = fork();
	if (pid == 0) {
		mv_reg_atfork_child(); /* what the library's fork handler does */
		uint64_t before = pol_count(MV_POL_REMAPPED);
		long r = purge(b + PMD, PMD, MADV_DONTNEED);
		_exit(r == 0 && b[PMD] == 0 && pol_count(MV_POL_REMAPPED) == before ? 0 : 1);
	}
	int st;
	waitpid(pid, &st, 0);
	tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "inherited across fork: plain DONTNEED in the child");
	tap_ok(b[PMD] == 7, "the parent's copy is untouched");

	/* The program made a userfaultfd: any range may be registered unseen. */
	mv_munmap_note_userfaultfd();
	refused("after the program made a userfaultfd", b);
	do_munmap(raw, (N + 1) * PMD);
	mv_munmap_drain();
	tap_ok(mv_reg_check() == 0, "registry invariants hold");
}

int main(void)
{
	/* No transparent huge pages: each region keeps a page table to free
	 * (process-wide, so the mappings carry no advice). */
	prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	struct mv_options o;
	mv_options_defaults(&o);
	o.munmap = MV_MUNMAP_RECYCLE;
	o.munmap_max_age_ms = 10000;
	tap_ok(mv_munmap_start(&o, 2) == MV_MUNMAP_RECYCLE, "recycling starts (the map registry with it)");
	mv_hot.advice = (struct mv_advice){ .active = 1, .madvise_mode = MV_MADVISE_PASSTHROUGH,
					    .pt_reclaim = MV_PTR_REMAP, .alloc_lo = (uintptr_t)alloc_code,
					    .alloc_hi = (uintptr_t)alloc_code + sizeof(alloc_code),
					    .plain_vma = mv_munmap_plain_vma };
	mv_munmap_set_psi_path("/nonexistent");
	whole_cores();
	not_vouched();
	return tap_done();
}
