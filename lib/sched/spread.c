/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Node affinity and spread scoring, as Nomad's rank and spread iterators
 * compute them for one task group.
 *
 * Affinity: the job's, the group's and its tasks' affinities; a node
 * scores the sum of the weights of those it matches over the sum of all
 * weights' magnitudes (-1 to 1), appended only when not 0.
 *
 * Spread: for each spread of the job and the group, how many of the
 * group's allocations (kept ones and the plan's placements) sit on nodes
 * with each value of the spread attribute. With targets, a value scores
 * (desired - (used + 1)) / desired times the spread's share of all
 * weights. Values beyond the targets share an implicit "*" target of the
 * rest, and are counted together as "*" (Nomad's targetedPropertyValue):
 * two such values split the remainder between them, each does not get
 * all of it. Without a "*" target such a value scores -1. Without
 * targets the spread is even: a value below the least used one scores
 * up, the most used ones score down.
 */
#include <string.h>

#include "core/error.h"
#include "sched/sched_int.h"

#define IMPLICIT_TARGET "*"

struct value_count {
	const char *value;
	uint32_t count;
};

struct one_spread {
	const char *attribute;
	double weight;
	const Nomad__SpreadTarget *const *targets;
	size_t n_targets;
	double implicit;                 /* the "*" target's desired count */
	bool has_implicit;
	struct value_count *counts;      /* in the arena */
	size_t n_counts, cap_counts;
};

struct nmd_spread_state {
	struct nmd_eval_ctx *e;
	struct one_spread *spreads;
	size_t n_spreads;
	double sum_weights;
	double lowest_boost;
	uint32_t count;                  /* the group's count */
};

static struct value_count *count_for(struct nmd_spread_state *ss,
				     struct one_spread *sp, const char *value,
				     bool add)
{
	for (size_t i = 0; i < sp->n_counts; i++)
		if (!strcmp(sp->counts[i].value, value))
			return &sp->counts[i];
	if (!add)
		return NULL;
	if (sp->n_counts == sp->cap_counts) {
		size_t cap = sp->cap_counts ? sp->cap_counts * 2 : 16;
		struct value_count *grown =
			nmd_arena_alloc(ss->e->arena, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		if (sp->n_counts)
			memcpy(grown, sp->counts, sp->n_counts * sizeof(*grown));
		sp->counts = grown;
		sp->cap_counts = cap;
	}
	sp->counts[sp->n_counts].value = value;
	sp->counts[sp->n_counts].count = 0;
	return &sp->counts[sp->n_counts++];
}

static bool add_spread(struct nmd_spread_state *ss, const Nomad__Spread *s)
{
	struct one_spread *sp = &ss->spreads[ss->n_spreads++];
	double desired_sum = 0;
	memset(sp, 0, sizeof(*sp));
	sp->attribute = s->attribute;
	sp->weight = s->has_weight ? s->weight : 50; /* Nomad's default */
	sp->targets = (const Nomad__SpreadTarget *const *)s->spreadtarget;
	sp->n_targets = s->n_spreadtarget;
	for (size_t i = 0; i < sp->n_targets; i++)
		desired_sum += (sp->targets[i]->has_percent ? sp->targets[i]->percent
							   : 0) /
			       100.0 * ss->count;
	/* Targets that sum to 0% leave no remainder to share, as in Nomad. */
	if (desired_sum > 0 && desired_sum < ss->count) {
		sp->has_implicit = true;
		sp->implicit = ss->count - desired_sum;
	}
	ss->sum_weights += sp->weight;
	return true;
}

struct nmd_spread_state *nmd_spread_new(struct nmd_eval_ctx *e, size_t tgi,
					const nomad_alloc *const *as, size_t n)
{
	const nomad_task_group *tg = e->job->taskgroups[tgi];
	size_t total = e->job->n_spreads + tg->n_spreads;
	struct nmd_spread_state *ss;
	if (!total)
		return NULL;
	if (!(ss = nmd_arena_alloc(e->arena, sizeof(*ss))) ||
	    !(ss->spreads = nmd_arena_alloc(e->arena,
					    total * sizeof(*ss->spreads))))
		return NULL;
	ss->e = e;
	ss->n_spreads = 0;
	ss->sum_weights = 0;
	ss->lowest_boost = -1.0;
	ss->count = tg->has_count ? (uint32_t)tg->count : 1;
	for (size_t i = 0; i < e->job->n_spreads; i++)
		add_spread(ss, e->job->spreads[i]);
	for (size_t i = 0; i < tg->n_spreads; i++)
		add_spread(ss, tg->spreads[i]);
	/* The group's allocations that stay: running, not stopped by the
	 * plan. */
	for (size_t i = 0; i < n; i++) {
		const nomad_alloc *a = as[i];
		struct nmd_snode *sn;
		if (!a->taskgroup || strcmp(a->taskgroup, tg->name) ||
		    nmd_sched_server_terminal(a) ||
		    nmd_sched_client_terminal(a) || nmd_sched_stopping(e, a) ||
		    !(sn = nmd_sched_node_by_id(e, a->nodeid)))
			continue;
		nmd_spread_placed(ss, sn);
	}
	return ss;
}

/* The value a node's attribute value is counted under: itself when the
 * spread has no targets or names it, "*" otherwise. */
static const char *counted_as(const struct one_spread *sp, const char *value)
{
	if (!sp->n_targets)
		return value;
	for (size_t t = 0; t < sp->n_targets; t++)
		if (sp->targets[t]->value &&
		    !strcmp(sp->targets[t]->value, value))
			return value;
	return IMPLICIT_TARGET;
}

void nmd_spread_placed(struct nmd_spread_state *ss, const struct nmd_snode *sn)
{
	if (!ss)
		return;
	for (size_t i = 0; i < ss->n_spreads; i++) {
		const char *value;
		struct value_count *vc;
		if (!nmd_sched_resolve(sn->n->node, ss->spreads[i].attribute,
				       &value) || !value)
			continue;
		if ((vc = count_for(ss, &ss->spreads[i],
				    counted_as(&ss->spreads[i], value), true)))
			vc->count++;
	}
}

/* Nomad's evenSpreadScoreBoost. */
static double even_boost(struct nmd_spread_state *ss, struct one_spread *sp,
			 const char *value)
{
	struct value_count *vc;
	uint32_t cur, min = 0, max = 0;
	if (!sp->n_counts)
		return 0;
	vc = count_for(ss, sp, value, false);
	cur = vc ? vc->count : 0;
	for (size_t i = 0; i < sp->n_counts; i++) {
		uint32_t c = sp->counts[i].count;
		if (min == 0 || c < min)
			min = c;
		if (max == 0 || c > max)
			max = c;
	}
	if (cur != min)
		return min ? (double)((int64_t)min - (int64_t)cur) / min : -1.0;
	if (min == max)
		return -1.0;
	if (min == 0)
		return 1.0;
	return (double)(max - min) / min;
}

double nmd_spread_score(struct nmd_spread_state *ss, const struct nmd_snode *sn)
{
	double total = 0;
	if (!ss)
		return 0;
	for (size_t i = 0; i < ss->n_spreads; i++) {
		struct one_spread *sp = &ss->spreads[i];
		const char *value;
		struct value_count *vc;
		double desired = -1, used, boost;
		if (!nmd_sched_resolve(sn->n->node, sp->attribute, &value) ||
		    !value) {
			total -= 1.0; /* the node lacks the attribute */
			continue;
		}
		if (!sp->n_targets) {
			total += even_boost(ss, sp, value);
			continue;
		}
		for (size_t t = 0; t < sp->n_targets; t++)
			if (sp->targets[t]->value &&
			    !strcmp(sp->targets[t]->value, value))
				desired = (sp->targets[t]->has_percent
						   ? sp->targets[t]->percent : 0) /
					  100.0 * ss->count;
		if (desired < 0 && sp->has_implicit)
			desired = sp->implicit;
		if (desired < 0) {
			total -= 1.0;
			continue;
		}
		if (desired == 0) {
			total += ss->lowest_boost;
			continue;
		}
		vc = count_for(ss, sp, counted_as(sp, value), false);
		used = (vc ? vc->count : 0) + 1;
		boost = (desired - used) / desired *
			(ss->sum_weights ? sp->weight / ss->sum_weights : 0);
		total += boost;
		if (boost < ss->lowest_boost)
			ss->lowest_boost = boost;
	}
	return total;
}

double nmd_affinity_score(struct nmd_eval_ctx *e, size_t tgi,
			  const struct nmd_snode *sn, bool *any)
{
	const nomad_task_group *tg = e->job->taskgroups[tgi];
	double sum = 0, total = 0;
	struct {
		Nomad__Affinity *const *list;
		size_t n;
	} sets[2 + 64];
	size_t n_sets = 0;
	sets[n_sets].list = e->job->affinities;
	sets[n_sets++].n = e->job->n_affinities;
	sets[n_sets].list = tg->affinities;
	sets[n_sets++].n = tg->n_affinities;
	for (size_t t = 0; t < tg->n_tasks && n_sets < sizeof(sets) / sizeof(*sets);
	     t++) {
		sets[n_sets].list = tg->tasks[t]->affinities;
		sets[n_sets++].n = tg->tasks[t]->n_affinities;
	}
	*any = false;
	for (size_t s = 0; s < n_sets; s++)
		for (size_t i = 0; i < sets[s].n; i++) {
			const Nomad__Affinity *a = sets[s].list[i];
			Nomad__Constraint as_constraint = NOMAD__CONSTRAINT__INIT;
			double w = a->has_weight ? a->weight : 50;
			total += w < 0 ? -w : w;
			as_constraint.ltarget = a->ltarget;
			as_constraint.rtarget = a->rtarget;
			as_constraint.operand = a->operand;
			if (nmd_sched_constraint_holds(&e->regex, sn->n->node,
						       &as_constraint))
				sum += w;
		}
	/* Nomad appends the score only when a matched weight makes it
	 * non-zero: a node no affinity matches keeps its other scores'
	 * average, undiluted. */
	*any = sum != 0;
	return total ? sum / total : 0;
}
