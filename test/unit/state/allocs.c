/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Allocations in the state store: placement and reads by ID, node, job,
 * evaluation and deployment; client updates that never clobber server
 * fields; terminal filtering; the move from the hot to the cold table;
 * plan results applied whole or not at all; listings; and a writer
 * killed with SIGKILL in the middle of its batches.
 */
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nomad/state.h>

#include "test.h"
#include "fixtures.h"
#include "structs/pb.h"

static nomad_state *open_store_ckpt(unsigned hot_max, unsigned ckpt_pages)
{
	nomad_state_config cfg = NOMAD_STATE_CONFIG_INIT;
	cfg.hot_allocs_max = hot_max;
	cfg.checkpoint_pages = ckpt_pages;
	return sf_open(&cfg);
}

static nomad_state *open_store(unsigned hot_max)
{
	return open_store_ckpt(hot_max, 0);
}

static nomad_job *job(const char *id, uint64_t version)
{
	nomad_job *j = nomad_job_new();
	CHECK(nmd_pb_set_string(NULL, &j->id, id));
	CHECK(nmd_pb_set_string(NULL, &j->namespace_, "default"));
	j->has_version = 1;
	j->version = version;
	return j;
}

static nomad_alloc *alloc(unsigned n, unsigned node, const char *job_id,
			  const nomad_job *jb)
{
	nomad_alloc *a = nomad_alloc_new();
	CHECK(nmd_pb_set_string(NULL, &a->id, sf_uuid('a', n)));
	CHECK(nmd_pb_set_string(NULL, &a->nodeid, sf_uuid('d', node)));
	CHECK(nmd_pb_set_string(NULL, &a->evalid, sf_uuid('e', n % 3)));
	CHECK(nmd_pb_set_string(NULL, &a->jobid, job_id));
	CHECK(nmd_pb_set_string(NULL, &a->namespace_, "default"));
	CHECK(nmd_pb_set_string(NULL, &a->taskgroup, "web"));
	CHECK(nmd_pb_set_string(NULL, &a->name, "web.web[0]"));
	a->has_desiredstatus = a->has_clientstatus = 1;
	a->desiredstatus = NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run;
	a->clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__pending;
	if (jb)
		CHECK_OK(nomad_job_copy(&a->job, jb));
	return a;
}

static void put(nomad_state *s, uint64_t index, nomad_alloc **as, size_t n)
{
	nomad_state_txn *txn;
	nomad_error err;
	CHECK_OK(nomad_state_txn_begin(s, index, &txn, &err));
	if (nomad_state_allocs_upsert(txn, as, n, &err))
		nmd_test_fail(__FILE__, __LINE__, "upsert: %s", err.message);
	CHECK_OK(nomad_state_txn_commit(txn, &err));
}

struct collect {
	unsigned n;
	char ids[64][NOMAD_UUID_LEN + 1];
	int with_job;
};

static int collect(const ProtobufCMessage *obj, void *ud)
{
	struct collect *c = ud;
	const nomad_alloc *a = (const nomad_alloc *)obj;
	if (c->n < 64)
		snprintf(c->ids[c->n], sizeof(c->ids[0]), "%s", a->id);
	if (a->job)
		c->with_job++;
	c->n++;
	return 0;
}

static void free_all(nomad_alloc **as, size_t n)
{
	for (size_t i = 0; i < n; i++)
		nomad_alloc_free(as[i]);
}

NMD_TEST(test_state_allocs__place_and_read_every_way)
{
	nomad_state *s = open_store(0);
	nomad_job *j = job("web", 3);
	nomad_alloc *as[4] = {alloc(1, 1, "web", j), alloc(2, 1, "web", j),
			      alloc(3, 2, "web", j), alloc(4, 2, "other", NULL)};
	nomad_state_snap *snap;
	nomad_alloc *got;
	struct collect c = {0};
	CHECK(nmd_pb_set_string(NULL, &as[1]->deploymentid, sf_uuid('f', 1)));
	put(s, 10, as, 4);
	CHECK_INT(as[0]->createindex, 10);
	CHECK_INT(as[0]->allocmodifyindex, 10);

	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_INT(nomad_state_snap_table_index(snap, NOMAD_TABLE_ALLOCS), 10);
	CHECK_OK(nomad_state_alloc_get(snap, sf_uuid('a', 2), true, &got));
	CHECK_STR(got->id, sf_uuid('a', 2));
	CHECK(got->job && got->job->version == 3);
	CHECK_INT(got->jobversion, 3);
	CHECK_INT(got->createindex, 10);
	nomad_alloc_free(got);
	CHECK_OK(nomad_state_alloc_get(snap, sf_uuid('a', 2), false, &got));
	CHECK(got->job == NULL);
	nomad_alloc_free(got);
	CHECK_INT(nomad_state_alloc_get(snap, sf_uuid('a', 9), false, &got),
		  NOMAD_ENOTFOUND);
	CHECK_INT(nomad_state_alloc_get(snap, "not-a-uuid", false, &got),
		  NOMAD_ENOTFOUND);

	CHECK_OK(nomad_state_allocs_by_node(snap, sf_uuid('d', 1),
					    NOMAD_STATE_WITH_JOB, collect, &c, NULL));
	CHECK_INT(c.n, 2);
	CHECK_INT(c.with_job, 2);
	memset(&c, 0, sizeof(c));
	CHECK_OK(nomad_state_allocs_by_job(snap, "default", "web", 0, collect,
					   &c, NULL));
	CHECK_INT(c.n, 3);
	CHECK_STR(c.ids[0], sf_uuid('a', 1)); /* ID order */
	memset(&c, 0, sizeof(c));
	CHECK_OK(nomad_state_allocs_by_eval(snap, sf_uuid('e', 1), 0, collect, &c,
					    NULL));
	CHECK_INT(c.n, 2); /* allocs 1 and 4 */
	memset(&c, 0, sizeof(c));
	CHECK_OK(nomad_state_allocs_by_deployment(snap, sf_uuid('f', 1), 0,
						  collect, &c, NULL));
	CHECK_INT(c.n, 1);
	CHECK_STR(c.ids[0], sf_uuid('a', 2));
	memset(&c, 0, sizeof(c));
	CHECK_OK(nomad_state_allocs_by_node(snap, sf_uuid('d', 7), 0, collect, &c,
					    NULL));
	CHECK_INT(c.n, 0);
	nomad_state_snap_close(snap);
	free_all(as, 4);
	nomad_job_free(j);
	nomad_state_close(s);
}

