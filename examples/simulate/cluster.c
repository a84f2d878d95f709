/* SPDX-License-Identifier: MPL-2.0 */
/*
 * simulate: the cluster and one run over it. Nodes and the totals kept
 * as their usage changes, the event heap in virtual time, the queue of
 * jobs waiting for room, jobs built and freed, the evaluations this host
 * makes and hands the scheduler, utilisation samples, and the run loop.
 * The ops the scheduler calls back into are in planner.c.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simulate.h"

#define NODE_DISK_MB 10000000  /* disk is not simulated: 10 TB per node */

/* ---- nodes --------------------------------------------------------- */

/* The sim_alloc around the allocation or the usage entry it hands out. */
static struct sim_alloc *alloc_of(const nomad_alloc *a)
{
	return (struct sim_alloc *)(void *)(uintptr_t)a;
}

static struct sim_alloc *alloc_of_usage(const nomad_sched_usage *u)
{
	return (struct sim_alloc *)(void *)((uintptr_t)u -
					    offsetof(struct sim_alloc, u));
}

/* The cluster's totals: a node's share is taken out before its usage
 * changes and put back after, so that no sample has to walk the nodes. */
static void node_account(struct run *r, const struct node *n, int sign)
{
	int64_t free_cpu = n->view.cpu_mhz - n->used_cpu;
	int64_t free_mem = n->view.memory_mb - n->used_mem;
	r->used_cpu += sign * n->used_cpu;
	r->used_mem += sign * n->used_mem;
	if (!n->n_usage)
		r->empty += sign;
	if (free_cpu < r->w->median_cpu || free_mem < r->w->median_mem) {
		r->strand_cpu += sign * free_cpu;
		r->strand_mem += sign * free_mem;
	}
}

void node_add(struct run *r, struct node *n, struct sim_alloc *sa)
{
	node_account(r, n, -1);
	GROW(n->usage, n->n_usage, n->cap_usage);
	sa->node = n;
	sa->at = n->n_usage;
	n->usage[n->n_usage++] = &sa->u;
	n->used_cpu += sa->u.cpu_mhz;
	n->used_mem += sa->u.memory_mb;
	node_account(r, n, 1);
	sa->live = true;
	r->running++;
}

/* Give an allocation's resources back to its node, which may now hold
 * what a waiting job asks for. */
void node_release(struct run *r, struct sim_alloc *sa)
{
	struct node *n = sa->node;
	struct sim_alloc *last;
	node_account(r, n, -1);
	last = alloc_of_usage(n->usage[--n->n_usage]);
	n->usage[sa->at] = &last->u;
	last->at = sa->at;
	n->used_cpu -= sa->u.cpu_mhz;
	n->used_mem -= sa->u.memory_mb;
	node_account(r, n, 1);
	sa->live = false;
	r->running--;
	r->jobs[sa->job].live--;
	if (n->dirty != r->instant) {
		n->dirty = r->instant;
		GROW(r->dirty, r->n_dirty, r->cap_dirty);
		r->dirty[r->n_dirty++] = n;
	}
}

/* Node i's shape: round robin by weight (weights 3 and 1 give
 * a a a b a a a b ...). */
const struct shape *shape_of(const struct options *o, size_t i)
{
	unsigned total = 0, at;
	for (size_t k = 0; k < o->n_shapes; k++)
		total += o->shapes[k].weight;
	at = (unsigned)(i % total);
	for (size_t k = 0; k < o->n_shapes; k++) {
		if (at < o->shapes[k].weight)
			return &o->shapes[k];
		at -= o->shapes[k].weight;
	}
	return &o->shapes[0];
}

