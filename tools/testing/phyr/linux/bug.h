/* SPDX-License-Identifier: GPL-2.0 */
/*
 * WARN*() count instead of dying, so that the harness can tell misuse
 * that was reported (expected for -EINVAL) from a warning on a valid call.
 * BUG*() abort.
 */
#ifndef _SHIM_LINUX_BUG_H
#define _SHIM_LINUX_BUG_H

#include <linux/bits.h>
#include <linux/build_bug.h>
#include <linux/compiler.h>

void shim_warn(const char *file, int line, const char *cond);
void __noreturn shim_bug(const char *file, int line, const char *cond);

#define WARN_ON(condition) ({						\
	int __ret_warn_on = !!(condition);				\
	if (unlikely(__ret_warn_on))					\
		shim_warn(__FILE__, __LINE__, #condition);		\
	unlikely(__ret_warn_on);					\
})
#define WARN_ON_ONCE(condition)		WARN_ON(condition)
#define WARN(condition, ...)		WARN_ON(condition)
#define WARN_ONCE(condition, ...)	WARN_ON(condition)
#define BUG()				shim_bug(__FILE__, __LINE__, "BUG")
#define BUG_ON(condition) do {						\
	if (unlikely(condition))					\
		shim_bug(__FILE__, __LINE__, #condition);		\
} while (0)
#define VM_BUG_ON(condition)		BUG_ON(condition)
#define VM_WARN_ON_ONCE(condition)	WARN_ON(condition)

#endif
