/* munmap.c - munmap strategies (munmap.h): the per-call logic. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include <unistd.h>
#include "munmap/munmap.h"
#include "core/runtime.h"
#include "munmap/registry.h"
#include "munmap/mapcache.h"
#include "munmap/zero.h"
#include "munmap/whatif.h"
#include "core/kernel.h"
#include "core/advice.h"
#include "core/hot.h"
#include "sys/worker.h"
#include "sys/probe.h"
#include "sys/pressure.h"
#include "sys/outbuf.h"
#include "sys/emit.h"
#include "sys/ownsys.h"
#include "sys/linux.h"

#define PAGE 4096UL
#define RW (PROT_READ | PROT_WRITE)
#define PSI_EVERY_NS 250000000ULL


static struct {
	int mode;
	int zap_first;
	uint64_t cache_bytes, max_range, zero_max;
	uint64_t max_age_ns;
	uint32_t psi;              /* memory "some" avg10 in hundredths of a percent; 0 = off */
	int callers;               /* enum mv_callers */
	int recycle_resident;      /* hand out resident pages cleared, not dropped */
	int locked_all;            /* mlockall in force: nothing is held */
	uint64_t next_psi_ns;
	char psi_path[MV_PATH_MAX];
} cfg;

static __thread int busy __attribute__((tls_model("initial-exec")));
struct mv_task mv_munmap_worker_task;
static mv_lock_t tick_lock; /* one tick at a time (the worker's, a test's) */

static const char *const mode_names[] = { "passthrough", "recycle", "defer" };

const char *mv_munmap_mode_name(int mode)
{
	return mode >= 0 && mode <= MV_MUNMAP_DEFER ? mode_names[mode] : "?";
}

/* ---- helpers ------------------------------------------------------------- */

/* The call as it would go without a munmap strategy: the advice transforms
 * for an allocator's purge, the kernel for everything else. */
static long plain(const struct mv_request *q)
{
	if (mv_advice_applies(&mv_hot.advice, q))
		return mv_advice_madvise(&mv_hot.advice, q);
	return mv_kernel_call(q);
}

static inline size_t page_up(size_t len)
{
	size_t n = (len + PAGE - 1) & ~(PAGE - 1);
	return n < len ? 0 : n;
}

/* A page-aligned, non-empty range that does not wrap. */
static inline int range_ok(uintptr_t a, size_t n)
{
	return !(a & (PAGE - 1)) && n && a + n > a;
}

/* Counters that are only ever added to this way, without the arena's lock. */
static void count_atomic(unsigned k, int c)
{
	__atomic_fetch_add(&mv_mc_arena(k)->count[c], 1, __ATOMIC_RELAXED);
}

/* Advice that leaves a mark on the VMA (set), and advice that takes one off
 * (clear, applied only when the call succeeded). */
static unsigned advice_bits(int advice, unsigned *clear)
{
	*clear = 0;
	switch (advice) {
	case MADV_NORMAL: *clear = MV_ADV_RANDOM | MV_ADV_SEQUENTIAL; return 0;
	case MADV_RANDOM: return MV_ADV_RANDOM;
	case MADV_SEQUENTIAL: return MV_ADV_SEQUENTIAL;
	case MADV_WILLNEED: case MADV_DONTNEED: case MADV_FREE: case MADV_REMOVE:
	case MADV_COLD: case MADV_PAGEOUT: case MADV_POPULATE_READ: case MADV_POPULATE_WRITE:
	case 24 /* DONTNEED_LOCKED */: case 25 /* COLLAPSE */: case 101 /* SOFT_OFFLINE */:
		return 0;
	case MADV_DONTFORK: return MV_ADV_DONTFORK;
	case MADV_DOFORK: *clear = MV_ADV_DONTFORK; return 0;
	case MADV_MERGEABLE: return MV_ADV_MERGEABLE;
	case MADV_UNMERGEABLE: *clear = MV_ADV_MERGEABLE; return 0;
	case MADV_HUGEPAGE: return MV_ADV_HUGEPAGE;
	case MADV_NOHUGEPAGE: return MV_ADV_NOHUGEPAGE;
	case MADV_DONTDUMP: return MV_ADV_DONTDUMP;
	case MADV_DODUMP: *clear = MV_ADV_DONTDUMP; return 0;
	case MADV_WIPEONFORK: return MV_ADV_WIPEONFORK;
	case MADV_KEEPONFORK: *clear = MV_ADV_WIPEONFORK; return 0;
	case MADV_GUARD_INSTALL: return MV_ADV_GUARD;
	case MADV_GUARD_REMOVE: *clear = MV_ADV_GUARD; return 0;
	default: return MV_ADV_OTHER;
	}
}

/* Whether the strategy takes this call: `munmap.callers` picks the
 * allocator's calls or the program's own, and after mlockall nothing is held
 * (a fresh mapping would be locked, a recycled one would not). */
