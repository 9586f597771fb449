/* sample.c - population knowledge from /proc/self/maps and pagemap.
 *
 * A pass reads the VMA list, rewrites the model's mapping and boundary bits
 * for every 1 GiB that saw no event meanwhile, then reads pagemap VMA by VMA
 * and sets each 2 MiB region's populated count (present or swapped entries).
 * A region with entries has a table; one with none keeps whatever the events
 * said (stranded or absent: pagemap cannot tell). A pass may be spread over
 * several worker runs to stay within its CPU budget; it resumes at a region
 * boundary. Runs on the worker (or a test's thread), never on an application
 * call; one sampler at a time. Huge PROT_NONE reservations are not read. */
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include "ptmodel/model.h"
#include "sys/ownmem.h"
#include "ptmodel/hook.h"
#include "sys/ownsys.h"
#include "core/trace.h"

#define MAX_VMAS 65536
#define CHUNK_REGIONS 32
#define NONE_SCAN_MAX (64ul << 20) /* PROT_NONE VMAs read up to this size */
#define SCAN_MAX (256ul << 30)     /* any VMA: larger ones (pieces of a sanitizer's shadow,
				      say) are tracked at their edges only, as in
				      events.c; reading every entry of such a VMA
				      would cost seconds per pass */
#define USER_TOP (1ul << 47)

struct vma {
	uint64_t lo, hi;
	unsigned none : 1;     /* PROT_NONE */
	unsigned anon : 1;     /* private anonymous (heap included, stack not) */
	unsigned copy : 1;     /* private writable: fork copies its page tables */
};

static struct vma *vmas;
static size_t nvmas;
static int sampler_busy;
static uint64_t passes, cpu_ns;
static uint64_t cursor;      /* resume address of a pass in progress; 0: new pass */
static uint64_t entries[CHUNK_REGIONS * 512];
static uint64_t last_run_ns;
static int64_t credit_ns;    /* CPU time the sampler may still spend (negative: owed) */
static int fork_pending;     /* first pass in a fork child */

#define LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define STORE(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)

uint64_t mv_ptm_samples(void)
{
	return LOAD(&passes);
}

uint64_t mv_ptm_sample_cpu_ns(void)
{
	return LOAD(&cpu_ns);
}

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	if (mv_own2(SYS_clock_gettime, CLOCK_THREAD_CPUTIME_ID, &ts))
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static const char *hex(const char *s, const char *e, uint64_t *v)
{
	uint64_t x = 0;
	for (; s < e; s++) {
		int d = *s >= '0' && *s <= '9' ? *s - '0' : *s >= 'a' && *s <= 'f' ? *s - 'a' + 10 : -1;
		if (d < 0)
			break;
		x = x * 16 + (uint64_t)d;
	}
	*v = x;
	return s;
}

static void parse_line(const char *s, const char *e)
{
	uint64_t lo, hi, off, inode = 0;
	s = hex(s, e, &lo);
	if (s >= e || *s != '-')
		return;
	s = hex(s + 1, e, &hi);
	if (e - s < 6 || hi <= lo || lo >= USER_TOP || nvmas >= MAX_VMAS)
		return;
	const char *perm = s + 1;
	s = hex(perm + 5, e, &off);
	(void)off;
	while (s < e && *s == ' ') s++;
	while (s < e && *s != ' ') s++; /* dev */
	while (s < e && *s == ' ') s++;
	for (; s < e && *s >= '0' && *s <= '9'; s++)
		inode = inode * 10 + (uint64_t)(*s - '0');
	while (s < e && *s == ' ') s++;
	size_t plen = (size_t)(e - s);
	int anon_name = plen == 0 || (plen == 6 && !memcmp(s, "[heap]", 6)) ||
			(plen > 6 && !memcmp(s, "[anon:", 6));
	struct vma *v = &vmas[nvmas++];
	v->lo = lo;
	v->hi = hi < USER_TOP ? hi : USER_TOP;
	v->none = perm[0] == '-' && perm[1] == '-' && perm[2] == '-';
	v->anon = perm[3] == 'p' && inode == 0 && anon_name;
	v->copy = perm[1] == 'w' && perm[3] == 'p';
}

static int read_maps(void)
{
	static char buf[65536];
	long fd = mv_own4(SYS_openat, AT_FDCWD, "/proc/self/maps", O_RDONLY | O_CLOEXEC, 0);
	if (mv_raw_failed(fd))
		return -1;
	size_t have = 0;
	nvmas = 0;
	for (;;) {
		long n = mv_own3(SYS_read, fd, buf + have, sizeof(buf) - have);
		if (mv_raw_failed(n) || n == 0)
			break;
		have += (size_t)n;
		char *s = buf, *end = buf + have, *nl;
		while ((nl = memchr(s, '\n', (size_t)(end - s)))) {
			parse_line(s, nl);
			s = nl + 1;
		}
		have = (size_t)(end - s);
		memmove(buf, s, have);
		if (have == sizeof(buf))
			have = 0; /* a line longer than the buffer: drop it */
	}
	mv_own1(SYS_close, fd);
	return 0;
}

