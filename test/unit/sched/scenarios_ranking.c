/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Ranking scenarios over the harness: the bin-pack and spread fit scores
 * by Nomad's formulas, job anti-affinity, node affinities with positive
 * and negative weights (appended only when they score), spreads with
 * targets, an implicit target and none, how many options each placement
 * looks at (2 for batch, log2 of the nodes for service, all of them with
 * affinities), and the five best scores a placement's metric keeps.
 */
#include <math.h>
#include <string.h>

#include "test.h"
#include "structs/pb.h"
#include "harness.h"

static size_t on(struct th_cluster *c, const char *job, const nomad_node *n)
{
	return th_running_on(c, job, n->id);
}

static void set_meta(struct th_cluster *c, nomad_node *n, const char *k,
		     const char *v)
{
	CHECK(nmd_map_set(NULL, &n->meta, &n->n_meta, k, v));
	th_node_changed(c, n);
}

static const char *meta(const nomad_node *n, const char *k)
{
	return nomad_map_get(n->meta, n->n_meta, k);
}

static nomad_node *node_of(struct th_cluster *c, const char *id)
{
	for (size_t k = 0; k < c->n_nodes; k++)
		if (!strcmp(c->nodes[k]->id, id))
			return c->nodes[k];
	return NULL;
}

/* The score metadata of `node_id` in an allocation's metric, or NULL. */
static const Nomad__NodeScoreMeta *score_of(const nomad_alloc *a,
					    const char *node_id)
{
	for (size_t i = 0; i < a->metrics->n_scoremetadata; i++)
		if (!strcmp(a->metrics->scoremetadata[i]->nodeid, node_id))
			return a->metrics->scoremetadata[i];
	return NULL;
}

/* One named score in node score metadata; NAN when absent. */
static double scorer(const Nomad__NodeScoreMeta *m, const char *name)
{
	for (size_t i = 0; m && i < m->n_scores; i++)
		if (!strcmp(m->scores[i]->key, name))
			return m->scores[i]->value;
	return NAN;
}

static void check_near(const char *what, double got, double want)
{
	if (!(fabs(got - want) < 1e-9))
		nmd_test_fail(__FILE__, __LINE__, "%s: %.12f, want %.12f", what,
			      got, want);
}

/* Nomad's fit scores for a node of cpu/mem capacity holding `used` after
 * the ask is added: bin-pack or spread, clamped to [0,18], over 18. */
static double fit(double cpu_cap, double mem_cap, double cpu_used,
		  double mem_used, bool spread)
{
	double total = pow(10, 1 - cpu_used / cpu_cap) +
		       pow(10, 1 - mem_used / mem_cap);
	double f = spread ? total - 2 : 20 - total;
	return (f < 0 ? 0 : f > 18 ? 18 : f) / 18;
}

/* Two 8000 MHz / 8192 MB nodes, one holding a 4000/4096 allocation of
 * job "load"; returns that node. */
static nomad_node *half_loaded(struct th_cluster *c, int algorithm)
{
	th_add_node(c, "n0", "dc1", 8000, 8192, 10000);
	th_add_node(c, "n1", "dc1", 8000, 8192, 10000);
	if (algorithm) {
		c->config = nmd_pb_new(&nomad__scheduler_configuration__descriptor,
				       NULL);
		c->config->has_scheduleralgorithm = 1;
		c->config->scheduleralgorithm = algorithm;
	}
	th_register(c, th_job("load", 1, 4000, 4096));
	th_run_ok(c, "load", 11);
	return node_of(c, th_alloc_named(c, "load.web[0]")->nodeid);
}

NMD_TEST(test_sched_scenarios_ranking__binpack_prefers_the_fuller_node)
{
	struct th_cluster *c = th_new();
	nomad_node *full = half_loaded(c, 0), *empty;
	const nomad_alloc *a;
	const Nomad__NodeScoreMeta *sf, *se;
	th_register(c, th_job("new", 1, 500, 500));
	th_run_ok(c, "new", 11);
	empty = c->nodes[0] == full ? c->nodes[1] : c->nodes[0];
	CHECK_INT(on(c, "new", full), 1);
	a = th_alloc_named(c, "new.web[0]");
	sf = score_of(a, full->id);
	se = score_of(a, empty->id);
	CHECK(sf != NULL && se != NULL);
	check_near("binpack full", scorer(sf, "binpack"),
		   fit(8000, 8192, 4500, 4596, false));
	check_near("binpack empty", scorer(se, "binpack"),
		   fit(8000, 8192, 500, 500, false));
	/* Nothing else scores: the final score is the fit alone. */
	check_near("norm full", sf->normscore, scorer(sf, "binpack"));
	check_near("norm empty", se->normscore, scorer(se, "binpack"));
	th_free(c);
}

