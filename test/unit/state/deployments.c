/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Deployments in the state store: upsert and the reads (by ID, latest and
 * all of a job, listings), status updates with their job and evaluation,
 * canary promotion and its refusals, and allocation health counted into
 * the deployment. Promotion and health read and write allocations, so
 * those tests exercise allocs.c too.
 */
#include <nomad/state.h>

#include "test.h"
#include "fixtures.h"
#include "state/deployments_int.h"
#include "structs/pb.h"

/* Add group `name` wanting `canaries` canaries out of `total`. */
static Nomad__DeploymentState *add_group(nomad_deployment *d, const char *name,
					 int canaries, int total)
{
	Nomad__DeploymentStateEntry *e =
		nmd_pb_new(&nomad__deployment_state_entry__descriptor, NULL);
	Nomad__DeploymentState *st =
		nmd_pb_new(&nomad__deployment_state__descriptor, NULL);
	CHECK(e && st);
	CHECK(nmd_pb_set_string(NULL, &e->key, name));
	e->value = st;
	st->has_desiredcanaries = st->has_desiredtotal = 1;
	st->desiredcanaries = canaries;
	st->desiredtotal = total;
	CHECK(NMD_PB_APPEND(NULL, d->taskgroups, d->n_taskgroups, e));
	return st;
}

static nomad_deployment *new_deployment(unsigned n, const char *ns,
					const char *job_id)
{
	nomad_deployment *d = nomad_deployment_new();
	CHECK(d != NULL);
	CHECK(nmd_pb_set_string(NULL, &d->id, sf_uuid('d', n)));
	if (ns)
		CHECK(nmd_pb_set_string(NULL, &d->namespace_, ns));
	CHECK(nmd_pb_set_string(NULL, &d->jobid, job_id));
	d->has_status = 1;
	d->status = NOMAD__DEPLOYMENT__STATUS_KIND__running;
	CHECK(nmd_pb_set_string(NULL, &d->statusdescription,
				"Deployment is running but requires manual "
				"promotion"));
	return d;
}

static void put(nomad_state *s, uint64_t index, const nomad_deployment *d)
{
	nomad_state_txn *txn = sf_begin(s, index);
	nomad_error err;
	if (nomad_state_deployment_upsert(txn, d, &err))
		nmd_test_fail(__FILE__, __LINE__, "upsert: %s", err.message);
	sf_commit(txn);
}

static nomad_deployment *get(nomad_state *s, const char *id)
{
	nomad_state_snap *snap;
	nomad_deployment *d = NULL;
	nomad_err rc;
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	rc = nomad_state_deployment_get(snap, id, &d);
	CHECK(rc == NOMAD_OK || rc == NOMAD_ENOTFOUND);
	nomad_state_snap_close(snap);
	return d;
}

static Nomad__DeploymentState *group(const nomad_deployment *d,
				     const char *name)
{
	for (size_t i = 0; i < d->n_taskgroups; i++)
		if (strcmp(d->taskgroups[i]->key, name) == 0)
			return d->taskgroups[i]->value;
	nmd_test_fail(__FILE__, __LINE__, "no group %s", name);
}

NMD_TEST(test_state_deployments__upsert_and_get)
{
	nomad_state *s = sf_open(NULL);
	nomad_deployment *d = new_deployment(1, NULL, "web"), *got;
	nomad_state_snap *snap;
	nomad_state_txn *txn;
	nomad_error err;

	add_group(d, "web", 1, 3);
	put(s, 10, d);
	got = get(s, sf_uuid('d', 1));
	CHECK(got != NULL);
	CHECK_STR(got->namespace_, "default");
	CHECK_STR(got->jobid, "web");
	CHECK_INT(got->createindex, 10);
	CHECK_INT(got->modifyindex, 10);
	CHECK_INT(got->n_taskgroups, 1);
	CHECK_INT(group(got, "web")->desiredtotal, 3);
	nomad_deployment_free(got);
	/* The caller's deployment is untouched. */
	CHECK(!d->has_createindex && d->namespace_ == NULL);

	/* An update keeps CreateIndex. */
	d->status = NOMAD__DEPLOYMENT__STATUS_KIND__paused;
	put(s, 12, d);
	got = get(s, sf_uuid('d', 1));
	CHECK_INT(got->createindex, 10);
	CHECK_INT(got->modifyindex, 12);
	CHECK_INT(got->status, NOMAD__DEPLOYMENT__STATUS_KIND__paused);
	nomad_deployment_free(got);

	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_INT(nomad_state_snap_table_index(snap, NOMAD_TABLE_DEPLOYMENTS), 12);
	CHECK_INT(nomad_state_deployment_get(snap, sf_uuid('d', 2), &got),
		  NOMAD_ENOTFOUND);
	CHECK(got == NULL);
	CHECK_INT(nomad_state_deployment_get(snap, "nope", &got),
		  NOMAD_ENOTFOUND);
	nomad_state_snap_close(snap);

	txn = sf_begin(s, 13);
	CHECK(nmd_pb_set_string(NULL, &d->id, "deployment-1"));
	CHECK_INT(nomad_state_deployment_upsert(txn, d, &err), NOMAD_EINVAL);
	CHECK_CONTAINS(err.message, "not a UUID");
	CHECK(nmd_pb_set_string(NULL, &d->id, sf_uuid('d', 3)));
	CHECK(nmd_pb_set_string(NULL, &d->jobid, NULL));
	CHECK_INT(nomad_state_deployment_upsert(txn, d, &err), NOMAD_EINVAL);
	nomad_state_txn_abort(txn);
	nomad_deployment_free(d);
	nomad_state_close(s);
}

