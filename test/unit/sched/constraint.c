/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Constraints against a node: every ${...} target, every operand with
 * holding and failing cases, missing values on either side, numeric and
 * lexical ordering, RE2 patterns through the POSIX translation (and the
 * ones outside it failing without harm), set operands, and the string
 * Nomad keys ConstraintFiltered by.
 */
#include <stdbool.h>

#include "test.h"
#include "sched/constraint.h"
#include "structs/pb.h"

static void attr(nomad_node *n, const char *k, const char *v)
{
	CHECK(nmd_map_set(NULL, &n->attributes, &n->n_attributes, k, v));
}

static void meta(nomad_node *n, const char *k, const char *v)
{
	CHECK(nmd_map_set(NULL, &n->meta, &n->n_meta, k, v));
}

static nomad_node *test_node(void)
{
	nomad_node *n = nomad_node_new();
	CHECK(n);
	CHECK(nmd_pb_set_string(NULL, &n->id, "5f2c1d6e-0000-4000-8000-1"));
	CHECK(nmd_pb_set_string(NULL, &n->datacenter, "dc1"));
	CHECK(nmd_pb_set_string(NULL, &n->name, "node-1"));
	CHECK(nmd_pb_set_string(NULL, &n->nodeclass, "large"));
	attr(n, "kernel.name", "linux");
	attr(n, "driver.docker", "1");
	attr(n, "unique.network.ip-address", "10.0.0.5");
	attr(n, "cpu.numcores", "8");
	attr(n, "nomad.version", "1.7.2");
	attr(n, "consul.version", "1.18.0-beta.1");
	attr(n, "empty", "");
	meta(n, "rack", "r1");
	meta(n, "zones", "a, b ,c");
	return n;
}

/* Both values found (NULL: not found). */
static bool op(const char *o, const char *l, const char *r)
{
	return nmd_sched_check_operand(NULL, o, l, l != NULL, r, r != NULL);
}

static bool holds(const nomad_node *n, const char *l, const char *o,
		  const char *r)
{
	Nomad__Constraint c = NOMAD__CONSTRAINT__INIT;
	c.ltarget = (char *)l;
	c.operand = (char *)o;
	c.rtarget = (char *)r;
	return nmd_sched_constraint_holds(NULL, n, &c);
}

static bool re(const char *pattern, const char *subject)
{
	struct nmd_regex_cache cache;
	bool cached, uncached;
	nmd_regex_cache_init(&cache, NULL);
	cached = nmd_sched_check_operand(&cache, "regexp", subject, true,
					 pattern, true);
	/* The same answer again from the cache, and without one. */
	CHECK(nmd_sched_check_operand(&cache, "regexp", subject, true,
				      pattern, true) == cached);
	CHECK_INT(cache.n, 1);
	nmd_regex_cache_free(&cache);
	uncached = nmd_sched_check_operand(NULL, "regexp", subject, true,
					   pattern, true);
	CHECK(cached == uncached);
	return cached;
}

NMD_TEST(test_sched_constraint__resolve_node_targets)
{
	nomad_node *n = test_node();
	const char *v;

	CHECK(nmd_sched_resolve(n, "${node.unique.id}", &v));
	CHECK_STR(v, "5f2c1d6e-0000-4000-8000-1");
	CHECK(nmd_sched_resolve(n, "${node.datacenter}", &v));
	CHECK_STR(v, "dc1");
	CHECK(nmd_sched_resolve(n, "${node.unique.name}", &v));
	CHECK_STR(v, "node-1");
	CHECK(nmd_sched_resolve(n, "${node.class}", &v));
	CHECK_STR(v, "large");
	/* An unset pool is the default pool. */
	CHECK(nmd_sched_resolve(n, "${node.pool}", &v));
	CHECK_STR(v, "default");
	CHECK(nmd_pb_set_string(NULL, &n->nodepool, "gpu"));
	CHECK(nmd_sched_resolve(n, "${node.pool}", &v));
	CHECK_STR(v, "gpu");
	/* An unset field is found and empty, as Go's zero string. */
	CHECK(nmd_pb_set_string(NULL, &n->nodeclass, NULL));
	CHECK(nmd_sched_resolve(n, "${node.class}", &v));
	CHECK_STR(v, "");
	/* Literals are themselves, "$" without "{" included. */
	CHECK(nmd_sched_resolve(n, "linux", &v));
	CHECK_STR(v, "linux");
	CHECK(nmd_sched_resolve(n, "$attr.kernel.name", &v));
	CHECK_STR(v, "$attr.kernel.name");
	CHECK(nmd_sched_resolve(NULL, "literal", &v));
	CHECK_STR(v, "literal");
	CHECK(nmd_sched_resolve(n, "x", NULL));
	nomad_node_free(n);
}

