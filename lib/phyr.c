// SPDX-License-Identifier: GPL-2.0
/*
 * phyr: compact lists of physical address ranges
 *
 * Coding conventions in this file:
 *
 * @pl is the list, @c a chunk, @p a pointer to an entry inside a leaf.
 * "Words" are the u32 units that leaf entries are made of.  Ranges are
 * described by their first byte and their length; the end of a range is
 * first byte + length and wraps to 0 for a range that ends at the top of
 * the physical address space, so code that compares ends compares last
 * bytes instead.
 */

#include <kunit/visibility.h>
#include <linux/atomic.h>
#include <linux/export.h>
#include <linux/fault-inject.h>
#include <linux/gfp.h>
#include <linux/init.h>
#include <linux/limits.h>
#include <linux/memremap.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/phyr.h>
#include <linux/slab.h>

/**
 * DOC: Storage of a phyr list
 *
 * A list of one range keeps it in struct phyr_list itself.  Longer lists
 * store variable-size entries in leaf chunks.  The first leaf is small
 * (%PHYR_SMALL_SHIFT) so that short lists stay cheap; later leaves are
 * a page each, allocated with __get_free_page(), so no allocation is ever
 * of a higher order.  Leaves are linked in append order for iteration.
 * Index nodes above them hold pointers to their children, and every chunk
 * records the list offset at which its first range starts, so a seek
 * binary-searches each level down to a leaf: O(log n).  Chunks only ever
 * get added on the right, so no node is ever split or moved.
 *
 * Within a page-sized leaf, a seek does not decode every entry before the
 * one it looks for.  The leaf is cut into blocks of 64 words, and a
 * 16-bit mark per block, at the end of the leaf, tells where the first
 * entry that starts in the block begins: its word (3 bits, 0 to 4 words
 * into the block) and its offset from the leaf's first range, in pages
 * (13 bits).  The seek scans the marks for the last block that starts at
 * or before its offset and decodes from there, at most one block of
 * entries.  A mark whose offset is not a whole number of pages below
 * 2^13 - 1 says so, and the seek decodes through its block instead; such
 * marks are only found in leaves of byte-granular or long ranges, which
 * hold fewer entries.  The first mark, which no block needs, has a bit
 * for each of the next 15 blocks that holds only 4-byte entries up to
 * the next mark.  There, as many pages as entries between the two marks
 * means one page each, and the seek finds its entry without decoding;
 * else it may walk back from the next mark, which it can as 4-byte
 * entries have no second word.  With 4 KiB pages the marks take 32 of a
 * leaf's 4096 bytes.
 * Freeing a list frees the leaf chain and the index nodes without looking
 * at a single entry.
 *
 * Spare chunks reserved by phyr_list_preload() hang off the tail leaf's
 * ->next, where the next leaf will go.  Iteration never gets there
 * because it stops at the tail.
 *
 * Entries are made of 32-bit words so that the common case fits in one
 * word; the low bits of the first word, the tag, say which form an entry
 * has, and the first word's other field starts right above them.  The
 * code names each form's tag ``PHYR_<form>_TAG``, the bits it takes
 * ``PHYR_<form>_TAG_MASK`` and the position of each field
 * ``PHYR_<form>_<field>_SHIFT``:
 *
 * * ``...0`` (DELTA) -- 4 bytes: a run of 1 to 8 pages whose first page
 *   frame is within 2^27 frames of the leaf's base: the frame of the
 *   first byte of the leaf's first entry, which never has this form.
 *   Bits 1-3 hold the number of pages minus one, bits 4-31 the signed
 *   distance.  Pinned memory is usually scattered over a machine's RAM
 *   rather than over the whole physical address space, so 28 bits reach
 *   every page of a machine with up to 512 GiB of RAM from anywhere else
 *   in it.  As every entry of a leaf decodes on its own, a seek can start
 *   decoding at any leaf, and at any mark.
 * * ``..01`` (PAGE) -- 8 bytes, a 64-bit word: the page-aligned address in
 *   its upper bits and the number of pages minus one in bits 2 to
 *   PAGE_SHIFT - 1: up to 1024 pages (4 MiB) with 4 KiB pages.
 * * ``.011`` (BYTE) -- 12 bytes: the length minus one in bits 3-31 of the
 *   first word (up to 512 MiB), then the 64-bit address: byte-granular
 *   ranges.
 * * ``.111`` (LONG) -- 20 bytes: range flags (peer-to-peer) in bits 3-31,
 *   then 64-bit address and 64-bit length: everything else.
 *
 * The 8-byte form counts pages rather than storing an order.  Folios are
 * power-of-two sized, but what gets appended are runs of them: adjacent
 * folios and physically contiguous small pages merge into runs of any
 * length, and a count describes each run up to 4 MiB in one entry that
 * grows in place as pages are merged, where an order would have to split
 * it into one entry per power of two.  Longer runs take the 20-byte form
 * once, which costs less than 0.01 byte per page.
 *
 * When a merge makes the last entry outgrow the space left in its leaf,
 * the entry moves to a new leaf, so a range is never split between two
 * entries.
 */

#ifndef PHYR_CHUNK_SHIFT
#define PHYR_CHUNK_SHIFT	PAGE_SHIFT
#endif
#define PHYR_SMALL_SHIFT	(PHYR_CHUNK_SHIFT < 8 ? PHYR_CHUNK_SHIFT : 8)
#define PHYR_MAX_HEIGHT		12

/* Bits in an entry word. */
#define PHYR_WORD_BITS		BITS_PER_TYPE(u32)

/*
 * The entry forms other than the 4-byte one (PHYR_DELTA_* in
 * <linux/phyr.h>): the low bits of the first word that tell the form, their
 * value, and where the field after them starts.
 */
/* The low bits that tell the 8-byte form. */
#define PHYR_PAGE_TAG_MASK	0x3u
/* Their value in an 8-byte entry. */
#define PHYR_PAGE_TAG		0x1u
/* Where the number of pages minus one starts; it runs below the address. */
#define PHYR_PAGE_PAGES_SHIFT	2
/* The low bits that tell the 12-byte form. */
#define PHYR_BYTE_TAG_MASK	0x7u
/* Their value in a 12-byte entry. */
#define PHYR_BYTE_TAG		0x3u
/* Where the length minus one starts; it runs to bit 31. */
#define PHYR_BYTE_LEN_SHIFT	3
/* The low bits that tell the 20-byte form. */
#define PHYR_LONG_TAG_MASK	0x7u
/* Their value in a 20-byte entry. */
#define PHYR_LONG_TAG		0x7u
/* Where the range flags start; they run to bit 31. */
#define PHYR_LONG_FLAGS_SHIFT	3

/* Most pages an 8-byte entry counts. */
#define PHYR_PAGE_MAX_PAGES	BIT_ULL(PAGE_SHIFT - PHYR_PAGE_PAGES_SHIFT)
/* The number of pages minus one of an 8-byte entry, once shifted down. */
#define PHYR_PAGE_PAGES_MASK	(PHYR_PAGE_MAX_PAGES - 1)
/* Longest range of a 12-byte entry. */
#define PHYR_BYTE_MAX_LEN	BIT_ULL(PHYR_WORD_BITS - PHYR_BYTE_LEN_SHIFT)
/* Most pages a 4-byte entry counts. */
#define PHYR_DELTA_MAX_PAGES	(PHYR_DELTA_PAGES_MASK + 1)
/* Farthest a 4-byte entry reaches, in page frames either way. */
#define PHYR_DELTA_MAX		\
	((1L << (PHYR_WORD_BITS - 1 - PHYR_DELTA_PFN_SHIFT)) - 1)
/* Words in the largest entry. */
#define PHYR_MAX_WORDS		5

/* A leaf's marks: words per block, and the fields of a mark. */
#define PHYR_MARK_BLOCK_SHIFT	6
#define PHYR_MARK_PAGES_BITS	13
/* Pages field of a mark whose offset does not fit. */
#define PHYR_MARK_NONE		((1u << PHYR_MARK_PAGES_BITS) - 1)
/* Marks below this have a bit in the unused first mark (phyr_mark_set()). */
#define PHYR_MARK_FLAT_MAX	16

/**
 * struct phyr_chunk - A leaf of entries or an index node.
 * @next: Leaf: the next leaf, or after the tail the first spare chunk.
 * @start: List offset of the first range that starts in this subtree.
 * @used: Leaf: words of entries; node: children.
 * @cap: Room for words or children.
 * @shift: log2 of the size of this chunk.
 * @level: 0 for a leaf, height above the leaves for an index node.
 * @words: Leaf entries.
 * @slots: Children of an index node.
 */
