/* SPDX-License-Identifier: GPL-2.0 */
/*
 * DMA mapping of phyr lists
 *
 * See Documentation/core-api/phyr.rst for how to use phyr_map().
 */
#ifndef _LINUX_PHYR_DMA_H
#define _LINUX_PHYR_DMA_H

#include <linux/compiler.h>
#include <linux/dma-mapping.h>
#include <linux/gfp_types.h>
#include <linux/limits.h>
#include <linux/minmax.h>
#include <linux/phyr.h>
#include <linux/types.h>

struct device;
struct sg_table;

/**
 * struct phyr_dma - A phyr list mapped for DMA.
 *
 * The caller owns this state and usually embeds it in its own object; it
 * is at most 64 bytes on 64-bit machines.  phyr_map() fills it in;
 * phyr_unmap() and the sync calls take nothing else.  Mapping never
 * allocates the state, and allocates nothing at all when the DMA
 * addresses form a single range: the device sees the list as it is, the
 * list was mapped into one linear IOVA range, which the state's struct
 * dma_iova_state describes, or the list is one range mapped in one
 * piece.  Read it only through the helpers in this header.
 */
struct phyr_dma {
	/* private: */
	struct dma_iova_state state;
	const struct phyr_list *pl;
	struct device *dev;
	struct phyr_list *list;
	u64 piece_max;
	unsigned long seg_boundary;
	unsigned int max_seg;
	u8 dir;
	u8 backend;
	u8 flags;
};

/* Flags of struct phyr_dma, for the mapping code. */
#define PHYR_DMA_MAPPED		BIT(0)	/* between phyr_map() and phyr_unmap() */
#define PHYR_DMA_IDENTITY	BIT(1)	/* the DMA ranges are the input list */
#define PHYR_DMA_BUS_ADDR	BIT(2)	/* its one range is a P2P bus address */

int __must_check phyr_map(struct device *dev, const struct phyr_list *pl,
			  struct phyr_dma *map, enum dma_data_direction dir,
			  unsigned long attrs, gfp_t gfp);
void phyr_unmap(struct phyr_dma *map, unsigned long attrs);
void phyr_sync_for_cpu(const struct phyr_dma *map, u64 offset, u64 len);
void phyr_sync_for_device(const struct phyr_dma *map, u64 offset, u64 len);
unsigned long phyr_dma_nr_segs(const struct phyr_dma *map);
const struct phyr_list *phyr_dma_list(const struct phyr_dma *map,
				      struct phyr_list *one);
int __must_check phyr_list_import_sgtable_dma(struct phyr_list *pl,
					      const struct sg_table *sgt,
					      u64 offset, u64 len, gfp_t gfp);

/**
 * phyr_dma_mapped() - Test whether a mapping is in place.
 * @map: Mapping state.
 *
 * Context: Any context.
 * Return: %true between a successful phyr_map() and phyr_unmap().
 */
static inline bool phyr_dma_mapped(const struct phyr_dma *map)
{
	return map->flags & PHYR_DMA_MAPPED;
}

/**
 * phyr_dma_length() - Bytes mapped.
 * @map: Mapping made by phyr_map().
 *
 * Context: Any context.
 * Return: The length of the list that was mapped.
 */
static inline u64 phyr_dma_length(const struct phyr_dma *map)
{
	return phyr_list_length(map->pl);
}

/**
 * struct phyr_dma_iter - Cursor over the DMA addresses of a mapping.
 * @iter: Cursor over the DMA ranges underneath.
 * @one: Room for the DMA list of a mapping that is one IOVA range.
 * @addr: DMA address of what is left of the current range.
 * @left: Bytes left in the current range.
 * @max_seg: Largest segment the device takes.
 * @boundary: Segment boundary mask of the device.
 *
 * An on-stack cursor, set up by phyr_dma_iter_init().  The device limits
 * are those phyr_map() captured from the device.
 */
struct phyr_dma_iter {
	struct phyr_iter iter;
	struct phyr_list one;
	dma_addr_t addr;
	u64 left;
	u64 max_seg;
	u64 boundary;
};

/**
 * phyr_dma_iter_init() - Start iterating over a mapping.
 * @diter: Cursor.
 * @map: Mapping made by phyr_map().
 *
 * Context: Any context.
 */
static inline void phyr_dma_iter_init(struct phyr_dma_iter *diter,
				      const struct phyr_dma *map)
{
	phyr_iter_init(&diter->iter, phyr_dma_list(map, &diter->one));
	diter->addr = 0;
	diter->left = 0;
	diter->max_seg = map->max_seg;
	diter->boundary = map->seg_boundary;
}

