/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Constraints against one node, as Nomad's resolveTarget and
 * checkConstraint (scheduler/feasible/feasible.go) have them.
 *
 * Ordering operands compare as Go's strconv would read the values:
 * int64 when both parse as ParseInt(s, 10, 64), else float64 when both
 * parse as ParseFloat(s, 64) (decimal and hex forms, digit-separating
 * underscores, inf/infinity/nan; overflow fails), else bytewise.
 *
 * Regexps: Nomad compiles RE2 (Go's regexp). We translate RE2 into POSIX
 * ERE and use the C library's regcomp(REG_EXTENDED | REG_NOSUB), which
 * answers "is there a match anywhere", as MatchString does. Handled:
 *
 *   - literals, `.` (not matching \n unless the pattern starts with
 *     (?s)), `^` `$` (start and end of text), `|`, groups `(...)`,
 *     `(?:...)`, `(?P<name>...)`, `(?<name>...)`;
 *   - `*` `+` `?` `{n}` `{n,}` `{n,m}` (at most 1000, nested repeats
 *     multiplying to at most 1000, as RE2 checks) and their lazy forms
 *     (laziness never changes whether there is a match); a `{` that is
 *     not a repeat is a literal, as in RE2;
 *   - escapes: \d \D \w \W \s \S (ASCII, as RE2's), any escaped ASCII
 *     punctuation or space (\. \- \/ \\ ...), \a \f \n \r \t \v, octal
 *     \012 \123, hex \x41 \x{263a}, \A and \z, \Q...\E, and \b \B
 *     where the C library is glibc; an assertion may be repeated, as RE2
 *     allows, by grouping it;
 *   - bracket expressions with ranges, negation, escapes as above,
 *     \d \w \s and [:alpha:]-style classes (ASCII members only);
 *   - a leading flag group of i, s and U: (?i) compiles with REG_ICASE,
 *     (?s) lets `.` match \n, U changes nothing a match/no-match needs.
 *
 * Not handled, so the constraint fails as a pattern that does not
 * compile would: \p{...} classes, \D \W \S [:^alpha:] inside brackets,
 * non-ASCII characters inside brackets, flags anywhere but the start or
 * scoped flags (?i:...), (?m), groups nested deeper than 256, more than
 * 32 assertions (^ $ \A \z \b \B, counting repeats: "(^a){33}"), and
 * NUL.
 * Patterns RE2 rejects are rejected here too.
 *
 * Matching is the C library's. In the C locale `.` and negated classes
 * match one byte rather than one UTF-8 character, so non-ASCII subjects
 * can differ from Go; and glibc lets `^` or `$` in the middle of a
 * pattern match next to a newline the pattern itself matched ("a\n^b").
 * Node attributes are nearly always ASCII single lines, where neither
 * arises.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "sched/constraint.h"
#include "sched/version.h"

/* ---- targets ---- */

/* The value of `key` (klen bytes) in a string map; the entries are
 * normally sorted, but nothing here relies on it. */
static const char *map_get(Nomad__StringEntry *const *entries, size_t n,
			   const char *key, size_t klen)
{
	for (size_t i = 0; i < n; i++) {
		const char *k = entries[i] ? entries[i]->key : NULL;
		if (k && strncmp(k, key, klen) == 0 && k[klen] == '\0')
			return entries[i]->value ? entries[i]->value : "";
	}
	return NULL;
}

static const char *or_empty(const char *s)
{
	return s ? s : "";
}

bool nmd_sched_resolve(const nomad_node *node, const char *target,
		       const char **value)
{
	const char *v = NULL;
	const char *key;
	size_t klen;

	if (!target || !*target)
		goto done;
	if (strncmp(target, "${", 2) != 0) {
		v = target;
		goto done;
	}
	if (!node)
		goto done;
	if (strcmp(target, "${node.unique.id}") == 0)
		v = or_empty(node->id);
	else if (strcmp(target, "${node.datacenter}") == 0)
		v = or_empty(node->datacenter);
	else if (strcmp(target, "${node.unique.name}") == 0)
		v = or_empty(node->name);
	else if (strcmp(target, "${node.class}") == 0)
		v = or_empty(node->nodeclass);
	else if (strcmp(target, "${node.pool}") == 0)
		v = node->nodepool && *node->nodepool ? node->nodepool
						       : "default";
	else if (strncmp(target, "${attr.", 7) == 0 ||
		 strncmp(target, "${meta.", 7) == 0) {
		/* Go trims one "}" if there is one: "${attr.a" reads "a". */
		key = target + 7;
		klen = strlen(key);
		if (klen && key[klen - 1] == '}')
			klen--;
		if (target[2] == 'a')
			v = map_get(node->attributes, node->n_attributes, key,
				    klen);
		else
			v = map_get(node->meta, node->n_meta, key, klen);
	}
done:
	if (value)
		*value = v;
	return v != NULL;
}

/* ---- ordering ---- */

/* strconv.ParseInt(s, 10, 64): a sign, then decimal digits only. */
static bool go_parse_int(const char *s, long long *out)
{
	const char *p = s + (*s == '+' || *s == '-');
	char *end;

	if (!*p)
		return false;
	for (; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno != ERANGE && *end == '\0';
}

/* ASCII lower case, whatever the locale. */
static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

/* `a` equals the lower-case `b`, ignoring ASCII case. */
static bool ieq(const char *a, const char *b)
{
	for (; *a && *b; a++, b++)
		if (lower((unsigned char)*a) != *b)
			return false;
	return *a == *b;
}

/* Go's underscoreOK: underscores only between digits (a base prefix
 * counting as one). `s` has no sign. */
static bool underscores_ok(const char *s)
{
	char saw = '^';
	bool hex = false;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		hex = true;
		saw = '0';
		s += 2;
	}
	for (; *s; s++) {
		if (isdigit((unsigned char)*s) ||
		    (hex && isxdigit((unsigned char)*s))) {
			saw = '0';
		} else if (*s == '_') {
			if (saw != '0')
				return false;
			saw = '_';
		} else {
			if (saw == '_')
				return false;
			saw = '!';
		}
	}
	return saw != '_';
}

/* The shape ParseFloat accepts, after the sign: a decimal or hex mantissa
 * with at least one digit and at most one '.', then an exponent (e for
 * decimal, optional; p for hex, required) with at least one digit. */
static bool go_float_shape(const char *p)
{
	bool hex = p[0] == '0' && (p[1] == 'x' || p[1] == 'X');
	bool digits = false, dot = false;

	if (hex)
		p += 2;
	for (;; p++) {
		if (hex ? isxdigit((unsigned char)*p)
			: isdigit((unsigned char)*p))
			digits = true;
		else if (*p == '.' && !dot)
			dot = true;
		else if (*p != '_')
			break;
	}
	if (!digits)
		return false;
	if (*p == (hex ? 'p' : 'e') || *p == (hex ? 'P' : 'E')) {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p) || *p == '_')
			p++;
	} else if (hex) {
		return false;
	}
	return *p == '\0';
}

