// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests for phyr lists
 *
 * Suite "phyr" checks lib/phyr.c against the contract of <linux/phyr.h>:
 * each entry encoding at its boundaries, merging, iteration by ranges and
 * by blocks, seek, preload, splice, the error cases, allocation failure at
 * every allocation site, and a randomised differential test against an
 * array.
 * Suite "phyr_storage" prints how much memory a phyr list and an sg_table
 * need for the same real pages.
 *
 *	./tools/testing/kunit/kunit.py run --kunitconfig=<config> 'phyr*'
 *
 * Allocation failures are injected through current->fail_nth, which
 * lib/phyr.c honours with should_fail_ex() when CONFIG_FAULT_INJECTION=y:
 * setting it to n fails the n-th chunk allocation of the next operation.
 *
 * Every list the tests build is compared with a plain array of ranges,
 * the reference model in lib/phyr_model.h that the userspace harness in
 * tools/testing/phyr uses too, and every list is destroyed by a KUnit
 * action; phyr_chunks_live() must be back to its initial value when a
 * test ends.
 */

#include <kunit/test.h>
#include <linux/gfp.h>
#include <linux/limits.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/overflow.h>
#include <linux/phyr.h>
#include <linux/prandom.h>
#include <linux/scatterlist.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "phyr_model.h"

#define PHYR_TEST_MAX		((u64)PHYS_ADDR_MAX)
#define PHYR_TEST_PHYS64	(sizeof(phys_addr_t) == sizeof(u64))
#define PHYR_PG(n)		((u64)(n) << PAGE_SHIFT)
/* Reach of a 4-byte entry, in pages from the end of the previous range. */
#define PHYR_DELTA_REACH	BIT_ULL(27)
/* Longest page-aligned range of an 8-byte entry, in pages. */
#define PHYR_PAGES_MAX		(PAGE_SIZE / 4)
/* Longest range of a 12-byte entry, in bytes. */
#define PHYR_BYTES_MAX		BIT_ULL(29)
/* An address well inside the 32-bit space for the table-driven cases. */
#define PHYR_BASE		((u64)SZ_1G)
#define PHYR_TEST_SEED		0x70687972u

/* ---- Fixture: leak check and list cleanup ---- */

struct phyr_test_ctx {
	long chunks_live;
};

static void phyr_test_leak_check(void *data)
{
	struct kunit *test = data;
	struct phyr_test_ctx *ctx = test->priv;

	KUNIT_EXPECT_EQ_MSG(test, phyr_chunks_live(), ctx->chunks_live,
			    "chunks were leaked");
}

static int phyr_test_init(struct kunit *test)
{
	struct phyr_test_ctx *ctx;

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	if (!ctx)
		return -ENOMEM;
	ctx->chunks_live = phyr_chunks_live();
	test->priv = ctx;
	/* Registered first, so it runs after every list has been destroyed. */
	return kunit_add_action_or_reset(test, phyr_test_leak_check, test);
}

KUNIT_DEFINE_ACTION_WRAPPER(phyr_test_destroy, phyr_list_destroy,
			    struct phyr_list *);
KUNIT_DEFINE_ACTION_WRAPPER(phyr_test_kvfree, kvfree, const void *);

/* A list that is destroyed when the test ends, whatever happens. */
static struct phyr_list *phyr_test_list(struct kunit *test)
{
	struct phyr_list *pl;

	pl = kunit_kmalloc(test, sizeof(*pl), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pl);
	memset(pl, 0x5a, sizeof(*pl));
	phyr_list_init(pl);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, phyr_test_destroy,
							pl), 0);
	return pl;
}

/* ---- Fault injection ---- */

#ifdef CONFIG_FAULT_INJECTION
static void phyr_fail_nth_set(unsigned int nth)
{
	current->fail_nth = nth;
}

/* Returns what is left of fail_nth (0: the allocation failed) and clears it. */
static unsigned int phyr_fail_nth_take(void)
{
	unsigned int left = current->fail_nth;

	current->fail_nth = 0;
	return left;
}
#else
static void phyr_fail_nth_set(unsigned int nth)
{
}

static unsigned int phyr_fail_nth_take(void)
{
	return UINT_MAX;
}
#endif

static void phyr_need_fault_injection(struct kunit *test)
{
	if (!IS_ENABLED(CONFIG_FAULT_INJECTION))
		kunit_skip(test, "needs CONFIG_FAULT_INJECTION=y to fail allocations");
}

/* ---- The model (lib/phyr_model.h) ---- */

/* A model with room for @cap ranges, freed when the test ends. */
static struct phyr_model *phyr_model_new(struct kunit *test, unsigned long cap)
{
	struct phyr_model *m;

	m = kunit_kzalloc(test, sizeof(*m), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m);
	m->r = kvcalloc(cap, sizeof(*m->r), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m->r);
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, phyr_test_kvfree,
							m->r), 0);
	m->cap = cap;
	return m;
}

/*
 * Seeks @iter to @off and checks the trimmed range there and up to @follow
 * ranges after it (ULONG_MAX: to the end), or that seeking fails past the
 * end.
 */
static bool phyr_check_seek_iter(struct kunit *test, struct phyr_iter *iter,
				 const struct phyr_model *m, u64 off,
				 unsigned long follow)
{
	struct phyr range;
	unsigned long i, n;

	if (off >= m->length) {
		if (phyr_iter_seek(iter, off)) {
			KUNIT_FAIL(test, "seek to %#llx succeeded in a list of %#llx bytes",
				   off, m->length);
			return false;
		}
		return true;
	}
	if (!phyr_iter_seek(iter, off)) {
		KUNIT_FAIL(test, "seek to %#llx failed in a list of %#llx bytes",
			   off, m->length);
		return false;
	}
	i = phyr_model_find(m, off);
	for (n = 0; i < m->nr && n <= follow; i++, n++) {
		const struct phyr_model_range *r = &m->r[i];
		u64 skip = n ? 0 : off - r->start;
		bool p2p;

		if (!phyr_iter_next(iter, &range)) {
			KUNIT_FAIL(test, "seek to %#llx: iteration stops before range %lu of %lu",
				   off, i, m->nr);
			return false;
		}
		p2p = iter->flags & PHYR_RANGE_P2P;
		if ((u64)range.addr != r->addr + skip ||
		    range.len != r->len - skip || p2p != r->p2p) {
			KUNIT_FAIL(test,
				   "seek to %#llx: range %lu of %lu is %#llx+%#llx%s, expected %#llx+%#llx%s",
				   off, i, m->nr, (u64)range.addr, range.len,
				   p2p ? " p2p" : "", r->addr + skip,
				   r->len - skip, r->p2p ? " p2p" : "");
			return false;
		}
	}
	if (i == m->nr && phyr_iter_next(iter, &range)) {
		KUNIT_FAIL(test, "seek to %#llx: more than %lu ranges", off,
			   m->nr);
		return false;
	}
	return true;
}

static bool phyr_check_seek(struct kunit *test, const struct phyr_list *pl,
			    const struct phyr_model *m, u64 off,
			    unsigned long follow)
{
	struct phyr_iter iter;

	phyr_iter_init(&iter, pl);
	return phyr_check_seek_iter(test, &iter, m, off, follow);
}

/*
 * The invariant checker, run after every operation: the accessors and a
 * full iteration agree with the model.  Reports the first difference only.
 */
static bool phyr_check(struct kunit *test, const struct phyr_list *pl,
		       const struct phyr_model *m)
{
	struct phyr_iter iter;
	struct phyr range;
	unsigned long i = 0;

	if (phyr_list_nr_ranges(pl) != m->nr) {
		KUNIT_FAIL(test, "nr_ranges %lu, expected %lu",
			   phyr_list_nr_ranges(pl), m->nr);
		return false;
	}
	if (phyr_list_empty(pl) != !m->nr) {
		KUNIT_FAIL(test, "empty() %d with %lu ranges",
			   phyr_list_empty(pl), m->nr);
		return false;
	}
	if (phyr_list_length(pl) != m->length) {
		KUNIT_FAIL(test, "length %#llx, expected %#llx",
			   phyr_list_length(pl), m->length);
		return false;
	}
	if ((u64)phyr_list_max_addr(pl) != m->max_addr) {
		KUNIT_FAIL(test, "max_addr %#llx, expected %#llx",
			   (u64)phyr_list_max_addr(pl), m->max_addr);
		return false;
	}
	/* A phys_addr_t: the end of a range at the top wraps to 0. */
	if (phyr_list_end(pl) != (phys_addr_t)(m->nr ? m->r[m->nr - 1].addr +
					       m->r[m->nr - 1].len : 0)) {
		KUNIT_FAIL(test, "end %#llx with %lu ranges",
			   (u64)phyr_list_end(pl), m->nr);
		return false;
	}
	if (phyr_list_has_p2p(pl) != m->p2p) {
		KUNIT_FAIL(test, "has_p2p %d, expected %d",
			   phyr_list_has_p2p(pl), m->p2p);
		return false;
	}
	if (m->quick)
		return !m->nr || phyr_check_seek(test, pl, m,
						 m->r[m->nr - 1].start, 0);
	phyr_list_for_each(pl, &iter, range) {
		const struct phyr_model_range *r;
		bool p2p = iter.flags & PHYR_RANGE_P2P;

		if (i >= m->nr) {
			KUNIT_FAIL(test, "iteration returns more than %lu ranges",
				   m->nr);
			return false;
		}
		r = &m->r[i];
		if ((u64)range.addr != r->addr || range.len != r->len ||
		    p2p != r->p2p) {
			KUNIT_FAIL(test,
				   "range %lu of %lu is %#llx+%#llx%s, expected %#llx+%#llx%s",
				   i, m->nr, (u64)range.addr, range.len,
				   p2p ? " p2p" : "", r->addr, r->len,
				   r->p2p ? " p2p" : "");
			return false;
		}
		i++;
	}
	if (i != m->nr) {
		KUNIT_FAIL(test, "iteration returns %lu ranges, expected %lu",
			   i, m->nr);
		return false;
	}
	if (m->nr <= 1 && !m->preloaded && phyr_list_mem_bytes(pl)) {
		KUNIT_FAIL(test, "a list of %lu range(s) holds %zu bytes of chunks",
			   m->nr, phyr_list_mem_bytes(pl));
		return false;
	}
	return true;
}

/* What must not change when an operation fails: @pl and @src if any. */
struct phyr_snap {
	struct phyr_list pl;
	struct phyr_list src;
	size_t mem_bytes;
	size_t src_mem_bytes;
	long chunks_live;
};

static void phyr_snap(const struct phyr_list *pl, const struct phyr_list *src,
		      struct phyr_snap *s)
{
	s->pl = *pl;
	s->mem_bytes = phyr_list_mem_bytes(pl);
	if (src) {
		s->src = *src;
		s->src_mem_bytes = phyr_list_mem_bytes(src);
	}
	s->chunks_live = phyr_chunks_live();
}

/* Every field of @a is that of @b (padding is not compared). */
static bool phyr_list_same(const struct phyr_list *a,
			   const struct phyr_list *b)
{
	return a->single.addr == b->single.addr &&
	       a->single.len == b->single.len && a->root == b->root &&
	       a->tail == b->tail && a->head == b->head &&
	       a->length == b->length && a->nr_ranges == b->nr_ranges &&
	       a->max_addr == b->max_addr && a->last_end == b->last_end &&
	       a->tail_last == b->tail_last && a->height == b->height &&
	       a->flags == b->flags;
}

/* @pl holds @m's ranges and is exactly @was, in @mem_bytes of chunks. */
static bool phyr_check_one_same(struct kunit *test, const struct phyr_list *pl,
				const struct phyr_model *m,
				const struct phyr_list *was, size_t mem_bytes,
				const char *name, const char *what)
{
	if (!phyr_check(test, pl, m)) {
		KUNIT_FAIL(test, "%s changed %s", name, what);
		return false;
	}
	if (!phyr_list_same(pl, was)) {
		KUNIT_FAIL(test, "the fields of %s changed %s", name, what);
		return false;
	}
	if (phyr_list_mem_bytes(pl) != mem_bytes) {
		KUNIT_FAIL(test, "mem_bytes of %s %zu %s, was %zu", name,
			   phyr_list_mem_bytes(pl), what, mem_bytes);
		return false;
	}
	return true;
}

/* @pl, and @src if not %NULL, are exactly as phyr_snap() found them. */
static bool phyr_check_same(struct kunit *test, const struct phyr_list *pl,
			    const struct phyr_model *m,
			    const struct phyr_list *src,
			    const struct phyr_model *src_m,
			    const struct phyr_snap *s, const char *what)
{
	if (!phyr_check_one_same(test, pl, m, &s->pl, s->mem_bytes, "the list",
				 what))
		return false;
	if (src && !phyr_check_one_same(test, src, src_m, &s->src,
					s->src_mem_bytes, "the source", what))
		return false;
	if (phyr_chunks_live() != s->chunks_live) {
		KUNIT_FAIL(test, "%ld chunks live %s, were %ld",
			   phyr_chunks_live(), what, s->chunks_live);
		return false;
	}
	return true;
}

/* ---- Operations, run against the list and the model ---- */

enum phyr_op_kind {
	PHYR_OP_APPEND,
	PHYR_OP_APPEND_P2P,
	PHYR_OP_PAGES,
	PHYR_OP_FOLIO,
	PHYR_OP_PRELOAD,
	PHYR_OP_SPLICE,
	PHYR_OP_NR
};

static const char * const phyr_op_names[] = {
	[PHYR_OP_APPEND] = "append",
	[PHYR_OP_APPEND_P2P] = "append_p2p",
	[PHYR_OP_PAGES] = "append_pages",
	[PHYR_OP_FOLIO] = "append_folio",
	[PHYR_OP_PRELOAD] = "preload",
	[PHYR_OP_SPLICE] = "splice",
};

struct phyr_op {
	enum phyr_op_kind kind;
	u64 addr;		/* append: must be <= PHYS_ADDR_MAX */
	u64 len;		/* append, pages, folio */
	struct page **pages;
	unsigned long n;	/* pages: npages; preload: nr_ranges */
	unsigned long offset;	/* pages, folio */
	struct folio *folio;
	struct phyr_list *src;	/* splice: the source and its model */
	struct phyr_model *src_m;
};

static int phyr_op_run(struct phyr_list *pl, const struct phyr_op *op)
{
	switch (op->kind) {
	case PHYR_OP_APPEND:
		return phyr_list_append(pl, op->addr, op->len, GFP_KERNEL);
	case PHYR_OP_APPEND_P2P:
		return phyr_list_append_p2p(pl, op->addr, op->len, GFP_KERNEL);
	case PHYR_OP_PAGES:
		return phyr_list_append_pages(pl, op->pages, op->n, op->offset,
					      op->len, GFP_KERNEL);
	case PHYR_OP_FOLIO:
		return phyr_list_append_folio(pl, op->folio, op->offset,
					      op->len, GFP_KERNEL);
	case PHYR_OP_PRELOAD:
		return phyr_list_preload(pl, op->n, GFP_KERNEL);
	case PHYR_OP_SPLICE:
		return phyr_list_splice(pl, op->src, GFP_KERNEL);
	case PHYR_OP_NR:
		break;
	}
	return -EINVAL;
}

/* What @op must return and, with @apply, leave: the model's answer. */
static int phyr_op_model(struct kunit *test, struct phyr_model *m,
			 const struct phyr_op *op, bool apply)
{
	int ret = -EINVAL;
	size_t size;

	switch (op->kind) {
	case PHYR_OP_APPEND:
	case PHYR_OP_APPEND_P2P:
		ret = phyr_model_append(m, op->addr, op->len,
					op->kind == PHYR_OP_APPEND_P2P, apply);
		break;
	case PHYR_OP_PAGES:
		ret = phyr_model_append_pages(m, op->pages, op->n, op->offset,
					      op->len, apply);
		break;
	case PHYR_OP_FOLIO:
		size = folio_size(op->folio);
		if (!op->len || op->offset > size || op->len > size - op->offset)
			break;
		ret = phyr_model_append(m, (u64)PFN_PHYS(folio_pfn(op->folio)) +
					op->offset, op->len, false, apply);
		break;
	case PHYR_OP_PRELOAD:
		if (apply)
			m->preloaded = true;
		ret = 0;
		break;
	case PHYR_OP_SPLICE:
		ret = phyr_model_splice(m, op->src_m, apply);
		break;
	case PHYR_OP_NR:
		break;
	}
	KUNIT_ASSERT_NE_MSG(test, ret, -ENOSPC,
			    "test bug: the model has room for %lu ranges only",
			    m->cap);
	return ret;
}

