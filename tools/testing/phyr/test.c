// SPDX-License-Identifier: GPL-2.0
/*
 * Unit tests and a seeded differential random test of lib/phyr.c.
 *
 *	./test [-s seed] [-c cases] [-n ops per case] [-v] [-u] [-r]
 *
 * -u runs only the unit tests, -r only the random test, -v logs every
 * operation.  A failure prints the seed, the case and the last
 * operations; "-s SEED -c 1 -n OPS -v -r" (with the case's seed, as
 * printed) replays it.
 */
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>
#include "model.h"

#define MEM_PAGES	BIT(18)	/* 1 GiB of simulated memory */
#define MAX_PAGES	4096		/* per append_pages() */

static struct folio **folios;		/* large folios */
static unsigned long nr_folios;
static struct page *page_buf[MAX_PAGES + 1];
static bool verbose;

#define PHYS_TOP	PHYS_ADDR_MAX

static unsigned long nr_passed, nr_failed;
static unsigned long total_ops, total_enomem, total_atomic, max_nr;
static unsigned long total_splices, total_moves, total_splice_enomem;

/* End of the last range of the model, or @dflt for an empty one. */
static phys_addr_t last_end(const struct harness *h, phys_addr_t dflt)
{
	const struct phyr_model_range *r;

	if (!h->m.nr)
		return dflt;
	r = &h->m.r[h->m.nr - 1];
	return r->addr + (phys_addr_t)r->len;
}

static struct page *pfn_page(unsigned long idx)
{
	return &mem_map[idx];
}

/*
 * 1 GiB from pfn SHIM_PFN_OFFSET: a quarter of order-0 pages, a quarter of
 * folios of random order 1-9, a quarter of 2 MiB folios, and a quarter of
 * peer-to-peer memory of two providers, half of it order-0 pages and half
 * order-4 folios.
 */
static void mem_setup(void)
{
	const unsigned long q = MEM_PAGES / 4;
	u64 rng = 42;
	unsigned long i;

	shim_mem_init(MEM_PAGES);
	folios = calloc(MEM_PAGES / 2, sizeof(*folios));
	for (i = q; i < 2 * q;) {
		unsigned int order = 1 + rnd_below(&rng, 9);
		unsigned long pfn = SHIM_PFN_OFFSET + i;

		if (pfn & ((1UL << order) - 1) || i + (1UL << order) > 2 * q) {
			i++;
			continue;
		}
		folios[nr_folios++] = shim_make_folio(pfn, order);
		i += 1UL << order;
	}
	for (i = 2 * q; i < 3 * q; i += 512)
		folios[nr_folios++] = shim_make_folio(SHIM_PFN_OFFSET + i, 9);
	/* Two providers (pgmaps), next to each other: ranges must not merge. */
	shim_set_p2p(SHIM_PFN_OFFSET + 3 * q, q / 4);
	shim_set_p2p(SHIM_PFN_OFFSET + 3 * q + q / 4, 3 * q / 4);
	for (i = 3 * q + q / 2; i < 4 * q; i += 16)
		folios[nr_folios++] = shim_make_folio(SHIM_PFN_OFFSET + i, 4);
}

/* A delta in page frames, around the limits of the 4-byte form. */
static s64 gen_delta(u64 *s)
{
	const s64 lim = 1LL << 27;

	switch (rnd_below(s, 6)) {
	case 0:
		return (s64)rnd_below(s, 33) - 16;
	case 1:
		return lim - 2 + (s64)rnd_below(s, 4);
	case 2:
		return -lim - 2 + (s64)rnd_below(s, 4);
	case 3:
		return (s64)rnd_below(s, 2 * lim) - lim;
	case 4:
		return (s64)rnd_below(s, 1 << 20) - (1 << 19);
	default:
		return 1 + (s64)rnd_below(s, 64);
	}
}

static u64 gen_pages_len(u64 *s)
{
	switch (rnd_below(s, 8)) {
	case 0:
		return 1020 + rnd_below(s, 8);		/* 8-byte form limit */
	case 1:
		return 1 + rnd_below(s, 4096);
	default:
		return 1 + rnd_below(s, rnd_below(s, 3) ? 8 : 12);
	}
}

/* A range for phyr_list_append(), valid or not. */
static void gen_range(struct harness *h, phys_addr_t *addr, u64 *len,
		      bool *p2p)
{
	const struct phyr_model *m = &h->m;
	const struct phyr_model_range *last = m->nr ? &m->r[m->nr - 1] : NULL;
	u64 *s = &h->rng;
	phys_addr_t prev_end = last ? last->addr + (phys_addr_t)last->len :
				      (phys_addr_t)rnd(s);
	u64 max_len = PHYS_BITS == 64 ? U64_MAX : (u64)PHYS_TOP + 1;

	/* After a preload, favour the largest entries. */
	*p2p = !rnd_below(s, h->budget ? 2 : 10);
	switch (rnd_below(s, 20)) {
	case 0 ... 5:		/* close to the previous range: 4-byte form */
		*addr = (prev_end & ~(phys_addr_t)(PAGE_SIZE - 1)) +
			((phys_addr_t)gen_delta(s) << PAGE_SHIFT);
		*len = gen_pages_len(s) << PAGE_SHIFT;
		if (!rnd_below(s, 4))
			*p2p = false;
		break;
	case 6 ... 7:		/* right after it: merge */
		*addr = prev_end;
		*len = rnd_below(s, 2) ? gen_pages_len(s) << PAGE_SHIFT :
					 1 + rnd_below(s, 3 * PAGE_SIZE);
		if (last && rnd_below(s, 5))
			*p2p = last->p2p;
		break;
	case 8 ... 9:		/* anywhere, page-aligned */
		*addr = (phys_addr_t)rnd(s) & ~(phys_addr_t)(PAGE_SIZE - 1);
		*len = gen_pages_len(s) << PAGE_SHIFT;
		break;
	case 10 ... 11:		/* byte-granular */
		*addr = (phys_addr_t)rnd(s);
		if (rnd_below(s, 4))
			*len = 1 + rnd_below(s, 3 * PAGE_SIZE);
		else
			*len = (1ULL << 29) - 2 + rnd_below(s, 4);
		break;
	case 12:		/* huge */
		*len = (1ULL << 32) - 2 + rnd_below(s, 4);
		if (rnd_below(s, 2))
			*len = rnd(s) >> rnd_below(s, 40);
		if (!rnd_below(s, 3))
			*len &= ~(u64)(PAGE_SIZE - 1);
		*addr = (phys_addr_t)rnd(s);
		if (*len && *len <= max_len && rnd_below(s, 4))
			*addr = rnd_below(s, max_len - *len + 1);
		break;
	case 13:		/* at the top of the address space */
		*len = rnd_below(s, 2) ? gen_pages_len(s) << PAGE_SHIFT :
					 1 + rnd_below(s, 2 * PAGE_SIZE);
		*addr = PHYS_TOP - (phys_addr_t)(*len - 1);
		if (!rnd_below(s, 4))
			*addr += (phys_addr_t)rnd_below(s, 3) - 1;
		break;
	case 14:		/* at the bottom */
		*addr = rnd_below(s, 2) ? rnd_below(s, 4) << PAGE_SHIFT :
					  rnd_below(s, 64);
		*len = gen_pages_len(s) << PAGE_SHIFT;
		break;
	case 15:		/* empty */
		*addr = (phys_addr_t)rnd(s);
		*len = 0;
		break;
	case 16:		/* the length of the list overflows */
		*len = max_len - rnd_below(s, PAGE_SIZE);
		*addr = rnd_below(s, max_len - *len + 1);
		break;
	default:		/* overlapping or just apart */
		*addr = prev_end + (phys_addr_t)(rnd_below(s, 2 * PAGE_SIZE) -
						 PAGE_SIZE);
		*len = rnd_below(s, 2) ? gen_pages_len(s) << PAGE_SHIFT :
					 1 + rnd_below(s, 3 * PAGE_SIZE);
		break;
	}
}