static int node_init(struct run *r, size_t i)
{
	struct node *n = &r->nodes[i];
	const struct shape *s = shape_of(r->o, i);
	char meta[64] = "", json[512];
	nomad_error err;
	/* At most a million nodes: eight hex digits tell them apart. */
	snprintf(n->id, sizeof(n->id), "%08x-0000-4000-8000-000000000000",
		 (unsigned)i);
	snprintf(n->name, sizeof(n->name), "node-%u", (unsigned)i);
	snprintf(n->class, sizeof(n->class), "default");
	if (r->o->racks) {
		/* Racks in contiguous blocks, so that each holds the mix of
		 * shapes. Nodes alike but for their rack share a class. */
		size_t rack = i * (size_t)r->o->racks / r->n_nodes;
		snprintf(n->class, sizeof(n->class), "rack-%zu", rack);
		snprintf(meta, sizeof(meta), ",\"Meta\":{\"rack\":\"%s\"}",
			 n->class);
	}
	snprintf(json, sizeof(json),
		 "{\"ID\":\"%s\",\"Name\":\"%s\",\"Datacenter\":\"dc1\","
		 "\"Drivers\":{\"exec\":{\"Detected\":true,\"Healthy\":true}}%s}",
		 n->id, n->name, meta);
	if (nomad_node_from_json(&n->node, json, strlen(json), NULL, &err)) {
		fprintf(stderr, PROG ": node %s: %s\n", n->name, err.message);
		return -1;
	}
	n->view = (nomad_sched_node){
		.node = n->node, .id = n->id, .name = n->name,
		.datacenter = "dc1", .node_pool = "default", .node_class = "",
		.computed_class = n->class,
		.status = NOMAD__NODE__STATUS_KIND__ready, .eligible = true,
		.cpu_mhz = s->cpu, .memory_mb = s->mem, .disk_mb = NODE_DISK_MB};
	r->views[i] = &n->view;
	r->cap_cpu += s->cpu;
	r->cap_mem += s->mem;
	node_account(r, n, 1);
	return 0;
}

/* A node by ID. The IDs are made in node_init: their first eight hex
 * digits are the node's index, so the scheduler's many lookups need no
 * hashing. */
struct node *node_find(const struct run *r, const char *id)
{
	unsigned long i;
	char *end;
	if (!id || strlen(id) != NOMAD_UUID_LEN)
		return NULL;
	i = strtoul(id, &end, 16);
	if (end != id + 8 || i >= r->n_nodes || strcmp(r->nodes[i].id, id))
		return NULL;
	return &r->nodes[i];
}

/* ---- events -------------------------------------------------------- */

static bool before(const struct event *a, const struct event *b)
{
	return a->t != b->t ? a->t < b->t : a->seq < b->seq;
}

void heap_push(struct run *r, int64_t t, enum event_kind kind, size_t job)
{
	size_t i;
	GROW(r->heap, r->n_heap, r->cap_heap);
	i = r->n_heap++;
	r->heap[i] = (struct event){t, r->event_seq++, kind, job};
	while (i && before(&r->heap[i], &r->heap[(i - 1) / 2])) {
		struct event tmp = r->heap[i];
		r->heap[i] = r->heap[(i - 1) / 2];
		r->heap[(i - 1) / 2] = tmp;
		i = (i - 1) / 2;
	}
}

static struct event heap_pop(struct run *r)
{
	struct event top = r->heap[0];
	size_t i = 0;
	r->heap[0] = r->heap[--r->n_heap];
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		struct event tmp;
		if (l < r->n_heap && before(&r->heap[l], &r->heap[m]))
			m = l;
		if (l + 1 < r->n_heap && before(&r->heap[l + 1], &r->heap[m]))
			m = l + 1;
		if (m == i)
			return top;
		tmp = r->heap[i];
		r->heap[i] = r->heap[m];
		r->heap[m] = tmp;
		i = m;
	}
}

/* ---- the queue of jobs waiting for room ---------------------------- */

static void queue_update(struct run *r, size_t ji)
{
	struct run_job *rj = &r->jobs[ji];
	bool want = rj->state == JOB_ACTIVE && rj->unplaced > 0;
	if (want && !rj->queued) {
		rj->prev = r->q_tail;
		rj->next = NONE;
		if (r->q_tail != NONE)
			r->jobs[r->q_tail].next = ji;
		else
			r->q_head = ji;
		r->q_tail = ji;
	} else if (!want && rj->queued) {
		if (rj->prev != NONE)
			r->jobs[rj->prev].next = rj->next;
		else
			r->q_head = rj->next;
		if (rj->next != NONE)
			r->jobs[rj->next].prev = rj->prev;
		else
			r->q_tail = rj->prev;
	}
	rj->queued = want;
}

/* ---- jobs ---------------------------------------------------------- */

/* Report a problem with a job where it came from: its trace line, or the
 * generator. */
static int job_error(const struct run *r, const struct wl_job *s,
		     const char *what)
{
	if (r->w->source)
		fprintf(stderr, "%s:%u: job %s: %s\n", r->w->source, s->line,
			s->id, what);
	else
		fprintf(stderr, PROG ": generated job %s: %s\n", s->id, what);
	return -1;
}

