/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Scenarios for the generic scheduler, each through the public API over
 * the in-memory harness: what gets placed, stopped, replaced or updated,
 * what fails and how it is reported, and that a seed decides the plan.
 */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "structs/pb.h"
#include "harness.h"

NMD_TEST(test_sched_generic__places_a_new_job)
{
	struct th_cluster *c = th_cluster_of(4, 4000, 8192);
	const nomad_eval *done;
	th_register(c, th_job("web", 3, 500, 256));
	th_run_ok(c, "web", 1);
	CHECK_INT(th_running(c, "web"), 3);
	CHECK(th_alloc_named(c, "web.web[0]") != NULL);
	CHECK(th_alloc_named(c, "web.web[1]") != NULL);
	CHECK(th_alloc_named(c, "web.web[2]") != NULL);
	CHECK_INT(c->n_plans, 1);
	CHECK_INT(c->n_created, 0); /* nothing blocked */
	done = th_last_update(c);
	CHECK(done != NULL);
	CHECK_INT(done->status, NOMAD__EVALUATION__STATUS_KIND__complete);
	CHECK_INT(done->n_failedtgallocs, 0);
	{
		const nomad_alloc *a = th_alloc_named(c, "web.web[1]");
		CHECK_STR(a->taskgroup, "web");
		CHECK_STR(a->namespace_, "default");
		CHECK(a->metrics != NULL);
		CHECK(a->metrics->nodesevaluated >= 1);
		CHECK_INT(a->allocatedresources->tasks[0]->value->cpu->cpushares,
			  500);
		CHECK_INT(a->allocatedresources->shared->diskmb, 150);
	}
	/* Running it again changes nothing: no plan, evaluation complete. */
	th_run_ok(c, "web", 2);
	CHECK_INT(c->n_plans, 1);
	CHECK_INT(th_running(c, "web"), 3);
	th_free(c);
}

NMD_TEST(test_sched_generic__binpack_fills_a_node_before_the_next)
{
	/* Two nodes, each with room for 4; 4 allocations of a job whose
	 * anti-affinity is weak against the bin-pack gain: the service limit
	 * of 2 options means both nodes are scored every time. */
	struct th_cluster *c = th_cluster_of(2, 4000, 4096);
	nomad_job *j = th_job("pack", 4, 1000, 1024);
	th_register(c, j);
	th_run_ok(c, "pack", 3);
	CHECK_INT(th_running(c, "pack"), 4);
	/* No node is over-committed. */
	for (size_t k = 0; k < c->n_nodes; k++)
		CHECK(th_running_on(c, "pack", c->nodes[k]->id) <= 4);
	th_free(c);
}

NMD_TEST(test_sched_generic__exhausted_capacity_blocks_with_metrics)
{
	struct th_cluster *c = th_cluster_of(2, 4000, 1024);
	const nomad_eval *done;
	const Nomad__AllocationMetric *m;
	th_register(c, th_job("big", 3, 500, 1000));
	th_run_ok(c, "big", 1);
	CHECK_INT(th_running(c, "big"), 2); /* one per node: memory */
	CHECK_INT(c->n_created, 1);
	CHECK_INT(c->created[0]->status, NOMAD__EVALUATION__STATUS_KIND__blocked);
	CHECK_STR(c->created[0]->triggeredby, "queued-allocs");
	CHECK_STR(c->created[0]->previouseval, c->updated[0]->id);
	done = th_last_update(c);
	CHECK_INT(done->status, NOMAD__EVALUATION__STATUS_KIND__complete);
	CHECK_STR(done->blockedeval, c->created[0]->id);
	m = th_failed_metric(done, "web");
	CHECK(m != NULL);
	CHECK_INT(m->nodesexhausted, 2);
	CHECK_INT(th_entry(m->dimensionexhausted, m->n_dimensionexhausted,
			    "memory"), 2);
	CHECK_INT(done->n_queuedallocations, 1);
	CHECK_INT(done->queuedallocations[0]->value, 1);
	/* The blocked evaluation, run when nothing changed, stays blocked. */
	{
		nomad_error err;
		CHECK_OK(th_run_eval(c, c->created[0], 4, &err));
		CHECK_INT(c->n_reblocked, 1);
		CHECK_INT(c->n_created, 1);
	}
	th_free(c);
}

