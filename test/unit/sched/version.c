/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The `version` and `semver` constraint operands: go-version's ordering,
 * its constraint operators and pre-release rule, SemVer's stricter
 * shapes and plain ordering, and malformed input failing the check.
 */
#include "test.h"
#include "sched/version.h"

static int cmp(const char *a, const char *b)
{
	struct nmd_version x, y;
	CHECK(nmd_version_parse(a, false, &x));
	CHECK(nmd_version_parse(b, false, &y));
	return nmd_version_compare(&x, &y);
}

NMD_TEST(test_sched_version__ordering)
{
	/* SemVer 2.0's example chain, which go-version also follows. */
	static const char *const chain[] = {
		"1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-alpha.beta", "1.0.0-beta",
		"1.0.0-beta.2", "1.0.0-beta.11", "1.0.0-rc.1", "1.0.0", "1.0.1",
		"1.1", "v1.10.0", "2"};
	for (size_t i = 0; i + 1 < sizeof(chain) / sizeof(*chain); i++) {
		if (cmp(chain[i], chain[i + 1]) != -1 ||
		    cmp(chain[i + 1], chain[i]) != 1)
			nmd_test_fail(__FILE__, __LINE__, "%s < %s does not hold",
				      chain[i], chain[i + 1]);
		CHECK_INT(cmp(chain[i], chain[i]), 0);
	}
	CHECK_INT(cmp("1.2", "1.2.0"), 0);
	CHECK_INT(cmp("1.2.0.0", "1.2"), 0);   /* trailing zeros do not count */
	CHECK_INT(cmp("1.2.3.4", "1.2.3"), 1);
	CHECK_INT(cmp("1.2+foo", "1.2+bar"), 0); /* metadata never orders */
	CHECK_INT(cmp("1.2beta", "1.2-beta"), 0); /* go-version's loose form */
	CHECK_INT(cmp("1.0.0-2", "1.0.0-10"), -1);
	CHECK_INT(cmp("1.0.0-a10", "1.0.0-a9"), -1); /* words compare as text */
}

NMD_TEST(test_sched_version__parse_shapes)
{
	struct nmd_version v;
	CHECK(nmd_version_parse("1.2.3-rc.1+build.5", false, &v));
	CHECK_INT(v.specified, 3);
	CHECK_STR(v.pre, "rc.1");
	CHECK(nmd_version_parse("7", false, &v));
	CHECK_INT(v.n_segments, 3);
	CHECK_INT(v.specified, 1);
	CHECK(nmd_version_parse("1.2.3.4.5", false, &v));
	CHECK_INT(v.n_segments, 5);
	/* Not versions at all. */
	CHECK(!nmd_version_parse("", false, &v));
	CHECK(!nmd_version_parse("linux", false, &v));
	CHECK(!nmd_version_parse("1.2.", false, &v));
	CHECK(!nmd_version_parse("1..2", false, &v));
	CHECK(!nmd_version_parse("1.2-", false, &v));
	CHECK(!nmd_version_parse("1.2-beta..1", false, &v));
	CHECK(!nmd_version_parse("1.2+", false, &v));
	CHECK(!nmd_version_parse(" 1.2", false, &v));
	/* SemVer: three numbers at most, a pre-release only after "-". */
	CHECK(nmd_version_parse("1.2.3-beta.1", true, &v));
	CHECK(nmd_version_parse("v1.2", true, &v));
	CHECK(!nmd_version_parse("1.2.3.4", true, &v));
	CHECK(!nmd_version_parse("1.2beta", true, &v));
}

NMD_TEST(test_sched_version__version_constraints)
{
	CHECK_INT(nmd_version_check("1.0.0", ">= 1.0", false), 1);
	CHECK_INT(nmd_version_check("1.2", ">= 1.0, < 1.4", false), 1);
	CHECK_INT(nmd_version_check("1.4", ">= 1.0, < 1.4", false), 0);
	CHECK_INT(nmd_version_check("1.2.0", "= 1.2", false), 1);
	CHECK_INT(nmd_version_check("1.2.0", "1.2", false), 1); /* no op: = */
	CHECK_INT(nmd_version_check("1.3", "!= 1.2", false), 1);
	CHECK_INT(nmd_version_check("1.2", "!= 1.2.0", false), 0);
	CHECK_INT(nmd_version_check("1.3", "  >=1.0 ,<2  ", false), 1);
	/* ~>: the last given segment may grow. */
	CHECK_INT(nmd_version_check("1.5", "~> 1.2", false), 1);
	CHECK_INT(nmd_version_check("2.0", "~> 1.2", false), 0);
	CHECK_INT(nmd_version_check("1.1", "~> 1.2", false), 0);
	CHECK_INT(nmd_version_check("1.2.9", "~> 1.2.3", false), 1);
	CHECK_INT(nmd_version_check("1.3.0", "~> 1.2.3", false), 0);
	/* Ordering never matches a pre-release unless the constraint names
	 * one of the same segments. */
	CHECK_INT(nmd_version_check("1.1-beta", ">= 1.0", false), 0);
	CHECK_INT(nmd_version_check("1.0-rc", ">= 1.0-beta", false), 1);
	CHECK_INT(nmd_version_check("1.1-rc", ">= 1.0-beta", false), 0);
	CHECK_INT(nmd_version_check("1.1", ">= 1.0-beta", false), 1);
	CHECK_INT(nmd_version_check("1.1-beta", "= 1.1-beta", false), 1);
	CHECK_INT(nmd_version_check("1.2.0-beta", "~> 1.2.0-alpha", false), 1);
	CHECK_INT(nmd_version_check("1.2.0", "~> 1.2.0-alpha", false), 0);
}

NMD_TEST(test_sched_version__semver_constraints)
{
	/* SemVer order alone: a pre-release of a later version is above. */
	CHECK_INT(nmd_version_check("1.1.0-beta", ">= 1.0.0", true), 1);
	CHECK_INT(nmd_version_check("1.0.0-beta", ">= 1.0.0", true), 0);
	CHECK_INT(nmd_version_check("1.0.0-rc.1", "> 1.0.0-beta.11", true), 1);
	CHECK_INT(nmd_version_check("2.0.0", ">= 1.0.0, < 2.0.0", true), 0);
	/* No ~> and no loose shapes. */
	CHECK_INT(nmd_version_check("1.2.3", "~> 1.2", true), -1);
	CHECK_INT(nmd_version_check("1.2.3.4", ">= 1.0.0", true), -1);
}

NMD_TEST(test_sched_version__malformed_fails)
{
	CHECK_INT(nmd_version_check("linux", ">= 1.0", false), -1);
	CHECK_INT(nmd_version_check("1.0", ">== 1.0", false), -1);
	CHECK_INT(nmd_version_check("1.0", ">= 1.0,", false), -1);
	CHECK_INT(nmd_version_check("1.0", "", false), -1);
	CHECK_INT(nmd_version_check("1.0", ">= 1.0, foo", false), -1);
	CHECK_INT(nmd_version_check("1.0", "=> 1.0", false), -1);
}
