/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SHIM_LINUX_KMEMLEAK_H
#define _SHIM_LINUX_KMEMLEAK_H

#define kmemleak_alloc(ptr, size, min_count, gfp)	do { } while (0)
#define kmemleak_free(ptr)				do { } while (0)

#endif
