/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The key cache of keycache.h: open addressing with linear probing, FNV-1a
 * hashes, doubled at half full. Keys are copied.
 */
#include <string.h>

#include "core/alloc.h"
#include "state/keycache.h"

struct nmd_keycache_slot {
	uint64_t hash;
	unsigned char *key; /* NULL: empty */
	size_t len;
	int64_t value;
};

static uint64_t fnv1a(const void *key, size_t len)
{
	const unsigned char *p = key;
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 1099511628211ULL;
	return h;
}

void nmd_keycache_init(struct nmd_keycache *kc, const nomad_allocator *a)
{
	memset(kc, 0, sizeof(*kc));
	kc->alloc = a;
}

static struct nmd_keycache_slot *find(const struct nmd_keycache *kc,
				      uint64_t h, const void *key, size_t len)
{
	size_t i = h & (kc->cap - 1);
	for (;; i = (i + 1) & (kc->cap - 1)) {
		struct nmd_keycache_slot *s = &kc->slots[i];
		if (!s->key || (s->hash == h && s->len == len &&
				memcmp(s->key, key, len) == 0))
			return s;
	}
}

bool nmd_keycache_get(const struct nmd_keycache *kc, const void *key,
		      size_t len, int64_t *value)
{
	struct nmd_keycache_slot *s;
	if (!kc->cap)
		return false;
	s = find(kc, fnv1a(key, len), key, len);
	if (!s->key)
		return false;
	*value = s->value;
	return true;
}

static bool grow(struct nmd_keycache *kc)
{
	size_t cap = kc->cap ? kc->cap * 2 : 256;
	struct nmd_keycache old = *kc;
	if (!(kc->slots = nmd_calloc(kc->alloc, cap, sizeof(*kc->slots)))) {
		*kc = old;
		return false;
	}
	kc->cap = cap;
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].key)
			*find(kc, old.slots[i].hash, old.slots[i].key,
			      old.slots[i].len) = old.slots[i];
	nmd_free(kc->alloc, old.slots);
	return true;
}

void nmd_keycache_put(struct nmd_keycache *kc, const void *key, size_t len,
		      int64_t value)
{
	uint64_t h = fnv1a(key, len);
	struct nmd_keycache_slot *s;
	if ((kc->n + 1) * 2 > kc->cap && !grow(kc))
		return;
	s = find(kc, h, key, len);
	if (!s->key) {
		if (!(s->key = nmd_malloc(kc->alloc, len ? len : 1)))
			return;
		memcpy(s->key, key, len);
		s->hash = h;
		s->len = len;
		kc->n++;
	}
	s->value = value;
}

void nmd_keycache_clear(struct nmd_keycache *kc)
{
	for (size_t i = 0; i < kc->cap; i++) {
		nmd_free(kc->alloc, kc->slots[i].key);
		kc->slots[i].key = NULL;
	}
	kc->n = 0;
}

void nmd_keycache_free(struct nmd_keycache *kc)
{
	nmd_keycache_clear(kc);
	nmd_free(kc->alloc, kc->slots);
	memset(kc, 0, sizeof(*kc));
}

size_t nmd_keycache_capacity(const struct nmd_keycache *kc)
{
	return kc->cap;
}

bool nmd_keycache_slot_key(const struct nmd_keycache *kc, size_t slot,
			   const void **key, size_t *len)
{
	if (slot >= kc->cap || !kc->slots[slot].key)
		return false;
	*key = kc->slots[slot].key;
	*len = kc->slots[slot].len;
	return true;
}