struct seen {
	unsigned n;
	char id[16][NOMAD_UUID_LEN + 1];
	uint64_t create[16];
	unsigned stop_after;
};

static int seen_cb(const ProtobufCMessage *obj, void *ud)
{
	const nomad_deployment *d = (const nomad_deployment *)obj;
	struct seen *c = ud;
	if (c->n < 16) {
		snprintf(c->id[c->n], sizeof(c->id[0]), "%s", d->id);
		c->create[c->n] = d->createindex;
	}
	c->n++;
	return c->stop_after && c->n == c->stop_after;
}

NMD_TEST(test_state_deployments__latest_and_by_job)
{
	nomad_state *s = sf_open(NULL);
	nomad_state_snap *snap;
	nomad_deployment *got;
	struct seen c = {0};

	/* Job web has three deployments; IDs do not follow their age. */
	static const unsigned order[] = {5, 2, 9};
	for (unsigned i = 0; i < 3; i++) {
		nomad_deployment *d = new_deployment(order[i], "default", "web");
		put(s, 10 + 10 * i, d);
		nomad_deployment_free(d);
	}
	{
		nomad_deployment *d = new_deployment(20, "default", "api");
		put(s, 50, d);
		nomad_deployment_free(d);
		d = new_deployment(21, "prod", "web");
		put(s, 60, d);
		nomad_deployment_free(d);
	}

	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_OK(nomad_state_deployment_latest(snap, NULL, "web", &got));
	CHECK_STR(got->id, sf_uuid('d', 9));
	CHECK_INT(got->createindex, 30);
	nomad_deployment_free(got);
	CHECK_OK(nomad_state_deployment_latest(snap, "prod", "web", &got));
	CHECK_STR(got->id, sf_uuid('d', 21));
	nomad_deployment_free(got);
	CHECK_INT(nomad_state_deployment_latest(snap, "default", "db", &got),
		  NOMAD_ENOTFOUND);
	CHECK(got == NULL);

	CHECK_OK(nomad_state_deployments_by_job(snap, "default", "web", seen_cb,
						&c, NULL));
	CHECK_INT(c.n, 3);
	CHECK_INT(c.create[0], 30);
	CHECK_INT(c.create[1], 20);
	CHECK_INT(c.create[2], 10);
	CHECK_STR(c.id[2], sf_uuid('d', 5));
	memset(&c, 0, sizeof(c));
	c.stop_after = 1;
	CHECK_INT(nomad_state_deployments_by_job(snap, NULL, "web", seen_cb, &c,
						 NULL),
		  NOMAD_EUSER);
	CHECK_INT(c.n, 1);
	memset(&c, 0, sizeof(c));
	CHECK_OK(nomad_state_deployments_by_job(snap, NULL, "db", seen_cb, &c,
						NULL));
	CHECK_INT(c.n, 0);
	nomad_state_snap_close(snap);
	nomad_state_close(s);
}

static nomad_err list(nomad_state *s, const nomad_state_list_options *o,
		      struct seen *c, char token[NOMAD_STATE_TOKEN_MAX])
{
	nomad_state_snap *snap;
	nomad_err rc;
	memset(c, 0, sizeof(*c));
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	rc = nomad_state_deployments_list(snap, o, seen_cb, c, token, NULL);
	nomad_state_snap_close(snap);
	return rc;
}

