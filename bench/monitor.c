/* monitor.c - run one command and measure it from the outside.
 *
 *   monitor [-i MS] [-T SECONDS] [-o SERIES.csv] [-r RESULT] -- COMMAND [ARGS...]
 *
 * Forks COMMAND, samples /proc/PID/status every -i milliseconds (VmRSS,
 * VmPTE) into SERIES.csv ("t_s,rss_kb,pte_kb"), and when it exits writes
 * RESULT (stderr without -r) as key=value lines:
 *   exit           the command's exit status (128+N if killed by signal N)
 *   timed_out      1 when -T expired (SIGTERM, then SIGKILL 2 s later)
 *   wall_s         fork to exit, CLOCK_MONOTONIC (the exit is seen through a
 *                  SIGCHLD, so sampling does not delay it)
 *   user_s sys_s   CPU time (wait4 rusage; waited-for descendants included)
 *   maxrss_kb      peak RSS (rusage: exact, kernel high-water mark)
 *   minflt majflt  page faults; vcsw ivcsw: context switches
 *   rss_peak_kb pte_peak_kb
 *                  largest VmRSS / VmPTE seen (rss_peak also counts the
 *                  kernel's high-water mark; the kernel keeps none for page
 *                  tables, so pte_peak is sampled)
 *   rss_final_kb pte_final_kb
 *                  VmRSS / VmPTE as the process exits: the child is traced
 *                  (PTRACE_SEIZE with only PTRACE_O_TRACEEXIT) so that it
 *                  stops once at exit, before its memory is released, and is
 *                  sampled there; final_at_exit=1 says this worked, 0 means
 *                  ptrace was refused and the last periodic sample is used
 *   samples        number of periodic samples taken
 *   tlb_shootdowns_system
 *                  growth of the "TLB" line of /proc/interrupts summed over
 *                  CPUs: SYSTEM-WIDE, every process on the machine counts
 *   start_realtime_ns  CLOCK_REALTIME at fork, to line up other clocks
 *
 * SIGINT, SIGTERM and SIGHUP are passed on to COMMAND; monitor then waits
 * for it. Exit status: the command's, 124 on timeout, 125 on own errors. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t pending_sig;

static void on_signal(int sig)
{
	if (sig != SIGCHLD)
		pending_sig = sig;
}

static uint64_t now_ns(clockid_t clk)
{
	struct timespec ts;
	clock_gettime(clk, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Sum of the per-CPU counts on the "TLB:" line of /proc/interrupts, or -1. */
static long long tlb_shootdowns(void)
{
	FILE *f = fopen("/proc/interrupts", "r");
	if (!f)
		return -1;
	char line[8192];
	long long sum = -1;
	while (fgets(line, sizeof line, f)) {
		char *p = line;
		while (*p == ' ')
			p++;
		if (strncmp(p, "TLB:", 4) != 0)
			continue;
		p += 4;
		sum = 0;
		for (;;) {
			char *end;
			long long v = strtoll(p, &end, 10);
			if (end == p)
				break;
			sum += v;
			p = end;
		}
		break;
	}
	fclose(f);
	return sum;
}

/* VmRSS and VmPTE of pid in kB; returns 0 when both were read. */
static int sample(pid_t pid, long *rss, long *pte)
{
	char path[64], buf[4096];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	char *r = strstr(buf, "\nVmRSS:"), *t = strstr(buf, "\nVmPTE:");
	if (!r || !t)
		return -1;  /* a zombie has no memory lines */
	*rss = strtol(r + 7, NULL, 10);
	*pte = strtol(t + 7, NULL, 10);
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: monitor [-i MS] [-T SECONDS] [-o SERIES.csv] [-r RESULT] -- COMMAND [ARGS...]\n");
}

