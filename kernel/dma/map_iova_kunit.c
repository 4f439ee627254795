// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of dma_map_phys() and the IOVA link API (dma_iova_*())
 *
 * They run on the QEMU "edu" PCI device of the phyr test machine and check
 * every mapping against something other than the code under test: the
 * IOMMU page table (iommu_iova_to_phys()), dma_map_page_attrs() and
 * dma_map_resource() on the same memory, and real DMA by the edu through
 * the address that was returned.  A case skips where the machine lacks
 * what it needs (an IOMMU, swiotlb, fault injection).
 */

#include <kunit/test.h>
#include <linux/debugfs.h>
#include <linux/delay.h>
#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/iommu.h>
#include <linux/iommu-dma.h>
#include <linux/of.h>
#include <linux/pci.h>
#include <linux/random.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/swiotlb.h>
#include "../../lib/test_phyr_edu.h"

static struct {
	struct pci_dev *pdev;
	void __iomem *bar;
	bool driver_registered;
} edu;

/*
 * A driver that does nothing, for the edu of a device-tree machine
 * (arm64): there the driver core sets up a device's DMA (its IOMMU, its
 * coherence) only when it binds a driver.
 */
static const struct pci_device_id dma_iova_edu_ids[] = {
	{ PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) },
	{}
};

static int dma_iova_edu_probe(struct pci_dev *pdev,
			      const struct pci_device_id *id)
{
	return 0;
}

static struct pci_driver dma_iova_edu_driver = {
	.name = "dma_iova_kunit",
	.id_table = dma_iova_edu_ids,
	.probe = dma_iova_edu_probe,
};

static int dma_iova_suite_init(struct kunit_suite *suite)
{
	struct pci_dev *pdev;

	/* Built-in suites may run before asynchronous probing is done. */
	wait_for_device_probe();
	if (of_have_populated_dt())
		edu.driver_registered =
			!pci_register_driver(&dma_iova_edu_driver);
	pdev = pci_get_device(EDU_VENDOR, EDU_DEVICE, NULL);
	if (!pdev)
		return 0;
	if (pci_enable_device(pdev))
		goto out_put;
	pci_set_master(pdev);
	if (dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64)))
		goto out_disable;
	edu.bar = pci_iomap(pdev, 0, 0);
	if (!edu.bar)
		goto out_disable;
	edu.pdev = pdev;
	return 0;

out_disable:
	pci_clear_master(pdev);
	pci_disable_device(pdev);
out_put:
	pci_dev_put(pdev);
	return 0;
}

static void dma_iova_suite_exit(struct kunit_suite *suite)
{
	if (edu.pdev) {
		pci_iounmap(edu.pdev, edu.bar);
		pci_clear_master(edu.pdev);
		pci_disable_device(edu.pdev);
		pci_dev_put(edu.pdev);
		edu.pdev = NULL;
	}
	if (edu.driver_registered)
		pci_unregister_driver(&dma_iova_edu_driver);
	edu.driver_registered = false;
}

static struct device *need_dev(struct kunit *test)
{
	if (!edu.pdev)
		kunit_skip(test, "no edu device (1234:11e8) in this machine");
	return &edu.pdev->dev;
}

static struct iommu_domain *need_iommu(struct kunit *test, struct device *dev)
{
	if (!use_dma_iommu(dev))
		kunit_skip(test, "the edu is not behind an IOMMU of the DMA API");
	return iommu_get_domain_for_dev(dev);
}

static void add_action(struct kunit *test, kunit_action_t *action, void *data)
{
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, action, data));
}

static void free_pages_action(void *page)
{
	__free_pages(page, 3);
}

/* Eight pages of random bytes, freed when the test ends. */
static struct page *test_pages(struct kunit *test)
{
	struct page *page = alloc_pages(GFP_KERNEL, 3);

	KUNIT_ASSERT_NOT_NULL(test, page);
	add_action(test, free_pages_action, page);
	get_random_bytes(page_address(page), 8 * PAGE_SIZE);
	return page;
}

