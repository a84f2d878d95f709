/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The state store as the scheduler's source of truth: the state ops of
 * <nomad/sched.h> over a read snapshot (jobs, allocations, deployments,
 * the scheduler configuration) and the in-memory scheduler view (nodes
 * and what each holds).
 *
 * A source belongs to one worker and lives across evaluations. Its node
 * copies are kept between them and copied again only when a node's
 * ModifyIndex moved, so an evaluation over 10,000 unchanged nodes copies
 * none. Usage is copied per node when the scheduler first asks, as most
 * nodes of a large cluster are never looked at by one evaluation.
 *
 * Usage also carries what preemption and devices read: each job's
 * priority, type and per-group migrate max_parallel, from a table of
 * jobs kept across evaluations until the jobs table changes (so a job is
 * decoded once, not once per allocation); and, on nodes with devices
 * only, the device instances each allocation holds, from the snapshot.
 * The scheduler reads the job facts only to preempt, so they are filled
 * only when the configuration lets the evaluated job's type preempt:
 * other evaluations pay nothing for them.
 */
#include <string.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/error.h"
#include "state/state_int.h"
#include "structs/pb.h"

struct cached_node {
	nomad_node *node;            /* our copy */
	uint64_t modify_index;
	bool seen;                   /* in the current picture */
};

/* What usage needs of one job (see the file comment). */
struct job_info {
	char *ns, *id;
	int priority, type;
	char **groups;               /* task group names */
	int *max_parallel;           /* their migrate max_parallel */
	size_t n_groups;
};

struct nomad_state_sched_source {
	nomad_state *s;
	nomad_state_snap *snap;
	struct nmd_arena arena;      /* per begin(): strings, usage, arrays */

	struct cached_node *cache;   /* by node ID, sorted */
	size_t n_cache, cap_cache;
	nomad_sched_node *nodes;
	const nomad_sched_node **node_ptrs;
	size_t n_nodes, cap_nodes;

	nomad_job *job;
	nomad_alloc **allocs;
	size_t n_allocs, cap_allocs;
	nomad_job **versions;        /* the job versions allocations run */
	size_t n_versions, cap_versions;
	nomad_deployment *deployment;
	nomad_scheduler_config *config;
	bool config_read;            /* config is this begin()'s */
	uint64_t nodes_index;        /* the nodes table when last listed */
	size_t n_device_nodes;       /* nodes in the list with devices */

	struct job_info **jobs;      /* open addressing; NULL slots empty */
	size_t n_jobs, cap_jobs;
	uint64_t jobs_index;         /* the jobs table they reflect */
};

static const nomad_allocator *alloc_of(nomad_state_sched_source *src)
{
	return src->s->ctx.alloc;
}

nomad_err nomad_state_sched_source_new(nomad_state *s,
				       nomad_state_sched_source **out,
				       nomad_error *err)
{
	nomad_state_sched_source *src;
	if (!s || !out)
		return nmd_seterr(err, NOMAD_EINVAL, "state: no store");
	if (!(src = nmd_calloc(s->ctx.alloc, 1, sizeof(*src))))
		return nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
	src->s = s;
	nmd_arena_init(&src->arena, s->ctx.alloc);
	*out = src;
	return NOMAD_OK;
}

static void drop_evaluation(nomad_state_sched_source *src)
{
	nomad_job_free(src->job);
	src->job = NULL;
	for (size_t i = 0; i < src->n_allocs; i++) {
		src->allocs[i]->job = NULL; /* shared, in versions */
		nomad_alloc_free(src->allocs[i]);
	}
	src->n_allocs = 0;
	for (size_t i = 0; i < src->n_versions; i++)
		nomad_job_free(src->versions[i]);
	src->n_versions = 0;
	nomad_deployment_free(src->deployment);
	src->deployment = NULL;
	nomad_scheduler_config_free(src->config);
	src->config = NULL;
	src->config_read = false;
}

static void job_info_free(const nomad_allocator *a, struct job_info *j)
{
	if (!j)
		return;
	for (size_t g = 0; g < j->n_groups; g++)
		nmd_free(a, j->groups[g]);
	nmd_free(a, j->groups);
	nmd_free(a, j->max_parallel);
	nmd_free(a, j->ns);
	nmd_free(a, j->id);
	nmd_free(a, j);
}