struct phyr_chunk {
	struct phyr_chunk *next;
	u64 start;
	u16 used;
	u16 cap;
	u8 shift;
	u8 level;
	union {
		DECLARE_FLEX_ARRAY(u32, words);
		DECLARE_FLEX_ARRAY(struct phyr_chunk *, slots);
	};
};

enum phyr_form {
	PHYR_FORM_DELTA,
	PHYR_FORM_PAGE,
	PHYR_FORM_BYTE,
	PHYR_FORM_LONG,
};

static const u8 phyr_form_words[] = {
	[PHYR_FORM_DELTA] = 1,
	[PHYR_FORM_PAGE] = 2,
	[PHYR_FORM_BYTE] = 3,
	[PHYR_FORM_LONG] = PHYR_MAX_WORDS,
};

#define PHYR_CHUNK_CAP(shift, type)					\
	((((size_t)1 << (shift)) - offsetof(struct phyr_chunk, words)) /	\
	 sizeof(type))

static_assert(sizeof(struct phyr_list) <= 64);
static_assert(PHYR_CHUNK_SHIFT <= PAGE_SHIFT);
/* A small leaf takes the two entries of a list leaving the inline form. */
static_assert(PHYR_CHUNK_CAP(PHYR_SMALL_SHIFT, u32) >= 2 * PHYR_MAX_WORDS);
static_assert(PHYR_CHUNK_CAP(PHYR_CHUNK_SHIFT, u32) <= U16_MAX);
static_assert(PHYR_CHUNK_CAP(PHYR_SMALL_SHIFT, void *) >= 2);
static_assert(PHYR_CHUNK_CAP(PHYR_CHUNK_SHIFT, u32) / PHYR_MAX_WORDS > 2);
/* The page count of the 8-byte form lives between the tag and the address. */
static_assert(PAGE_SHIFT >= 12);
static_assert(PHYR_PAGE_PAGES_SHIFT < PAGE_SHIFT);
/* A mark's word field counts the words of an entry from the block before. */
static_assert(PHYR_MAX_WORDS - 1 < 1u << (16 - PHYR_MARK_PAGES_BITS));
/* A small leaf needs no marks: it is one block. */
static_assert(PHYR_CHUNK_CAP(PHYR_SMALL_SHIFT, u32) <= 1u << PHYR_MARK_BLOCK_SHIFT);

/*
 * The tags are a prefix code that phyr_decode() reads from bit 0 up: each
 * mask has one bit more than the one before, the first value of a form's
 * bits is its tag and the second goes on to the next form.  The last two
 * forms share their mask and split its last bit, so every word decodes.
 */
static_assert((PHYR_DELTA_TAG & ~PHYR_DELTA_TAG_MASK) == 0);
static_assert(PHYR_PAGE_TAG_MASK == (PHYR_DELTA_TAG_MASK << 1 | 1));
static_assert((PHYR_PAGE_TAG & PHYR_DELTA_TAG_MASK) != PHYR_DELTA_TAG);
static_assert((PHYR_PAGE_TAG & ~PHYR_PAGE_TAG_MASK) == 0);
static_assert(PHYR_BYTE_TAG_MASK == (PHYR_PAGE_TAG_MASK << 1 | 1));
static_assert((PHYR_BYTE_TAG & PHYR_DELTA_TAG_MASK) != PHYR_DELTA_TAG);
static_assert((PHYR_BYTE_TAG & PHYR_PAGE_TAG_MASK) != PHYR_PAGE_TAG);
static_assert((PHYR_BYTE_TAG & ~PHYR_BYTE_TAG_MASK) == 0);
static_assert(PHYR_LONG_TAG_MASK == PHYR_BYTE_TAG_MASK);
static_assert((PHYR_LONG_TAG & PHYR_DELTA_TAG_MASK) != PHYR_DELTA_TAG);
static_assert((PHYR_LONG_TAG & PHYR_PAGE_TAG_MASK) != PHYR_PAGE_TAG);
static_assert((PHYR_LONG_TAG & ~PHYR_LONG_TAG_MASK) == 0);
static_assert(PHYR_LONG_TAG != PHYR_BYTE_TAG);

/* Each form's first field starts right above its tag. */
static_assert(BIT(PHYR_DELTA_PAGES_SHIFT) == PHYR_DELTA_TAG_MASK + 1);
static_assert(BIT(PHYR_PAGE_PAGES_SHIFT) == PHYR_PAGE_TAG_MASK + 1);
static_assert(BIT(PHYR_BYTE_LEN_SHIFT) == PHYR_BYTE_TAG_MASK + 1);
static_assert(BIT(PHYR_LONG_FLAGS_SHIFT) == PHYR_LONG_TAG_MASK + 1);
/* The page count of the 4-byte form fills the bits up to the distance. */
static_assert(BIT(PHYR_DELTA_PFN_SHIFT) ==
	      (PHYR_DELTA_PAGES_MASK << PHYR_DELTA_PAGES_SHIFT |
	       PHYR_DELTA_TAG_MASK) + 1);
/* Every range flag fits the 20-byte form. */
static_assert(!(PHYR_RANGE_P2P & ~(U32_MAX >> PHYR_LONG_FLAGS_SHIFT)));

#ifdef CONFIG_FAULT_INJECTION
static DECLARE_FAULT_ATTR(phyr_fail_attr);

static bool phyr_should_fail(size_t size)
{
	return should_fail_ex(&phyr_fail_attr, size, FAULT_NOWARN);
}

#ifdef CONFIG_FAULT_INJECTION_DEBUG_FS
static int __init phyr_fail_debugfs(void)
{
	return PTR_ERR_OR_ZERO(fault_create_debugfs_attr("fail_phyr", NULL,
							 &phyr_fail_attr));
}
late_initcall(phyr_fail_debugfs);
#endif
#else
static inline bool phyr_should_fail(size_t size)
{
	return false;
}
#endif

#if IS_ENABLED(CONFIG_PHYR_KUNIT_TEST)
static atomic_long_t phyr_nr_chunks;

long phyr_chunks_live(void)
{
	return atomic_long_read(&phyr_nr_chunks);
}
EXPORT_SYMBOL_IF_KUNIT(phyr_chunks_live);

static void phyr_count_chunk(long nr)
{
	atomic_long_add(nr, &phyr_nr_chunks);
}
#else
static inline void phyr_count_chunk(long nr)
{
}
#endif

static struct phyr_chunk *phyr_chunk_alloc(unsigned int shift, gfp_t gfp)
{
	struct phyr_chunk *c;

	if (phyr_should_fail((size_t)1 << shift))
		return NULL;
	if (shift == PAGE_SHIFT)
		c = (struct phyr_chunk *)__get_free_page(gfp);
	else
		c = kmalloc((size_t)1 << shift, gfp);
	if (!c)
		return NULL;
	c->shift = shift;
	phyr_count_chunk(1);
	return c;
}

static void phyr_chunk_free(struct phyr_chunk *c)
{
	phyr_count_chunk(-1);
	if (c->shift == PAGE_SHIFT)
		free_page((unsigned long)c);
	else
		kfree(c);
}

/*
 * The marks of a leaf, one per block of its words (the first is unused),
 * stored after them; small leaves have none.
 */
static unsigned int phyr_nr_marks(const struct phyr_chunk *c)
{
	if (c->cap <= 1u << PHYR_MARK_BLOCK_SHIFT)
		return 0;
	return DIV_ROUND_UP(c->cap, 1u << PHYR_MARK_BLOCK_SHIFT);
}

static u16 *phyr_marks(const struct phyr_chunk *c)
{
	return (u16 *)&c->words[c->cap];
}

static void phyr_chunk_reset(struct phyr_chunk *c, unsigned int level,
			     u64 start)
{
	c->next = NULL;
	c->start = start;
	c->used = 0;
	c->level = level;
	if (level) {
		c->cap = PHYR_CHUNK_CAP(c->shift, struct phyr_chunk *);
		return;
	}
	c->cap = PHYR_CHUNK_CAP(c->shift, u32);
	if (c->cap > 1u << PHYR_MARK_BLOCK_SHIFT) {
		/* The marks take the end of the words they index. */
		c->cap -= DIV_ROUND_UP(phyr_nr_marks(c), 2);
		memset(phyr_marks(c), 0, phyr_nr_marks(c) * sizeof(u16));
	}
}

/*
 * The entries from mark @k of leaf @c up to mark @k + 1 are no longer all
 * 4-byte ones.
 */
static void phyr_mark_mixed(struct phyr_chunk *c, unsigned int k)
{
	if (k && k < PHYR_MARK_FLAT_MAX && phyr_nr_marks(c))
		phyr_marks(c)[0] &= ~BIT(k);
}

/*
 * Mark the block of word @w of leaf @c: the entry there, @off bytes into
 * the leaf's ranges, is the first to start in it; @delta if it has the
 * 4-byte form.  Once a mark has no offset, none after it in the leaf has
 * one, so that a seek can binary-search them.
 */
