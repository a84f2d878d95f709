/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The nodes of one evaluation: found by ID through a small hash table,
 * their usage read from the host the first time a placement or a stop
 * touches them (most nodes of a large cluster never are), then kept up to
 * date as the plan adds and removes allocations.
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "sched/ports.h"
#include "sched/sched_int.h"

#define NO_NODE UINT32_MAX

uint64_t nmd_sched_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

nomad_err nmd_sched_nodes_load(struct nmd_eval_ctx *e, nomad_error *err)
{
	nomad_err rc = e->s->state.nodes(e->s->state_ud, &e->all_nodes,
					  &e->n_all_nodes);
	if (rc < 0)
		return nmd_seterr(err, rc, "scheduler: reading the nodes failed");
	nmd_sched_nodes_free(e);
	/* In the arena, which reuses the last evaluation's memory. */
	e->snodes = nmd_arena_alloc(e->arena, (e->n_all_nodes + 1) *
						      sizeof(*e->snodes));
	e->touched = nmd_arena_alloc(e->arena, (e->n_all_nodes + 1) *
						       sizeof(*e->touched));
	if (!e->snodes || !e->touched)
		return nmd_sched_oom(err);
	memset(e->snodes, 0, e->n_all_nodes * sizeof(*e->snodes));
	for (size_t i = 0; i < e->n_all_nodes; i++)
		e->snodes[i].n = e->all_nodes[i];
	return NOMAD_OK;
}

/* The ID index, built the first time an allocation names its node (an
 * evaluation of a new job never does). */
static bool index_ids(struct nmd_eval_ctx *e)
{
	e->id_slots = 16;
	while (e->id_slots < e->n_all_nodes * 2)
		e->id_slots *= 2;
	if (!(e->by_id = nmd_arena_alloc(e->arena,
					 e->id_slots * sizeof(*e->by_id))))
		return false;
	memset(e->by_id, 0xff, e->id_slots * sizeof(*e->by_id));
	for (size_t i = 0; i < e->n_all_nodes; i++) {
		size_t slot;
		if (!e->snodes[i].n->id)
			continue;
		slot = nmd_sched_hash(e->snodes[i].n->id) & (e->id_slots - 1);
		while (e->by_id[slot] != NO_NODE)
			slot = (slot + 1) & (e->id_slots - 1);
		e->by_id[slot] = (uint32_t)i;
	}
	return true;
}

void nmd_sched_nodes_free(struct nmd_eval_ctx *e)
{
	const nomad_allocator *a = e->s->ctx.alloc;
	for (size_t i = 0; i < e->n_touched; i++) {
		nmd_free(a, e->touched[i]->ports);
		nmd_free(a, e->touched[i]->job_count);
		nmd_free(a, e->touched[i]->preempted);
	}
	e->snodes = NULL; /* the rest is in the arena */
	e->touched = NULL;
	e->n_touched = 0;
	e->by_id = NULL;
}

struct nmd_snode *nmd_sched_node_by_id(struct nmd_eval_ctx *e, const char *id)
{
	size_t slot;
	if (!id || !e->snodes || (!e->by_id && !index_ids(e)))
		return NULL;
	slot = nmd_sched_hash(id) & (e->id_slots - 1);
	for (; e->by_id[slot] != NO_NODE; slot = (slot + 1) & (e->id_slots - 1)) {
		struct nmd_snode *sn = &e->snodes[e->by_id[slot]];
		if (!strcmp(sn->n->id, id))
			return sn;
	}
	return NULL;
}

static int cmp_u16(const void *x, const void *y)
{
	return (int)*(const uint16_t *)x - (int)*(const uint16_t *)y;
}

static bool ports_add(const nomad_allocator *a, struct nmd_snode *sn,
		      const uint16_t *ports, size_t n)
{
	if (!n)
		return true;
	if (sn->n_ports + n > sn->cap_ports) {
		size_t cap = (sn->n_ports + n) * 2;
		uint16_t *grown = nmd_reallocarray(a, sn->ports, cap,
						   sizeof(*grown));
		if (!grown)
			return false;
		sn->ports = grown;
		sn->cap_ports = cap;
	}
	memcpy(sn->ports + sn->n_ports, ports, n * sizeof(*ports));
	sn->n_ports += n;
	qsort(sn->ports, sn->n_ports, sizeof(*sn->ports), cmp_u16);
	return true;
}

static void ports_remove(struct nmd_snode *sn, const uint16_t *ports, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < sn->n_ports; k++)
			if (sn->ports[k] == ports[i]) {
				memmove(sn->ports + k, sn->ports + k + 1,
					(sn->n_ports - k - 1) * sizeof(*sn->ports));
				sn->n_ports--;
				break;
			}
}

/* The task group index of `name` in the evaluated job; the count of
 * groups (the "whole job" slot) when it has none by that name. */
static size_t group_index(const struct nmd_eval_ctx *e, const char *name)
{
	size_t n = e->job ? e->job->n_taskgroups : 0;
	for (size_t i = 0; name && i < n; i++)
		if (e->job->taskgroups[i]->name &&
		    !strcmp(e->job->taskgroups[i]->name, name))
			return i;
	return n;
}

static void dynamic_range(struct nmd_snode *sn)
{
	const Nomad__NodeResources *r = sn->n->node ? sn->n->node->noderesources
						    : NULL;
	sn->port_min = r && r->has_mindynamicport && r->mindynamicport > 0
			       ? r->mindynamicport : NMD_PORT_DYNAMIC_MIN;
	sn->port_max = r && r->has_maxdynamicport && r->maxdynamicport > 0
			       ? r->maxdynamicport : NMD_PORT_DYNAMIC_MAX;
}

