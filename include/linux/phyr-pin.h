/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Pinning user memory into phyr lists (mm/gup.c)
 *
 * See Documentation/core-api/phyr.rst for how to use a phyr list.
 */
#ifndef _LINUX_PHYR_PIN_H
#define _LINUX_PHYR_PIN_H

#include <linux/phyr.h>
#include <linux/types.h>

int __must_check phyr_pin_user(struct phyr_list *pl, unsigned long start,
			       u64 len, unsigned int gup_flags);
void phyr_unpin_user(struct phyr_list *pl, bool make_dirty);

#endif /* _LINUX_PHYR_PIN_H */
