/* report_json.c - the stats report as JSON (fields documented in README.md). */
#include <stdbool.h>
#include "observe/report.h"
#include "sys/outbuf.h"
#include <string.h>
#include "mvconfig.h"
#include "core/hot.h"
#include "ptmodel/hook.h"
#include "munmap/munmap.h"

static void key(struct mv_outbuf *o, const char *k)
{
	mv_out_json_str(o, k);
	mv_out_char(o, ':');
}

static void kv_u64(struct mv_outbuf *o, const char *k, uint64_t v, int comma)
{
	key(o, k);
	mv_out_u64(o, v);
	if (comma)
		mv_out_char(o, ',');
}

static void kv_i64(struct mv_outbuf *o, const char *k, int64_t v, int comma)
{
	key(o, k);
	if (v < 0)
		mv_out_str(o, "null");
	else
		mv_out_i64(o, v);
	if (comma)
		mv_out_char(o, ',');
}


static void config_obj(struct mv_outbuf *o, const struct mv_options *opt)
{
	mv_out_char(o, '{');
	for (int i = 0; i < MV_OPT_COUNT; i++) {
		const struct mv_option_desc *d = &mv_option_table[i];
		const char *field = (const char *)opt + d->offset;
		if (i)
			mv_out_char(o, ',');
		key(o, d->name);
		if ((d->flags & MV_OPT_F_UNSET) && opt->source[i] == MV_SRC_DEFAULT) {
			mv_out_str(o, "null"); /* not set: the allocator's own value */
			continue;
		}
		switch (d->type) {
		case MV_T_BOOL:
			mv_out_str(o, *(const bool *)field ? "true" : "false");
			break;
		case MV_T_UINT: {
			uint64_t v = 0;
			if (d->size == sizeof(uint32_t))
				v = *(const uint32_t *)field;
			else if (d->size == sizeof(uint64_t))
				v = *(const uint64_t *)field;
			mv_out_u64(o, v);
			break;
		}
		case MV_T_STRING:
			mv_out_json_str(o, field);
			break;
		case MV_T_ENUM:
			mv_out_json_str(o, mv_option_choice(d, opt));
			break;
		}
	}
	mv_out_char(o, '}');
}

static void kv_bool(struct mv_outbuf *o, const char *k, int v)
{
	key(o, k);
	mv_out_str(o, v ? "true," : "false,");
}

static void kv_str(struct mv_outbuf *o, const char *k, const char *v)
{
	key(o, k);
	mv_out_json_str(o, v);
	mv_out_char(o, ',');
}

static void allocator_obj(struct mv_outbuf *o, const struct mv_allocator_info *a)
{
	key(o, "allocator");
	mv_out_char(o, '{');
	kv_str(o, "name", mv_allocator_name(a->kind));
	kv_str(o, "library", a->library);
	kv_bool(o, "purges_visible", mv_allocator_purges_visible(a->kind));
	kv_str(o, "found_by", mv_allocator_found_name(a->found_by));
	kv_str(o, "prefix", a->prefix);
	kv_bool(o, "in_executable", a->in_executable);
	key(o, "stripped");
	mv_out_str(o, a->stripped == MV_HIDDEN_STRIPPED ? "true}," : "false},");
}

static void kernel_obj(struct mv_outbuf *o, const struct mv_probe *p)
{
	key(o, "kernel");
	mv_out_char(o, '{');
	key(o, "version");
	mv_out_char(o, '"');
	mv_out_i64(o, p->kernel_major);
	mv_out_char(o, '.');
	mv_out_i64(o, p->kernel_minor);
	mv_out_str(o, "\",");
	kv_bool(o, "madv_free", p->madv_free);
	kv_bool(o, "pt_reclaim", p->pt_reclaim);
	kv_bool(o, "process_madvise_self", p->process_madvise_self);
	kv_bool(o, "pidfd_self", p->pidfd_self);
	kv_bool(o, "vma_lock_madvise", p->vma_lock_madvise);
	kv_bool(o, "userfaultfd", p->userfaultfd);
	kv_bool(o, "mseal", p->mseal);
	key(o, "thp");
	mv_out_json_str(o, mv_probe_thp_name(p->thp));
	mv_out_str(o, "},");
}

static void policy_obj(struct mv_outbuf *o, const struct mv_report *r)
{
	key(o, "policy");
	mv_out_char(o, '{');
	key(o, "madvise");
	mv_out_json_str(o, mv_madvise_mode_name(mv_hot.policy.madvise_mode));
	mv_out_char(o, ',');
	kv_bool(o, "pt_reclaim", mv_hot.policy.pt_reclaim);
	for (int i = 0; i < MV_POL_COUNT; i++)
		kv_u64(o, mv_stats_policy_name(i), r->stats.policy[i], i + 1 < MV_POL_COUNT);
	mv_out_str(o, "},");
}

