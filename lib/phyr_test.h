/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What lib/phyr.c and the phyr_map() backends offer their tests only:
 * the KUnit suites phyr and phyr_map and the userspace harness in
 * tools/testing/phyr.  Not a kernel interface.
 */
#ifndef _LIB_PHYR_TEST_H
#define _LIB_PHYR_TEST_H

#include <linux/kconfig.h>

#if IS_ENABLED(CONFIG_PHYR_KUNIT_TEST)
/* Chunks allocated and not yet freed by all lists, for leak tests. */
long phyr_chunks_live(void);
#endif

#if IS_ENABLED(CONFIG_PHYR_MAP_KUNIT_TEST) && IS_ENABLED(CONFIG_IOMMU_DMA_PHYR)
/* drivers/iommu/dma-iommu-phyr.c: IOVA bytes live, iommu_map() calls */
void iommu_dma_phyr_stats(long *iova_live, long *map_calls);
#endif

#endif /* _LIB_PHYR_TEST_H */
