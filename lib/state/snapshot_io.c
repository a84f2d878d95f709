/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Snapshot streams: the whole store as bytes, for Raft snapshots and
 * `operator snapshot save/restore`. This file holds the format, the list
 * of tables a stream covers, and saving; snapshot_restore.c reads a stream
 * back.
 *
 * The stream covers every table in the store's schema, found by reading
 * sqlite_schema (sqlite_* and virtual tables aside), so a table added to
 * the schema is carried without touching this code. Rows are copied
 * column by column with their SQLite types, never decoded.
 *
 * Format, version 1. Integers are big-endian and unsigned unless noted;
 * offsets are from the start of the stream.
 *
 *   header, 24 bytes
 *     0   8  magic "NOMADSNP"
 *     8   4  format version (1)
 *    12   4  schema version of the store (NMD_STATE_SCHEMA_VERSION)
 *    16   8  index: the last write the stream holds
 *   records, each
 *         1  kind: 'T' a table, 'R' a row of the last table named
 *         4  payload length n (at most 2^31 - 1)
 *         n  payload
 *     'T' payload: u16 length + table name; u16 column count c; then c
 *         times u16 length + column name. The columns are the table's in
 *         declaration order, preceded by one named "rowid" for a rowid
 *         table whose rowid is not a column (no INTEGER PRIMARY KEY).
 *         Every table of the schema has one, in name order, even when
 *         empty.
 *     'R' payload: c values, each a u8 type then
 *         0 NULL       nothing
 *         1 INTEGER    8 bytes, two's complement
 *         2 REAL       8 bytes, IEEE 754 binary64
 *         3 TEXT       u32 length + UTF-8 bytes
 *         4 BLOB       u32 length + bytes
 *   trailer, 41 bytes
 *         1  kind 'E'
 *         8  record count: the 'T' and 'R' records before it
 *        32  SHA-256 of every byte before these 32
 *   and nothing after it.
 *
 * A reader rejects a stream that breaks any of this. The kind and length
 * of each record come first so a reader can check the framing as bytes
 * arrive, before the checksum can be checked at the end.
 */
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/error.h"
#include "state/snapshot_io.h"

/* Bytes handed to the write callback at a time. */
#define OUT_CHUNK (64 * 1024)

/* ---- the tables of the schema ----------------------------------------- */

void nmd_snap_tables_free(struct nmd_snap_tables *ts)
{
	for (size_t i = 0; i < ts->n; i++) {
		struct nmd_snap_table *t = &ts->t[i];
		for (size_t j = 0; j < t->n_cols; j++)
			nmd_free(ts->alloc, t->cols[j]);
		nmd_free(ts->alloc, t->cols);
		nmd_free(ts->alloc, t->name);
		nmd_free(ts->alloc, t->sql);
	}
	nmd_free(ts->alloc, ts->t);
	ts->t = NULL;
	ts->n = 0;
}

struct nmd_snap_table *nmd_snap_table_find(struct nmd_snap_tables *ts,
					   const char *name, size_t len)
{
	for (size_t i = 0; i < ts->n; i++)
		if (strlen(ts->t[i].name) == len &&
		    memcmp(ts->t[i].name, name, len) == 0)
			return &ts->t[i];
	return NULL;
}

/* Read the columns of `t`, and whether its rowid needs carrying: a rowid
 * table keeps its rowid in a column only when that column is its one
 * INTEGER PRIMARY KEY. */
static nomad_err load_columns(struct nmd_conn *c, const nomad_allocator *a,
			      struct nmd_snap_table *t, nomad_error *err)
{
	static const char sql_cols[] =
		"SELECT name, type, pk FROM pragma_table_info(?1, 'main') "
		"ORDER BY cid";
	static const char sql_wr[] =
		"SELECT wr FROM pragma_table_list WHERE schema = 'main' "
		"AND name = ?1";
	sqlite3_stmt *st;
	int rc, n_pk = 0;
	bool int_pk = false, without_rowid = false;

