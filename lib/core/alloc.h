/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Every allocation in libnomad goes through these, with the allocator of
 * the handle or call it serves (NULL = the C library). Keeping one path
 * makes custom allocators and out-of-memory injection tests possible.
 */
#ifndef NMD_CORE_ALLOC_H
#define NMD_CORE_ALLOC_H

#include <stddef.h>
#include <nomad/core.h>

void *nmd_malloc(const nomad_allocator *a, size_t size);
/* Zeroed; NULL when count * size overflows. */
void *nmd_calloc(const nomad_allocator *a, size_t count, size_t size);
void *nmd_realloc(const nomad_allocator *a, void *ptr, size_t size);
/* Grow an array to `count` elements of `size` bytes; NULL on overflow. */
void *nmd_reallocarray(const nomad_allocator *a, void *ptr, size_t count,
		       size_t size);
void nmd_free(const nomad_allocator *a, void *ptr);
char *nmd_strdup(const nomad_allocator *a, const char *s);
char *nmd_strndup(const nomad_allocator *a, const char *s, size_t n);

#endif
