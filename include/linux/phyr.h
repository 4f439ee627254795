/* SPDX-License-Identifier: GPL-2.0 */
/*
 * phyr: compact lists of physical address ranges
 *
 * See Documentation/core-api/phyr.rst for how to use a phyr list.
 */
#ifndef _LINUX_PHYR_H
#define _LINUX_PHYR_H

#include <linux/bug.h>
#include <linux/compiler.h>
#include <linux/gfp_types.h>
#include <linux/types.h>
#include <asm/page.h>

struct folio;
struct page;
struct phyr_chunk;

/**
 * struct phyr - A physical address range.
 * @addr: First byte of the range.
 * @len: Number of bytes in the range, never zero.
 *
 * A range never wraps: @addr + @len - 1 fits in a phys_addr_t.
 */
struct phyr {
	phys_addr_t addr;
	u64 len;
};

/**
 * struct phyr_list - A list of physical address ranges.
 * @single: The only range, while the list has no chunk.
 * @root: Top of the chunk tree; a leaf when @height is zero.
 * @tail: Leaf that ranges are appended to.  Preloaded spare chunks
 *	hang off its ->next.
 * @head: First leaf, where iteration starts.
 * @length: Bytes described by the list.
 * @nr_ranges: Number of ranges after merging.
 * @max_addr: Highest byte described by the list, 0 when empty.
 * @last_end: End of the last range: where an append merges.
 * @tail_last: Word index in @tail of the last range's entry.
 * @height: Levels of index nodes above the leaves.
 * @flags: %PHYR_LIST_* state bits.
 *
 * The fields are private to lib/phyr.c; use the accessors.  A list is
 * either empty, holds a single range in @single, or stores its ranges in
 * chunks.  The structure is meant to be embedded and fits in a cache line.
 */
struct phyr_list {
	union {
		struct phyr single;
		struct {
			struct phyr_chunk *root;
			struct phyr_chunk *tail;
		};
	};
	struct phyr_chunk *head;
	u64 length;
	unsigned long nr_ranges;
	phys_addr_t max_addr;
	phys_addr_t last_end;
	u16 tail_last;
	u8 height;
	u8 flags;
};

/* The list stores its ranges in chunks rather than in ->single. */
#define PHYR_LIST_CHUNKED	BIT(0)
/* The list holds at least one range of PCI peer-to-peer memory. */
#define PHYR_LIST_P2P		BIT(1)
/* The list holds DMA addresses: it is the DMA list of a phyr_map(). */
#define PHYR_LIST_DMA		BIT(2)

/* The range is PCI peer-to-peer memory (struct phyr_iter.flags). */
#define PHYR_RANGE_P2P		BIT(0)

/*
 * The 4-byte entry form, decoded inline by phyr_iter_next().  Bit 0 clear;
 * bits 1-3 hold the number of pages minus one; bits 4-31 hold the signed
 * distance in page frames from the frame after the last byte of the
 * previous range.  The other forms are private to lib/phyr.c, which
 * explains them in its DOC block and checks how the fields fit together.
 */
/* The low bits of an entry's first word that tell the 4-byte form. */
#define PHYR_DELTA_TAG_MASK	0x1u
/* Their value in a 4-byte entry. */
#define PHYR_DELTA_TAG		0x0u
/* Where the number of pages minus one starts. */
#define PHYR_DELTA_PAGES_SHIFT	1
/* The number of pages minus one, once shifted down. */
#define PHYR_DELTA_PAGES_MASK	0x7u
/* Where the signed distance in page frames starts; it runs to bit 31. */
#define PHYR_DELTA_PFN_SHIFT	4

/* Initialiser for an empty list. */
#define PHYR_LIST_INIT	{ .flags = 0 }

/**
 * DEFINE_PHYR_LIST() - Define an empty phyr list.
 * @name: Name of the variable.
 *
 * The list must be released with phyr_list_destroy().
 */
