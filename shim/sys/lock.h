/* lock.h - a small futex mutex for short critical sections.
 *
 * Used by the map registry and the munmap strategies: no malloc, no libc
 * (raw futex calls), one word. 0 = free, 1 = held, 2 = held with waiters
 * (Drepper, "Futexes are tricky"). A short spin first: sections are a few
 * dozen instructions, so a waiter usually gets the lock without sleeping;
 * a holder preempted on a busy machine makes waiters sleep instead of spin.
 * Not recursive; callers keep signal handlers out (munmap.c). */
#ifndef MADVISOR_LOCK_H
#define MADVISOR_LOCK_H

#include <linux/futex.h>
#include "sys/ownsys.h"

typedef struct {
	int v;
} mv_lock_t;

#define MV_LOCK_INIT { 0 }

static inline int mv_trylock(mv_lock_t *l)
{
	int z = 0;
	return __atomic_compare_exchange_n(&l->v, &z, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED);
}

#if defined(__x86_64__)
#define mv_cpu_relax() __builtin_ia32_pause()
#else
#define mv_cpu_relax() __asm__ volatile("yield" ::: "memory")
#endif

static __attribute__((noinline, unused)) void mv_lock_slow(mv_lock_t *l)
{
	for (int i = 0; i < 100; i++) {
		mv_cpu_relax();
		if (__atomic_load_n(&l->v, __ATOMIC_RELAXED) == 0 && mv_trylock(l))
			return;
	}
	while (__atomic_exchange_n(&l->v, 2, __ATOMIC_ACQUIRE) != 0)
		mv_own4(SYS_futex, &l->v, FUTEX_WAIT_PRIVATE, 2, 0);
}

static inline void mv_lock(mv_lock_t *l)
{
	if (__builtin_expect(!mv_trylock(l), 0))
		mv_lock_slow(l);
}

static inline void mv_unlock(mv_lock_t *l)
{
	if (__builtin_expect(__atomic_exchange_n(&l->v, 0, __ATOMIC_RELEASE) == 2, 0))
		mv_own3(SYS_futex, &l->v, FUTEX_WAKE_PRIVATE, 1);
}

/* In a fork child: the lock was held by the forking thread (atfork prepare).
 * A thread the child has started already (its worker, restarted by an
 * earlier child handler) may be waiting for it: wake it. */
static inline void mv_lock_reset(mv_lock_t *l)
{
	mv_unlock(l);
}

#endif
