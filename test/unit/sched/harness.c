/* SPDX-License-Identifier: MPL-2.0 */
/* The scheduler's scenario harness (see harness.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "structs/pb.h"
#include "harness.h"

struct th_node_usage {
	nomad_sched_usage *items;
	const nomad_sched_usage **ptrs;
	uint16_t *ports;
	size_t n;
};

struct th_usage_set {
	struct th_node_usage *per_node;
	size_t n;
};

static void *grow(void *p, size_t n, size_t size)
{
	void *q = realloc(p, (n + 1) * size);
	CHECK(q != NULL);
	return q;
}

struct th_cluster *th_new(void)
{
	struct th_cluster *c = calloc(1, sizeof(*c));
	CHECK(c != NULL);
	c->index = 1;
	return c;
}

static void usage_free(struct th_cluster *c)
{
	if (!c->usage)
		return;
	for (size_t i = 0; i < c->usage->n; i++) {
		for (size_t k = 0; k < c->usage->per_node[i].n; k++)
			free((void *)c->usage->per_node[i].items[k].device_ids);
		free(c->usage->per_node[i].items);
		free(c->usage->per_node[i].ptrs);
		free(c->usage->per_node[i].ports);
	}
	free(c->usage->per_node);
	free(c->usage);
	c->usage = NULL;
}

static void free_evals(nomad_eval **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		nomad_eval_free(v[i]);
	free(v);
}

void th_free(struct th_cluster *c)
{
	usage_free(c);
	for (size_t i = 0; i < c->n_nodes; i++)
		nomad_node_free(c->nodes[i]);
	for (size_t i = 0; i < c->n_jobs; i++)
		nomad_job_free(c->jobs[i]);
	for (size_t i = 0; i < c->n_allocs; i++)
		nomad_alloc_free(c->allocs[i]);
	for (size_t i = 0; i < c->n_plans; i++)
		nomad_plan_free(c->plans[i]);
	nomad_plan_result_free(c->result);
	if (c->config)
		nomad_msg_free(&c->config->base, NULL);
	free_evals(c->created, c->n_created);
	free_evals(c->updated, c->n_updated);
	free_evals(c->reblocked, c->n_reblocked);
	for (size_t i = 0; i < c->n_deployments; i++)
		nomad_msg_free(&c->deployments[i]->base, NULL);
	free(c->deployments);
	free(c->nodes);
	free(c->snodes);
	free(c->snode_ptrs);
	free(c->jobs);
	free(c->allocs);
	free(c->plans);
	free(c->job_view);
	free(c);
}

void th_set_attr(nomad_node *n, const char *key, const char *value)
{
	CHECK(nmd_map_set(NULL, &n->attributes, &n->n_attributes, key, value));
}

/* The computed class: dc, pool, class and every attribute and meta key
 * but unique.* ones. */
