/* report_alloc.c - the allocator integration's sections of the reports:
 * "allocator_api" (figures and knobs read from the allocator) in JSON and
 * the table. Fields are documented in README.md and docs/stats.schema.json. */
#include "observe/report.h"
#include <string.h>
#include "sys/outbuf.h"

static void key(struct mv_outbuf *o, const char *k)
{
	mv_out_json_str(o, k);
	mv_out_char(o, ':');
}

/* A byte figure, or null when the allocator does not tell. */
static void num_or_null(struct mv_outbuf *o, const char *k, int64_t v, int comma)
{
	key(o, k);
	if (v < 0)
		mv_out_str(o, "null");
	else
		mv_out_i64(o, v);
	if (comma)
		mv_out_char(o, ',');
}

static void str_or_null(struct mv_outbuf *o, const char *k, const char *v, int comma)
{
	key(o, k);
	if (v)
		mv_out_json_str(o, v);
	else
		mv_out_str(o, "null");
	if (comma)
		mv_out_char(o, ',');
}

static void adaptive_obj(struct mv_outbuf *o, const struct mv_adaptive_report *a);
static void attrib_obj(struct mv_outbuf *o, const struct mv_attrib_report *a);

static void stats_obj(struct mv_outbuf *o, const struct mv_alloc_stats *s)
{
	mv_out_char(o, '{');
	num_or_null(o, "resident", s->resident, 1);
	num_or_null(o, "active", s->active, 1);
	num_or_null(o, "allocated", s->allocated, 1);
	num_or_null(o, "mapped", s->mapped, 1);
	num_or_null(o, "retained", s->retained, 1);
	num_or_null(o, "dirty", s->dirty, 1);
	num_or_null(o, "muzzy", s->muzzy, 1);
	num_or_null(o, "free_resident", s->free_resident, 1);
	key(o, "raw");
	mv_out_char(o, '{');
	for (int i = 0; i < s->nprops; i++) {
		if (i)
			mv_out_char(o, ',');
		key(o, s->props[i].name);
		mv_out_u64(o, s->props[i].value);
	}
	mv_out_str(o, "}}");
}

void mv_report_json_alloc(struct mv_outbuf *o, const struct mv_report *r)
{
	const struct mv_alloc_report *a = &r->alloc_api;
	key(o, "allocator_api");
	mv_out_char(o, '{');
	key(o, "available");
	mv_out_str(o, a->bound ? "true," : "false,");
	str_or_null(o, "purge", a->purge_name, 1);
	str_or_null(o, "note", a->note, 1);
	key(o, "stats");
	if (a->have_stats)
		stats_obj(o, &a->stats);
	else
		mv_out_str(o, "null");
	mv_out_char(o, ',');
	key(o, "knobs");
	mv_out_char(o, '{');
	for (int i = 0; i < a->nknobs; i++) {
		const struct mv_alloc_knob_value *k = &a->knobs[i];
		if (i)
			mv_out_char(o, ',');
		key(o, k->key);
		mv_out_char(o, '{');
		key(o, "value");
		if (k->known)
			mv_out_i64(o, k->value);
		else
			mv_out_str(o, "null");
		mv_out_str(o, k->requested ? ",\"requested\":true" : ",\"requested\":false");
		mv_out_str(o, k->applied ? ",\"applied\":true}" : ",\"applied\":false}");
	}
	mv_out_str(o, "},");
	key(o, "purges");
	mv_out_u64(o, a->purges);
	mv_out_char(o, ',');
	key(o, "purge_ns");
	mv_out_u64(o, a->purge_ns);
	mv_out_str(o, "},");
	adaptive_obj(o, &r->adaptive);
	attrib_obj(o, r->attrib);
}

static void u64_kv(struct mv_outbuf *o, const char *k, uint64_t v, int comma)
{
	key(o, k);
	mv_out_u64(o, v);
	if (comma)
		mv_out_char(o, ',');
}