NMD_TEST(test_state_allocs__rejects_bad_ids)
{
	nomad_state *s = open_store(0);
	nomad_alloc *a = alloc(1, 1, "web", NULL);
	nomad_state_txn *txn;
	nomad_error err;
	CHECK(nmd_pb_set_string(NULL, &a->nodeid, "node-1"));
	CHECK_OK(nomad_state_txn_begin(s, 5, &txn, NULL));
	CHECK_INT(nomad_state_allocs_upsert(txn, &a, 1, &err), NOMAD_EINVAL);
	CHECK_CONTAINS(err.message, "NodeID node-1 is not a UUID");
	CHECK(nmd_pb_set_string(NULL, &a->id, "x"));
	CHECK_INT(nomad_state_allocs_upsert(txn, &a, 1, &err), NOMAD_EINVAL);
	CHECK_CONTAINS(err.message, "allocation ID x is not a UUID");
	nomad_state_txn_abort(txn);
	CHECK_INT(nomad_state_last_index(s), 0);
	nomad_alloc_free(a);
	nomad_state_close(s);
}

NMD_TEST(test_state_allocs__client_updates_merge_without_clobbering)
{
	nomad_state *s = open_store(0);
	nomad_alloc *a = alloc(1, 1, "web", NULL), *u, *got;
	nomad_state_snap *snap;
	nomad_state_txn *txn;
	put(s, 10, &a, 1);

	/* The client reports running with a description. */
	u = nomad_alloc_new();
	CHECK(nmd_pb_set_string(NULL, &u->id, sf_uuid('a', 1)));
	u->has_clientstatus = 1;
	u->clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__running;
	CHECK(nmd_pb_set_string(NULL, &u->clientdescription, "tasks are running"));
	CHECK_OK(nomad_state_txn_begin(s, 11, &txn, NULL));
	CHECK_OK(nomad_state_allocs_client_update(txn, &u, 1, NULL));
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
	/* The caller's update is unchanged after the call. */
	CHECK_STR(u->clientdescription, "tasks are running");
	CHECK(!u->has_desiredstatus && u->taskgroup == NULL);

	/* The scheduler re-upserts the allocation: client fields survive. */
	a->has_clientstatus = 1;
	a->clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__pending;
	CHECK(nmd_pb_set_string(NULL, &a->desireddescription, "updated in place"));
	put(s, 12, &a, 1);

	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_OK(nomad_state_alloc_get(snap, sf_uuid('a', 1), false, &got));
	CHECK_INT(got->clientstatus, NOMAD__ALLOCATION__CLIENT_STATUS_KIND__running);
	CHECK_STR(got->clientdescription, "tasks are running");
	CHECK_STR(got->desireddescription, "updated in place");
	CHECK_STR(got->taskgroup, "web");
	CHECK_INT(got->createindex, 10);
	CHECK_INT(got->modifyindex, 12);
	CHECK_INT(got->allocmodifyindex, 12);
	nomad_alloc_free(got);
	nomad_state_snap_close(snap);

	/* A client update moves ModifyIndex only; unknown IDs are skipped. */
	CHECK(nmd_pb_set_string(NULL, &u->clientdescription, "exited"));
	u->clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__complete;
	{
		nomad_alloc *two[2] = {u, alloc(99, 1, "web", NULL)};
		CHECK_OK(nomad_state_txn_begin(s, 13, &txn, NULL));
		CHECK_OK(nomad_state_allocs_client_update(txn, two, 2, NULL));
		CHECK_OK(nomad_state_txn_commit(txn, NULL));
		nomad_alloc_free(two[1]);
	}
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_OK(nomad_state_alloc_get(snap, sf_uuid('a', 1), false, &got));
	CHECK_INT(got->modifyindex, 13);
	CHECK_INT(got->allocmodifyindex, 12);
	CHECK_STR(got->clientdescription, "exited");
	CHECK_STR(got->desireddescription, "updated in place");
	nomad_alloc_free(got);
	CHECK_INT(nomad_state_alloc_get(snap, sf_uuid('a', 99), false, &got),
		  NOMAD_ENOTFOUND);
	nomad_state_snap_close(snap);
	nomad_alloc_free(u);
	nomad_alloc_free(a);
	nomad_state_close(s);
}

