/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Nodes in the state store: registration, status, eligibility and drain
 * (Nomad's UpsertNode, DeleteNode, UpdateNodeStatus, UpdateNodeEligibility
 * and UpdateNodeDrain), reads and listings, and nmd_node_pk, which gives
 * every node ID the integer key that clusters its allocations.
 *
 * Allocations may name a node the store has not seen registered, so
 * nmd_node_pk inserts a placeholder row (body NULL) for an unknown ID;
 * registering the node later fills that row, keeping its pk. Reads and
 * listings skip placeholders: to callers they do not exist.
 *
 * Updates decode the stored node, then pack a shallow copy of it whose
 * changed fields point at values on the stack, so that nothing but the
 * decoded node itself has to be freed.
 */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "state/state_int.h"
#include "structs/pb.h"

/* Nomad's NodeRegisterEventRegistered, NodeRegisterEventReregistered and
 * NodeEventSubsystemCluster. */
static const char ev_registered[] = "Node registered";
static const char ev_reregistered[] = "Node re-registered";
static const char subsystem_cluster[] = "Cluster";

/* Nomad's DrainStatus values for LastDrain.Status. */
static const char drain_draining[] = "draining";
static const char drain_complete[] = "complete";
static const char drain_canceled[] = "canceled";

/* ---- rows --------------------------------------------------------------- */

nomad_err nmd_node_pk(nomad_state_txn *txn, const uint8_t id[16],
		      int64_t *pk, nomad_error *err)
{
	static const char sql_get[] = "SELECT pk FROM nodes WHERE id = ?1";
	static const char sql_add[] = "INSERT INTO nodes(id, body) VALUES(?1, NULL)";
	sqlite3_stmt *st = nmd_stmt(txn->c, sql_get, err);
	nomad_err rc;
	int step;
	if (!st)
		return NOMAD_EIO;
	sqlite3_bind_blob(st, 1, id, 16, SQLITE_STATIC);
	step = sqlite3_step(st);
	if (step == SQLITE_ROW)
		*pk = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (step == SQLITE_ROW)
		return NOMAD_OK;
	if (step != SQLITE_DONE)
		return nmd_sqlite_fail(txn->c, err, "read node");

	/* Not seen yet: a placeholder, invisible until the node registers
	 * (so the nodes table's index does not move either). */
	if (!(st = nmd_stmt(txn->c, sql_add, err)))
		return NOMAD_EIO;
	sqlite3_bind_blob(st, 1, id, 16, SQLITE_STATIC);
	if ((rc = nmd_stmt_exec(txn->c, st, err)) < 0)
		return rc;
	*pk = sqlite3_last_insert_rowid(txn->c->db);
	return NOMAD_OK;
}

/* The registered node `id` inside txn: *out NULL when there is none (no
 * row, or a placeholder). */
static nomad_err load_node(nomad_state_txn *txn, const uint8_t id[16],
			   nomad_node **out, nomad_error *err)
{
	static const char sql[] = "SELECT body FROM nodes WHERE id = ?1";
	nomad_err rc = nmd_body_by_id(txn->c, sql, id, &nomad__node__descriptor,
				      (ProtobufCMessage **)out, err);
	return rc == NOMAD_ENOTFOUND ? NOMAD_OK : rc;
}

/* Write `n` as node `id`'s body: a new row, or the existing one (a
 * placeholder keeps its pk); `type` names the event it publishes. */
static nomad_err store_node(nomad_state_txn *txn, const uint8_t id[16],
			    const nomad_node *n, const char *type,
			    nomad_error *err)
{
	static const char sql[] =
		"INSERT INTO nodes(id, body) VALUES(?1, ?2) "
		"ON CONFLICT(id) DO UPDATE SET body = excluded.body";
	sqlite3_stmt *st = nmd_stmt(txn->c, sql, err);
	nomad_err rc;
	if (!st)
		return NOMAD_EIO;
	sqlite3_bind_blob(st, 1, id, 16, SQLITE_STATIC);
	if ((rc = nmd_bind_body(txn, st, 2, &n->base, err)) < 0 ||
	    (rc = nmd_stmt_exec(txn->c, st, err)) < 0)
		return rc;
	nmd_touch_key(txn, NOMAD_TABLE_NODES, n->id);
	nmd_view_node_put(txn, n);
	return nmd_txn_event(txn, NOMAD_TOPIC_NODE, type, n->id, NULL, NULL, 0,
			     &n->base, err);
}