static void jobs_clear(nomad_state_sched_source *src)
{
	for (size_t i = 0; i < src->cap_jobs; i++)
		job_info_free(alloc_of(src), src->jobs[i]);
	nmd_free(alloc_of(src), src->jobs);
	src->jobs = NULL;
	src->n_jobs = src->cap_jobs = 0;
}

void nomad_state_sched_source_free(nomad_state_sched_source *src)
{
	if (!src)
		return;
	drop_evaluation(src);
	jobs_clear(src);
	nomad_state_snap_close(src->snap);
	for (size_t i = 0; i < src->n_cache; i++)
		nomad_node_free(src->cache[i].node);
	nmd_free(alloc_of(src), src->cache);
	nmd_free(alloc_of(src), src->nodes);
	nmd_free(alloc_of(src), src->node_ptrs);
	nmd_free(alloc_of(src), src->allocs);
	nmd_free(alloc_of(src), src->versions);
	nmd_arena_free(&src->arena);
	nmd_free(alloc_of(src), src);
}

/* ---- nodes ----------------------------------------------------------- */

static size_t cache_find(nomad_state_sched_source *src, const char *id,
			 bool *found)
{
	size_t lo = 0, hi = src->n_cache;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(src->cache[mid].node->id, id);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	*found = false;
	return lo;
}

/* Our copy of the view's node, copied again only when it changed. */
static nomad_node *cached(nomad_state_sched_source *src, const nomad_node *n)
{
	bool found;
	size_t at;
	if (!n || !n->id)
		return NULL;
	at = cache_find(src, n->id, &found);
	if (found) {
		struct cached_node *c = &src->cache[at];
		if (c->modify_index != n->modifyindex) {
			nomad_node *copy = NULL;
			if (nomad_node_copy(&copy, n) != NOMAD_OK)
				return NULL;
			nomad_node_free(c->node);
			c->node = copy;
			c->modify_index = n->modifyindex;
		}
		c->seen = true;
		return c->node;
	}
	if (src->n_cache == src->cap_cache) {
		size_t cap = src->cap_cache ? src->cap_cache * 2 : 64;
		struct cached_node *grown = nmd_reallocarray(alloc_of(src), src->cache,
							     cap, sizeof(*grown));
		if (!grown)
			return NULL;
		src->cache = grown;
		src->cap_cache = cap;
	}
	memmove(&src->cache[at + 1], &src->cache[at],
		(src->n_cache - at) * sizeof(*src->cache));
	src->cache[at].node = NULL;
	if (nomad_node_copy(&src->cache[at].node, n) != NOMAD_OK) {
		memmove(&src->cache[at], &src->cache[at + 1],
			(src->n_cache - at) * sizeof(*src->cache));
		return NULL;
	}
	src->cache[at].modify_index = n->modifyindex;
	src->cache[at].seen = true;
	src->n_cache++;
	return src->cache[at].node;
}

struct node_walk {
	nomad_state_sched_source *src;
	bool oom;
};

static int take_node(const nomad_state_view_node *v, void *ud)
{
	struct node_walk *w = ud;
	nomad_state_sched_source *src = w->src;
	nomad_node *copy = cached(src, v->node);
	nomad_sched_node *n;
	if (!copy) {
		w->oom = true;
		return 1;
	}
	if (src->n_nodes == src->cap_nodes) {
		size_t cap = src->cap_nodes ? src->cap_nodes * 2 : 64;
		nomad_sched_node *grown = nmd_reallocarray(alloc_of(src), src->nodes,
							   cap, sizeof(*grown));
		if (!grown) {
			w->oom = true;
			return 1;
		}
		src->nodes = grown;
		src->cap_nodes = cap;
	}
	if (copy->noderesources && copy->noderesources->n_devices)
		src->n_device_nodes++;
	n = &src->nodes[src->n_nodes++];
	*n = (nomad_sched_node){
		.node = copy,
		.id = copy->id,
		.name = copy->name ? copy->name : "",
		.datacenter = copy->datacenter ? copy->datacenter : "",
		.node_pool = copy->nodepool && *copy->nodepool ? copy->nodepool
							       : "default",
		.node_class = copy->nodeclass ? copy->nodeclass : "",
		.computed_class = copy->computedclass,
		.status = v->status,
		.eligible = v->eligible,
		.draining = v->draining,
		.cpu_mhz = v->cpu_mhz,
		.memory_mb = v->memory_mb,
		.disk_mb = v->disk_mb,
		.modify_index = copy->modifyindex,
	};
	return 0;
}

