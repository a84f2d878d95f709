/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Choosing a node for one allocation, as Nomad's generic stack does:
 *
 *   source   the nodes that are ready, eligible, not draining, in one of
 *            the job's datacenters (globs) and in its node pool, shuffled
 *            once per evaluation by the seed and walked round robin, so
 *            that successive placements look at different nodes;
 *   feasible job constraints (remembered per computed class), drivers,
 *            group and task constraints, then per node devices (devices.c),
 *            host volumes (volumes.c), distinct_hosts and
 *            distinct_property (property.c);
 *   fit      cpu, memory, disk, static ports, free dynamic ports and
 *            device instances, the plan so far included; when preemption
 *            is on, what evicting lower-priority allocations would free
 *            (preempt.c);
 *   rank     bin-pack (or spread) fit, device affinity, job
 *            anti-affinity, node affinity, spread, reschedule penalty and
 *            preemption, averaged;
 *   limit    the first `limit` options, passing over up to three that
 *            score 0 or less; the best of them wins.
 *
 * Every node looked at is counted in the placement's AllocationMetric,
 * with why it was filtered or exhausted, as `alloc status` shows it.
 */
#include <fnmatch.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "sched/ports.h"
#include "sched/rank.h"
#include "sched/sched_int.h"
#include "structs/pb.h"

#define PA (&e->plan_alloc) /* the evaluation's arena */
#define MAX_SKIPPED 3   /* options scoring <= 0 passed over (Nomad's) */
#define MAX_SCORES 5    /* node scores kept in the metric */

enum { CLASS_UNKNOWN = 0, CLASS_FEASIBLE = 1, CLASS_INFEASIBLE = 2 };

/* What one computed class is known to pass, for this evaluation: the
 * job's constraints, and per task group its drivers and constraints. */
#define MEMO_GROUPS 16

struct nmd_class_memo {
	const char *class;
	int job_ok;
	uint8_t tg_ok[MEMO_GROUPS];
};

/* ---- metrics ----------------------------------------------------------- */

static bool metric_inc(const nomad_allocator *pa, Nomad__IntEntry ***list,
		       size_t *n, const char *key)
{
	Nomad__IntEntry *e;
	for (size_t i = 0; i < *n; i++)
		if (!strcmp((*list)[i]->key, key)) {
			(*list)[i]->value++;
			return true;
		}
	if (!(e = nmd_pb_new(&nomad__int_entry__descriptor, pa)))
		return false;
	if (!nmd_pb_set_string(pa, &e->key, key) ||
	    !NMD_PB_APPEND(pa, *list, *n, e)) {
		nmd_pb_free(e, pa);
		return false;
	}
	e->has_value = 1;
	e->value = 1;
	return true;
}

/* ClassFiltered and ClassExhausted count by the node's class (its
 * node_class, when it has one), as Nomad's metrics do. */
static void filtered(const nomad_allocator *pa, Nomad__AllocationMetric *m,
		     const struct nmd_snode *sn, const char *why)
{
	const char *class = sn->n->node_class;
	m->has_nodesfiltered = 1;
	m->nodesfiltered++;
	if (class && *class)
		metric_inc(pa, &m->classfiltered, &m->n_classfiltered, class);
	if (why)
		metric_inc(pa, &m->constraintfiltered, &m->n_constraintfiltered, why);
}

static void exhausted(const nomad_allocator *pa, Nomad__AllocationMetric *m,
		      const struct nmd_snode *sn, const char *dimension)
{
	const char *class = sn->n->node_class;
	m->has_nodesexhausted = 1;
	m->nodesexhausted++;
	if (class && *class)
		metric_inc(pa, &m->classexhausted, &m->n_classexhausted, class);
	metric_inc(pa, &m->dimensionexhausted, &m->n_dimensionexhausted, dimension);
}

/* ---- the source ---------------------------------------------------------- */

static bool in_datacenters(const nomad_job *job, const char *dc)
{
	if (!job->n_datacenters)
		return true; /* Nomad's default is "*" */
	for (size_t i = 0; i < job->n_datacenters; i++)
		if (job->datacenters[i] &&
		    fnmatch(job->datacenters[i], dc ? dc : "", 0) == 0)
			return true;
	return false;
}

