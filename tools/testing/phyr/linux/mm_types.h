/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Simulated memory: struct page lives in mem_map[] (shim.c); a folio is a
 * compound page whose tail pages point at the head through
 * ->compound_head with bit 0 set, as in the kernel.
 */
#ifndef _SHIM_LINUX_MM_TYPES_H
#define _SHIM_LINUX_MM_TYPES_H

#include <linux/types.h>

struct page {
	unsigned long flags;
	unsigned long compound_head;
	unsigned int order;		/* of the folio, in the head page */
	unsigned int pgmap;		/* provider of a P2P page, from 1 */
};

struct folio {
	union {
		struct page page;
		struct {
			unsigned long flags;
		};
	};
};

#define PG_head		0x1UL
#define PG_shim_p2p	0x2UL	/* ZONE_DEVICE page of a PCI BAR */

#endif
