/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Deployments in the state store: upsert, status updates (with the
 * auto-revert job and the follow-up evaluation, and the deployed job
 * version marked stable on success), canary promotion and
 * allocation health, as Nomad's UpsertDeployment, UpdateDeploymentStatus,
 * UpdateDeploymentPromotion and UpdateDeploymentAllocHealth; then reads
 * by ID, by job and in ID order.
 *
 * A deployment's per-group counters follow its allocations the way
 * Nomad's updateDeploymentWithAlloc moves them; nmd_deployment_alloc_changed
 * offers that to the allocation writers too.
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "state/deployments_int.h"
#include "state/state_int.h"
#include "structs/pb.h"

#define NS_DEFAULT "default"

/* Nomad's DeploymentStatusDescriptionRunning. */
static const char desc_running[] = "Deployment is running";

static const char *ns_or_default(const char *ns)
{
	return ns && ns[0] ? ns : NS_DEFAULT;
}

static const char *status_name(const nomad_deployment *d)
{
	const char *s = nomad_enum_name(&nomad__deployment__status_kind__descriptor,
					(int)d->status);
	return s ? s : "unknown";
}

/* Nomad's Deployment.Active: not failed, successful or cancelled. */
static bool deployment_active(const nomad_deployment *d)
{
	if (!d->has_status)
		return true;
	switch (d->status) {
	case NOMAD__DEPLOYMENT__STATUS_KIND__failed:
	case NOMAD__DEPLOYMENT__STATUS_KIND__successful:
	case NOMAD__DEPLOYMENT__STATUS_KIND__cancelled:
		return false;
	default:
		return true;
	}
}

/* The state of group `name` in `d`, or NULL. */
static Nomad__DeploymentState *group_state(const nomad_deployment *d,
					   const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < d->n_taskgroups; i++)
		if (d->taskgroups[i]->key &&
		    strcmp(d->taskgroups[i]->key, name) == 0)
			return d->taskgroups[i]->value;
	return NULL;
}

/* ---- rows --------------------------------------------------------------- */

/* The deployment `key` inside txn, or *out NULL. */
static nomad_err load_deployment(nomad_state_txn *txn, const uint8_t key[16],
				 nomad_deployment **out, nomad_error *err)
{
	static const char sql[] = "SELECT body FROM deployments WHERE id = ?1";
	nomad_err rc = nmd_body_by_id(txn->c, sql, key,
				      &nomad__deployment__descriptor,
				      (ProtobufCMessage **)out, err);
	return rc == NOMAD_ENOTFOUND ? NOMAD_OK : rc;
}

/* Write `d` (indexes already set) as deployment `key`. */
static nomad_err store_deployment(nomad_state_txn *txn, const uint8_t key[16],
				  const nomad_deployment *d, nomad_error *err)
{
	static const char sql[] =
		"INSERT INTO deployments(id, ns, job_id, create_index, body)"
		" VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(id) DO UPDATE SET"
		" ns = excluded.ns, job_id = excluded.job_id,"
		" create_index = excluded.create_index, body = excluded.body";
	sqlite3_stmt *st = nmd_stmt(txn->c, sql, err);
	nomad_err rc;
	if (!st)
		return NOMAD_EIO;
	sqlite3_bind_blob(st, 1, key, 16, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, ns_or_default(d->namespace_), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, d->jobid ? d->jobid : "", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)d->createindex);
	if ((rc = nmd_bind_body(txn, st, 5, &d->base, err)) < 0 ||
	    (rc = nmd_stmt_exec(txn->c, st, err)) < 0)
		return rc;
	nmd_touch_key(txn, NOMAD_TABLE_DEPLOYMENTS, d->id);
	nmd_touch_job_key(txn, NOMAD_TABLE_DEPLOYMENTS, d->namespace_, d->jobid);
	/* The type of a plain upsert; promotion and health override it. */
	return nmd_txn_event(txn, NOMAD_TOPIC_DEPLOYMENT,
			     NOMAD_EVENT_DEPLOYMENT_STATUS, d->id,
			     ns_or_default(d->namespace_),
			     (const char *const *)&d->jobid, 1, &d->base, err);
}

/* Store `d` at the transaction's index (Nomad's upsertDeploymentImpl for
 * a deployment read from the store). */
