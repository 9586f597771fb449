/* ownmem.c - memory madvisor maps for itself (ownmem.h). */
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include "sys/ownmem.h"
#include "sys/ownsys.h"
#include "sys/lock.h"

#define PAGE 4096UL
#define CLASSES 13 /* 4 KiB .. 16 MiB */

struct free_piece {
	struct free_piece *next;
};

static uintptr_t base;      /* the reservation, or 0 */
static uintptr_t used;      /* bytes handed out from it, by bump */
static int reserve_failed;
static struct {
	mv_lock_t lock;
	struct free_piece *head;
} freed[CLASSES];

int mv_ownmem_reserve(void)
{
	if (__atomic_load_n(&base, __ATOMIC_ACQUIRE) || __atomic_load_n(&reserve_failed, __ATOMIC_RELAXED))
		return 0;
	long r = mv_own6(SYS_mmap, 0, (long)MV_OWNMEM_RESERVE, PROT_NONE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mv_raw_failed(r)) {
		__atomic_store_n(&reserve_failed, 1, __ATOMIC_RELAXED);
		return (int)r;
	}
	uintptr_t none = 0;
	if (!__atomic_compare_exchange_n(&base, &none, (uintptr_t)r, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		mv_own2(SYS_munmap, r, MV_OWNMEM_RESERVE); /* another thread's won */
	return 0;
}

static int class_of(size_t len, size_t *rounded)
{
	size_t n = PAGE;
	int c = 0;
	while (n < len && c < CLASSES - 1) {
		n <<= 1;
		c++;
	}
	*rounded = n < len ? (len + PAGE - 1) & ~(PAGE - 1) : n;
	return n < len ? -1 : c;
}

static void *fresh_map(size_t n)
{
	long r = mv_own6(SYS_mmap, 0, (long)n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	return mv_raw_failed(r) ? NULL : (void *)r;
}

void *mv_ownmem_alloc(size_t len)
{
	size_t n;
	int c = class_of(len ? len : 1, &n);
	if (c >= 0 && mv_trylock(&freed[c].lock)) {
		struct free_piece *f = freed[c].head;
		if (f)
			freed[c].head = f->next;
		mv_unlock(&freed[c].lock);
		if (f) {
			memset(f, 0, n);
			return f;
		}
	}
	mv_ownmem_reserve();
	uintptr_t b = __atomic_load_n(&base, __ATOMIC_ACQUIRE);
	if (b && c >= 0) {
		uintptr_t off = __atomic_fetch_add(&used, n, __ATOMIC_RELAXED);
		if (off + n <= MV_OWNMEM_RESERVE) {
			/* Its own pages only: the read-write part grows as one VMA. */
			if (!mv_raw_failed(mv_own3(SYS_mprotect, b + off, n, PROT_READ | PROT_WRITE)))
				return (void *)(b + off);
			return NULL; /* out of memory (commit limit): as a failed mmap */
		}
	}
	return fresh_map(n);
}

/* Whether p lies in the reservation. */
static int owns(const void *p)
{
	uintptr_t b = __atomic_load_n(&base, __ATOMIC_ACQUIRE);
	return b && (uintptr_t)p - b < MV_OWNMEM_RESERVE;
}

void mv_ownmem_free(void *p, size_t len)
{
	size_t n;
	int c = class_of(len ? len : 1, &n);
	if (!p)
		return;
	if (c < 0 || !owns(p)) {
		mv_own2(SYS_munmap, p, n);
		return;
	}
	/* Never waits: a fork child may have inherited the lock held. Under
	 * contention the piece stays out of the lists (it keeps its pages). */
	struct free_piece *f = p;
	for (int i = 0; i < 1000; i++) {
		if (mv_trylock(&freed[c].lock)) {
			f->next = freed[c].head;
			freed[c].head = f;
			mv_unlock(&freed[c].lock);
			return;
		}
		mv_cpu_relax();
	}
}
