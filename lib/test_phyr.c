// SPDX-License-Identifier: GPL-2.0
/*
 * Test driver for phyr lists of pinned user memory and their DMA mappings
 *
 * Used by tools/testing/selftests/phyr; the uAPI is lib/test_phyr_uapi.h.
 */

#include <linux/dma-mapping.h>
#include <linux/highmem.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/iommu.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/miscdevice.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/pagemap.h>
#include <linux/pci.h>
#include <linux/pci-p2pdma.h>
#include <linux/phyr-dma.h>
#include <linux/phyr-pin.h>
#include <linux/phyr.h>
#include <linux/random.h>
#include <linux/scatterlist.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/siphash.h>
#include <linux/sizes.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "test_phyr_edu.h"
#include "test_phyr_uapi.h"

/**
 * DOC: The phyr test driver
 *
 * Each open file of /dev/test_phyr holds at most one pinned user buffer:
 * a phyr list made by phyr_pin_user() and, on request, the same buffer
 * pinned a second time into an sg_table the way ib_umem_get() builds one,
 * so that both can be mapped, timed and compared on the same memory in
 * the same boot.  More user ranges can be appended to the list, as a
 * driver does for the iovecs of one request.  The buffer can be mapped on
 * one of the QEMU "edu" DMA engines of the test machine
 * (machine/x86_64.qemu-args) at a time, with phyr_map() into a struct
 * phyr_dma of the file and optionally dma_map_sgtable(), and the edu can
 * be made to copy a pattern through the phyr mapping.  Closing the file
 * unmaps and unpins whatever it still holds.
 *
 * The pins are charged to the opener's pinned_vm against RLIMIT_MEMLOCK,
 * as ib_umem_get() charges them.  Memory pinned without
 * PHYR_TEST_PIN_WRITE is mapped DMA_TO_DEVICE and never written, by the
 * CPU or the edu.
 *
 * Apart from that state, PHYR_TEST_IOC_EXAMPLE runs the example of
 * Documentation/core-api/phyr.rst, phyr_test_example(), or its
 * scatterlist equivalent on a user buffer.
 *
 * The edu devices are not bound to a driver; this one claims them with
 * pci_enable_device() when the first file is opened.  Each edu transfer
 * takes a QEMU timer tick (about 100 ms under TCG), so a check samples a
 * few places of the buffer rather than all of it.
 */

/*
 * The sg_table maps the same pages a second time, only to be timed: the
 * device never uses it, and DMA-API debugging objects to two writable
 * mappings of a cacheline unless CPU syncs are skipped.
 */
#define PHYR_TEST_SGT_ATTRS	DMA_ATTR_SKIP_CPU_SYNC

struct phyr_test_edu {
	struct pci_dev *pdev;
	void __iomem *bar;
	struct mutex lock;	/* one transfer at a time */
};

static struct {
	struct mutex lock;	/* lookup of the devices */
	bool probed;
	struct phyr_test_edu edu[PHYR_TEST_NR_DEVS];
	struct pci_dev *p2p;
} env = {
	.lock = __MUTEX_INITIALIZER(env.lock),
};

struct phyr_test_file {
	struct mutex lock;	/* everything below */
	bool pinned;
	bool dirty;		/* pinned for write */
	struct mm_struct *mm;	/* charged for the pins, while pinned */
	unsigned long charged;	/* pages in mm->pinned_vm */
	bool has_sgt;
	struct phyr_list pl;
	struct sg_append_table sgt;
	struct phyr_test_edu *edu;	/* mapped on, or NULL */
	struct phyr_dma map;		/* of @pl, while @edu is set */
	bool sgt_mapped;
	bool sgt_first;			/* mapped and unmapped before @pl */
	unsigned int nr_maps;		/* with the sg_table: whose turn */
	struct phyr_test_stats stats;
};

static bool phyr_test_near(struct pci_dev *a, struct pci_dev *b)
{
	struct pci_dev *ua = pci_upstream_bridge(a);
	struct pci_dev *ub = pci_upstream_bridge(b);

	return ua && ub && pci_upstream_bridge(ua) &&
	       pci_upstream_bridge(ua) == pci_upstream_bridge(ub);
}

static int phyr_test_edu_init(struct phyr_test_edu *edu, struct pci_dev *pdev)
{
	int ret;

	ret = pci_enable_device(pdev);
	if (ret)
		return ret;
	ret = dma_set_mask_and_coherent(&pdev->dev, DMA_BIT_MASK(64));
	if (ret)
		goto out_disable;
	/*
	 * Like an RDMA device, and like the sg_tables built here: segments
	 * up to 4 GiB.  The edu itself moves at most EDU_XFER_MAX at a time.
	 */
	dma_set_max_seg_size(&pdev->dev, UINT_MAX);
	edu->bar = pci_iomap(pdev, 0, 0);
	if (!edu->bar) {
		ret = -ENOMEM;
		goto out_disable;
	}
	pci_set_master(pdev);
	edu->pdev = pci_dev_get(pdev);
	mutex_init(&edu->lock);
	return 0;

out_disable:
	pci_disable_device(pdev);
	return ret;
}

