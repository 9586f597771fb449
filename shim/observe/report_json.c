/* report_json.c - the stats report as JSON (fields documented in README.md). */
#include <stdbool.h>
#include "observe/report.h"
#include "sys/emit.h"
#include <string.h>
#include "mvconfig.h"
#include "core/hot.h"

static void config_obj(struct mv_emit *e, const struct mv_options *opt)
{
	mv_emit_object(e, "config");
	for (int i = 0; i < MV_OPT_COUNT; i++) {
		const struct mv_option_desc *d = &mv_option_table[i];
		const char *field = (const char *)opt + d->offset;
		if ((d->flags & MV_OPT_F_UNSET) && opt->source[i] == MV_SRC_DEFAULT) {
			mv_emit_null(e, d->name); /* not set: the allocator's own value */
			continue;
		}
		switch (d->type) {
		case MV_T_BOOL:
			mv_emit_bool(e, d->name, *(const bool *)field);
			break;
		case MV_T_UINT: {
			uint64_t v = 0;
			if (d->size == sizeof(uint32_t))
				v = *(const uint32_t *)field;
			else if (d->size == sizeof(uint64_t))
				v = *(const uint64_t *)field;
			mv_emit_u64(e, d->name, v);
			break;
		}
		case MV_T_STRING:
			mv_emit_str(e, d->name, field);
			break;
		case MV_T_ENUM:
			mv_emit_str(e, d->name, mv_option_choice(d, opt));
			break;
		}
	}
	mv_emit_end(e);
}

static void kernel_obj(struct mv_emit *e, const struct mv_probe *p)
{
	char version[32];
	struct mv_outbuf v;
	mv_out_init(&v, version, sizeof(version), -1);
	mv_out_i64(&v, p->kernel_major);
	mv_out_char(&v, '.');
	mv_out_i64(&v, p->kernel_minor);
	mv_emit_object(e, "kernel");
	mv_emit_str(e, "version", mv_out_cstr(&v));
	mv_emit_bool(e, "madv_free", p->madv_free);
	mv_emit_bool(e, "pt_reclaim", p->pt_reclaim);
	mv_emit_bool(e, "process_madvise_self", p->process_madvise_self);
	mv_emit_bool(e, "pidfd_self", p->pidfd_self);
	mv_emit_bool(e, "vma_lock_madvise", p->vma_lock_madvise);
	mv_emit_bool(e, "userfaultfd", p->userfaultfd);
	mv_emit_bool(e, "mseal", p->mseal);
	mv_emit_str(e, "thp", mv_probe_thp_name(p->thp));
	mv_emit_end(e);
}

static void allocator_obj(struct mv_emit *e, const struct mv_allocator_info *a)
{
	mv_emit_object(e, "allocator");
	mv_emit_str(e, "name", mv_allocator_name(a->kind));
	mv_emit_str(e, "library", a->library);
	mv_emit_bool(e, "purges_visible", mv_allocator_purges_visible(a->kind));
	mv_emit_str(e, "found_by", mv_allocator_found_name(a->found_by));
	mv_emit_str(e, "prefix", a->prefix);
	mv_emit_bool(e, "in_executable", a->in_executable);
	mv_emit_bool(e, "stripped", a->stripped == MV_HIDDEN_STRIPPED);
	mv_emit_end(e);
}

static void policy_obj(struct mv_emit *e, const struct mv_report *r)
{
	mv_emit_object(e, "policy");
	mv_emit_str(e, "madvise", mv_madvise_mode_name(mv_hot.advice.madvise_mode));
	mv_emit_bool(e, "pt_reclaim", mv_hot.advice.pt_reclaim);
	for (int i = 0; i < MV_POL_COUNT; i++)
		mv_emit_u64(e, mv_stats_policy_name(i), r->stats.policy[i]);
	mv_emit_end(e);
}

