/* report_prom.c - the stats report in the Prometheus text exposition format
 * (version 0.0.4), as node_exporter's textfile collector reads it.
 *
 * Every sample carries a pid label, so that the files of several processes
 * in one collector directory never define the same series. Counters end in
 * _total; times are in seconds, sizes in bytes. */
#include <string.h>
#include "observe/report.h"
#include "munmap/munmap.h"
#include "sys/outbuf.h"
#include "mvconfig.h"

/* A label value: backslash, double quote and newline escaped. */
static void label_value(struct mv_outbuf *o, const char *s)
{
	mv_out_char(o, '"');
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			mv_out_char(o, '\\');
		if (*s == '\n') {
			mv_out_str(o, "\\n");
			continue;
		}
		mv_out_char(o, *s);
	}
	mv_out_char(o, '"');
}

static void family(struct mv_outbuf *o, const char *name, const char *type, const char *help)
{
	mv_out_str(o, "# HELP ");
	mv_out_str(o, name);
	mv_out_char(o, ' ');
	mv_out_str(o, help);
	mv_out_str(o, "\n# TYPE ");
	mv_out_str(o, name);
	mv_out_char(o, ' ');
	mv_out_str(o, type);
	mv_out_char(o, '\n');
}

/* name{pid="P"[,k="v"...]} — labels given as NULL-terminated k, v pairs. */
static void sample_start(struct mv_outbuf *o, const char *name, long pid, const char *const *labels)
{
	mv_out_str(o, name);
	mv_out_str(o, "{pid=\"");
	mv_out_i64(o, pid);
	mv_out_char(o, '"');
	for (int i = 0; labels && labels[i]; i += 2) {
		mv_out_char(o, ',');
		mv_out_str(o, labels[i]);
		mv_out_char(o, '=');
		label_value(o, labels[i + 1]);
	}
	mv_out_str(o, "} ");
}

static void sample_u64(struct mv_outbuf *o, const char *name, long pid, const char *const *labels, uint64_t v)
{
	sample_start(o, name, pid, labels);
	mv_out_u64(o, v);
	mv_out_char(o, '\n');
}

static void sample_f(struct mv_outbuf *o, const char *name, long pid, const char *const *labels, double v)
{
	sample_start(o, name, pid, labels);
	mv_out_fixed(o, v, 9);
	mv_out_char(o, '\n');
}

static void rows(struct mv_outbuf *o, const struct mv_report *r, const char *name, const char *type,
		 const char *help, int field)
{
	family(o, name, type, help);
	for (int i = 0; i < MV_ROW_COUNT; i++) {
		const struct mv_stat_row *row = &r->stats.row[i];
		if (!row->calls)
			continue;
		const char *labels[] = { "kind", mv_stats_row_kind(i), "detail", mv_stats_row_detail(i), NULL };
		switch (field) {
		case 0: sample_u64(o, name, r->pid, labels, row->calls); break;
		case 1: sample_u64(o, name, r->pid, labels, row->errors); break;
		case 2: sample_u64(o, name, r->pid, labels, row->bytes); break;
		case 3: sample_f(o, name, r->pid, labels, mv_report_kernel_ns(r, row) / 1e9); break;
		default: sample_u64(o, name, r->pid, labels, row->pmd_calls); break;
		}
	}
}

static void alloc_figure(struct mv_outbuf *o, long pid, const char *figure, int64_t v)
{
	const char *labels[] = { "figure", figure, NULL };
	if (v >= 0)
		sample_u64(o, "madvisor_allocator_bytes", pid, labels, (uint64_t)v);
}

/* The munmap strategy's counters, gathered so that each family's samples
 * stay together: counts in one family, bytes in another. */
struct munmap_figures {
	int n;
	const char *name[32];
	uint64_t value[32];
};

static void munmap_figure(void *arg, const char *name, uint64_t value)
{
	struct munmap_figures *f = arg;
	if (f->n < 32) {
		f->name[f->n] = name;
		f->value[f->n++] = value;
	}
}

/* "recycled_bytes" is "recycled" in the bytes family. */
static int bytes_counter(const char *name, char *out, size_t cap)
{
	size_t n = strlen(name);
	if (n <= 6 || strcmp(name + n - 6, "_bytes") != 0 || n - 6 >= cap)
		return 0;
	memcpy(out, name, n - 6);
	out[n - 6] = 0;
	return 1;
}

