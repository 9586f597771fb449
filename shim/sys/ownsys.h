/* ownsys.h - the system calls madvisor makes on its own behalf.
 *
 * Every call madvisor issues for itself (reading /proc, mapping its caches,
 * probing the kernel, writing reports, starting its thread, loading
 * libunwind) goes through mv_own*: any of them may fail, and madvisor must
 * then fall back to passthrough for the feature concerned. In normal builds
 * these are exactly the raw calls of rawsys.h and the libc functions. A test
 * build (-DMV_FAULT_INJECTION, tests/libmadvisor_fault.so only) asks
 * shim/sys/fault.c first, which fails the calls MADVISOR_FAULT names.
 *
 * The program's own calls never go through here (shim/core/kernel.h). */
#ifndef MADVISOR_OWNSYS_H
#define MADVISOR_OWNSYS_H

#include <dlfcn.h>
#include <pthread.h>
#include "sys/rawsys.h"

/* Pseudo system-call numbers for the library functions madvisor calls. */
#define MV_OWN_PTHREAD_CREATE (-1001L)
#define MV_OWN_DLOPEN (-1002L)
#define MV_OWN_DLSYM (-1003L)

#ifdef MV_FAULT_INJECTION
/* 0, or the negative errno call `n` must fail with (a and b are its first
 * two arguments, for the path filter). */
long mv_fault_check(long n, long a, long b);

static inline long mv_own6(long n, long a, long b, long c, long d, long e, long f)
{
	long err = mv_fault_check(n, a, b);
	return err ? err : mv_raw6(n, a, b, c, d, e, f);
}
static inline int mv_own_pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
	long err = mv_fault_check(MV_OWN_PTHREAD_CREATE, 0, 0);
	return err ? (int)-err : pthread_create(t, attr, fn, arg);
}
static inline void *mv_own_dlopen(const char *name, int flags)
{
	return mv_fault_check(MV_OWN_DLOPEN, (long)name, 0) ? NULL : dlopen(name, flags);
}
static inline void *mv_own_dlsym(void *handle, const char *name)
{
	return mv_fault_check(MV_OWN_DLSYM, (long)name, 0) ? NULL : dlsym(handle, name);
}
#else
#define mv_own6 mv_raw6
#define mv_own_pthread_create pthread_create
#define mv_own_dlopen dlopen
#define mv_own_dlsym dlsym
#endif

#define mv_own0(n) mv_own6((n), 0, 0, 0, 0, 0, 0)
#define mv_own1(n, a) mv_own6((n), (long)(a), 0, 0, 0, 0, 0)
#define mv_own2(n, a, b) mv_own6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define mv_own3(n, a, b, c) mv_own6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define mv_own4(n, a, b, c, d) mv_own6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

#endif
