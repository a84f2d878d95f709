/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The smaller tables of the state store, and the helpers they share
 * (tables_int.h): namespaces, node pools, the scheduler configuration and
 * periodic launches here; ACL policies and tokens in tables_acl.c,
 * variables in tables_vars.c, service registrations in tables_services.c.
 *
 * These tables are small and keyed by text, so each row is simply
 * (keys..., body): an upsert reads the stored row to keep its CreateIndex,
 * stamps a shallow copy of the caller's object, and writes it back whole.
 * Nothing the caller passes in is changed or kept.
 *
 * The "default" namespace and the "all" and "default" node pools exist
 * from the start, as Nomad's state store creates them at index 1; the
 * schema (state.c) inserts them when it creates the tables, so they are
 * there before any write and survive every reopen.
 */
#include <assert.h>
#include <string.h>

#include "core/error.h"
#include "state/tables_int.h"
#include "structs/pb.h"

/* schema_sql in state.c writes table_index rows 7 and 8 for the built-ins. */
_Static_assert(NOMAD_TABLE_NAMESPACES == 7 && NOMAD_TABLE_NODE_POOLS == 8,
	       "state.c's schema stamps the built-ins' tables by number");

/* Nomad's built-in node pools (NodePoolAll, NodePoolDefault). */
static const char pool_all[] = "all";
static const char pool_default[] = "default";

/* ---- shared helpers ------------------------------------------------------ */

const char *nmd_ns_or_default(const char *ns)
{
	return ns && ns[0] ? ns : NMD_NS_DEFAULT;
}

static void bind_keys(sqlite3_stmt *st, const char *const *keys, int n)
{
	for (int i = 0; i < n; i++)
		sqlite3_bind_text(st, i + 1, keys[i] ? keys[i] : "", -1,
				  SQLITE_STATIC);
}

nomad_err nmd_row_get(struct nmd_conn *c, const char *sql,
		      const char *const *keys, int n,
		      const ProtobufCMessageDescriptor *desc, void *out,
		      nomad_error *err)
{
	ProtobufCMessage **msg = out;
	sqlite3_stmt *st = nmd_stmt(c, sql, err);
	nomad_err rc = NOMAD_ENOTFOUND;
	int step;
	*msg = NULL;
	if (!st)
		return NOMAD_EIO;
	bind_keys(st, keys, n);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		rc = nmd_column_body(NULL, st, 0, desc, msg, err);
	else if (step != SQLITE_DONE)
		rc = nmd_sqlite_fail(c, err, "read");
	sqlite3_reset(st);
	return rc;
}

nomad_err nmd_row_write(nomad_state_txn *txn, const char *sql,
			const char *const *keys, int n,
			const ProtobufCMessage *msg, int *changed,
			nomad_error *err)
{
	sqlite3_stmt *st = nmd_stmt(txn->c, sql, err);
	nomad_err rc;
	if (!st)
		return NOMAD_EIO;
	bind_keys(st, keys, n);
	if (msg && (rc = nmd_bind_body(txn, st, n + 1, msg, err)) < 0)
		return rc;
	if ((rc = nmd_stmt_exec(txn->c, st, err)) < 0)
		return rc;
	if (changed)
		*changed = sqlite3_changes(txn->c->db);
	return NOMAD_OK;
}

static void set_u64(ProtobufCMessage *msg, const char *field, uint64_t v)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(msg->descriptor,
								field);
	assert(f && f->type == PROTOBUF_C_TYPE_UINT64);
	*(uint64_t *)nmd_pb_field_ptr(msg, f) = v;
	*(protobuf_c_boolean *)nmd_pb_quant_ptr(msg, f) = 1;
}

void nmd_row_stamp(ProtobufCMessage *msg, const ProtobufCMessage *old,
		   uint64_t index)
{
	uint64_t create = index;
	if (old) {
		const ProtobufCFieldDescriptor *f =
			protobuf_c_message_descriptor_get_field_by_name(
				old->descriptor, "CreateIndex");
		create = *(const uint64_t *)nmd_pb_field_ptr(old, f);
	}
	set_u64(msg, "CreateIndex", create);
	set_u64(msg, "ModifyIndex", index);
}

/* ---- listings ------------------------------------------------------------ */

static nomad_err list_check(nomad_state_snap *snap,
			    const nomad_state_list_options *o,
			    nomad_state_iter_cb cb, nomad_error *err)
{
	if (o->version != NOMAD_STATE_LIST_OPTIONS_VERSION)
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: unknown list options version %u",
				  o->version);
	if (!snap || !cb)
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: no snapshot or callback");
	return NOMAD_OK;
}