static void phyr_mark_set(struct phyr_chunk *c, unsigned int w, u64 off,
			  bool delta)
{
	unsigned int k = w >> PHYR_MARK_BLOCK_SHIFT, pages = PHYR_MARK_NONE;
	u16 *marks = phyr_marks(c);

	if (!(off & (PAGE_SIZE - 1)) && off >> PAGE_SHIFT < PHYR_MARK_NONE &&
	    (k == 1 || (marks[k - 1] & PHYR_MARK_NONE) != PHYR_MARK_NONE))
		pages = off >> PAGE_SHIFT;
	marks[k] = (w & ((1u << PHYR_MARK_BLOCK_SHIFT) - 1)) <<
		   PHYR_MARK_PAGES_BITS | pages;
	if (k >= PHYR_MARK_FLAT_MAX)
		return;
	if (delta)
		marks[0] |= BIT(k);
	else
		marks[0] &= ~BIT(k);
}

/*
 * A new entry starts at word @w of leaf @c, @off bytes into the leaf's
 * ranges, after an entry that starts at word @prev of the same leaf;
 * @delta if it has the 4-byte form.
 */
static __always_inline void phyr_mark(struct phyr_chunk *c, unsigned int w,
				      unsigned int prev, u64 off, bool delta)
{
	if (w >> PHYR_MARK_BLOCK_SHIFT != prev >> PHYR_MARK_BLOCK_SHIFT)
		phyr_mark_set(c, w, off, delta);
	else if (!delta)
		phyr_mark_mixed(c, w >> PHYR_MARK_BLOCK_SHIFT);
}

/*
 * Cut leaf @c back to @used words, which end an entry, and forget the
 * marks of the entries that went.
 */
static void phyr_leaf_trim(struct phyr_chunk *c, unsigned int used)
{
	u16 *marks = phyr_marks(c);
	unsigned int k;

	c->used = used;
	for (k = max(1u, used >> PHYR_MARK_BLOCK_SHIFT); k < phyr_nr_marks(c);
	     k++)
		if ((k << PHYR_MARK_BLOCK_SHIFT) +
		    (marks[k] >> PHYR_MARK_PAGES_BITS) >= used)
			marks[k] = 0;
}

static u64 phyr_get64(const u32 *p)
{
	return p[0] | (u64)p[1] << PHYR_WORD_BITS;
}

static void phyr_put64(u32 *p, u64 v)
{
	p[0] = lower_32_bits(v);
	p[1] = upper_32_bits(v);
}

/*
 * The base of the 4-byte entries of leaf @c: the frame of the first byte
 * of its first entry, which has one of the other forms.  With PAE it is
 * truncated to an unsigned long, the same way by encoder and decoder.
 */
static unsigned long phyr_leaf_base(const struct phyr_chunk *c)
{
	const u32 *p = c->words;
	u64 addr;

	if ((p[0] & PHYR_PAGE_TAG_MASK) == PHYR_PAGE_TAG)
		addr = phyr_get64(p);
	else
		addr = phyr_get64(p + 1);
	return (unsigned long)(addr >> PAGE_SHIFT);
}

/* The address a 4-byte entry @delta frames away from @base decodes to. */
static phys_addr_t phyr_delta_addr(unsigned long base, long delta)
{
	return (phys_addr_t)(base + delta) << PAGE_SHIFT;
}

static bool phyr_delta_fits(long delta)
{
	return (unsigned long)delta + PHYR_DELTA_MAX + 1 <=
	       2 * PHYR_DELTA_MAX + 1;
}

static __always_inline bool phyr_delta(phys_addr_t addr, unsigned long base,
				       long *delta)
{
	*delta = (long)((unsigned long)(addr >> PAGE_SHIFT) - base);
	if (!phyr_delta_fits(*delta))
		return false;
	/* With PAE, frame numbers may not fit in an unsigned long. */
	return 8 * sizeof(long) + PAGE_SHIFT >= 8 * sizeof(phys_addr_t) ||
	       phyr_delta_addr(base, *delta) == addr;
}

static u32 phyr_delta_word(long delta, unsigned long npages)
{
	return (u32)delta << PHYR_DELTA_PFN_SHIFT |
	       (u32)(npages - 1) << PHYR_DELTA_PAGES_SHIFT | PHYR_DELTA_TAG;
}

/* Pick the smallest form for a range; @first rules out the 4-byte form. */
static enum phyr_form phyr_pick(phys_addr_t addr, u64 len, unsigned int flags,
				unsigned long base, bool first)
{
	long delta;

	if (flags)
		return PHYR_FORM_LONG;
	if (((u64)addr | len) & (PAGE_SIZE - 1))
		return len <= PHYR_BYTE_MAX_LEN ? PHYR_FORM_BYTE : PHYR_FORM_LONG;
	if (!first && len <= PHYR_DELTA_MAX_PAGES << PAGE_SHIFT &&
	    phyr_delta(addr, base, &delta))
		return PHYR_FORM_DELTA;
	if (len <= PHYR_PAGE_MAX_PAGES << PAGE_SHIFT)
		return PHYR_FORM_PAGE;
	return len <= PHYR_BYTE_MAX_LEN ? PHYR_FORM_BYTE : PHYR_FORM_LONG;
}

static unsigned int phyr_write(u32 *p, enum phyr_form form, phys_addr_t addr,
			       u64 len, unsigned int flags, unsigned long base)
{
	long delta;

	switch (form) {
	case PHYR_FORM_DELTA:
		phyr_delta(addr, base, &delta);
		p[0] = phyr_delta_word(delta, len >> PAGE_SHIFT);
		break;
	case PHYR_FORM_PAGE:
		phyr_put64(p, (u64)addr |
			   ((len >> PAGE_SHIFT) - 1) << PHYR_PAGE_PAGES_SHIFT |
			   PHYR_PAGE_TAG);
		break;
	case PHYR_FORM_BYTE:
		p[0] = (u32)(len - 1) << PHYR_BYTE_LEN_SHIFT | PHYR_BYTE_TAG;
		phyr_put64(p + 1, addr);
		break;
	case PHYR_FORM_LONG:
		p[0] = flags << PHYR_LONG_FLAGS_SHIFT | PHYR_LONG_TAG;
		phyr_put64(p + 1, addr);
		phyr_put64(p + 3, len);
		break;
	}
	return phyr_form_words[form];
}

/*
 * Decode the entry at @p, whose 4-byte form is relative to @base, into @r
 * and @flags; return its size in words.
 */
static __always_inline unsigned int phyr_decode(const u32 *p,
						unsigned long base,
						struct phyr *r,
						unsigned int *flags)
{
	u32 word = p[0];
	u64 v;

	*flags = 0;
	if ((word & PHYR_DELTA_TAG_MASK) == PHYR_DELTA_TAG) {
		r->addr = phyr_delta_addr(base,
					  (s32)word >> PHYR_DELTA_PFN_SHIFT);
		r->len = (u64)(((word >> PHYR_DELTA_PAGES_SHIFT) &
				PHYR_DELTA_PAGES_MASK) + 1) << PAGE_SHIFT;
		return 1;
	}
	if ((word & PHYR_PAGE_TAG_MASK) == PHYR_PAGE_TAG) {
		v = phyr_get64(p);
		r->addr = v & ~(u64)(PAGE_SIZE - 1);
		r->len = (((v >> PHYR_PAGE_PAGES_SHIFT) & PHYR_PAGE_PAGES_MASK) +
			  1) << PAGE_SHIFT;
		return 2;
	}
	r->addr = phyr_get64(p + 1);
	if ((word & PHYR_BYTE_TAG_MASK) == PHYR_BYTE_TAG) {
		r->len = (u64)(word >> PHYR_BYTE_LEN_SHIFT) + 1;
		return 3;
	}
	/* The only tag left is PHYR_LONG_TAG. */
	r->len = phyr_get64(p + 3);
	*flags = word >> PHYR_LONG_FLAGS_SHIFT;
	return PHYR_MAX_WORDS;
}

static bool phyr_chunked(const struct phyr_list *pl)
{
	return pl->flags & PHYR_LIST_CHUNKED;
}

static unsigned int phyr_list_range_flags(const struct phyr_list *pl)
{
	return pl->flags & PHYR_LIST_P2P ? PHYR_RANGE_P2P : 0;
}

/* The last range of a non-empty list. */
static unsigned int phyr_last(const struct phyr_list *pl, struct phyr *last)
{
	unsigned int flags;

	if (!phyr_chunked(pl)) {
		*last = pl->single;
		return phyr_list_range_flags(pl);
	}
	phyr_decode(pl->tail->words + pl->tail_last, 0, last, &flags);
	last->addr = pl->last_end - last->len;
	return flags;
}

