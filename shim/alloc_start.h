/* alloc_start.h - start the allocator integration in the constructor.
 *
 * Binds the allocator's API, applies the allocator keys, and starts what the
 * configuration asks for: the adaptive purge controller, live stats and
 * purge attribution. */
#ifndef MADVISOR_ALLOC_START_H
#define MADVISOR_ALLOC_START_H

#include "allocator.h"
#include "options.h"

/* Constructor, after the configuration is loaded and the allocator detected.
 * Messages go to fd. Turns counting on when a feature needs the counters. */
void mv_alloc_start(const struct mv_options *o, const struct mv_allocator_info *a, int fd);

#endif
