// SPDX-License-Identifier: GPL-2.0
/*
 * phyr list vs scatterlist on the same pages, in one run.  Run it under
 * callgrind (bench.py does): each measured region is bracketed by client
 * requests and dumped under its own name, and bench.py turns the dumps
 * into a table.  The lines printed here tell bench.py what each region
 * is per; storage is measured here directly.
 *
 * The allocator's own instructions are not counted on either side (see
 * shim.c); the number of allocations is printed instead.
 */
#include <stdlib.h>
#include <valgrind/callgrind.h>
#include <linux/phyr.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include "shim.h"

#define MEM_PAGES	(4UL << 20)	/* a 16 GiB machine */
#define NR_PAGES	BIT(18)	/* 1 GiB of 4 KiB pages */
#define NR_FOLIOS	512		/* 2 MiB folios */
#define BATCH		512		/* pages per call, as ib_umem pins them */
#define SEEK_BIG	BIT(20)
#define SEEK_SMALL	1024

static struct page **pages;
static struct page **seek_pages;
static unsigned long *perm;
static u64 rng = 1;

static u64 rnd(void)
{
	u64 z = (rng += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static void __noreturn die(const char *msg)
{
	fprintf(stderr, "bench: %s\n", msg);
	exit(1);
}

static void measure_start(void)
{
	CALLGRIND_START_INSTRUMENTATION;
	CALLGRIND_ZERO_STATS;
}

/* Dump the region as @name, counted per @per items. */
static void measure_stop(const char *name, unsigned long per)
{
	CALLGRIND_DUMP_STATS_AT(name);
	CALLGRIND_STOP_INSTRUMENTATION;
	printf("measure %s %lu\n", name, per);
}

/* The first @n entries of a random permutation of mem_map. */
static void random_pages(struct page **out, unsigned long n)
{
	unsigned long i, j, t;

	for (i = 0; i < MEM_PAGES; i++)
		perm[i] = i;
	for (i = 0; i < n; i++) {
		j = i + rnd() % (MEM_PAGES - i);
		t = perm[i];
		perm[i] = perm[j];
		perm[j] = t;
		out[i] = &mem_map[perm[i]];
	}
}

/*
 * @n pages in runs of 1 to 8 contiguous pages, each run at the start of its
 * own random 64 KiB slot, so that no two runs touch.
 */
static void random_runs(struct page **out, unsigned long n)
{
	unsigned long i = 0, j, k, t, s, len, nr_slots = MEM_PAGES / 16;

	for (s = 0; s < nr_slots; s++)
		perm[s] = s;
	for (s = 0; i < n; s++) {
		if (s == nr_slots)
			die("out of slots for runs");
		j = s + rnd() % (nr_slots - s);
		t = perm[s];
		perm[s] = perm[j];
		perm[j] = t;
		len = 1 + rnd() % 8;
		for (k = 0; k < len && i < n; k++)
			out[i++] = &mem_map[perm[s] * 16 + k];
	}
}

static int phyr_build(struct phyr_list *pl, struct page **pg, unsigned long n)
{
	unsigned long i, nr;
	int ret = 0;

	for (i = 0; i < n && !ret; i += nr) {
		nr = min(n - i, (unsigned long)BATCH);
		ret = phyr_list_append_pages(pl, pg + i, nr, 0,
					     (u64)nr << PAGE_SHIFT, GFP_KERNEL);
	}
	return ret;
}

/* As ib_umem_get() does it. */
static int sg_build(struct sg_append_table *sgt, struct page **pg,
		    unsigned long n)
{
	unsigned long i, nr;
	int ret = 0;

	for (i = 0; i < n && !ret; i += nr) {
		nr = min(n - i, (unsigned long)BATCH);
		ret = sg_alloc_append_table_from_pages(sgt, pg + i, nr, 0,
						       nr << PAGE_SHIFT,
						       UINT_MAX, n - i - nr,
						       GFP_KERNEL);
	}
	return ret;
}

static u64 phyr_sum_pages(const struct phyr_list *pl, unsigned long *nr)
{
	struct phyr_block_iter biter;
	phys_addr_t addr;
	u64 sum = 0;

	*nr = 0;
	phyr_list_for_each_page(pl, &biter, addr) {
		sum += addr;
		(*nr)++;
	}
	return sum;
}

static u64 sg_sum_pages(struct sg_table *sgt, unsigned long *nr)
{
	struct sg_page_iter piter;
	u64 sum = 0;

	*nr = 0;
	for_each_sgtable_page(sgt, &piter, 0) {
		sum += page_to_phys(sg_page_iter_page(&piter));
		(*nr)++;
	}
	return sum;
}

/* Ranges that @n pages make: consecutive page frames merge. */
static unsigned long nr_runs(struct page **pg, unsigned long n)
{
	unsigned long i, nr = !!n;

	for (i = 1; i < n; i++)
		nr += pg[i] != pg[i - 1] + 1;
	return nr;
}

/* Build, iterate and free one input both ways. */
static void run_input(const char *key, const char *desc, struct page **pg,
		      unsigned long n)
{
	unsigned long want_ranges = nr_runs(pg, n);
	struct sg_append_table sgt = {};
	DEFINE_PHYR_LIST(pl);
	unsigned long nr_phyr, nr_sg, allocs, i;
	u64 sum_phyr, sum_sg;
	char name[64];
	int ret;

	printf("input %s %lu %lu %s\n", key, n, want_ranges, desc);

	allocs = shim_nr_allocs;
	measure_start();
	ret = phyr_build(&pl, pg, n);
	snprintf(name, sizeof(name), "%s.phyr.build", key);
	measure_stop(name, n);
	if (ret || phyr_list_nr_ranges(&pl) != want_ranges ||
	    phyr_list_length(&pl) != (u64)n << PAGE_SHIFT)
		die("phyr_list_append_pages() built the wrong list");
	printf("storage %s phyr %zu %lu\n", key,
	       phyr_list_mem_bytes(&pl) + sizeof(pl), shim_nr_allocs - allocs);

	allocs = shim_nr_allocs;
	measure_start();
	ret = sg_build(&sgt, pg, n);
	snprintf(name, sizeof(name), "%s.sg.build", key);
	measure_stop(name, n);
	if (ret || sgt.sgt.nents != want_ranges)
		die("sg_alloc_append_table_from_pages() built the wrong table");
	printf("storage %s sg %zu %lu\n", key, shim_live_bytes -
	       phyr_list_mem_bytes(&pl) + sizeof(sgt), shim_nr_allocs - allocs);

	measure_start();
	sum_phyr = phyr_sum_pages(&pl, &nr_phyr);
	snprintf(name, sizeof(name), "%s.phyr.iter", key);
	measure_stop(name, n);
	measure_start();
	sum_sg = sg_sum_pages(&sgt.sgt, &nr_sg);
	snprintf(name, sizeof(name), "%s.sg.iter", key);
	measure_stop(name, n);
	if (nr_phyr != n || nr_sg != n || sum_phyr != sum_sg)
		die("phyr and scatterlist iterate different pages");

	measure_start();
	phyr_list_destroy(&pl);
	snprintf(name, sizeof(name), "%s.phyr.free", key);
	measure_stop(name, n);
	measure_start();
	sg_free_append_table(&sgt);
	snprintf(name, sizeof(name), "%s.sg.free", key);
	measure_stop(name, n);
	if (shim_live_allocs)
		die("leak");

	/* One phyr_list_append() per page, as a caller without pages would. */
	if (strcmp(key, "scattered"))
		return;
	measure_start();
	for (i = 0; i < n && !ret; i++)
		ret = phyr_list_append(&pl, page_to_phys(pg[i]), PAGE_SIZE,
				       GFP_KERNEL);
	snprintf(name, sizeof(name), "%s.phyr.append", key);
	measure_stop(name, n);
	if (ret || phyr_list_nr_ranges(&pl) != want_ranges)
		die("phyr_list_append() built the wrong list");
	phyr_list_destroy(&pl);
}

/*
 * Seek to random offsets of a list of @n scattered pages, or with @runs of
 * 1 to 8 pages.
 */
static void run_seek(const char *key, unsigned long n, bool runs,
		     unsigned long nr_phyr, unsigned long nr_sg)
{
	u64 *offsets, sum_phyr = 0, sum_sg = 0, want_phyr = 0, want_sg = 0;
	struct sg_append_table sgt = {};
	unsigned long i, k, nr_ranges;
	DEFINE_PHYR_LIST(pl);
	struct scatterlist *sg;
	struct phyr_iter iter;
	struct phyr r;
	char name[64];

	if (runs)
		random_runs(seek_pages, n);
	else
		random_pages(seek_pages, n);
	nr_ranges = nr_runs(seek_pages, n);
	if (phyr_build(&pl, seek_pages, n) || sg_build(&sgt, seek_pages, n) ||
	    phyr_list_nr_ranges(&pl) != nr_ranges ||
	    sgt.sgt.nents != nr_ranges)
		die("building the seek lists failed");
	offsets = calloc(nr_phyr, sizeof(*offsets));
	if (!offsets)
		die("out of memory");
	for (i = 0; i < nr_phyr; i++) {
		u64 addr;

		offsets[i] = rnd() % ((u64)n << PAGE_SHIFT);
		addr = page_to_phys(seek_pages[offsets[i] >> PAGE_SHIFT]) +
		       (offsets[i] & (PAGE_SIZE - 1));
		want_phyr += addr;
		if (i < nr_sg)
			want_sg += addr;
	}

	measure_start();
	for (i = 0; i < nr_phyr; i++) {
		phyr_iter_init(&iter, &pl);
		if (!phyr_iter_seek(&iter, offsets[i]) ||
		    !phyr_iter_next(&iter, &r))
			die("phyr_iter_seek() failed");
		sum_phyr += r.addr;
	}
	snprintf(name, sizeof(name), "%s.phyr.seek", key);
	measure_stop(name, nr_phyr);

	/*
	 * One iterator kept across seeks that move ahead through the list,
	 * as a reader of a memory region does: a page, then 64 KiB at a time.
	 */
	if (!runs) {
		static const u64 steps[] = { PAGE_SIZE, SZ_64K };
		static const char * const names[] = { "near", "ahead" };

		for (k = 0; k < ARRAY_SIZE(steps); k++) {
			unsigned long nr = min(nr_phyr, (n << PAGE_SHIFT) /
						       steps[k]);
			u64 off = steps[k] / 2, sum = 0, want = 0;

			phyr_iter_init(&iter, &pl);
			measure_start();
			for (i = 0; i < nr; i++, off += steps[k]) {
				if (!phyr_iter_seek(&iter, off) ||
				    !phyr_iter_next(&iter, &r))
					die("phyr_iter_seek() failed");
				sum += r.addr;
			}
			snprintf(name, sizeof(name), "%s.phyr.%s", key,
				 names[k]);
			measure_stop(name, nr);
			for (i = 0, off = steps[k] / 2; i < nr;
			     i++, off += steps[k])
				want += page_to_phys(seek_pages[off >> PAGE_SHIFT]) +
					(off & (PAGE_SIZE - 1));
			if (sum != want)
				die("seeks ahead went to the wrong addresses");
		}
	}

	/* No seek in scatterlist: walk to the entry, as its users do. */
	measure_start();
	for (i = 0; i < nr_sg; i++) {
		u64 off = offsets[i];

		for_each_sgtable_sg(&sgt.sgt, sg, k) {
			if (off < sg->length)
				break;
			off -= sg->length;
		}
		sum_sg += sg_phys(sg) + off;
	}
	snprintf(name, sizeof(name), "%s.sg.seek", key);
	measure_stop(name, nr_sg);

	if (sum_phyr != want_phyr || sum_sg != want_sg)
		die("seeks went to the wrong addresses");
	phyr_list_destroy(&pl);
	sg_free_append_table(&sgt);
	free(offsets);
	printf("seek %s %lu\n", key, nr_ranges);
}

int main(void)
{
	unsigned long i, j, slot, nr_slots = MEM_PAGES / 512;
	unsigned char *used;

	shim_poison = false;
	shim_mem_init(MEM_PAGES);
	pages = calloc(NR_PAGES, sizeof(*pages));
	seek_pages = calloc(SEEK_BIG, sizeof(*seek_pages));
	perm = calloc(MEM_PAGES, sizeof(*perm));
	used = calloc(nr_slots, 1);
	if (!pages || !seek_pages || !perm || !used)
		die("out of memory");
	printf("config page_size %lu sizeof_phyr_list %zu ", PAGE_SIZE,
	       sizeof(struct phyr_list));
	printf("sizeof_scatterlist %zu sg_per_alloc %zu valgrind %d\n",
	       sizeof(struct scatterlist),
	       (size_t)SG_MAX_SINGLE_ALLOC, (int)RUNNING_ON_VALGRIND);

	random_pages(pages, NR_PAGES);
	run_input("scattered", "262144 scattered 4 KiB pages of 16 GiB",
		  pages, NR_PAGES);

	for (i = 0; i < NR_PAGES; i++)
		pages[i] = &mem_map[i];
	run_input("contiguous", "one contiguous 1 GiB range of 4 KiB pages",
		  pages, NR_PAGES);

	/* 2 MiB folios at random aligned places, none of them adjacent. */
	for (i = 0; i < NR_FOLIOS; i++) {
		do {
			slot = rnd() % nr_slots;
		} while (used[slot] || (slot && used[slot - 1]) ||
			 (slot + 1 < nr_slots && used[slot + 1]));
		used[slot] = 1;
		shim_make_folio(SHIM_PFN_OFFSET + slot * 512, 9);
		for (j = 0; j < 512; j++)
			pages[i * 512 + j] = &mem_map[slot * 512 + j];
	}
	run_input("folios", "512 scattered 2 MiB folios", pages, NR_PAGES);

	run_seek("seek1k", SEEK_SMALL, false, 4096, 256);
	run_seek("seek1m", SEEK_BIG, false, 4096, 16);
	run_seek("seekruns", SEEK_BIG, true, 4096, 16);

	free(used);
	free(perm);
	free(seek_pages);
	free(pages);
	shim_mem_exit();
	printf("done\n");
	return 0;
}
