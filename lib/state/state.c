/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The state store's frame: opening the SQLite file and its schema, write
 * transactions at a Raft index, read snapshots on pooled connections, the
 * per-connection statement cache, and the helpers every table file uses
 * (UUIDs as 16-byte keys, protobuf bodies, paging).
 *
 * One writer connection, serialised by write_lock; readers take a pooled
 * connection each and hold a WAL read transaction, which is what makes a
 * snapshot consistent while writes go on.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "state/state_int.h"
#include "structs/pb.h"

static const char *const table_names[NOMAD_TABLE_COUNT_] = {
	"jobs", "job_version", "job_summary", "evals", "allocs", "nodes",
	"deployment", "namespaces", "node_pools", "acl_policy", "acl_token",
	"variables", "service_registrations", "scheduler_config",
	"periodic_launch"};

const char *nomad_state_table_name(nomad_state_table t)
{
	return (unsigned)t < NOMAD_TABLE_COUNT_ ? table_names[t] : "unknown";
}

static const char schema_sql[] =
	"CREATE TABLE IF NOT EXISTS meta(k TEXT PRIMARY KEY, v INTEGER) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS table_index(t INTEGER PRIMARY KEY, idx INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS jobs(pk INTEGER PRIMARY KEY, ns TEXT NOT NULL,"
	" id TEXT NOT NULL, body BLOB NOT NULL, UNIQUE(ns, id));"
	"CREATE TABLE IF NOT EXISTS job_versions(job_pk INTEGER NOT NULL,"
	" version INTEGER NOT NULL, body BLOB NOT NULL,"
	" PRIMARY KEY(job_pk, version)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS job_summaries(job_pk INTEGER PRIMARY KEY,"
	" body BLOB NOT NULL);"
	"CREATE TABLE IF NOT EXISTS evals(pk INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE,"
	" ns TEXT NOT NULL, job_id TEXT NOT NULL, body BLOB NOT NULL);"
	"CREATE INDEX IF NOT EXISTS evals_job ON evals(ns, job_id, id);"
	"CREATE TABLE IF NOT EXISTS nodes(pk INTEGER PRIMARY KEY, id BLOB NOT NULL UNIQUE,"
	" body BLOB);"
	"CREATE TABLE IF NOT EXISTS deployments(pk INTEGER PRIMARY KEY,"
	" id BLOB NOT NULL UNIQUE, ns TEXT NOT NULL, job_id TEXT NOT NULL,"
	" create_index INTEGER NOT NULL, body BLOB NOT NULL);"
	"CREATE INDEX IF NOT EXISTS deployments_job ON deployments(ns, job_id, create_index);"
	"CREATE TABLE IF NOT EXISTS alloc_loc(id BLOB PRIMARY KEY, pk INTEGER NOT NULL,"
	" node_pk INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS allocs_hot(pk INTEGER PRIMARY KEY,"
	" node_pk INTEGER NOT NULL, status INTEGER NOT NULL, body BLOB NOT NULL);"
	"CREATE INDEX IF NOT EXISTS allocs_hot_node ON allocs_hot(node_pk, pk);"
	"CREATE TABLE IF NOT EXISTS allocs_cold(k INTEGER PRIMARY KEY,"
	" status INTEGER NOT NULL, body BLOB NOT NULL);"
	"CREATE TABLE IF NOT EXISTS job_keys(jk INTEGER PRIMARY KEY, ns TEXT NOT NULL,"
	" job_id TEXT NOT NULL, UNIQUE(ns, job_id));"
	"CREATE TABLE IF NOT EXISTS alloc_by_job(jk INTEGER NOT NULL, id BLOB NOT NULL,"
	" PRIMARY KEY(jk, id)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS alloc_by_eval(eval_id BLOB NOT NULL, id BLOB NOT NULL,"
	" PRIMARY KEY(eval_id, id)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS alloc_by_deployment(dep_id BLOB NOT NULL,"
	" id BLOB NOT NULL, PRIMARY KEY(dep_id, id)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS alloc_jobs(jk INTEGER NOT NULL,"
	" version INTEGER NOT NULL, body BLOB NOT NULL,"
	" PRIMARY KEY(jk, version)) WITHOUT ROWID;"
	/* The smaller tables (tables.c). */
	"CREATE TABLE IF NOT EXISTS namespaces(name TEXT PRIMARY KEY,"
	" body BLOB NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS node_pools(name TEXT PRIMARY KEY,"
	" body BLOB NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS acl_policies(name TEXT PRIMARY KEY,"
	" body BLOB NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS acl_tokens(accessor TEXT PRIMARY KEY,"
	" secret TEXT NOT NULL UNIQUE, body BLOB NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS variables(ns TEXT NOT NULL, path TEXT NOT NULL,"
	" body BLOB NOT NULL, PRIMARY KEY(ns, path)) WITHOUT ROWID;"
	"CREATE TABLE IF NOT EXISTS services(ns TEXT NOT NULL, id TEXT NOT NULL,"
	" name TEXT NOT NULL, job_id TEXT NOT NULL, alloc_id TEXT NOT NULL,"
	" node_id TEXT NOT NULL, body BLOB NOT NULL, PRIMARY KEY(ns, id))"
	" WITHOUT ROWID;"
	"CREATE INDEX IF NOT EXISTS services_name ON services(ns, name, id);"
	"CREATE INDEX IF NOT EXISTS services_job ON services(ns, job_id, id);"
	"CREATE INDEX IF NOT EXISTS services_alloc ON services(alloc_id, id);"
	"CREATE INDEX IF NOT EXISTS services_node ON services(node_id, id);"
	"CREATE TABLE IF NOT EXISTS scheduler_config(id INTEGER PRIMARY KEY"
	" CHECK(id = 1), body BLOB NOT NULL);"
	"CREATE TABLE IF NOT EXISTS periodic_launches(ns TEXT NOT NULL,"
	" id TEXT NOT NULL, body BLOB NOT NULL, PRIMARY KEY(ns, id)) WITHOUT ROWID;"
	/* What exists from the start, as Nomad's namespaceInit and
	 * nodePoolInit create it at index 1: the "default" namespace and the
	 * "all" and "default" node pools. Bodies are the protobuf of
	 * {Name, Description, CreateIndex 1, ModifyIndex 1}; table_index
	 * rows 7 and 8 are NOMAD_TABLE_NAMESPACES and NOMAD_TABLE_NODE_POOLS
	 * (tables.c checks both, and the bodies, at compile and test time). */
	"INSERT OR IGNORE INTO namespaces(name, body) VALUES('default',"
	" X'0a0764656661756c74121844656661756c7420736861726564206e616d6573"
	"7061636538014001');"
	"INSERT OR IGNORE INTO node_pools(name, body) VALUES('all',"
	" X'0a03616c6c12284e6f646520706f6f6c207769746820616c6c206e6f646573"
	"20696e2074686520636c75737465722e28013001'),"
	" ('default', X'0a0764656661756c74121244656661756c74206e6f646520706f"
	"6f6c2e28013001');"
	"INSERT OR IGNORE INTO table_index(t, idx) VALUES(7, 1), (8, 1);";

