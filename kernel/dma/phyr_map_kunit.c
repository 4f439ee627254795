// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite phyr_map: phyr_map() and phyr_unmap() on real devices
 *
 * Runs in the QEMU test machine (machine/x86_64.qemu-args): two "edu" DMA
 * engines (1234:11e8), one behind a PCIe switch next to an NVMe controller
 * whose controller memory buffer (CMB) is registered as p2pdma memory, one
 * on a root port of its own.  The tests map phyr lists for an edu, check
 * the translation (iommu_iova_to_phys() for every page behind an IOMMU),
 * and make the edu really DMA through the mapped addresses and check the
 * bytes.  Which backend is exercised depends on how the machine booted:
 * with the IOMMU, with intel_iommu=off (direct, identity, real P2P DMA) or
 * with swiotlb=force as well (bounce buffering); tests that need another
 * boot are skipped, with the reason.
 */

#include <kunit/test.h>
#include <kunit/visibility.h>
#include <linux/delay.h>
#include <linux/device/driver.h>
#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/iommu.h>
#include <linux/iommu-dma.h>
#include <linux/ktime.h>
#include <linux/moduleparam.h>
#include <linux/mm.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/phyr-dma.h>
#include <linux/random.h>
#include <linux/scatterlist.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/swiotlb.h>
#include <linux/vmalloc.h>
#include "debug.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8
#define NVME_VENDOR		PCI_VENDOR_ID_REDHAT
#define NVME_DEVICE		0x0010

/* edu registers (QEMU hw/misc/edu.c) */
#define EDU_DMA_SRC		0x80
#define EDU_DMA_DST		0x88
#define EDU_DMA_CNT		0x90
#define EDU_DMA_CMD		0x98
#define EDU_CMD_RUN		BIT(0)
#define EDU_CMD_TO_RAM		BIT(1)	/* clear: from RAM into the edu */
#define EDU_BUF			0x40000
/*
 * The buffer is 4 KiB, but QEMU 7.2 rejects a transfer that reaches its
 * last byte (and stops the machine), so transfers are at most 2 KiB.
 */
#define EDU_XFER_MAX		2048

struct phyr_map_edu {
	struct pci_dev *pdev;
	void __iomem *bar;
};

static struct {
	struct phyr_map_edu sw;		/* behind the switch, next to the CMB */
	struct phyr_map_edu rp;		/* on a root port of its own */
	struct pci_dev *nvme;
} env;

static unsigned int bench_mb;
module_param(bench_mb, uint, 0444);
MODULE_PARM_DESC(bench_mb, "Size of the phyr_map_bench lists in MiB, 0 to skip");

static int edu_dma(struct phyr_map_edu *edu, dma_addr_t addr, u32 off,
		   u32 len, bool to_ram)
{
	unsigned long timeout = jiffies + 10 * HZ;

	if (off + len > EDU_XFER_MAX)
		return -EINVAL;
	writeq(to_ram ? EDU_BUF + off : addr, edu->bar + EDU_DMA_SRC);
	writeq(to_ram ? addr : EDU_BUF + off, edu->bar + EDU_DMA_DST);
	writeq(len, edu->bar + EDU_DMA_CNT);
	writeq(EDU_CMD_RUN | (to_ram ? EDU_CMD_TO_RAM : 0),
	       edu->bar + EDU_DMA_CMD);
	while (readq(edu->bar + EDU_DMA_CMD) & EDU_CMD_RUN) {
		if (time_after(jiffies, timeout))
			return -ETIMEDOUT;
		usleep_range(2000, 5000);
	}
	return 0;
}

static int phyr_map_edu_init(struct phyr_map_edu *edu, struct pci_dev *pdev)
{
	int ret;

	ret = pci_enable_device(pdev);
	if (ret)
		return ret;
	pci_set_master(pdev);
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		return ret;
	edu->bar = pci_iomap(pdev, 0, 0);
	if (!edu->bar)
		return -ENOMEM;
	edu->pdev = pdev;
	return 0;
}

static int phyr_map_suite_init(struct kunit_suite *suite)
{
	struct pci_dev *pdev = NULL;

	/* Built-in suites may run before asynchronous probing is done. */
	wait_for_device_probe();
	env.nvme = pci_get_device(NVME_VENDOR, NVME_DEVICE, NULL);
	while ((pdev = pci_get_device(EDU_VENDOR, EDU_DEVICE, pdev))) {
		bool near = env.nvme &&
			    pci_upstream_bridge(pdev) &&
			    pci_upstream_bridge(env.nvme) &&
			    pci_upstream_bridge(pci_upstream_bridge(pdev)) ==
			    pci_upstream_bridge(pci_upstream_bridge(env.nvme));
		struct phyr_map_edu *edu = near ? &env.sw : &env.rp;

		if (edu->pdev || phyr_map_edu_init(edu, pdev))
			continue;
		pci_dev_get(pdev);
	}
	pr_info("phyr_map: edu behind the switch %s, edu on a root port %s, nvme %s\n",
		env.sw.pdev ? pci_name(env.sw.pdev) : "-",
		env.rp.pdev ? pci_name(env.rp.pdev) : "-",
		env.nvme ? pci_name(env.nvme) : "-");
	return 0;
}

static void phyr_map_edu_exit(struct phyr_map_edu *edu)
{
	if (!edu->pdev)
		return;
	pci_iounmap(edu->pdev, edu->bar);
	pci_clear_master(edu->pdev);
	pci_disable_device(edu->pdev);
	pci_dev_put(edu->pdev);
	edu->pdev = NULL;
}

static void phyr_map_suite_exit(struct kunit_suite *suite)
{
	phyr_map_edu_exit(&env.sw);
	phyr_map_edu_exit(&env.rp);
	pci_dev_put(env.nvme);
	env.nvme = NULL;
}

