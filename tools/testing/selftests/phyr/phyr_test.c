// SPDX-License-Identifier: GPL-2.0
/*
 * Tests of pinning user memory into phyr lists and mapping them for DMA,
 * through the test driver lib/test_phyr.c (/dev/test_phyr).
 *
 * The "pin" tests need only the driver; they include appending ranges to
 * a pinned list.  The "map" tests make a QEMU edu device DMA through the
 * mappings, once per path: "direct" (no IOMMU in front of the device:
 * boot with intel_iommu=off), "iommu" and "p2p" (memory of an NVMe CMB,
 * mapped for an edu behind the same PCIe switch).  They also run the
 * driver example of Documentation/core-api/phyr.rst and its scatterlist
 * equivalent (PHYR_TEST_IOC_EXAMPLE).  A path that the machine does not
 * have is skipped with the reason.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/capability.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>

#include "../kselftest_harness.h"
#include "../../../../lib/test_phyr_uapi.h"

#define PAGE		4096UL
#define SZ_2M		(2UL << 20)
#define SZ_1G		(1024UL * 1024 * 1024)

#ifndef MAP_HUGE_2MB
#define MAP_HUGE_2MB	(21 << 26)
#endif

static int phyr_pin(int fd, void *addr, uint64_t len, uint32_t flags)
{
	struct phyr_test_pin pin = {
		.addr = (uintptr_t)addr,
		.len = len,
		.flags = flags,
	};

	return ioctl(fd, PHYR_TEST_IOC_PIN, &pin) ? -errno : 0;
}

/* Pin another range and append it to the list the file holds. */
static int phyr_append(int fd, void *addr, uint64_t len, uint32_t flags)
{
	return phyr_pin(fd, addr, len, flags | PHYR_TEST_PIN_APPEND);
}

static int phyr_map_dev(int fd, uint32_t dev, uint32_t flags)
{
	struct phyr_test_map map = { .dev = dev, .flags = flags };

	return ioctl(fd, PHYR_TEST_IOC_MAP, &map) ? -errno : 0;
}

static int phyr_cmd(int fd, unsigned long cmd)
{
	return ioctl(fd, cmd) ? -errno : 0;
}

static int phyr_stats(int fd, struct phyr_test_stats *st)
{
	return ioctl(fd, PHYR_TEST_IOC_STATS, st) ? -errno : 0;
}

/* Our view of byte @off of a list pinned from the pieces @iov. */
static uint8_t list_byte(const struct iovec *iov, unsigned int nr_iov,
			 uint64_t off)
{
	unsigned int i;

	for (i = 0; i < nr_iov - 1 && off >= iov[i].iov_len; i++)
		off -= iov[i].iov_len;
	return ((const uint8_t *)iov[i].iov_base)[off];
}

/*
 * Let the device copy the pattern through the mapping and check, besides
 * the driver's own comparison, that the pieces @iov that the list was
 * pinned from, in order (our view of the pinned memory), show what the
 * device wrote.  Return the number of bad places.
 */
static int phyr_check_iov(struct __test_metadata *_metadata, int fd,
			  const struct iovec *iov, unsigned int nr_iov,
			  unsigned int nr, uint32_t seed)
{
	struct phyr_test_check chk = { .nr_samples = nr, .seed = seed };
	unsigned int i, bad = 0;
	uint64_t j;

	ASSERT_EQ(0, ioctl(fd, PHYR_TEST_IOC_CHECK, &chk) ? -errno : 0);
	for (i = 0; i < nr; i++) {
		ASSERT_LT(0, chk.len[i]);
		for (j = 0; j < chk.len[i]; j++) {
			uint64_t off = chk.offset[i] + j;

			if (list_byte(iov, nr_iov, off) !=
			    phyr_test_pattern(seed, off)) {
				bad++;
				break;
			}
		}
	}
	return chk.nr_bad + bad;
}

/* phyr_check_iov() of a list pinned from one buffer. */
static int phyr_check(struct __test_metadata *_metadata, int fd,
		      const uint8_t *buf, unsigned int nr, uint32_t seed)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = SIZE_MAX };

	return phyr_check_iov(_metadata, fd, &iov, 1, nr, seed);
}

