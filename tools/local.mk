# tools/: the `madvisor` command (launcher, config, replay), out of process.
bin_PROGRAMS += madvisor
madvisor_SOURCES = tools/launcher.c tools/replay.c tools/replay.h tools/where.c tools/where.h tools/simkernel.c tools/simkernel.h
madvisor_LDADD = shim/libshim.la
# An uninstalled launcher finds the profiles and `madvisor bench`'s scripts in
# the source tree; an installed one its scripts in pkglibexecdir (bench/local.mk).
madvisor_CPPFLAGS = $(AM_CPPFLAGS) -DMV_SRCDIR='"$(abs_top_srcdir)"' -DMV_PKGLIBEXECDIR='"$(pkglibexecdir)"'