/*
 * Runs @op with its @nth allocation failing (0: none) and checks it: an
 * injected failure must give -ENOMEM and leave everything as it was;
 * otherwise the result must be the model's, and an error must leave the
 * list (and the source of a splice) exactly unchanged.  With @no_alloc the
 * operation must not allocate at all.  Updates the model, counts injected
 * failures in @nr_failed and returns false after reporting a failure.  The
 * caller runs phyr_check() on @pl; a splice's source is checked here.
 */
static bool phyr_op_check(struct kunit *test, struct phyr_list *pl,
			  struct phyr_model *m, const struct phyr_op *op,
			  unsigned int nth, bool no_alloc,
			  unsigned long *nr_failed)
{
	const char *name = phyr_op_names[op->kind];
	struct phyr_snap s;
	unsigned int left;
	int expected, ret;

	expected = phyr_op_model(test, m, op, false);
	phyr_snap(pl, op->src, &s);
	if (no_alloc)
		nth = 1;
	phyr_fail_nth_set(nth);
	ret = phyr_op_run(pl, op);
	left = phyr_fail_nth_take();
	if (nth && !left) {
		if (no_alloc) {
			KUNIT_FAIL(test, "%s(%#llx, %#llx) allocated after a preload, returned %d",
				   name, op->addr, op->len, ret);
			return false;
		}
		if (ret != -ENOMEM) {
			KUNIT_FAIL(test, "%s(%#llx, %#llx): allocation %u failed, returned %d",
				   name, op->addr, op->len, nth, ret);
			return false;
		}
		(*nr_failed)++;
		return phyr_check_same(test, pl, m, op->src, op->src_m, &s,
				       "after -ENOMEM");
	}
	if (ret != expected) {
		KUNIT_FAIL(test, "%s(%#llx, %#llx, n %lu, offset %lu) returned %d, expected %d",
			   name, op->addr, op->len, op->n, op->offset, ret,
			   expected);
		return false;
	}
	if (ret)
		return phyr_check_same(test, pl, m, op->src, op->src_m, &s,
				       "after an error");
	phyr_op_model(test, m, op, true);
	if (op->src && !phyr_check(test, op->src, op->src_m)) {
		KUNIT_FAIL(test, "the source of a splice is left wrong");
		return false;
	}
	return true;
}

/*
 * Fails allocation 1, 2, 3, ... of @op until it no longer reaches the
 * failing one, then checks its result.  Returns false after a failure.
 */
static bool phyr_sweep(struct kunit *test, struct phyr_list *pl,
		       struct phyr_model *m, const struct phyr_op *op,
		       unsigned long *nr_failed)
{
	unsigned int nth;

	for (nth = 1; nth < 100000; nth++) {
		unsigned long before = *nr_failed;

		if (!phyr_op_check(test, pl, m, op, nth, false, nr_failed))
			return false;
		if (*nr_failed == before)
			return phyr_check(test, pl, m);
	}
	KUNIT_FAIL(test, "%s still allocates after %u allocations",
		   phyr_op_names[op->kind], nth);
	return false;
}

/* Appends and checks a range that must be valid. */
static bool phyr_add(struct kunit *test, struct phyr_list *pl,
		     struct phyr_model *m, u64 addr, u64 len, bool p2p)
{
	struct phyr_op op = {
		.kind = p2p ? PHYR_OP_APPEND_P2P : PHYR_OP_APPEND,
		.addr = addr,
		.len = len,
	};
	unsigned long nr_failed = 0;

	if (phyr_model_append(m, addr, len, p2p, false)) {
		KUNIT_FAIL(test, "test bug: %#llx+%#llx is not a valid range",
			   addr, len);
		return false;
	}
	return phyr_op_check(test, pl, m, &op, 0, false, &nr_failed);
}

/* ---- Random ranges ---- */

static u64 phyr_rand64(struct rnd_state *rnd)
{
	u64 hi = prandom_u32_state(rnd);

	return hi << 32 | prandom_u32_state(rnd);
}

/* Uniform enough in [lo, hi]. */
static u64 phyr_rand_in(struct rnd_state *rnd, u64 lo, u64 hi)
{
	u64 rem;

	if (hi - lo == U64_MAX)
		return phyr_rand64(rnd);
	div64_u64_rem(phyr_rand64(rnd), hi - lo + 1, &rem);
	return lo + rem;
}

static u32 phyr_rand(struct rnd_state *rnd, u32 n)
{
	return prandom_u32_state(rnd) % n;
}

/* An address, aligned to @align, where a range of @len bytes fits. */
static u64 phyr_rand_addr(struct rnd_state *rnd, u64 len, u64 align)
{
	return phyr_rand_in(rnd, 0, PHYR_TEST_MAX - (len - 1)) & ~(align - 1);
}

/*
 * A range that exercises every encoding: merges, 4-byte deltas up to and
 * beyond their reach, 8-byte page ranges around their limit, byte-granular
 * and long ranges, the top and the bottom of the address space, and with
 * !@valid also invalid ranges and lengths that overflow the list's total.
 */
static void phyr_rand_range(struct rnd_state *rnd, const struct phyr_model *m,
			    bool valid, u64 *addrp, u64 *lenp)
{
	static const u64 far[] = {
		PHYR_DELTA_REACH - 1, PHYR_DELTA_REACH, PHYR_DELTA_REACH + 1,
	};
	static const u64 npages[] = {
		1, 8, 9, PHYR_PAGES_MAX - 1, PHYR_PAGES_MAX, PHYR_PAGES_MAX + 1,
	};
	static const u64 bytes[] = {
		1, PAGE_SIZE - 1, PAGE_SIZE + 1, PHYR_BYTES_MAX - 1,
		PHYR_BYTES_MAX, PHYR_BYTES_MAX + 1,
	};
	const struct phyr_model_range *last = m->nr ? &m->r[m->nr - 1] : NULL;
	u32 kind = phyr_rand(rnd, valid ? 95 : 100);
	u64 end = last ? last->addr + last->len : 0;
	u64 addr, len, pfn, n, gap;

	if (kind < 20 && last && phyr_model_fits(end, 1)) {
		/* Right after the last range: a merge (unless P2P differs). */
		addr = end;
		len = phyr_rand(rnd, 2) ? PHYR_PG(1 + phyr_rand(rnd, 4)) :
					  1 + phyr_rand(rnd, 5000);
		if (len - 1 > PHYR_TEST_MAX - addr)
			len = PHYR_TEST_MAX - addr + 1;
	} else if (kind < 55) {
		/* Near the end of the last range: 4-byte entries and the edge. */
		n = 1 + phyr_rand(rnd, 9);
		switch (phyr_rand(rnd, 8)) {
		case 5:
			gap = phyr_rand(rnd, PHYR_DELTA_REACH);
			break;
		case 6:
		case 7:
			gap = far[phyr_rand(rnd, ARRAY_SIZE(far))];
			break;
		default:
			gap = 1 + phyr_rand(rnd, 64);
			break;
		}
		pfn = end >> PAGE_SHIFT;
		if (phyr_rand(rnd, 2))
			pfn = gap <= pfn ? pfn - gap : U64_MAX;
		else
			pfn += gap;
		if (pfn > PHYR_TEST_MAX >> PAGE_SHIFT ||
		    !phyr_model_fits(PHYR_PG(pfn), PHYR_PG(n)))
			pfn = phyr_rand_addr(rnd, PHYR_PG(n), 1) >> PAGE_SHIFT;
		addr = PHYR_PG(pfn);
		len = PHYR_PG(n);
	} else if (kind < 70) {
		/* Page-aligned, up to and beyond the 8-byte entry. */
		n = phyr_rand(rnd, 2) ? npages[phyr_rand(rnd, ARRAY_SIZE(npages))] :
					1 + phyr_rand(rnd, 1100);
		len = PHYR_PG(n);
		addr = phyr_rand_addr(rnd, len, PAGE_SIZE);
	} else if (kind < 82) {
		/* Byte-granular, up to and beyond the 12-byte entry. */
		len = phyr_rand(rnd, 2) ? bytes[phyr_rand(rnd, ARRAY_SIZE(bytes))] :
					  phyr_rand_in(rnd, 1, PHYR_BYTES_MAX + 2);
		addr = phyr_rand_addr(rnd, len, phyr_rand(rnd, 2) ? 1 : 512);
	} else if (kind < 88) {
		/* Long. */
		len = phyr_rand_in(rnd, 1, min_t(u64, 1ULL << 40, PHYR_TEST_MAX));
		addr = phyr_rand_addr(rnd, len, phyr_rand(rnd, 2) ? 1 : PAGE_SIZE);
	} else if (kind < 92) {
		/* Ends at the top of the address space. */
		len = phyr_rand(rnd, 2) ? PHYR_PG(1 + phyr_rand(rnd, 1100)) :
					  1 + phyr_rand(rnd, 2 * PAGE_SIZE);
		addr = PHYR_TEST_MAX - (len - 1);
	} else if (kind < 95) {
		/* Starts at address 0. */
		len = phyr_rand(rnd, 2) ? PHYR_PG(1 + phyr_rand(rnd, 8)) :
					  1 + phyr_rand(rnd, 10000);
		addr = 0;
	} else if (kind < 96 && PHYR_TEST_PHYS64) {
		/* Huge: a few of these overflow the list's u64 length. */
		len = phyr_rand_in(rnd, 1ULL << 62, 1ULL << 63);
		addr = phyr_rand_addr(rnd, len, 1);
	} else {
		/* Invalid: empty, or wraps past PHYS_ADDR_MAX. */
		switch (phyr_rand(rnd, 3)) {
		case 0:
			addr = phyr_rand_addr(rnd, 1, 1);
			len = 0;
			break;
		case 1:
			addr = PHYR_TEST_MAX - phyr_rand(rnd, PAGE_SIZE);
			len = PHYR_TEST_MAX - addr + 2 + phyr_rand(rnd, PAGE_SIZE);
			break;
		default:
			/* Valid exactly when it ends at the top. */
			addr = phyr_rand(rnd, 3);
			len = PHYR_TEST_MAX - phyr_rand(rnd, 2) + 1;
			if (!len)
				len = U64_MAX;
			break;
		}
	}
	*addrp = addr;
	*lenp = len;
}

/* Appends random valid ranges until the list holds @nr ranges. */
static bool phyr_fill(struct kunit *test, struct phyr_list *pl,
		      struct phyr_model *m, struct rnd_state *rnd,
		      unsigned long nr, bool p2p)
{
	while (m->nr < nr) {
		u64 addr, len;

		phyr_rand_range(rnd, m, true, &addr, &len);
		if (phyr_model_append(m, addr, len, false, false))
			continue;
		if (!phyr_add(test, pl, m, addr, len,
			      p2p && !phyr_rand(rnd, 8)))
			return false;
	}
	return phyr_check(test, pl, m);
}

/* ---- Real memory ---- */

struct phyr_test_mem {
	struct folio **folios;
	struct page **pages;	/* the pages of folios[0], folios[1], ... */
	unsigned long nr_folios;
	unsigned long nr_pages;
	unsigned int order;
};

static void phyr_test_mem_free(void *data)
{
	struct phyr_test_mem *mem = data;
	unsigned long i;

	for (i = 0; i < mem->nr_folios; i++)
		folio_put(mem->folios[i]);
	kvfree(mem->folios);
	kvfree(mem->pages);
	kfree(mem);
}

/*
 * Allocates @nr folios of @order one by one, in an order shuffled with
 * @rnd (if not NULL) so that neighbours in pages[] are not neighbours in
 * memory.  Returns NULL if the memory is not available.
 */
static struct phyr_test_mem *phyr_test_mem_alloc(struct kunit *test,
						 unsigned long nr,
						 unsigned int order,
						 struct rnd_state *rnd)
{
	struct phyr_test_mem *mem;
	unsigned long i, j;

	mem = kzalloc(sizeof(*mem), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, mem);
	mem->folios = kvcalloc(nr, sizeof(*mem->folios), GFP_KERNEL);
	mem->pages = kvcalloc(nr << order, sizeof(*mem->pages), GFP_KERNEL);
	mem->order = order;
	KUNIT_ASSERT_EQ(test, kunit_add_action_or_reset(test, phyr_test_mem_free,
							mem), 0);
	KUNIT_ASSERT_NOT_NULL(test, mem->folios);
	KUNIT_ASSERT_NOT_NULL(test, mem->pages);
	for (i = 0; i < nr; i++) {
		struct folio *folio;

		folio = folio_alloc(GFP_HIGHUSER | __GFP_NOWARN, order);
		if (!folio)
			return NULL;
		mem->folios[mem->nr_folios++] = folio;
	}
	for (i = nr - 1; rnd && i > 0; i--)
		swap(mem->folios[i], mem->folios[phyr_rand(rnd, i + 1)]);
	for (i = 0; i < nr; i++)
		for (j = 0; j < 1UL << order; j++)
			mem->pages[mem->nr_pages++] = folio_page(mem->folios[i], j);
	return mem;
}

static u64 phyr_test_max_page(const struct phyr_test_mem *mem)
{
	u64 max_addr = 0;
	unsigned long i;

	for (i = 0; i < mem->nr_pages; i++)
		max_addr = max_t(u64, max_addr, page_to_phys(mem->pages[i]));
	return max_addr;
}

/* ---- Struct layout ---- */

static void phyr_test_list_size(struct kunit *test)
{
	DEFINE_PHYR_LIST(pl);

	KUNIT_EXPECT_LE(test, sizeof(struct phyr_list), 64);
	KUNIT_EXPECT_TRUE(test, phyr_list_empty(&pl));
	KUNIT_EXPECT_EQ(test, phyr_list_nr_ranges(&pl), 0);
	KUNIT_EXPECT_EQ(test, phyr_list_length(&pl), 0);
	KUNIT_EXPECT_EQ(test, (u64)phyr_list_max_addr(&pl), 0);
	KUNIT_EXPECT_FALSE(test, phyr_list_has_p2p(&pl));
	KUNIT_EXPECT_EQ(test, phyr_list_mem_bytes(&pl), 0);
	phyr_list_destroy(&pl);
	KUNIT_EXPECT_TRUE(test, phyr_list_empty(&pl));
}

/* ---- Encodings ---- */

/*
 * Two ranges, A then B, that are read back exactly.  With @size, the
 * density run appends 4096 ranges A + i * @step, B + i * @step and expects
 * about @size bytes of chunks per range: the pairs are laid out so that
 * every A and every B gets the same encoding.  A 4-byte entry reaches
 * from the frame of its leaf's first entry, an A or a B: the cases of
 * that reach repeat A and B in place (@step 0) or lay every range out of
 * reach of every other (PHYR_FAR_STEP), and those where the reach is not
 * the same both ways have no density run.
 */
struct phyr_enc_case {
	const char *desc;
	u64 addr;
	u64 len;
	u64 addr2;
	u64 len2;	/* 0: A only */
	u64 step;
	unsigned int size;
	bool p2p;
};

#define PHYR_ENC_N	4096
#define PHYR_DELTA_B(gap)	(PHYR_BASE + PAGE_SIZE + PHYR_PG(gap))
/* A range @d frames from A at PHYR_BASE, the leaf's first entry. */
#define PHYR_FROM_A(d)		(PHYR_BASE + PHYR_PG(d))
/* A step that keeps each range of a pair out of reach of all others. */
#define PHYR_FAR_STEP		PHYR_PG(2 * (PHYR_DELTA_REACH + 1))
#define PHYR_FAR		(PHYR_BASE + PHYR_PG(PHYR_DELTA_REACH + 2))