/* Parse `id` and load its node for an update; NOMAD_ENOTFOUND when it is
 * not registered. */
static nomad_err load_for_update(nomad_state_txn *txn, const char *id,
				 uint8_t key[16], nomad_node **out,
				 nomad_error *err)
{
	nomad_err rc;
	*out = NULL;
	if (!txn)
		return nmd_seterr(err, NOMAD_EINVAL, "state: no transaction");
	if (!id || !nmd_uuid_to_bytes(id, key))
		return nmd_seterr(err, NOMAD_ENOTFOUND,
				  "state: node not found: %s", id ? id : "");
	if ((rc = load_node(txn, key, out, err)) < 0)
		return rc;
	if (!*out)
		return nmd_seterr(err, NOMAD_ENOTFOUND,
				  "state: node not found: %s", id);
	return NOMAD_OK;
}

/* ---- events ------------------------------------------------------------- */

/* Point (*events, *n) at `slots`, filled with `old` followed by `add` (may
 * be NULL), keeping the newest NMD_STATE_NODE_EVENTS as Nomad's
 * appendNodeEvents does. */
static void event_window(Nomad__NodeEvent *const *old, size_t n_old,
			 Nomad__NodeEvent *add,
			 Nomad__NodeEvent *slots[NMD_STATE_NODE_EVENTS],
			 Nomad__NodeEvent ***events, size_t *n)
{
	size_t total = n_old + (add != NULL), k = 0;
	size_t skip = total > NMD_STATE_NODE_EVENTS ? total - NMD_STATE_NODE_EVENTS
						    : 0;
	for (size_t i = skip; i < n_old; i++)
		slots[k++] = old[i];
	if (add)
		slots[k++] = add;
	*events = slots;
	*n = k;
}

static void set_index(nomad_node *n, uint64_t index)
{
	n->has_modifyindex = 1;
	n->modifyindex = index;
}

/* ---- writes ------------------------------------------------------------- */

nomad_err nomad_state_node_upsert(nomad_state_txn *txn, const nomad_node *node,
				  nomad_error *err)
{
	Nomad__NodeEvent ev = NOMAD__NODE_EVENT__INIT;
	Nomad__NodeEvent *slots[NMD_STATE_NODE_EVENTS];
	Nomad__Timestamp when = NOMAD__TIMESTAMP__INIT;
	nomad_node *old = NULL, n;
	uint8_t id[16];
	nomad_err rc;

	if (!txn || !node)
		return nmd_seterr(err, NOMAD_EINVAL, "state: no node");
	if (!node->id || !nmd_uuid_to_bytes(node->id, id))
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: node ID is not a UUID: id=%s",
				  node->id ? node->id : "");
	if ((rc = load_node(txn, id, &old, err)) < 0)
		return rc;

	n = *node;
	/* Nomad's Node.Register fills these in before the FSM sees them. */
	if (!n.has_status) {
		n.has_status = 1;
		n.status = NOMAD__NODE__STATUS_KIND__initializing;
	}
	when.has_seconds = 1;
	when.seconds = node->statusupdatedat;
	ev.subsystem = (char *)subsystem_cluster;
	ev.timestamp = &when;

	if (old) {
		Nomad__NodeEvent *add = NULL;
		bool was_down = old->has_status &&
				old->status == NOMAD__NODE__STATUS_KIND__down;
		n.has_createindex = old->has_createindex;
		n.createindex = old->createindex;
		/* The client does not own these: the operator and the
		 * drainer set them, so a re-registration keeps them. */
		n.has_schedulingeligibility = old->has_schedulingeligibility;
		n.schedulingeligibility = old->schedulingeligibility;
		n.drainstrategy = old->drainstrategy;
		n.lastdrain = old->lastdrain;
		if (was_down && n.status != NOMAD__NODE__STATUS_KIND__down) {
			ev.message = (char *)ev_reregistered;
			ev.has_createindex = 1;
			ev.createindex = txn->index;
			add = &ev;
		}
		event_window(old->events, old->n_events, add, slots, &n.events,
			     &n.n_events);
	} else {
		n.has_createindex = 1;
		n.createindex = txn->index;
		if (!n.has_schedulingeligibility) {
			n.has_schedulingeligibility = 1;
			n.schedulingeligibility =
				NOMAD__NODE__ELIGIBILITY_KIND__eligible;
		}
		/* As Nomad: the first event replaces whatever the client
		 * sent, and carries no CreateIndex. */
		ev.message = (char *)ev_registered;
		slots[0] = &ev;
		n.events = slots;
		n.n_events = 1;
	}
	/* Drain is Nomad's derived field: whether a DrainStrategy is set. */
	n.has_drain = 1;
	n.drain = n.drainstrategy != NULL;
	set_index(&n, txn->index);
	rc = store_node(txn, id, &n, NOMAD_EVENT_NODE_REGISTRATION, err);
	nmd_pb_free(old, NMD_STATE_MSG_ALLOC);
	return rc;
}

