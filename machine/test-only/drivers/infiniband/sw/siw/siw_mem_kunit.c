// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite siw_mem: siw_check_mem()'s check of an access range against
 * a memory object, with ranges that end past 2^64.
 *
 * Test-only: not part of the phyr series (machine/test-only/), built into
 * siw in the project's x86_64 KUnit kernel to test the series' siw fix.
 */

#include <kunit/test.h>

#include "siw.h"
#include "siw_mem.h"

#define VA	0x10000ULL
#define LEN	0x2000ULL

static void siw_test_check_mem_range(struct kunit *test)
{
	const enum ib_access_flags perms = IB_ACCESS_REMOTE_WRITE;
	struct ib_device *ibdev;
	struct siw_mem mem = {};
	struct ib_pd pd = {};

	ibdev = kunit_kzalloc(test, sizeof(*ibdev), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ibdev);
	pd.device = ibdev;
	mem.stag_valid = 1;
	mem.pd = &pd;
	mem.perms = IB_ACCESS_REMOTE_WRITE | IB_ACCESS_REMOTE_READ;
	mem.va = VA;
	mem.len = LEN;

	/* Inside, up to the last byte. */
	KUNIT_EXPECT_EQ(test, 0, siw_check_mem(&pd, &mem, VA, perms, LEN));
	KUNIT_EXPECT_EQ(test, 0, siw_check_mem(&pd, &mem, VA + LEN - 1,
					       perms, 1));
	KUNIT_EXPECT_EQ(test, 0, siw_check_mem(&pd, &mem, VA + 1, perms, 0));
	/* Outside, by a byte at either end. */
	KUNIT_EXPECT_EQ(test, -E_BASE_BOUNDS,
			siw_check_mem(&pd, &mem, VA - 1, perms, 1));
	KUNIT_EXPECT_EQ(test, -E_BASE_BOUNDS,
			siw_check_mem(&pd, &mem, VA + LEN, perms, 1));
	KUNIT_EXPECT_EQ(test, -E_BASE_BOUNDS,
			siw_check_mem(&pd, &mem, VA + 1, perms, LEN));
	/* Ranges whose end wraps around to below the object's end. */
	KUNIT_EXPECT_EQ(test, -E_BASE_BOUNDS,
			siw_check_mem(&pd, &mem, U64_MAX, perms, 1));
	KUNIT_EXPECT_EQ(test, -E_BASE_BOUNDS,
			siw_check_mem(&pd, &mem, U64_MAX - 0xfff, perms, LEN));
	KUNIT_EXPECT_EQ(test, -E_BASE_BOUNDS,
			siw_check_mem(&pd, &mem, U64_MAX - VA + 1, perms,
				      2 * VA));
	/* A negative length. */
	KUNIT_EXPECT_EQ(test, -E_BASE_BOUNDS,
			siw_check_mem(&pd, &mem, VA, perms, -1));
}

static struct kunit_case siw_mem_test_cases[] = {
	KUNIT_CASE(siw_test_check_mem_range),
	{}
};

static struct kunit_suite siw_mem_test_suite = {
	.name = "siw_mem",
	.test_cases = siw_mem_test_cases,
};

kunit_test_suite(siw_mem_test_suite);