static unsigned long add_run(struct page **pages, unsigned long n,
			     unsigned long max, unsigned long idx,
			     unsigned long nr)
{
	while (nr-- && n < max && idx < MEM_PAGES)
		pages[n++] = pfn_page(idx++);
	return n;
}

static struct folio *random_folio(u64 *s)
{
	if (rnd_below(s, 10) < 7)
		return folios[rnd_below(s, nr_folios)];
	return page_folio(pfn_page(rnd_below(s, MEM_PAGES)));
}

/* Fill @pages with up to @max pages in one of several patterns. */
static unsigned long gen_pages(struct harness *h, struct page **pages,
			       unsigned long max)
{
	const struct phyr_model *m = &h->m;
	u64 *s = &h->rng;
	unsigned long n = 0, want, i, idx;
	struct folio *folio;

	want = 1 + rnd_below(s, rnd_below(s, 8) ? 64 : max);
	switch (rnd_below(s, 6)) {
	case 0:			/* scattered */
		while (n < want)
			pages[n++] = pfn_page(rnd_below(s, MEM_PAGES));
		break;
	case 1:			/* one physically contiguous run */
		n = add_run(pages, 0, want, rnd_below(s, MEM_PAGES), want);
		break;
	case 2:			/* whole or partial folios */
		while (n < want) {
			folio = random_folio(s);
			idx = folio_pfn(folio) - SHIM_PFN_OFFSET;
			i = rnd_below(s, 3) ? 0 :
				rnd_below(s, folio_nr_pages(folio));
			n = add_run(pages, n, want, idx + i,
				    folio_nr_pages(folio) - i);
		}
		break;
	case 3:			/* a folio, slightly shuffled */
		folio = folios[rnd_below(s, nr_folios)];
		idx = folio_pfn(folio) - SHIM_PFN_OFFSET;
		n = add_run(pages, 0, max, idx, folio_nr_pages(folio));
		i = rnd_below(s, n);
		switch (rnd_below(s, 3)) {
		case 0:		/* swap two pages */
			if (i + 1 < n)
				swap(pages[i], pages[i + 1]);
			break;
		case 1:		/* repeat one */
			pages[i] = pages[i ? i - 1 : 0];
			break;
		default:	/* a page from elsewhere */
			pages[i] = pfn_page(rnd_below(s, MEM_PAGES));
			break;
		}
		break;
	case 4:			/* carry on from the last range */
		if (m->nr) {
			const struct phyr_model_range *r = &m->r[m->nr - 1];
			phys_addr_t end = r->addr + (phys_addr_t)r->len;
			unsigned long pfn = PHYS_PFN(end);

			if (!(end & (PAGE_SIZE - 1)) && shim_pfn_valid(pfn))
				n = add_run(pages, 0, want,
					    pfn - SHIM_PFN_OFFSET, want);
		}
		fallthrough;
	default:		/* a mix of the above */
		while (n < want) {
			idx = rnd_below(s, MEM_PAGES);
			switch (rnd_below(s, 3)) {
			case 0:
				n = add_run(pages, n, want, idx, 1);
				break;
			case 1:
				n = add_run(pages, n, want, idx,
					    1 + rnd_below(s, 20));
				break;
			default:
				folio = random_folio(s);
				n = add_run(pages, n, want,
					    folio_pfn(folio) - SHIM_PFN_OFFSET,
					    folio_nr_pages(folio));
				break;
			}
		}
		break;
	}
	return n;
}

static int op_append_pages(struct harness *h, unsigned long max)
{
	u64 *s = &h->rng;
	unsigned long n = gen_pages(h, page_buf, max);
	unsigned long offset = rnd_below(s, 4) ? 0 : rnd_below(s, PAGE_SIZE);
	u64 full = ((u64)n << PAGE_SHIFT) - offset;
	u64 min = full > PAGE_SIZE ? full - PAGE_SIZE + 1 : 1;
	u64 len = rnd_below(s, 3) ? full : min + rnd_below(s, full - min + 1);

	switch (rnd_below(s, 40)) {
	case 0:
		len = 0;
		break;
	case 1:
		offset += PAGE_SIZE;
		break;
	case 2:
		page_buf[n++] = pfn_page(rnd_below(s, MEM_PAGES));
		break;
	case 3:
		len = full + 1;
		break;
	}
	return h_append_pages(h, page_buf, n, offset, len, GFP_KERNEL);
}

static int op_append_folio(struct harness *h)
{
	u64 *s = &h->rng;
	struct folio *folio = random_folio(s);
	size_t size = folio_size(folio);
	size_t offset = 0, len;

	if (rnd_below(s, 2))
		offset = rnd_below(s, 2) ? rnd_below(s, size) :
			 rnd_below(s, folio_nr_pages(folio)) << PAGE_SHIFT;
	len = size - offset;
	if (rnd_below(s, 2))
		len = 1 + rnd_below(s, len);
	switch (rnd_below(s, 40)) {
	case 0:
		len = 0;
		break;
	case 1:
		offset = size + rnd_below(s, 2);
		break;
	case 2:
		len = size - offset + 1;
		break;
	}
	return h_append_folio(h, folio, offset, len, GFP_KERNEL);
}

static int op_append(struct harness *h)
{
	phys_addr_t addr;
	bool p2p;
	u64 len;

	gen_range(h, &addr, &len, &p2p);
	return h_append(h, addr, len, p2p,
			rnd_below(&h->rng, 2) ? GFP_KERNEL : GFP_NOWAIT);
}

/*
 * Build a second list and splice it onto @h's: empty, short or long,
 * sometimes preloaded, starting where @h's last range ends (a merge unless
 * P2P differs) or anywhere, sometimes long enough for the total length to
 * overflow; and sometimes into an empty @h, which takes its storage over.
 * The splice itself gets @h's failure injection.
 */