static void group_res_init(struct group_res *g, const nomad_task_group *tg)
{
	const nomad_task *t = tg->n_tasks ? tg->tasks[0] : NULL;
	const nomad_resources *res = t ? t->resources : NULL;
	nomad__allocated_resources__init(&g->ar);
	nomad__allocated_shared_resources__init(&g->shared);
	nomad__allocated_task_resources_entry__init(&g->entry);
	nomad__allocated_task_resources__init(&g->task);
	nomad__allocated_cpu_resources__init(&g->cpu);
	nomad__allocated_memory_resources__init(&g->mem);
	g->cpu.has_cpushares = 1;
	g->cpu.cpushares = res && res->has_cpu ? res->cpu : 0;
	g->mem.has_memorymb = 1;
	g->mem.memorymb = res && res->has_memorymb ? res->memorymb : 0;
	g->task.cpu = &g->cpu;
	g->task.memory = &g->mem;
	g->entry.key = t ? t->name : NULL;
	g->entry.value = &g->task;
	g->entries[0] = &g->entry;
	g->ar.tasks = g->entries;
	g->ar.n_tasks = 1;
	g->shared.has_diskmb = 1;
	g->shared.diskmb = tg->ephemeraldisk && tg->ephemeraldisk->has_sizemb
				   ? tg->ephemeraldisk->sizemb : 0;
	g->ar.shared = &g->shared;
}

/* The job as a user would submit it (JSON), with Nomad's defaults filled
 * in and checked as the server would at registration. */
static int job_build(struct run *r, struct run_job *rj)
{
	const struct wl_job *s = rj->spec;
	struct sbuf b = {0};
	nomad_error err;
	nomad_err rc;
	sb_printf(&b, "{\"ID\":\"%s\",\"Name\":\"%s\",\"Type\":\"%s\","
		  "\"Datacenters\":[\"dc1\"],\"TaskGroups\":[", s->id, s->id,
		  s->service ? "service" : "batch");
	for (size_t k = 0; k < s->n_groups; k++) {
		const struct wl_group *g = &s->groups[k];
		sb_printf(&b, "%s{\"Name\":\"%s\",\"Count\":%ld,", k ? "," : "",
			  g->name, g->count);
		if (g->spread)
			sb_printf(&b, "\"Spreads\":[{\"Attribute\":\"%s\","
				  "\"Weight\":100}],", g->spread);
		sb_printf(&b, "\"Tasks\":[{\"Name\":\"main\",\"Driver\":\"exec\","
			  "\"Resources\":{\"CPU\":%" PRId64 ",\"MemoryMB\":%"
			  PRId64 "}}]}", g->cpu, g->mem);
	}
	sb_printf(&b, "]}");
	rc = nomad_job_from_json(&rj->job, b.p, b.n, NULL, &err);
	if (rc == NOMAD_OK)
		rc = nomad_job_canonicalize(rj->job, &err);
	if (rc == NOMAD_OK)
		rc = nomad_job_validate(rj->job, NULL, &err);
	free(b.p);
	if (rc != NOMAD_OK)
		return job_error(r, s, err.message);
	if (rj->job->n_taskgroups != s->n_groups)
		return job_error(r, s, "the canonical job lost a group");
	rj->res = xcalloc(s->n_groups, sizeof(*rj->res));
	for (size_t k = 0; k < s->n_groups; k++)
		group_res_init(&rj->res[k], rj->job->taskgroups[k]);
	return 0;
}

/* A finished job lets go of everything but its figures. */
static void job_finish(struct run *r, size_t ji)
{
	struct run_job *rj = &r->jobs[ji];
	rj->state = JOB_DONE;
	queue_update(r, ji);
	for (size_t i = 0; i < rj->n_allocs; i++) {
		struct sim_alloc *sa = alloc_of(rj->allocs[i]);
		if (sa->live) { /* the scheduler left it running */
			r->c.anomalies++;
			node_release(r, sa);
		}
		map_del(&r->alloc_ids, sa->id);
		free(sa->a.name);
		free(sa);
	}
	free(rj->allocs);
	rj->allocs = NULL;
	rj->n_allocs = rj->cap_allocs = 0;
	nomad_job_free(rj->job);
	rj->job = NULL;
	free(rj->res);
	rj->res = NULL;
	free(rj->placed);
	rj->placed = NULL;
	nomad_eval_free(rj->blocked);
	nomad_eval_free(rj->next_blocked);
	rj->blocked = rj->next_blocked = NULL;
}

