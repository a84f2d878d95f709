/* SPDX-License-Identifier: MPL-2.0 */
/*
 * simulate: the ops the scheduler calls on this host. The planner ops are
 * the plan applier: each node's placements are committed whole or the
 * node is rejected, as Nomad's plan applier does, and blocked evaluations
 * are kept for the queue. The state ops are the scheduler's read-only
 * window on the cluster cluster.c keeps.
 */
#include <stdio.h>
#include <string.h>

#include "simulate.h"

/* ---- the plan applier ---------------------------------------------- */

/* What an allocation in a plan holds. */
static void held(const nomad_alloc *a, int64_t *cpu, int64_t *mem,
		 int64_t *disk)
{
	const Nomad__AllocatedResources *ar = a->allocatedresources;
	*cpu = *mem = *disk = 0;
	for (size_t t = 0; ar && t < ar->n_tasks; t++) {
		const Nomad__AllocatedTaskResources *tr = ar->tasks[t]->value;
		if (!tr)
			continue;
		*cpu += tr->cpu ? tr->cpu->cpushares : 0;
		*mem += tr->memory ? tr->memory->memorymb : 0;
	}
	if (ar && ar->shared)
		*disk = ar->shared->diskmb;
}

/* The end of a placed allocation: a batch one completes, a service
 * job is stopped, duration_s after it started. */
static void schedule_end(struct run *r, size_t ji, struct sim_alloc *sa)
{
	struct run_job *rj = &r->jobs[ji];
	int64_t end = r->now_ms + rj->spec->duration_ms;
	if (rj->spec->service) {
		if (rj->n_allocs == 1) /* its first placement */
			heap_push(r, end, EV_STOP, ji);
		return;
	}
	sa->end_ms = end;
	if (rj->last_end_ms != end) /* one event per instant is enough */
		heap_push(r, end, EV_COMPLETE, ji);
	rj->last_end_ms = end;
}

/* The host's copy of a placement: what job_allocs and node_usage hand
 * the scheduler from now on. Strings are borrowed from the job and the
 * node, which outlive it. */
static struct sim_alloc *alloc_new(const struct run *r, struct run_job *rj,
				   size_t g, struct node *n,
				   const nomad_alloc *item)
{
	struct sim_alloc *sa = xcalloc(1, sizeof(*sa));
	int64_t cpu, mem, disk;
	held(item, &cpu, &mem, &disk);
	snprintf(sa->id, sizeof(sa->id), "%s", item->id);
	nomad__allocation__init(&sa->a);
	sa->a.id = sa->id;
	sa->a.namespace_ = rj->job->namespace_;
	sa->a.name = xstrdup(item->name ? item->name : "");
	sa->a.nodeid = n->id;
	sa->a.nodename = n->name;
	sa->a.jobid = rj->job->id;
	sa->a.taskgroup = rj->job->taskgroups[g]->name;
	sa->a.allocatedresources = &rj->res[g].ar;
	sa->a.has_desiredstatus = sa->a.has_clientstatus = 1;
	sa->a.desiredstatus = NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run;
	sa->a.clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__running;
	sa->a.has_jobversion = sa->a.has_createindex = sa->a.has_createtime = 1;
	sa->a.jobversion = item->jobversion;
	sa->a.createindex = r->index;
	sa->a.createtime = EPOCH_NS + r->now_ms * 1000000;
	sa->u = (nomad_sched_usage){
		.alloc_id = sa->id, .ns = sa->a.namespace_, .job_id = sa->a.jobid,
		.task_group = sa->a.taskgroup, .job_priority = rj->job->priority,
		.cpu_mhz = cpu, .memory_mb = mem, .disk_mb = disk,
		.create_index = r->index, .job_type = rj->job->type};
	sa->group = g;
	return sa;
}

