/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Reading allocations through a snapshot: by ID, by node (a range scan of
 * the node-clustered cold table plus the few hot rows), and through the
 * job, evaluation and deployment indexes, which resolve to a row with one
 * join. With NOMAD_STATE_WITH_JOB each allocation gets the job version it
 * runs, decoded once per (job, version) and reused for the next rows.
 */
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/error.h"
#include "state/state_int.h"
#include "structs/pb.h"

/* The row of an allocation found through alloc_loc `l`, in either table. */
#define ROW_JOIN                                                              \
	" JOIN alloc_loc l ON l.id = x.id"                                    \
	" LEFT JOIN allocs_cold c ON c.k = (l.node_pk << 40) | l.pk"          \
	" LEFT JOIN allocs_hot h ON c.k IS NULL AND h.pk = l.pk"
#define ROW_COLS "COALESCE(c.status, h.status), COALESCE(c.body, h.body)"

/* Iterating rows of (status, body), decoding and attaching jobs. */
struct reader {
	nomad_state_snap *snap;
	unsigned flags;
	nomad_state_iter_cb cb;
	void *ud;
	nomad_job *job;          /* the last job version decoded */
	struct nmd_arena arena;  /* each row is decoded into it */
};

static nomad_err attach_job(struct reader *r, nomad_alloc *a, nomad_error *err)
{
	static const char sql[] =
		"SELECT j.body FROM job_keys k JOIN alloc_jobs j ON j.jk = k.jk"
		" WHERE k.ns = ?1 AND k.job_id = ?2 AND j.version = ?3";
	static const char current_sql[] =
		"SELECT body FROM jobs WHERE ns = ?1 AND id = ?2";
	const char *ns = a->namespace_ ? a->namespace_ : "default";
	uint64_t version = a->has_jobversion ? a->jobversion : 0;
	nomad_err rc = NOMAD_OK;
	if (r->job && r->job->id && a->jobid && !strcmp(r->job->id, a->jobid) &&
	    r->job->namespace_ && !strcmp(r->job->namespace_, ns) &&
	    r->job->version == version)
		goto lend;
	nomad_job_free(r->job);
	r->job = NULL;
	for (int pass = 0; pass < 2 && !r->job; pass++) {
		sqlite3_stmt *st = nmd_stmt(r->snap->c, pass ? current_sql : sql, err);
		if (!st)
			return NOMAD_EIO;
		sqlite3_bind_text(st, 1, ns, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, a->jobid ? a->jobid : "", -1, SQLITE_STATIC);
		if (!pass)
			sqlite3_bind_int64(st, 3, (int64_t)version);
		if (sqlite3_step(st) == SQLITE_ROW)
			rc = nmd_column_body(r->snap->s, st, 0,
					     &nomad__job__descriptor,
					     (ProtobufCMessage **)&r->job, err);
		sqlite3_reset(st);
		if (rc < 0)
			return rc;
	}
lend:
	a->job = r->job; /* lent for the callback, taken back after */
	return NOMAD_OK;
}

/* Hand every row of `st` (status, body) to the callback. */
static nomad_err read_rows(struct reader *r, sqlite3_stmt *st, nomad_error *err)
{
	nomad_err rc = NOMAD_OK;
	int step;
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		nomad_alloc *a;
		int stop;
		if (sqlite3_column_type(st, 1) == SQLITE_NULL)
			continue; /* an index entry without its row */
		a = (nomad_alloc *)nmd_pb_decode_arena(
			&nomad__allocation__descriptor,
			sqlite3_column_blob(st, 1),
			(size_t)sqlite3_column_bytes(st, 1), &r->arena);
		if (!a) {
			rc = nmd_seterr(err, NOMAD_ECORRUPT,
					"state: an allocation row does not decode");
			break;
		}
		if ((r->flags & NOMAD_STATE_WITH_JOB) &&
		    (rc = attach_job(r, a, err)) < 0) {
			nmd_arena_reset(&r->arena);
			break;
		}
		stop = r->cb(&a->base, r->ud);
		nmd_arena_reset(&r->arena); /* the row, not the lent job */
		if (stop) {
			rc = NOMAD_EUSER;
			break;
		}
	}
	if (rc >= 0 && step != SQLITE_ROW && step != SQLITE_DONE)
		rc = nmd_sqlite_fail(r->snap->c, err, "read allocations");
	sqlite3_reset(st);
	return rc;
}

static void reader_init(struct reader *r, nomad_state_snap *snap,
			unsigned flags, nomad_state_iter_cb cb, void *ud)
{
	r->snap = snap;
	r->flags = flags;
	r->cb = cb;
	r->ud = ud;
	r->job = NULL;
	nmd_arena_init(&r->arena, snap->s->ctx.alloc);
}

static void reader_done(struct reader *r)
{
	nomad_job_free(r->job);
	nmd_arena_free(&r->arena);
}