static struct phyr_map_edu *need_edu(struct kunit *test,
				     struct phyr_map_edu *edu)
{
	if (!edu->pdev)
		kunit_skip(test, "no edu device (1234:11e8) in this machine");
	return edu;
}

/* Counters that must come back to where they were after every test. */
struct phyr_map_counters {
	u32 dma_errors;
	u32 dma_outstanding;
	long iova_live;
	long map_calls;
	long chunks;
};

static void phyr_map_counters(struct phyr_map_counters *c)
{
	debug_dma_counters(&c->dma_errors, &c->dma_outstanding);
	c->iova_live = 0;
	c->map_calls = 0;
#if IS_ENABLED(CONFIG_IOMMU_DMA_PHYR)
	iommu_dma_phyr_stats(&c->iova_live, &c->map_calls);
#endif
	c->chunks = 0;
#if IS_ENABLED(CONFIG_PHYR_KUNIT_TEST)
	c->chunks = phyr_chunks_live();
#endif
}

static void expect_counters(struct kunit *test,
			    const struct phyr_map_counters *before)
{
	struct phyr_map_counters now;

	phyr_map_counters(&now);
	KUNIT_EXPECT_EQ_MSG(test, now.dma_errors, before->dma_errors,
			    "DMA-API debug reported errors");
	KUNIT_EXPECT_EQ_MSG(test, now.dma_outstanding, before->dma_outstanding,
			    "DMA-API debug entries leaked");
	KUNIT_EXPECT_EQ_MSG(test, now.iova_live, before->iova_live,
			    "IOVA leaked");
	KUNIT_EXPECT_EQ_MSG(test, now.chunks, before->chunks,
			    "phyr chunks leaked");
}

KUNIT_DEFINE_ACTION_WRAPPER(phyr_list_destroy_action, phyr_list_destroy,
			    struct phyr_list *);

static void test_add_action(struct kunit *test, kunit_action_t *action, void *data)
{
	KUNIT_ASSERT_EQ(test, 0, kunit_add_action_or_reset(test, action, data));
}

static void test_add_range(struct kunit *test, struct phyr_list *pl,
			   phys_addr_t addr, u64 len)
{
	KUNIT_ASSERT_EQ(test, 0, phyr_list_append(pl, addr, len, GFP_KERNEL));
}

/* Through phyr_list_append_pages(), which recognises P2PDMA pages. */
static void test_add_page(struct kunit *test, struct phyr_list *pl,
			  struct page *page)
{
	int ret = phyr_list_append_pages(pl, &page, 1, 0, PAGE_SIZE,
					 GFP_KERNEL);

	KUNIT_ASSERT_EQ(test, ret, 0);
}

static struct phyr_list *test_list(struct kunit *test)
{
	struct phyr_list *pl = kunit_kzalloc(test, sizeof(*pl), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, pl);
	phyr_list_init(pl);
	test_add_action(test, phyr_list_destroy_action, pl);
	return pl;
}

static void free_page_action(void *page)
{
	__free_page(page);
}

static void free_folio_action(void *folio)
{
	folio_put(folio);
}

/*
 * @nr pages appended to @pl one by one, none right after the one before
 * it, so that they stay @nr ranges.
 */
static struct page **scattered_pages(struct kunit *test, struct phyr_list *pl,
				     unsigned long nr)
{
	struct page **pages = kunit_kcalloc(test, nr, sizeof(*pages),
					    GFP_KERNEL);
	unsigned long i = 0;

	KUNIT_ASSERT_NOT_NULL(test, pages);
	while (i < nr) {
		struct page *page = alloc_page(GFP_KERNEL);

		KUNIT_ASSERT_NOT_NULL(test, page);
		test_add_action(test, free_page_action, page);
		/* Left out of the list, but freed at the end all the same. */
		if (i && page_to_pfn(page) == page_to_pfn(pages[i - 1]) + 1)
			continue;
		pages[i++] = page;
		test_add_range(test, pl, page_to_phys(page), PAGE_SIZE);
	}
	return pages;
}

static struct folio **test_folios(struct kunit *test, struct phyr_list *pl,
				  unsigned int nr, unsigned int order)
{
	struct folio **folios = kunit_kcalloc(test, nr, sizeof(*folios),
					      GFP_KERNEL);
	unsigned int i;
	int ret;

	KUNIT_ASSERT_NOT_NULL(test, folios);
	for (i = 0; i < nr; i++) {
		folios[i] = folio_alloc(GFP_KERNEL | __GFP_NOWARN, order);
		if (!folios[i])
			kunit_skip(test, "no order-%u folio available", order);
		test_add_action(test, free_folio_action, folios[i]);
		ret = phyr_list_append_folio(pl, folios[i], 0,
					     folio_size(folios[i]), GFP_KERNEL);
		KUNIT_ASSERT_EQ(test, ret, 0);
	}
	return folios;
}

/* The range of @pl that contains byte @off, from @off on. */
static struct phyr range_at(const struct phyr_list *pl, u64 off,
			    unsigned int *flags)
{
	struct phyr r = { .len = 0 };
	struct phyr_iter iter;

	phyr_iter_init(&iter, pl);
	if (phyr_iter_seek(&iter, off))
		phyr_iter_next(&iter, &r);
	if (flags)
		*flags = iter.flags;
	return r;
}

/*
 * Check the translation of every page of @dma against @pl: byte n of @dma
 * is the DMA address of byte n of @pl.  Behind an IOMMU that is asked of
 * the IOMMU page table; otherwise of dma_to_phys() or of swiotlb.
 */