static unsigned int phyr_nr_spares(const struct phyr_list *pl,
				   unsigned int max)
{
	struct phyr_chunk *c;
	unsigned int nr = 0;

	if (!phyr_chunked(pl))
		return 0;
	for (c = pl->tail->next; c && nr < max; c = c->next)
		nr++;
	return nr;
}

static struct phyr_chunk *phyr_pop_spare(struct phyr_list *pl)
{
	struct phyr_chunk *c = pl->tail->next;

	pl->tail->next = c->next;
	return c;
}

/*
 * Get @nr chunks for one operation, spares first.  All or nothing: when an
 * allocation fails, the spares stay where they were.  Fresh chunks are
 * page-sized, except @out[1] and later, which get @node_shift.
 */
static int phyr_grab(struct phyr_list *pl, struct phyr_chunk **out,
		     unsigned int nr, unsigned int node_shift, gfp_t gfp)
{
	unsigned int nr_spare = phyr_nr_spares(pl, nr);
	unsigned int i;

	for (i = nr_spare; i < nr; i++) {
		out[i] = phyr_chunk_alloc(i ? node_shift : PHYR_CHUNK_SHIFT,
					  gfp);
		if (!out[i])
			goto out_free_fresh;
	}
	for (i = 0; i < nr_spare; i++)
		out[i] = phyr_pop_spare(pl);
	return 0;

out_free_fresh:
	while (i-- > nr_spare)
		phyr_chunk_free(out[i]);
	return -ENOMEM;
}

/*
 * Append an empty leaf whose first range starts at list offset @start and
 * make it the tail, with the index nodes it needs.
 */
static int phyr_add_leaf(struct phyr_list *pl, u64 start, gfp_t gfp)
{
	struct phyr_chunk *spine[PHYR_MAX_HEIGHT + 1];
	struct phyr_chunk *new[PHYR_MAX_HEIGHT + 2];
	unsigned int height = pl->height;
	unsigned int level, top, nr, i;
	struct phyr_chunk *c, *leaf, *child;
	int ret;

	c = pl->root;
	for (level = height; level > 0; level--) {
		spine[level] = c;
		c = c->slots[c->used - 1];
	}
	/* The lowest index node with a free slot, or a new root above all. */
	for (top = 1; top <= height; top++)
		if (spine[top]->used < spine[top]->cap)
			break;
	if (top > height && WARN_ON_ONCE(height == PHYR_MAX_HEIGHT))
		return -ENOMEM;
	nr = 1 + (top <= height ? top - 1 : height + 1);

	/* The leaf is new[0]; the first index node of a list is small. */
	ret = phyr_grab(pl, new, nr,
			height ? PHYR_CHUNK_SHIFT : PHYR_SMALL_SHIFT, gfp);
	if (ret)
		return ret;

	leaf = new[0];
	phyr_chunk_reset(leaf, 0, start);
	leaf->next = pl->tail->next;
	pl->tail->next = leaf;
	pl->tail = leaf;

	child = leaf;
	for (i = 1; i < top && i <= height; i++) {
		c = new[i];
		phyr_chunk_reset(c, i, start);
		c->slots[c->used++] = child;
		child = c;
	}
	if (top <= height) {
		spine[top]->slots[spine[top]->used++] = child;
		return 0;
	}
	c = new[nr - 1];
	phyr_chunk_reset(c, height + 1, pl->root->start);
	c->slots[0] = pl->root;
	c->slots[1] = child;
	c->used = 2;
	pl->root = c;
	pl->height = height + 1;
	return 0;
}

/* Leave the inline form: put @pl->single into a new leaf. */
static void phyr_make_chunked(struct phyr_list *pl, struct phyr_chunk *leaf)
{
	struct phyr single = pl->single;
	unsigned int flags = phyr_list_range_flags(pl);

	phyr_chunk_reset(leaf, 0, 0);
	if (pl->nr_ranges)
		leaf->used = phyr_write(leaf->words,
					phyr_pick(single.addr, single.len,
						  flags, 0, true),
					single.addr, single.len, flags, 0);
	pl->root = leaf;
	pl->tail = leaf;
	pl->head = leaf;
	pl->height = 0;
	pl->tail_last = 0;
	pl->flags |= PHYR_LIST_CHUNKED;
}

/* Make the last range @last @len bytes longer. */
static int phyr_grow_last(struct phyr_list *pl, const struct phyr *last,
			  u64 len, unsigned int flags, gfp_t gfp)
{
	u64 new_len = last->len + len;
	struct phyr_chunk *tail;
	enum phyr_form form;
	u32 *p;
	int ret;

	if (!phyr_chunked(pl)) {
		pl->single.len = new_len;
		return 0;
	}
	tail = pl->tail;
	p = tail->words + pl->tail_last;
	if ((*p & PHYR_DELTA_TAG_MASK) == PHYR_DELTA_TAG &&
	    !(len & (PAGE_SIZE - 1)) &&
	    new_len <= PHYR_DELTA_MAX_PAGES << PAGE_SHIFT) {
		*p &= ~(PHYR_DELTA_PAGES_MASK << PHYR_DELTA_PAGES_SHIFT);
		*p |= (u32)((new_len >> PAGE_SHIFT) - 1) <<
		      PHYR_DELTA_PAGES_SHIFT;
		return 0;
	}
	form = phyr_pick(last->addr, new_len, flags, 0, true);
	if (pl->tail_last + phyr_form_words[form] > tail->cap) {
		ret = phyr_add_leaf(pl, pl->length - last->len, gfp);
		if (ret)
			return ret;
		phyr_leaf_trim(tail, pl->tail_last);
		pl->tail_last = 0;
		p = pl->tail->words;
	} else {
		phyr_mark_mixed(tail, pl->tail_last >> PHYR_MARK_BLOCK_SHIFT);
	}
	pl->tail->used = pl->tail_last +
			 phyr_write(p, form, last->addr, new_len, flags, 0);
	return 0;
}

/* Add a range that does not merge with the last one. */
static int phyr_push(struct phyr_list *pl, phys_addr_t addr, u64 len,
		     unsigned int flags, gfp_t gfp)
{
	struct phyr_chunk *tail;
	unsigned long base = 0;
	enum phyr_form form;
	int ret;

	if (!phyr_chunked(pl)) {
		struct phyr_chunk *leaf = phyr_chunk_alloc(PHYR_SMALL_SHIFT,
							   gfp);

		if (!leaf)
			return -ENOMEM;
		phyr_make_chunked(pl, leaf);
	}
	tail = pl->tail;
	if (tail->used)
		base = phyr_leaf_base(tail);
	form = phyr_pick(addr, len, flags, base, !tail->used);
	if (tail->used + phyr_form_words[form] > tail->cap) {
		ret = phyr_add_leaf(pl, pl->length, gfp);
		if (ret)
			return ret;
		tail = pl->tail;
		form = phyr_pick(addr, len, flags, base, true);
	}
	if (tail->used)
		phyr_mark(tail, tail->used, pl->tail_last,
			  pl->length - tail->start, form == PHYR_FORM_DELTA);
	pl->tail_last = tail->used;
	tail->used += phyr_write(tail->words + tail->used, form, addr, len,
				 flags, base);
	pl->nr_ranges++;
	return 0;
}

/*
 * ZONE_DEVICE memory, peer-to-peer memory among it, is added in whole
 * subsections, so only there can physically contiguous pages change from
 * one kind of memory to another.
 */
static bool phyr_pfn_starts_subsection(unsigned long pfn)
{
#ifdef CONFIG_ZONE_DEVICE
	return !(pfn & (PAGES_PER_SUBSECTION - 1));
#else
	return false;
#endif
}

/*
 * Whether a range of peer-to-peer memory at @addr may merge with the one
 * that ends there: not where the memory of one provider (pgmap) ends and
 * that of another begins, since a mapping classifies each provider apart.
 */
static bool phyr_p2p_joins(phys_addr_t addr)
{
	unsigned long pfn = PHYS_PFN(addr);

	if (offset_in_page(addr) || !phyr_pfn_starts_subsection(pfn))
		return true;
	if (pfn_valid(pfn) != pfn_valid(pfn - 1))
		return false;
	return !pfn_valid(pfn) ||
	       zone_device_pages_have_same_pgmap(pfn_to_page(pfn - 1),
						 pfn_to_page(pfn));
}

/* Whether @addr is PCI peer-to-peer memory, by its struct page. */
static bool phyr_addr_is_p2p(phys_addr_t addr)
{
	unsigned long pfn = PHYS_PFN(addr);

	return IS_ENABLED(CONFIG_PCI_P2PDMA) && pfn_valid(pfn) &&
	       is_pci_p2pdma_page(pfn_to_page(pfn));
}

