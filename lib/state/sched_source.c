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
	uint64_t nodes_index;        /* the nodes table when last listed */
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
}

void nomad_state_sched_source_free(nomad_state_sched_source *src)
{
	if (!src)
		return;
	drop_evaluation(src);
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
	/* Capacity, status, eligibility and drain change only with writes
	 * to the nodes table: an unchanged table needs no new list. */
	if (src->node_ptrs &&
	    nomad_state_snap_table_index(src->snap, NOMAD_TABLE_NODES) ==
		    src->nodes_index)
		return NOMAD_OK;
	src->nodes_index = nomad_state_snap_table_index(src->snap,
							NOMAD_TABLE_NODES);
	src->n_nodes = 0;
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
	nomad_err rc;
	nomad_scheduler_config_free(src->config);
	src->config = NULL;
	rc = nomad_state_scheduler_config_get(src->snap, &src->config);
	*out = src->config;
	return rc == NOMAD_ENOTFOUND ? NOMAD_OK : rc;
}

static const nomad_sched_state_ops ops = {
	NOMAD_SCHED_STATE_OPS_VERSION, op_begin, op_nodes, op_node_usage,
	op_job_allocs, op_job, op_latest_deployment, op_config};

const nomad_sched_state_ops *nomad_state_sched_ops(void)
{
	return &ops;
}