static void register_svc(nomad_state *s, uint64_t index, const char *id,
			 const char *alloc_id)
{
	nomad_service_registration *r = nomad_service_registration_new();
	nomad_state_txn *txn;
	CHECK(r != NULL);
	CHECK(nmd_pb_set_string(NULL, &r->id, id));
	CHECK(nmd_pb_set_string(NULL, &r->servicename, "web"));
	CHECK(nmd_pb_set_string(NULL, &r->jobid, "web"));
	CHECK(nmd_pb_set_string(NULL, &r->allocid, alloc_id));
	CHECK(nmd_pb_set_string(NULL, &r->nodeid, sf_uuid('d', 1)));
	CHECK_OK(nomad_state_txn_begin(s, index, &txn, NULL));
	CHECK_OK(nomad_state_service_upsert(txn, r, NULL));
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
	nomad_service_registration_free(r);
}

/* How many registrations allocation `id` has. */
static unsigned services_of(nomad_state *s, const char *id)
{
	nomad_state_snap *snap;
	unsigned n = 0;
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_OK(nomad_state_services_by_alloc(snap, id, sf_count_cb, &n, NULL));
	nomad_state_snap_close(snap);
	return n;
}

static void client_update(nomad_state *s, uint64_t index, const char *id,
			  Nomad__Allocation__ClientStatusKind status)
{
	nomad_alloc *u = nomad_alloc_new();
	nomad_state_txn *txn;
	CHECK(u != NULL);
	CHECK(nmd_pb_set_string(NULL, &u->id, id));
	u->has_clientstatus = 1;
	u->clientstatus = status;
	CHECK_OK(nomad_state_txn_begin(s, index, &txn, NULL));
	CHECK_OK(nomad_state_allocs_client_update(txn, &u, 1, NULL));
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
	nomad_alloc_free(u);
}

/* As Nomad's nestedUpdateAllocFromClient: once an allocation is terminal
 * on its client (complete, failed or lost), its service registrations go,
 * and the services table's index moves with them (only then). */
NMD_TEST(test_state_allocs__client_terminal_deletes_services)
{
	nomad_state *s = open_store(0);
	nomad_alloc *as[4] = {alloc(1, 1, "web", NULL), alloc(2, 1, "web", NULL),
			      alloc(3, 1, "web", NULL), alloc(4, 1, "web", NULL)};
	put(s, 10, as, 4);
	register_svc(s, 11, "_nomad-task-1", sf_uuid('a', 1));
	register_svc(s, 12, "_nomad-task-2", sf_uuid('a', 2));
	register_svc(s, 13, "_nomad-task-3", sf_uuid('a', 3));
	register_svc(s, 14, "_nomad-task-4a", sf_uuid('a', 4));
	register_svc(s, 15, "_nomad-task-4b", sf_uuid('a', 4));

	/* Running is not terminal: the registrations stay. */
	client_update(s, 20, sf_uuid('a', 1),
		      NOMAD__ALLOCATION__CLIENT_STATUS_KIND__running);
	CHECK_INT(services_of(s, sf_uuid('a', 1)), 1);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_SERVICES), 15);

	client_update(s, 21, sf_uuid('a', 1),
		      NOMAD__ALLOCATION__CLIENT_STATUS_KIND__complete);
	CHECK_INT(services_of(s, sf_uuid('a', 1)), 0);
	CHECK_INT(services_of(s, sf_uuid('a', 2)), 1);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_SERVICES), 21);
	client_update(s, 22, sf_uuid('a', 2),
		      NOMAD__ALLOCATION__CLIENT_STATUS_KIND__failed);
	CHECK_INT(services_of(s, sf_uuid('a', 2)), 0);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_SERVICES), 22);
	client_update(s, 23, sf_uuid('a', 4),
		      NOMAD__ALLOCATION__CLIENT_STATUS_KIND__lost);
	CHECK_INT(services_of(s, sf_uuid('a', 4)), 0);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_SERVICES), 23);

	/* Terminal again with nothing left to delete: no write. */
	client_update(s, 24, sf_uuid('a', 1),
		      NOMAD__ALLOCATION__CLIENT_STATUS_KIND__complete);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_SERVICES), 23);

	/* Stopped by the server but still running on the client: Nomad
	 * waits for the client to say it ended. */
	as[2]->desiredstatus = NOMAD__ALLOCATION__DESIRED_STATUS_KIND__stop;
	put(s, 25, &as[2], 1);
	client_update(s, 26, sf_uuid('a', 3),
		      NOMAD__ALLOCATION__CLIENT_STATUS_KIND__running);
	CHECK_INT(services_of(s, sf_uuid('a', 3)), 1);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_SERVICES), 23);
	free_all(as, 4);
	nomad_state_close(s);
}

