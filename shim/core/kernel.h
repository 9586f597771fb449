/* kernel.h - the only place that issues the program's memory calls.
 *
 * By default requests go to the kernel as raw system calls. When another
 * preloaded library defines one of the functions (gperftools exports its own
 * mmap/munmap/mremap), the interposer installs that definition as the "next"
 * function so the chain behind madvisor stays intact. */
#ifndef MADVISOR_KERNEL_H
#define MADVISOR_KERNEL_H

#include "core/request.h"
#include "sys/objtext.h"
#include <errno.h>
#include <sys/mman.h>
#include "sys/rawsys.h"
#include "core/hot.h"

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
 * (and a NULL argument) mean raw system calls. */
void mv_kernel_set_next(const struct mv_next *next);

/* True while this thread is inside a "next" function installed above. A
 * call arriving meanwhile (the next function coming back into the library, or
 * a signal handler) must not go through a next function again: mv_handle
 * sends it straight to the kernel. */
extern __thread int mv_kernel_in_next __attribute__((tls_model("initial-exec")));

/* Whether a call from pc, arriving while a next function runs, comes from
 * the next function's own code (rather than from a signal handler). */
int mv_kernel_from_next(const void *pc);

/* Issue the request as raw system calls, ignoring any next function. */
static inline long mv_kernel_raw(const struct mv_request *q)
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
	if (__builtin_expect(mv_hot.have_next, 0))
		return mv_kernel_call_next(req);
	return mv_kernel_raw(req);
}

/* Calls that are not purges but act on mapped ranges (munmap/rangecalls.h
 * says why madvisor sees them). */
enum mv_edge_op {
	MV_EDGE_MLOCK,         /* mlock(addr, len) */
	MV_EDGE_MLOCK2,        /* mlock2(addr, len, a) */
	MV_EDGE_MUNLOCK,       /* munlock(addr, len) */
	MV_EDGE_MLOCKALL,      /* mlockall(a) */
	MV_EDGE_MUNLOCKALL,    /* munlockall() */
	MV_EDGE_MSYNC,         /* msync(addr, len, a) */
	MV_EDGE_MINCORE,       /* mincore(addr, len, (unsigned char *)a) */
	MV_EDGE_MSEAL,         /* mseal(addr, len, a) */
	MV_EDGE_PKEY_MPROTECT, /* pkey_mprotect(addr, len, a = prot, b = pkey) */
};

struct mv_edge {
	enum mv_edge_op op;
	void *addr;
	size_t len;
	long a, b;
};

/* The range call exactly as given, to the kernel (msync through libc's, a
 * cancellation point, once set). */
long mv_kernel_range(const struct mv_edge *c);
/* libc's msync, used once set (constructor). */
void mv_kernel_set_msync(int (*fn)(void *, size_t, int));

#endif
