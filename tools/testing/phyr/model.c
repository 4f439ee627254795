// SPDX-License-Identifier: GPL-2.0
/*
 * Operations on a phyr list and on its model, and the checks that compare
 * them.  The model itself, what each operation must return and leave, is
 * lib/phyr_model.h, which lib/phyr_kunit.c uses too.
 *
 * Every operation runs on the phyr list and on the model, and then the
 * two are compared in full.  An operation that fails must leave the list
 * bit for bit as it was and must not leak; an operation that the last
 * phyr_list_preload() paid for runs with every allocation failing and
 * must not even try to allocate.
 */
#include <stdarg.h>
#include <stdlib.h>
#include "model.h"

u64 rnd(u64 *state)
{
	u64 z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

u64 rnd_below(u64 *state, u64 n)
{
	return n ? rnd(state) % n : 0;
}

/* Make room in @m for @n more ranges. */
static void model_reserve(struct phyr_model *m, unsigned long n)
{
	if (m->cap - m->nr >= n)
		return;
	m->cap = max(2 * m->cap, m->nr + n);
	if (m->cap < 64)
		m->cap = 64;
	m->r = realloc(m->r, m->cap * sizeof(*m->r));
	if (!m->r)
		abort();
}

/* A model operation that succeeded on the list must succeed on the model. */
static void model_done(int ret)
{
	if (ret) {
		fprintf(stderr, "model: %d after the list succeeded\n", ret);
		abort();
	}
}

void h_init(struct harness *h, u64 seed)
{
	memset(h, 0, sizeof(*h));
	phyr_list_init(&h->pl);
	h->chunk_free = true;
	h->rng = seed;
}

void h_exit(struct harness *h)
{
	phyr_list_destroy(&h->pl);
	free(h->m.r);
	h->m.r = NULL;
	h->m.cap = 0;
	phyr_model_reset(&h->m);
}

void h_log(struct harness *h, const char *fmt, ...)
{
	char *line = h->log[h->nr_ops % H_LOG_LINES];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(h->log[0]), "op %lu: ", h->nr_ops);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(h->log[0]) - n, fmt, ap);
	va_end(ap);
	if (h->verbose)
		fprintf(stderr, "%s\n", line);
	h->nr_ops++;
}

void h_dump_log(const struct harness *h)
{
	unsigned long i = h->nr_ops > H_LOG_LINES ? h->nr_ops - H_LOG_LINES : 0;

	fprintf(stderr, "last operations:\n");
	for (; i < h->nr_ops; i++)
		fprintf(stderr, "  %s\n", h->log[i % H_LOG_LINES]);
}

int h_fail(struct harness *h, const char *file, int line, const char *fmt,
	   ...)
{
	va_list ap;

	fprintf(stderr, "FAIL %s:%d: ", file, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " (list: %lu ranges, %llu bytes; model: %lu, %llu)\n",
		phyr_list_nr_ranges(&h->pl),
		(unsigned long long)phyr_list_length(&h->pl), h->m.nr,
		(unsigned long long)h->m.length);
	h_dump_log(h);
	return -1;
}

struct pre {
	struct phyr_list pl;
	long live;
	size_t bytes;
	unsigned long allocs;
	unsigned long failed;
	unsigned long warnings;
	bool atomic;
};

/*
 * Snapshot before an operation that takes @cost appends of what
 * phyr_list_preload() reserved (-1: not an append), and arm the
 * failure injection.
 */
static void h_arm(struct harness *h, struct pre *pre, long cost)
{
	pre->pl = h->pl;
	pre->live = shim_live_allocs;
	pre->bytes = shim_live_bytes;
	pre->allocs = shim_nr_allocs;
	pre->failed = shim_nr_failed;
	pre->warnings = shim_warnings;
	pre->atomic = cost >= 0 && h->budget && h->budget >= (unsigned long)cost;
	if (!pre->atomic && cost >= 0)
		h->budget = 0;
	if (pre->atomic)
		shim_fail_all();
	else if (h->inj.nth)
		shim_fail_nth = h->inj.nth;
	else if (h->inj.permille)
		shim_fail_random(h->inj.after, h->inj.permille, h->inj.seed);
}