NMD_TEST(test_sched_constraint__resolve_attributes_and_meta)
{
	nomad_node *n = test_node();
	const char *v;

	/* Keys with dots and dashes. */
	CHECK(nmd_sched_resolve(n, "${attr.kernel.name}", &v));
	CHECK_STR(v, "linux");
	CHECK(nmd_sched_resolve(n, "${attr.driver.docker}", &v));
	CHECK_STR(v, "1");
	CHECK(nmd_sched_resolve(n, "${attr.unique.network.ip-address}", &v));
	CHECK_STR(v, "10.0.0.5");
	CHECK(nmd_sched_resolve(n, "${meta.rack}", &v));
	CHECK_STR(v, "r1");
	/* Present but empty is found. */
	CHECK(nmd_sched_resolve(n, "${attr.empty}", &v));
	CHECK_STR(v, "");
	/* Missing keys, and the maps are not mixed up. */
	CHECK(!nmd_sched_resolve(n, "${attr.driver.exec}", &v));
	CHECK(v == NULL);
	CHECK(!nmd_sched_resolve(n, "${attr.rack}", &v));
	CHECK(!nmd_sched_resolve(n, "${meta.kernel.name}", &v));
	CHECK(!nmd_sched_resolve(n, "${attr.kernel}", &v));
	CHECK(!nmd_sched_resolve(n, "${attr.kernel.name.x}", &v));
	CHECK(!nmd_sched_resolve(n, "${attr.}", &v));
	/* Go trims one closing brace if there is one. */
	CHECK(nmd_sched_resolve(n, "${attr.kernel.name", &v));
	CHECK_STR(v, "linux");
	CHECK(!nmd_sched_resolve(n, "${attr.kernel.name}}", &v));
	/* The lookup does not rely on the map being sorted. */
	for (size_t i = 0; i < n->n_attributes / 2; i++) {
		Nomad__StringEntry *t = n->attributes[i];
		n->attributes[i] = n->attributes[n->n_attributes - 1 - i];
		n->attributes[n->n_attributes - 1 - i] = t;
	}
	CHECK(nmd_sched_resolve(n, "${attr.cpu.numcores}", &v));
	CHECK_STR(v, "8");
	CHECK(nmd_sched_resolve(n, "${attr.unique.network.ip-address}", &v));
	CHECK_STR(v, "10.0.0.5");
	nomad_node_free(n);
}

NMD_TEST(test_sched_constraint__resolve_unknown_and_bad)
{
	nomad_node *n = test_node();
	const char *v = "set";

	CHECK(!nmd_sched_resolve(n, "${node.id}", &v));
	CHECK(v == NULL);
	CHECK(!nmd_sched_resolve(n, "${node.name}", &v));
	CHECK(!nmd_sched_resolve(n, "${node.unique.id", &v));
	CHECK(!nmd_sched_resolve(n, "${node.datacenter}x", &v));
	CHECK(!nmd_sched_resolve(n, "${env.HOME}", &v));
	CHECK(!nmd_sched_resolve(n, "${", &v));
	CHECK(!nmd_sched_resolve(n, "${}", &v));
	CHECK(!nmd_sched_resolve(n, NULL, &v));
	CHECK(!nmd_sched_resolve(n, "", &v));
	CHECK(!nmd_sched_resolve(NULL, "${attr.kernel.name}", &v));
	CHECK(!nmd_sched_resolve(NULL, "${node.datacenter}", &v));
	CHECK(!nmd_sched_resolve(n, NULL, NULL));
	nomad_node_free(n);
}

