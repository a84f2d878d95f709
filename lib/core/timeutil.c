/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Time text as Go writes and reads it: RFC 3339 timestamps (time.RFC3339Nano)
 * and duration strings (time.ParseDuration, Duration.String). Nomad's API
 * and job files carry both, so the results must match Go's byte for byte,
 * including Go's overflow rules; the duration code follows Go's
 * src/time/format.go and time.go step by step for that reason.
 *
 * Calendar arithmetic is Howard Hinnant's days_from_civil/civil_from_days
 * (proleptic Gregorian, exact for every int64 day count used here), so no
 * time zone database, locale or libc time function is involved.
 */
#include <string.h>

#include "core/core_int.h"
#include "core/timeutil.h"

#define NS_PER_SEC INT64_C(1000000000)
#define SEC_PER_DAY INT64_C(86400)

/* ------------------------------------------------------------------ */
/* Calendar                                                            */

int64_t nmd_days_from_civil(int64_t year, unsigned int month, unsigned int day)
{
	int64_t y = year - (month <= 2);
	int64_t era = (y >= 0 ? y : y - 399) / 400;
	uint64_t yoe = (uint64_t)(y - era * 400);             /* [0, 399] */
	uint64_t mp = month > 2 ? month - 3 : month + 9;      /* [0, 11] */
	uint64_t doy = (153 * mp + 2) / 5 + day - 1;          /* [0, 365] */
	uint64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy; /* [0, 146096] */

	return era * 146097 + (int64_t)doe - 719468;
}

