/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests for lib/core/timeutil.c: the calendar conversions, RFC 3339
 * parsing and formatting, and Go durations both ways, with tables taken
 * from Go's own time package tests where they exist.
 */
#include "core/timeutil.h"
#include "test.h"

#define SEC_2006 INT64_C(1136214245) /* 2006-01-02T15:04:05Z */
#define SEC_2024 INT64_C(1704067200) /* 2024-01-01T00:00:00Z */
#define GO_ZERO INT64_C(-62135596800) /* 0001-01-01T00:00:00Z */

static bool parse(const char *s, int64_t *sec, int32_t *nsec)
{
	return nmd_rfc3339_parse(s, strlen(s), sec, nsec);
}

static const char *fmt(int64_t sec, int32_t nsec)
{
	static char buf[64];
	size_t n = nmd_rfc3339_format(sec, nsec, buf, sizeof(buf));

	CHECK_INT(n, strlen(buf));
	CHECK(n < 40);
	return buf;
}

NMD_TEST(test_core_timeutil__civil_known)
{
	int64_t y;
	unsigned int m, d;

	CHECK_INT(nmd_days_from_civil(1970, 1, 1), 0);
	CHECK_INT(nmd_days_from_civil(1970, 1, 2), 1);
	CHECK_INT(nmd_days_from_civil(1969, 12, 31), -1);
	CHECK_INT(nmd_days_from_civil(2000, 3, 1), 11017);
	CHECK_INT(nmd_days_from_civil(2024, 1, 1), 19723);
	CHECK_INT(nmd_days_from_civil(1, 1, 1), -719162);
	CHECK_INT(nmd_days_from_civil(0, 3, 1), -719468);
	CHECK_INT(nmd_days_from_civil(9999, 12, 31), 2932896);
	nmd_civil_from_days(-719162, &y, &m, &d);
	CHECK(y == 1 && m == 1 && d == 1);
	nmd_civil_from_days(11016, &y, &m, &d);
	CHECK(y == 2000 && m == 2 && d == 29);
	nmd_civil_from_days(-1, &y, &m, &d);
	CHECK(y == 1969 && m == 12 && d == 31);
	nmd_civil_from_days(-719469, &y, &m, &d);
	CHECK(y == 0 && m == 2 && d == 29); /* year 0 is a leap year */
	nmd_civil_from_days(-719529, &y, &m, &d);
	CHECK(y == -1 && m == 12 && d == 31);
}

NMD_TEST(test_core_timeutil__civil_round_trip)
{
	int64_t prev_y = 0;
	unsigned int prev_m = 0, prev_d = 0;

	/* From year -1 to beyond 9999, every day: dates advance by one and
	 * convert back to the same count. */
	for (int64_t days = -719900; days < 3000000; days++) {
		int64_t y;
		unsigned int m, d;
		nmd_civil_from_days(days, &y, &m, &d);
		if (nmd_days_from_civil(y, m, d) != days)
			CHECK_INT(nmd_days_from_civil(y, m, d), days);
		if (days > -719900) {
			bool next_day = y == prev_y && m == prev_m &&
					d == prev_d + 1;
			bool next_month = y == prev_y && m == prev_m + 1 &&
					  d == 1;
			bool next_year = y == prev_y + 1 && m == 1 && d == 1 &&
					 prev_m == 12 && prev_d == 31;
			CHECK(next_day || next_month || next_year);
		}
		prev_y = y;
		prev_m = m;
		prev_d = d;
	}
}

NMD_TEST(test_core_timeutil__rfc3339_parse_basic)
{
	int64_t sec = 0;
	int32_t nsec = -1;

	CHECK(parse("2006-01-02T15:04:05Z", &sec, &nsec));
	CHECK_INT(sec, SEC_2006);
	CHECK_INT(nsec, 0);
	CHECK(parse("1970-01-01T00:00:00Z", &sec, &nsec));
	CHECK_INT(sec, 0);
	CHECK(parse("0001-01-01T00:00:00Z", &sec, &nsec));
	CHECK_INT(sec, GO_ZERO);
	CHECK(parse("0000-01-01T00:00:00Z", &sec, &nsec));
	CHECK_INT(sec, GO_ZERO - 366 * 86400);
	CHECK(parse("9999-12-31T23:59:59.999999999Z", &sec, &nsec));
	CHECK_INT(sec, INT64_C(253402300799));
	CHECK_INT(nsec, 999999999);
	CHECK(parse("1969-12-31T23:59:59Z", &sec, &nsec));
	CHECK_INT(sec, -1);
	/* Lowercase and a space separator. */
	CHECK(parse("2006-01-02t15:04:05z", &sec, &nsec));
	CHECK_INT(sec, SEC_2006);
	CHECK(parse("2006-01-02 15:04:05Z", &sec, &nsec));
	CHECK_INT(sec, SEC_2006);
}

