/* SPDX-License-Identifier: MPL-2.0 */
/*
 * More generic-scheduler scenarios, one feature each: datacenter globs,
 * node pools, ineligible nodes, constraint operands through node data,
 * job anti-affinity, several groups, a removed group, the spread
 * algorithm, and a blocked evaluation that capacity unblocks.
 */
#include <string.h>

#include "test.h"
#include "structs/pb.h"
#include "harness.h"

static void constrain(nomad_job *j, const char *l, const char *op,
		      const char *r)
{
	Nomad__Constraint *k = nmd_pb_new(&nomad__constraint__descriptor, NULL);
	CHECK(nmd_pb_set_string(NULL, &k->ltarget, l));
	CHECK(nmd_pb_set_string(NULL, &k->operand, op));
	CHECK(nmd_pb_set_string(NULL, &k->rtarget, r));
	CHECK(NMD_PB_APPEND(NULL, j->constraints, j->n_constraints, k));
}

static size_t on(struct th_cluster *c, const char *job, const nomad_node *n)
{
	return th_running_on(c, job, n->id);
}

NMD_TEST(test_sched_scenarios__datacenter_globs)
{
	struct th_cluster *c = th_new();
	nomad_node *a = th_add_node(c, "a", "dc1", 4000, 4096, 10000);
	nomad_node *b = th_add_node(c, "b", "dc2", 4000, 4096, 10000);
	nomad_node *x = th_add_node(c, "x", "edge-1", 4000, 4096, 10000);
	nomad_job *j = th_job("web", 6, 100, 100);
	CHECK(nmd_pb_set_string(NULL, &j->datacenters[0], "dc*"));
	th_register(c, j);
	th_run_ok(c, "web", 5);
	CHECK_INT(th_running(c, "web"), 6);
	CHECK_INT(on(c, "web", x), 0);
	CHECK_INT(on(c, "web", a) + on(c, "web", b), 6);
	th_free(c);
}

NMD_TEST(test_sched_scenarios__node_pools)
{
	struct th_cluster *c = th_new();
	nomad_node *plain = th_add_node(c, "plain", "dc1", 4000, 4096, 10000);
	nomad_node *gpu = th_add_node(c, "gpu", "dc1", 4000, 4096, 10000);
	nomad_job *j = th_job("train", 2, 100, 100), *k;
	CHECK(nmd_pb_set_string(NULL, &gpu->nodepool, "gpu"));
	th_node_changed(c, gpu);
	CHECK(nmd_pb_set_string(NULL, &j->nodepool, "gpu"));
	th_register(c, j);
	th_run_ok(c, "train", 5);
	CHECK_INT(on(c, "train", gpu), 2);
	CHECK_INT(on(c, "train", plain), 0);
	/* "all" takes every pool; no pool means "default". */
	k = th_job("any", 4, 100, 100);
	CHECK(nmd_pb_set_string(NULL, &k->nodepool, "all"));
	th_register(c, k);
	th_run_ok(c, "any", 5);
	CHECK_INT(th_running(c, "any"), 4);
	th_register(c, th_job("plain", 2, 100, 100));
	th_run_ok(c, "plain", 5);
	CHECK_INT(on(c, "plain", gpu), 0);
	th_free(c);
}

NMD_TEST(test_sched_scenarios__ineligible_nodes_take_no_placements)
{
	struct th_cluster *c = th_new();
	nomad_node *off = th_add_node(c, "off", "dc1", 4000, 4096, 10000);
	nomad_node *ok = th_add_node(c, "ok", "dc1", 4000, 4096, 10000);
	off->schedulingeligibility = NOMAD__NODE__ELIGIBILITY_KIND__ineligible;
	th_node_changed(c, off);
	th_register(c, th_job("web", 3, 100, 100));
	th_run_ok(c, "web", 5);
	CHECK_INT(on(c, "web", off), 0);
	CHECK_INT(on(c, "web", ok), 3);
	th_free(c);
}

NMD_TEST(test_sched_scenarios__operands_through_node_data)
{
	struct th_cluster *c = th_new();
	nomad_node *n[3];
	static const char *const versions[] = {"1.5.3", "1.7.2", "1.9.0-beta"};
	static const char *const tags[] = {"ssd,fast", "ssd", "fast,gpu"};
	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "web-%d", i);
		n[i] = th_add_node(c, name, "dc1", 4000, 4096, 10000);
		th_set_attr(n[i], "nomad.version", versions[i]);
		CHECK(nmd_map_set(NULL, &n[i]->meta, &n[i]->n_meta, "tags", tags[i]));
		th_node_changed(c, n[i]);
	}
	{
		nomad_job *j = th_job("versioned", 2, 100, 100);
		constrain(j, "${attr.nomad.version}", "version", ">= 1.6, < 2");
		th_register(c, j);
		th_run_ok(c, "versioned", 5);
		/* 1.9.0-beta is a pre-release the constraint does not name. */
		CHECK_INT(on(c, "versioned", n[1]), 2);
	}
	{
		nomad_job *j = th_job("fast-ssd", 2, 100, 100);
		constrain(j, "${meta.tags}", "set_contains", "fast, ssd");
		th_register(c, j);
		th_run_ok(c, "fast-ssd", 5);
		CHECK_INT(on(c, "fast-ssd", n[0]), 2);
	}
	{
		nomad_job *j = th_job("named", 2, 100, 100);
		constrain(j, "${node.unique.name}", "regexp", "^web-[12]$");
		constrain(j, "${meta.tags}", "set_contains_any", "gpu");
		th_register(c, j);
		th_run_ok(c, "named", 5);
		CHECK_INT(on(c, "named", n[2]), 2);
	}
	th_free(c);
}