#define DEFINE_PHYR_LIST(name)	struct phyr_list name = PHYR_LIST_INIT

/**
 * phyr_list_init() - Initialise an empty phyr list.
 * @pl: List to initialise.
 *
 * Context: Any context.
 */
static inline void phyr_list_init(struct phyr_list *pl)
{
	*pl = (struct phyr_list)PHYR_LIST_INIT;
}

/**
 * phyr_list_empty() - Test whether a list describes no memory.
 * @pl: List.
 *
 * Context: Any context.
 * Return: %true if @pl holds no range.
 */
static inline bool phyr_list_empty(const struct phyr_list *pl)
{
	return pl->nr_ranges == 0;
}

/**
 * phyr_list_length() - Bytes described by a list.
 * @pl: List.
 *
 * Context: Any context.
 * Return: The sum of the lengths of all ranges in @pl.
 */
static inline u64 phyr_list_length(const struct phyr_list *pl)
{
	return pl->length;
}

/**
 * phyr_list_nr_ranges() - Number of ranges in a list.
 * @pl: List.
 *
 * Ranges that touch are merged when appended, so this is the number of
 * discontiguous pieces of memory, not the number of appends.
 *
 * Context: Any context.
 * Return: The number of ranges phyr_list_for_each() returns for @pl.
 */
static inline unsigned long phyr_list_nr_ranges(const struct phyr_list *pl)
{
	return pl->nr_ranges;
}

/**
 * phyr_list_max_addr() - Highest address described by a list.
 * @pl: List.
 *
 * Lets a DMA mapping decide in O(1) whether every range is below a
 * device's addressing limit.
 *
 * Context: Any context.
 * Return: The last byte of the highest range, or 0 for an empty list.
 */
static inline phys_addr_t phyr_list_max_addr(const struct phyr_list *pl)
{
	return pl->max_addr;
}

/**
 * phyr_list_end() - Where the last range of a list ends.
 * @pl: List.
 *
 * A range appended at this address merges into the last range.
 *
 * Context: Any context.
 * Return: The address of the byte after the last range, or 0 for an
 * empty list.
 */
static inline phys_addr_t phyr_list_end(const struct phyr_list *pl)
{
	return pl->nr_ranges ? pl->last_end : 0;
}

/**
 * phyr_list_has_p2p() - Test whether a list holds peer-to-peer memory.
 * @pl: List.
 *
 * Context: Any context.
 * Return: %true if a range of @pl was appended as PCI peer-to-peer memory.
 */
static inline bool phyr_list_has_p2p(const struct phyr_list *pl)
{
	return pl->flags & PHYR_LIST_P2P;
}

void phyr_list_destroy(struct phyr_list *pl);

#if IS_ENABLED(CONFIG_PHYR_KUNIT_TEST)
/* For leak tests only: chunks allocated and not yet freed by all lists. */
long phyr_chunks_live(void);
#endif
int __must_check phyr_list_append(struct phyr_list *pl, phys_addr_t addr,
				  u64 len, gfp_t gfp);
int __must_check phyr_list_append_p2p(struct phyr_list *pl, phys_addr_t addr,
				      u64 len, gfp_t gfp);
/* For the DMA mapping code, which builds DMA lists. */
int __must_check phyr_list_append_dma(struct phyr_list *pl, dma_addr_t addr,
				      u64 len, bool bus_addr, gfp_t gfp);
int __must_check phyr_list_append_folio(struct phyr_list *pl,
					struct folio *folio, size_t offset,
					size_t len, gfp_t gfp);
int __must_check phyr_list_append_pages(struct phyr_list *pl,
					struct page **pages,
					unsigned long npages,
					unsigned long offset, u64 len,
					gfp_t gfp);
int __must_check phyr_list_splice(struct phyr_list *pl,
				  struct phyr_list *src, gfp_t gfp);
