/* test_adaptive.c - memory pressure parsing (PSI, cgroup v1/v2 files,
 * /proc/self/cgroup, mountinfo) and the adaptive controller's decisions:
 * quiet without pressure, purging under it, hysteresis, the free-memory
 * floor, back-off and the CPU budget. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "alloc/adaptive.h"
#include "sys/pressure.h"
#include "../tap.h"

#define MS 1000000ull

static struct mv_adapt_cfg cfg(void)
{
	struct mv_adapt_cfg c = { .psi_high = 100, .psi_low = 10, .target_rss = 0, .hold_ns = 1000 * MS,
				  .min_free = 1 << 20, .cpu_budget = 50, .interval_ns = 200 * MS,
				  .purge_interval_ns = 10 * MS };
	return c;
}

static struct mv_adapt_in reading(uint64_t t_ms, uint32_t psi, int64_t free_bytes)
{
	struct mv_adapt_in in;
	memset(&in, 0, sizeof(in));
	in.now_ns = t_ms * MS;
	in.p.psi_ok = 1;
	in.p.some_avg10 = psi;
	in.p.cg_current = in.p.cg_high = in.p.cg_max = in.p.cg_high_events = -1;
	in.rss = 100 << 20;
	in.free_resident = free_bytes;
	in.alloc_resident = -1;
	return in;
}

static void write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	fputs(text, f);
	fclose(f);
}

static void parsers(void)
{
	uint32_t some = 1, full = 1;
	int r = mv_psi_parse("some avg10=12.34 avg60=1.00 avg300=0.00 total=5\n"
			     "full avg10=0.50 avg60=0.00 avg300=0.00 total=1\n", &some, &full);
	tap_ok(r == 0 && some == 1234 && full == 50, "PSI avg10 in hundredths (%u, %u)", some, full);
	tap_ok(mv_psi_parse("some avg10=7 avg60=0\n", &some, &full) == 0 && some == 700 && full == 0,
	       "PSI without decimals, no full line");
	tap_ok(mv_psi_parse("garbage\n", &some, &full) < 0, "text without a some line is refused");
	tap_ok(mv_cg_parse_value("1048576\n") == 1048576 && mv_cg_parse_value("max\n") == -1 &&
		       mv_cg_parse_value("x") == -2, "cgroup value files: number, max, junk");
	tap_ok(mv_cg_parse_key("low 0\nhigh 17\nmax 2\noom 0\n", "high") == 17 &&
		       mv_cg_parse_key("low 0\nhighx 3\n", "high") == -1, "memory.events: the high count");

	char v2[64], v1[64];
	tap_ok(mv_cg_parse_self("12:memory:/a/b\n0::/user.slice/x\n", v2, sizeof(v2), v1, sizeof(v1)) == 0 &&
		       !strcmp(v2, "/user.slice/x") && !strcmp(v1, "/a/b"), "/proc/self/cgroup: v2 and v1 paths");
	tap_ok(mv_cg_parse_self("4:cpu,memory:/m\n", v2, sizeof(v2), v1, sizeof(v1)) == 0 && !v2[0] &&
		       !strcmp(v1, "/m"), "v1 memory in a controller list");
	mv_cg_parse_mounts("30 25 0:26 / /sys/fs/cgroup/unified rw,nosuid shared:4 - cgroup2 cgroup2 rw\n"
			   "35 25 0:31 / /sys/fs/cgroup/memory rw,nosuid shared:9 - cgroup cgroup rw,memory\n"
			   "36 25 0:32 / /sys/fs/cgroup/cpu rw shared:10 - cgroup cgroup rw,cpu\n",
			   v2, sizeof(v2), v1, sizeof(v1));
	tap_ok(!strcmp(v2, "/sys/fs/cgroup/unified") && !strcmp(v1, "/sys/fs/cgroup/memory"),
	       "mountinfo: cgroup2 and the v1 memory mount ('%s', '%s')", v2, v1);

	/* Files: a fake v2 cgroup and a fake PSI file. */
	char dir[] = "/tmp/mv-pressure-XXXXXX";
	tap_ok(mkdtemp(dir) != NULL, "temp dir");
	write_file(dir, "memory.current", "900\n");
	write_file(dir, "memory.high", "1000\n");
	write_file(dir, "memory.max", "max\n");
	write_file(dir, "memory.events", "low 0\nhigh 3\nmax 0\noom 0\noom_kill 0\n");
	write_file(dir, "psi", "some avg10=2.50 avg60=0.00 avg300=0.00 total=9\nfull avg10=0.00 avg60=0 avg300=0 total=0\n");
	char psi[300];
	snprintf(psi, sizeof(psi), "%s/psi", dir);
	struct mv_pressure_src src;
	struct mv_pressure p;
	mv_pressure_setup(&src, psi, dir);
	mv_pressure_read(&src, &p);
	tap_ok(src.cg_version == 2 && p.cg_version == 2 && p.cg_current == 900 && p.cg_high == 1000 &&
		       p.cg_max == -1 && p.cg_high_events == 3, "v2 files read (current, high, max, events)");
	tap_ok(p.psi_ok && p.some_avg10 == 250, "the injected PSI file is read");
	char path[300];
	snprintf(path, sizeof(path), "%s/memory.current", dir);
	unlink(path);
	write_file(dir, "memory.usage_in_bytes", "500\n");
	write_file(dir, "memory.limit_in_bytes", "9223372036854771712\n");
	write_file(dir, "memory.soft_limit_in_bytes", "400\n");
	mv_pressure_setup(&src, psi, dir);
	mv_pressure_read(&src, &p);
	tap_ok(src.cg_version == 1 && p.cg_current == 500 && p.cg_high == 400 && p.cg_max == -1,
	       "v1 files: usage, soft limit as high, an unlimited limit as none");
	snprintf(path, sizeof(path), "%s/nope", dir);
	mv_pressure_setup(&src, path, path);
	mv_pressure_read(&src, &p);
	tap_ok(!p.psi_ok && p.cg_version == 0 && p.cg_current == -1, "missing files: no signal, no error");
	mv_pressure_setup(&src, NULL, NULL);
	tap_ok(!strcmp(src.psi_path, "/proc/pressure/memory"), "default PSI path");
	tap_diag("this process's memory cgroup: v%d '%s'", src.cg_version, src.cg_dir);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	tap_ok(system(cmd) == 0, "cleanup");
}