/* Garbage collection takes an allocation's registrations with it. */
NMD_TEST(test_state_allocs__gc_deletes_services)
{
	nomad_state *s = open_store(0);
	nomad_alloc *as[2] = {alloc(1, 1, "web", NULL), alloc(2, 1, "web", NULL)};
	const char *gone[1];
	nomad_state_txn *txn;
	put(s, 10, as, 2);
	register_svc(s, 11, "_nomad-task-1", sf_uuid('a', 1));
	register_svc(s, 12, "_nomad-task-2", sf_uuid('a', 2));
	gone[0] = sf_uuid('a', 1);
	CHECK_OK(nomad_state_txn_begin(s, 20, &txn, NULL));
	CHECK_OK(nomad_state_evals_delete(txn, NULL, 0, gone, 1, NULL));
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
	CHECK_INT(services_of(s, sf_uuid('a', 1)), 0);
	CHECK_INT(services_of(s, sf_uuid('a', 2)), 1);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_SERVICES), 20);
	free_all(as, 2);
	nomad_state_close(s);
}

NMD_TEST(test_state_allocs__terminal_filter)
{
	nomad_state *s = open_store(0);
	nomad_alloc *as[3] = {alloc(1, 1, "web", NULL), alloc(2, 1, "web", NULL),
			      alloc(3, 1, "web", NULL)};
	nomad_state_snap *snap;
	struct collect c = {0};
	as[1]->desiredstatus = NOMAD__ALLOCATION__DESIRED_STATUS_KIND__stop;
	as[2]->clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__failed;
	put(s, 3, as, 3);
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_OK(nomad_state_allocs_by_node(snap, sf_uuid('d', 1), 0, collect, &c, NULL));
	CHECK_INT(c.n, 1);
	memset(&c, 0, sizeof(c));
	CHECK_OK(nomad_state_allocs_by_node(snap, sf_uuid('d', 1), NOMAD_STATE_TERMINAL,
					    collect, &c, NULL));
	CHECK_INT(c.n, 3);
	memset(&c, 0, sizeof(c));
	CHECK_OK(nomad_state_allocs_by_job(snap, NULL, "web", 0, collect, &c, NULL));
	CHECK_INT(c.n, 1);
	nomad_state_snap_close(snap);
	free_all(as, 3);
	nomad_state_close(s);
}

NMD_TEST(test_state_allocs__hot_to_cold_is_invisible_to_readers)
{
	nomad_state *s = open_store(8); /* move after 8 hot rows */
	nomad_alloc *as[30];
	nomad_state_snap *snap;
	struct collect c = {0};
	nomad_alloc *u, *got;
	nomad_state_txn *txn;
	for (unsigned i = 0; i < 30; i++)
		as[i] = alloc(i + 1, i % 3, "web", NULL);
	for (unsigned i = 0; i < 30; i += 5)
		put(s, 100 + i, as + i, 5);
	/* Update one that has moved to the cold table. */
	u = nomad_alloc_new();
	CHECK(nmd_pb_set_string(NULL, &u->id, sf_uuid('a', 1)));
	u->has_clientstatus = 1;
	u->clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__running;
	CHECK_OK(nomad_state_txn_begin(s, 200, &txn, NULL));
	CHECK_OK(nomad_state_allocs_client_update(txn, &u, 1, NULL));
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
	nomad_alloc_free(u);

	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	for (unsigned node = 0; node < 3; node++) {
		memset(&c, 0, sizeof(c));
		CHECK_OK(nomad_state_allocs_by_node(snap, sf_uuid('d', node), 0,
						    collect, &c, NULL));
		CHECK_INT(c.n, 10);
	}
	memset(&c, 0, sizeof(c));
	CHECK_OK(nomad_state_allocs_by_job(snap, "default", "web", 0, collect,
					   &c, NULL));
	CHECK_INT(c.n, 30);
	for (unsigned i = 1; i <= 30; i++) {
		CHECK_OK(nomad_state_alloc_get(snap, sf_uuid('a', i), false, &got));
		if (i == 1)
			CHECK_INT(got->clientstatus,
				  NOMAD__ALLOCATION__CLIENT_STATUS_KIND__running);
		nomad_alloc_free(got);
	}
	nomad_state_snap_close(snap);
	free_all(as, 30);
	nomad_state_close(s);
}

