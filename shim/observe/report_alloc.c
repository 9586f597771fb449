/* report_alloc.c - the allocator integration's sections of the reports:
 * "allocator_api" (figures and knobs read from the allocator) in JSON and
 * the table. Fields are documented in README.md and docs/stats.schema.json. */
#include "observe/report.h"
#include <string.h>
#include "sys/emit.h"

static void stats_obj(struct mv_emit *e, const struct mv_alloc_stats *s)
{
	mv_emit_object(e, "stats");
	mv_emit_count(e, "resident", s->resident);
	mv_emit_count(e, "active", s->active);
	mv_emit_count(e, "allocated", s->allocated);
	mv_emit_count(e, "mapped", s->mapped);
	mv_emit_count(e, "retained", s->retained);
	mv_emit_count(e, "dirty", s->dirty);
	mv_emit_count(e, "muzzy", s->muzzy);
	mv_emit_count(e, "free_resident", s->free_resident);
	mv_emit_object(e, "raw");
	for (int i = 0; i < s->nprops; i++)
		mv_emit_u64(e, s->props[i].name, s->props[i].value);
	mv_emit_end(e);
	mv_emit_end(e);
}

static void api_obj(struct mv_emit *e, const struct mv_alloc_report *a)
{
	mv_emit_object(e, "allocator_api");
	mv_emit_bool(e, "available", a->bound);
	mv_emit_str(e, "purge", a->purge_name);
	mv_emit_str(e, "note", a->note);
	if (a->have_stats)
		stats_obj(e, &a->stats);
	else
		mv_emit_null(e, "stats");
	mv_emit_object(e, "knobs");
	for (int i = 0; i < a->nknobs; i++) {
		const struct mv_alloc_knob_value *k = &a->knobs[i];
		mv_emit_object(e, k->key);
		if (k->known)
			mv_emit_i64(e, "value", k->value);
		else
			mv_emit_null(e, "value");
		mv_emit_bool(e, "requested", k->requested);
		mv_emit_bool(e, "applied", k->applied);
		mv_emit_end(e);
	}
	mv_emit_end(e);
	mv_emit_u64(e, "purges", a->purges);
	mv_emit_u64(e, "purge_ns", a->purge_ns);
	mv_emit_end(e);
}

static void adaptive_obj(struct mv_emit *e, const struct mv_adaptive_report *a)
{
	mv_emit_object(e, "adaptive");
	mv_emit_bool(e, "enabled", a->enabled);
	if (!a->enabled) {
		mv_emit_end(e);
		return;
	}
	const struct mv_adapt_state *s = &a->state;
	const struct mv_pressure *p = &a->last;
	mv_emit_str(e, "state", s->purging ? "purging" : "relaxed");
	mv_emit_str(e, "reason", mv_adapt_reason_name(s->reason));
	mv_emit_bool(e, "eager", s->eager);
	mv_emit_u64(e, "interval_ms", a->interval_ms);
	mv_emit_u64(e, "idle_ms", a->idle_ms);
	mv_emit_str(e, "psi_file", a->psi_path);
	if (p->cg_version) {
		mv_emit_object(e, "cgroup");
		mv_emit_u64(e, "version", (uint64_t)p->cg_version);
		mv_emit_str(e, "dir", a->cg_dir);
		mv_emit_count(e, "current", p->cg_current);
		mv_emit_count(e, "high", p->cg_high);
		mv_emit_count(e, "max", p->cg_max);
		mv_emit_count(e, "high_events", p->cg_high_events);
		mv_emit_end(e);
	} else {
		mv_emit_null(e, "cgroup");
	}
	if (p->psi_ok) {
		mv_emit_fixed(e, "psi_some_avg10", p->some_avg10 / 100.0, 2);
		mv_emit_fixed(e, "psi_full_avg10", p->full_avg10 / 100.0, 2);
	} else {
		mv_emit_null(e, "psi_some_avg10");
		mv_emit_null(e, "psi_full_avg10");
	}
	mv_emit_count(e, "rss", a->last_rss);
	mv_emit_count(e, "free_resident", a->last_free);
	mv_emit_u64(e, "steps", s->steps);
	mv_emit_u64(e, "episodes", s->episodes);
	mv_emit_u64(e, "purges", s->purges);
	mv_emit_u64(e, "purged_bytes", s->purged_bytes);
	mv_emit_u64(e, "skipped_small", s->skipped_small);
	mv_emit_u64(e, "skipped_budget", s->skipped_budget);
	if (a->idle_ms && s->activity_seen)
		mv_emit_u64(e, "quiet_ms", s->quiet_ns / 1000000u);
	else
		mv_emit_null(e, "quiet_ms");
	mv_emit_u64(e, "idle_purges", s->idle_purges);
	mv_emit_u64(e, "idle_purged_bytes", s->idle_purged_bytes);
	mv_emit_u64(e, "cpu_ns", s->cpu_ns);
	mv_emit_end(e);
}

