/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Jobs in the state store: the index rule, Nomad's UpsertJob versioning
 * (a version only for a changed spec, six kept, the newest stable one
 * kept too), summaries that follow the groups and the allocations,
 * children counted in the parent, deletes, listings with namespaces,
 * prefixes, pages and reverse order, snapshot isolation and reopening.
 */
#include <nomad/state.h>

#include "test.h"
#include "fixtures.h"
#include "state/state_int.h"
#include "structs/pb.h"

static nomad_job *make_job(const char *ns, const char *id)
{
	nomad_job *j = sf_job(ns, id);
	j->has_priority = 1;
	j->priority = 50;
	return j;
}

static void upsert(nomad_state *s, uint64_t index, const nomad_job *j)
{
	nomad_state_txn *txn;
	nomad_error err;
	if (nomad_state_txn_begin(s, index, &txn, &err))
		nmd_test_fail(__FILE__, __LINE__, "begin: %s", err.message);
	if (nomad_state_job_upsert(txn, j, &err))
		nmd_test_fail(__FILE__, __LINE__, "upsert: %s", err.message);
	CHECK_OK(nomad_state_txn_commit(txn, &err));
}

static nomad_job *get(nomad_state *s, const char *ns, const char *id)
{
	nomad_state_snap *snap;
	nomad_job *j = NULL;
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_OK(nomad_state_job_get(snap, ns, id, &j));
	nomad_state_snap_close(snap);
	return j;
}

static nomad_job_summary *summary(nomad_state *s, const char *ns,
				  const char *id)
{
	nomad_state_snap *snap;
	nomad_job_summary *sum = NULL;
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_OK(nomad_state_job_summary_get(snap, ns, id, &sum));
	nomad_state_snap_close(snap);
	return sum;
}

static const Nomad__TaskGroupSummary *group(const nomad_job_summary *sum,
					    const char *name)
{
	for (size_t i = 0; i < sum->n_summary; i++)
		if (strcmp(sum->summary[i]->key, name) == 0)
			return sum->summary[i]->value;
	return NULL;
}

struct seen {
	unsigned n;
	char keys[32][96];
	uint64_t versions[32];
};

static int collect(const ProtobufCMessage *m, void *ud)
{
	struct seen *c = ud;
	const nomad_job *j = (const nomad_job *)m;
	if (c->n < 32) {
		snprintf(c->keys[c->n], sizeof(c->keys[0]), "%s/%s",
			 j->namespace_, j->id);
		c->versions[c->n] = j->version;
	}
	c->n++;
	return 0;
}

/* List with `o` into *c; returns the next token. */
static const char *list(nomad_state *s, const nomad_state_list_options *o,
			struct seen *c)
{
	static char tok[NOMAD_STATE_TOKEN_MAX];
	nomad_state_snap *snap;
	nomad_error err;
	memset(c, 0, sizeof(*c));
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	if (nomad_state_jobs_list(snap, o, collect, c, tok, &err))
		nmd_test_fail(__FILE__, __LINE__, "list: %s", err.message);
	nomad_state_snap_close(snap);
	return tok;
}

static void versions(nomad_state *s, const char *id, struct seen *c)
{
	nomad_state_snap *snap;
	memset(c, 0, sizeof(*c));
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_OK(nomad_state_job_versions(snap, "default", id, collect, c,
					  NULL));
	nomad_state_snap_close(snap);
}

NMD_TEST(test_state_jobs__index_must_grow)
{
	nomad_state *s = sf_open(NULL);
	nomad_job *j = make_job("default", "web"), *got;
	nomad_state_txn *txn = (nomad_state_txn *)1;
	nomad_error err;
	upsert(s, 5, j);
	CHECK_INT(nomad_state_txn_begin(s, 5, &txn, &err), NOMAD_ECONFLICT);
	CHECK(txn == NULL);
	CHECK_CONTAINS(err.message, "state: index 5");
	CHECK_INT(nomad_state_txn_begin(s, 3, &txn, NULL), NOMAD_ECONFLICT);
	CHECK_INT(nomad_state_last_index(s), 5);
	got = get(s, "default", "web");
	CHECK_INT(got->modifyindex, 5);
	nomad_job_free(got);
	/* An aborted transaction leaves nothing, not even its index. */
	CHECK_OK(nomad_state_txn_begin(s, 6, &txn, NULL));
	j->priority = 70;
	CHECK_OK(nomad_state_job_upsert(txn, j, NULL));
	nomad_state_txn_abort(txn);
	CHECK_INT(nomad_state_last_index(s), 5);
	got = get(s, "default", "web");
	CHECK_INT(got->priority, 50);
	CHECK_INT(got->version, 0);
	nomad_job_free(got);
	nomad_job_free(j);
	nomad_state_close(s);
}