static void *map_anon(size_t len, size_t align, int advice)
{
	uint8_t *p = mmap(NULL, len + align, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uintptr_t a;

	if (p == MAP_FAILED)
		return NULL;
	a = align ? ((uintptr_t)p + align - 1) & ~(align - 1) : (uintptr_t)p;
	if (advice && madvise((void *)a, len, advice))
		return NULL;
	return (void *)a;
}

/* Fault in every page, @stride bytes apart, with distinct contents. */
static void touch(uint8_t *p, size_t len, size_t stride)
{
	size_t i;

	for (i = 0; i < len; i += stride)
		p[i] = (uint8_t)(i / stride + 1);
}

/*
 * Fault in the pages of @p in a shuffled order.  The page allocator hands
 * out physically adjacent pages one after the other, so this scatters the
 * buffer over physical memory the way a long-running machine would.
 */
static void touch_scattered(uint8_t *p, size_t len)
{
	size_t n = len / PAGE, i, j, t;
	size_t *order = malloc(n * sizeof(*order));
	uint64_t x = 0x2545f4914f6cdd1dULL;

	if (!order) {
		touch(p, len, PAGE);
		return;
	}
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
		p[order[i] * PAGE] = (uint8_t)(i + 1);
	free(order);
}

static bool thp_available(void)
{
	return !access("/sys/kernel/mm/transparent_hugepage/enabled", R_OK);
}

/* Anonymous memory of 4 KiB pages, faulted in shuffled: scattered pages. */
static uint8_t *scattered_anon(size_t len)
{
	uint8_t *buf = map_anon(len, 0, thp_available() ? MADV_NOHUGEPAGE : 0);

	if (buf)
		touch_scattered(buf, len);
	return buf;
}

static void *mmap_hugetlb(size_t len)
{
	void *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_HUGE_2MB,
		       -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/*
 * The pin counters of the whole machine in /proc/vmstat, after folding
 * the per-CPU counter deltas into them: pages pinned with FOLL_PIN and
 * pins released, each counted once per page.  Return 0 or -1.
 */
static int foll_pin_counts(long *acquired, long *released)
{
	char name[64];
	FILE *f;
	long v;
	int fd;

	*acquired = -1;
	*released = -1;
	fd = open("/proc/sys/vm/stat_refresh", O_WRONLY);
	if (fd < 0)
		return -1;
	if (write(fd, "1", 1) != 1) {
		close(fd);
		return -1;
	}
	close(fd);
	f = fopen("/proc/vmstat", "r");
	if (!f)
		return -1;
	while (fscanf(f, "%63s %ld", name, &v) == 2) {
		if (!strcmp(name, "nr_foll_pin_acquired"))
			*acquired = v;
		else if (!strcmp(name, "nr_foll_pin_released"))
			*released = v;
	}
	fclose(f);
	return *acquired < 0 || *released < 0 ? -1 : 0;
}

/* Pins held in the whole machine: acquired - released, or -1. */
static long foll_pins(void)
{
	long acquired, released;

	if (foll_pin_counts(&acquired, &released))
		return -1;
	return acquired - released;
}

/* VmPin of /proc/self/status, the process's pinned_vm, in KiB. */
static long vm_pin_kb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[128];
	long kb = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPin: %ld kB", &kb) == 1)
			break;
	fclose(f);
	return kb;
}

/* Give up CAP_IPC_LOCK, as an ordinary user has it not. */
static int drop_cap_ipc_lock(void)
{
	struct __user_cap_header_struct hdr = {
		.version = _LINUX_CAPABILITY_VERSION_3,
	};
	struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	data[CAP_TO_INDEX(CAP_IPC_LOCK)].effective &= ~CAP_TO_MASK(CAP_IPC_LOCK);
	return syscall(SYS_capset, &hdr, data) ? -errno : 0;
}

/*
 * Make the n-th fault point that the calling thread passes fail
 * (/proc/thread-self/fail-nth, CONFIG_FAULT_INJECTION): phyr's chunk
 * allocations and phyr_map()'s backends have one.  0 turns it off.
 */
static int set_fail_nth(unsigned int n)
{
	char buf[16];
	int fd = open("/proc/thread-self/fail-nth", O_WRONLY), len, ret;

	if (fd < 0)
		return -errno;
	len = snprintf(buf, sizeof(buf), "%u", n);
	ret = write(fd, buf, len) == len ? 0 : -errno;
	close(fd);
	return ret;
}

/* What is left of the count: not 0 when the fault was not reached. */
static unsigned int get_fail_nth(void)
{
	char buf[16] = "";
	int fd = open("/proc/thread-self/fail-nth", O_RDONLY);

	if (fd < 0)
		return 0;
	if (read(fd, buf, sizeof(buf) - 1) < 0)
		buf[0] = 0;
	close(fd);
	return strtoul(buf, NULL, 10);
}

/*
 * The fail_nth sweep: make the n-th fault point that ioctl @cmd passes
 * fail, for n = 1, 2, ... until the ioctl succeeds.  Every failure must
 * be -ENOMEM and leave the file as it was: the same list, by length,
 * number of ranges and their digest, the same mapping or none, and no pin
 * more or less in the machine.  The ioctl must succeed because the n-th
 * fault point was not reached.  Return the number of failures injected.
 */
static unsigned int fail_nth_sweep(struct __test_metadata *_metadata,
				   int fd, unsigned long cmd, void *arg)
{
	struct phyr_test_stats st0, st;
	unsigned int n, left = 0;
	long pins = foll_pins();
	int ret;

	ASSERT_EQ(0, phyr_stats(fd, &st0));
	for (n = 1; n < 10000; n++) {
		ASSERT_EQ(0, set_fail_nth(n));
		ret = ioctl(fd, cmd, arg) ? -errno : 0;
		left = get_fail_nth();
		ASSERT_EQ(0, set_fail_nth(0));
		if (!ret)
			break;
		ASSERT_EQ(-ENOMEM, ret);
		ASSERT_EQ(0, phyr_stats(fd, &st));
		ASSERT_EQ(st0.bytes, st.bytes);
		ASSERT_EQ(st0.ranges, st.ranges);
		ASSERT_EQ(st0.ranges_hash, st.ranges_hash);
		ASSERT_EQ(st0.dma_ranges, st.dma_ranges);
		ASSERT_EQ(pins, foll_pins());
	}
	EXPECT_NE(0, left);
	return n - 1;
}

static void log_stats(struct __test_metadata *_metadata, const char *what,
		      int fd)
{
	struct phyr_test_stats st;

	ASSERT_EQ(0, phyr_stats(fd, &st));
	ksft_print_msg("%s: %llu bytes in %llu ranges, %llu bytes of storage\n",
		       what, st.bytes, st.ranges, st.mem_bytes);
	ksft_print_msg("%s: ranges by entry size 4/8/12/20: %llu/%llu/%llu/%llu\n",
		       what, st.range_class[0], st.range_class[1],
		       st.range_class[2], st.range_class[3]);
	ksft_print_msg("%s: sg_table %llu entries, %llu bytes of storage\n",
		       what, st.sgt_nents, st.sgt_mem_bytes);
}

/* Pinning, without a device. */
FIXTURE(pin) {
	int fd;
	long pins;
};

FIXTURE_SETUP(pin)
{
	self->pins = foll_pins();
	self->fd = open("/dev/test_phyr", O_RDWR);
	if (self->fd < 0)
		SKIP(return, "no /dev/test_phyr: a kernel with CONFIG_TEST_PHYR");
}

FIXTURE_TEARDOWN(pin)
{
	if (self->fd >= 0)
		close(self->fd);
	/* whatever the test did, closing the file released every pin */
	EXPECT_EQ(self->pins, foll_pins());
}

TEST_F(pin, pages_4k)
{
	size_t len = 16UL << 20;
	struct phyr_test_stats st;
	uint8_t *buf;

	buf = scattered_anon(len);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, phyr_pin(self->fd, buf, len, PHYR_TEST_PIN_WRITE |
			      PHYR_TEST_PIN_LONGTERM | PHYR_TEST_PIN_SGT));
	ASSERT_EQ(0, phyr_stats(self->fd, &st));
	log_stats(_metadata, "16 MiB of 4 KiB pages", self->fd);
	EXPECT_EQ(len, st.bytes);
	EXPECT_LE(1, st.ranges);
	EXPECT_GE(len / PAGE, st.ranges);
	EXPECT_EQ(st.ranges, st.range_class[0] + st.range_class[1] +
			     st.range_class[2] + st.range_class[3]);
	/* at most 8 bytes a page, plus the chunk that is not full */
	EXPECT_GE(len / PAGE * 8 + 2 * PAGE, st.mem_bytes);
	/* the sg_table merges contiguous pages the same way */
	EXPECT_EQ(st.ranges, st.sgt_nents);
	EXPECT_LT(st.mem_bytes, st.sgt_mem_bytes);
	EXPECT_EQ(0, phyr_cmd(self->fd, PHYR_TEST_IOC_UNPIN));
	ASSERT_EQ(0, phyr_stats(self->fd, &st));
	EXPECT_EQ(0, st.ranges);
	EXPECT_EQ(0, munmap(buf, len));
}

TEST_F_TIMEOUT(pin, thp_1g, 900)
{
	struct phyr_test_stats st;
	uint8_t *buf;

	if (!thp_available())
		SKIP(return, "no THP: a kernel with CONFIG_TRANSPARENT_HUGEPAGE");
	buf = map_anon(SZ_1G, SZ_2M, MADV_HUGEPAGE);
	ASSERT_NE(NULL, buf);
	/* one write per huge page faults in the whole folio */
	touch(buf, SZ_1G, SZ_2M);
	ASSERT_EQ(0, phyr_pin(self->fd, buf, SZ_1G, PHYR_TEST_PIN_WRITE |
			      PHYR_TEST_PIN_LONGTERM));
	ASSERT_EQ(0, phyr_stats(self->fd, &st));
	log_stats(_metadata, "1 GiB of THP", self->fd);
	EXPECT_EQ(SZ_1G, st.bytes);
	/* one range per 2 MiB folio at most: the folio test */
	EXPECT_GE(512, st.ranges);
	EXPECT_GE(2 * PAGE, st.mem_bytes);
	EXPECT_EQ(0, phyr_cmd(self->fd, PHYR_TEST_IOC_UNPIN));
	EXPECT_EQ(0, munmap(buf, SZ_1G));
}

TEST_F(pin, hugetlb_2m)
{
	size_t len = 4 * SZ_2M;
	struct phyr_test_stats st;
	uint8_t *buf = mmap_hugetlb(len);

	if (!buf)
		SKIP(return, "no 2 MiB hugetlb pages (boot with hugepages=N)");
	touch(buf, len, SZ_2M);
	ASSERT_EQ(0, phyr_pin(self->fd, buf, len, PHYR_TEST_PIN_WRITE |
			      PHYR_TEST_PIN_LONGTERM | PHYR_TEST_PIN_SGT));
	ASSERT_EQ(0, phyr_stats(self->fd, &st));
	log_stats(_metadata, "8 MiB of hugetlb", self->fd);
	EXPECT_EQ(len, st.bytes);
	EXPECT_GE(4, st.ranges);
	EXPECT_EQ(0, munmap(buf, len));
	/* unpinned on close: the pins keep the pages until then */
}

TEST_F(pin, unaligned)
{
	static const struct { size_t off, len; } cases[] = {
		{ 123, 5 * PAGE + 456 },	/* both ends inside a page */
		{ PAGE - 1, 2 },		/* two bytes in two pages */
		{ 7, 1 },			/* a single byte */
		{ 0, 3 * PAGE + 1 },		/* one byte of the last page */
		{ PAGE + 1, PAGE - 1 },		/* to the end of a page */
	};
	struct phyr_test_stats st;
	uint8_t *buf;
	size_t i;

	buf = map_anon(16 * PAGE, 0, 0);
	ASSERT_NE(NULL, buf);
	touch(buf, 16 * PAGE, PAGE);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		ASSERT_EQ(0, phyr_pin(self->fd, buf + cases[i].off,
				      cases[i].len,
				      PHYR_TEST_PIN_WRITE | PHYR_TEST_PIN_SGT));
		ASSERT_EQ(0, phyr_stats(self->fd, &st));
		EXPECT_EQ(cases[i].len, st.bytes);
		EXPECT_LE(1, st.ranges);
		EXPECT_EQ(st.ranges, st.sgt_nents);
		ASSERT_EQ(0, phyr_cmd(self->fd, PHYR_TEST_IOC_UNPIN));
	}
	EXPECT_EQ(0, munmap(buf, 16 * PAGE));
}

