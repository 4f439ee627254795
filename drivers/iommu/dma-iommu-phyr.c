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
#include <linux/log2.h>
#include <linux/pci-p2pdma.h>
#include <linux/phyr-map-ops.h>

#include "../../lib/phyr_test.h"
#include "dma-iommu.h"

/**
 * DOC: IOMMU mapping of a phyr list
 *
 * The list is laid out in one IOVA allocation made with dma-iommu's own
 * allocator, in two passes over the list.  The first pass classifies
 * peer-to-peer ranges and computes the size: every range of host memory
 * (or of peer-to-peer memory reached through the host bridge) gets a slot
 * of whole IOVA granules, with its offset into the first granule kept, as
 * iommu_dma_map_sg() does.  So consecutive ranges that start and end on
 * granule boundaries are contiguous in IOVA space, and a list of such
 * ranges maps to a single DMA range.
 *
 * The allocator aligns an allocation to its size rounded up to a power of
 * two.  A range of at least the IOMMU's smallest large page (2 MiB with
 * 4 KiB pages) is placed so that its IOVA is congruent to its physical
 * address modulo that page size, padding the IOVA layout if needed, so
 * that the IOMMU can map it with large pages.  A list of naturally aligned
 * large folios needs no padding and still maps linearly; a large range
 * that follows a small one may leave padding between them, and then the
 * result has more than one DMA range.
 *
 * The second pass maps every slot with iommu_map_nosync() and the whole
 * allocation is made visible with a single iommu_sync_map().  Peer-to-peer
 * ranges with a bus address take no IOVA; they keep their bus address in
 * the result, between the IOVA ranges around them.
 *
 * Unmapping walks the result: each IOVA range in it covers whole slots,
 * which are unmapped into one IOTLB gather, flushed once, and the IOVA
 * allocation is freed (through the flush queue when the domain has one).
 * Mapping does the cache maintenance of non-coherent devices for what it
 * maps; unmap and sync leave it to phyr_map.c, which does it for every
 * backend, piece by piece.
 *
 * Untrusted devices and devices whose small kmalloc() buffers must be
 * bounced get the IOMMU mapping only when every range is granule aligned,
 * which exposes no memory beyond the list; anything else is refused with
 * -EOPNOTSUPP rather than bounced or mapped unsafely.
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

/* The smallest page size above the granule, 0 if there is none. */
static size_t phyr_large_page(struct iommu_domain *domain,
			      struct iova_domain *iovad)
{
	unsigned long sizes = domain->pgsize_bitmap & ~(iovad->granule * 2 - 1);

	return sizes ? (size_t)1 << __ffs(sizes) : 0;
}

/* Offset of a range's first byte in the allocation, its slot starts at pos. */
static size_t phyr_iova_place(size_t pos, const struct phyr *r,
			      struct iova_domain *iovad, size_t large)
{
	if (large && r->len >= large) {
		size_t want = (size_t)(r->addr & (large - 1)) -
			      iova_offset(iovad, r->addr);

		pos += (want - pos) & (large - 1);
	}
	return pos + iova_offset(iovad, r->addr);
}

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
	ret = phyr_list_append(&map->list, run->addr, run->len, gfp);
	if (!ret)
		run->len = 0;
	return ret;
}

/*
 * First pass: classify, check and size.  Returns the IOVA bytes needed
 * (0 when everything has a bus address) or a negative errno.
 */
static ssize_t phyr_iommu_layout(struct device *dev, const struct phyr_list *pl,
				 struct iova_domain *iovad, size_t large,
				 enum dma_data_direction dir)
{
	struct pci_p2pdma_map_state p2p_state = {};
	/* Only untrusted devices need whole granules; size 1 catches both. */
	bool untrusted = iommu_dma_use_swiotlb(dev, PAGE_SIZE, dir);
	bool check = iommu_dma_use_swiotlb(dev, 1, dir);
	struct phyr_iter iter;
	size_t pos = 0, end;
	struct phyr r;

