/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Jobs and their versions: Nomad's UpsertJob and DeleteJob (with the job's
 * periodic launch, as Nomad's purge deletes it), marking a version stable
 * for a successful deployment, the lookups by namespace and ID, the
 * version history and the jobs listing.
 *
 * The jobs row holds the current job; job_versions holds every version
 * (the current one included, rewritten on each upsert as Nomad rewrites
 * its job_version entry) and is pruned to the newest NMD_STATE_JOB_VERSIONS.
 * Whether an upsert makes a new version is decided by comparing the specs
 * with the server-set fields cleared, as Nomad's Job.SpecChanged does.
 */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "state/jobs_int.h"
#include "structs/pb.h"

static const char *ns_or_default(const char *ns)
{
	return ns && ns[0] ? ns : "default";
}

/* The job (ns, id) as `c` sees it: *pk and *out (decoded), or *out NULL
 * when there is no such job. `pk` may be NULL. */
static nomad_err find_job(nomad_state *s, struct nmd_conn *c, const char *ns,
			  const char *id, int64_t *pk, nomad_job **out,
			  nomad_error *err)
{
	static const char sql[] =
		"SELECT pk, body FROM jobs WHERE ns = ?1 AND id = ?2";
	sqlite3_stmt *st = nmd_stmt(c, sql, err);
	nomad_err rc = NOMAD_OK;
	int step;
	*out = NULL;
	if (!st)
		return NOMAD_EIO;
	sqlite3_bind_text(st, 1, ns_or_default(ns), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if ((step = sqlite3_step(st)) == SQLITE_ROW) {
		if (pk)
			*pk = sqlite3_column_int64(st, 0);
		rc = nmd_column_body(s, st, 1, &nomad__job__descriptor,
				     (ProtobufCMessage **)out, err);
	} else if (step != SQLITE_DONE) {
		rc = nmd_sqlite_fail(c, err, "read job");
	}
	sqlite3_reset(st);
	return rc;
}

/* ---- upsert ------------------------------------------------------------- */

/* Unset the fields the server sets. Nothing is freed: the caller keeps a
 * copy of the struct and puts it back whole. */
static void clear_server_fields(nomad_job *j)
{
	j->has_status = 0;
	j->status = 0;
	j->statusdescription = NULL;
	j->has_stable = 0;
	j->stable = 0;
	j->has_version = 0;
	j->version = 0;
	j->has_submittime = 0;
	j->submittime = 0;
	j->has_createindex = 0;
	j->createindex = 0;
	j->has_modifyindex = 0;
	j->modifyindex = 0;
	j->has_jobmodifyindex = 0;
	j->jobmodifyindex = 0;
	j->versiontag = NULL;
}

/* Whether `a` and `b` differ in anything but the server-set fields (Nomad's
 * Job.SpecChanged). Both are left as they were. */
static bool spec_changed(nomad_job *a, nomad_job *b)
{
	nomad_job sa = *a, sb = *b;
	bool same;
	clear_server_fields(a);
	clear_server_fields(b);
	same = nomad_msg_equal(&a->base, &b->base);
	*a = sa;
	*b = sb;
	return !same;
}

/* Set `nj`'s server fields for a new job (old NULL) or an update of `old`.
 * A field the caller set wins; an unset one comes from the stored job when
 * the spec is unchanged. Strings and messages taken from `old` are moved. */
static void set_server_fields(nomad_job *nj, nomad_job *old, bool changed,
			      uint64_t index)
{
#define TAKE(f) (nj->f = old->f, old->f = NULL)
	nj->has_createindex = nj->has_modifyindex = 1;
	nj->has_version = nj->has_jobmodifyindex = 1;
	nj->modifyindex = index;
	if (!old) {
		nj->createindex = nj->jobmodifyindex = index;
		nj->version = 0;
	} else if (changed) {
		nj->createindex = old->createindex;
		nj->version = old->version + 1;
		nj->jobmodifyindex = index;
	} else {
		nj->createindex = old->createindex;
		nj->version = old->version;
		nj->jobmodifyindex = old->jobmodifyindex;
		if (!nj->has_stable && old->has_stable) {
			nj->has_stable = 1;
			nj->stable = old->stable;
		}
		if (!nj->has_submittime && old->has_submittime) {
			nj->has_submittime = 1;
			nj->submittime = old->submittime;
		}
		if (!nj->versiontag)
			TAKE(versiontag);
	}
	if (!nj->has_status && old && old->has_status) {
		nj->has_status = 1;
		nj->status = old->status;
		if (!nj->statusdescription)
			TAKE(statusdescription);
	}
	if (!nj->has_status) {
		nj->has_status = 1;
		nj->status = NOMAD__JOB__STATUS_KIND__pending;
	}
	if (!nj->has_stable)
		nj->has_stable = 1; /* false, shown as such */
#undef TAKE
}

/* Write the jobs row: update `*pk`, or insert and set it when 0. */
static nomad_err write_job(nomad_state_txn *txn, int64_t *pk,
			   const nomad_job *nj, nomad_error *err)
{
	static const char sql_insert[] =
		"INSERT INTO jobs(ns, id, body) VALUES(?1, ?2, ?3)";
	static const char sql_update[] =
		"UPDATE jobs SET body = ?3 WHERE pk = ?4";
	sqlite3_stmt *st = nmd_stmt(txn->c, *pk ? sql_update : sql_insert, err);
	nomad_err rc;
	if (!st)
		return NOMAD_EIO;
	if (*pk) {
		sqlite3_bind_int64(st, 4, *pk);
	} else {
		sqlite3_bind_text(st, 1, nj->namespace_, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, nj->id, -1, SQLITE_STATIC);
	}
	if ((rc = nmd_bind_body(txn, st, 3, &nj->base, err)) < 0) {
		sqlite3_reset(st);
		return rc;
	}
	if ((rc = nmd_stmt_exec(txn->c, st, err)) < 0)
		return rc;
	if (!*pk)
		*pk = sqlite3_last_insert_rowid(txn->c->db);
	nmd_touch(txn, NOMAD_TABLE_JOBS);
	nmd_touch_job(txn, nj->namespace_, nj->id);
	return NOMAD_OK;
}

static nomad_err write_version(nomad_state_txn *txn, int64_t pk,
			       const nomad_job *nj, nomad_error *err)
{
	static const char sql[] =
		"INSERT INTO job_versions(job_pk, version, body) "
		"VALUES(?1, ?2, ?3) ON CONFLICT(job_pk, version) "
		"DO UPDATE SET body = excluded.body";
	sqlite3_stmt *st = nmd_stmt(txn->c, sql, err);
	nomad_err rc;
	if (!st)
		return NOMAD_EIO;
	sqlite3_bind_int64(st, 1, pk);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)nj->version);
	if ((rc = nmd_bind_body(txn, st, 3, &nj->base, err)) < 0) {
		sqlite3_reset(st);
		return rc;
	}
	if ((rc = nmd_stmt_exec(txn->c, st, err)) < 0)
		return rc;
	nmd_touch(txn, NOMAD_TABLE_JOB_VERSIONS);
	return NOMAD_OK;
}

