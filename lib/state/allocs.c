/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Allocations: the biggest table by far (a million rows is an ordinary
 * cluster), so its layout is chosen for the two things done most: writing
 * a plan's placements and reading one node's allocations.
 *
 * New allocations are appended to allocs_hot under a growing pk, which
 * keeps inserts sequential. When the hot table passes hot_allocs_max rows
 * a commit moves them, sorted by node, into allocs_cold, whose key
 * node_pk << 40 | pk clusters each node's allocations together: reading a
 * node is then one range scan, and the move touches each cold page once.
 * Measured on the bench machine, inserting straight into a node-clustered
 * table managed 10-14k rows/s; this layout does several times that.
 *
 * alloc_loc maps an allocation's 16-byte ID to (pk, node_pk), from which
 * both possible keys follow. Bodies are the Allocation protobuf without
 * its Job; the job version it runs is kept once in alloc_jobs.
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "state/deployments_int.h"
#include "state/state_int.h"
#include "structs/pb.h"

#define STATUS_TERMINAL 1

/* One allocation's place in the tables. */
struct loc {
	int64_t pk;
	int64_t node_pk;
};

static int64_t cold_key(const struct loc *l)
{
	return (l->node_pk << NMD_STATE_PK_BITS) | l->pk;
}

bool nmd_alloc_terminal(const nomad_alloc *a)
{
	if (a->has_desiredstatus &&
	    (a->desiredstatus == NOMAD__ALLOCATION__DESIRED_STATUS_KIND__stop ||
	     a->desiredstatus == NOMAD__ALLOCATION__DESIRED_STATUS_KIND__evict))
		return true;
	return a->has_clientstatus &&
	       (a->clientstatus == NOMAD__ALLOCATION__CLIENT_STATUS_KIND__complete ||
		a->clientstatus == NOMAD__ALLOCATION__CLIENT_STATUS_KIND__failed ||
		a->clientstatus == NOMAD__ALLOCATION__CLIENT_STATUS_KIND__lost);
}

/* The status column: terminal bit, desired << 4, client << 8. */
static int64_t status_bits(const nomad_alloc *a)
{
	return (nmd_alloc_terminal(a) ? STATUS_TERMINAL : 0) |
	       ((int64_t)(a->has_desiredstatus ? a->desiredstatus : 0) << 4) |
	       ((int64_t)(a->has_clientstatus ? a->clientstatus : 0) << 8);
}

/* ---- locating rows --------------------------------------------------------- */