/* Find the devices of the test machine, once. */
static void phyr_test_probe(void)
{
	struct pci_dev *pdev = NULL;

	mutex_lock(&env.lock);
	if (env.probed)
		goto out_unlock;
	env.probed = true;
	for_each_pci_dev(pdev) {
		if (pci_has_p2pmem(pdev)) {
			env.p2p = pci_dev_get(pdev);
			pci_dev_put(pdev);
			break;
		}
	}
	pdev = NULL;
	while ((pdev = pci_get_device(EDU_VENDOR, EDU_DEVICE, pdev))) {
		int i = env.p2p && phyr_test_near(pdev, env.p2p) ?
			PHYR_TEST_DEV_EDU_SWITCH : PHYR_TEST_DEV_EDU_ROOT;

		if (!env.edu[i].pdev)
			phyr_test_edu_init(&env.edu[i], pdev);
	}
out_unlock:
	mutex_unlock(&env.lock);
}

static void phyr_test_release_devices(void)
{
	int i;

	for (i = 0; i < PHYR_TEST_NR_DEVS; i++) {
		struct phyr_test_edu *edu = &env.edu[i];

		if (!edu->pdev)
			continue;
		pci_clear_master(edu->pdev);
		pci_iounmap(edu->pdev, edu->bar);
		pci_disable_device(edu->pdev);
		pci_dev_put(edu->pdev);
		edu->pdev = NULL;
	}
	pci_dev_put(env.p2p);
	env.p2p = NULL;
	env.probed = false;
}

static bool phyr_test_dev_iommu(struct device *dev)
{
	struct iommu_domain *domain = iommu_get_domain_for_dev(dev);

	return domain && domain->type != IOMMU_DOMAIN_IDENTITY;
}

static int phyr_test_info(void __user *uarg)
{
	struct phyr_test_info info = {};
	int i;

	for (i = 0; i < PHYR_TEST_NR_DEVS; i++) {
		struct pci_dev *pdev = env.edu[i].pdev;

		if (!pdev)
			continue;
		strscpy(info.dev[i].name, pci_name(pdev));
		info.dev[i].flags = PHYR_TEST_DEV_PRESENT;
		if (phyr_test_dev_iommu(&pdev->dev))
			info.dev[i].flags |= PHYR_TEST_DEV_IOMMU;
		if (env.p2p &&
		    pci_p2pdma_distance(env.p2p, &pdev->dev, false) >= 0)
			info.dev[i].flags |= PHYR_TEST_DEV_P2P;
	}
	if (env.p2p)
		strscpy(info.p2p_name, pci_name(env.p2p));
	return copy_to_user(uarg, &info, sizeof(info)) ? -EFAULT : 0;
}

/* The ranges of @pl by the smallest entry form they fit in lib/phyr.c. */
static void phyr_test_classify(const struct phyr_list *pl, u64 *class)
{
	struct phyr_iter iter;
	struct phyr r;

	phyr_list_for_each(pl, &iter, r) {
		bool aligned = !(((u64)r.addr | r.len) & ~PAGE_MASK);

		if (iter.flags)
			class[3]++;
		else if (aligned && r.len <= 8 * PAGE_SIZE)
			class[0]++;
		else if (aligned && r.len <= (PAGE_SIZE / 4) * PAGE_SIZE)
			class[1]++;
		else if (r.len <= SZ_512M)
			class[2]++;
		else
			class[3]++;
	}
}

/*
 * A digest of the ranges of @pl, in order, so that userspace can tell
 * that a list did not change.
 */
/*
 * Keyed with a random key of this boot: equal lists hash alike, but the
 * hash of a one-page pin cannot be searched back to the physical address,
 * which /proc/PID/pagemap hides from unprivileged users.
 */
static siphash_key_t phyr_test_hash_key;

static u64 phyr_test_hash(const struct phyr_list *pl)
{
	struct phyr_iter iter;
	struct phyr r;
	u64 hash = 0;

	phyr_list_for_each(pl, &iter, r)
		hash = siphash_3u64(hash ^ r.addr, r.len, iter.flags,
				    &phyr_test_hash_key);
	return hash;
}

