/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The generic scheduler (service and batch jobs): reconcile each task
 * group's allocations with its count, then place what is missing.
 *
 * This first reconciler covers a group's whole life without update
 * strategies: placements for missing name indexes, lost allocations
 * (node down or gone) replaced, allocations on draining nodes migrated,
 * excess ones stopped highest index first, a job stopped or purged
 * stopping everything, in-place updates for a new job version that
 * allows them and stop-and-replace otherwise, and completed batch
 * allocations left alone. Deployments, canaries, rolling limits and
 * rescheduling build on it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "sched/sched_int.h"
#include "structs/pb.h"


/* Reschedules closer than this to now happen now (Nomad's
 * rescheduleWindowSize). */
#define RESCHEDULE_WINDOW 1000000000LL

bool nmd_sched_client_terminal(const nomad_alloc *a)
{
	return a->has_clientstatus &&
	       (a->clientstatus == NOMAD__ALLOCATION__CLIENT_STATUS_KIND__complete ||
		a->clientstatus == NOMAD__ALLOCATION__CLIENT_STATUS_KIND__failed ||
		a->clientstatus == NOMAD__ALLOCATION__CLIENT_STATUS_KIND__lost);
}

bool nmd_sched_server_terminal(const nomad_alloc *a)
{
	return a->has_desiredstatus &&
	       a->desiredstatus != NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run;
}

/* The index in "<job>.<group>[<index>]", or -1. */
static long name_index(const char *name)
{
	const char *open = name ? strrchr(name, '[') : NULL;
	char *end;
	long v;
	if (!open)
		return -1;
	v = strtol(open + 1, &end, 10);
	return end != open + 1 && *end == ']' && !end[1] && v >= 0 ? v : -1;
}

/* A placement the reconciler asks for. */
struct want {
	long index;
	const nomad_alloc *previous; /* the allocation it replaces */
	bool reschedule;             /* of a failed one: tracked, penalised */
	int64_t delay;
};

struct group_work {
	struct want *place;
	size_t n_place, cap_place;
};

static bool want_place(const nomad_allocator *a, struct group_work *w,
		       long index, const nomad_alloc *previous)
{
	if (w->n_place == w->cap_place) {
		size_t cap = w->cap_place ? w->cap_place * 2 : 16;
		struct want *grown = nmd_reallocarray(a, w->place, cap,
						      sizeof(*grown));
		if (!grown)
			return false;
		w->place = grown;
		w->cap_place = cap;
	}
	memset(&w->place[w->n_place], 0, sizeof(w->place[0]));
	w->place[w->n_place].index = index;
	w->place[w->n_place++].previous = previous;
	return true;
}

#define PA (&e->plan_alloc)

static nomad_err oom(nomad_error *err)
{
	return nmd_seterr(err, NOMAD_ENOMEM, "scheduler: out of memory");
}

static int cmp_by_index_desc(const void *x, const void *y)
{
	long a = name_index((*(const nomad_alloc *const *)x)->name);
	long b = name_index((*(const nomad_alloc *const *)y)->name);
	return (a < b) - (a > b);
}

nomad_err nmd_sched_stop_all(struct nmd_eval_ctx *e,
			     const nomad_alloc *const *as, size_t n,
			     nomad_error *err)
{
	for (size_t i = 0; i < n; i++) {
		nomad_err rc;
		if (nmd_sched_server_terminal(as[i]) ||
		    nmd_sched_client_terminal(as[i]))
			continue;
		if ((rc = nmd_sched_plan_stop(e, as[i], NMD_WHY_NOT_NEEDED, 0, err)) < 0)
			return rc;
	}
	return NOMAD_OK;
}

/* An in-place update: the same allocation, on the same node, running the
 * new job version. */
nomad_err nmd_sched_update_in_place(struct nmd_eval_ctx *e,
				    const nomad_alloc *a, nomad_error *err)
{
	nomad_alloc *u = nmd_sched_plan_update(e, a);
	if (!u)
		return oom(err);
	u->has_jobversion = 1;
	u->jobversion = e->job->has_version ? e->job->version : 0;
	e->n_updated++;
	return NOMAD_OK;
}

/* How a running allocation meets the job's current version. */
nomad_update_kind nmd_sched_update_kind(const struct nmd_eval_ctx *e,
					const nomad_alloc *a, const char *group)
{
	uint64_t version = e->job->has_version ? e->job->version : 0;
	if ((a->has_jobversion ? a->jobversion : 0) == version)
		return NOMAD_UPDATE_NONE;
	if (!a->job)
		return NOMAD_UPDATE_DESTRUCTIVE; /* nothing to compare with */
	return nomad_task_group_update_kind(a->job, e->job, group);
}