/* strconv.ParseFloat(s, 64). */
static bool go_parse_float(const char *s, double *out)
{
	const char *p = s + (*s == '+' || *s == '-');
	char copy[128], *end;
	size_t j = 0;

	if (ieq(p, "inf") || ieq(p, "infinity")) {
		*out = *s == '-' ? -INFINITY : INFINITY;
		return true;
	}
	if (p == s && ieq(s, "nan")) { /* Go takes no sign on NaN */
		*out = NAN;
		return true;
	}
	if (!go_float_shape(p) || !underscores_ok(p))
		return false;
	if (strchr(s, '_')) {
		/* strtod knows no separators; numbers this long with them
		 * are left to compare as text */
		if (strlen(s) >= sizeof(copy))
			return false;
		for (; *s; s++)
			if (*s != '_')
				copy[j++] = *s;
		copy[j] = '\0';
		s = copy;
	}
	errno = 0;
	*out = strtod(s, &end);
	/* Overflow fails (ErrRange); underflow rounds quietly, as in Go. */
	return *end == '\0' &&
	       !(errno == ERANGE && (*out == HUGE_VAL || *out == -HUGE_VAL));
}

bool nmd_sched_parse_int(const char *s, long long *out)
{
	return s && go_parse_int(s, out);
}

bool nmd_sched_parse_float(const char *s, double *out)
{
	return s && go_parse_float(s, out);
}

/* -1, 0, 1 as l orders before, with or after r; 2 when unordered (NaN). */
static int order(const char *l, const char *r)
{
	long long li, ri;
	double lf, rf;
	int c;

	if (go_parse_int(l, &li) && go_parse_int(r, &ri))
		return (li > ri) - (li < ri);
	if (go_parse_float(l, &lf) && go_parse_float(r, &rf)) {
		if (isnan(lf) || isnan(rf))
			return 2;
		return (lf > rf) - (lf < rf);
	}
	c = strcmp(l, r);
	return (c > 0) - (c < 0);
}

