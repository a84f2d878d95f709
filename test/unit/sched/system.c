/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Scenarios for the system and sysbatch schedulers: one allocation per
 * node the job may use, new nodes picked up, lost and drained nodes,
 * nodes that do not fit, updates on the same node, and sysbatch runs
 * that completed.
 */
#include <string.h>

#include "test.h"
#include "structs/pb.h"
#include "harness.h"

static nomad_job *system_job(const char *id, int cpu, int mem, int type)
{
	nomad_job *j = th_job(id, 1, cpu, mem);
	j->type = (Nomad__JobType)type;
	return j;
}

static nomad_node *find_node(struct th_cluster *c, const char *name)
{
	for (size_t k = 0; k < c->n_nodes; k++)
		if (!strcmp(c->nodes[k]->name, name))
			return c->nodes[k];
	return NULL;
}

static struct th_cluster *five_nodes(void)
{
	struct th_cluster *c = th_new();
	th_add_node(c, "a", "dc1", 4000, 4096, 10000);
	th_add_node(c, "b", "dc1", 4000, 4096, 10000);
	th_add_node(c, "c", "dc1", 4000, 4096, 10000);
	th_add_node(c, "off", "dc1", 4000, 4096, 10000)->schedulingeligibility =
		NOMAD__NODE__ELIGIBILITY_KIND__ineligible;
	th_add_node(c, "far", "dc2", 4000, 4096, 10000);
	th_node_changed(c, find_node(c, "off"));
	return c;
}

NMD_TEST(test_sched_system__one_per_eligible_node)
{
	struct th_cluster *c = five_nodes();
	th_register(c, system_job("agent", 100, 64, NOMAD__JOB_TYPE__system));
	th_run_ok(c, "agent", 1);
	CHECK_INT(th_running(c, "agent"), 3);
	CHECK_INT(th_running_on(c, "agent", find_node(c, "off")->id), 0);
	CHECK_INT(th_running_on(c, "agent", find_node(c, "far")->id), 0);
	for (size_t i = 0; i < c->n_allocs; i++)
		CHECK_STR(c->allocs[i]->name, "agent.web[0]");
	/* Nothing changed: nothing to do. */
	th_run_ok(c, "agent", 1);
	CHECK_INT(c->n_plans, 1);
	/* A new node joins: one placement, there. */
	th_add_node(c, "d", "dc1", 4000, 4096, 10000);
	th_run_ok(c, "agent", 1);
	CHECK_INT(c->n_plans, 2);
	CHECK_INT(c->plans[1]->n_nodeallocation, 1);
	CHECK_STR(c->plans[1]->nodeallocation[0]->key, find_node(c, "d")->id);
	CHECK_INT(th_running(c, "agent"), 4);
	th_free(c);
}

NMD_TEST(test_sched_system__down_node_lost_drained_node_stopped)
{
	struct th_cluster *c = five_nodes();
	nomad_node *a, *b;
	th_register(c, system_job("agent", 100, 64, NOMAD__JOB_TYPE__system));
	th_run_ok(c, "agent", 1);
	a = find_node(c, "a");
	b = find_node(c, "b");
	a->status = NOMAD__NODE__STATUS_KIND__down;
	b->drainstrategy = nmd_pb_new(&nomad__drain_strategy__descriptor, NULL);
	th_node_changed(c, a);
	th_run_ok(c, "agent", 1);
	CHECK_INT(th_running(c, "agent"), 1);
	CHECK_INT(th_running_on(c, "agent", find_node(c, "c")->id), 1);
	/* The lost one says so; nothing replaced it elsewhere. */
	for (size_t i = 0; i < c->n_allocs; i++)
		if (!strcmp(c->allocs[i]->nodeid, a->id))
			CHECK_INT(c->allocs[i]->clientstatus,
				  NOMAD__ALLOCATION__CLIENT_STATUS_KIND__lost);
	th_free(c);
}

NMD_TEST(test_sched_system__node_that_does_not_fit_is_reported)
{
	struct th_cluster *c = five_nodes();
	const nomad_eval *done;
	th_add_node(c, "tiny", "dc1", 50, 4096, 10000);
	th_register(c, system_job("agent", 100, 64, NOMAD__JOB_TYPE__system));
	th_run_ok(c, "agent", 1);
	CHECK_INT(th_running(c, "agent"), 3);
	done = th_last_update(c);
	CHECK_INT(done->n_failedtgallocs, 1);
	CHECK_INT(done->failedtgallocs[0]->value->nodesexhausted, 1);
	CHECK_INT(c->n_created, 1); /* blocked until capacity changes */
	th_free(c);
}

