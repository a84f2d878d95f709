/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Processing an evaluation (see nomad/sched.h): take the host's picture
 * of the cluster, let the scheduler for the job's type build a plan,
 * submit it, and on a partial commit refresh and try again, up to
 * Nomad's plan attempts (5 for service and system jobs, 2 for batch).
 * Then record the outcome: the evaluation complete (or failed after the
 * last attempt), with a blocked evaluation for placements that did not
 * fit, so that new capacity can unblock them.
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "sched/sched_int.h"
#include "structs/pb.h"

#define TRIGGER_QUEUED "queued-allocs"
#define TRIGGER_MAX_ATTEMPTS "max-plan-attempts"

nomad_err nomad_sched_new(nomad_sched **out, const nomad_sched_config *cfg,
			  nomad_error *err)
{
	nomad_sched *s;
	if (!out)
		return nmd_seterr(err, NOMAD_EINVAL, "scheduler: no output");
	*out = NULL;
	if (!cfg || cfg->version != NOMAD_SCHED_CONFIG_VERSION)
		return nmd_seterr(err, NOMAD_EINVAL,
				  "scheduler: missing or unknown config version");
	if (!cfg->state || cfg->state->version != NOMAD_SCHED_STATE_OPS_VERSION ||
	    !cfg->state->begin || !cfg->state->nodes ||
	    !cfg->state->node_usage || !cfg->state->job_allocs ||
	    !cfg->state->job || !cfg->state->latest_deployment ||
	    !cfg->state->config)
		return nmd_seterr(err, NOMAD_EINVAL,
				  "scheduler: the state ops are incomplete or of "
				  "an unknown version");
	if (!cfg->planner ||
	    cfg->planner->version != NOMAD_SCHED_PLANNER_OPS_VERSION ||
	    !cfg->planner->submit_plan || !cfg->planner->update_eval ||
	    !cfg->planner->create_eval || !cfg->planner->reblock_eval)
		return nmd_seterr(err, NOMAD_EINVAL,
				  "scheduler: the planner ops are incomplete or "
				  "of an unknown version");
	if (!(s = nmd_calloc(cfg->allocator, 1, sizeof(*s))))
		return nmd_sched_oom(err);
	nmd_ctx_init(&s->ctx, cfg->allocator, cfg->log_cb, cfg->log_userdata,
		     cfg->log_level, NULL, NULL);
	nmd_arena_init(&s->arena, s->ctx.alloc);
	s->state = *cfg->state;
	s->state_ud = cfg->state_userdata;
	s->planner = *cfg->planner;
	s->planner_ud = cfg->planner_userdata;
	*out = s;
	return NOMAD_OK;
}

void nomad_sched_free(nomad_sched *s)
{
	if (!s)
		return;
	nmd_arena_free(&s->arena);
	nmd_free(s->ctx.alloc, s);
}

/* The seed of one evaluation's random draws (the node shuffle, port
 * probes, allocation IDs): the evaluation ID and the state index, as
 * Nomad seeds its shuffle, mixed with the caller's seed when one is
 * given. The same inputs give the same plan; another evaluation, or the
 * same one at another index, draws afresh. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL; /* splitmix64's finaliser */
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t seed_of(const nomad_sched_input *in, uint64_t index)
{
	uint64_t h = nmd_sched_hash(in->eval->id ? in->eval->id : "");
	h = mix(h ^ mix(index));
	return in->seed ? mix(in->seed ^ h) : h;
}

static void attempt_free(struct nmd_eval_ctx *e)
{
	/* The nodes' arrays are in the arena: let go of what they point to
	 * first. Then the plan, the failures and the class eligibility, in
	 * the arena too, go with one reset. */
	nmd_sched_nodes_free(e);
	nmd_arena_reset(e->arena);
	e->plan = NULL;
	e->failed = NULL;
	e->n_failed = 0;
	e->class_elig = NULL;
	e->n_class_elig = 0;
	e->stopped = NULL;
	e->n_stopped_set = e->cap_stopped = 0;
	e->followups = NULL;
	e->n_followups = 0;
	e->desired = NULL;
	nmd_regex_cache_free(&e->regex);
	e->n_placed = e->n_stopped = e->n_updated = 0;
	e->last_placed = NULL;
	e->deployment = NULL;
	e->escaped = false;
}