/* Everything but a 4-byte entry pushed into a leaf with room. */
static noinline int phyr_append_slow(struct phyr_list *pl, phys_addr_t addr,
				     u64 len, unsigned int flags, gfp_t gfp)
{
	struct phyr last;

	if (!pl->nr_ranges && !phyr_chunked(pl)) {
		pl->single.addr = addr;
		pl->single.len = len;
		pl->nr_ranges = 1;
		return 0;
	}
	if (pl->nr_ranges && addr && addr == pl->last_end &&
	    flags == phyr_last(pl, &last) &&
	    (!(flags & PHYR_RANGE_P2P) || pl->flags & PHYR_LIST_DMA ||
	     phyr_p2p_joins(addr)))
		return phyr_grow_last(pl, &last, len, flags, gfp);
	return phyr_push(pl, addr, len, flags, gfp);
}

/* Append a valid range whose length does not overflow the list's. */
static __always_inline int __phyr_list_append(struct phyr_list *pl,
					      phys_addr_t addr, u64 len,
					      unsigned int flags, gfp_t gfp)
{
	struct phyr_chunk *tail;
	long delta;
	int ret;

	/*
	 * Scattered pages make up most lists: push a 4-byte entry for a run
	 * of a few pages near the last range while the tail leaf has room.
	 */
	if (likely(phyr_chunked(pl) && !flags && addr != pl->last_end)) {
		tail = pl->tail;
		if (likely(tail->used && tail->used < tail->cap &&
			   !(((u64)addr | len) & (PAGE_SIZE - 1)) &&
			   len <= PHYR_DELTA_MAX_PAGES << PAGE_SHIFT &&
			   phyr_delta(addr, phyr_leaf_base(tail), &delta))) {
			phyr_mark(tail, tail->used, pl->tail_last,
				  pl->length - tail->start, true);
			pl->tail_last = tail->used;
			tail->words[tail->used++] =
				phyr_delta_word(delta, len >> PAGE_SHIFT);
			pl->nr_ranges++;
			goto out;
		}
	}
	ret = phyr_append_slow(pl, addr, len, flags, gfp);
	if (ret)
		return ret;
	if (flags & PHYR_RANGE_P2P)
		pl->flags |= PHYR_LIST_P2P;
out:
	pl->last_end = addr + len;
	pl->length += len;
	pl->max_addr = max(pl->max_addr, addr + (phys_addr_t)(len - 1));
	return 0;
}

static int phyr_check_range(const struct phyr_list *pl, phys_addr_t addr,
			    u64 len)
{
	u64 total;

	if (!len || len - 1 > (u64)(PHYS_ADDR_MAX - addr))
		return -EINVAL;
	if (check_add_overflow(pl->length, len, &total))
		return -EOVERFLOW;
	return 0;
}

/**
 * phyr_list_append() - Add a range of memory to the end of a list.
 * @pl: List.
 * @addr: Physical address of the first byte.
 * @len: Number of bytes.
 * @gfp: Memory allocation flags.
 *
 * A range that starts where the last range of @pl ends is merged into it.
 * A range that starts in PCI peer-to-peer memory with a struct page is
 * stored as peer-to-peer memory, as phyr_list_append_p2p() stores it, so
 * that phyr_map() maps it as such.  On error, @pl is left as it was.
 *
 * Context: Any context that @gfp allows.  The caller must serialise
 * changes to @pl against each other and against readers.
 * Return: 0 on success, -EINVAL if @len is 0 or the range wraps around
 * the end of the physical address space, -EOVERFLOW if the length of
 * @pl would overflow, -ENOMEM if memory could not be allocated.
 */
int phyr_list_append(struct phyr_list *pl, phys_addr_t addr, u64 len,
		     gfp_t gfp)
{
	int ret = phyr_check_range(pl, addr, len);

	if (ret)
		return ret;
	return __phyr_list_append(pl, addr, len,
				  phyr_addr_is_p2p(addr) ? PHYR_RANGE_P2P : 0,
				  gfp);
}
EXPORT_SYMBOL_GPL(phyr_list_append);

/**
 * phyr_list_append_p2p() - Add a range of peer-to-peer memory to a list.
 * @pl: List.
 * @addr: CPU physical address of the first byte, in a PCI BAR.
 * @len: Number of bytes.
 * @gfp: Memory allocation flags.
 *
 * Like phyr_list_append(), for memory that a DMA mapping has to treat as
 * PCI peer-to-peer memory.  Such a range only merges with a peer-to-peer
 * range of the same provider (pgmap).  The other append functions
 * recognise peer-to-peer memory that has struct pages by themselves.
 *
 * Context: Any context that @gfp allows.  The caller must serialise
 * changes to @pl against each other and against readers.
 * Return: 0 on success or an errno as for phyr_list_append().
 */
int phyr_list_append_p2p(struct phyr_list *pl, phys_addr_t addr, u64 len,
			 gfp_t gfp)
{
	int ret = phyr_check_range(pl, addr, len);

	if (ret)
		return ret;
	return __phyr_list_append(pl, addr, len, PHYR_RANGE_P2P, gfp);
}
EXPORT_SYMBOL_GPL(phyr_list_append_p2p);

/**
 * phyr_list_append_dma() - Add a range of DMA addresses to a DMA list.
 * @pl: List of DMA ranges: empty, or made by this function.
 * @addr: DMA address of the first byte.
 * @len: Number of bytes.
 * @bus_addr: @addr is a PCI bus address of peer-to-peer memory, which
 *	no IOMMU translates.
 * @gfp: Memory allocation flags.
 *
 * For the DMA mapping code, which builds the DMA list of a mapping.  A DMA
 * address is never looked up as memory: an IOVA or a bus address can equal
 * the CPU address of an unrelated page.  A range is stored as peer-to-peer
 * memory if and only if @bus_addr says so, and bus address ranges merge
 * with each other as other ranges do.  @pl is marked %PHYR_LIST_DMA.
 *
 * Context: Any context that @gfp allows.  The caller must serialise
 * changes to @pl against each other and against readers.
 * Return: 0 on success, -EINVAL if @pl holds CPU ranges, -EOVERFLOW if
 * @addr does not fit in a phys_addr_t, or an errno as for
 * phyr_list_append().  On error, @pl is left as it was.
 */
int phyr_list_append_dma(struct phyr_list *pl, dma_addr_t addr, u64 len,
			 bool bus_addr, gfp_t gfp)
{
	int ret;

	if (WARN_ON_ONCE(!phyr_list_empty(pl) && !(pl->flags & PHYR_LIST_DMA)))
		return -EINVAL;
	if ((dma_addr_t)(phys_addr_t)addr != addr)
		return -EOVERFLOW;
	ret = phyr_check_range(pl, addr, len);
	if (ret)
		return ret;
	/* Set first: merging looks at it. */
	pl->flags |= PHYR_LIST_DMA;
	ret = __phyr_list_append(pl, addr, len, bus_addr ? PHYR_RANGE_P2P : 0,
				 gfp);
	if (ret && phyr_list_empty(pl))
		pl->flags &= ~PHYR_LIST_DMA;
	return ret;
}
EXPORT_SYMBOL_GPL(phyr_list_append_dma);

/**
 * phyr_list_append_folio() - Add part of a folio to a list.
 * @pl: List.
 * @folio: Folio.
 * @offset: Offset of the first byte in @folio.
 * @len: Number of bytes.
 * @gfp: Memory allocation flags.
 *
 * Context: Any context that @gfp allows.  The caller must serialise
 * changes to @pl against each other and against readers.
 * Return: 0 on success, -EINVAL if @len is 0 or the range does not lie
 * within @folio, or an errno as for phyr_list_append().
 */
int phyr_list_append_folio(struct phyr_list *pl, struct folio *folio,
			   size_t offset, size_t len, gfp_t gfp)
{
	unsigned int flags = 0;
	phys_addr_t addr;
	int ret;

	if (!len || offset >= folio_size(folio) ||
	    len > folio_size(folio) - offset)
		return -EINVAL;
	addr = PFN_PHYS(folio_pfn(folio)) + offset;
	ret = phyr_check_range(pl, addr, len);
	if (ret)
		return ret;
	if (is_pci_p2pdma_page(&folio->page))
		flags = PHYR_RANGE_P2P;
	return __phyr_list_append(pl, addr, len, flags, gfp);
}
EXPORT_SYMBOL_GPL(phyr_list_append_folio);

/*
 * How many entries of @pages, starting at the first, are physically
 * contiguous memory of one kind (and, for ZONE_DEVICE memory, of one
 * pgmap); the frame number of the first goes to @pfn.  One comparison per
 * page, whether the pages make up a large folio or are small folios that
 * happen to be adjacent.
 */