static int op_splice(struct harness *h)
{
	u64 *s = &h->rng;
	unsigned long n, i;
	struct harness src;
	int ret = 0;

	if (!h->budget && !rnd_below(s, 8))
		ret = h_destroy(h);
	/* Copying allocates less often than an append: fail more often. */
	if (!h->budget && !h->inj.nth && !h->inj.permille && rnd_below(s, 2))
		h->inj.nth = 1 + rnd_below(s, 3);
	h_init(&src, rnd(s));
	src.verbose = verbose;
	src.lazy = true;
	src.peer = h;
	h->peer = &src;
	n = rnd_below(s, 16) ? rnd_below(s, 6) : rnd_below(s, 1200);
	if (!ret && h->m.nr && rnd_below(s, 2)) {
		const struct phyr_model_range *last = &h->m.r[h->m.nr - 1];
		bool p2p = rnd_below(s, 4) ? last->p2p : !last->p2p;

		ret = h_append(&src, last_end(h, 0),
			       rnd_below(s, 2) ? gen_pages_len(s) << PAGE_SHIFT :
						 1 + rnd_below(s, 3 * PAGE_SIZE),
			       p2p, GFP_KERNEL);
	}
	for (i = 0; i < n && !ret; i++) {
		unsigned int r = rnd_below(&src.rng, 100);

		if (r < 60)
			ret = op_append(&src);
		else if (r < 80)
			ret = op_append_pages(&src, 64);
		else if (r < 95)
			ret = op_append_folio(&src);
		else
			ret = h_preload(&src, 1 + rnd_below(&src.rng, 16),
					GFP_KERNEL);
	}
	src.lazy = false;
	ret = ret || h_check(&src) ||
	      h_splice(h, &src, rnd_below(s, 2) ? GFP_KERNEL : GFP_NOWAIT);
	h->peer = NULL;
	total_ops += src.nr_ops;
	total_atomic += src.nr_atomic;
	h_exit(&src);
	return ret;
}

/* One random operation. */
static int random_op(struct harness *h, unsigned long max_ranges)
{
	u64 *s = &h->rng;
	unsigned int r;
	int ret;

	memset(&h->inj, 0, sizeof(h->inj));
	if (!rnd_below(s, 4)) {
		if (rnd_below(s, 2)) {
			h->inj.nth = 1 + rnd_below(s, 4);
		} else {
			h->inj.after = rnd_below(s, 8);
			h->inj.permille = 1 + rnd_below(s, 1000);
			h->inj.seed = rnd(s);
		}
	}
	r = rnd_below(s, 1000);
	if (h->budget && r >= 150)
		r %= 750;		/* mostly appends after a preload */
	if (h->m.nr > max_ranges || (h->m.length >> 63 && r < 100))
		r = 999;
	if (r < 370)
		ret = op_append(h);
	else if (r < 560)
		ret = op_append_pages(h, rnd_below(s, 8) ? 64 : MAX_PAGES);
	else if (r < 580)
		ret = op_splice(h);
	else if (r < 750)
		ret = op_append_folio(h);
	else if (r < 800)
		ret = h_preload(h, rnd_below(s, 8) ? 1 + rnd_below(s, 16) :
				1 + rnd_below(s, 600), GFP_KERNEL);
	else if (r < 890)
		ret = h_check_seeks(h, 8);
	else if (r < 960)
		ret = h_check_blocks(h, rnd_below(s, 3) ? PAGE_SHIFT :
				     rnd_below(s, PHYS_BITS), 1 << 14);
	else if (r < 995)
		ret = h_check_seek(h, rnd_below(s, h->m.length + 1), 4);
	else
		ret = h_destroy(h);
	memset(&h->inj, 0, sizeof(h->inj));
	return ret;
}

static void report(const char *name, int ret)
{
	if (ret) {
		nr_failed++;
		printf("FAIL: %s\n", name);
	} else {
		nr_passed++;
		if (verbose)
			printf("ok: %s\n", name);
	}
	fflush(stdout);
}

static int random_case(u64 seed, unsigned long nr_ops)
{
	struct harness h;
	unsigned long i, max_ranges;
	int ret = 0;

	h_init(&h, seed);
	h.verbose = verbose;
	switch (rnd_below(&h.rng, 10)) {
	case 0:
		max_ranges = 5000;
		break;
	case 1 ... 3:
		max_ranges = 800;
		break;
	default:
		max_ranges = 100;
		break;
	}
	for (i = 0; i < nr_ops && !ret; i++) {
		ret = random_op(&h, max_ranges);
		max_nr = max(max_nr, h.m.nr);
	}
	total_ops += h.nr_ops;
	total_enomem += h.nr_enomem;
	total_atomic += h.nr_atomic;
	total_splices += h.nr_splices;
	total_moves += h.nr_moves;
	total_splice_enomem += h.nr_splice_enomem;
	if (!ret)
		ret = h_destroy(&h);
	if (ret)
		fprintf(stderr, "random case with seed %#llx failed at op %lu\n",
			(unsigned long long)seed, h.nr_ops - 1);
	h_exit(&h);
	shim_fail_off();
	return ret;
}

/* Directed tests. */

static int t_empty(void)
{
	DEFINE_PHYR_LIST(pl);
	struct harness h;
	struct phyr_iter iter;
	struct phyr r;
	int ret;

	if (!phyr_list_empty(&pl) || phyr_list_length(&pl) ||
	    phyr_list_nr_ranges(&pl) || phyr_list_max_addr(&pl) ||
	    phyr_list_has_p2p(&pl) || phyr_list_mem_bytes(&pl))
		return -1;
	phyr_iter_init(&iter, &pl);
	if (phyr_iter_next(&iter, &r) || phyr_iter_seek(&iter, 0))
		return -1;
	phyr_list_destroy(&pl);
	if (shim_live_allocs)
		return -1;

	h_init(&h, 1);
	ret = h_check(&h) || h_check_seeks(&h, 4) ||
	      h_check_blocks(&h, PAGE_SHIFT, 100) || h_preload(&h, 0, 0) ||
	      h_destroy(&h);
	h_exit(&h);
	return ret;
}

static int t_single(void)
{
	static const struct {
		phys_addr_t addr;
		u64 len;
		bool p2p;
	} ranges[] = {
		{ 0x1000, 0x1000 },
		{ 0x1234, 1 },
		{ 0, 1 },
		{ PHYS_TOP, 1 },
		{ PHYS_TOP - 0xfff, 0x1000, true },
		{ 0x100000000ULL & PHYS_TOP, 0x8000000 },
		{ 0, (u64)PHYS_TOP + 1 },
		{ 0x200000, 0x40000000, true },
	};
	struct harness h;
	unsigned long i;
	int ret = 0;

	h_init(&h, 2);
	for (i = 0; i < ARRAY_SIZE(ranges) && !ret; i++) {
		/* One range, then a merge: both inline, no allocation. */
		ret = h_append(&h, ranges[i].addr, ranges[i].len,
			       ranges[i].p2p, GFP_KERNEL) ||
		      h_check_seeks(&h, 4) || h_check_blocks(&h, 12, 4096);
		if (!ret && ranges[i].addr + ranges[i].len)
			ret = h_append(&h, ranges[i].addr + ranges[i].len, 1,
				       ranges[i].p2p, GFP_NOWAIT);
		ret = ret || h_check_seeks(&h, 4) || h_destroy(&h);
	}
	h_exit(&h);
	return ret;
}