/*
 * Bind a listing's bound, parameter `col`, from the token (`len` bytes of
 * it, or all with -1). The binding copies the text: the caller may pass the
 * same buffer as the resume token and as next_token, which is cleared
 * before the rows are read. With no token, ascending starts at "" and
 * descending at an empty blob, which SQLite orders after every text.
 */
static void bind_bound(sqlite3_stmt *st, int col, const char *tok,
		       int len, bool reverse)
{
	if (tok)
		sqlite3_bind_text(st, col, tok, len, SQLITE_TRANSIENT);
	else if (reverse)
		sqlite3_bind_zeroblob(st, col, 0);
	else
		sqlite3_bind_text(st, col, "", -1, SQLITE_STATIC);
}

nomad_err nmd_list_by_key(nomad_state_snap *snap, const char *const sql[2],
			  const ProtobufCMessageDescriptor *desc,
			  const nomad_state_list_options *opts,
			  nomad_state_iter_cb cb, void *userdata,
			  char next_token[NOMAD_STATE_TOKEN_MAX],
			  nomad_error *err)
{
	const nomad_state_list_options def = NOMAD_STATE_LIST_OPTIONS_INIT;
	const nomad_state_list_options *o = opts ? opts : &def;
	sqlite3_stmt *st = NULL;
	nomad_err rc = list_check(snap, o, cb, err);

	if (rc >= 0 && !(st = nmd_stmt(snap->c, sql[o->reverse ? 1 : 0], err)))
		rc = NOMAD_EIO;
	if (rc >= 0) {
		const char *tok = o->next_token && o->next_token[0]
					  ? o->next_token : NULL;
		sqlite3_bind_text(st, 1, o->prefix ? o->prefix : "", -1,
				  SQLITE_TRANSIENT);
		bind_bound(st, 2, tok, -1, o->reverse);
	}
	if (next_token)
		next_token[0] = '\0';
	if (rc < 0)
		return rc;
	return nmd_list_rows(snap, st, desc, o, cb, userdata, next_token, err);
}

nomad_err nmd_list_by_ns_key(nomad_state_snap *snap, const char *const sql[4],
			     const ProtobufCMessageDescriptor *desc,
			     const nomad_state_list_options *opts,
			     nomad_state_iter_cb cb, void *userdata,
			     char next_token[NOMAD_STATE_TOKEN_MAX],
			     nomad_error *err)
{
	const nomad_state_list_options def = NOMAD_STATE_LIST_OPTIONS_INIT;
	const nomad_state_list_options *o = opts ? opts : &def;
	sqlite3_stmt *st = NULL;
	nomad_err rc = list_check(snap, o, cb, err);
	const char *ns = rc >= 0 ? nmd_ns_or_default(o->ns) : NULL;
	bool all = ns && strcmp(ns, "*") == 0;

	if (rc >= 0 &&
	    !(st = nmd_stmt(snap->c, sql[(all ? 2 : 0) + (o->reverse ? 1 : 0)],
			    err)))
		rc = NOMAD_EIO;
	if (rc >= 0) {
		const char *tok = o->next_token && o->next_token[0]
					  ? o->next_token : NULL;
		/* "<namespace>.<key>": namespaces hold no dot, keys may. */
		const char *dot = tok ? strchr(tok, '.') : NULL;
		if (!all)
			sqlite3_bind_text(st, 1, ns, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, o->prefix ? o->prefix : "", -1,
				  SQLITE_TRANSIENT);
		bind_bound(st, 3, tok, dot ? (int)(dot - tok) : -1, o->reverse);
		sqlite3_bind_text(st, 4, dot ? dot + 1 : "", -1,
				  SQLITE_TRANSIENT);
	}
	if (next_token)
		next_token[0] = '\0';
	if (rc < 0)
		return rc;
	return nmd_list_rows(snap, st, desc, o, cb, userdata, next_token, err);
}

nomad_err nmd_rows_each(nomad_state_snap *snap, const char *sql,
			const char *const *keys, int n,
			const ProtobufCMessageDescriptor *desc,
			nomad_state_iter_cb cb, void *userdata,
			nomad_error *err)
{
	sqlite3_stmt *st;
	if (!snap || !cb)
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: no snapshot or callback");
	if (!(st = nmd_stmt(snap->c, sql, err)))
		return NOMAD_EIO;
	bind_keys(st, keys, n);
	return nmd_list_rows(snap, st, desc, NULL, cb, userdata, NULL, err);
}