static inline int taken(const struct mv_request *q)
{
	if (__atomic_load_n(&cfg.locked_all, __ATOMIC_RELAXED))
		return 0;
	if (cfg.callers == MV_CALLERS_ANY)
		return 1;
	const struct mv_allocator_info *al = &mv_rt.allocator;
	int mine = !al->in_executable && mv_allocator_owns(al, q->caller);
	return cfg.callers == MV_CALLERS_ALLOCATOR ? mine : !mine;
}

/* ---- recycling ------------------------------------------------------------- */

/* Whether a request may be served from the cache: no address, private
 * anonymous read-write, plain or MAP_NORESERVE flags (served only with ranges
 * mapped with the same flags, so the commit charge is what it would be). */
static int servable(const struct mv_request *q, size_t n)
{
	return cfg.mode == MV_MUNMAP_RECYCLE && !q->addr &&
	       (q->flags & ~MAP_NORESERVE) == (MAP_PRIVATE | MAP_ANONYMOUS) && q->fd == -1 && q->off == 0 &&
	       q->prot == RW && n && n <= cfg.max_range && taken(q);
}

/* A cached range for n bytes mapped with these flags (MAP_NORESERVE or 0),
 * reading zero, or 0. By default its pages are dropped (MADV_DONTNEED): it
 * holds nothing resident until touched, as a fresh mapping;
 * munmap.recycle_resident:true clears them instead (mv_zero_fresh: mostly
 * memset, faster, but they stay resident). */
static long serve(size_t n, uint32_t flags)
{
	unsigned k = mv_mc_mine();
	struct mv_arena *a = mv_mc_arena(k);
	uintptr_t s = 0;
	mv_lock(&a->lock);
	for (int tries = 0; tries < 4; tries++) {
		int i = mv_mc_best_fit(k, n, flags);
		if (i < 0)
			break;
		uintptr_t c = a->e[i].start;
		if (mv_reg_claim(c, c + n, k, MV_REG_RECYCLABLE) == 0) {
			mv_mc_take_front(k, i, n);
			s = c;
			break;
		}
		/* Changed while cached (mprotect or advice raced the munmap): give it back. */
		mv_mc_release_entry(k, i);
	}
	if (s) {
		MV_MC_BUMP(a, MV_MC_RECYCLED, 1);
		MV_MC_BUMP(a, MV_MC_RECYCLED_BYTES, n);
	} else {
		MV_MC_BUMP(a, MV_MC_MISSES, 1);
	}
	mv_unlock(&a->lock);
	struct mv_request drop = { .kind = MV_MADVISE, .addr = (void *)s, .len = n, .advice = MADV_DONTNEED };
	if (s && !cfg.recycle_resident && !mv_raw_failed(mv_held_call(&drop))) {
		count_atomic(k, MV_MC_ZERO_DONTNEED);
	} else if (s && mv_whatif_on) {
		/* On paper: no pages to look at; cleared as a dense range would be. */
		int small = n <= cfg.zero_max;
		if (!small)
			mv_held_call(&drop);
		count_atomic(k, small ? MV_MC_ZERO_MEMSET : MV_MC_ZERO_DONTNEED);
	} else if (s) {
		enum mv_zero_how how = mv_zero_fresh((void *)s, n, cfg.zero_max);
		count_atomic(k, how == MV_ZERO_MEMSET ? MV_MC_ZERO_MEMSET
				: how == MV_ZERO_PAGEMAP ? MV_MC_ZERO_PAGEMAP : MV_MC_ZERO_DONTNEED);
	}
	return (long)s;
}

static uint64_t cutoff(uint64_t now)
{
	return now > cfg.max_age_ns ? now - cfg.max_age_ns : 0;
}

/* Keep [s, s + n) for recycling. 0, or -1: unmap it for real. */
static int cache_put(uintptr_t s, size_t n)
{
	if (n > cfg.cache_bytes)
		return -1;
	unsigned k = mv_mc_mine();
	struct mv_arena *a = mv_mc_arena(k);
	uint64_t now = mv_mc_now();
	uint32_t origin;
	struct mv_reg_entry was;
	uint32_t flags = mv_reg_lookup(s, &was) == 0 ? was.flags & MAP_NORESERVE : 0;
	mv_lock(&a->lock);
	if (mv_reg_hold(s, s + n, k, MV_REG_RECYCLABLE, &origin) < 0) {
		mv_unlock(&a->lock);
		return -1;
	}
	while (a->n && (a->n >= mv_mc_cap() || mv_mc_bytes() + n > cfg.cache_bytes))
		mv_mc_release_oldest(k);
	if (mv_mc_bytes() + n > cfg.cache_bytes) {
		/* Other threads' arenas hold the budget. */
		mv_reg_claim(s, s + n, k, MV_REG_ANYCLASS);
		mv_unlock(&a->lock);
		return -1;
	}
	mv_mc_insert(k, s, s + n, now, 0, origin, flags);
	MV_MC_BUMP(a, MV_MC_CACHED, 1);
	/* Age this arena now and then even without the worker (fork child). */
	if (++a->ops >= 64) {
		a->ops = 0;
		if (now - a->last_age_ns >= cfg.max_age_ns / 4) {
			a->last_age_ns = now;
			mv_mc_release_older(k, cutoff(now));
		}
	}
	mv_unlock(&a->lock);
	return 0;
}

