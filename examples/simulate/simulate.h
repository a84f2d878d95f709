/* SPDX-License-Identifier: MPL-2.0 */
/*
 * simulate: a cluster simulation that calls libnomad's scheduler as a
 * library. It builds N nodes of given shapes, feeds them a stream of jobs
 * (generated from a seed, or read from a CSV trace) in virtual time, and
 * reports utilisation over time, placement latency, waiting and
 * fragmentation. `-algorithm both` runs the same workload under bin-pack
 * and spread and prints the two side by side.
 *
 *   build/examples/simulate -nodes 1000 -jobs 2000 -rate 2
 *   build/examples/simulate -trace examples/traces/sample.csv -nodes 4
 *   build/examples/simulate -h
 *
 * examples/README.md documents every flag, the trace format and every
 * metric. Build it against an installed libnomad, from this directory,
 * with
 *
 *   cc *.c $(pkg-config --cflags --libs libnomad) -lm -o simulate
 *
 * How it fits together. The host (this program) owns the cluster: nodes,
 * the allocations on them (indexed by node, by job and by ID) and the
 * jobs. It implements the scheduler's state ops over that picture and its
 * planner ops as the plan applier: submit_plan checks each node's
 * placements still fit, commits them (usage goes up) and the plan's stops
 * (usage goes down). Events run in virtual time from a heap: a batch
 * job's allocations complete when their duration ends; a service job is
 * stopped (deregistered, through an evaluation) when its duration ends.
 * Jobs with allocations that did not fit wait in a FIFO queue with the
 * blocked evaluation the scheduler created, and are evaluated again when
 * capacity that could hold one of their allocations frees up.
 *
 * The only wall-clock reads time nomad_sched_process calls; everything
 * else, and so every figure but the latency ones, is the same for the
 * same flags and seed. State lives in a struct passed around: no global
 * mutable state.
 *
 * The files: util.c (allocation that cannot fail, a growing string, a
 * string-keyed map), flags.c (the command line), workload.c (the jobs,
 * from a trace or the generator), cluster.c (nodes, events, the queue of
 * waiting jobs, evaluations, samples and the run loop), planner.c (the
 * plan applier and the state ops: the scheduler's hands and eyes on the
 * cluster), report.c (the summary, the utilisation table and the CSV)
 * and main.c. This header holds the types they share and the functions
 * one file calls in another; everything else is static in its file.
 *
 * Public API only: <nomad/nomad.h>, linked with -lnomad (and -lm).
 */
#ifndef SIMULATE_H
#define SIMULATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <nomad/nomad.h>

#define PROG "simulate"
#define MAX_SHAPES 64
#define MAX_GROUPS 1000        /* task groups per job */
#define MAX_SAMPLES 1000000    /* utilisation samples kept per run */
#define EPOCH_NS 1700000000000000000LL /* virtual time 0, as Unix time */
#define NONE SIZE_MAX

/* ---- util.c: small helpers ----------------------------------------- */

/* Out of memory ends the program: a simulation has nothing to fall back
 * on, and every call site stays one line. */
void *xrealloc(void *p, size_t n, size_t size);
void *xcalloc(size_t n, size_t size);
char *xstrdup(const char *s);

/* Grow an array to hold one more element. */
#define GROW(arr, n, cap)                                                     \
	do {                                                                  \
		if ((n) == (cap)) {                                           \
			(cap) = (cap) ? (cap) * 2 : 16;                       \
			(arr) = xrealloc((arr), (cap), sizeof(*(arr)));       \
		}                                                             \
	} while (0)

/* A growing string, for the job JSON. */
struct sbuf {
	char *p;
	size_t n, cap;
};

/* A string-keyed hash map (open addressing, FNV-1a) from IDs to values;
 * keys are borrowed and must outlive their entry. Deleted entries leave a
 * tombstone until the next rehash. */
struct map_slot {
	const char *key;           /* NULL: empty; &tombstone: deleted */
	uintptr_t value;
};

struct map {
	struct map_slot *slots;
	size_t cap, used, live;    /* used counts tombstones too */
	char tombstone;            /* its address marks deleted slots */
};

