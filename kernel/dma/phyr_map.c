// SPDX-License-Identifier: GPL-2.0
/*
 * DMA mapping of phyr lists: phyr_map(), phyr_unmap() and the sync calls
 *
 * Coding conventions in this file:
 *
 * @map is the caller's struct phyr_dma, @map->pl the list of CPU physical
 * ranges that was mapped and phyr_dma_list() the list of DMA ranges
 * for it.  A "piece" is what dma_map_phys() mapped in one call: a part of
 * a range, cut every @map->piece_max bytes from its start and where it
 * crosses a bus_dma_region boundary; see phyr_piece_at().
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
#include <linux/phyr-dma.h>
#include <linux/scatterlist.h>
#include <linux/slab.h>
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
 * byte n of the input.  phyr_map() is a layer over the DMA API: it does
 * no bouncing, cache maintenance or dispatch of its own, and chooses one
 * of three ways to use the API.
 *
 * Identity: when the device sees CPU physical addresses as they are (no
 * IOMMU or dma_map_ops, no bus offset in &device.dma_range_map, no memory
 * encryption, no forced bouncing, no peer-to-peer memory, no kmalloc()
 * bouncing for a non-coherent device) and the highest address of the
 * list, which the list keeps as a summary, is within its DMA mask, the
 * input list is the DMA list: O(1) and nothing allocated.  Cache
 * maintenance of a non-coherent device is dma-direct's sync, range by
 * range.
 *
 * IOVA: behind the IOMMU of the DMA API, the list takes one IOVA range
 * from dma_iova_try_alloc() and is linked into it with one
 * dma_iova_link_phyr(), that is one pass over the page table, and one
 * dma_iova_sync().  Each range takes the IOVA granules it touches, as
 * iommu_dma_map_sg() lays out a scatterlist, so a list whose inner
 * boundaries fall on granules is one DMA range, stored in the mapping
 * state without allocating.  Peer-to-peer ranges reached through the
 * host bridge are linked as MMIO in the same pass.
 *
 * Pieces: everything else (dma-direct with a bus offset or swiotlb, a
 * list that an untrusted device needs bounced, legacy dma_map_ops, a list
 * with peer-to-peer bus addresses behind an IOMMU, no IOVA space left) is
 * mapped piece by piece with dma_map_phys(), in pieces of at most
 * dma_max_mapping_size(), as dma_map_sg() maps such lists entry by entry.
 * The DMA API then owns the pieces: dma-debug entries, bouncing and cache
 * maintenance, and unmap and sync go through dma_unmap_phys() and
 * dma_sync_single_for_cpu() piece by piece, found again by walking the
 * two lists side by side.  A sync of a window seeks both lists to its
 * start, so it costs O(log n) plus the pieces it touches.
 *
 * PCI peer-to-peer ranges are classified with the kernel's own pci_p2pdma
 * rules, once per provider and call: a bus address that takes no IOVA, a
 * mapping through the host bridge as MMIO, or -EREMOTEIO with nothing
 * left mapped.  A list without peer-to-peer ranges never looks at them.
 *
 * The identity and IOVA mappings get one dma-debug entry per range of the
 * list, as dma_map_sg() makes one per scatterlist entry, so its checks of
 * overlapping mappings, unmaps and syncs apply to them too.
 */

#ifdef CONFIG_FAULT_INJECTION
static DECLARE_FAULT_ATTR(phyr_map_fail_attr);

/*
 * A fault point for each step of phyr_map() that runs out of resources
 * without allocating through lib/phyr.c: IOVA space, the IOMMU page table,
 * the IOTLB sync, a piece for dma_map_phys().  Tests make the n-th fail
 * with current->fail_nth, or all of them through debugfs "fail_phyr_map".
 */
static bool phyr_map_should_fail(void)
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
#else
static inline bool phyr_map_should_fail(void)
{
	return false;
}
#endif /* CONFIG_FAULT_INJECTION */

static_assert(!IS_ENABLED(CONFIG_64BIT) || sizeof(struct phyr_dma) <= 64);

/* How a mapping was made (struct phyr_dma.backend). */
enum phyr_map_backend {
	PHYR_MAP_IDENTITY,	/* the DMA list is the input list */
	PHYR_MAP_IOVA,		/* one IOVA range of @map->state */
	PHYR_MAP_PIECES,	/* dma_map_phys() piece by piece */
};

