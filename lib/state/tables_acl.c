/* SPDX-License-Identifier: MPL-2.0 */
/*
 * ACL policies and tokens in the state store (Nomad's UpsertACLPolicies,
 * DeleteACLPolicies, UpsertACLTokens, DeleteACLTokens and their lookups).
 *
 * Policies are keyed by name. Tokens are keyed by accessor ID, and the
 * secret ID is a second, unique key: every request authenticates with it,
 * so ACL resolution is one index lookup. As in Nomad, an update keeps a
 * token's SecretID and CreateTime, and deleting a policy or token that does
 * not exist is not an error. Hashes are stored as given (Nomad's endpoints
 * set them), and bootstrapping is the server's business: to the store a
 * bootstrap token is a token.
 */
#include <string.h>

#include "core/error.h"
#include "state/tables_int.h"
#include "structs/pb.h"

/* ---- policies ------------------------------------------------------------- */

static const char sql_policy_get[] =
	"SELECT body FROM acl_policies WHERE name = ?1";
static const char sql_policy_put[] =
	"INSERT INTO acl_policies(name, body) VALUES(?1, ?2) "
	"ON CONFLICT(name) DO UPDATE SET body = excluded.body";
static const char sql_policy_del[] = "DELETE FROM acl_policies WHERE name = ?1";

nomad_err nomad_state_acl_policy_upsert(nomad_state_txn *txn,
					const nomad_acl_policy *policy,
					nomad_error *err)
{
	nomad_acl_policy copy;
	const char *key[1];
	if (!txn || !policy || !policy->name || !policy->name[0])
		return nmd_seterr(err, NOMAD_EINVAL, "state: no ACL policy name");
	copy = *policy;
	key[0] = policy->name;
	return nmd_row_upsert(txn, sql_policy_get, sql_policy_put, key, 1,
			      &copy.base, NOMAD_TABLE_ACL_POLICIES, err);
}

/* Delete rows by one key each with `sql`, skipping keys that match none;
 * `table` moves when any row went. */
static nomad_err delete_each(nomad_state_txn *txn, const char *sql,
			     const char *const *keys, size_t n,
			     nomad_state_table table, nomad_error *err)
{
	int changed, total = 0;
	nomad_err rc;
	if (!txn || (n && !keys))
		return nmd_seterr(err, NOMAD_EINVAL, "state: nothing to delete");
	for (size_t i = 0; i < n; i++) {
		if ((rc = nmd_row_write(txn, sql, &keys[i], 1, NULL, &changed,
					err)) < 0)
			return rc;
		total += changed;
	}
	if (total)
		nmd_touch(txn, table);
	return NOMAD_OK;
}

nomad_err nomad_state_acl_policies_delete(nomad_state_txn *txn,
					  const char *const *names, size_t n,
					  nomad_error *err)
{
	return delete_each(txn, sql_policy_del, names, n,
			   NOMAD_TABLE_ACL_POLICIES, err);
}

nomad_err nomad_state_acl_policy_get(nomad_state_snap *snap, const char *name,
				     nomad_acl_policy **out)
{
	if (!out)
		return NOMAD_EINVAL;
	*out = NULL;
	if (!snap)
		return NOMAD_EINVAL;
	if (!name)
		return NOMAD_ENOTFOUND;
	return nmd_row_get(snap->c, sql_policy_get, &name, 1,
			   &nomad__aclpolicy__descriptor, out, NULL);
}

nomad_err nomad_state_acl_policies_list(nomad_state_snap *snap,
					const nomad_state_list_options *opts,
					nomad_state_iter_cb cb, void *userdata,
					char next_token[NOMAD_STATE_TOKEN_MAX],
					nomad_error *err)
{
	static const char *const sql[2] = {
		NMD_KEY_LIST("acl_policies", "name", ">=", "ASC"),
		NMD_KEY_LIST("acl_policies", "name", "<=", "DESC"),
	};
	return nmd_list_by_key(snap, sql, &nomad__aclpolicy__descriptor, opts,
			       cb, userdata, next_token, err);
}

/* ---- tokens --------------------------------------------------------------- */

static const char sql_token_get[] =
	"SELECT body FROM acl_tokens WHERE accessor = ?1";
static const char sql_token_by_secret[] =
	"SELECT body FROM acl_tokens WHERE secret = ?1";
static const char sql_secret_owner[] =
	"SELECT accessor FROM acl_tokens WHERE secret = ?1";
static const char sql_token_put[] =
	"INSERT INTO acl_tokens(accessor, secret, body) VALUES(?1, ?2, ?3) "
	"ON CONFLICT(accessor) DO UPDATE SET secret = excluded.secret,"
	" body = excluded.body";
