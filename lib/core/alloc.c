/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The one path every allocation in libnomad takes: the handle's
 * nomad_allocator when there is one, the C library otherwise. This is the
 * only file in lib/ that calls malloc, realloc and free directly.
 *
 * A request for zero bytes is served as one byte, so every success is a
 * unique pointer the caller frees, whatever the allocator does with 0.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"

void *nmd_malloc(const nomad_allocator *a, size_t size)
{
	if (size == 0)
		size = 1;
	if (!a)
		return malloc(size);
	return a->malloc(size, a->userdata);
}

void *nmd_calloc(const nomad_allocator *a, size_t count, size_t size)
{
	size_t total;
	void *p;

	if (size != 0 && count > SIZE_MAX / size)
		return NULL;
	total = count * size;
	if (!a)
		return calloc(total ? total : 1, 1);
	p = nmd_malloc(a, total);
	if (p)
		memset(p, 0, total);
	return p;
}

void *nmd_realloc(const nomad_allocator *a, void *ptr, size_t size)
{
	if (size == 0)
		size = 1;
	if (!a)
		return realloc(ptr, size);
	return a->realloc(ptr, size, a->userdata);
}

void *nmd_reallocarray(const nomad_allocator *a, void *ptr, size_t count,
		       size_t size)
{
	if (size != 0 && count > SIZE_MAX / size)
		return NULL;
	return nmd_realloc(a, ptr, count * size);
}

void nmd_free(const nomad_allocator *a, void *ptr)
{
	if (!ptr)
		return;
	if (!a)
		free(ptr);
	else
		a->free(ptr, a->userdata);
}

char *nmd_strndup(const nomad_allocator *a, const char *s, size_t n)
{
	char *p;

	if (!s)
		return NULL;
	n = strnlen(s, n);
	if (n == SIZE_MAX)
		return NULL;
	p = nmd_malloc(a, n + 1);
	if (!p)
		return NULL;
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *nmd_strdup(const nomad_allocator *a, const char *s)
{
	return s ? nmd_strndup(a, s, strlen(s)) : NULL;
}
