/* zero.c - clear a recycled range (zero.h). */
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/uio.h>
#include "munmap/zero.h"
#include "sys/ownsys.h"
#include "sys/linux.h"

#define PAGE 4096UL
#define PM_PRESENT (1ULL << 63)
#define PM_SWAP (1ULL << 62)
#define PM_EXCLUSIVE (1ULL << 56)
#define BATCH 512            /* pagemap entries per read: one 2 MiB chunk of address space */
#define IOV 64               /* pages dropped per process_madvise */
#define MINCORE_MAX (2UL << 20)  /* up to here a mostly resident range is cleared whole */

static int pidfd_self;

void mv_zero_init(int process_madvise_self)
{
	pidfd_self = process_madvise_self;
}

struct drops {
	struct iovec v[IOV];
	unsigned n;
};

/* Drop [p, p + len); where the kernel refuses, clear it by hand. */
static void drop_now(void *p, size_t len)
{
	if (mv_raw_failed(mv_own3(SYS_madvise, p, len, MADV_DONTNEED)))
		memset(p, 0, len);
}

static void drop_flush(struct drops *d)
{
	if (!d->n)
		return;
	long r = -1, want = 0;
	for (unsigned i = 0; i < d->n; i++)
		want += (long)d->v[i].iov_len;
	if (pidfd_self && d->n > 1)
		r = mv_own6(SYS_process_madvise, PIDFD_SELF, (long)d->v, d->n, MADV_DONTNEED, 0, 0);
	if (r != want) /* failed, or stopped part-way: dropping twice is harmless */
		for (unsigned i = 0; i < d->n; i++)
			drop_now(d->v[i].iov_base, d->v[i].iov_len);
	d->n = 0;
}

static void drop(struct drops *d, uintptr_t a, uintptr_t e)
{
	if (d->n && (uintptr_t)d->v[d->n - 1].iov_base + d->v[d->n - 1].iov_len == a &&
	    d->v[d->n - 1].iov_len + (e - a) < BATCH * PAGE) {
		d->v[d->n - 1].iov_len += e - a;
		return;
	}
	if (d->n == IOV)
		drop_flush(d);
	d->v[d->n].iov_base = (void *)a;
	d->v[d->n].iov_len = e - a;
	d->n++;
}

/* One chunk of pagemap entries for pages a, a + PAGE, ...: a chunk mostly
 * present (the program used the range densely) is cleared with memset, where
 * it will likely be used again; a sparse one gets its pages dropped, so it is
 * as empty as a fresh mapping and keeps no memory. */
static void chunk(const uint64_t *pm, size_t n, uintptr_t a, struct drops *d)
{
	size_t mine = 0;
	for (size_t i = 0; i < n; i++)
		mine += (pm[i] & (PM_PRESENT | PM_EXCLUSIVE)) == (PM_PRESENT | PM_EXCLUSIVE);
	int dense = mine * 2 >= n;
	for (size_t i = 0; i < n;) {
		uint64_t v = pm[i];
		if (!(v & (PM_PRESENT | PM_SWAP))) {
			i++;
			continue;
		}
		int clear = dense && (v & (PM_PRESENT | PM_EXCLUSIVE)) == (PM_PRESENT | PM_EXCLUSIVE);
		size_t j = i + 1;
		while (j < n && (pm[j] & (PM_PRESENT | PM_SWAP)) &&
		       clear == (dense && (pm[j] & (PM_PRESENT | PM_EXCLUSIVE)) == (PM_PRESENT | PM_EXCLUSIVE)))
			j++;
		if (clear)
			memset((void *)(a + i * PAGE), 0, (j - i) * PAGE);
		else
			drop(d, a + i * PAGE, a + j * PAGE);
		i = j;
	}
}

/* Whether a large range looks mostly empty: SAMPLES windows of WINDOW
 * pagemap entries spread over it, under a quarter present. Only a choice of
 * method hangs on it, never what the range reads. */