	if (!(st = nmd_stmt(c, sql_cols, err)))
		return NOMAD_EIO;
	sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *type = (const char *)sqlite3_column_text(st, 1);
		char *name = nmd_strdup(a, (const char *)sqlite3_column_text(st, 0));
		void *grown = nmd_reallocarray(a, t->cols, t->n_cols + 1,
					       sizeof(*t->cols));
		if (!name || !grown) {
			nmd_free(a, name);
			if (grown)
				t->cols = grown;
			sqlite3_reset(st);
			return nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
		}
		t->cols = grown;
		t->cols[t->n_cols++] = name;
		if (sqlite3_column_int(st, 2) > 0) {
			n_pk++;
			int_pk = type && strcasecmp(type, "INTEGER") == 0;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return nmd_sqlite_fail(c, err, "read table columns");

	if (!(st = nmd_stmt(c, sql_wr, err)))
		return NOMAD_EIO;
	sqlite3_bind_text(st, 1, t->name, -1, SQLITE_STATIC);
	if ((rc = sqlite3_step(st)) == SQLITE_ROW)
		without_rowid = sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return nmd_sqlite_fail(c, err, "read table list");
	t->rowid = !without_rowid && !(n_pk == 1 && int_pk);
	return NOMAD_OK;
}

nomad_err nmd_snap_tables_load(struct nmd_conn *c, const nomad_allocator *a,
			       struct nmd_snap_tables *out, nomad_error *err)
{
	static const char sql[] =
		"SELECT name, sql FROM main.sqlite_schema WHERE type = 'table' "
		"AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
		"AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name";
	sqlite3_stmt *st;
	nomad_err error = NOMAD_OK;
	int rc;

	out->alloc = a;
	out->t = NULL;
	out->n = 0;
	if (!(st = nmd_stmt(c, sql, err)))
		return NOMAD_EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct nmd_snap_table *grown =
			nmd_reallocarray(a, out->t, out->n + 1, sizeof(*out->t));
		if (!grown) {
			error = nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
			break;
		}
		out->t = grown;
		memset(&out->t[out->n], 0, sizeof(out->t[0]));
		out->t[out->n].name =
			nmd_strdup(a, (const char *)sqlite3_column_text(st, 0));
		out->t[out->n].sql =
			nmd_strdup(a, (const char *)sqlite3_column_text(st, 1));
		out->n++;
		if (!out->t[out->n - 1].name || !out->t[out->n - 1].sql) {
			error = nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
			break;
		}
	}
	sqlite3_reset(st);
	if (error == NOMAD_OK && rc != SQLITE_DONE)
		error = nmd_sqlite_fail(c, err, "read schema");
	for (size_t i = 0; error == NOMAD_OK && i < out->n; i++)
		error = load_columns(c, a, &out->t[i], err);
	if (error < 0)
		nmd_snap_tables_free(out);
	return error;
}

void nmd_snap_put_ident(struct nmd_buf *b, const char *name)
{
	nmd_buf_putc(b, '"');
	for (const char *p = name; *p; p++) {
		if (*p == '"')
			nmd_buf_putc(b, '"');
		nmd_buf_putc(b, *p);
	}
	nmd_buf_putc(b, '"');
}

void nmd_snap_put_cols(struct nmd_buf *b, const struct nmd_snap_table *t,
		       const char *qual)
{
	if (t->rowid) {
		nmd_buf_puts(b, qual);
		nmd_buf_puts(b, "rowid");
	}
	for (size_t i = 0; i < t->n_cols; i++) {
		if (i > 0 || t->rowid)
			nmd_buf_puts(b, ", ");
		nmd_buf_puts(b, qual);
		nmd_snap_put_ident(b, t->cols[i]);
	}
}

/* ---- saving ------------------------------------------------------------- */

struct snap_out {
	nomad_state_snap *snap;
	nomad_state_write_cb cb;
	void *ud;
	struct nmd_buf out;  /* bytes not yet handed to cb */
	struct nmd_buf rec;  /* the payload of the record being built */
	mbedtls_sha256_context sha;
	uint64_t off;        /* bytes handed to cb so far */
	uint64_t records;
	bool hash_failed;
};

/* Hand full chunks to the callback; with `all`, the rest too. */
static nomad_err out_flush(struct snap_out *o, bool all, nomad_error *err)
{
	size_t done = 0;
	while (o->out.len - done >= OUT_CHUNK || (all && o->out.len > done)) {
		size_t n = o->out.len - done;
		int stop;
		if (n > OUT_CHUNK)
			n = OUT_CHUNK;
		if ((stop = o->cb(o->out.data + done, n, o->ud)) != 0) {
			return nmd_seterr(err, NOMAD_EUSER,
					  "state: snapshot write callback "
					  "returned %d at byte %llu", stop,
					  (unsigned long long)o->off);
		}
		done += n;
		o->off += n;
	}
	if (done) {
		memmove(o->out.data, o->out.data + done, o->out.len - done);
		o->out.len -= done;
	}
	return NOMAD_OK;
}

