// SPDX-License-Identifier: GPL-2.0
/*
 * DMA mapping of phyr lists: phyr_map(), phyr_unmap() and the sync calls
 *
 * Coding conventions in this file:
 *
 * @pl is the list of CPU physical ranges that was mapped, @dma the list of
 * DMA ranges that phyr_map() returned for it, @map the struct phyr_dma_map
 * around @dma.  A "piece" is the part of a range that was mapped by one
 * call of the backend (a whole range, or at most @map->piece_max bytes of
 * it when it may have been bounced).
 */

#include <linux/cc_platform.h>
#include <linux/dma-map-ops.h>
#include <linux/export.h>
#include <linux/fault-inject.h>
#include <linux/init.h>
#include <linux/iommu-dma.h>
#include <linux/kmsan.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/pci-p2pdma.h>
#include <linux/phyr-dma.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>
#include "debug.h"
#include "direct.h"

#include <trace/events/dma.h>

/**
 * DOC: Mapping a phyr list for DMA
 *
 * phyr_map() takes a list of CPU physical ranges and returns a list of DMA
 * ranges in the same struct phyr_list format, so a driver walks both with
 * the same iterators.  Byte n of the result is the DMA address of byte n
 * of the input: the result describes the same bytes in the same order.
 * Nothing else is recorded about how each range was mapped; phyr_unmap()
 * and the sync calls walk the two lists side by side and find it again.
 *
 * There are three backends, chosen like dma_map_page_attrs() chooses
 * them: dma-direct, dma-iommu and the device's struct dma_map_ops.
 *
 * dma-direct has a fast path.  When the device sees CPU physical
 * addresses as they are (no bus offset in &device.dma_range_map, no
 * memory encryption, no forced bouncing, no peer-to-peer memory) and the
 * highest address of the list is within its DMA mask, which the list
 * keeps as a summary, the DMA list is the input list: phyr_map() returns
 * @pl itself, in O(1) and without allocating.  Otherwise every range is
 * translated into a new list, and ranges the device cannot reach are
 * bounced through swiotlb in pieces of at most swiotlb_max_mapping_size().
 *
 * dma-iommu (drivers/iommu/dma-iommu-phyr.c) allocates one IOVA range for
 * the whole list and maps every range into it, so that the result is a
 * single range when the list maps linearly.
 *
 * PCI peer-to-peer ranges are classified with the kernel's own pci_p2pdma
 * rules, once per provider and call: a bus address that bypasses the
 * IOMMU, a mapping through the host bridge like host memory, or -EREMOTEIO
 * with nothing left mapped.  A list without peer-to-peer ranges never
 * looks at them.
 *
 * Whatever the backend, trace events and DMA-API debugging (one entry per
 * mapping, of type "phyr") are handled here, in one place.
 */

#ifdef CONFIG_FAULT_INJECTION
static DECLARE_FAULT_ATTR(phyr_map_fail_attr);

/**
 * phyr_map_should_fail() - Fault point of the phyr_map() backends.
 *
 * Every step of phyr_map() that can fail and does not allocate through
 * lib/phyr.c (IOVA allocation, iommu_map(), swiotlb, result allocation)
 * asks this first, so a test can make the n-th of them fail with
 * current->fail_nth, or all of them through debugfs "fail_phyr_map".
 *
 * Context: Any context.
 * Return: %true if the caller must act as if its step failed.
 */
bool phyr_map_should_fail(void)
{
	return should_fail_ex(&phyr_map_fail_attr, 1, FAULT_NOWARN);
}
EXPORT_SYMBOL_GPL(phyr_map_should_fail);

#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
static int __init phyr_map_fail_debugfs(void)
{
	return PTR_ERR_OR_ZERO(fault_create_debugfs_attr("fail_phyr_map", NULL,
							 &phyr_map_fail_attr));
}
late_initcall(phyr_map_fail_debugfs);
#endif
#endif /* CONFIG_FAULT_INJECTION */