static nomad_err find_loc(struct nmd_conn *c, const uint8_t id[16],
			  struct loc *l, bool *found, nomad_error *err)
{
	static const char sql[] = "SELECT pk, node_pk FROM alloc_loc WHERE id = ?1";
	sqlite3_stmt *st = nmd_stmt(c, sql, err);
	int rc;
	if (!st)
		return NOMAD_EIO;
	sqlite3_bind_blob(st, 1, id, 16, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW;
	if (*found) {
		l->pk = sqlite3_column_int64(st, 0);
		l->node_pk = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return nmd_sqlite_fail(c, err, "find allocation");
	return NOMAD_OK;
}

/* Position `*out` (a reset statement) on the row of `l`, cold or hot.
 * Returns NOMAD_ENOTFOUND when neither has it. */
static nomad_err row_at(struct nmd_conn *c, const struct loc *l,
			sqlite3_stmt **out, bool *is_cold, nomad_error *err)
{
	static const char cold_sql[] =
		"SELECT status, body FROM allocs_cold WHERE k = ?1";
	static const char hot_sql[] =
		"SELECT status, body FROM allocs_hot WHERE pk = ?1";
	for (int pass = 0; pass < 2; pass++) {
		sqlite3_stmt *st = nmd_stmt(c, pass ? hot_sql : cold_sql, err);
		int rc;
		if (!st)
			return NOMAD_EIO;
		sqlite3_bind_int64(st, 1, pass ? l->pk : cold_key(l));
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*out = st;
			*is_cold = !pass;
			return NOMAD_OK;
		}
		sqlite3_reset(st);
		if (rc != SQLITE_DONE)
			return nmd_sqlite_fail(c, err, "read allocation");
	}
	return NOMAD_ENOTFOUND;
}

static nomad_err load(nomad_state *s, struct nmd_conn *c, const struct loc *l,
		      nomad_alloc **out, bool *is_cold, nomad_error *err)
{
	sqlite3_stmt *st = NULL;
	nomad_err rc = row_at(c, l, &st, is_cold, err);
	if (rc < 0)
		return rc == NOMAD_ENOTFOUND
			       ? nmd_seterr(err, NOMAD_ECORRUPT,
					    "state: allocation pk %lld is indexed "
					    "but missing", (long long)l->pk)
			       : rc;
	rc = nmd_column_body(s, st, 1, &nomad__allocation__descriptor,
			     (ProtobufCMessage **)out, err);
	sqlite3_reset(st);
	return rc;
}

/* ---- job keys and job versions ------------------------------------------ */

static nomad_err job_key(nomad_state_txn *txn, const char *ns,
			 const char *job_id, int64_t *jk, nomad_error *err)
{
	static const char get_sql[] =
		"SELECT jk FROM job_keys WHERE ns = ?1 AND job_id = ?2";
	static const char ins_sql[] =
		"INSERT INTO job_keys(ns, job_id) VALUES(?1, ?2)";
	size_t ns_len = strlen(ns), id_len = strlen(job_id);
	char key[512];
	bool cacheable = ns_len + 1 + id_len <= sizeof(key);
	sqlite3_stmt *st;
	int rc;
	if (cacheable) {
		memcpy(key, ns, ns_len + 1);
		memcpy(key + ns_len + 1, job_id, id_len);
		if (nmd_keycache_get(&txn->s->job_keys, key, ns_len + 1 + id_len,
				     jk))
			return NOMAD_OK;
	}
	if (!(st = nmd_stmt(txn->c, get_sql, err)))
		return NOMAD_EIO;
	sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, job_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		*jk = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
		if (cacheable)
			nmd_keycache_put(&txn->s->job_keys, key,
					 ns_len + 1 + id_len, *jk);
		return NOMAD_OK;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return nmd_sqlite_fail(txn->c, err, "job key");
	if (!(st = nmd_stmt(txn->c, ins_sql, err)))
		return NOMAD_EIO;
	sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, job_id, -1, SQLITE_STATIC);
	if ((rc = nmd_stmt_exec(txn->c, st, err)) < 0)
		return rc;
	*jk = sqlite3_last_insert_rowid(txn->c->db);
	if (cacheable)
		nmd_keycache_put(&txn->s->job_keys, key, ns_len + 1 + id_len,
				 *jk);
	return NOMAD_OK;
}

/* Keep the job version an allocation runs, once per (job, version). */
static nomad_err keep_job_version(nomad_state_txn *txn, int64_t jk,
				  const nomad_job *job, nomad_error *err)
{
	static const char sql[] =
		"INSERT OR IGNORE INTO alloc_jobs(jk, version, body) "
		"VALUES(?1, ?2, ?3)";
	static const char has_sql[] =
		"SELECT 1 FROM alloc_jobs WHERE jk = ?1 AND version = ?2";
	int64_t version = job->has_version ? (int64_t)job->version : 0;
	int64_t key[2] = {jk, version}, cached;
	sqlite3_stmt *st;
	bool have;
	nomad_err rc;
	if (nmd_keycache_get(&txn->s->job_versions, key, sizeof(key), &cached))
		return NOMAD_OK;
	if (!(st = nmd_stmt(txn->c, has_sql, err)))
		return NOMAD_EIO;
	sqlite3_bind_int64(st, 1, jk);
	sqlite3_bind_int64(st, 2, version);
	have = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	if (!have) {
		if (!(st = nmd_stmt(txn->c, sql, err)))
			return NOMAD_EIO;
		sqlite3_bind_int64(st, 1, jk);
		sqlite3_bind_int64(st, 2, version);
		if ((rc = nmd_bind_body(txn, st, 3, &job->base, err)) < 0 ||
		    (rc = nmd_stmt_exec(txn->c, st, err)) < 0)
			return rc;
	}
	nmd_keycache_put(&txn->s->job_versions, key, sizeof(key), 1);
	return NOMAD_OK;
}

/* ---- the secondary indexes ---------------------------------------------- */