static bool plan_empty(const nomad_plan *p)
{
	return !p->n_nodeallocation && !p->n_nodeupdate && !p->deployment &&
	       !p->n_deploymentupdates && !p->n_nodepreemptions;
}

/* However much progress the plans make, no more attempts than this. */
#define MAX_ATTEMPTS_TOTAL 64

/* One attempt: a fresh picture, a plan, and its submission. *done is
 * false when the plan was committed only in part; *progress when some
 * of it was committed. */
static nomad_err attempt(struct nmd_eval_ctx *e, const nomad_sched_input *in,
			 bool *done, bool *progress, nomad_error *err)
{
	nomad_sched *s = e->s;
	const char *ns = in->eval->namespace_ ? in->eval->namespace_ : "default";
	const nomad_plan_result *result = NULL;
	bool batch = in->eval->type == NOMAD__JOB_TYPE__batch;
	nomad_err rc;
	*done = true;
	*progress = false;
	if ((rc = s->state.begin(s->state_ud, &e->index)) < 0)
		return nmd_seterr(err, rc, "scheduler: taking the cluster's state "
					   "failed");
	nomad_rng_init_seeded(&e->rng, &e->rng_state, seed_of(in, e->index));
	nmd_regex_cache_init(&e->regex, s->ctx.alloc);
	if ((rc = s->state.job(s->state_ud, ns, in->eval->jobid, &e->job)) < 0)
		return nmd_seterr(err, rc, "scheduler: reading job %s failed",
				  in->eval->jobid);
	e->job_stopped = e->job && e->job->has_stop && e->job->stop;
	if ((rc = nmd_sched_nodes_load(e, err)) < 0 ||
	    (rc = nmd_sched_plan_new(e, err)) < 0)
		return rc;
	if ((rc = s->state.job_allocs(s->state_ud, ns, in->eval->jobid,
				      &e->allocs, &e->n_allocs)) < 0)
		return nmd_seterr(err, rc, "scheduler: reading the allocations "
					   "of %s failed", in->eval->jobid);
	if ((rc = s->state.latest_deployment(s->state_ud, ns, in->eval->jobid,
					     &e->deployment)) < 0)
		return nmd_seterr(err, rc, "scheduler: reading the deployment "
					   "of %s failed", in->eval->jobid);
	if (!e->job || e->job_stopped) {
		rc = nmd_sched_stop_all(e, e->allocs, e->n_allocs, err);
		if (rc >= 0)
			rc = nmd_sched_cancel_deployment(e, err);
		goto submit;
	}
	switch (in->eval->type) {
	case NOMAD__JOB_TYPE__service:
	case NOMAD__JOB_TYPE__batch:
		rc = nmd_sched_generic(e, batch, err);
		break;
	case NOMAD__JOB_TYPE__system:
	case NOMAD__JOB_TYPE__sysbatch:
		rc = nmd_sched_system(e, in->eval->type ==
					      NOMAD__JOB_TYPE__sysbatch, err);
		break;
	default:
		return nmd_seterr(err, NOMAD_EINVAL,
				  "scheduler: no scheduler for evaluation type %d",
				  (int)in->eval->type);
	}
submit:
	if (rc >= 0 && in->eval->annotateplan)
		rc = nmd_sched_annotate(e, err);
	if (rc < 0 || plan_empty(e->plan))
		return rc;
	if ((rc = s->planner.submit_plan(s->planner_ud, e->plan, &result)) < 0)
		return nmd_seterr(err, rc, "scheduler: submitting the plan failed");
	*done = !result || !result->has_refreshindex || !result->refreshindex ||
		!result->n_rejectednodes;
	*progress = result && (result->n_nodeupdate || result->n_nodeallocation ||
			       result->deployment || result->n_deploymentupdates);
	return NOMAD_OK;
}

nomad_err nmd_sched_oom(nomad_error *err)
{
	return nmd_seterr(err, NOMAD_ENOMEM, "scheduler: out of memory");
}