/**
 * phyr_map_p2p_type() - Classify a range of PCI peer-to-peer memory.
 * @state: Classification cache, zeroed before the first range of a call.
 * @dev: Device the range is mapped for.
 * @addr: CPU physical address of the range.
 * @len: Length of the range.
 *
 * For the backends.  The pci_p2pdma rules are evaluated once per provider:
 * @state remembers the last provider's answer and its bus offset.
 *
 * Context: Any context.
 * Return: How @dev reaches the range; %PCI_P2PDMA_MAP_NOT_SUPPORTED also
 * for a range that is not PCI peer-to-peer memory of a single provider.
 */
enum pci_p2pdma_map_type phyr_map_p2p_type(struct pci_p2pdma_map_state *state,
					   struct device *dev,
					   phys_addr_t addr, u64 len)
{
	unsigned long first = PHYS_PFN(addr), last = PHYS_PFN(addr + len - 1);
	struct page *page;

	if (!pfn_valid(first) || !pfn_valid(last))
		return PCI_P2PDMA_MAP_NOT_SUPPORTED;
	page = pfn_to_page(first);
	if (!is_pci_p2pdma_page(page) ||
	    pfn_to_page(last)->pgmap != page->pgmap)
		return PCI_P2PDMA_MAP_NOT_SUPPORTED;
	if (state->pgmap != page->pgmap)
		pci_p2pdma_update_state(state, dev, page);
	if (state->map != PCI_P2PDMA_MAP_BUS_ADDR &&
	    state->map != PCI_P2PDMA_MAP_THRU_HOST_BRIDGE)
		return PCI_P2PDMA_MAP_NOT_SUPPORTED;
	return state->map;
}
EXPORT_SYMBOL_GPL(phyr_map_p2p_type);

/*
 * Walks a CPU list and its DMA list side by side, piece by piece: a piece
 * ends where its CPU range ends, where its DMA range ends, or @max bytes
 * after it started, counted from the start of its CPU range, which is how
 * the backends cut ranges into pieces at map time.
 */
struct phyr_pair_iter {
	struct phyr_iter cpu_iter;
	struct phyr_iter dma_iter;
	struct phyr cpu;
	struct phyr dma;
	unsigned int cpu_flags;
	u64 piece_left;
	u64 max;
};

static void phyr_pair_init(struct phyr_pair_iter *pi,
			   const struct phyr_list *pl,
			   const struct phyr_list *dma, u64 max)
{
	phyr_iter_init(&pi->cpu_iter, pl);
	phyr_iter_init(&pi->dma_iter, dma);
	pi->cpu.len = 0;
	pi->dma.len = 0;
	pi->piece_left = 0;
	pi->max = max;
}

static bool phyr_pair_next(struct phyr_pair_iter *pi, phys_addr_t *phys,
			   dma_addr_t *addr, u64 *len, bool *p2p)
{
	u64 n;

	if (!pi->cpu.len) {
		if (!phyr_iter_next(&pi->cpu_iter, &pi->cpu))
			return false;
		pi->cpu_flags = pi->cpu_iter.flags;
	}
	if (!pi->dma.len && !phyr_iter_next(&pi->dma_iter, &pi->dma))
		return false;
	if (!pi->piece_left)
		pi->piece_left = min(pi->cpu.len, pi->max);
	n = min(pi->piece_left, pi->dma.len);
	*phys = pi->cpu.addr;
	*addr = pi->dma.addr;
	*len = n;
	*p2p = pi->cpu_flags & PHYR_RANGE_P2P;
	pi->cpu.addr += n;
	pi->cpu.len -= n;
	pi->dma.addr += n;
	pi->dma.len -= n;
	pi->piece_left -= n;
	return true;
}

