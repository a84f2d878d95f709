/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Between the files of the smaller tables (lib/state only): tables.c
 * (namespaces, node pools, scheduler configuration, periodic launches),
 * tables_acl.c (ACL policies and tokens), tables_vars.c (variables) and
 * tables_services.c (service registrations).
 *
 * Their rows are found by text keys (a name, or a namespace and an ID), and
 * their bodies are the objects' protobuf encoding, as everywhere in the
 * store. The helpers here read and write one row by its keys, stamp the
 * Raft indexes, and page through the two listing shapes: by one text key,
 * and by namespace and key with the token "<namespace>.<key>".
 */
#ifndef NMD_STATE_TABLES_INT_H
#define NMD_STATE_TABLES_INT_H

#include "state/state_int.h"

/* Nomad's DefaultNamespace. */
#define NMD_NS_DEFAULT "default"

/* `ns`, or "default" when NULL or empty. */
const char *nmd_ns_or_default(const char *ns);

/* Run `sql`, whose parameters 1..n are the text `keys`, on `c`, and decode
 * column 0 of its first row as a `desc` message into *out (a message
 * pointer). NOMAD_ENOTFOUND (*out NULL) when there is no row. */
nomad_err nmd_row_get(struct nmd_conn *c, const char *sql,
		      const char *const *keys, int n,
		      const ProtobufCMessageDescriptor *desc, void *out,
		      nomad_error *err);

/* Run the write `sql` in txn with the text `keys` as parameters 1..n (NULL
 * binds "") and, when `msg` is not NULL, its body as parameter n + 1.
 * *changed (may be NULL) receives the number of rows it changed. */
nomad_err nmd_row_write(nomad_state_txn *txn, const char *sql,
			const char *const *keys, int n,
			const ProtobufCMessage *msg, int *changed,
			nomad_error *err);

/* nmd_row_get for an update inside txn: *old NULL (and NOMAD_OK) when
 * there is no row. */
nomad_err nmd_row_load(nomad_state_txn *txn, const char *sql,
		       const char *const *keys, int n,
		       const ProtobufCMessageDescriptor *desc, void *old,
		       nomad_error *err);

/* The plain upsert: stamp `copy` (a shallow copy of the caller's object)
 * against the row `sql_get` finds, write it with `sql_put` (both take the
 * same keys; the body is parameter n + 1), and touch `table`. */
nomad_err nmd_row_upsert(nomad_state_txn *txn, const char *sql_get,
			 const char *sql_put, const char *const *keys, int n,
			 ProtobufCMessage *copy, nomad_state_table table,
			 nomad_error *err);

/* Set msg's CreateIndex (kept from `old`, the stored version, when there is
 * one) and its ModifyIndex to `index`. Every message these tables store has
 * both fields. */
void nmd_row_stamp(ProtobufCMessage *msg, const ProtobufCMessage *old,
		   uint64_t index);

/*
 * A listing ordered by one text key. `sql` holds the ascending and the
 * descending statement, each selecting (key, body) with
 *   ?1 the prefix the key starts with, and
 *   ?2 the bound: key >= ?2 ascending, key <= ?2 descending.
 * The options' namespace does not apply.
 */
nomad_err nmd_list_by_key(nomad_state_snap *snap, const char *const sql[2],
			  const ProtobufCMessageDescriptor *desc,
			  const nomad_state_list_options *opts,
			  nomad_state_iter_cb cb, void *userdata,
			  char next_token[NOMAD_STATE_TOKEN_MAX],
			  nomad_error *err);

/*
 * A listing ordered by namespace, then key. `sql` holds four statements
 * selecting (ns || '.' || key, body): one namespace ascending and
 * descending, then every namespace ascending and descending, with
 *   ?1 the namespace (the first two only), ?2 the key prefix, and
 *   (?3, ?4) the bound on (ns, key): >= ascending, <= descending.
 */
nomad_err nmd_list_by_ns_key(nomad_state_snap *snap, const char *const sql[4],
			     const ProtobufCMessageDescriptor *desc,
			     const nomad_state_list_options *opts,
			     nomad_state_iter_cb cb, void *userdata,
			     char next_token[NOMAD_STATE_TOKEN_MAX],
			     nomad_error *err);

/* Every row `sql` (parameters: the text `keys`) selects as ('', body), in
 * its order, without paging. */
nomad_err nmd_rows_each(nomad_state_snap *snap, const char *sql,
			const char *const *keys, int n,
			const ProtobufCMessageDescriptor *desc,
			nomad_state_iter_cb cb, void *userdata,
			nomad_error *err);

/* SQL for the two listing shapes, as jobs.c spells its own: every bound
 * is always bound, so one statement per shape serves. */
#define NMD_KEY_LIST(table, key, cmp, order)                                  \
	"SELECT " key ", body FROM " table " WHERE " key " >= ?1"             \
	" AND substr(" key ", 1, length(?1)) = ?1 AND " key " " cmp " ?2"     \
	" ORDER BY " key " " order
#define NMD_NS_KEY_LIST(table, key, where, cmp, order)                        \
	"SELECT ns || '.' || " key ", body FROM " table " WHERE " where       \
	key " >= ?2 AND substr(" key ", 1, length(?2)) = ?2"                  \
	" AND (ns, " key ") " cmp " (?3, ?4)"                                 \
	" ORDER BY ns " order ", " key " " order

#endif