static void munmap_section(struct mv_outbuf *o, long pid)
{
	struct munmap_figures f = { 0 };
	uint64_t held;
	char base[32];
	int mode = mv_munmap_figures(munmap_figure, &f, &held);
	if (!mode)
		return;
	family(o, "madvisor_munmap_held_bytes", "gauge", "bytes the munmap strategy keeps or queues now");
	const char *labels[] = { "mode", mv_munmap_mode_name(mode), NULL };
	sample_u64(o, "madvisor_munmap_held_bytes", pid, labels, held);
	family(o, "madvisor_munmap_events_total", "counter",
	       "what the munmap strategy did (the counters of the JSON munmap object)");
	for (int i = 0; i < f.n; i++) {
		if (bytes_counter(f.name[i], base, sizeof(base)))
			continue;
		const char *l[] = { "counter", f.name[i], NULL };
		sample_u64(o, "madvisor_munmap_events_total", pid, l, f.value[i]);
	}
	family(o, "madvisor_munmap_bytes_total", "counter", "bytes recycled, deferred and released by the munmap strategy");
	for (int i = 0; i < f.n; i++) {
		if (!bytes_counter(f.name[i], base, sizeof(base)))
			continue;
		const char *l[] = { "counter", base, NULL };
		sample_u64(o, "madvisor_munmap_bytes_total", pid, l, f.value[i]);
	}
}

