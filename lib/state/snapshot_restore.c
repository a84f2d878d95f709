/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Restoring a snapshot stream (the format is in snapshot_io.c) into a
 * store, all or nothing.
 *
 * The stream is loaded into a scratch database next to the store (path +
 * ".restore"), created with the store's own table definitions, so rows are
 * checked against the schema's constraints on the way in, and the framing
 * is checked record by record as bytes arrive. Only when the trailer's
 * record count and SHA-256 match does the store change: the writer
 * connection attaches the scratch file and, in one transaction under
 * write_lock, empties every table and copies it back from the scratch
 * copy. A failure anywhere before that commit leaves the store as it was.
 * After it, what the handle mirrors of the file is brought along under
 * the same lock: the last index, the hot-table count, the next allocation
 * pk, the key caches, event subscriptions and watches
 * (nmd_changes_restored) and the scheduler view (snapshot_view.c).
 *
 * The callback runs with no lock held (the scratch file is guarded by a
 * flock of its own against a second restore), so a slow stream never
 * holds up writes; they wait only for the final copy.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "core/alloc.h"
#include "core/error.h"
#include "state/snapshot_io.h"

/* Bytes asked of the read callback at a time. */
#define IN_CHUNK (64 * 1024)
/* The scratch database's name in the writer connection. */
#define ATTACH_NAME "nmd_restore"

/* ---- reading the stream ------------------------------------------------- */

struct snap_in {
	nomad_state_read_cb cb;
	void *ud;
	uint8_t *buf;         /* read-ahead */
	size_t pos, len;
	bool eof;
	uint64_t off;         /* stream offset of buf[pos] */
	mbedtls_sha256_context sha;
	bool hashing;
	bool hash_failed;
};

/* Make bytes available, or set eof. */
static nomad_err in_fill(struct snap_in *r, nomad_error *err)
{
	long n;
	if (r->pos < r->len || r->eof)
		return NOMAD_OK;
	r->pos = r->len = 0;
	n = r->cb(r->buf, IN_CHUNK, r->ud);
	if (n < 0 || (unsigned long)n > IN_CHUNK)
		return nmd_seterr(err, NOMAD_EUSER,
				  "state: snapshot read callback returned %ld "
				  "at byte %llu", n, (unsigned long long)r->off);
	if (n == 0)
		r->eof = true;
	r->len = (size_t)n;
	return NOMAD_OK;
}

/* Consume up to `want` bytes (at least one): *p points at them. */
static nomad_err in_next(struct snap_in *r, size_t want, const uint8_t **p,
			 size_t *got, const char *what, nomad_error *err)
{
	nomad_err error;
	size_t n;
	if ((error = in_fill(r, err)) < 0)
		return error;
	if (r->eof)
		return nmd_seterr(err, NOMAD_ECORRUPT,
				  "state: snapshot truncated at byte %llu, "
				  "in %s", (unsigned long long)r->off, what);
	n = r->len - r->pos < want ? r->len - r->pos : want;
	*p = r->buf + r->pos;
	*got = n;
	if (r->hashing && nmd_sha256_update(&r->sha, *p, n) != 0)
		r->hash_failed = true;
	r->pos += n;
	r->off += n;
	return NOMAD_OK;
}

/* Read exactly `n` bytes into `dst`. */
static nomad_err in_read(struct snap_in *r, void *dst, size_t n,
			 const char *what, nomad_error *err)
{
	uint8_t *d = dst;
	while (n) {
		const uint8_t *p = NULL;
		size_t got = 0;
		nomad_err error = in_next(r, n, &p, &got, what, err);
		if (error < 0)
			return error;
		memcpy(d, p, got);
		d += got;
		n -= got;
	}
	return NOMAD_OK;
}

/* Read exactly `n` bytes into `b`, which grows only as bytes arrive: a
 * damaged length costs no more memory than the stream really has. */
static nomad_err in_read_buf(struct snap_in *r, struct nmd_buf *b, size_t n,
			     const char *what, nomad_error *err)
{
	nmd_buf_reset(b);
	while (n) {
		const uint8_t *p = NULL;
		size_t got = 0;
		nomad_err error = in_next(r, n, &p, &got, what, err);
		if (error < 0)
			return error;
		nmd_buf_append(b, p, got);
		if (b->oom)
			return nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
		n -= got;
	}
	return NOMAD_OK;
}

