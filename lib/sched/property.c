/* SPDX-License-Identifier: MPL-2.0 */
/*
 * distinct_property (Nomad's scheduler/feasible/propertyset.go): at most
 * RTarget allocations (1 when empty) per value of LTarget, counting the
 * job's allocations for a job-level constraint and the group's for a
 * group-level one.
 *
 * A count is kept per constraint and value for the whole evaluation,
 * while a stack is up: the job's allocations that are not terminal and
 * not stopped by the plan when the stack is built, then one more for
 * each placement and one fewer for each later stop, so that checking a
 * node costs a lookup rather than Nomad's walk over the plan on every
 * placement. Allocations the plan updates in place are counted once
 * (Nomad's proposed set counts them again).
 *
 * A node without the property is filtered as `missing property "<l>"`,
 * a full value as "distinct_property: <l>=<v> used by <n> allocs", and
 * an RTarget that is not a number filters every node with Go's message,
 * all keyed so in ConstraintFiltered as Nomad does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "sched/sched_int.h"

/* One value's count, in an open-addressing table. */
struct pcount {
	const char *value;               /* borrowed from a node */
	int64_t n;
};

struct propset {
	const Nomad__Constraint *c;
	int tg;                          /* group index; -1: job level */
	uint64_t allowed;
	char error[160];                 /* "": built */
	struct pcount *slots;            /* in the arena */
	size_t cap, used;
};

struct nmd_props {
	struct propset *sets;
	size_t n;
};

static bool is_distinct_property(const Nomad__Constraint *c)
{
	return c && c->operand && !strcmp(c->operand, "distinct_property");
}

static size_t count_sets(const nomad_job *job)
{
	size_t n = 0;
	for (size_t i = 0; i < job->n_constraints; i++)
		n += is_distinct_property(job->constraints[i]);
	for (size_t g = 0; g < job->n_taskgroups; g++)
		for (size_t i = 0; i < job->taskgroups[g]->n_constraints; i++)
			n += is_distinct_property(job->taskgroups[g]->constraints[i]);
	return n;
}

/* RTarget as Go's strconv.ParseUint(s, 10, 64), with its error text. */
static void parse_allowed(struct propset *ps)
{
	const char *r = ps->c->rtarget;
	const char *why = NULL;
	char *end;
	ps->allowed = 1;
	if (!r || !*r)
		return;
	for (const char *p = r; *p && !why; p++)
		if (*p < '0' || *p > '9')
			why = "invalid syntax";
	if (!why) {
		errno = 0;
		ps->allowed = strtoull(r, &end, 10);
		if (errno == ERANGE)
			why = "value out of range";
	}
	if (why)
		snprintf(ps->error, sizeof(ps->error),
			 "failed to convert RTarget \"%s\" to uint64: "
			 "strconv.ParseUint: parsing \"%s\": %s", r, r, why);
}

static bool table_grow(struct nmd_eval_ctx *e, struct propset *ps)
{
	size_t cap = ps->cap ? ps->cap * 2 : 16;
	struct pcount *slots = nmd_arena_alloc(e->arena, cap * sizeof(*slots));
	if (!slots)
		return false;
	memset(slots, 0, cap * sizeof(*slots));
	for (size_t i = 0; i < ps->cap; i++) {
		size_t k;
		if (!ps->slots[i].value)
			continue;
		k = nmd_sched_hash(ps->slots[i].value) & (cap - 1);
		while (slots[k].value)
			k = (k + 1) & (cap - 1);
		slots[k] = ps->slots[i];
	}
	ps->slots = slots;
	ps->cap = cap;
	return true;
}

/* The count of `value`, created at 0 when `create`; NULL when absent
 * (or out of memory, when the count is then not kept). */
static struct pcount *slot(struct nmd_eval_ctx *e, struct propset *ps,
			   const char *value, bool create)
{
	size_t k;
	if (ps->cap) {
		for (k = nmd_sched_hash(value) & (ps->cap - 1); ps->slots[k].value;
		     k = (k + 1) & (ps->cap - 1))
			if (!strcmp(ps->slots[k].value, value))
				return &ps->slots[k];
	}
	if (!create)
		return NULL;
	if ((ps->used + 1) * 2 > ps->cap && !table_grow(e, ps))
		return NULL;
	k = nmd_sched_hash(value) & (ps->cap - 1);
	while (ps->slots[k].value)
		k = (k + 1) & (ps->cap - 1);
	ps->slots[k].value = value;
	ps->used++;
	return &ps->slots[k];
}