/* Add a DMA range to a mapping; bus addresses never merge with others. */
static int phyr_map_add(struct phyr_dma_map *map, dma_addr_t addr, u64 len,
			bool bus_addr, gfp_t gfp)
{
	if ((dma_addr_t)(phys_addr_t)addr != addr)
		return -EOVERFLOW;
	if (bus_addr)
		return phyr_list_append_p2p(&map->list, addr, len, gfp);
	return phyr_list_append(&map->list, addr, len, gfp);
}

/* Cache maintenance for a range; arch_sync_* take a size_t. */
static void phyr_arch_sync_for_device(phys_addr_t phys, u64 len,
				      enum dma_data_direction dir)
{
	while (len) {
		size_t n = min_t(u64, len, SZ_1G);

		arch_sync_dma_for_device(phys, n, dir);
		phys += n;
		len -= n;
	}
}

static void phyr_arch_sync_for_cpu(phys_addr_t phys, u64 len,
				   enum dma_data_direction dir)
{
	while (len) {
		size_t n = min_t(u64, len, SZ_1G);

		arch_sync_dma_for_cpu(phys, n, dir);
		phys += n;
		len -= n;
	}
}

static bool phyr_map_go_direct(struct device *dev,
			       const struct dma_map_ops *ops)
{
	if (use_dma_iommu(dev))
		return false;
	if (likely(!ops))
		return true;
#ifdef CONFIG_DMA_OPS_BYPASS
	if (dev->dma_ops_bypass)
		return min_not_zero(*dev->dma_mask, dev->bus_dma_limit) >=
		       dma_direct_get_required_mask(dev);
#endif
	return false;
}

/*
 * Whether the list can serve as its own DMA list: DMA address == physical
 * address for every byte, which the highest address of the list decides.
 */
static bool phyr_map_identity(struct device *dev, const struct phyr_list *pl)
{
	if (IS_ENABLED(CONFIG_ARCH_HAS_PHYS_TO_DMA) ||
	    !IS_ENABLED(CONFIG_ARCH_DMA_ADDR_T_64BIT))
		return false;
	if (dev->dma_range_map || phyr_list_has_p2p(pl) ||
	    is_swiotlb_force_bounce(dev) ||
	    cc_platform_has(CC_ATTR_MEM_ENCRYPT))
		return false;
	if (IS_ENABLED(CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC) &&
	    !dev_is_dma_coherent(dev))
		return false;
	return dma_capable(dev, phyr_list_max_addr(pl), 1, true);
}

static bool phyr_dma_capable(struct device *dev, dma_addr_t addr, u64 len,
			     bool is_ram)
{
	dma_addr_t last = addr + (len - 1);

	return last >= addr && dma_capable(dev, addr, 1, is_ram) &&
	       dma_capable(dev, last, 1, is_ram);
}

/* Map one range of host memory (or of P2P memory through the host bridge). */
static int phyr_map_direct_range(struct device *dev, struct phyr_dma_map *map,
				 const struct phyr *r, bool p2p,
				 enum dma_data_direction dir,
				 unsigned long attrs, gfp_t gfp)
{
	dma_addr_t addr = phys_to_dma(dev, r->addr);
	phys_addr_t phys;
	u64 left, n;
	int ret;

	if (!is_swiotlb_force_bounce(dev) &&
	    phyr_dma_capable(dev, addr, r->len, !p2p)) {
		if (!dev_is_dma_coherent(dev) &&
		    !(attrs & DMA_ATTR_SKIP_CPU_SYNC))
			phyr_arch_sync_for_device(r->addr, r->len, dir);
		return phyr_map_add(map, addr, r->len, false, gfp);
	}
	/* Peer-to-peer memory cannot be bounced. */
	if (p2p)
		return -EREMOTEIO;
	if (!is_swiotlb_active(dev))
		return -EIO;

	for (phys = r->addr, left = r->len; left; phys += n, left -= n) {
		n = min(left, map->piece_max);
		addr = DMA_MAPPING_ERROR;
		if (!phyr_map_should_fail())
			addr = swiotlb_map(dev, phys, n, dir, attrs);
		if (addr == DMA_MAPPING_ERROR)
			return -ENOMEM;
		map->bounced = true;
		ret = phyr_map_add(map, addr, n, false, gfp);
		if (ret) {
			swiotlb_tbl_unmap_single(dev, dma_to_phys(dev, addr), n,
						 dir,
						 attrs | DMA_ATTR_SKIP_CPU_SYNC);
			return ret;
		}
	}
	return 0;
}

