/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests for lib/core/json.c: parsing with located errors (also from
 * buffers without a NUL), and the typed getters on good and bad documents.
 */
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/json.h"
#include "test.h"

static cJSON *parse(const char *text, nomad_error *err)
{
	return nmd_cjson_parse(text, strlen(text), err);
}

/* A driver config as a job would carry it, under "config". */
static const char doc[] =
	"{\"config\": {\n"
	"  \"command\": \"/bin/sleep\",\n"
	"  \"args\": [\"10\", \"--verbose\"],\n"
	"  \"empty\": [],\n"
	"  \"count\": 3,\n"
	"  \"neg\": -42,\n"
	"  \"big\": 9007199254740992,\n"
	"  \"frac\": 1.5,\n"
	"  \"huge\": 1e300,\n"
	"  \"exp\": 2e3,\n"
	"  \"debug\": true,\n"
	"  \"quiet\": false,\n"
	"  \"nothing\": null,\n"
	"  \"mixed\": [\"a\", 1],\n"
	"  \"dup\": \"first\",\n"
	"  \"dup\": \"second\",\n"
	"  \"obj\": {}\n"
	"}}";

static cJSON *config(cJSON **root)
{
	nomad_error err;

	*root = parse(doc, &err);
	CHECK(*root != NULL);
	return cJSON_GetObjectItemCaseSensitive(*root, "config");
}

NMD_TEST(test_core_json__parse_ok)
{
	nomad_error err;
	cJSON *j;

	nomad_error_clear(&err);
	j = parse("  {\"a\": [1, 2, {\"b\": null}]}\n\t ", &err);
	CHECK(j != NULL);
	CHECK(cJSON_IsObject(j));
	CHECK_INT(err.code, NOMAD_OK);
	cJSON_Delete(j);
	j = parse("42", NULL);
	CHECK(j != NULL && cJSON_IsNumber(j));
	cJSON_Delete(j);
}

NMD_TEST(test_core_json__parse_no_nul)
{
	/* An exact-size heap copy: a read past the end by our code trips
	 * ASan (cJSON itself is not instrumented; see parse_guard_page). */
	static const char text[] = "{\"k\": \"v\", \"n\": 12}";
	char *buf = malloc(sizeof(text) - 1);
	nomad_error err;
	cJSON *j;

	memcpy(buf, text, sizeof(text) - 1);
	j = nmd_cjson_parse(buf, sizeof(text) - 1, &err);
	CHECK(j != NULL);
	CHECK_STR(cJSON_GetObjectItemCaseSensitive(j, "k")->valuestring, "v");
	cJSON_Delete(j);
	/* Cut short inside the value: an error, not an overread. */
	CHECK(nmd_cjson_parse(buf, 12, &err) == NULL);
	CHECK_INT(err.code, NOMAD_EPARSE);
	free(buf);
}