static void check_translation(struct kunit *test, struct device *dev,
			      const struct phyr_list *pl,
			      const struct phyr_list *dma)
{
	struct iommu_domain *domain = NULL;
	unsigned long bad = 0, checked = 0;
	struct phyr_iter ci, di;
	struct phyr c = {}, d = {};

	KUNIT_ASSERT_EQ(test, phyr_list_length(pl), phyr_list_length(dma));
	if (use_dma_iommu(dev))
		domain = iommu_get_dma_domain(dev);
	phyr_iter_init(&ci, pl);
	phyr_iter_init(&di, dma);
	for (;;) {
		u64 n;

		if (!c.len && !phyr_iter_next(&ci, &c))
			break;
		if (!d.len)
			KUNIT_ASSERT_TRUE(test, phyr_iter_next(&di, &d));
		/* Up to the next page boundary of the CPU address. */
		n = min3(c.len, d.len, PAGE_SIZE - offset_in_page(c.addr));
		if (ci.flags & PHYR_RANGE_P2P) {
			/* Bus address or IOVA; the P2P tests check which. */
		} else if (domain) {
			if (iommu_iova_to_phys(domain, d.addr) != c.addr)
				bad++;
		} else if (swiotlb_find_pool(dev, dma_to_phys(dev, d.addr))) {
			/* Bounced: the copy is checked by real DMA. */
		} else if (dma_to_phys(dev, d.addr) != c.addr) {
			bad++;
		}
		checked++;
		c.addr += n;
		c.len -= n;
		d.addr += n;
		d.len -= n;
	}
	KUNIT_EXPECT_EQ_MSG(test, bad, 0UL, "of %lu pages checked", checked);
	KUNIT_EXPECT_FALSE(test, phyr_iter_next(&di, &d));
}

/*
 * Make @edu copy @len bytes from byte @src to byte @dst of the mapping
 * through its buffer: one DMA read from host memory, one DMA write.
 */
static void edu_copy(struct kunit *test, struct phyr_map_edu *edu,
		     const struct phyr_list *dma, u64 src, u64 dst, u32 len)
{
	struct phyr s = range_at(dma, src, NULL);
	struct phyr d = range_at(dma, dst, NULL);
	u32 done, n;

	KUNIT_ASSERT_GE(test, s.len, (u64)len);
	KUNIT_ASSERT_GE(test, d.len, (u64)len);
	for (done = 0; done < len; done += n) {
		n = min(len - done, EDU_XFER_MAX);
		KUNIT_ASSERT_EQ(test, 0, edu_dma(edu, s.addr + done, 0, n,
						 false));
		KUNIT_ASSERT_EQ(test, 0, edu_dma(edu, d.addr + done, 0, n,
						 true));
	}
}

static void *cpu_ptr(struct kunit *test, const struct phyr_list *pl, u64 off)
{
	struct phyr r = range_at(pl, off, NULL);

	KUNIT_ASSERT_NE(test, r.len, 0ULL);
	return phys_to_virt(r.addr);
}

/*
 * Real DMA through a mapping of host memory, in both directions: for a
 * few sampled pairs of places, put a random pattern at the source, let
 * the edu copy it to the destination, and compare.
 */
static void check_edu_roundtrip(struct kunit *test, struct phyr_map_edu *edu,
				const struct phyr_list *pl,
				const struct phyr_list *dma, u32 len)
{
	u64 total = phyr_list_length(pl);
	u64 samples[][2] = {
		{ 0, total - len },
		{ total - len, 0 },
		{ (total / 2) & PAGE_MASK, len <= total / 4 ? len : 0 },
	};
	u8 *pattern = kunit_kmalloc(test, len, GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, pattern);
	for (i = 0; i < ARRAY_SIZE(samples); i++) {
		u64 src = samples[i][0], dst = samples[i][1];
		u8 *s = cpu_ptr(test, pl, src), *d = cpu_ptr(test, pl, dst);

		if (src == dst)
			continue;
		get_random_bytes(pattern, len);
		memcpy(s, pattern, len);
		memset(d, 0, len);
		phyr_sync_for_device(&edu->pdev->dev, pl, dma,
				     DMA_BIDIRECTIONAL);
		edu_copy(test, edu, dma, src, dst, len);
		phyr_sync_for_cpu(&edu->pdev->dev, pl, dma, DMA_BIDIRECTIONAL);
		KUNIT_EXPECT_EQ_MSG(test, memcmp(d, pattern, len), 0,
				    "sample %u: %u bytes from %llu to %llu",
				    i, len, src, dst);
	}
}

static void phyr_test_map_pages(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct device *dev = &edu->pdev->dev;
	struct phyr_list *pl = test_list(test);
	struct iommu_domain *domain = NULL;
	struct phyr_map_counters before;
	struct phyr_list *dma;
	struct phyr first;

	if (use_dma_iommu(dev))
		domain = iommu_get_dma_domain(dev);
	scattered_pages(test, pl, 64);
	KUNIT_ASSERT_EQ(test, phyr_list_nr_ranges(pl), 64UL);
	phyr_map_counters(&before);

	dma = phyr_map(dev, pl, DMA_BIDIRECTIONAL, 0, GFP_KERNEL);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(dma), "phyr_map: %pe", dma);
	KUNIT_EXPECT_EQ(test, phyr_list_length(dma), phyr_list_length(pl));
	if (use_dma_iommu(dev)) {
		/* Page-aligned ranges map linearly: one DMA range. */
		KUNIT_EXPECT_PTR_NE(test, dma, pl);
		KUNIT_EXPECT_EQ(test, phyr_list_nr_ranges(dma), 1UL);
		KUNIT_EXPECT_EQ(test, phyr_list_mem_bytes(dma), (size_t)0);
	} else if (!is_swiotlb_force_bounce(dev)) {
		KUNIT_EXPECT_PTR_EQ(test, dma, pl);
	} else {
		KUNIT_EXPECT_PTR_NE(test, dma, pl);
	}
	check_translation(test, dev, pl, dma);
	check_edu_roundtrip(test, edu, pl, dma, PAGE_SIZE);
	first = range_at(dma, 0, NULL);
	phyr_unmap(dev, pl, dma, DMA_BIDIRECTIONAL, 0);

	if (domain)
		KUNIT_EXPECT_EQ(test, (u64)iommu_iova_to_phys(domain, first.addr),
				0ULL);
	expect_counters(test, &before);
}