/* Storage of an sg_table: each chunk of its chain, as allocated. */
static size_t phyr_test_sgt_bytes(struct sg_table *sgt)
{
	struct scatterlist *chunk = sgt->sgl, *sg;
	size_t bytes = 0;

	while (chunk) {
		struct folio *folio = virt_to_folio(chunk);

		if (folio_test_slab(folio))
			bytes += ksize(chunk);
		else
			bytes += folio_size(folio);
		for (sg = chunk; !sg_is_chain(sg) && !sg_is_last(sg); sg++)
			;
		chunk = sg_is_chain(sg) ? sg_chain_ptr(sg) : NULL;
	}
	return bytes;
}

/* Unpin per entry and free, as ib_umem_release() does. */
static void phyr_test_unpin_sgt(struct phyr_test_file *tf, bool dirty)
{
	struct scatterlist *sg;
	unsigned int i;

	for_each_sgtable_sg(&tf->sgt.sgt, sg, i) {
		unsigned long npages = DIV_ROUND_UP(sg->offset + sg->length,
						    PAGE_SIZE);

		unpin_user_page_range_dirty_lock(sg_page(sg), npages,
						 dirty &&
						 !is_pci_p2pdma_page(sg_page(sg)));
	}
	sg_free_append_table(&tf->sgt);
}

/* Pin the buffer a second time, into an sg_table, as ib_umem_get() does. */
static int phyr_test_pin_sgt(struct phyr_test_file *tf, unsigned long start,
			     u64 len, unsigned int gup_flags)
{
	unsigned long addr = start & PAGE_MASK, offset = offset_in_page(start);
	unsigned long npages = (offset + len - 1) / PAGE_SIZE + 1;
	struct page **pages;
	int ret = 0;

	if (npages > UINT_MAX)
		return -EINVAL;
	pages = (struct page **)__get_free_page(GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	memset(&tf->sgt, 0, sizeof(tf->sgt));
	while (npages) {
		long pinned = pin_user_pages_fast(addr,
						  min(npages, PAGE_SIZE /
						      sizeof(struct page *)),
						  gup_flags, pages);
		u64 bytes;

		if (pinned <= 0) {
			ret = pinned ? pinned : -EFAULT;
			break;
		}
		bytes = min_t(u64, ((u64)pinned << PAGE_SHIFT) - offset, len);
		ret = sg_alloc_append_table_from_pages(&tf->sgt, pages, pinned,
						       offset, bytes,
						       UINT_MAX,
						       npages - pinned,
						       GFP_KERNEL);
		if (ret) {
			unpin_user_pages(pages, pinned);
			break;
		}
		npages -= pinned;
		addr += (unsigned long)pinned << PAGE_SHIFT;
		len -= bytes;
		offset = 0;
	}
	free_page((unsigned long)pages);
	if (ret)
		phyr_test_unpin_sgt(tf, false);
	return ret;
}

/* Memory pinned read-only is only ever read, by the device too. */
static enum dma_data_direction phyr_test_dir(const struct phyr_test_file *tf)
{
	return tf->dirty ? DMA_BIDIRECTIONAL : DMA_TO_DEVICE;
}

/*
 * Charge @npages to the caller's pinned_vm, within RLIMIT_MEMLOCK unless
 * it has CAP_IPC_LOCK, as ib_umem_get() does; the file keeps the mm for
 * phyr_test_uncharge().
 */
static int phyr_test_charge(struct phyr_test_file *tf, unsigned long npages)
{
	unsigned long limit = rlimit(RLIMIT_MEMLOCK) >> PAGE_SHIFT;
	struct mm_struct *mm = current->mm;
	s64 pinned;

	if (tf->mm && tf->mm != mm)
		return -EINVAL;
	pinned = atomic64_add_return(npages, &mm->pinned_vm);
	if (pinned > limit && !capable(CAP_IPC_LOCK)) {
		atomic64_sub(npages, &mm->pinned_vm);
		return -ENOMEM;
	}
	if (!tf->mm) {
		mmgrab(mm);
		tf->mm = mm;
	}
	tf->charged += npages;
	return 0;
}

static void phyr_test_uncharge(struct phyr_test_file *tf,
			       unsigned long npages)
{
	atomic64_sub(npages, &tf->mm->pinned_vm);
	tf->charged -= npages;
	if (!tf->charged) {
		mmdrop(tf->mm);
		tf->mm = NULL;
	}
}

static int phyr_test_pin(struct phyr_test_file *tf, void __user *uarg)
{
	unsigned int gup_flags = 0;
	struct phyr_test_pin arg;
	unsigned long npages;
	u64 t0;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags & ~(PHYR_TEST_PIN_WRITE | PHYR_TEST_PIN_LONGTERM |
			  PHYR_TEST_PIN_P2P | PHYR_TEST_PIN_SGT |
			  PHYR_TEST_PIN_APPEND) ||
	    arg.__reserved || !arg.len || arg.addr != (unsigned long)arg.addr ||
	    arg.len - 1 > ULONG_MAX - arg.addr)
		return -EINVAL;
	if (arg.flags & PHYR_TEST_PIN_APPEND) {
		/*
		 * Only to the list, pinned the same way for writing, since
		 * the whole list is unpinned dirty or clean; and never to a
		 * list that is mapped, which must not change until unmapped.
		 */
		if (!tf->pinned || tf->has_sgt ||
		    arg.flags & PHYR_TEST_PIN_SGT ||
		    !(arg.flags & PHYR_TEST_PIN_WRITE) != !tf->dirty)
			return -EINVAL;
		if (tf->edu)
			return -EBUSY;
	} else if (tf->pinned) {
		return -EBUSY;
	}
	if (arg.flags & PHYR_TEST_PIN_WRITE)
		gup_flags |= FOLL_WRITE;
	if (arg.flags & PHYR_TEST_PIN_LONGTERM)
		gup_flags |= FOLL_LONGTERM;
	if (arg.flags & PHYR_TEST_PIN_P2P)
		gup_flags |= FOLL_PCI_P2PDMA;

	/* The sg_table pins the same pages once more, and is charged alike. */
	npages = ((arg.addr + (arg.len - 1)) >> PAGE_SHIFT) -
		 (arg.addr >> PAGE_SHIFT) + 1;
	if (arg.flags & PHYR_TEST_PIN_SGT)
		npages *= 2;
	ret = phyr_test_charge(tf, npages);
	if (ret)
		return ret;

	/* Appends to the list when it holds ranges already. */
	t0 = ktime_get_ns();
	ret = phyr_pin_user(&tf->pl, arg.addr, arg.len, gup_flags);
	if (ret)
		goto out_uncharge;
	tf->stats.pin_ns = ktime_get_ns() - t0;
	if (arg.flags & PHYR_TEST_PIN_APPEND)
		return 0;

	if (arg.flags & PHYR_TEST_PIN_SGT) {
		t0 = ktime_get_ns();
		ret = phyr_test_pin_sgt(tf, arg.addr, arg.len, gup_flags);
		if (ret) {
			phyr_unpin_user(&tf->pl, false);
			goto out_uncharge;
		}
		tf->stats.sgt_pin_ns = ktime_get_ns() - t0;
		tf->has_sgt = true;
	}
	tf->pinned = true;
	tf->dirty = arg.flags & PHYR_TEST_PIN_WRITE;
	return 0;

out_uncharge:
	phyr_test_uncharge(tf, npages);
	return ret;
}

