/* clock.c - calibrate the tick counter against CLOCK_MONOTONIC. */
#include <time.h>
#include "clock.h"
#include "rawsys.h"

static uint64_t start_ticks, start_ns;

uint64_t mv_clock_mono_ns(void)
{
	struct timespec ts;
	if (mv_raw2(SYS_clock_gettime, CLOCK_MONOTONIC, &ts) < 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void mv_clock_start(void)
{
	start_ns = mv_clock_mono_ns();
	start_ticks = mv_ticks();
}

double mv_clock_ticks_per_sec(void)
{
	uint64_t ns = mv_clock_mono_ns(), t = mv_ticks();
	if (!start_ns) {
		mv_clock_start();
		/* Started just now: spin a short while for a usable interval. */
		while (mv_clock_mono_ns() - start_ns < 2000000)
			;
		ns = mv_clock_mono_ns();
		t = mv_ticks();
	}
	if (ns <= start_ns || t <= start_ticks)
		return 1e9;
	return (double)(t - start_ticks) * 1e9 / (double)(ns - start_ns);
}
