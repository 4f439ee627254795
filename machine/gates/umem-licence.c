// SPDX-License-Identifier: GPL-2.0
/*
 * What a module of any licence may use of ib_umem, as pristine 6.12
 * exports it with EXPORT_SYMBOL: ib_umem_get(), ib_umem_release(),
 * ib_umem_copy_from(), ib_umem_find_best_pgsz(), the block iterator
 * behind rdma_umem_for_each_dma_block() and the inline helpers.  The
 * licence gate of mk/gates.sh compiles this file against the series and
 * fails if it needs a symbol the series exports with EXPORT_SYMBOL_GPL.
 * Not part of the series.
 */
#include <rdma/ib_umem.h>
#include <rdma/ib_verbs.h>
#include <rdma/iter.h>

unsigned long umem_licence_probe(struct ib_device *dev, unsigned long addr,
				 size_t size, unsigned long pgsz, void *buf);

unsigned long umem_licence_probe(struct ib_device *dev, unsigned long addr,
				 size_t size, unsigned long pgsz, void *buf)
{
	struct ib_block_iter biter;
	struct ib_umem *umem;
	unsigned long n;

	umem = ib_umem_get(dev, addr, size, IB_ACCESS_LOCAL_WRITE);
	if (IS_ERR(umem))
		return 0;
	n = ib_umem_find_best_pgsz(umem, pgsz, addr) +
	    ib_umem_find_best_pgoff(umem, pgsz, 0) +
	    ib_umem_dma_offset(umem, pgsz) + ib_umem_offset(umem) +
	    ib_umem_num_dma_blocks(umem, pgsz) + ib_umem_num_pages(umem);
	rdma_umem_for_each_dma_block(umem, &biter, pgsz)
		n += rdma_block_iter_dma_address(&biter);
	n += ib_umem_copy_from(buf, umem, 0, size);
	ib_umem_release(umem);
	return n;
}
