/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Preemption (Nomad's scheduler/feasible/preemption.go): when a node
 * cannot take a placement, evict allocations of lower-priority jobs to
 * make room. On by scheduler type (SchedulerConfiguration.
 * PreemptionConfig; by default for system jobs only).
 *
 * Candidates are allocations on the node of other jobs whose priority is
 * at least 10 below the placing job's, not yet preempted by the plan.
 * In Nomad's order for one placement:
 *
 *   ports     a static port another allocation holds: that allocation,
 *             if it is a candidate (the node's usage does not say which
 *             ports were reserved and which dynamic, so any holder is);
 *   devices   per request that finds no free instances, the holders of a
 *             matching group, lowest priorities first, until enough
 *             instances would be free (devices.c);
 *   resources cpu, memory and disk: priority groups lowest first; within
 *             one, repeatedly the allocation closest to what is still
 *             needed, by sqrt(Σ ((need − used) / need)²) plus 50 per
 *             allocation of its group already preempted beyond its
 *             migrate max_parallel; then, sorted by distance to the whole
 *             ask (farthest first), only as many as make it fit.
 *
 * A node that needs preemption scores 1 / (1 + e^(0.0048·(p − 2048))),
 * p = max priority + Σ priorities / max priority of what it evicts,
 * appended as "preemption". The placement evicts them in the plan's
 * NodePreemptions (DesiredStatus evict, PreemptedByAllocation), names
 * them in its PreemptedAllocations, and once the plan is committed each
 * preempted job gets a `preemption` evaluation.
 *
 * Differences from Nomad: what is free on the node counts every
 * allocation there, the placing job's too (Nomad leaves those out of the
 * sum, so it can preempt too little); and network bandwidth (MBits) is
 * not modelled.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "sched/ports.h"
#include "sched/sched_int.h"
#include "structs/pb.h"

#define PA (&e->plan_alloc)
#define PRIORITY_DELTA 10        /* only jobs this far below are evicted */
#define MAX_PARALLEL_PENALTY 50.0

bool nmd_preempt_enabled(const nomad_scheduler_config *cfg, int type)
{
	const Nomad__PreemptionConfig *p = cfg ? cfg->preemptionconfig : NULL;
	if (!p) /* Nomad's defaults */
		return type == NOMAD__JOB_TYPE__system;
	switch (type) {
	case NOMAD__JOB_TYPE__system:
		return p->has_systemschedulerenabled && p->systemschedulerenabled;
	case NOMAD__JOB_TYPE__sysbatch:
		return p->has_sysbatchschedulerenabled &&
		       p->sysbatchschedulerenabled;
	case NOMAD__JOB_TYPE__batch:
		return p->has_batchschedulerenabled && p->batchschedulerenabled;
	case NOMAD__JOB_TYPE__service:
		return p->has_serviceschedulerenabled &&
		       p->serviceschedulerenabled;
	default:
		return false;
	}
}

static int job_priority(const struct nmd_eval_ctx *e)
{
	return e->job->has_priority ? e->job->priority : 50;
}

static const char *job_ns(const struct nmd_eval_ctx *e)
{
	return e->job->namespace_ && *e->job->namespace_ ? e->job->namespace_
							 : "default";
}

bool nmd_preempt_holds(const struct nmd_preempted *pre,
		       const nomad_sched_usage *u)
{
	for (size_t i = 0; i < pre->n; i++)
		if (pre->u[i] == u)
			return true;
	return false;
}

bool nmd_preempt_candidate(const struct nmd_eval_ctx *e,
			   const struct nmd_snode *sn,
			   const struct nmd_preempted *pre,
			   const nomad_sched_usage *u)
{
	if (job_priority(e) - u->job_priority < PRIORITY_DELTA ||
	    (u->job_id && e->job->id && !strcmp(u->job_id, e->job->id) &&
	     !strcmp(u->ns ? u->ns : "default", job_ns(e))))
		return false;
	for (size_t i = 0; i < sn->n_preempted; i++)
		if (sn->preempted[i] == u)
			return false;
	return !nmd_preempt_holds(pre, u);
}

