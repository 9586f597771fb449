/* test_advice.c - madvise strategies on real memory: which strategies are
 * allowed for which allocator, what each does to the advice, whole-2 MiB
 * cores freeing their page tables, and the kernel's errors kept. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/advice.h"
#include "sys/procstat.h"
#include "core/stats.h"
#include "../tap.h"

#define PMD (2UL << 20)
#define PG 4096UL

static struct mv_probe probe_yes = { .done = 1, .madv_free = 1, .pt_reclaim = 1 };
static struct mv_probe probe_no = { .done = 1, .madv_free = 0, .pt_reclaim = 0 };
static const struct mv_probe *kernel_yes(void) { return &probe_yes; }
static const struct mv_probe *kernel_no(void) { return &probe_no; }

/* What the map registry would say (munmap.h): nothing known, or every range plain. */
static mv_plain_vma_fn vouch;
static int vouch_all(uintptr_t lo, uintptr_t hi, int *flags)
{
	(void)lo, (void)hi;
	*flags = MAP_PRIVATE | MAP_ANONYMOUS;
	return 1;
}

static struct mv_allocator_info lib(enum mv_allocator kind)
{
	struct mv_allocator_info a = { .kind = kind, .text_lo = 0x1000, .text_hi = 0x2000 };
	return a;
}

