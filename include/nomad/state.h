/* SPDX-License-Identifier: MPL-2.0 */
/**
 * @file nomad/state.h
 * @brief The state store: the server's whole view of the cluster in SQLite.
 *
 * Every write happens in a transaction tagged with a Raft index
 * (nomad_state_txn), which must be above the last one applied; the last
 * applied index is stored in the same SQLite transaction, so after a crash
 * the store is consistent and says where to resume. Reads go through
 * snapshots (nomad_state_snap): consistent views at one index, cheap to
 * open, usable from other threads while writes go on.
 *
 * Objects are the types of <nomad/structs.h>. The store sets CreateIndex,
 * ModifyIndex (and JobModifyIndex, AllocModifyIndex, Version where Nomad
 * has them); what callers pass in is copied, never kept.
 *
 * Allocations live in two tables: new ones are appended to a small "hot"
 * table, and the store moves them in node order into a "cold" table
 * clustered by node, so that reading one node's allocations is a range
 * scan and inserting stays sequential. Callers never see the difference.
 *
 * Threads: a nomad_state handle may be used from any thread; writes are
 * serialised internally (one open transaction at a time: a second
 * nomad_state_txn_begin waits). A transaction belongs to the thread that
 * began it. Snapshots may be opened from any thread; each one is then used
 * by one thread at a time.
 */
#ifndef NOMAD_STATE_H
#define NOMAD_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <nomad/core.h>
#include <nomad/sched.h>
#include <nomad/structs.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct nomad_state nomad_state;
typedef struct nomad_state_txn nomad_state_txn;
typedef struct nomad_state_snap nomad_state_snap;

/** How hard a commit pushes data to disk. */
typedef enum nomad_state_sync {
	/** Never fsync. A killed process loses nothing; a power cut may
	 *  lose recent commits, which the server replays from its Raft log
	 *  (the default: the log, not the store, is the durable record). */
	NOMAD_STATE_SYNC_OFF = 0,
	/** fsync at WAL checkpoints (SQLite's synchronous=NORMAL). */
	NOMAD_STATE_SYNC_NORMAL = 1,
	/** fsync every commit (synchronous=FULL). */
	NOMAD_STATE_SYNC_FULL = 2,
} nomad_state_sync;

#define NOMAD_STATE_CONFIG_VERSION 1

/** How to open a store. A zero field means its default. */
typedef struct nomad_state_config {
	unsigned int version;        /**< NOMAD_STATE_CONFIG_VERSION */
	const char *path;            /**< the database file (required) */
	nomad_state_sync sync;       /**< default NOMAD_STATE_SYNC_OFF */
	unsigned int cache_mb;       /**< page cache of the writer, default 64 */
	unsigned int hot_allocs_max; /**< allocations kept in the hot table
					  before they move, default 100000 */
	const nomad_allocator *allocator;
	nomad_log_cb log_cb;
	void *log_userdata;
	nomad_log_level log_level;
	unsigned int event_buffer;   /**< commits whose events are kept for
					  subscribers to resume from,
					  default 100 */
	unsigned int checkpoint_pages; /**< WAL pages (4 KiB) after which a
					    background thread copies them
					    back into the database, default
					    16384; at eight times this the
					    writer does it itself */
} nomad_state_config;

#define NOMAD_STATE_CONFIG_INIT {NOMAD_STATE_CONFIG_VERSION, NULL, 0, 0, 0, NULL, NULL, NULL, 0, 0, 0}

/** Initialise `cfg` to the defaults of `version`. @return NOMAD_EINVAL
 *  for an unknown version */
NOMAD_EXTERN nomad_err nomad_state_config_init(nomad_state_config *cfg,
					       unsigned int version);

/**
 * Open (creating if needed) the store at cfg->path.
 *
 * @param out the handle; NULL on failure
 * @return NOMAD_OK, NOMAD_EINVAL (bad config), NOMAD_EIO (cannot open or
 *         create the file), NOMAD_ECORRUPT (not a libnomad store, or a
 *         newer schema)
 */
NOMAD_EXTERN nomad_err nomad_state_open(nomad_state **out,
					const nomad_state_config *cfg,
					nomad_error *err);

/** Close the store. Open snapshots must be closed first. NULL accepted. */
NOMAD_EXTERN void nomad_state_close(nomad_state *s);

/** The index of the last committed write, 0 for a new store. */
NOMAD_EXTERN uint64_t nomad_state_last_index(nomad_state *s);

/* ------------------------------------------------------------------ */
/* Tables                                                               */

/** The tables whose latest index is tracked (for blocking queries). */
typedef enum nomad_state_table {
	NOMAD_TABLE_JOBS = 0,
	NOMAD_TABLE_JOB_VERSIONS,
	NOMAD_TABLE_JOB_SUMMARIES,
	NOMAD_TABLE_EVALS,
	NOMAD_TABLE_ALLOCS,
	NOMAD_TABLE_NODES,
	NOMAD_TABLE_DEPLOYMENTS,
	NOMAD_TABLE_NAMESPACES,
	NOMAD_TABLE_NODE_POOLS,
	NOMAD_TABLE_ACL_POLICIES,
	NOMAD_TABLE_ACL_TOKENS,
	NOMAD_TABLE_VARIABLES,
	NOMAD_TABLE_SERVICES,
	NOMAD_TABLE_SCHEDULER_CONFIG,
	NOMAD_TABLE_PERIODIC_LAUNCH,
	NOMAD_TABLE_COUNT_
} nomad_state_table;

/** The table's name as Nomad calls it ("jobs", "allocs", ...). */
NOMAD_EXTERN const char *nomad_state_table_name(nomad_state_table t);

/* ------------------------------------------------------------------ */
/* Writes                                                               */

/**
 * Begin the write transaction for Raft index `index`.
 *
 * @return NOMAD_OK; NOMAD_ECONFLICT when `index` is not above the last
 *         applied index (nothing is written); NOMAD_EIO
 */
NOMAD_EXTERN nomad_err nomad_state_txn_begin(nomad_state *s, uint64_t index,
					     nomad_state_txn **out,
					     nomad_error *err);

/** The index this transaction writes at. */
NOMAD_EXTERN uint64_t nomad_state_txn_index(const nomad_state_txn *txn);

/**
 * Commit and free the transaction. On failure nothing of it is kept and
 * the transaction is freed all the same.
 */
NOMAD_EXTERN nomad_err nomad_state_txn_commit(nomad_state_txn *txn,
					      nomad_error *err);

/** Roll back and free the transaction. NULL accepted. */
NOMAD_EXTERN void nomad_state_txn_abort(nomad_state_txn *txn);

/*
 * The operations below write inside `txn`. A failed operation leaves the
 * transaction usable but its caller will normally abort it: Nomad's FSM
 * applies a log entry whole or not at all.
 */

/**
 * Register or update a job (Nomad's UpsertJob). A new job gets Version 0,
 * CreateIndex and JobModifyIndex = the index, Status "pending", and a
 * summary with one entry per group. An update whose spec differs from the
 * stored one (ignoring server-set fields) gets Version + 1 and
 * JobModifyIndex = the index; any update moves ModifyIndex. Every version
 * is kept in the version table, the newest 6 per job. Groups added to or
 * removed from the job are added to or removed from its summary.
 *
 * @return NOMAD_OK, NOMAD_EINVAL (no namespace or ID)
 */
