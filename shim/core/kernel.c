/* kernel.c - issue a request as a system call or through the next definition. */
#include <errno.h>
#include <sys/mman.h>
#include "core/kernel.h"
#include "sys/rawsys.h"
#include "sys/linux.h"

static struct mv_next next;
__thread int mv_kernel_in_next __attribute__((tls_model("initial-exec")));

void mv_kernel_set_next(const struct mv_next *n)
{
	struct mv_next none = { 0 };
	next = n ? *n : none;
	mv_hot.have_next = next.mmap || next.munmap || next.mremap || next.madvise || next.mprotect;
}

int mv_kernel_from_next(const void *pc)
{
	return mv_text_has(&next.text[0], pc) || mv_text_has(&next.text[1], pc);
}

/* Call a libc-style function (-1 or MAP_FAILED plus errno) and return the
 * kernel convention, leaving the caller's errno as it was. */
#define CALL_NEXT(type, expr, fail)                              \
	do {                                                     \
		int saved_ = errno;                              \
		mv_kernel_in_next = 1;                           \
		type v_ = (expr);                                \
		mv_kernel_in_next = 0;                           \
		long r_ = v_ == (fail) ? -(long)errno : (long)v_; \
		errno = saved_;                                  \
		return r_;                                       \
	} while (0)

long mv_kernel_call_next(const struct mv_request *q)
{
	switch (q->kind) {
	case MV_MMAP:
		if (next.mmap)
			CALL_NEXT(void *, next.mmap(q->addr, q->len, q->prot, q->flags, q->fd, q->off), MAP_FAILED);
		break;
	case MV_MUNMAP:
		if (next.munmap)
			CALL_NEXT(int, next.munmap(q->addr, q->len), -1);
		break;
	case MV_MREMAP:
		if (next.mremap)
			CALL_NEXT(void *, next.mremap(q->addr, q->len, q->new_len, q->flags, q->new_addr), MAP_FAILED);
		break;
	case MV_MADVISE:
		if (next.madvise)
			CALL_NEXT(int, next.madvise(q->addr, q->len, q->advice), -1);
		break;
	case MV_MPROTECT:
		if (next.mprotect)
			CALL_NEXT(int, next.mprotect(q->addr, q->len, q->prot), -1);
		break;
	default:
		break;
	}
	return mv_kernel_raw(q);
}


static int (*libc_msync)(void *, size_t, int);

void mv_kernel_set_msync(int (*fn)(void *, size_t, int))
{
	__atomic_store_n(&libc_msync, fn, __ATOMIC_RELEASE);
}

long mv_kernel_range(const struct mv_edge *c)
{
	switch (c->op) {
	case MV_EDGE_MLOCK: return mv_raw2(SYS_mlock, c->addr, c->len);
	case MV_EDGE_MLOCK2: return mv_raw3(SYS_mlock2, c->addr, c->len, c->a);
	case MV_EDGE_MUNLOCK: return mv_raw2(SYS_munlock, c->addr, c->len);
	case MV_EDGE_MLOCKALL: return mv_raw1(SYS_mlockall, c->a);
	case MV_EDGE_MUNLOCKALL: return mv_raw0(SYS_munlockall);
	case MV_EDGE_MSYNC: {
		int (*fn)(void *, size_t, int) = __atomic_load_n(&libc_msync, __ATOMIC_ACQUIRE);
		if (!fn)
			return mv_raw3(SYS_msync, c->addr, c->len, c->a);
		int saved = errno;
		long r = fn(c->addr, c->len, (int)c->a) == 0 ? 0 : -errno;
		errno = saved;
		return r;
	}
	case MV_EDGE_MINCORE: return mv_raw3(SYS_mincore, c->addr, c->len, c->a);
	case MV_EDGE_MSEAL: return mv_raw3(SYS_mseal, c->addr, c->len, c->a);
	case MV_EDGE_PKEY_MPROTECT: return mv_raw4(SYS_pkey_mprotect, c->addr, c->len, c->a, c->b);
	}
	return -ENOSYS;
}
