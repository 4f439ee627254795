/* SPDX-License-Identifier: GPL-2.0 */
/* For lib/scatterlist.c only; simulated pages are never mapped. */
#ifndef _SHIM_LINUX_HIGHMEM_H
#define _SHIM_LINUX_HIGHMEM_H

#include <linux/mm.h>

#define kmap(page)		(shim_bug(__FILE__, __LINE__, "kmap"), (void *)0)
#define kmap_atomic(page)	kmap(page)
#define kunmap(page)		do { } while (0)
#define kunmap_atomic(addr)	do { } while (0)
#define pagefault_disabled()	true

#endif
