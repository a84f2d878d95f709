/* SPDX-License-Identifier: MPL-2.0 */
/*
 * A job's status, worked out as Nomad's getJobStatus does, at commit time
 * for every job whose allocations, evaluations or spec the transaction
 * touched: system, periodic and parameterized jobs are running until
 * stopped; any other job is running while it has a non-terminal
 * allocation, pending while it has a non-terminal evaluation, dead once
 * it has had allocations or evaluations and all are terminal, and pending
 * before any of that.
 */
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "state/jobs_int.h"
#include "state/state_int.h"
#include "structs/pb.h"

void nmd_touch_job(nomad_state_txn *txn, const char *ns, const char *job_id)
{
	char key[512];
	int n;
	if (!job_id)
		return;
	n = snprintf(key, sizeof(key), "%s%c%s", ns && ns[0] ? ns : "default",
		     '\0', job_id);
	if (n > 0 && n < (int)sizeof(key))
		nmd_keycache_put(&txn->jobs_touched, key, (size_t)n, 1);
}

/* Whether the job has an allocation at all (`live_only` false) or a
 * non-terminal one. */
static nomad_err has_alloc(nomad_state_txn *txn, const char *ns,
			   const char *id, bool live_only, bool *out,
			   nomad_error *err)
{
	static const char sql[] =
		"SELECT 1 FROM job_keys k JOIN alloc_by_job x ON x.jk = k.jk"
		" JOIN alloc_loc l ON l.id = x.id"
		" LEFT JOIN allocs_cold c ON c.k = (l.node_pk << 40) | l.pk"
		" LEFT JOIN allocs_hot h ON c.k IS NULL AND h.pk = l.pk"
		" WHERE k.ns = ?1 AND k.job_id = ?2"
		" AND (COALESCE(c.status, h.status) & ?3) = 0 LIMIT 1";
	sqlite3_stmt *st = nmd_stmt(txn->c, sql, err);
	int step;
	if (!st)
		return NOMAD_EIO;
	sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 3, live_only ? 1 : 0);
	step = sqlite3_step(st);
	*out = step == SQLITE_ROW;
	sqlite3_reset(st);
	return step == SQLITE_ROW || step == SQLITE_DONE
		       ? NOMAD_OK : nmd_sqlite_fail(txn->c, err, "job allocations");
}

/* Whether the job has evaluations, and whether one is still open. */
static nomad_err eval_state(nomad_state_txn *txn, const char *ns,
			    const char *id, bool *any, bool *open,
			    nomad_error *err)
{
	static const char sql[] =
		"SELECT body FROM evals WHERE ns = ?1 AND job_id = ?2";
	sqlite3_stmt *st = nmd_stmt(txn->c, sql, err);
	int step;
	*any = *open = false;
	if (!st)
		return NOMAD_EIO;
	sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	while (!*open && (step = sqlite3_step(st)) == SQLITE_ROW) {
		nomad_eval *e;
		if (nmd_column_body(txn->s, st, 0, &nomad__evaluation__descriptor,
				    (ProtobufCMessage **)&e, NULL) < 0)
			continue;
		*any = true;
		*open = !e->has_status ||
			e->status == NOMAD__EVALUATION__STATUS_KIND__pending ||
			e->status == NOMAD__EVALUATION__STATUS_KIND__blocked;
		nomad_eval_free(e);
	}
	sqlite3_reset(st);
	return NOMAD_OK;
}

