# fuzz/: sanitizer builds and libFuzzer targets.
#
# libFuzzer targets for the configuration parser (string, file, and the
# profile < file < string layering), the output builder, the trace reader and
# the policy engine (against a shadow model), built only when configured with
# CC=clang --enable-fuzz (see scripts/fuzz.sh).
# `make fuzz` runs each target for FUZZ_SECONDS seconds (default 60) from its
# seed corpus in fuzz/corpus/<target>/, keeping what it learns in the build
# tree (fuzz/work/<target>/) and any crash in fuzz/artifacts/.
FUZZ_TARGETS = fuzz/fuzz_config_string fuzz/fuzz_config_file fuzz/fuzz_config_load fuzz/fuzz_outbuf_json \
	fuzz/fuzz_trace fuzz/fuzz_policy
FUZZ_SECONDS = 60

if ENABLE_FUZZ
noinst_PROGRAMS += $(FUZZ_TARGETS)
endif
fuzz_fuzz_config_string_SOURCES = fuzz/fuzz_config_string.c fuzz/fuzz_check.h
fuzz_fuzz_config_string_LDADD = shim/libshim.la
fuzz_fuzz_config_string_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
fuzz_fuzz_config_file_SOURCES = fuzz/fuzz_config_file.c fuzz/fuzz_check.h
fuzz_fuzz_config_file_LDADD = shim/libshim.la
fuzz_fuzz_config_file_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
fuzz_fuzz_config_load_SOURCES = fuzz/fuzz_config_load.c fuzz/fuzz_check.h
fuzz_fuzz_config_load_CPPFLAGS = $(AM_CPPFLAGS) -DFUZZ_CONFIGS_DIR='"$(abs_top_srcdir)/configs"'
fuzz_fuzz_config_load_LDADD = shim/libshim.la
fuzz_fuzz_config_load_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
fuzz_fuzz_trace_SOURCES = fuzz/fuzz_trace.c tools/replay.c tools/replay.h tools/where.c tools/where.h \
	tools/simkernel.c tools/simkernel.h
fuzz_fuzz_trace_CPPFLAGS = $(AM_CPPFLAGS)
fuzz_fuzz_trace_LDADD = shim/libshim.la
fuzz_fuzz_trace_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
fuzz_fuzz_policy_SOURCES = fuzz/fuzz_policy.c fuzz/policy_model.c fuzz/policy_model.h
fuzz_fuzz_policy_LDADD = shim/libshim.la
fuzz_fuzz_policy_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)
fuzz_fuzz_outbuf_json_SOURCES = fuzz/fuzz_outbuf_json.c
fuzz_fuzz_outbuf_json_LDADD = shim/libshim.la -lm
fuzz_fuzz_outbuf_json_LDFLAGS = $(AM_LDFLAGS) $(FUZZ_LDFLAGS)

.PHONY: fuzz fuzz-config_string fuzz-config_file fuzz-config_load fuzz-outbuf_json fuzz-trace fuzz-policy
if ENABLE_FUZZ
# The launcher lists the keys: a key missing from fuzz/config.dict is added
# to this run's copy of it (fuzz/keys.dict), with a warning. The targets then
# run side by side under `make -jN fuzz` (each prints one line), all of them
# even when one fails.
fuzz: $(FUZZ_TARGETS) madvisor$(EXEEXT)
	@$(SHELL) $(srcdir)/fuzz/run.sh --keys ./madvisor$(EXEEXT) $(srcdir)/fuzz/config.dict fuzz/keys.dict
	@$(MAKE) $(AM_MAKEFLAGS) -k fuzz-config_string fuzz-config_file fuzz-config_load fuzz-outbuf_json \
		fuzz-trace fuzz-policy
fuzz-config_string fuzz-config_file fuzz-config_load:
	@$(SHELL) $(srcdir)/fuzz/run.sh fuzz/fuzz_$(@:fuzz-%=%) $(FUZZ_SECONDS) fuzz/keys.dict
fuzz-outbuf_json:
	@$(SHELL) $(srcdir)/fuzz/run.sh fuzz/fuzz_outbuf_json $(FUZZ_SECONDS) $(srcdir)/fuzz/json.dict
fuzz-trace fuzz-policy:
	@$(SHELL) $(srcdir)/fuzz/run.sh fuzz/fuzz_$(@:fuzz-%=%) $(FUZZ_SECONDS) $(srcdir)/fuzz/$(@:fuzz-%=%).dict
else
fuzz:
	@echo "make fuzz: this build was not configured with CC=clang --enable-fuzz (scripts/fuzz.sh does that)" >&2; exit 1
endif

clean-local: clean-fuzz
clean-fuzz:
	-rm -rf fuzz/work fuzz/artifacts fuzz/*.log fuzz/keys.dict
.PHONY: clean-fuzz

# Sanitizer runtime options for `make check` (read only by sanitized programs;
# the user's own settings come last and win):
#  - verify_asan_link_order=0: the launcher puts libmadvisor.so first in
#    LD_PRELOAD, so ASan (a dependency of the sanitized library) is not the
#    first object; it still works, because nothing before it defines malloc.
#  - leak detection stays on: unit tests must be leak-free. Programs run with
#    the library preloaded are given detect_leaks=0 by tests/lib.sh (sh and
#    python3 leak at exit by design, and libmadvisor.so never calls malloc, so
#    a leak report there could never be about madvisor).
#  - halt_on_error / print_stacktrace: the first report fails the test, with
#    the stack that led to it.
AM_TESTS_ENVIRONMENT += \
	ASAN_OPTIONS="verify_asan_link_order=0:print_stacktrace=1$${ASAN_OPTIONS:+:$$ASAN_OPTIONS}"; \
	UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1$${UBSAN_OPTIONS:+:$$UBSAN_OPTIONS}"; \
	TSAN_OPTIONS="halt_on_error=1:second_deadlock_stack=1$${TSAN_OPTIONS:+:$$TSAN_OPTIONS}"; \
	export ASAN_OPTIONS UBSAN_OPTIONS TSAN_OPTIONS;

EXTRA_DIST += fuzz/run.sh fuzz/config.dict fuzz/json.dict fuzz/trace.dict fuzz/policy.dict fuzz/corpus scripts/sanitize.sh scripts/fuzz.sh