NMD_TEST(test_sched_constraint__equality)
{
	nomad_node *n = test_node();

	for (const char *const *o = (const char *const[]){"=", "==", "is",
							  NULL};
	     *o; o++) {
		CHECK(op(*o, "linux", "linux"));
		CHECK(!op(*o, "linux", "windows"));
		CHECK(!op(*o, "5", "5.0")); /* strings, not numbers */
		CHECK(!op(*o, "Linux", "linux"));
		CHECK(!op(*o, NULL, "linux"));
		CHECK(!op(*o, "linux", NULL));
		CHECK(!op(*o, NULL, NULL));
	}
	CHECK(holds(n, "${attr.kernel.name}", "=", "linux"));
	CHECK(!holds(n, "${attr.kernel.name}", "=", "darwin"));
	CHECK(holds(n, "${node.datacenter}", "==", "dc1"));
	CHECK(holds(n, "${meta.rack}", "is", "r1"));
	CHECK(holds(n, "dc1", "=", "${node.datacenter}"));
	CHECK(!holds(n, "${attr.nope}", "=", "linux"));
	CHECK(!holds(n, "${attr.nope}", "=", "${meta.nope}"));
	nomad_node_free(n);
}

NMD_TEST(test_sched_constraint__inequality)
{
	nomad_node *n = test_node();

	for (const char *const *o = (const char *const[]){"!=", "not", NULL};
	     *o; o++) {
		CHECK(op(*o, "linux", "windows"));
		CHECK(!op(*o, "linux", "linux"));
		/* One side missing: not equal. */
		CHECK(op(*o, NULL, "linux"));
		CHECK(op(*o, "linux", NULL));
		/* Both missing: equal, as Go's "" == "". */
		CHECK(!op(*o, NULL, NULL));
	}
	/* A missing value reads as Go's "", so it equals a found "". */
	CHECK(!nmd_sched_check_operand(NULL, "!=", NULL, false, "", true));
	CHECK(holds(n, "${attr.kernel.name}", "!=", "windows"));
	CHECK(!holds(n, "${attr.kernel.name}", "!=", "linux"));
	CHECK(holds(n, "${attr.driver.exec}", "!=", "1"));
	CHECK(holds(n, "${node.class}", "not", "small"));
	CHECK(!holds(n, "${attr.nope}", "!=", "${meta.nope}"));
	nomad_node_free(n);
}

NMD_TEST(test_sched_constraint__ordering)
{
	nomad_node *n = test_node();

	/* Integers compare as numbers, not text. */
	CHECK(op(">", "10", "9"));
	CHECK(!op("<", "10", "9"));
	CHECK(op("<", "-2", "-1"));
	CHECK(op("<=", "10", "10"));
	CHECK(op(">=", "10", "10"));
	CHECK(!op(">", "10", "10"));
	CHECK(!op("<", "10", "10"));
	CHECK(op(">=", "+7", "7"));
	/* Floats when either is not an integer. */
	CHECK(op("<", "1.5", "10.0"));
	CHECK(op("<", "9.5", "10.0"));
	CHECK(op(">", "10", "9.5"));
	CHECK(op(">", "1e3", "999"));
	CHECK(op(">", "0x1p4", "9"));       /* hex with exponent: 16 */
	CHECK(op(">", "1_000", "999"));     /* Go accepts the separators */
	CHECK(op("<", "-inf", "-1e308"));
	CHECK(op(">", "Infinity", "1e308"));
	/* Past int64: read as float64 (both round to 1e20). */
	CHECK(op("<=", "99999999999999999999", "100000000000000000000"));
	/* NaN orders with nothing. */
	CHECK(!op("<", "nan", "1"));
	CHECK(!op(">=", "nan", "1"));
	CHECK(!op(">=", "NaN", "NaN"));
	/* Text otherwise, bytewise. */
	CHECK(op("<", "abc", "abd"));
	CHECK(!op(">=", "abc", "abd"));
	CHECK(op(">", "b", "abc"));
	CHECK(op("<=", "abc", "abc"));
	CHECK(op("<", "10", "9x"));          /* one side is not a number */
	CHECK(!op(">", " 50", "6"));         /* Go does not skip spaces */
	CHECK(!op(">", "0x10", "9"));        /* no hex without exponent */
	CHECK(op(">", "1e", "0"));           /* not a number: text */
	CHECK(!op(">", "1__0", "9"));        /* bad separators: text */
	/* Both sides must be found. */
	CHECK(!op("<", NULL, "1"));
	CHECK(!op(">", "1", NULL));
	CHECK(!op("<=", NULL, NULL));
	CHECK(holds(n, "${attr.cpu.numcores}", ">=", "4"));
	CHECK(!holds(n, "${attr.cpu.numcores}", ">", "16"));
	CHECK(holds(n, "${attr.cpu.numcores}", "<", "10"));
	CHECK(!holds(n, "${attr.cpu.nope}", "<", "10"));
	nomad_node_free(n);
}

