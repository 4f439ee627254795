/* SPDX-License-Identifier: GPL-2.0 */
/*
 * As the kernel without CONFIG_FAULT_INJECTION: the harness injects
 * failures in the allocator (shim.c) instead, so that a fault point in
 * front of each allocation does not count twice.  The build of
 * lib/phyr_kunit.c (kunit.c) has CONFIG_FAULT_INJECTION, and fails the
 * current->fail_nth-th call as the kernel does.
 */
#ifndef _SHIM_LINUX_FAULT_INJECT_H
#define _SHIM_LINUX_FAULT_INJECT_H

#include <linux/err.h>
#include <linux/types.h>

struct dentry;

struct fault_attr {
	int unused;
};

enum fault_flags {
	FAULT_NOWARN = 1 << 0,
};

#define DECLARE_FAULT_ATTR(name)	struct fault_attr name = { 0 }

#ifdef CONFIG_FAULT_INJECTION
#include <linux/sched.h>

static inline bool should_fail_ex(struct fault_attr *attr, ssize_t size,
				  int flags)
{
	return current->fail_nth && !--current->fail_nth;
}
#else
static inline bool should_fail_ex(struct fault_attr *attr, ssize_t size,
				  int flags)
{
	return false;
}
#endif

static inline bool should_fail(struct fault_attr *attr, ssize_t size)
{
	return false;
}

static inline struct dentry *fault_create_debugfs_attr(const char *name,
			struct dentry *parent, struct fault_attr *attr)
{
	return ERR_PTR(-ENODEV);
}

#endif
