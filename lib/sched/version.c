/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Versions and version constraints, for the `version` and `semver`
 * constraint operands. The rules are those of HashiCorp's go-version,
 * which Nomad uses:
 *
 *   - A version is dotted numbers with an optional pre-release and build
 *     metadata ("v1.2", "1.2.3-beta.1+abc"); it has at least three
 *     segments, missing ones being zero. `semver` accepts only SemVer
 *     shapes (at most three numbers; pre-release and metadata of
 *     [0-9A-Za-z-] parts).
 *   - Comparing: segments numerically (trailing zeros do not count), then
 *     a version without pre-release above one with, then pre-releases
 *     part by part: numeric parts below alphanumeric ones, numbers by
 *     value, words lexically, a missing part deciding by the other one.
 *   - A constraint is a comma-separated list, all of which must hold, of
 *     an operator (=, !=, >, <, >=, <=, and for `version` ~>) and a
 *     version. Under `version`, ordering operators never match a
 *     pre-release version unless the constraint names a pre-release of
 *     the same segments; `semver` compares by SemVer 2.0 order alone.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sched/version.h"

static bool is_ident_char(char c, bool tilde)
{
	return isalnum((unsigned char)c) || c == '-' || (tilde && c == '~');
}

/* A run of dot-separated identifiers of is_ident_char at *p; returns its
 * length (0 when there is none or a part is empty). */
static size_t ident_parts(const char *p, bool tilde)
{
	size_t n = 0;
	for (;;) {
		size_t part = 0;
		while (is_ident_char(p[n + part], tilde))
			part++;
		if (!part)
			return 0;
		n += part;
		if (p[n] != '.' || !is_ident_char(p[n + 1], tilde))
			return n;
		n++;
	}
}

bool nmd_version_parse(const char *text, bool semver, struct nmd_version *v)
{
	const char *p = text;
	memset(v, 0, sizeof(*v));
	if (*p == 'v')
		p++;
	if (!isdigit((unsigned char)*p))
		return false;
	while (isdigit((unsigned char)*p)) {
		char *end;
		if (v->n_segments == NMD_VERSION_MAX_SEGMENTS ||
		    (semver && v->n_segments == 3))
			return false;
		v->segments[v->n_segments++] = strtoll(p, &end, 10);
		p = end;
		if (*p != '.' || !isdigit((unsigned char)p[1]))
			break;
		p++;
	}
	v->specified = v->n_segments;
	while (v->n_segments < 3)
		v->segments[v->n_segments++] = 0;
	if (*p == '-' || (!semver && isalpha((unsigned char)*p)) ||
	    (!semver && *p == '~')) {
		/* go-version: "-" then anything, or letters straight after the
		 * numbers ("1.2beta"); semver: only after "-". */
		const char *pre = *p == '-' ? p + 1 : p;
		size_t n = ident_parts(pre, !semver);
		if (!n || n >= sizeof(v->pre))
			return false;
		memcpy(v->pre, pre, n);
		v->pre[n] = '\0';
		p = pre + n;
	}
	if (*p == '+') {
		size_t n = ident_parts(p + 1, !semver);
		if (!n)
			return false;
		p += 1 + n;
	}
	return *p == '\0';
}