static void phyr_test_map_identity(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct device *dev = &edu->pdev->dev;
	struct phyr_list *pl = test_list(test);
	struct phyr_map_counters before;
	struct phyr_list *dma;
	unsigned long nr;

	if (use_dma_iommu(dev))
		kunit_skip(test, "edu is behind an IOMMU (boot with intel_iommu=off)");
	if (is_swiotlb_force_bounce(dev))
		kunit_skip(test, "swiotlb=force");
	scattered_pages(test, pl, 16);
	test_folios(test, pl, 1, 4);
	nr = phyr_list_nr_ranges(pl);
	phyr_map_counters(&before);

	dma = phyr_map(dev, pl, DMA_TO_DEVICE, 0, GFP_KERNEL);
	KUNIT_EXPECT_PTR_EQ(test, dma, pl);
	phyr_unmap(dev, pl, dma, DMA_TO_DEVICE, 0);
	/* The list was not touched and nothing was allocated for it. */
	KUNIT_EXPECT_EQ(test, phyr_list_nr_ranges(pl), nr);
	KUNIT_EXPECT_FALSE(test, phyr_list_is_dma(pl));
	expect_counters(test, &before);
}

static void phyr_test_map_folios(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct device *dev = &edu->pdev->dev;
	struct phyr_list *pl = test_list(test);
	struct phyr_map_counters before;
	struct phyr_list *dma;
	struct phyr c, d;

	test_folios(test, pl, 4, get_order(SZ_2M));
	phyr_map_counters(&before);

	dma = phyr_map(dev, pl, DMA_BIDIRECTIONAL, 0, GFP_KERNEL);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(dma), "phyr_map: %pe", dma);
	check_translation(test, dev, pl, dma);
	if (use_dma_iommu(dev)) {
		c = range_at(pl, 0, NULL);
		d = range_at(dma, 0, NULL);
		KUNIT_EXPECT_EQ(test, phyr_list_nr_ranges(dma), 1UL);
		kunit_info(test, "IOMMU page sizes %#lx, IOVA %pad for %pa\n",
			   iommu_get_dma_domain(dev)->pgsize_bitmap, &d.addr,
			   &c.addr);
		/* Congruent modulo 2 MiB: the IOMMU can use 2 MiB pages. */
		KUNIT_EXPECT_EQ(test, d.addr & (SZ_2M - 1),
				(dma_addr_t)(c.addr & (SZ_2M - 1)));
	}
	check_edu_roundtrip(test, edu, pl, dma, PAGE_SIZE);
	phyr_unmap(dev, pl, dma, DMA_BIDIRECTIONAL, 0);
	expect_counters(test, &before);
}

/* Byte-granular ranges: offsets inside pages, odd lengths. */
static void phyr_test_map_unaligned(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct device *dev = &edu->pdev->dev;
	struct phyr_list *pl = test_list(test);
	struct phyr_map_counters before;
	struct page **pages;
	struct phyr_list *dma;
	int i;

	pages = scattered_pages(test, test_list(test), 4);
	for (i = 0; i < 4; i++)
		test_add_range(test, pl, page_to_phys(pages[i]) + 100 * i + 3,
			       PAGE_SIZE - 200 * i - 3);
	phyr_map_counters(&before);

	dma = phyr_map(dev, pl, DMA_BIDIRECTIONAL, 0, GFP_KERNEL);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(dma), "phyr_map: %pe", dma);
	KUNIT_EXPECT_EQ(test, phyr_list_length(dma), phyr_list_length(pl));
	check_translation(test, dev, pl, dma);
	check_edu_roundtrip(test, edu, pl, dma, 1000);
	phyr_unmap(dev, pl, dma, DMA_BIDIRECTIONAL, 0);
	expect_counters(test, &before);
}

/*
 * An untrusted device behind the IOMMU must not see memory outside the
 * list: granule-aligned ranges are mapped, others refused, not exposed.
 */
static void phyr_test_map_untrusted(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct device *dev = &edu->pdev->dev;
	struct phyr_list *aligned = test_list(test);
	struct phyr_list *pl = test_list(test);
	struct phyr_map_counters before;
	struct phyr_list *dma;
	struct page **pages;

	if (!use_dma_iommu(dev))
		kunit_skip(test, "edu is not behind an IOMMU");
	pages = scattered_pages(test, aligned, 8);
	test_add_range(test, pl, page_to_phys(pages[0]), PAGE_SIZE);
	test_add_range(test, pl, page_to_phys(pages[1]) + 64, 512);
	phyr_map_counters(&before);

	edu->pdev->untrusted = 1;
	dma = phyr_map(dev, pl, DMA_FROM_DEVICE, 0, GFP_KERNEL);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(dma), -EOPNOTSUPP);
	if (!IS_ERR(dma))
		phyr_unmap(dev, pl, dma, DMA_FROM_DEVICE, 0);
	expect_counters(test, &before);

	dma = phyr_map(dev, aligned, DMA_BIDIRECTIONAL, 0, GFP_KERNEL);
	edu->pdev->untrusted = 0;
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(dma), "phyr_map: %pe", dma);
	check_translation(test, dev, aligned, dma);
	check_edu_roundtrip(test, edu, aligned, dma, PAGE_SIZE);
	phyr_unmap(dev, aligned, dma, DMA_BIDIRECTIONAL, 0);
	expect_counters(test, &before);
}

