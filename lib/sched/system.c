/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The system and sysbatch schedulers: one allocation of each task group
 * on every node the job may use, named <job>.<group>[0], in the nodes'
 * order (no shuffle, no limit: each node is checked for itself).
 *
 * Per node: a ready, eligible node of the job's datacenters and pool
 * without the group gets a placement if it is feasible and it fits; an
 * allocation there of an older job version is updated in place or
 * replaced on the same node; extra copies are stopped. Allocations on a
 * node that is down or gone are lost, on a draining node or one the job
 * no longer targets they are stopped; on an ineligible node they stay.
 * A sysbatch allocation that completed is not placed again. A system
 * job's update block limits replacements to max_parallel per evaluation,
 * a rolling-update evaluation going on after the stagger (Nomad's system
 * scheduler before system deployments).
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "sched/sched_int.h"
#include "structs/pb.h"


/* What one node holds of one task group. */
struct on_node {
	const nomad_alloc *live;         /* the one kept, if any */
	bool done;                       /* a completed sysbatch run */
};

static nomad_err place_on(struct nmd_eval_ctx *e, struct nmd_stack *st,
			  struct nmd_snode *sn, size_t tgi, const char *name,
			  const struct nmd_ask *ask, const nomad_alloc *previous,
			  nomad_error *err)
{
	Nomad__AllocationMetric *m =
		nmd_pb_new(&nomad__allocation_metric__descriptor, &e->plan_alloc);
	struct nmd_choice c;
	bool found;
	nomad_err rc;
	if (!m)
		return nmd_sched_oom(err);
	st->alloc_name = name; /* per_alloc host volumes */
	rc = nmd_sched_select_node(st, sn, tgi, ask, m, &c, &found, err);
	st->alloc_name = NULL;
	if (rc < 0)
		return rc;
	m->has_nodesinpool = 1;
	m->nodesinpool = (int32_t)st->n_cands;
	return found ? nmd_sched_plan_place(e, tgi, name, &c, ask, m, previous,
					   err)
		     : nmd_sched_plan_failed(e, e->job->taskgroups[tgi]->name, m,
					     err);
}

/* Sort the group's allocations onto their nodes; stop what has no place. */
static nomad_err gather(struct nmd_eval_ctx *e, struct nmd_stack *st,
			size_t tgi, bool sysbatch,
			const nomad_alloc *const *as, size_t n,
			struct on_node *on, nomad_error *err)
{
	const nomad_task_group *tg = e->job->taskgroups[tgi];
	nomad_err rc = NOMAD_OK;
	for (size_t i = 0; i < n && rc >= 0; i++) {
		const nomad_alloc *a = as[i];
		struct nmd_snode *sn;
		size_t k;
		if (!a->taskgroup || strcmp(a->taskgroup, tg->name) ||
		    nmd_sched_server_terminal(a))
			continue;
		sn = nmd_sched_node_by_id(e, a->nodeid);
		if (sysbatch && a->has_clientstatus &&
		    (a->clientstatus == NOMAD__ALLOCATION__CLIENT_STATUS_KIND__complete ||
		     nmd_alloc_ran_out(a, tg))) {
			if (sn)
				on[sn - e->snodes].done = true;
			continue;
		}
		if (nmd_sched_client_terminal(a))
			continue;
		if (!sn || sn->n->status == NOMAD__NODE__STATUS_KIND__down) {
			NMD_DESIRED(e, tgi, stop);
			rc = nmd_sched_plan_stop(
				e, a, NMD_WHY_LOST,
				NOMAD__ALLOCATION__CLIENT_STATUS_KIND__lost, err);
			continue;
		}
		if (sn->n->draining) {
			NMD_DESIRED(e, tgi, migrate);
			rc = nmd_sched_plan_stop(e, a, NMD_WHY_MIGRATING, 0, err);
			continue;
		}
		k = (size_t)(sn - e->snodes);
		if (!nmd_sched_node_in_job(st, sn) || on[k].live) {
			/* Not a node for the job any more, or a second copy. */
			NMD_DESIRED(e, tgi, stop);
			rc = nmd_sched_plan_stop(e, a, NMD_WHY_NOT_NEEDED, 0, err);
			continue;
		}
		on[k].live = a;
	}
	return rc;
}

