// SPDX-License-Identifier: GPL-2.0 OR Linux-OpenIB
/*
 * KUnit tests of ib_umem on phyr lists: user memory pinned and DMA-mapped
 * for a device, checked against an independent view of the same memory.
 *
 * The test thread gets a user address space of its own (kunit_vm_mmap())
 * and registers memory from it for a stand-in struct ib_device whose only
 * field is its DMA device: QEMU's edu behind the IOMMU when there is one,
 * and a dma-direct KUnit device.  The expected page under every user
 * address comes from pin_user_pages_fast() on the same addresses; DMA
 * addresses are translated back with iommu_iova_to_phys() or
 * dma_to_phys().  Nothing is taken from the umem's own lists.
 *
 * dma-buf umems import a window of an exporter's mapped sg_table.  The
 * exporter here is the test's own, over scattered kernel pages, because
 * no real one can be made from the kernel: a udmabuf needs a sealed memfd,
 * which only the memfd_create() system call makes.
 */

#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/dma-buf.h>
#include <linux/dma-direct.h>
#include <linux/dma-resv.h>
#include <linux/fdtable.h>
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/kthread.h>
#include <linux/mm.h>
#include <linux/mman.h>
#include <linux/pci.h>
#include <linux/prandom.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/sched/mm.h>
#include <linux/scatterlist.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vmalloc.h>
#include <rdma/ib_umem.h>
#include <rdma/iter.h>

#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8

struct umem_env {
	struct ib_device *ibdev;
	struct device *dev;
	struct iommu_domain *domain;	/* NULL: dma-direct */
	unsigned long start;		/* user address of the umem */
	size_t len;
	unsigned long npages;
	struct page **pages;		/* the page under each user page */
	long pins;			/* pins_held() before the umem */
	s64 pinned_vm;			/* mm->pinned_vm before the umem */
};

struct dma_masks {
	struct device *dev;
	u64 mask;
	u64 coherent;
};

static void pci_dev_put_action(void *pdev)
{
	pci_dev_put(pdev);
}

static void dma_masks_restore(void *data)
{
	struct dma_masks *old = data;

	*old->dev->dma_mask = old->mask;
	old->dev->coherent_dma_mask = old->coherent;
}

static void unpin_action(void *data)
{
	struct umem_env *env = data;

	unpin_user_pages(env->pages, env->npages);
}

/* The stand-in device: the edu behind an IOMMU, or a dma-direct device. */
static struct ib_device *test_ibdev(struct kunit *test, bool iommu,
				    struct umem_env *env)
{
	struct ib_device *ibdev = kunit_kzalloc(test, sizeof(*ibdev),
						GFP_KERNEL);
	int ret;

	KUNIT_ASSERT_NOT_NULL(test, ibdev);
	if (iommu) {
		struct pci_dev *pdev = pci_get_device(EDU_VENDOR, EDU_DEVICE,
						      NULL);
		struct dma_masks *old;

		if (!pdev)
			kunit_skip(test, "no edu device");
		ret = kunit_add_action_or_reset(test, pci_dev_put_action, pdev);
		KUNIT_ASSERT_EQ(test, ret, 0);
		old = kunit_kzalloc(test, sizeof(*old), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, old);
		env->dev = &pdev->dev;
		env->domain = iommu_get_domain_for_dev(env->dev);
		if (!env->domain || !(env->domain->type & __IOMMU_DOMAIN_DMA_API))
			kunit_skip(test, "edu not behind a DMA IOMMU domain");
		old->dev = env->dev;
		old->mask = *env->dev->dma_mask;
		old->coherent = env->dev->coherent_dma_mask;
		ret = kunit_add_action_or_reset(test, dma_masks_restore, old);
		KUNIT_ASSERT_EQ(test, ret, 0);
		ret = dma_set_mask_and_coherent(env->dev, DMA_BIT_MASK(64));
		KUNIT_ASSERT_EQ(test, ret, 0);
	} else {
		struct device_dma_parameters *parms;

		parms = kunit_kzalloc(test, sizeof(*parms), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, parms);
		env->dev = kunit_device_register(test, "ib_umem_direct");
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, env->dev);
		env->dev->dma_parms = parms;
		ret = dma_set_mask_and_coherent(env->dev, DMA_BIT_MASK(64));
		KUNIT_ASSERT_EQ(test, ret, 0);
		env->domain = iommu_get_domain_for_dev(env->dev);
		if (env->domain)
			kunit_skip(test, "KUnit device behind an IOMMU");
	}
	ibdev->dma_device = env->dev;
	KUNIT_ASSERT_FALSE(test, ib_uses_virt_dma(ibdev));
	env->ibdev = ibdev;
	return ibdev;
}

/*
 * @npages of user memory, starting @offset bytes into the first page and
 * @offset bytes short of the end of the last, faulted in from the last
 * page to the first so that the pages are physically scattered; their
 * pages pinned a second time as the expected view.
 */
