/* test_ptmodel.c - the page-table model: refcount transitions, many threads
 * doing get/put/try_get, and tables freed exactly where the kernel frees
 * them, cross-checked against VmPTE on real mappings (MADV_NOHUGEPAGE) for
 * each kernel rule: small DONTNEED calls, MADV_FREE, one aligned 2 MiB
 * DONTNEED, partial and full munmap, MAP_FIXED over a full 2 MiB, mremap,
 * a 2 MiB DONTNEED across two VMAs, fork, an allocator purge the policy
 * converted. */
#define MV_TEST_HOOKS /* calls test hooks (sys/testhook.h) */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/hot.h"
#include "sys/probe.h"
#include "sys/procstat.h"
#include "ptmodel/model.h"
#include "ptmodel/hook.h"
#include "core/request.h"
#include "../tap.h"

#define MB (1ul << 20)
#define R2 (2 * MB)

/* --- refcounts ------------------------------------------------------------ */

static void refcounts(void)
{
	static struct mv_ptm_pmd pmd;
	static struct mv_ptm_group grp;
	struct mv_ptm_node *n = &grp.pte[0];
	tap_ok(!mv_ptm_try_get(n), "try_get on a dead node fails");
	mv_ptm_populate(&pmd, n, 3);
	tap_ok((n->w & MV_PTM_TAB) && mv_ptm_refs(n->w) == 3 && pmd.ntab == 1 && pmd.tab == 1,
	       "populating 3 entries: table held, count 3, PMD node counts it");
	tap_ok(mv_ptm_try_get(n) && mv_ptm_refs(n->w) == 4, "try_get on a live node: count 4");
	tap_ok(mv_ptm_unpopulate(n, 3) == 0 && mv_ptm_refs(n->w) == 1, "entries gone, a visitor keeps it alive");
	tap_ok(mv_ptm_put(n) == 1 && mv_ptm_refs(n->w) == 0, "the last put kills the node");
	tap_ok((n->w & MV_PTM_TAB) != 0, "a dead node whose table the kernel holds: stranded");
	tap_ok(!mv_ptm_try_get(n), "try_get on it fails");
	mv_ptm_get(n);
	tap_ok(mv_ptm_refs(n->w) == 1 && mv_ptm_put(n) == 1, "get/put by a holder: back to zero");
	mv_ptm_populate(&pmd, n, 600);
	tap_ok((n->w & MV_PTM_POP_MASK) == 512 && pmd.ntab == 1, "populated count caps at 512; table counted once");
	mv_ptm_free_table(&pmd, n);
	tap_ok(!(n->w & MV_PTM_TAB) && mv_ptm_refs(n->w) == 0 && pmd.ntab == 0, "free_table: no entries, no table");
	uint64_t seen = n->w;
	mv_ptm_touch(n);
	tap_ok(mv_ptm_commit(&pmd, n, seen, 5, 0) == 0 && !(n->w & MV_PTM_TAB),
	       "a sample older than an event is not committed");
	seen = n->w;
	mv_ptm_get(n); /* a visitor arriving meanwhile does not make it stale */
	tap_ok(mv_ptm_commit(&pmd, n, seen, 5, 1) == 1 && mv_ptm_refs(n->w) == 6 && (n->w & MV_PTM_ANON1),
	       "a current sample commits: 5 entries + 1 visitor");
	mv_ptm_put(n);
}

/* --- many threads ------------------------------------------------------------ */

static struct mv_ptm_pmd tpmd;
static struct mv_ptm_group tgrp;
static int tfail;

static void *hammer(void *arg)
{
	long id = (long)arg;
	for (int i = 0; i < 200000; i++) {
		/* Node 0 always has one entry: try_get must succeed. */
		if (!mv_ptm_try_get(&tgrp.pte[0]))
			__atomic_fetch_add(&tfail, 1, __ATOMIC_RELAXED);
		else if (mv_ptm_put(&tgrp.pte[0]))
			__atomic_fetch_add(&tfail, 1, __ATOMIC_RELAXED);
		/* Node 1 flips between dead and alive: a try_get that succeeds
		 * holds it alive until its put. */
		if (id == 0) {
			mv_ptm_populate(&tpmd, &tgrp.pte[1], 1);
			mv_ptm_unpopulate(&tgrp.pte[1], 1);
		} else if (mv_ptm_try_get(&tgrp.pte[1])) {
			if (mv_ptm_refs(__atomic_load_n(&tgrp.pte[1].w, __ATOMIC_ACQUIRE)) == 0)
				__atomic_fetch_add(&tfail, 1, __ATOMIC_RELAXED);
			mv_ptm_put(&tgrp.pte[1]);
		}
		mv_ptm_get(&tgrp.pte[2 + id]);
		mv_ptm_get(&tgrp.pte[2]);
		mv_ptm_put(&tgrp.pte[2]);
		mv_ptm_put(&tgrp.pte[2 + id]);
	}
	return NULL;
}

