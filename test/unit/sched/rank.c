/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Nomad's ranking arithmetic: bin-pack and spread fit, job
 * anti-affinity, the mean of appended scores and the candidate limit.
 */
#include <math.h>

#include "test.h"
#include "sched/rank.h"

static bool near(double a, double b)
{
	return fabs(a - b) < 1e-9;
}

#define CHECK_NEAR(a, b)                                                      \
	do {                                                                  \
		double a_ = (a), b_ = (b);                                    \
		if (!near(a_, b_))                                            \
			nmd_test_fail(__FILE__, __LINE__, "%s = %.12f, want %.12f", \
				      #a, a_, b_);                            \
	} while (0)

NMD_TEST(test_sched_rank__binpack_fit)
{
	/* A placement that fills the node exactly: 20 - (1 + 1) = 18. */
	struct nmd_fit_input full = {4000, 8192, 3000, 4096, 1000, 4096};
	/* An empty node and a tiny ask: nearly 20 - 20 = 0. */
	struct nmd_fit_input empty = {4000, 8192, 0, 0, 1, 1};
	/* Half used after the ask: 20 - 2 * 10^0.5. */
	struct nmd_fit_input half = {4000, 8000, 1000, 2000, 1000, 2000};
	CHECK_NEAR(nmd_rank_fit(&full, false), 1.0);
	CHECK(nmd_rank_fit(&empty, false) < 0.001);
	CHECK_NEAR(nmd_rank_fit(&half, false), (20 - 2 * sqrt(10.0)) / 18);
	/* Over-committed (the fit check comes first; the score stays in
	 * range anyway). */
	{
		struct nmd_fit_input over = {1000, 1000, 900, 900, 500, 500};
		CHECK_NEAR(nmd_rank_fit(&over, false), 1.0);
	}
	/* No capacity is scored as full, never divided by. */
	{
		struct nmd_fit_input none = {0, 0, 0, 0, 100, 100};
		CHECK_NEAR(nmd_rank_fit(&none, false), 1.0);
	}
	/* A fuller node always ranks higher. */
	{
		struct nmd_fit_input a = {4000, 8192, 1000, 1000, 500, 500};
		struct nmd_fit_input b = {4000, 8192, 2000, 2000, 500, 500};
		CHECK(nmd_rank_fit(&b, false) > nmd_rank_fit(&a, false));
	}
}

NMD_TEST(test_sched_rank__spread_fit)
{
	struct nmd_fit_input full = {4000, 8192, 3000, 4096, 1000, 4096};
	struct nmd_fit_input empty = {4000, 8192, 0, 0, 0, 0};
	struct nmd_fit_input half = {4000, 8000, 1000, 2000, 1000, 2000};
	CHECK_NEAR(nmd_rank_fit(&full, true), 0.0);
	CHECK_NEAR(nmd_rank_fit(&empty, true), 1.0);
	CHECK_NEAR(nmd_rank_fit(&half, true), (2 * sqrt(10.0) - 2) / 18);
	/* The emptier node ranks higher. */
	{
		struct nmd_fit_input a = {4000, 8192, 1000, 1000, 500, 500};
		struct nmd_fit_input b = {4000, 8192, 2000, 2000, 500, 500};
		CHECK(nmd_rank_fit(&a, true) > nmd_rank_fit(&b, true));
	}
}

NMD_TEST(test_sched_rank__anti_affinity)
{
	CHECK_NEAR(nmd_rank_anti_affinity(0, 10), 0);
	CHECK_NEAR(nmd_rank_anti_affinity(1, 10), -0.2);
	CHECK_NEAR(nmd_rank_anti_affinity(3, 4), -1.0);
	CHECK_NEAR(nmd_rank_anti_affinity(2, 0), -3.0); /* count 0 as 1 */
}

NMD_TEST(test_sched_rank__final_score_is_the_mean)
{
	struct nmd_scores s = {0};
	CHECK_NEAR(nmd_scores_final(&s), 0);
	nmd_scores_add(&s, "binpack", 0.8);
	CHECK_NEAR(nmd_scores_final(&s), 0.8);
	nmd_scores_add(&s, "job-anti-affinity", -0.2);
	CHECK_NEAR(nmd_scores_final(&s), 0.3);
	nmd_scores_add(&s, "node-affinity", 1.0);
	CHECK_NEAR(nmd_scores_final(&s), 1.6 / 3);
	CHECK_STR(s.names[1], "job-anti-affinity");
	for (int i = 0; i < 20; i++) /* a full list ignores more */
		nmd_scores_add(&s, "x", 100);
	CHECK_INT(s.n, 8);
}

NMD_TEST(test_sched_rank__limit)
{
	CHECK_INT(nmd_rank_limit(5000, true, false, 10, 100), 2);
	CHECK_INT(nmd_rank_limit(5000, false, false, 10, 100), 13);
	CHECK_INT(nmd_rank_limit(3, false, false, 10, 100), 2);
	CHECK_INT(nmd_rank_limit(1024, false, false, 10, 100), 10);
	CHECK_INT(nmd_rank_limit(1025, false, false, 10, 100), 11);
	CHECK_INT(nmd_rank_limit(0, false, false, 10, 100), 2);
	CHECK_INT(nmd_rank_limit(5000, false, true, 10, 100), 100);
	CHECK_INT(nmd_rank_limit(5000, true, true, 500, 100), 500);
}