NMD_TEST(test_state_jobs__upsert_new)
{
	nomad_state *s = sf_open(NULL);
	nomad_job *j = make_job("default", "web"), *got;
	nomad_job_summary *sum;
	nomad_state_snap *snap;
	sf_add_group(j, "api", 2);
	upsert(s, 10, j);
	CHECK(!j->has_version && !j->has_createindex); /* input untouched */
	got = get(s, NULL, "web");
	CHECK_STR(got->id, "web");
	CHECK(got->has_version);
	CHECK_INT(got->version, 0);
	CHECK_INT(got->createindex, 10);
	CHECK_INT(got->modifyindex, 10);
	CHECK_INT(got->jobmodifyindex, 10);
	CHECK(got->has_status);
	CHECK_INT(got->status, NOMAD__JOB__STATUS_KIND__pending);
	CHECK(got->has_stable && !got->stable);
	CHECK_INT(got->n_taskgroups, 2);
	nomad_job_free(got);

	sum = summary(s, "default", "web");
	CHECK_STR(sum->jobid, "web");
	CHECK_STR(sum->namespace_, "default");
	CHECK_INT(sum->createindex, 10);
	CHECK_INT(sum->modifyindex, 10);
	CHECK_INT(sum->n_summary, 2);
	CHECK_STR(sum->summary[0]->key, "api"); /* sorted, as a map */
	CHECK_STR(sum->summary[1]->key, "web");
	CHECK(sum->summary[1]->value->has_queued);
	CHECK_INT(sum->summary[1]->value->queued, 0);
	CHECK_INT(sum->summary[1]->value->running, 0);
	CHECK(sum->children && sum->children->has_pending);
	nomad_job_summary_free(sum);

	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_INT(nomad_state_snap_index(snap), 10);
	CHECK_INT(nomad_state_snap_table_index(snap, NOMAD_TABLE_JOBS), 10);
	CHECK_INT(nomad_state_snap_table_index(snap, NOMAD_TABLE_JOB_VERSIONS),
		  10);
	CHECK_INT(nomad_state_snap_table_index(snap, NOMAD_TABLE_JOB_SUMMARIES),
		  10);
	CHECK_INT(nomad_state_snap_table_index(snap, NOMAD_TABLE_EVALS), 0);
	CHECK_OK(nomad_state_job_version_get(snap, "default", "web", 0, &got));
	CHECK_INT(got->createindex, 10);
	nomad_job_free(got);
	nomad_state_snap_close(snap);
	nomad_job_free(j);
	nomad_state_close(s);
}

NMD_TEST(test_state_jobs__upsert_unchanged_keeps_version)
{
	nomad_state *s = sf_open(NULL);
	nomad_job *j = make_job("default", "web"), *got;
	nomad_job_summary *sum;
	nomad_state_snap *snap;
	struct seen c;
	j->has_submittime = 1;
	j->submittime = 1700000000000000000;
	upsert(s, 10, j);
	/* Same spec; server fields the caller sends differently are ignored
	 * by the comparison. */
	j->has_submittime = 0;
	j->has_version = 1;
	j->version = 42;
	j->has_jobmodifyindex = 1;
	j->jobmodifyindex = 3;
	upsert(s, 20, j);
	got = get(s, "default", "web");
	CHECK_INT(got->version, 0);
	CHECK_INT(got->createindex, 10);
	CHECK_INT(got->modifyindex, 20);
	CHECK_INT(got->jobmodifyindex, 10);
	CHECK(got->has_submittime);
	CHECK_INT(got->submittime, 1700000000000000000);
	nomad_job_free(got);
	versions(s, "web", &c);
	CHECK_INT(c.n, 1);
	/* The summary did not change, so its index did not move. */
	sum = summary(s, "default", "web");
	CHECK_INT(sum->modifyindex, 10);
	nomad_job_summary_free(sum);
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_INT(nomad_state_snap_table_index(snap, NOMAD_TABLE_JOBS), 20);
	CHECK_INT(nomad_state_snap_table_index(snap, NOMAD_TABLE_JOB_SUMMARIES),
		  10);
	nomad_state_snap_close(snap);

	/* Marking the version stable is also a same-spec write, and the
	 * stored version follows. */
	j->has_stable = 1;
	j->stable = 1;
	upsert(s, 30, j);
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_OK(nomad_state_job_version_get(snap, "default", "web", 0, &got));
	CHECK(got->stable);
	CHECK_INT(got->modifyindex, 30);
	nomad_job_free(got);
	nomad_state_snap_close(snap);
	nomad_job_free(j);
	nomad_state_close(s);
}

