/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Update strategies through the generic scheduler: deployments created
 * and finished, rolling updates paced by max_parallel and health,
 * canaries and their promotion, deployments cancelled by a newer version
 * or a stop, paused and failed ones holding updates back, destructive
 * updates that do not fit left running, drains paced by the migrate
 * block, and Nomad's name bookkeeping.
 */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "structs/pb.h"
#include "harness.h"

#define DEP(x) NOMAD__DEPLOYMENT__STATUS_KIND__##x

/* A job with an update block on its group. */
static nomad_job *web(int count, int cpu, int max_parallel, int canary)
{
	nomad_job *j = th_job("web", count, cpu, 256);
	th_update(j, max_parallel, canary, false);
	return j;
}

/* Live allocations of the job at `version`. */
static size_t at_version(struct th_cluster *c, uint64_t version)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n_allocs; i++) {
		const nomad_alloc *a = c->allocs[i];
		n += a->desiredstatus == NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run &&
		     a->jobversion == version;
	}
	return n;
}

static const nomad_plan *last_plan(struct th_cluster *c)
{
	return c->n_plans ? c->plans[c->n_plans - 1] : NULL;
}

static size_t placed(const nomad_plan *p)
{
	size_t n = 0;
	for (size_t i = 0; p && i < p->n_nodeallocation; i++)
		for (size_t k = 0; k < p->nodeallocation[i]->value->n_items; k++)
			n += p->nodeallocation[i]->value->items[k]->createtime ==
			     p->nodeallocation[i]->value->items[k]->modifytime &&
			     !p->nodeallocation[i]->value->items[k]->createindex;
	return n;
}

static const Nomad__DeploymentState *group_state(const nomad_deployment *d)
{
	CHECK(d != NULL);
	CHECK_INT(d->n_taskgroups, 1);
	return d->taskgroups[0]->value;
}

/* A job's first run starts a deployment of all its allocations. */
NMD_TEST(test_sched_deployments__first_run_creates_one)
{
	struct th_cluster *c = th_cluster_of(3, 4000, 8192);
	const nomad_deployment *d;
	th_register(c, web(3, 100, 1, 0));
	th_run_ok(c, "web", 1);
	CHECK_INT(th_running(c, "web"), 3);
	d = th_deployment(c, "web");
	CHECK(d != NULL);
	CHECK_INT(d->status, DEP(running));
	CHECK_STR(d->statusdescription, "Deployment is running");
	CHECK_INT(d->jobversion, 0);
	CHECK_INT(group_state(d)->desiredtotal, 3);
	CHECK_INT(group_state(d)->placedallocs, 3);
	for (size_t i = 0; i < c->n_allocs; i++)
		CHECK_STR(c->allocs[i]->deploymentid, d->id);
	th_free(c);
}

NMD_TEST(test_sched_deployments__none_without_an_update_block)
{
	struct th_cluster *c = th_cluster_of(3, 4000, 8192);
	nomad_job *b = th_job("batch", 2, 100, 128);
	th_register(c, th_job("web", 3, 100, 256));
	th_run_ok(c, "web", 1);
	CHECK(th_deployment(c, "web") == NULL);
	/* Batch jobs never deploy, update block or not. */
	b->type = NOMAD__JOB_TYPE__batch;
	th_update(b, 1, 0, false);
	th_register(c, b);
	th_run_ok(c, "batch", 2);
	CHECK_INT(th_running(c, "batch"), 2);
	CHECK(th_deployment(c, "batch") == NULL);
	th_free(c);
}

/* Everything healthy: the next evaluation marks the deployment done. */
NMD_TEST(test_sched_deployments__succeeds_once_all_are_healthy)
{
	struct th_cluster *c = th_cluster_of(3, 4000, 8192);
	nomad_deployment *d;
	th_register(c, web(2, 100, 1, 0));
	th_run_ok(c, "web", 1);
	d = th_deployment(c, "web");
	th_run_ok(c, "web", 2); /* nothing healthy yet: still running */
	CHECK_INT(d->status, DEP(running));
	th_all_healthy(c, "web");
	th_run_ok(c, "web", 3);
	CHECK_INT(d->status, DEP(successful));
	CHECK_STR(d->statusdescription, "Deployment completed successfully");
	/* A successful deployment is over: no new one without a change. */
	th_run_ok(c, "web", 4);
	CHECK_INT(c->n_deployments, 1);
	th_free(c);
}

