/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * The uAPI of lib/test_phyr.c, a test driver for pinning user memory into
 * phyr lists and mapping them with phyr_map(), used by
 * tools/testing/selftests/phyr/.  Private to the test; not a stable ABI.
 */
#ifndef _LIB_TEST_PHYR_UAPI_H
#define _LIB_TEST_PHYR_UAPI_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

/* Devices that PHYR_TEST_IOC_MAP maps on, by index. */
#define PHYR_TEST_DEV_EDU_SWITCH	0	/* edu next to the NVMe CMB */
#define PHYR_TEST_DEV_EDU_ROOT		1	/* edu on a root port */
#define PHYR_TEST_NR_DEVS		2

/* struct phyr_test_dev.flags */
#define PHYR_TEST_DEV_PRESENT	_BITUL(0)	/* the device exists */
#define PHYR_TEST_DEV_IOMMU	_BITUL(1)	/* DMA goes through an IOMMU */
#define PHYR_TEST_DEV_P2P	_BITUL(2)	/* reaches the CMB by P2P */

/**
 * struct phyr_test_dev - A device of the test machine.
 * @name: PCI name ("0000:02:00.0"), empty when absent.
 * @flags: %PHYR_TEST_DEV_* bits.
 * @__reserved: Zero.
 */
struct phyr_test_dev {
	char name[16];
	__u32 flags;
	__u32 __reserved;
};

/**
 * struct phyr_test_info - What the test machine has (PHYR_TEST_IOC_INFO).
 * @dev: The devices, indexed by %PHYR_TEST_DEV_EDU_*.
 * @p2p_name: PCI name of the device whose BAR is registered as p2pdma
 *	memory (the NVMe CMB), empty when there is none.  Userspace gets
 *	such memory by mmap() of /sys/bus/pci/devices/NAME/p2pmem/allocate.
 */
struct phyr_test_info {
	struct phyr_test_dev dev[PHYR_TEST_NR_DEVS];
	char p2p_name[16];
};

/* struct phyr_test_pin.flags */
#define PHYR_TEST_PIN_WRITE	_BITUL(0)	/* FOLL_WRITE */
#define PHYR_TEST_PIN_LONGTERM	_BITUL(1)	/* FOLL_LONGTERM */
#define PHYR_TEST_PIN_P2P	_BITUL(2)	/* FOLL_PCI_P2PDMA */
#define PHYR_TEST_PIN_SGT	_BITUL(3)	/* also an sg_table, as ib_umem */
#define PHYR_TEST_PIN_APPEND	_BITUL(4)	/* to the pinned list */

/**
 * struct phyr_test_pin - Pin a user buffer (PHYR_TEST_IOC_PIN).
 * @addr: User address of the first byte; any alignment.
 * @len: Number of bytes.
 * @flags: %PHYR_TEST_PIN_* bits.  With %PHYR_TEST_PIN_SGT the buffer is
 *	pinned a second time, into an sg_table the way ib_umem_get() does
 *	it, for comparison.  With %PHYR_TEST_PIN_APPEND the range is pinned
 *	and appended to the list that the file holds, by phyr_pin_user():
 *	all of it or, on error, nothing.  That list must have no sg_table,
 *	must not be mapped (-EBUSY) and must have been pinned with the same
 *	%PHYR_TEST_PIN_WRITE; %PHYR_TEST_PIN_SGT is not allowed.
 * @__reserved: Zero.
 *
 * Without %PHYR_TEST_PIN_APPEND the file must hold nothing (-EBUSY).
 * The pinned pages (twice with %PHYR_TEST_PIN_SGT) are charged to the
 * caller's pinned_vm as RDMA charges them: beyond RLIMIT_MEMLOCK, and
 * without CAP_IPC_LOCK, the pin fails with -ENOMEM.  An append must come
 * from the process that pinned the list (-EINVAL).
 */
struct phyr_test_pin {
	__u64 addr;
	__u64 len;
	__u32 flags;
	__u32 __reserved;
};

/* struct phyr_test_map.flags */
#define PHYR_TEST_MAP_SGT	_BITUL(0)	/* also dma_map_sgtable() */

/**
 * struct phyr_test_map - Map the pinned buffer (PHYR_TEST_IOC_MAP).
 * @dev: Index of the device, %PHYR_TEST_DEV_EDU_*.
 * @flags: %PHYR_TEST_MAP_* bits.
 */