bool nmd_preempt_add(struct nmd_eval_ctx *e, struct nmd_preempted *pre,
		     const nomad_sched_usage *u)
{
	if (nmd_preempt_holds(pre, u))
		return true;
	if (pre->n == pre->cap) {
		size_t cap = pre->cap ? pre->cap * 2 : 8;
		const nomad_sched_usage **grown =
			nmd_arena_alloc(e->arena, cap * sizeof(*grown));
		if (!grown)
			return false;
		if (pre->n)
			memcpy(grown, pre->u, pre->n * sizeof(*grown));
		pre->u = grown;
		pre->cap = cap;
	}
	pre->u[pre->n++] = u;
	pre->cpu += u->cpu_mhz;
	pre->mem += u->memory_mb;
	pre->disk += u->disk_mb;
	return true;
}

/* ---- ports ------------------------------------------------------------- */

static bool holds_port(const nomad_sched_usage *u, uint16_t port)
{
	for (size_t i = 0; i < u->n_ports; i++)
		if (u->ports[i] == port)
			return true;
	return false;
}

static bool freed_port(const struct nmd_preempted *pre, uint16_t port)
{
	for (size_t i = 0; i < pre->n; i++)
		if (holds_port(pre->u[i], port))
			return true;
	return false;
}

bool nmd_preempt_frees_port(const struct nmd_preempted *pre, uint16_t port)
{
	return pre->n && freed_port(pre, port);
}

/* The holders of the static ports the ask collides with; false when one
 * is held by something that may not be preempted. */
static bool preempt_ports(struct nmd_eval_ctx *e, struct nmd_snode *sn,
			  const struct nmd_ask *ask, struct nmd_preempted *pre)
{
	for (size_t p = 0; p < ask->n_static; p++) {
		uint16_t port = (uint16_t)ask->static_ports[p]->value;
		const nomad_sched_usage *holder = NULL;
		if (!nmd_ports_contains(sn->ports, sn->n_ports, port) ||
		    freed_port(pre, port))
			continue;
		for (size_t u = 0; u < sn->n_usage && !holder; u++)
			if (holds_port(sn->usage[u], port) &&
			    nmd_preempt_candidate(e, sn, pre, sn->usage[u]))
				holder = sn->usage[u];
		if (!holder || !nmd_preempt_add(e, pre, holder))
			return false;
	}
	return true;
}

/* ---- cpu, memory and disk -------------------------------------------- */

struct res {
	double cpu, mem, disk;
};

static struct res res_of(const nomad_sched_usage *u)
{
	struct res r = {(double)u->cpu_mhz, (double)u->memory_mb,
			(double)u->disk_mb};
	return r;
}

static bool superset(const struct res *have, const struct res *want)
{
	return have->cpu >= want->cpu && have->mem >= want->mem &&
	       have->disk >= want->disk;
}

/* basicResourceDistance: coordinates only where something is asked. */
static double distance(const struct res *ask, const struct res *used)
{
	double m = ask->mem > 0 ? (ask->mem - used->mem) / ask->mem : 0;
	double c = ask->cpu > 0 ? (ask->cpu - used->cpu) / ask->cpu : 0;
	double d = ask->disk > 0 ? (ask->disk - used->disk) / ask->disk : 0;
	return sqrt(m * m + c * c + d * d);
}

/* Allocations of u's job and group the plan already preempts. */
static int preempted_like(const struct nmd_eval_ctx *e,
			  const nomad_sched_usage *u)
{
	int n = 0;
	for (size_t t = 0; t < e->n_touched; t++) {
		const struct nmd_snode *sn = e->touched[t];
		for (size_t i = 0; i < sn->n_preempted; i++) {
			const nomad_sched_usage *x = sn->preempted[i];
			n += x->job_id && u->job_id && !strcmp(x->job_id, u->job_id) &&
			     !strcmp(x->ns ? x->ns : "", u->ns ? u->ns : "") &&
			     !strcmp(x->task_group ? x->task_group : "",
				     u->task_group ? u->task_group : "");
		}
	}
	return n;
}

/* scoreForTaskGroup: the distance plus the max_parallel penalty. */
static double score_for(const struct nmd_eval_ctx *e, const struct res *need,
			const nomad_sched_usage *u)
{
	struct res used = res_of(u);
	int max_parallel = u->migrate_max_parallel, already;
	double penalty = 0;
	if (max_parallel > 0 && (already = preempted_like(e, u)) >= max_parallel)
		penalty = (double)(already + 1 - max_parallel) * MAX_PARALLEL_PENALTY;
	return distance(need, &used) + penalty;
}