/* A destructive update replaces max_parallel allocations at a time, the
 * next batch only once the previous one is healthy. */
NMD_TEST(test_sched_deployments__rolling_update_paced_by_health)
{
	struct th_cluster *c = th_cluster_of(5, 8000, 8192);
	nomad_deployment *d;
	th_register(c, web(5, 100, 2, 0));
	th_run_ok(c, "web", 1);
	th_all_healthy(c, "web");
	th_run_ok(c, "web", 2);
	th_register(c, web(5, 200, 2, 0)); /* cpu change: destructive */
	th_run_ok(c, "web", 3);
	d = th_deployment(c, "web");
	CHECK_INT(d->jobversion, 1);
	CHECK_INT(group_state(d)->desiredtotal, 5);
	CHECK_INT(at_version(c, 1), 2);
	CHECK_INT(at_version(c, 0), 3);
	/* The lowest names go first, keeping their names. */
	CHECK_INT(th_alloc_named(c, "web.web[0]")->jobversion, 1);
	CHECK_INT(th_alloc_named(c, "web.web[1]")->jobversion, 1);
	CHECK_STR(th_alloc_named(c, "web.web[0]")->deploymentid, d->id);
	/* Not healthy yet: nothing more. */
	th_run_ok(c, "web", 4);
	CHECK_INT(at_version(c, 1), 2);
	th_all_healthy(c, "web");
	th_run_ok(c, "web", 5);
	CHECK_INT(at_version(c, 1), 4);
	th_all_healthy(c, "web");
	th_run_ok(c, "web", 6);
	CHECK_INT(at_version(c, 1), 5);
	CHECK_INT(at_version(c, 0), 0);
	CHECK_INT(th_running(c, "web"), 5);
	th_all_healthy(c, "web");
	th_run_ok(c, "web", 7);
	CHECK_INT(d->status, DEP(successful));
	th_free(c);
}

/* One unhealthy allocation of the deployment stops the rollout. */
NMD_TEST(test_sched_deployments__unhealthy_halts_the_rollout)
{
	struct th_cluster *c = th_cluster_of(4, 8000, 8192);
	th_register(c, web(4, 100, 2, 0));
	th_run_ok(c, "web", 1);
	th_all_healthy(c, "web");
	th_register(c, web(4, 300, 2, 0));
	th_run_ok(c, "web", 2);
	CHECK_INT(at_version(c, 1), 2);
	th_set_health(c, th_alloc_named(c, "web.web[0]"), false);
	th_set_health(c, th_alloc_named(c, "web.web[1]"), true);
	th_run_ok(c, "web", 3);
	CHECK_INT(at_version(c, 1), 2);
	CHECK_INT(at_version(c, 0), 2);
	th_free(c);
}

/* Canaries run beside the old version until promoted; then the rollout
 * goes on, and the old allocation a canary stands in for is stopped. */
NMD_TEST(test_sched_deployments__canaries_wait_for_promotion)
{
	struct th_cluster *c = th_cluster_of(4, 8000, 8192);
	const nomad_plan *p;
	nomad_deployment *d;
	const nomad_alloc *canary = NULL;
	th_register(c, web(3, 100, 1, 1));
	th_run_ok(c, "web", 1);
	th_all_healthy(c, "web");
	th_run_ok(c, "web", 2);
	th_register(c, web(3, 200, 1, 1));
	th_run_ok(c, "web", 3);
	p = last_plan(c);
	CHECK_INT(placed(p), 1);
	CHECK_INT(p->n_nodeupdate, 0); /* nothing old stopped */
	CHECK(p->deployment != NULL);
	CHECK_STR(p->deployment->statusdescription,
		  "Deployment is running but requires manual promotion");
	d = th_deployment(c, "web");
	CHECK_INT(group_state(d)->desiredcanaries, 1);
	CHECK_INT(group_state(d)->n_placedcanaries, 1);
	for (size_t i = 0; i < c->n_allocs; i++)
		if (c->allocs[i]->jobversion == 1)
			canary = c->allocs[i];
	CHECK(canary != NULL);
	CHECK(canary->deploymentstatus && canary->deploymentstatus->canary);
	CHECK_STR(canary->id, group_state(d)->placedcanaries[0]);
	CHECK_STR(canary->name, "web.web[0]"); /* the name it replaces */
	CHECK_INT(th_running(c, "web"), 4);
	/* Healthy but not promoted: nothing moves. */
	th_all_healthy(c, "web");
	th_run_ok(c, "web", 4);
	CHECK_INT(at_version(c, 1), 1);
	CHECK_INT(at_version(c, 0), 3);
	/* Promoted: the old web[0] goes, and one more is replaced. */
	th_promote(c, "web");
	th_run_ok(c, "web", 5);
	CHECK_INT(at_version(c, 0), 1);
	CHECK_INT(at_version(c, 1), 2);
	CHECK_INT(th_running(c, "web"), 3);
	th_all_healthy(c, "web");
	th_run_ok(c, "web", 6);
	CHECK_INT(at_version(c, 1), 3);
	th_all_healthy(c, "web");
	th_run_ok(c, "web", 7);
	CHECK_INT(d->status, DEP(successful));
	th_free(c);
}

