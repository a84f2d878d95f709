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
} nomad_state_config;

#define NOMAD_STATE_CONFIG_INIT {NOMAD_STATE_CONFIG_VERSION, NULL, 0, 0, 0, NULL, NULL, NULL, 0}

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
 * Delete a job with its versions and summary (Nomad's DeleteJob, the
 * purge). Its allocations and evaluations stay until garbage collected.
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
 * IDs that do not exist are skipped.
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
 * AllocModifyIndex does not. Unknown IDs are skipped, as Nomad does.
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

#ifdef __cplusplus
}
#endif

#endif /* NOMAD_STATE_H */