/* swiotlb=force: every range is bounced, and the syncs copy. */
static void phyr_test_map_bounce(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct device *dev = &edu->pdev->dev;
	struct phyr_list *pl = test_list(test);
	struct phyr_map_counters before;
	struct phyr_list *dma;
	struct phyr_iter iter;
	u8 *src, *dst, *pattern;
	struct phyr d;

	if (use_dma_iommu(dev) || !is_swiotlb_force_bounce(dev))
		kunit_skip(test, "needs swiotlb=force without an IOMMU");
	scattered_pages(test, pl, 8);
	test_folios(test, pl, 1, get_order(SZ_1M));
	phyr_map_counters(&before);

	dma = phyr_map(dev, pl, DMA_BIDIRECTIONAL, 0, GFP_KERNEL);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(dma), "phyr_map: %pe", dma);
	KUNIT_EXPECT_PTR_NE(test, dma, pl);
	phyr_list_for_each(dma, &iter, d) {
		phys_addr_t bounce = dma_to_phys(dev, d.addr);

		KUNIT_EXPECT_TRUE(test, !!swiotlb_find_pool(dev, bounce));
	}

	/* Page 0 to page 5: the copy reaches page 5 only with the sync. */
	pattern = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pattern);
	get_random_bytes(pattern, PAGE_SIZE);
	src = cpu_ptr(test, pl, 0);
	dst = cpu_ptr(test, pl, 5 * PAGE_SIZE);
	memcpy(src, pattern, PAGE_SIZE);
	memset(dst, 0, PAGE_SIZE);
	phyr_sync_for_device(dev, pl, dma, DMA_BIDIRECTIONAL);
	edu_copy(test, edu, dma, 0, 5 * PAGE_SIZE, PAGE_SIZE);
	KUNIT_EXPECT_NE_MSG(test, memcmp(dst, pattern, PAGE_SIZE), 0,
			    "DMA went to the original page, not a bounce buffer");
	phyr_sync_for_cpu(dev, pl, dma, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_EQ(test, memcmp(dst, pattern, PAGE_SIZE), 0);

	/* Across the pieces of the 1 MiB folio, which is bounced in parts. */
	check_edu_roundtrip(test, edu, pl, dma, PAGE_SIZE);
	phyr_unmap(dev, pl, dma, DMA_BIDIRECTIONAL, 0);
	expect_counters(test, &before);
}

struct cmb_buf {
	void *addr;
	size_t size;
};

static void cmb_free_action(void *data)
{
	struct cmb_buf *buf = data;

	pci_free_p2pmem(env.nvme, buf->addr, buf->size);
}

static void *cmb_alloc(struct kunit *test, size_t size)
{
	struct cmb_buf *buf;

	if (!env.nvme || !pci_has_p2pmem(env.nvme))
		kunit_skip(test, "no NVMe CMB registered as p2pdma memory");
	buf = kunit_kzalloc(test, sizeof(*buf), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf);
	buf->addr = pci_alloc_p2pmem(env.nvme, size);
	KUNIT_ASSERT_NOT_NULL(test, buf->addr);
	buf->size = size;
	test_add_action(test, cmb_free_action, buf);
	return buf->addr;
}

/* Host page, CMB, host page: P2P in the middle of host memory. */
static void phyr_test_map_p2p(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct device *dev = &edu->pdev->dev;
	struct phyr_list *pl = test_list(test);
	struct phyr_map_counters before;
	struct page **host, *cmb_page;
	unsigned int flags;
	u8 *pattern, *back;
	struct phyr_list *dma;
	struct phyr r;
	void *cmb;

	cmb = cmb_alloc(test, 4 * PAGE_SIZE);
	cmb_page = virt_to_page(cmb);
	host = scattered_pages(test, test_list(test), 2);
	test_add_range(test, pl, page_to_phys(host[0]), PAGE_SIZE);
	test_add_page(test, pl, cmb_page);
	test_add_range(test, pl, page_to_phys(host[1]), PAGE_SIZE);
	KUNIT_ASSERT_TRUE(test, phyr_list_has_p2p(pl));
	KUNIT_ASSERT_GE_MSG(test, pci_p2pdma_distance(env.nvme, dev, true), 0,
			    "edu and CMB are behind one switch");
	phyr_map_counters(&before);

	dma = phyr_map(dev, pl, DMA_BIDIRECTIONAL, 0, GFP_KERNEL);
	KUNIT_ASSERT_FALSE_MSG(test, IS_ERR(dma), "phyr_map: %pe", dma);
	KUNIT_EXPECT_PTR_NE(test, dma, pl);
	KUNIT_EXPECT_EQ(test, phyr_list_nr_ranges(dma), 3UL);
	r = range_at(dma, PAGE_SIZE, &flags);
	KUNIT_EXPECT_EQ(test, r.addr,
			(phys_addr_t)pci_p2pmem_virt_to_bus(env.nvme, cmb));
	KUNIT_EXPECT_EQ(test, r.len, PAGE_SIZE);
	KUNIT_EXPECT_TRUE(test, flags & PHYR_RANGE_P2P);
	check_translation(test, dev, pl, dma);

	if (use_dma_iommu(dev)) {
		/*
		 * QEMU's VT-d translates every DMA of the edu, bus addresses
		 * included, so real P2P DMA is tested without the IOMMU.
		 */
		phyr_unmap(dev, pl, dma, DMA_BIDIRECTIONAL, 0);
		expect_counters(test, &before);
		return;
	}

	pattern = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	back = kunit_kmalloc(test, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pattern);
	KUNIT_ASSERT_NOT_NULL(test, back);

	/* Host page 0 into the CMB, by the bus address. */
	get_random_bytes(pattern, PAGE_SIZE);
	memcpy(page_address(host[0]), pattern, PAGE_SIZE);
	memset_io((void __iomem *)cmb, 0, PAGE_SIZE);
	phyr_sync_for_device(dev, pl, dma, DMA_BIDIRECTIONAL);
	edu_copy(test, edu, dma, 0, PAGE_SIZE, PAGE_SIZE);
	memcpy_fromio(back, (void __iomem *)cmb, PAGE_SIZE);
	KUNIT_EXPECT_EQ_MSG(test, memcmp(back, pattern, PAGE_SIZE), 0,
			    "host to CMB through the P2P bus address");

	/* And from the CMB into host page 1. */
	get_random_bytes(pattern, PAGE_SIZE);
	memcpy_toio((void __iomem *)cmb, pattern, PAGE_SIZE);
	memset(page_address(host[1]), 0, PAGE_SIZE);
	edu_copy(test, edu, dma, PAGE_SIZE, 2 * PAGE_SIZE, PAGE_SIZE);
	phyr_sync_for_cpu(dev, pl, dma, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_EQ_MSG(test, memcmp(page_address(host[1]), pattern,
					 PAGE_SIZE), 0,
			    "CMB to host through the P2P bus address");

	phyr_unmap(dev, pl, dma, DMA_BIDIRECTIONAL, 0);
	expect_counters(test, &before);
}

/* The edu on a root port cannot reach the CMB: -EREMOTEIO, nothing left. */
static void phyr_test_map_p2p_unreachable(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.rp);
	struct device *dev = &edu->pdev->dev;
	struct phyr_list *pl = test_list(test);
	struct phyr_map_counters before;
	struct page *cmb_page;
	struct phyr_list *dma;
	void *cmb;

	cmb = cmb_alloc(test, PAGE_SIZE);
	cmb_page = virt_to_page(cmb);
	KUNIT_EXPECT_LT(test, pci_p2pdma_distance(env.nvme, dev, false), 0);
	scattered_pages(test, pl, 3);
	test_add_page(test, pl, cmb_page);
	scattered_pages(test, pl, 3);
	phyr_map_counters(&before);

	dma = phyr_map(dev, pl, DMA_TO_DEVICE, 0, GFP_KERNEL);
	KUNIT_EXPECT_EQ(test, PTR_ERR_OR_ZERO(dma), -EREMOTEIO);
	if (!IS_ERR(dma))
		phyr_unmap(dev, pl, dma, DMA_TO_DEVICE, 0);
	KUNIT_EXPECT_EQ(test, phyr_list_nr_ranges(pl), 7UL);
	expect_counters(test, &before);
}