/* Datacenter globs, matched once per distinct datacenter name. */
static bool dc_matches(struct nmd_stack *st, const nomad_job *job,
		       const char *dc)
{
	const char *name = dc ? dc : "";
	for (size_t i = 0; i < st->n_dcs; i++)
		if (!strcmp(st->dcs[i].name, name))
			return st->dcs[i].ok;
	if (st->n_dcs == sizeof(st->dcs) / sizeof(*st->dcs))
		return in_datacenters(job, name); /* too many to remember */
	st->dcs[st->n_dcs].name = name;
	st->dcs[st->n_dcs].ok = in_datacenters(job, name);
	return st->dcs[st->n_dcs++].ok;
}

/* The candidate at `at`, shuffling the list as it is walked: an
 * incremental Fisher-Yates, so that an evaluation that looks at a few
 * hundred of 10,000 nodes draws a few hundred random numbers. */
static struct nmd_snode *candidate(struct nmd_stack *st, size_t at)
{
	while (st->shuffled <= at) {
		size_t k = st->shuffled++;
		size_t j = k + (size_t)nomad_rng_uniform(&st->e->rng,
							 st->n_cands - k);
		struct nmd_snode *t = st->cands[k];
		st->cands[k] = st->cands[j];
		st->cands[j] = t;
	}
	return st->cands[at];
}

static bool in_pool(const nomad_job *job, const char *pool)
{
	const char *want = job->nodepool && *job->nodepool ? job->nodepool
							   : "default";
	if (!strcmp(want, "all"))
		return true;
	return !strcmp(want, pool && *pool ? pool : "default");
}

static bool has_affinity_or_spread(const nomad_job *job)
{
	if (job->n_affinities || job->n_spreads)
		return true;
	for (size_t g = 0; g < job->n_taskgroups; g++) {
		const nomad_task_group *tg = job->taskgroups[g];
		if (tg->n_affinities || tg->n_spreads)
			return true;
		for (size_t t = 0; t < tg->n_tasks; t++)
			if (tg->tasks[t]->n_affinities)
				return true;
	}
	return false;
}

nomad_err nmd_sched_stack_init(struct nmd_eval_ctx *e, struct nmd_stack *st,
			       bool batch, nomad_error *err)
{
	const nomad_allocator *a = e->s->ctx.alloc;
	const nomad_job *job = e->job;
	const nomad_scheduler_config *cfg = NULL;
	uint32_t count = 0;
	nomad_err rc;
	memset(st, 0, sizeof(*st));
	st->e = e;
	if (!(st->cands = nmd_calloc(a, e->n_all_nodes ? e->n_all_nodes : 1,
				     sizeof(*st->cands))))
		return nmd_sched_oom(err);
	for (size_t i = 0; i < e->n_all_nodes; i++) {
		const nomad_sched_node *n = e->snodes[i].n;
		if (n->status != NOMAD__NODE__STATUS_KIND__ready || !n->eligible ||
		    n->draining || !dc_matches(st, job, n->datacenter) ||
		    !in_pool(job, n->node_pool))
			continue;
		st->cands[st->n_cands++] = &e->snodes[i];
	}
	st->shuffled = 0; /* shuffled as they are reached (next_candidate) */
	for (size_t g = 0; g < job->n_taskgroups; g++)
		if (job->taskgroups[g]->has_count &&
		    (uint32_t)job->taskgroups[g]->count > count)
			count = (uint32_t)job->taskgroups[g]->count;
	st->limit = nmd_rank_limit(st->n_cands, batch,
				   has_affinity_or_spread(job), count, 100);
	if (e->s->state.config(e->s->state_ud, &cfg) < 0)
		cfg = NULL;
	if (cfg && cfg->has_scheduleralgorithm &&
	    cfg->scheduleralgorithm == NOMAD__SCHEDULER_ALGORITHM__spread)
		st->spread_alg = true;
	st->preempt = nmd_preempt_enabled(cfg, e->eval->has_type
						       ? (int)e->eval->type
						       : (int)job->type);
	if ((rc = nmd_props_init(e, err)) < 0)
		nmd_sched_stack_free(st); /* the caller frees only a stack it got */
	return rc;
}

void nmd_sched_stack_free(struct nmd_stack *st)
{
	const nomad_allocator *a = st->e ? st->e->s->ctx.alloc : NULL;
	nmd_free(a, st->cands);
	nmd_free(a, st->memo);
	if (st->e)
		st->e->props = NULL; /* in the arena; counted while a stack is up */
	memset(st, 0, sizeof(*st));
}