NMD_TEST(test_sched_system__updates_stay_on_their_node)
{
	struct th_cluster *c = five_nodes();
	nomad_job *j;
	char id_on_a[64], node_a[64];
	th_register(c, system_job("agent", 100, 64, NOMAD__JOB_TYPE__system));
	th_run_ok(c, "agent", 1);
	snprintf(node_a, sizeof(node_a), "%s", find_node(c, "a")->id);
	for (size_t i = 0; i < c->n_allocs; i++)
		if (!strcmp(c->allocs[i]->nodeid, node_a))
			snprintf(id_on_a, sizeof(id_on_a), "%s", c->allocs[i]->id);
	/* More memory: replaced, on the same node. */
	j = system_job("agent", 100, 128, NOMAD__JOB_TYPE__system);
	th_register(c, j);
	th_run_ok(c, "agent", 1);
	CHECK_INT(th_running(c, "agent"), 3);
	CHECK_INT(th_running_on(c, "agent", node_a), 1);
	for (size_t i = 0; i < c->n_allocs; i++)
		if (!strcmp(c->allocs[i]->nodeid, node_a) &&
		    c->allocs[i]->desiredstatus ==
			    NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run) {
			CHECK(strcmp(c->allocs[i]->id, id_on_a) != 0);
			CHECK_STR(c->allocs[i]->previousallocation, id_on_a);
		}
	th_free(c);
}

NMD_TEST(test_sched_system__sysbatch_runs_once_per_node)
{
	struct th_cluster *c = five_nodes();
	th_register(c, system_job("sweep", 100, 64, NOMAD__JOB_TYPE__sysbatch));
	th_run_ok(c, "sweep", 1);
	CHECK_INT(th_running(c, "sweep"), 3);
	for (size_t i = 0; i < c->n_allocs; i++)
		c->allocs[i]->clientstatus =
			NOMAD__ALLOCATION__CLIENT_STATUS_KIND__complete;
	th_run_ok(c, "sweep", 1);
	CHECK_INT(th_running(c, "sweep"), 0);
	CHECK_INT(c->n_plans, 1);
	/* A node that joins later gets its run. */
	th_add_node(c, "late", "dc1", 4000, 4096, 10000);
	th_run_ok(c, "sweep", 1);
	CHECK_INT(th_running(c, "sweep"), 1);
	th_free(c);
}

NMD_TEST(test_sched_system__stopped_job_stops_everywhere)
{
	struct th_cluster *c = five_nodes();
	nomad_job *j;
	th_register(c, system_job("agent", 100, 64, NOMAD__JOB_TYPE__system));
	th_run_ok(c, "agent", 1);
	j = system_job("agent", 100, 64, NOMAD__JOB_TYPE__system);
	j->has_stop = 1;
	j->stop = 1;
	th_register(c, j);
	th_run_ok(c, "agent", 1);
	CHECK_INT(th_running(c, "agent"), 0);
	th_free(c);
}

/* A rolling update replaces max_parallel allocations per evaluation and
 * asks for the next one after the stagger. */
NMD_TEST(test_sched_system__rolling_update_by_max_parallel)
{
	struct th_cluster *c = five_nodes();
	nomad_job *j = system_job("agent", 100, 64, NOMAD__JOB_TYPE__system);
	const nomad_eval *next = NULL;
	size_t updated = 0;
	th_register(c, j);
	th_run_ok(c, "agent", 1);
	j = system_job("agent", 200, 64, NOMAD__JOB_TYPE__system);
	j->update = nmd_pb_new(&nomad__update_strategy__descriptor, NULL);
	j->update->has_maxparallel = j->update->has_stagger = 1;
	j->update->maxparallel = 2;
	j->update->stagger = 10000000000LL;
	th_register(c, j);
	th_run_ok(c, "agent", 1);
	for (size_t i = 0; i < c->n_allocs; i++)
		updated += c->allocs[i]->jobversion == 1 &&
			   c->allocs[i]->desiredstatus ==
				   NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run;
	CHECK_INT(updated, 2);
	CHECK_INT(th_running(c, "agent"), 3);
	for (size_t i = 0; i < c->n_created; i++)
		if (!strcmp(c->created[i]->triggeredby, "rolling-update"))
			next = c->created[i];
	CHECK(next != NULL);
	CHECK_INT(next->wait, 10000000000LL);
	/* The next evaluation finishes it. */
	th_run_ok(c, "agent", 1);
	updated = 0;
	for (size_t i = 0; i < c->n_allocs; i++)
		updated += c->allocs[i]->jobversion == 1 &&
			   c->allocs[i]->desiredstatus ==
				   NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run;
	CHECK_INT(updated, 3);
	th_free(c);
}

/* A dry run of a system job says per group what it would do. */
NMD_TEST(test_sched_system__annotations)
{
	struct th_cluster *c = five_nodes();
	nomad_eval *e;
	nomad_error err;
	const Nomad__DesiredUpdates *du;
	th_register(c, system_job("agent", 100, 64, NOMAD__JOB_TYPE__system));
	th_run_ok(c, "agent", 1);
	th_add_node(c, "new", "dc1", 4000, 4096, 10000);
	th_register(c, system_job("agent", 200, 64, NOMAD__JOB_TYPE__system));
	e = th_eval(c, "agent");
	e->has_annotateplan = e->annotateplan = 1;
	CHECK_OK(th_run_eval(c, e, 1, &err));
	nomad_eval_free(e);
	CHECK(c->plans[c->n_plans - 1]->annotations != NULL);
	CHECK_INT(c->plans[c->n_plans - 1]->annotations->n_desiredtgupdates, 1);
	du = c->plans[c->n_plans - 1]->annotations->desiredtgupdates[0]->value;
	CHECK_INT(du->place, 1);
	CHECK_INT(du->destructiveupdate, 3);
	th_free(c);
}
