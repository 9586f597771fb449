/* trace.c - per-thread rings of call records, drained to a file by the worker.
 *
 * A ring has one writer (its thread; a signal handler interrupting it is
 * told apart by a busy flag and counts as dropped) and one reader (the
 * worker, under the drain lock). Rings come from own memory (sys/ownmem.h) and
 * are never freed: a ring whose thread has exited is drained and stays in the
 * list.
 * The sequence number is one global atomic counter, so replay can restore
 * the order in which calls completed across threads. */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include "sys/outbuf.h"
#include "sys/once.h"
#include "sys/ownmem.h"
#include "sys/ownsys.h"
#include "sys/outfile.h"
#include "core/trace.h"
#include "sys/worker.h"

/* Records per thread: the ring with its header fills 256 KiB of own memory
 * (which hands out powers of two: one record more would take 512 KiB). */
#define RING ((256 * 1024 - 64) / sizeof(struct mv_trace_rec))

struct ring {
	struct ring *next;
	uint64_t head;       /* written by the thread */
	uint64_t tail;       /* written by the drainer */
	uint32_t busy;
	uint32_t tid;
	struct mv_trace_rec rec[RING];
};
_Static_assert(sizeof(struct ring) <= 256 * 1024, "a trace ring fits in 256 KiB");

static int fd = -1;
static uint64_t max_bytes, written, seq, dropped, dropped_written, start_ns;

/* CLOCK_MONOTONIC_COARSE (vDSO: a few ns), as the munmap strategies age by. */
static uint64_t coarse_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}
static struct ring *rings;
static int drain_lock;
static __thread struct ring *mine __attribute__((tls_model("initial-exec")));
struct mv_task mv_trace_worker_task = { .name = "trace", .period_ns = 50000000u };
static char path_tmpl[256];
static int write_failed;           /* the file stopped at a failed write */
static unsigned alloc_kind;
static __thread int no_ring __attribute__((tls_model("initial-exec")));

#define LOAD(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)

/* One line on stderr, once per process: what went wrong with the trace. */
static void say_once(const char *what, long err, const char *then)
{
	static int said;
	if (__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED) || !mv_once(MV_ONCE_TRACE))
		return;
	mv_out_say(2, err, then, what, NULL);
}

static struct ring *my_ring(void)
{
	if (mine)
		return mine;
	if (no_ring)
		return NULL;
	void *m = mv_ownmem_alloc(sizeof(struct ring));
	long r = m ? (long)m : -ENOMEM;
	if (!m) {
		no_ring = 1; /* not one mmap per call: this thread's records are dropped */
		say_once("trace: no memory for a thread's record ring", r, "its records are counted as dropped");
		return NULL;
	}
	struct ring *g = (struct ring *)r;
	g->tid = (uint32_t)mv_raw0(SYS_gettid);
	struct ring *h = LOAD(&rings);
	do
		g->next = h;
	while (!__atomic_compare_exchange_n(&rings, &h, g, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE));
	mine = g;
	return g;
}

static void put(struct mv_trace_rec *t)
{
	struct ring *g = my_ring();
	if (!g || __atomic_exchange_n(&g->busy, 1, __ATOMIC_ACQUIRE)) {
		__atomic_fetch_add(&dropped, 1, __ATOMIC_RELAXED); /* a signal handler inside put() */
		return;
	}
	uint64_t h = g->head;
	if (h - LOAD(&g->tail) >= RING) {
		__atomic_fetch_add(&dropped, 1, __ATOMIC_RELAXED);
	} else {
		t->tid = g->tid;
		g->rec[h % RING] = *t;
		__atomic_store_n(&g->head, h + 1, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&g->busy, 0, __ATOMIC_RELEASE);
}

void mv_trace_call(const struct mv_request *q, long r, int allocator_call)
{
	if (fd < 0)
		return;
	struct mv_trace_rec t = { .type = MV_TR_CALL, .kind = (uint8_t)q->kind,
				  .bits = (uint8_t)((allocator_call ? MV_TR_ALLOC : 0) |
						    (mv_raw_failed(r) ? MV_TR_FAILED : 0)),
				  .advice = q->kind == MV_MMAP || q->kind == MV_MPROTECT ? q->prot : q->advice,
				  .flags = q->flags, .addr = (uint64_t)q->addr, .len = q->len, .aux = (uint64_t)r,
				  .t_ns = coarse_ns() - start_ns };
	if (q->kind == MV_MREMAP)
		t.len2 = q->new_len;
	if (q->kind == MV_PROCESS_MADVISE && q->iov) {
		for (size_t i = 0; i < q->vlen; i++) {
			t.addr = (uint64_t)q->iov[i].iov_base;
			t.len = q->iov[i].iov_len;
			t.seq = __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED);
			put(&t);
		}
		return;
	}
	t.seq = __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED);
	put(&t);
}