static bool check_order(const char *op, const char *l, const char *r)
{
	int c = order(l, r);

	if (c == 2)
		return false;
	if (op[1] == '=')
		return op[0] == '<' ? c <= 0 : c >= 0;
	return op[0] == '<' ? c < 0 : c > 0;
}

/* ---- sets ---- */

/* The length of a white-space character (Go's unicode.IsSpace) at p,
 * of n bytes, or 0. */
static size_t space_at(const unsigned char *p, size_t n)
{
	if (n >= 1 && (*p == ' ' || (*p >= '\t' && *p <= '\r')))
		return 1;
	if (n >= 2 && p[0] == 0xc2 && (p[1] == 0x85 || p[1] == 0xa0))
		return 2;
	if (n < 3)
		return 0;
	if (p[0] == 0xe1 && p[1] == 0x9a && p[2] == 0x80) /* U+1680 */
		return 3;
	if (p[0] == 0xe2 && p[1] == 0x80 &&  /* U+2000-200A, 2028, 2029, 202F */
	    (p[2] <= 0x8a || p[2] == 0xa8 || p[2] == 0xa9 || p[2] == 0xaf))
		return 3;
	if (p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0x9f) /* U+205F */
		return 3;
	if (p[0] == 0xe3 && p[1] == 0x80 && p[2] == 0x80) /* U+3000 */
		return 3;
	return 0;
}

struct item {
	const char *s;
	size_t len;
};

/* The next comma-separated item of *p, trimmed as strings.TrimSpace;
 * false after the last. */
static bool next_item(const char **p, struct item *it)
{
	const unsigned char *s, *e;
	size_t k;

	if (!*p)
		return false;
	s = (const unsigned char *)*p;
	e = (const unsigned char *)strchr(*p, ',');
	*p = e ? (const char *)e + 1 : NULL;
	if (!e)
		e = s + strlen((const char *)s);
	while (s < e && (k = space_at(s, (size_t)(e - s))) > 0)
		s += k;
	for (bool more = true; more && s < e;) {
		more = false;
		for (k = 1; k <= 3 && k <= (size_t)(e - s); k++)
			if (space_at(e - k, k) == k) {
				e -= k;
				more = true;
				break;
			}
	}
	it->s = (const char *)s;
	it->len = (size_t)(e - s);
	return true;
}

static bool set_has(const char *set, const struct item *want)
{
	struct item it;

	while (next_item(&set, &it))
		if (it.len == want->len && memcmp(it.s, want->s, it.len) == 0)
			return true;
	return false;
}

/* set_contains(_all) when `all`, set_contains_any otherwise. */
static bool check_set(const char *l, const char *r, bool all)
{
	struct item it;

	while (next_item(&r, &it))
		if (set_has(l, &it) != all)
			return !all;
	return all;
}

/* ---- RE2 to POSIX ERE ---- */

#define RX_MAX_DEPTH 256
#define RX_MAX_REPEAT 1000
/* glibc compiles assertions, word boundaries most of all, in time that
 * grows with the cube of how many the repeats make ("^\\B{80}" takes a
 * second, "$" a thousand times a third): cap the count, repeats
 * expanded. Real patterns have a few. */
#define RX_MAX_ASSERTIONS 32

/* A set of ASCII characters (NUL never a member). */
struct rx_set {
	uint64_t bits[2];
};

static void set_add(struct rx_set *s, int lo, int hi)
{
	for (int c = lo < 1 ? 1 : lo; c <= hi && c < 128; c++)
		s->bits[c >> 6] |= (uint64_t)1 << (c & 63);
}

static bool set_in(const struct rx_set *s, int c)
{
	return (s->bits[c >> 6] >> (c & 63)) & 1;
}

/* Classes as pairs of range ends. */
static const struct {
	const char *name;
	const char *ranges;
} rx_classes[] = {
	{"alnum", "09AZaz"}, {"alpha", "AZaz"}, {"ascii", "\x01\x7f"},
	{"blank", "\t\t  "}, {"cntrl", "\x01\x1f\x7f\x7f"}, {"digit", "09"},
	{"graph", "!~"}, {"lower", "az"}, {"print", " ~"},
	{"punct", "!/:@[`{~"}, {"space", "\t\r  "}, {"upper", "AZ"},
	{"word", "09AZaz__"}, {"xdigit", "09AFaf"},
};

