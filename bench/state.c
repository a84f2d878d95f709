/* SPDX-License-Identifier: MPL-2.0 */
/*
 * `make bench BENCH=state`: the state store at the scale of a large
 * cluster: 5,000 nodes and 1,000,000 realistic allocations, in the
 * durability mode the server runs (WAL, no fsync: the Raft log is the
 * durable record).
 *
 *   state.insert_allocs_per_s   1M allocations in transactions of 1,000
 *   state.reopen_ms             opening that store after the writer was
 *                               killed with SIGKILL
 *   state.node_query_per_s      one node's allocations (about 200), read
 *                               and decoded through a snapshot
 *   state.view_node_query_per_s the same through the in-memory scheduler
 *                               view (built once, on first use)
 *   state.plan_apply_per_s      plan results of 10 placements each
 *   state.snapshot_open_us      opening and closing a read snapshot
 *   state.rss_mb_1m             resident memory while holding the store
 *                               and its scheduler view
 *
 * NMD_BENCH_ALLOCS and NMD_BENCH_NODES scale it down for a quick look.
 * Compare with ../shared/peers/memdb/run.sh -rows 1000000 -nodes 5000.
 */
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nomad/nomad.h>
#include <nomad/state.h>

#include "bench.h"

#define BATCH 1000

static long n_allocs = 1000000, n_nodes = 5000, n_jobs = 10000;
static char dir[] = "/tmp/nmd-bench-state-XXXXXX";
static char path[256];

static char *sdup(const char *s)
{
	return strdup(s);
}

static Nomad__StringEntry *entry(const char *k, const char *v)
{
	Nomad__StringEntry *e = malloc(sizeof(*e));
	nomad__string_entry__init(e);
	e->key = sdup(k);
	e->value = sdup(v);
	return e;
}

/* What the scheduler writes for one placement: resources per task with a
 * dynamic port, placement metrics, statuses and times. */
static nomad_alloc *make_alloc(long n, long node, long job)
{
	char id[NOMAD_UUID_LEN + 1], name[64];
	nomad_alloc *a = nomad_alloc_new();
	Nomad__AllocatedResources *ar = malloc(sizeof(*ar));
	Nomad__AllocatedTaskResourcesEntry *te = malloc(sizeof(*te));
	Nomad__AllocatedTaskResources *tr = malloc(sizeof(*tr));
	Nomad__AllocationMetric *m = malloc(sizeof(*m));
	nomad__allocated_resources__init(ar);
	nomad__allocated_task_resources_entry__init(te);
	nomad__allocated_task_resources__init(tr);
	nomad__allocation_metric__init(m);

	bench_uuid('a', n, id);
	a->id = sdup(id);
	bench_uuid('e', job, id);
	a->evalid = sdup(id);
	bench_uuid('n', node, id);
	a->nodeid = sdup(id);
	snprintf(name, sizeof(name), "node-%05ld", node);
	a->nodename = sdup(name);
	snprintf(name, sizeof(name), "job-%05ld", job);
	a->jobid = sdup(name);
	snprintf(name, sizeof(name), "job-%05ld.web[%ld]", job, n / n_jobs);
	a->name = sdup(name);
	a->namespace_ = sdup("default");
	a->taskgroup = sdup("web");
	a->has_desiredstatus = a->has_clientstatus = 1;
	a->desiredstatus = NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run;
	a->clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__pending;
	a->has_createtime = a->has_modifytime = 1;
	a->createtime = a->modifytime = 1700000000000000000LL + n;

	tr->cpu = malloc(sizeof(*tr->cpu));
	nomad__allocated_cpu_resources__init(tr->cpu);
	tr->cpu->has_cpushares = 1;
	tr->cpu->cpushares = 500;
	tr->memory = malloc(sizeof(*tr->memory));
	nomad__allocated_memory_resources__init(tr->memory);
	tr->memory->has_memorymb = 1;
	tr->memory->memorymb = 256;
	te->key = sdup("server");
	te->value = tr;
	ar->n_tasks = 1;
	ar->tasks = malloc(sizeof(*ar->tasks));
	ar->tasks[0] = te;
	ar->shared = malloc(sizeof(*ar->shared));
	nomad__allocated_shared_resources__init(ar->shared);
	ar->shared->has_diskmb = 1;
	ar->shared->diskmb = 300;
	ar->shared->n_ports = 1;
	ar->shared->ports = malloc(sizeof(*ar->shared->ports));
	ar->shared->ports[0] = malloc(sizeof(**ar->shared->ports));
	nomad__allocated_port_mapping__init(ar->shared->ports[0]);
	ar->shared->ports[0]->label = sdup("http");
	ar->shared->ports[0]->has_value = 1;
	ar->shared->ports[0]->value = 20000 + (int)(n % 10000);
	ar->shared->ports[0]->hostip = sdup("10.0.3.17");
	a->allocatedresources = ar;

	m->has_nodesevaluated = m->has_nodesfiltered = m->has_nodesinpool = 1;
	m->nodesevaluated = 6;
	m->nodesinpool = (int32_t)n_nodes;
	m->has_allocationtime = 1;
	m->allocationtime = 183000;
	m->nodepool = sdup("default");
	m->n_nodesavailable = 1;
	m->nodesavailable = malloc(sizeof(*m->nodesavailable));
	m->nodesavailable[0] = malloc(sizeof(**m->nodesavailable));
	nomad__int_entry__init(m->nodesavailable[0]);
	m->nodesavailable[0]->key = sdup("dc1");
	m->nodesavailable[0]->has_value = 1;
	m->nodesavailable[0]->value = n_nodes;
	a->metrics = m;
	return a;
}