int __must_check phyr_list_preload(struct phyr_list *pl,
				   unsigned long nr_ranges, gfp_t gfp);
size_t phyr_list_mem_bytes(const struct phyr_list *pl);

/**
 * struct phyr_iter - Cursor over the ranges of a phyr list.
 * @pl: List being walked.
 * @pos: Next entry to decode in the current chunk.
 * @end: How far phyr_iter_next() may decode inline: the end of the
 *	entries of the current chunk, or %NULL to send it to the slow path.
 * @chunk: Current chunk, %NULL for a list without chunks.
 * @base: Frame number that the 4-byte entries of the current chunk are
 *	relative to.
 * @offset: List offset at which the next range returned starts.
 * @skip: Bytes to drop from the front of the next range (after a seek).
 * @flags: %PHYR_RANGE_* bits of the range returned last.
 * @done: The end of the list has been reached.
 *
 * Lives on the caller's stack; initialise it with phyr_iter_init().  An
 * iterator stays valid while nobody appends to the list.
 */
struct phyr_iter {
	const struct phyr_list *pl;
	const u32 *pos;
	const u32 *end;
	const struct phyr_chunk *chunk;
	unsigned long base;
	u64 offset;
	u64 skip;
	unsigned int flags;
	bool done;
};

void phyr_iter_init(struct phyr_iter *iter, const struct phyr_list *pl);
bool __phyr_iter_next(struct phyr_iter *iter, struct phyr *range);
bool phyr_iter_seek(struct phyr_iter *iter, u64 offset);

/**
 * phyr_iter_next() - Return the next range of a list.
 * @iter: Iterator set up by phyr_iter_init() or phyr_iter_seek().
 * @range: Filled with the next range.
 *
 * The common 4-byte entry is decoded inline; everything else is left to
 * __phyr_iter_next().  @iter->flags is only written by the slow path,
 * which leaves the next range to it too after a range with flags.
 *
 * Context: Any context.  Nobody may append to the list meanwhile.
 * Return: %false when the list is exhausted, in which case @range is
 * not written.
 */
static inline bool phyr_iter_next(struct phyr_iter *iter, struct phyr *range)
{
	const u32 *pos = iter->pos;
	unsigned long pfn, npages;
	u32 word;

	if (unlikely(pos >= iter->end))
		return __phyr_iter_next(iter, range);
	word = *pos;
	if ((word & PHYR_DELTA_TAG_MASK) != PHYR_DELTA_TAG)
		return __phyr_iter_next(iter, range);
	pfn = iter->base + (long)((s32)word >> PHYR_DELTA_PFN_SHIFT);
	npages = ((word >> PHYR_DELTA_PAGES_SHIFT) & PHYR_DELTA_PAGES_MASK) + 1;
	range->addr = (phys_addr_t)pfn << PAGE_SHIFT;
	range->len = (u64)npages << PAGE_SHIFT;
	iter->offset += range->len;
	iter->pos = pos + 1;
	return true;
}

/**
 * phyr_list_for_each() - Iterate over the ranges of a list.
 * @pl: List.
 * @iter: Pointer to a struct phyr_iter.
 * @range: A struct phyr, set to each range in turn.
 *
 * Context: Any context.  Nobody may append to the list meanwhile.
 */
#define phyr_list_for_each(pl, iter, range)			\
	for (phyr_iter_init(iter, pl); phyr_iter_next(iter, &(range));)

/**
 * phyr_align_out() - The aligned blocks that a range touches.
 * @r: Range.
 * @block: Block size, a power of two.
 * @first: Set to the address of the first block.
 *
 * What an IOMMU maps for a range: its offset into the first block is
 * kept, the rest of the first and last blocks comes along.
 *
 * Context: Any context.
 * Return: Bytes from @first to the end of the last block @r touches.
 */
