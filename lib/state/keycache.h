/* SPDX-License-Identifier: MPL-2.0 */
/*
 * A small hash map from byte-string keys to int64 values, for the lookups
 * an allocation insert repeats (node ID to node pk, job to job key, which
 * job versions are kept): each would otherwise be a SQLite query per
 * allocation. The values never change once written, so the cache is only
 * cleared when a transaction rolls back or a node is deleted.
 */
#ifndef NMD_STATE_KEYCACHE_H
#define NMD_STATE_KEYCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <nomad/core.h>

struct nmd_keycache_slot;

struct nmd_keycache {
	const nomad_allocator *alloc;
	struct nmd_keycache_slot *slots;
	size_t cap, n;
};

void nmd_keycache_init(struct nmd_keycache *kc, const nomad_allocator *a);
/* False when the key is not cached. */
bool nmd_keycache_get(const struct nmd_keycache *kc, const void *key,
		      size_t len, int64_t *value);
/* Remember key -> value; a failed allocation just leaves it uncached. */
void nmd_keycache_put(struct nmd_keycache *kc, const void *key, size_t len,
		      int64_t value);
void nmd_keycache_clear(struct nmd_keycache *kc);
/* Walking the keys: slots 0 .. capacity-1, of which some hold a key. */
size_t nmd_keycache_capacity(const struct nmd_keycache *kc);
bool nmd_keycache_slot_key(const struct nmd_keycache *kc, size_t slot,
			   const void **key, size_t *len);
void nmd_keycache_free(struct nmd_keycache *kc);

#endif
