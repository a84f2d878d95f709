/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests for lib/core/alloc.c: the hooks of a custom allocator are
 * really used, overflow is caught before any allocation, zero-byte
 * requests give unique pointers, and the string copies.
 */
#include <stdbool.h>

#include "core/alloc.h"
#include "test.h"

struct counts {
	int mallocs, reallocs, frees;
	size_t last_size;
	int fail_after; /* fail once this many calls succeeded; -1 never */
};

static bool may_allocate(struct counts *c)
{
	if (c->fail_after < 0)
		return true;
	if (c->fail_after == 0)
		return false;
	c->fail_after--;
	return true;
}

static void *c_malloc(size_t size, void *ud)
{
	struct counts *c = ud;
	c->last_size = size;
	if (!may_allocate(c))
		return NULL;
	c->mallocs++;
	return malloc(size);
}

static void *c_realloc(void *p, size_t size, void *ud)
{
	struct counts *c = ud;
	c->last_size = size;
	if (!may_allocate(c))
		return NULL;
	c->reallocs++;
	return realloc(p, size);
}

static void c_free(void *p, void *ud)
{
	struct counts *c = ud;
	if (p)
		c->frees++;
	free(p);
}

#define COUNTING(c)                                                           \
	{                                                                     \
		NOMAD_ALLOCATOR_VERSION, c_malloc, c_realloc, c_free, &(c)    \
	}

NMD_TEST(test_core_alloc__hooks_used)
{
	struct counts c = {0, 0, 0, 0, -1};
	nomad_allocator a = COUNTING(c);
	char *p, *q;

	p = nmd_malloc(&a, 10);
	CHECK(p != NULL);
	CHECK_INT(c.mallocs, 1);
	CHECK_INT(c.last_size, 10);
	p = nmd_realloc(&a, p, 100);
	CHECK(p != NULL);
	CHECK_INT(c.reallocs, 1);
	CHECK_INT(c.last_size, 100);
	q = nmd_strdup(&a, "hello");
	CHECK_STR(q, "hello");
	CHECK_INT(c.mallocs, 2);
	nmd_free(&a, p);
	nmd_free(&a, q);
	CHECK_INT(c.frees, 2);
	nmd_free(&a, NULL);
	CHECK_INT(c.frees, 2);
}

NMD_TEST(test_core_alloc__calloc_zeroes)
{
	struct counts c = {0, 0, 0, 0, -1};
	nomad_allocator a = COUNTING(c);
	unsigned char *p = nmd_calloc(&a, 16, 4);

	CHECK(p != NULL);
	CHECK_INT(c.mallocs, 1);
	CHECK_INT(c.last_size, 64);
	for (int i = 0; i < 64; i++)
		CHECK_INT(p[i], 0);
	nmd_free(&a, p);

	p = nmd_calloc(NULL, 8, 8);
	CHECK(p != NULL);
	for (int i = 0; i < 64; i++)
		CHECK_INT(p[i], 0);
	nmd_free(NULL, p);
}

NMD_TEST(test_core_alloc__calloc_overflow)
{
	struct counts c = {0, 0, 0, 0, -1};
	nomad_allocator a = COUNTING(c);

	CHECK(nmd_calloc(&a, SIZE_MAX / 2, 3) == NULL);
	CHECK(nmd_calloc(&a, SIZE_MAX, SIZE_MAX) == NULL);
	CHECK(nmd_calloc(NULL, (SIZE_MAX >> 4) + 1, 16) == NULL);
	/* Refused before the allocator is asked. */
	CHECK_INT(c.mallocs, 0);
	CHECK_INT(c.last_size, 0);
}

NMD_TEST(test_core_alloc__reallocarray)
{
	struct counts c = {0, 0, 0, 0, -1};
	nomad_allocator a = COUNTING(c);
	int *p = nmd_reallocarray(&a, NULL, 4, sizeof(int));

	CHECK(p != NULL);
	for (int i = 0; i < 4; i++)
		p[i] = i;
	CHECK(nmd_reallocarray(&a, p, SIZE_MAX / 2, sizeof(int)) == NULL);
	CHECK_INT(c.reallocs, 1);
	/* The old block is untouched after an overflow. */
	for (int i = 0; i < 4; i++)
		CHECK_INT(p[i], i);
	p = nmd_reallocarray(&a, p, 1000, sizeof(int));
	CHECK(p != NULL);
	CHECK_INT(p[3], 3);
	CHECK_INT(c.last_size, 1000 * sizeof(int));
	nmd_free(&a, p);
	CHECK_INT(c.frees, 1);
}

NMD_TEST(test_core_alloc__zero_size)
{
	struct counts c = {0, 0, 0, 0, -1};
	nomad_allocator a = COUNTING(c);
	void *p = nmd_malloc(NULL, 0), *q = nmd_malloc(NULL, 0);
	void *r = nmd_malloc(&a, 0), *s = nmd_calloc(&a, 0, 8);

	CHECK(p != NULL && q != NULL && p != q);
	CHECK(r != NULL && s != NULL && r != s);
	CHECK_INT(c.last_size, 1);
	r = nmd_realloc(&a, r, 0);
	CHECK(r != NULL);
	nmd_free(NULL, p);
	nmd_free(NULL, q);
	nmd_free(&a, r);
	nmd_free(&a, s);
}

NMD_TEST(test_core_alloc__failure_returns_null)
{
	struct counts c = {0, 0, 0, 0, 0};
	nomad_allocator a = COUNTING(c);

	CHECK(nmd_malloc(&a, 8) == NULL);
	CHECK(nmd_calloc(&a, 2, 8) == NULL);
	CHECK(nmd_realloc(&a, NULL, 8) == NULL);
	CHECK(nmd_strdup(&a, "x") == NULL);
	CHECK(nmd_strndup(&a, "xyz", 2) == NULL);
}

NMD_TEST(test_core_alloc__strndup)
{
	char *p = nmd_strndup(NULL, "abcdef", 3);

	CHECK_STR(p, "abc");
	nmd_free(NULL, p);
	p = nmd_strndup(NULL, "ab", 10);
	CHECK_STR(p, "ab");
	nmd_free(NULL, p);
	p = nmd_strndup(NULL, "ab", 0);
	CHECK_STR(p, "");
	nmd_free(NULL, p);
	CHECK(nmd_strndup(NULL, NULL, 3) == NULL);
	CHECK(nmd_strdup(NULL, NULL) == NULL);

	/* A source without a NUL within n is fine. */
	char raw[4] = {'w', 'x', 'y', 'z'};
	p = nmd_strndup(NULL, raw, sizeof(raw));
	CHECK_STR(p, "wxyz");
	nmd_free(NULL, p);
}