/* ---- parsing records ---------------------------------------------------- */

struct restore {
	nomad_state *s;
	nomad_error *err;
	struct snap_in in;
	struct nmd_snap_tables tables;
	sqlite3 *db;              /* the scratch database */
	sqlite3_stmt *insert;     /* into `cur` */
	struct nmd_snap_table *cur;
	struct nmd_buf rec;       /* the payload being parsed */
	uint64_t rec_off;         /* where its record starts */
	uint64_t index;
	uint64_t records;
	uint64_t rows;
	nomad_state_txn vt;       /* carries the view's deltas (replace) */
};

/* A cursor over a record's payload. */
struct cur {
	const uint8_t *p;
	size_t n, at;
	uint64_t base;            /* stream offset of p[0] */
};

static const uint8_t *cur_take(struct cur *c, size_t n)
{
	const uint8_t *p;
	if (c->n - c->at < n)
		return NULL;
	p = c->p + c->at;
	c->at += n;
	return p;
}

static nomad_err framing(struct restore *rs, const struct cur *c,
			 const char *what)
{
	return nmd_seterr(rs->err, NOMAD_ECORRUPT,
			  "state: snapshot has bad framing at byte %llu (record "
			  "at byte %llu): %s",
			  (unsigned long long)(c->base + c->at),
			  (unsigned long long)rs->rec_off, what);
}

/* A u16-length name: *name points into the payload. */
static bool cur_name(struct cur *c, const char **name, size_t *len)
{
	const uint8_t *p = cur_take(c, 2);
	if (!p)
		return false;
	*len = nmd_snap_get16(p);
	*name = (const char *)cur_take(c, *len);
	return *name != NULL;
}

static bool name_is(const char *name, size_t len, const char *want)
{
	return strlen(want) == len && memcmp(name, want, len) == 0;
}

/* The insert for the rows of `t` into the scratch database. */
static nomad_err prepare_insert(struct restore *rs,
				const struct nmd_snap_table *t)
{
	size_t n_cols = t->n_cols + t->rowid;
	struct nmd_buf sql;
	nomad_err error = NOMAD_OK;

	sqlite3_finalize(rs->insert);
	rs->insert = NULL;
	nmd_buf_init(&sql, rs->s->ctx.alloc);
	nmd_buf_puts(&sql, "INSERT INTO main.");
	nmd_snap_put_ident(&sql, t->name);
	nmd_buf_puts(&sql, "(");
	nmd_snap_put_cols(&sql, t, "");
	nmd_buf_puts(&sql, ") VALUES(?");
	for (size_t i = 1; i < n_cols; i++)
		nmd_buf_puts(&sql, ", ?");
	nmd_buf_puts(&sql, ")");
	if (sql.oom)
		error = nmd_seterr(rs->err, NOMAD_ENOMEM, "state: out of memory");
	else if (sqlite3_prepare_v2(rs->db, sql.data, (int)sql.len,
				    &rs->insert, NULL) != SQLITE_OK)
		error = nmd_seterr(rs->err, NOMAD_EIO,
				   "state: snapshot restore: prepare: %s",
				   sqlite3_errmsg(rs->db));
	nmd_buf_free(&sql);
	return error;
}

/* A table record: the table must be in the schema, once, with exactly the
 * columns this store would write. Prepares the insert for its rows. */