/* ---- connections ------------------------------------------------------- */

nomad_err nmd_sqlite_fail(struct nmd_conn *c, nomad_error *err,
			  const char *what)
{
	return nmd_seterr(err, NOMAD_EIO, "state: %s: %s", what,
			  c && c->db ? sqlite3_errmsg(c->db) : "no database");
}

sqlite3_stmt *nmd_stmt(struct nmd_conn *c, const char *sql, nomad_error *err)
{
	/* Open addressing on the text's address: each statement's SQL is a
	 * static string, so its address names it. */
	size_t h = ((uintptr_t)sql >> 3) % NMD_CONN_STMTS;
	for (size_t i = 0; i < NMD_CONN_STMTS; i++, h = (h + 1) % NMD_CONN_STMTS) {
		if (c->sql[h] == sql) {
			sqlite3_reset(c->stmt[h]);
			sqlite3_clear_bindings(c->stmt[h]);
			return c->stmt[h];
		}
		if (!c->sql[h]) {
			if (sqlite3_prepare_v3(c->db, sql, -1,
					       SQLITE_PREPARE_PERSISTENT,
					       &c->stmt[h], NULL) != SQLITE_OK) {
				nmd_sqlite_fail(c, err, "prepare");
				return NULL;
			}
			c->sql[h] = sql;
			return c->stmt[h];
		}
	}
	nmd_seterr(err, NOMAD_ERROR, "state: statement cache full");
	return NULL;
}

nomad_err nmd_stmt_exec(struct nmd_conn *c, sqlite3_stmt *st, nomad_error *err)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return nmd_sqlite_fail(c, err, "write");
	return NOMAD_OK;
}

void nmd_conn_close(struct nmd_conn *c)
{
	for (size_t i = 0; i < NMD_CONN_STMTS; i++)
		if (c->sql[i])
			sqlite3_finalize(c->stmt[i]);
	sqlite3_close(c->db);
	c->db = NULL;
}

