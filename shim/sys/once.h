/* once.h - messages said once per process tree.
 *
 * A fork child inherits the parent's memory: a flag set before the fork is
 * set in the child, but one set in a child is that child's own, so a
 * condition first met in fork children (a server forking per request whose
 * children cannot start a thread, say) would be said by every child. These
 * flags live in one shared anonymous page made at start-up, which fork
 * children share (an exec starts a new tree): the first process of the tree
 * to meet the condition says it, the others stay quiet. Without the page
 * (the mmap refused), once per process. */
#ifndef MADVISOR_ONCE_H
#define MADVISOR_ONCE_H

enum mv_once {
	MV_ONCE_WORKER,        /* the background thread cannot start */
	MV_ONCE_UNMAP,         /* the kernel refused to unmap a held range */
	MV_ONCE_TRACE,         /* a thread's trace ring cannot be made */
	MV_ONCE_PAGEMAP,       /* a fork child cannot open its own pagemap */
	MV_ONCE_LIVE,          /* a live stats file cannot be written (+ which: 0..3) */
	MV_ONCE_COUNT = MV_ONCE_LIVE + 4
};

/* Make the shared page (start-up, before the program's calls). 0 or -errno. */
int mv_once_start(void);
/* 1 the first time the process tree asks for `id`, else 0. Async-signal-safe. */
int mv_once(unsigned id);

#endif