static void threads(void)
{
	pthread_t t[4];
	mv_ptm_populate(&tpmd, &tgrp.pte[0], 1);
	for (long i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, hammer, (void *)i);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	tap_ok(tfail == 0, "4 threads x 200k get/put/try_get: no failed try_get on a live node, no early death"
	       " (%d failures)", tfail);
	int clean = mv_ptm_refs(tgrp.pte[0].w) == 1 && mv_ptm_refs(tgrp.pte[1].w) == 0;
	for (int i = 2; i < 6; i++)
		clean &= mv_ptm_refs(tgrp.pte[i].w) == 0;
	tap_ok(clean, "every count back where it started");
	tap_ok(tpmd.ntab == 2, "held tables counted exactly across concurrent populate/unpopulate (%u)", tpmd.ntab);
}

/* --- against the kernel ---------------------------------------------------- */

static long call(struct mv_request q)
{
	return mv_handle(&q);
}

static char *map(size_t len, void *at, int extra)
{
	struct mv_request q = { .kind = MV_MMAP, .addr = at, .len = len, .prot = PROT_READ | PROT_WRITE,
				.flags = MAP_PRIVATE | MAP_ANONYMOUS | extra, .fd = -1 };
	long r = call(q);
	return r < 0 && r > -4096 ? NULL : (char *)r;
}

static long unmap(void *a, size_t len)
{
	return call((struct mv_request){ .kind = MV_MUNMAP, .addr = a, .len = len });
}

static long advise(void *a, size_t len, int advice)
{
	return call((struct mv_request){ .kind = MV_MADVISE, .addr = a, .len = len, .advice = advice });
}

/* A private anonymous VMA of n 2 MiB regions, aligned, no THP. */
static char *aligned(unsigned n)
{
	char *m = map((n + 1) * R2, NULL, MAP_NORESERVE);
	if (!m)
		return NULL;
	char *a = (char *)(((uintptr_t)m + R2 - 1) & ~(R2 - 1));
	if (a > m)
		unmap(m, (size_t)(a - m));
	unmap(a + n * R2, (size_t)(m + (n + 1) * R2 - (a + n * R2)));
	advise(a, n * R2, MADV_NOHUGEPAGE);
	return a;
}

static long vm_pte(void)
{
	struct mv_procstat ps;
	mv_procstat_read(&ps);
	return ps.vm_pte_kb * 1024;
}

static long model(struct mv_ptm_totals *t)
{
	mv_ptm_sample_all();
	mv_ptm_sample_all(); /* the model's own new nodes are seen by the second pass */
	mv_ptm_totals(t);
	return (long)t->bytes;
}

/* Tables the model leaves out by design: a VMA over 256 GiB (a piece of a
 * sanitizer's shadow), or a PROT_NONE one over 64 MiB, is modelled at its
 * edges only (ptmodel/sample.c's SCAN_MAX, NONE_SCAN_MAX), but VmPTE counts
 * the PTE, PMD and PUD tables inside it. The kernel's
 * PAGEMAP_SCAN (Linux 6.7) finds their populated pages without reading every
 * entry. Bytes of those tables: 0 without such VMAs, -1 when there are some
 * and this kernel cannot count them. */
#define HUGE_VMA (256ul << 30)
#define HUGE_NONE (64ul << 20) /* PROT_NONE: NONE_SCAN_MAX */
struct pm_region { uint64_t start, end, categories; };
struct pm_scan_arg_ { uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages,
	category_inverted, category_mask, category_anyof_mask, return_mask; };
#define PM_SCAN _IOWR('f', 16, struct pm_scan_arg_)
#define PM_PRESENT (1u << 3)
#define PM_SWAPPED (1u << 4)
#define PM_HUGE (1u << 6)

static uint64_t last_r, last_g, last_u; /* tables counted last: VMAs share them */

static long scan_huge(int fd, uint64_t lo, uint64_t hi)
{
	static struct pm_region vec[512];
	long bytes = 0;
	for (uint64_t start = lo; start < hi;) {
		struct pm_scan_arg_ a = { .size = sizeof(a), .start = start, .end = hi, .vec = (uintptr_t)vec,
					  .vec_len = 512, .category_anyof_mask = PM_PRESENT | PM_SWAPPED,
					  .return_mask = PM_PRESENT | PM_SWAPPED | PM_HUGE };
		int n = ioctl(fd, PM_SCAN, &a);
		if (n < 0)
			return -1;
		for (int i = 0; i < n; i++) {
			if (vec[i].categories & PM_HUGE)
				continue; /* a PMD mapping: no PTE table */
			for (uint64_t r = vec[i].start & ~(R2 - 1); r < vec[i].end; r += R2) {
				uint64_t g = r >> 30, u = r >> 39;
				bytes += r != last_r ? 4096 : 0; /* its PTE table */
				bytes += g != last_g ? 4096 : 0; /* its PMD table */
				bytes += u != last_u ? 4096 : 0; /* its PUD table */
				last_r = r, last_g = g, last_u = u;
			}
		}
		if (a.walk_end <= start)
			break;
		start = a.walk_end;
	}
	return bytes;
}