static void compute_class(nomad_node *n)
{
	uint64_t h = 1469598103934665603ULL;
	char text[32];
	const char *parts[3] = {n->datacenter, n->nodepool, n->nodeclass};
	for (int i = 0; i < 3; i++)
		for (const char *p = parts[i] ? parts[i] : ""; ; p++) {
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
			if (!*p)
				break;
		}
	for (size_t i = 0; i < n->n_attributes; i++) {
		const char *k = n->attributes[i]->key, *v = n->attributes[i]->value;
		if (!strncmp(k, "unique.", 7))
			continue;
		for (const char *p = k; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		for (const char *p = v ? v : ""; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	}
	for (size_t i = 0; i < n->n_meta; i++) {
		const char *k = n->meta[i]->key, *v = n->meta[i]->value;
		if (!strncmp(k, "unique.", 7))
			continue;
		for (const char *p = k; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
		for (const char *p = v ? v : ""; *p; p++)
			h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	}
	snprintf(text, sizeof(text), "v1:%llu", (unsigned long long)h);
	CHECK(nmd_pb_set_string(NULL, &n->computedclass, text));
}

static void fill_snode(nomad_sched_node *s, nomad_node *n)
{
	const Nomad__NodeResources *r = n->noderesources;
	s->node = n;
	s->id = n->id;
	s->name = n->name;
	s->datacenter = n->datacenter;
	s->node_pool = n->nodepool ? n->nodepool : "default";
	s->node_class = n->nodeclass ? n->nodeclass : "";
	s->computed_class = n->computedclass;
	s->status = n->has_status ? (int)n->status : 0;
	s->eligible = !n->has_schedulingeligibility ||
		      n->schedulingeligibility ==
			      NOMAD__NODE__ELIGIBILITY_KIND__eligible;
	s->draining = n->drainstrategy != NULL;
	s->cpu_mhz = r && r->cpu ? r->cpu->cpushares : 0;
	s->memory_mb = r && r->memory ? r->memory->memorymb : 0;
	s->disk_mb = r && r->disk ? r->disk->diskmb : 0;
	s->modify_index = n->modifyindex;
}

static void refresh_snodes(struct th_cluster *c)
{
	for (size_t i = 0; i < c->n_nodes; i++) {
		fill_snode(&c->snodes[i], c->nodes[i]);
		c->snode_ptrs[i] = &c->snodes[i];
	}
}

nomad_node *th_add_node(struct th_cluster *c, const char *name,
			const char *dc, int cpu, int mem, int disk)
{
	nomad_node *n = nomad_node_new();
	char id[NOMAD_UUID_LEN + 1];
	snprintf(id, sizeof(id), "%08zx-0000-4000-8000-%012zx", c->n_nodes + 1,
		 c->n_nodes + 1);
	CHECK(nmd_pb_set_string(NULL, &n->id, id));
	CHECK(nmd_pb_set_string(NULL, &n->name, name));
	CHECK(nmd_pb_set_string(NULL, &n->datacenter, dc));
	CHECK(nmd_pb_set_string(NULL, &n->nodepool, "default"));
	n->has_status = n->has_schedulingeligibility = 1;
	n->status = NOMAD__NODE__STATUS_KIND__ready;
	n->schedulingeligibility = NOMAD__NODE__ELIGIBILITY_KIND__eligible;
	n->noderesources = nmd_pb_new(&nomad__node_resources__descriptor, NULL);
	n->noderesources->cpu = nmd_pb_new(&nomad__node_cpu_resources__descriptor, NULL);
	n->noderesources->memory = nmd_pb_new(&nomad__node_memory_resources__descriptor, NULL);
	n->noderesources->disk = nmd_pb_new(&nomad__node_disk_resources__descriptor, NULL);
	n->noderesources->cpu->has_cpushares = 1;
	n->noderesources->cpu->cpushares = cpu;
	n->noderesources->memory->has_memorymb = 1;
	n->noderesources->memory->memorymb = mem;
	n->noderesources->disk->has_diskmb = 1;
	n->noderesources->disk->diskmb = disk;
	th_set_attr(n, "kernel.name", "linux");
	th_set_attr(n, "driver.docker", "1");
	th_set_attr(n, "driver.exec", "1");
	th_set_attr(n, "unique.hostname", name);
	compute_class(n);
	c->nodes = grow(c->nodes, c->n_nodes, sizeof(*c->nodes));
	c->snodes = grow(c->snodes, c->n_nodes, sizeof(*c->snodes));
	c->snode_ptrs = grow(c->snode_ptrs, c->n_nodes, sizeof(*c->snode_ptrs));
	c->nodes[c->n_nodes++] = n;
	refresh_snodes(c);
	return n;
}

void th_node_changed(struct th_cluster *c, nomad_node *n)
{
	compute_class(n);
	refresh_snodes(c);
}

nomad_job *th_job(const char *id, int count, int cpu, int mem)
{
	nomad_job *j = nomad_job_new();
	nomad_task_group *tg = nmd_pb_new(&nomad__task_group__descriptor, NULL);
	nomad_task *t = nmd_pb_new(&nomad__task__descriptor, NULL);
	char *dc = NULL;
	CHECK(nmd_pb_set_string(NULL, &j->id, id));
	CHECK(nmd_pb_set_string(NULL, &j->name, id));
	CHECK(nmd_pb_set_string(NULL, &j->namespace_, "default"));
	CHECK(nmd_pb_set_string(NULL, &dc, "dc1"));
	CHECK(NMD_PB_APPEND(NULL, j->datacenters, j->n_datacenters, dc));
	j->has_type = j->has_priority = j->has_version = 1;
	j->type = NOMAD__JOB_TYPE__service;
	j->priority = 50;
	CHECK(nmd_pb_set_string(NULL, &tg->name, "web"));
	tg->has_count = 1;
	tg->count = count;
	tg->ephemeraldisk = nmd_pb_new(&nomad__ephemeral_disk__descriptor, NULL);
	tg->ephemeraldisk->has_sizemb = 1;
	tg->ephemeraldisk->sizemb = 150;
	CHECK(nmd_pb_set_string(NULL, &t->name, "server"));
	CHECK(nmd_pb_set_string(NULL, &t->driver, "docker"));
	t->resources = nmd_pb_new(&nomad__resources__descriptor, NULL);
	t->resources->has_cpu = t->resources->has_memorymb = 1;
	t->resources->cpu = cpu;
	t->resources->memorymb = mem;
	CHECK(NMD_PB_APPEND(NULL, tg->tasks, tg->n_tasks, t));
	CHECK(NMD_PB_APPEND(NULL, j->taskgroups, j->n_taskgroups, tg));
	return j;
}

void th_register(struct th_cluster *c, nomad_job *job)
{
	c->index++;
	job->has_jobmodifyindex = job->has_modifyindex = 1;
	job->jobmodifyindex = job->modifyindex = c->index;
	for (size_t i = 0; i < c->n_jobs; i++)
		if (!strcmp(c->jobs[i]->id, job->id)) {
			job->has_version = 1;
			job->version = c->jobs[i]->version + 1;
			nomad_job_free(c->jobs[i]);
			c->jobs[i] = job;
			return;
		}
	c->jobs = grow(c->jobs, c->n_jobs, sizeof(*c->jobs));
	c->jobs[c->n_jobs++] = job;
}

const nomad_job *th_find_job(struct th_cluster *c, const char *id)
{
	for (size_t i = 0; i < c->n_jobs; i++)
		if (!strcmp(c->jobs[i]->id, id))
			return c->jobs[i];
	return NULL;
}

/* ---- the state ops ---------------------------------------------------- */

static bool alloc_live(const nomad_alloc *a)
{
	return a->desiredstatus == NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run &&
	       a->clientstatus != NOMAD__ALLOCATION__CLIENT_STATUS_KIND__complete &&
	       a->clientstatus != NOMAD__ALLOCATION__CLIENT_STATUS_KIND__failed &&
	       a->clientstatus != NOMAD__ALLOCATION__CLIENT_STATUS_KIND__lost;
}

/* The device instances an allocation holds, borrowed from it. */
static void usage_devices(const Nomad__AllocatedResources *ar,
			  nomad_sched_usage *u)
{
	const char **ids = NULL;
	size_t n = 0;
	for (size_t t = 0; t < ar->n_tasks; t++) {
		const Nomad__AllocatedTaskResources *tr = ar->tasks[t]->value;
		for (size_t d = 0; tr && d < tr->n_devices; d++)
			for (size_t k = 0; k < tr->devices[d]->n_deviceids; k++) {
				ids = grow(ids, n, sizeof(*ids));
				ids[n++] = tr->devices[d]->deviceids[k];
			}
	}
	u->device_ids = ids;
	u->n_device_ids = n;
}

static void usage_of(struct th_cluster *c, const nomad_alloc *a,
		     nomad_sched_usage *u, struct th_node_usage *nu)
{
	const Nomad__AllocatedResources *ar = a->allocatedresources;
	const nomad_job *j = th_find_job(c, a->jobid);
	memset(u, 0, sizeof(*u));
	u->alloc_id = a->id;
	u->ns = a->namespace_;
	u->job_id = a->jobid;
	u->task_group = a->taskgroup;
	u->job_priority = j && j->has_priority ? j->priority : 50;
	u->create_index = a->createindex;
	u->job_type = j && j->has_type ? (int)j->type : 0;
	for (size_t g = 0; j && g < j->n_taskgroups; g++)
		if (!strcmp(j->taskgroups[g]->name, a->taskgroup) &&
		    j->taskgroups[g]->migrate &&
		    j->taskgroups[g]->migrate->has_maxparallel)
			u->migrate_max_parallel = j->taskgroups[g]->migrate->maxparallel;
	(void)nu;
	if (!ar)
		return;
	usage_devices(ar, u);
	for (size_t t = 0; t < ar->n_tasks; t++) {
		u->cpu_mhz += ar->tasks[t]->value->cpu->cpushares;
		u->memory_mb += ar->tasks[t]->value->memory->memorymb;
	}
	if (ar->shared)
		u->disk_mb = ar->shared->diskmb;
}

enum { OP_NODES, OP_JOB_ALLOCS, OP_JOB, OP_DEPLOYMENT, OP_CONFIG };

/* One more call of op `op` since begin(): at most one is promised. */
static void once(struct th_cluster *c, int op)
{
	if (++c->calls[op] > 1)
		nmd_test_fail(__FILE__, __LINE__,
			      "state op %d called twice between begins", op);
}

static nomad_err op_begin(void *ud, uint64_t *index)
{
	struct th_cluster *c = ud;
	memset(c->calls, 0, sizeof(c->calls));
	usage_free(c);
	c->usage = calloc(1, sizeof(*c->usage));
	c->usage->n = c->n_nodes;
	c->usage->per_node = calloc(c->n_nodes + 1, sizeof(*c->usage->per_node));
	for (size_t i = 0; i < c->n_allocs; i++) {
		const nomad_alloc *a = c->allocs[i];
		for (size_t k = 0; k < c->n_nodes; k++) {
			struct th_node_usage *nu = &c->usage->per_node[k];
			if (strcmp(c->nodes[k]->id, a->nodeid) || !alloc_live(a))
				continue;
			nu->items = grow(nu->items, nu->n, sizeof(*nu->items));
			usage_of(c, a, &nu->items[nu->n], nu);
			nu->n++;
		}
	}
	for (size_t k = 0; k < c->n_nodes; k++) {
		struct th_node_usage *nu = &c->usage->per_node[k];
		size_t total = 0, at = 0;
		nu->ptrs = calloc(nu->n + 1, sizeof(*nu->ptrs));
		for (size_t i = 0; i < c->n_allocs; i++)
			if (!strcmp(c->nodes[k]->id, c->allocs[i]->nodeid) &&
			    alloc_live(c->allocs[i]) &&
			    c->allocs[i]->allocatedresources &&
			    c->allocs[i]->allocatedresources->shared)
				total += c->allocs[i]->allocatedresources->shared->n_ports;
		nu->ports = calloc(total + 1, sizeof(*nu->ports));
		for (size_t i = 0, u = 0; i < c->n_allocs; i++) {
			const nomad_alloc *a = c->allocs[i];
			if (strcmp(c->nodes[k]->id, a->nodeid) || !alloc_live(a))
				continue;
			nu->items[u].ports = nu->ports + at;
			if (a->allocatedresources && a->allocatedresources->shared) {
				const Nomad__AllocatedSharedResources *sh =
					a->allocatedresources->shared;
				for (size_t p = 0; p < sh->n_ports; p++)
					nu->ports[at++] = (uint16_t)sh->ports[p]->value;
				nu->items[u].n_ports = sh->n_ports;
			}
			nu->ptrs[u] = &nu->items[u];
			u++;
		}
	}
	refresh_snodes(c);
	*index = c->index;
	return NOMAD_OK;
}

static nomad_err op_nodes(void *ud, const nomad_sched_node *const **out,
			  size_t *n)
{
	struct th_cluster *c = ud;
	once(c, OP_NODES);
	*out = c->snode_ptrs;
	*n = c->n_nodes;
	return NOMAD_OK;
}

static nomad_err op_node_usage(void *ud, const char *node_id,
			       const nomad_sched_usage *const **out, size_t *n)
{
	struct th_cluster *c = ud;
	*out = NULL;
	*n = 0;
	for (size_t k = 0; k < c->n_nodes; k++)
		if (!strcmp(c->nodes[k]->id, node_id)) {
			*out = c->usage->per_node[k].ptrs;
			*n = c->usage->per_node[k].n;
		}
	return NOMAD_OK;
}

static nomad_err op_job_allocs(void *ud, const char *ns, const char *job_id,
			       const nomad_alloc *const **out, size_t *n)
{
	struct th_cluster *c = ud;
	once(c, OP_JOB_ALLOCS);
	(void)ns;
	free(c->job_view);
	c->job_view = calloc(c->n_allocs + 1, sizeof(*c->job_view));
	c->n_job_view = 0;
	for (size_t i = 0; i < c->n_allocs; i++)
		if (!strcmp(c->allocs[i]->jobid, job_id))
			c->job_view[c->n_job_view++] = c->allocs[i];
	*out = c->job_view;
	*n = c->n_job_view;
	return NOMAD_OK;
}

static nomad_err op_job(void *ud, const char *ns, const char *job_id,
			const nomad_job **out)
{
	(void)ns;
	once(ud, OP_JOB);
	*out = th_find_job(ud, job_id);
	return NOMAD_OK;
}

static nomad_err op_latest_deployment(void *ud, const char *ns,
				      const char *job_id,
				      const nomad_deployment **out)
{
	(void)ns;
	once(ud, OP_DEPLOYMENT);
	*out = th_deployment(ud, job_id);
	return NOMAD_OK;
}

static nomad_err op_config(void *ud, const nomad_scheduler_config **out)
{
	once(ud, OP_CONFIG);
	*out = ((struct th_cluster *)ud)->config;
	return NOMAD_OK;
}

/* ---- the planner ------------------------------------------------------- */

static nomad_alloc *find_alloc(struct th_cluster *c, const char *id)
{
	for (size_t i = 0; i < c->n_allocs; i++)
		if (!strcmp(c->allocs[i]->id, id))
			return c->allocs[i];
	return NULL;
}

static void append_list(Nomad__AllocationListEntry ***map, size_t *n,
			const Nomad__AllocationListEntry *e)
{
	Nomad__AllocationListEntry *copy = NULL;
	CHECK_OK(nomad_msg_copy((ProtobufCMessage **)&copy, &e->base, NULL));
	CHECK(NMD_PB_APPEND(NULL, *map, *n, copy));
}

static nomad_deployment *deployment_by_id(struct th_cluster *c, const char *id)
{
	for (size_t i = 0; id && i < c->n_deployments; i++)
		if (!strcmp(c->deployments[i]->id, id))
			return c->deployments[i];
	return NULL;
}

static Nomad__DeploymentState *deployment_group(nomad_deployment *d,
						const char *group)
{
	for (size_t i = 0; d && i < d->n_taskgroups; i++)
		if (!strcmp(d->taskgroups[i]->key, group))
			return d->taskgroups[i]->value;
	return NULL;
}

/* What the state store does with a plan's deployment parts: keep a new
 * deployment, apply status updates, and count placements and canaries. */
static void commit_deployments(struct th_cluster *c, const nomad_plan *plan)
{
	if (plan->deployment) {
		nomad_deployment *copy = NULL;
		CHECK(deployment_by_id(c, plan->deployment->id) == NULL);
		CHECK_OK(nomad_msg_copy((ProtobufCMessage **)&copy,
					&plan->deployment->base, NULL));
		copy->has_createindex = copy->has_modifyindex = 1;
		copy->createindex = copy->modifyindex = c->index;
		c->deployments = grow(c->deployments, c->n_deployments,
				      sizeof(*c->deployments));
		c->deployments[c->n_deployments++] = copy;
	}
	for (size_t i = 0; i < plan->n_deploymentupdates; i++) {
		const Nomad__DeploymentStatusUpdate *u = plan->deploymentupdates[i];
		nomad_deployment *d = deployment_by_id(c, u->deploymentid);
		CHECK(d != NULL);
		d->has_status = 1;
		d->status = u->status;
		CHECK(nmd_pb_set_string(NULL, &d->statusdescription,
					u->statusdescription));
	}
	for (size_t i = 0; i < plan->n_nodeallocation; i++) {
		const Nomad__AllocationListEntry *e = plan->nodeallocation[i];
		if (c->reject_node && !strcmp(e->key, c->reject_node))
			continue;
		for (size_t k = 0; k < e->value->n_items; k++) {
			const nomad_alloc *a = e->value->items[k];
			nomad_deployment *d = deployment_by_id(c, a->deploymentid);
			Nomad__DeploymentState *st =
				deployment_group(d, a->taskgroup);
			bool known = false;
			if (!st || find_alloc(c, a->id))
				continue; /* an update, not a placement */
			st->has_placedallocs = 1;
			st->placedallocs++;
			if (!a->deploymentstatus || !a->deploymentstatus->canary)
				continue;
			for (size_t x = 0; x < st->n_placedcanaries && !known; x++)
				known = !strcmp(st->placedcanaries[x], a->id);
			if (!known) {
				char *id = NULL;
				CHECK(nmd_pb_set_string(NULL, &id, a->id));
				CHECK(NMD_PB_APPEND(NULL, st->placedcanaries,
						    st->n_placedcanaries, id));
			}
		}
	}
}

/* What the plan stops (NodeUpdate) or evicts (NodePreemptions), as the
 * state store's plan apply writes it; the result lists what was kept. */
static void commit_stops(struct th_cluster *c,
			 Nomad__AllocationListEntry *const *lists, size_t n,
			 Nomad__AllocationListEntry ***kept, size_t *n_kept)
{
	for (size_t i = 0; i < n; i++) {
		const Nomad__AllocationListEntry *e = lists[i];
		if (c->reject_node && !strcmp(e->key, c->reject_node))
			continue;
		append_list(kept, n_kept, e);
		for (size_t k = 0; k < e->value->n_items; k++) {
			const nomad_alloc *u = e->value->items[k];
			nomad_alloc *a = find_alloc(c, u->id);
			CHECK(a != NULL);
			a->has_desiredstatus = 1;
			a->desiredstatus = u->desiredstatus;
			if (u->has_clientstatus)
				a->clientstatus = u->clientstatus;
			CHECK(nmd_pb_set_string(NULL, &a->desireddescription,
						u->desireddescription));
			CHECK(nmd_pb_set_string(NULL, &a->preemptedbyallocation,
						u->preemptedbyallocation));
			CHECK(nmd_pb_set_string(NULL, &a->followupevalid,
						u->followupevalid));
			a->modifyindex = c->index;
		}
	}
}

static nomad_err op_submit_plan(void *ud, const nomad_plan *plan,
				const nomad_plan_result **result)
{
	struct th_cluster *c = ud;
	nomad_plan *copy = NULL;
	nomad_plan_result *r = nomad_plan_result_new();
	CHECK_OK(nomad_plan_copy(&copy, plan));
	c->plans = grow(c->plans, c->n_plans, sizeof(*c->plans));
	c->plans[c->n_plans++] = copy;
	c->index++;
	commit_deployments(c, plan);
	commit_stops(c, plan->nodeupdate, plan->n_nodeupdate, &r->nodeupdate,
		     &r->n_nodeupdate);
	for (size_t i = 0; i < plan->n_nodeallocation; i++) {
		const Nomad__AllocationListEntry *e = plan->nodeallocation[i];
		if (c->reject_node && !strcmp(e->key, c->reject_node)) {
			char *id = NULL;
			CHECK(nmd_pb_set_string(NULL, &id, e->key));
			CHECK(NMD_PB_APPEND(NULL, r->rejectednodes,
					    r->n_rejectednodes, id));
			continue;
		}
		append_list(&r->nodeallocation, &r->n_nodeallocation, e);
		for (size_t k = 0; k < e->value->n_items; k++) {
			const nomad_alloc *p = e->value->items[k];
			nomad_alloc *a = find_alloc(c, p->id), *n = NULL;
			CHECK_OK(nomad_alloc_copy(&n, p));
			nomad_job_free(n->job);
			CHECK_OK(nomad_job_copy(&n->job, plan->job));
			n->has_modifyindex = n->has_createindex = 1;
			n->modifyindex = c->index;
			n->createindex = a ? a->createindex : c->index;
			if (a) {
				for (size_t x = 0; x < c->n_allocs; x++)
					if (c->allocs[x] == a)
						c->allocs[x] = n;
				nomad_alloc_free(a);
			} else {
				nomad_alloc *prev = n->previousallocation
							    ? find_alloc(c, n->previousallocation)
							    : NULL;
				/* The state store links a replacement back. */
				if (prev)
					CHECK(nmd_pb_set_string(NULL,
								&prev->nextallocation,
								n->id));
				c->allocs = grow(c->allocs, c->n_allocs,
						 sizeof(*c->allocs));
				c->allocs[c->n_allocs++] = n;
			}
		}
	}
	commit_stops(c, plan->nodepreemptions, plan->n_nodepreemptions,
		     &r->nodepreemptions, &r->n_nodepreemptions);
	if (r->n_rejectednodes) {
		r->has_refreshindex = 1;
		r->refreshindex = c->index;
	}
	nomad_plan_result_free(c->result);
	c->result = r;
	*result = r;
	return NOMAD_OK;
}

static void keep_eval(nomad_eval ***v, size_t *n, const nomad_eval *e)
{
	nomad_eval *copy = NULL;
	CHECK_OK(nomad_eval_copy(&copy, e));
	*v = grow(*v, *n, sizeof(**v));
	(*v)[(*n)++] = copy;
}

static nomad_err op_update_eval(void *ud, const nomad_eval *e)
{
	struct th_cluster *c = ud;
	keep_eval(&c->updated, &c->n_updated, e);
	return NOMAD_OK;
}

static nomad_err op_create_eval(void *ud, const nomad_eval *e)
{
	struct th_cluster *c = ud;
	keep_eval(&c->created, &c->n_created, e);
	return NOMAD_OK;
}

static nomad_err op_reblock_eval(void *ud, const nomad_eval *e)
{
	struct th_cluster *c = ud;
	keep_eval(&c->reblocked, &c->n_reblocked, e);
	return NOMAD_OK;
}

static const nomad_sched_state_ops state_ops = {
	NOMAD_SCHED_STATE_OPS_VERSION, op_begin, op_nodes, op_node_usage,
	op_job_allocs, op_job, op_latest_deployment, op_config};
static const nomad_sched_planner_ops planner_ops = {
	NOMAD_SCHED_PLANNER_OPS_VERSION, op_submit_plan, op_update_eval,
	op_create_eval, op_reblock_eval};

nomad_eval *th_eval(struct th_cluster *c, const char *job_id)
{
	const nomad_job *j = th_find_job(c, job_id);
	nomad_eval *e = nomad_eval_new();
	char id[NOMAD_UUID_LEN + 1];
	snprintf(id, sizeof(id), "eeeeeeee-0000-4000-8000-%012llx",
		 (unsigned long long)c->index);
	CHECK(nmd_pb_set_string(NULL, &e->id, id));
	CHECK(nmd_pb_set_string(NULL, &e->namespace_, "default"));
	CHECK(nmd_pb_set_string(NULL, &e->jobid, job_id));
	CHECK(nmd_pb_set_string(NULL, &e->triggeredby, "job-register"));
	e->has_type = e->has_priority = e->has_status = 1;
	e->type = j && j->has_type ? j->type : NOMAD__JOB_TYPE__service;
	e->priority = j && j->has_priority ? j->priority : 50;
	e->status = NOMAD__EVALUATION__STATUS_KIND__pending;
	return e;
}

nomad_err th_run_eval(struct th_cluster *c, const nomad_eval *eval,
		      uint64_t seed, nomad_error *err)
{
	nomad_sched_config cfg = NOMAD_SCHED_CONFIG_INIT;
	nomad_sched_input in = {eval, c->now ? c->now : TH_NOW, seed};
	nomad_sched *s;
	nomad_err rc;
	cfg.state = &state_ops;
	cfg.state_userdata = c;
	cfg.planner = &planner_ops;
	cfg.planner_userdata = c;
	CHECK_OK(nomad_sched_new(&s, &cfg, NULL));
	rc = nomad_sched_process(s, &in, err);
	nomad_sched_free(s);
	return rc;
}

nomad_err th_run(struct th_cluster *c, const char *job_id, uint64_t seed,
		 nomad_error *err)
{
	nomad_eval *e = th_eval(c, job_id);
	nomad_err rc = th_run_eval(c, e, seed, err);
	nomad_eval_free(e);
	return rc;
}

void th_run_ok_at(struct th_cluster *c, const char *job_id, uint64_t seed,
		  const char *file, int line)
{
	nomad_error err;
	if (th_run(c, job_id, seed, &err) != NOMAD_OK)
		nmd_test_fail(file, line, "process %s: %s", job_id, err.message);
}

struct th_cluster *th_cluster_of(int nodes, int cpu, int mem)
{
	struct th_cluster *c = th_new();
	for (int i = 0; i < nodes; i++) {
		char name[32];
		snprintf(name, sizeof(name), "node-%d", i);
		th_add_node(c, name, "dc1", cpu, mem, 100000);
	}
	return c;
}

const Nomad__AllocationMetric *th_failed_metric(const nomad_eval *e,
						const char *group)
{
	for (size_t i = 0; e && i < e->n_failedtgallocs; i++)
		if (!strcmp(e->failedtgallocs[i]->key, group))
			return e->failedtgallocs[i]->value;
	return NULL;
}

int64_t th_entry(Nomad__IntEntry *const *list, size_t n, const char *key)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(list[i]->key, key))
			return list[i]->value;
	return 0;
}

void th_affinity(nomad_job *j, const char *l, const char *op, const char *r,
		 int weight)
{
	Nomad__Affinity *a = nmd_pb_new(&nomad__affinity__descriptor, NULL);
	CHECK(nmd_pb_set_string(NULL, &a->ltarget, l));
	CHECK(nmd_pb_set_string(NULL, &a->operand, op));
	CHECK(nmd_pb_set_string(NULL, &a->rtarget, r));
	a->has_weight = 1;
	a->weight = weight;
	CHECK(NMD_PB_APPEND(NULL, j->affinities, j->n_affinities, a));
}

Nomad__Spread *th_spread(nomad_job *j, const char *attr, int weight)
{
	Nomad__Spread *s = nmd_pb_new(&nomad__spread__descriptor, NULL);
	CHECK(nmd_pb_set_string(NULL, &s->attribute, attr));
	s->has_weight = 1;
	s->weight = weight;
	CHECK(NMD_PB_APPEND(NULL, j->taskgroups[0]->spreads,
			    j->taskgroups[0]->n_spreads, s));
	return s;
}

void th_spread_target(Nomad__Spread *s, const char *value, int percent)
{
	Nomad__SpreadTarget *t =
		nmd_pb_new(&nomad__spread_target__descriptor, NULL);
	CHECK(nmd_pb_set_string(NULL, &t->value, value));
	t->has_percent = 1;
	t->percent = percent;
	CHECK(NMD_PB_APPEND(NULL, s->spreadtarget, s->n_spreadtarget, t));
}

Nomad__ReschedulePolicy *th_reschedule_policy(int attempts, int64_t interval,
					      int64_t delay, int fn,
					      int64_t max_delay, bool unlimited)
{
	Nomad__ReschedulePolicy *p =
		nmd_pb_new(&nomad__reschedule_policy__descriptor, NULL);
	CHECK(p != NULL);
	p->has_attempts = p->has_interval = p->has_delay = 1;
	p->has_delayfunction = p->has_maxdelay = p->has_unlimited = 1;
	p->attempts = attempts;
	p->interval = interval;
	p->delay = delay;
	p->delayfunction = fn;
	p->maxdelay = max_delay;
	p->unlimited = unlimited;
	return p;
}

size_t th_running(struct th_cluster *c, const char *job_id)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n_allocs; i++)
		n += !strcmp(c->allocs[i]->jobid, job_id) && alloc_live(c->allocs[i]);
	return n;
}