static const struct phyr_enc_case phyr_enc_cases[] = {
	{ "delta: 1 page, +1 page", PHYR_BASE, PAGE_SIZE,
	  PHYR_DELTA_B(1), PAGE_SIZE, PHYR_PG(2), 4 },
	{ "delta: same page twice", PHYR_BASE, PAGE_SIZE,
	  PHYR_BASE, PAGE_SIZE, 0, 4 },
	{ "delta: overlapping pages", PHYR_BASE, PHYR_PG(4),
	  PHYR_BASE + PHYR_PG(2), PHYR_PG(4), 0, 4 },
	{ "delta: 8 pages", PHYR_BASE, PHYR_PG(8),
	  PHYR_BASE + PHYR_PG(9), PHYR_PG(8), PHYR_PG(16), 4 },
	{ "pages: 9 pages", PHYR_BASE, PHYR_PG(9),
	  PHYR_BASE + PHYR_PG(10), PHYR_PG(9), PHYR_PG(18), 8 },
	{ "delta: +(2^27 - 1) pages", PHYR_BASE, PAGE_SIZE,
	  PHYR_FROM_A(PHYR_DELTA_REACH - 1), PAGE_SIZE, 0, 4 },
	{ "delta: +2^27 pages", PHYR_BASE, PAGE_SIZE,
	  PHYR_FROM_A(PHYR_DELTA_REACH), PAGE_SIZE, 0, 0 },
	{ "pages: +(2^27 + 1) pages", PHYR_BASE, PAGE_SIZE,
	  PHYR_FROM_A(PHYR_DELTA_REACH + 1), PAGE_SIZE, PHYR_FAR_STEP, 8 },
	{ "delta: -(2^27 - 1) pages", PHYR_FAR, PAGE_SIZE,
	  PHYR_FAR - PHYR_PG(PHYR_DELTA_REACH - 1), PAGE_SIZE, 0, 4 },
	{ "delta: -2^27 pages", PHYR_FAR, PAGE_SIZE,
	  PHYR_FAR - PHYR_PG(PHYR_DELTA_REACH), PAGE_SIZE, 0, 0 },
	{ "pages: -(2^27 + 1) pages", PHYR_FAR, PAGE_SIZE,
	  PHYR_FAR - PHYR_PG(PHYR_DELTA_REACH + 1), PAGE_SIZE, PHYR_FAR_STEP,
	  8 },
	{ "pages: PAGE_SIZE/4 pages", PHYR_BASE, PHYR_PG(PHYR_PAGES_MAX),
	  PHYR_BASE + PHYR_PG(PHYR_PAGES_MAX + 1), PHYR_PG(PHYR_PAGES_MAX),
	  0, 8 },
	{ "bytes: PAGE_SIZE/4 + 1 pages", PHYR_BASE,
	  PHYR_PG(PHYR_PAGES_MAX + 1),
	  PHYR_BASE + PHYR_PG(PHYR_PAGES_MAX + 2),
	  PHYR_PG(PHYR_PAGES_MAX + 1), 0, 12 },
	{ "bytes: 1 byte", PHYR_BASE + 1, 1, PHYR_BASE + 3, 1, 0, 12 },
	{ "bytes: a page at offset 100", PHYR_BASE + 100, PAGE_SIZE,
	  PHYR_BASE + PHYR_PG(2) + 100, PAGE_SIZE, 0, 12 },
	{ "bytes: page plus one byte", PHYR_BASE, PAGE_SIZE + 1,
	  PHYR_BASE + PHYR_PG(3), PAGE_SIZE - 1, 0, 12 },
	{ "bytes: 2^29 bytes", PHYR_BASE, PHYR_BYTES_MAX,
	  PHYR_BASE + PHYR_BYTES_MAX + PAGE_SIZE, PHYR_BYTES_MAX, 0, 12 },
	{ "bytes: 2^29 bytes at offset 1", PHYR_BASE + 1, PHYR_BYTES_MAX,
	  PHYR_BASE + PHYR_BYTES_MAX + PAGE_SIZE + 1, PHYR_BYTES_MAX, 0, 12 },
	{ "long: 2^29 + 1 bytes", PHYR_BASE, PHYR_BYTES_MAX + 1,
	  PHYR_BASE + PHYR_BYTES_MAX + PAGE_SIZE, PHYR_BYTES_MAX + 1, 0, 20 },
	{ "long: 4 GiB from address 0", 0, SZ_4G, 0, SZ_4G, 0, 20 },
	{ "long: 4 GiB", SZ_4G, SZ_4G, 3 * SZ_4G, SZ_4G, 0, 20 },
	{ "long: 4 GiB + 1 page", SZ_4G, SZ_4G + PAGE_SIZE,
	  3 * SZ_4G, SZ_4G + PAGE_SIZE, 0, 20 },
	{ "long: 1 TiB at offset 7", SZ_1T + 7, SZ_1T, 3 * SZ_1T + 7, SZ_1T,
	  0, 20 },
	{ "long: 2^63 bytes", 0, 1ULL << 63, (1ULL << 63) + PAGE_SIZE,
	  1ULL << 62, 0, 0 },
	{ "long: everything but address 0", 1, U64_MAX },
	{ "p2p: 1 page", PHYR_BASE, PAGE_SIZE, PHYR_DELTA_B(1), PAGE_SIZE,
	  PHYR_PG(2), 20, true },
	{ "p2p: 2^29 + 1 bytes", PHYR_BASE, PHYR_BYTES_MAX + 1,
	  PHYR_BASE + PHYR_BYTES_MAX + PAGE_SIZE, PHYR_BYTES_MAX + 1, 0, 20,
	  true },
	{ "top: last page, then page 1", PHYS_ADDR_MAX - PAGE_SIZE + 1,
	  PAGE_SIZE, PAGE_SIZE, PAGE_SIZE, 0, 0 },
	{ "top: last byte, then byte 0", PHYS_ADDR_MAX, 1, 0, 1, 0, 0 },
	{ "top: last page, then page 0", PHYS_ADDR_MAX - PAGE_SIZE + 1,
	  PAGE_SIZE, 0, PAGE_SIZE, 0, 0 },
	{ "top: 8 pages, then 8 pages at 0", PHYS_ADDR_MAX - PHYR_PG(8) + 1,
	  PHYR_PG(8), 0, PHYR_PG(8), 0, 0 },
	{ "top: PAGE_SIZE/4 pages, then at 0",
	  PHYS_ADDR_MAX - PHYR_PG(PHYR_PAGES_MAX) + 1,
	  PHYR_PG(PHYR_PAGES_MAX), 0, PHYR_PG(PHYR_PAGES_MAX), 0, 0 },
	{ "top: 4 MiB + 1 byte, then at 0", PHYS_ADDR_MAX - SZ_4M,
	  SZ_4M + 1, 0, SZ_4M + 1, 0, 0 },
	{ "top: 8 GiB, then at 0", PHYS_ADDR_MAX - SZ_8G + 1, SZ_8G,
	  0, SZ_8G, 0, 0 },
	{ "top: p2p last page, then p2p page 0",
	  PHYS_ADDR_MAX - PAGE_SIZE + 1, PAGE_SIZE, 0, PAGE_SIZE, 0, 0, true },
	{ "zero: page 0, then page 2", 0, PAGE_SIZE, PHYR_PG(2), PAGE_SIZE,
	  PHYR_PG(2), 4 },
	{ "zero: byte 0, then byte 2", 0, 1, 2, 1, 0, 12 },
	{ "zero: 8 pages at 0, 9 pages at 9", 0, PHYR_PG(8), PHYR_PG(9),
	  PHYR_PG(9), 0, 0 },
};

KUNIT_ARRAY_PARAM_DESC(phyr_enc, phyr_enc_cases, desc);

static void phyr_test_append_encoding(struct kunit *test)
{
	const struct phyr_enc_case *c = test->param_value;
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, PHYR_ENC_N);
	long live = phyr_chunks_live();
	u64 lo, hi, extent;
	unsigned long i;
	size_t mem;

	if (!phyr_model_fits(c->addr, c->len) ||
	    (c->len2 && !phyr_model_fits(c->addr2, c->len2)))
		kunit_skip(test, "needs a 64-bit phys_addr_t");

	/* One range needs no chunk. */
	if (!phyr_add(test, pl, m, c->addr, c->len, c->p2p) ||
	    !phyr_check(test, pl, m))
		return;
	KUNIT_EXPECT_EQ(test, phyr_list_mem_bytes(pl), 0);
	KUNIT_EXPECT_EQ(test, phyr_chunks_live(), live);
	if (!c->len2)
		return;

	/* A second one does, and both read back exactly. */
	if (!phyr_add(test, pl, m, c->addr2, c->len2, c->p2p) ||
	    !phyr_check(test, pl, m))
		return;
	KUNIT_EXPECT_EQ(test, phyr_list_nr_ranges(pl), 2);
	KUNIT_EXPECT_GT(test, phyr_list_mem_bytes(pl), 0);
	KUNIT_EXPECT_GT(test, phyr_chunks_live(), live);
	if (!c->size)
		return;

	phyr_list_destroy(pl);
	phyr_model_reset(m);
	extent = (PHYR_ENC_N / 2 - 1) * c->step;
	if (!phyr_model_fits(c->addr + extent, c->len) ||
	    !phyr_model_fits(c->addr2 + extent, c->len2)) {
		kunit_info(test, "density run needs a 64-bit phys_addr_t\n");
		return;
	}
	for (i = 0; i < PHYR_ENC_N / 2; i++) {
		if (!phyr_add(test, pl, m, c->addr + i * c->step, c->len,
			      c->p2p) ||
		    !phyr_add(test, pl, m, c->addr2 + i * c->step, c->len2,
			      c->p2p))
			return;
	}
	if (!phyr_check(test, pl, m))
		return;
	KUNIT_EXPECT_EQ(test, phyr_list_nr_ranges(pl), PHYR_ENC_N);
	/* Chunk headers, index nodes, first entries and the last chunk. */
	mem = phyr_list_mem_bytes(pl);
	lo = (u64)PHYR_ENC_N * c->size;
	hi = lo + lo / 16 + 3 * PAGE_SIZE;
	KUNIT_EXPECT_GE_MSG(test, (u64)mem, lo, "%d ranges of %u-byte entries",
			    PHYR_ENC_N, c->size);
	KUNIT_EXPECT_LE_MSG(test, (u64)mem, hi, "%d ranges of %u-byte entries",
			    PHYR_ENC_N, c->size);
}

/* ---- Merging ---- */

/*
 * Pieces appended back to back from @addr, between a range 3 pages before
 * (which makes the first piece a delta candidate) and a page one page
 * after (which is a delta from the merged end).
 */
struct phyr_merge_case {
	const char *desc;
	u64 addr;
	u64 len[4];
	bool p2p[4];
	unsigned long nr_ranges;	/* the pieces become this many */
};

static const struct phyr_merge_case phyr_merge_cases[] = {
	{ "page + page", PHYR_BASE, { PAGE_SIZE, PAGE_SIZE }, {}, 1 },
	{ "1 + 7 pages", PHYR_BASE, { PAGE_SIZE, PHYR_PG(7) }, {}, 1 },
	{ "8 + 1 pages", PHYR_BASE, { PHYR_PG(8), PAGE_SIZE }, {}, 1 },
	{ "4 + 4 + 1 pages", PHYR_BASE,
	  { PHYR_PG(4), PHYR_PG(4), PAGE_SIZE }, {}, 1 },
	{ "PAGE_SIZE/4 + 1 pages", PHYR_BASE,
	  { PHYR_PG(PHYR_PAGES_MAX), PAGE_SIZE }, {}, 1 },
	{ "PAGE_SIZE/4 - 1 + 1 + 1 pages", PHYR_BASE,
	  { PHYR_PG(PHYR_PAGES_MAX - 1), PAGE_SIZE, PAGE_SIZE }, {}, 1 },
	{ "8 pages + 1 byte", PHYR_BASE, { PHYR_PG(8), 1 }, {}, 1 },
	{ "1 byte + page - 1 bytes", PHYR_BASE, { 1, PAGE_SIZE - 1 }, {}, 1 },
	{ "unaligned bytes", PHYR_BASE + 5, { 3, 4000, 1, 90 }, {}, 1 },
	{ "2^29 - 1 + 1 + 1 bytes", PHYR_BASE,
	  { PHYR_BYTES_MAX - 1, 1, 1 }, {}, 1 },
	{ "8 pages + 2^29 bytes", PHYR_BASE,
	  { PHYR_PG(8), PHYR_BYTES_MAX }, {}, 1 },
	{ "4 GiB - 1 page + 1 page from 0", 0,
	  { SZ_4G - PAGE_SIZE, PAGE_SIZE }, {}, 1 },
	{ "across the 4 GiB mark", SZ_4G - PHYR_PG(2),
	  { PHYR_PG(2), PHYR_PG(2) }, {}, 1 },
	{ "4 GiB + 4 GiB", SZ_4G, { SZ_4G, SZ_4G }, {}, 1 },
	{ "up to the top", PHYS_ADDR_MAX - PHYR_PG(2) + 1,
	  { PAGE_SIZE, PAGE_SIZE }, {}, 1 },
	{ "bytes up to the top", PHYS_ADDR_MAX - 9, { 3, 7 }, {}, 1 },
	{ "p2p + p2p", PHYR_BASE, { PAGE_SIZE, PAGE_SIZE },
	  { true, true }, 1 },
	{ "p2p bytes", PHYR_BASE + 1, { 1, 2, 3 }, { true, true, true }, 1 },
	{ "host + p2p", PHYR_BASE, { PAGE_SIZE, PAGE_SIZE },
	  { false, true }, 2 },
	{ "p2p + host", PHYR_BASE, { PAGE_SIZE, PAGE_SIZE },
	  { true, false }, 2 },
	{ "host + p2p + p2p + host", PHYR_BASE,
	  { PAGE_SIZE, PAGE_SIZE, PAGE_SIZE, PAGE_SIZE },
	  { false, true, true, false }, 3 },
};

KUNIT_ARRAY_PARAM_DESC(phyr_merge, phyr_merge_cases, desc);

static void phyr_test_append_merge(struct kunit *test)
{
	const struct phyr_merge_case *c = test->param_value;
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, 8);
	unsigned long extra = 0;
	u64 addr, total = 0;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(c->len); i++)
		total += c->len[i];
	if (!phyr_model_fits(c->addr, total))
		kunit_skip(test, "needs a 64-bit phys_addr_t");

	if (c->addr >= PHYR_PG(3)) {
		if (!phyr_add(test, pl, m, c->addr - PHYR_PG(3), PAGE_SIZE,
			      false))
			return;
		extra++;
	}
	addr = c->addr;
	for (i = 0; i < ARRAY_SIZE(c->len) && c->len[i]; i++) {
		if (!phyr_add(test, pl, m, addr, c->len[i], c->p2p[i]) ||
		    !phyr_check(test, pl, m))
			return;
		addr += c->len[i];
	}
	KUNIT_EXPECT_EQ(test, phyr_list_nr_ranges(pl) - extra, c->nr_ranges);
	if (addr && phyr_model_fits(addr + PAGE_SIZE, PAGE_SIZE)) {
		if (!phyr_add(test, pl, m, addr + PAGE_SIZE, PAGE_SIZE, false))
			return;
		extra++;
	}
	if (phyr_check(test, pl, m))
		KUNIT_EXPECT_EQ(test, phyr_list_nr_ranges(pl) - extra,
				c->nr_ranges);
}

/* Ranges that touch or overlap but are not appended right after the last. */
static void phyr_test_append_no_merge(struct kunit *test)
{
	static const struct {
		u64 addr, len;
	} seq[] = {
		{ PHYR_BASE + PHYR_PG(1), PAGE_SIZE },
		{ PHYR_BASE, PAGE_SIZE },		/* ends where the last starts */
		{ PHYR_BASE, PAGE_SIZE },		/* the same range again */
		{ PHYR_BASE + 100, PAGE_SIZE },		/* overlaps the last */
		{ PHYR_BASE + PHYR_PG(1), PHYR_PG(2) },	/* after the first */
		{ PHYR_BASE + PHYR_PG(2) + 1, 10 },	/* one byte after */
		{ PHYR_BASE + PHYR_PG(2) + 10, 1 },	/* one byte before its end */
		{ PHYS_ADDR_MAX, 1 },			/* the top byte */
		{ 0, 1 },				/* byte 0 is not after it */
		{ PHYS_ADDR_MAX - PAGE_SIZE + 1, PAGE_SIZE },
		{ 0, PAGE_SIZE },
	};
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, ARRAY_SIZE(seq));
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(seq); i++)
		if (!phyr_add(test, pl, m, seq[i].addr, seq[i].len, false) ||
		    !phyr_check(test, pl, m))
			return;
	KUNIT_EXPECT_EQ(test, phyr_list_nr_ranges(pl), ARRAY_SIZE(seq));
}

/*
 * Whether [@addr, @addr + @len) holds PCI P2P memory of the machine the
 * test runs on (an NVMe CMB in the MMIO hole), which phyr_list_append()
 * keeps apart from the addresses around it.  P2P memory comes in whole
 * subsections.
 */