/* Append bytes to the stream; `hashed` unless they are the checksum. */
static nomad_err out_put(struct snap_out *o, const void *data, size_t len,
			 bool hashed, nomad_error *err)
{
	if (hashed && nmd_sha256_update(&o->sha, data, len) != 0)
		o->hash_failed = true;
	nmd_buf_append(&o->out, data, len);
	if (o->out.oom)
		return nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
	return o->out.len >= OUT_CHUNK ? out_flush(o, false, err) : NOMAD_OK;
}

/* Append the record built in o->rec, with its kind and length. */
static nomad_err out_record(struct snap_out *o, uint8_t kind, nomad_error *err)
{
	uint8_t head[5];
	nomad_err error;
	if (o->rec.oom)
		return nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
	if (o->rec.len > NMD_SNAP_RECORD_MAX)
		return nmd_seterr(err, NOMAD_ERANGE,
				  "state: a snapshot record of %zu bytes is "
				  "over the format's limit", o->rec.len);
	head[0] = kind;
	nmd_snap_be32(head + 1, (uint32_t)o->rec.len);
	if ((error = out_put(o, head, sizeof(head), true, err)) < 0 ||
	    (error = out_put(o, o->rec.data, o->rec.len, true, err)) < 0)
		return error;
	o->records++;
	return NOMAD_OK;
}

static void rec_put_name(struct nmd_buf *b, const char *name)
{
	uint8_t len[2];
	size_t n = strlen(name);
	nmd_snap_be16(len, (uint16_t)n);
	nmd_buf_append(b, len, 2);
	nmd_buf_append(b, name, n);
}

static nomad_err put_table_record(struct snap_out *o,
				  const struct nmd_snap_table *t,
				  nomad_error *err)
{
	uint8_t n[2];
	/* SQLite's identifiers are far below 64 KiB in any real schema; a
	 * longer one cannot be framed. */
	if (strlen(t->name) > UINT16_MAX || t->n_cols + t->rowid > UINT16_MAX)
		return nmd_seterr(err, NOMAD_ERANGE,
				  "state: table %.64s does not fit a snapshot",
				  t->name);
	for (size_t i = 0; i < t->n_cols; i++)
		if (strlen(t->cols[i]) > UINT16_MAX)
			return nmd_seterr(err, NOMAD_ERANGE,
					  "state: a column of table %s does "
					  "not fit a snapshot", t->name);
	nmd_buf_reset(&o->rec);
	rec_put_name(&o->rec, t->name);
	nmd_snap_be16(n, (uint16_t)(t->n_cols + t->rowid));
	nmd_buf_append(&o->rec, n, 2);
	if (t->rowid)
		rec_put_name(&o->rec, "rowid");
	for (size_t i = 0; i < t->n_cols; i++)
		rec_put_name(&o->rec, t->cols[i]);
	return out_record(o, NMD_SNAP_TABLE, err);
}

/* Encode column `i` of the current row into o->rec. */
static void rec_put_value(struct nmd_buf *b, sqlite3_stmt *st, int i)
{
	uint8_t v[9];
	int type = sqlite3_column_type(st, i);
	const void *data;
	size_t len;
	switch (type) {
	case SQLITE_INTEGER:
		v[0] = NMD_SNAP_INT;
		nmd_snap_be64(v + 1, (uint64_t)sqlite3_column_int64(st, i));
		nmd_buf_append(b, v, 9);
		return;
	case SQLITE_FLOAT: {
		double d = sqlite3_column_double(st, i);
		uint64_t bits;
		memcpy(&bits, &d, sizeof(bits));
		v[0] = NMD_SNAP_REAL;
		nmd_snap_be64(v + 1, bits);
		nmd_buf_append(b, v, 9);
		return;
	}
	case SQLITE_TEXT:
	case SQLITE_BLOB:
		/* The pointer first, then the size, as SQLite asks. */
		data = type == SQLITE_TEXT ? (const void *)sqlite3_column_text(st, i)
					   : sqlite3_column_blob(st, i);
		len = (size_t)sqlite3_column_bytes(st, i);
		v[0] = type == SQLITE_TEXT ? NMD_SNAP_TEXT : NMD_SNAP_BLOB;
		nmd_snap_be32(v + 1, (uint32_t)len);
		nmd_buf_append(b, v, 5);
		if (len)
			nmd_buf_append(b, data, len);
		return;
	default:
		v[0] = NMD_SNAP_NULL;
		nmd_buf_append(b, v, 1);
		return;
	}
}