NMD_TEST(test_sched_generic__constraints_filter_nodes)
{
	struct th_cluster *c = th_cluster_of(4, 4000, 8192);
	nomad_job *j = th_job("linux-only", 4, 100, 100);
	Nomad__Constraint *k = nmd_pb_new(&nomad__constraint__descriptor, NULL);
	const Nomad__AllocationMetric *m;
	CHECK(nmd_pb_set_string(NULL, &k->ltarget, "${attr.kernel.name}"));
	CHECK(nmd_pb_set_string(NULL, &k->rtarget, "linux"));
	CHECK(nmd_pb_set_string(NULL, &k->operand, "="));
	CHECK(NMD_PB_APPEND(NULL, j->constraints, j->n_constraints, k));
	th_set_attr(c->nodes[0], "kernel.name", "windows");
	th_set_attr(c->nodes[1], "kernel.name", "darwin");
	th_node_changed(c, c->nodes[0]);
	th_node_changed(c, c->nodes[1]);
	th_register(c, j);
	th_run_ok(c, "linux-only", 1);
	CHECK_INT(th_running(c, "linux-only"), 4);
	CHECK_INT(th_running_on(c, "linux-only", c->nodes[0]->id), 0);
	CHECK_INT(th_running_on(c, "linux-only", c->nodes[1]->id), 0);
	/* Someone's metric saw a filtered node, named by the constraint. */
	for (size_t i = 0; i < c->n_allocs; i++) {
		m = c->allocs[i]->metrics;
		if (m->nodesfiltered) {
			CHECK(th_entry(m->constraintfiltered, m->n_constraintfiltered,
					"${attr.kernel.name} = linux") >= 1);
			break;
		}
	}
	th_free(c);
}

NMD_TEST(test_sched_generic__missing_driver_filters_nodes)
{
	struct th_cluster *c = th_cluster_of(2, 4000, 8192);
	nomad_job *j = th_job("java", 1, 100, 100);
	CHECK(nmd_pb_set_string(NULL, &j->taskgroups[0]->tasks[0]->driver, "java"));
	th_set_attr(c->nodes[1], "driver.java", "1");
	th_node_changed(c, c->nodes[1]);
	th_register(c, j);
	th_run_ok(c, "java", 5);
	CHECK_INT(th_running_on(c, "java", c->nodes[1]->id), 1);
	th_free(c);
}

NMD_TEST(test_sched_generic__scale_down_stops_highest_indexes)
{
	struct th_cluster *c = th_cluster_of(3, 4000, 8192);
	nomad_job *j;
	th_register(c, th_job("web", 5, 100, 100));
	th_run_ok(c, "web", 1);
	CHECK_INT(th_running(c, "web"), 5);
	j = th_job("web", 2, 100, 100);
	th_register(c, j);
	th_run_ok(c, "web", 2);
	CHECK_INT(th_running(c, "web"), 2);
	CHECK(th_alloc_named(c, "web.web[0]") != NULL);
	CHECK(th_alloc_named(c, "web.web[1]") != NULL);
	CHECK(th_alloc_named(c, "web.web[4]") == NULL);
	/* Scaling back up reuses the free indexes. */
	th_register(c, th_job("web", 3, 100, 100));
	th_run_ok(c, "web", 3);
	CHECK(th_alloc_named(c, "web.web[2]") != NULL);
	CHECK_INT(th_running(c, "web"), 3);
	th_free(c);
}

NMD_TEST(test_sched_generic__lost_allocations_are_replaced)
{
	struct th_cluster *c = th_cluster_of(3, 4000, 8192);
	nomad_alloc *old, *lost;
	char old_id[64];
	th_register(c, th_job("web", 1, 100, 100));
	th_run_ok(c, "web", 1);
	old = th_alloc_named(c, "web.web[0]");
	snprintf(old_id, sizeof(old_id), "%s", old->id);
	for (size_t k = 0; k < c->n_nodes; k++)
		if (!strcmp(c->nodes[k]->id, old->nodeid)) {
			c->nodes[k]->status = NOMAD__NODE__STATUS_KIND__down;
			th_node_changed(c, c->nodes[k]);
		}
	th_run_ok(c, "web", 2);
	lost = NULL;
	for (size_t i = 0; i < c->n_allocs; i++)
		if (!strcmp(c->allocs[i]->id, old_id))
			lost = c->allocs[i];
	CHECK(lost != NULL);
	CHECK_INT(lost->clientstatus, NOMAD__ALLOCATION__CLIENT_STATUS_KIND__lost);
	CHECK_INT(lost->desiredstatus, NOMAD__ALLOCATION__DESIRED_STATUS_KIND__stop);
	CHECK_INT(th_running(c, "web"), 1);
	CHECK_STR(th_alloc_named(c, "web.web[0]")->previousallocation, old_id);
	CHECK(strcmp(th_alloc_named(c, "web.web[0]")->nodeid, lost->nodeid) != 0);
	th_free(c);
}