TEST_F(pin, readonly_write)
{
	struct phyr_test_stats st;
	uint8_t *buf;

	buf = mmap(NULL, 4 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	EXPECT_EQ(-EFAULT, phyr_pin(self->fd, buf, 4 * PAGE,
				    PHYR_TEST_PIN_WRITE));
	EXPECT_EQ(-EFAULT, phyr_pin(self->fd, buf, 4 * PAGE,
				    PHYR_TEST_PIN_WRITE |
				    PHYR_TEST_PIN_LONGTERM |
				    PHYR_TEST_PIN_SGT));
	ASSERT_EQ(0, phyr_stats(self->fd, &st));
	EXPECT_EQ(0, st.ranges);
	/* reading is fine */
	EXPECT_EQ(0, phyr_pin(self->fd, buf, 4 * PAGE, 0));
	EXPECT_EQ(0, phyr_cmd(self->fd, PHYR_TEST_IOC_UNPIN));
	EXPECT_EQ(0, munmap(buf, 4 * PAGE));
}

/*
 * Pins are charged to pinned_vm against RLIMIT_MEMLOCK, as RDMA charges
 * them: beyond it, a process without CAP_IPC_LOCK gets ENOMEM, with
 * nothing pinned or charged.
 */
TEST_F(pin, memlock_limit)
{
	struct rlimit lim = { 16 * PAGE, 16 * PAGE };
	long vm_pin = vm_pin_kb();
	uint8_t *buf;

	ASSERT_LE(0, vm_pin);
	buf = mmap(NULL, 32 * PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, setrlimit(RLIMIT_MEMLOCK, &lim));
	ASSERT_EQ(0, drop_cap_ipc_lock());

	EXPECT_EQ(-ENOMEM, phyr_pin(self->fd, buf, 32 * PAGE,
				    PHYR_TEST_PIN_WRITE));
	EXPECT_EQ(vm_pin, vm_pin_kb());
	EXPECT_EQ(self->pins, foll_pins());
	/* the sg_table pins a second time, and is charged so */
	EXPECT_EQ(-ENOMEM, phyr_pin(self->fd, buf, 12 * PAGE,
				    PHYR_TEST_PIN_WRITE | PHYR_TEST_PIN_SGT));
	EXPECT_EQ(vm_pin, vm_pin_kb());
	EXPECT_EQ(self->pins, foll_pins());

	ASSERT_EQ(0, phyr_pin(self->fd, buf, 8 * PAGE, PHYR_TEST_PIN_WRITE));
	EXPECT_EQ(vm_pin + 8 * PAGE / 1024, vm_pin_kb());
	EXPECT_EQ(-ENOMEM, phyr_append(self->fd, buf + 8 * PAGE, 9 * PAGE,
				       PHYR_TEST_PIN_WRITE));
	EXPECT_EQ(vm_pin + 8 * PAGE / 1024, vm_pin_kb());
	EXPECT_EQ(0, phyr_append(self->fd, buf + 8 * PAGE, 8 * PAGE,
				 PHYR_TEST_PIN_WRITE));
	EXPECT_EQ(vm_pin + 16 * PAGE / 1024, vm_pin_kb());
	EXPECT_EQ(0, phyr_cmd(self->fd, PHYR_TEST_IOC_UNPIN));
	EXPECT_EQ(vm_pin, vm_pin_kb());
	EXPECT_EQ(self->pins, foll_pins());
	EXPECT_EQ(0, munmap(buf, 32 * PAGE));
}

/*
 * The example's buffer is capped: a length of terabytes is refused before
 * anything is allocated or pinned for it.
 */
TEST_F(pin, example_too_long)
{
	struct phyr_test_example ex = {
		.len = 4ULL << 40,
		.dev = PHYR_TEST_DEV_EDU_SWITCH,
	};
	uint8_t *buf;

	buf = mmap(NULL, PAGE, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	ex.addr = (uintptr_t)buf;
	EXPECT_EQ(-1, ioctl(self->fd, PHYR_TEST_IOC_EXAMPLE, &ex));
	EXPECT_EQ(EINVAL, errno);
	ex.flags = PHYR_TEST_EXAMPLE_SG;
	EXPECT_EQ(-1, ioctl(self->fd, PHYR_TEST_IOC_EXAMPLE, &ex));
	EXPECT_EQ(EINVAL, errno);
	ex.len = PHYR_TEST_EXAMPLE_MAX_LEN + 1;
	EXPECT_EQ(-1, ioctl(self->fd, PHYR_TEST_IOC_EXAMPLE, &ex));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(self->pins, foll_pins());
	EXPECT_EQ(0, munmap(buf, PAGE));
}

/*
 * Memory pinned read-only is never written: not by the device, which
 * gets a DMA_TO_DEVICE mapping, and not by the check, which refuses.
 * Untouched anonymous memory is the shared zero page.
 */
TEST_F(pin, readonly_check)
{
	struct phyr_test_check chk = { .nr_samples = 2, .seed = 7 };
	uint8_t *buf;
	size_t i;
	int ret;

	buf = mmap(NULL, 2 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		   -1, 0);
	ASSERT_NE(MAP_FAILED, buf);
	ASSERT_EQ(0, phyr_pin(self->fd, buf, 2 * PAGE, 0));
	ret = phyr_map_dev(self->fd, PHYR_TEST_DEV_EDU_SWITCH, 0);
	if (ret == -ENODEV)
		SKIP(return, "no edu device");
	ASSERT_EQ(0, ret);
	EXPECT_EQ(-1, ioctl(self->fd, PHYR_TEST_IOC_CHECK, &chk));
	EXPECT_EQ(EACCES, errno);
	for (i = 0; i < 2 * PAGE; i++)
		if (buf[i])
			break;
	EXPECT_EQ(2 * PAGE, i);
	EXPECT_EQ(0, phyr_cmd(self->fd, PHYR_TEST_IOC_UNMAP));
	EXPECT_EQ(0, phyr_cmd(self->fd, PHYR_TEST_IOC_UNPIN));
	EXPECT_EQ(0, munmap(buf, 2 * PAGE));
}

TEST_F(pin, hole)
{
	struct phyr_test_stats st;
	uint8_t *buf;

	/* more than one batch before the hole, so that there is a rollback */
	buf = map_anon(1100 * PAGE, 0, 0);
	ASSERT_NE(NULL, buf);
	touch(buf, 1100 * PAGE, PAGE);
	ASSERT_EQ(0, munmap(buf + 1050 * PAGE, PAGE));
	EXPECT_EQ(-EFAULT, phyr_pin(self->fd, buf, 1100 * PAGE,
				    PHYR_TEST_PIN_WRITE));
	EXPECT_EQ(-EFAULT, phyr_pin(self->fd, buf + 10, 1100 * PAGE - 20,
				    PHYR_TEST_PIN_WRITE | PHYR_TEST_PIN_SGT));
	ASSERT_EQ(0, phyr_stats(self->fd, &st));
	EXPECT_EQ(0, st.ranges);
	EXPECT_EQ(0, st.bytes);
	/* the file holds nothing: a new pin works */
	EXPECT_EQ(0, phyr_pin(self->fd, buf, 1050 * PAGE, PHYR_TEST_PIN_WRITE));
	EXPECT_EQ(0, phyr_cmd(self->fd, PHYR_TEST_IOC_UNPIN));
	munmap(buf, 1050 * PAGE);
	munmap(buf + 1051 * PAGE, 49 * PAGE);
}

/*
 * Every allocation of the pin path fails in turn: the pin either works or
 * fails with -ENOMEM having released every page it pinned.
 */
TEST_F(pin, fail_nth)
{
	size_t len = 8UL << 20;
	struct phyr_test_pin pin = {
		.len = len,
		.flags = PHYR_TEST_PIN_WRITE | PHYR_TEST_PIN_LONGTERM,
	};
	struct phyr_test_stats st;
	long pins = foll_pins();
	unsigned int failed;
	uint8_t *buf;

	if (set_fail_nth(0))
		SKIP(return, "no /proc/thread-self/fail-nth (CONFIG_FAULT_INJECTION)");
	buf = scattered_anon(len);
	ASSERT_NE(NULL, buf);
	pin.addr = (uintptr_t)buf;
	/* every failure leaves the file empty and releases its pins */
	failed = fail_nth_sweep(_metadata, self->fd, PHYR_TEST_IOC_PIN, &pin);
	EXPECT_LT(0, failed);
	ksft_print_msg("pin of 8 MiB of 4 KiB pages: %u allocations failed in turn\n",
		       failed);
	ASSERT_EQ(0, phyr_stats(self->fd, &st));
	EXPECT_EQ(len, st.bytes);
	EXPECT_EQ(0, phyr_cmd(self->fd, PHYR_TEST_IOC_UNPIN));
	EXPECT_EQ(pins, foll_pins());
	EXPECT_EQ(0, munmap(buf, len));
}

/*
 * Pieces of one page pinned by separate calls into one list: where a
 * piece starts at the byte after the last one, in the middle of a page,
 * it merges into the last range and the page stays pinned once, so that
 * unpinning the range releases every pin.  @pieces are { offset, length }
 * in @buf, pinned in order; @ranges and @held are what the list and the
 * machine then hold.
 */
static void pin_pieces(struct __test_metadata *_metadata, int fd,
		       uint8_t *buf, const size_t (*pieces)[2],
		       unsigned int nr, uint64_t ranges, long held)
{
	long acq0, rel0, acq, rel;
	struct phyr_test_stats st;
	uint64_t bytes = 0;
	unsigned int i;

	ASSERT_EQ(0, foll_pin_counts(&acq0, &rel0));
	ASSERT_EQ(0, phyr_pin(fd, buf + pieces[0][0], pieces[0][1],
			      PHYR_TEST_PIN_WRITE));
	for (i = 1; i < nr; i++)
		ASSERT_EQ(0, phyr_append(fd, buf + pieces[i][0], pieces[i][1],
					 PHYR_TEST_PIN_WRITE));
	for (i = 0; i < nr; i++)
		bytes += pieces[i][1];
	ASSERT_EQ(0, phyr_stats(fd, &st));
	EXPECT_EQ(bytes, st.bytes);
	if (ranges)
		EXPECT_EQ(ranges, st.ranges);
	ASSERT_EQ(0, foll_pin_counts(&acq, &rel));
	ksft_print_msg("%u pieces from offset %zu: %llu ranges, pins acquired %ld released %ld\n",
		       nr, pieces[0][0], st.ranges, acq - acq0, rel - rel0);
	EXPECT_EQ(held, (acq - acq0) - (rel - rel0));

	ASSERT_EQ(0, phyr_cmd(fd, PHYR_TEST_IOC_UNPIN));
	ASSERT_EQ(0, foll_pin_counts(&acq, &rel));
	EXPECT_EQ(acq - acq0, rel - rel0);
}

TEST_F(pin, append_same_page)
{
	/* one range: the page is pinned once */
	static const size_t merged[][2] = { { 0, 100 }, { 100, 100 } };
	static const size_t three[][2] = {
		{ 1000, 24 }, { 1024, 1000 }, { 2024, 2072 },
	};
	/* two ranges of one page: pinned twice, once per range */
	static const size_t gap[][2] = { { 0, 100 }, { 200, 100 } };
	static const size_t backwards[][2] = { { 100, 100 }, { 0, 100 } };
	/* meeting at a page boundary: two pages, each pinned once */
	static const size_t boundary[][2] = { { PAGE - 50, 50 }, { PAGE, 50 } };
	struct phyr_test_stats st, st2;
	uint8_t *buf = map_anon(4 * PAGE, 0, 0);
	long pins;

	ASSERT_NE(NULL, buf);
	touch(buf, 4 * PAGE, PAGE);
	pin_pieces(_metadata, self->fd, buf, merged, 2, 1, 1);
	pin_pieces(_metadata, self->fd, buf, three, 3, 1, 1);
	pin_pieces(_metadata, self->fd, buf, gap, 2, 2, 2);
	pin_pieces(_metadata, self->fd, buf, backwards, 2, 2, 2);
	pin_pieces(_metadata, self->fd, buf, boundary, 2, 0, 2);

	/* an append that fails leaves the list and its pins alone */
	ASSERT_EQ(0, phyr_pin(self->fd, buf, 100, PHYR_TEST_PIN_WRITE));
	ASSERT_EQ(0, phyr_stats(self->fd, &st));
	pins = foll_pins();
	ASSERT_EQ(0, munmap(buf + 2 * PAGE, PAGE));
	EXPECT_EQ(-EFAULT, phyr_append(self->fd, buf + 100, 3 * PAGE,
				       PHYR_TEST_PIN_WRITE));
	ASSERT_EQ(0, phyr_stats(self->fd, &st2));
	EXPECT_EQ(st.bytes, st2.bytes);
	EXPECT_EQ(st.ranges, st2.ranges);
	EXPECT_EQ(st.ranges_hash, st2.ranges_hash);
	EXPECT_EQ(pins, foll_pins());
	/* and the list still takes the next one */
	EXPECT_EQ(0, phyr_append(self->fd, buf + 100, 100, PHYR_TEST_PIN_WRITE));
	ASSERT_EQ(0, phyr_stats(self->fd, &st2));
	EXPECT_EQ(200, st2.bytes);
	EXPECT_EQ(1, st2.ranges);
	EXPECT_EQ(pins, foll_pins());
	EXPECT_EQ(0, phyr_cmd(self->fd, PHYR_TEST_IOC_UNPIN));
	munmap(buf, 2 * PAGE);
	munmap(buf + 3 * PAGE, PAGE);
}

/*
 * Every allocation of an append fails in turn: the append either works or
 * fails with -ENOMEM, leaving the list that was pinned before as it was
 * and releasing every page it pinned.  The new range starts in the middle
 * of the last page of the list, so the page they share is pinned once.
 */
TEST_F(pin, append_fail_nth)
{
	size_t len_a = 64 * PAGE + 100, len_b = 8UL << 20;
	size_t len = 2113 * PAGE;	/* pages 0 to 2112 */
	struct phyr_test_pin app = {
		.len = len_b,
		.flags = PHYR_TEST_PIN_WRITE | PHYR_TEST_PIN_LONGTERM |
			 PHYR_TEST_PIN_APPEND,
	};
	struct phyr_test_stats st_a, st;
	long pins = foll_pins();
	unsigned int failed;
	uint8_t *buf;

	if (set_fail_nth(0))
		SKIP(return, "no /proc/thread-self/fail-nth (CONFIG_FAULT_INJECTION)");
	buf = scattered_anon(len);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, phyr_pin(self->fd, buf, len_a, PHYR_TEST_PIN_WRITE |
			      PHYR_TEST_PIN_LONGTERM));
	ASSERT_EQ(0, phyr_stats(self->fd, &st_a));
	EXPECT_EQ(65, foll_pins() - pins);

	app.addr = (uintptr_t)buf + len_a;
	failed = fail_nth_sweep(_metadata, self->fd, PHYR_TEST_IOC_PIN, &app);
	EXPECT_LT(0, failed);
	ksft_print_msg("append of 8 MiB to a list of %llu ranges: %u allocations failed in turn\n",
		       st_a.ranges, failed);
	ASSERT_EQ(0, phyr_stats(self->fd, &st));
	EXPECT_EQ(len_a + len_b, st.bytes);
	EXPECT_LE(st_a.ranges, st.ranges);
	/* 65 pages, then 2049 of which the first is the 65th */
	EXPECT_EQ(2113, foll_pins() - pins);
	EXPECT_EQ(0, phyr_cmd(self->fd, PHYR_TEST_IOC_UNPIN));
	EXPECT_EQ(pins, foll_pins());
	EXPECT_EQ(0, munmap(buf, len));
}

TEST_F(pin, lengths)
{
	uint8_t *buf = map_anon(4 * PAGE, 0, 0);

	ASSERT_NE(NULL, buf);
	EXPECT_EQ(-EINVAL, phyr_pin(self->fd, buf, 0, 0));
	EXPECT_EQ(-EINVAL, phyr_pin(self->fd, buf, UINT64_MAX, 0));
	EXPECT_EQ(-EINVAL, phyr_pin(self->fd, buf, -(uintptr_t)buf + 1, 0));
	/* in the address space but not mapped, or not user memory */
	EXPECT_EQ(-EFAULT, phyr_pin(self->fd, buf, 1ULL << 46, 0));
	EXPECT_EQ(-EFAULT, phyr_pin(self->fd, buf, 1ULL << 62, 0));
	EXPECT_EQ(-EFAULT, phyr_pin(self->fd, (void *)0xffff888000000000UL,
				    PAGE, 0));
	EXPECT_EQ(-EFAULT, phyr_pin(self->fd, NULL, PAGE, 0));
	EXPECT_EQ(0, munmap(buf, 4 * PAGE));
}

TEST_F(pin, bad_arguments)
{
	struct phyr_test_pin pin = { .len = PAGE };
	struct phyr_test_check chk = { .nr_samples = 1 };
	struct phyr_test_example ex = { .len = PAGE };
	uint8_t *buf = map_anon(4 * PAGE, 0, 0);

	ASSERT_NE(NULL, buf);
	pin.addr = (uintptr_t)buf;
	ex.addr = (uintptr_t)buf;
	EXPECT_EQ(-EINVAL, phyr_pin(self->fd, buf, PAGE, 1U << 31));
	/* P2P memory may not be pinned long-term: it can be unplugged */
	EXPECT_EQ(-EINVAL, phyr_pin(self->fd, buf, PAGE,
				    PHYR_TEST_PIN_LONGTERM | PHYR_TEST_PIN_P2P));
	pin.__reserved = 1;
	EXPECT_EQ(-1, ioctl(self->fd, PHYR_TEST_IOC_PIN, &pin));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, PHYR_TEST_IOC_PIN, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, PHYR_TEST_IOC_STATS, (void *)8));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, PHYR_TEST_IOC_INFO, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IO('p', 0x7f)));
	EXPECT_EQ(ENOTTY, errno);
	/* nothing pinned */
	EXPECT_EQ(-EINVAL, phyr_map_dev(self->fd, PHYR_TEST_DEV_EDU_SWITCH, 0));
	EXPECT_EQ(-EINVAL, phyr_cmd(self->fd, PHYR_TEST_IOC_UNMAP));
	EXPECT_EQ(-EINVAL, phyr_cmd(self->fd, PHYR_TEST_IOC_UNPIN));
	EXPECT_EQ(-1, ioctl(self->fd, PHYR_TEST_IOC_CHECK, &chk));
	EXPECT_EQ(EINVAL, errno);
	/* nothing to append to */
	EXPECT_EQ(-EINVAL, phyr_append(self->fd, buf, PAGE, PHYR_TEST_PIN_WRITE));
	/* the example: arguments first, then the device */
	ex.flags = 1U << 31;
	EXPECT_EQ(-1, ioctl(self->fd, PHYR_TEST_IOC_EXAMPLE, &ex));
	EXPECT_EQ(EINVAL, errno);
	ex.flags = 0;
	ex.__reserved = 1;
	EXPECT_EQ(-1, ioctl(self->fd, PHYR_TEST_IOC_EXAMPLE, &ex));
	EXPECT_EQ(EINVAL, errno);
	ex.__reserved = 0;
	ex.len = 0;
	EXPECT_EQ(-1, ioctl(self->fd, PHYR_TEST_IOC_EXAMPLE, &ex));
	EXPECT_EQ(EINVAL, errno);
	ex.len = -(uintptr_t)buf + 1;
	EXPECT_EQ(-1, ioctl(self->fd, PHYR_TEST_IOC_EXAMPLE, &ex));
	EXPECT_EQ(EINVAL, errno);
	ex.len = PAGE;
	ex.dev = PHYR_TEST_NR_DEVS;
	EXPECT_EQ(-1, ioctl(self->fd, PHYR_TEST_IOC_EXAMPLE, &ex));
	EXPECT_EQ(ENODEV, errno);
	EXPECT_EQ(-1, ioctl(self->fd, PHYR_TEST_IOC_EXAMPLE, NULL));
	EXPECT_EQ(EFAULT, errno);

	ASSERT_EQ(0, phyr_pin(self->fd, buf, 2 * PAGE, PHYR_TEST_PIN_WRITE));
	EXPECT_EQ(-EBUSY, phyr_pin(self->fd, buf, PAGE, 0));
	/* an append is pinned for writing like the list, without sg_table */
	EXPECT_EQ(-EINVAL, phyr_append(self->fd, buf + 2 * PAGE, PAGE, 0));
	EXPECT_EQ(-EINVAL, phyr_append(self->fd, buf + 2 * PAGE, PAGE,
				       PHYR_TEST_PIN_WRITE | PHYR_TEST_PIN_SGT));
	EXPECT_EQ(-ENODEV, phyr_map_dev(self->fd, PHYR_TEST_NR_DEVS, 0));
	EXPECT_EQ(-ENODEV, phyr_map_dev(self->fd, UINT32_MAX, 0));
	EXPECT_EQ(-EINVAL, phyr_map_dev(self->fd, 0, 1U << 31));
	/* no sg_table was built */
	EXPECT_EQ(-EINVAL, phyr_map_dev(self->fd, 0, PHYR_TEST_MAP_SGT));
	/* not mapped */
	EXPECT_EQ(-1, ioctl(self->fd, PHYR_TEST_IOC_CHECK, &chk));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, PHYR_TEST_IOC_CHECK, NULL));
	EXPECT_EQ(EFAULT, errno);
	/* nothing is appended to a list that has an sg_table */
	EXPECT_EQ(0, phyr_cmd(self->fd, PHYR_TEST_IOC_UNPIN));
	ASSERT_EQ(0, phyr_pin(self->fd, buf, 2 * PAGE, PHYR_TEST_PIN_WRITE |
			      PHYR_TEST_PIN_SGT));
	EXPECT_EQ(-EINVAL, phyr_append(self->fd, buf + 2 * PAGE, PAGE,
				       PHYR_TEST_PIN_WRITE));
	/* left pinned: close releases it */
	EXPECT_EQ(0, munmap(buf, 4 * PAGE));
}