NMD_TEST(test_state_jobs__changed_spec_bumps_version)
{
	nomad_state *s = sf_open(NULL);
	nomad_job *j = make_job("default", "web"), *got;
	nomad_state_snap *snap;
	struct seen c;
	upsert(s, 10, j);
	j->priority = 80;
	upsert(s, 20, j);
	got = get(s, "default", "web");
	CHECK_INT(got->version, 1);
	CHECK_INT(got->createindex, 10);
	CHECK_INT(got->modifyindex, 20);
	CHECK_INT(got->jobmodifyindex, 20);
	CHECK_INT(got->priority, 80);
	nomad_job_free(got);

	/* Stopping is a spec change too, as in Nomad. */
	j->has_stop = 1;
	j->stop = 1;
	upsert(s, 30, j);
	versions(s, "web", &c);
	CHECK_INT(c.n, 3);
	CHECK_INT(c.versions[0], 2);
	CHECK_INT(c.versions[1], 1);
	CHECK_INT(c.versions[2], 0);

	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_OK(nomad_state_job_version_get(snap, "default", "web", 0, &got));
	CHECK_INT(got->priority, 50);
	CHECK_INT(got->jobmodifyindex, 10);
	nomad_job_free(got);
	CHECK_OK(nomad_state_job_version_get(snap, "default", "web", 1, &got));
	CHECK_INT(got->priority, 80);
	CHECK(!got->stop);
	nomad_job_free(got);
	CHECK_INT(nomad_state_job_version_get(snap, "default", "web", 3, &got),
		  NOMAD_ENOTFOUND);
	CHECK(got == NULL);
	nomad_state_snap_close(snap);
	nomad_job_free(j);
	nomad_state_close(s);
}

NMD_TEST(test_state_jobs__six_versions_kept)
{
	nomad_state *s = sf_open(NULL);
	nomad_job *j = make_job("default", "web"), *got;
	nomad_state_snap *snap;
	struct seen c;
	upsert(s, 10, j);
	for (int i = 1; i <= 8; i++) {
		j->priority = 50 + i;
		upsert(s, 10 + (uint64_t)i, j);
	}
	versions(s, "web", &c);
	CHECK_INT(c.n, 6);
	for (unsigned i = 0; i < 6; i++)
		CHECK_INT(c.versions[i], 8 - i);
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_INT(nomad_state_job_version_get(snap, "default", "web", 2, &got),
		  NOMAD_ENOTFOUND);
	CHECK_OK(nomad_state_job_version_get(snap, "default", "web", 3, &got));
	CHECK_INT(got->priority, 53);
	nomad_job_free(got);
	nomad_state_snap_close(snap);
	nomad_job_free(j);
	nomad_state_close(s);
}

NMD_TEST(test_state_jobs__stable_version_survives_pruning)
{
	nomad_state *s = sf_open(NULL);
	nomad_job *j = make_job("default", "web");
	struct seen c;
	upsert(s, 10, j);
	j->priority = 51;
	upsert(s, 11, j); /* version 1 */
	j->has_stable = 1;
	j->stable = 1;
	upsert(s, 12, j); /* version 1 marked stable */
	j->has_stable = 0;
	for (int i = 2; i <= 9; i++) {
		j->priority = 50 + i;
		upsert(s, 20 + (uint64_t)i, j);
	}
	versions(s, "web", &c);
	CHECK_INT(c.n, 6);
	CHECK_INT(c.versions[0], 9);
	CHECK_INT(c.versions[4], 5);
	CHECK_INT(c.versions[5], 1); /* the revert target */
	nomad_job_free(j);
	nomad_state_close(s);
}

NMD_TEST(test_state_jobs__summary_follows_groups)
{
	nomad_state *s = sf_open(NULL);
	nomad_job *j = make_job("default", "web");
	nomad_job_summary *sum;
	Nomad__TaskGroup *tg;
	upsert(s, 10, j);
	sf_add_group(j, "db", 1);
	upsert(s, 20, j);
	sum = summary(s, "default", "web");
	CHECK_INT(sum->n_summary, 2);
	CHECK(group(sum, "db") && group(sum, "web"));
	CHECK_INT(sum->createindex, 10);
	CHECK_INT(sum->modifyindex, 20);
	nomad_job_summary_free(sum);

	/* Drop "web": the summary drops it too. */
	tg = j->taskgroups[0];
	j->taskgroups[0] = j->taskgroups[1];
	j->n_taskgroups = 1;
	upsert(s, 30, j);
	sum = summary(s, "default", "web");
	CHECK_INT(sum->n_summary, 1);
	CHECK_STR(sum->summary[0]->key, "db");
	CHECK_INT(sum->modifyindex, 30);
	nomad_job_summary_free(sum);
	j->taskgroups[1] = tg;
	j->n_taskgroups = 2;
	nomad_job_free(j);
	nomad_state_close(s);
}

