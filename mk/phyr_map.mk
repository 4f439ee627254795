# phyr_map KUnit profiles and benchmark (mk/phyr_map.sh), included from the
# top-level Makefile with "-include mk/phyr_map.mk".
#
#   make kunit-phyr_map          noiommu, swiotlb, amd and fq profiles (the iommu
#                                profile runs in make kunit-x86_64)
#   make kunit-phyr_map-PROFILE  one of iommu, noiommu, swiotlb, amd, fq
#   make bench-phyr_map          phyr_map vs dma_map_sgtable table (guest),
#                                then make bench-plots
#   make bench-plots             table and plots/*.png from the bench logs
PHYR_MAP_PROFILES := iommu noiommu swiotlb amd fq

CHECK_STEPS += kunit-phyr_map

.PHONY: kunit-phyr_map $(addprefix kunit-phyr_map-,$(PHYR_MAP_PROFILES)) \
	bench-phyr_map bench-plots

kunit-phyr_map: deps
	@mk/phyr_map.sh

$(addprefix kunit-phyr_map-,$(PHYR_MAP_PROFILES)): kunit-phyr_map-%: deps
	@mk/phyr_map.sh $*

bench-phyr_map: deps
	@mk/phyr_map.sh bench $(PHYR_MAP_BENCH_MB)
	@mk/bench-plot.sh

bench-plots: deps
	@mk/bench-plot.sh