/* Check the outcome of an operation; the model is updated by the caller. */
static int h_done(struct harness *h, const struct pre *pre, int ret,
		  int expect, const char *what)
{
	shim_fail_off();
	if (pre->atomic) {
		if (H_FAILED(h, shim_nr_allocs == pre->allocs,
			     "%s allocated after phyr_list_preload()", what))
			return -1;
		h->nr_atomic++;
	}
	if (ret == -ENOMEM) {
		if (H_FAILED(h, !expect && shim_nr_failed > pre->failed,
			     "%s: -ENOMEM without an allocation failure (expected %d)",
			     what, expect))
			return -1;
		h->nr_enomem++;
	} else {
		if (H_FAILED(h, ret == expect, "%s returned %d, expected %d", what,
			     ret, expect))
			return -1;
	}
	if (ret) {
		if (H_FAILED(h, !memcmp(&h->pl, &pre->pl, sizeof(h->pl)),
			     "%s failed with %d but changed the list", what, ret))
			return -1;
		if (H_FAILED(h, shim_live_allocs == pre->live &&
			     shim_live_bytes == pre->bytes,
			     "%s failed with %d and leaked %ld objects, %zd bytes",
			     what, ret, shim_live_allocs - pre->live,
			     (ssize_t)(shim_live_bytes - pre->bytes)))
			return -1;
	} else {
		if (H_FAILED(h, shim_warnings == pre->warnings,
			     "%s warned on a valid call", what))
			return -1;
	}
	return 0;
}

int h_append(struct harness *h, phys_addr_t addr, u64 len, bool p2p,
	     gfp_t gfp)
{
	int expect = phyr_model_append(&h->m, addr, len, p2p, false);
	struct pre pre;
	int ret;

	h_log(h, "append%s(%#llx, %#llx)", p2p ? "_p2p" : "",
	      (unsigned long long)addr, (unsigned long long)len);
	h_arm(h, &pre, 1);
	if (p2p)
		ret = phyr_list_append_p2p(&h->pl, addr, len, gfp);
	else
		ret = phyr_list_append(&h->pl, addr, len, gfp);
	if (h_done(h, &pre, ret, expect, "append"))
		return -1;
	if (!ret) {
		model_reserve(&h->m, 1);
		model_done(phyr_model_append(&h->m, addr, len, p2p, true));
		if (pre.atomic)
			h->budget--;
	}
	return h_check(h);
}

int h_append_folio(struct harness *h, struct folio *folio, size_t offset,
		   size_t len, gfp_t gfp)
{
	phys_addr_t addr = PFN_PHYS(folio_pfn(folio)) + offset;
	bool p2p = is_pci_p2pdma_page(&folio->page);
	int expect = 0;
	struct pre pre;
	int ret;

	h_log(h, "append_folio(pfn %#lx order %u, %#zx, %#zx)",
	      folio_pfn(folio), folio_order(folio), offset, len);
	if (!len || offset >= folio_size(folio) ||
	    len > folio_size(folio) - offset)
		expect = -EINVAL;
	else
		expect = phyr_model_append(&h->m, addr, len, p2p, false);
	h_arm(h, &pre, 1);
	ret = phyr_list_append_folio(&h->pl, folio, offset, len, gfp);
	if (h_done(h, &pre, ret, expect, "append_folio"))
		return -1;
	if (!ret) {
		model_reserve(&h->m, 1);
		model_done(phyr_model_append(&h->m, addr, len, p2p, true));
		if (pre.atomic)
			h->budget--;
	}
	return h_check(h);
}

/*
 * How many ranges a valid phyr_list_append_pages() adds to @m, which is
 * what it takes of a preload: the model's own answer, from a scratch model
 * that holds @m's last range.
 */
static unsigned long pages_cost(const struct phyr_model *m,
				struct page **pages, unsigned long npages,
				unsigned long offset, u64 len)
{
	struct phyr_model scratch = { .cap = npages + 1 };
	unsigned long cost;

	scratch.r = malloc(scratch.cap * sizeof(*scratch.r));
	if (!scratch.r)
		abort();
	if (m->nr)
		scratch.r[scratch.nr++] = m->r[m->nr - 1];
	model_done(phyr_model_append_pages(&scratch, pages, npages, offset, len,
					   true));
	cost = scratch.nr - (m->nr ? 1 : 0);
	free(scratch.r);
	return cost;
}