static void place_alloc(struct run *r, struct node *n, const nomad_alloc *item)
{
	struct run_job *rj;
	struct sim_alloc *sa;
	uintptr_t ji;
	size_t g;
	if (!item->id || strlen(item->id) > NOMAD_UUID_LEN ||
	    !map_get(&r->job_ids, item->jobid, &ji) ||
	    r->jobs[ji].state != JOB_ACTIVE ||
	    (g = group_index(&r->jobs[ji], item->taskgroup)) == NONE) {
		r->c.anomalies++;
		return;
	}
	rj = &r->jobs[ji];
	sa = alloc_new(r, rj, g, n, item);
	sa->job = ji;
	node_add(r, n, sa);
	rj->live++;
	GROW(rj->allocs, rj->n_allocs, rj->cap_allocs);
	rj->allocs[rj->n_allocs++] = &sa->a;
	map_put(&r->alloc_ids, sa->id, (uintptr_t)sa);
	r->c.placed++;
	if (rj->placed[g]++ < rj->spec->groups[g].count) {
		rj->unplaced--;
		r->queued_allocs--;
		if (!rj->unplaced) {
			rj->all_placed = true;
			rj->placed_all_ms = r->now_ms;
		}
	} else {
		r->c.anomalies++; /* more than the group's count */
	}
	schedule_end(r, ji, sa);
}

static void stop_alloc(struct run *r, const nomad_alloc *item)
{
	struct sim_alloc *sa;
	uintptr_t p;
	if (!item->id || !map_get(&r->alloc_ids, item->id, &p)) {
		r->c.anomalies++;
		return;
	}
	sa = (struct sim_alloc *)p;
	sa->a.desiredstatus = NOMAD__ALLOCATION__DESIRED_STATUS_KIND__stop;
	if (sa->live) {
		/* The client would stop it and report it complete. */
		sa->a.clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__complete;
		node_release(r, sa);
	}
}

static void reject_node(struct run *r, char *id)
{
	GROW(r->rejected, r->n_rejected, r->cap_rejected);
	r->rejected[r->n_rejected++] = id;
	r->c.rejected++;
}

/* One node's placements, whole or not at all, as Nomad's plan applier:
 * the node must still hold them with what it already runs. */
static void commit_node(struct run *r, Nomad__AllocationListEntry *e)
{
	struct node *n = node_find(r, e->key);
	int64_t cpu = 0, mem = 0;
	uintptr_t ignored;
	if (!n) {
		reject_node(r, e->key ? e->key : (char *)"");
		return;
	}
	for (size_t k = 0; e->value && k < e->value->n_items; k++) {
		const nomad_alloc *a = e->value->items[k];
		int64_t c, m, d;
		if (a->id && map_get(&r->alloc_ids, a->id, &ignored))
			continue; /* an update of one it runs already */
		held(a, &c, &m, &d);
		cpu += c;
		mem += m;
	}
	if (n->used_cpu + cpu > n->view.cpu_mhz ||
	    n->used_mem + mem > n->view.memory_mb) {
		reject_node(r, n->id);
		return;
	}
	for (size_t k = 0; e->value && k < e->value->n_items; k++) {
		const nomad_alloc *a = e->value->items[k];
		if (!a->id || !map_get(&r->alloc_ids, a->id, &ignored))
			place_alloc(r, n, a);
	}
	GROW(r->committed, r->n_committed, r->cap_committed);
	r->committed[r->n_committed++] = e;
}

static nomad_err op_submit_plan(void *ud, const nomad_plan *plan,
				const nomad_plan_result **out)
{
	struct run *r = ud;
	r->index++;
	r->n_rejected = r->n_committed = 0;
	/* Stops first: they make room for the placements. */
	for (size_t i = 0; i < plan->n_nodeupdate; i++)
		for (size_t k = 0; plan->nodeupdate[i]->value &&
				   k < plan->nodeupdate[i]->value->n_items; k++)
			stop_alloc(r, plan->nodeupdate[i]->value->items[k]);
	for (size_t i = 0; i < plan->n_nodepreemptions; i++)
		for (size_t k = 0; plan->nodepreemptions[i]->value &&
				   k < plan->nodepreemptions[i]->value->n_items; k++)
			stop_alloc(r, plan->nodepreemptions[i]->value->items[k]);
	for (size_t i = 0; i < plan->n_nodeallocation; i++)
		commit_node(r, plan->nodeallocation[i]);
	if (!r->n_rejected) {
		*out = NULL; /* all of it was committed */
		return NOMAD_OK;
	}
	nomad__plan_result__init(&r->result);
	r->result.nodeupdate = plan->nodeupdate;
	r->result.n_nodeupdate = plan->n_nodeupdate;
	r->result.nodeallocation = r->committed;
	r->result.n_nodeallocation = r->n_committed;
	r->result.rejectednodes = r->rejected;
	r->result.n_rejectednodes = r->n_rejected;
	r->result.has_refreshindex = 1;
	r->result.refreshindex = r->index;
	*out = &r->result;
	return NOMAD_OK;
}