struct phyr_list_snapshot {
	u64 length;
	unsigned long nr_ranges;
	struct phyr first;
	struct phyr last;
};

static void phyr_snapshot(const struct phyr_list *pl,
			  struct phyr_list_snapshot *s)
{
	s->length = phyr_list_length(pl);
	s->nr_ranges = phyr_list_nr_ranges(pl);
	s->first = range_at(pl, 0, NULL);
	s->last = range_at(pl, s->length - 1, NULL);
}

#ifdef CONFIG_FAULT_INJECTION
/*
 * Fail every failure point of a phyr_map() in turn (current->fail_nth
 * reaches the phyr_map and phyr list fault points): each failure must
 * return -ENOMEM and leave nothing behind; the sweep ends with success.
 */
static void phyr_map_fail_sweep(struct kunit *test, struct device *dev,
				struct phyr_list *pl, unsigned int min_points)
{
	struct phyr_list_snapshot snap, now;
	struct phyr_map_counters before;
	struct phyr_list *dma = NULL;
	unsigned int n, left;

	phyr_snapshot(pl, &snap);
	phyr_map_counters(&before);
	for (n = 1; n < 10000; n++) {
		current->fail_nth = n;
		dma = phyr_map(dev, pl, DMA_BIDIRECTIONAL, 0, GFP_KERNEL);
		left = current->fail_nth;
		current->fail_nth = 0;
		if (!IS_ERR(dma)) {
			KUNIT_EXPECT_NE_MSG(test, left, 0U,
					    "success with a failure injected");
			break;
		}
		KUNIT_EXPECT_EQ_MSG(test, PTR_ERR(dma), (long)-ENOMEM,
				    "failure point %u", n);
		phyr_snapshot(pl, &now);
		KUNIT_EXPECT_EQ(test, now.length, snap.length);
		KUNIT_EXPECT_EQ(test, now.nr_ranges, snap.nr_ranges);
		KUNIT_EXPECT_EQ(test, now.first.addr, snap.first.addr);
		KUNIT_EXPECT_EQ(test, now.last.addr, snap.last.addr);
		expect_counters(test, &before);
	}
	KUNIT_ASSERT_FALSE(test, IS_ERR(dma));
	kunit_info(test, "%u failure points, then success", n - 1);
	KUNIT_EXPECT_GE(test, n - 1, min_points);
	check_translation(test, dev, pl, dma);
	phyr_unmap(dev, pl, dma, DMA_BIDIRECTIONAL, 0);
	expect_counters(test, &before);
}
#else
static void phyr_map_fail_sweep(struct kunit *test, struct device *dev,
				struct phyr_list *pl, unsigned int min_points)
{
	kunit_skip(test, "needs CONFIG_FAULT_INJECTION");
}
#endif

static void phyr_test_map_fail_nth(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct device *dev = &edu->pdev->dev;
	struct phyr_list *pl = test_list(test);
	struct page **pages;
	unsigned int i, min_points;

	/* Byte-granular ranges need a multi-chunk result list. */
	pages = scattered_pages(test, test_list(test), 300);
	for (i = 0; i < 300; i++)
		test_add_range(test, pl, page_to_phys(pages[i]) + 8, 2048);
	if (use_dma_iommu(dev))
		/* result, IOVA, 300 iommu_map, sync, result chunks */
		min_points = 1 + 1 + 300 + 1 + 2;
	else if (is_swiotlb_force_bounce(dev))
		/* result, 300 swiotlb_map; the bounce slots may merge */
		min_points = 1 + 300;
	else
		/* the identity mapping cannot fail */
		min_points = 0;
	phyr_map_fail_sweep(test, dev, pl, min_points);
}

