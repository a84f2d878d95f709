/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The scheduler's scenario harness: an in-memory cluster that implements
 * the state ops, and a planner that commits plans into it (or rejects the
 * nodes it is told to), recording every plan and evaluation.
 */
#ifndef NMD_TEST_SCHED_HARNESS_H
#define NMD_TEST_SCHED_HARNESS_H

#include <nomad/sched.h>

struct th_usage_set;

struct th_cluster {
	nomad_node **nodes;
	nomad_sched_node *snodes;          /* parallel to nodes */
	const nomad_sched_node **snode_ptrs;
	size_t n_nodes;
	nomad_job **jobs;                  /* the current version of each */
	size_t n_jobs;
	nomad_alloc **allocs;              /* committed, with their Job */
	size_t n_allocs;
	nomad_scheduler_config *config;
	uint64_t index;

	/* built in begin() */
	struct th_usage_set *usage;        /* per node */
	const nomad_alloc **job_view;
	size_t n_job_view;

	/* the planner */
	const char *reject_node;           /* every plan's allocations on it */
	nomad_plan **plans;                /* copies of each submitted plan */
	size_t n_plans;
	nomad_plan_result *result;
	nomad_eval **created, **updated, **reblocked;
	size_t n_created, n_updated, n_reblocked;

	/* deployments, oldest first; the planner keeps their counts as the
	 * state store does */
	nomad_deployment **deployments;
	size_t n_deployments;

	int64_t now;                       /* the evaluations' now; 0: TH_NOW */

	/* calls of each op since the last begin: sched.h promises at most
	 * one (the harness fails the test otherwise) */
	unsigned calls[5];
};

#define TH_NOW 1700000000000000000LL

struct th_cluster *th_new(void);
void th_free(struct th_cluster *c);

/* A ready, eligible node in `dc` with linux/docker/exec attributes; its
 * computed class is set from dc and the attributes. */
nomad_node *th_add_node(struct th_cluster *c, const char *name,
			const char *dc, int cpu, int mem, int disk);
/* After changing a node's attributes, status or drain: refresh its
 * scheduler fields. */
void th_node_changed(struct th_cluster *c, nomad_node *n);
void th_set_attr(nomad_node *n, const char *key, const char *value);

/* A service job `id` in dc1 with one group "web" of `count` tasks
 * "server" (docker, cpu MHz, mem MB), ephemeral disk 150 MB. */
nomad_job *th_job(const char *id, int count, int cpu, int mem);
/* Register (or update, bumping Version) a job; the cluster keeps it. */
void th_register(struct th_cluster *c, nomad_job *job);
const nomad_job *th_find_job(struct th_cluster *c, const char *id);

/* Run an evaluation for job `id` with the given seed; returns the status
 * of nomad_sched_process. */
nomad_err th_run(struct th_cluster *c, const char *job_id, uint64_t seed,
		 nomad_error *err);
nomad_err th_run_eval(struct th_cluster *c, const nomad_eval *eval,
		      uint64_t seed, nomad_error *err);
nomad_eval *th_eval(struct th_cluster *c, const char *job_id);

/* th_run, failing the test at the caller's line when processing
 * returns an error. */
void th_run_ok_at(struct th_cluster *c, const char *job_id, uint64_t seed,
		  const char *file, int line);
#define th_run_ok(c, job_id, seed) \
	th_run_ok_at((c), (job_id), (seed), __FILE__, __LINE__)
/* `nodes` ready nodes "node-<i>" in dc1, of cpu MHz and mem MB (disk
 * 100 GB). */
struct th_cluster *th_cluster_of(int nodes, int cpu, int mem);
/* The failed-placement metric of `group` in evaluation `e`, or NULL. */
const Nomad__AllocationMetric *th_failed_metric(const nomad_eval *e,
						const char *group);
/* The value of `key` in a metric's counts, 0 when absent. */
int64_t th_entry(Nomad__IntEntry *const *list, size_t n, const char *key);

/* Job-level affinity `l op r` of `weight`. */
void th_affinity(nomad_job *j, const char *l, const char *op, const char *r,
		 int weight);
/* A spread of group 0 over `attr`, and a target of it. */
Nomad__Spread *th_spread(nomad_job *j, const char *attr, int weight);
void th_spread_target(Nomad__Spread *s, const char *value, int percent);
/* A reschedule policy with every field set. */
Nomad__ReschedulePolicy *th_reschedule_policy(int attempts, int64_t interval,
					      int64_t delay, int fn,
					      int64_t max_delay, bool unlimited);

/* Allocations of a job still meant to run (desired run, not terminal). */
size_t th_running(struct th_cluster *c, const char *job_id);
size_t th_running_on(struct th_cluster *c, const char *job_id,
		     const char *node_id);
nomad_alloc *th_alloc_named(struct th_cluster *c, const char *name);
/* The last evaluation update the scheduler made. */
const nomad_eval *th_last_update(struct th_cluster *c);

/* ---- deployments ---- */

/* Give group 0 of `job` an update block. */
void th_update(nomad_job *job, int max_parallel, int canary, bool auto_promote);
/* The job's latest deployment, or NULL. */
nomad_deployment *th_deployment(struct th_cluster *c, const char *job_id);
/* A client's health report for `a`, counted in its deployment. */
void th_set_health(struct th_cluster *c, nomad_alloc *a, bool healthy);
/* Report every live allocation of the job healthy. */
void th_all_healthy(struct th_cluster *c, const char *job_id);
/* Promote the canaries of the job's latest deployment. */
void th_promote(struct th_cluster *c, const char *job_id);

/* Devices: a group of `count` healthy instances named
 * "<node>-<name>-<i>" on node `n`; an attribute on it (a string `s`, or
 * the int `i` when `s` is NULL, with an optional unit); a task's request
 * for `count` of device `name`. */
Nomad__NodeDeviceResource *th_add_devices(nomad_node *n, const char *vendor,
					  const char *type, const char *name,
					  int count);
void th_device_attr(Nomad__NodeDeviceResource *d, const char *key,
		    const char *s, long long i, const char *unit);
Nomad__RequestedDevice *th_ask_device(nomad_task *t, const char *name,
				      int count);
/* Host volumes: one on a node; a group's request for one. */
void th_add_host_volume(nomad_node *n, const char *name, bool read_only);
void th_ask_host_volume(nomad_task_group *tg, const char *name,
			const char *source, bool read_only, bool per_alloc);
/* SchedulerConfiguration.PreemptionConfig, per scheduler type. */
void th_set_preemption(struct th_cluster *c, bool system, bool sysbatch,
		       bool batch, bool service);

#endif