static nomad_err table_record(struct restore *rs, struct cur *c)
{
	const char *name;
	size_t len, n_cols;
	struct nmd_snap_table *t;
	const uint8_t *p;

	if (!cur_name(c, &name, &len))
		return framing(rs, c, "the table name runs past the record");
	if (!(t = nmd_snap_table_find(&rs->tables, name, len)))
		return nmd_seterr(rs->err, NOMAD_ECORRUPT,
				  "state: snapshot names table \"%.*s\" (record "
				  "at byte %llu), which this store's schema "
				  "does not have", (int)(len > 64 ? 64 : len),
				  name, (unsigned long long)rs->rec_off);
	if (t->seen)
		return nmd_seterr(rs->err, NOMAD_ECORRUPT,
				  "state: snapshot has table %s twice (record "
				  "at byte %llu)", t->name,
				  (unsigned long long)rs->rec_off);
	if (!(p = cur_take(c, 2)))
		return framing(rs, c, "the column count runs past the record");
	n_cols = nmd_snap_get16(p);
	if (n_cols != t->n_cols + t->rowid)
		return nmd_seterr(rs->err, NOMAD_ECORRUPT,
				  "state: snapshot table %s has %zu columns "
				  "(record at byte %llu), this store's has %zu",
				  t->name, n_cols,
				  (unsigned long long)rs->rec_off,
				  t->n_cols + t->rowid);
	for (size_t i = 0; i < n_cols; i++) {
		const char *want = t->rowid ? (i ? t->cols[i - 1] : "rowid")
					    : t->cols[i];
		if (!cur_name(c, &name, &len))
			return framing(rs, c, "a column name runs past the record");
		if (!name_is(name, len, want))
			return nmd_seterr(rs->err, NOMAD_ECORRUPT,
					  "state: snapshot table %s has column "
					  "%zu named \"%.*s\" (record at byte "
					  "%llu), this store's is \"%s\"",
					  t->name, i,
					  (int)(len > 64 ? 64 : len), name,
					  (unsigned long long)rs->rec_off, want);
	}
	if (c->at != c->n)
		return framing(rs, c, "bytes left over after the columns");
	t->seen = true;
	rs->cur = t;
	return prepare_insert(rs, t);
}

/* Bind the next value of a row record to parameter `i`. The bound bytes
 * point into rs->rec, which stays put until the row is inserted. */
static nomad_err bind_value(struct restore *rs, struct cur *c, int i)
{
	const uint8_t *p = cur_take(c, 1), *v;
	uint64_t bits;
	uint32_t len;
	double d;

	if (!p)
		return framing(rs, c, "fewer values than the table has columns");
	switch (*p) {
	case NMD_SNAP_NULL:
		sqlite3_bind_null(rs->insert, i);
		return NOMAD_OK;
	case NMD_SNAP_INT:
	case NMD_SNAP_REAL:
		if (!(v = cur_take(c, 8)))
			return framing(rs, c, "a number runs past the record");
		bits = nmd_snap_get64(v);
		if (*p == NMD_SNAP_INT) {
			sqlite3_bind_int64(rs->insert, i, (sqlite3_int64)bits);
		} else {
			memcpy(&d, &bits, sizeof(d));
			sqlite3_bind_double(rs->insert, i, d);
		}
		return NOMAD_OK;
	case NMD_SNAP_TEXT:
	case NMD_SNAP_BLOB:
		if (!(v = cur_take(c, 4)))
			return framing(rs, c, "a length runs past the record");
		len = nmd_snap_get32(v);
		if (!(v = cur_take(c, len)))
			return framing(rs, c, "a value runs past the record");
		if (*p == NMD_SNAP_TEXT)
			sqlite3_bind_text64(rs->insert, i, (const char *)v, len,
					    SQLITE_STATIC, SQLITE_UTF8);
		else if (len == 0)
			sqlite3_bind_zeroblob(rs->insert, i, 0);
		else
			sqlite3_bind_blob64(rs->insert, i, v, len, SQLITE_STATIC);
		return NOMAD_OK;
	default:
		c->at--;
		return framing(rs, c, "unknown value type");
	}
}

static nomad_err row_record(struct restore *rs, struct cur *c)
{
	size_t n_cols;
	nomad_err error;
	int rc;

	if (!rs->cur)
		return framing(rs, c, "a row before any table record");
	n_cols = rs->cur->n_cols + rs->cur->rowid;
	sqlite3_reset(rs->insert);
	sqlite3_clear_bindings(rs->insert);
	for (size_t i = 0; i < n_cols; i++)
		if ((error = bind_value(rs, c, (int)i + 1)) < 0)
			return error;
	if (c->at != c->n)
		return framing(rs, c, "more values than the table has columns");
	rc = sqlite3_step(rs->insert);
	sqlite3_reset(rs->insert);
	if (rc == SQLITE_DONE) {
		rs->rows++;
		return NOMAD_OK;
	}
	/* A row the schema refuses is damage in the stream; anything else
	 * (a full disk) is the scratch file's trouble. */
	rc = sqlite3_errcode(rs->db);
	return nmd_seterr(rs->err,
			  rc == SQLITE_CONSTRAINT || rc == SQLITE_MISMATCH ||
					  rc == SQLITE_TOOBIG ||
					  rc == SQLITE_RANGE
				  ? NOMAD_ECORRUPT
				  : NOMAD_EIO,
			  "state: snapshot row at byte %llu does not fit table "
			  "%s: %s", (unsigned long long)rs->rec_off,
			  rs->cur->name, sqlite3_errmsg(rs->db));
}

