/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The generic scheduler (service and batch jobs): Nomad's cluster
 * reconciler per task group, then placement of what it asks for.
 *
 * Per group, the allocations are sorted into Nomad's buckets: untainted,
 * migrate (marked by a drain, or paced here by the migrate block on
 * draining nodes), lost (node down or gone), disconnecting and
 * reconnecting (a disconnect block), ignore, expiring, and failed ones
 * to reschedule now or later. Then, in Nomad's order: excess stopped
 * (highest name indexes first), in-place and destructive updates,
 * canaries, placements for missing names, lost and rescheduled
 * allocations, destructive updates limited by the update block's
 * max_parallel and the deployment's health, migrations, and the
 * deployment created, or marked successful once everything is healthy.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "sched/reconcile.h"
#include "structs/pb.h"

/* Reschedules closer than this to now happen now (Nomad's
 * rescheduleWindowSize). */
#define RESCHEDULE_WINDOW 1000000000LL



bool nmd_sched_client_terminal(const nomad_alloc *a)
{
	return a->has_clientstatus &&
	       (a->clientstatus == CS(complete) || a->clientstatus == CS(failed) ||
		a->clientstatus == CS(lost));
}

bool nmd_sched_server_terminal(const nomad_alloc *a)
{
	return a->has_desiredstatus && a->desiredstatus != DS(run);
}