NOMAD_EXTERN nomad_err nomad_state_job_upsert(nomad_state_txn *txn,
					      const nomad_job *job,
					      nomad_error *err);

/**
 * Delete a job with its versions, summary and periodic launch (Nomad's
 * DeleteJob and the purge's deletePeriodicLaunch, whether or not the job
 * is periodic now). Its allocations and evaluations stay until garbage
 * collected.
 *
 * @return NOMAD_OK or NOMAD_ENOTFOUND
 */
NOMAD_EXTERN nomad_err nomad_state_job_delete(nomad_state_txn *txn,
					      const char *ns, const char *id,
					      nomad_error *err);

/**
 * Insert or replace evaluations. CreateIndex is kept for an existing one.
 *
 * @return NOMAD_OK, NOMAD_EINVAL (an ID that is not a UUID)
 */
NOMAD_EXTERN nomad_err nomad_state_evals_upsert(nomad_state_txn *txn,
						nomad_eval *const *evals,
						size_t n, nomad_error *err);

/**
 * Garbage-collect evaluations and allocations by ID (Nomad's DeleteEval).
 * The service registrations of the deleted allocations go with them. IDs
 * that do not exist are skipped.
 */
NOMAD_EXTERN nomad_err nomad_state_evals_delete(nomad_state_txn *txn,
						const char *const *eval_ids,
						size_t n_evals,
						const char *const *alloc_ids,
						size_t n_allocs,
						nomad_error *err);

/**
 * Insert or replace allocations as the scheduler wrote them (Nomad's
 * UpsertAllocs). CreateIndex is kept for an existing allocation,
 * ModifyIndex and AllocModifyIndex become the index. The embedded Job, if
 * any, is not stored: reads attach the job version the allocation runs.
 * Client-owned fields of an existing allocation (ClientStatus,
 * ClientDescription, TaskStates, NetworkStatus) are kept. Job summaries
 * follow the allocations' status changes.
 *
 * @return NOMAD_OK, NOMAD_EINVAL (bad IDs, a missing NodeID or JobID)
 */
NOMAD_EXTERN nomad_err nomad_state_allocs_upsert(nomad_state_txn *txn,
						 nomad_alloc *const *allocs,
						 size_t n, nomad_error *err);

/**
 * Apply status updates from clients (Nomad's UpdateAllocsFromClient):
 * from each given allocation only ID, ClientStatus, ClientDescription,
 * TaskStates, DeploymentStatus and NetworkStatus are taken and merged into
 * the stored one; server-side fields are never clobbered. ModifyIndex moves,
 * AllocModifyIndex does not. Unknown IDs are skipped, as Nomad does. An
 * allocation that is then terminal on its client (complete, failed or
 * lost) has its service registrations deleted, as Nomad's
 * nestedUpdateAllocFromClient does.
 */
NOMAD_EXTERN nomad_err nomad_state_allocs_client_update(nomad_state_txn *txn,
							nomad_alloc *const *updates,
							size_t n,
							nomad_error *err);

/**
 * Apply a plan result atomically (Nomad's UpsertPlanResults): stop the
 * allocations in `result->nodeupdate`, place or update those in
 * `result->nodeallocation`, mark those in `result->nodepreemptions` as
 * evicted, create or update `result->deployment`, apply
 * `result->deploymentupdates`, and insert `evals` (follow-ups, preemption
 * evals). Either all of it is written in `txn` or none of it.
 */
NOMAD_EXTERN nomad_err nomad_state_plan_apply(nomad_state_txn *txn,
					      const nomad_plan_result *result,
					      nomad_eval *const *evals,
					      size_t n_evals,
					      nomad_error *err);

/**
 * Register or update a node. CreateIndex is kept for an existing node; a
 * new node with no SchedulingEligibility becomes eligible and one with no
 * Status becomes "initializing".
 */
NOMAD_EXTERN nomad_err nomad_state_node_upsert(nomad_state_txn *txn,
					       const nomad_node *node,
					       nomad_error *err);

/** Deregister nodes. @return NOMAD_ENOTFOUND when one does not exist */
NOMAD_EXTERN nomad_err nomad_state_nodes_delete(nomad_state_txn *txn,
						const char *const *ids,
						size_t n, nomad_error *err);

/**
 * Set a node's status (Nomad's UpdateNodeStatus), with StatusUpdatedAt
 * (seconds) and an optional event appended to its events (the newest 10
 * are kept).
 */
NOMAD_EXTERN nomad_err nomad_state_node_status(nomad_state_txn *txn,
					       const char *id,
					       Nomad__Node__StatusKind status,
					       int64_t updated_at_unix,
					       const Nomad__NodeEvent *event,
					       nomad_error *err);

/** Set a node's scheduling eligibility. Refused (NOMAD_EINVAL) while the
 *  node drains and `eligible` is true, as Nomad refuses it. */
NOMAD_EXTERN nomad_err nomad_state_node_eligibility(nomad_state_txn *txn,
						    const char *id,
						    bool eligible,
						    nomad_error *err);

/**
 * Start (strategy non-NULL) or stop (NULL) draining a node. Draining makes
 * it ineligible; stopping a drain makes it eligible again only when
 * `mark_eligible` is true.
 */
NOMAD_EXTERN nomad_err nomad_state_node_drain(nomad_state_txn *txn,
					      const char *id,
					      const Nomad__DrainStrategy *strategy,
					      bool mark_eligible,
					      nomad_error *err);

/** Insert or replace a deployment. */
NOMAD_EXTERN nomad_err nomad_state_deployment_upsert(nomad_state_txn *txn,
						     const nomad_deployment *d,
						     nomad_error *err);

/**
 * Set a deployment's status and description; optionally also upsert a job
 * (an auto-revert) and an evaluation, in the same transaction.
 *
 * A deployment set successful marks the job version it deployed
 * (JobVersion) stable, as Nomad's UpdateDeploymentStatus does: that
 * version, and the job itself when it is the current version, take Stable
 * and ModifyIndex = the index (Version and JobModifyIndex stay), so it is
 * the version an auto-revert goes back to and the one version pruning
 * keeps. A version or job no longer stored is skipped.
 *
 * @return NOMAD_OK; NOMAD_ENOTFOUND (no such deployment); NOMAD_EINVAL
 *         (no status, or the deployment has a terminal status already)
 */
NOMAD_EXTERN nomad_err nomad_state_deployment_status(nomad_state_txn *txn,
						     const Nomad__DeploymentStatusUpdate *u,
						     const nomad_job *job,
						     const nomad_eval *eval,
						     nomad_error *err);

/**
 * Promote a deployment's canaries: the named groups, or all when `all`.
 * Marks the groups promoted and their canary allocations' deployment
 * status no longer canary. Refused (NOMAD_EINVAL) for a group without
 * canaries or with unhealthy ones, as Nomad refuses it.
 */
NOMAD_EXTERN nomad_err nomad_state_deployment_promote(nomad_state_txn *txn,
						      const char *id,
						      const char *const *groups,
						      size_t n_groups, bool all,
						      const nomad_eval *eval,
						      nomad_error *err);

/**
 * Set allocations' deployment health (manual health, or the client's
 * report), counting them in the deployment's per-group state.
 */