static void controller(void)
{
	struct mv_adapt_cfg c = cfg();
	struct mv_adapt_state s;
	memset(&s, 0, sizeof(s));
	int purges = 0;
	for (int t = 0; t < 50; t++) {
		struct mv_adapt_in in = reading((uint64_t)t * 200, 5, 50 << 20);
		purges += mv_adapt_step(&s, &c, &in) == MV_ADAPT_PURGE;
	}
	tap_ok(purges == 0 && !s.purging && s.episodes == 0, "no pressure: no purge in 10 s");

	struct mv_adapt_in in = reading(10000, 150, 50 << 20);
	tap_ok(mv_adapt_step(&s, &c, &in) == MV_ADAPT_PURGE && s.purging && s.episodes == 1 &&
		       s.reason == MV_ADAPT_PSI, "PSI above psi_high: purge at once");
	mv_adapt_purged(&s, &c, 40 << 20, 1);
	in = reading(10010, 50, 256 << 10);
	tap_ok(mv_adapt_step(&s, &c, &in) == MV_ADAPT_WAIT && s.purging && s.skipped_small == 1,
	       "still purging between the thresholds, but too little free memory to bother");
	in = reading(10020, 50, 8 << 20);
	in.alloc_resident = 200 << 20;
	tap_ok(mv_adapt_step(&s, &c, &in) == MV_ADAPT_WAIT && s.skipped_small == 2,
	       "free memory under 1/16 of the allocator's resident: not yet");
	in.alloc_resident = 64 << 20;
	in.now_ns = 10030 * MS;
	tap_ok(mv_adapt_step(&s, &c, &in) == MV_ADAPT_PURGE, "above both floors: purge");
	/* calm, but not for hold_ms yet */
	in = reading(10500, 5, 8 << 20);
	tap_ok(mv_adapt_step(&s, &c, &in) == MV_ADAPT_PURGE && s.purging, "calm for less than hold_ms: still purging");
	in = reading(11100, 5, 8 << 20);
	tap_ok(mv_adapt_step(&s, &c, &in) == MV_ADAPT_WAIT && !s.purging, "calm for hold_ms: relaxed again");
	in = reading(11300, 50, 8 << 20);
	tap_ok(mv_adapt_step(&s, &c, &in) == MV_ADAPT_WAIT && !s.purging && s.episodes == 1,
	       "between psi_low and psi_high while relaxed: stays relaxed (hysteresis)");

	/* the CPU budget: 50 per mille, 2 s of it saved at most (100 ms) */
	memset(&s, 0, sizeof(s));
	in = reading(0, 500, 50 << 20);
	tap_ok(mv_adapt_step(&s, &c, &in) == MV_ADAPT_PURGE, "first purge within the budget");
	mv_adapt_charge(&s, 300 * MS);
	in = reading(10, 500, 50 << 20);
	tap_ok(mv_adapt_step(&s, &c, &in) == MV_ADAPT_WAIT && s.skipped_budget == 1, "budget spent: no purge");
	int allowed_at = -1;
	for (int t = 20; t < 10000 && allowed_at < 0; t += 10) {
		in = reading((uint64_t)t, 500, 50 << 20);
		if (mv_adapt_step(&s, &c, &in) == MV_ADAPT_PURGE)
			allowed_at = t;
	}
	/* 300 ms spent - 100 ms saved = 200 ms owed, paid back at 5%: ~4 s */
	tap_ok(allowed_at >= 3900 && allowed_at <= 4200, "the budget refills at cpu_budget per mille (%d ms)",
	       allowed_at);

	/* other signals */
	struct mv_adapt_cfg ct = cfg();
	ct.target_rss = 50 << 20;
	memset(&s, 0, sizeof(s));
	in = reading(0, 0, 50 << 20);
	tap_ok(mv_adapt_step(&s, &ct, &in) == MV_ADAPT_PURGE && s.reason == MV_ADAPT_TARGET,
	       "RSS above target_rss: purge");
	memset(&s, 0, sizeof(s));
	in = reading(0, 0, 50 << 20);
	in.p.cg_current = 960;
	in.p.cg_high = 1000;
	tap_ok(mv_adapt_step(&s, &c, &in) == MV_ADAPT_PURGE && s.reason == MV_ADAPT_CG_HIGH,
	       "cgroup at 96%% of memory.high: purge");
	memset(&s, 0, sizeof(s));
	in = reading(0, 0, 50 << 20);
	in.p.cg_high_events = 4;
	tap_ok(mv_adapt_step(&s, &c, &in) == MV_ADAPT_WAIT, "memory.events: the first reading is a baseline");
	in.now_ns = 200 * MS;
	in.p.cg_high_events = 5;
	tap_ok(mv_adapt_step(&s, &c, &in) == MV_ADAPT_PURGE && s.reason == MV_ADAPT_CG_EVENTS,
	       "a new memory.high breach: purge");
	in = reading(0, 0, 50 << 20);
	in.p.psi_ok = 0;
	memset(&s, 0, sizeof(s));
	tap_ok(mv_adapt_step(&s, &c, &in) == MV_ADAPT_WAIT, "no PSI file and no cgroup: quiet");

	/* unknown free memory: back off while purges give nothing back */
	memset(&s, 0, sizeof(s));
	int n = 0;
	for (int t = 0; t < 64; t++) {
		in = reading((uint64_t)t * 10, 500, -1);
		if (mv_adapt_step(&s, &c, &in) == MV_ADAPT_PURGE) {
			n++;
			mv_adapt_purged(&s, &c, 0, 0);
		}
	}
	tap_ok(n >= 5 && n <= 8, "purges that release nothing back off exponentially (%d of 64 readings)", n);
	mv_adapt_purged(&s, &c, 10 << 20, 0);
	in = reading(700, 500, -1);
	tap_ok(mv_adapt_step(&s, &c, &in) == MV_ADAPT_PURGE, "a purge that releases memory resets the back-off");
}

int main(void)
{
	parsers();
	controller();
	return tap_done();
}
