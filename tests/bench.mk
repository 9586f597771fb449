# tests/bench.mk: the benchmark tools under make check. bench/report runs on a
# fixed results directory (tests/data/bench-results) and its markdown rows are
# checked; bench/monitor's exit status, time limit and exit-time sample; the
# real-program workloads (sqlite3, gcc, python3) at tiny sizes, alone and in
# a one-repetition matrix with its report; `madvisor bench` on a toy command;
# `madvisor tune` on mmap_churn and on programs it cannot help.
TESTS += tests/bench/report.sh tests/bench/monitor.sh tests/bench/real.sh tests/bench/benchcmd.sh tests/bench/tune.sh
EXTRA_DIST += tests/bench/report.sh tests/bench/monitor.sh tests/bench/real.sh tests/bench/benchcmd.sh tests/bench/tune.sh \
	tests/data/bench-results