NOMAD_EXTERN nomad_err nomad_state_deployment_alloc_health(nomad_state_txn *txn,
							   const char *id,
							   const char *const *healthy,
							   size_t n_healthy,
							   const char *const *unhealthy,
							   size_t n_unhealthy,
							   int64_t timestamp_unix_ns,
							   nomad_error *err);

/* ------------------------------------------------------------------ */
/* Reads                                                                */

/**
 * Open a read snapshot: a consistent view of the store as of its last
 * commit, unaffected by later writes until closed.
 *
 * @return NOMAD_OK, NOMAD_EIO
 */
NOMAD_EXTERN nomad_err nomad_state_snapshot(nomad_state *s,
					    nomad_state_snap **out,
					    nomad_error *err);

/** Close a snapshot. NULL accepted. */
NOMAD_EXTERN void nomad_state_snap_close(nomad_state_snap *snap);

/** The index of the last write the snapshot sees. */
NOMAD_EXTERN uint64_t nomad_state_snap_index(const nomad_state_snap *snap);

/** The latest index of one table as the snapshot sees it (0 if never
 *  written): what X-Nomad-Index reports for a read of that table. */
NOMAD_EXTERN uint64_t nomad_state_snap_table_index(const nomad_state_snap *snap,
						   nomad_state_table table);

/**
 * Receives objects one at a time. `obj` is borrowed: valid only during the
 * call (copy it with nomad_msg_copy to keep it). Return 0 to go on, or
 * nonzero to stop; the listing then returns NOMAD_EUSER.
 */
typedef int (*nomad_state_iter_cb)(const ProtobufCMessage *obj,
				   void *userdata);

/** Length of a pagination token, with its NUL. */
#define NOMAD_STATE_TOKEN_MAX 160

#define NOMAD_STATE_LIST_OPTIONS_VERSION 1

/** Which objects a listing returns, and how many. */
typedef struct nomad_state_list_options {
	unsigned int version;   /**< NOMAD_STATE_LIST_OPTIONS_VERSION */
	const char *ns;         /**< namespace; NULL "default", "*" all */
	const char *prefix;     /**< ID prefix ("3f2a"), NULL for all */
	const char *next_token; /**< resume where a page ended, or NULL */
	unsigned int per_page;  /**< 0: no limit */
	bool reverse;           /**< newest or last first */
} nomad_state_list_options;

#define NOMAD_STATE_LIST_OPTIONS_INIT {NOMAD_STATE_LIST_OPTIONS_VERSION, NULL, NULL, NULL, 0, false}

/**
 * Look up one object by ID (jobs: by namespace and ID). The result is a
 * new object owned by the caller.
 *
 * @return NOMAD_OK or NOMAD_ENOTFOUND (*out NULL)
 */
NOMAD_EXTERN nomad_err nomad_state_job_get(nomad_state_snap *snap,
					   const char *ns, const char *id,
					   nomad_job **out);
NOMAD_EXTERN nomad_err nomad_state_job_version_get(nomad_state_snap *snap,
						   const char *ns,
						   const char *id,
						   uint64_t version,
						   nomad_job **out);
NOMAD_EXTERN nomad_err nomad_state_job_summary_get(nomad_state_snap *snap,
						   const char *ns,
						   const char *id,
						   nomad_job_summary **out);
NOMAD_EXTERN nomad_err nomad_state_eval_get(nomad_state_snap *snap,
					    const char *id, nomad_eval **out);
/** With `with_job`, the allocation's Job is the version it runs. */
NOMAD_EXTERN nomad_err nomad_state_alloc_get(nomad_state_snap *snap,
					     const char *id, bool with_job,
					     nomad_alloc **out);
NOMAD_EXTERN nomad_err nomad_state_node_get(nomad_state_snap *snap,
					    const char *id, nomad_node **out);
NOMAD_EXTERN nomad_err nomad_state_deployment_get(nomad_state_snap *snap,
						  const char *id,
						  nomad_deployment **out);
/** The deployment of the job with the highest CreateIndex. */
NOMAD_EXTERN nomad_err nomad_state_deployment_latest(nomad_state_snap *snap,
						     const char *ns,
						     const char *job_id,
						     nomad_deployment **out);

/**
 * List objects of one kind in Nomad's order (jobs by namespace and ID;
 * evaluations, allocations, nodes and deployments by ID), filtered and
 * paged by `opts` (NULL: everything in the default namespace). When a page
 * ends early, `next_token` (may be NULL) receives the token of the next
 * object, else "".
 *
 * As in Nomad, `opts->prefix` is a string prefix of the ID. For the
 * listings by UUID (evaluations, allocations, nodes, deployments) that is
 * any number of hexadecimal digits, odd counts included, in either case,
 * with a dash allowed where a UUID's text has one; a prefix that is not
 * (say "xyz", or "3f-2a") is the prefix of no ID, and the listing returns
 * nothing with NOMAD_OK.
 *
 * @return NOMAD_OK; NOMAD_EUSER (`cb` stopped it); NOMAD_EINVAL (no
 *         snapshot or callback, options of an unknown version, or a
 *         `next_token` that is not one the listing gave)
 */
NOMAD_EXTERN nomad_err nomad_state_jobs_list(nomad_state_snap *snap,
					     const nomad_state_list_options *opts,
					     nomad_state_iter_cb cb, void *userdata,
					     char next_token[NOMAD_STATE_TOKEN_MAX],
					     nomad_error *err);
NOMAD_EXTERN nomad_err nomad_state_evals_list(nomad_state_snap *snap,
					      const nomad_state_list_options *opts,
					      nomad_state_iter_cb cb, void *userdata,
					      char next_token[NOMAD_STATE_TOKEN_MAX],
					      nomad_error *err);
NOMAD_EXTERN nomad_err nomad_state_allocs_list(nomad_state_snap *snap,
					       const nomad_state_list_options *opts,
					       nomad_state_iter_cb cb, void *userdata,
					       char next_token[NOMAD_STATE_TOKEN_MAX],
					       nomad_error *err);
NOMAD_EXTERN nomad_err nomad_state_nodes_list(nomad_state_snap *snap,
					      const nomad_state_list_options *opts,
					      nomad_state_iter_cb cb, void *userdata,
					      char next_token[NOMAD_STATE_TOKEN_MAX],
					      nomad_error *err);
NOMAD_EXTERN nomad_err nomad_state_deployments_list(nomad_state_snap *snap,
						    const nomad_state_list_options *opts,
						    nomad_state_iter_cb cb, void *userdata,
						    char next_token[NOMAD_STATE_TOKEN_MAX],
						    nomad_error *err);

/** Flags for the allocation queries below. */
enum {
	/** Include terminal allocations (client status complete, failed or
	 *  lost, or desired status stop or evict). */
	NOMAD_STATE_TERMINAL = 1u << 0,
	/** Attach the job version each allocation runs. */
	NOMAD_STATE_WITH_JOB = 1u << 1,
};

/** The allocations on one node, in ID order. */
NOMAD_EXTERN nomad_err nomad_state_allocs_by_node(nomad_state_snap *snap,
						  const char *node_id,
						  unsigned int flags,
						  nomad_state_iter_cb cb,
						  void *userdata,
						  nomad_error *err);
