/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SHIM_ASM_PAGE_H
#define _SHIM_ASM_PAGE_H

#ifdef SHIM_PAGE_SHIFT
#define PAGE_SHIFT	SHIM_PAGE_SHIFT
#else
#define PAGE_SHIFT	12
#endif
#define PAGE_SIZE	(1UL << PAGE_SHIFT)
#define PAGE_MASK	(~(PAGE_SIZE - 1))

#endif