static nomad_err index_put(nomad_state_txn *txn, const char *sql,
			   const void *k, int klen, int64_t kint,
			   const uint8_t id[16], nomad_error *err)
{
	sqlite3_stmt *st = nmd_stmt(txn->c, sql, err);
	if (!st)
		return NOMAD_EIO;
	if (k)
		sqlite3_bind_blob(st, 1, k, klen, SQLITE_STATIC);
	else
		sqlite3_bind_int64(st, 1, kint);
	sqlite3_bind_blob(st, 2, id, 16, SQLITE_STATIC);
	return nmd_stmt_exec(txn->c, st, err);
}

static nomad_err index_new(nomad_state_txn *txn, const nomad_alloc *a,
			   int64_t jk, const uint8_t id[16], nomad_error *err)
{
	static const char job_sql[] =
		"INSERT OR IGNORE INTO alloc_by_job(jk, id) VALUES(?1, ?2)";
	static const char eval_sql[] =
		"INSERT OR IGNORE INTO alloc_by_eval(eval_id, id) VALUES(?1, ?2)";
	uint8_t key[16];
	nomad_err rc;
	if ((rc = index_put(txn, job_sql, NULL, 0, jk, id, err)) < 0)
		return rc;
	if (a->evalid && nmd_uuid_to_bytes(a->evalid, key) &&
	    (rc = index_put(txn, eval_sql, key, 16, 0, id, err)) < 0)
		return rc;
	return NOMAD_OK;
}

static nomad_err index_deployment(nomad_state_txn *txn, const nomad_alloc *a,
				  const uint8_t id[16], nomad_error *err)
{
	static const char sql[] =
		"INSERT OR IGNORE INTO alloc_by_deployment(dep_id, id) "
		"VALUES(?1, ?2)";
	uint8_t key[16];
	if (!a->deploymentid || !nmd_uuid_to_bytes(a->deploymentid, key))
		return NOMAD_OK;
	return index_put(txn, sql, key, 16, 0, id, err);
}

/* ---- writing rows -------------------------------------------------------- */

static const char *ns_of(const nomad_alloc *a)
{
	return a->namespace_ && a->namespace_[0] ? a->namespace_ : "default";
}


/* The keys watches name for an allocation (see nomad/state.h). */
static void touch_keys(nomad_state_txn *txn, const nomad_alloc *a)
{
	nmd_touch_key(txn, NOMAD_TABLE_ALLOCS, a->id);
	nmd_touch_job_key(txn, NOMAD_TABLE_ALLOCS, ns_of(a), a->jobid);
	if (a->nodeid)
		nmd_touch_key(txn, NOMAD_TABLE_ALLOCS, a->nodeid);
	if (a->evalid)
		nmd_touch_key(txn, NOMAD_TABLE_ALLOCS, a->evalid);
	if (a->deploymentid)
		nmd_touch_key(txn, NOMAD_TABLE_ALLOCS, a->deploymentid);
}

/* AllocationCreated or AllocationUpdated, filtered by job and deployment
 * as Nomad's are; the payload is the row in txn->scratch. */
static nomad_err alloc_event(nomad_state_txn *txn, const nomad_alloc *a,
			     bool existed)
{
	const char *filters[2];
	size_t n = 0;
	if (a->jobid)
		filters[n++] = a->jobid;
	if (a->deploymentid)
		filters[n++] = a->deploymentid;
	return nmd_txn_event_packed(
		txn, NOMAD_TOPIC_ALLOCATION,
		existed ? NOMAD_EVENT_ALLOCATION_UPDATED
			: NOMAD_EVENT_ALLOCATION_CREATED,
		a->id, ns_of(a), filters, n, &nomad__allocation__descriptor,
		txn->scratch.data, txn->scratch.len, NULL);
}

/* Pack `a` (its Job left out) into the row at `l`: a new hot row, or the
 * existing row in whichever table holds it. */