/* Set bits [a, b) a word at a time (a fully mapped region: 8 stores). */
static void bits_or(uint64_t *m, unsigned a, unsigned b)
{
	while (a < b) {
		unsigned lo = a % 64, n = b - a < 64 - lo ? b - a : 64 - lo;
		m[a / 64] |= (n == 64 ? ~0ull : (1ull << n) - 1) << lo;
		a += n;
	}
}

/* One PMD node as the VMA list has it, a bit per region: FULL, in part
 * (bits in part[slot[i]]), or neither (EMPTY). Whole runs of regions are
 * marked a word at a time, so a node costs by VMAs, not by regions. */
static uint64_t fullm[MV_PTM_GROUPS], partm[MV_PTM_GROUPS];
static uint16_t slot[512];
static struct {
	uint64_t map[8], bnd[8];
} part[512];
static unsigned nparts;

static uint64_t *part_bits(unsigned idx, int bnd)
{
	uint64_t bit = 1ull << (idx % 64);
	if (!(partm[idx / 64] & bit)) {
		unsigned k = nparts++;
		memset(&part[k], 0, sizeof(part[k]));
		if (fullm[idx / 64] & bit)
			memset(part[k].map, 0xff, sizeof(part[k].map));
		slot[idx] = (uint16_t)k;
		partm[idx / 64] |= bit;
		fullm[idx / 64] &= ~bit;
	}
	return bnd ? part[slot[idx]].bnd : part[slot[idx]].map;
}

/* Bits [a, b) of a 512-bit set of regions. */
static void mark(uint64_t *m, unsigned a, unsigned b)
{
	while (a < b) {
		unsigned o = a % 64, n = b - a < 64 - o ? b - a : 64 - o;
		m[a / 64] |= (n == 64 ? ~0ull : (1ull << n) - 1) << o;
		a += n;
	}
}

/* Rewrite one PMD node's mapping knowledge from the VMA list. */
static void rewrite_node(struct mv_ptm_pmd *p)
{
	uint64_t copied[8] = { 0 };
	memset(fullm, 0, sizeof(fullm));
	memset(partm, 0, sizeof(partm));
	nparts = 0;
	uint64_t lo = p->base, hi = lo + MV_PTM_PMD_SPAN;
	/* First VMA ending above lo (binary search). */
	size_t a = 0, b = nvmas;
	while (a < b) {
		size_t m = (a + b) / 2;
		if (vmas[m].hi <= lo)
			a = m + 1;
		else
			b = m;
	}
	for (size_t i = a; i < nvmas && vmas[i].lo < hi; i++) {
		uint64_t s = vmas[i].lo > lo ? vmas[i].lo : lo, e = vmas[i].hi < hi ? vmas[i].hi : hi;
		unsigned rs = (unsigned)((s - lo) >> 21), re = (unsigned)((e - lo - 1) >> 21) + 1;
		unsigned fa = (unsigned)((s - lo + MV_PTM_PTE_SPAN - 1) >> 21), fb = (unsigned)((e - lo) >> 21);
		if (vmas[i].copy)
			mark(copied, rs, re);
		if (fa < fb)
			mark(fullm, fa, fb);
		/* The regions it covers in part: at most its two ends. */
		for (unsigned r = rs; r < re; r = r + 1 < fb && r + 1 >= fa ? fb : r + 1) {
			if (r >= fa && r < fb)
				continue;
			uint64_t r0 = lo + ((uint64_t)r << 21), a0 = s > r0 ? s : r0, e0 = e < r0 + MV_PTM_PTE_SPAN ? e : r0 + MV_PTM_PTE_SPAN;
			bits_or(part_bits(r, 0), (unsigned)((a0 - r0) >> 12), (unsigned)((e0 - r0) >> 12));
		}
		if (vmas[i].lo >= lo && (vmas[i].lo & (MV_PTM_PTE_SPAN - 1))) {
			/* A VMA starting inside a region (at its first page, it
			 * changes nothing the model asks). */
			unsigned pg = (unsigned)((vmas[i].lo - lo) >> 12);
			part_bits(pg / 512, 1)[(pg % 512) / 64] |= 1ull << (pg % 64);
		}
	}
	/* In a fork child, tables exist only where fork copied them (writable
	 * private VMAs) or where the child has faulted since (the scan). */
	for (unsigned i = 0; fork_pending && i < 512; i++) {
		struct mv_ptm_node *n = mv_ptm_node_peek(p, p->base + ((uintptr_t)i << 21));
		if (n && !(copied[i / 64] >> (i % 64) & 1) && (LOAD(&n->w) & MV_PTM_TAB))
			mv_ptm_free_table(p, n);
	}
	if (LOAD(&p->seq) != p->pass_seq)
		return; /* an event came: the events' knowledge wins until the next pass */
	int any = 0;
	for (unsigned g = 0; g < MV_PTM_GROUPS; g++) {
		any |= (fullm[g] | partm[g]) != 0;
		if (!partm[g] && mv_ptm_group_write(p, g, fullm[g]))
			continue; /* no node: one word */
		for (unsigned i = g * MV_PTM_GROUP; i < (g + 1) * MV_PTM_GROUP; i++) {
			uint64_t bit = 1ull << (i % 64);
			int in_part = (partm[g] & bit) != 0, full = (fullm[g] & bit) != 0;
			mv_ptm_region_write(p, i, in_part ? 2 : full ? MV_PTM_FULL : MV_PTM_EMPTY,
					    in_part ? part[slot[i]].map : NULL, in_part ? part[slot[i]].bnd : NULL);
			/* No VMA here: whatever unmapped it (a call the library
			 * does not see, such as libc's own munmap) freed the table. */
			struct mv_ptm_node *n = in_part || full ? NULL : mv_ptm_node_peek(p, p->base + ((uintptr_t)i << 21));
			if (n && (LOAD(&n->w) & (MV_PTM_TAB | MV_PTM_POP_MASK)))
				mv_ptm_free_table(p, n);
		}
	}
	if (!any)
		STORE(&p->tab, 0);
}