NMD_TEST(test_state_deployments__list)
{
	nomad_state *s = sf_open(NULL);
	nomad_state_list_options o = NOMAD_STATE_LIST_OPTIONS_INIT;
	char token[NOMAD_STATE_TOKEN_MAX];
	struct seen c;
	/* d1, d2, d3 in default; d4 in prod; e1 in default */
	for (unsigned i = 1; i <= 4; i++) {
		nomad_deployment *d = new_deployment(i, i == 4 ? "prod" : NULL,
						     "web");
		put(s, 10 + i, d);
		nomad_deployment_free(d);
	}
	{
		nomad_deployment *d = new_deployment(1, NULL, "api");
		CHECK(nmd_pb_set_string(NULL, &d->id, sf_uuid('e', 1)));
		put(s, 20, d);
		nomad_deployment_free(d);
	}

	CHECK_OK(list(s, NULL, &c, token));
	CHECK_INT(c.n, 4);
	CHECK_STR(c.id[0], sf_uuid('d', 1));
	CHECK_STR(c.id[3], sf_uuid('e', 1));
	CHECK_STR(token, "");
	o.ns = "prod";
	CHECK_OK(list(s, &o, &c, token));
	CHECK_INT(c.n, 1);
	CHECK_STR(c.id[0], sf_uuid('d', 4));
	o.ns = "*";
	CHECK_OK(list(s, &o, &c, token));
	CHECK_INT(c.n, 5);
	o.prefix = "d";
	CHECK_OK(list(s, &o, &c, token));
	CHECK_INT(c.n, 4);

	/* Pages of three over every namespace. */
	o.prefix = NULL;
	o.per_page = 3;
	CHECK_OK(list(s, &o, &c, token));
	CHECK_INT(c.n, 3);
	CHECK_STR(c.id[2], sf_uuid('d', 3));
	CHECK(strncmp(token, "d0000004", 8) == 0);
	o.next_token = token;
	CHECK_OK(list(s, &o, &c, token));
	CHECK_INT(c.n, 2);
	CHECK_STR(c.id[0], sf_uuid('d', 4));
	CHECK_STR(c.id[1], sf_uuid('e', 1));
	CHECK_STR(token, "");

	o.next_token = NULL;
	o.reverse = true;
	o.per_page = 0;
	o.ns = NULL;
	CHECK_OK(list(s, &o, &c, token));
	CHECK_INT(c.n, 4);
	CHECK_STR(c.id[0], sf_uuid('e', 1));
	CHECK_STR(c.id[3], sf_uuid('d', 1));
	nomad_state_close(s);
}

static nomad_eval *new_eval(unsigned n, const char *job_id)
{
	nomad_eval *e = nomad_eval_new();
	CHECK(e != NULL);
	CHECK(nmd_pb_set_string(NULL, &e->id, sf_uuid('e', n)));
	CHECK(nmd_pb_set_string(NULL, &e->namespace_, "default"));
	CHECK(nmd_pb_set_string(NULL, &e->jobid, job_id));
	CHECK(nmd_pb_set_string(NULL, &e->triggeredby, "deployment-watcher"));
	e->has_status = 1;
	e->status = NOMAD__EVALUATION__STATUS_KIND__pending;
	return e;
}

NMD_TEST(test_state_deployments__status_with_job_and_eval)
{
	nomad_state *s = sf_open(NULL);
	nomad_deployment *d = new_deployment(1, NULL, "web"), *got;
	Nomad__DeploymentStatusUpdate u = NOMAD__DEPLOYMENT_STATUS_UPDATE__INIT;
	nomad_eval *e = new_eval(1, "web"), *got_eval;
	nomad_job *job = nomad_job_new(), *got_job;
	nomad_state_snap *snap;
	nomad_state_txn *txn;
	nomad_error err;

	CHECK(nmd_pb_set_string(NULL, &job->id, "web"));
	CHECK(nmd_pb_set_string(NULL, &job->namespace_, "default"));
	put(s, 10, d);

	u.deploymentid = (char *)sf_uuid('d', 1);
	u.has_status = 1;
	u.status = NOMAD__DEPLOYMENT__STATUS_KIND__failed;
	u.statusdescription = (char *)"Failed due to unhealthy allocations";
	txn = sf_begin(s, 11);
	CHECK_OK(nomad_state_deployment_status(txn, &u, job, e, &err));
	sf_commit(txn);

	got = get(s, sf_uuid('d', 1));
	CHECK_INT(got->status, NOMAD__DEPLOYMENT__STATUS_KIND__failed);
	CHECK_STR(got->statusdescription, "Failed due to unhealthy allocations");
	CHECK_INT(got->createindex, 10);
	CHECK_INT(got->modifyindex, 11);
	nomad_deployment_free(got);
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_OK(nomad_state_job_get(snap, "default", "web", &got_job));
	CHECK_INT(got_job->createindex, 11);
	nomad_job_free(got_job);
	CHECK_OK(nomad_state_eval_get(snap, sf_uuid('e', 1), &got_eval));
	CHECK_STR(got_eval->triggeredby, "deployment-watcher");
	nomad_eval_free(got_eval);
	nomad_state_snap_close(snap);

	/* A terminal deployment takes no more updates. */
	txn = sf_begin(s, 12);
	u.status = NOMAD__DEPLOYMENT__STATUS_KIND__running;
	CHECK_INT(nomad_state_deployment_status(txn, &u, NULL, NULL, &err),
		  NOMAD_EINVAL);
	CHECK_CONTAINS(err.message, "has terminal status \"failed\"");
	u.deploymentid = (char *)sf_uuid('d', 2);
	CHECK_INT(nomad_state_deployment_status(txn, &u, NULL, NULL, &err),
		  NOMAD_ENOTFOUND);
	CHECK_CONTAINS(err.message, "couldn't be updated as it does not exist");
	u.has_status = 0;
	CHECK_INT(nomad_state_deployment_status(txn, &u, NULL, NULL, &err),
		  NOMAD_EINVAL);
	nomad_state_txn_abort(txn);

	nomad_eval_free(e);
	nomad_job_free(job);
	nomad_deployment_free(d);
	nomad_state_close(s);
}