size_t th_running_on(struct th_cluster *c, const char *job_id,
		     const char *node_id)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n_allocs; i++)
		n += !strcmp(c->allocs[i]->jobid, job_id) &&
		     !strcmp(c->allocs[i]->nodeid, node_id) &&
		     alloc_live(c->allocs[i]);
	return n;
}

nomad_alloc *th_alloc_named(struct th_cluster *c, const char *name)
{
	for (size_t i = c->n_allocs; i-- > 0;)
		if (!strcmp(c->allocs[i]->name, name) && alloc_live(c->allocs[i]))
			return c->allocs[i];
	return NULL;
}

const nomad_eval *th_last_update(struct th_cluster *c)
{
	return c->n_updated ? c->updated[c->n_updated - 1] : NULL;
}

/* ---- deployments ---------------------------------------------------- */

void th_update(nomad_job *job, int max_parallel, int canary, bool auto_promote)
{
	Nomad__UpdateStrategy *u = nmd_pb_new(&nomad__update_strategy__descriptor,
					      NULL);
	nomad_task_group *tg = job->taskgroups[0];
	CHECK(u != NULL);
	u->has_maxparallel = u->has_canary = u->has_autopromote = 1;
	u->maxparallel = max_parallel;
	u->canary = canary;
	u->autopromote = auto_promote;
	u->has_minhealthytime = u->has_healthydeadline = 1;
	u->has_progressdeadline = 1;
	u->minhealthytime = 10000000000LL;
	u->healthydeadline = 300000000000LL;
	u->progressdeadline = 600000000000LL;
	nmd_pb_free(tg->update, NULL);
	tg->update = u;
}