/* Mapping for an edu device and letting it DMA, per path. */
/* What the map tests share; the fixture's variant is copied in. */
struct map_ctx {
	int fd;
	struct phyr_test_info info;
	uint32_t pin_flags;
	const char *path;
	bool iommu;
	bool p2p;
	void *cmb;		/* CMB memory mapped from sysfs */
	size_t cmb_len;
	long pins;		/* foll_pins() before the test */
};

FIXTURE(map) {
	struct map_ctx c;
};

FIXTURE_VARIANT(map) {
	const char *path;
	bool iommu;
	bool p2p;
};

FIXTURE_VARIANT_ADD(map, direct) {
	.path = "direct",
};

FIXTURE_VARIANT_ADD(map, iommu) {
	.path = "iommu",
	.iommu = true,
};

FIXTURE_VARIANT_ADD(map, p2p) {
	.path = "p2p",
	.p2p = true,
};

FIXTURE_SETUP(map)
{
	struct map_ctx *c = &self->c;
	const struct phyr_test_dev *edu;

	c->path = variant->path;
	c->iommu = variant->iommu;
	c->p2p = variant->p2p;
	c->cmb = NULL;
	c->pins = foll_pins();
	c->fd = open("/dev/test_phyr", O_RDWR);
	if (c->fd < 0)
		SKIP(return, "no /dev/test_phyr: a kernel with CONFIG_TEST_PHYR");
	ASSERT_EQ(0, ioctl(c->fd, PHYR_TEST_IOC_INFO, &c->info));
	edu = &c->info.dev[PHYR_TEST_DEV_EDU_SWITCH];
	if (!(edu->flags & PHYR_TEST_DEV_PRESENT))
		SKIP(return, "no edu device (1234:11e8) behind a PCIe switch");
	c->pin_flags = PHYR_TEST_PIN_WRITE | PHYR_TEST_PIN_LONGTERM |
		       PHYR_TEST_PIN_SGT;
	if (variant->p2p) {
		if (!c->info.p2p_name[0])
			SKIP(return, "no PCI memory registered for P2P DMA (NVMe CMB)");
		if (!(edu->flags & PHYR_TEST_DEV_P2P))
			SKIP(return, "the edu cannot reach %s by P2P",
			     c->info.p2p_name);
		/* pin_user_pages() refuses FOLL_LONGTERM for P2P memory */
		c->pin_flags = PHYR_TEST_PIN_WRITE | PHYR_TEST_PIN_P2P |
			       PHYR_TEST_PIN_SGT;
	} else if (variant->iommu && !(edu->flags & PHYR_TEST_DEV_IOMMU)) {
		SKIP(return, "no IOMMU in front of the edu (boot with intel_iommu=on)");
	} else if (!variant->iommu && (edu->flags & PHYR_TEST_DEV_IOMMU)) {
		SKIP(return, "the edu is behind an IOMMU (boot with intel_iommu=off)");
	}
}