static nomad_err read_header(struct restore *rs)
{
	uint8_t h[NMD_SNAP_HEADER_LEN];
	uint32_t format, schema;
	nomad_err error = in_read(&rs->in, h, sizeof(h), "the header", rs->err);
	if (error < 0)
		return error;
	if (memcmp(h, NMD_SNAP_MAGIC, NMD_SNAP_MAGIC_LEN) != 0)
		return nmd_seterr(rs->err, NOMAD_ECORRUPT,
				  "state: not a snapshot: bad magic at byte 0 "
				  "(want \"%s\")", NMD_SNAP_MAGIC);
	if ((format = nmd_snap_get32(h + 8)) != NMD_SNAP_FORMAT)
		return nmd_seterr(rs->err, NOMAD_ECORRUPT,
				  "state: snapshot format version %u at byte 8 "
				  "is unknown (this library reads %d)", format,
				  NMD_SNAP_FORMAT);
	if ((schema = nmd_snap_get32(h + 12)) != NMD_STATE_SCHEMA_VERSION)
		return nmd_seterr(rs->err, NOMAD_ECORRUPT,
				  "state: snapshot schema version %u at byte 12 "
				  "does not match this store's %d", schema,
				  NMD_STATE_SCHEMA_VERSION);
	rs->index = nmd_snap_get64(h + 16);
	return NOMAD_OK;
}

/* The trailer after its kind byte: count, checksum, then the end. */
static nomad_err read_trailer(struct restore *rs)
{
	uint8_t count[8], digest[NMD_SNAP_DIGEST_LEN], want[NMD_SNAP_DIGEST_LEN];
	nomad_err error;
	if ((error = in_read(&rs->in, count, 8, "the trailer", rs->err)) < 0)
		return error;
	rs->in.hashing = false;
	if (nmd_sha256_finish(&rs->in.sha, want) != 0 || rs->in.hash_failed)
		return nmd_seterr(rs->err, NOMAD_ERROR, "state: sha-256 failed");
	if ((error = in_read(&rs->in, digest, sizeof(digest), "the trailer",
			     rs->err)) < 0)
		return error;
	if (memcmp(digest, want, sizeof(want)) != 0)
		return nmd_seterr(rs->err, NOMAD_ECORRUPT,
				  "state: snapshot checksum mismatch (trailer at "
				  "byte %llu): the stream is damaged",
				  (unsigned long long)rs->rec_off);
	if (nmd_snap_get64(count) != rs->records)
		return nmd_seterr(rs->err, NOMAD_ECORRUPT,
				  "state: snapshot trailer at byte %llu counts "
				  "%llu records, the stream has %llu",
				  (unsigned long long)rs->rec_off,
				  (unsigned long long)nmd_snap_get64(count),
				  (unsigned long long)rs->records);
	if ((error = in_fill(&rs->in, rs->err)) < 0)
		return error;
	if (!rs->in.eof)
		return nmd_seterr(rs->err, NOMAD_ECORRUPT,
				  "state: snapshot has data after its trailer, "
				  "at byte %llu", (unsigned long long)rs->in.off);
	return NOMAD_OK;
}

/* Header, records, trailer: everything checked, rows in the scratch db. */
static nomad_err read_stream(struct restore *rs)
{
	nomad_err error;
	if ((error = read_header(rs)) < 0)
		return error;
	for (;;) {
		uint8_t head[5];
		uint32_t len;
		struct cur c;
		rs->rec_off = rs->in.off;
		if ((error = in_read(&rs->in, head, 1,
				     "a record or the trailer", rs->err)) < 0)
			return error;
		if (head[0] == NMD_SNAP_END)
			return read_trailer(rs);
		if (head[0] != NMD_SNAP_TABLE && head[0] != NMD_SNAP_ROW)
			return nmd_seterr(rs->err, NOMAD_ECORRUPT,
					  "state: snapshot has bad framing at "
					  "byte %llu: unknown record kind 0x%02x",
					  (unsigned long long)rs->rec_off, head[0]);
		if ((error = in_read(&rs->in, head + 1, 4, "a record length",
				     rs->err)) < 0)
			return error;
		if ((len = nmd_snap_get32(head + 1)) > NMD_SNAP_RECORD_MAX)
			return nmd_seterr(rs->err, NOMAD_ECORRUPT,
					  "state: snapshot has bad framing at "
					  "byte %llu: a record of %u bytes",
					  (unsigned long long)rs->rec_off + 1, len);
		if ((error = in_read_buf(&rs->in, &rs->rec, len,
					 head[0] == NMD_SNAP_ROW ? "a row record"
								 : "a table record",
					 rs->err)) < 0)
			return error;
		c = (struct cur){(const uint8_t *)rs->rec.data, len, 0,
				 rs->rec_off + 5};
		error = head[0] == NMD_SNAP_ROW ? row_record(rs, &c)
						: table_record(rs, &c);
		if (error < 0)
			return error;
		rs->records++;
	}
}