NMD_TEST(test_core_timeutil__rfc3339_parse_offsets)
{
	int64_t sec;
	int32_t nsec;

	CHECK(parse("2024-01-01T00:00:00+02:00", &sec, &nsec));
	CHECK_INT(sec, SEC_2024 - 7200);
	CHECK(parse("2024-01-01T00:00:00-05:30", &sec, &nsec));
	CHECK_INT(sec, SEC_2024 + 5 * 3600 + 1800);
	CHECK(parse("2024-01-01T00:00:00+00:00", &sec, &nsec));
	CHECK_INT(sec, SEC_2024);
	CHECK(parse("2024-01-01T00:00:00-00:00", &sec, &nsec));
	CHECK_INT(sec, SEC_2024);
	/* Go's reference time, in its own zone. */
	CHECK(parse("2006-01-02T15:04:05-07:00", &sec, &nsec));
	CHECK_INT(sec, SEC_2006 + 7 * 3600);
	CHECK(parse("2006-01-02T15:04:05.5+23:59", &sec, &nsec));
	CHECK_INT(sec, SEC_2006 - 23 * 3600 - 59 * 60);
	CHECK_INT(nsec, 500000000);
	/* An offset can move the date across the epoch or year zero. */
	CHECK(parse("0001-01-01T00:00:00+01:00", &sec, &nsec));
	CHECK_INT(sec, GO_ZERO - 3600);
}

NMD_TEST(test_core_timeutil__rfc3339_parse_fractions)
{
	static const struct {
		const char *frac;
		int32_t nsec;
	} cases[] = {
		{".5", 500000000},
		{".05", 50000000},
		{".123", 123000000},
		{".000001", 1000},
		{".123456789", 123456789},
		{".000000001", 1},
		{".1234567891", 123456789},
		{".999999999999999", 999999999},
		{".0000000009", 0},
		{".000000000", 0},
	};
	char s[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t sec;
		int32_t nsec = -1;
		snprintf(s, sizeof(s), "2006-01-02T15:04:05%sZ", cases[i].frac);
		CHECK(parse(s, &sec, &nsec));
		CHECK_INT(sec, SEC_2006);
		CHECK_INT(nsec, cases[i].nsec);
	}
}

NMD_TEST(test_core_timeutil__rfc3339_parse_bad)
{
	static const char *const bad[] = {
		"",
		"garbage",
		"2006-13-02T15:04:05Z",  /* month 13 */
		"2006-00-02T15:04:05Z",  /* month 0 */
		"2006-01-32T15:04:05Z",  /* day 32 */
		"2006-01-00T15:04:05Z",  /* day 0 */
		"2006-04-31T15:04:05Z",  /* April has 30 */
		"2023-02-29T15:04:05Z",  /* not a leap year */
		"1900-02-29T15:04:05Z",  /* century, not a leap year */
		"2006-01-02T24:00:00Z",  /* hour */
		"2006-01-02T15:60:05Z",  /* minute */
		"2006-01-02T15:04:60Z",  /* leap second: Go rejects it */
		"2006-01-02T15:04:05",   /* no zone */
		"2006-01-02T15:04Z",     /* no seconds */
		"2006-01-02",            /* date only */
		"2006-01-02T",
		"15:04:05Z",
		"2006-1-02T15:04:05Z",   /* short month */
		"06-01-02T15:04:05Z",    /* short year */
		"+2006-01-02T15:04:05Z",
		"20060-01-02T15:04:05Z",
		"2006/01/02T15:04:05Z",
		"2006-01-02X15:04:05Z",
		"2006-01-02T15:04:05.Z",  /* dot without digits */
		"2006-01-02T15:04:05,5Z", /* comma */
		"2006-01-02T15:04:05ZZ",  /* trailing text */
		"2006-01-02T15:04:05Z ",
		"2006-01-02T15:04:05+02",
		"2006-01-02T15:04:05+0200",
		"2006-01-02T15:04:05+2:00",
		"2006-01-02T15:04:05+24:00",
		"2006-01-02T15:04:05+02:60",
		"2006-01-02T15:04:05 +02:00",
		"2006-01-02T15:04:05UTC",
		"2006-01-02T1a:04:05Z",
		" 2006-01-02T15:04:05Z",
	};
	int64_t sec = 7;
	int32_t nsec = 7;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (parse(bad[i], &sec, &nsec))
			nmd_test_fail(__FILE__, __LINE__, "accepted \"%s\"",
				      bad[i]);
	CHECK(!nmd_rfc3339_parse(NULL, 0, &sec, &nsec));
}

