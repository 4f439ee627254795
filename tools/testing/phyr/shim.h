/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Harness side of the shims: simulated memory, the allocator's counters
 * and failure injection, and warning counts.
 */
#ifndef _PHYR_SHIM_H
#define _PHYR_SHIM_H

#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/slab.h>

/* Allocations (kmalloc, kmem_cache_alloc, __get_free_pages) not yet freed. */
extern long shim_live_allocs;
extern size_t shim_live_bytes;
/* Allocation attempts so far, and how many of them were failed. */
extern unsigned long shim_nr_allocs;
extern unsigned long shim_nr_failed;
/* Non-zero: the shim_fail_nth-th allocation from now fails; counts down. */
extern unsigned long shim_fail_nth;
/* Fill new non-zeroed objects with garbage (off for benchmarks). */
extern bool shim_poison;
/* WARN*() hits so far; first few are printed unless shim_warn_quiet. */
extern unsigned long shim_warnings;
extern bool shim_warn_quiet;

/*
 * After @after more successful allocations, fail each allocation with
 * probability @permille / 1000, drawn from a generator seeded with @seed.
 */
void shim_fail_random(unsigned long after, unsigned int permille, u64 seed);
/* Fail every allocation (permille 1000, after 0). */
void shim_fail_all(void);
/* Stop injecting failures, including shim_fail_nth. */
void shim_fail_off(void);

/* mem_map[] of @nr_pages order-0 pages, from pfn SHIM_PFN_OFFSET. */
extern unsigned long shim_nr_pages;
void shim_mem_init(unsigned long nr_pages);
void shim_mem_exit(void);
/* Turn the naturally aligned pages at @pfn into a folio of @order. */
struct folio *shim_make_folio(unsigned long pfn, unsigned int order);
/* Mark @nr pages from @pfn as PCI peer-to-peer memory of a new pgmap. */
void shim_set_p2p(unsigned long pfn, unsigned long nr);

static inline bool shim_pfn_valid(unsigned long pfn)
{
	return pfn_valid(pfn);
}

#endif