static int phyr_test_stats(struct phyr_test_file *tf, void __user *uarg)
{
	struct phyr_test_stats *s = &tf->stats;

	memset(s, 0, offsetof(struct phyr_test_stats, pin_ns));
	if (tf->pinned) {
		s->bytes = phyr_list_length(&tf->pl);
		s->ranges = phyr_list_nr_ranges(&tf->pl);
		s->mem_bytes = phyr_list_mem_bytes(&tf->pl) +
			       sizeof(struct phyr_list);
		phyr_test_classify(&tf->pl, s->range_class);
		s->ranges_hash = phyr_test_hash(&tf->pl);
		s->p2p = phyr_list_has_p2p(&tf->pl);
	}
	if (tf->has_sgt) {
		s->sgt_nents = tf->sgt.sgt.orig_nents;
		s->sgt_mem_bytes = phyr_test_sgt_bytes(&tf->sgt.sgt) +
				   sizeof(tf->sgt);
	}
	if (tf->edu) {
		struct phyr_list one;
		const struct phyr_list *dma = phyr_dma_list(&tf->map, &one);

		s->dma_identity = dma == &tf->pl;
		s->dma_ranges = phyr_list_nr_ranges(dma);
		s->dma_segs = phyr_dma_nr_segs(&tf->map);
		/* what phyr_map() allocated: its own list, if any */
		s->dma_mem_bytes = tf->map.list ?
				   sizeof(*tf->map.list) +
				   phyr_list_mem_bytes(tf->map.list) : 0;
		/* what the caller embeds, allocated by nobody */
		s->dma_state_bytes = sizeof(tf->map);
	}
	if (tf->sgt_mapped)
		s->sgt_dma_nents = tf->sgt.sgt.nents;
	return copy_to_user(uarg, s, sizeof(*s)) ? -EFAULT : 0;
}

/* The sg_table of the same pages, timed for the comparison. */
static int phyr_test_map_sgt(struct phyr_test_file *tf, struct device *dev)
{
	u64 t0 = ktime_get_ns();
	int ret;

	ret = dma_map_sgtable(dev, &tf->sgt.sgt, phyr_test_dir(tf),
			      PHYR_TEST_SGT_ATTRS);
	if (ret)
		return ret;
	tf->stats.sgt_map_ns = ktime_get_ns() - t0;
	tf->sgt_mapped = true;
	return 0;
}