/**
 * phyr_dma_iter_seek() - Move a cursor to a byte offset of a mapping.
 * @diter: Cursor set up by phyr_dma_iter_init().
 * @offset: Offset from the start of the mapping, in bytes.
 *
 * O(log n) in the number of DMA ranges.  Segments after a seek start at
 * @offset and are cut to the device limits from there.
 *
 * Context: Any context.
 * Return: %true if @offset lies within the mapping; otherwise %false and
 * @diter is exhausted.
 */
static inline bool phyr_dma_iter_seek(struct phyr_dma_iter *diter, u64 offset)
{
	diter->left = 0;
	return phyr_iter_seek(&diter->iter, offset);
}

/**
 * phyr_dma_iter_next_range() - Return the next DMA range of a mapping.
 * @diter: Cursor set up by phyr_dma_iter_init().
 * @addr: Filled with the DMA address of the range.
 * @len: Filled with the length of the range in bytes.
 *
 * For callers that cut the ranges themselves; do not mix with
 * phyr_dma_iter_next_seg() on one cursor.
 *
 * Context: Any context.
 * Return: %false when the mapping is exhausted.
 */
static inline bool phyr_dma_iter_next_range(struct phyr_dma_iter *diter,
					    dma_addr_t *addr, u64 *len)
{
	struct phyr range;

	if (!phyr_iter_next(&diter->iter, &range))
		return false;
	*addr = range.addr;
	*len = range.len;
	return true;
}

/**
 * phyr_dma_iter_next_seg() - Return the next DMA segment of a mapping.
 * @diter: Cursor set up by phyr_dma_iter_init().
 * @addr: Filled with the DMA address of the segment.
 * @len: Filled with the length of the segment in bytes.
 *
 * A segment is at most the device's dma_get_max_seg_size() long and does
 * not cross a dma_get_seg_boundary() boundary.  The list never stores
 * these limits; they are applied here.
 *
 * Context: Any context.
 * Return: %false when the mapping is exhausted.
 */
static inline bool phyr_dma_iter_next_seg(struct phyr_dma_iter *diter,
					  dma_addr_t *addr, u64 *len)
{
	u64 n;

	if (!diter->left &&
	    !phyr_dma_iter_next_range(diter, &diter->addr, &diter->left))
		return false;
	n = min(diter->left, diter->max_seg);
	/* Bytes up to the next boundary; U64_MAX has none. */
	if (diter->boundary != U64_MAX)
		n = min(n, diter->boundary -
			   ((u64)diter->addr & diter->boundary) + 1);
	*addr = diter->addr;
	*len = n;
	diter->addr += n;
	diter->left -= n;
	return true;
}

/**
 * phyr_dma_for_each_seg() - Iterate over the DMA segments of a mapping.
 * @map: Mapping made by phyr_map().
 * @diter: Pointer to a struct phyr_dma_iter.
 * @addr: A dma_addr_t, set to the DMA address of each segment in turn.
 * @len: A u64, set to the length of each segment in turn.
 *
 * Each segment fits the device's maximum segment size and segment
 * boundary, as captured by phyr_map(): what a driver programs into its
 * descriptors.  phyr_dma_nr_segs() counts them.
 *
 * Context: Any context.
 */
#define phyr_dma_for_each_seg(map, diter, addr, len)			\
	for (phyr_dma_iter_init(diter, map);				\
	     phyr_dma_iter_next_seg(diter, &(addr), &(len));)

/**
 * phyr_dma_for_each_range() - Iterate over the raw DMA ranges of a mapping.
 * @map: Mapping made by phyr_map().
 * @diter: Pointer to a struct phyr_dma_iter.
 * @addr: A dma_addr_t, set to the DMA address of each range in turn.
 * @len: A u64, set to the length of each range in turn.
 *
 * Ranges are as long as they are contiguous in DMA space and ignore the
 * device's segment limits: for callers that cut them up themselves, such
 * as RDMA's block iteration.  Use phyr_dma_for_each_seg() otherwise.
 *
 * Context: Any context.
 */
#define phyr_dma_for_each_range(map, diter, addr, len)			\
	for (phyr_dma_iter_init(diter, map);				\
	     phyr_dma_iter_next_range(diter, &(addr), &(len));)

#endif /* _LINUX_PHYR_DMA_H */