static nomad_err write_row(nomad_state_txn *txn, const struct loc *l,
			   bool exists, bool is_cold, nomad_alloc *a,
			   nomad_error *err)
{
	static const char ins_sql[] =
		"INSERT INTO allocs_hot(pk, node_pk, status, body) "
		"VALUES(?1, ?2, ?3, ?4)";
	static const char upd_hot[] =
		"UPDATE allocs_hot SET status = ?3, body = ?4 WHERE pk = ?1";
	static const char upd_cold[] =
		"UPDATE allocs_cold SET status = ?3, body = ?4 WHERE k = ?1";
	const char *sql = !exists ? ins_sql : is_cold ? upd_cold : upd_hot;
	sqlite3_stmt *st = nmd_stmt(txn->c, sql, err);
	nomad_job *job = a->job;
	nomad_err rc;
	if (!st)
		return NOMAD_EIO;
	sqlite3_bind_int64(st, 1, exists && is_cold ? cold_key(l) : l->pk);
	if (!exists)
		sqlite3_bind_int64(st, 2, l->node_pk);
	sqlite3_bind_int64(st, 3, status_bits(a));
	a->job = NULL; /* stored once per version in alloc_jobs */
	rc = nmd_bind_body(txn, st, 4, &a->base, err);
	a->job = job;
	if (rc < 0)
		return rc;
	if ((rc = nmd_stmt_exec(txn->c, st, err)) < 0)
		return rc;
	if (!exists)
		txn->s->hot_count++;
	nmd_touch(txn, NOMAD_TABLE_ALLOCS);
	nmd_touch_job(txn, ns_of(a), a->jobid);
	touch_keys(txn, a);
	nmd_view_alloc_put(txn, a);
	/* The event carries the row just packed: no second encoding. */
	return alloc_event(txn, a, exists);
}

/* Claim a location for allocation `id` on l->node_pk, in one statement
 * that also tells whether the allocation exists already (*claimed false:
 * nothing written). A new allocation so costs no separate lookup. */
static nomad_err claim_loc(nomad_state_txn *txn, const uint8_t id[16],
			   struct loc *l, bool *claimed, nomad_error *err)
{
	static const char sql[] =
		"INSERT INTO alloc_loc(id, pk, node_pk) VALUES(?1, ?2, ?3) "
		"ON CONFLICT(id) DO NOTHING";
	sqlite3_stmt *st = nmd_stmt(txn->c, sql, err);
	nomad_err rc;
	if (!st)
		return NOMAD_EIO;
	l->pk = (int64_t)txn->s->next_alloc_pk;
	sqlite3_bind_blob(st, 1, id, 16, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, l->pk);
	sqlite3_bind_int64(st, 3, l->node_pk);
	if ((rc = nmd_stmt_exec(txn->c, st, err)) < 0)
		return rc;
	*claimed = sqlite3_changes(txn->c->db) == 1;
	if (*claimed)
		txn->s->next_alloc_pk++;
	return NOMAD_OK;
}

static int client_status(const nomad_alloc *a)
{
	return a->has_clientstatus ? (int)a->clientstatus
				   : NOMAD__ALLOCATION__CLIENT_STATUS_KIND__pending;
}

/* Nomad's ClientTerminalStatus: complete, failed or lost on the client. */
static bool client_terminal(const nomad_alloc *a)
{
	switch (client_status(a)) {
	case NOMAD__ALLOCATION__CLIENT_STATUS_KIND__complete:
	case NOMAD__ALLOCATION__CLIENT_STATUS_KIND__failed:
	case NOMAD__ALLOCATION__CLIENT_STATUS_KIND__lost:
		return true;
	default:
		return false;
	}
}

/* The client-owned fields, for swapping between two allocations. */
enum {
	CF_STATUS = 1u << 0,
	CF_DESC = 1u << 1,
	CF_TASKS = 1u << 2,
	CF_NETWORK = 1u << 3,
	CF_DEPLOYMENT = 1u << 4, /* the client reports health too */
	CF_ALL = CF_STATUS | CF_DESC | CF_TASKS | CF_NETWORK,
};

/* Which client fields `u` carries (what a client update sets). */
static unsigned client_fields_present(const nomad_alloc *u)
{
	return (u->has_clientstatus ? CF_STATUS : 0) |
	       (u->clientdescription ? CF_DESC : 0) |
	       (u->n_taskstates ? CF_TASKS : 0) |
	       (u->networkstatus ? CF_NETWORK : 0) |
	       (u->deploymentstatus ? CF_DEPLOYMENT : 0);
}

/* Swap the fields in `mask` between `a` and `b`; swapping twice with the
 * same mask restores both, so a caller's object can be lent and returned. */
static void swap_client_fields(nomad_alloc *a, nomad_alloc *b, unsigned mask)
{
	nomad_alloc t = *a;
#define SWAP(f) (a->f = b->f, b->f = t.f)
	if (mask & CF_STATUS) {
		SWAP(has_clientstatus);
		SWAP(clientstatus);
	}
	if (mask & CF_DESC)
		SWAP(clientdescription);
	if (mask & CF_TASKS) {
		SWAP(n_taskstates);
		SWAP(taskstates);
	}
	if (mask & CF_NETWORK)
		SWAP(networkstatus);
	if (mask & CF_DEPLOYMENT)
		SWAP(deploymentstatus);
#undef SWAP
}