/* Job "web" registered at `index`, its spec changed by `priority`. */
static void put_job(nomad_state *s, uint64_t index, int priority)
{
	nomad_job *j = nomad_job_new();
	nomad_state_txn *txn = sf_begin(s, index);
	CHECK(j != NULL);
	CHECK(nmd_pb_set_string(NULL, &j->id, "web"));
	CHECK(nmd_pb_set_string(NULL, &j->namespace_, "default"));
	j->has_priority = 1;
	j->priority = priority;
	CHECK_OK(nomad_state_job_upsert(txn, j, NULL));
	sf_commit(txn);
	nomad_job_free(j);
}

/* Set deployment `n`, of job "web" version `version`, to `status` at
 * `index`. */
static void deploy(nomad_state *s, uint64_t index, unsigned n,
		   uint64_t version, Nomad__Deployment__StatusKind status)
{
	nomad_deployment *d = new_deployment(n, NULL, "web");
	Nomad__DeploymentStatusUpdate u = NOMAD__DEPLOYMENT_STATUS_UPDATE__INIT;
	nomad_state_txn *txn;
	nomad_error err;
	d->has_jobversion = 1;
	d->jobversion = version;
	put(s, index, d);
	u.deploymentid = d->id;
	u.has_status = 1;
	u.status = status;
	u.statusdescription = (char *)"Deployment completed successfully";
	txn = sf_begin(s, index + 1);
	if (nomad_state_deployment_status(txn, &u, NULL, NULL, &err))
		nmd_test_fail(__FILE__, __LINE__, "status: %s", err.message);
	sf_commit(txn);
	nomad_deployment_free(d);
}

static nomad_job *job_at(nomad_state *s, int64_t version)
{
	nomad_state_snap *snap;
	nomad_job *j = NULL;
	nomad_err rc;
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	rc = version < 0
		     ? nomad_state_job_get(snap, "default", "web", &j)
		     : nomad_state_job_version_get(snap, "default", "web",
						   (uint64_t)version, &j);
	CHECK(rc == NOMAD_OK || rc == NOMAD_ENOTFOUND);
	nomad_state_snap_close(snap);
	return j;
}

/* Nomad's UpdateDeploymentStatus: a successful deployment marks the job
 * version it deployed stable (updateJobStabilityImpl), keeping Version and
 * JobModifyIndex and moving ModifyIndex; the current job follows when
 * that version is the current one. */
NMD_TEST(test_state_deployments__success_marks_the_version_stable)
{
	nomad_state *s = sf_open(NULL);
	nomad_state_subscribe_options so = NOMAD_STATE_SUBSCRIBE_OPTIONS_INIT;
	nomad_state_topic_filter f = {NOMAD_TOPIC_JOB, "*"};
	nomad_state_sub *sub;
	const nomad_state_event *ev;
	nomad_job *j;

	put_job(s, 10, 50); /* version 0 */
	put_job(s, 11, 51); /* version 1 */
	so.topics = &f;
	so.n_topics = 1;
	so.index = 20;
	CHECK_OK(nomad_state_subscribe(s, &so, NULL, NULL, &sub, NULL));

	/* A failed deployment changes nothing. */
	deploy(s, 20, 1, 1, NOMAD__DEPLOYMENT__STATUS_KIND__failed);
	j = job_at(s, -1);
	CHECK(!j->stable);
	CHECK_INT(j->modifyindex, 11);
	nomad_job_free(j);
	CHECK_INT(nomad_state_sub_next(sub, 0, &ev, NULL), NOMAD_ETIMEDOUT);

	/* The current version deployed: the job and its version row. */
	deploy(s, 30, 2, 1, NOMAD__DEPLOYMENT__STATUS_KIND__successful);
	j = job_at(s, -1);
	CHECK(j->stable);
	CHECK_INT(j->version, 1);
	CHECK_INT(j->modifyindex, 31);
	CHECK_INT(j->jobmodifyindex, 11);
	CHECK_INT(j->createindex, 10);
	nomad_job_free(j);
	j = job_at(s, 1);
	CHECK(j->stable);
	CHECK_INT(j->modifyindex, 31);
	nomad_job_free(j);
	j = job_at(s, 0);
	CHECK(!j->stable);
	nomad_job_free(j);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_JOBS), 31);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_JOB_VERSIONS), 31);
	/* One Job event, typed by the log entry, with the stable job. */
	CHECK_OK(nomad_state_sub_next(sub, 0, &ev, NULL));
	CHECK_STR(ev->type, NOMAD_EVENT_DEPLOYMENT_STATUS);
	CHECK_STR(ev->key, "web");
	CHECK_INT(ev->index, 31);
	CHECK(((const nomad_job *)ev->payload)->stable);
	CHECK_INT(nomad_state_sub_next(sub, 0, &ev, NULL), NOMAD_ETIMEDOUT);

	/* An older version deployed: only its row, no Job event. */
	put_job(s, 40, 52); /* version 2 */
	CHECK_OK(nomad_state_sub_next(sub, 0, &ev, NULL));
	deploy(s, 50, 3, 0, NOMAD__DEPLOYMENT__STATUS_KIND__successful);
	j = job_at(s, 0);
	CHECK(j->stable);
	CHECK_INT(j->modifyindex, 51);
	CHECK_INT(j->version, 0);
	nomad_job_free(j);
	j = job_at(s, -1);
	CHECK(!j->stable);
	CHECK_INT(j->version, 2);
	CHECK_INT(j->modifyindex, 40);
	nomad_job_free(j);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_JOBS), 40);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_JOB_VERSIONS), 51);
	CHECK_INT(nomad_state_sub_next(sub, 0, &ev, NULL), NOMAD_ETIMEDOUT);

	/* Already stable: nothing is written again. */
	deploy(s, 60, 4, 0, NOMAD__DEPLOYMENT__STATUS_KIND__successful);
	j = job_at(s, 0);
	CHECK_INT(j->modifyindex, 51);
	nomad_job_free(j);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_JOB_VERSIONS), 51);

	/* A version pruned away, or a job purged, is skipped. */
	deploy(s, 70, 5, 9, NOMAD__DEPLOYMENT__STATUS_KIND__successful);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_JOB_VERSIONS), 51);
	{
		nomad_state_txn *txn = sf_begin(s, 80);
		CHECK_OK(nomad_state_job_delete(txn, "default", "web", NULL));
		sf_commit(txn);
	}
	CHECK_OK(nomad_state_sub_next(sub, 0, &ev, NULL));
	CHECK_STR(ev->type, NOMAD_EVENT_JOB_DEREGISTERED);
	deploy(s, 90, 6, 2, NOMAD__DEPLOYMENT__STATUS_KIND__successful);
	CHECK(job_at(s, -1) == NULL);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_JOB_VERSIONS), 80);

	nomad_state_sub_close(sub);
	nomad_state_close(s);
}