static nomad_job *make_job(long job)
{
	char id[64];
	nomad_job *j = nomad_job_new();
	snprintf(id, sizeof(id), "job-%05ld", job);
	j->id = sdup(id);
	j->name = sdup(id);
	j->namespace_ = sdup("default");
	j->has_version = 1;
	j->version = 0;
	j->n_meta = 1;
	j->meta = malloc(sizeof(*j->meta));
	j->meta[0] = entry("owner", "team-a");
	return j;
}

static void must(nomad_err rc, const nomad_error *err, const char *what)
{
	if (rc != NOMAD_OK) {
		fprintf(stderr, "bench state: %s: %s\n", what,
			err ? err->message : nomad_strerror(rc));
		exit(1);
	}
}

static nomad_state *open_store(void)
{
	nomad_state_config cfg = NOMAD_STATE_CONFIG_INIT;
	nomad_state *s;
	nomad_error err;
	cfg.path = path;
	must(nomad_state_open(&s, &cfg, &err), &err, "open");
	return s;
}

static void register_nodes(nomad_state *s, uint64_t *index)
{
	nomad_state_txn *txn;
	nomad_error err;
	must(nomad_state_txn_begin(s, ++*index, &txn, &err), &err, "begin");
	for (long i = 0; i < n_nodes; i++) {
		char id[NOMAD_UUID_LEN + 1], name[32];
		nomad_node *nd = nomad_node_new();
		bench_uuid('n', i, id);
		snprintf(name, sizeof(name), "node-%05ld", i);
		nd->id = sdup(id);
		nd->name = sdup(name);
		nd->datacenter = sdup("dc1");
		must(nomad_state_node_upsert(txn, nd, &err), &err, "node");
		nomad_node_free(nd);
	}
	must(nomad_state_txn_commit(txn, &err), &err, "commit");
}

/* The child: build the store, report the insert rate, wait to be killed. */
static void build_store(int report_fd)
{
	nomad_state *s = open_store();
	uint64_t index = 0;
	double start, secs;
	char line[128];
	nomad_job **jobs = calloc((size_t)n_jobs, sizeof(*jobs));
	register_nodes(s, &index);
	for (long j = 0; j < n_jobs; j++)
		jobs[j] = make_job(j);
	/* Only the transactions are timed, as the peer harness times only
	 * its inserts: building and freeing the objects is the caller's. */
	secs = 0;
	for (long i = 0; i < n_allocs; i += BATCH) {
		nomad_alloc *batch[BATCH];
		long n = n_allocs - i < BATCH ? n_allocs - i : BATCH;
		nomad_state_txn *txn;
		nomad_error err;
		for (long k = 0; k < n; k++) {
			long id = i + k, job = id % n_jobs;
			batch[k] = make_alloc(id, (id * 7919) % n_nodes, job);
			/* The plan hands every placement its job. */
			batch[k]->job = jobs[job];
		}
		start = bench_now();
		must(nomad_state_txn_begin(s, ++index, &txn, &err), &err, "begin");
		must(nomad_state_allocs_upsert(txn, batch, (size_t)n, &err), &err,
		     "upsert");
		must(nomad_state_txn_commit(txn, &err), &err, "commit");
		secs += bench_now() - start;
		for (long k = 0; k < n; k++) {
			batch[k]->job = NULL;
			nomad_alloc_free(batch[k]);
		}
	}
	snprintf(line, sizeof(line), "bench state.insert_allocs_per_s %.0f rows/s\n",
		 (double)n_allocs / secs);
	if (write(report_fd, line, strlen(line)) < 0)
		_exit(1);
	if (getenv("NMD_BENCH_PROFILE"))
		exit(0); /* let a profiler see the writer finish */
	pause(); /* killed with SIGKILL, store open, mid-life */
	_exit(0);
}

static int count_cb(const ProtobufCMessage *obj, void *ud)
{
	(void)obj;
	++*(long *)ud;
	return 0;
}

struct qctx {
	nomad_state *s;
	nomad_state_snap *snap;
	long rows;
	unsigned seed;
	uint64_t index;
};

static void node_query(void *arg)
{
	struct qctx *q = arg;
	char id[NOMAD_UUID_LEN + 1];
	q->seed = q->seed * 1103515245u + 12345u;
	bench_uuid('n', (long)(q->seed >> 8) % n_nodes, id);
	if (nomad_state_allocs_by_node(q->snap, id, 0, count_cb, &q->rows, NULL))
		exit(1);
}

