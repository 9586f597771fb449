/* attrib.c - purge attribution: sampling, the stack table, ranking and
 * symbols (attrib.h). */
#include <dlfcn.h>
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include "observe/attrib.h"
#include "core/hot.h"
#include "sys/objtext.h"
#include "sys/outbuf.h"
#include "sys/ownsys.h"
#include "sys/worker.h"
#include "sys/linux.h"

struct slot {
	uint64_t hash;           /* 0 empty, 1 being filled, else the stack's hash */
	uint32_t n, worker;
	void *pc[MV_ATTRIB_DEPTH];
	uint64_t samples, calls, bytes, ticks;
};

static struct slot *table;          /* MV_ATTRIB_SLOTS, raw mmap */
static uint32_t every = 64;
static uint64_t bytes_every;
static uint32_t top = 10;
static struct mv_text self;         /* madvisor's own code: frames skipped */
static struct mv_text unwinder;     /* libunwind's code: its calls are not the program's */
static int unwinder_shared;         /* ... unless the program loaded it too */
static uint64_t dropped_samples, dropped_calls;

/* Per thread: what the next sample will stand for. */
struct acc {
	uint64_t calls, bytes;
	int busy;                        /* inside the unwinder: no sampling (2: loading it) */
};
static __thread struct acc acc __attribute__((tls_model("initial-exec")));

static int is_purge_advice(int a)
{
	return a == MADV_DONTNEED || a == MADV_FREE || a == MADV_REMOVE || a == MADV_PAGEOUT ||
	       a == MADV_DONTNEED_LOCKED;
}

static int is_purge(const struct mv_request *q)
{
	switch (q->kind) {
	case MV_MADVISE:
	case MV_PROCESS_MADVISE:
		return is_purge_advice(q->advice);
	case MV_MUNMAP:
		return 1;
	default:
		return 0;
	}
}

int mv_attrib_begin(const struct mv_request *q, struct mv_attrib_sample *s)
{
	if (!table || !is_purge(q))
		return 0;
	/* process_madvise's bytes are known only from its result. */
	uint64_t b = q->kind == MV_PROCESS_MADVISE ? 0 : q->len;
	acc.calls++;
	acc.bytes += b;
	if (acc.busy) /* the allocator, called by the unwinder: the next sample stands for it */
		return 0;
	if (bytes_every ? acc.bytes < bytes_every : acc.calls < every)
		return 0;
	s->calls = acc.calls;
	s->bytes = acc.bytes - b; /* this call's own bytes are added from its result */
	acc.calls = acc.bytes = 0;
	s->n = 0;
	s->worker = mv_worker_is_self();
	if (s->worker)
		return 1; /* never unwind on the worker: it may hold the allocator's locks */
	void *buf[MV_ATTRIB_DEPTH + 8];
	acc.busy = 1;
	int n = mv_unwind_backtrace(buf, MV_ATTRIB_DEPTH + 8);
	acc.busy = 0;
	int i = 0;
	while (i < n && mv_text_has(&self, buf[i]))
		i++;
	for (; i < n && s->n < MV_ATTRIB_DEPTH; i++)
		s->pc[s->n++] = buf[i];
	return 1;
}

int mv_attrib_own(const struct mv_request *q)
{
	/* A call from libunwind's code is its own (a thread's cache freed at
	 * exit, say) unless the program uses that libunwind too; then only
	 * while this thread unwinds for madvisor. */
	return acc.busy == 2 || (mv_text_has(&unwinder, q->caller) && (acc.busy || !unwinder_shared));
}

static uint64_t stack_hash(const struct mv_attrib_sample *s)
{
	uint64_t h = 1469598103934665603ull ^ (uint64_t)s->worker;
	for (int i = 0; i < s->n; i++) {
		h ^= (uint64_t)(uintptr_t)s->pc[i];
		h *= 1099511628211ull;
	}
	return h < 2 ? h + 2 : h;
}

static int same(const struct slot *e, const struct mv_attrib_sample *s)
{
	return e->n == (uint32_t)s->n && e->worker == (uint32_t)s->worker &&
	       !memcmp(e->pc, s->pc, sizeof(void *) * (size_t)s->n);
}

