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
	size_t used;                   /* bytes used in `chunk` */
};

void nmd_arena_init(struct nmd_arena *ar, const nomad_allocator *alloc);
/* 16-byte aligned memory that lives until the next reset; NULL when out
 * of memory. */
void *nmd_arena_alloc(struct nmd_arena *ar, size_t size);
/* Forget everything allocated, keeping the newest (largest) chunk. */
void nmd_arena_reset(struct nmd_arena *ar);
void nmd_arena_free(struct nmd_arena *ar);

#endif