static int t_merge(void)
{
	struct harness h;
	int ret;

	h_init(&h, 3);
	ret = h_append(&h, 0x10000, 0x1000, false, GFP_KERNEL) ||
	      h_append(&h, 0x11000, 0x3000, false, GFP_KERNEL) ||  /* merge */
	      h_append(&h, 0x14000, 0x1000, true, GFP_KERNEL) ||   /* p2p */
	      h_append(&h, 0x15000, 0x1000, true, GFP_KERNEL) ||   /* merge */
	      h_append(&h, 0x16000, 0x1000, false, GFP_KERNEL) ||  /* host */
	      h_append(&h, 0x16000, 0x1000, false, GFP_KERNEL) ||  /* again */
	      h_append(&h, 0x17000, 7, false, GFP_KERNEL) ||
	      h_append(&h, 0x17007, 0x2ff9, false, GFP_KERNEL) ||
	      h_append(&h, PHYS_TOP - 0xfff, 0x1000, false, GFP_KERNEL) ||
	      h_append(&h, 0, 0x1000, false, GFP_KERNEL) ||        /* no wrap */
	      h_append(&h, 0x1000, 0x1000, false, GFP_KERNEL) ||
	      h_check_seeks(&h, 16) || h_destroy(&h);
	h_exit(&h);
	return ret;
}

static int t_einval(void)
{
	struct folio *folio = folios[0];
	struct harness h;
	int ret, i;

	for (i = 0; i < 3; i++)
		page_buf[i] = pfn_page(10 + i);
	h_init(&h, 4);
	shim_warn_quiet = true;
	ret = h_append(&h, 0x1000, 0, false, GFP_KERNEL) ||
	      h_append(&h, PHYS_TOP, 2, false, GFP_KERNEL) ||
	      h_append(&h, PHYS_TOP - 0xfff, 0x1001, true, GFP_KERNEL) ||
	      h_append(&h, 1, PHYS_BITS == 64 ? U64_MAX : 1ULL << 32, false,
		       GFP_KERNEL) ||
	      h_append_folio(&h, folio, 0, 0, GFP_KERNEL) ||
	      h_append_folio(&h, folio, folio_size(folio), 1, GFP_KERNEL) ||
	      h_append_folio(&h, folio, 1, folio_size(folio), GFP_KERNEL) ||
	      h_append_pages(&h, page_buf, 1, 0, 0, GFP_KERNEL) ||
	      h_append_pages(&h, page_buf, 0, 0, 1, GFP_KERNEL) ||
	      h_append_pages(&h, page_buf, 1, PAGE_SIZE, 1, GFP_KERNEL) ||
	      h_append_pages(&h, page_buf, 2, 0, PAGE_SIZE, GFP_KERNEL) ||
	      h_append_pages(&h, page_buf, 1, 1, PAGE_SIZE, GFP_KERNEL) ||
	      h_append_pages(&h, page_buf, 3, 1, 2 * PAGE_SIZE - 1,
			     GFP_KERNEL) ||
	      h_append_pages(&h, page_buf, 1, 0, U64_MAX, GFP_KERNEL) ||
	      /* and the same on a chunked list */
	      h_append(&h, 0x1000, 0x1000, false, GFP_KERNEL) ||
	      h_append(&h, 0x3000, 0x1000, false, GFP_KERNEL) ||
	      h_append(&h, 0x4000, 0, false, GFP_KERNEL) ||
	      h_append(&h, PHYS_TOP, 2, true, GFP_KERNEL) ||
	      h_append_pages(&h, page_buf, 3, 0, PAGE_SIZE, GFP_KERNEL) ||
	      h_destroy(&h);
	shim_warn_quiet = false;
	h_exit(&h);
	return ret;
}

static int t_eoverflow(void)
{
	struct harness h;
	int ret = 0;

	page_buf[0] = pfn_page(0);
	h_init(&h, 5);
	if (PHYS_BITS == 64) {
		/* A valid range of 2^64 - 1 bytes; one more byte overflows. */
		ret = h_append(&h, 0, U64_MAX, false, GFP_KERNEL) ||
		      h_append(&h, PHYS_TOP, 1, false, GFP_KERNEL) ||
		      h_append(&h, 0x1000, 1, true, GFP_KERNEL) ||
		      h_append_pages(&h, page_buf, 1, 0, 1, GFP_KERNEL) ||
		      h_append_folio(&h, folios[0], 0, 1, GFP_KERNEL) ||
		      h_check_seeks(&h, 8) || h_destroy(&h) ||
		      h_append(&h, 0x1000, 0x1000, false, GFP_KERNEL) ||
		      h_append(&h, 0x3000, U64_MAX - 0x2000, false,
			       GFP_KERNEL) ||
		      h_append(&h, 0x2000, 0x1000, false, GFP_KERNEL) ||
		      h_append(&h, 0x2000, 0x1001, false, GFP_KERNEL) ||
		      h_append_pages(&h, page_buf, 1, 0, 1, GFP_KERNEL) ||
		      h_check_seeks(&h, 8) || h_destroy(&h);
	}
	h_exit(&h);
	return ret;
}

/* The range at index @n of @pl and its flags; false if there is none. */
static bool nth_range(const struct phyr_list *pl, unsigned long n,
		      struct phyr *r, unsigned int *flags)
{
	struct phyr_iter iter;

	phyr_iter_init(&iter, pl);
	do {
		if (!phyr_iter_next(&iter, r))
			return false;
	} while (n--);
	*flags = iter.flags;
	return true;
}

/*
 * phyr_list_append_dma() never looks a DMA address up as memory: a range
 * at the address of a P2P page is not P2P, a bus address is whatever its
 * address, each merges with its own kind only, and a failure leaves the
 * list as it was, not marked as a DMA list.
 */