nomad_err nmd_sched_node_usage(struct nmd_eval_ctx *e, struct nmd_snode *sn,
			       nomad_error *err)
{
	const nomad_allocator *a = e->s->ctx.alloc;
	const nomad_sched_usage *const *u;
	const Nomad__NodeReservedResources *res;
	size_t n, groups = e->job ? e->job->n_taskgroups : 0;
	nomad_err rc;
	if (sn->loaded)
		return NOMAD_OK;
	if ((rc = e->s->state.node_usage(e->s->state_ud, sn->n->id, &u, &n)) < 0)
		return nmd_seterr(err, rc,
				  "scheduler: reading the usage of node %s failed",
				  sn->n->id);
	if (!(sn->job_count = nmd_calloc(a, groups + 1, sizeof(uint32_t))))
		return nmd_sched_oom(err);
	e->touched[e->n_touched++] = sn; /* to free what it holds */
	dynamic_range(sn);
	res = sn->n->node ? sn->n->node->reservedresources : NULL;
	if (res && res->networks && res->networks->reservedhostports) {
		uint16_t *reserved;
		size_t n_reserved;
		/* A malformed list reserves nothing, as the node validated it
		 * when it registered. */
		if (nmd_ports_parse(res->networks->reservedhostports, &reserved,
				    &n_reserved)) {
			bool ok = ports_add(a, sn, reserved, n_reserved);
			free(reserved);
			if (!ok)
				return nmd_sched_oom(err);
		}
	}
	for (size_t i = 0; i < n; i++) {
		const nomad_sched_usage *x = u[i];
		sn->cpu += x->cpu_mhz;
		sn->mem += x->memory_mb;
		sn->disk += x->disk_mb;
		if (!ports_add(a, sn, x->ports, x->n_ports))
			return nmd_sched_oom(err);
		if (e->job && x->job_id && x->ns && e->job->id &&
		    !strcmp(x->job_id, e->job->id) &&
		    !strcmp(x->ns, e->job->namespace_ ? e->job->namespace_
						      : "default")) {
			sn->job_count[group_index(e, x->task_group)]++;
			if (group_index(e, x->task_group) != groups)
				sn->job_count[groups]++;
		}
	}
	/* Kept for preemption and devices, which need them one by one. */
	sn->usage = u;
	sn->n_usage = n;
	sn->loaded = true;
	return NOMAD_OK;
}

bool nmd_sched_node_add(struct nmd_eval_ctx *e, struct nmd_snode *sn,
			const struct nmd_ask *ask, const uint16_t *ports,
			size_t n_ports, size_t tg)
{
	size_t groups = e->job ? e->job->n_taskgroups : 0;
	sn->cpu += ask->cpu;
	sn->mem += ask->mem;
	sn->disk += ask->disk;
	if (tg < groups) {
		sn->job_count[tg]++;
		sn->job_count[groups]++;
	}
	return ports_add(e->s->ctx.alloc, sn, ports, n_ports);
}

void nmd_sched_node_remove(struct nmd_eval_ctx *e, struct nmd_snode *sn,
			   int64_t cpu, int64_t mem, int64_t disk,
			   const uint16_t *ports, size_t n_ports, int tg)
{
	size_t groups = e->job ? e->job->n_taskgroups : 0;
	sn->cpu -= cpu;
	sn->mem -= mem;
	sn->disk -= disk;
	ports_remove(sn, ports, n_ports);
	if (tg >= 0 && (size_t)tg < groups && sn->job_count[tg]) {
		sn->job_count[tg]--;
		if (sn->job_count[groups])
			sn->job_count[groups]--;
	}
}

void nmd_sched_node_release(struct nmd_eval_ctx *e, struct nmd_snode *sn,
			    const nomad_sched_usage *u)
{
	(void)e;
	sn->cpu -= u->cpu_mhz;
	sn->mem -= u->memory_mb;
	sn->disk -= u->disk_mb;
	ports_remove(sn, u->ports, u->n_ports);
	for (size_t k = 0; sn->dev && k < sn->n_usage; k++)
		if (sn->usage[k] == u)
			nmd_devices_release(sn, k);
}

bool nmd_sched_place_extras(struct nmd_eval_ctx *e, size_t tgi,
			    const struct nmd_choice *c, nomad_alloc *a)
{
	/* Evictions first: the devices picked may be ones they free. */
	if ((c->pre.n && !nmd_preempt_place(e, tgi, c, a)) ||
	    (c->n_devs && !nmd_devices_place(e, c, a, tgi)))
		return false;
	if (e->props)
		nmd_props_count(e, c->node, (int)tgi, 1);
	return true;
}

void nmd_sched_stop_extras(struct nmd_eval_ctx *e, struct nmd_snode *sn,
			   const nomad_alloc *a)
{
	/* Only what held something: a terminal allocation's instances may
	 * be another's by now, and it was never counted. */
	if (nmd_sched_server_terminal(a) || nmd_sched_client_terminal(a))
		return;
	if (sn->dev)
		nmd_devices_release_alloc(sn, a->id);
	if (e->props && e->job)
		nmd_props_count(e, sn, (int)group_index(e, a->taskgroup), -1);
}

void nmd_sched_unstop_extras(struct nmd_eval_ctx *e, struct nmd_snode *sn,
			     const nomad_alloc *a)
{
	if (nmd_sched_server_terminal(a) || nmd_sched_client_terminal(a))
		return;
	if (sn->dev)
		nmd_devices_hold_alloc(sn, a->id);
	if (e->props && e->job)
		nmd_props_count(e, sn, (int)group_index(e, a->taskgroup), 1);
}
