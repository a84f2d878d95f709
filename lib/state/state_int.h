/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Inside the state store (lib/state only). The files split by table:
 * state.c (open, schema, transactions, snapshots, the pieces below),
 * jobs.c (jobs, versions), summary.c (job summaries), evals.c, nodes.c,
 * deployments.c, allocs.c (the two-level allocation tables), plan.c.
 *
 * Schema (SQLite, one file):
 *   meta(k, v)                         schema version, last applied index
 *   table_index(t, idx)                latest index per nomad_state_table
 *   jobs(pk, ns, id, body)             UNIQUE(ns, id)
 *   job_versions(job_pk, version, body)
 *   job_summaries(job_pk, body)
 *   evals(pk, id, ns, job_id, body)    id is the 16-byte UUID
 *   nodes(pk, id, body)
 *   deployments(pk, id, ns, job_id, create_index, body)
 *   alloc_loc(id, pk, node_pk)         where an allocation lives
 *   allocs_hot(pk, node_pk, status, body)   appended; index (node_pk, pk)
 *   allocs_cold(k, status, body)            k = node_pk << 40 | pk
 *   alloc_by_job(jk, id), job_keys(jk, ns, job_id)
 *   alloc_by_eval(eval_id, id), alloc_by_deployment(dep_id, id)
 *   alloc_jobs(jk, version, body)     the job versions allocations run
 *   namespaces(name, body), node_pools(name, body), acl_policies(name,
 *   body), acl_tokens(accessor, secret, body), variables(ns, path, body),
 *   services(ns, id, name, job_id, alloc_id, node_id, body),
 *   scheduler_config(id = 1, body), periodic_launches(ns, id, body)
 *                                      the smaller tables (tables_int.h)
 * Bodies are the objects' protobuf encoding.
 */
#ifndef NMD_STATE_INT_H
#define NMD_STATE_INT_H

#include <pthread.h>
#include <sqlite3.h>
#include <stdbool.h>

#include <nomad/state.h>
#include "core/buf.h"
#include "core/ctx.h"
#include "state/keycache.h"

#define NMD_STATE_SCHEMA_VERSION 1
/* Job versions kept per job, as Nomad's JobDefaultTrackedVersions. */
#define NMD_STATE_JOB_VERSIONS 6
/* Node events kept per node, as Nomad's maxNodeEvents. */
#define NMD_STATE_NODE_EVENTS 10
/* Bits of an allocation's cold key that hold its pk. */
#define NMD_STATE_PK_BITS 40

/* Every message the store decodes or builds is allocated with the C
 * library, whatever allocator the store was opened with: objects handed to
 * callers must be freeable with nomad_*_free, and objects callers hand in
 * are theirs. The store's own allocator serves its handles and buffers. */
#define NMD_STATE_MSG_ALLOC ((const nomad_allocator *)NULL)

/* One SQLite connection with its prepared statements, found by the
 * address of their (static) SQL text. */
#define NMD_CONN_STMTS 128
struct nmd_conn {
	sqlite3 *db;
	const char *sql[NMD_CONN_STMTS];
	sqlite3_stmt *stmt[NMD_CONN_STMTS];
};

struct nomad_state {
	struct nmd_ctx ctx;
	char *path;
	nomad_state_sync sync;
	unsigned int cache_mb;
	unsigned int hot_max;
	unsigned int checkpoint_pages;

	pthread_mutex_t write_lock; /* held by the open transaction */
	struct nmd_conn writer;
	uint64_t last_index;        /* written under write_lock */
	uint64_t hot_count;         /* rows in allocs_hot */
	uint64_t next_alloc_pk;     /* meta "alloc_pk": the next one to use */
	/* What inserting allocations looks up again and again (allocs.c);
	 * cleared on rollback, node_pks also when a node is deleted. */
	struct nmd_keycache node_pks;     /* node ID (16 bytes) -> pk */
	struct nmd_keycache job_keys;     /* "ns\0job" -> jk */
	struct nmd_keycache job_versions; /* (jk, version) kept in alloc_jobs */
	struct nmd_view *view;      /* built on first use (view.c) */
	struct nmd_checkpointer *checkpointer; /* checkpoint.c */