nomad_err nmd_row_load(nomad_state_txn *txn, const char *sql,
		       const char *const *keys, int n,
		       const ProtobufCMessageDescriptor *desc, void *old,
		       nomad_error *err)
{
	nomad_err rc = nmd_row_get(txn->c, sql, keys, n, desc, old, err);
	return rc == NOMAD_ENOTFOUND ? NOMAD_OK : rc;
}

nomad_err nmd_row_upsert(nomad_state_txn *txn, const char *sql_get,
			 const char *sql_put, const char *const *keys, int n,
			 ProtobufCMessage *copy, nomad_state_table table,
			 nomad_error *err)
{
	ProtobufCMessage *old;
	nomad_err rc;
	if ((rc = nmd_row_load(txn, sql_get, keys, n, copy->descriptor, &old,
			       err)) < 0)
		return rc;
	nmd_row_stamp(copy, old, txn->index);
	nmd_pb_free(old, NMD_STATE_MSG_ALLOC);
	if ((rc = nmd_row_write(txn, sql_put, keys, n, copy, NULL, err)) < 0)
		return rc;
	nmd_touch(txn, table);
	return NOMAD_OK;
}

/* ---- namespaces ---------------------------------------------------------- */

static const char sql_ns_get[] = "SELECT body FROM namespaces WHERE name = ?1";
static const char sql_ns_put[] =
	"INSERT INTO namespaces(name, body) VALUES(?1, ?2) "
	"ON CONFLICT(name) DO UPDATE SET body = excluded.body";
static const char sql_ns_del[] = "DELETE FROM namespaces WHERE name = ?1";

/* Nomad's validNamespaceName, ^[a-zA-Z0-9-]{1,128}$. Listings rely on it:
 * their tokens are "<namespace>.<key>". */
static bool ns_name_valid(const char *name)
{
	size_t n = 0;
	if (!name)
		return false;
	for (const char *p = name; *p; p++, n++) {
		char c = *p;
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-'))
			return false;
	}
	return n >= 1 && n <= 128;
}

nomad_err nomad_state_namespace_upsert(nomad_state_txn *txn,
				       const nomad_namespace *ns,
				       nomad_error *err)
{
	nomad_namespace copy;
	const char *key[1];
	if (!txn || !ns)
		return nmd_seterr(err, NOMAD_EINVAL, "state: no namespace");
	if (!ns_name_valid(ns->name))
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: invalid namespace name: name=%s",
				  ns->name ? ns->name : "");
	copy = *ns;
	key[0] = ns->name;
	return nmd_row_upsert(txn, sql_ns_get, sql_ns_put, key, 1, &copy.base,
			      NOMAD_TABLE_NAMESPACES, err);
}

/* Whether namespace `ns` still holds a job that is not dead or a variable,
 * which Nomad's DeleteNamespaces refuses: *what names it, else NULL. */
static nomad_err ns_in_use(nomad_state_txn *txn, const char *ns,
			   const char **what, nomad_error *err)
{
	static const char sql_jobs[] = "SELECT body FROM jobs WHERE ns = ?1";
	static const char sql_vars[] =
		"SELECT 1 FROM variables WHERE ns = ?1 LIMIT 1";
	sqlite3_stmt *st = nmd_stmt(txn->c, sql_jobs, err);
	nomad_err rc = NOMAD_OK;
	int step = SQLITE_DONE;
	*what = NULL;
	if (!st)
		return NOMAD_EIO;
	bind_keys(st, &ns, 1);
	while (!*what && (step = sqlite3_step(st)) == SQLITE_ROW) {
		nomad_job *job;
		if ((rc = nmd_column_body(txn->s, st, 0, &nomad__job__descriptor,
					  (ProtobufCMessage **)&job, err)) < 0)
			break;
		if (!job->has_status ||
		    job->status != NOMAD__JOB__STATUS_KIND__dead)
			*what = "a job that is not dead";
		nmd_pb_free(job, NMD_STATE_MSG_ALLOC);
	}
	if (rc >= 0 && !*what && step != SQLITE_DONE)
		rc = nmd_sqlite_fail(txn->c, err, "read jobs");
	sqlite3_reset(st);
	if (rc < 0 || *what)
		return rc;
	if (!(st = nmd_stmt(txn->c, sql_vars, err)))
		return NOMAD_EIO;
	bind_keys(st, &ns, 1);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		*what = "a variable";
	else if (step != SQLITE_DONE)
		rc = nmd_sqlite_fail(txn->c, err, "read variables");
	sqlite3_reset(st);
	return rc;
}