#define SAMPLES 16
#define WINDOW 32
static int sparse(long fd, uintptr_t a, size_t len, uint64_t *buf)
{
	size_t pages = len / PAGE, step = pages / SAMPLES, seen = 0, in = 0;
	if (step < WINDOW)
		return 0;
	for (size_t s = 0; s < SAMPLES; s++) {
		uintptr_t at = a + s * step * PAGE;
		long got = mv_own4(SYS_pread64, fd, buf, WINDOW * sizeof(buf[0]), (long)(at / PAGE * sizeof(buf[0])));
		if (got != (long)(WINDOW * sizeof(buf[0])))
			return 0;
		for (size_t i = 0; i < WINDOW; i++)
			in += (buf[i] & (PM_PRESENT | PM_SWAP)) != 0;
		seen += WINDOW;
	}
	return in * 4 < seen;
}

enum mv_zero_how mv_zero_fresh(void *p, size_t len, size_t memset_max)
{
	uintptr_t a = (uintptr_t)p, end = a + len;
	if (len <= memset_max) {
		memset(p, 0, len);
		return MV_ZERO_MEMSET;
	}
	if (len <= MINCORE_MAX) {
		/* Mostly resident (just used densely): memset all of it. mincore is
		 * only a hint here (it cannot see swapped-out pages, which memset
		 * clears anyway); pagemap decides otherwise. */
		unsigned char v[MINCORE_MAX / PAGE];
		size_t pages = len / PAGE, in = 0;
		if (mv_own3(SYS_mincore, a, len, v) == 0) {
			for (size_t i = 0; i < pages; i++)
				in += v[i] & 1;
			if (in * 4 >= pages * 3) {
				memset(p, 0, len);
				return MV_ZERO_MEMSET;
			}
		}
	}
	long fd = mv_own4(SYS_openat, AT_FDCWD, "/proc/self/pagemap", O_RDONLY | O_CLOEXEC, 0);
	if (mv_raw_failed(fd)) {
		if (mv_raw_failed(mv_own3(SYS_madvise, a, len, MADV_DONTNEED))) {
			memset(p, 0, len);
			return MV_ZERO_MEMSET;
		}
		return MV_ZERO_DONTNEED;
	}
	uint64_t buf[BATCH];
	struct drops d;
	d.n = 0;
	if (len > MINCORE_MAX && sparse(fd, a, len, buf)) {
		/* Mostly empty: drop it all; the kernel skips what is empty. In
		 * pieces that each stop one page into the next 2 MiB region, so that
		 * no piece covers a whole page table: the tables stay for the pages
		 * the range will get again (PT_RECLAIM would free them otherwise).
		 * One process_madvise for all the pieces. */
		mv_own1(SYS_close, fd);
		for (uintptr_t at = a; at < end;) {
			uintptr_t cut = ((at + (BATCH * PAGE)) & ~(BATCH * PAGE - 1)) + PAGE;
			if (cut - at > BATCH * PAGE)
				cut -= BATCH * PAGE;
			if (cut > end)
				cut = end;
			drop(&d, at, cut);
			at = cut;
		}
		drop_flush(&d);
		return MV_ZERO_DONTNEED;
	}
	while (a < end) {
		/* Chunks follow 2 MiB boundaries, so density is judged per page table. */
		size_t n = (((a + (BATCH * PAGE)) & ~(BATCH * PAGE - 1)) - a) / PAGE;
		if (n > (end - a) / PAGE)
			n = (end - a) / PAGE;
		long got = mv_own4(SYS_pread64, fd, buf, n * sizeof(buf[0]), (long)(a / PAGE * sizeof(buf[0])));
		if (mv_raw_failed(got) || (size_t)got != n * sizeof(buf[0])) {
			/* Cannot tell what is there: drop the rest. */
			drop(&d, a, end);
			break;
		}
		chunk(buf, n, a, &d);
		a += n * PAGE;
	}
	drop_flush(&d);
	mv_own1(SYS_close, fd);
	return MV_ZERO_PAGEMAP;
}