NMD_TEST(test_core_json__parse_guard_page)
{
	/* Inputs cut short, placed so that their last byte is the last
	 * readable one: a page without access follows, so a read past len
	 * by cJSON or by us ends the test with SIGSEGV. */
	static const char *const cuts[] = {
		"\"abc\\", "\"abc\\u12", "\"abc", "\"\\u", "\"\\ud800\\u",
		"\"\\ud800\\", "\"\\ud83d\\ude0", "[", "{", "{\"a\"",
		"{\"a\":", "[1,", "-1.5e", "tru", "n", "[\"a\",\"", "{\"a\" ",
		"\xef\xbb", "\xef\xbb\xbf", "[1", "{\"a\":1", "   ",
		"{\"a\":1,", "truex", "1", "{} ",
	};
	long ps = sysconf(_SC_PAGESIZE);
	char *m = mmap(NULL, (size_t)ps * 2, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	nomad_error err;

	CHECK(m != MAP_FAILED);
	CHECK_OK(mprotect(m + ps, (size_t)ps, PROT_NONE));
	for (size_t i = 0; i < sizeof(cuts) / sizeof(cuts[0]); i++) {
		size_t n = strlen(cuts[i]);
		char *p = m + ps - n;
		cJSON *j;
		memcpy(p, cuts[i], n);
		j = nmd_cjson_parse(p, n, &err);
		/* Only complete values followed by white space parse. */
		CHECK((j != NULL) == (strcmp(cuts[i], "1") == 0 ||
				      strcmp(cuts[i], "{} ") == 0));
		cJSON_Delete(j);
	}
	munmap(m, (size_t)ps * 2);
}

NMD_TEST(test_core_json__parse_error_location)
{
	nomad_error err;

	CHECK(parse("{\n \"a\": 1,\n \"b\": x\n}", &err) == NULL);
	CHECK_INT(err.code, NOMAD_EPARSE);
	CHECK_INT(err.line, 3);
	CHECK_INT(err.column, 7);
	CHECK_STR(err.message, "json: syntax error near line 3 column 7");
	CHECK_STR(err.file, "");

	CHECK(parse("[1,2,]", &err) == NULL);
	CHECK_INT(err.line, 1);
	CHECK_INT(err.column, 6);
	CHECK(parse("", &err) == NULL);
	CHECK_INT(err.line, 1);
	CHECK_INT(err.column, 1);
	CHECK(parse("{\"a\":1,}", &err) == NULL);
	CHECK_INT(err.column, 8);
}

NMD_TEST(test_core_json__parse_trailing_text)
{
	nomad_error err;

	CHECK(parse("{\"a\": 1} x", &err) == NULL);
	CHECK_INT(err.code, NOMAD_EPARSE);
	CHECK_INT(err.line, 1);
	CHECK_INT(err.column, 10);
	CHECK(parse("{}\n\n  {}", &err) == NULL);
	CHECK_INT(err.line, 3);
	CHECK_INT(err.column, 3);
	CHECK(nmd_cjson_parse("{}\0", 3, &err) == NULL);
	CHECK(nmd_cjson_parse(NULL, 0, &err) == NULL);
	CHECK_INT(err.code, NOMAD_EINVAL);
}

NMD_TEST(test_core_json__parse_bad_documents)
{
	static const char *const bad[] = {
		"{", "}", "[", "{\"a\"}", "{\"a\":}", "{a: 1}", "'x'", "tru",
		"nul", "\"open", "[1 2]", "{\"a\":1 \"b\":2}", "-", "[,]",
	};
	nomad_error err;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		nomad_error_clear(&err);
		if (parse(bad[i], &err) != NULL)
			nmd_test_fail(__FILE__, __LINE__, "accepted %s",
				      bad[i]);
		CHECK_INT(err.code, NOMAD_EPARSE);
		CHECK(err.line == 1 && err.column >= 1);
		CHECK_CONTAINS(err.message, "json: syntax error near line 1");
	}
}

NMD_TEST(test_core_json__type_names)
{
	cJSON *root, *c = config(&root);

	CHECK_STR(nmd_cjson_type_name(NULL), "invalid");
	CHECK_STR(nmd_cjson_type_name(c), "object");
	CHECK_STR(nmd_cjson_type_name(cJSON_GetObjectItem(c, "args")), "array");
	CHECK_STR(nmd_cjson_type_name(cJSON_GetObjectItem(c, "count")),
		  "number");
	CHECK_STR(nmd_cjson_type_name(cJSON_GetObjectItem(c, "quiet")), "bool");
	CHECK_STR(nmd_cjson_type_name(cJSON_GetObjectItem(c, "nothing")),
		  "null");
	CHECK_STR(nmd_cjson_type_name(cJSON_GetObjectItem(c, "command")),
		  "string");
	cJSON_Delete(root);
}

NMD_TEST(test_core_json__get_string)
{
	cJSON *root, *c = config(&root);
	const char *s = "default";
	nomad_error err;

	CHECK_OK(nmd_cjson_get_string(c, "command", &s, &err));
	CHECK_STR(s, "/bin/sleep");
	/* Last duplicate wins, as in Go. */
	CHECK_OK(nmd_cjson_get_string(c, "dup", &s, &err));
	CHECK_STR(s, "second");

	nomad_error_clear(&err);
	s = "default";
	CHECK_INT(nmd_cjson_get_string(c, "missing", &s, &err),
		  NOMAD_ENOTFOUND);
	CHECK_INT(nmd_cjson_get_string(c, "nothing", &s, &err),
		  NOMAD_ENOTFOUND);
	CHECK_STR(s, "default");
	CHECK_INT(err.code, NOMAD_OK); /* untouched */
	CHECK_STR(err.message, "");

	CHECK_INT(nmd_cjson_get_string(c, "count", &s, &err), NOMAD_EINVAL);
	CHECK_STR(err.message, "config: \"count\": expected a string, "
			       "got number");
	CHECK_STR(s, "default");
	CHECK_INT(nmd_cjson_get_string(c, "args", &s, NULL), NOMAD_EINVAL);
	cJSON_Delete(root);
}

