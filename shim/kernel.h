/* kernel.h - the only place that issues the program's memory calls.
 *
 * By default requests go to the kernel as raw system calls. When another
 * preloaded library defines one of the functions (gperftools exports its own
 * mmap/munmap/mremap), the interposer installs that definition as the "next"
 * function so the chain behind madvisor stays intact. */
#ifndef MADVISOR_KERNEL_H
#define MADVISOR_KERNEL_H

#include "request.h"
#include "objtext.h"

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
long mv_kernel_raw(const struct mv_request *req);

/* Issue the request exactly as given. Returns the kernel result or -errno.
 * errno is preserved. POSIX_MADV_DONTNEED is a no-op returning 0, as in glibc. */
long mv_kernel_call(const struct mv_request *req);

#endif
