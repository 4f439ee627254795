/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The QEMU "edu" PCI device as a DMA engine, for the DMA mapping tests
 *
 * Shared by kernel/dma/map_iova_kunit.c, kernel/dma/phyr_map_kunit.c and
 * lib/test_phyr.c; not a kernel interface.  The edu (QEMU hw/misc/edu.c)
 * copies between a 4 KiB buffer of its own and a DMA address, so a test
 * can make real device DMA go through the addresses a mapping produced.
 * Its registers are 64 bits wide; 32-bit kernels write them in halves.
 */
#ifndef _LIB_TEST_PHYR_EDU_H
#define _LIB_TEST_PHYR_EDU_H

#include <linux/bits.h>
#include <linux/delay.h>
#include <linux/errno.h>
#include <linux/io.h>
#include <linux/io-64-nonatomic-lo-hi.h>
#include <linux/jiffies.h>
#include <linux/types.h>

#define EDU_VENDOR		0x1234
#define EDU_DEVICE		0x11e8

/* edu registers */
#define EDU_DMA_SRC		0x80
#define EDU_DMA_DST		0x88
#define EDU_DMA_CNT		0x90
#define EDU_DMA_CMD		0x98
#define EDU_CMD_RUN		BIT(0)
#define EDU_CMD_TO_RAM		BIT(1)	/* clear: from RAM into the edu */
#define EDU_BUF			0x40000
/*
 * The buffer is 4 KiB, but QEMU 7.2 rejects a transfer that reaches its
 * last byte (and stops the machine), so transfers are at most 2 KiB.
 */
#define EDU_XFER_MAX		2048

/**
 * edu_dma() - Make the edu copy between its buffer and a DMA address.
 * @bar: BAR 0 of the edu, mapped.
 * @addr: DMA address on the edu's side.
 * @off: Offset in the edu's buffer.
 * @len: Bytes to copy.
 * @to_ram: Copy from the buffer to @addr; otherwise from @addr to it.
 *
 * Waits for the transfer, which QEMU completes from a timer.
 *
 * Context: Process context, sleeps.  One transfer per edu at a time.
 * Return: 0, -EINVAL if the transfer does not fit the buffer, or
 * -ETIMEDOUT.
 */
static inline int edu_dma(void __iomem *bar, dma_addr_t addr, u32 off,
			  u32 len, bool to_ram)
{
	unsigned long timeout = jiffies + 10 * HZ;

	if (off > EDU_XFER_MAX || len > EDU_XFER_MAX - off)
		return -EINVAL;
	writeq(to_ram ? EDU_BUF + off : addr, bar + EDU_DMA_SRC);
	writeq(to_ram ? addr : EDU_BUF + off, bar + EDU_DMA_DST);
	writeq(len, bar + EDU_DMA_CNT);
	writeq(EDU_CMD_RUN | (to_ram ? EDU_CMD_TO_RAM : 0), bar + EDU_DMA_CMD);
	while (readq(bar + EDU_DMA_CMD) & EDU_CMD_RUN) {
		if (time_after(jiffies, timeout))
			return -ETIMEDOUT;
		usleep_range(1000, 2000);
	}
	return 0;
}

#endif /* _LIB_TEST_PHYR_EDU_H */