static bool set_add_class(struct rx_set *s, const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(rx_classes) / sizeof(*rx_classes); i++) {
		const char *r = rx_classes[i].ranges;
		if (strlen(rx_classes[i].name) != len ||
		    memcmp(rx_classes[i].name, name, len) != 0)
			continue;
		for (; *r; r += 2)
			set_add(s, (unsigned char)r[0], (unsigned char)r[1]);
		return true;
	}
	return false;
}

/* RE2's \d, \s or \w (`c` lower case); its \s leaves out \v. */
static void set_add_perl(struct rx_set *s, char c)
{
	if (c == 'd') {
		set_add(s, '0', '9');
	} else if (c == 'w') {
		set_add_class(s, "word", 4);
	} else {
		set_add(s, '\t', '\n');
		set_add(s, '\f', '\r');
		set_add(s, ' ', ' ');
	}
}

/* An ASCII character as an ERE literal outside brackets. */
static void emit_literal(struct nmd_buf *b, int c)
{
	if (strchr("\\.[()*+?{|^$", c))
		nmd_buf_putc(b, '\\');
	nmd_buf_putc(b, (char)c);
}

/* A set as a bracket expression. POSIX gives ']' a meaning except first,
 * '-' except first or last, '^' first, and "[." "[=" "[:" open
 * collating elements: so ']' goes first, then the plain members, then
 * '[', '^', '-'. Backslash is an ordinary member in POSIX brackets. */
static bool emit_set(struct nmd_buf *b, const struct rx_set *s, bool neg)
{
	size_t n = 0, put = 0;
	int only = 0;

	for (int c = 1; c < 128; c++)
		if (set_in(s, c)) {
			n++;
			only = c;
		}
	if (n == 0)
		return false; /* nothing to say in POSIX */
	if (n == 1 && !neg) {
		emit_literal(b, only);
		return true;
	}
	nmd_buf_puts(b, neg ? "[^" : "[");
	if (set_in(s, ']')) {
		nmd_buf_putc(b, ']');
		put++;
	}
	for (int c = 1; c < 128; c++) {
		if (!set_in(s, c) || strchr("[]^-", c))
			continue;
		nmd_buf_putc(b, (char)c);
		put++;
	}
	if (set_in(s, '[')) {
		nmd_buf_putc(b, '[');
		put++;
	}
	if (set_in(s, '^')) {
		if (!put && !neg) { /* only '^' and '-': "[-^]" */
			nmd_buf_puts(b, "-^]");
			return true;
		}
		nmd_buf_putc(b, '^');
	}
	if (set_in(s, '-'))
		nmd_buf_putc(b, '-');
	nmd_buf_putc(b, ']');
	return true;
}

struct rx {
	const char *p;            /* the next pattern byte */
	struct nmd_buf *out;
	bool icase;               /* (?i) */
	bool dotnl;               /* (?s) */
	bool can_repeat;          /* an atom precedes */
	bool empty_branch;        /* nothing since the start, '(' or '|' */
	size_t depth;
	long long atom;           /* repeat product of the last atom */
	long long inner[RX_MAX_DEPTH + 1]; /* largest product per depth */
	long long atom_asserts;   /* assertions in the last atom */
	long long asserts[RX_MAX_DEPTH + 1]; /* assertions so far per depth */
};

static void rx_atom(struct rx *rx, long long product)
{
	rx->can_repeat = true;
	rx->empty_branch = false;
	rx->atom = product;
	rx->atom_asserts = 0;
	if (product > rx->inner[rx->depth])
		rx->inner[rx->depth] = product;
}

/* Add `n` assertions at the current depth, saturating past the cap
 * (nested X+ double each time). */
static void rx_add_asserts(struct rx *rx, long long n)
{
	long long *a = &rx->asserts[rx->depth];

	*a = *a + n > RX_MAX_ASSERTIONS ? RX_MAX_ASSERTIONS + 1 : *a + n;
}

/* The last atom is repeated to `copies` copies in all. */
static void rx_copies(struct rx *rx, long long copies)
{
	if (copies > 1)
		rx_add_asserts(rx, rx->atom_asserts * (copies - 1));
}

static int hexval(char c)
{
	if (isdigit((unsigned char)c))
		return c - '0';
	if (isxdigit((unsigned char)c))
		return lower((unsigned char)c) - 'a' + 10;
	return -1;
}

/* One character escape after a backslash (*pp just past it), as RE2's
 * parseEscape: the code point, or -1 when it is not one (or invalid). */