static nomad_err restore_deployment(nomad_state_txn *txn, const uint8_t key[16],
				    nomad_deployment *d, nomad_error *err)
{
	d->has_modifyindex = 1;
	d->modifyindex = txn->index;
	return store_deployment(txn, key, d, err);
}

/* Load deployment `id` for an update: it must exist and be active, with
 * Nomad's messages when it does not or is not. */
static nomad_err load_active(nomad_state_txn *txn, const char *id,
			     uint8_t key[16], nomad_deployment **out,
			     nomad_error *err)
{
	nomad_err rc;
	*out = NULL;
	if (!txn)
		return nmd_seterr(err, NOMAD_EINVAL, "state: no transaction");
	if (id && nmd_uuid_to_bytes(id, key)) {
		if ((rc = load_deployment(txn, key, out, err)) < 0)
			return rc;
	}
	if (!*out)
		return nmd_seterr(err, NOMAD_ENOTFOUND,
				  "state: Deployment ID \"%s\" couldn't be "
				  "updated as it does not exist", id ? id : "");
	if (!deployment_active(*out)) {
		rc = nmd_seterr(err, NOMAD_EINVAL,
				"state: Deployment \"%s\" has terminal status \"%s\"",
				id, status_name(*out));
		nmd_pb_free(*out, NMD_STATE_MSG_ALLOC);
		*out = NULL;
		return rc;
	}
	return NOMAD_OK;
}

static nomad_err upsert_eval(nomad_state_txn *txn, const nomad_eval *eval,
			     nomad_error *err)
{
	/* evals_upsert copies what it is given and changes none of it. */
	nomad_eval *e = (nomad_eval *)eval;
	return eval ? nomad_state_evals_upsert(txn, &e, 1, err) : NOMAD_OK;
}

/* ---- counting allocations -------------------------------------------------- */

static bool same_str(const char *a, const char *b)
{
	return a && b ? strcmp(a, b) == 0 : a == b;
}

static bool has_health(const nomad_alloc *a)
{
	return a && a->deploymentstatus && a->deploymentstatus->has_healthy;
}

static bool is_healthy(const nomad_alloc *a)
{
	return has_health(a) && a->deploymentstatus->healthy;
}

static bool add_canary(const nomad_allocator *al, Nomad__DeploymentState *st,
		       const char *id)
{
	char *copy;
	for (size_t i = 0; i < st->n_placedcanaries; i++)
		if (same_str(st->placedcanaries[i], id))
			return true;
	if (!(copy = nmd_strdup(al, id)))
		return false;
	if (!NMD_PB_APPEND(al, st->placedcanaries, st->n_placedcanaries, copy)) {
		nmd_free(al, copy);
		return false;
	}
	return true;
}

/* Move a group's RequireProgressBy to `ns`: when `start`, only if it is
 * unset; otherwise only if `ns` is later. */
static bool push_deadline(const nomad_allocator *al, Nomad__DeploymentState *st,
			  int64_t ns, bool start)
{
	Nomad__Timestamp *t = st->requireprogressby;
	int64_t cur = nmd_ts_ns(t);
	if (start ? cur != 0 : ns <= cur)
		return true;
	if (!t && !(t = st->requireprogressby =
			    nmd_pb_new(&nomad__timestamp__descriptor, al)))
		return false;
	nmd_ts_set(t, ns);
	return true;
}

/*
 * Nomad's updateDeploymentWithAlloc on a deployment in memory: count
 * allocation `cur` (formerly `old`, NULL when new) into `d`. *changed is
 * set when `d` moved, *health_moved when its health counters did.
 */