/* A pooled reader: its connection, then the struct. */
static void reader_close(nomad_state *s, struct nmd_conn *c)
{
	nmd_conn_close(c);
	nmd_free(s->ctx.alloc, c);
}

nomad_err nmd_conn_open(nomad_state *s, struct nmd_conn *c,
			   unsigned cache_mb, bool create, nomad_error *err)
{
	static const char *const sync_names[] = {"OFF", "NORMAL", "FULL"};
	char pragmas[256];
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX |
		    (create ? SQLITE_OPEN_CREATE : 0);
	memset(c, 0, sizeof(*c));
	if (sqlite3_open_v2(s->path, &c->db, flags, NULL) != SQLITE_OK) {
		nomad_err rc = nmd_seterr(err, NOMAD_EIO,
					  "state: cannot open %s: %s", s->path,
					  c->db ? sqlite3_errmsg(c->db)
						: "out of memory");
		sqlite3_close(c->db);
		c->db = NULL;
		return rc;
	}
	sqlite3_busy_timeout(c->db, 10000);
	/* The default 4 KiB pages: 16 KiB ones measured 6% faster node
	 * scans but 17% slower inserts (each dirty page is written whole). */
	snprintf(pragmas, sizeof(pragmas),
		 "PRAGMA journal_mode=WAL; PRAGMA synchronous=%s;"
		 "PRAGMA cache_size=-%u; PRAGMA temp_store=MEMORY;",
		 sync_names[s->sync], cache_mb * 1024);
	if (sqlite3_exec(c->db, pragmas, NULL, NULL, NULL) != SQLITE_OK) {
		nomad_err rc = nmd_sqlite_fail(c, err, "configure");
		sqlite3_close(c->db);
		c->db = NULL;
		return rc;
	}
	return NOMAD_OK;
}

/* ---- opening ------------------------------------------------------------ */

nomad_err nmd_meta_get(struct nmd_conn *c, const char *key, int64_t *v,
			  bool *found, nomad_error *err)
{
	static const char sql[] = "SELECT v FROM meta WHERE k = ?1";
	sqlite3_stmt *st = nmd_stmt(c, sql, err);
	int rc;
	if (!st)
		return NOMAD_EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	*found = rc == SQLITE_ROW;
	if (*found)
		*v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return nmd_sqlite_fail(c, err, "read meta");
	return NOMAD_OK;
}

nomad_err nmd_meta_set(struct nmd_conn *c, const char *key, int64_t v,
			  nomad_error *err)
{
	static const char sql[] =
		"INSERT INTO meta(k, v) VALUES(?1, ?2) "
		"ON CONFLICT(k) DO UPDATE SET v = excluded.v";
	sqlite3_stmt *st = nmd_stmt(c, sql, err);
	if (!st)
		return NOMAD_EIO;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, v);
	return nmd_stmt_exec(c, st, err);
}

/* Rows in the hot allocation table: known again only from the file after
 * an open or a rollback. */
static uint64_t count_hot(struct nmd_conn *c)
{
	static const char sql[] = "SELECT count(*) FROM allocs_hot";
	sqlite3_stmt *st = nmd_stmt(c, sql, NULL);
	uint64_t n = 0;
	if (st && sqlite3_step(st) == SQLITE_ROW)
		n = (uint64_t)sqlite3_column_int64(st, 0);
	if (st)
		sqlite3_reset(st);
	return n;
}

/* The next allocation pk, kept in meta by allocs.c: known again only from
 * the file after an open or a rollback. */
static nomad_err load_alloc_pk(nomad_state *s, nomad_error *err)
{
	int64_t v = 0;
	bool found;
	nomad_err rc = nmd_meta_get(&s->writer, "alloc_pk", &v, &found, err);
	s->next_alloc_pk = found ? (uint64_t)v : 1;
	return rc;
}

