/* linux.h - Linux constants that older C library headers lack, in one place.
 *
 * madvisor builds against the distribution's headers but runs on newer
 * kernels too: each value here is the kernel's ABI number, defined only when
 * the headers (included first) do not have it. System call numbers are given
 * only for calls numbered alike on every architecture (424 and up). */
#ifndef MADVISOR_LINUX_H
#define MADVISOR_LINUX_H

#include <sys/mman.h>
#include <sys/syscall.h>

/* madvise advice */
#ifndef MADV_COLD
#define MADV_COLD 20
#endif
#ifndef MADV_PAGEOUT
#define MADV_PAGEOUT 21
#endif
#ifndef MADV_POPULATE_READ
#define MADV_POPULATE_READ 22
#endif
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MADV_DONTNEED_LOCKED
#define MADV_DONTNEED_LOCKED 24
#endif
#ifndef MADV_COLLAPSE
#define MADV_COLLAPSE 25
#endif
#ifndef MADV_HWPOISON
#define MADV_HWPOISON 100
#endif
#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL 102
#endif
#ifndef MADV_GUARD_REMOVE
#define MADV_GUARD_REMOVE 103
#endif

/* mmap and mremap flags */
#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif
#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

/* The calling process for pidfd calls, no descriptor needed (Linux 6.15+;
 * the probe tells whether it works here). */
#ifndef PIDFD_SELF
#define PIDFD_SELF (-10000)
#endif

/* System calls */
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_process_madvise
#define SYS_process_madvise 440
#endif
#ifndef SYS_mseal
#define SYS_mseal 462
#endif

#endif
