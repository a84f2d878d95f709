/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The shared helpers of the state-store tests (fixtures.h). They stand in
 * for what each test file used to carry a copy of.
 */
#include <nomad/state.h>

#include "test.h"
#include "structs/pb.h"
#include "unit/state/fixtures.h"

nomad_state *sf_open_at(const char *name, const nomad_state_config *cfg)
{
	nomad_state_config c = NOMAD_STATE_CONFIG_INIT;
	char path[512];
	nomad_state *s;
	nomad_error err;
	if (cfg)
		c = *cfg;
	snprintf(path, sizeof(path), "%s/%s", nmd_test_tmpdir(), name);
	c.path = path;
	if (nomad_state_open(&s, &c, &err))
		nmd_test_fail(__FILE__, __LINE__, "open %s: %s", path,
			      err.message);
	return s;
}

nomad_state *sf_open(const nomad_state_config *cfg)
{
	return sf_open_at("state.db", cfg);
}

const char *sf_uuid(char kind, unsigned n)
{
	static char buf[8][NOMAD_UUID_LEN + 1];
	static unsigned next;
	char *b = buf[next++ % 8];
	snprintf(b, NOMAD_UUID_LEN + 1, "%c%07x-0000-4000-8000-%012x", kind,
		 n & 0xfffffffu, n * 7919u);
	return b;
}

nomad_state_txn *sf_begin(nomad_state *s, uint64_t index)
{
	nomad_state_txn *txn;
	nomad_error err;
	if (nomad_state_txn_begin(s, index, &txn, &err))
		nmd_test_fail(__FILE__, __LINE__, "begin: %s", err.message);
	return txn;
}

void sf_commit(nomad_state_txn *txn)
{
	nomad_error err;
	if (nomad_state_txn_commit(txn, &err))
		nmd_test_fail(__FILE__, __LINE__, "commit: %s", err.message);
}

uint64_t sf_table_index(nomad_state *s, nomad_state_table t)
{
	nomad_state_snap *snap;
	uint64_t idx;
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	idx = nomad_state_snap_table_index(snap, t);
	nomad_state_snap_close(snap);
	return idx;
}

int sf_count_cb(const ProtobufCMessage *obj, void *ud)
{
	(void)obj;
	(*(unsigned *)ud)++;
	return 0;
}

void sf_add_group(nomad_job *j, const char *name, int count)
{
	Nomad__TaskGroup *tg = nmd_pb_new(&nomad__task_group__descriptor, NULL);
	CHECK(tg != NULL);
	CHECK(nmd_pb_set_string(NULL, &tg->name, name));
	tg->has_count = 1;
	tg->count = count;
	CHECK(NMD_PB_APPEND(NULL, j->taskgroups, j->n_taskgroups, tg));
}

nomad_job *sf_job(const char *ns, const char *id)
{
	nomad_job *j = nomad_job_new();
	CHECK(j != NULL);
	CHECK(nmd_pb_set_string(NULL, &j->namespace_, ns));
	CHECK(nmd_pb_set_string(NULL, &j->id, id));
	CHECK(nmd_pb_set_string(NULL, &j->name, id));
	sf_add_group(j, "web", 1);
	return j;
}

void sf_put_job(nomad_state *s, uint64_t index, const char *ns,
		const char *id)
{
	nomad_state_txn *txn = sf_begin(s, index);
	nomad_job *j = sf_job(ns, id);
	nomad_error err;
	if (nomad_state_job_upsert(txn, j, &err))
		nmd_test_fail(__FILE__, __LINE__, "job upsert: %s",
			      err.message);
	sf_commit(txn);
	nomad_job_free(j);
}
