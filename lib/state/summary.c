/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Job summaries (Nomad's JobSummary): per group, how many allocations are
 * queued, starting, running, complete, failed, lost or unknown, and for a
 * parent job how many children are pending, running or dead.
 *
 * A summary is created with its job and follows it: jobs.c calls in when a
 * job is written or deleted, allocs.c when an allocation changes client
 * status, evals.c when an evaluation reports its queued placements. The
 * counts are maintained incrementally, never recomputed, which is what
 * Nomad does too; a summary or group that is missing is skipped silently,
 * since allocations and evaluations routinely outlive their job.
 */
#include <string.h>

#include "core/alloc.h"
#include "core/ctx.h"
#include "core/error.h"
#include "state/jobs_int.h"
#include "structs/pb.h"

/* ---- loading and storing ------------------------------------------------ */

/* Step `st` (columns: job_pk, body) once: *out is the summary, or NULL
 * when there is none. The statement is reset either way. */
static nomad_err load_row(nomad_state *s, struct nmd_conn *c,
			  sqlite3_stmt *st, int64_t *pk,
			  nomad_job_summary **out, nomad_error *err)
{
	nomad_err rc = NOMAD_OK;
	int step = sqlite3_step(st);
	*out = NULL;
	if (step == SQLITE_ROW) {
		if (pk)
			*pk = sqlite3_column_int64(st, 0);
		rc = nmd_column_body(s, st, 1, &nomad__job_summary__descriptor,
				     (ProtobufCMessage **)out, err);
	} else if (step != SQLITE_DONE) {
		rc = nmd_sqlite_fail(c, err, "read job summary");
	}
	sqlite3_reset(st);
	return rc;
}

static nomad_err load_by_pk(nomad_state_txn *txn, int64_t pk,
			    nomad_job_summary **out, nomad_error *err)
{
	static const char sql[] =
		"SELECT job_pk, body FROM job_summaries WHERE job_pk = ?1";
	sqlite3_stmt *st = nmd_stmt(txn->c, sql, err);
	if (!st)
		return NOMAD_EIO;
	sqlite3_bind_int64(st, 1, pk);
	return load_row(txn->s, txn->c, st, NULL, out, err);
}

static nomad_err load_by_id(nomad_state *s, struct nmd_conn *c,
			    const char *ns, const char *job_id, int64_t *pk,
			    nomad_job_summary **out, nomad_error *err)
{
	static const char sql[] =
		"SELECT s.job_pk, s.body FROM jobs j "
		"JOIN job_summaries s ON s.job_pk = j.pk "
		"WHERE j.ns = ?1 AND j.id = ?2";
	sqlite3_stmt *st = nmd_stmt(c, sql, err);
	if (!st)
		return NOMAD_EIO;
	sqlite3_bind_text(st, 1, ns ? ns : "default", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, job_id ? job_id : "", -1, SQLITE_STATIC);
	return load_row(s, c, st, pk, out, err);
}

/* Write `sum` back with ModifyIndex = the transaction's index. */
static nomad_err store(nomad_state_txn *txn, int64_t pk,
		       nomad_job_summary *sum, nomad_error *err)
{
	static const char sql[] =
		"INSERT INTO job_summaries(job_pk, body) VALUES(?1, ?2) "
		"ON CONFLICT(job_pk) DO UPDATE SET body = excluded.body";
	sqlite3_stmt *st = nmd_stmt(txn->c, sql, err);
	nomad_err rc;
	if (!st)
		return NOMAD_EIO;
	sum->has_modifyindex = 1;
	sum->modifyindex = txn->index;
	sqlite3_bind_int64(st, 1, pk);
	if ((rc = nmd_bind_body(txn, st, 2, &sum->base, err)) < 0) {
		sqlite3_reset(st);
		return rc;
	}
	if ((rc = nmd_stmt_exec(txn->c, st, err)) < 0)
		return rc;
	nmd_touch_job_key(txn, NOMAD_TABLE_JOB_SUMMARIES, sum->namespace_,
			  sum->jobid);
	return NOMAD_OK;
}

/* ---- groups ------------------------------------------------------------- */

static Nomad__TaskGroupSummary *find_group(nomad_job_summary *sum,
					   const char *name)
{
	for (size_t i = 0; i < sum->n_summary; i++)
		if (sum->summary[i]->key && name &&
		    strcmp(sum->summary[i]->key, name) == 0)
			return sum->summary[i]->value;
	return NULL;
}

/* Add group `name` with every count present and zero, as Nomad's JSON
 * shows it; the entries stay sorted by name. */
static nomad_err add_group(const nomad_allocator *a, nomad_job_summary *sum,
			   const char *name, nomad_error *err)
{
	Nomad__TaskGroupSummaryEntry *e =
		nmd_pb_new(&nomad__task_group_summary_entry__descriptor, a);
	Nomad__TaskGroupSummary *g;
	if (!e)
		goto oom;
	if (!(e->key = nmd_strdup(a, name)) ||
	    !(e->value = g = nmd_pb_new(&nomad__task_group_summary__descriptor,
					a)))
		goto oom;
	g->has_queued = g->has_complete = g->has_failed = g->has_running = 1;
	g->has_starting = g->has_lost = g->has_unknown = 1;
	if (!NMD_PB_APPEND(a, sum->summary, sum->n_summary, e))
		goto oom;
	nmd_map_normalize(a, (ProtobufCMessage **)sum->summary, &sum->n_summary);
	return NOMAD_OK;
oom:
	nmd_pb_free(e, a);
	return nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
}

static bool job_has_group(const nomad_job *job, const char *name)
{
	for (size_t i = 0; i < job->n_taskgroups; i++)
		if (job->taskgroups[i]->name && name &&
		    strcmp(job->taskgroups[i]->name, name) == 0)
			return true;
	return false;
}

/* Drop the groups `job` does not have; true when any went. */
static bool drop_groups(const nomad_allocator *a, nomad_job_summary *sum,
			const nomad_job *job)
{
	size_t out = 0, n = sum->n_summary;
	for (size_t i = 0; i < n; i++) {
		if (job_has_group(job, sum->summary[i]->key))
			sum->summary[out++] = sum->summary[i];
		else
			nmd_pb_free(sum->summary[i], a);
	}
	sum->n_summary = out;
	return out != n;
}

static nomad_job_summary *new_summary(const nomad_allocator *a,
				      const nomad_job *job, uint64_t index)
{
	nomad_job_summary *sum = nmd_pb_new(&nomad__job_summary__descriptor, a);
	Nomad__JobChildrenSummary *ch;
	if (!sum)
		return NULL;
	sum->children = ch =
		nmd_pb_new(&nomad__job_children_summary__descriptor, a);
	if (!ch || !(sum->jobid = nmd_strdup(a, job->id)) ||
	    !(sum->namespace_ = nmd_strdup(a, job->namespace_))) {
		nmd_pb_free(sum, a);
		return NULL;
	}
	ch->has_pending = ch->has_running = ch->has_dead = 1;
	sum->has_createindex = 1;
	sum->createindex = index;
	return sum;
}

nomad_err nmd_summary_job_upserted(nomad_state_txn *txn, int64_t job_pk,
				   const nomad_job *job, nomad_error *err)
{
	const nomad_allocator *a = NMD_STATE_MSG_ALLOC;
	nomad_job_summary *sum = NULL;
	bool changed = false;
	nomad_err rc;
	if ((rc = load_by_pk(txn, job_pk, &sum, err)) < 0)
		return rc;
	if (!sum) {
		if (!(sum = new_summary(a, job, txn->index)))
			return nmd_seterr(err, NOMAD_ENOMEM,
					  "state: out of memory");
		changed = true;
	}
	for (size_t i = 0; i < job->n_taskgroups; i++) {
		const char *name = job->taskgroups[i]->name;
		if (!name || find_group(sum, name))
			continue;
		if ((rc = add_group(a, sum, name, err)) < 0)
			goto done;
		changed = true;
	}
	/* Nomad keeps a removed group's counts forever; state.h promises to
	 * drop them, so the summary lists exactly the job's groups. */
	if (drop_groups(a, sum, job))
		changed = true;
	if (changed)
		rc = store(txn, job_pk, sum, err);
done:
	nmd_pb_free(sum, a);
	return rc;
}

nomad_err nmd_summary_job_deleted(nomad_state_txn *txn, int64_t job_pk,
				  nomad_error *err)
{
	static const char sql[] = "DELETE FROM job_summaries WHERE job_pk = ?1";
	sqlite3_stmt *st = nmd_stmt(txn->c, sql, err);
	nomad_err rc;
	if (!st)
		return NOMAD_EIO;
	sqlite3_bind_int64(st, 1, job_pk);
	if ((rc = nmd_stmt_exec(txn->c, st, err)) < 0)
		return rc;
	nmd_touch(txn, NOMAD_TABLE_JOB_SUMMARIES);
	return NOMAD_OK;
}

/* ---- children ----------------------------------------------------------- */

static int64_t *child_count(Nomad__JobChildrenSummary *ch, int status)
{
	switch (status) {
	case NOMAD__JOB__STATUS_KIND__pending:
		return &ch->pending;
	case NOMAD__JOB__STATUS_KIND__running:
		return &ch->running;
	case NOMAD__JOB__STATUS_KIND__dead:
		return &ch->dead;
	default:
		return NULL;
	}
}

nomad_err nmd_summary_child_changed(nomad_state_txn *txn, const char *ns,
				    const char *parent_id, int from, int to,
				    nomad_error *err)
{
	const nomad_allocator *a = NMD_STATE_MSG_ALLOC;
	nomad_job_summary *sum = NULL;
	int64_t pk, *c;
	nomad_err rc;
	if (from == to || !parent_id || !parent_id[0])
		return NOMAD_OK;
	if ((rc = load_by_id(txn->s, txn->c, ns, parent_id, &pk, &sum, err)) <
		    0 ||
	    !sum)
		return rc; /* the parent may have been purged */
	if (!sum->children &&
	    !(sum->children = nmd_pb_new(&nomad__job_children_summary__descriptor,
					 a))) {
		nmd_pb_free(sum, a);
		return nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
	}
	sum->children->has_pending = sum->children->has_running = 1;
	sum->children->has_dead = 1;
	if ((c = child_count(sum->children, from)) && *c > 0)
		(*c)--;
	if ((c = child_count(sum->children, to)))
		(*c)++;
	rc = store(txn, pk, sum, err);
	nmd_pb_free(sum, a);
	return rc;
}

/* ---- allocations and evaluations ---------------------------------------- */

/* The count an allocation in client status `status` adds to. */
static int32_t *alloc_count(Nomad__TaskGroupSummary *g, int status)
{
	switch (status) {
	case NOMAD__ALLOCATION__CLIENT_STATUS_KIND__pending:
		return &g->starting;
	case NOMAD__ALLOCATION__CLIENT_STATUS_KIND__running:
		return &g->running;
	case NOMAD__ALLOCATION__CLIENT_STATUS_KIND__complete:
		return &g->complete;
	case NOMAD__ALLOCATION__CLIENT_STATUS_KIND__failed:
		return &g->failed;
	case NOMAD__ALLOCATION__CLIENT_STATUS_KIND__lost:
		return &g->lost;
	case NOMAD__ALLOCATION__CLIENT_STATUS_KIND__unknown:
		return &g->unknown;
	default:
		return NULL;
	}
}

/* Apply one transition to a group's counts; false when nothing moved. */
static bool count_transition(const struct nmd_ctx *ctx,
			     Nomad__TaskGroupSummary *g, const char *job_id,
			     int from, int to)
{
	int32_t *c;
	if (from < 0) {
		/* A new allocation counts only when it starts out pending,
		 * taking one from Queued; the scheduler never creates one in
		 * another state, and Nomad only logs it if it does. */
		if (to != NOMAD__ALLOCATION__CLIENT_STATUS_KIND__pending) {
			nmd_log(ctx, NOMAD_LOG_WARN, "state",
				"new allocation of job %s with client status "
				"%d not counted in its summary",
				job_id, to);
			return false;
		}
		g->starting++;
		if (g->queued > 0)
			g->queued--;
		return true;
	}
	if ((c = alloc_count(g, to)))
		(*c)++;
	if ((c = alloc_count(g, from)) && *c > 0)
		(*c)--;
	return true;
}

nomad_err nmd_summary_alloc_changed(nomad_state_txn *txn, const char *ns,
				    const char *job_id, const char *group,
				    int from, int to, nomad_error *err)
{
	const nomad_allocator *a = NMD_STATE_MSG_ALLOC;
	nomad_job_summary *sum = NULL;
	Nomad__TaskGroupSummary *g;
	int64_t pk;
	nomad_err rc;
	if (from == to || !job_id || !group)
		return NOMAD_OK;
	if ((rc = load_by_id(txn->s, txn->c, ns, job_id, &pk, &sum, err)) < 0 ||
	    !sum)
		return rc;
	if ((g = find_group(sum, group)) &&
	    count_transition(&txn->s->ctx, g, job_id, from, to))
		rc = store(txn, pk, sum, err);
	nmd_pb_free(sum, a);
	return rc;
}

nomad_err nmd_summary_set_queued(nomad_state_txn *txn, const char *ns,
				 const char *job_id,
				 Nomad__IntEntry *const *queued, size_t n,
				 nomad_error *err)
{
	const nomad_allocator *a = NMD_STATE_MSG_ALLOC;
	nomad_job_summary *sum = NULL;
	bool changed = false;
	int64_t pk;
	nomad_err rc;
	if (!n || !job_id)
		return NOMAD_OK;
	if ((rc = load_by_id(txn->s, txn->c, ns, job_id, &pk, &sum, err)) < 0 ||
	    !sum)
		return rc;
	for (size_t i = 0; i < n; i++) {
		Nomad__TaskGroupSummary *g = find_group(sum, queued[i]->key);
		int32_t v = (int32_t)queued[i]->value;
		if (!g) {
			nmd_log(&txn->s->ctx, NOMAD_LOG_WARN, "state",
				"queued count for unknown group %s of job %s",
				queued[i]->key ? queued[i]->key : "",
				job_id);
			continue;
		}
		if (!g->has_queued || g->queued != v) {
			g->has_queued = 1;
			g->queued = v;
			changed = true;
		}
	}
	if (changed)
		rc = store(txn, pk, sum, err);
	nmd_pb_free(sum, a);
	return rc;
}

/* ---- reads -------------------------------------------------------------- */

nomad_err nomad_state_job_summary_get(nomad_state_snap *snap, const char *ns,
				      const char *id, nomad_job_summary **out)
{
	nomad_err rc;
	if (!out)
		return NOMAD_EINVAL;
	*out = NULL;
	if (!snap || !id)
		return NOMAD_EINVAL;
	if ((rc = load_by_id(snap->s, snap->c, ns, id, NULL, out, NULL)) < 0)
		return rc;
	return *out ? NOMAD_OK : NOMAD_ENOTFOUND;
}