/* A mixed host/P2P list on the direct backend builds a result list. */
static void phyr_test_map_fail_nth_p2p(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct device *dev = &edu->pdev->dev;
	struct phyr_list *pl = test_list(test);
	struct page *cmb_page;
	struct page **pages;
	unsigned int i;
	void *cmb;

	cmb = cmb_alloc(test, 64 * PAGE_SIZE);
	pages = scattered_pages(test, test_list(test), 200);
	for (i = 0; i < 200; i++) {
		test_add_range(test, pl, page_to_phys(pages[i]), PAGE_SIZE - 8);
		if (i % 11)
			continue;
		cmb_page = virt_to_page(cmb) + (i / 11) % 64;
		test_add_page(test, pl, cmb_page);
	}
	phyr_map_fail_sweep(test, dev, pl, 3);
}

/* Segment limits apply at iteration time. */
static void phyr_test_seg_iter(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct device *dev = &edu->pdev->dev;
	struct phyr_list *dma = test_list(test);
	unsigned int old_max = dma_get_max_seg_size(dev);
	unsigned long old_boundary = dma_get_seg_boundary(dev);
	struct phyr_seg_iter siter;
	u64 len, total = 0, nr = 0;
	dma_addr_t addr, expect;

	test_add_range(test, dma, 0x101000, 0x10000);
	test_add_range(test, dma, 0x203f00, 0x5000);
	dma_set_max_seg_size(dev, 0x3000);
	dma_set_seg_boundary(dev, 0x3fff);
	expect = 0x101000;
	phyr_list_for_each_dma_seg(dev, dma, &siter, addr, len) {
		KUNIT_EXPECT_LE(test, len, 0x3000ULL);
		KUNIT_EXPECT_EQ(test, addr >> 14, (addr + len - 1) >> 14);
		if (addr != expect)
			KUNIT_EXPECT_EQ(test, addr, (dma_addr_t)0x203f00);
		expect = addr + len;
		total += len;
		nr++;
	}
	dma_set_max_seg_size(dev, old_max);
	dma_set_seg_boundary(dev, old_boundary);
	KUNIT_EXPECT_EQ(test, total, phyr_list_length(dma));
	/* 0x10000 in 4 KiB-aligned 16 KiB windows: 8 segments; then 4. */
	KUNIT_EXPECT_EQ(test, nr, 12ULL);
}

static struct kunit_case phyr_map_test_cases[] = {
	KUNIT_CASE(phyr_test_map_pages),
	KUNIT_CASE(phyr_test_map_identity),
	KUNIT_CASE(phyr_test_map_folios),
	KUNIT_CASE(phyr_test_map_unaligned),
	KUNIT_CASE(phyr_test_map_untrusted),
	KUNIT_CASE(phyr_test_map_bounce),
	KUNIT_CASE(phyr_test_map_p2p),
	KUNIT_CASE(phyr_test_map_p2p_unreachable),
	KUNIT_CASE(phyr_test_map_fail_nth),
	KUNIT_CASE(phyr_test_map_fail_nth_p2p),
	KUNIT_CASE(phyr_test_seg_iter),
	{}
};

static struct kunit_suite phyr_map_test_suite = {
	.name = "phyr_map",
	.suite_init = phyr_map_suite_init,
	.suite_exit = phyr_map_suite_exit,
	.test_cases = phyr_map_test_cases,
};

/*
 * phyr_map_bench: phyr_map()/phyr_unmap() against dma_map_sgtable()/
 * dma_unmap_sgtable() on the same pages, in the same boot, for whatever
 * backend the edu has in this boot.  Prints a table; the only failures are
 * failures to map.  Skipped unless booted with phyr_map_kunit.bench_mb=N.
 */
#define BENCH_ROUNDS	5

struct bench_pages {
	struct page **pages;
	unsigned long nr;
	unsigned int order;
};

static void bench_pages_free(void *data)
{
	struct bench_pages *bp = data;
	unsigned long i;

	for (i = 0; i < bp->nr; i += 1UL << bp->order)
		if (bp->pages[i])
			__free_pages(bp->pages[i], bp->order);
	kvfree(bp->pages);
}

/* @nr pages in blocks of 2^@order, in allocation order. */
static struct bench_pages *bench_alloc(struct kunit *test, unsigned long nr,
				       unsigned int order)
{
	struct bench_pages *bp = kunit_kzalloc(test, sizeof(*bp), GFP_KERNEL);
	unsigned long i, j;

	KUNIT_ASSERT_NOT_NULL(test, bp);
	bp->pages = kvcalloc(nr, sizeof(*bp->pages), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, bp->pages);
	bp->nr = nr;
	bp->order = order;
	test_add_action(test, bench_pages_free, bp);
	for (i = 0; i < nr; i += 1UL << order) {
		struct page *page = alloc_pages(GFP_KERNEL | __GFP_NOWARN |
						(order ? __GFP_COMP : 0),
						order);

		if (!page)
			kunit_skip(test, "out of memory after %lu MiB",
				   i >> (20 - PAGE_SHIFT));
		for (j = 0; j < 1UL << order; j++)
			bp->pages[i + j] = page + j;
	}
	return bp;
}

/* Physically contiguous runs: what iommu_map_sg() makes one call for. */
static unsigned long sgt_runs(struct sg_table *sgt)
{
	struct scatterlist *sg;
	phys_addr_t end = 0;
	unsigned long runs = 0;
	unsigned int i;

	for_each_sgtable_sg(sgt, sg, i) {
		if (sg_phys(sg) != end)
			runs++;
		end = sg_phys(sg) + sg->length;
	}
	return runs;
}

