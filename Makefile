# phyr: the project's driver (not part of the kernel series).
#
#   make deps      install the Debian 12 packages (no-op when all installed)
#   make tree      build/linux = pristine 6.12 + new kernel files + *.patch
#   make kunit     KUnit in QEMU: x86_64 test machine (debug config), i386,
#                  i386 PAE (or one of them: make kunit-x86_64 ...)
#   make harness   userspace harness checks (tools/testing/phyr)
#   make check     everything above that tests something; exit != 0 on failure
#   make check-full make check, then the boots that do not fit its budget
#   make selftests kselftests from userspace in the test machine
#   make demo      pin 1 GiB from userspace in the test machine: phyr vs sg
#   make bench     userspace benchmarks (tools/testing/phyr)
#   make clean     remove build outputs (keeps build/linux-pristine and ccache)
#   make distclean remove everything we put in build/
#
# Progress lines start with "==> ".  Logs: build/logs/.
SHELL := /bin/bash
.SHELLFLAGS := -eo pipefail -c
.DEFAULT_GOAL := help

HARNESS := tools/testing/phyr
KUNIT_PROFILES := x86_64 i386 i386-pae

# `make check` runs two lanes of steps at the same time (mk/steps.sh):
# CHECK_BUILD_STEPS, the kernel builds (with their own boots) and the
# series' builds, and CHECK_STEPS, what needs no kernel and the boots of
# the x86_64 kernel once the first lane has built it.  It goes on after a failure, prints a summary with
# each step's time, and fails if any step failed.  The mk/*.mk fragments
# add their steps.  `make check-full` runs CHECK_FULL_STEPS after them:
# the boots that do not fit the 60-minute budget of `make check`.
CHECK_BUILD_STEPS := kunit-x86_64 kunit-i386
CHECK_STEPS := harness rdma-rootfs
CHECK_FULL_STEPS := kunit-i386-pae

# Further targets live in mk/*.mk fragments (they may append to CHECK_STEPS).
-include $(sort $(wildcard mk/*.mk))

export MAKE

.PHONY: help deps tree kunit $(addprefix kunit-,$(KUNIT_PROFILES)) harness \
	check check-full demo bench clean distclean

# Every target: the list above, then the "make ..." lines of each mk/*.mk.
help:
	@sed -n '3,15s/^#//p' $(firstword $(MAKEFILE_LIST))
	@sed -n 's/^#\(   make .*\)/\1/p; s/^#\(                .*\)/\1/p' $(sort $(wildcard mk/*.mk))

deps:
	@mk/deps.sh

tree: deps
	@mk/tree.sh

check: deps
	@mk/steps.sh check $(CHECK_BUILD_STEPS) -- $(CHECK_STEPS)

check-full: deps
	@mk/steps.sh check-full $(CHECK_BUILD_STEPS) $(CHECK_FULL_STEPS) -- \
		$(CHECK_STEPS)

kunit: deps
	@mk/steps.sh kunit $(addprefix kunit-,$(KUNIT_PROFILES))

$(addprefix kunit-,$(KUNIT_PROFILES)): kunit-%: tree
	@mk/kunit.sh $*

# tree: the harness also builds lib/phyr_kunit.c, which needs the kernel's
# lib/scatterlist.c from build/linux-pristine
harness: tree
	@if [ -f $(HARNESS)/Makefile ]; then \
		echo "==> harness: make -C $(HARNESS) check"; \
		$(MAKE) --no-print-directory -C $(HARNESS) check; \
	else \
		echo "==> harness: $(HARNESS)/Makefile does not exist yet, skipped"; \
	fi

demo: tree
	@mk/demo.sh

bench: deps
	@echo "==> bench: make -C $(HARNESS) bench"
	@$(MAKE) --no-print-directory -C $(HARNESS) bench

clean:
	@echo "==> clean: build outputs (build/linux-pristine and ccache stay)"
	rm -rf build/linux build/linux.tmp build/linux-stage build/linux.manifest \
		build/linux.manifest.new build/.stamp-tree build/logs \
		$(addprefix build/kunit-,$(KUNIT_PROFILES)) build/kunit-arm64 \
		build/arm64-headers build/arm64-init \
		build/initramfs-* build/gen_init_cpio
	-@if [ -f $(HARNESS)/Makefile ]; then $(MAKE) --no-print-directory -C $(HARNESS) clean; fi

distclean: clean
	rm -rf build/linux-pristine build/linux-pristine.tmp build/.stamp-pristine \
		build/.stamp-apt-update