struct coherent {
	void *cpu;
	dma_addr_t dma;
};

static void coherent_free_action(void *data)
{
	struct coherent *c = data;

	dma_free_coherent(&edu.pdev->dev, EDU_XFER_MAX, c->cpu, c->dma);
}

/* EDU_XFER_MAX bytes the edu can reach, freed when the test ends. */
static struct coherent *test_coherent(struct kunit *test)
{
	struct coherent *c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, c);
	c->cpu = dma_alloc_coherent(&edu.pdev->dev, EDU_XFER_MAX, &c->dma,
				    GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c->cpu);
	add_action(test, coherent_free_action, c);
	return c;
}

/* The edu copies @len bytes from DMA address @from to DMA address @to. */
static void edu_copy(struct kunit *test, dma_addr_t from, dma_addr_t to,
		     u32 len)
{
	KUNIT_ASSERT_EQ(test, 0, edu_dma(edu.bar, from, 0, len, false));
	KUNIT_ASSERT_EQ(test, 0, edu_dma(edu.bar, to, 0, len, true));
}

/* Each 256th byte and the last of [@iova, @iova + @len) translate to @phys. */
static void expect_translation(struct kunit *test, struct iommu_domain *domain,
			       dma_addr_t iova, phys_addr_t phys, size_t len)
{
	size_t off;

	for (off = 0; off < len; off = off + 256 < len ? off + 256 : len - 1) {
		KUNIT_EXPECT_EQ_MSG(test, iommu_iova_to_phys(domain, iova + off),
				    phys + off, "byte %zu of %zu", off, len);
		if (off == len - 1)
			break;
	}
}

/* Number of the @len / PAGE_SIZE pages at @iova that translate at all. */
static unsigned long mapped_pages(struct iommu_domain *domain, dma_addr_t iova,
				  size_t len)
{
	unsigned long n = 0;
	size_t off;

	for (off = 0; off < len; off += PAGE_SIZE)
		n += !!iommu_iova_to_phys(domain, iova + off);
	return n;
}

/*
 * Without an IOMMU dma_iova_try_alloc() fails and leaves the state zeroed;
 * with one it returns a range at the offset of @phys into a page.
 */
static void dma_iova_test_try_alloc(struct kunit *test)
{
	struct device *dev = need_dev(test);
	struct dma_iova_state state = { .addr = 1, .__size = 1 };
	phys_addr_t phys = page_to_phys(test_pages(test)) + 0x234;

	if (!use_dma_iommu(dev)) {
		KUNIT_EXPECT_FALSE(test, dma_iova_try_alloc(dev, &state, phys,
							    SZ_64K));
		KUNIT_EXPECT_FALSE(test, dma_use_iova(&state));
		KUNIT_EXPECT_EQ(test, state.addr, (dma_addr_t)0);
		KUNIT_EXPECT_EQ(test, dma_iova_size(&state), (size_t)0);
		return;
	}
	KUNIT_ASSERT_TRUE(test, dma_iova_try_alloc(dev, &state, phys, SZ_64K));
	KUNIT_EXPECT_TRUE(test, dma_use_iova(&state));
	KUNIT_EXPECT_EQ(test, dma_iova_size(&state), (size_t)SZ_64K);
	KUNIT_EXPECT_EQ(test, offset_in_page(state.addr), 0x234UL);
	KUNIT_EXPECT_EQ(test, mapped_pages(iommu_get_domain_for_dev(dev),
					   state.addr, SZ_64K), 0UL);
	dma_iova_free(dev, &state);
}

/*
 * Scattered pages linked one after the other, checked page by page in the
 * page table and by the edu copying between them through the IOVA range;
 * then a window unlinked and linked again, and the whole destroyed.
 */
