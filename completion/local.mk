# completion/: bash completion for the launcher, with the installed profile
# directory filled in. Installed where bash-completion looks for it under the
# prefix (configure --with-bash-completion-dir=DIR to put it elsewhere).
bashcompletion_DATA = completion/madvisor
EXTRA_DIST += completion/madvisor.bash.in
CLEANFILES += completion/madvisor

completion/madvisor: completion/madvisor.bash.in Makefile
	$(AM_V_GEN)$(MKDIR_P) completion && \
	sed -e 's|@profiledir[@]|$(profiledir)|g' $(srcdir)/completion/madvisor.bash.in >$@.tmp && mv $@.tmp $@
# tests/unit/completion.sh needs it built.
check_DATA = completion/madvisor