NMD_TEST(test_sched_scenarios__anti_affinity_spreads_a_group)
{
	/* Two roomy nodes: bin-packing alone would stack both allocations on
	 * one, the job anti-affinity penalty moves the second. */
	struct th_cluster *c = th_new();
	nomad_node *a = th_add_node(c, "a", "dc1", 16000, 16384, 10000);
	nomad_node *b = th_add_node(c, "b", "dc1", 16000, 16384, 10000);
	th_register(c, th_job("pair", 2, 100, 100));
	th_run_ok(c, "pair", 5);
	CHECK_INT(on(c, "pair", a), 1);
	CHECK_INT(on(c, "pair", b), 1);
	th_free(c);
}

NMD_TEST(test_sched_scenarios__several_groups_and_a_removed_one)
{
	struct th_cluster *c = th_new();
	nomad_job *j = th_job("app", 2, 100, 100), *k;
	nomad_task_group *db = NULL;
	th_add_node(c, "a", "dc1", 4000, 4096, 10000);
	th_add_node(c, "b", "dc1", 4000, 4096, 10000);
	CHECK_OK(nomad_msg_copy((ProtobufCMessage **)&db, &j->taskgroups[0]->base,
				NULL));
	CHECK(nmd_pb_set_string(NULL, &db->name, "db"));
	db->count = 1;
	CHECK(NMD_PB_APPEND(NULL, j->taskgroups, j->n_taskgroups, db));
	th_register(c, j);
	th_run_ok(c, "app", 5);
	CHECK(th_alloc_named(c, "app.web[0]") != NULL);
	CHECK(th_alloc_named(c, "app.web[1]") != NULL);
	CHECK(th_alloc_named(c, "app.db[0]") != NULL);
	/* The db group leaves the job: its allocation stops. */
	k = th_job("app", 2, 100, 100);
	th_register(c, k);
	th_run_ok(c, "app", 5);
	CHECK(th_alloc_named(c, "app.db[0]") == NULL);
	CHECK_INT(th_running(c, "app"), 2);
	th_free(c);
}

/* Two nodes, one half full with another job. Bin-packing puts a new
 * allocation on the fuller node; the spread algorithm of the scheduler
 * configuration on the emptier one. Returns whether they shared. */
static bool lands_with_the_load(int algorithm)
{
	struct th_cluster *c = th_new();
	bool shared = false;
	th_add_node(c, "n0", "dc1", 8000, 8192, 10000);
	th_add_node(c, "n1", "dc1", 8000, 8192, 10000);
	c->config = nmd_pb_new(&nomad__scheduler_configuration__descriptor, NULL);
	c->config->has_scheduleralgorithm = 1;
	c->config->scheduleralgorithm = algorithm;
	th_register(c, th_job("load", 1, 4000, 4096));
	th_run_ok(c, "load", 5);
	th_register(c, th_job("new", 1, 500, 500));
	th_run_ok(c, "new", 5);
	for (size_t k = 0; k < c->n_nodes; k++)
		shared |= on(c, "load", c->nodes[k]) && on(c, "new", c->nodes[k]);
	th_free(c);
	return shared;
}

NMD_TEST(test_sched_scenarios__spread_algorithm_from_the_config)
{
	CHECK(lands_with_the_load(NOMAD__SCHEDULER_ALGORITHM__binpack));
	CHECK(!lands_with_the_load(NOMAD__SCHEDULER_ALGORITHM__spread));
}

NMD_TEST(test_sched_scenarios__capacity_unblocks_a_blocked_evaluation)
{
	struct th_cluster *c = th_new();
	nomad_eval *blocked = NULL;
	nomad_error err;
	th_add_node(c, "small", "dc1", 1000, 1024, 10000);
	th_register(c, th_job("big", 2, 800, 800));
	th_run_ok(c, "big", 5);
	CHECK_INT(th_running(c, "big"), 1);
	CHECK_INT(c->n_created, 1);
	CHECK_OK(nomad_eval_copy(&blocked, c->created[0]));
	/* A node joins; the blocked evaluation runs and completes. */
	th_add_node(c, "new", "dc1", 4000, 4096, 10000);
	CHECK_OK(th_run_eval(c, blocked, 6, &err));
	CHECK_INT(th_running(c, "big"), 2);
	CHECK_INT(c->n_reblocked, 0);
	CHECK_INT(th_last_update(c)->status,
		  NOMAD__EVALUATION__STATUS_KIND__complete);
	nomad_eval_free(blocked);
	th_free(c);
}