static void dma_iova_test_link_pages(struct kunit *test)
{
	struct device *dev = need_dev(test);
	struct iommu_domain *domain = need_iommu(test, dev);
	struct dma_iova_state state;
	phys_addr_t phys[16];
	unsigned int i;
	u8 *src, *dst;

	/* Pages 0 and 5 of each block of eight: none follows the last. */
	for (i = 0; i < ARRAY_SIZE(phys); i++)
		phys[i] = i % 2 ? phys[i - 1] + 5 * PAGE_SIZE :
			  page_to_phys(test_pages(test));
	KUNIT_ASSERT_TRUE(test, dma_iova_try_alloc(dev, &state, phys[0],
						   ARRAY_SIZE(phys) * PAGE_SIZE));
	for (i = 0; i < ARRAY_SIZE(phys); i++)
		KUNIT_ASSERT_EQ(test, 0, dma_iova_link(dev, &state, phys[i],
						       i * PAGE_SIZE, PAGE_SIZE,
						       DMA_BIDIRECTIONAL, 0));
	KUNIT_ASSERT_EQ(test, 0, dma_iova_sync(dev, &state, 0,
					       ARRAY_SIZE(phys) * PAGE_SIZE));
	for (i = 0; i < ARRAY_SIZE(phys); i++)
		expect_translation(test, domain, state.addr + i * PAGE_SIZE,
				   phys[i], PAGE_SIZE);

	/* Page i + 1 gets 1000 bytes of page i, copied by the device. */
	for (i = 0; i + 1 < ARRAY_SIZE(phys); i += 3) {
		edu_copy(test, state.addr + i * PAGE_SIZE + 100,
			 state.addr + (i + 1) * PAGE_SIZE + 2000, 1000);
		src = phys_to_virt(phys[i]) + 100;
		dst = phys_to_virt(phys[i + 1]) + 2000;
		KUNIT_EXPECT_MEMEQ_MSG(test, dst, src, 1000, "page %u", i);
	}

	/* A window of four pages out and back in. */
	dma_iova_unlink(dev, &state, 4 * PAGE_SIZE, 4 * PAGE_SIZE,
			DMA_BIDIRECTIONAL, 0);
	KUNIT_EXPECT_EQ(test, mapped_pages(domain, state.addr,
					   ARRAY_SIZE(phys) * PAGE_SIZE),
			(unsigned long)ARRAY_SIZE(phys) - 4);
	for (i = 4; i < 8; i++)
		KUNIT_ASSERT_EQ(test, 0, dma_iova_link(dev, &state, phys[i],
						       i * PAGE_SIZE, PAGE_SIZE,
						       DMA_BIDIRECTIONAL, 0));
	KUNIT_ASSERT_EQ(test, 0, dma_iova_sync(dev, &state, 4 * PAGE_SIZE,
					       4 * PAGE_SIZE));
	for (i = 4; i < 8; i++)
		expect_translation(test, domain, state.addr + i * PAGE_SIZE,
				   phys[i], PAGE_SIZE);

	dma_iova_destroy(dev, &state, ARRAY_SIZE(phys) * PAGE_SIZE,
			 DMA_BIDIRECTIONAL, 0);
	KUNIT_EXPECT_EQ(test, mapped_pages(domain, state.addr & PAGE_MASK,
					   ARRAY_SIZE(phys) * PAGE_SIZE), 0UL);
}

/* A first range that starts and ends inside a page keeps its offset. */
static void dma_iova_test_link_unaligned(struct kunit *test)
{
	struct device *dev = need_dev(test);
	struct iommu_domain *domain = need_iommu(test, dev);
	phys_addr_t phys = page_to_phys(test_pages(test)) + 0x234;
	size_t len = 3 * PAGE_SIZE + 100;
	struct dma_iova_state state;
	u8 *cpu = phys_to_virt(phys);

	KUNIT_ASSERT_TRUE(test, dma_iova_try_alloc(dev, &state, phys, len));
	KUNIT_ASSERT_EQ(test, 0, dma_iova_link(dev, &state, phys, 0, len,
					       DMA_BIDIRECTIONAL, 0));
	KUNIT_ASSERT_EQ(test, 0, dma_iova_sync(dev, &state, 0, len));
	expect_translation(test, domain, state.addr, phys, len);
	/* The last 1000 bytes become a copy of the first 1000. */
	edu_copy(test, state.addr, state.addr + len - 1000, 1000);
	KUNIT_EXPECT_MEMEQ(test, cpu + len - 1000, cpu, 1000);
	dma_iova_destroy(dev, &state, len, DMA_BIDIRECTIONAL, 0);
	KUNIT_EXPECT_EQ(test, mapped_pages(domain, state.addr & PAGE_MASK,
					   len + PAGE_SIZE), 0UL);
}