/** The allocations of one job (all versions), in ID order. */
NOMAD_EXTERN nomad_err nomad_state_allocs_by_job(nomad_state_snap *snap,
						 const char *ns,
						 const char *job_id,
						 unsigned int flags,
						 nomad_state_iter_cb cb,
						 void *userdata,
						 nomad_error *err);
/** The allocations an evaluation created, in ID order. */
NOMAD_EXTERN nomad_err nomad_state_allocs_by_eval(nomad_state_snap *snap,
						  const char *eval_id,
						  unsigned int flags,
						  nomad_state_iter_cb cb,
						  void *userdata,
						  nomad_error *err);
/** The allocations of one deployment, in ID order. */
NOMAD_EXTERN nomad_err nomad_state_allocs_by_deployment(nomad_state_snap *snap,
							const char *deployment_id,
							unsigned int flags,
							nomad_state_iter_cb cb,
							void *userdata,
							nomad_error *err);
/** The evaluations of one job, in ID order. */
NOMAD_EXTERN nomad_err nomad_state_evals_by_job(nomad_state_snap *snap,
						const char *ns,
						const char *job_id,
						nomad_state_iter_cb cb,
						void *userdata,
						nomad_error *err);
/** The deployments of one job, newest (highest CreateIndex) first. */
NOMAD_EXTERN nomad_err nomad_state_deployments_by_job(nomad_state_snap *snap,
						      const char *ns,
						      const char *job_id,
						      nomad_state_iter_cb cb,
						      void *userdata,
						      nomad_error *err);
/** The stored versions of one job, newest first. */
NOMAD_EXTERN nomad_err nomad_state_job_versions(nomad_state_snap *snap,
						const char *ns, const char *id,
						nomad_state_iter_cb cb,
						void *userdata,
						nomad_error *err);

/* ------------------------------------------------------------------ */
/* The scheduler view                                                   */

/**
 * One node as the scheduler sees it: what it can allocate (its resources
 * less the reserved ones) and what its non-terminal allocations use. All
 * pointers are borrowed for the duration of the callback.
 */
typedef struct nomad_state_view_node {
	const char *id;
	const char *name;
	const char *datacenter;
	const char *node_pool;
	const char *node_class;          /**< NULL when none */
	int status;                      /**< a Nomad__Node__StatusKind */
	bool eligible;                   /**< scheduling eligibility */
	bool draining;
	int64_t cpu_mhz, memory_mb, disk_mb;                /**< capacity */
	int64_t cpu_used_mhz, memory_used_mb, disk_used_mb; /**< in use */
	size_t n_allocs;                 /**< non-terminal allocations */
	const uint16_t *ports_used;      /**< sorted; repeats allowed */
	size_t n_ports_used;
	const nomad_node *node;          /**< the whole node */
} nomad_state_view_node;

/** One non-terminal allocation in the view; borrowed for the callback. */
typedef struct nomad_state_view_alloc {
	const char *id;
	const char *ns;
	const char *job_id;
	const char *task_group;
	int64_t cpu_mhz, memory_mb, disk_mb;
	int desired_status;              /**< Nomad__Allocation__DesiredStatusKind */
	int client_status;               /**< Nomad__Allocation__ClientStatusKind */
	const uint16_t *ports;
	size_t n_ports;
} nomad_state_view_alloc;

/** Return 0 to go on, nonzero to stop (the call returns NOMAD_EUSER).
 *  Runs under the view's read lock: it must not write to the store. */
typedef int (*nomad_state_view_node_cb)(const nomad_state_view_node *node,
					void *userdata);
typedef int (*nomad_state_view_alloc_cb)(const nomad_state_view_alloc *alloc,
					 void *userdata);

/**
 * Every registered node, with its capacity and usage, from memory.
 *
 * The view is built from the store the first time any view call is made
 * (it reads every node and non-terminal allocation once, holding the write
 * lock) and is then kept current by each commit, never recomputed. It
 * shows the latest commit (nomad_state_view_index()), which may be newer
 * than a snapshot a caller holds; the plan applier re-checks placements
 * against the latest state anyway, as Nomad's does.
 *
 * Threads: any thread; readers share, commits wait for them.
 */
NOMAD_EXTERN nomad_err nomad_state_view_nodes(nomad_state *s,
					      nomad_state_view_node_cb cb,
					      void *userdata, nomad_error *err);

/** One node of the view. @return NOMAD_ENOTFOUND when not registered */
NOMAD_EXTERN nomad_err nomad_state_view_node_get(nomad_state *s, const char *node_id,
					     nomad_state_view_node_cb cb,
					     void *userdata, nomad_error *err);

/** The non-terminal allocations on one node, from memory.
 *  @return NOMAD_ENOTFOUND when the node is not registered */
NOMAD_EXTERN nomad_err nomad_state_view_node_allocs(nomad_state *s,
						    const char *node_id,
						    nomad_state_view_alloc_cb cb,
						    void *userdata,
						    nomad_error *err);

/** The index of the last commit the view reflects (builds it if needed). */
NOMAD_EXTERN uint64_t nomad_state_view_index(nomad_state *s);

/* ------------------------------------------------------------------ */
/* The scheduler's source                                               */

/**
 * The state ops of <nomad/sched.h> over this store: a worker creates one
 * source and passes nomad_state_sched_ops() with it as the scheduler's
 * state ops and userdata. Each begin() opens a read snapshot (jobs,
 * allocations, deployments, the scheduler configuration) and reads the
 * nodes from the scheduler view; a node's usage is read from the view
 * when the scheduler first asks for it. Node copies are kept between
 * evaluations and copied again only when a node's ModifyIndex moved.
 *
 * Threads: one source per worker thread; sources of one store run in
 * parallel.
 */
typedef struct nomad_state_sched_source nomad_state_sched_source;

NOMAD_EXTERN nomad_err nomad_state_sched_source_new(nomad_state *s,
						    nomad_state_sched_source **out,
						    nomad_error *err);
NOMAD_EXTERN void nomad_state_sched_source_free(nomad_state_sched_source *src);
NOMAD_EXTERN const nomad_sched_state_ops *nomad_state_sched_ops(void);

/* ------------------------------------------------------------------ */
/* Snapshot streams                                                     */

/*
 * The whole store as one byte stream: what Raft snapshots and `nomadctl
 * operator snapshot save/restore` carry. The stream starts with the magic
 * "NOMADSNP", a format version, the store's schema version and the index
 * it was taken at; then every row of every table, as framed records with
 * lengths and typed columns; then a trailer with the record count and a
 * SHA-256 over everything before it. lib/state/snapshot_io.c documents
 * the layout byte by byte. A stream is only restored by a store of the
 * same schema version.
 */

/**
 * Receives snapshot bytes; return nonzero to abort (NOMAD_EUSER).
 *
 * Called on the thread of nomad_state_snapshot_save with no lock of the
 * store held: it may call into libnomad, write transactions included, but
 * must not use the snapshot being saved. `data` is valid only during the
 * call.
 */
typedef int (*nomad_state_write_cb)(const void *data, size_t len,
				    void *userdata);

/**
 * Supplies snapshot bytes: fill up to `cap`, return the count, 0 at the
 * end, or -1 for an error.
 *
 * Called on the thread of nomad_state_snapshot_restore with no lock of the
 * store held. Short counts are fine. -1, or any count above `cap`, ends the
 * restore with NOMAD_EUSER.
 */