NMD_TEST(test_sched_deployments__auto_promote_description)
{
	struct th_cluster *c = th_cluster_of(2, 8000, 8192);
	nomad_job *j = th_job("web", 2, 100, 256);
	th_update(j, 1, 1, false);
	th_register(c, j);
	th_run_ok(c, "web", 1);
	j = th_job("web", 2, 150, 256);
	th_update(j, 1, 1, true);
	th_register(c, j);
	th_run_ok(c, "web", 2);
	CHECK_STR(th_deployment(c, "web")->statusdescription,
		  "Deployment is running pending automatic promotion");
	CHECK(group_state(th_deployment(c, "web"))->autopromote);
	th_free(c);
}

/* A newer version cancels the running deployment; its unpromoted
 * canaries are stopped. */
NMD_TEST(test_sched_deployments__newer_version_cancels)
{
	struct th_cluster *c = th_cluster_of(4, 8000, 8192);
	nomad_deployment *first;
	char canary[NOMAD_UUID_LEN + 1];
	th_register(c, web(2, 100, 1, 1));
	th_run_ok(c, "web", 1);
	th_all_healthy(c, "web");
	th_register(c, web(2, 200, 1, 1));
	th_run_ok(c, "web", 2);
	first = th_deployment(c, "web");
	snprintf(canary, sizeof(canary), "%s",
		 group_state(first)->placedcanaries[0]);
	th_register(c, web(2, 300, 1, 1));
	th_run_ok(c, "web", 3);
	CHECK_INT(first->status, DEP(cancelled));
	CHECK_STR(first->statusdescription,
		  "Cancelled due to newer version of job");
	CHECK(th_deployment(c, "web") != first);
	CHECK_INT(th_deployment(c, "web")->jobversion, 2);
	for (size_t i = 0; i < c->n_allocs; i++)
		if (!strcmp(c->allocs[i]->id, canary))
			CHECK_INT(c->allocs[i]->desiredstatus,
				  NOMAD__ALLOCATION__DESIRED_STATUS_KIND__stop);
	/* The new version's canary takes its place. */
	CHECK_INT(at_version(c, 2), 1);
	CHECK_INT(at_version(c, 0), 2);
	th_free(c);
}

NMD_TEST(test_sched_deployments__stopped_job_cancels)
{
	struct th_cluster *c = th_cluster_of(2, 8000, 8192);
	nomad_job *j;
	th_register(c, web(2, 100, 1, 0));
	th_run_ok(c, "web", 1);
	j = web(2, 100, 1, 0);
	j->has_stop = j->stop = 1;
	th_register(c, j);
	th_run_ok(c, "web", 2);
	CHECK_INT(th_deployment(c, "web")->status, DEP(cancelled));
	CHECK_STR(th_deployment(c, "web")->statusdescription,
		  "Cancelled because job is stopped");
	CHECK_INT(th_running(c, "web"), 0);
	th_free(c);
}

/* A paused or failed deployment holds destructive updates back; a lost
 * allocation is still replaced. */