struct untrusted_saved {
	bool untrusted;
	unsigned int min_align_mask;
};

static void untrusted_restore(void *data)
{
	struct untrusted_saved *s = data;

	edu.pdev->untrusted = s->untrusted;
	dma_set_min_align_mask(&edu.pdev->dev, s->min_align_mask);
}

static void set_untrusted(struct kunit *test, unsigned int min_align_mask)
{
	struct untrusted_saved *s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, s);
	s->untrusted = edu.pdev->untrusted;
	s->min_align_mask = dma_get_min_align_mask(&edu.pdev->dev);
	add_action(test, untrusted_restore, s);
	edu.pdev->untrusted = true;
	KUNIT_ASSERT_NOT_NULL(test, edu.pdev->dev.dma_parms);
	dma_set_min_align_mask(&edu.pdev->dev, min_align_mask);
}

/*
 * An untrusted device sees the partial pages at either end of a range
 * through bounce buffers, and the whole pages between as they are.  Its
 * writes reach the memory when the range is unlinked.  Without a
 * min_align_mask that keeps offsets into a page, there is no IOVA range.
 */
static void dma_iova_test_link_bounce(struct kunit *test)
{
	struct device *dev = need_dev(test);
	struct iommu_domain *domain = need_iommu(test, dev);
	phys_addr_t phys = page_to_phys(test_pages(test)) + 0x80;
	size_t len = 2 * PAGE_SIZE + 0x200, head = PAGE_SIZE - 0x80;
	struct coherent *c = test_coherent(test);
	struct dma_iova_state state;
	u8 *cpu = phys_to_virt(phys);
	phys_addr_t head_phys, tail_phys;
	u8 old[64];

	if (!is_swiotlb_active(dev))
		kunit_skip(test, "no swiotlb to bounce through");
	set_untrusted(test, 0);
	KUNIT_EXPECT_FALSE(test, dma_iova_try_alloc(dev, &state, phys, len));
	KUNIT_EXPECT_FALSE(test, dma_use_iova(&state));
	set_untrusted(test, PAGE_SIZE - 1);
	KUNIT_ASSERT_TRUE(test, dma_iova_try_alloc(dev, &state, phys, len));
	KUNIT_ASSERT_EQ(test, 0, dma_iova_link(dev, &state, phys, 0, len,
					       DMA_BIDIRECTIONAL, 0));
	KUNIT_ASSERT_EQ(test, 0, dma_iova_sync(dev, &state, 0, len));
	KUNIT_EXPECT_TRUE(test, state.__size & DMA_IOVA_USE_SWIOTLB);

	head_phys = iommu_iova_to_phys(domain, state.addr);
	tail_phys = iommu_iova_to_phys(domain, state.addr + len - 1);
	KUNIT_EXPECT_TRUE(test, swiotlb_find_pool(dev, head_phys));
	KUNIT_EXPECT_TRUE(test, swiotlb_find_pool(dev, tail_phys));
	KUNIT_EXPECT_EQ(test, offset_in_page(head_phys), 0x80UL);
	expect_translation(test, domain, state.addr + head, phys + head,
			   PAGE_SIZE);

	/* The device reads what the memory held when it was linked... */
	edu_copy(test, state.addr, c->dma, 64);
	KUNIT_EXPECT_MEMEQ(test, c->cpu, cpu, 64);
	edu_copy(test, state.addr + len - 64, c->dma, 64);
	KUNIT_EXPECT_MEMEQ(test, c->cpu, cpu + len - 64, 64);
	/* ...and what it writes into the head is copied back at unlink. */
	memcpy(old, cpu, sizeof(old));
	get_random_bytes(c->cpu, 64);
	edu_copy(test, c->dma, state.addr, 64);
	KUNIT_EXPECT_MEMEQ(test, cpu, old, 64);
	dma_iova_destroy(dev, &state, len, DMA_BIDIRECTIONAL, 0);
	KUNIT_EXPECT_MEMEQ(test, cpu, c->cpu, 64);
	KUNIT_EXPECT_EQ(test, mapped_pages(domain, state.addr & PAGE_MASK,
					   len + PAGE_SIZE), 0UL);
}