/* Forget the copies of nodes that left the cluster. */
static void sweep_cache(nomad_state_sched_source *src)
{
	size_t kept = 0;
	for (size_t i = 0; i < src->n_cache; i++) {
		if (src->cache[i].seen) {
			src->cache[i].seen = false;
			src->cache[kept++] = src->cache[i];
		} else {
			nomad_node_free(src->cache[i].node);
		}
	}
	src->n_cache = kept;
}

/* ---- the ops ------------------------------------------------------------ */

static nomad_err op_begin(void *ud, uint64_t *index)
{
	nomad_state_sched_source *src = ud;
	struct node_walk w = {src, false};
	nomad_err rc;
	drop_evaluation(src);
	nmd_arena_reset(&src->arena);
	nomad_state_snap_close(src->snap);
	src->snap = NULL;
	if ((rc = nomad_state_snapshot(src->s, &src->snap, NULL)) < 0)
		return rc;
	*index = nomad_state_snap_index(src->snap);
	if (nomad_state_snap_table_index(src->snap, NOMAD_TABLE_JOBS) !=
	    src->jobs_index) {
		jobs_clear(src);
		src->jobs_index = nomad_state_snap_table_index(src->snap,
							       NOMAD_TABLE_JOBS);
	}
	/* Capacity, status, eligibility and drain change only with writes
	 * to the nodes table: an unchanged table needs no new list. */
	if (src->node_ptrs &&
	    nomad_state_snap_table_index(src->snap, NOMAD_TABLE_NODES) ==
		    src->nodes_index)
		return NOMAD_OK;
	src->nodes_index = nomad_state_snap_table_index(src->snap,
							NOMAD_TABLE_NODES);
	src->n_nodes = src->n_device_nodes = 0;
	rc = nomad_state_view_nodes(src->s, take_node, &w, NULL);
	if (w.oom)
		return NOMAD_ENOMEM;
	if (rc < 0)
		return rc;
	sweep_cache(src);
	/* Pointers last: the array may have moved while it grew. */
	nmd_free(alloc_of(src), src->node_ptrs);
	if (!(src->node_ptrs = nmd_calloc(alloc_of(src),
					  src->n_nodes ? src->n_nodes : 1,
					  sizeof(*src->node_ptrs))))
		return NOMAD_ENOMEM;
	for (size_t i = 0; i < src->n_nodes; i++)
		src->node_ptrs[i] = &src->nodes[i];
	return NOMAD_OK;
}

static nomad_err op_nodes(void *ud, const nomad_sched_node *const **out,
			  size_t *n)
{
	nomad_state_sched_source *src = ud;
	*out = src->node_ptrs;
	*n = src->n_nodes;
	return NOMAD_OK;
}

struct usage_walk {
	nomad_state_sched_source *src;
	nomad_sched_usage *items;
	size_t n, cap;
	bool oom;
};

static char *arena_str(struct nmd_arena *ar, const char *s)
{
	size_t len = s ? strlen(s) : 0;
	char *out = nmd_arena_alloc(ar, len + 1);
	if (out) {
		memcpy(out, s ? s : "", len);
		out[len] = '\0';
	}
	return out;
}

static int take_usage(const nomad_state_view_alloc *a, void *ud)
{
	struct usage_walk *w = ud;
	struct nmd_arena *ar = &w->src->arena;
	nomad_sched_usage *u;
	uint16_t *ports;
	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 32;
		nomad_sched_usage *grown = nmd_arena_alloc(ar, cap * sizeof(*grown));
		if (!grown) {
			w->oom = true;
			return 1;
		}
		if (w->n)
			memcpy(grown, w->items, w->n * sizeof(*grown));
		w->items = grown;
		w->cap = cap;
	}
	u = &w->items[w->n++];
	ports = a->n_ports ? nmd_arena_alloc(ar, a->n_ports * sizeof(*ports))
			   : NULL;
	*u = (nomad_sched_usage){
		.alloc_id = arena_str(ar, a->id),
		.ns = arena_str(ar, a->ns),
		.job_id = arena_str(ar, a->job_id),
		.task_group = arena_str(ar, a->task_group),
		.cpu_mhz = a->cpu_mhz,
		.memory_mb = a->memory_mb,
		.disk_mb = a->disk_mb,
		.ports = ports,
		.n_ports = ports ? a->n_ports : 0,
	};
	if (ports)
		memcpy(ports, a->ports, a->n_ports * sizeof(*ports));
	if (!u->alloc_id || !u->ns || !u->job_id || !u->task_group ||
	    (a->n_ports && !ports)) {
		w->oom = true;
		return 1;
	}
	return 0;
}

