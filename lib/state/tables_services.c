/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Service registrations (Nomad's native service discovery) in the state
 * store: UpsertServiceRegistrations, the deletes by ID, by allocation and
 * by node, and the lookups by ID, by service name, by allocation, by node
 * and by job.
 *
 * A registration is keyed by namespace and ID, as in Nomad; its service
 * name, job, allocation and node are columns of their own so that each
 * lookup is an index range. As in Nomad, re-registering an unchanged
 * service writes nothing and leaves the table's index alone (clients
 * re-register their services periodically), and deleting by allocation or
 * node when there is nothing to delete is not an error.
 */
#include "core/error.h"
#include "state/tables_int.h"
#include "structs/pb.h"

static const char sql_svc_get[] =
	"SELECT body FROM services WHERE ns = ?1 AND id = ?2";
static const char sql_svc_put[] =
	"INSERT INTO services(ns, id, name, job_id, alloc_id, node_id, body)"
	" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(ns, id) DO UPDATE SET"
	" name = excluded.name, job_id = excluded.job_id,"
	" alloc_id = excluded.alloc_id, node_id = excluded.node_id,"
	" body = excluded.body";
static const char sql_svc_del[] =
	"DELETE FROM services WHERE ns = ?1 AND id = ?2";
static const char sql_svc_del_alloc[] =
	"DELETE FROM services WHERE alloc_id = ?1";
static const char sql_svc_del_node[] =
	"DELETE FROM services WHERE node_id = ?1";

/* Whether `cur`, stamped like `old`, is what is stored already. */
static bool unchanged(const nomad_service_registration *cur,
		      const nomad_service_registration *old)
{
	nomad_service_registration c = *cur;
	c.has_createindex = old->has_createindex;
	c.createindex = old->createindex;
	c.has_modifyindex = old->has_modifyindex;
	c.modifyindex = old->modifyindex;
	return nomad_msg_equal(&c.base, &old->base);
}

nomad_err nomad_state_service_upsert(nomad_state_txn *txn,
				     const nomad_service_registration *svc,
				     nomad_error *err)
{
	nomad_service_registration *old, copy;
	const char *keys[6];
	nomad_err rc;
	if (!txn || !svc || !svc->id || !svc->id[0] || !svc->servicename ||
	    !svc->servicename[0])
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: service registration without an ID "
				  "or a service name");
	copy = *svc;
	copy.namespace_ = (char *)nmd_ns_or_default(svc->namespace_);
	keys[0] = copy.namespace_;
	keys[1] = copy.id;
	if ((rc = nmd_row_load(txn, sql_svc_get, keys, 2,
			       &nomad__service_registration__descriptor, &old,
			       err)) < 0)
		return rc;
	if (old && unchanged(&copy, old))
		goto done;
	nmd_row_stamp(&copy.base, old ? &old->base : NULL, txn->index);
	keys[2] = copy.servicename;
	keys[3] = copy.jobid;
	keys[4] = copy.allocid;
	keys[5] = copy.nodeid;
	if ((rc = nmd_row_write(txn, sql_svc_put, keys, 6, &copy.base, NULL,
				err)) >= 0)
		nmd_touch(txn, NOMAD_TABLE_SERVICES);
done:
	nmd_pb_free(old, NMD_STATE_MSG_ALLOC);
	return rc;
}

nomad_err nomad_state_service_delete(nomad_state_txn *txn, const char *ns,
				     const char *id, nomad_error *err)
{
	const char *keys[2] = {nmd_ns_or_default(ns), id};
	int changed = 0;
	nomad_err rc;
	if (!txn || !id)
		return nmd_seterr(err, NOMAD_EINVAL, "state: no service ID");
	if ((rc = nmd_row_write(txn, sql_svc_del, keys, 2, NULL, &changed,
				err)) < 0)
		return rc;
	if (!changed)
		return nmd_seterr(err, NOMAD_ENOTFOUND,
				  "state: service registration not found: "
				  "namespace=%s id=%s", keys[0], id);
	nmd_touch(txn, NOMAD_TABLE_SERVICES);
	return NOMAD_OK;
}

/* Delete every registration whose `what` column is `id` with `sql`. */
static nomad_err delete_by(nomad_state_txn *txn, const char *sql,
			   const char *what, const char *id, nomad_error *err)
{
	int changed = 0;
	nomad_err rc;
	/* An empty ID would match every registration without one. */
	if (!txn || !id || !id[0])
		return nmd_seterr(err, NOMAD_EINVAL, "state: no %s ID", what);
	if ((rc = nmd_row_write(txn, sql, &id, 1, NULL, &changed, err)) < 0)
		return rc;
	if (changed)
		nmd_touch(txn, NOMAD_TABLE_SERVICES);
	return NOMAD_OK;
}

