# shim/: everything that is not interposition, built once as a convenience
# library that the preload library, the tools and the tests all link.
# One folder per layer; a folder includes only from the folders before it
# (tests/unit/layers.sh checks the #include lines and the link graph):
#   sys ← core ← {munmap, ptmodel, alloc} ← observe ← route
noinst_LTLIBRARIES += shim/libshim.la
shim_libshim_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden
# sys/: the library's own system calls and resources (raw and own calls,
# own memory, output, locks, clock, /proc readers, the probe, the
# background worker). Includes nothing above it.
shim_libshim_la_SOURCES = \
	shim/sys/rawsys.h shim/sys/ownsys.h shim/sys/linux.h shim/sys/testhook.h \
	shim/sys/ownmem.c shim/sys/ownmem.h \
	shim/sys/outbuf.c shim/sys/outbuf.h shim/sys/emit.c shim/sys/emit.h \
	shim/sys/once.c shim/sys/once.h \
	shim/sys/outfile.c shim/sys/outfile.h \
	shim/sys/lock.h \
	shim/sys/clock.c shim/sys/clock.h \
	shim/sys/objtext.c shim/sys/objtext.h \
	shim/sys/elfsym.c shim/sys/elfsym.h \
	shim/sys/procstat.c shim/sys/procstat.h \
	shim/sys/probe.c shim/sys/probe.h \
	shim/sys/worker.c shim/sys/worker.h
# core/: the request, global state, the kernel call, advice transforms,
# counters, options and configuration, allocator detection, the trace.
shim_libshim_la_SOURCES += \
	shim/core/request.h shim/core/hot.h shim/core/runtime.h shim/core/feature.h shim/core/state.c \
	shim/core/kernel.c shim/core/kernel.h \
	shim/core/advice.c shim/core/advice.h shim/core/split.h \
	shim/core/stats.c shim/core/stats.h \
	shim/core/options.c shim/core/options.h \
	shim/core/config.c shim/core/config.h \
	shim/core/allocator.c shim/core/allocator.h \
	shim/core/trace.c shim/core/trace.h
# munmap/: munmap strategies: dispatch (range calls too), recycling,
# deferral, the map registry, the held-range cache, zeroing.
shim_libshim_la_SOURCES += \
	shim/munmap/munmap.c shim/munmap/munmap.h \
	shim/munmap/registry.c shim/munmap/registry.h \
	shim/munmap/mapcache.c shim/munmap/mapcache.h \
	shim/munmap/zero.c shim/munmap/zero.h \
	shim/munmap/whatif.c shim/munmap/whatif.h
# ptmodel/: the page-table model, its events and sampling, the sweep.
shim_libshim_la_SOURCES += \
	shim/ptmodel/model.c shim/ptmodel/model.h shim/ptmodel/hook.h \
	shim/ptmodel/events.c shim/ptmodel/sample.c shim/ptmodel/start.c \
	shim/ptmodel/sweep.c shim/ptmodel/sweep.h
# alloc/: allocator integration: the allocator API and its backends, knobs,
# memory pressure (PSI, cgroup) and the adaptive controller.
shim_libshim_la_SOURCES += \
	shim/alloc/api.c shim/alloc/api.h shim/alloc/knobs.c \
	shim/alloc/jemalloc.c shim/alloc/tcmalloc.c shim/alloc/mimalloc.c shim/alloc/glibc.c \
	shim/sys/pressure.c shim/sys/pressure.h shim/alloc/adaptive.c shim/alloc/adaptive.h
# observe/: reports (text, JSON, Prometheus, allocator), live files, purge
# attribution.
shim_libshim_la_SOURCES += \
	shim/observe/report.c shim/observe/report.h \
	shim/observe/report_text.c shim/observe/report_json.c \
	shim/observe/report_alloc.c shim/observe/report_prom.c \
	shim/observe/live.c shim/observe/live.h \
	shim/observe/attrib.c shim/observe/attrib.h shim/observe/attrib_unwind.c
# route/: the one place that knows every feature: the table of features in
# their order (start-up, fork, report) and the routing of each request
# through those that are on.
shim_libshim_la_SOURCES += \
	shim/route/handle.c shim/route/handle.h \
	shim/route/features.c shim/route/features.h
