/* procstat.h - the process's own memory figures from /proc/self/status, and
 * its page-fault count from /proc/self/stat. */
#ifndef MADVISOR_PROCSTAT_H
#define MADVISOR_PROCSTAT_H

#include <stdint.h>

struct mv_procstat {
	int64_t vm_rss_kb, vm_hwm_kb, vm_pte_kb, vm_size_kb; /* -1 when unavailable */
};

/* Read without malloc or stdio. Returns 0, or -1 (fields -1) if /proc is absent. */
int mv_procstat_read(struct mv_procstat *out);
/* Parse the text of a status file (exposed for tests). */
void mv_procstat_parse(const char *text, struct mv_procstat *out);

/* Minor plus major page faults of the whole process so far. Returns 0, or
 * -1 without /proc. */
int mv_procstat_faults(uint64_t *out);

#endif