static void row_obj(struct mv_outbuf *o, const struct mv_report *r, int i)
{
	const struct mv_stat_row *row = &r->stats.row[i];
	mv_out_char(o, '{');
	key(o, "kind");
	mv_out_json_str(o, mv_stats_row_kind(i));
	mv_out_char(o, ',');
	key(o, "detail");
	mv_out_json_str(o, mv_stats_row_detail(i));
	mv_out_char(o, ',');
	if (i < MV_ROW_POSIX_MADVISE) {
		int adv = mv_stats_row_advice(i < MV_ROW_PROCESS_MADVISE ? i - MV_ROW_MADVISE
									 : i - MV_ROW_PROCESS_MADVISE);
		key(o, "advice");
		if (adv < 0)
			mv_out_str(o, "null");
		else
			mv_out_i64(o, adv);
		mv_out_char(o, ',');
	}
	kv_u64(o, "calls", row->calls, 1);
	kv_u64(o, "errors", row->errors, 1);
	kv_u64(o, "ranges", row->ranges, 1);
	kv_u64(o, "bytes", row->bytes, 1);
	kv_u64(o, "kernel_ns", (uint64_t)mv_report_kernel_ns(r, row), 1);
	kv_u64(o, "timed_calls", row->timed, 1);
	kv_u64(o, "pmd_ranges", row->pmd_calls, 1);
	key(o, "hist");
	mv_out_char(o, '[');
	int first = 1;
	for (int b = 0; b < MV_HIST_BUCKETS; b++) {
		if (!row->hist[b])
			continue;
		if (!first)
			mv_out_char(o, ',');
		first = 0;
		mv_out_char(o, '{');
		kv_u64(o, "min_bytes", mv_stats_bucket_floor(b), 1);
		kv_u64(o, "count", row->hist[b], 0);
		mv_out_char(o, '}');
	}
	mv_out_str(o, "]}");
}

static void totals_obj(struct mv_outbuf *o, const struct mv_report *r)
{
	static const char *const kinds[] = { "madvise", "process_madvise", "posix_madvise", "munmap",
					     "mmap", "mremap", "mprotect" };
	mv_out_char(o, '{');
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
		if (k)
			mv_out_char(o, ',');
		key(o, kinds[k]);
		mv_out_char(o, '{');
		kv_u64(o, "calls", sum.calls, 1);
		kv_u64(o, "errors", sum.errors, 1);
		kv_u64(o, "bytes", sum.bytes, 1);
		kv_u64(o, "kernel_ns", (uint64_t)ns, 0);
		mv_out_char(o, '}');
	}
	mv_out_char(o, '}');
}

int mv_report_json(const struct mv_report *r, int fd)
{
	char buf[4096];
	struct mv_outbuf o;
	mv_out_init(&o, buf, sizeof(buf), fd);
	mv_out_char(&o, '{');
	key(&o, "madvisor");
	mv_out_json_str(&o, PACKAGE_VERSION);
	mv_out_char(&o, ',');
	kv_i64(&o, "pid", r->pid, 1);
	key(&o, "exe");
	mv_out_json_str(&o, r->exe);
	mv_out_char(&o, ',');
	kv_u64(&o, "elapsed_ns", r->elapsed_ns, 1);
	allocator_obj(&o, r->allocator);
	kernel_obj(&o, r->kernel);
	policy_obj(&o, r);
	mv_ptm_report_json(&o);
	mv_munmap_report_json(&o);
	key(&o, "config");
	config_obj(&o, r->opt);
	mv_out_char(&o, ',');
	key(&o, "calls");
	mv_out_char(&o, '[');
	int first = 1;
	for (int i = 0; i < MV_ROW_COUNT; i++) {
		if (!r->stats.row[i].calls)
			continue;
		if (!first)
			mv_out_char(&o, ',');
		first = 0;
		row_obj(&o, r, i);
	}
	mv_out_str(&o, "],");
	key(&o, "totals");
	totals_obj(&o, r);
	mv_out_char(&o, ',');
	mv_report_json_alloc(&o, r);
	key(&o, "memory");
	mv_out_char(&o, '{');
	kv_i64(&o, "vm_rss_kb", r->mem.vm_rss_kb, 1);
	kv_i64(&o, "vm_hwm_kb", r->mem.vm_hwm_kb, 1);
	kv_i64(&o, "vm_pte_kb", r->mem.vm_pte_kb, 1);
	kv_i64(&o, "vm_size_kb", r->mem.vm_size_kb, 0);
	mv_out_str(&o, "}}\n");
	return mv_out_flush(&o);
}