static int t_append_dma(void)
{
	const phys_addr_t p2p = PFN_PHYS(SHIM_PFN_OFFSET + 3 * (MEM_PAGES / 4));
	const phys_addr_t host = PFN_PHYS(SHIM_PFN_OFFSET + 8);
	DEFINE_PHYR_LIST(pl);
	unsigned int flags;
	struct phyr r;
	int ret;

	if (!pfn_valid(PHYS_PFN(p2p)) ||
	    !is_pci_p2pdma_page(pfn_to_page(PHYS_PFN(p2p))))
		return -1;
	/* Failures first: the list stays empty and unmarked. */
	if (phyr_list_append_dma(&pl, p2p, 0, false, GFP_KERNEL) != -EINVAL ||
	    (sizeof(phys_addr_t) < sizeof(dma_addr_t) &&
	     phyr_list_append_dma(&pl, (dma_addr_t)-1, 1, false,
				  GFP_KERNEL) != -EOVERFLOW) ||
	    pl.flags)
		return -1;
	if (phyr_list_append_dma(&pl, p2p, PAGE_SIZE, false, GFP_KERNEL) ||
	    phyr_list_append_dma(&pl, p2p + PAGE_SIZE, PAGE_SIZE, false,
				 GFP_KERNEL) ||
	    !(pl.flags & PHYR_LIST_DMA) || phyr_list_has_p2p(&pl))
		return -1;
	/* A bus address, next to the last range: a range of its own. */
	if (phyr_list_append_dma(&pl, p2p + 2 * PAGE_SIZE, PAGE_SIZE, true,
				 GFP_KERNEL) ||
	    phyr_list_append_dma(&pl, p2p + 3 * PAGE_SIZE, PAGE_SIZE, true,
				 GFP_KERNEL) ||
	    phyr_list_append_dma(&pl, host, PAGE_SIZE, true, GFP_KERNEL) ||
	    phyr_list_nr_ranges(&pl) != 3 || !phyr_list_has_p2p(&pl))
		return -1;
	if (!nth_range(&pl, 0, &r, &flags) || r.addr != p2p ||
	    r.len != 2 * PAGE_SIZE || flags ||
	    !nth_range(&pl, 1, &r, &flags) || r.addr != p2p + 2 * PAGE_SIZE ||
	    r.len != 2 * PAGE_SIZE || flags != PHYR_RANGE_P2P ||
	    !nth_range(&pl, 2, &r, &flags) || r.addr != host ||
	    flags != PHYR_RANGE_P2P)
		return -1;
	/* Only a DMA list, or an empty one, takes DMA ranges. */
	phyr_list_destroy(&pl);
	if (phyr_list_append(&pl, host, PAGE_SIZE, GFP_KERNEL) ||
	    phyr_list_append_dma(&pl, p2p, PAGE_SIZE, false, GFP_KERNEL) !=
	    -EINVAL || pl.flags & PHYR_LIST_DMA ||
	    phyr_list_nr_ranges(&pl) != 1)
		return -1;
	phyr_list_destroy(&pl);
	/* An allocation that fails: the list stays as it was. */
	if (phyr_list_append_dma(&pl, host, PAGE_SIZE, false, GFP_KERNEL))
		return -1;
	shim_fail_all();
	ret = phyr_list_append_dma(&pl, p2p, PAGE_SIZE, false, GFP_KERNEL);
	shim_fail_off();
	if (ret != -ENOMEM || phyr_list_nr_ranges(&pl) != 1 ||
	    phyr_list_length(&pl) != PAGE_SIZE || !(pl.flags & PHYR_LIST_DMA))
		return -1;
	phyr_list_destroy(&pl);
	return shim_live_allocs ? -1 : 0;
}

/* Ranges on both sides of every limit of the entry forms. */
static int t_forms(void)
{
	static const s64 deltas[] = {
		0, 1, -1, 2, (1 << 27) - 1, 1 << 27, -(1 << 27),
		-(1 << 27) - 1, (1 << 27) + 1, -(1 << 27) + 1, 1 << 20,
	};
	static const u64 lens[] = {
		PAGE_SIZE, 8 * PAGE_SIZE, 9 * PAGE_SIZE, 1024 * PAGE_SIZE,
		1025 * PAGE_SIZE, 1ULL << 29, (1ULL << 29) + 1,
		(1ULL << 29) + PAGE_SIZE, 1, PAGE_SIZE - 1, PAGE_SIZE + 1,
		(1ULL << 32) + PAGE_SIZE,
	};
	phys_addr_t base = PHYS_BITS == 64 ? 0x4000000000ULL : 0x40000000;
	struct harness h;
	unsigned int i, j, k;
	int ret = 0;

	h_init(&h, 6);
	for (k = 0; k < 2 && !ret; k++) {
		for (i = 0; i < ARRAY_SIZE(deltas) && !ret; i++) {
			for (j = 0; j < ARRAY_SIZE(lens) && !ret; j++) {
				phys_addr_t end = last_end(&h, base);

				end &= ~(phys_addr_t)(PAGE_SIZE - 1);
				ret = h_append(&h, end + ((phys_addr_t)deltas[i]
							  << PAGE_SHIFT),
					       lens[j], false, GFP_KERNEL);
			}
		}
		/* The same again from near the top of the address space. */
		base = PHYS_TOP - ((phys_addr_t)1 << 29);
		ret = ret || h_check_seeks(&h, 64) ||
		      h_check_blocks(&h, 21, 1 << 16) || h_destroy(&h);
	}
	h_exit(&h);
	return ret;
}

/*
 * Grow the last range through every entry form when it sits at every
 * position of the first leaves, so that growing moves it to a new leaf.
 */
static int t_grow(void)
{
	static const u64 grow[] = {
		PAGE_SIZE, 6 * PAGE_SIZE, PAGE_SIZE, 1016 * PAGE_SIZE,
		PAGE_SIZE, 1ULL << 28, 1ULL << 28, PAGE_SIZE, 3, PAGE_SIZE,
	};
	struct harness h;
	unsigned long n, i;
	int ret = 0;

	h_init(&h, 7);
	for (n = 1; n < 1300 && !ret; n += n < 80 || n > 1000 ? 1 : 37) {
		h.lazy = true;
		for (i = 0; i < n && !ret; i++)
			ret = h_append(&h, (phys_addr_t)(2 * i + 1) << PAGE_SHIFT,
				       PAGE_SIZE, false, GFP_KERNEL);
		h.lazy = false;
		for (i = 0; i < ARRAY_SIZE(grow) && !ret; i++) {
			ret = h_append(&h, last_end(&h, 0), grow[i],
				       i == ARRAY_SIZE(grow) - 1, GFP_KERNEL);
		}
		ret = ret || h_check_seeks(&h, 16) || h_destroy(&h);
	}
	h_exit(&h);
	return ret;
}

static int t_top(void)
{
	struct harness h;
	int ret;

	h_init(&h, 8);
	ret = h_append(&h, PHYS_TOP - 0x3fff, 0x1000, false, GFP_KERNEL) ||
	      h_append(&h, PHYS_TOP - 0x1fff, 0x1000, false, GFP_KERNEL) ||
	      h_append(&h, PHYS_TOP - 0x0fff, 0x1000, false, GFP_KERNEL) ||
	      h_append(&h, 0, 0x1000, false, GFP_KERNEL) ||
	      h_append(&h, PHYS_TOP - 0x7fff, 0x8000, false, GFP_KERNEL) ||
	      h_append(&h, 0x2000, 0x1000, false, GFP_KERNEL) ||
	      h_append(&h, PHYS_TOP, 1, true, GFP_KERNEL) ||
	      h_append(&h, PHYS_TOP - 0x17fff, 0x1000, false, GFP_KERNEL) ||
	      h_check_seeks(&h, 16) || h_check_blocks(&h, PAGE_SHIFT, 100) ||
	      h_check_blocks(&h, PHYS_BITS - 1, 100) || h_destroy(&h);
	/* Just below and above 2^44, where a page frame needs 33 bits. */
	if (!ret && PHYS_BITS == 64) {
		const phys_addr_t t44 = (phys_addr_t)(1ULL << 44);

		ret = h_append(&h, t44 - 0x2000, 0x1000, false, 0) ||
		      h_append(&h, t44, 0x1000, false, 0) ||
		      h_append(&h, t44 + 0x2000, 0x1000, false, 0) ||
		      h_append(&h, t44 - 0x1000, 0x1000, false, 0) ||
		      h_append(&h, 2 * t44 + 0x1000, 0x1000, false, 0) ||
		      h_append(&h, 2 * t44 - 0x1000, 0x1000, false, 0) ||
		      h_check_seeks(&h, 16) || h_destroy(&h);
	}
	h_exit(&h);
	return ret;
}