static int edges_only(const struct vma *v)
{
	return v->hi - v->lo > (v->none ? NONE_SCAN_MAX : SCAN_MAX);
}

static void start_pass(void)
{
	for (struct mv_ptm_pmd *p = mv_ptm_first(); p; p = p->next)
		p->pass_seq = LOAD(&p->seq), p->pass_old = 1;
	if (read_maps() != 0)
		return;
	/* Nodes for new VMAs (PROT_NONE reservations: their edges only). */
	for (size_t i = 0; i < nvmas; i++) {
		struct vma *v = &vmas[i];
		if (edges_only(v)) {
			mv_ptm_pmd_of(v->lo, 1);
			mv_ptm_pmd_of(v->hi - 1, 1);
			continue;
		}
		for (uint64_t a = v->lo & ~(MV_PTM_PMD_SPAN - 1); a < v->hi; a += MV_PTM_PMD_SPAN)
			mv_ptm_pmd_of(a, 1);
	}
	for (struct mv_ptm_pmd *p = mv_ptm_first(); p; p = p->next) {
		if (!p->pass_old)
			p->pass_seq = LOAD(&p->seq); /* created just now */
		rewrite_node(p);
		p->pass_old = 0;
	}
	fork_pending = 0;
}

void mv_ptm_sample_after_fork(void)
{
	fork_pending = 1;
	cursor = 0;
	sampler_busy = 0; /* a pass the parent's worker had in progress is gone */
}

/* The region being counted: it may span several VMAs. */
struct acc {
	uint64_t region;       /* base address, or ~0 */
	uint64_t seen;         /* node word before its first pagemap read */
	uint32_t seq;          /* no word then: the PMD node's event count */
	int noword;
	unsigned pop;
	int anon1;
};

static void flush(struct acc *c)
{
	if (c->region == ~0ull)
		return;
	struct mv_ptm_pmd *p = mv_ptm_pmd_of(c->region, 1);
	/* A region without a word has no table the model knows of: a sample
	 * finding no entry there has nothing to say, and one finding some
	 * stands unless an event came meanwhile (it would have no word to
	 * bump either). */
	struct mv_ptm_node *n = !p || (c->noword && (!c->pop || LOAD(&p->seq) != c->seq)) ? NULL
				: mv_ptm_node_of(p, c->region);
	if (n && mv_ptm_commit(p, n, c->seen, c->pop, c->anon1) && (c->seen & MV_PTM_POP_MASK) != c->pop)
		mv_trace_region(c->region, c->pop);
	c->region = ~0ull;
}

/* Count [lo, hi) of VMA v into the regions. Returns 0, or 1 when the budget
 * ran out at a region boundary (cursor set). */