static inline u64 phyr_align_out(const struct phyr *r, u64 block,
				 phys_addr_t *first)
{
	*first = r->addr & ~(phys_addr_t)(block - 1);
	return ((r->addr + r->len + block - 1) & ~(block - 1)) - *first;
}

/**
 * struct phyr_block_iter - Cursor over the aligned blocks of a phyr list.
 * @iter: Range cursor underneath.
 * @addr: Next block to return.
 * @nr_left: Blocks left in the current range.
 * @shift: log2 of the block size.
 */
struct phyr_block_iter {
	struct phyr_iter iter;
	phys_addr_t addr;
	u64 nr_left;
	unsigned int shift;
};

/**
 * phyr_block_iter_init() - Set up iteration over aligned blocks.
 * @biter: Block cursor.
 * @pl: List.
 * @shift: log2 of the block size, less than the bits in phys_addr_t.
 *
 * Each range is covered by the naturally aligned blocks of 1 << @shift
 * bytes that it touches, as page-list hardware (RDMA MRs, NVMe PRPs)
 * wants.  Blocks are produced range by range, so a block shared by two
 * ranges is returned twice.
 *
 * Context: Any context.
 */
static inline void phyr_block_iter_init(struct phyr_block_iter *biter,
					const struct phyr_list *pl,
					unsigned int shift)
{
	phyr_iter_init(&biter->iter, pl);
	biter->addr = 0;
	biter->nr_left = 0;
	biter->shift = shift;
}

/* phyr_block_iter_next() with a block size the compiler may know. */
static __always_inline bool __phyr_block_iter_next(struct phyr_block_iter *biter,
						   phys_addr_t *addr,
						   unsigned int shift)
{
	struct phyr range;

	if (biter->nr_left) {
		*addr = biter->addr;
		biter->addr += (phys_addr_t)1 << shift;
		biter->nr_left--;
		return true;
	}
	if (!phyr_iter_next(&biter->iter, &range))
		return false;
	*addr = range.addr >> shift << shift;
	biter->nr_left = (u64)((range.addr + (phys_addr_t)(range.len - 1)) >>
			       shift) - (range.addr >> shift);
	if (biter->nr_left)
		biter->addr = *addr + ((phys_addr_t)1 << shift);
	return true;
}

/**
 * phyr_block_iter_next() - Return the next aligned block.
 * @biter: Block cursor.
 * @addr: Filled with the address of the next block.
 *
 * Context: Any context.  Nobody may append to the list meanwhile.
 * Return: %false when the list is exhausted.
 */
static inline bool phyr_block_iter_next(struct phyr_block_iter *biter,
					phys_addr_t *addr)
{
	return __phyr_block_iter_next(biter, addr, biter->shift);
}

/**
 * phyr_list_for_each_block() - Iterate over the aligned blocks of a list.
 * @pl: List.
 * @biter: Pointer to a struct phyr_block_iter.
 * @addr: A phys_addr_t, set to each block's address in turn.
 * @shift: log2 of the block size.
 *
 * Context: Any context.  Nobody may append to the list meanwhile.
 */
#define phyr_list_for_each_block(pl, biter, addr, shift)		\
	for (phyr_block_iter_init(biter, pl, shift);			\
	     phyr_block_iter_next(biter, &(addr));)

/**
 * phyr_list_for_each_page() - Iterate over the pages of a list.
 * @pl: List.
 * @biter: Pointer to a struct phyr_block_iter.
 * @addr: A phys_addr_t, set to the address of each page in turn.
 *
 * Every page that a range touches is returned, so the first and last
 * page of a byte-granular range are returned as well.
 *
 * Context: Any context.  Nobody may append to the list meanwhile.
 */
#define phyr_list_for_each_page(pl, biter, addr)			\
	for (phyr_block_iter_init(biter, pl, PAGE_SHIFT);		\
	     __phyr_block_iter_next(biter, &(addr), PAGE_SHIFT);)

#endif /* _LINUX_PHYR_H */
