/* hooks.c - the interposed functions.
 *
 * Each wrapper captures its arguments in a request, hands it to mv_handle()
 * and returns the result the way libc would (-1/MAP_FAILED and errno on
 * failure, errno untouched on success). Nothing here allocates or locks. */
#include <errno.h>
#include <stdarg.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <linux/mman.h>
#include "core/request.h"
#include "munmap/rangecalls.h"
#include "munmap/munmap.h"
#include "sys/rawsys.h"
#include "sys/linux.h"

#define EXPORT __attribute__((visibility("default")))
/* The common calls: kept together with the library's hot path. */
#define HOT __attribute__((hot))

static inline long as_int(long r)
{
	if (mv_raw_failed(r)) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

static inline void *as_ptr(long r)
{
	if (mv_raw_failed(r)) {
		errno = (int)-r;
		return MAP_FAILED;
	}
	return (void *)r;
}

static inline __attribute__((always_inline)) long do_madvise(void *addr, size_t len, int advice,
							   const void *caller)
{
	struct mv_request q = { .kind = MV_MADVISE, .addr = addr, .len = len, .advice = advice,
				.caller = caller };
	return mv_handle(&q);
}

static inline __attribute__((always_inline)) long do_munmap(void *addr, size_t len, const void *caller)
{
	struct mv_request q = { .kind = MV_MUNMAP, .addr = addr, .len = len, .caller = caller };
	return mv_handle(&q);
}

static inline __attribute__((always_inline)) long do_mmap(void *addr, size_t len, int prot, int flags,
							 int fd, off_t off, const void *caller)
{
	struct mv_request q = { .kind = MV_MMAP, .addr = addr, .len = len, .prot = prot,
				.flags = flags, .fd = fd, .off = off, .caller = caller };
	return mv_handle(&q);
}

static inline __attribute__((always_inline)) long do_mremap(void *old, size_t old_len, size_t new_len,
							   int flags, void *new_addr, const void *caller)
{
	struct mv_request q = { .kind = MV_MREMAP, .addr = old, .len = old_len, .new_len = new_len,
				.flags = flags, .new_addr = new_addr, .caller = caller };
	return mv_handle(&q);
}

static inline __attribute__((always_inline)) long do_mprotect(void *addr, size_t len, int prot,
							     const void *caller)
{
	struct mv_request q = { .kind = MV_MPROTECT, .addr = addr, .len = len, .prot = prot, .caller = caller };
	return mv_handle(&q);
}

static inline __attribute__((always_inline)) long do_process_madvise(int pidfd, const struct iovec *iov,
								    size_t vlen, int advice, unsigned int flags,
								    const void *caller)
{
	struct mv_request q = { .kind = MV_PROCESS_MADVISE, .fd = pidfd, .iov = iov, .vlen = vlen,
				.advice = advice, .flags = (int)flags, .caller = caller };
	return mv_handle(&q);
}

EXPORT HOT int madvise(void *addr, size_t len, int advice)
{
	return (int)as_int(do_madvise(addr, len, advice, __builtin_return_address(0)));
}

EXPORT int posix_madvise(void *addr, size_t len, int advice)
{
	/* POSIX: the error is the return value and errno is left alone. */
	struct mv_request q = { .kind = MV_POSIX_MADVISE, .addr = addr, .len = len, .advice = advice,
				.caller = __builtin_return_address(0) };
	long r = mv_handle(&q);
	return mv_raw_failed(r) ? (int)-r : 0;
}

EXPORT ssize_t process_madvise(int pidfd, const struct iovec *iov, size_t vlen, int advice,
			       unsigned int flags)
{
	return as_int(do_process_madvise(pidfd, iov, vlen, advice, flags, __builtin_return_address(0)));
}

EXPORT HOT int munmap(void *addr, size_t len)
{
	return (int)as_int(do_munmap(addr, len, __builtin_return_address(0)));
}

EXPORT HOT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return as_ptr(do_mmap(addr, len, prot, flags, fd, off, __builtin_return_address(0)));
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	return as_ptr(do_mmap(addr, len, prot, flags, fd, off, __builtin_return_address(0)));
}

EXPORT void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
	void *new_addr = NULL;
	if (flags & (MREMAP_FIXED | MREMAP_DONTUNMAP)) {
		va_list ap;
		va_start(ap, flags);
		new_addr = va_arg(ap, void *);
		va_end(ap);
	}
	return as_ptr(do_mremap(old, old_len, new_len, flags, new_addr, __builtin_return_address(0)));
}

EXPORT HOT int mprotect(void *addr, size_t len, int prot)
{
	return (int)as_int(do_mprotect(addr, len, prot, __builtin_return_address(0)));
}

/* Calls that act on mapped ranges (edges.h): not counted, but they must see
 * the ranges a munmap strategy holds as unmapped. */