NMD_TEST(test_sched_constraint__version_and_semver)
{
	nomad_node *n = test_node();

	CHECK(holds(n, "${attr.nomad.version}", "version", ">= 1.6, < 2"));
	CHECK(!holds(n, "${attr.nomad.version}", "version", "< 1.7"));
	CHECK(holds(n, "${attr.nomad.version}", "version", "~> 1.7.0"));
	CHECK(holds(n, "${attr.nomad.version}", "semver", ">= 1.7.0"));
	CHECK(!holds(n, "${attr.nomad.version}", "semver", "> 1.7.2"));
	/* A pre-release: go-version's ordering skips it, SemVer's does not. */
	CHECK(!holds(n, "${attr.consul.version}", "version", ">= 1.17"));
	CHECK(holds(n, "${attr.consul.version}", "semver", ">= 1.17.0"));
	/* Missing sides and text that is not a version fail. */
	CHECK(!holds(n, "${attr.vault.version}", "version", ">= 1.0"));
	CHECK(!holds(n, "${attr.nomad.version}", "version", "${meta.nope}"));
	CHECK(!holds(n, "${attr.kernel.name}", "version", ">= 1.0"));
	CHECK(!holds(n, "${attr.nomad.version}", "version", "soon"));
	CHECK(!holds(n, "${attr.nomad.version}", "semver", "~> 1.7"));
	CHECK(op("version", "1.2.3", "= 1.2.3"));
	CHECK(!op("semver", "1.2.3", "!= 1.2.3"));
	nomad_node_free(n);
}

NMD_TEST(test_sched_constraint__regexp_basics)
{
	nomad_node *n = test_node();

	/* Unanchored search, as MatchString. */
	CHECK(re("inu", "linux"));
	CHECK(re("^linux$", "linux"));
	CHECK(!re("^lin$", "linux"));
	CHECK(!re("^inux", "linux"));
	/* Perl classes. */
	CHECK(re("\\d+", "abc123"));
	CHECK(re("^\\d+$", "123"));
	CHECK(!re("^\\d+$", "12a"));
	CHECK(!re("\\D", "123"));
	CHECK(re("\\D", "12a"));
	CHECK(re("^\\w+$", "web_01"));
	CHECK(!re("^\\w+$", "web-01"));
	CHECK(re("\\W", "web-01"));
	CHECK(re("^\\s*x\\s*$", " \tx\n"));
	CHECK(!re("\\S", " \t"));
	CHECK(!re("^\\s$", "\v"));          /* RE2's \s leaves out \v */
	/* Escaped punctuation is literal. */
	CHECK(re("^10\\.0\\.0\\.\\d+$", "10.0.0.5"));
	CHECK(!re("^10\\.0\\.0\\.\\d+$", "10a0.0.5"));
	CHECK(re("^a\\-b\\/c\\<d\\>e\\_f\\ g$", "a-b/c<d>e_f g"));
	CHECK(re("^\\(\\*\\+\\?\\{\\}\\[\\]\\|\\^\\$\\\\\\.$",
		 "(*+?{}[]|^$\\."));
	/* '.' is any character but a newline unless (?s). */
	CHECK(re("^a.b$", "axb"));
	CHECK(!re("^a.b$", "a\nb"));
	CHECK(re("(?s)^a.b$", "a\nb"));
	CHECK(re("^[^a]$", "\n"));           /* negated classes take \n */
	/* Through a node. */
	CHECK(holds(n, "${attr.unique.network.ip-address}", "regexp",
		    "^10\\.\\d+\\.\\d+\\.\\d+$"));
	CHECK(!holds(n, "${attr.kernel.name}", "regexp", "^(darwin|windows)$"));
	CHECK(holds(n, "${attr.kernel.name}", "regexp", "^(darwin|linux)$"));
	CHECK(!holds(n, "${attr.nope}", "regexp", ".*"));
	CHECK(!holds(n, "${attr.kernel.name}", "regexp", "${meta.nope}"));
	nomad_node_free(n);
}