nomad_err nmd_sched_stack_eligibility(struct nmd_stack *st, nomad_error *err)
{
	struct nmd_eval_ctx *e = st->e;
	for (size_t i = 0; i < st->n_memo; i++) {
		Nomad__BoolEntry *b;
		if (st->memo[i].job_ok == CLASS_UNKNOWN)
			continue;
		if (!(b = nmd_pb_new(&nomad__bool_entry__descriptor, PA)) ||
		    !nmd_pb_set_string(PA, &b->key, st->memo[i].class) ||
		    !NMD_PB_APPEND(PA, e->class_elig, e->n_class_elig, b)) {
			nmd_pb_free(b, PA);
			return nmd_sched_oom(err);
		}
		b->has_value = 1;
		b->value = st->memo[i].job_ok == CLASS_FEASIBLE;
		for (size_t g = 0; g < MEMO_GROUPS; g++)
			b->value = b->value &&
				   st->memo[i].tg_ok[g] != CLASS_INFEASIBLE;
	}
	return NOMAD_OK;
}

/* ---- feasibility ------------------------------------------------------ */

/* A node filtered because its computed class was, earlier in the
 * evaluation (Nomad's ConstraintFiltered key for it). */
#define WHY_CLASS_INELIGIBLE "computed class ineligible"

static const char *class_of(const struct nmd_snode *sn)
{
	const char *c = sn->n->computed_class;
	return c && *c ? c : NULL;
}

static bool mentions_unique(const Nomad__Constraint *c)
{
	return (c->ltarget && strstr(c->ltarget, "unique.")) ||
	       (c->rtarget && strstr(c->rtarget, "unique."));
}

static bool is_distinct(const Nomad__Constraint *c, const char *op)
{
	return c->operand && !strcmp(c->operand, op);
}

/* The first of `cs` the node fails, or NULL. */
static const Nomad__Constraint *
failed_constraint(struct nmd_eval_ctx *e, const nomad_node *node,
		  Nomad__Constraint *const *cs, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (is_distinct(cs[i], "distinct_hosts") ||
		    is_distinct(cs[i], "distinct_property"))
			continue;
		if (mentions_unique(cs[i]))
			e->escaped = true;
		if (!nmd_sched_constraint_holds(&e->regex, node, cs[i]))
			return cs[i];
	}
	return NULL;
}

/* Index the memo by class text: open addressing over twice its size. */
static bool memo_reindex(struct nmd_stack *st, size_t slots)
{
	uint32_t *index = nmd_arena_alloc(st->e->arena, slots * sizeof(*index));
	if (!index)
		return false;
	memset(index, 0xff, slots * sizeof(*index));
	for (size_t i = 0; i < st->n_memo; i++) {
		size_t k = nmd_sched_hash(st->memo[i].class) & (slots - 1);
		while (index[k] != UINT32_MAX)
			k = (k + 1) & (slots - 1);
		index[k] = (uint32_t)i;
	}
	st->memo_index = index;
	st->memo_slots = slots;
	return true;
}

/* The memo of `sn`'s class: found once per node and evaluation, then
 * remembered on the node. */
static struct nmd_class_memo *memo_for(struct nmd_stack *st,
				       struct nmd_snode *sn, const char *class)
{
	const nomad_allocator *a = st->e->s->ctx.alloc;
	size_t k;
	if (sn->memo)
		return &st->memo[sn->memo - 1];
	if ((st->n_memo + 1) * 2 > st->memo_slots &&
	    !memo_reindex(st, st->memo_slots ? st->memo_slots * 2 : 64))
		return NULL;
	for (k = nmd_sched_hash(class) & (st->memo_slots - 1);
	     st->memo_index[k] != UINT32_MAX; k = (k + 1) & (st->memo_slots - 1))
		if (!strcmp(st->memo[st->memo_index[k]].class, class)) {
			sn->memo = st->memo_index[k] + 1;
			return &st->memo[st->memo_index[k]];
		}
	if (st->n_memo == st->cap_memo) {
		size_t cap = st->cap_memo ? st->cap_memo * 2 : 16;
		struct nmd_class_memo *grown =
			nmd_reallocarray(a, st->memo, cap, sizeof(*grown));
		if (!grown)
			return NULL;
		st->memo = grown;
		st->cap_memo = cap;
	}
	memset(&st->memo[st->n_memo], 0, sizeof(*st->memo));
	st->memo[st->n_memo].class = class;
	st->memo_index[k] = (uint32_t)st->n_memo;
	sn->memo = (uint32_t)++st->n_memo;
	return &st->memo[st->n_memo - 1];
}