static unsigned long phyr_pages_run(struct page **pages, unsigned long n,
				    unsigned long *pfn)
{
	unsigned long first = page_to_pfn(pages[0]);
	unsigned long i;

	for (i = 1; i < n; i++) {
		if (page_to_pfn(pages[i]) != first + i)
			break;
		if (phyr_pfn_starts_subsection(first + i) &&
		    !zone_device_pages_have_same_pgmap(pages[0], pages[i]))
			break;
	}
	*pfn = first;
	return i;
}

/*
 * The bulk of scattered memory: whole pages, each neither contiguous with
 * its neighbours nor peer-to-peer memory, that go into the tail leaf as
 * 4-byte entries while it has room.  The list's state stays in registers
 * for the whole batch.  The last page is left to the caller, who knows
 * how much of it is used.  Return how many pages were added.
 */
static unsigned long phyr_append_scattered(struct phyr_list *pl,
					   struct page **pages,
					   unsigned long n)
{
	struct phyr_chunk *tail = pl->tail;
	unsigned int used = tail->used, cap = tail->cap, mark_at;
	unsigned long base, pfn, next, max_pfn = 0, i;
	long delta;

	base = phyr_leaf_base(tail);
	pfn = page_to_pfn(pages[0]);
	/* A page that goes on from the last range merges with it. */
	if (pfn == PHYS_PFN(pl->last_end))
		return 0;
	/* The next word that starts a block, unless this one does. */
	mark_at = round_up(used + 1, 1u << PHYR_MARK_BLOCK_SHIFT);
	if (used >> PHYR_MARK_BLOCK_SHIFT !=
	    pl->tail_last >> PHYR_MARK_BLOCK_SHIFT)
		mark_at = used;
	for (i = 0; i + 1 < n && used < cap; i++) {
		next = page_to_pfn(pages[i + 1]);
		delta = pfn - base;
		if (next == pfn + 1 || !phyr_delta_fits(delta) ||
		    is_pci_p2pdma_page(pages[i]))
			break;
		if (used == mark_at) {
			phyr_mark_set(tail, used, pl->length - tail->start +
				      ((u64)i << PAGE_SHIFT), true);
			mark_at = round_up(used + 1,
					   1u << PHYR_MARK_BLOCK_SHIFT);
		}
		tail->words[used++] = phyr_delta_word(delta, 1);
		max_pfn = max(max_pfn, pfn);
		pfn = next;
	}
	if (!i)
		return 0;
	tail->used = used;
	pl->tail_last = used - 1;
	pl->nr_ranges += i;
	pl->length += (u64)i << PAGE_SHIFT;
	pl->last_end = PFN_PHYS(page_to_pfn(pages[i - 1]) + 1);
	pl->max_addr = max(pl->max_addr, PFN_PHYS(max_pfn) + PAGE_SIZE - 1);
	return i;
}

/*
 * The state of a list before a multi-range append, enough to take back
 * whatever the append did.  Chunks only ever get added on the right, so
 * the list's own fields, the fill of the tail leaf and of the index nodes
 * on the right edge, and the last entry (which a merge rewrites) are all
 * that can change.
 */
struct phyr_snapshot {
	struct phyr_list pl;
	unsigned int nr_spares;
	u16 tail_used;
	u16 spine_used[PHYR_MAX_HEIGHT + 1];
	u32 last[PHYR_MAX_WORDS];
};

static void phyr_snapshot(const struct phyr_list *pl, struct phyr_snapshot *s)
{
	const struct phyr_chunk *c = pl->root;
	unsigned int level;

	s->pl = *pl;
	if (!phyr_chunked(pl))
		return;
	s->nr_spares = phyr_nr_spares(pl, UINT_MAX);
	s->tail_used = pl->tail->used;
	memcpy(s->last, pl->tail->words + pl->tail_last,
	       (pl->tail->used - pl->tail_last) * sizeof(u32));
	for (level = pl->height; level > 0; level--) {
		s->spine_used[level] = c->used;
		c = c->slots[c->used - 1];
	}
}

/* Move the chunks of subtree @c to the pile @pile. */
static void phyr_pile_subtree(struct phyr_chunk *c, struct phyr_chunk **pile)
{
	unsigned int i;

	if (c->level)
		for (i = 0; i < c->used; i++)
			phyr_pile_subtree(c->slots[i], pile);
	c->next = *pile;
	*pile = c;
}

static void phyr_free_nodes(struct phyr_chunk *node)
{
	unsigned int i;

	if (node->level > 1)
		for (i = 0; i < node->used; i++)
			phyr_free_nodes(node->slots[i]);
	phyr_chunk_free(node);
}

/* Undo everything done to @pl since phyr_snapshot() took @s. */
static void phyr_rollback(struct phyr_list *pl, const struct phyr_snapshot *s)
{
	struct phyr_chunk *pile = NULL, *spares, *c;
	unsigned int level, i, nr_spares;

	if (!phyr_chunked(&s->pl)) {
		/* Every chunk is new; there were no spares. */
		phyr_list_destroy(pl);
		*pl = s->pl;
		return;
	}

	spares = pl->tail->next;
	nr_spares = phyr_nr_spares(pl, UINT_MAX);

	/* Index levels added on top, then the right edge of the old tree. */
	c = pl->root;
	for (level = pl->height; level > s->pl.height; level--) {
		struct phyr_chunk *below = c->slots[0];

		for (i = 1; i < c->used; i++)
			phyr_pile_subtree(c->slots[i], &pile);
		c->next = pile;
		pile = c;
		c = below;
	}
	for (; level > 0; level--) {
		for (i = s->spine_used[level]; i < c->used; i++)
			phyr_pile_subtree(c->slots[i], &pile);
		c->used = s->spine_used[level];
		c = c->slots[c->used - 1];
	}

	/* Spares used up by the append go back, the rest is freed. */
	while (pile) {
		c = pile;
		pile = c->next;
		if (nr_spares < s->nr_spares && c->shift == PHYR_CHUNK_SHIFT) {
			c->next = spares;
			spares = c;
			nr_spares++;
		} else {
			phyr_chunk_free(c);
		}
	}

	*pl = s->pl;
	pl->tail->next = spares;
	phyr_leaf_trim(pl->tail, s->tail_used);
	memcpy(pl->tail->words + pl->tail_last, s->last,
	       (s->tail_used - pl->tail_last) * sizeof(u32));
}

/**
 * phyr_list_append_pages() - Add an array of pages to a list.
 * @pl: List.
 * @pages: Pages, as pin_user_pages() returns them.
 * @npages: Number of entries in @pages.
 * @offset: Offset of the first byte in the first page.
 * @len: Number of bytes, ending in the last page.
 * @gfp: Memory allocation flags.
 *
 * Physically contiguous pages, such as the pages of a folio, are merged
 * into one range.  Each page costs one frame number comparison; the rest
 * of the work is done once per range.  Pages of PCI peer-to-peer memory
 * are recognised and stored as such.  Either all of the pages are added
 * or, on error, @pl is left as it was.
 *
 * Context: Any context that @gfp allows.  The caller must serialise
 * changes to @pl against each other and against readers.
 * Return: 0 on success, -EINVAL if @len is 0, @offset is not within a
 * page or @npages is not the number of pages that @offset and @len span,
 * -EOVERFLOW if the length of @pl would overflow, -ENOMEM if memory
 * could not be allocated.
 */
int phyr_list_append_pages(struct phyr_list *pl, struct page **pages,
			   unsigned long npages, unsigned long offset, u64 len,
			   gfp_t gfp)
{
	struct phyr_snapshot snap;
	unsigned long i, run;
	u64 span, total, left = len;
	int ret;

	if (!len || offset >= PAGE_SIZE ||
	    check_add_overflow(len, (u64)offset + PAGE_SIZE - 1, &span) ||
	    span >> PAGE_SHIFT != npages)
		return -EINVAL;
	if (check_add_overflow(pl->length, len, &total))
		return -EOVERFLOW;

	phyr_snapshot(pl, &snap);
	for (i = 0; i < npages; i += run) {
		unsigned int flags = 0;
		unsigned long pfn;
		u64 bytes;

		if (!offset && phyr_chunked(pl) && pl->tail->used) {
			run = phyr_append_scattered(pl, pages + i, npages - i);
			if (run) {
				left -= (u64)run << PAGE_SHIFT;
				continue;
			}
		}
		run = phyr_pages_run(pages + i, npages - i, &pfn);
		bytes = min(((u64)run << PAGE_SHIFT) - offset, left);
		if (is_pci_p2pdma_page(pages[i]))
			flags = PHYR_RANGE_P2P;
		ret = __phyr_list_append(pl, PFN_PHYS(pfn) + offset, bytes,
					 flags, gfp);
		if (ret) {
			phyr_rollback(pl, &snap);
			return ret;
		}
		left -= bytes;
		offset = 0;
	}
	return 0;
}
EXPORT_SYMBOL_GPL(phyr_list_append_pages);