static long esc_char(const char **pp)
{
	const char *p = *pp;
	unsigned char c = (unsigned char)*p++;
	long v = 0;
	int h;

	if (c >= '1' && c <= '7' && (*p < '0' || *p > '7'))
		return -1; /* a back-reference: RE2 has none */
	if (c >= '0' && c <= '7') {
		v = c - '0';
		for (int i = 1; i < 3 && *p >= '0' && *p <= '7'; i++)
			v = v * 8 + (*p++ - '0');
	} else if (c == 'x' && *p == '{') {
		int nhex = 0;
		for (p++; *p != '}'; p++, nhex++)
			if ((h = hexval(*p)) < 0 || (v = v * 16 + h) > 0x10ffff)
				return -1;
		if (!nhex)
			return -1;
		p++;
	} else if (c == 'x') {
		if (hexval(p[0]) < 0 || hexval(p[1]) < 0)
			return -1;
		v = hexval(p[0]) * 16 + hexval(p[1]);
		p += 2;
	} else if (c && strchr("afnrtv", c)) {
		v = "\a\f\n\r\t\v"[strchr("afnrtv", c) - "afnrtv"];
	} else if (c && c < 0x80 && !isalnum(c)) {
		v = c; /* escaped punctuation is itself */
	} else {
		return -1;
	}
	*pp = p;
	return v;
}

/* An empty-width assertion, `skip` pattern bytes long. RE2 lets one be
 * repeated (pointlessly); POSIX only a group, so then it is grouped. */
static void rx_anchor(struct rx *rx, const char *ere, size_t skip)
{
	char next = rx->p[skip];
	bool grouped = next && strchr("*+?{", next);

	if (grouped)
		nmd_buf_putc(rx->out, '(');
	nmd_buf_puts(rx->out, ere);
	if (grouped)
		nmd_buf_putc(rx->out, ')');
	rx->p += skip;
	rx->can_repeat = grouped;
	rx->empty_branch = false;
	rx->atom = 1;
	rx->atom_asserts = 1;
	rx_add_asserts(rx, 1);
}

/* The length of the UTF-8 sequence at p, or 0 when it is not one. */
static size_t utf8_len(const unsigned char *p)
{
	size_t n = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : *p >= 0xc0 ? 2 : 0;

	if (*p >= 0xf8)
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return n;
}

/* A code point outside brackets: several bytes group into one atom. */
static bool emit_code_point(struct rx *rx, long cp)
{
	char u[4];
	size_t n;

	if (cp <= 0 || (cp >= 0xd800 && cp <= 0xdfff))
		return false;
	if (cp < 0x80) {
		emit_literal(rx->out, (int)cp);
		rx_atom(rx, 1);
		return true;
	}
	if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		n = 4;
	}
	for (size_t i = 1; i < n; i++)
		u[i] = (char)(0x80 | ((cp >> (6 * (n - 1 - i))) & 0x3f));
	nmd_buf_putc(rx->out, '(');
	nmd_buf_append(rx->out, u, n);
	nmd_buf_putc(rx->out, ')');
	rx_atom(rx, 1);
	return true;
}

/* A raw UTF-8 character of the pattern, outside brackets. */
static bool emit_utf8(struct rx *rx)
{
	size_t n = utf8_len((const unsigned char *)rx->p);

	if (!n)
		return false;
	nmd_buf_putc(rx->out, '(');
	nmd_buf_append(rx->out, rx->p, n);
	nmd_buf_putc(rx->out, ')');
	rx->p += n;
	rx_atom(rx, 1);
	return true;
}

/* One member of a bracket expression: a character or an escape. */
static long class_char(const char **pp)
{
	if (**pp == '\\') {
		(*pp)++;
		return esc_char(pp);
	}
	if ((unsigned char)**pp >= 0x80)
		return -1; /* non-ASCII members are not handled */
	return (unsigned char)*(*pp)++;
}

/* A bracket expression at rx->p, as RE2's parseClass with Perl flags:
 * ']' first is a member, '-' is a member where it cannot be a range. */