static int scan_vma(const struct vma *v, uint64_t lo, struct acc *c, uint64_t cpu0, uint64_t budget)
{
	while (lo < v->hi) {
		uint64_t r0 = lo & ~(MV_PTM_PTE_SPAN - 1);
		uint64_t hi = r0 + CHUNK_REGIONS * MV_PTM_PTE_SPAN;
		if (hi > v->hi)
			hi = v->hi;
		/* Snapshot the words of regions starting in this chunk. */
		uint64_t seen[CHUNK_REGIONS + 1];
		uint32_t seq[CHUNK_REGIONS + 1];
		uint8_t noword[CHUNK_REGIONS + 1];
		for (uint64_t r = r0, k = 0; r < hi; r += MV_PTM_PTE_SPAN, k++) {
			struct mv_ptm_pmd *p = mv_ptm_pmd_of(r, 1);
			struct mv_ptm_node *n = p ? mv_ptm_node_peek(p, r) : NULL;
			seq[k] = p ? LOAD(&p->seq) : 0;
			noword[k] = !n;
			seen[k] = n ? LOAD(&n->w) : 0;
		}
		long got = mv_ptm_pagemap(lo, (hi - lo) >> 12, entries);
		if (got < 0)
			return 0;
		for (uint64_t a = lo; a < hi;) {
			uint64_t r = a & ~(MV_PTM_PTE_SPAN - 1), e = r + MV_PTM_PTE_SPAN < hi ? r + MV_PTM_PTE_SPAN : hi;
			if (c->region != r) {
				flush(c);
				c->region = r;
				c->seen = seen[(r - r0) >> 21];
				c->seq = seq[(r - r0) >> 21];
				c->noword = noword[(r - r0) >> 21];
				c->pop = 0;
				c->anon1 = v->anon && v->lo <= r && v->hi >= r + MV_PTM_PTE_SPAN;
			}
			for (uint64_t i = (a - lo) >> 12; i < (e - lo) >> 12 && (long)i < got; i++)
				c->pop += (unsigned)mv_ptm_entry_used(entries[i]);
			a = e;
		}
		lo = hi;
		if (budget && !(lo & (MV_PTM_PTE_SPAN - 1)) && thread_cpu_ns() - cpu0 > budget) {
			flush(c);
			cursor = lo;
			return 1;
		}
	}
	return 0;
}

/* Continue (or start) a pass; budget 0 = finish it. Returns 1 when done. */
static int run_pass(uint64_t budget)
{
	uint64_t cpu0 = thread_cpu_ns();
	if (!cursor)
		start_pass();
	else if (read_maps() != 0)
		return 0;
	struct acc c = { .region = ~0ull };
	int done = 1;
	for (size_t i = 0; i < nvmas; i++) {
		const struct vma *v = &vmas[i];
		if (v->hi <= cursor || edges_only(v))
			continue;
		if (scan_vma(v, v->lo > cursor ? v->lo : cursor, &c, cpu0, budget)) {
			done = 0;
			break;
		}
	}
	if (done) {
		flush(&c);
		cursor = 0;
		__atomic_fetch_add(&passes, 1, __ATOMIC_RELEASE);
		mv_trace_pass();
	}
	__atomic_fetch_add(&cpu_ns, thread_cpu_ns() - cpu0, __ATOMIC_RELAXED);
	return done;
}

static int lock(int wait)
{
	while (__atomic_exchange_n(&sampler_busy, 1, __ATOMIC_ACQUIRE)) {
		if (!wait)
			return 0;
		mv_raw0(SYS_sched_yield);
	}
	if (!vmas) {
		vmas = mv_ownmem_alloc(MAX_VMAS * sizeof(struct vma));
		if (!vmas) {
			__atomic_store_n(&sampler_busy, 0, __ATOMIC_RELEASE);
			return 0;
		}
	}
	return 1;
}

static void unlock(void)
{
	__atomic_store_n(&sampler_busy, 0, __ATOMIC_RELEASE);
}

void mv_ptm_sample_all(void)
{
	if (!mv_ptm_ready() || !lock(1))
		return;
	cursor = 0;
	run_pass(0);
	unlock();
}

void mv_ptm_sample_task(void *arg, uint64_t now_ns)
{
	uint32_t pct = *(const uint32_t *)arg;
	uint64_t since = last_run_ns ? now_ns - last_run_ns : 200000000u;
	last_run_ns = now_ns;
	if (since > 2000000000u)
		since = 2000000000u;
	uint64_t budget = since / 100 * pct;
	if (budget < 200000)
		budget = 200000; /* always make some progress */
	/* A run can overspend (a pass starts by rewriting every node): later
	 * runs wait until the average is back within the budget. */
	credit_ns += (int64_t)budget;
	if (credit_ns > (int64_t)budget)
		credit_ns = (int64_t)budget;
	if (credit_ns <= 0 || !lock(0))
		return;
	uint64_t cpu0 = thread_cpu_ns();
	run_pass((uint64_t)credit_ns);
	credit_ns -= (int64_t)(thread_cpu_ns() - cpu0);
	unlock();
}
