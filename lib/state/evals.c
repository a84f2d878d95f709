/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Evaluations: Nomad's UpsertEvals and DeleteEval, the lookup by ID, the
 * listing in ID order and the evaluations of one job.
 *
 * Rows are keyed by the 16-byte UUID, so ID order is byte order and a
 * prefix is a byte range; ns and job_id are copied out of the body for the
 * per-job index. Writing an evaluation also does what Nomad's
 * nestedUpsertEval does to its neighbours: its QueuedAllocations become
 * the job summary's Queued counts, and a complete evaluation without
 * placement failures cancels the job's blocked evaluations.
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "state/evals_int.h"
#include "structs/pb.h"

static const char *ns_of(const nomad_eval *ev)
{
	return ev->namespace_ && ev->namespace_[0] ? ev->namespace_ : "default";
}

/* ---- writes ------------------------------------------------------------- */

static const char *nonempty(const char *s)
{
	return s && s[0] ? s : NULL;
}

/* Tell watches and subscribers that `ev` was written. */
static nomad_err changed(nomad_state_txn *txn, const nomad_eval *ev,
			 nomad_error *err)
{
	const char *fk[2] = {nonempty(ev->jobid), nonempty(ev->deploymentid)};
	nmd_touch_key(txn, NOMAD_TABLE_EVALS, ev->id);
	nmd_touch_job_key(txn, NOMAD_TABLE_EVALS, ns_of(ev), ev->jobid);
	return nmd_txn_event(txn, NOMAD_TOPIC_EVALUATION,
			     NOMAD_EVENT_EVALUATION_UPDATED, ev->id, ns_of(ev),
			     fk, 2, &ev->base, err);
}

static nomad_err put_row(nomad_state_txn *txn, const uint8_t id[16],
			 const nomad_eval *ev, nomad_error *err)
{
	static const char sql[] =
		"INSERT INTO evals(id, ns, job_id, body) VALUES(?1, ?2, ?3, ?4) "
		"ON CONFLICT(id) DO UPDATE SET ns = excluded.ns, "
		"job_id = excluded.job_id, body = excluded.body";
	sqlite3_stmt *st = nmd_stmt(txn->c, sql, err);
	nomad_err rc;
	if (!st)
		return NOMAD_EIO;
	sqlite3_bind_blob(st, 1, id, 16, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ns_of(ev), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, ev->jobid ? ev->jobid : "", -1, SQLITE_STATIC);
	if ((rc = nmd_bind_body(txn, st, 4, &ev->base, err)) < 0) {
		sqlite3_reset(st);
		return rc;
	}
	if ((rc = nmd_stmt_exec(txn->c, st, err)) < 0)
		return rc;
	return changed(txn, ev, err);
}

/* The CreateIndex of the stored evaluation `id`, or 0 when there is none. */
static nomad_err stored_create_index(nomad_state_txn *txn, const uint8_t id[16],
				     uint64_t *out, nomad_error *err)
{
	static const char sql[] = "SELECT body FROM evals WHERE id = ?1";
	nomad_eval *old;
	nomad_err rc = nmd_body_by_id(txn->c, sql, id,
				      &nomad__evaluation__descriptor,
				      (ProtobufCMessage **)&old, err);
	*out = 0;
	if (rc == NOMAD_ENOTFOUND)
		return NOMAD_OK;
	if (rc < 0)
		return rc;
	*out = old->createindex;
	nmd_pb_free(old, NMD_STATE_MSG_ALLOC);
	return NOMAD_OK;
}

/* The blocked evaluations of job (ns, job_id) other than `self`, decoded
 * into *out (n of them); collected first so that rewriting them does not
 * disturb the scan. */
static nomad_err blocked_of_job(nomad_state_txn *txn, const char *ns,
				const char *job_id, const uint8_t self[16],
				nomad_eval ***out, size_t *n, nomad_error *err)
{
	static const char sql[] =
		"SELECT id, body FROM evals WHERE ns = ?1 AND job_id = ?2";
	const nomad_allocator *a = NMD_STATE_MSG_ALLOC;
	sqlite3_stmt *st = nmd_stmt(txn->c, sql, err);
	nomad_err rc = NOMAD_OK;
	int step;
	if (!st)
		return NOMAD_EIO;
	sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, job_id, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		nomad_eval *ev;
		if (sqlite3_column_bytes(st, 0) == 16 &&
		    memcmp(sqlite3_column_blob(st, 0), self, 16) == 0)
			continue;
		if ((rc = nmd_column_body(txn->s, st, 1,
					  &nomad__evaluation__descriptor,
					  (ProtobufCMessage **)&ev, err)) < 0)
			break;
		if (!ev->has_status ||
		    ev->status != NOMAD__EVALUATION__STATUS_KIND__blocked) {
			nmd_pb_free(ev, a);
			continue;
		}
		if (!nmd_pb_append(a, (void ***)out, n, ev)) {
			nmd_pb_free(ev, a);
			rc = nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
			break;
		}
	}
	if (rc >= 0 && step != SQLITE_DONE)
		rc = nmd_sqlite_fail(txn->c, err, "read evaluations");
	sqlite3_reset(st);
	return rc;
}