/* Bound parameter ?3 is a mask: rows with a status bit in it are skipped. */
static int terminal_mask(unsigned flags)
{
	return flags & NOMAD_STATE_TERMINAL ? 0 : 1;
}

/* ---- by ID ----------------------------------------------------------------- */

static int keep_first(const ProtobufCMessage *obj, void *ud)
{
	nomad_alloc **out = ud;
	return nomad_alloc_copy(out, (const nomad_alloc *)obj) == NOMAD_OK ? 1 : -1;
}

nomad_err nomad_state_alloc_get(nomad_state_snap *snap, const char *id,
				bool with_job, nomad_alloc **out)
{
	static const char sql[] =
		"SELECT " ROW_COLS " FROM (SELECT ?1 AS id) x" ROW_JOIN;
	struct reader r;
	uint8_t key[16];
	sqlite3_stmt *st;
	nomad_err rc;
	*out = NULL;
	if (!id || !nmd_uuid_to_bytes(id, key))
		return NOMAD_ENOTFOUND;
	if (!(st = nmd_stmt(snap->c, sql, NULL)))
		return NOMAD_EIO;
	sqlite3_bind_blob(st, 1, key, 16, SQLITE_STATIC);
	reader_init(&r, snap, with_job ? NOMAD_STATE_WITH_JOB : 0, keep_first,
		    out);
	rc = read_rows(&r, st, NULL);
	reader_done(&r);
	if (*out)
		return NOMAD_OK;
	return rc == NOMAD_OK || rc == NOMAD_EUSER ? NOMAD_ENOTFOUND : rc;
}

/* ---- by node ---------------------------------------------------------------- */

nomad_err nomad_state_allocs_by_node(nomad_state_snap *snap,
				     const char *node_id, unsigned int flags,
				     nomad_state_iter_cb cb, void *userdata,
				     nomad_error *err)
{
	static const char node_sql[] = "SELECT pk FROM nodes WHERE id = ?1";
	static const char cold_sql[] =
		"SELECT status, body FROM allocs_cold WHERE k >= ?1 AND k < ?2"
		" AND (status & ?3) = 0";
	static const char hot_sql[] =
		"SELECT status, body FROM allocs_hot WHERE node_pk = ?1"
		" AND (status & ?3) = 0 ORDER BY pk";
	struct reader r;
	uint8_t key[16];
	sqlite3_stmt *st;
	int64_t node_pk;
	nomad_err rc;
	if (!node_id || !nmd_uuid_to_bytes(node_id, key))
		return NOMAD_OK; /* no such node: no allocations */
	if (!(st = nmd_stmt(snap->c, node_sql, err)))
		return NOMAD_EIO;
	sqlite3_bind_blob(st, 1, key, 16, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return NOMAD_OK;
	}
	node_pk = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (!(st = nmd_stmt(snap->c, cold_sql, err)))
		return NOMAD_EIO;
	sqlite3_bind_int64(st, 1, node_pk << NMD_STATE_PK_BITS);
	sqlite3_bind_int64(st, 2, (node_pk + 1) << NMD_STATE_PK_BITS);
	sqlite3_bind_int(st, 3, terminal_mask(flags));
	reader_init(&r, snap, flags, cb, userdata);
	if ((rc = read_rows(&r, st, err)) == NOMAD_OK) {
		if (!(st = nmd_stmt(snap->c, hot_sql, err))) {
			rc = NOMAD_EIO;
		} else {
			sqlite3_bind_int64(st, 1, node_pk);
			sqlite3_bind_int(st, 3, terminal_mask(flags));
			rc = read_rows(&r, st, err);
		}
	}
	reader_done(&r);
	return rc;
}

/* ---- through the secondary indexes -------------------------------------- */

static nomad_err by_index(nomad_state_snap *snap, const char *sql,
			  const void *key, int key_len, const char *ns,
			  const char *job_id, unsigned flags,
			  nomad_state_iter_cb cb, void *ud, nomad_error *err)
{
	struct reader r;
	sqlite3_stmt *st = nmd_stmt(snap->c, sql, err);
	nomad_err rc;
	if (!st)
		return NOMAD_EIO;
	if (key) {
		sqlite3_bind_blob(st, 1, key, key_len, SQLITE_STATIC);
	} else {
		sqlite3_bind_text(st, 1, ns && ns[0] ? ns : "default", -1,
				  SQLITE_STATIC);
		sqlite3_bind_text(st, 2, job_id, -1, SQLITE_STATIC);
	}
	sqlite3_bind_int(st, 3, terminal_mask(flags));
	reader_init(&r, snap, flags, cb, ud);
	rc = read_rows(&r, st, err);
	reader_done(&r);
	return rc;
}