NMD_TEST(test_state_allocs__listing_pages_and_prefix)
{
	nomad_state *s = open_store(4);
	nomad_alloc *as[10];
	nomad_state_snap *snap;
	nomad_state_list_options o = NOMAD_STATE_LIST_OPTIONS_INIT;
	char token[NOMAD_STATE_TOKEN_MAX];
	struct collect c = {0};
	unsigned total = 0;
	for (unsigned i = 0; i < 10; i++)
		as[i] = alloc(i + 1, i % 2, "web", NULL);
	CHECK(nmd_pb_set_string(NULL, &as[9]->namespace_, "other"));
	put(s, 1, as, 10);
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	o.per_page = 4;
	do {
		memset(&c, 0, sizeof(c));
		CHECK_OK(nomad_state_allocs_list(snap, &o, collect, &c, token, NULL));
		CHECK(c.n <= 4);
		total += c.n;
		o.next_token = token;
	} while (token[0]);
	CHECK_INT(total, 9); /* the "other" namespace is left out */

	memset(&c, 0, sizeof(c));
	o = (nomad_state_list_options)NOMAD_STATE_LIST_OPTIONS_INIT;
	o.ns = "*";
	o.prefix = "a000000";
	CHECK_OK(nomad_state_allocs_list(snap, &o, collect, &c, NULL, NULL));
	CHECK_INT(c.n, 10);
	memset(&c, 0, sizeof(c));
	o.prefix = "a0000003";
	CHECK_OK(nomad_state_allocs_list(snap, &o, collect, &c, NULL, NULL));
	CHECK_INT(c.n, 1);
	CHECK_STR(c.ids[0], sf_uuid('a', 3));
	memset(&c, 0, sizeof(c));
	o.prefix = "zz";
	CHECK_OK(nomad_state_allocs_list(snap, &o, collect, &c, NULL, NULL));
	CHECK_INT(c.n, 0);
	memset(&c, 0, sizeof(c));
	o.prefix = NULL;
	o.reverse = true;
	CHECK_OK(nomad_state_allocs_list(snap, &o, collect, &c, NULL, NULL));
	CHECK_INT(c.n, 10);
	CHECK_STR(c.ids[0], sf_uuid('a', 10));
	nomad_state_snap_close(snap);
	free_all(as, 10);
	nomad_state_close(s);
}

NMD_TEST(test_state_allocs__plan_result_is_atomic)
{
	nomad_state *s = open_store(0);
	nomad_alloc *old = alloc(1, 1, "web", NULL);
	nomad_plan_result *r = nomad_plan_result_new();
	Nomad__AllocationListEntry *stop = nmd_pb_new(
		&nomad__allocation_list_entry__descriptor, NULL);
	Nomad__AllocationListEntry *place = nmd_pb_new(
		&nomad__allocation_list_entry__descriptor, NULL);
	nomad_alloc *diff = nomad_alloc_new(), *got;
	nomad_state_snap *snap;
	nomad_state_txn *txn;
	nomad_error err;
	put(s, 5, &old, 1);

	/* Stop alloc 1, place 2 and 3, and stop a missing alloc 9. */
	CHECK(nmd_pb_set_string(NULL, &diff->id, sf_uuid('a', 1)));
	CHECK(nmd_pb_set_string(NULL, &diff->desireddescription, "alloc is being updated"));
	stop->value = nmd_pb_new(&nomad__allocation_list__descriptor, NULL);
	CHECK(NMD_PB_APPEND(NULL, stop->value->items, stop->value->n_items, diff));
	place->value = nmd_pb_new(&nomad__allocation_list__descriptor, NULL);
	CHECK(NMD_PB_APPEND(NULL, place->value->items, place->value->n_items,
			    alloc(2, 1, "web", NULL)));
	CHECK(NMD_PB_APPEND(NULL, place->value->items, place->value->n_items,
			    alloc(3, 1, "web", NULL)));
	CHECK(NMD_PB_APPEND(NULL, r->nodeupdate, r->n_nodeupdate, stop));
	CHECK(NMD_PB_APPEND(NULL, r->nodeallocation, r->n_nodeallocation, place));
	diff = nomad_alloc_new();
	CHECK(nmd_pb_set_string(NULL, &diff->id, sf_uuid('a', 9)));
	CHECK(NMD_PB_APPEND(NULL, stop->value->items, stop->value->n_items, diff));

	CHECK_OK(nomad_state_txn_begin(s, 6, &txn, NULL));
	CHECK_INT(nomad_state_plan_apply(txn, r, NULL, 0, &err), NOMAD_ENOTFOUND);
	CHECK_CONTAINS(err.message, "does not exist");
	nomad_state_txn_abort(txn);
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_INT(nomad_state_alloc_get(snap, sf_uuid('a', 2), false, &got),
		  NOMAD_ENOTFOUND);
	CHECK_OK(nomad_state_alloc_get(snap, sf_uuid('a', 1), false, &got));
	CHECK_INT(got->desiredstatus, NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run);
	nomad_alloc_free(got);
	nomad_state_snap_close(snap);

	/* Without the bad stop, it applies whole. */
	stop->value->n_items = 1;
	nomad_alloc_free(diff);
	CHECK_OK(nomad_state_txn_begin(s, 6, &txn, NULL));
	CHECK_OK(nomad_state_plan_apply(txn, r, NULL, 0, &err));
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_OK(nomad_state_alloc_get(snap, sf_uuid('a', 1), false, &got));
	CHECK_INT(got->desiredstatus, NOMAD__ALLOCATION__DESIRED_STATUS_KIND__stop);
	CHECK_STR(got->desireddescription, "alloc is being updated");
	CHECK_INT(got->allocmodifyindex, 6);
	nomad_alloc_free(got);
	CHECK_OK(nomad_state_alloc_get(snap, sf_uuid('a', 3), false, &got));
	CHECK_INT(got->createindex, 6);
	nomad_alloc_free(got);
	nomad_state_snap_close(snap);
	nomad_plan_result_free(r);
	nomad_alloc_free(old);
	nomad_state_close(s);
}

