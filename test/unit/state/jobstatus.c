/* SPDX-License-Identifier: MPL-2.0 */
/*
 * A job's status follows its evaluations and allocations as Nomad's
 * getJobStatus: pending with an open evaluation, running with a live
 * allocation, dead when everything has ended; system, periodic and
 * parameterized jobs run until stopped.
 */
#include <nomad/state.h>

#include "test.h"
#include "fixtures.h"
#include "structs/pb.h"

static nomad_job *job(const char *id, Nomad__JobType type)
{
	nomad_job *j = nomad_job_new();
	CHECK(nmd_pb_set_string(NULL, &j->id, id));
	CHECK(nmd_pb_set_string(NULL, &j->namespace_, "default"));
	j->has_type = 1;
	j->type = type;
	return j;
}

static nomad_eval *eval(const char *job_id, Nomad__Evaluation__StatusKind st)
{
	nomad_eval *e = nomad_eval_new();
	CHECK(nmd_pb_set_string(NULL, &e->id, "0e000000-0000-4000-8000-000000000001"));
	CHECK(nmd_pb_set_string(NULL, &e->jobid, job_id));
	CHECK(nmd_pb_set_string(NULL, &e->namespace_, "default"));
	e->has_status = 1;
	e->status = st;
	return e;
}

static nomad_alloc *alloc(const char *job_id, Nomad__Allocation__ClientStatusKind cs)
{
	nomad_alloc *a = nomad_alloc_new();
	CHECK(nmd_pb_set_string(NULL, &a->id, "0a000000-0000-4000-8000-000000000001"));
	CHECK(nmd_pb_set_string(NULL, &a->nodeid, "0d000000-0000-4000-8000-000000000001"));
	CHECK(nmd_pb_set_string(NULL, &a->jobid, job_id));
	CHECK(nmd_pb_set_string(NULL, &a->taskgroup, "g"));
	a->has_clientstatus = 1;
	a->clientstatus = cs;
	return a;
}

static int status_of(nomad_state *s, const char *id)
{
	nomad_state_snap *snap;
	nomad_job *j;
	int st;
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_OK(nomad_state_job_get(snap, "default", id, &j));
	st = j->status;
	nomad_job_free(j);
	nomad_state_snap_close(snap);
	return st;
}

NMD_TEST(test_state_jobstatus__follows_evals_and_allocs)
{
	nomad_state *s = sf_open(NULL);
	nomad_job *j = job("web", NOMAD__JOB_TYPE__service);
	nomad_eval *e = eval("web", NOMAD__EVALUATION__STATUS_KIND__pending);
	nomad_alloc *a = alloc("web", NOMAD__ALLOCATION__CLIENT_STATUS_KIND__running);
	nomad_state_txn *txn;

	/* Registered with its evaluation, in one entry: pending. */
	CHECK_OK(nomad_state_txn_begin(s, 1, &txn, NULL));
	CHECK_OK(nomad_state_job_upsert(txn, j, NULL));
	CHECK_OK(nomad_state_evals_upsert(txn, &e, 1, NULL));
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
	CHECK_INT(status_of(s, "web"), NOMAD__JOB__STATUS_KIND__pending);

	/* The evaluation placed a running allocation: running. */
	e->status = NOMAD__EVALUATION__STATUS_KIND__complete;
	CHECK_OK(nomad_state_txn_begin(s, 2, &txn, NULL));
	CHECK_OK(nomad_state_evals_upsert(txn, &e, 1, NULL));
	CHECK_OK(nomad_state_allocs_upsert(txn, &a, 1, NULL));
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
	CHECK_INT(status_of(s, "web"), NOMAD__JOB__STATUS_KIND__running);

	/* The allocation completed: every eval and alloc ended, dead. */
	a->clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__complete;
	CHECK_OK(nomad_state_txn_begin(s, 3, &txn, NULL));
	CHECK_OK(nomad_state_allocs_client_update(txn, &a, 1, NULL));
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
	CHECK_INT(status_of(s, "web"), NOMAD__JOB__STATUS_KIND__dead);

	nomad_job_free(j);
	nomad_eval_free(e);
	nomad_alloc_free(a);
	nomad_state_close(s);
}

NMD_TEST(test_state_jobstatus__system_periodic_parameterized_run)
{
	nomad_state *s = sf_open(NULL);
	nomad_job *sys = job("sys", NOMAD__JOB_TYPE__system);
	nomad_job *per = job("per", NOMAD__JOB_TYPE__batch);
	nomad_job *par = job("par", NOMAD__JOB_TYPE__batch);
	nomad_state_txn *txn;
	per->periodic = nmd_pb_new(&nomad__periodic_config__descriptor, NULL);
	par->parameterizedjob = nmd_pb_new(&nomad__parameterized_job_config__descriptor, NULL);
	CHECK_OK(nomad_state_txn_begin(s, 1, &txn, NULL));
	CHECK_OK(nomad_state_job_upsert(txn, sys, NULL));
	CHECK_OK(nomad_state_job_upsert(txn, per, NULL));
	CHECK_OK(nomad_state_job_upsert(txn, par, NULL));
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
	CHECK_INT(status_of(s, "sys"), NOMAD__JOB__STATUS_KIND__running);
	CHECK_INT(status_of(s, "per"), NOMAD__JOB__STATUS_KIND__running);
	CHECK_INT(status_of(s, "par"), NOMAD__JOB__STATUS_KIND__running);
	sys->has_stop = 1;
	sys->stop = 1;
	CHECK_OK(nomad_state_txn_begin(s, 2, &txn, NULL));
	CHECK_OK(nomad_state_job_upsert(txn, sys, NULL));
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
	CHECK_INT(status_of(s, "sys"), NOMAD__JOB__STATUS_KIND__dead);
	nomad_job_free(sys);
	nomad_job_free(per);
	nomad_job_free(par);
	nomad_state_close(s);
}