static int version_cb(const ProtobufCMessage *obj, void *ud)
{
	uint64_t *v = ud;
	v[++v[0]] = ((const nomad_job *)obj)->version;
	return 0;
}

/* The version a successful deployment made stable is the revert target
 * that version pruning keeps: six versions stay, the newest stable one
 * among them however old it is. */
NMD_TEST(test_state_deployments__stable_version_survives_pruning)
{
	nomad_state *s = sf_open(NULL);
	nomad_state_snap *snap;
	uint64_t v[16] = {0};
	put_job(s, 10, 50); /* version 0 */
	put_job(s, 11, 51); /* version 1 */
	deploy(s, 12, 1, 1, NOMAD__DEPLOYMENT__STATUS_KIND__successful);
	for (int i = 2; i <= 9; i++)
		put_job(s, 20 + (uint64_t)i, 50 + i);
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_OK(nomad_state_job_versions(snap, "default", "web", version_cb,
					  v, NULL));
	nomad_state_snap_close(snap);
	CHECK_INT(v[0], 6);
	CHECK_INT(v[1], 9);
	CHECK_INT(v[5], 5);
	CHECK_INT(v[6], 1);
	nomad_state_close(s);
}

/* Allocation `n` of group `tg` in deployment `dep`, a canary or not. */
static nomad_alloc *new_alloc(unsigned n, const char *dep, const char *tg,
			      bool canary)
{
	nomad_alloc *a = nomad_alloc_new();
	CHECK(nmd_pb_set_string(NULL, &a->id, sf_uuid('a', n)));
	CHECK(nmd_pb_set_string(NULL, &a->nodeid, sf_uuid('c', 1)));
	CHECK(nmd_pb_set_string(NULL, &a->evalid, sf_uuid('e', 1)));
	CHECK(nmd_pb_set_string(NULL, &a->jobid, "web"));
	CHECK(nmd_pb_set_string(NULL, &a->namespace_, "default"));
	CHECK(nmd_pb_set_string(NULL, &a->taskgroup, tg));
	CHECK(nmd_pb_set_string(NULL, &a->deploymentid, dep));
	a->has_desiredstatus = a->has_clientstatus = 1;
	a->desiredstatus = NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run;
	a->clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__running;
	if (canary) {
		a->deploymentstatus =
			nmd_pb_new(&nomad__alloc_deployment_status__descriptor,
				   NULL);
		CHECK(a->deploymentstatus != NULL);
		a->deploymentstatus->has_canary = 1;
		a->deploymentstatus->canary = 1;
	}
	return a;
}

static void put_allocs(nomad_state *s, uint64_t index, nomad_alloc **as,
		       size_t n)
{
	nomad_state_txn *txn = sf_begin(s, index);
	nomad_error err;
	if (nomad_state_allocs_upsert(txn, as, n, &err))
		nmd_test_fail(__FILE__, __LINE__, "allocs: %s", err.message);
	sf_commit(txn);
	for (size_t i = 0; i < n; i++)
		nomad_alloc_free(as[i]);
}

