/* SPDX-License-Identifier: MPL-2.0 */
/**
 * @file sched.h
 * @brief The schedulers as a library: (a view of the cluster, an
 * evaluation) in, a plan out.
 *
 * A scheduler reads the cluster through a state ops table and hands its
 * decisions to a planner ops table, both implemented by the host: the
 * server implements them over its state store and plan queue, a
 * simulation over its own in-memory cluster. Nothing here touches files,
 * sockets, threads or the wall clock: the time and a random seed are
 * inputs, so the same inputs give the same plan, byte for byte.
 *
 * Semantics and formulas are Nomad's: the generic scheduler for service
 * and batch jobs, the system and sysbatch schedulers, the reconciler,
 * feasibility checks, bin-pack or spread ranking, affinities, spreads,
 * preemption, plan attempts and blocked evaluations.
 *
 * Lifetimes. The scheduler calls ops->begin() when it starts an
 * evaluation and again whenever it must refresh (after a plan was
 * committed only in part). Everything an op returns is borrowed: it stays
 * valid, and unchanged, until the next begin() or until
 * nomad_sched_process() returns, whichever comes first. A host thus
 * takes its consistent picture of the cluster in begin(). Between two
 * begin()s the scheduler calls nodes, job, job_allocs, latest_deployment
 * and config at most once each, and node_usage at most once per node, so
 * a host may keep just one result per op (per node for node_usage).
 *
 * Threads: one nomad_sched is used by one thread at a time; distinct
 * schedulers (one per worker thread) run in parallel freely.
 */
#ifndef NOMAD_SCHED_H
#define NOMAD_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nomad/core.h>
#include <nomad/structs.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* What the scheduler reads                                             */

/**
 * A node as the scheduler sees it. `node` is the whole registered node
 * (attributes, meta, drivers, host volumes, devices, resources); the
 * other fields repeat what every placement reads, precomputed by the
 * host: what the node can allocate (its resources less the reserved
 * ones) and its status.
 */
typedef struct nomad_sched_node {
	const nomad_node *node;
	const char *id;
	const char *name;
	const char *datacenter;
	const char *node_pool;           /**< "default" when unset */
	const char *node_class;          /**< "" when none */
	/** Nomad's computed class: nodes alike in everything constraints
	 *  can see (attributes, meta, class, datacenter, pool; no unique.*
	 *  keys) share it, and the scheduler checks the job once per class.
	 *  NULL or "": check every node. */
	const char *computed_class;
	int status;                      /**< a Nomad__Node__StatusKind */
	bool eligible;                   /**< scheduling eligibility */
	bool draining;
	int64_t cpu_mhz, memory_mb, disk_mb; /**< allocatable */
	uint64_t modify_index;
} nomad_sched_node;

/**
 * What one non-terminal allocation on a node holds, for fit checks,
 * anti-affinity, distinct_hosts and preemption.
 *
 * Preemption reads job_priority (only allocations of jobs at least 10
 * below the placing job's priority are evicted), job_type (the type of
 * the `preemption` evaluation created for their job) and
 * migrate_max_parallel (preempting more of one group than that is
 * penalised); it reads them only when the evaluated job's type may
 * preempt, so a host may leave them 0 otherwise. Device placement reads
 * device_ids, the device instances the allocation was given (its
 * AllocatedResources), so that no instance is handed out twice.
 */
typedef struct nomad_sched_usage {
	const char *alloc_id;
	const char *ns;
	const char *job_id;
	const char *task_group;
	int job_priority;
	int64_t cpu_mhz, memory_mb, disk_mb;
	const uint16_t *ports;           /**< reserved and dynamic, any order */
	size_t n_ports;
	uint64_t create_index;
	int job_type;                    /**< a Nomad__JobType; 0: unknown,
					      read as service */
	int migrate_max_parallel;        /**< its group's migrate
					      max_parallel; 0: none */
	const char *const *device_ids;   /**< device instance IDs held */
	size_t n_device_ids;
} nomad_sched_usage;

/** 2: nomad_sched_usage gained job_type, migrate_max_parallel and
 *  device_ids; a host built against version 1 is refused. */
#define NOMAD_SCHED_STATE_OPS_VERSION 2

/**
 * The cluster, as the host provides it. Every op returns NOMAD_OK or an
 * error code (which aborts the evaluation with that error); pointers it
 * fills are borrowed (see the file comment). Arrays may be empty.
 */
typedef struct nomad_sched_state_ops {
	unsigned int version;            /**< NOMAD_SCHED_STATE_OPS_VERSION */
	/** Take a consistent picture of the cluster; *index is the state
	 *  index it reflects (the plan's SnapshotIndex). */
	nomad_err (*begin)(void *userdata, uint64_t *index);
	/** Every registered node, in a stable order (the system scheduler
	 *  walks them in it; the generic one shuffles them by seed). */
	nomad_err (*nodes)(void *userdata, const nomad_sched_node *const **out,
			   size_t *n);
	/** The non-terminal allocations on one node. */
	nomad_err (*node_usage)(void *userdata, const char *node_id,
				const nomad_sched_usage *const **out, size_t *n);
	/** Every allocation of a job, terminal ones included (the reconciler
	 *  needs their history), whatever their job version. */
	nomad_err (*job_allocs)(void *userdata, const char *ns,
				const char *job_id,
				const nomad_alloc *const **out, size_t *n);
	/** The job, or *out NULL when it does not exist (deregistered and
	 *  purged: the scheduler then stops its allocations). */
	nomad_err (*job)(void *userdata, const char *ns, const char *job_id,
			 const nomad_job **out);
	/** The job's latest deployment, or *out NULL. */
	nomad_err (*latest_deployment)(void *userdata, const char *ns,
				       const char *job_id,
				       const nomad_deployment **out);
	/** The scheduler configuration, or *out NULL for Nomad's defaults
	 *  (bin-pack; preemption for system jobs only). */
	nomad_err (*config)(void *userdata, const nomad_scheduler_config **out);
} nomad_sched_state_ops;

