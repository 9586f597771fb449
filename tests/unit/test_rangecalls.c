/* test_rangecalls.c - range calls (request.h) under munmap:recycle: on a
 * cached range mlock, munlock, msync, mincore, mseal and
 * pkey_mprotect fail as on unmapped memory; the marks they leave (locked,
 * sealed, protection key) keep a range out of the cache; mlockall stops
 * caching until munlockall. And `munmap.callers`: the strategy takes only the
 * allocator's calls, or only the program's. */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "munmap/registry.h"
#include "core/runtime.h"
#include "../tap.h"
#include "strategy.h"

/* Every range call on a range just given up: the kernel's ENOMEM. */
static void on_cached_ranges(void)
{
	static const struct {
		enum mv_kind kind;
		long arg;
		int pkey;
		const char *name;
	} calls[] = {
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
		tap_ok(r == -ENOMEM, "%s on a cached range: ENOMEM, as after a real munmap (got %ld)", calls[i].name, r);
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
	tap_ok(do_munmap(p, 4 * PG) == 0 && !mapped(p) && counter(MV_MC_CACHED) == cached,
	       "an mlocked range is really unmapped, never cached");

	p = anon(4);
	do_range_call(MV_MLOCK, p, 4 * PG, 0, 0);
	tap_ok(do_range_call(MV_MUNLOCK, p, 4 * PG, 0, 0) == 0, "munlock of it: 0");
	tap_ok(do_munmap(p, 4 * PG) == 0 && mapped(p) && counter(MV_MC_CACHED) == cached + 1,
	       "once unlocked it is cached again");
	mv_munmap_drain();

	p = anon(4);
	r = do_range_call(MV_PKEY_MPROTECT, p, 4 * PG, RW, 0);
	tap_ok(r == 0, "pkey_mprotect with the default key: 0");
	tap_ok(do_munmap(p, 4 * PG) == 0 && mapped(p), "with the default key the range stays recyclable");
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
	lock_all();
	callers();
	tap_ok(mv_reg_check() == 0, "registry invariants hold at the end");
	return tap_done();
}