int h_append_pages(struct harness *h, struct page **pages,
		   unsigned long npages, unsigned long offset, u64 len,
		   gfp_t gfp)
{
	int expect;
	long cost = 0;
	struct pre pre;
	int ret;

	h_log(h, "append_pages(%lu pages from pfn %#lx, offset %#lx, len %#llx)",
	      npages, npages ? page_to_pfn(pages[0]) : 0, offset,
	      (unsigned long long)len);
	expect = phyr_model_append_pages(&h->m, pages, npages, offset, len,
					 false);
	if (!expect)
		cost = pages_cost(&h->m, pages, npages, offset, len);
	h_arm(h, &pre, cost);
	ret = phyr_list_append_pages(&h->pl, pages, npages, offset, len, gfp);
	if (h_done(h, &pre, ret, expect, "append_pages"))
		return -1;
	if (!ret) {
		model_reserve(&h->m, npages);
		model_done(phyr_model_append_pages(&h->m, pages, npages, offset,
						   len, true));
		if (pre.atomic)
			h->budget -= cost;
	}
	return h_check(h);
}

int h_preload(struct harness *h, unsigned long nr, gfp_t gfp)
{
	struct pre pre;
	int ret;

	h_log(h, "preload(%lu)", nr);
	h_arm(h, &pre, -1);
	ret = phyr_list_preload(&h->pl, nr, gfp);
	if (h_done(h, &pre, ret, 0, "preload"))
		return -1;
	if (!ret && nr) {
		h->budget = nr;
		h->chunk_free = false;
	}
	return h_check(h);
}

/*
 * What happens to @src when @h starts out empty and without chunks: @h
 * takes @src's storage as it is, in O(1) and without allocating.
 */
static int h_splice_moved(struct harness *h, struct harness *src,
			  const struct phyr_list *old, const struct pre *pre)
{
	if (H_FAILED(h, shim_nr_allocs == pre->allocs,
		     "splice into an empty list allocated"))
		return -1;
	if (H_FAILED(h, !memcmp(&h->pl, old, sizeof(*old)),
		     "splice into an empty list did not take the storage over"))
		return -1;
	h->budget = src->budget;
	h->chunk_free = src->chunk_free;
	return 0;
}

/*
 * Splice @src's list onto @h's and check both against the model.  Both
 * lists are alive meanwhile: the two harnesses' ->peer must point at each
 * other, so that each one's checks count the other's chunks.
 */
int h_splice(struct harness *h, struct harness *src, gfp_t gfp)
{
	const struct phyr_model *sm = &src->m;
	/* Empty and never chunked: phyr_list_splice() moves the storage. */
	bool move = !h->m.nr && h->chunk_free && sm->nr;
	int expect = phyr_model_splice(&h->m, &src->m, false);
	struct phyr_list old = src->pl;
	long cost = -1;
	struct pre pre;
	int ret;

	h_log(h, "splice(%lu ranges, %#llx bytes, %zu bytes of chunks)",
	      sm->nr, (unsigned long long)sm->length,
	      phyr_list_mem_bytes(&src->pl));
	/* A splice that copies takes what appends of its ranges would. */
	if (!expect && !move && sm->nr)
		cost = sm->nr - phyr_model_merges(&h->m, sm->r[0].addr,
						  sm->r[0].p2p);
	h_arm(h, &pre, cost);
	ret = phyr_list_splice(&h->pl, &src->pl, gfp);
	if (h_done(h, &pre, ret, expect, "splice"))
		return -1;
	if (ret == -ENOMEM)
		h->nr_splice_enomem++;
	if (ret || !sm->nr) {
		if (H_FAILED(h, !memcmp(&src->pl, &old, sizeof(old)),
			     "splice returned %d but changed the source", ret))
			return -1;
		if (!ret &&
		    H_FAILED(h, shim_nr_allocs == pre.allocs &&
			     !memcmp(&h->pl, &pre.pl, sizeof(h->pl)),
			     "splice of an empty list changed the list or allocated"))
			return -1;
		return h_check(h) || h_check(src);
	}
	if (move && h_splice_moved(h, src, &old, &pre))
		return -1;
	h->nr_splices++;
	h->nr_moves += move;
	if (pre.atomic)
		h->budget -= cost;
	model_reserve(&h->m, sm->nr);
	model_done(phyr_model_splice(&h->m, &src->m, true));
	src->budget = 0;
	src->chunk_free = true;
	return h_check(h) || h_check(src);
}

/* Chunk bytes of the other list that is alive meanwhile, if any. */
static size_t h_peer_bytes(const struct harness *h)
{
	return h->peer ? phyr_list_mem_bytes(&h->peer->pl) : 0;
}