/*
 * dma_map_phys() against dma_map_page_attrs() on the same bytes: the same
 * DMA address where the device sees memory 1:1, the same memory behind
 * the IOMMU, a bounce buffer for both under swiotlb=force, and in every
 * case a device that reads the bytes through the address returned.
 */
static void dma_iova_test_map_phys(struct kunit *test)
{
	static const struct {
		size_t off, len;
	} cases[] = {
		{ 0, PAGE_SIZE }, { 0x80, 0x100 }, { 0x10, 2 * PAGE_SIZE - 0x20 },
		{ PAGE_SIZE - 8, 16 },
	};
	struct device *dev = need_dev(test);
	struct page *page = test_pages(test);
	struct coherent *c = test_coherent(test);
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);
	bool iommu = use_dma_iommu(dev);
	unsigned int i, way;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		phys_addr_t phys = page_to_phys(page) + cases[i].off;
		size_t len = cases[i].len, n = min_t(size_t, len, EDU_XFER_MAX);
		dma_addr_t addr[2];
		phys_addr_t tlb;

		for (way = 0; way < 2; way++) {
			if (way)
				addr[way] = dma_map_page_attrs(dev, page,
							       cases[i].off, len,
							       DMA_TO_DEVICE, 0);
			else
				addr[way] = dma_map_phys(dev, phys, len,
							 DMA_TO_DEVICE, 0);
			KUNIT_ASSERT_EQ(test, 0,
					dma_mapping_error(dev, addr[way]));
			if (iommu) {
				expect_translation(test, domain, addr[way],
						   phys, len);
			} else if (is_swiotlb_force_bounce(dev)) {
				tlb = dma_to_phys(dev, addr[way]);
				KUNIT_EXPECT_TRUE(test,
						  swiotlb_find_pool(dev, tlb));
			}
			memset(c->cpu, 0, n);
			edu_copy(test, addr[way], c->dma, n);
			KUNIT_EXPECT_MEMEQ_MSG(test, c->cpu, phys_to_virt(phys),
					       n, "case %u, %s", i,
					       way ? "page" : "phys");
			if (way)
				dma_unmap_page_attrs(dev, addr[way], len,
						     DMA_TO_DEVICE, 0);
			else
				dma_unmap_phys(dev, addr[way], len,
					       DMA_TO_DEVICE, 0);
		}
		if (!iommu && !is_swiotlb_force_bounce(dev))
			KUNIT_EXPECT_EQ_MSG(test, addr[0], addr[1], "case %u", i);
	}
}

/*
 * MMIO: dma_map_phys() with DMA_ATTR_MMIO maps like dma_map_resource(),
 * and dma_iova_link() with it puts the BAR into the page table.
 */