NMD_TEST(test_sched_generic__draining_node_migrates)
{
	struct th_cluster *c = th_cluster_of(2, 4000, 8192);
	nomad_alloc *a;
	th_register(c, th_job("web", 1, 100, 100));
	th_run_ok(c, "web", 1);
	a = th_alloc_named(c, "web.web[0]");
	for (size_t k = 0; k < c->n_nodes; k++)
		if (!strcmp(c->nodes[k]->id, a->nodeid)) {
			c->nodes[k]->drainstrategy =
				nmd_pb_new(&nomad__drain_strategy__descriptor, NULL);
			th_node_changed(c, c->nodes[k]);
		}
	/* The drain marks it to migrate (its group reported no health, so
	 * only the drain's deadline moves it). */
	a->desiredtransition =
		nmd_pb_new(&nomad__desired_transition__descriptor, NULL);
	a->desiredtransition->has_migrate = a->desiredtransition->migrate = 1;
	{
		char node[64];
		snprintf(node, sizeof(node), "%s", a->nodeid);
		th_run_ok(c, "web", 2);
		CHECK_INT(th_running(c, "web"), 1);
		CHECK(strcmp(th_alloc_named(c, "web.web[0]")->nodeid, node) != 0);
	}
	th_free(c);
}

NMD_TEST(test_sched_generic__stopped_job_stops_everything)
{
	struct th_cluster *c = th_cluster_of(2, 4000, 8192);
	nomad_job *j;
	th_register(c, th_job("web", 3, 100, 100));
	th_run_ok(c, "web", 1);
	j = th_job("web", 3, 100, 100);
	j->has_stop = 1;
	j->stop = 1;
	th_register(c, j);
	th_run_ok(c, "web", 2);
	CHECK_INT(th_running(c, "web"), 0);
	CHECK_INT(c->plans[1]->n_nodeallocation, 0);
	th_free(c);
}

NMD_TEST(test_sched_generic__updates_destructive_and_in_place)
{
	struct th_cluster *c = th_cluster_of(2, 4000, 8192);
	nomad_job *j;
	char first[64];
	th_register(c, th_job("web", 2, 100, 100));
	th_run_ok(c, "web", 1);
	snprintf(first, sizeof(first), "%s", th_alloc_named(c, "web.web[0]")->id);
	/* A new kill timeout is an in-place update: same allocation. */
	j = th_job("web", 2, 100, 100);
	j->taskgroups[0]->tasks[0]->has_killtimeout = 1;
	j->taskgroups[0]->tasks[0]->killtimeout = 30000000000LL;
	th_register(c, j);
	th_run_ok(c, "web", 2);
	CHECK_STR(th_alloc_named(c, "web.web[0]")->id, first);
	CHECK_INT(th_alloc_named(c, "web.web[0]")->jobversion, 1);
	/* More memory is destructive: replaced by a new allocation. */
	j = th_job("web", 2, 100, 200);
	j->taskgroups[0]->tasks[0]->has_killtimeout = 1;
	j->taskgroups[0]->tasks[0]->killtimeout = 30000000000LL;
	th_register(c, j);
	th_run_ok(c, "web", 3);
	CHECK(strcmp(th_alloc_named(c, "web.web[0]")->id, first) != 0);
	CHECK_STR(th_alloc_named(c, "web.web[0]")->previousallocation, first);
	CHECK_INT(th_alloc_named(c, "web.web[0]")->jobversion, 2);
	CHECK_INT(th_running(c, "web"), 2);
	th_free(c);
}

