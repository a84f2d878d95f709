/* SPDX-License-Identifier: MPL-2.0 */
/*
 * `make bench BENCH=sched`: the generic scheduler reading the cluster
 * through the state store's scheduler source, as the server's workers
 * will, on one thread. The planner takes each plan as committed without
 * writing it (the leader's plan applier is measured with the store), so
 * the figures are the scheduler's own.
 *
 *   sched.place_per_s   one service job of 10,000 allocations onto 5,000
 *                       nodes of three shapes
 *   sched.evals_per_s   5,000 jobs of 10 allocations, one evaluation each,
 *                       onto 5,000 nodes already holding 50,000
 *   sched.constrained_place_per_s  the first case with three constraints,
 *                       an affinity and a spread
 *   sched.system_10k_ms a system job onto 10,000 nodes
 *   sched.spread_10k_ms Nomad's large-cluster spread case: 10,000 nodes of
 *                       14,000 MHz and 32,000 MB in 100 racks, 500
 *                       allocations of 6,000 MHz and 6,000 MB spread on
 *                       ${meta.rack}
 */
#include <string.h>
#include <unistd.h>

#include <nomad/nomad.h>

#include "bench.h"

#define N_NODES 5000

static char dir[] = "/tmp/nmd-bench-sched-XXXXXX";

static void must(nomad_err rc, const nomad_error *err, const char *what)
{
	if (rc != NOMAD_OK) {
		fprintf(stderr, "bench sched: %s: %s\n", what,
			err ? err->message : nomad_strerror(rc));
		exit(1);
	}
}


/* A node as a client registers one, in Nomad's JSON: of one of three
 * shapes (cpu 0), or of the given size; in one of `racks` racks. */
static nomad_node *make_node(long i, int cpu, int mem, long racks)
{
	char json[1024], id[NOMAD_UUID_LEN + 1];
	nomad_node *n = NULL;
	nomad_error err;
	int shape = (int)(i % 3) + 1; /* 4, 8 or 12 GHz; 8, 16 or 24 GB */
	if (!cpu) {
		cpu = 4000 * shape;
		mem = 8192 * shape;
	}
	bench_uuid('n', i, id);
	snprintf(json, sizeof(json),
		 "{\"ID\":\"%s\",\"Name\":\"node-%05ld\",\"Datacenter\":\"dc%ld\","
		 "\"NodePool\":\"default\",\"Status\":\"ready\","
		 "\"SchedulingEligibility\":\"eligible\","
		 "\"Attributes\":{\"kernel.name\":\"linux\",\"driver.docker\":\"1\","
		 "\"unique.hostname\":\"node-%05ld\"},\"Meta\":{\"rack\":\"r%ld\"},"
		 "\"Drivers\":{\"docker\":{\"Detected\":true,\"Healthy\":true}},"
		 "\"NodeResources\":{\"Cpu\":{\"CpuShares\":%d},"
		 "\"Memory\":{\"MemoryMB\":%d},\"Disk\":{\"DiskMB\":100000}},"
		 "\"ComputedClass\":\"v1:%d-%d-r%ld-dc%ld\"}",
		 id, i, i % 2 + 1, i, i % racks, cpu, mem, cpu, mem, i % racks,
		 i % 2 + 1);
	must(nomad_node_from_json(&n, json, strlen(json), NULL, &err), &err, "node");
	return n;
}

static nomad_job *make_job_with(const char *id, const char *type, int count,
				int cpu, int mem, const char *extra)
{
	char json[2048];
	nomad_job *j = NULL;
	nomad_error err;
	snprintf(json, sizeof(json),
		 "{\"ID\":\"%s\",\"Name\":\"%s\",\"Type\":\"%s\","
		 "\"Datacenters\":[\"dc*\"],\"TaskGroups\":[{\"Name\":\"app\","
		 "\"Count\":%d,%s\"Tasks\":[{\"Name\":\"main\",\"Driver\":\"docker\","
		 "\"Resources\":{\"CPU\":%d,\"MemoryMB\":%d}}]}]}",
		 id, id, type, count, extra, cpu, mem);
	must(nomad_job_from_json(&j, json, strlen(json), NULL, &err), &err, "job");
	must(nomad_job_canonicalize(j, &err), &err, "canonicalize");
	return j;
}

static nomad_job *make_job(const char *id, const char *type, int count,
			   int cpu, int mem)
{
	return make_job_with(id, type, count, cpu, mem, "");
}

/* ---- a planner that takes every plan as committed ------------------------ */

static long placed;

static nomad_err submit(void *ud, const nomad_plan *plan,
			const nomad_plan_result **result)
{
	(void)ud;
	for (size_t i = 0; i < plan->n_nodeallocation; i++)
		placed += (long)plan->nodeallocation[i]->value->n_items;
	*result = NULL;
	return NOMAD_OK;
}

