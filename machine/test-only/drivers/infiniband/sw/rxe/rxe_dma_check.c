// SPDX-License-Identifier: GPL-2.0
/*
 * TEST ONLY.  Not part of the phyr series: mk/tree.sh adds this file and
 * the patches beside it to the test kernel (build/linux), never to the
 * series (mk/series.sh), so that rdma-core's clients drive the DMA side
 * of ib_umem_get() through soft-RoCE.
 *
 * rxe moves data with the CPU and never DMA-maps a umem.  With
 * rdma_rxe.dma_check=1, rxe registers every user MR for a stand-in
 * ib_device whose only field is its DMA device, in turn QEMU's edu
 * (behind the IOMMU, if there is one) and a dma-direct root device.  rxe
 * still moves the data through the umem's CPU pages.  After registration
 * every DMA block of rdma_umem_for_each_dma_block(), at 4 KiB and at the
 * page size ib_umem_find_best_pgsz() picks for the MR's iova, is
 * translated back, 4 KiB at a time, with iommu_iova_to_phys() or
 * dma_to_phys(), and compared with the page pin_user_pages_fast() returns
 * for that address now; that page must also be the one rxe uses,
 * ib_umem_page().  Nothing is taken from the umem's own DMA list but the
 * blocks under test.  An MR that shares a page with one mapped for a
 * stand-in is registered for rxe itself (see rxe_dma_check_begin()).
 * The counts are read from /sys/module/rdma_rxe/parameters/dma_check_stats.
 */

#include <linux/dma-direct.h>
#include <linux/iommu.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/xarray.h>
#include <rdma/ib_umem.h>
#include <rdma/ib_verbs.h>
#include <rdma/iter.h>

#include "rxe_dma_check.h"

#define EDU_VENDOR	0x1234
#define EDU_DEVICE	0x11e8

static bool dma_check;
module_param(dma_check, bool, 0444);
MODULE_PARM_DESC(dma_check,
		 "test only: DMA-map user MRs for the edu and a dma-direct device, check every block");

enum { CHECK_EDU, CHECK_DIRECT, NR_CHECK };

static struct check_dev {
	struct ib_device ibdev;		/* only .dma_device is set */
	struct iommu_domain *domain;	/* NULL: dma-direct */
	unsigned long mrs, blocks, pieces, bad;
} check_devs[NR_CHECK];

struct rxe_dma_check {
	struct check_dev *c;
	struct page **pages;	/* pinned here: the expected view */
	unsigned long npages;
};

static DEFINE_MUTEX(check_lock);
/* pfn -> the rxe_dma_check of the MR mapped for a stand-in that has it */
static DEFINE_XARRAY(check_active);
static struct device_dma_parameters direct_parms;
static unsigned int check_next;
static unsigned long skipped;
static bool check_ready;

static int check_setup(void)
{
	struct pci_dev *pdev = pci_get_device(EDU_VENDOR, EDU_DEVICE, NULL);
	struct device *dev;
	int ret;

	if (pdev) {
		/* the reference is kept for the life of the kernel */
		struct iommu_domain *domain = iommu_get_domain_for_dev(&pdev->dev);

		ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
		if (ret)
			return ret;
		/* an identity or blocking domain is no DMA API path */
		if (domain && !(domain->type & __IOMMU_DOMAIN_DMA_API))
			return -ENODEV;
		check_devs[CHECK_EDU].ibdev.dma_device = &pdev->dev;
		check_devs[CHECK_EDU].domain = domain;
	}
	dev = root_device_register("rxe_dma_check");
	if (IS_ERR(dev))
		return PTR_ERR(dev);
	dev->dma_mask = &dev->coherent_dma_mask;
	dev->dma_parms = &direct_parms;
	ret = dma_set_mask_and_coherent(dev, DMA_BIT_MASK(64));
	if (ret || iommu_get_domain_for_dev(dev))
		return ret ?: -ENODEV;
	check_devs[CHECK_DIRECT].ibdev.dma_device = dev;
	return 0;
}

/* The stand-in for the next MR that is checked, if there is one. */
static struct check_dev *check_pick(void)
{
	unsigned int i;

	if (!check_ready) {
		if (check_setup())
			pr_err("rxe_dma_check: no stand-in DMA devices\n");
		check_ready = true;
	}
	for (i = 0; i < NR_CHECK; i++) {
		struct check_dev *c = &check_devs[check_next++ % NR_CHECK];

		if (c->ibdev.dma_device)
			return c;
	}
	return NULL;
}

static void check_forget(struct rxe_dma_check *chk, unsigned long n)
{
	unsigned long i;

	for (i = 0; i < n; i++)
		xa_erase(&check_active, page_to_pfn(chk->pages[i]));
}

/*
 * Pin the pages of [@start, @start + @length) as the expected view of
 * the MR, and pick a stand-in device for it, unless one of its pages
 * belongs to an MR that is mapped for a stand-in already: dma-debug
 * rightly reports two DMA_BIDIRECTIONAL mappings of one cache line
 * ("overlapping mappings aren't supported"), and user space registers
 * MRs that share pages (rping's buffers do).  Such an MR is registered
 * for rxe itself, as without the check, and counted as skipped.
 */
struct rxe_dma_check *rxe_dma_check_begin(u64 start, u64 length)
{
	u64 first = start & PAGE_MASK;
	unsigned long npages, done = 0, i;
	struct rxe_dma_check *chk;