/*
 * How @dev reaches a range of PCI peer-to-peer memory: the pci_p2pdma
 * rules, evaluated once per provider (@state remembers the last one).
 * %PCI_P2PDMA_MAP_NOT_SUPPORTED also for a range that is not P2P memory
 * of a single provider.
 */
static enum pci_p2pdma_map_type phyr_map_p2p_type(struct pci_p2pdma_map_state *state,
						  struct device *dev,
						  const struct phyr *r)
{
	unsigned long first = PHYS_PFN(r->addr);
	unsigned long last = PHYS_PFN(r->addr + r->len - 1);
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
 * may start or end inside a piece).  @p2p: CPU range of P2P memory;
 * @bus_addr: DMA range of a P2P bus address.
 */
struct phyr_piece {
	phys_addr_t phys;
	dma_addr_t addr;
	u64 len;
	u64 into;
	u64 piece_len;
	bool p2p;
	bool bus_addr;
};

/* A cut at @b bytes into a range of @len: does it end or start a piece? */
static void phyr_piece_cut(u64 b, u64 len, u64 off, u64 *start, u64 *end)
{
	if (!b || b >= len)
		return;
	if (b <= off)
		*start = max(*start, b);
	else
		*end = min(*end, b);
}

/*
 * The piece of a CPU range of @len bytes at @phys that holds byte @off of
 * the range: pieces are cut every @map->piece_max bytes from the start of
 * the range, and where it crosses from one bus_dma_region of the device
 * into the next (dma_map_phys() translates a piece with one offset).
 * Returns the piece's length and sets *@start to its offset in the range.
 */
static u64 phyr_piece_at(const struct phyr_dma *map, phys_addr_t phys,
			 u64 len, u64 off, u64 *start)
{
	const struct bus_dma_region *m;
	u64 s = 0, end = len, rem;

	if (map->piece_max != U64_MAX) {
		div64_u64_rem(off, map->piece_max, &rem);
		s = off - rem;
		end = min(len, s + map->piece_max);
	}
	for (m = map->dev->dma_range_map; m && m->size; m++) {
		if (m->cpu_start > phys)
			phyr_piece_cut(m->cpu_start - phys, len, off, &s, &end);
		if (m->cpu_start + m->size > phys)
			phyr_piece_cut(m->cpu_start + m->size - phys, len, off,
				       &s, &end);
	}
	*start = s;
	return end - s;
}

/*
 * Walks the CPU list and the DMA list of a mapping side by side, piece by
 * piece, over a window of the mapping.
 */
struct phyr_piece_iter {
	const struct phyr_dma *map;
	struct phyr_iter cpu_iter;
	struct phyr_iter dma_iter;
	struct phyr cpu;
	struct phyr dma;
	unsigned int cpu_flags;
	unsigned int dma_flags;
	u64 cpu_off;		/* bytes of the CPU range before cpu.addr */
	u64 cpu_range_len;	/* bytes of the whole CPU range */
	u64 left;
};

/* @offset + @len must lie within the shorter of the two lists. */
static void phyr_piece_init(struct phyr_piece_iter *pi,
			    const struct phyr_dma *map,
			    const struct phyr_list *dma, u64 offset, u64 len)
{
	pi->map = map;
	phyr_iter_init(&pi->cpu_iter, map->pl);
	phyr_iter_init(&pi->dma_iter, dma);
	pi->cpu.len = 0;
	pi->dma.len = 0;
	pi->left = len;
	if (!offset || !len)
		return;
	phyr_iter_seek(&pi->cpu_iter, offset);
	/* The bytes of its range that the seek skips. */
	pi->cpu_off = pi->cpu_iter.skip;
	phyr_iter_next(&pi->cpu_iter, &pi->cpu);
	pi->cpu_flags = pi->cpu_iter.flags;
	pi->cpu_range_len = pi->cpu_off + pi->cpu.len;
	phyr_iter_seek(&pi->dma_iter, offset);
}