/* Count the change into the allocation's deployment (Nomad's
 * updateDeploymentWithAlloc); when its health counters moved, the
 * allocation's deployment status takes the index. */
static nomad_err count_in_deployment(nomad_state_txn *txn,
				     const nomad_alloc *old, nomad_alloc *cur,
				     nomad_error *err)
{
	bool moved = false;
	nomad_err rc;
	if (!cur->deploymentid)
		return NOMAD_OK;
	if ((rc = nmd_deployment_alloc_changed(txn, old, cur, &moved, err)) < 0)
		return rc;
	if (moved && cur->deploymentstatus) {
		cur->deploymentstatus->has_modifyindex = 1;
		cur->deploymentstatus->modifyindex = txn->index;
	}
	return NOMAD_OK;
}

static nomad_err cached_node_pk(nomad_state_txn *txn, const uint8_t id[16],
				int64_t *pk, nomad_error *err)
{
	nomad_err rc;
	if (nmd_keycache_get(&txn->s->node_pks, id, 16, pk))
		return NOMAD_OK;
	if ((rc = nmd_node_pk(txn, id, pk, err)) >= 0)
		nmd_keycache_put(&txn->s->node_pks, id, 16, *pk);
	return rc;
}

/* Insert a new allocation, whose location `l` was just claimed. */
static nomad_err insert_alloc(nomad_state_txn *txn, nomad_alloc *a,
			      const uint8_t id[16], struct loc l,
			      nomad_error *err)
{
	int64_t jk;
	nomad_err rc;
	if ((rc = job_key(txn, ns_of(a), a->jobid, &jk, err)) < 0)
		return rc;
	a->has_createindex = 1;
	a->createindex = txn->index;
	if (a->job) {
		if ((rc = keep_job_version(txn, jk, a->job, err)) < 0)
			return rc;
		a->has_jobversion = 1;
		a->jobversion = a->job->has_version ? a->job->version : 0;
	}
	if ((rc = count_in_deployment(txn, NULL, a, err)) < 0 ||
	    (rc = write_row(txn, &l, false, false, a, err)) < 0 ||
	    (rc = index_new(txn, a, jk, id, err)) < 0 ||
	    (rc = index_deployment(txn, a, id, err)) < 0)
		return rc;
	return nmd_summary_alloc_changed(txn, ns_of(a), a->jobid, a->taskgroup,
					 -1, client_status(a), err);
}

/* Replace an existing allocation, keeping what the client owns. */
static nomad_err update_alloc(nomad_state_txn *txn, nomad_alloc *a,
			      const uint8_t id[16], const struct loc *l,
			      nomad_error *err)
{
	nomad_alloc *old = NULL;
	bool is_cold;
	int64_t jk;
	nomad_err rc = load(txn->s, txn->c, l, &old, &is_cold, err);
	if (rc < 0)
		return rc;
	a->has_createindex = 1;
	a->createindex = old->createindex;
	if (a->job) {
		if ((rc = job_key(txn, ns_of(a), a->jobid, &jk, err)) < 0 ||
		    (rc = keep_job_version(txn, jk, a->job, err)) < 0)
			goto done;
		a->has_jobversion = 1;
		a->jobversion = a->job->has_version ? a->job->version : 0;
	} else if (old->has_jobversion) {
		a->has_jobversion = 1;
		a->jobversion = old->jobversion;
	}
	swap_client_fields(a, old, CF_ALL);
	rc = count_in_deployment(txn, old, a, err);
	if (rc >= 0)
		rc = write_row(txn, l, true, is_cold, a, err);
	swap_client_fields(a, old, CF_ALL);
	if (rc >= 0)
		rc = index_deployment(txn, a, id, err);
done:
	nomad_alloc_free(old);
	return rc;
}

/* Claim a new allocation's location, or find an existing one's. A new
 * allocation needs a NodeID that is a UUID; an update may omit it. */
