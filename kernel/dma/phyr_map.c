// SPDX-License-Identifier: GPL-2.0
/*
 * DMA mapping of phyr lists: phyr_map(), phyr_unmap() and the sync calls
 *
 * Coding conventions in this file:
 *
 * @map is the caller's struct phyr_dma, @map->pl the list of CPU physical
 * ranges that was mapped and phyr_dma_list(@map) the list of DMA ranges
 * for it.  A "piece" is what unmap and sync handle in one step, and what
 * dma-debug sees as one mapping: @map->piece_max bytes of a range, cut
 * from its start, or the whole range when there is no maximum.  The
 * backends that map in parts (swiotlb, dma_map_ops) map piece by piece.
 */

#include <linux/cc_platform.h>
#include <linux/dma-map-ops.h>
#include <linux/export.h>
#include <linux/fault-inject.h>
#include <linux/init.h>
#include <linux/iommu-dma.h>
#include <linux/kmsan.h>
#include <linux/math64.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/pci-p2pdma.h>
#include <linux/phyr-map-ops.h>
#include <linux/scatterlist.h>
#include <linux/swiotlb.h>
#include "debug.h"
#include "direct.h"

#include <trace/events/dma.h>

/**
 * DOC: Mapping a phyr list for DMA
 *
 * phyr_map() maps a list of CPU physical ranges for a device into a
 * struct phyr_dma that the caller owns.  The DMA addresses are a list in
 * the same struct phyr_list format: byte n of it is the DMA address of
 * byte n of the input.  Nothing else is recorded about how each range was
 * mapped; phyr_unmap() and the sync calls walk the two lists side by side,
 * piece by piece, and find it again.  A sync of a window seeks both lists
 * to its start, so it costs O(log n) plus the pieces it touches.
 *
 * There are three backends, chosen like dma_map_page_attrs() chooses
 * them: dma-direct, dma-iommu and the device's struct dma_map_ops.
 *
 * dma-direct has a fast path.  When the device sees CPU physical
 * addresses as they are (no bus offset in &device.dma_range_map, no
 * memory encryption, no forced bouncing, no peer-to-peer memory) and the
 * highest address of the list is within its DMA mask, which the list
 * keeps as a summary, the input list is the DMA list: O(1) and nothing
 * allocated.  Otherwise every range is translated into the mapping's own
 * list, split where it crosses from one bus_dma_region into the next, and
 * ranges the device cannot reach are bounced through swiotlb in pieces of
 * at most swiotlb_max_mapping_size().
 *
 * dma-iommu (drivers/iommu/dma-iommu-phyr.c) allocates one IOVA range for
 * the whole list and maps every range into it, so that the result is a
 * single range, stored inside the mapping, when the list maps linearly.
 * A list that it has to bounce (sub-granule ranges for an untrusted
 * device, small kmalloc() buffers for a non-coherent one) is mapped
 * piece by piece with dma-iommu's page calls instead, as iommu_dma_map_sg()
 * maps such a scatterlist entry by entry.  Legacy struct dma_map_ops are
 * called the same way, piece by piece, with pieces no longer than
 * dma_max_mapping_size().
 *
 * PCI peer-to-peer ranges are classified with the kernel's own pci_p2pdma
 * rules, once per provider and call: a bus address that bypasses the
 * IOMMU, a mapping through the host bridge like host memory, or -EREMOTEIO
 * with nothing left mapped.  A list without peer-to-peer ranges never
 * looks at them.
 *
 * Whatever the backend, trace events and DMA-API debugging are handled
 * here, in one place.  dma-debug gets one entry per piece, as it gets one
 * per scatterlist entry, so its checks of overlapping mappings, unmaps and
 * syncs apply to phyr mappings too.
 */

#ifdef CONFIG_FAULT_INJECTION
static DECLARE_FAULT_ATTR(phyr_map_fail_attr);

/**
 * phyr_map_should_fail() - Fault point of the phyr_map() backends.
 *
 * Every step of phyr_map() that can fail and does not allocate through
 * lib/phyr.c (IOVA allocation, iommu_map(), swiotlb) asks this first, so
 * a test can make the n-th of them fail with current->fail_nth, or all of
 * them through debugfs "fail_phyr_map".
 *
 * Context: Any context.
 * Return: %true if the caller must act as if its step failed.
 */
bool phyr_map_should_fail(void)
{
	return should_fail_ex(&phyr_map_fail_attr, 1, FAULT_NOWARN);
}

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

/*
 * Part of a piece: @len bytes at CPU address @phys and DMA address @addr,
 * @into bytes after the start of a piece of @piece_len bytes (a window
 * may start or end inside a piece).
 */
