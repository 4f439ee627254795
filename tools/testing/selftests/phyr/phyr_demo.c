// SPDX-License-Identifier: GPL-2.0
/*
 * phyr_demo [MIB [P2P_MIB]]: pin MIB MiB (default 1024) of 4 KiB pages,
 * then of THP, and P2P_MIB MiB (default 32) of NVMe CMB memory, each into
 * a phyr list and into an sg_table, map them for the edu behind the PCIe
 * switch with phyr_map() and dma_map_sgtable(), let the edu DMA through
 * the phyr mapping, and print one "phyr-demo:" line of key=value pairs
 * per buffer for mk/demo.sh to put in a table.  Not a test: it only
 * fails when something could not be done at all.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "../../../../lib/test_phyr_uapi.h"

#define PAGE	4096UL
#define SZ_2M	(2UL << 20)

static int fd;
static struct phyr_test_info info;

/* Timed rounds per buffer; the times printed are their medians. */
#define ROUNDS		5
#define NR_TIMES	8

/* The @i-th time of @st: the four of phyr, then the four of the sg_table. */
static __u64 *time_field(struct phyr_test_stats *st, unsigned int i)
{
	__u64 *f[NR_TIMES] = {
		&st->pin_ns, &st->map_ns, &st->unmap_ns, &st->unpin_ns,
		&st->sgt_pin_ns, &st->sgt_map_ns, &st->sgt_unmap_ns,
		&st->sgt_unpin_ns,
	};

	return f[i];
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static __u64 median(__u64 *v)
{
	qsort(v, ROUNDS, sizeof(*v), cmp_u64);
	return v[ROUNDS / 2];
}

/* Let the edu DMA a pattern through the mapping and compare the bytes. */
static const char *edu_check(const uint8_t *buf, uint32_t pin_flags,
			     const struct phyr_test_dev *edu,
			     struct phyr_test_check *chk)
{
	unsigned int i;
	uint64_t j;

	/* QEMU hands P2P bus addresses to its IOMMU: not routable */
	if ((pin_flags & PHYR_TEST_PIN_P2P) && (edu->flags & PHYR_TEST_DEV_IOMMU))
		return "n/a";
	if (ioctl(fd, PHYR_TEST_IOC_CHECK, chk))
		return "error";
	for (i = 0; i < chk->nr_samples; i++)
		for (j = 0; j < chk->len[i]; j++)
			if (buf[chk->offset[i] + j] !=
			    phyr_test_pattern(chk->seed, chk->offset[i] + j))
				chk->nr_bad++;
	return chk->nr_bad ? "FAIL" : "ok";
}

static int run(const char *mem, uint8_t *buf, size_t len, uint32_t pin_flags)
{
	struct phyr_test_pin pin = {
		.addr = (uintptr_t)buf,
		.len = len,
		.flags = pin_flags | PHYR_TEST_PIN_WRITE | PHYR_TEST_PIN_SGT,
	};
	struct phyr_test_map map = {
		.dev = PHYR_TEST_DEV_EDU_SWITCH,
		.flags = PHYR_TEST_MAP_SGT,
	};
	struct phyr_test_check chk = { .nr_samples = 4, .seed = 0xc0ffee };
	const struct phyr_test_dev *edu = &info.dev[map.dev];
	struct phyr_test_stats st, st2;
	const char *path, *check = NULL;
	__u64 t[NR_TIMES][ROUNDS];
	unsigned int i, round;

	if (edu->flags & PHYR_TEST_DEV_IOMMU)
		path = pin_flags & PHYR_TEST_PIN_P2P ? "p2p-iommu" : "iommu";
	else
		path = pin_flags & PHYR_TEST_PIN_P2P ? "p2p-direct" : "direct";

	/*
	 * A first round, untimed, so that neither representation pays for
	 * what happens to memory the first time it is pinned and mapped;
	 * then ROUNDS timed ones on the same buffer.  The edu checks the
	 * mapping of the last round.
	 */
	for (round = 0; round <= ROUNDS; round++) {
		if (ioctl(fd, PHYR_TEST_IOC_PIN, &pin)) {
			printf("phyr-demo: path=%s mem=%s error=pin:%s\n",
			       path, mem, strerror(errno));
			return 1;
		}
		if (ioctl(fd, PHYR_TEST_IOC_MAP, &map)) {
			printf("phyr-demo: path=%s mem=%s error=map:%s\n",
			       path, mem, strerror(errno));
			ioctl(fd, PHYR_TEST_IOC_UNPIN);
			return 1;
		}
		if (round == ROUNDS && ioctl(fd, PHYR_TEST_IOC_STATS, &st))
			return 1;
		if (round == ROUNDS)
			check = edu_check(buf, pin_flags, edu, &chk);
		if (ioctl(fd, PHYR_TEST_IOC_UNMAP) ||
		    ioctl(fd, PHYR_TEST_IOC_UNPIN) ||
		    ioctl(fd, PHYR_TEST_IOC_STATS, &st2))
			return 1;
		if (!round)
			continue;
		for (i = 0; i < NR_TIMES; i++)
			t[i][round - 1] = *time_field(&st2, i);
	}
	for (i = 0; i < NR_TIMES; i++)
		*time_field(&st2, i) = median(t[i]);
	printf("phyr-demo: path=%s mem=%s bytes=%llu ranges=%llu mem_bytes=%llu",
	       path, mem, st.bytes, st.ranges, st.mem_bytes);
	printf(" class=%llu/%llu/%llu/%llu dma_ranges=%llu dma_segs=%llu",
	       st.range_class[0], st.range_class[1], st.range_class[2],
	       st.range_class[3], st.dma_ranges, st.dma_segs);
	printf(" dma_mem_bytes=%llu dma_state_bytes=%llu",
	       st.dma_mem_bytes, st.dma_state_bytes);
	printf(" identity=%u sgt_nents=%llu sgt_dma_nents=%llu sgt_mem_bytes=%llu",
	       st.dma_identity, st.sgt_nents, st.sgt_dma_nents,
	       st.sgt_mem_bytes);
	printf(" pin_ns=%llu map_ns=%llu unmap_ns=%llu unpin_ns=%llu",
	       st2.pin_ns, st2.map_ns, st2.unmap_ns, st2.unpin_ns);
	printf(" sgt_pin_ns=%llu sgt_map_ns=%llu sgt_unmap_ns=%llu sgt_unpin_ns=%llu",
	       st2.sgt_pin_ns, st2.sgt_map_ns, st2.sgt_unmap_ns,
	       st2.sgt_unpin_ns);
	printf(" rounds=%u check=%s samples=%u\n", ROUNDS, check,
	       chk.nr_samples);
	fflush(stdout);
	return strcmp(check, "FAIL") == 0;
}

static uint8_t *anon(size_t len, int advice, size_t align)
{
	uint8_t *p = mmap(NULL, len + align, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	size_t n = len / PAGE, i, j, t, *order;
	uint64_t x = 0x2545f4914f6cdd1dULL;

	if (p == MAP_FAILED)
		return NULL;
	if (align)
		p = (uint8_t *)(((uintptr_t)p + align - 1) & ~(align - 1));
	madvise(p, len, advice);
	/*
	 * Faulted in here, so that pinning times pinning, not page faults,
	 * and in a shuffled order: the page allocator hands out adjacent
	 * pages one after the other, so this scatters small pages over
	 * physical memory as on a machine that has been up for a while.
	 */
	order = malloc(n * sizeof(*order));
	if (!order)
		return NULL;
	for (i = 0; i < n; i++)
		order[i] = i;
	for (i = n - 1; i > 0; i--) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		j = x % (i + 1);
		t = order[i];
		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < n; i++)
		p[order[i] * PAGE] = 1;
	free(order);
	return p;
}

int main(int argc, char **argv)
{
	size_t len = (argc > 1 ? strtoul(argv[1], NULL, 0) : 1024) << 20;
	size_t p2p_len = (argc > 2 ? strtoul(argv[2], NULL, 0) : 32) << 20;
	char path[96];
	uint8_t *buf;
	int rc = 0, cfd;

	fd = open("/dev/test_phyr", O_RDWR);
	if (fd < 0 || ioctl(fd, PHYR_TEST_IOC_INFO, &info)) {
		perror("phyr-demo: /dev/test_phyr");
		return 1;
	}
	if (!(info.dev[PHYR_TEST_DEV_EDU_SWITCH].flags & PHYR_TEST_DEV_PRESENT)) {
		printf("phyr-demo: error=no edu device behind the switch\n");
		return 1;
	}

	buf = anon(len, MADV_NOHUGEPAGE, 0);
	if (!buf)
		return 1;
	rc |= run("4k", buf, len, PHYR_TEST_PIN_LONGTERM);
	munmap(buf, len);

	buf = anon(len, MADV_HUGEPAGE, SZ_2M);
	if (!buf)
		return 1;
	rc |= run("thp", buf, len, PHYR_TEST_PIN_LONGTERM);
	munmap(buf, len);

	if (!info.p2p_name[0]) {
		printf("phyr-demo: error=no P2P memory\n");
		return rc;
	}
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/p2pmem/allocate",
		 info.p2p_name);
	cfd = open(path, O_RDWR);
	buf = cfd < 0 ? MAP_FAILED :
	      mmap(NULL, p2p_len, PROT_READ | PROT_WRITE, MAP_SHARED, cfd, 0);
	if (buf == MAP_FAILED) {
		printf("phyr-demo: path=p2p mem=cmb error=mmap:%s\n",
		       strerror(errno));
		return 1;
	}
	rc |= run("cmb", buf, p2p_len, PHYR_TEST_PIN_P2P);
	munmap(buf, p2p_len);
	close(cfd);
	close(fd);
	return rc;
}