/* The blocked evaluation for placements that did not fit: a new one, or,
 * when the evaluation was itself blocked, that one back to waiting with
 * what it learnt (Nomad's ReblockEval). */
static nomad_err block(struct nmd_eval_ctx *e, const char *trigger,
		       char id_out[NOMAD_UUID_LEN + 1], nomad_error *err)
{
	const nomad_eval *ev = e->eval;
	bool reblock = ev->status == NOMAD__EVALUATION__STATUS_KIND__blocked;
	nomad_eval *b = NULL;
	nomad_err rc;
	if (reblock ? nomad_eval_copy(&b, ev) != NOMAD_OK
		    : !(b = nomad_eval_new()))
		return nmd_sched_oom(err);
	if (reblock) {
		snprintf(id_out, NOMAD_UUID_LEN + 1, "%s", ev->id);
	} else {
		nomad_uuid_generate(&e->rng, id_out);
		if (!nmd_pb_set_string(NULL, &b->id, id_out) ||
		    !nmd_pb_set_string(NULL, &b->namespace_, ev->namespace_) ||
		    !nmd_pb_set_string(NULL, &b->triggeredby, trigger) ||
		    !nmd_pb_set_string(NULL, &b->jobid, ev->jobid) ||
		    !nmd_pb_set_string(NULL, &b->previouseval, ev->id)) {
			nomad_eval_free(b);
			return nmd_sched_oom(err);
		}
		b->has_priority = ev->has_priority;
		b->priority = ev->priority;
		b->has_type = ev->has_type;
		b->type = ev->type;
		b->has_jobmodifyindex = ev->has_jobmodifyindex;
		b->jobmodifyindex = ev->jobmodifyindex;
		b->has_status = 1;
		b->status = NOMAD__EVALUATION__STATUS_KIND__blocked;
		b->has_createtime = 1;
		b->createtime = e->now;
	}
	for (size_t i = 0; i < b->n_classeligibility; i++)
		nmd_pb_free(b->classeligibility[i], NULL);
	nmd_free(NULL, b->classeligibility);
	b->has_escapedcomputedclass = 1;
	b->escapedcomputedclass = e->escaped;
	b->classeligibility = e->class_elig; /* lent */
	b->n_classeligibility = e->n_class_elig;
	b->has_snapshotindex = 1;
	b->snapshotindex = e->index;
	b->has_modifytime = 1;
	b->modifytime = e->now;
	rc = reblock ? e->s->planner.reblock_eval(e->s->planner_ud, b)
		     : e->s->planner.create_eval(e->s->planner_ud, b);
	b->classeligibility = NULL;
	b->n_classeligibility = 0;
	nomad_eval_free(b);
	if (rc < 0)
		return nmd_seterr(err, rc, "scheduler: %s the blocked evaluation "
					   "failed", reblock ? "reblocking"
							     : "creating");
	return NOMAD_OK;
}

/* The evaluation's outcome, through update_eval. */
static nomad_err finish(struct nmd_eval_ctx *e, int status, const char *desc,
			const char *blocked, nomad_error *err)
{
	nomad_eval *out = NULL;
	nomad_err rc;
	if (nomad_eval_copy(&out, e->eval) != NOMAD_OK)
		return nmd_sched_oom(err);
	out->has_status = 1;
	out->status = status;
	if (!nmd_pb_set_string(NULL, &out->statusdescription, desc) ||
	    (blocked && !nmd_pb_set_string(NULL, &out->blockedeval, blocked)))
		goto fail;
	for (size_t i = 0; i < e->n_failed; i++) {
		Nomad__AllocationMetricEntry *copy = NULL;
		Nomad__IntEntry *q = nmd_pb_new(&nomad__int_entry__descriptor, NULL);
		if (nomad_msg_copy((ProtobufCMessage **)&copy, &e->failed[i]->base,
				   NULL) != NOMAD_OK ||
		    !NMD_PB_APPEND(NULL, out->failedtgallocs, out->n_failedtgallocs,
				   copy) ||
		    !q || !nmd_pb_set_string(NULL, &q->key, e->failed[i]->key) ||
		    !NMD_PB_APPEND(NULL, out->queuedallocations,
				   out->n_queuedallocations, q)) {
			nmd_pb_free(copy, NULL);
			nmd_pb_free(q, NULL);
			goto fail;
		}
		q->has_value = 1;
		q->value = 1 + (e->failed[i]->value &&
					e->failed[i]->value->has_coalescedfailures
				? e->failed[i]->value->coalescedfailures : 0);
	}
	out->has_modifytime = 1;
	out->modifytime = e->now;
	rc = e->s->planner.update_eval(e->s->planner_ud, out);
	nomad_eval_free(out);
	if (rc < 0)
		return nmd_seterr(err, rc, "scheduler: updating the evaluation "
					   "failed");
	return NOMAD_OK;
fail:
	nomad_eval_free(out);
	return nmd_sched_oom(err);
}