/* A blocked evaluation, new or back to waiting: the job keeps it to be
 * evaluated again when room frees up. It is swapped in once the call
 * that made it returns, as that call may still be reading the old one. */
static nomad_err keep_blocked(struct run *r, const nomad_eval *ev)
{
	uintptr_t ji;
	nomad_eval *copy = NULL;
	if (!ev->jobid || !map_get(&r->job_ids, ev->jobid, &ji)) {
		r->c.anomalies++;
		return NOMAD_OK;
	}
	if (nomad_eval_copy(&copy, ev) != NOMAD_OK)
		return NOMAD_ENOMEM;
	nomad_eval_free(r->jobs[ji].next_blocked);
	r->jobs[ji].next_blocked = copy;
	return NOMAD_OK;
}

static nomad_err op_update_eval(void *ud, const nomad_eval *ev)
{
	(void)ud, (void)ev; /* the outcome is read off the cluster instead */
	return NOMAD_OK;
}

static nomad_err op_create_eval(void *ud, const nomad_eval *ev)
{
	struct run *r = ud;
	if (ev->has_status &&
	    ev->status == NOMAD__EVALUATION__STATUS_KIND__blocked)
		return keep_blocked(r, ev);
	r->c.anomalies++; /* a follow-up: nothing here fails to reschedule */
	return NOMAD_OK;
}

static nomad_err op_reblock_eval(void *ud, const nomad_eval *ev)
{
	return keep_blocked(ud, ev);
}

/* ---- the state ops: the scheduler's window on the cluster ----------- */

static nomad_err op_begin(void *ud, uint64_t *index)
{
	*index = ((struct run *)ud)->index;
	return NOMAD_OK;
}

static nomad_err op_nodes(void *ud, const nomad_sched_node *const **out,
			  size_t *n)
{
	struct run *r = ud;
	*out = r->views;
	*n = r->n_nodes;
	return NOMAD_OK;
}

static nomad_err op_node_usage(void *ud, const char *node_id,
			       const nomad_sched_usage *const **out, size_t *n)
{
	struct node *node = node_find(ud, node_id);
	*out = node ? (const nomad_sched_usage *const *)node->usage : NULL;
	*n = node ? node->n_usage : 0;
	return NOMAD_OK;
}

static nomad_err op_job_allocs(void *ud, const char *ns, const char *job_id,
			       const nomad_alloc *const **out, size_t *n)
{
	struct run *r = ud;
	uintptr_t ji;
	(void)ns; /* one namespace */
	*out = NULL;
	*n = 0;
	if (map_get(&r->job_ids, job_id, &ji)) {
		*out = (const nomad_alloc *const *)r->jobs[ji].allocs;
		*n = r->jobs[ji].n_allocs;
	}
	return NOMAD_OK;
}

static nomad_err op_job(void *ud, const char *ns, const char *job_id,
			const nomad_job **out)
{
	struct run *r = ud;
	uintptr_t ji;
	(void)ns;
	*out = map_get(&r->job_ids, job_id, &ji) ? r->jobs[ji].job : NULL;
	return NOMAD_OK;
}

static nomad_err op_deployment(void *ud, const char *ns, const char *job_id,
			       const nomad_deployment **out)
{
	(void)ud, (void)ns, (void)job_id;
	*out = NULL;
	return NOMAD_OK;
}

static nomad_err op_config(void *ud, const nomad_scheduler_config **out)
{
	*out = ((struct run *)ud)->config;
	return NOMAD_OK;
}

const nomad_sched_state_ops state_ops = {
	.version = NOMAD_SCHED_STATE_OPS_VERSION, .begin = op_begin,
	.nodes = op_nodes, .node_usage = op_node_usage,
	.job_allocs = op_job_allocs, .job = op_job,
	.latest_deployment = op_deployment, .config = op_config};

const nomad_sched_planner_ops planner_ops = {
	.version = NOMAD_SCHED_PLANNER_OPS_VERSION,
	.submit_plan = op_submit_plan, .update_eval = op_update_eval,
	.create_eval = op_create_eval, .reblock_eval = op_reblock_eval};
