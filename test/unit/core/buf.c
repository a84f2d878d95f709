/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests for lib/core/buf.c: growth, NUL termination, the number and
 * JSON string writers, steal/reset, and the out-of-memory mode in which
 * every later append is a no-op.
 */
#include <stdbool.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "test.h"

/* An allocator that fails once `budget` calls have succeeded. */
struct budget {
	int left; /* -1: unlimited */
	int calls;
};

static void *b_malloc(size_t size, void *ud)
{
	struct budget *b = ud;
	b->calls++;
	if (b->left == 0)
		return NULL;
	if (b->left > 0)
		b->left--;
	return malloc(size);
}

static void *b_realloc(void *p, size_t size, void *ud)
{
	struct budget *b = ud;
	b->calls++;
	if (b->left == 0)
		return NULL;
	if (b->left > 0)
		b->left--;
	return realloc(p, size);
}

static void b_free(void *p, void *ud)
{
	(void)ud;
	free(p);
}

/* The JSON form of s[0..len) as a NUL-terminated string (test-owned). */
static char *json_of(const char *s, size_t len)
{
	struct nmd_buf b;
	char *out;

	nmd_buf_init(&b, NULL);
	nmd_buf_put_json_string(&b, s, len);
	CHECK(!b.oom);
	out = nmd_buf_steal(&b, NULL);
	CHECK(out != NULL);
	return out;
}

#define CHECK_JSON(in, want)                                                  \
	do {                                                                  \
		char *j_ = json_of((in), sizeof(in) - 1);                     \
		CHECK_STR(j_, (want));                                        \
		nmd_free(NULL, j_);                                           \
	} while (0)

NMD_TEST(test_core_buf__init_empty)
{
	struct nmd_buf b;

	nmd_buf_init(&b, NULL);
	CHECK(b.data == NULL);
	CHECK_INT(b.len, 0);
	CHECK_INT(b.cap, 0);
	CHECK(!b.oom);
	nmd_buf_free(&b);
	nmd_buf_free(&b);
	nmd_buf_free(NULL);
}

NMD_TEST(test_core_buf__append_and_terminate)
{
	struct nmd_buf b;

	nmd_buf_init(&b, NULL);
	nmd_buf_append(&b, "abc", 3);
	CHECK_INT(b.len, 3);
	CHECK_INT(b.cap, 64);
	CHECK_STR(b.data, "abc");
	nmd_buf_puts(&b, "def");
	nmd_buf_putc(&b, '!');
	nmd_buf_append(&b, "", 0);
	nmd_buf_puts(&b, NULL);
	CHECK_STR(b.data, "abcdef!");
	CHECK_INT(b.len, 7);
	nmd_buf_free(&b);
}

NMD_TEST(test_core_buf__growth_doubles)
{
	struct nmd_buf b;
	char chunk[100];

	memset(chunk, 'x', sizeof(chunk));
	nmd_buf_init(&b, NULL);
	nmd_buf_append(&b, chunk, 63);
	CHECK_INT(b.cap, 64);
	nmd_buf_putc(&b, 'y');
	CHECK_INT(b.cap, 128);
	nmd_buf_append(&b, chunk, 100);
	CHECK_INT(b.cap, 256);
	CHECK_INT(b.len, 164);
	CHECK_INT(strlen(b.data), 164);
	nmd_buf_free(&b);
}

NMD_TEST(test_core_buf__many_appends)
{
	struct nmd_buf b;

	nmd_buf_init(&b, NULL);
	for (int i = 0; i < 20000; i++) {
		nmd_buf_putc(&b, (char)('a' + i % 26));
		CHECK(b.data[b.len] == '\0');
		CHECK(b.len < b.cap);
	}
	CHECK_INT(b.len, 20000);
	for (int i = 0; i < 20000; i++)
		CHECK(b.data[i] == (char)('a' + i % 26));
	for (int i = 0; i < 1000; i++)
		nmd_buf_puts(&b, "0123456789");
	CHECK_INT(b.len, 30000);
	CHECK(memcmp(b.data + 29990, "0123456789", 11) == 0);
	CHECK(!b.oom);
	nmd_buf_free(&b);
}

NMD_TEST(test_core_buf__self_append)
{
	struct nmd_buf b;

	nmd_buf_init(&b, NULL);
	nmd_buf_puts(&b, "abcdefghijklmnopqrstuvwxyz"
			 "0123456789ABCDEFGHIJKLMNOP");
	/* Each round doubles, forcing the buffer to move while the source
	 * points into it. */
	for (int i = 0; i < 6; i++)
		nmd_buf_append(&b, b.data, b.len);
	CHECK_INT(b.len, 52 * 64);
	for (size_t i = 0; i < b.len; i += 52)
		CHECK(memcmp(b.data + i, "abcdefghijklmnopqrstuvwxyz",
			     26) == 0);
	nmd_buf_free(&b);
}