FIXTURE_TEARDOWN(map)
{
	if (self->c.fd >= 0)
		close(self->c.fd);
	if (self->c.cmb)
		munmap(self->c.cmb, self->c.cmb_len);
	EXPECT_EQ(self->c.pins, foll_pins());
}

/* @len bytes of CMB memory, mapped through the p2pdma sysfs file. */
static void *map_p2p(struct map_ctx *c, size_t len)
{
	char path[96];
	void *p;
	int fd;

	snprintf(path, sizeof(path),
		 "/sys/bus/pci/devices/%s/p2pmem/allocate",
		 c->info.p2p_name);
	fd = open(path, O_RDWR);
	if (fd < 0)
		return NULL;
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return NULL;
	c->cmb = p;
	c->cmb_len = len;
	return p;
}

/* The device DMAs P2P through an IOMMU only with bus addresses QEMU routes. */
static bool can_check(const struct map_ctx *c, uint32_t dev)
{
	return !c->p2p || !(c->info.dev[dev].flags & PHYR_TEST_DEV_IOMMU);
}

/* Pin @buf, map it on @dev, check, compare with the sg_table, unmap. */
static void pin_map_check(struct __test_metadata *_metadata,
			  struct map_ctx *c, uint8_t *buf, size_t len,
			  uint32_t dev, const char *what)
{
	struct phyr_test_stats st;

	ASSERT_EQ(0, phyr_pin(c->fd, buf, len, c->pin_flags));
	ASSERT_EQ(0, phyr_map_dev(c->fd, dev, PHYR_TEST_MAP_SGT));
	ASSERT_EQ(0, phyr_stats(c->fd, &st));
	ksft_print_msg("%s %s: %llu ranges -> %llu DMA ranges%s; %s %llu us (sg %llu us)\n",
		       c->path, what, st.ranges, st.dma_ranges,
		       st.dma_identity ? " (identity)" : "", "map",
		       st.map_ns / 1000, st.sgt_map_ns / 1000);
	ksft_print_msg("%s %s: %llu DMA segments, sg_table %llu entries -> %llu DMA segments\n",
		       c->path, what, st.dma_segs, st.sgt_nents,
		       st.sgt_dma_nents);
	ksft_print_msg("%s %s: mapping state %llu bytes (embedded), %llu bytes allocated\n",
		       c->path, what, st.dma_state_bytes, st.dma_mem_bytes);
	EXPECT_EQ(len, st.bytes);
	EXPECT_EQ(c->p2p, st.p2p);
	EXPECT_LE(st.dma_ranges, st.dma_segs);
	EXPECT_LT(0, st.dma_state_bytes);
	if (c->iommu && !c->p2p) {
		/* one IOVA allocation, mapped linearly, kept in the state */
		EXPECT_EQ(1, st.dma_ranges);
		EXPECT_EQ(0, st.dma_identity);
		EXPECT_EQ(0, st.dma_mem_bytes);
	} else if (!c->iommu && !c->p2p) {
		/* dma-direct without an offset: the list itself */
		EXPECT_EQ(1, st.dma_identity);
		EXPECT_EQ(0, st.dma_mem_bytes);
	}
	if (can_check(c, dev)) {
		EXPECT_EQ(0, phyr_check(_metadata, c->fd, buf, 4,
					(uint32_t)len ^ dev));
	} else {
		ksft_print_msg("%s: no DMA check: QEMU sends P2P bus addresses to the IOMMU\n",
			       what);
	}
	EXPECT_EQ(0, phyr_cmd(c->fd, PHYR_TEST_IOC_UNMAP));
	EXPECT_EQ(0, phyr_cmd(c->fd, PHYR_TEST_IOC_UNPIN));
	ASSERT_EQ(0, phyr_stats(c->fd, &st));
	EXPECT_LT(0, st.pin_ns);
	EXPECT_LT(0, st.unpin_ns);
	EXPECT_LT(0, st.sgt_unpin_ns);
}