static bool numeric(const char *s, size_t n, long long *out)
{
	char buf[32];
	char *end;
	if (!n || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (!isdigit((unsigned char)buf[0]) && buf[0] != '-' && buf[0] != '+')
		return false;
	*out = strtoll(buf, &end, 10);
	return *end == '\0';
}

/* One pre-release part against another ("" when absent). */
static int compare_part(const char *a, size_t na, const char *b, size_t nb)
{
	long long x = 0, y = 0;
	bool xn = numeric(a, na, &x), yn = numeric(b, nb, &y);
	int lex;
	if (na == nb && !memcmp(a, b, na))
		return 0;
	if (!na)
		return yn ? -1 : 1;
	if (!nb)
		return xn ? 1 : -1;
	if (xn != yn)
		return xn ? -1 : 1;
	if (!xn) {
		lex = memcmp(a, b, na < nb ? na : nb);
		if (!lex)
			lex = na < nb ? -1 : 1;
		return lex > 0 ? 1 : -1;
	}
	return x > y ? 1 : -1;
}

static int compare_prereleases(const char *a, const char *b)
{
	if (!strcmp(a, b))
		return 0;
	while (*a || *b) {
		size_t na = strcspn(a, "."), nb = strcspn(b, ".");
		int c = compare_part(a, na, b, nb);
		if (c)
			return c;
		a += na + (a[na] == '.');
		b += nb + (b[nb] == '.');
	}
	return 0;
}

static bool same_segments(const struct nmd_version *a,
			  const struct nmd_version *b)
{
	return a->n_segments == b->n_segments &&
	       !memcmp(a->segments, b->segments,
		       a->n_segments * sizeof(a->segments[0]));
}

int nmd_version_compare(const struct nmd_version *a,
			const struct nmd_version *b)
{
	size_t longest = a->n_segments > b->n_segments ? a->n_segments
						       : b->n_segments;
	if (same_segments(a, b)) {
		if (!a->pre[0] || !b->pre[0])
			return a->pre[0] ? -1 : b->pre[0] ? 1 : 0;
		return compare_prereleases(a->pre, b->pre);
	}
	/* Segments beyond the shorter list count as zeros. */
	for (size_t i = 0; i < longest; i++) {
		long long x = i < a->n_segments ? a->segments[i] : 0;
		long long y = i < b->n_segments ? b->segments[i] : 0;
		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

/* go-version's rule for the ordering operators under `version`. */
static bool prerelease_ok(const struct nmd_version *v,
			  const struct nmd_version *c)
{
	if (c->pre[0] && v->pre[0])
		return same_segments(c, v);
	return !v->pre[0];
}

static bool pessimistic(const struct nmd_version *v,
			const struct nmd_version *c)
{
	size_t cs = c->n_segments;
	if (!prerelease_ok(v, c) || (c->pre[0] && !v->pre[0]))
		return false;
	if (nmd_version_compare(v, c) < 0 || cs > v->n_segments)
		return false;
	for (size_t i = 0; i + 1 < c->specified; i++)
		if (v->segments[i] != c->segments[i])
			return false;
	return c->segments[cs - 1] <= v->segments[cs - 1];
}

enum op { OP_EQ, OP_NE, OP_GT, OP_LT, OP_GE, OP_LE, OP_PESSIMISTIC };

static bool holds(enum op op, const struct nmd_version *v,
		  const struct nmd_version *c, bool semver)
{
	int cmp = nmd_version_compare(v, c);
	bool order_ok = semver || prerelease_ok(v, c);
	switch (op) {
	case OP_EQ:
		return cmp == 0;
	case OP_NE:
		return cmp != 0;
	case OP_GT:
		return order_ok && cmp > 0;
	case OP_LT:
		return order_ok && cmp < 0;
	case OP_GE:
		return order_ok && cmp >= 0;
	case OP_LE:
		return order_ok && cmp <= 0;
	case OP_PESSIMISTIC:
		return pessimistic(v, c);
	}
	return false;
}

/* The operator at *p (longest first); false when none fits. */
static bool parse_op(const char **p, bool semver, enum op *op)
{
	static const struct {
		const char *text;
		enum op op;
	} ops[] = {{">=", OP_GE}, {"<=", OP_LE}, {"!=", OP_NE},
		   {"~>", OP_PESSIMISTIC}, {">", OP_GT}, {"<", OP_LT},
		   {"=", OP_EQ}};
	for (size_t i = 0; i < sizeof(ops) / sizeof(*ops); i++) {
		size_t n = strlen(ops[i].text);
		if (!strncmp(*p, ops[i].text, n)) {
			if (semver && ops[i].op == OP_PESSIMISTIC)
				return false;
			*op = ops[i].op;
			*p += n;
			return true;
		}
	}
	*op = OP_EQ; /* no operator: equality */
	return true;
}

int nmd_version_check(const char *version, const char *constraints,
		      bool semver)
{
	struct nmd_version v;
	const char *p = constraints;
	bool all = true;
	if (!nmd_version_parse(version, semver, &v))
		return -1;
	for (;;) {
		size_t len = strcspn(p, ",");
		char part[160];
		const char *q = part, *end;
		struct nmd_version c;
		enum op op;
		if (len >= sizeof(part))
			return -1;
		memcpy(part, p, len);
		part[len] = '\0';
		while (isspace((unsigned char)*q))
			q++;
		if (!parse_op(&q, semver, &op))
			return -1;
		while (isspace((unsigned char)*q))
			q++;
		end = q + strlen(q);
		while (end > q && isspace((unsigned char)end[-1]))
			end--;
		part[end - part] = '\0';
		if (!nmd_version_parse(q, semver, &c))
			return -1; /* a malformed constraint fails as a whole */
		all = all && holds(op, &v, &c, semver);
		if (!p[len])
			break;
		p += len + 1;
	}
	return all ? 1 : 0;
}
