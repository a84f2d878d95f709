/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Building the plan: placements and stops per node, as Nomad's Plan has
 * them (NodeAllocation, NodeUpdate), and the groups whose placements
 * failed. Allocations in the plan leave their Job unset: plan.Job is the
 * job they run, as in Nomad's normalised plans.
 */
#include <stdint.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "sched/sched_int.h"
#include "structs/pb.h"

/* Everything in the plan is built in the evaluation's arena. */
#define PA (&e->plan_alloc)

nomad_err nmd_sched_plan_new(struct nmd_eval_ctx *e, nomad_error *err)
{
	nomad_plan *p = nmd_pb_new(&nomad__plan__descriptor, PA);
	if (!p || !nmd_pb_set_string(PA, &p->evalid, e->eval->id))
		return nmd_sched_oom(err);
	p->has_priority = 1;
	p->priority = e->job && e->job->has_priority ? e->job->priority
		      : e->eval->has_priority	      ? e->eval->priority
						      : 50;
	p->has_allatonce = 1;
	p->allatonce = e->job && e->job->allatonce;
	p->has_snapshotindex = 1;
	p->snapshotindex = e->index;
	p->job = (nomad_job *)e->job; /* lent: taken back before freeing */
	e->plan = p;
	return NOMAD_OK;
}

/* A new entry for node `id` in a NodeAllocation/NodeUpdate map. */
static Nomad__AllocationList *new_list(const nomad_allocator *pa,
				       Nomad__AllocationListEntry ***map,
				       size_t *n, const char *id)
{
	Nomad__AllocationListEntry *e;
	if (!(e = nmd_pb_new(&nomad__allocation_list_entry__descriptor, pa)))
		return NULL;
	if (!nmd_pb_set_string(pa, &e->key, id) ||
	    !(e->value = nmd_pb_new(&nomad__allocation_list__descriptor, pa)) ||
	    !NMD_PB_APPEND(pa, *map, *n, e)) {
		nmd_pb_free(e, pa);
		return NULL;
	}
	return e->value;
}

/* The node's list in the plan: remembered on the node, so finding it
 * costs nothing however many nodes the plan touches. */
Nomad__AllocationList *nmd_sched_plan_list(struct nmd_eval_ctx *e,
					   struct nmd_snode *sn,
					   const char *node_id, bool update)
{
	Nomad__AllocationList **slot = sn ? (update ? &sn->plan_update
						     : &sn->plan_alloc)
					  : NULL;
	Nomad__AllocationList *list;
	if (slot && *slot)
		return *slot;
	if (!slot) /* a node the cluster no longer has: search */
		for (size_t i = 0; i < (update ? e->plan->n_nodeupdate
					       : e->plan->n_nodeallocation); i++) {
			Nomad__AllocationListEntry *x =
				update ? e->plan->nodeupdate[i]
				       : e->plan->nodeallocation[i];
			if (!strcmp(x->key, node_id))
				return x->value;
		}
	list = update ? new_list(PA, &e->plan->nodeupdate,
				 &e->plan->n_nodeupdate, node_id)
		      : new_list(PA, &e->plan->nodeallocation,
				 &e->plan->n_nodeallocation, node_id);
	if (slot)
		*slot = list;
	return list;
}

static bool add_port(const nomad_allocator *pa,
		     Nomad__AllocatedSharedResources *sh, const char *label,
		     int value, int to)
{
	Nomad__AllocatedPortMapping *pm =
		nmd_pb_new(&nomad__allocated_port_mapping__descriptor, pa);
	if (!pm || !nmd_pb_set_string(pa, &pm->label, label ? label : "") ||
	    !NMD_PB_APPEND(pa, sh->ports, sh->n_ports, pm)) {
		nmd_pb_free(pm, pa);
		return false;
	}
	pm->has_value = 1;
	pm->value = value;
	if (to) {
		pm->has_to = 1;
		pm->to = to;
	}
	return true;
}