/* Undo phyr_map_direct() for the pieces that made it into @dma. */
static void phyr_unmap_direct(struct device *dev, const struct phyr_list *pl,
			      const struct phyr_list *dma, u64 piece_max,
			      bool bounced, enum dma_data_direction dir,
			      unsigned long attrs)
{
	struct phyr_pair_iter pi;
	phys_addr_t phys;
	dma_addr_t addr;
	bool p2p;
	u64 len;

	if (dev_is_dma_coherent(dev) && !bounced)
		return;
	phyr_pair_init(&pi, pl, dma, piece_max);
	while (phyr_pair_next(&pi, &phys, &addr, &len, &p2p)) {
		if (p2p)
			continue;
		if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC) &&
		    !dev_is_dma_coherent(dev))
			phyr_arch_sync_for_cpu(dma_to_phys(dev, addr), len, dir);
		if (bounced)
			swiotlb_tbl_unmap_single(dev, dma_to_phys(dev, addr), len,
						 dir, attrs);
	}
	if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC) && !dev_is_dma_coherent(dev))
		arch_sync_dma_for_cpu_all();
}

static int phyr_map_direct(struct device *dev, const struct phyr_list *pl,
			   struct phyr_dma_map *map,
			   enum dma_data_direction dir, unsigned long attrs,
			   gfp_t gfp)
{
	struct pci_p2pdma_map_state p2p_state = {};
	struct phyr_iter iter;
	struct phyr r;
	int ret;

	map->backend = PHYR_MAP_DIRECT;
	map->piece_max = SIZE_MAX;
	if (is_swiotlb_active(dev))
		map->piece_max = swiotlb_max_mapping_size(dev);

	phyr_list_for_each(pl, &iter, r) {
		bool p2p = iter.flags & PHYR_RANGE_P2P;

		if (p2p) {
			switch (phyr_map_p2p_type(&p2p_state, dev, r.addr,
						  r.len)) {
			case PCI_P2PDMA_MAP_BUS_ADDR:
				ret = phyr_map_add(map,
						   r.addr + p2p_state.bus_off,
						   r.len, true, gfp);
				if (ret)
					goto out_unmap;
				continue;
			case PCI_P2PDMA_MAP_THRU_HOST_BRIDGE:
				break;
			default:
				ret = -EREMOTEIO;
				goto out_unmap;
			}
		}
		ret = phyr_map_direct_range(dev, map, &r, p2p, dir, attrs, gfp);
		if (ret)
			goto out_unmap;
	}
	return 0;

out_unmap:
	phyr_unmap_direct(dev, pl, &map->list, map->piece_max, map->bounced,
			  dir, attrs | DMA_ATTR_SKIP_CPU_SYNC);
	return ret;
}

static void phyr_sync_direct(struct device *dev, const struct phyr_list *pl,
			     const struct phyr_list *dma, u64 piece_max,
			     bool bounced, enum dma_data_direction dir,
			     bool for_cpu)
{
	struct phyr_pair_iter pi;
	phys_addr_t phys;
	dma_addr_t addr;
	bool p2p;
	u64 len;

	if (dev_is_dma_coherent(dev) && !bounced)
		return;
	phyr_pair_init(&pi, pl, dma, piece_max);
	while (phyr_pair_next(&pi, &phys, &addr, &len, &p2p)) {
		if (p2p)
			continue;
		/* A piece that was not bounced may be longer than a size_t. */
		if (!bounced && for_cpu)
			phyr_arch_sync_for_cpu(phys, len, dir);
		else if (!bounced)
			phyr_arch_sync_for_device(phys, len, dir);
		else if (for_cpu)
			dma_direct_sync_single_for_cpu(dev, addr, len, dir);
		else
			dma_direct_sync_single_for_device(dev, addr, len, dir);
	}
}

