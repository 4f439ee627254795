/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kconfig of the userspace harness.  Passed with -include, like the
 * kernel's own linux/kconfig.h.  Select a 32-bit phys_addr_t on a 32-bit
 * build (non-PAE i386) with -DSHIM_PHYS32.
 */
#ifndef _SHIM_LINUX_KCONFIG_H
#define _SHIM_LINUX_KCONFIG_H

#define _GNU_SOURCE 1

/* Peer-to-peer pages come in whole subsections, as in the kernel. */
#define CONFIG_ZONE_DEVICE 1
#define CONFIG_PCI_P2PDMA 1

#ifdef __LP64__
#define CONFIG_64BIT 1
#endif
#if defined(CONFIG_64BIT) || !defined(SHIM_PHYS32)
#define CONFIG_PHYS_ADDR_T_64BIT 1
#define CONFIG_ARCH_DMA_ADDR_T_64BIT 1
#endif
#ifdef SHIM_SCATTERLIST
/* What x86 with PCI_P2PDMA selects: a 32-byte struct scatterlist. */
#define CONFIG_NEED_SG_DMA_LENGTH 1
#define CONFIG_NEED_SG_DMA_FLAGS 1
#endif
#define CONFIG_PHYR_KUNIT_TEST 1

#define __ARG_PLACEHOLDER_1 0,
#define __take_second_arg(__ignored, val, ...) val
#define __or(x, y)			___or(x, y)
#define ___or(x, y)			____or(__ARG_PLACEHOLDER_##x, y)
#define ____or(arg1_or_junk, y)		__take_second_arg(arg1_or_junk 1, y)
#define __is_defined(x)			___is_defined(x)
#define ___is_defined(val)		____is_defined(__ARG_PLACEHOLDER_##val)
#define ____is_defined(arg1_or_junk)	__take_second_arg(arg1_or_junk 1, 0)
#define IS_BUILTIN(option)		__is_defined(option)
#define IS_MODULE(option)		__is_defined(option##_MODULE)
#define IS_ENABLED(option)		__or(IS_BUILTIN(option), IS_MODULE(option))
#define IS_REACHABLE(option)		IS_ENABLED(option)

#endif
