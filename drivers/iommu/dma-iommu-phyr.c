// SPDX-License-Identifier: GPL-2.0
/*
 * phyr_map() backend for dma-iommu: a whole phyr list in one IOVA range
 *
 * Coding conventions in this file:
 *
 * @map is the mapping being built or torn down, @map->pl its list of CPU
 * physical ranges.  A range's "slot" is the granule-aligned part of the IOVA
 * allocation that it is mapped into; "pos" is an offset from the start of
 * the allocation.
 */

#include <linux/dma-map-ops.h>
#include <linux/iommu.h>
#include <linux/iova.h>
#include <linux/pci-p2pdma.h>
#include <linux/phyr-map-ops.h>

#include "../../lib/phyr_test.h"
#include "dma-iommu.h"

/**
 * DOC: IOMMU mapping of a phyr list
 *
 * The list is laid out in one IOVA allocation made with dma-iommu's own
 * allocator, in two steps.  The first, a pass over the list, classifies
 * peer-to-peer ranges and computes the size: every range of host memory
 * (or of peer-to-peer memory reached through the host bridge) gets a slot
 * of whole IOVA granules, with its offset into the first granule kept, as
 * iommu_dma_map_sg() does.  So consecutive ranges that start and end on
 * granule boundaries are contiguous in IOVA space, and a list of such
 * ranges maps to a single DMA range.
 *
 * The allocator aligns an allocation to its size rounded up to a power of
 * two, so a list of naturally aligned large folios lands on IOVA that the
 * IOMMU can map with large pages.  Nothing is padded for large pages: a
 * large range that follows a small one is mapped with small pages, as
 * iommu_dma_map_sg() maps it, and the result stays one DMA range.
 *
 * When every range takes IOVA, the second step is one iommu_map_phyr()
 * for the whole list: drivers with a map_phyr op fill each leaf table
 * once, across range boundaries.  A list with peer-to-peer ranges that
 * keep their bus address takes a walk instead, which maps the other
 * ranges one by one with iommu_map_nosync() and puts the bus addresses
 * in the result between the IOVA ranges around them.  Either way the
 * allocation is made visible with a single iommu_sync_map(), and the DMA
 * list of a linear mapping is one range in the caller's state.
 *
 * Unmapping removes the whole allocation with one iommu_unmap_fast() into
 * one IOTLB gather (slot by slot when bus addresses sit between them),
 * flushes once and frees the IOVA (through the flush queue when the
 * domain has one).  Mapping does the cache maintenance of non-coherent
 * devices for what it maps; unmap and sync leave it to phyr_map.c, which
 * does it for every backend, piece by piece.
 *
 * Untrusted devices and devices whose small kmalloc() buffers must be
 * bounced get the IOMMU mapping only when every range is granule aligned,
 * which exposes no memory beyond the list.  Otherwise nothing is done
 * here: phyr_map() maps the list piece by piece through
 * iommu_dma_map_page(), which bounces what it must.
 */

#if IS_ENABLED(CONFIG_PHYR_MAP_KUNIT_TEST)
#include <kunit/visibility.h>

static atomic_long_t phyr_iova_live;
static atomic_long_t phyr_iommu_map_calls;

/**
 * iommu_dma_phyr_stats() - Counters of the IOMMU backend, for KUnit.
 * @iova_live: Bytes of IOVA allocated and not yet freed.
 * @map_calls: iommu_map_nosync() calls so far.
 */
void iommu_dma_phyr_stats(long *iova_live, long *map_calls)
{
	*iova_live = atomic_long_read(&phyr_iova_live);
	*map_calls = atomic_long_read(&phyr_iommu_map_calls);
}
EXPORT_SYMBOL_IF_KUNIT(iommu_dma_phyr_stats);

static void phyr_count_iova(long bytes)
{
	atomic_long_add(bytes, &phyr_iova_live);
}

static void phyr_count_map_call(void)
{
	atomic_long_inc(&phyr_iommu_map_calls);
}
#else
static inline void phyr_count_iova(long bytes)
{
}

static inline void phyr_count_map_call(void)
{
}
#endif

static size_t phyr_iova_slot(const struct phyr *r, struct iova_domain *iovad)
{
	return iova_align(iovad, r->len + iova_offset(iovad, r->addr));
}

