# shim/: everything that is not interposition, built once as a convenience
# library that the preload library, the launcher and the tests all link.
noinst_LTLIBRARIES += shim/libshim.la
shim_libshim_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
shim_libshim_la_SOURCES = \
	shim/rawsys.h shim/ownsys.h shim/request.h \
	shim/kernel.c shim/kernel.h \
	shim/clock.c shim/clock.h \
	shim/outbuf.c shim/outbuf.h \
	shim/stats.c shim/stats.h \
	shim/options.c shim/options.h \
	shim/config.c shim/config.h \
	shim/allocator.c shim/allocator.h \
	shim/objtext.c shim/objtext.h \
	shim/procstat.c shim/procstat.h \
	shim/report.c shim/report.h shim/report_text.c shim/report_json.c \
	shim/runtime.h shim/hot.h shim/probe.c shim/probe.h \
	shim/policy.c shim/policy.h \
	shim/worker.c shim/worker.h \
	shim/handle.c
# Allocator integration: allocator APIs and knobs, adaptive purging, live
# stats, purge attribution.
shim_libshim_la_SOURCES += \
	shim/alloc_api.c shim/alloc_api.h shim/alloc_knobs.c \
	shim/alloc_jemalloc.c shim/alloc_tcmalloc.c shim/alloc_mimalloc.c shim/alloc_glibc.c \
	shim/alloc_start.c shim/alloc_start.h \
	shim/report_alloc.c shim/report_prom.c \
	shim/live.c shim/live.h \
	shim/pressure.c shim/pressure.h shim/adaptive.c shim/adaptive.h \
	shim/attrib.c shim/attrib.h shim/attrib_unwind.c
# Page-table model and stranded-table sweep.
shim_libshim_la_SOURCES += \
	shim/ptmodel.c shim/ptmodel.h shim/ptmodel_hook.h shim/ptmodel_events.c \
	shim/ptmodel_sample.c shim/ptmodel_start.c shim/sweep.c shim/sweep.h \
	shim/trace.c shim/trace.h
# munmap strategies: map registry, recycling cache, deferred munmap.
shim_libshim_la_SOURCES += \
	shim/lock.h shim/registry.c shim/registry.h shim/mapcache.c shim/mapcache.h \
	shim/zero.c shim/zero.h shim/munmap.c shim/munmap.h shim/edges.c shim/edges.h shim/ownmem.c shim/ownmem.h