/* ------------------------------------------------------------------ */
/* What the scheduler decides                                           */

#define NOMAD_SCHED_PLANNER_OPS_VERSION 1

/**
 * Where the scheduler's decisions go. A server's submit_plan queues the
 * plan for the leader's plan applier; a dry run (`job plan`) commits
 * nothing and answers with the plan as if all of it were committed.
 */
typedef struct nomad_sched_planner_ops {
	unsigned int version;            /**< NOMAD_SCHED_PLANNER_OPS_VERSION */
	/**
	 * Apply `plan`. *result says what was committed (nodes rejected by
	 * the plan applier are missing from it and listed in RejectedNodes);
	 * when something was not committed, RefreshIndex names the state
	 * index to refresh to before retrying. The result is borrowed until
	 * the next submit_plan or the end of processing.
	 */
	nomad_err (*submit_plan)(void *userdata, const nomad_plan *plan,
				 const nomad_plan_result **result);
	/** Record the evaluation's new status (complete, failed, blocked
	 *  with its FailedTGAllocs, QueuedAllocations, NextEval, ...). */
	nomad_err (*update_eval)(void *userdata, const nomad_eval *eval);
	/** Create an evaluation: a blocked one for placements that did not
	 *  fit, a follow-up for a delayed reschedule, a preemption one. */
	nomad_err (*create_eval)(void *userdata, const nomad_eval *eval);
	/** Put a blocked evaluation back to wait, with new eligibility. */
	nomad_err (*reblock_eval)(void *userdata, const nomad_eval *eval);
} nomad_sched_planner_ops;

/* ------------------------------------------------------------------ */
/* The scheduler                                                        */

typedef struct nomad_sched nomad_sched;

#define NOMAD_SCHED_CONFIG_VERSION 1

typedef struct nomad_sched_config {
	unsigned int version;            /**< NOMAD_SCHED_CONFIG_VERSION */
	const nomad_sched_state_ops *state;
	void *state_userdata;
	const nomad_sched_planner_ops *planner;
	void *planner_userdata;
	const nomad_allocator *allocator; /**< NULL: malloc */
	nomad_log_cb log_cb;
	void *log_userdata;
	nomad_log_level log_level;
} nomad_sched_config;

#define NOMAD_SCHED_CONFIG_INIT {NOMAD_SCHED_CONFIG_VERSION, NULL, NULL, NULL, NULL, NULL, NULL, NULL, 0}

/** A scheduler over the ops in `cfg` (copied; the ops tables must
 *  outlive it). @return NOMAD_EINVAL for a missing op or unknown version */
NOMAD_EXTERN nomad_err nomad_sched_new(nomad_sched **out,
				       const nomad_sched_config *cfg,
				       nomad_error *err);
NOMAD_EXTERN void nomad_sched_free(nomad_sched *s);

/** The inputs of one evaluation that do not come from the cluster. */
typedef struct nomad_sched_input {
	const nomad_eval *eval;
	int64_t now_unix_ns;             /**< "now", for reschedules and
					      deployments */
	uint64_t seed;                   /**< drives the random draws (node
					      order, ports, IDs), mixed with
					      the eval ID and the state index;
					      0: those two alone, as Nomad */
} nomad_sched_input;

/**
 * Process one evaluation: reconcile the job's allocations against its
 * specification, place what is missing, submit plans (retrying on a
 * partial commit up to Nomad's plan attempts, counted afresh whenever a
 * plan commits something), and report the outcome
 * through the planner ops. The scheduler is chosen by the evaluation's
 * Type (service and batch: generic; system; sysbatch).
 *
 * The planner ops are called while this runs: `in->eval` (and what it
 * points to) must stay valid and unchanged until it returns, even when a
 * create_eval or reblock_eval is about that same evaluation. The outcome
 * is reported once: update_eval with the evaluation's final status,
 * except for a blocked evaluation that still cannot place everything,
 * which goes back to waiting through reblock_eval alone.
 *
 * @return NOMAD_OK when the evaluation was processed, which includes
 *         placements that failed (they are reported, with the
 *         AllocationMetric users see, in a blocked evaluation);
 *         NOMAD_EINVAL for an evaluation the schedulers cannot take (an
 *         unknown type, no job ID); an op's error as returned.
 */
NOMAD_EXTERN nomad_err nomad_sched_process(nomad_sched *s,
					   const nomad_sched_input *in,
					   nomad_error *err);

#ifdef __cplusplus
}
#endif

#endif