typedef long (*nomad_state_read_cb)(void *buf, size_t cap, void *userdata);

/**
 * Write the store, as `snap` sees it, to a stream.
 *
 * The stream holds exactly the state at nomad_state_snap_index(snap):
 * writes committed while it is saved go on and are not in it. Bytes reach
 * `cb` in order, in chunks of at most 64 KiB; the stream is complete only
 * once the call returns NOMAD_OK (it ends with its trailer, so a stream cut
 * short anywhere is refused by restore). The snapshot stays open and
 * usable; close it as usual.
 *
 * @param snap the snapshot to save; this call uses it until it returns
 * @param cb receives the bytes, borrowed for the duration of each call
 * @param userdata passed to `cb`
 * @return NOMAD_OK; NOMAD_EUSER (`cb` returned nonzero; what was written
 *         is incomplete); NOMAD_EINVAL (no snapshot or callback);
 *         NOMAD_EIO (the store could not be read); NOMAD_ENOMEM
 */
NOMAD_EXTERN nomad_err nomad_state_snapshot_save(nomad_state_snap *snap,
						 nomad_state_write_cb cb,
						 void *userdata,
						 nomad_error *err);

/**
 * Replace the whole content of `s` with a stream from
 * nomad_state_snapshot_save.
 *
 * The stream is first loaded into a scratch database next to the store
 * (its path plus ".restore"), checking each record's framing as it arrives
 * and the record count and checksum at the end. Only a stream that passed
 * every check replaces the store's content, in one write transaction:
 * every table is emptied and refilled, so what the store held before is
 * gone, and the last index and each table's index become the snapshot's,
 * even when lower than the store's were. Any failure leaves the store
 * exactly as it was. The scratch file is removed in every case.
 *
 * Writes wait only while the content is replaced, not while the stream is
 * read. Snapshots already open are not refused: they go on seeing the state
 * they were opened on, and snapshots opened afterwards see the restored
 * one. On success, event subscriptions end (their next read returns
 * NOMAD_ERANGE), every blocking-query watch fires, and the scheduler view
 * shows the restored state. The calling thread must not have a
 * transaction of `s` open. One restore at a time per store; a concurrent
 * second one is refused.
 *
 * @param s the store whose content is replaced
 * @param cb supplies the bytes
 * @param userdata passed to `cb`
 * @return NOMAD_OK; NOMAD_ECORRUPT (the stream is truncated, or has a bad
 *         magic, an unknown format or schema version, bad framing, a row
 *         that does not fit the schema, a wrong record count or a bad
 *         checksum: the message says which, and at what byte offset);
 *         NOMAD_EUSER (`cb` failed); NOMAD_ECONFLICT (another restore into
 *         `s` is running); NOMAD_EINVAL; NOMAD_EIO; NOMAD_ENOMEM
 */
NOMAD_EXTERN nomad_err nomad_state_snapshot_restore(nomad_state *s,
						    nomad_state_read_cb cb,
						    void *userdata,
						    nomad_error *err);

/* ------------------------------------------------------------------ */
/* Change notification: the event stream and blocking queries          */

/*
 * Every committed write publishes events, as Nomad's event stream does
 * (GET /v1/event/stream): one per object written, all with Index = the
 * transaction's index, published when the transaction commits and dropped
 * when it aborts. A job whose status the commit works out anew (from its
 * evaluations and allocations, as Nomad's getJobStatus) still has one
 * event: the one of its write in that transaction, carrying the final
 * status, or, when it was not written, one of type JobRegistered. The
 * store keeps the events of its last nomad_state_config.event_buffer
 * commits (default 100, as Nomad's EventBufferSize) so that a subscriber
 * can start from a recent index.
 *
 * Subscribers pull: nomad_state_sub_next returns the next matching event,
 * waiting for one if asked to. An optional ready callback says, on the
 * committing thread, that new events may be there, so an event loop can
 * wake up and drain them without a thread of its own.
 *
 * Blocking queries use watches: nomad_state_watch calls back on a libevent
 * loop when a table, or one key of it, moves past an index, or when a
 * timeout passes. Keys of each table, as the store marks them:
 *   jobs, job versions, job summaries: "<namespace>/<job id>"
 *   evals: the evaluation ID, and "<namespace>/<job id>"
 *   nodes: the node ID
 *   deployments: the deployment ID, and "<namespace>/<job id>"
 *   allocs: the allocation ID, its node ID, "<namespace>/<job id>", its
 *           evaluation ID and its deployment ID
 */

/* Topics and types of events (Nomad's names). */
#define NOMAD_TOPIC_ALL "*"
#define NOMAD_TOPIC_JOB "Job"
#define NOMAD_TOPIC_EVALUATION "Evaluation"
#define NOMAD_TOPIC_ALLOCATION "Allocation"
#define NOMAD_TOPIC_NODE "Node"
#define NOMAD_TOPIC_DEPLOYMENT "Deployment"

#define NOMAD_EVENT_JOB_REGISTERED "JobRegistered"
#define NOMAD_EVENT_JOB_DEREGISTERED "JobDeregistered"
#define NOMAD_EVENT_EVALUATION_UPDATED "EvaluationUpdated"
#define NOMAD_EVENT_NODE_REGISTRATION "NodeRegistration"
#define NOMAD_EVENT_NODE_DEREGISTRATION "NodeDeregistration"
#define NOMAD_EVENT_NODE_ELIGIBILITY "NodeEligibility"
#define NOMAD_EVENT_NODE_DRAIN "NodeDrain"
#define NOMAD_EVENT_NODE_STREAM "NodeStreamEvent"
#define NOMAD_EVENT_DEPLOYMENT_STATUS "DeploymentStatusUpdate"
#define NOMAD_EVENT_DEPLOYMENT_PROMOTION "DeploymentPromotion"
#define NOMAD_EVENT_DEPLOYMENT_ALLOC_HEALTH "DeploymentAllocHealth"
#define NOMAD_EVENT_ALLOCATION_CREATED "AllocationCreated"
#define NOMAD_EVENT_ALLOCATION_UPDATED "AllocationUpdated"
#define NOMAD_EVENT_ALLOCATION_DESIRED "AllocationUpdateDesiredStatus"
#define NOMAD_EVENT_PLAN_RESULT "PlanResult"

/**
 * One event, as Nomad's structs.Event. Every pointer is borrowed from the
 * subscription and valid until the next nomad_state_sub_next or
 * nomad_state_sub_close on it; copy what must outlive that (the payload
 * with nomad_msg_copy).
 */
typedef struct nomad_state_event {
	const char *topic;     /**< NOMAD_TOPIC_JOB, ... */
	const char *type;      /**< NOMAD_EVENT_JOB_REGISTERED, ... */
	const char *key;       /**< the object's ID (jobs: the job ID) */
	const char *ns;        /**< its namespace; "" for nodes */
	const char *const *filter_keys; /**< other keys it matches (an
					     allocation's job and deployment
					     IDs, an evaluation's job ID) */
	size_t n_filter_keys;
	uint64_t index;        /**< the index of the write */
	/** The object as stored after the write (a nomad_job, nomad_eval,
	 *  nomad_node, nomad_deployment or nomad_alloc; for
	 *  JobDeregistered and NodeDeregistration the object as it was),
	 *  or NULL. */
	const ProtobufCMessage *payload;
} nomad_state_event;