nomad_err nomad_state_namespaces_delete(nomad_state_txn *txn,
					const char *const *names, size_t n,
					nomad_error *err)
{
	nomad_err rc;
	if (!txn || (n && !names))
		return nmd_seterr(err, NOMAD_EINVAL, "state: no namespaces");
	/* All or nothing: check every name before deleting any. */
	for (size_t i = 0; i < n; i++) {
		nomad_namespace *ns;
		const char *what;
		if ((rc = nmd_row_get(txn->c, sql_ns_get, &names[i], 1,
				      &nomad__namespace__descriptor, &ns,
				      err)) == NOMAD_ENOTFOUND)
			return nmd_seterr(err, rc,
					  "state: namespace not found: name=%s",
					  names[i] ? names[i] : "");
		if (rc < 0)
			return rc;
		nmd_pb_free(ns, NMD_STATE_MSG_ALLOC);
		if (strcmp(names[i], NMD_NS_DEFAULT) == 0)
			return nmd_seterr(err, NOMAD_EINVAL,
					  "state: default namespace can not "
					  "be deleted");
		if ((rc = ns_in_use(txn, names[i], &what, err)) < 0)
			return rc;
		if (what)
			return nmd_seterr(err, NOMAD_EINVAL,
					  "state: namespace %s still holds %s",
					  names[i], what);
	}
	for (size_t i = 0; i < n; i++)
		if ((rc = nmd_row_write(txn, sql_ns_del, &names[i], 1, NULL,
					NULL, err)) < 0)
			return rc;
	if (n)
		nmd_touch(txn, NOMAD_TABLE_NAMESPACES);
	return NOMAD_OK;
}

nomad_err nomad_state_namespace_get(nomad_state_snap *snap, const char *name,
				    nomad_namespace **out)
{
	if (!out)
		return NOMAD_EINVAL;
	*out = NULL;
	if (!snap)
		return NOMAD_EINVAL;
	if (!name)
		return NOMAD_ENOTFOUND;
	return nmd_row_get(snap->c, sql_ns_get, &name, 1,
			   &nomad__namespace__descriptor, out, NULL);
}

nomad_err nomad_state_namespaces_list(nomad_state_snap *snap,
				      const nomad_state_list_options *opts,
				      nomad_state_iter_cb cb, void *userdata,
				      char next_token[NOMAD_STATE_TOKEN_MAX],
				      nomad_error *err)
{
	static const char *const sql[2] = {
		NMD_KEY_LIST("namespaces", "name", ">=", "ASC"),
		NMD_KEY_LIST("namespaces", "name", "<=", "DESC"),
	};
	return nmd_list_by_key(snap, sql, &nomad__namespace__descriptor, opts,
			       cb, userdata, next_token, err);
}

/* ---- node pools ----------------------------------------------------------- */

static const char sql_pool_get[] = "SELECT body FROM node_pools WHERE name = ?1";
static const char sql_pool_put[] =
	"INSERT INTO node_pools(name, body) VALUES(?1, ?2) "
	"ON CONFLICT(name) DO UPDATE SET body = excluded.body";
static const char sql_pool_del[] = "DELETE FROM node_pools WHERE name = ?1";

static bool pool_builtin(const char *name)
{
	return strcmp(name, pool_all) == 0 || strcmp(name, pool_default) == 0;
}

nomad_err nomad_state_node_pool_upsert(nomad_state_txn *txn,
				       const nomad_node_pool *pool,
				       nomad_error *err)
{
	nomad_node_pool copy;
	const char *key[1];
	if (!txn || !pool || !pool->name || !pool->name[0])
		return nmd_seterr(err, NOMAD_EINVAL, "state: no node pool name");
	if (pool_builtin(pool->name))
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: modifying node pool %s is not allowed",
				  pool->name);
	copy = *pool;
	key[0] = pool->name;
	return nmd_row_upsert(txn, sql_pool_get, sql_pool_put, key, 1,
			      &copy.base, NOMAD_TABLE_NODE_POOLS, err);
}