NMD_TEST(test_state_allocs__snapshot_isolation)
{
	nomad_state *s = open_store(0);
	nomad_alloc *a = alloc(1, 1, "web", NULL), *b = alloc(2, 1, "web", NULL);
	nomad_state_snap *before, *after;
	struct collect c = {0};
	put(s, 1, &a, 1);
	CHECK_OK(nomad_state_snapshot(s, &before, NULL));
	put(s, 2, &b, 1);
	CHECK_OK(nomad_state_snapshot(s, &after, NULL));
	CHECK_INT(nomad_state_snap_index(before), 1);
	CHECK_INT(nomad_state_snap_index(after), 2);
	CHECK_OK(nomad_state_allocs_by_node(before, sf_uuid('d', 1), 0, collect, &c, NULL));
	CHECK_INT(c.n, 1);
	memset(&c, 0, sizeof(c));
	CHECK_OK(nomad_state_allocs_by_node(after, sf_uuid('d', 1), 0, collect, &c, NULL));
	CHECK_INT(c.n, 2);
	nomad_state_snap_close(before);
	nomad_state_snap_close(after);
	nomad_alloc_free(a);
	nomad_alloc_free(b);
	nomad_state_close(s);
}

/* A child writes batches of allocations forever; the parent kills it with
 * SIGKILL mid-stream, reopens the store and finds it consistent: the last
 * index it reports is the last batch committed, every batch up to it is
 * whole, and nothing after it is there. */
NMD_TEST(test_state_allocs__kill_9_mid_batch_then_reopen)
{
	char path[512];
	int pipefd[2];
	pid_t pid;
	uint64_t last;
	nomad_state *s;
	nomad_state_snap *snap;
	CHECK(pipe(pipefd) == 0);
	snprintf(path, sizeof(path), "%s/state.db", nmd_test_tmpdir());
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		/* Checkpoints every few batches: the kill lands amid them. */
		nomad_state *w = open_store_ckpt(200, 32);
		close(pipefd[0]);
		for (uint64_t idx = 1;; idx++) {
			nomad_alloc *as[50];
			for (unsigned i = 0; i < 50; i++)
				as[i] = alloc((unsigned)(idx * 50 + i),
					      (unsigned)(i % 7), "web", NULL);
			put(w, idx, as, 50);
			free_all(as, 50);
			if (idx == 20 && write(pipefd[1], "x", 1) != 1)
				_exit(2);
		}
	}
	close(pipefd[1]);
	{
		char ch;
		CHECK(read(pipefd[0], &ch, 1) == 1); /* 20 batches are in */
	}
	usleep(20000); /* let it get into the middle of later batches */
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(pipefd[0]);

	s = open_store(200);
	last = nomad_state_last_index(s);
	CHECK(last >= 20);
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	for (uint64_t idx = 1; idx <= last + 1; idx++) {
		unsigned present = 0;
		for (unsigned i = 0; i < 50; i++) {
			nomad_alloc *got;
			if (nomad_state_alloc_get(snap, sf_uuid('a', (unsigned)(idx * 50 + i)),
						  false, &got) == NOMAD_OK) {
				CHECK_INT(got->createindex, idx);
				nomad_alloc_free(got);
				present++;
			}
		}
		CHECK_INT(present, idx <= last ? 50 : 0);
	}
	nomad_state_snap_close(snap);
	/* Writing resumes after the stored index, and not at or below it. */
	{
		nomad_state_txn *txn;
		CHECK_INT(nomad_state_txn_begin(s, last, &txn, NULL), NOMAD_ECONFLICT);
		CHECK_OK(nomad_state_txn_begin(s, last + 1, &txn, NULL));
		CHECK_OK(nomad_state_txn_commit(txn, NULL));
	}
	nomad_state_close(s);
}

static long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long)st.st_size : 0;
}

static void put_batch(nomad_state *s, uint64_t idx)
{
	nomad_alloc *as[25];
	for (unsigned i = 0; i < 25; i++)
		as[i] = alloc((unsigned)(idx * 25 + i),
			      (unsigned)((idx * 25 + i) % 97), "web", NULL);
	put(s, idx, as, 25);
	free_all(as, 25);
}

