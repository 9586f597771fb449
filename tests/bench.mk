# tests/bench.mk: the benchmark tools under make check. bench/report runs on a
# fixed results directory (tests/data/bench-results) and its markdown rows are
# checked; bench/monitor's exit status, time limit and exit-time sample.
TESTS += tests/bench/report.sh tests/bench/monitor.sh
EXTRA_DIST += tests/bench/report.sh tests/bench/monitor.sh tests/data/bench-results