nomad_err nomad_state_node_pools_delete(nomad_state_txn *txn,
					const char *const *names, size_t n,
					nomad_error *err)
{
	nomad_err rc;
	if (!txn || (n && !names))
		return nmd_seterr(err, NOMAD_EINVAL, "state: no node pools");
	for (size_t i = 0; i < n; i++) {
		nomad_node_pool *pool;
		if ((rc = nmd_row_get(txn->c, sql_pool_get, &names[i], 1,
				      &nomad__node_pool__descriptor, &pool,
				      err)) == NOMAD_ENOTFOUND)
			return nmd_seterr(err, rc,
					  "state: node pool not found: name=%s",
					  names[i] ? names[i] : "");
		if (rc < 0)
			return rc;
		nmd_pb_free(pool, NMD_STATE_MSG_ALLOC);
		if (pool_builtin(names[i]))
			return nmd_seterr(err, NOMAD_EINVAL,
					  "state: deleting node pool %s is "
					  "not allowed", names[i]);
	}
	for (size_t i = 0; i < n; i++)
		if ((rc = nmd_row_write(txn, sql_pool_del, &names[i], 1, NULL,
					NULL, err)) < 0)
			return rc;
	if (n)
		nmd_touch(txn, NOMAD_TABLE_NODE_POOLS);
	return NOMAD_OK;
}

nomad_err nomad_state_node_pool_get(nomad_state_snap *snap, const char *name,
				    nomad_node_pool **out)
{
	if (!out)
		return NOMAD_EINVAL;
	*out = NULL;
	if (!snap)
		return NOMAD_EINVAL;
	if (!name)
		return NOMAD_ENOTFOUND;
	return nmd_row_get(snap->c, sql_pool_get, &name, 1,
			   &nomad__node_pool__descriptor, out, NULL);
}

nomad_err nomad_state_node_pools_list(nomad_state_snap *snap,
				      const nomad_state_list_options *opts,
				      nomad_state_iter_cb cb, void *userdata,
				      char next_token[NOMAD_STATE_TOKEN_MAX],
				      nomad_error *err)
{
	static const char *const sql[2] = {
		NMD_KEY_LIST("node_pools", "name", ">=", "ASC"),
		NMD_KEY_LIST("node_pools", "name", "<=", "DESC"),
	};
	return nmd_list_by_key(snap, sql, &nomad__node_pool__descriptor, opts,
			       cb, userdata, next_token, err);
}

/* ---- scheduler configuration ---------------------------------------------- */

static const char sql_sched_get[] =
	"SELECT body FROM scheduler_config WHERE id = 1";
static const char sql_sched_put[] =
	"INSERT INTO scheduler_config(id, body) VALUES(1, ?1) "
	"ON CONFLICT(id) DO UPDATE SET body = excluded.body";

/* Nomad's schedulerSetConfigTxn, behind a check-and-set when `cas` is not
 * NULL: the stored ModifyIndex must equal *cas, or *cas be 0 when nothing
 * is stored yet. */
static nomad_err sched_write(nomad_state_txn *txn,
			     const nomad_scheduler_config *cfg,
			     const uint64_t *cas, nomad_error *err)
{
	nomad_scheduler_config *old, copy;
	nomad_err rc;
	if (!txn || !cfg)
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: no scheduler configuration");
	if ((rc = nmd_row_load(txn, sql_sched_get, NULL, 0,
			       &nomad__scheduler_configuration__descriptor,
			       &old, err)) < 0)
		return rc;
	if (cas && *cas != (old ? old->modifyindex : 0)) {
		rc = nmd_seterr(err, NOMAD_ECONFLICT,
				"state: scheduler configuration changed: "
				"cas=%llu modify_index=%llu",
				(unsigned long long)*cas,
				(unsigned long long)(old ? old->modifyindex : 0));
		goto done;
	}
	copy = *cfg;
	nmd_row_stamp(&copy.base, old ? &old->base : NULL, txn->index);
	if ((rc = nmd_row_write(txn, sql_sched_put, NULL, 0, &copy.base, NULL,
				err)) >= 0)
		nmd_touch(txn, NOMAD_TABLE_SCHEDULER_CONFIG);
done:
	nmd_pb_free(old, NMD_STATE_MSG_ALLOC);
	return rc;
}

nomad_err nomad_state_scheduler_config_set(nomad_state_txn *txn,
					   const nomad_scheduler_config *cfg,
					   nomad_error *err)
{
	return sched_write(txn, cfg, NULL, err);
}

nomad_err nomad_state_scheduler_config_cas(nomad_state_txn *txn,
					   const nomad_scheduler_config *cfg,
					   uint64_t cas, nomad_error *err)
{
	return sched_write(txn, cfg, &cas, err);
}