NMD_TEST(test_sched_constraint__regexp_syntax)
{
	char a1000[1001];

	memset(a1000, 'a', 1000);
	a1000[1000] = '\0';
	/* Brackets: ranges, escapes, classes, and POSIX's special places. */
	CHECK(re("^[\\w.-]+$", "web-01.example"));
	CHECK(!re("^[\\w.-]+$", "web 01"));
	CHECK(re("^[\\d\\s]+$", "1 2\t3"));
	CHECK(re("^[\\]\\-^]+$", "]-^"));
	CHECK(re("^[]a]+$", "a]"));
	CHECK(re("^[^]a]+$", "bc"));
	CHECK(!re("^[^]a]+$", "b]"));
	CHECK(re("^[-^]+$", "^-"));
	CHECK(re("^[a-]+$", "a-"));
	CHECK(re("^[\\[.]+$", "[."));
	CHECK(re("^[\\\\]$", "\\"));
	CHECK(!re("^[\\.]$", "\\"));         /* RE2's \. in brackets is '.' */
	CHECK(re("^[a-fA-F0-9]+$", "c0FFee"));
	CHECK(re("^[[:digit:]]+$", "42"));
	CHECK(re("^[[:alpha:][:digit:]_]+$", "a1_"));
	CHECK(!re("^[[:upper:]]$", "a"));
	CHECK(re("^[^\\d]+$", "abc"));
	/* Repeats, lazy forms, and braces that are not repeats. */
	CHECK(re("^\\d{2,3}$", "123"));
	CHECK(!re("^\\d{2,3}$", "1234"));
	CHECK(re("^x{2}$", "xx"));
	CHECK(re("^x{2,}$", "xxxxx"));
	CHECK(!re("^x{2,}$", "x"));
	CHECK(re("^a+?b*?c??$", "aab"));
	CHECK(re("^a{1,2}?$", "aa"));
	CHECK(re("a{,2}", "a{,2}"));
	CHECK(re("^{}$", "{}"));
	CHECK(re("^x{01}$", "x{01}"));
	CHECK(re("^x{2", "x{2"));
	/* Groups and alternatives. */
	CHECK(re("^(foo|bar)+$", "foobar"));
	CHECK(re("^(?:ab)*$", "abab"));
	CHECK(re("^(?P<n>x)(?<m>y)$", "xy"));
	CHECK(re("^(a|)$", ""));
	CHECK(re("a|", "zzz"));
	CHECK(re("", "anything"));
	CHECK(re("^((a{10}){10}){10}$", a1000));
	CHECK(!re("^((a{10}){10}){10}$", a1000 + 1));
	/* Other escapes. */
	CHECK(re("^\\x41\\x{42}\\103$", "ABC"));
	CHECK(re("^\\t\\n\\r\\f\\v\\a$", "\t\n\r\f\v\a"));
	CHECK(re("^\\Qa.b*\\E+$", "a.b**"));  /* + repeats the last '*' */
	CHECK(!re("^\\Qa.b*\\E+$", "a.bbb"));
	CHECK(!re("^\\Qa.b\\E$", "axb"));
	CHECK(re("^\\Qa.b", "a.b"));    /* \Q without \E runs to the end */
	CHECK(re("\\Alinux\\z", "linux"));
	CHECK(!re("\\Alinux\\z", "linux\n"));
	/* RE2 lets an assertion repeat; up to 32 of them are compiled. */
	CHECK(re("^+a$", "a"));
	CHECK(re("x$?y", "xy"));
	CHECK(re("^(a$|b){16}", "bbbbbbbbbbbbbbbb"));
	/* Case folding from a leading flag group. */
	CHECK(re("(?i)^LINUX$", "linux"));
	CHECK(re("(?iU)^[A-Z]+$", "abc"));
	CHECK(!re("^LINUX$", "linux"));
	/* UTF-8 characters repeat as one. */
	CHECK(re("^\xc3\xa9+$", "\xc3\xa9\xc3\xa9"));
	CHECK(re("^\\x{e9}{2}$", "\xc3\xa9\xc3\xa9"));
#ifdef __GLIBC__
	CHECK(re("\\bfoo\\b", "a foo b"));
	CHECK(!re("\\bfoo\\b", "afoob"));
	CHECK(re("\\Bfoo", "afoo"));
#endif
}