NMD_TEST(test_sched_deployments__paused_and_failed_hold_updates)
{
	static const int statuses[] = {DEP(paused), DEP(failed)};
	for (size_t s = 0; s < 2; s++) {
		struct th_cluster *c = th_cluster_of(4, 8000, 8192);
		nomad_alloc *lost;
		th_register(c, web(3, 100, 3, 0));
		th_run_ok(c, "web", 1);
		th_all_healthy(c, "web");
		th_register(c, web(3, 200, 1, 0));
		th_run_ok(c, "web", 2);
		CHECK_INT(at_version(c, 1), 1);
		th_deployment(c, "web")->status = statuses[s];
		th_all_healthy(c, "web");
		/* web[2] (old version) loses its node. */
		lost = th_alloc_named(c, "web.web[2]");
		CHECK_INT(lost->jobversion, 0);
		for (size_t k = 0; k < c->n_nodes; k++)
			if (!strcmp(c->nodes[k]->id, lost->nodeid)) {
				c->nodes[k]->status = NOMAD__NODE__STATUS_KIND__down;
				th_node_changed(c, c->nodes[k]);
			}
		th_run_ok(c, "web", 3);
		CHECK_INT(th_running(c, "web"), 3);
		CHECK_INT(at_version(c, 1), 2); /* web[0] and web[2]'s replacement */
		CHECK_INT(th_alloc_named(c, "web.web[1]")->jobversion, 0);
		th_free(c);
	}
}

/* A replacement that fits nowhere leaves the old allocation running. */
NMD_TEST(test_sched_deployments__unplaceable_update_keeps_the_old)
{
	struct th_cluster *c = th_cluster_of(1, 1000, 8192);
	const nomad_eval *done;
	th_register(c, web(1, 400, 1, 0));
	th_run_ok(c, "web", 1);
	th_all_healthy(c, "web");
	th_register(c, web(1, 1500, 1, 0)); /* larger than the node */
	th_run_ok(c, "web", 2);
	CHECK_INT(th_running(c, "web"), 1);
	CHECK_INT(at_version(c, 0), 1);
	done = th_last_update(c);
	CHECK(done && done->n_failedtgallocs == 1);
	th_free(c);
}

/* A change that needs no new allocation updates in place, and the
 * allocations join the new deployment with their health to tell again. */
NMD_TEST(test_sched_deployments__in_place_joins_the_deployment)
{
	struct th_cluster *c = th_cluster_of(2, 8000, 8192);
	nomad_job *j;
	th_register(c, web(2, 100, 1, 0));
	th_run_ok(c, "web", 1);
	th_all_healthy(c, "web");
	th_run_ok(c, "web", 2);
	j = web(2, 100, 1, 0);
	j->priority = 60; /* outside the group: in place */
	th_register(c, j);
	th_run_ok(c, "web", 3);
	CHECK_INT(at_version(c, 1), 2);
	CHECK_INT(c->n_deployments, 2);
	for (size_t i = 0; i < c->n_allocs; i++) {
		CHECK_STR(c->allocs[i]->deploymentid, th_deployment(c, "web")->id);
		CHECK(!c->allocs[i]->deploymentstatus ||
		      !c->allocs[i]->deploymentstatus->has_healthy);
	}
	th_free(c);
}

static void drain_node_of(struct th_cluster *c, const nomad_alloc *a)
{
	for (size_t k = 0; k < c->n_nodes; k++)
		if (!strcmp(c->nodes[k]->id, a->nodeid)) {
			c->nodes[k]->drainstrategy =
				nmd_pb_new(&nomad__drain_strategy__descriptor, NULL);
			th_node_changed(c, c->nodes[k]);
		}
}

/* Allocations on a draining node move migrate.max_parallel at a time,
 * while the rest of the group stays healthy; one marked to migrate (a
 * drain's deadline) moves at once. */
