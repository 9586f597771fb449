# tests/integration/: libmadvisor.so preloaded into real programs, with
# glibc, jemalloc, tcmalloc and mimalloc behind it. The C programs are plain
# programs (they link nothing of madvisor); the *.sh scripts run them with
# LD_PRELOAD and print TAP.
ITEST_BIN = \
	tests/integration/errno_table \
	tests/integration/call_counts \
	tests/integration/churn \
	tests/integration/threads \
	tests/integration/forks \
	tests/integration/forkthread \
	tests/integration/sigstorm \
	tests/integration/early \
	tests/integration/slots \
	tests/integration/hello \
	tests/integration/holes
check_PROGRAMS += $(ITEST_BIN)

tests_integration_errno_table_SOURCES = tests/integration/errno_table.c
tests_integration_call_counts_SOURCES = tests/integration/call_counts.c tests/integration/counts.h
tests_integration_churn_SOURCES = tests/integration/churn.c
tests_integration_threads_SOURCES = tests/integration/threads.c tests/integration/counts.h
tests_integration_forks_SOURCES = tests/integration/forks.c tests/integration/counts.h
tests_integration_forkthread_SOURCES = tests/integration/forkthread.c
tests_integration_forkthread_LDADD = -lpthread
tests_integration_sigstorm_SOURCES = tests/integration/sigstorm.c tests/integration/counts.h
tests_integration_early_SOURCES = tests/integration/early.c tests/integration/counts.h
tests_integration_slots_SOURCES = tests/integration/slots.c tests/integration/counts.h
tests_integration_hello_SOURCES = tests/integration/hello.c tests/integration/counts.h
tests_integration_holes_SOURCES = tests/integration/holes.c
tests_integration_holes_LDADD = -lpthread

ITEST_SH = \
	tests/integration/errno.sh \
	tests/integration/counts.sh \
	tests/integration/strace.sh \
	tests/integration/threads.sh \
	tests/integration/fork.sh \
	tests/integration/quiet.sh \
	tests/integration/reserve.sh \
	tests/integration/signals.sh \
	tests/integration/early.sh \
	tests/integration/slots.sh \
	tests/integration/config.sh \
	tests/integration/launcher.sh \
	tests/integration/benchcmd.sh \
	tests/integration/tune.sh \
	tests/integration/holes.sh
TESTS += $(ITEST_SH)
EXTRA_DIST += $(ITEST_SH)

