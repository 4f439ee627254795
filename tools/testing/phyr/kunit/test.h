/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Just enough of KUnit to run lib/phyr_kunit.c in userspace, the way
 * tools/testing/radix-tree runs lib/test_xarray.c: the runner is kunit.c.
 * A failed expectation is reported and the case goes on; a failed
 * assertion or kunit_skip() ends the case; deferred actions run at the end
 * of each case, last added first.
 */
#ifndef _SHIM_KUNIT_TEST_H
#define _SHIM_KUNIT_TEST_H

#include <setjmp.h>
#include <linux/kernel.h>
#include <linux/slab.h>

#define KUNIT_PARAM_DESC_SIZE	128

struct kunit;

struct kunit_case {
	void (*run_case)(struct kunit *test);
	const char *name;
	const void *(*generate_params)(const void *prev, char *desc);
	bool slow;
};

struct kunit_suite {
	const char *name;
	int (*init)(struct kunit *test);
	void (*exit)(struct kunit *test);
	struct kunit_case *test_cases;
};

struct kunit_action {
	void (*fn)(void *data);
	void *data;
	struct kunit_action *next;
};

struct kunit {
	void *priv;
	const void *param_value;
	const char *name;
	bool failed;
	bool skipped;
	jmp_buf end;
	struct kunit_action *actions;
};

void kunit_shim_fail(struct kunit *test, const char *file, int line,
		     const char *fmt, ...) __printf(4, 5);
void __noreturn kunit_shim_end(struct kunit *test);
void __noreturn kunit_shim_skip(struct kunit *test, const char *fmt, ...)
	__printf(2, 3);
int kunit_add_action_or_reset(struct kunit *test, void (*fn)(void *),
			      void *data);
void *kunit_kmalloc(struct kunit *test, size_t size, gfp_t gfp);

#define kunit_kzalloc(test, size, gfp)	kunit_kmalloc(test, size, (gfp) | __GFP_ZERO)
#define kunit_kmalloc_array(test, n, size, gfp)			\
	kunit_kmalloc(test, size_mul(n, size), gfp)