/* ---- what usage needs of jobs and devices ------------------------------ */

static uint64_t fnv(const char *s, uint64_t h)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static size_t job_slot(const nomad_state_sched_source *src, const char *ns,
		       const char *id)
{
	uint64_t h = fnv(id, fnv(ns, 1469598103934665603ULL) * 31);
	size_t k = (size_t)h & (src->cap_jobs - 1);
	while (src->jobs[k] && (strcmp(src->jobs[k]->ns, ns) ||
				strcmp(src->jobs[k]->id, id)))
		k = (k + 1) & (src->cap_jobs - 1);
	return k;
}

static bool jobs_grow(nomad_state_sched_source *src)
{
	size_t cap = src->cap_jobs ? src->cap_jobs * 2 : 256;
	struct job_info **old = src->jobs;
	size_t old_cap = src->cap_jobs;
	if (!(src->jobs = nmd_calloc(alloc_of(src), cap, sizeof(*src->jobs)))) {
		src->jobs = old;
		return false;
	}
	src->cap_jobs = cap;
	for (size_t i = 0; i < old_cap; i++)
		if (old[i])
			src->jobs[job_slot(src, old[i]->ns, old[i]->id)] = old[i];
	nmd_free(alloc_of(src), old);
	return true;
}

static char *heap_str(const nomad_allocator *a, const char *s)
{
	size_t len = strlen(s ? s : "");
	char *out = nmd_malloc(a, len + 1);
	if (out)
		memcpy(out, s ? s : "", len + 1);
	return out;
}

/* A job's priority, type and groups' max_parallel; a job the store does
 * not have reads priority 50 (Nomad's default), type unknown. */
static struct job_info *job_info_read(nomad_state_sched_source *src,
				      const char *ns, const char *id)
{
	const nomad_allocator *a = alloc_of(src);
	struct job_info *j = nmd_calloc(a, 1, sizeof(*j));
	nomad_job *job = NULL;
	if (!j || !(j->ns = heap_str(a, ns)) || !(j->id = heap_str(a, id)))
		goto fail;
	j->priority = 50;
	if (nomad_state_job_get(src->snap, ns, id, &job) != NOMAD_OK || !job)
		return j;
	j->priority = job->has_priority ? job->priority : 50;
	j->type = job->has_type ? (int)job->type : 0;
	if (job->n_taskgroups &&
	    (!(j->groups = nmd_calloc(a, job->n_taskgroups, sizeof(*j->groups))) ||
	     !(j->max_parallel = nmd_calloc(a, job->n_taskgroups,
					    sizeof(*j->max_parallel)))))
		goto fail;
	for (size_t g = 0; g < job->n_taskgroups; g++, j->n_groups++) {
		const nomad_task_group *tg = job->taskgroups[g];
		if (!(j->groups[g] = heap_str(a, tg->name)))
			goto fail;
		j->max_parallel[g] = tg->migrate && tg->migrate->has_maxparallel
					     ? tg->migrate->maxparallel : 0;
	}
	nomad_job_free(job);
	return j;
fail:
	nomad_job_free(job);
	job_info_free(a, j);
	return NULL;
}

static const struct job_info *job_info(nomad_state_sched_source *src,
				       const char *ns, const char *id)
{
	size_t k;
	if ((src->n_jobs + 1) * 2 > src->cap_jobs && !jobs_grow(src))
		return NULL;
	k = job_slot(src, ns, id);
	if (!src->jobs[k]) {
		if (!(src->jobs[k] = job_info_read(src, ns, id)))
			return NULL;
		src->n_jobs++;
	}
	return src->jobs[k];
}

static nomad_err read_config(nomad_state_sched_source *src)
{
	nomad_err rc;
	if (src->config_read)
		return NOMAD_OK;
	rc = nomad_state_scheduler_config_get(src->snap, &src->config);
	if (rc < 0 && rc != NOMAD_ENOTFOUND)
		return rc;
	src->config_read = true;
	return NOMAD_OK;
}

/* Whether the evaluated job may preempt (PreemptionConfig by its type;
 * Nomad's defaults without one: system jobs only). */