static nomad_err status_of(nomad_state_txn *txn, const nomad_job *job,
			   const char *ns, Nomad__Job__StatusKind *out,
			   nomad_error *err)
{
	bool live, any_alloc, any_eval, open_eval;
	nomad_err rc;
	if ((job->has_type && job->type == NOMAD__JOB_TYPE__system) ||
	    job->periodic || job->parameterizedjob) {
		*out = job->stop ? NOMAD__JOB__STATUS_KIND__dead
				 : NOMAD__JOB__STATUS_KIND__running;
		return NOMAD_OK;
	}
	if ((rc = has_alloc(txn, ns, job->id, true, &live, err)) < 0)
		return rc;
	if (live) {
		*out = NOMAD__JOB__STATUS_KIND__running;
		return NOMAD_OK;
	}
	if ((rc = eval_state(txn, ns, job->id, &any_eval, &open_eval, err)) < 0 ||
	    (rc = has_alloc(txn, ns, job->id, false, &any_alloc, err)) < 0)
		return rc;
	*out = open_eval ? NOMAD__JOB__STATUS_KIND__pending
	       : any_eval || any_alloc ? NOMAD__JOB__STATUS_KIND__dead
				       : NOMAD__JOB__STATUS_KIND__pending;
	return NOMAD_OK;
}

/* Refresh one job; a missing job (allocations outlive a purge) is fine. */
static nomad_err refresh(nomad_state_txn *txn, const char *ns, const char *id,
			 nomad_error *err)
{
	static const char get_sql[] = "SELECT body FROM jobs WHERE ns = ?1 AND id = ?2";
	static const char put_sql[] = "UPDATE jobs SET body = ?3 WHERE ns = ?1 AND id = ?2";
	sqlite3_stmt *st = nmd_stmt(txn->c, get_sql, err);
	nomad_job *job = NULL;
	Nomad__Job__StatusKind status;
	nomad_err rc = NOMAD_OK;
	if (!st)
		return NOMAD_EIO;
	sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		rc = nmd_column_body(txn->s, st, 0, &nomad__job__descriptor,
				     (ProtobufCMessage **)&job, err);
	sqlite3_reset(st);
	if (rc < 0 || !job)
		return rc;
	if ((rc = status_of(txn, job, ns, &status, err)) >= 0 &&
	    (!job->has_status || job->status != status)) {
		if (job->parentid &&
		    (rc = nmd_summary_child_changed(
			     txn, ns, job->parentid,
			     job->has_status ? (int)job->status : -1,
			     (int)status, err)) < 0) {
			nomad_job_free(job);
			return rc;
		}
		job->has_status = 1;
		job->status = status;
		job->has_modifyindex = 1;
		job->modifyindex = txn->index;
		if (!(st = nmd_stmt(txn->c, put_sql, err))) {
			rc = NOMAD_EIO;
		} else {
			sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
			sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
			if ((rc = nmd_bind_body(txn, st, 3, &job->base, err)) >= 0)
				rc = nmd_stmt_exec(txn->c, st, err);
			nmd_touch(txn, NOMAD_TABLE_JOBS);
			/* Watches on the job wake, and subscribers see it:
			 * one Job event with its final state, the one the
			 * transaction recorded already when it wrote the job. */
			nmd_touch_job_key(txn, NOMAD_TABLE_JOBS, ns, id);
			if (rc >= 0)
				rc = nmd_txn_event_final(
					txn, NOMAD_TOPIC_JOB,
					NOMAD_EVENT_JOB_REGISTERED, id, ns, NULL,
					0, &job->base, err);
		}
	}
	nomad_job_free(job);
	return rc;
}

nomad_err nmd_jobs_refresh_status(nomad_state_txn *txn, nomad_error *err)
{
	struct nmd_keycache *kc = &txn->jobs_touched;
	nomad_err rc = NOMAD_OK;
	for (size_t i = 0; i < nmd_keycache_capacity(kc) && rc >= 0; i++) {
		const char *key;
		size_t len;
		if (!nmd_keycache_slot_key(kc, i, (const void **)&key, &len))
			continue;
		/* "ns\0job": the key holds both, NUL-separated. */
		char buf[512];
		memcpy(buf, key, len);
		buf[len] = '\0';
		rc = refresh(txn, buf, buf + strlen(buf) + 1, err);
	}
	nmd_keycache_clear(kc);
	return rc;
}