nomad_err nomad_state_services_delete_by_alloc(nomad_state_txn *txn,
					       const char *alloc_id,
					       nomad_error *err)
{
	return delete_by(txn, sql_svc_del_alloc, "allocation", alloc_id, err);
}

nomad_err nomad_state_services_delete_by_node(nomad_state_txn *txn,
					      const char *node_id,
					      nomad_error *err)
{
	return delete_by(txn, sql_svc_del_node, "node", node_id, err);
}

/* ---- reads ---------------------------------------------------------------- */

nomad_err nomad_state_service_get(nomad_state_snap *snap, const char *ns,
				  const char *id,
				  nomad_service_registration **out)
{
	const char *keys[2] = {nmd_ns_or_default(ns), id};
	if (!out)
		return NOMAD_EINVAL;
	*out = NULL;
	if (!snap)
		return NOMAD_EINVAL;
	if (!id)
		return NOMAD_ENOTFOUND;
	return nmd_row_get(snap->c, sql_svc_get, keys, 2,
			   &nomad__service_registration__descriptor, out, NULL);
}

nomad_err nomad_state_services_by_name(nomad_state_snap *snap, const char *ns,
				       const char *name, nomad_state_iter_cb cb,
				       void *userdata, nomad_error *err)
{
	static const char sql[] =
		"SELECT '', body FROM services WHERE ns = ?1 AND name = ?2"
		" ORDER BY id";
	const char *keys[2] = {nmd_ns_or_default(ns), name};
	if (!name)
		return nmd_seterr(err, NOMAD_EINVAL, "state: no service name");
	return nmd_rows_each(snap, sql, keys, 2,
			     &nomad__service_registration__descriptor, cb,
			     userdata, err);
}

nomad_err nomad_state_services_by_alloc(nomad_state_snap *snap,
					const char *alloc_id,
					nomad_state_iter_cb cb, void *userdata,
					nomad_error *err)
{
	static const char sql[] =
		"SELECT '', body FROM services WHERE alloc_id = ?1 ORDER BY id";
	if (!alloc_id)
		return nmd_seterr(err, NOMAD_EINVAL, "state: no allocation ID");
	return nmd_rows_each(snap, sql, &alloc_id, 1,
			     &nomad__service_registration__descriptor, cb,
			     userdata, err);
}

nomad_err nomad_state_services_by_node(nomad_state_snap *snap,
				       const char *node_id,
				       nomad_state_iter_cb cb, void *userdata,
				       nomad_error *err)
{
	static const char sql[] =
		"SELECT '', body FROM services WHERE node_id = ?1 ORDER BY id";
	if (!node_id)
		return nmd_seterr(err, NOMAD_EINVAL, "state: no node ID");
	return nmd_rows_each(snap, sql, &node_id, 1,
			     &nomad__service_registration__descriptor, cb,
			     userdata, err);
}

nomad_err nomad_state_services_by_job(nomad_state_snap *snap, const char *ns,
				      const char *job_id,
				      nomad_state_iter_cb cb, void *userdata,
				      nomad_error *err)
{
	static const char sql[] =
		"SELECT '', body FROM services WHERE ns = ?1 AND job_id = ?2"
		" ORDER BY id";
	const char *keys[2] = {nmd_ns_or_default(ns), job_id};
	if (!job_id)
		return nmd_seterr(err, NOMAD_EINVAL, "state: no job ID");
	return nmd_rows_each(snap, sql, keys, 2,
			     &nomad__service_registration__descriptor, cb,
			     userdata, err);
}

nomad_err nomad_state_services_list(nomad_state_snap *snap,
				    const nomad_state_list_options *opts,
				    nomad_state_iter_cb cb, void *userdata,
				    char next_token[NOMAD_STATE_TOKEN_MAX],
				    nomad_error *err)
{
	static const char *const sql[4] = {
		NMD_NS_KEY_LIST("services", "id", "ns = ?1 AND ", ">=", "ASC"),
		NMD_NS_KEY_LIST("services", "id", "ns = ?1 AND ", "<=", "DESC"),
		NMD_NS_KEY_LIST("services", "id", "", ">=", "ASC"),
		NMD_NS_KEY_LIST("services", "id", "", "<=", "DESC"),
	};
	return nmd_list_by_ns_key(snap, sql,
				  &nomad__service_registration__descriptor,
				  opts, cb, userdata, next_token, err);
}
