/* features.h - the library's features in one ordered table (features.c):
 * start-up, the fork handlers and the report all follow it. */
#ifndef MADVISOR_FEATURES_H
#define MADVISOR_FEATURES_H

#include "core/feature.h"
#include "core/options.h"

/* Start every feature in table order as the options say (constructor, once
 * the configuration, the next functions and the allocator are known). A
 * feature that is on gets its route bits and its worker task; the fork
 * handlers are registered at their place in the table. */
void mv_features_start(const struct mv_options *o, int fd);

/* Start one feature as start-up would, registering the fork handlers first
 * if that was not done yet (tests). 1 on, 0 off, -1 no such feature. */
int mv_feature_start(const char *name, const struct mv_options *o, int fd);

#endif
