/* test_recycle.c - munmap:recycle on real memory, driven through the
 * strategy's dispatch as the interposer would: a range given up is served
 * again, zeroed, split and merged; ranges changed by advice or protection are
 * not; every call that touches a cached range sees it as unmapped; large
 * sparse ranges are cleared without touching empty pages; idle memory goes
 * back by age and under memory pressure. */
#define MV_TEST_HOOKS /* calls test hooks (sys/testhook.h) */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/mman.h>
#include "munmap/registry.h"
#include "../tap.h"
#include "strategy.h"

static void basics(void)
{
	char *p = anon(8);
	memset(p, 0xab, 8 * PG);
	tap_ok(do_munmap(p, 8 * PG) == 0, "munmap of a fresh private mapping returns 0");
	tap_ok(mapped(p) && counter(MV_MC_CACHED) == 1, "the range is kept mapped, in the cache");
	tap_ok(do_madvise(p, PG, MADV_WILLNEED) == -ENOMEM, "madvise on it: ENOMEM, as after a real munmap");
	tap_ok(!mapped(p) && counter(MV_MC_RESOLVED) == 1, "that call unmapped it first (resolved)");
	tap_ok(mapped(p + PG), "only the page it touched: the rest stays cached");
	mv_munmap_drain();

	p = anon(8);
	memset(p, 0xcd, 8 * PG);
	do_munmap(p, 8 * PG);
	char *q = anon(8);
	tap_ok(q == p && all_zero(q, 8 * PG), "the next mmap of that size gets it back, all zero");
	tap_ok(counter(MV_MC_RECYCLED) == 1, "counted as recycled");

	/* Split: 8 pages cached, served as 3 + 5. */
	memset(q, 1, 8 * PG);
	do_munmap(q, 8 * PG);
	char *a = anon(3), *b = anon(5);
	tap_ok(a == q && b == q + 3 * PG && all_zero(a, 3 * PG) && all_zero(b, 5 * PG),
	       "an 8-page range serves a 3-page and a 5-page mmap");
	/* Merge: given back in pieces, served whole. */
	memset(a, 2, 3 * PG);
	memset(b, 3, 5 * PG);
	do_munmap(b, 5 * PG);
	do_munmap(a, 3 * PG);
	char *c = anon(8);
	tap_ok(c == a && all_zero(c, 8 * PG), "the pieces merge back into one 8-page range");

	/* Best fit by pages. */
	char *big = anon(16), *small = anon(2);
	do_munmap(big, 16 * PG);
	do_munmap(small, 2 * PG);
	tap_ok(anon(2) == small && anon(16) == big, "best fit: each size gets the range that fits it");
	do_munmap(small, 2 * PG);
	do_munmap(big, 16 * PG);
	do_munmap(c, 8 * PG);
	mv_munmap_drain();
	tap_ok(!mapped(c) && !mapped(big) && mv_mc_bytes() == 0, "drain unmaps everything held");

	tap_ok(do_munmap(c + 1, PG) == -EINVAL && do_munmap(c, 0) == -EINVAL,
	       "unaligned or empty munmap: EINVAL, as the kernel says");
	tap_ok(do_mmap(NULL, 0, RW, MAP_PRIVATE | MAP_ANONYMOUS) == -EINVAL, "empty mmap: EINVAL");
}