NMD_TEST(test_core_timeutil__rfc3339_parse_len_bounded)
{
	/* Only len bytes are read: no NUL needed, trailing bytes ignored. */
	const char *s = "2006-01-02T15:04:05Zjunk";
	char exact[20];
	int64_t sec;
	int32_t nsec;

	CHECK(nmd_rfc3339_parse(s, 20, &sec, &nsec));
	CHECK_INT(sec, SEC_2006);
	CHECK(!nmd_rfc3339_parse(s, 19, &sec, &nsec));
	CHECK(!nmd_rfc3339_parse(s, 21, &sec, &nsec));
	memcpy(exact, s, sizeof(exact));
	CHECK(nmd_rfc3339_parse(exact, sizeof(exact), &sec, &nsec));
	CHECK_INT(sec, SEC_2006);
}

NMD_TEST(test_core_timeutil__rfc3339_format)
{
	CHECK_STR(fmt(0, 0), "1970-01-01T00:00:00Z");
	CHECK_STR(fmt(GO_ZERO, 0), "0001-01-01T00:00:00Z");
	CHECK_STR(fmt(SEC_2006, 0), "2006-01-02T15:04:05Z");
	CHECK_STR(fmt(SEC_2006, 500000000), "2006-01-02T15:04:05.5Z");
	CHECK_STR(fmt(SEC_2006, 120000000), "2006-01-02T15:04:05.12Z");
	CHECK_STR(fmt(SEC_2006, 123456789), "2006-01-02T15:04:05.123456789Z");
	CHECK_STR(fmt(SEC_2006, 1000), "2006-01-02T15:04:05.000001Z");
	CHECK_STR(fmt(SEC_2006, 1), "2006-01-02T15:04:05.000000001Z");
	CHECK_STR(fmt(-1, 0), "1969-12-31T23:59:59Z");
	CHECK_STR(fmt(-1, 999999999), "1969-12-31T23:59:59.999999999Z");
	CHECK_STR(fmt(INT64_C(253402300799), 999999999),
		  "9999-12-31T23:59:59.999999999Z");
	CHECK_STR(fmt(INT64_C(253402300800), 0), "10000-01-01T00:00:00Z");
	CHECK_STR(fmt(GO_ZERO - 1, 0), "0000-12-31T23:59:59Z");
	CHECK_STR(fmt(GO_ZERO - 367 * 86400, 0), "-0001-12-31T00:00:00Z");
	CHECK_STR(fmt(SEC_2024 + 86400 * 59, 0), "2024-02-29T00:00:00Z");
	/* Extremes stay within the documented 40 bytes. */
	fmt(INT64_MAX, 999999999);
	fmt(INT64_MIN, 0);
}

NMD_TEST(test_core_timeutil__rfc3339_format_truncates)
{
	char buf[8];

	CHECK_INT(nmd_rfc3339_format(SEC_2006, 5, buf, sizeof(buf)), 30);
	CHECK_STR(buf, "2006-01");
	CHECK_INT(nmd_rfc3339_format(0, 0, NULL, 0), 20);
}