int h_destroy(struct harness *h)
{
	size_t peer = h_peer_bytes(h);

	h_log(h, "destroy()");
	phyr_list_destroy(&h->pl);
	phyr_model_reset(&h->m);
	h->budget = 0;
	h->chunk_free = true;
	if (H_FAILED(h, shim_live_bytes == peer &&
		     (peer || shim_live_allocs == 0),
		     "destroy left %ld objects, %zu bytes", shim_live_allocs,
		     shim_live_bytes - peer))
		return -1;
	if (H_FAILED(h, peer || phyr_chunks_live() == 0, "%ld chunks",
		     phyr_chunks_live()))
		return -1;
	return h_check(h);
}

static int h_check_range(struct harness *h, const struct phyr *r,
			 const struct phyr_iter *iter, const struct phyr_model_range *mr,
			 u64 skip, unsigned long i)
{
	if (H_FAILED(h, r->addr == mr->addr + skip && r->len == mr->len - skip,
		     "range %lu is %#llx+%#llx, model %#llx+%#llx (skip %#llx)", i,
		     (unsigned long long)r->addr, (unsigned long long)r->len,
		     (unsigned long long)mr->addr, (unsigned long long)mr->len,
		     (unsigned long long)skip))
		return -1;
	if (H_FAILED(h, !!(iter->flags & PHYR_RANGE_P2P) == mr->p2p,
		     "range %lu flags %#x, model p2p %d", i, iter->flags, mr->p2p))
		return -1;
	return 0;
}

int h_check(struct harness *h)
{
	const struct phyr_list *pl = &h->pl;
	const struct phyr_model *m = &h->m;
	struct phyr_iter iter;
	phys_addr_t end;
	struct phyr r;
	unsigned long i = 0;

	if (H_FAILED(h, phyr_list_nr_ranges(pl) == m->nr, "nr_ranges %lu",
		     phyr_list_nr_ranges(pl)))
		return -1;
	if (H_FAILED(h, phyr_list_empty(pl) == !m->nr, "empty"))
		return -1;
	if (H_FAILED(h, phyr_list_length(pl) == m->length, "length %#llx",
		     (unsigned long long)phyr_list_length(pl)))
		return -1;
	if (H_FAILED(h, phyr_list_max_addr(pl) == m->max_addr,
		     "max_addr %#llx, model %#llx",
		     (unsigned long long)phyr_list_max_addr(pl),
		     (unsigned long long)m->max_addr))
		return -1;
	/* A phys_addr_t: the end of a range at the top wraps to 0. */
	end = m->nr ? (phys_addr_t)(m->r[m->nr - 1].addr +
				    m->r[m->nr - 1].len) : 0;
	if (H_FAILED(h, phyr_list_end(pl) == end, "end %#llx, model %#llx",
		     (unsigned long long)phyr_list_end(pl),
		     (unsigned long long)end))
		return -1;
	if (H_FAILED(h, phyr_list_has_p2p(pl) == m->p2p, "has_p2p"))
		return -1;
	if (H_FAILED(h, phyr_chunks_live() == shim_live_allocs,
		     "phyr_chunks_live() %ld, allocator %ld", phyr_chunks_live(),
		     shim_live_allocs))
		return -1;
	if (H_FAILED(h, phyr_list_mem_bytes(pl) + h_peer_bytes(h) ==
		     shim_live_bytes,
		     "mem_bytes %zu (and %zu of the other list), allocator %zu",
		     phyr_list_mem_bytes(pl), h_peer_bytes(h), shim_live_bytes))
		return -1;
	if (m->nr > 1)
		h->chunk_free = false;
	if (h->chunk_free)
		if (H_FAILED(h, !phyr_list_mem_bytes(pl),
			     "a list of one range holds %zu bytes of chunks",
			     phyr_list_mem_bytes(pl)))
			return -1;
	if (h->lazy)
		return 0;

	phyr_list_for_each(pl, &iter, r) {
		if (H_FAILED(h, i < m->nr, "iteration returned more than %lu ranges",
			     m->nr))
			return -1;
		if (h_check_range(h, &r, &iter, &m->r[i], 0, i))
			return -1;
		i++;
	}
	if (H_FAILED(h, i == m->nr, "iteration returned %lu ranges", i))
		return -1;
	if (H_FAILED(h, !phyr_iter_next(&iter, &r), "iteration restarted"))
		return -1;
	return 0;
}

