/* trace.h - recording every intercepted call for replay (`trace:PATH`).
 *
 * File: a 32-byte header then 64-byte records, little-endian, in the order
 * the background thread drained them (replay sorts by sequence number).
 * Each application thread appends to its own ring (own memory, no lock); the
 * worker drains the rings into the file. The file stops growing at
 * trace.max bytes; records that did not fit (full ring or file) are counted
 * in a final record. Population samples of the page-table model follow each
 * sampling pass when the model is on. */
#ifndef MADVISOR_TRACE_H
#define MADVISOR_TRACE_H

#include <stdint.h>
#include "core/request.h"

#define MV_TRACE_MAGIC "MVTRACE"   /* 8 bytes with the NUL */
#define MV_TRACE_VERSION 2         /* 1: 56-byte records without t_ns (replay reads both) */
#define MV_TRACE_V1_RECORD 56

struct mv_trace_header {
	char magic[8];
	uint32_t version;
	uint32_t record_size;          /* sizeof(struct mv_trace_rec) */
	uint32_t pid;
	uint32_t allocator;            /* enum mv_allocator_kind of the traced process */
	uint64_t start_ns;             /* CLOCK_MONOTONIC_COARSE when the file was opened */
};

enum mv_trace_type {
	MV_TR_CALL = 1,     /* an intercepted call (process_madvise: one per range) */
	MV_TR_REGION = 2,   /* a sample: addr = 2 MiB region, len = populated entries */
	MV_TR_PASS = 3,     /* a sampling pass ended */
	MV_TR_DROPPED = 4,  /* len = records lost (full ring or size limit) */
};

#define MV_TR_ALLOC 1u   /* bits: the allocator made the call (the policy applies) */
#define MV_TR_FAILED 2u

struct mv_trace_rec {
	uint8_t type, kind, bits, pad;
	int32_t advice;      /* madvise family; prot for mmap/mprotect */
	int32_t flags;
	uint32_t tid;
	uint64_t seq;
	uint64_t addr;
	uint64_t len;
	uint64_t aux;        /* result: mmap/mremap address, else 0 or -errno */
	uint64_t len2;       /* mremap: new length */
	uint64_t t_ns;       /* calls: CLOCK_MONOTONIC_COARSE minus the header's start_ns (version 2) */
};

_Static_assert(sizeof(struct mv_trace_header) == 32, "trace header is 32 bytes");
_Static_assert(sizeof(struct mv_trace_rec) == 64, "trace record is 64 bytes");

/* Open the trace file (the "trace" feature's start, route/features.c). 0 or
 * -1 (one line on stderr_fd; tracing stays off). The router then sets
 * MV_ROUTE_MODEL and adds the drain task. */
int mv_trace_start(const char *path_template, uint64_t max_bytes, unsigned allocator, int stderr_fd);
struct mv_task;
extern struct mv_task mv_trace_worker_task;
/* After a call (any thread; lock-free, no malloc). */
void mv_trace_call(const struct mv_request *q, long result, int allocator_call);
/* Population sample of one region / end of a pass (sampler thread). */
void mv_trace_region(uint64_t region, unsigned pop);
void mv_trace_pass(void);
/* Drain every ring now (the worker; at exit). */
void mv_trace_flush(void);
void mv_trace_atfork_child(void);

#endif