/* A buffer of @len bytes for the variant: CMB memory for "p2p". */
static uint8_t *buffer(struct map_ctx *c, size_t len)
{
	if (c->p2p)
		return map_p2p(c, len);
	return scattered_anon(len);
}

TEST_F(map, pages_4k)
{
	size_t len = variant->p2p ? 1UL << 20 : 8UL << 20;
	uint8_t *buf = buffer(&self->c, len);

	ASSERT_NE(NULL, buf);
	pin_map_check(_metadata, &self->c, buf, len,
		      PHYR_TEST_DEV_EDU_SWITCH, "4 KiB pages");
}

TEST_F(map, unaligned)
{
	uint8_t *buf = buffer(&self->c, 8 * PAGE);

	ASSERT_NE(NULL, buf);
	pin_map_check(_metadata, &self->c, buf + 100, 5 * PAGE + 300,
		      PHYR_TEST_DEV_EDU_SWITCH, "unaligned");
}

TEST_F(map, thp)
{
	size_t len = 32UL << 20;
	uint8_t *buf;

	if (variant->p2p)
		SKIP(return, "P2P memory is not THP");
	if (!thp_available())
		SKIP(return, "no THP: a kernel with CONFIG_TRANSPARENT_HUGEPAGE");
	buf = map_anon(len, SZ_2M, MADV_HUGEPAGE);
	ASSERT_NE(NULL, buf);
	touch(buf, len, SZ_2M);
	pin_map_check(_metadata, &self->c, buf, len,
		      PHYR_TEST_DEV_EDU_SWITCH, "THP");
}

TEST_F(map, hugetlb)
{
	size_t len = 2 * SZ_2M;
	uint8_t *buf;

	if (variant->p2p)
		SKIP(return, "P2P memory is not hugetlb");
	buf = mmap_hugetlb(len);
	if (!buf)
		SKIP(return, "no 2 MiB hugetlb pages (boot with hugepages=N)");
	touch(buf, len, PAGE);
	pin_map_check(_metadata, &self->c, buf, len,
		      PHYR_TEST_DEV_EDU_SWITCH, "hugetlb");
	munmap(buf, len);
}

/*
 * Pages shared with a child by fork(): pinning them for write must break
 * COW in the parent, so that the device writes what the parent sees and
 * the child keeps its copy.
 */
TEST_F(map, cow)
{
	size_t len = 64 * PAGE;
	int sync[2], status;
	uint8_t *buf;
	pid_t pid;
	char c;

	if (variant->p2p)
		SKIP(return, "P2P memory is mapped shared, there is no COW");
	buf = buffer(&self->c, len);
	ASSERT_NE(NULL, buf);
	memset(buf, 0x5a, len);
	ASSERT_EQ(0, pipe(sync));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		size_t i;

		/* wait for the parent's DMA, then look at our copy */
		if (read(sync[0], &c, 1) != 1)
			_exit(2);
		for (i = 0; i < len; i++)
			if (buf[i] != 0x5a)
				_exit(1);
		_exit(0);
	}
	pin_map_check(_metadata, &self->c, buf, len,
		      PHYR_TEST_DEV_EDU_SWITCH, "just forked");
	ASSERT_EQ(1, write(sync[1], "x", 1));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	close(sync[0]);
	close(sync[1]);
}