NMD_TEST(test_sched_generic__static_and_dynamic_ports)
{
	struct th_cluster *c = th_cluster_of(1, 8000, 8192);
	nomad_job *j = th_job("ports", 3, 100, 100);
	Nomad__NetworkResource *net =
		nmd_pb_new(&nomad__network_resource__descriptor, NULL);
	Nomad__Port *dyn = nmd_pb_new(&nomad__port__descriptor, NULL);
	CHECK(nmd_pb_set_string(NULL, &dyn->label, "http"));
	CHECK(NMD_PB_APPEND(NULL, net->dynamicports, net->n_dynamicports, dyn));
	CHECK(NMD_PB_APPEND(NULL, j->taskgroups[0]->networks,
			    j->taskgroups[0]->n_networks, net));
	th_register(c, j);
	th_run_ok(c, "ports", 1);
	CHECK_INT(th_running(c, "ports"), 3);
	{
		int seen[3];
		for (int i = 0; i < 3; i++) {
			char name[32];
			const nomad_alloc *a;
			snprintf(name, sizeof(name), "ports.web[%d]", i);
			a = th_alloc_named(c, name);
			CHECK_INT(a->allocatedresources->shared->n_ports, 1);
			seen[i] = a->allocatedresources->shared->ports[0]->value;
			CHECK(seen[i] >= 20000 && seen[i] <= 32000);
			for (int k = 0; k < i; k++)
				CHECK(seen[k] != seen[i]);
		}
	}
	/* A static port fits once per node. */
	{
		nomad_job *s = th_job("static", 2, 100, 100);
		Nomad__NetworkResource *n2 =
			nmd_pb_new(&nomad__network_resource__descriptor, NULL);
		Nomad__Port *p = nmd_pb_new(&nomad__port__descriptor, NULL);
		const Nomad__AllocationMetric *m;
		CHECK(nmd_pb_set_string(NULL, &p->label, "db"));
		p->has_value = 1;
		p->value = 8080;
		CHECK(NMD_PB_APPEND(NULL, n2->reservedports, n2->n_reservedports, p));
		CHECK(NMD_PB_APPEND(NULL, s->taskgroups[0]->networks,
				    s->taskgroups[0]->n_networks, n2));
		th_register(c, s);
		th_run_ok(c, "static", 1);
		CHECK_INT(th_running(c, "static"), 1);
		m = th_failed_metric(th_last_update(c), "web");
		CHECK(m != NULL);
		CHECK_INT(th_entry(m->dimensionexhausted, m->n_dimensionexhausted,
				    "network: reserved port collision db=8080"), 1);
	}
	th_free(c);
}

NMD_TEST(test_sched_generic__distinct_hosts)
{
	struct th_cluster *c = th_cluster_of(2, 8000, 8192);
	nomad_job *j = th_job("spread-out", 3, 100, 100);
	Nomad__Constraint *k = nmd_pb_new(&nomad__constraint__descriptor, NULL);
	CHECK(nmd_pb_set_string(NULL, &k->operand, "distinct_hosts"));
	CHECK(NMD_PB_APPEND(NULL, j->constraints, j->n_constraints, k));
	th_register(c, j);
	th_run_ok(c, "spread-out", 1);
	CHECK_INT(th_running(c, "spread-out"), 2);
	CHECK_INT(th_running_on(c, "spread-out", c->nodes[0]->id), 1);
	CHECK_INT(th_running_on(c, "spread-out", c->nodes[1]->id), 1);
	CHECK(th_failed_metric(th_last_update(c), "web") != NULL);
	th_free(c);
}

NMD_TEST(test_sched_generic__completed_batch_allocations_stay_done)
{
	struct th_cluster *c = th_cluster_of(2, 4000, 8192);
	nomad_job *j = th_job("batch", 2, 100, 100);
	j->type = NOMAD__JOB_TYPE__batch;
	th_register(c, j);
	th_run_ok(c, "batch", 1);
	CHECK_INT(th_running(c, "batch"), 2);
	for (size_t i = 0; i < c->n_allocs; i++)
		c->allocs[i]->clientstatus =
			NOMAD__ALLOCATION__CLIENT_STATUS_KIND__complete;
	th_run_ok(c, "batch", 2);
	CHECK_INT(th_running(c, "batch"), 0);
	CHECK_INT(c->n_plans, 1); /* nothing to do */
	th_free(c);
}

/* Build the same cluster twice and run the same evaluation: the plans
 * are equal byte for byte; another seed places differently. */
