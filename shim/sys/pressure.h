/* pressure.h - how much the system wants memory back.
 *
 * Pressure stall information (/proc/pressure/memory: the share of time
 * tasks waited for memory, "some" and "full", averaged over 10 s) and the
 * process's memory cgroup: v2 memory.current, memory.high, memory.max and
 * the "high" count in memory.events; v1 memory.usage_in_bytes,
 * memory.soft_limit_in_bytes (read as "high") and memory.limit_in_bytes.
 * Everything is read with raw system calls into stack buffers (no malloc),
 * on the worker thread. */
#ifndef MADVISOR_PRESSURE_H
#define MADVISOR_PRESSURE_H

#include <stddef.h>
#include <stdint.h>
#include "sys/outfile.h" /* MV_PATH_MAX */

struct mv_pressure {
	int psi_ok;               /* the PSI file was read */
	uint32_t some_avg10;      /* hundredths of a percent */
	uint32_t full_avg10;
	int cg_version;           /* 0: no memory cgroup found, 1 or 2 */
	int64_t cg_current;       /* bytes; -1 unknown */
	int64_t cg_high;          /* bytes; -1 none ("max") */
	int64_t cg_max;           /* bytes; -1 none */
	int64_t cg_high_events;   /* v2 memory.events "high"; -1 unknown */
};

/* Where to read from. */
struct mv_pressure_src {
	char psi_path[MV_PATH_MAX];  /* /proc/pressure/memory or a test file */
	char cg_dir[MV_PATH_MAX];    /* "" when no memory cgroup is known */
	int cg_version;
};

/* Fill *src: the PSI file (override or /proc/pressure/memory) and the
 * cgroup directory (override, else found from /proc/self/cgroup and
 * /proc/self/mountinfo; v2 preferred when it has memory.current). */
void mv_pressure_setup(struct mv_pressure_src *src, const char *psi_override, const char *cg_override);
/* Read everything once. Fields not available are -1 / 0. */
void mv_pressure_read(const struct mv_pressure_src *src, struct mv_pressure *out);

/* Parsers (exposed for tests). */
/* "some avg10=1.23 avg60=... total=N\nfull avg10=..." -> hundredths. 0 or -1. */
int mv_psi_parse(const char *text, uint32_t *some_avg10, uint32_t *full_avg10);
/* A number file: decimal bytes, or "max" (-1). Returns -2 when unreadable. */
int64_t mv_cg_parse_value(const char *text);
/* The value of `key` in a "key value" per line file (memory.events), or -1. */
int64_t mv_cg_parse_key(const char *text, const char *key);
/* From /proc/self/cgroup text: the v2 path ("0::/x") and the v1 memory
 * controller's path ("N:memory:/x" or with a comma list). 0 or -1 each. */
int mv_cg_parse_self(const char *text, char *v2, size_t v2cap, char *v1, size_t v1cap);
/* From /proc/self/mountinfo text: the cgroup2 mount point and the v1 mount
 * point of the memory controller ("" when absent). */
void mv_cg_parse_mounts(const char *text, char *v2, size_t v2cap, char *v1, size_t v1cap);

#endif