	if (!dma_check || !length || start + length < start)
		return NULL;
	npages = (PAGE_ALIGN(start + length) - first) >> PAGE_SHIFT;
	chk = kzalloc(sizeof(*chk), GFP_KERNEL);
	if (!chk)
		return NULL;
	chk->pages = kvmalloc_array(npages, sizeof(*chk->pages), GFP_KERNEL);
	if (!chk->pages)
		goto out_free;
	while (done < npages) {
		long n = pin_user_pages_fast(first + (done << PAGE_SHIFT),
					     npages - done, 0,
					     chk->pages + done);

		if (n <= 0)
			goto out_unpin;
		done += n;
	}
	chk->npages = npages;

	mutex_lock(&check_lock);
	chk->c = check_pick();
	if (!chk->c)
		goto out_unlock;
	for (i = 0; i < npages; i++) {
		if (xa_insert(&check_active, page_to_pfn(chk->pages[i]),
			      chk, GFP_KERNEL)) {
			check_forget(chk, i);
			skipped++;
			goto out_unlock;
		}
	}
	mutex_unlock(&check_lock);
	return chk;

out_unlock:
	mutex_unlock(&check_lock);
out_unpin:
	unpin_user_pages(chk->pages, done);
	kvfree(chk->pages);
out_free:
	kfree(chk);
	return NULL;
}

struct ib_device *rxe_dma_check_device(struct rxe_dma_check *chk,
				       struct ib_device *ibdev)
{
	return chk ? &chk->c->ibdev : ibdev;
}

/* After the MR's umem is released (or was never made). */
void rxe_dma_check_end(struct rxe_dma_check *chk)
{
	if (!chk)
		return;
	mutex_lock(&check_lock);
	check_forget(chk, chk->npages);
	mutex_unlock(&check_lock);
	unpin_user_pages(chk->pages, chk->npages);
	kvfree(chk->pages);
	kfree(chk);
}

static phys_addr_t check_phys(struct check_dev *c, dma_addr_t dma)
{
	if (c->domain)
		return iommu_iova_to_phys(c->domain, dma);
	return dma_to_phys(c->ibdev.dma_device, dma);
}

/*
 * The blocks at @pgsz, for the hardware address @virt of umem->address:
 * each 4 KiB piece of a block that lies in the umem's pages must
 * translate to the page @pages holds for it.
 */
static void check_blocks(struct check_dev *c, struct ib_umem *umem,
			 struct page **pages, unsigned long pgsz, u64 virt)
{
	u64 first = umem->address & PAGE_MASK;
	u64 last = first + ((u64)ib_umem_num_pages(umem) << PAGE_SHIFT);
	u64 hw = ALIGN_DOWN(virt, pgsz);
	struct ib_block_iter biter;
	size_t nr = 0;

	rdma_umem_for_each_dma_block(umem, &biter, pgsz) {
		dma_addr_t blk = rdma_block_iter_dma_address(&biter);
		u64 k;

		if (blk & (pgsz - 1))
			c->bad++;
		for (k = 0; k < pgsz; k += SZ_4K) {
			u64 va = umem->address + (hw + k - virt);
			phys_addr_t want;

			if (va < first || va >= last)
				continue;
			want = page_to_phys(pages[(va - first) >> PAGE_SHIFT]) +
			       offset_in_page(va);
			c->pieces++;
			if (check_phys(c, blk + k) != want) {
				if (!c->bad)
					pr_err("rxe_dma_check: va %#llx at page size %lu: %pad, want %pa\n",
					       va, pgsz, &blk, &want);
				c->bad++;
			}
		}
		hw += pgsz;
		nr++;
	}
	c->blocks += nr;
	if (nr != ib_umem_num_dma_blocks(umem, pgsz))
		c->bad++;
}

void rxe_dma_check_umem(struct rxe_dma_check *chk, struct ib_umem *umem,
			u64 iova)
{
	const unsigned long bitmap = SZ_4K | SZ_64K | SZ_2M | SZ_1G;
	struct check_dev *c;
	unsigned long i, pgsz;

	if (!chk)
		return;
	c = chk->c;
	mutex_lock(&check_lock);
	c->mrs++;
	if (umem->ibdev != &c->ibdev ||
	    ib_umem_num_pages(umem) != chk->npages) {
		c->bad++;
		goto out;
	}
	/* the page rxe moves the data through */
	for (i = 0; i < chk->npages; i++) {
		size_t off = i ? (i << PAGE_SHIFT) - ib_umem_offset(umem) : 0;

		if (ib_umem_page(umem, off) != chk->pages[i])
			c->bad++;
	}
	check_blocks(c, umem, chk->pages, PAGE_SIZE, umem->address);
	pgsz = ib_umem_find_best_pgsz(umem, bitmap, iova);
	if (!pgsz)
		c->bad++;
	else if (pgsz != PAGE_SIZE)
		check_blocks(c, umem, chk->pages, pgsz, iova);
out:
	mutex_unlock(&check_lock);
}

static int stats_get(char *buf, const struct kernel_param *kp)
{
	int len = 0;
	unsigned int i;

	mutex_lock(&check_lock);
	for (i = 0; i < NR_CHECK; i++) {
		struct check_dev *c = &check_devs[i];
		const char *name = i == CHECK_DIRECT ? "direct" :
				   c->domain ? "edu-iommu" : "edu-direct";

		len += sysfs_emit_at(buf, len,
				     "%s mrs %lu blocks %lu pieces %lu mismatches %lu\n",
				     name, c->mrs, c->blocks, c->pieces, c->bad);
	}
	len += sysfs_emit_at(buf, len, "skipped %lu\n", skipped);
	mutex_unlock(&check_lock);
	return len;
}

static const struct kernel_param_ops stats_ops = { .get = stats_get };
module_param_cb(dma_check_stats, &stats_ops, NULL, 0444);
