/* rawsys.h - system calls without libc.
 *
 * madvisor wraps syscall() itself, so it cannot use libc's syscall() to reach
 * the kernel. These inline stubs return the kernel's raw result: a negative
 * errno on failure. They never touch errno and are async-signal-safe. */
#ifndef MADVISOR_RAWSYS_H
#define MADVISOR_RAWSYS_H

#include <sys/syscall.h>

#if defined(__x86_64__)
static inline long mv_raw6(long n, long a, long b, long c, long d, long e, long f)
{
	register long r10 __asm__("r10") = d;
	register long r8 __asm__("r8") = e;
	register long r9 __asm__("r9") = f;
	long ret;
	__asm__ volatile("syscall"
			 : "=a"(ret)
			 : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
			 : "rcx", "r11", "memory");
	return ret;
}
#elif defined(__aarch64__)
static inline long mv_raw6(long n, long a, long b, long c, long d, long e, long f)
{
	register long x8 __asm__("x8") = n;
	register long x0 __asm__("x0") = a;
	register long x1 __asm__("x1") = b;
	register long x2 __asm__("x2") = c;
	register long x3 __asm__("x3") = d;
	register long x4 __asm__("x4") = e;
	register long x5 __asm__("x5") = f;
	__asm__ volatile("svc 0"
			 : "+r"(x0)
			 : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
			 : "memory");
	return x0;
}
#else
#error "madvisor: raw system calls are implemented for x86_64 and aarch64 only"
#endif

#define mv_raw0(n) mv_raw6((n), 0, 0, 0, 0, 0, 0)
#define mv_raw1(n, a) mv_raw6((n), (long)(a), 0, 0, 0, 0, 0)
#define mv_raw2(n, a, b) mv_raw6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define mv_raw3(n, a, b, c) mv_raw6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define mv_raw4(n, a, b, c, d) mv_raw6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

/* True when a raw result is an error (-4095..-1). */
static inline int mv_raw_failed(long r)
{
	return (unsigned long)r > -4096UL;
}

#endif
