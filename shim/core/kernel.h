/* kernel.h - the only place that issues the program's memory calls.
 *
 * By default requests go to the kernel as raw system calls (msync through
 * libc's, a cancellation point, once the constructor has found it). When
 * another preloaded library defines one of the functions (gperftools exports
 * its own mmap/munmap/mremap), the interposer installs that definition as the
 * "next" function so the chain behind madvisor stays intact. Below the
 * library's state: nothing here reads mv_hot. */
#ifndef MADVISOR_KERNEL_H
#define MADVISOR_KERNEL_H

#include "core/request.h"
#include "sys/objtext.h"
#include <errno.h>
#include <sys/mman.h>
#include "sys/rawsys.h"

struct mv_next {
	/* Code of the object(s) defining the next functions: a call coming from
	 * there while one of them runs is that function's own system call. */
	struct mv_text text[2];
	void *(*mmap)(void *, size_t, int, int, int, off_t);
	int (*munmap)(void *, size_t);
	void *(*mremap)(void *, size_t, size_t, int, ...);
	int (*madvise)(void *, size_t, int);
	int (*mprotect)(void *, size_t, int);
};

/* Install functions that requests of each kind must go through; NULL members
 * (and a NULL argument) mean raw system calls. Returns whether any is set
 * (the caller then routes calls off the straight path: hot.h's MV_ROUTE_NEXT). */
int mv_kernel_set_next(const struct mv_next *next);
/* Whether a next function is installed. */
extern int mv_kernel_next_on;

/* True while this thread is inside a "next" function installed above. A
 * call arriving meanwhile (the next function coming back into the library, or
 * a signal handler) must not go through a next function again: mv_handle
 * sends it straight to the kernel. */
extern __thread int mv_kernel_in_next __attribute__((tls_model("initial-exec")));

/* Whether a call from pc, arriving while a next function runs, comes from
 * the next function's own code (rather than from a signal handler). */
int mv_kernel_from_next(const void *pc);

/* msync through libc's (a cancellation point) once set, else raw. */
long mv_kernel_msync(const struct mv_request *q);

#ifndef SYS_mseal
#define SYS_mseal 462
#endif

/* Issue the request as raw system calls, ignoring any next function. */
static inline __attribute__((always_inline)) long mv_kernel_raw(const struct mv_request *q)
{
	switch (q->kind) {
	case MV_POSIX_MADVISE:
		/* glibc never passes POSIX_MADV_DONTNEED on: Linux's DONTNEED
		 * discards data, which POSIX does not allow. */
		if (q->advice == POSIX_MADV_DONTNEED)
			return 0;
		/* fall through */
	case MV_MADVISE:
		return mv_raw3(SYS_madvise, q->addr, q->len, q->advice);
	case MV_PROCESS_MADVISE:
		return mv_raw6(SYS_process_madvise, q->fd, (long)q->iov, (long)q->vlen, q->advice, q->flags, 0);
	case MV_MUNMAP:
		return mv_raw2(SYS_munmap, q->addr, q->len);
	case MV_MMAP:
		return mv_raw6(SYS_mmap, (long)q->addr, (long)q->len, q->prot, q->flags, q->fd, (long)q->off);
	case MV_MREMAP:
		return mv_raw6(SYS_mremap, (long)q->addr, (long)q->len, (long)q->new_len, q->flags,
			       (long)q->new_addr, 0);
	case MV_MPROTECT:
		return mv_raw3(SYS_mprotect, q->addr, q->len, q->prot);
	case MV_MLOCK:
		return mv_raw2(SYS_mlock, q->addr, q->len);
	case MV_MLOCK2:
		return mv_raw3(SYS_mlock2, q->addr, q->len, q->arg);
	case MV_MUNLOCK:
		return mv_raw2(SYS_munlock, q->addr, q->len);
	case MV_MLOCKALL:
		return mv_raw1(SYS_mlockall, q->arg);
	case MV_MUNLOCKALL:
		return mv_raw0(SYS_munlockall);
	case MV_MSYNC:
		return mv_kernel_msync(q);
	case MV_MINCORE:
		return mv_raw3(SYS_mincore, q->addr, q->len, q->arg);
	case MV_MSEAL:
		return mv_raw3(SYS_mseal, q->addr, q->len, q->arg);
	case MV_PKEY_MPROTECT:
		return mv_raw4(SYS_pkey_mprotect, q->addr, q->len, q->arg, q->pkey);
	case MV_KIND_COUNT:
		break;
	}
	return -ENOSYS;
}

/* Issue the request through the next function for its kind, if any. */
long mv_kernel_call_next(const struct mv_request *req);

/* Issue the request exactly as given. Returns the kernel result or -errno.
 * errno is preserved. POSIX_MADV_DONTNEED is a no-op returning 0, as in glibc. */
static inline long mv_kernel_call(const struct mv_request *req)
{
	if (__builtin_expect(mv_kernel_next_on, 0))
		return mv_kernel_call_next(req);
	return mv_kernel_raw(req);
}

/* libc's msync, used once set (constructor). */
void mv_kernel_set_msync(int (*fn)(void *, size_t, int));

#endif