/* Legacy struct dma_map_ops: range by range, for devices that have them. */
static void phyr_unmap_ops(struct device *dev, const struct dma_map_ops *ops,
			   const struct phyr_list *pl,
			   const struct phyr_list *dma, u64 piece_max,
			   enum dma_data_direction dir, unsigned long attrs)
{
	struct phyr_pair_iter pi;
	phys_addr_t phys;
	dma_addr_t addr;
	bool p2p;
	u64 len;

	if (!ops->unmap_page)
		return;
	phyr_pair_init(&pi, pl, dma, piece_max);
	while (phyr_pair_next(&pi, &phys, &addr, &len, &p2p))
		ops->unmap_page(dev, addr, len, dir, attrs);
}

static int phyr_map_ops(struct device *dev, const struct dma_map_ops *ops,
			const struct phyr_list *pl, struct phyr_dma_map *map,
			enum dma_data_direction dir, unsigned long attrs,
			gfp_t gfp)
{
	struct phyr_iter iter;
	struct phyr r;
	int ret;

	/* Peer-to-peer memory needs the pci_p2pdma logic of the backends. */
	if (!ops->map_page || phyr_list_has_p2p(pl))
		return -EOPNOTSUPP;
	map->backend = PHYR_MAP_OPS;
	map->piece_max = SIZE_MAX;

	phyr_list_for_each(pl, &iter, r) {
		phys_addr_t phys = r.addr;
		u64 left = r.len, n;
		dma_addr_t addr;

		for (; left; phys += n, left -= n) {
			n = min(left, map->piece_max);
			if (!pfn_valid(PHYS_PFN(phys))) {
				ret = -EOPNOTSUPP;
				goto out_unmap;
			}
			addr = ops->map_page(dev, pfn_to_page(PHYS_PFN(phys)),
					     offset_in_page(phys), n, dir, attrs);
			if (addr == DMA_MAPPING_ERROR) {
				ret = -EIO;
				goto out_unmap;
			}
			ret = phyr_map_add(map, addr, n, false, gfp);
			if (ret) {
				if (ops->unmap_page)
					ops->unmap_page(dev, addr, n, dir, attrs |
							DMA_ATTR_SKIP_CPU_SYNC);
				goto out_unmap;
			}
		}
	}
	return 0;

out_unmap:
	phyr_unmap_ops(dev, ops, pl, &map->list, map->piece_max, dir,
		       attrs | DMA_ATTR_SKIP_CPU_SYNC);
	return ret;
}

static void phyr_sync_ops(struct device *dev, const struct dma_map_ops *ops,
			  const struct phyr_list *pl,
			  const struct phyr_dma_map *map,
			  enum dma_data_direction dir, bool for_cpu)
{
	struct phyr_pair_iter pi;
	phys_addr_t phys;
	dma_addr_t addr;
	bool p2p;
	u64 len;

	phyr_pair_init(&pi, pl, &map->list, map->piece_max);
	while (phyr_pair_next(&pi, &phys, &addr, &len, &p2p)) {
		if (for_cpu && ops->sync_single_for_cpu)
			ops->sync_single_for_cpu(dev, addr, len, dir);
		else if (!for_cpu && ops->sync_single_for_device)
			ops->sync_single_for_device(dev, addr, len, dir);
	}
}

/* Tell KMSAN what the device may read or write; a loop only with KMSAN. */
static void phyr_kmsan_handle_dma(const struct phyr_list *pl,
				  enum dma_data_direction dir)
{
	struct phyr_iter iter;
	struct phyr r;

