/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The interface between phyr_map() and its backends
 *
 * Only for the DMA mapping code in kernel/dma and drivers/iommu, in the way
 * <linux/dma-map-ops.h> is; drivers use <linux/phyr-dma.h>.
 */
#ifndef _LINUX_PHYR_MAP_OPS_H
#define _LINUX_PHYR_MAP_OPS_H

#include <linux/phyr-dma.h>
#include <linux/types.h>

enum pci_p2pdma_map_type;
struct pci_p2pdma_map_state;

/**
 * enum phyr_map_backend - Who made a phyr mapping.
 * @PHYR_MAP_DIRECT: dma-direct: physical or bus addresses, swiotlb.
 * @PHYR_MAP_IOMMU: dma-iommu: one IOVA allocation.
 * @PHYR_MAP_OPS: The device's struct dma_map_ops, piece by piece.
 * @PHYR_MAP_IOMMU_PAGES: dma-iommu's page calls, piece by piece, for lists
 *	that need bouncing (untrusted or non-coherent devices).
 */
enum phyr_map_backend {
	PHYR_MAP_DIRECT,
	PHYR_MAP_IOMMU,
	PHYR_MAP_OPS,
	PHYR_MAP_IOMMU_PAGES,
};

/*
 * iommu_dma_map_phyr() did nothing: the list has ranges that must be
 * bounced, which is done piece by piece with the DMA API's page calls.
 */
#define PHYR_MAP_PIECEWISE	1

enum pci_p2pdma_map_type phyr_map_p2p_type(struct pci_p2pdma_map_state *state,
					   struct device *dev,
					   phys_addr_t addr, u64 len);

#ifdef CONFIG_FAULT_INJECTION
bool phyr_map_should_fail(void);
#else
static inline bool phyr_map_should_fail(void)
{
	return false;
}
#endif

/* drivers/iommu/dma-iommu-phyr.c; call only if CONFIG_IOMMU_DMA_PHYR */
int iommu_dma_map_phyr(struct phyr_dma *map, unsigned long attrs, gfp_t gfp);
void iommu_dma_unmap_phyr(struct phyr_dma *map);

#endif /* _LINUX_PHYR_MAP_OPS_H */