static void phyr_test_unmap_sgt(struct phyr_test_file *tf, struct device *dev)
{
	u64 t0 = ktime_get_ns();

	dma_unmap_sgtable(dev, &tf->sgt.sgt, phyr_test_dir(tf),
			  PHYR_TEST_SGT_ATTRS);
	tf->stats.sgt_unmap_ns = ktime_get_ns() - t0;
	tf->sgt_mapped = false;
}

static int phyr_test_map(struct phyr_test_file *tf, void __user *uarg)
{
	struct phyr_test_map arg;
	struct phyr_test_edu *edu;
	struct device *dev;
	u64 t0;
	int ret;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags & ~PHYR_TEST_MAP_SGT)
		return -EINVAL;
	if (arg.dev >= PHYR_TEST_NR_DEVS || !env.edu[arg.dev].pdev)
		return -ENODEV;
	if (!tf->pinned || (arg.flags & PHYR_TEST_MAP_SGT && !tf->has_sgt))
		return -EINVAL;
	if (tf->edu)
		return -EBUSY;
	edu = &env.edu[arg.dev];
	dev = &edu->pdev->dev;

	/* The list and the sg_table take turns going first. */
	tf->sgt_first = arg.flags & PHYR_TEST_MAP_SGT && tf->nr_maps++ % 2;
	if (tf->sgt_first) {
		ret = phyr_test_map_sgt(tf, dev);
		if (ret)
			return ret;
	}
	t0 = ktime_get_ns();
	ret = phyr_map(dev, &tf->pl, &tf->map, phyr_test_dir(tf), 0,
		       GFP_KERNEL);
	if (ret)
		goto out_unmap_sgt;
	tf->stats.map_ns = ktime_get_ns() - t0;
	if (arg.flags & PHYR_TEST_MAP_SGT && !tf->sgt_first) {
		ret = phyr_test_map_sgt(tf, dev);
		if (ret) {
			phyr_unmap(&tf->map, 0);
			return ret;
		}
	}
	tf->edu = edu;
	return 0;

out_unmap_sgt:
	if (tf->sgt_mapped)
		phyr_test_unmap_sgt(tf, dev);
	return ret;
}

static void phyr_test_unmap(struct phyr_test_file *tf)
{
	struct device *dev = &tf->edu->pdev->dev;
	u64 t0;

	if (tf->sgt_first)
		phyr_test_unmap_sgt(tf, dev);
	t0 = ktime_get_ns();
	phyr_unmap(&tf->map, 0);
	tf->stats.unmap_ns = ktime_get_ns() - t0;
	if (tf->sgt_mapped)
		phyr_test_unmap_sgt(tf, dev);
	tf->edu = NULL;
}

/*
 * Mark the pinned memory dirty before timing the unpins of both the list
 * and the sg_table: the first unpin of a folio with dirtying takes the
 * folio lock to dirty it, and only whichever of the two goes first would
 * pay for that.
 */
static void phyr_test_dirty(struct phyr_test_file *tf)
{
	struct phyr_iter iter;
	struct phyr r;

	phyr_list_for_each(&tf->pl, &iter, r) {
		unsigned long pfn = PHYS_PFN(r.addr);
		unsigned long last = PHYS_PFN(r.addr + (r.len - 1));

		if (iter.flags & PHYR_RANGE_P2P)
			continue;
		while (pfn <= last) {
			struct folio *folio = pfn_folio(pfn);

			if (!folio_test_dirty(folio)) {
				folio_lock(folio);
				folio_mark_dirty(folio);
				folio_unlock(folio);
			}
			pfn = folio_pfn(folio) + folio_nr_pages(folio);
		}
		cond_resched();
	}
}

static void phyr_test_unpin(struct phyr_test_file *tf)
{
	u64 t0;

	if (tf->edu)
		phyr_test_unmap(tf);
	if (tf->dirty && tf->has_sgt)
		phyr_test_dirty(tf);
	t0 = ktime_get_ns();
	phyr_unpin_user(&tf->pl, tf->dirty);
	tf->stats.unpin_ns = ktime_get_ns() - t0;
	if (tf->has_sgt) {
		t0 = ktime_get_ns();
		phyr_test_unpin_sgt(tf, tf->dirty);
		tf->stats.sgt_unpin_ns = ktime_get_ns() - t0;
		tf->has_sgt = false;
	}
	phyr_test_uncharge(tf, tf->charged);
	tf->pinned = false;
}

/*
 * Write (or, with @cmp, compare) the pattern into @len bytes at physical
 * address @phys, which lie in one page; return the number of bytes that
 * differ.
 */
