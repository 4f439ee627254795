/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The reference model of a phyr list, for tests only
 *
 * A plain array of ranges, and what each operation on a phyr list must
 * return and leave behind, by the rules of <linux/phyr.h>: which ranges
 * are valid, when a length overflows, how ranges merge, what a splice
 * does.  lib/phyr_kunit.c and the userspace harness in tools/testing/phyr
 * (which builds this header against its shims) check lib/phyr.c against
 * this one model; each compares a list with it in its own way.
 *
 * Nothing here allocates: the caller provides @r with room for @cap
 * ranges, and an operation that needs more returns -ENOSPC.
 */
#ifndef _LIB_PHYR_MODEL_H
#define _LIB_PHYR_MODEL_H

#include <linux/errno.h>
#include <linux/limits.h>
#include <linux/memremap.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/pfn.h>
#include <linux/phyr.h>
#include <linux/types.h>

/**
 * struct phyr_model_range - A range of the model.
 * @addr: First byte.
 * @len: Number of bytes.
 * @start: Offset of the range in the list.
 * @p2p: The range is PCI peer-to-peer memory.
 */
struct phyr_model_range {
	u64 addr;
	u64 len;
	u64 start;
	bool p2p;
};

/**
 * struct phyr_model - The ranges that a phyr list must hold.
 * @r: The ranges, merged as lib/phyr.c must merge them.
 * @nr: Number of ranges.
 * @cap: Room in @r.
 * @length: Sum of the lengths.
 * @max_addr: Highest byte, 0 when empty.
 * @p2p: A range of PCI peer-to-peer memory was added.
 * @preloaded: The list may hold chunks with fewer than two ranges.
 * @quick: A checker may compare the last range only (for huge tests).
 */
struct phyr_model {
	struct phyr_model_range *r;
	unsigned long nr;
	unsigned long cap;
	u64 length;
	u64 max_addr;
	bool p2p;
	bool preloaded;
	bool quick;
};

/* Forget the ranges, as phyr_list_destroy() does; @r, @cap and @quick stay. */
static inline void phyr_model_reset(struct phyr_model *m)
{
	m->nr = 0;
	m->length = 0;
	m->max_addr = 0;
	m->p2p = false;
	m->preloaded = false;
}

/* [@addr, @addr + @len) is a valid range: non-empty, ends by PHYS_ADDR_MAX. */
static inline bool phyr_model_fits(u64 addr, u64 len)
{
	return len && addr <= (u64)PHYS_ADDR_MAX &&
	       len - 1 <= (u64)PHYS_ADDR_MAX - addr;
}

/*
 * The pages on both sides of @addr belong to one provider: both have no
 * struct page, or both have one of the same pgmap.  Providers change only
 * on subsection boundaries.
 */
static inline bool phyr_model_one_provider(u64 addr)
{
	unsigned long pfn = PHYS_PFN(addr);

	if (addr & ~PAGE_MASK)
		return true;
#ifdef CONFIG_ZONE_DEVICE
	if (pfn & (PAGES_PER_SUBSECTION - 1))
		return true;
#else
	return true;
#endif
	if (pfn_valid(pfn) != pfn_valid(pfn - 1))
		return false;
	return !pfn_valid(pfn) ||
	       zone_device_pages_have_same_pgmap(pfn_to_page(pfn - 1),
						 pfn_to_page(pfn));
}

/* phyr_list_append() stores a range that starts in P2P memory as P2P. */
static inline bool phyr_model_addr_p2p(u64 addr)
{
	unsigned long pfn = PHYS_PFN(addr);

	return IS_ENABLED(CONFIG_PCI_P2PDMA) && pfn_valid(pfn) &&
	       is_pci_p2pdma_page(pfn_to_page(pfn));
}

/*
 * A range at @addr merges into the last one: it starts right after the
 * last byte of that range (byte 0 is after none) and both are host memory
 * or both are P2P of one provider.
 */
