/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Preemption: which allocations a placement that does not fit evicts
 * (Nomad's priority groups, distance and max_parallel penalty, then the
 * superset filter), never one within 10 of the placing job's priority nor
 * of the same job; the plan's NodePreemptions and the allocations'
 * PreemptedAllocations / PreemptedByAllocation; the preemption score;
 * the `preemption` evaluations; a dry run's annotations; ports and
 * devices; and the configuration that turns it on per scheduler type.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "test.h"
#include "structs/pb.h"
#include "harness.h"

static struct th_cluster *one_node(int cpu)
{
	struct th_cluster *c = th_new();
	th_add_node(c, "n0", "dc1", cpu, 8192, 100000);
	return c;
}

/* A service job of `count` allocations at `priority`. */
static nomad_job *job_at(const char *id, int priority, int count, int cpu)
{
	nomad_job *j = th_job(id, count, cpu, 64);
	j->priority = priority;
	return j;
}

static void place(struct th_cluster *c, nomad_job *j, uint64_t seed)
{
	const char *id = j->id;
	th_register(c, j);
	th_run_ok(c, id, seed);
}

static nomad_job *system_job(const char *id, int priority, int cpu)
{
	nomad_job *j = job_at(id, priority, 1, cpu);
	j->type = NOMAD__JOB_TYPE__system;
	return j;
}

/* The allocation of `job` (live or not) with index 0. */
static nomad_alloc *alloc0(struct th_cluster *c, const char *job)
{
	char name[64];
	snprintf(name, sizeof(name), "%s.web[0]", job);
	for (size_t i = c->n_allocs; i-- > 0;)
		if (!strcmp(c->allocs[i]->name, name))
			return c->allocs[i];
	return NULL;
}

static bool evicted(const nomad_alloc *a)
{
	return a->desiredstatus == NOMAD__ALLOCATION__DESIRED_STATUS_KIND__evict;
}

/* The evaluations created with TriggeredBy "preemption" for `job`. */
static size_t preemption_evals(struct th_cluster *c, const char *job)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n_created; i++)
		n += !strcmp(c->created[i]->triggeredby, "preemption") &&
		     (!job || !strcmp(c->created[i]->jobid, job));
	return n;
}

/* A node of 4000 MHz full with low-a (priority 20, 1400 MHz), low-b (20,
 * 2000) and mid (45, 600). */
static struct th_cluster *full_node(void)
{
	struct th_cluster *c = one_node(4000);
	place(c, job_at("low-a", 20, 1, 1400), 1);
	place(c, job_at("low-b", 20, 1, 2000), 2);
	place(c, job_at("mid", 45, 1, 600), 3);
	CHECK_INT(c->n_allocs, 3);
	return c;
}

NMD_TEST(test_sched_preempt__system_job_evicts_by_distance)
{
	struct th_cluster *c = full_node();
	nomad_alloc *agent, *b;
	const nomad_plan *p;
	const nomad_eval *ev = NULL;
	place(c, system_job("agent", 50, 1500), 4);
	agent = alloc0(c, "agent");
	CHECK(agent != NULL);
	/* The greedy pass takes low-a (closest to 1500), which is not
	 * enough, then low-b; low-b alone covers the ask, so the superset
	 * filter keeps it only. mid is within 10 of 50. */
	b = alloc0(c, "low-b");
	CHECK(evicted(b));
	CHECK(!evicted(alloc0(c, "low-a")));
	CHECK(!evicted(alloc0(c, "mid")));
	CHECK_STR(b->preemptedbyallocation, agent->id);
	CHECK_INT(agent->n_preemptedallocations, 1);
	CHECK_STR(agent->preemptedallocations[0], b->id);
	/* In the plan: NodePreemptions, evict, with Nomad's description. */
	p = c->plans[c->n_plans - 1];
	CHECK_INT(p->n_nodepreemptions, 1);
	CHECK_STR(p->nodepreemptions[0]->key, c->nodes[0]->id);
	CHECK_INT(p->nodepreemptions[0]->value->n_items, 1);
	{
		const nomad_alloc *x = p->nodepreemptions[0]->value->items[0];
		char why[96];
		snprintf(why, sizeof(why), "Preempted by alloc ID %s", agent->id);
		CHECK_STR(x->id, b->id);
		CHECK_INT(x->desiredstatus,
			  NOMAD__ALLOCATION__DESIRED_STATUS_KIND__evict);
		CHECK_STR(x->desireddescription, why);
		CHECK_STR(x->jobid, "low-b");
	}
	/* One preemption evaluation, for low-b's job. */
	CHECK_INT(preemption_evals(c, NULL), 1);
	for (size_t i = 0; i < c->n_created; i++)
		if (!strcmp(c->created[i]->triggeredby, "preemption"))
			ev = c->created[i];
	CHECK_STR(ev->jobid, "low-b");
	CHECK_STR(ev->namespace_, "default");
	CHECK_INT(ev->type, NOMAD__JOB_TYPE__service);
	CHECK_INT(ev->priority, 20);
	CHECK_INT(ev->status, NOMAD__EVALUATION__STATUS_KIND__pending);
	th_free(c);
}