NMD_TEST(test_state_jobs__summary_counts_allocations)
{
	enum {
		PENDING = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__pending,
		RUNNING = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__running,
		COMPLETE = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__complete,
		FAILED = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__failed,
		LOST = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__lost,
		UNKNOWN = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__unknown,
	};
	nomad_state *s = sf_open(NULL);
	nomad_job *j = make_job("default", "web");
	Nomad__IntEntry e = NOMAD__INT_ENTRY__INIT, *q[1] = {&e};
	const Nomad__TaskGroupSummary *g;
	nomad_job_summary *sum;
	nomad_state_txn *txn;
	nomad_state_snap *snap;
	char web[] = "web";
	upsert(s, 10, j);

	CHECK_OK(nomad_state_txn_begin(s, 20, &txn, NULL));
	e.key = web;
	e.has_value = 1;
	e.value = 2;
	CHECK_OK(nmd_summary_set_queued(txn, "default", "web", q, 1, NULL));
	/* Two new pending allocations take from Queued. */
	CHECK_OK(nmd_summary_alloc_changed(txn, "default", "web", "web", -1,
					   PENDING, NULL));
	CHECK_OK(nmd_summary_alloc_changed(txn, "default", "web", "web", -1,
					   PENDING, NULL));
	CHECK_OK(nmd_summary_alloc_changed(txn, "default", "web", "web",
					   PENDING, RUNNING, NULL));
	CHECK_OK(nmd_summary_alloc_changed(txn, "default", "web", "web",
					   RUNNING, COMPLETE, NULL));
	CHECK_OK(nmd_summary_alloc_changed(txn, "default", "web", "web",
					   PENDING, FAILED, NULL));
	CHECK_OK(nmd_summary_alloc_changed(txn, "default", "web", "web",
					   -1, PENDING, NULL));
	CHECK_OK(nmd_summary_alloc_changed(txn, "default", "web", "web",
					   PENDING, LOST, NULL));
	CHECK_OK(nmd_summary_alloc_changed(txn, "default", "web", "web",
					   -1, PENDING, NULL));
	CHECK_OK(nmd_summary_alloc_changed(txn, "default", "web", "web",
					   PENDING, UNKNOWN, NULL));
	/* A deleted allocation leaves its count. */
	CHECK_OK(nmd_summary_alloc_changed(txn, "default", "web", "web",
					   FAILED, -1, NULL));
	/* Counts never go below zero. */
	CHECK_OK(nmd_summary_alloc_changed(txn, "default", "web", "web",
					   RUNNING, -1, NULL));
	/* A new allocation that is not pending is not counted (Nomad logs). */
	CHECK_OK(nmd_summary_alloc_changed(txn, "default", "web", "web", -1,
					   RUNNING, NULL));
	/* Unknown job, group or namespace: nothing, and no error. */
	CHECK_OK(nmd_summary_alloc_changed(txn, "default", "nope", "web", -1,
					   PENDING, NULL));
	CHECK_OK(nmd_summary_alloc_changed(txn, "default", "web", "nope", -1,
					   PENDING, NULL));
	CHECK_OK(nmd_summary_alloc_changed(txn, "other", "web", "web", -1,
					   PENDING, NULL));
	CHECK_OK(nomad_state_txn_commit(txn, NULL));

	sum = summary(s, "default", "web");
	g = group(sum, "web");
	CHECK(g != NULL);
	CHECK_INT(g->queued, 0);
	CHECK_INT(g->starting, 0);
	CHECK_INT(g->running, 0);
	CHECK_INT(g->complete, 1);
	CHECK_INT(g->failed, 0);
	CHECK_INT(g->lost, 1);
	CHECK_INT(g->unknown, 1);
	CHECK_INT(sum->modifyindex, 20);
	nomad_job_summary_free(sum);
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_INT(nomad_state_snap_table_index(snap, NOMAD_TABLE_JOB_SUMMARIES),
		  20);
	nomad_state_snap_close(snap);

	/* A transition that changes nothing does not write. */
	CHECK_OK(nomad_state_txn_begin(s, 30, &txn, NULL));
	CHECK_OK(nmd_summary_alloc_changed(txn, "default", "web", "web",
					   RUNNING, RUNNING, NULL));
	e.value = 0; /* what it is already */
	CHECK_OK(nmd_summary_set_queued(txn, "default", "web", q, 1, NULL));
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_INT(nomad_state_snap_table_index(snap, NOMAD_TABLE_JOB_SUMMARIES),
		  20);
	nomad_state_snap_close(snap);
	nomad_job_free(j);
	nomad_state_close(s);
}