static void attrib_obj(struct mv_emit *e, const struct mv_attrib_report *a)
{
	mv_emit_object(e, "attribution");
	mv_emit_bool(e, "enabled", a != NULL);
	if (!a) {
		mv_emit_end(e);
		return;
	}
	mv_emit_str(e, "unwinder", mv_unwind_library());
	mv_emit_u64(e, "every", a->every);
	mv_emit_u64(e, "every_bytes", a->bytes_every);
	mv_emit_u64(e, "samples", a->samples);
	mv_emit_u64(e, "dropped_samples", a->dropped_samples);
	mv_emit_u64(e, "dropped_calls", a->dropped_calls);
	mv_emit_u64(e, "calls", a->total_calls);
	mv_emit_u64(e, "bytes", a->total_bytes);
	mv_emit_u64(e, "stacks", (uint64_t)a->distinct);
	mv_emit_array(e, "sites");
	for (int i = 0; i < a->nsites; i++) {
		const struct mv_attrib_site *s = &a->sites[i];
		mv_emit_object(e, NULL);
		mv_emit_u64(e, "calls", s->calls);
		mv_emit_u64(e, "bytes", s->bytes);
		mv_emit_u64(e, "kernel_ns", s->kernel_ns);
		mv_emit_u64(e, "samples", s->samples);
		mv_emit_bool(e, "worker", s->worker);
		mv_emit_array(e, "frames");
		for (int f = 0; f < s->nframes; f++) {
			const struct mv_attrib_frame *fr = &s->frames[f];
			char pc[24];
			struct mv_outbuf t;
			mv_out_init(&t, pc, sizeof(pc), -1);
			mv_out_hex(&t, fr->pc);
			mv_emit_object(e, NULL);
			mv_emit_str(e, "pc", mv_out_cstr(&t));
			mv_emit_str(e, "object", fr->object[0] ? fr->object : NULL);
			mv_emit_str(e, "symbol", fr->symbol[0] ? fr->symbol : NULL);
			mv_emit_u64(e, "offset", fr->offset);
			mv_emit_end(e);
		}
		mv_emit_end(e);
		mv_emit_end(e);
	}
	mv_emit_end(e);
	static const char *const lists[] = { "top_by_calls", "top_by_bytes", "top_by_kernel_ns" };
	const int *idx[] = { a->by_calls, a->by_bytes, a->by_time };
	for (int l = 0; l < 3; l++) {
		mv_emit_array(e, lists[l]);
		for (int i = 0; i < a->top; i++)
			mv_emit_i64(e, NULL, idx[l][i]);
		mv_emit_end(e);
	}
	mv_emit_end(e);
}

void mv_report_json_alloc(struct mv_emit *e, const struct mv_report *r)
{
	api_obj(e, &r->alloc_api);
	adaptive_obj(e, &r->adaptive);
	attrib_obj(e, r->attrib);
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
