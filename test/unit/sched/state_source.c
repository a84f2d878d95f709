/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The scheduler over the state store, as the server will run it: the
 * store's scheduler source as state ops, and a planner that applies each
 * plan to the store. Placements land in the store and in its view, a
 * second evaluation sees them, and node changes between evaluations are
 * picked up.
 */
#include <stdio.h>
#include <string.h>

#include <nomad/state.h>

#include "test.h"
#include "structs/pb.h"
#include "harness.h"

struct store_planner {
	nomad_state *s;
	uint64_t index;
	nomad_plan_result *result;
	int plans, updates, blocked;
};

/* Commit the whole plan: its placements run plan->job. */
static nomad_err apply(void *ud, const nomad_plan *plan,
		       const nomad_plan_result **result)
{
	struct store_planner *p = ud;
	nomad_plan_result *r = nomad_plan_result_new();
	nomad_state_txn *txn;
	nomad_error err;
	for (size_t i = 0; i < plan->n_nodeallocation; i++) {
		Nomad__AllocationListEntry *e = NULL;
		CHECK_OK(nomad_msg_copy((ProtobufCMessage **)&e,
					&plan->nodeallocation[i]->base, NULL));
		for (size_t k = 0; k < e->value->n_items; k++)
			e->value->items[k]->job = plan->job; /* lent */
		CHECK(NMD_PB_APPEND(NULL, r->nodeallocation, r->n_nodeallocation, e));
	}
	for (size_t i = 0; i < plan->n_nodeupdate; i++) {
		Nomad__AllocationListEntry *e = NULL;
		CHECK_OK(nomad_msg_copy((ProtobufCMessage **)&e,
					&plan->nodeupdate[i]->base, NULL));
		CHECK(NMD_PB_APPEND(NULL, r->nodeupdate, r->n_nodeupdate, e));
	}
	if (plan->deployment)
		CHECK_OK(nomad_msg_copy((ProtobufCMessage **)&r->deployment,
					&plan->deployment->base, NULL));
	for (size_t i = 0; i < plan->n_deploymentupdates; i++) {
		Nomad__DeploymentStatusUpdate *u = NULL;
		CHECK_OK(nomad_msg_copy((ProtobufCMessage **)&u,
					&plan->deploymentupdates[i]->base, NULL));
		CHECK(NMD_PB_APPEND(NULL, r->deploymentupdates,
				    r->n_deploymentupdates, u));
	}
	CHECK_OK(nomad_state_txn_begin(p->s, ++p->index, &txn, &err));
	if (nomad_state_plan_apply(txn, r, NULL, 0, &err))
		nmd_test_fail(__FILE__, __LINE__, "apply: %s", err.message);
	CHECK_OK(nomad_state_txn_commit(txn, &err));
	for (size_t i = 0; i < r->n_nodeallocation; i++)
		for (size_t k = 0; k < r->nodeallocation[i]->value->n_items; k++)
			r->nodeallocation[i]->value->items[k]->job = NULL;
	nomad_plan_result_free(p->result);
	p->result = r;
	*result = r;
	p->plans++;
	return NOMAD_OK;
}

static nomad_err update(void *ud, const nomad_eval *e)
{
	((struct store_planner *)ud)->updates++;
	(void)e;
	return NOMAD_OK;
}

static nomad_err create(void *ud, const nomad_eval *e)
{
	((struct store_planner *)ud)->blocked++;
	(void)e;
	return NOMAD_OK;
}

static const nomad_sched_planner_ops planner = {
	NOMAD_SCHED_PLANNER_OPS_VERSION, apply, update, create, create};

static void put_node(struct store_planner *p, nomad_node *n)
{
	nomad_state_txn *txn;
	CHECK_OK(nomad_state_txn_begin(p->s, ++p->index, &txn, NULL));
	CHECK_OK(nomad_state_node_upsert(txn, n, NULL));
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
}

static void put_job(struct store_planner *p, nomad_job *j)
{
	nomad_state_txn *txn;
	CHECK_OK(nomad_state_txn_begin(p->s, ++p->index, &txn, NULL));
	CHECK_OK(nomad_state_job_upsert(txn, j, NULL));
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
}