/* AllocatedResources for a placement of `tg` with the chosen ports. */
static Nomad__AllocatedResources *allocated(const nomad_allocator *pa,
					    const nomad_task_group *tg,
					    const struct nmd_ask *ask,
					    const struct nmd_choice *c)
{
	Nomad__AllocatedResources *ar =
		nmd_pb_new(&nomad__allocated_resources__descriptor, pa);
	if (!ar || !(ar->shared = nmd_pb_new(
			     &nomad__allocated_shared_resources__descriptor, pa)))
		goto fail;
	for (size_t t = 0; t < tg->n_tasks; t++) {
		const nomad_resources *r = tg->tasks[t]->resources;
		Nomad__AllocatedTaskResourcesEntry *te = nmd_pb_new(
			&nomad__allocated_task_resources_entry__descriptor, pa);
		Nomad__AllocatedTaskResources *tr;
		if (!te || !nmd_pb_set_string(pa, &te->key, tg->tasks[t]->name) ||
		    !(tr = te->value = nmd_pb_new(
			      &nomad__allocated_task_resources__descriptor, pa)) ||
		    !(tr->cpu = nmd_pb_new(
			      &nomad__allocated_cpu_resources__descriptor, pa)) ||
		    !(tr->memory = nmd_pb_new(
			      &nomad__allocated_memory_resources__descriptor, pa)) ||
		    !NMD_PB_APPEND(pa, ar->tasks, ar->n_tasks, te)) {
			nmd_pb_free(te, pa);
			goto fail;
		}
		tr->cpu->has_cpushares = 1;
		tr->cpu->cpushares = r && r->has_cpu ? r->cpu : 0;
		tr->memory->has_memorymb = 1;
		tr->memory->memorymb = r && r->has_memorymb ? r->memorymb : 0;
		if (r && r->has_memorymaxmb) {
			tr->memory->has_memorymaxmb = 1;
			tr->memory->memorymaxmb = r->memorymaxmb;
		}
	}
	ar->shared->has_diskmb = 1;
	ar->shared->diskmb = ask->disk;
	for (size_t i = 0; i < ask->n_static; i++)
		if (!add_port(pa, ar->shared, ask->static_ports[i]->label,
			      ask->static_ports[i]->value,
			      ask->static_ports[i]->has_to ? ask->static_ports[i]->to
							   : 0))
			goto fail;
	for (size_t i = 0; i < c->n_ports; i++)
		if (!add_port(pa, ar->shared, ask->dynamic_ports[i]->label,
			      c->ports[i],
			      ask->dynamic_ports[i]->has_to ? ask->dynamic_ports[i]->to
							    : 0))
			goto fail;
	return ar;
fail:
	nmd_pb_free(ar, pa);
	return NULL;
}

nomad_err nmd_sched_plan_place(struct nmd_eval_ctx *e, size_t tgi,
			       const char *name,
			       const struct nmd_choice *c,
			       const struct nmd_ask *ask,
			       Nomad__AllocationMetric *metric,
			       const nomad_alloc *previous, nomad_error *err)
{
	Nomad__AllocationList *list =
		nmd_sched_plan_list(e, c->node, c->node->n->id, false);
	const nomad_task_group *tg = e->job->taskgroups[tgi];
	nomad_alloc *a = nmd_pb_new(&nomad__allocation__descriptor, PA);
	char id[NOMAD_UUID_LEN + 1];
	uint16_t ports[NMD_MAX_PORTS];
	size_t n_ports = 0;
	if (!list || !a)
		goto fail;
	nomad_uuid_generate(&e->rng, id);
	if (!nmd_pb_set_string(PA, &a->id, id) ||
	    !nmd_pb_set_string(PA, &a->namespace_, e->job->namespace_
							       ? e->job->namespace_
							       : "default") ||
	    !nmd_pb_set_string(PA, &a->evalid, e->eval->id) ||
	    !nmd_pb_set_string(PA, &a->name, name) ||
	    !nmd_pb_set_string(PA, &a->nodeid, c->node->n->id) ||
	    !nmd_pb_set_string(PA, &a->nodename, c->node->n->name) ||
	    !nmd_pb_set_string(PA, &a->jobid, e->job->id) ||
	    !nmd_pb_set_string(PA, &a->taskgroup, tg->name) ||
	    (previous && !nmd_pb_set_string(PA, &a->previousallocation,
					    previous->id)) ||
	    !(a->allocatedresources = allocated(PA, tg, ask, c)) ||
	    nomad_msg_copy((ProtobufCMessage **)&a->metrics, &metric->base,
			   PA) != NOMAD_OK)
		goto fail;
	a->has_desiredstatus = a->has_clientstatus = 1;
	a->desiredstatus = NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run;
	a->clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__pending;
	a->has_jobversion = 1;
	a->jobversion = e->job->has_version ? e->job->version : 0;
	a->has_createtime = a->has_modifytime = 1;
	a->createtime = a->modifytime = e->now;
	if (!NMD_PB_APPEND(PA, list->items, list->n_items, a))
		goto fail;
	e->last_placed = a;
	if (!nmd_sched_place_extras(e, tgi, c, a))
		goto fail;
	for (size_t i = 0; i < ask->n_static && n_ports < NMD_MAX_PORTS; i++)
		ports[n_ports++] = (uint16_t)ask->static_ports[i]->value;
	for (size_t i = 0; i < c->n_ports && n_ports < NMD_MAX_PORTS; i++)
		ports[n_ports++] = c->ports[i];
	if (!nmd_sched_node_add(e, c->node, ask, ports, n_ports, tgi))
		return nmd_sched_oom(err);
	e->n_placed++;
	return NOMAD_OK;
fail:
	return nmd_sched_oom(err); /* what was built stays in the arena */
}