nomad_deployment *th_deployment(struct th_cluster *c, const char *job_id)
{
	for (size_t i = c->n_deployments; i-- > 0;)
		if (!strcmp(c->deployments[i]->jobid, job_id))
			return c->deployments[i];
	return NULL;
}

void th_set_health(struct th_cluster *c, nomad_alloc *a, bool healthy)
{
	nomad_deployment *d = deployment_by_id(c, a->deploymentid);
	Nomad__DeploymentState *st = deployment_group(d, a->taskgroup);
	if (!a->deploymentstatus)
		a->deploymentstatus =
			nmd_pb_new(&nomad__alloc_deployment_status__descriptor, NULL);
	CHECK(a->deploymentstatus != NULL);
	if (st && !a->deploymentstatus->has_healthy) {
		st->has_healthyallocs = st->has_unhealthyallocs = 1;
		if (healthy)
			st->healthyallocs++;
		else
			st->unhealthyallocs++;
	}
	a->deploymentstatus->has_healthy = 1;
	a->deploymentstatus->healthy = healthy;
	a->modifyindex = ++c->index;
}

void th_all_healthy(struct th_cluster *c, const char *job_id)
{
	for (size_t i = 0; i < c->n_allocs; i++) {
		nomad_alloc *a = c->allocs[i];
		if (!strcmp(a->jobid, job_id) &&
		    a->desiredstatus == NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run &&
		    (!a->deploymentstatus || !a->deploymentstatus->has_healthy))
			th_set_health(c, a, true);
	}
}