	if (!IS_ENABLED(CONFIG_KMSAN))
		return;
	phyr_list_for_each(pl, &iter, r) {
		if (iter.flags & PHYR_RANGE_P2P || !pfn_valid(PHYS_PFN(r.addr)))
			continue;
		kmsan_handle_dma(pfn_to_page(PHYS_PFN(r.addr)),
				 offset_in_page(r.addr), r.len, dir);
	}
}

/* The first range of a non-empty list, for trace and dma-debug. */
static struct phyr phyr_first(const struct phyr_list *pl)
{
	struct phyr_iter iter;
	struct phyr r = {};

	phyr_iter_init(&iter, pl);
	phyr_iter_next(&iter, &r);
	return r;
}

static struct phyr_dma_map *phyr_dma_map_alloc(gfp_t gfp)
{
	struct phyr_dma_map *map;

	if (phyr_map_should_fail())
		return NULL;
	map = kzalloc(sizeof(*map), gfp);
	if (map)
		phyr_list_init(&map->list);
	return map;
}

static void phyr_dma_map_free(struct phyr_dma_map *map)
{
	phyr_list_destroy(&map->list);
	kfree(map);
}

/**
 * phyr_map() - Map a phyr list for DMA.
 * @dev: Device that will do the DMA.
 * @pl: List of CPU physical ranges to map.
 * @dir: DMA direction.
 * @attrs: %DMA_ATTR_* attributes.
 * @gfp: Allocation flags, for the result list and for IOMMU page tables.
 *
 * Maps every range of @pl for @dev and returns the DMA addresses as a
 * list: byte n of the result is the DMA address of byte n of @pl.  When
 * @dev sees physical addresses 1:1 the result is @pl itself (O(1), no
 * allocation); with an IOMMU it is a single range when the list maps
 * linearly.  Walk the result with phyr_list_for_each_dma() or, to respect
 * the device's segment limits, phyr_list_for_each_dma_seg().  The result
 * is read-only and valid until phyr_unmap(); @pl must stay alive and
 * unchanged until then.  After success the memory belongs to the device;
 * see phyr_sync_for_cpu() to look at it before phyr_unmap().
 *
 * Context: Any context that @gfp allows.  Nobody may append to @pl.
 * Return: The DMA list, or an ERR_PTR() with one of these errors, in
 * which case nothing is left mapped or allocated and @pl is untouched:
 *
 *   -EINVAL		An invalid argument: an empty list, a list that
 *			phyr_map() returned, an invalid direction.  Will
 *			not succeed if retried.
 *   -ENOMEM		Insufficient resources (memory, IOVA space, swiotlb
 *			slots).  May succeed if retried later.
 *   -EIO		Legacy error code with an unknown meaning, e.g. the
 *			device cannot address the memory and there is no
 *			swiotlb to bounce it.
 *   -EOPNOTSUPP	The mapping needs something the backend does not do
 *			for phyr lists, e.g. bouncing an unaligned range for
 *			an untrusted device behind an IOMMU.
 *   -EOVERFLOW		A length or DMA address does not fit.
 *   -EREMOTEIO		The device cannot reach a range of PCI peer-to-peer
 *			memory in @pl.  Will not succeed if retried.
 */