size_t group_index(const struct run_job *rj, const char *name)
{
	for (size_t g = 0; name && g < rj->job->n_taskgroups; g++)
		if (!strcmp(rj->job->taskgroups[g]->name, name))
			return g;
	return NONE;
}

/* ---- evaluations --------------------------------------------------- */

/* An evaluation made here (a job registered or stopped), with
 * deterministic IDs: they seed the scheduler's draws. */
struct fresh_eval {
	nomad_eval ev;
	char id[NOMAD_UUID_LEN + 1];
	char trigger[32];
};

static void eval_fresh(struct run *r, const struct run_job *rj,
		       struct fresh_eval *f, const char *trigger)
{
	nomad__evaluation__init(&f->ev);
	snprintf(f->id, sizeof(f->id), "00000000-0000-4000-8000-%012" PRIx64,
		 ++r->eval_seq);
	snprintf(f->trigger, sizeof(f->trigger), "%s", trigger);
	f->ev.id = f->id;
	f->ev.namespace_ = rj->job->namespace_;
	f->ev.jobid = rj->job->id;
	f->ev.triggeredby = f->trigger;
	f->ev.has_type = f->ev.has_priority = f->ev.has_status = 1;
	f->ev.type = rj->job->type;
	f->ev.priority = rj->job->priority;
	f->ev.status = NOMAD__EVALUATION__STATUS_KIND__pending;
	f->ev.has_createtime = 1;
	f->ev.createtime = EPOCH_NS + r->now_ms * 1000000;
}

/*
 * One call of the scheduler, timed: the only wall-clock read. Placements
 * the call did not make for the job's missing allocations count as
 * failed; the job waits in the queue while any are missing.
 */
static int evaluate(struct run *r, size_t ji, const nomad_eval *ev)
{
	struct run_job *rj = &r->jobs[ji];
	nomad_sched_input in = {ev, EPOCH_NS + r->now_ms * 1000000, r->o->seed};
	uint64_t missing = rj->job->stop ? 0 : rj->unplaced;
	uint64_t placed = r->c.placed;
	nomad_error err;
	int64_t t0 = nomad_clock_monotonic_ns(NULL);
	nomad_err rc = nomad_sched_process(r->sched, &in, &err);
	GROW(r->c.latency, r->c.n_latency, r->c.cap_latency);
	r->c.latency[r->c.n_latency++] = nomad_clock_monotonic_ns(NULL) - t0;
	r->c.evals++;
	if (rc != NOMAD_OK) {
		fprintf(stderr, PROG ": job %s: evaluation %s: %s: %s\n",
			rj->spec->id, ev->id, nomad_strerror(rc), err.message);
		return -1;
	}
	if (missing > r->c.placed - placed)
		r->c.failed += missing - (r->c.placed - placed);
	if (rj->next_blocked) {
		nomad_eval_free(rj->blocked);
		rj->blocked = rj->next_blocked;
		rj->next_blocked = NULL;
	}
	if (!rj->unplaced && rj->blocked) {
		nomad_eval_free(rj->blocked); /* nothing left to wait for */
		rj->blocked = NULL;
	}
	queue_update(r, ji);
	return 0;
}

static int job_arrive(struct run *r, size_t ji)
{
	struct run_job *rj = &r->jobs[ji];
	struct fresh_eval f;
	if (job_build(r, rj) < 0)
		return -1;
	rj->state = JOB_ACTIVE;
	rj->placed = xcalloc(rj->spec->n_groups, sizeof(*rj->placed));
	for (size_t g = 0; g < rj->spec->n_groups; g++)
		rj->unplaced += (uint64_t)rj->spec->groups[g].count;
	r->queued_allocs += rj->unplaced;
	eval_fresh(r, rj, &f, "job-register");
	if (evaluate(r, ji, &f.ev) < 0)
		return -1;
	rj->waited = rj->unplaced > 0;
	return 0;
}

/* A service job's time is up: deregister it (Nomad's `job stop`), and
 * let the scheduler stop its allocations. Those still waiting for room
 * are cancelled. */
static int job_stop(struct run *r, size_t ji)
{
	struct run_job *rj = &r->jobs[ji];
	struct fresh_eval f;
	rj->job->has_stop = rj->job->stop = 1;
	eval_fresh(r, rj, &f, "job-deregister");
	if (evaluate(r, ji, &f.ev) < 0)
		return -1;
	r->c.cancelled += rj->unplaced;
	r->queued_allocs -= rj->unplaced;
	rj->unplaced = 0;
	job_finish(r, ji);
	return 0;
}