static bool phyr_piece_next(struct phyr_piece_iter *pi, struct phyr_piece *p)
{
	u64 n, start;

	if (!pi->left)
		return false;
	if (!pi->cpu.len) {
		if (!phyr_iter_next(&pi->cpu_iter, &pi->cpu))
			return false;
		pi->cpu_flags = pi->cpu_iter.flags;
		pi->cpu_off = 0;
		pi->cpu_range_len = pi->cpu.len;
	}
	if (!pi->dma.len) {
		if (!phyr_iter_next(&pi->dma_iter, &pi->dma))
			return false;
		pi->dma_flags = pi->dma_iter.flags;
	}
	p->piece_len = phyr_piece_at(pi->map, pi->cpu.addr - pi->cpu_off,
				     pi->cpu_range_len, pi->cpu_off, &start);
	p->into = pi->cpu_off - start;
	n = min3(p->piece_len - p->into, pi->cpu.len, pi->dma.len);
	n = min(n, pi->left);
	p->phys = pi->cpu.addr;
	p->addr = pi->dma.addr;
	p->len = n;
	p->p2p = pi->cpu_flags & PHYR_RANGE_P2P;
	p->bus_addr = pi->dma_flags & PHYR_RANGE_P2P;
	pi->cpu.addr += n;
	pi->cpu.len -= n;
	pi->cpu_off += n;
	pi->dma.addr += n;
	pi->dma.len -= n;
	pi->left -= n;
	return true;
}

#define phyr_for_each_piece(map, dma, offset, len, pi, p)		\
	for (phyr_piece_init(pi, map, dma, offset, len);		\
	     phyr_piece_next(pi, p);)

enum phyr_op {
	PHYR_OP_SYNC_FOR_CPU,
	PHYR_OP_SYNC_FOR_DEVICE,
	PHYR_OP_UNMAP,
};

/*
 * A sync of one part of a piece with the DMA core's own calls, in steps
 * that fit their size_t: what dma_sync_single_for_*() does for a piece
 * of dma_map_phys(), and for an identity or IOVA mapping what they do
 * but for dma-debug, whose entries phyr_walk() checks itself.
 */
static void phyr_sync_part(const struct phyr_dma *map, dma_addr_t addr,
			   u64 len, enum phyr_op op)
{
	bool cpu = op == PHYR_OP_SYNC_FOR_CPU;
	struct device *dev = map->dev;
	enum dma_data_direction dir = map->dir;
	size_t n;

	for (; len; addr += n, len -= n) {
		n = min_t(u64, len, SZ_1G);
		if (map->backend == PHYR_MAP_PIECES && cpu)
			dma_sync_single_for_cpu(dev, addr, n, dir);
		else if (map->backend == PHYR_MAP_PIECES)
			dma_sync_single_for_device(dev, addr, n, dir);
		else if (map->backend == PHYR_MAP_IDENTITY && cpu)
			dma_direct_sync_single_for_cpu(dev, addr, n, dir);
		else if (map->backend == PHYR_MAP_IDENTITY)
			dma_direct_sync_single_for_device(dev, addr, n, dir);
		else if (IS_ENABLED(CONFIG_IOMMU_DMA) && cpu)
			iommu_dma_sync_single_for_cpu(dev, addr, n, dir);
		else if (IS_ENABLED(CONFIG_IOMMU_DMA))
			iommu_dma_sync_single_for_device(dev, addr, n, dir);
	}
}

/*
 * What @op does to one part of a piece, through the DMA API.  P2P memory
 * is never bounced and needs no cache maintenance; the IOVA of an IOVA
 * mapping is unmapped as a whole by phyr_unmap().  Unmapping an identity
 * mapping is a sync for the CPU, as dma_direct_unmap_page() does it.
 */
static void phyr_piece_op(const struct phyr_dma *map, const struct phyr_piece *p,
			  enum phyr_op op, unsigned long attrs)
{
	if (p->bus_addr)
		return;
	if (map->backend == PHYR_MAP_PIECES && op == PHYR_OP_UNMAP) {
		/* Pieces fit a size_t: dma_max_mapping_size() cut them. */
		dma_unmap_phys(map->dev, p->addr, p->len, map->dir,
			       attrs | (p->p2p ? DMA_ATTR_MMIO : 0));
		return;
	}
	if (p->p2p)
		return;
	if (op == PHYR_OP_UNMAP && map->backend == PHYR_MAP_IDENTITY)
		op = PHYR_OP_SYNC_FOR_CPU;
	if (op != PHYR_OP_UNMAP)
		phyr_sync_part(map, p->addr, p->len, op);
}