/* Unmap the slots under a DMA range into @gather. */
static void phyr_iommu_unmap_range(struct iommu_domain *domain,
				   struct iova_domain *iovad,
				   const struct phyr *r,
				   struct iommu_iotlb_gather *gather)
{
	size_t start = iova_align_down(iovad, r->addr);
	size_t size = phyr_iova_slot(r, iovad);
	size_t unmapped;

	unmapped = iommu_unmap_fast(domain, start, size, gather);
	WARN_ON(unmapped != size);
}

/* Unmap the slots of the IOVA ranges in @dma into @gather. */
static void phyr_iommu_unmap_slots(struct iommu_domain *domain,
				   struct iova_domain *iovad,
				   const struct phyr_list *dma,
				   struct iommu_iotlb_gather *gather)
{
	struct phyr_iter iter;
	struct phyr r;

	phyr_list_for_each(dma, &iter, r)
		if (!(iter.flags & PHYR_RANGE_P2P))
			phyr_iommu_unmap_range(domain, iovad, &r, gather);
}

/*
 * Ranges that follow each other in IOVA space are collected in @run and
 * appended as one: a linear mapping costs one append, not one per range.
 */
static int phyr_iommu_flush_run(struct phyr_dma *map, struct phyr *run,
				gfp_t gfp)
{
	int ret;

	if (!run->len)
		return 0;
	ret = phyr_list_append_dma(&map->list, run->addr, run->len, false,
				   gfp);
	if (!ret)
		run->len = 0;
	return ret;
}

/*
 * What the first pass found out about a list.  @p2p is the classification
 * of the last P2P provider it saw, which the second pass starts from: a
 * list of one provider is classified once.
 */
struct phyr_iommu_layout {
	struct pci_p2pdma_map_state p2p;
	size_t iova_len;	/* IOVA bytes needed, 0 if all have bus addresses */
	bool bus_addr;		/* some ranges keep a P2P bus address */
	bool linear;		/* one DMA range: inner boundaries on granules */
};

/*
 * First pass: classify, check and size.  Returns 0, %PHYR_MAP_PIECEWISE if
 * ranges must be bounced, or a negative errno.
 */
static int phyr_iommu_layout(struct device *dev, const struct phyr_list *pl,
			     struct iova_domain *iovad,
			     enum dma_data_direction dir,
			     struct phyr_iommu_layout *lo)
{
	/* Only untrusted devices need whole granules; size 1 catches both. */
	bool untrusted = iommu_dma_use_swiotlb(dev, PAGE_SIZE, dir);
	bool check = iommu_dma_use_swiotlb(dev, 1, dir);
	bool end_unaligned = false;
	struct phyr_iter iter;
	size_t pos = 0;
	struct phyr r;

	lo->p2p = (struct pci_p2pdma_map_state){};
	lo->bus_addr = false;
	lo->linear = true;
	phyr_list_for_each(pl, &iter, r) {
		if (iter.flags & PHYR_RANGE_P2P) {
			switch (phyr_map_p2p_type(&lo->p2p, dev, r.addr,
						  r.len)) {
			case PCI_P2PDMA_MAP_BUS_ADDR:
				lo->bus_addr = true;
				lo->linear = false;
				continue;
			case PCI_P2PDMA_MAP_THRU_HOST_BRIDGE:
				break;
			default:
				return -EREMOTEIO;
			}
		}
		if (check && iova_offset(iovad, r.addr | r.len) &&
		    (untrusted ||
		     iommu_dma_use_swiotlb(dev, min_t(u64, r.len, SIZE_MAX),
					   dir)))
			return PHYR_MAP_PIECEWISE;
		if (r.len > SSIZE_MAX)
			return -EOVERFLOW;
		if (pos && (end_unaligned || iova_offset(iovad, r.addr)))
			lo->linear = false;
		end_unaligned = iova_offset(iovad, r.addr + r.len);
		if (check_add_overflow(pos, phyr_iova_slot(&r, iovad), &pos) ||
		    pos > SSIZE_MAX)
			return -EOVERFLOW;
	}
	lo->iova_len = pos;
	return 0;
}

/*
 * Second pass: the DMA list, and cache maintenance for non-coherent
 * devices.  With @map_each (the list has ranges with a bus address, which
 * take no IOVA), every other range is mapped into its slot here; without
 * it, iommu_map_phyr() has mapped them all.  On error the caller unmaps:
 * the slots of @map->list, and of @run if it is not empty.
 */
