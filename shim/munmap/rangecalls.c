/* edges.c - calls that act on mapped ranges (edges.h). */
#include "munmap/rangecalls.h"
#include "core/hot.h"
#include "munmap/munmap.h"

long mv_edge_call(const struct mv_edge *c)
{
	if (__atomic_load_n(&mv_hot.counting, __ATOMIC_RELAXED) & MV_COUNT_MUNMAP)
		return mv_munmap_edge(c);
	return mv_kernel_range(c);
}
