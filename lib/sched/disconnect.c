/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Disconnected clients, Nomad's way: a group with a disconnect block
 * keeps its allocations on a node that stopped heartbeating as unknown
 * until lost_after runs out (replacing them meanwhile unless
 * replace = false), decides by `reconcile` which copy stays when the
 * node comes back, and with stop_on_client_after holds a lost
 * allocation's replacement until its client has surely stopped it.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "sched/reconcile.h"
#include "structs/pb.h"

#define WHY_UNKNOWN "alloc is unknown since its node is disconnected"
#define WHY_RECONNECTED "alloc not needed due to disconnected client reconnect"
#define STATE_CLIENT_STATUS "ClientStatus"
#define DISC(x) NOMAD__DISCONNECT_STRATEGY__RECONCILE_KIND__##x

/* How long a group's allocations may stay unknown on a disconnected node
 * before they are lost (disconnect.lost_after, or the older
 * max_client_disconnect); 0: they are lost at once. */
static int64_t lost_after(const nomad_task_group *tg)
{
	if (tg->disconnect && tg->disconnect->lostafter > 0)
		return tg->disconnect->lostafter;
	return tg->maxclientdisconnect > 0 ? tg->maxclientdisconnect : 0;
}

/* disconnect.replace, true unless set false. */
static bool replace_on_disconnect(const nomad_task_group *tg)
{
	return !(tg->disconnect && tg->disconnect->has_replace &&
		 !tg->disconnect->replace);
}

/* The last ClientStatus transition recorded on the allocation. */
static const Nomad__AllocState *last_client_state(const nomad_alloc *a)
{
	for (size_t i = a->n_allocstates; i-- > 0;)
		if (a->allocstates[i]->field &&
		    !strcmp(a->allocstates[i]->field, STATE_CLIENT_STATUS))
			return a->allocstates[i];
	return NULL;
}

/* The server last marked it unknown, and has not heard of it since
 * (Nomad's NeedsToReconnect). */
static bool needs_reconnect(const nomad_alloc *a)
{
	const Nomad__AllocState *s = last_client_state(a);
	return s && s->value && !strcmp(s->value, "unknown");
}

/* Unknown for longer than lost_after (Nomad's Expired). */
static bool expired(const struct group *g, const nomad_alloc *a)
{
	const Nomad__AllocState *s = last_client_state(a);
	int64_t timeout = lost_after(g->tg);
	if (a->clientstatus != CS(unknown) || !s || !needs_reconnect(a) ||
	    !timeout)
		return false;
	return nmd_ts_ns(s->time) + timeout <= g->e->now;
}

/* Nomad's filterByTainted, for one allocation. */
enum bucket nmd_rec_classify(struct group *g, const struct ralloc *r)
{
	const nomad_alloc *a = r->a;
	struct nmd_snode *sn = nmd_sched_node_by_id(g->e, a->nodeid);
	int status = sn ? sn->n->status : NOMAD__NODE__STATUS_KIND__down;
	bool migrate = a->desiredtransition && a->desiredtransition->migrate;
	bool supports = lost_after(g->tg) > 0;
	bool keep = !replace_on_disconnect(g->tg);
	bool reconnect = supports &&
			 (a->clientstatus == CS(unknown) ||
			  a->clientstatus == CS(running) ||
			  a->clientstatus == CS(failed)) &&
			 needs_reconnect(a);
	if (reconnect && a->desiredstatus == DS(run) &&
	    a->clientstatus == CS(failed))
		return B_RECONNECTING;
	if (sn && status == NOMAD__NODE__STATUS_KIND__disconnected) {
		if (supports || keep) {
			if (a->clientstatus == CS(running))
				return B_DISCONNECTING;
			if (a->clientstatus == CS(pending) || !supports)
				return supports ? B_LOST : B_UNTAINTED;
		} else {
			return B_LOST;
		}
	}
	if (r->terminal && !reconnect) {
		if (supports && nmd_sched_server_terminal(a))
			return B_IGNORE;
		return r->canary && migrate ? B_MIGRATE : B_UNTAINTED;
	}
	if (migrate)
		return B_MIGRATE;
	if (supports && expired(g, a))
		return B_EXPIRING;
	if (supports && a->clientstatus == CS(unknown) &&
	    a->desiredstatus == DS(run))
		return B_UNTAINTED;
	if (reconnect && a->clientstatus == CS(failed) &&
	    a->desiredstatus == DS(stop))
		return B_IGNORE;
	if (sn && status != NOMAD__NODE__STATUS_KIND__down)
		return reconnect ? B_RECONNECTING : B_UNTAINTED;
	if (sn && keep) { /* a down node, the group keeps its allocations */
		if (a->clientstatus == CS(unknown))
			return B_UNTAINTED;
		if (a->clientstatus == CS(running))
			return B_DISCONNECTING;
	}
	return B_LOST;
}

/* Record on plan update `u` that its ClientStatus became `value` now
 * (Nomad's AppendState). */
