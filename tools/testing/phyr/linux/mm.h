/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SHIM_LINUX_MM_H
#define _SHIM_LINUX_MM_H

#include <linux/gfp.h>
#include <linux/kernel.h>
#include <linux/mm_types.h>
#include <linux/pfn.h>
#include <asm/page.h>

/*
 * mem_map[0] is pfn SHIM_PFN_OFFSET (1 GiB): pfn 0 is nothing special, and
 * folios up to 1 GiB can be naturally aligned.
 */
#define SHIM_PFN_OFFSET		0x40000UL
#define PAGES_PER_SUBSECTION	(1UL << (21 - PAGE_SHIFT))

/* What phyr_list_preload() compares absurd reservations with: 16 GiB. */
static inline unsigned long totalram_pages(void)
{
	return 1UL << (34 - PAGE_SHIFT);
}

extern struct page *mem_map;

#define PAGE_ALIGN(addr)	ALIGN(addr, PAGE_SIZE)
#define PAGE_ALIGNED(addr)	IS_ALIGNED((unsigned long)(addr), PAGE_SIZE)
#define offset_in_page(p)	((unsigned long)(p) & ~PAGE_MASK)

static inline unsigned long page_to_pfn(const struct page *page)
{
	return (unsigned long)(page - mem_map) + SHIM_PFN_OFFSET;
}

extern unsigned long shim_nr_pages;

static inline bool pfn_valid(unsigned long pfn)
{
	return pfn >= SHIM_PFN_OFFSET && pfn - SHIM_PFN_OFFSET < shim_nr_pages;
}

static inline struct page *pfn_to_page(unsigned long pfn)
{
	return mem_map + (pfn - SHIM_PFN_OFFSET);
}

#define page_to_phys(page)	PFN_PHYS(page_to_pfn(page))
#define nth_page(page, n)	((page) + (n))
#define folio_page(folio, n)	nth_page(&(folio)->page, n)

static inline struct page *compound_head(const struct page *page)
{
	unsigned long head = READ_ONCE(page->compound_head);

	if (head & 1)
		return (struct page *)(head - 1);
	return (struct page *)page;
}

#define page_folio(p)		((struct folio *)compound_head(p))

static inline bool folio_test_large(const struct folio *folio)
{
	return folio->flags & PG_head;
}

static inline unsigned int folio_order(const struct folio *folio)
{
	return folio_test_large(folio) ? folio->page.order : 0;
}

static inline unsigned long folio_nr_pages(const struct folio *folio)
{
	return 1UL << folio_order(folio);
}

static inline size_t folio_size(const struct folio *folio)
{
	return PAGE_SIZE << folio_order(folio);
}

static inline unsigned int folio_shift(const struct folio *folio)
{
	return PAGE_SHIFT + folio_order(folio);
}

static inline unsigned long folio_pfn(const struct folio *folio)
{
	return page_to_pfn(&folio->page);
}

static inline size_t folio_page_idx(const struct folio *folio,
				    const struct page *page)
{
	return page - &folio->page;
}

#define offset_in_folio(folio, p)	\
	((unsigned long)(p) & (folio_size(folio) - 1))
#define folio_test_hugetlb(folio)	false

static inline bool is_zone_device_page(const struct page *page)
{
	return page->flags & PG_shim_p2p;
}

/* Device pages of one pgmap, or both not device pages. */
static inline bool zone_device_pages_have_same_pgmap(const struct page *a,
						     const struct page *b)
{
	return !((a->flags ^ b->flags) & PG_shim_p2p) &&
	       (!(a->flags & PG_shim_p2p) || a->pgmap == b->pgmap);
}

/* Simulated pages have no kernel mapping; nothing may dereference it. */
#define page_address(page)	((void *)(uintptr_t)page_to_phys(page))
#define virt_to_page(addr)	(shim_bug(__FILE__, __LINE__, "virt_to_page"), \
				 (struct page *)NULL)
#define is_vmalloc_or_module_addr(addr)	false
#define vmalloc_to_page(addr)	virt_to_page(addr)
#define unpin_user_page(page)	do { } while (0)

/* Folios from the simulated memory, never given back (kunit.c). */
struct folio *folio_alloc(gfp_t gfp, unsigned int order);
void folio_put(struct folio *folio);
#define flush_dcache_page(page)	do { } while (0)

#endif
