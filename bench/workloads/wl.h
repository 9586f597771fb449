/* wl.h - small helpers shared by the workload programs: a seeded PRNG, a
 * monotonic clock, strict number parsing for command-line options and the
 * process's own memory figures.
 *
 * Header-only so each workload stays one self-contained program. */
#ifndef MADVISOR_BENCH_WL_H
#define MADVISOR_BENCH_WL_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* splitmix64: tiny, fast, and the same sequence on every platform. */
static inline uint64_t wl_rand(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n) (n > 0); the modulo bias is irrelevant here. */
static inline uint64_t wl_below(uint64_t *state, uint64_t n)
{
	return wl_rand(state) % n;
}

/* Seed for worker `index`: distinct streams from one user seed. */
static inline uint64_t wl_thread_seed(uint64_t seed, unsigned index)
{
	uint64_t s = seed ^ (0x5851f42d4c957f2dULL * (index + 1));
	(void)wl_rand(&s);
	return s;
}

static inline uint64_t wl_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* Parse an unsigned integer with an optional K/M/G (binary) suffix.
 * Exits with status 2 and a message naming the option on bad input. */
static inline uint64_t wl_parse_size(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		goto bad;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: break;
	}
	if (*end == 'i' || *end == 'B')  /* accept KiB / KB spellings */
		end++;
	if (*end == 'B')
		end++;
	if (*end)
		goto bad;
	return v;
bad:
	fprintf(stderr, "invalid value for %s: '%s'\n", opt, s);
	exit(2);
}

static inline double wl_parse_seconds(const char *opt, const char *s)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || end == s || *end || !(v >= 0) || v > 1e6) {
		fprintf(stderr, "invalid value for %s: '%s'\n", opt, s);
		exit(2);
	}
	return v;
}

/* A "Key:" line of /proc/self/status ("VmRSS:", "VmPTE:") in kB, or -1. */
static inline long wl_status_kb(const char *key)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = -1;
	size_t n = strlen(key);
	if (!f)
		return -1;
	while (fgets(line, sizeof line, f))
		if (strncmp(line, key, n) == 0)
			kb = strtol(line + n, NULL, 10);
	fclose(f);
	return kb;
}

#endif