/* Create the schema in a new file, or check the version of an old one. */
static nomad_err init_schema(nomad_state *s, nomad_error *err)
{
	struct nmd_conn *c = &s->writer;
	int64_t version = 0, last = 0;
	bool found;
	nomad_err rc;
	char *msg = NULL;
	if (sqlite3_exec(c->db, "BEGIN IMMEDIATE;", NULL, NULL, NULL) != SQLITE_OK)
		return nmd_sqlite_fail(c, err, "begin");
	if (sqlite3_exec(c->db, schema_sql, NULL, NULL, &msg) != SQLITE_OK) {
		rc = nmd_seterr(err, NOMAD_ECORRUPT,
				"state: %s is not a libnomad state store: %s",
				s->path, msg ? msg : "schema");
		sqlite3_free(msg);
		goto fail;
	}
	if ((rc = nmd_meta_get(c, "schema", &version, &found, err)) < 0)
		goto fail;
	if (!found) {
		if ((rc = nmd_meta_set(c, "schema", NMD_STATE_SCHEMA_VERSION, err)) < 0 ||
		    (rc = nmd_meta_set(c, "last_index", 0, err)) < 0)
			goto fail;
	} else if (version != NMD_STATE_SCHEMA_VERSION) {
		rc = nmd_seterr(err, NOMAD_ECORRUPT,
				"state: %s has schema version %lld, this "
				"library reads version %d", s->path,
				(long long)version, NMD_STATE_SCHEMA_VERSION);
		goto fail;
	}
	if ((rc = nmd_meta_get(c, "last_index", &last, &found, err)) < 0)
		goto fail;
	if (sqlite3_exec(c->db, "COMMIT;", NULL, NULL, NULL) != SQLITE_OK)
		return nmd_sqlite_fail(c, err, "commit");
	s->last_index = (uint64_t)last;
	s->hot_count = count_hot(c);
	return load_alloc_pk(s, err);
fail:
	sqlite3_exec(c->db, "ROLLBACK;", NULL, NULL, NULL);
	return rc;
}

nomad_err nomad_state_config_init(nomad_state_config *cfg, unsigned int version)
{
	if (!cfg || version != NOMAD_STATE_CONFIG_VERSION)
		return NOMAD_EINVAL;
	*cfg = (nomad_state_config)NOMAD_STATE_CONFIG_INIT;
	return NOMAD_OK;
}

nomad_err nomad_state_open(nomad_state **out, const nomad_state_config *cfg,
			   nomad_error *err)
{
	nomad_state *s;
	nomad_err rc;
	if (!out)
		return nmd_seterr(err, NOMAD_EINVAL, "state: no output");
	*out = NULL;
	if (!cfg || cfg->version != NOMAD_STATE_CONFIG_VERSION)
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: missing or unknown config version");
	if (!cfg->path || !cfg->path[0])
		return nmd_seterr(err, NOMAD_EINVAL, "state: no path");
	if ((unsigned)cfg->sync > NOMAD_STATE_SYNC_FULL)
		return nmd_seterr(err, NOMAD_EINVAL, "state: unknown sync mode %d",
				  (int)cfg->sync);
	if (!(s = nmd_calloc(cfg->allocator, 1, sizeof(*s))))
		return nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
	nmd_ctx_init(&s->ctx, cfg->allocator, cfg->log_cb, cfg->log_userdata,
		     cfg->log_level, NULL, NULL);
	s->sync = cfg->sync;
	s->cache_mb = cfg->cache_mb ? cfg->cache_mb : 64;
	s->hot_max = cfg->hot_allocs_max ? cfg->hot_allocs_max : 100000;
	s->checkpoint_pages = cfg->checkpoint_pages ? cfg->checkpoint_pages
						    : 16384;
	pthread_mutex_init(&s->write_lock, NULL);
	pthread_mutex_init(&s->pool_lock, NULL);
	nmd_keycache_init(&s->node_pks, s->ctx.alloc);
	nmd_keycache_init(&s->job_keys, s->ctx.alloc);
	nmd_keycache_init(&s->job_versions, s->ctx.alloc);
	if (!(s->path = nmd_strdup(s->ctx.alloc, cfg->path))) {
		rc = nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
		goto fail;
	}
	if ((rc = nmd_conn_open(s, &s->writer, s->cache_mb, true, err)) < 0 ||
	    (rc = init_schema(s, err)) < 0 ||
	    (rc = nmd_checkpointer_start(s, err)) < 0 ||
	    (rc = nmd_events_open(s, cfg->event_buffer, err)) < 0 ||
	    (rc = nmd_watch_open(s, err)) < 0)
		goto fail;
	nmd_log(&s->ctx, NOMAD_LOG_DEBUG, "state", "opened %s at index %llu",
		s->path, (unsigned long long)s->last_index);
	*out = s;
	return NOMAD_OK;
fail:
	nomad_state_close(s);
	return rc;
}

