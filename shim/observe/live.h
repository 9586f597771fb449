/* live.h - stats readable while the program runs.
 *
 * The worker rewrites live_file (JSON) and live_prom_file (Prometheus text,
 * for node_exporter's textfile collector) every live_interval_ms and when
 * live_signal arrives. Each file is written to a temporary name in the same
 * directory and renamed over the old one, so a reader never sees half a file.
 * The signal handler, installed only when live_signal is set, only sets a
 * flag and wakes the worker (async-signal-safe); a handler that was there
 * before is still called. With a signal but no file, the worker prints the
 * stats table on stderr. */
#ifndef MADVISOR_LIVE_H
#define MADVISOR_LIVE_H

#include <stdint.h>
#include "core/options.h"

/* Values of the live_signal key. */
enum mv_live_signal { MV_LIVE_SIG_OFF, MV_LIVE_SIG_USR1, MV_LIVE_SIG_USR2 };

/* Start live stats if the options ask for them (constructor). 0 or -1. */
int mv_live_start(const struct mv_options *o, int fd);

#endif