static uint8_t *plan_bytes(uint64_t seed, size_t *len)
{
	struct th_cluster *c = th_cluster_of(50, 4000, 8192);
	uint8_t *out = NULL;
	th_register(c, th_job("det", 20, 300, 300));
	th_run_ok(c, "det", seed);
	CHECK_INT(c->n_plans, 1);
	nomad_job_free(c->plans[0]->job); /* compare the placements */
	c->plans[0]->job = NULL;
	CHECK_OK(nomad_plan_pack(c->plans[0], &out, len));
	th_free(c);
	return out;
}

NMD_TEST(test_sched_generic__same_seed_same_plan)
{
	size_t a_len, b_len, c_len;
	uint8_t *a = plan_bytes(99, &a_len), *b = plan_bytes(99, &b_len),
		*d = plan_bytes(100, &c_len);
	CHECK_INT(a_len, b_len);
	CHECK(memcmp(a, b, a_len) == 0);
	CHECK(a_len != c_len || memcmp(a, d, a_len) != 0);
	nomad_free(a);
	nomad_free(b);
	nomad_free(d);
}

NMD_TEST(test_sched_generic__rejected_node_exhausts_attempts)
{
	struct th_cluster *c = th_cluster_of(1, 4000, 8192);
	const nomad_eval *done;
	th_register(c, th_job("web", 1, 100, 100));
	c->reject_node = c->nodes[0]->id;
	th_run_ok(c, "web", 1);
	CHECK_INT(c->n_plans, 5); /* service: 5 attempts */
	done = th_last_update(c);
	CHECK_INT(done->status, NOMAD__EVALUATION__STATUS_KIND__failed);
	CHECK_STR(done->statusdescription, "maximum attempts reached (5)");
	CHECK_INT(c->n_created, 1);
	CHECK_STR(c->created[0]->triggeredby, "max-plan-attempts");
	CHECK_INT(th_running(c, "web"), 0);
	th_free(c);
}

NMD_TEST(test_sched_generic__bad_input)
{
	struct th_cluster *c = th_cluster_of(1, 4000, 8192);
	nomad_eval *e = th_eval(c, "nope");
	nomad_error err;
	nomad_sched *s;
	nomad_sched_config cfg = NOMAD_SCHED_CONFIG_INIT;
	/* An unknown type is refused, naming the evaluation. */
	e->type = (Nomad__JobType)99;
	CHECK_INT(th_run_eval(c, e, 1, &err), NOMAD_EINVAL);
	CHECK_CONTAINS(err.message, e->id);
	/* A job that does not exist: nothing to stop, evaluation complete. */
	e->type = NOMAD__JOB_TYPE__service;
	CHECK_OK(th_run_eval(c, e, 1, &err));
	CHECK_INT(th_last_update(c)->status,
		  NOMAD__EVALUATION__STATUS_KIND__complete);
	/* No job ID; no ops. */
	CHECK(nmd_pb_set_string(NULL, &e->jobid, ""));
	CHECK_INT(th_run_eval(c, e, 1, &err), NOMAD_EINVAL);
	CHECK_INT(nomad_sched_new(&s, &cfg, &err), NOMAD_EINVAL);
	CHECK(s == NULL);
	CHECK_INT(nomad_sched_new(&s, NULL, &err), NOMAD_EINVAL);
	nomad_eval_free(e);
	/* A node without resources is exhausted, not a crash. */
	th_add_node(c, "empty", "dc1", 0, 0, 0);
	th_register(c, th_job("web", 2, 100, 100));
	th_run_ok(c, "web", 1);
	CHECK_INT(th_running(c, "web"), 2);
	th_free(c);
}

/* Random clusters and jobs: no node is ever over-committed, and every
 * placement the capacity allows is made. */