static bool job_feasible(struct nmd_stack *st, struct nmd_snode *sn,
			 Nomad__AllocationMetric *m)
{
	struct nmd_eval_ctx *e = st->e;
	const char *class = class_of(sn);
	struct nmd_class_memo *memo =
		class && !e->escaped ? memo_for(st, sn, class) : NULL;
	const Nomad__Constraint *bad;
	char text[512];
	if (memo && memo->job_ok == CLASS_FEASIBLE)
		return true;
	if (memo && memo->job_ok == CLASS_INFEASIBLE) {
		filtered(&st->e->plan_alloc, m, sn, WHY_CLASS_INELIGIBLE);
		return false;
	}
	bad = failed_constraint(e, sn->n->node, e->job->constraints,
				e->job->n_constraints);
	if (memo && !e->escaped)
		memo->job_ok = bad ? CLASS_INFEASIBLE : CLASS_FEASIBLE;
	if (bad)
		filtered(&st->e->plan_alloc, m, sn,
			 nmd_sched_constraint_string(bad, text, sizeof(text)));
	return !bad;
}

/* Go's strconv.ParseBool, true side. */
static bool parse_bool_true(const char *v)
{
	static const char *const yes[] = {"1", "t", "T", "true", "TRUE", "True"};
	for (size_t i = 0; v && i < sizeof(yes) / sizeof(*yes); i++)
		if (!strcmp(v, yes[i]))
			return true;
	return false;
}

static bool driver_ok(const nomad_node *node, const char *driver)
{
	char attr[128];
	if (!driver || !*driver)
		return true;
	for (size_t i = 0; node && i < node->n_drivers; i++) {
		const Nomad__DriverInfoEntry *d = node->drivers[i];
		if (d->key && !strcmp(d->key, driver))
			return d->value && d->value->detected &&
			       d->value->healthy;
	}
	/* Nodes that report no driver info say it as an attribute. */
	snprintf(attr, sizeof(attr), "driver.%s", driver);
	for (size_t i = 0; node && i < node->n_attributes; i++)
		if (node->attributes[i]->key &&
		    !strcmp(node->attributes[i]->key, attr))
			return parse_bool_true(node->attributes[i]->value);
	return false;
}

static bool has_distinct_hosts(Nomad__Constraint *const *cs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (is_distinct(cs[i], "distinct_hosts") &&
		    (!cs[i]->rtarget || !*cs[i]->rtarget ||
		     strcmp(cs[i]->rtarget, "false") != 0))
			return true;
	return false;
}

/* What is checked on every node rather than once per class: devices
 * (a host's class need not cover them), host volumes, distinct_hosts and
 * distinct_property. Each costs nothing to a group that uses none. */
static bool node_feasible(struct nmd_stack *st, struct nmd_snode *sn,
			  size_t tgi, const struct nmd_ask *ask,
			  Nomad__AllocationMetric *m, nomad_error *err,
			  nomad_err *rc)
{
	struct nmd_eval_ctx *e = st->e;
	const nomad_task_group *tg = e->job->taskgroups[tgi];
	char why[512];
	if (ask->n_devices && !nmd_devices_feasible(e, tg, sn->n->node)) {
		filtered(&e->plan_alloc, m, sn, NMD_WHY_DEVICES);
		return false;
	}
	if (ask->host_volumes &&
	    !nmd_volumes_feasible(tg, sn->n->node, st->alloc_name)) {
		filtered(&e->plan_alloc, m, sn, NMD_WHY_HOST_VOLUMES);
		return false;
	}
	if (has_distinct_hosts(e->job->constraints, e->job->n_constraints) ||
	    has_distinct_hosts(tg->constraints, tg->n_constraints)) {
		bool job_level = has_distinct_hosts(e->job->constraints,
						    e->job->n_constraints);
		if ((*rc = nmd_sched_node_usage(e, sn, err)) < 0)
			return false;
		if (sn->job_count[job_level ? e->job->n_taskgroups : tgi]) {
			filtered(&e->plan_alloc, m, sn, "distinct_hosts");
			return false;
		}
	}
	if (e->props && !nmd_props_allow(e, tgi, sn, why, sizeof(why))) {
		filtered(&e->plan_alloc, m, sn, why);
		return false;
	}
	return true;
}