/* The slot of this stack, claimed if new; NULL when the table is full. */
static struct slot *find(const struct mv_attrib_sample *s)
{
	uint64_t h = stack_hash(s);
	uint32_t i = (uint32_t)(h >> 7) & (MV_ATTRIB_SLOTS - 1);
	for (int k = 0; k < 64; k++, i = (i + 1) & (MV_ATTRIB_SLOTS - 1)) {
		struct slot *e = &table[i];
		uint64_t cur = __atomic_load_n(&e->hash, __ATOMIC_ACQUIRE);
		if (cur == 0) {
			uint64_t zero = 0;
			if (__atomic_compare_exchange_n(&e->hash, &zero, 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
				e->n = (uint32_t)s->n;
				e->worker = (uint32_t)s->worker;
				memcpy(e->pc, s->pc, sizeof(void *) * (size_t)s->n);
				__atomic_store_n(&e->hash, h, __ATOMIC_RELEASE);
				return e;
			}
			cur = zero;
		}
		/* A slot being filled (1) may hold this very stack: the two
		 * entries are merged at report time. */
		if (cur == h && same(e, s))
			return e;
	}
	return NULL;
}

void mv_attrib_end(struct mv_attrib_sample *s, const struct mv_request *q, long result, uint64_t ticks)
{
	/* Bytes asked for, as for every other call the sample stands for;
	 * process_madvise's are known only when it succeeds. */
	if (q->kind != MV_PROCESS_MADVISE)
		s->bytes += q->len;
	else if (!mv_raw_failed(result))
		s->bytes += (uint64_t)result;
	struct slot *e = find(s);
	if (!e) {
		__atomic_fetch_add(&dropped_samples, 1, __ATOMIC_RELAXED);
		__atomic_fetch_add(&dropped_calls, s->calls, __ATOMIC_RELAXED);
		return;
	}
	__atomic_fetch_add(&e->samples, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&e->calls, s->calls, __ATOMIC_RELAXED);
	__atomic_fetch_add(&e->bytes, s->bytes, __ATOMIC_RELAXED);
	__atomic_fetch_add(&e->ticks, ticks * s->calls, __ATOMIC_RELAXED);
}

/* ---- set-up ------------------------------------------------------------------ */

static void say(int fd, const char *what)
{
	mv_out_say(fd, 0, "attribution stays off", "attribution: ", what, NULL);
}

void mv_attrib_atfork_child(void)
{
	if (!table)
		return;
	memset(table, 0, sizeof(struct slot) * MV_ATTRIB_SLOTS);
	dropped_samples = dropped_calls = 0;
	acc.calls = acc.bytes = 0;
	acc.busy = 0;
}

int mv_attrib_start(const struct mv_options *o, int fd)
{
	char why[128];
	if (!o->attribution)
		return 0;
	/* Loading runs libunwind's constructors, which map memory: every call
	 * this thread makes meanwhile is libunwind's (busy 2, through the
	 * attribution path; the table is not there yet, so nothing is sampled). */
	acc.busy = 2;
	__atomic_fetch_or(&mv_hot.counting, 1 | MV_COUNT_ATTRIB, __ATOMIC_RELEASE);
	int loaded = mv_unwind_load(why, sizeof(why));
	acc.busy = 0;
	if (loaded != 0) {
		__atomic_fetch_and(&mv_hot.counting, ~MV_COUNT_ATTRIB, __ATOMIC_RELEASE);
		say(fd, why);
		return -1;
	}
	void *p = (void *)mv_own6(SYS_mmap, 0, sizeof(struct slot) * MV_ATTRIB_SLOTS, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mv_raw_failed((long)p)) {
		__atomic_fetch_and(&mv_hot.counting, ~MV_COUNT_ATTRIB, __ATOMIC_RELEASE);
		say(fd, "no memory for the stack table");
		return -1;
	}
	if (mv_object_text((void *)mv_attrib_begin, &self) != 0)
		self.lo = self.hi = 0;
	if (!mv_unwind_code() || mv_object_text(mv_unwind_code(), &unwinder) != 0)
		unwinder.lo = unwinder.hi = 0;
	unwinder_shared = mv_unwind_shared();
	every = o->attribution_every ? o->attribution_every : 1;
	bytes_every = o->attribution_bytes;
	top = o->attribution_top < MV_ATTRIB_TOP_MAX / 3 ? o->attribution_top : MV_ATTRIB_TOP_MAX / 3;
	/* Prime the unwinder: its caches and its dl_iterate_phdr walk happen
	 * now, on one thread, not inside some allocator's lock later. Its
	 * calls go through the attribution path (busy: passed through, not
	 * counted as the program's); the table is not there yet, so nothing
	 * else is sampled. */
	void *prime[MV_ATTRIB_DEPTH];
	acc.busy = 1;
	mv_unwind_backtrace(prime, MV_ATTRIB_DEPTH);
	acc.busy = 0;
	__atomic_store_n(&table, p, __ATOMIC_RELEASE);
	pthread_atfork(NULL, NULL, mv_attrib_atfork_child);
	return 0;
}

/* ---- reports ------------------------------------------------------------------- */

static struct mv_attrib_report rep;
static struct slot merged[MV_ATTRIB_SLOTS];

static void copy_name(char *dst, const char *src)
{
	size_t n = src ? strlen(src) : 0;
	if (n >= MV_ATTRIB_SYM)
		n = MV_ATTRIB_SYM - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = 0;
}

static void symbolise(struct mv_attrib_frame *f, uintptr_t pc)
{
	Dl_info di;
	f->pc = pc;
	f->object[0] = f->symbol[0] = 0;
	f->offset = 0;
	/* A return address: look up the byte before it, inside the call. */
	if (dladdr((void *)(pc - 1), &di) && di.dli_fname) {
		const char *base = strrchr(di.dli_fname, '/');
		copy_name(f->object, base ? base + 1 : di.dli_fname);
		f->offset = pc - (uintptr_t)di.dli_fbase;
		if (di.dli_sname && di.dli_saddr) {
			copy_name(f->symbol, di.dli_sname);
			f->offset = pc - (uintptr_t)di.dli_saddr;
			return;
		}
	}
	char name[MV_ATTRIB_SYM];
	uintptr_t off;
	acc.busy = 1; /* libunwind reads the object's symbols: its calls are its own */
	int r = mv_unwind_proc_name(pc - 1, name, sizeof(name), &off);
	acc.busy = 0;
	if (r != 0 || !name[0])
		return;
	/* libunwind takes the nearest symbol below, whatever its size: when
	 * that is an exported symbol, dladdr above knew it and found pc
	 * outside it, so the name would be wrong. */
	Dl_info sd;
	uintptr_t start = pc - 1 - off;
	if (dladdr((void *)start, &sd) && sd.dli_sname && (uintptr_t)sd.dli_saddr == start)
		return;
	copy_name(f->symbol, name);
	f->offset = off + 1;
}

/* Indices of the `k` largest entries by key, into out; returns how many. */
static int rank(const struct slot *v, int n, int which, int *out, int k)
{
	int m = 0;
	for (int i = 0; i < n; i++) {
		uint64_t key = which == 0 ? v[i].calls : which == 1 ? v[i].bytes : v[i].ticks;
		int j = m < k ? m++ : k;
		if (j == k) {
			const struct slot *last = &v[out[k - 1]];
			uint64_t lk = which == 0 ? last->calls : which == 1 ? last->bytes : last->ticks;
			if (key <= lk)
				continue;
			j = k - 1;
		}
		while (j > 0) {
			const struct slot *p = &v[out[j - 1]];
			uint64_t pk = which == 0 ? p->calls : which == 1 ? p->bytes : p->ticks;
			if (pk >= key)
				break;
			out[j] = out[j - 1];
			j--;
		}
		out[j] = i;
	}
	return m;
}

const struct mv_attrib_report *mv_attrib_gather(double ticks_per_sec)
{
	if (!table)
		return NULL;
	/* Symbols are read with libunwind, which maps and unmaps files: those
	 * calls are madvisor's own, not the program's purges. */
	acc.busy = 1;
	memset(&rep, 0, sizeof(rep));
	rep.enabled = 1;
	rep.every = every;
	rep.bytes_every = bytes_every;
	rep.dropped_samples = __atomic_load_n(&dropped_samples, __ATOMIC_RELAXED);
	rep.dropped_calls = __atomic_load_n(&dropped_calls, __ATOMIC_RELAXED);
	/* Copy settled entries, merging a stack that was entered twice. */
	int n = 0;
	for (int i = 0; i < MV_ATTRIB_SLOTS; i++) {
		const struct slot *e = &table[i];
		if (__atomic_load_n(&e->hash, __ATOMIC_ACQUIRE) < 2)
			continue;
		struct mv_attrib_sample s = { .n = (int)e->n, .worker = (int)e->worker };
		memcpy(s.pc, e->pc, sizeof(void *) * e->n);
		int j;
		for (j = 0; j < n && !same(&merged[j], &s); j++)
			;
		if (j == n)
			merged[n++] = *e;
		else {
			merged[j].samples += e->samples;
			merged[j].calls += e->calls;
			merged[j].bytes += e->bytes;
			merged[j].ticks += e->ticks;
		}
	}
	rep.distinct = n;
	for (int i = 0; i < n; i++) {
		rep.samples += merged[i].samples;
		rep.total_calls += merged[i].calls;
		rep.total_bytes += merged[i].bytes;
	}
	int k = (int)top;
	int nc = rank(merged, n, 0, rep.by_calls, k);
	rank(merged, n, 1, rep.by_bytes, k);
	rank(merged, n, 2, rep.by_time, k);
	rep.top = nc;
	/* The union of the three lists becomes the sites; lists are remapped
	 * to site indices. */
	int map[MV_ATTRIB_SLOTS];
	for (int i = 0; i < n; i++)
		map[i] = -1;
	int *lists[3] = { rep.by_calls, rep.by_bytes, rep.by_time };
	for (int l = 0; l < 3; l++) {
		for (int i = 0; i < nc; i++) {
			int m = lists[l][i];
			if (map[m] < 0 && rep.nsites < MV_ATTRIB_TOP_MAX) {
				struct mv_attrib_site *site = &rep.sites[rep.nsites];
				const struct slot *e = &merged[m];
				site->samples = e->samples;
				site->calls = e->calls;
				site->bytes = e->bytes;
				site->kernel_ns = ticks_per_sec > 0 ? (uint64_t)((double)e->ticks * 1e9 / ticks_per_sec) : 0;
				site->worker = (int)e->worker;
				site->nframes = e->n < MV_ATTRIB_SHOW ? (int)e->n : MV_ATTRIB_SHOW;
				for (int f = 0; f < site->nframes; f++)
					symbolise(&site->frames[f], (uintptr_t)e->pc[f]);
				map[m] = rep.nsites++;
			}
			lists[l][i] = map[m];
		}
	}
	acc.busy = 0;
	return &rep;
}