/* ---- deferral ---------------------------------------------------------------- */

/* Queue [s, s + n) for a later, coalesced munmap. 0, or -1: unmap it now. */
static int defer_put(uintptr_t s, size_t n)
{
	if (n > cfg.cache_bytes)
		return -1;
	unsigned k = mv_mc_mine();
	struct mv_arena *a = mv_mc_arena(k);
	uint64_t now = mv_mc_now();
	mv_lock(&a->lock);
	if (mv_reg_hold(s, s + n, k, MV_REG_DEFERRABLE, NULL) < 0) {
		mv_unlock(&a->lock);
		return -1;
	}
	if (cfg.zap_first) {
		/* The pages go now (read-locked); only the unmap waits. */
		MV_MC_BUMP(a, MV_MC_ZAP_CALLS, 1);
		struct mv_request zap = { .kind = MV_MADVISE, .addr = (void *)s, .len = n, .advice = MADV_DONTNEED };
		if (mv_raw_failed(mv_held_call(&zap))) {
			mv_reg_claim(s, s + n, k, MV_REG_ANYCLASS); /* mlocked, say: unmap it now */
			mv_unlock(&a->lock);
			return -1;
		}
	}
	if (a->n >= mv_mc_cap())
		mv_mc_release_oldest(k); /* another thread of this arena is about to drain */
	mv_mc_insert(k, s, s + n, now, cfg.zap_first, 0, 0); /* queued ranges all merge */
	MV_MC_BUMP(a, MV_MC_DEFERRED, 1);
	MV_MC_BUMP(a, MV_MC_DEFERRED_BYTES, n);
	int drain = a->n >= mv_mc_cap() || mv_mc_bytes() > cfg.cache_bytes;
	if (++a->ops >= 64) {
		a->ops = 0;
		for (uint32_t i = 0; i < a->n; i++)
			drain |= a->e[i].t_ns < cutoff(now);
	}
	mv_unlock(&a->lock);
	if (drain)
		mv_mc_drain();
	return 0;
}

/* ---- one call per kind ---------------------------------------------------- */

static long retry_after_drain(const struct mv_request *q, long r)
{
	if (r == -ENOMEM && mv_mc_bytes()) {
		mv_mc_drain();
		r = plain(q);
	}
	return r;
}

/* Deferral: new private anonymous mappings are placed side by side, each
 * right below the previous one (a hint: the kernel picks elsewhere when that
 * space is taken), so the ranges later given up adjoin and go in one munmap.
 * Left to itself the kernel scatters them over the holes earlier unmaps left.
 * Threads reserve their places with one atomic subtraction. */
static uintptr_t frontier;

static long placed(const struct mv_request *q, size_t n)
{
	const int plain_flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_POPULATE | MAP_STACK;
	if (cfg.mode != MV_MUNMAP_DEFER || q->addr || (q->flags & ~plain_flags) != 0 ||
	    (q->flags & (MAP_TYPE | MAP_ANONYMOUS)) != (MAP_PRIVATE | MAP_ANONYMOUS) || !n || n > cfg.max_range ||
	    !taken(q))
		return plain(q);
	struct mv_request h = *q;
	uintptr_t f = __atomic_fetch_sub(&frontier, n, __ATOMIC_RELAXED);
	if (f > n + (1UL << 30))
		h.addr = (void *)(f - n);
	long r = plain(&h);
	/* Taken or never set: start again from where the kernel put this one. */
	if (!mv_raw_failed(r) && (uintptr_t)r != f - n)
		__atomic_store_n(&frontier, (uintptr_t)r, __ATOMIC_RELAXED);
	return r;
}

static long on_mmap(const struct mv_request *q)
{
	uintptr_t a = (uintptr_t)q->addr;
	size_t n = page_up(q->len);
	if (servable(q, n)) {
		long s = serve(n, (uint32_t)q->flags & MAP_NORESERVE);
		if (s)
			return s;
	}
	/* A fixed address or a hint: the held ranges there are gone for the program. */
	if (a && range_ok(a, n))
		mv_mc_resolve(a, a + n);
	long r = retry_after_drain(q, placed(q, n));
	if (!mv_raw_failed(r) && n)
		mv_reg_map((uintptr_t)r, (uintptr_t)r + n, q->prot, q->flags);
	else if ((q->flags & MAP_FIXED) && range_ok(a, n))
		mv_reg_forget(a, a + n); /* a failed MAP_FIXED may have unmapped the old range */
	return r;
}

/* A munmap over several mappings (jemalloc gives merged extents back in one
 * call) is kept as one range per mapping, each lying in one kernel VMA, so
 * each can be handed out again alone. Every piece must be known and LIVE,
 * else nothing is kept. When a piece cannot be kept (it changed, or the
 * budget is spent) it and everything after it are unmapped in one call:
 * the kernel cuts at most where the program's own munmap would, plus the
 * boundary at that piece, which only shortens the VMA the pieces before it
 * lie in; when the kernel refuses that call, the pieces before it are
 * unmapped too and the call made again, so that nothing the program still
 * believes mapped stays held for someone else. Returns 1 with the result in
 * *r when taken, else 0. */
