/* fuzz_policy.c - libFuzzer target: the policy engine against a shadow model.
 *
 * Each input is a strategy (munmap passthrough / recycle / defer /
 * defer+zap_first, a madvise policy for the allocator's purges or every
 * caller's, how recycled ranges are zeroed) and up to MAX_STEPS requests run
 * through mv_handle(), as
 * the interposer would: mmap (NULL, a hint, MAP_FIXED, MAP_FIXED_NOREPLACE),
 * munmap, mremap, mprotect, madvise, posix_madvise, writes, the worker's
 * ageing and drains, and bad arguments. A shadow model (policy_model.h) knows
 * what the program must see; after every step:
 *  - the result (value or -errno) is the model's, or, for bad arguments, what
 *    the raw system call returns for the same arguments;
 *  - every readable page the program has reads as the model says (its
 *    pattern, zero after a fresh map or MADV_DONTNEED, either after
 *    MADV_FREE): every byte of the pages the step changed, four words of
 *    the others, and every byte of all of them after the last step; a new
 *    mapping reads zero and overlaps nothing live;
 *  - where the kernel's answer depends on how it split or merged VMAs
 *    (mremap over several mappings), any of its answers is taken, and the
 *    model follows the one given;
 *  - the registry's invariants hold (mv_reg_check).
 * After the input everything is unmapped through the library and drained:
 * nothing may stay recorded or held.
 *
 * Fixed addresses stay inside a 4 MiB window reserved PROT_NONE at start-up
 * (the program's view starts as that reservation), far from where the kernel
 * places mappings, so MAP_FIXED never hits anything else; calls outside it
 * only touch pages the model knows are the program's. To read a crash:
 * FUZZ_POLICY_VERBOSE=1 fuzz/fuzz_policy CRASH-FILE prints every call. */
#define MV_TEST_HOOKS /* calls test hooks (sys/testhook.h) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <linux/mman.h>
#include "core/hot.h"
#include "munmap/mapcache.h"
#include "munmap/munmap.h"
#include "core/options.h"
#include "sys/rawsys.h"
#include "munmap/registry.h"
#include "core/runtime.h"
#include "route/features.h"
#include "route/handle.h"
#include "policy_model.h"

#define MAX_STEPS 64
#define STEP_BYTES 8

static int thp_ok;          /* MADV_HUGEPAGE works on anonymous memory here */
static struct mv_advice pm_advice; /* the advice transforms of this input */
static int pm_strategy;     /* a munmap strategy is on in this input */
static int step;
static int verbose;         /* FUZZ_POLICY_VERBOSE=1: print every call (to replay a crash) */
static const uint8_t *step_in;

#define check(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(stderr, "fuzz_policy: step %d (op bytes %02x %02x %02x %02x %02x %02x %02x %02x): ", \
				step, step_in[0], step_in[1], step_in[2], step_in[3], step_in[4], step_in[5], \
				step_in[6], step_in[7]);                                           \
			fprintf(stderr, __VA_ARGS__);                                              \
			fprintf(stderr, "\n");                                                     \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

/* ---- requests --------------------------------------------------------------- */

static long call(enum mv_kind kind, uintptr_t addr, size_t len, int arg, int flags, int alloc)
{
	struct mv_request q = { .kind = kind, .addr = (void *)addr, .len = len, .fd = -1,
				.caller = (const void *)(uintptr_t)(alloc ? 1 : 0) };
	if (kind == MV_MMAP || kind == MV_MPROTECT)
		q.prot = arg;
	else
		q.advice = arg;
	q.flags = flags;
	long r = mv_handle(&q);
	if (verbose)
		fprintf(stderr, "step %d: kind %d addr %#lx len %#zx arg %d flags %#x%s = %ld\n", step, kind,
			addr, len, arg, flags, alloc ? " (allocator)" : "", r);
	return r;
}

static long call_mremap(uintptr_t a, size_t old, size_t nw, int flags, uintptr_t to)
{
	struct mv_request q = { .kind = MV_MREMAP, .addr = (void *)a, .len = old, .new_len = nw, .flags = flags,
				.new_addr = (void *)to };
	long r = mv_handle(&q);
	if (verbose)
		fprintf(stderr, "step %d: mremap %#lx %#zx -> %#zx flags %#x to %#lx = %ld\n", step, a, old, nw,
			flags, to, r);
	return r;
}