nomad_err nomad_state_scheduler_config_get(nomad_state_snap *snap,
					   nomad_scheduler_config **out)
{
	if (!out)
		return NOMAD_EINVAL;
	*out = NULL;
	if (!snap)
		return NOMAD_EINVAL;
	return nmd_row_get(snap->c, sql_sched_get, NULL, 0,
			   &nomad__scheduler_configuration__descriptor, out,
			   NULL);
}

/* ---- periodic launches ----------------------------------------------------- */

static const char sql_launch_get[] =
	"SELECT body FROM periodic_launches WHERE ns = ?1 AND id = ?2";
static const char sql_launch_put[] =
	"INSERT INTO periodic_launches(ns, id, body) VALUES(?1, ?2, ?3) "
	"ON CONFLICT(ns, id) DO UPDATE SET body = excluded.body";
static const char sql_launch_del[] =
	"DELETE FROM periodic_launches WHERE ns = ?1 AND id = ?2";

nomad_err nomad_state_periodic_launch_upsert(nomad_state_txn *txn,
					     const nomad_periodic_launch *launch,
					     nomad_error *err)
{
	nomad_periodic_launch copy;
	const char *keys[2];
	if (!txn || !launch || !launch->id || !launch->id[0])
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: periodic launch without a job ID");
	copy = *launch;
	copy.namespace_ = (char *)nmd_ns_or_default(launch->namespace_);
	keys[0] = copy.namespace_;
	keys[1] = copy.id;
	return nmd_row_upsert(txn, sql_launch_get, sql_launch_put, keys, 2,
			      &copy.base, NOMAD_TABLE_PERIODIC_LAUNCH, err);
}

nomad_err nmd_periodic_launch_forget(nomad_state_txn *txn, const char *ns,
				     const char *job_id, bool *deleted,
				     nomad_error *err)
{
	const char *keys[2] = {nmd_ns_or_default(ns), job_id};
	int changed = 0;
	nomad_err rc;
	if ((rc = nmd_row_write(txn, sql_launch_del, keys, 2, NULL, &changed,
				err)) < 0)
		return rc;
	/* As Nomad's DeletePeriodicLaunchTxn: the index moves only when a
	 * launch was there to delete. */
	if (changed)
		nmd_touch(txn, NOMAD_TABLE_PERIODIC_LAUNCH);
	if (deleted)
		*deleted = changed > 0;
	return NOMAD_OK;
}

nomad_err nomad_state_periodic_launch_delete(nomad_state_txn *txn,
					     const char *ns, const char *job_id,
					     nomad_error *err)
{
	bool deleted;
	nomad_err rc;
	if (!txn || !job_id)
		return nmd_seterr(err, NOMAD_EINVAL, "state: no job ID");
	if ((rc = nmd_periodic_launch_forget(txn, ns, job_id, &deleted,
					     err)) < 0)
		return rc;
	if (!deleted)
		return nmd_seterr(err, NOMAD_ENOTFOUND,
				  "state: periodic launch not found: "
				  "namespace=%s job=%s", nmd_ns_or_default(ns),
				  job_id);
	return NOMAD_OK;
}

nomad_err nomad_state_periodic_launch_get(nomad_state_snap *snap,
					  const char *ns, const char *job_id,
					  nomad_periodic_launch **out)
{
	const char *keys[2] = {nmd_ns_or_default(ns), job_id};
	if (!out)
		return NOMAD_EINVAL;
	*out = NULL;
	if (!snap)
		return NOMAD_EINVAL;
	if (!job_id)
		return NOMAD_ENOTFOUND;
	return nmd_row_get(snap->c, sql_launch_get, keys, 2,
			   &nomad__periodic_launch__descriptor, out, NULL);
}

nomad_err nomad_state_periodic_launches_list(nomad_state_snap *snap,
					     const nomad_state_list_options *opts,
					     nomad_state_iter_cb cb,
					     void *userdata,
					     char next_token[NOMAD_STATE_TOKEN_MAX],
					     nomad_error *err)
{
	static const char *const sql[4] = {
		NMD_NS_KEY_LIST("periodic_launches", "id", "ns = ?1 AND ", ">=", "ASC"),
		NMD_NS_KEY_LIST("periodic_launches", "id", "ns = ?1 AND ", "<=", "DESC"),
		NMD_NS_KEY_LIST("periodic_launches", "id", "", ">=", "ASC"),
		NMD_NS_KEY_LIST("periodic_launches", "id", "", "<=", "DESC"),
	};
	return nmd_list_by_ns_key(snap, sql, &nomad__periodic_launch__descriptor,
				  opts, cb, userdata, next_token, err);
}