static unsigned int phyr_test_fill(phys_addr_t phys, u64 offset, u32 len,
				   u32 seed, bool invert, bool cmp)
{
	u8 *base = kmap_local_page(pfn_to_page(PHYS_PFN(phys)));
	u8 *p = base + offset_in_page(phys);
	unsigned int bad = 0;
	u32 i;

	for (i = 0; i < len; i++) {
		u8 want = phyr_test_pattern(seed, offset + i) ^ (invert ? 0xff : 0);

		if (!cmp)
			p[i] = want;
		else if (p[i] != want)
			bad++;
	}
	kunmap_local(base);
	return bad;
}

/*
 * One place of the buffer: the edu reads the pattern and writes it back.
 * Only the bytes the edu touches are synced, as a driver syncs the part
 * of a long-lived mapping that one command uses.
 */
static int phyr_test_check_one(struct phyr_test_file *tf, u64 offset,
			       u32 seed, u32 *len, bool *bad)
{
	void __iomem *bar = tf->edu->bar;
	struct phyr_dma_iter diter;
	struct phyr_iter it;
	dma_addr_t addr;
	struct phyr r;
	u64 seg;
	int ret;

	phyr_iter_init(&it, &tf->pl);
	phyr_dma_iter_init(&diter, &tf->map);
	if (!phyr_iter_seek(&it, offset) || !phyr_iter_next(&it, &r) ||
	    !phyr_dma_iter_seek(&diter, offset) ||
	    !phyr_dma_iter_next_seg(&diter, &addr, &seg))
		return -EIO;
	*len = min3(r.len, seg, (u64)EDU_XFER_MAX);
	*len = min_t(u32, *len, PAGE_SIZE - offset_in_page(r.addr));

	phyr_test_fill(r.addr, offset, *len, seed, false, false);
	phyr_sync_for_device(&tf->map, offset, *len);
	ret = edu_dma(bar, addr, 0, *len, false);
	if (ret)
		return ret;
	phyr_sync_for_cpu(&tf->map, offset, *len);
	phyr_test_fill(r.addr, offset, *len, seed, true, false);
	phyr_sync_for_device(&tf->map, offset, *len);
	ret = edu_dma(bar, addr, 0, *len, true);
	if (ret)
		return ret;
	phyr_sync_for_cpu(&tf->map, offset, *len);
	*bad = phyr_test_fill(r.addr, offset, *len, seed, false, true);
	return 0;
}

static int phyr_test_check(struct phyr_test_file *tf, void __user *uarg)
{
	struct phyr_test_check arg;
	u64 bytes, offset, span;
	unsigned int i;
	int ret = 0;

	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (!arg.nr_samples || arg.nr_samples > PHYR_TEST_MAX_SAMPLES ||
	    arg.__reserved)
		return -EINVAL;
	if (!tf->edu)
		return -EINVAL;
	/* The check writes the buffer: never memory pinned read-only. */
	if (!tf->dirty)
		return -EACCES;
	bytes = phyr_list_length(&tf->pl);
	span = min_t(u64, bytes, EDU_XFER_MAX / 4);
	arg.nr_bad = 0;
	memset(arg.offset, 0, sizeof(arg.offset));
	memset(arg.len, 0, sizeof(arg.len));

	mutex_lock(&tf->edu->lock);
	for (i = 0; i < arg.nr_samples; i++) {
		bool bad;
		u32 len;

		/* From the first byte to the last, evenly. */
		offset = arg.nr_samples == 1 ? 0 :
			 div64_u64((bytes - span) * i, arg.nr_samples - 1);
		ret = phyr_test_check_one(tf, offset, arg.seed, &len, &bad);
		if (ret)
			break;
		arg.offset[i] = offset;
		arg.len[i] = len;
		arg.nr_bad += bad;
	}
	mutex_unlock(&tf->edu->lock);
	if (ret)
		return ret;
	return copy_to_user(uarg, &arg, sizeof(arg)) ? -EFAULT : 0;
}

/**
 * phyr_test_example() - Let the edu write into a user buffer.
 * @dev: The edu's device.
 * @bar: The edu's registers.
 * @uaddr: User address of the buffer, any alignment.
 * @size: Bytes in the buffer, at least one; the range does not wrap.
 *
 * The example of Documentation/core-api/phyr.rst, written as a driver
 * writes it: pin the user buffer, map it for the device, program each DMA
 * segment (the edu copies the first bytes of its buffer into the first
 * EDU_XFER_MAX bytes of the segment at most), unmap and unpin.  Each
 * error path undoes exactly what was done.  The segments are at most
 * dma_get_max_seg_size() long and do not cross dma_get_seg_boundary().
 *
 * Its body is 23 lines; phyr_test_example_sg(), the same with a
 * scatterlist, takes 49 (neither counting blank lines or comments).
 *
 * Context: Process context, sleeps.  The caller owns the edu.
 * Return: The number of segments written, or a negative errno of
 * phyr_pin_user(), phyr_map() or edu_dma().
 */