void mv_trace_region(uint64_t region, unsigned pop)
{
	if (fd < 0)
		return;
	struct mv_trace_rec t = { .type = MV_TR_REGION, .addr = region, .len = pop };
	t.seq = __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED);
	put(&t);
}

void mv_trace_pass(void)
{
	if (fd < 0)
		return;
	struct mv_trace_rec t = { .type = MV_TR_PASS };
	t.seq = __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED);
	put(&t);
}

static void out(const void *buf, size_t n)
{
	if (write_failed || written + n > max_bytes) {
		__atomic_fetch_add(&dropped, n / sizeof(struct mv_trace_rec), __ATOMIC_RELAXED);
		return;
	}
	const char *p = buf;
	while (n) {
		long w = mv_own3(SYS_write, fd, p, n);
		if (w == -EINTR)
			continue;
		if (mv_raw_failed(w) || w == 0) {
			/* A full disk, say: the file ends here, later records are dropped. */
			write_failed = 1;
			say_once("trace: cannot write the trace file", w ? w : -EIO, "it ends here");
			return;
		}
		p += w, n -= (size_t)w, written += (uint64_t)w;
	}
}

void mv_trace_flush(void)
{
	if (fd < 0 || __atomic_exchange_n(&drain_lock, 1, __ATOMIC_ACQUIRE))
		return;
	for (struct ring *g = LOAD(&rings); g; g = g->next) {
		uint64_t h = LOAD(&g->head), t = g->tail;
		while (t < h) {
			uint64_t n = h - t, at = t % RING;
			if (n > RING - at)
				n = RING - at;
			out(&g->rec[at], n * sizeof(struct mv_trace_rec));
			t += n;
			__atomic_store_n(&g->tail, t, __ATOMIC_RELEASE);
		}
	}
	uint64_t d = LOAD(&dropped);
	if (d != dropped_written && written + sizeof(struct mv_trace_rec) <= max_bytes) {
		struct mv_trace_rec r = { .type = MV_TR_DROPPED, .len = d - dropped_written };
		r.seq = __atomic_fetch_add(&seq, 1, __ATOMIC_RELAXED);
		out(&r, sizeof(r));
		dropped_written = d;
	}
	__atomic_store_n(&drain_lock, 0, __ATOMIC_RELEASE);
}

static void drain(void *arg, uint64_t now)
{
	(void)arg, (void)now;
	mv_trace_flush();
}

static int open_file(int stderr_fd)
{
	char path[MV_PATH_MAX];
	long pid = mv_raw0(SYS_getpid);
	if (mv_outfile_path(path_tmpl, pid, path, sizeof(path)) != 0 || (fd = mv_outfile_open(path)) < 0) {
		fd = -1;
		mv_out_say(stderr_fd, 0, "tracing is off", "trace: cannot create '", path, "'", NULL);
		return -1;
	}
	start_ns = coarse_ns();
	struct mv_trace_header h = { .magic = MV_TRACE_MAGIC, .version = MV_TRACE_VERSION,
				     .record_size = sizeof(struct mv_trace_rec), .pid = (uint32_t)pid,
				     .allocator = alloc_kind, .start_ns = start_ns };
	written = 0;
	write_failed = 0;
	out(&h, sizeof(h));
	return 0;
}

int mv_trace_start(const char *tmpl, uint64_t maxb, unsigned allocator, int stderr_fd)
{
	size_t n = strlen(tmpl);
	if (!n || n >= sizeof(path_tmpl))
		return -1;
	memcpy(path_tmpl, tmpl, n + 1);
	max_bytes = maxb;
	alloc_kind = allocator;
	if (open_file(stderr_fd) != 0)
		return -1;
	mv_trace_worker_task.run = drain;
	return 0;
}

void mv_trace_atfork_child(void)
{
	/* The child writes its own file (use %p in the path); the parent's
	 * undrained records belong to the parent. */
	if (fd < 0)
		return;
	mv_own1(SYS_close, fd);
	for (struct ring *g = LOAD(&rings); g; g = g->next)
		g->tail = g->head, g->busy = 0;
	drain_lock = 0;
	dropped = dropped_written = 0;
	open_file(-1);
}
