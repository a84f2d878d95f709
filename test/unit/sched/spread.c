/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Node affinity and spread: placements drawn to (or away from) nodes
 * that match an affinity, spread evenly over an attribute's values, or
 * in the proportions of spread targets.
 */
#include <string.h>

#include "test.h"
#include "structs/pb.h"
#include "harness.h"

/* Four nodes, racks r1, r1, r2, r2 in ${meta.rack}. */
static struct th_cluster *racks(void)
{
	struct th_cluster *c = th_new();
	static const char *const rack[] = {"r1", "r1", "r2", "r2"};
	for (int i = 0; i < 4; i++) {
		char name[16];
		nomad_node *n;
		snprintf(name, sizeof(name), "n%d", i);
		n = th_add_node(c, name, "dc1", 8000, 8192, 10000);
		CHECK(nmd_map_set(NULL, &n->meta, &n->n_meta, "rack", rack[i]));
		th_node_changed(c, n);
	}
	return c;
}

static size_t on_rack(struct th_cluster *c, const char *job, const char *rack)
{
	size_t n = 0;
	for (size_t k = 0; k < c->n_nodes; k++)
		if (!strcmp(c->nodes[k]->meta[0]->value, rack))
			n += th_running_on(c, job, c->nodes[k]->id);
	return n;
}

NMD_TEST(test_sched_spread__affinity_draws_placements)
{
	struct th_cluster *c = racks();
	nomad_job *j = th_job("near", 3, 100, 100);
	th_affinity(j, "${meta.rack}", "=", "r2", 100);
	th_register(c, j);
	th_run_ok(c, "near", 3);
	CHECK_INT(on_rack(c, "near", "r2"), 3);
	/* The score is in the metric, named as Nomad names it. */
	{
		const nomad_alloc *a = th_alloc_named(c, "near.web[0]");
		bool seen = false;
		for (size_t i = 0; i < a->metrics->n_scoremetadata; i++)
			for (size_t k = 0; k < a->metrics->scoremetadata[i]->n_scores; k++)
				seen |= !strcmp(a->metrics->scoremetadata[i]->scores[k]->key,
						"node-affinity");
		CHECK(seen);
	}
	th_free(c);
}

NMD_TEST(test_sched_spread__negative_affinity_repels)
{
	struct th_cluster *c = racks();
	nomad_job *j = th_job("far", 3, 100, 100);
	th_affinity(j, "${meta.rack}", "=", "r1", -100);
	th_register(c, j);
	th_run_ok(c, "far", 3);
	CHECK_INT(on_rack(c, "far", "r1"), 0);
	th_free(c);
}

NMD_TEST(test_sched_spread__even_spread_over_values)
{
	struct th_cluster *c = racks();
	nomad_job *j = th_job("even", 6, 100, 100);
	th_spread(j, "${meta.rack}", 100);
	th_register(c, j);
	th_run_ok(c, "even", 3);
	CHECK_INT(on_rack(c, "even", "r1"), 3);
	CHECK_INT(on_rack(c, "even", "r2"), 3);
	/* Scaling up keeps it even, counting what is already placed. */
	j = th_job("even", 8, 100, 100);
	th_spread(j, "${meta.rack}", 100);
	th_register(c, j);
	th_run_ok(c, "even", 3);
	CHECK_INT(on_rack(c, "even", "r1"), 4);
	CHECK_INT(on_rack(c, "even", "r2"), 4);
	th_free(c);
}

NMD_TEST(test_sched_spread__targets_set_the_proportions)
{
	struct th_cluster *c = racks();
	nomad_job *j = th_job("skew", 4, 100, 100);
	Nomad__Spread *s = th_spread(j, "${meta.rack}", 100);
	th_spread_target(s, "r1", 75);
	th_spread_target(s, "r2", 25);
	th_register(c, j);
	th_run_ok(c, "skew", 3);
	CHECK_INT(on_rack(c, "skew", "r1"), 3);
	CHECK_INT(on_rack(c, "skew", "r2"), 1);
	th_free(c);
}

NMD_TEST(test_sched_spread__implicit_target_takes_the_rest)
{
	struct th_cluster *c = racks();
	nomad_job *j = th_job("rest", 4, 100, 100);
	Nomad__Spread *s = th_spread(j, "${meta.rack}", 100);
	th_spread_target(s, "r1", 50); /* r2 shares the implicit 50% */
	th_register(c, j);
	th_run_ok(c, "rest", 3);
	CHECK_INT(on_rack(c, "rest", "r1"), 2);
	CHECK_INT(on_rack(c, "rest", "r2"), 2);
	th_free(c);
}