/*
 * Whether @op has work to do on the pieces beyond dma-debug.  An IOVA
 * mapping bounces nothing, and neither does an identity one.
 */
static bool phyr_op_needed(const struct phyr_dma *map, enum phyr_op op,
			   unsigned long attrs)
{
	if (map->backend == PHYR_MAP_PIECES)
		return op == PHYR_OP_UNMAP || dma_dev_need_sync(map->dev);
	if (op == PHYR_OP_UNMAP && (attrs & DMA_ATTR_SKIP_CPU_SYNC ||
				    map->backend == PHYR_MAP_IOVA))
		return false;
	return !dev_is_dma_coherent(map->dev);
}

/* Whether phyr_map() makes dma-debug entries, or dma_map_phys() did. */
static bool phyr_debug_own(const struct phyr_dma *map)
{
	return map->backend != PHYR_MAP_PIECES && debug_dma_phyr_active();
}

/*
 * Unmap and sync, written once for every backend: @op on the pieces of
 * the window [@offset, @offset + @len) of the DMA list @dma (which is
 * shorter than the mapping when phyr_map() undoes a partial mapping), and
 * the dma-debug calls for them once the mapping is complete.
 */
static void phyr_walk(const struct phyr_dma *map, const struct phyr_list *dma,
		      u64 offset, u64 len, enum phyr_op op, unsigned long attrs)
{
	bool mapped = map->flags & PHYR_DMA_MAPPED;
	bool debug = mapped && phyr_debug_own(map);
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
}

/*
 * Add a DMA range to the mapping's own DMA list, which is allocated with
 * its first range; bus addresses merge only with each other.  A piece
 * that covers the whole mapping is held in the state instead, whose
 * struct dma_iova_state is not in use then, as a linear IOVA mapping is.
 */
static int phyr_map_add(struct phyr_dma *map, dma_addr_t addr, u64 len,
			bool bus_addr, gfp_t gfp)
{
	if (map->backend == PHYR_MAP_PIECES && !map->list &&
	    len == phyr_list_length(map->pl)) {
		map->state.addr = addr;
		if (bus_addr)
			map->flags |= PHYR_DMA_BUS_ADDR;
		return 0;
	}
	if (!map->list) {
		map->list = kmalloc(sizeof(*map->list), gfp);
		if (!map->list)
			return -ENOMEM;
		phyr_list_init(map->list);
	}
	return phyr_list_append_dma(map->list, addr, len, bus_addr, gfp);
}

static void phyr_map_free_list(struct phyr_dma *map)
{
	if (!map->list)
		return;
	phyr_list_destroy(map->list);
	kfree(map->list);
	map->list = NULL;
}

/*
 * Whether the list can serve as its own DMA list: DMA address == physical
 * address for every byte, which the highest address of the list decides,
 * and nothing for dma-direct to bounce; cache maintenance of a
 * non-coherent device is dma-direct's, through phyr_sync_part().
 */
static bool phyr_map_identity(struct device *dev, const struct phyr_list *pl)
{
	const struct dma_map_ops *ops = get_dma_ops(dev);

	if (IS_ENABLED(CONFIG_ARCH_HAS_PHYS_TO_DMA) ||
	    !IS_ENABLED(CONFIG_ARCH_DMA_ADDR_T_64BIT))
		return false;
	if (use_dma_iommu(dev))
		return false;
#ifdef CONFIG_DMA_OPS_BYPASS
	if (ops && dev->dma_ops_bypass &&
	    min_not_zero(*dev->dma_mask, dev->bus_dma_limit) >=
	    dma_direct_get_required_mask(dev))
		ops = NULL;
#endif
	if (ops || dev->dma_range_map || phyr_list_has_p2p(pl) ||
	    is_swiotlb_force_bounce(dev) ||
	    cc_platform_has(CC_ATTR_MEM_ENCRYPT))
		return false;
	/* Small kmalloc() buffers of a non-coherent device may be bounced. */
	if (IS_ENABLED(CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC) &&
	    !dev_is_dma_coherent(dev))
		return false;
	return dma_capable(dev, phyr_list_max_addr(pl), 1, true);
}

