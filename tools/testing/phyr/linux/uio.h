/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Just enough for extract_iter_to_sg() in lib/scatterlist.c to compile;
 * the harness never calls it (and the stubs abort if it does).
 */
#ifndef _SHIM_LINUX_UIO_H
#define _SHIM_LINUX_UIO_H

#include <linux/bvec.h>
#include <linux/mm.h>

struct kvec {
	void *iov_base;
	size_t iov_len;
};

enum iter_type {
	ITER_UBUF, ITER_IOVEC, ITER_BVEC, ITER_KVEC, ITER_FOLIOQ,
	ITER_XARRAY, ITER_DISCARD,
};

typedef unsigned int iov_iter_extraction_t;

struct xarray;

struct iov_iter {
	u8 iter_type;
	size_t iov_offset;
	size_t count;
	union {
		const struct bio_vec *bvec;
		const struct kvec *kvec;
		const struct folio_queue *folioq;
		struct xarray *xarray;
	};
	union {
		unsigned long nr_segs;
		u8 folioq_slot;
		loff_t xarray_start;
	};
};

#define iov_iter_type(i)	((i)->iter_type)
#define iov_iter_advance(i, n)	shim_bug(__FILE__, __LINE__, "iov_iter")
#define iov_iter_extract_pages(i, p, m, n, f, o)	\
	(shim_bug(__FILE__, __LINE__, "iov_iter"), 0)

/* XArray and RCU, as extract_xarray_to_sg() uses them. */
struct xa_state {
	struct xarray *xa;
	unsigned long index;
};
#define XA_STATE(name, array, idx)	\
	struct xa_state name = { .xa = (array), .index = (idx) }
#define xas_for_each(xas, entry, max)	\
	for ((entry) = (void *)(xas)->xa, (entry) = NULL; (entry);)
#define xas_retry(xas, entry)		false
#define xa_is_value(entry)		false
#define rcu_read_lock()			do { } while (0)
#define rcu_read_unlock()		do { } while (0)

#endif