struct phyr_piece {
	phys_addr_t phys;
	dma_addr_t addr;
	u64 len;
	u64 into;
	u64 piece_len;
	bool p2p;
};

/*
 * Walks the CPU list and the DMA list of a mapping side by side, piece by
 * piece, over a window of the mapping.  Pieces are cut every @max bytes
 * from the start of each CPU range, which is how the backends cut ranges
 * into pieces at map time.
 */
struct phyr_piece_iter {
	struct phyr_iter cpu_iter;
	struct phyr_iter dma_iter;
	struct phyr cpu;
	struct phyr dma;
	unsigned int cpu_flags;
	u64 cpu_off;		/* bytes of the CPU range before cpu.addr */
	u64 cpu_range_len;	/* bytes of the whole CPU range */
	u64 into;		/* bytes of the piece before cpu.addr */
	u64 max;
	u64 left;
};

/* @offset + @len must lie within the shorter of the two lists. */
static void phyr_piece_init(struct phyr_piece_iter *pi,
			    const struct phyr_dma *map,
			    const struct phyr_list *dma, u64 offset, u64 len)
{
	phyr_iter_init(&pi->cpu_iter, map->pl);
	phyr_iter_init(&pi->dma_iter, dma);
	pi->cpu.len = 0;
	pi->dma.len = 0;
	pi->max = map->piece_max;
	pi->left = len;
	if (!offset || !len)
		return;
	phyr_iter_seek(&pi->cpu_iter, offset);
	/* The bytes of its range that the seek skips. */
	pi->cpu_off = pi->cpu_iter.skip;
	pi->into = pi->cpu_off;
	if (pi->max != U64_MAX)
		div64_u64_rem(pi->cpu_off, pi->max, &pi->into);
	phyr_iter_next(&pi->cpu_iter, &pi->cpu);
	pi->cpu_flags = pi->cpu_iter.flags;
	pi->cpu_range_len = pi->cpu_off + pi->cpu.len;
	phyr_iter_seek(&pi->dma_iter, offset);
}

static bool phyr_piece_next(struct phyr_piece_iter *pi, struct phyr_piece *p)
{
	u64 n;

	if (!pi->left)
		return false;
	if (!pi->cpu.len) {
		if (!phyr_iter_next(&pi->cpu_iter, &pi->cpu))
			return false;
		pi->cpu_flags = pi->cpu_iter.flags;
		pi->cpu_off = 0;
		pi->cpu_range_len = pi->cpu.len;
		pi->into = 0;
	}
	if (!pi->dma.len && !phyr_iter_next(&pi->dma_iter, &pi->dma))
		return false;
	p->into = pi->into;
	p->piece_len = min(pi->max, pi->cpu_range_len - (pi->cpu_off - p->into));
	n = min3(p->piece_len - p->into, pi->cpu.len, pi->dma.len);
	n = min(n, pi->left);
	p->phys = pi->cpu.addr;
	p->addr = pi->dma.addr;
	p->len = n;
	p->p2p = pi->cpu_flags & PHYR_RANGE_P2P;
	pi->cpu.addr += n;
	pi->cpu.len -= n;
	pi->cpu_off += n;
	pi->into += n;
	if (pi->into == p->piece_len)
		pi->into = 0;
	pi->dma.addr += n;
	pi->dma.len -= n;
	pi->left -= n;
	return true;
}

#define phyr_for_each_piece(map, dma, offset, len, pi, p)		\
	for (phyr_piece_init(pi, map, dma, offset, len);		\
	     phyr_piece_next(pi, p);)

/* Add a DMA range to a mapping; bus addresses merge only with each other. */
static int phyr_map_add(struct phyr_dma *map, dma_addr_t addr, u64 len,
			bool bus_addr, gfp_t gfp)
{
	if (bus_addr)
		map->flags |= PHYR_DMA_BUS_ADDR;
	return phyr_list_append_dma(&map->list, addr, len, bus_addr, gfp);
}

/* Cache maintenance for a range; arch_sync_* take a size_t. */
static void phyr_arch_sync(phys_addr_t phys, u64 len,
			   enum dma_data_direction dir, bool for_cpu)
{
	while (len) {
		size_t n = min_t(u64, len, SZ_1G);

		if (for_cpu)
			arch_sync_dma_for_cpu(phys, n, dir);
		else
			arch_sync_dma_for_device(phys, n, dir);
		phys += n;
		len -= n;
	}
}

enum phyr_op {
	PHYR_OP_SYNC_FOR_CPU,
	PHYR_OP_SYNC_FOR_DEVICE,
	PHYR_OP_UNMAP,
};