static void edges(void)
{
	/* MAP_FIXED_NOREPLACE over a cached range succeeds. */
	char *p = anon(4);
	do_munmap(p, 4 * PG);
	long r = do_mmap(p, 4 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE);
	tap_ok(r == (long)p && all_zero(p, 4 * PG), "MAP_FIXED_NOREPLACE over a cached range succeeds, zeroed");
	/* A hint at a cached range is honoured, as the kernel would for free space. */
	do_munmap(p, 4 * PG);
	tap_ok(do_mmap(p, 4 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS) == (long)p, "a hint at a cached range is used");
	do_munmap(p, 4 * PG);
	/* mprotect / mremap / munmap over it. */
	p = anon(4);
	do_munmap(p, 4 * PG);
	tap_ok(do_mprotect(p, PG, PROT_READ) == -ENOMEM, "mprotect on a cached range: ENOMEM");
	p = anon(4);
	do_munmap(p, 4 * PG);
	tap_ok(do_mremap(p, 4 * PG, 8 * PG, MREMAP_MAYMOVE, NULL) == -EFAULT, "mremap of a cached range: EFAULT");
	p = anon(4);
	do_munmap(p + 2 * PG, 2 * PG);
	long g = do_mremap(p, 2 * PG, 4 * PG, 0, NULL);
	tap_ok(g == (long)p && all_zero(p + 2 * PG, 2 * PG),
	       "mremap grows in place over its own cached tail, zero-filled");
	do_munmap(p, 4 * PG);
	mv_munmap_drain();
	/* A range moved by mremap keeps what it was: still recyclable. */
	p = anon(4);
	long mv = do_mremap(p, 4 * PG, 16 * PG, MREMAP_MAYMOVE, NULL);
	memset((void *)mv, 5, 16 * PG);
	tap_ok(mv > 0 && do_munmap((void *)mv, 16 * PG) == 0 && mapped((void *)mv),
	       "a range grown by mremap is still known: its munmap is cached");
	tap_ok(anon(16) == (char *)mv && all_zero((char *)mv, 16 * PG), "and served again, zeroed");
	do_madvise((void *)mv, 16 * PG, MADV_HUGEPAGE);
	long mv2 = do_mremap((void *)mv, 16 * PG, 8 * PG, 0, NULL);
	tap_ok(mv2 == mv && do_munmap((void *)mv2, 8 * PG) == 0 && !mapped((void *)mv2),
	       "advice moves with it: a shrunk MADV_HUGEPAGE range is really unmapped");
	p = anon(4);
	do_munmap(p + PG, PG);
	tap_ok(do_munmap(p, 4 * PG) == 0 && !mapped(p + PG) && !mapped(p),
	       "munmap over a live range and a cached piece of it unmaps both");
	/* process_madvise with an iovec naming a cached range. */
	p = anon(2);
	do_munmap(p, 2 * PG);
	struct iovec v = { p, 2 * PG };
	struct mv_request q = { .kind = MV_PROCESS_MADVISE, .fd = -10000, .iov = &v, .vlen = 1,
				.advice = MADV_COLD };
	long pr = mv_munmap_dispatch(&q);
	tap_ok(!mapped(p) && (pr == -ENOMEM || pr == -EINVAL || pr == -EBADF || pr == -EPERM),
	       "process_madvise over a cached range resolves it first (result %ld)", pr);
	q.iov = (const struct iovec *)8; /* unreadable: the kernel's EFAULT, no crash */
	pr = mv_munmap_dispatch(&q);
	tap_ok(pr < 0, "process_madvise with a bad iovec pointer fails in the kernel (%ld)", pr);
}