/** A subscription to the event stream. */
typedef struct nomad_state_sub nomad_state_sub;

/** Which events a subscription wants: topic "*" is every topic, key "*"
 *  (or NULL) every key; a key matches an event's Key or any of its
 *  FilterKeys. */
typedef struct nomad_state_topic_filter {
	const char *topic;
	const char *key;
} nomad_state_topic_filter;

#define NOMAD_STATE_SUBSCRIBE_OPTIONS_VERSION 1

/** How to subscribe. */
typedef struct nomad_state_subscribe_options {
	unsigned int version; /**< NOMAD_STATE_SUBSCRIBE_OPTIONS_VERSION */
	/** Start with the buffered events of this index and later; 0 starts
	 *  with the oldest buffered event. */
	uint64_t index;
	/** The topics wanted; n_topics 0 means all ("*:*"). */
	const nomad_state_topic_filter *topics;
	size_t n_topics;
	/** The namespace: NULL "default", "*" all. Events without a
	 *  namespace (nodes) always pass. */
	const char *ns;
} nomad_state_subscribe_options;

#define NOMAD_STATE_SUBSCRIBE_OPTIONS_INIT {NOMAD_STATE_SUBSCRIBE_OPTIONS_VERSION, 0, NULL, 0, NULL}

/**
 * Says that events may be waiting for `sub` (they may not match its
 * filter). Called on the thread that committed, after the commit and with
 * no lock of the store held, once per commit that published events.
 *
 * It must be quick and must not call back into the store: no writes, and
 * not nomad_state_sub_close. It is meant to wake the consumer: an
 * event_active() on a libevent event, a condition variable, a pipe. The
 * consumer then calls nomad_state_sub_next with timeout 0 until it
 * returns NOMAD_ETIMEDOUT.
 */
typedef void (*nomad_state_sub_ready_cb)(nomad_state_sub *sub,
					 uint64_t index, void *userdata);

/**
 * Subscribe to the event stream.
 *
 * The filters are copied. Events still buffered from opts->index on are
 * delivered first, then new ones as they are committed.
 *
 * @param opts NULL: every event of every namespace, from the oldest
 *        buffered
 * @param cb optional ready callback (see nomad_state_sub_ready_cb)
 * @param out the subscription, freed with nomad_state_sub_close
 * @return NOMAD_OK; NOMAD_ERANGE when events at or after opts->index
 *         are no longer buffered ("index N is older than the oldest
 *         buffered event M": resubscribe from a fresh read); NOMAD_EINVAL
 */
NOMAD_EXTERN nomad_err nomad_state_subscribe(nomad_state *s,
					     const nomad_state_subscribe_options *opts,
					     nomad_state_sub_ready_cb cb,
					     void *userdata,
					     nomad_state_sub **out,
					     nomad_error *err);

/**
 * The next event of the subscription, in commit order.
 *
 * The previous event's memory is released. A subscriber that reads more
 * slowly than the store writes loses its place once the events it has not
 * read leave the buffer: it gets NOMAD_ERANGE, and then again on every
 * call; it must close and resubscribe.
 *
 * @param timeout_ms how long to wait for an event: 0 not at all, < 0
 *        without limit
 * @param out the event, borrowed until the next call or the close
 * @return NOMAD_OK; NOMAD_ETIMEDOUT (no event came); NOMAD_ERANGE (fell
 *         behind the buffer); NOMAD_ECORRUPT (a payload failed to decode,
 *         which does not happen with a sane store)
 */
NOMAD_EXTERN nomad_err nomad_state_sub_next(nomad_state_sub *sub,
					    int64_t timeout_ms,
					    const nomad_state_event **out,
					    nomad_error *err);

/**
 * End a subscription. NULL accepted. Waits for a ready callback of `sub`
 * running on another thread to return, so never call it from the ready
 * callback itself. Subscriptions must be closed before their store.
 */
NOMAD_EXTERN void nomad_state_sub_close(nomad_state_sub *sub);

struct event_base;

/** A blocking-query watch (a waiter registered by nomad_state_watch). */
typedef struct nomad_state_watcher nomad_state_watcher;

/**
 * Receives a watch's outcome, on the thread running the watch's event
 * loop, once. `status` is NOMAD_OK when the table or key moved past the
 * index (`index` is then the index that moved it), NOMAD_ETIMEDOUT when
 * the timeout passed first (`index` is then the table's current index).
 * The watch is freed before the call: do not cancel it. The callback may
 * call into the store, including nomad_state_watch to wait again.
 */
typedef void (*nomad_state_watch_cb)(nomad_err status, uint64_t index,
				     void *userdata);

/**
 * Wait, on a libevent loop, for a table or one of its keys to move past
 * `min_index` (Nomad's blocking query: `?index=N&wait=T`).
 *
 * With `key` NULL, the watch fires when a commit above `min_index` changes
 * `table`, or at once (from the loop, never from this call) when the
 * table's index is above `min_index` already. With a key (see the list
 * above), when a commit above `min_index` changes that key, or at once
 * when the store saw such a commit since it was opened. So a caller that
 * read an object at a snapshot and found its index not above `min_index`
 * misses no change made between its read and this call. (The store
 * remembers the last index of the most recently changed 65536 or more
 * keys; a watch whose key was changed long ago and forgotten since waits
 * for the next change.)
 *
 * Waiters cost no work while they wait: each is a libevent event with a
 * timer, and a commit finds the ones its changes concern in a hash table.
 * The commit activates their events with event_active(), from the
 * committing thread: when that is not the loop's thread, the application
 * must have called evthread_use_pthreads() before creating `base` (libnomad
 * never calls it; see libnomad-threads(3)).
 *
 * Threads: call it, and nomad_state_watch_cancel, on the thread that runs
 * `base` (or before it runs). Any thread may commit.
 *
 * @param base the loop that runs `cb`; it must outlive the watch
 * @param key NULL for the whole table; copied
 * @param timeout_ms after this the watch fires with NOMAD_ETIMEDOUT; < 0
 *        for never (a loop with nothing else pending then returns at once
 *        from event_base_dispatch: libevent does not count activations)
 * @param out the watch, to cancel it before it fires; may be NULL
 * @return NOMAD_OK; NOMAD_EINVAL; NOMAD_ENOMEM
 */
NOMAD_EXTERN nomad_err nomad_state_watch(nomad_state *s,
					 struct event_base *base,
					 nomad_state_table table,
					 const char *key, uint64_t min_index,
					 int64_t timeout_ms,
					 nomad_state_watch_cb cb,
					 void *userdata,
					 nomad_state_watcher **out,
					 nomad_error *err);

/**
 * Cancel a watch whose callback has not run: it never runs. NULL
 * accepted. Loop thread only. Watches must have fired or been cancelled
 * before their store is closed.
 */
NOMAD_EXTERN void nomad_state_watch_cancel(nomad_state_watcher *w);

/* ------------------------------------------------------------------ */
/* Namespaces, node pools, ACL, variables, services, operator          */
/*
 * The smaller tables (lib/state/tables*.c). Writes take a transaction and
 * set CreateIndex (kept when the object exists) and ModifyIndex (the
 * transaction's index); reads take a snapshot. Single lookups return a new
 * object owned by the caller (free it with the type's nomad_*_free), or
 * NOMAD_ENOTFOUND with *out NULL. Listings and the by-X queries pass
 * borrowed objects to `cb`, as the listings above do; listings page with
 * per_page and next_token, take `prefix` on their key (a name, accessor
 * ID, variable path, or ID) and, for the namespaced tables (variables,
 * services, periodic launches), `ns` ("*" for all); their tokens are the
 * key, or "<namespace>.<key>".
 */