/**
 * phyr_list_splice() - Move the ranges of one list to the end of another.
 * @pl: List to append to.
 * @src: List whose ranges are moved.
 * @gfp: Memory allocation flags.
 *
 * Appends the ranges of @src to @pl in order, merging the first with the
 * last range of @pl where they touch, and empties @src.  When @pl holds no
 * storage of its own, @src's storage moves over without copying, in O(1);
 * otherwise the ranges are copied.  Either all ranges move, or on error
 * both lists are left as they were.
 *
 * Context: Any context that @gfp allows.  The caller must serialise
 * changes to both lists against each other and against readers.
 * Return: 0 on success, -EINVAL if @pl and @src are the same list,
 * -EOVERFLOW if the length of @pl would overflow, -ENOMEM if memory could
 * not be allocated.
 */
int phyr_list_splice(struct phyr_list *pl, struct phyr_list *src, gfp_t gfp)
{
	struct phyr_snapshot snap;
	struct phyr_iter iter;
	struct phyr r;
	u64 total;
	int ret;

	if (WARN_ON_ONCE(pl == src))
		return -EINVAL;
	if (phyr_list_empty(src))
		return 0;
	if (check_add_overflow(pl->length, src->length, &total))
		return -EOVERFLOW;
	if (phyr_list_empty(pl) && !phyr_chunked(pl)) {
		*pl = *src;
		phyr_list_init(src);
		return 0;
	}

	phyr_snapshot(pl, &snap);
	phyr_list_for_each(src, &iter, r) {
		ret = __phyr_list_append(pl, r.addr, r.len,
					 iter.flags & PHYR_RANGE_P2P, gfp);
		if (ret) {
			phyr_rollback(pl, &snap);
			return ret;
		}
	}
	phyr_list_destroy(src);
	return 0;
}
EXPORT_SYMBOL_GPL(phyr_list_splice);

/**
 * phyr_list_preload() - Reserve memory for appending to a list.
 * @pl: List.
 * @nr_ranges: Number of appends to reserve memory for.
 * @gfp: Memory allocation flags.
 *
 * After this returns 0, the next @nr_ranges appends of one range each
 * (phyr_list_append_pages() and phyr_list_splice() count one per range
 * they add) do not allocate memory, so they can be made in atomic context
 * or with a lock held.  The reservation assumes the largest entry form,
 * so it may leave chunks unused; they are freed by phyr_list_destroy()
 * and counted by phyr_list_mem_bytes().  A list of one range moves into
 * chunks.
 *
 * Context: Any context that @gfp allows.  The caller must serialise
 * changes to @pl against each other and against readers.
 * Return: 0 on success, -ENOMEM if memory could not be allocated or
 * @nr_ranges needs more memory than the machine has, in which case @pl
 * is left as it was.
 */
int phyr_list_preload(struct phyr_list *pl, unsigned long nr_ranges,
		      gfp_t gfp)
{
	/*
	 * A leaf is only left behind when an entry of at most
	 * PHYR_MAX_WORDS does not fit, so it holds at least per_leaf + 1
	 * entries, one of which may be a last range that moved in.
	 */
	const unsigned long per_leaf =
		PHYR_CHUNK_CAP(PHYR_CHUNK_SHIFT, u32) / PHYR_MAX_WORDS - 2;
	const unsigned long fanout =
		PHYR_CHUNK_CAP(PHYR_SMALL_SHIFT, struct phyr_chunk *) - 1;
	struct phyr_chunk *c, *fresh = NULL;
	unsigned long need, have, nodes;
	unsigned int level;

	if (!nr_ranges)
		return 0;
	/* Leaves for the entries and a moved last range, and their index. */
	need = nr_ranges / per_leaf + 2;
	nodes = need;
	for (level = 1; level <= pl->height + 1 || nodes > 1; level++) {
		nodes = DIV_ROUND_UP(nodes, fanout);
		need += nodes;
	}
	if (!phyr_chunked(pl))
		need++;
	/* Do not let an absurd count run the machine out of memory first. */
	if (need > totalram_pages())
		return -ENOMEM;

	have = phyr_nr_spares(pl, need);
	for (; have < need; have++) {
		c = phyr_chunk_alloc(PHYR_CHUNK_SHIFT, gfp);
		if (!c)
			goto out_free_fresh;
		c->next = fresh;
		fresh = c;
	}
	if (!fresh)
		return 0;
	if (!phyr_chunked(pl)) {
		c = fresh;
		fresh = c->next;
		phyr_make_chunked(pl, c);
	}
	/* Fresh spares go after the existing ones, the order does not matter. */
	for (c = pl->tail; c->next; c = c->next)
		;
	c->next = fresh;
	return 0;

out_free_fresh:
	while (fresh) {
		c = fresh;
		fresh = c->next;
		phyr_chunk_free(c);
	}
	return -ENOMEM;
}
EXPORT_SYMBOL_GPL(phyr_list_preload);

/**
 * phyr_list_destroy() - Free the memory of a list.
 * @pl: List.
 *
 * Frees every chunk without looking at the entries, and leaves @pl empty
 * and ready for reuse.  Does not touch the memory the list describes.
 *
 * Context: Any context.  The caller must own @pl.
 */
void phyr_list_destroy(struct phyr_list *pl)
{
	struct phyr_chunk *c, *next;

	if (phyr_chunked(pl)) {
		if (pl->height)
			phyr_free_nodes(pl->root);
		for (c = pl->head; c; c = next) {
			next = c->next;
			phyr_chunk_free(c);
		}
	}
	phyr_list_init(pl);
}
EXPORT_SYMBOL_GPL(phyr_list_destroy);

static size_t phyr_nodes_bytes(const struct phyr_chunk *node)
{
	size_t bytes = (size_t)1 << node->shift;
	unsigned int i;

	if (node->level > 1)
		for (i = 0; i < node->used; i++)
			bytes += phyr_nodes_bytes(node->slots[i]);
	return bytes;
}

/**
 * phyr_list_mem_bytes() - Memory used by a list.
 * @pl: List.
 *
 * Walks the chunks of @pl, not its entries.
 *
 * Context: Any context.  The caller must keep @pl from changing.
 * Return: Bytes allocated for @pl's chunks, including preloaded ones,
 * but not for struct phyr_list itself.
 */
size_t phyr_list_mem_bytes(const struct phyr_list *pl)
{
	const struct phyr_chunk *c;
	size_t bytes = 0;

	if (!phyr_chunked(pl))
		return 0;
	if (pl->height)
		bytes = phyr_nodes_bytes(pl->root);
	for (c = pl->head; c; c = c->next)
		bytes += (size_t)1 << c->shift;
	return bytes;
}
EXPORT_SYMBOL_GPL(phyr_list_mem_bytes);

/**
 * phyr_iter_init() - Start iterating over a list.
 * @iter: Iterator.
 * @pl: List.
 *
 * Context: Any context.  Nobody may append to @pl while @iter is in use.
 */
void phyr_iter_init(struct phyr_iter *iter, const struct phyr_list *pl)
{
	const struct phyr_chunk *c = phyr_chunked(pl) ? pl->head : NULL;

	iter->pl = pl;
	iter->chunk = c;
	iter->pos = c ? c->words : NULL;
	iter->end = c ? c->words + c->used : NULL;
	iter->base = 0;
	iter->offset = 0;
	iter->skip = 0;
	iter->flags = 0;
	iter->done = false;
}
EXPORT_SYMBOL_GPL(phyr_iter_init);

/**
 * __phyr_iter_next() - Return the next range of a list (slow path).
 * @iter: Iterator.
 * @range: Filled with the next range.
 *
 * The part of phyr_iter_next() that is not inline: moving to the next
 * chunk, the larger entry forms, lists without chunks, the first range
 * after a seek and the end of the list.  Use phyr_iter_next() instead.
 *
 * Context: Any context.  Nobody may append to the list meanwhile.
 * Return: %false when the list is exhausted.
 */