static nomad_alloc *get_alloc(nomad_state *s, const char *id)
{
	nomad_state_snap *snap;
	nomad_alloc *a;
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_OK(nomad_state_alloc_get(snap, id, false, &a));
	nomad_state_snap_close(snap);
	return a;
}

static void add_canary(Nomad__DeploymentState *st, const char *id)
{
	char *copy = strdup(id);
	CHECK(copy != NULL);
	CHECK(NMD_PB_APPEND(NULL, st->placedcanaries, st->n_placedcanaries,
			    copy));
}

/*
 * Deployment d1 of job web: group web wants 2 canaries (a1, a2 placed)
 * of 4, group api wants none. a3 is an old allocation of web. The
 * allocations are placed at 11, the deployment at 10.
 */
static void canary_setup(nomad_state *s)
{
	nomad_deployment *d = new_deployment(1, NULL, "web");
	Nomad__DeploymentState *web = add_group(d, "web", 2, 4);
	nomad_alloc *as[4];
	add_group(d, "api", 0, 2);
	add_canary(web, sf_uuid('a', 1));
	add_canary(web, sf_uuid('a', 2));
	put(s, 10, d);
	as[0] = new_alloc(1, sf_uuid('d', 1), "web", true);
	as[1] = new_alloc(2, sf_uuid('d', 1), "web", true);
	as[2] = new_alloc(3, sf_uuid('d', 1), "web", false);
	as[3] = new_alloc(4, sf_uuid('d', 1), "api", false);
	put_allocs(s, 11, as, 4);
	nomad_deployment_free(d);
}

static nomad_err health(nomad_state *s, uint64_t index, const char *healthy,
			const char *unhealthy, int64_t ts, nomad_error *err)
{
	nomad_state_txn *txn = sf_begin(s, index);
	nomad_err rc = nomad_state_deployment_alloc_health(
		txn, sf_uuid('d', 1), &healthy, healthy ? 1 : 0, &unhealthy,
		unhealthy ? 1 : 0, ts, err);
	if (rc == NOMAD_OK)
		sf_commit(txn);
	else
		nomad_state_txn_abort(txn);
	return rc;
}

/* Needs allocs.c (nmd_alloc_get_txn, nmd_allocs_set_deployment_status). */
NMD_TEST(test_state_deployments__promote)
{
	nomad_state *s = sf_open(NULL);
	const char *groups[] = {"web"};
	nomad_eval *e = new_eval(2, "web"), *got_eval;
	nomad_deployment *got;
	nomad_alloc *a;
	nomad_state_snap *snap;
	nomad_state_txn *txn;
	nomad_error err;

	canary_setup(s);
	CHECK_OK(health(s, 12, sf_uuid('a', 1), NULL, INT64_C(1700000000000000000),
			NULL));
	CHECK_OK(health(s, 13, sf_uuid('a', 2), NULL, INT64_C(1700000001000000000),
			NULL));

	txn = sf_begin(s, 14);
	CHECK_OK(nomad_state_deployment_promote(txn, sf_uuid('d', 1), groups, 1,
						false, e, &err));
	sf_commit(txn);

	got = get(s, sf_uuid('d', 1));
	CHECK(group(got, "web")->promoted);
	CHECK(!group(got, "api")->promoted);
	CHECK_STR(got->statusdescription, "Deployment is running");
	CHECK_INT(got->modifyindex, 14);
	nomad_deployment_free(got);
	for (unsigned i = 1; i <= 2; i++) {
		a = get_alloc(s, sf_uuid('a', i));
		CHECK(a->deploymentstatus != NULL);
		CHECK(a->deploymentstatus->has_canary);
		CHECK(!a->deploymentstatus->canary);
		CHECK(a->deploymentstatus->healthy);
		CHECK_INT(a->deploymentstatus->modifyindex, 14);
		nomad_alloc_free(a);
	}
	a = get_alloc(s, sf_uuid('a', 1));
	CHECK_INT(a->deploymentstatus->timestamp->seconds, 1700000000);
	nomad_alloc_free(a);
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_OK(nomad_state_eval_get(snap, sf_uuid('e', 2), &got_eval));
	nomad_eval_free(got_eval);
	nomad_state_snap_close(snap);

	/* Promoting a group without canaries, alone: nothing to promote. */
	groups[0] = "api";
	txn = sf_begin(s, 15);
	CHECK_INT(nomad_state_deployment_promote(txn, sf_uuid('d', 1), groups, 1,
						 false, NULL, &err),
		  NOMAD_EINVAL);
	CHECK_CONTAINS(err.message, "no canaries to promote");
	CHECK_INT(nomad_state_deployment_promote(txn, sf_uuid('d', 9), groups, 1,
						 false, NULL, &err),
		  NOMAD_ENOTFOUND);
	nomad_state_txn_abort(txn);
	nomad_eval_free(e);
	nomad_state_close(s);
}