NMD_TEST(test_sched_constraint__regexp_invalid)
{
	static const char *const bad[] = {
		"[", "[a", "(", "a)", "(a", "a**", "a+*", "a?+", "*a", "|*",
		"a{2}{3}", "a{1001}", "a{3,2}", "(a{100}){100}",
		"((a{10}){10}){11}", "\\", "\\1", "\\8", "\\p{Greek}", "\\pL",
		"\\y", "\\Z", "[\\D]", "[\\W_]", "[[:^alpha:]]", "[[:foo:]]",
		"[z-a]", "[a-\\d]", "(?i:a)", "(?m)^a", "a(?i)b", "(?)",
		"(?P<>a)", "(?P=n)", "(?=a)", "(?!a)", "\\xZZ", "\\x{110000}",
		"\\x{}", "\\0", "\\x00", "[\\x00-a]", "[\xc3\xa9]", "\xff",
		"\\E", "(^a){33}", "\\z{1000}", "^(x*$){300}",
	};
	struct nmd_regex_cache cache;
	char deep[700], a1000[1001], b100[101];
	size_t k = 0;

	memset(a1000, 'a', 1000);
	a1000[1000] = '\0';
	memset(b100, 'b', 100);
	b100[100] = '\0';

	nmd_regex_cache_init(&cache, NULL);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		if (re(bad[i], "a") || re(bad[i], ""))
			nmd_test_fail(__FILE__, __LINE__, "\"%s\" matched",
				      bad[i]);
		/* A failure is cached like a success. */
		CHECK(!nmd_sched_check_operand(&cache, "regexp", "a", true,
					       bad[i], true));
		CHECK(!nmd_sched_check_operand(&cache, "regexp", "a", true,
					       bad[i], true));
		CHECK_INT(cache.n, i + 1);
	}
	nmd_regex_cache_free(&cache);
	CHECK_INT(cache.n, 0);
	/* Within the limits they compile. */
	CHECK(re("^a{1000}$", a1000));
	CHECK(!re("^a{1000}$", a1000 + 1));
	CHECK(re("^(a{10}){100}$", a1000));
	CHECK(re("^(a{10}|b){100}$", b100));
	/* Nesting past the supported depth fails rather than recursing;
	 * 200 deep is fine. */
	for (; k < 300; k++)
		deep[k] = '(';
	deep[k++] = 'a';
	for (size_t i = 0; i < 300; i++)
		deep[k++] = ')';
	deep[k] = '\0';
	CHECK(!re(deep, "a"));
	CHECK(!re(deep + 100, "a"));          /* unbalanced */
	deep[k - 100] = '\0';
	CHECK(re(deep + 100, "a"));
}