/* Sort one group's allocations into kept, stopped and to-place. */
static nomad_err reconcile_group(struct nmd_eval_ctx *e, size_t tgi, bool batch,
				 const nomad_alloc *const *as, size_t n,
				 struct group_work *w, nomad_error *err)
{
	const nomad_allocator *al = e->s->ctx.alloc;
	const nomad_task_group *tg = e->job->taskgroups[tgi];
	long count = tg->has_count ? tg->count : 1;
	const nomad_alloc **live;
	bool *taken;
	size_t n_live = 0;
	nomad_err rc = NOMAD_OK;
	if (!(live = nmd_calloc(al, n ? n : 1, sizeof(*live))) ||
	    !(taken = nmd_calloc(al, (size_t)count + 1, sizeof(*taken)))) {
		nmd_free(al, live);
		return oom(err);
	}
	for (size_t i = 0; i < n; i++) {
		const nomad_alloc *a = as[i];
		if (!a->taskgroup || strcmp(a->taskgroup, tg->name) ||
		    nmd_sched_server_terminal(a))
			continue;
		/* A finished batch allocation holds its name: done is done. */
		if (batch && a->has_clientstatus &&
		    a->clientstatus == NOMAD__ALLOCATION__CLIENT_STATUS_KIND__complete) {
			long idx = name_index(a->name);
			if (idx >= 0 && idx < count)
				taken[idx] = true;
			continue;
		}
		if (nmd_sched_client_terminal(a))
			continue;
		live[n_live++] = a;
	}
	/* Lowest indexes are kept, so excess goes highest first. */
	qsort(live, n_live, sizeof(*live), cmp_by_index_desc);
	for (size_t k = n_live; k-- > 0 && rc >= 0;) {
		const nomad_alloc *a = live[k];
		struct nmd_snode *sn = nmd_sched_node_by_id(e, a->nodeid);
		long idx = name_index(a->name);
		nomad_update_kind kind;
		if (idx < 0 || idx >= count || taken[idx]) {
			NMD_DESIRED(e, tgi, stop);
			rc = nmd_sched_plan_stop(e, a, NMD_WHY_NOT_NEEDED, 0, err);
			continue;
		}
		taken[idx] = true;
		if (!sn || sn->n->status == NOMAD__NODE__STATUS_KIND__down) {
			NMD_DESIRED(e, tgi, stop);
			NMD_DESIRED(e, tgi, place);
			rc = nmd_sched_plan_stop(
				e, a, NMD_WHY_LOST,
				NOMAD__ALLOCATION__CLIENT_STATUS_KIND__lost, err);
			if (rc >= 0 && !want_place(al, w, idx, a))
				rc = oom(err);
			continue;
		}
		if (sn->n->draining) {
			NMD_DESIRED(e, tgi, migrate);
			rc = nmd_sched_plan_stop(e, a, NMD_WHY_MIGRATING, 0, err);
			if (rc >= 0 && !want_place(al, w, idx, a))
				rc = oom(err);
			continue;
		}
		kind = nmd_sched_update_kind(e, a, tg->name);
		if (kind == NOMAD_UPDATE_DESTRUCTIVE) {
			NMD_DESIRED(e, tgi, destructiveupdate);
			rc = nmd_sched_plan_stop(e, a, NMD_WHY_UPDATING, 0, err);
			if (rc >= 0 && !want_place(al, w, idx, a))
				rc = oom(err);
		} else if (kind == NOMAD_UPDATE_INPLACE) {
			NMD_DESIRED(e, tgi, inplaceupdate);
			rc = nmd_sched_update_in_place(e, a, err);
		} else {
			NMD_DESIRED(e, tgi, ignore);
		}
	}
	/* Failed allocations whose name nothing replaced yet: rescheduled
	 * now, later through a follow-up evaluation, or not at all, by the
	 * group's policy. */
	for (size_t i = 0; i < n && rc >= 0; i++) {
		const nomad_alloc *a = as[i];
		long idx = name_index(a->name);
		int64_t when, delay;
		if (!a->taskgroup || strcmp(a->taskgroup, tg->name) ||
		    nmd_sched_server_terminal(a) || !a->has_clientstatus ||
		    a->clientstatus != NOMAD__ALLOCATION__CLIENT_STATUS_KIND__failed ||
		    (a->nextallocation && *a->nextallocation) || idx < 0 ||
		    idx >= count || taken[idx])
			continue;
		taken[idx] = true; /* it holds its name until replaced */
		if (!nmd_reschedule_next(a, tg->reschedulepolicy, &when, &delay) ||
		    (a->followupevalid && *a->followupevalid &&
		     strcmp(a->followupevalid, e->eval->id) != 0)) {
			/* Spent, or a follow-up evaluation will see to it. */
			NMD_DESIRED(e, tgi, ignore);
			continue;
		}
		if (when - e->now > RESCHEDULE_WINDOW &&
		    !(a->followupevalid && *a->followupevalid)) {
			NMD_DESIRED(e, tgi, reschedulelater);
			rc = nmd_sched_follow_up(e, a, when, err);
			continue;
		}
		NMD_DESIRED(e, tgi, reschedulenow);
		NMD_DESIRED(e, tgi, place);
		rc = nmd_sched_plan_stop(e, a, NMD_WHY_RESCHEDULED, 0, err);
		if (rc >= 0 && !want_place(al, w, idx, a))
			rc = oom(err);
		if (rc >= 0) {
			w->place[w->n_place - 1].reschedule = true;
			w->place[w->n_place - 1].delay = delay;
		}
	}
	/* Place counts the new names, lost and rescheduled ones; replacing
	 * a migrated or updated allocation counts as Migrate or
	 * DestructiveUpdate, as in Nomad's DesiredUpdates. */
	for (long idx = 0; idx < count && rc >= 0; idx++) {
		if (taken[idx])
			continue;
		NMD_DESIRED(e, tgi, place);
		if (!want_place(al, w, idx, NULL))
			rc = oom(err);
	}
	nmd_free(al, live);
	nmd_free(al, taken);
	return rc;
}