void nmd_civil_from_days(int64_t days, int64_t *year, unsigned int *month,
			 unsigned int *day)
{
	int64_t z = days + 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	uint64_t doe = (uint64_t)(z - era * 146097); /* [0, 146096] */
	uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100); /* [0, 365] */
	uint64_t mp = (5 * doy + 2) / 153;                      /* [0, 11] */
	unsigned int m = (unsigned int)(mp < 10 ? mp + 3 : mp - 9);

	*day = (unsigned int)(doy - (153 * mp + 2) / 5 + 1);
	*month = m;
	*year = (int64_t)yoe + era * 400 + (m <= 2);
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static unsigned int days_in_month(int64_t y, unsigned int m)
{
	static const unsigned char dim[12] = {31, 28, 31, 30, 31, 30,
					      31, 31, 30, 31, 30, 31};
	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* ------------------------------------------------------------------ */
/* RFC 3339                                                            */

/* Write v with at least `width` digits; returns the count written. */
static size_t put_digits(char *out, uint64_t v, unsigned int width)
{
	char tmp[20];
	size_t n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v || n < width);
	for (size_t i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	return n;
}

size_t nmd_time_format_utc(int64_t sec, int64_t nsec, unsigned int digits,
			   bool trim, char *out)
{
	int64_t days = sec / SEC_PER_DAY, sod = sec % SEC_PER_DAY, year;
	unsigned int month, day;
	uint64_t frac;
	size_t n = 0;

	/* Fold nsec into seconds-of-day first so nothing can overflow. */
	sod += nsec / NS_PER_SEC;
	nsec %= NS_PER_SEC;
	if (nsec < 0) {
		nsec += NS_PER_SEC;
		sod--;
	}
	while (sod < 0) {
		sod += SEC_PER_DAY;
		days--;
	}
	while (sod >= SEC_PER_DAY) {
		sod -= SEC_PER_DAY;
		days++;
	}
	nmd_civil_from_days(days, &year, &month, &day);

	/* Go writes negative years as '-' and four digits at least. */
	if (year < 0)
		out[n++] = '-';
	n += put_digits(out + n, year < 0 ? (uint64_t)0 - (uint64_t)year
					  : (uint64_t)year, 4);
	out[n++] = '-';
	n += put_digits(out + n, month, 2);
	out[n++] = '-';
	n += put_digits(out + n, day, 2);
	out[n++] = 'T';
	n += put_digits(out + n, (uint64_t)(sod / 3600), 2);
	out[n++] = ':';
	n += put_digits(out + n, (uint64_t)(sod / 60 % 60), 2);
	out[n++] = ':';
	n += put_digits(out + n, (uint64_t)(sod % 60), 2);

	if (digits > 9)
		digits = 9;
	frac = (uint64_t)nsec;
	for (unsigned int i = digits; i < 9; i++)
		frac /= 10;
	if (trim)
		while (digits > 0 && frac % 10 == 0) {
			frac /= 10;
			digits--;
		}
	if (digits > 0) {
		out[n++] = '.';
		n += put_digits(out + n, frac, digits);
	}
	out[n++] = 'Z';
	out[n] = '\0';
	return n;
}

size_t nmd_rfc3339_format(int64_t sec, int32_t nsec, char *buf, size_t cap)
{
	char tmp[NMD_TIME_TEXT_MAX + 1];
	size_t n = nmd_time_format_utc(sec, nsec, 9, true, tmp);

	if (cap > 0) {
		size_t c = n < cap ? n : cap - 1;
		memcpy(buf, tmp, c);
		buf[c] = '\0';
	}
	return n;
}

/* A cursor over the text being parsed; every read is bounds-checked. */
struct scan {
	const char *s;
	size_t len, pos;
};

static bool num(struct scan *sc, unsigned int width, unsigned int *out)
{
	unsigned int v = 0;

	if (sc->len - sc->pos < width)
		return false;
	for (unsigned int i = 0; i < width; i++) {
		char c = sc->s[sc->pos + i];
		if (c < '0' || c > '9')
			return false;
		v = v * 10 + (unsigned int)(c - '0');
	}
	sc->pos += width;
	*out = v;
	return true;
}

static bool lit(struct scan *sc, const char *alts)
{
	if (sc->pos >= sc->len || !strchr(alts, sc->s[sc->pos]) ||
	    sc->s[sc->pos] == '\0')
		return false;
	sc->pos++;
	return true;
}

/* ".123" after the seconds: 1 or more digits, beyond 9 dropped. */
static bool fraction(struct scan *sc, int32_t *nsec)
{
	int32_t v = 0;
	unsigned int n = 0;

	*nsec = 0;
	if (sc->pos >= sc->len || sc->s[sc->pos] != '.')
		return true;
	sc->pos++;
	while (sc->pos < sc->len && sc->s[sc->pos] >= '0' &&
	       sc->s[sc->pos] <= '9') {
		if (n < 9)
			v = v * 10 + (sc->s[sc->pos] - '0');
		n++;
		sc->pos++;
	}
	if (n == 0)
		return false;
	for (unsigned int i = n; i < 9; i++)
		v *= 10;
	*nsec = v;
	return true;
}

/* "Z", "z" or "+hh:mm" / "-hh:mm", as seconds east of UTC. */
static bool zone(struct scan *sc, int64_t *off)
{
	unsigned int hh, mm;
	char sign;

	*off = 0;
	if (lit(sc, "Zz"))
		return true;
	if (sc->pos >= sc->len)
		return false;
	sign = sc->s[sc->pos];
	if (!lit(sc, "+-") || !num(sc, 2, &hh) || !lit(sc, ":") ||
	    !num(sc, 2, &mm) || hh > 23 || mm > 59)
		return false;
	*off = (int64_t)hh * 3600 + mm * 60;
	if (sign == '-')
		*off = -*off;
	return true;
}

bool nmd_rfc3339_parse(const char *s, size_t len, int64_t *sec, int32_t *nsec)
{
	struct scan sc = {s, len, 0};
	unsigned int y, mo, d, h, mi, se;
	int32_t ns;
	int64_t off, days;

	if (!s)
		return false;
	if (!num(&sc, 4, &y) || !lit(&sc, "-") || !num(&sc, 2, &mo) ||
	    !lit(&sc, "-") || !num(&sc, 2, &d) || !lit(&sc, "Tt ") ||
	    !num(&sc, 2, &h) || !lit(&sc, ":") || !num(&sc, 2, &mi) ||
	    !lit(&sc, ":") || !num(&sc, 2, &se) || !fraction(&sc, &ns) ||
	    !zone(&sc, &off) || sc.pos != sc.len)
		return false;
	/* Go rejects a leap second (60) as out of range too. */
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
	    h > 23 || mi > 59 || se > 59)
		return false;
	days = nmd_days_from_civil(y, mo, d);
	*sec = days * SEC_PER_DAY + h * 3600 + mi * 60 + se - off;
	*nsec = ns;
	return true;
}

