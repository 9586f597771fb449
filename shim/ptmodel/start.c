/* start.c - turning the page-table model and the sweep on, fork, and
 * the "ptmodel" part of the stats report. */
#include "core/hot.h"
#include "core/options.h"
#include "sys/emit.h"
#include "sys/once.h"
#include "sys/procstat.h"
#include "sys/probe.h"
#include "ptmodel/model.h"
#include "ptmodel/hook.h"
#include "ptmodel/sweep.h"
#include "sys/worker.h"

static int enabled;
static uint32_t budget_pct;
static struct mv_task sample_task = { .name = "ptmodel", .period_ns = 200000000u,
				      .run = mv_ptm_sample_task, .arg = &budget_pct };
static struct mv_task sweep_task = { .name = "sweep", .period_ns = 250000000u, .run = mv_sweep_task };

static void say_no_pagemap(int err, const char *then)
{
	mv_out_say(2, err, then, "ptmodel: /proc/self/pagemap cannot be read", NULL);
}

int mv_ptm_enabled(void)
{
	return enabled;
}

/* Whether the sweep can work on this kernel; if not, one line says why. It
 * frees a table with one aligned 2 MiB MADV_DONTNEED (PT_RECLAIM) while a
 * userfaultfd registration holds faults off. */
static int sweep_possible(const struct mv_probe *k, int stderr_fd)
{
	if (!k->pt_reclaim) {
		mv_out_say(stderr_fd, 0, "the sweep stays off", "sweep: ", MV_NO_PT_RECLAIM, NULL);
		return 0;
	}
	if (!k->userfaultfd) {
		mv_sweep_refuse(k->userfaultfd_err, stderr_fd);
		return 0;
	}
	return 1;
}

int mv_ptm_start(const struct mv_options *o, const struct mv_probe *k, int stderr_fd)
{
	if (!o->ptmodel && !o->sweep)
		return 0;
	int pt_reclaim = k->pt_reclaim;
	int r = mv_ptm_init(pt_reclaim);
	if (r == -1) {
		mv_out_say(2, 0, "it stays off", "ptmodel: no memory for the model", NULL);
		return -1;
	}
	if (r < 0) {
		say_no_pagemap(r, o->sweep ? "the page-table model and the sweep stay off" : "the page-table model stays off");
		return -1;
	}
	mv_ptm_pt_reclaim = pt_reclaim;
	budget_pct = o->ptmodel_budget;
	mv_ptm_sample_all(); /* what exists before the first event */
	enabled = 1;
	__atomic_fetch_or(&mv_hot.counting, MV_COUNT_MODEL, __ATOMIC_RELEASE);
	mv_worker_add(&sample_task);
	if (o->sweep && sweep_possible(k, stderr_fd) && mv_sweep_open(o->sweep_max, stderr_fd) == 0) {
		__atomic_store_n(&mv_ptm_exclusive, 1, __ATOMIC_SEQ_CST);
		mv_worker_add(&sweep_task);
	}
	return 0;
}

void mv_ptm_atfork_child(void)
{
	if (!enabled)
		return;
	int r = mv_ptm_pagemap_reopen();
	if (r < 0 && mv_once(MV_ONCE_PAGEMAP))
		say_no_pagemap(r, "samples and the sweep skip every region in this process");
	mv_ptm_on_fork_child();
	mv_sweep_atfork_child(); /* the worker starts again after every child handler (preload/init.c) */
}

static void gather(struct mv_ptm_totals *t, struct mv_procstat *ps)
{
	mv_ptm_sample_all();
	mv_ptm_totals(t);
	mv_procstat_read(ps);
}

void mv_ptm_report_json(struct mv_emit *e)
{
	if (!enabled)
		return;
	struct mv_ptm_totals t;
	struct mv_procstat ps;
	struct mv_sweep_stats sw;
	gather(&t, &ps);
	mv_sweep_stats(&sw);
	mv_emit_object(e, "ptmodel");
	mv_emit_u64(e, "page_table_bytes", t.bytes);
	mv_emit_u64(e, "pte_tables", t.pte_tables);
	mv_emit_u64(e, "pmd_tables", t.pmd_tables);
	mv_emit_u64(e, "pud_tables", t.pud_tables);
	mv_emit_u64(e, "stranded_tables", t.stranded);
	mv_emit_u64(e, "reclaimable_bytes", t.reclaimable);
	mv_emit_count(e, "vm_pte_bytes", ps.vm_pte_kb < 0 ? -1 : (int64_t)ps.vm_pte_kb * 1024);
	mv_emit_u64(e, "model_bytes", mv_ptm_bytes());
	mv_emit_u64(e, "events", mv_ptm_events());
	mv_emit_u64(e, "samples", mv_ptm_samples());
	mv_emit_u64(e, "sample_cpu_ns", mv_ptm_sample_cpu_ns());
	mv_emit_object(e, "sweep");
	mv_emit_bool(e, "active", sw.active);
	mv_emit_u64(e, "passes", sw.passes);
	mv_emit_u64(e, "registrations", sw.registrations);
	mv_emit_u64(e, "swept", sw.swept);
	mv_emit_u64(e, "skipped_live", sw.skipped_live);
	mv_emit_u64(e, "register_failed", sw.register_failed);
	mv_emit_u64(e, "zap_failed", sw.zap_failed);
	mv_emit_u64(e, "unregister_failed", sw.unregister_failed);
	mv_emit_end(e);
	mv_emit_end(e);
}

void mv_ptm_report_text(struct mv_outbuf *o)
{
	if (!enabled)
		return;
	struct mv_ptm_totals t;
	struct mv_procstat ps;
	struct mv_sweep_stats sw;
	gather(&t, &ps);
	mv_sweep_stats(&sw);
	mv_out_str(o, "madvisor: page tables (model): ");
	mv_out_u64(o, t.bytes / 1024);
	mv_out_str(o, " kB (VmPTE ");
	mv_out_i64(o, ps.vm_pte_kb);
	mv_out_str(o, " kB), ");
	mv_out_u64(o, t.pte_tables);
	mv_out_str(o, " PTE tables, ");
	mv_out_u64(o, t.stranded);
	mv_out_str(o, " stranded (");
	mv_out_u64(o, t.reclaimable / 1024);
	mv_out_str(o, " kB reclaimable)");
	if (sw.active) {
		mv_out_str(o, ", swept ");
		mv_out_u64(o, sw.swept);
		mv_out_str(o, ", skipped live ");
		mv_out_u64(o, sw.skipped_live);
	}
	mv_out_char(o, '\n');
}