NMD_TEST(test_sched_preempt__score_is_appended)
{
	struct th_cluster *c = full_node();
	const nomad_alloc *agent;
	bool seen = false;
	/* net priority 20 + 20/20 = 21 */
	double want = 1.0 / (1.0 + exp(0.0048 * (21.0 - 2048.0)));
	place(c, system_job("agent", 50, 1500), 5);
	agent = alloc0(c, "agent");
	for (size_t i = 0; i < agent->metrics->n_scoremetadata; i++)
		for (size_t k = 0; k < agent->metrics->scoremetadata[i]->n_scores; k++) {
			const Nomad__FloatEntry *f =
				agent->metrics->scoremetadata[i]->scores[k];
			if (!strcmp(f->key, "preemption")) {
				CHECK(fabs(f->value - want) < 1e-9);
				seen = true;
			}
		}
	CHECK(seen);
	th_free(c);
}

NMD_TEST(test_sched_preempt__lowest_priority_group_first)
{
	/* p10 with 3000 MHz and p30 with exactly the ask: the p10 one goes,
	 * distance being compared within a priority only. */
	struct th_cluster *c = one_node(4000);
	place(c, job_at("p10", 10, 1, 3000), 1);
	place(c, job_at("p30", 30, 1, 1000), 2);
	place(c, system_job("agent", 50, 1000), 3);
	CHECK(evicted(alloc0(c, "p10")));
	CHECK(!evicted(alloc0(c, "p30")));
	CHECK_INT(th_running(c, "agent"), 1);
	th_free(c);
}

NMD_TEST(test_sched_preempt__several_when_one_is_not_enough)
{
	struct th_cluster *c = one_node(4000);
	place(c, job_at("a", 20, 1, 1000), 1);
	place(c, job_at("b", 20, 1, 1000), 2);
	place(c, job_at("c", 20, 1, 1000), 3);
	place(c, job_at("d", 20, 1, 1000), 4);
	place(c, system_job("agent", 50, 2500), 5);
	CHECK_INT(th_running(c, "agent"), 1);
	CHECK_INT(alloc0(c, "agent")->n_preemptedallocations, 3);
	CHECK_INT(preemption_evals(c, NULL), 3);
	CHECK_INT(th_running(c, "a") + th_running(c, "b") + th_running(c, "c") +
			  th_running(c, "d"), 1);
	th_free(c);
}

NMD_TEST(test_sched_preempt__never_within_ten)
{
	const Nomad__AllocationMetric *m;
	struct th_cluster *c = one_node(4000);
	place(c, job_at("p41", 41, 1, 4000), 1);
	place(c, system_job("agent", 50, 1000), 2);
	CHECK_INT(th_running(c, "agent"), 0);
	CHECK(!evicted(alloc0(c, "p41")));
	CHECK_INT(preemption_evals(c, NULL), 0);
	CHECK_INT(c->plans[c->n_plans - 1]->n_nodepreemptions, 0);
	m = th_failed_metric(th_last_update(c), "web");
	CHECK(m != NULL);
	CHECK_INT(th_entry(m->dimensionexhausted, m->n_dimensionexhausted,
			    "cpu"), 1);
	th_free(c);
	/* Exactly ten below is fair game. */
	c = one_node(4000);
	place(c, job_at("p40", 40, 1, 4000), 1);
	place(c, system_job("agent", 50, 1000), 2);
	CHECK_INT(th_running(c, "agent"), 1);
	CHECK(evicted(alloc0(c, "p40")));
	th_free(c);
}

NMD_TEST(test_sched_preempt__never_the_same_job)
{
	struct th_cluster *c = one_node(4000);
	th_set_preemption(c, true, false, false, true);
	place(c, job_at("low", 10, 1, 500), 1);
	/* big's second allocation does not fit: only low may go, and that
	 * frees too little; big's own first one is never a candidate. */
	place(c, job_at("big", 90, 2, 3000), 2);
	CHECK_INT(th_running(c, "big"), 1);
	CHECK_INT(th_running(c, "low"), 1);
	CHECK_INT(preemption_evals(c, NULL), 0);
	th_free(c);
}

