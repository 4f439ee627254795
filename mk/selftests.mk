# The phyr kselftests in the x86_64 test machine (mk/selftests.sh),
# included from the top-level Makefile.
#
#   make selftests           profiles iommu and noiommu
#   make selftests-PROFILE   one of them
# `make demo` (mk/demo.sh) boots the same guest kernel and initramfs.
SELFTESTS_PROFILES := iommu noiommu

CHECK_STEPS += selftests

.PHONY: selftests $(addprefix selftests-,$(SELFTESTS_PROFILES)) clean-selftests

selftests: deps
	@mk/selftests.sh $(SELFTESTS_PROFILES)

$(addprefix selftests-,$(SELFTESTS_PROFILES)): selftests-%: deps
	@mk/selftests.sh $*

clean: clean-selftests
clean-selftests:
	rm -rf build/selftests-user