NMD_TEST(test_sched_scenarios_ranking__spread_algorithm_prefers_the_emptier)
{
	struct th_cluster *c = th_new();
	nomad_node *full = half_loaded(c, NOMAD__SCHEDULER_ALGORITHM__spread);
	nomad_node *empty = c->nodes[0] == full ? c->nodes[1] : c->nodes[0];
	const nomad_alloc *a;
	th_register(c, th_job("new", 1, 500, 500));
	th_run_ok(c, "new", 11);
	CHECK_INT(on(c, "new", empty), 1);
	a = th_alloc_named(c, "new.web[0]");
	/* Worst fit: the score of the same node is the mirror image. */
	check_near("spread empty", scorer(score_of(a, empty->id), "binpack"),
		   fit(8000, 8192, 500, 500, true));
	check_near("spread full", scorer(score_of(a, full->id), "binpack"),
		   fit(8000, 8192, 4500, 4596, true));
	th_free(c);
}

NMD_TEST(test_sched_scenarios_ranking__spread_algorithm_spreads_a_job)
{
	/* Bin-packing stacks a small job on few nodes; the spread algorithm
	 * puts one allocation on each of the four. */
	struct th_cluster *c = th_new();
	for (int i = 0; i < 4; i++) {
		char name[16];
		snprintf(name, sizeof(name), "n%d", i);
		th_add_node(c, name, "dc1", 16000, 16384, 10000);
	}
	c->config = nmd_pb_new(&nomad__scheduler_configuration__descriptor, NULL);
	c->config->has_scheduleralgorithm = 1;
	c->config->scheduleralgorithm = NOMAD__SCHEDULER_ALGORITHM__spread;
	th_register(c, th_job("wide", 4, 500, 500));
	th_run_ok(c, "wide", 11);
	for (size_t k = 0; k < 4; k++)
		CHECK_INT(on(c, "wide", c->nodes[k]), 1);
	th_free(c);
}

NMD_TEST(test_sched_scenarios_ranking__job_anti_affinity_penalty)
{
	struct th_cluster *c = th_new();
	const nomad_alloc *first, *second;
	const Nomad__NodeScoreMeta *m;
	th_add_node(c, "a", "dc1", 16000, 16384, 10000);
	th_add_node(c, "b", "dc1", 16000, 16384, 10000);
	th_register(c, th_job("pair", 2, 100, 100));
	th_run_ok(c, "pair", 11);
	first = th_alloc_named(c, "pair.web[0]");
	second = th_alloc_named(c, "pair.web[1]");
	CHECK(strcmp(first->nodeid, second->nodeid) != 0);
	/* Seen from the second placement, the first's node had one
	 * collision: -(1 + 1) / count. */
	m = score_of(second, first->nodeid);
	CHECK(m != NULL);
	check_near("anti-affinity", scorer(m, "job-anti-affinity"), -1.0);
	check_near("norm", m->normscore,
		   (scorer(m, "binpack") - 1.0) / 2);
	th_free(c);
}

NMD_TEST(test_sched_scenarios_ranking__anti_affinity_counts_placed_allocs)
{
	/* Scaling 2 -> 4 on two roomy nodes (both ranked every time): the
	 * allocations already there count as collisions, so the new ones
	 * go one per node too. */
	struct th_cluster *c = th_new();
	th_add_node(c, "a", "dc1", 64000, 65536, 100000);
	th_add_node(c, "b", "dc1", 64000, 65536, 100000);
	th_register(c, th_job("web", 2, 100, 100));
	th_run_ok(c, "web", 11);
	CHECK_INT(on(c, "web", c->nodes[0]), 1);
	CHECK_INT(on(c, "web", c->nodes[1]), 1);
	th_register(c, th_job("web", 4, 100, 100));
	th_run_ok(c, "web", 11);
	CHECK_INT(on(c, "web", c->nodes[0]), 2);
	CHECK_INT(on(c, "web", c->nodes[1]), 2);
	/* The last placement saw 2 collisions on one node (-3/4) and 1 on
	 * the other (-2/4), and took the other. */
	{
		const nomad_alloc *last = th_alloc_named(c, "web.web[3]");
		for (size_t k = 0; k < 2; k++) {
			const Nomad__NodeScoreMeta *m =
				score_of(last, c->nodes[k]->id);
			CHECK(m != NULL);
			check_near("anti", scorer(m, "job-anti-affinity"),
				   strcmp(c->nodes[k]->id, last->nodeid)
					   ? -0.75 : -0.5);
		}
	}
	th_free(c);
}