	pthread_mutex_t pool_lock;  /* guards the idle readers */
	struct nmd_conn **idle;
	size_t n_idle, cap_idle;
	size_t open_snaps;

	/* Change notification: the event buffer and subscribers (events.c),
	 * blocking-query waiters and per-key indexes (watch.c). */
	struct nmd_events *events;
	struct nmd_watches *watches;
};

/* A connection to the store's file with the store's pragmas (readers and
 * helper threads open theirs with `create` false), and closing one. */
nomad_err nmd_conn_open(nomad_state *s, struct nmd_conn *c, unsigned cache_mb,
			bool create, nomad_error *err);
void nmd_conn_close(struct nmd_conn *c);

/* The background WAL checkpointer (checkpoint.c). */
nomad_err nmd_checkpointer_start(nomad_state *s, nomad_error *err);
void nmd_checkpointer_stop(nomad_state *s);

/* Events a transaction records (events.c). Strings and packed payloads
 * live in `arena` and are named by offset, since the arena moves as it
 * grows; on commit the whole list becomes one buffered batch. */
struct nmd_ev_rec {
	size_t topic, type, key, ns; /* offsets of NUL-terminated strings */
	size_t filter;               /* offset of n_filter strings, packed */
	size_t n_filter;
	size_t body, body_len;       /* the payload's protobuf encoding */
	const ProtobufCMessageDescriptor *desc; /* NULL: no payload */
};
struct nmd_txn_events {
	struct nmd_ev_rec *recs;
	size_t n, cap;
	struct nmd_buf arena;
	const char *type;            /* overrides every event's type */
	bool oom;                    /* a record was lost: commit fails */
};

/* Keys a transaction touched (watch.c), by table and a 64-bit hash of the
 * key: watches match on the hash, so the text need not be kept (a
 * collision would only wake a watch early). */
struct nmd_key_rec {
	uint64_t hash;
	nomad_state_table table;
};
struct nmd_txn_keys {
	struct nmd_key_rec *recs;
	size_t n, cap;
	bool oom;                    /* lost a key: wake the whole tables */
};

struct nomad_state_txn {
	nomad_state *s;
	struct nmd_conn *c;         /* the writer */
	uint64_t index;
	bool touched[NOMAD_TABLE_COUNT_];
	struct nmd_buf scratch;     /* packing bodies */
	struct nmd_txn_events ev;   /* published on commit (events.c) */
	struct nmd_txn_keys keys;   /* keys touched, for watches (watch.c) */
	struct nmd_view_log *view_log; /* scheduler view changes (view.c) */
	struct nmd_keycache jobs_touched; /* "ns\0job" whose status may move */
};

struct nomad_state_snap {
	nomad_state *s;
	struct nmd_conn *c;
	uint64_t index;
	uint64_t table_index[NOMAD_TABLE_COUNT_];
};

/* ---- job status (jobstatus.c) ---------------------------------------------- */

/* Note that a job's allocations, evaluations or spec changed. */
void nmd_touch_job(nomad_state_txn *txn, const char *ns, const char *job_id);
/* Before commit: recompute the status of every touched job. */
nomad_err nmd_jobs_refresh_status(nomad_state_txn *txn, nomad_error *err);

/* ---- the scheduler view (view.c) ---------------------------------------- */

struct nmd_view;
/* Record, in the transaction, what the view must learn on commit: a node
 * written (a copy is taken) or deleted, an allocation written (as stored)
 * or deleted. Cheap no-ops until the view has been built. */
void nmd_view_node_put(nomad_state_txn *txn, const nomad_node *node);
void nmd_view_node_del(nomad_state_txn *txn, const uint8_t id[16]);
void nmd_view_alloc_put(nomad_state_txn *txn, const nomad_alloc *a);
void nmd_view_alloc_del(nomad_state_txn *txn, const char *node_id,
			const uint8_t id[16]);
/* Apply the transaction's changes after its commit, or drop them. */
void nmd_view_commit(nomad_state_txn *txn);
void nmd_view_discard(nomad_state_txn *txn);
void nmd_view_free(nomad_state *s);

