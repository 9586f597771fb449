/* test_handle.c - mv_handle passes every request through unchanged: the same
 * result as the raw system call for good and bad input, errno untouched,
 * each call counted once; a "next" function is used when installed, and a
 * call that comes back from it goes straight to the kernel. */
#define MV_TEST_HOOKS /* calls test hooks (sys/testhook.h) */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/mman.h>
#include "core/kernel.h"
#include "sys/rawsys.h"
#include "core/request.h"
#include "core/stats.h"
#include "../tap.h"

static struct mv_stats snap;

static uint64_t calls_in(int row)
{
	mv_stats_merge(&snap);
	return snap.row[row].calls;
}

static void same_as_raw(const char *what, struct mv_request q, long raw)
{
	uint64_t before = calls_in(mv_stats_row(&q));
	errno = 4242;
	long r = mv_handle(&q);
	tap_ok(r == raw, "%s: result %ld equals the kernel's %ld", what, r, raw);
	tap_ok(errno == 4242, "%s: errno untouched", what);
	tap_ok(calls_in(mv_stats_row(&q)) == before + 1, "%s: counted once", what);
}

static int next_munmap_calls, next_mmap_calls;

static int fake_munmap(void *a, size_t l)
{
	next_munmap_calls++;
	/* Comes back into the library, as an interposer's munmap might. */
	struct mv_request q = { .kind = MV_MUNMAP, .addr = a, .len = l, .caller = (void *)0x5000 };
	long r = mv_handle(&q);
	if (r < 0) {
		errno = (int)-r;
		return -1;
	}
	return 0;
}

static void *fake_mmap(void *a, size_t l, int p, int f, int fd, off_t o)
{
	next_mmap_calls++;
	long r = mv_raw6(SYS_mmap, (long)a, (long)l, p, f, fd, o);
	if (mv_raw_failed(r)) {
		errno = (int)-r;
		return MAP_FAILED;
	}
	return (void *)r;
}

int main(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	/* A one-page hole between two mappings: nothing else fits in it. */
	char *guard = mmap(NULL, 3 * pg, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *hole = guard + pg;
	munmap(hole, pg);
	mv_stats_init_threads();

	struct mv_request q = { .kind = MV_MADVISE, .addr = m, .len = pg, .advice = MADV_DONTNEED };
	m[0] = 1;
	same_as_raw("madvise DONTNEED", q, 0);
	tap_ok(m[0] == 0, "madvise DONTNEED zero-fills");
	q.addr = m + 1;
	same_as_raw("madvise unaligned", q, -EINVAL);
	q.addr = hole;
	same_as_raw("madvise unmapped", q, -ENOMEM);
	q.addr = m;
	q.advice = 9999;
	same_as_raw("madvise bad advice", q, -EINVAL);
	q.advice = MADV_DONTNEED;
	q.len = (size_t)-pg;
	same_as_raw("madvise overflowing length", q, mv_raw3(SYS_madvise, m, (size_t)-pg, MADV_DONTNEED));

	struct mv_request p = { .kind = MV_POSIX_MADVISE, .addr = m, .len = pg, .advice = POSIX_MADV_DONTNEED };
	m[0] = 7;
	same_as_raw("posix_madvise DONTNEED is a no-op", p, 0);
	tap_ok(m[0] == 7, "posix_madvise DONTNEED keeps data (as glibc)");
	p.advice = 77;
	same_as_raw("posix_madvise bad advice", p, -EINVAL);

	struct mv_request mp = { .kind = MV_MPROTECT, .addr = m + 1, .len = pg, .prot = PROT_READ };
	same_as_raw("mprotect unaligned", mp, -EINVAL);
	struct mv_request mm = { .kind = MV_MMAP, .len = 0, .prot = PROT_READ,
				 .flags = MAP_PRIVATE | MAP_ANONYMOUS, .fd = -1 };
	same_as_raw("mmap length 0", mm, -EINVAL);
	mm.len = pg;
	mm.addr = m;
	mm.flags |= MAP_FIXED_NOREPLACE;
	same_as_raw("mmap MAP_FIXED_NOREPLACE over a live mapping", mm, -EEXIST);
	struct mv_request mr = { .kind = MV_MREMAP, .addr = hole, .len = pg, .new_len = 2 * pg,
				 .flags = MREMAP_MAYMOVE };
	same_as_raw("mremap unmapped", mr, -EFAULT);
	struct mv_request mu = { .kind = MV_MUNMAP, .addr = m + 1, .len = pg };
	same_as_raw("munmap unaligned", mu, -EINVAL);
	mu.addr = m;
	mu.len = 0;
	same_as_raw("munmap length 0", mu, -EINVAL);
	struct iovec iov = { m, (size_t)pg };
	struct mv_request pm = { .kind = MV_PROCESS_MADVISE, .fd = -1, .iov = &iov, .vlen = 1,
				 .advice = MADV_COLD };
	same_as_raw("process_madvise bad pidfd", pm, -EBADF);

	/* A next function is used. A call arriving while it runs goes straight to
	 * the kernel (no endless recursion): from the next function's own code it
	 * is the same logical call, from anywhere else (a signal handler) it is
	 * counted. The fake next function's nested call claims address 0x5000. */
	struct mv_next n = { .munmap = fake_munmap, .mmap = fake_mmap, .text = { { 0x4000, 0x6000, 0 } } };
	mv_kernel_set_next(&n);
	struct mv_request un = { .kind = MV_MUNMAP, .addr = m + 3 * pg, .len = pg };
	uint64_t before = calls_in(MV_ROW_MUNMAP);
	errno = 99;
	tap_ok(mv_handle(&un) == 0, "munmap through the next function succeeds");
	tap_ok(errno == 99, "errno untouched through the next function");
	tap_ok(next_munmap_calls == 1, "next munmap was called once");
	tap_ok(calls_in(MV_ROW_MUNMAP) == before + 1, "the next function's own call is not counted again");
	n.text[0].lo = n.text[0].hi = 0;
	mv_kernel_set_next(&n);
	char *extra = mmap(NULL, pg, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	un.addr = extra;
	before = calls_in(MV_ROW_MUNMAP);
	tap_ok(mv_handle(&un) == 0 && next_munmap_calls == 2, "munmap through the next function again");
	tap_ok(calls_in(MV_ROW_MUNMAP) == before + 2, "a nested call from elsewhere is counted");
	un.addr = m + 1;
	tap_ok(mv_handle(&un) == -EINVAL && errno == 99, "errors through the next function keep the kernel's errno");
	struct mv_request mm2 = { .kind = MV_MMAP, .len = (size_t)pg, .prot = PROT_READ | PROT_WRITE,
				  .flags = MAP_PRIVATE | MAP_ANONYMOUS, .fd = -1 };
	long a = mv_handle(&mm2);
	tap_ok(!mv_raw_failed(a) && next_mmap_calls == 1, "mmap through the next function");
	tap_ok(((char *)a)[pg - 1] == 0, "fresh mapping reads zero");
	mv_kernel_set_next(NULL);
	mm2.len = 0;
	tap_ok(mv_handle(&mm2) == -EINVAL && next_mmap_calls == 1, "next functions can be removed again");
	return tap_done();
}