/* ---- decoding ---------------------------------------------------------------- */

static const int prots[4] = { PROT_READ | PROT_WRITE, PROT_READ, PROT_NONE, PROT_READ | PROT_WRITE | PROT_EXEC };

/* Pages of a length byte: 1..64, or (high bit) 8..1024. */
static size_t pages_of(uint8_t c)
{
	return c & 0x80 ? ((size_t)(c & 0x7f) + 1) * 8 : (size_t)(c & 0x3f) + 1;
}

/* A window page: most often near the 2 MiB boundary in its middle. */
static uintptr_t window_page(uint8_t a, uint8_t b)
{
	size_t i = a & 0x40 ? WIN_PAGES / 2 - 32 + b % 64 : (((size_t)(a & 0x3f) << 8) | b) % WIN_PAGES;
	return win + i * PG;
}

struct target {
	uintptr_t s;
	size_t n;     /* pages */
	size_t bytes; /* the length passed: n pages, or a little less */
	int outside;
};

/* The range an op acts on: in the window (clipped to it), or (a's high bit)
 * a run of pages the program has mapped outside it. */
static void pick(const uint8_t *in, struct target *t)
{
	size_t n = pages_of(in[3]);
	t->outside = 0;
	if ((in[1] & 0x80) && mdl_nout) {
		uintptr_t p = mdl_out[in[2] % mdl_nout];
		size_t run = mdl_run(p, n);
		if (run) {
			t->s = p;
			t->n = run;
			t->outside = 1;
		}
	}
	if (!t->outside) {
		t->s = window_page(in[1], in[2]);
		size_t left = (win + WIN_BYTES - t->s) / PG;
		t->n = n < left ? n : left;
	}
	t->bytes = t->n * PG;
	if (in[4] & 0x80)
		t->bytes -= ((size_t)(in[4] & 0x7f) + 1) * 8;
}

/* ---- ops --------------------------------------------------------------------- */