static void adaptive_obj(struct mv_outbuf *o, const struct mv_adaptive_report *a)
{
	key(o, "adaptive");
	if (!a->enabled) {
		mv_out_str(o, "{\"enabled\":false},");
		return;
	}
	const struct mv_adapt_state *s = &a->state;
	const struct mv_pressure *p = &a->last;
	mv_out_str(o, "{\"enabled\":true,");
	str_or_null(o, "state", s->purging ? "purging" : "relaxed", 1);
	str_or_null(o, "reason", mv_adapt_reason_name(s->reason), 1);
	key(o, "eager");
	mv_out_str(o, s->eager ? "true," : "false,");
	u64_kv(o, "interval_ms", a->interval_ms, 1);
	u64_kv(o, "idle_ms", a->idle_ms, 1);
	str_or_null(o, "psi_file", a->psi_path, 1);
	key(o, "cgroup");
	if (p->cg_version) {
		mv_out_char(o, '{');
		u64_kv(o, "version", (uint64_t)p->cg_version, 1);
		str_or_null(o, "dir", a->cg_dir, 1);
		num_or_null(o, "current", p->cg_current, 1);
		num_or_null(o, "high", p->cg_high, 1);
		num_or_null(o, "max", p->cg_max, 1);
		num_or_null(o, "high_events", p->cg_high_events, 0);
		mv_out_str(o, "},");
	} else {
		mv_out_str(o, "null,");
	}
	key(o, "psi_some_avg10");
	if (p->psi_ok)
		mv_out_fixed(o, p->some_avg10 / 100.0, 2);
	else
		mv_out_str(o, "null");
	mv_out_char(o, ',');
	key(o, "psi_full_avg10");
	if (p->psi_ok)
		mv_out_fixed(o, p->full_avg10 / 100.0, 2);
	else
		mv_out_str(o, "null");
	mv_out_char(o, ',');
	num_or_null(o, "rss", a->last_rss, 1);
	num_or_null(o, "free_resident", a->last_free, 1);
	u64_kv(o, "steps", s->steps, 1);
	u64_kv(o, "episodes", s->episodes, 1);
	u64_kv(o, "purges", s->purges, 1);
	u64_kv(o, "purged_bytes", s->purged_bytes, 1);
	u64_kv(o, "skipped_small", s->skipped_small, 1);
	u64_kv(o, "skipped_budget", s->skipped_budget, 1);
	key(o, "quiet_ms");
	if (a->idle_ms && s->activity_seen)
		mv_out_u64(o, s->quiet_ns / 1000000u);
	else
		mv_out_str(o, "null");
	mv_out_char(o, ',');
	u64_kv(o, "idle_purges", s->idle_purges, 1);
	u64_kv(o, "idle_purged_bytes", s->idle_purged_bytes, 1);
	u64_kv(o, "cpu_ns", s->cpu_ns, 0);
	mv_out_str(o, "},");
}

static void frame_text(struct mv_outbuf *o, const struct mv_attrib_frame *f)
{
	if (f->symbol[0]) {
		mv_out_str(o, f->symbol);
		mv_out_char(o, '+');
		mv_out_hex(o, f->offset);
		if (f->object[0]) {
			mv_out_str(o, " (");
			mv_out_str(o, f->object);
			mv_out_char(o, ')');
		}
	} else if (f->object[0]) {
		mv_out_str(o, f->object);
		mv_out_char(o, '+');
		mv_out_hex(o, f->offset);
	} else {
		mv_out_hex(o, f->pc);
	}
}