NMD_TEST(test_core_timeutil__rfc3339_round_trip)
{
	static const int64_t secs[] = {
		0, 1, -1, SEC_2006, SEC_2024, GO_ZERO, INT64_C(253402300799),
		INT64_C(951782400) /* 2000-02-29 */, INT64_C(-2208988800),
	};
	static const int32_t nsecs[] = {0, 1, 10, 999999999, 500000000,
					123456000};

	for (size_t i = 0; i < sizeof(secs) / sizeof(secs[0]); i++)
		for (size_t j = 0; j < sizeof(nsecs) / sizeof(nsecs[0]); j++) {
			int64_t sec;
			int32_t nsec;
			const char *s = fmt(secs[i], nsecs[j]);
			CHECK(parse(s, &sec, &nsec));
			CHECK_INT(sec, secs[i]);
			CHECK_INT(nsec, nsecs[j]);
		}
}

/* ------------------------------------------------------------------ */
/* Durations                                                           */

#define NS INT64_C(1)
#define US (1000 * NS)
#define MS (1000 * US)
#define S (1000 * MS)
#define M (60 * S)
#define H (60 * M)

NMD_TEST(test_core_timeutil__duration_format_go)
{
	/* Go's durationTests, plus the examples Nomad users meet. */
	static const struct {
		const char *text;
		int64_t ns;
	} cases[] = {
		{"0s", 0},
		{"1ns", 1 * NS},
		{"1.1µs", 1100 * NS},
		{"2.2ms", 2200 * US},
		{"3.3s", 3300 * MS},
		{"4m5s", 4 * M + 5 * S},
		{"4m5.001s", 4 * M + 5001 * MS},
		{"5h6m7.001s", 5 * H + 6 * M + 7001 * MS},
		{"8m0.000000001s", 8 * M + 1 * NS},
		{"2562047h47m16.854775807s", INT64_MAX},
		{"-2562047h47m16.854775808s", INT64_MIN},
		{"1m30s", 90 * S},
		{"1.5s", 1500 * MS},
		{"1µs", 1 * US},
		{"1h0m0s", 1 * H},
		{"100ms", 100 * MS},
		{"-1h30m0s", -(H + 30 * M)},
		{"999ns", 999 * NS},
		{"999.999µs", 999999 * NS},
		{"999.999999ms", 999999999 * NS},
		{"1s", 1 * S},
		{"-1ns", -1},
		{"-1.5ms", -1500 * US},
		{"24h0m0s", 24 * H},
		{"59.999999999s", M - 1},
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = nmd_duration_format(cases[i].ns, buf, sizeof(buf));
		CHECK_STR(buf, cases[i].text);
		CHECK_INT(n, strlen(cases[i].text));
	}
	/* The longest output fits in 32 bytes with its NUL. */
	CHECK(nmd_duration_format(INT64_MIN, NULL, 0) < 32);
}

NMD_TEST(test_core_timeutil__duration_format_truncates)
{
	char buf[4];

	CHECK_INT(nmd_duration_format(H, buf, sizeof(buf)), 6);
	CHECK_STR(buf, "1h0");
}

static bool dparse(const char *s, int64_t *ns)
{
	return nmd_duration_parse(s, strlen(s), ns);
}

