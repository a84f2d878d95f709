/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The bump allocator of arena.h: a list of chunks, each at least twice the
 * previous one, so that a reset arena soon serves every row from one
 * chunk without going back to the system allocator.
 */
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "core/arena.h"

#define FIRST_CHUNK 16384

struct nmd_arena_chunk {
	struct nmd_arena_chunk *next;
	size_t size; /* usable bytes after the header */
	_Alignas(16) unsigned char data[];
};

void nmd_arena_init(struct nmd_arena *ar, const nomad_allocator *alloc)
{
	ar->alloc = alloc;
	ar->chunk = NULL;
	ar->next = ar->end = NULL;
}

void *nmd_arena_grow(struct nmd_arena *ar, size_t size)
{
	size_t want = ar->chunk ? ar->chunk->size * 2 : FIRST_CHUNK;
	struct nmd_arena_chunk *c;
	if (size == 0)
		size = 1;
	if (size > SIZE_MAX / 4)
		return NULL;
	while (want < size)
		want *= 2;
	if (!(c = nmd_malloc(ar->alloc, sizeof(*c) + want)))
		return NULL;
	c->next = ar->chunk;
	c->size = want;
	ar->chunk = c;
	ar->next = c->data + ((size + 15) & ~(size_t)15);
	ar->end = c->data + want;
	if (ar->next > ar->end)
		ar->next = ar->end;
	return c->data;
}

/* Blocks handed out through the allocator carry their size in front,
 * padded to keep the 16-byte alignment. */
#define BLOCK_HEADER 16

static void *block_alloc(size_t size, void *ud)
{
	unsigned char *p;
	if (size > SIZE_MAX - BLOCK_HEADER ||
	    !(p = nmd_arena_alloc(ud, size + BLOCK_HEADER)))
		return NULL;
	memcpy(p, &size, sizeof(size));
	return p + BLOCK_HEADER;
}

/* Growing a block copies it, so a block grows by at least half again:
 * an array appended to one element at a time (NMD_PB_APPEND) is copied
 * O(log n) times, not n. The header records the capacity. */
static void *block_realloc(void *ptr, size_t size, void *ud)
{
	size_t old, cap;
	void *grown;
	if (!ptr)
		return block_alloc(size, ud);
	memcpy(&old, (unsigned char *)ptr - BLOCK_HEADER, sizeof(old));
	if (size <= old)
		return ptr;
	cap = old + old / 2 > size ? old + old / 2 : size;
	if (!(grown = block_alloc(cap, ud)))
		return NULL;
	memcpy(grown, ptr, old);
	return grown;
}

static void block_free(void *ptr, void *ud)
{
	(void)ptr;
	(void)ud;
}

void nmd_arena_allocator(struct nmd_arena *ar, nomad_allocator *out)
{
	out->version = NOMAD_ALLOCATOR_VERSION;
	out->malloc = block_alloc;
	out->realloc = block_realloc;
	out->free = block_free;
	out->userdata = ar;
}

void nmd_arena_reset(struct nmd_arena *ar)
{
	struct nmd_arena_chunk *c = ar->chunk ? ar->chunk->next : NULL;
	while (c) {
		struct nmd_arena_chunk *next = c->next;
		nmd_free(ar->alloc, c);
		c = next;
	}
	if (ar->chunk) {
		ar->chunk->next = NULL;
		ar->next = ar->chunk->data;
		ar->end = ar->chunk->data + ar->chunk->size;
	}
}

void nmd_arena_free(struct nmd_arena *ar)
{
	nmd_arena_reset(ar);
	nmd_free(ar->alloc, ar->chunk);
	ar->chunk = NULL;
	ar->next = ar->end = NULL;
}
