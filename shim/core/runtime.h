/* runtime.h - the library's process-wide state, set once at start-up.
 *
 * Written by the constructor (and the fork child handler) while no other
 * thread uses the library's policy; read without locks afterwards. */
#ifndef MADVISOR_RUNTIME_H
#define MADVISOR_RUNTIME_H

#include "core/options.h"
#include "core/allocator.h"
#include "core/feature.h"

struct mv_runtime {
	struct mv_options opt;
	struct mv_allocator_info allocator;
	int configured;    /* constructor has run */
	uint64_t start_ns; /* CLOCK_MONOTONIC at start (or at fork, in a child) */
	/* The features in their order (route/features.c), once started. */
	const struct mv_feature *features;
	int nfeatures;
};

extern struct mv_runtime mv_rt;

#endif