struct phyr_list *phyr_map(struct device *dev, struct phyr_list *pl,
			   enum dma_data_direction dir, unsigned long attrs,
			   gfp_t gfp)
{
	const struct dma_map_ops *ops = get_dma_ops(dev);
	struct phyr_dma_map *map;
	struct phyr_list *dma;
	struct phyr first;
	int ret;

	if (WARN_ON_ONCE(!valid_dma_direction(dir) || !dev->dma_mask ||
			 phyr_list_empty(pl) || phyr_list_is_dma(pl))) {
		ret = -EINVAL;
		goto out_err;
	}

	if (phyr_map_go_direct(dev, ops) && phyr_map_identity(dev, pl)) {
		if (!dev_is_dma_coherent(dev) &&
		    !(attrs & DMA_ATTR_SKIP_CPU_SYNC))
			phyr_sync_direct(dev, pl, pl, U64_MAX, false, dir,
					 false);
		dma = pl;
		goto out_done;
	}

	map = phyr_dma_map_alloc(gfp);
	if (!map) {
		ret = -ENOMEM;
		goto out_err;
	}
	if (phyr_map_go_direct(dev, ops))
		ret = phyr_map_direct(dev, pl, map, dir, attrs, gfp);
	else if (use_dma_iommu(dev))
		ret = iommu_dma_map_phyr(dev, pl, map, dir, attrs, gfp);
	else
		ret = phyr_map_ops(dev, ops, pl, map, dir, attrs, gfp);
	if (ret)
		goto out_free_map;
	map->list.flags |= PHYR_LIST_DMA;
	dma = &map->list;

out_done:
	phyr_kmsan_handle_dma(pl, dir);
	first = phyr_first(pl);
	trace_dma_map_phyr(dev, first.addr, phyr_first(dma).addr,
			   phyr_list_length(pl), phyr_list_nr_ranges(pl),
			   phyr_list_nr_ranges(dma), dir, attrs);
	debug_dma_map_phyr(dev, first.addr, phyr_first(dma).addr,
			   phyr_list_length(pl), dir, attrs);
	return dma;

out_free_map:
	phyr_dma_map_free(map);
out_err:
	if (WARN_ON_ONCE(ret != -EINVAL && ret != -ENOMEM && ret != -EIO &&
			 ret != -EOPNOTSUPP && ret != -EOVERFLOW &&
			 ret != -EREMOTEIO))
		ret = -EIO;
	trace_dma_map_phyr_err(dev, phyr_first(pl).addr, phyr_list_length(pl),
			       phyr_list_nr_ranges(pl), ret, dir, attrs);
	return ERR_PTR(ret);
}
EXPORT_SYMBOL_GPL(phyr_map);

/**
 * phyr_unmap() - Unmap a list mapped by phyr_map().
 * @dev: Device the list was mapped for.
 * @pl: The list that was mapped.
 * @dma: The list phyr_map() returned for it.
 * @dir: DMA direction, as passed to phyr_map().
 * @attrs: %DMA_ATTR_* attributes.
 *
 * Gives the memory back to the CPU (copying bounced data back and doing
 * cache maintenance unless @attrs has %DMA_ATTR_SKIP_CPU_SYNC), removes
 * every IOMMU mapping with one IOTLB flush and frees @dma, unless @dma is
 * @pl itself, which is left alone.
 *
 * Context: Any context.
 */
void phyr_unmap(struct device *dev, struct phyr_list *pl,
		struct phyr_list *dma, enum dma_data_direction dir,
		unsigned long attrs)
{
	const struct dma_map_ops *ops = get_dma_ops(dev);
	struct phyr_dma_map *map;

	if (WARN_ON_ONCE(!valid_dma_direction(dir)))
		return;
	trace_dma_unmap_phyr(dev, phyr_first(dma).addr, phyr_list_length(dma),
			     phyr_list_nr_ranges(dma), dir, attrs);
	debug_dma_unmap_phyr(dev, phyr_first(dma).addr, phyr_list_length(dma),
			     dir);

	if (dma == pl) {
		phyr_unmap_direct(dev, pl, pl, U64_MAX, false, dir, attrs);
		return;
	}
	if (WARN_ON_ONCE(!phyr_list_is_dma(dma)))
		return;
	map = container_of(dma, struct phyr_dma_map, list);
	switch (map->backend) {
	case PHYR_MAP_DIRECT:
		phyr_unmap_direct(dev, pl, dma, map->piece_max, map->bounced,
				  dir, attrs);
		break;
	case PHYR_MAP_IOMMU:
		iommu_dma_unmap_phyr(dev, pl, map, dir, attrs);
		break;
	case PHYR_MAP_OPS:
		phyr_unmap_ops(dev, ops, pl, dma, map->piece_max, dir, attrs);
		break;
	}
	phyr_dma_map_free(map);
}
EXPORT_SYMBOL_GPL(phyr_unmap);