NMD_TEST(test_sched_constraint__regexp_cache)
{
	struct nmd_regex_cache cache;
	nmd_regex_cache_init(&cache, NULL);

	CHECK(nmd_sched_check_operand(&cache, "regexp", "a1", true, "\\d",
				      true));
	CHECK(!nmd_sched_check_operand(&cache, "regexp", "ab", true, "\\d",
				       true));
	CHECK_INT(cache.n, 1);
	CHECK(nmd_sched_check_operand(&cache, "regexp", "ab", true, "b$",
				      true));
	CHECK_INT(cache.n, 2);
	for (int i = 0; i < 40; i++) {
		char pat[16];
		snprintf(pat, sizeof(pat), "^%d$", i);
		CHECK(!nmd_sched_check_operand(&cache, "regexp", "x", true,
					       pat, true));
	}
	CHECK_INT(cache.n, 42);
	CHECK(nmd_sched_check_operand(&cache, "regexp", "7", true, "^7$",
				      true));
	CHECK_INT(cache.n, 42);
	/* Freed, it can be used again; free twice is harmless. */
	nmd_regex_cache_free(&cache);
	CHECK(nmd_sched_check_operand(&cache, "regexp", "x", true, "x",
				      true));
	CHECK_INT(cache.n, 1);
	nmd_regex_cache_free(&cache);
	nmd_regex_cache_free(&cache);
	nmd_regex_cache_free(NULL);
}

NMD_TEST(test_sched_constraint__sets)
{
	nomad_node *n = test_node();

	for (const char *const *o =
		     (const char *const[]){"set_contains", "set_contains_all",
					   NULL};
	     *o; o++) {
		CHECK(op(*o, "a,b,c", "b"));
		CHECK(op(*o, "a, b ,c", " c , a "));
		CHECK(op(*o, "a,b,c", "a,b,c"));
		CHECK(!op(*o, "a,b", "a,d"));
		CHECK(!op(*o, "a,b", "A"));
		CHECK(!op(*o, "ab,c", "a"));         /* items, not substrings */
		CHECK(!op(*o, "a,b", ""));           /* "" is an item */
		CHECK(op(*o, "a,,b", ""));
		CHECK(op(*o, "a,\t b\n", "b"));
		CHECK(op(*o, "a,\xc2\xa0" "b", "b")); /* Go trims U+00A0 */
		CHECK(op(*o, "a,\xe3\x80\x80" "b\xe2\x80\x89", "b"));
		CHECK(!op(*o, NULL, "a"));
		CHECK(!op(*o, "a", NULL));
	}
	CHECK(op("set_contains_any", "a,b", "d, b"));
	CHECK(op("set_contains_any", " x ", "x"));
	CHECK(!op("set_contains_any", "a,b", "d,e"));
	CHECK(!op("set_contains_any", "a,b", ""));
	CHECK(!op("set_contains_any", NULL, "a"));
	CHECK(!op("set_contains_any", "a", NULL));
	CHECK(holds(n, "${meta.zones}", "set_contains", "b,c"));
	CHECK(!holds(n, "${meta.zones}", "set_contains_all", "b,d"));
	CHECK(holds(n, "${meta.zones}", "set_contains_any", "b,d"));
	CHECK(!holds(n, "${meta.nope}", "set_contains_any", "b,d"));
	nomad_node_free(n);
}

NMD_TEST(test_sched_constraint__is_set)
{
	nomad_node *n = test_node();

	CHECK(holds(n, "${attr.driver.docker}", "is_set", ""));
	CHECK(holds(n, "${attr.empty}", "is_set", NULL));
	CHECK(!holds(n, "${attr.driver.exec}", "is_set", ""));
	CHECK(!holds(n, "${attr.driver.docker}", "is_not_set", ""));
	CHECK(holds(n, "${attr.driver.exec}", "is_not_set", "anything"));
	CHECK(holds(n, "${node.foo}", "is_not_set", NULL));
	CHECK(op("is_set", "x", NULL));
	CHECK(!op("is_set", NULL, "x"));
	CHECK(op("is_not_set", NULL, NULL));
	nomad_node_free(n);
}

NMD_TEST(test_sched_constraint__distinct_and_unknown)
{
	nomad_node *n = test_node();

	/* Checked with the plan's allocations elsewhere: they hold here. */
	CHECK(holds(n, NULL, "distinct_hosts", "true"));
	CHECK(holds(n, "", "distinct_hosts", NULL));
	CHECK(holds(n, "${meta.nope}", "distinct_property", "2"));
	CHECK(op("distinct_property", "${attr.x}", NULL));
	/* Unknown operands fail. */
	CHECK(!op("contains", "abc", "b"));
	CHECK(!op("EQ", "a", "a"));
	CHECK(!op("= ", "a", "a"));
	CHECK(!op("IS", "a", "a"));
	CHECK(!op("regex", "a", "a"));
	CHECK(!op("set_contains_some", "a", "a"));
	CHECK(!holds(n, "${attr.kernel.name}", "like", "linux"));
	nomad_node_free(n);
}