void nomad_state_close(nomad_state *s)
{
	if (!s)
		return;
	nmd_checkpointer_stop(s);
	for (size_t i = 0; i < s->n_idle; i++)
		reader_close(s, s->idle[i]);
	nmd_free(s->ctx.alloc, s->idle);
	if (s->writer.db)
		nmd_conn_close(&s->writer);
	nmd_view_free(s);
	nmd_events_close(s);
	nmd_watch_close(s);
	nmd_keycache_free(&s->node_pks);
	nmd_keycache_free(&s->job_keys);
	nmd_keycache_free(&s->job_versions);
	pthread_mutex_destroy(&s->write_lock);
	pthread_mutex_destroy(&s->pool_lock);
	nmd_free(s->ctx.alloc, s->path);
	nmd_free(s->ctx.alloc, s);
}

uint64_t nomad_state_last_index(nomad_state *s)
{
	uint64_t v;
	pthread_mutex_lock(&s->write_lock);
	v = s->last_index;
	pthread_mutex_unlock(&s->write_lock);
	return v;
}

/* ---- write transactions ------------------------------------------------ */

nomad_err nomad_state_txn_begin(nomad_state *s, uint64_t index,
				nomad_state_txn **out, nomad_error *err)
{
	nomad_state_txn *txn;
	if (!s || !out)
		return nmd_seterr(err, NOMAD_EINVAL, "state: no store");
	*out = NULL;
	if (!(txn = nmd_calloc(s->ctx.alloc, 1, sizeof(*txn))))
		return nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
	pthread_mutex_lock(&s->write_lock);
	if (index <= s->last_index) {
		uint64_t last = s->last_index;
		pthread_mutex_unlock(&s->write_lock);
		nmd_free(s->ctx.alloc, txn);
		return nmd_seterr(err, NOMAD_ECONFLICT,
				  "state: index %llu is not above the last "
				  "applied index %llu",
				  (unsigned long long)index,
				  (unsigned long long)last);
	}
	if (sqlite3_exec(s->writer.db, "BEGIN IMMEDIATE;", NULL, NULL, NULL) !=
	    SQLITE_OK) {
		nomad_err rc = nmd_sqlite_fail(&s->writer, err, "begin");
		pthread_mutex_unlock(&s->write_lock);
		nmd_free(s->ctx.alloc, txn);
		return rc;
	}
	txn->s = s;
	txn->c = &s->writer;
	txn->index = index;
	nmd_buf_init(&txn->scratch, s->ctx.alloc);
	nmd_buf_init(&txn->ev.arena, s->ctx.alloc);
	nmd_keycache_init(&txn->jobs_touched, s->ctx.alloc);
	*out = txn;
	return NOMAD_OK;
}

uint64_t nomad_state_txn_index(const nomad_state_txn *txn)
{
	return txn->index;
}

static void txn_end(nomad_state_txn *txn, bool commit_ok)
{
	nomad_state *s = txn->s;
	if (commit_ok) {
		s->last_index = txn->index;
		nmd_view_commit(txn);
	} else {
		nmd_view_discard(txn);
	}
	nmd_buf_free(&txn->scratch);
	nmd_txn_changes_free(txn);
	nmd_keycache_free(&txn->jobs_touched);
	pthread_mutex_unlock(&s->write_lock);
	nmd_free(s->ctx.alloc, txn);
}

static nomad_err write_indexes(nomad_state_txn *txn, nomad_error *err)
{
	static const char sql[] =
		"INSERT INTO table_index(t, idx) VALUES(?1, ?2) "
		"ON CONFLICT(t) DO UPDATE SET idx = excluded.idx";
	for (int t = 0; t < NOMAD_TABLE_COUNT_; t++) {
		sqlite3_stmt *st;
		nomad_err rc;
		if (!txn->touched[t])
			continue;
		if (!(st = nmd_stmt(txn->c, sql, err)))
			return NOMAD_EIO;
		sqlite3_bind_int(st, 1, t);
		sqlite3_bind_int64(st, 2, (sqlite3_int64)txn->index);
		if ((rc = nmd_stmt_exec(txn->c, st, err)) < 0)
			return rc;
	}
	return nmd_meta_set(txn->c, "last_index", (int64_t)txn->index, err);
}