static void row_obj(struct mv_emit *e, const struct mv_report *r, int i)
{
	const struct mv_stat_row *row = &r->stats.row[i];
	mv_emit_object(e, NULL);
	mv_emit_str(e, "kind", mv_stats_row_kind(i));
	mv_emit_str(e, "detail", mv_stats_row_detail(i));
	if (i < MV_ROW_POSIX_MADVISE)
		mv_emit_count(e, "advice", mv_stats_row_advice(i < MV_ROW_PROCESS_MADVISE ? i - MV_ROW_MADVISE
											   : i - MV_ROW_PROCESS_MADVISE));
	mv_emit_u64(e, "calls", row->calls);
	mv_emit_u64(e, "errors", row->errors);
	mv_emit_u64(e, "ranges", row->ranges);
	mv_emit_u64(e, "bytes", row->bytes);
	mv_emit_u64(e, "kernel_ns", (uint64_t)mv_report_kernel_ns(r, row));
	mv_emit_u64(e, "timed_calls", row->timed);
	mv_emit_u64(e, "pmd_ranges", row->pmd_calls);
	mv_emit_array(e, "hist");
	for (int b = 0; b < MV_HIST_BUCKETS; b++) {
		if (!row->hist[b])
			continue;
		mv_emit_object(e, NULL);
		mv_emit_u64(e, "min_bytes", mv_stats_bucket_floor(b));
		mv_emit_u64(e, "count", row->hist[b]);
		mv_emit_end(e);
	}
	mv_emit_end(e);
	mv_emit_end(e);
}

static void totals_obj(struct mv_emit *e, const struct mv_report *r)
{
	static const char *const kinds[] = { "madvise", "process_madvise", "posix_madvise", "munmap",
					     "mmap", "mremap", "mprotect" };
	mv_emit_object(e, "totals");
	for (unsigned k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
		struct mv_stat_row sum = { 0 };
		double ns = 0;
		for (int i = 0; i < MV_ROW_COUNT; i++) {
			if (strcmp(mv_stats_row_kind(i), kinds[k]))
				continue;
			sum.calls += r->stats.row[i].calls;
			sum.errors += r->stats.row[i].errors;
			sum.bytes += r->stats.row[i].bytes;
			ns += mv_report_kernel_ns(r, &r->stats.row[i]);
		}
		mv_emit_object(e, kinds[k]);
		mv_emit_u64(e, "calls", sum.calls);
		mv_emit_u64(e, "errors", sum.errors);
		mv_emit_u64(e, "bytes", sum.bytes);
		mv_emit_u64(e, "kernel_ns", (uint64_t)ns);
		mv_emit_end(e);
	}
	mv_emit_end(e);
}

int mv_report_json(const struct mv_report *r, int fd)
{
	char buf[4096];
	struct mv_outbuf o;
	struct mv_emit e;
	mv_out_init(&o, buf, sizeof(buf), fd);
	mv_emit_init(&e, &o);
	mv_emit_object(&e, NULL);
	mv_emit_str(&e, "madvisor", PACKAGE_VERSION);
	mv_emit_count(&e, "pid", r->pid);
	mv_emit_str(&e, "exe", r->exe);
	mv_emit_u64(&e, "elapsed_ns", r->elapsed_ns);
	allocator_obj(&e, r->allocator);
	kernel_obj(&e, r->kernel);
	policy_obj(&e, r);
	mv_report_features_json(&e);
	config_obj(&e, r->opt);
	mv_emit_array(&e, "calls");
	for (int i = 0; i < MV_ROW_COUNT; i++)
		if (r->stats.row[i].calls)
			row_obj(&e, r, i);
	mv_emit_end(&e);
	totals_obj(&e, r);
	mv_report_json_alloc(&e, r);
	mv_emit_object(&e, "memory");
	mv_emit_count(&e, "vm_rss_kb", r->mem.vm_rss_kb);
	mv_emit_count(&e, "vm_hwm_kb", r->mem.vm_hwm_kb);
	mv_emit_count(&e, "vm_pte_kb", r->mem.vm_pte_kb);
	mv_emit_count(&e, "vm_size_kb", r->mem.vm_size_kb);
	mv_emit_end(&e);
	mv_emit_end(&e);
	mv_out_char(&o, '\n');
	return mv_out_flush(&o);
}