static const char sql_token_del[] = "DELETE FROM acl_tokens WHERE accessor = ?1";

/* Refuse a secret ID another token (not `accessor`) already has: the
 * secret alone must name one token. */
static nomad_err secret_free(nomad_state_txn *txn, const char *secret,
			     const char *accessor, nomad_error *err)
{
	sqlite3_stmt *st = nmd_stmt(txn->c, sql_secret_owner, err);
	nomad_err rc = NOMAD_OK;
	int step;
	if (!st)
		return NOMAD_EIO;
	sqlite3_bind_text(st, 1, secret, -1, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW &&
	    strcmp((const char *)sqlite3_column_text(st, 0), accessor) != 0)
		rc = nmd_seterr(err, NOMAD_EEXISTS,
				"state: another ACL token has this secret ID: "
				"accessor=%s", accessor);
	else if (step != SQLITE_ROW && step != SQLITE_DONE)
		rc = nmd_sqlite_fail(txn->c, err, "read tokens");
	sqlite3_reset(st);
	return rc;
}

nomad_err nomad_state_acl_token_upsert(nomad_state_txn *txn,
				       const nomad_acl_token *token,
				       nomad_error *err)
{
	nomad_acl_token *old = NULL, copy;
	const char *keys[2];
	nomad_err rc;
	if (!txn || !token || !token->accessorid || !token->accessorid[0])
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: ACL token without an accessor ID");
	keys[0] = token->accessorid;
	if ((rc = nmd_row_load(txn, sql_token_get, keys, 1,
			       &nomad__acltoken__descriptor, &old, err)) < 0)
		return rc;
	copy = *token;
	if (old) {
		/* As Nomad: neither the secret nor the creation time of a
		 * token ever changes. */
		copy.secretid = old->secretid;
		copy.createtime = old->createtime;
	}
	if (!copy.secretid || !copy.secretid[0]) {
		rc = nmd_seterr(err, NOMAD_EINVAL,
				"state: ACL token without a secret ID: "
				"accessor=%s", token->accessorid);
		goto done;
	}
	if ((rc = secret_free(txn, copy.secretid, copy.accessorid, err)) < 0)
		goto done;
	nmd_row_stamp(&copy.base, old ? &old->base : NULL, txn->index);
	keys[1] = copy.secretid;
	if ((rc = nmd_row_write(txn, sql_token_put, keys, 2, &copy.base, NULL,
				err)) >= 0)
		nmd_touch(txn, NOMAD_TABLE_ACL_TOKENS);
done:
	/* Last: copy may point into old. */
	nmd_pb_free(old, NMD_STATE_MSG_ALLOC);
	return rc;
}

nomad_err nomad_state_acl_tokens_delete(nomad_state_txn *txn,
					const char *const *accessor_ids,
					size_t n, nomad_error *err)
{
	return delete_each(txn, sql_token_del, accessor_ids, n,
			   NOMAD_TABLE_ACL_TOKENS, err);
}

nomad_err nomad_state_acl_token_get(nomad_state_snap *snap,
				    const char *accessor_id,
				    nomad_acl_token **out)
{
	if (!out)
		return NOMAD_EINVAL;
	*out = NULL;
	if (!snap)
		return NOMAD_EINVAL;
	if (!accessor_id || !accessor_id[0])
		return NOMAD_ENOTFOUND;
	return nmd_row_get(snap->c, sql_token_get, &accessor_id, 1,
			   &nomad__acltoken__descriptor, out, NULL);
}

nomad_err nomad_state_acl_token_by_secret(nomad_state_snap *snap,
					  const char *secret_id,
					  nomad_acl_token **out)
{
	if (!out)
		return NOMAD_EINVAL;
	*out = NULL;
	if (!snap)
		return NOMAD_EINVAL;
	/* An empty secret is "no token", never a match. */
	if (!secret_id || !secret_id[0])
		return NOMAD_ENOTFOUND;
	return nmd_row_get(snap->c, sql_token_by_secret, &secret_id, 1,
			   &nomad__acltoken__descriptor, out, NULL);
}

nomad_err nomad_state_acl_tokens_list(nomad_state_snap *snap,
				      const nomad_state_list_options *opts,
				      nomad_state_iter_cb cb, void *userdata,
				      char next_token[NOMAD_STATE_TOKEN_MAX],
				      nomad_error *err)
{
	static const char *const sql[2] = {
		NMD_KEY_LIST("acl_tokens", "accessor", ">=", "ASC"),
		NMD_KEY_LIST("acl_tokens", "accessor", "<=", "DESC"),
	};
	return nmd_list_by_key(snap, sql, &nomad__acltoken__descriptor, opts,
			       cb, userdata, next_token, err);
}
