/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests for lib/core/logfmt.c: level names and parsing, and the exact
 * hclog text and JSON lines, with quoting, escaping and truncation.
 */
#include <nomad/core.h>

#include "test.h"

/* 2024-01-01T00:00:00.123456789Z */
#define T0 INT64_C(1704067200123456789)

static nomad_log_record rec_of(nomad_log_level level, const char *sub,
			       const char *msg, const nomad_log_kv *kvs,
			       size_t n)
{
	nomad_log_record r = {level, T0, sub, msg, kvs, n};
	return r;
}

static const char *text(const nomad_log_record *r)
{
	static char buf[1024];
	size_t n = nomad_log_format_text(r, buf, sizeof(buf));

	CHECK_INT(n, strlen(buf));
	return buf;
}

static const char *json(const nomad_log_record *r)
{
	static char buf[1024];
	size_t n = nomad_log_format_json(r, buf, sizeof(buf));

	CHECK_INT(n, strlen(buf));
	return buf;
}

/* The text line for one value, to test quoting. */
static const char *text_kv(const char *value)
{
	nomad_log_kv kv = {"k", value};
	nomad_log_record r = rec_of(NOMAD_LOG_INFO, "", "m", &kv, 1);
	const char *line = text(&r);
	static const char prefix[] = "2024-01-01T00:00:00.123Z [INFO]  m: k=";

	CHECK(strncmp(line, prefix, sizeof(prefix) - 1) == 0);
	return line + sizeof(prefix) - 1;
}

NMD_TEST(test_core_logfmt__level_names)
{
	CHECK_STR(nomad_log_level_name(NOMAD_LOG_TRACE), "TRACE");
	CHECK_STR(nomad_log_level_name(NOMAD_LOG_DEBUG), "DEBUG");
	CHECK_STR(nomad_log_level_name(NOMAD_LOG_INFO), "INFO");
	CHECK_STR(nomad_log_level_name(NOMAD_LOG_WARN), "WARN");
	CHECK_STR(nomad_log_level_name(NOMAD_LOG_ERROR), "ERROR");
	CHECK_STR(nomad_log_level_name(NOMAD_LOG_OFF), "OFF");
	CHECK_STR(nomad_log_level_name((nomad_log_level)6), "UNKNOWN");
	CHECK_STR(nomad_log_level_name((nomad_log_level)-1), "UNKNOWN");
}

NMD_TEST(test_core_logfmt__level_round_trip)
{
	for (int l = NOMAD_LOG_TRACE; l <= NOMAD_LOG_OFF; l++) {
		nomad_log_level got = (nomad_log_level)-1;
		CHECK_OK(nomad_log_level_parse(
			nomad_log_level_name((nomad_log_level)l), &got));
		CHECK_INT(got, l);
	}
}

NMD_TEST(test_core_logfmt__level_parse_variants)
{
	static const struct {
		const char *name;
		nomad_log_level want;
	} cases[] = {
		{"trace", NOMAD_LOG_TRACE}, {"Debug", NOMAD_LOG_DEBUG},
		{"info", NOMAD_LOG_INFO},   {"INFO", NOMAD_LOG_INFO},
		{"warn", NOMAD_LOG_WARN},   {"warning", NOMAD_LOG_WARN},
		{"WARNING", NOMAD_LOG_WARN}, {"eRrOr", NOMAD_LOG_ERROR},
		{"off", NOMAD_LOG_OFF},     {" info\t", NOMAD_LOG_INFO},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		nomad_log_level got = (nomad_log_level)-1;
		CHECK_OK(nomad_log_level_parse(cases[i].name, &got));
		CHECK_INT(got, cases[i].want);
	}
}

NMD_TEST(test_core_logfmt__level_parse_bad)
{
	static const char *const bad[] = {
		"", " ", "inf", "infos", "warnin", "err", "fatal", "UNKNOWN",
		"in fo", "info\n", "debug2",
	};
	nomad_log_level got = NOMAD_LOG_ERROR;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_INT(nomad_log_level_parse(bad[i], &got), NOMAD_EINVAL);
		CHECK_INT(got, NOMAD_LOG_ERROR); /* untouched */
	}
	CHECK_INT(nomad_log_level_parse(NULL, &got), NOMAD_EINVAL);
	CHECK_INT(nomad_log_level_parse("info", NULL), NOMAD_EINVAL);
}

NMD_TEST(test_core_logfmt__text_exact)
{
	nomad_log_kv kvs[] = {{"key", "value"}, {"key2", "a b"}};
	nomad_log_record r = rec_of(NOMAD_LOG_INFO, "raft", "message", kvs, 2);

	CHECK_STR(text(&r), "2024-01-01T00:00:00.123Z [INFO]  raft: message: "
			    "key=value key2=\"a b\"\n");
}