static bool rx_bracket(struct rx *rx)
{
	const char *p = rx->p + 1, *end;
	struct rx_set set = {{0, 0}};
	bool neg = false;
	long lo, hi;

	if (*p == '^') {
		neg = true;
		p++;
	}
	for (bool first = true; first || *p != ']'; first = false) {
		if (!*p)
			return false;
		if (p[0] == '[' && p[1] == ':' && (end = strstr(p + 2, ":]"))) {
			/* RE2 takes the nearest ":]", even past a ']' */
			if (!set_add_class(&set, p + 2, (size_t)(end - p - 2)))
				return false;
			p = end + 2;
			continue;
		}
		if (p[0] == '\\' && p[1] && strchr("dws", p[1])) {
			set_add_perl(&set, p[1]);
			p += 2;
			continue;
		}
		if ((lo = class_char(&p)) < 0)
			return false;
		hi = lo;
		if (p[0] == '-' && p[1] && p[1] != ']') {
			p++;
			if ((hi = class_char(&p)) < lo)
				return false;
		}
		if (lo == 0 || hi >= 0x80)
			return false;
		set_add(&set, (int)lo, (int)hi);
	}
	rx->p = p + 1;
	if (!emit_set(rx->out, &set, neg))
		return false;
	rx_atom(rx, 1);
	return true;
}

/* An escape outside brackets (rx->p at the backslash). */
static bool rx_escape(struct rx *rx)
{
	const char *p = rx->p + 1;
	struct rx_set set = {{0, 0}};
	long cp;

	switch (*p) {
	case 'd': case 'D': case 'w': case 'W': case 's': case 'S':
		set_add_perl(&set, (char)lower((unsigned char)*p));
		rx->p = p + 1;
		emit_set(rx->out, &set, isupper((unsigned char)*p));
		rx_atom(rx, 1);
		return true;
	case 'A': case 'z':
		rx_anchor(rx, *p == 'A' ? "^" : "$", 2);
		return true;
	case 'b': case 'B':
#ifdef __GLIBC__
		/* a GNU extension of regcomp, with RE2's ASCII word set */
		rx_anchor(rx, *p == 'b' ? "\\b" : "\\B", 2);
		return true;
#else
		return false;
#endif
	case 'Q':
		for (p++; *p && !(p[0] == '\\' && p[1] == 'E');) {
			rx->p = p;
			if ((unsigned char)*p >= 0x80) {
				if (!emit_utf8(rx))
					return false;
				p = rx->p;
			} else {
				emit_literal(rx->out, *p++);
				rx_atom(rx, 1);
			}
		}
		rx->p = *p ? p + 2 : p;
		return true;
	}
	if ((cp = esc_char(&p)) < 0)
		return false;
	rx->p = p;
	return emit_code_point(rx, cp);
}

/* A decimal number of a repeat, without leading zeros (RE2's
 * parseInt); -1 when there is none, 1e8 and up read as too big. */
static long repeat_int(const char **pp)
{
	const char *p = *pp;
	long v = 0;

	if (!isdigit((unsigned char)*p) ||
	    (p[0] == '0' && isdigit((unsigned char)p[1])))
		return -1;
	for (; isdigit((unsigned char)*p); p++)
		if (v < 100000000)
			v = v * 10 + (*p - '0');
	*pp = p;
	return v;
}

/* '{' at rx->p: a repeat {n}, {n,} or {n,m}, or else a literal '{'. */
static bool rx_brace(struct rx *rx)
{
	const char *p = rx->p + 1;
	long min, max;
	long long product;

	if ((min = repeat_int(&p)) < 0)
		goto literal;
	max = min;
	if (*p == ',') {
		p++;
		max = *p == '}' ? -1 : repeat_int(&p);
	}
	if (*p != '}')
		goto literal;
	if (!rx->can_repeat || min > RX_MAX_REPEAT || max > RX_MAX_REPEAT ||
	    (max >= 0 && min > max))
		return false;
	product = rx->atom * (max < 0 ? min : max);
	if (product > RX_MAX_REPEAT)
		return false;
	if (product > rx->inner[rx->depth])
		rx->inner[rx->depth] = product;
	rx_copies(rx, max < 0 ? min + 1 : max);
	nmd_buf_append(rx->out, rx->p, (size_t)(p + 1 - rx->p));
	rx->p = p + 1 + (p[1] == '?'); /* lazy: the same answer */
	rx->can_repeat = false;
	return true;
literal:
	nmd_buf_puts(rx->out, "\\{");
	rx->p++;
	rx_atom(rx, 1);
	return true;
}