NMD_TEST(test_core_buf__printf)
{
	struct nmd_buf b;
	char big[500];

	memset(big, 'q', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	nmd_buf_init(&b, NULL);
	nmd_buf_printf(&b, "%s=%d", "n", 42);
	CHECK_STR(b.data, "n=42");
	/* Larger than what is left: takes the second pass. */
	nmd_buf_printf(&b, "[%s]", big);
	CHECK_INT(b.len, 4 + 2 + 499);
	CHECK(b.data[4] == '[' && b.data[b.len - 1] == ']');
	CHECK(b.data[b.len] == '\0');
	nmd_buf_printf(&b, "%s", "");
	CHECK_INT(b.len, 505);
	nmd_buf_free(&b);
}

NMD_TEST(test_core_buf__integers)
{
	struct nmd_buf b;

	nmd_buf_init(&b, NULL);
	nmd_buf_put_i64(&b, 0);
	nmd_buf_putc(&b, ' ');
	nmd_buf_put_i64(&b, -1);
	nmd_buf_putc(&b, ' ');
	nmd_buf_put_i64(&b, 1234567890);
	nmd_buf_putc(&b, ' ');
	nmd_buf_put_i64(&b, INT64_MAX);
	nmd_buf_putc(&b, ' ');
	nmd_buf_put_i64(&b, INT64_MIN);
	nmd_buf_putc(&b, ' ');
	nmd_buf_put_u64(&b, 0);
	nmd_buf_putc(&b, ' ');
	nmd_buf_put_u64(&b, UINT64_MAX);
	nmd_buf_putc(&b, ' ');
	nmd_buf_put_u64(&b, 10);
	CHECK_STR(b.data, "0 -1 1234567890 9223372036854775807 "
			  "-9223372036854775808 0 18446744073709551615 10");
	nmd_buf_free(&b);
}

NMD_TEST(test_core_buf__json_plain)
{
	CHECK_JSON("", "\"\"");
	CHECK_JSON("hello world", "\"hello world\"");
	/* Kept readable: no HTML escaping. */
	CHECK_JSON("<a href='x'>&amp;</a>", "\"<a href='x'>&amp;</a>\"");
	CHECK_JSON("a\"b\\c/d", "\"a\\\"b\\\\c/d\"");
	CHECK_JSON("\x7f", "\"\x7f\"");
}

NMD_TEST(test_core_buf__json_every_control)
{
	static const char *const want[32] = {
		"\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004",
		"\\u0005", "\\u0006", "\\u0007", "\\b",     "\\t",
		"\\n",     "\\u000b", "\\f",     "\\r",     "\\u000e",
		"\\u000f", "\\u0010", "\\u0011", "\\u0012", "\\u0013",
		"\\u0014", "\\u0015", "\\u0016", "\\u0017", "\\u0018",
		"\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d",
		"\\u001e", "\\u001f",
	};
	char in[3], expect[16];

	for (int c = 0; c < 32; c++) {
		char *got;
		in[0] = 'a';
		in[1] = (char)c;
		in[2] = 'z';
		got = json_of(in, 3);
		snprintf(expect, sizeof(expect), "\"a%sz\"", want[c]);
		CHECK_STR(got, expect);
		nmd_free(NULL, got);
	}
}

NMD_TEST(test_core_buf__json_utf8)
{
	/* 2-, 3- and 4-byte sequences pass through unchanged. */
	CHECK_JSON("h\xc3\xa9llo \xe2\x82\xac \xf0\x9d\x84\x9e \xe6\x97\xa5",
		   "\"h\xc3\xa9llo \xe2\x82\xac \xf0\x9d\x84\x9e "
		   "\xe6\x97\xa5\"");
	CHECK_JSON("\xef\xbf\xbf\xf4\x8f\xbf\xbf",
		   "\"\xef\xbf\xbf\xf4\x8f\xbf\xbf\"");
	/* Line and paragraph separators are escaped. */
	CHECK_JSON("a\xe2\x80\xa8" "b\xe2\x80\xa9", "\"a\\u2028b\\u2029\"");
	/* Invalid UTF-8: one U+FFFD per bad byte, as Go does. */
	CHECK_JSON("a\xff" "b", "\"a\\ufffdb\"");
	CHECK_JSON("\xc3", "\"\\ufffd\"");                 /* truncated */
	CHECK_JSON("\xe2\x82", "\"\\ufffd\\ufffd\"");      /* truncated */
	CHECK_JSON("\xc0\xaf", "\"\\ufffd\\ufffd\"");      /* overlong */
	CHECK_JSON("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\""); /* surrogate */
	CHECK_JSON("\xf4\x90\x80\x80",
		   "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* > U+10FFFF */
	CHECK_JSON("\x80", "\"\\ufffd\"");
}

NMD_TEST(test_core_buf__json_embedded_nul)
{
	char *got = json_of("a\0b", 3);

	CHECK_STR(got, "\"a\\u0000b\"");
	nmd_free(NULL, got);
}

NMD_TEST(test_core_buf__reset_keeps_memory)
{
	struct nmd_buf b;
	char *data;
	size_t cap;

	nmd_buf_init(&b, NULL);
	nmd_buf_puts(&b, "something");
	data = b.data;
	cap = b.cap;
	nmd_buf_reset(&b);
	CHECK_INT(b.len, 0);
	CHECK(b.data == data);
	CHECK_INT(b.cap, cap);
	CHECK_STR(b.data, "");
	nmd_buf_puts(&b, "else");
	CHECK_STR(b.data, "else");
	nmd_buf_free(&b);
}

NMD_TEST(test_core_buf__steal)
{
	struct nmd_buf b;
	size_t len = 99;
	char *s;

	nmd_buf_init(&b, NULL);
	nmd_buf_puts(&b, "owned");
	s = nmd_buf_steal(&b, &len);
	CHECK_STR(s, "owned");
	CHECK_INT(len, 5);
	CHECK(b.data == NULL);
	CHECK_INT(b.len, 0);
	CHECK_INT(b.cap, 0);
	nmd_free(NULL, s);

	/* Empty: still a string to free. */
	s = nmd_buf_steal(&b, &len);
	CHECK_STR(s, "");
	CHECK_INT(len, 0);
	nmd_free(NULL, s);

	/* The buffer is usable again. */
	nmd_buf_puts(&b, "again");
	s = nmd_buf_steal(&b, NULL);
	CHECK_STR(s, "again");
	nmd_free(NULL, s);
}

NMD_TEST(test_core_buf__uses_allocator)
{
	struct budget bud = {-1, 0};
	nomad_allocator a = {NOMAD_ALLOCATOR_VERSION, b_malloc, b_realloc,
			     b_free, &bud};
	struct nmd_buf b;
	char *s;

	nmd_buf_init(&b, &a);
	for (int i = 0; i < 100; i++)
		nmd_buf_puts(&b, "0123456789");
	CHECK(!b.oom);
	CHECK(bud.calls >= 5); /* 64, 128, 256, 512, 1024 */
	s = nmd_buf_steal(&b, NULL);
	CHECK_INT(strlen(s), 1000);
	nmd_free(&a, s);
}

NMD_TEST(test_core_buf__oom_sticks)
{
	struct budget bud = {1, 0};
	nomad_allocator a = {NOMAD_ALLOCATOR_VERSION, b_malloc, b_realloc,
			     b_free, &bud};
	struct nmd_buf b;
	char chunk[80];
	size_t len = 7;

	memset(chunk, 'c', sizeof(chunk));
	nmd_buf_init(&b, &a);
	nmd_buf_puts(&b, "fits");
	CHECK(!b.oom);
	nmd_buf_append(&b, chunk, sizeof(chunk)); /* needs to grow: fails */
	CHECK(b.oom);
	CHECK_STR(b.data, "fits");
	bud.left = -1; /* memory is back, but the failure sticks */
	nmd_buf_append(&b, chunk, sizeof(chunk));
	nmd_buf_puts(&b, "x");
	nmd_buf_putc(&b, 'y');
	nmd_buf_printf(&b, "%d", 5);
	nmd_buf_put_i64(&b, -5);
	nmd_buf_put_u64(&b, 5);
	nmd_buf_put_json_string(&b, "q", 1);
	CHECK(!nmd_buf_reserve(&b, 1));
	CHECK_STR(b.data, "fits");
	CHECK_INT(b.len, 4);
	CHECK(nmd_buf_steal(&b, &len) == NULL);
	CHECK_INT(len, 0);
	/* After steal the buffer starts over. */
	CHECK(!b.oom);
	nmd_buf_puts(&b, "ok");
	CHECK_STR(b.data, "ok");
	nmd_buf_free(&b);
}

NMD_TEST(test_core_buf__oom_first_allocation)
{
	struct budget bud = {0, 0};
	nomad_allocator a = {NOMAD_ALLOCATOR_VERSION, b_malloc, b_realloc,
			     b_free, &bud};
	struct nmd_buf b;

	nmd_buf_init(&b, &a);
	nmd_buf_putc(&b, 'a');
	CHECK(b.oom);
	CHECK(b.data == NULL);
	nmd_buf_puts(&b, "more");
	CHECK_INT(b.len, 0);
	/* Reset clears the failure. */
	bud.left = -1;
	nmd_buf_reset(&b);
	CHECK(!b.oom);
	nmd_buf_putc(&b, 'a');
	CHECK_STR(b.data, "a");
	nmd_buf_free(&b);

	/* Steal of an empty buffer whose one allocation fails. */
	bud.left = 0;
	CHECK(nmd_buf_steal(&b, NULL) == NULL);
}

NMD_TEST(test_core_buf__reserve)
{
	struct nmd_buf b;

	nmd_buf_init(&b, NULL);
	CHECK(nmd_buf_reserve(&b, 100));
	CHECK(b.cap >= 101);
	CHECK_INT(b.len, 0);
	CHECK(!nmd_buf_reserve(&b, SIZE_MAX));
	CHECK(b.oom);
	nmd_buf_free(&b);
}