static long unmodelled(void)
{
	FILE *f = fopen("/proc/self/maps", "r");
	int fd = open("/proc/self/pagemap", O_RDONLY);
	long bytes = f && fd >= 0 ? 0 : -1;
	last_r = last_g = last_u = ~0ull;
	char line[512];
	while (bytes >= 0 && fgets(line, sizeof(line), f)) {
		unsigned long lo, hi;
		char r;
		if (sscanf(line, "%lx-%lx %c", &lo, &hi, &r) == 3 && hi - lo > (r == '-' ? HUGE_NONE : HUGE_VMA)) {
			long b = scan_huge(fd, lo, hi);
			bytes = b < 0 ? -1 : bytes + b;
		}
	}
	if (f)
		fclose(f);
	if (fd >= 0)
		close(fd);
	return bytes;
}

/* A sanitizer runtime (the one source of huge VMAs here) also frees its own
 * memory with raw system calls the model never sees, leaving empty tables
 * pagemap cannot find: allow 32 of them when there are huge VMAs. */
static long slack(long u)
{
	return u > 0 ? 32 * 4096 : 0;
}

#define ANY (-1000000) /* the kernel may also add a PMD table: only model == VmPTE */
static long m0, k0;
static struct mv_ptm_totals t0;

static void begin(void)
{
	m0 = model(&t0);
	k0 = vm_pte();
}

/* The model moved exactly as VmPTE did (and VmPTE moved by `expect` tables). */
static void end(const char *what, long expect_tables)
{
	struct mv_ptm_totals t;
	long m = model(&t), k = vm_pte();
	int as_expected = expect_tables == ANY || k - k0 == expect_tables * 4096;
	tap_ok(m - m0 == k - k0 && as_expected, "%s: VmPTE %+ld B (expected %s%+ld), model %+ld B", what, k - k0,
	       expect_tables == ANY ? "any, " : "", expect_tables == ANY ? 0 : expect_tables * 4096, m - m0);
}

static void touch(char *a, size_t step, size_t len)
{
	for (size_t i = 0; i < len; i += step)
		a[i] = 1;
}