NMD_TEST(test_core_timeutil__duration_parse_go)
{
	/* Go's parseDurationTests. */
	static const struct {
		const char *text;
		int64_t ns;
	} cases[] = {
		{"0", 0},
		{"5s", 5 * S},
		{"30s", 30 * S},
		{"1478s", 1478 * S},
		{"-5s", -5 * S},
		{"+5s", 5 * S},
		{"-0", 0},
		{"+0", 0},
		{"5.0s", 5 * S},
		{"5.6s", 5 * S + 600 * MS},
		{"5.s", 5 * S},
		{".5s", 500 * MS},
		{"1.0s", 1 * S},
		{"1.00s", 1 * S},
		{"1.004s", 1 * S + 4 * MS},
		{"1.0040s", 1 * S + 4 * MS},
		{"100.00100s", 100 * S + 1 * MS},
		{"10ns", 10 * NS},
		{"11us", 11 * US},
		{"12µs", 12 * US},        /* U+00B5 */
		{"12\xce\xbcs", 12 * US}, /* U+03BC */
		{"13ms", 13 * MS},
		{"14s", 14 * S},
		{"15m", 15 * M},
		{"16h", 16 * H},
		{"3h30m", 3 * H + 30 * M},
		{"10.5s4m", 4 * M + 10 * S + 500 * MS},
		{"-2m3.4s", -(2 * M + 3 * S + 400 * MS)},
		{"1h2m3s4ms5us6ns",
		 1 * H + 2 * M + 3 * S + 4 * MS + 5 * US + 6 * NS},
		{"39h9m14.425s", 39 * H + 9 * M + 14 * S + 425 * MS},
		{"52763797000ns", 52763797000 * NS},
		{"0.3333333333333333333h", 20 * M},
		{"9007199254740993ns", (INT64_C(1) << 53) + 1},
		{"9223372036854775807ns", INT64_MAX},
		{"9223372036854775.807us", INT64_MAX},
		{"9223372036s854ms775us807ns", INT64_MAX},
		{"-9223372036854775808ns", INT64_MIN},
		{"-9223372036854775.808us", INT64_MIN},
		{"-9223372036s854ms775us808ns", INT64_MIN},
		{"-2562047h47m16.854775808s", INT64_MIN},
		{"0.100000000000000000000h", 6 * M},
		{"0.830103483285477580700h", 49 * M + 48 * S + 372539827 * NS},
		/* The examples in the brief. */
		{"90s", 90 * S},
		{"1500ms", 1500 * MS},
		{"1us", 1 * US},
		{"-1.5h", INT64_C(-5400000000000)},
		{"2h45m", 2 * H + 45 * M},
		{"300ms", 300 * MS},
		{"0s", 0},
		{"0h0m0s", 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int64_t ns = 12345;
		if (!dparse(cases[i].text, &ns))
			nmd_test_fail(__FILE__, __LINE__, "rejected \"%s\"",
				      cases[i].text);
		if (ns != cases[i].ns)
			nmd_test_fail(__FILE__, __LINE__,
				      "\"%s\": %" PRId64 " != %" PRId64,
				      cases[i].text, ns, cases[i].ns);
	}
}

NMD_TEST(test_core_timeutil__duration_parse_bad)
{
	/* Go's invalid and overflow cases, and a few more. */
	static const char *const bad[] = {
		"", "3", "-", "s", ".", "-.", ".s", "+.s", "1d", "\x85\x85",
		"\xff" "ff", "hello \xff" "ff world", "\xef\xbf\xbd",
		"\xef\xbf\xbd hello \xef\xbf\xbd world",
		"9223372036854775810ns", "9223372036854775808ns",
		"-9223372036854775809ns", "9223372036854776us", "3000000h",
		"9223372036854775.808us", "9223372036854ms775us808ns",
		"1", "00", "-1", "1h 30m", " 1h", "1h ", "1S", "1H", "1sec",
		"1.2.3s", "--1s", "+-1s", "1e3s", "1hm", "0x10s",
		"99999999999999999999999ns",
	};
	int64_t ns = 7;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (dparse(bad[i], &ns))
			nmd_test_fail(__FILE__, __LINE__, "accepted \"%s\"",
				      bad[i]);
	CHECK_INT(ns, 7);
	CHECK(!nmd_duration_parse(NULL, 0, &ns));
}

NMD_TEST(test_core_timeutil__duration_parse_len_bounded)
{
	int64_t ns;

	CHECK(nmd_duration_parse("10sjunk", 3, &ns));
	CHECK_INT(ns, 10 * S);
	CHECK(nmd_duration_parse("01", 1, &ns));
	CHECK_INT(ns, 0);
	CHECK(!nmd_duration_parse("5s", 1, &ns));
}

NMD_TEST(test_core_timeutil__duration_round_trip)
{
	static const int64_t values[] = {
		0, 1, -1, 999, 1000, 1500, 999999, 1000000, 123456789,
		S, S + 1, 90 * S, H, 25 * H + 1, INT64_MAX, INT64_MIN,
		INT64_MIN + 1, -H - 1,
	};
	char buf[32];

	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
		int64_t ns;
		nmd_duration_format(values[i], buf, sizeof(buf));
		CHECK(dparse(buf, &ns));
		CHECK_INT(ns, values[i]);
	}
}