static inline long edge(enum mv_edge_op op, const void *addr, size_t len, long a, long b)
{
	struct mv_edge c = { .op = op, .addr = (void *)addr, .len = len, .a = a, .b = b };
	return mv_edge_call(&c);
}

EXPORT int mlock(const void *addr, size_t len)
{
	return (int)as_int(edge(MV_EDGE_MLOCK, addr, len, 0, 0));
}

EXPORT int mlock2(const void *addr, size_t len, unsigned int flags)
{
	return (int)as_int(edge(MV_EDGE_MLOCK2, addr, len, flags, 0));
}

EXPORT int munlock(const void *addr, size_t len)
{
	return (int)as_int(edge(MV_EDGE_MUNLOCK, addr, len, 0, 0));
}

EXPORT int mlockall(int flags)
{
	return (int)as_int(edge(MV_EDGE_MLOCKALL, NULL, 0, flags, 0));
}

EXPORT int munlockall(void)
{
	return (int)as_int(edge(MV_EDGE_MUNLOCKALL, NULL, 0, 0, 0));
}

EXPORT int msync(void *addr, size_t len, int flags)
{
	return (int)as_int(edge(MV_EDGE_MSYNC, addr, len, flags, 0));
}

EXPORT int mincore(void *addr, size_t len, unsigned char *vec)
{
	return (int)as_int(edge(MV_EDGE_MINCORE, addr, len, (long)vec, 0));
}

EXPORT int pkey_mprotect(void *addr, size_t len, int prot, int pkey)
{
	return (int)as_int(edge(MV_EDGE_PKEY_MPROTECT, addr, len, prot, pkey));
}

/* glibc >= 2.41 declares it; older ones reach it through syscall(). */
EXPORT int mseal(void *addr, size_t len, unsigned long flags);
EXPORT int mseal(void *addr, size_t len, unsigned long flags)
{
	return (int)as_int(edge(MV_EDGE_MSEAL, addr, len, (long)flags, 0));
}


/* syscall(): the memory calls take the same path as the functions above (the
 * way jemalloc >= 5.3.1 issues process_madvise); every other number is
 * forwarded with all six argument words, as libc's syscall() does. */
EXPORT long syscall(long n, ...)
{
	va_list ap;
	va_start(ap, n);
	long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
	long d = va_arg(ap, long), e = va_arg(ap, long), f = va_arg(ap, long);
	va_end(ap);
	switch (n) {
	case SYS_madvise:
		return as_int(do_madvise((void *)a, (size_t)b, (int)c, __builtin_return_address(0)));
	case SYS_munmap:
		return as_int(do_munmap((void *)a, (size_t)b, __builtin_return_address(0)));
	case SYS_mmap:
		return as_int(do_mmap((void *)a, (size_t)b, (int)c, (int)d, (int)e, (off_t)f, __builtin_return_address(0)));
	case SYS_mremap:
		return as_int(do_mremap((void *)a, (size_t)b, (size_t)c, (int)d, (void *)e, __builtin_return_address(0)));
	case SYS_mprotect:
		return as_int(do_mprotect((void *)a, (size_t)b, (int)c, __builtin_return_address(0)));
	case SYS_process_madvise:
		return as_int(do_process_madvise((int)a, (const struct iovec *)b, (size_t)c, (int)d,
						 (unsigned int)e, __builtin_return_address(0)));
	case SYS_mlock: return as_int(edge(MV_EDGE_MLOCK, (void *)a, (size_t)b, 0, 0));
	case SYS_mlock2: return as_int(edge(MV_EDGE_MLOCK2, (void *)a, (size_t)b, c, 0));
	case SYS_munlock: return as_int(edge(MV_EDGE_MUNLOCK, (void *)a, (size_t)b, 0, 0));
	case SYS_mlockall: return as_int(edge(MV_EDGE_MLOCKALL, NULL, 0, a, 0));
	case SYS_munlockall: return as_int(edge(MV_EDGE_MUNLOCKALL, NULL, 0, 0, 0));
	case SYS_msync: return as_int(edge(MV_EDGE_MSYNC, (void *)a, (size_t)b, c, 0));
	case SYS_mincore: return as_int(edge(MV_EDGE_MINCORE, (void *)a, (size_t)b, c, 0));
	case SYS_pkey_mprotect: return as_int(edge(MV_EDGE_PKEY_MPROTECT, (void *)a, (size_t)b, c, d));
	case SYS_mseal: return as_int(edge(MV_EDGE_MSEAL, (void *)a, (size_t)b, c, 0));
	case SYS_userfaultfd: /* from now on ranges may be registered unseen */
		mv_munmap_note_userfaultfd();
		return as_int(mv_raw6(n, a, b, c, d, e, f));
	default:
		return as_int(mv_raw6(n, a, b, c, d, e, f));
	}
}