void th_promote(struct th_cluster *c, const char *job_id)
{
	nomad_deployment *d = th_deployment(c, job_id);
	CHECK(d != NULL);
	for (size_t i = 0; i < d->n_taskgroups; i++) {
		d->taskgroups[i]->value->has_promoted = 1;
		d->taskgroups[i]->value->promoted = 1;
	}
	d->modifyindex = ++c->index;
}

/* ---- devices, host volumes, preemption ------------------------------- */

Nomad__NodeDeviceResource *th_add_devices(nomad_node *n, const char *vendor,
					  const char *type, const char *name,
					  int count)
{
	Nomad__NodeDeviceResource *d =
		nmd_pb_new(&nomad__node_device_resource__descriptor, NULL);
	CHECK(d != NULL);
	CHECK(nmd_pb_set_string(NULL, &d->vendor, vendor));
	CHECK(nmd_pb_set_string(NULL, &d->type, type));
	CHECK(nmd_pb_set_string(NULL, &d->name, name));
	for (int i = 0; i < count; i++) {
		Nomad__NodeDevice *inst =
			nmd_pb_new(&nomad__node_device__descriptor, NULL);
		char id[128];
		snprintf(id, sizeof(id), "%s-%s-%d", n->name, name, i);
		CHECK(inst && nmd_pb_set_string(NULL, &inst->id, id));
		inst->has_healthy = 1;
		inst->healthy = true;
		CHECK(NMD_PB_APPEND(NULL, d->instances, d->n_instances, inst));
	}
	CHECK(NMD_PB_APPEND(NULL, n->noderesources->devices,
			    n->noderesources->n_devices, d));
	return d;
}