	phyr_list_for_each(pl, &iter, r) {
		if (iter.flags & PHYR_RANGE_P2P) {
			switch (phyr_map_p2p_type(&p2p_state, dev, r.addr,
						  r.len)) {
			case PCI_P2PDMA_MAP_BUS_ADDR:
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
			return -EOPNOTSUPP;
		if (r.len > SSIZE_MAX)
			return -EOVERFLOW;
		pos = phyr_iova_place(pos, &r, iovad, large) -
		      iova_offset(iovad, r.addr);
		if (check_add_overflow(pos, phyr_iova_slot(&r, iovad), &end) ||
		    end > SSIZE_MAX)
			return -EOVERFLOW;
		pos = end;
	}
	return pos;
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
 * Return: 0 or a negative errno as for phyr_map().
 */
int iommu_dma_map_phyr(struct phyr_dma *map, unsigned long attrs, gfp_t gfp)
{
	struct device *dev = map->dev;
	enum dma_data_direction dir = map->dir;
	struct iommu_domain *domain = iommu_get_dma_domain(dev);
	struct iova_domain *iovad = iommu_dma_iovad(domain);
	struct pci_p2pdma_map_state p2p_state = {};
	bool coherent = dev_is_dma_coherent(dev);
	int prot = iommu_dma_info_to_prot(dir, coherent, attrs);
	size_t large = phyr_large_page(domain, iovad);
	struct iommu_iotlb_gather gather;
	struct phyr run = { .len = 0 };
	struct phyr_iter iter;
	size_t pos = 0, iova_len;
	ssize_t layout;
	dma_addr_t iova;
	struct phyr r;
	int ret;

	map->backend = PHYR_MAP_IOMMU;

	ret = iommu_dma_deferred_attach(dev, domain);
	if (ret)
		return -EINVAL;
	if (dma_get_min_align_mask(dev) > iova_mask(iovad))
		return -EINVAL;

	layout = phyr_iommu_layout(dev, map->pl, iovad, large, dir);
	if (layout < 0)
		return layout;
	iova_len = layout;

	iova = 0;
	if (iova_len && !phyr_map_should_fail())
		iova = iommu_dma_alloc_iova(domain, iova_len,
					    dma_get_mask(dev), dev);
	if (iova_len && !iova)
		return -ENOMEM;
	phyr_count_iova(iova_len);
	map->iova = iova;
	map->iova_len = iova_len;

	phyr_list_for_each(map->pl, &iter, r) {
		size_t place, slot;

		if (iter.flags & PHYR_RANGE_P2P &&
		    phyr_map_p2p_type(&p2p_state, dev, r.addr, r.len) ==
		    PCI_P2PDMA_MAP_BUS_ADDR) {
			ret = phyr_iommu_flush_run(map, &run, gfp);
			if (ret)
				goto out_unmap;
			ret = phyr_list_append_p2p(&map->list,
						   r.addr + p2p_state.bus_off,
						   r.len, gfp);
			if (ret)
				goto out_unmap;
			continue;
		}

		place = phyr_iova_place(pos, &r, iovad, large);
		slot = phyr_iova_slot(&r, iovad);
		pos = place - iova_offset(iovad, r.addr);
		/* P2P memory is mapped uncached: no cache maintenance. */
		if (!coherent && !(iter.flags & PHYR_RANGE_P2P) &&
		    !(attrs & DMA_ATTR_SKIP_CPU_SYNC))
			arch_sync_dma_for_device(r.addr, r.len, dir);

		ret = -ENOMEM;
		phyr_count_map_call();
		if (!phyr_map_should_fail())
			ret = iommu_map_nosync(domain, iova + pos,
					       r.addr - iova_offset(iovad, r.addr),
					       slot, prot, gfp);
		if (ret)
			goto out_unmap;
		pos += slot;
		if (run.len && run.addr + run.len == iova + place) {
			run.len += r.len;
			continue;
		}
		ret = phyr_iommu_flush_run(map, &run, gfp);
		if (ret) {
			struct phyr cur = { iova + place, r.len };

			iommu_iotlb_gather_init(&gather);
			phyr_iommu_unmap_range(domain, iovad, &cur, &gather);
			iommu_iotlb_sync(domain, &gather);
			goto out_unmap;
		}
		run.addr = iova + place;
		run.len = r.len;
	}
	ret = phyr_iommu_flush_run(map, &run, gfp);
	if (ret)
		goto out_unmap;

	ret = -ENOMEM;
	if (!iova_len || !phyr_map_should_fail())
		ret = iova_len ? iommu_sync_map(domain, iova, iova_len) : 0;
	if (ret)
		goto out_unmap;
	return 0;

out_unmap:
	iommu_iotlb_gather_init(&gather);
	phyr_iommu_unmap_slots(domain, iovad, &map->list, &gather);
	if (run.len)
		phyr_iommu_unmap_range(domain, iovad, &run, &gather);
	iommu_iotlb_sync(domain, &gather);
	if (iova_len) {
		iommu_dma_free_iova(domain->iova_cookie, iova, iova_len, NULL);
		phyr_count_iova(-(long)iova_len);
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

	if (!map->iova_len)
		return;
	iommu_iotlb_gather_init(&gather);
	gather.queued = iommu_dma_fq_enabled(domain);
	phyr_iommu_unmap_slots(domain, iovad, &map->list, &gather);
	if (!gather.queued)
		iommu_iotlb_sync(domain, &gather);
	iommu_dma_free_iova(domain->iova_cookie, map->iova, map->iova_len,
			    &gather);
	phyr_count_iova(-(long)map->iova_len);
}