static bool group_feasible(struct nmd_stack *st, struct nmd_snode *sn,
			   size_t tgi, Nomad__AllocationMetric *m)
{
	struct nmd_eval_ctx *e = st->e;
	const nomad_task_group *tg = e->job->taskgroups[tgi];
	const char *class = class_of(sn);
	struct nmd_class_memo *memo = class && !e->escaped && tgi < MEMO_GROUPS
					      ? memo_for(st, sn, class) : NULL;
	const Nomad__Constraint *bad = NULL;
	const char *why = NULL;
	char text[512];
	if (memo && memo->tg_ok[tgi] == CLASS_INFEASIBLE) {
		filtered(&st->e->plan_alloc, m, sn, WHY_CLASS_INELIGIBLE);
		return false;
	}
	if (!memo || memo->tg_ok[tgi] != CLASS_FEASIBLE) {
		for (size_t t = 0; !why && t < tg->n_tasks; t++)
			if (!driver_ok(sn->n->node, tg->tasks[t]->driver))
				why = "missing drivers";
		if (!why)
			bad = failed_constraint(e, sn->n->node, tg->constraints,
						tg->n_constraints);
		for (size_t t = 0; !why && !bad && t < tg->n_tasks; t++)
			bad = failed_constraint(e, sn->n->node,
						tg->tasks[t]->constraints,
						tg->tasks[t]->n_constraints);
		if (bad)
			why = nmd_sched_constraint_string(bad, text, sizeof(text));
		if (memo && !e->escaped)
			memo->tg_ok[tgi] = why ? CLASS_INFEASIBLE : CLASS_FEASIBLE;
		if (why) {
			filtered(&st->e->plan_alloc, m, sn, why);
			return false;
		}
	}
	return true;
}

/* ---- fit and rank --------------------------------------------------------- */

/* Nomad's DimensionExhausted key for a static port the node holds:
 * "network: reserved port collision <label>=<port>" (in the arena;
 * only failures pay for it). */
static const char *port_collision(struct nmd_eval_ctx *e, const Nomad__Port *p)
{
	const char *label = p->label ? p->label : "";
	size_t len = strlen(label) + 64;
	char *why = nmd_arena_alloc(e->arena, len);
	if (!why)
		return "network: reserved port collision";
	snprintf(why, len, "network: reserved port collision %s=%d", label,
		 (int)p->value);
	return why;
}

static bool pick_dynamic(struct nmd_eval_ctx *e, const struct nmd_snode *sn,
			 const struct nmd_ask *ask, struct nmd_choice *c)
{
	uint16_t all[NMD_MAX_PORTS];
	if (!ask->n_static)
		return nmd_ports_pick(sn->ports, sn->n_ports, sn->port_min,
				      sn->port_max, c->n_ports, &e->rng, c->ports);
	for (size_t i = 0; i < ask->n_static; i++)
		all[i] = (uint16_t)ask->static_ports[i]->value;
	if (!nmd_ports_pick_more(sn->ports, sn->n_ports, sn->port_min,
				 sn->port_max, ask->n_static, c->n_ports, &e->rng,
				 all))
		return false;
	memcpy(c->ports, all + ask->n_static, c->n_ports * sizeof(*c->ports));
	return true;
}

/* Why the ask does not fit on the node (its DimensionExhausted key), or
 * NULL when it does, with the dynamic ports and device instances picked
 * into c. What c->pre would evict counts as free. */
static const char *misfit(struct nmd_stack *st, struct nmd_snode *sn,
			  size_t tgi, const struct nmd_ask *ask,
			  struct nmd_choice *c)
{
	struct nmd_eval_ctx *e = st->e;
	const struct nmd_preempted *pre = &c->pre;
	if (sn->cpu - pre->cpu + ask->cpu > sn->n->cpu_mhz)
		return "cpu";
	if (sn->mem - pre->mem + ask->mem > sn->n->memory_mb)
		return "memory";
	if (sn->disk - pre->disk + ask->disk > sn->n->disk_mb)
		return "disk";
	for (size_t i = 0; i < ask->n_static; i++) {
		uint16_t port = (uint16_t)ask->static_ports[i]->value;
		if (nmd_ports_contains(sn->ports, sn->n_ports, port) &&
		    !nmd_preempt_frees_port(pre, port))
			return port_collision(e, ask->static_ports[i]);
	}
	if (ask->n_static + ask->n_dynamic > NMD_MAX_PORTS)
		return "network: too many ports";
	/* Dynamic ports avoid the node's and the group's own static ones.
	 * Ports an eviction frees are not reused for dynamic ones: the probe
	 * stays as it is for the common case, at the cost of a port or two
	 * in the range. */
	c->n_ports = ask->n_dynamic;
	if (c->n_ports && !pick_dynamic(e, sn, ask, c))
		return "network: dynamic port selection failed";
	if (ask->n_devices)
		return nmd_devices_assign(st, sn, tgi, c, false);
	return NULL;
}