NMD_TEST(test_state_jobs__children_counted_in_parent)
{
	nomad_state *s = sf_open(NULL);
	nomad_job *parent = make_job("default", "batch");
	nomad_job *child = make_job("default", "batch/dispatch-1");
	nomad_job_summary *sum;
	nomad_state_txn *txn;
	upsert(s, 10, parent);
	CHECK(nmd_pb_set_string(NULL, &child->parentid, "batch"));
	upsert(s, 11, child);
	sum = summary(s, "default", "batch");
	CHECK_INT(sum->children->pending, 1);
	CHECK_INT(sum->modifyindex, 11);
	nomad_job_summary_free(sum);

	/* The child's status is derived: an allocation makes it running. */
	{
		nomad_alloc *a = nomad_alloc_new();
		CHECK(nmd_pb_set_string(NULL, &a->id,
					"0a000000-0000-4000-8000-000000000001"));
		CHECK(nmd_pb_set_string(NULL, &a->nodeid,
					"0d000000-0000-4000-8000-000000000001"));
		CHECK(nmd_pb_set_string(NULL, &a->jobid, "batch/dispatch-1"));
		CHECK(nmd_pb_set_string(NULL, &a->taskgroup, "g"));
		CHECK_OK(nomad_state_txn_begin(s, 12, &txn, NULL));
		CHECK_OK(nomad_state_allocs_upsert(txn, &a, 1, NULL));
		CHECK_OK(nomad_state_txn_commit(txn, NULL));
		nomad_alloc_free(a);
	}
	sum = summary(s, "default", "batch");
	CHECK_INT(sum->children->pending, 0);
	CHECK_INT(sum->children->running, 1);
	nomad_job_summary_free(sum);

	CHECK_OK(nomad_state_txn_begin(s, 13, &txn, NULL));
	CHECK_OK(nomad_state_job_delete(txn, "default", "batch/dispatch-1",
					NULL));
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
	sum = summary(s, "default", "batch");
	CHECK_INT(sum->children->running, 0);
	CHECK_INT(sum->modifyindex, 13);
	nomad_job_summary_free(sum);
	nomad_job_free(parent);
	nomad_job_free(child);
	nomad_state_close(s);
}

NMD_TEST(test_state_jobs__status_and_submit_time)
{
	nomad_state *s = sf_open(NULL);
	nomad_job *j = make_job("default", "web"), *got;
	j->has_status = 1;
	j->status = NOMAD__JOB__STATUS_KIND__running;
	CHECK(nmd_pb_set_string(NULL, &j->statusdescription, "fine"));
	j->has_submittime = 1;
	j->submittime = 123;
	upsert(s, 10, j);
	got = get(s, "default", "web");
	/* The status is derived, as Nomad's: no allocation or evaluation yet
	 * means pending, whatever the caller said. */
	CHECK_INT(got->status, NOMAD__JOB__STATUS_KIND__pending);
	CHECK_INT(got->submittime, 123);
	nomad_job_free(got);
	/* An update that does not say keeps the stored status; a new version
	 * takes the caller's submit time. */
	j->has_status = 0;
	CHECK(nmd_pb_set_string(NULL, &j->statusdescription, NULL));
	j->submittime = 456;
	j->priority = 60;
	upsert(s, 20, j);
	got = get(s, "default", "web");
	CHECK_INT(got->version, 1);
	CHECK_INT(got->status, NOMAD__JOB__STATUS_KIND__pending);
	CHECK_STR(got->statusdescription, "fine");
	CHECK_INT(got->submittime, 456);
	nomad_job_free(got);
	nomad_job_free(j);
	nomad_state_close(s);
}

NMD_TEST(test_state_jobs__delete)
{
	nomad_state *s = sf_open(NULL);
	nomad_job *j = make_job("default", "web"), *got = NULL;
	nomad_job_summary *sum = NULL;
	nomad_state_txn *txn;
	nomad_state_snap *snap;
	nomad_error err;
	struct seen c;
	upsert(s, 10, j);
	j->priority = 99;
	upsert(s, 11, j);
	CHECK_OK(nomad_state_txn_begin(s, 20, &txn, NULL));
	CHECK_OK(nomad_state_job_delete(txn, "default", "web", NULL));
	CHECK_INT(nomad_state_job_delete(txn, "default", "web", &err),
		  NOMAD_ENOTFOUND);
	CHECK_CONTAINS(err.message, "state: job not found");
	CHECK_INT(nomad_state_job_delete(txn, NULL, "nope", NULL),
		  NOMAD_ENOTFOUND);
	CHECK_OK(nomad_state_txn_commit(txn, NULL));

	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_INT(nomad_state_job_get(snap, "default", "web", &got),
		  NOMAD_ENOTFOUND);
	CHECK(got == NULL);
	CHECK_INT(nomad_state_job_summary_get(snap, "default", "web", &sum),
		  NOMAD_ENOTFOUND);
	CHECK(sum == NULL);
	CHECK_INT(nomad_state_job_version_get(snap, "default", "web", 0, &got),
		  NOMAD_ENOTFOUND);
	for (int t = NOMAD_TABLE_JOBS; t <= NOMAD_TABLE_JOB_SUMMARIES; t++)
		CHECK_INT(nomad_state_snap_table_index(snap, t), 20);
	nomad_state_snap_close(snap);
	versions(s, "web", &c);
	CHECK_INT(c.n, 0);

	/* Registered again, it starts over. */
	upsert(s, 30, j);
	got = get(s, "default", "web");
	CHECK_INT(got->version, 0);
	CHECK_INT(got->createindex, 30);
	nomad_job_free(got);
	sum = summary(s, "default", "web");
	CHECK_INT(sum->createindex, 30);
	nomad_job_summary_free(sum);
	nomad_job_free(j);
	nomad_state_close(s);
}

