/* adaptive.h - purge the allocator as a whole when memory is wanted back.
 *
 * A worker task reads memory pressure (pressure.h), the process's RSS and the
 * allocator's free-but-resident bytes every adaptive.interval_ms. Without
 * pressure it does nothing: the allocator keeps its own (lazy) purging. When
 * PSI "some" avg10 reaches adaptive.psi_high, the cgroup nears memory.high or
 * memory.max (or memory.events counts a new "high" breach), or the RSS passes
 * adaptive.target_rss, it enters the purging state and makes one
 * allocator-wide purge per interval while at least adaptive.min_free is
 * purgeable. It leaves that state when every signal has been calm (PSI below
 * adaptive.psi_low, cgroup below 85% of high and 80% of max, RSS below 90%
 * of the target) for adaptive.hold_ms. The worker's CPU time spent on
 * reading the allocator and purging is held to adaptive.cpu_budget per mille
 * of one CPU by a token bucket (at most 2 s of budget saved up).
 *
 * With adaptive.idle_ms, it also returns idle memory: every reading takes a
 * fingerprint of the allocator's activity (its allocation counters, see
 * api.h); once the fingerprint has not changed for idle_ms, one
 * allocator-wide purge gives back all its free memory (when at least
 * adaptive.min_free of it is purgeable), and nothing more happens until the
 * fingerprint moves again. A busy allocator is never purged for idleness.
 *
 * With adaptive.eager (the default), entering the purging state also
 * switches allocators whose allocator-wide purge cannot reach memory other
 * threads hold to their eager setting (mimalloc: purge delay 0; tcmalloc:
 * aggressive decommit) until the state is left, when the previous value is
 * restored.
 *
 * The decision is a pure function of its inputs (mv_adapt_step), so that
 * tests can drive it. */
#ifndef MADVISOR_ADAPTIVE_H
#define MADVISOR_ADAPTIVE_H

#include <stdint.h>
#include "core/options.h"
#include "sys/pressure.h"

struct mv_adapt_cfg {
	uint32_t psi_high, psi_low;   /* hundredths of a percent */
	uint64_t target_rss;          /* bytes; 0 = none */
	uint64_t hold_ns;
	uint64_t min_free;            /* bytes */
	uint32_t cpu_budget;          /* per mille of one CPU */
	uint64_t interval_ns;         /* reading period without pressure */
	uint64_t purge_interval_ns;   /* reading and purging period under pressure */
	uint64_t idle_ns;             /* quiet this long: purge once (idle return); 0 = off */
};

/* One reading. */
struct mv_adapt_in {
	uint64_t now_ns;
	struct mv_pressure p;
	int64_t rss;                  /* bytes; -1 unknown */
	int64_t free_resident;        /* allocator's purgeable bytes; -1 unknown */
	int64_t alloc_resident;       /* allocator's resident bytes; -1 unknown */
	int activity_ok;              /* activity was read */
	uint64_t activity;            /* the allocator's activity fingerprint */
};

/* Why the controller last saw pressure. */
enum mv_adapt_reason {
	MV_ADAPT_NONE, MV_ADAPT_PSI, MV_ADAPT_CG_HIGH, MV_ADAPT_CG_MAX, MV_ADAPT_CG_EVENTS, MV_ADAPT_TARGET,
};

struct mv_adapt_state {
	int purging;                  /* in the purging state */
	uint64_t last_hot_ns;         /* last reading that showed pressure */
	uint64_t last_ns;             /* previous step */
	int64_t tokens_ns;            /* CPU budget left (may go negative) */
	int64_t prev_high_events;
	enum mv_adapt_reason reason;  /* of the last pressure seen */
	uint32_t backoff, skip;       /* intervals to wait after purges that gave nothing back */
	int eager;                    /* the allocator is in its eager setting (adaptive.eager) */
	/* idle return */
	int activity_seen;            /* a fingerprint was read */
	int returned;                 /* purged (or skipped) since the last activity */
	uint64_t activity;            /* the last fingerprint */
	uint64_t active_ns;           /* when it last changed */
	uint64_t quiet_ns;            /* how long it had not changed at the last step */
	/* counters for reports */
	uint64_t steps, episodes, purges, skipped_budget, skipped_small;
	uint64_t cpu_ns, purged_bytes;
	uint64_t idle_purges, idle_purged_bytes;
};

/* WAIT: nothing to do; PURGE: under pressure; RETURN: the allocator is idle. */
enum mv_adapt_action { MV_ADAPT_WAIT, MV_ADAPT_PURGE, MV_ADAPT_RETURN };

/* Decide for one reading. Updates *s (state and budget). */
enum mv_adapt_action mv_adapt_step(struct mv_adapt_state *s, const struct mv_adapt_cfg *c,
				   const struct mv_adapt_in *in);
/* After a purge: count it and what it released (RSS before - after); when
 * the allocator does not tell its free memory (free_known 0), back off while
 * purges release less than min_free. */
void mv_adapt_purged(struct mv_adapt_state *s, const struct mv_adapt_cfg *c, int64_t released, int free_known);
/* Charge CPU time spent to the budget (and the counters). */
void mv_adapt_charge(struct mv_adapt_state *s, uint64_t cpu_ns);
const char *mv_adapt_reason_name(enum mv_adapt_reason r);

/* What reports show. */
struct mv_adaptive_report {
	int enabled;
	struct mv_adapt_state state;
	struct mv_pressure last;      /* the last reading */
	int64_t last_rss, last_free;
	char psi_path[MV_PATH_MAX];
	char cg_dir[MV_PATH_MAX];
	uint32_t interval_ms;
	uint32_t idle_ms;
};

/* Set the controller up if adaptive:true (the "adaptive" feature's start,
 * route/features.c, which then adds its task to the worker). 0 or -1. */
int mv_adaptive_start(const struct mv_options *o, int fd);
struct mv_task;
extern struct mv_task mv_adaptive_worker_task;
/* Copy the controller's state for a report (consistent snapshot). */
void mv_adaptive_gather(struct mv_adaptive_report *out);

#endif