#define MAX_PIECES 16
/* A LIVE piece the registry would let be held for recycling (a sealed or
 * locked one is left to the kernel's whole-call answer). */
static int keepable(const struct mv_reg_entry *e)
{
	return e->state == MV_REG_LIVE && e->advice == 0 && e->prot == RW &&
	       (e->flags & (MAP_TYPE | MAP_ANONYMOUS)) == (MAP_PRIVATE | MAP_ANONYMOUS);
}

static int cache_put_pieces(uintptr_t a, size_t n, long *r)
{
	uintptr_t lo[MAX_PIECES], hi[MAX_PIECES];
	size_t np = 0;
	struct mv_reg_entry e;
	for (uintptr_t at = a; at < a + n; np++) {
		if (np == MAX_PIECES || mv_reg_lookup(at, &e) < 0 || e.start > at || !keepable(&e))
			return 0;
		uint32_t origin = e.origin;
		uintptr_t end = e.end;
		while (end < a + n && mv_reg_lookup(end, &e) == 0 && e.start == end && e.origin == origin &&
		       keepable(&e))
			end = e.end;
		lo[np] = at;
		hi[np] = end < a + n ? end : a + n;
		at = hi[np];
	}
	if (np < 2 || cache_put(lo[0], hi[0] - lo[0]) < 0)
		return 0;
	*r = 0;
	for (size_t i = 1; i < np; i++) {
		if (cache_put(lo[i], hi[i] - lo[i]) == 0)
			continue;
		struct mv_request rest = { .kind = MV_MUNMAP, .addr = (void *)lo[i], .len = a + n - lo[i] };
		count_atomic(mv_mc_mine(), MV_MC_PASSED);
		mv_mc_resolve(lo[i], a + n);
		mv_reg_forget(lo[i], a + n);
		*r = plain(&rest);
		if (mv_raw_failed(*r)) {
			/* Refused (ENOMEM at the map count limit): the program takes
			 * its munmap as failed and the whole range as mapped, so the
			 * pieces held above must not be handed to anyone else. Unmap
			 * them as the call asked and ask again: the cut at lo[i] is a
			 * boundary now, so the rest needs no more than the program's
			 * own call would have. */
			mv_mc_resolve(a, lo[i]);
			*r = plain(&rest);
		}
		break;
	}
	return 1;
}

static long on_munmap(const struct mv_request *q)
{
	uintptr_t a = (uintptr_t)q->addr;
	size_t n = page_up(q->len);
	if (!range_ok(a, n))
		return plain(q); /* the kernel's EINVAL */
	if (n <= cfg.max_range && taken(q) && !mv_mc_unmap_failed() &&
	    (cfg.mode == MV_MUNMAP_RECYCLE ? cache_put(a, n) : defer_put(a, n)) == 0)
		return 0;
	if (n <= cfg.max_range && cfg.mode == MV_MUNMAP_RECYCLE && taken(q) && !mv_mc_unmap_failed()) {
		long r;
		if (cache_put_pieces(a, n, &r))
			return r;
	}
	count_atomic(mv_mc_mine(), MV_MC_PASSED);
	mv_mc_resolve(a, a + n);
	mv_reg_forget(a, a + n);
	return plain(q);
}

static long on_mremap(const struct mv_request *q)
{
	uintptr_t a = (uintptr_t)q->addr, to = (uintptr_t)q->new_addr;
	size_t old = page_up(q->len), nw = page_up(q->new_len);
	size_t span = old > nw ? old : nw;
	/* Growing in place takes the space after the range: held there = free. */
	if (range_ok(a, span))
		mv_mc_resolve(a, a + span);
	if ((q->flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) && range_ok(to, nw))
		mv_mc_resolve(to, to + nw);
	/* The old range moves or changes size: what it was goes with it, when it
	 * was one known mapping (one VMA); otherwise it is unknown from now on. */
	struct mv_reg_entry e;
	int known = range_ok(a, old) && mv_reg_attrs(a, a + old, &e) == 0;
	if (range_ok(a, old))
		mv_reg_forget(a, a + old);
	long r = retry_after_drain(q, plain(q));
	if (!mv_raw_failed(r) && nw) {
		mv_reg_forget((uintptr_t)r, (uintptr_t)r + nw);
		if (known && !(q->flags & MREMAP_DONTUNMAP)) {
			unsigned adv = e.advice | ((uintptr_t)r != a ? MV_ADV_MOVED : 0);
			mv_reg_map((uintptr_t)r, (uintptr_t)r + nw, e.prot, (int)e.flags);
			if (adv)
				mv_reg_advise((uintptr_t)r, (uintptr_t)r + nw, adv, 0);
		}
	}
	return r;
}