static nomad_err place_or_find(nomad_state_txn *txn, const nomad_alloc *a,
			       const uint8_t id[16], struct loc *l,
			       bool *claimed, nomad_error *err)
{
	uint8_t node[16];
	bool exists;
	nomad_err rc;
	*claimed = false;
	if (a->nodeid && nmd_uuid_to_bytes(a->nodeid, node)) {
		if ((rc = cached_node_pk(txn, node, &l->node_pk, err)) < 0 ||
		    (rc = claim_loc(txn, id, l, claimed, err)) < 0)
			return rc;
		if (*claimed)
			return NOMAD_OK;
	}
	if ((rc = find_loc(txn->c, id, l, &exists, err)) < 0)
		return rc;
	if (!exists)
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: allocation %s: NodeID %s is not a UUID",
				  a->id, a->nodeid ? a->nodeid : "(none)");
	return NOMAD_OK;
}

static nomad_err load_for_update(nomad_state_txn *txn, const char *id,
				 nomad_alloc **out, struct loc *l,
				 bool *is_cold, nomad_error *err);
static nomad_err store_changed(nomad_state_txn *txn, nomad_alloc *a,
			       const struct loc *l, bool is_cold,
			       nomad_error *err);

/* A new allocation replacing another: the other names it as its
 * NextAllocation, as Nomad's state store links them. */
static nomad_err link_previous(nomad_state_txn *txn, const nomad_alloc *a,
			       nomad_error *err)
{
	nomad_alloc *prev;
	struct loc l;
	bool is_cold;
	nomad_err rc = load_for_update(txn, a->previousallocation, &prev, &l,
				       &is_cold, err);
	if (rc == NOMAD_ENOTFOUND)
		return NOMAD_OK; /* garbage-collected meanwhile */
	if (rc < 0)
		return rc;
	if (!nmd_pb_set_string(NULL, &prev->nextallocation, a->id))
		rc = nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
	else
		rc = store_changed(txn, prev, &l, is_cold, err);
	nomad_alloc_free(prev);
	return rc;
}

nomad_err nomad_state_allocs_upsert(nomad_state_txn *txn,
				    nomad_alloc *const *allocs, size_t n,
				    nomad_error *err)
{
	nomad_err rc = NOMAD_OK;
	for (size_t i = 0; i < n && rc >= 0; i++) {
		nomad_alloc *a = allocs[i];
		uint8_t id[16];
		struct loc l;
		bool claimed;
		if (!a->id || !nmd_uuid_to_bytes(a->id, id))
			return nmd_seterr(err, NOMAD_EINVAL,
					  "state: allocation ID %s is not a UUID",
					  a->id ? a->id : "(none)");
		if (!a->jobid || !a->jobid[0])
			return nmd_seterr(err, NOMAD_EINVAL,
					  "state: allocation %s has no JobID",
					  a->id);
		a->has_modifyindex = a->has_allocmodifyindex = 1;
		a->modifyindex = a->allocmodifyindex = txn->index;
		if ((rc = place_or_find(txn, a, id, &l, &claimed, err)) < 0)
			break;
		rc = claimed ? insert_alloc(txn, a, id, l, err)
			     : update_alloc(txn, a, id, &l, err);
		if (rc >= 0 && claimed && a->previousallocation &&
		    *a->previousallocation)
			rc = link_previous(txn, a, err);
	}
	if (rc >= 0)
		rc = nmd_meta_set(txn->c, "alloc_pk",
				  (int64_t)txn->s->next_alloc_pk, err);
	return rc;
}

/* ---- partial updates ------------------------------------------------------ */

/* Load the allocation with text ID `id` for a read-modify-write. */
static nomad_err load_for_update(nomad_state_txn *txn, const char *id,
				 nomad_alloc **out, struct loc *l,
				 bool *is_cold, nomad_error *err)
{
	uint8_t key[16];
	bool found;
	nomad_err rc;
	*out = NULL;
	if (!id || !nmd_uuid_to_bytes(id, key))
		return NOMAD_ENOTFOUND;
	if ((rc = find_loc(txn->c, key, l, &found, err)) < 0)
		return rc;
	if (!found)
		return NOMAD_ENOTFOUND;
	return load(txn->s, txn->c, l, out, is_cold, err);
}

/* Write back an allocation changed in place; ModifyIndex moves. */
static nomad_err store_changed(nomad_state_txn *txn, nomad_alloc *a,
			       const struct loc *l, bool is_cold,
			       nomad_error *err)
{
	a->has_modifyindex = 1;
	a->modifyindex = txn->index;
	return write_row(txn, l, true, is_cold, a, err);
}

