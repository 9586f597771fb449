# man/: the manual pages. madvisor.conf.5's keys, JSON fields and profiles
# are generated into the page in the tree by man/gen.sh (`make update-man`);
# tests/unit/man_pages.sh checks they are current.
dist_man_MANS = man/madvisor.1 man/madvisor.conf.5
EXTRA_DIST += man/gen.sh man/mdtable.awk man/profile.awk

update-man: madvisor$(EXEEXT)
	$(SHELL) $(srcdir)/man/gen.sh --update ./madvisor$(EXEEXT) $(srcdir)
.PHONY: update-man