static nomad_err count_alloc(const nomad_allocator *al, nomad_deployment *d,
			     const nomad_alloc *old, const nomad_alloc *cur,
			     bool *changed, bool *health_moved, nomad_error *err)
{
	Nomad__DeploymentState *st = group_state(d, cur->taskgroup);
	int placed = 0, healthy = 0, unhealthy = 0;
	bool ok = true;

	*changed = *health_moved = false;
	/* A group outside the deployment was not part of the update. */
	if (!st)
		return NOMAD_OK;
	if (!old || !same_str(old->deploymentid, cur->deploymentid)) {
		placed = 1;
	} else if (!has_health(old) && has_health(cur)) {
		if (is_healthy(cur))
			healthy = 1;
		else
			unhealthy = 1;
	} else if (has_health(old) && has_health(cur) && is_healthy(old) &&
		   !is_healthy(cur)) {
		healthy = -1;
		unhealthy = 1;
	}
	if (!placed && !healthy && !unhealthy)
		return NOMAD_OK;

	st->has_placedallocs = st->has_healthyallocs = 1;
	st->has_unhealthyallocs = 1;
	st->placedallocs += placed;
	st->healthyallocs += healthy;
	st->unhealthyallocs += unhealthy;
	if (cur->deploymentstatus && cur->deploymentstatus->canary)
		ok = add_canary(al, st, cur->id);
	if (ok && st->progressdeadline != 0) {
		/* The first placement starts the deadline; a change of
		 * health pushes it out from the health's timestamp. */
		if (placed)
			ok = push_deadline(al, st,
					   cur->modifytime + st->progressdeadline,
					   true);
		else if (healthy)
			ok = push_deadline(al, st,
					   nmd_ts_ns(cur->deploymentstatus->timestamp) +
						   st->progressdeadline,
					   false);
	}
	if (!ok)
		return nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
	*changed = true;
	*health_moved = healthy || unhealthy;
	return NOMAD_OK;
}

nomad_err nmd_deployment_alloc_changed(nomad_state_txn *txn,
				       const nomad_alloc *old,
				       const nomad_alloc *cur,
				       bool *health_moved, nomad_error *err)
{
	nomad_deployment *d = NULL;
	uint8_t key[16];
	bool changed = false, moved = false;
	nomad_err rc = NOMAD_OK;

	if (health_moved)
		*health_moved = false;
	if (!cur->deploymentid || !cur->deploymentid[0])
		return NOMAD_OK;
	if (!nmd_uuid_to_bytes(cur->deploymentid, key))
		return NOMAD_OK;
	if ((rc = load_deployment(txn, key, &d, err)) < 0 || !d)
		return rc;
	if ((rc = count_alloc(NMD_STATE_MSG_ALLOC, d, old, cur, &changed, &moved,
			      err)) == NOMAD_OK &&
	    changed)
		rc = restore_deployment(txn, key, d, err);
	if (health_moved)
		*health_moved = moved;
	nmd_pb_free(d, NMD_STATE_MSG_ALLOC);
	return rc;
}

/* ---- writes ------------------------------------------------------------- */

nomad_err nomad_state_deployment_upsert(nomad_state_txn *txn,
					const nomad_deployment *d,
					nomad_error *err)
{
	static const char sql[] =
		"SELECT create_index FROM deployments WHERE id = ?1";
	nomad_deployment copy;
	sqlite3_stmt *st;
	uint8_t key[16];
	int step;

	if (!txn || !d)
		return nmd_seterr(err, NOMAD_EINVAL, "state: no deployment");
	if (!d->id || !nmd_uuid_to_bytes(d->id, key))
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: deployment ID is not a UUID: id=%s",
				  d->id ? d->id : "");
	if (!d->jobid || !d->jobid[0])
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: deployment has no job: id=%s", d->id);

	/* Pack a shallow copy with the store's fields. */
	copy = *d;
	copy.namespace_ = (char *)ns_or_default(d->namespace_);
	copy.has_createindex = copy.has_modifyindex = 1;
	copy.createindex = copy.modifyindex = txn->index;
	if (!(st = nmd_stmt(txn->c, sql, err)))
		return NOMAD_EIO;
	sqlite3_bind_blob(st, 1, key, 16, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		copy.createindex = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		return nmd_sqlite_fail(txn->c, err, "read deployment");
	return store_deployment(txn, key, &copy, err);
}

static nomad_err deployment_status(nomad_state_txn *txn,
				   const Nomad__DeploymentStatusUpdate *u,
				   const nomad_job *job, const nomad_eval *eval,
				   nomad_error *err)
{
	nomad_deployment *d;
	uint8_t key[16];
	nomad_err rc;

	if (!u)
		return nmd_seterr(err, NOMAD_EINVAL, "state: no deployment update");
	if (!u->has_status)
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: deployment update has no status");
	if ((rc = load_active(txn, u->deploymentid, key, &d, err)) < 0)
		return rc;
	d->has_status = 1;
	d->status = u->status;
	if (!nmd_pb_set_string(NMD_STATE_MSG_ALLOC, &d->statusdescription,
			       u->statusdescription))
		rc = nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
	else
		rc = restore_deployment(txn, key, d, err);
	/* A successful deployment makes the version it deployed stable, the
	 * revert target of later ones (Nomad's updateDeploymentStatusImpl). */
	if (rc >= 0 && d->status == NOMAD__DEPLOYMENT__STATUS_KIND__successful)
		rc = nmd_job_set_stable(txn, d->namespace_, d->jobid,
					d->jobversion, err);
	nmd_pb_free(d, NMD_STATE_MSG_ALLOC);
	if (rc < 0)
		return rc;
	if (job && (rc = nomad_state_job_upsert(txn, job, err)) < 0)
		return rc;
	return upsert_eval(txn, eval, err);
}