static nomad_err eval_noop(void *ud, const nomad_eval *e)
{
	(void)ud;
	(void)e;
	return NOMAD_OK;
}

static const nomad_sched_planner_ops planner = {
	NOMAD_SCHED_PLANNER_OPS_VERSION, submit, eval_noop, eval_noop, eval_noop};

/* ---- the store ------------------------------------------------------------ */

static uint64_t idx;

static nomad_state *open_store(const char *file, long nodes, int cpu, int mem,
			       long racks)
{
	char path[256];
	nomad_state_config cfg = NOMAD_STATE_CONFIG_INIT;
	nomad_state *s;
	nomad_error err;
	nomad_state_txn *txn;
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	cfg.path = path;
	must(nomad_state_open(&s, &cfg, &err), &err, "open");
	must(nomad_state_txn_begin(s, ++idx, &txn, &err), &err, "begin");
	for (long i = 0; i < nodes; i++) {
		nomad_node *n = make_node(i, cpu, mem, racks);
		must(nomad_state_node_upsert(txn, n, &err), &err, "node upsert");
		nomad_node_free(n);
	}
	must(nomad_state_txn_commit(txn, &err), &err, "commit");
	return s;
}

static void put_jobs(nomad_state *s, nomad_job **jobs, size_t n)
{
	nomad_state_txn *txn;
	nomad_error err;
	must(nomad_state_txn_begin(s, ++idx, &txn, &err), &err, "begin");
	for (size_t i = 0; i < n; i++)
		must(nomad_state_job_upsert(txn, jobs[i], &err), &err, "job upsert");
	must(nomad_state_txn_commit(txn, &err), &err, "commit");
}

/* 10 small allocations on every node, of 5,000 background jobs. */
static void fill_nodes(nomad_state *s)
{
	for (long base = 0; base < N_NODES * 10; base += 1000) {
		nomad_alloc *batch[1000];
		nomad_state_txn *txn;
		nomad_error err;
		for (long k = 0; k < 1000; k++) {
			long n = base + k;
			char id[NOMAD_UUID_LEN + 1], name[64];
			nomad_alloc *a = nomad_alloc_new();
			bench_uuid('a', n, id);
			a->id = strdup(id);
			bench_uuid('n', n % N_NODES, id);
			a->nodeid = strdup(id);
			snprintf(name, sizeof(name), "bg-%04ld", n % 5000);
			a->jobid = strdup(name);
			snprintf(name, sizeof(name), "bg-%04ld.app[%ld]", n % 5000,
				 n / 5000);
			a->name = strdup(name);
			a->namespace_ = strdup("default");
			a->taskgroup = strdup("app");
			a->has_desiredstatus = a->has_clientstatus = 1;
			a->desiredstatus = NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run;
			a->clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__running;
			batch[k] = a;
		}
		must(nomad_state_txn_begin(s, ++idx, &txn, &err), &err, "begin");
		must(nomad_state_allocs_upsert(txn, batch, 1000, &err), &err, "allocs");
		must(nomad_state_txn_commit(txn, &err), &err, "commit");
		for (long k = 0; k < 1000; k++)
			nomad_alloc_free(batch[k]);
	}
}

static double schedule(nomad_state_sched_source *src, const char *job_id,
		       Nomad__JobType type, uint64_t seed)
{
	nomad_sched_config cfg = NOMAD_SCHED_CONFIG_INIT;
	nomad_sched *sched;
	nomad_eval *e = nomad_eval_new();
	char eid[NOMAD_UUID_LEN + 1];
	nomad_sched_input in = {e, 1700000000000000000LL, seed};
	nomad_error err;
	double t0;
	bench_uuid('e', (long)seed, eid);
	e->id = eid;
	e->jobid = (char *)job_id;
	e->has_type = 1;
	e->type = type;
	cfg.state = nomad_state_sched_ops();
	cfg.state_userdata = src;
	cfg.planner = &planner;
	must(nomad_sched_new(&sched, &cfg, &err), &err, "sched");
	t0 = bench_now();
	must(nomad_sched_process(sched, &in, &err), &err, "process");
	t0 = bench_now() - t0;
	nomad_sched_free(sched);
	e->id = e->jobid = NULL;
	nomad_eval_free(e);
	return t0;
}