static void phyr_sync(struct device *dev, const struct phyr_list *pl,
		      const struct phyr_list *dma, enum dma_data_direction dir,
		      bool for_cpu)
{
	const struct phyr_dma_map *map;

	if (WARN_ON_ONCE(!valid_dma_direction(dir)))
		return;
	if (dma == pl) {
		phyr_sync_direct(dev, pl, pl, U64_MAX, false, dir, for_cpu);
		return;
	}
	if (WARN_ON_ONCE(!phyr_list_is_dma(dma)))
		return;
	map = container_of(dma, struct phyr_dma_map, list);
	switch (map->backend) {
	case PHYR_MAP_DIRECT:
		phyr_sync_direct(dev, pl, dma, map->piece_max, map->bounced,
				 dir, for_cpu);
		break;
	case PHYR_MAP_IOMMU:
		if (for_cpu)
			iommu_dma_sync_phyr_for_cpu(dev, pl, map, dir);
		else
			iommu_dma_sync_phyr_for_device(dev, pl, map, dir);
		break;
	case PHYR_MAP_OPS:
		phyr_sync_ops(dev, get_dma_ops(dev), pl, map, dir, for_cpu);
		break;
	}
}

/**
 * phyr_sync_for_cpu() - Give mapped memory back to the CPU.
 * @dev: Device the list was mapped for.
 * @pl: The list that was mapped.
 * @dma: The list phyr_map() returned for it.
 * @dir: DMA direction, as passed to phyr_map().
 *
 * Makes what the device wrote visible to the CPU: copies bounced data
 * back and does cache maintenance.  Until phyr_sync_for_device(), the
 * device must not access the memory.
 *
 * Context: Any context.
 */
void phyr_sync_for_cpu(struct device *dev, const struct phyr_list *pl,
		       const struct phyr_list *dma,
		       enum dma_data_direction dir)
{
	phyr_sync(dev, pl, dma, dir, true);
}
EXPORT_SYMBOL_GPL(phyr_sync_for_cpu);

/**
 * phyr_sync_for_device() - Give mapped memory back to the device.
 * @dev: Device the list was mapped for.
 * @pl: The list that was mapped.
 * @dma: The list phyr_map() returned for it.
 * @dir: DMA direction, as passed to phyr_map().
 *
 * Makes what the CPU wrote visible to the device: copies it into bounce
 * buffers and does cache maintenance.
 *
 * Context: Any context.
 */
void phyr_sync_for_device(struct device *dev, const struct phyr_list *pl,
			  const struct phyr_list *dma,
			  enum dma_data_direction dir)
{
	phyr_sync(dev, pl, dma, dir, false);
}
EXPORT_SYMBOL_GPL(phyr_sync_for_device);

/**
 * phyr_seg_iter_init() - Start iterating over the DMA segments of a list.
 * @siter: Cursor.
 * @dev: Device the list was mapped for; its segment limits apply.
 * @dma: List returned by phyr_map().
 *
 * Context: Any context.
 */
void phyr_seg_iter_init(struct phyr_seg_iter *siter, struct device *dev,
			const struct phyr_list *dma)
{
	phyr_iter_init(&siter->iter, dma);
	siter->addr = 0;
	siter->left = 0;
	siter->max_seg = dma_get_max_seg_size(dev);
	siter->boundary = dma_get_seg_boundary(dev);
	if (!siter->max_seg)
		siter->max_seg = U64_MAX;
}
EXPORT_SYMBOL_GPL(phyr_seg_iter_init);