static void sort_by_priority(const nomad_sched_usage **v, size_t n)
{
	/* Insertion sort: stable, and the candidates on a node are few. */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && v[j - 1]->job_priority > v[j]->job_priority;
		     j--) {
			const nomad_sched_usage *t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
}

/* Within one priority group (v[0, n)): take the closest until the ask
 * fits. Nomad swaps the last into a taken one's place; so do we, for the
 * same order among equals. */
static size_t greedy_group(const struct nmd_eval_ctx *e,
			   const nomad_sched_usage **v, size_t n,
			   struct res *need, struct res *avail,
			   const struct res *ask, const nomad_sched_usage **out,
			   size_t n_out, bool *met)
{
	while (n && !*met) {
		size_t best = 0;
		double best_d = DBL_MAX;
		for (size_t k = 0; k < n; k++) {
			double d = score_for(e, need, v[k]);
			if (d < best_d) {
				best_d = d;
				best = k;
			}
		}
		out[n_out++] = v[best];
		avail->cpu += (double)v[best]->cpu_mhz;
		avail->mem += (double)v[best]->memory_mb;
		avail->disk += (double)v[best]->disk_mb;
		*met = superset(avail, ask);
		need->cpu -= (double)v[best]->cpu_mhz;
		need->mem -= (double)v[best]->memory_mb;
		need->disk -= (double)v[best]->disk_mb;
		v[best] = v[--n];
	}
	return n_out;
}

/* filterSuperset: farthest from the ask first, as few as make it fit. */
static size_t drop_redundant(const nomad_sched_usage **v, size_t n,
			     struct res avail, const struct res *ask)
{
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0; j--) {
			struct res a = res_of(v[j - 1]), b = res_of(v[j]);
			const nomad_sched_usage *t;
			if (distance(ask, &a) >= distance(ask, &b))
				break;
			t = v[j];
			v[j] = v[j - 1];
			v[j - 1] = t;
		}
	for (size_t i = 0; i < n; i++) {
		avail.cpu += (double)v[i]->cpu_mhz;
		avail.mem += (double)v[i]->memory_mb;
		avail.disk += (double)v[i]->disk_mb;
		if (superset(&avail, ask))
			return i + 1;
	}
	return n;
}

/* PreemptForTaskGroup, with what `pre` already frees counted as free. */
static bool preempt_resources(struct nmd_eval_ctx *e, struct nmd_snode *sn,
			      const struct nmd_ask *ask,
			      struct nmd_preempted *pre)
{
	struct res want = {(double)ask->cpu, (double)ask->mem, (double)ask->disk};
	struct res need = want;
	struct res free_now = {
		(double)(sn->n->cpu_mhz - sn->cpu + pre->cpu),
		(double)(sn->n->memory_mb - sn->mem + pre->mem),
		(double)(sn->n->disk_mb - sn->disk + pre->disk)};
	struct res avail = free_now;
	const nomad_sched_usage **cand, **chosen;
	size_t n = 0, n_chosen = 0, kept;
	bool met = false;
	if (superset(&avail, &want))
		return true;
	cand = nmd_arena_alloc(e->arena, (sn->n_usage + 1) * sizeof(*cand));
	chosen = nmd_arena_alloc(e->arena, (sn->n_usage + 1) * sizeof(*chosen));
	if (!cand || !chosen)
		return false;
	for (size_t u = 0; u < sn->n_usage; u++)
		if (nmd_preempt_candidate(e, sn, pre, sn->usage[u]))
			cand[n++] = sn->usage[u];
	sort_by_priority(cand, n);
	for (size_t start = 0, end; start < n && !met; start = end) {
		for (end = start; end < n && cand[end]->job_priority ==
						    cand[start]->job_priority;)
			end++;
		n_chosen = greedy_group(e, cand + start, end - start, &need,
					&avail, &want, chosen, n_chosen, &met);
	}
	if (!met)
		return false;
	kept = drop_redundant(chosen, n_chosen, free_now, &want);
	for (size_t i = 0; i < kept; i++)
		if (!nmd_preempt_add(e, pre, chosen[i]))
			return false;
	return true;
}