/* Whether a failed mprotect or pkey_mprotect was refused before the kernel
 * changed anything: EINVAL comes from the checks of the start, the
 * protection and the key made before any VMA is touched, except for
 * architecture bits (PROT_MTE, PROT_BTI, PROT_SAO) checked VMA by VMA.
 * ENOSYS: no such call. Other errors (ENOMEM at a hole, EACCES) may come
 * after some VMAs were changed. */
static int protect_refused(long r, long prot)
{
	return r == -ENOSYS || (r == -EINVAL && !(prot & ~(long)(PROT_READ | PROT_WRITE | PROT_EXEC |
								     PROT_GROWSDOWN | PROT_GROWSUP)));
}

static long on_mprotect(const struct mv_request *q)
{
	uintptr_t a = (uintptr_t)q->addr;
	size_t n = page_up(q->len);
	int ok = range_ok(a, n);
	if (ok)
		mv_mc_resolve(a, a + n);
	long r = plain(q);
	if (ok) {
		if (!mv_raw_failed(r))
			mv_reg_protect(a, a + n, q->prot);
		else if (!protect_refused(r, q->prot))
			mv_reg_advise(a, a + n, MV_ADV_OTHER, 0); /* may be partly applied */
	}
	return r;
}

static long on_madvise(const struct mv_request *q)
{
	uintptr_t a = (uintptr_t)q->addr;
	size_t n = page_up(q->len);
	int ok = range_ok(a, n);
	if (ok)
		mv_mc_resolve(a, a + n);
	long r = plain(q);
	unsigned clear, set = advice_bits(q->advice, &clear);
	if (ok && set)
		mv_reg_advise(a, a + n, set, 0);
	if (ok && clear && r == 0)
		mv_reg_advise(a, a + n, 0, clear);
	return r;
}

/* The ranges are read from the program's iovec with process_vm_readv, so a
 * bad pointer gives the kernel's EFAULT from the call itself, not a crash. */
static long on_process_madvise(const struct mv_request *q)
{
	if (q->vlen && q->vlen <= 1024) {
		struct iovec v[32];
		long pid = mv_raw0(SYS_getpid);
		unsigned clear, set = advice_bits(q->advice, &clear);
		for (size_t off = 0; off < q->vlen;) {
			size_t cnt = q->vlen - off < 32 ? q->vlen - off : 32;
			struct iovec local = { v, cnt * sizeof(v[0]) };
			struct iovec remote = { (void *)(q->iov + off), cnt * sizeof(v[0]) };
			long got = mv_own6(SYS_process_vm_readv, pid, (long)&local, 1, (long)&remote, 1, 0);
			if (got != (long)(cnt * sizeof(v[0]))) {
				/* Unreadable (a bad pointer, or the call refused): the
				 * ranges are unknown, so nothing may stay held. */
				mv_mc_drain();
				break;
			}
			for (size_t i = 0; i < cnt; i++) {
				uintptr_t b = (uintptr_t)v[i].iov_base & ~(PAGE - 1);
				uintptr_t e = (uintptr_t)v[i].iov_base + v[i].iov_len;
				if (e < b || e > UINTPTR_MAX - PAGE)
					continue;
				e = (e + PAGE - 1) & ~(PAGE - 1);
				if (e > b) {
					mv_mc_resolve(b, e);
					if (set)
						mv_reg_advise(b, e, set, 0);
				}
			}
			off += cnt;
		}
	}
	return plain(q);
}

/* ---- range calls (mlock, msync, ...) ------------------------------------------ */

/* Whether a failed range call was refused before the kernel changed
 * anything, so that it leaves no mark: mlock, mlock2 and munlock check their
 * flags, the length and the permission (EINVAL, EPERM) before any VMA; mseal
 * checks its flags and the range (EINVAL, EPERM, and ENOMEM for a hole, in a
 * first pass) but may still fail part-way with ENOMEM; ENOSYS: no such call.
 * ENOMEM and EAGAIN from the mlock family can come part-way. */
static int refused_range_call(const struct mv_request *q, long r)
{
	switch (q->kind) {
	case MV_MLOCK:
	case MV_MLOCK2:
	case MV_MUNLOCK:
	case MV_MSEAL:
		return r == -EINVAL || r == -EPERM || r == -ENOSYS;
	case MV_PKEY_MPROTECT:
		return protect_refused(r, q->arg);
	default:
		return 0;
	}
}

/* The range the kernel acts on: mlock rounds the start down and the length
 * up; the others refuse an unaligned start, and resolving more than they
 * would look at only gives held ranges back early, which is always allowed. */
static int range_of(const struct mv_request *q, uintptr_t *lo, uintptr_t *hi)
{
	uintptr_t a = (uintptr_t)q->addr, b = a & ~(PAGE - 1);
	size_t n = q->len + (a - b) < q->len ? 0 : page_up(q->len + (a - b));
	if (!n || b + n < b)
		return 0;
	*lo = b;
	*hi = b + n;
	return 1;
}