static void schedule(struct store_planner *p, nomad_state_sched_source *src,
		     const char *job_id, uint64_t seed)
{
	nomad_sched_config cfg = NOMAD_SCHED_CONFIG_INIT;
	nomad_sched *sched;
	nomad_eval *e = nomad_eval_new();
	nomad_sched_input in = {e, 1700000000000000000LL, seed};
	nomad_error err;
	CHECK(nmd_pb_set_string(NULL, &e->id, "eeeeeeee-0000-4000-8000-000000000001"));
	CHECK(nmd_pb_set_string(NULL, &e->namespace_, "default"));
	CHECK(nmd_pb_set_string(NULL, &e->jobid, job_id));
	e->has_type = 1;
	e->type = NOMAD__JOB_TYPE__service;
	cfg.state = nomad_state_sched_ops();
	cfg.state_userdata = src;
	cfg.planner = &planner;
	cfg.planner_userdata = p;
	CHECK_OK(nomad_sched_new(&sched, &cfg, NULL));
	if (nomad_sched_process(sched, &in, &err))
		nmd_test_fail(__FILE__, __LINE__, "process: %s", err.message);
	nomad_sched_free(sched);
	nomad_eval_free(e);
}

static int count_live(const ProtobufCMessage *obj, void *ud)
{
	(void)obj;
	++*(int *)ud;
	return 0;
}

static int live_allocs(nomad_state *s, const char *job)
{
	nomad_state_snap *snap;
	int n = 0;
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_OK(nomad_state_allocs_by_job(snap, "default", job, 0, count_live,
					   &n, NULL));
	nomad_state_snap_close(snap);
	return n;
}

NMD_TEST(test_sched_state_source__schedules_through_the_store)
{
	char path[512];
	nomad_state_config cfg = NOMAD_STATE_CONFIG_INIT;
	struct store_planner p = {0};
	nomad_state_sched_source *src;
	/* Nodes and jobs as the harness builds them, stored for real. */
	struct th_cluster *c = th_new();
	snprintf(path, sizeof(path), "%s/state.db", nmd_test_tmpdir());
	cfg.path = path;
	CHECK_OK(nomad_state_open(&p.s, &cfg, NULL));
	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "n%d", i);
		put_node(&p, th_add_node(c, name, "dc1", 2000, 2048, 10000));
	}
	{
		nomad_job *j = th_job("web", 4, 1000, 1024);
		put_job(&p, j);
		nomad_job_free(j);
	}
	CHECK_OK(nomad_state_sched_source_new(p.s, &src, NULL));

	schedule(&p, src, "web", 7);
	CHECK_INT(p.plans, 1);
	CHECK_INT(live_allocs(p.s, "web"), 4);
	CHECK_INT(p.blocked, 0);

	/* The view now holds them: two more fit (3 nodes x 2), one blocks. */
	{
		nomad_job *j = th_job("web", 7, 1000, 1024);
		put_job(&p, j);
		nomad_job_free(j);
	}
	schedule(&p, src, "web", 8);
	CHECK_INT(live_allocs(p.s, "web"), 6);
	CHECK_INT(p.blocked, 1);

	/* A node drained between evaluations: its allocations stay until
	 * the group reports health (the migrate block's pacing), and the
	 * missing one still blocks. */
	{
		Nomad__DrainStrategy *d =
			nmd_pb_new(&nomad__drain_strategy__descriptor, NULL);
		nomad_state_txn *txn;
		CHECK_OK(nomad_state_txn_begin(p.s, ++p.index, &txn, NULL));
		CHECK_OK(nomad_state_node_drain(txn, c->nodes[0]->id, d, false,
						NULL));
		CHECK_OK(nomad_state_txn_commit(txn, NULL));
		nmd_pb_free(d, NULL);
	}
	schedule(&p, src, "web", 9);
	CHECK_INT(live_allocs(p.s, "web"), 6);
	CHECK_INT(p.blocked, 2);

	nomad_state_sched_source_free(src);
	nomad_plan_result_free(p.result);
	nomad_state_close(p.s);
	th_free(c);
}

/* The live allocations' IDs of a job at `version` (or any, -1). */
struct ids {
	char v[16][NOMAD_UUID_LEN + 1];
	const char *p[16];
	size_t n;
	long version;
};

static int collect_live(const ProtobufCMessage *obj, void *ud)
{
	const nomad_alloc *a = (const nomad_alloc *)obj;
	struct ids *ids = ud;
	if (a->desiredstatus == NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run &&
	    (ids->version < 0 || (long)a->jobversion == ids->version) &&
	    ids->n < 16) {
		snprintf(ids->v[ids->n], sizeof(ids->v[0]), "%s", a->id);
		ids->n++;
	}
	return 0;
}

