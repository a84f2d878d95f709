/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The scheduler's view: every registered node with its allocatable
 * capacity, what its non-terminal allocations use (cpu, memory, disk,
 * ports) and a compact record of each of them, in memory, so that
 * feasibility and ranking never go to SQLite or decode a protobuf.
 *
 * It is built once, on first use, from the committed tables (under the
 * write lock, so no commit races the scan), and from then on kept up to
 * date incrementally: each write records what changed in its transaction
 * (nmd_view_*_put/del) and the commit applies those deltas; an abort drops
 * them. Nothing is ever recomputed by scanning per query.
 *
 * A record costs about 48 bytes, so a million allocations take about
 * 50 MB. Readers hold a read lock for the duration of their callback.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "state/keycache.h"
#include "state/state_int.h"
#include "structs/pb.h"

/* One non-terminal allocation on a node. */
struct valloc {
	uint8_t id[16];
	uint32_t job;    /* interned "ns\0job" */
	uint32_t group;  /* interned task group name */
	int32_t cpu, mem, disk;
	uint8_t desired, client;
	uint16_t n_ports;
	uint16_t *ports; /* NULL when n_ports is 0 */
};

struct vnode {
	uint8_t id[16];
	nomad_node *node;        /* NULL: not registered (placeholder) */
	int64_t cpu, mem, disk;  /* allocatable capacity */
	int64_t cpu_used, mem_used, disk_used;
	struct valloc *allocs;
	size_t n_allocs, cap_allocs;
	uint16_t *ports;         /* sorted multiset of ports in use */
	size_t n_ports, cap_ports;
};

struct nmd_view {
	pthread_rwlock_t lock;
	struct vnode **nodes;    /* pointers stay put while the array grows */
	size_t n_nodes, cap_nodes;
	struct nmd_keycache by_id;   /* node ID -> index into nodes */
	struct nmd_keycache strings; /* interned string -> index */
	char **string_of;
	size_t n_strings, cap_strings;
	uint64_t index;
};

/* A change waiting for its transaction's commit. */
enum vop_kind { VOP_NODE_PUT, VOP_NODE_DEL, VOP_ALLOC_PUT, VOP_ALLOC_DEL };

struct vop {
	enum vop_kind kind;
	uint8_t node_id[16];
	uint8_t alloc_id[16];
	nomad_node *node;        /* VOP_NODE_PUT: owned copy */
	nomad_alloc *alloc;      /* VOP_ALLOC_PUT: owned copy (no Job) */
};

struct nmd_view_log {
	struct vop *ops;
	size_t n, cap;
};

/* ---- interning ------------------------------------------------------------ */

static uint32_t intern(struct nmd_view *v, const char *s, size_t len)
{
	int64_t idx;
	char *copy;
	if (nmd_keycache_get(&v->strings, s, len, &idx))
		return (uint32_t)idx;
	if (v->n_strings == v->cap_strings) {
		size_t cap = v->cap_strings ? v->cap_strings * 2 : 64;
		char **grown = realloc(v->string_of, cap * sizeof(*grown));
		if (!grown)
			return 0;
		v->string_of = grown;
		v->cap_strings = cap;
	}
	if (!(copy = malloc(len + 1)))
		return 0;
	memcpy(copy, s, len);
	copy[len] = '\0';
	v->string_of[v->n_strings] = copy;
	nmd_keycache_put(&v->strings, s, len, (int64_t)v->n_strings);
	return (uint32_t)v->n_strings++;
}

static uint32_t intern_job(struct nmd_view *v, const nomad_alloc *a)
{
	char key[512];
	const char *ns = a->namespace_ && a->namespace_[0] ? a->namespace_
							    : "default";
	int n = snprintf(key, sizeof(key), "%s%c%s", ns, '\0',
			 a->jobid ? a->jobid : "");
	return intern(v, key, n < (int)sizeof(key) ? (size_t)n : sizeof(key) - 1);
}

/* ---- what a node offers and an allocation uses ------------------------- */

