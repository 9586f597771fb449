/* test_stats.c - row mapping, histogram buckets, 2 MiB coverage, and exact
 * merging of counters recorded by many threads (slot reuse included). */
#define MV_TEST_HOOKS /* calls test hooks (sys/testhook.h) */
#include <pthread.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include "core/stats.h"
#include "../tap.h"

#define MIB (1UL << 20)

static struct mv_stats snap;

static const struct mv_stat_row *row_of(const struct mv_request *q)
{
	mv_stats_merge(&snap);
	return &snap.row[mv_stats_row(q)];
}

static void test_rows(void)
{
	struct mv_request q = { .kind = MV_MADVISE, .advice = MADV_DONTNEED };
	tap_ok(mv_stats_row(&q) == MV_ROW_MADVISE + 4, "MADV_DONTNEED has its own row");
	q.advice = MADV_FREE;
	tap_ok(!strcmp(mv_stats_row_detail(mv_stats_row(&q)), "MADV_FREE"), "MADV_FREE row is named");
	q.advice = 102;
	tap_ok(!strcmp(mv_stats_row_detail(mv_stats_row(&q)), "MADV_GUARD_INSTALL"), "guard advice row");
	q.advice = 12345;
	tap_ok(!strcmp(mv_stats_row_detail(mv_stats_row(&q)), "other"), "unknown advice -> other");
	tap_ok(mv_stats_row_advice(mv_stats_advice_row(103)) == 103, "advice row round-trips");
	tap_ok(mv_stats_row_advice(MV_MADV_ROWS - 1) == -1, "other row has no advice value");
	q.kind = MV_PROCESS_MADVISE;
	q.advice = MADV_COLD;
	tap_ok(!strcmp(mv_stats_row_kind(mv_stats_row(&q)), "process_madvise"), "process_madvise kind");
	q.kind = MV_MMAP;
	q.flags = MAP_PRIVATE | MAP_ANONYMOUS;
	tap_ok(mv_stats_row(&q) == MV_ROW_MMAP_ANON_PRIVATE, "anonymous private mmap row");
	q.flags = MAP_SHARED | MAP_ANONYMOUS;
	tap_ok(mv_stats_row(&q) == MV_ROW_MMAP_ANON_SHARED, "anonymous shared mmap row");
	q.flags = MAP_PRIVATE;
	tap_ok(mv_stats_row(&q) == MV_ROW_MMAP_FILE, "file mmap row");
	q.kind = MV_POSIX_MADVISE;
	q.advice = POSIX_MADV_DONTNEED;
	tap_ok(!strcmp(mv_stats_row_detail(mv_stats_row(&q)), "POSIX_MADV_DONTNEED"), "posix row");
}

static void test_buckets(void)
{
	tap_ok(mv_stats_bucket(0) == 0 && mv_stats_bucket(4095) == 0, "below 4 KiB -> bucket 0");
	tap_ok(mv_stats_bucket(4096) == 1 && mv_stats_bucket(8191) == 1, "4 KiB bucket");
	tap_ok(mv_stats_bucket(2 * MIB) == 10, "2 MiB bucket");
	tap_ok(mv_stats_bucket_floor(mv_stats_bucket(3 * MIB)) == 2 * MIB, "bucket floor");
	tap_ok(mv_stats_bucket((size_t)-1) == MV_HIST_BUCKETS - 1, "huge sizes clamp to the last bucket");
}

static void test_pmd(void)
{
	struct mv_request q = { .kind = MV_MADVISE, .advice = MADV_COLD };
	uint64_t before = row_of(&q)->pmd_calls;
	q.addr = (void *)(4 * MIB);
	q.len = 2 * MIB;
	mv_stats_record(&q, 0, 1);
	tap_ok(row_of(&q)->pmd_calls == before + 1, "aligned 2 MiB range counts as whole-PMD");
	q.addr = (void *)(4 * MIB + 4096);
	mv_stats_record(&q, 0, 1);
	tap_ok(row_of(&q)->pmd_calls == before + 1, "2 MiB range off alignment does not");
	q.len = 4 * MIB;
	mv_stats_record(&q, 0, 1);
	tap_ok(row_of(&q)->pmd_calls == before + 2, "4 MiB unaligned range covers one whole PMD");
	q.addr = (void *)(-2 * MIB);
	q.len = 4 * MIB;
	mv_stats_record(&q, -22, 1);
	tap_ok(row_of(&q)->errors == 1, "failed call counts as an error");
	tap_ok(row_of(&q)->pmd_calls == before + 2, "failed call adds no bytes or ranges");
}

#define THREADS 8
#define PER_THREAD 20000

static void *worker(void *arg)
{
	struct mv_request q = { .kind = MV_MADVISE, .advice = MADV_PAGEOUT, .len = 8192 };
	(void)arg;
	for (int i = 0; i < PER_THREAD; i++)
		mv_stats_record(&q, 0, 3);
	return NULL;
}

static void test_threads(void)
{
	struct mv_request q = { .kind = MV_MADVISE, .advice = MADV_PAGEOUT };
	pthread_t t[THREADS];
	/* Three generations of threads: exited threads hand their slots on. */
	for (int gen = 0; gen < 3; gen++) {
		for (int i = 0; i < THREADS; i++)
			pthread_create(&t[i], NULL, worker, NULL);
		for (int i = 0; i < THREADS; i++)
			pthread_join(t[i], NULL);
	}
	const struct mv_stat_row *r = row_of(&q);
	uint64_t n = 3ull * THREADS * PER_THREAD;
	tap_ok(r->calls == n, "calls from %d threads merge exactly (%llu)", 3 * THREADS, (unsigned long long)r->calls);
	tap_ok(r->bytes == n * 8192, "bytes merge exactly");
	tap_ok(r->ticks == n * 3, "ticks merge exactly");
	tap_ok(r->hist[mv_stats_bucket(8192)] == n, "histogram merges exactly");
}

static void test_fork(void)
{
	struct mv_request q = { .kind = MV_MUNMAP, .len = 4096 };
	mv_stats_record(&q, 0, 1);
	pid_t pid = fork();
	if (pid == 0) {
		mv_stats_atfork_child();
		mv_stats_record(&q, 0, 1);
		_exit(row_of(&q)->calls == 1 ? 0 : 1);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	tap_ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "fork child counts only its own calls");
	tap_ok(row_of(&q)->calls == 1, "parent's counts are unchanged by the child");
}

int main(void)
{
	struct mv_request q = { .kind = MV_MADVISE, .advice = MADV_WILLNEED, .len = 1 };
	mv_stats_record(&q, 0, 1); /* before threads are enabled: shared slot */
	mv_stats_init_threads();
	mv_stats_record(&q, 0, 1);
	tap_ok(row_of(&q)->calls == 2, "calls before and after slot set-up both count");
	test_rows();
	test_buckets();
	test_pmd();
	test_threads();
	test_fork();
	return tap_done();
}