/* Four nodes: n0 rack r1, n1 rack r1 with ssd, n2 rack r2, n3 rack r2
 * with ssd. */
static struct th_cluster *racks_and_disks(int cpu, int mem)
{
	struct th_cluster *c = th_new();
	for (int i = 0; i < 4; i++) {
		char name[16];
		nomad_node *n;
		snprintf(name, sizeof(name), "n%d", i);
		n = th_add_node(c, name, "dc1", cpu, mem, 100000);
		set_meta(c, n, "rack", i < 2 ? "r1" : "r2");
		if (i % 2)
			set_meta(c, n, "ssd", "true");
	}
	return c;
}

NMD_TEST(test_sched_scenarios_ranking__affinity_weights_are_normalised)
{
	struct th_cluster *c = racks_and_disks(8000, 8192);
	nomad_job *j = th_job("aff", 1, 500, 500);
	const nomad_alloc *a;
	th_affinity(j, "${meta.rack}", "=", "r2", 50);
	th_affinity(j, "${meta.ssd}", "=", "true", -25);
	th_register(c, j);
	th_run_ok(c, "aff", 11);
	a = th_alloc_named(c, "aff.web[0]");
	/* With affinities every node is ranked. */
	CHECK_INT(a->metrics->nodesevaluated, 4);
	CHECK_INT(a->metrics->n_scoremetadata, 4);
	check_near("r1 ssd", scorer(score_of(a, c->nodes[1]->id), "node-affinity"),
		   -25.0 / 75);
	check_near("r2", scorer(score_of(a, c->nodes[2]->id), "node-affinity"),
		   50.0 / 75);
	check_near("r2 ssd", scorer(score_of(a, c->nodes[3]->id), "node-affinity"),
		   25.0 / 75);
	/* The best: rack r2 without ssd. */
	CHECK_STR(a->nodeid, c->nodes[2]->id);
	th_free(c);
}

NMD_TEST(test_sched_scenarios_ranking__affinity_appended_only_when_it_scores)
{
	/* A node no affinity matches scores 0 for them, which Nomad does not
	 * append: its final score is its fit alone, not half of it. */
	struct th_cluster *c = racks_and_disks(8000, 8192);
	nomad_job *j = th_job("aff", 1, 500, 500);
	const Nomad__NodeScoreMeta *m;
	th_affinity(j, "${meta.rack}", "=", "r2", 50);
	th_register(c, j);
	th_run_ok(c, "aff", 11);
	m = score_of(th_alloc_named(c, "aff.web[0]"), c->nodes[0]->id);
	CHECK(m != NULL);
	CHECK(isnan(scorer(m, "node-affinity")));
	check_near("norm", m->normscore, scorer(m, "binpack"));
	th_free(c);
}

NMD_TEST(test_sched_scenarios_ranking__full_node_can_beat_an_affinity)
{
	/* n0 (rack r1) is nearly full, n2 (rack r2, preferred) empty: the
	 * average of a perfect fit alone beats that of an affinity of 1
	 * and a poor fit. */
	struct th_cluster *c = racks_and_disks(4000, 4096);
	nomad_job *j = th_job("aff", 1, 500, 500), *load;
	load = th_job("load", 1, 3400, 3500);
	{
		Nomad__Constraint *k =
			nmd_pb_new(&nomad__constraint__descriptor, NULL);
		CHECK(nmd_pb_set_string(NULL, &k->ltarget, "${node.unique.name}"));
		CHECK(nmd_pb_set_string(NULL, &k->operand, "="));
		CHECK(nmd_pb_set_string(NULL, &k->rtarget, "n0"));
		CHECK(NMD_PB_APPEND(NULL, load->constraints, load->n_constraints,
				    k));
	}
	th_register(c, load);
	th_run_ok(c, "load", 11);
	CHECK_INT(on(c, "load", c->nodes[0]), 1);
	th_affinity(j, "${meta.rack}", "=", "r2", 100);
	th_register(c, j);
	th_run_ok(c, "aff", 11);
	CHECK_INT(on(c, "aff", c->nodes[0]), 1);
	th_free(c);
}