static void node_capacity(const nomad_node *n, struct vnode *vn)
{
	const Nomad__NodeResources *r = n->noderesources;
	const Nomad__NodeReservedResources *rr = n->reservedresources;
	vn->cpu = vn->mem = vn->disk = 0;
	if (r) {
		vn->cpu = r->cpu ? r->cpu->cpushares : 0;
		vn->mem = r->memory ? r->memory->memorymb : 0;
		vn->disk = r->disk ? r->disk->diskmb : 0;
	} else if (n->resources) { /* the legacy fields */
		vn->cpu = n->resources->cpu;
		vn->mem = n->resources->memorymb;
		vn->disk = n->resources->diskmb;
	}
	if (rr) {
		vn->cpu -= rr->cpu ? rr->cpu->cpushares : 0;
		vn->mem -= rr->memory ? rr->memory->memorymb : 0;
		vn->disk -= rr->disk ? rr->disk->diskmb : 0;
	} else if (n->reserved) {
		vn->cpu -= n->reserved->cpu;
		vn->mem -= n->reserved->memorymb;
		vn->disk -= n->reserved->diskmb;
	}
}

static void add_port(uint16_t **ports, uint16_t *n, int32_t value)
{
	uint16_t *grown;
	if (value <= 0 || value > 65535)
		return;
	if (!(grown = realloc(*ports, ((size_t)*n + 1) * sizeof(**ports))))
		return;
	*ports = grown;
	(*ports)[(*n)++] = (uint16_t)value;
}

static void network_ports(const Nomad__NetworkResource *nw, uint16_t **ports,
			  uint16_t *n)
{
	for (size_t i = 0; i < nw->n_reservedports; i++)
		add_port(ports, n, nw->reservedports[i]->value);
	for (size_t i = 0; i < nw->n_dynamicports; i++)
		add_port(ports, n, nw->dynamicports[i]->value);
}

/* Fill the record of allocation `a` (resources and ports in use). */
static void alloc_usage(const nomad_alloc *a, struct valloc *r)
{
	const Nomad__AllocatedResources *ar = a->allocatedresources;
	r->cpu = r->mem = r->disk = 0;
	r->n_ports = 0;
	r->ports = NULL;
	if (ar) {
		for (size_t i = 0; i < ar->n_tasks; i++) {
			const Nomad__AllocatedTaskResources *t = ar->tasks[i]->value;
			if (!t)
				continue;
			r->cpu += t->cpu ? (int32_t)t->cpu->cpushares : 0;
			r->mem += t->memory ? (int32_t)t->memory->memorymb : 0;
			for (size_t k = 0; k < t->n_networks; k++)
				network_ports(t->networks[k], &r->ports, &r->n_ports);
		}
		if (ar->shared) {
			r->disk = (int32_t)ar->shared->diskmb;
			for (size_t k = 0; k < ar->shared->n_ports; k++)
				add_port(&r->ports, &r->n_ports,
					 ar->shared->ports[k]->value);
			for (size_t k = 0; k < ar->shared->n_networks; k++)
				network_ports(ar->shared->networks[k], &r->ports,
					      &r->n_ports);
		}
	} else if (a->resources) { /* the legacy fields */
		r->cpu = a->resources->cpu;
		r->mem = a->resources->memorymb;
		r->disk = a->resources->diskmb;
		for (size_t k = 0; k < a->resources->n_networks; k++)
			network_ports(a->resources->networks[k], &r->ports,
				      &r->n_ports);
	}
}

/* ---- nodes ------------------------------------------------------------------ */

static struct vnode *find_node(struct nmd_view *v, const uint8_t id[16])
{
	int64_t idx;
	return nmd_keycache_get(&v->by_id, id, 16, &idx) ? v->nodes[idx] : NULL;
}