static void test_user_mem(struct kunit *test, struct umem_env *env,
			  unsigned long npages, unsigned int offset)
{
	unsigned long base, i;
	long pinned;

	base = kunit_vm_mmap(test, NULL, 0, npages * PAGE_SIZE,
			     PROT_READ | PROT_WRITE,
			     MAP_ANONYMOUS | MAP_PRIVATE, 0);
	KUNIT_ASSERT_NE_MSG(test, base, 0UL, "no user address space");
	KUNIT_ASSERT_FALSE(test, IS_ERR_VALUE(base));
	for (i = npages; i-- > 0;) {
		u32 v = i;

		KUNIT_ASSERT_EQ(test, 0UL, copy_to_user((void __user *)
					(base + i * PAGE_SIZE), &v, sizeof(v)));
	}
	env->start = base + offset;
	env->len = npages * PAGE_SIZE - 2 * offset;
	env->npages = npages;
	env->pages = kunit_kcalloc(test, npages, sizeof(*env->pages),
				   GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, env->pages);
	pinned = pin_user_pages_fast(base, npages, 0, env->pages);
	KUNIT_ASSERT_EQ(test, pinned, (long)npages);
	KUNIT_ASSERT_EQ(test, 0,
			kunit_add_action_or_reset(test, unpin_action, env));
}

/* The CPU physical address behind a DMA address of the test device. */
static phys_addr_t dma_phys(struct umem_env *env, dma_addr_t dma)
{
	if (env->domain)
		return iommu_iova_to_phys(env->domain, dma);
	return dma_to_phys(env->dev, dma);
}

/* The physical address under byte @off of the umem, independently. */
static phys_addr_t expected_phys(struct umem_env *env, u64 off)
{
	u64 at = offset_in_page(env->start) + off;

	return page_to_phys(env->pages[at >> PAGE_SHIFT]) +
	       offset_in_page(at);
}

/*
 * FOLL_PIN references held on the pages under the umem, counted exactly
 * (the nr_foll_pin_* counters lag behind on per-CPU deltas): a small
 * folio counts them in its refcount, a large one in its pincount.
 */
static long pins_held(struct umem_env *env)
{
	long pins = 0;
	unsigned long i;

	for (i = 0; i < env->npages; i++) {
		struct folio *folio = page_folio(env->pages[i]);

		if (folio_test_large(folio))
			pins += atomic_read(&folio->_pincount);
		else
			pins += folio_ref_count(folio) / GUP_PIN_COUNTING_BIAS;
	}
	return pins;
}

/* User memory for @env's device, with what is held before the umem. */
static struct umem_env *test_env_mem(struct kunit *test,
				     struct umem_env *env,
				     unsigned long npages, unsigned int offset)
{
	test_user_mem(test, env, npages, offset);
	env->pins = pins_held(env);
	env->pinned_vm = atomic64_read(&current->mm->pinned_vm);
	return env;
}

/* A stand-in device and user memory, with what is held before the umem. */
static struct umem_env *test_env(struct kunit *test, bool iommu,
				 unsigned long npages, unsigned int offset)
{
	struct umem_env *env = kunit_kzalloc(test, sizeof(*env), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, env);
	test_ibdev(test, iommu, env);
	return test_env_mem(test, env, npages, offset);
}

/*
 * As test_env(), for a device that moves data with the CPU, as rxe and siw
 * do: it has no DMA device, and ib_umem_get() maps nothing for it.
 */
static struct umem_env *test_env_virt(struct kunit *test,
				      unsigned long npages, unsigned int offset)
{
	struct umem_env *env = kunit_kzalloc(test, sizeof(*env), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, env);
	env->ibdev = kunit_kzalloc(test, sizeof(*env->ibdev), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, env->ibdev);
	if (!ib_uses_virt_dma(env->ibdev))
		kunit_skip(test, "no CONFIG_INFINIBAND_VIRT_DMA");
	return test_env_mem(test, env, npages, offset);
}

/*
 * Every block of rdma_umem_for_each_dma_block() at @pgsz, for the
 * hardware address @virt of the first byte: each 4 KiB piece of a block
 * that lies in the umem's pages translates to the page under it.
 */
static void check_blocks(struct kunit *test, struct umem_env *env,
			 struct ib_umem *umem, unsigned long pgsz, u64 virt)
{
	u64 first_page = env->start & PAGE_MASK;
	u64 last = first_page + env->npages * PAGE_SIZE;
	u64 hw = ALIGN_DOWN(virt, pgsz);
	struct ib_block_iter biter;
	size_t nr = 0, bad = 0;

	rdma_umem_for_each_dma_block(umem, &biter, pgsz) {
		dma_addr_t blk = rdma_block_iter_dma_address(&biter);
		u64 k;

		KUNIT_EXPECT_EQ(test, blk & (pgsz - 1), (dma_addr_t)0);
		for (k = 0; k < pgsz; k += SZ_4K) {
			/* The user address this piece of hardware VA is. */
			u64 va = env->start + (hw + k - virt);
			u64 page;

			if (va < first_page || va >= last)
				continue;
			page = (va - first_page) >> PAGE_SHIFT;
			if (dma_phys(env, blk + k) !=
			    page_to_phys(env->pages[page]) + offset_in_page(va))
				bad++;
		}
		hw += pgsz;
		nr++;
	}
	KUNIT_EXPECT_EQ(test, nr, ib_umem_num_dma_blocks(umem, pgsz));
	KUNIT_EXPECT_EQ_MSG(test, bad, (size_t)0,
			    "4 KiB pieces mistranslated at page size %lu", pgsz);
}