void sb_printf(struct sbuf *b, const char *fmt, ...);
/* The value under `key` (which may be NULL) into *value; false if none. */
bool map_get(const struct map *m, const char *key, uintptr_t *value);
/* Add or replace. */
void map_put(struct map *m, const char *key, uintptr_t value);
void map_del(struct map *m, const char *key);
void map_free(struct map *m);

/* ---- flags.c: the command line ------------------------------------- */

enum algorithm { ALG_BINPACK, ALG_SPREAD, ALG_BOTH };

struct shape {
	int64_t cpu, mem;          /* MHz, MB */
	unsigned weight;
};

struct range {
	double lo, hi;
};

struct options {
	long nodes;
	struct shape shapes[MAX_SHAPES];
	size_t n_shapes;
	long racks;
	int algorithm;
	const char *trace;
	uint64_t seed;
	long jobs, allocs;
	double rate;
	struct range groups, count, cpu, memory, duration;
	double service_share, spread_share;
	double interval;
	const char *csv;
	const char *generator_flag; /* the first generator flag given */
};

void options_init(struct options *o);
/* Returns 0, 1 after -h (usage printed), or -1 after an error (said). */
int parse_flags(struct options *o, int argc, char **argv);
/* A number that is the whole of `s`. */
bool parse_number(const char *s, double *out);
bool within(double v, double min, double max, bool integer);

/* ---- workload.c: jobs as the trace or the generator describe them --- */

struct wl_group {
	char *name;
	long count;
	int64_t cpu, mem;          /* MHz and MB per allocation */
	char *spread;              /* a spread attribute, or NULL */
};

struct wl_job {
	char *id;
	bool service;
	int64_t arrive_ms, duration_ms;
	struct wl_group *groups;
	size_t n_groups, cap_groups;
	unsigned line;             /* its first trace line; 0 when generated */
	size_t seq;                /* order of appearance, for a stable sort */
};

struct workload {
	struct wl_job *jobs;
	size_t n, cap;
	const char *source;        /* the trace's path; NULL when generated */
	uint64_t allocs;           /* what all the jobs ask for */
	int64_t median_cpu, median_mem;
};

/* Read a CSV trace: 0, or -1 after saying what is wrong (file:line). */
int trace_load(struct workload *w, const char *path);
void generate(struct workload *w, const struct options *o);
void workload_medians(struct workload *w);
void workload_free(struct workload *w);

/* ---- cluster.c: the cluster and one run over it -------------------- */

struct node {
	char id[NOMAD_UUID_LEN + 1], name[24], class[24];
	nomad_node *node;          /* as a client would register it */
	nomad_sched_node view;     /* what the scheduler reads */
	int64_t used_cpu, used_mem;
	nomad_sched_usage **usage; /* its live allocations */
	size_t n_usage, cap_usage;
	uint64_t dirty;            /* the instant it last freed room */
};

/* What every allocation of one task group holds, shared by them all: the
 * scheduler reads it back when it stops one. */
struct group_res {
	Nomad__AllocatedResources ar;
	Nomad__AllocatedSharedResources shared;
	Nomad__AllocatedTaskResourcesEntry entry, *entries[1];
	Nomad__AllocatedTaskResources task;
	Nomad__AllocatedCpuResources cpu;
	Nomad__AllocatedMemoryResources mem;
};

/* One allocation, indexed three ways: on its node (node->usage), in its
 * job (run_job.allocs) and by ID (run.alloc_ids). */
struct sim_alloc {
	nomad_alloc a;             /* first: the job's list hands out &a */
	nomad_sched_usage u;       /* its entry in the node's usage */
	char id[NOMAD_UUID_LEN + 1];
	struct node *node;
	size_t at;                 /* its index in node->usage */
	size_t job, group;
	int64_t end_ms;            /* batch: when it completes */
	bool live;                 /* holds resources on its node */
};

enum job_state { JOB_PENDING, JOB_ACTIVE, JOB_DONE };