nomad_err nomad_state_allocs_client_update(nomad_state_txn *txn,
					   nomad_alloc *const *updates,
					   size_t n, nomad_error *err)
{
	nomad_err rc = NOMAD_OK;
	for (size_t i = 0; i < n && rc >= 0; i++) {
		nomad_alloc *u = updates[i], *a, before;
		struct loc l;
		bool is_cold, terminal;
		unsigned mask;
		int from;
		rc = load_for_update(txn, u->id, &a, &l, &is_cold, err);
		if (rc == NOMAD_ENOTFOUND) {
			rc = NOMAD_OK; /* Nomad skips allocations it lost */
			continue;
		}
		if (rc < 0)
			break;
		from = client_status(a);
		/* Borrow the update's fields for the write, then give them
		 * back so that the caller's object is unchanged. */
		mask = client_fields_present(u);
		before = *a; /* shallow: the swap moves pointers, frees none */
		swap_client_fields(a, u, mask);
		rc = count_in_deployment(txn, &before, a, err);
		if (rc >= 0)
			rc = store_changed(txn, a, &l, is_cold, err);
		terminal = client_terminal(a);
		swap_client_fields(a, u, mask);
		if (rc >= 0 && u->has_clientstatus && from != client_status(u))
			rc = nmd_summary_alloc_changed(txn, ns_of(a), a->jobid,
						       a->taskgroup, from,
						       client_status(u), err);
		/* As Nomad's nestedUpdateAllocFromClient: an allocation that
		 * ended on its client takes its service registrations with
		 * it (each update of it again; none left is no write). */
		if (rc >= 0 && terminal)
			rc = nomad_state_services_delete_by_alloc(txn, a->id, err);
		nomad_alloc_free(a);
	}
	return rc;
}

nomad_err nmd_alloc_put_txn(nomad_state_txn *txn, nomad_alloc *a,
			    bool alloc_modify, nomad_error *err)
{
	nomad_alloc *stored = NULL;
	struct loc l;
	bool is_cold;
	nomad_err rc = load_for_update(txn, a->id, &stored, &l, &is_cold, err);
	nomad_alloc_free(stored);
	if (rc < 0)
		return rc;
	if (alloc_modify) {
		a->has_allocmodifyindex = 1;
		a->allocmodifyindex = txn->index;
	}
	return store_changed(txn, a, &l, is_cold, err);
}

nomad_err nmd_alloc_get_txn(nomad_state_txn *txn, const char *id,
			    nomad_alloc **out, nomad_error *err)
{
	struct loc l;
	bool is_cold;
	return load_for_update(txn, id, out, &l, &is_cold, err);
}

nomad_err nmd_allocs_set_deployment_status(nomad_state_txn *txn,
					   const char *id, int healthy,
					   int canary, int64_t ts_unix_ns,
					   nomad_error *err)
{
	nomad_alloc *a;
	struct loc l;
	bool is_cold;
	Nomad__AllocDeploymentStatus *ds;
	nomad_err rc = load_for_update(txn, id, &a, &l, &is_cold, err);
	if (rc < 0)
		return rc;
	if (!(ds = a->deploymentstatus) &&
	    !(ds = a->deploymentstatus = nmd_pb_new(
		      &nomad__alloc_deployment_status__descriptor, NMD_STATE_MSG_ALLOC))) {
		nomad_alloc_free(a);
		return nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
	}
	if (healthy >= 0) {
		ds->has_healthy = 1;
		ds->healthy = healthy != 0;
		if (!ds->timestamp)
			ds->timestamp = nmd_pb_new(&nomad__timestamp__descriptor,
						   NMD_STATE_MSG_ALLOC);
		if (ds->timestamp) {
			nmd_ts_set(ds->timestamp, ts_unix_ns);
		}
	}
	if (canary >= 0) {
		ds->has_canary = 1;
		ds->canary = canary != 0;
	}
	ds->has_modifyindex = 1;
	ds->modifyindex = txn->index;
	rc = store_changed(txn, a, &l, is_cold, err);
	nomad_alloc_free(a);
	return rc;
}

/* ---- deleting and moving ---------------------------------------------------- */