/* A successful evaluation makes the job's blocked ones moot: cancel them,
 * with Nomad's description (which names the blocked evaluation itself). */
static nomad_err cancel_blocked(nomad_state_txn *txn, const nomad_eval *ev,
				const uint8_t self[16], nomad_error *err)
{
	const nomad_allocator *a = NMD_STATE_MSG_ALLOC;
	nomad_eval **blocked = NULL;
	size_t n = 0;
	nomad_err rc = blocked_of_job(txn, ns_of(ev), ev->jobid ? ev->jobid : "",
				      self, &blocked, &n, err);
	for (size_t i = 0; i < n && rc >= 0; i++) {
		nomad_eval *b = blocked[i];
		char desc[NOMAD_UUID_LEN + 32];
		uint8_t id[16];
		snprintf(desc, sizeof(desc), "evaluation \"%s\" successful",
			 b->id ? b->id : "");
		if (!b->id || !nmd_uuid_to_bytes(b->id, id))
			continue; /* stored under its ID, so never */
		b->status = NOMAD__EVALUATION__STATUS_KIND__canceled;
		b->has_modifyindex = 1;
		b->modifyindex = txn->index;
		if (!nmd_pb_set_string(a, &b->statusdescription, desc)) {
			rc = nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
			break;
		}
		rc = put_row(txn, id, b, err);
	}
	for (size_t i = 0; i < n; i++)
		nmd_pb_free(blocked[i], a);
	nmd_free(a, blocked);
	return rc;
}

static nomad_err upsert_one(nomad_state_txn *txn, nomad_eval *ev,
			    nomad_error *err)
{
	uint8_t id[16];
	uint64_t create;
	nomad_err rc;
	nmd_uuid_to_bytes(ev->id, id);
	if ((rc = stored_create_index(txn, id, &create, err)) < 0)
		return rc;
	/* As in Nomad, the caller's evaluation carries its indexes back. */
	ev->has_createindex = ev->has_modifyindex = 1;
	ev->createindex = create ? create : txn->index;
	ev->modifyindex = txn->index;
	/* Nomad takes QueuedAllocations from any evaluation that has them;
	 * the scheduler sets them when it completes, blocks or fails one. */
	if (ev->n_queuedallocations &&
	    (rc = nmd_summary_set_queued(txn, ns_of(ev), ev->jobid,
					 ev->queuedallocations,
					 ev->n_queuedallocations, err)) < 0)
		return rc;
	if (ev->has_status &&
	    ev->status == NOMAD__EVALUATION__STATUS_KIND__complete &&
	    ev->n_failedtgallocs == 0 &&
	    (rc = cancel_blocked(txn, ev, id, err)) < 0)
		return rc;
	return put_row(txn, id, ev, err);
}

nomad_err nomad_state_evals_upsert(nomad_state_txn *txn,
				   nomad_eval *const *evals, size_t n,
				   nomad_error *err)
{
	uint8_t id[16];
	nomad_err rc;
	if (!txn || (n && !evals))
		return nmd_seterr(err, NOMAD_EINVAL, "state: no evaluations");
	/* Check them all first so that a bad one writes nothing. */
	for (size_t i = 0; i < n; i++)
		if (!evals[i] || !evals[i]->id ||
		    !nmd_uuid_to_bytes(evals[i]->id, id))
			return nmd_seterr(err, NOMAD_EINVAL,
					  "state: evaluation ID is not a UUID: "
					  "id=%s",
					  evals[i] && evals[i]->id
						  ? evals[i]->id
						  : "(none)");
	for (size_t i = 0; i < n; i++) {
		if ((rc = upsert_one(txn, evals[i], err)) < 0)
			return rc;
		nmd_touch_job(txn, evals[i]->namespace_, evals[i]->jobid);
	}
	if (n)
		nmd_touch(txn, NOMAD_TABLE_EVALS);
	return NOMAD_OK;
}