/* What @op does to one piece; the IOMMU backend unmaps its IOVA later. */
static void phyr_piece_op(const struct phyr_dma *map, const struct phyr_piece *p,
			  enum phyr_op op, unsigned long attrs)
{
	struct device *dev = map->dev;
	enum dma_data_direction dir = map->dir;
	phys_addr_t tlb_addr;

	if (IS_ENABLED(CONFIG_IOMMU_DMA) &&
	    map->backend == PHYR_MAP_IOMMU_PAGES) {
		if (op == PHYR_OP_UNMAP)
			iommu_dma_unmap_page(dev, p->addr, p->len, dir, attrs);
		else if (op == PHYR_OP_SYNC_FOR_CPU)
			iommu_dma_sync_single_for_cpu(dev, p->addr, p->len, dir);
		else
			iommu_dma_sync_single_for_device(dev, p->addr, p->len,
							 dir);
		return;
	}
	if (map->backend == PHYR_MAP_OPS) {
		const struct dma_map_ops *ops = get_dma_ops(dev);

		if (op == PHYR_OP_UNMAP && ops->unmap_page)
			ops->unmap_page(dev, p->addr, p->len, dir, attrs);
		else if (op == PHYR_OP_SYNC_FOR_CPU && ops->sync_single_for_cpu)
			ops->sync_single_for_cpu(dev, p->addr, p->len, dir);
		else if (op == PHYR_OP_SYNC_FOR_DEVICE &&
			 ops->sync_single_for_device)
			ops->sync_single_for_device(dev, p->addr, p->len, dir);
		return;
	}
	/* Peer-to-peer memory is never bounced and needs no cache work. */
	if (p->p2p)
		return;
	if (map->flags & PHYR_DMA_BOUNCED) {
		/* Pieces of a bounced mapping fit a size_t. */
		switch (op) {
		case PHYR_OP_UNMAP:
			tlb_addr = dma_to_phys(dev, p->addr);
			if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC))
				dma_direct_sync_single_for_cpu(dev, p->addr,
							       p->len, dir);
			/* A no-op for a piece that was not bounced. */
			swiotlb_tbl_unmap_single(dev, tlb_addr, p->len, dir,
						 attrs | DMA_ATTR_SKIP_CPU_SYNC);
			break;
		case PHYR_OP_SYNC_FOR_CPU:
			dma_direct_sync_single_for_cpu(dev, p->addr, p->len, dir);
			break;
		case PHYR_OP_SYNC_FOR_DEVICE:
			dma_direct_sync_single_for_device(dev, p->addr, p->len,
							  dir);
			break;
		}
		return;
	}
	if (op == PHYR_OP_UNMAP && (attrs & DMA_ATTR_SKIP_CPU_SYNC))
		return;
	phyr_arch_sync(p->phys, p->len, dir, op != PHYR_OP_SYNC_FOR_DEVICE);
}

/* Whether a backend maps piece by piece with page calls of its own. */
static bool phyr_map_piecewise(const struct phyr_dma *map)
{
	return map->backend == PHYR_MAP_OPS ||
	       map->backend == PHYR_MAP_IOMMU_PAGES;
}

/* Whether @op has work to do on the pieces, beyond dma-debug. */
static bool phyr_op_needed(const struct phyr_dma *map, enum phyr_op op,
			   unsigned long attrs)
{
	if (phyr_map_piecewise(map) || map->flags & PHYR_DMA_BOUNCED)
		return true;
	if (op == PHYR_OP_UNMAP && (attrs & DMA_ATTR_SKIP_CPU_SYNC))
		return false;
	return !dev_is_dma_coherent(map->dev);
}

/*
 * Unmap and sync, written once for every backend: @op on the pieces of
 * the window [@offset, @offset + @len) of the DMA list @dma (which is
 * shorter than the mapping when a backend undoes a partial mapping), and
 * the dma-debug calls for them once the mapping is complete.
 */