NMD_TEST(test_sched_generic__random_clusters_never_overcommit)
{
	for (uint64_t seed = 1; seed <= 25; seed++) {
		struct th_cluster *c = th_new();
		uint64_t r = seed * 0x9e3779b97f4a7c15ULL;
		int n_nodes = 1 + (int)(r % 12), total_slots = 0, want = 0;
		for (int i = 0; i < n_nodes; i++) {
			char name[32];
			int slots = 1 + (int)((r >> (i % 40)) % 5);
			snprintf(name, sizeof(name), "n%d", i);
			th_add_node(c, name, "dc1", 1000 * slots, 1024 * slots, 100000);
			total_slots += slots;
		}
		for (int j = 0; j < 3; j++) {
			char id[16];
			int count = 1 + (int)((r >> (8 * j)) % 8);
			snprintf(id, sizeof(id), "job%d", j);
			th_register(c, th_job(id, count, 1000, 1024));
			th_run_ok(c, id, seed + (uint64_t)j);
			want += count;
		}
		/* Every slot fits exactly one allocation. */
		for (size_t k = 0; k < c->n_nodes; k++) {
			size_t on = 0;
			for (int j = 0; j < 3; j++) {
				char id[16];
				snprintf(id, sizeof(id), "job%d", j);
				on += th_running_on(c, id, c->nodes[k]->id);
			}
			CHECK((int64_t)on * 1000 <=
			      c->nodes[k]->noderesources->cpu->cpushares);
		}
		{
			size_t placed = th_running(c, "job0") + th_running(c, "job1") +
					th_running(c, "job2");
			CHECK_INT(placed, (size_t)(want < total_slots ? want
								       : total_slots));
		}
		th_free(c);
	}
}

static uint64_t desired(const nomad_plan *p, const char *tg, const char *what)
{
	const Nomad__DesiredUpdates *d = NULL;
	for (size_t i = 0; p->annotations && i < p->annotations->n_desiredtgupdates;
	     i++)
		if (!strcmp(p->annotations->desiredtgupdates[i]->key, tg))
			d = p->annotations->desiredtgupdates[i]->value;
	if (!d)
		return 0;
	if (!strcmp(what, "place"))
		return d->place;
	if (!strcmp(what, "stop"))
		return d->stop;
	if (!strcmp(what, "ignore"))
		return d->ignore;
	if (!strcmp(what, "destructive"))
		return d->destructiveupdate;
	if (!strcmp(what, "inplace"))
		return d->inplaceupdate;
	return 0;
}

/* A dry run (AnnotatePlan) says what it would do per group, as `job
 * plan` shows it. */
NMD_TEST(test_sched_generic__annotations_for_a_dry_run)
{
	struct th_cluster *c = th_cluster_of(3, 4000, 8192);
	nomad_eval *e;
	nomad_error err;
	th_register(c, th_job("web", 4, 100, 100));
	e = th_eval(c, "web");
	e->has_annotateplan = 1;
	e->annotateplan = 1;
	CHECK_OK(th_run_eval(c, e, 1, &err));
	CHECK_INT(desired(c->plans[0], "web", "place"), 4);
	nomad_eval_free(e);
	/* Scale to 2 with more memory: 2 stopped, 2 replaced destructively. */
	th_register(c, th_job("web", 2, 100, 200));
	e = th_eval(c, "web");
	e->has_annotateplan = 1;
	e->annotateplan = 1;
	CHECK_OK(th_run_eval(c, e, 2, &err));
	CHECK_INT(desired(c->plans[1], "web", "stop"), 2);
	CHECK_INT(desired(c->plans[1], "web", "destructive"), 2);
	CHECK_INT(desired(c->plans[1], "web", "place"), 0);
	nomad_eval_free(e);
	/* Without AnnotatePlan the plan carries none. */
	th_register(c, th_job("web", 3, 100, 200));
	CHECK_OK(th_run(c, "web", 3, &err));
	CHECK(c->plans[2]->annotations == NULL);
	th_free(c);
}

/* Once a group does not fit, its other placements are counted, not
 * searched for again (CoalescedFailures), and all of them are queued. */
NMD_TEST(test_sched_generic__failures_coalesce)
{
	struct th_cluster *c = th_cluster_of(2, 1000, 8192);
	const nomad_eval *done;
	const Nomad__AllocationMetric *m;
	th_register(c, th_job("web", 6, 400, 100));
	th_run_ok(c, "web", 1);
	CHECK_INT(th_running(c, "web"), 4);
	done = th_last_update(c);
	m = th_failed_metric(done, "web");
	CHECK(m != NULL);
	CHECK_INT(m->coalescedfailures, 1);
	CHECK_INT(m->nodesevaluated, 2);
	CHECK_INT(th_entry(done->queuedallocations, done->n_queuedallocations,
			    "web"), 2);
	th_free(c);
}