static struct ids live_ids(nomad_state *s, long version)
{
	struct ids ids;
	nomad_state_snap *snap;
	memset(&ids, 0, sizeof(ids));
	ids.version = version;
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_OK(nomad_state_allocs_by_job(snap, "default", "web", 0,
					   collect_live, &ids, NULL));
	nomad_state_snap_close(snap);
	return ids;
}

static nomad_deployment *latest(nomad_state *s)
{
	nomad_state_snap *snap;
	nomad_deployment *d = NULL;
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_OK(nomad_state_deployment_latest(snap, "default", "web", &d));
	nomad_state_snap_close(snap);
	return d;
}

static void report_healthy(struct store_planner *p, const char *dep,
			   long version)
{
	struct ids ids = live_ids(p->s, version);
	nomad_state_txn *txn;
	for (size_t i = 0; i < ids.n; i++)
		ids.p[i] = ids.v[i]; /* into this copy */
	CHECK_OK(nomad_state_txn_begin(p->s, ++p->index, &txn, NULL));
	nomad_error err;
	if (nomad_state_deployment_alloc_health(txn, dep, ids.p, ids.n, NULL, 0,
						1, &err))
		nmd_test_fail(__FILE__, __LINE__, "health: %s", err.message);
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
}

/* A canary deployment end to end through the store: created by the
 * plan, its canary counted by the store, promoted through the store, the
 * rollout paced by health the store records, and marked successful. */
NMD_TEST(test_sched_state_source__canary_deployment_through_the_store)
{
	char path[512];
	nomad_state_config cfg = NOMAD_STATE_CONFIG_INIT;
	struct store_planner p = {0};
	nomad_state_sched_source *src;
	struct th_cluster *c = th_new();
	nomad_deployment *d;
	nomad_job *j;
	snprintf(path, sizeof(path), "%s/state.db", nmd_test_tmpdir());
	cfg.path = path;
	CHECK_OK(nomad_state_open(&p.s, &cfg, NULL));
	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "n%d", i);
		put_node(&p, th_add_node(c, name, "dc1", 4000, 4096, 10000));
	}
	CHECK_OK(nomad_state_sched_source_new(p.s, &src, NULL));
	j = th_job("web", 2, 100, 128);
	th_update(j, 1, 1, false);
	put_job(&p, j);
	nomad_job_free(j);
	schedule(&p, src, "web", 1);
	d = latest(p.s);
	CHECK(d != NULL);
	CHECK_INT(d->status, NOMAD__DEPLOYMENT__STATUS_KIND__running);
	report_healthy(&p, d->id, 0);
	nomad_deployment_free(d);

	/* A destructive change: one canary, counted by the store. */
	j = th_job("web", 2, 200, 128);
	th_update(j, 1, 1, false);
	put_job(&p, j);
	nomad_job_free(j);
	schedule(&p, src, "web", 2);
	d = latest(p.s);
	CHECK_INT(d->jobversion, 1);
	CHECK_INT(d->n_taskgroups, 1);
	CHECK_INT(d->taskgroups[0]->value->n_placedcanaries, 1);
	CHECK_INT(live_ids(p.s, 1).n, 1);
	CHECK_INT(live_ids(p.s, 0).n, 2);
	/* Healthy and promoted in the store: the rollout goes on. */
	report_healthy(&p, d->id, 1);
	{
		nomad_state_txn *txn;
		CHECK_OK(nomad_state_txn_begin(p.s, ++p.index, &txn, NULL));
		CHECK_OK(nomad_state_deployment_promote(txn, d->id, NULL, 0, true,
							NULL, NULL));
		CHECK_OK(nomad_state_txn_commit(txn, NULL));
	}
	schedule(&p, src, "web", 3);
	CHECK_INT(live_ids(p.s, 1).n, 2);
	CHECK_INT(live_ids(p.s, 0).n, 0);
	report_healthy(&p, d->id, 1);
	schedule(&p, src, "web", 4);
	nomad_deployment_free(d);
	d = latest(p.s);
	CHECK_INT(d->status, NOMAD__DEPLOYMENT__STATUS_KIND__successful);
	nomad_deployment_free(d);

	nomad_state_sched_source_free(src);
	nomad_plan_result_free(p.result);
	nomad_state_close(p.s);
	th_free(c);
}