/*
 * Piece by piece through dma_map_phys(): dma-direct with swiotlb or a bus
 * offset, dma-iommu for lists it must bounce, legacy dma_map_ops.  P2P bus
 * addresses are stored as they are; P2P memory through the host bridge is
 * mapped as MMIO.
 */
static int phyr_map_pieces(struct phyr_dma *map,
			   struct pci_p2pdma_map_state *p2p_state,
			   unsigned long attrs, gfp_t gfp)
{
	struct device *dev = map->dev;
	struct phyr_iter iter;
	struct phyr r;
	int ret;

	map->backend = PHYR_MAP_PIECES;
	map->piece_max = dma_max_mapping_size(dev);
	if (is_swiotlb_active(dev)) {
		/*
		 * A bounce buffer, with the offset that the device's
		 * min_align_mask keeps in front of it, never crosses the
		 * segment boundary, so a piece that may be bounced must fit
		 * between two, as swiotlb_max_mapping_size() allows for.
		 */
		u64 room = (u64)map->seg_boundary + 1 ?: U64_MAX;
		u64 align = roundup(dma_get_min_align_mask(dev), IO_TLB_SIZE);

		if (room != U64_MAX && room > align)
			room -= align;
		map->piece_max = min3(map->piece_max, (u64)map->max_seg, room);
	}
	/* Legacy dma_map_ops know nothing of PCI peer-to-peer memory. */
	if (phyr_list_has_p2p(map->pl) && get_dma_ops(dev) &&
	    !use_dma_iommu(dev))
		return -EREMOTEIO;

	phyr_list_for_each(map->pl, &iter, r) {
		unsigned long mmio = 0;
		u64 off, n, start;
		phys_addr_t phys;
		dma_addr_t addr;

		if (iter.flags & PHYR_RANGE_P2P) {
			switch (phyr_map_p2p_type(p2p_state, dev, &r)) {
			case PCI_P2PDMA_MAP_BUS_ADDR:
				ret = phyr_map_add(map,
						   r.addr + p2p_state->bus_off,
						   r.len, true, gfp);
				if (ret)
					goto out_unmap;
				continue;
			case PCI_P2PDMA_MAP_THRU_HOST_BRIDGE:
				mmio = DMA_ATTR_MMIO;
				break;
			default:
				ret = -EREMOTEIO;
				goto out_unmap;
			}
		} else if (!pfn_valid(PHYS_PFN(r.addr))) {
			ret = -EOPNOTSUPP;
			goto out_unmap;
		}
		for (off = 0; off < r.len; off += n) {
			n = phyr_piece_at(map, r.addr, r.len, off, &start);
			phys = r.addr + off;
			ret = -ENOMEM;
			if (phyr_map_should_fail())
				goto out_unmap;
			addr = dma_map_phys(dev, phys, n, map->dir, attrs | mmio);
			ret = -EIO;
			if (dma_mapping_error(dev, addr))
				goto out_unmap;
			ret = phyr_map_add(map, addr, n, false, gfp);
			if (ret) {
				dma_unmap_phys(dev, addr, n, map->dir,
					       attrs | mmio |
					       DMA_ATTR_SKIP_CPU_SYNC);
				goto out_unmap;
			}
		}
	}
	return 0;

out_unmap:
	if (map->list)
		phyr_walk(map, map->list, 0, phyr_list_length(map->list),
			  PHYR_OP_UNMAP, attrs | DMA_ATTR_SKIP_CPU_SYNC);
	return ret;
}

/* The first range of a non-empty list. */
static struct phyr phyr_first(const struct phyr_list *pl)
{
	struct phyr_iter iter;
	struct phyr r = {};

	phyr_iter_init(&iter, pl);
	phyr_iter_next(&iter, &r);
	return r;
}

/*
 * The IOVA layout of a list behind the IOMMU: the bytes of IOVA it takes
 * (each range the granules it touches), whether it is one DMA range, and
 * whether it can be linked at all: P2P bus addresses take no IOVA, so a
 * list with any is mapped in pieces.
 */
