# The arm64 test machine (mk/arm64.sh), included from the top-level
# Makefile with "-include mk/arm64.mk".
#
#   make kunit-arm64             phyr KUnit suites on arm64 (QEMU virt, TCG,
#                                clang): SMMUv3 and direct (non-coherent)
#   make kunit-arm64-PROFILE     one of smmuv3, direct
# make check-full boots both; make check none: a cold arm64 build with
# clang takes as long as the x86_64 kernel's, and does not fit the budget.
ARM64_PROFILES := smmuv3 direct

CHECK_FULL_STEPS += kunit-arm64-smmuv3 kunit-arm64-direct

.PHONY: kunit-arm64 $(addprefix kunit-arm64-,$(ARM64_PROFILES))

kunit-arm64: tree
	@mk/arm64.sh

$(addprefix kunit-arm64-,$(ARM64_PROFILES)): kunit-arm64-%: tree
	@mk/arm64.sh $*
