/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _SHIM_LINUX_ATOMIC_H
#define _SHIM_LINUX_ATOMIC_H

#include <linux/types.h>

#define ATOMIC_INIT(i)		{ (i) }
#define ATOMIC_LONG_INIT(i)	{ (i) }
#define __shim_atomic_read(v)	__atomic_load_n(&(v)->counter, __ATOMIC_RELAXED)
#define __shim_atomic_set(v, i)	__atomic_store_n(&(v)->counter, i, __ATOMIC_RELAXED)
#define __shim_atomic_add(i, v)	__atomic_add_fetch(&(v)->counter, i, __ATOMIC_SEQ_CST)

#define atomic_read(v)			__shim_atomic_read(v)
#define atomic_set(v, i)		__shim_atomic_set(v, i)
#define atomic_add(i, v)		((void)__shim_atomic_add(i, v))
#define atomic_sub(i, v)		((void)__shim_atomic_add(-(i), v))
#define atomic_inc(v)			atomic_add(1, v)
#define atomic_dec(v)			atomic_sub(1, v)
#define atomic_add_return(i, v)		__shim_atomic_add(i, v)
#define atomic_inc_return(v)		__shim_atomic_add(1, v)
#define atomic_dec_return(v)		__shim_atomic_add(-1, v)
#define atomic_long_read(v)		__shim_atomic_read(v)
#define atomic_long_set(v, i)		__shim_atomic_set(v, i)
#define atomic_long_add(i, v)		((void)__shim_atomic_add(i, v))
#define atomic_long_sub(i, v)		((void)__shim_atomic_add(-(i), v))
#define atomic_long_inc(v)		atomic_long_add(1, v)
#define atomic_long_dec(v)		atomic_long_sub(1, v)
#define atomic_long_add_return(i, v)	__shim_atomic_add(i, v)
#define atomic_long_inc_return(v)	__shim_atomic_add(1, v)
#define atomic_long_dec_return(v)	__shim_atomic_add(-1, v)

#endif
