# bench/: workload programs, the with/without runner and the overhead benchmark.
# The workloads are also used by the integration tests, so `make` builds them.
noinst_PROGRAMS += bench/workloads/churn bench/workloads/mmap_churn bench/workloads/purge_loop \
	bench/workloads/fault_contention bench/workloads/sparse_touch \
	bench/workloads/pt_shrink
# `madvisor bench` runs bench/matrix (which runs bench/monitor and bench/report)
# on the user's command, `madvisor tune` bench/tune (which runs the madvisor
# command's replay and bench): installed into pkglibexecdir, with what they source.
pkglibexec_PROGRAMS = bench/monitor
dist_pkglibexec_SCRIPTS = bench/matrix bench/report bench/tune
benchlibdir = $(pkglibexecdir)
dist_benchlib_DATA = bench/lib.sh bench/report_tables.awk bench/jsonflat.awk

bench_workloads_churn_SOURCES = bench/workloads/churn.c bench/workloads/wl.h
bench_workloads_churn_LDADD = -lpthread
bench_workloads_mmap_churn_SOURCES = bench/workloads/mmap_churn.c bench/workloads/wl.h
bench_workloads_mmap_churn_LDADD = -lpthread
bench_workloads_purge_loop_SOURCES = bench/workloads/purge_loop.c bench/workloads/wl.h
bench_workloads_fault_contention_SOURCES = bench/workloads/fault_contention.c bench/workloads/wl.h
bench_workloads_fault_contention_LDADD = -lpthread
bench_workloads_sparse_touch_SOURCES = bench/workloads/sparse_touch.c bench/workloads/wl.h
bench_monitor_SOURCES = bench/monitor.c
bench_workloads_pt_shrink_SOURCES = bench/workloads/pt_shrink.c bench/workloads/wl.h
bench_workloads_pt_shrink_LDADD = -ldl
# munmap strategies: map/fault/unmap churn, sparse large mappings, and bench/munmap.
noinst_PROGRAMS += bench/workloads/fault_churn bench/workloads/sparse_map bench/workloads/reserve
# A service's day (busy, a burst, silence): bench/service and the idle-return tests.
noinst_PROGRAMS += bench/workloads/burst
bench_workloads_burst_SOURCES = bench/workloads/burst.c bench/workloads/wl.h
bench_workloads_burst_LDADD = -lpthread
bench_workloads_fault_churn_SOURCES = bench/workloads/fault_churn.c bench/workloads/wl.h
bench_workloads_fault_churn_LDADD = -lpthread
bench_workloads_sparse_map_SOURCES = bench/workloads/sparse_map.c bench/workloads/wl.h
bench_workloads_reserve_SOURCES = bench/workloads/reserve.c bench/workloads/wl.h
EXTRA_DIST += bench/munmap bench/reserve bench/alloc_ranges bench/tuned

EXTRA_DIST += bench/run bench/overhead bench/setup bench/README.md bench/adaptive bench/service \
	bench/ptmodel bench/ptreclaim bench/workloads/dicts.py bench/workloads/redis.sh \
	bench/workloads/sqlite.sh bench/workloads/pytext.py bench/workloads/compile.sh bench/workloads/wl.py
