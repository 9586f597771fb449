/* report.h - what madvisor saw, as a table for people and JSON for tools. */
#ifndef MADVISOR_REPORT_H
#define MADVISOR_REPORT_H

#include <stdint.h>
#include "core/stats.h"
#include "sys/procstat.h"
#include "core/allocator.h"
#include "core/options.h"
#include "sys/probe.h"
#include "alloc/api.h"
#include "alloc/adaptive.h"
#include "observe/attrib.h"
#include "sys/outbuf.h"
#include "sys/outfile.h"

/* Everything one report shows, gathered once. */
struct mv_report {
	struct mv_stats stats;
	struct mv_procstat mem;
	const struct mv_allocator_info *allocator;
	const struct mv_options *opt;
	const struct mv_probe *kernel;
	long pid;
	char exe[MV_PATH_MAX];
	uint64_t elapsed_ns;
	double ticks_per_sec;
	struct mv_alloc_report alloc_api; /* the allocator's own figures and knobs (report_alloc.c) */
	struct mv_adaptive_report adaptive; /* the adaptive purge controller */
	const struct mv_attrib_report *attrib; /* purge attribution, NULL when off */
};

/* Fill *r from the live process (stats merged from every thread). */
void mv_report_gather(struct mv_report *r, const struct mv_options *opt,
		      const struct mv_allocator_info *alloc, uint64_t start_ns);
/* Estimated time inside the kernel for a row's calls, from its timed calls. */
double mv_report_kernel_ns(const struct mv_report *r, const struct mv_stat_row *row);
/* Write the table or the JSON object to fd: 0, or -1 when a write failed. */
int mv_report_text(const struct mv_report *r, int fd);
int mv_report_json(const struct mv_report *r, int fd);
/* Sections of the allocator integration, inside the JSON object and the
 * table (report_alloc.c), and the whole report in Prometheus text format. */
struct mv_emit;
void mv_report_json_alloc(struct mv_emit *e, const struct mv_report *r);
void mv_report_text_alloc(struct mv_outbuf *o, const struct mv_report *r);
int mv_report_prom(const struct mv_report *r, int fd);

/* At exit: write what the options ask for (stats, stats_text_file, stats_file).
 * Failures print one line each and never stop the program. */
void mv_report_at_exit(const struct mv_options *opt, const struct mv_allocator_info *alloc,
		       uint64_t start_ns);

#endif
