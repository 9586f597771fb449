/* test_defer.c - munmap:defer on real memory, driven through the strategy's
 * dispatch: munmap returns at once and the range is unmapped later, adjacent
 * ranges in one call; zap_first drops the pages at once; calls touching a
 * queued range see it unmapped; the queue drains on its limits, by age and
 * when asked. */
#define MV_TEST_HOOKS /* calls test hooks (sys/testhook.h) */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "munmap/registry.h"
#include "sys/probe.h"
#include "../tap.h"
#include "strategy.h"

#define ENTRIES 16

static int resident(void *p, size_t pages)
{
	unsigned char v[64];
	int n = 0;
	if (mincore(p, pages * PG, v) != 0)
		return -1;
	for (size_t i = 0; i < pages; i++)
		n += v[i] & 1;
	return n;
}

int main(void)
{
	struct mv_options o;
	mv_options_defaults(&o);
	o.munmap = MV_MUNMAP_DEFER;
	o.munmap_cache_entries = ENTRIES;
	o.munmap_max_age_ms = 10000;
	tap_ok(mv_munmap_start(&o, 2) == MV_MUNMAP_DEFER, "deferral starts");
	mv_munmap_set_psi_path("/nonexistent");

	char *p = (char *)do_mmap(NULL, 4 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS);
	memset(p, 1, 4 * PG);
	tap_ok(do_munmap(p, 4 * PG) == 0 && mapped(p) && counter(MV_MC_DEFERRED) == 1,
	       "munmap returns 0 and the range waits in the queue");
	tap_ok(do_madvise(p, PG, MADV_DONTNEED) == -ENOMEM && !mapped(p),
	       "madvise on a queued range: ENOMEM (it is unmapped first)");
	p = (char *)do_mmap(NULL, 4 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS);
	do_munmap(p, 4 * PG);
	tap_ok(do_mmap(p, 4 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE) == (long)p,
	       "MAP_FIXED_NOREPLACE over a queued range succeeds");
	tap_ok(do_munmap(p + 1, PG) == -EINVAL && do_munmap(p, 0) == -EINVAL, "bad arguments: EINVAL, not queued");
	do_munmap(p, 4 * PG);
	mv_munmap_drain();
	tap_ok(!mapped(p) && mv_mc_bytes() == 0, "drain unmaps the queue");

	/* Eight adjacent mappings (MAP_FIXED in a reservation made outside the
	 * library), given up one by one: one munmap for all of them. */
	char *res = mmap(NULL, 8 * 4 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (int i = 0; i < 8; i++) {
		do_mmap(res + i * 4 * PG, 4 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
		memset(res + i * 4 * PG, i + 1, 4 * PG);
	}
	for (int i = 0; i < 8; i++)
		do_munmap(res + i * 4 * PG, 4 * PG);
	tap_ok(mapped(res) && resident(res, 32) == 32, "eight queued ranges, still mapped and resident");
	uint64_t calls = counter(MV_MC_UNMAP_CALLS), zaps = counter(MV_MC_ZAP_CALLS);
	mv_munmap_drain();
	tap_ok(!mapped(res) && !mapped(res + 31 * PG), "drained");
	tap_ok(counter(MV_MC_UNMAP_CALLS) == calls + 1, "with one munmap call (%llu)",
	       (unsigned long long)(counter(MV_MC_UNMAP_CALLS) - calls));
	tap_ok(counter(MV_MC_ZAP_CALLS) == zaps, "one run: no separate zap");

	/* Eight ranges with gaps between them: their pages go in one batched
	 * process_madvise (read lock), then eight short munmaps. */
	for (int i = 0; i < 8; i++) {
		do_mmap(res + i * 4 * PG, 2 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE);
		memset(res + i * 4 * PG, i + 1, 2 * PG);
	}
	for (int i = 0; i < 8; i++)
		do_munmap(res + i * 4 * PG, 2 * PG);
	calls = counter(MV_MC_UNMAP_CALLS);
	zaps = counter(MV_MC_ZAP_CALLS);
	mv_munmap_drain();
	tap_ok(counter(MV_MC_UNMAP_CALLS) == calls + 8 && !mapped(res + 28 * PG), "eight runs: eight munmaps");
	if (mv_probe_get()->pidfd_self)
		tap_ok(counter(MV_MC_ZAP_CALLS) == zaps + 1, "after one process_madvise for all their pages");
	else
		tap_skip("process_madvise(PIDFD_SELF) needs Linux 6.15");

	/* zap_first: the pages go at once, the unmap waits. */
	mv_munmap_set_zap_first(1);
	p = (char *)do_mmap(NULL, 8 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS);
	memset(p, 3, 8 * PG);
	do_munmap(p, 8 * PG);
	tap_ok(mapped(p) && resident(p, 8) == 0, "zap_first: queued and already without pages");
	mv_munmap_set_zap_first(0);

	/* The queue's limit: entries per arena. */
	uint64_t drains = counter(MV_MC_DRAINS);
	char *m[ENTRIES];
	for (int i = 0; i < ENTRIES; i++)
		m[i] = (char *)do_mmap(NULL, 2 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS);
	for (int i = 0; i < ENTRIES; i++)
		do_munmap(m[i], PG); /* the live second pages keep them apart */
	tap_ok(counter(MV_MC_DRAINS) > drains && !mapped(m[0]), "a full queue drains itself");

	/* Age. */
	p = (char *)do_mmap(NULL, PG, RW, MAP_PRIVATE | MAP_ANONYMOUS);
	do_munmap(p, PG);
	mv_munmap_tick(0);
	tap_ok(mapped(p), "a young queued range waits");
	mv_munmap_tick(mv_mc_now() + 11000000000ULL);
	tap_ok(!mapped(p), "an old one is unmapped by the worker's pass");

	/* Not queued: unknown ranges, shared mappings. */
	char *u = mmap(NULL, PG, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	tap_ok(do_munmap(u, PG) == 0 && !mapped(u), "a range made before (unknown): unmapped at once");
	char *sh = (char *)do_mmap(NULL, PG, RW, MAP_SHARED | MAP_ANONYMOUS);
	tap_ok(do_munmap(sh, PG) == 0 && !mapped(sh), "a shared mapping: unmapped at once");
	tap_ok(mv_reg_check() == 0, "registry invariants hold");
	return tap_done();
}