static long on_range_call(const struct mv_request *q)
{
	uintptr_t lo = 0, hi = 0;
	int ok = range_of(q, &lo, &hi);
	long r;
	switch (q->kind) {
	case MV_MLOCKALL: {
		/* Hold nothing from now on, and give back what is held before it
		 * gets locked. Flags the kernel refuses change nothing. */
		const long known = MCL_CURRENT | MCL_FUTURE | MCL_ONFAULT;
		if (!(q->arg & (MCL_CURRENT | MCL_FUTURE)) || (q->arg & ~known))
			return mv_kernel_call(q);
		__atomic_store_n(&cfg.locked_all, 1, __ATOMIC_SEQ_CST);
		mv_mc_drain();
		r = mv_kernel_call(q);
		mv_mc_drain(); /* a range given up while the first drain ran */
		return r;
	}
	case MV_MUNLOCKALL:
		r = mv_kernel_call(q);
		if (r == 0)
			__atomic_store_n(&cfg.locked_all, 0, __ATOMIC_SEQ_CST);
		return r;
	default:
		break;
	}
	if (ok)
		mv_mc_resolve(lo, hi);
	r = mv_kernel_call(q);
	if (!ok || (r < 0 && refused_range_call(q, r)))
		return r;
	switch (q->kind) {
	case MV_MLOCK:
	case MV_MLOCK2:
		mv_reg_advise(lo, hi, MV_ADV_LOCKED, 0); /* also on ENOMEM, EAGAIN: it may be partly locked */
		break;
	case MV_MUNLOCK:
		if (r == 0)
			mv_reg_advise(lo, hi, 0, MV_ADV_LOCKED);
		break;
	case MV_MSEAL:
		mv_reg_advise(lo, hi, MV_ADV_SEALED, 0);
		break;
	case MV_PKEY_MPROTECT:
		if (r == 0)
			mv_reg_protect(lo, hi, (int)q->arg);
		if (r != 0 || q->pkey != 0)
			mv_reg_advise(lo, hi, MV_ADV_OTHER, 0);
		break;
	default:
		break;
	}
	return r;
}

long mv_munmap_dispatch(const struct mv_request *q)
{
	/* A signal handler interrupting this thread inside the strategy (which
	 * may hold an arena or shard lock): the kernel, unchanged. */
	if (__builtin_expect(busy, 0))
		return plain(q);
	busy = 1;
	long r;
	switch (q->kind) {
	case MV_MLOCK:
	case MV_MLOCK2:
	case MV_MUNLOCK:
	case MV_MLOCKALL:
	case MV_MUNLOCKALL:
	case MV_MSYNC:
	case MV_MINCORE:
	case MV_MSEAL:
	case MV_PKEY_MPROTECT: r = on_range_call(q); break;
	case MV_MMAP: r = on_mmap(q); break;
	case MV_MUNMAP: r = on_munmap(q); break;
	case MV_MREMAP: r = on_mremap(q); break;
	case MV_MPROTECT: r = on_mprotect(q); break;
	case MV_MADVISE:
	case MV_POSIX_MADVISE: r = on_madvise(q); break;
	case MV_PROCESS_MADVISE: r = on_process_madvise(q); break;
	default: r = plain(q); break;
	}
	busy = 0;
	return r;
}

/* ---- what pt_reclaim may replace (advice.h) -------------------------------- */

/* The program made a userfaultfd: from now on any range may be registered
 * with it (the ioctl is not seen), and a fresh mapping would drop that. */
static int uffd_seen;

void mv_munmap_note_userfaultfd(void)
{
	__atomic_store_n(&uffd_seen, 1, __ATOMIC_RELAXED);
}

int mv_munmap_plain_vma(uintptr_t lo, uintptr_t hi, int *flags)
{
	const unsigned plain = MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_FIXED_NOREPLACE | MAP_POPULATE |
			       MAP_NORESERVE;
	struct mv_reg_entry e;
	if (cfg.mode == MV_MUNMAP_PASSTHROUGH || __atomic_load_n(&cfg.locked_all, __ATOMIC_RELAXED) ||
	    __atomic_load_n(&uffd_seen, __ATOMIC_RELAXED) || mv_reg_attrs(lo, hi, &e) < 0)
		return 0;
	if ((e.flags & MAP_TYPE) != MAP_PRIVATE || !(e.flags & MAP_ANONYMOUS) || (e.flags & ~plain) ||
	    e.prot != RW || e.advice)
		return 0;
	*flags = MAP_PRIVATE | MAP_ANONYMOUS | (int)(e.flags & MAP_NORESERVE);
	return 1;
}

/* ---- background work -------------------------------------------------------- */

static int pressure_high(void)
{
	char buf[512];
	long fd = mv_own4(SYS_openat, AT_FDCWD, cfg.psi_path, O_RDONLY | O_CLOEXEC, 0);
	if (mv_raw_failed(fd))
		return 0;
	long n = mv_own3(SYS_read, fd, buf, sizeof(buf) - 1);
	mv_own1(SYS_close, fd);
	if (mv_raw_failed(n) || n <= 0)
		return 0;
	buf[n] = 0;
	uint32_t some, full;
	return mv_psi_parse(buf, &some, &full) == 0 && some >= cfg.psi;
}