static bool phyr_test_span_has_p2p(u64 addr, u64 len)
{
	u64 end = addr + len, a;

	for (a = ALIGN_DOWN(addr, SZ_2M); a < end; a += SZ_2M)
		if (phyr_model_addr_p2p(max(a, addr)))
			return true;
	return false;
}

/* Contiguous 4 KiB and then 1 MiB appends make one range, past 4 GiB. */
static void phyr_test_append_merge_many(struct kunit *test)
{
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, 4);
	u64 addr = PHYR_BASE, stop;
	unsigned long i;

	if (!phyr_add(test, pl, m, PAGE_SIZE, PAGE_SIZE, false))
		return;
	for (i = 0; i < 4096; i++, addr += PAGE_SIZE)
		if (!phyr_add(test, pl, m, addr, PAGE_SIZE, false))
			return;
	if (!phyr_check(test, pl, m))
		return;
	KUNIT_EXPECT_EQ(test, phyr_list_nr_ranges(pl), 2);
	stop = PHYR_TEST_PHYS64 ? 5ULL * SZ_1G + PHYR_BASE : SZ_2G + PHYR_BASE;
	for (; addr < stop; addr += SZ_1M)
		if (!phyr_add(test, pl, m, addr, SZ_1M, false))
			return;
	if (!phyr_check(test, pl, m))
		return;
	/* The model has checked the ranges; split only by P2P memory. */
	if (!phyr_test_span_has_p2p(PHYR_BASE, stop - PHYR_BASE))
		KUNIT_EXPECT_EQ(test, phyr_list_nr_ranges(pl), 2);
	KUNIT_EXPECT_EQ(test, phyr_list_length(pl), stop - PHYR_BASE + PAGE_SIZE);

	/* The same without the first range: no chunk at all. */
	phyr_list_destroy(pl);
	phyr_model_reset(m);
	for (addr = 0; addr < PHYR_PG(3000); addr += PAGE_SIZE)
		if (!phyr_add(test, pl, m, addr, PAGE_SIZE, false))
			return;
	if (phyr_check(test, pl, m))
		KUNIT_EXPECT_EQ(test, phyr_list_mem_bytes(pl), 0);
}

/*
 * Merges that grow the last entry (4 -> 8, 12 or 20 bytes, 8 -> 12) while
 * the list fills several chunks, so that growing entries meet the end of
 * a chunk at every offset.
 */
static void phyr_test_append_merge_grow(struct kunit *test)
{
	static const u64 grow[] = {
		PAGE_SIZE, PHYR_PG(PHYR_PAGES_MAX - 8), PHYR_PG(PHYR_PAGES_MAX),
		1, PHYR_BYTES_MAX, SZ_1G, 0,
	};
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, 8192);
	struct rnd_state rnd;
	u64 base = PHYR_BASE;
	unsigned long i;

	prandom_seed_state(&rnd, PHYR_TEST_SEED);
	for (i = 0; i < 3000; i++, base += SZ_64K) {
		u64 len = PHYR_PG(1 + phyr_rand(&rnd, 8));
		u64 more = grow[phyr_rand(&rnd, ARRAY_SIZE(grow))];
		bool p2p = !phyr_rand(&rnd, 16);

		if (!phyr_add(test, pl, m, base, len, false))
			return;
		if (more && !phyr_add(test, pl, m, base + len, more, p2p))
			return;
		if (phyr_list_nr_ranges(pl) != m->nr ||
		    phyr_list_length(pl) != m->length) {
			KUNIT_FAIL(test, "step %lu: %lu ranges, %#llx bytes; expected %lu, %#llx",
				   i, phyr_list_nr_ranges(pl),
				   phyr_list_length(pl), m->nr, m->length);
			return;
		}
		if (!(i % 256) && !phyr_check(test, pl, m))
			return;
	}
	phyr_check(test, pl, m);
	KUNIT_EXPECT_GT(test, phyr_list_mem_bytes(pl), 4 * PAGE_SIZE);
}

/* ---- One range, P2P, destroy ---- */

static void phyr_test_list_single(struct kunit *test)
{
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, 4);
	long live = phyr_chunks_live();

	if (!phyr_add(test, pl, m, PHYR_BASE + 1, 100, false) ||
	    !phyr_add(test, pl, m, PHYR_BASE + 101, SZ_1M, false) ||
	    !phyr_check(test, pl, m))
		return;
	KUNIT_EXPECT_EQ(test, phyr_list_mem_bytes(pl), 0);
	KUNIT_EXPECT_EQ(test, phyr_chunks_live(), live);

	/* The second range takes the small first leaf. */
	if (!phyr_add(test, pl, m, 0, PAGE_SIZE, false) ||
	    !phyr_check(test, pl, m))
		return;
	KUNIT_EXPECT_GT(test, phyr_list_mem_bytes(pl), 0);
	KUNIT_EXPECT_LT(test, phyr_list_mem_bytes(pl), PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, phyr_chunks_live(), live + 1);

	/* Destroy leaves an empty list that can be used again. */
	phyr_list_destroy(pl);
	phyr_model_reset(m);
	KUNIT_EXPECT_EQ(test, phyr_chunks_live(), live);
	if (!phyr_check(test, pl, m) ||
	    !phyr_add(test, pl, m, PHYS_ADDR_MAX - PAGE_SIZE + 1, PAGE_SIZE,
		      true) ||
	    !phyr_check(test, pl, m))
		return;
	KUNIT_EXPECT_EQ(test, phyr_list_mem_bytes(pl), 0);
	KUNIT_EXPECT_EQ(test, phyr_chunks_live(), live);
}

static void phyr_test_append_p2p_flags(struct kunit *test)
{
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, 8);
	struct phyr_iter iter;
	struct phyr range;
	int ret;

	/* A failed P2P append does not mark the list. */
	ret = phyr_list_append_p2p(pl, PHYR_BASE, 0, GFP_KERNEL);
	KUNIT_EXPECT_EQ(test, ret, -EINVAL);
	ret = phyr_list_append_p2p(pl, PHYS_ADDR_MAX, 2, GFP_KERNEL);
	KUNIT_EXPECT_EQ(test, ret, -EINVAL);
	if (!phyr_check(test, pl, m))
		return;

	if (!phyr_add(test, pl, m, PHYR_BASE, PAGE_SIZE, true) ||
	    !phyr_check(test, pl, m))
		return;
	KUNIT_EXPECT_TRUE(test, phyr_list_has_p2p(pl));
	phyr_iter_init(&iter, pl);
	KUNIT_ASSERT_TRUE(test, phyr_iter_next(&iter, &range));
	KUNIT_EXPECT_TRUE(test, iter.flags & PHYR_RANGE_P2P);

	if (!phyr_add(test, pl, m, PHYR_BASE + PAGE_SIZE, PAGE_SIZE, false) ||
	    !phyr_add(test, pl, m, PHYR_BASE + PHYR_PG(2), 100, true) ||
	    !phyr_add(test, pl, m, PHYR_BASE + PHYR_PG(2) + 100, 100, true) ||
	    !phyr_add(test, pl, m, PHYR_BASE + PHYR_PG(2) + 200, 8, false) ||
	    !phyr_check(test, pl, m))
		return;
	KUNIT_EXPECT_EQ(test, phyr_list_nr_ranges(pl), 4);

	/* Destroy forgets the P2P ranges. */
	phyr_list_destroy(pl);
	phyr_model_reset(m);
	phyr_check(test, pl, m);
}

/* Destroy frees a list of many chunks and index nodes. */
static void phyr_test_list_destroy(struct kunit *test)
{
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, 20000);
	long live = phyr_chunks_live();
	struct phyr_iter iter;
	struct phyr range;
	struct rnd_state rnd;

	prandom_seed_state(&rnd, PHYR_TEST_SEED);
	if (!phyr_fill(test, pl, m, &rnd, 20000, true))
		return;
	KUNIT_EXPECT_GT(test, phyr_chunks_live(), live + 4);
	phyr_list_destroy(pl);
	phyr_model_reset(m);
	KUNIT_EXPECT_EQ(test, phyr_chunks_live(), live);
	phyr_check(test, pl, m);
	phyr_iter_init(&iter, pl);
	KUNIT_EXPECT_FALSE(test, phyr_iter_next(&iter, &range));
	phyr_list_destroy(pl);
	if (phyr_fill(test, pl, m, &rnd, 3000, true))
		KUNIT_EXPECT_GT(test, phyr_chunks_live(), live);
}

/* ---- Errors ---- */

struct phyr_err_case {
	const char *desc;
	u64 addr;
	u64 len;
	int err;
};

static const struct phyr_err_case phyr_err_cases[] = {
	{ "zero length", PHYR_BASE, 0, -EINVAL },
	{ "zero length at 0", 0, 0, -EINVAL },
	{ "zero length at the top", PHYS_ADDR_MAX, 0, -EINVAL },
	{ "last page", PHYS_ADDR_MAX - PAGE_SIZE + 1, PAGE_SIZE, 0 },
	{ "last page + 1", PHYS_ADDR_MAX - PAGE_SIZE + 2, PAGE_SIZE, -EINVAL },
	{ "last byte", PHYS_ADDR_MAX, 1, 0 },
	{ "last byte, 2 bytes", PHYS_ADDR_MAX, 2, -EINVAL },
	{ "last byte, u64 max", PHYS_ADDR_MAX, U64_MAX, -EINVAL },
	{ "4 GiB at 0", 0, SZ_4G, 0 },
	{ "4 GiB + 1 at 0", 0, SZ_4G + 1, PHYR_TEST_PHYS64 ? 0 : -EINVAL },
	{ "4 GiB at 1", 1, SZ_4G, PHYR_TEST_PHYS64 ? 0 : -EINVAL },
	{ "u64 max at 0", 0, U64_MAX, PHYR_TEST_PHYS64 ? 0 : -EINVAL },
	{ "u64 max at 1", 1, U64_MAX, PHYR_TEST_PHYS64 ? 0 : -EINVAL },
	{ "u64 max at 2", 2, U64_MAX, -EINVAL },
	{ "u64 max at page 1", PAGE_SIZE, U64_MAX, -EINVAL },
};

KUNIT_ARRAY_PARAM_DESC(phyr_err, phyr_err_cases, desc);

/* Builds a list of @state ranges: 0, 1, or enough for several chunks. */
static bool phyr_build(struct kunit *test, struct phyr_list *pl,
		       struct phyr_model *m, unsigned long state)
{
	struct rnd_state rnd;

	phyr_list_destroy(pl);
	phyr_model_reset(m);
	prandom_seed_state(&rnd, PHYR_TEST_SEED + state);
	if (state == 1)
		return phyr_add(test, pl, m, PHYR_BASE, PAGE_SIZE, false);
	return phyr_fill(test, pl, m, &rnd, state, true);
}

static const unsigned long phyr_states[] = { 0, 1, 2, 1500 };

static void phyr_test_append_errors(struct kunit *test)
{
	const struct phyr_err_case *c = test->param_value;
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, 2000);
	unsigned long nr_failed = 0;
	unsigned int i, p2p;

	for (i = 0; i < ARRAY_SIZE(phyr_states); i++) {
		for (p2p = 0; p2p < 2; p2p++) {
			struct phyr_op op = {
				.kind = p2p ? PHYR_OP_APPEND_P2P :
					      PHYR_OP_APPEND,
				.addr = c->addr,
				.len = c->len,
			};

			if (!phyr_build(test, pl, m, phyr_states[i]))
				return;
			/* In a non-empty list, a valid range may overflow. */
			if (!phyr_states[i])
				KUNIT_EXPECT_EQ_MSG(test,
						    phyr_op_model(test, m, &op, false),
						    c->err, "the test's model disagrees");
			if (!phyr_op_check(test, pl, m, &op, 0, false,
					   &nr_failed) ||
			    !phyr_check(test, pl, m)) {
				KUNIT_FAIL(test, "in a list of %lu ranges, p2p %u",
					   phyr_states[i], p2p);
				return;
			}
		}
	}
}

/* The list's u64 length cannot overflow (needs 64-bit phys_addr_t). */
static void phyr_test_append_overflow(struct kunit *test)
{
	/* 2^63 with a 64-bit phys_addr_t; the test is skipped otherwise. */
	const phys_addr_t half = PHYS_ADDR_MAX / 2 + 1;
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, 2000);
	struct phyr_test_mem *mem;
	unsigned long nr_failed = 0;
	unsigned int i;

	if (!PHYR_TEST_PHYS64)
		kunit_skip(test, "a 32-bit phys_addr_t cannot describe 2^64 bytes in a list");
	mem = phyr_test_mem_alloc(test, 1, 0, NULL);
	KUNIT_ASSERT_NOT_NULL(test, mem);

	for (i = 0; i < ARRAY_SIZE(phyr_states); i++) {
		struct phyr_op op = { .kind = PHYR_OP_APPEND };
		u64 room;

		if (!phyr_build(test, pl, m, phyr_states[i]))
			return;
		room = U64_MAX - m->length;
		/* Exactly U64_MAX bytes in all: fine; one more: -EOVERFLOW. */
		if (!phyr_add(test, pl, m, 0, room - (room >> 1), false) ||
		    !phyr_add(test, pl, m, room - (room >> 1), room >> 1, false))
			return;
		KUNIT_EXPECT_EQ(test, phyr_list_length(pl), U64_MAX);
		op.addr = PHYR_BASE;
		op.len = 1;
		KUNIT_EXPECT_TRUE(test, phyr_op_check(test, pl, m, &op, 0,
						      false, &nr_failed));
		op.kind = PHYR_OP_APPEND_P2P;
		KUNIT_EXPECT_TRUE(test, phyr_op_check(test, pl, m, &op, 0,
						      false, &nr_failed));
		/* A merge that would overflow. */
		op.kind = PHYR_OP_APPEND;
		op.addr = room;
		KUNIT_EXPECT_TRUE(test, phyr_op_check(test, pl, m, &op, 0,
						      false, &nr_failed));
		op.kind = PHYR_OP_PAGES;
		op.pages = mem->pages;
		op.n = 1;
		op.offset = 0;
		op.len = PAGE_SIZE;
		KUNIT_EXPECT_TRUE(test, phyr_op_check(test, pl, m, &op, 0,
						      false, &nr_failed));
		op.kind = PHYR_OP_FOLIO;
		op.folio = mem->folios[0];
		KUNIT_EXPECT_TRUE(test, phyr_op_check(test, pl, m, &op, 0,
						      false, &nr_failed));
		KUNIT_EXPECT_EQ(test, phyr_list_append(pl, 0, 1, GFP_KERNEL),
				-EOVERFLOW);
		if (!phyr_check(test, pl, m))
			return;
	}

	/* Two halves of the address space merge, then nothing fits. */
	phyr_list_destroy(pl);
	phyr_model_reset(m);
	if (!phyr_add(test, pl, m, 0, half, false))
		return;
	KUNIT_EXPECT_EQ(test, phyr_list_append(pl, half, half, GFP_KERNEL),
			-EOVERFLOW);
	if (!phyr_check(test, pl, m) ||
	    !phyr_add(test, pl, m, half, half - 1, false) ||
	    !phyr_check(test, pl, m))
		return;
	KUNIT_EXPECT_EQ(test, phyr_list_nr_ranges(pl), 1);
	KUNIT_EXPECT_EQ(test, phyr_list_append(pl, PHYS_ADDR_MAX, 1, GFP_KERNEL),
			-EOVERFLOW);
	phyr_check(test, pl, m);
}

/* ---- Real pages and folios ---- */

