/* test_report.c - report files are created safely, paths expand, /proc
 * parsing and allocator classification work, and the JSON/text writers run
 * on recorded stats. With an argument it writes a JSON report there for
 * report_json.sh to validate. */
#define MV_TEST_HOOKS /* calls test hooks (sys/testhook.h) */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include "core/allocator.h"
#include "sys/procstat.h"
#include "observe/report.h"
#include "core/stats.h"
#include "../tap.h"

/* The malloc this test runs on: a sanitizer runtime brings its own (gcc links
 * it as a shared library, clang into the executable), else glibc's. */
#if defined(__clang__) && defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define MV_SAN_CLANG 1
#endif
#endif
#if defined(MV_SAN_CLANG)
#define LIVE_KIND MV_ALLOC_OTHER
#define LIVE_NAME "the sanitizer's"
#define LIVE_IN_EXE 1
#define LIVE_LIB ""
#elif defined(__SANITIZE_ADDRESS__)
#define LIVE_KIND MV_ALLOC_OTHER
#define LIVE_NAME "ASan's"
#define LIVE_IN_EXE 0
#define LIVE_LIB "/libasan.so"
#elif defined(__SANITIZE_THREAD__)
#define LIVE_KIND MV_ALLOC_OTHER
#define LIVE_NAME "TSan's"
#define LIVE_IN_EXE 0
#define LIVE_LIB "/libtsan.so"
#else
#define LIVE_KIND MV_ALLOC_GLIBC
#define LIVE_NAME "glibc"
#define LIVE_IN_EXE 0
#define LIVE_LIB "/libc.so"
#endif

static void record(int kind, int advice, size_t len, int n)
{
	struct mv_request q = { .kind = kind, .advice = advice, .len = len,
				.flags = MAP_PRIVATE | MAP_ANONYMOUS, .addr = (void *)(2UL << 20) };
	for (int i = 0; i < n; i++)
		mv_stats_record(&q, 0, 1000);
}

int main(int argc, char **argv)
{
	struct mv_options opt;
	struct mv_allocator_info alloc = { .kind = MV_ALLOC_JEMALLOC };
	static struct mv_report r;
	mv_options_defaults(&opt);
	strcpy(alloc.library, "/usr/lib/x/libjemalloc.so.2");
	mv_stats_init_threads();
	record(MV_MADVISE, MADV_DONTNEED, 4096, 5);
	record(MV_MADVISE, MADV_FREE, 2 << 20, 3);
	record(MV_MUNMAP, 0, 65536, 2);
	record(MV_MMAP, 0, 65536, 4);

	if (argc > 1) {
		mv_report_gather(&r, &opt, &alloc, 0);
		int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
		mv_report_json(&r, fd);
		close(fd);
		return 0;
	}

	char buf[64];
	tap_ok(mv_outfile_path("/tmp/s-%p.json", 123, buf, sizeof(buf)) == 0 &&
		       !strcmp(buf, "/tmp/s-123.json"), "%%p expands to the pid");
	tap_ok(mv_outfile_path("a%%p%p", 7, buf, sizeof(buf)) == 0 && !strcmp(buf, "a%p7"),
	       "%%%% is a literal percent");
	tap_ok(mv_outfile_path("/a/very/long/path/that/does/not/fit/in/the/buffer/%p", 1, buf, 16) < 0,
	       "too long a path is refused");

	char dir[] = "/tmp/mv-report-XXXXXX";
	tap_ok(mkdtemp(dir) != NULL, "temp dir");
	char path[128], link[128];
	snprintf(path, sizeof(path), "%s/out.json", dir);
	snprintf(link, sizeof(link), "%s/link.json", dir);
	int fd = mv_outfile_open(path);
	struct stat st;
	tap_ok(fd >= 0 && fstat(fd, &st) == 0 && (st.st_mode & 0777) == 0600, "report file is created 0600");
	tap_ok(fd >= 0 && (fcntl(fd, F_GETFD) & FD_CLOEXEC), "report fd is close-on-exec");
	close(fd);
	symlink(path, link);
	tap_ok(mv_outfile_open(link) == -ELOOP, "a symlink is not followed");
	tap_ok(mv_outfile_open(dir) < 0, "a directory is refused");
	tap_ok(mv_outfile_open("/dev/null") == -EINVAL, "a device is refused");
	unlink(link);
	unlink(path);
	rmdir(dir);

	struct mv_procstat ps;
	mv_procstat_parse("Name:\tx\nVmSize:\t  1000 kB\nVmHWM:\t 30 kB\nVmRSS:\t 20 kB\nVmPTE:\t 12 kB\n", &ps);
	tap_ok(ps.vm_size_kb == 1000 && ps.vm_rss_kb == 20 && ps.vm_hwm_kb == 30 && ps.vm_pte_kb == 12,
	       "status fields parse");
	mv_procstat_parse("VmRSS: x\n", &ps);
	tap_ok(ps.vm_rss_kb == -1 && ps.vm_pte_kb == -1, "missing or bad fields are -1");
	tap_ok(mv_procstat_read(&ps) == 0 && ps.vm_rss_kb > 0 && ps.vm_pte_kb >= 0, "live /proc/self/status");

	tap_ok(mv_allocator_classify("/usr/lib/libjemalloc.so.2", 0, 0, 0) == MV_ALLOC_JEMALLOC, "jemalloc by name");
	tap_ok(mv_allocator_classify("/usr/bin/redis-server", 1, 0, 0) == MV_ALLOC_JEMALLOC, "jemalloc by mallctl");
	tap_ok(mv_allocator_classify("/usr/lib/libtcmalloc_minimal.so.4", 0, 0, 0) == MV_ALLOC_TCMALLOC, "tcmalloc");
	tap_ok(mv_allocator_classify("/usr/bin/app", 0, 0, 1) == MV_ALLOC_MIMALLOC, "mimalloc by mi_version");
	tap_ok(mv_allocator_classify("/lib/x86_64-linux-gnu/libc.so.6", 0, 0, 0) == MV_ALLOC_GLIBC, "glibc");
	tap_ok(mv_allocator_classify("/usr/bin/app", 0, 0, 0) == MV_ALLOC_OTHER, "other");
	tap_ok(!mv_allocator_purges_visible(MV_ALLOC_GLIBC) && mv_allocator_purges_visible(MV_ALLOC_MIMALLOC),
	       "glibc purges are not visible");
	struct mv_allocator_info live;
	mv_allocator_detect(&live, 1);
	tap_ok(live.kind == LIVE_KIND && (LIVE_IN_EXE ? live.in_executable : strstr(live.library, LIVE_LIB) != NULL),
	       "this test runs on %s malloc (%s)", LIVE_NAME, live.library);
	tap_ok(mv_allocator_owns(&live, (const void *)malloc), "malloc's code is the allocator's");

	/* The text table names each row seen, in a pipe. */
	int pfd[2];
	char text[8192] = { 0 };
	pipe(pfd);
	mv_report_gather(&r, &opt, &alloc, 0);
	mv_report_text(&r, pfd[1]);
	close(pfd[1]);
	ssize_t n, got = 0;
	while ((n = read(pfd[0], text + got, sizeof(text) - 1 - (size_t)got)) > 0)
		got += n;
	tap_ok(strstr(text, "MADV_DONTNEED") && strstr(text, "MADV_FREE") && strstr(text, "munmap"),
	       "table lists the rows seen");
	tap_ok(strstr(text, "allocator jemalloc") != NULL, "table names the allocator");
	tap_ok(strstr(text, "VmPTE") != NULL, "table shows memory at exit");
	return tap_done();
}