NMD_TEST(test_sched_deployments__drain_paced_by_migrate)
{
	struct th_cluster *c = th_new();
	nomad_node *busy;
	nomad_job *j;
	busy = th_add_node(c, "busy", "dc1", 8000, 8192, 100000);
	j = th_job("web", 3, 100, 256);
	th_register(c, j);
	th_run_ok(c, "web", 1);
	CHECK_INT(th_running_on(c, "web", busy->id), 3);
	th_add_node(c, "spare", "dc1", 8000, 8192, 100000);
	drain_node_of(c, th_alloc_named(c, "web.web[0]"));
	/* No health reported: nothing may leave. */
	th_run_ok(c, "web", 2);
	CHECK_INT(th_running_on(c, "web", busy->id), 3);
	/* Healthy: one at a time (max_parallel 1). */
	th_all_healthy(c, "web");
	th_run_ok(c, "web", 3);
	CHECK_INT(th_running_on(c, "web", busy->id), 2);
	CHECK_INT(th_running(c, "web"), 3);
	th_run_ok(c, "web", 4); /* its replacement is not healthy yet */
	CHECK_INT(th_running_on(c, "web", busy->id), 2);
	th_all_healthy(c, "web");
	th_run_ok(c, "web", 5);
	CHECK_INT(th_running_on(c, "web", busy->id), 1);
	/* The deadline: the drain marks the last one. */
	{
		nomad_alloc *last = NULL;
		for (size_t i = 0; i < c->n_allocs; i++)
			if (!strcmp(c->allocs[i]->nodeid, busy->id) &&
			    c->allocs[i]->desiredstatus ==
				    NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run)
				last = c->allocs[i];
		CHECK(last != NULL);
		last->desiredtransition =
			nmd_pb_new(&nomad__desired_transition__descriptor, NULL);
		last->desiredtransition->has_migrate = 1;
		last->desiredtransition->migrate = 1;
		th_run_ok(c, "web", 6);
	}
	CHECK_INT(th_running_on(c, "web", busy->id), 0);
	CHECK_INT(th_running(c, "web"), 3);
	th_free(c);
}

/* In an active deployment a failed allocation waits for the deployment
 * watcher to allow its reschedule. */
NMD_TEST(test_sched_deployments__failed_waits_for_the_watcher)
{
	struct th_cluster *c = th_cluster_of(3, 8000, 8192);
	nomad_job *j = web(2, 100, 1, 0);
	nomad_alloc *a;
	j->taskgroups[0]->reschedulepolicy =
		nmd_pb_new(&nomad__reschedule_policy__descriptor, NULL);
	j->taskgroups[0]->reschedulepolicy->has_unlimited = 1;
	j->taskgroups[0]->reschedulepolicy->unlimited = 1;
	th_register(c, j);
	th_run_ok(c, "web", 1);
	a = th_alloc_named(c, "web.web[1]");
	a->clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__failed;
	a->modifytime = 1700000000000000000LL - 60000000000LL;
	th_run_ok(c, "web", 2);
	CHECK_INT(th_running(c, "web"), 1);
	a->desiredtransition =
		nmd_pb_new(&nomad__desired_transition__descriptor, NULL);
	a->desiredtransition->has_reschedule = 1;
	a->desiredtransition->reschedule = 1;
	th_run_ok(c, "web", 3);
	CHECK_INT(th_running(c, "web"), 2);
	th_free(c);
}

/* Names are Nomad's: a group at its count keeps whatever names it has;
 * new placements take the lowest free ones. */
NMD_TEST(test_sched_deployments__names_kept_at_count)
{
	struct th_cluster *c = th_cluster_of(2, 8000, 8192);
	nomad_job *j;
	th_register(c, th_job("web", 4, 100, 256));
	th_run_ok(c, "web", 1);
	/* Scale to 3 stops web[3]; back to 4 places web[3] again. */
	j = th_job("web", 3, 100, 256);
	th_register(c, j);
	th_run_ok(c, "web", 2);
	CHECK_INT(th_running(c, "web"), 3);
	CHECK(th_alloc_named(c, "web.web[3]") == NULL);
	/* web[1] fails for good (no reschedule policy): it still counts. */
	th_alloc_named(c, "web.web[1]")->clientstatus =
		NOMAD__ALLOCATION__CLIENT_STATUS_KIND__failed;
	th_register(c, th_job("web", 4, 100, 256));
	th_run_ok(c, "web", 3);
	CHECK_INT(th_running(c, "web"), 3);
	{
		size_t named3 = 0;
		for (size_t i = 0; i < c->n_allocs; i++)
			named3 += !strcmp(c->allocs[i]->name, "web.web[3]") &&
				  c->allocs[i]->desiredstatus ==
					  NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run;
		CHECK_INT(named3, 1);
	}
	th_free(c);
}
