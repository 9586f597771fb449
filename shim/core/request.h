/* request.h - the one currency between the interposer and the policy code.
 *
 * preload/ turns each intercepted call into a struct mv_request and hands it
 * to mv_handle() (route/handle.h); shim/ decides what to do and returns the
 * kernel-style result (a negative errno on failure). Tests build requests
 * directly. */
#ifndef MADVISOR_REQUEST_H
#define MADVISOR_REQUEST_H

#include <stddef.h>
#include <sys/types.h>
#include <sys/uio.h>

enum mv_kind {
	MV_MADVISE,         /* madvise(addr, len, advice) */
	MV_PROCESS_MADVISE, /* process_madvise(pidfd, iov, vlen, advice, flags) */
	MV_POSIX_MADVISE,   /* posix_madvise(addr, len, advice) */
	MV_MUNMAP,          /* munmap(addr, len) */
	MV_MMAP,            /* mmap(addr, len, prot, flags, fd, off) */
	MV_MREMAP,          /* mremap(addr, len, new_len, flags, new_addr) */
	MV_MPROTECT,        /* mprotect(addr, len, prot) */
	/* Range calls: not purges, and not counted, traced or modelled, but they
	 * act on mapped ranges, so a munmap strategy must see them (munmap.h).
	 * `arg` is the argument after (addr, len) as the program passed it. */
	MV_MLOCK,           /* mlock(addr, len) */
	MV_MLOCK2,          /* mlock2(addr, len, arg = flags) */
	MV_MUNLOCK,         /* munlock(addr, len) */
	MV_MLOCKALL,        /* mlockall(arg = flags) */
	MV_MUNLOCKALL,      /* munlockall() */
	MV_MSYNC,           /* msync(addr, len, arg = flags) */
	MV_MINCORE,         /* mincore(addr, len, arg = vector) */
	MV_MSEAL,           /* mseal(addr, len, arg = flags) */
	MV_PKEY_MPROTECT,   /* pkey_mprotect(addr, len, arg = prot, pkey) */
	MV_KIND_COUNT
};

/* The first range call: kinds below it are the counted calls. */
#define MV_FIRST_RANGE_CALL MV_MLOCK

struct mv_request {
	enum mv_kind kind;
	int advice;             /* madvise family */
	int prot;               /* mmap, mprotect */
	int flags;              /* mmap, mremap, process_madvise */
	int fd;                 /* mmap; pidfd for process_madvise */
	void *addr;
	size_t len;             /* bytes (old length for mremap; 0 for process_madvise) */
	const void *caller;     /* return address of the intercepted call */
	union {
		off_t off;      /* mmap */
		struct {        /* mremap */
			size_t new_len;
			void *new_addr; /* with MREMAP_FIXED / MREMAP_DONTUNMAP */
		};
		struct {        /* process_madvise */
			const struct iovec *iov;
			size_t vlen;
		};
		struct {        /* range calls */
			long arg;
			int pkey;
		};
	};
};

#endif