bool nmd_preempt_find(struct nmd_stack *st, struct nmd_snode *sn, size_t tgi,
		      const struct nmd_ask *ask, struct nmd_choice *c)
{
	struct nmd_eval_ctx *e = st->e;
	memset(&c->pre, 0, sizeof(c->pre));
	if (!sn->n_usage)
		return false;
	if (!preempt_ports(e, sn, ask, &c->pre) ||
	    (ask->n_devices && nmd_devices_assign(st, sn, tgi, c, true)) ||
	    !preempt_resources(e, sn, ask, &c->pre)) {
		memset(&c->pre, 0, sizeof(c->pre));
		return false;
	}
	return c->pre.n > 0;
}

double nmd_preempt_score(const struct nmd_preempted *pre)
{
	double max = 0, sum = 0, net;
	for (size_t i = 0; i < pre->n; i++) {
		if (pre->u[i]->job_priority > max)
			max = pre->u[i]->job_priority;
		sum += pre->u[i]->job_priority;
	}
	/* The highest priority evicted, plus a penalty growing with how
	 * many are: net priority 2048 scores 0.5. */
	net = max > 0 ? max + sum / max : 0;
	return 1.0 / (1.0 + exp(0.0048 * (net - 2048.0)));
}

/* ---- the plan ------------------------------------------------------------ */

static Nomad__AllocationList *preempt_list(struct nmd_eval_ctx *e,
					   struct nmd_snode *sn)
{
	Nomad__AllocationListEntry *x;
	if (sn->plan_preempt)
		return sn->plan_preempt;
	if (!(x = nmd_pb_new(&nomad__allocation_list_entry__descriptor, PA)) ||
	    !nmd_pb_set_string(PA, &x->key, sn->n->id) ||
	    !(x->value = nmd_pb_new(&nomad__allocation_list__descriptor, PA)) ||
	    !NMD_PB_APPEND(PA, e->plan->nodepreemptions,
			   e->plan->n_nodepreemptions, x))
		return NULL;
	return sn->plan_preempt = x->value;
}

/* Plan.AppendPreemptedAlloc: what the plan applier needs to evict it. */
static nomad_alloc *evicted(struct nmd_eval_ctx *e, const struct nmd_snode *sn,
			    const nomad_sched_usage *u, const char *by)
{
	nomad_alloc *x = nmd_pb_new(&nomad__allocation__descriptor, PA);
	char why[96];
	snprintf(why, sizeof(why), "Preempted by alloc ID %s", by);
	if (!x || !nmd_pb_set_string(PA, &x->id, u->alloc_id) ||
	    !nmd_pb_set_string(PA, &x->namespace_, u->ns) ||
	    !nmd_pb_set_string(PA, &x->jobid, u->job_id) ||
	    !nmd_pb_set_string(PA, &x->taskgroup, u->task_group) ||
	    !nmd_pb_set_string(PA, &x->nodeid, sn->n->id) ||
	    !nmd_pb_set_string(PA, &x->preemptedbyallocation, by) ||
	    !nmd_pb_set_string(PA, &x->desireddescription, why))
		return NULL;
	x->has_desiredstatus = 1;
	x->desiredstatus = NOMAD__ALLOCATION__DESIRED_STATUS_KIND__evict;
	return x;
}

static bool remember(struct nmd_eval_ctx *e, struct nmd_snode *sn,
		     const nomad_sched_usage *u)
{
	if (sn->n_preempted == sn->cap_preempted) {
		size_t cap = sn->cap_preempted ? sn->cap_preempted * 2 : 4;
		const nomad_sched_usage **grown = nmd_reallocarray(
			e->s->ctx.alloc, sn->preempted, cap, sizeof(*grown));
		if (!grown)
			return false;
		sn->preempted = grown;
		sn->cap_preempted = cap;
	}
	sn->preempted[sn->n_preempted++] = u;
	return true;
}