/* Whether the ask fits on the node, evicting allocations if need be and
 * allowed; if not, the metric says why. */
static bool fits(struct nmd_stack *st, struct nmd_snode *sn, size_t tgi,
		 const struct nmd_ask *ask, struct nmd_choice *c,
		 Nomad__AllocationMetric *m)
{
	const char *why = misfit(st, sn, tgi, ask, c);
	if (why && st->preempt && nmd_preempt_find(st, sn, tgi, ask, c))
		why = misfit(st, sn, tgi, ask, c);
	if (why) {
		exhausted(&st->e->plan_alloc, m, sn, why);
		return false;
	}
	return true;
}

/* Whether a failed allocation ran, or was rescheduled from, node `id`. */
static bool penalised(const nomad_alloc *a, const char *id)
{
	if (a->nodeid && !strcmp(a->nodeid, id))
		return true;
	for (size_t i = 0; a->rescheduletracker &&
			   i < a->rescheduletracker->n_events; i++)
		if (a->rescheduletracker->events[i]->prevnodeid &&
		    !strcmp(a->rescheduletracker->events[i]->prevnodeid, id))
			return true;
	return false;
}

static double rank(struct nmd_stack *st, struct nmd_snode *sn, size_t tgi,
		   const struct nmd_ask *ask, const struct nmd_choice *c,
		   struct nmd_scores *scores)
{
	const nomad_task_group *tg = st->e->job->taskgroups[tgi];
	struct nmd_fit_input in = {sn->n->cpu_mhz, sn->n->memory_mb, sn->cpu,
				   sn->mem, ask->cpu, ask->mem};
	double anti = nmd_rank_anti_affinity(
		sn->job_count[tgi], tg->has_count ? (uint32_t)tg->count : 1);
	double affinity, spread;
	bool any_affinity;
	memset(scores, 0, sizeof(*scores));
	nmd_scores_add(scores, "binpack", nmd_rank_fit(&in, st->spread_alg));
	if (c->has_dev_affinity)
		nmd_scores_add(scores, "devices", c->dev_affinity);
	if (anti != 0)
		nmd_scores_add(scores, "job-anti-affinity", anti);
	affinity = nmd_affinity_score(st->e, tgi, sn, &any_affinity);
	if (any_affinity)
		nmd_scores_add(scores, "node-affinity", affinity);
	if ((spread = nmd_spread_score(st->spread, sn)) != 0)
		nmd_scores_add(scores, "allocation-spread", spread);
	if (st->penalty && penalised(st->penalty, sn->n->id))
		nmd_scores_add(scores, "node-reschedule-penalty", -1);
	if (c->pre.n)
		nmd_scores_add(scores, "preemption", nmd_preempt_score(&c->pre));
	return nmd_scores_final(scores);
}

/* The best MAX_SCORES options of one placement, kept without allocating
 * while the options are ranked and written to the metric once. */
struct top_scores {
	struct {
		const char *node_id;
		struct nmd_scores scores;
		double final;
	} best[MAX_SCORES];
	size_t n;
};

static void keep_score(struct top_scores *t, const char *node_id,
		       const struct nmd_scores *s, double final)
{
	size_t at = t->n;
	if (t->n == MAX_SCORES) {
		size_t low = 0;
		for (size_t i = 1; i < t->n; i++)
			if (t->best[i].final < t->best[low].final)
				low = i;
		if (t->best[low].final >= final)
			return;
		at = low;
	} else {
		t->n++;
	}
	t->best[at].node_id = node_id;
	t->best[at].scores = *s;
	t->best[at].final = final;
}