struct phyr_test_map {
	__u32 dev;
	__u32 flags;
};

#define PHYR_TEST_MAX_SAMPLES	16

/**
 * struct phyr_test_check - Let the device DMA through the mapping.
 * @nr_samples: (in) Number of places in the buffer to check, 1 to
 *	%PHYR_TEST_MAX_SAMPLES, spread from its first to its last byte.
 * @seed: (in) Seed of the pattern, see phyr_test_pattern().
 * @nr_bad: (out) Places where the bytes that came back were wrong.
 * @__reserved: Zero.
 * @offset: (out) Offset in the buffer of each place.
 * @len: (out) Bytes checked at each place.
 *
 * For each place the driver writes a pattern with the CPU, has the edu
 * device read it through the DMA mapping, overwrites it with the CPU,
 * has the device write it back through the mapping, and compares.  The
 * pattern stays in the buffer, so the caller can check that its own
 * mapping of the buffer shows it.  A buffer pinned without
 * %PHYR_TEST_PIN_WRITE is never written: -EACCES.
 */
struct phyr_test_check {
	__u32 nr_samples;
	__u32 seed;
	__u32 nr_bad;
	__u32 __reserved;
	__u64 offset[PHYR_TEST_MAX_SAMPLES];
	__u64 len[PHYR_TEST_MAX_SAMPLES];
};

/**
 * phyr_test_pattern() - The byte at an offset of the check pattern.
 * @seed: &struct phyr_test_check.seed.
 * @offset: Offset in the buffer.
 *
 * Return: The byte that PHYR_TEST_IOC_CHECK leaves at @offset.
 */
static inline __u8 phyr_test_pattern(__u32 seed, __u64 offset)
{
	__u32 x = seed ^ (__u32)offset ^ (__u32)(offset >> 32);

	x *= 0x9e3779b1U;
	return (__u8)(x >> 24);
}

/**
 * struct phyr_test_stats - The buffer and its mappings (PHYR_TEST_IOC_STATS).
 * @bytes: Bytes described by the phyr list.
 * @ranges: Ranges of the phyr list.
 * @mem_bytes: Storage of the phyr list: phyr_list_mem_bytes() plus
 *	struct phyr_list.
 * @range_class: Ranges by the smallest entry they fit: [0] runs of at
 *	most 8 pages (4-byte entries when near the previous range), [1]
 *	page-aligned up to 4 MiB (8 bytes), [2] byte-granular up to
 *	512 MiB (12 bytes), [3] anything else, P2P (20 bytes).
 * @ranges_hash: A digest of the ranges of the phyr list, in order, for
 *	telling whether the list changed.
 * @p2p: The list holds peer-to-peer memory.
 * @dma_identity: The DMA list of the mapping is the phyr list itself.
 * @dma_ranges: Ranges of the DMA list, phyr_dma_list().
 * @dma_segs: DMA segments within the device limits, phyr_dma_nr_segs().
 * @dma_mem_bytes: Storage that phyr_map() allocated: the chunks of its
 *	DMA list, phyr_list_mem_bytes(); 0 when the DMA list is the phyr
 *	list or a single range.
 * @dma_state_bytes: sizeof(struct phyr_dma), the mapping state, which the
 *	driver embeds in its own object; phyr_map() does not allocate it.
 * @sgt_nents: Entries of the sg_table (orig_nents).
 * @sgt_dma_nents: DMA segments after dma_map_sgtable() (nents).
 * @sgt_mem_bytes: Storage of the sg_table: its chunks plus
 *	struct sg_append_table.
 * @pin_ns: phyr_pin_user(): pin and build the list.
 * @map_ns: phyr_map().
 * @unmap_ns: phyr_unmap().
 * @unpin_ns: phyr_unpin_user(): unpin and free the list.
 * @sgt_pin_ns: pin_user_pages_fast() and sg_alloc_append_table_from_pages().
 * @sgt_map_ns: dma_map_sgtable().
 * @sgt_unmap_ns: dma_unmap_sgtable().
 * @sgt_unpin_ns: unpin per entry and sg_free_append_table().
 *
 * The times are those of the last such operation on the file, so they
 * can be read after PHYR_TEST_IOC_UNPIN as well.  When there is an
 * sg_table, memory pinned for write is marked dirty before either is
 * unpinned, so that both unpins find it dirty already.
 */