static struct vnode *get_node(struct nmd_view *v, const uint8_t id[16])
{
	struct vnode *vn = find_node(v, id);
	if (vn)
		return vn;
	if (v->n_nodes == v->cap_nodes) {
		size_t cap = v->cap_nodes ? v->cap_nodes * 2 : 256;
		struct vnode **grown = realloc(v->nodes, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		v->nodes = grown;
		v->cap_nodes = cap;
	}
	if (!(vn = calloc(1, sizeof(*vn))))
		return NULL;
	memcpy(vn->id, id, 16);
	v->nodes[v->n_nodes] = vn;
	nmd_keycache_put(&v->by_id, id, 16, (int64_t)v->n_nodes++);
	return vn;
}

static void set_node(struct nmd_view *v, const uint8_t id[16], nomad_node *n)
{
	struct vnode *vn = get_node(v, id);
	if (!vn) {
		nomad_node_free(n);
		return;
	}
	nomad_node_free(vn->node);
	vn->node = n;
	if (n)
		node_capacity(n, vn);
}

/* ---- allocations on nodes ------------------------------------------------ */

static int cmp_port(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static void node_ports_add(struct vnode *vn, const struct valloc *r)
{
	if (!r->n_ports)
		return;
	if (vn->n_ports + r->n_ports > vn->cap_ports) {
		size_t cap = (vn->n_ports + r->n_ports) * 2;
		uint16_t *grown = realloc(vn->ports, cap * sizeof(*grown));
		if (!grown)
			return;
		vn->ports = grown;
		vn->cap_ports = cap;
	}
	memcpy(vn->ports + vn->n_ports, r->ports, r->n_ports * sizeof(*r->ports));
	vn->n_ports += r->n_ports;
	qsort(vn->ports, vn->n_ports, sizeof(*vn->ports), cmp_port);
}

static void node_ports_remove(struct vnode *vn, const struct valloc *r)
{
	for (size_t k = 0; k < r->n_ports; k++) {
		uint16_t *hit = bsearch(&r->ports[k], vn->ports, vn->n_ports,
					sizeof(*vn->ports), cmp_port);
		if (!hit)
			continue;
		memmove(hit, hit + 1,
			(size_t)(vn->ports + vn->n_ports - hit - 1) * sizeof(*hit));
		vn->n_ports--;
	}
}

static void remove_alloc(struct vnode *vn, const uint8_t id[16])
{
	for (size_t i = 0; i < vn->n_allocs; i++) {
		struct valloc *r = &vn->allocs[i];
		if (memcmp(r->id, id, 16) != 0)
			continue;
		vn->cpu_used -= r->cpu;
		vn->mem_used -= r->mem;
		vn->disk_used -= r->disk;
		node_ports_remove(vn, r);
		free(r->ports);
		vn->allocs[i] = vn->allocs[--vn->n_allocs];
		return;
	}
}

static void add_alloc(struct nmd_view *v, struct vnode *vn, const nomad_alloc *a,
		      const uint8_t id[16])
{
	struct valloc r;
	if (vn->n_allocs == vn->cap_allocs) {
		size_t cap = vn->cap_allocs ? vn->cap_allocs * 2 : 8;
		struct valloc *grown = realloc(vn->allocs, cap * sizeof(*grown));
		if (!grown)
			return;
		vn->allocs = grown;
		vn->cap_allocs = cap;
	}
	memcpy(r.id, id, 16);
	r.job = intern_job(v, a);
	r.group = intern(v, a->taskgroup ? a->taskgroup : "",
			 a->taskgroup ? strlen(a->taskgroup) : 0);
	r.desired = (uint8_t)(a->has_desiredstatus ? a->desiredstatus : 0);
	r.client = (uint8_t)(a->has_clientstatus ? a->clientstatus : 0);
	alloc_usage(a, &r);
	vn->cpu_used += r.cpu;
	vn->mem_used += r.mem;
	vn->disk_used += r.disk;
	node_ports_add(vn, &r);
	vn->allocs[vn->n_allocs++] = r;
}

/* The allocation as stored now: replace its record, or drop it when it
 * has become terminal. */
static void put_alloc(struct nmd_view *v, const nomad_alloc *a)
{
	uint8_t id[16], node[16];
	struct vnode *vn;
	if (!a->id || !nmd_uuid_to_bytes(a->id, id) || !a->nodeid ||
	    !nmd_uuid_to_bytes(a->nodeid, node) || !(vn = get_node(v, node)))
		return;
	remove_alloc(vn, id);
	if (!nmd_alloc_terminal(a))
		add_alloc(v, vn, a, id);
}

/* ---- building ------------------------------------------------------------- */

static void view_destroy(struct nmd_view *v)
{
	for (size_t i = 0; i < v->n_nodes; i++) {
		struct vnode *vn = v->nodes[i];
		for (size_t k = 0; k < vn->n_allocs; k++)
			free(vn->allocs[k].ports);
		free(vn->allocs);
		free(vn->ports);
		nomad_node_free(vn->node);
		free(vn);
	}
	free(v->nodes);
	for (size_t i = 0; i < v->n_strings; i++)
		free(v->string_of[i]);
	free(v->string_of);
	nmd_keycache_free(&v->by_id);
	nmd_keycache_free(&v->strings);
	pthread_rwlock_destroy(&v->lock);
	free(v);
}

static nomad_err scan_nodes(nomad_state *s, struct nmd_view *v, nomad_error *err)
{
	static const char sql[] = "SELECT id, body FROM nodes";
	sqlite3_stmt *st = nmd_stmt(&s->writer, sql, err);
	nomad_err rc = NOMAD_OK;
	if (!st)
		return NOMAD_EIO;
	while (sqlite3_step(st) == SQLITE_ROW && rc >= 0) {
		nomad_node *n = NULL;
		if (sqlite3_column_bytes(st, 0) != 16)
			continue;
		if (sqlite3_column_type(st, 1) != SQLITE_NULL)
			rc = nmd_column_body(s, st, 1, &nomad__node__descriptor,
					     (ProtobufCMessage **)&n, err);
		if (rc >= 0)
			set_node(v, sqlite3_column_blob(st, 0), n);
	}
	sqlite3_reset(st);
	return rc;
}

static nomad_err scan_allocs(nomad_state *s, struct nmd_view *v,
			     nomad_error *err)
{
	static const char *const sqls[] = {
		"SELECT body FROM allocs_cold WHERE (status & 1) = 0",
		"SELECT body FROM allocs_hot WHERE (status & 1) = 0",
	};
	for (int t = 0; t < 2; t++) {
		sqlite3_stmt *st = nmd_stmt(&s->writer, sqls[t], err);
		if (!st)
			return NOMAD_EIO;
		while (sqlite3_step(st) == SQLITE_ROW) {
			nomad_alloc *a;
			nomad_err rc = nmd_column_body(s, st, 0,
						       &nomad__allocation__descriptor,
						       (ProtobufCMessage **)&a, err);
			if (rc < 0) {
				sqlite3_reset(st);
				return rc;
			}
			put_alloc(v, a);
			nomad_alloc_free(a);
		}
		sqlite3_reset(st);
	}
	return NOMAD_OK;
}

/* The view, built from the committed tables if this is its first use. */
static nomad_err view_get(nomad_state *s, struct nmd_view **out,
			  nomad_error *err)
{
	struct nmd_view *v;
	nomad_err rc = NOMAD_OK;
	pthread_mutex_lock(&s->write_lock);
	if (!(v = s->view)) {
		if (!(v = calloc(1, sizeof(*v)))) {
			pthread_mutex_unlock(&s->write_lock);
			return nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
		}
		pthread_rwlock_init(&v->lock, NULL);
		nmd_keycache_init(&v->by_id, NULL);
		nmd_keycache_init(&v->strings, NULL);
		if ((rc = scan_nodes(s, v, err)) < 0 ||
		    (rc = scan_allocs(s, v, err)) < 0) {
			view_destroy(v);
			v = NULL;
		} else {
			v->index = s->last_index;
			s->view = v;
		}
	}
	pthread_mutex_unlock(&s->write_lock);
	*out = v;
	return rc;
}

void nmd_view_free(nomad_state *s)
{
	if (s->view)
		view_destroy(s->view);
	s->view = NULL;
}

/* ---- recording and applying changes ------------------------------------ */

static struct vop *new_op(nomad_state_txn *txn, enum vop_kind kind)
{
	struct nmd_view_log *log = txn->view_log;
	if (!txn->s->view)
		return NULL; /* not built: it will read the committed tables */
	if (!log && !(log = txn->view_log = calloc(1, sizeof(*log))))
		return NULL;
	if (log->n == log->cap) {
		size_t cap = log->cap ? log->cap * 2 : 64;
		struct vop *grown = realloc(log->ops, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		log->ops = grown;
		log->cap = cap;
	}
	memset(&log->ops[log->n], 0, sizeof(log->ops[0]));
	log->ops[log->n].kind = kind;
	return &log->ops[log->n++];
}

void nmd_view_node_put(nomad_state_txn *txn, const nomad_node *node)
{
	struct vop *op;
	uint8_t id[16];
	if (!node->id || !nmd_uuid_to_bytes(node->id, id) ||
	    !(op = new_op(txn, VOP_NODE_PUT)))
		return;
	memcpy(op->node_id, id, 16);
	if (nomad_node_copy(&op->node, node) != NOMAD_OK)
		txn->view_log->n--;
}

void nmd_view_node_del(nomad_state_txn *txn, const uint8_t id[16])
{
	struct vop *op = new_op(txn, VOP_NODE_DEL);
	if (op)
		memcpy(op->node_id, id, 16);
}

void nmd_view_alloc_put(nomad_state_txn *txn, const nomad_alloc *a)
{
	struct vop *op = new_op(txn, VOP_ALLOC_PUT);
	nomad_job *job;
	if (!op)
		return;
	/* Copy without the Job: the view has no use for it. */
	job = ((nomad_alloc *)a)->job;
	((nomad_alloc *)a)->job = NULL;
	if (nomad_alloc_copy(&op->alloc, a) != NOMAD_OK)
		txn->view_log->n--;
	((nomad_alloc *)a)->job = job;
}

void nmd_view_alloc_del(nomad_state_txn *txn, const char *node_id,
			const uint8_t id[16])
{
	struct vop *op;
	uint8_t node[16];
	if (!node_id || !nmd_uuid_to_bytes(node_id, node) ||
	    !(op = new_op(txn, VOP_ALLOC_DEL)))
		return;
	memcpy(op->node_id, node, 16);
	memcpy(op->alloc_id, id, 16);
}

static void log_free(struct nmd_view_log *log)
{
	if (!log)
		return;
	for (size_t i = 0; i < log->n; i++) {
		nomad_node_free(log->ops[i].node);
		nomad_alloc_free(log->ops[i].alloc);
	}
	free(log->ops);
	free(log);
}

void nmd_view_commit(nomad_state_txn *txn)
{
	struct nmd_view *v = txn->s->view;
	struct nmd_view_log *log = txn->view_log;
	txn->view_log = NULL;
	if (!v) {
		log_free(log);
		return;
	}
	pthread_rwlock_wrlock(&v->lock);
	for (size_t i = 0; log && i < log->n; i++) {
		struct vop *op = &log->ops[i];
		struct vnode *vn;
		switch (op->kind) {
		case VOP_NODE_PUT:
			set_node(v, op->node_id, op->node);
			op->node = NULL; /* the view owns it now */
			break;
		case VOP_NODE_DEL:
			if ((vn = find_node(v, op->node_id))) {
				nomad_node_free(vn->node);
				vn->node = NULL;
			}
			break;
		case VOP_ALLOC_PUT:
			put_alloc(v, op->alloc);
			break;
		case VOP_ALLOC_DEL:
			if ((vn = find_node(v, op->node_id)))
				remove_alloc(vn, op->alloc_id);
			break;
		}
	}
	v->index = txn->index;
	pthread_rwlock_unlock(&v->lock);
	log_free(log);
}

void nmd_view_discard(nomad_state_txn *txn)
{
	log_free(txn->view_log);
	txn->view_log = NULL;
}

/* ---- reading ------------------------------------------------------------------ */

static void fill_public_node(const struct vnode *vn, nomad_state_view_node *out)
{
	const nomad_node *n = vn->node;
	memset(out, 0, sizeof(*out));
	out->id = n->id;
	out->name = n->name;
	out->datacenter = n->datacenter;
	out->node_pool = n->nodepool ? n->nodepool : "default";
	out->node_class = n->nodeclass;
	out->status = n->has_status ? (int)n->status : 0;
	out->eligible = !n->has_schedulingeligibility ||
			n->schedulingeligibility ==
				NOMAD__NODE__ELIGIBILITY_KIND__eligible;
	out->draining = n->drainstrategy != NULL;
	out->cpu_mhz = vn->cpu;
	out->memory_mb = vn->mem;
	out->disk_mb = vn->disk;
	out->cpu_used_mhz = vn->cpu_used;
	out->memory_used_mb = vn->mem_used;
	out->disk_used_mb = vn->disk_used;
	out->n_allocs = vn->n_allocs;
	out->ports_used = vn->ports;
	out->n_ports_used = vn->n_ports;
	out->node = n;
}

nomad_err nomad_state_view_nodes(nomad_state *s, nomad_state_view_node_cb cb,
				 void *userdata, nomad_error *err)
{
	struct nmd_view *v;
	nomad_err rc = view_get(s, &v, err);
	if (rc < 0)
		return rc;
	pthread_rwlock_rdlock(&v->lock);
	for (size_t i = 0; i < v->n_nodes && rc == NOMAD_OK; i++) {
		nomad_state_view_node pub;
		if (!v->nodes[i]->node)
			continue;
		fill_public_node(v->nodes[i], &pub);
		if (cb(&pub, userdata))
			rc = NOMAD_EUSER;
	}
	pthread_rwlock_unlock(&v->lock);
	return rc;
}

static nomad_err with_node(nomad_state *s, const char *node_id,
			   struct nmd_view **vout, struct vnode **nout,
			   nomad_error *err)
{
	uint8_t id[16];
	nomad_err rc = view_get(s, vout, err);
	if (rc < 0)
		return rc;
	if (!node_id || !nmd_uuid_to_bytes(node_id, id))
		return NOMAD_ENOTFOUND;
	pthread_rwlock_rdlock(&(*vout)->lock);
	*nout = find_node(*vout, id);
	if (!*nout || !(*nout)->node) {
		pthread_rwlock_unlock(&(*vout)->lock);
		return NOMAD_ENOTFOUND;
	}
	return NOMAD_OK;
}

nomad_err nomad_state_view_node_get(nomad_state *s, const char *node_id,
				nomad_state_view_node_cb cb, void *userdata,
				nomad_error *err)
{
	struct nmd_view *v;
	struct vnode *vn;
	nomad_state_view_node pub;
	nomad_err rc = with_node(s, node_id, &v, &vn, err);
	if (rc < 0)
		return rc;
	fill_public_node(vn, &pub);
	rc = cb(&pub, userdata) ? NOMAD_EUSER : NOMAD_OK;
	pthread_rwlock_unlock(&v->lock);
	return rc;
}

nomad_err nomad_state_view_node_allocs(nomad_state *s, const char *node_id,
				       nomad_state_view_alloc_cb cb,
				       void *userdata, nomad_error *err)
{
	struct nmd_view *v;
	struct vnode *vn;
	nomad_err rc = with_node(s, node_id, &v, &vn, err);
	if (rc < 0)
		return rc;
	for (size_t i = 0; i < vn->n_allocs && rc == NOMAD_OK; i++) {
		const struct valloc *r = &vn->allocs[i];
		const char *job = v->string_of[r->job];
		char id[NOMAD_UUID_LEN + 1];
		nomad_state_view_alloc pub = {
			.id = id,
			.ns = job,
			.job_id = job + strlen(job) + 1,
			.task_group = v->string_of[r->group],
			.cpu_mhz = r->cpu,
			.memory_mb = r->mem,
			.disk_mb = r->disk,
			.desired_status = r->desired,
			.client_status = r->client,
			.ports = r->ports,
			.n_ports = r->n_ports,
		};
		nmd_uuid_from_bytes(r->id, id);
		if (cb(&pub, userdata))
			rc = NOMAD_EUSER;
	}
	pthread_rwlock_unlock(&v->lock);
	return rc;
}

uint64_t nomad_state_view_index(nomad_state *s)
{
	struct nmd_view *v;
	uint64_t index;
	if (view_get(s, &v, NULL) < 0)
		return 0;
	pthread_rwlock_rdlock(&v->lock);
	index = v->index;
	pthread_rwlock_unlock(&v->lock);
	return index;
}