/* The WAL is checkpointed off the write path and started over, so it stays
 * near the configured size however much is written. A reader's snapshot
 * holds its pages (the WAL grows meanwhile) until it closes; then the WAL
 * starts over and grows no further. Everything reads back, also after a
 * reopen. */
NMD_TEST(test_state_allocs__wal_stays_bounded_under_writes)
{
	char wal[600];
	nomad_state *s = open_store_ckpt(500, 64); /* 256 KiB */
	nomad_state_snap *old;
	long free_max = 0, held_max, after_max = 0;
	struct collect c = {0};
	snprintf(wal, sizeof(wal), "%s/state.db-wal", nmd_test_tmpdir());
	for (uint64_t idx = 1; idx <= 200; idx++) {
		put_batch(s, idx);
		if (file_size(wal) > free_max)
			free_max = file_size(wal);
	}
	/* 5,000 allocations are several MiB of pages; the WAL stays within
	 * the writer's hard limit of 8 x 64 pages plus a commit or two. */
	CHECK(free_max > 0);
	CHECK(free_max < (8 * 64 + 400) * 4120L);

	CHECK_OK(nomad_state_snapshot(s, &old, NULL));
	for (uint64_t idx = 201; idx <= 300; idx++)
		put_batch(s, idx);
	CHECK_OK(nomad_state_allocs_by_job(old, "default", "web", 0, collect,
					   &c, NULL));
	CHECK_INT(c.n, 200 * 25);
	nomad_state_snap_close(old);
	held_max = file_size(wal);
	for (uint64_t idx = 301; idx <= 500; idx++) {
		put_batch(s, idx);
		if (file_size(wal) > after_max)
			after_max = file_size(wal);
	}
	CHECK(after_max <= held_max + 400 * 4120L);
	nomad_state_close(s);

	s = open_store(500);
	CHECK_INT(nomad_state_last_index(s), 500);
	{
		nomad_state_snap *snap;
		memset(&c, 0, sizeof(c));
		CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
		CHECK_OK(nomad_state_allocs_by_job(snap, "default", "web", 0,
						   collect, &c, NULL));
		CHECK_INT(c.n, 500 * 25);
		nomad_state_snap_close(snap);
	}
	nomad_state_close(s);
}

/* Placements and the clients' health reports reach the deployment's
 * per-group counters, as Nomad's updateDeploymentWithAlloc counts them. */
NMD_TEST(test_state_allocs__deployment_counts_follow_allocations)
{
	nomad_state *s = open_store(0);
	nomad_deployment *d = nomad_deployment_new(), *got;
	Nomad__DeploymentStateEntry *e = nmd_pb_new(
		&nomad__deployment_state_entry__descriptor, NULL);
	nomad_alloc *as[2] = {alloc(1, 1, "web", NULL), alloc(2, 2, "web", NULL)};
	nomad_alloc *u = nomad_alloc_new();
	nomad_state_txn *txn;
	nomad_state_snap *snap;
	CHECK(nmd_pb_set_string(NULL, &d->id, sf_uuid('f', 1)));
	CHECK(nmd_pb_set_string(NULL, &d->jobid, "web"));
	CHECK(nmd_pb_set_string(NULL, &d->namespace_, "default"));
	d->has_status = 1;
	d->status = NOMAD__DEPLOYMENT__STATUS_KIND__running;
	CHECK(nmd_pb_set_string(NULL, &e->key, "web"));
	e->value = nmd_pb_new(&nomad__deployment_state__descriptor, NULL);
	e->value->has_desiredtotal = 1;
	e->value->desiredtotal = 2;
	CHECK(NMD_PB_APPEND(NULL, d->taskgroups, d->n_taskgroups, e));
	for (int i = 0; i < 2; i++)
		CHECK(nmd_pb_set_string(NULL, &as[i]->deploymentid, sf_uuid('f', 1)));
	CHECK_OK(nomad_state_txn_begin(s, 1, &txn, NULL));
	CHECK_OK(nomad_state_deployment_upsert(txn, d, NULL));
	CHECK_OK(nomad_state_allocs_upsert(txn, as, 2, NULL));
	CHECK_OK(nomad_state_txn_commit(txn, NULL));

	/* A client reports alloc 1 healthy. */
	CHECK(nmd_pb_set_string(NULL, &u->id, sf_uuid('a', 1)));
	u->deploymentstatus = nmd_pb_new(&nomad__alloc_deployment_status__descriptor, NULL);
	u->deploymentstatus->has_healthy = 1;
	u->deploymentstatus->healthy = 1;
	CHECK_OK(nomad_state_txn_begin(s, 2, &txn, NULL));
	CHECK_OK(nomad_state_allocs_client_update(txn, &u, 1, NULL));
	CHECK_OK(nomad_state_txn_commit(txn, NULL));

	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_OK(nomad_state_deployment_get(snap, sf_uuid('f', 1), &got));
	CHECK_INT(got->taskgroups[0]->value->placedallocs, 2);
	CHECK_INT(got->taskgroups[0]->value->healthyallocs, 1);
	CHECK_INT(got->taskgroups[0]->value->unhealthyallocs, 0);
	nomad_deployment_free(got);
	nomad_state_snap_close(snap);
	nomad_alloc_free(u);
	free_all(as, 2);
	nomad_deployment_free(d);
	nomad_state_close(s);
}