/**
 * Create or update a namespace, by Name.
 *
 * The "default" namespace exists from the start (Description "Default
 * shared namespace", CreateIndex 1) and may be updated.
 *
 * @return NOMAD_OK, NOMAD_EINVAL (a name Nomad refuses: 1 to 128 letters,
 *         digits and dashes)
 */
NOMAD_EXTERN nomad_err nomad_state_namespace_upsert(nomad_state_txn *txn,
						    const nomad_namespace *ns,
						    nomad_error *err);

/**
 * Delete namespaces, all or none. As Nomad: "default" cannot be deleted,
 * nor a namespace that still holds a job that is not dead or a variable
 * (NOMAD_EINVAL).
 *
 * @return NOMAD_OK, NOMAD_ENOTFOUND, NOMAD_EINVAL
 */
NOMAD_EXTERN nomad_err nomad_state_namespaces_delete(nomad_state_txn *txn,
						     const char *const *names,
						     size_t n, nomad_error *err);

/** The namespace `name`. @return NOMAD_OK or NOMAD_ENOTFOUND */
NOMAD_EXTERN nomad_err nomad_state_namespace_get(nomad_state_snap *snap,
						 const char *name,
						 nomad_namespace **out);

/** Namespaces in name order; `prefix` matches names. */
NOMAD_EXTERN nomad_err nomad_state_namespaces_list(nomad_state_snap *snap,
						   const nomad_state_list_options *opts,
						   nomad_state_iter_cb cb, void *userdata,
						   char next_token[NOMAD_STATE_TOKEN_MAX],
						   nomad_error *err);

/**
 * Create or update a node pool, by Name.
 *
 * The built-in pools "all" and "default" exist from the start (CreateIndex
 * 1) and can be neither changed nor deleted.
 *
 * @return NOMAD_OK, NOMAD_EINVAL (no name, or a built-in pool)
 */
NOMAD_EXTERN nomad_err nomad_state_node_pool_upsert(nomad_state_txn *txn,
						    const nomad_node_pool *pool,
						    nomad_error *err);

/**
 * Delete node pools, all or none. Whether nodes or jobs still use a pool
 * is the server's check, as in Nomad.
 *
 * @return NOMAD_OK, NOMAD_ENOTFOUND, NOMAD_EINVAL (a built-in pool)
 */
NOMAD_EXTERN nomad_err nomad_state_node_pools_delete(nomad_state_txn *txn,
						     const char *const *names,
						     size_t n, nomad_error *err);

/** The node pool `name`. @return NOMAD_OK or NOMAD_ENOTFOUND */
NOMAD_EXTERN nomad_err nomad_state_node_pool_get(nomad_state_snap *snap,
						 const char *name,
						 nomad_node_pool **out);

/** Node pools in name order; `prefix` matches names. */
NOMAD_EXTERN nomad_err nomad_state_node_pools_list(nomad_state_snap *snap,
						   const nomad_state_list_options *opts,
						   nomad_state_iter_cb cb, void *userdata,
						   char next_token[NOMAD_STATE_TOKEN_MAX],
						   nomad_error *err);

/**
 * Create or update an ACL policy, by Name. Hash is stored as given.
 *
 * @return NOMAD_OK, NOMAD_EINVAL (no name)
 */
NOMAD_EXTERN nomad_err nomad_state_acl_policy_upsert(nomad_state_txn *txn,
						     const nomad_acl_policy *policy,
						     nomad_error *err);

/** Delete ACL policies by name; names that do not exist are skipped, as
 *  in Nomad. */
NOMAD_EXTERN nomad_err nomad_state_acl_policies_delete(nomad_state_txn *txn,
						       const char *const *names,
						       size_t n, nomad_error *err);

/** The ACL policy `name`. @return NOMAD_OK or NOMAD_ENOTFOUND */
NOMAD_EXTERN nomad_err nomad_state_acl_policy_get(nomad_state_snap *snap,
						  const char *name,
						  nomad_acl_policy **out);

/** ACL policies in name order; `prefix` matches names. */
NOMAD_EXTERN nomad_err nomad_state_acl_policies_list(nomad_state_snap *snap,
						     const nomad_state_list_options *opts,
						     nomad_state_iter_cb cb, void *userdata,
						     char next_token[NOMAD_STATE_TOKEN_MAX],
						     nomad_error *err);

/**
 * Create or update an ACL token, by AccessorID. As in Nomad, an update
 * keeps the stored SecretID and CreateTime whatever it carries. Hash is
 * stored as given. Bootstrapping (once, or again with the reset index) is
 * the server's to enforce: to the store a bootstrap token is a token.
 *
 * @return NOMAD_OK, NOMAD_EINVAL (no AccessorID, or a new token without a
 *         SecretID), NOMAD_EEXISTS (another token has this SecretID)
 */
NOMAD_EXTERN nomad_err nomad_state_acl_token_upsert(nomad_state_txn *txn,
						    const nomad_acl_token *token,
						    nomad_error *err);

/** Delete ACL tokens by accessor ID; IDs that do not exist are skipped,
 *  as in Nomad. */
NOMAD_EXTERN nomad_err nomad_state_acl_tokens_delete(nomad_state_txn *txn,
						     const char *const *accessor_ids,
						     size_t n, nomad_error *err);

/** The ACL token with this accessor ID. @return NOMAD_OK or
 *  NOMAD_ENOTFOUND */
NOMAD_EXTERN nomad_err nomad_state_acl_token_get(nomad_state_snap *snap,
						 const char *accessor_id,
						 nomad_acl_token **out);

/** The ACL token with this secret ID (what a request presents), by
 *  index. An empty secret matches nothing. @return NOMAD_OK or
 *  NOMAD_ENOTFOUND */
NOMAD_EXTERN nomad_err nomad_state_acl_token_by_secret(nomad_state_snap *snap,
						       const char *secret_id,
						       nomad_acl_token **out);

/** ACL tokens in accessor ID order; `prefix` matches accessor IDs. */
NOMAD_EXTERN nomad_err nomad_state_acl_tokens_list(nomad_state_snap *snap,
						   const nomad_state_list_options *opts,
						   nomad_state_iter_cb cb, void *userdata,
						   char next_token[NOMAD_STATE_TOKEN_MAX],
						   nomad_error *err);

/**
 * Create or update a variable, by Namespace (NULL: "default") and Path.
 * An update keeps CreateIndex and CreateTime; ModifyTime is the caller's.
 *
 * @return NOMAD_OK, NOMAD_EINVAL (no path)
 */
NOMAD_EXTERN nomad_err nomad_state_variable_upsert(nomad_state_txn *txn,
						   const nomad_variable *v,
						   nomad_error *err);

/**
 * Check-and-set: as nomad_state_variable_upsert, but only when `cas` is 0
 * and the variable does not exist, or `cas` is its ModifyIndex (Nomad's
 * VarSetCAS). Otherwise nothing is written.
 *
 * @return NOMAD_OK, NOMAD_EINVAL, NOMAD_ECONFLICT
 */
