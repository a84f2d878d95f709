/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Host volumes: a group's "host" volume requests are placed only on
 * nodes with a host volume of that name, writable when the request is;
 * other nodes are filtered as "missing compatible host volumes". Also the
 * checker itself: per_alloc suffixes and volume types it leaves alone.
 */
#include <string.h>

#include "test.h"
#include "sched/sched_int.h"
#include "structs/pb.h"
#include "harness.h"

/* Each node takes one allocation at most. */
static void distinct_hosts(nomad_job *j)
{
	Nomad__Constraint *k = nmd_pb_new(&nomad__constraint__descriptor, NULL);
	CHECK(nmd_pb_set_string(NULL, &k->operand, "distinct_hosts"));
	CHECK(NMD_PB_APPEND(NULL, j->constraints, j->n_constraints, k));
}

/* Four nodes: "rw" with a writable "data", "ro" with a read-only one,
 * "other" with "logs" only, "none" with nothing. */
static struct th_cluster *cluster(void)
{
	struct th_cluster *c = th_new();
	nomad_node *n;
	n = th_add_node(c, "rw", "dc1", 8000, 8192, 100000);
	th_add_host_volume(n, "data", false);
	th_node_changed(c, n);
	n = th_add_node(c, "ro", "dc1", 8000, 8192, 100000);
	th_add_host_volume(n, "data", true);
	th_node_changed(c, n);
	n = th_add_node(c, "other", "dc1", 8000, 8192, 100000);
	th_add_host_volume(n, "logs", false);
	th_node_changed(c, n);
	th_add_node(c, "none", "dc1", 8000, 8192, 100000);
	return c;
}

static const char *node_name(struct th_cluster *c, const char *id)
{
	for (size_t k = 0; k < c->n_nodes; k++)
		if (!strcmp(c->nodes[k]->id, id))
			return c->nodes[k]->name;
	return "";
}

/* How many live allocations of `job` run on node `name`. */
static size_t on(struct th_cluster *c, const char *job, const char *name)
{
	for (size_t k = 0; k < c->n_nodes; k++)
		if (!strcmp(c->nodes[k]->name, name))
			return th_running_on(c, job, c->nodes[k]->id);
	return 0;
}

NMD_TEST(test_sched_feasible_volumes__read_write_needs_a_writable_volume)
{
	struct th_cluster *c = cluster();
	nomad_job *j = th_job("db", 3, 100, 64);
	const Nomad__AllocationMetric *m;
	th_ask_host_volume(j->taskgroups[0], "store", "data", false, false);
	distinct_hosts(j);
	th_register(c, j);
	th_run_ok(c, "db", 1);
	/* Only "rw" will do; the other two placements fail. */
	CHECK_INT(th_running(c, "db"), 1);
	CHECK_INT(on(c, "db", "rw"), 1);
	m = th_failed_metric(th_last_update(c), "web");
	CHECK(m != NULL);
	CHECK_INT(m->coalescedfailures, 1);
	CHECK_INT(th_entry(m->constraintfiltered, m->n_constraintfiltered,
			    NMD_WHY_HOST_VOLUMES), 3);
	CHECK_INT(th_entry(m->constraintfiltered, m->n_constraintfiltered,
			    "distinct_hosts"), 1);
	CHECK_INT(m->nodesfiltered, 4);
	th_free(c);
}

NMD_TEST(test_sched_feasible_volumes__read_only_takes_either)
{
	struct th_cluster *c = cluster();
	nomad_job *j = th_job("db", 4, 100, 64);
	const Nomad__AllocationMetric *m;
	distinct_hosts(j);
	th_ask_host_volume(j->taskgroups[0], "store", "data", true, false);
	th_register(c, j);
	th_run_ok(c, "db", 2);
	CHECK_INT(th_running(c, "db"), 2);
	CHECK_INT(on(c, "db", "rw"), 1);
	CHECK_INT(on(c, "db", "ro"), 1);
	m = th_failed_metric(th_last_update(c), "web");
	CHECK(m != NULL);
	CHECK_INT(th_entry(m->constraintfiltered, m->n_constraintfiltered,
			    NMD_WHY_HOST_VOLUMES), 2);
	th_free(c);
}

