// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suites for phyr_map(): phyr_map, phyr_map_debug and phyr_map_bench
 *
 * Runs in the QEMU test machine (machine/x86_64.qemu-args): two "edu" DMA
 * engines (1234:11e8), one behind a PCIe switch next to an NVMe controller
 * whose controller memory buffer (CMB) is registered as p2pdma memory, one
 * on a root port of its own.  The tests map phyr lists for an edu into a
 * struct phyr_dma, check the translation (iommu_iova_to_phys() for every
 * page behind an IOMMU), and make the edu really DMA through the mapped
 * addresses and check the bytes.  Which backend is exercised depends on
 * how the machine booted: with the IOMMU, with intel_iommu=off (direct,
 * identity, real P2P DMA) or with swiotlb=force as well (bounce buffering,
 * partial syncs); tests that need another boot are skipped, with the
 * reason.  Some tests use a KUnit device instead, which is dma-direct and
 * coherent in every boot.
 *
 * phyr_map checks mappings, unmapping, partial syncs, the segments of
 * phyr_dma_for_each_seg() against the device limits captured at map time,
 * that one-range results allocate nothing, that a mapping state can be
 * mapped again, and a fail_nth sweep over every failure point.
 *
 * phyr_map_debug checks that DMA-API debugging sees one entry per piece
 * and reports the mistakes a driver can make with a mapping.  It provokes
 * those reports on purpose, between the console lines "phyr_map: expected
 * DMA-API reports: begin" and "...: end", with panic_on_warn off, and ends
 * with "phyr_map: provoked N DMA-API errors".  It needs the suite built in
 * and CONFIG_DMA_API_DEBUG.
 *
 * phyr_map_bench compares phyr_map() with dma_map_sgtable(); it runs only
 * when booted with phyr_map_kunit.bench_mb=N.
 */

#include <kunit/device.h>
#include <kunit/test.h>
#include <kunit/visibility.h>
#include <linux/debugfs.h>
#include <linux/device/driver.h>
#include <linux/dma-direct.h>
#include <linux/dma-map-ops.h>
#include <linux/dma-mapping.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/ioport.h>
#include <linux/iommu.h>
#include <linux/iommu-dma.h>
#include <linux/iova.h>
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/moduleparam.h>
#include <linux/of.h>
#include <linux/math64.h>
#include <linux/memremap.h>
#include <linux/mm.h>
#include <linux/panic.h>
#include <linux/prandom.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/phyr-dma.h>
#include <linux/phyr-dma.h>
#include <linux/random.h>
#include <linux/scatterlist.h>
#include <linux/sched.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/swiotlb.h>
#include <linux/vmalloc.h>
#include <trace/events/iommu.h>
#include "../../lib/test_phyr_edu.h"
#include "debug.h"

MODULE_IMPORT_NS(EXPORTED_FOR_KUNIT_TESTING);

#define NVME_VENDOR		PCI_VENDOR_ID_REDHAT
#define NVME_DEVICE		0x0010

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

/*
 * A driver that does nothing, for the edus of a device-tree machine
 * (arm64): there the driver core sets up a device's DMA (its IOMMU, its
 * coherence) only when it binds a driver.  On ACPI machines the IOMMU
 * driver sets up every PCI device, and the edus stay free for the tests
 * that bind drivers of their own.
 */
static const struct pci_device_id phyr_map_edu_ids[] = {
	{ PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) },
	{}
};

static int phyr_map_edu_probe(struct pci_dev *pdev,
			      const struct pci_device_id *id)
{
	return 0;
}

static struct pci_driver phyr_map_edu_driver = {
	.name = "phyr_map_kunit_dma",
	.id_table = phyr_map_edu_ids,
	.probe = phyr_map_edu_probe,
};

static bool phyr_map_edu_driver_registered;

/*
 * The IOMMU page tables as the iommu:map and iommu:unmap events tell of
 * them: bytes mapped and not unmapped, and map events, by the task that
 * last took a snapshot (a test case; other tasks' DMA is not counted).
 * An unmap made through a flush queue is an event of the task that
 * unmaps: only the IOTLB flush and the IOVA free are deferred.
 */
static struct task_struct *iommu_count_task;
static atomic_long_t iommu_mapped;
static atomic_long_t iommu_map_events;

static void iommu_count_map(void *data, unsigned long iova, phys_addr_t paddr,
			    size_t size)
{
	if (current != READ_ONCE(iommu_count_task))
		return;
	atomic_long_add(size, &iommu_mapped);
	atomic_long_inc(&iommu_map_events);
}

static void iommu_count_unmap(void *data, unsigned long iova, size_t size,
			      size_t unmapped_size)
{
	if (current == READ_ONCE(iommu_count_task))
		atomic_long_sub(unmapped_size, &iommu_mapped);
}

static int iommu_count_start(void)
{
	int ret = register_trace_map(iommu_count_map, NULL);

	if (!ret) {
		ret = register_trace_unmap(iommu_count_unmap, NULL);
		if (ret)
			unregister_trace_map(iommu_count_map, NULL);
	}
	return ret;
}

static void iommu_count_stop(void)
{
	unregister_trace_unmap(iommu_count_unmap, NULL);
	unregister_trace_map(iommu_count_map, NULL);
	tracepoint_synchronize_unregister();
}

/* The devices of the test machine, for every suite of this file. */
static void phyr_map_env_init(void)
{
	struct pci_dev *pdev = NULL;

	/* Built-in suites may run before asynchronous probing is done. */
	wait_for_device_probe();
	if (of_have_populated_dt())
		phyr_map_edu_driver_registered =
			!pci_register_driver(&phyr_map_edu_driver);
	env.nvme = pci_get_device(NVME_VENDOR, NVME_DEVICE, NULL);
	while ((pdev = pci_get_device(EDU_VENDOR, EDU_DEVICE, pdev))) {
		/*
		 * The amd profile (machine/qemu_x86_64.py) has its edu on the
		 * root bus: it stands in for the one behind the switch.
		 */
		bool near = pci_is_root_bus(pdev->bus) ||
			    (env.nvme &&
			    pci_upstream_bridge(pdev) &&
			    pci_upstream_bridge(env.nvme) &&
			    pci_upstream_bridge(pci_upstream_bridge(pdev)) ==
			    pci_upstream_bridge(pci_upstream_bridge(env.nvme)));
		struct phyr_map_edu *edu = near ? &env.sw : &env.rp;

		if (edu->pdev || phyr_map_edu_init(edu, pdev))
			continue;
		pci_dev_get(pdev);
	}
	pr_info("phyr_map: edu behind the switch %s, edu on a root port %s, nvme %s\n",
		env.sw.pdev ? pci_name(env.sw.pdev) : "-",
		env.rp.pdev ? pci_name(env.rp.pdev) : "-",
		env.nvme ? pci_name(env.nvme) : "-");
}

