/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What lib/phyr.c offers its tests only: the KUnit suites phyr and
 * phyr_map and the userspace harness in tools/testing/phyr.  Not a kernel
 * interface.
 */
#ifndef _LIB_PHYR_TEST_H
#define _LIB_PHYR_TEST_H

#include <linux/kconfig.h>

#if IS_ENABLED(CONFIG_PHYR_KUNIT_TEST)
/* Chunks allocated and not yet freed by all lists, for leak tests. */
long phyr_chunks_live(void);
#endif

#endif /* _LIB_PHYR_TEST_H */