/* ---- the scratch database ------------------------------------------------ */

static nomad_err scratch_fail(struct restore *rs, const char *what)
{
	return nmd_seterr(rs->err, NOMAD_EIO,
			  "state: snapshot restore: %s: %s", what,
			  rs->db ? sqlite3_errmsg(rs->db) : "out of memory");
}

/* Create the scratch database with the store's tables (no indexes: the
 * constraints are in the tables, and inserts go faster without). Nothing
 * in it needs to survive a crash, hence no journal and no syncing. */
static nomad_err scratch_open(struct restore *rs, const char *path)
{
	if (sqlite3_open_v2(path, &rs->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK)
		return scratch_fail(rs, "open scratch file");
	if (sqlite3_exec(rs->db,
			 "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;"
			 "PRAGMA cache_size=-16384; PRAGMA temp_store=MEMORY;",
			 NULL, NULL, NULL) != SQLITE_OK)
		return scratch_fail(rs, "configure scratch file");
	for (size_t i = 0; i < rs->tables.n; i++)
		if (sqlite3_exec(rs->db, rs->tables.t[i].sql, NULL, NULL,
				 NULL) != SQLITE_OK)
			return scratch_fail(rs, "create table");
	if (sqlite3_exec(rs->db, "BEGIN;", NULL, NULL, NULL) != SQLITE_OK)
		return scratch_fail(rs, "begin");
	return NOMAD_OK;
}

/* The store's tables, as a snapshot sees them (the writer belongs to
 * whoever holds write_lock). */
static nomad_err load_schema(struct restore *rs)
{
	nomad_state_snap *snap;
	nomad_err error = nomad_state_snapshot(rs->s, &snap, rs->err);
	if (error < 0)
		return error;
	error = nmd_snap_tables_load(snap->c, rs->s->ctx.alloc, &rs->tables,
				     rs->err);
	nomad_state_snap_close(snap);
	return error;
}

static nomad_err writer_exec(struct nmd_conn *c, const char *sql,
			     nomad_error *err, const char *what)
{
	if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return nmd_sqlite_fail(c, err, what);
	return NOMAD_OK;
}

/* Inside the writer's transaction: every table emptied and copied back
 * from the attached scratch database, then the last index. */
static nomad_err copy_tables(struct restore *rs, struct nmd_conn *c)
{
	struct nmd_buf sql;
	nomad_err error = NOMAD_OK;
	nmd_buf_init(&sql, rs->s->ctx.alloc);
	for (size_t i = 0; i < rs->tables.n && error == NOMAD_OK; i++) {
		const struct nmd_snap_table *t = &rs->tables.t[i];
		nmd_buf_reset(&sql);
		nmd_buf_puts(&sql, "DELETE FROM main.");
		nmd_snap_put_ident(&sql, t->name);
		nmd_buf_puts(&sql, "; INSERT INTO main.");
		nmd_snap_put_ident(&sql, t->name);
		nmd_buf_puts(&sql, "(");
		nmd_snap_put_cols(&sql, t, "");
		nmd_buf_puts(&sql, ") SELECT ");
		nmd_snap_put_cols(&sql, t, "");
		nmd_buf_puts(&sql, " FROM " ATTACH_NAME ".");
		nmd_snap_put_ident(&sql, t->name);
		if (sql.oom)
			error = nmd_seterr(rs->err, NOMAD_ENOMEM,
					   "state: out of memory");
		else
			error = writer_exec(c, sql.data, rs->err, "restore table");
	}
	nmd_buf_free(&sql);
	if (error == NOMAD_OK)
		error = nmd_meta_set(c, "last_index", (int64_t)rs->index, rs->err);
	return error;
}

/* ---- replacing the store's content ----------------------------------------- */

/* What struct nomad_state mirrors of the file, read again after the
 * content changed under it. Called with write_lock held. */
static void reload_memory(struct restore *rs, struct nmd_conn *c)
{
	static const char sql_hot[] = "SELECT count(*) FROM main.allocs_hot";
	nomad_state *s = rs->s;
	sqlite3_stmt *st = nmd_stmt(c, sql_hot, NULL);
	int64_t pk = 1;
	bool found = false;
	s->last_index = rs->index;
	s->hot_count = 0;
	if (st && sqlite3_step(st) == SQLITE_ROW)
		s->hot_count = (uint64_t)sqlite3_column_int64(st, 0);
	if (st)
		sqlite3_reset(st);
	if (nmd_meta_get(c, "alloc_pk", &pk, &found, NULL) < 0 || !found)
		pk = 1;
	s->next_alloc_pk = (uint64_t)pk;
	nmd_keycache_clear(&s->node_pks);
	nmd_keycache_clear(&s->job_keys);
	nmd_keycache_clear(&s->job_versions);
	/* Subscriptions end, watches fire, the view takes its deltas. */
	nmd_changes_restored(s);
	nmd_view_commit(&rs->vt);
}

static nomad_err replace(struct restore *rs, const char *path)
{
	nomad_state *s = rs->s;
	struct nmd_conn *c = &s->writer;
	sqlite3_stmt *st = NULL;
	nomad_err error = NOMAD_OK;
	int triggers = 1;

	pthread_mutex_lock(&s->write_lock);
	/* ATTACH is refused inside a transaction: it comes first. */
	if (sqlite3_prepare_v2(c->db, "ATTACH DATABASE ?1 AS " ATTACH_NAME, -1,
			       &st, NULL) != SQLITE_OK) {
		error = nmd_sqlite_fail(c, rs->err, "attach");
		goto unlock;
	}
	sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		error = nmd_sqlite_fail(c, rs->err, "attach");
	sqlite3_finalize(st);
	if (error < 0)
		goto unlock;
	/* Rows are copied whole: a trigger must not act on them twice. */
	sqlite3_db_config(c->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, -1, &triggers);
	sqlite3_db_config(c->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, 0, NULL);
	if ((error = writer_exec(c, "BEGIN IMMEDIATE;", rs->err, "begin")) < 0)
		goto detach;
	rs->vt.s = s;
	rs->vt.c = c;
	rs->vt.index = rs->index;
	if ((error = writer_exec(c, "PRAGMA defer_foreign_keys=ON;", rs->err,
				 "restore")) < 0 ||
	    (s->view && (error = nmd_snap_view_forget(&rs->vt, c, rs->err)) < 0) ||
	    (error = copy_tables(rs, c)) < 0 ||
	    (s->view && (error = nmd_snap_view_learn(&rs->vt, c, rs->err)) < 0) ||
	    (error = writer_exec(c, "COMMIT;", rs->err, "commit")) < 0) {
		sqlite3_exec(c->db, "ROLLBACK;", NULL, NULL, NULL);
		nmd_view_discard(&rs->vt);
	} else {
		reload_memory(rs, c);
	}
detach:
	sqlite3_db_config(c->db, SQLITE_DBCONFIG_ENABLE_TRIGGER, triggers, NULL);
	if (sqlite3_exec(c->db, "DETACH DATABASE " ATTACH_NAME ";", NULL, NULL,
			 NULL) != SQLITE_OK)
		nmd_log(&s->ctx, NOMAD_LOG_WARN, "state",
			"snapshot restore: detach: %s", sqlite3_errmsg(c->db));
unlock:
	pthread_mutex_unlock(&s->write_lock);
	/* As after a commit: ready callbacks run with no lock held, and the
	 * subscriptions they read from are now closed. */
	if (error == NOMAD_OK)
		nmd_events_notify(s, rs->index);
	return error;
}

/* ---- the entry point ---------------------------------------------------- */

/* Take the scratch file for this restore: a flock on it tells a second
 * restore (in this process or another) that the file is in use, and what
 * a crashed restore left behind is cleared. */
static nomad_err scratch_lock(struct restore *rs, const char *path, int *fd)
{
	static const char *const sides[] = {"-journal", "-wal", "-shm"};
	char side[4096];
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0)
		return nmd_seterr(rs->err, NOMAD_EIO,
				  "state: snapshot restore: cannot create %s: %s",
				  path, strerror(errno));
	if (flock(*fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		close(*fd);
		*fd = -1;
		if (e == EWOULDBLOCK)
			return nmd_seterr(rs->err, NOMAD_ECONFLICT,
					  "state: another snapshot restore is "
					  "using %s", path);
		return nmd_seterr(rs->err, NOMAD_EIO,
				  "state: snapshot restore: cannot lock %s: %s",
				  path, strerror(e));
	}
	if (ftruncate(*fd, 0) < 0)
		return nmd_seterr(rs->err, NOMAD_EIO,
				  "state: snapshot restore: cannot truncate %s: "
				  "%s", path, strerror(errno));
	for (size_t i = 0; i < sizeof(sides) / sizeof(*sides); i++)
		if (snprintf(side, sizeof(side), "%s%s", path, sides[i]) <
		    (int)sizeof(side))
			unlink(side);
	return NOMAD_OK;
}

static void scratch_remove(const char *path, int fd)
{
	char side[4096];
	if (fd < 0)
		return;
	unlink(path);
	if (snprintf(side, sizeof(side), "%s-journal", path) < (int)sizeof(side))
		unlink(side);
	/* Closing drops the flock; the file is already gone. */
	close(fd);
}

nomad_err nomad_state_snapshot_restore(nomad_state *s, nomad_state_read_cb cb,
				       void *userdata, nomad_error *err)
{
	struct restore rs = {0};
	nomad_error local = {0};
	char *path = NULL;
	size_t plen;
	int fd = -1;
	nomad_err error;

	if (!s || !cb)
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: snapshot restore needs a store and a "
				  "callback");
	/* The message is logged at the end too, so keep one. */
	rs.err = err ? err : &local;
	rs.s = s;
	rs.in.cb = cb;
	rs.in.ud = userdata;
	rs.in.hashing = true;
	nmd_buf_init(&rs.rec, s->ctx.alloc);
	mbedtls_sha256_init(&rs.in.sha);
	plen = strlen(s->path) + sizeof(".restore");
	if (!(path = nmd_malloc(s->ctx.alloc, plen)) ||
	    !(rs.in.buf = nmd_malloc(s->ctx.alloc, IN_CHUNK))) {
		error = nmd_seterr(rs.err, NOMAD_ENOMEM, "state: out of memory");
		goto done;
	}
	snprintf(path, plen, "%s.restore", s->path);
	if (nmd_sha256_starts(&rs.in.sha) != 0) {
		error = nmd_seterr(rs.err, NOMAD_ERROR, "state: sha-256 failed");
		goto done;
	}
	if ((error = scratch_lock(&rs, path, &fd)) < 0 ||
	    (error = load_schema(&rs)) < 0 ||
	    (error = scratch_open(&rs, path)) < 0 ||
	    (error = read_stream(&rs)) < 0)
		goto done;
	sqlite3_finalize(rs.insert);
	rs.insert = NULL;
	if (sqlite3_exec(rs.db, "COMMIT;", NULL, NULL, NULL) != SQLITE_OK) {
		error = scratch_fail(&rs, "commit");
		goto done;
	}
	sqlite3_close(rs.db);
	rs.db = NULL;
	if ((error = replace(&rs, path)) < 0)
		goto done;
	nmd_log(&s->ctx, NOMAD_LOG_INFO, "state",
		"restored snapshot at index %llu: %llu rows",
		(unsigned long long)rs.index, (unsigned long long)rs.rows);
done:
	if (error < 0)
		nmd_log(&s->ctx, NOMAD_LOG_ERROR, "state",
			"snapshot restore failed, store unchanged: %s",
			rs.err->message);
	sqlite3_finalize(rs.insert);
	sqlite3_close(rs.db);
	if (path)
		scratch_remove(path, fd);
	mbedtls_sha256_free(&rs.in.sha);
	nmd_snap_tables_free(&rs.tables);
	nmd_buf_free(&rs.rec);
	nmd_free(s->ctx.alloc, rs.in.buf);
	nmd_free(s->ctx.alloc, path);
	return error;
}
