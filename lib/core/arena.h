/* SPDX-License-Identifier: MPL-2.0 */
/*
 * A bump allocator for short-lived objects decoded many at a time (rows
 * of a listing): allocation is a pointer increment, and everything goes
 * at once on reset. Decoding into it skips the per-field malloc and free
 * that dominate reading many small protobuf messages.
 */
#ifndef NMD_CORE_ARENA_H
#define NMD_CORE_ARENA_H

#include <stddef.h>
#include <nomad/core.h>

struct nmd_arena_chunk;

struct nmd_arena {
	const nomad_allocator *alloc;
	struct nmd_arena_chunk *chunk; /* newest first */
	unsigned char *next, *end;     /* the free part of `chunk` */
};

void nmd_arena_init(struct nmd_arena *ar, const nomad_allocator *alloc);
/* The slow path of nmd_arena_alloc: a new chunk. */
void *nmd_arena_grow(struct nmd_arena *ar, size_t size);

/* 16-byte aligned memory that lives until the next reset; NULL when out
 * of memory. Inline: decoding a row makes dozens of these. */
static inline void *nmd_arena_alloc(struct nmd_arena *ar, size_t size)
{
	size_t room = (size_t)(ar->end - ar->next);
	if (size - 1 < room) { /* size 0 goes to the slow path too */
		void *p = ar->next;
		ar->next += (size + 15) & ~(size_t)15;
		if (ar->next > ar->end)
			ar->next = ar->end;
		return p;
	}
	return nmd_arena_grow(ar, size);
}
/* A nomad_allocator over the arena, for building whole message trees
 * that go at once: realloc copies (each block records its size), free
 * does nothing; the arena's reset takes everything back. */
void nmd_arena_allocator(struct nmd_arena *ar, nomad_allocator *out);

/* Forget everything allocated, keeping the newest (largest) chunk. */
void nmd_arena_reset(struct nmd_arena *ar);
void nmd_arena_free(struct nmd_arena *ar);

#endif