bool __phyr_iter_next(struct phyr_iter *iter, struct phyr *range)
{
	const struct phyr_list *pl = iter->pl;
	const struct phyr_chunk *c = iter->chunk;
	struct phyr r;

	if (iter->done)
		return false;
	if (!c) {
		iter->done = true;
		if (!pl->nr_ranges)
			return false;
		r = pl->single;
		iter->flags = phyr_list_range_flags(pl);
	} else {
		while (iter->pos >= c->words + c->used) {
			if (c == pl->tail) {
				iter->done = true;
				iter->end = NULL;
				return false;
			}
			c = c->next;
			iter->chunk = c;
			iter->pos = c->words;
		}
		if (iter->pos == c->words)
			iter->base = phyr_leaf_base(c);
		iter->pos += phyr_decode(iter->pos, iter->base, &r,
					 &iter->flags);
		/* Only entries without flags may be left to the inline path. */
		iter->end = iter->flags ? NULL : c->words + c->used;
	}
	r.addr += iter->skip;
	r.len -= iter->skip;
	iter->skip = 0;
	iter->offset += r.len;
	*range = r;
	return true;
}
EXPORT_SYMBOL_GPL(__phyr_iter_next);

/*
 * The pages field of a mark for a binary search: U64_MAX for a mark that
 * has none or is unset, which sorts after every offset.
 */
static u64 phyr_mark_pages(u16 mark)
{
	unsigned int pages = mark & PHYR_MARK_NONE;

	return pages && pages != PHYR_MARK_NONE ? pages : U64_MAX;
}

/* The word of its leaf that the entry of mark @k starts at. */
static unsigned int phyr_mark_word(const u16 *marks, unsigned int k)
{
	return (k << PHYR_MARK_BLOCK_SHIFT) +
	       (marks[k] >> PHYR_MARK_PAGES_BITS);
}

/*
 * Find the 4-byte entry that holds *@offset, counted from the entry at
 * @pos, walking back from @next, which starts @ahead pages after @pos,
 * over 4-byte entries only.  Sets *@pos to the entry and *@offset to the
 * bytes before *@offset in it.
 */
static void phyr_seek_back(const u32 *next, u64 ahead, const u32 **pos,
			   u64 *offset)
{
	u64 pages = *offset >> PAGE_SHIFT;

	do {
		next--;
		ahead -= ((*next >> PHYR_DELTA_PAGES_SHIFT) &
			  PHYR_DELTA_PAGES_MASK) + 1;
	} while (ahead > pages);
	*pos = next;
	*offset = (pages - ahead) << PAGE_SHIFT | (*offset & (PAGE_SIZE - 1));
}

/* List offset where leaf @c of @pl ends. */
static u64 phyr_leaf_end(const struct phyr_list *pl, const struct phyr_chunk *c)
{
	return c == pl->tail ? pl->length : c->next->start;
}

/*
 * The leaf that holds @offset: the iterator's own or the next one when it
 * is there, else found from the root by a binary search on each level.
 */
static const struct phyr_chunk *phyr_seek_leaf(const struct phyr_iter *iter,
					       u64 offset)
{
	const struct phyr_list *pl = iter->pl;
	const struct phyr_chunk *c = iter->chunk;
	unsigned int level, n;

	if (c && !iter->done && offset >= c->start) {
		if (offset < phyr_leaf_end(pl, c))
			return c;
		c = c->next;
		if (offset < phyr_leaf_end(pl, c))
			return c;
	}
	c = pl->root;
	for (level = pl->height; level > 0; level--) {
		struct phyr_chunk *const *slot = c->slots;

		for (n = c->used; n > 1; n -= n / 2)
			if (slot[n / 2]->start <= offset)
				slot += n / 2;
		c = *slot;
	}
	return c;
}

/*
 * The entry of leaf @c that holds byte *@offset, counted from the entry
 * at @pos, if it is one of the next four: a seek just ahead of an
 * iterator.  Returns it with *@offset set to the bytes before the byte in
 * it, or %NULL.
 */
static const u32 *phyr_seek_near(const struct phyr_chunk *c, const u32 *pos,
				 u64 *offset)
{
	const u32 *end = c->words + c->used;
	unsigned int i, flags, n;
	u64 off = *offset;
	struct phyr r;

	for (i = 0; i < 4 && pos < end; i++, pos += n) {
		if ((*pos & PHYR_DELTA_TAG_MASK) == PHYR_DELTA_TAG) {
			r.len = (u64)(((*pos >> PHYR_DELTA_PAGES_SHIFT) &
				       PHYR_DELTA_PAGES_MASK) + 1) << PAGE_SHIFT;
			n = 1;
		} else {
			n = phyr_decode(pos, 0, &r, &flags);
		}
		if (off < r.len) {
			*offset = off;
			return pos;
		}
		off -= r.len;
	}
	return NULL;
}

/**
 * phyr_iter_seek() - Move an iterator to a byte offset of its list.
 * @iter: Iterator, set up with phyr_iter_init().
 * @offset: Offset from the start of the list, in bytes.
 *
 * Finds the range that contains @offset: from the iterator's position
 * when @offset is a few ranges ahead of it, through the marks of the
 * iterator's leaf or the next one when it is there, else in O(log n) by
 * a binary search on each level of the index.  A leaf's marks leave at
 * most one block of its entries to scan.  So an iterator kept by a user
 * that moves through a list, seeking ahead, stays cheap.  The next range
 * returned by phyr_iter_next() starts at @offset and runs to the end of
 * that range; the ranges after it follow.
 *
 * Context: Any context.  Nobody may append to the list meanwhile.
 * Return: %true if @offset lies within the list; otherwise %false and
 * @iter is exhausted.
 */
bool phyr_iter_seek(struct phyr_iter *iter, u64 offset)
{
	const struct phyr_list *pl = iter->pl;
	unsigned int flags, n, k, nr;
	const struct phyr_chunk *c;
	u64 len, target = offset;
	const u32 *pos;
	const u16 *marks;
	struct phyr r;

	if (offset >= pl->length || !phyr_chunked(pl)) {
		phyr_iter_init(iter, pl);
		/* The first range comes from the slow path: ->skip. */
		iter->end = NULL;
		iter->offset = offset;
		iter->skip = offset;
		iter->done = offset >= pl->length;
		return !iter->done;
	}

	c = phyr_seek_leaf(iter, offset);
	if (c == iter->chunk && !iter->done &&
	    offset >= iter->offset - iter->skip) {
		offset -= iter->offset - iter->skip;
		pos = phyr_seek_near(c, iter->pos, &offset);
		if (pos)
			goto found;
		offset = target;
	}
	offset -= c->start;

	/*
	 * The last mark at or before @offset: marks without an offset, and
	 * the unset ones of blocks that no entry starts in, come last.
	 */
	marks = phyr_marks(c);
	nr = phyr_nr_marks(c);
	k = 0;
	for (n = nr; n > 1; n -= n / 2)
		if (phyr_mark_pages(marks[k + n / 2]) <= offset >> PAGE_SHIFT)
			k += n / 2;
	pos = c->words;
	if (k) {
		pos += phyr_mark_word(marks, k);
		offset -= (u64)phyr_mark_pages(marks[k]) << PAGE_SHIFT;
	}

	/*
	 * Up to the next mark, where all entries are 4-byte ones: as many
	 * pages as entries is one page each, found in O(1); else back from
	 * the next mark where that is nearer.  Otherwise entry by entry, at
	 * most a block of them after the mark.
	 */
	if (k && k + 1 < min(nr, PHYR_MARK_FLAT_MAX) && marks[0] & BIT(k)) {
		const u32 *next = c->words + phyr_mark_word(marks, k + 1);
		u64 next_pages = phyr_mark_pages(marks[k + 1]);
		u64 ahead = next_pages - phyr_mark_pages(marks[k]);
		u64 pages = offset >> PAGE_SHIFT;

		if (next_pages != U64_MAX && pages < ahead) {
			if (ahead == next - pos) {
				pos += pages;
				offset &= PAGE_SIZE - 1;
				goto found;
			}
			if (pages >= ahead / 2) {
				phyr_seek_back(next, ahead, &pos, &offset);
				goto found;
			}
		}
	}
	for (;; pos += n) {
		u64 pages = offset >> PAGE_SHIFT;
		u32 word;

		while (((word = *pos) & PHYR_DELTA_TAG_MASK) == PHYR_DELTA_TAG) {
			len = (word >> PHYR_DELTA_PAGES_SHIFT) &
			      PHYR_DELTA_PAGES_MASK;
			if (pages <= len)
				break;
			pages -= len + 1;
			pos++;
		}
		offset = pages << PAGE_SHIFT | (offset & (PAGE_SIZE - 1));
		if ((word & PHYR_DELTA_TAG_MASK) == PHYR_DELTA_TAG)
			break;
		n = phyr_decode(pos, 0, &r, &flags);
		if (offset < r.len)
			break;
		offset -= r.len;
	}
found:
	iter->chunk = c;
	iter->pos = pos;
	iter->end = NULL;
	iter->done = false;
	iter->flags = 0;
	iter->base = phyr_leaf_base(c);
	iter->offset = target;
	iter->skip = offset;
	return true;
}
EXPORT_SYMBOL_GPL(phyr_iter_seek);