static bool client_state(struct nmd_eval_ctx *e, nomad_alloc *u,
			 const char *value)
{
	Nomad__AllocState *st = nmd_pb_new(&nomad__alloc_state__descriptor, PA);
	if (!st || !(st->time = nmd_pb_new(&nomad__timestamp__descriptor, PA)) ||
	    !nmd_pb_set_string(PA, &st->field, STATE_CLIENT_STATUS) ||
	    !nmd_pb_set_string(PA, &st->value, value) ||
	    !NMD_PB_APPEND(PA, u->allocstates, u->n_allocstates, st))
		return false;
	nmd_ts_set(st->time, e->now);
	return true;
}

/* The disconnect's plan update: the allocation goes unknown, with a
 * follow-up evaluation when lost_after runs out. */
static nomad_err mark_unknown(struct group *g, const nomad_alloc *a,
			      nomad_error *err)
{
	struct nmd_eval_ctx *e = g->e;
	nomad_eval *f = nmd_sched_followup_eval(e, e->now + lost_after(g->tg),
						"max-disconnect-timeout");
	nomad_alloc *u = nmd_sched_plan_update(e, a);
	if (!f || !u || !client_state(e, u, "unknown") ||
	    !nmd_pb_set_string(PA, &u->clientdescription, WHY_UNKNOWN) ||
	    !nmd_pb_set_string(PA, &u->followupevalid, f->id))
		return nmd_sched_oom(err);
	u->has_clientstatus = 1;
	u->clientstatus = CS(unknown);
	NMD_DESIRED(e, g->tgi, disconnect);
	return NOMAD_OK;
}

/* Disconnecting allocations go unknown; with disconnect.replace (and a
 * reschedule the deployment allows) they are replaced now, and kept. */
nomad_err nmd_rec_disconnecting(struct group *g, nomad_error *err)
{
	const nomad_deployment *d = g->dep->d;
	nomad_err rc = NOMAD_OK;
	for (size_t i = 0; i < g->n && rc >= 0; i++) {
		struct ralloc *r = &g->as[i];
		const nomad_alloc *a = r->a;
		bool held;
		if (r->bucket != B_DISCONNECTING)
			continue;
		r->disconnecting = true;
		if (lost_after(g->tg) && (rc = mark_unknown(g, a, err)) < 0)
			break;
		held = d && a->deploymentid && !strcmp(a->deploymentid, d->id) &&
		       nmd_dep_active(d) &&
		       !(a->desiredtransition && a->desiredtransition->reschedule);
		r->bucket = replace_on_disconnect(g->tg) && !held
				    ? B_RESCHEDULE_NOW
				    : B_UNTAINTED;
	}
	return rc;
}

/* Which of a reconnecting allocation and its replacement stays, by the
 * group's disconnect.reconcile. */
static double best_score(const nomad_alloc *a)
{
	double best = -1e300;
	const Nomad__AllocationMetric *m = a->metrics;
	for (size_t i = 0; m && i < m->n_scoremetadata; i++)
		if (m->scoremetadata[i]->normscore > best)
			best = m->scoremetadata[i]->normscore;
	return best;
}

static bool keep_replacement(const nomad_task_group *tg,
			     const nomad_alloc *orig, const nomad_alloc *repl)
{
	int how = tg->disconnect && tg->disconnect->has_reconcile
			  ? (int)tg->disconnect->reconcile
			  : DISC(best_score);
	if (repl->jobversion > orig->jobversion)
		return true; /* a newer version always wins */
	switch (how) {
	case DISC(keep_original):
		return false;
	case DISC(keep_replacement):
		return true;
	case DISC(longest_running):
		return repl->createtime < orig->createtime;
	default:
		return best_score(repl) > best_score(orig) &&
		       (repl->clientstatus == CS(running) ||
			orig->clientstatus != CS(running));
	}
}

/* The reconnect's plan update: the server hears of it again. */
static nomad_err mark_reconnected(struct group *g, const nomad_alloc *a,
				  nomad_error *err)
{
	struct nmd_eval_ctx *e = g->e;
	nomad_alloc *u = nmd_sched_plan_update(e, a);
	if (!u || !client_state(e, u, "running"))
		return nmd_sched_oom(err);
	NMD_DESIRED(e, g->tgi, reconnect);
	return NOMAD_OK;
}

/* Nomad's reconcileReconnecting: failed or outdated ones stop; otherwise
 * each reconnecting allocation and its replacements are weighed, the
 * loser stopped, and a kept original resumes. */
static int cmp_previous(const void *x, const void *y)
{
	return strcmp((*(struct ralloc *const *)x)->a->previousallocation,
		      (*(struct ralloc *const *)y)->a->previousallocation);
}

/* The group's allocations that replaced another, sorted by the one they
 * replaced, so each reconnecting allocation finds its own in log time. */
