/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Keeping the scheduler view current across a snapshot restore.
 *
 * Once built, the view (view.c) is kept current by the deltas
 * commits record, and readers may hold it at any time, so it is neither
 * freed nor rebuilt here: the restore records deltas like any commit, in
 * `vt` (a transaction used for nothing else): every node and allocation
 * the store held is removed, every one it holds afterwards is put. Both
 * lists are read inside the restore's transaction, under write_lock, so
 * they are exactly what the view reflects before and after. The view
 * applies them at once, under its own lock, when the restore commits.
 */
#include "state/snapshot_io.h"
#include "structs/pb.h"

nomad_err nmd_snap_view_forget(nomad_state_txn *vt, struct nmd_conn *c,
			       nomad_error *err)
{
	static const char sql_allocs[] =
		"SELECT a.id, n.id FROM main.alloc_loc a "
		"JOIN main.nodes n ON n.pk = a.node_pk";
	static const char sql_nodes[] =
		"SELECT id FROM main.nodes WHERE body IS NOT NULL";
	sqlite3_stmt *st;
	int rc;
	if (!(st = nmd_stmt(c, sql_allocs, err)))
		return NOMAD_EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		char node[NOMAD_UUID_LEN + 1];
		if (sqlite3_column_bytes(st, 0) != 16 ||
		    sqlite3_column_bytes(st, 1) != 16)
			continue;
		nmd_uuid_from_bytes(sqlite3_column_blob(st, 1), node);
		nmd_view_alloc_del(vt, node, sqlite3_column_blob(st, 0));
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return nmd_sqlite_fail(c, err, "restore view");
	if (!(st = nmd_stmt(c, sql_nodes, err)))
		return NOMAD_EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		if (sqlite3_column_bytes(st, 0) == 16)
			nmd_view_node_del(vt, sqlite3_column_blob(st, 0));
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? NOMAD_OK
				 : nmd_sqlite_fail(c, err, "restore view");
}

nomad_err nmd_snap_view_learn(nomad_state_txn *vt, struct nmd_conn *c,
			      nomad_error *err)
{
	static const char sql_nodes[] =
		"SELECT body FROM main.nodes WHERE body IS NOT NULL";
	static const char sql_allocs[] =
		"SELECT body FROM main.allocs_hot "
		"UNION ALL SELECT body FROM main.allocs_cold";
	const char *const sqls[] = {sql_nodes, sql_allocs};
	nomad_err error = NOMAD_OK;
	for (int k = 0; k < 2 && error == NOMAD_OK; k++) {
		sqlite3_stmt *st = nmd_stmt(c, sqls[k], err);
		int rc;
		if (!st)
			return NOMAD_EIO;
		while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
			ProtobufCMessage *m;
			if ((error = nmd_column_body(vt->s, st, 0,
						     k ? &nomad__allocation__descriptor
						       : &nomad__node__descriptor,
						     &m, err)) < 0)
				break;
			if (k)
				nmd_view_alloc_put(vt, (nomad_alloc *)m);
			else
				nmd_view_node_put(vt, (nomad_node *)m);
			nomad_msg_free(m, NMD_STATE_MSG_ALLOC);
		}
		sqlite3_reset(st);
		if (error == NOMAD_OK && rc != SQLITE_DONE)
			error = nmd_sqlite_fail(c, err, "restore view");
	}
	return error;
}