NMD_TEST(test_sched_scenarios_ranking__negative_affinity_is_a_preference)
{
	/* Every node matches the negative affinity: placed all the same. */
	struct th_cluster *c = racks_and_disks(8000, 8192);
	nomad_job *j = th_job("avoid", 4, 100, 100);
	th_affinity(j, "${node.datacenter}", "=", "dc1", -100);
	th_register(c, j);
	th_run_ok(c, "avoid", 11);
	CHECK_INT(th_running(c, "avoid"), 4);
	CHECK(th_last_update(c)->n_failedtgallocs == 0);
	th_free(c);
}

/* ---- spread ------------------------------------------------------------------ */

/* Six nodes, racks r1 r1 r2 r2 r3 r3. */
static struct th_cluster *three_racks(void)
{
	struct th_cluster *c = th_new();
	for (int i = 0; i < 6; i++) {
		char name[16], rack[16];
		snprintf(name, sizeof(name), "n%d", i);
		snprintf(rack, sizeof(rack), "r%d", i / 2 + 1);
		set_meta(c, th_add_node(c, name, "dc1", 8000, 8192, 10000),
			 "rack", rack);
	}
	return c;
}

static size_t on_rack(struct th_cluster *c, const char *job, const char *rack)
{
	size_t n = 0;
	for (size_t k = 0; k < c->n_nodes; k++) {
		const char *r = meta(c->nodes[k], "rack");
		if (r && !strcmp(r, rack))
			n += on(c, job, c->nodes[k]);
	}
	return n;
}

NMD_TEST(test_sched_scenarios_ranking__even_spread_over_three_values)
{
	for (uint64_t seed = 1; seed <= 5; seed++) {
		struct th_cluster *c = three_racks();
		nomad_job *j = th_job("even", 6, 100, 100);
		th_spread(j, "${meta.rack}", 100);
		th_register(c, j);
		th_run_ok(c, "even", seed);
		CHECK_INT(on_rack(c, "even", "r1"), 2);
		CHECK_INT(on_rack(c, "even", "r2"), 2);
		CHECK_INT(on_rack(c, "even", "r3"), 2);
		th_free(c);
	}
}

NMD_TEST(test_sched_scenarios_ranking__spread_targets_with_percentages)
{
	for (uint64_t seed = 1; seed <= 5; seed++) {
		struct th_cluster *c = three_racks();
		nomad_job *j = th_job("pct", 10, 100, 100);
		Nomad__Spread *s = th_spread(j, "${meta.rack}", 100);
		th_spread_target(s, "r1", 50);
		th_spread_target(s, "r2", 30);
		th_spread_target(s, "r3", 20);
		th_register(c, j);
		th_run_ok(c, "pct", seed);
		CHECK_INT(on_rack(c, "pct", "r1"), 5);
		CHECK_INT(on_rack(c, "pct", "r2"), 3);
		CHECK_INT(on_rack(c, "pct", "r3"), 2);
		th_free(c);
	}
}

NMD_TEST(test_sched_scenarios_ranking__implicit_target_is_shared)
{
	/* r1 is asked for half; r2 and r3 share the implicit "*" target's
	 * half between them, counted together. */
	for (uint64_t seed = 1; seed <= 5; seed++) {
		struct th_cluster *c = three_racks();
		nomad_job *j = th_job("rest", 4, 100, 100);
		Nomad__Spread *s = th_spread(j, "${meta.rack}", 100);
		th_spread_target(s, "r1", 50);
		th_register(c, j);
		th_run_ok(c, "rest", seed);
		CHECK_INT(on_rack(c, "rest", "r1"), 2);
		CHECK_INT(on_rack(c, "rest", "r2") + on_rack(c, "rest", "r3"), 2);
		th_free(c);
	}
}