#define kunit_info(test, fmt, ...)					\
	printf("    # %s: " fmt, (test)->name, ##__VA_ARGS__)
#define kunit_skip(test, fmt, ...)	kunit_shim_skip(test, fmt, ##__VA_ARGS__)

#define KUNIT_DEFINE_ACTION_WRAPPER(wrapper, orig, arg_type)		\
	static void wrapper(void *in)					\
	{								\
		orig((arg_type)in);					\
	}

#define KUNIT_CASE(fn)		{ .run_case = fn, .name = #fn }
#define KUNIT_CASE_SLOW(fn)	{ .run_case = fn, .name = #fn, .slow = true }
#define KUNIT_CASE_PARAM(fn, gen)					\
	{ .run_case = fn, .name = #fn, .generate_params = gen }

#define KUNIT_ARRAY_PARAM_DESC(name, array, desc_member)		\
	static const void *name##_gen_params(const void *prev, char *desc) \
	{								\
		typeof((array)[0]) *__next = prev ?			\
			((typeof(__next))prev) + 1 : (array);		\
		if (__next - (array) < ARRAY_SIZE((array))) {		\
			snprintf(desc, KUNIT_PARAM_DESC_SIZE, "%s",	\
				 __next->desc_member);			\
			return __next;					\
		}							\
		return NULL;						\
	}

extern struct kunit_suite **kunit_shim_suites;
#define kunit_test_suites(...)						\
	static struct kunit_suite *__kunit_suites[] = { __VA_ARGS__, NULL }; \
	struct kunit_suite **kunit_shim_suites = __kunit_suites

#define KUNIT_FAIL(test, fmt, ...)					\
	kunit_shim_fail(test, __FILE__, __LINE__, fmt, ##__VA_ARGS__)

/* Both sides are integers or pointers; they are shown as integers. */
#define __KUNIT_CMP(test, end, left, op, right, fmt, ...) do {		\
	typeof(left) __left = (left);					\
	typeof(right) __right = (right);				\
									\
	if (!(__left op __right)) {					\
		kunit_shim_fail(test, __FILE__, __LINE__,		\
				"expected %s %s %s, but %#llx vs %#llx" fmt, \
				#left, #op, #right,			\
				(unsigned long long)(uintptr_t)__left,	\
				(unsigned long long)(uintptr_t)__right,	\
				##__VA_ARGS__);				\
		if (end)						\
			kunit_shim_end(test);				\
	}								\
} while (0)

#define __KUNIT_MSG(fmt)	": " fmt

#define KUNIT_EXPECT_EQ(t, l, r)	__KUNIT_CMP(t, 0, l, ==, r, "")
#define KUNIT_EXPECT_NE(t, l, r)	__KUNIT_CMP(t, 0, l, !=, r, "")
#define KUNIT_EXPECT_LT(t, l, r)	__KUNIT_CMP(t, 0, l, <, r, "")
#define KUNIT_EXPECT_LE(t, l, r)	__KUNIT_CMP(t, 0, l, <=, r, "")
#define KUNIT_EXPECT_GT(t, l, r)	__KUNIT_CMP(t, 0, l, >, r, "")
#define KUNIT_EXPECT_GE(t, l, r)	__KUNIT_CMP(t, 0, l, >=, r, "")
#define KUNIT_EXPECT_TRUE(t, c)		__KUNIT_CMP(t, 0, !!(c), ==, 1, "")
#define KUNIT_EXPECT_FALSE(t, c)	__KUNIT_CMP(t, 0, !!(c), ==, 0, "")
#define KUNIT_ASSERT_EQ(t, l, r)	__KUNIT_CMP(t, 1, l, ==, r, "")
#define KUNIT_ASSERT_NE(t, l, r)	__KUNIT_CMP(t, 1, l, !=, r, "")
#define KUNIT_ASSERT_LT(t, l, r)	__KUNIT_CMP(t, 1, l, <, r, "")
#define KUNIT_ASSERT_LE(t, l, r)	__KUNIT_CMP(t, 1, l, <=, r, "")
#define KUNIT_ASSERT_GT(t, l, r)	__KUNIT_CMP(t, 1, l, >, r, "")
#define KUNIT_ASSERT_GE(t, l, r)	__KUNIT_CMP(t, 1, l, >=, r, "")
#define KUNIT_ASSERT_TRUE(t, c)		__KUNIT_CMP(t, 1, !!(c), ==, 1, "")
#define KUNIT_ASSERT_FALSE(t, c)	__KUNIT_CMP(t, 1, !!(c), ==, 0, "")
#define KUNIT_ASSERT_NOT_NULL(t, p)	__KUNIT_CMP(t, 1, !!(p), ==, 1, "")

#define KUNIT_EXPECT_EQ_MSG(t, l, r, f, ...)				\
	__KUNIT_CMP(t, 0, l, ==, r, __KUNIT_MSG(f), ##__VA_ARGS__)
#define KUNIT_EXPECT_NE_MSG(t, l, r, f, ...)				\
	__KUNIT_CMP(t, 0, l, !=, r, __KUNIT_MSG(f), ##__VA_ARGS__)
#define KUNIT_EXPECT_LT_MSG(t, l, r, f, ...)				\
	__KUNIT_CMP(t, 0, l, <, r, __KUNIT_MSG(f), ##__VA_ARGS__)
#define KUNIT_EXPECT_LE_MSG(t, l, r, f, ...)				\
	__KUNIT_CMP(t, 0, l, <=, r, __KUNIT_MSG(f), ##__VA_ARGS__)
#define KUNIT_EXPECT_GT_MSG(t, l, r, f, ...)				\
	__KUNIT_CMP(t, 0, l, >, r, __KUNIT_MSG(f), ##__VA_ARGS__)
#define KUNIT_EXPECT_GE_MSG(t, l, r, f, ...)				\
	__KUNIT_CMP(t, 0, l, >=, r, __KUNIT_MSG(f), ##__VA_ARGS__)
#define KUNIT_EXPECT_TRUE_MSG(t, c, f, ...)				\
	__KUNIT_CMP(t, 0, !!(c), ==, 1, __KUNIT_MSG(f), ##__VA_ARGS__)
#define KUNIT_EXPECT_FALSE_MSG(t, c, f, ...)				\
	__KUNIT_CMP(t, 0, !!(c), ==, 0, __KUNIT_MSG(f), ##__VA_ARGS__)
#define KUNIT_ASSERT_EQ_MSG(t, l, r, f, ...)				\
	__KUNIT_CMP(t, 1, l, ==, r, __KUNIT_MSG(f), ##__VA_ARGS__)
#define KUNIT_ASSERT_NE_MSG(t, l, r, f, ...)				\
	__KUNIT_CMP(t, 1, l, !=, r, __KUNIT_MSG(f), ##__VA_ARGS__)
#define KUNIT_ASSERT_TRUE_MSG(t, c, f, ...)				\
	__KUNIT_CMP(t, 1, !!(c), ==, 1, __KUNIT_MSG(f), ##__VA_ARGS__)

#endif
