/* SPDX-License-Identifier: GPL-2.0 */
#include <linux/kernel.h>
#define late_initcall(fn)	static int (*__maybe_unused __initcall_##fn)(void) = fn
