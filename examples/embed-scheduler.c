/* SPDX-License-Identifier: MPL-2.0 */
/*
 * embed-scheduler: a host with its own in-memory cluster that runs
 * libnomad's scheduler on it. Three nodes, one job of three web servers;
 * the host implements the two ops tables, the scheduler decides, and the
 * host prints the plan it was handed and commits nothing.
 *
 *   build/examples/embed-scheduler
 *
 * Public API only: <nomad/nomad.h>, linked with -lnomad.
 */
#include <stdio.h>
#include <string.h>

#include <nomad/nomad.h>

/* The job, as `nomad job run -output` would print it (JSON). */
static const char job_json[] =
	"{\"ID\":\"web\",\"Name\":\"web\",\"Type\":\"service\","
	"\"Datacenters\":[\"dc1\"],\"TaskGroups\":[{\"Name\":\"frontend\","
	"\"Count\":3,\"Tasks\":[{\"Name\":\"nginx\",\"Driver\":\"docker\","
	"\"Resources\":{\"CPU\":500,\"MemoryMB\":256}}]}]}";

/* Our cluster: what the host knows, in its own shape. */
struct host_node {
	const char *id, *name;
	int64_t cpu, mem;
	nomad_node *node;          /* built from these at start */
	nomad_sched_node view;     /* what the scheduler reads */
};

static struct host_node nodes[] = {
	{"11111111-0000-4000-8000-000000000001", "small", 1000, 1024, 0, {0}},
	{"22222222-0000-4000-8000-000000000002", "medium", 4000, 4096, 0, {0}},
	{"33333333-0000-4000-8000-000000000003", "large", 8000, 16384, 0, {0}},
};
#define N_NODES (sizeof(nodes) / sizeof(nodes[0]))

struct host {
	nomad_job *job;
	const nomad_sched_node *views[N_NODES];
};

/* ---- the state ops: the scheduler's window on our cluster ---------- */

static nomad_err begin(void *ud, uint64_t *index)
{
	(void)ud;
	*index = 1; /* our picture never changes in this example */
	return NOMAD_OK;
}

static nomad_err list_nodes(void *ud, const nomad_sched_node *const **out,
			    size_t *n)
{
	struct host *h = ud;
	*out = h->views;
	*n = N_NODES;
	return NOMAD_OK;
}

static nomad_err node_usage(void *ud, const char *node_id,
			    const nomad_sched_usage *const **out, size_t *n)
{
	(void)ud, (void)node_id;
	*out = NULL; /* nothing runs yet */
	*n = 0;
	return NOMAD_OK;
}

static nomad_err job_allocs(void *ud, const char *ns, const char *job_id,
			    const nomad_alloc *const **out, size_t *n)
{
	(void)ud, (void)ns, (void)job_id;
	*out = NULL;
	*n = 0;
	return NOMAD_OK;
}

static nomad_err find_job(void *ud, const char *ns, const char *job_id,
			  const nomad_job **out)
{
	struct host *h = ud;
	(void)ns;
	*out = strcmp(job_id, h->job->id) ? NULL : h->job;
	return NOMAD_OK;
}

static nomad_err no_deployment(void *ud, const char *ns, const char *job_id,
			       const nomad_deployment **out)
{
	(void)ud, (void)ns, (void)job_id;
	*out = NULL;
	return NOMAD_OK;
}

static nomad_err default_config(void *ud, const nomad_scheduler_config **out)
{
	(void)ud;
	*out = NULL; /* Nomad's defaults: bin-pack */
	return NOMAD_OK;
}

/* ---- the planner ops: where the decisions land ---------------------- */

static nomad_err submit_plan(void *ud, const nomad_plan *plan,
			     const nomad_plan_result **result)
{
	(void)ud;
	for (size_t i = 0; i < plan->n_nodeallocation; i++) {
		const Nomad__AllocationListEntry *e = plan->nodeallocation[i];
		for (size_t k = 0; k < e->value->n_items; k++)
			printf("place %-18s on %s\n", e->value->items[k]->name,
			       e->value->items[k]->nodename);
	}
	*result = NULL; /* a dry run: as if all of it were committed */
	return NOMAD_OK;
}

static nomad_err update_eval(void *ud, const nomad_eval *eval)
{
	(void)ud;
	printf("evaluation %s: %s\n", eval->id,
	       nomad_enum_name(&nomad__evaluation__status_kind__descriptor,
			       eval->status));
	return NOMAD_OK;
}

static nomad_err create_eval(void *ud, const nomad_eval *eval)
{
	(void)ud;
	printf("blocked evaluation %s created\n", eval->id);
	return NOMAD_OK;
}

static const nomad_sched_state_ops state_ops = {
	NOMAD_SCHED_STATE_OPS_VERSION, begin, list_nodes, node_usage,
	job_allocs, find_job, no_deployment, default_config};
static const nomad_sched_planner_ops planner_ops = {
	NOMAD_SCHED_PLANNER_OPS_VERSION, submit_plan, update_eval, create_eval,
	create_eval};

int main(void)
{
	static char eval_id[] = "eeeeeeee-0000-4000-8000-000000000001";
	struct host h = {0};
	nomad_sched_config cfg = NOMAD_SCHED_CONFIG_INIT;
	nomad_sched *sched;
	nomad_eval *eval = nomad_eval_new();
	nomad_sched_input in = {eval, 1700000000000000000LL, 42};
	nomad_error err;
	int status = 1;

	if (nomad_job_from_json(&h.job, job_json, strlen(job_json), NULL, &err) ||
	    nomad_job_canonicalize(h.job, &err)) {
		fprintf(stderr, "job: %s\n", err.message);
		return 1;
	}
	for (size_t i = 0; i < N_NODES; i++) {
		/* The whole node, as a client registers it: the driver check
		 * reads its Drivers. */
		static const char json[] = "{\"Drivers\":{\"docker\":"
					   "{\"Detected\":true,\"Healthy\":true}}}";
		struct host_node *n = &nodes[i];
		if (nomad_node_from_json(&n->node, json, strlen(json), NULL, &err)) {
			fprintf(stderr, "node: %s\n", err.message);
			return 1;
		}
		n->view = (nomad_sched_node){
			.node = n->node, .id = n->id, .name = n->name,
			.datacenter = "dc1", .node_pool = "default",
			.node_class = "", .status = NOMAD__NODE__STATUS_KIND__ready,
			.eligible = true, .cpu_mhz = n->cpu, .memory_mb = n->mem,
			.disk_mb = 10000};
		h.views[i] = &n->view;
	}

	eval->id = eval_id;
	eval->jobid = h.job->id;
	eval->has_type = 1;
	eval->type = NOMAD__JOB_TYPE__service;
	cfg.state = &state_ops;
	cfg.state_userdata = &h;
	cfg.planner = &planner_ops;
	cfg.planner_userdata = &h;
	if (nomad_sched_new(&sched, &cfg, &err) == NOMAD_OK) {
		if (nomad_sched_process(sched, &in, &err) == NOMAD_OK)
			status = 0;
		else
			fprintf(stderr, "schedule: %s\n", err.message);
		nomad_sched_free(sched);
	}
	eval->id = eval->jobid = NULL; /* borrowed, not ours to free */
	nomad_eval_free(eval);
	nomad_job_free(h.job);
	for (size_t i = 0; i < N_NODES; i++)
		nomad_node_free(nodes[i].node);
	return status;
}
