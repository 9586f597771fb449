/* clock.h - a cheap tick counter for timing calls on the hot path.
 *
 * Ticks are converted to nanoseconds only at report time, against a
 * CLOCK_MONOTONIC reading taken when the library started. */
#ifndef MADVISOR_CLOCK_H
#define MADVISOR_CLOCK_H

#include <stdint.h>

#if defined(__x86_64__)
static inline uint64_t mv_ticks(void)
{
	uint32_t lo, hi;
	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((uint64_t)hi << 32) | lo;
}
#elif defined(__aarch64__)
static inline uint64_t mv_ticks(void)
{
	uint64_t v;
	__asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v));
	return v;
}
#endif

/* Remember the (ticks, monotonic ns) pair the conversion starts from. */
void mv_clock_start(void);
/* Ticks per second measured since mv_clock_start (at least 1). */
double mv_clock_ticks_per_sec(void);
/* Monotonic nanoseconds (vDSO-free raw clock_gettime). */
uint64_t mv_clock_mono_ns(void);

#endif