static int phyr_iommu_walk(struct phyr_dma *map, dma_addr_t iova,
			   struct phyr *run, bool map_each, int prot,
			   struct pci_p2pdma_map_state *p2p_state,
			   unsigned long attrs, gfp_t gfp)
{
	struct iommu_domain *domain = iommu_get_dma_domain(map->dev);
	struct iova_domain *iovad = iommu_dma_iovad(domain);
	bool sync = !dev_is_dma_coherent(map->dev) &&
		    !(attrs & DMA_ATTR_SKIP_CPU_SYNC);
	struct phyr_iter iter;
	size_t pos = 0, place;
	struct phyr r;
	int ret;

	phyr_list_for_each(map->pl, &iter, r) {
		if (iter.flags & PHYR_RANGE_P2P &&
		    phyr_map_p2p_type(p2p_state, map->dev, r.addr, r.len) ==
		    PCI_P2PDMA_MAP_BUS_ADDR) {
			ret = phyr_iommu_flush_run(map, run, gfp);
			if (!ret)
				ret = phyr_list_append_dma(&map->list,
							   r.addr +
							   p2p_state->bus_off,
							   r.len, true, gfp);
			if (ret)
				return ret;
			continue;
		}

		place = pos + iova_offset(iovad, r.addr);
		/* P2P memory is mapped uncached: no cache maintenance. */
		if (sync && !(iter.flags & PHYR_RANGE_P2P))
			arch_sync_dma_for_device(r.addr, r.len, map->dir);
		if (map_each) {
			ret = -ENOMEM;
			phyr_count_map_call();
			if (!phyr_map_should_fail())
				ret = iommu_map_nosync(domain, iova + pos,
						       r.addr - iova_offset(iovad, r.addr),
						       phyr_iova_slot(&r, iovad),
						       prot, gfp);
			if (ret)
				return ret;
		}
		pos += phyr_iova_slot(&r, iovad);
		if (run->len && run->addr + run->len == iova + place) {
			run->len += r.len;
			continue;
		}
		ret = phyr_iommu_flush_run(map, run, gfp);
		if (ret) {
			/* The range just mapped is in neither. */
			if (map_each) {
				struct phyr cur = { iova + place, r.len };
				struct iommu_iotlb_gather gather;

				iommu_iotlb_gather_init(&gather);
				phyr_iommu_unmap_range(domain, iovad, &cur,
						       &gather);
				iommu_iotlb_sync(domain, &gather);
			}
			return ret;
		}
		run->addr = iova + place;
		run->len = r.len;
	}
	return phyr_iommu_flush_run(map, run, gfp);
}

/**
 * iommu_dma_map_phyr() - Map a phyr list into one IOVA allocation.
 * @map: Mapping to fill in: device, list and direction are set, the DMA
 *	 list is empty.
 * @attrs: %DMA_ATTR_* attributes.
 * @gfp: Allocation flags for the DMA list and IOMMU page tables.
 *
 * For phyr_map().  On error nothing is left mapped and the IOVA is freed;
 * @map->list may hold ranges, which the caller frees.
 *
 * Context: Any context that @gfp allows.
 * Return: 0, %PHYR_MAP_PIECEWISE with nothing done if the list must be
 * bounced, or a negative errno as for phyr_map().
 */