static int t_pages(void)
{
	struct folio *big = NULL, *p2p = NULL;
	unsigned long i, n, idx;
	struct harness h;
	int ret = 0;

	for (i = 0; i < nr_folios; i++) {
		if (!big && folio_order(folios[i]) == 9 &&
		    !is_pci_p2pdma_page(&folios[i]->page) &&
		    i + 1 < nr_folios && folio_order(folios[i + 1]) == 9 &&
		    folio_pfn(folios[i + 1]) == folio_pfn(folios[i]) + 512)
			big = folios[i];
		if (!p2p && is_pci_p2pdma_page(&folios[i]->page))
			p2p = folios[i];
	}
	if (!big || !p2p)
		return -1;
	idx = folio_pfn(big) - SHIM_PFN_OFFSET;
	h_init(&h, 9);
	/* Two adjacent folios: one range. */
	n = add_run(page_buf, 0, MAX_PAGES, idx, 1024);
	ret = h_append_pages(&h, page_buf, n, 0, (u64)n << PAGE_SHIFT, 0);
	/* Part of a folio, with an offset, and a short last page. */
	n = add_run(page_buf, 0, MAX_PAGES, idx + 5, 100);
	ret = ret || h_append_pages(&h, page_buf, n, 0x123,
				    ((u64)n << PAGE_SHIFT) - 0x123 - 0x456, 0);
	/* Folio pages out of order, repeated, and a stranger. */
	n = add_run(page_buf, 0, MAX_PAGES, idx, 512);
	swap(page_buf[10], page_buf[11]);
	page_buf[100] = page_buf[99];
	page_buf[200] = pfn_page(7);
	page_buf[511] = page_buf[0];
	ret = ret || h_append_pages(&h, page_buf, n, 0, (u64)n << PAGE_SHIFT,
				    0);
	/* Peer-to-peer pages next to host pages. */
	idx = folio_pfn(p2p) - SHIM_PFN_OFFSET;
	n = add_run(page_buf, 0, MAX_PAGES, idx - 40, 100);
	ret = ret || h_append_pages(&h, page_buf, n, 0, (u64)n << PAGE_SHIFT,
				    0);
	n = add_run(page_buf, 0, MAX_PAGES, 3 * MEM_PAGES / 4 - 3, 6);
	ret = ret || h_append_pages(&h, page_buf, n, 9, (u64)n * PAGE_SIZE - 9,
				    0);
	ret = ret || h_append_folio(&h, p2p, 0, folio_size(p2p), 0) ||
	      h_append_folio(&h, big, 0x800, 0x100, 0) ||
	      h_append_folio(&h, big, 0x900, folio_size(big) - 0x900, 0) ||
	      h_check_seeks(&h, 64) || h_check_blocks(&h, PAGE_SHIFT, 1 << 16) ||
	      h_destroy(&h);
	h_exit(&h);
	return ret;
}

/*
 * After phyr_list_preload(n), n appends of the largest entries, merges
 * that change an entry's form, and the first append to an empty or
 * one-range list, all without allocating.
 */
static int t_preload(void)
{
	static const unsigned long nrs[] = { 1, 2, 3, 5, 10, 100, 203, 204,
					     1000, 5000 };
	unsigned long start, i, j;
	struct harness h;
	int ret = 0;

	h_init(&h, 10);
	for (start = 0; start < 2000 && !ret;
	     start = start < 3 ? start + 1 : start * 3) {
		for (i = 0; i < ARRAY_SIZE(nrs) && !ret; i++) {
			h.lazy = true;
			for (j = 0; j < start && !ret; j++)
				ret = h_append(&h, (phys_addr_t)(3 * j + 1) <<
					       PAGE_SHIFT, PAGE_SIZE, false, 0);
			ret = ret || h_preload(&h, nrs[i], GFP_KERNEL);
			for (j = 0; j < nrs[i] && !ret; j++) {
				phys_addr_t end = last_end(&h, 0x1000);

				h.lazy = j + 1 < nrs[i];
				if (j % 3 == 2)
					ret = h_append(&h, end, 1ULL << 30,
						       false, GFP_ATOMIC);
				else
					ret = h_append(&h, end + 0x1001, 0x10,
						       j % 3, GFP_ATOMIC);
			}
			ret = ret || h_check_seeks(&h, 8) || h_destroy(&h);
		}
	}
	h_exit(&h);
	return ret;
}

/*
 * phyr_list_append_pages() takes one preloaded append per range it adds,
 * even when its first pages merge into the last range and move that
 * entry to a new leaf: fill lists of every length with one-page ranges,
 * preload n, then append 8 pages that grow the last range out of the
 * 4-byte form, followed by n pages of peer-to-peer memory (largest form).
 */
static int t_preload_pages(void)
{
	static const unsigned long nrs[] = { 1, 2, 4, 5, 6, 10, 202, 203, 204 };
	const unsigned long p2p_idx = 3 * MEM_PAGES / 4;
	unsigned long k, i, j, n;
	struct harness h;
	int ret = 0;

	h_init(&h, 14);
	for (k = 1; k < 1200 && !ret; k += k < 300 ? 1 : 7) {
		for (i = 0; i < ARRAY_SIZE(nrs) && !ret; i++) {
			h.lazy = true;
			for (j = 0; j < k && !ret; j++)
				ret = h_append(&h, page_to_phys(pfn_page(2 * j)),
					       PAGE_SIZE, false, 0);
			ret = ret || h_preload(&h, nrs[i], 0);
			n = add_run(page_buf, 0, MAX_PAGES, 2 * k - 1, 8);
			for (j = 0; j < nrs[i]; j++)
				page_buf[n++] = pfn_page(p2p_idx + 2 * j);
			h.lazy = false;
			ret = ret || h_append_pages(&h, page_buf, n, 0,
						    (u64)n << PAGE_SHIFT,
						    GFP_ATOMIC) ||
			      h_destroy(&h);
		}
	}
	h_exit(&h);
	return ret;
}

/*
 * Fail each allocation of a large append_pages() and of a preload in
 * turn: -ENOMEM with the list untouched, until the operation succeeds.
 */