int h_check_seek(struct harness *h, u64 offset, unsigned long follow)
{
	const struct phyr_model *m = &h->m;
	struct phyr_iter iter;
	unsigned long i, n;
	struct phyr r;
	bool found;

	phyr_iter_init(&iter, &h->pl);
	found = phyr_iter_seek(&iter, offset);
	if (H_FAILED(h, offset < m->length ? found : !found,
		     "seek(%#llx) returned %d", (unsigned long long)offset,
		     found))
		return -1;
	if (!found) {
		if (H_FAILED(h, !phyr_iter_next(&iter, &r),
			     "seek(%#llx) beyond the end, then a range",
			     (unsigned long long)offset))
			return -1;
		return 0;
	}
	i = phyr_model_find(m, offset);
	if (H_FAILED(h, phyr_iter_next(&iter, &r), "seek(%#llx), then no range",
		     (unsigned long long)offset))
		return -1;
	if (h_check_range(h, &r, &iter, &m->r[i], offset - m->r[i].start, i))
		return -1;
	for (n = 0; n < follow && ++i < m->nr; n++) {
		if (H_FAILED(h, phyr_iter_next(&iter, &r),
			     "seek(%#llx): range %lu missing",
			     (unsigned long long)offset, i))
			return -1;
		if (h_check_range(h, &r, &iter, &m->r[i], 0, i))
			return -1;
	}
	if (i >= m->nr)
		if (H_FAILED(h, !phyr_iter_next(&iter, &r),
			     "seek(%#llx): a range after the last",
			     (unsigned long long)offset))
			return -1;
	return 0;
}

/* Seek to the boundaries of (a sample of) the ranges and at random. */
int h_check_seeks(struct harness *h, unsigned int nr_random)
{
	const struct phyr_model *m = &h->m;
	const u64 ends[] = { 0, 1, m->length - 1, m->length, m->length + 1,
			     U64_MAX };
	unsigned long i, k, nr = m->nr < 48 ? m->nr : 48;

	for (k = 0; k < ARRAY_SIZE(ends); k++)
		if (h_check_seek(h, ends[k], 2))
			return -1;
	for (k = 0; k < nr; k++) {
		const struct phyr_model_range *r;

		i = m->nr <= 48 ? k : rnd_below(&h->rng, m->nr);
		r = &m->r[i];
		if (h_check_seek(h, r->start, 2) ||
		    h_check_seek(h, r->start - 1, 2) ||
		    h_check_seek(h, r->start + r->len - 1, 2) ||
		    h_check_seek(h, r->start + rnd_below(&h->rng, r->len), 2))
			return -1;
	}
	for (k = 0; k < nr_random; k++)
		if (h_check_seek(h, rnd_below(&h->rng, m->length + 1),
				 k ? 2 : ULONG_MAX))
			return -1;
	return 0;
}

static u64 model_blocks(const struct phyr_model *m, unsigned int shift)
{
	u64 nr = 0;
	unsigned long i;

	for (i = 0; i < m->nr; i++)
		nr += (u64)(mrange_last(&m->r[i]) >> shift) -
		      (m->r[i].addr >> shift) + 1;
	return nr;
}

/*
 * Compare phyr_list_for_each_block() with the model, with @shift or the
 * smallest larger shift that yields at most @max_blocks blocks.
 */
int h_check_blocks(struct harness *h, unsigned int shift, u64 max_blocks)
{
	const struct phyr_model *m = &h->m;
	struct phyr_block_iter biter;
	phys_addr_t addr, want;
	unsigned long i = 0;
	u64 left = 0;

	while (shift < PHYS_BITS - 1 && model_blocks(m, shift) > max_blocks)
		shift++;
	want = 0;
	phyr_list_for_each_block(&h->pl, &biter, addr, shift) {
		if (!left) {
			if (H_FAILED(h, i < m->nr, "shift %u: blocks after the last",
				     shift))
				return -1;
			want = m->r[i].addr >> shift << shift;
			left = (u64)(mrange_last(&m->r[i]) >> shift) -
			       (m->r[i].addr >> shift) + 1;
			i++;
		}
		if (H_FAILED(h, addr == want, "shift %u: block %#llx, model %#llx",
			     shift, (unsigned long long)addr,
			     (unsigned long long)want))
			return -1;
		want += (phys_addr_t)1 << shift;
		left--;
	}
	if (H_FAILED(h, i == m->nr && !left, "shift %u: blocks stop at range %lu",
		     shift, i))
		return -1;
	return 0;
}
