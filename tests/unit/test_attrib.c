/* test_attrib.c - purge attribution with a fake unwinder: which calls are
 * sampled and what each sample stands for, aggregation by stack, madvisor's
 * own frames skipped, ranking by calls / bytes / kernel time, symbols from
 * dladdr and then the unwinder, the worker's purges, a full table, fork. */
#define MV_TEST_HOOKS /* calls test hooks (sys/testhook.h) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include "observe/attrib.h"
#include "observe/report.h"
#include "sys/worker.h"
#include "../tap.h"

/* The stack the fake unwinder returns: one frame of "madvisor" (this
 * program, which links the library's code), then the given frames. */
static void *frames[MV_ATTRIB_DEPTH];
static int nframes, unwinds;

static int fake_backtrace(void **pcs, int max)
{
	int n = 0;
	unwinds++;
	pcs[n++] = (void *)mv_attrib_begin + 4; /* our own code: skipped */
	for (int i = 0; i < nframes && n < max; i++)
		pcs[n++] = frames[i];
	return n;
}

static int fake_proc_name(uintptr_t pc, char *buf, size_t cap, uintptr_t *off)
{
	if (pc < 0x1000 || pc > 0x2000)
		return -1;
	snprintf(buf, cap, "fake_fn");
	*off = pc - 0x1000;
	return 0;
}

static struct mv_request dontneed(size_t len)
{
	struct mv_request q = { .kind = MV_MADVISE, .advice = MADV_DONTNEED, .len = len, .addr = (void *)0x10000 };
	return q;
}

/* One call through the sampling hooks, as handle.c makes it. */
static int call(const struct mv_request *q, long result, uint64_t ticks)
{
	struct mv_attrib_sample s;
	if (!mv_attrib_begin(q, &s))
		return 0;
	mv_attrib_end(&s, q, result, ticks);
	return 1;
}

static void worker_task(void *arg, uint64_t now)
{
	(void)now;
	struct mv_request q = dontneed(1 << 20);
	for (int i = 0; i < 4; i++)
		call(&q, 0, 100);
	__atomic_store_n((int *)arg, 1, __ATOMIC_RELEASE);
}

static struct mv_options opts(const char *every, const char *bytes)
{
	struct mv_options o;
	char reason[128];
	mv_options_defaults(&o);
	o.attribution = true;
	mv_option_parse(&mv_option_table[MV_OPT_ATTRIBUTION_EVERY], &o, every, strlen(every), reason, sizeof(reason));
	mv_option_parse(&mv_option_table[MV_OPT_ATTRIBUTION_BYTES], &o, bytes, strlen(bytes), reason, sizeof(reason));
	return o;
}