static void phyr_walk(const struct phyr_dma *map, const struct phyr_list *dma,
		      u64 offset, u64 len, enum phyr_op op, unsigned long attrs)
{
	bool debug = map->flags & PHYR_DMA_MAPPED && debug_dma_phyr_active();
	bool work = phyr_op_needed(map, op, attrs);
	struct phyr_piece_iter pi;
	struct phyr_piece p;

	if (!work && !debug)
		return;
	phyr_for_each_piece(map, dma, offset, len, &pi, &p) {
		if (debug && op == PHYR_OP_UNMAP)
			debug_dma_unmap_phyr(map->dev, p.addr, p.len, map->dir);
		else if (debug)
			/*
			 * The whole piece: dma-debug finds an entry for a sync
			 * of part of one only when no other mapping has the
			 * same address, which is common without an IOMMU.
			 */
			debug_dma_sync_phyr(map->dev, p.addr - p.into,
					    p.piece_len, map->dir,
					    op == PHYR_OP_SYNC_FOR_CPU);
		if (work)
			phyr_piece_op(map, &p, op, attrs);
	}
	/* dma_direct_sync_single_for_cpu() did it for bounced mappings. */
	if (work && op != PHYR_OP_SYNC_FOR_DEVICE &&
	    !phyr_map_piecewise(map) &&
	    !(map->flags & PHYR_DMA_BOUNCED) &&
	    !dev_is_dma_coherent(map->dev) &&
	    !(attrs & DMA_ATTR_SKIP_CPU_SYNC))
		arch_sync_dma_for_cpu_all();
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

/*
 * How many bytes from @phys on one bus_dma_region of @dev translates with
 * one offset, at most @len.  A range has no length cap, so it may span
 * regions where a scatterlist entry in practice does not.
 */
static u64 phyr_dma_region_len(struct device *dev, phys_addr_t phys, u64 len)
{
	const struct bus_dma_region *m;

	for (m = dev->dma_range_map; m && m->size; m++)
		if (phys >= m->cpu_start && phys - m->cpu_start < m->size)
			return min(len, m->size - (phys - m->cpu_start));
	return len;
}

/* Whether @dev reaches all of a range, each region at its own offset. */
static bool phyr_direct_capable(struct device *dev, phys_addr_t phys, u64 len,
				bool is_ram)
{
	u64 n;

	for (; len; phys += n, len -= n) {
		n = phyr_dma_region_len(dev, phys, len);
		if (!phyr_dma_capable(dev, phys_to_dma(dev, phys), n, is_ram))
			return false;
	}
	return true;
}

/*
 * Why swiotlb_map() failed: no free slots (-ENOMEM, may succeed later), or
 * a bounce buffer that the device cannot address (-EIO, as dma_map_sg()
 * says; swiotlb warns once about it).
 */
static int phyr_swiotlb_error(struct device *dev, size_t size)
{
#ifdef CONFIG_SWIOTLB
	struct io_tlb_mem *mem = dev->dma_io_tlb_mem;

	if (mem && !dma_capable(dev, phys_to_dma_unencrypted(dev,
							     mem->defpool.start),
				size, true))
		return -EIO;
#endif
	return -ENOMEM;
}

/* Map one range of host memory (or of P2P memory through the host bridge). */
static int phyr_map_direct_range(struct phyr_dma *map, const struct phyr *r,
				 bool p2p, unsigned long attrs, gfp_t gfp)
{
	struct device *dev = map->dev;
	phys_addr_t phys;
	dma_addr_t addr;
	u64 left, n;
	int ret;

	if (!is_swiotlb_force_bounce(dev) &&
	    phyr_direct_capable(dev, r->addr, r->len, !p2p) &&
	    !dma_kmalloc_needs_bounce(dev, min_t(u64, r->len, SIZE_MAX),
				      map->dir)) {
		/* P2P memory is mapped uncached: no cache maintenance. */
		if (!dev_is_dma_coherent(dev) && !p2p &&
		    !(attrs & DMA_ATTR_SKIP_CPU_SYNC))
			phyr_arch_sync(r->addr, r->len, map->dir, false);
		for (phys = r->addr, left = r->len; left; phys += n, left -= n) {
			n = phyr_dma_region_len(dev, phys, left);
			ret = phyr_map_add(map, phys_to_dma(dev, phys), n, false,
					   gfp);
			if (ret)
				return ret;
		}
		return 0;
	}
	/* Peer-to-peer memory cannot be bounced. */
	if (p2p)
		return -EREMOTEIO;
	if (!is_swiotlb_active(dev))
		return -EIO;

	/* A bounce buffer is contiguous: it lies in one region. */
	for (phys = r->addr, left = r->len; left; phys += n, left -= n) {
		n = min(left, map->piece_max);
		if (phyr_map_should_fail())
			return -ENOMEM;
		addr = swiotlb_map(dev, phys, n, map->dir, attrs);
		if (addr == DMA_MAPPING_ERROR)
			return phyr_swiotlb_error(dev, n);
		map->flags |= PHYR_DMA_BOUNCED;
		ret = phyr_map_add(map, addr, n, false, gfp);
		if (ret) {
			swiotlb_tbl_unmap_single(dev, dma_to_phys(dev, addr), n,
						 map->dir,
						 attrs | DMA_ATTR_SKIP_CPU_SYNC);
			return ret;
		}
	}
	return 0;
}

static int phyr_map_direct(struct phyr_dma *map, unsigned long attrs,
			   gfp_t gfp)
{
	struct pci_p2pdma_map_state p2p_state = {};
	struct phyr_iter iter;
	struct phyr r;
	int ret;

	if (is_swiotlb_active(map->dev)) {
		/*
		 * A bounce buffer, with the offset that the device's
		 * min_align_mask keeps in front of it, never crosses the
		 * segment boundary, so a piece that may be bounced must fit
		 * between two, as swiotlb_max_mapping_size() allows for.
		 */
		u64 room = (u64)map->seg_boundary + 1 ?: U64_MAX;
		u64 align = roundup(dma_get_min_align_mask(map->dev),
				    IO_TLB_SIZE);

		if (room != U64_MAX && room > align)
			room -= align;
		map->piece_max = min3((u64)swiotlb_max_mapping_size(map->dev),
				      (u64)map->max_seg, room);
	}

	phyr_list_for_each(map->pl, &iter, r) {
		bool p2p = iter.flags & PHYR_RANGE_P2P;

		if (p2p) {
			switch (phyr_map_p2p_type(&p2p_state, map->dev, r.addr,
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
		ret = phyr_map_direct_range(map, &r, p2p, attrs, gfp);
		if (ret)
			goto out_unmap;
	}
	return 0;

out_unmap:
	phyr_walk(map, &map->list, 0, phyr_list_length(&map->list),
		  PHYR_OP_UNMAP, attrs | DMA_ATTR_SKIP_CPU_SYNC);
	return ret;
}

/* map_page of a piecewise backend, for @n bytes at @phys. */
static dma_addr_t phyr_map_piece(const struct phyr_dma *map, phys_addr_t phys,
				 size_t n, unsigned long attrs)
{
	struct page *page = pfn_to_page(PHYS_PFN(phys));
	unsigned long offset = offset_in_page(phys);

	if (IS_ENABLED(CONFIG_IOMMU_DMA) &&
	    map->backend == PHYR_MAP_IOMMU_PAGES)
		return iommu_dma_map_page(map->dev, page, offset, n, map->dir,
					  attrs);
	return get_dma_ops(map->dev)->map_page(map->dev, page, offset, n,
					       map->dir, attrs);
}

/*
 * Piece by piece through page calls: a device's legacy struct dma_map_ops
 * (@backend %PHYR_MAP_OPS), or dma-iommu's own for a list that it has to
 * bounce (%PHYR_MAP_IOMMU_PAGES), as dma_map_sg() maps such lists entry
 * by entry.  Pieces are at most dma_max_mapping_size() long.
 */
static int phyr_map_pages(struct phyr_dma *map, enum phyr_map_backend backend,
			  unsigned long attrs, gfp_t gfp)
{
	struct phyr_iter iter;
	struct phyr_piece p;
	struct phyr r;
	int ret;

	/* Peer-to-peer memory needs the pci_p2pdma logic of the others. */
	if (phyr_list_has_p2p(map->pl))
		return -EREMOTEIO;
	map->backend = backend;
	map->piece_max = dma_max_mapping_size(map->dev);

	phyr_list_for_each(map->pl, &iter, r) {
		phys_addr_t phys = r.addr;
		u64 left = r.len, n;
		dma_addr_t addr;

		for (; left; phys += n, left -= n) {
			n = min(left, map->piece_max);
			if (!pfn_valid(PHYS_PFN(phys))) {
				ret = -EOPNOTSUPP;
				goto out_unmap;
			}
			addr = phyr_map_piece(map, phys, n, attrs);
			if (addr == DMA_MAPPING_ERROR) {
				ret = -EIO;
				goto out_unmap;
			}
			ret = phyr_map_add(map, addr, n, false, gfp);
			if (ret) {
				/* This piece alone: a one-range window. */
				p = (struct phyr_piece) {
					.phys = phys, .addr = addr, .len = n,
					.piece_len = n,
				};
				phyr_piece_op(map, &p, PHYR_OP_UNMAP,
					      attrs | DMA_ATTR_SKIP_CPU_SYNC);
				goto out_unmap;
			}
		}
	}
	return 0;

out_unmap:
	phyr_walk(map, &map->list, 0, phyr_list_length(&map->list),
		  PHYR_OP_UNMAP, attrs | DMA_ATTR_SKIP_CPU_SYNC);
	return ret;
}

/* Tell KMSAN what the device may read or write; a loop only with KMSAN. */
static void phyr_kmsan_handle_dma(const struct phyr_dma *map)
{
	struct phyr_iter iter;
	struct phyr r;

	if (!IS_ENABLED(CONFIG_KMSAN))
		return;
	phyr_list_for_each(map->pl, &iter, r) {
		if (iter.flags & PHYR_RANGE_P2P || !pfn_valid(PHYS_PFN(r.addr)))
			continue;
		kmsan_handle_dma(pfn_to_page(PHYS_PFN(r.addr)),
				 offset_in_page(r.addr), r.len, map->dir);
	}
}

/* One dma-debug entry per piece, as dma_map_sg() makes one per entry. */
static void phyr_debug_map(const struct phyr_dma *map, unsigned long attrs)
{
	struct phyr_piece_iter pi;
	struct phyr_piece p;

	if (!debug_dma_phyr_active())
		return;
	phyr_for_each_piece(map, phyr_dma_list(map), 0, phyr_dma_length(map),
			    &pi, &p)
		debug_dma_map_phyr(map->dev, p.phys, p.addr, p.len, map->dir,
				   attrs);
}

/* The first range of a non-empty list, for trace. */
static struct phyr phyr_first(const struct phyr_list *pl)
{
	struct phyr_iter iter;
	struct phyr r = {};

	phyr_iter_init(&iter, pl);
	phyr_iter_next(&iter, &r);
	return r;
}

/**
 * phyr_map() - Map a phyr list for DMA.
 * @dev: Device that will do the DMA.
 * @pl: List of CPU physical ranges to map.
 * @map: Mapping state to fill in, owned by the caller.
 * @dir: DMA direction.
 * @attrs: %DMA_ATTR_* attributes.
 * @gfp: Allocation flags, for the DMA list and for IOMMU page tables.
 *
 * Maps every range of @pl for @dev.  @map remembers @dev, @pl, @dir and
 * the device's segment limits, so phyr_unmap() and the sync calls take
 * only @map.  Byte n of the mapping is the DMA address of byte n of @pl.
 * Walk it with phyr_dma_for_each_seg(), which yields segments that fit
 * the device's limits, or with phyr_dma_for_each_range() for the raw DMA
 * ranges.  When @dev sees physical addresses 1:1 the DMA list is @pl
 * itself (O(1), nothing allocated); with an IOMMU it is a single range
 * stored in @map when the list maps linearly.  @pl must stay alive and
 * unchanged until phyr_unmap().  After success the memory belongs to the
 * device; see phyr_sync_for_cpu() to look at it before phyr_unmap().
 *
 * Context: Any context that @gfp allows.  Nobody may append to @pl.
 * Return: 0 on success.  Otherwise one of these errors, and nothing is
 * left mapped or allocated, @pl is untouched and @map is not mapped:
 *
 *   -EINVAL		An invalid argument: an empty list, a DMA list,
 *			an invalid direction.  Will not succeed if retried.
 *   -ENOMEM		Insufficient resources (memory, IOVA space, swiotlb
 *			slots).  May succeed if retried later.
 *   -EIO		Legacy error code with an unknown meaning, e.g. the
 *			device cannot address the memory and there is no
 *			swiotlb it can address to bounce it, or a legacy
 *			dma_map_ops refused a piece.
 *   -EOPNOTSUPP	The mapping needs something the backend does not do
 *			for phyr lists, e.g. a legacy dma_map_ops without
 *			map_page, or memory without struct page for one.
 *   -EOVERFLOW		A length or DMA address does not fit.
 *   -EREMOTEIO		The device cannot reach a range of PCI peer-to-peer
 *			memory in @pl, or its backend maps piece by piece
 *			(legacy dma_map_ops, a list that an untrusted
 *			device needs bounced), which has no peer-to-peer
 *			support.  Will not succeed if retried.
 */
int phyr_map(struct device *dev, const struct phyr_list *pl,
	     struct phyr_dma *map, enum dma_data_direction dir,
	     unsigned long attrs, gfp_t gfp)
{
	const struct dma_map_ops *ops = get_dma_ops(dev);
	bool direct = phyr_map_go_direct(dev, ops);
	int ret;

	/* The list is PHYR_LIST_INIT: all zero. */
	*map = (struct phyr_dma) {
		.pl = pl,
		.dev = dev,
		.dir = dir,
		.backend = PHYR_MAP_DIRECT,
		.piece_max = U64_MAX,
		.max_seg = dma_get_max_seg_size(dev),
		.seg_boundary = dma_get_seg_boundary(dev),
	};

	if (WARN_ON_ONCE(!valid_dma_direction(dir) || !dev->dma_mask ||
			 phyr_list_empty(pl) || pl->flags & PHYR_LIST_DMA)) {
		ret = -EINVAL;
		goto out_err;
	}

	if (direct && phyr_map_identity(dev, pl)) {
		map->flags = PHYR_DMA_IDENTITY;
		if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC))
			phyr_walk(map, pl, 0, phyr_list_length(pl),
				  PHYR_OP_SYNC_FOR_DEVICE, attrs);
		ret = 0;
	} else if (direct) {
		ret = phyr_map_direct(map, attrs, gfp);
	} else if (use_dma_iommu(dev)) {
		ret = -EOPNOTSUPP;
		if (IS_ENABLED(CONFIG_IOMMU_DMA_PHYR))
			ret = iommu_dma_map_phyr(map, attrs, gfp);
		if (ret == PHYR_MAP_PIECEWISE)
			ret = phyr_map_pages(map, PHYR_MAP_IOMMU_PAGES, attrs,
					     gfp);
	} else if (ops->map_page) {
		ret = phyr_map_pages(map, PHYR_MAP_OPS, attrs, gfp);
	} else {
		ret = -EOPNOTSUPP;
	}
	if (ret)
		goto out_destroy;

	map->list.flags |= PHYR_LIST_DMA;
	map->flags |= PHYR_DMA_MAPPED;
	phyr_kmsan_handle_dma(map);
	/* Decoding the first ranges is for the trace only. */
	if (trace_dma_map_phyr_enabled())
		trace_dma_map_phyr(dev, phyr_first(pl).addr,
				   phyr_first(phyr_dma_list(map)).addr,
				   phyr_list_length(pl), phyr_list_nr_ranges(pl),
				   phyr_list_nr_ranges(phyr_dma_list(map)), dir,
				   attrs);
	phyr_debug_map(map, attrs);
	return 0;

out_destroy:
	phyr_list_destroy(&map->list);
out_err:
	map->flags = 0;
	if (WARN_ON_ONCE(ret != -EINVAL && ret != -ENOMEM && ret != -EIO &&
			 ret != -EOPNOTSUPP && ret != -EOVERFLOW &&
			 ret != -EREMOTEIO))
		ret = -EIO;
	if (trace_dma_map_phyr_err_enabled())
		trace_dma_map_phyr_err(dev, phyr_first(pl).addr,
				       phyr_list_length(pl),
				       phyr_list_nr_ranges(pl), ret, dir, attrs);
	return ret;
}
EXPORT_SYMBOL_GPL(phyr_map);

/**
 * phyr_unmap() - Unmap a mapping made by phyr_map().
 * @map: The mapping.
 * @attrs: %DMA_ATTR_* attributes.
 *
 * Gives the memory back to the CPU (copying bounced data back and doing
 * cache maintenance unless @attrs has %DMA_ATTR_SKIP_CPU_SYNC), removes
 * every IOMMU mapping with one IOTLB flush and frees what phyr_map()
 * allocated.  The list that was mapped is left alone.  Afterwards @map is
 * no longer mapped and may be passed to phyr_map() again.
 *
 * Context: Any context.
 */
void phyr_unmap(struct phyr_dma *map, unsigned long attrs)
{
	const struct phyr_list *dma = phyr_dma_list(map);

	if (WARN_ON_ONCE(!phyr_dma_mapped(map)))
		return;
	if (trace_dma_unmap_phyr_enabled())
		trace_dma_unmap_phyr(map->dev, phyr_first(dma).addr,
				     phyr_list_length(dma),
				     phyr_list_nr_ranges(dma), map->dir, attrs);
	phyr_walk(map, dma, 0, phyr_list_length(dma), PHYR_OP_UNMAP, attrs);
	if (IS_ENABLED(CONFIG_IOMMU_DMA_PHYR) && map->backend == PHYR_MAP_IOMMU)
		iommu_dma_unmap_phyr(map);
	phyr_list_destroy(&map->list);
	map->flags = 0;
}
EXPORT_SYMBOL_GPL(phyr_unmap);

/*
 * A window that ends past the mapping is a driver bug: dma-debug reports
 * it as a sync from the last piece that runs past its end.
 */
static void phyr_debug_sync_outside(const struct phyr_dma *map, u64 offset,
				    u64 len, enum phyr_op op)
{
	u64 last = phyr_dma_length(map) - 1, end;
	struct phyr_piece_iter pi;
	struct phyr_piece p;

	if (!debug_dma_phyr_active())
		return;
	if (check_add_overflow(offset, len, &end))
		end = U64_MAX;
	phyr_piece_init(&pi, map, phyr_dma_list(map), last, 1);
	if (phyr_piece_next(&pi, &p))
		debug_dma_sync_phyr(map->dev, p.addr - p.into,
				    p.piece_len + (end - last) - 1, map->dir,
				    op == PHYR_OP_SYNC_FOR_CPU);
}

static void phyr_sync(const struct phyr_dma *map, u64 offset, u64 len,
		      enum phyr_op op)
{
	u64 length = phyr_dma_length(map);

	if (WARN_ON_ONCE(!phyr_dma_mapped(map)) || !len)
		return;
	if (offset >= length || len > length - offset) {
		phyr_debug_sync_outside(map, offset, len, op);
		if (offset >= length)
			return;
		len = length - offset;
	}
	phyr_walk(map, phyr_dma_list(map), offset, len, op, 0);
}

/**
 * phyr_sync_for_cpu() - Give part of a mapping back to the CPU.
 * @map: The mapping.
 * @offset: First byte of the window, from the start of the mapping.
 * @len: Bytes in the window.
 *
 * Makes what the device wrote into the window visible to the CPU: copies
 * bounced bytes back and does cache maintenance, for those bytes only.
 * Finding the window costs O(log n).  Until phyr_sync_for_device(), the
 * device must not access the window.
 *
 * Context: Any context.
 */
void phyr_sync_for_cpu(const struct phyr_dma *map, u64 offset, u64 len)
{
	phyr_sync(map, offset, len, PHYR_OP_SYNC_FOR_CPU);
}
EXPORT_SYMBOL_GPL(phyr_sync_for_cpu);

/**
 * phyr_sync_for_device() - Give part of a mapping back to the device.
 * @map: The mapping.
 * @offset: First byte of the window, from the start of the mapping.
 * @len: Bytes in the window.
 *
 * Makes what the CPU wrote into the window visible to the device: copies
 * it into bounce buffers and does cache maintenance, for those bytes only.
 *
 * Context: Any context.
 */
void phyr_sync_for_device(const struct phyr_dma *map, u64 offset, u64 len)
{
	phyr_sync(map, offset, len, PHYR_OP_SYNC_FOR_DEVICE);
}
EXPORT_SYMBOL_GPL(phyr_sync_for_device);

/**
 * phyr_dma_nr_segs() - Count the DMA segments of a mapping.
 * @map: Mapping made by phyr_map().
 *
 * Counts what phyr_dma_for_each_seg() yields, e.g. to size a descriptor
 * table before filling it.  O(number of segments).
 *
 * Context: Any context.
 * Return: The number of segments.
 */
unsigned long phyr_dma_nr_segs(const struct phyr_dma *map)
{
	struct phyr_dma_iter diter;
	unsigned long nr = 0;
	dma_addr_t addr;
	u64 len;

	phyr_dma_for_each_seg(map, &diter, addr, len)
		nr++;
	return nr;
}
EXPORT_SYMBOL_GPL(phyr_dma_nr_segs);

/**
 * phyr_list_import_sgtable_dma() - Describe part of a mapped sg_table.
 * @pl: Empty list to fill in; it becomes a list of DMA ranges.
 * @sgt: A table that someone else mapped for DMA, e.g. the exporter of a
 *	dma-buf.
 * @offset: First byte of the part, counted over the table's DMA segments.
 * @len: Bytes in the part.
 * @gfp: Allocation flags for @pl.
 *
 * For importers of memory that arrives as a mapped sg_table: @pl gets the
 * DMA addresses of bytes @offset to @offset + @len - 1 of @sgt, so the
 * importer walks and seeks them like those of a phyr_map() mapping, with
 * phyr_list_for_each() and phyr_iter_seek().  Segments that are
 * contiguous in DMA space become one range.  The mapping still belongs to
 * whoever made it, and @sgt is not changed: phyr_list_destroy() @pl before
 * @sgt is unmapped.  @pl cannot be passed to phyr_map().
 *
 * Context: Any context that @gfp allows.
 * Return: 0 on success.  -EINVAL if @pl is not empty, @len is 0 or the
 * part runs past the end of @sgt.  -EOVERFLOW if a DMA address does not
 * fit in a phys_addr_t.  -ENOMEM if memory could not be allocated.  On
 * error @pl is empty.
 */
int phyr_list_import_sgtable_dma(struct phyr_list *pl,
				 const struct sg_table *sgt, u64 offset,
				 u64 len, gfp_t gfp)
{
	u64 end, pos = 0;
	struct scatterlist *sg;
	int i, ret = 0;

	if (!phyr_list_empty(pl) || !len ||
	    check_add_overflow(offset, len, &end))
		return -EINVAL;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		u64 seg_end = pos + sg_dma_len(sg);
		dma_addr_t addr = sg_dma_address(sg);
		u64 from, to;

		if (seg_end > offset) {
			from = max(pos, offset);
			to = min(seg_end, end);
			addr += from - pos;
			ret = phyr_list_append_dma(pl, addr, to - from,
						   sg_dma_is_bus_address(sg),
						   gfp);
			if (ret)
				break;
		}
		pos = seg_end;
		if (pos >= end)
			break;
	}
	if (!ret && phyr_list_length(pl) != len)
		ret = -EINVAL;
	if (ret) {
		phyr_list_destroy(pl);
		return ret;
	}
	pl->flags |= PHYR_LIST_DMA;
	return 0;
}
EXPORT_SYMBOL_GPL(phyr_list_import_sgtable_dma);
