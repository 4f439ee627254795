/* SPDX-License-Identifier: GPL-2.0 */
/* TEST ONLY, not part of the phyr series: see rxe_dma_check.c. */
#ifndef RXE_DMA_CHECK_H
#define RXE_DMA_CHECK_H

#include <linux/types.h>

struct ib_device;
struct ib_umem;
struct rxe_dma_check;

struct rxe_dma_check *rxe_dma_check_begin(u64 start, u64 length);
struct ib_device *rxe_dma_check_device(struct rxe_dma_check *chk,
				       struct ib_device *ibdev);
void rxe_dma_check_umem(struct rxe_dma_check *chk, struct ib_umem *umem,
			u64 iova);
void rxe_dma_check_end(struct rxe_dma_check *chk);

#endif