static int t_fail_nth(void)
{
	unsigned long n, i, nth, failed, round, sweeps = 0;
	struct harness h;
	u64 rng = 11;
	int ret = 0;

	h_init(&h, 11);
	for (i = 0; i < 300 && !ret; i++)
		ret = h_append(&h, (phys_addr_t)(5 * i + 1) << PAGE_SHIFT,
			       PAGE_SIZE, false, 0);
	ret = ret || h_preload(&h, 7, GFP_KERNEL);
	/* Spares first, then fresh chunks: enough rounds to need them. */
	for (round = 0; round < 4 && !ret; round++) {
		n = 0;
		while (n < MAX_PAGES)
			page_buf[n++] = pfn_page(rnd_below(&rng, MEM_PAGES));
		for (nth = 1; !ret; nth++) {
			failed = shim_nr_failed;
			h.inj.nth = nth;
			h.lazy = true;
			ret = h_append_pages(&h, page_buf, n, 0,
					     (u64)n << PAGE_SHIFT, GFP_KERNEL);
			h.lazy = false;
			ret = ret || h_check(&h);
			if (shim_nr_failed == failed)
				break;
			sweeps++;
		}
	}
	if (!ret && sweeps < 2)
		ret = h_fail(&h, __FILE__, __LINE__, "only %lu allocations",
			     sweeps);
	for (nth = 1; !ret; nth++) {
		failed = shim_nr_failed;
		h.inj.nth = nth;
		ret = h_preload(&h, 3000, GFP_KERNEL);
		if (shim_nr_failed == failed)
			break;
	}
	memset(&h.inj, 0, sizeof(h.inj));
	ret = ret || h_destroy(&h);
	h_exit(&h);
	return ret;
}

/* A list big enough for a deep index, then seeks everywhere. */
static int t_big(void)
{
	unsigned long i, nr = 300000;
	struct harness h;
	u64 rng = 12;
	int ret = 0;

	h_init(&h, 12);
	h.lazy = true;
	for (i = 0; i < nr && !ret; i++) {
		phys_addr_t addr = (phys_addr_t)(rnd_below(&rng, 1 << 20) + 1)
				   << PAGE_SHIFT;

		ret = h_append(&h, addr, (1 + rnd_below(&rng, 4)) << PAGE_SHIFT,
			       !rnd_below(&rng, 500), GFP_KERNEL);
	}
	h.lazy = false;
	ret = ret || h_check(&h) || h_check_seeks(&h, 2000) ||
	      h_check_blocks(&h, PAGE_SHIFT, 1 << 22) || h_destroy(&h);
	h_exit(&h);
	return ret;
}

/*
 * Readers of one list at the same time, each with an iterator of its own
 * that it keeps, as rxe and siw keep a umem cursor per QP: seeks a little
 * ahead of the last one (the leaf's marks, the next leaf), far ahead,
 * back, and on to the next range, each checked against the model.
 */
struct reader {
	const struct harness *h;
	pthread_t thread;
	u64 rng;
	unsigned long steps, bad;
};

static void *reader_walk(void *data)
{
	struct reader *rd = data;
	const struct phyr_model *m = &rd->h->m;
	struct phyr_iter iter;
	unsigned long k, i;
	u64 off = 0, skip;
	struct phyr r;

	phyr_iter_init(&iter, &rd->h->pl);
	for (k = 0; k < rd->steps; k++) {
		switch (rnd_below(&rd->rng, 8)) {
		case 0:
			off = rnd_below(&rd->rng, m->length);
			break;
		case 1:
			off += rnd_below(&rd->rng, 64 << PAGE_SHIFT);
			break;
		default:
			off += rnd_below(&rd->rng, 3 << PAGE_SHIFT);
		}
		if (off >= m->length)
			off = 0;
		i = phyr_model_find(m, off);
		skip = off - m->r[i].start;
		if (!phyr_iter_seek(&iter, off) || !phyr_iter_next(&iter, &r) ||
		    r.addr != m->r[i].addr + skip || r.len != m->r[i].len - skip)
			rd->bad++;
		/* and the range after it, without a seek */
		if (++i < m->nr && (!phyr_iter_next(&iter, &r) ||
				    r.addr != m->r[i].addr ||
				    r.len != m->r[i].len))
			rd->bad++;
	}
	return NULL;
}

static int t_readers(void)
{
	struct reader rd[8];
	struct harness h;
	unsigned long i, n = 0, bad = 0;
	u64 rng = 13;
	int ret = 0;

	h_init(&h, 13);
	h.lazy = true;
	for (i = 0; i < 100000 && !ret; i++) {
		phys_addr_t addr = (phys_addr_t)(rnd_below(&rng, 1 << 18) + 1)
				   << PAGE_SHIFT;

		ret = h_append(&h, addr, (1 + rnd_below(&rng, 4)) << PAGE_SHIFT,
			       false, GFP_KERNEL);
	}
	h.lazy = false;
	ret = ret || h_check(&h);
	for (i = 0; i < ARRAY_SIZE(rd) && !ret; i++) {
		rd[i] = (struct reader){ .h = &h, .rng = 100 + i,
					 .steps = 20000 };
		if (pthread_create(&rd[i].thread, NULL, reader_walk, &rd[i]))
			break;
		n++;
	}
	for (i = 0; i < n; i++) {
		pthread_join(rd[i].thread, NULL);
		bad += rd[i].bad;
	}
	if (!ret && (n < ARRAY_SIZE(rd) || bad)) {
		fprintf(stderr, "readers: %lu of %zu ran, %lu wrong ranges\n",
			n, ARRAY_SIZE(rd), bad);
		ret = -1;
	}
	ret = ret || h_destroy(&h);
	h_exit(&h);
	return ret;
}

static int t_reuse(void)
{
	struct harness h;
	int ret = 0, i;

	h_init(&h, 13);
	for (i = 0; i < 3 && !ret; i++)
		ret = h_append(&h, 0x1000, 0x1000, false, 0) ||
		      h_append(&h, 0x5000, 0x1000, false, 0) ||
		      h_preload(&h, 50, 0) || h_destroy(&h) ||
		      h_preload(&h, 1, 0) || h_destroy(&h) ||
		      h_append(&h, 0x1000, 0x1000, true, 0) || h_destroy(&h);
	h_exit(&h);
	return ret;
}

/* Fill @h with @n one-page ranges two pages apart from page @first. */
static int fill_pages(struct harness *h, unsigned long first, unsigned long n,
		      bool p2p)
{
	unsigned long i;
	int ret = 0;

	h->lazy = true;
	for (i = 0; i < n && !ret; i++)
		ret = h_append(h, (phys_addr_t)(first + 2 * i) << PAGE_SHIFT,
			       PAGE_SIZE, p2p, 0);
	h->lazy = false;
	return ret || h_check(h);
}

/*
 * Splices of every shape: an empty source, into an empty list (which takes
 * the storage over), into one inline range with and without a merge, long
 * lists meeting with a merge, across P2P and not, preloaded lists on
 * either side, overflows, and every allocation of a long splice failing
 * in turn.
 */