NMD_TEST(test_core_logfmt__text_levels)
{
	static const char *const want[] = {
		"2024-01-01T00:00:00.123Z [TRACE] m\n",
		"2024-01-01T00:00:00.123Z [DEBUG] m\n",
		"2024-01-01T00:00:00.123Z [INFO]  m\n",
		"2024-01-01T00:00:00.123Z [WARN]  m\n",
		"2024-01-01T00:00:00.123Z [ERROR] m\n",
	};

	for (int l = NOMAD_LOG_TRACE; l <= NOMAD_LOG_ERROR; l++) {
		nomad_log_record r = rec_of((nomad_log_level)l, NULL, "m",
					    NULL, 0);
		CHECK_STR(text(&r), want[l]);
	}
}

NMD_TEST(test_core_logfmt__text_subsystem_and_message)
{
	nomad_log_kv kv = {"a", "1"};
	nomad_log_record r = rec_of(NOMAD_LOG_WARN, "", "no module", NULL, 0);

	CHECK_STR(text(&r), "2024-01-01T00:00:00.123Z [WARN]  no module\n");
	r = rec_of(NOMAD_LOG_WARN, "agent", "", NULL, 0);
	CHECK_STR(text(&r), "2024-01-01T00:00:00.123Z [WARN]  agent\n");
	r = rec_of(NOMAD_LOG_WARN, "agent", NULL, &kv, 1);
	CHECK_STR(text(&r), "2024-01-01T00:00:00.123Z [WARN]  agent: a=1\n");
	r = rec_of(NOMAD_LOG_WARN, NULL, "m", &kv, 1);
	CHECK_STR(text(&r), "2024-01-01T00:00:00.123Z [WARN]  m: a=1\n");
}

NMD_TEST(test_core_logfmt__text_quoting)
{
	CHECK_STR(text_kv("plain"), "plain\n");
	CHECK_STR(text_kv(""), "\"\"\n");
	CHECK_STR(text_kv("a b"), "\"a b\"\n");
	CHECK_STR(text_kv("a=b"), "\"a=b\"\n");
	CHECK_STR(text_kv("say \"hi\""), "\"say \\\"hi\\\"\"\n");
	CHECK_STR(text_kv("x\"y"), "\"x\\\"y\"\n");
	CHECK_STR(text_kv("l1\nl2"), "\"l1\\nl2\"\n");
	CHECK_STR(text_kv("t\tr\r"), "\"t\\tr\\r\"\n");
	CHECK_STR(text_kv("\a\b\f\v"), "\"\\a\\b\\f\\v\"\n");
	CHECK_STR(text_kv("\x01\x1f\x7f"), "\"\\x01\\x1f\\x7f\"\n");
	/* A backslash alone does not need quotes; with them it doubles. */
	CHECK_STR(text_kv("C:\\dir"), "C:\\dir\n");
	CHECK_STR(text_kv("a\\ b"), "\"a\\\\ b\"\n");
	/* Printable UTF-8 stays; invalid bytes and C1 controls do not. */
	CHECK_STR(text_kv("h\xc3\xa9llo"), "h\xc3\xa9llo\n");
	CHECK_STR(text_kv("bad\xff"), "\"bad\\xff\"\n");
	CHECK_STR(text_kv("c1\xc2\x85"), "\"c1\\u0085\"\n");
	CHECK_STR(text_kv("\xe2\x80\xa8"), "\"\\u2028\"\n");
	CHECK_STR(text_kv("/path/to:x,y"), "/path/to:x,y\n");
}

NMD_TEST(test_core_logfmt__text_null_kv)
{
	nomad_log_kv kv = {"k", NULL};
	nomad_log_record r = rec_of(NOMAD_LOG_INFO, "s", "m", &kv, 1);

	CHECK_STR(text(&r), "2024-01-01T00:00:00.123Z [INFO]  s: m: k=\"\"\n");
}

NMD_TEST(test_core_logfmt__text_time)
{
	nomad_log_record r = rec_of(NOMAD_LOG_INFO, NULL, "m", NULL, 0);

	r.time_unix_ns = 0;
	CHECK_STR(text(&r), "1970-01-01T00:00:00.000Z [INFO]  m\n");
	r.time_unix_ns = -1;
	CHECK_STR(text(&r), "1969-12-31T23:59:59.999Z [INFO]  m\n");
	r.time_unix_ns = INT64_C(1136214245999999999);
	CHECK_STR(text(&r), "2006-01-02T15:04:05.999Z [INFO]  m\n");
}