/* What a stored allocation holds, to give back to its node. */
static void held(const nomad_alloc *a, int64_t *cpu, int64_t *mem,
		 int64_t *disk, uint16_t *ports, size_t *n_ports, size_t cap)
{
	const Nomad__AllocatedResources *ar = a->allocatedresources;
	*cpu = *mem = *disk = 0;
	*n_ports = 0;
	if (!ar)
		return;
	for (size_t t = 0; t < ar->n_tasks; t++) {
		const Nomad__AllocatedTaskResources *tr = ar->tasks[t]->value;
		if (!tr)
			continue;
		*cpu += tr->cpu ? tr->cpu->cpushares : 0;
		*mem += tr->memory ? tr->memory->memorymb : 0;
	}
	if (ar->shared) {
		*disk = ar->shared->diskmb;
		for (size_t i = 0; i < ar->shared->n_ports && *n_ports < cap; i++)
			ports[(*n_ports)++] = (uint16_t)ar->shared->ports[i]->value;
	}
}

static int group_of(const struct nmd_eval_ctx *e, const char *name)
{
	for (size_t i = 0; e->job && name && i < e->job->n_taskgroups; i++)
		if (!strcmp(e->job->taskgroups[i]->name, name))
			return (int)i;
	return -1;
}

/* A copy of `a` without its Job, appended to `list`. */
static nomad_alloc *copy_into(struct nmd_eval_ctx *e, const nomad_alloc *a,
			      Nomad__AllocationList *list)
{
	nomad_alloc bare = *a, *copy = NULL;
	bare.job = NULL; /* the plan's allocations leave their Job out */
	if (!list ||
	    nomad_msg_copy((ProtobufCMessage **)&copy, &bare.base, PA) !=
		    NOMAD_OK ||
	    !NMD_PB_APPEND(PA, list->items, list->n_items, copy))
		return NULL;
	copy->has_modifytime = 1;
	copy->modifytime = e->now;
	return copy;
}

nomad_alloc *nmd_sched_plan_update(struct nmd_eval_ctx *e, const nomad_alloc *a)
{
	return copy_into(e, a,
			 nmd_sched_plan_list(e, nmd_sched_node_by_id(e, a->nodeid),
					     a->nodeid ? a->nodeid : "", false));
}

static size_t ptr_slot(const void *p, size_t cap)
{
	uint64_t h = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ULL;
	return (size_t)(h >> 20) & (cap - 1);
}

/* A slot whose stop was taken back: lookups probe past it, and it still
 * counts towards the set's load. */
static const char unstopped;

/* Remember that the plan stops `a`: a pointer set, rebuilt twice as
 * large when half full. */