/* Needs allocs.c. */
NMD_TEST(test_state_deployments__promote_refuses_unhealthy_canaries)
{
	nomad_state *s = sf_open(NULL);
	nomad_deployment *got;
	nomad_alloc *a;
	nomad_state_txn *txn;
	nomad_error err;

	canary_setup(s);
	/* No health yet at all. */
	txn = sf_begin(s, 12);
	CHECK_INT(nomad_state_deployment_promote(txn, sf_uuid('d', 1), NULL, 0,
						 true, NULL, &err),
		  NOMAD_EINVAL);
	CHECK_CONTAINS(err.message,
		       "Task group \"web\" has 0/2 healthy allocations");
	nomad_state_txn_abort(txn);

	/* One healthy, one unhealthy. */
	CHECK_OK(health(s, 13, sf_uuid('a', 1), sf_uuid('a', 2), 1, NULL));
	txn = sf_begin(s, 14);
	CHECK_INT(nomad_state_deployment_promote(txn, sf_uuid('d', 1), NULL, 0,
						 true, NULL, &err),
		  NOMAD_EINVAL);
	CHECK_CONTAINS(err.message,
		       "Task group \"web\" has 1/2 healthy allocations");
	nomad_state_txn_abort(txn);

	/* Nothing changed. */
	got = get(s, sf_uuid('d', 1));
	CHECK(!group(got, "web")->promoted);
	CHECK_INT(got->modifyindex, 13);
	nomad_deployment_free(got);
	a = get_alloc(s, sf_uuid('a', 1));
	CHECK(a->deploymentstatus->canary);
	nomad_alloc_free(a);

	/* A healthy canary that has since stopped does not count. */
	CHECK_OK(health(s, 15, sf_uuid('a', 2), NULL, 2, NULL));
	{
		nomad_alloc *u = nomad_alloc_new();
		CHECK(nmd_pb_set_string(NULL, &u->id, sf_uuid('a', 2)));
		u->has_clientstatus = 1;
		u->clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__failed;
		txn = sf_begin(s, 16);
		CHECK_OK(nomad_state_allocs_client_update(txn, &u, 1, NULL));
		sf_commit(txn);
		nomad_alloc_free(u);
	}
	txn = sf_begin(s, 17);
	CHECK_INT(nomad_state_deployment_promote(txn, sf_uuid('d', 1), NULL, 0,
						 true, NULL, &err),
		  NOMAD_EINVAL);
	CHECK_CONTAINS(err.message, "has 1/2 healthy allocations");
	nomad_state_txn_abort(txn);

	/* A terminal deployment is refused first. */
	{
		Nomad__DeploymentStatusUpdate u = NOMAD__DEPLOYMENT_STATUS_UPDATE__INIT;
		u.deploymentid = (char *)sf_uuid('d', 1);
		u.has_status = 1;
		u.status = NOMAD__DEPLOYMENT__STATUS_KIND__cancelled;
		txn = sf_begin(s, 18);
		CHECK_OK(nomad_state_deployment_status(txn, &u, NULL, NULL, NULL));
		CHECK_INT(nomad_state_deployment_promote(txn, sf_uuid('d', 1), NULL,
							 0, true, NULL, &err),
			  NOMAD_EINVAL);
		CHECK_CONTAINS(err.message, "terminal status \"cancelled\"");
		nomad_state_txn_abort(txn);
	}
	nomad_state_close(s);
}