void mv_munmap_drain(void)
{
	mv_mc_drain();
}

void mv_munmap_tick(uint64_t now_ns)
{
	if (!cfg.mode || !mv_mc_ready())
		return;
	uint64_t now = now_ns ? now_ns : mv_mc_now();
	mv_lock(&tick_lock);
	if (cfg.psi && now >= cfg.next_psi_ns) {
		cfg.next_psi_ns = now + PSI_EVERY_NS;
		if (mv_mc_bytes() && pressure_high()) {
			mv_mc_drain();
			mv_mc_count(-1, MV_MC_PRESSURE, 1);
		}
	}
	if (cfg.mode == MV_MUNMAP_RECYCLE) {
		for (unsigned k = 0; k < MV_ARENAS; k++) {
			struct mv_arena *a = mv_mc_arena(k);
			mv_lock(&a->lock);
			mv_mc_release_older(k, cutoff(now));
			mv_unlock(&a->lock);
		}
	} else if (mv_mc_oldest() < cutoff(now)) {
		mv_mc_drain();
	}
	mv_unlock(&tick_lock);
}

static void task_run(void *arg, uint64_t now)
{
	(void)arg;
	(void)now; /* held ranges are stamped with the coarse clock */
	mv_munmap_tick(0);
}

/* ---- start-up, fork --------------------------------------------------------- */

/* Every lock is taken before fork and released after it, in both processes.
 * Meanwhile this thread's calls pass through: other fork handlers (jemalloc's
 * prefork maps memory) would otherwise wait for locks this thread holds.
 * A fork from a signal handler that interrupted the strategy takes no locks. */
static __thread int fork_locked __attribute__((tls_model("initial-exec")));

void mv_munmap_atfork_prepare(void)
{
	fork_locked = !busy;
	busy = 1;
	if (!fork_locked)
		return;
	/* The tick first, as it nests: tick, then the cache, then the registry.
	 * A child that inherited the tick held by the parent's worker would
	 * wait for it for ever (its own worker, then exit joining that worker). */
	mv_lock(&tick_lock);
	mv_mc_atfork_prepare();
	mv_reg_atfork_prepare();
}

void mv_munmap_atfork_parent(void)
{
	if (!fork_locked)
		return;
	mv_reg_atfork_parent();
	mv_mc_atfork_parent();
	mv_unlock(&tick_lock);
	busy = 0;
}

/* The child gives back at once the held ranges it inherited: they are
 * shared copy-on-write with the parent now, but once the parent lets its
 * copies go they would be the child's alone, kept for as long as it makes no
 * further calls (it has no worker to age them). Its own later munmaps are
 * held as usual and age inline. A fork from a signal handler that interrupted
 * the strategy (lists possibly mid-change) keeps them instead. */
void mv_munmap_atfork_child(void)
{
	cfg.locked_all = 0; /* memory locks are not inherited */
	mv_reg_atfork_child();
	mv_mc_atfork_child();
	mv_lock_reset(&tick_lock);
	if (fork_locked) {
		mv_mc_drain();
		busy = 0;
	}
}

static void refuse(int fd, int strict, const char *why)
{
	mv_out_say(fd, 0, strict ? "exiting (strict)" : "munmap passes through unchanged", "munmap: ", why, NULL);
	if (strict)
		_exit(2);
}

static void configure(const struct mv_options *o)
{
	cfg.zap_first = o->munmap_zap_first;
	cfg.cache_bytes = o->munmap_cache_bytes;
	cfg.max_range = o->munmap_max_range;
	cfg.zero_max = o->munmap_zero_memset_max;
	cfg.max_age_ns = (uint64_t)o->munmap_max_age_ms * 1000000u;
	cfg.psi = o->munmap_psi;
	cfg.callers = o->munmap_callers;
	cfg.recycle_resident = o->munmap_recycle_resident;
	strcpy(cfg.psi_path, "/proc/pressure/memory");
	/* The worker ages what is held (without it, arenas still age inline). */
	uint64_t period = cfg.max_age_ns / 4;
	mv_munmap_worker_task.name = "munmap";
	mv_munmap_worker_task.period_ns = period < 10000000u ? 10000000u : period > 1000000000u ? 1000000000u : period;
}

int mv_munmap_start(const struct mv_options *o, int fd)
{
	if (o->munmap == MV_MUNMAP_PASSTHROUGH || cfg.mode)
		return cfg.mode;
	configure(o);
	int self = mv_probe_get()->pidfd_self;
	mv_zero_init(self);
	if (mv_reg_init() < 0 || mv_mc_init(o->munmap_cache_entries, self) < 0) {
		refuse(fd, o->strict, "cannot map the registry and cache tables");
		return 0;
	}
	cfg.mode = o->munmap;
	mv_munmap_worker_task.run = task_run;
	return cfg.mode;
}

/* ---- what-if runs (whatif.h) ---------------------------------------------------- */