/* Read job `pk`'s versions, newest first, into v[0..n) (n <= cap), with
 * the position of the newest stable one in *stable (-1: none). */
static nomad_err read_versions(nomad_state_txn *txn, int64_t pk, uint64_t *v,
			       size_t cap, size_t *n, long *stable,
			       nomad_error *err)
{
	static const char sql[] =
		"SELECT version, body FROM job_versions WHERE job_pk = ?1 "
		"ORDER BY version DESC";
	sqlite3_stmt *st = nmd_stmt(txn->c, sql, err);
	nomad_err rc = NOMAD_OK;
	int step = SQLITE_DONE;
	*n = 0;
	*stable = -1;
	if (!st)
		return NOMAD_EIO;
	sqlite3_bind_int64(st, 1, pk);
	while (*n < cap && (step = sqlite3_step(st)) == SQLITE_ROW) {
		v[*n] = (uint64_t)sqlite3_column_int64(st, 0);
		if (*stable < 0) {
			nomad_job *j;
			if ((rc = nmd_column_body(txn->s, st, 1,
						  &nomad__job__descriptor,
						  (ProtobufCMessage **)&j,
						  err)) < 0)
				break;
			if (j->has_stable && j->stable)
				*stable = (long)*n;
			nmd_pb_free(j, NMD_STATE_MSG_ALLOC);
		}
		(*n)++;
	}
	if (rc >= 0 && *n < cap && step != SQLITE_DONE)
		rc = nmd_sqlite_fail(txn->c, err, "read job versions");
	sqlite3_reset(st);
	return rc;
}

