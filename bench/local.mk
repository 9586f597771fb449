# bench/: workload programs, the with/without runner and the overhead benchmark.
# The workloads are also used by the integration tests, so `make` builds them.
noinst_PROGRAMS += bench/workloads/churn bench/workloads/mmap_churn bench/workloads/purge_loop

bench_workloads_churn_SOURCES = bench/workloads/churn.c bench/workloads/wl.h
bench_workloads_churn_LDADD = -lpthread
bench_workloads_mmap_churn_SOURCES = bench/workloads/mmap_churn.c bench/workloads/wl.h
bench_workloads_mmap_churn_LDADD = -lpthread
bench_workloads_purge_loop_SOURCES = bench/workloads/purge_loop.c bench/workloads/wl.h

EXTRA_DIST += bench/run bench/overhead bench/setup bench/lib.sh bench/README.md