static inline bool phyr_model_merges(const struct phyr_model *m, u64 addr,
				     bool p2p)
{
	const struct phyr_model_range *last;

	if (!m->nr)
		return false;
	last = &m->r[m->nr - 1];
	return last->p2p == p2p && addr && addr - 1 == last->addr + (last->len - 1) &&
	       (!p2p || phyr_model_one_provider(addr));
}

/* Add a valid range whose length does not overflow the model's. */
static inline int phyr_model_add(struct phyr_model *m, u64 addr, u64 len,
				 bool p2p)
{
	if (phyr_model_merges(m, addr, p2p)) {
		m->r[m->nr - 1].len += len;
	} else {
		if (m->nr >= m->cap)
			return -ENOSPC;
		m->r[m->nr++] = (struct phyr_model_range) {
			.addr = addr, .len = len, .start = m->length, .p2p = p2p,
		};
	}
	m->length += len;
	m->max_addr = max(m->max_addr, addr + (len - 1));
	m->p2p |= p2p;
	return 0;
}

/*
 * What phyr_list_append() (phyr_list_append_p2p() with @p2p) must return,
 * and with @apply what it must leave: -ENOSPC if @m ran out of room.
 */
static inline int phyr_model_append(struct phyr_model *m, u64 addr, u64 len,
				    bool p2p, bool apply)
{
	u64 total;

	if (!phyr_model_fits(addr, len))
		return -EINVAL;
	if (check_add_overflow(m->length, len, &total))
		return -EOVERFLOW;
	return apply ? phyr_model_add(m, addr, len,
				      p2p || phyr_model_addr_p2p(addr)) : 0;
}

/*
 * What phyr_list_append_pages() must return and leave: every page is a
 * range of its own, which merges with the one before where they touch.
 * Runs out of room (-ENOSPC) halfway, leaving @m useless.
 */
static inline int phyr_model_append_pages(struct phyr_model *m,
					  struct page **pages,
					  unsigned long npages,
					  unsigned long offset, u64 len,
					  bool apply)
{
	unsigned long i;
	u64 span, total;
	int ret;

	if (!len || offset >= PAGE_SIZE ||
	    check_add_overflow(len, (u64)offset + PAGE_SIZE - 1, &span) ||
	    span >> PAGE_SHIFT != npages)
		return -EINVAL;
	if (check_add_overflow(m->length, len, &total))
		return -EOVERFLOW;
	for (i = 0; apply && i < npages; i++) {
		u64 n = min_t(u64, PAGE_SIZE - offset, len);

		ret = phyr_model_add(m,
				     (u64)PFN_PHYS(page_to_pfn(pages[i])) + offset,
				     n, is_pci_p2pdma_page(pages[i]));
		if (ret)
			return ret;
		len -= n;
		offset = 0;
	}
	return 0;
}

/*
 * What phyr_list_splice() of @src onto @m must return and leave: @src's
 * ranges appended to @m's, merging where the two meet, and @src empty.
 * An empty list takes over @src's storage, spare chunks and all.  Runs
 * out of room (-ENOSPC) halfway, leaving @m useless.
 */
static inline int phyr_model_splice(struct phyr_model *m,
				    struct phyr_model *src, bool apply)
{
	unsigned long i;
	u64 total;
	int ret;

	if (!src->nr)
		return 0;
	if (check_add_overflow(m->length, src->length, &total))
		return -EOVERFLOW;
	if (!apply)
		return 0;
	if (!m->nr)
		m->preloaded |= src->preloaded;
	for (i = 0; i < src->nr; i++) {
		ret = phyr_model_add(m, src->r[i].addr, src->r[i].len,
				     src->r[i].p2p);
		if (ret)
			return ret;
	}
	phyr_model_reset(src);
	return 0;
}

/* Index of the range that holds byte @off of the list, which must have one. */
static inline unsigned long phyr_model_find(const struct phyr_model *m,
					    u64 off)
{
	unsigned long lo = 0, hi = m->nr;

	while (hi - lo > 1) {
		unsigned long mid = lo + (hi - lo) / 2;

		if (m->r[mid].start <= off)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

#endif /* _LIB_PHYR_MODEL_H */
