/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The allocator lives in shim.c: it counts live objects and bytes and
 * fails on request (see shim.h).
 */
#ifndef _SHIM_LINUX_SLAB_H
#define _SHIM_LINUX_SLAB_H

#include <linux/gfp.h>

struct kmem_cache;

void *kmalloc(size_t size, gfp_t gfp);
void kfree(const void *ptr);
struct kmem_cache *kmem_cache_create(const char *name, unsigned int size,
				     unsigned int align, unsigned long flags,
				     void (*ctor)(void *));
void kmem_cache_destroy(struct kmem_cache *s);
void *kmem_cache_alloc(struct kmem_cache *s, gfp_t gfp);
void kmem_cache_free(struct kmem_cache *s, void *ptr);

#define SLAB_HWCACHE_ALIGN	0x1UL
#define SLAB_PANIC		0x2UL
#define SLAB_ACCOUNT		0x4UL
#define KMEM_CACHE(s, flags)	\
	kmem_cache_create(#s, sizeof(struct s), __alignof__(struct s), flags, NULL)

#define kzalloc(size, gfp)	kmalloc(size, (gfp) | __GFP_ZERO)
#define kmalloc_array(n, size, gfp)	kmalloc(size_mul(n, size), gfp)
#define kcalloc(n, size, gfp)	kmalloc_array(n, size, (gfp) | __GFP_ZERO)
#define kmem_cache_zalloc(s, gfp)	kmem_cache_alloc(s, (gfp) | __GFP_ZERO)
#define kvmalloc(size, gfp)	kmalloc(size, gfp)
#define kvzalloc(size, gfp)	kzalloc(size, gfp)
#define kvcalloc(n, size, gfp)	kcalloc(n, size, gfp)
#define kvfree(ptr)		kfree(ptr)

#endif