static int count_view(const nomad_state_view_alloc *a, void *ud)
{
	(void)a;
	++*(long *)ud;
	return 0;
}

static void view_node_query(void *arg)
{
	struct qctx *q = arg;
	char id[NOMAD_UUID_LEN + 1];
	q->seed = q->seed * 1103515245u + 12345u;
	bench_uuid('n', (long)(q->seed >> 8) % n_nodes, id);
	if (nomad_state_view_node_allocs(q->s, id, count_view, &q->rows, NULL))
		exit(1);
}

static void snapshot_open(void *arg)
{
	struct qctx *q = arg;
	nomad_state_snap *snap;
	if (nomad_state_snapshot(q->s, &snap, NULL))
		exit(1);
	nomad_state_snap_close(snap);
}

static long plan_seq;

static void plan_apply(void *arg)
{
	struct qctx *q = arg;
	nomad_plan_result *r = nomad_plan_result_new();
	Nomad__AllocationListEntry *e = malloc(sizeof(*e));
	Nomad__AllocationList *list = malloc(sizeof(*list));
	nomad_state_txn *txn;
	nomad_error err;
	long node = plan_seq % n_nodes;
	char id[NOMAD_UUID_LEN + 1];
	nomad__allocation_list_entry__init(e);
	nomad__allocation_list__init(list);
	bench_uuid('n', node, id);
	e->key = sdup(id);
	e->value = list;
	list->items = calloc(10, sizeof(*list->items));
	for (int i = 0; i < 10; i++)
		list->items[list->n_items++] =
			make_alloc(n_allocs + plan_seq * 10 + i, node, plan_seq % n_jobs);
	r->n_nodeallocation = 1;
	r->nodeallocation = malloc(sizeof(*r->nodeallocation));
	r->nodeallocation[0] = e;
	plan_seq++;
	must(nomad_state_txn_begin(q->s, ++q->index, &txn, &err), &err, "begin");
	must(nomad_state_plan_apply(txn, r, NULL, 0, &err), &err, "plan");
	must(nomad_state_txn_commit(txn, &err), &err, "commit");
	nomad_plan_result_free(r);
}

static long rss_mb(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kb = 0;
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	return kb / 1024;
}

int main(void)
{
	int fds[2];
	char line[512];
	ssize_t n;
	pid_t pid;
	struct qctx q = {0};
	double start, reopen_ms;
	const char *e;

	if ((e = getenv("NMD_BENCH_ALLOCS")))
		n_allocs = atol(e);
	if ((e = getenv("NMD_BENCH_NODES")))
		n_nodes = atol(e);
	BENCH_CHECK(mkdtemp(dir) != NULL);
	snprintf(path, sizeof(path), "%s/state.db", dir);
	BENCH_CHECK(pipe(fds) == 0);
	fflush(stdout);
	if ((pid = fork()) == 0) {
		close(fds[0]);
		build_store(fds[1]);
	}
	close(fds[1]);
	n = read(fds[0], line, sizeof(line) - 1);
	BENCH_CHECK(n > 0);
	line[n] = '\0';
	fputs(line, stdout);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);

	start = bench_now();
	q.s = open_store();
	reopen_ms = (bench_now() - start) * 1000;
	printf("bench state.reopen_ms %.1f ms\n", reopen_ms);
	q.index = nomad_state_last_index(q.s);

	BENCH_CHECK(nomad_state_snapshot(q.s, &q.snap, NULL) == NOMAD_OK);
	{
		char id[NOMAD_UUID_LEN + 1];
		long rows = 0;
		bench_uuid('n', 0, id);
		BENCH_CHECK(nomad_state_allocs_by_node(q.snap, id, 0, count_cb,
						       &rows, NULL) == NOMAD_OK);
		fprintf(stderr, "bench state: %ld allocations, %ld nodes; node 0 "
				"holds %ld\n", n_allocs, n_nodes, rows);
	}
	q.seed = 42;
	bench_report_rate("state.node_query_per_s", node_query, &q, 1.0);
	nomad_state_snap_close(q.snap);
	{
		/* The scheduler view: built once, from the tables. */
		double t0 = bench_now();
		BENCH_CHECK(nomad_state_view_index(q.s) > 0);
		fprintf(stderr, "bench state: scheduler view built in %.0f ms\n",
			(bench_now() - t0) * 1000);
	}
	bench_report_rate("state.view_node_query_per_s", view_node_query, &q, 1.0);
	printf("bench state.rss_mb_1m %ld MB\n", rss_mb());

	bench_report_rate("state.plan_apply_per_s", plan_apply, &q, 1.0);
	bench_report_us("state.snapshot_open_us", snapshot_open, &q, 0.5);
	nomad_state_close(q.s);
	unlink(path);
	snprintf(line, sizeof(line), "%s-wal", path);
	unlink(line);
	snprintf(line, sizeof(line), "%s-shm", path);
	unlink(line);
	rmdir(dir);
	return 0;
}