/* The kept scores, best first (ties by node ID), as Nomad lists them. */
static void order_best_first(size_t *order, const struct top_scores *t)
{
	for (size_t i = 0; i < t->n; i++) {
		size_t k = i;
		order[i] = i;
		for (; k > 0; k--) {
			const double a = t->best[order[k - 1]].final;
			const double b = t->best[i].final;
			if (a > b || (a == b && strcmp(t->best[order[k - 1]].node_id,
						       t->best[i].node_id) < 0))
				break;
			order[k] = order[k - 1];
		}
		order[k] = i;
	}
}

static bool write_scores(const nomad_allocator *pa, Nomad__AllocationMetric *m,
			 const struct top_scores *t)
{
	size_t order[MAX_SCORES];
	order_best_first(order, t);
	for (size_t o = 0; o < t->n; o++) {
		size_t k = order[o];
		Nomad__NodeScoreMeta *meta =
			nmd_pb_new(&nomad__node_score_meta__descriptor, pa);
		if (!meta || !nmd_pb_set_string(pa, &meta->nodeid,
						t->best[k].node_id) ||
		    !NMD_PB_APPEND(pa, m->scoremetadata, m->n_scoremetadata,
				   meta)) {
			nmd_pb_free(meta, pa);
			return false;
		}
		meta->has_normscore = 1;
		meta->normscore = t->best[k].final;
		for (size_t i = 0; i < t->best[k].scores.n; i++) {
			Nomad__FloatEntry *f =
				nmd_pb_new(&nomad__float_entry__descriptor, pa);
			if (!f ||
			    !nmd_pb_set_string(pa, &f->key,
					       t->best[k].scores.names[i]) ||
			    !NMD_PB_APPEND(pa, meta->scores, meta->n_scores, f)) {
				nmd_pb_free(f, pa);
				return false;
			}
			f->has_value = 1;
			f->value = t->best[k].scores.values[i];
		}
	}
	return true;
}

/* An empty choice. Field by field: clearing all of it (the port array,
 * the device and preemption parts) on each of the thousands of nodes a
 * placement may look at shows in the benchmarks. */
static void choice_reset(struct nmd_choice *c)
{
	c->node = NULL;
	c->score = 0;
	c->n_ports = 0;
	c->devs = NULL;
	c->n_devs = c->cap_devs = 0;
	c->dev_affinity = 0;
	c->has_dev_affinity = false;
	c->pre.u = NULL;
	c->pre.n = c->pre.cap = 0;
	c->pre.cpu = c->pre.mem = c->pre.disk = 0;
}

/* Check, fit and rank one node; *ok false when it was passed over (the
 * metric says why). */
static nomad_err try_node(struct nmd_stack *st, struct nmd_snode *sn,
			  size_t tgi, const struct nmd_ask *ask,
			  Nomad__AllocationMetric *m, struct top_scores *top,
			  struct nmd_choice *c, bool *ok, nomad_error *err)
{
	struct nmd_eval_ctx *e = st->e;
	struct nmd_scores scores;
	nomad_err rc = NOMAD_OK;
	*ok = false;
	choice_reset(c);
	m->has_nodesevaluated = 1;
	m->nodesevaluated++;
	if (!job_feasible(st, sn, m) || !group_feasible(st, sn, tgi, m) ||
	    !node_feasible(st, sn, tgi, ask, m, err, &rc))
		return rc;
	if ((rc = nmd_sched_node_usage(e, sn, err)) < 0 ||
	    (ask->n_devices && !sn->dev_loaded &&
	     (rc = nmd_devices_load(e, sn, err)) < 0))
		return rc;
	if (!fits(st, sn, tgi, ask, c, m))
		return NOMAD_OK;
	c->node = sn;
	c->score = rank(st, sn, tgi, ask, c, &scores);
	keep_score(top, sn->n->id, &scores, c->score);
	*ok = true;
	return NOMAD_OK;
}

/* The next ranked option from the source: the next candidate node that
 * is feasible and fits; *have false when every candidate was seen. */
static nomad_err source_next(struct nmd_stack *st, size_t *walked, size_t tgi,
			     const struct nmd_ask *ask,
			     Nomad__AllocationMetric *m, struct top_scores *top,
			     struct nmd_choice *c, bool *have, nomad_error *err)
{
	*have = false;
	while (*walked < st->n_cands) {
		struct nmd_snode *sn = candidate(st, st->offset);
		nomad_err rc;
		st->offset = (st->offset + 1) % st->n_cands;
		++*walked;
		if ((rc = try_node(st, sn, tgi, ask, m, top, c, have, err)) < 0)
			return rc;
		if (*have)
			return NOMAD_OK;
	}
	return NOMAD_OK;
}