NOMAD_EXTERN nomad_err nomad_state_variable_upsert_cas(nomad_state_txn *txn,
						       const nomad_variable *v,
						       uint64_t cas,
						       nomad_error *err);

/** Delete a variable; one that does not exist is no error (Nomad's
 *  VarDelete). @return NOMAD_OK, NOMAD_EINVAL (no path) */
NOMAD_EXTERN nomad_err nomad_state_variable_delete(nomad_state_txn *txn,
						   const char *ns,
						   const char *path,
						   nomad_error *err);

/**
 * Check-and-set delete (Nomad's VarDeleteCAS): `cas` 0 succeeds only when
 * the variable does not exist (nothing is deleted); N deletes it only when
 * its ModifyIndex is N.
 *
 * @return NOMAD_OK, NOMAD_EINVAL, NOMAD_ECONFLICT
 */
NOMAD_EXTERN nomad_err nomad_state_variable_delete_cas(nomad_state_txn *txn,
						       const char *ns,
						       const char *path,
						       uint64_t cas,
						       nomad_error *err);

/** The variable at (ns, path); ns NULL means "default". @return NOMAD_OK
 *  or NOMAD_ENOTFOUND */
NOMAD_EXTERN nomad_err nomad_state_variable_get(nomad_state_snap *snap,
						const char *ns, const char *path,
						nomad_variable **out);

/** Variables in (namespace, path) order; `prefix` matches paths. */
NOMAD_EXTERN nomad_err nomad_state_variables_list(nomad_state_snap *snap,
						  const nomad_state_list_options *opts,
						  nomad_state_iter_cb cb, void *userdata,
						  char next_token[NOMAD_STATE_TOKEN_MAX],
						  nomad_error *err);

/**
 * Register or update a service instance, by Namespace (NULL: "default")
 * and ID. Registering an unchanged instance again writes nothing, as in
 * Nomad (clients re-register periodically).
 *
 * @return NOMAD_OK, NOMAD_EINVAL (no ID or ServiceName)
 */
NOMAD_EXTERN nomad_err nomad_state_service_upsert(nomad_state_txn *txn,
						  const nomad_service_registration *svc,
						  nomad_error *err);

/** Delete one service instance. @return NOMAD_OK or NOMAD_ENOTFOUND */
NOMAD_EXTERN nomad_err nomad_state_service_delete(nomad_state_txn *txn,
						  const char *ns,
						  const char *id,
						  nomad_error *err);

/** Delete every instance an allocation registered (none: no error). */
NOMAD_EXTERN nomad_err nomad_state_services_delete_by_alloc(nomad_state_txn *txn,
							    const char *alloc_id,
							    nomad_error *err);

/** Delete every instance registered on a node (none: no error). */
NOMAD_EXTERN nomad_err nomad_state_services_delete_by_node(nomad_state_txn *txn,
							   const char *node_id,
							   nomad_error *err);

/** The service instance (ns, id). @return NOMAD_OK or NOMAD_ENOTFOUND */
NOMAD_EXTERN nomad_err nomad_state_service_get(nomad_state_snap *snap,
					       const char *ns, const char *id,
					       nomad_service_registration **out);

/** The instances of service `name` in namespace `ns`, in ID order. */
NOMAD_EXTERN nomad_err nomad_state_services_by_name(nomad_state_snap *snap,
						    const char *ns,
						    const char *name,
						    nomad_state_iter_cb cb,
						    void *userdata,
						    nomad_error *err);

/** The instances an allocation registered, in ID order. */
NOMAD_EXTERN nomad_err nomad_state_services_by_alloc(nomad_state_snap *snap,
						     const char *alloc_id,
						     nomad_state_iter_cb cb,
						     void *userdata,
						     nomad_error *err);

/** The instances registered on a node, in ID order. */
NOMAD_EXTERN nomad_err nomad_state_services_by_node(nomad_state_snap *snap,
						    const char *node_id,
						    nomad_state_iter_cb cb,
						    void *userdata,
						    nomad_error *err);

/** The instances of a job's services, in ID order. */
NOMAD_EXTERN nomad_err nomad_state_services_by_job(nomad_state_snap *snap,
						   const char *ns,
						   const char *job_id,
						   nomad_state_iter_cb cb,
						   void *userdata,
						   nomad_error *err);

/** Service instances in (namespace, ID) order; `prefix` matches IDs. */
NOMAD_EXTERN nomad_err nomad_state_services_list(nomad_state_snap *snap,
						 const nomad_state_list_options *opts,
						 nomad_state_iter_cb cb, void *userdata,
						 char next_token[NOMAD_STATE_TOKEN_MAX],
						 nomad_error *err);

/**
 * Set the scheduler configuration (the operator's; the server writes the
 * one from its config when none is stored, as Nomad's leader does).
 */
NOMAD_EXTERN nomad_err nomad_state_scheduler_config_set(nomad_state_txn *txn,
							const nomad_scheduler_config *cfg,
							nomad_error *err);

/**
 * Check-and-set the scheduler configuration (`?cas=`): only when the stored
 * ModifyIndex is `cas`, or `cas` is 0 and none is stored.
 *
 * @return NOMAD_OK, NOMAD_ECONFLICT (nothing written: Nomad's
 *         "Updated": false)
 */
NOMAD_EXTERN nomad_err nomad_state_scheduler_config_cas(nomad_state_txn *txn,
							const nomad_scheduler_config *cfg,
							uint64_t cas,
							nomad_error *err);

/** The scheduler configuration. @return NOMAD_OK, or NOMAD_ENOTFOUND when
 *  none was ever set */
NOMAD_EXTERN nomad_err nomad_state_scheduler_config_get(nomad_state_snap *snap,
							nomad_scheduler_config **out);

/**
 * Record a periodic job's last launch, by (Namespace, ID) of the job
 * (Nomad's UpsertPeriodicLaunch).
 *
 * @return NOMAD_OK, NOMAD_EINVAL (no ID)
 */
NOMAD_EXTERN nomad_err nomad_state_periodic_launch_upsert(nomad_state_txn *txn,
							  const nomad_periodic_launch *launch,
							  nomad_error *err);

/** Forget a periodic job's launches. @return NOMAD_OK or
 *  NOMAD_ENOTFOUND */
NOMAD_EXTERN nomad_err nomad_state_periodic_launch_delete(nomad_state_txn *txn,
							  const char *ns,
							  const char *job_id,
							  nomad_error *err);

/** The last launch of job (ns, job_id). @return NOMAD_OK or
 *  NOMAD_ENOTFOUND */
NOMAD_EXTERN nomad_err nomad_state_periodic_launch_get(nomad_state_snap *snap,
						       const char *ns,
						       const char *job_id,
						       nomad_periodic_launch **out);

/** Periodic launches in (namespace, job ID) order; `prefix` matches job
 *  IDs. */
NOMAD_EXTERN nomad_err nomad_state_periodic_launches_list(nomad_state_snap *snap,
							  const nomad_state_list_options *opts,
							  nomad_state_iter_cb cb, void *userdata,
							  char next_token[NOMAD_STATE_TOKEN_MAX],
							  nomad_error *err);

#ifdef __cplusplus
}
#endif

#endif /* NOMAD_STATE_H */