static int phyr_test_example(struct device *dev, void __iomem *bar,
			     unsigned long uaddr, u64 size)
{
	DEFINE_PHYR_LIST(pl);
	struct phyr_dma_iter diter;
	struct phyr_dma map;
	dma_addr_t addr;
	int err, nr = 0;
	u64 len;

	err = phyr_pin_user(&pl, uaddr, size, FOLL_WRITE | FOLL_LONGTERM);
	if (err)
		return err;
	err = phyr_map(dev, &pl, &map, DMA_FROM_DEVICE, 0, GFP_KERNEL);
	if (err) {
		phyr_unpin_user(&pl, false);
		return err;
	}
	phyr_dma_for_each_seg(&map, &diter, addr, len) {
		err = edu_dma(bar, addr, 0, min_t(u64, len, EDU_XFER_MAX), true);
		if (err)
			break;
		nr++;
	}
	phyr_unmap(&map, 0);
	phyr_unpin_user(&pl, true);
	return err ?: nr;
}

/**
 * phyr_test_example_sg() - phyr_test_example() with a scatterlist.
 * @dev: The edu's device.
 * @bar: The edu's registers.
 * @uaddr: User address of the buffer, any alignment.
 * @size: Bytes in the buffer, at least one; the range does not wrap.
 *
 * The same as phyr_test_example(), the way a driver does it today: an
 * array of page pointers for the whole buffer, pinned in as many calls as
 * pin_user_pages_fast() needs, an sg_table built from it, mapped, walked
 * by DMA segment, unmapped, and every page unpinned by its pointer.  The
 * page array and the int and unsigned int page counts of the calls limit
 * the buffer size; the sg_table entries are not cut at the segment
 * boundary (dma-direct leaves them as they are).
 *
 * Context: Process context, sleeps.  The caller owns the edu.
 * Return: The number of segments written, or a negative errno.
 */
static int phyr_test_example_sg(struct device *dev, void __iomem *bar,
				unsigned long uaddr, u64 size)
{
	unsigned int offset = offset_in_page(uaddr), i;
	struct sg_append_table sgt = {};
	unsigned long npages, pinned = 0;
	struct scatterlist *sg;
	struct page **pages;
	int err, nr = 0;

	npages = DIV_ROUND_UP(offset + size, PAGE_SIZE);
	if (npages > INT_MAX)
		return -EOVERFLOW;
	pages = kvmalloc_array(npages, sizeof(*pages), GFP_KERNEL);
	if (!pages)
		return -ENOMEM;
	while (pinned < npages) {
		err = pin_user_pages_fast(uaddr - offset + pinned * PAGE_SIZE,
					  npages - pinned,
					  FOLL_WRITE | FOLL_LONGTERM,
					  pages + pinned);
		if (err <= 0) {
			err = err ?: -EFAULT;
			goto out_unpin;
		}
		pinned += err;
	}
	err = sg_alloc_append_table_from_pages(&sgt, pages, npages, offset,
					       size, dma_get_max_seg_size(dev),
					       0, GFP_KERNEL);
	if (err)
		goto out_free_table;
	err = dma_map_sgtable(dev, &sgt.sgt, DMA_FROM_DEVICE, 0);
	if (err)
		goto out_free_table;
	for_each_sgtable_dma_sg(&sgt.sgt, sg, i) {
		err = edu_dma(bar, sg_dma_address(sg), 0,
			      min_t(u32, sg_dma_len(sg), EDU_XFER_MAX), true);
		if (err)
			break;
		nr++;
	}
	dma_unmap_sgtable(dev, &sgt.sgt, DMA_FROM_DEVICE, 0);
	sg_free_append_table(&sgt);
	unpin_user_pages_dirty_lock(pages, npages, true);
	kvfree(pages);
	return err ?: nr;

out_free_table:
	sg_free_append_table(&sgt);
out_unpin:
	unpin_user_pages(pages, pinned);
	kvfree(pages);
	return err;
}

/* Load the edu's buffer with the bytes that the example writes. */
static int phyr_test_edu_load(struct phyr_test_edu *edu)
{
	struct device *dev = &edu->pdev->dev;
	dma_addr_t dma;
	int i, ret;
	u8 *buf;

	buf = dma_alloc_coherent(dev, EDU_XFER_MAX, &dma, GFP_KERNEL);
	if (!buf)
		return -ENOMEM;
	for (i = 0; i < EDU_XFER_MAX; i++)
		buf[i] = phyr_test_example_byte(i);
	ret = edu_dma(edu->bar, dma, 0, EDU_XFER_MAX, false);
	dma_free_coherent(dev, EDU_XFER_MAX, buf, dma);
	return ret;
}