static void add(struct nmd_eval_ctx *e, struct propset *ps,
		const struct nmd_snode *sn, int64_t delta)
{
	const char *v;
	struct pcount *pc;
	if (!sn || !nmd_sched_resolve(sn->n->node, ps->c->ltarget, &v))
		return;
	if ((pc = slot(e, ps, v, delta > 0)))
		pc->n += delta;
}

static bool group_of(const struct nmd_eval_ctx *e, const nomad_alloc *a,
		     int tg)
{
	const char *name = e->job->taskgroups[tg]->name;
	return a->taskgroup && name && !strcmp(a->taskgroup, name);
}

/* The allocations that stay: not terminal, not stopped by the plan. */
static void count_existing(struct nmd_eval_ctx *e, struct propset *ps)
{
	for (size_t i = 0; i < e->n_allocs; i++) {
		const nomad_alloc *a = e->allocs[i];
		if (nmd_sched_server_terminal(a) || nmd_sched_client_terminal(a) ||
		    nmd_sched_stopping(e, a) ||
		    (ps->tg >= 0 && !group_of(e, a, ps->tg)))
			continue;
		add(e, ps, nmd_sched_node_by_id(e, a->nodeid), 1);
	}
}

static void set_up(struct nmd_eval_ctx *e, struct propset *ps,
		   const Nomad__Constraint *c, int tg)
{
	memset(ps, 0, sizeof(*ps));
	ps->c = c;
	ps->tg = tg;
	parse_allowed(ps);
	if (!ps->error[0])
		count_existing(e, ps);
}

nomad_err nmd_props_init(struct nmd_eval_ctx *e, nomad_error *err)
{
	const nomad_job *job = e->job;
	size_t n = count_sets(job), k = 0;
	struct nmd_props *p;
	e->props = NULL;
	if (!n)
		return NOMAD_OK;
	if (!(p = nmd_arena_alloc(e->arena, sizeof(*p))) ||
	    !(p->sets = nmd_arena_alloc(e->arena, n * sizeof(*p->sets))))
		return nmd_sched_oom(err);
	for (size_t i = 0; i < job->n_constraints; i++)
		if (is_distinct_property(job->constraints[i]))
			set_up(e, &p->sets[k++], job->constraints[i], -1);
	for (size_t g = 0; g < job->n_taskgroups; g++)
		for (size_t i = 0; i < job->taskgroups[g]->n_constraints; i++)
			if (is_distinct_property(job->taskgroups[g]->constraints[i]))
				set_up(e, &p->sets[k++],
				       job->taskgroups[g]->constraints[i], (int)g);
	p->n = k;
	e->props = p;
	return NOMAD_OK;
}

bool nmd_props_allow(struct nmd_eval_ctx *e, size_t tgi,
		     const struct nmd_snode *sn, char *why, size_t cap)
{
	struct nmd_props *p = e->props;
	for (size_t i = 0; p && i < p->n; i++) {
		struct propset *ps = &p->sets[i];
		const char *v;
		const struct pcount *pc;
		uint64_t used;
		if (ps->tg >= 0 && (size_t)ps->tg != tgi)
			continue;
		if (ps->error[0]) {
			snprintf(why, cap, "%s", ps->error);
			return false;
		}
		if (!nmd_sched_resolve(sn->n->node, ps->c->ltarget, &v)) {
			snprintf(why, cap, "missing property \"%s\"",
				 ps->c->ltarget ? ps->c->ltarget : "");
			return false;
		}
		pc = slot(e, ps, v, false);
		used = pc && pc->n > 0 ? (uint64_t)pc->n : 0;
		if (used < ps->allowed)
			continue;
		snprintf(why, cap, "distinct_property: %s=%s used by %llu allocs",
			 ps->c->ltarget, v, (unsigned long long)used);
		return false;
	}
	return true;
}

void nmd_props_count(struct nmd_eval_ctx *e, const struct nmd_snode *sn,
		     int tg, int delta)
{
	struct nmd_props *p = e->props;
	for (size_t i = 0; p && i < p->n; i++)
		if (!p->sets[i].error[0] &&
		    (p->sets[i].tg < 0 || p->sets[i].tg == tg))
			add(e, &p->sets[i], sn, delta);
}
