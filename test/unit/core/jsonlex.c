/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The JSON pull lexer on its own: token sequences, skipping and compacting
 * values, exact number conversion, Unicode handling and position tracking.
 */
#include "test.h"
#include "core/jsonlex.h"

static void expect_tokens(const char *json, const enum nmd_jtok *want,
			  size_t n)
{
	struct nmd_jlex lex;
	nmd_jlex_init(&lex, json, strlen(json), 0, NULL, NULL);
	for (size_t i = 0; i < n; i++) {
		enum nmd_jtok t = nmd_jlex_next(&lex);
		if (t != want[i])
			nmd_test_fail(__FILE__, __LINE__,
				      "%s: token %zu is %s, want %s", json, i,
				      nmd_jtok_name(t), nmd_jtok_name(want[i]));
	}
	nmd_jlex_free(&lex);
}

NMD_TEST(test_core_jsonlex__token_sequence)
{
	static const enum nmd_jtok want[] = {
		NMD_JT_OBJ_BEGIN, NMD_JT_KEY,     NMD_JT_ARR_BEGIN,
		NMD_JT_NUMBER,    NMD_JT_TRUE,    NMD_JT_FALSE,
		NMD_JT_NULL,      NMD_JT_STRING,  NMD_JT_ARR_END,
		NMD_JT_KEY,       NMD_JT_OBJ_BEGIN, NMD_JT_OBJ_END,
		NMD_JT_OBJ_END,   NMD_JT_EOF,     NMD_JT_EOF};
	expect_tokens(" {\"a\" : [ -1.5e+3 , true,false ,null,\"s\"],\r\n"
		      "\t\"b\":{}} \n",
		      want, sizeof(want) / sizeof(*want));
}

NMD_TEST(test_core_jsonlex__scalars_at_top_level)
{
	static const enum nmd_jtok num[] = {NMD_JT_NUMBER, NMD_JT_EOF};
	static const enum nmd_jtok str[] = {NMD_JT_STRING, NMD_JT_EOF};
	expect_tokens("0", num, 2);
	expect_tokens("\"\"", str, 2);
}

NMD_TEST(test_core_jsonlex__errors_stick_and_carry_position)
{
	struct nmd_jlex lex;
	nomad_error err;
	const char *json = "{\"a\":1,\n  \"b\" 2}";
	nmd_jlex_init(&lex, json, strlen(json), 0, NULL, &err);
	lex.name = "x.json";
	while (nmd_jlex_next(&lex) != NMD_JT_ERROR)
		;
	CHECK_INT(err.code, NOMAD_EPARSE);
	CHECK_INT(err.line, 2);
	CHECK_INT(err.column, 7);
	CHECK_STR(err.file, "x.json");
	CHECK_STR(err.message, "x.json:2:7: unexpected character '2', "
			       "expected ':' after an object key");
	CHECK_INT(nmd_jlex_next(&lex), NMD_JT_ERROR);
	nmd_jlex_free(&lex);
}

NMD_TEST(test_core_jsonlex__skip_and_copy_compact)
{
	struct nmd_jlex lex;
	struct nmd_buf out;
	const char *json = "[ {\"x\" : [1, {\"y\":\"\\u00e9\\n\"}], \"z\":null} ,"
			   " 7 , \"end\" ]";
	nmd_buf_init(&out, NULL);
	nmd_jlex_init(&lex, json, strlen(json), 0, NULL, NULL);
	CHECK_INT(nmd_jlex_next(&lex), NMD_JT_ARR_BEGIN);
	CHECK_INT(nmd_jlex_next(&lex), NMD_JT_OBJ_BEGIN);
	CHECK(nmd_jlex_copy_compact(&lex, &out));
	CHECK_STR(out.data, "{\"x\":[1,{\"y\":\"\xc3\xa9\\n\"}],\"z\":null}");
	CHECK_INT(nmd_jlex_next(&lex), NMD_JT_NUMBER);
	CHECK(nmd_jlex_skip(&lex)); /* a scalar: nothing to do */
	CHECK_INT(nmd_jlex_next(&lex), NMD_JT_STRING);
	CHECK_INT(nmd_jlex_next(&lex), NMD_JT_ARR_END);
	CHECK_INT(nmd_jlex_next(&lex), NMD_JT_EOF);
	nmd_jlex_free(&lex);

	nmd_jlex_init(&lex, json, strlen(json), 0, NULL, NULL);
	CHECK_INT(nmd_jlex_next(&lex), NMD_JT_ARR_BEGIN);
	CHECK(nmd_jlex_skip(&lex));
	CHECK_INT(nmd_jlex_next(&lex), NMD_JT_EOF);
	nmd_jlex_free(&lex);
	nmd_buf_free(&out);
}