/* A batch job's allocations whose time is up complete. */
static void job_complete(struct run *r, size_t ji)
{
	struct run_job *rj = &r->jobs[ji];
	for (size_t i = 0; i < rj->n_allocs; i++) {
		struct sim_alloc *sa = alloc_of(rj->allocs[i]);
		if (!sa->live || sa->end_ms > r->now_ms)
			continue;
		sa->a.clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__complete;
		node_release(r, sa);
	}
	if (!rj->unplaced && !rj->live)
		job_finish(r, ji);
}

/* Whether a waiting job has an allocation that fits on a node that freed
 * room in this instant: only then can evaluating it again place more. */
static bool fits_freed(const struct run *r, const struct run_job *rj,
		       int64_t max_cpu, int64_t max_mem)
{
	for (size_t g = 0; g < rj->spec->n_groups; g++) {
		const struct wl_group *grp = &rj->spec->groups[g];
		if (rj->placed[g] >= grp->count || grp->cpu > max_cpu ||
		    grp->mem > max_mem)
			continue;
		for (size_t d = 0; d < r->n_dirty; d++) {
			const struct node *n = r->dirty[d];
			if (n->view.cpu_mhz - n->used_cpu >= grp->cpu &&
			    n->view.memory_mb - n->used_mem >= grp->mem)
				return true;
		}
	}
	return false;
}

/*
 * Room freed up: evaluate the waiting jobs again, oldest first, with the
 * blocked evaluations the scheduler left them. Nomad's blocked-evals
 * tracker unblocks on any capacity change of a node class it could use;
 * this one asks the sharper question of fits_freed(), so that a queue of
 * jobs too large for the room freed costs nothing.
 */
static int retry_waiting(struct run *r)
{
	int64_t max_cpu = 0, max_mem = 0;
	size_t next;
	for (size_t d = 0; d < r->n_dirty; d++) {
		const struct node *n = r->dirty[d];
		if (n->view.cpu_mhz - n->used_cpu > max_cpu)
			max_cpu = n->view.cpu_mhz - n->used_cpu;
		if (n->view.memory_mb - n->used_mem > max_mem)
			max_mem = n->view.memory_mb - n->used_mem;
	}
	for (size_t ji = r->n_dirty ? r->q_head : NONE; ji != NONE; ji = next) {
		struct run_job *rj = &r->jobs[ji];
		struct fresh_eval f;
		next = rj->next;
		if (!fits_freed(r, rj, max_cpu, max_mem))
			continue;
		if (!rj->blocked) { /* the scheduler should have made one */
			r->c.anomalies++;
			eval_fresh(r, rj, &f, "queued-allocs");
		}
		if (evaluate(r, ji, rj->blocked ? rj->blocked : &f.ev) < 0)
			return -1;
	}
	r->n_dirty = 0;
	r->instant++;
	return 0;
}

/* ---- utilisation samples ------------------------------------------- */

static double pct(int64_t part, int64_t total)
{
	return total > 0 ? 100.0 * (double)part / (double)total : 0;
}

/* Samples at every interval before `t`: the state after every event up
 * to and including the sample's time. */
static void sample_until(struct run *r, int64_t t)
{
	while (r->next_sample_ms < t) {
		struct sample *s;
		if (r->n_samples == MAX_SAMPLES) {
			int64_t skip = (t - r->next_sample_ms + r->interval_ms - 1) /
				       r->interval_ms;
			r->next_sample_ms += skip * r->interval_ms;
			r->samples_capped = true;
			return;
		}
		GROW(r->samples, r->n_samples, r->cap_samples);
		s = &r->samples[r->n_samples++];
		s->t = r->next_sample_ms;
		s->cpu = pct(r->used_cpu, r->cap_cpu);
		s->mem = pct(r->used_mem, r->cap_mem);
		s->scpu = pct(r->strand_cpu, r->cap_cpu - r->used_cpu);
		s->smem = pct(r->strand_mem, r->cap_mem - r->used_mem);
		s->running = r->running;
		s->queued = r->queued_allocs;
		s->empty = r->empty;
		r->next_sample_ms += r->interval_ms;
	}
}

/* ---- the run ------------------------------------------------------- */