/*
 * Keep the newest NMD_STATE_JOB_VERSIONS versions of job `pk`. As in
 * Nomad's upsertJobVersion, the newest stable version is never the one
 * dropped: when it is older than the kept ones it takes the place of the
 * oldest of them, so a revert target survives any number of updates.
 */
static nomad_err prune_versions(nomad_state_txn *txn, int64_t pk,
				nomad_error *err)
{
	static const char sql_count[] =
		"SELECT count(*) FROM job_versions WHERE job_pk = ?1";
	static const char sql_del[] =
		"DELETE FROM job_versions WHERE job_pk = ?1 AND version = ?2";
	const nomad_allocator *a = NMD_STATE_MSG_ALLOC;
	sqlite3_stmt *st = nmd_stmt(txn->c, sql_count, err);
	size_t count = 0, n, keep;
	uint64_t *v;
	long stable;
	nomad_err rc;
	if (!st)
		return NOMAD_EIO;
	sqlite3_bind_int64(st, 1, pk);
	if (sqlite3_step(st) == SQLITE_ROW)
		count = (size_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (count <= NMD_STATE_JOB_VERSIONS)
		return NOMAD_OK;
	if (!(v = nmd_calloc(a, count, sizeof(*v))))
		return nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
	if ((rc = read_versions(txn, pk, v, count, &n, &stable, err)) < 0)
		goto done;
	/* The newest `keep` stay, plus the newest stable one if older. */
	keep = stable >= NMD_STATE_JOB_VERSIONS ? NMD_STATE_JOB_VERSIONS - 1
						: NMD_STATE_JOB_VERSIONS;
	for (size_t i = keep; i < n; i++) {
		if ((long)i == stable)
			continue;
		if (!(st = nmd_stmt(txn->c, sql_del, err))) {
			rc = NOMAD_EIO;
			goto done;
		}
		sqlite3_bind_int64(st, 1, pk);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)v[i]);
		if ((rc = nmd_stmt_exec(txn->c, st, err)) < 0)
			goto done;
	}
done:
	nmd_free(a, v);
	return rc;
}

static int status_or_none(const nomad_job *j)
{
	return j && j->has_status ? (int)j->status : -1;
}

nomad_err nomad_state_job_upsert(nomad_state_txn *txn, const nomad_job *job,
				 nomad_error *err)
{
	const nomad_allocator *a;
	nomad_job *nj = NULL, *old = NULL;
	int64_t pk = 0;
	nomad_err rc;
	if (!txn || !job)
		return nmd_seterr(err, NOMAD_EINVAL, "state: no job");
	if (!job->namespace_ || !job->namespace_[0] || !job->id || !job->id[0])
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: job without namespace or ID");
	a = NMD_STATE_MSG_ALLOC;
	if (nomad_msg_copy((ProtobufCMessage **)&nj, &job->base, a) < 0)
		return nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
	if ((rc = find_job(txn->s, txn->c, job->namespace_, job->id, &pk, &old,
			   err)) < 0)
		goto done;
	set_server_fields(nj, old, old && spec_changed(old, nj), txn->index);
	if ((rc = write_job(txn, &pk, nj, err)) < 0 ||
	    (rc = write_version(txn, pk, nj, err)) < 0 ||
	    (rc = prune_versions(txn, pk, err)) < 0 ||
	    (rc = nmd_summary_job_upserted(txn, pk, nj, err)) < 0)
		goto done;
	if ((rc = nmd_summary_child_changed(txn, nj->namespace_, nj->parentid,
					    status_or_none(old),
					    (int)nj->status, err)) < 0)
		goto done;
	nmd_touch_job_key(txn, NOMAD_TABLE_JOBS, nj->namespace_, nj->id);
	nmd_touch_job_key(txn, NOMAD_TABLE_JOB_VERSIONS, nj->namespace_, nj->id);
	rc = nmd_txn_event(txn, NOMAD_TOPIC_JOB, NOMAD_EVENT_JOB_REGISTERED,
			   nj->id, nj->namespace_, NULL, 0, &nj->base, err);
done:
	nmd_pb_free(old, a);
	nmd_pb_free(nj, a);
	return rc;
}

