# Fault injection (tests only): a second copy of the preload library in which
# every call madvisor makes on its own behalf can be forced to fail
# (shim/sys/ownsys.h, shim/sys/fault.c, MADVISOR_FAULT), and whose kernel
# probe can be made to see a leaner kernel (shim/sys/probemask.c,
# MADVISOR_PROBE_MASK). It is never installed; the shipped libmadvisor.so is
# built without either hook.
check_LTLIBRARIES = tests/libmadvisor_fault.la
tests_libmadvisor_fault_la_SOURCES = $(libmadvisor_la_SOURCES) $(shim_libshim_la_SOURCES) shim/sys/fault.c \
	shim/sys/probemask.c
tests_libmadvisor_fault_la_CPPFLAGS = $(AM_CPPFLAGS) -DMV_FAULT_INJECTION
tests_libmadvisor_fault_la_CFLAGS = $(AM_CFLAGS) -fvisibility=hidden -ftls-model=initial-exec
tests_libmadvisor_fault_la_LDFLAGS = -module -avoid-version -shared -rpath $(abs_builddir)/tests \
	-Wl,-z,now -Wl,--no-undefined
TESTS += tests/integration/fault.sh tests/integration/lean.sh
EXTRA_DIST += tests/integration/fault.sh tests/integration/lean.sh
check_PROGRAMS += tests/integration/zero_fill
tests_integration_zero_fill_SOURCES = tests/integration/zero_fill.c