static void phyr_test_append_folio(struct kunit *test)
{
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, 16);
	struct phyr_op op = { .kind = PHYR_OP_FOLIO };
	static const struct {
		size_t offset, len;
	} bad[] = {
		{ 0, 0 }, { 100, 0 }, { 0, SZ_2M + 1 }, { 1, SZ_2M },
		{ SZ_2M, 1 }, { SZ_2M - 1, 2 }, { SIZE_MAX, 2 },
		{ 2, SIZE_MAX },
	};
	unsigned long nr_failed = 0;
	struct phyr_test_mem *mem;
	unsigned int i;

	mem = phyr_test_mem_alloc(test, 1, 9, NULL);
	if (!mem)
		kunit_skip(test, "no order-9 folio available");
	op.folio = mem->folios[0];
	KUNIT_ASSERT_EQ(test, folio_size(op.folio), SZ_2M);

	/* The whole folio is one range and needs no chunk. */
	op.offset = 0;
	op.len = SZ_2M;
	if (!phyr_op_check(test, pl, m, &op, 0, false, &nr_failed) ||
	    !phyr_check(test, pl, m))
		return;
	KUNIT_EXPECT_EQ(test, phyr_list_nr_ranges(pl), 1);
	KUNIT_EXPECT_EQ(test, phyr_list_mem_bytes(pl), 0);
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		op.offset = bad[i].offset;
		op.len = bad[i].len;
		if (!phyr_op_check(test, pl, m, &op, 0, false, &nr_failed) ||
		    !phyr_check(test, pl, m))
			return;
	}
	KUNIT_EXPECT_EQ(test, phyr_list_append_folio(pl, op.folio, 0, 0,
						     GFP_KERNEL), -EINVAL);

	/* Pieces at byte offsets, merging where they touch. */
	phyr_list_destroy(pl);
	phyr_model_reset(m);
	op.offset = 100;
	op.len = 5000;
	if (!phyr_op_check(test, pl, m, &op, 0, false, &nr_failed))
		return;
	op.offset = 5100;
	op.len = SZ_1M;
	if (!phyr_op_check(test, pl, m, &op, 0, false, &nr_failed))
		return;
	op.offset = SZ_2M - 1;
	op.len = 1;
	if (!phyr_op_check(test, pl, m, &op, 0, false, &nr_failed))
		return;
	op.offset = 0;
	op.len = PAGE_SIZE;
	if (!phyr_op_check(test, pl, m, &op, 0, false, &nr_failed) ||
	    !phyr_check(test, pl, m))
		return;
	KUNIT_EXPECT_EQ(test, phyr_list_nr_ranges(pl), 3);
}

static void phyr_test_append_pages(struct kunit *test)
{
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, 1200);
	struct phyr_op op = { .kind = PHYR_OP_PAGES };
	unsigned long nr_failed = 0, i;
	struct phyr_test_mem *folio, *blocks;
	struct page **scattered;

	/* The pages of an order-9 folio become one range. */
	folio = phyr_test_mem_alloc(test, 1, 9, NULL);
	if (!folio)
		kunit_skip(test, "no order-9 folio available");
	op.pages = folio->pages;
	op.n = 512;
	op.len = SZ_2M;
	if (!phyr_op_check(test, pl, m, &op, 0, false, &nr_failed) ||
	    !phyr_check(test, pl, m))
		return;
	KUNIT_EXPECT_EQ(test, phyr_list_nr_ranges(pl), 1);
	KUNIT_EXPECT_EQ(test, phyr_list_mem_bytes(pl), 0);

	/* Part of it, at byte offsets, merging with the last range. */
	phyr_list_destroy(pl);
	phyr_model_reset(m);
	if (!phyr_add(test, pl, m, (u64)page_to_phys(folio->pages[0]) + 1,
		      PAGE_SIZE - 1, false))
		return;
	op.pages = folio->pages + 1;
	op.n = 3;
	op.offset = 0;
	op.len = PHYR_PG(2) + 10;
	if (!phyr_op_check(test, pl, m, &op, 0, false, &nr_failed))
		return;
	op.pages = folio->pages + 3;
	op.n = 1;
	op.offset = 10;
	op.len = 10;
	if (!phyr_op_check(test, pl, m, &op, 0, false, &nr_failed) ||
	    !phyr_check(test, pl, m))
		return;
	KUNIT_EXPECT_EQ(test, phyr_list_nr_ranges(pl), 1);

	/*
	 * Pages 0 and 2 of order-2 folios never touch: 2 is not next to 0,
	 * and the next folio cannot start at page 3 of this one.
	 */
	blocks = phyr_test_mem_alloc(test, 256, 2, NULL);
	KUNIT_ASSERT_NOT_NULL(test, blocks);
	scattered = kunit_kmalloc_array(test, 512, sizeof(*scattered),
					GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, scattered);
	for (i = 0; i < 512; i++)
		scattered[i] = blocks->pages[(i / 2) * 4 + (i % 2) * 2];
	phyr_list_destroy(pl);
	phyr_model_reset(m);
	op.pages = scattered;
	op.n = 512;
	op.offset = 123;
	op.len = PHYR_PG(512) - 123 - 45;
	if (!phyr_op_check(test, pl, m, &op, 0, false, &nr_failed) ||
	    !phyr_check(test, pl, m))
		return;
	KUNIT_EXPECT_EQ(test, phyr_list_nr_ranges(pl), 512);

	/* Whole order-2 folios: contiguous inside, maybe between. */
	op.pages = blocks->pages;
	op.n = 1024;
	op.offset = 0;
	op.len = PHYR_PG(1024);
	if (!phyr_op_check(test, pl, m, &op, 0, false, &nr_failed) ||
	    !phyr_check(test, pl, m))
		return;
	KUNIT_EXPECT_LE(test, phyr_list_nr_ranges(pl), 512 + 256);

	/* Mismatched page counts and empty ranges change nothing. */
	{
		static const struct {
			unsigned long n, offset;
			u64 len;
		} bad[] = {
			{ 0, 0, 0 }, { 1, 0, 0 }, { 1, 0, PAGE_SIZE + 1 },
			{ 2, 0, PAGE_SIZE }, { 2, 1, PAGE_SIZE - 1 },
			{ 3, 1, PHYR_PG(2) - 1 },
			{ 1, PAGE_SIZE - 1, 2 }, { 2, PAGE_SIZE - 1, 1 },
			{ 2, PAGE_SIZE, 1 }, { 1, ULONG_MAX, 1 },
			{ 512, 0, PHYR_PG(511) },
		};

		for (i = 0; i < ARRAY_SIZE(bad); i++) {
			op.pages = scattered;
			op.n = bad[i].n;
			op.offset = bad[i].offset;
			op.len = bad[i].len;
			if (!phyr_op_check(test, pl, m, &op, 0, false,
					   &nr_failed) ||
			    !phyr_check(test, pl, m))
				return;
		}
	}
}

/* ---- Iteration ---- */

static void phyr_test_iter_next_empty(struct kunit *test)
{
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_block_iter biter;
	struct phyr_iter iter;
	struct phyr range;
	phys_addr_t addr;
	unsigned int n = 0;

	phyr_list_for_each(pl, &iter, range)
		n++;
	phyr_list_for_each_page(pl, &biter, addr)
		n++;
	phyr_list_for_each_block(pl, &biter, addr, 21)
		n++;
	KUNIT_EXPECT_EQ(test, n, 0);
	phyr_iter_init(&iter, pl);
	KUNIT_EXPECT_FALSE(test, phyr_iter_seek(&iter, 0));
	phyr_iter_init(&iter, pl);
	KUNIT_EXPECT_FALSE(test, phyr_iter_seek(&iter, U64_MAX));
}

/* The blocks each range touches, range by range, against the model. */
static bool phyr_check_blocks(struct kunit *test, const struct phyr_list *pl,
			      const struct phyr_model *m, unsigned int shift,
			      u64 limit)
{
	struct phyr_block_iter biter;
	unsigned long i = 0, count = 0;
	phys_addr_t addr;
	u64 blk = 0, total = 0;

	for (i = 0; i < m->nr; i++) {
		total += ((m->r[i].addr + (m->r[i].len - 1)) >> shift) -
			 (m->r[i].addr >> shift) + 1;
		if (total > limit)
			return true;
	}
	i = 0;
	if (m->nr)
		blk = m->r[0].addr >> shift;
	phyr_list_for_each_block(pl, &biter, addr, shift) {
		if (i >= m->nr) {
			KUNIT_FAIL(test, "shift %u: more than %llu blocks",
				   shift, total);
			return false;
		}
		if ((u64)addr != blk << shift) {
			KUNIT_FAIL(test,
				   "shift %u: block %lu of range %lu is %#llx, expected %#llx",
				   shift, count, i, (u64)addr, blk << shift);
			return false;
		}
		count++;
		if (blk == (m->r[i].addr + (m->r[i].len - 1)) >> shift) {
			if (++i < m->nr)
				blk = m->r[i].addr >> shift;
		} else {
			blk++;
		}
	}
	if (i != m->nr || count != total) {
		KUNIT_FAIL(test, "shift %u: %lu blocks, expected %llu",
			   shift, count, total);
		return false;
	}
	return true;
}

static void phyr_test_block_iter_next(struct kunit *test)
{
	static const struct {
		u64 addr, len;
	} ranges[] = {
		{ PHYR_BASE + 100, 5000 },		/* 2 pages */
		{ PHYR_BASE + PAGE_SIZE - 1, 2 },	/* 2 pages */
		{ PHYR_BASE, PAGE_SIZE },		/* 1 page, again */
		{ PHYR_BASE + 200, 100 },		/* the same page */
		{ SZ_2M - 1, 2 },			/* two 2 MiB blocks */
		{ SZ_4M, SZ_4M },
		{ 0, 1 },
		{ PHYS_ADDR_MAX - PAGE_SIZE + 1, PAGE_SIZE },
		{ PHYS_ADDR_MAX, 1 },
	};
	static const u64 pages[] = {
		PHYR_BASE, PHYR_BASE + PAGE_SIZE, PHYR_BASE, PHYR_BASE + PAGE_SIZE,
		PHYR_BASE, PHYR_BASE, SZ_2M - PAGE_SIZE, SZ_2M,
	};
	static const unsigned int shifts[] = { 0, 9, 16, 21, 30 };
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, 3000);
	struct phyr_block_iter biter;
	struct rnd_state rnd;
	phys_addr_t addr;
	unsigned int i, n = 0;

	for (i = 0; i < ARRAY_SIZE(ranges); i++)
		if (!phyr_add(test, pl, m, ranges[i].addr, ranges[i].len,
			      i == 4))
			return;
	phyr_list_for_each_page(pl, &biter, addr) {
		if (n < ARRAY_SIZE(pages))
			KUNIT_EXPECT_EQ_MSG(test, (u64)addr, pages[n],
					    "page %u", n);
		n++;
	}
	KUNIT_EXPECT_EQ(test, n, ARRAY_SIZE(pages) + 1024 + 1 + 1 + 1);
	phyr_check_blocks(test, pl, m, PAGE_SHIFT, U64_MAX);
	for (i = 0; i < ARRAY_SIZE(shifts); i++)
		phyr_check_blocks(test, pl, m, shifts[i], 1000000);
	if (PHYR_TEST_PHYS64)
		phyr_check_blocks(test, pl, m, 63, 100);
	else
		phyr_check_blocks(test, pl, m, 31, 100);

	/* Random ranges across chunks. */
	phyr_list_destroy(pl);
	phyr_model_reset(m);
	prandom_seed_state(&rnd, PHYR_TEST_SEED);
	while (m->nr < 2500) {
		u64 len = phyr_rand(&rnd, 2) ? PHYR_PG(1 + phyr_rand(&rnd, 8)) :
					       1 + phyr_rand(&rnd, 3 * PAGE_SIZE);
		u64 a = phyr_rand_addr(&rnd, len, phyr_rand(&rnd, 2) ? PAGE_SIZE : 1);

		if (phyr_rand(&rnd, 4) && m->nr)
			a = min(m->r[m->nr - 1].addr + PHYR_PG(phyr_rand(&rnd, 32)),
				PHYR_TEST_MAX - (len - 1));
		if (!phyr_add(test, pl, m, a, len, !phyr_rand(&rnd, 10)))
			return;
	}
	if (!phyr_check(test, pl, m))
		return;
	phyr_check_blocks(test, pl, m, PAGE_SHIFT, U64_MAX);
	phyr_check_blocks(test, pl, m, 12, U64_MAX);
	phyr_check_blocks(test, pl, m, 21, U64_MAX);
}

/* ---- Seek ---- */

static void phyr_test_iter_seek_single(struct kunit *test)
{
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, 2);
	const u64 len = PHYR_PG(3) + 5;
	const u64 offs[] = {
		0, 1, 99, 100, PAGE_SIZE - 1, PAGE_SIZE, len - 2, len - 1, len,
		len + 1, SZ_4G, U64_MAX,
	};
	unsigned int i, p2p;

	for (p2p = 0; p2p < 2; p2p++) {
		phyr_list_destroy(pl);
		phyr_model_reset(m);
		if (!phyr_add(test, pl, m, PHYR_BASE + 100, len, p2p))
			return;
		for (i = 0; i < ARRAY_SIZE(offs); i++)
			if (!phyr_check_seek(test, pl, m, offs[i], ULONG_MAX))
				return;
		KUNIT_EXPECT_EQ(test, phyr_list_mem_bytes(pl), 0);
	}

	/* A range that ends at the top of the address space. */
	phyr_list_destroy(pl);
	phyr_model_reset(m);
	if (!phyr_add(test, pl, m, PHYS_ADDR_MAX - len + 1, len, false))
		return;
	for (i = 0; i < ARRAY_SIZE(offs); i++)
		if (!phyr_check_seek(test, pl, m, offs[i], ULONG_MAX))
			return;
}

/* Every range boundary and its neighbours in a list of many chunks. */
static void phyr_test_iter_seek_chunks(struct kunit *test)
{
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, 6000);
	struct phyr_iter iter;
	struct rnd_state rnd;
	unsigned long i;

	prandom_seed_state(&rnd, PHYR_TEST_SEED);
	if (!phyr_fill(test, pl, m, &rnd, 6000, true))
		return;
	KUNIT_ASSERT_GE(test, phyr_list_mem_bytes(pl), 4 * PAGE_SIZE);
	for (i = 0; i < m->nr; i++) {
		const struct phyr_model_range *r = &m->r[i];
		unsigned long follow = i % 250 ? 2 : ULONG_MAX;

		if ((r->start && !phyr_check_seek(test, pl, m, r->start - 1,
						  follow)) ||
		    !phyr_check_seek(test, pl, m, r->start, follow) ||
		    !phyr_check_seek(test, pl, m, r->start + 1, follow) ||
		    !phyr_check_seek(test, pl, m, r->start + r->len - 1,
				     follow) ||
		    !phyr_check_seek(test, pl, m,
				     r->start + (r->len >> 1), 0))
			return;
	}
	for (i = 0; i < 3; i++)
		phyr_check_seek(test, pl, m, m->length + i, 0);
	phyr_check_seek(test, pl, m, U64_MAX, 0);

	/* One iterator, seeking back and forth, also after the end. */
	phyr_iter_init(&iter, pl);
	for (i = 0; i < 3000; i++) {
		u64 off = phyr_rand_in(&rnd, 0, m->length);

		if (!phyr_check_seek_iter(test, &iter, m, off, i % 3))
			return;
	}
}

/*
 * Lists shaped to take each way a seek goes inside a leaf: one page per
 * entry (found from a mark in O(1)), runs of 4-byte entries (scanned from
 * a mark, or back from the next one), entries of other forms among them
 * (scanned forward), and offsets that marks cannot hold (byte-granular
 * ranges, leaves of more than 2^13 - 2 pages).
 */
struct phyr_marks_case {
	const char *desc;
	u32 max_pages;		/* runs of 1 to @max_pages pages */
	u32 bytes_every;	/* every n-th range byte-granular, 0: none */
	u32 p2p_every;		/* every n-th range P2P, 0: none */
};

static const struct phyr_marks_case phyr_marks_cases[] = {
	{ "single pages", 1, 0, 0 },
	{ "runs of 1-8 pages", 8, 0, 0 },
	{ "runs of 1-8 pages, P2P among them", 8, 0, 37 },
	{ "runs of 1-8 pages, byte-granular among them", 8, 700, 0 },
	{ "runs of 1-1024 pages", 1024, 0, 0 },
};

KUNIT_ARRAY_PARAM_DESC(phyr_marks, phyr_marks_cases, desc);

static void phyr_test_iter_seek_marks(struct kunit *test)
{
	const struct phyr_marks_case *c = test->param_value;
	const unsigned long nr = 5000, nr_slots = 1UL << 14;
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, nr);
	u64 slot_len = PHYR_PG(2 * c->max_pages);
	struct rnd_state rnd;
	unsigned long i;

	if (!phyr_model_fits(PHYR_BASE + nr_slots * slot_len, 1))
		kunit_skip(test, "needs a 64-bit phys_addr_t");
	prandom_seed_state(&rnd, PHYR_TEST_SEED);
	/* Each range at the start of a random slot: no two of them touch. */
	for (i = 1; i <= nr; i++) {
		u64 addr = PHYR_BASE + phyr_rand(&rnd, nr_slots) * slot_len;
		u64 len = PHYR_PG(1 + phyr_rand(&rnd, c->max_pages));

		if (c->bytes_every && !(i % c->bytes_every))
			addr += 100;
		m->quick = i < nr;
		if (!phyr_add(test, pl, m, addr, len,
			      c->p2p_every && !(i % c->p2p_every)))
			return;
	}
	KUNIT_ASSERT_GE(test, phyr_list_mem_bytes(pl), 4 * PAGE_SIZE);
	for (i = 0; i < m->nr; i++) {
		const struct phyr_model_range *r = &m->r[i];

		if (!phyr_check_seek(test, pl, m, r->start, 1) ||
		    !phyr_check_seek(test, pl, m, r->start + r->len - 1, 1) ||
		    !phyr_check_seek(test, pl, m, r->start + r->len / 2, 0))
			return;
	}
}