bool nmd_preempt_place(struct nmd_eval_ctx *e, size_t tgi,
		       const struct nmd_choice *c, nomad_alloc *a)
{
	struct nmd_snode *sn = c->node;
	for (size_t i = 0; i < c->pre.n; i++) {
		const nomad_sched_usage *u = c->pre.u[i];
		Nomad__AllocationList *list = preempt_list(e, sn);
		nomad_alloc *x = list ? evicted(e, sn, u, a->id) : NULL;
		char *id = NULL;
		if (!x || !NMD_PB_APPEND(PA, list->items, list->n_items, x) ||
		    !nmd_pb_set_string(PA, &id, u->alloc_id) ||
		    !NMD_PB_APPEND(PA, a->preemptedallocations,
				   a->n_preemptedallocations, id) ||
		    !remember(e, sn, u))
			return false;
		nmd_sched_node_release(e, sn, u);
		NMD_DESIRED(e, tgi, preemptions);
	}
	return true;
}

nomad_err nmd_sched_annotate_preempted(struct nmd_eval_ctx *e,
				       Nomad__PlanAnnotations *an,
				       nomad_error *err)
{
	for (size_t i = 0; i < e->plan->n_nodepreemptions; i++) {
		const Nomad__AllocationList *list = e->plan->nodepreemptions[i]->value;
		for (size_t k = 0; list && k < list->n_items; k++) {
			nomad_alloc *copy = NULL;
			if (nomad_msg_copy((ProtobufCMessage **)&copy,
					   &list->items[k]->base, PA) != NOMAD_OK ||
			    !NMD_PB_APPEND(PA, an->preemptedallocs,
					   an->n_preemptedallocs, copy))
				return nmd_sched_oom(err);
		}
	}
	return NOMAD_OK;
}

/* ---- after the plan is committed ----------------------------------------- */

static bool same_job(const nomad_sched_usage *a, const nomad_sched_usage *b)
{
	return !strcmp(a->job_id ? a->job_id : "", b->job_id ? b->job_id : "") &&
	       !strcmp(a->ns ? a->ns : "", b->ns ? b->ns : "");
}

/* Whether an earlier preemption of the plan was of u's job. */
static bool seen_before(const struct nmd_eval_ctx *e, size_t t, size_t i)
{
	const nomad_sched_usage *u = e->touched[t]->preempted[i];
	for (size_t tt = 0; tt <= t; tt++)
		for (size_t k = 0; k < (tt == t ? i : e->touched[tt]->n_preempted);
		     k++)
			if (same_job(e->touched[tt]->preempted[k], u))
				return true;
	return false;
}

static nomad_err preemption_eval(struct nmd_eval_ctx *e,
				 const nomad_sched_usage *u, nomad_error *err)
{
	nomad_eval *ev = nmd_pb_new(&nomad__evaluation__descriptor, PA);
	char id[NOMAD_UUID_LEN + 1];
	nomad_err rc;
	nomad_uuid_generate(&e->rng, id);
	if (!ev || !nmd_pb_set_string(PA, &ev->id, id) ||
	    !nmd_pb_set_string(PA, &ev->namespace_, u->ns ? u->ns : "default") ||
	    !nmd_pb_set_string(PA, &ev->triggeredby, "preemption") ||
	    !nmd_pb_set_string(PA, &ev->jobid, u->job_id))
		return nmd_sched_oom(err);
	ev->has_type = ev->has_priority = ev->has_status = 1;
	ev->type = u->job_type ? u->job_type : NOMAD__JOB_TYPE__service;
	ev->priority = u->job_priority;
	ev->status = NOMAD__EVALUATION__STATUS_KIND__pending;
	ev->has_createtime = ev->has_modifytime = 1;
	ev->createtime = ev->modifytime = e->now;
	if ((rc = e->s->planner.create_eval(e->s->planner_ud, ev)) < 0)
		return nmd_seterr(err, rc, "scheduler: creating a preemption "
					   "evaluation failed");
	return NOMAD_OK;
}

nomad_err nmd_sched_preemption_evals(struct nmd_eval_ctx *e, nomad_error *err)
{
	nomad_err rc;
	for (size_t t = 0; t < e->n_touched; t++)
		for (size_t i = 0; i < e->touched[t]->n_preempted; i++)
			if (!seen_before(e, t, i) &&
			    (rc = preemption_eval(e, e->touched[t]->preempted[i],
						  err)) < 0)
				return rc;
	return NOMAD_OK;
}