/* Needs allocs.c. */
NMD_TEST(test_state_deployments__alloc_health_counts)
{
	nomad_state *s = sf_open(NULL);
	const char *healthy[] = {NULL, NULL}, *unhealthy[1];
	nomad_deployment *d, *got;
	nomad_alloc *a;
	nomad_state_txn *txn;
	nomad_error err;
	int64_t t0 = INT64_C(1700000000000000000);

	canary_setup(s);
	/* A progress deadline of 10 minutes on web. */
	d = get(s, sf_uuid('d', 1));
	group(d, "web")->has_progressdeadline = 1;
	group(d, "web")->progressdeadline = INT64_C(600000000000);
	put(s, 12, d);
	nomad_deployment_free(d);

	healthy[0] = sf_uuid('a', 1);
	healthy[1] = sf_uuid('a', 3);
	unhealthy[0] = sf_uuid('a', 4);
	txn = sf_begin(s, 13);
	CHECK_OK(nomad_state_deployment_alloc_health(txn, sf_uuid('d', 1), healthy,
						     2, unhealthy, 1, t0, &err));
	sf_commit(txn);
	got = get(s, sf_uuid('d', 1));
	CHECK_INT(group(got, "web")->healthyallocs, 2);
	CHECK_INT(group(got, "web")->unhealthyallocs, 0);
	CHECK_INT(group(got, "api")->healthyallocs, 0);
	CHECK_INT(group(got, "api")->unhealthyallocs, 1);
	CHECK_INT(got->modifyindex, 13);
	CHECK(group(got, "web")->requireprogressby != NULL);
	CHECK_INT(group(got, "web")->requireprogressby->seconds,
		  1700000000 + 600);
	/* api has no deadline */
	CHECK(group(got, "api")->requireprogressby == NULL);
	nomad_deployment_free(got);
	a = get_alloc(s, sf_uuid('a', 1));
	CHECK(a->deploymentstatus->has_healthy && a->deploymentstatus->healthy);
	CHECK(a->deploymentstatus->canary);
	CHECK_INT(a->deploymentstatus->timestamp->seconds, 1700000000);
	nomad_alloc_free(a);
	a = get_alloc(s, sf_uuid('a', 4));
	CHECK(a->deploymentstatus->has_healthy && !a->deploymentstatus->healthy);
	nomad_alloc_free(a);

	/* healthy -> unhealthy moves a count; unhealthy -> healthy does not,
	 * as in Nomad. */
	CHECK_OK(health(s, 14, NULL, sf_uuid('a', 1), t0 + 60 * INT64_C(1000000000),
			NULL));
	CHECK_OK(health(s, 15, sf_uuid('a', 4), NULL, t0, NULL));
	got = get(s, sf_uuid('d', 1));
	CHECK_INT(group(got, "web")->healthyallocs, 1);
	CHECK_INT(group(got, "web")->unhealthyallocs, 1);
	CHECK_INT(group(got, "web")->requireprogressby->seconds,
		  1700000000 + 660);
	CHECK_INT(group(got, "api")->unhealthyallocs, 1);
	CHECK_INT(group(got, "api")->healthyallocs, 0);
	CHECK_INT(got->modifyindex, 14);
	nomad_deployment_free(got);
	a = get_alloc(s, sf_uuid('a', 4));
	CHECK(a->deploymentstatus->healthy);
	nomad_alloc_free(a);

	/* Refusals. */
	CHECK_INT(health(s, 16, sf_uuid('a', 9), NULL, t0, &err), NOMAD_ENOTFOUND);
	CHECK_CONTAINS(err.message, "unknown alloc");
	{
		nomad_alloc *other = new_alloc(5, sf_uuid('d', 2), "web", false);
		put_allocs(s, 17, &other, 1);
	}
	CHECK_INT(health(s, 18, sf_uuid('a', 5), NULL, t0, &err), NOMAD_EINVAL);
	CHECK_CONTAINS(err.message, "is not part of deployment");
	nomad_state_close(s);
}

/* The helper allocs.c can call when it places or updates allocations. */
NMD_TEST(test_state_deployments__alloc_changed_counts_placements)
{
	nomad_state *s = sf_open(NULL);
	nomad_deployment *d = new_deployment(1, NULL, "web"), *got;
	Nomad__DeploymentState *web = add_group(d, "web", 1, 3);
	nomad_alloc *a = new_alloc(1, sf_uuid('d', 1), "web", true);
	nomad_alloc *b = new_alloc(2, sf_uuid('d', 1), "db", false);
	nomad_state_txn *txn;
	bool moved = true;

	web->has_progressdeadline = 1;
	web->progressdeadline = INT64_C(600000000000);
	put(s, 10, d);
	a->has_modifytime = 1;
	a->modifytime = INT64_C(1700000000000000000);

	txn = sf_begin(s, 11);
	CHECK_OK(nmd_deployment_alloc_changed(txn, NULL, a, &moved, NULL));
	CHECK(!moved);
	/* A group outside the deployment changes nothing. */
	CHECK_OK(nmd_deployment_alloc_changed(txn, NULL, b, NULL, NULL));
	sf_commit(txn);
	got = get(s, sf_uuid('d', 1));
	CHECK_INT(group(got, "web")->placedallocs, 1);
	CHECK_INT(group(got, "web")->n_placedcanaries, 1);
	CHECK_STR(group(got, "web")->placedcanaries[0], sf_uuid('a', 1));
	CHECK_INT(group(got, "web")->requireprogressby->seconds,
		  1700000000 + 600);
	CHECK_INT(got->n_taskgroups, 1);
	CHECK_INT(got->modifyindex, 11);
	nomad_deployment_free(got);

	/* The same allocation again, now healthy: counted healthy, the
	 * canary listed once. */
	{
		nomad_alloc *old = a, *cur;
		CHECK_OK(nomad_alloc_copy(&cur, a));
		cur->deploymentstatus->has_healthy = 1;
		cur->deploymentstatus->healthy = 1;
		txn = sf_begin(s, 12);
		CHECK_OK(nmd_deployment_alloc_changed(txn, old, cur, &moved,
						      NULL));
		CHECK(moved);
		sf_commit(txn);
		nomad_alloc_free(cur);
	}
	got = get(s, sf_uuid('d', 1));
	CHECK_INT(group(got, "web")->placedallocs, 1);
	CHECK_INT(group(got, "web")->healthyallocs, 1);
	CHECK_INT(group(got, "web")->n_placedcanaries, 1);
	nomad_deployment_free(got);

	nomad_alloc_free(a);
	nomad_alloc_free(b);
	nomad_deployment_free(d);
	nomad_state_close(s);
}
