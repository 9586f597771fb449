/* live.c - live stats files and the live signal (live.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include "observe/live.h"
#include "sys/outbuf.h"
#include "sys/once.h"
#include "sys/ownsys.h"
#include "observe/report.h"
#include "core/runtime.h"
#include "sys/worker.h"

static const struct mv_options *opts;
static struct mv_report live_report; /* the worker's; too large for its stack */
static struct sigaction previous;
static int signo;
static volatile sig_atomic_t pending;
static int complained[2];
static struct mv_task task = { .name = "live" };

static void on_signal(int sig, siginfo_t *si, void *ctx)
{
	pending = 1;
	__atomic_store_n(&task.next_ns, 0, __ATOMIC_RELAXED);
	mv_worker_wake();
	if (previous.sa_flags & SA_SIGINFO) {
		if (previous.sa_sigaction)
			previous.sa_sigaction(sig, si, ctx);
	} else if (previous.sa_handler != SIG_DFL && previous.sa_handler != SIG_IGN) {
		previous.sa_handler(sig);
	}
}

static int write_json(int fd, void *arg)
{
	return mv_report_json(arg, fd);
}

static int write_prom(int fd, void *arg)
{
	return mv_report_prom(arg, fd);
}

/* Replace path atomically with what write_fn writes (temporary file in the
 * same directory, created with mode, then renamed); write_fn returns 0, or -1
 * when a write failed, which leaves path as it was. Returns 0 or -errno. */
static int replace_file(const char *path, int mode, int (*write_fn)(int fd, void *arg), void *arg)
{
	char tmp[MV_PATH_MAX + 64];
	struct mv_outbuf o;
	const char *slash = strrchr(path, '/');
	size_t dir = slash ? (size_t)(slash - path) + 1 : 0;
	/* ".<name>.<pid>.tmp": hidden, and not *.prom, so a collector skips it. */
	mv_out_init(&o, tmp, sizeof(tmp), -1);
	mv_out_mem(&o, path, dir);
	mv_out_char(&o, '.');
	mv_out_str(&o, path + dir);
	mv_out_char(&o, '.');
	mv_out_i64(&o, mv_raw0(SYS_getpid));
	mv_out_str(&o, ".tmp");
	mv_out_cstr(&o);
	if (o.truncated)
		return -ENAMETOOLONG;
	int fd = mv_outfile_open_new(tmp, mode);
	if (fd < 0)
		return fd;
	long r = write_fn(fd, arg) < 0 ? -EIO : 0;
	long c = mv_own1(SYS_close, fd);
	if (!r && mv_raw_failed(c))
		r = c;
	if (!r)
		r = mv_own2(SYS_rename, tmp, path);
	if (mv_raw_failed(r)) {
		mv_own1(SYS_unlink, tmp);
		return (int)r;
	}
	return 0;
}

static void complain_once(int which, const char *key, const char *path, int err)
{
	if (complained[which])
		return;
	complained[which] = 1;
	if (!mv_once(MV_ONCE_LIVE + (unsigned)which))
		return;
	mv_out_say(2, err, "live stats not written there", key, " '", path, "': cannot be written", NULL);
}

static void one_file(int which, const char *key, const char *tmpl, int mode, int (*fn)(int, void *))
{
	char path[MV_PATH_MAX + 32];
	if (!tmpl[0])
		return;
	if (mv_outfile_path(tmpl, live_report.pid, path, sizeof(path)) < 0) {
		complain_once(which, key, tmpl, -ENAMETOOLONG);
		return;
	}
	int r = replace_file(path, mode, fn, &live_report);
	if (r < 0)
		complain_once(which, key, path, r);
}

/* Write the live outputs now. */
static void write_now(void)
{
	const struct mv_options *o = opts ? opts : &mv_rt.opt;
	mv_report_gather(&live_report, o, &mv_rt.allocator, mv_rt.start_ns);
	one_file(0, "live_file", o->live_file, 0600, write_json);
	/* node_exporter reads the Prometheus file under its own user. */
	one_file(1, "live_prom_file", o->live_prom_file, 0644, write_prom);
}

static void run(void *arg, uint64_t now)
{
	static uint64_t last;
	static int started;
	(void)arg;
	uint64_t every = (uint64_t)opts->live_interval_ms * 1000000u;
	int files = opts->live_file[0] || opts->live_prom_file[0];
	int signalled = pending;
	/* Files at start, every interval and on the signal; the table on
	 * stderr (no files configured) only on the signal. */
	if (!signalled && started && !(every && now - last >= every - every / 16))
		return;
	pending = 0;
	started = 1;
	last = now;
	if (files) {
		write_now();
	} else if (signalled) {
		mv_report_gather(&live_report, opts, &mv_rt.allocator, mv_rt.start_ns);
		mv_report_text(&live_report, 2);
	}
}

int mv_live_start(const struct mv_options *o, int fd)
{
	static const int sigs[] = { 0, SIGUSR1, SIGUSR2 };
	if (!o->live_file[0] && !o->live_prom_file[0] && o->live_signal == MV_LIVE_SIG_OFF)
		return 0;
	opts = o;
	/* The task keeps its own interval; running at least once a second also
	 * catches a signal whose wake-up came while the task was running. */
	uint32_t ms = o->live_interval_ms && o->live_interval_ms < 1000 ? o->live_interval_ms : 1000;
	task.period_ns = ms * 1000000ull;
	task.run = run;
	if (o->live_signal != MV_LIVE_SIG_OFF) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_sigaction = on_signal;
		sa.sa_flags = SA_SIGINFO | SA_RESTART;
		sigemptyset(&sa.sa_mask);
		signo = sigs[o->live_signal];
		if (sigaction(signo, &sa, &previous) != 0) {
			mv_out_say(2, 0, "live stats on signal are off", "live_signal: cannot install the handler", NULL);
			signo = 0;
		}
	}
	(void)fd;
	return mv_worker_add(&task);
}