/* ---- connections (state.c) --------------------------------------------- */

/* The statement for `sql` on `c`, prepared once and reset for reuse. NULL
 * (with err filled) when SQLite refuses it. `sql` must be static text. */
sqlite3_stmt *nmd_stmt(struct nmd_conn *c, const char *sql, nomad_error *err);
/* Read and write the meta table's integers. */
nomad_err nmd_meta_get(struct nmd_conn *c, const char *key, int64_t *v,
		       bool *found, nomad_error *err);
nomad_err nmd_meta_set(struct nmd_conn *c, const char *key, int64_t v,
		       nomad_error *err);
/* Step a statement that returns no rows, then reset it. */
nomad_err nmd_stmt_exec(struct nmd_conn *c, sqlite3_stmt *st, nomad_error *err);
/* Fill `err` from the connection's last SQLite error; returns NOMAD_EIO. */
nomad_err nmd_sqlite_fail(struct nmd_conn *c, nomad_error *err,
			  const char *what);

/* ---- identifiers ----------------------------------------------------- */

/* Parse a UUID's text into 16 bytes; false when it is not a UUID. */
bool nmd_uuid_to_bytes(const char *text, uint8_t out[16]);
/* Format 16 bytes as a lowercase UUID (37 bytes with the NUL). */
void nmd_uuid_from_bytes(const uint8_t in[16], char out[NOMAD_UUID_LEN + 1]);
/*
 * The bounds of a listing by ID prefix over a 16-byte ID column, as blobs:
 * the rows with lo <= id < hi. Every listing by UUID prefix (nodes,
 * evaluations, allocations, deployments) takes its bounds from here, so
 * they share one rule, Nomad's: the prefix is a string prefix of the ID,
 * so it is hexadecimal digits (either case, odd counts too), with a dash
 * allowed where a UUID's text has one. Any other prefix is the prefix of
 * no ID, and the range comes out empty (the listing finds nothing, with
 * NOMAD_OK). The token (opts->next_token) is the next row's ID, dashes
 * optional; a reversed listing runs down from it, included. hi is 17
 * bytes long when it must lie above every ID.
 *
 * Fails (NOMAD_EINVAL) only for options of an unknown version or a token
 * that is not an ID. Call it before clearing the caller's next_token,
 * which may be the buffer opts->next_token points at. `o` may be NULL.
 */
struct nmd_id_range {
	uint8_t lo[17];
	uint8_t hi[17];
	int lo_len, hi_len;
};
nomad_err nmd_id_range(const nomad_state_list_options *o,
		       struct nmd_id_range *r, nomad_error *err);

/* ---- bodies ------------------------------------------------------------ */

/* Pack `msg` into txn->scratch and bind it to parameter `col`. */
nomad_err nmd_bind_body(nomad_state_txn *txn, sqlite3_stmt *st, int col,
			const ProtobufCMessage *msg, nomad_error *err);
/* Decode column `col` of the current row as a `desc` message. */
nomad_err nmd_column_body(nomad_state *s, sqlite3_stmt *st, int col,
			  const ProtobufCMessageDescriptor *desc,
			  ProtobufCMessage **out, nomad_error *err);

/* Run `sql`, whose one parameter is a 16-byte ID, on `c`, and decode
 * column 0 of its first row as a `desc` message. NOMAD_ENOTFOUND when
 * there is no row or its body is NULL (a node placeholder). */
nomad_err nmd_body_by_id(struct nmd_conn *c, const char *sql,
			 const uint8_t id[16],
			 const ProtobufCMessageDescriptor *desc,
			 ProtobufCMessage **out, nomad_error *err);

/* Record that `t` changed in this transaction (its index moves on commit). */
static inline void nmd_touch(nomad_state_txn *txn, nomad_state_table t)
{
	txn->touched[t] = true;
}

/* ---- change notification (events.c, watch.c) ----------------------------- */