/* The table record, then one row record per row. */
static nomad_err save_table(struct snap_out *o, const struct nmd_snap_table *t,
			    nomad_error *err)
{
	struct nmd_conn *c = o->snap->c;
	struct nmd_buf sql;
	sqlite3_stmt *st = NULL;
	nomad_err error;
	int rc, n_cols = (int)(t->n_cols + t->rowid);

	if ((error = put_table_record(o, t, err)) < 0)
		return error;
	nmd_buf_init(&sql, o->snap->s->ctx.alloc);
	nmd_buf_puts(&sql, "SELECT ");
	nmd_snap_put_cols(&sql, t, "");
	nmd_buf_puts(&sql, " FROM main.");
	nmd_snap_put_ident(&sql, t->name);
	if (sql.oom) {
		error = nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
		goto done;
	}
	if (sqlite3_prepare_v2(c->db, sql.data, (int)sql.len, &st, NULL) !=
	    SQLITE_OK) {
		error = nmd_sqlite_fail(c, err, "snapshot save");
		goto done;
	}
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		nmd_buf_reset(&o->rec);
		for (int i = 0; i < n_cols; i++)
			rec_put_value(&o->rec, st, i);
		if ((error = out_record(o, NMD_SNAP_ROW, err)) < 0)
			goto done;
	}
	if (rc != SQLITE_DONE)
		error = nmd_sqlite_fail(c, err, "snapshot save");
done:
	sqlite3_finalize(st);
	nmd_buf_free(&sql);
	return error;
}

static nomad_err put_header(struct snap_out *o, nomad_error *err)
{
	uint8_t h[NMD_SNAP_HEADER_LEN];
	memcpy(h, NMD_SNAP_MAGIC, NMD_SNAP_MAGIC_LEN);
	nmd_snap_be32(h + 8, NMD_SNAP_FORMAT);
	nmd_snap_be32(h + 12, NMD_STATE_SCHEMA_VERSION);
	nmd_snap_be64(h + 16, o->snap->index);
	return out_put(o, h, sizeof(h), true, err);
}

static nomad_err put_trailer(struct snap_out *o, nomad_error *err)
{
	uint8_t t[9], digest[NMD_SNAP_DIGEST_LEN];
	nomad_err error;
	t[0] = NMD_SNAP_END;
	nmd_snap_be64(t + 1, o->records);
	if ((error = out_put(o, t, sizeof(t), true, err)) < 0)
		return error;
	if (nmd_sha256_finish(&o->sha, digest) != 0 || o->hash_failed)
		return nmd_seterr(err, NOMAD_ERROR, "state: sha-256 failed");
	return out_put(o, digest, sizeof(digest), false, err);
}

nomad_err nomad_state_snapshot_save(nomad_state_snap *snap,
				    nomad_state_write_cb cb, void *userdata,
				    nomad_error *err)
{
	struct snap_out o = {0};
	struct nmd_snap_tables tables = {0};
	const nomad_allocator *a;
	nomad_err error;

	if (!snap || !cb)
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: snapshot save needs a snapshot and "
				  "a callback");
	a = snap->s->ctx.alloc;
	o.snap = snap;
	o.cb = cb;
	o.ud = userdata;
	nmd_buf_init(&o.out, a);
	nmd_buf_init(&o.rec, a);
	mbedtls_sha256_init(&o.sha);
	if (nmd_sha256_starts(&o.sha) != 0) {
		error = nmd_seterr(err, NOMAD_ERROR, "state: sha-256 failed");
		goto done;
	}
	/* The table list is read inside the snapshot's read transaction, so
	 * it is the schema the snapshot's rows belong to. */
	if ((error = nmd_snap_tables_load(snap->c, a, &tables, err)) < 0 ||
	    (error = put_header(&o, err)) < 0)
		goto done;
	for (size_t i = 0; i < tables.n; i++)
		if ((error = save_table(&o, &tables.t[i], err)) < 0)
			goto done;
	if ((error = put_trailer(&o, err)) < 0 ||
	    (error = out_flush(&o, true, err)) < 0)
		goto done;
	nmd_log(&snap->s->ctx, NOMAD_LOG_DEBUG, "state",
		"saved snapshot at index %llu: %llu records, %llu bytes",
		(unsigned long long)snap->index,
		(unsigned long long)o.records, (unsigned long long)o.off);
done:
	mbedtls_sha256_free(&o.sha);
	nmd_snap_tables_free(&tables);
	nmd_buf_free(&o.out);
	nmd_buf_free(&o.rec);
	return error;
}