NMD_TEST(test_core_json__get_string_root_and_non_object)
{
	nomad_error err;
	cJSON *root = parse("{\"command\": 5, \"list\": [1]}", &err);
	const char *s = NULL;

	CHECK(root != NULL);
	/* The root has no key of its own: no prefix. */
	CHECK_INT(nmd_cjson_get_string(root, "command", &s, &err),
		  NOMAD_EINVAL);
	CHECK_STR(err.message, "\"command\": expected a string, got number");
	CHECK_INT(nmd_cjson_get_string(cJSON_GetObjectItem(root, "list"), "x",
				       &s, &err),
		  NOMAD_EINVAL);
	CHECK_STR(err.message, "list: \"x\": expected an object, got array");
	CHECK_INT(nmd_cjson_get_string(NULL, "x", &s, &err), NOMAD_ENOTFOUND);
	CHECK_INT(nmd_cjson_get_string(root, NULL, &s, &err), NOMAD_ENOTFOUND);
	cJSON_Delete(root);
}

NMD_TEST(test_core_json__get_i64)
{
	cJSON *root, *c = config(&root);
	nomad_error err;
	int64_t v = -7;

	CHECK_OK(nmd_cjson_get_i64(c, "count", &v, &err));
	CHECK_INT(v, 3);
	CHECK_OK(nmd_cjson_get_i64(c, "neg", &v, &err));
	CHECK_INT(v, -42);
	CHECK_OK(nmd_cjson_get_i64(c, "big", &v, &err));
	CHECK_INT(v, INT64_C(9007199254740992));
	CHECK_OK(nmd_cjson_get_i64(c, "exp", &v, &err));
	CHECK_INT(v, 2000);

	v = -7;
	CHECK_INT(nmd_cjson_get_i64(c, "missing", &v, &err), NOMAD_ENOTFOUND);
	CHECK_INT(nmd_cjson_get_i64(c, "nothing", &v, &err), NOMAD_ENOTFOUND);
	CHECK_INT(nmd_cjson_get_i64(c, "frac", &v, &err), NOMAD_EINVAL);
	CHECK_STR(err.message,
		  "config: \"frac\": expected an integer, got 1.5");
	CHECK_INT(nmd_cjson_get_i64(c, "huge", &v, &err), NOMAD_EINVAL);
	CHECK_CONTAINS(err.message, "\"huge\": expected an integer");
	CHECK_INT(nmd_cjson_get_i64(c, "command", &v, &err), NOMAD_EINVAL);
	CHECK_STR(err.message,
		  "config: \"command\": expected an integer, got string");
	CHECK_INT(nmd_cjson_get_i64(c, "debug", &v, &err), NOMAD_EINVAL);
	CHECK_STR(err.message,
		  "config: \"debug\": expected an integer, got bool");
	CHECK_INT(v, -7);
	cJSON_Delete(root);
}

NMD_TEST(test_core_json__get_i64_range)
{
	nomad_error err;
	int64_t v = 0;
	cJSON *root = parse("{\"min\": -9223372036854775808,"
			    " \"over\": 9223372036854775808,"
			    " \"under\": -9223372036854777856,"
			    " \"negzero\": -0}",
			    &err);

	CHECK(root != NULL);
	CHECK_OK(nmd_cjson_get_i64(root, "min", &v, &err));
	CHECK(v == INT64_MIN);
	/* 2^63 is out of range; the next double below -2^63 too. */
	CHECK_INT(nmd_cjson_get_i64(root, "over", &v, &err), NOMAD_EINVAL);
	CHECK_INT(nmd_cjson_get_i64(root, "under", &v, &err), NOMAD_EINVAL);
	CHECK_OK(nmd_cjson_get_i64(root, "negzero", &v, &err));
	CHECK_INT(v, 0);
	cJSON_Delete(root);
}