static bool may_preempt(nomad_state_sched_source *src)
{
	const Nomad__PreemptionConfig *p;
	int type;
	if (!src->job || read_config(src) < 0)
		return false;
	type = src->job->has_type ? (int)src->job->type : 0;
	p = src->config ? src->config->preemptionconfig : NULL;
	if (!p)
		return type == NOMAD__JOB_TYPE__system;
	switch (type) {
	case NOMAD__JOB_TYPE__system:
		return p->systemschedulerenabled;
	case NOMAD__JOB_TYPE__sysbatch:
		return p->sysbatchschedulerenabled;
	case NOMAD__JOB_TYPE__batch:
		return p->batchschedulerenabled;
	case NOMAD__JOB_TYPE__service:
		return p->serviceschedulerenabled;
	default:
		return false;
	}
}

static bool fill_jobs(nomad_state_sched_source *src, nomad_sched_usage *u,
		      size_t n)
{
	if (!n || !may_preempt(src))
		return true;
	for (size_t i = 0; i < n; i++) {
		const struct job_info *j = job_info(src, u[i].ns, u[i].job_id);
		if (!j)
			return false;
		u[i].job_priority = j->priority;
		u[i].job_type = j->type;
		for (size_t g = 0; g < j->n_groups; g++)
			if (!strcmp(j->groups[g], u[i].task_group))
				u[i].migrate_max_parallel = j->max_parallel[g];
	}
	return true;
}

struct device_walk {
	nomad_state_sched_source *src;
	nomad_sched_usage *u;
	size_t n;
};

static int take_devices(const ProtobufCMessage *obj, void *ud)
{
	const nomad_alloc *a = (const nomad_alloc *)obj;
	const Nomad__AllocatedResources *ar = a->allocatedresources;
	struct device_walk *w = ud;
	nomad_sched_usage *u = NULL;
	const char **ids;
	size_t n = 0;
	for (size_t i = 0; i < w->n && !u; i++)
		if (a->id && !strcmp(w->u[i].alloc_id, a->id))
			u = &w->u[i];
	for (size_t t = 0; u && ar && t < ar->n_tasks; t++)
		for (size_t d = 0; ar->tasks[t]->value &&
				   d < ar->tasks[t]->value->n_devices; d++)
			n += ar->tasks[t]->value->devices[d]->n_deviceids;
	if (!n)
		return 0;
	if (!(ids = nmd_arena_alloc(&w->src->arena, n * sizeof(*ids))))
		return 1;
	u->device_ids = ids;
	for (size_t t = 0; t < ar->n_tasks; t++)
		for (size_t d = 0; ar->tasks[t]->value &&
				   d < ar->tasks[t]->value->n_devices; d++) {
			const Nomad__AllocatedDeviceResource *r =
				ar->tasks[t]->value->devices[d];
			for (size_t k = 0; k < r->n_deviceids; k++)
				if (!(ids[u->n_device_ids++] =
					      arena_str(&w->src->arena,
							r->deviceids[k])))
					return 1;
		}
	return 0;
}

/* The device instances the node's allocations hold, for a node that has
 * devices: read from the snapshot, which the view does not carry. */
static nomad_err fill_devices(nomad_state_sched_source *src,
			      const char *node_id, nomad_sched_usage *u,
			      size_t n)
{
	struct device_walk w = {src, u, n};
	const nomad_node *node = NULL;
	nomad_err rc;
	bool found;
	size_t at;
	/* Most clusters have no devices: no lookup per node for them. */
	if (!n || !src->n_device_nodes)
		return NOMAD_OK;
	at = cache_find(src, node_id, &found);
	node = found ? src->cache[at].node : NULL;
	if (!node || !node->noderesources || !node->noderesources->n_devices)
		return NOMAD_OK;
	rc = nomad_state_allocs_by_node(src->snap, node_id, 0, take_devices, &w,
					NULL);
	if (rc == NOMAD_EUSER)
		return NOMAD_ENOMEM;
	return rc == NOMAD_ENOTFOUND ? NOMAD_OK : rc;
}