static void eligibility(void)
{
	uint64_t cached = counter(MV_MC_CACHED);
	char *p = anon(4);
	/* The kernel's answer first: EINVAL where THP is not built in. */
	char *k = mmap(NULL, 4 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	long want = madvise(k, 4 * PG, MADV_HUGEPAGE) ? -errno : 0;
	munmap(k, 4 * PG);
	tap_ok(do_madvise(p, 4 * PG, MADV_HUGEPAGE) == want && do_munmap(p, 4 * PG) == 0 && !mapped(p),
	       "a range with MADV_HUGEPAGE (%ld, as the kernel answers) is really unmapped", want);
	p = anon(4);
	do_madvise(p + PG, PG, MADV_WIPEONFORK);
	do_munmap(p, 4 * PG);
	tap_ok(!mapped(p), "a range with MADV_WIPEONFORK on one page is really unmapped");
	p = anon(4);
	do_mprotect(p, 4 * PG, PROT_READ);
	do_munmap(p, 4 * PG);
	tap_ok(!mapped(p), "a read-only range is really unmapped");
	p = anon(4);
	do_madvise(p, 4 * PG, MADV_DONTNEED);
	do_madvise(p, 4 * PG, MADV_FREE);
	do_munmap(p, 4 * PG);
	tap_ok(mapped(p), "DONTNEED and FREE leave no mark: that range is cached");
	tap_ok(counter(MV_MC_CACHED) == cached + 1, "one cached out of four");
	long s = do_mmap(NULL, 4 * PG, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS);
	tap_ok(s != (long)p, "a read-only mmap is not served from the cache");
	do_munmap((void *)s, 4 * PG);
	s = do_mmap(NULL, 4 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE);
	tap_ok(s != (long)p, "an mmap with other flags is not served either");
	do_munmap((void *)s, 4 * PG);
	mv_munmap_drain();

	/* Two mappings side by side (MAP_FIXED in a reservation made outside the
	 * library): possibly two VMAs, so never handed out as one range. */
	char *res = mmap(NULL, 16 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	do_mmap(res, 4 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
	do_mmap(res + 4 * PG, 4 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
	memset(res, 1, 8 * PG);
	do_munmap(res, 4 * PG);
	do_munmap(res + 4 * PG, 4 * PG);
	char *h = anon(8);
	tap_ok(h != res, "ranges of two mmap calls are not merged into one hand-out");
	char *h4 = anon(4);
	tap_ok(h4 == res || h4 == res + 4 * PG, "each serves a request of its own size");
	long m = do_mremap(h4, 4 * PG, 64 * PG, MREMAP_MAYMOVE, NULL);
	tap_ok(m > 0 && all_zero((char *)m, 64 * PG), "a recycled range is one VMA: mremap grows it (%ld)", m);
	do_munmap((void *)m, 64 * PG);
	do_munmap(h, 8 * PG);
	mv_munmap_drain();
	munmap(res, 16 * PG);
}

static size_t resident_pages(char *p, size_t pages)
{
	unsigned char *vec = malloc(pages);
	size_t n = 0;
	mincore(p, pages * PG, vec);
	for (size_t i = 0; i < pages; i++)
		n += vec[i] & 1;
	free(vec);
	return n;
}

/* MAP_NORESERVE ranges (jemalloc's, mimalloc's) are kept and handed only to
 * requests with the same flags; a munmap over several mappings (jemalloc
 * merges adjacent extents) keeps one range per mapping. */
static void allocator_ranges(void)
{
	const int nr = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	char *p = (char *)do_mmap(NULL, 4 * PG, RW, nr);
	memset(p, 7, 4 * PG);
	uint64_t cached = counter(MV_MC_CACHED);
	tap_ok(do_munmap(p, 4 * PG) == 0 && mapped(p) && counter(MV_MC_CACHED) == cached + 1,
	       "a MAP_NORESERVE range is kept");
	char *q = anon(4);
	tap_ok(q != p, "a request without MAP_NORESERVE is not served with it");
	char *r = (char *)do_mmap(NULL, 4 * PG, RW, nr);
	tap_ok(r == p && all_zero(r, 4 * PG), "a MAP_NORESERVE request is, zeroed");
	do_munmap(q, 4 * PG);
	do_munmap(r, 4 * PG);
	mv_munmap_drain();

	/* Two mappings side by side given up in one call. */
	char *res = mmap(NULL, 16 * PG, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	do_mmap(res, 4 * PG, RW, nr | MAP_FIXED);
	do_mmap(res + 4 * PG, 4 * PG, RW, nr | MAP_FIXED);
	memset(res, 1, 8 * PG);
	cached = counter(MV_MC_CACHED);
	tap_ok(do_munmap(res, 8 * PG) == 0 && mapped(res) && mapped(res + 4 * PG) &&
	       counter(MV_MC_CACHED) == cached + 2, "one munmap over two mappings keeps each of them");
	char *h8 = (char *)do_mmap(NULL, 8 * PG, RW, nr);
	tap_ok(h8 != res, "they are not handed out as one range");
	char *a = (char *)do_mmap(NULL, 4 * PG, RW, nr), *b = (char *)do_mmap(NULL, 4 * PG, RW, nr);
	tap_ok(((a == res && b == res + 4 * PG) || (b == res && a == res + 4 * PG)) && all_zero(a, 4 * PG) &&
	       all_zero(b, 4 * PG), "each serves a request of its own size, zeroed");
	do_munmap(h8, 8 * PG);
	do_munmap(a, 4 * PG);
	do_munmap(b, 4 * PG);
	mv_munmap_drain();
	munmap(res, 16 * PG);
}

static size_t resident_pages(char *p, size_t pages);

/* What a fresh mapping holds after the same touches, from the kernel. */
static size_t fresh_resident(size_t pages, const char *touch)
{
	char *f = mmap(NULL, pages * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (size_t i = 0; touch[i]; i++)
		if (touch[i] == 'W')
			f[i * PG] = 1;
	size_t n = resident_pages(f, pages);
	munmap(f, pages * PG);
	return n;
}

/* smaps "Locked:" of the VMA starting at p, in kB (what is resident and
 * locked there), or (size_t)-1. */
static size_t locked_kb(const void *p)
{
	char buf[512];
	FILE *f = fopen("/proc/self/smaps", "r");
	size_t kb = (size_t)-1;
	int in = 0;
	unsigned long lo, hi;
	while (f && fgets(buf, sizeof buf, f)) {
		if (sscanf(buf, "%lx-%lx ", &lo, &hi) == 2)
			in = lo == (unsigned long)p;
		else if (in && sscanf(buf, "Locked: %zu kB", &kb) == 1)
			break;
	}
	if (f)
		fclose(f);
	return kb;
}

/* mlock2(MLOCK_ONFAULT) over 8 pages, one write, then what is locked (kB). */
static size_t onfault_one_write(char *p, int via_library)
{
	long r = via_library ? do_edge(MV_EDGE_MLOCK2, p, 8 * PG, MLOCK_ONFAULT, 0) : mlock2(p, 8 * PG, MLOCK_ONFAULT);
	if (r != 0)
		return (size_t)-1;
	p[0] = 1;
	size_t kb = locked_kb(p);
	if (via_library)
		do_edge(MV_EDGE_MUNLOCK, p, 8 * PG, 0, 0);
	else
		munlock(p, 8 * PG);
	p[0] = 0;
	return kb;
}

/* munmap.recycle_resident:false (the default) hands a recycled range out
 * holding nothing resident, as a fresh mapping (same touches, same mincore,
 * MLOCK_ONFAULT locks only what is touched after); true keeps the cleared
 * pages resident: the difference is what that switch trades for speed. */
static void residency(void)
{
	const char *touch = "W..W....";
	for (int keep = 0; keep <= 1; keep++) {
		const char *how = keep ? "recycle_resident:true" : "recycle_resident:false";
		mv_munmap_set_recycle_resident(keep);
		char *p = anon(8);
		memset(p, 3, 8 * PG);
		do_munmap(p, 8 * PG);
		char *q = anon(8);
		tap_ok(q == p, "%s: served again", how);
		size_t before = resident_pages(q, 8);
		/* MLOCK_ONFAULT and one write, against the same on a fresh mapping. */
		char *f = mmap(NULL, 8 * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		size_t flk = onfault_one_write(f, 0);
		munmap(f, 8 * PG);
		size_t lk = onfault_one_write(q, 1);
		if (flk == (size_t)-1)
			tap_skip("mlock2(MLOCK_ONFAULT) refused here without the library");
		else if (!keep)
			tap_ok(lk == flk, "%s: MLOCK_ONFAULT and one write lock %zu kB, as on a fresh mapping (%zu kB)",
			       how, lk, flk);
		else
			tap_ok(lk != (size_t)-1 && lk > flk,
			       "%s: MLOCK_ONFAULT and one write lock %zu kB where a fresh mapping locks %zu kB: expected "
			       "of the switch", how, lk, flk);
		for (size_t i = 0; touch[i]; i++)
			if (touch[i] == 'W')
				q[i * PG] = 1;
		unsigned char vec[8];
		size_t in = 0;
		long r = do_edge(MV_EDGE_MINCORE, q, 8 * PG, (long)vec, 0);
		for (int i = 0; i < 8; i++)
			in += vec[i] & 1;
		size_t want = fresh_resident(8, touch);
		if (!keep) {
			tap_ok(before == 0, "%s: nothing resident when handed out (%zu pages)", how, before);
			tap_ok(r == 0 && in == want, "%s: mincore after two writes: %zu resident, as a fresh mapping (%zu)",
			       how, in, want);
		} else {
			tap_ok(r == 0 && in == 8 && want < 8,
			       "%s: all 8 pages resident after two writes where a fresh mapping has %zu: expected of the switch",
			       how, want);
		}
		q[0] = q[3 * PG] = 0;
		tap_ok(all_zero(q, 8 * PG), "%s: it reads zero but for what was written", how);
		do_munmap(q, 8 * PG);
		mv_munmap_drain();
	}
	mv_munmap_set_recycle_resident(0);
}

static void sparse(void)
{
	/* How munmap.recycle_resident:true clears what it keeps resident. */
	mv_munmap_set_recycle_resident(1);
	/* 4 MiB on a 2 MiB boundary (MAP_FIXED in a reservation made outside the
	 * library), all written: pagemap shows dense chunks, cleared with memset. */
	size_t dense = 1024;
	mv_munmap_drain();
	char *res = mmap(NULL, 8UL << 20, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *d = (char *)(((uintptr_t)res + (2UL << 20) - 1) & ~((2UL << 20) - 1));
	do_mmap(d, dense * PG, RW, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED);
	memset(d, 0x3c, dense * PG);
	do_munmap(d, dense * PG);
	uint64_t pm = counter(MV_MC_ZERO_PAGEMAP);
	char *e = anon(dense);
	tap_ok(e == d && counter(MV_MC_ZERO_PAGEMAP) == pm + 1 && all_zero(e, dense * PG),
	       "a large dense range is cleared as pagemap says (memset), all zero");
	tap_ok(resident_pages(e, dense) == dense, "and keeps its pages (the program will use them again)");
	/* One chunk dense, one sparse: the sparse one's pages are dropped. */
	memset(e, 1, 512 * PG);
	madvise(e + 512 * PG, 512 * PG, MADV_DONTNEED);
	for (size_t i = 512; i < 1024; i += 64)
		e[i * PG] = 9;
	do_munmap(e, dense * PG);
	e = anon(dense);
	size_t in = resident_pages(e, dense); /* before reading: a read maps the zero page */
	tap_ok(in == 512, "the dense chunk kept its pages, the sparse one has none (%zu)", in);
	tap_ok(e == d && all_zero(e, dense * PG), "mixed chunks: all zero");
	do_munmap(e, dense * PG);
	mv_munmap_drain();
	munmap(res, 8UL << 20);

	/* 64 MiB, 1% touched: sampled as mostly empty, dropped in one call. */
	size_t pages = 16384;
	char *p = anon(pages);
	for (size_t i = 0; i < pages; i += 97)
		p[i * PG + 5] = 7;
	do_munmap(p, pages * PG);
	uint64_t dn = counter(MV_MC_ZERO_DONTNEED);
	char *q = anon(pages);
	tap_ok(q == p && counter(MV_MC_ZERO_DONTNEED) == dn + 1, "a large sparse range is served, dropped whole");
	size_t resident = resident_pages(q, pages);
	tap_ok(resident == 0, "clearing kept no page (%zu of %zu resident)", resident, pages);
	int zero = 1;
	for (size_t i = 0; i < pages; i += 97)
		zero &= q[i * PG + 5] == 0;
	tap_ok(zero, "and every one of them reads zero");
	do_munmap(q, pages * PG);
	mv_munmap_drain();
	mv_munmap_set_recycle_resident(0);
}

static void aging(void)
{
	char *p = anon(4);
	do_munmap(p, 4 * PG);
	mv_munmap_tick(0);
	tap_ok(mapped(p), "a young cached range survives the worker's pass");
	mv_munmap_tick(mv_mc_now() + 11000000000ULL); /* munmap.max_age_ms is 10 s here */
	tap_ok(!mapped(p) && counter(MV_MC_AGED) >= 1, "an idle one goes back to the kernel");

	char path[] = "/tmp/madvisor-psi.XXXXXX";
	int fd = mkstemp(path);
	const char *hot = "some avg10=55.00 avg60=10.00 avg300=1.00 total=1\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
	tap_ok(fd >= 0 && write(fd, hot, strlen(hot)) == (ssize_t)strlen(hot), "pressure file written");
	close(fd);
	mv_munmap_set_psi_path(path);
	p = anon(4);
	do_munmap(p, 4 * PG);
	mv_munmap_tick(0);
	tap_ok(!mapped(p) && counter(MV_MC_PRESSURE) == 1, "memory pressure drains the cache");
	unlink(path);
}

static void forked(void)
{
	mv_munmap_drain();
	char *keep = anon(2);
	memset(keep, 4, 2 * PG);
	char *p = anon(4);
	memset(p, 9, 4 * PG);
	do_munmap(p, 4 * PG);
	pid_t c = fork();
	if (c == 0) {
		/* The child gave its inherited copy back; its own munmaps are
		 * cached and served, zeroed. */
		int ok = !mapped(p) && mv_mc_bytes() == 0;
		char *q = anon(4);
		memset(q, 0x66, 4 * PG);
		do_munmap(q, 4 * PG);
		ok = ok && mapped(q) && anon(4) == q && all_zero(q, 4 * PG);
		memset(keep, 0x77, 2 * PG);
		_exit(ok ? 0 : 1);
	}
	int st;
	waitpid(c, &st, 0);
	tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == 0,
	       "a fork child unmaps the cached ranges it inherited, then caches and serves its own, zeroed");
	int intact = 1;
	for (size_t i = 0; i < 2 * PG; i++)
		intact &= keep[i] == 4;
	tap_ok(intact, "the child's writes do not reach the parent");
	tap_ok(anon(4) == p, "the parent still has its own copy cached");
}

int main(void)
{
	struct mv_options o;
	mv_options_defaults(&o);
	o.munmap = MV_MUNMAP_RECYCLE;
	o.munmap_max_age_ms = 10000;
	o.munmap_psi = 1000;
	o.munmap_zero_memset_max = 1 << 20;
	tap_ok(mv_munmap_start(&o, 2) == MV_MUNMAP_RECYCLE, "recycling starts");
	mv_munmap_set_psi_path("/nonexistent");
	basics();
	edges();
	eligibility();
	allocator_ranges();
	residency();
	sparse();
	forked();
	aging();
	tap_ok(mv_reg_check() == 0, "registry invariants hold at the end");
	return tap_done();
}