static void put_launch(nomad_state *s, uint64_t index, const char *ns,
		       const char *id)
{
	nomad_periodic_launch *l = nomad_periodic_launch_new();
	nomad_state_txn *txn;
	CHECK(l != NULL);
	CHECK(nmd_pb_set_string(NULL, &l->namespace_, ns));
	CHECK(nmd_pb_set_string(NULL, &l->id, id));
	CHECK_OK(nomad_state_txn_begin(s, index, &txn, NULL));
	CHECK_OK(nomad_state_periodic_launch_upsert(txn, l, NULL));
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
	nomad_periodic_launch_free(l);
}

static bool has_launch(nomad_state *s, const char *ns, const char *id)
{
	nomad_state_snap *snap;
	nomad_periodic_launch *l = NULL;
	nomad_err rc;
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	rc = nomad_state_periodic_launch_get(snap, ns, id, &l);
	CHECK(rc == NOMAD_OK || rc == NOMAD_ENOTFOUND);
	nomad_periodic_launch_free(l);
	nomad_state_snap_close(snap);
	return rc == NOMAD_OK;
}

/* Nomad's purge deletes the job's periodic launch too, whether or not the
 * job is periodic now, and the launch table's index moves only when there
 * was one. */
NMD_TEST(test_state_jobs__delete_takes_the_periodic_launch)
{
	nomad_state *s = sf_open(NULL);
	nomad_job *cron = make_job("prod", "cron");
	nomad_job *web = make_job("prod", "web");
	nomad_state_txn *txn;
	cron->periodic = nmd_pb_new(&nomad__periodic_config__descriptor, NULL);
	CHECK(cron->periodic != NULL);
	upsert(s, 10, cron);
	upsert(s, 11, web);
	put_launch(s, 12, "prod", "cron");
	put_launch(s, 13, "prod", "web"); /* periodic once, no longer */
	put_launch(s, 14, "default", "cron"); /* another namespace's */

	CHECK_OK(nomad_state_txn_begin(s, 20, &txn, NULL));
	CHECK_OK(nomad_state_job_delete(txn, "prod", "cron", NULL));
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
	CHECK(!has_launch(s, "prod", "cron"));
	CHECK(has_launch(s, "default", "cron"));
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_PERIODIC_LAUNCH), 20);

	CHECK_OK(nomad_state_txn_begin(s, 21, &txn, NULL));
	CHECK_OK(nomad_state_job_delete(txn, "prod", "web", NULL));
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
	CHECK(!has_launch(s, "prod", "web"));
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_PERIODIC_LAUNCH), 21);

	/* A job without a launch leaves the launch table alone. */
	upsert(s, 30, web);
	CHECK_OK(nomad_state_txn_begin(s, 31, &txn, NULL));
	CHECK_OK(nomad_state_job_delete(txn, "prod", "web", NULL));
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_PERIODIC_LAUNCH), 21);
	CHECK(has_launch(s, "default", "cron"));

	nomad_job_free(cron);
	nomad_job_free(web);
	nomad_state_close(s);
}

NMD_TEST(test_state_jobs__get_missing_and_bad_input)
{
	nomad_state *s = sf_open(NULL);
	nomad_job *j = make_job("default", "web"), *got = (nomad_job *)1;
	nomad_state_snap *snap;
	nomad_state_txn *txn;
	nomad_error err;
	upsert(s, 10, j);
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_INT(nomad_state_job_get(snap, "default", "api", &got),
		  NOMAD_ENOTFOUND);
	CHECK(got == NULL);
	CHECK_INT(nomad_state_job_get(snap, "prod", "web", &got),
		  NOMAD_ENOTFOUND);
	CHECK_INT(nomad_state_job_get(snap, "default", NULL, &got),
		  NOMAD_EINVAL);
	nomad_state_snap_close(snap);

	CHECK_OK(nomad_state_txn_begin(s, 11, &txn, NULL));
	CHECK(nmd_pb_set_string(NULL, &j->namespace_, NULL));
	CHECK_INT(nomad_state_job_upsert(txn, j, &err), NOMAD_EINVAL);
	CHECK_CONTAINS(err.message, "state: job without namespace or ID");
	CHECK(nmd_pb_set_string(NULL, &j->namespace_, "default"));
	CHECK(nmd_pb_set_string(NULL, &j->id, NULL));
	CHECK_INT(nomad_state_job_upsert(txn, j, NULL), NOMAD_EINVAL);
	nomad_state_txn_abort(txn);
	nomad_job_free(j);
	nomad_state_close(s);
}