NMD_TEST(test_sched_feasible_volumes__every_request_must_be_met)
{
	struct th_cluster *c = cluster();
	nomad_job *j = th_job("db", 1, 100, 64);
	nomad_node *n;
	th_ask_host_volume(j->taskgroups[0], "store", "data", true, false);
	th_ask_host_volume(j->taskgroups[0], "journal", "logs", false, false);
	th_register(c, j);
	th_run_ok(c, "db", 3);
	/* No node has both yet. */
	CHECK_INT(th_running(c, "db"), 0);
	CHECK(th_failed_metric(th_last_update(c), "web") != NULL);
	CHECK_INT(c->n_created, 1);
	/* One that has: the blocked placement goes there. */
	n = th_add_node(c, "both", "dc1", 8000, 8192, 100000);
	th_add_host_volume(n, "data", true);
	th_add_host_volume(n, "logs", false);
	th_node_changed(c, n);
	th_run_ok(c, "db", 4);
	CHECK_INT(th_running(c, "db"), 1);
	CHECK_STR(node_name(c, th_alloc_named(c, "db.web[0]")->nodeid), "both");
	th_free(c);
}

NMD_TEST(test_sched_feasible_volumes__no_volumes_no_filter)
{
	struct th_cluster *c = cluster();
	nomad_job *j = th_job("plain", 4, 100, 64);
	const nomad_eval *done;
	/* A CSI request is not this checker's business. */
	th_ask_host_volume(j->taskgroups[0], "csi", "ebs", false, false);
	CHECK(nmd_pb_set_string(NULL, &j->taskgroups[0]->volumes[0]->value->type,
				"csi"));
	th_register(c, j);
	th_run_ok(c, "plain", 5);
	CHECK_INT(th_running(c, "plain"), 4);
	done = th_last_update(c);
	CHECK_INT(done->n_failedtgallocs, 0);
	for (size_t i = 0; i < c->n_allocs; i++) {
		const Nomad__AllocationMetric *m = c->allocs[i]->metrics;
		CHECK_INT(th_entry(m->constraintfiltered, m->n_constraintfiltered,
				    NMD_WHY_HOST_VOLUMES), 0);
	}
	th_free(c);
}

NMD_TEST(test_sched_feasible_volumes__checker_per_alloc_and_types)
{
	nomad_node *n = nomad_node_new();
	nomad_task_group *tg = nmd_pb_new(&nomad__task_group__descriptor, NULL);
	CHECK(nmd_pb_set_string(NULL, &n->name, "n"));
	th_add_host_volume(n, "data[1]", false);
	th_add_host_volume(n, "cache", true);
	CHECK(!nmd_volumes_wanted(tg));
	CHECK(nmd_volumes_feasible(tg, n, NULL));
	/* per_alloc: the source plus the allocation's index. */
	th_ask_host_volume(tg, "d", "data", false, true);
	CHECK(nmd_volumes_wanted(tg));
	CHECK(nmd_volumes_feasible(tg, n, "job.web[1]"));
	CHECK(!nmd_volumes_feasible(tg, n, "job.web[0]"));
	/* Without a name there is no suffix: "data" itself. */
	CHECK(!nmd_volumes_feasible(tg, n, NULL));
	/* A read-only host volume: read-only requests only. */
	th_ask_host_volume(tg, "c", "cache", true, false);
	CHECK(nmd_volumes_feasible(tg, n, "job.web[1]"));
	tg->volumes[1]->value->readonly = false;
	CHECK(!nmd_volumes_feasible(tg, n, "job.web[1]"));
	/* Other types are not looked at. */
	CHECK(nmd_pb_set_string(NULL, &tg->volumes[1]->value->type, "csi"));
	CHECK(nmd_volumes_feasible(tg, n, "job.web[1]"));
	/* A node without any host volume. */
	CHECK(!nmd_volumes_feasible(tg, NULL, "job.web[1]"));
	nomad_msg_free(&tg->base, NULL);
	nomad_node_free(n);
}

/* per_alloc through the scheduler: web[i] goes where "data[i]" is. */
NMD_TEST(test_sched_feasible_volumes__per_alloc_placements)
{
	struct th_cluster *c = th_new();
	nomad_node *n0 = th_add_node(c, "n0", "dc1", 4000, 4096, 10000);
	nomad_node *n1 = th_add_node(c, "n1", "dc1", 4000, 4096, 10000);
	nomad_job *j = th_job("web", 2, 100, 64);
	th_add_host_volume(n0, "data[1]", false);
	th_add_host_volume(n1, "data[0]", false);
	th_node_changed(c, n0);
	th_node_changed(c, n1);
	th_ask_host_volume(j->taskgroups[0], "d", "data", false, true);
	th_register(c, j);
	th_run_ok(c, "web", 1);
	CHECK_INT(th_running(c, "web"), 2);
	CHECK_STR(th_alloc_named(c, "web.web[0]")->nodeid, n1->id);
	CHECK_STR(th_alloc_named(c, "web.web[1]")->nodeid, n0->id);
	th_free(c);
}