static void dma_iova_test_mmio(struct kunit *test)
{
	struct device *dev = need_dev(test);
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);
	phys_addr_t bar = pci_resource_start(edu.pdev, 0);
	struct dma_iova_state state;
	dma_addr_t addr[2];
	unsigned int way;

	for (way = 0; way < 2; way++) {
		if (way)
			addr[way] = dma_map_resource(dev, bar, PAGE_SIZE,
						     DMA_BIDIRECTIONAL, 0);
		else
			addr[way] = dma_map_phys(dev, bar, PAGE_SIZE,
						 DMA_BIDIRECTIONAL,
						 DMA_ATTR_MMIO);
		KUNIT_ASSERT_EQ(test, 0, dma_mapping_error(dev, addr[way]));
		if (use_dma_iommu(dev))
			expect_translation(test, domain, addr[way], bar,
					   PAGE_SIZE);
		if (way)
			dma_unmap_resource(dev, addr[way], PAGE_SIZE,
					   DMA_BIDIRECTIONAL, 0);
		else
			dma_unmap_phys(dev, addr[way], PAGE_SIZE,
				       DMA_BIDIRECTIONAL, DMA_ATTR_MMIO);
	}
	if (!use_dma_iommu(dev)) {
		KUNIT_EXPECT_EQ(test, addr[0], addr[1]);
		return;
	}

	KUNIT_ASSERT_TRUE(test, dma_iova_try_alloc(dev, &state, bar,
						   2 * PAGE_SIZE));
	KUNIT_ASSERT_EQ(test, 0, dma_iova_link(dev, &state, bar, 0,
					       2 * PAGE_SIZE,
					       DMA_BIDIRECTIONAL,
					       DMA_ATTR_MMIO));
	KUNIT_ASSERT_EQ(test, 0, dma_iova_sync(dev, &state, 0, 2 * PAGE_SIZE));
	expect_translation(test, domain, state.addr, bar, 2 * PAGE_SIZE);
	dma_iova_destroy(dev, &state, 2 * PAGE_SIZE, DMA_BIDIRECTIONAL,
			 DMA_ATTR_MMIO);
	KUNIT_EXPECT_EQ(test, mapped_pages(domain, state.addr,
					   2 * PAGE_SIZE), 0UL);
}

/*
 * dma_iova_destroy() frees all of the IOVA range, also when less of it
 * was linked: with a 32-bit mask there is room for no more than three
 * 1 GiB ranges, and sixteen come and go.  Freed ranges may wait in the
 * flush queue for a few milliseconds before they are free again.
 */
static void dma_iova_test_destroy_frees(struct kunit *test)
{
	struct device *dev = need_dev(test);
	phys_addr_t phys = page_to_phys(test_pages(test));
	u64 mask = dma_get_mask(dev);
	struct dma_iova_state state;
	unsigned int i, tries;
	bool ok = false;

	need_iommu(test, dev);
	KUNIT_ASSERT_EQ(test, 0, dma_set_mask(dev, DMA_BIT_MASK(32)));
	for (i = 0; i < 16; i++) {
		for (tries = 0; tries < 50; tries++) {
			ok = dma_iova_try_alloc(dev, &state, phys, SZ_1G);
			if (ok)
				break;
			msleep(20);
		}
		KUNIT_EXPECT_TRUE_MSG(test, ok, "IOVA range %u", i);
		if (!ok)
			break;
		KUNIT_EXPECT_EQ(test, 0, dma_iova_link(dev, &state, phys, 0,
						       PAGE_SIZE, DMA_TO_DEVICE,
						       0));
		dma_iova_destroy(dev, &state, PAGE_SIZE, DMA_TO_DEVICE, 0);
	}
	KUNIT_EXPECT_EQ(test, 0, dma_set_mask(dev, mask));
}

#if IS_ENABLED(CONFIG_FAIL_PAGE_ALLOC) && IS_ENABLED(CONFIG_FAULT_INJECTION_DEBUG_FS)
static void free_block_action(void *page)
{
	__free_pages(page, 7);
}

static void *fail_page_alloc_knob(const char *name)
{
	struct dentry *dir = debugfs_lookup("fail_page_alloc", NULL);
	struct dentry *d;
	void *value = NULL;

	if (IS_ERR_OR_NULL(dir))
		return NULL;
	d = debugfs_lookup(name, dir);
	if (!IS_ERR_OR_NULL(d))
		value = d_inode(d)->i_private;
	dput(d);
	dput(dir);
	return value;
}

static void min_order_restore(void *data)
{
	u32 *min_order = fail_page_alloc_knob("min-order");

	*min_order = (uintptr_t)data;
}