static bool terminal(const nomad_alloc *a)
{
	return nmd_sched_client_terminal(a) || nmd_sched_server_terminal(a);
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

static bool want_place(struct group *g, long index, const nomad_alloc *previous)
{
	struct group_work *w = g->w;
	if (w->n_place == w->cap_place) {
		size_t cap = w->cap_place ? w->cap_place * 2 : 16;
		struct want *grown = nmd_reallocarray(g->e->s->ctx.alloc, w->place,
						      cap, sizeof(*grown));
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

static const Nomad__UpdateStrategy *update_of(const struct group *g)
{
	const Nomad__UpdateStrategy *u = g->tg->update;
	return !g->batch && u && u->maxparallel > 0 ? u : NULL;
}

static bool healthy(const nomad_alloc *a)
{
	return a->deploymentstatus && a->deploymentstatus->has_healthy &&
	       a->deploymentstatus->healthy;
}

static bool unhealthy(const nomad_alloc *a)
{
	return a->deploymentstatus && a->deploymentstatus->has_healthy &&
	       !a->deploymentstatus->healthy;
}

static void name_set(struct group *g, long idx, bool on)
{
	if (idx >= 0 && (size_t)idx < g->n_names)
		g->names[idx] = on;
}

nomad_err nmd_rec_stop(struct group *g, struct ralloc *r, const char *why,
		      int client_status, nomad_error *err)
{
	r->bucket = B_STOPPED;
	return nmd_sched_plan_stop(g->e, r->a, why, client_status, err);
}

static int cmp_index(const void *x, const void *y)
{
	const struct ralloc *a = x, *b = y;
	if (a->idx != b->idx)
		return (a->idx > b->idx) - (a->idx < b->idx);
	return strcmp(a->a->id, b->a->id);
}

/* Gather the group's allocations, in name order; canaries of a
 * deployment that is over, or failed, and are not promoted are stopped
 * (Nomad's cancelUnneededCanaries). */
static nomad_err gather(struct group *g, const nomad_alloc *const *as, size_t n,
			nomad_error *err)
{
	struct nmd_eval_ctx *e = g->e;
	const nomad_deployment *cur = g->dep->d;
	size_t max_idx = (size_t)g->count;
	nomad_err rc = NOMAD_OK;
	if (!(g->as = nmd_arena_alloc(e->arena, (n ? n : 1) * sizeof(*g->as))))
		return nmd_sched_oom(err);
	for (size_t i = 0; i < n; i++) {
		const nomad_alloc *a = as[i];
		struct ralloc *r;
		if (!a->taskgroup || strcmp(a->taskgroup, g->tg->name))
			continue;
		r = &g->as[g->n++];
		memset(r, 0, sizeof(*r));
		r->a = a;
		r->idx = name_index(a->name);
		r->terminal = terminal(a);
		r->bucket = B_UNTAINTED;
		/* Names far past anything the group could use are not
		 * indexed (a stored name must not size our arrays). */
		if (r->idx >= 0 && (size_t)r->idx < (size_t)g->count + n + 64 &&
		    (size_t)r->idx + 1 > max_idx)
			max_idx = (size_t)r->idx + 1;
	}
	qsort(g->as, g->n, sizeof(*g->as), cmp_index);
	g->n_names = max_idx + 1;
	if (!(g->names = nmd_arena_alloc(e->arena, g->n_names)) ||
	    !(g->canary_name = nmd_arena_alloc(e->arena, g->n_names)))
		return nmd_sched_oom(err);
	memset(g->names, 0, g->n_names);
	memset(g->canary_name, 0, g->n_names);
	for (size_t i = 0; i < g->n && rc >= 0; i++) {
		struct ralloc *r = &g->as[i];
		bool stale = nmd_dep_canary(g->dep->old, r->a->id, false) ||
			     (cur && g->dep->failed &&
			      nmd_dep_canary(cur, r->a->id, false));
		if (stale && !r->terminal) {
			NMD_DESIRED(e, g->tgi, stop);
			rc = nmd_rec_stop(g, r, NMD_WHY_NOT_NEEDED, 0, err);
			continue;
		}
		r->canary = cur && nmd_dep_canary(cur, r->a->id, true);
	}
	return rc;
}

/* Nomad's shouldFilter: whether an allocation counts against the group
 * (*untainted) and whether it is out of consideration (*ignore). */
static void should_filter(const nomad_alloc *a, bool batch, bool *untainted,
			  bool *ignore)
{
	*untainted = *ignore = false;
	if (batch) {
		if (a->desiredstatus == DS(stop)) {
			*untainted = a->clientstatus == CS(complete);
			*ignore = !*untainted;
		} else if (a->desiredstatus == DS(evict)) {
			*ignore = true;
		} else if (a->clientstatus != CS(failed)) {
			*untainted = true;
		}
		return;
	}
	if (a->desiredstatus == DS(stop) || a->desiredstatus == DS(evict) ||
	    a->clientstatus == CS(complete) || a->clientstatus == CS(lost))
		*ignore = true;
}

/* Nomad's filterByRescheduleable over the untainted allocations: failed
 * ones are replaced now, later (a follow-up evaluation) or never. */
static int cmp_later(const void *x, const void *y)
{
	const struct ralloc *a = *(struct ralloc *const *)x;
	const struct ralloc *b = *(struct ralloc *const *)y;
	if (a->later_at != b->later_at)
		return (a->later_at > b->later_at) - (a->later_at < b->later_at);
	return cmp_index(a, b);
}

/* Follow-up evaluations for the reschedules due later, earliest first,
 * so that each batch starts at its earliest (Nomad's
 * createRescheduleLaterEvals). */
static nomad_err follow_ups(struct group *g, nomad_error *err)
{
	struct ralloc **later = nmd_arena_alloc(g->e->arena,
						g->n_later * sizeof(*later));
	size_t n = 0;
	nomad_err rc = NOMAD_OK;
	if (!later)
		return nmd_sched_oom(err);
	for (size_t i = 0; i < g->n; i++)
		if (g->as[i].later_at)
			later[n++] = &g->as[i];
	qsort(later, n, sizeof(*later), cmp_later);
	for (size_t i = 0; i < n && rc >= 0; i++)
		rc = nmd_sched_follow_up(g->e, later[i]->a, later[i]->later_at, err);
	return rc;
}

static nomad_err reschedulable(struct group *g, nomad_error *err)
{
	struct nmd_eval_ctx *e = g->e;
	const nomad_deployment *d = g->dep->d;
	nomad_err rc = NOMAD_OK;
	for (size_t i = 0; i < g->n && rc >= 0; i++) {
		struct ralloc *r = &g->as[i];
		const nomad_alloc *a = r->a;
		const Nomad__DesiredTransition *dt = a->desiredtransition;
		bool untainted, ignore, now = false, later = false;
		int64_t when = 0, delay = 0;
		if (r->bucket != B_UNTAINTED)
			continue;
		if (a->nextallocation && *a->nextallocation && r->terminal) {
			r->bucket = B_OUT; /* already replaced */
			continue;
		}
		if (nmd_alloc_ran_out(a, g->tg))
			continue; /* done: it keeps its name, unreplaced */
		should_filter(a, g->batch, &untainted, &ignore);
		if (ignore) {
			r->bucket = untainted ? B_UNTAINTED : B_OUT;
			continue;
		}
		/* In an active deployment a failed allocation waits for the
		 * deployment watcher to mark it for rescheduling. */
		if (!(d && a->deploymentid && !strcmp(a->deploymentid, d->id) &&
		      nmd_dep_active(d) && !(dt && dt->reschedule))) {
			bool eligible = nmd_reschedule_next(
				a, g->tg->reschedulepolicy, &when, &delay);
			now = dt && dt->forcereschedule;
			if (eligible && ((a->followupevalid &&
					  !strcmp(a->followupevalid, e->eval->id)) ||
					 when - e->now <= RESCHEDULE_WINDOW))
				now = true;
			else if (eligible && !(a->followupevalid &&
					       *a->followupevalid))
				later = true;
		}
		if (now) {
			r->bucket = B_RESCHEDULE_NOW;
			r->delay = delay;
			continue;
		}
		if (later) {
			g->n_later++;
			r->later_at = when;
			NMD_DESIRED(e, g->tgi, reschedulelater);
		}
	}
	return g->n_later ? follow_ups(g, err) : rc;
}

static size_t count_bucket(const struct group *g, enum bucket b)
{
	size_t n = 0;
	for (size_t i = 0; i < g->n; i++)
		n += g->as[i].bucket == b;
	return n;
}

/* The stop of `a` just made waits for follow-up evaluation `id`. */
static nomad_err stop_follow_up(struct group *g, const nomad_alloc *a,
				const char *id, nomad_error *err)
{
	struct nmd_eval_ctx *e = g->e;
	Nomad__AllocationList *l = nmd_sched_plan_list(
		e, nmd_sched_node_by_id(e, a->nodeid), a->nodeid ? a->nodeid : "",
		true);
	if (!l || !l->n_items ||
	    !nmd_pb_set_string(PA, &l->items[l->n_items - 1]->followupevalid, id))
		return nmd_sched_oom(err);
	return NOMAD_OK;
}

/* Nomad's computeStop: lost allocations, then the excess over the count,
 * preferring names a promoted canary took over, then migrating ones,
 * then the highest name indexes. */
static nomad_err compute_stop(struct group *g, nomad_error *err)
{
	struct nmd_eval_ctx *e = g->e;
	long remove;
	nomad_err rc = NOMAD_OK;
	for (size_t i = 0; i < g->n && rc >= 0; i++)
		if (g->as[i].bucket == B_LOST) {
			NMD_DESIRED(e, g->tgi, stop);
			rc = nmd_rec_stop(g, &g->as[i], NMD_WHY_LOST, CS(lost), err);
			g->as[i].bucket = B_LOST; /* still to replace */
			if (rc >= 0 && g->as[i].followup)
				rc = stop_follow_up(g, g->as[i].a,
						    g->as[i].followup, err);
		}
	/* Unknown allocations are neither stopped nor counted here. */
	remove = (long)count_bucket(g, B_MIGRATE) - g->count;
	for (size_t i = 0; i < g->n; i++)
		remove += g->as[i].bucket == B_UNTAINTED &&
			  g->as[i].a->clientstatus != CS(unknown);
	if (g->canarying)
		for (size_t i = 0; i < g->n; i++)
			remove -= g->as[i].bucket == B_UNTAINTED && g->as[i].canary;
	if (remove <= 0 || rc < 0)
		return rc;
	if (!g->canarying && g->n_canaries)
		for (size_t i = 0; i < g->n && remove > 0 && rc >= 0; i++) {
			struct ralloc *r = &g->as[i];
			bool match = false;
			if (r->bucket != B_UNTAINTED || r->terminal || r->canary)
				continue;
			match = r->idx >= 0 && (size_t)r->idx < g->n_names &&
				g->canary_name[r->idx];
			if (match) {
				NMD_DESIRED(e, g->tgi, stop);
				rc = nmd_rec_stop(g, r, NMD_WHY_NOT_NEEDED, 0, err);
				remove--;
			}
		}
	/* A name held twice (a promoted canary of an older deployment and
	 * the allocation it stood in for) goes first. */
	for (size_t i = 1; i < g->n && remove > 0 && rc >= 0; i++) {
		struct ralloc *r = &g->as[i];
		bool dup = false;
		if (r->bucket != B_UNTAINTED || r->terminal || r->idx < 0 ||
		    (g->canarying && r->canary) || r->a->clientstatus == CS(unknown))
			continue;
		for (size_t k = i; k-- > 0 && g->as[k].idx == r->idx && !dup;)
			dup = g->as[k].bucket == B_UNTAINTED && !g->as[k].terminal;
		if (dup) {
			NMD_DESIRED(e, g->tgi, stop);
			rc = nmd_rec_stop(g, r, NMD_WHY_NOT_NEEDED, 0, err);
			remove--;
		}
	}
	/* Highest indexes first, migrating ones before the others. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = g->n; i-- > 0 && remove > 0 && rc >= 0;) {
			struct ralloc *r = &g->as[i];
			if (r->bucket != (pass ? B_UNTAINTED : B_MIGRATE) ||
			    r->terminal || (g->canarying && r->canary) ||
			    r->a->clientstatus == CS(unknown))
				continue;
			NMD_DESIRED(e, g->tgi, stop);
			rc = nmd_rec_stop(g, r, NMD_WHY_NOT_NEEDED, 0, err);
			if (!pass)
				name_set(g, r->idx, false);
			remove--;
		}
	/* Still too many: the rest of the excess has ended already (failed
	 * for good). Nomad would go on to replace such an allocation when
	 * the job changes, overshooting the count until the next
	 * evaluation; here it is let go. */
	for (size_t i = g->n; i-- > 0 && remove > 0;)
		if (g->as[i].bucket == B_UNTAINTED && g->as[i].terminal) {
			g->as[i].bucket = B_OUT;
			remove--;
		}
	return rc;
}

/* Nomad's computeUpdates over what stays. */
static nomad_err compute_updates(struct group *g, size_t *n_destructive,
				 size_t *n_inplace, nomad_error *err)
{
	struct nmd_eval_ctx *e = g->e;
	nomad_err rc = NOMAD_OK;
	*n_destructive = *n_inplace = 0;
	for (size_t i = 0; i < g->n && rc >= 0; i++) {
		struct ralloc *r = &g->as[i];
		nomad_update_kind kind;
		if (r->bucket != B_UNTAINTED)
			continue;
		kind = nmd_sched_update_kind(e, r->a, g->tg->name);
		if (kind == NOMAD_UPDATE_DESTRUCTIVE) {
			r->destructive = true;
			(*n_destructive)++;
		} else if (kind == NOMAD_UPDATE_INPLACE && !r->terminal) {
			nomad_alloc *copy = nmd_sched_update_in_place(e, r->a);
			(*n_inplace)++;
			NMD_DESIRED(e, g->tgi, inplaceupdate);
			if (!copy || !NMD_PB_APPEND(PA, g->dep->inplace,
						    g->dep->n_inplace, copy))
				return nmd_sched_oom(err);
		} else {
			NMD_DESIRED(e, g->tgi, ignore);
		}
	}
	return rc;
}

/* The next free name index in [0, count), or past the count (Nomad's
 * allocNameIndex.Next and NextCanaries). */
static long next_name(struct group *g, long *past)
{
	/* Names are only taken from here on, never given back: the scan
	 * goes on from where the last one stopped. */
	for (long i = g->name_cursor; i < g->count && (size_t)i < g->n_names;
	     i++)
		if (!g->names[i]) {
			g->names[i] = true;
			g->name_cursor = i + 1;
			return i;
		}
	g->name_cursor = g->count;
	return (*past)++;
}

/* Nomad's computeCanaries: canaries take the names of allocations being
 * replaced first, then free names, then names past the count. */
static nomad_err compute_canaries(struct group *g, nomad_error *err)
{
	struct nmd_eval_ctx *e = g->e;
	const Nomad__UpdateStrategy *u = update_of(g);
	long want = u->canary - (long)g->n_canaries, past = g->count;
	g->dstate->has_desiredcanaries = 1;
	g->dstate->desiredcanaries = u->canary;
	if (g->dep->paused || g->dep->failed)
		return NOMAD_OK;
	for (size_t pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < (pass ? (size_t)g->count : g->n) && want > 0;
		     i++) {
			long idx = pass ? (long)i : g->as[i].idx;
			bool used = false;
			if (!pass && !(g->as[i].bucket == B_UNTAINTED &&
				       g->as[i].destructive))
				continue;
			if (pass && (size_t)idx < g->n_names && g->names[idx])
				continue;
			used = idx >= 0 && (size_t)idx < g->n_names &&
			       g->canary_name[idx];
			if (used || idx < 0)
				continue;
			name_set(g, idx, true);
			if ((size_t)idx < g->n_names)
				g->canary_name[idx] = true;
			NMD_DESIRED(e, g->tgi, canary);
			if (!want_place(g, idx, NULL))
				return nmd_sched_oom(err);
			g->w->place[g->w->n_place - 1].canary = true;
			want--;
		}
	while (want-- > 0) {
		NMD_DESIRED(e, g->tgi, canary);
		if (!want_place(g, past++, NULL))
			return nmd_sched_oom(err);
		g->w->place[g->w->n_place - 1].canary = true;
	}
	return NOMAD_OK;
}

/* Nomad's computeUnderProvisionedBy: how many allocations a rolling
 * update may replace now. */
static long under_provisioned(struct group *g, size_t n_destructive)
{
	const Nomad__UpdateStrategy *u = update_of(g);
	long n;
	if (!u || n_destructive + count_bucket(g, B_MIGRATE) == 0)
		return g->count;
	if (!g->dep->d)
		return u->maxparallel;
	if (g->dep->paused || g->dep->failed || g->canarying)
		return 0;
	n = u->maxparallel;
	for (size_t i = 0; i < g->n; i++) {
		const nomad_alloc *a = g->as[i].a;
		if (g->as[i].bucket != B_UNTAINTED || !a->deploymentid ||
		    strcmp(a->deploymentid, g->dep->d->id))
			continue;
		if (unhealthy(a))
			return 0;
		if (!healthy(a))
			n--;
	}
	return n < 0 ? 0 : n;
}

/* Nomad's drainer, for allocations on draining nodes not yet marked to
 * migrate: a service group keeps at least count - migrate.max_parallel
 * healthy allocations while its others move. */
static void pace_drain(struct group *g)
{
	const Nomad__MigrateStrategy *m = g->tg->migrate;
	long max_parallel = m && m->has_maxparallel ? m->maxparallel : 1;
	long healthy_n = 0, n;
	if (g->batch)
		return; /* batch allocations move at the drain's deadline */
	for (size_t i = 0; i < g->n; i++)
		if (g->as[i].bucket == B_UNTAINTED && !g->as[i].terminal &&
		    healthy(g->as[i].a))
			healthy_n++;
	n = healthy_n - (g->count - max_parallel);
	n -= (long)count_bucket(g, B_MIGRATE);
	for (size_t i = 0; i < g->n && n > 0; i++) {
		struct ralloc *r = &g->as[i];
		struct nmd_snode *sn = nmd_sched_node_by_id(g->e, r->a->nodeid);
		if (r->bucket == B_UNTAINTED && !r->terminal && sn &&
		    sn->n->draining) {
			r->bucket = B_MIGRATE;
			n--;
		}
	}
}

static nomad_err place_missing(struct group *g, bool place_ready,
			       long *under, size_t *n_place, nomad_error *err)
{
	struct nmd_eval_ctx *e = g->e;
	long existing = (long)count_bucket(g, B_UNTAINTED) +
			(long)count_bucket(g, B_MIGRATE) +
			(long)count_bucket(g, B_RESCHEDULE_NOW), past = 0;
	size_t first = g->w->n_place;
	nomad_err rc = NOMAD_OK;
	if (g->canarying)
		for (size_t i = 0; i < g->n; i++)
			existing -= g->as[i].bucket == B_UNTAINTED && g->as[i].canary;
	/* Failed allocations first, then lost ones up to the count, then
	 * the names still missing (Nomad's computePlacements). Lost and
	 * failed ones are replaced even while a deployment holds back. */
	for (size_t i = 0; i < g->n && rc >= 0; i++) {
		struct ralloc *r = &g->as[i];
		if (r->bucket != B_RESCHEDULE_NOW)
			continue;
		if (!place_ready && g->dep->failed && r->a->deploymentid &&
		    g->dep->d && !strcmp(r->a->deploymentid, g->dep->d->id))
			continue;
		NMD_DESIRED(e, g->tgi, reschedulenow);
		NMD_DESIRED(e, g->tgi, place);
		if (!r->disconnecting) { /* the disconnected one is kept */
			NMD_DESIRED(e, g->tgi, stop);
			if ((rc = nmd_rec_stop(g, r, NMD_WHY_RESCHEDULED, 0, err)) < 0)
				return rc;
		}
		if (!want_place(g, r->idx, r->a))
			return nmd_sched_oom(err);
		g->w->place[g->w->n_place - 1].reschedule = true;
		g->w->place[g->w->n_place - 1].delay = r->delay;
		g->w->place[g->w->n_place - 1].canary = r->canary;
	}
	for (size_t i = 0; i < g->n && rc >= 0; i++) {
		if (g->as[i].bucket != B_LOST || existing >= g->count)
			continue;
		existing++;
		NMD_DESIRED(e, g->tgi, place);
		if (!want_place(g, g->as[i].idx, g->as[i].a))
			return nmd_sched_oom(err);
		g->w->place[g->w->n_place - 1].canary = g->as[i].canary;
	}
	if (place_ready)
		for (; existing < g->count; existing++) {
			NMD_DESIRED(e, g->tgi, place);
			if (!want_place(g, next_name(g, &past), NULL))
				return nmd_sched_oom(err);
		}
	*n_place = g->w->n_place - first;
	if (place_ready) {
		long used = (long)*n_place < *under ? (long)*n_place : *under;
		*under -= used;
	}
	return rc;
}

/* Rolling updates: the first `under` destructive updates in name order
 * (Nomad's computeDestructiveUpdates). */
static nomad_err destructive_updates(struct group *g, long under,
				     nomad_error *err)
{
	struct nmd_eval_ctx *e = g->e;
	for (size_t i = 0; i < g->n; i++) {
		struct ralloc *r = &g->as[i];
		if (r->bucket != B_UNTAINTED || !r->destructive ||
		    (g->canarying && r->canary))
			continue;
		if (under <= 0) {
			NMD_DESIRED(e, g->tgi, ignore);
			continue;
		}
		under--;
		NMD_DESIRED(e, g->tgi, destructiveupdate);
		if (!want_place(g, r->idx, r->a))
			return nmd_sched_oom(err);
		g->w->place[g->w->n_place - 1].stop_why = NMD_WHY_UPDATING;
	}
	return NOMAD_OK;
}

static nomad_err migrations(struct group *g, nomad_error *err)
{
	struct nmd_eval_ctx *e = g->e;
	nomad_err rc = NOMAD_OK;
	for (size_t i = 0; i < g->n && rc >= 0; i++) {
		struct ralloc *r = &g->as[i];
		if (r->bucket != B_MIGRATE)
			continue;
		NMD_DESIRED(e, g->tgi, migrate);
		if ((rc = nmd_rec_stop(g, r, NMD_WHY_MIGRATING, 0, err)) < 0)
			return rc;
		if (!want_place(g, r->idx, r->a))
			return nmd_sched_oom(err);
		g->w->place[g->w->n_place - 1].canary = r->canary;
	}
	return rc;
}

/* Nomad's createDeployment: a group with an update block whose spec
 * changes, or that runs for the first time, joins (or starts) one. */
static nomad_err join_deployment(struct group *g, size_t n_destructive,
				 nomad_error *err)
{
	struct nmd_eval_ctx *e = g->e;
	Nomad__DeploymentStateEntry *entry;
	bool had_running = false;
	nomad_err rc;
	if (g->existing || !update_of(g) || !g->dstate->desiredtotal)
		return NOMAD_OK;
	for (size_t i = 0; i < g->n && !had_running; i++)
		had_running = (g->as[i].a->has_jobversion ? g->as[i].a->jobversion
							  : 0) == e->job->version;
	if (had_running && !n_destructive && !e->n_updated)
		return NOMAD_OK;
	if (!g->dep->d && (rc = nmd_dep_create(e, g->dep, err)) < 0)
		return rc;
	if (!(entry = nmd_pb_new(&nomad__deployment_state_entry__descriptor, PA)) ||
	    !nmd_pb_set_string(PA, &entry->key, g->tg->name) ||
	    !NMD_PB_APPEND(PA, g->dep->d->taskgroups, g->dep->d->n_taskgroups,
			   entry))
		return nmd_sched_oom(err);
	entry->value = g->dstate;
	g->existing = true;
	return NOMAD_OK;
}

/* Reconcile one group (Nomad's computeGroup); *complete says whether its
 * part of the deployment is done. */
static nomad_err reconcile_group(struct group *g, const nomad_alloc *const *as,
				 size_t n, bool *complete, nomad_error *err)
{
	struct nmd_eval_ctx *e = g->e;
	const Nomad__UpdateStrategy *u = update_of(g);
	size_t n_destructive, n_inplace, n_place = 0;
	bool needs_canaries, place_ready, lost_later;
	long under;
	nomad_err rc;
	g->count = g->tg->has_count ? g->tg->count : 1;
	if (g->count < 0)
		g->count = 0;
	g->dstate = nmd_dep_group(g->dep->d, g->tg->name);
	g->existing = g->dstate != NULL;
	if (!g->dstate) {
		if (!(g->dstate = nmd_pb_new(&nomad__deployment_state__descriptor,
					     PA)))
			return nmd_sched_oom(err);
		if (u) {
			g->dstate->has_autorevert = g->dstate->has_autopromote = 1;
			g->dstate->has_progressdeadline = 1;
			g->dstate->autorevert = u->autorevert;
			g->dstate->autopromote = u->autopromote;
			g->dstate->progressdeadline = u->progressdeadline;
		}
	}
	if ((rc = gather(g, as, n, err)) < 0)
		return rc;
	/* Batch: finished allocations of older versions are history. */
	for (size_t i = 0; i < g->n; i++)
		if (g->batch && g->as[i].terminal &&
		    (g->as[i].a->has_jobversion ? g->as[i].a->jobversion : 0) <
			    e->job->version)
			g->as[i].bucket = B_OUT;
	for (size_t i = 0; i < g->n; i++)
		if (g->as[i].bucket == B_UNTAINTED)
			g->as[i].bucket = nmd_rec_classify(g, &g->as[i]);
	if ((rc = reschedulable(g, err)) < 0 ||
	    (rc = nmd_rec_reconnecting(g, err)) < 0)
		return rc;
	for (size_t i = 0; i < g->n; i++)
		if (g->as[i].bucket == B_EXPIRING)
			g->as[i].bucket = B_LOST;
	if ((rc = nmd_rec_disconnecting(g, err)) < 0 ||
	    (rc = nmd_rec_stop_after_lost(g, &lost_later, err)) < 0)
		return rc;
	for (size_t i = 0; i < g->n; i++) {
		struct ralloc *r = &g->as[i];
		if (r->bucket == B_UNTAINTED && r->canary && !r->terminal) {
			g->n_canaries++;
			if (r->idx >= 0 && (size_t)r->idx < g->n_names)
				g->canary_name[r->idx] = true;
		}
		if (r->bucket == B_UNTAINTED || r->bucket == B_MIGRATE ||
		    r->bucket == B_RESCHEDULE_NOW || r->bucket == B_LOST)
			name_set(g, r->idx, true);
	}
	pace_drain(g);
	g->canarying = g->dstate->desiredcanaries && !g->dstate->promoted;
	if ((rc = compute_stop(g, err)) < 0 ||
	    (rc = compute_updates(g, &n_destructive, &n_inplace, err)) < 0)
		return rc;
	if (!g->existing)
		g->dstate->desiredtotal += (int32_t)(n_destructive + n_inplace);
	g->dstate->has_desiredtotal = 1;
	needs_canaries = u && n_destructive && (long)g->n_canaries < u->canary &&
			 !g->dstate->promoted;
	if (needs_canaries && (rc = compute_canaries(g, err)) < 0)
		return rc;
	g->canarying = g->dstate->desiredcanaries && !g->dstate->promoted;
	under = under_provisioned(g, n_destructive);
	place_ready = !g->dep->paused && !g->dep->failed && !g->canarying;
	if (!lost_later &&
	    (rc = place_missing(g, place_ready, &under, &n_place, err)) < 0)
		return rc;
	if (!g->existing)
		g->dstate->desiredtotal += (int32_t)n_place;
	if (place_ready)
		rc = destructive_updates(g, under, err);
	else
		for (size_t i = 0; i < g->n; i++)
			if (g->as[i].bucket == B_UNTAINTED && g->as[i].destructive)
				NMD_DESIRED(e, g->tgi, ignore);
	if (rc >= 0)
		rc = migrations(g, err);
	if (rc >= 0)
		rc = join_deployment(g, n_destructive, err);
	*complete = !n_destructive && !n_inplace && !n_place &&
		    !count_bucket(g, B_MIGRATE) && !g->n_later && !needs_canaries;
	if (*complete && g->dep->d) {
		const Nomad__DeploymentState *s = nmd_dep_group(g->dep->d, g->tg->name);
		long need = s ? (s->desiredtotal > s->desiredcanaries
					 ? s->desiredtotal
					 : s->desiredcanaries)
			      : 0;
		if (s && (s->healthyallocs < need ||
			  (s->desiredcanaries > 0 && !s->promoted)))
			*complete = false;
	}
	return rc;
}

/* ---- placing ------------------------------------------------------------ */

static nomad_err place_group(struct nmd_eval_ctx *e, struct nmd_stack *st,
			     size_t tgi, struct group_work *w, struct dep *dp,
			     const nomad_alloc *const *as, size_t n,
			     nomad_error *err)
{
	const nomad_task_group *tg = e->job->taskgroups[tgi];
	const char *dep_id = dp->d && nmd_dep_active(dp->d) ? dp->d->id : NULL;
	Nomad__DeploymentState *dstate = dp->created ? nmd_dep_group(dp->d, tg->name)
						     : NULL;
	struct nmd_ask ask;
	nomad_err rc = NOMAD_OK;
	nmd_sched_ask(tg, &ask);
	st->spread = w->n_place ? nmd_spread_new(e, tgi, as, n) : NULL;
	bool group_failed = false;
	for (size_t i = 0; i < w->n_place && rc >= 0; i++) {
		const struct want *p = &w->place[i];
		Nomad__AllocationMetric *m;
		struct nmd_choice c;
		char name[512];
		bool found;
		if (group_failed) {
			/* Once a group did not fit, the rest of its placements
			 * only count as CoalescedFailures, as in Nomad: the
			 * cluster has not changed since. */
			rc = nmd_sched_plan_failed(e, tg->name, NULL, err);
			continue;
		}
		if (!(m = nmd_pb_new(&nomad__allocation_metric__descriptor, PA)))
			return nmd_sched_oom(err);
		snprintf(name, sizeof(name), "%s.%s[%ld]", e->job->id, tg->name,
			 p->index);
		/* A replacement's stop frees its room first, and is taken
		 * back when nothing fits. */
		if (p->stop_why && (rc = nmd_sched_plan_stop(e, p->previous,
							     p->stop_why, 0,
							     err)) < 0)
			return rc;
		st->penalty = p->reschedule ? p->previous : NULL;
		st->alloc_name = name; /* per_alloc host volumes */
		rc = nmd_sched_select(st, tgi, &ask, m, &c, &found, err);
		st->penalty = NULL;
		st->alloc_name = NULL;
		if (rc < 0)
			break;
		m->has_nodesinpool = 1;
		m->nodesinpool = (int32_t)st->n_cands;
		if (!found) {
			if (p->stop_why)
				nmd_sched_plan_unstop(e, p->previous);
			rc = nmd_sched_plan_failed(e, tg->name, m, err);
			group_failed = true;
		} else if ((rc = nmd_sched_plan_place(e, tgi, name, &c, &ask, m,
						      p->previous, err)) >= 0) {
			nomad_alloc *a = e->last_placed;
			nmd_spread_placed(st->spread, c.node);
			if (dep_id && !nmd_pb_set_string(PA, &a->deploymentid, dep_id))
				rc = nmd_sched_oom(err);
			if (rc >= 0 && p->canary && dp->d) {
				if (!(a->deploymentstatus = nmd_pb_new(
					      &nomad__alloc_deployment_status__descriptor,
					      PA)))
					rc = nmd_sched_oom(err);
				else {
					a->deploymentstatus->has_canary = 1;
					a->deploymentstatus->canary = 1;
				}
				if (rc >= 0 && dstate) {
					char *id = NULL;
					if (!nmd_pb_set_string(PA, &id, a->id) ||
					    !NMD_PB_APPEND(PA, dstate->placedcanaries,
							   dstate->n_placedcanaries,
							   id))
						rc = nmd_sched_oom(err);
				}
			}
			if (rc >= 0 && p->reschedule)
				rc = nmd_sched_track_reschedule(
					e, c.node, p->previous, p->delay,
					tg->reschedulepolicy, err);
		}
		nmd_pb_free(m, PA);
	}
	return rc;
}

/* ---- shared with the system schedulers ---------------------------------- */

nomad_err nmd_sched_stop_all(struct nmd_eval_ctx *e,
			     const nomad_alloc *const *as, size_t n,
			     nomad_error *err)
{
	for (size_t i = 0; i < n; i++) {
		nomad_err rc;
		if (terminal(as[i]))
			continue;
		if ((rc = nmd_sched_plan_stop(e, as[i], NMD_WHY_NOT_NEEDED, 0, err)) < 0)
			return rc;
	}
	return NOMAD_OK;
}

/* An in-place update: the same allocation, on the same node, running the
 * new job version. */
nomad_alloc *nmd_sched_update_in_place(struct nmd_eval_ctx *e,
				       const nomad_alloc *a)
{
	nomad_alloc *u = nmd_sched_plan_update(e, a);
	if (!u)
		return NULL;
	u->has_jobversion = 1;
	u->jobversion = e->job->has_version ? e->job->version : 0;
	e->n_updated++;
	return u;
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
	/* A new version that leaves the group as it was still moves the
	 * allocation to it, in place. */
	return nomad_task_group_update_kind(a->job, e->job, group) ==
			       NOMAD_UPDATE_DESTRUCTIVE
		       ? NOMAD_UPDATE_DESTRUCTIVE
		       : NOMAD_UPDATE_INPLACE;
}

nomad_err nmd_sched_stop_unknown_groups(struct nmd_eval_ctx *e,
					const nomad_alloc *const *as, size_t n,
					nomad_error *err)
{
	nomad_err rc = NOMAD_OK;
	for (size_t i = 0; i < n && rc >= 0; i++) {
		bool known = false;
		if (terminal(as[i]))
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
	size_t n = e->n_allocs, groups = e->job->n_taskgroups;
	struct nmd_stack st;
	struct group_work *work;
	struct dep dp;
	bool complete = true;
	nomad_err rc;
	if ((rc = nmd_dep_init(e, batch, &dp, err)) < 0)
		return rc;
	if (!(work = nmd_calloc(e->s->ctx.alloc, groups + 1, sizeof(*work))))
		return nmd_sched_oom(err);
	/* Stops first (they free room on the nodes), then placements. */
	for (size_t g = 0; g < groups && rc >= 0; g++) {
		struct group grp;
		bool done = true;
		memset(&grp, 0, sizeof(grp));
		grp.e = e;
		grp.dep = &dp;
		grp.tgi = g;
		grp.tg = e->job->taskgroups[g];
		grp.batch = batch;
		grp.w = &work[g];
		rc = reconcile_group(&grp, as, n, &done, err);
		complete = complete && done;
	}
	if (rc >= 0)
		rc = nmd_sched_stop_unknown_groups(e, as, n, err);
	if (rc >= 0 && (rc = nmd_sched_stack_init(e, &st, batch, err)) >= 0) {
		for (size_t g = 0; g < groups && rc >= 0; g++)
			rc = place_group(e, &st, g, &work[g], &dp, as, n, err);
		if (rc >= 0)
			rc = nmd_sched_stack_eligibility(&st, err);
		nmd_sched_stack_free(&st);
	}
	if (rc >= 0)
		rc = nmd_dep_finish(e, &dp, complete, err);
	for (size_t g = 0; g < groups; g++)
		nmd_free(e->s->ctx.alloc, work[g].place);
	nmd_free(e->s->ctx.alloc, work);
	return rc;
}