NMD_TEST(test_sched_preempt__config_turns_it_on_and_off)
{
	struct th_cluster *c;
	/* Off for system jobs by configuration. */
	c = full_node();
	th_set_preemption(c, false, false, false, false);
	place(c, system_job("agent", 50, 1500), 4);
	CHECK_INT(th_running(c, "agent"), 0);
	CHECK_INT(th_running(c, "low-b"), 1);
	CHECK_INT(preemption_evals(c, NULL), 0);
	th_free(c);
	/* Service jobs: off by default... */
	c = full_node();
	place(c, job_at("svc", 50, 1, 1500), 4);
	CHECK_INT(th_running(c, "svc"), 0);
	CHECK_INT(th_running(c, "low-b"), 1);
	th_free(c);
	/* ...on when configured. */
	c = full_node();
	th_set_preemption(c, true, false, false, true);
	place(c, job_at("svc", 50, 1, 1500), 4);
	CHECK_INT(th_running(c, "svc"), 1);
	CHECK(evicted(alloc0(c, "low-b")));
	CHECK_INT(preemption_evals(c, "low-b"), 1);
	th_free(c);
	/* Batch and sysbatch follow their own switches. */
	c = full_node();
	th_set_preemption(c, false, false, true, false);
	{
		nomad_job *j = job_at("bat", 50, 1, 1500);
		j->type = NOMAD__JOB_TYPE__batch;
		place(c, j, 4);
	}
	CHECK_INT(th_running(c, "bat"), 1);
	th_free(c);
	c = full_node();
	th_set_preemption(c, true, false, false, false);
	{
		nomad_job *j = system_job("sb", 50, 1500);
		j->type = NOMAD__JOB_TYPE__sysbatch;
		place(c, j, 4);
	}
	CHECK_INT(th_running(c, "sb"), 0);
	th_free(c);
}

/* Two nodes, each with one allocation of x and one of y (priority 20,
 * 2000 MHz each, distinct hosts), x's group with migrate max_parallel
 * `mp`. */
static struct th_cluster *two_jobs_two_nodes(int mp)
{
	struct th_cluster *c = th_new();
	const char *ids[2] = {"x", "y"};
	th_add_node(c, "n0", "dc1", 4000, 8192, 100000);
	th_add_node(c, "n1", "dc1", 4000, 8192, 100000);
	for (int k = 0; k < 2; k++) {
		nomad_job *j = job_at(ids[k], 20, 2, 2000);
		Nomad__Constraint *dh =
			nmd_pb_new(&nomad__constraint__descriptor, NULL);
		CHECK(nmd_pb_set_string(NULL, &dh->operand, "distinct_hosts"));
		CHECK(NMD_PB_APPEND(NULL, j->constraints, j->n_constraints, dh));
		j->taskgroups[0]->migrate =
			nmd_pb_new(&nomad__migrate_strategy__descriptor, NULL);
		j->taskgroups[0]->migrate->has_maxparallel = 1;
		j->taskgroups[0]->migrate->maxparallel = k == 0 ? mp : 0;
		place(c, j, (uint64_t)k + 1);
		CHECK_INT(th_running(c, ids[k]), 2);
	}
	return c;
}

NMD_TEST(test_sched_preempt__max_parallel_spreads_the_evictions)
{
	struct th_cluster *c = two_jobs_two_nodes(1);
	place(c, system_job("agent", 50, 2000), 3);
	CHECK_INT(th_running(c, "agent"), 2);
	/* On the first node x goes (first among equals); on the second,
	 * evicting x again would exceed its max_parallel of 1: y goes. */
	CHECK_INT(th_running(c, "x"), 1);
	CHECK_INT(th_running(c, "y"), 1);
	CHECK_INT(preemption_evals(c, "x"), 1);
	CHECK_INT(preemption_evals(c, "y"), 1);
	th_free(c);
}

NMD_TEST(test_sched_preempt__one_eval_per_job)
{
	/* Without the penalty x goes on both nodes: one evaluation. */
	struct th_cluster *c = two_jobs_two_nodes(0);
	place(c, system_job("agent", 50, 2000), 3);
	CHECK_INT(th_running(c, "agent"), 2);
	CHECK_INT(th_running(c, "x"), 0);
	CHECK_INT(th_running(c, "y"), 2);
	CHECK_INT(preemption_evals(c, "x"), 1);
	CHECK_INT(preemption_evals(c, NULL), 1);
	th_free(c);
}

NMD_TEST(test_sched_preempt__dry_run_annotations)
{
	struct th_cluster *c = full_node();
	nomad_eval *e;
	const nomad_plan *p;
	const Nomad__PlanAnnotations *an;
	nomad_error err;
	th_register(c, system_job("agent", 50, 1500));
	e = th_eval(c, "agent");
	e->has_annotateplan = e->annotateplan = 1;
	CHECK_OK(th_run_eval(c, e, 6, &err));
	nomad_eval_free(e);
	p = c->plans[c->n_plans - 1];
	an = p->annotations;
	CHECK(an != NULL);
	CHECK_INT(an->n_desiredtgupdates, 1);
	CHECK_STR(an->desiredtgupdates[0]->key, "web");
	CHECK_INT(an->desiredtgupdates[0]->value->preemptions, 1);
	CHECK_INT(an->desiredtgupdates[0]->value->place, 1);
	CHECK_INT(an->n_preemptedallocs, 1);
	CHECK_STR(an->preemptedallocs[0]->jobid, "low-b");
	th_free(c);
}