int mv_whatif_start(const struct mv_options *o, const struct mv_whatif *w)
{
	mv_whatif_end();
	memset(&cfg, 0, sizeof(cfg));
	frontier = 0;
	uffd_seen = 0;
	if (o->munmap == MV_MUNMAP_PASSTHROUGH)
		return 0;
	mv_reg_reset();
	mv_mc_reset(o->munmap_cache_entries);
	if (mv_reg_init() < 0 || mv_mc_init(o->munmap_cache_entries, mv_probe_get()->pidfd_self) < 0)
		return -1;
	configure(o);
	cfg.psi = 0; /* the pressure of this machine now says nothing about the trace */
	mv_whatif_on = w;
	cfg.mode = o->munmap;
	return cfg.mode;
}

/* As a process exits: what is held goes with it, no call made. */
void mv_whatif_end(void)
{
	mv_whatif_on = NULL;
	cfg.mode = MV_MUNMAP_PASSTHROUGH;
}

/* ---- test hooks (munmap.h) ----------------------------------------------------- */

void mv_munmap_set_zap_first(int on)
{
	cfg.zap_first = on;
}

void mv_munmap_set_recycle_resident(int on)
{
	cfg.recycle_resident = on;
}

void mv_munmap_set_callers(int callers)
{
	cfg.callers = callers;
}

void mv_munmap_set_mode(int mode)
{
	if (!mv_mc_ready())
		return;
	mv_mc_drain();
	cfg.mode = mode;
	if (mode == MV_MUNMAP_PASSTHROUGH)
		__atomic_fetch_and(&mv_hot.route, ~(unsigned)MV_ROUTE_MUNMAP, __ATOMIC_RELEASE);
	else
		__atomic_fetch_or(&mv_hot.route, MV_ROUTE_MUNMAP, __ATOMIC_RELEASE);
}

void mv_munmap_set_zero_max(uint64_t bytes)
{
	cfg.zero_max = bytes;
}

void mv_munmap_set_psi_path(const char *path)
{
	size_t n = strlen(path);
	mv_lock(&tick_lock);
	if (n < sizeof(cfg.psi_path)) {
		memcpy(cfg.psi_path, path, n + 1);
		cfg.next_psi_ns = 0;
	}
	mv_unlock(&tick_lock);
}

/* ---- report ------------------------------------------------------------------ */

static const char *const counter_names[MV_MC_COUNT] = {
	"cached", "recycled", "recycled_bytes", "misses", "deferred", "deferred_bytes", "passed_through",
	"unmap_calls", "released_bytes", "zap_calls", "resolved", "aged", "evicted", "drains",
	"pressure_drains", "zero_memset", "zero_pagemap", "zero_dontneed",
};

void mv_munmap_report_json(struct mv_emit *e)
{
	if (!cfg.mode)
		return;
	uint64_t c[MV_MC_COUNT];
	size_t entries, held;
	mv_mc_counters(c);
	mv_reg_counts(&entries, &held);
	mv_emit_object(e, "munmap");
	mv_emit_str(e, "mode", mv_munmap_mode_name(cfg.mode));
	mv_emit_u64(e, "held_bytes", mv_mc_bytes());
	mv_emit_u64(e, "registry_entries", entries);
	mv_emit_u64(e, "registry_held", held);
	size_t peak;
	mv_reg_bytes(&peak);
	mv_emit_u64(e, "registry_bytes_peak", peak);
	for (int i = 0; i < MV_MC_COUNT; i++)
		mv_emit_u64(e, counter_names[i], c[i]);
	mv_emit_end(e);
}

int mv_munmap_figures(void (*fn)(void *arg, const char *name, uint64_t value), void *arg, uint64_t *held_bytes)
{
	*held_bytes = 0;
	if (!cfg.mode)
		return 0;
	uint64_t c[MV_MC_COUNT];
	mv_mc_counters(c);
	*held_bytes = mv_mc_bytes();
	for (int i = 0; i < MV_MC_COUNT; i++)
		fn(arg, counter_names[i], c[i]);
	return cfg.mode;
}

void mv_munmap_report_text(struct mv_outbuf *o)
{
	if (!cfg.mode)
		return;
	uint64_t c[MV_MC_COUNT], any = mv_mc_bytes();
	mv_mc_counters(c);
	for (int i = 0; i < MV_MC_COUNT; i++)
		any |= c[i];
	if (!any)
		return; /* nothing to say (a short-lived process) */
	mv_out_str(o, "madvisor: munmap:");
	mv_out_str(o, mv_munmap_mode_name(cfg.mode));
	mv_out_str(o, " held ");
	mv_out_u64(o, mv_mc_bytes());
	mv_out_str(o, " bytes");
	for (int i = 0; i < MV_MC_COUNT; i++) {
		if (!c[i])
			continue;
		mv_out_str(o, ", ");
		mv_out_str(o, counter_names[i]);
		mv_out_char(o, ' ');
		mv_out_u64(o, c[i]);
	}
	mv_out_char(o, '\n');
}