/* Run mv_advice_init and return what it printed (one line or ""). */
static const char *init(struct mv_advice *p, struct mv_options *o, struct mv_allocator_info a,
			const struct mv_probe *(*k)(void))
{
	static char out[512];
	int fd[2];
	pipe(fd);
	mv_advice_init(p, o, &a, k, vouch, fd[1]);
	close(fd[1]);
	ssize_t n = read(fd[0], out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = 0;
	close(fd[0]);
	return out;
}

static int lines(const char *s)
{
	int n = 0;
	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_gating(void)
{
	struct mv_options o;
	struct mv_advice p;
	mv_options_defaults(&o);
	tap_ok(!*init(&p, &o, lib(MV_ALLOC_JEMALLOC), kernel_yes) && !p.active, "default: nothing active, silent");

	o.madvise = MV_MADVISE_FREE_TO_DONTNEED;
	tap_ok(!*init(&p, &o, lib(MV_ALLOC_JEMALLOC), kernel_yes) && p.active &&
		       p.madvise_mode == MV_MADVISE_FREE_TO_DONTNEED,
	       "free_to_dontneed is allowed under jemalloc");
	tap_ok(!*init(&p, &o, lib(MV_ALLOC_GLIBC), kernel_yes) && p.active && p.callers == MV_CALLERS_ANY,
	       "madvise.callers:any (the default): free_to_dontneed applies under glibc too, silently");
	struct mv_allocator_info inexe = lib(MV_ALLOC_TCMALLOC);
	inexe.in_executable = 1;
	tap_ok(!*init(&p, &o, inexe, kernel_yes) && p.active, "...and with the allocator linked into the program");
	o.madvise_callers = MV_CALLERS_ALLOCATOR;
	const char *m = init(&p, &o, lib(MV_ALLOC_GLIBC), kernel_yes);
	tap_ok(!p.active && lines(m) == 1 && strstr(m, "madvise:free_to_dontneed") && strstr(m, "glibc"),
	       "callers:allocator under glibc: off, one line (%s)", m);
	m = init(&p, &o, inexe, kernel_yes);
	tap_ok(!p.active && lines(m) == 1 && strstr(m, "linked into the program"),
	       "callers:allocator, allocator linked into the program: off, one line");
	o.madvise_callers = MV_CALLERS_PROGRAM;
	m = init(&p, &o, inexe, kernel_yes);
	tap_ok(!p.active && lines(m) == 1 && strstr(m, "madvise.callers:program"),
	       "callers:program, allocator linked into the program: off, one line");
	tap_ok(!*init(&p, &o, lib(MV_ALLOC_GLIBC), kernel_yes) && p.active, "callers:program under glibc: on");
	o.madvise_callers = MV_CALLERS_ANY;

	o.madvise = MV_MADVISE_DONTNEED_TO_FREE;
	m = init(&p, &o, lib(MV_ALLOC_JEMALLOC), kernel_yes);
	tap_ok(!p.active && lines(m) == 1 && strstr(m, "zero-filled"), "dontneed_to_free refused under jemalloc");
	tap_ok(!*init(&p, &o, lib(MV_ALLOC_TCMALLOC), kernel_yes) && p.madvise_mode == MV_MADVISE_DONTNEED_TO_FREE,
	       "dontneed_to_free allowed under tcmalloc (callers at their default: silent)");
	tap_ok(!*init(&p, &o, lib(MV_ALLOC_MIMALLOC), kernel_yes) && p.active, "dontneed_to_free allowed under mimalloc");
	m = init(&p, &o, lib(MV_ALLOC_MIMALLOC), kernel_no);
	tap_ok(!p.active && strstr(m, "MADV_FREE"), "dontneed_to_free needs MADV_FREE");
	m = init(&p, &o, inexe, kernel_yes);
	tap_ok(!p.active && lines(m) == 1 && strstr(m, "linked into the program"),
	       "dontneed_to_free: an allocator linked into the program cannot be told apart: off, one line");
	o.madvise_callers = MV_CALLERS_PROGRAM;
	m = init(&p, &o, lib(MV_ALLOC_TCMALLOC), kernel_yes);
	tap_ok(!p.active && lines(m) == 1 && strstr(m, "refused for program calls"),
	       "dontneed_to_free with callers:program: refused, one line (%s)", m);
	o.madvise_callers = MV_CALLERS_ANY;
	o.source[MV_OPT_MADVISE_CALLERS] = MV_SRC_ENV;
	m = init(&p, &o, lib(MV_ALLOC_TCMALLOC), kernel_yes);
	tap_ok(p.active && p.madvise_mode == MV_MADVISE_DONTNEED_TO_FREE && lines(m) == 1 &&
		       strstr(m, "refused for program calls") && strstr(m, "only the allocator's"),
	       "dontneed_to_free with callers:any asked for: the program's calls refused in one line, the"
	       " allocator's converted");
	o.source[MV_OPT_MADVISE_CALLERS] = MV_SRC_DEFAULT;

	o.madvise = MV_MADVISE_PASSTHROUGH;
	o.pt_reclaim = true;
	m = init(&p, &o, lib(MV_ALLOC_MIMALLOC), kernel_no);
	tap_ok(!p.active && lines(m) == 1 && strstr(m, "pt_reclaim") && strstr(m, "PT_RECLAIM") &&
		       strstr(m, "munmap strategy"),
	       "pt_reclaim without PT_RECLAIM nor a map registry: off, one line");
	vouch = vouch_all;
	m = init(&p, &o, lib(MV_ALLOC_MIMALLOC), kernel_no);
	tap_ok(p.active && p.pt_reclaim == MV_PTR_REMAP && p.plain_vma == vouch_all && lines(m) == 1 &&
		       strstr(m, "PT_RECLAIM") && strstr(m, "fresh"),
	       "pt_reclaim without PT_RECLAIM, with a map registry: fresh cores, said in one line");
	tap_ok(!*init(&p, &o, lib(MV_ALLOC_MIMALLOC), kernel_yes) && p.active && p.pt_reclaim == MV_PTR_MADVISE,
	       "pt_reclaim with PT_RECLAIM: one DONTNEED, silent");
	vouch = NULL;
	tap_ok(!*init(&p, &o, lib(MV_ALLOC_MIMALLOC), kernel_yes) && p.active && p.pt_reclaim == MV_PTR_MADVISE,
	       "pt_reclaim on");

	struct mv_request q = { .kind = MV_MADVISE, .caller = (void *)0x1800 };
	struct mv_request other = { .kind = MV_MADVISE, .caller = (void *)0x2000 };
	tap_ok(mv_advice_applies(&p, &q) && mv_advice_applies(&p, &other), "callers:any: every call");
	o.madvise_callers = MV_CALLERS_ALLOCATOR;
	init(&p, &o, lib(MV_ALLOC_MIMALLOC), kernel_yes);
	tap_ok(mv_advice_applies(&p, &q), "callers:allocator: a call from the allocator's code is the allocator's");
	tap_ok(!mv_advice_applies(&p, &other), "...a call from elsewhere is not");
	o.madvise_callers = MV_CALLERS_PROGRAM;
	init(&p, &o, lib(MV_ALLOC_MIMALLOC), kernel_yes);
	tap_ok(!mv_advice_applies(&p, &q) && mv_advice_applies(&p, &other), "callers:program: the others only");
	q.kind = MV_PROCESS_MADVISE;
	other.kind = MV_PROCESS_MADVISE;
	tap_ok(!mv_advice_applies(&p, &q) && !mv_advice_applies(&p, &other), "only madvise is transformed");

	o.strict = true;
	o.madvise_callers = MV_CALLERS_ALLOCATOR;
	pid_t pid = fork();
	if (pid == 0) {
		int null = open("/dev/null", 1);
		mv_advice_init(&p, &o, &(struct mv_allocator_info){ .kind = MV_ALLOC_GLIBC }, kernel_yes, NULL, null);
		_exit(0);
	}
	int st;
	waitpid(pid, &st, 0);
	tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == 2, "strict: a refused strategy exits 2");
}

static char *region(size_t n_pmd)
{
	char *raw = mmap(NULL, (n_pmd + 1) * PMD, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *b = (char *)(((unsigned long)raw + PMD - 1) & ~(PMD - 1));
	madvise(b, n_pmd * PMD, MADV_NOHUGEPAGE);
	return b;
}

/* A call from the allocator's code (0x1000-0x2000 in the policies below). */
static long run(const struct mv_advice *p, void *a, size_t len, int advice)
{
	struct mv_request q = { .kind = MV_MADVISE, .addr = a, .len = len, .advice = advice, .caller = (void *)0x1800 };
	return mv_advice_madvise(p, &q);
}

/* The same call from the program's code. */
static long run_program(const struct mv_advice *p, void *a, size_t len, int advice)
{
	struct mv_request q = { .kind = MV_MADVISE, .addr = a, .len = len, .advice = advice, .caller = (void *)0x4000 };
	return mv_advice_madvise(p, &q);
}

static uint64_t pol(int c)
{
	static struct mv_stats s;
	mv_stats_merge(&s);
	return s.policy[c];
}

static void test_semantics(void)
{
	struct mv_advice p = { .active = 1, .madvise_mode = MV_MADVISE_FREE_TO_DONTNEED, .alloc_lo = 0x1000,
			       .alloc_hi = 0x2000 };
	char *b = region(1);
	memset(b, 1, 2 * PG);
	uint64_t conv = pol(MV_POL_CONVERTED);
	tap_ok(run(&p, b, PG, MADV_FREE) == 0 && b[0] == 0 && b[PG] == 1,
	       "free_to_dontneed: the page reads zero at once, its neighbour is untouched");
	tap_ok(pol(MV_POL_CONVERTED) == conv + 1, "the conversion is counted");
	madvise(b + PG, PG, MADV_FREE);
	tap_ok(b[PG] == 1, "control: plain MADV_FREE keeps the data without memory pressure");

	p.madvise_mode = MV_MADVISE_DONTNEED_TO_FREE;
	memset(b, 2, PG);
	tap_ok(run(&p, b, PG, MADV_DONTNEED) == 0 && b[0] == 2, "dontneed_to_free: sent as MADV_FREE (data not dropped yet)");
	b[0] = 5;
	tap_ok(b[0] == 5, "a write after MADV_FREE sticks");
	memset(b, 6, PG);
	tap_ok(run_program(&p, b, PG, MADV_DONTNEED) == 0 && b[0] == 0,
	       "dontneed_to_free: a program's MADV_DONTNEED stays MADV_DONTNEED (reads zero at once)");
	p.madvise_mode = MV_MADVISE_FREE_TO_DONTNEED;
	memset(b, 6, PG);
	tap_ok(run_program(&p, b, PG, MADV_FREE) == 0 && b[0] == 0,
	       "free_to_dontneed: a program's MADV_FREE is converted too (reads zero at once)");
	tap_ok(run_program(&p, b + 1, PG, MADV_FREE) == -EINVAL, "...with the kernel's errors");
	/* A program's memory may be shared: MADV_FREE fails there, MADV_DONTNEED would not. */
	char *sh = mmap(NULL, 2 * PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memset(sh, 8, 2 * PG);
	long native = madvise(sh + PG, PG, MADV_FREE) ? -errno : 0;
	tap_ok(native == -EINVAL && run_program(&p, sh, PG, MADV_FREE) == native && sh[0] == 8,
	       "free_to_dontneed: a program's MADV_FREE on shared memory fails as the kernel's (%ld), data kept",
	       native);
	char *mixed = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(mixed, 9, 3 * PG);
	mmap(mixed + 2 * PG, PG, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	mixed[2 * PG] = 9;
	tap_ok(run_program(&p, mixed, 3 * PG, MADV_FREE) == -EINVAL && mixed[2 * PG] == 9,
	       "free_to_dontneed: private then shared in one call: EINVAL as the kernel, the shared page kept");
	struct mv_advice ap = p;
	ap.madvise_mode = MV_MADVISE_PASSTHROUGH;
	ap.pt_reclaim = MV_PTR_MADVISE;
	char *c = region(3);
	for (int i = 0; i < 3; i++)
		c[i * PMD] = 4, c[i * PMD + PMD - PG] = 4;
	uint64_t cores = pol(MV_POL_CORES);
	tap_ok(run_program(&ap, c + PMD - PG, PMD + 2 * PG, MADV_FREE) == 0 && c[PMD] == 0 && c[PMD - PG] == 4 &&
		       c[2 * PMD] == 4 && pol(MV_POL_CORES) == cores + 1,
	       "pt_reclaim: a program's MADV_FREE: its whole 2 MiB core dropped, the edges MADV_FREE'd (kept)");
	munmap(sh, 2 * PG);
	munmap(mixed, 3 * PG);

	p.madvise_mode = MV_MADVISE_FREE_TO_DONTNEED;
	memset(b, 3, PG);
	long cold = madvise(b, PG, MADV_COLD) ? -errno : 0; /* EINVAL before Linux 5.4 */
	tap_ok(run(&p, b, PG, MADV_COLD) == cold && b[0] == 3, "other advice passes through (%ld, as the kernel)",
	       cold);
	tap_ok(run(&p, b + 1, PG, MADV_FREE) == -EINVAL, "unaligned address: EINVAL as the kernel");
	tap_ok(run(&p, b, 0, MADV_FREE) == 0 && b[0] == 3, "empty range: 0, nothing advised");
	tap_ok(run(&p, b, (size_t)-PG, MADV_FREE) == madvise(b, (size_t)-PG, MADV_FREE) * EINVAL,
	       "overflowing length: the kernel's error");

	/* A hole in the middle: ENOMEM, and the mapped parts are still advised. */
	char *h = mmap(NULL, 3 * PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	memset(h, 4, 3 * PG);
	munmap(h + PG, PG);
	tap_ok(run(&p, h, 3 * PG, MADV_FREE) == -ENOMEM && h[0] == 0 && h[2 * PG] == 0,
	       "a hole gives ENOMEM and the mapped pages are still purged");
}

static void test_cores(void)
{
	struct mv_advice p = { .active = 1, .madvise_mode = MV_MADVISE_PASSTHROUGH, .pt_reclaim = MV_PTR_MADVISE,
			       .alloc_lo = 0x1000, .alloc_hi = 0x2000 };
	int reclaim = mv_probe_get()->pt_reclaim; /* what this kernel does with the core */
	size_t n = 6;
	char *b = region(n);
	struct mv_procstat s0, s1, s2;

	/* Control: MADV_FREE over whole regions leaves their page tables. */
	for (size_t i = 0; i < n; i++)
		b[i * PMD] = 1;
	mv_procstat_read(&s0);
	madvise(b, n * PMD, MADV_FREE);
	mv_procstat_read(&s1);
	tap_ok(s1.vm_pte_kb >= s0.vm_pte_kb, "control: MADV_FREE frees no page table (%lld -> %lld kB)",
	       (long long)s0.vm_pte_kb, (long long)s1.vm_pte_kb);

	/* The same purge with ragged edges, through pt_reclaim. */
	for (size_t i = 0; i < n; i++)
		memset(b + i * PMD, 7, PG);
	b[PMD - PG] = 9;           /* in the leading edge */
	b[(n - 1) * PMD + PG] = 9; /* in the trailing edge */
	uint64_t cores = pol(MV_POL_CORES), calls = pol(MV_POL_KERNEL_CALLS);
	mv_procstat_read(&s1);
	long r = run(&p, b + PMD - PG, (n - 2) * PMD + 2 * PG, MADV_FREE);
	mv_procstat_read(&s2);
	tap_ok(r == 0, "split purge succeeds");
	tap_ok(pol(MV_POL_CORES) == cores + 1 && pol(MV_POL_KERNEL_CALLS) == calls + 3,
	       "one core, three system calls (edge, core, edge)");
	tap_ok(pol(MV_POL_CORE_BYTES) >= (n - 2) * PMD, "core bytes counted");
	if (reclaim)
		tap_ok(s1.vm_pte_kb - s2.vm_pte_kb >= (long long)(n - 3) * 4,
		       "page tables of the %zu whole regions are freed (%lld -> %lld kB)", n - 2,
		       (long long)s1.vm_pte_kb, (long long)s2.vm_pte_kb);
	else
		tap_skip("page tables freed by the core's DONTNEED: this kernel has no PT_RECLAIM (the probe says)");
	int core_zero = 1;
	for (size_t i = 1; i < n - 1; i++)
		core_zero &= b[i * PMD] == 0;
	tap_ok(core_zero, "the core reads zero");
	tap_ok(b[PMD - PG] == 9 && b[(n - 1) * PMD + PG] == 9, "the edges went as MADV_FREE (data not dropped yet)");
	tap_ok(b[0] == 7 && b[(n - 1) * PMD] == 7, "pages outside the call are untouched");
}

int main(void)
{
	mv_stats_init_threads();
	test_gating();
	test_semantics();
	test_cores();
	return tap_done();
}
