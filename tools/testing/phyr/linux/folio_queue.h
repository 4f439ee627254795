/* SPDX-License-Identifier: GPL-2.0 */
/* Just enough for lib/scatterlist.c to compile; never called. */
#ifndef _SHIM_LINUX_FOLIO_QUEUE_H
#define _SHIM_LINUX_FOLIO_QUEUE_H

#include <linux/mm.h>

struct folio_queue {
	struct folio_queue *next;
};

#define folioq_nr_slots(folioq)		0U
#define folioq_folio(folioq, slot)	((struct folio *)NULL)
#define folioq_folio_size(folioq, slot)	((size_t)0)

#endif