/* The three operations below publish all their events, the job's and the
 * evaluation's included, with their own type, as Nomad does. */
nomad_err nomad_state_deployment_status(nomad_state_txn *txn,
					const Nomad__DeploymentStatusUpdate *u,
					const nomad_job *job,
					const nomad_eval *eval,
					nomad_error *err)
{
	const char *prev =
		nmd_txn_event_type_push(txn, NOMAD_EVENT_DEPLOYMENT_STATUS);
	nomad_err rc = deployment_status(txn, u, job, eval, err);
	nmd_txn_event_type_pop(txn, prev);
	return rc;
}

/* What a promotion found: each group's healthy canaries, and the
 * allocations it will take out of canary status. */
struct promotion {
	int *healthy;          /* per group of the deployment */
	nomad_alloc **allocs;  /* promotable */
	size_t n_allocs;
};

static bool selected(const char *group, const char *const *groups, size_t n,
		     bool all)
{
	if (all)
		return true;
	for (size_t i = 0; i < n; i++)
		if (same_str(groups[i], group))
			return true;
	return false;
}

/* Read one placed canary and count it when it is healthy and of a group
 * being promoted (as Nomad, terminal ones do not count). */
static nomad_err scan_canary(nomad_state_txn *txn, const nomad_deployment *d,
			     const char *id, const char *const *groups,
			     size_t n_groups, bool all, struct promotion *p,
			     nomad_error *err)
{
	const nomad_allocator *al = NMD_STATE_MSG_ALLOC;
	nomad_alloc *a = NULL;
	nomad_err rc = nmd_alloc_get_txn(txn, id, &a, err);
	if (rc == NOMAD_ENOTFOUND)
		return NOMAD_OK;
	if (rc < 0)
		return rc;
	if (!same_str(a->deploymentid, d->id) ||
	    !selected(a->taskgroup, groups, n_groups, all) ||
	    nmd_alloc_terminal(a) || !is_healthy(a)) {
		nmd_pb_free(a, al);
		return NOMAD_OK;
	}
	for (size_t g = 0; g < d->n_taskgroups; g++)
		if (same_str(d->taskgroups[g]->key, a->taskgroup))
			p->healthy[g]++;
	if (!NMD_PB_APPEND(al, p->allocs, p->n_allocs, a)) {
		nmd_pb_free(a, al);
		return nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
	}
	return NOMAD_OK;
}

/* Refuse the promotion unless every selected group that wants canaries
 * has enough healthy ones, with Nomad's messages. */
static nomad_err check_promotion(const nomad_deployment *d,
				 const char *const *groups, size_t n_groups,
				 bool all, const struct promotion *p,
				 nomad_error *err)
{
	char msg[NOMAD_ERRMSG_MAX];
	size_t len = 0;
	bool any = false;

	msg[0] = '\0';
	for (size_t g = 0; g < d->n_taskgroups; g++) {
		const Nomad__DeploymentStateEntry *e = d->taskgroups[g];
		int need = e->value ? e->value->desiredcanaries : 0;
		if (!selected(e->key, groups, n_groups, all) || need <= 0)
			continue;
		any = true;
		if (p->healthy[g] >= need || len >= sizeof(msg))
			continue;
		len += (size_t)snprintf(msg + len, sizeof(msg) - len,
					"%sTask group \"%s\" has %d/%d healthy "
					"allocations", len ? "; " : "",
					e->key ? e->key : "", p->healthy[g], need);
	}
	if (!any)
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: no canaries to promote");
	if (msg[0])
		return nmd_seterr(err, NOMAD_EINVAL, "state: %s", msg);
	return NOMAD_OK;
}