nomad_err nomad_state_txn_commit(nomad_state_txn *txn, nomad_error *err)
{
	nomad_err rc = NOMAD_OK;
	nomad_state *s;
	uint64_t index;
	bool notify;
	if (!txn)
		return nmd_seterr(err, NOMAD_EINVAL, "state: no transaction");
	rc = nmd_jobs_refresh_status(txn, err);
	if (rc >= 0 && txn->s->hot_count >= txn->s->hot_max)
		rc = nmd_allocs_migrate(txn, err);
	if (rc >= 0 && nmd_txn_changes_oom(txn))
		rc = nmd_seterr(err, NOMAD_ENOMEM,
				"state: out of memory recording events");
	if (rc >= 0)
		rc = write_indexes(txn, err);
	if (rc >= 0 &&
	    sqlite3_exec(txn->c->db, "COMMIT;", NULL, NULL, NULL) != SQLITE_OK)
		rc = nmd_sqlite_fail(txn->c, err, "commit");
	if (rc < 0) {
		nomad_state_txn_abort(txn);
		return rc;
	}
	/* Publish while write_lock still orders commits; subscribers' ready
	 * callbacks run after it is released. */
	s = txn->s;
	index = txn->index;
	notify = nmd_events_publish(txn);
	nmd_watch_publish(txn);
	txn_end(txn, true);
	if (notify)
		nmd_events_notify(s, index);
	return NOMAD_OK;
}

void nomad_state_txn_abort(nomad_state_txn *txn)
{
	if (!txn)
		return;
	sqlite3_exec(txn->c->db, "ROLLBACK;", NULL, NULL, NULL);
	txn->s->hot_count = count_hot(txn->c);
	load_alloc_pk(txn->s, NULL);
	/* Keys cached during the transaction may name rows it created. */
	nmd_keycache_clear(&txn->s->node_pks);
	nmd_keycache_clear(&txn->s->job_keys);
	nmd_keycache_clear(&txn->s->job_versions);
	txn_end(txn, false);
}

/* ---- snapshots ---------------------------------------------------------- */

static nomad_err take_reader(nomad_state *s, struct nmd_conn **out,
			     nomad_error *err)
{
	struct nmd_conn *c = NULL;
	nomad_err rc;
	pthread_mutex_lock(&s->pool_lock);
	if (s->n_idle)
		c = s->idle[--s->n_idle];
	s->open_snaps++;
	pthread_mutex_unlock(&s->pool_lock);
	if (c) {
		*out = c;
		return NOMAD_OK;
	}
	if (!(c = nmd_calloc(s->ctx.alloc, 1, sizeof(*c)))) {
		rc = nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
	} else if ((rc = nmd_conn_open(s, c, 16, false, err)) < 0) {
		nmd_free(s->ctx.alloc, c);
		c = NULL;
	}
	if (rc < 0) {
		pthread_mutex_lock(&s->pool_lock);
		s->open_snaps--;
		pthread_mutex_unlock(&s->pool_lock);
		return rc;
	}
	*out = c;
	return NOMAD_OK;
}

static void give_back_reader(nomad_state *s, struct nmd_conn *c)
{
	bool kept = false;
	pthread_mutex_lock(&s->pool_lock);
	s->open_snaps--;
	if (s->n_idle < s->cap_idle ||
	    nmd_pb_grow(s->ctx.alloc, (void **)&s->idle, s->n_idle,
			sizeof(*s->idle))) {
		if (s->n_idle >= s->cap_idle)
			s->cap_idle = s->n_idle + 1;
		s->idle[s->n_idle++] = c;
		kept = true;
	}
	pthread_mutex_unlock(&s->pool_lock);
	if (!kept)
		reader_close(s, c);
}