/* ------------------------------------------------------------------ */
/* Go durations                                                        */

#define NS_US UINT64_C(1000)
#define NS_MS UINT64_C(1000000)
#define NS_S UINT64_C(1000000000)
#define NS_MIN (60 * NS_S)
#define NS_H (60 * NS_MIN)
#define U63 (UINT64_C(1) << 63)

static const struct {
	const char *name;
	uint64_t ns;
} units[] = {
	{"ns", 1},
	{"us", NS_US},
	{"\xc2\xb5s", NS_US}, /* U+00B5 micro sign */
	{"\xce\xbcs", NS_US}, /* U+03BC Greek small letter mu */
	{"ms", NS_MS},
	{"s", NS_S},
	{"m", NS_MIN},
	{"h", NS_H},
};

static bool isdig(char c)
{
	return c >= '0' && c <= '9';
}

/* Go's leadingInt: [0-9]*, false on overflow past 1<<63. */
static bool leading_int(struct scan *sc, uint64_t *out)
{
	uint64_t x = 0;

	for (; sc->pos < sc->len && isdig(sc->s[sc->pos]); sc->pos++) {
		if (x > U63 / 10)
			return false;
		x = x * 10 + (uint64_t)(sc->s[sc->pos] - '0');
		if (x > U63)
			return false;
	}
	*out = x;
	return true;
}

/* Go's leadingFraction: [0-9]*, keeping what precision fits. */
static void leading_fraction(struct scan *sc, uint64_t *out, double *scale)
{
	uint64_t x = 0;
	bool overflow = false;

	*scale = 1;
	for (; sc->pos < sc->len && isdig(sc->s[sc->pos]); sc->pos++) {
		uint64_t y;
		if (overflow)
			continue;
		if (x > (U63 - 1) / 10) {
			overflow = true;
			continue;
		}
		y = x * 10 + (uint64_t)(sc->s[sc->pos] - '0');
		if (y > U63) {
			overflow = true;
			continue;
		}
		x = y;
		*scale *= 10;
	}
	*out = x;
}

static bool unit_of(const char *u, size_t n, uint64_t *ns)
{
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strlen(units[i].name) == n &&
		    memcmp(units[i].name, u, n) == 0) {
			*ns = units[i].ns;
			return true;
		}
	return false;
}

/* One "<number><unit>" element of a duration, in nanoseconds. */
static bool duration_elem(struct scan *sc, uint64_t *out)
{
	uint64_t v, f = 0, unit;
	double scale = 1;
	size_t start = sc->pos, ustart;
	bool pre, post = false;

	if (!(sc->s[sc->pos] == '.' || isdig(sc->s[sc->pos])))
		return false;
	if (!leading_int(sc, &v))
		return false;
	pre = sc->pos != start;
	if (sc->pos < sc->len && sc->s[sc->pos] == '.') {
		size_t fstart = ++sc->pos;
		leading_fraction(sc, &f, &scale);
		post = sc->pos != fstart;
	}
	if (!pre && !post)
		return false;
	/* The unit is everything up to the next digit or dot. */
	ustart = sc->pos;
	while (sc->pos < sc->len && sc->s[sc->pos] != '.' &&
	       !isdig(sc->s[sc->pos]))
		sc->pos++;
	if (!unit_of(sc->s + ustart, sc->pos - ustart, &unit))
		return false;
	if (v > U63 / unit)
		return false;
	v *= unit;
	if (f > 0) {
		/* Go uses float64 here: nanosecond-exact for hours. */
		v += (uint64_t)((double)f * ((double)unit / scale));
		if (v > U63)
			return false;
	}
	*out = v;
	return true;
}

