/* hook.h - the page-table model's entry points for the library.
 *
 * mv_handle() calls mv_ptm_before() and mv_ptm_after() around every call
 * when the model is on (mv_hot.counting has MV_COUNT_MODEL set and
 * mv_ptm_ready()); the worker
 * samples /proc/self/maps and pagemap within a CPU budget and, when the
 * sweep is on, reclaims stranded tables (sweep.h). */
#ifndef MADVISOR_PTMODEL_HOOK_H
#define MADVISOR_PTMODEL_HOOK_H

#include <stdint.h>
#include "core/request.h"
#include "ptmodel/model.h"

#define MV_COUNT_MODEL 2 /* bit of mv_hot.counting: the model's hooks and/or the trace */

extern int mv_ptm_pt_reclaim;  /* the kernel frees tables on aligned 2 MiB DONTNEED */
extern int mv_ptm_exclusive;   /* address-space calls wait for the sweep */

/* Before the call; returns whether mv_ptm_after must leave an exclusion. */
int mv_ptm_before(const struct mv_request *q);
void mv_ptm_after(const struct mv_request *q, long result, int excl);

/* --- sampling (sample.c) --- */
/* Run one full pass now, whatever the budget (tests, the report). */
void mv_ptm_sample_all(void);
/* Completed passes and CPU time spent sampling. */
uint64_t mv_ptm_samples(void);
uint64_t mv_ptm_sample_cpu_ns(void);
/* In a fork child: the next pass drops tables fork did not copy. */
void mv_ptm_sample_after_fork(void);
/* The worker's task: a pass, continued across runs within budget_pct % of one CPU. */
void mv_ptm_sample_task(void *arg, uint64_t now_ns);

/* --- start-up (start.c) --- */
struct mv_options;
struct mv_probe;
/* Turn the model (and the sweep) on as the options say, for the kernel k
 * (probe.h). 0, or -1 with one line on stderr_fd (the model then stays off);
 * a sweep this kernel cannot run stays off with one line. */
int mv_ptm_start(const struct mv_options *o, const struct mv_probe *k, int stderr_fd);
void mv_ptm_atfork_child(void);
int mv_ptm_enabled(void);
/* The report's "ptmodel" member (JSON, through the emitter) and text line; a
 * final sample first. Nothing when the model is off. */
struct mv_outbuf;
struct mv_emit;
void mv_ptm_report_json(struct mv_emit *e);
void mv_ptm_report_text(struct mv_outbuf *o);

#endif