/*
 * Fail each page-table allocation of a series of links in turn: the link
 * that hit it returns -ENOMEM with nothing of its range mapped, and
 * dma_iova_destroy() of what was linked before leaves the IOVA range
 * empty.  The sweep ends with links that all succeed.
 */
static void dma_iova_test_link_fail(struct kunit *test)
{
	struct device *dev = need_dev(test);
	struct iommu_domain *domain = need_iommu(test, dev);
	struct page *block = alloc_pages(GFP_KERNEL, 7);
	size_t chunk = PAGE_SIZE << 7, len = 8 * chunk, done = 0;
	u32 *min_order = fail_page_alloc_knob("min-order");
	struct dma_iova_state state;
	unsigned int n, left = 0;
	int ret = -ENOMEM;

	KUNIT_ASSERT_NOT_NULL(test, block);
	add_action(test, free_block_action, block);
	KUNIT_ASSERT_NOT_NULL(test, min_order);
	add_action(test, min_order_restore, (void *)(uintptr_t)*min_order);
	*min_order = 0;
	for (n = 1; n < 100; n++) {
		KUNIT_ASSERT_TRUE(test, dma_iova_try_alloc(dev, &state, 0, len));
		current->fail_nth = n;
		for (done = 0, ret = 0; done < len && !ret; done += chunk) {
			ret = dma_iova_link(dev, &state, page_to_phys(block),
					    done, chunk, DMA_BIDIRECTIONAL, 0);
			if (ret)
				break;
		}
		left = current->fail_nth;
		current->fail_nth = 0;
		if (!ret)
			break;
		KUNIT_EXPECT_EQ_MSG(test, ret, -ENOMEM, "failure point %u", n);
		KUNIT_EXPECT_EQ_MSG(test, mapped_pages(domain, state.addr + done,
						       chunk), 0UL,
				    "failed link left mapped, point %u", n);
		dma_iova_destroy(dev, &state, done, DMA_BIDIRECTIONAL, 0);
		KUNIT_EXPECT_EQ(test, mapped_pages(domain, state.addr, len), 0UL);
	}
	KUNIT_ASSERT_EQ_MSG(test, ret, 0, "no success after %u points", n - 1);
	KUNIT_EXPECT_NE_MSG(test, left, 0U, "success with a failure injected");
	KUNIT_EXPECT_GE(test, n - 1, 1U);
	kunit_info(test, "%u page-table allocations failed in turn\n", n - 1);
	KUNIT_EXPECT_EQ(test, 0, dma_iova_sync(dev, &state, 0, len));
	for (done = 0; done < len; done += chunk)
		expect_translation(test, domain, state.addr + done,
				   page_to_phys(block), chunk);
	dma_iova_destroy(dev, &state, len, DMA_BIDIRECTIONAL, 0);
	KUNIT_EXPECT_EQ(test, mapped_pages(domain, state.addr, len), 0UL);
}
#else
static void dma_iova_test_link_fail(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_FAIL_PAGE_ALLOC and CONFIG_FAULT_INJECTION_DEBUG_FS");
}
#endif

static struct kunit_case dma_iova_test_cases[] = {
	KUNIT_CASE(dma_iova_test_try_alloc),
	KUNIT_CASE(dma_iova_test_link_pages),
	KUNIT_CASE(dma_iova_test_link_unaligned),
	KUNIT_CASE(dma_iova_test_link_bounce),
	KUNIT_CASE(dma_iova_test_map_phys),
	KUNIT_CASE(dma_iova_test_mmio),
	KUNIT_CASE(dma_iova_test_destroy_frees),
	KUNIT_CASE(dma_iova_test_link_fail),
	{}
};

static struct kunit_suite dma_iova_test_suite = {
	.name = "dma_iova",
	.suite_init = dma_iova_suite_init,
	.suite_exit = dma_iova_suite_exit,
	.test_cases = dma_iova_test_cases,
};

kunit_test_suite(dma_iova_test_suite);

MODULE_DESCRIPTION("KUnit tests of dma_map_phys() and the IOVA link API");
MODULE_LICENSE("GPL");