static bool remember_stop(struct nmd_eval_ctx *e, const nomad_alloc *a)
{
	if ((e->n_stopped_set + 1) * 2 > e->cap_stopped) {
		size_t cap = e->cap_stopped ? e->cap_stopped * 2 : 64;
		const void **slots = nmd_arena_alloc(e->arena, cap * sizeof(*slots));
		if (!slots)
			return false;
		memset(slots, 0, cap * sizeof(*slots));
		for (size_t i = 0; i < e->cap_stopped; i++)
			if (e->stopped[i] && e->stopped[i] != &unstopped) {
				size_t k = ptr_slot(e->stopped[i], cap);
				while (slots[k])
					k = (k + 1) & (cap - 1);
				slots[k] = e->stopped[i];
			}
		e->stopped = slots;
		e->cap_stopped = cap;
	}
	{
		size_t k = ptr_slot(a, e->cap_stopped);
		while (e->stopped[k] && e->stopped[k] != a)
			k = (k + 1) & (e->cap_stopped - 1);
		if (!e->stopped[k]) {
			e->stopped[k] = a;
			e->n_stopped_set++;
		}
	}
	return true;
}

static void forget_stop(struct nmd_eval_ctx *e, const nomad_alloc *a)
{
	for (size_t k = e->cap_stopped ? ptr_slot(a, e->cap_stopped) : 0;
	     e->cap_stopped && e->stopped[k]; k = (k + 1) & (e->cap_stopped - 1))
		if (e->stopped[k] == a) {
			e->stopped[k] = &unstopped;
			return;
		}
}

void nmd_sched_plan_unstop(struct nmd_eval_ctx *e, const nomad_alloc *a)
{
	struct nmd_snode *sn = nmd_sched_node_by_id(e, a->nodeid);
	Nomad__AllocationList *list =
		nmd_sched_plan_list(e, sn, a->nodeid ? a->nodeid : "", true);
	struct nmd_ask ask;
	uint16_t ports[NMD_MAX_PORTS];
	size_t n_ports;
	if (!list || !list->n_items ||
	    strcmp(list->items[list->n_items - 1]->id, a->id))
		return; /* not the last stop made */
	list->n_items--;
	forget_stop(e, a);
	e->n_stopped--;
	if (!sn || nmd_sched_client_terminal(a) || nmd_sched_server_terminal(a))
		return;
	memset(&ask, 0, sizeof(ask));
	held(a, &ask.cpu, &ask.mem, &ask.disk, ports, &n_ports, NMD_MAX_PORTS);
	/* Cannot fail: the node held it a moment ago. */
	(void)nmd_sched_node_add(e, sn, &ask, ports, n_ports,
				 (size_t)group_of(e, a->taskgroup));
	nmd_sched_unstop_extras(e, sn, a);
}

bool nmd_sched_stopping(const struct nmd_eval_ctx *e, const nomad_alloc *a)
{
	size_t k;
	if (!e->cap_stopped)
		return false;
	for (k = ptr_slot(a, e->cap_stopped); e->stopped[k];
	     k = (k + 1) & (e->cap_stopped - 1))
		if (e->stopped[k] == a)
			return true;
	return false;
}

nomad_err nmd_sched_plan_stop(struct nmd_eval_ctx *e, const nomad_alloc *a,
			      const char *why, int client_status,
			      nomad_error *err)
{
	struct nmd_snode *sn = nmd_sched_node_by_id(e, a->nodeid);
	Nomad__AllocationList *list =
		nmd_sched_plan_list(e, sn, a->nodeid ? a->nodeid : "", true);
	nomad_alloc *stop = copy_into(e, a, list);
	nomad_err rc;
	if (!stop || !remember_stop(e, a))
		return nmd_sched_oom(err);
	stop->has_desiredstatus = 1;
	stop->desiredstatus = NOMAD__ALLOCATION__DESIRED_STATUS_KIND__stop;
	if (!nmd_pb_set_string(PA, &stop->desireddescription, why))
		return nmd_sched_oom(err);
	if (client_status) {
		stop->has_clientstatus = 1;
		stop->clientstatus = client_status;
	}
	e->n_stopped++;
	/* The node's usage holds only allocations still meant to run. */
	if (sn && !nmd_sched_client_terminal(a) && !nmd_sched_server_terminal(a)) {
		int64_t cpu, mem, disk;
		uint16_t ports[NMD_MAX_PORTS];
		size_t n_ports;
		if ((rc = nmd_sched_node_usage(e, sn, err)) < 0)
			return rc;
		held(a, &cpu, &mem, &disk, ports, &n_ports, NMD_MAX_PORTS);
		nmd_sched_node_remove(e, sn, cpu, mem, disk, ports, n_ports,
				      group_of(e, a->taskgroup));
		nmd_sched_stop_extras(e, sn, a);
	}
	return NOMAD_OK;
}