int iommu_dma_map_phyr(struct phyr_dma *map, unsigned long attrs, gfp_t gfp)
{
	struct device *dev = map->dev;
	struct iommu_domain *domain = iommu_get_dma_domain(dev);
	struct iova_domain *iovad = iommu_dma_iovad(domain);
	int prot = iommu_dma_info_to_prot(map->dir, dev_is_dma_coherent(dev),
					  attrs);
	struct iommu_iotlb_gather gather;
	struct phyr run = { .len = 0 };
	struct phyr_iommu_layout lo;
	struct phyr_iter iter;
	struct phyr first;
	bool whole = false;
	dma_addr_t iova;
	ssize_t mapped;
	int ret;

	map->backend = PHYR_MAP_IOMMU;

	ret = iommu_dma_deferred_attach(dev, domain);
	if (ret)
		return -EINVAL;
	if (dma_get_min_align_mask(dev) > iova_mask(iovad))
		return -EINVAL;

	ret = phyr_iommu_layout(dev, map->pl, iovad, map->dir, &lo);
	if (ret)
		return ret;

	iova = 0;
	if (lo.iova_len && !phyr_map_should_fail())
		iova = iommu_dma_alloc_iova(domain, lo.iova_len,
					    dma_get_mask(dev), dev);
	if (lo.iova_len && !iova)
		return -ENOMEM;
	phyr_count_iova(lo.iova_len);
	map->iova = iova;
	map->iova_len = lo.iova_len;
	/* Recorded for unmap, which then skips the bus addresses slot by slot. */
	if (lo.bus_addr)
		map->flags |= PHYR_DMA_BUS_ADDR;

	if (!lo.bus_addr) {
		/* Every range takes IOVA: one pass over the page table. */
		mapped = -ENOMEM;
		phyr_count_map_call();
		if (!phyr_map_should_fail())
			mapped = iommu_map_phyr(domain, iova, map->pl, prot, gfp);
		if (mapped < 0) {
			ret = mapped;
			goto out_free;
		}
		WARN_ON(mapped != lo.iova_len);
		whole = true;
	}
	if (lo.linear && (attrs & DMA_ATTR_SKIP_CPU_SYNC ||
			  dev_is_dma_coherent(dev))) {
		/* One DMA range: no need to look at the others. */
		phyr_iter_init(&iter, map->pl);
		phyr_iter_next(&iter, &first);
		ret = phyr_list_append_dma(&map->list,
					   iova + iova_offset(iovad, first.addr),
					   phyr_list_length(map->pl), false, gfp);
	} else {
		ret = phyr_iommu_walk(map, iova, &run, !whole, prot, &lo.p2p,
				      attrs, gfp);
	}
	if (ret)
		goto out_unmap;

	ret = -ENOMEM;
	if (!lo.iova_len || !phyr_map_should_fail())
		ret = lo.iova_len ? iommu_sync_map(domain, iova, lo.iova_len) : 0;
	if (ret)
		goto out_unmap;
	return 0;

out_unmap:
	iommu_iotlb_gather_init(&gather);
	if (whole) {
		iommu_unmap_fast(domain, iova, lo.iova_len, &gather);
	} else {
		phyr_iommu_unmap_slots(domain, iovad, &map->list, &gather);
		if (run.len)
			phyr_iommu_unmap_range(domain, iovad, &run, &gather);
	}
	iommu_iotlb_sync(domain, &gather);
out_free:
	if (lo.iova_len) {
		iommu_dma_free_iova(domain->iova_cookie, iova, lo.iova_len,
				    NULL);
		phyr_count_iova(-(long)lo.iova_len);
	}
	return ret == -EINVAL || ret == -ENOMEM || ret == -EOVERFLOW ?
	       ret : -ENOMEM;
}

/**
 * iommu_dma_unmap_phyr() - Unmap what iommu_dma_map_phyr() mapped.
 * @map: The mapping.
 *
 * One IOTLB gather for all slots, one flush, one IOVA free.  Leaves the
 * DMA list of @map to the caller.
 *
 * Context: Any context.
 */
void iommu_dma_unmap_phyr(struct phyr_dma *map)
{
	struct iommu_domain *domain = iommu_get_dma_domain(map->dev);
	struct iova_domain *iovad = iommu_dma_iovad(domain);
	struct iommu_iotlb_gather gather;
	size_t unmapped;

	if (!map->iova_len)
		return;
	iommu_iotlb_gather_init(&gather);
	gather.queued = iommu_dma_fq_enabled(domain);
	if (map->flags & PHYR_DMA_BUS_ADDR) {
		phyr_iommu_unmap_slots(domain, iovad, &map->list, &gather);
	} else {
		/* Without bus addresses, the slots fill the allocation. */
		unmapped = iommu_unmap_fast(domain, map->iova, map->iova_len,
					    &gather);
		WARN_ON(unmapped != map->iova_len);
	}
	if (!gather.queued)
		iommu_iotlb_sync(domain, &gather);
	iommu_dma_free_iova(domain->iova_cookie, map->iova, map->iova_len,
			    &gather);
	phyr_count_iova(-(long)map->iova_len);
}