static int phyr_iova_layout(struct phyr_dma *map,
			    struct pci_p2pdma_map_state *p2p_state,
			    u64 granule, u64 *iova_len, bool *linear)
{
	bool end_unaligned = false;
	struct phyr_iter iter;
	phys_addr_t first;
	u64 pos = 0;
	struct phyr r;

	*linear = true;
	phyr_list_for_each(map->pl, &iter, r) {
		if (iter.flags & PHYR_RANGE_P2P) {
			switch (phyr_map_p2p_type(p2p_state, map->dev, &r)) {
			case PCI_P2PDMA_MAP_THRU_HOST_BRIDGE:
				break;
			case PCI_P2PDMA_MAP_BUS_ADDR:
				return 1;
			default:
				return -EREMOTEIO;
			}
		}
		if (pos && (end_unaligned || r.addr & (granule - 1)))
			*linear = false;
		end_unaligned = (r.addr + r.len) & (granule - 1);
		if (check_add_overflow(pos, phyr_align_out(&r, granule, &first),
				       &pos) || pos > SSIZE_MAX)
			return -EOVERFLOW;
	}
	*iova_len = pos;
	return 0;
}

/* The DMA list of a non-linear IOVA mapping: range by range. */
static int phyr_iova_dma_list(struct phyr_dma *map, u64 granule, gfp_t gfp)
{
	dma_addr_t base = map->state.addr & ~(dma_addr_t)(granule - 1);
	struct phyr_iter iter;
	phys_addr_t first;
	struct phyr r;
	u64 pos = 0;
	int ret;

	phyr_list_for_each(map->pl, &iter, r) {
		ret = phyr_map_add(map, base + pos + (r.addr & (granule - 1)),
				   r.len, false, gfp);
		if (ret)
			return ret;
		pos += phyr_align_out(&r, granule, &first);
	}
	return 0;
}

/*
 * One IOVA range for the whole list, linked in one pass.  Returns 1 with
 * nothing done when the list is to be mapped in pieces instead.
 */
static int phyr_map_iova(struct phyr_dma *map,
			 struct pci_p2pdma_map_state *p2p_state,
			 unsigned long attrs, gfp_t gfp)
{
	struct device *dev = map->dev;
	u64 granule = (u64)dma_get_merge_boundary(dev) + 1;
	const struct phyr_list *pl = map->pl;
	u64 iova_len, pad;
	bool linear;
	int ret;

	ret = phyr_iova_layout(map, p2p_state, granule, &iova_len, &linear);
	if (ret)
		return ret;
	if (phyr_map_should_fail())
		return -ENOMEM;
	pad = phyr_first(pl).addr & (granule - 1);
	if (!dma_iova_try_alloc(dev, &map->state, phyr_first(pl).addr,
				iova_len - pad))
		return 1;
	map->backend = PHYR_MAP_IOVA;

	ret = -ENOMEM;
	if (!phyr_map_should_fail())
		ret = dma_iova_link_phyr(dev, &map->state, pl, map->dir, attrs,
					 gfp);
	if (ret) {
		dma_iova_free(dev, &map->state);
		return ret == -EOPNOTSUPP ? 1 : ret;
	}
	/* A linear mapping is the one range of the state: no list. */
	if (!linear)
		ret = phyr_iova_dma_list(map, granule, gfp);
	if (!ret) {
		ret = -ENOMEM;
		if (!phyr_map_should_fail())
			ret = dma_iova_sync(dev, &map->state, 0, iova_len - pad);
	}
	if (ret)
		dma_iova_destroy(dev, &map->state, iova_len - pad, map->dir,
				 attrs | DMA_ATTR_SKIP_CPU_SYNC);
	return ret;
}

/* Tell KMSAN what the device may read or write; a loop only with KMSAN. */
static void phyr_kmsan_handle_dma(const struct phyr_dma *map)
{
	struct phyr_iter iter;
	struct phyr r;

	if (!IS_ENABLED(CONFIG_KMSAN) || map->backend == PHYR_MAP_PIECES)
		return;
	phyr_list_for_each(map->pl, &iter, r) {
		if (iter.flags & PHYR_RANGE_P2P || !pfn_valid(PHYS_PFN(r.addr)))
			continue;
		kmsan_handle_dma(pfn_to_page(PHYS_PFN(r.addr)),
				 offset_in_page(r.addr), r.len, map->dir);
	}
}