nomad_err nomad_state_allocs_by_job(nomad_state_snap *snap, const char *ns,
				    const char *job_id, unsigned int flags,
				    nomad_state_iter_cb cb, void *userdata,
				    nomad_error *err)
{
	static const char sql[] =
		"SELECT " ROW_COLS " FROM job_keys k"
		" JOIN alloc_by_job x ON x.jk = k.jk" ROW_JOIN
		" WHERE k.ns = ?1 AND k.job_id = ?2"
		" AND (COALESCE(c.status, h.status) & ?3) = 0 ORDER BY x.id";
	if (!job_id)
		return NOMAD_OK;
	return by_index(snap, sql, NULL, 0, ns, job_id, flags, cb, userdata,
			err);
}

nomad_err nomad_state_allocs_by_eval(nomad_state_snap *snap,
				     const char *eval_id, unsigned int flags,
				     nomad_state_iter_cb cb, void *userdata,
				     nomad_error *err)
{
	static const char sql[] =
		"SELECT " ROW_COLS " FROM alloc_by_eval x" ROW_JOIN
		" WHERE x.eval_id = ?1"
		" AND (COALESCE(c.status, h.status) & ?3) = 0 ORDER BY x.id";
	uint8_t key[16];
	if (!eval_id || !nmd_uuid_to_bytes(eval_id, key))
		return NOMAD_OK;
	return by_index(snap, sql, key, 16, NULL, NULL, flags, cb, userdata,
			err);
}

nomad_err nomad_state_allocs_by_deployment(nomad_state_snap *snap,
					   const char *deployment_id,
					   unsigned int flags,
					   nomad_state_iter_cb cb,
					   void *userdata, nomad_error *err)
{
	static const char sql[] =
		"SELECT " ROW_COLS " FROM alloc_by_deployment x" ROW_JOIN
		" WHERE x.dep_id = ?1"
		" AND (COALESCE(c.status, h.status) & ?3) = 0 ORDER BY x.id";
	uint8_t key[16];
	if (!deployment_id || !nmd_uuid_to_bytes(deployment_id, key))
		return NOMAD_OK;
	return by_index(snap, sql, key, 16, NULL, NULL, flags, cb, userdata,
			err);
}

/* ---- listing ----------------------------------------------------------------- */

/* Filters a listing by namespace and counts the page. */
struct lister {
	const char *ns;       /* NULL: all */
	unsigned per_page, n;
	nomad_state_iter_cb cb;
	void *ud;
	char *token;          /* where the next page starts */
	bool page_full;
};

static int list_one(const ProtobufCMessage *obj, void *ud)
{
	struct lister *l = ud;
	const nomad_alloc *a = (const nomad_alloc *)obj;
	const char *ns = a->namespace_ && a->namespace_[0] ? a->namespace_
							    : "default";
	if (l->ns && strcmp(l->ns, ns) != 0)
		return 0;
	if (l->per_page && l->n == l->per_page) {
		if (l->token)
			snprintf(l->token, NOMAD_STATE_TOKEN_MAX, "%s", a->id);
		l->page_full = true;
		return 1;
	}
	l->n++;
	return l->cb(obj, l->ud) ? 1 : 0;
}

nomad_err nomad_state_allocs_list(nomad_state_snap *snap,
				  const nomad_state_list_options *opts,
				  nomad_state_iter_cb cb, void *userdata,
				  char next_token[NOMAD_STATE_TOKEN_MAX],
				  nomad_error *err)
{
	static const char fwd_sql[] =
		"SELECT " ROW_COLS " FROM alloc_loc x" ROW_JOIN
		" WHERE x.id >= ?1 AND x.id < ?2 ORDER BY x.id";
	static const char rev_sql[] =
		"SELECT " ROW_COLS " FROM alloc_loc x" ROW_JOIN
		" WHERE x.id >= ?1 AND x.id < ?2 ORDER BY x.id DESC";
	const nomad_state_list_options def = NOMAD_STATE_LIST_OPTIONS_INIT;
	const nomad_state_list_options *o = opts ? opts : &def;
	struct lister l = {0};
	struct nmd_id_range range;
	struct reader r;
	sqlite3_stmt *st;
	/* The range comes before clearing next_token, which may be the
	 * very buffer o->next_token points at. */
	nomad_err rc = nmd_id_range(o, &range, err);
	if (next_token)
		next_token[0] = '\0';
	if (rc < 0)
		return rc;
	if (!snap || !cb)
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: no snapshot or callback");
	l.ns = o->ns && !strcmp(o->ns, "*") ? NULL : o->ns ? o->ns : "default";
	l.per_page = o->per_page;
	l.cb = cb;
	l.ud = userdata;
	l.token = next_token;
	if (!(st = nmd_stmt(snap->c, o->reverse ? rev_sql : fwd_sql, err)))
		return NOMAD_EIO;
	sqlite3_bind_blob(st, 1, range.lo, range.lo_len, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 2, range.hi, range.hi_len, SQLITE_TRANSIENT);
	reader_init(&r, snap, 0, list_one, &l);
	rc = read_rows(&r, st, err);
	reader_done(&r);
	if (rc == NOMAD_EUSER && l.page_full)
		return NOMAD_OK;
	return rc;
}