static int handle(struct run *r, const struct event *e)
{
	if (r->jobs[e->job].state != JOB_ACTIVE)
		return 0;
	if (e->kind == EV_STOP)
		return job_stop(r, e->job);
	job_complete(r, e->job);
	return 0;
}

/*
 * The event loop, in virtual time. At each instant: the events due
 * (completions, service stops), then the waiting jobs that the room
 * freed may now fit, then the jobs arriving, so that jobs that waited
 * get the room before newcomers.
 */
int run_loop(struct run *r)
{
	const struct workload *w = r->w;
	for (;;) {
		bool have_event = r->n_heap > 0;
		bool have_arrival = r->next_arrival < w->n;
		int64_t t;
		if (!have_event && !have_arrival)
			break;
		t = !have_arrival ? r->heap[0].t
		    : !have_event ? w->jobs[r->next_arrival].arrive_ms
		    : r->heap[0].t < w->jobs[r->next_arrival].arrive_ms
			    ? r->heap[0].t : w->jobs[r->next_arrival].arrive_ms;
		sample_until(r, t);
		r->now_ms = r->end_ms = t;
		while (r->n_heap && r->heap[0].t == t) {
			struct event e = heap_pop(r);
			if (handle(r, &e) < 0)
				return -1;
		}
		if (retry_waiting(r) < 0)
			return -1;
		while (r->next_arrival < w->n &&
		       w->jobs[r->next_arrival].arrive_ms == t)
			if (job_arrive(r, r->next_arrival++) < 0)
				return -1;
	}
	sample_until(r, r->end_ms + 1);
	return 0;
}

int run_init(struct run *r, const struct options *o, const struct workload *w,
	     enum algorithm alg)
{
	nomad_sched_config cfg = NOMAD_SCHED_CONFIG_INIT;
	nomad_error err;
	memset(r, 0, sizeof(*r));
	r->o = o;
	r->w = w;
	r->q_head = r->q_tail = NONE;
	r->instant = 1;
	r->n_nodes = (size_t)o->nodes;
	r->nodes = xcalloc(r->n_nodes, sizeof(*r->nodes));
	r->views = xcalloc(r->n_nodes, sizeof(*r->views));
	for (size_t i = 0; i < r->n_nodes; i++)
		if (node_init(r, i) < 0)
			return -1;
	r->jobs = xcalloc(w->n, sizeof(*r->jobs));
	for (size_t i = 0; i < w->n; i++) {
		r->jobs[i].spec = &w->jobs[i];
		r->jobs[i].prev = r->jobs[i].next = NONE;
		map_put(&r->job_ids, w->jobs[i].id, i);
	}
	/* The algorithm, as `nomad operator scheduler set-config` sets it. */
	if (!(r->config = nomad_scheduler_config_new())) {
		fprintf(stderr, PROG ": out of memory\n");
		return -1;
	}
	r->config->has_scheduleralgorithm = 1;
	r->config->scheduleralgorithm = alg == ALG_SPREAD
		? NOMAD__SCHEDULER_ALGORITHM__spread
		: NOMAD__SCHEDULER_ALGORITHM__binpack;
	cfg.state = &state_ops;
	cfg.state_userdata = r;
	cfg.planner = &planner_ops;
	cfg.planner_userdata = r;
	if (nomad_sched_new(&r->sched, &cfg, &err) != NOMAD_OK) {
		fprintf(stderr, PROG ": scheduler: %s\n", err.message);
		return -1;
	}
	r->interval_ms = llround(o->interval * 1000);
	if (r->interval_ms < 1)
		r->interval_ms = 1;
	r->next_sample_ms = w->jobs[0].arrive_ms / r->interval_ms * r->interval_ms;
	return 0;
}

void run_free(struct run *r)
{
	for (size_t i = 0; r->jobs && i < r->w->n; i++)
		if (r->jobs[i].state == JOB_ACTIVE)
			job_finish(r, i);
	for (size_t i = 0; r->nodes && i < r->n_nodes; i++) {
		nomad_node_free(r->nodes[i].node);
		free(r->nodes[i].usage);
	}
	nomad_sched_free(r->sched);
	nomad_scheduler_config_free(r->config);
	map_free(&r->job_ids);
	map_free(&r->alloc_ids);
	free(r->nodes);
	free(r->views);
	free(r->jobs);
	free(r->heap);
	free(r->dirty);
	free(r->rejected);
	free(r->committed);
	free(r->samples);
	free(r->c.latency);
	memset(r, 0, sizeof(*r));
}