/* '(' at rx->p: a group, or the leading flags. */
static bool rx_group(struct rx *rx, bool at_start)
{
	const char *p = rx->p + 1;

	if (*p == '?') {
		p++;
		if (*p == ':') {
			p++;
		} else if (*p == '<' || (*p == 'P' && p[1] == '<')) {
			p += *p == 'P' ? 2 : 1;
			const char *name = p;
			while (*p && (isdigit((unsigned char)*p) ||
				      strchr("_ABCDEFGHIJKLMNOPQRSTUVWXYZ"
					     "abcdefghijklmnopqrstuvwxyz", *p)))
				p++;
			if (p == name || *p != '>')
				return false;
			p++;
		} else if (at_start) {
			for (; *p && strchr("isU", *p); p++) {
				rx->icase |= *p == 'i';
				rx->dotnl |= *p == 's';
			}
			if (*p != ')' || p == rx->p + 2)
				return false;
			rx->p = p + 1;
			return true;
		} else {
			return false;
		}
	}
	if (rx->depth == RX_MAX_DEPTH)
		return false;
	nmd_buf_putc(rx->out, '(');
	rx->p = p;
	rx->inner[++rx->depth] = 1;
	rx->asserts[rx->depth] = 0;
	rx->can_repeat = false;
	rx->empty_branch = true;
	return true;
}

/* Close an alternative: POSIX leaves empty ones undefined. */
static void rx_end_branch(struct rx *rx)
{
	if (rx->empty_branch)
		nmd_buf_puts(rx->out, "()");
}

/* The main loop, one token at a time. */
static bool rx_translate(struct rx *rx)
{
	const char *start = rx->p;
	long long product, asserts;

	while (*rx->p) {
		char c = *rx->p;
		switch (c) {
		case '\\':
			if (!rx_escape(rx))
				return false;
			break;
		case '[':
			if (!rx_bracket(rx))
				return false;
			break;
		case '(':
			if (!rx_group(rx, rx->p == start))
				return false;
			break;
		case ')':
			if (!rx->depth)
				return false;
			rx_end_branch(rx);
			nmd_buf_putc(rx->out, ')');
			rx->p++;
			product = rx->inner[rx->depth];
			asserts = rx->asserts[rx->depth--];
			rx_atom(rx, product);
			rx->atom_asserts = asserts;
			rx_add_asserts(rx, asserts);
			break;
		case '|':
			rx_end_branch(rx);
			nmd_buf_putc(rx->out, '|');
			rx->p++;
			rx->can_repeat = false;
			rx->empty_branch = true;
			break;
		case '*': case '+': case '?':
			if (!rx->can_repeat)
				return false; /* nothing to repeat, or a** */
			nmd_buf_putc(rx->out, c);
			rx->p += 1 + (rx->p[1] == '?');
			rx->can_repeat = false;
			rx_copies(rx, c == '+' ? 2 : 1); /* glibc: X+ is XX* */
			break;
		case '{':
			if (!rx_brace(rx))
				return false;
			break;
		case '.':
			nmd_buf_puts(rx->out, rx->dotnl ? "." : "[^\n]");
			rx->p++;
			rx_atom(rx, 1);
			break;
		case '^':
			rx_anchor(rx, "^", 1);
			break;
		case '$':
			rx_anchor(rx, "$", 1);
			break;
		default:
			if ((unsigned char)c >= 0x80) {
				if (!emit_utf8(rx))
					return false;
				break;
			}
			emit_literal(rx->out, c);
			rx->p++;
			rx_atom(rx, 1);
		}
	}
	if (rx->depth || rx->asserts[0] > RX_MAX_ASSERTIONS)
		return false;
	rx_end_branch(rx);
	return true;
}

/* Compile RE2 `pattern` into `re`; false when it is outside the subset,
 * does not compile, or memory runs out. */
static bool rx_compile(const nomad_allocator *a, const char *pattern,
		       regex_t *re)
{
	struct nmd_buf out;
	struct rx rx = {.p = pattern, .out = &out, .empty_branch = true,
			.inner = {1}};
	bool ok = false;

	nmd_buf_init(&out, a);
	if (rx_translate(&rx) && !out.oom && out.data)
		ok = regcomp(re, out.data,
			     REG_EXTENDED | REG_NOSUB |
				     (rx.icase ? REG_ICASE : 0)) == 0;
	nmd_buf_free(&out);
	return ok;
}

/* ---- the regexp cache ---- */

struct nmd_regex_entry {
	char *pattern;
	bool ok;           /* compiled; else the pattern fails */
	regex_t re;
};

void nmd_regex_cache_init(struct nmd_regex_cache *cache,
			  const nomad_allocator *alloc)
{
	memset(cache, 0, sizeof(*cache));
	cache->alloc = alloc;
}

void nmd_regex_cache_free(struct nmd_regex_cache *cache)
{
	if (!cache)
		return;
	for (size_t i = 0; i < cache->n; i++) {
		struct nmd_regex_entry *e = cache->entries[i];
		if (e->ok)
			regfree(&e->re);
		nmd_free(cache->alloc, e->pattern);
		nmd_free(cache->alloc, e);
	}
	nmd_free(cache->alloc, cache->entries);
	cache->entries = NULL;
	cache->n = cache->cap = 0;
}

