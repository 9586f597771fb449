/* adaptive.c - the adaptive purge controller (adaptive.h). */
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include "alloc/adaptive.h"
#include "alloc/api.h"
#include "sys/outbuf.h"
#include "sys/ownsys.h"
#include "sys/worker.h"

#define BACKOFF_MAX 32 /* intervals skipped at most after purges that gave nothing back */

/* ---- the decision ------------------------------------------------------------ */

static void cfg_from(struct mv_adapt_cfg *c, const struct mv_options *o)
{
	c->psi_high = o->adaptive_psi_high;
	c->psi_low = o->adaptive_psi_low < o->adaptive_psi_high ? o->adaptive_psi_low : o->adaptive_psi_high;
	c->target_rss = o->adaptive_target_rss;
	c->hold_ns = (uint64_t)o->adaptive_hold_ms * 1000000u;
	c->min_free = o->adaptive_min_free;
	c->cpu_budget = o->adaptive_cpu_budget;
	c->interval_ns = (uint64_t)o->adaptive_interval_ms * 1000000u;
	c->purge_interval_ns = (uint64_t)o->adaptive_purge_interval_ms * 1000000u;
	c->idle_ns = (uint64_t)o->adaptive_idle_ms * 1000000u;
}

static int64_t pct(int64_t v, int p)
{
	return v / 100 * p + v % 100 * p / 100;
}

/* The first sign of pressure in a reading, or MV_ADAPT_NONE. */
static enum mv_adapt_reason hot(const struct mv_adapt_state *s, const struct mv_adapt_cfg *c,
				const struct mv_adapt_in *in)
{
	const struct mv_pressure *p = &in->p;
	if (p->psi_ok && p->some_avg10 >= c->psi_high)
		return MV_ADAPT_PSI;
	if (p->cg_current >= 0 && p->cg_high > 0 && p->cg_current >= pct(p->cg_high, 95))
		return MV_ADAPT_CG_HIGH;
	if (p->cg_current >= 0 && p->cg_max > 0 && p->cg_current >= pct(p->cg_max, 90))
		return MV_ADAPT_CG_MAX;
	if (p->cg_high_events >= 0 && s->prev_high_events >= 0 && p->cg_high_events > s->prev_high_events)
		return MV_ADAPT_CG_EVENTS;
	if (c->target_rss && in->rss >= 0 && (uint64_t)in->rss > c->target_rss)
		return MV_ADAPT_TARGET;
	return MV_ADAPT_NONE;
}

/* Every signal well below its threshold. */
static int calm(const struct mv_adapt_cfg *c, const struct mv_adapt_in *in)
{
	const struct mv_pressure *p = &in->p;
	if (p->psi_ok && p->some_avg10 >= c->psi_low)
		return 0;
	if (p->cg_current >= 0 && p->cg_high > 0 && p->cg_current >= pct(p->cg_high, 85))
		return 0;
	if (p->cg_current >= 0 && p->cg_max > 0 && p->cg_current >= pct(p->cg_max, 80))
		return 0;
	if (c->target_rss && in->rss >= 0 && (uint64_t)in->rss >= c->target_rss / 10 * 9)
		return 0;
	return 1;
}

static int64_t budget_cap(const struct mv_adapt_cfg *c)
{
	return (int64_t)2000000000 / 1000 * c->cpu_budget; /* 2 s worth */
}

/* Quiet for idle_ns since the fingerprint last moved (this reading too): an
 * idle return is due (the worker then reads the allocator's free memory for
 * mv_adapt_step). */
static int return_due(const struct mv_adapt_state *s, const struct mv_adapt_cfg *c, const struct mv_adapt_in *in)
{
	return c->idle_ns && in->activity_ok && s->activity_seen && !s->returned && in->activity == s->activity &&
	       in->now_ns - s->active_ns >= c->idle_ns;
}

/* The idle return, when the pressure logic has nothing to do. */
static enum mv_adapt_action idle_return(struct mv_adapt_state *s, const struct mv_adapt_cfg *c,
					const struct mv_adapt_in *in)
{
	if (!return_due(s, c, in))
		return MV_ADAPT_WAIT;
	if (in->free_resident >= 0 && (uint64_t)in->free_resident < c->min_free) {
		s->returned = 1; /* nothing worth it: wait for the next quiet period */
		s->skipped_small++;
		return MV_ADAPT_WAIT;
	}
	if (s->tokens_ns <= 0) {
		s->skipped_budget++; /* try again at the next reading */
		return MV_ADAPT_WAIT;
	}
	s->returned = 1;
	return MV_ADAPT_RETURN;
}