/* ---- stability ---------------------------------------------------------- */

/* Version `version` of job `pk` as stored, or *out NULL. */
static nomad_err find_version(nomad_state_txn *txn, int64_t pk,
			      uint64_t version, nomad_job **out,
			      nomad_error *err)
{
	static const char sql[] =
		"SELECT body FROM job_versions WHERE job_pk = ?1 AND version = ?2";
	sqlite3_stmt *st = nmd_stmt(txn->c, sql, err);
	nomad_err rc = NOMAD_OK;
	int step;
	*out = NULL;
	if (!st)
		return NOMAD_EIO;
	sqlite3_bind_int64(st, 1, pk);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)version);
	if ((step = sqlite3_step(st)) == SQLITE_ROW)
		rc = nmd_column_body(txn->s, st, 0, &nomad__job__descriptor,
				     (ProtobufCMessage **)out, err);
	else if (step != SQLITE_DONE)
		rc = nmd_sqlite_fail(txn->c, err, "read job version");
	sqlite3_reset(st);
	return rc;
}

/*
 * Nomad's updateJobStabilityImpl, marking stable: the version is written
 * again with Stable and ModifyIndex = the index, Version and
 * JobModifyIndex kept (upsertJobImpl with keepVersion). When it is the
 * current version the jobs row is that same job, so it is written too,
 * with its event. A job or version that is gone, or one already stable,
 * is left alone.
 */
nomad_err nmd_job_set_stable(nomad_state_txn *txn, const char *ns,
			     const char *id, uint64_t version,
			     nomad_error *err)
{
	nomad_job *cur = NULL, *ver = NULL, *j;
	int64_t pk = 0;
	nomad_err rc;
	if (!id)
		return NOMAD_OK;
	if ((rc = find_job(txn->s, txn->c, ns, id, &pk, &cur, err)) < 0 ||
	    !cur)
		goto done;
	if (cur->version == version) {
		/* The jobs row is the newest word on the current version. */
		j = cur;
	} else {
		if ((rc = find_version(txn, pk, version, &ver, err)) < 0 ||
		    !ver)
			goto done;
		j = ver;
	}
	if (j->has_stable && j->stable)
		goto done;
	j->has_stable = j->stable = 1;
	j->has_modifyindex = 1;
	j->modifyindex = txn->index;
	if ((rc = write_version(txn, pk, j, err)) < 0)
		goto done;
	nmd_touch_job_key(txn, NOMAD_TABLE_JOB_VERSIONS, j->namespace_, j->id);
	if (j != cur)
		goto done;
	if ((rc = write_job(txn, &pk, j, err)) < 0)
		goto done;
	nmd_touch_job_key(txn, NOMAD_TABLE_JOBS, j->namespace_, j->id);
	rc = nmd_txn_event_final(txn, NOMAD_TOPIC_JOB,
				 NOMAD_EVENT_JOB_REGISTERED, j->id,
				 j->namespace_, NULL, 0, &j->base, err);
done:
	nmd_pb_free(cur, NMD_STATE_MSG_ALLOC);
	nmd_pb_free(ver, NMD_STATE_MSG_ALLOC);
	return rc;
}

/* ---- delete ------------------------------------------------------------- */