/*
 * Nomad's limit and max-score iterators: up to `limit` options are
 * considered and the best wins. While looking for an option that scores
 * above 0, up to MAX_SKIPPED that do not are set aside; they come back
 * as the next options after it (or when the source runs dry), so they
 * lose only their place in line, and count against the limit.
 */
nomad_err nmd_sched_select(struct nmd_stack *st, size_t tgi,
			   const struct nmd_ask *ask,
			   Nomad__AllocationMetric *m, struct nmd_choice *out,
			   bool *found, nomad_error *err)
{
	struct nmd_eval_ctx *e = st->e;
	struct nmd_choice best = {0}, skipped[MAX_SKIPPED];
	size_t n_skipped = 0, next_skipped = 0, seen = 0, walked = 0;
	struct top_scores top = {0};
	bool have_best = false;
	nomad_err rc;
	*found = false;
	while (seen < st->limit) {
		struct nmd_choice c;
		bool have;
		if (next_skipped < n_skipped) {
			c = skipped[next_skipped++];
			have = true;
		} else if ((rc = source_next(st, &walked, tgi, ask, m, &top, &c,
					     &have, err)) < 0) {
			return rc;
		}
		if (!have)
			break;
		while (have && c.score <= 0 && n_skipped < MAX_SKIPPED) {
			skipped[n_skipped++] = c;
			if ((rc = source_next(st, &walked, tgi, ask, m, &top, &c,
					      &have, err)) < 0)
				return rc;
		}
		seen++;
		if (!have) {
			if (next_skipped >= n_skipped)
				break;
			c = skipped[next_skipped++];
		}
		if (!have_best || c.score > best.score)
			best = c;
		have_best = true;
	}
	if (!write_scores(&e->plan_alloc, m, &top))
		return nmd_sched_oom(err);
	if (have_best) {
		*out = best;
		*found = true;
	}
	return NOMAD_OK;
}

nomad_err nmd_sched_select_node(struct nmd_stack *st, struct nmd_snode *sn,
				size_t tgi, const struct nmd_ask *ask,
				Nomad__AllocationMetric *m,
				struct nmd_choice *out, bool *found,
				nomad_error *err)
{
	struct top_scores top = {0};
	nomad_err rc = try_node(st, sn, tgi, ask, m, &top, out, found, err);
	if (rc >= 0 && !write_scores(&st->e->plan_alloc, m, &top))
		rc = nmd_sched_oom(err);
	return rc;
}

bool nmd_sched_node_eligible(const struct nmd_stack *st,
			     const struct nmd_snode *sn)
{
	const nomad_sched_node *n = sn->n;
	(void)st;
	return n->status == NOMAD__NODE__STATUS_KIND__ready && n->eligible &&
	       !n->draining;
}

bool nmd_sched_node_in_job(struct nmd_stack *st, const struct nmd_snode *sn)
{
	return dc_matches(st, st->e->job, sn->n->datacenter) &&
	       in_pool(st->e->job, sn->n->node_pool);
}

/* ---- the ask -------------------------------------------------------------- */

void nmd_sched_ask(const nomad_task_group *tg, struct nmd_ask *ask)
{
	memset(ask, 0, sizeof(*ask));
	for (size_t t = 0; t < tg->n_tasks; t++) {
		const nomad_resources *r = tg->tasks[t]->resources;
		if (!r)
			continue;
		ask->cpu += r->has_cpu ? r->cpu : 0;
		ask->mem += r->has_memorymb ? r->memorymb : 0;
	}
	if (tg->ephemeraldisk && tg->ephemeraldisk->has_sizemb)
		ask->disk = tg->ephemeraldisk->sizemb;
	/* Group networks (one, in Nomad): its ports. */
	if (tg->n_networks) {
		const Nomad__NetworkResource *net = tg->networks[0];
		ask->static_ports = (const Nomad__Port **)net->reservedports;
		ask->n_static = net->n_reservedports;
		ask->dynamic_ports = (const Nomad__Port **)net->dynamicports;
		ask->n_dynamic = net->n_dynamicports;
	}
	ask->n_devices = nmd_devices_count(tg);
	ask->host_volumes = nmd_volumes_wanted(tg);
}
