/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The job's deployment, as the reconciler sees and changes it: Nomad's
 * cancelUnneededDeployments (a deployment of an older version, or of a
 * stopped job, is cancelled), the deployment created for groups with an
 * update block, its status description while canaries wait, and its
 * success once every group is healthy and promoted.
 */
#include <string.h>

#include "core/error.h"
#include "sched/reconcile.h"
#include "structs/pb.h"

#define DESC_RUNNING "Deployment is running"
#define DESC_NEEDS_PROMOTION "Deployment is running but requires manual promotion"
#define DESC_AUTO_PROMOTION "Deployment is running pending automatic promotion"
#define DESC_SUCCESSFUL "Deployment completed successfully"
#define DESC_NEWER_JOB "Cancelled due to newer version of job"
#define DESC_JOB_STOPPED "Cancelled because job is stopped"

bool nmd_dep_active(const nomad_deployment *d)
{
	switch (d->status) {
	case DEP(running): case DEP(paused): case DEP(initializing):
	case DEP(pending): case DEP(blocked): case DEP(unblocking):
		return true;
	default:
		return false;
	}
}

static nomad_err dep_update(struct nmd_eval_ctx *e, const nomad_deployment *d,
			    int status, const char *why, nomad_error *err)
{
	Nomad__DeploymentStatusUpdate *u =
		nmd_pb_new(&nomad__deployment_status_update__descriptor, PA);
	if (!u || !nmd_pb_set_string(PA, &u->deploymentid, d->id) ||
	    !nmd_pb_set_string(PA, &u->statusdescription, why) ||
	    !NMD_PB_APPEND(PA, e->plan->deploymentupdates,
			   e->plan->n_deploymentupdates, u))
		return nmd_sched_oom(err);
	u->has_status = 1;
	u->status = status;
	return NOMAD_OK;
}

nomad_err nmd_sched_cancel_deployment(struct nmd_eval_ctx *e, nomad_error *err)
{
	const nomad_deployment *d = e->deployment;
	if (!d || !nmd_dep_active(d))
		return NOMAD_OK;
	return dep_update(e, d, DEP(cancelled), DESC_JOB_STOPPED, err);
}

/* Nomad's cancelUnneededDeployments: a deployment of another job version
 * is cancelled (when still active) and kept only to stop its unpromoted
 * canaries; a successful one is done with. */
nomad_err nmd_dep_init(struct nmd_eval_ctx *e, bool batch, struct dep *dp,
			  nomad_error *err)
{
	const nomad_deployment *d = batch ? NULL : e->deployment;
	const nomad_job *j = e->job;
	memset(dp, 0, sizeof(*dp));
	if (!d)
		return NOMAD_OK;
	if (d->jobcreateindex != j->createindex || d->jobversion != j->version) {
		dp->old = d;
		return nmd_dep_active(d) ? dep_update(e, d, DEP(cancelled),
						  DESC_NEWER_JOB, err)
				     : NOMAD_OK;
	}
	if (d->status == DEP(successful)) {
		dp->old = d;
		return NOMAD_OK;
	}
	if (nomad_msg_copy((ProtobufCMessage **)&dp->d, &d->base, PA) != NOMAD_OK)
		return nmd_sched_oom(err);
	dp->paused = d->status == DEP(paused) || d->status == DEP(pending);
	dp->failed = d->status == DEP(failed);
	return NOMAD_OK;
}

Nomad__DeploymentState *nmd_dep_group(const nomad_deployment *d,
					 const char *group)
{
	for (size_t i = 0; d && i < d->n_taskgroups; i++)
		if (!strcmp(d->taskgroups[i]->key, group))
			return d->taskgroups[i]->value;
	return NULL;
}

static bool in_list(char *const *ids, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(ids[i], id))
			return true;
	return false;
}

/* Whether `id` is a canary some group of `d` placed (promoted ones
 * too, when `promoted`). */
bool nmd_dep_canary(const nomad_deployment *d, const char *id, bool promoted)
{
	for (size_t i = 0; d && i < d->n_taskgroups; i++) {
		const Nomad__DeploymentState *s = d->taskgroups[i]->value;
		if (s && (promoted || !s->promoted) &&
		    in_list(s->placedcanaries, s->n_placedcanaries, id))
			return true;
	}
	return false;
}

nomad_err nmd_dep_create(struct nmd_eval_ctx *e, struct dep *dp,
			    nomad_error *err)
{
	const nomad_job *j = e->job;
	nomad_deployment *d = nmd_pb_new(&nomad__deployment__descriptor, PA);
	char id[NOMAD_UUID_LEN + 1];
	if (!d)
		return nmd_sched_oom(err);
	nomad_uuid_generate(&e->rng, id);
	if (!nmd_pb_set_string(PA, &d->id, id) ||
	    !nmd_pb_set_string(PA, &d->namespace_,
			       j->namespace_ ? j->namespace_ : "default") ||
	    !nmd_pb_set_string(PA, &d->jobid, j->id) ||
	    !nmd_pb_set_string(PA, &d->statusdescription, DESC_RUNNING))
		return nmd_sched_oom(err);
	d->has_jobversion = d->has_jobmodifyindex = d->has_jobcreateindex = 1;
	d->has_jobspecmodifyindex = d->has_status = d->has_evalpriority = 1;
	d->has_createtime = d->has_modifytime = 1;
	d->jobversion = j->version;
	d->jobmodifyindex = j->modifyindex;
	d->jobspecmodifyindex = j->jobmodifyindex;
	d->jobcreateindex = j->createindex;
	d->status = DEP(running);
	d->evalpriority = e->eval->has_priority ? e->eval->priority
			  : j->has_priority     ? j->priority
						: 50;
	d->createtime = d->modifytime = e->now;
	dp->d = d;
	dp->created = true;
	return NOMAD_OK;
}

static bool requires_promotion(const nomad_deployment *d, bool *auto_promote)
{
	bool needs = false;
	*auto_promote = true;
	for (size_t i = 0; i < d->n_taskgroups; i++) {
		const Nomad__DeploymentState *s = d->taskgroups[i]->value;
		if (s && s->desiredcanaries > 0 && !s->promoted)
			needs = true;
		if (s && s->desiredcanaries > 0 && !s->autopromote)
			*auto_promote = false;
	}
	return needs;
}

nomad_err nmd_dep_finish(struct nmd_eval_ctx *e, struct dep *dp,
				   bool complete, nomad_error *err)
{
	bool auto_promote;
	nomad_err rc = NOMAD_OK;
	if (dp->d && complete && !dp->created)
		rc = dep_update(e, dp->d, DEP(successful), DESC_SUCCESSFUL, err);
	/* In-place updates join the deployment, their health to be told
	 * again (Nomad's computeJobAllocs). */
	for (size_t i = 0; rc >= 0 && dp->d && nmd_dep_active(dp->d) &&
			   i < dp->n_inplace; i++) {
		nomad_alloc *a = dp->inplace[i];
		if (a->deploymentid && !strcmp(a->deploymentid, dp->d->id))
			continue;
		if (!nmd_pb_set_string(PA, &a->deploymentid, dp->d->id))
			return nmd_sched_oom(err);
		a->deploymentstatus = NULL; /* in the arena */
	}
	if (rc >= 0 && dp->created) {
		if (requires_promotion(dp->d, &auto_promote) &&
		    !nmd_pb_set_string(PA, &dp->d->statusdescription,
				       auto_promote ? DESC_AUTO_PROMOTION
						    : DESC_NEEDS_PROMOTION))
			return nmd_sched_oom(err);
		e->plan->deployment = dp->d;
	}
	return rc;
}