/* The entry of `pattern`, compiling it the first time; NULL when memory
 * runs out. An evaluation sees a handful of patterns: a scan will do. */
static struct nmd_regex_entry *cache_get(struct nmd_regex_cache *cache,
					 const char *pattern)
{
	struct nmd_regex_entry *e;

	for (size_t i = 0; i < cache->n; i++)
		if (strcmp(cache->entries[i]->pattern, pattern) == 0)
			return cache->entries[i];
	if (cache->n == cache->cap) {
		size_t cap = cache->cap ? cache->cap * 2 : 8;
		void *grown = nmd_reallocarray(cache->alloc, cache->entries,
					       cap, sizeof(*cache->entries));
		if (!grown)
			return NULL;
		cache->entries = grown;
		cache->cap = cap;
	}
	if (!(e = nmd_calloc(cache->alloc, 1, sizeof(*e))))
		return NULL;
	if (!(e->pattern = nmd_strdup(cache->alloc, pattern))) {
		nmd_free(cache->alloc, e);
		return NULL;
	}
	e->ok = rx_compile(cache->alloc, pattern, &e->re);
	cache->entries[cache->n++] = e;
	return e;
}

static bool check_regexp(struct nmd_regex_cache *cache, const char *subject,
			 const char *pattern)
{
	struct nmd_regex_entry *e = cache ? cache_get(cache, pattern) : NULL;
	regex_t re;
	bool match;

	if (e)
		return e->ok && regexec(&e->re, subject, 0, NULL, 0) == 0;
	/* No cache, or no memory for an entry: compile for this call. */
	if (!rx_compile(cache ? cache->alloc : NULL, pattern, &re))
		return false;
	match = regexec(&re, subject, 0, NULL, 0) == 0;
	regfree(&re);
	return match;
}

/* ---- operands ---- */

bool nmd_sched_check_operand(struct nmd_regex_cache *cache,
			     const char *operand, const char *lval,
			     bool lfound, const char *rval, bool rfound)
{
	const char *op = operand && *operand ? operand : "=";
	bool both = lfound && rfound;

	/* Nomad's values are Go strings: a missing one reads "". */
	lval = lfound && lval ? lval : "";
	rval = rfound && rval ? rval : "";

	if (!strcmp(op, "distinct_hosts") || !strcmp(op, "distinct_property"))
		return true;
	if (!strcmp(op, "=") || !strcmp(op, "==") || !strcmp(op, "is"))
		return both && strcmp(lval, rval) == 0;
	if (!strcmp(op, "!=") || !strcmp(op, "not"))
		return strcmp(lval, rval) != 0;
	if (!strcmp(op, "<") || !strcmp(op, "<=") || !strcmp(op, ">") ||
	    !strcmp(op, ">="))
		return both && check_order(op, lval, rval);
	if (!strcmp(op, "is_set"))
		return lfound;
	if (!strcmp(op, "is_not_set"))
		return !lfound;
	if (!strcmp(op, "version") || !strcmp(op, "semver"))
		return both && nmd_version_check(lval, rval, op[0] == 's') == 1;
	if (!strcmp(op, "regexp"))
		return both && check_regexp(cache, lval, rval);
	if (!strcmp(op, "set_contains") || !strcmp(op, "set_contains_all"))
		return both && check_set(lval, rval, true);
	if (!strcmp(op, "set_contains_any"))
		return both && check_set(lval, rval, false);
	return false;
}

bool nmd_sched_constraint_holds(struct nmd_regex_cache *cache,
				const nomad_node *node,
				const Nomad__Constraint *c)
{
	const char *l, *r;
	bool lfound, rfound;

	if (!c)
		return false;
	lfound = nmd_sched_resolve(node, c->ltarget, &l);
	rfound = nmd_sched_resolve(node, c->rtarget, &r);
	return nmd_sched_check_operand(cache, c->operand, l, lfound, r,
				       rfound);
}

const char *nmd_sched_constraint_string(const Nomad__Constraint *c,
					char *buf, size_t cap)
{
	if (!buf || !cap)
		return "";
	snprintf(buf, cap, "%s %s %s", c ? or_empty(c->ltarget) : "",
		 c ? or_empty(c->operand) : "", c ? or_empty(c->rtarget) : "");
	return buf;
}