/* The edu on a root port: host memory works, the CMB is out of reach. */
TEST_F(map, root_port)
{
	const struct phyr_test_dev *edu =
		&self->c.info.dev[PHYR_TEST_DEV_EDU_ROOT];
	size_t len = 1UL << 20;
	struct phyr_test_stats st;
	uint8_t *buf;

	if (!(edu->flags & PHYR_TEST_DEV_PRESENT))
		SKIP(return, "no edu device on a root port");
	if (!variant->p2p &&
	    variant->iommu != !!(edu->flags & PHYR_TEST_DEV_IOMMU))
		SKIP(return, "the edu on the root port is on another path");
	buf = buffer(&self->c, len);
	ASSERT_NE(NULL, buf);
	if (!variant->p2p) {
		pin_map_check(_metadata, &self->c, buf, len,
			      PHYR_TEST_DEV_EDU_ROOT, "root port");
		return;
	}
	ASSERT_EQ(0, phyr_pin(self->c.fd, buf, len, self->c.pin_flags));
	EXPECT_EQ(-EREMOTEIO, phyr_map_dev(self->c.fd, PHYR_TEST_DEV_EDU_ROOT, 0));
	EXPECT_EQ(-EREMOTEIO, phyr_map_dev(self->c.fd, PHYR_TEST_DEV_EDU_ROOT,
					   PHYR_TEST_MAP_SGT));
	/* nothing stayed mapped */
	EXPECT_EQ(-EINVAL, phyr_cmd(self->c.fd, PHYR_TEST_IOC_UNMAP));
	ASSERT_EQ(0, phyr_stats(self->c.fd, &st));
	EXPECT_EQ(0, st.dma_ranges);
	EXPECT_EQ(0, phyr_cmd(self->c.fd, PHYR_TEST_IOC_UNPIN));
}

/*
 * Every fault point of phyr_map() fails in turn: the map either works or
 * fails with nothing left mapped, and then works.
 */
TEST_F(map, fail_nth)
{
	struct phyr_test_map map = { .dev = PHYR_TEST_DEV_EDU_SWITCH };
	struct map_ctx *c = &self->c;
	struct phyr_test_stats st;
	size_t len = 64 * PAGE;
	unsigned int failed;
	bool single_p2p;
	uint8_t *buf;

	if (set_fail_nth(0))
		SKIP(return, "no /proc/thread-self/fail-nth (CONFIG_FAULT_INJECTION)");
	buf = buffer(c, len);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, phyr_pin(c->fd, buf, len, c->pin_flags));
	/* every failure leaves nothing mapped (no DMA ranges) */
	failed = fail_nth_sweep(_metadata, c->fd, PHYR_TEST_IOC_MAP, &map);
	ksft_print_msg("%s: map of 64 scattered pages: %u failures injected\n",
		       c->path, failed);
	ASSERT_EQ(0, phyr_stats(c->fd, &st));
	/*
	 * IOVA and iommu_map() can fail behind an IOMMU; a P2P list that
	 * maps to one bus address range allocates nothing and cannot fail.
	 */
	single_p2p = c->p2p && st.dma_ranges == 1;
	if (single_p2p)
		EXPECT_EQ(0, failed);
	if (!single_p2p && (c->iommu || c->p2p))
		EXPECT_LT(0, failed);
	if (can_check(c, PHYR_TEST_DEV_EDU_SWITCH))
		EXPECT_EQ(0, phyr_check(_metadata, c->fd, buf, 2, 7));
	EXPECT_EQ(0, phyr_cmd(c->fd, PHYR_TEST_IOC_UNMAP));
	EXPECT_EQ(0, phyr_cmd(c->fd, PHYR_TEST_IOC_UNPIN));
}

/*
 * Two buffers pinned into one list by two calls, mapped as one and
 * checked by the edu over both: the list is what both pins gave.  For
 * "p2p", two parts of the CMB memory.
 */
TEST_F(map, append_two)
{
	struct map_ctx *c = &self->c;
	uint32_t flags = c->pin_flags & ~PHYR_TEST_PIN_SGT;
	struct phyr_test_stats st_a, st_b, st;
	struct iovec iov[2];
	uint8_t *a, *b;
	int fd_b;

	a = buffer(c, 16 * PAGE);
	ASSERT_NE(NULL, a);
	if (c->p2p) {
		b = a + 10 * PAGE;
	} else {
		b = map_anon(8 * PAGE, 0, thp_available() ? MADV_NOHUGEPAGE : 0);
		ASSERT_NE(NULL, b);
		touch_scattered(b, 8 * PAGE);
	}
	/* they end and start at different offsets in a page: never merged */
	iov[0].iov_base = a + 100;
	iov[0].iov_len = 5 * PAGE + 200;
	iov[1].iov_base = b + 50;
	iov[1].iov_len = 4 * PAGE;

	/* b alone, in another file that keeps it pinned, so it stays put */
	fd_b = open("/dev/test_phyr", O_RDWR);
	ASSERT_LE(0, fd_b);
	ASSERT_EQ(0, phyr_pin(fd_b, iov[1].iov_base, iov[1].iov_len, flags));
	ASSERT_EQ(0, phyr_stats(fd_b, &st_b));
	ASSERT_EQ(0, phyr_pin(c->fd, iov[0].iov_base, iov[0].iov_len, flags));
	ASSERT_EQ(0, phyr_stats(c->fd, &st_a));
	ASSERT_EQ(0, phyr_append(c->fd, iov[1].iov_base, iov[1].iov_len,
				 flags));
	ASSERT_EQ(0, phyr_stats(c->fd, &st));
	EXPECT_EQ(0, close(fd_b));
	ksft_print_msg("%s: %llu + %llu ranges appended: %llu ranges, %llu bytes\n",
		       c->path, st_a.ranges, st_b.ranges, st.ranges, st.bytes);
	EXPECT_EQ(iov[0].iov_len + iov[1].iov_len, st.bytes);
	EXPECT_EQ(st_a.ranges + st_b.ranges, st.ranges);
	EXPECT_EQ(c->p2p, st.p2p);

	ASSERT_EQ(0, phyr_map_dev(c->fd, PHYR_TEST_DEV_EDU_SWITCH, 0));
	/* a mapped list must not change */
	EXPECT_EQ(-EBUSY, phyr_append(c->fd, a + 12 * PAGE, PAGE, flags));
	ASSERT_EQ(0, phyr_stats(c->fd, &st));
	ksft_print_msg("%s: two buffers: %llu DMA ranges, %llu DMA segments\n",
		       c->path, st.dma_ranges, st.dma_segs);
	if (c->iommu && !c->p2p) {
		/*
		 * One linear IOVA range, but the IOMMU maps pages: a ends
		 * at another offset in a page than b starts at.
		 */
		EXPECT_EQ(2, st.dma_ranges);
	} else if (!c->iommu && !c->p2p) {
		EXPECT_EQ(1, st.dma_identity);
	}
	if (can_check(c, PHYR_TEST_DEV_EDU_SWITCH))
		EXPECT_EQ(0, phyr_check_iov(_metadata, c->fd, iov, 2, 8, 0xa99));
	EXPECT_EQ(0, phyr_cmd(c->fd, PHYR_TEST_IOC_UNMAP));
	EXPECT_EQ(0, phyr_cmd(c->fd, PHYR_TEST_IOC_UNPIN));
	if (!c->p2p)
		EXPECT_EQ(0, munmap(b, 8 * PAGE));
}

#define EXAMPLE_FILL	0xff

/*
 * Check a buffer that was filled with EXAMPLE_FILL before
 * PHYR_TEST_IOC_EXAMPLE: each DMA segment starts with up to
 * PHYR_TEST_EXAMPLE_XFER bytes of phyr_test_example_byte(), the first two
 * of which mark its start, and holds EXAMPLE_FILL after them.  @nr_segs,
 * what the driver counted, tells whether a last byte alone is a segment.
 * Return the number of bytes that are wrong; *found is set to the number
 * of segments, *misplaced to those that start neither at the start of the
 * buffer nor at a page boundary, where the edu's limits (segments of up
 * to 4 GiB, no 4 GiB boundary crossed) cannot cut.
 */
static uint64_t example_scan(const uint8_t *buf, uint64_t len,
			     uint32_t nr_segs, uint32_t *found,
			     uint32_t *misplaced)
{
	uint64_t s = 0, p, bad = 0;

	*found = 1;
	*misplaced = 0;
	for (p = 0; p < len; p++) {
		uint64_t j = p - s;
		uint8_t want = j < PHYR_TEST_EXAMPLE_XFER ?
			       phyr_test_example_byte(j) : EXAMPLE_FILL;
		bool start = false;

		if (p > s && buf[p] == phyr_test_example_byte(0)) {
			if (p + 1 < len)
				start = buf[p + 1] == phyr_test_example_byte(1);
			else
				start = want != buf[p] || *found < nr_segs;
		}
		if (start) {
			s = p;
			want = phyr_test_example_byte(0);
			(*found)++;
			if ((uintptr_t)(buf + p) % PAGE)
				(*misplaced)++;
		}
		if (buf[p] != want)
			bad++;
	}
	return bad;
}