struct phyr_test_stats {
	__u64 bytes;
	__u64 ranges;
	__u64 mem_bytes;
	__u64 range_class[4];
	__u64 ranges_hash;
	__u32 p2p;
	__u32 dma_identity;
	__u64 dma_ranges;
	__u64 dma_segs;
	__u64 dma_mem_bytes;
	__u64 dma_state_bytes;
	__u64 sgt_nents;
	__u64 sgt_dma_nents;
	__u64 sgt_mem_bytes;
	__u64 pin_ns;
	__u64 map_ns;
	__u64 unmap_ns;
	__u64 unpin_ns;
	__u64 sgt_pin_ns;
	__u64 sgt_map_ns;
	__u64 sgt_unmap_ns;
	__u64 sgt_unpin_ns;
};

/* struct phyr_test_example.flags */
#define PHYR_TEST_EXAMPLE_SG	_BITUL(0)	/* the scatterlist version */

/* Bytes the edu writes at the start of each DMA segment, at most. */
#define PHYR_TEST_EXAMPLE_XFER	2048
/* The longest buffer of PHYR_TEST_IOC_EXAMPLE: -EINVAL beyond */
#define PHYR_TEST_EXAMPLE_MAX_LEN	_BITULL(30)

/**
 * struct phyr_test_example - Run the driver example (PHYR_TEST_IOC_EXAMPLE).
 * @addr: (in) User address of the buffer; any alignment.
 * @len: (in) Bytes in the buffer.
 * @dev: (in) Index of the edu, %PHYR_TEST_DEV_EDU_*.
 * @flags: (in) %PHYR_TEST_EXAMPLE_* bits.
 * @nr_segs: (out) DMA segments that the edu wrote.
 * @__reserved: Zero.
 *
 * Runs phyr_test_example() of lib/test_phyr.c, the example of
 * Documentation/core-api/phyr.rst, or with %PHYR_TEST_EXAMPLE_SG its
 * scatterlist equivalent phyr_test_example_sg(), on the buffer: it is
 * pinned for write and long-term, mapped for the edu, the edu writes
 * phyr_test_example_byte(0), (1), ... into the first bytes of each DMA
 * segment, at most %PHYR_TEST_EXAMPLE_XFER of them, and the buffer is
 * unmapped and unpinned.  The rest of the buffer is left alone.  This
 * does not touch what the file holds.
 */
struct phyr_test_example {
	__u64 addr;
	__u64 len;
	__u32 dev;
	__u32 flags;
	__u32 nr_segs;
	__u32 __reserved;
};

/**
 * phyr_test_example_byte() - Byte of what PHYR_TEST_IOC_EXAMPLE writes.
 * @i: Offset from the start of a DMA segment, below
 *	%PHYR_TEST_EXAMPLE_XFER.
 *
 * The 16-bit little-endian words 0x8000 + n, n = 0, 1, ...: the bytes
 * 0x00 0x80 occur only at the start of a segment, so a buffer filled with
 * 0xff beforehand shows where each segment starts.
 *
 * Return: The byte at offset @i of each segment.
 */
static inline __u8 phyr_test_example_byte(__u32 i)
{
	__u32 word = 0x8000 | (i / 2);

	return (__u8)(i & 1 ? word >> 8 : word);
}

#define PHYR_TEST_IOC_INFO	_IOR('p', 0x00, struct phyr_test_info)
#define PHYR_TEST_IOC_PIN	_IOW('p', 0x01, struct phyr_test_pin)
#define PHYR_TEST_IOC_STATS	_IOR('p', 0x02, struct phyr_test_stats)
#define PHYR_TEST_IOC_MAP	_IOW('p', 0x03, struct phyr_test_map)
#define PHYR_TEST_IOC_CHECK	_IOWR('p', 0x04, struct phyr_test_check)
#define PHYR_TEST_IOC_UNMAP	_IO('p', 0x05)
#define PHYR_TEST_IOC_UNPIN	_IO('p', 0x06)
#define PHYR_TEST_IOC_EXAMPLE	_IOWR('p', 0x07, struct phyr_test_example)

#endif /* _LIB_TEST_PHYR_UAPI_H */