static nomad_err op_node_usage(void *ud, const char *node_id,
			       const nomad_sched_usage *const **out, size_t *n)
{
	nomad_state_sched_source *src = ud;
	struct usage_walk w = {src, NULL, 0, 0, false};
	const nomad_sched_usage **ptrs;
	nomad_err rc = nomad_state_view_node_allocs(src->s, node_id, take_usage,
						     &w, NULL);
	*out = NULL;
	*n = 0;
	if (w.oom)
		return NOMAD_ENOMEM;
	if (rc == NOMAD_ENOTFOUND)
		return NOMAD_OK; /* gone since begin(): holds nothing */
	if (rc < 0)
		return rc;
	if (!fill_jobs(src, w.items, w.n))
		return NOMAD_ENOMEM;
	if ((rc = fill_devices(src, node_id, w.items, w.n)) < 0)
		return rc;
	if (!(ptrs = nmd_arena_alloc(&src->arena,
				     (w.n ? w.n : 1) * sizeof(*ptrs))))
		return NOMAD_ENOMEM;
	for (size_t i = 0; i < w.n; i++)
		ptrs[i] = &w.items[i];
	*out = ptrs;
	*n = w.n;
	return NOMAD_OK;
}

/* Keep one copy per job version the allocations run. */
static nomad_job *shared_version(nomad_state_sched_source *src,
				 const nomad_job *job)
{
	nomad_job *copy = NULL;
	for (size_t i = 0; i < src->n_versions; i++)
		if (src->versions[i]->version == job->version)
			return src->versions[i];
	if (nomad_job_copy(&copy, job) != NOMAD_OK)
		return NULL;
	if (!NMD_PB_APPEND(alloc_of(src), src->versions, src->n_versions, copy)) {
		nomad_job_free(copy);
		return NULL;
	}
	return copy;
}

static int take_alloc(const ProtobufCMessage *obj, void *ud)
{
	nomad_state_sched_source *src = ud;
	nomad_alloc *a = (nomad_alloc *)obj, *copy = NULL;
	nomad_job *job = a->job, *shared = job ? shared_version(src, job) : NULL;
	nomad_err rc;
	if (job && !shared)
		return -1;
	a->job = NULL; /* copied once per version, not per allocation */
	rc = nomad_alloc_copy(&copy, a);
	a->job = job;
	if (rc != NOMAD_OK)
		return -1;
	copy->job = shared;
	if (!NMD_PB_APPEND(alloc_of(src), src->allocs, src->n_allocs, copy)) {
		copy->job = NULL;
		nomad_alloc_free(copy);
		return -1;
	}
	return 0;
}

static nomad_err op_job_allocs(void *ud, const char *ns, const char *job_id,
			       const nomad_alloc *const **out, size_t *n)
{
	nomad_state_sched_source *src = ud;
	nomad_err rc;
	for (size_t i = 0; i < src->n_allocs; i++) {
		src->allocs[i]->job = NULL;
		nomad_alloc_free(src->allocs[i]);
	}
	src->n_allocs = 0;
	rc = nomad_state_allocs_by_job(
		src->snap, ns, job_id, NOMAD_STATE_TERMINAL | NOMAD_STATE_WITH_JOB,
		take_alloc, src, NULL);
	if (rc == NOMAD_EUSER)
		return NOMAD_ENOMEM;
	*out = (const nomad_alloc *const *)src->allocs;
	*n = src->n_allocs;
	return rc < 0 ? rc : NOMAD_OK;
}

static nomad_err op_job(void *ud, const char *ns, const char *job_id,
			const nomad_job **out)
{
	nomad_state_sched_source *src = ud;
	nomad_err rc;
	nomad_job_free(src->job);
	src->job = NULL;
	rc = nomad_state_job_get(src->snap, ns, job_id, &src->job);
	*out = src->job;
	return rc == NOMAD_ENOTFOUND ? NOMAD_OK : rc;
}

static nomad_err op_latest_deployment(void *ud, const char *ns,
				      const char *job_id,
				      const nomad_deployment **out)
{
	nomad_state_sched_source *src = ud;
	nomad_err rc;
	nomad_deployment_free(src->deployment);
	src->deployment = NULL;
	rc = nomad_state_deployment_latest(src->snap, ns, job_id,
					   &src->deployment);
	*out = src->deployment;
	return rc == NOMAD_ENOTFOUND ? NOMAD_OK : rc;
}

static nomad_err op_config(void *ud, const nomad_scheduler_config **out)
{
	nomad_state_sched_source *src = ud;
	nomad_err rc = read_config(src);
	*out = src->config;
	return rc;
}

static const nomad_sched_state_ops ops = {
	NOMAD_SCHED_STATE_OPS_VERSION, op_begin, op_nodes, op_node_usage,
	op_job_allocs, op_job, op_latest_deployment, op_config};

const nomad_sched_state_ops *nomad_state_sched_ops(void)
{
	return &ops;
}