NMD_TEST(test_core_jsonlex__depth_limit)
{
	struct nmd_jlex lex;
	nomad_error err;
	nmd_jlex_init(&lex, "[[[[1]]]]", 9, 3, NULL, &err);
	for (int i = 0; i < 3; i++)
		CHECK_INT(nmd_jlex_next(&lex), NMD_JT_ARR_BEGIN);
	CHECK_INT(nmd_jlex_next(&lex), NMD_JT_ERROR);
	CHECK_CONTAINS(err.message, "nesting deeper than 3 levels");
	nmd_jlex_free(&lex);
}

NMD_TEST(test_core_jsonlex__integers_exact)
{
	int64_t i;
	uint64_t u;
	CHECK(nmd_json_num_i64("9223372036854775807", 19, &i) && i == INT64_MAX);
	CHECK(nmd_json_num_i64("-9223372036854775808", 20, &i) && i == INT64_MIN);
	CHECK(!nmd_json_num_i64("9223372036854775808", 19, &i));
	CHECK(!nmd_json_num_i64("1.0", 3, &i));
	CHECK(!nmd_json_num_i64("1e3", 3, &i));
	CHECK(!nmd_json_num_i64("", 0, &i));
	CHECK(!nmd_json_num_i64("-", 1, &i));
	CHECK(nmd_json_num_u64("18446744073709551615", 20, &u) && u == UINT64_MAX);
	CHECK(!nmd_json_num_u64("18446744073709551616", 20, &u));
	CHECK(!nmd_json_num_u64("-1", 2, &u));
}

NMD_TEST(test_core_jsonlex__doubles)
{
	double d;
	char longnum[300];
	CHECK(nmd_json_num_double("-12.5e-1", 8, &d) && d == -1.25);
	CHECK(nmd_json_num_double("1e-400", 6, &d) && d == 0); /* underflow */
	CHECK(!nmd_json_num_double("1e400", 5, &d));           /* overflow */
	memset(longnum, '1', sizeof(longnum) - 1);
	longnum[1] = '.';
	CHECK(nmd_json_num_double(longnum, sizeof(longnum) - 1, &d));
	CHECK(d > 1.1 && d < 1.2);
}

NMD_TEST(test_core_jsonlex__unicode)
{
	struct nmd_jlex lex;
	/* escapes, a surrogate pair, lone surrogates, invalid and overlong
	 * UTF-8 (each bad byte becomes U+FFFD), valid 4-byte UTF-8 */
	const char *json = "\"\\u0041\\ud83d\\ude00\\udc00\\ud800\xc0\xaf"
			   "\xed\xa0\x80\xf0\x9f\x98\x80\"";
	nmd_jlex_init(&lex, json, strlen(json), 0, NULL, NULL);
	CHECK_INT(nmd_jlex_next(&lex), NMD_JT_STRING);
	CHECK_INT(lex.slen, strlen("A\xf0\x9f\x98\x80\xef\xbf\xbd\xef\xbf\xbd"
				   "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef"
				   "\xbf\xbd\xef\xbf\xbd\xf0\x9f\x98\x80"));
	CHECK(memcmp(lex.str, "A\xf0\x9f\x98\x80\xef\xbf\xbd\xef\xbf\xbd",
		     11) == 0);
	nmd_jlex_free(&lex);
}

NMD_TEST(test_core_jsonlex__truncated_inputs_never_overread)
{
	/* Every prefix of a document is an error or a complete value, and
	 * the lexer never reads past len (ASan checks the heap copy). */
	const char *doc = "{\"a\":[1,-2.5e3,true,null,\"x\\u00e9\\\"\"],\"b\":{}}";
	size_t n = strlen(doc);
	for (size_t len = 0; len < n; len++) {
		char *copy = malloc(len ? len : 1);
		struct nmd_jlex lex;
		enum nmd_jtok t;
		memcpy(copy, doc, len);
		nmd_jlex_init(&lex, copy, len, 0, NULL, NULL);
		while ((t = nmd_jlex_next(&lex)) != NMD_JT_ERROR &&
		       t != NMD_JT_EOF)
			;
		CHECK_INT(t, NMD_JT_ERROR);
		nmd_jlex_free(&lex);
		free(copy);
	}
}