NMD_TEST(test_core_logfmt__text_unknown_level)
{
	nomad_log_record r = rec_of((nomad_log_level)9, NULL, "m", NULL, 0);

	CHECK_STR(text(&r), "2024-01-01T00:00:00.123Z [?????] m\n");
}

NMD_TEST(test_core_logfmt__json_exact)
{
	nomad_log_kv kvs[] = {{"key", "value"}, {"key2", "a b"}};
	nomad_log_record r = rec_of(NOMAD_LOG_INFO, "raft", "message", kvs, 2);

	CHECK_STR(json(&r),
		  "{\"@level\":\"info\",\"@message\":\"message\","
		  "\"@module\":\"raft\","
		  "\"@timestamp\":\"2024-01-01T00:00:00.123456Z\","
		  "\"key\":\"value\",\"key2\":\"a b\"}\n");
}

NMD_TEST(test_core_logfmt__json_levels_and_no_module)
{
	static const char *const names[] = {"trace", "debug", "info", "warn",
					    "error"};
	char want[256];

	for (int l = NOMAD_LOG_TRACE; l <= NOMAD_LOG_ERROR; l++) {
		nomad_log_record r = rec_of((nomad_log_level)l, NULL, "m",
					    NULL, 0);
		snprintf(want, sizeof(want),
			 "{\"@level\":\"%s\",\"@message\":\"m\","
			 "\"@timestamp\":\"2024-01-01T00:00:00.123456Z\"}\n",
			 names[l]);
		CHECK_STR(json(&r), want);
	}
}

NMD_TEST(test_core_logfmt__json_escaping)
{
	nomad_log_kv kvs[] = {{"q\"k", "line1\nline2\t\"x\"\\"},
			      {"html", "<b>&</b>"},
			      {"ctl", "\x01\x1f"},
			      {"utf8", "\xc3\xa9\xe2\x82\xac"}};
	nomad_log_record r = rec_of(NOMAD_LOG_ERROR, "a\"b", "m\r", kvs, 4);

	CHECK_STR(json(&r),
		  "{\"@level\":\"error\",\"@message\":\"m\\r\","
		  "\"@module\":\"a\\\"b\","
		  "\"@timestamp\":\"2024-01-01T00:00:00.123456Z\","
		  "\"q\\\"k\":\"line1\\nline2\\t\\\"x\\\"\\\\\","
		  "\"html\":\"<b>&</b>\","
		  "\"ctl\":\"\\u0001\\u001f\","
		  "\"utf8\":\"\xc3\xa9\xe2\x82\xac\"}\n");
}

NMD_TEST(test_core_logfmt__truncation)
{
	nomad_log_kv kv = {"key", "value"};
	nomad_log_record r = rec_of(NOMAD_LOG_INFO, "raft", "message", &kv, 1);
	const char *full = "2024-01-01T00:00:00.123Z [INFO]  raft: message: "
			   "key=value\n";
	size_t n = strlen(full);
	char buf[16];

	memset(buf, '#', sizeof(buf));
	CHECK_INT(nomad_log_format_text(&r, buf, sizeof(buf)), n);
	CHECK_INT(strlen(buf), sizeof(buf) - 1);
	CHECK(strncmp(buf, full, sizeof(buf) - 1) == 0);

	memset(buf, '#', sizeof(buf));
	CHECK_INT(nomad_log_format_text(&r, buf, 1), n);
	CHECK_INT(buf[0], '\0');
	CHECK_INT(buf[1], '#');
	CHECK_INT(nomad_log_format_text(&r, NULL, 0), n);

	/* Exactly enough, and one short. */
	char exact[128];
	CHECK_INT(nomad_log_format_text(&r, exact, n + 1), n);
	CHECK_STR(exact, full);
	CHECK_INT(nomad_log_format_text(&r, exact, n), n);
	CHECK_INT(strlen(exact), n - 1);

	size_t jn = nomad_log_format_json(&r, NULL, 0);
	CHECK(jn > 0);
	memset(buf, '#', sizeof(buf));
	CHECK_INT(nomad_log_format_json(&r, buf, sizeof(buf)), jn);
	CHECK_STR(buf, "{\"@level\":\"info");
}

NMD_TEST(test_core_logfmt__null_record)
{
	char buf[8] = "xxxxxxx";

	CHECK_INT(nomad_log_format_text(NULL, buf, sizeof(buf)), 0);
	CHECK_STR(buf, "");
	CHECK_INT(nomad_log_format_json(NULL, buf, sizeof(buf)), 0);
}