/* Mark the selected groups promoted; Nomad's RequiresPromotion decides the
 * description of a running deployment. */
static nomad_err mark_promoted(const nomad_allocator *al, nomad_deployment *d,
			       const char *const *groups, size_t n_groups,
			       bool all, nomad_error *err)
{
	bool requires = false;
	for (size_t g = 0; g < d->n_taskgroups; g++) {
		Nomad__DeploymentState *st = d->taskgroups[g]->value;
		if (!st)
			continue;
		if (selected(d->taskgroups[g]->key, groups, n_groups, all)) {
			st->has_promoted = 1;
			st->promoted = 1;
		}
		if (st->desiredcanaries > 0 && !st->promoted)
			requires = true;
	}
	if (!requires && (!d->has_status ||
			  d->status == NOMAD__DEPLOYMENT__STATUS_KIND__running) &&
	    !nmd_pb_set_string(al, &d->statusdescription, desc_running))
		return nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
	return NOMAD_OK;
}

static nomad_err deployment_promote(nomad_state_txn *txn, const char *id,
				    const char *const *groups, size_t n_groups,
				    bool all, const nomad_eval *eval,
				    nomad_error *err)
{
	struct promotion p = {0};
	const nomad_allocator *al;
	nomad_deployment *d;
	uint8_t key[16];
	nomad_err rc;

	if (n_groups && !groups)
		return nmd_seterr(err, NOMAD_EINVAL, "state: no groups");
	if ((rc = load_active(txn, id, key, &d, err)) < 0)
		return rc;
	al = NMD_STATE_MSG_ALLOC;
	if (!(p.healthy = nmd_calloc(al, d->n_taskgroups + 1, sizeof(int)))) {
		rc = nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
		goto done;
	}
	/* Every placed canary of the deployment, as Nomad's canaryIndex. */
	for (size_t g = 0; g < d->n_taskgroups; g++) {
		const Nomad__DeploymentState *st = d->taskgroups[g]->value;
		for (size_t i = 0; st && i < st->n_placedcanaries; i++)
			if ((rc = scan_canary(txn, d, st->placedcanaries[i],
					      groups, n_groups, all, &p,
					      err)) < 0)
				goto done;
	}
	if ((rc = check_promotion(d, groups, n_groups, all, &p, err)) < 0 ||
	    (rc = mark_promoted(al, d, groups, n_groups, all, err)) < 0 ||
	    (rc = restore_deployment(txn, key, d, err)) < 0 ||
	    (rc = upsert_eval(txn, eval, err)) < 0)
		goto done;
	for (size_t i = 0; i < p.n_allocs; i++) {
		const nomad_alloc *a = p.allocs[i];
		/* The health timestamp stays what it was. */
		int64_t ts = a->deploymentstatus
			? nmd_ts_ns(a->deploymentstatus->timestamp) : 0;
		if ((rc = nmd_allocs_set_deployment_status(txn, a->id, -1, 0, ts,
							   err)) < 0)
			goto done;
	}
done:
	for (size_t i = 0; i < p.n_allocs; i++)
		nmd_pb_free(p.allocs[i], al);
	nmd_free(al, p.allocs);
	nmd_free(al, p.healthy);
	nmd_pb_free(d, al);
	return rc;
}

nomad_err nomad_state_deployment_promote(nomad_state_txn *txn, const char *id,
					 const char *const *groups,
					 size_t n_groups, bool all,
					 const nomad_eval *eval,
					 nomad_error *err)
{
	const char *prev =
		nmd_txn_event_type_push(txn, NOMAD_EVENT_DEPLOYMENT_PROMOTION);
	nomad_err rc = deployment_promote(txn, id, groups, n_groups, all, eval,
					  err);
	nmd_txn_event_type_pop(txn, prev);
	return rc;
}