static struct ralloc **replacements(struct group *g, size_t *n)
{
	struct ralloc **v = nmd_arena_alloc(g->e->arena,
					    (g->n ? g->n : 1) * sizeof(*v));
	*n = 0;
	if (!v)
		return NULL;
	for (size_t i = 0; i < g->n; i++)
		if (g->as[i].a->previousallocation &&
		    *g->as[i].a->previousallocation)
			v[(*n)++] = &g->as[i];
	qsort(v, *n, sizeof(*v), cmp_previous);
	return v;
}

static size_t first_replacing(struct ralloc *const *v, size_t n, const char *id)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (strcmp(v[mid]->a->previousallocation, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Weigh reconnecting `r` against its replacements: the loser stops.
 * *stopped when `r` lost. */
static nomad_err weigh(struct group *g, struct ralloc *r, struct ralloc *const *v,
		       size_t n, bool *stopped, nomad_error *err)
{
	struct nmd_eval_ctx *e = g->e;
	nomad_err rc = NOMAD_OK;
	*stopped = false;
	for (size_t k = first_replacing(v, n, r->a->id);
	     k < n && rc >= 0 && !*stopped &&
	     !strcmp(v[k]->a->previousallocation, r->a->id);
	     k++) {
		struct ralloc *x = v[k];
		if (nmd_sched_server_terminal(x->a) || x->bucket == B_STOPPED)
			continue;
		if (keep_replacement(g->tg, r->a, x->a)) {
			NMD_DESIRED(e, g->tgi, stop);
			rc = nmd_rec_stop(g, r, NMD_WHY_NOT_NEEDED, 0, err);
			*stopped = true;
		} else if (x->a->clientstatus != CS(failed)) {
			NMD_DESIRED(e, g->tgi, stop);
			rc = nmd_rec_stop(g, x, WHY_RECONNECTED, 0, err);
		}
	}
	return rc;
}

nomad_err nmd_rec_reconnecting(struct group *g, nomad_error *err)
{
	struct nmd_eval_ctx *e = g->e;
	struct ralloc **v = NULL;
	size_t n_v = 0;
	nomad_err rc = NOMAD_OK;
	for (size_t i = 0; i < g->n && rc >= 0; i++) {
		struct ralloc *r = &g->as[i];
		const nomad_alloc *a = r->a;
		const Nomad__DesiredTransition *dt = a->desiredtransition;
		bool stopped;
		if (r->bucket != B_RECONNECTING)
			continue;
		if (nmd_sched_server_terminal(a)) {
			/* Already stopped: its client will see to it. */
			r->bucket = B_IGNORE;
			continue;
		}
		if (a->clientstatus == CS(failed)) {
			NMD_DESIRED(e, g->tgi, stop);
			rc = nmd_rec_stop(g, r, NMD_WHY_RESCHEDULED, CS(failed), err);
			continue;
		}
		if ((dt && (dt->migrate || dt->reschedule || dt->forcereschedule)) ||
		    a->jobversion < e->job->version) {
			NMD_DESIRED(e, g->tgi, stop);
			rc = nmd_rec_stop(g, r, NMD_WHY_NOT_NEEDED, 0, err);
			continue;
		}
		if (!v && !(v = replacements(g, &n_v)))
			return nmd_sched_oom(err);
		if ((rc = weigh(g, r, v, n_v, &stopped, err)) < 0 || stopped)
			continue;
		r->bucket = B_UNTAINTED;
		if (a->clientstatus == CS(running))
			rc = mark_reconnected(g, a, err);
	}
	return rc;
}

/* stop_on_client_after: a lost allocation's replacement waits for the
 * client to have stopped it, through a follow-up evaluation; the group
 * places nothing until then (Nomad's delayByStopAfter). */
nomad_err nmd_rec_stop_after_lost(struct group *g, bool *delayed,
				 nomad_error *err)
{
	struct nmd_eval_ctx *e = g->e;
	const nomad_task_group *tg = g->tg;
	int64_t after = tg->disconnect && tg->disconnect->stoponclientafter > 0
				? tg->disconnect->stoponclientafter
				: tg->stopafterclientdisconnect;
	int64_t kill = 0;
	*delayed = false;
	if (after <= 0)
		return NOMAD_OK;
	for (size_t t = 0; t < tg->n_tasks; t++) {
		int64_t k = tg->tasks[t]->has_killtimeout ? tg->tasks[t]->killtimeout
							   : 5000000000LL;
		if (k > kill)
			kill = k;
	}
	for (size_t i = 0; i < g->n; i++) {
		struct ralloc *r = &g->as[i];
		const Nomad__AllocState *s;
		int64_t when;
		nomad_eval *f;
		if (r->bucket != B_LOST || r->terminal)
			continue;
		s = last_client_state(r->a);
		when = (s ? nmd_ts_ns(s->time) : e->now) + after + kill;
		if (when <= e->now)
			continue;
		*delayed = true;
		if (!(f = nmd_sched_followup_eval(e, when, "alloc-failure")))
			return nmd_sched_oom(err);
		r->followup = f->id;
	}
	return NOMAD_OK;
}