NMD_TEST(test_sched_scenarios_ranking__spread_penalises_missing_attribute)
{
	/* Two racked nodes and one without a rack: the even spread puts the
	 * pair on the racked ones. */
	struct th_cluster *c = th_new();
	nomad_job *j = th_job("racked", 2, 100, 100);
	nomad_node *bare;
	set_meta(c, th_add_node(c, "a", "dc1", 8000, 8192, 10000), "rack", "r1");
	set_meta(c, th_add_node(c, "b", "dc1", 8000, 8192, 10000), "rack", "r2");
	bare = th_add_node(c, "bare", "dc1", 64000, 65536, 10000);
	th_spread(j, "${meta.rack}", 100);
	th_register(c, j);
	th_run_ok(c, "racked", 11);
	CHECK_INT(on(c, "racked", bare), 0);
	CHECK_INT(on_rack(c, "racked", "r1"), 1);
	CHECK_INT(on_rack(c, "racked", "r2"), 1);
	/* Its spread score says why. */
	check_near("bare", scorer(score_of(th_alloc_named(c, "racked.web[1]"),
					    bare->id), "allocation-spread"),
		   -1.0);
	th_free(c);
}

/* ---- how many options a placement ranks ----------------------------------------- */

static int evaluated(int n_nodes, int type, bool affinity)
{
	struct th_cluster *c = th_new();
	nomad_job *j = th_job("lim", 1, 100, 100);
	int n;
	for (int i = 0; i < n_nodes; i++) {
		char name[16];
		snprintf(name, sizeof(name), "n%d", i);
		th_add_node(c, name, "dc1", 4000, 4096, 10000);
	}
	j->type = (Nomad__JobType)type;
	if (affinity)
		th_affinity(j, "${node.unique.name}", "=", "n3", 50);
	th_register(c, j);
	th_run_ok(c, "lim", 11);
	n = th_alloc_named(c, "lim.web[0]")->metrics->nodesevaluated;
	th_free(c);
	return n;
}

NMD_TEST(test_sched_scenarios_ranking__limit_two_for_batch)
{
	CHECK_INT(evaluated(16, NOMAD__JOB_TYPE__batch, false), 2);
	CHECK_INT(evaluated(3, NOMAD__JOB_TYPE__batch, false), 2);
	/* Service: ceil(log2(nodes)), at least 2. */
	CHECK_INT(evaluated(16, NOMAD__JOB_TYPE__service, false), 4);
	CHECK_INT(evaluated(20, NOMAD__JOB_TYPE__service, false), 5);
	CHECK_INT(evaluated(3, NOMAD__JOB_TYPE__service, false), 2);
	/* Affinities rank every node (up to 100). */
	CHECK_INT(evaluated(16, NOMAD__JOB_TYPE__batch, true), 16);
	CHECK_INT(evaluated(20, NOMAD__JOB_TYPE__service, true), 20);
}

NMD_TEST(test_sched_scenarios_ranking__score_metadata_keeps_top_five)
{
	struct th_cluster *c = th_new();
	nomad_job *j = th_job("top", 1, 500, 500);
	const nomad_alloc *a;
	/* Ten nodes, each roomier than the last: all ranked (affinity), the
	 * five best kept, the chosen one the best of them. */
	for (int i = 0; i < 10; i++) {
		char name[16];
		snprintf(name, sizeof(name), "n%d", i);
		th_add_node(c, name, "dc1", 2000 + 1000 * i, 2048 + 1024 * i,
			    10000);
	}
	th_affinity(j, "${attr.kernel.name}", "=", "linux", 50);
	th_register(c, j);
	th_run_ok(c, "top", 11);
	a = th_alloc_named(c, "top.web[0]");
	CHECK_INT(a->metrics->nodesevaluated, 10);
	CHECK_INT(a->metrics->n_scoremetadata, 5);
	CHECK_STR(a->nodeid, c->nodes[0]->id);
	for (size_t i = 0; i < 5; i++) {
		const Nomad__NodeScoreMeta *m = score_of(a, c->nodes[i]->id);
		CHECK(m != NULL);
		CHECK(m->normscore <= score_of(a, a->nodeid)->normscore);
	}
	th_free(c);
}