static nomad_err read_indexes(nomad_state_snap *snap, nomad_error *err)
{
	static const char sql_last[] = "SELECT v FROM meta WHERE k = 'last_index'";
	static const char sql_tables[] = "SELECT t, idx FROM table_index";
	sqlite3_stmt *st = nmd_stmt(snap->c, sql_last, err);
	int rc;
	if (!st)
		return NOMAD_EIO;
	if (sqlite3_step(st) == SQLITE_ROW)
		snap->index = (uint64_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (!(st = nmd_stmt(snap->c, sql_tables, err)))
		return NOMAD_EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int t = sqlite3_column_int(st, 0);
		if (t >= 0 && t < NOMAD_TABLE_COUNT_)
			snap->table_index[t] =
				(uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? NOMAD_OK
				 : nmd_sqlite_fail(snap->c, err, "read indexes");
}

nomad_err nomad_state_snapshot(nomad_state *s, nomad_state_snap **out,
			       nomad_error *err)
{
	nomad_state_snap *snap;
	nomad_err rc;
	if (!s || !out)
		return nmd_seterr(err, NOMAD_EINVAL, "state: no store");
	*out = NULL;
	if (!(snap = nmd_calloc(s->ctx.alloc, 1, sizeof(*snap))))
		return nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
	snap->s = s;
	if ((rc = take_reader(s, &snap->c, err)) < 0) {
		nmd_free(s->ctx.alloc, snap);
		return rc;
	}
	/* The first read inside BEGIN pins the WAL snapshot. */
	if (sqlite3_exec(snap->c->db, "BEGIN;", NULL, NULL, NULL) != SQLITE_OK)
		rc = nmd_sqlite_fail(snap->c, err, "begin snapshot");
	else
		rc = read_indexes(snap, err);
	if (rc < 0) {
		nomad_state_snap_close(snap);
		return rc;
	}
	*out = snap;
	return NOMAD_OK;
}

void nomad_state_snap_close(nomad_state_snap *snap)
{
	if (!snap)
		return;
	sqlite3_exec(snap->c->db, "ROLLBACK;", NULL, NULL, NULL);
	give_back_reader(snap->s, snap->c);
	nmd_free(snap->s->ctx.alloc, snap);
}

uint64_t nomad_state_snap_index(const nomad_state_snap *snap)
{
	return snap->index;
}

uint64_t nomad_state_snap_table_index(const nomad_state_snap *snap,
				      nomad_state_table table)
{
	return (unsigned)table < NOMAD_TABLE_COUNT_ ? snap->table_index[table]
						    : 0;
}

/* ---- identifiers --------------------------------------------------------- */

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

bool nmd_uuid_to_bytes(const char *text, uint8_t out[16])
{
	if (!nomad_uuid_valid(text))
		return false;
	for (int i = 0, n = 0; n < 32; i++) {
		int v;
		if (text[i] == '-')
			continue;
		v = hexval(text[i]);
		if (n % 2 == 0)
			out[n / 2] = (uint8_t)(v << 4);
		else
			out[n / 2] |= (uint8_t)v;
		n++;
	}
	return true;
}

void nmd_uuid_from_bytes(const uint8_t in[16], char out[NOMAD_UUID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[in[i] >> 4];
		out[o++] = hex[in[i] & 15];
	}
	out[o] = '\0';
}

/*
 * Read `p` as the start of a UUID's text, as Nomad matches an ID prefix:
 * hexadecimal digits (either case), at most 32, with a dash allowed where
 * a UUID's text has one (after the 8th, 12th, 16th and 20th digit) and
 * nowhere else. The digits go into out[], zero-padded, and their count
 * into *digits. False for anything else: a prefix of no ID.
 */
static bool parse_id_prefix(const char *p, uint8_t out[16], int *digits)
{
	bool dash_ok = false;
	int n = 0;
	memset(out, 0, 16);
	for (; *p; p++) {
		int v;
		if (*p == '-') {
			if (!dash_ok)
				return false;
			dash_ok = false;
			continue;
		}
		if ((v = hexval(*p)) < 0 || n == 32)
			return false;
		out[n / 2] |= (uint8_t)(n % 2 == 0 ? v << 4 : v);
		n++;
		dash_ok = n == 8 || n == 12 || n == 16 || n == 20;
	}
	*digits = n;
	return true;
}

/* Compare two blobs as SQLite does: bytes first, then length. */
static int blob_cmp(const uint8_t *a, int alen, const uint8_t *b, int blen)
{
	int c = memcmp(a, b, (size_t)(alen < blen ? alen : blen));
	return c ? c : alen - blen;
}

nomad_err nmd_id_range(const nomad_state_list_options *o,
		       struct nmd_id_range *r, nomad_error *err)
{
	uint8_t tok[17];
	int n = 0, tok_digits = 0;
	bool has_tok = o && o->next_token && o->next_token[0];

	memset(r, 0, sizeof(*r));
	r->lo_len = r->hi_len = 16;
	if (o && o->version != NOMAD_STATE_LIST_OPTIONS_VERSION)
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: unknown list options version %u",
				  o->version);
	/* A token is one the listing gave: a whole ID, dashes optional. */
	if (has_tok && (!parse_id_prefix(o->next_token, tok, &tok_digits) ||
			tok_digits != 32))
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: next_token is not an ID: "
				  "next_token=%s", o->next_token);
	/* A prefix no ID can start with matches nothing: the range
	 * [0, 0) is empty, and the listing simply finds no row. */
	if (o && o->prefix && !parse_id_prefix(o->prefix, r->lo, &n)) {
		memset(r->lo, 0, sizeof(r->lo));
		return NOMAD_OK;
	}
	/* hi: lo with its last given nibble incremented, carrying left;
	 * past ff...f (or with no prefix) it lies above every ID. */
	memcpy(r->hi, r->lo, 16);
	r->hi_len = 17;
	for (int i = n - 1; i >= 0; i--) {
		int shift = i % 2 == 0 ? 4 : 0;
		int v = (r->hi[i / 2] >> shift) & 15;
		r->hi[i / 2] &= (uint8_t)~(15 << shift);
		if (v < 15) {
			r->hi[i / 2] |= (uint8_t)((v + 1) << shift);
			r->hi_len = 16;
			break;
		}
	}
	if (r->hi_len == 17)
		memset(r->hi, 0xff, sizeof(r->hi));
	if (!has_tok)
		return NOMAD_OK;
	if (!o->reverse) {
		/* From the token on. */
		if (blob_cmp(tok, 16, r->lo, r->lo_len) > 0)
			memcpy(r->lo, tok, 16);
	} else {
		/* Down from the token, included: below token || 0x00. */
		tok[16] = 0;
		if (blob_cmp(tok, 17, r->hi, r->hi_len) < 0) {
			memcpy(r->hi, tok, 17);
			r->hi_len = 17;
		}
	}
	return NOMAD_OK;
}