NMD_TEST(test_core_json__get_bool)
{
	cJSON *root, *c = config(&root);
	nomad_error err;
	bool b = false;

	CHECK_OK(nmd_cjson_get_bool(c, "debug", &b, &err));
	CHECK(b);
	CHECK_OK(nmd_cjson_get_bool(c, "quiet", &b, &err));
	CHECK(!b);
	b = true;
	CHECK_INT(nmd_cjson_get_bool(c, "missing", &b, &err), NOMAD_ENOTFOUND);
	CHECK_INT(nmd_cjson_get_bool(c, "nothing", &b, &err), NOMAD_ENOTFOUND);
	CHECK_INT(nmd_cjson_get_bool(c, "count", &b, &err), NOMAD_EINVAL);
	CHECK_STR(err.message,
		  "config: \"count\": expected a bool, got number");
	CHECK_INT(nmd_cjson_get_bool(c, "obj", &b, &err), NOMAD_EINVAL);
	CHECK_STR(err.message, "config: \"obj\": expected a bool, got object");
	CHECK(b);
	cJSON_Delete(root);
}

NMD_TEST(test_core_json__get_string_array)
{
	cJSON *root, *c = config(&root);
	nomad_error err;
	char **arr = NULL;
	size_t n = 99;

	CHECK_OK(nmd_cjson_get_string_array(c, "args", NULL, &arr, &n, &err));
	CHECK_INT(n, 2);
	CHECK_STR(arr[0], "10");
	CHECK_STR(arr[1], "--verbose");
	CHECK(arr[2] == NULL);
	nmd_cjson_free_string_array(NULL, arr);

	CHECK_OK(nmd_cjson_get_string_array(c, "empty", NULL, &arr, &n, &err));
	CHECK_INT(n, 0);
	CHECK(arr != NULL && arr[0] == NULL);
	nmd_cjson_free_string_array(NULL, arr);
	nmd_cjson_free_string_array(NULL, NULL);

	arr = NULL;
	n = 99;
	CHECK_INT(nmd_cjson_get_string_array(c, "missing", NULL, &arr, &n,
					     &err),
		  NOMAD_ENOTFOUND);
	CHECK_INT(nmd_cjson_get_string_array(c, "mixed", NULL, &arr, &n, &err),
		  NOMAD_EINVAL);
	CHECK_STR(err.message,
		  "config: \"mixed\"[1]: expected a string, got number");
	CHECK_INT(nmd_cjson_get_string_array(c, "command", NULL, &arr, &n,
					     &err),
		  NOMAD_EINVAL);
	CHECK_STR(err.message, "config: \"command\": expected an array of "
			       "strings, got string");
	CHECK(arr == NULL);
	CHECK_INT(n, 99);
	cJSON_Delete(root);
}

struct budget {
	int left; /* successful allocations still allowed; -1 unlimited */
	int live;
};

static void *b_malloc(size_t size, void *ud)
{
	struct budget *b = ud;
	if (b->left == 0)
		return NULL;
	if (b->left > 0)
		b->left--;
	b->live++;
	return malloc(size);
}

static void *b_realloc(void *p, size_t size, void *ud)
{
	struct budget *b = ud;
	if (b->left == 0)
		return NULL;
	if (b->left > 0)
		b->left--;
	if (!p)
		b->live++;
	return realloc(p, size);
}

static void b_free(void *p, void *ud)
{
	struct budget *b = ud;
	if (p)
		b->live--;
	free(p);
}

NMD_TEST(test_core_json__get_string_array_allocator)
{
	cJSON *root, *c = config(&root);
	struct budget bud = {-1, 0};
	nomad_allocator a = {NOMAD_ALLOCATOR_VERSION, b_malloc, b_realloc,
			     b_free, &bud};
	nomad_error err;
	char **arr = NULL;
	size_t n = 0;

	CHECK_OK(nmd_cjson_get_string_array(c, "args", &a, &arr, &n, &err));
	CHECK_INT(bud.live, 3); /* the array and two strings */
	nmd_cjson_free_string_array(&a, arr);
	CHECK_INT(bud.live, 0);

	/* Failing at each allocation in turn leaks nothing. */
	for (int fail_at = 0; fail_at < 3; fail_at++) {
		bud.left = fail_at;
		arr = NULL;
		CHECK_INT(nmd_cjson_get_string_array(c, "args", &a, &arr, &n,
						     &err),
			  NOMAD_ENOMEM);
		CHECK_STR(err.message, "json: out of memory");
		CHECK(arr == NULL);
		CHECK_INT(bud.live, 0);
	}
	cJSON_Delete(root);
}