static void bench_one(struct kunit *test, struct device *dev,
		      const char *what, struct bench_pages *bp)
{
	u64 pm = U64_MAX, pu = U64_MAX, sm = U64_MAX, su = U64_MAX, t0, t1, t2;
	struct phyr_map_counters c0, c1;
	size_t sgt_bytes, phyr_alloc = 0;
	struct phyr_list *pl = test_list(test);
	struct phyr_list *dma;
	struct sg_table sgt;
	unsigned int r;
	int ret;

	ret = phyr_list_append_pages(pl, bp->pages, bp->nr, 0,
				     (u64)bp->nr << PAGE_SHIFT, GFP_KERNEL);
	KUNIT_ASSERT_EQ(test, ret, 0);
	ret = sg_alloc_table_from_pages(&sgt, bp->pages, bp->nr, 0,
					(u64)bp->nr << PAGE_SHIFT, GFP_KERNEL);
	KUNIT_ASSERT_EQ(test, ret, 0);
	sgt_bytes = (size_t)sgt.orig_nents * sizeof(struct scatterlist);

	phyr_map_counters(&c0);
	for (r = 0; r < BENCH_ROUNDS; r++) {
		t0 = ktime_get_ns();
		dma = phyr_map(dev, pl, DMA_TO_DEVICE, 0, GFP_KERNEL);
		t1 = ktime_get_ns();
		if (IS_ERR(dma)) {
			KUNIT_FAIL(test, "phyr_map: %pe", dma);
			goto out_free_sgt;
		}
		if (dma != pl)
			phyr_alloc = sizeof(struct phyr_dma_map) +
				     phyr_list_mem_bytes(dma);
		phyr_unmap(dev, pl, dma, DMA_TO_DEVICE, 0);
		t2 = ktime_get_ns();
		pm = min(pm, t1 - t0);
		pu = min(pu, t2 - t1);
	}
	phyr_map_counters(&c1);
	for (r = 0; r < BENCH_ROUNDS; r++) {
		t0 = ktime_get_ns();
		ret = dma_map_sgtable(dev, &sgt, DMA_TO_DEVICE, 0);
		t1 = ktime_get_ns();
		if (ret) {
			KUNIT_FAIL(test, "dma_map_sgtable: %d", ret);
			goto out_free_sgt;
		}
		dma_unmap_sgtable(dev, &sgt, DMA_TO_DEVICE, 0);
		t2 = ktime_get_ns();
		sm = min(sm, t1 - t0);
		su = min(su, t2 - t1);
	}

	kunit_info(test, "phyr_map_bench: %-5s %-5s %4lu MiB %7lu pages %7lu ranges | map ns phyr %10llu sgt %10llu = %7llu.%02llux | unmap ns phyr %10llu sgt %10llu = %7llu.%02llux | map alloc B phyr %8zu sgt 0 | list B phyr %9zu sgt %9zu | iommu_map calls phyr %6lu sgt %6lu\n",
		   use_dma_iommu(dev) ? "iommu" : "direct", what,
		   bp->nr >> (20 - PAGE_SHIFT), bp->nr, phyr_list_nr_ranges(pl),
		   pm, sm, sm / max(pm, 1ULL), sm * 100 / max(pm, 1ULL) % 100,
		   pu, su, su / max(pu, 1ULL), su * 100 / max(pu, 1ULL) % 100,
		   phyr_alloc, phyr_list_mem_bytes(pl), sgt_bytes,
		   (c1.map_calls - c0.map_calls) / BENCH_ROUNDS,
		   use_dma_iommu(dev) ? sgt_runs(&sgt) : 0);
out_free_sgt:
	sg_free_table(&sgt);
}

static void phyr_bench_pages(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct bench_pages *bp;
	unsigned long i;

	if (!bench_mb)
		kunit_skip(test, "boot with phyr_map_kunit.bench_mb=N to run");
	bp = bench_alloc(test, (unsigned long)bench_mb << (20 - PAGE_SHIFT), 0);
	/* Scattered: a random order, so that neighbours rarely touch. */
	for (i = bp->nr - 1; i > 0; i--)
		swap(bp->pages[i], bp->pages[get_random_u32_below(i + 1)]);
	bench_one(test, &edu->pdev->dev, "4k", bp);
}

static void phyr_bench_folios(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	unsigned int order = get_order(SZ_2M), j;
	struct bench_pages *bp;
	unsigned long i, k;

	if (!bench_mb)
		kunit_skip(test, "boot with phyr_map_kunit.bench_mb=N to run");
	bp = bench_alloc(test, (unsigned long)bench_mb << (20 - PAGE_SHIFT),
			 order);
	/* Folios in a random order, so that they are not one range. */
	for (i = (bp->nr >> order) - 1; i > 0; i--) {
		k = get_random_u32_below(i + 1);
		for (j = 0; j < 1U << order; j++)
			swap(bp->pages[(i << order) + j],
			     bp->pages[(k << order) + j]);
	}
	bench_one(test, &edu->pdev->dev, "2M", bp);
}

static struct kunit_case phyr_map_bench_cases[] = {
	KUNIT_CASE(phyr_bench_pages),
	KUNIT_CASE(phyr_bench_folios),
	{}
};

static struct kunit_suite phyr_map_bench_suite = {
	.name = "phyr_map_bench",
	.suite_init = phyr_map_suite_init,
	.suite_exit = phyr_map_suite_exit,
	.test_cases = phyr_map_bench_cases,
};

kunit_test_suites(&phyr_map_test_suite, &phyr_map_bench_suite);

MODULE_DESCRIPTION("KUnit tests for phyr_map()");
MODULE_LICENSE("GPL");