static int t_splice(void)
{
	static const unsigned long sizes[] = { 0, 1, 2, 700, 3000 };
	const unsigned long long_src = 6 * PAGE_SIZE / 4;	/* 6+ leaves */
	unsigned long i, j, k, nth, failed, sweeps = 0;
	const u64 half = 1ULL << 63;
	struct harness h, src;
	int ret = 0;

	h_init(&h, 15);
	h_init(&src, 16);
	h.peer = &src;
	src.peer = &h;
	for (i = 0; i < ARRAY_SIZE(sizes) && !ret; i++) {
		for (j = 0; j < ARRAY_SIZE(sizes) && !ret; j++) {
			for (k = 0; k < 8 && !ret; k++) {
				unsigned long base = sizes[i] ? 2 * sizes[i] : 7;
				bool p2p = k & 1;

				ret = h_destroy(&h) || h_destroy(&src) ||
				      fill_pages(&h, 1, sizes[i], false) ||
				      (k & 4 && h_preload(&h, 3, 0)) ||
				      (k & 2 && h_preload(&src, 5, 0));
				/* Starts where the last range ends: merge? */
				if (!ret && sizes[j])
					ret = h_append(&src, (phys_addr_t)base <<
						       PAGE_SHIFT, PAGE_SIZE,
						       p2p, 0) ||
					      fill_pages(&src, base + 3,
							 sizes[j] - 1, p2p);
				ret = ret || h_splice(&h, &src, GFP_KERNEL) ||
				      h_check_seeks(&h, 8);
			}
		}
	}
	/* The source is reusable: fill it again, splice it again. */
	ret = ret || fill_pages(&src, 1 << 20, 50, true) ||
	      h_splice(&h, &src, 0) || fill_pages(&src, 1 << 21, 50, false) ||
	      h_splice(&h, &src, 0) || h_check_seeks(&h, 8);
	/* Back into an emptied list: moved again. */
	ret = ret || h_destroy(&src) || h_splice(&src, &h, 0) ||
	      h_check_seeks(&src, 8);
	/* Lengths that overflow, and one that just fits. */
	if (!ret && PHYS_BITS == 64)
		ret = h_destroy(&h) || h_destroy(&src) ||
		      h_append(&h, 0, half, false, 0) ||
		      fill_pages(&h, 1 << 20, 500, false) ||
		      h_append(&src, (phys_addr_t)(half >> 1),
			       U64_MAX - h.m.length + 1, false, 0) ||
		      H_FAILED(&h, src.m.nr == 1, "no source") ||
		      h_splice(&h, &src, 0) || h_destroy(&src) ||
		      fill_pages(&src, 1 << 21, 500, false) ||
		      h_append(&src, (phys_addr_t)(half >> 1),
			       U64_MAX - h.m.length - src.m.length, true, 0) ||
		      h_splice(&h, &src, 0) ||
		      H_FAILED(&h, h.m.length == U64_MAX, "no fit") ||
		      h_append(&src, 0x1000, 1, false, 0) ||
		      H_FAILED(&h, src.m.nr == 1, "no source") ||
		      h_splice(&h, &src, 0) ||
		      H_FAILED(&h, src.m.nr == 1, "no overflow");
	/* Every allocation of a splice of long lists fails in turn. */
	for (k = 0; k < 4 && !ret; k++) {
		ret = h_destroy(&h) || h_destroy(&src) ||
		      fill_pages(&h, 1, 1500, false) ||
		      (k & 1 && h_preload(&h, 2, 0)) ||
		      fill_pages(&src, 3001 + 2 * (k & 2), long_src, false) ||
		      h_append(&src, 0x1000, 1ULL << 40, true, 0);
		for (nth = 1; !ret; nth++) {
			failed = shim_nr_failed;
			h.inj.nth = nth;
			ret = h_splice(&h, &src, GFP_KERNEL);
			if (shim_nr_failed == failed)
				break;
			sweeps++;
		}
		memset(&h.inj, 0, sizeof(h.inj));
	}
	if (!ret && sweeps < 8)
		ret = h_fail(&h, __FILE__, __LINE__, "only %lu failed splices",
			     sweeps);
	h.peer = NULL;
	src.peer = NULL;
	ret = ret || h_destroy(&h) || h_destroy(&src);
	h_exit(&h);
	h_exit(&src);
	return ret;
}

static const struct {
	const char *name;
	int (*fn)(void);
} unit_tests[] = {
	{ "empty", t_empty },
	{ "single", t_single },
	{ "merge", t_merge },
	{ "einval", t_einval },
	{ "eoverflow", t_eoverflow },
	{ "append_dma", t_append_dma },
	{ "forms", t_forms },
	{ "grow", t_grow },
	{ "top", t_top },
	{ "pages", t_pages },
	{ "preload", t_preload },
	{ "preload_pages", t_preload_pages },
	{ "fail_nth", t_fail_nth },
	{ "big", t_big },
	{ "readers", t_readers },
	{ "reuse", t_reuse },
	{ "splice", t_splice },
};

int main(int argc, char **argv)
{
	unsigned long nr_cases = 40, nr_ops = 20000, i;
	bool unit = true, random = true;
	u64 seed = 1;
	char name[64];
	int opt;

	while ((opt = getopt(argc, argv, "s:c:n:vur")) != -1) {
		switch (opt) {
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'c':
			nr_cases = strtoul(optarg, NULL, 0);
			break;
		case 'n':
			nr_ops = strtoul(optarg, NULL, 0);
			break;
		case 'v':
			verbose = true;
			break;
		case 'u':
			random = false;
			break;
		case 'r':
			unit = false;
			break;
		default:
			fprintf(stderr, "usage: %s [-s seed] [-c cases] [-n ops] [-v] [-u] [-r]\n",
				argv[0]);
			return 2;
		}
	}
	setvbuf(stderr, NULL, _IOLBF, 0);
	mem_setup();
	printf("harness: phys_addr_t %u bits, unsigned long %u bits, %lu folios\n",
	       PHYS_BITS, BITS_PER_LONG, nr_folios);

	for (i = 0; unit && i < ARRAY_SIZE(unit_tests); i++) {
		report(unit_tests[i].name, unit_tests[i].fn());
		shim_fail_off();
		if (shim_live_allocs) {
			printf("FAIL: %s leaked %ld objects\n",
			       unit_tests[i].name, shim_live_allocs);
			nr_failed++;
			break;
		}
	}
	for (i = 0; random && i < nr_cases; i++) {
		u64 case_seed = seed + i * 0x1000193;

		snprintf(name, sizeof(name), "random seed %#llx",
			 (unsigned long long)case_seed);
		report(name, random_case(case_seed, nr_ops));
		if (shim_live_allocs)
			break;
	}
	if (random) {
		printf("harness: random: %lu operations, %lu failed by injection, ",
		       total_ops, total_enomem);
		printf("%lu appends checked not to allocate, up to %lu ranges\n",
		       total_atomic, max_nr);
		printf("harness: random: %lu splices, %lu of them storage moves, ",
		       total_splices, total_moves);
		printf("%lu failed by injection\n", total_splice_enomem);
	}
	printf("harness: %lu passed, %lu failed\n", nr_passed, nr_failed);
	free(folios);
	shim_mem_exit();
	return nr_failed ? 1 : 0;
}