nomad_err nomad_state_job_delete(nomad_state_txn *txn, const char *ns,
				 const char *id, nomad_error *err)
{
	static const char *const sqls[] = {
		"DELETE FROM jobs WHERE pk = ?1",
		"DELETE FROM job_versions WHERE job_pk = ?1",
	};
	nomad_job *old = NULL;
	int64_t pk = 0;
	nomad_err rc;
	if (!txn || !id)
		return nmd_seterr(err, NOMAD_EINVAL, "state: no job ID");
	if ((rc = find_job(txn->s, txn->c, ns, id, &pk, &old, err)) < 0)
		return rc;
	if (!old)
		return nmd_seterr(err, NOMAD_ENOTFOUND,
				  "state: job not found: namespace=%s id=%s",
				  ns_or_default(ns), id);
	for (size_t i = 0; i < sizeof(sqls) / sizeof(*sqls); i++) {
		sqlite3_stmt *st = nmd_stmt(txn->c, sqls[i], err);
		if (!st) {
			rc = NOMAD_EIO;
			goto done;
		}
		sqlite3_bind_int64(st, 1, pk);
		if ((rc = nmd_stmt_exec(txn->c, st, err)) < 0)
			goto done;
	}
	nmd_touch(txn, NOMAD_TABLE_JOBS);
	nmd_touch(txn, NOMAD_TABLE_JOB_VERSIONS);
	if ((rc = nmd_summary_job_deleted(txn, pk, err)) < 0)
		goto done;
	/* Nomad's job deregistration with purge always deletes the job's
	 * periodic launch too (deletePeriodicLaunch): the job may have been
	 * periodic once, so whether it is now says nothing. */
	if ((rc = nmd_periodic_launch_forget(txn, old->namespace_, old->id,
					     NULL, err)) < 0)
		goto done;
	if ((rc = nmd_summary_child_changed(txn, old->namespace_,
					    old->parentid, status_or_none(old),
					    -1, err)) < 0)
		goto done;
	nmd_touch_job_key(txn, NOMAD_TABLE_JOBS, old->namespace_, old->id);
	nmd_touch_job_key(txn, NOMAD_TABLE_JOB_VERSIONS, old->namespace_, old->id);
	nmd_touch_job_key(txn, NOMAD_TABLE_JOB_SUMMARIES, old->namespace_,
			  old->id);
	/* As Nomad, the payload is the job as it was. */
	rc = nmd_txn_event(txn, NOMAD_TOPIC_JOB, NOMAD_EVENT_JOB_DEREGISTERED,
			   old->id, old->namespace_, NULL, 0, &old->base, err);
done:
	nmd_pb_free(old, NMD_STATE_MSG_ALLOC);
	return rc;
}

/* ---- reads -------------------------------------------------------------- */

nomad_err nomad_state_job_get(nomad_state_snap *snap, const char *ns,
			      const char *id, nomad_job **out)
{
	nomad_err rc;
	if (!out)
		return NOMAD_EINVAL;
	*out = NULL;
	if (!snap || !id)
		return NOMAD_EINVAL;
	if ((rc = find_job(snap->s, snap->c, ns, id, NULL, out, NULL)) < 0)
		return rc;
	return *out ? NOMAD_OK : NOMAD_ENOTFOUND;
}

nomad_err nomad_state_job_version_get(nomad_state_snap *snap, const char *ns,
				      const char *id, uint64_t version,
				      nomad_job **out)
{
	static const char sql[] =
		"SELECT v.body FROM jobs j "
		"JOIN job_versions v ON v.job_pk = j.pk "
		"WHERE j.ns = ?1 AND j.id = ?2 AND v.version = ?3";
	sqlite3_stmt *st;
	nomad_err rc = NOMAD_ENOTFOUND;
	int step;
	if (!out)
		return NOMAD_EINVAL;
	*out = NULL;
	if (!snap || !id)
		return NOMAD_EINVAL;
	if (!(st = nmd_stmt(snap->c, sql, NULL)))
		return NOMAD_EIO;
	sqlite3_bind_text(st, 1, ns_or_default(ns), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)version);
	if ((step = sqlite3_step(st)) == SQLITE_ROW)
		rc = nmd_column_body(snap->s, st, 0, &nomad__job__descriptor,
				     (ProtobufCMessage **)out, NULL);
	else if (step != SQLITE_DONE)
		rc = NOMAD_EIO;
	sqlite3_reset(st);
	return rc;
}

