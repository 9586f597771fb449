# configs/: named policy profiles, installed under $(pkgdatadir)/configs.
profiledir = $(pkgdatadir)/configs
dist_profile_DATA = configs/default.conf configs/churn.conf configs/lowmem.conf configs/service.conf
