/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DMA mapping of phyr lists
 *
 * See Documentation/core-api/phyr.rst for how to use phyr_map().
 */
#ifndef _LINUX_PHYR_DMA_H
#define _LINUX_PHYR_DMA_H

#include <linux/dma-direction.h>
#include <linux/errno.h>
#include <linux/limits.h>
#include <linux/minmax.h>
#include <linux/phyr.h>
#include <linux/types.h>

struct device;

/* The list holds DMA addresses: it was made by phyr_map(). */
#define PHYR_LIST_DMA		BIT(2)

struct phyr_list *phyr_map(struct device *dev, struct phyr_list *pl,
			   enum dma_data_direction dir, unsigned long attrs,
			   gfp_t gfp);
void phyr_unmap(struct device *dev, struct phyr_list *pl,
		struct phyr_list *dma, enum dma_data_direction dir,
		unsigned long attrs);
void phyr_sync_for_cpu(struct device *dev, const struct phyr_list *pl,
		       const struct phyr_list *dma,
		       enum dma_data_direction dir);
void phyr_sync_for_device(struct device *dev, const struct phyr_list *pl,
			  const struct phyr_list *dma,
			  enum dma_data_direction dir);

/**
 * phyr_list_is_dma() - Test whether a list holds DMA addresses.
 * @pl: List.
 *
 * A list that phyr_map() returned in place of its input (the identity
 * mapping) is the input list, so this returns %false for it.
 *
 * Context: Any context.
 * Return: %true if @pl was built by phyr_map() for its DMA addresses.
 */
static inline bool phyr_list_is_dma(const struct phyr_list *pl)
{
	return pl->flags & PHYR_LIST_DMA;
}

/**
 * phyr_dma_iter_next() - Return the next DMA range of a mapped list.
 * @iter: Iterator set up by phyr_iter_init() on the list phyr_map() returned.
 * @addr: Filled with the DMA address of the range.
 * @len: Filled with the length of the range in bytes.
 *
 * Context: Any context.
 * Return: %false when the list is exhausted.
 */
static inline bool phyr_dma_iter_next(struct phyr_iter *iter, dma_addr_t *addr,
				      u64 *len)
{
	struct phyr range;

	if (!phyr_iter_next(iter, &range))
		return false;
	*addr = range.addr;
	*len = range.len;
	return true;
}

/**
 * phyr_list_for_each_dma() - Iterate over the DMA ranges of a mapped list.
 * @dma: List returned by phyr_map().
 * @iter: Pointer to a struct phyr_iter.
 * @addr: A dma_addr_t, set to the DMA address of each range in turn.
 * @len: A u64, set to the length of each range in turn.
 *
 * Ranges are returned as long as they are contiguous in DMA space; use
 * phyr_list_for_each_dma_seg() to get the segments a device can take.
 *
 * Context: Any context.
 */
#define phyr_list_for_each_dma(dma, iter, addr, len)			\
	for (phyr_iter_init(iter, dma);					\
	     phyr_dma_iter_next(iter, &(addr), &(len));)

/**
 * struct phyr_seg_iter - Cursor over the DMA segments of a mapped list.
 * @iter: Range cursor underneath.
 * @addr: DMA address of what is left of the current range.
 * @left: Bytes left in the current range.
 * @max_seg: Largest segment the device takes.
 * @boundary: Segment boundary mask of the device.
 */
struct phyr_seg_iter {
	struct phyr_iter iter;
	dma_addr_t addr;
	u64 left;
	u64 max_seg;
	u64 boundary;
};

void phyr_seg_iter_init(struct phyr_seg_iter *siter, struct device *dev,
			const struct phyr_list *dma);

/**
 * phyr_seg_iter_next() - Return the next DMA segment.
 * @siter: Cursor set up by phyr_seg_iter_init().
 * @addr: Filled with the DMA address of the segment.
 * @len: Filled with the length of the segment in bytes.
 *
 * A segment is at most the device's dma_get_max_seg_size() long and does
 * not cross a dma_get_seg_boundary() boundary.  The limits are applied
 * here, at iteration time; the list itself never stores them.
 *
 * Context: Any context.
 * Return: %false when the list is exhausted.
 */
static inline bool phyr_seg_iter_next(struct phyr_seg_iter *siter,
				      dma_addr_t *addr, u64 *len)
{
	u64 n;

	if (!siter->left &&
	    !phyr_dma_iter_next(&siter->iter, &siter->addr, &siter->left))
		return false;
	n = min(siter->left, siter->max_seg);
	/* Bytes up to the next boundary; 0 means the whole address space. */
	if (siter->boundary != U64_MAX) {
		u64 room = siter->boundary - ((u64)siter->addr &
					      siter->boundary) + 1;

		n = min(n, room);
	}
	*addr = siter->addr;
	*len = n;
	siter->addr += n;
	siter->left -= n;
	return true;
}

