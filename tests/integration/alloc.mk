# Allocator integration with the real allocators behind madvisor: knobs,
# the adaptive controller, live stats (and the Grafana dashboard over them),
# attribution, the JSON schema.
check_PROGRAMS += tests/integration/phases tests/integration/unw_scope tests/integration/attrib_nomalloc \
	tests/integration/callers
tests_integration_phases_SOURCES = tests/integration/phases.c
tests_integration_unw_scope_SOURCES = tests/integration/unw_scope.c
tests_integration_attrib_nomalloc_SOURCES = tests/integration/attrib_nomalloc.c
tests_integration_attrib_nomalloc_LDADD = -lpthread
tests_integration_callers_SOURCES = tests/integration/callers.c bench/workloads/wl.h
# bench/workloads/burst with the allocator linked in (Debian's static archives).
if HAVE_JEMALLOC_PIC_A
check_PROGRAMS += tests/integration/burst_static_je
tests_integration_burst_static_je_SOURCES = bench/workloads/burst.c bench/workloads/wl.h
tests_integration_burst_static_je_LDADD = $(JEMALLOC_PIC_A) -lpthread -ldl -lm
# A jemalloc whose API carries the prefix je_, as --with-jemalloc-prefix=je_
# builds it: Debian's archive with its public functions renamed (its own
# internals are je_* already). malloc stays glibc's; the program calls
# je_malloc and je_free.
JE_PUBLIC = aligned_alloc calloc dallocx free mallctl mallctlbymib mallctlnametomib malloc malloc_conf \
	malloc_conf_2_conf_harder malloc_message malloc_stats_print malloc_usable_size mallocx memalign nallocx \
	posix_memalign rallocx realloc sallocx sdallocx valloc xallocx
tests/integration/libjemalloc_je.a: $(JEMALLOC_PIC_A)
	$(AM_V_GEN)$(OBJCOPY) `for s in $(JE_PUBLIC); do echo --redefine-sym $$s=je_$$s; done` $(JEMALLOC_PIC_A) $@
check_PROGRAMS += tests/integration/burst_prefixed_je
tests_integration_burst_prefixed_je_SOURCES = bench/workloads/burst.c bench/workloads/wl.h
tests_integration_burst_prefixed_je_CPPFLAGS = $(AM_CPPFLAGS) -DBURST_JE_PREFIX
tests_integration_burst_prefixed_je_LDADD = tests/integration/libjemalloc_je.a -lpthread -ldl -lm
EXTRA_tests_integration_burst_prefixed_je_DEPENDENCIES = tests/integration/libjemalloc_je.a
CLEANFILES += tests/integration/libjemalloc_je.a
endif
if HAVE_TCMALLOC_MINIMAL_A
check_PROGRAMS += tests/integration/burst_static_tc
tests_integration_burst_static_tc_SOURCES = bench/workloads/burst.c bench/workloads/wl.h
tests_integration_burst_static_tc_LDADD = $(TCMALLOC_MINIMAL_A) -lstdc++ -lpthread -lm
endif

ALLOC_ITEST_SH = \
	tests/integration/alloc_knobs.sh \
	tests/integration/adaptive.sh \
	tests/integration/idle.sh \
	tests/integration/static.sh \
	tests/integration/callers.sh \
	tests/integration/live.sh \
	tests/integration/dashboard.sh \
	tests/integration/attrib.sh \
	tests/integration/schema.sh
TESTS += $(ALLOC_ITEST_SH)
EXTRA_DIST += $(ALLOC_ITEST_SH) tests/integration/schema_check.py docs/stats.schema.json