/* Allocation writes reach the event stream: AllocationCreated, then
 * AllocationUpdated from a client, then every event of a plan typed
 * PlanResult; the payload is the allocation as stored, filterable by job. */
NMD_TEST(test_state_allocs__events_for_allocations)
{
	nomad_state *s = open_store(0);
	nomad_alloc *a = alloc(1, 1, "web", NULL), *u = nomad_alloc_new();
	nomad_state_subscribe_options so = NOMAD_STATE_SUBSCRIBE_OPTIONS_INIT;
	nomad_state_topic_filter f = {NOMAD_TOPIC_ALLOCATION, "web"};
	nomad_state_sub *sub;
	const nomad_state_event *ev;
	nomad_plan_result *r = nomad_plan_result_new();
	Nomad__AllocationListEntry *place =
		nmd_pb_new(&nomad__allocation_list_entry__descriptor, NULL);
	nomad_state_txn *txn;
	so.topics = &f;
	so.n_topics = 1;
	CHECK_OK(nomad_state_subscribe(s, &so, NULL, NULL, &sub, NULL));
	put(s, 1, &a, 1);
	CHECK_OK(nomad_state_sub_next(sub, 0, &ev, NULL));
	CHECK_STR(ev->type, NOMAD_EVENT_ALLOCATION_CREATED);
	CHECK_STR(ev->key, sf_uuid('a', 1));
	CHECK_INT(ev->index, 1);
	CHECK_STR(((const nomad_alloc *)ev->payload)->taskgroup, "web");

	CHECK(nmd_pb_set_string(NULL, &u->id, sf_uuid('a', 1)));
	u->has_clientstatus = 1;
	u->clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__running;
	CHECK_OK(nomad_state_txn_begin(s, 2, &txn, NULL));
	CHECK_OK(nomad_state_allocs_client_update(txn, &u, 1, NULL));
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
	CHECK_OK(nomad_state_sub_next(sub, 0, &ev, NULL));
	CHECK_STR(ev->type, NOMAD_EVENT_ALLOCATION_UPDATED);
	CHECK_INT(((const nomad_alloc *)ev->payload)->clientstatus,
		  NOMAD__ALLOCATION__CLIENT_STATUS_KIND__running);

	place->value = nmd_pb_new(&nomad__allocation_list__descriptor, NULL);
	CHECK(NMD_PB_APPEND(NULL, place->value->items, place->value->n_items,
			    alloc(2, 1, "web", NULL)));
	CHECK(NMD_PB_APPEND(NULL, r->nodeallocation, r->n_nodeallocation, place));
	CHECK_OK(nomad_state_txn_begin(s, 3, &txn, NULL));
	CHECK_OK(nomad_state_plan_apply(txn, r, NULL, 0, NULL));
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
	CHECK_OK(nomad_state_sub_next(sub, 0, &ev, NULL));
	CHECK_STR(ev->type, NOMAD_EVENT_PLAN_RESULT);
	CHECK_STR(ev->key, sf_uuid('a', 2));
	CHECK_INT(nomad_state_sub_next(sub, 0, &ev, NULL), NOMAD_ETIMEDOUT);

	nomad_state_sub_close(sub);
	nomad_plan_result_free(r);
	nomad_alloc_free(u);
	nomad_alloc_free(a);
	nomad_state_close(s);
}

/* A placement that replaces another links them both ways, as Nomad's
 * state store does: the new one names its PreviousAllocation, the old one
 * learns its NextAllocation. */
NMD_TEST(test_state_allocs__replacement_links_the_previous)
{
	nomad_state *s = open_store(0);
	nomad_job *j = job("web", 1);
	nomad_alloc *first[1] = {alloc(1, 1, "web", j)};
	nomad_alloc *next[1] = {alloc(2, 2, "web", j)};
	nomad_state_snap *snap;
	nomad_alloc *got;
	put(s, 10, first, 1);
	CHECK(nmd_pb_set_string(NULL, &next[0]->previousallocation,
				sf_uuid('a', 1)));
	put(s, 11, next, 1);
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_OK(nomad_state_alloc_get(snap, sf_uuid('a', 1), false, &got));
	CHECK_STR(got->nextallocation, sf_uuid('a', 2));
	CHECK_INT(got->modifyindex, 11);
	nomad_alloc_free(got);
	nomad_state_snap_close(snap);
	/* A previous one that is gone is no error. */
	nomad_alloc_free(next[0]);
	next[0] = alloc(3, 2, "web", j);
	CHECK(nmd_pb_set_string(NULL, &next[0]->previousallocation,
				sf_uuid('a', 9)));
	put(s, 12, next, 1);
	free_all(first, 1);
	free_all(next, 1);
	nomad_job_free(j);
	nomad_state_close(s);
}
