/* once.c - messages said once per process tree (once.h). */
#include <stdint.h>
#include <sys/mman.h>
#include "sys/once.h"
#include "sys/ownsys.h"

static uint64_t *shared;  /* one bit per id, in a MAP_SHARED page */
static uint64_t mine;     /* without it: per process */

int mv_once_start(void)
{
	if (__atomic_load_n(&shared, __ATOMIC_ACQUIRE))
		return 0;
	long r = mv_own6(SYS_mmap, 0, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mv_raw_failed(r))
		return (int)r;
	__atomic_store_n(&shared, (uint64_t *)r, __ATOMIC_RELEASE);
	return 0;
}

int mv_once(unsigned id)
{
	uint64_t *w = __atomic_load_n(&shared, __ATOMIC_ACQUIRE), bit = 1ull << (id % 64);
	if (!w)
		w = &mine;
	return !(__atomic_fetch_or(w, bit, __ATOMIC_ACQ_REL) & bit);
}