/* ---- bodies -------------------------------------------------------------- */

nomad_err nmd_bind_body(nomad_state_txn *txn, sqlite3_stmt *st, int col,
			const ProtobufCMessage *msg, nomad_error *err)
{
	size_t size = protobuf_c_message_get_packed_size(msg);
	nmd_buf_reset(&txn->scratch);
	if (!nmd_buf_reserve(&txn->scratch, size))
		return nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
	txn->scratch.len = protobuf_c_message_pack(msg,
						   (uint8_t *)txn->scratch.data);
	/* Each statement copies its blob, so one scratch buffer serves. */
	if (sqlite3_bind_blob(st, col, txn->scratch.data, (int)txn->scratch.len,
			      SQLITE_TRANSIENT) != SQLITE_OK)
		return nmd_sqlite_fail(txn->c, err, "bind");
	return NOMAD_OK;
}

nomad_err nmd_column_body(nomad_state *s, sqlite3_stmt *st, int col,
			  const ProtobufCMessageDescriptor *desc,
			  ProtobufCMessage **out, nomad_error *err)
{
	const void *data = sqlite3_column_blob(st, col);
	size_t len = (size_t)sqlite3_column_bytes(st, col);
	(void)s;
	return nomad_msg_unpack(out, desc, data ? data : (const void *)"", len,
				NMD_STATE_MSG_ALLOC, err);
}

nomad_err nmd_body_by_id(struct nmd_conn *c, const char *sql,
			 const uint8_t id[16],
			 const ProtobufCMessageDescriptor *desc,
			 ProtobufCMessage **out, nomad_error *err)
{
	sqlite3_stmt *st = nmd_stmt(c, sql, err);
	nomad_err rc = NOMAD_ENOTFOUND;
	int step;
	*out = NULL;
	if (!st)
		return NOMAD_EIO;
	sqlite3_bind_blob(st, 1, id, 16, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
		rc = nmd_column_body(NULL, st, 0, desc, out, err);
	else if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = nmd_sqlite_fail(c, err, "read");
	sqlite3_reset(st);
	return rc;
}

/* ---- paging ------------------------------------------------------------- */

nomad_err nmd_list_rows(nomad_state_snap *snap, sqlite3_stmt *st,
			const ProtobufCMessageDescriptor *desc,
			const nomad_state_list_options *o,
			nomad_state_iter_cb cb, void *ud,
			char next_token[NOMAD_STATE_TOKEN_MAX],
			nomad_error *err)
{
	unsigned per_page = o ? o->per_page : 0, n = 0;
	nomad_err rc = NOMAD_OK;
	char token[NOMAD_STATE_TOKEN_MAX] = "";
	int step;
	/* next_token is written only at the end: the caller may have bound
	 * the same buffer, as the resume token, into `st`. */
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		ProtobufCMessage *m;
		int stop;
		if (per_page && n == per_page) {
			snprintf(token, sizeof(token), "%s",
				 (const char *)sqlite3_column_text(st, 0));
			break;
		}
		if ((rc = nmd_column_body(snap->s, st, 1, desc, &m, err)) < 0)
			break;
		stop = cb(m, ud);
		nmd_pb_free(m, NMD_STATE_MSG_ALLOC);
		n++;
		if (stop) {
			rc = NOMAD_EUSER;
			break;
		}
	}
	if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = nmd_sqlite_fail(snap->c, err, "list");
	sqlite3_reset(st);
	if (next_token)
		memcpy(next_token, token, sizeof(token));
	return rc;
}