void th_device_attr(Nomad__NodeDeviceResource *d, const char *key,
		    const char *s, long long i, const char *unit)
{
	Nomad__AttributeEntry *e =
		nmd_pb_new(&nomad__attribute_entry__descriptor, NULL);
	CHECK(e && nmd_pb_set_string(NULL, &e->key, key));
	CHECK((e->value = nmd_pb_new(&nomad__attribute__descriptor, NULL)));
	if (s) {
		CHECK(nmd_pb_set_string(NULL, &e->value->stringval, s));
	} else {
		e->value->has_intval = 1;
		e->value->intval = i;
	}
	if (unit)
		CHECK(nmd_pb_set_string(NULL, &e->value->unit, unit));
	CHECK(NMD_PB_APPEND(NULL, d->attributes, d->n_attributes, e));
}

Nomad__RequestedDevice *th_ask_device(nomad_task *t, const char *name,
				      int count)
{
	Nomad__RequestedDevice *r =
		nmd_pb_new(&nomad__requested_device__descriptor, NULL);
	CHECK(r && nmd_pb_set_string(NULL, &r->name, name));
	r->has_count = 1;
	r->count = count;
	CHECK(NMD_PB_APPEND(NULL, t->resources->devices,
			    t->resources->n_devices, r));
	return r;
}

