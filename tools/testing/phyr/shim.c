// SPDX-License-Identifier: GPL-2.0
/*
 * The allocator and simulated memory behind the shim headers.
 *
 * Every object is recorded in a hash table with its size and kind, so
 * that leaks, double frees and mismatched frees (kfree() of a page) are
 * caught even in builds without ASan.
 */
#include <stdlib.h>
#include "shim.h"

#ifdef SHIM_CALLGRIND
/* The benchmark does not count the allocator's own instructions. */
#include <valgrind/callgrind.h>
#define UNCOUNTED_BEGIN()	CALLGRIND_TOGGLE_COLLECT
#define UNCOUNTED_END()		CALLGRIND_TOGGLE_COLLECT
#else
#define UNCOUNTED_BEGIN()	do { } while (0)
#define UNCOUNTED_END()		do { } while (0)
#endif

long shim_live_allocs;
size_t shim_live_bytes;
unsigned long shim_nr_allocs;
unsigned long shim_nr_failed;
unsigned long shim_fail_nth;
bool shim_poison = true;
unsigned long shim_warnings;
bool shim_warn_quiet;

struct page *mem_map;
unsigned long shim_nr_pages;

static unsigned long fail_after;
static unsigned int fail_permille;
static u64 fail_rng;

enum obj_kind { OBJ_KMALLOC = 1, OBJ_CACHE, OBJ_PAGES };

struct obj {
	uintptr_t addr;		/* 0: empty slot */
	size_t size;
	enum obj_kind kind;
};

static struct obj *objs;
static size_t objs_mask;	/* table size - 1 */
static size_t objs_used;

struct kmem_cache {
	const char *name;
	unsigned int size;
	unsigned int align;
	void (*ctor)(void *obj);
	long live;
};

void shim_warn(const char *file, int line, const char *cond)
{
	if (!shim_warn_quiet && shim_warnings < 10)
		fprintf(stderr, "WARNING: %s:%d: %s\n", file, line, cond);
	shim_warnings++;
}

void shim_bug(const char *file, int line, const char *cond)
{
	fprintf(stderr, "BUG: %s:%d: %s\n", file, line, cond);
	abort();
}

static void die(const char *what, const void *ptr)
{
	fprintf(stderr, "shim: %s %p\n", what, ptr);
	abort();
}

static size_t obj_slot(uintptr_t addr)
{
	u64 h = (u64)addr * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 32) & objs_mask;
}

static void obj_insert(uintptr_t addr, size_t size, enum obj_kind kind)
{
	size_t i;

	if (2 * (objs_used + 1) > objs_mask + 1) {
		struct obj *old = objs;
		size_t n = objs ? objs_mask + 1 : 0;

		objs_mask = n ? 2 * n - 1 : 1023;
		objs = calloc(objs_mask + 1, sizeof(*objs));
		if (!objs)
			die("out of memory", NULL);
		objs_used = 0;
		for (i = 0; i < n; i++)
			if (old[i].addr)
				obj_insert(old[i].addr, old[i].size,
					   old[i].kind);
		free(old);
	}
	for (i = obj_slot(addr); objs[i].addr; i = (i + 1) & objs_mask)
		if (objs[i].addr == addr)
			die("allocator returned a live object", (void *)addr);
	objs[i] = (struct obj){ addr, size, kind };
	objs_used++;
}

/* Remove @addr, which must be a live object of @kind; return its size. */
static size_t obj_remove(uintptr_t addr, enum obj_kind kind)
{
	size_t i, j, size;

	if (!objs)
		die("free of an object never allocated", (void *)addr);
	for (i = obj_slot(addr); objs[i].addr != addr; i = (i + 1) & objs_mask)
		if (!objs[i].addr)
			die("free of a dead or foreign object", (void *)addr);
	if (objs[i].kind != kind)
		die("object freed with the wrong function", (void *)addr);
	size = objs[i].size;
	/* Backward-shift deletion keeps the probe chains intact. */
	for (j = (i + 1) & objs_mask; objs[j].addr; j = (j + 1) & objs_mask) {
		size_t home = obj_slot(objs[j].addr);

		if (((j - home) & objs_mask) >= ((j - i) & objs_mask)) {
			objs[i] = objs[j];
			i = j;
		}
	}
	objs[i].addr = 0;
	objs_used--;
	return size;
}

