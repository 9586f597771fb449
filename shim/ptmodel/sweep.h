/* sweep.h - stranded page-table sweep (userfaultfd-guarded check-then-zap). */
#ifndef MADVISOR_SWEEP_H
#define MADVISOR_SWEEP_H

#include <stdint.h>

struct mv_sweep_stats {
	int active;                 /* userfaultfd open: the sweep can run */
	uint64_t passes;
	uint64_t registrations;     /* runs registered with userfaultfd */
	uint64_t swept;             /* regions zapped empty (tables freed under PT_RECLAIM) */
	uint64_t skipped_live;      /* candidates with an entry after all */
	uint64_t register_failed, zap_failed, unregister_failed;
};

/* Open the userfaultfd (full mode). 0, or -1 after one line on stderr_fd. */
int mv_sweep_open(uint32_t max_per_sec, int stderr_fd);
/* The line saying why the sweep stays off: opening a userfaultfd gave err. */
void mv_sweep_refuse(int err, int stderr_fd);
/* In a fork child: a userfaultfd of the child's own (or the sweep stops). */
void mv_sweep_atfork_child(void);
/* Sweep up to `budget` candidate regions now. Returns regions tried. Call
 * only from the worker or a thread that touches no candidate meanwhile. */
unsigned mv_sweep_pass(unsigned budget);
/* The worker's task. */
void mv_sweep_task(void *arg, uint64_t now_ns);
void mv_sweep_stats(struct mv_sweep_stats *out);

#endif
