/* state.c - the library's process-wide state: the hot line every call reads
 * (hot.h) and what start-up decided (runtime.h). Defined here, below every
 * feature, so that each reads it without depending on the router. */
#include "core/hot.h"
#include "core/runtime.h"

struct mv_runtime mv_rt;
__attribute__((aligned(64))) struct mv_hot mv_hot = { .route = MV_ROUTE_COUNT, .time_mask = 15 };