/* Any change of the fingerprint is activity: the quiet period starts again. */
static void track_activity(struct mv_adapt_state *s, const struct mv_adapt_cfg *c, const struct mv_adapt_in *in)
{
	if (!c->idle_ns || !in->activity_ok)
		return;
	if (!s->activity_seen || in->activity != s->activity) {
		s->activity_seen = 1;
		s->activity = in->activity;
		s->active_ns = in->now_ns;
		s->returned = 0;
	}
	s->quiet_ns = in->now_ns - s->active_ns;
}

enum mv_adapt_action mv_adapt_step(struct mv_adapt_state *s, const struct mv_adapt_cfg *c,
				   const struct mv_adapt_in *in)
{
	int64_t cap = budget_cap(c);
	if (!s->steps) {
		s->tokens_ns = cap;
		s->prev_high_events = -1;
	} else if (in->now_ns > s->last_ns) {
		uint64_t dt = in->now_ns - s->last_ns;
		s->tokens_ns += (int64_t)(dt / 1000 * c->cpu_budget);
		if (s->tokens_ns > cap)
			s->tokens_ns = cap;
	}
	s->steps++;
	s->last_ns = in->now_ns;
	int due = return_due(s, c, in);
	track_activity(s, c, in);

	enum mv_adapt_reason why = hot(s, c, in);
	s->prev_high_events = in->p.cg_high_events;
	if (why != MV_ADAPT_NONE) {
		s->reason = why;
		if (!s->purging) {
			s->purging = 1;
			s->episodes++;
			s->backoff = 0;
			s->skip = 0;
		}
	}
	if (s->purging && !calm(c, in))
		s->last_hot_ns = in->now_ns;
	if (s->purging && in->now_ns - s->last_hot_ns >= c->hold_ns)
		s->purging = 0;
	if (!s->purging)
		return due ? idle_return(s, c, in) : MV_ADAPT_WAIT;
	uint64_t enough = c->min_free;
	if (in->alloc_resident > 0 && (uint64_t)in->alloc_resident / 16 > enough)
		enough = (uint64_t)in->alloc_resident / 16;
	if (in->free_resident >= 0 && (uint64_t)in->free_resident < enough) {
		s->skipped_small++;
		return MV_ADAPT_WAIT;
	}
	if (s->skip) {
		s->skip--;
		s->skipped_small++;
		return MV_ADAPT_WAIT;
	}
	if (s->tokens_ns <= 0) {
		s->skipped_budget++;
		return MV_ADAPT_WAIT;
	}
	return MV_ADAPT_PURGE;
}

void mv_adapt_charge(struct mv_adapt_state *s, uint64_t cpu_ns)
{
	s->tokens_ns -= (int64_t)cpu_ns;
	s->cpu_ns += cpu_ns;
}

void mv_adapt_purged(struct mv_adapt_state *s, const struct mv_adapt_cfg *c, int64_t released, int free_known)
{
	s->purges++;
	if (released > 0)
		s->purged_bytes += (uint64_t)released;
	/* Without a free-memory figure the only evidence is what a purge gave
	 * back: back off while purges give back less than min_free. */
	if (free_known || (released > 0 && (uint64_t)released >= c->min_free)) {
		s->backoff = s->skip = 0;
		return;
	}
	s->backoff = s->backoff ? (s->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : s->backoff * 2) : 1;
	s->skip = s->backoff;
}

/* After an idle return: count it and what it released. */
static void count_return(struct mv_adapt_state *s, int64_t released)
{
	s->idle_purges++;
	if (released > 0)
		s->idle_purged_bytes += (uint64_t)released;
}

/* The fingerprint read again after a purge: the purge's own effect on the
 * allocator's figures is not the program's activity. */
static void rebase(struct mv_adapt_state *s, uint64_t activity)
{
	if (s->activity_seen)
		s->activity = activity;
}

const char *mv_adapt_reason_name(enum mv_adapt_reason r)
{
	switch (r) {
	case MV_ADAPT_PSI: return "psi";
	case MV_ADAPT_CG_HIGH: return "cgroup_high";
	case MV_ADAPT_CG_MAX: return "cgroup_max";
	case MV_ADAPT_CG_EVENTS: return "cgroup_high_events";
	case MV_ADAPT_TARGET: return "target_rss";
	case MV_ADAPT_NONE: break;
	}
	return "none";
}

/* ---- the worker task ------------------------------------------------------------ */