struct run_job {
	const struct wl_job *spec;
	enum job_state state;
	nomad_job *job;            /* built at arrival, freed when done */
	struct group_res *res;     /* per group */
	long *placed;              /* per group: allocations placed so far */
	nomad_alloc **allocs;      /* every allocation, terminal ones too */
	size_t n_allocs, cap_allocs;
	uint64_t unplaced, live;
	nomad_eval *blocked;       /* the scheduler's blocked evaluation */
	nomad_eval *next_blocked;  /* set during a call, swapped in after */
	bool waited, queued, all_placed;
	int64_t placed_all_ms, last_end_ms;
	size_t prev, next;         /* links in the queue of waiting jobs */
};

enum event_kind { EV_COMPLETE, EV_STOP };

struct event {
	int64_t t;
	uint64_t seq;              /* ties break in the order of pushing */
	enum event_kind kind;
	size_t job;
};

struct sample {
	int64_t t;
	double cpu, mem, scpu, smem; /* percent */
	uint64_t running, queued;
	int64_t empty;
};

struct counters {
	uint64_t evals, placed, failed, cancelled, rejected, anomalies;
	int64_t *latency;          /* ns per nomad_sched_process call */
	size_t n_latency, cap_latency;
};

struct run {
	const struct options *o;
	const struct workload *w;
	struct node *nodes;
	const nomad_sched_node **views;
	size_t n_nodes;
	struct run_job *jobs;
	struct map job_ids, alloc_ids;
	nomad_scheduler_config *config;
	nomad_sched *sched;
	uint64_t index, eval_seq, event_seq, instant;
	int64_t now_ms, end_ms;
	struct event *heap;
	size_t n_heap, cap_heap, next_arrival;
	size_t q_head, q_tail;     /* jobs waiting for room, FIFO */
	/* the cluster's totals, kept as usage changes */
	int64_t cap_cpu, cap_mem, used_cpu, used_mem, strand_cpu, strand_mem;
	int64_t empty;
	uint64_t running, queued_allocs;
	struct node **dirty;       /* nodes that freed room this instant */
	size_t n_dirty, cap_dirty;
	/* submit_plan's answer when it rejects nodes */
	Nomad__PlanResult result;
	char **rejected;
	Nomad__AllocationListEntry **committed;
	size_t n_rejected, cap_rejected, n_committed, cap_committed;
	struct sample *samples;
	size_t n_samples, cap_samples;
	int64_t next_sample_ms, interval_ms;
	bool samples_capped;
	struct counters c;
};

const struct shape *shape_of(const struct options *o, size_t i);
struct node *node_find(const struct run *r, const char *id);
void node_add(struct run *r, struct node *n, struct sim_alloc *sa);
void node_release(struct run *r, struct sim_alloc *sa);
void heap_push(struct run *r, int64_t t, enum event_kind kind, size_t job);
size_t group_index(const struct run_job *rj, const char *name);
/* A run: run_init, then run_loop; run_free in any case. Each returns 0, or
 * -1 after saying what is wrong. */
int run_init(struct run *r, const struct options *o, const struct workload *w,
	     enum algorithm alg);
int run_loop(struct run *r);
void run_free(struct run *r);

/* ---- planner.c: the ops the scheduler calls, userdata a struct run -- */

extern const nomad_sched_state_ops state_ops;
extern const nomad_sched_planner_ops planner_ops;

/* ---- report.c: what the runs came to ------------------------------- */

/* What one run came to; examples/README.md defines each figure. */
struct summary {
	double sim_s;
	uint64_t evals, placed, failed, never, cancelled, rejected, anomalies;
	uint64_t jobs, finished, waited, waiting_end;
	double wait_mean, wait_p50, wait_p99, wait_max;
	double cpu_mean, cpu_peak, mem_mean, mem_peak;
	double scpu_mean, smem_mean, empty_mean;
	double lat_p50, lat_p99, lat_max, sched_s;
};

/* A run's results, kept once the run itself is freed. */
struct result {
	const char *name;
	struct sample *samples;
	size_t n_samples;
	bool capped;
	struct summary s;
};

void summarise(const struct run *r, struct summary *s);
void print_header(FILE *out, const struct options *o,
		  const struct workload *w);
void print_series(FILE *out, const struct result *res, size_t n_res,
		  double interval);
void print_summary(FILE *out, const struct result *res, size_t n_res);
void write_csv(FILE *f, const struct result *res);

#endif