/* Run the example, or with @flags its scatterlist version, and check. */
static void example_run(struct __test_metadata *_metadata,
			struct map_ctx *c, uint8_t *buf, uint64_t len,
			uint32_t dev, uint32_t flags)
{
	struct phyr_test_example ex = {
		.addr = (uintptr_t)buf,
		.len = len,
		.dev = dev,
		.flags = flags,
	};
	uint64_t pages = ((uintptr_t)buf % PAGE + len + PAGE - 1) / PAGE;
	uint32_t found, misplaced;
	uint64_t bad;

	memset(buf, EXAMPLE_FILL, len);
	ASSERT_EQ(0, ioctl(c->fd, PHYR_TEST_IOC_EXAMPLE, &ex) ? -errno : 0);
	bad = example_scan(buf, len, ex.nr_segs, &found, &misplaced);
	ksft_print_msg("%s example%s on %s: %llu bytes from page offset %lu\n",
		       c->path, flags & PHYR_TEST_EXAMPLE_SG ? "_sg" : "",
		       c->info.dev[dev].name, (unsigned long long)len,
		       (unsigned long)((uintptr_t)buf % PAGE));
	ksft_print_msg("%s example%s: %u DMA segments, %llu bytes wrong\n",
		       c->path, flags & PHYR_TEST_EXAMPLE_SG ? "_sg" : "",
		       ex.nr_segs, (unsigned long long)bad);
	EXPECT_EQ(0, bad);
	EXPECT_EQ(ex.nr_segs, found);
	EXPECT_EQ(0, misplaced);
	EXPECT_LE(1, ex.nr_segs);
	EXPECT_GE(pages, ex.nr_segs);
	/* phyr_map() through an IOMMU: one linear IOVA range */
	if (c->iommu && !(flags & PHYR_TEST_EXAMPLE_SG))
		EXPECT_EQ(1, ex.nr_segs);
}

/* An edu that the example can run on in this variant, with the reason. */
static const char *example_no_dev(const struct map_ctx *c, uint32_t dev)
{
	uint32_t flags = c->info.dev[dev].flags;

	if (!(flags & PHYR_TEST_DEV_PRESENT))
		return "not present";
	if (c->iommu != !!(flags & PHYR_TEST_DEV_IOMMU))
		return "on another path";
	return NULL;
}

/*
 * The driver example of Documentation/core-api/phyr.rst and its
 * scatterlist equivalent: the edu writes the start of each DMA segment of
 * a user buffer.  On both edus where the path allows it.
 */
TEST_F(map, example)
{
	static const struct { size_t off, len; } cases[] = {
		{ 100, 6 * PAGE + 300 },	/* scattered pages */
		{ PAGE - 10, 20 },		/* 10 bytes in each of 2 pages */
	};
	struct map_ctx *c = &self->c;
	size_t len = 8 * PAGE;
	uint32_t dev, sg;
	const char *why;
	uint8_t *buf;
	size_t i;

	if (variant->p2p)
		SKIP(return, "the example pins with FOLL_LONGTERM, which P2P memory refuses");
	buf = buffer(c, len);
	ASSERT_NE(NULL, buf);
	for (dev = 0; dev < PHYR_TEST_NR_DEVS; dev++) {
		why = example_no_dev(c, dev);
		if (why) {
			ksft_print_msg("%s: no example on edu %u: %s\n",
				       c->path, dev, why);
			continue;
		}
		for (i = 0; i < ARRAY_SIZE(cases); i++)
			for (sg = 0; sg <= PHYR_TEST_EXAMPLE_SG; sg++)
				example_run(_metadata, c, buf + cases[i].off,
					    cases[i].len, dev, sg);
	}
	EXPECT_EQ(c->pins, foll_pins());
	EXPECT_EQ(0, munmap(buf, len));
}

/*
 * The error paths of the example and of its scatterlist version: memory
 * that cannot be pinned for writing, all of it or only after a part was
 * pinned, fails with -EFAULT and leaves no pin behind.
 */
TEST_F(map, example_errors)
{
	struct phyr_test_example ex = { .dev = PHYR_TEST_DEV_EDU_SWITCH };
	struct map_ctx *c = &self->c;
	uint8_t *ro, *hole;
	uint32_t sg;

	if (variant->p2p)
		SKIP(return, "the example pins with FOLL_LONGTERM, which P2P memory refuses");
	ro = mmap(NULL, 4 * PAGE, PROT_READ, MAP_PRIVATE | MAP_ANONYMOUS,
		  -1, 0);
	ASSERT_NE(MAP_FAILED, ro);
	hole = buffer(c, 8 * PAGE);
	ASSERT_NE(NULL, hole);
	ASSERT_EQ(0, munmap(hole + 5 * PAGE, PAGE));
	for (sg = 0; sg <= PHYR_TEST_EXAMPLE_SG; sg++) {
		ex.flags = sg;
		ex.addr = (uintptr_t)ro;
		ex.len = 4 * PAGE;
		EXPECT_EQ(-1, ioctl(c->fd, PHYR_TEST_IOC_EXAMPLE, &ex));
		EXPECT_EQ(EFAULT, errno);
		ex.addr = (uintptr_t)hole + 10;
		ex.len = 7 * PAGE;
		EXPECT_EQ(-1, ioctl(c->fd, PHYR_TEST_IOC_EXAMPLE, &ex));
		EXPECT_EQ(EFAULT, errno);
		EXPECT_EQ(c->pins, foll_pins());
	}
	EXPECT_EQ(0, munmap(ro, 4 * PAGE));
	EXPECT_EQ(0, munmap(hole, 5 * PAGE));
	EXPECT_EQ(0, munmap(hole + 6 * PAGE, 2 * PAGE));
}

/*
 * Every fault point of the example (phyr_pin_user() and phyr_map()) fails
 * in turn: it fails with -ENOMEM having undone what it did, no pin left,
 * until it works.  The scatterlist version has no fault points of phyr's.
 */
TEST_F(map, example_fail_nth)
{
	struct map_ctx *c = &self->c;
	size_t len = 16 * PAGE;
	struct phyr_test_example ex = {
		.len = 12 * PAGE,
		.dev = PHYR_TEST_DEV_EDU_SWITCH,
	};
	uint32_t found, misplaced;
	unsigned int failed;
	uint8_t *buf;

	if (variant->p2p)
		SKIP(return, "the example pins with FOLL_LONGTERM, which P2P memory refuses");
	if (set_fail_nth(0))
		SKIP(return, "no /proc/thread-self/fail-nth (CONFIG_FAULT_INJECTION)");
	buf = buffer(c, len);
	ASSERT_NE(NULL, buf);
	ex.addr = (uintptr_t)buf + 100;
	memset(buf, EXAMPLE_FILL, len);
	failed = fail_nth_sweep(_metadata, c->fd, PHYR_TEST_IOC_EXAMPLE, &ex);
	ksft_print_msg("%s: example on 12 scattered pages: %u failures injected\n",
		       c->path, failed);
	EXPECT_LT(0, failed);
	EXPECT_EQ(0, example_scan(buf + 100, ex.len, ex.nr_segs, &found,
				  &misplaced));
	EXPECT_EQ(ex.nr_segs, found);
	EXPECT_EQ(c->pins, foll_pins());
	EXPECT_EQ(0, munmap(buf, len));
}

/* Closing the file with a mapping and pins outstanding releases them. */
TEST_F(map, close_mapped)
{
	uint8_t *buf = buffer(&self->c, 16 * PAGE);

	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, phyr_pin(self->c.fd, buf, 16 * PAGE, self->c.pin_flags));
	ASSERT_EQ(0, phyr_map_dev(self->c.fd, PHYR_TEST_DEV_EDU_SWITCH,
				  PHYR_TEST_MAP_SGT));
	EXPECT_EQ(-EBUSY, phyr_map_dev(self->c.fd, PHYR_TEST_DEV_EDU_SWITCH, 0));
	EXPECT_EQ(0, close(self->c.fd));
	self->c.fd = -1;
}

TEST_HARNESS_MAIN
