/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Variables in the state store, keyed by namespace and path (Nomad's
 * VarSet, VarSetCAS, VarDelete, VarDeleteCAS, VarGet and the listings by
 * path prefix).
 *
 * The check-and-set forms take the ModifyIndex the caller last saw: 0 means
 * "only if there is no such variable", N "only if its ModifyIndex is still
 * N"; anything else is NOMAD_ECONFLICT and writes nothing. A delete with
 * cas 0 of a variable that does not exist succeeds (there is nothing to
 * delete, as asked), and a plain delete of one that does not exist is a
 * no-op, as in Nomad. An update keeps CreateIndex and CreateTime; the
 * server stamps ModifyTime.
 */
#include "core/error.h"
#include "state/tables_int.h"
#include "structs/pb.h"

static const char sql_var_get[] =
	"SELECT body FROM variables WHERE ns = ?1 AND path = ?2";
static const char sql_var_put[] =
	"INSERT INTO variables(ns, path, body) VALUES(?1, ?2, ?3) "
	"ON CONFLICT(ns, path) DO UPDATE SET body = excluded.body";
static const char sql_var_del[] =
	"DELETE FROM variables WHERE ns = ?1 AND path = ?2";

static nomad_err cas_failed(nomad_error *err, const char *const keys[2],
			    uint64_t cas, const nomad_variable *old)
{
	return nmd_seterr(err, NOMAD_ECONFLICT,
			  "state: variable check-and-set failed: namespace=%s "
			  "path=%s cas=%llu modify_index=%llu",
			  keys[0], keys[1], (unsigned long long)cas,
			  (unsigned long long)(old ? old->modifyindex : 0));
}

/* Whether a check-and-set at `cas` may go on, given the stored variable
 * (NULL when there is none). */
static bool cas_holds(uint64_t cas, const nomad_variable *old)
{
	return cas == 0 ? old == NULL : old && old->modifyindex == cas;
}

static nomad_err var_set(nomad_state_txn *txn, const nomad_variable *v,
			 const uint64_t *cas, nomad_error *err)
{
	nomad_variable *old, copy;
	const char *keys[2];
	nomad_err rc;
	if (!txn || !v || !v->path || !v->path[0])
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: variable without a path");
	copy = *v;
	copy.namespace_ = (char *)nmd_ns_or_default(v->namespace_);
	keys[0] = copy.namespace_;
	keys[1] = copy.path;
	if ((rc = nmd_row_load(txn, sql_var_get, keys, 2,
			       &nomad__variable__descriptor, &old, err)) < 0)
		return rc;
	if (cas && !cas_holds(*cas, old)) {
		rc = cas_failed(err, keys, *cas, old);
		goto done;
	}
	if (old) {
		copy.has_createtime = old->has_createtime;
		copy.createtime = old->createtime;
	}
	nmd_row_stamp(&copy.base, old ? &old->base : NULL, txn->index);
	if ((rc = nmd_row_write(txn, sql_var_put, keys, 2, &copy.base, NULL,
				err)) >= 0)
		nmd_touch(txn, NOMAD_TABLE_VARIABLES);
done:
	nmd_pb_free(old, NMD_STATE_MSG_ALLOC);
	return rc;
}

nomad_err nomad_state_variable_upsert(nomad_state_txn *txn,
				      const nomad_variable *v,
				      nomad_error *err)
{
	return var_set(txn, v, NULL, err);
}

nomad_err nomad_state_variable_upsert_cas(nomad_state_txn *txn,
					  const nomad_variable *v,
					  uint64_t cas, nomad_error *err)
{
	return var_set(txn, v, &cas, err);
}

static nomad_err var_delete(nomad_state_txn *txn, const char *ns,
			    const char *path, const uint64_t *cas,
			    nomad_error *err)
{
	const char *keys[2] = {nmd_ns_or_default(ns), path};
	nomad_variable *old;
	nomad_err rc;
	if (!txn || !path || !path[0])
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: variable without a path");
	if ((rc = nmd_row_load(txn, sql_var_get, keys, 2,
			       &nomad__variable__descriptor, &old, err)) < 0)
		return rc;
	if (cas && !cas_holds(*cas, old))
		rc = cas_failed(err, keys, *cas, old);
	else if (old &&
		 (rc = nmd_row_write(txn, sql_var_del, keys, 2, NULL, NULL,
				     err)) >= 0)
		nmd_touch(txn, NOMAD_TABLE_VARIABLES);
	nmd_pb_free(old, NMD_STATE_MSG_ALLOC);
	return rc;
}

nomad_err nomad_state_variable_delete(nomad_state_txn *txn, const char *ns,
				      const char *path, nomad_error *err)
{
	return var_delete(txn, ns, path, NULL, err);
}

nomad_err nomad_state_variable_delete_cas(nomad_state_txn *txn,
					  const char *ns, const char *path,
					  uint64_t cas, nomad_error *err)
{
	return var_delete(txn, ns, path, &cas, err);
}

nomad_err nomad_state_variable_get(nomad_state_snap *snap, const char *ns,
				   const char *path, nomad_variable **out)
{
	const char *keys[2] = {nmd_ns_or_default(ns), path};
	if (!out)
		return NOMAD_EINVAL;
	*out = NULL;
	if (!snap)
		return NOMAD_EINVAL;
	if (!path)
		return NOMAD_ENOTFOUND;
	return nmd_row_get(snap->c, sql_var_get, keys, 2,
			   &nomad__variable__descriptor, out, NULL);
}

nomad_err nomad_state_variables_list(nomad_state_snap *snap,
				     const nomad_state_list_options *opts,
				     nomad_state_iter_cb cb, void *userdata,
				     char next_token[NOMAD_STATE_TOKEN_MAX],
				     nomad_error *err)
{
	static const char *const sql[4] = {
		NMD_NS_KEY_LIST("variables", "path", "ns = ?1 AND ", ">=", "ASC"),
		NMD_NS_KEY_LIST("variables", "path", "ns = ?1 AND ", "<=", "DESC"),
		NMD_NS_KEY_LIST("variables", "path", "", ">=", "ASC"),
		NMD_NS_KEY_LIST("variables", "path", "", "<=", "DESC"),
	};
	return nmd_list_by_ns_key(snap, sql, &nomad__variable__descriptor, opts,
				  cb, userdata, next_token, err);
}