/*
 * Readers of one list, each with an iterator of its own that it keeps
 * and seeks ahead with, taking turns: mostly a few bytes to a few ranges
 * ahead (from where the iterator is), sometimes far ahead or back (its
 * leaf, the next one, or from the root).  Each seek and the range after
 * it must match the model, whatever the other iterators did.  Then one
 * iterator jumps from every range to range starts ahead of it, which
 * are leaf starts for some.
 */
static void phyr_test_iter_cursors(struct kunit *test)
{
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, 6000);
	struct phyr_iter iter[8];
	u64 off[ARRAY_SIZE(iter)];
	struct rnd_state rnd;
	unsigned long i, k;

	prandom_seed_state(&rnd, PHYR_TEST_SEED);
	if (!phyr_fill(test, pl, m, &rnd, 6000, true))
		return;
	for (k = 0; k < ARRAY_SIZE(iter); k++) {
		phyr_iter_init(&iter[k], pl);
		off[k] = phyr_rand_in(&rnd, 0, m->length);
	}
	for (i = 0; i < 20000; i++) {
		const struct phyr_model_range *r;

		k = phyr_rand(&rnd, ARRAY_SIZE(iter));
		r = off[k] < m->length ? &m->r[phyr_model_find(m, off[k])] :
					 NULL;
		switch (phyr_rand(&rnd, 8)) {
		case 0:
			off[k] = phyr_rand_in(&rnd, 0, m->length);
			break;
		case 1:
			off[k] += phyr_rand_in(&rnd, 0, m->length / 64);
			break;
		case 2:
			/* The first byte of a range a few ahead. */
			if (r && r + 3 < m->r + m->nr)
				off[k] = r[phyr_rand(&rnd, 4)].start;
			break;
		case 3:
			/* The last byte of this range or the next. */
			if (r && r + 1 < m->r + m->nr)
				off[k] = r[phyr_rand(&rnd, 2)].start +
					 r[phyr_rand(&rnd, 2)].len - 1;
			break;
		default:
			off[k] += phyr_rand_in(&rnd, 0, PHYR_PG(4));
			break;
		}
		if (off[k] >= m->length)
			off[k] = phyr_rand(&rnd, 2) ? m->length : 0;
		if (!phyr_check_seek_iter(test, &iter[k], m, off[k], i % 2))
			return;
	}

	/* From every range to the start of ranges 1 to 2000 ahead. */
	for (i = 0; i < m->nr; i++) {
		static const unsigned long ahead[] = { 1, 3, 40, 300, 2000 };

		for (k = 0; k < ARRAY_SIZE(ahead) && i + ahead[k] < m->nr; k++)
			if (!phyr_check_seek_iter(test, &iter[0], m,
						  m->r[i].start, 0) ||
			    !phyr_check_seek_iter(test, &iter[0], m,
						  m->r[i + ahead[k]].start, 0))
				return;
	}
}

/* ---- Preload ---- */

/*
 * After a preload of @n, @n appends of the most expensive kinds -- new
 * P2P and long ranges, deltas, and merges that grow the last entry -- do
 * not allocate.  Appends after that eventually need an allocation, which
 * fails cleanly.
 */
static bool phyr_preload_check(struct kunit *test, struct phyr_list *pl,
			       struct phyr_model *m, struct rnd_state *rnd,
			       unsigned long n)
{
	struct phyr_op op = { .kind = PHYR_OP_PRELOAD, .n = n };
	unsigned long nr_failed = 0, i;
	size_t mem = phyr_list_mem_bytes(pl);
	u64 addr = SZ_4M;

	if (!phyr_op_check(test, pl, m, &op, 0, false, &nr_failed))
		return false;
	KUNIT_EXPECT_GE(test, phyr_list_mem_bytes(pl), mem);
	for (i = 0; i < n; i++) {
		op.kind = PHYR_OP_APPEND;
		switch (phyr_rand(rnd, 4)) {
		case 0:
			op.kind = PHYR_OP_APPEND_P2P;
			fallthrough;
		case 1:
			op.addr = phyr_rand_addr(rnd, SZ_1G + 1, 1);
			op.len = SZ_1G + 1;
			break;
		case 2:
			op.addr = addr + PAGE_SIZE;
			op.len = PAGE_SIZE;
			break;
		default:
			/* Merge: grows a 1-page entry past 2^29 bytes. */
			op.addr = addr;
			op.len = PHYR_BYTES_MAX + 1;
			break;
		}
		if (!phyr_op_check(test, pl, m, &op, 0, true, &nr_failed)) {
			KUNIT_FAIL(test, "append %lu of %lu after preload", i + 1, n);
			return false;
		}
		addr = m->r[m->nr - 1].addr + m->r[m->nr - 1].len;
		if (addr > SZ_1G)
			addr = SZ_4M + PHYR_PG(phyr_rand(rnd, 1024));
	}
	if (!phyr_check(test, pl, m))
		return false;

	/* The next chunk is not preloaded: its allocation fails cleanly. */
	for (i = 0; i < 1000000; i++) {
		op.kind = PHYR_OP_APPEND_P2P;
		op.addr = phyr_rand_addr(rnd, PAGE_SIZE, PAGE_SIZE);
		op.len = PAGE_SIZE;
		if (!phyr_op_check(test, pl, m, &op, 1, false, &nr_failed))
			return false;
		if (nr_failed)
			return phyr_check(test, pl, m);
	}
	KUNIT_FAIL(test, "%lu appends after a preload of %lu never allocated",
		   i, n);
	return false;
}

static void phyr_test_list_preload(struct kunit *test)
{
	static const unsigned long sizes[] = { 0, 1, 2, 3, 50, 300, 5000 };
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, 15000);
	struct rnd_state rnd;
	unsigned int i, j;

	phyr_need_fault_injection(test);
	prandom_seed_state(&rnd, PHYR_TEST_SEED);
	for (i = 0; i < ARRAY_SIZE(phyr_states); i++) {
		for (j = 0; j < ARRAY_SIZE(sizes); j++) {
			if (!phyr_build(test, pl, m, phyr_states[i]) ||
			    !phyr_preload_check(test, pl, m, &rnd, sizes[j])) {
				KUNIT_FAIL(test, "preload of %lu in a list of %lu ranges",
					   sizes[j], phyr_states[i]);
				return;
			}
		}
	}

	/* Two preloads: the larger one holds. */
	if (!phyr_build(test, pl, m, 2))
		return;
	KUNIT_EXPECT_EQ(test, phyr_list_preload(pl, 10, GFP_KERNEL), 0);
	if (!phyr_preload_check(test, pl, m, &rnd, 400))
		return;
	KUNIT_EXPECT_EQ(test, phyr_list_preload(pl, 400, GFP_KERNEL), 0);
	phyr_preload_check(test, pl, m, &rnd, 10);
}

/*
 * A preload before every append, while the list grows through many leaves
 * and a new level of index nodes: each preload must cover whatever the
 * tree needs at that point.  The first 3000 ranges are appended without
 * preloading, so that the first index node is a small one that fills up.
 */
static void phyr_test_list_preload_each(struct kunit *test)
{
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, 12000);
	struct phyr_op op = { .kind = PHYR_OP_PRELOAD };
	unsigned long nr_failed = 0, i;
	struct rnd_state rnd;

	phyr_need_fault_injection(test);
	prandom_seed_state(&rnd, PHYR_TEST_SEED);
	for (i = 0; i < 12000; i++) {
		bool preload = i >= 3000;

		op.kind = PHYR_OP_PRELOAD;
		op.n = 1 + phyr_rand(&rnd, 3);
		if (preload &&
		    !phyr_op_check(test, pl, m, &op, 0, false, &nr_failed))
			return;
		op.kind = phyr_rand(&rnd, 8) ? PHYR_OP_APPEND_P2P :
					       PHYR_OP_APPEND;
		op.addr = PHYR_PG(2 * i + 1);
		op.len = PAGE_SIZE;
		if (!phyr_op_check(test, pl, m, &op, 0, preload, &nr_failed)) {
			KUNIT_FAIL(test, "append %lu after a preload of %lu",
				   i, op.n);
			return;
		}
	}
	phyr_check(test, pl, m);
}

static void phyr_test_first_alloc(struct kunit *test, struct phyr_list *pl,
				  struct phyr_model *m, unsigned long n)
{
	struct phyr_op op = { .kind = PHYR_OP_APPEND_P2P, .len = PAGE_SIZE };
	unsigned long nr_failed = 0, i;

	for (i = 0; i < 100000 && m->nr < m->cap; i++) {
		op.addr = PHYR_PG(2 * i + 1);
		if (!phyr_op_check(test, pl, m, &op, 1, false, &nr_failed))
			return;
		if (nr_failed) {
			KUNIT_FAIL(test, "append %lu after preload(%#lx) allocated",
				   i + 1, n);
			return;
		}
	}
}

/*
 * A preload too large to be met must fail.  The 64th allocation is made
 * to fail, so an implementation that tries fails cleanly; succeeding means
 * that the reservation was computed wrongly (for instance it overflowed),
 * and the appends it promises would allocate.
 */
static void phyr_test_list_preload_huge(struct kunit *test)
{
	static const unsigned long sizes[] = {
		ULONG_MAX, ULONG_MAX - 1, ULONG_MAX - 100, ULONG_MAX - 1000,
		ULONG_MAX / 2, ULONG_MAX / 4 + 1,
	};
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, 4000);
	unsigned int i, j, left;
	struct phyr_snap snap;
	int ret;

	phyr_need_fault_injection(test);
	for (i = 0; i < ARRAY_SIZE(phyr_states); i++) {
		for (j = 0; j < ARRAY_SIZE(sizes); j++) {
			if (!phyr_build(test, pl, m, phyr_states[i]))
				return;
			phyr_snap(pl, NULL, &snap);
			phyr_fail_nth_set(64);
			ret = phyr_list_preload(pl, sizes[j], GFP_KERNEL);
			left = phyr_fail_nth_take();
			KUNIT_EXPECT_EQ_MSG(test, ret, -ENOMEM,
					    "preload(%#lx) in a list of %lu ranges made %u allocations",
					    sizes[j], phyr_states[i], 64 - left);
			if (ret) {
				phyr_check_same(test, pl, m, NULL, NULL, &snap,
						"after a failed preload");
				continue;
			}
			/* Show the broken promise: an append allocates. */
			m->preloaded = true;
			phyr_test_first_alloc(test, pl, m, sizes[j]);
		}
	}
}

/* A preload covers the ranges append_pages() adds. */
static void phyr_test_list_preload_pages(struct kunit *test)
{
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, 1100);
	struct phyr_op op = { .kind = PHYR_OP_PAGES };
	unsigned long nr_failed = 0;
	struct phyr_test_mem *mem;
	struct rnd_state rnd;

	phyr_need_fault_injection(test);
	prandom_seed_state(&rnd, PHYR_TEST_SEED);
	mem = phyr_test_mem_alloc(test, 1024, 0, &rnd);
	KUNIT_ASSERT_NOT_NULL(test, mem);
	if (!phyr_build(test, pl, m, 1))
		return;
	KUNIT_ASSERT_EQ(test, phyr_list_preload(pl, 1024, GFP_KERNEL), 0);
	m->preloaded = true;
	op.pages = mem->pages;
	op.n = 1024;
	op.offset = 1;
	op.len = PHYR_PG(1024) - 2;
	if (phyr_op_check(test, pl, m, &op, 0, true, &nr_failed))
		phyr_check(test, pl, m);
}

/* ---- Allocation failure at every site ---- */

static void phyr_test_append_fault(struct kunit *test)
{
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, 4000);
	struct phyr_op op = {};
	unsigned long nr_failed = 0, step;
	struct rnd_state rnd;

	phyr_need_fault_injection(test);
	prandom_seed_state(&rnd, PHYR_TEST_SEED);
	for (step = 0; m->nr < 3500; step++) {
		phyr_rand_range(&rnd, m, true, &op.addr, &op.len);
		op.kind = phyr_rand(&rnd, 5) ? PHYR_OP_APPEND :
					       PHYR_OP_APPEND_P2P;
		if (!phyr_sweep(test, pl, m, &op, &nr_failed)) {
			KUNIT_FAIL(test, "step %lu, %lu ranges", step, m->nr);
			return;
		}
	}
	KUNIT_EXPECT_GT(test, nr_failed, 3);
	kunit_info(test, "%lu appends, %lu allocation failures, %zu bytes\n",
		   step, nr_failed, phyr_list_mem_bytes(pl));
}

/* Enough P2P ranges for two levels of index nodes. */
static void phyr_test_append_fault_deep(struct kunit *test)
{
	const unsigned long nr = 40000;
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, nr);
	struct phyr_op op = { .kind = PHYR_OP_APPEND_P2P, .len = PAGE_SIZE };
	unsigned long nr_failed = 0, i;

	phyr_need_fault_injection(test);
	for (i = 0; i < nr; i++) {
		op.addr = PHYR_PG(2 * i + 1);
		m->quick = i % 4096;
		if (!phyr_sweep(test, pl, m, &op, &nr_failed)) {
			KUNIT_FAIL(test, "range %lu", i);
			return;
		}
	}
	m->quick = false;
	phyr_check(test, pl, m);
	KUNIT_EXPECT_GT(test, nr_failed, 150);
	kunit_info(test, "%lu ranges, %lu allocation failures, %zu bytes\n",
		   nr, nr_failed, phyr_list_mem_bytes(pl));
}

static void phyr_test_append_pages_fault(struct kunit *test)
{
	static const struct {
		unsigned long n, offset, tail;
	} calls[] = {
		{ 6144, 0, 0 }, { 2048, 123, 45 }, { 1, 7, 9 }, { 2, 0, 0 },
		{ 600, PAGE_SIZE - 1, PAGE_SIZE - 1 },
	};
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, 9000);
	struct phyr_op op = { .kind = PHYR_OP_PAGES };
	unsigned long nr_failed = 0, before;
	struct phyr_test_mem *mem, *folio;
	struct page **pages;
	struct rnd_state rnd;
	unsigned int i, j;

	phyr_need_fault_injection(test);
	prandom_seed_state(&rnd, PHYR_TEST_SEED);
	mem = phyr_test_mem_alloc(test, 2048, 0, &rnd);
	KUNIT_ASSERT_NOT_NULL(test, mem);
	/* The same pages three times over: enough for several leaves. */
	pages = kunit_kmalloc_array(test, 6144, sizeof(*pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	for (i = 0; i < 6144; i++)
		pages[i] = mem->pages[i % 2048];
	for (i = 0; i < 2 * ARRAY_SIZE(phyr_states); i++) {
		for (j = 0; j < ARRAY_SIZE(calls); j++) {
			unsigned long state = phyr_states[i / 2];

			if (!phyr_build(test, pl, m, state))
				return;
			/*
			 * Odd rounds: spares that cover the first part of the
			 * call, which a failure later on must give back.
			 */
			if (i & 1) {
				KUNIT_ASSERT_EQ(test, phyr_list_preload(pl, 1,
									GFP_KERNEL), 0);
				m->preloaded = true;
			}
			op.pages = pages + min_t(unsigned long, j,
						 6144 - calls[j].n);
			op.n = calls[j].n;
			op.offset = calls[j].offset;
			op.len = PHYR_PG(op.n) - op.offset - calls[j].tail;
			before = nr_failed;
			if (!phyr_sweep(test, pl, m, &op, &nr_failed)) {
				KUNIT_FAIL(test, "call %u in a list of %lu ranges, round %u",
					   j, state, i);
				return;
			}
			if (op.n > 6000)
				KUNIT_EXPECT_GT(test, nr_failed, before);
		}
	}

	/* A folio's pages, appended to a full list. */
	folio = phyr_test_mem_alloc(test, 1, 9, NULL);
	if (!folio)
		return;
	op.pages = folio->pages;
	op.n = 512;
	op.offset = 0;
	op.len = SZ_2M;
	for (i = 0; i < ARRAY_SIZE(phyr_states); i++)
		if (!phyr_build(test, pl, m, phyr_states[i]) ||
		    !phyr_sweep(test, pl, m, &op, &nr_failed))
			return;
}

static void phyr_test_list_preload_fault(struct kunit *test)
{
	static const unsigned long sizes[] = { 1, 2, 64, 1000, 20000 };
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, 40000);
	struct phyr_op op = { .kind = PHYR_OP_PRELOAD };
	unsigned long nr_failed = 0;
	struct rnd_state rnd;
	unsigned int i, j;

	phyr_need_fault_injection(test);
	prandom_seed_state(&rnd, PHYR_TEST_SEED);
	for (i = 0; i < ARRAY_SIZE(phyr_states); i++) {
		for (j = 0; j < ARRAY_SIZE(sizes); j++) {
			if (!phyr_build(test, pl, m, phyr_states[i]))
				return;
			op.n = sizes[j];
			if (!phyr_sweep(test, pl, m, &op, &nr_failed) ||
			    !phyr_preload_check(test, pl, m, &rnd, sizes[j])) {
				KUNIT_FAIL(test, "preload of %lu in a list of %lu ranges",
					   sizes[j], phyr_states[i]);
				return;
			}
		}
	}
	KUNIT_EXPECT_GT(test, nr_failed, 10);
}