/* One dma-debug entry per range, as dma_map_sg() makes one per entry. */
static void phyr_debug_map(const struct phyr_dma *map, unsigned long attrs)
{
	struct phyr_piece_iter pi;
	struct phyr_piece p;
	struct phyr_list one;

	if (!phyr_debug_own(map))
		return;
	phyr_for_each_piece(map, phyr_dma_list(map, &one), 0,
			    phyr_dma_length(map), &pi, &p)
		debug_dma_map_phyr(map->dev, p.phys, p.addr, p.len, map->dir,
				   attrs);
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
 *   -ENOMEM		Insufficient resources (memory, IOVA space, IOMMU
 *			page tables).  May succeed if retried later.
 *   -EIO		dma_map_phys() refused a piece, as dma_map_sg()
 *			fails with -EIO: the device cannot address the
 *			memory and there is no swiotlb it can address to
 *			bounce it, swiotlb is full, or a legacy
 *			dma_map_ops refused it.
 *   -EOPNOTSUPP	Memory without a struct page that is not PCI
 *			peer-to-peer memory, which dma_map_phys() cannot
 *			map without %DMA_ATTR_MMIO.
 *   -EOVERFLOW		A length or DMA address does not fit.
 *   -EREMOTEIO		The device cannot reach a range of PCI peer-to-peer
 *			memory in @pl, or it has legacy dma_map_ops, which
 *			have no peer-to-peer support.  Will not succeed if
 *			retried.
 */
int phyr_map(struct device *dev, const struct phyr_list *pl,
	     struct phyr_dma *map, enum dma_data_direction dir,
	     unsigned long attrs, gfp_t gfp)
{
	/* P2P providers classified for the IOVA layout are not again. */
	struct pci_p2pdma_map_state p2p_state = {};
	struct phyr_list one;
	int ret;

	*map = (struct phyr_dma) {
		.pl = pl,
		.dev = dev,
		.dir = dir,
		.backend = PHYR_MAP_IDENTITY,
		.piece_max = U64_MAX,
		.max_seg = dma_get_max_seg_size(dev),
		.seg_boundary = dma_get_seg_boundary(dev),
	};

	if (WARN_ON_ONCE(!valid_dma_direction(dir) || !dev->dma_mask ||
			 phyr_list_empty(pl) || pl->flags & PHYR_LIST_DMA)) {
		ret = -EINVAL;
		goto out_err;
	}

	ret = 0;
	if (phyr_map_identity(dev, pl)) {
		map->flags = PHYR_DMA_IDENTITY;
		if (!(attrs & DMA_ATTR_SKIP_CPU_SYNC))
			phyr_walk(map, pl, 0, phyr_list_length(pl),
				  PHYR_OP_SYNC_FOR_DEVICE, attrs);
	} else if (use_dma_iommu(dev)) {
		ret = phyr_map_iova(map, &p2p_state, attrs, gfp);
	} else {
		ret = 1;
	}
	if (ret > 0)
		ret = phyr_map_pieces(map, &p2p_state, attrs, gfp);
	if (ret)
		goto out_destroy;

	map->flags |= PHYR_DMA_MAPPED;
	phyr_kmsan_handle_dma(map);
	/* Decoding the first ranges is for the trace only. */
	if (trace_dma_map_phyr_enabled()) {
		const struct phyr_list *dma = phyr_dma_list(map, &one);

		trace_dma_map_phyr(dev, phyr_first(pl).addr,
				   phyr_first(dma).addr, phyr_list_length(pl),
				   phyr_list_nr_ranges(pl),
				   phyr_list_nr_ranges(dma), dir, attrs);
	}
	phyr_debug_map(map, attrs);
	return 0;

out_destroy:
	phyr_map_free_list(map);
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

/*
 * Unmap an IOVA mapping: one dma_iova_destroy(), unless the CPU has work
 * to do for a list of several DMA ranges.  dma_iova_destroy() would then
 * also sync the parts of their granules that are not in the list, so
 * each range is unlinked on its own.
 */
static void phyr_unmap_iova(struct phyr_dma *map, unsigned long attrs)
{
	size_t size = dma_iova_size(&map->state);
	struct phyr_iter iter;
	struct phyr d;

	if (!map->list || dev_is_dma_coherent(map->dev) ||
	    attrs & DMA_ATTR_SKIP_CPU_SYNC) {
		dma_iova_destroy(map->dev, &map->state, size, map->dir, attrs);
		return;
	}
	phyr_list_for_each(map->list, &iter, d)
		dma_iova_unlink(map->dev, &map->state, d.addr - map->state.addr,
				d.len, map->dir, attrs);
	dma_iova_free(map->dev, &map->state);
}

/**
 * phyr_unmap() - Unmap a mapping made by phyr_map().
 * @map: The mapping.
 * @attrs: %DMA_ATTR_* attributes.
 *
 * Gives the memory back to the CPU (copying bounced data back and doing
 * cache maintenance unless @attrs has %DMA_ATTR_SKIP_CPU_SYNC), removes
 * every IOMMU mapping and frees what phyr_map() allocated; an IOVA
 * mapping takes one IOTLB flush.  The list that was mapped is left alone.
 * Afterwards @map is no longer mapped and may be passed to phyr_map()
 * again.
 *
 * Context: Any context.
 */
void phyr_unmap(struct phyr_dma *map, unsigned long attrs)
{
	struct phyr_list one;
	const struct phyr_list *dma = phyr_dma_list(map, &one);

	if (WARN_ON_ONCE(!phyr_dma_mapped(map)))
		return;
	if (trace_dma_unmap_phyr_enabled())
		trace_dma_unmap_phyr(map->dev, phyr_first(dma).addr,
				     phyr_list_length(dma),
				     phyr_list_nr_ranges(dma), map->dir, attrs);
	phyr_walk(map, dma, 0, phyr_list_length(dma), PHYR_OP_UNMAP, attrs);
	if (map->backend == PHYR_MAP_IOVA)
		phyr_unmap_iova(map, attrs);
	phyr_map_free_list(map);
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
	struct phyr_list one;
	struct phyr_piece p;

	if (!debug_dma_phyr_active())
		return;
	if (check_add_overflow(offset, len, &end))
		end = U64_MAX;
	phyr_piece_init(&pi, map, phyr_dma_list(map, &one), last, 1);
	if (phyr_piece_next(&pi, &p))
		debug_dma_sync_phyr(map->dev, p.addr - p.into,
				    p.piece_len + (end - last) - 1, map->dir,
				    op == PHYR_OP_SYNC_FOR_CPU);
}

static void phyr_sync(const struct phyr_dma *map, u64 offset, u64 len,
		      enum phyr_op op)
{
	u64 length = phyr_dma_length(map);
	struct phyr_list one;

	if (WARN_ON_ONCE(!phyr_dma_mapped(map)) || !len)
		return;
	if (offset >= length || len > length - offset) {
		phyr_debug_sync_outside(map, offset, len, op);
		if (offset >= length)
			return;
		len = length - offset;
	}
	phyr_walk(map, phyr_dma_list(map, &one), offset, len, op, 0);
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
 * phyr_dma_list() - The DMA ranges of a mapping, as a list.
 * @map: Mapping made by phyr_map().
 * @one: Room for a list, used when the mapping is one range, which @map
 *	holds without a list.  It allocates nothing and needs no
 *	phyr_list_destroy().
 *
 * For callers that walk or seek the DMA ranges with the list's own
 * iterators, such as RDMA's block iteration; phyr_dma_for_each_seg() and
 * phyr_dma_for_each_range() need no list.  Byte n of the returned list
 * is the DMA address of byte n of the list that was mapped.  Ranges are
 * merged wherever they are contiguous in DMA space and are not cut to the
 * device's segment limits; a range of PCI peer-to-peer memory mapped by
 * bus address has %PHYR_RANGE_P2P in the iterator's flags.  The list may
 * be the mapped list itself or @one, so it is read-only; it is valid
 * until phyr_unmap() and while @one lives.
 *
 * Context: Any context.
 * Return: The DMA list.
 */
const struct phyr_list *phyr_dma_list(const struct phyr_dma *map,
				      struct phyr_list *one)
{
	if (map->flags & PHYR_DMA_IDENTITY)
		return map->pl;
	if (map->list)
		return map->list;
	/* The first range of an empty list is stored in it: no allocation. */
	phyr_list_init(one);
	WARN_ON_ONCE(phyr_list_append_dma(one, map->state.addr,
					  phyr_list_length(map->pl),
					  map->flags & PHYR_DMA_BUS_ADDR,
					  GFP_ATOMIC));
	return one;
}
EXPORT_SYMBOL_GPL(phyr_dma_list);

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