static int phyr_test_run_example(void __user *uarg)
{
	struct phyr_test_example arg;
	struct phyr_test_edu *edu;
	int ret;

	static_assert(PHYR_TEST_EXAMPLE_XFER == EDU_XFER_MAX);
	if (copy_from_user(&arg, uarg, sizeof(arg)))
		return -EFAULT;
	if (arg.flags & ~PHYR_TEST_EXAMPLE_SG || arg.__reserved ||
	    !arg.len || arg.len > PHYR_TEST_EXAMPLE_MAX_LEN ||
	    arg.addr != (unsigned long)arg.addr ||
	    arg.len - 1 > ULONG_MAX - arg.addr)
		return -EINVAL;
	if (arg.dev >= PHYR_TEST_NR_DEVS || !env.edu[arg.dev].pdev)
		return -ENODEV;
	edu = &env.edu[arg.dev];

	mutex_lock(&edu->lock);
	ret = phyr_test_edu_load(edu);
	if (!ret && arg.flags & PHYR_TEST_EXAMPLE_SG)
		ret = phyr_test_example_sg(&edu->pdev->dev, edu->bar,
					   arg.addr, arg.len);
	else if (!ret)
		ret = phyr_test_example(&edu->pdev->dev, edu->bar,
					arg.addr, arg.len);
	mutex_unlock(&edu->lock);
	if (ret < 0)
		return ret;
	arg.nr_segs = ret;
	return copy_to_user(uarg, &arg, sizeof(arg)) ? -EFAULT : 0;
}

static long phyr_test_ioctl(struct file *file, unsigned int cmd,
			    unsigned long arg)
{
	struct phyr_test_file *tf = file->private_data;
	void __user *uarg = (void __user *)arg;
	int ret;

	mutex_lock(&tf->lock);
	switch (cmd) {
	case PHYR_TEST_IOC_INFO:
		ret = phyr_test_info(uarg);
		break;
	case PHYR_TEST_IOC_PIN:
		ret = phyr_test_pin(tf, uarg);
		break;
	case PHYR_TEST_IOC_STATS:
		ret = phyr_test_stats(tf, uarg);
		break;
	case PHYR_TEST_IOC_MAP:
		ret = phyr_test_map(tf, uarg);
		break;
	case PHYR_TEST_IOC_CHECK:
		ret = phyr_test_check(tf, uarg);
		break;
	case PHYR_TEST_IOC_UNMAP:
		ret = -EINVAL;
		if (tf->edu) {
			phyr_test_unmap(tf);
			ret = 0;
		}
		break;
	case PHYR_TEST_IOC_UNPIN:
		ret = -EINVAL;
		if (tf->pinned) {
			phyr_test_unpin(tf);
			ret = 0;
		}
		break;
	case PHYR_TEST_IOC_EXAMPLE:
		ret = phyr_test_run_example(uarg);
		break;
	default:
		ret = -ENOTTY;
		break;
	}
	mutex_unlock(&tf->lock);
	return ret;
}

static int phyr_test_open(struct inode *inode, struct file *file)
{
	struct phyr_test_file *tf;

	phyr_test_probe();
	tf = kzalloc(sizeof(*tf), GFP_KERNEL);
	if (!tf)
		return -ENOMEM;
	mutex_init(&tf->lock);
	phyr_list_init(&tf->pl);
	file->private_data = tf;
	return 0;
}

static int phyr_test_release(struct inode *inode, struct file *file)
{
	struct phyr_test_file *tf = file->private_data;

	if (tf->pinned)
		phyr_test_unpin(tf);
	mutex_destroy(&tf->lock);
	kfree(tf);
	return 0;
}

static const struct file_operations phyr_test_fops = {
	.owner = THIS_MODULE,
	.open = phyr_test_open,
	.release = phyr_test_release,
	.unlocked_ioctl = phyr_test_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice phyr_test_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "test_phyr",
	.fops = &phyr_test_fops,
};

static int __init phyr_test_init(void)
{
	get_random_bytes(&phyr_test_hash_key, sizeof(phyr_test_hash_key));
	return misc_register(&phyr_test_misc);
}

static void __exit phyr_test_exit(void)
{
	misc_deregister(&phyr_test_misc);
	phyr_test_release_devices();
}

module_init(phyr_test_init);
module_exit(phyr_test_exit);
MODULE_DESCRIPTION("Test driver for phyr lists of pinned user memory");
MODULE_LICENSE("GPL");