nomad_err nomad_sched_process(nomad_sched *s, const nomad_sched_input *in,
			      nomad_error *err)
{
	struct nmd_eval_ctx e;
	int limit, tries = 0, total = 0;
	bool done = false, progress;
	nomad_err rc = NOMAD_OK;
	char blocked[NOMAD_UUID_LEN + 1];
	if (!s || !in || !in->eval)
		return nmd_seterr(err, NOMAD_EINVAL, "scheduler: no evaluation");
	if (!in->eval->id || !in->eval->jobid || !in->eval->jobid[0])
		return nmd_seterr(err, NOMAD_EINVAL,
				  "scheduler: the evaluation has no ID or job ID");
	if (!in->eval->has_type ||
	    (in->eval->type != NOMAD__JOB_TYPE__service &&
	     in->eval->type != NOMAD__JOB_TYPE__batch &&
	     in->eval->type != NOMAD__JOB_TYPE__system &&
	     in->eval->type != NOMAD__JOB_TYPE__sysbatch))
		return nmd_seterr(err, NOMAD_EINVAL,
				  "scheduler: evaluation %s: no scheduler for "
				  "its type", in->eval->id);
	memset(&e, 0, sizeof(e));
	e.arena = &s->arena;
	nmd_arena_allocator(e.arena, &e.plan_alloc);
	e.s = s;
	e.eval = in->eval;
	e.now = in->now_unix_ns;
	limit = in->eval->type == NOMAD__JOB_TYPE__batch ? 2 : 5;
	/* A plan that commits something starts the count over (Nomad's
	 * retryMax with progressMade); a cap stops a host that commits a
	 * little forever. */
	while (!done && tries < limit && total++ < MAX_ATTEMPTS_TOTAL) {
		attempt_free(&e);
		if ((rc = attempt(&e, in, &done, &progress, err)) < 0)
			break;
		tries = progress ? 0 : tries + 1;
	}
	if (rc >= 0 && !done) {
		/* Out of attempts: blocked until capacity changes, and failed. */
		rc = block(&e, TRIGGER_MAX_ATTEMPTS, blocked, err);
		if (rc >= 0) {
			char desc[64];
			snprintf(desc, sizeof(desc), "maximum attempts reached (%d)",
				 limit);
			rc = finish(&e, NOMAD__EVALUATION__STATUS_KIND__failed, desc,
				    blocked, err);
		}
	} else if (rc >= 0) {
		bool failed = e.n_failed > 0;
		for (size_t i = 0; i < e.n_followups && rc >= 0; i++)
			if ((rc = s->planner.create_eval(s->planner_ud,
							 e.followups[i])) < 0)
				nmd_seterr(err, rc, "scheduler: creating a "
						    "follow-up evaluation failed");
		if (rc >= 0)
			rc = nmd_sched_preemption_evals(&e, err);
		if (failed)
			rc = block(&e, TRIGGER_QUEUED, blocked, err);
		/* A blocked evaluation that still cannot place stays blocked. */
		if (rc >= 0 && !(failed && in->eval->status ==
					       NOMAD__EVALUATION__STATUS_KIND__blocked))
			rc = finish(&e, NOMAD__EVALUATION__STATUS_KIND__complete, "",
				    failed ? blocked : NULL, err);
	}
	attempt_free(&e);
	return rc;
}