/* Set one allocation's health and count it into `d` (in memory). */
static nomad_err set_health(nomad_state_txn *txn, nomad_deployment *d,
			    const char *id, bool healthy, int64_t ts,
			    bool *changed, nomad_error *err)
{
	Nomad__AllocDeploymentStatus ds = NOMAD__ALLOC_DEPLOYMENT_STATUS__INIT;
	Nomad__Timestamp when = NOMAD__TIMESTAMP__INIT;
	nomad_alloc *old = NULL, cur;
	bool moved, counted;
	nomad_err rc = nmd_alloc_get_txn(txn, id, &old, err);

	if (rc == NOMAD_ENOTFOUND)
		return nmd_seterr(err, NOMAD_ENOTFOUND,
				  "state: unknown alloc \"%s\"", id);
	if (rc < 0)
		return rc;
	if (!same_str(old->deploymentid, d->id)) {
		rc = nmd_seterr(err, NOMAD_EINVAL,
				"state: alloc \"%s\" is not part of deployment "
				"\"%s\"", id, d->id);
		goto done;
	}
	/* The allocation as it will be stored, for the counting. */
	cur = *old;
	if (old->deploymentstatus)
		ds = *old->deploymentstatus;
	ds.has_healthy = 1;
	ds.healthy = healthy;
	nmd_ts_set(&when, ts);
	ds.timestamp = &when;
	cur.deploymentstatus = &ds;
	if ((rc = count_alloc(NMD_STATE_MSG_ALLOC, d, old, &cur, &counted, &moved,
			      err)) < 0 ||
	    (rc = nmd_allocs_set_deployment_status(txn, id, healthy, -1, ts,
						   err)) < 0)
		goto done;
	*changed |= counted;
done:
	nmd_pb_free(old, NMD_STATE_MSG_ALLOC);
	return rc;
}

static nomad_err alloc_health(nomad_state_txn *txn, const char *id,
			      const char *const *healthy, size_t n_healthy,
			      const char *const *unhealthy, size_t n_unhealthy,
			      int64_t timestamp_unix_ns, nomad_error *err)
{
	nomad_deployment *d;
	uint8_t key[16];
	bool changed = false;
	nomad_err rc;

	if ((n_healthy && !healthy) || (n_unhealthy && !unhealthy))
		return nmd_seterr(err, NOMAD_EINVAL, "state: no allocation IDs");
	if ((rc = load_active(txn, id, key, &d, err)) < 0)
		return rc;
	/* One after the other, as Nomad: an ID given twice sees the
	 * first change. */
	for (size_t i = 0; i < n_healthy + n_unhealthy && rc >= 0; i++) {
		bool h = i < n_healthy;
		const char *aid = h ? healthy[i] : unhealthy[i - n_healthy];
		rc = set_health(txn, d, aid ? aid : "", h, timestamp_unix_ns,
				&changed, err);
	}
	if (rc >= 0 && changed)
		rc = restore_deployment(txn, key, d, err);
	nmd_pb_free(d, NMD_STATE_MSG_ALLOC);
	return rc;
}

nomad_err nomad_state_deployment_alloc_health(nomad_state_txn *txn,
					      const char *id,
					      const char *const *healthy,
					      size_t n_healthy,
					      const char *const *unhealthy,
					      size_t n_unhealthy,
					      int64_t timestamp_unix_ns,
					      nomad_error *err)
{
	const char *prev = nmd_txn_event_type_push(
		txn, NOMAD_EVENT_DEPLOYMENT_ALLOC_HEALTH);
	nomad_err rc = alloc_health(txn, id, healthy, n_healthy, unhealthy,
				    n_unhealthy, timestamp_unix_ns, err);
	nmd_txn_event_type_pop(txn, prev);
	return rc;
}

/* ---- reads -------------------------------------------------------------- */

/* Step `st` once and decode its column 0 as a deployment. */
static nomad_err read_one(nomad_state_snap *snap, sqlite3_stmt *st,
			  nomad_deployment **out)
{
	nomad_err rc = NOMAD_ENOTFOUND;
	int step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		rc = nmd_column_body(snap->s, st, 0, &nomad__deployment__descriptor,
				     (ProtobufCMessage **)out, NULL);
	else if (step != SQLITE_DONE)
		rc = NOMAD_EIO;
	sqlite3_reset(st);
	return rc;
}

nomad_err nomad_state_deployment_get(nomad_state_snap *snap, const char *id,
				     nomad_deployment **out)
{
	static const char sql[] = "SELECT body FROM deployments WHERE id = ?1";
	uint8_t key[16];

	if (!out)
		return NOMAD_EINVAL;
	*out = NULL;
	if (!snap)
		return NOMAD_EINVAL;
	if (!id || !nmd_uuid_to_bytes(id, key))
		return NOMAD_ENOTFOUND;
	return nmd_body_by_id(snap->c, sql, key, &nomad__deployment__descriptor,
			      (ProtobufCMessage **)out, NULL);
}