/* ---- Splice ---- */

/* Preloads @pl for @n appends, through the model. */
static bool phyr_preload_model(struct kunit *test, struct phyr_list *pl,
			       struct phyr_model *m, unsigned long n)
{
	struct phyr_op op = { .kind = PHYR_OP_PRELOAD, .n = n };
	unsigned long nr_failed = 0;

	return phyr_op_check(test, pl, m, &op, 0, false, &nr_failed);
}

/*
 * Builds the source of a splice: @state ranges as phyr_build() makes them
 * but from a seed of their own, then preloaded for @preload appends.
 */
static bool phyr_build_src(struct kunit *test, struct phyr_list *src,
			   struct phyr_model *m, unsigned long state,
			   unsigned long preload)
{
	struct rnd_state rnd;
	bool ok;

	phyr_list_destroy(src);
	phyr_model_reset(m);
	prandom_seed_state(&rnd, PHYR_TEST_SEED + 1000 + state);
	if (state == 1)
		ok = phyr_add(test, src, m, PHYR_BASE + SZ_1M, PAGE_SIZE, false);
	else
		ok = phyr_fill(test, src, m, &rnd, state, true);
	return ok && (!preload || phyr_preload_model(test, src, m, preload));
}

/* Splicing an empty list allocates nothing and changes neither list. */
static void phyr_test_splice_empty_src(struct kunit *test)
{
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_list *src = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, 2000);
	struct phyr_model *src_m = phyr_model_new(test, 1);
	struct phyr_op op = { .kind = PHYR_OP_SPLICE, .src = src, .src_m = src_m };
	unsigned long nr_failed = 0;
	struct phyr_snap s;
	unsigned int i, k;

	for (i = 0; i < ARRAY_SIZE(phyr_states); i++) {
		for (k = 0; k < 4; k++) {
			/* Either list may hold spares; the source keeps its. */
			if (!phyr_build(test, pl, m, phyr_states[i]) ||
			    (k & 1 && !phyr_preload_model(test, pl, m, 2)))
				return;
			phyr_list_destroy(src);
			phyr_model_reset(src_m);
			if (k & 2 && !phyr_preload_model(test, src, src_m, 2))
				return;
			phyr_snap(pl, src, &s);
			if (!phyr_op_check(test, pl, m, &op, 0, true, &nr_failed) ||
			    !phyr_check_same(test, pl, m, src, src_m, &s,
					     "after splicing an empty list")) {
				KUNIT_FAIL(test, "into a list of %lu ranges, round %u",
					   phyr_states[i], k);
				return;
			}
		}
	}
}

/*
 * Into an empty list without chunks, a splice moves the source's storage
 * over in O(1): no allocation, the source's fields as they were, and the
 * source left empty, without chunks and ready for reuse.  An empty list
 * that holds spares copies instead.
 */
static void phyr_test_splice_empty_dst(struct kunit *test)
{
	static const unsigned long sizes[] = { 1, 2, 1500 };
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_list *src = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, 2000);
	struct phyr_model *src_m = phyr_model_new(test, 2000);
	struct phyr_op op = { .kind = PHYR_OP_SPLICE, .src = src, .src_m = src_m };
	struct phyr_op back = { .kind = PHYR_OP_SPLICE, .src = pl, .src_m = m };
	unsigned long nr_failed = 0;
	struct rnd_state rnd;
	struct phyr_list was;
	unsigned int i, k;
	size_t mem;
	long live;

	prandom_seed_state(&rnd, PHYR_TEST_SEED);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		for (k = 0; k < 2; k++) {
			phyr_list_destroy(pl);
			phyr_model_reset(m);
			if (!phyr_build_src(test, src, src_m, sizes[i], k ? 3 : 0))
				return;
			was = *src;
			mem = phyr_list_mem_bytes(src);
			live = phyr_chunks_live();
			if (!phyr_op_check(test, pl, m, &op, 0, true, &nr_failed) ||
			    !phyr_check(test, pl, m))
				return;
			KUNIT_EXPECT_TRUE_MSG(test, phyr_list_same(pl, &was),
					      "%lu ranges, preloaded %u: not moved over",
					      sizes[i], k);
			KUNIT_EXPECT_EQ(test, phyr_list_mem_bytes(pl), mem);
			KUNIT_EXPECT_EQ(test, phyr_chunks_live(), live);
			KUNIT_EXPECT_TRUE(test, phyr_list_empty(src));
			KUNIT_EXPECT_EQ(test, phyr_list_mem_bytes(src), 0);

			/* The source takes ranges again; they are copied. */
			if (!phyr_fill(test, src, src_m, &rnd, 300, true) ||
			    !phyr_op_check(test, pl, m, &op, 0, false,
					   &nr_failed) ||
			    !phyr_check(test, pl, m))
				return;
			KUNIT_EXPECT_EQ(test, phyr_list_mem_bytes(src), 0);

			/* And back into the emptied source: moved again. */
			was = *pl;
			if (!phyr_op_check(test, src, src_m, &back, 0, true,
					   &nr_failed) ||
			    !phyr_check(test, src, src_m))
				return;
			KUNIT_EXPECT_TRUE(test, phyr_list_same(src, &was));
			KUNIT_EXPECT_EQ(test, phyr_list_mem_bytes(pl), 0);
		}
	}

	/* An empty list with spares keeps them and copies the ranges. */
	phyr_list_destroy(pl);
	phyr_model_reset(m);
	if (!phyr_preload_model(test, pl, m, 2) ||
	    !phyr_build_src(test, src, src_m, 1500, 0))
		return;
	mem = phyr_list_mem_bytes(pl);
	if (!phyr_op_check(test, pl, m, &op, 0, false, &nr_failed) ||
	    !phyr_check(test, pl, m))
		return;
	KUNIT_EXPECT_GE(test, phyr_list_mem_bytes(pl), mem);
	KUNIT_EXPECT_EQ(test, phyr_list_mem_bytes(src), 0);
}

/*
 * Onto a list of one inline range: a source of one range that merges
 * leaves one inline range without allocating; one that touches but is of
 * the other kind (host or P2P), or lies apart, makes two ranges; a long
 * source follows the merged first range.
 */
static void phyr_test_splice_single(struct kunit *test)
{
	static const struct {
		const char *desc;
		bool pl_p2p, p2p;
		u64 gap;			/* after the list's range */
		unsigned long nr;		/* ranges in the source */
		unsigned long nr_ranges;	/* ranges in the result */
	} cases[] = {
		{ "merge", false, false, 0, 1, 1 },
		{ "merge p2p", true, true, 0, 1, 1 },
		{ "touch, host then p2p", false, true, 0, 1, 2 },
		{ "touch, p2p then host", true, false, 0, 1, 2 },
		{ "apart", false, false, PAGE_SIZE, 1, 2 },
		{ "merge, then many", false, false, 0, 1500, 1500 },
		{ "touch p2p, then many", false, true, 0, 1500, 1501 },
	};
	const u64 addr = PHYR_BASE + 100, len = 5000;
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_list *src = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, 2000);
	struct phyr_model *src_m = phyr_model_new(test, 2000);
	struct phyr_op op = { .kind = PHYR_OP_SPLICE, .src = src, .src_m = src_m };
	unsigned long nr_failed = 0;
	struct rnd_state rnd;
	struct phyr_iter iter;
	struct phyr range;
	unsigned int i;
	bool merge;
	u64 first;

	prandom_seed_state(&rnd, PHYR_TEST_SEED);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		merge = !cases[i].gap && cases[i].pl_p2p == cases[i].p2p;
		phyr_list_destroy(pl);
		phyr_model_reset(m);
		phyr_list_destroy(src);
		phyr_model_reset(src_m);
		if (!phyr_add(test, pl, m, addr, len, cases[i].pl_p2p) ||
		    !phyr_add(test, src, src_m, addr + len + cases[i].gap,
			      PAGE_SIZE, cases[i].p2p) ||
		    !phyr_fill(test, src, src_m, &rnd, cases[i].nr, true))
			return;
		KUNIT_ASSERT_EQ(test, phyr_list_mem_bytes(pl), 0);
		first = src_m->r[0].len;
		if (!phyr_op_check(test, pl, m, &op, 0, cases[i].nr_ranges == 1,
				   &nr_failed) ||
		    !phyr_check(test, pl, m)) {
			KUNIT_FAIL(test, "case %s", cases[i].desc);
			return;
		}
		KUNIT_EXPECT_EQ_MSG(test, phyr_list_nr_ranges(pl),
				    cases[i].nr_ranges, "case %s", cases[i].desc);
		if (cases[i].nr_ranges == 1)
			KUNIT_EXPECT_EQ_MSG(test, phyr_list_mem_bytes(pl), 0,
					    "case %s", cases[i].desc);
		/* The first range, worked out here rather than by the model. */
		phyr_iter_init(&iter, pl);
		KUNIT_ASSERT_TRUE(test, phyr_iter_next(&iter, &range));
		KUNIT_EXPECT_EQ_MSG(test, (u64)range.addr, addr, "case %s",
				    cases[i].desc);
		KUNIT_EXPECT_EQ_MSG(test, range.len,
				    merge ? len + first : len, "case %s",
				    cases[i].desc);
		KUNIT_EXPECT_EQ_MSG(test, !!(iter.flags & PHYR_RANGE_P2P),
				    cases[i].pl_p2p, "case %s", cases[i].desc);
	}
}

/*
 * Long lists on both sides, meeting in every way: the source's first range
 * starts where the list's last one ends, host or P2P on either side, or a
 * page further on.  The result must be the concatenation, range by range,
 * with the two ranges at the seam merged exactly when both are host memory
 * or both P2P.  The concatenation is built here by hand, and the model
 * must agree with it too.
 */
static void phyr_test_splice_chunked(struct kunit *test)
{
	static const struct {
		bool pl_p2p, p2p, apart;
	} seams[] = {
		{ false, false, false }, { true, true, false },
		{ false, true, false }, { true, false, false },
		{ false, false, true }, { true, true, true },
	};
	const unsigned long nr = 3000, nr_src = 2500;
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_list *src = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, nr + nr_src + 2);
	struct phyr_model *src_m = phyr_model_new(test, nr_src);
	struct phyr_model *exp = phyr_model_new(test, nr + nr_src + 2);
	struct phyr_op op = { .kind = PHYR_OP_SPLICE, .src = src, .src_m = src_m };
	unsigned long nr_failed = 0, nr_pl, i, j;
	struct rnd_state rnd;
	u64 seam, off;
	bool merge;

	for (i = 0; i < ARRAY_SIZE(seams); i++) {
		merge = !seams[i].apart && seams[i].pl_p2p == seams[i].p2p;
		phyr_list_destroy(pl);
		phyr_model_reset(m);
		phyr_list_destroy(src);
		phyr_model_reset(src_m);
		prandom_seed_state(&rnd, PHYR_TEST_SEED + i);
		/* The list's last range ends at @seam. */
		seam = PHYR_BASE + PHYR_PG(2 * i + 1);
		if (!phyr_fill(test, pl, m, &rnd, nr, true) ||
		    !phyr_add(test, pl, m, seam - PAGE_SIZE, PAGE_SIZE,
			      seams[i].pl_p2p) ||
		    !phyr_add(test, src, src_m,
			      seam + (seams[i].apart ? PAGE_SIZE : 0),
			      PHYR_PG(2), seams[i].p2p) ||
		    !phyr_fill(test, src, src_m, &rnd, nr_src, true))
			return;
		KUNIT_ASSERT_GT(test, phyr_list_mem_bytes(pl), 2 * PAGE_SIZE);
		KUNIT_ASSERT_GT(test, phyr_list_mem_bytes(src), 2 * PAGE_SIZE);

		/* The concatenation, by hand. */
		phyr_model_reset(exp);
		memcpy(exp->r, m->r, m->nr * sizeof(*exp->r));
		exp->nr = m->nr;
		for (j = 0; j < src_m->nr; j++) {
			struct phyr_model_range r = src_m->r[j];

			if (!j && merge) {
				exp->r[exp->nr - 1].len += r.len;
				continue;
			}
			r.start += m->length;
			exp->r[exp->nr++] = r;
		}
		exp->length = m->length + src_m->length;
		exp->max_addr = max(m->max_addr, src_m->max_addr);
		exp->p2p = m->p2p || src_m->p2p;
		off = m->length;
		nr_pl = m->nr;

		if (!phyr_op_check(test, pl, m, &op, 0, false, &nr_failed) ||
		    !phyr_check(test, pl, exp) || !phyr_check(test, pl, m)) {
			KUNIT_FAIL(test, "seam %lu", i);
			return;
		}
		KUNIT_EXPECT_EQ_MSG(test, phyr_list_nr_ranges(pl),
				    nr_pl + nr_src - merge, "seam %lu", i);
		/* Seeks around the seam. */
		for (j = 0; j < 3; j++)
			if (!phyr_check_seek(test, pl, exp, off + j - 1, 3))
				return;
	}
}

/*
 * A splice whose total length would overflow fails with -EOVERFLOW and
 * leaves both lists exactly as they were; one that makes U64_MAX bytes in
 * all goes through.
 */
static void phyr_test_splice_overflow(struct kunit *test)
{
	static const unsigned long src_states[] = { 1, 2, 1500 };
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_list *src = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, 4000);
	struct phyr_model *src_m = phyr_model_new(test, 2000);
	struct phyr_op op = { .kind = PHYR_OP_SPLICE, .src = src, .src_m = src_m };
	unsigned long nr_failed = 0;
	unsigned int i, j, fits;
	struct phyr_snap s;
	u64 room;

	if (!PHYR_TEST_PHYS64)
		kunit_skip(test, "a 32-bit phys_addr_t cannot describe 2^64 bytes in a list");
	for (i = 0; i < ARRAY_SIZE(phyr_states); i++) {
		for (j = 0; j < ARRAY_SIZE(src_states); j++) {
			for (fits = 0; fits < 2; fits++) {
				if (!phyr_build_src(test, src, src_m,
						    src_states[j], 0) ||
				    !phyr_build(test, pl, m, phyr_states[i]))
					return;
				/* Top the list up to one byte too many, or none. */
				room = U64_MAX - src_m->length - m->length +
				       !fits;
				if (!phyr_add(test, pl, m, 0, room - (room >> 1),
					      false) ||
				    !phyr_add(test, pl, m, room - (room >> 1),
					      room >> 1, false))
					return;
				phyr_snap(pl, src, &s);
				if (!fits) {
					KUNIT_EXPECT_EQ(test,
							phyr_list_splice(pl, src,
									 GFP_KERNEL),
							-EOVERFLOW);
					if (!phyr_check_same(test, pl, m, src,
							     src_m, &s,
							     "after -EOVERFLOW"))
						return;
				}
				if (!phyr_op_check(test, pl, m, &op, 0, false,
						   &nr_failed) ||
				    !phyr_check(test, pl, m))
					return;
				if (fits)
					KUNIT_EXPECT_EQ(test, phyr_list_length(pl),
							U64_MAX);
			}
		}
	}

	/* A source of U64_MAX bytes onto a list of one byte. */
	phyr_list_destroy(src);
	phyr_model_reset(src_m);
	phyr_list_destroy(pl);
	phyr_model_reset(m);
	if (!phyr_add(test, src, src_m, 0, U64_MAX, false) ||
	    !phyr_add(test, pl, m, PHYR_BASE, 1, true))
		return;
	KUNIT_EXPECT_EQ(test, phyr_op_model(test, m, &op, false), -EOVERFLOW);
	phyr_op_check(test, pl, m, &op, 0, false, &nr_failed);
}

