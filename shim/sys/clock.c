/* clock.c - calibrate the tick counter against CLOCK_MONOTONIC. */
#include <time.h>
#include "sys/clock.h"
#include "sys/outbuf.h"
#include "sys/ownsys.h"

static uint64_t start_ticks, start_ns;

static void say_failed(long err)
{
	static int said;
	if (__atomic_exchange_n(&said, 1, __ATOMIC_RELAXED))
		return;
	mv_out_say(2, err, "times and ages read as 0", "cannot read the monotonic clock", NULL);
}

uint64_t mv_clock_mono_ns(void)
{
	struct timespec ts;
	long r = mv_own2(SYS_clock_gettime, CLOCK_MONOTONIC, &ts);
	if (r < 0) {
		say_failed(r);
		return 0;
	}
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
		/* Started just now: spin a short while for a usable interval
		 * (not when the clock cannot be read). */
		while (start_ns && mv_clock_mono_ns() - start_ns < 2000000)
			;
		ns = mv_clock_mono_ns();
		t = mv_ticks();
	}
	if (ns <= start_ns || t <= start_ticks)
		return 1e9;
	return (double)(t - start_ticks) * 1e9 / (double)(ns - start_ns);
}