/* Both by-job reads walk the (ns, job_id, create_index) index down; pk
 * breaks ties in the order of insertion. */
static const char sql_by_job[] =
	"SELECT body FROM deployments WHERE ns = ?1 AND job_id = ?2"
	" ORDER BY create_index DESC, pk DESC";
static const char sql_latest[] =
	"SELECT body FROM deployments WHERE ns = ?1 AND job_id = ?2"
	" ORDER BY create_index DESC, pk DESC LIMIT 1";

nomad_err nomad_state_deployment_latest(nomad_state_snap *snap, const char *ns,
					const char *job_id,
					nomad_deployment **out)
{
	sqlite3_stmt *st;

	if (!out)
		return NOMAD_EINVAL;
	*out = NULL;
	if (!snap || !job_id)
		return NOMAD_EINVAL;
	if (!(st = nmd_stmt(snap->c, sql_latest, NULL)))
		return NOMAD_EIO;
	sqlite3_bind_text(st, 1, ns_or_default(ns), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, job_id, -1, SQLITE_STATIC);
	return read_one(snap, st, out);
}

nomad_err nomad_state_deployments_by_job(nomad_state_snap *snap,
					 const char *ns, const char *job_id,
					 nomad_state_iter_cb cb, void *userdata,
					 nomad_error *err)
{
	sqlite3_stmt *st;
	nomad_err rc = NOMAD_OK;
	int step;

	if (!snap || !job_id || !cb)
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: no snapshot, job or callback");
	if (!(st = nmd_stmt(snap->c, sql_by_job, err)))
		return NOMAD_EIO;
	sqlite3_bind_text(st, 1, ns_or_default(ns), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, job_id, -1, SQLITE_STATIC);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		ProtobufCMessage *m;
		int stop;
		if ((rc = nmd_column_body(snap->s, st, 0,
					  &nomad__deployment__descriptor, &m,
					  err)) < 0)
			break;
		stop = cb(m, userdata);
		nmd_pb_free(m, NMD_STATE_MSG_ALLOC);
		if (stop) {
			rc = NOMAD_EUSER;
			break;
		}
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = nmd_sqlite_fail(snap->c, err, "list deployments");
	sqlite3_reset(st);
	return rc;
}

nomad_err nomad_state_deployments_list(nomad_state_snap *snap,
				       const nomad_state_list_options *opts,
				       nomad_state_iter_cb cb, void *userdata,
				       char next_token[NOMAD_STATE_TOKEN_MAX],
				       nomad_error *err)
{
	/* ?3 NULL: every namespace ("*"). */
	static const char sql_asc[] =
		"SELECT lower(hex(id)), body FROM deployments"
		" WHERE id >= ?1 AND id < ?2 AND (?3 IS NULL OR ns = ?3)"
		" ORDER BY id";
	static const char sql_desc[] =
		"SELECT lower(hex(id)), body FROM deployments"
		" WHERE id >= ?1 AND id < ?2 AND (?3 IS NULL OR ns = ?3)"
		" ORDER BY id DESC";
	struct nmd_id_range r;
	const char *ns;
	sqlite3_stmt *st;
	nomad_err rc;

	/* The range comes before clearing next_token, which may be the
	 * very buffer opts->next_token points at. */
	rc = nmd_id_range(opts, &r, err);
	if (next_token)
		next_token[0] = '\0';
	if (rc < 0)
		return rc;
	if (!snap || !cb)
		return nmd_seterr(err, NOMAD_EINVAL, "state: no snapshot or callback");
	ns = ns_or_default(opts ? opts->ns : NULL);
	if (!(st = nmd_stmt(snap->c, opts && opts->reverse ? sql_desc : sql_asc,
			    err)))
		return NOMAD_EIO;
	sqlite3_bind_blob(st, 1, r.lo, r.lo_len, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 2, r.hi, r.hi_len, SQLITE_TRANSIENT);
	if (strcmp(ns, "*") != 0)
		sqlite3_bind_text(st, 3, ns, -1, SQLITE_STATIC);
	return nmd_list_rows(snap, st, &nomad__deployment__descriptor, opts, cb,
			     userdata, next_token, err);
}