/* Whether allocations are still filed under node pk `pk`. */
static nomad_err node_has_allocs(nomad_state_txn *txn, int64_t pk, bool *has,
				 nomad_error *err)
{
	static const char sql[] =
		"SELECT EXISTS(SELECT 1 FROM allocs_hot WHERE node_pk = ?1)"
		" OR EXISTS(SELECT 1 FROM allocs_cold WHERE k >= ?2 AND k < ?3)";
	sqlite3_stmt *st = nmd_stmt(txn->c, sql, err);
	int step;
	if (!st)
		return NOMAD_EIO;
	sqlite3_bind_int64(st, 1, pk);
	sqlite3_bind_int64(st, 2, pk << NMD_STATE_PK_BITS);
	sqlite3_bind_int64(st, 3, (pk + 1) << NMD_STATE_PK_BITS);
	step = sqlite3_step(st);
	*has = step == SQLITE_ROW && sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return step == SQLITE_ROW ? NOMAD_OK
				  : nmd_sqlite_fail(txn->c, err, "read allocs");
}

/* Remove node `id` (known to be registered). While allocations still live
 * under its pk the row goes back to being a placeholder, so that the pk
 * and the allocations' cold keys stay valid; otherwise it is deleted. */
static nomad_err delete_node(nomad_state_txn *txn, const uint8_t id[16],
			     nomad_error *err)
{
	static const char sql_clear[] = "UPDATE nodes SET body = NULL WHERE pk = ?1";
	static const char sql_del[] = "DELETE FROM nodes WHERE pk = ?1";
	sqlite3_stmt *st;
	int64_t pk;
	bool has;
	nomad_err rc;
	if ((rc = nmd_node_pk(txn, id, &pk, err)) < 0 ||
	    (rc = node_has_allocs(txn, pk, &has, err)) < 0)
		return rc;
	if (!(st = nmd_stmt(txn->c, has ? sql_clear : sql_del, err)))
		return NOMAD_EIO;
	sqlite3_bind_int64(st, 1, pk);
	if ((rc = nmd_stmt_exec(txn->c, st, err)) >= 0)
		nmd_view_node_del(txn, id);
	return rc;
}

nomad_err nomad_state_nodes_delete(nomad_state_txn *txn,
				   const char *const *ids, size_t n,
				   nomad_error *err)
{
	nomad_err rc;
	if (!txn || (n && !ids))
		return nmd_seterr(err, NOMAD_EINVAL, "state: no node IDs");
	if (n == 0)
		return nmd_seterr(err, NOMAD_EINVAL, "state: node ids missing");
	/* All or nothing: check every ID before deleting any. */
	for (size_t i = 0; i < n; i++) {
		uint8_t id[16];
		nomad_node *node;
		if ((rc = load_for_update(txn, ids[i], id, &node, err)) < 0)
			return rc;
		nmd_pb_free(node, NMD_STATE_MSG_ALLOC);
	}
	/* A deleted node's pk may be handed out afresh: forget cached ones. */
	nmd_keycache_clear(&txn->s->node_pks);
	for (size_t i = 0; i < n; i++) {
		uint8_t id[16];
		nomad_node *node;
		nmd_uuid_to_bytes(ids[i], id);
		/* The event carries the node as it was, as Nomad's does. */
		if ((rc = load_node(txn, id, &node, err)) < 0)
			return rc;
		if ((rc = delete_node(txn, id, err)) >= 0 && node) {
			nmd_touch_key(txn, NOMAD_TABLE_NODES, node->id);
			rc = nmd_txn_event(txn, NOMAD_TOPIC_NODE,
					   NOMAD_EVENT_NODE_DEREGISTRATION,
					   node->id, NULL, NULL, 0, &node->base,
					   err);
		}
		nmd_pb_free(node, NMD_STATE_MSG_ALLOC);
		if (rc < 0)
			return rc;
	}
	nmd_touch(txn, NOMAD_TABLE_NODES);
	return NOMAD_OK;
}