nomad_err nmd_sched_plan_failed(struct nmd_eval_ctx *e, const char *tg,
				Nomad__AllocationMetric *metric,
				nomad_error *err)
{
	Nomad__AllocationMetricEntry *entry;
	for (size_t i = 0; i < e->n_failed; i++)
		if (!strcmp(e->failed[i]->key, tg)) {
			Nomad__AllocationMetric *m = e->failed[i]->value;
			m->has_coalescedfailures = 1;
			m->coalescedfailures++;
			return NOMAD_OK;
		}
	if (!(entry = nmd_pb_new(&nomad__allocation_metric_entry__descriptor,
				 PA)) ||
	    !nmd_pb_set_string(PA, &entry->key, tg) ||
	    nomad_msg_copy((ProtobufCMessage **)&entry->value, &metric->base,
			   PA) != NOMAD_OK ||
	    !NMD_PB_APPEND(PA, e->failed, e->n_failed, entry)) {
		nmd_pb_free(entry, PA);
		return nmd_sched_oom(err);
	}
	return NOMAD_OK;
}

/* Keep at most this many past reschedule events on an allocation whose
 * policy is unlimited (Nomad's maxPastRescheduleEvents). */
#define MAX_PAST_EVENTS 5

/* Whether the past event `ev` carries over to the replacement: the last
 * MAX_PAST_EVENTS of an unlimited policy, those within the interval of a
 * limited one. */
static bool keep_event(const struct nmd_eval_ctx *e,
		       const Nomad__ReschedulePolicy *p,
		       const Nomad__RescheduleTracker *old, size_t i)
{
	if (p && p->unlimited)
		return old->n_events - i <= MAX_PAST_EVENTS;
	return e->now - old->events[i]->rescheduletime <= (p ? p->interval : 0);
}

nomad_err nmd_sched_track_reschedule(struct nmd_eval_ctx *e,
				     struct nmd_snode *sn,
				     const nomad_alloc *previous, int64_t delay,
				     const Nomad__ReschedulePolicy *policy,
				     nomad_error *err)
{
	Nomad__AllocationList *list = sn->plan_alloc;
	nomad_alloc *a = list && list->n_items ? list->items[list->n_items - 1]
					       : NULL;
	const Nomad__RescheduleTracker *old = previous->rescheduletracker;
	Nomad__RescheduleTracker *t;
	Nomad__RescheduleEvent *ev;
	if (!a)
		return NOMAD_OK;
	if (!(t = a->rescheduletracker =
		      nmd_pb_new(&nomad__reschedule_tracker__descriptor, PA)))
		return nmd_sched_oom(err);
	for (size_t i = 0; old && i < old->n_events; i++) {
		Nomad__RescheduleEvent *copy = NULL;
		if (!keep_event(e, policy, old, i))
			continue;
		if (nomad_msg_copy((ProtobufCMessage **)&copy, &old->events[i]->base,
				   PA) != NOMAD_OK ||
		    !NMD_PB_APPEND(PA, t->events, t->n_events, copy))
			return nmd_sched_oom(err);
	}
	if (!(ev = nmd_pb_new(&nomad__reschedule_event__descriptor, PA)) ||
	    !nmd_pb_set_string(PA, &ev->prevallocid, previous->id) ||
	    !nmd_pb_set_string(PA, &ev->prevnodeid, previous->nodeid) ||
	    !NMD_PB_APPEND(PA, t->events, t->n_events, ev))
		return nmd_sched_oom(err);
	ev->has_rescheduletime = ev->has_delay = 1;
	ev->rescheduletime = e->now;
	ev->delay = delay;
	t->has_lastreschedule = 1;
	t->lastreschedule = e->now;
	return NOMAD_OK;
}

/* Follow-ups within this of the batch's first share it (Nomad's
 * batchedFailedAllocWindowSize). */
#define FOLLOW_UP_WINDOW 5000000000LL