nomad_err nomad_state_evals_delete(nomad_state_txn *txn,
				   const char *const *eval_ids, size_t n_evals,
				   const char *const *alloc_ids, size_t n_allocs,
				   nomad_error *err)
{
	static const char sql[] =
		"DELETE FROM evals WHERE id = ?1 RETURNING ns, job_id";
	nomad_err rc;
	if (!txn || (n_evals && !eval_ids) || (n_allocs && !alloc_ids))
		return nmd_seterr(err, NOMAD_EINVAL, "state: no IDs");
	for (size_t i = 0; i < n_evals; i++) {
		sqlite3_stmt *st;
		uint8_t id[16];
		if (!eval_ids[i] || !nmd_uuid_to_bytes(eval_ids[i], id))
			continue;
		if (!(st = nmd_stmt(txn->c, sql, err)))
			return NOMAD_EIO;
		sqlite3_bind_blob(st, 1, id, 16, SQLITE_STATIC);
		/* Its job's status may move once the evaluation is gone. */
		if (sqlite3_step(st) == SQLITE_ROW) {
			const char *ns = (const char *)sqlite3_column_text(st, 0);
			const char *job = (const char *)sqlite3_column_text(st, 1);
			nmd_touch_job(txn, ns, job);
			nmd_touch_job_key(txn, NOMAD_TABLE_EVALS, ns, job);
			nmd_touch_key(txn, NOMAD_TABLE_EVALS, eval_ids[i]);
		}
		if ((rc = nmd_stmt_exec(txn->c, st, err)) < 0)
			return rc;
	}
	if (n_allocs &&
	    (rc = nmd_allocs_delete(txn, alloc_ids, n_allocs, err)) < 0)
		return rc;
	/* Nomad moves both tables' indexes on every DeleteEval. */
	nmd_touch(txn, NOMAD_TABLE_EVALS);
	nmd_touch(txn, NOMAD_TABLE_ALLOCS);
	return NOMAD_OK;
}

/* ---- reads -------------------------------------------------------------- */

nomad_err nomad_state_eval_get(nomad_state_snap *snap, const char *id,
			       nomad_eval **out)
{
	static const char sql[] = "SELECT body FROM evals WHERE id = ?1";
	uint8_t key[16];
	if (!out)
		return NOMAD_EINVAL;
	*out = NULL;
	if (!snap)
		return NOMAD_EINVAL;
	if (!id || !nmd_uuid_to_bytes(id, key))
		return NOMAD_ENOTFOUND;
	return nmd_body_by_id(snap->c, sql, key, &nomad__evaluation__descriptor,
			      (ProtobufCMessage **)out, NULL);
}

nomad_err nomad_state_evals_by_job(nomad_state_snap *snap, const char *ns,
				   const char *job_id, nomad_state_iter_cb cb,
				   void *userdata, nomad_error *err)
{
	static const char sql[] =
		"SELECT '', body FROM evals WHERE ns = ?1 AND job_id = ?2 "
		"ORDER BY id";
	sqlite3_stmt *st;
	if (!snap || !job_id || !cb)
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: no snapshot, job ID or callback");
	if (!(st = nmd_stmt(snap->c, sql, err)))
		return NOMAD_EIO;
	sqlite3_bind_text(st, 1, ns && ns[0] ? ns : "default", -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 2, job_id, -1, SQLITE_STATIC);
	return nmd_list_rows(snap, st, &nomad__evaluation__descriptor, NULL, cb,
			     userdata, NULL, err);
}

/*
 * The listing in ID order, over the bounds nmd_id_range gives: the token
 * is the next evaluation's ID in text form, as Nomad's ID tokenizer gives
 * it. "+ns" keeps SQLite from choosing the per-job index, which would
 * sort the whole namespace for every page.
 */
#define EVAL_ID_TEXT                                                          \
	"lower(substr(hex(id), 1, 8) || '-' || substr(hex(id), 9, 4) || '-' " \
	"|| substr(hex(id), 13, 4) || '-' || substr(hex(id), 17, 4) || '-' "  \
	"|| substr(hex(id), 21))"
#define EVALS_LIST(where, order)                                              \
	"SELECT " EVAL_ID_TEXT ", body FROM evals WHERE " where               \
	"id >= ?2 AND id < ?3 ORDER BY id " order

nomad_err nomad_state_evals_list(nomad_state_snap *snap,
				 const nomad_state_list_options *opts,
				 nomad_state_iter_cb cb, void *userdata,
				 char next_token[NOMAD_STATE_TOKEN_MAX],
				 nomad_error *err)
{
	static const char *const sqls[4] = {
		EVALS_LIST("+ns = ?1 AND ", "ASC"),
		EVALS_LIST("+ns = ?1 AND ", "DESC"),
		EVALS_LIST("", "ASC"),
		EVALS_LIST("", "DESC"),
	};
	const nomad_state_list_options def = NOMAD_STATE_LIST_OPTIONS_INIT;
	const nomad_state_list_options *o = opts ? opts : &def;
	const char *ns = o->ns && o->ns[0] ? o->ns : "default";
	bool all = strcmp(ns, "*") == 0;
	struct nmd_id_range r;
	sqlite3_stmt *st;
	/* The range comes before clearing next_token, which may be the
	 * very buffer o->next_token points at. */
	nomad_err rc = nmd_id_range(o, &r, err);
	if (next_token)
		next_token[0] = '\0';
	if (rc < 0)
		return rc;
	if (!snap || !cb)
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: no snapshot or callback");
	if (!(st = nmd_stmt(snap->c, sqls[(all ? 2 : 0) + (o->reverse ? 1 : 0)],
			    err)))
		return NOMAD_EIO;
	if (!all)
		sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, r.lo, r.lo_len, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 3, r.hi, r.hi_len, SQLITE_TRANSIENT);
	return nmd_list_rows(snap, st, &nomad__evaluation__descriptor, o, cb,
			     userdata, next_token, err);
}