/* Record an event of this transaction: published with Index = the
 * transaction's index when it commits, dropped if it aborts. `payload`
 * (may be NULL) is packed now, so the caller may free it afterwards; the
 * strings are copied (`ns` NULL or "" for none, as Node events). Cheap: no
 * allocation per event beyond the transaction's growing arena. A failure
 * (out of memory) also makes the commit fail, so no event is lost
 * silently; callers may ignore the return value. */
nomad_err nmd_txn_event(nomad_state_txn *txn, const char *topic,
			const char *type, const char *key, const char *ns,
			const char *const *filter_keys, size_t n_filter,
			const ProtobufCMessage *payload, nomad_error *err);
/* nmd_txn_event for an object's final state: when the transaction has
 * recorded an event of `topic` for the same key and namespace already,
 * that event (the newest such) takes `payload` instead of a second one
 * being appended; its type, filter keys and place stay. Nomad publishes
 * one event per object per transaction, carrying the state it committed
 * (go-memdb merges a transaction's changes to one object). */
nomad_err nmd_txn_event_final(nomad_state_txn *txn, const char *topic,
			      const char *type, const char *key,
			      const char *ns, const char *const *filter_keys,
			      size_t n_filter, const ProtobufCMessage *payload,
			      nomad_error *err);
/* nmd_txn_event with the payload already packed: `len` bytes at `body`
 * encode a `desc` message (copied now). For a writer that has just packed
 * the row it stored, e.g. nmd_bind_body's txn->scratch: a copy instead of
 * a second pack. */
nomad_err nmd_txn_event_packed(nomad_state_txn *txn, const char *topic,
			       const char *type, const char *key,
			       const char *ns, const char *const *filter_keys,
			       size_t n_filter,
			       const ProtobufCMessageDescriptor *desc,
			       const void *body, size_t len, nomad_error *err);
/* Record that key `key` of table `t` changed (and marks the table): watches
 * on (t, key) fire when the transaction commits. The key is whatever a
 * watcher names (nomad/state.h lists them): an object's ID, or a grouping
 * such as a node ID for its allocations or "<ns>/<job id>" for a job's
 * rows. A duplicate within one transaction is harmless. */
void nmd_touch_key(nomad_state_txn *txn, nomad_state_table t,
		   const char *key);
/* nmd_touch_key with the key "<ns>/<id>" (ns NULL or "": "default"),
 * without building the string. */
void nmd_touch_job_key(nomad_state_txn *txn, nomad_state_table t,
		       const char *ns, const char *id);

/* Give every event recorded until the matching pop the type `type`: Nomad
 * types all the events of one log entry by its message (a plan's are all
 * PlanResult, a deployment promotion's all DeploymentPromotion). An outer
 * override wins over an inner one. Pass the result to the pop. txn may be
 * NULL (the operation then fails its own argument check). */
static inline const char *nmd_txn_event_type_push(nomad_state_txn *txn,
						  const char *type)
{
	const char *prev = txn ? txn->ev.type : NULL;
	if (txn && !prev)
		txn->ev.type = type;
	return prev;
}
static inline void nmd_txn_event_type_pop(nomad_state_txn *txn,
					  const char *prev)
{
	if (txn)
		txn->ev.type = prev;
}

/* Store-side setup and teardown, called by nomad_state_open/close. */
nomad_err nmd_events_open(nomad_state *s, unsigned int buffer,
			  nomad_error *err);
void nmd_events_close(nomad_state *s);
nomad_err nmd_watch_open(nomad_state *s, nomad_error *err);
void nmd_watch_close(nomad_state *s);
/* At commit, with write_lock held and the SQLite commit done: move the
 * transaction's events into the buffer (true when any were published),
 * and wake the watches on what it touched. */
bool nmd_events_publish(nomad_state_txn *txn);
void nmd_watch_publish(nomad_state_txn *txn);
/* After write_lock is released: call subscribers' ready callbacks. */
void nmd_events_notify(nomad_state *s, uint64_t index);
/* After a snapshot restore replaced the content (write_lock held,
 * s->last_index already the restored one): subscriptions end with
 * NOMAD_ERANGE and the buffer empties, as Nomad closes its subscriptions;
 * table indexes are read again and every watch fires. */