bool nmd_duration_parse(const char *s, size_t len, int64_t *ns)
{
	struct scan sc = {s, len, 0};
	uint64_t d = 0, v;
	bool neg = false;

	if (!s || len == 0)
		return false;
	if (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-';
		sc.pos++;
	}
	if (sc.len - sc.pos == 1 && s[sc.pos] == '0') {
		*ns = 0;
		return true;
	}
	if (sc.pos == sc.len)
		return false;
	while (sc.pos < sc.len) {
		if (!duration_elem(&sc, &v))
			return false;
		d += v;
		if (d > U63)
			return false;
	}
	if (neg)
		*ns = d == U63 ? INT64_MIN : -(int64_t)d;
	else if (d > U63 - 1)
		return false;
	else
		*ns = (int64_t)d;
	return true;
}

/* Go's fmtFrac: v / 10^prec's fraction, trailing zeros and dot omitted,
 * written backwards ending at buf[w]. */
static size_t fmt_frac(char *buf, size_t w, uint64_t *v, int prec)
{
	bool print = false;

	for (int i = 0; i < prec; i++) {
		unsigned int digit = (unsigned int)(*v % 10);
		print = print || digit != 0;
		if (print)
			buf[--w] = (char)('0' + digit);
		*v /= 10;
	}
	if (print)
		buf[--w] = '.';
	return w;
}

/* Go's fmtInt, written backwards ending at buf[w]. */
static size_t fmt_int(char *buf, size_t w, uint64_t v)
{
	do {
		buf[--w] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	return w;
}

/* Go's Duration.format: fills tmp from the end, returns the start. */
static size_t duration_text(int64_t d, char tmp[32])
{
	size_t w = 32;
	uint64_t u = (uint64_t)d;
	bool neg = d < 0;

	if (neg)
		u = (uint64_t)0 - u;
	if (u < NS_S) {
		/* Under a second: smaller units, as in "1.2ms". */
		int prec = 0;
		tmp[--w] = 's';
		if (u == 0) {
			tmp[--w] = '0';
			return w;
		} else if (u < NS_US) {
			tmp[--w] = 'n';
		} else if (u < NS_MS) {
			prec = 3;
			w -= 2;
			memcpy(tmp + w, "\xc2\xb5", 2); /* U+00B5 'µ' */
		} else {
			prec = 6;
			tmp[--w] = 'm';
		}
		w = fmt_frac(tmp, w, &u, prec);
		w = fmt_int(tmp, w, u);
	} else {
		tmp[--w] = 's';
		w = fmt_frac(tmp, w, &u, 9);
		/* u is now whole seconds. */
		w = fmt_int(tmp, w, u % 60);
		u /= 60;
		if (u > 0) {
			tmp[--w] = 'm';
			w = fmt_int(tmp, w, u % 60);
			u /= 60;
			/* Stop at hours: days have different lengths. */
			if (u > 0) {
				tmp[--w] = 'h';
				w = fmt_int(tmp, w, u);
			}
		}
	}
	if (neg)
		tmp[--w] = '-';
	return w;
}

size_t nmd_duration_format(int64_t ns, char *buf, size_t cap)
{
	char tmp[32];
	size_t w = duration_text(ns, tmp), n = sizeof(tmp) - w;

	if (cap > 0) {
		size_t c = n < cap ? n : cap - 1;
		memcpy(buf, tmp + w, c);
		buf[c] = '\0';
	}
	return n;
}