/**
 * phyr_list_for_each_dma_seg() - Iterate over the DMA segments of a list.
 * @dev: Device the list was mapped for.
 * @dma: List returned by phyr_map().
 * @siter: Pointer to a struct phyr_seg_iter.
 * @addr: A dma_addr_t, set to the DMA address of each segment in turn.
 * @len: A u64, set to the length of each segment in turn.
 *
 * Context: Any context.
 */
#define phyr_list_for_each_dma_seg(dev, dma, siter, addr, len)		\
	for (phyr_seg_iter_init(siter, dev, dma);			\
	     phyr_seg_iter_next(siter, &(addr), &(len));)

/*
 * For DMA mapping backends only (kernel/dma and drivers/iommu); users of
 * the DMA API stop reading here.
 */

/**
 * enum phyr_map_backend - Who made a phyr mapping.
 * @PHYR_MAP_DIRECT: dma-direct: physical or bus addresses, swiotlb.
 * @PHYR_MAP_IOMMU: dma-iommu: one IOVA allocation.
 * @PHYR_MAP_OPS: The device's struct dma_map_ops, range by range.
 */
enum phyr_map_backend {
	PHYR_MAP_DIRECT,
	PHYR_MAP_IOMMU,
	PHYR_MAP_OPS,
};

/**
 * struct phyr_dma_map - A mapping made by phyr_map().
 * @list: The DMA ranges: what phyr_map() returns to its caller.
 * @iova: IOMMU: first byte of the IOVA allocation.
 * @iova_len: IOMMU: bytes of the IOVA allocation, 0 for none.
 * @piece_max: Ranges were mapped in pieces of at most this many bytes.
 * @backend: The &enum phyr_map_backend that made the mapping.
 * @bounced: At least one piece was bounced through swiotlb.
 *
 * Byte n of @list is the DMA address of byte n of the list that was
 * mapped, so the two lists can be walked side by side, piece by piece;
 * that is how unmap and sync find what map did without storing it.
 */
struct phyr_dma_map {
	struct phyr_list list;
	dma_addr_t iova;
	size_t iova_len;
	u64 piece_max;
	u8 backend;
	bool bounced;
};

enum pci_p2pdma_map_type;
struct pci_p2pdma_map_state;

enum pci_p2pdma_map_type phyr_map_p2p_type(struct pci_p2pdma_map_state *state,
					   struct device *dev,
					   phys_addr_t addr, u64 len);

#ifdef CONFIG_IOMMU_DMA
int iommu_dma_map_phyr(struct device *dev, const struct phyr_list *pl,
		       struct phyr_dma_map *map, enum dma_data_direction dir,
		       unsigned long attrs, gfp_t gfp);
void iommu_dma_unmap_phyr(struct device *dev, const struct phyr_list *pl,
			  struct phyr_dma_map *map,
			  enum dma_data_direction dir, unsigned long attrs);
void iommu_dma_sync_phyr_for_cpu(struct device *dev,
				 const struct phyr_list *pl,
				 const struct phyr_dma_map *map,
				 enum dma_data_direction dir);
void iommu_dma_sync_phyr_for_device(struct device *dev,
				    const struct phyr_list *pl,
				    const struct phyr_dma_map *map,
				    enum dma_data_direction dir);
#else
static inline int iommu_dma_map_phyr(struct device *dev,
				     const struct phyr_list *pl,
				     struct phyr_dma_map *map,
				     enum dma_data_direction dir,
				     unsigned long attrs, gfp_t gfp)
{
	return -EOPNOTSUPP;
}

static inline void iommu_dma_unmap_phyr(struct device *dev,
					const struct phyr_list *pl,
					struct phyr_dma_map *map,
					enum dma_data_direction dir,
					unsigned long attrs)
{
}

static inline void iommu_dma_sync_phyr_for_cpu(struct device *dev,
					       const struct phyr_list *pl,
					       const struct phyr_dma_map *map,
					       enum dma_data_direction dir)
{
}

static inline void iommu_dma_sync_phyr_for_device(struct device *dev,
						  const struct phyr_list *pl,
						  const struct phyr_dma_map *map,
						  enum dma_data_direction dir)
{
}
#endif /* CONFIG_IOMMU_DMA */

#if IS_ENABLED(CONFIG_PHYR_MAP_KUNIT_TEST) && IS_ENABLED(CONFIG_IOMMU_DMA_PHYR)
void iommu_dma_phyr_stats(long *iova_live, long *map_calls);
#endif

#ifdef CONFIG_FAULT_INJECTION
/* The fault point of the phyr_map() backends, see kernel/dma/phyr_map.c */
bool phyr_map_should_fail(void);
#else
static inline bool phyr_map_should_fail(void)
{
	return false;
}
#endif

#endif /* _LINUX_PHYR_DMA_H */
