/* test_rangecalls.c - range calls (request.h) under munmap:recycle: on a
 * cached range mlock, munlock, msync, mincore, mseal and
 * pkey_mprotect fail as on unmapped memory; the marks they leave (locked,
 * sealed, protection key) keep a range out of the cache; mlockall stops
 * caching until munlockall. And `munmap.callers`: the strategy takes only the
 * allocator's calls, or only the program's. */
#define MV_TEST_HOOKS /* calls test hooks (sys/testhook.h) */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "munmap/registry.h"
#include "core/runtime.h"
#include "core/kernel.h"
#include "../tap.h"
#include "strategy.h"

/* The kernel's own answer to a range call, made without the library: on a
 * range just unmapped (live = 0) or on a fresh private anonymous mapping
 * (live = 1). The expected results below come from here, not from what one
 * machine answers (without protection keys pkey_mprotect is EINVAL, without
 * mseal ENOSYS). */
static long kernel_answer(enum mv_kind kind, size_t pages, long arg, int pkey, int live)
{
	char *k = mmap(NULL, pages * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (k == MAP_FAILED)
		return -ENOMEM;
	if (!live)
		munmap(k, pages * PG);
	unsigned char vec[8];
	struct mv_request q = { .kind = kind, .addr = k, .len = pages * PG,
				.arg = kind == MV_MINCORE ? (long)vec : arg, .pkey = pkey };
	long r = mv_kernel_call(&q);
	if (live && (kind != MV_MSEAL || r != 0)) /* a sealed mapping stays */
		munmap(k, pages * PG);
	return r;
}

/* One range call of a table: its kind, argument, protection key, name. */
struct range_call {
	enum mv_kind kind;
	long arg;
	int pkey;
	const char *name;
};

/* Every range call on a range just given up: what the kernel answers after a
 * real munmap (ENOMEM, or EINVAL where the call checks its arguments first). */
static void on_cached_ranges(void)
{
	static const struct range_call calls[] = {
		{ MV_MLOCK, 0, 0, "mlock" },
		{ MV_MLOCK2, 0, 0, "mlock2" },
		{ MV_MUNLOCK, 0, 0, "munlock" },
		{ MV_MSYNC, MS_SYNC, 0, "msync" },
		{ MV_MINCORE, 0, 0, "mincore" },
		{ MV_MSEAL, 0, 0, "mseal" },
		{ MV_PKEY_MPROTECT, PROT_READ, 0, "pkey_mprotect" },
	};
	unsigned char vec[4];
	for (unsigned i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		char *p = anon(4);
		memset(p, 7, 4 * PG);
		uint64_t resolved = counter(MV_MC_RESOLVED);
		tap_ok(do_munmap(p, 4 * PG) == 0 && mapped(p), "%s: the range is cached", calls[i].name);
		long arg = calls[i].kind == MV_MINCORE ? (long)vec : calls[i].arg;
		long r = do_range_call(calls[i].kind, p + PG, PG, arg, calls[i].pkey);
		long want = kernel_answer(calls[i].kind, 1, calls[i].arg, calls[i].pkey, 0);
		tap_ok(r == want, "%s on a cached range: %ld, as after a real munmap (got %ld)", calls[i].name, want, r);
		tap_ok(!mapped(p + PG) && counter(MV_MC_RESOLVED) == resolved + 1,
		       "%s: the range was unmapped first", calls[i].name);
		mv_munmap_drain();
	}
	/* mlock rounds an unaligned start down: the page it lands in counts. */
	char *p = anon(2);
	do_munmap(p, 2 * PG);
	tap_ok(do_range_call(MV_MLOCK, p + 100, 10, 0, 0) == -ENOMEM && !mapped(p),
	       "mlock of an unaligned address in a cached page: ENOMEM");
	mv_munmap_drain();
	/* Argument errors stay the kernel's. */
	p = anon(2);
	tap_ok(do_range_call(MV_MSYNC, p + 1, PG, MS_SYNC, 0) == -EINVAL, "msync of an unaligned address: EINVAL");
	tap_ok(do_range_call(MV_MSYNC, p, PG, MS_SYNC | MS_ASYNC, 0) == -EINVAL, "msync with MS_SYNC|MS_ASYNC: EINVAL");
	tap_ok(do_range_call(MV_MLOCK2, p, PG, 0x100, 0) == -EINVAL, "mlock2 with an unknown flag: EINVAL");
	tap_ok(do_range_call(MV_MINCORE, p, PG, (long)vec, 0) == 0 && (vec[0] & 1) == 0,
	       "mincore of a live, untouched range: 0, not resident");
	do_munmap(p, 2 * PG);
	mv_munmap_drain();
}

/* Marks a fresh mapping would not have keep a range out of the cache. */
static void marks(void)
{
	uint64_t cached = counter(MV_MC_CACHED);
	char *p = anon(4);
	long r = do_range_call(MV_MLOCK, p, 4 * PG, 0, 0);
	tap_ok(r == 0 || r == -EPERM || r == -ENOMEM || r == -EAGAIN, "mlock of a live range: %ld", r);
	if (r == -EPERM) /* no permission at all (RLIMIT_MEMLOCK 0): nothing was locked */
		tap_ok(do_munmap(p, 4 * PG) == 0 && mapped(p) && counter(MV_MC_CACHED) == ++cached,
		       "mlock not permitted: nothing locked, the range is cached");
	else
		tap_ok(do_munmap(p, 4 * PG) == 0 && !mapped(p) && counter(MV_MC_CACHED) == cached,
		       "an mlocked range is really unmapped, never cached");

	p = anon(4);
	do_range_call(MV_MLOCK, p, 4 * PG, 0, 0);
	tap_ok(do_range_call(MV_MUNLOCK, p, 4 * PG, 0, 0) == 0, "munlock of it: 0");
	tap_ok(do_munmap(p, 4 * PG) == 0 && mapped(p) && counter(MV_MC_CACHED) == cached + 1,
	       "once unlocked it is cached again");
	mv_munmap_drain();

	/* Key 0 is the default key where the CPU has protection keys; without
	 * them the kernel refuses it (EINVAL) before looking at the range.
	 * Either way the range is as fresh as before. */
	p = anon(4);
	long want = kernel_answer(MV_PKEY_MPROTECT, 4, RW, 0, 1);
	r = do_range_call(MV_PKEY_MPROTECT, p, 4 * PG, RW, 0);
	tap_ok(r == want, "pkey_mprotect with key 0: %ld, as the kernel answers (got %ld)", want, r);
	tap_ok(do_munmap(p, 4 * PG) == 0 && mapped(p), "after pkey_mprotect with key 0 the range stays recyclable");
	mv_munmap_drain();

	p = anon(4);
	r = do_range_call(MV_MSEAL, p, 4 * PG, 0, 0);
	if (r == -ENOSYS || r == -EINVAL) {
		tap_skip("mseal: not supported by this kernel");
		tap_skip("munmap of a sealed range: mseal not supported by this kernel");
	} else {
		tap_ok(r == 0, "mseal of a live range: 0");
		long u = do_munmap(p, 4 * PG);
		tap_ok(u == -EPERM && mapped(p) && p[0] == 0, "munmap of a sealed range: EPERM, as the kernel says");
	}
	tap_ok(mv_reg_check() == 0, "registry invariants hold");
}

/* A call the kernel refuses before changing anything (EINVAL for the flags
 * or the key) leaves no mark: the range is still recycled. One that fails
 * part-way (ENOMEM at a hole, after the first pages were changed) keeps the
 * conservative mark. */
static void refused(void)
{
	static const struct range_call calls[] = {
		{ MV_MLOCK2, 0x100, 0, "mlock2 with an unknown flag" },
		{ MV_PKEY_MPROTECT, PROT_READ, 1000, "pkey_mprotect with a key never allocated" },
		{ MV_PKEY_MPROTECT, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP, 0,
		  "pkey_mprotect with GROWSDOWN|GROWSUP" },
		{ MV_MSEAL, 1, 0, "mseal with an unknown flag" },
	};
	for (unsigned i = 0; i < sizeof(calls) / sizeof(calls[0]); i++) {
		long want = kernel_answer(calls[i].kind, 4, calls[i].arg, calls[i].pkey, 1);
		char *p = anon(4);
		long r = do_range_call(calls[i].kind, p, 4 * PG, calls[i].arg, calls[i].pkey);
		tap_ok(r == want, "%s: %ld, as the kernel answers (got %ld)", calls[i].name, want, r);
		if (want != -EINVAL && want != -ENOSYS) {
			char why[160];
			snprintf(why, sizeof(why), "%s: this kernel accepted it (%ld), nothing refused to check",
				 calls[i].name, want);
			tap_skip(why);
			do_munmap(p, 4 * PG);
			mv_munmap_drain();
			continue;
		}
		uint64_t cached = counter(MV_MC_CACHED);
		tap_ok(do_munmap(p, 4 * PG) == 0 && mapped(p) && counter(MV_MC_CACHED) == cached + 1,
		       "%s: refused before any change, the range is still recycled", calls[i].name);
		mv_munmap_drain();
	}

	/* mprotect with both GROWSDOWN and GROWSUP: refused up front. */
	char *p = anon(4);
	char *k = mmap(NULL, 4 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long want = mprotect(k, 4 * PG, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP) ? -errno : 0;
	munmap(k, 4 * PG);
	long r = do_mprotect(p, 4 * PG, PROT_READ | PROT_GROWSDOWN | PROT_GROWSUP);
	tap_ok(r == want && want == -EINVAL, "mprotect with GROWSDOWN|GROWSUP: %ld, as the kernel answers (got %ld)",
	       want, r);
	uint64_t cached = counter(MV_MC_CACHED);
	tap_ok(do_munmap(p, 4 * PG) == 0 && mapped(p) && counter(MV_MC_CACHED) == cached + 1,
	       "mprotect refused before any change: the range is still recycled");
	mv_munmap_drain();

	/* mprotect over a hole: the pages before it change, then ENOMEM. */
	p = anon(4);
	munmap(p + 2 * PG, PG); /* behind the strategy's back: a real hole */
	mv_reg_forget((uintptr_t)p + 2 * PG, (uintptr_t)p + 3 * PG);
	k = mmap(NULL, 4 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(k + 2 * PG, PG);
	want = mprotect(k, 4 * PG, PROT_READ) ? -errno : 0;
	munmap(k, 4 * PG);
	r = do_mprotect(p, 4 * PG, PROT_READ);
	tap_ok(r == want && r < 0, "mprotect over a hole: %ld, as the kernel answers (got %ld)", want, r);
	tap_ok(do_mprotect(p, 2 * PG, RW) == 0, "the first part made read-write again");
	cached = counter(MV_MC_CACHED);
	tap_ok(do_munmap(p, 2 * PG) == 0 && !mapped(p) && counter(MV_MC_CACHED) == cached,
	       "a part-way failure keeps its mark: that part is really unmapped, never cached");
	do_munmap(p + 3 * PG, PG);
	mv_munmap_drain();
	tap_ok(mv_reg_check() == 0, "registry invariants hold");
}

/* mlockall: give everything back, cache nothing until munlockall. */
static void lock_all(void)
{
	char *p = anon(4);
	do_munmap(p, 4 * PG);
	tap_ok(do_range_call(MV_MLOCKALL, NULL, 0, 0, 0) == -EINVAL && mapped(p),
	       "mlockall(0): EINVAL, and caching goes on");
	long r = do_range_call(MV_MLOCKALL, NULL, 0, MCL_FUTURE | MCL_ONFAULT, 0);
	tap_ok(r == 0 || r == -EPERM || r == -ENOMEM, "mlockall(MCL_FUTURE|MCL_ONFAULT): %ld", r);
	tap_ok(!mapped(p) && mv_mc_bytes() == 0, "mlockall gives every held range back first");
	uint64_t cached = counter(MV_MC_CACHED);
	char *q = anon(4);
	tap_ok(q && do_munmap(q, 4 * PG) == 0 && !mapped(q) && counter(MV_MC_CACHED) == cached,
	       "after mlockall a munmap is a real munmap");
	tap_ok(do_range_call(MV_MUNLOCKALL, NULL, 0, 0, 0) == 0, "munlockall: 0");
	q = anon(4);
	tap_ok(do_munmap(q, 4 * PG) == 0 && mapped(q) && counter(MV_MC_CACHED) == cached + 1,
	       "after munlockall ranges are cached again");
	mv_munmap_drain();
}

/* munmap.callers: the allocator's calls are those from its code. */
static void callers(void)
{
	static const char alloc_code[64];
	mv_rt.allocator.text_lo = (uintptr_t)alloc_code;
	mv_rt.allocator.text_hi = (uintptr_t)alloc_code + sizeof(alloc_code);
	mv_rt.allocator.in_executable = 0;
	const void *from_alloc = alloc_code + 8, *from_program = (const void *)callers;

	mv_munmap_set_callers(MV_CALLERS_ALLOCATOR);
	uint64_t cached = counter(MV_MC_CACHED);
	char *p = (char *)do_mmap_from(from_program, NULL, 4 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS);
	tap_ok(do_munmap_from(from_program, p, 4 * PG) == 0 && !mapped(p) && counter(MV_MC_CACHED) == cached,
	       "callers=allocator: the program's own munmap passes through");
	p = (char *)do_mmap_from(from_alloc, NULL, 4 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS);
	tap_ok(do_munmap_from(from_alloc, p, 4 * PG) == 0 && mapped(p) && counter(MV_MC_CACHED) == cached + 1,
	       "callers=allocator: the allocator's munmap is cached");
	uint64_t recycled = counter(MV_MC_RECYCLED);
	char *q = (char *)do_mmap_from(from_program, NULL, 4 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS);
	tap_ok(q != p && counter(MV_MC_RECYCLED) == recycled, "and not served to the program's mmap");
	char *r = (char *)do_mmap_from(from_alloc, NULL, 4 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS);
	tap_ok(r == p && counter(MV_MC_RECYCLED) == recycled + 1 && all_zero(r, 4 * PG),
	       "but served to the allocator's, zeroed");
	do_munmap(q, 4 * PG);
	do_munmap(r, 4 * PG);
	mv_munmap_drain();

	mv_munmap_set_callers(MV_CALLERS_PROGRAM);
	cached = counter(MV_MC_CACHED);
	p = (char *)do_mmap_from(from_alloc, NULL, 4 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS);
	tap_ok(do_munmap_from(from_alloc, p, 4 * PG) == 0 && !mapped(p) && counter(MV_MC_CACHED) == cached,
	       "callers=program: the allocator's munmap passes through");
	p = (char *)do_mmap_from(from_program, NULL, 4 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS);
	tap_ok(do_munmap_from(from_program, p, 4 * PG) == 0 && mapped(p) && counter(MV_MC_CACHED) == cached + 1,
	       "callers=program: the program's munmap is cached");
	mv_munmap_drain();
	mv_munmap_set_callers(MV_CALLERS_ANY);
}

int main(void)
{
	struct mv_options o;
	mv_options_defaults(&o);
	o.munmap = MV_MUNMAP_RECYCLE;
	o.munmap_max_age_ms = 10000;
	tap_ok(mv_feature_start("munmap", &o, 2) == 1, "recycling starts");
	mv_munmap_set_psi_path("/nonexistent");
	on_cached_ranges();
	marks();
	refused();
	lock_all();
	callers();
	tap_ok(mv_reg_check() == 0, "registry invariants hold at the end");
	return tap_done();
}