void th_add_host_volume(nomad_node *n, const char *name, bool read_only)
{
	Nomad__ClientHostVolumeEntry *e =
		nmd_pb_new(&nomad__client_host_volume_entry__descriptor, NULL);
	CHECK(e && nmd_pb_set_string(NULL, &e->key, name));
	CHECK((e->value = nmd_pb_new(&nomad__client_host_volume_config__descriptor,
				     NULL)));
	CHECK(nmd_pb_set_string(NULL, &e->value->name, name));
	e->value->has_readonly = 1;
	e->value->readonly = read_only;
	CHECK(NMD_PB_APPEND(NULL, n->hostvolumes, n->n_hostvolumes, e));
}

void th_ask_host_volume(nomad_task_group *tg, const char *name,
			const char *source, bool read_only, bool per_alloc)
{
	Nomad__VolumeRequestEntry *e =
		nmd_pb_new(&nomad__volume_request_entry__descriptor, NULL);
	CHECK(e && nmd_pb_set_string(NULL, &e->key, name));
	CHECK((e->value = nmd_pb_new(&nomad__volume_request__descriptor, NULL)));
	CHECK(nmd_pb_set_string(NULL, &e->value->name, name));
	CHECK(nmd_pb_set_string(NULL, &e->value->type, "host"));
	CHECK(nmd_pb_set_string(NULL, &e->value->source, source));
	e->value->has_readonly = e->value->has_peralloc = 1;
	e->value->readonly = read_only;
	e->value->peralloc = per_alloc;
	CHECK(NMD_PB_APPEND(NULL, tg->volumes, tg->n_volumes, e));
}

void th_set_preemption(struct th_cluster *c, bool system, bool sysbatch,
		       bool batch, bool service)
{
	Nomad__PreemptionConfig *p;
	if (!c->config)
		CHECK((c->config = nmd_pb_new(
			       &nomad__scheduler_configuration__descriptor, NULL)));
	if (!c->config->preemptionconfig)
		CHECK((c->config->preemptionconfig = nmd_pb_new(
			       &nomad__preemption_config__descriptor, NULL)));
	p = c->config->preemptionconfig;
	p->has_systemschedulerenabled = p->has_sysbatchschedulerenabled = 1;
	p->has_batchschedulerenabled = p->has_serviceschedulerenabled = 1;
	p->systemschedulerenabled = system;
	p->sysbatchschedulerenabled = sysbatch;
	p->batchschedulerenabled = batch;
	p->serviceschedulerenabled = service;
}
