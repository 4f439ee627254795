// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the input is a sequence of operations on a phyr
 * list (and splices of short second lists onto it), each checked against
 * the model as in the random test.  A mismatch aborts, which libFuzzer
 * reports as a crash.
 *
 *	make fuzz [FUZZ_TIME=seconds]
 */
#include <stdlib.h>
#include "model.h"

#define MEM_PAGES	BIT(16)
#define MAX_PAGES	64

struct input {
	const u8 *data;
	size_t left;
};

static u64 take(struct input *in, unsigned int bytes)
{
	u64 v = 0;

	while (bytes-- && in->left) {
		v = v << 8 | *in->data++;
		in->left--;
	}
	return v;
}

/* Order-0 pages, then folios of order 1 to 9, then P2P pages. */
static void mem_setup(void)
{
	unsigned long i, order = 1;

	shim_mem_init(MEM_PAGES);
	for (i = MEM_PAGES / 4; i + 512 <= 3 * MEM_PAGES / 4; i += 512) {
		shim_make_folio(SHIM_PFN_OFFSET + i, order);
		order = order % 9 + 1;
	}
	shim_set_p2p(SHIM_PFN_OFFSET + 3 * MEM_PAGES / 4, MEM_PAGES / 4);
}

static phys_addr_t prev_end(const struct harness *h)
{
	const struct phyr_model_range *r;

	if (!h->m.nr)
		return 0;
	r = &h->m.r[h->m.nr - 1];
	return r->addr + (phys_addr_t)r->len;
}

/*
 * A second list of up to 8 ranges from the input, each right after or near
 * the one before (the first after @h's last), maybe preloaded, spliced
 * onto @h's with @h's failure injection.
 */
static int op_splice(struct harness *h, struct input *in, unsigned int op)
{
	unsigned long n = take(in, 1) % 9, i;
	struct harness src;
	int ret = 0;

	h_init(&src, n);
	src.peer = h;
	h->peer = &src;
	for (i = 0; i < n && !ret; i++) {
		phys_addr_t addr = prev_end(i ? &src : h);
		u64 len = take(in, 2) + 1;

		addr += (phys_addr_t)(s16)take(in, 2) <<
			(op & 0x20 ? PAGE_SHIFT : 0);
		if (op & 0x20)
			len <<= PAGE_SHIFT;
		if (op & 0x40 && !i)
			len = take(in, 8);
		ret = h_append(&src, addr, len, take(in, 1) & 1, GFP_KERNEL);
	}
	if (!ret && op & 0x10)
		ret = h_preload(&src, take(in, 1) % 8, GFP_KERNEL);
	ret = ret || h_splice(h, &src, GFP_KERNEL);
	h->peer = NULL;
	h_exit(&src);
	return ret;
}

static int one_op(struct harness *h, struct input *in)
{
	struct page *pages[MAX_PAGES + 1];
	unsigned int op = take(in, 1);
	unsigned long n, i, idx, step, offset;
	struct folio *folio;
	phys_addr_t addr;
	u64 len;

	memset(&h->inj, 0, sizeof(h->inj));
	if (op & 0x80)
		h->inj.nth = 1 + take(in, 1) % 4;
	switch (op & 0x7) {
	case 0:
		addr = (phys_addr_t)take(in, 8);
		len = take(in, 8) >> (take(in, 1) & 63);
		return h_append(h, addr, len, op & 0x40, GFP_KERNEL);
	case 1:
		addr = prev_end(h) + ((phys_addr_t)(s16)take(in, 2) << PAGE_SHIFT);
		len = (take(in, 1) & 15) + 1;
		if (op & 0x20)
			len <<= PAGE_SHIFT;
		return h_append(h, addr, len, op & 0x40, GFP_KERNEL);
	case 2:
		n = take(in, 1) % MAX_PAGES + 1;
		idx = take(in, 2) % MEM_PAGES;
		step = take(in, 1);
		for (i = 0; i < n; i++)
			pages[i] = &mem_map[(idx + i * step) % MEM_PAGES];
		offset = op & 0x20 ? take(in, 2) % (PAGE_SIZE + 1) : 0;
		len = ((u64)n << PAGE_SHIFT) - offset;
		if (op & 0x40)
			len -= take(in, 2) % (PAGE_SIZE + 1);
		return h_append_pages(h, pages, n, offset, len, GFP_KERNEL);
	case 3:
		folio = page_folio(&mem_map[take(in, 2) % MEM_PAGES]);
		offset = op & 0x20 ? take(in, 3) % (folio_size(folio) + 1) : 0;
		len = folio_size(folio) - offset;
		if (op & 0x40)
			len = take(in, 3) % (len + 2);
		return h_append_folio(h, folio, offset, len, GFP_KERNEL);
	case 4:
		return h_preload(h, take(in, 1) % 64, GFP_KERNEL);
	case 5:
		len = take(in, 8);
		if (h->m.length + 1)	/* a list of 2^64 - 1 bytes: any offset */
			len %= h->m.length + 1;
		return h_check_seek(h, len, 4);
	case 6:
		return h_check_blocks(h, take(in, 1) % PHYS_BITS, 1 << 12);
	default:
		if (op & 0x8)
			return op_splice(h, in, op);
		return h_destroy(h);
	}
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct input in = { data, size };
	static bool ready;
	struct harness h;
	int ret = 0;

	if (!ready) {
		mem_setup();
		shim_warn_quiet = true;
		ready = true;
	}
	h_init(&h, size);
	while (in.left && !ret)
		ret = one_op(&h, &in);
	ret = ret || h_destroy(&h);
	h_exit(&h);
	shim_fail_off();
	if (ret || shim_live_allocs)
		abort();
	return 0;
}
