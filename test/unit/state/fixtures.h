/* SPDX-License-Identifier: MPL-2.0 */
/*
 * What the state-store tests share: a store in the test's own directory,
 * deterministic UUIDs, transactions and reads that fail the test instead
 * of returning an error, and small job builders. Every helper fails the
 * test (nmd_test_fail), naming the call and the store's message, when
 * something it does fails.
 */
#ifndef NMD_TEST_STATE_FIXTURES_H
#define NMD_TEST_STATE_FIXTURES_H

#include <nomad/state.h>

/* The store "<test dir>/state.db" with `cfg`'s settings (NULL: the
 * defaults; cfg->path is ignored). Opening it again after closing it
 * reopens the same file. */
nomad_state *sf_open(const nomad_state_config *cfg);
/* The same, for the file `name` in the test's directory. */
nomad_state *sf_open_at(const char *name, const nomad_state_config *cfg);

/* A UUID for test object `n` of kind `kind` (a hex digit), so that IDs of
 * one kind sort by n: "<kind><n: 7 hex digits>-0000-4000-8000-<n*7919>".
 * The text lives in one of 8 buffers used in turn. */
const char *sf_uuid(char kind, unsigned n);

/* A transaction at `index`, and its commit. */
nomad_state_txn *sf_begin(nomad_state *s, uint64_t index);
void sf_commit(nomad_state_txn *txn);

/* The index of table `t` as a new snapshot sees it. */
uint64_t sf_table_index(nomad_state *s, nomad_state_table t);

/* A nomad_state_iter_cb that counts into the unsigned at `ud`. */
int sf_count_cb(const ProtobufCMessage *obj, void *ud);

/* Append group `name` of `count` to `j`. */
void sf_add_group(nomad_job *j, const char *name, int count);
/* Job `id` in namespace `ns`, named `id`, with group "web" of one. */
nomad_job *sf_job(const char *ns, const char *id);
/* Commit sf_job(ns, id) alone at `index`. */
void sf_put_job(nomad_state *s, uint64_t index, const char *ns,
		const char *id);

#endif