static nomad_err place_group(struct nmd_eval_ctx *e, struct nmd_stack *st,
			     size_t tgi, struct group_work *w,
			     const nomad_alloc *const *as, size_t n,
			     nomad_error *err)
{
	const nomad_task_group *tg = e->job->taskgroups[tgi];
	struct nmd_ask ask;
	nomad_err rc = NOMAD_OK;
	nmd_sched_ask(tg, &ask);
	st->spread = w->n_place ? nmd_spread_new(e, tgi, as, n) : NULL;
	for (size_t i = 0; i < w->n_place && rc >= 0; i++) {
		Nomad__AllocationMetric *m =
			nmd_pb_new(&nomad__allocation_metric__descriptor, PA);
		struct nmd_choice c;
		char name[512];
		bool found;
		if (!m)
			return oom(err);
		snprintf(name, sizeof(name), "%s.%s[%ld]", e->job->id, tg->name,
			 w->place[i].index);
		st->penalty = w->place[i].reschedule ? w->place[i].previous : NULL;
		rc = nmd_sched_select(st, tgi, &ask, m, &c, &found, err);
		st->penalty = NULL;
		if (rc >= 0) {
			m->has_nodesinpool = 1;
			m->nodesinpool = (int32_t)st->n_cands;
			rc = found ? nmd_sched_plan_place(e, tgi, name, &c, &ask, m,
							  w->place[i].previous, err)
				   : nmd_sched_plan_failed(e, tg->name, m, err);
			if (found)
				nmd_spread_placed(st->spread, c.node);
			if (found && rc >= 0 && w->place[i].reschedule)
				rc = nmd_sched_track_reschedule(
					e, c.node, w->place[i].previous,
					w->place[i].delay, err);
		}
		nmd_pb_free(m, PA);
	}
	return rc;
}

nomad_err nmd_sched_stop_unknown_groups(struct nmd_eval_ctx *e,
					const nomad_alloc *const *as, size_t n,
					nomad_error *err)
{
	nomad_err rc = NOMAD_OK;
	for (size_t i = 0; i < n && rc >= 0; i++) {
		bool known = false;
		if (nmd_sched_server_terminal(as[i]) ||
		    nmd_sched_client_terminal(as[i]))
			continue;
		for (size_t g = 0; g < e->job->n_taskgroups && !known; g++)
			known = as[i]->taskgroup &&
				!strcmp(as[i]->taskgroup,
					e->job->taskgroups[g]->name);
		if (!known)
			rc = nmd_sched_plan_stop(e, as[i], NMD_WHY_NOT_NEEDED, 0, err);
	}
	return rc;
}

nomad_err nmd_sched_generic(struct nmd_eval_ctx *e, bool batch,
			    nomad_error *err)
{
	const nomad_alloc *const *as = e->allocs;
	size_t n = e->n_allocs;
	struct nmd_stack st;
	struct group_work *work;
	nomad_err rc = NOMAD_OK;
	if (!(work = nmd_calloc(e->s->ctx.alloc, e->job->n_taskgroups + 1,
				sizeof(*work))))
		return oom(err);
	/* Stops first (they free room on the nodes), then placements. */
	for (size_t g = 0; g < e->job->n_taskgroups && rc >= 0; g++)
		rc = reconcile_group(e, g, batch, as, n, &work[g], err);
	if (rc >= 0)
		rc = nmd_sched_stop_unknown_groups(e, as, n, err);
	if (rc >= 0 && (rc = nmd_sched_stack_init(e, &st, batch, err)) >= 0) {
		for (size_t g = 0; g < e->job->n_taskgroups && rc >= 0; g++)
			rc = place_group(e, &st, g, &work[g], as, n, err);
		if (rc >= 0)
			rc = nmd_sched_stack_eligibility(&st, err);
		nmd_sched_stack_free(&st);
	}
	for (size_t g = 0; g < e->job->n_taskgroups; g++) {
		nmd_free(e->s->ctx.alloc, work[g].place);
	}
	nmd_free(e->s->ctx.alloc, work);
	return rc;
}