int main(int argc, char **argv)
{
	long interval_ms = 50;
	double timeout_s = 0;
	const char *series_path = NULL, *result_path = NULL;
	int c;
	while ((c = getopt(argc, argv, "+i:T:o:r:h")) != -1) {
		switch (c) {
		case 'i': interval_ms = strtol(optarg, NULL, 10); break;
		case 'T': timeout_s = strtod(optarg, NULL); break;
		case 'o': series_path = optarg; break;
		case 'r': result_path = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 125;
		}
	}
	if (optind >= argc || interval_ms < 1 || interval_ms > 60000 || timeout_s < 0) {
		usage(stderr);
		return 125;
	}
	FILE *series = NULL;
	if (series_path && !(series = fopen(series_path, "w"))) {
		fprintf(stderr, "monitor: %s: %s\n", series_path, strerror(errno));
		return 125;
	}

	/* The signals are blocked except inside ppoll(), so a child stopping
	 * or exiting (SIGCHLD) ends the wait at once, without a race. */
	sigset_t block, during_wait;
	sigemptyset(&block);
	sigaddset(&block, SIGCHLD);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &during_wait);
	sigdelset(&during_wait, SIGCHLD);
	sigdelset(&during_wait, SIGINT);
	sigdelset(&during_wait, SIGTERM);
	sigdelset(&during_wait, SIGHUP);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigaction(SIGCHLD, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	int go[2];
	if (pipe2(go, O_CLOEXEC) != 0) {
		perror("monitor: pipe");
		return 125;
	}
	long long tlb0 = tlb_shootdowns();
	uint64_t real0 = now_ns(CLOCK_REALTIME), t0 = now_ns(CLOCK_MONOTONIC);
	pid_t child = fork();
	if (child < 0) {
		perror("monitor: fork");
		return 125;
	}
	if (child == 0) {
		char byte;
		close(go[1]);
		if (read(go[0], &byte, 1) != 1)  /* wait until traced */
			_exit(127);
		signal(SIGCHLD, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		sigprocmask(SIG_UNBLOCK, &block, NULL);
		execvp(argv[optind], argv + optind);
		fprintf(stderr, "monitor: %s: %s\n", argv[optind], strerror(errno));
		_exit(127);
	}
	close(go[0]);
	int traced = ptrace(PTRACE_SEIZE, child, 0, (void *)(long)PTRACE_O_TRACEEXIT) == 0;
	if (write(go[1], "g", 1) != 1) {
		perror("monitor: write");
		kill(child, SIGKILL);
	}
	close(go[1]);
	if (series)
		fprintf(series, "# start_realtime_ns=%llu interval_ms=%ld\nt_s,rss_kb,pte_kb\n",
			(unsigned long long)real0, interval_ms);

	long rss_peak = 0, pte_peak = 0, rss_last = 0, pte_last = 0, rss_exit = -1, pte_exit = -1;
	unsigned long samples = 0;
	int timed_out = 0, forwarded = 0;
	uint64_t next = t0 + (uint64_t)interval_ms * 1000000ULL;
	uint64_t deadline = timeout_s > 0 ? t0 + (uint64_t)(timeout_s * 1e9) : 0, kill_at = 0;
	int status = 0;
	struct rusage ru;
	memset(&ru, 0, sizeof ru);
	for (;;) {
		pid_t w = wait4(child, &status, WNOHANG, &ru);
		if (w == child && WIFSTOPPED(status)) {
			int sig = WSTOPSIG(status), event = status >> 16;
			if (event == PTRACE_EVENT_EXIT) {
				long rss, pte;
				if (sample(child, &rss, &pte) == 0) {
					rss_exit = rss;
					pte_exit = pte;
				}
				ptrace(PTRACE_DETACH, child, 0, 0);
			} else if (event == PTRACE_EVENT_STOP) {
				ptrace(PTRACE_CONT, child, 0, 0);  /* group stop: keep it running */
			} else {
				ptrace(PTRACE_CONT, child, 0, (void *)(long)sig);  /* deliver the signal */
			}
			continue;
		}
		if (w == child)
			break;
		if (w < 0 && errno != EINTR) {
			perror("monitor: wait4");
			return 125;
		}
		if (pending_sig && !forwarded) {
			kill(child, pending_sig);
			forwarded = 1;
		}
		uint64_t now = now_ns(CLOCK_MONOTONIC);
		if (deadline && now >= deadline && !timed_out) {
			timed_out = 1;
			kill(child, SIGTERM);
			kill_at = now + 2000000000ULL;
		}
		if (kill_at && now >= kill_at) {
			kill(child, SIGKILL);
			kill_at = 0;
		}
		if (now >= next) {
			long rss, pte;
			if (sample(child, &rss, &pte) == 0) {
				samples++;
				rss_last = rss;
				pte_last = pte;
				if (rss > rss_peak)
					rss_peak = rss;
				if (pte > pte_peak)
					pte_peak = pte;
				if (series)
					fprintf(series, "%.3f,%ld,%ld\n", (double)(now - t0) / 1e9, rss, pte);
			}
			while (next <= now)
				next += (uint64_t)interval_ms * 1000000ULL;
			continue;
		}
		uint64_t wait = next - now;
		if (kill_at && kill_at - now < wait)
			wait = kill_at - now;
		struct timespec ts = { (time_t)(wait / 1000000000ULL), (long)(wait % 1000000000ULL) };
		ppoll(NULL, 0, &ts, &during_wait);
	}
	uint64_t t1 = now_ns(CLOCK_MONOTONIC);
	long long tlb1 = tlb_shootdowns();
	int final_at_exit = rss_exit >= 0;
	if (final_at_exit) {
		rss_last = rss_exit;
		pte_last = pte_exit;
		if (rss_exit > rss_peak)
			rss_peak = rss_exit;
		if (pte_exit > pte_peak)
			pte_peak = pte_exit;
		if (series)
			fprintf(series, "%.3f,%ld,%ld\n", (double)(t1 - t0) / 1e9, rss_exit, pte_exit);
	}
	if (series)
		fclose(series);
	if (!traced)
		fprintf(stderr, "monitor: ptrace refused: final RSS/VmPTE are the last periodic sample\n");

	int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	FILE *out = stderr;
	if (result_path && !(out = fopen(result_path, "w"))) {
		fprintf(stderr, "monitor: %s: %s\n", result_path, strerror(errno));
		out = stderr;
	}
	fprintf(out,
		"exit=%d\ntimed_out=%d\nwall_s=%.4f\nuser_s=%.3f\nsys_s=%.3f\nmaxrss_kb=%ld\n"
		"minflt=%ld\nmajflt=%ld\nvcsw=%ld\nivcsw=%ld\n"
		"rss_peak_kb=%ld\nrss_final_kb=%ld\npte_peak_kb=%ld\npte_final_kb=%ld\nfinal_at_exit=%d\nsamples=%lu\n",
		code, timed_out, (double)(t1 - t0) / 1e9,
		(double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6,
		(double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6, ru.ru_maxrss,
		ru.ru_minflt, ru.ru_majflt, ru.ru_nvcsw, ru.ru_nivcsw,
		rss_peak > ru.ru_maxrss ? rss_peak : ru.ru_maxrss, rss_last, pte_peak, pte_last, final_at_exit,
		samples);
	if (tlb0 >= 0 && tlb1 >= 0)
		fprintf(out, "tlb_shootdowns_system=%lld\n", tlb1 - tlb0);
	else
		fprintf(out, "tlb_shootdowns_system=-\n");
	fprintf(out, "start_realtime_ns=%llu\n", (unsigned long long)real0);
	if (out != stderr)
		fclose(out);
	return timed_out ? 124 : code;
}