int mv_report_prom(const struct mv_report *r, int fd)
{
	char buf[4096];
	struct mv_outbuf o;
	mv_out_init(&o, buf, sizeof(buf), fd);

	family(&o, "madvisor_info", "gauge", "madvisor version, program and allocator (value 1)");
	const char *info[] = { "version", PACKAGE_VERSION, "exe", r->exe, "allocator",
			       mv_allocator_name(r->allocator->kind), "library", r->allocator->library, NULL };
	sample_u64(&o, "madvisor_info", r->pid, info, 1);
	family(&o, "madvisor_elapsed_seconds", "gauge", "time since the library started in this process");
	sample_f(&o, "madvisor_elapsed_seconds", r->pid, NULL, (double)r->elapsed_ns / 1e9);

	rows(&o, r, "madvisor_calls_total", "counter", "intercepted calls by kind and advice or mapping type", 0);
	rows(&o, r, "madvisor_errors_total", "counter", "intercepted calls that failed", 1);
	rows(&o, r, "madvisor_bytes_total", "counter", "bytes asked for by successful calls", 2);
	rows(&o, r, "madvisor_kernel_seconds_total", "counter",
	     "time inside the calls, estimated from the timed ones", 3);
	rows(&o, r, "madvisor_pmd_ranges_total", "counter",
	     "ranges covering at least one whole 2 MiB-aligned region", 4);

	family(&o, "madvisor_policy_total", "counter", "what the policy did to the program's calls");
	for (int i = 0; i < MV_POL_COUNT; i++) {
		const char *labels[] = { "counter", mv_stats_policy_name(i), NULL };
		sample_u64(&o, "madvisor_policy_total", r->pid, labels, r->stats.policy[i]);
	}

	munmap_section(&o, r->pid);

	family(&o, "madvisor_process_bytes", "gauge", "the process's memory from /proc/self/status");
	static const char *const mem_names[] = { "vm_rss", "vm_hwm", "vm_pte", "vm_size" };
	const int64_t mem[] = { r->mem.vm_rss_kb, r->mem.vm_hwm_kb, r->mem.vm_pte_kb, r->mem.vm_size_kb };
	for (int i = 0; i < 4; i++) {
		const char *labels[] = { "field", mem_names[i], NULL };
		if (mem[i] >= 0)
			sample_u64(&o, "madvisor_process_bytes", r->pid, labels, (uint64_t)mem[i] * 1024);
	}

	const struct mv_alloc_report *a = &r->alloc_api;
	if (a->have_stats) {
		family(&o, "madvisor_allocator_bytes", "gauge", "the allocator's own figures, read through its API");
		alloc_figure(&o, r->pid, "resident", a->stats.resident);
		alloc_figure(&o, r->pid, "active", a->stats.active);
		alloc_figure(&o, r->pid, "allocated", a->stats.allocated);
		alloc_figure(&o, r->pid, "mapped", a->stats.mapped);
		alloc_figure(&o, r->pid, "retained", a->stats.retained);
		alloc_figure(&o, r->pid, "dirty", a->stats.dirty);
		alloc_figure(&o, r->pid, "muzzy", a->stats.muzzy);
		alloc_figure(&o, r->pid, "free_resident", a->stats.free_resident);
	}
	if (a->nknobs) {
		family(&o, "madvisor_allocator_knob", "gauge", "effective value of an allocator setting, read back");
		for (int i = 0; i < a->nknobs; i++) {
			const char *labels[] = { "key", a->knobs[i].key, NULL };
			if (a->knobs[i].known) {
				sample_start(&o, "madvisor_allocator_knob", r->pid, labels);
				mv_out_i64(&o, a->knobs[i].value);
				mv_out_char(&o, '\n');
			}
		}
	}
	if (a->bound) {
		family(&o, "madvisor_allocator_purges_total", "counter", "allocator-wide purges madvisor asked for");
		sample_u64(&o, "madvisor_allocator_purges_total", r->pid, NULL, a->purges);
		family(&o, "madvisor_allocator_purge_seconds_total", "counter", "wall time inside those purges");
		sample_f(&o, "madvisor_allocator_purge_seconds_total", r->pid, NULL, (double)a->purge_ns / 1e9);
	}
	const struct mv_attrib_report *at = r->attrib;
	if (at && at->top) {
		family(&o, "madvisor_purge_site_calls_total", "counter",
		       "purge calls by call site (sampled; the top sites by calls)");
		for (int i = 0; i < at->top; i++) {
			if (at->by_calls[i] < 0)
				continue;
			const struct mv_attrib_site *s = &at->sites[at->by_calls[i]];
			char site[2 * MV_ATTRIB_SYM + 48];
			struct mv_outbuf t;
			mv_out_init(&t, site, sizeof(site), -1);
			if (s->worker)
				mv_out_str(&t, "madvisor-worker");
			for (int f = 0; f < s->nframes && f < 2; f++) {
				const struct mv_attrib_frame *fr = &s->frames[f];
				if (f)
					mv_out_str(&t, " < ");
				mv_out_str(&t, fr->symbol[0] ? fr->symbol : fr->object);
				mv_out_char(&t, '+');
				mv_out_hex(&t, fr->offset);
			}
			const char *labels[] = { "rank", "", "site", mv_out_cstr(&t), NULL };
			char rk[8];
			struct mv_outbuf rb;
			mv_out_init(&rb, rk, sizeof(rk), -1);
			mv_out_i64(&rb, i + 1);
			labels[1] = mv_out_cstr(&rb);
			sample_u64(&o, "madvisor_purge_site_calls_total", r->pid, labels, s->calls);
		}
	}
	const struct mv_adaptive_report *ad = &r->adaptive;
	if (ad->enabled) {
		family(&o, "madvisor_adaptive_purging", "gauge", "1 while the adaptive controller is purging");
		sample_u64(&o, "madvisor_adaptive_purging", r->pid, NULL, (uint64_t)ad->state.purging);
		family(&o, "madvisor_adaptive_episodes_total", "counter", "times memory pressure started purging");
		sample_u64(&o, "madvisor_adaptive_episodes_total", r->pid, NULL, ad->state.episodes);
		family(&o, "madvisor_adaptive_purges_total", "counter", "allocator-wide purges by the controller");
		sample_u64(&o, "madvisor_adaptive_purges_total", r->pid, NULL, ad->state.purges);
		family(&o, "madvisor_adaptive_purged_bytes_total", "counter", "RSS those purges gave back");
		sample_u64(&o, "madvisor_adaptive_purged_bytes_total", r->pid, NULL, ad->state.purged_bytes);
		family(&o, "madvisor_adaptive_idle_purges_total", "counter",
		       "allocator-wide purges after adaptive.idle_ms without allocation");
		sample_u64(&o, "madvisor_adaptive_idle_purges_total", r->pid, NULL, ad->state.idle_purges);
		family(&o, "madvisor_adaptive_idle_purged_bytes_total", "counter", "RSS the idle purges gave back");
		sample_u64(&o, "madvisor_adaptive_idle_purged_bytes_total", r->pid, NULL, ad->state.idle_purged_bytes);
		family(&o, "madvisor_adaptive_cpu_seconds_total", "counter", "CPU time the controller spent");
		sample_f(&o, "madvisor_adaptive_cpu_seconds_total", r->pid, NULL, (double)ad->state.cpu_ns / 1e9);
		if (ad->last.psi_ok) {
			family(&o, "madvisor_memory_pressure_some_avg10", "gauge",
			       "PSI memory some avg10 seen last, in percent");
			sample_f(&o, "madvisor_memory_pressure_some_avg10", r->pid, NULL, ad->last.some_avg10 / 100.0);
		}
	}
	return mv_out_flush(&o);
}