static nomad_err schedule_group(struct nmd_eval_ctx *e, struct nmd_stack *st,
				size_t tgi, bool sysbatch,
				const nomad_alloc *const *as, size_t n,
				long *limit, bool *limited, nomad_error *err)
{
	const nomad_task_group *tg = e->job->taskgroups[tgi];
	struct on_node *on = nmd_arena_alloc(e->arena, (e->n_all_nodes + 1) *
							       sizeof(*on));
	struct nmd_ask ask;
	char name[512];
	nomad_err rc;
	if (!on)
		return nmd_sched_oom(err);
	memset(on, 0, e->n_all_nodes * sizeof(*on));
	nmd_sched_ask(tg, &ask);
	snprintf(name, sizeof(name), "%s.%s[0]", e->job->id, tg->name);
	rc = gather(e, st, tgi, sysbatch, as, n, on, err);
	for (size_t k = 0; k < e->n_all_nodes && rc >= 0; k++) {
		struct nmd_snode *sn = &e->snodes[k];
		const nomad_alloc *a = on[k].live;
		if (a) {
			nomad_update_kind kind = nmd_sched_update_kind(e, a, tg->name);
			if (kind == NOMAD_UPDATE_INPLACE) {
				NMD_DESIRED(e, tgi, inplaceupdate);
				if (!nmd_sched_update_in_place(e, a))
					rc = nmd_sched_oom(err);
			} else if (kind == NOMAD_UPDATE_DESTRUCTIVE && *limit == 0) {
				NMD_DESIRED(e, tgi, ignore);
				*limited = true;
			} else if (kind == NOMAD_UPDATE_DESTRUCTIVE) {
				NMD_DESIRED(e, tgi, destructiveupdate);
				if (*limit > 0)
					(*limit)--;
				rc = nmd_sched_plan_stop(e, a, NMD_WHY_UPDATING, 0, err);
				if (rc >= 0)
					rc = place_on(e, st, sn, tgi, name, &ask, a, err);
			} else {
				NMD_DESIRED(e, tgi, ignore);
			}
			continue;
		}
		if (on[k].done || !nmd_sched_node_eligible(st, sn) ||
		    !nmd_sched_node_in_job(st, sn))
			continue;
		NMD_DESIRED(e, tgi, place);
		rc = place_on(e, st, sn, tgi, name, &ask, NULL, err);
	}
	return rc; /* `on` stays in the arena */
}

/* Nomad's default stagger between rolling-update evaluations. */
#define DEFAULT_STAGGER 30000000000LL

/* The evaluation that goes on with a rolling update after `stagger`. */
static nomad_err next_rolling(struct nmd_eval_ctx *e,
			      const Nomad__UpdateStrategy *u, nomad_error *err)
{
	int64_t wait = u->stagger > 0 ? u->stagger : DEFAULT_STAGGER;
	nomad_eval *f = nmd_sched_followup_eval(e, e->now + wait,
						"rolling-update");
	if (!f)
		return nmd_sched_oom(err);
	/* Nomad's rolling evaluation waits (Wait), rather than until. */
	f->waituntil = NULL; /* in the arena */
	f->has_wait = 1;
	f->wait = wait;
	return NOMAD_OK;
}

nomad_err nmd_sched_system(struct nmd_eval_ctx *e, bool sysbatch,
			   nomad_error *err)
{
	const nomad_alloc *const *as = e->allocs;
	size_t n = e->n_allocs;
	struct nmd_stack st;
	nomad_err rc;
	const Nomad__UpdateStrategy *u = e->job->update;
	/* A rolling update replaces max_parallel allocations per evaluation
	 * (-1: no limit), the next ones after `stagger`. */
	long limit = !sysbatch && u && u->maxparallel > 0 ? u->maxparallel : -1;
	bool limited = false;
	if ((rc = nmd_sched_stack_init(e, &st, false, err)) < 0)
		return rc;
	for (size_t g = 0; g < e->job->n_taskgroups && rc >= 0; g++)
		rc = schedule_group(e, &st, g, sysbatch, as, n, &limit, &limited,
				    err);
	if (rc >= 0 && limited)
		rc = next_rolling(e, u, err);
	if (rc >= 0)
		rc = nmd_sched_stop_unknown_groups(e, as, n, err);
	if (rc >= 0)
		rc = nmd_sched_stack_eligibility(&st, err);
	nmd_sched_stack_free(&st);
	return rc;
}