static nomad_err delete_one(nomad_state_txn *txn, const uint8_t id[16],
			    nomad_error *err)
{
	static const char *const sqls[] = {
		"DELETE FROM allocs_cold WHERE k = ?1",
		"DELETE FROM allocs_hot WHERE pk = ?1",
		"DELETE FROM alloc_loc WHERE id = ?2",
		"DELETE FROM alloc_by_eval WHERE eval_id = ?3 AND id = ?2",
		"DELETE FROM alloc_by_deployment WHERE dep_id = ?4 AND id = ?2",
		"DELETE FROM alloc_by_job WHERE id = ?2 AND jk = (SELECT jk FROM job_keys WHERE ns = ?5 AND job_id = ?6)",
	};
	nomad_alloc *a;
	struct loc l;
	bool is_cold;
	uint8_t eval[16] = {0}, dep[16] = {0};
	char text[NOMAD_UUID_LEN + 1];
	nomad_err rc;
	nmd_uuid_from_bytes(id, text);
	if ((rc = load_for_update(txn, text, &a, &l, &is_cold, err)) < 0)
		return rc == NOMAD_ENOTFOUND ? NOMAD_OK : rc;
	if (a->evalid)
		nmd_uuid_to_bytes(a->evalid, eval);
	if (a->deploymentid)
		nmd_uuid_to_bytes(a->deploymentid, dep);
	for (size_t i = 0; i < sizeof(sqls) / sizeof(*sqls) && rc >= 0; i++) {
		sqlite3_stmt *st = nmd_stmt(txn->c, sqls[i], err);
		if (!st) {
			rc = NOMAD_EIO;
			break;
		}
		sqlite3_bind_int64(st, 1, i == 0 ? cold_key(&l) : l.pk);
		sqlite3_bind_blob(st, 2, id, 16, SQLITE_STATIC);
		sqlite3_bind_blob(st, 3, eval, 16, SQLITE_STATIC);
		sqlite3_bind_blob(st, 4, dep, 16, SQLITE_STATIC);
		sqlite3_bind_text(st, 5, ns_of(a), -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, a->jobid ? a->jobid : "", -1,
				  SQLITE_STATIC);
		rc = nmd_stmt_exec(txn->c, st, err);
		if (i == 1 && rc >= 0 && !is_cold && txn->s->hot_count)
			txn->s->hot_count--;
	}
	/* The job summary keeps its counts: garbage collection forgets the
	 * allocations, not what happened to them (as Nomad's DeleteEval). */
	nmd_touch(txn, NOMAD_TABLE_ALLOCS);
	nmd_touch_job(txn, ns_of(a), a->jobid);
	touch_keys(txn, a);
	if (rc >= 0)
		nmd_view_alloc_del(txn, a->nodeid, id);
	/* No registration outlives its allocation. */
	if (rc >= 0 && a->id && a->id[0])
		rc = nomad_state_services_delete_by_alloc(txn, a->id, err);
	nomad_alloc_free(a);
	return rc;
}

nomad_err nmd_allocs_delete(nomad_state_txn *txn, const char *const *ids,
			    size_t n, nomad_error *err)
{
	for (size_t i = 0; i < n; i++) {
		uint8_t id[16];
		nomad_err rc;
		if (!ids[i] || !nmd_uuid_to_bytes(ids[i], id))
			continue;
		if ((rc = delete_one(txn, id, err)) < 0)
			return rc;
	}
	return NOMAD_OK;
}

nomad_err nmd_allocs_migrate(nomad_state_txn *txn, nomad_error *err)
{
	static const char move_sql[] =
		"INSERT INTO allocs_cold(k, status, body) "
		"SELECT (node_pk << 40) | pk, status, body FROM allocs_hot "
		"ORDER BY node_pk, pk";
	static const char clear_sql[] = "DELETE FROM allocs_hot";
	sqlite3_stmt *st = nmd_stmt(txn->c, move_sql, err);
	nomad_err rc;
	if (!st)
		return NOMAD_EIO;
	if ((rc = nmd_stmt_exec(txn->c, st, err)) < 0)
		return rc;
	if (!(st = nmd_stmt(txn->c, clear_sql, err)))
		return NOMAD_EIO;
	if ((rc = nmd_stmt_exec(txn->c, st, err)) < 0)
		return rc;
	nmd_log(&txn->s->ctx, NOMAD_LOG_DEBUG, "state",
		"moved %llu allocations to the node-ordered table",
		(unsigned long long)txn->s->hot_count);
	txn->s->hot_count = 0;
	return NOMAD_OK;
}