static void attrib_obj(struct mv_outbuf *o, const struct mv_attrib_report *a)
{
	key(o, "attribution");
	if (!a) {
		mv_out_str(o, "{\"enabled\":false},");
		return;
	}
	mv_out_str(o, "{\"enabled\":true,");
	str_or_null(o, "unwinder", mv_unwind_library(), 1);
	u64_kv(o, "every", a->every, 1);
	u64_kv(o, "every_bytes", a->bytes_every, 1);
	u64_kv(o, "samples", a->samples, 1);
	u64_kv(o, "dropped_samples", a->dropped_samples, 1);
	u64_kv(o, "dropped_calls", a->dropped_calls, 1);
	u64_kv(o, "calls", a->total_calls, 1);
	u64_kv(o, "bytes", a->total_bytes, 1);
	u64_kv(o, "stacks", (uint64_t)a->distinct, 1);
	key(o, "sites");
	mv_out_char(o, '[');
	for (int i = 0; i < a->nsites; i++) {
		const struct mv_attrib_site *s = &a->sites[i];
		if (i)
			mv_out_char(o, ',');
		mv_out_char(o, '{');
		u64_kv(o, "calls", s->calls, 1);
		u64_kv(o, "bytes", s->bytes, 1);
		u64_kv(o, "kernel_ns", s->kernel_ns, 1);
		u64_kv(o, "samples", s->samples, 1);
		key(o, "worker");
		mv_out_str(o, s->worker ? "true," : "false,");
		key(o, "frames");
		mv_out_char(o, '[');
		for (int f = 0; f < s->nframes; f++) {
			const struct mv_attrib_frame *fr = &s->frames[f];
			char pc[24];
			struct mv_outbuf t;
			mv_out_init(&t, pc, sizeof(pc), -1);
			mv_out_hex(&t, fr->pc);
			if (f)
				mv_out_char(o, ',');
			mv_out_char(o, '{');
			str_or_null(o, "pc", mv_out_cstr(&t), 1);
			str_or_null(o, "object", fr->object[0] ? fr->object : NULL, 1);
			str_or_null(o, "symbol", fr->symbol[0] ? fr->symbol : NULL, 1);
			u64_kv(o, "offset", fr->offset, 0);
			mv_out_char(o, '}');
		}
		mv_out_str(o, "]}");
	}
	mv_out_str(o, "],");
	static const char *const lists[] = { "top_by_calls", "top_by_bytes", "top_by_kernel_ns" };
	const int *idx[] = { a->by_calls, a->by_bytes, a->by_time };
	for (int l = 0; l < 3; l++) {
		key(o, lists[l]);
		mv_out_char(o, '[');
		for (int i = 0; i < a->top; i++) {
			if (i)
				mv_out_char(o, ',');
			mv_out_i64(o, idx[l][i]);
		}
		mv_out_str(o, l < 2 ? "]," : "]");
	}
	mv_out_str(o, "},");
}

