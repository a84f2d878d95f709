/* SPDX-License-Identifier: MPL-2.0 */
/*
 * What snapshot_io.c (the format, the table list, saving) and
 * snapshot_restore.c (loading, checking, replacing) share. lib/state only;
 * the format itself is described at the top of snapshot_io.c.
 */
#ifndef NMD_STATE_SNAPSHOT_IO_H
#define NMD_STATE_SNAPSHOT_IO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mbedtls/sha256.h>
#include <mbedtls/version.h>

#include "core/buf.h"
#include "state/state_int.h"

#define NMD_SNAP_MAGIC "NOMADSNP"
#define NMD_SNAP_MAGIC_LEN 8
#define NMD_SNAP_FORMAT 1
/* Magic, format version, schema version, index. */
#define NMD_SNAP_HEADER_LEN (NMD_SNAP_MAGIC_LEN + 4 + 4 + 8)
/* Largest record payload accepted: above any row SQLite can hold
 * (SQLITE_MAX_LENGTH is at most 2^31 - 1), so a bigger length is damage. */
#define NMD_SNAP_RECORD_MAX 0x7fffffffu
#define NMD_SNAP_DIGEST_LEN 32

/* Record kinds. */
enum {
	NMD_SNAP_TABLE = 'T',
	NMD_SNAP_ROW = 'R',
	NMD_SNAP_END = 'E',
};

/* Column value types inside a row record. */
enum {
	NMD_SNAP_NULL = 0,
	NMD_SNAP_INT = 1,
	NMD_SNAP_REAL = 2,
	NMD_SNAP_TEXT = 3,
	NMD_SNAP_BLOB = 4,
};

/* One table of the schema as a snapshot carries it. `cols` are the
 * columns in declaration order; `rowid` is set when the table's rowid is
 * not one of them (a rowid table without an INTEGER PRIMARY KEY), and the
 * snapshot then carries it as a first column named "rowid". */
struct nmd_snap_table {
	char *name;
	char *sql;      /* its CREATE TABLE statement */
	char **cols;
	size_t n_cols;
	bool rowid;
	bool seen;      /* restore: its table record has arrived */
};

struct nmd_snap_tables {
	const nomad_allocator *alloc;
	struct nmd_snap_table *t;
	size_t n;
};

/* Every table of the schema `c` sees (its "main" database), by name:
 * sqlite_* and virtual tables excluded. */
nomad_err nmd_snap_tables_load(struct nmd_conn *c, const nomad_allocator *a,
			       struct nmd_snap_tables *out, nomad_error *err);
void nmd_snap_tables_free(struct nmd_snap_tables *ts);
struct nmd_snap_table *nmd_snap_table_find(struct nmd_snap_tables *ts,
					   const char *name, size_t len);

/* Append `name` as a quoted SQL identifier ("a""b"). */
void nmd_snap_put_ident(struct nmd_buf *b, const char *name);
/* Append the table's column list as the snapshot carries it, each name
 * prefixed by `qual` ("" or "alias."): rowid, "c1", "c2", ... */
void nmd_snap_put_cols(struct nmd_buf *b, const struct nmd_snap_table *t,
		       const char *qual);

/* Inside a restore's write transaction, under write_lock, when the
 * scheduler view is built (snapshot_view.c): record in `vt` the removal of
 * every node and allocation the store holds (before its tables are
 * emptied), then the addition of every one it holds (after they are
 * refilled). nmd_view_commit(vt) applies both at once after the commit. */
nomad_err nmd_snap_view_forget(nomad_state_txn *vt, struct nmd_conn *c,
			       nomad_error *err);
nomad_err nmd_snap_view_learn(nomad_state_txn *vt, struct nmd_conn *c,
			      nomad_error *err);

/* Big-endian integers. */
static inline void nmd_snap_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}
static inline void nmd_snap_be32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}
static inline void nmd_snap_be64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}
static inline uint16_t nmd_snap_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}
static inline uint32_t nmd_snap_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}
static inline uint64_t nmd_snap_get64(const uint8_t *p)
{
	return (uint64_t)nmd_snap_get32(p) << 32 | nmd_snap_get32(p + 4);
}

/* SHA-256 across mbedTLS versions: 2.x has the int-returning *_ret names
 * (its plain ones are deprecated and void), 3.x only the plain ones. */
#if MBEDTLS_VERSION_NUMBER >= 0x03000000
#define nmd_sha256_starts(ctx) mbedtls_sha256_starts((ctx), 0)
#define nmd_sha256_update mbedtls_sha256_update
#define nmd_sha256_finish mbedtls_sha256_finish
#else
#define nmd_sha256_starts(ctx) mbedtls_sha256_starts_ret((ctx), 0)
#define nmd_sha256_update mbedtls_sha256_update_ret
#define nmd_sha256_finish mbedtls_sha256_finish_ret
#endif

#endif