NMD_TEST(test_sched_constraint__bad_input)
{
	nomad_node *n = test_node();
	Nomad__Constraint c = NOMAD__CONSTRAINT__INIT;

	/* No operand is Nomad's default, "=". */
	CHECK(op(NULL, "a", "a"));
	CHECK(op("", "a", "a"));
	CHECK(!op("", "a", "b"));
	CHECK(!op(NULL, NULL, NULL));
	CHECK(holds(n, "${attr.kernel.name}", "", "linux"));
	CHECK(holds(n, "${attr.kernel.name}", NULL, "linux"));
	CHECK(!holds(n, "${attr.kernel.name}", NULL, "darwin"));
	/* A found NULL reads as empty; a value given as not found is not
	 * looked at. */
	CHECK(nmd_sched_check_operand(NULL, "=", NULL, true, "", true));
	CHECK(!nmd_sched_check_operand(NULL, "=", "a", false, "a", true));
	CHECK(nmd_sched_check_operand(NULL, "regexp", NULL, true, NULL, true));
	CHECK(nmd_sched_check_operand(NULL, "<", NULL, true, "a", true));
	CHECK(nmd_sched_check_operand(NULL, "set_contains", NULL, true, NULL,
				      true));
	CHECK(!nmd_sched_check_operand(NULL, "version", NULL, true, NULL,
				       true));
	/* Empty and NULL targets are not found. */
	CHECK(!holds(n, NULL, "=", NULL));
	CHECK(!holds(n, "", "=", ""));
	CHECK(!holds(n, "", "is_set", ""));
	/* No constraint, no fields, no node. */
	CHECK(!nmd_sched_constraint_holds(NULL, n, NULL));
	CHECK(!nmd_sched_constraint_holds(NULL, n, &c));
	CHECK(!nmd_sched_constraint_holds(NULL, NULL, &c));
	CHECK(!holds(NULL, "${attr.kernel.name}", "=", "linux"));
	CHECK(holds(NULL, "a", "=", "a"));
	CHECK(holds(NULL, "${attr.kernel.name}", "is_not_set", NULL));
	nomad_node_free(n);
}

NMD_TEST(test_sched_constraint__string)
{
	Nomad__Constraint c = NOMAD__CONSTRAINT__INIT;
	char buf[128], small[8];

	c.ltarget = (char *)"${attr.kernel.name}";
	c.operand = (char *)"=";
	c.rtarget = (char *)"linux";
	CHECK_STR(nmd_sched_constraint_string(&c, buf, sizeof(buf)),
		  "${attr.kernel.name} = linux");
	c.operand = (char *)"regexp";
	c.rtarget = (char *)"^\\d+$";
	CHECK_STR(nmd_sched_constraint_string(&c, buf, sizeof(buf)),
		  "${attr.kernel.name} regexp ^\\d+$");
	/* Unset fields print empty, as Go's zero strings. */
	c.operand = NULL;
	c.rtarget = NULL;
	CHECK_STR(nmd_sched_constraint_string(&c, buf, sizeof(buf)),
		  "${attr.kernel.name}  ");
	c.ltarget = NULL;
	c.operand = (char *)"distinct_hosts";
	c.rtarget = (char *)"true";
	CHECK_STR(nmd_sched_constraint_string(&c, buf, sizeof(buf)),
		  " distinct_hosts true");
	CHECK_STR(nmd_sched_constraint_string(NULL, buf, sizeof(buf)), "  ");
	/* Truncated to the buffer, and nothing written without one. */
	CHECK_STR(nmd_sched_constraint_string(&c, small, sizeof(small)),
		  " distin");
	CHECK_STR(nmd_sched_constraint_string(&c, small, 0), "");
	CHECK_STR(nmd_sched_constraint_string(&c, NULL, 10), "");
}