static void bytes_h(struct mv_outbuf *o, int64_t b)
{
	static const char *const unit[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	double v = (double)b;
	int u = 0;
	if (b < 0) {
		mv_out_char(o, '-');
		return;
	}
	while (v >= 1024 && u < 4) {
		v /= 1024;
		u++;
	}
	mv_out_fixed(o, v, u ? 1 : 0);
	mv_out_str(o, unit[u]);
}

static void attrib_text(struct mv_outbuf *o, const struct mv_attrib_report *a)
{
	static const char *const what[] = { "calls", "bytes", "kernel time" };
	if (!a)
		return;
	mv_out_str(o, "madvisor: purge attribution: ");
	mv_out_u64(o, a->samples);
	mv_out_str(o, " samples (");
	if (a->bytes_every) {
		mv_out_str(o, "one per ");
		bytes_h(o, (int64_t)a->bytes_every);
		mv_out_str(o, " purged");
	} else {
		mv_out_str(o, "1 in ");
		mv_out_u64(o, a->every);
		mv_out_str(o, " purge calls");
	}
	mv_out_str(o, ") standing for ");
	mv_out_u64(o, a->total_calls);
	mv_out_str(o, " calls, ");
	bytes_h(o, (int64_t)a->total_bytes);
	mv_out_str(o, "; ");
	mv_out_u64(o, (uint64_t)a->distinct);
	mv_out_str(o, " distinct stacks");
	if (a->dropped_samples) {
		mv_out_str(o, ", ");
		mv_out_u64(o, a->dropped_samples);
		mv_out_str(o, " samples dropped (table full)");
	}
	mv_out_char(o, '\n');
	const int *idx[] = { a->by_calls, a->by_bytes, a->by_time };
	for (int l = 0; l < 3; l++) {
		mv_out_str(o, "madvisor:   top by ");
		mv_out_str(o, what[l]);
		mv_out_str(o, ":\n");
		for (int i = 0; i < a->top; i++) {
			if (idx[l][i] < 0)
				continue;
			const struct mv_attrib_site *s = &a->sites[idx[l][i]];
			mv_out_str(o, "madvisor:   ");
			mv_out_pad_u64(o, s->calls, 9);
			mv_out_str(o, " calls ");
			char tmp[32];
			struct mv_outbuf t;
			mv_out_init(&t, tmp, sizeof(tmp), -1);
			bytes_h(&t, (int64_t)s->bytes);
			mv_out_pad_str(o, "", 10 - (int)t.len);
			mv_out_str(o, mv_out_cstr(&t));
			mv_out_init(&t, tmp, sizeof(tmp), -1);
			mv_out_fixed(&t, (double)s->kernel_ns / 1e6, 2);
			mv_out_pad_str(o, "", 10 - (int)t.len);
			mv_out_str(o, mv_out_cstr(&t));
			mv_out_str(o, " ms  ");
			if (s->worker)
				mv_out_str(o, "(madvisor's worker: allocator-wide purge)");
			/* The innermost two frames, then the first caller outside
			 * the object that made the call (the allocator, typically). */
			int outside = -1;
			for (int f = 2; f < s->nframes && outside < 0; f++)
				if (strcmp(s->frames[f].object, s->frames[0].object))
					outside = f;
			for (int f = 0; f < s->nframes && f < 2; f++) {
				if (f)
					mv_out_str(o, " < ");
				frame_text(o, &s->frames[f]);
			}
			if (outside > 2)
				mv_out_str(o, " < ...");
			if (outside >= 2) {
				mv_out_str(o, " < ");
				frame_text(o, &s->frames[outside]);
			}
			mv_out_char(o, '\n');
		}
	}
}

void mv_report_text_alloc(struct mv_outbuf *o, const struct mv_report *r)
{
	const struct mv_alloc_report *a = &r->alloc_api;
	if (!a->bound)
		return;
	if (a->have_stats) {
		const struct mv_alloc_stats *s = &a->stats;
		mv_out_str(o, "madvisor: allocator: resident ");
		bytes_h(o, s->resident);
		mv_out_str(o, ", allocated ");
		bytes_h(o, s->allocated);
		mv_out_str(o, ", mapped ");
		bytes_h(o, s->mapped);
		mv_out_str(o, ", retained ");
		bytes_h(o, s->retained);
		mv_out_str(o, ", dirty ");
		bytes_h(o, s->dirty);
		mv_out_str(o, ", muzzy ");
		bytes_h(o, s->muzzy);
		mv_out_str(o, ", purgeable ");
		bytes_h(o, s->free_resident);
		mv_out_char(o, '\n');
	}
	if (a->nknobs) {
		mv_out_str(o, "madvisor: allocator knobs:");
		for (int i = 0; i < a->nknobs; i++) {
			const struct mv_alloc_knob_value *k = &a->knobs[i];
			mv_out_str(o, i ? ", " : " ");
			mv_out_str(o, k->key);
			mv_out_char(o, '=');
			if (k->known)
				mv_out_i64(o, k->value);
			else
				mv_out_char(o, '?');
			if (k->requested)
				mv_out_str(o, k->applied ? " (set)" : " (refused)");
		}
		mv_out_char(o, '\n');
	}
	if (a->purges) {
		mv_out_str(o, "madvisor: allocator-wide purges by madvisor: ");
		mv_out_u64(o, a->purges);
		mv_out_str(o, " (");
		mv_out_str(o, a->purge_name);
		mv_out_str(o, "), ");
		mv_out_fixed(o, (double)a->purge_ns / 1e6, 3);
		mv_out_str(o, " ms\n");
	}
	const struct mv_adaptive_report *ad = &r->adaptive;
	if (ad->enabled) {
		mv_out_str(o, "madvisor: adaptive: ");
		mv_out_str(o, ad->state.purging ? "purging" : "relaxed");
		mv_out_str(o, ", pressure episodes ");
		mv_out_u64(o, ad->state.episodes);
		mv_out_str(o, " (last: ");
		mv_out_str(o, mv_adapt_reason_name(ad->state.reason));
		mv_out_str(o, "), purges ");
		mv_out_u64(o, ad->state.purges);
		mv_out_str(o, " releasing ");
		bytes_h(o, (int64_t)ad->state.purged_bytes);
		mv_out_str(o, ", skipped ");
		mv_out_u64(o, ad->state.skipped_small);
		mv_out_str(o, " (little to purge) + ");
		mv_out_u64(o, ad->state.skipped_budget);
		mv_out_str(o, " (CPU budget), ");
		if (ad->idle_ms) {
			mv_out_str(o, "idle returns ");
			mv_out_u64(o, ad->state.idle_purges);
			mv_out_str(o, " releasing ");
			bytes_h(o, (int64_t)ad->state.idle_purged_bytes);
			mv_out_str(o, ", ");
		}
		mv_out_str(o, "controller CPU ");
		mv_out_fixed(o, (double)ad->state.cpu_ns / 1e6, 1);
		mv_out_str(o, " ms\n");
	}
	attrib_text(o, r->attrib);
	if (a->note && r->allocator->kind != MV_ALLOC_GLIBC) { /* glibc's is printed already */
		mv_out_str(o, "madvisor: note: ");
		mv_out_str(o, a->note);
		mv_out_char(o, '\n');
	}
}