/*
 * Fails each allocation of a splice in turn, onto lists of every size and
 * from sources of every size, either preloaded or not: -ENOMEM must leave
 * both lists exactly as they were and leak no chunk, until the splice gets
 * through (phyr_sweep()).
 */
static void phyr_test_splice_fault(struct kunit *test)
{
	static const unsigned long src_states[] = { 1, 2, 1500, 5000 };
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_list *src = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, 8000);
	struct phyr_model *src_m = phyr_model_new(test, 5000);
	struct phyr_op op = { .kind = PHYR_OP_SPLICE, .src = src, .src_m = src_m };
	unsigned long nr_failed = 0, before;
	unsigned int i, j, k;

	phyr_need_fault_injection(test);
	for (i = 0; i < ARRAY_SIZE(phyr_states); i++) {
		for (j = 0; j < ARRAY_SIZE(src_states); j++) {
			for (k = 0; k < 4; k++) {
				if (!phyr_build(test, pl, m, phyr_states[i]) ||
				    (k & 1 && !phyr_preload_model(test, pl, m, 1)) ||
				    !phyr_build_src(test, src, src_m,
						    src_states[j], k & 2 ? 3 : 0))
					return;
				before = nr_failed;
				if (!phyr_sweep(test, pl, m, &op, &nr_failed)) {
					KUNIT_FAIL(test, "%lu ranges onto %lu, round %u",
						   src_states[j], phyr_states[i], k);
					return;
				}
				/* Long sources need leaves that were not there. */
				if (phyr_states[i] && !(k & 1) &&
				    src_states[j] >= 1500)
					KUNIT_EXPECT_GT_MSG(test, nr_failed, before,
							    "%lu ranges onto %lu, round %u",
							    src_states[j],
							    phyr_states[i], k);
			}
		}
	}
	KUNIT_EXPECT_GT(test, nr_failed, 30);
	kunit_info(test, "%lu allocation failures\n", nr_failed);
}

/* ---- Randomised differential test ---- */

/* A random seek: range boundaries and their neighbours, the end, beyond. */
static bool phyr_rand_seek(struct kunit *test, const struct phyr_list *pl,
			   const struct phyr_model *m, struct rnd_state *rnd)
{
	u64 off = phyr_rand_in(rnd, 0, m->length + 2);

	if (!phyr_rand(rnd, 10))
		off = U64_MAX - phyr_rand(rnd, 2);
	if (m->nr && phyr_rand(rnd, 4)) {
		const struct phyr_model_range *r = &m->r[phyr_rand(rnd, m->nr)];

		off = r->start + phyr_rand(rnd, 3) - 1;
		if (!phyr_rand(rnd, 3))
			off = r->start + r->len - 1;
	}
	return phyr_check_seek(test, pl, m, off,
			       phyr_rand(rnd, 50) ? 3 : ULONG_MAX);
}

/* An append_pages() call on @pool, sometimes with a wrong length. */
static void phyr_rand_pages(struct rnd_state *rnd, struct phyr_test_mem *pool,
			    struct phyr_op *op)
{
	unsigned long first = phyr_rand(rnd, pool->nr_pages);
	u64 max_len, min_len;

	op->kind = PHYR_OP_PAGES;
	op->n = min_t(unsigned long, 1 + phyr_rand(rnd, 16),
		      pool->nr_pages - first);
	op->pages = pool->pages + first;
	op->offset = phyr_rand(rnd, 4) ? 0 : phyr_rand(rnd, PAGE_SIZE);
	max_len = PHYR_PG(op->n) - op->offset;
	min_len = op->n > 1 ? PHYR_PG(op->n - 1) - op->offset + 1 : 1;
	op->len = phyr_rand(rnd, 2) ? max_len :
				      phyr_rand_in(rnd, min_len, max_len);
	if (!phyr_rand(rnd, 20))
		op->len = phyr_rand(rnd, 2) ? 0 : max_len + PAGE_SIZE;
}

#define PHYR_RAND_OPS	20000
#define PHYR_RAND_CAP	8192

struct phyr_rand_stats {
	unsigned long ops[PHYR_OP_NR];
	unsigned long errors, failed, seeks, blocks, restarts, max_ranges;
};

/*
 * Random appends of every kind, valid or not, preloads followed by appends
 * that must not allocate, injected allocation failures, seeks, block walks
 * and restarts, with the invariant checker after every operation.
 */
static void phyr_test_random(struct kunit *test)
{
	static const unsigned int shifts[] = { 0, PAGE_SHIFT, 16, 21, 30 };
	struct phyr_list *pl = phyr_test_list(test);
	struct phyr_model *m = phyr_model_new(test, PHYR_RAND_CAP);
	long live = phyr_chunks_live();
	struct phyr_rand_stats st = {};
	unsigned long nr, window = 0;
	struct phyr_test_mem *pool;
	struct rnd_state rnd;

	prandom_seed_state(&rnd, PHYR_TEST_SEED);
	pool = phyr_test_mem_alloc(test, 32, 2, &rnd);
	KUNIT_ASSERT_NOT_NULL(test, pool);

	for (nr = 0; nr < PHYR_RAND_OPS; nr++) {
		u32 pick = phyr_rand(&rnd, 1000);
		unsigned long failed = st.failed;
		struct phyr_op op = {};
		unsigned int nth = 0;
		bool ok = true;

		if (pick < 1 || m->nr + 64 > m->cap) {
			phyr_list_destroy(pl);
			phyr_model_reset(m);
			window = 0;
			st.restarts++;
			KUNIT_EXPECT_EQ(test, phyr_chunks_live(), live);
		} else if (pick < 120) {
			ok = phyr_rand_seek(test, pl, m, &rnd);
			st.seeks++;
		} else if (pick < 140) {
			ok = phyr_check_blocks(test, pl, m,
					       shifts[phyr_rand(&rnd, ARRAY_SIZE(shifts))],
					       50000);
			st.blocks++;
		} else {
			if (pick < 170 && !window) {
				op.kind = PHYR_OP_PRELOAD;
				op.n = phyr_rand(&rnd, 10) ? phyr_rand(&rnd, 64) :
							     phyr_rand(&rnd, 3000);
			} else if (pick < 230 && (!window || window >= 16)) {
				phyr_rand_pages(&rnd, pool, &op);
			} else {
				op.kind = pick < 800 ? PHYR_OP_APPEND :
						       PHYR_OP_APPEND_P2P;
				phyr_rand_range(&rnd, m, window, &op.addr,
						&op.len);
			}
			if (IS_ENABLED(CONFIG_FAULT_INJECTION) && !window &&
			    !phyr_rand(&rnd, 4))
				nth = 1 + phyr_rand(&rnd, 2);
			if (phyr_op_model(test, m, &op, false))
				st.errors++;
			ok = phyr_op_check(test, pl, m, &op, nth, window,
					   &st.failed);
			st.ops[op.kind]++;
			if (window)
				window -= min(window, op.kind == PHYR_OP_PAGES ?
						      op.n : 1UL);
			else if (op.kind == PHYR_OP_PRELOAD &&
				 st.failed == failed)
				window = op.n;
		}
		if (!ok || !phyr_check(test, pl, m)) {
			KUNIT_FAIL(test, "operation %lu (%s) with seed %#x",
				   nr, phyr_op_names[op.kind], PHYR_TEST_SEED);
			return;
		}
		st.max_ranges = max(st.max_ranges, m->nr);
	}
	if (IS_ENABLED(CONFIG_FAULT_INJECTION))
		KUNIT_EXPECT_GT(test, st.failed, 0);
	KUNIT_EXPECT_GT(test, st.restarts, 0);
	kunit_info(test,
		   "%lu ops: %lu appends, %lu p2p, %lu pages, %lu preloads, %lu seeks, %lu block walks, %lu restarts\n",
		   nr, st.ops[PHYR_OP_APPEND], st.ops[PHYR_OP_APPEND_P2P],
		   st.ops[PHYR_OP_PAGES], st.ops[PHYR_OP_PRELOAD], st.seeks,
		   st.blocks, st.restarts);
	kunit_info(test, "%lu invalid, %lu failed allocations, up to %lu ranges\n",
		   st.errors, st.failed, st.max_ranges);
}

static struct kunit_case phyr_test_cases[] = {
	KUNIT_CASE(phyr_test_list_size),
	KUNIT_CASE_PARAM(phyr_test_append_encoding, phyr_enc_gen_params),
	KUNIT_CASE_PARAM(phyr_test_append_merge, phyr_merge_gen_params),
	KUNIT_CASE(phyr_test_append_no_merge),
	KUNIT_CASE(phyr_test_append_merge_many),
	KUNIT_CASE(phyr_test_append_merge_grow),
	KUNIT_CASE(phyr_test_list_single),
	KUNIT_CASE(phyr_test_append_p2p_flags),
	KUNIT_CASE(phyr_test_list_destroy),
	KUNIT_CASE_PARAM(phyr_test_append_errors, phyr_err_gen_params),
	KUNIT_CASE(phyr_test_append_overflow),
	KUNIT_CASE(phyr_test_append_folio),
	KUNIT_CASE(phyr_test_append_pages),
	KUNIT_CASE(phyr_test_iter_next_empty),
	KUNIT_CASE(phyr_test_block_iter_next),
	KUNIT_CASE(phyr_test_iter_seek_single),
	KUNIT_CASE(phyr_test_iter_seek_chunks),
	KUNIT_CASE_PARAM(phyr_test_iter_seek_marks, phyr_marks_gen_params),
	KUNIT_CASE(phyr_test_iter_cursors),
	KUNIT_CASE(phyr_test_list_preload),
	KUNIT_CASE(phyr_test_list_preload_each),
	KUNIT_CASE(phyr_test_list_preload_huge),
	KUNIT_CASE(phyr_test_list_preload_pages),
	KUNIT_CASE(phyr_test_append_fault),
	KUNIT_CASE_SLOW(phyr_test_append_fault_deep),
	KUNIT_CASE(phyr_test_append_pages_fault),
	KUNIT_CASE(phyr_test_list_preload_fault),
	KUNIT_CASE(phyr_test_splice_empty_src),
	KUNIT_CASE(phyr_test_splice_empty_dst),
	KUNIT_CASE(phyr_test_splice_single),
	KUNIT_CASE(phyr_test_splice_chunked),
	KUNIT_CASE(phyr_test_splice_overflow),
	KUNIT_CASE(phyr_test_splice_fault),
	KUNIT_CASE_SLOW(phyr_test_random),
	{}
};

static struct kunit_suite phyr_test_suite = {
	.name = "phyr",
	.init = phyr_test_init,
	.test_cases = phyr_test_cases,
};

/* ---- Storage compared with scatterlist ---- */

struct phyr_storage_row {
	const char *name;
	unsigned long pages;
	unsigned long ranges;
	u64 phyr_bytes;
	unsigned int sg_nents;
	u64 sg_bytes;
};

/* Entries an sg_table of @nents allocates, chain entries included. */
static u64 phyr_sg_entries(unsigned int nents)
{
	u64 total = 0, left = nents;

	for (;;) {
		u64 n = min_t(u64, left, SG_MAX_SINGLE_ALLOC);

		total += n;
		if (left <= SG_MAX_SINGLE_ALLOC)
			return total;
		left -= SG_MAX_SINGLE_ALLOC - 1;
	}
}

/* Hundredths, printed as "%llu.%02llu". */
static u64 phyr_cents(u64 num, u64 den)
{
	return div64_u64(num * 100 + den / 2, den);
}

static void phyr_storage_measure(struct kunit *test,
				 struct phyr_storage_row *row,
				 struct page **pages, unsigned long n)
{
	DEFINE_PHYR_LIST(pl);
	struct sg_table sgt;
	int ret;

	row->pages = n;
	ret = phyr_list_append_pages(&pl, pages, n, 0, PHYR_PG(n), GFP_KERNEL);
	KUNIT_EXPECT_EQ(test, ret, 0);
	row->ranges = phyr_list_nr_ranges(&pl);
	row->phyr_bytes = phyr_list_mem_bytes(&pl) + sizeof(struct phyr_list);
	phyr_list_destroy(&pl);

	ret = sg_alloc_table_from_pages_segment(&sgt, pages, n, 0, PHYR_PG(n),
						UINT_MAX, GFP_KERNEL);
	KUNIT_ASSERT_EQ(test, ret, 0);
	row->sg_nents = sgt.orig_nents;
	row->sg_bytes = phyr_sg_entries(sgt.orig_nents) *
			sizeof(struct scatterlist);
	sg_free_table(&sgt);

	/* Both merge exactly the physically contiguous pages. */
	KUNIT_EXPECT_EQ_MSG(test, row->ranges, (unsigned long)row->sg_nents,
			    "%s", row->name);
}

static void phyr_storage_print(struct kunit *test,
			       const struct phyr_storage_row *row)
{
	u64 pb = phyr_cents(row->phyr_bytes, row->pages);
	u64 sb = phyr_cents(row->sg_bytes, row->pages);
	u64 ratio = phyr_cents(row->sg_bytes, row->phyr_bytes);

	kunit_info(test,
		   "phyr-storage: %-22s %7lu %7lu %10llu %5llu.%02llu %7u %10llu %5llu.%02llu %6llu.%02llux\n",
		   row->name, row->pages, row->ranges, row->phyr_bytes,
		   pb / 100, pb % 100, row->sg_nents, row->sg_bytes,
		   sb / 100, sb % 100, ratio / 100, ratio % 100);
}

static void phyr_test_storage_table(struct kunit *test)
{
	struct phyr_storage_row row = {};
	struct phyr_test_mem *mem;
	struct rnd_state rnd;

	prandom_seed_state(&rnd, PHYR_TEST_SEED);
	kunit_info(test, "phyr-storage: %-22s %7s %7s %10s %8s %7s %10s %8s %9s\n",
		   "input", "pages", "ranges", "phyr B", "B/page", "sg ents",
		   "sg B", "B/page", "sg/phyr");

	mem = phyr_test_mem_alloc(test, 16384, 0, &rnd);
	KUNIT_ASSERT_NOT_NULL(test, mem);
	row.name = "scattered 4 KiB pages";
	phyr_storage_measure(test, &row, mem->pages, mem->nr_pages);
	phyr_storage_print(test, &row);
	kunit_info(test, "phyr-storage: (%zu-byte struct phyr_list, %zu-byte struct scatterlist, highest page at %#llx)\n",
		   sizeof(struct phyr_list), sizeof(struct scatterlist),
		   phyr_test_max_page(mem));
	KUNIT_EXPECT_LE_MSG(test, row.phyr_bytes * 100, 805ULL * row.pages,
			    "more than 8.05 bytes per scattered page");

	mem = phyr_test_mem_alloc(test, 16, 9, &rnd);
	if (mem) {
		row.name = "2 MiB folios";
		phyr_storage_measure(test, &row, mem->pages, mem->nr_pages);
		phyr_storage_print(test, &row);
	} else {
		kunit_info(test, "phyr-storage: %-22s skipped: no order-9 folios\n",
			   "2 MiB folios");
	}

	mem = phyr_test_mem_alloc(test, 1, 10, NULL);
	if (!mem)
		mem = phyr_test_mem_alloc(test, 1, 9, NULL);
	if (mem) {
		row.name = "one contiguous range";
		phyr_storage_measure(test, &row, mem->pages, mem->nr_pages);
		phyr_storage_print(test, &row);
		KUNIT_EXPECT_EQ(test, row.ranges, 1);
		KUNIT_EXPECT_EQ(test, row.phyr_bytes, sizeof(struct phyr_list));
	} else {
		kunit_info(test, "phyr-storage: %-22s skipped: no order-9 page\n",
			   "one contiguous range");
	}
}

static struct kunit_case phyr_storage_test_cases[] = {
	KUNIT_CASE(phyr_test_storage_table),
	{}
};

static struct kunit_suite phyr_storage_test_suite = {
	.name = "phyr_storage",
	.init = phyr_test_init,
	.test_cases = phyr_storage_test_cases,
};

kunit_test_suites(&phyr_test_suite, &phyr_storage_test_suite);

MODULE_DESCRIPTION("KUnit tests for phyr lists");
MODULE_LICENSE("GPL");