static int64_t wait_until(const nomad_eval *ev)
{
	return nmd_ts_ns(ev->waituntil);
}

nomad_eval *nmd_sched_followup_eval(struct nmd_eval_ctx *e, int64_t when,
				    const char *trigger)
{
	const nomad_eval *ev = e->eval;
	nomad_eval *f;
	char id[NOMAD_UUID_LEN + 1];
	for (size_t i = 0; i < e->n_followups; i++) {
		int64_t at = wait_until(e->followups[i]);
		if (when >= at && when - at < FOLLOW_UP_WINDOW &&
		    !strcmp(e->followups[i]->triggeredby, trigger))
			return e->followups[i];
	}
	if (!(f = nmd_pb_new(&nomad__evaluation__descriptor, PA)) ||
	    !(f->waituntil = nmd_pb_new(&nomad__timestamp__descriptor, PA)))
		return NULL;
	nomad_uuid_generate(&e->rng, id);
	if (!nmd_pb_set_string(PA, &f->id, id) ||
	    !nmd_pb_set_string(PA, &f->namespace_, ev->namespace_) ||
	    !nmd_pb_set_string(PA, &f->triggeredby, trigger) ||
	    !nmd_pb_set_string(PA, &f->jobid, ev->jobid) ||
	    !nmd_pb_set_string(PA, &f->previouseval, ev->id) ||
	    !NMD_PB_APPEND(PA, e->followups, e->n_followups, f))
		return NULL;
	f->has_priority = ev->has_priority;
	f->priority = ev->priority;
	f->has_type = ev->has_type;
	f->type = ev->type;
	f->has_jobmodifyindex = ev->has_jobmodifyindex;
	f->jobmodifyindex = ev->jobmodifyindex;
	f->has_status = 1;
	f->status = NOMAD__EVALUATION__STATUS_KIND__pending;
	nmd_ts_set(f->waituntil, when);
	f->has_createtime = f->has_modifytime = 1;
	f->createtime = f->modifytime = e->now;
	return f;
}

nomad_err nmd_sched_follow_up(struct nmd_eval_ctx *e, const nomad_alloc *a,
			      int64_t when, nomad_error *err)
{
	nomad_eval *f = nmd_sched_followup_eval(e, when, "alloc-failure");
	nomad_alloc *u;
	/* The failed allocation learns which evaluation will replace it. */
	if (!f || !(u = nmd_sched_plan_update(e, a)) ||
	    !nmd_pb_set_string(PA, &u->followupevalid, f->id))
		return nmd_sched_oom(err);
	return NOMAD_OK;
}

Nomad__DesiredUpdates *nmd_sched_desired(struct nmd_eval_ctx *e, size_t tgi)
{
	size_t groups = e->job ? e->job->n_taskgroups : 0;
	if (tgi >= groups)
		return NULL;
	if (!e->desired) {
		if (!(e->desired = nmd_arena_alloc(e->arena,
						   groups * sizeof(*e->desired))))
			return NULL;
		memset(e->desired, 0, groups * sizeof(*e->desired));
	}
	if (!e->desired[tgi])
		e->desired[tgi] = nmd_pb_new(&nomad__desired_updates__descriptor, PA);
	return e->desired[tgi];
}

nomad_err nmd_sched_annotate(struct nmd_eval_ctx *e, nomad_error *err)
{
	Nomad__PlanAnnotations *an;
	if (!e->job || !e->desired)
		return NOMAD_OK;
	if (!(an = e->plan->annotations =
		      nmd_pb_new(&nomad__plan_annotations__descriptor, PA)))
		return nmd_sched_oom(err);
	for (size_t g = 0; g < e->job->n_taskgroups; g++) {
		Nomad__DesiredUpdatesEntry *entry;
		if (!e->desired[g])
			continue;
		if (!(entry = nmd_pb_new(&nomad__desired_updates_entry__descriptor,
					 PA)) ||
		    !nmd_pb_set_string(PA, &entry->key,
				       e->job->taskgroups[g]->name) ||
		    !NMD_PB_APPEND(PA, an->desiredtgupdates,
				   an->n_desiredtgupdates, entry))
			return nmd_sched_oom(err);
		entry->value = e->desired[g];
	}
	return nmd_sched_annotate_preempted(e, an, err);
}