static void kernel_cases(void)
{
	int reclaim = mv_probe_get()->pt_reclaim;
	tap_diag("PT_RECLAIM %s", reclaim ? "yes" : "no");
	struct mv_ptm_totals t;

	char *a = aligned(4);
	touch(a, R2, 4 * R2);
	begin();
	touch(a + 4096, R2, 4 * R2);
	end("more pages in regions that have tables", 0);

	begin();
	for (int i = 0; i < 4; i++)
		advise(a + i * R2, 4096, MADV_DONTNEED), advise(a + i * R2 + 4096, 4096, MADV_DONTNEED);
	end("4 KiB DONTNEED calls emptying 4 regions: tables stay", 0);
	model(&t);
	tap_ok(t.stranded >= t0.stranded + 4, "those 4 tables are stranded (%lu -> %lu)",
	       (unsigned long)t0.stranded, (unsigned long)t.stranded);

	touch(a, 4096, 2 * R2);
	begin();
	advise(a, R2, MADV_FREE);
	end("MADV_FREE over a whole aligned 2 MiB: table stays", 0);

	begin();
	for (int i = 0; i < 4; i++)
		advise(a + R2 + i * (R2 / 4), R2 / 4, MADV_DONTNEED);
	end("four 512 KiB DONTNEED calls covering a whole 2 MiB: table stays", 0);

	touch(a + R2, 4096, R2);
	begin();
	advise(a + R2, R2, MADV_DONTNEED);
	end("one aligned 2 MiB DONTNEED inside one VMA", reclaim ? -1 : 0);

	touch(a + 2 * R2, 4096, 2 * R2);
	begin();
	advise(a + 2 * R2 - 4096, R2 + 8192, MADV_DONTNEED);
	end("one DONTNEED covering 2 MiB + ragged edges", reclaim ? -1 : 0);

	/* A 2 MiB DONTNEED across two VMAs frees nothing. */
	touch(a + 3 * R2, 4096, R2);
	mprotect(a + 3 * R2 + R2 / 2, R2 / 2, PROT_READ);
	mv_ptm_sample_all(); /* the model learns VMA boundaries from maps */
	begin();
	advise(a + 3 * R2, R2, MADV_DONTNEED);
	end("one aligned 2 MiB DONTNEED across two VMAs: table stays", 0);

	touch(a, 4096, R2);
	begin();
	unmap(a, R2 / 2);
	end("munmap of half a region, the rest still mapped: table stays", 0);
	begin();
	unmap(a + R2 / 2, R2 / 2);
	end("munmap of the rest: table freed", -1);
	begin();
	unmap(a + R2, 3 * R2);
	/* Two of them lost their tables to the 2 MiB DONTNEED calls already. */
	end("munmap of the other three regions", reclaim ? -1 : -3);

	/* MAP_FIXED fresh anonymous memory over a full 2 MiB. */
	char *b = aligned(3);
	touch(b, 4096, 3 * R2);
	begin();
	map(R2, b + R2, MAP_FIXED);
	end("MAP_FIXED fresh anon over a full 2 MiB: old table freed", -1);
	touch(b + R2, 4096, R2);
	begin();
	map(R2 / 2, b + R2, MAP_FIXED);
	end("MAP_FIXED over half a region: table stays", 0);
	unmap(b, 3 * R2);

	/* mremap: the entries and their table move. */
	char *c = aligned(2), *d = aligned(2);
	touch(c, 4096, R2);
	begin();
	call((struct mv_request){ .kind = MV_MREMAP, .addr = c, .len = R2, .new_len = R2,
				  .flags = MREMAP_MAYMOVE | MREMAP_FIXED, .new_addr = d });
	end("mremap of a full populated region to another aligned address", ANY);
	unmap(c, 2 * R2);
	unmap(d, 2 * R2);

	/* fork: the child's own page tables, modelled after the fork. */
	char *e = aligned(4);
	touch(e, R2, 4 * R2);
	for (int i = 0; i < 4; i++)
		advise(e + i * R2, 4096, MADV_DONTNEED);
	int fds[2];
	if (pipe(fds) == 0) {
		pid_t pid = fork();
		if (pid == 0) {
			mv_ptm_on_fork_child();
			struct mv_ptm_totals ct;
			long m = model(&ct), u = unmodelled(), k = vm_pte();
			long diff = m + u > k ? m + u - k : k - m - u;
			char ok = u < 0 ? 's' : (diff - slack(u)) * 10 <= k ? 'y' : 'n';
			long msg[4] = { m, k, ok, u };
			(void)!write(fds[1], msg, sizeof(msg));
			_exit(0);
		}
		long msg[4] = { 0, 0, 'n', 0 };
		(void)!read(fds[0], msg, sizeof(msg));
		waitpid(pid, NULL, 0);
		if (msg[2] == 's')
			tap_skip("fork child: huge VMAs and no PAGEMAP_SCAN to count their tables");
		else
			tap_ok(msg[2] == 'y', "fork child: model %ld B (+%ld B in huge VMAs) within 10%% of VmPTE %ld B",
			       msg[0], msg[3], msg[1]);
	} else {
		tap_skip("no pipe");
	}
	unmap(e, 4 * R2);

	/* An allocator purge as the policy sends it: MADV_FREE turned into
	 * MADV_DONTNEED frees the table; the model follows the policy. */
	struct mv_advice saved = mv_hot.advice;
	mv_hot.advice = (struct mv_advice){ .active = 1, .madvise_mode = MV_MADVISE_FREE_TO_DONTNEED,
					    .alloc_lo = 0, .alloc_hi = UINTPTR_MAX };
	char *f = aligned(2);
	touch(f, 4096, 2 * R2);
	begin();
	advise(f, R2, MADV_FREE);
	end("policy free_to_dontneed: an allocator's 2 MiB MADV_FREE", reclaim ? -1 : 0);
	mv_hot.advice = saved;
	unmap(f, 2 * R2);

	long m = model(&t), u = unmodelled(), k = vm_pte();
	long diff = m + u > k ? m + u - k : k - m - u;
	if (u < 0)
		tap_skip("whole process: huge VMAs and no PAGEMAP_SCAN to count their tables");
	else
		tap_ok((diff - slack(u)) * 20 <= k, "whole process: model %ld B (+%ld B in huge VMAs) within 5%% of VmPTE %ld B",
		       m, u, k);
}

int main(void)
{
	tap_plan(32);
	refcounts();
	threads();
	if (mv_ptm_init(mv_probe_get()->pt_reclaim) != 0) {
		tap_ok(0, "model memory");
		return tap_done();
	}
	mv_ptm_pt_reclaim = mv_probe_get()->pt_reclaim;
	__atomic_fetch_or(&mv_hot.counting, MV_COUNT_MODEL, __ATOMIC_RELEASE);
	mv_ptm_sample_all();
	kernel_cases();
	return tap_failed ? 1 : 0;
}