void nmd_changes_restored(nomad_state *s);
void nmd_events_restored(nomad_state *s);
/* Free what a transaction recorded (abort, or after publishing). */
void nmd_txn_changes_free(nomad_state_txn *txn);
/* Whether the transaction's event list lost a record to out of memory. */
static inline bool nmd_txn_changes_oom(const nomad_state_txn *txn)
{
	return txn->ev.oom || txn->ev.arena.oom;
}

/* ---- shared between tables ----------------------------------------------- */

/* The summary's reaction to an allocation of job (ns, job_id), group
 * `group`, going from client status `from` to `to` (-1: none, for a new or
 * a deleted allocation), as Nomad's updateSummaryWithAlloc (summary.c). */
nomad_err nmd_summary_alloc_changed(nomad_state_txn *txn, const char *ns,
				    const char *job_id, const char *group,
				    int from, int to, nomad_error *err);
/* Set a group's Queued count from an evaluation (summary.c). */
nomad_err nmd_summary_set_queued(nomad_state_txn *txn, const char *ns,
				 const char *job_id,
				 Nomad__IntEntry *const *queued, size_t n,
				 nomad_error *err);
/* Update allocations' deployment status (allocs.c), for promotion and
 * health: `canary` < 0 leaves Canary alone, `healthy` < 0 leaves Healthy. */
nomad_err nmd_allocs_set_deployment_status(nomad_state_txn *txn,
					   const char *id, int healthy,
					   int canary, int64_t ts_unix_ns,
					   nomad_error *err);
/* Node pk for a node ID, creating a placeholder key when the node is not
 * registered yet (allocations may name nodes the store has not seen). */
nomad_err nmd_node_pk(nomad_state_txn *txn, const uint8_t id[16],
		      int64_t *pk, nomad_error *err);
/* Delete allocations by ID (allocs.c); unknown IDs are skipped. */
nomad_err nmd_allocs_delete(nomad_state_txn *txn, const char *const *ids,
			    size_t n, nomad_error *err);
/* Read one allocation inside a write transaction (allocs.c). */
nomad_err nmd_alloc_get_txn(nomad_state_txn *txn, const char *id,
			    nomad_alloc **out, nomad_error *err);
/* Write back an allocation read with nmd_alloc_get_txn, whole: ModifyIndex
 * moves, and AllocModifyIndex too when `alloc_modify` (allocs.c). */
nomad_err nmd_alloc_put_txn(nomad_state_txn *txn, nomad_alloc *a,
			    bool alloc_modify, nomad_error *err);
/* Move the hot allocations into the cold table (allocs.c), inside txn. */
nomad_err nmd_allocs_migrate(nomad_state_txn *txn, nomad_error *err);

/* Mark version `version` of job (ns, id) stable, as Nomad's
 * updateJobStabilityImpl does for a successful deployment (jobs.c): the
 * version's row, and the job's when it is the current version, take
 * Stable and ModifyIndex = the index. A job or version no longer stored
 * is skipped. */
nomad_err nmd_job_set_stable(nomad_state_txn *txn, const char *ns,
			     const char *id, uint64_t version,
			     nomad_error *err);

/* Delete the periodic launch of job (ns, job_id), if it has one
 * (tables.c); *deleted (may be NULL) says whether it had. The table's
 * index moves only when a row went. */
nomad_err nmd_periodic_launch_forget(nomad_state_txn *txn, const char *ns,
				     const char *job_id, bool *deleted,
				     nomad_error *err);

/* Whether an allocation is terminal: client complete, failed or lost, or
 * desired stop or evict (Nomad's TerminalStatus). */
bool nmd_alloc_terminal(const nomad_alloc *a);

/* Page through `st` (rows whose column 0 is the ordering key as text and
 * column 1 the body) with a listing's per_page and token (state.c). */
nomad_err nmd_list_rows(nomad_state_snap *snap, sqlite3_stmt *st,
			const ProtobufCMessageDescriptor *desc,
			const nomad_state_list_options *o,
			nomad_state_iter_cb cb, void *ud,
			char next_token[NOMAD_STATE_TOKEN_MAX],
			nomad_error *err);

#endif
