/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A phyr list next to the reference model of it (lib/phyr_model.h, the
 * one lib/phyr_kunit.c uses too), the operations that act on both, and
 * the checks that compare them.  Shared by the unit tests, the random test
 * and the fuzzer.
 */
#ifndef _PHYR_MODEL_H
#define _PHYR_MODEL_H

#include <linux/phyr.h>
#include "shim.h"
#include "phyr_model.h"		/* lib/phyr_model.h, through gen/ */

#define PHYS_BITS	(8 * (unsigned int)sizeof(phys_addr_t))

/* Allocation failures to inject into the next operation. */
struct inject {
	unsigned long nth;	/* fail the nth allocation */
	unsigned long after;	/* or fail at random after this many */
	unsigned int permille;
	u64 seed;
};

#define H_LOG_LINES	24

struct harness {
	struct phyr_list pl;
	/* The model; its array grows with realloc() as needed. */
	struct phyr_model m;
	struct inject inj;
	/*
	 * Another harness whose list is alive meanwhile (the source of a
	 * splice): its chunks count in the allocator's totals too.
	 */
	struct harness *peer;
	/* Appends that the last phyr_list_preload() pays for. */
	unsigned long budget;
	/* Nothing preloaded and at most one range so far: no chunk allowed. */
	bool chunk_free;
	bool verbose;
	/* Skip the full iteration in h_check() (for huge directed tests). */
	bool lazy;
	u64 rng;
	unsigned long nr_ops;
	unsigned long nr_enomem;	/* operations failed by injection */
	unsigned long nr_atomic;	/* appends checked not to allocate */
	unsigned long nr_splices;	/* splices that moved ranges */
	unsigned long nr_moves;		/* of which took the storage over */
	unsigned long nr_splice_enomem;	/* splices failed by injection */
	char log[H_LOG_LINES][160];
};

u64 rnd(u64 *state);
u64 rnd_below(u64 *state, u64 n);

void h_init(struct harness *h, u64 seed);
void h_exit(struct harness *h);
void h_log(struct harness *h, const char *fmt, ...) __printf(2, 3);
void h_dump_log(const struct harness *h);
int h_fail(struct harness *h, const char *file, int line, const char *fmt,
	   ...) __printf(4, 5);

/* Nonzero, after reporting, if @cond does not hold. */
#define H_FAILED(h, cond, fmt, ...)					\
	(unlikely(!(cond)) ?						\
	 h_fail(h, __FILE__, __LINE__, "%s: " fmt, #cond, ##__VA_ARGS__) : 0)

int h_append(struct harness *h, phys_addr_t addr, u64 len, bool p2p,
	     gfp_t gfp);
int h_append_pages(struct harness *h, struct page **pages,
		   unsigned long npages, unsigned long offset, u64 len,
		   gfp_t gfp);
int h_append_folio(struct harness *h, struct folio *folio, size_t offset,
		   size_t len, gfp_t gfp);
int h_preload(struct harness *h, unsigned long nr, gfp_t gfp);
int h_splice(struct harness *h, struct harness *src, gfp_t gfp);
int h_destroy(struct harness *h);

int h_check(struct harness *h);
int h_check_seek(struct harness *h, u64 offset, unsigned long follow);
int h_check_seeks(struct harness *h, unsigned int nr_random);
int h_check_blocks(struct harness *h, unsigned int shift, u64 max_blocks);

static inline phys_addr_t mrange_last(const struct phyr_model_range *r)
{
	return r->addr + (r->len - 1);
}

#endif