nomad_err nomad_state_node_status(nomad_state_txn *txn, const char *id,
				  Nomad__Node__StatusKind status,
				  int64_t updated_at_unix,
				  const Nomad__NodeEvent *event,
				  nomad_error *err)
{
	Nomad__NodeEvent ev, *slots[NMD_STATE_NODE_EVENTS];
	nomad_node *old, n;
	uint8_t key[16];
	nomad_err rc;

	if (!protobuf_c_enum_descriptor_get_value(
		    &nomad__node__status_kind__descriptor, (int)status))
		return nmd_seterr(err, NOMAD_EINVAL,
				  "state: unknown node status %d", (int)status);
	if ((rc = load_for_update(txn, id, key, &old, err)) < 0)
		return rc;
	n = *old;
	n.has_status = 1;
	n.status = status;
	n.has_statusupdatedat = 1;
	n.statusupdatedat = updated_at_unix;
	if (event) {
		ev = *event;
		ev.has_createindex = 1;
		ev.createindex = txn->index;
		event_window(old->events, old->n_events, &ev, slots, &n.events,
			     &n.n_events);
	}
	set_index(&n, txn->index);
	rc = store_node(txn, key, &n, NOMAD_EVENT_NODE_STREAM, err);
	nmd_pb_free(old, NMD_STATE_MSG_ALLOC);
	return rc;
}

nomad_err nomad_state_node_eligibility(nomad_state_txn *txn, const char *id,
				       bool eligible, nomad_error *err)
{
	nomad_node *n;
	uint8_t key[16];
	nomad_err rc;

	if ((rc = load_for_update(txn, id, key, &n, err)) < 0)
		return rc;
	if (eligible && n->drainstrategy) {
		rc = nmd_seterr(err, NOMAD_EINVAL,
				"state: can not set node's scheduling "
				"eligibility to eligible while it is draining");
		goto done;
	}
	n->has_schedulingeligibility = 1;
	n->schedulingeligibility = eligible
		? NOMAD__NODE__ELIGIBILITY_KIND__eligible
		: NOMAD__NODE__ELIGIBILITY_KIND__ineligible;
	set_index(n, txn->index);
	/* Nomad types eligibility changes NodeDrain (MsgTypeEvents). */
	rc = store_node(txn, key, n, NOMAD_EVENT_NODE_DRAIN, err);
done:
	nmd_pb_free(n, NMD_STATE_MSG_ALLOC);
	return rc;
}

/*
 * Nomad's updateNodeDrainImpl. `now` (seconds; NULL when unknown) stamps
 * StatusUpdatedAt and LastDrain.UpdatedAt; `completed` tells a drain the
 * drainer finished from one an operator canceled.
 */
static nomad_err drain_update(nomad_state_txn *txn, const char *id,
			      const Nomad__DrainStrategy *strategy,
			      bool mark_eligible, bool completed,
			      const Nomad__Timestamp *now, nomad_error *err)
{
	Nomad__DrainMetadata md = NOMAD__DRAIN_METADATA__INIT;
	Nomad__Timestamp started = NOMAD__TIMESTAMP__INIT;
	nomad_node *old, n;
	uint8_t key[16];
	nomad_err rc;

	if ((rc = load_for_update(txn, id, key, &old, err)) < 0)
		return rc;
	n = *old;
	n.drainstrategy = (Nomad__DrainStrategy *)strategy;
	n.has_drain = 1;
	n.drain = strategy != NULL;
	if (strategy || mark_eligible) {
		n.has_schedulingeligibility = 1;
		n.schedulingeligibility =
			strategy ? NOMAD__NODE__ELIGIBILITY_KIND__ineligible
				 : NOMAD__NODE__ELIGIBILITY_KIND__eligible;
	}
	if (now) {
		n.has_statusupdatedat = 1;
		n.statusupdatedat = now->seconds;
	}

	/* Neither draining before nor after: not a drain operation, and
	 * LastDrain stays as it is. */
	if (old->drainstrategy || strategy) {
		if (!old->drainstrategy) {
			/* A new drain starts a new LastDrain. */
			md.startedat = (Nomad__Timestamp *)now;
		} else if (old->lastdrain) {
			md = *old->lastdrain;
		} else if (old->drainstrategy->startedat) {
			/* Draining since before LastDrain existed: Nomad
			 * builds one, truncated to the second. */
			started.has_seconds = 1;
			started.seconds = old->drainstrategy->startedat->seconds;
			md.startedat = &started;
		}
		if (now)
			md.updatedat = (Nomad__Timestamp *)now;
		md.status = (char *)(strategy	 ? drain_draining
				     : completed ? drain_complete
						 : drain_canceled);
		n.lastdrain = &md;
	}
	set_index(&n, txn->index);
	rc = store_node(txn, key, &n, NOMAD_EVENT_NODE_DRAIN, err);
	nmd_pb_free(old, NMD_STATE_MSG_ALLOC);
	return rc;
}