nomad_err nomad_state_job_versions(nomad_state_snap *snap, const char *ns,
				   const char *id, nomad_state_iter_cb cb,
				   void *userdata, nomad_error *err)
{
	static const char sql[] =
		"SELECT '', v.body FROM jobs j "
		"JOIN job_versions v ON v.job_pk = j.pk "
		"WHERE j.ns = ?1 AND j.id = ?2 ORDER BY v.version DESC";
	sqlite3_stmt *st;
	if (!snap || !id || !cb)
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: no snapshot, job ID or callback");
	if (!(st = nmd_stmt(snap->c, sql, err)))
		return NOMAD_EIO;
	sqlite3_bind_text(st, 1, ns_or_default(ns), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	return nmd_list_rows(snap, st, &nomad__job__descriptor, NULL, cb,
			     userdata, NULL, err);
}

/*
 * The listing, in (namespace, ID) order. The token is "<namespace>.<ID>"
 * (Nomad's namespace-and-ID tokenizer); namespaces cannot hold a dot, so
 * the first one splits it. Every bound is always bound, so one statement
 * per shape serves: no prefix is the prefix "", no token going forward is
 * ("", ""), and going backward it is an empty blob, which SQLite orders
 * after every text.
 */
#define JOBS_LIST(where, cmp, order)                                          \
	"SELECT ns || '.' || id, body FROM jobs WHERE " where                 \
	"id >= ?2 AND substr(id, 1, length(?2)) = ?2 "                        \
	"AND (ns, id) " cmp " (?3, ?4) ORDER BY ns " order ", id " order

nomad_err nomad_state_jobs_list(nomad_state_snap *snap,
				const nomad_state_list_options *opts,
				nomad_state_iter_cb cb, void *userdata,
				char next_token[NOMAD_STATE_TOKEN_MAX],
				nomad_error *err)
{
	static const char *const sqls[4] = {
		JOBS_LIST("ns = ?1 AND ", ">=", "ASC"),
		JOBS_LIST("ns = ?1 AND ", "<=", "DESC"),
		JOBS_LIST("", ">=", "ASC"),
		JOBS_LIST("", "<=", "DESC"),
	};
	const nomad_state_list_options def = NOMAD_STATE_LIST_OPTIONS_INIT;
	const nomad_state_list_options *o = opts ? opts : &def;
	const char *ns = ns_or_default(o->ns), *tok = o->next_token, *dot;
	bool all = strcmp(ns, "*") == 0;
	sqlite3_stmt *st;
	if (next_token)
		next_token[0] = '\0';
	if (!snap || !cb)
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: no snapshot or callback");
	if (o->version != NOMAD_STATE_LIST_OPTIONS_VERSION)
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: unknown list options version %u",
				  o->version);
	if (!(st = nmd_stmt(snap->c, sqls[(all ? 2 : 0) + (o->reverse ? 1 : 0)],
			    err)))
		return NOMAD_EIO;
	if (!all)
		sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, o->prefix ? o->prefix : "", -1, SQLITE_STATIC);
	if (tok && tok[0]) {
		dot = strchr(tok, '.');
		sqlite3_bind_text(st, 3, tok, dot ? (int)(dot - tok) : -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(st, 4, dot ? dot + 1 : "", -1, SQLITE_STATIC);
	} else if (o->reverse) {
		sqlite3_bind_zeroblob(st, 3, 0);
		sqlite3_bind_text(st, 4, "", -1, SQLITE_STATIC);
	} else {
		sqlite3_bind_text(st, 3, "", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, "", -1, SQLITE_STATIC);
	}
	return nmd_list_rows(snap, st, &nomad__job__descriptor, o, cb, userdata,
			     next_token, err);
}