static void op_mmap_null(const uint8_t *in)
{
	size_t n = pages_of(in[3]), bytes = n * PG;
	int shared = in[2] & 1, prot = prots[(in[2] >> 2) & 3];
	int flags = (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS | (in[2] & 2 ? MAP_NORESERVE : 0);
	if (in[4] & 0x80)
		bytes -= ((size_t)(in[4] & 0x7f) + 1) * 8;
	long r = call(MV_MMAP, 0, bytes, prot, flags, in[5] & 1);
	check(r > 0 && !(r & (PG - 1)), "mmap(NULL, %zu): %ld", bytes, r);
	check(mdl_all_free((uintptr_t)r, n), "mmap(NULL, %zu) = %#lx overlaps a live mapping", bytes, r);
	mdl_map((uintptr_t)r, n, prot, shared);
	if ((in[5] & 2) && (prot & PROT_WRITE))
		mdl_write((uintptr_t)r, n);
}

static void op_mmap_at(const uint8_t *in, int how)
{
	struct target t;
	uint8_t w[STEP_BYTES];
	memcpy(w, in, sizeof(w));
	w[1] &= 0x7f; /* in the window */
	pick(w, &t);
	int shared = in[5] & 1, prot = prots[(in[5] >> 1) & 3];
	int flags = (shared ? MAP_SHARED : MAP_PRIVATE) | MAP_ANONYMOUS;
	int free_there = mdl_all_free(t.s, t.n);
	flags |= how == 1 ? MAP_FIXED : how == 2 ? MAP_FIXED_NOREPLACE : 0;
	long r = call(MV_MMAP, t.s, t.bytes, prot, flags, in[5] & 0x10);
	if (how == 1 || (how == 2 && free_there) || (how == 0 && free_there)) {
		check(r == (long)t.s, "mmap(%#lx, %zu, flags %#x) = %ld, expected the address", t.s, t.bytes, flags, r);
	} else if (how == 2) {
		check(r == -EEXIST, "mmap(%#lx, %zu, MAP_FIXED_NOREPLACE) over a live mapping = %ld, expected -EEXIST",
		      t.s, t.bytes, r);
		return;
	} else {
		check(r > 0 && !(r & (PG - 1)) && r != (long)t.s, "mmap(hint %#lx, %zu) over a live mapping = %ld",
		      t.s, t.bytes, r);
		check(mdl_all_free((uintptr_t)r, t.n), "mmap(hint) = %#lx overlaps a live mapping", r);
	}
	mdl_map((uintptr_t)r, t.n, prot, shared);
	if ((in[5] & 0x20) && (prot & PROT_WRITE))
		mdl_write((uintptr_t)r, t.n);
}

static void op_munmap(const uint8_t *in)
{
	struct target t;
	pick(in, &t);
	long r = call(MV_MUNMAP, t.s, t.bytes, 0, 0, in[5] & 1);
	check(r == 0, "munmap(%#lx, %zu) = %ld", t.s, t.bytes, r);
	mdl_unmap(t.s, t.n);
}

static void op_mprotect(const uint8_t *in)
{
	struct target t;
	pick(in, &t);
	int prot = prots[(in[5] >> 1) & 3];
	size_t done;
	long want = mdl_expect_mprotect(t.s, t.n, &done);
	long r = call(MV_MPROTECT, t.s, t.bytes, prot, 0, in[5] & 1);
	check(r == want, "mprotect(%#lx, %zu, %d) = %ld, expected %ld", t.s, t.bytes, prot, r, want);
	mdl_protect(t.s, done, prot);
}

static void op_madvise(const uint8_t *in)
{
	static const int advices[] = { MADV_DONTNEED, MADV_FREE, MADV_DONTNEED, MADV_FREE, MADV_WILLNEED,
				       MADV_COLD, MADV_PAGEOUT, MADV_NORMAL, MADV_RANDOM, MADV_SEQUENTIAL,
				       MADV_DONTFORK, MADV_DOFORK, MADV_DONTDUMP, MADV_DODUMP, MADV_WIPEONFORK,
				       MADV_KEEPONFORK, MADV_HUGEPAGE, MADV_NOHUGEPAGE };
	static const int posix[] = { POSIX_MADV_NORMAL, POSIX_MADV_RANDOM, POSIX_MADV_SEQUENTIAL,
				     POSIX_MADV_WILLNEED, POSIX_MADV_DONTNEED };
	struct target t;
	pick(in, &t);
	int is_posix = in[6] & 1, advice;
	if (is_posix) {
		advice = posix[(in[5] >> 1) % 5];
	} else {
		advice = advices[(in[5] >> 1) % (sizeof(advices) / sizeof(advices[0]))];
		if (!thp_ok && (advice == MADV_HUGEPAGE || advice == MADV_NOHUGEPAGE))
			advice = MADV_COLD;
	}
	/* The allocator advises its own private memory only (core/advice.h). */
	int alloc = !is_posix && (in[5] & 1) && !mdl_any_shared(t.s, t.n);
	struct mdl_madv m;
	long want = is_posix && advice == POSIX_MADV_DONTNEED ? 0 : mdl_expect_madvise(t.s, t.n, advice, &m);
	long r = call(is_posix ? MV_POSIX_MADVISE : MV_MADVISE, t.s, t.bytes, advice, 0, alloc);
	check(r == want, "%s(%#lx, %zu, %d)%s = %ld, expected %ld", is_posix ? "posix_madvise" : "madvise", t.s,
	      t.bytes, advice, alloc ? " by the allocator" : "", r, want);
	/* madvise.callers:any takes the program's calls too, but never converts
	 * a program's MADV_DONTNEED to MADV_FREE, and converts a program's
	 * MADV_FREE only after the kernel's MADV_FREE succeeded (advice.h). */
	int applies = !is_posix && (alloc || pm_advice.callers == MV_CALLERS_ANY);
	int mode = applies ? pm_advice.madvise_mode : MV_MADVISE_PASSTHROUGH;
	if (!alloc && (mode == MV_MADVISE_DONTNEED_TO_FREE || want != 0))
		mode = MV_MADVISE_PASSTHROUGH;
	if (!(is_posix && advice == POSIX_MADV_DONTNEED))
		mdl_madvise(&m, mode, applies && pm_advice.pt_reclaim);
}

static void op_mremap(const uint8_t *in)
{
	static const int flag_sets[4] = { 0, MREMAP_MAYMOVE, MREMAP_MAYMOVE | MREMAP_FIXED,
					  MREMAP_MAYMOVE | MREMAP_DONTUNMAP };
	struct target t;
	pick(in, &t);
	int flags = flag_sets[in[5] & 3];
	size_t nn = pages_of(in[6]);
	uintptr_t to = 0;
	if (flags & MREMAP_DONTUNMAP) {
		nn = t.n;
		if (in[5] & 4)
			flags |= MREMAP_FIXED;
	}
	if (mdl_any_shared(t.s, t.n)) {
		/* A shared mapping's object does not grow (SIGBUS past it), and
		 * MREMAP_DONTUNMAP would leave two views of it: not modelled. */
		if (nn > t.n)
			nn = t.n;
		flags &= ~MREMAP_DONTUNMAP;
	}
	if (!t.outside) {
		size_t left = (win + WIN_BYTES - t.s) / PG;
		if (!(flags & MREMAP_MAYMOVE) && nn > left)
			nn = left; /* growing in place stays inside the window */
	}
	if (flags & MREMAP_FIXED) {
		to = window_page(in[7], in[4]);
		size_t left = (win + WIN_BYTES - to) / PG;
		if (nn > left)
			nn = left;
		if (flags & MREMAP_DONTUNMAP && nn != t.n)
			return;
	}
	struct mdl_remap m;
	mdl_expect_mremap(t.s, t.n, nn, flags, to, t.outside, &m);
	long r = call_mremap(t.s, t.bytes, nn * PG, flags, to);
	mdl_mremap(&m, r);
	if (m.error)
		check(0, "mremap(%#lx, %zu, %zu, %#x, %#lx) = %ld: %s", t.s, t.bytes, nn * PG, flags, to, r, m.error);
}

static void op_write(const uint8_t *in)
{
	struct target t;
	pick(in, &t);
	mdl_write(t.s, t.n);
}

/* Bad arguments: the library gives what the raw system call gives. Every
 * call here is refused by the kernel before it changes anything. */
static void op_bad(const uint8_t *in)
{
	uintptr_t s = window_page(in[1], in[2]), w2 = window_page(in[4], in[3]);
	struct iovec v = { (void *)s, PG };
	struct mv_request q = { .fd = -1 };
	switch (in[5] % 22) {
	case 0: q = (struct mv_request){ .kind = MV_MUNMAP, .addr = (void *)(s + 1), .len = PG }; break;
	case 1: q = (struct mv_request){ .kind = MV_MUNMAP, .addr = (void *)s, .len = 0 }; break;
	case 2: q = (struct mv_request){ .kind = MV_MUNMAP, .addr = (void *)s, .len = -PG }; break;
	case 3: q = (struct mv_request){ .kind = MV_MPROTECT, .addr = (void *)(s + 1), .len = PG, .prot = PROT_READ }; break;
	case 4: q = (struct mv_request){ .kind = MV_MPROTECT, .addr = (void *)s, .len = PG, .prot = 0x40 }; break;
	case 5: q = (struct mv_request){ .kind = MV_MPROTECT, .addr = (void *)s, .len = -PG, .prot = PROT_READ }; break;
	case 6: q = (struct mv_request){ .kind = MV_MADVISE, .addr = (void *)(s + 1), .len = PG, .advice = MADV_DONTNEED }; break;
	case 7: q = (struct mv_request){ .kind = MV_MADVISE, .addr = (void *)s, .len = PG, .advice = 77 }; break;
	case 8: q = (struct mv_request){ .kind = MV_MADVISE, .addr = (void *)s, .len = -PG, .advice = MADV_FREE }; break;
	case 9: q = (struct mv_request){ .kind = MV_MREMAP, .addr = (void *)(s + 1), .len = PG, .new_len = PG }; break;
	case 10: q = (struct mv_request){ .kind = MV_MREMAP, .addr = (void *)s, .len = PG, .new_len = PG, .flags = 0x80 }; break;
	case 11: q = (struct mv_request){ .kind = MV_MREMAP, .addr = (void *)s, .len = PG, .new_len = PG,
					  .flags = MREMAP_FIXED, .new_addr = (void *)w2 }; break;
	case 12: q = (struct mv_request){ .kind = MV_MREMAP, .addr = (void *)s, .len = PG, .new_len = 0,
					  .flags = MREMAP_MAYMOVE }; break;
	case 13: q = (struct mv_request){ .kind = MV_MREMAP, .addr = (void *)s, .len = PG, .new_len = 2 * PG,
					  .flags = MREMAP_MAYMOVE | MREMAP_DONTUNMAP }; break;
	case 14: q = (struct mv_request){ .kind = MV_MMAP, .len = 0, .prot = PROT_READ | PROT_WRITE,
					  .flags = MAP_PRIVATE | MAP_ANONYMOUS, .fd = -1 }; break;
	case 15: q = (struct mv_request){ .kind = MV_MMAP, .len = PG, .prot = PROT_READ | PROT_WRITE,
					  .flags = MAP_ANONYMOUS, .fd = -1 }; break;
	case 16: q = (struct mv_request){ .kind = MV_MMAP, .addr = (void *)(s + 1), .len = PG,
					  .prot = PROT_READ | PROT_WRITE,
					  .flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, .fd = -1 }; break;
	case 17: q = (struct mv_request){ .kind = MV_MMAP, .len = 1UL << 60, .prot = PROT_READ | PROT_WRITE,
					  .flags = MAP_PRIVATE | MAP_ANONYMOUS, .fd = -1 }; break;
	case 18: q = (struct mv_request){ .kind = MV_MMAP, .len = -1UL, .prot = PROT_READ | PROT_WRITE,
					  .flags = MAP_PRIVATE | MAP_ANONYMOUS, .fd = -1 }; break;
	case 19: q = (struct mv_request){ .kind = MV_PROCESS_MADVISE, .fd = -1, .iov = &v, .vlen = 1,
					  .advice = MADV_COLD }; break;
	case 20: q = (struct mv_request){ .kind = MV_MADVISE, .addr = (void *)s, .len = 0, .advice = MADV_DONTNEED }; break;
	default: q = (struct mv_request){ .kind = MV_MPROTECT, .addr = (void *)s, .len = 0, .prot = PROT_READ }; break;
	}
	if (in[6] & 1)
		q.caller = (const void *)1;
	long raw;
	switch (q.kind) {
	case MV_MUNMAP: raw = mv_raw2(SYS_munmap, q.addr, q.len); break;
	case MV_MPROTECT: raw = mv_raw3(SYS_mprotect, q.addr, q.len, q.prot); break;
	case MV_MADVISE: raw = mv_raw3(SYS_madvise, q.addr, q.len, q.advice); break;
	case MV_MREMAP: raw = mv_raw6(SYS_mremap, (long)q.addr, (long)q.len, (long)q.new_len, q.flags, (long)q.new_addr, 0); break;
	case MV_PROCESS_MADVISE:
		raw = mv_raw6(SYS_process_madvise, q.fd, (long)q.iov, (long)q.vlen, q.advice, 0, 0);
		break;
	default: raw = mv_raw6(SYS_mmap, (long)q.addr, (long)q.len, q.prot, q.flags, q.fd, 0); break;
	}
	check(mv_raw_failed(raw) || (q.len == 0 && (q.kind == MV_MADVISE || q.kind == MV_MPROTECT)),
	      "bad-argument case %d succeeded in the kernel (%ld)", in[5] % 22, raw);
	long r = mv_handle(&q);
	check(r == raw, "bad arguments (case %d): the library gives %ld, the kernel %ld", in[5] % 22, r, raw);
}

static void op_tick(const uint8_t *in)
{
	if (in[1] & 1)
		mv_munmap_drain();
	else
		mv_munmap_tick(mv_mc_now() + (uint64_t)(in[2] & 0x7f) * 60000000000ull); /* up to 2 h: past max_age */
}

/* ---- the input --------------------------------------------------------------- */

static void setup(void)
{
	struct mv_options o;
	mv_options_defaults(&o);
	o.munmap = MV_MUNMAP_DEFER;
	o.munmap_cache_entries = 8;           /* small: the limits are reached */
	o.munmap_cache_bytes = 2UL << 20;
	o.munmap_max_range = 2UL << 20;
	o.munmap_max_age_ms = 3600000;        /* ageing only when an op ticks */
	o.munmap_psi = 0;
	if (mv_feature_start("munmap", &o, 2) != 1)
		abort();
	mv_munmap_set_psi_path("/nonexistent");
	mv_rt.allocator.text_lo = 1;          /* caller 1 is the allocator */
	mv_rt.allocator.text_hi = 2;
	mv_rt.allocator.in_executable = 0;
	mdl_setup();
	verbose = getenv("FUZZ_POLICY_VERBOSE") != NULL;
	long p = mv_raw6(SYS_mmap, 0, PG, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	thp_ok = !mv_raw_failed(p) && mv_raw3(SYS_madvise, p, PG, MADV_HUGEPAGE) == 0;
	mv_raw2(SYS_munmap, p, PG);
}

static void configure(uint8_t c)
{
	static const uint64_t zero_max[4] = { 0, 4096, 64 << 10, 4 << 20 };
	int mode = c & 3;
	mv_munmap_set_mode(mode == 0 ? MV_MUNMAP_PASSTHROUGH : mode == 1 ? MV_MUNMAP_RECYCLE : MV_MUNMAP_DEFER);
	mv_reg_reset();
	mv_munmap_set_zap_first(mode == 3);
	mv_munmap_set_zero_max(zero_max[(c >> 5) & 3]);
	int madv = (c >> 2) & 3;
	pm_advice.madvise_mode = madv == 1 ? MV_MADVISE_FREE_TO_DONTNEED
				 : madv == 2 ? MV_MADVISE_DONTNEED_TO_FREE : MV_MADVISE_PASSTHROUGH;
	pm_advice.pt_reclaim = (c >> 4) & 1;
	pm_advice.active = pm_advice.madvise_mode != MV_MADVISE_PASSTHROUGH || pm_advice.pt_reclaim;
	pm_advice.callers = (c >> 7) & 1 ? MV_CALLERS_ANY : MV_CALLERS_ALLOCATOR;
	pm_advice.alloc_lo = 1;
	pm_advice.alloc_hi = 2;
	mv_hot.advice = pm_advice;
	pm_strategy = mode != 0;
}

/* Give everything back through the library, drain, restore the window. */
static void cleanup(void)
{
	step_in = (const uint8_t *)"cleanup!";
	uintptr_t p;
	while (mdl_mapped_outside(&p)) {
		size_t run = mdl_run(p, WIN_PAGES);
		long r = call(MV_MUNMAP, p, run * PG, 0, 0, 0);
		check(r == 0, "cleanup: munmap(%#lx, %zu) = %ld", p, run * PG, r);
		mdl_unmap(p, run);
	}
	long r = call(MV_MUNMAP, win, WIN_BYTES, 0, 0, 0);
	check(r == 0, "cleanup: munmap(window) = %ld", r);
	mv_munmap_drain();
	if (pm_strategy) {
		size_t entries, held;
		mv_reg_counts(&entries, &held);
		check(entries == 0 && held == 0 && mv_mc_bytes() == 0,
		      "after unmapping everything: %zu registry entries, %zu held, %llu bytes held", entries, held,
		      (unsigned long long)mv_mc_bytes());
		check(mv_reg_check() == 0, "registry invariants after cleanup");
	}
	r = mv_raw6(SYS_mmap, (long)win, (long)WIN_BYTES, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
		    -1, 0);
	if (r != (long)win)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	if (!ready) {
		setup();
		ready = 1;
	}
	if (size < 1)
		return 0;
	configure(data[0]);
	mdl_reset();
	data++, size--;
	for (step = 0; step < MAX_STEPS && (size_t)(step + 1) * STEP_BYTES <= size && mdl_room(); step++) {
		const uint8_t *in = data + (size_t)step * STEP_BYTES;
		step_in = in;
		switch (in[0] % 12) {
		case 0: op_mmap_null(in); break;
		case 1: op_mmap_at(in, 0); break;
		case 2: op_mmap_at(in, 1); break;
		case 3: op_mmap_at(in, 2); break;
		case 4: op_munmap(in); break;
		case 5: op_mprotect(in); break;
		case 6: op_madvise(in); break;
		case 7: op_mremap(in); break;
		case 8: op_write(in); break;
		case 9: op_bad(in); break;
		case 10: op_tick(in); break;
		default: op_mmap_null(in); break;
		}
		const char *bad = mdl_verify(0);
		check(!bad, "%s", bad);
		if (pm_strategy)
			check(mv_reg_check() == 0, "registry invariants");
	}
	step_in = (const uint8_t *)"verify!!";
	const char *bad = mdl_verify(1);
	check(!bad, "at the end: %s", bad);
	cleanup();
	return 0;
}