static int phyr_map_suite_init(struct kunit_suite *suite)
{
	phyr_map_env_init();
	return iommu_count_start();
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

static void phyr_map_env_exit(void)
{
	phyr_map_edu_exit(&env.sw);
	phyr_map_edu_exit(&env.rp);
	pci_dev_put(env.nvme);
	env.nvme = NULL;
	if (phyr_map_edu_driver_registered)
		pci_unregister_driver(&phyr_map_edu_driver);
	phyr_map_edu_driver_registered = false;
}

static void phyr_map_suite_exit(struct kunit_suite *suite)
{
	iommu_count_stop();
	phyr_map_env_exit();
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
	long iommu_mapped;
	long map_calls;
	long chunks;
};

static void phyr_map_counters(struct phyr_map_counters *c)
{
	WRITE_ONCE(iommu_count_task, current);
	debug_dma_counters(&c->dma_errors, &c->dma_outstanding);
	c->iommu_mapped = atomic_long_read(&iommu_mapped);
	c->map_calls = atomic_long_read(&iommu_map_events);
	c->chunks = 0;
#if IS_ENABLED(CONFIG_PHYR_KUNIT_TEST)
	c->chunks = phyr_chunks_live();
#endif
}

/* Everything back as in @before, but for @errors DMA-API errors provoked. */
static void expect_counters_errors(struct kunit *test,
				   const struct phyr_map_counters *before,
				   u32 errors)
{
	struct phyr_map_counters now;

	phyr_map_counters(&now);
	KUNIT_EXPECT_EQ_MSG(test, now.dma_errors, before->dma_errors + errors,
			    "DMA-API debug reported errors");
	KUNIT_EXPECT_EQ_MSG(test, now.dma_outstanding, before->dma_outstanding,
			    "DMA-API debug entries leaked");
	KUNIT_EXPECT_EQ_MSG(test, now.iommu_mapped, before->iommu_mapped,
			    "IOMMU mappings leaked");
	KUNIT_EXPECT_EQ_MSG(test, now.chunks, before->chunks,
			    "phyr chunks leaked");
}

static void expect_counters(struct kunit *test,
			    const struct phyr_map_counters *before)
{
	expect_counters_errors(test, before, 0);
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

static void phyr_unmap_action(void *data)
{
	struct phyr_dma *map = data;

	if (phyr_dma_mapped(map))
		phyr_unmap(map, 0);
}

/*
 * A mapping state that is unmapped when the test ends, if it is still
 * mapped then.  Get it after the memory it will map, so that it is
 * unmapped (and bounce buffers are copied back) before that is freed.
 */
static struct phyr_dma *test_map_state(struct kunit *test)
{
	struct phyr_dma *map = kunit_kzalloc(test, sizeof(*map), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, map);
	test_add_action(test, phyr_unmap_action, map);
	return map;
}

/* phyr_map() that must succeed. */
static void test_map(struct kunit *test, struct device *dev,
		     const struct phyr_list *pl, struct phyr_dma *map,
		     enum dma_data_direction dir)
{
	int ret = phyr_map(dev, pl, map, dir, 0, GFP_KERNEL);

	KUNIT_ASSERT_EQ_MSG(test, ret, 0, "phyr_map: %pe", ERR_PTR(ret));
	KUNIT_ASSERT_TRUE(test, phyr_dma_mapped(map));
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

struct coherent_buf {
	struct device *dev;
	void *cpu;
	dma_addr_t addr;
	size_t size;
};

static void coherent_free_action(void *data)
{
	struct coherent_buf *buf = data;

	dma_free_coherent(buf->dev, buf->size, buf->cpu, buf->addr);
}

/* A buffer of the DMA API's own, for the edu to read from or write to. */
static struct coherent_buf *test_coherent(struct kunit *test,
					  struct device *dev, size_t size)
{
	struct coherent_buf *buf = kunit_kzalloc(test, sizeof(*buf),
						 GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, buf);
	buf->cpu = dma_alloc_coherent(dev, size, &buf->addr, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, buf->cpu);
	buf->dev = dev;
	buf->size = size;
	test_add_action(test, coherent_free_action, buf);
	return buf;
}

#if defined(CONFIG_ARCH_HAS_SYNC_DMA_FOR_DEVICE) || \
	defined(CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU) || \
	defined(CONFIG_ARCH_HAS_SYNC_DMA_FOR_CPU_ALL)
#define HAVE_NONCOHERENT_DMA	1
#endif

/*
 * A device that is dma-direct and coherent in every boot, also the IOMMU
 * one, with 64-bit DMA and segment limits of its own (default ones until
 * test_seg_limits()).  Where DMA can be non-coherent (arm64), a device
 * that firmware does not describe is not coherent: this one is made so.
 */
static struct device *test_direct_dev(struct kunit *test)
{
	struct device_dma_parameters *parms;
	struct device *dev;

	parms = kunit_kzalloc(test, sizeof(*parms), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, parms);
	dev = kunit_device_register(test, "phyr_dma");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	dev->dma_parms = parms;
#ifdef HAVE_NONCOHERENT_DMA
	dev->dma_coherent = true;
#endif
	KUNIT_ASSERT_EQ(test, 0, dma_set_mask_and_coherent(dev,
							   DMA_BIT_MASK(64)));
	KUNIT_ASSERT_FALSE(test, use_dma_iommu(dev));
	KUNIT_ASSERT_TRUE(test, dev_is_dma_coherent(dev));
	return dev;
}

struct seg_limits {
	struct device *dev;
	unsigned int max_seg;
	unsigned long boundary;
};

static void seg_limits_restore(void *data)
{
	struct seg_limits *old = data;

	old->dev->dma_parms->max_segment_size = old->max_seg;
	old->dev->dma_parms->segment_boundary_mask = old->boundary;
}

/* Give @dev these segment limits until the test ends. */
static void test_seg_limits(struct kunit *test, struct device *dev,
			    unsigned int max_seg, unsigned long boundary)
{
	struct seg_limits *old = kunit_kzalloc(test, sizeof(*old), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, old);
	KUNIT_ASSERT_NOT_NULL(test, dev->dma_parms);
	old->dev = dev;
	old->max_seg = dev->dma_parms->max_segment_size;
	old->boundary = dev->dma_parms->segment_boundary_mask;
	test_add_action(test, seg_limits_restore, old);
	dma_set_max_seg_size(dev, max_seg);
	dma_set_seg_boundary(dev, boundary);
	KUNIT_ASSERT_EQ(test, dma_get_max_seg_size(dev), max_seg);
	KUNIT_ASSERT_EQ(test, dma_get_seg_boundary(dev), boundary);
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

/* The DMA list of a mapping; the room for one range lives with the test. */
static const struct phyr_list *dma_list(struct kunit *test,
					const struct phyr_dma *map)
{
	struct phyr_list *one = kunit_kzalloc(test, sizeof(*one), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, one);
	return phyr_dma_list(map, one);
}

/* DMA address of byte @off of a mapping, with @len bytes contiguous there. */
static dma_addr_t dma_at(struct kunit *test, const struct phyr_dma *map,
			 u64 off, u64 len)
{
	struct phyr_list one;
	struct phyr r = range_at(phyr_dma_list(map, &one), off, NULL);

	KUNIT_ASSERT_GE(test, r.len, len);
	return r.addr;
}

/* Copy @len bytes at offset @off of the host memory of @pl into @buf. */
static void list_read(struct kunit *test, const struct phyr_list *pl,
		      u64 off, u8 *buf, u64 len)
{
	struct phyr_iter iter;
	struct phyr r;
	u64 n;

	phyr_iter_init(&iter, pl);
	KUNIT_ASSERT_TRUE(test, phyr_iter_seek(&iter, off));
	while (len) {
		KUNIT_ASSERT_TRUE(test, phyr_iter_next(&iter, &r));
		n = min(len, r.len);
		memcpy(buf, phys_to_virt(r.addr), n);
		buf += n;
		len -= n;
	}
}

/* Random bytes into the host memory of @pl. */
static void list_random(const struct phyr_list *pl)
{
	struct phyr_iter iter;
	struct phyr r;

	phyr_list_for_each(pl, &iter, r)
		get_random_bytes(phys_to_virt(r.addr), r.len);
}

/* Every byte of the host memory of @pl set to @c. */
static void list_memset(const struct phyr_list *pl, u8 c)
{
	struct phyr_iter iter;
	struct phyr r;

	phyr_list_for_each(pl, &iter, r)
		memset(phys_to_virt(r.addr), c, r.len);
}

/* Byte n of the host memory of @pl set to @pattern[n % EDU_XFER_MAX]. */
static void list_write_pattern(const struct phyr_list *pl, const u8 *pattern)
{
	struct phyr_iter iter;
	struct phyr r;
	u64 off = 0, i;

	phyr_list_for_each(pl, &iter, r) {
		u8 *p = phys_to_virt(r.addr);

		for (i = 0; i < r.len; i++, off++)
			p[i] = pattern[off % EDU_XFER_MAX];
	}
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
			phys_addr_t t = iommu_iova_to_phys(domain, d.addr);

			/* An untrusted device's partial granules are bounced. */
			if (t != c.addr &&
			    !(dev_is_pci(dev) && to_pci_dev(dev)->untrusted &&
			      swiotlb_find_pool(dev, t)))
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
		     const struct phyr_dma *map, u64 src, u64 dst, u32 len)
{
	dma_addr_t s = dma_at(test, map, src, len);
	dma_addr_t d = dma_at(test, map, dst, len);
	u32 done, n;

	for (done = 0; done < len; done += n) {
		n = min(len - done, EDU_XFER_MAX);
		KUNIT_ASSERT_EQ(test, 0, edu_dma(edu->bar, s + done, 0, n,
						 false));
		KUNIT_ASSERT_EQ(test, 0, edu_dma(edu->bar, d + done, 0, n,
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
				const struct phyr_dma *map, u32 len)
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
		phyr_sync_for_device(map, 0, phyr_dma_length(map));
		edu_copy(test, edu, map, src, dst, len);
		phyr_sync_for_cpu(map, 0, phyr_dma_length(map));
		KUNIT_EXPECT_EQ_MSG(test, memcmp(d, pattern, len), 0,
				    "sample %u: %u bytes from %llu to %llu",
				    i, len, src, dst);
	}
}

/* Pages of [@iova, @iova + @len) that @domain translates to anything. */
static unsigned long iova_mapped_pages(struct iommu_domain *domain,
				       dma_addr_t iova, u64 len)
{
	unsigned long n = 0;
	u64 off;

	for (off = 0; off < len; off += PAGE_SIZE)
		if (iommu_iova_to_phys(domain, iova + off))
			n++;
	return n;
}

static void phyr_test_map_pages(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct device *dev = &edu->pdev->dev;
	struct phyr_list *pl = test_list(test);
	struct iommu_domain *domain = NULL;
	struct phyr_map_counters before;
	const struct phyr_list *dma;
	struct phyr_dma *map;
	struct phyr first;

	if (use_dma_iommu(dev))
		domain = iommu_get_dma_domain(dev);
	scattered_pages(test, pl, 64);
	KUNIT_ASSERT_EQ(test, phyr_list_nr_ranges(pl), 64UL);
	phyr_map_counters(&before);

	map = test_map_state(test);
	test_map(test, dev, pl, map, DMA_BIDIRECTIONAL);
	dma = dma_list(test, map);
	KUNIT_EXPECT_EQ(test, phyr_list_length(dma), phyr_list_length(pl));
	KUNIT_EXPECT_EQ(test, phyr_dma_length(map), phyr_list_length(pl));
	if (use_dma_iommu(dev)) {
		/* Page-aligned ranges map linearly: one DMA range. */
		KUNIT_EXPECT_PTR_NE(test, dma, (const struct phyr_list *)pl);
		KUNIT_EXPECT_EQ(test, phyr_list_nr_ranges(dma), 1UL);
		KUNIT_EXPECT_EQ(test, phyr_list_mem_bytes(dma), (size_t)0);
	} else if (!is_swiotlb_force_bounce(dev)) {
		KUNIT_EXPECT_PTR_EQ(test, dma, (const struct phyr_list *)pl);
	} else {
		KUNIT_EXPECT_PTR_NE(test, dma, (const struct phyr_list *)pl);
	}
	check_translation(test, dev, pl, dma);
	check_edu_roundtrip(test, edu, pl, map, PAGE_SIZE);
	first = range_at(dma, 0, NULL);
	phyr_unmap(map, 0);

	/* The IOMMU page table has nothing left of the mapping. */
	if (domain)
		KUNIT_EXPECT_EQ(test, iova_mapped_pages(domain, first.addr,
							first.len), 0UL);
	expect_counters(test, &before);
}

static void phyr_test_map_identity(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct device *dev = &edu->pdev->dev;
	struct phyr_list *pl = test_list(test);
	struct phyr_map_counters before;
	struct phyr_dma *map;
	unsigned long nr;

	if (use_dma_iommu(dev))
		kunit_skip(test, "edu is behind an IOMMU (boot with intel_iommu=off)");
	if (is_swiotlb_force_bounce(dev))
		kunit_skip(test, "swiotlb=force");
	scattered_pages(test, pl, 16);
	test_folios(test, pl, 1, 4);
	nr = phyr_list_nr_ranges(pl);
	phyr_map_counters(&before);

	map = test_map_state(test);
	test_map(test, dev, pl, map, DMA_TO_DEVICE);
	KUNIT_EXPECT_PTR_EQ(test, dma_list(test, map),
			    (const struct phyr_list *)pl);
	phyr_unmap(map, 0);
	/* The list was not touched and nothing was allocated for it. */
	KUNIT_EXPECT_EQ(test, phyr_list_nr_ranges(pl), nr);
	KUNIT_EXPECT_FALSE(test, pl->flags & PHYR_LIST_DMA);
	expect_counters(test, &before);
}

static void phyr_test_map_folios(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct device *dev = &edu->pdev->dev;
	struct phyr_list *pl = test_list(test);
	struct phyr_map_counters before;
	const struct phyr_list *dma;
	struct phyr_dma *map;
	struct phyr c, d;

	test_folios(test, pl, 4, get_order(SZ_2M));
	phyr_map_counters(&before);

	map = test_map_state(test);
	test_map(test, dev, pl, map, DMA_BIDIRECTIONAL);
	dma = dma_list(test, map);
	check_translation(test, dev, pl, dma);
	if (use_dma_iommu(dev)) {
		c = range_at(pl, 0, NULL);
		d = range_at(dma, 0, NULL);
		KUNIT_EXPECT_EQ(test, phyr_list_nr_ranges(dma), 1UL);
		kunit_info(test, "IOMMU page sizes %#lx, IOVA %pa for %pa\n",
			   iommu_get_dma_domain(dev)->pgsize_bitmap, &d.addr,
			   &c.addr);
		/* Congruent modulo 2 MiB: the IOMMU can use 2 MiB pages. */
		KUNIT_EXPECT_EQ(test, d.addr & (SZ_2M - 1),
				c.addr & (SZ_2M - 1));
	}
	check_edu_roundtrip(test, edu, pl, map, PAGE_SIZE);
	phyr_unmap(map, 0);
	expect_counters(test, &before);
}

/*
 * Granule-aligned ranges map to a single DMA range behind an IOMMU, the
 * one segment iommu_dma_map_sg() makes of the same memory, also when
 * they do not start on a large IOMMU page: an 8 KiB range, then ranges
 * on odd page frames that are at least as long as the next page size
 * up (8 KiB in the AMD v1 table, 2 MiB on VT-d).  Padding their IOVA to
 * large-page alignment would split the result.
 */
static void phyr_test_map_linear(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct device *dev = &edu->pdev->dev;
	struct phyr_list *pl = test_list(test);
	struct phyr_map_counters before;
	struct scatterlist *sg;
	struct phyr_iter iter;
	struct sg_table sgt;
	struct phyr_dma *map;
	unsigned int max_seg = dma_get_max_seg_size(dev), n = 0;
	struct folio **f;
	dma_addr_t end;
	struct phyr r;
	u64 off, len;
	int ret, i;

	if (!use_dma_iommu(dev))
		kunit_skip(test, "needs the edu behind an IOMMU");
	f = test_folios(test, test_list(test), 1, get_order(SZ_8K));
	test_add_range(test, pl, PFN_PHYS(folio_pfn(f[0])), SZ_8K);
	f = test_folios(test, test_list(test), 1, get_order(SZ_4M));
	test_add_range(test, pl, PFN_PHYS(folio_pfn(f[0])) + PAGE_SIZE,
		       SZ_4M - PAGE_SIZE);
	f = test_folios(test, test_list(test), 1, get_order(SZ_32K));
	test_add_range(test, pl, PFN_PHYS(folio_pfn(f[0])) + PAGE_SIZE,
		       SZ_16K);
	KUNIT_ASSERT_EQ(test, phyr_list_nr_ranges(pl), 3UL);

	/*
	 * The reference: the same ranges through dma_map_sgtable(), in
	 * entries of the device's maximum segment size.
	 */
	phyr_list_for_each(pl, &iter, r)
		n += DIV_ROUND_UP_ULL(r.len, max_seg);
	KUNIT_ASSERT_EQ(test, sg_alloc_table(&sgt, n, GFP_KERNEL), 0);
	sg = sgt.sgl;
	phyr_list_for_each(pl, &iter, r) {
		for (off = 0; off < r.len; off += len) {
			len = min_t(u64, r.len - off, max_seg);
			sg_set_page(sg, pfn_to_page(PHYS_PFN(r.addr + off)), len,
				    offset_in_page(r.addr + off));
			sg = sg_next(sg);
		}
	}
	ret = dma_map_sgtable(dev, &sgt, DMA_TO_DEVICE, 0);
	KUNIT_ASSERT_EQ(test, ret, 0);
	/* Segments of the device's size, one after the other in IOVA. */
	end = sg_dma_address(sgt.sgl);
	for_each_sgtable_dma_sg(&sgt, sg, i) {
		KUNIT_EXPECT_EQ(test, sg_dma_address(sg), end);
		end = sg_dma_address(sg) + sg_dma_len(sg);
	}
	dma_unmap_sgtable(dev, &sgt, DMA_TO_DEVICE, 0);
	sg_free_table(&sgt);

	phyr_map_counters(&before);
	map = test_map_state(test);
	test_map(test, dev, pl, map, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, phyr_list_nr_ranges(dma_list(test, map)), 1UL);
	KUNIT_EXPECT_EQ(test, phyr_list_mem_bytes(dma_list(test, map)),
			(size_t)0);
	check_translation(test, dev, pl, dma_list(test, map));
	phyr_unmap(map, 0);
	expect_counters(test, &before);
}

/* Byte-granular ranges: offsets inside pages, odd lengths. */
static void phyr_test_map_unaligned(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct device *dev = &edu->pdev->dev;
	struct phyr_list *pl = test_list(test);
	struct phyr_map_counters before;
	struct phyr_dma *map;
	struct page **pages;
	int i;

	pages = scattered_pages(test, test_list(test), 4);
	for (i = 0; i < 4; i++)
		test_add_range(test, pl, page_to_phys(pages[i]) + 100 * i + 3,
			       PAGE_SIZE - 200 * i - 3);
	phyr_map_counters(&before);

	map = test_map_state(test);
	test_map(test, dev, pl, map, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_EQ(test, phyr_list_length(dma_list(test, map)),
			phyr_list_length(pl));
	check_translation(test, dev, pl, dma_list(test, map));
	check_edu_roundtrip(test, edu, pl, map, 1000);
	phyr_unmap(map, 0);
	expect_counters(test, &before);
}

static void untrusted_restore(void *data)
{
	struct pci_dev *pdev = data;

	pdev->untrusted = 0;
}

/*
 * An untrusted device behind the IOMMU must not see memory outside the
 * list: granule-aligned ranges are mapped, the others bounced through
 * swiotlb as iommu_dma_map_sg() bounces them, or refused with -EIO as it
 * refuses them when the boot has no swiotlb.  Either way the state can
 * map the next list.
 */
static void phyr_test_map_untrusted(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct device *dev = &edu->pdev->dev;
	struct phyr_list *aligned = test_list(test);
	struct phyr_list *pl = test_list(test);
	struct phyr_map_counters before;
	struct phyr_dma *map;
	struct page **pages;
	phys_addr_t bounce;
	int ret;

	if (!use_dma_iommu(dev))
		kunit_skip(test, "edu is not behind an IOMMU");
	pages = scattered_pages(test, aligned, 8);
	test_add_range(test, pl, page_to_phys(pages[0]), PAGE_SIZE);
	test_add_range(test, pl, page_to_phys(pages[1]) + 64, 512);
	phyr_map_counters(&before);
	map = test_map_state(test);

	test_add_action(test, untrusted_restore, edu->pdev);
	edu->pdev->untrusted = 1;
	ret = phyr_map(dev, pl, map, DMA_BIDIRECTIONAL, 0, GFP_KERNEL);
	if (is_swiotlb_active(dev)) {
		KUNIT_ASSERT_EQ_MSG(test, ret, 0, "phyr_map: %pe", ERR_PTR(ret));
		bounce = iommu_iova_to_phys(iommu_get_dma_domain(dev),
					    dma_at(test, map, PAGE_SIZE, 512));
		KUNIT_EXPECT_TRUE_MSG(test, swiotlb_find_pool(dev, bounce),
				      "the 512-byte range is bounced");
		check_translation(test, dev, pl, dma_list(test, map));
		check_edu_roundtrip(test, edu, pl, map, 256);
		phyr_unmap(map, 0);
	} else {
		KUNIT_EXPECT_EQ(test, ret, -EIO);
	}
	KUNIT_EXPECT_FALSE(test, phyr_dma_mapped(map));
	expect_counters(test, &before);

	ret = phyr_map(dev, aligned, map, DMA_BIDIRECTIONAL, 0, GFP_KERNEL);
	KUNIT_ASSERT_EQ_MSG(test, ret, 0, "phyr_map: %pe", ERR_PTR(ret));
	check_translation(test, dev, aligned, dma_list(test, map));
	check_edu_roundtrip(test, edu, aligned, map, PAGE_SIZE);
	phyr_unmap(map, 0);
	expect_counters(test, &before);
}

/* swiotlb=force: every range is bounced, and the syncs copy. */
static void phyr_test_map_bounce(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct device *dev = &edu->pdev->dev;
	struct phyr_list *pl = test_list(test);
	struct phyr_map_counters before;
	struct phyr_dma_iter diter;
	u8 *src, *dst, *pattern;
	struct phyr_dma *map;
	dma_addr_t addr;
	u64 len, total;

	if (use_dma_iommu(dev) || !is_swiotlb_force_bounce(dev))
		kunit_skip(test, "needs swiotlb=force without an IOMMU");
	scattered_pages(test, pl, 8);
	test_folios(test, pl, 1, get_order(SZ_1M));
	phyr_map_counters(&before);

	map = test_map_state(test);
	test_map(test, dev, pl, map, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_PTR_NE(test, dma_list(test, map),
			    (const struct phyr_list *)pl);
	phyr_dma_for_each_range(map, &diter, addr, len) {
		phys_addr_t bounce = dma_to_phys(dev, addr);

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
	total = phyr_dma_length(map);
	phyr_sync_for_device(map, 0, total);
	edu_copy(test, edu, map, 0, 5 * PAGE_SIZE, PAGE_SIZE);
	KUNIT_EXPECT_NE_MSG(test, memcmp(dst, pattern, PAGE_SIZE), 0,
			    "DMA went to the original page, not a bounce buffer");
	phyr_sync_for_cpu(map, 0, total);
	KUNIT_EXPECT_EQ(test, memcmp(dst, pattern, PAGE_SIZE), 0);

	/* Across the pieces of the 1 MiB folio, which is bounced in parts. */
	check_edu_roundtrip(test, edu, pl, map, PAGE_SIZE);
	phyr_unmap(map, 0);
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
	const struct phyr_list *dma;
	struct phyr_dma *map;
	unsigned int flags;
	u8 *pattern, *back;
	struct phyr r;
	u64 total;
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

	map = test_map_state(test);
	test_map(test, dev, pl, map, DMA_BIDIRECTIONAL);
	dma = dma_list(test, map);
	total = phyr_dma_length(map);
	KUNIT_EXPECT_PTR_NE(test, dma, (const struct phyr_list *)pl);
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
		phyr_unmap(map, 0);
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
	phyr_sync_for_device(map, 0, total);
	edu_copy(test, edu, map, 0, PAGE_SIZE, PAGE_SIZE);
	memcpy_fromio(back, (void __iomem *)cmb, PAGE_SIZE);
	KUNIT_EXPECT_EQ_MSG(test, memcmp(back, pattern, PAGE_SIZE), 0,
			    "host to CMB through the P2P bus address");

	/* And from the CMB into host page 1. */
	get_random_bytes(pattern, PAGE_SIZE);
	memcpy_toio((void __iomem *)cmb, pattern, PAGE_SIZE);
	memset(page_address(host[1]), 0, PAGE_SIZE);
	edu_copy(test, edu, map, PAGE_SIZE, 2 * PAGE_SIZE, PAGE_SIZE);
	phyr_sync_for_cpu(map, 0, total);
	KUNIT_EXPECT_EQ_MSG(test, memcmp(page_address(host[1]), pattern,
					 PAGE_SIZE), 0,
			    "CMB to host through the P2P bus address");

	phyr_unmap(map, 0);
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
	struct phyr_dma *map;
	void *cmb;
	int ret;

	cmb = cmb_alloc(test, PAGE_SIZE);
	cmb_page = virt_to_page(cmb);
	KUNIT_EXPECT_LT(test, pci_p2pdma_distance(env.nvme, dev, false), 0);
	scattered_pages(test, pl, 3);
	test_add_page(test, pl, cmb_page);
	scattered_pages(test, pl, 3);
	phyr_map_counters(&before);

	map = test_map_state(test);
	ret = phyr_map(dev, pl, map, DMA_TO_DEVICE, 0, GFP_KERNEL);
	KUNIT_EXPECT_EQ(test, ret, -EREMOTEIO);
	if (!ret)
		phyr_unmap(map, 0);
	KUNIT_EXPECT_FALSE(test, phyr_dma_mapped(map));
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
 * return -ENOMEM, leave the state unmapped and nothing behind; the sweep
 * ends with success.
 */
static void phyr_map_fail_sweep(struct kunit *test, struct device *dev,
				const struct phyr_list *pl,
				unsigned int min_points)
{
	struct phyr_dma *map = test_map_state(test);
	struct phyr_list_snapshot snap, now;
	struct phyr_map_counters before;
	unsigned int n, left;
	int ret = -ENOMEM;

	phyr_snapshot(pl, &snap);
	phyr_map_counters(&before);
	for (n = 1; n < 10000; n++) {
		current->fail_nth = n;
		ret = phyr_map(dev, pl, map, DMA_BIDIRECTIONAL, 0, GFP_KERNEL);
		left = current->fail_nth;
		current->fail_nth = 0;
		if (!ret) {
			KUNIT_EXPECT_NE_MSG(test, left, 0U,
					    "success with a failure injected");
			break;
		}
		KUNIT_EXPECT_EQ_MSG(test, ret, -ENOMEM, "failure point %u", n);
		KUNIT_EXPECT_FALSE_MSG(test, phyr_dma_mapped(map),
				       "mapped after failure point %u", n);
		phyr_snapshot(pl, &now);
		KUNIT_EXPECT_EQ(test, now.length, snap.length);
		KUNIT_EXPECT_EQ(test, now.nr_ranges, snap.nr_ranges);
		KUNIT_EXPECT_EQ(test, now.first.addr, snap.first.addr);
		KUNIT_EXPECT_EQ(test, now.last.addr, snap.last.addr);
		expect_counters(test, &before);
	}
	KUNIT_ASSERT_EQ_MSG(test, ret, 0, "phyr_map: %pe", ERR_PTR(ret));
	kunit_info(test, "%u failure points, then success", n - 1);
	KUNIT_EXPECT_GE(test, n - 1, min_points);
	check_translation(test, dev, pl, dma_list(test, map));
	phyr_unmap(map, 0);
	KUNIT_EXPECT_FALSE(test, phyr_dma_mapped(map));
	expect_counters(test, &before);
}
#else
static void phyr_map_fail_sweep(struct kunit *test, struct device *dev,
				const struct phyr_list *pl,
				unsigned int min_points)
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
		/* IOVA, one iommu_map_phyr(), result chunks, sync */
		min_points = 1 + 1 + 2 + 1;
	else if (is_swiotlb_force_bounce(dev))
		/* 300 swiotlb_map; the bounce slots may merge */
		min_points = 300;
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
	/* At least two result chunks; the state itself is not allocated. */
	phyr_map_fail_sweep(test, dev, pl, 2);
}

/*
 * Segment limits, on two DMA ranges with known addresses: an identity
 * mapping for a device with a 12 KiB maximum segment and a 16 KiB
 * boundary, of ranges placed like 0x101000+0x10000 and 0x203f00+0x5000.
 */
static void phyr_test_seg_iter(struct kunit *test)
{
	struct device *dev = test_direct_dev(test);
	struct phyr_list *pl = test_list(test);
	struct phyr_map_counters before;
	struct phyr_dma_iter diter;
	dma_addr_t addr, expect;
	u64 len, total = 0, nr = 0;
	struct phyr_dma *map;
	struct folio **folio;
	phys_addr_t base;

	if (is_swiotlb_force_bounce(dev))
		kunit_skip(test, "swiotlb=force: DMA addresses are bounce buffers");
	/* 256 KiB aligned, so that the ranges are where the boundaries are. */
	folio = test_folios(test, test_list(test), 1, get_order(SZ_256K));
	base = page_to_phys(folio_page(folio[0], 0));
	test_add_range(test, pl, base + 0x1000, 0x10000);
	test_add_range(test, pl, base + 0x23f00, 0x5000);
	test_seg_limits(test, dev, 0x3000, 0x3fff);
	phyr_map_counters(&before);

	map = test_map_state(test);
	test_map(test, dev, pl, map, DMA_TO_DEVICE);
	KUNIT_ASSERT_PTR_EQ(test, dma_list(test, map),
			    (const struct phyr_list *)pl);
	expect = base + 0x1000;
	phyr_dma_for_each_seg(map, &diter, addr, len) {
		KUNIT_EXPECT_LE(test, len, 0x3000ULL);
		KUNIT_EXPECT_EQ(test, addr >> 14, (addr + len - 1) >> 14);
		if (addr != expect)
			KUNIT_EXPECT_EQ(test, addr,
					(dma_addr_t)(base + 0x23f00));
		expect = addr + len;
		total += len;
		nr++;
	}
	KUNIT_EXPECT_EQ(test, total, phyr_list_length(pl));
	/* 0x10000 in 4 KiB-aligned 16 KiB windows: 8 segments; then 4. */
	KUNIT_EXPECT_EQ(test, nr, 12ULL);
	KUNIT_EXPECT_EQ(test, phyr_dma_nr_segs(map), 12UL);
	phyr_unmap(map, 0);
	expect_counters(test, &before);
}

struct test_seg {
	dma_addr_t addr;
	u64 len;
};

/*
 * Check the segments of @map, as collected from phyr_dma_for_each_seg(),
 * against the limits @max_seg and @boundary the device had at phyr_map():
 * each fits them, and together they are the raw DMA ranges cut exactly
 * where the first limit is reached and nowhere else.
 */
static void check_segs(struct kunit *test, const struct phyr_dma *map,
		       const struct test_seg *segs, unsigned long nr,
		       u64 max_seg, u64 boundary)
{
	unsigned long i, bad_fit = 0, bad_cut = 0;
	struct phyr_dma_iter diter;
	u64 len, done, want;
	dma_addr_t addr;

	for (i = 0; i < nr; i++) {
		u64 first = segs[i].addr, last = first + segs[i].len - 1;

		if (!segs[i].len || segs[i].len > max_seg ||
		    (first & ~boundary) != (last & ~boundary))
			bad_fit++;
	}
	i = 0;
	phyr_dma_for_each_range(map, &diter, addr, len) {
		for (done = 0; done < len; done += want, i++) {
			u64 at = addr + done;

			want = min(len - done, max_seg);
			if (boundary != U64_MAX)
				want = min(want, boundary - (at & boundary) + 1);
			if (i >= nr || segs[i].addr != at || segs[i].len != want)
				bad_cut++;
		}
	}
	KUNIT_EXPECT_EQ_MSG(test, bad_fit, 0UL,
			    "of %lu segments break max %#llx, boundary %#llx",
			    nr, max_seg, boundary);
	KUNIT_EXPECT_EQ_MSG(test, bad_cut, 0UL,
			    "of %lu segments are not the ranges cut at the limits",
			    nr);
	KUNIT_EXPECT_EQ_MSG(test, i, nr, "segments for the DMA ranges");
}

/*
 * Make the edu read @len bytes at DMA address @addr (into its buffer and
 * from there into @scratch) and compare them with the bytes at offset
 * @off of the host memory of @pl.
 */
static bool edu_reads(struct kunit *test, struct phyr_map_edu *edu,
		      struct coherent_buf *scratch, dma_addr_t addr,
		      const struct phyr_list *pl, u64 off, u32 len, u8 *expect)
{
	KUNIT_ASSERT_EQ(test, 0, edu_dma(edu->bar, addr, 0, len, false));
	memset(scratch->cpu, 0, len);
	KUNIT_ASSERT_EQ(test, 0, edu_dma(edu->bar, scratch->addr, 0, len,
					 true));
	list_read(test, pl, off, expect, len);
	return !memcmp(scratch->cpu, expect, len);
}

/*
 * phyr_dma_for_each_seg() yields segments that fit the edu's limits as
 * phyr_map() found them, cut from the raw ranges at exactly the right
 * places, and the edu reads the right bytes at each; limits changed after
 * phyr_map() do not apply to the mapping.
 */
static void phyr_test_seg_limits(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct device *dev = &edu->pdev->dev;
	struct phyr_list *pl = test_list(test);
	const unsigned long boundary = SZ_16K - 1;
	const unsigned int max_seg = SZ_8K + SZ_4K;
	bool long_range = false, straddle = false;
	unsigned long nr = 0, i = 0, bad = 0;
	struct phyr_map_counters before;
	struct coherent_buf *scratch;
	struct phyr_dma_iter diter;
	struct test_seg *segs;
	struct folio **folio;
	struct phyr_dma *map;
	dma_addr_t addr;
	u64 len, off;
	u8 *expect;
	u32 n;

	test_seg_limits(test, dev, max_seg, boundary);
	test_folios(test, pl, 2, get_order(SZ_64K));
	/* 512 bytes across a 16 KiB boundary of physical memory */
	folio = test_folios(test, test_list(test), 1, get_order(SZ_32K));
	test_add_range(test, pl, page_to_phys(folio_page(folio[0], 0)) +
		       SZ_16K - 256, 512);
	test_folios(test, pl, 1, get_order(SZ_64K));
	list_random(pl);
	scratch = test_coherent(test, dev, EDU_XFER_MAX);
	expect = kunit_kmalloc(test, EDU_XFER_MAX, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, expect);
	phyr_map_counters(&before);

	map = test_map_state(test);
	test_map(test, dev, pl, map, DMA_TO_DEVICE);
	check_translation(test, dev, pl, dma_list(test, map));
	/* The mapping exercises both limits. */
	phyr_dma_for_each_range(map, &diter, addr, len) {
		long_range |= len > max_seg;
		straddle |= (addr & ~(u64)boundary) !=
			    ((addr + len - 1) & ~(u64)boundary);
	}
	/*
	 * Bounced pieces are cut to the limits before they are mapped (a
	 * bounce buffer never crosses a boundary), so with swiotlb=force only
	 * adjacent pieces can make a range that does.
	 */
	KUNIT_ASSERT_TRUE_MSG(test, long_range, "a DMA range above max_seg");
	if (!is_swiotlb_force_bounce(dev))
		KUNIT_ASSERT_TRUE_MSG(test, straddle,
				      "a DMA range across a boundary");

	phyr_dma_for_each_seg(map, &diter, addr, len)
		nr++;
	KUNIT_EXPECT_EQ(test, phyr_dma_nr_segs(map), nr);
	segs = kunit_kcalloc(test, nr, sizeof(*segs), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, segs);
	phyr_dma_for_each_seg(map, &diter, addr, len) {
		if (i < nr)
			segs[i] = (struct test_seg){ .addr = addr, .len = len };
		i++;
	}
	KUNIT_ASSERT_EQ(test, i, nr);
	check_segs(test, map, segs, nr, max_seg, boundary);

	/* The edu reads the first and the last bytes of every segment. */
	for (i = 0, off = 0; i < nr; off += segs[i].len, i++) {
		n = min_t(u64, segs[i].len, EDU_XFER_MAX);
		if (!edu_reads(test, edu, scratch, segs[i].addr, pl, off, n,
			       expect))
			bad++;
		if (segs[i].len > n &&
		    !edu_reads(test, edu, scratch, segs[i].addr +
			       segs[i].len - n, pl, off + segs[i].len - n, n,
			       expect))
			bad++;
	}
	KUNIT_EXPECT_EQ_MSG(test, bad, 0UL, "of %lu segments read wrong bytes",
			    nr);

	/* Limits set after phyr_map() are not this mapping's. */
	dma_set_max_seg_size(dev, PAGE_SIZE);
	dma_set_seg_boundary(dev, PAGE_SIZE - 1);
	i = 0;
	bad = 0;
	phyr_dma_for_each_seg(map, &diter, addr, len) {
		if (i >= nr || segs[i].addr != addr || segs[i].len != len)
			bad++;
		i++;
	}
	KUNIT_EXPECT_EQ_MSG(test, bad, 0UL,
			    "segments changed with the device's limits");
	KUNIT_EXPECT_EQ(test, i, nr);
	KUNIT_EXPECT_EQ(test, phyr_dma_nr_segs(map), nr);

	phyr_unmap(map, 0);
	expect_counters(test, &before);
}

/*
 * Partial syncs under swiotlb=force: the bytes of the mapping are bounced,
 * so what a sync copies shows.  Outside the window the bytes must still
 * be WINDOW_FILL, what they were before the DMA; inside it they are the
 * pattern of the edu's buffer, byte n of the mapping being
 * pattern[n % EDU_XFER_MAX].  The window starts in the middle of the
 * first page and crosses two range boundaries of the scattered pages.
 */
#define WINDOW_FILL	0x5a
#define WINDOW_OFF	(PAGE_SIZE / 2 + 100)
#define WINDOW_LEN	(2 * PAGE_SIZE)

struct window_tally {
	unsigned long bad_in;
	unsigned long bad_out;
};

/* A random pattern without WINDOW_FILL in it. */
static u8 *window_pattern(struct kunit *test)
{
	u8 *pattern = kunit_kmalloc(test, EDU_XFER_MAX, GFP_KERNEL);
	unsigned int i;

	KUNIT_ASSERT_NOT_NULL(test, pattern);
	get_random_bytes(pattern, EDU_XFER_MAX);
	for (i = 0; i < EDU_XFER_MAX; i++)
		if (pattern[i] == WINDOW_FILL)
			pattern[i] = WINDOW_FILL ^ 0xff;
	return pattern;
}

/* Tally byte @o, @got, against the window [@off, @off + @len). */
static void window_byte(struct window_tally *t, u64 o, u8 got, u64 off,
			u64 len, const u8 *pattern)
{
	bool in = o >= off && o - off < len;

	if (got == (in ? pattern[o % EDU_XFER_MAX] : WINDOW_FILL))
		return;
	if (in)
		t->bad_in++;
	else
		t->bad_out++;
}

static void expect_window(struct kunit *test, const struct window_tally *t,
			  u64 off, u64 len, const char *what)
{
	KUNIT_EXPECT_EQ_MSG(test, t->bad_in, 0UL,
			    "%s: bytes in the window [%llu, %llu) not synced",
			    what, off, off + len);
	KUNIT_EXPECT_EQ_MSG(test, t->bad_out, 0UL,
			    "%s: bytes outside the window [%llu, %llu) synced",
			    what, off, off + len);
}

/* What the CPU sees of @pl. */
static void check_window_cpu(struct kunit *test, const struct phyr_list *pl,
			     u64 off, u64 len, const u8 *pattern,
			     const char *what)
{
	struct window_tally t = {};
	struct phyr_iter iter;
	u64 o = 0, i;
	struct phyr r;

	phyr_list_for_each(pl, &iter, r) {
		const u8 *p = phys_to_virt(r.addr);

		for (i = 0; i < r.len; i++, o++)
			window_byte(&t, o, p[i], off, len, pattern);
	}
	expect_window(test, &t, off, len, what);
}

/* What the edu reads of @map, through @scratch. */
static void check_window_edu(struct kunit *test, struct phyr_map_edu *edu,
			     const struct phyr_dma *map,
			     struct coherent_buf *scratch, u64 off, u64 len,
			     const u8 *pattern, const char *what)
{
	u64 total = phyr_dma_length(map), pos;
	const u8 *p = scratch->cpu;
	struct window_tally t = {};
	u32 n, i;

	for (pos = 0; pos < total; pos += n) {
		n = min_t(u64, total - pos, EDU_XFER_MAX);
		KUNIT_ASSERT_EQ(test, 0, edu_dma(edu->bar,
						 dma_at(test, map, pos, n),
						 0, n, false));
		memset(scratch->cpu, 0, n);
		KUNIT_ASSERT_EQ(test, 0, edu_dma(edu->bar, scratch->addr, 0, n,
						 true));
		for (i = 0; i < n; i++)
			window_byte(&t, pos + i, p[i], off, len, pattern);
	}
	expect_window(test, &t, off, len, what);
}

/*
 * phyr_sync_for_cpu() of a window copies that window back and nothing
 * else, although the edu wrote all over the mapping.
 */
static void phyr_test_sync_for_cpu_window(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct device *dev = &edu->pdev->dev;
	struct phyr_list *pl = test_list(test);
	struct phyr_map_counters before;
	struct coherent_buf *src;
	struct phyr_dma *map;
	u64 total, pos;
	u8 *pattern;

	if (!is_swiotlb_force_bounce(dev))
		kunit_skip(test, "needs swiotlb=force: without bouncing a sync copies nothing");
	scattered_pages(test, pl, 4);
	total = phyr_list_length(pl);
	list_memset(pl, WINDOW_FILL);
	pattern = window_pattern(test);
	src = test_coherent(test, dev, EDU_XFER_MAX);
	memcpy(src->cpu, pattern, EDU_XFER_MAX);
	KUNIT_ASSERT_EQ(test, 0, edu_dma(edu->bar, src->addr, 0, EDU_XFER_MAX,
					 false));
	phyr_map_counters(&before);

	map = test_map_state(test);
	test_map(test, dev, pl, map, DMA_FROM_DEVICE);
	/* The edu writes its pattern into all of the mapping. */
	for (pos = 0; pos < total; pos += EDU_XFER_MAX)
		KUNIT_ASSERT_EQ(test, 0, edu_dma(edu->bar,
						 dma_at(test, map, pos,
							EDU_XFER_MAX),
						 0, EDU_XFER_MAX, true));
	phyr_sync_for_cpu(map, WINDOW_OFF, WINDOW_LEN);
	check_window_cpu(test, pl, WINDOW_OFF, WINDOW_LEN, pattern,
			 "window synced for the CPU");
	/* And the edu did write outside the window. */
	phyr_sync_for_cpu(map, 0, total);
	check_window_cpu(test, pl, 0, total, pattern,
			 "all synced for the CPU");
	phyr_unmap(map, 0);
	expect_counters(test, &before);
}

/*
 * phyr_sync_for_device() of a window copies that window to the bounce
 * buffers and nothing else, although the CPU wrote all over the list.
 */
static void phyr_test_sync_for_device_window(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct device *dev = &edu->pdev->dev;
	struct phyr_list *pl = test_list(test);
	struct phyr_map_counters before;
	struct coherent_buf *scratch;
	struct phyr_dma *map;
	u8 *pattern;
	u64 total;

	if (!is_swiotlb_force_bounce(dev))
		kunit_skip(test, "needs swiotlb=force: without bouncing a sync copies nothing");
	scattered_pages(test, pl, 4);
	total = phyr_list_length(pl);
	list_memset(pl, WINDOW_FILL);
	pattern = window_pattern(test);
	scratch = test_coherent(test, dev, EDU_XFER_MAX);
	phyr_map_counters(&before);

	/* phyr_map() copies the fill into the bounce buffers. */
	map = test_map_state(test);
	test_map(test, dev, pl, map, DMA_TO_DEVICE);
	list_write_pattern(pl, pattern);
	phyr_sync_for_device(map, WINDOW_OFF, WINDOW_LEN);
	check_window_edu(test, edu, map, scratch, WINDOW_OFF, WINDOW_LEN,
			 pattern, "window synced for the device");
	/* And the CPU did write outside the window. */
	phyr_sync_for_device(map, 0, total);
	check_window_edu(test, edu, map, scratch, 0, total, pattern,
			 "all synced for the device");
	phyr_unmap(map, 0);
	expect_counters(test, &before);
}

/*
 * phyr_map() with its failure points counted, none of them failing: the
 * steps that can fail, phyr chunk allocations among them.  *@points is
 * UINT_MAX when they cannot be counted.
 */
static int map_count_points(struct device *dev, const struct phyr_list *pl,
			    struct phyr_dma *map, enum dma_data_direction dir,
			    unsigned int *points)
{
	int ret;

	*points = UINT_MAX;
#ifdef CONFIG_FAULT_INJECTION
	/* Their fault points would take from current->fail_nth too. */
	if (!IS_ENABLED(CONFIG_FAILSLAB) && !IS_ENABLED(CONFIG_FAIL_PAGE_ALLOC)) {
		current->fail_nth = UINT_MAX;
		ret = phyr_map(dev, pl, map, dir, 0, GFP_KERNEL);
		*points = UINT_MAX - current->fail_nth;
		current->fail_nth = 0;
		return ret;
	}
#endif
	ret = phyr_map(dev, pl, map, dir, 0, GFP_KERNEL);
	return ret;
}

/*
 * A mapping whose DMA addresses are one range, or the list itself,
 * allocates nothing: the identity mapping without an IOMMU, and a list of
 * page-aligned ranges in one linear IOVA range behind it.
 */
/* The DMA address of byte @off of a mapped table, by walking it. */
static dma_addr_t sgt_dma_at(const struct sg_table *sgt, u64 off)
{
	struct scatterlist *sg;
	int i;

	for_each_sgtable_dma_sg(sgt, sg, i) {
		if (off < sg_dma_len(sg))
			return sg_dma_address(sg) + off;
		off -= sg_dma_len(sg);
	}
	return DMA_MAPPING_ERROR;
}

struct test_sgt {
	struct device *dev;
	struct sg_table sgt;
};

static void test_sgt_free(void *data)
{
	struct test_sgt *t = data;

	dma_unmap_sgtable(t->dev, &t->sgt, DMA_BIDIRECTIONAL, 0);
	sg_free_table(&t->sgt);
}

/* Check one imported window against the table it came from. */
static void check_import(struct kunit *test, const struct sg_table *sgt,
			 u64 off, u64 len)
{
	struct phyr_list dl = PHYR_LIST_INIT;
	struct phyr_iter iter;
	phys_addr_t prev_end = 0;
	struct phyr r;
	u64 pos = 0, b;

	KUNIT_ASSERT_EQ(test, 0,
			phyr_list_import_sgtable_dma(&dl, sgt, off, len,
						     GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, phyr_list_length(&dl), len);
	KUNIT_EXPECT_TRUE(test, dl.flags & PHYR_LIST_DMA);
	/* Both ends of every range, and ranges merged where contiguous. */
	phyr_list_for_each(&dl, &iter, r) {
		KUNIT_EXPECT_EQ(test, (u64)r.addr, (u64)sgt_dma_at(sgt, off + pos));
		KUNIT_EXPECT_EQ(test, (u64)(r.addr + (r.len - 1)),
				(u64)sgt_dma_at(sgt, off + pos + r.len - 1));
		if (pos)
			KUNIT_EXPECT_NE(test, (u64)r.addr, (u64)prev_end);
		prev_end = r.addr + r.len;
		pos += r.len;
	}
	KUNIT_EXPECT_EQ(test, pos, len);
	/* Bytes in between, found by seeking. */
	for (b = 0; b < len; b += PAGE_SIZE / 2 + 1)
		KUNIT_EXPECT_EQ(test, (u64)range_at(&dl, b, NULL).addr,
				(u64)sgt_dma_at(sgt, off + b));
	phyr_list_destroy(&dl);
}

/*
 * phyr_list_import_sgtable_dma() describes windows of a table mapped by
 * the DMA API without changing it; bad windows leave the list as it was.
 */
static void phyr_test_import_sgtable(struct kunit *test)
{
	const unsigned int nr = 16;
	const u64 total = (u64)nr * PAGE_SIZE;
	struct test_sgt *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	struct phyr_list dl = PHYR_LIST_INIT;
	struct scatterlist *sg;
	dma_addr_t *before;
	struct page **pages;
	unsigned int i;
	int j;

	KUNIT_ASSERT_NOT_NULL(test, t);
	t->dev = test_direct_dev(test);
	pages = scattered_pages(test, test_list(test), nr);
	KUNIT_ASSERT_EQ(test, 0,
			sg_alloc_table_from_pages(&t->sgt, pages, nr, 0, total,
						  GFP_KERNEL));
	KUNIT_ASSERT_EQ(test, 0, dma_map_sgtable(t->dev, &t->sgt,
						 DMA_BIDIRECTIONAL, 0));
	test_add_action(test, test_sgt_free, t);
	KUNIT_ASSERT_GT(test, t->sgt.nents, 1U);
	before = kunit_kcalloc(test, 2 * t->sgt.nents, sizeof(*before),
			       GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, before);
	for_each_sgtable_dma_sg(&t->sgt, sg, j) {
		before[2 * j] = sg_dma_address(sg);
		before[2 * j + 1] = sg_dma_len(sg);
	}

	check_import(test, &t->sgt, 0, total);
	check_import(test, &t->sgt, 1, total - 2);
	check_import(test, &t->sgt, PAGE_SIZE - 1, 2);
	check_import(test, &t->sgt, 3 * PAGE_SIZE + 5, 5 * PAGE_SIZE);
	check_import(test, &t->sgt, total - 1, 1);
	for (i = 0; i < 32; i++) {
		u64 off = get_random_u32_below(total);

		check_import(test, &t->sgt, off,
			     get_random_u32_below(total - off) + 1);
	}

	/* Bad windows and a list that is not empty: -EINVAL, no change. */
	KUNIT_EXPECT_EQ(test, -EINVAL,
			phyr_list_import_sgtable_dma(&dl, &t->sgt, 0, 0,
						     GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, -EINVAL,
			phyr_list_import_sgtable_dma(&dl, &t->sgt, 1, total,
						     GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, -EINVAL,
			phyr_list_import_sgtable_dma(&dl, &t->sgt, total, 1,
						     GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, -EINVAL,
			phyr_list_import_sgtable_dma(&dl, &t->sgt, 2, U64_MAX,
						     GFP_KERNEL));
	KUNIT_EXPECT_TRUE(test, phyr_list_empty(&dl));
	KUNIT_EXPECT_EQ(test, (int)dl.flags, 0);
	KUNIT_ASSERT_EQ(test, 0, phyr_list_append(&dl, PAGE_SIZE, PAGE_SIZE,
						  GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, -EINVAL,
			phyr_list_import_sgtable_dma(&dl, &t->sgt, 0, 1,
						     GFP_KERNEL));
	KUNIT_EXPECT_EQ(test, phyr_list_length(&dl), (u64)PAGE_SIZE);
	phyr_list_destroy(&dl);

#ifdef CONFIG_FAULT_INJECTION
	/*
	 * Fail each allocation of an import that needs chunks in turn:
	 * -ENOMEM and an empty list, then success.
	 */
	for (i = 1; i < 1000; i++) {
		int ret;

		current->fail_nth = i;
		ret = phyr_list_import_sgtable_dma(&dl, &t->sgt, 1, total - 2,
						   GFP_KERNEL);
		current->fail_nth = 0;
		if (!ret)
			break;
		KUNIT_EXPECT_EQ(test, ret, -ENOMEM);
		KUNIT_EXPECT_TRUE(test, phyr_list_empty(&dl));
		KUNIT_EXPECT_EQ(test, (int)dl.flags, 0);
	}
	/* One range stays in the list itself (swiotlb slots may merge). */
	if (phyr_list_nr_ranges(&dl) > 1)
		KUNIT_EXPECT_GT(test, i, 1U);
	KUNIT_EXPECT_EQ(test, phyr_list_length(&dl), total - 2);
	phyr_list_destroy(&dl);
#endif

	/* The table is as it was. */
	for_each_sgtable_dma_sg(&t->sgt, sg, j) {
		KUNIT_EXPECT_EQ(test, (u64)sg_dma_address(sg), (u64)before[2 * j]);
		KUNIT_EXPECT_EQ(test, (u64)sg_dma_len(sg), (u64)before[2 * j + 1]);
	}
}

/*
 * A DMA address is never looked up as memory.  A DMA range whose address
 * equals the CPU address of a P2P page is host memory all the same: made
 * by the direct backend through a bus offset, or imported from an
 * sg_table.  Only a range that is said to hold a bus address (imported
 * with SG_DMA_BUS_ADDRESS) is P2P.
 */
static void phyr_test_dma_addr_not_p2p(struct kunit *test)
{
	struct device *dev = test_direct_dev(test);
	struct phyr_list dl = PHYR_LIST_INIT;
	struct phyr_map_counters before;
	struct bus_dma_region *regions;
	struct phyr_list *pl;
	struct phyr_dma *map;
	struct sg_table sgt;
	unsigned int flags;
	struct page *page;
	phys_addr_t cmb;
	struct phyr r;

	cmb = virt_to_phys(cmb_alloc(test, PAGE_SIZE));
	KUNIT_ASSERT_TRUE(test, is_pci_p2pdma_page(pfn_to_page(PHYS_PFN(cmb))));

	if (!is_swiotlb_force_bounce(dev)) {
		/* A host page that the device sees at the CMB's address. */
		page = alloc_page(GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, page);
		test_add_action(test, free_page_action, page);
		/* Freed with the device, by the driver core. */
		regions = kcalloc(2, sizeof(*regions), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, regions);
		regions[0] = (struct bus_dma_region) {
			.cpu_start = page_to_phys(page), .dma_start = cmb,
			.size = PAGE_SIZE,
		};
		dev->dma_range_map = regions;
		pl = test_list(test);
		test_add_range(test, pl, page_to_phys(page), PAGE_SIZE);
		phyr_map_counters(&before);

		map = test_map_state(test);
		test_map(test, dev, pl, map, DMA_TO_DEVICE);
		r = range_at(dma_list(test, map), 0, &flags);
		KUNIT_EXPECT_EQ(test, (u64)r.addr, (u64)cmb);
		KUNIT_EXPECT_FALSE_MSG(test, flags & PHYR_RANGE_P2P,
				       "direct: a DMA address classified as P2P");
		KUNIT_EXPECT_FALSE(test, phyr_list_has_p2p(dma_list(test, map)));
		phyr_unmap(map, 0);
		expect_counters(test, &before);
	}

	KUNIT_ASSERT_EQ(test, 0, sg_alloc_table(&sgt, 1, GFP_KERNEL));
	sg_dma_address(sgt.sgl) = cmb;
	sg_dma_len(sgt.sgl) = PAGE_SIZE;
	sgt.nents = 1;
	KUNIT_EXPECT_EQ(test, 0, phyr_list_import_sgtable_dma(&dl, &sgt, 0,
							      PAGE_SIZE,
							      GFP_KERNEL));
	r = range_at(&dl, 0, &flags);
	KUNIT_EXPECT_EQ(test, (u64)r.addr, (u64)cmb);
	KUNIT_EXPECT_FALSE_MSG(test, flags & PHYR_RANGE_P2P,
			       "import: a DMA address classified as P2P");
	phyr_list_destroy(&dl);
	/* The exporter's word is what counts. */
	sg_dma_mark_bus_address(sgt.sgl);
	KUNIT_EXPECT_EQ(test, 0, phyr_list_import_sgtable_dma(&dl, &sgt, 0,
							      PAGE_SIZE,
							      GFP_KERNEL));
	range_at(&dl, 0, &flags);
	KUNIT_EXPECT_TRUE(test, flags & PHYR_RANGE_P2P);
	phyr_list_destroy(&dl);
	sg_free_table(&sgt);
}

#if IS_ENABLED(CONFIG_IOMMU_DMA)
/*
 * IOVA space of a domain filled with reservations, all but a hole, so
 * that the next allocation of the hole's size lands in it; and what
 * test_iova_restore() puts back.
 */
struct test_iova_fill {
	struct iova_domain *iovad;
	struct device *dev;
	bool pci_32bit_workaround;
	bool window;			/* a reservation was lifted */
	unsigned long window_lo, window_hi;
	unsigned int nr;
	struct iova *res[64];
};

/* Reserve every free page frame of [@lo, @hi]. */
static void test_iova_reserve_free(struct kunit *test,
				   struct test_iova_fill *f,
				   unsigned long lo, unsigned long hi)
{
	unsigned long pfn = lo, end, taken_to, flags;
	struct rb_node *node;
	struct iova *iova;

	while (pfn <= hi) {
		end = hi;
		taken_to = 0;
		spin_lock_irqsave(&f->iovad->iova_rbtree_lock, flags);
		/* The tree is sorted by pfn_lo; its nodes do not overlap. */
		for (node = rb_first(&f->iovad->rbroot); node;
		     node = rb_next(node)) {
			iova = rb_entry(node, struct iova, node);
			if (iova->pfn_hi < pfn)
				continue;
			if (iova->pfn_lo <= pfn)
				taken_to = iova->pfn_hi;
			else
				end = min(end, iova->pfn_lo - 1);
			break;
		}
		spin_unlock_irqrestore(&f->iovad->iova_rbtree_lock, flags);
		if (taken_to) {
			if (taken_to >= hi)
				return;
			pfn = taken_to + 1;
			continue;
		}
		KUNIT_ASSERT_LT(test, f->nr, ARRAY_SIZE(f->res));
		f->res[f->nr] = reserve_iova(f->iovad, pfn, end);
		KUNIT_ASSERT_NOT_NULL(test, f->res[f->nr]);
		f->nr++;
		if (end >= hi)
			return;
		pfn = end + 1;
	}
}

static void test_iova_restore(void *data)
{
	struct test_iova_fill *f = data;

	while (f->nr)
		__free_iova(f->iovad, f->res[--f->nr]);
	if (f->window)
		reserve_iova(f->iovad, f->window_lo, f->window_hi);
	f->window = false;
	f->dev->iommu->pci_32bit_workaround = f->pci_32bit_workaround;
}

/*
 * Make [@pfn, @pfn + @nr) the only free IOVA page frames of @dev's domain
 * up to @limit_pfn.  The reservation that covers @pfn (the PCI window
 * that holds the P2P page) is lifted until the test ends.
 */
static void test_iova_force(struct kunit *test, struct device *dev,
			    unsigned long pfn, unsigned long nr,
			    unsigned long limit_pfn)
{
	struct iommu_domain *domain = iommu_get_dma_domain(dev);
	struct test_iova_fill *f;
	struct iova *iova;
	unsigned long i;

	f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, f);
	f->iovad = iommu_dma_iovad(domain);
	f->dev = dev;
	f->pci_32bit_workaround = dev->iommu->pci_32bit_workaround;
	test_add_action(test, test_iova_restore, f);
	iova = find_iova(f->iovad, pfn);
	if (iova) {
		f->window_lo = iova->pfn_lo;
		f->window_hi = iova->pfn_hi;
		f->window = true;
		__free_iova(f->iovad, iova);
	}
	for (i = 0; i < nr; i++)
		if (find_iova(f->iovad, pfn + i))
			kunit_skip(test, "IOVA page frame %#lx is in use",
				   pfn + i);
	test_iova_reserve_free(test, f, f->iovad->start_pfn, pfn - 1);
	test_iova_reserve_free(test, f, pfn + nr, limit_pfn);
}

#define IOVA_TEST_ORDER	6	/* above what the IOVA rcache holds */

static void free_iova_test_pages(void *page)
{
	__free_pages(page, IOVA_TEST_ORDER);
}

/*
 * An IOVA that equals the CPU address of a P2P page is an IOVA: the
 * mapping is host memory, and unmapping it clears every page of it from
 * the IOMMU page table, so that a second mapping at that IOVA maps anew.
 * The IOVA is forced there by filling the rest of the domain's IOVA
 * space with reservations.
 */
static void phyr_test_iova_at_p2p_page(struct kunit *test)
{
	const unsigned long nr = 1UL << IOVA_TEST_ORDER;
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct device *dev = &edu->pdev->dev;
	struct phyr_list *pl = test_list(test);
	struct phyr_map_counters before;
	struct iommu_domain *domain;
	struct iova_domain *iovad;
	phys_addr_t target;
	struct phyr_dma *map;
	unsigned int flags, round;
	struct page *pages;
	struct phyr r;
	u64 i;

	if (!use_dma_iommu(dev))
		kunit_skip(test, "the edu has no IOMMU in this boot");
	domain = iommu_get_dma_domain(dev);
	iovad = iommu_dma_iovad(domain);
	KUNIT_ASSERT_EQ(test, iova_shift(iovad), PAGE_SHIFT);
	/* A CMB page on which an IOVA of nr pages, so aligned, can start. */
	target = ALIGN(virt_to_phys(cmb_alloc(test, 2 * nr * PAGE_SIZE)),
		       nr * PAGE_SIZE);
	KUNIT_ASSERT_TRUE(test,
			  is_pci_p2pdma_page(pfn_to_page(PHYS_PFN(target))));
	if (target + nr * PAGE_SIZE - 1 > domain->geometry.aperture_end)
		kunit_skip(test, "the CMB lies above the IOMMU's aperture");

	pages = alloc_pages(GFP_KERNEL, IOVA_TEST_ORDER);
	KUNIT_ASSERT_NOT_NULL(test, pages);
	test_add_action(test, free_iova_test_pages, pages);
	test_add_range(test, pl, page_to_phys(pages), nr * PAGE_SIZE);
	test_iova_force(test, dev, PHYS_PFN(target), nr,
			domain->geometry.aperture_end >> PAGE_SHIFT);
	phyr_map_counters(&before);

	/* Twice: the second mapping finds the IOVA as the first left it. */
	for (round = 0; round < 2; round++) {
		map = test_map_state(test);
		test_map(test, dev, pl, map, DMA_BIDIRECTIONAL);
		r = range_at(dma_list(test, map), 0, &flags);
		KUNIT_ASSERT_EQ_MSG(test, (u64)r.addr, (u64)target,
				    "round %u: the IOVA was not forced", round);
		KUNIT_EXPECT_FALSE_MSG(test, flags & PHYR_RANGE_P2P,
				       "an IOVA classified as P2P");
		for (i = 0; i < nr; i++)
			if (iommu_iova_to_phys(domain, target + i * PAGE_SIZE) !=
			    page_to_phys(pages) + i * PAGE_SIZE)
				break;
		KUNIT_EXPECT_EQ_MSG(test, i, (u64)nr,
				    "round %u: page %llu is not mapped to its page",
				    round, i);
		phyr_unmap(map, 0);
		KUNIT_EXPECT_EQ_MSG(test,
				    iova_mapped_pages(domain, target,
						      nr * PAGE_SIZE), 0UL,
				    "round %u: unmapped IOVA still translates",
				    round);
		/* A flush queue frees the IOVA later: no second round. */
		if (iommu_dma_fq_enabled(domain))
			break;
	}
	expect_counters(test, &before);
}
#else
static void phyr_test_iova_at_p2p_page(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_IOMMU_DMA");
}
#endif

static void phyr_test_map_no_alloc(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct device *dev = &edu->pdev->dev;
	struct phyr_list *pl = test_list(test);
	struct phyr_map_counters before, mapped;
	unsigned int points, want_points;
	const struct phyr_list *dma;
	struct phyr_dma *map;
	int ret;

	if (is_swiotlb_force_bounce(dev))
		kunit_skip(test, "swiotlb=force: bounced ranges make a DMA list");
	if (!IS_ENABLED(CONFIG_PHYR_KUNIT_TEST))
		kunit_skip(test, "needs CONFIG_PHYR_KUNIT_TEST for phyr_chunks_live()");
	scattered_pages(test, pl, 64);
	KUNIT_ASSERT_EQ(test, phyr_list_nr_ranges(pl), 64UL);
	phyr_map_counters(&before);

	map = test_map_state(test);
	ret = map_count_points(dev, pl, map, DMA_BIDIRECTIONAL, &points);
	KUNIT_ASSERT_EQ_MSG(test, ret, 0, "phyr_map: %pe", ERR_PTR(ret));
	phyr_map_counters(&mapped);
	dma = dma_list(test, map);
	KUNIT_EXPECT_EQ_MSG(test, mapped.chunks, before.chunks,
			    "phyr chunks allocated by phyr_map()");
	if (use_dma_iommu(dev)) {
		/* One IOVA range, held in the state itself. */
		KUNIT_EXPECT_EQ(test, phyr_list_nr_ranges(dma), 1UL);
		KUNIT_EXPECT_EQ(test, phyr_list_mem_bytes(dma), (size_t)0);
		KUNIT_EXPECT_EQ(test, mapped.iommu_mapped - before.iommu_mapped,
				(long)(64 * PAGE_SIZE));
		/* The IOVA, one iommu_map_phyr() for all 64, the IOTLB sync. */
		want_points = 1 + 1 + 1;
	} else {
		KUNIT_EXPECT_PTR_EQ(test, dma, (const struct phyr_list *)pl);
		want_points = 0;
	}
	if (points != UINT_MAX)
		KUNIT_EXPECT_EQ_MSG(test, points, want_points,
				    "failure points of phyr_map(): something was allocated");
	check_translation(test, dev, pl, dma);
	check_edu_roundtrip(test, edu, pl, map, PAGE_SIZE);
	phyr_unmap(map, 0);
	expect_counters(test, &before);
}

/*
 * phyr_unmap() leaves the state unmapped, with nothing of the mapping left
 * in it or in the device, and the same state maps another list.  Both
 * lists are passed as const: phyr_map() only reads its input.
 */
static void phyr_test_unmap_remap(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct device *dev = &edu->pdev->dev;
	struct phyr_list *first = test_list(test);
	struct phyr_list *second = test_list(test);
	struct iommu_domain *domain = NULL;
	struct phyr_map_counters before;
	const struct phyr_list *pl;
	struct phyr_dma *map;
	struct page **pages;
	unsigned int i;
	struct phyr d;

	if (use_dma_iommu(dev))
		domain = iommu_get_dma_domain(dev);
	/* Byte-granular ranges: a chunked DMA list with an IOMMU or swiotlb */
	pages = scattered_pages(test, test_list(test), 64);
	for (i = 0; i < 64; i++)
		test_add_range(test, first, page_to_phys(pages[i]) + 8, 2048);
	scattered_pages(test, second, 16);
	phyr_map_counters(&before);
	map = test_map_state(test);
	KUNIT_EXPECT_FALSE(test, phyr_dma_mapped(map));

	pl = first;
	test_map(test, dev, pl, map, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_EQ(test, phyr_dma_length(map), phyr_list_length(pl));
	check_translation(test, dev, pl, dma_list(test, map));
	check_edu_roundtrip(test, edu, pl, map, 1000);
	d = range_at(dma_list(test, map), 0, NULL);
	phyr_unmap(map, 0);
	KUNIT_EXPECT_FALSE(test, phyr_dma_mapped(map));
	if (domain)
		KUNIT_EXPECT_EQ(test, (u64)iommu_iova_to_phys(domain, d.addr),
				0ULL);
	expect_counters(test, &before);

	pl = second;
	test_map(test, dev, pl, map, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_EQ(test, phyr_dma_length(map), phyr_list_length(pl));
	KUNIT_EXPECT_EQ(test, phyr_list_length(dma_list(test, map)),
			phyr_list_length(pl));
	check_translation(test, dev, pl, dma_list(test, map));
	check_edu_roundtrip(test, edu, pl, map, PAGE_SIZE);
	phyr_unmap(map, 0);
	KUNIT_EXPECT_FALSE(test, phyr_dma_mapped(map));
	expect_counters(test, &before);
}

/*
 * iommu_map_phyr() straight into the edu's DMA domain, at IOVA taken from
 * dma-iommu's allocator so that nothing else maps there: the domain is
 * attached, so the driver uses every page size it has.  The failure sweep
 * takes a domain of its own instead, unattached, whose page table starts
 * empty, so that every table a mapping needs is allocated by it.
 */
struct map_phyr_case {
	struct phyr_list *pl;
	dma_addr_t iova;
	u64 iova_len;		/* the granules the ranges touch */
};

/*
 * Two 2 MiB folios first, as two ranges (large pages at a 2 MiB-aligned
 * IOVA), then 1,100 scattered pages over three leaf tables, a 16 KiB
 * folio, a byte-granular range inside a page and a range that ends inside
 * one.
 */
static void map_phyr_case(struct kunit *test, struct map_phyr_case *c)
{
	struct folio **f, *second;
	struct page **pages;
	struct phyr_iter iter;
	struct phyr r;

	c->pl = test_list(test);
	/* Two folios that stay two ranges: of three, one is not next to f[0]. */
	f = test_folios(test, test_list(test), 3, get_order(SZ_2M));
	second = folio_pfn(f[1]) == folio_pfn(f[0]) + (SZ_2M >> PAGE_SHIFT) ?
		 f[2] : f[1];
	KUNIT_ASSERT_EQ(test, phyr_list_append_folio(c->pl, f[0], 0, SZ_2M,
						     GFP_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, phyr_list_append_folio(c->pl, second, 0, SZ_2M,
						     GFP_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, phyr_list_nr_ranges(c->pl), 2UL);
	pages = scattered_pages(test, c->pl, 1100);
	test_folios(test, c->pl, 1, get_order(SZ_16K));
	test_add_range(test, c->pl, page_to_phys(pages[7]) + 100, 3000);
	test_add_range(test, c->pl, page_to_phys(pages[9]), PAGE_SIZE + 8);
	c->iova_len = 0;
	phyr_list_for_each(c->pl, &iter, r)
		c->iova_len += ALIGN(r.addr + r.len, PAGE_SIZE) -
			       ALIGN_DOWN(r.addr, PAGE_SIZE);
	c->iova = SZ_1G;
}

/*
 * Every page of the IOVA range against the list, computed here: range
 * after range, each as the pages it touches.  Returns the pages that do
 * not translate to what they should, and counts the pages checked.
 */
static unsigned long map_phyr_bad_pages(struct iommu_domain *domain,
					const struct map_phyr_case *c,
					unsigned long *checked)
{
	dma_addr_t iova = c->iova;
	unsigned long bad = 0;
	struct phyr_iter iter;
	phys_addr_t phys;
	struct phyr r;
	u64 off;

	phyr_list_for_each(c->pl, &iter, r) {
		phys = ALIGN_DOWN(r.addr, PAGE_SIZE);
		for (off = 0; phys + off < r.addr + r.len; off += PAGE_SIZE) {
			/* Check a byte inside the page too. */
			if (iommu_iova_to_phys(domain, iova + off) != phys + off ||
			    iommu_iova_to_phys(domain, iova + off + 123) !=
			    phys + off + 123)
				bad++;
			(*checked)++;
		}
		iova += off;
	}
	return bad;
}

struct map_phyr_iova {
	struct device *dev;
	struct dma_iova_state state;
};

static void map_phyr_iova_free(void *data)
{
	struct map_phyr_iova *a = data;

	dma_iova_free(a->dev, &a->state);
}

/*
 * The iommu:map events of a mapping in [@iova, @iova + @len): one per
 * range of @pl, each with the range's granules, in order.
 */
struct map_events {
	struct phyr_iter iter;
	unsigned long iova;
	u64 len;
	u64 granule;
	unsigned long next;	/* IOVA the next event must have */
	unsigned long events;
	unsigned long bad;
};

static void map_events_probe(void *data, unsigned long iova, phys_addr_t paddr,
			     size_t size)
{
	struct map_events *e = data;
	phys_addr_t first;
	struct phyr r;

	if (iova < e->iova || iova - e->iova >= e->len)
		return;
	e->events++;
	if (!phyr_iter_next(&e->iter, &r) ||
	    phyr_align_out(&r, e->granule, &first) != size ||
	    first != paddr || iova != e->next)
		e->bad++;
	e->next = iova + size;
}

/* With the driver's map_phyr op, or with a copy of its ops without it. */
static void map_phyr_check(struct kunit *test, bool op)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct device *dev = &edu->pdev->dev;
	struct iommu_domain *domain;
	const struct iommu_domain_ops *ops;
	struct iommu_domain_ops *no_op;
	unsigned long checked = 0;
	struct map_phyr_iova *a;
	struct map_events *ev;
	struct map_phyr_case c;
	size_t unmapped;
	ssize_t mapped;

	if (!use_dma_iommu(dev))
		kunit_skip(test, "needs the edu behind an IOMMU");
	domain = iommu_get_dma_domain(dev);
	ops = domain->ops;
	if (op && !ops->map_phyr)
		kunit_skip(test, "the IOMMU driver has no map_phyr op");
	map_phyr_case(test, &c);
	/* Whole 2 MiB blocks on either side, for the checks outside. */
	a = kunit_kzalloc(test, sizeof(*a), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, a);
	a->dev = dev;
	KUNIT_ASSERT_TRUE(test, dma_iova_try_alloc(dev, &a->state, 0,
						   ALIGN(c.iova_len, SZ_2M) +
						   2 * SZ_2M));
	test_add_action(test, map_phyr_iova_free, a);
	c.iova = ALIGN(a->state.addr, SZ_2M) + SZ_2M;
	/*
	 * A 4 KiB page mapped and unmapped where the second folio goes
	 * leaves a table of 4 KiB pages behind, which a large page there
	 * must replace, also when it is written without a walk of its own.
	 */
	KUNIT_ASSERT_EQ(test, iommu_map(domain, c.iova + SZ_2M,
					range_at(c.pl, 0, NULL).addr, SZ_4K,
					IOMMU_READ, GFP_KERNEL), 0);
	KUNIT_ASSERT_EQ(test, iommu_unmap(domain, c.iova + SZ_2M, SZ_4K),
			(size_t)SZ_4K);

	if (!op) {
		no_op = kunit_kmalloc(test, sizeof(*no_op), GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, no_op);
		*no_op = *ops;
		no_op->map_phyr = NULL;
		domain->ops = no_op;
	}
	ev = kunit_kzalloc(test, sizeof(*ev), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ev);
	phyr_iter_init(&ev->iter, c.pl);
	ev->iova = c.iova;
	ev->len = c.iova_len;
	ev->granule = 1UL << __ffs(domain->pgsize_bitmap);
	ev->next = c.iova;
	KUNIT_ASSERT_EQ(test, register_trace_map(map_events_probe, ev), 0);
	mapped = iommu_map_phyr(domain, c.iova, c.pl, IOMMU_READ | IOMMU_WRITE,
				GFP_KERNEL);
	unregister_trace_map(map_events_probe, ev);
	tracepoint_synchronize_unregister();
	domain->ops = ops;
	KUNIT_ASSERT_EQ(test, mapped, (ssize_t)c.iova_len);
	KUNIT_EXPECT_EQ(test, ev->events, phyr_list_nr_ranges(c.pl));
	KUNIT_EXPECT_EQ(test, ev->bad, 0UL);
	KUNIT_EXPECT_EQ(test, iommu_sync_map(domain, c.iova, mapped), 0);
	KUNIT_EXPECT_EQ(test, map_phyr_bad_pages(domain, &c, &checked), 0UL);
	kunit_info(test, "%lu pages checked\n", checked);
	/* Nothing on either side. */
	KUNIT_EXPECT_EQ(test, iova_mapped_pages(domain, c.iova - SZ_2M, SZ_2M),
			0UL);
	KUNIT_EXPECT_EQ(test, iova_mapped_pages(domain, c.iova + c.iova_len,
						SZ_2M - c.iova_len % SZ_2M),
			0UL);
	/*
	 * 4 KiB of a large page: VT-d and AMD unmap all of it, the ARM
	 * page table (SMMUv3) splits it and unmaps the 4 KiB.
	 */
	unmapped = iommu_unmap(domain, c.iova, SZ_4K);
	KUNIT_EXPECT_TRUE_MSG(test, unmapped == SZ_4K ||
			      (unmapped == SZ_2M &&
			       domain->pgsize_bitmap & SZ_2M),
			      "unmapped %zu bytes", unmapped);
	if (unmapped == SZ_4K)
		iommu_unmap(domain, c.iova + SZ_4K, SZ_2M - SZ_4K);
	KUNIT_EXPECT_EQ(test, iommu_unmap(domain, c.iova + SZ_2M,
					  c.iova_len - SZ_2M),
			(size_t)(c.iova_len - SZ_2M));
	KUNIT_EXPECT_EQ(test, iova_mapped_pages(domain, c.iova, c.iova_len),
			0UL);
}

static void phyr_test_iommu_map_phyr(struct kunit *test)
{
	map_phyr_check(test, true);
}

static void phyr_test_iommu_map_phyr_fallback(struct kunit *test)
{
	map_phyr_check(test, false);
}

static void iommu_domain_free_action(void *domain)
{
	iommu_domain_free(domain);
}

static struct iommu_domain *test_domain(struct kunit *test, struct device *dev)
{
	struct iommu_domain *domain;

	if (!use_dma_iommu(dev))
		kunit_skip(test, "needs the edu behind an IOMMU");
	domain = iommu_paging_domain_alloc(dev);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, domain);
	return domain;
}

#if IS_ENABLED(CONFIG_FAIL_PAGE_ALLOC) && IS_ENABLED(CONFIG_FAULT_INJECTION_DEBUG_FS)
/*
 * fail_page_alloc is configured through debugfs only: its files hold
 * pointers to the values.  At its defaults it skips order-0 and sleeping
 * allocations, which is what page tables are, but takes high-order
 * allocations without reclaim, which slab tries and silently falls back
 * from: a current->fail_nth point gone for every other fail_nth sweep of
 * the kernel.  So it stays off (a minimum order no allocation has) until
 * phyr_test_iommu_map_phyr_fail turns it on for order 0.
 */
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

/* After fail_page_alloc's own late_initcall, before the suites run. */
static int __init phyr_map_fail_page_alloc_off(void)
{
	u32 *min_order = fail_page_alloc_knob("min-order");

	if (min_order)
		*min_order = U32_MAX;
	return 0;
}
late_initcall_sync(phyr_map_fail_page_alloc_off);

struct fail_page_alloc_knobs {
	u32 *min_order;
	bool *ignore_gfp_wait;
	u32 saved_min_order;
	bool saved_ignore_gfp_wait;
};

static void fail_page_alloc_restore(void *data)
{
	struct fail_page_alloc_knobs *k = data;

	*k->min_order = k->saved_min_order;
	*k->ignore_gfp_wait = k->saved_ignore_gfp_wait;
}

/* Every page allocation of the task counts for current->fail_nth. */
static void fail_page_alloc_all(struct kunit *test)
{
	struct fail_page_alloc_knobs *k = kunit_kzalloc(test, sizeof(*k),
							GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, k);
	k->min_order = fail_page_alloc_knob("min-order");
	k->ignore_gfp_wait = fail_page_alloc_knob("ignore-gfp-wait");
	KUNIT_ASSERT_NOT_NULL(test, k->min_order);
	KUNIT_ASSERT_NOT_NULL(test, k->ignore_gfp_wait);
	k->saved_min_order = *k->min_order;
	k->saved_ignore_gfp_wait = *k->ignore_gfp_wait;
	test_add_action(test, fail_page_alloc_restore, k);
	*k->min_order = 0;
	*k->ignore_gfp_wait = false;
}

/*
 * Fail each page-table allocation of a mapping in turn, on a new domain
 * each time: the error comes back and nothing is left mapped, whichever
 * table it hit; the sweep ends with a mapping that checks out.
 */
static void phyr_test_iommu_map_phyr_fail(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct device *dev = &edu->pdev->dev;
	struct iommu_domain *domain;
	unsigned long checked = 0;
	struct map_phyr_case c;
	unsigned int n, left;
	ssize_t mapped = 0;

	map_phyr_case(test, &c);
	fail_page_alloc_all(test);
	for (n = 1; n < 100; n++) {
		domain = test_domain(test, dev);
		current->fail_nth = n;
		/* __GFP_NOWARN: neither fault injection nor the failure print. */
		mapped = iommu_map_phyr(domain, c.iova, c.pl,
					IOMMU_READ | IOMMU_WRITE,
					GFP_KERNEL | __GFP_NOWARN);
		left = current->fail_nth;
		current->fail_nth = 0;
		if (mapped >= 0)
			break;
		KUNIT_EXPECT_EQ_MSG(test, mapped, (ssize_t)-ENOMEM,
				    "failure point %u", n);
		KUNIT_EXPECT_EQ_MSG(test, iova_mapped_pages(domain, c.iova,
							    c.iova_len),
				    0UL, "left mapped after failure point %u", n);
		iommu_domain_free(domain);
	}
	if (mapped < 0) {
		KUNIT_FAIL(test, "no success after %u failure points", n - 1);
		return;
	}
	test_add_action(test, iommu_domain_free_action, domain);
	KUNIT_EXPECT_EQ(test, mapped, (ssize_t)c.iova_len);
	KUNIT_EXPECT_NE_MSG(test, left, 0U, "success with a failure injected");
	kunit_info(test, "%u page-table allocations failed in turn\n", n - 1);
	/* A table for each of the three leaf tables, and one above them. */
	KUNIT_EXPECT_GE(test, n - 1, 4U);
	KUNIT_EXPECT_EQ(test, map_phyr_bad_pages(domain, &c, &checked), 0UL);
}
#else
static void phyr_test_iommu_map_phyr_fail(struct kunit *test)
{
	kunit_skip(test, "needs CONFIG_FAIL_PAGE_ALLOC and CONFIG_FAULT_INJECTION_DEBUG_FS");
}
#endif

/*
 * Three scattered pages mapped at the very end of a domain's aperture,
 * its last page included: dma-iommu's allocator hands out IOVA from the
 * top, which is the top of the 64-bit space with AMD's v1 page table, and
 * a mapping may end there.  Every page translates, through the driver's
 * one-pass op where it has one, and unmapping leaves none.
 */
static void phyr_test_iommu_map_phyr_top(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct device *dev = &edu->pdev->dev;
	struct phyr_list *pl = test_list(test);
	struct iommu_domain *domain;
	struct page **pages;
	dma_addr_t iova;
	ssize_t mapped;
	unsigned int i;

	domain = test_domain(test, dev);
	test_add_action(test, iommu_domain_free_action, domain);
	pages = scattered_pages(test, pl, 3);
	iova = domain->geometry.aperture_end - 3 * PAGE_SIZE + 1;
	mapped = iommu_map_phyr(domain, iova, pl, IOMMU_READ | IOMMU_WRITE,
				GFP_KERNEL);
	KUNIT_ASSERT_EQ_MSG(test, mapped, (ssize_t)(3 * PAGE_SIZE),
			    "at %pad", &iova);
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ_MSG(test,
				    iommu_iova_to_phys(domain, iova + i * PAGE_SIZE),
				    page_to_phys(pages[i]), "page %u at %pad",
				    i, &iova);
	KUNIT_EXPECT_EQ(test, iommu_unmap(domain, iova, 3 * PAGE_SIZE),
			(size_t)(3 * PAGE_SIZE));
	KUNIT_EXPECT_EQ(test, iova_mapped_pages(domain, iova, 3 * PAGE_SIZE),
			0UL);
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
	KUNIT_CASE(phyr_test_map_no_alloc),
	KUNIT_CASE(phyr_test_unmap_remap),
	KUNIT_CASE(phyr_test_sync_for_cpu_window),
	KUNIT_CASE(phyr_test_sync_for_device_window),
	KUNIT_CASE(phyr_test_seg_iter),
	KUNIT_CASE(phyr_test_seg_limits),
	KUNIT_CASE(phyr_test_import_sgtable),
	KUNIT_CASE(phyr_test_dma_addr_not_p2p),
	KUNIT_CASE(phyr_test_iova_at_p2p_page),
	KUNIT_CASE(phyr_test_map_linear),
	KUNIT_CASE(phyr_test_iommu_map_phyr),
	KUNIT_CASE(phyr_test_iommu_map_phyr_fallback),
	KUNIT_CASE(phyr_test_iommu_map_phyr_fail),
	KUNIT_CASE(phyr_test_iommu_map_phyr_top),
	{}
};

static struct kunit_suite phyr_map_test_suite = {
	.name = "phyr_map",
	.suite_init = phyr_map_suite_init,
	.suite_exit = phyr_map_suite_exit,
	.test_cases = phyr_map_test_cases,
};

/*
 * phyr_map_debug: DMA-API debugging (kernel/dma/debug.c) gets one entry
 * per piece of a phyr mapping and reports the mistakes a driver can make
 * with one: overlapping mappings, unmapping or syncing a stale copy of
 * the state, a sync window past the end, a mapping left at unbind.  A
 * wrong direction on unmap or sync cannot be expressed: the state holds
 * the direction of phyr_map().
 *
 * The first error makes dma-debug WARN, so panic_on_warn (not exported:
 * the suite must be built in) is off around the code that provokes the
 * reports, and the console brackets them for the log checks.  Stale
 * states are made on a KUnit device, dma-direct and coherent, where
 * unmapping or syncing again touches nothing but dma-debug.
 */
static u32 phyr_map_provoked;

static void need_dma_debug(struct kunit *test)
{
	if (!IS_ENABLED(CONFIG_DMA_API_DEBUG))
		kunit_skip(test, "needs CONFIG_DMA_API_DEBUG");
#if IS_BUILTIN(CONFIG_PHYR_MAP_KUNIT_TEST)
	if (!debug_dma_phyr_active())
		kunit_skip(test, "DMA-API debugging is off");
#else
	kunit_skip(test, "needs the suite built in, for panic_on_warn");
#endif
}

static int set_panic_on_warn(int val)
{
	int old = 0;

#if IS_BUILTIN(CONFIG_PHYR_MAP_KUNIT_TEST)
	old = panic_on_warn;
	panic_on_warn = val;
#endif
	return old;
}

struct dma_debug_provoke {
	int panic_on_warn;
	u32 errors;
};

/* Start code that makes dma-debug report errors; nothing may assert in it. */
static void provoke_begin(struct dma_debug_provoke *p)
{
	u32 outstanding;

	pr_info("phyr_map: expected DMA-API reports: begin\n");
	p->panic_on_warn = set_panic_on_warn(0);
	debug_dma_counters(&p->errors, &outstanding);
}

/* End it: the number of errors dma-debug counted meanwhile. */
static u32 provoke_end(struct dma_debug_provoke *p)
{
	u32 errors, outstanding;

	debug_dma_counters(&errors, &outstanding);
	set_panic_on_warn(p->panic_on_warn);
	pr_info("phyr_map: expected DMA-API reports: end\n");
	phyr_map_provoked += errors - p->errors;
	return errors - p->errors;
}

/*
 * A correct sequence: map, sync windows and all, unmap.  dma-debug holds
 * one entry per piece, here per range of the list, and counts no error.
 */
static void debug_clean_sequence(struct kunit *test, struct device *dev)
{
	struct phyr_list *pl = test_list(test);
	struct phyr_map_counters before, mapped;
	struct phyr_dma *map;
	struct page **pages;
	unsigned int i;
	u64 total;

	pages = scattered_pages(test, test_list(test), 8);
	for (i = 0; i < 8; i++)
		test_add_range(test, pl, page_to_phys(pages[i]) + 64 * i,
			       PAGE_SIZE - 64 * i);
	total = phyr_list_length(pl);
	phyr_map_counters(&before);

	map = test_map_state(test);
	test_map(test, dev, pl, map, DMA_FROM_DEVICE);
	phyr_map_counters(&mapped);
	KUNIT_EXPECT_EQ_MSG(test, mapped.dma_outstanding - before.dma_outstanding,
			    (u32)phyr_list_nr_ranges(pl),
			    "dma-debug entries for %s: one per piece",
			    dev_name(dev));
	phyr_sync_for_cpu(map, 100, PAGE_SIZE);
	phyr_sync_for_device(map, 100, PAGE_SIZE);
	phyr_sync_for_cpu(map, total - 1, 1);
	phyr_sync_for_cpu(map, 0, total);
	phyr_sync_for_device(map, 0, total);
	phyr_unmap(map, 0);
	expect_counters(test, &before);
}

static void phyr_test_debug_clean(struct kunit *test)
{
	need_dma_debug(test);
	debug_clean_sequence(test, test_direct_dev(test));
	if (env.sw.pdev)
		debug_clean_sequence(test, &env.sw.pdev->dev);
}

/* The same page mapped twice for the device to write: cacheline EEXIST. */
static void phyr_test_debug_map_overlap(struct kunit *test)
{
	struct phyr_dma *first, *second;
	struct phyr_map_counters before;
	struct dma_debug_provoke p;
	struct phyr_list *pl;
	struct device *dev;
	u32 errors;
	int ret;

	need_dma_debug(test);
	dev = test_direct_dev(test);
	/* dma-debug leaves overlaps alone where kmalloc() may be bounced. */
	if (IS_ENABLED(CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC) &&
	    is_swiotlb_active(dev))
		kunit_skip(test, "dma-debug does not track overlaps here");
	pl = test_list(test);
	scattered_pages(test, pl, 1);
	phyr_map_counters(&before);
	first = test_map_state(test);
	second = test_map_state(test);
	test_map(test, dev, pl, first, DMA_FROM_DEVICE);

	provoke_begin(&p);
	ret = phyr_map(dev, pl, second, DMA_FROM_DEVICE, 0, GFP_KERNEL);
	errors = provoke_end(&p);

	KUNIT_EXPECT_GE_MSG(test, errors, 1U,
			    "no report of a page mapped twice");
	KUNIT_EXPECT_EQ(test, ret, 0);
	if (!ret)
		phyr_unmap(second, 0);
	phyr_unmap(first, 0);
	expect_counters_errors(test, &before, errors);
}

/*
 * A stale copy of a state, of an identity mapping: its unmap frees
 * nothing twice but the dma-debug entries.
 */
static struct phyr_dma *debug_stale_map(struct kunit *test,
					struct phyr_map_counters *before)
{
	struct phyr_list *pl;
	struct phyr_dma *map;
	struct device *dev;

	dev = test_direct_dev(test);
	if (is_swiotlb_force_bounce(dev))
		kunit_skip(test, "swiotlb=force: a stale state would free bounce slots twice");
	pl = test_list(test);
	scattered_pages(test, pl, 2);
	phyr_map_counters(before);
	map = test_map_state(test);
	test_map(test, dev, pl, map, DMA_FROM_DEVICE);
	KUNIT_ASSERT_PTR_EQ(test, dma_list(test, map),
			    (const struct phyr_list *)pl);
	return map;
}

/* phyr_unmap() of something that is not mapped (any more). */
static void phyr_test_debug_unmap_stale(struct kunit *test)
{
	struct phyr_map_counters before;
	struct dma_debug_provoke p;
	struct phyr_dma *map, stale;
	u32 errors;

	need_dma_debug(test);
	map = debug_stale_map(test, &before);
	stale = *map;
	phyr_unmap(map, 0);

	provoke_begin(&p);
	phyr_unmap(&stale, 0);
	errors = provoke_end(&p);

	KUNIT_EXPECT_GE_MSG(test, errors, 1U,
			    "no report of an unmap of nothing mapped");
	KUNIT_EXPECT_FALSE(test, phyr_dma_mapped(&stale));
	expect_counters_errors(test, &before, errors);
}

/* phyr_sync_for_cpu() of a mapping that is gone. */
static void phyr_test_debug_sync_stale(struct kunit *test)
{
	struct phyr_map_counters before;
	struct dma_debug_provoke p;
	struct phyr_dma *map, stale;
	u32 errors;

	need_dma_debug(test);
	map = debug_stale_map(test, &before);
	stale = *map;
	phyr_unmap(map, 0);

	provoke_begin(&p);
	phyr_sync_for_cpu(&stale, 0, phyr_dma_length(&stale));
	errors = provoke_end(&p);

	KUNIT_EXPECT_GE_MSG(test, errors, 1U,
			    "no report of a sync after unmap");
	expect_counters_errors(test, &before, errors);
}

/* A sync window that runs past the end of the mapping. */
static void phyr_test_debug_sync_outside(struct kunit *test)
{
	struct phyr_map_counters before;
	struct dma_debug_provoke p;
	struct phyr_dma *map;
	struct phyr_list *pl;
	struct device *dev;
	u32 errors;
	u64 total;

	need_dma_debug(test);
	dev = test_direct_dev(test);
	pl = test_list(test);
	scattered_pages(test, pl, 2);
	phyr_map_counters(&before);
	map = test_map_state(test);
	test_map(test, dev, pl, map, DMA_FROM_DEVICE);
	total = phyr_dma_length(map);

	provoke_begin(&p);
	phyr_sync_for_cpu(map, total - 10, 100);
	errors = provoke_end(&p);

	KUNIT_EXPECT_GE_MSG(test, errors, 1U,
			    "no report of a sync past the end");
	phyr_unmap(map, 0);
	expect_counters_errors(test, &before, errors);
}

/* A driver for the edu devices that binds and does nothing else. */
static struct pci_dev *leak_edu;

static int leak_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	if (!leak_edu)
		leak_edu = pci_dev_get(pdev);
	return 0;
}

static const struct pci_device_id leak_ids[] = {
	{ PCI_DEVICE(EDU_VENDOR, EDU_DEVICE) },
	{}
};

static struct pci_driver leak_driver = {
	.name = "phyr_map_kunit_edu",
	.id_table = leak_ids,
	.probe = leak_probe,
	.driver.probe_type = PROBE_FORCE_SYNCHRONOUS,
};

KUNIT_DEFINE_ACTION_WRAPPER(pci_unregister_driver_action,
			    pci_unregister_driver, struct pci_driver *);

static void leak_edu_put(void *unused)
{
	pci_dev_put(leak_edu);
	leak_edu = NULL;
}

/*
 * A mapping still there when its driver is unbound: dma-debug reports
 * the pending entries.  The mapping is unmapped afterwards, so that
 * nothing leaks.
 */
static void phyr_test_debug_unbind_leak(struct kunit *test)
{
	struct phyr_map_counters before;
	struct dma_debug_provoke p;
	struct phyr_list *pl;
	struct phyr_dma *map;
	u32 errors;

	need_dma_debug(test);
	pl = test_list(test);
	scattered_pages(test, pl, 2);
	test_add_action(test, leak_edu_put, NULL);
	KUNIT_ASSERT_EQ(test, 0, pci_register_driver(&leak_driver));
	test_add_action(test, pci_unregister_driver_action, &leak_driver);
	if (!leak_edu)
		kunit_skip(test, "no edu device (1234:11e8) to bind");
	phyr_map_counters(&before);
	map = test_map_state(test);
	test_map(test, &leak_edu->dev, pl, map, DMA_TO_DEVICE);

	provoke_begin(&p);
	kunit_release_action(test, pci_unregister_driver_action, &leak_driver);
	errors = provoke_end(&p);

	KUNIT_EXPECT_GE_MSG(test, errors, 1U,
			    "no report of a mapping left at unbind");
	phyr_unmap(map, 0);
	expect_counters_errors(test, &before, errors);
}

static int phyr_map_debug_suite_init(struct kunit_suite *suite)
{
	phyr_map_provoked = 0;
	return phyr_map_suite_init(suite);
}

static void phyr_map_debug_suite_exit(struct kunit_suite *suite)
{
	pr_info("phyr_map: provoked %u DMA-API errors\n", phyr_map_provoked);
	phyr_map_suite_exit(suite);
}

static struct kunit_case phyr_map_debug_cases[] = {
	KUNIT_CASE(phyr_test_debug_clean),
	KUNIT_CASE(phyr_test_debug_map_overlap),
	KUNIT_CASE(phyr_test_debug_unmap_stale),
	KUNIT_CASE(phyr_test_debug_sync_stale),
	KUNIT_CASE(phyr_test_debug_sync_outside),
	KUNIT_CASE(phyr_test_debug_unbind_leak),
	{}
};

static struct kunit_suite phyr_map_debug_suite = {
	.name = "phyr_map_debug",
	.suite_init = phyr_map_debug_suite_init,
	.suite_exit = phyr_map_debug_suite_exit,
	.test_cases = phyr_map_debug_cases,
};

/*
 * phyr_map_oracle: the DMA configurations of issue-free drivers, checked
 * against the DMA API itself.  phyr_map() and the existing DMA API map
 * the same memory for the same device, and must agree on every byte:
 * bounced or not, the same bus address on dma-direct, the same physical
 * page behind the IOMMU (iommu_iova_to_phys() of both), the same errno
 * class on failure, and nothing left behind by either after unmapping.
 * The lists are random but seeded; the seed is in every failure message.
 *
 * Devices the machine does not have are made from a KUnit device: one
 * with two bus_dma_regions at different offsets, one with legacy
 * dma_map_ops that refuse more than 64 KiB, one whose DMA mask is below
 * swiotlb, and two adjacent P2PDMA pgmaps with no provider behind them.
 */
#define ORACLE_LISTS	8
#define ORACLE_RANGES	24

/*
 * Two P2PDMA pgmaps of 2 MiB each, physically adjacent, in free physical
 * address space: struct pages for the list code to look at, and no
 * provider behind them, so they are never mapped for a device.
 */
struct fake_p2p {
	struct resource res;
	struct dev_pagemap pgmap[2];
};

#ifdef CONFIG_PCI_P2PDMA
static void fake_p2p_release(void *data)
{
	struct fake_p2p *f = data;

	release_resource(&f->res);
}
#endif

static struct fake_p2p *fake_p2p_pgmaps(struct kunit *test)
{
#ifdef CONFIG_PCI_P2PDMA
	struct fake_p2p *f = kunit_kzalloc(test, sizeof(*f), GFP_KERNEL);
	struct device *dev;
	unsigned int i;
	void *addr;
	int ret;

	KUNIT_ASSERT_NOT_NULL(test, f);
	f->res.name = "phyr_map_kunit fake p2p";
	f->res.flags = IORESOURCE_MEM;
	ret = allocate_resource(&iomem_resource, &f->res, 2 * SZ_2M, SZ_64G,
				SZ_256G - 1, SZ_2M, NULL, NULL);
	if (ret)
		kunit_skip(test, "no free physical address space: %d", ret);
	/* Released after the device has unmapped the pages. */
	test_add_action(test, fake_p2p_release, f);
	dev = kunit_device_register(test, "phyr_fake_p2p");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	for (i = 0; i < ARRAY_SIZE(f->pgmap); i++) {
		f->pgmap[i].type = MEMORY_DEVICE_PCI_P2PDMA;
		f->pgmap[i].range.start = f->res.start + i * SZ_2M;
		f->pgmap[i].range.end = f->pgmap[i].range.start + SZ_2M - 1;
		f->pgmap[i].nr_range = 1;
		addr = devm_memremap_pages(dev, &f->pgmap[i]);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, addr);
	}
	return f;
#else
	kunit_skip(test, "needs CONFIG_PCI_P2PDMA");
	return NULL;
#endif
}

/* The reference mapping of one piece of a range, by the DMA API. */
struct oracle_piece {
	phys_addr_t phys;
	u64 len;
	dma_addr_t addr;
	struct sg_table *sgt;	/* P2P: mapped with dma_map_sgtable() */
};

struct oracle_ref {
	struct device *dev;
	enum dma_data_direction dir;
	struct oracle_piece *p;
	unsigned int nr, cap;
};

static void oracle_ref_unmap(struct oracle_ref *ref)
{
	unsigned int i;

	for (i = 0; i < ref->nr; i++) {
		struct oracle_piece *p = &ref->p[i];

		if (p->sgt) {
			dma_unmap_sgtable(ref->dev, p->sgt, ref->dir, 0);
			sg_free_table(p->sgt);
			kfree(p->sgt);
		} else {
			dma_unmap_page(ref->dev, p->addr, p->len, ref->dir);
		}
	}
	ref->nr = 0;
}

/* One P2P range through dma_map_sgtable(), which does pci_p2pdma. */
static int oracle_ref_p2p(struct oracle_ref *ref, const struct phyr *r)
{
	struct oracle_piece *p = &ref->p[ref->nr];
	struct sg_table *sgt = kzalloc(sizeof(*sgt), GFP_KERNEL);
	int ret;

	if (!sgt || sg_alloc_table(sgt, 1, GFP_KERNEL)) {
		kfree(sgt);
		return -ENOMEM;
	}
	sg_set_page(sgt->sgl, pfn_to_page(PHYS_PFN(r->addr)), r->len,
		    offset_in_page(r->addr));
	ret = dma_map_sgtable(ref->dev, sgt, ref->dir, 0);
	if (ret) {
		sg_free_table(sgt);
		kfree(sgt);
		return ret;
	}
	*p = (struct oracle_piece) {
		.phys = r->addr, .len = r->len,
		.addr = sg_dma_address(sgt->sgl), .sgt = sgt,
	};
	ref->nr++;
	return 0;
}

/*
 * Map @pl range by range with the DMA API, as a careful driver would:
 * host memory with dma_map_page() in pieces of dma_max_mapping_size(),
 * P2P memory with dma_map_sgtable().  Returns 0, -EIO for a failed
 * dma_map_page(), or the errno of dma_map_sgtable(); on error nothing is
 * left mapped.
 */
static int oracle_ref_map(struct kunit *test, struct oracle_ref *ref,
			  const struct phyr_list *pl)
{
	u64 pmax = dma_max_mapping_size(ref->dev);
	struct phyr_iter iter;
	struct phyr r;
	int ret = 0;

	phyr_list_for_each(pl, &iter, r) {
		phys_addr_t phys;
		u64 n;

		KUNIT_ASSERT_LT(test, ref->nr, ref->cap);
		if (iter.flags & PHYR_RANGE_P2P) {
			ret = oracle_ref_p2p(ref, &r);
			if (ret)
				break;
			continue;
		}
		for (phys = r.addr; r.len; phys += n, r.len -= n) {
			struct oracle_piece *p = &ref->p[ref->nr];

			KUNIT_ASSERT_LT(test, ref->nr, ref->cap);
			n = min(r.len, pmax);
			p->addr = dma_map_page(ref->dev,
					       pfn_to_page(PHYS_PFN(phys)),
					       offset_in_page(phys), n,
					       ref->dir);
			if (dma_mapping_error(ref->dev, p->addr)) {
				ret = -EIO;
				break;
			}
			p->phys = phys;
			p->len = n;
			p->sgt = NULL;
			ref->nr++;
		}
		if (ret)
			break;
	}
	if (ret)
		oracle_ref_unmap(ref);
	return ret;
}

/* The reference DMA address of byte @phys, which the pieces hold. */
static bool oracle_ref_addr(const struct oracle_ref *ref, phys_addr_t phys,
			    dma_addr_t *addr, bool *bus)
{
	unsigned int i;

	for (i = 0; i < ref->nr; i++) {
		const struct oracle_piece *p = &ref->p[i];

		if (phys >= p->phys && phys - p->phys < p->len) {
			*addr = p->addr + (phys - p->phys);
			*bus = p->sgt && sg_dma_is_bus_address(p->sgt->sgl);
			return true;
		}
	}
	return false;
}

/* Where the device's access to @addr lands: IOMMU page table or offset. */
static phys_addr_t oracle_target(struct device *dev, dma_addr_t addr)
{
	if (use_dma_iommu(dev))
		return iommu_iova_to_phys(iommu_get_dma_domain(dev), addr);
	return dma_to_phys(dev, addr);
}

static bool oracle_bounced(struct device *dev, phys_addr_t target)
{
	return swiotlb_find_pool(dev, target);
}

/*
 * What phyr's mapping does with one byte of the list, recorded while it
 * is mapped: the DMA API's mapping of the same memory is made after
 * phyr_unmap(), for dma-debug reports two live mappings of a cacheline
 * that the device may write.
 */
struct oracle_sample {
	phys_addr_t phys;	/* the byte */
	dma_addr_t addr;	/* phyr's DMA address of it */
	phys_addr_t target;	/* where the device's access lands */
	bool bounced;
	bool bus;		/* a P2P bus address */
};

/*
 * The places compared in a range of @len bytes at @addr: its first and
 * last byte and every page boundary.  The place after @at.
 */
static u64 oracle_next(phys_addr_t addr, u64 len, u64 at)
{
	if (at == len - 1)
		return len;
	return min(len - 1, (u64)PAGE_ALIGN(addr + at + 1) - addr);
}

static unsigned int oracle_nr_places(const struct phyr_list *pl)
{
	struct phyr_iter iter;
	unsigned int n = 0;
	struct phyr r;
	u64 at;

	phyr_list_for_each(pl, &iter, r)
		for (at = 0; at < r.len; at = oracle_next(r.addr, r.len, at))
			n++;
	return n;
}

static void oracle_record(const struct phyr_list *pl,
			  const struct phyr_dma *map, struct oracle_sample *s)
{
	const struct phyr_list *dma;
	struct device *dev = map->dev;
	struct phyr_iter iter;
	struct phyr_list one;
	struct phyr r;
	u64 off = 0, at;

	dma = phyr_dma_list(map, &one);
	phyr_list_for_each(pl, &iter, r) {
		for (at = 0; at < r.len; at = oracle_next(r.addr, r.len, at)) {
			unsigned int flags;
			struct phyr d = range_at(dma, off + at, &flags);

			s->phys = r.addr + at;
			s->addr = d.addr;
			s->bus = flags & PHYR_RANGE_P2P;
			s->target = s->bus ? 0 : oracle_target(dev, d.addr);
			s->bounced = !s->bus && oracle_bounced(dev, s->target);
			s++;
		}
		off += r.len;
	}
}

/*
 * Compare phyr's recorded mapping with the DMA API's at every place.
 * Returns the number of places where they disagree, the first reported.
 */
static unsigned int oracle_compare(struct kunit *test, u32 seed,
				   const struct oracle_ref *ref,
				   const struct oracle_sample *s,
				   unsigned int nr)
{
	struct device *dev = ref->dev;
	unsigned int bad = 0, i;

	for (i = 0; i < nr; i++, s++) {
		phys_addr_t tr;
		dma_addr_t ra;
		bool bus, ok;

		if (!oracle_ref_addr(ref, s->phys, &ra, &bus)) {
			ok = false;
		} else if (bus || s->bus) {
			/* A P2P bus address: the same one. */
			ok = bus && s->bus && s->addr == ra;
		} else {
			tr = oracle_target(dev, ra);
			ok = s->bounced == oracle_bounced(dev, tr);
			if (ok && !s->bounced)
				ok = s->target == s->phys && tr == s->phys &&
				     (use_dma_iommu(dev) || s->addr == ra);
		}
		if (!ok && bad++ < 4)
			KUNIT_FAIL(test, "seed %#x: %s: %pa: phyr %pad%s%s, DMA API %pad%s",
				   seed, dev_name(dev), &s->phys, &s->addr,
				   s->bounced ? " (bounced)" : "",
				   s->bus ? " (bus)" : "", &ra,
				   bus ? " (bus)" : "");
	}
	return bad;
}

struct oracle_dev {
	struct device *dev;
	struct phyr_map_edu *edu;	/* for real DMA, or NULL */
	bool p2p;			/* lists get CMB ranges */
};

static u64 swiotlb_used(struct device *dev)
{
#if defined(CONFIG_SWIOTLB) && defined(CONFIG_DEBUG_FS)
	if (dev->dma_io_tlb_mem)
		return atomic_long_read(&dev->dma_io_tlb_mem->total_used);
#endif
	return 0;
}

static void free_order2_action(void *page)
{
	__free_pages(page, 2);
}

/*
 * Real DMA through the mapping: the edu copies the start of the first
 * range to the start of the last, through bounce buffers if there are.
 */
static void oracle_edu_copy(struct kunit *test, struct phyr_map_edu *edu,
			    const struct phyr_list *pl,
			    const struct phyr_dma *map)
{
	struct phyr first = range_at(pl, 0, NULL), last = {};
	u64 total = phyr_list_length(pl), off = 0, last_off = 0;
	struct phyr_iter iter;
	struct phyr r;
	u8 *pattern;
	u32 len;

	phyr_list_for_each(pl, &iter, r) {
		last = r;
		last_off = off;
		off += r.len;
	}
	if (!last_off)
		return;
	len = min3(first.len, last.len, 512ULL);
	pattern = kunit_kmalloc(test, len, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, pattern);
	get_random_bytes(pattern, len);
	memcpy(phys_to_virt(first.addr), pattern, len);
	memset(phys_to_virt(last.addr), 0, len);
	phyr_sync_for_device(map, 0, total);
	edu_copy(test, edu, map, 0, last_off, len);
	phyr_sync_for_cpu(map, 0, total);
	KUNIT_EXPECT_EQ_MSG(test, memcmp(phys_to_virt(last.addr), pattern, len),
			    0, "edu copy of %u bytes through the mapping", len);
}

static void oracle_add(struct kunit *test, struct phyr_list *pl,
		       struct rnd_state *rnd, bool p2p)
{
	unsigned int kind = prandom_u32_state(rnd) % (p2p ? 6 : 5);
	unsigned int i, n, order;
	struct folio *folio;
	struct page *page;
	u32 off, len;
	void *buf;
	int ret;

	switch (kind) {
	case 0:		/* scattered pages */
		scattered_pages(test, pl, 1 + prandom_u32_state(rnd) % 8);
		break;
	case 1:		/* a THP-sized folio, or part of a small one */
		order = prandom_u32_state(rnd) % 2 ? get_order(SZ_2M) :
			1 + prandom_u32_state(rnd) % 4;
		folio = folio_alloc(GFP_KERNEL | __GFP_NOWARN, order);
		if (!folio)
			folio = folio_alloc(GFP_KERNEL, 0);
		KUNIT_ASSERT_NOT_NULL(test, folio);
		test_add_action(test, free_folio_action, folio);
		off = prandom_u32_state(rnd) % 2 ? 0 :
		      prandom_u32_state(rnd) % folio_size(folio);
		ret = phyr_list_append_folio(pl, folio, off,
					     folio_size(folio) - off, GFP_KERNEL);
		KUNIT_ASSERT_EQ(test, ret, 0);
		break;
	case 2:		/* byte-granular ranges, some of them below 4 GiB */
		n = 1 + prandom_u32_state(rnd) % 3;
		for (i = 0; i < n; i++) {
			page = alloc_page(GFP_KERNEL | (i % 2 ? GFP_DMA32 : 0));
			KUNIT_ASSERT_NOT_NULL(test, page);
			test_add_action(test, free_page_action, page);
			off = prandom_u32_state(rnd) % PAGE_SIZE;
			len = 1 + prandom_u32_state(rnd) % (PAGE_SIZE - off);
			test_add_range(test, pl, page_to_phys(page) + off, len);
		}
		break;
	case 3:		/* small kmalloc() buffers */
		n = 1 + prandom_u32_state(rnd) % 4;
		for (i = 0; i < n; i++) {
			len = 8 + prandom_u32_state(rnd) % 200;
			buf = kunit_kmalloc(test, len, GFP_KERNEL);
			KUNIT_ASSERT_NOT_NULL(test, buf);
			test_add_range(test, pl, virt_to_phys(buf), len);
		}
		break;
	case 4:		/* host pages that touch: one range */
		page = alloc_pages(GFP_KERNEL, 2);
		KUNIT_ASSERT_NOT_NULL(test, page);
		test_add_action(test, free_order2_action, page);
		test_add_range(test, pl, page_to_phys(page) + PAGE_SIZE / 2,
			       3 * PAGE_SIZE);
		break;
	default:	/* P2P memory, by page or, as plain memory, by address */
		len = PAGE_SIZE * (1 + prandom_u32_state(rnd) % 4);
		buf = cmb_alloc(test, len);
		if (prandom_u32_state(rnd) % 2)
			test_add_page(test, pl, virt_to_page(buf));
		else
			test_add_range(test, pl, virt_to_phys(buf), len);
		break;
	}
}

/*
 * Map random lists for @od with phyr_map(), then with the DMA API, and
 * compare: the decision and the translation of every place; real DMA
 * through phyr's mapping when the device is an edu; and that each leaves
 * nothing behind after unmapping.
 */
static void oracle_run(struct kunit *test, const struct oracle_dev *od,
		       u32 seed)
{
	static const enum dma_data_direction dirs[] = {
		DMA_BIDIRECTIONAL, DMA_TO_DEVICE, DMA_FROM_DEVICE,
	};
	unsigned int l, i, mapped = 0, failed = 0, places = 0, bounced = 0;
	struct device *dev = od->dev;
	struct rnd_state rnd;

	prandom_seed_state(&rnd, seed);
	for (l = 0; l < ORACLE_LISTS; l++) {
		struct phyr_list *pl = test_list(test);
		struct oracle_ref ref = {
			.dev = dev,
			.dir = dirs[prandom_u32_state(&rnd) % ARRAY_SIZE(dirs)],
			.cap = 4 * ORACLE_RANGES + 64,
		};
		struct oracle_sample *samples = NULL;
		struct phyr_map_counters before;
		dma_addr_t first = 0;
		struct phyr_dma *map;
		unsigned int nr = 0;
		u64 used;
		int ret, rret;

		ref.p = kunit_kcalloc(test, ref.cap, sizeof(*ref.p),
				      GFP_KERNEL);
		KUNIT_ASSERT_NOT_NULL(test, ref.p);
		while (phyr_list_nr_ranges(pl) < ORACLE_RANGES / 2)
			oracle_add(test, pl, &rnd, od->p2p);
		phyr_map_counters(&before);
		used = swiotlb_used(dev);

		map = test_map_state(test);
		ret = phyr_map(dev, pl, map, ref.dir, 0, GFP_KERNEL);
		if (!ret) {
			nr = oracle_nr_places(pl);
			samples = kunit_kcalloc(test, nr, sizeof(*samples),
						GFP_KERNEL);
			KUNIT_ASSERT_NOT_NULL(test, samples);
			oracle_record(pl, map, samples);
			first = range_at(dma_list(test, map), 0, NULL).addr;
			if (od->edu && ref.dir == DMA_BIDIRECTIONAL &&
			    !phyr_list_has_p2p(pl))
				oracle_edu_copy(test, od->edu, pl, map);
			phyr_unmap(map, 0);
			KUNIT_EXPECT_FALSE(test, phyr_dma_mapped(map));
			if (use_dma_iommu(dev) && !samples[0].bus)
				KUNIT_EXPECT_EQ_MSG(test,
						    oracle_target(dev, first), 0,
						    "seed %#x list %u: IOVA left mapped",
						    seed, l);
		}
		expect_counters(test, &before);
		KUNIT_EXPECT_EQ_MSG(test, swiotlb_used(dev), used,
				    "seed %#x list %u: swiotlb slots left", seed, l);

		rret = oracle_ref_map(test, &ref, pl);
		KUNIT_EXPECT_EQ_MSG(test, ret, rret,
				    "seed %#x list %u: phyr_map %pe, DMA API %pe",
				    seed, l, ERR_PTR(ret), ERR_PTR(rret));
		if (!ret && !rret) {
			mapped++;
			places += nr;
			for (i = 0; i < nr; i++)
				bounced += samples[i].bounced;
			oracle_compare(test, seed, &ref, samples, nr);
		} else {
			failed++;
		}
		oracle_ref_unmap(&ref);
		expect_counters(test, &before);
	}
	kunit_info(test, "%s: %u lists mapped by both (%u places compared, %u bounced), %u refused by both",
		   dev_name(dev), mapped, places, bounced, failed);
}

static void edu_mask_restore(void *data)
{
	struct device *dev = data;

	dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
}

static void phyr_test_oracle_edu(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct oracle_dev od = {
		.dev = &edu->pdev->dev,
		.edu = edu,
		.p2p = env.nvme && pci_has_p2pmem(env.nvme),
	};

	oracle_run(test, &od, 0x5eed0001);
}

/*
 * A 32-bit DMA mask: with memory above 4 GiB and no IOMMU, swiotlb
 * bounces the part of a list above the mask only.
 */
static void phyr_test_oracle_edu32(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct oracle_dev od = { .dev = &edu->pdev->dev, .edu = edu };

	test_add_action(test, edu_mask_restore, od.dev);
	KUNIT_ASSERT_EQ(test, 0, dma_set_mask_and_coherent(od.dev,
							   DMA_BIT_MASK(32)));
	if (!use_dma_iommu(od.dev) && max_pfn <= PHYS_PFN(SZ_4G))
		kunit_info(test, "no memory above 4 GiB: nothing to bounce");
	oracle_run(test, &od, 0x5eed0032);
}

/*
 * An untrusted edu (as a Thunderbolt device would be): ranges that do not
 * fill whole IOMMU granules are bounced, as iommu_dma_map_sg() bounces
 * them, or refused by both when the boot has no swiotlb.  No P2P: for an
 * untrusted device dma_map_sg() maps P2P pages like host memory, which
 * phyr does not.
 */
static void phyr_test_oracle_untrusted(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct oracle_dev od = { .dev = &edu->pdev->dev, .edu = edu };

	if (!use_dma_iommu(od.dev))
		kunit_skip(test, "edu is not behind an IOMMU");
	test_add_action(test, untrusted_restore, edu->pdev);
	edu->pdev->untrusted = 1;
	oracle_run(test, &od, 0x5eed7b7b);
}

/* A KUnit device: dma-direct and coherent, also in the IOMMU boots. */
static void phyr_test_oracle_direct(struct kunit *test)
{
	struct oracle_dev od = { .dev = test_direct_dev(test) };

	oracle_run(test, &od, 0x5eedd1c7);
}

/*
 * A non-coherent device, where the architecture has them (arm64): real
 * cache maintenance, and small kmalloc() buffers bounced through swiotlb
 * (CONFIG_DMA_BOUNCE_UNALIGNED_KMALLOC), by phyr as by the DMA API.
 */
static void phyr_test_oracle_noncoherent(struct kunit *test)
{
#ifdef HAVE_NONCOHERENT_DMA
	struct oracle_dev od = { .dev = test_direct_dev(test) };

	od.dev->dma_coherent = false;
	oracle_run(test, &od, 0x5eedc0c0);
#else
	kunit_skip(test, "DMA is always coherent on this architecture");
#endif
}

/*
 * Two bus_dma_regions at different offsets, the boundary inside a page:
 * a range that spans both is translated byte by byte as the DMA API
 * translates each byte (dma_map_page() of that one byte).
 */
static void phyr_test_map_dma_regions(struct kunit *test)
{
	struct device *dev = test_direct_dev(test);
	struct phyr_list *pl = test_list(test);
	struct phyr_map_counters before;
	struct bus_dma_region *regions;
	unsigned int bad = 0, n = 0;
	phys_addr_t base, split;
	struct phyr_dma *map;
	struct page *page;
	u64 off;

	if (is_swiotlb_force_bounce(dev))
		kunit_skip(test, "swiotlb=force: nothing is translated");
	page = alloc_pages(GFP_KERNEL, 2);
	KUNIT_ASSERT_NOT_NULL(test, page);
	test_add_action(test, free_order2_action, page);
	base = page_to_phys(page);
	split = base + PAGE_SIZE + 256;
	/* Freed with the device, by the driver core. */
	regions = kcalloc(3, sizeof(*regions), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, regions);
	regions[0] = (struct bus_dma_region) {
		.cpu_start = 0, .dma_start = 0, .size = split,
	};
	regions[1] = (struct bus_dma_region) {
		.cpu_start = split, .dma_start = split + SZ_16G,
		.size = SZ_1T,
	};
	dev->dma_range_map = regions;
	test_add_range(test, pl, base + 100, 3 * PAGE_SIZE);
	phyr_map_counters(&before);

	map = test_map_state(test);
	test_map(test, dev, pl, map, DMA_TO_DEVICE);
	KUNIT_EXPECT_EQ(test, phyr_list_nr_ranges(dma_list(test, map)), 2UL);
	for (off = 0; off < 3 * PAGE_SIZE; off += 61, n++) {
		phys_addr_t phys = base + 100 + off;
		dma_addr_t ref = dma_map_page(dev, pfn_to_page(PHYS_PFN(phys)),
					      offset_in_page(phys), 1,
					      DMA_TO_DEVICE);

		KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, ref));
		if (dma_at(test, map, off, 1) != ref && bad++ < 4)
			KUNIT_FAIL(test, "byte %llu (%pa): phyr %pad, DMA API %pad",
				   off, &phys, &(dma_addr_t){ dma_at(test, map, off, 1) },
				   &ref);
		dma_unmap_page(dev, ref, 1, DMA_TO_DEVICE);
	}
	KUNIT_EXPECT_EQ_MSG(test, bad, 0U, "of %u bytes", n);
	phyr_unmap(map, 0);
	expect_counters(test, &before);
}

/*
 * Legacy dma_map_ops that refuse to map more than 64 KiB at once, as
 * Xen's swiotlb refuses more than its slots, and say so through
 * max_mapping_size.  Addresses are the physical ones plus 1 TiB.
 */
#define OPS_MAX		SZ_64K
#define OPS_BASE	SZ_1T

static atomic_t ops_live;
static atomic_t ops_calls;
static int ops_fail_at;

static dma_addr_t test_ops_map_page(struct device *dev, struct page *page,
				    unsigned long offset, size_t size,
				    enum dma_data_direction dir,
				    unsigned long attrs)
{
	if (size > OPS_MAX ||
	    atomic_inc_return(&ops_calls) == ops_fail_at)
		return DMA_MAPPING_ERROR;
	atomic_inc(&ops_live);
	return page_to_phys(page) + offset + OPS_BASE;
}

static void test_ops_unmap_page(struct device *dev, dma_addr_t addr,
				size_t size, enum dma_data_direction dir,
				unsigned long attrs)
{
	atomic_dec(&ops_live);
}

static size_t test_ops_max_mapping_size(struct device *dev)
{
	return OPS_MAX;
}

static const struct dma_map_ops test_ops = {
	.map_page = test_ops_map_page,
	.unmap_page = test_ops_unmap_page,
	.max_mapping_size = test_ops_max_mapping_size,
};

static void phyr_test_map_ops(struct kunit *test)
{
	struct phyr_map_counters before;
	struct phyr_list *pl, *p2p;
	struct phyr_dma_iter diter;
	unsigned int bad = 0, i, nr;
	dma_addr_t addr, *got;
	struct phyr_dma *map;
	struct device *dev;
	struct page *page;
	int ret;
	u64 len;

	if (!IS_ENABLED(CONFIG_ARCH_HAS_DMA_OPS))
		kunit_skip(test, "needs CONFIG_ARCH_HAS_DMA_OPS");
	dev = test_direct_dev(test);
	set_dma_ops(dev, &test_ops);
	KUNIT_ASSERT_EQ(test, dma_max_mapping_size(dev), (size_t)OPS_MAX);
	pl = test_list(test);
	scattered_pages(test, pl, 3);
	test_folios(test, pl, 1, get_order(SZ_256K));
	page = scattered_pages(test, test_list(test), 1)[0];
	test_add_range(test, pl, page_to_phys(page) + 5, 100);
	phyr_map_counters(&before);
	atomic_set(&ops_calls, 0);
	ops_fail_at = 0;

	/* 3 pages, 256 KiB in 4 pieces, 100 bytes: 8 pieces. */
	map = test_map_state(test);
	test_map(test, dev, pl, map, DMA_BIDIRECTIONAL);
	KUNIT_EXPECT_EQ(test, atomic_read(&ops_live), 8);
	nr = DIV_ROUND_UP(phyr_list_length(pl), PAGE_SIZE / 2);
	got = kunit_kcalloc(test, nr, sizeof(*got), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, got);
	for (i = 0; i < nr; i++)
		got[i] = dma_at(test, map, i * (PAGE_SIZE / 2), 1);
	phyr_dma_for_each_range(map, &diter, addr, len)
		KUNIT_EXPECT_GE(test, addr, (dma_addr_t)OPS_BASE);
	phyr_unmap(map, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ops_live), 0);
	expect_counters(test, &before);

	/* The DMA API through the same ops, after: no two live mappings. */
	for (i = 0; i < nr; i++) {
		struct phyr r = range_at(pl, i * (PAGE_SIZE / 2), NULL);
		dma_addr_t ref = dma_map_page(dev, pfn_to_page(PHYS_PFN(r.addr)),
					      offset_in_page(r.addr), 1,
					      DMA_BIDIRECTIONAL);

		KUNIT_ASSERT_FALSE(test, dma_mapping_error(dev, ref));
		if (got[i] != ref)
			bad++;
		dma_unmap_page(dev, ref, 1, DMA_BIDIRECTIONAL);
	}
	KUNIT_EXPECT_EQ(test, bad, 0U);

	/* The ops refuse the 6th piece: -EIO, and the 5 before unmapped. */
	atomic_set(&ops_calls, 0);
	ops_fail_at = 6;
	ret = phyr_map(dev, pl, map, DMA_TO_DEVICE, 0, GFP_KERNEL);
	ops_fail_at = 0;
	KUNIT_EXPECT_EQ(test, ret, -EIO);
	KUNIT_EXPECT_FALSE(test, phyr_dma_mapped(map));
	KUNIT_EXPECT_EQ(test, atomic_read(&ops_live), 0);
	expect_counters(test, &before);

	/* No P2P through legacy ops: -EREMOTEIO, as documented. */
	p2p = test_list(test);
	test_add_range(test, p2p, fake_p2p_pgmaps(test)->res.start, PAGE_SIZE);
	ret = phyr_map(dev, p2p, map, DMA_TO_DEVICE, 0, GFP_KERNEL);
	KUNIT_EXPECT_EQ(test, ret, -EREMOTEIO);
	KUNIT_EXPECT_EQ(test, atomic_read(&ops_live), 0);
	expect_counters(test, &before);
}

/*
 * A device that cannot reach swiotlb (a DMA mask that ends below it): the
 * bounce fails as dma_map_sgtable() fails, with -EIO and not -ENOMEM, for
 * it will never succeed.  swiotlb warns about it once.
 */
static void phyr_test_map_swiotlb_overflow(struct kunit *test)
{
	struct device *dev = test_direct_dev(test);
	struct phyr_list *pl = test_list(test);
	struct phyr_map_counters before;
	struct dma_debug_provoke p;
	dma_addr_t pool = DMA_MAPPING_ERROR;
	struct sg_table sgt;
	struct phyr_dma *map;
	struct page *page;
	u64 mask;
	int ret, ref;

	if (!is_swiotlb_active(dev))
		kunit_skip(test, "no swiotlb in this boot");
#ifdef CONFIG_SWIOTLB
	pool = phys_to_dma(dev, dev->dma_io_tlb_mem->defpool.start);
#endif
	/* The largest mask that reaches neither the page nor swiotlb. */
	page = scattered_pages(test, pl, 1)[0];
	mask = DMA_BIT_MASK(min(ilog2(phys_to_dma(dev, page_to_phys(page))),
				ilog2(pool)));
	if (dma_set_mask_and_coherent(dev, mask))
		kunit_skip(test, "a DMA mask of %#llx is not supported here", mask);
	KUNIT_ASSERT_EQ(test, 0, sg_alloc_table(&sgt, 1, GFP_KERNEL));
	sg_set_page(sgt.sgl, page, PAGE_SIZE, 0);
	phyr_map_counters(&before);

	map = test_map_state(test);
	provoke_begin(&p);
	ret = phyr_map(dev, pl, map, DMA_TO_DEVICE, 0, GFP_KERNEL);
	ref = dma_map_sgtable(dev, &sgt, DMA_TO_DEVICE, 0);
	if (!ref)
		dma_unmap_sgtable(dev, &sgt, DMA_TO_DEVICE, 0);
	provoke_end(&p);
	sg_free_table(&sgt);
	KUNIT_EXPECT_EQ(test, ret, -EIO);
	KUNIT_EXPECT_EQ(test, ref, -EIO);
	KUNIT_EXPECT_FALSE(test, phyr_dma_mapped(map));
	expect_counters(test, &before);
}

/*
 * P2P memory of two providers, physically adjacent: ranges of one never
 * merge with the other's, whichever append adds them, and plain
 * phyr_list_append() of P2P memory stores it as P2P.
 */
static void phyr_test_list_p2p_providers(struct kunit *test)
{
	struct fake_p2p *f = fake_p2p_pgmaps(test);
	phys_addr_t mid = f->res.start + SZ_2M;
	struct page *pages[4];
	struct phyr_list *pl;
	unsigned int flags, i;
	int ret;

	pl = test_list(test);
	test_add_range(test, pl, f->res.start + 64, 100);
	KUNIT_EXPECT_TRUE(test, phyr_list_has_p2p(pl));
	range_at(pl, 0, &flags);
	KUNIT_EXPECT_TRUE(test, flags & PHYR_RANGE_P2P);

	pl = test_list(test);
	test_add_range(test, pl, mid - PAGE_SIZE, PAGE_SIZE);
	test_add_range(test, pl, mid, PAGE_SIZE);
	test_add_range(test, pl, mid + PAGE_SIZE, PAGE_SIZE);
	KUNIT_EXPECT_EQ_MSG(test, phyr_list_nr_ranges(pl), 2UL,
			    "phyr_list_append() across providers");

	pl = test_list(test);
	ret = phyr_list_append_p2p(pl, mid - PAGE_SIZE, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_EQ(test, ret, 0);
	ret = phyr_list_append_p2p(pl, mid, PAGE_SIZE, GFP_KERNEL);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_EXPECT_EQ_MSG(test, phyr_list_nr_ranges(pl), 2UL,
			    "phyr_list_append_p2p() across providers");

	pl = test_list(test);
	for (i = 0; i < ARRAY_SIZE(pages); i++)
		pages[i] = pfn_to_page(PHYS_PFN(mid) - 2 + i);
	KUNIT_ASSERT_EQ(test, 0, phyr_list_append_pages(pl, pages, 4, 0,
							4 * PAGE_SIZE,
							GFP_KERNEL));
	KUNIT_EXPECT_EQ_MSG(test, phyr_list_nr_ranges(pl), 2UL,
			    "phyr_list_append_pages() across providers");
	range_at(pl, 3 * PAGE_SIZE, &flags);
	KUNIT_EXPECT_TRUE(test, flags & PHYR_RANGE_P2P);
}

/*
 * The IOMMU enforces the direction: an edu write into a DMA_TO_DEVICE
 * mapping faults and leaves the memory as it was, while the same write
 * into a DMA_FROM_DEVICE mapping of the same page lands.
 */
static void phyr_test_iommu_permissions(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct device *dev = &edu->pdev->dev;
	struct phyr_list *pl = test_list(test), *src = test_list(test);
	struct phyr_map_counters before;
	struct phyr_dma *map, *smap;
	const u32 len = EDU_XFER_MAX;
	struct page **pages;
	u8 *old, *new;

	if (!use_dma_iommu(dev))
		kunit_skip(test, "edu is not behind an IOMMU");
	pages = scattered_pages(test, pl, 1);
	old = page_address(pages[0]);
	new = page_address(scattered_pages(test, src, 1)[0]);
	get_random_bytes(old, PAGE_SIZE);
	get_random_bytes(new, PAGE_SIZE);
	phyr_map_counters(&before);

	/* The edu's buffer gets the new bytes. */
	smap = test_map_state(test);
	test_map(test, dev, src, smap, DMA_TO_DEVICE);
	KUNIT_ASSERT_EQ(test, 0, edu_dma(edu->bar, dma_at(test, smap, 0, len),
					 0, len, false));

	map = test_map_state(test);
	test_map(test, dev, pl, map, DMA_TO_DEVICE);
	KUNIT_ASSERT_EQ(test, 0, edu_dma(edu->bar, dma_at(test, map, 0, len),
					 0, len, true));
	phyr_unmap(map, 0);
	KUNIT_EXPECT_NE_MSG(test, memcmp(old, new, len), 0,
			    "a device write went through a DMA_TO_DEVICE mapping");

	test_map(test, dev, pl, map, DMA_FROM_DEVICE);
	KUNIT_ASSERT_EQ(test, 0, edu_dma(edu->bar, dma_at(test, map, 0, len),
					 0, len, true));
	phyr_unmap(map, 0);
	KUNIT_EXPECT_EQ_MSG(test, memcmp(old, new, len), 0,
			    "the write did not land through DMA_FROM_DEVICE");
	phyr_unmap(smap, 0);
	expect_counters(test, &before);
}

static struct kunit_case phyr_map_oracle_cases[] = {
	KUNIT_CASE(phyr_test_list_p2p_providers),
	KUNIT_CASE(phyr_test_map_dma_regions),
	KUNIT_CASE(phyr_test_map_ops),
	KUNIT_CASE(phyr_test_map_swiotlb_overflow),
	KUNIT_CASE(phyr_test_oracle_direct),
	KUNIT_CASE(phyr_test_oracle_noncoherent),
	KUNIT_CASE(phyr_test_oracle_edu),
	KUNIT_CASE(phyr_test_oracle_edu32),
	KUNIT_CASE(phyr_test_oracle_untrusted),
	KUNIT_CASE(phyr_test_iommu_permissions),
	{}
};

static struct kunit_suite phyr_map_oracle_suite = {
	.name = "phyr_map_oracle",
	.suite_init = phyr_map_suite_init,
	.suite_exit = phyr_map_suite_exit,
	.test_cases = phyr_map_oracle_cases,
};

/*
 * phyr_map_bench: phyr_map()/phyr_unmap() against dma_map_sgtable()/
 * dma_unmap_sgtable() on the same pages, in the same boot, for whatever
 * backend the edu has in this boot.  Prints tables; the only failures are
 * failures to map.  Skipped unless booted with phyr_map_kunit.bench_mb=N.
 *
 * Every figure is the median of BENCH_ROUNDS rounds, with the fastest and
 * slowest round beside it; a round maps and unmaps with both APIs, which
 * take turns going first.  Lines:
 *
 *   phyr_map_bench: BACKEND KIND MiB ...      the table, largest size
 *   phyr_map_bench_curve: BACKEND KIND ...    map times of every size
 *   phyr_map_bench_seek: ranges N ...         seek cost, phyr and sg
 */
#define BENCH_ROUNDS	7

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

static int bench_cmp_u64(const void *a, const void *b)
{
	u64 x = *(const u64 *)a, y = *(const u64 *)b;

	return x < y ? -1 : x > y;
}

/* Median, fastest and slowest of @n samples (sorts them). */
struct bench_stat {
	u64 med;
	u64 min;
	u64 max;
};

static struct bench_stat bench_stat(u64 *t, unsigned int n)
{
	sort(t, n, sizeof(*t), bench_cmp_u64, NULL);
	return (struct bench_stat){ t[n / 2], t[0], t[n - 1] };
}

/* @a / @b, with its hundredths in @frac, for "%llu.%02u". */
static u64 bench_ratio(u64 a, u64 b, u32 *frac)
{
	return div_u64_rem(div64_u64(a * 100, max(b, 1ULL)), 100, frac);
}

struct bench_result {
	struct bench_stat pm, pu, sm, su;
	unsigned long ptes;
	size_t phyr_alloc;
	long map_calls;
};

/*
 * The PTEs a mapping of @bp's first @nr pages writes: one per page, one
 * per large folio where the IOMMU maps those with large pages.
 */
static unsigned long bench_ptes(struct device *dev, struct bench_pages *bp,
				unsigned long nr)
{
	if (!use_dma_iommu(dev))
		return 0;
	if (bp->order && iommu_get_dma_domain(dev)->pgsize_bitmap &
	    (PAGE_SIZE << bp->order))
		return nr >> bp->order;
	return nr;
}

/* Map and unmap the first @nr pages of @bp with both APIs, in turns. */
static int bench_run(struct kunit *test, struct device *dev,
		     struct bench_pages *bp, unsigned long nr,
		     struct bench_result *res)
{
	u64 pm[BENCH_ROUNDS], pu[BENCH_ROUNDS], sm[BENCH_ROUNDS], su[BENCH_ROUNDS];
	struct phyr_list *pl = test_list(test);
	struct phyr_map_counters c0, c1;
	struct phyr_dma map;
	struct sg_table sgt;
	unsigned int r, k;
	u64 t0, t1, t2;
	int ret;

	ret = phyr_list_append_pages(pl, bp->pages, nr, 0,
				     (u64)nr << PAGE_SHIFT, GFP_KERNEL);
	KUNIT_ASSERT_EQ(test, ret, 0);
	ret = sg_alloc_table_from_pages(&sgt, bp->pages, nr, 0,
					(u64)nr << PAGE_SHIFT, GFP_KERNEL);
	KUNIT_ASSERT_EQ(test, ret, 0);

	/*
	 * The IOMMU map events of one phyr_map(), counted apart: no probe
	 * is registered on the iommu:map event while the rounds are timed.
	 */
	KUNIT_ASSERT_EQ(test, iommu_count_start(), 0);
	phyr_map_counters(&c0);
	ret = phyr_map(dev, pl, &map, DMA_TO_DEVICE, 0, GFP_KERNEL);
	phyr_map_counters(&c1);
	iommu_count_stop();
	KUNIT_ASSERT_EQ_MSG(test, ret, 0, "phyr_map: %pe", ERR_PTR(ret));
	phyr_unmap(&map, 0);
	res->map_calls = c1.map_calls - c0.map_calls;

	res->phyr_alloc = 0;
	for (r = 0; r < BENCH_ROUNDS; r++) {
		for (k = 0; k < 2; k++) {
			if ((r + k) % 2 == 0) {
				t0 = ktime_get_ns();
				ret = phyr_map(dev, pl, &map, DMA_TO_DEVICE, 0,
					       GFP_KERNEL);
				t1 = ktime_get_ns();
				if (ret) {
					KUNIT_FAIL(test, "phyr_map: %pe",
						   ERR_PTR(ret));
					goto out;
				}
				/* The state is the caller's: only the DMA list. */
				if (map.list)
					res->phyr_alloc = sizeof(*map.list) +
						phyr_list_mem_bytes(map.list);
				phyr_unmap(&map, 0);
				t2 = ktime_get_ns();
				pm[r] = t1 - t0;
				pu[r] = t2 - t1;
			} else {
				t0 = ktime_get_ns();
				ret = dma_map_sgtable(dev, &sgt, DMA_TO_DEVICE, 0);
				t1 = ktime_get_ns();
				if (ret) {
					KUNIT_FAIL(test, "dma_map_sgtable: %d",
						   ret);
					goto out;
				}
				dma_unmap_sgtable(dev, &sgt, DMA_TO_DEVICE, 0);
				t2 = ktime_get_ns();
				sm[r] = t1 - t0;
				su[r] = t2 - t1;
			}
		}
	}
	res->pm = bench_stat(pm, BENCH_ROUNDS);
	res->pu = bench_stat(pu, BENCH_ROUNDS);
	res->sm = bench_stat(sm, BENCH_ROUNDS);
	res->su = bench_stat(su, BENCH_ROUNDS);
	res->ptes = bench_ptes(dev, bp, nr);
	if (nr == bp->nr)
		kunit_info(test, "phyr_map_bench: %s ranges phyr %lu sgt %lu, list B phyr %zu sgt %zu, iommu_map calls phyr %ld sgt %lu\n",
			   bp->order ? "2M" : "4k", phyr_list_nr_ranges(pl),
			   (unsigned long)sgt.orig_nents,
			   phyr_list_mem_bytes(pl),
			   (size_t)sgt.orig_nents * sizeof(struct scatterlist),
			   res->map_calls,
			   use_dma_iommu(dev) ? sgt_runs(&sgt) : 0);
out:
	sg_free_table(&sgt);
	phyr_list_destroy(pl);
	return ret;
}

/*
 * What writing @n PTEs costs at the least: 8-byte stores into as many
 * page-sized tables as they fill, in a loop.  Median of the rounds.
 */
static u64 bench_pte_floor(struct bench_pages *bp, unsigned long n)
{
	unsigned long per = PAGE_SIZE / sizeof(u64), i, j;
	u64 t[BENCH_ROUNDS], t0;
	unsigned int r;

	if (!n || DIV_ROUND_UP(n, per) > bp->nr)
		return 0;
	for (r = 0; r < BENCH_ROUNDS; r++) {
		t0 = ktime_get_ns();
		for (i = 0; i < n; i += per) {
			u64 *table = page_address(bp->pages[i / per]);

			for (j = 0; j < per && i + j < n; j++)
				WRITE_ONCE(table[j], ((i + j) << PAGE_SHIFT) | 3);
		}
		t[r] = ktime_get_ns() - t0;
	}
	return bench_stat(t, BENCH_ROUNDS).med;
}

static void bench_print(struct kunit *test, struct device *dev,
			const char *kind, unsigned long nr,
			const struct bench_result *res, u64 floor)
{
	const char *be = use_dma_iommu(dev) ? "iommu" : "direct";
	unsigned long ptes = max(res->ptes, 1UL);
	u32 map_frac, unmap_frac;
	u64 map = bench_ratio(res->sm.med, res->pm.med, &map_frac);
	u64 unmap = bench_ratio(res->su.med, res->pu.med, &unmap_frac);

	kunit_info(test, "phyr_map_bench: %-6s %-3s %5lu MiB | map ns phyr %llu (%llu-%llu) sgt %llu (%llu-%llu) = %llu.%02ux | unmap ns phyr %llu (%llu-%llu) sgt %llu (%llu-%llu) = %llu.%02ux | ptes %lu ns/pte phyr %llu sgt %llu floor %llu | map alloc B phyr %zu sgt 0\n",
		   be, kind, nr >> (20 - PAGE_SHIFT),
		   res->pm.med, res->pm.min, res->pm.max,
		   res->sm.med, res->sm.min, res->sm.max,
		   map, map_frac,
		   res->pu.med, res->pu.min, res->pu.max,
		   res->su.med, res->su.min, res->su.max,
		   unmap, unmap_frac,
		   res->ptes, div64_u64(res->pm.med, ptes),
		   div64_u64(res->sm.med, ptes), div64_u64(floor, ptes),
		   res->phyr_alloc);
}

/* A curve point at every size up to the full one, and its table line. */
static void bench_sizes(struct kunit *test, struct device *dev,
			const char *kind, struct bench_pages *bp)
{
	const char *be = use_dma_iommu(dev) ? "iommu" : "direct";
	unsigned long nr = min(max(1UL << bp->order, 256UL), bp->nr);
	struct bench_result res;

	for (;;) {
		if (bench_run(test, dev, bp, nr, &res))
			return;
		kunit_info(test, "phyr_map_bench_curve: %s %s bytes %llu phyr_ns %llu sgt_ns %llu\n",
			   be, kind, (u64)nr << PAGE_SHIFT, res.pm.med,
			   res.sm.med);
		if (nr == bp->nr)
			break;
		nr = min(nr * 4, bp->nr);
	}
	bench_print(test, dev, kind, bp->nr, &res,
		    bench_pte_floor(bp, res.ptes));
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
	bench_sizes(test, &edu->pdev->dev, "4k", bp);
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
	bench_sizes(test, &edu->pdev->dev, "2M", bp);
}

/* One timed dma_map_sgtable() with its unmap; U64_MAX if it failed. */
static u64 bench_sgt_map(struct kunit *test, struct device *dev,
			 struct sg_table *sgt)
{
	u64 t0 = ktime_get_ns(), t;
	int ret;

	ret = dma_map_sgtable(dev, sgt, DMA_TO_DEVICE, 0);
	t = ktime_get_ns() - t0;
	if (ret) {
		KUNIT_FAIL(test, "dma_map_sgtable: %d", ret);
		return U64_MAX;
	}
	dma_unmap_sgtable(dev, sgt, DMA_TO_DEVICE, 0);
	return t;
}

/* One range of the NVMe CMB, 32 MiB of P2P memory, in turns, 101 rounds. */
#define BENCH_P2P_ROUNDS	101

static void phyr_bench_p2p(struct kunit *test)
{
	struct phyr_map_edu *edu = need_edu(test, &env.sw);
	struct device *dev = &edu->pdev->dev;
	unsigned long nr = SZ_32M >> PAGE_SHIFT, i;
	struct bench_stat p, q;
	struct page **pages;
	struct phyr_list *pl;
	struct sg_table sgt;
	struct phyr_dma map;
	u64 *pm, *sm, t0, t1, x;
	u32 frac;
	unsigned int r;
	void *cmb;
	int ret;

	if (!bench_mb)
		kunit_skip(test, "boot with phyr_map_kunit.bench_mb=N to run");
	cmb = cmb_alloc(test, SZ_32M);
	pages = kunit_kcalloc(test, nr, sizeof(*pages), GFP_KERNEL);
	pm = kunit_kcalloc(test, BENCH_P2P_ROUNDS, sizeof(*pm), GFP_KERNEL);
	sm = kunit_kcalloc(test, BENCH_P2P_ROUNDS, sizeof(*sm), GFP_KERNEL);
	KUNIT_ASSERT_TRUE(test, pages && pm && sm);
	for (i = 0; i < nr; i++)
		pages[i] = virt_to_page(cmb) + i;
	pl = test_list(test);
	ret = phyr_list_append_pages(pl, pages, nr, 0, SZ_32M, GFP_KERNEL);
	KUNIT_ASSERT_EQ(test, ret, 0);
	KUNIT_ASSERT_EQ(test, phyr_list_nr_ranges(pl), 1UL);
	ret = sg_alloc_table_from_pages(&sgt, pages, nr, 0, SZ_32M, GFP_KERNEL);
	KUNIT_ASSERT_EQ(test, ret, 0);
	for (r = 0; r < BENCH_P2P_ROUNDS; r++) {
		/* The two APIs take turns going first. */
		if (r % 2) {
			sm[r] = bench_sgt_map(test, dev, &sgt);
			if (sm[r] == U64_MAX)
				break;
		}
		t0 = ktime_get_ns();
		ret = phyr_map(dev, pl, &map, DMA_TO_DEVICE, 0, GFP_KERNEL);
		t1 = ktime_get_ns();
		if (ret) {
			KUNIT_FAIL(test, "phyr_map: %pe", ERR_PTR(ret));
			break;
		}
		phyr_unmap(&map, 0);
		pm[r] = t1 - t0;
		if (!(r % 2)) {
			sm[r] = bench_sgt_map(test, dev, &sgt);
			if (sm[r] == U64_MAX)
				break;
		}
	}
	if (r == BENCH_P2P_ROUNDS) {
		p = bench_stat(pm, r);
		q = bench_stat(sm, r);
		x = bench_ratio(q.med, p.med, &frac);
		kunit_info(test, "phyr_map_bench: %-6s p2p    32 MiB | map ns phyr %llu (%llu-%llu) sgt %llu (%llu-%llu) = %llu.%02ux | sgt entries %u\n",
			   use_dma_iommu(dev) ? "iommu" : "direct",
			   p.med, p.min, p.max, q.med, q.min, q.max,
			   x, frac, sgt.orig_nents);
	}
	sg_free_table(&sgt);
}

/*
 * Seek cost against the number of ranges: phyr_iter_seek() to random
 * offsets of a list of n scattered pages, and the walk a scatterlist
 * needs to get there, 1,000 seeks each.
 */
static void phyr_bench_seek(struct kunit *test)
{
	unsigned long nr = (unsigned long)bench_mb << (20 - PAGE_SHIFT), n, i;
	struct bench_pages *bp;
	u64 t0, tp, ts, off, sum = 0;
	struct scatterlist *sg;
	struct phyr_iter iter;
	struct sg_table sgt;
	struct phyr_list *pl;
	unsigned int k;
	int ret;

	if (!bench_mb)
		kunit_skip(test, "boot with phyr_map_kunit.bench_mb=N to run");
	bp = bench_alloc(test, nr, 0);
	for (i = bp->nr - 1; i > 0; i--)
		swap(bp->pages[i], bp->pages[get_random_u32_below(i + 1)]);
	for (n = 64; n <= nr; n *= 4) {
		pl = test_list(test);
		ret = phyr_list_append_pages(pl, bp->pages, n, 0,
					     (u64)n << PAGE_SHIFT, GFP_KERNEL);
		KUNIT_ASSERT_EQ(test, ret, 0);
		ret = sg_alloc_table_from_pages(&sgt, bp->pages, n, 0,
						(u64)n << PAGE_SHIFT, GFP_KERNEL);
		KUNIT_ASSERT_EQ(test, ret, 0);
		t0 = ktime_get_ns();
		for (k = 0; k < 1000; k++) {
			off = (u64)get_random_u32_below(n) << PAGE_SHIFT |
			      get_random_u32_below(PAGE_SIZE);
			phyr_iter_init(&iter, pl);
			phyr_iter_seek(&iter, off);
			sum += iter.skip;
		}
		tp = ktime_get_ns() - t0;
		t0 = ktime_get_ns();
		for (k = 0; k < 1000; k++) {
			off = (u64)get_random_u32_below(n) << PAGE_SHIFT |
			      get_random_u32_below(PAGE_SIZE);
			for (sg = sgt.sgl; sg && off >= sg->length;
			     sg = sg_next(sg))
				off -= sg->length;
			sum += off;
		}
		ts = ktime_get_ns() - t0;
		kunit_info(test, "phyr_map_bench_seek: ranges %lu phyr_ns %llu sgt_ns %llu\n",
			   phyr_list_nr_ranges(pl), div64_u64(tp, 1000),
			   div64_u64(ts, 1000));
		sg_free_table(&sgt);
		phyr_list_destroy(pl);
		if (n * 4 > nr)
			break;
	}
	/* Keep the loops. */
	KUNIT_EXPECT_NE(test, sum, 0ULL);
}

static struct kunit_case phyr_map_bench_cases[] = {
	KUNIT_CASE(phyr_bench_pages),
	KUNIT_CASE(phyr_bench_folios),
	KUNIT_CASE(phyr_bench_p2p),
	KUNIT_CASE(phyr_bench_seek),
	{}
};

/* No probe on the iommu:map event while the benchmark is timed. */
static int phyr_map_bench_suite_init(struct kunit_suite *suite)
{
	phyr_map_env_init();
	return 0;
}

static void phyr_map_bench_suite_exit(struct kunit_suite *suite)
{
	phyr_map_env_exit();
}

static struct kunit_suite phyr_map_bench_suite = {
	.name = "phyr_map_bench",
	.suite_init = phyr_map_bench_suite_init,
	.suite_exit = phyr_map_bench_suite_exit,
	.test_cases = phyr_map_bench_cases,
};

kunit_test_suites(&phyr_map_test_suite, &phyr_map_debug_suite,
		  &phyr_map_oracle_suite, &phyr_map_bench_suite);

MODULE_DESCRIPTION("KUnit tests for phyr_map()");
MODULE_LICENSE("GPL");