static void umem_test_map(struct kunit *test, bool iommu)
{
	struct umem_env *env = test_env(test, iommu, 96, 100);
	const unsigned long bitmap = SZ_4K | SZ_64K | SZ_2M | SZ_1G;
	struct phyr_list one;
	u8 *buf, *back;
	struct ib_umem *umem;
	dma_addr_t first;
	unsigned long pgsz;
	unsigned int i;

	umem = ib_umem_get(env->ibdev, env->start, env->len,
			   IB_ACCESS_LOCAL_WRITE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, umem);
	KUNIT_EXPECT_EQ(test, atomic64_read(&current->mm->pinned_vm),
			env->pinned_vm + 96);
	KUNIT_EXPECT_EQ(test, pins_held(env), env->pins + 96);
	/* Whole pages, from the start of the first one. */
	KUNIT_EXPECT_EQ(test, phyr_list_length(&umem->pl), 96ULL * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, ib_umem_num_pages(umem), (size_t)96);

	/* The DMA address and the page of single bytes. */
	for (i = 0; i < 64; i++) {
		const u64 edges[] = { 0, 1, PAGE_SIZE - 100, env->len - 1 };
		u64 off = i < ARRAY_SIZE(edges) ? edges[i] :
			  get_random_u32_below(env->len);

		KUNIT_EXPECT_EQ_MSG(test,
				    dma_phys(env, ib_umem_dma_address(umem, off)),
				    expected_phys(env, off), "offset %llu", off);
		KUNIT_EXPECT_PTR_EQ(test, ib_umem_page(umem, off),
				    env->pages[(offset_in_page(env->start) +
						off) >> PAGE_SHIFT]);
	}

	/* Blocks of 4 KiB, and of the best page size for two iovas. */
	check_blocks(test, env, umem, PAGE_SIZE, env->start);
	pgsz = ib_umem_find_best_pgsz(umem, bitmap, env->start);
	KUNIT_EXPECT_NE(test, pgsz, 0UL);
	if (pgsz)
		check_blocks(test, env, umem, pgsz, env->start);
	kunit_info(test, "best page size %lu, %lu DMA ranges", pgsz,
		   phyr_list_nr_ranges(ib_umem_dma_list(umem, &one)));
	pgsz = ib_umem_find_best_pgsz(umem, bitmap,
				      SZ_1G + offset_in_page(env->start));
	KUNIT_EXPECT_NE(test, pgsz, 0UL);
	if (pgsz)
		check_blocks(test, env, umem, pgsz,
			     SZ_1G + offset_in_page(env->start));

	/* Copies through the umem, checked through the user mapping. */
	buf = kunit_kmalloc(test, 3 * PAGE_SIZE, GFP_KERNEL);
	back = kunit_kmalloc(test, 3 * PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	KUNIT_ASSERT_NOT_NULL(test, back);
	get_random_bytes(buf, 3 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, 0, ib_umem_copy_to(umem, 1000, buf,
						 3 * PAGE_SIZE));
	KUNIT_ASSERT_EQ(test, 0UL,
			copy_from_user(back, (void __user *)(env->start + 1000),
				       3 * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, 0, memcmp(buf, back, 3 * PAGE_SIZE));
	memset(back, 0, 3 * PAGE_SIZE);
	KUNIT_EXPECT_EQ(test, 0, ib_umem_copy_from(back, umem, 1000,
						   3 * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, 0, memcmp(buf, back, 3 * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, -EINVAL, ib_umem_copy_from(back, umem,
							 env->len - 1, 2));
	KUNIT_EXPECT_EQ(test, 0, ib_umem_copy_from(back, umem, env->len, 0));

	first = ib_umem_dma_address(umem, 0);
	ib_umem_release(umem);
	KUNIT_EXPECT_EQ(test, atomic64_read(&current->mm->pinned_vm),
			env->pinned_vm);
	KUNIT_EXPECT_EQ(test, pins_held(env), env->pins);
	if (env->domain)
		KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(env->domain, first),
				(phys_addr_t)0);
}

static void umem_test_map_iommu(struct kunit *test)
{
	umem_test_map(test, true);
}

static void umem_test_map_direct(struct kunit *test)
{
	umem_test_map(test, false);
}

/*
 * What pristine 6.12 allocates for a one-page umem: its struct ib_umem,
 * whose fields before the sg_append_table are the ones this umem has
 * before its list, and a scatterlist of one entry.
 */
static size_t pristine_small(void)
{
	return kmalloc_size_roundup(ALIGN(offsetof(struct ib_umem, pl),
					  sizeof(void *)) +
				    sizeof(struct sg_append_table)) +
	       kmalloc_size_roundup(sizeof(struct scatterlist));
}

/*
 * A one-page MR, the most common kind: the list holds its one range in
 * place, and the DMA mapping is that range (identity) or one IOVA range,
 * held in the struct phyr_dma that the mapping allocates.  Together at
 * most 1.5 times what pristine 6.12 allocates.
 */
static void umem_test_small(struct kunit *test, bool iommu)
{
	struct umem_env *env = test_env(test, iommu, 1, 0);
	size_t pristine = pristine_small(), ours;
	struct ib_umem *umem;

	umem = ib_umem_get(env->ibdev, env->start, PAGE_SIZE,
			   IB_ACCESS_LOCAL_WRITE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, umem);
	KUNIT_EXPECT_EQ(test, dma_phys(env, ib_umem_dma_address(umem, 0)),
			expected_phys(env, 0));
	KUNIT_EXPECT_EQ(test, phyr_list_mem_bytes(&umem->pl), (size_t)0);
	KUNIT_ASSERT_NOT_NULL(test, umem->dma);
	KUNIT_EXPECT_PTR_EQ(test, umem->dma->list, NULL);
	ours = ksize(umem) + ksize(umem->dma);
	kunit_info(test, "one-page umem: %zu bytes (struct ib_umem %zu, struct phyr_dma %zu), pristine %zu",
		   ours, sizeof(*umem), sizeof(*umem->dma), pristine);
	KUNIT_EXPECT_LE(test, 2 * ours, 3 * pristine);
	ib_umem_release(umem);
}

static void umem_test_small_iommu(struct kunit *test)
{
	umem_test_small(test, true);
}

static void umem_test_small_direct(struct kunit *test)
{
	umem_test_small(test, false);
}

/*
 * A one-page MR of a device that moves data with the CPU (rxe, siw): the
 * umem maps nothing and allocates nothing but itself, no more than
 * pristine 6.12 allocates for it.
 */
static void umem_test_small_virt(struct kunit *test)
{
	struct umem_env *env = test_env_virt(test, 1, 0);
	size_t pristine = pristine_small();
	struct ib_umem *umem;

	umem = ib_umem_get(env->ibdev, env->start, PAGE_SIZE,
			   IB_ACCESS_LOCAL_WRITE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, umem);
	KUNIT_EXPECT_PTR_EQ(test, umem->dma, NULL);
	KUNIT_EXPECT_EQ(test, phyr_list_mem_bytes(&umem->pl), (size_t)0);
	KUNIT_EXPECT_PTR_EQ(test, ib_umem_page(umem, 0), env->pages[0]);
	kunit_info(test, "one-page umem: %zu bytes, pristine %zu",
		   ksize(umem), pristine);
	KUNIT_EXPECT_LE(test, ksize(umem), pristine);
	ib_umem_release(umem);
	KUNIT_EXPECT_EQ(test, pins_held(env), env->pins);
}

/*
 * ib_umem_find_best_pgsz() sets umem->iova even when it fails: here a
 * try at hardware address 0 for memory that starts 0x800 into a page,
 * which no page size can map, as a driver may try for a queue buffer
 * before it gives up.  ib_umem_num_pages() then counts 2 pages where 3
 * were pinned from offset 0x800.  Release gives back what ib_umem_get()
 * charged.
 */
static void umem_test_pinned_vm_iova(struct kunit *test)
{
	struct umem_env *env = test_env(test, false, 3, SZ_2K);
	struct ib_umem *umem;

	umem = ib_umem_get(env->ibdev, env->start, env->len,
			   IB_ACCESS_LOCAL_WRITE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, umem);
	KUNIT_EXPECT_EQ(test, atomic64_read(&current->mm->pinned_vm),
			env->pinned_vm + 3);
	KUNIT_EXPECT_EQ(test, ib_umem_find_best_pgsz(umem, PAGE_SIZE, 0), 0UL);
	KUNIT_EXPECT_EQ(test, ib_umem_num_pages(umem), (size_t)2);
	ib_umem_release(umem);
	KUNIT_EXPECT_EQ(test, atomic64_read(&current->mm->pinned_vm),
			env->pinned_vm);
	KUNIT_EXPECT_EQ(test, pins_held(env), env->pins);
}

/* Bad arguments and memory that cannot be pinned: nothing held after. */
static void umem_test_errors(struct kunit *test)
{
	struct umem_env *env = test_env(test, false, 4, 0);
	struct ib_umem *umem;

	umem = ib_umem_get(env->ibdev, env->start, ULONG_MAX, 0);
	KUNIT_EXPECT_EQ(test, PTR_ERR(umem), -EINVAL);
	umem = ib_umem_get(env->ibdev, env->start, 0, 0);
	KUNIT_EXPECT_EQ(test, PTR_ERR(umem), -EINVAL);
	/* Two pages past the end of the mapping. */
	umem = ib_umem_get(env->ibdev, env->start + 2 * PAGE_SIZE,
			   4 * PAGE_SIZE, IB_ACCESS_LOCAL_WRITE);
	KUNIT_EXPECT_EQ(test, PTR_ERR(umem), -EFAULT);
	umem = ib_umem_get(env->ibdev, env->start, PAGE_SIZE,
			   IB_ACCESS_ON_DEMAND);
	KUNIT_EXPECT_EQ(test, PTR_ERR(umem), -EOPNOTSUPP);
	KUNIT_EXPECT_EQ(test, atomic64_read(&current->mm->pinned_vm),
			env->pinned_vm);
	KUNIT_EXPECT_EQ(test, pins_held(env), env->pins);
}

/*
 * A walk through a umem as rxe and siw make one, by cursor: chunks of
 * random size, each where the last one ended, with now and then a step a
 * little ahead or a jump anywhere (back, or to another leaf of the list).
 * Each chunk's first page and its bytes are checked against the user's
 * view: the pages pinned again and the bytes read through the mapping.
 */
struct cursor_walk {
	struct umem_env *env;
	struct ib_umem *umem;
	const u8 *truth;	/* the umem's bytes, read through the mapping */
	u64 seed;
	unsigned long steps;
	unsigned long bad;	/* chunks with a wrong page or wrong bytes */
	struct completion done;
};

static void cursor_walk(struct cursor_walk *w, struct ib_umem_cursor *cur,
			u8 *buf)
{
	struct umem_env *env = w->env;
	size_t len = w->umem->length, off = 0, n;
	size_t first = w->umem->address - env->start;
	struct rnd_state rnd;
	unsigned long i;
	u32 r;

	prandom_seed_state(&rnd, w->seed);
	for (i = 0; i < w->steps; i++) {
		r = prandom_u32_state(&rnd);
		if (r >> 28 == 0)
			off = prandom_u32_state(&rnd) % len;
		else if (r >> 28 == 1)
			off += prandom_u32_state(&rnd) % (64 * PAGE_SIZE);
		if (off >= len)
			off = 0;
		n = min_t(size_t, 1 + r % (3 * PAGE_SIZE), len - off);
		if (ib_umem_cursor_page(cur, w->umem, off) !=
		    env->pages[(offset_in_page(env->start) + first + off) >>
			       PAGE_SHIFT] ||
		    ib_umem_cursor_copy_from(cur, buf, w->umem, off, n) ||
		    memcmp(buf, w->truth + first + off, n))
			w->bad++;
		off += n;
	}
}

static void vfree_action(void *p)
{
	vfree(p);
}

/* @size bytes of vmalloc(), freed when the test ends. */
static void *test_vmalloc(struct kunit *test, size_t size)
{
	void *p = vmalloc(size);
	int ret;

	KUNIT_ASSERT_NOT_NULL(test, p);
	ret = kunit_add_action_or_reset(test, vfree_action, p);
	KUNIT_ASSERT_EQ(test, ret, 0);
	return p;
}

/* The user memory of @env filled with random bytes, and a copy of them. */
static u8 *cursor_truth(struct kunit *test, struct umem_env *env)
{
	u8 *truth = test_vmalloc(test, env->len);

	get_random_bytes(truth, env->len);
	KUNIT_ASSERT_EQ(test, 0UL, copy_to_user((void __user *)env->start,
						truth, env->len));
	return truth;
}

/*
 * Cursors over a umem of 2,500 scattered pages (three leaves of its
 * list): walks with page lookups and copies both ways, one cursor moved
 * between two umems, and a cursor left on a umem whose memory came to
 * hold another one.
 */
static void umem_test_cursor(struct kunit *test)
{
	struct umem_env *env = test_env_virt(test, 2500, 100);
	struct cursor_walk w = { .env = env, .steps = 20000 };
	struct ib_umem *umem, *half, *slot;
	struct ib_umem_cursor cur;
	size_t in, off, n;
	u8 *buf, *back;

	w.truth = cursor_truth(test, env);
	buf = kunit_kmalloc(test, 3 * PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	umem = ib_umem_get(env->ibdev, env->start, env->len,
			   IB_ACCESS_LOCAL_WRITE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, umem);
	KUNIT_EXPECT_GT(test, phyr_list_nr_ranges(&umem->pl), 2000UL);

	w.umem = umem;
	w.seed = get_random_u64();
	ib_umem_cursor_init(&cur);
	cursor_walk(&w, &cur, buf);
	KUNIT_EXPECT_EQ_MSG(test, w.bad, 0UL, "seed %llu", w.seed);

	/* Past the end: refused, and the cursor still works after. */
	KUNIT_EXPECT_NULL(test, ib_umem_cursor_page(&cur, umem, env->len));
	KUNIT_EXPECT_EQ(test, -EINVAL,
			ib_umem_cursor_copy_from(&cur, buf, umem,
						 env->len - 10, 11));
	KUNIT_EXPECT_PTR_EQ(test, ib_umem_cursor_page(&cur, umem, 0),
			    env->pages[0]);

	/* Sequential copies into the umem, read back through the mapping. */
	back = test_vmalloc(test, env->len);
	get_random_bytes(back, env->len);
	for (off = 0; off < env->len; off += n) {
		n = min_t(size_t, 1 + get_random_u32_below(3 * PAGE_SIZE),
			  env->len - off);
		KUNIT_ASSERT_EQ(test, 0, ib_umem_cursor_copy_to(&cur, umem, off,
								back + off,
								n));
	}
	KUNIT_ASSERT_EQ(test, 0UL, copy_from_user((u8 *)w.truth,
						  (void __user *)env->start,
						  env->len));
	KUNIT_EXPECT_EQ(test, 0, memcmp(back, w.truth, env->len));

	/* One cursor, two umems in turn: 1,000 pages from page 700 on. */
	half = ib_umem_get(env->ibdev, env->start + 700 * PAGE_SIZE + 7,
			   1000 * PAGE_SIZE, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, half);
	in = offset_in_page(env->start);
	for (off = 0; off < 1000 * PAGE_SIZE; off += 3 * PAGE_SIZE + 5) {
		KUNIT_EXPECT_PTR_EQ(test, ib_umem_cursor_page(&cur, half, off),
				    env->pages[(in + 700 * PAGE_SIZE + 7 + off) >>
					       PAGE_SHIFT]);
		KUNIT_EXPECT_PTR_EQ(test, ib_umem_cursor_page(&cur, umem, off),
				    env->pages[(in + off) >> PAGE_SHIFT]);
	}

	/*
	 * A cursor left on a umem that was released, whose memory now holds
	 * another umem, must not take the one for the other.  The allocator
	 * does not say when it reuses memory (KASAN holds freed memory back),
	 * so copy @half into memory of our own, walk it, then copy @umem
	 * over it: the same address, another list and generation.
	 */
	slot = kunit_kmalloc(test, sizeof(*slot), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, slot);
	*slot = *half;
	KUNIT_EXPECT_PTR_EQ(test, ib_umem_cursor_page(&cur, slot, PAGE_SIZE),
			    env->pages[701]);
	/* the same list offset, 100 + 4096 + 7, as the last access */
	*slot = *umem;
	KUNIT_EXPECT_PTR_EQ(test,
			    ib_umem_cursor_page(&cur, slot, PAGE_SIZE + 7),
			    env->pages[1]);
	ib_umem_release(half);
	ib_umem_release(umem);
	KUNIT_EXPECT_EQ(test, pins_held(env), env->pins);
}

static int cursor_reader(void *data)
{
	struct cursor_walk *w = data;
	struct ib_umem_cursor cur;
	u8 *buf = kmalloc(3 * PAGE_SIZE, GFP_KERNEL);

	if (buf) {
		ib_umem_cursor_init(&cur);
		cursor_walk(w, &cur, buf);
		kfree(buf);
	} else {
		w->bad = ULONG_MAX;
	}
	complete(&w->done);
	return 0;
}

/* Eight threads walk one umem at once, each with a cursor of its own. */
static void umem_test_cursor_readers(struct kunit *test)
{
	struct umem_env *env = test_env_virt(test, 2500, 100);
	struct cursor_walk *w;
	struct task_struct *t;
	struct ib_umem *umem;
	const u8 *truth;
	int i, n = 8;

	truth = cursor_truth(test, env);
	umem = ib_umem_get(env->ibdev, env->start, env->len, 0);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, umem);
	w = kunit_kcalloc(test, n, sizeof(*w), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, w);
	for (i = 0; i < n; i++) {
		w[i] = (struct cursor_walk){ .env = env, .umem = umem,
					     .truth = truth, .steps = 5000,
					     .seed = get_random_u64() };
		init_completion(&w[i].done);
		t = kthread_run(cursor_reader, &w[i], "umem_cursor/%d", i);
		if (IS_ERR(t)) {
			w[i].bad = ULONG_MAX;
			complete(&w[i].done);
		}
	}
	for (i = 0; i < n; i++) {
		wait_for_completion(&w[i].done);
		KUNIT_EXPECT_EQ_MSG(test, w[i].bad, 0UL, "reader %d, seed %llu",
				    i, w[i].seed);
	}
	ib_umem_release(umem);
	KUNIT_EXPECT_EQ(test, pins_held(env), env->pins);
}

/*
 * A dma-buf exporter over scattered pages: its map_dma_buf() maps them
 * for the importing device with dma_map_sgtable(), as GPU drivers do.
 */
struct test_dmabuf {
	struct page **pages;
	unsigned int npages;
	struct sg_table *sgt;		/* the table handed to the importer */
};

static struct sg_table *test_dmabuf_map(struct dma_buf_attachment *attach,
					enum dma_data_direction dir)
{
	struct test_dmabuf *tb = attach->dmabuf->priv;
	struct sg_table *sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	int ret;

	if (!sgt)
		return ERR_PTR(-ENOMEM);
	ret = sg_alloc_table_from_pages(sgt, tb->pages, tb->npages, 0,
					(size_t)tb->npages << PAGE_SHIFT,
					GFP_KERNEL);
	if (!ret)
		ret = dma_map_sgtable(attach->dev, sgt, dir, 0);
	if (ret) {
		sg_free_table(sgt);
		kfree(sgt);
		return ERR_PTR(ret);
	}
	tb->sgt = sgt;
	return sgt;
}

static void test_dmabuf_unmap(struct dma_buf_attachment *attach,
			      struct sg_table *sgt,
			      enum dma_data_direction dir)
{
	struct test_dmabuf *tb = attach->dmabuf->priv;

	dma_unmap_sgtable(attach->dev, sgt, dir, 0);
	sg_free_table(sgt);
	kfree(sgt);
	tb->sgt = NULL;
}

static void test_dmabuf_release(struct dma_buf *dmabuf)
{
	struct test_dmabuf *tb = dmabuf->priv;
	unsigned int i;

	for (i = 0; i < tb->npages; i++)
		__free_page(tb->pages[i]);
	kfree(tb->pages);
	kfree(tb);
}

static const struct dma_buf_ops test_dmabuf_ops = {
	.map_dma_buf = test_dmabuf_map,
	.unmap_dma_buf = test_dmabuf_unmap,
	.release = test_dmabuf_release,
};

static void close_fd_action(void *fd)
{
	close_fd((unsigned long)fd);
}

/* A dma-buf of @npages scattered pages, as a file descriptor. */
static int test_dmabuf_fd(struct kunit *test, unsigned int npages,
			  struct test_dmabuf **tbp)
{
	DEFINE_DMA_BUF_EXPORT_INFO(exp_info);
	struct test_dmabuf *tb = kzalloc(sizeof(*tb), GFP_KERNEL);
	struct dma_buf *dmabuf;
	unsigned int i;
	int fd;

	KUNIT_ASSERT_NOT_NULL(test, tb);
	tb->pages = kcalloc(npages, sizeof(*tb->pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, tb->pages);
	/* every other page, so that no two are contiguous by chance */
	for (i = 0; i < npages; i++) {
		struct page *pair = alloc_pages(GFP_KERNEL, 1);

		KUNIT_ASSERT_NOT_NULL(test, pair);
		split_page(pair, 1);
		__free_page(pair + 1);
		tb->pages[i] = pair;
	}
	tb->npages = npages;
	exp_info.ops = &test_dmabuf_ops;
	exp_info.size = (size_t)npages << PAGE_SHIFT;
	exp_info.flags = O_RDWR;
	exp_info.priv = tb;
	dmabuf = dma_buf_export(&exp_info);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dmabuf);
	fd = dma_buf_fd(dmabuf, O_CLOEXEC);
	if (fd < 0)
		dma_buf_put(dmabuf);
	KUNIT_ASSERT_GE(test, fd, 0);
	KUNIT_ASSERT_EQ(test, 0,
			kunit_add_action_or_reset(test, close_fd_action,
						  (void *)(unsigned long)fd));
	*tbp = tb;
	return fd;
}

/*
 * A window of a dma-buf, at a byte offset into its third page: every
 * byte address and block of the umem translates to the exporter's page
 * under it, and the exporter's table is left as it was handed over.
 */
static void umem_test_dmabuf(struct kunit *test)
{
	const unsigned long offset = 2 * PAGE_SIZE + 300;
	const size_t len = 20 * PAGE_SIZE;
	struct umem_env *env = kunit_kzalloc(test, sizeof(*env), GFP_KERNEL);
	struct ib_umem_dmabuf *umem_dmabuf;
	struct ib_block_iter biter;
	struct test_dmabuf *tb;
	struct scatterlist *sg;
	dma_addr_t *before;
	unsigned int i, nr = 0, bad = 0;
	int fd;

	KUNIT_ASSERT_NOT_NULL(test, env);
	test_ibdev(test, true, env);
	fd = test_dmabuf_fd(test, 32, &tb);

	umem_dmabuf = ib_umem_dmabuf_get_pinned(env->ibdev, offset, len, fd,
						IB_ACCESS_LOCAL_WRITE);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, umem_dmabuf);
	KUNIT_ASSERT_NOT_NULL(test, tb->sgt);
	/* the exporter's DMA segments, address and length */
	before = kunit_kcalloc(test, 2 * tb->sgt->nents, sizeof(*before),
			       GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, before);
	for_each_sgtable_dma_sg(tb->sgt, sg, i) {
		before[2 * i] = sg_dma_address(sg);
		before[2 * i + 1] = sg_dma_len(sg);
	}

	for (i = 0; i < 64; i++) {
		const u64 edges[] = { 0, 1, PAGE_SIZE - 300, len - 1 };
		u64 off = i < ARRAY_SIZE(edges) ? edges[i] :
			  get_random_u32_below(len);
		u64 at = offset + off;
		dma_addr_t dma = ib_umem_dma_address(&umem_dmabuf->umem, off);

		KUNIT_EXPECT_EQ_MSG(test, dma_phys(env, dma),
				    page_to_phys(tb->pages[at >> PAGE_SHIFT]) +
				    offset_in_page(at), "offset %llu", off);
	}
	/* as drivers do, which sets the iova the blocks are counted from */
	KUNIT_EXPECT_EQ(test, ib_umem_find_best_pgsz(&umem_dmabuf->umem,
						     SZ_4K | SZ_2M, offset),
			(unsigned long)SZ_4K);
	rdma_umem_for_each_dma_block(&umem_dmabuf->umem, &biter, PAGE_SIZE) {
		unsigned int page = (offset >> PAGE_SHIFT) + nr++;

		if (page >= tb->npages ||
		    dma_phys(env, rdma_block_iter_dma_address(&biter)) !=
		    page_to_phys(tb->pages[page]))
			bad++;
	}
	KUNIT_EXPECT_EQ(test, (size_t)nr,
			ib_umem_num_dma_blocks(&umem_dmabuf->umem, PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, nr, 21U);
	KUNIT_EXPECT_EQ(test, bad, 0U);
	/* the importer reads the exporter's table, it does not trim it */
	for_each_sgtable_dma_sg(tb->sgt, sg, i) {
		KUNIT_EXPECT_EQ(test, sg_dma_address(sg), before[2 * i]);
		KUNIT_EXPECT_EQ(test, (dma_addr_t)sg_dma_len(sg),
				before[2 * i + 1]);
	}

	ib_umem_release(&umem_dmabuf->umem);
	/* unmapped by the exporter when the importer detached */
	KUNIT_EXPECT_NULL(test, tb->sgt);
	KUNIT_EXPECT_EQ(test, iommu_iova_to_phys(env->domain, before[0]),
			(phys_addr_t)0);

	/* a window past the end of the dma-buf */
	umem_dmabuf = ib_umem_dmabuf_get_pinned(env->ibdev, 30 * PAGE_SIZE,
						3 * PAGE_SIZE, fd, 0);
	KUNIT_EXPECT_EQ(test, PTR_ERR(umem_dmabuf), -EINVAL);
}

#ifdef CONFIG_FAULT_INJECTION
/*
 * Fail every phyr fault point of ib_umem_get() in turn (pinning into the
 * list, then mapping it): each failure returns -ENOMEM with every page
 * unpinned, the pinned_vm accounting undone and nothing mapped.
 */
static void umem_test_fail_nth(struct kunit *test)
{
	/* Scattered byte-granular pages: a chunked list, many ranges. */
	struct umem_env *env = test_env(test, true, 600, 8);
	struct ib_umem *umem = ERR_PTR(-ENOMEM);
	unsigned int n;

	for (n = 1; n < 10000; n++) {
		current->fail_nth = n;
		umem = ib_umem_get(env->ibdev, env->start, env->len,
				   IB_ACCESS_LOCAL_WRITE);
		current->fail_nth = 0;
		if (!IS_ERR(umem))
			break;
		KUNIT_EXPECT_EQ_MSG(test, PTR_ERR(umem), -ENOMEM,
				    "failure point %u", n);
		KUNIT_EXPECT_EQ(test, atomic64_read(&current->mm->pinned_vm),
				env->pinned_vm);
		KUNIT_EXPECT_EQ(test, pins_held(env), env->pins);
	}
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, umem);
	kunit_info(test, "%u failure points, then success", n - 1);
	/* The list's chunks, the IOVA, the IOMMU mapping at least. */
	KUNIT_EXPECT_GE(test, n - 1, 3U);
	KUNIT_EXPECT_EQ(test, dma_phys(env, ib_umem_dma_address(umem, 0)),
			expected_phys(env, 0));
	ib_umem_release(umem);
	KUNIT_EXPECT_EQ(test, pins_held(env), env->pins);
}
#else
static void umem_test_fail_nth(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_FAULT_INJECTION");
}
#endif

static struct kunit_case ib_umem_test_cases[] = {
	KUNIT_CASE(umem_test_map_iommu),
	KUNIT_CASE(umem_test_map_direct),
	KUNIT_CASE(umem_test_small_iommu),
	KUNIT_CASE(umem_test_small_direct),
	KUNIT_CASE(umem_test_small_virt),
	KUNIT_CASE(umem_test_pinned_vm_iova),
	KUNIT_CASE(umem_test_errors),
	KUNIT_CASE_SLOW(umem_test_cursor),
	KUNIT_CASE_SLOW(umem_test_cursor_readers),
	KUNIT_CASE(umem_test_dmabuf),
	KUNIT_CASE(umem_test_fail_nth),
	{}
};

static struct kunit_suite ib_umem_test_suite = {
	.name = "ib_umem",
	.test_cases = ib_umem_test_cases,
};

kunit_test_suite(ib_umem_test_suite);

MODULE_IMPORT_NS(DMA_BUF);
MODULE_DESCRIPTION("KUnit tests of ib_umem on phyr lists");
MODULE_LICENSE("Dual BSD/GPL");