nomad_err nomad_state_node_drain(nomad_state_txn *txn, const char *id,
				 const Nomad__DrainStrategy *strategy,
				 bool mark_eligible, nomad_error *err)
{
	Nomad__Timestamp now = NOMAD__TIMESTAMP__INIT;
	bool have_now = false;
	/*
	 * The store reads no clock (a replayed log must give the same
	 * state), and this call carries no time of its own. Nomad's endpoint
	 * stamps a new drain's StartedAt with the time it uses for the
	 * update, so that time is known when a drain starts or changes; when
	 * one stops, LastDrain.UpdatedAt keeps its last value.
	 */
	if (strategy && strategy->startedat && strategy->startedat->has_seconds) {
		now.has_seconds = 1;
		now.seconds = strategy->startedat->seconds;
		have_now = true;
	}
	/* An operator's call: a stopped drain was canceled (the drainer's
	 * "complete" comes through drain_update with completed). */
	return drain_update(txn, id, strategy, mark_eligible, false,
			    have_now ? &now : NULL, err);
}

/* ---- reads -------------------------------------------------------------- */

nomad_err nomad_state_node_get(nomad_state_snap *snap, const char *id,
			       nomad_node **out)
{
	static const char sql[] = "SELECT body FROM nodes WHERE id = ?1";
	uint8_t key[16];

	if (!out)
		return NOMAD_EINVAL;
	*out = NULL;
	if (!snap)
		return NOMAD_EINVAL;
	if (!id || !nmd_uuid_to_bytes(id, key))
		return NOMAD_ENOTFOUND;
	return nmd_body_by_id(snap->c, sql, key, &nomad__node__descriptor,
			      (ProtobufCMessage **)out, NULL);
}

nomad_err nomad_state_nodes_list(nomad_state_snap *snap,
				 const nomad_state_list_options *opts,
				 nomad_state_iter_cb cb, void *userdata,
				 char next_token[NOMAD_STATE_TOKEN_MAX],
				 nomad_error *err)
{
	static const char sql_asc[] =
		"SELECT lower(hex(id)), body FROM nodes"
		" WHERE id >= ?1 AND id < ?2 AND body IS NOT NULL ORDER BY id";
	static const char sql_desc[] =
		"SELECT lower(hex(id)), body FROM nodes"
		" WHERE id >= ?1 AND id < ?2 AND body IS NOT NULL"
		" ORDER BY id DESC";
	struct nmd_id_range r;
	sqlite3_stmt *st;
	nomad_err rc;

	/* The range comes before clearing next_token, which may be the
	 * very buffer opts->next_token points at. */
	rc = nmd_id_range(opts, &r, err);
	if (next_token)
		next_token[0] = '\0';
	if (rc < 0)
		return rc;
	if (!snap || !cb)
		return nmd_seterr(err, NOMAD_EINVAL, "state: no snapshot or callback");
	/* Nodes have no namespace: opts->ns does not apply. */
	if (!(st = nmd_stmt(snap->c, opts && opts->reverse ? sql_desc : sql_asc,
			    err)))
		return NOMAD_EIO;
	sqlite3_bind_blob(st, 1, r.lo, r.lo_len, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 2, r.hi, r.hi_len, SQLITE_TRANSIENT);
	return nmd_list_rows(snap, st, &nomad__node__descriptor, opts, cb,
			     userdata, next_token, err);
}