static u64 rng_next(u64 *state)
{
	u64 z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

void shim_fail_random(unsigned long after, unsigned int permille, u64 seed)
{
	fail_after = after;
	fail_permille = permille;
	fail_rng = seed;
}

void shim_fail_all(void)
{
	shim_fail_random(0, 1000, 0);
}

void shim_fail_off(void)
{
	shim_fail_nth = 0;
	fail_permille = 0;
}

static bool should_fail_alloc(void)
{
	shim_nr_allocs++;
	if (shim_fail_nth && !--shim_fail_nth)
		goto fail;
	if (!fail_permille)
		return false;
	if (fail_after) {
		fail_after--;
		return false;
	}
	if (rng_next(&fail_rng) % 1000 < fail_permille)
		goto fail;
	return false;
fail:
	shim_nr_failed++;
	return true;
}

static void *obj_alloc(size_t size, size_t align, gfp_t gfp,
		       enum obj_kind kind)
{
	void *p;

	UNCOUNTED_BEGIN();
	if (should_fail_alloc()) {
		UNCOUNTED_END();
		return NULL;
	}
	if (align < sizeof(void *))
		align = sizeof(void *);
	p = aligned_alloc(align, ALIGN(size ? size : 1, align));
	if (!p)
		die("out of memory", NULL);
	if (gfp & __GFP_ZERO)
		memset(p, 0, size);
	else if (shim_poison)
		memset(p, 0xa5, size);
	obj_insert((uintptr_t)p, size, kind);
	shim_live_allocs++;
	shim_live_bytes += size;
	UNCOUNTED_END();
	return p;
}

static void obj_free(const void *p, enum obj_kind kind, size_t expect)
{
	size_t size;

	UNCOUNTED_BEGIN();
	size = obj_remove((uintptr_t)p, kind);
	if (expect && size != expect)
		die("object freed with the wrong size", p);

	shim_live_allocs--;
	shim_live_bytes -= size;
	if (shim_poison)
		memset((void *)p, 0x6b, size);
	free((void *)p);
	UNCOUNTED_END();
}

/* Like SLUB: power-of-two sizes are naturally aligned (up to a page). */
static size_t kmalloc_align(size_t size)
{
	size_t align = 8;

	while (align < size && align < PAGE_SIZE)
		align <<= 1;
	return align;
}

void *kmalloc(size_t size, gfp_t gfp)
{
	if (size == SIZE_MAX)
		return NULL;
	return obj_alloc(size, kmalloc_align(size), gfp, OBJ_KMALLOC);
}

void kfree(const void *ptr)
{
	if (ptr)
		obj_free(ptr, OBJ_KMALLOC, 0);
}

unsigned long __get_free_pages(gfp_t gfp, unsigned int order)
{
	return (unsigned long)obj_alloc(PAGE_SIZE << order, PAGE_SIZE << order,
					gfp, OBJ_PAGES);
}

void free_pages(unsigned long addr, unsigned int order)
{
	if (addr)
		obj_free((void *)addr, OBJ_PAGES, PAGE_SIZE << order);
}

struct kmem_cache *kmem_cache_create(const char *name, unsigned int size,
				     unsigned int align, unsigned long flags,
				     void (*ctor)(void *))
{
	struct kmem_cache *s = calloc(1, sizeof(*s));

	if (!s)
		die("out of memory", NULL);
	s->name = name;
	s->size = size;
	s->align = align ? align : 8;
	s->ctor = ctor;
	return s;
}

void kmem_cache_destroy(struct kmem_cache *s)
{
	if (s && s->live)
		die("destroying a cache with live objects", s);
	free(s);
}

void *kmem_cache_alloc(struct kmem_cache *s, gfp_t gfp)
{
	void *p = obj_alloc(s->size, s->align, gfp, OBJ_CACHE);

	if (p && s->ctor)
		s->ctor(p);
	if (p)
		s->live++;
	return p;
}

void kmem_cache_free(struct kmem_cache *s, void *ptr)
{
	if (!ptr)
		return;
	obj_free(ptr, OBJ_CACHE, s->size);
	s->live--;
}

void shim_mem_init(unsigned long nr_pages)
{
	free(mem_map);
	mem_map = calloc(nr_pages, sizeof(*mem_map));
	if (!mem_map)
		die("out of memory", NULL);
	shim_nr_pages = nr_pages;
}

void shim_mem_exit(void)
{
	free(mem_map);
	mem_map = NULL;
	shim_nr_pages = 0;
}

struct folio *shim_make_folio(unsigned long pfn, unsigned int order)
{
	struct page *head = pfn_to_page(pfn);
	unsigned long i, nr = 1UL << order;

	if (!shim_pfn_valid(pfn) || !shim_pfn_valid(pfn + nr - 1) ||
	    (pfn & (nr - 1)))
		die("bad folio", head);
	for (i = 0; i < nr; i++) {
		head[i].flags &= ~PG_head;
		head[i].compound_head = (uintptr_t)head + 1;
		head[i].order = 0;
	}
	head->compound_head = 0;
	if (order) {
		head->flags |= PG_head;
		head->order = order;
	}
	return page_folio(head);
}

void shim_set_p2p(unsigned long pfn, unsigned long nr)
{
	static unsigned int pgmaps;

	pgmaps++;
	while (nr--) {
		pfn_to_page(pfn)->flags |= PG_shim_p2p;
		pfn_to_page(pfn++)->pgmap = pgmaps;
	}
}