static struct mv_adapt_cfg cfg;
static struct mv_adaptive_report rep; /* state and last reading; the worker's */
static struct mv_pressure_src src;
static int running;
static int eager;                      /* adaptive.eager */
static void run(void *arg, uint64_t now);
struct mv_task mv_adaptive_worker_task = { .name = "adaptive", .run = run };

static uint64_t thread_cpu_ns(void)
{
	struct timespec ts;
	if (mv_own2(SYS_clock_gettime, CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Resident bytes from /proc/self/statm (second field, in pages). */
static int64_t rss_bytes(void)
{
	char buf[128];
	long fd = mv_own4(SYS_openat, AT_FDCWD, "/proc/self/statm", O_RDONLY | O_CLOEXEC, 0);
	if (mv_raw_failed(fd))
		return -1;
	long n = mv_own3(SYS_read, fd, buf, sizeof(buf) - 1);
	mv_own1(SYS_close, fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	const char *p = buf;
	while (*p && *p != ' ')
		p++;
	int64_t pages = 0;
	for (p++; *p >= '0' && *p <= '9'; p++)
		pages = pages * 10 + (*p - '0');
	return pages * 4096;
}

static void run(void *arg, uint64_t now)
{
	(void)arg;
	uint64_t c0 = thread_cpu_ns();
	struct mv_adapt_in in = { .now_ns = now, .free_resident = -1, .alloc_resident = -1 };
	mv_pressure_read(&src, &in.p);
	in.rss = rss_bytes();
	if (cfg.idle_ns)
		in.activity_ok = mv_alloc_activity(&in.activity) == 0;
	/* The allocator's figures cost locks inside it: read them only when a
	 * purge is being considered. */
	int need = rep.state.purging || hot(&rep.state, &cfg, &in) != MV_ADAPT_NONE ||
		   return_due(&rep.state, &cfg, &in);
	if (need) {
		struct mv_alloc_stats st;
		if (mv_alloc_stats(&st) == 0) {
			in.free_resident = st.free_resident;
			in.alloc_resident = st.resident;
		}
	}
	int was = rep.state.purging;
	enum mv_adapt_action a = mv_adapt_step(&rep.state, &cfg, &in);
	if (eager && was != rep.state.purging && mv_alloc_pressure(rep.state.purging) > 0)
		rep.state.eager = rep.state.purging;
	rep.last = in.p;
	rep.last_rss = in.rss;
	rep.last_free = in.free_resident;
	if (a != MV_ADAPT_WAIT) {
		mv_alloc_purge();
		int64_t after = rss_bytes();
		int64_t released = in.rss >= 0 && after >= 0 ? in.rss - after : 0;
		if (a == MV_ADAPT_PURGE)
			mv_adapt_purged(&rep.state, &cfg, released, in.free_resident >= 0);
		else
			count_return(&rep.state, released);
		uint64_t fp;
		if (cfg.idle_ns && mv_alloc_activity(&fp) == 0)
			rebase(&rep.state, fp);
		rep.last_rss = after;
	}
	if (need || a != MV_ADAPT_WAIT || cfg.idle_ns)
		mv_adapt_charge(&rep.state, thread_cpu_ns() - c0);
	/* The worker reads the period after this returns. */
	mv_adaptive_worker_task.period_ns = rep.state.purging ? cfg.purge_interval_ns : cfg.interval_ns;
}

int mv_adaptive_start(const struct mv_options *o, int fd)
{
	(void)fd;
	if (!o->adaptive)
		return 0;
	if (!mv_alloc_backend() || !mv_alloc_backend()->purge) {
		if (!(mv_alloc_info() && mv_alloc_info()->stripped)) /* that line says it all */
			mv_out_say(2, 0, "the controller stays off", "adaptive: no allocator API to purge through", NULL);
		return -1;
	}
	cfg_from(&cfg, o);
	mv_pressure_setup(&src, o->adaptive_pressure_file, o->adaptive_cgroup_dir);
	memcpy(rep.psi_path, src.psi_path, sizeof(rep.psi_path));
	memcpy(rep.cg_dir, src.cg_dir, sizeof(rep.cg_dir));
	rep.interval_ms = o->adaptive_interval_ms;
	rep.idle_ms = o->adaptive_idle_ms;
	eager = o->adaptive_eager;
	rep.enabled = 1;
	rep.last_rss = rep.last_free = -1;
	mv_adaptive_worker_task.period_ns = cfg.interval_ns;
	running = 1;
	return 0;
}

void mv_adaptive_gather(struct mv_adaptive_report *out)
{
	if (!running) {
		memset(out, 0, sizeof(*out));
		return;
	}
	*out = rep;
}