static void cleanup(void)
{
	static const char *const files[] = {"state.db", "state.db-wal",
					    "state.db-shm", "system.db",
					    "system.db-wal", "system.db-shm"};
	char path[512];
	for (size_t i = 0; i < 6; i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

/* Schedule job `job_id` (already stored) BENCH_RUNS times, each placing
 * `expect`, and print the median as placements per second or as
 * milliseconds per evaluation. */
static void measure(nomad_state_sched_source *src, const char *name,
		    const char *job_id, Nomad__JobType type, long expect,
		    bool as_rate)
{
	double runs[BENCH_RUNS];
	for (int r = 0; r < BENCH_RUNS; r++) {
		double secs;
		placed = 0;
		secs = schedule(src, job_id, type, (uint64_t)r + 1);
		BENCH_CHECK(placed == expect);
		runs[r] = as_rate ? (double)expect / secs : 1000 * secs;
	}
	qsort(runs, BENCH_RUNS, sizeof(*runs), bench_cmp_double);
	if (as_rate)
		printf("bench %s %.0f placements/s\n", name, runs[BENCH_RUNS / 2]);
	else
		printf("bench %s %.1f ms\n", name, runs[BENCH_RUNS / 2]);
	fflush(stdout);
}

int main(void)
{
	nomad_state *s;
	nomad_state_sched_source *src;
	nomad_job *big;
	BENCH_CHECK(mkdtemp(dir) != NULL);
	s = open_store("state.db", N_NODES, 0, 0, 50);
	must(nomad_state_sched_source_new(s, &src, NULL), NULL, "source");

	/* One job of 10,000 onto 5,000 empty nodes, five times. */
	big = make_job("big", "service", 10000, 100, 128);
	put_jobs(s, &big, 1);
	measure(src, "sched.place_per_s", "big", NOMAD__JOB_TYPE__service, 10000,
		true);
	nomad_job_free(big);

	/* The same with three constraints, an affinity and a spread. */
	big = make_job_with(
		"constrained", "service", 10000, 100, 128,
		"\"Constraints\":[{\"LTarget\":\"${attr.kernel.name}\","
		"\"RTarget\":\"linux\",\"Operand\":\"=\"},"
		"{\"LTarget\":\"${attr.driver.docker}\",\"Operand\":\"is_set\"},"
		"{\"LTarget\":\"${node.datacenter}\",\"RTarget\":\"^dc[12]$\","
		"\"Operand\":\"regexp\"}],"
		"\"Affinities\":[{\"LTarget\":\"${meta.rack}\",\"RTarget\":\"r1\","
		"\"Operand\":\"=\",\"Weight\":50}],"
		"\"Spreads\":[{\"Attribute\":\"${node.datacenter}\",\"Weight\":50}],");
	put_jobs(s, &big, 1);
	measure(src, "sched.constrained_place_per_s", "constrained",
		NOMAD__JOB_TYPE__service, 10000, true);
	nomad_job_free(big);

	/* 5,000 jobs of 10 onto nodes holding 50,000 allocations. */
	fill_nodes(s);
	{
		enum { JOBS = 5000 };
		static nomad_job *jobs[JOBS];
		double total = 0;
		for (long i = 0; i < JOBS; i++) {
			char id[32];
			snprintf(id, sizeof(id), "svc-%04ld", i);
			jobs[i] = make_job(id, "service", 10, 250, 256);
		}
		put_jobs(s, jobs, JOBS);
		placed = 0;
		for (long i = 0; i < JOBS; i++)
			total += schedule(src, jobs[i]->id, NOMAD__JOB_TYPE__service,
					  (uint64_t)i + 100);
		BENCH_CHECK(placed == JOBS * 10);
		printf("bench sched.evals_per_s %.0f evals/s\n", JOBS / total);
		for (long i = 0; i < JOBS; i++)
			nomad_job_free(jobs[i]);
	}
	nomad_state_sched_source_free(src);
	nomad_state_close(s);

	/* A system job onto 10,000 nodes. */
	s = open_store("system.db", 10000, 14000, 32000, 100);
	must(nomad_state_sched_source_new(s, &src, NULL), NULL, "source");
	big = make_job("agent", "system", 1, 100, 128);
	put_jobs(s, &big, 1);
	measure(src, "sched.system_10k_ms", "agent", NOMAD__JOB_TYPE__system, 10000,
		false);
	nomad_job_free(big);

	/* Nomad's large-cluster spread case: 500 of 6,000 MHz / 6,000 MB
	 * spread over 100 racks of 10,000 nodes. */
	big = make_job_with("spread", "service", 500, 6000, 6000,
			    "\"Spreads\":[{\"Attribute\":\"${meta.rack}\","
			    "\"Weight\":100}],");
	put_jobs(s, &big, 1);
	measure(src, "sched.spread_10k_ms", "spread", NOMAD__JOB_TYPE__service, 500,
		false);
	nomad_job_free(big);
	nomad_state_sched_source_free(src);
	nomad_state_close(s);
	cleanup();
	return 0;
}