/* A group network asking static port 8080. */
static void static_port(nomad_job *j, int port)
{
	Nomad__NetworkResource *net =
		nmd_pb_new(&nomad__network_resource__descriptor, NULL);
	Nomad__Port *p = nmd_pb_new(&nomad__port__descriptor, NULL);
	CHECK(nmd_pb_set_string(NULL, &p->label, "http"));
	p->has_value = 1;
	p->value = port;
	CHECK(NMD_PB_APPEND(NULL, net->reservedports, net->n_reservedports, p));
	CHECK(NMD_PB_APPEND(NULL, j->taskgroups[0]->networks,
			    j->taskgroups[0]->n_networks, net));
}

NMD_TEST(test_sched_preempt__reserved_port_holder_is_evicted)
{
	struct th_cluster *c = one_node(8000);
	nomad_job *low = job_at("low", 20, 1, 100), *agent;
	static_port(low, 8080);
	place(c, low, 1);
	place(c, job_at("other", 20, 1, 100), 2);
	agent = system_job("agent", 50, 100);
	static_port(agent, 8080);
	place(c, agent, 3);
	/* Room enough: only the port's holder goes. */
	CHECK_INT(th_running(c, "agent"), 1);
	CHECK(evicted(alloc0(c, "low")));
	CHECK_INT(th_running(c, "other"), 1);
	th_free(c);
}

NMD_TEST(test_sched_preempt__port_held_within_ten_fails)
{
	struct th_cluster *c = one_node(8000);
	nomad_job *mid = job_at("mid", 45, 1, 100), *agent;
	const Nomad__AllocationMetric *m;
	static_port(mid, 8080);
	place(c, mid, 1);
	agent = system_job("agent", 50, 100);
	static_port(agent, 8080);
	place(c, agent, 2);
	CHECK_INT(th_running(c, "agent"), 0);
	CHECK_INT(th_running(c, "mid"), 1);
	m = th_failed_metric(th_last_update(c), "web");
	CHECK(m != NULL);
	CHECK_INT(th_entry(m->dimensionexhausted, m->n_dimensionexhausted,
			    "network: reserved port collision http=8080"), 1);
	th_free(c);
}

static nomad_job *gpu(nomad_job *j, int n)
{
	th_ask_device(j->taskgroups[0]->tasks[0], "nvidia/gpu", n);
	return j;
}

NMD_TEST(test_sched_preempt__device_holder_is_evicted)
{
	struct th_cluster *c = th_new();
	nomad_node *n = th_add_node(c, "n0", "dc1", 8000, 8192, 100000);
	const nomad_alloc *a;
	th_add_devices(n, "nvidia", "gpu", "t4", 2);
	th_node_changed(c, n);
	place(c, gpu(job_at("low1", 20, 1, 100), 1), 1);
	place(c, gpu(job_at("low2", 30, 1, 100), 1), 2);
	place(c, gpu(system_job("agent", 50, 100), 1), 3);
	/* Of the two holders, the lower priority goes, and its instance
	 * is the one the new allocation gets. */
	CHECK_INT(th_running(c, "agent"), 1);
	CHECK(evicted(alloc0(c, "low1")));
	CHECK(!evicted(alloc0(c, "low2")));
	a = alloc0(c, "agent");
	CHECK_STR(a->allocatedresources->tasks[0]->value->devices[0]->deviceids[0],
		  alloc0(c, "low1")->allocatedresources->tasks[0]->value->devices[0]
			  ->deviceids[0]);
	CHECK_INT(preemption_evals(c, "low1"), 1);
	th_free(c);
}

NMD_TEST(test_sched_preempt__device_held_within_ten_fails)
{
	struct th_cluster *c = th_new();
	nomad_node *n = th_add_node(c, "n0", "dc1", 8000, 8192, 100000);
	const Nomad__AllocationMetric *m;
	th_add_devices(n, "nvidia", "gpu", "t4", 1);
	th_node_changed(c, n);
	place(c, gpu(job_at("mid", 45, 1, 100), 1), 1);
	place(c, gpu(system_job("agent", 50, 100), 1), 2);
	CHECK_INT(th_running(c, "agent"), 0);
	CHECK_INT(th_running(c, "mid"), 1);
	m = th_failed_metric(th_last_update(c), "web");
	CHECK(m != NULL);
	CHECK_INT(th_entry(m->dimensionexhausted, m->n_dimensionexhausted,
			    "devices: no devices match request"), 1);
	th_free(c);
}
