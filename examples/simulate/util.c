/* SPDX-License-Identifier: MPL-2.0 */
/*
 * simulate: small helpers. Allocation that ends the program when memory
 * runs out, a growing string for the job JSON, and the string-keyed hash
 * map that indexes jobs and allocations by ID.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simulate.h"

/* Out of memory ends the program: a simulation has nothing to fall back
 * on, and every call site stays one line. */
void *xrealloc(void *p, size_t n, size_t size)
{
	void *q;
	size_t bytes = n * size;
	if (size && n > SIZE_MAX / size) {
		fprintf(stderr, PROG ": out of memory\n");
		exit(1);
	}
	if (!(q = realloc(p, bytes ? bytes : 1))) {
		fprintf(stderr, PROG ": out of memory\n");
		exit(1);
	}
	return q;
}

void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p) {
		fprintf(stderr, PROG ": out of memory\n");
		exit(1);
	}
	return p;
}

char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(xrealloc(NULL, n, 1), s, n);
}

void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		int k;
		va_start(ap, fmt);
		k = vsnprintf(b->p ? b->p + b->n : NULL, b->cap - b->n, fmt, ap);
		va_end(ap);
		if (k >= 0 && (size_t)k < b->cap - b->n) {
			b->n += (size_t)k;
			return;
		}
		b->cap = (b->cap + (k > 0 ? (size_t)k : 0) + 64) * 2;
		b->p = xrealloc(b->p, b->cap, 1);
	}
}


static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct map_slot *map_find(const struct map *m, const char *key)
{
	size_t k;
	if (!m->cap)
		return NULL;
	for (k = hash_str(key) & (m->cap - 1); m->slots[k].key;
	     k = (k + 1) & (m->cap - 1))
		if (m->slots[k].key != &m->tombstone &&
		    !strcmp(m->slots[k].key, key))
			return &m->slots[k];
	return NULL;
}

bool map_get(const struct map *m, const char *key, uintptr_t *value)
{
	const struct map_slot *s = key ? map_find(m, key) : NULL;
	if (s)
		*value = s->value;
	return s != NULL;
}

static void map_rehash(struct map *m)
{
	struct map_slot *old = m->slots;
	size_t old_cap = m->cap, cap = 16;
	while ((m->live + 1) * 2 > cap)
		cap *= 2;
	m->slots = xcalloc(cap, sizeof(*m->slots));
	m->cap = cap;
	m->used = m->live;
	for (size_t i = 0; i < old_cap; i++) {
		size_t k;
		if (!old[i].key || old[i].key == &m->tombstone)
			continue;
		for (k = hash_str(old[i].key) & (cap - 1); m->slots[k].key;
		     k = (k + 1) & (cap - 1))
			;
		m->slots[k] = old[i];
	}
	free(old);
}

/* Add or replace. */
void map_put(struct map *m, const char *key, uintptr_t value)
{
	struct map_slot *s = map_find(m, key);
	size_t k;
	if (s) {
		s->value = value;
		return;
	}
	if ((m->used + 1) * 4 > m->cap * 3)
		map_rehash(m);
	for (k = hash_str(key) & (m->cap - 1);
	     m->slots[k].key && m->slots[k].key != &m->tombstone;
	     k = (k + 1) & (m->cap - 1))
		;
	if (!m->slots[k].key)
		m->used++;
	m->slots[k].key = key;
	m->slots[k].value = value;
	m->live++;
}

void map_del(struct map *m, const char *key)
{
	struct map_slot *s = map_find(m, key);
	if (s) {
		s->key = &m->tombstone;
		m->live--;
	}
}

void map_free(struct map *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}