static void put_jobs(nomad_state *s)
{
	static const char *const ids[][2] = {
		{"default", "web"},   {"default", "api"},   {"default", "api-2"},
		{"default", "batch"}, {"default", "a.b"},   {"prod", "web"},
		{"prod", "api"},      {"dev", "api"},
	};
	nomad_state_txn *txn;
	CHECK_OK(nomad_state_txn_begin(s, 10, &txn, NULL));
	for (size_t i = 0; i < sizeof(ids) / sizeof(*ids); i++) {
		nomad_job *j = make_job(ids[i][0], ids[i][1]);
		CHECK_OK(nomad_state_job_upsert(txn, j, NULL));
		nomad_job_free(j);
	}
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
}

NMD_TEST(test_state_jobs__list_order_namespaces_prefix)
{
	nomad_state *s = sf_open(NULL);
	nomad_state_list_options o = NOMAD_STATE_LIST_OPTIONS_INIT;
	struct seen c;
	put_jobs(s);
	CHECK_STR(list(s, NULL, &c), "");
	CHECK_INT(c.n, 5);
	CHECK_STR(c.keys[0], "default/a.b");
	CHECK_STR(c.keys[1], "default/api");
	CHECK_STR(c.keys[2], "default/api-2");
	CHECK_STR(c.keys[3], "default/batch");
	CHECK_STR(c.keys[4], "default/web");

	o.ns = "*";
	list(s, &o, &c);
	CHECK_INT(c.n, 8);
	CHECK_STR(c.keys[0], "default/a.b");
	CHECK_STR(c.keys[5], "dev/api");
	CHECK_STR(c.keys[6], "prod/api");
	CHECK_STR(c.keys[7], "prod/web");

	o.prefix = "api";
	list(s, &o, &c);
	CHECK_INT(c.n, 4);
	CHECK_STR(c.keys[0], "default/api");
	CHECK_STR(c.keys[1], "default/api-2");
	CHECK_STR(c.keys[2], "dev/api");
	CHECK_STR(c.keys[3], "prod/api");

	o.ns = "prod";
	o.prefix = "w";
	list(s, &o, &c);
	CHECK_INT(c.n, 1);
	CHECK_STR(c.keys[0], "prod/web");
	o.ns = "nothing-here";
	o.prefix = NULL;
	list(s, &o, &c);
	CHECK_INT(c.n, 0);

	o.ns = "default";
	o.reverse = true;
	list(s, &o, &c);
	CHECK_INT(c.n, 5);
	CHECK_STR(c.keys[0], "default/web");
	CHECK_STR(c.keys[4], "default/a.b");
	o.ns = "*";
	o.prefix = "api";
	list(s, &o, &c);
	CHECK_INT(c.n, 4);
	CHECK_STR(c.keys[0], "prod/api");
	CHECK_STR(c.keys[3], "default/api");
	nomad_state_close(s);
}

static int stop_after_two(const ProtobufCMessage *m, void *ud)
{
	(void)m;
	return ++*(int *)ud == 2;
}