int main(void)
{
	struct mv_options o = opts("4", "0");
	tap_ok(mv_attrib_gather(1e9) == NULL, "off: no report");
	mv_unwind_set(fake_backtrace, fake_proc_name);
	tap_ok(mv_attrib_start(&o, 2) == 0, "started with a (fake) unwinder");
	int primed = unwinds;
	tap_ok(primed == 1, "the unwinder is primed once at start");

	/* stack A: sysconf < pathconf (libc, exported: dladdr names them; no
	 * sanitizer runtime intercepts them, unlike printf or puts) */
	frames[0] = (void *)sysconf + 5;
	frames[1] = (void *)pathconf + 7;
	nframes = 2;
	struct mv_request q = dontneed(4096);
	int sampled = 0;
	for (int i = 0; i < 8; i++)
		sampled += call(&q, 0, 1000);
	tap_ok(sampled == 2 && unwinds == primed + 2, "one call in 4 sampled and unwound");
	struct mv_request other = { .kind = MV_MMAP, .len = 4096 };
	struct mv_request willneed = { .kind = MV_MADVISE, .advice = MADV_WILLNEED, .len = 4096 };
	for (int i = 0; i < 16; i++)
		sampled += call(&other, 0, 1) + call(&willneed, 0, 1);
	tap_ok(sampled == 2, "mmap and MADV_WILLNEED are not purges: never sampled");

	/* stack B: a fake pc that only the unwinder can name; big calls, one failing */
	frames[0] = (void *)0x1234;
	nframes = 1;
	struct mv_request big = dontneed(1 << 20);
	call(&big, 0, 10);
	call(&big, 0, 10);
	call(&big, -22, 10);
	call(&big, 0, 50000);   /* sampled: stands for 4 calls, 4 MiB asked for */
	struct mv_request unmap = { .kind = MV_MUNMAP, .len = 8192 };
	frames[0] = (void *)strverscmp + 3;
	for (int i = 0; i < 4; i++)
		call(&unmap, 0, 10);

	const struct mv_attrib_report *r = mv_attrib_gather(1e9);
	tap_ok(r && r->enabled && r->samples == 4 && r->distinct == 3, "4 samples, 3 stacks (%llu, %d)",
	       r ? (unsigned long long)r->samples : 0ull, r ? r->distinct : -1);
	tap_ok(r->total_calls == 16 && r->total_bytes == 8 * 4096 + 4 * (1 << 20) + 4 * 8192,
	       "samples stand for every purge call and byte (%llu calls, %llu bytes)",
	       (unsigned long long)r->total_calls, (unsigned long long)r->total_bytes);
	const struct mv_attrib_site *a = &r->sites[r->by_calls[0]];
	tap_ok(a->calls == 8 && a->bytes == 32768 && a->nframes == 2, "top by calls: stack A, 8 calls");
	tap_ok(strstr(a->frames[0].symbol, "sysconf") && strstr(a->frames[0].object, "libc.so") &&
		       a->frames[0].offset == 5 && strstr(a->frames[1].symbol, "pathconf"),
	       "madvisor's frame skipped; dladdr names libc's functions (%s+%lu in %s)", a->frames[0].symbol,
	       (unsigned long)a->frames[0].offset, a->frames[0].object);
	const struct mv_attrib_site *b = &r->sites[r->by_bytes[0]];
	tap_ok(b->bytes == 4 << 20 && b->calls == 4 && !strcmp(b->frames[0].symbol, "fake_fn") &&
		       b->frames[0].offset == 0x234, "top by bytes: stack B, named by the unwinder");
	tap_ok(r->by_time[0] == r->by_bytes[0] && b->kernel_ns == 200000,
	       "top by kernel time: the sampled call's time times the calls it stands for (%llu ns)",
	       (unsigned long long)b->kernel_ns);
	tap_ok(r->top == 3 && r->nsites == 3, "three sites ranked");

	static struct mv_report rep;
	struct mv_options ro;
	struct mv_allocator_info alloc = { .kind = MV_ALLOC_GLIBC };
	mv_options_defaults(&ro);
	mv_report_gather(&rep, &ro, &alloc, 0);
	int fds[2];
	if (pipe(fds) == 0) {
		mv_report_json(&rep, fds[1]);
		close(fds[1]);
		char tmp[65536];
		ssize_t n = read(fds[0], tmp, sizeof(tmp) - 1);
		tmp[n > 0 ? n : 0] = 0;
		tap_ok(strstr(tmp, "\"attribution\":{\"enabled\":true,\"unwinder\":\"(test)\",\"every\":4") &&
			       strstr(tmp, "sysconf\",\"offset\":5") &&
			       strstr(tmp, "\"top_by_calls\":[0,"), "JSON attribution section");
		close(fds[0]);
	}

	/* the worker's purges: one site, never unwound */
	int done = 0;
	int before = unwinds;
	static struct mv_task t = { .name = "t", .period_ns = 3600ull * 1000000000u, .run = worker_task };
	t.arg = &done;
	mv_worker_add(&t);
	for (int i = 0; i < 2000 && !__atomic_load_n(&done, __ATOMIC_ACQUIRE); i++)
		usleep(1000);
	mv_worker_stop();
	r = mv_attrib_gather(1e9);
	int w = -1;
	for (int i = 0; i < r->nsites; i++)
		if (r->sites[i].worker)
			w = i;
	tap_ok(done && unwinds == before && w >= 0 && r->sites[w].calls == 4 && r->sites[w].nframes == 0,
	       "the worker's purges: one site, no unwinding");

	/* a full table: more distinct stacks than slots */
	nframes = 1;
	for (uintptr_t i = 0; i < MV_ATTRIB_SLOTS + 200; i++) {
		frames[0] = (void *)(0x100000 + i * 16);
		for (int k = 0; k < 4; k++)
			call(&q, 0, 1);
	}
	r = mv_attrib_gather(1e9);
	tap_ok(r->distinct <= MV_ATTRIB_SLOTS && r->dropped_samples > 0 && r->dropped_calls == 4 * r->dropped_samples,
	       "table full: %llu samples dropped and counted", (unsigned long long)r->dropped_samples);

	mv_attrib_atfork_child();
	r = mv_attrib_gather(1e9);
	tap_ok(r->samples == 0 && r->distinct == 0 && r->dropped_samples == 0, "fork child starts empty");

	/* by bytes: one sample each time 1 MiB has been purged */
	o = opts("64", "1m");
	mv_attrib_start(&o, 2);
	frames[0] = (void *)sysconf + 5;
	sampled = 0;
	for (int i = 0; i < 512; i++)
		sampled += call(&q, 0, 1);
	r = mv_attrib_gather(1e9);
	tap_ok(sampled == 2 && r->total_bytes == 2 << 20 && r->total_calls == 512,
	       "by bytes: 2 MiB in 4 KiB calls gives 2 samples of 256 calls each");
	return tap_done();
}
