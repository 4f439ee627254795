/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SHIM_LINUX_MEMREMAP_H
#define _SHIM_LINUX_MEMREMAP_H

#include <linux/mm.h>

static inline bool is_pci_p2pdma_page(const struct page *page)
{
	return page->flags & PG_shim_p2p;
}

#endif