NMD_TEST(test_state_jobs__list_pages)
{
	nomad_state *s = sf_open(NULL);
	nomad_state_list_options o = NOMAD_STATE_LIST_OPTIONS_INIT;
	nomad_state_snap *snap;
	char tok[NOMAD_STATE_TOKEN_MAX];
	struct seen c;
	int calls = 0;
	put_jobs(s);
	o.ns = "*";
	o.per_page = 3;
	snprintf(tok, sizeof(tok), "%s", list(s, &o, &c));
	CHECK_STR(tok, "default.batch");
	CHECK_INT(c.n, 3);
	CHECK_STR(c.keys[0], "default/a.b");
	CHECK_STR(c.keys[2], "default/api-2");
	o.next_token = tok;
	CHECK_STR(list(s, &o, &c), "prod.api");
	CHECK_INT(c.n, 3);
	CHECK_STR(c.keys[0], "default/batch");
	CHECK_STR(c.keys[1], "default/web");
	CHECK_STR(c.keys[2], "dev/api");
	o.next_token = "prod.api";
	CHECK_STR(list(s, &o, &c), "");
	CHECK_INT(c.n, 2);
	CHECK_STR(c.keys[0], "prod/api");
	CHECK_STR(c.keys[1], "prod/web");
	/* The last page was full only by chance: a page of exactly the rest
	 * has no token. */
	o.next_token = "prod.api";
	o.per_page = 2;
	CHECK_STR(list(s, &o, &c), "");
	CHECK_INT(c.n, 2);

	/* Backwards, within one namespace; the token of an ID with a dot. */
	o.ns = NULL;
	o.reverse = true;
	o.next_token = NULL;
	CHECK_STR(list(s, &o, &c), "default.api-2");
	CHECK_STR(c.keys[0], "default/web");
	CHECK_STR(c.keys[1], "default/batch");
	o.next_token = "default.api-2";
	CHECK_STR(list(s, &o, &c), "default.a.b");
	CHECK_STR(c.keys[0], "default/api-2");
	CHECK_STR(c.keys[1], "default/api");
	o.next_token = "default.a.b";
	CHECK_STR(list(s, &o, &c), "");
	CHECK_INT(c.n, 1);
	CHECK_STR(c.keys[0], "default/a.b");

	/* A callback that stops the listing. */
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_INT(nomad_state_jobs_list(snap, NULL, stop_after_two, &calls, tok,
					NULL),
		  NOMAD_EUSER);
	CHECK_INT(calls, 2);
	nomad_state_snap_close(snap);
	nomad_state_close(s);
}

NMD_TEST(test_state_jobs__snapshot_isolation)
{
	nomad_state *s = sf_open(NULL);
	nomad_job *j = make_job("default", "web"), *got = NULL;
	nomad_state_snap *before, *after;
	upsert(s, 10, j);
	CHECK_OK(nomad_state_snapshot(s, &before, NULL));
	j->priority = 90;
	upsert(s, 20, j);
	sf_add_group(j, "db", 1);
	upsert(s, 25, j);
	nomad_job *k = make_job("default", "api");
	upsert(s, 30, k);
	nomad_job_free(k);

	CHECK_INT(nomad_state_snap_index(before), 10);
	CHECK_INT(nomad_state_snap_table_index(before, NOMAD_TABLE_JOBS), 10);
	CHECK_OK(nomad_state_job_get(before, "default", "web", &got));
	CHECK_INT(got->priority, 50);
	CHECK_INT(got->version, 0);
	nomad_job_free(got);
	CHECK_INT(nomad_state_job_get(before, "default", "api", &got),
		  NOMAD_ENOTFOUND);

	CHECK_OK(nomad_state_snapshot(s, &after, NULL));
	CHECK_INT(nomad_state_snap_index(after), 30);
	CHECK_INT(nomad_state_snap_table_index(after, NOMAD_TABLE_JOBS), 30);
	CHECK_INT(nomad_state_snap_table_index(after, NOMAD_TABLE_JOB_VERSIONS),
		  30);
	CHECK_INT(nomad_state_snap_table_index(after,
					       NOMAD_TABLE_JOB_SUMMARIES),
		  30);
	CHECK_OK(nomad_state_job_get(after, "default", "web", &got));
	CHECK_INT(got->version, 2);
	nomad_job_free(got);
	nomad_state_snap_close(after);
	nomad_state_snap_close(before);
	nomad_job_free(j);
	nomad_state_close(s);
}

NMD_TEST(test_state_jobs__reopen)
{
	nomad_state *s = sf_open(NULL);
	nomad_job *j = make_job("prod", "web"), *got;
	nomad_job_summary *sum;
	nomad_state_snap *snap;
	struct seen c;
	upsert(s, 10, j);
	j->priority = 70;
	upsert(s, 15, j);
	nomad_state_close(s);

	s = sf_open(NULL);
	CHECK_INT(nomad_state_last_index(s), 15);
	got = get(s, "prod", "web");
	CHECK_INT(got->version, 1);
	CHECK_INT(got->priority, 70);
	nomad_job_free(got);
	sum = summary(s, "prod", "web");
	CHECK_INT(sum->n_summary, 1);
	nomad_job_summary_free(sum);
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_INT(nomad_state_snap_table_index(snap, NOMAD_TABLE_JOBS), 15);
	memset(&c, 0, sizeof(c));
	CHECK_OK(nomad_state_job_versions(snap, "prod", "web", collect, &c,
					  NULL));
	CHECK_INT(c.n, 2);
	nomad_state_snap_close(snap);
	CHECK_INT(nomad_state_txn_begin(s, 15, &(nomad_state_txn *){NULL},
					NULL),
		  NOMAD_ECONFLICT);
	nomad_job_free(j);
	nomad_state_close(s);
}
