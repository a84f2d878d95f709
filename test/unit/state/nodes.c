/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Nodes in the state store: registration and re-registration (what the
 * store keeps from before), the placeholder rows nmd_node_pk makes for
 * nodes allocations name before they register, status with its capped
 * events, eligibility, drains, deregistration, and listings.
 */
#include <nomad/state.h>

#include "test.h"
#include "fixtures.h"
#include "state/state_int.h"
#include "structs/pb.h"

/* A deterministic node ID: n in the first group, so IDs sort by n. */
static const char *node_id(unsigned n)
{
	static char buf[8][NOMAD_UUID_LEN + 1];
	static unsigned next;
	char *b = buf[next++ % 8];
	snprintf(b, NOMAD_UUID_LEN + 1, "%08x-0000-4000-8000-%012x", n,
		 n * 7919u);
	return b;
}

static nomad_node *new_node(unsigned n)
{
	nomad_node *node = nomad_node_new();
	CHECK(node != NULL);
	CHECK(nmd_pb_set_string(NULL, &node->id, node_id(n)));
	CHECK(nmd_pb_set_string(NULL, &node->name, "client"));
	CHECK(nmd_pb_set_string(NULL, &node->datacenter, "dc1"));
	node->has_statusupdatedat = 1;
	node->statusupdatedat = 1700000000;
	return node;
}

static void upsert(nomad_state *s, uint64_t index, const nomad_node *node)
{
	nomad_state_txn *txn = sf_begin(s, index);
	nomad_error err;
	if (nomad_state_node_upsert(txn, node, &err))
		nmd_test_fail(__FILE__, __LINE__, "upsert: %s", err.message);
	sf_commit(txn);
}

/* The node as a new snapshot sees it; NULL when it does not exist. */
static nomad_node *get(nomad_state *s, const char *id)
{
	nomad_state_snap *snap;
	nomad_node *n = NULL;
	nomad_err rc;
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	rc = nomad_state_node_get(snap, id, &n);
	CHECK(rc == NOMAD_OK || rc == NOMAD_ENOTFOUND);
	CHECK((rc == NOMAD_OK) == (n != NULL));
	nomad_state_snap_close(snap);
	return n;
}

static Nomad__DrainStrategy *strategy(int64_t started)
{
	Nomad__DrainStrategy *d = nmd_pb_new(&nomad__drain_strategy__descriptor,
					     NULL);
	CHECK(d != NULL);
	d->has_deadline = 1;
	d->deadline = INT64_C(3600000000000);
	d->startedat = nmd_pb_new(&nomad__timestamp__descriptor, NULL);
	CHECK(d->startedat != NULL);
	d->startedat->has_seconds = 1;
	d->startedat->seconds = started;
	return d;
}

NMD_TEST(test_state_nodes__register_fills_defaults)
{
	nomad_state *s = sf_open(NULL);
	nomad_node *node = new_node(1), *got;

	upsert(s, 10, node);
	got = get(s, node_id(1));
	CHECK(got != NULL);
	CHECK_STR(got->name, "client");
	CHECK(got->has_status && got->status == NOMAD__NODE__STATUS_KIND__initializing);
	CHECK(got->has_schedulingeligibility);
	CHECK_INT(got->schedulingeligibility, NOMAD__NODE__ELIGIBILITY_KIND__eligible);
	CHECK(got->has_drain && !got->drain);
	CHECK_INT(got->createindex, 10);
	CHECK_INT(got->modifyindex, 10);
	CHECK_INT(got->n_events, 1);
	CHECK_STR(got->events[0]->message, "Node registered");
	CHECK_STR(got->events[0]->subsystem, "Cluster");
	CHECK_INT(got->events[0]->timestamp->seconds, 1700000000);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_NODES), 10);
	/* The caller's node is untouched. */
	CHECK(!node->has_createindex && node->n_events == 0);
	nomad_node_free(got);

	/* Status and eligibility given by the client are kept. */
	nomad_node_free(node);
	node = new_node(2);
	node->has_status = 1;
	node->status = NOMAD__NODE__STATUS_KIND__ready;
	node->has_schedulingeligibility = 1;
	node->schedulingeligibility = NOMAD__NODE__ELIGIBILITY_KIND__ineligible;
	upsert(s, 11, node);
	got = get(s, node_id(2));
	CHECK_INT(got->status, NOMAD__NODE__STATUS_KIND__ready);
	CHECK_INT(got->schedulingeligibility,
		  NOMAD__NODE__ELIGIBILITY_KIND__ineligible);
	nomad_node_free(got);
	nomad_node_free(node);
	nomad_state_close(s);
}

NMD_TEST(test_state_nodes__register_rejects_bad_ids)
{
	nomad_state *s = sf_open(NULL);
	nomad_node *node = new_node(1);
	nomad_state_txn *txn = sf_begin(s, 5);
	nomad_error err;

	CHECK(nmd_pb_set_string(NULL, &node->id, "node-1"));
	CHECK_INT(nomad_state_node_upsert(txn, node, &err), NOMAD_EINVAL);
	CHECK_CONTAINS(err.message, "state: node ID is not a UUID");
	CHECK(nmd_pb_set_string(NULL, &node->id, NULL));
	CHECK_INT(nomad_state_node_upsert(txn, node, &err), NOMAD_EINVAL);
	CHECK_INT(nomad_state_node_upsert(txn, NULL, &err), NOMAD_EINVAL);
	nomad_state_txn_abort(txn);
	nomad_node_free(node);
	nomad_state_close(s);
}

NMD_TEST(test_state_nodes__reregister_keeps_operator_fields)
{
	nomad_state *s = sf_open(NULL);
	nomad_node *node = new_node(1), *got;
	Nomad__DrainStrategy *drain = strategy(1700000100);
	Nomad__NodeEvent ev = NOMAD__NODE_EVENT__INIT;
	nomad_state_txn *txn;

	upsert(s, 10, node);
	txn = sf_begin(s, 11);
	CHECK_OK(nomad_state_node_drain(txn, node_id(1), drain, false, NULL));
	ev.message = (char *)"Node heartbeat missed";
	ev.subsystem = (char *)"Cluster";
	CHECK_OK(nomad_state_node_status(txn, node_id(1),
					 NOMAD__NODE__STATUS_KIND__down,
					 1700000200, &ev, NULL));
	sf_commit(txn);

	/* The client comes back: ready, eligible in its own view, new
	 * name, no drain, no events. */
	node->has_status = 1;
	node->status = NOMAD__NODE__STATUS_KIND__ready;
	node->has_schedulingeligibility = 1;
	node->schedulingeligibility = NOMAD__NODE__ELIGIBILITY_KIND__eligible;
	node->statusupdatedat = 1700000300;
	CHECK(nmd_pb_set_string(NULL, &node->name, "client-2"));
	upsert(s, 12, node);

	got = get(s, node_id(1));
	CHECK_STR(got->name, "client-2");
	CHECK_INT(got->status, NOMAD__NODE__STATUS_KIND__ready);
	CHECK_INT(got->createindex, 10);
	CHECK_INT(got->modifyindex, 12);
	CHECK_INT(got->schedulingeligibility,
		  NOMAD__NODE__ELIGIBILITY_KIND__ineligible);
	CHECK(got->drainstrategy != NULL);
	CHECK_INT(got->drainstrategy->deadline, INT64_C(3600000000000));
	CHECK(got->drain);
	CHECK(got->lastdrain != NULL);
	CHECK_STR(got->lastdrain->status, "draining");
	/* registered, heartbeat missed, re-registered (it was down) */
	CHECK_INT(got->n_events, 3);
	CHECK_STR(got->events[0]->message, "Node registered");
	CHECK_STR(got->events[1]->message, "Node heartbeat missed");
	CHECK_INT(got->events[1]->createindex, 11);
	CHECK_STR(got->events[2]->message, "Node re-registered");
	CHECK_INT(got->events[2]->createindex, 12);
	CHECK_INT(got->events[2]->timestamp->seconds, 1700000300);
	nomad_node_free(got);

	/* Registering again while ready adds no event. */
	upsert(s, 13, node);
	got = get(s, node_id(1));
	CHECK_INT(got->n_events, 3);
	CHECK_INT(got->modifyindex, 13);
	nomad_node_free(got);

	nmd_pb_free(drain, NULL);
	nomad_node_free(node);
	nomad_state_close(s);
}

static unsigned count_nodes(nomad_state *s)
{
	nomad_state_snap *snap;
	unsigned n = 0;
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_OK(nomad_state_nodes_list(snap, NULL, sf_count_cb, &n, NULL, NULL));
	nomad_state_snap_close(snap);
	return n;
}

NMD_TEST(test_state_nodes__placeholder_becomes_the_registered_row)
{
	nomad_state *s = sf_open(NULL);
	nomad_node *node = new_node(7);
	nomad_state_txn *txn;
	uint8_t id[16];
	int64_t pk, again;

	CHECK(nmd_uuid_to_bytes(node_id(7), id));
	{
		nomad_node *other = new_node(1);
		upsert(s, 5, other);
		nomad_node_free(other);
	}
	txn = sf_begin(s, 10);
	CHECK_OK(nmd_node_pk(txn, id, &pk, NULL));
	CHECK_OK(nmd_node_pk(txn, id, &again, NULL));
	CHECK_INT(again, pk);
	sf_commit(txn);

	/* Invisible until it registers; the nodes index did not move. */
	CHECK(get(s, node_id(7)) == NULL);
	CHECK_INT(count_nodes(s), 1);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_NODES), 5);

	txn = sf_begin(s, 11);
	CHECK_INT(nomad_state_node_status(txn, node_id(7),
					  NOMAD__NODE__STATUS_KIND__ready, 1,
					  NULL, NULL),
		  NOMAD_ENOTFOUND);
	CHECK_INT(nomad_state_node_eligibility(txn, node_id(7), false, NULL),
		  NOMAD_ENOTFOUND);
	nomad_state_txn_abort(txn);

	/* Registering fills the same row: same pk, no second row. */
	upsert(s, 12, node);
	txn = sf_begin(s, 13);
	CHECK_OK(nmd_node_pk(txn, id, &again, NULL));
	CHECK_INT(again, pk);
	nomad_state_txn_abort(txn);
	CHECK_INT(count_nodes(s), 2);
	{
		nomad_node *got = get(s, node_id(7));
		CHECK(got != NULL);
		CHECK_INT(got->createindex, 12);
		CHECK_INT(got->n_events, 1);
		nomad_node_free(got);
	}
	nomad_node_free(node);
	nomad_state_close(s);
}

NMD_TEST(test_state_nodes__status_keeps_newest_ten_events)
{
	nomad_state *s = sf_open(NULL);
	nomad_node *node = new_node(1), *got;
	char msg[32];
	nomad_error err;

	upsert(s, 10, node);
	for (unsigned i = 0; i < 12; i++) {
		Nomad__NodeEvent ev = NOMAD__NODE_EVENT__INIT;
		nomad_state_txn *txn = sf_begin(s, 11 + i);
		snprintf(msg, sizeof(msg), "event %u", i);
		ev.message = msg;
		CHECK_OK(nomad_state_node_status(
			txn, node_id(1),
			i % 2 ? NOMAD__NODE__STATUS_KIND__ready
			      : NOMAD__NODE__STATUS_KIND__down,
			1700000000 + i, &ev, &err));
		sf_commit(txn);
	}
	got = get(s, node_id(1));
	CHECK_INT(got->n_events, NMD_STATE_NODE_EVENTS);
	/* The registration and events 0 and 1 fell off the front. */
	CHECK_STR(got->events[0]->message, "event 2");
	CHECK_INT(got->events[0]->createindex, 13);
	CHECK_STR(got->events[9]->message, "event 11");
	CHECK_INT(got->events[9]->createindex, 22);
	CHECK_INT(got->status, NOMAD__NODE__STATUS_KIND__ready);
	CHECK_INT(got->statusupdatedat, 1700000011);
	CHECK_INT(got->modifyindex, 22);
	CHECK_INT(got->createindex, 10);
	nomad_node_free(got);

	/* Without an event the events stay as they are. */
	{
		nomad_state_txn *txn = sf_begin(s, 30);
		CHECK_OK(nomad_state_node_status(txn, node_id(1),
						 NOMAD__NODE__STATUS_KIND__down,
						 1700000100, NULL, NULL));
		CHECK_INT(nomad_state_node_status(txn, node_id(1), 99, 0, NULL,
						  &err),
			  NOMAD_EINVAL);
		CHECK_INT(nomad_state_node_status(txn, node_id(2),
						  NOMAD__NODE__STATUS_KIND__down,
						  0, NULL, &err),
			  NOMAD_ENOTFOUND);
		CHECK_CONTAINS(err.message, "node not found");
		sf_commit(txn);
	}
	got = get(s, node_id(1));
	CHECK_INT(got->n_events, NMD_STATE_NODE_EVENTS);
	CHECK_STR(got->events[9]->message, "event 11");
	CHECK_INT(got->status, NOMAD__NODE__STATUS_KIND__down);
	nomad_node_free(got);
	nomad_node_free(node);
	nomad_state_close(s);
}

NMD_TEST(test_state_nodes__eligibility_refused_while_draining)
{
	nomad_state *s = sf_open(NULL);
	nomad_node *node = new_node(1), *got;
	Nomad__DrainStrategy *drain = strategy(1700000100);
	nomad_state_txn *txn;
	nomad_error err;

	upsert(s, 10, node);
	txn = sf_begin(s, 11);
	CHECK_OK(nomad_state_node_eligibility(txn, node_id(1), false, NULL));
	sf_commit(txn);
	got = get(s, node_id(1));
	CHECK_INT(got->schedulingeligibility,
		  NOMAD__NODE__ELIGIBILITY_KIND__ineligible);
	CHECK_INT(got->modifyindex, 11);
	nomad_node_free(got);

	txn = sf_begin(s, 12);
	CHECK_OK(nomad_state_node_drain(txn, node_id(1), drain, false, NULL));
	CHECK_INT(nomad_state_node_eligibility(txn, node_id(1), true, &err),
		  NOMAD_EINVAL);
	CHECK_CONTAINS(err.message, "while it is draining");
	/* Ineligible stays allowed. */
	CHECK_OK(nomad_state_node_eligibility(txn, node_id(1), false, NULL));
	sf_commit(txn);

	txn = sf_begin(s, 13);
	CHECK_OK(nomad_state_node_drain(txn, node_id(1), NULL, false, NULL));
	CHECK_OK(nomad_state_node_eligibility(txn, node_id(1), true, NULL));
	sf_commit(txn);
	got = get(s, node_id(1));
	CHECK_INT(got->schedulingeligibility,
		  NOMAD__NODE__ELIGIBILITY_KIND__eligible);
	nomad_node_free(got);
	nmd_pb_free(drain, NULL);
	nomad_node_free(node);
	nomad_state_close(s);
}

NMD_TEST(test_state_nodes__drain_start_and_stop)
{
	nomad_state *s = sf_open(NULL);
	nomad_node *node = new_node(1), *got;
	Nomad__DrainStrategy *drain = strategy(1700000100);
	Nomad__DrainStrategy *longer = strategy(1700000500);
	nomad_state_txn *txn;
	nomad_error err;

	upsert(s, 10, node);

	/* Start: ineligible, LastDrain draining since the strategy's start. */
	txn = sf_begin(s, 11);
	CHECK_OK(nomad_state_node_drain(txn, node_id(1), drain, true, NULL));
	sf_commit(txn);
	got = get(s, node_id(1));
	CHECK(got->drain && got->drainstrategy);
	CHECK_INT(got->schedulingeligibility,
		  NOMAD__NODE__ELIGIBILITY_KIND__ineligible);
	CHECK_STR(got->lastdrain->status, "draining");
	CHECK_INT(got->lastdrain->startedat->seconds, 1700000100);
	CHECK_INT(got->lastdrain->updatedat->seconds, 1700000100);
	CHECK_INT(got->statusupdatedat, 1700000100);
	CHECK_INT(got->modifyindex, 11);
	nomad_node_free(got);

	/* A new strategy while draining updates LastDrain, keeps its start. */
	txn = sf_begin(s, 12);
	CHECK_OK(nomad_state_node_drain(txn, node_id(1), longer, false, NULL));
	sf_commit(txn);
	got = get(s, node_id(1));
	CHECK_INT(got->drainstrategy->startedat->seconds, 1700000500);
	CHECK_INT(got->lastdrain->startedat->seconds, 1700000100);
	CHECK_INT(got->lastdrain->updatedat->seconds, 1700000500);
	nomad_node_free(got);

	/* Stop without mark_eligible: canceled, still ineligible. */
	txn = sf_begin(s, 13);
	CHECK_OK(nomad_state_node_drain(txn, node_id(1), NULL, false, NULL));
	sf_commit(txn);
	got = get(s, node_id(1));
	CHECK(!got->drain && !got->drainstrategy);
	CHECK_INT(got->schedulingeligibility,
		  NOMAD__NODE__ELIGIBILITY_KIND__ineligible);
	CHECK_STR(got->lastdrain->status, "canceled");
	CHECK_INT(got->lastdrain->startedat->seconds, 1700000100);
	nomad_node_free(got);

	/* Stopping again is no drain operation: LastDrain stays. */
	txn = sf_begin(s, 14);
	CHECK_OK(nomad_state_node_drain(txn, node_id(1), NULL, false, NULL));
	sf_commit(txn);
	got = get(s, node_id(1));
	CHECK_STR(got->lastdrain->status, "canceled");
	CHECK_INT(got->modifyindex, 14);
	nomad_node_free(got);

	/* A second drain starts a new LastDrain; mark_eligible on stop. */
	txn = sf_begin(s, 15);
	CHECK_OK(nomad_state_node_drain(txn, node_id(1), longer, false, NULL));
	sf_commit(txn);
	got = get(s, node_id(1));
	CHECK_INT(got->lastdrain->startedat->seconds, 1700000500);
	CHECK_STR(got->lastdrain->status, "draining");
	nomad_node_free(got);
	txn = sf_begin(s, 16);
	CHECK_OK(nomad_state_node_drain(txn, node_id(1), NULL, true, NULL));
	sf_commit(txn);
	got = get(s, node_id(1));
	CHECK_INT(got->schedulingeligibility,
		  NOMAD__NODE__ELIGIBILITY_KIND__eligible);
	CHECK(!got->drain);
	nomad_node_free(got);

	txn = sf_begin(s, 17);
	CHECK_INT(nomad_state_node_drain(txn, node_id(2), drain, false, &err),
		  NOMAD_ENOTFOUND);
	nomad_state_txn_abort(txn);
	nmd_pb_free(drain, NULL);
	nmd_pb_free(longer, NULL);
	nomad_node_free(node);
	nomad_state_close(s);
}

NMD_TEST(test_state_nodes__delete)
{
	nomad_state *s = sf_open(NULL);
	nomad_node *a = new_node(1), *b = new_node(2), *got;
	const char *ids[2];
	char id1[NOMAD_UUID_LEN + 1], id2[NOMAD_UUID_LEN + 1];
	nomad_state_txn *txn;
	nomad_error err;

	snprintf(id1, sizeof(id1), "%s", node_id(1));
	snprintf(id2, sizeof(id2), "%s", node_id(2));
	upsert(s, 10, a);
	upsert(s, 11, b);

	/* One unknown ID: nothing is deleted. */
	ids[0] = id1;
	ids[1] = node_id(3);
	txn = sf_begin(s, 12);
	CHECK_INT(nomad_state_nodes_delete(txn, ids, 2, &err), NOMAD_ENOTFOUND);
	CHECK_CONTAINS(err.message, "node not found");
	got = get(s, id1);
	CHECK(got != NULL);
	nomad_node_free(got);
	CHECK_INT(nomad_state_nodes_delete(txn, ids, 0, &err), NOMAD_EINVAL);
	nomad_state_txn_abort(txn);

	ids[1] = id2;
	txn = sf_begin(s, 13);
	CHECK_OK(nomad_state_nodes_delete(txn, ids, 2, &err));
	sf_commit(txn);
	CHECK(get(s, id1) == NULL);
	CHECK(get(s, id2) == NULL);
	CHECK_INT(count_nodes(s), 0);
	CHECK_INT(sf_table_index(s, NOMAD_TABLE_NODES), 13);

	/* Registering again is a new registration. */
	upsert(s, 14, a);
	got = get(s, id1);
	CHECK_INT(got->createindex, 14);
	nomad_node_free(got);
	nomad_node_free(a);
	nomad_node_free(b);
	nomad_state_close(s);
}

static nomad_alloc *alloc_on(unsigned n, const char *node)
{
	nomad_alloc *a = nomad_alloc_new();
	char id[NOMAD_UUID_LEN + 1];
	snprintf(id, sizeof(id), "a%07x-0000-4000-8000-%012x", n, n);
	CHECK(nmd_pb_set_string(NULL, &a->id, id));
	CHECK(nmd_pb_set_string(NULL, &a->nodeid, node));
	CHECK(nmd_pb_set_string(NULL, &a->evalid, id));
	CHECK(nmd_pb_set_string(NULL, &a->jobid, "web"));
	CHECK(nmd_pb_set_string(NULL, &a->namespace_, "default"));
	CHECK(nmd_pb_set_string(NULL, &a->taskgroup, "web"));
	a->has_desiredstatus = a->has_clientstatus = 1;
	a->desiredstatus = NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run;
	a->clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__pending;
	return a;
}

NMD_TEST(test_state_nodes__delete_keeps_the_key_of_allocations)
{
	nomad_state *s = sf_open(NULL);
	nomad_node *node = new_node(1);
	nomad_alloc *a = alloc_on(1, node_id(1));
	nomad_state_snap *snap;
	nomad_state_txn *txn;
	const char *ids[1];
	char id[NOMAD_UUID_LEN + 1];
	unsigned n = 0;

	snprintf(id, sizeof(id), "%s", node_id(1));
	ids[0] = id;
	upsert(s, 10, node);
	txn = sf_begin(s, 11);
	CHECK_OK(nomad_state_allocs_upsert(txn, &a, 1, NULL));
	sf_commit(txn);
	txn = sf_begin(s, 12);
	CHECK_OK(nomad_state_nodes_delete(txn, ids, 1, NULL));
	sf_commit(txn);
	CHECK(get(s, id) == NULL);
	CHECK_INT(count_nodes(s), 0);

	/* The allocation is still found under the node, before and after
	 * the node registers again. */
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_OK(nomad_state_allocs_by_node(snap, id, NOMAD_STATE_TERMINAL,
					    sf_count_cb, &n, NULL));
	nomad_state_snap_close(snap);
	CHECK_INT(n, 1);
	upsert(s, 13, node);
	n = 0;
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_OK(nomad_state_allocs_by_node(snap, id, NOMAD_STATE_TERMINAL,
					    sf_count_cb, &n, NULL));
	nomad_state_snap_close(snap);
	CHECK_INT(n, 1);
	nomad_alloc_free(a);
	nomad_node_free(node);
	nomad_state_close(s);
}

struct ids {
	unsigned n;
	char id[16][NOMAD_UUID_LEN + 1];
};

static int ids_cb(const ProtobufCMessage *obj, void *ud)
{
	struct ids *c = ud;
	if (c->n < 16)
		snprintf(c->id[c->n], sizeof(c->id[0]), "%s",
			 ((const nomad_node *)obj)->id);
	c->n++;
	return 0;
}

/* A token as listings give it: the ID's 32 hex digits. */
static const char *hex_of(const char *id)
{
	static char buf[NOMAD_UUID_LEN + 1];
	size_t k = 0;
	for (; *id; id++)
		if (*id != '-')
			buf[k++] = *id;
	buf[k] = '\0';
	return buf;
}

static nomad_err list(nomad_state *s, const nomad_state_list_options *o,
		      struct ids *c, char token[NOMAD_STATE_TOKEN_MAX],
		      nomad_error *err)
{
	nomad_state_snap *snap;
	nomad_err rc;
	memset(c, 0, sizeof(*c));
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	rc = nomad_state_nodes_list(snap, o, ids_cb, c, token, err);
	nomad_state_snap_close(snap);
	return rc;
}

NMD_TEST(test_state_nodes__list_prefix_and_pages)
{
	nomad_state *s = sf_open(NULL);
	/* 0x10, 0x11, 0x12, 0x20, 0x21 in the first byte group */
	static const unsigned ns[] = {0x21000000, 0x10000000, 0x12000000,
				      0x20000000, 0x11000000};
	nomad_state_list_options o = NOMAD_STATE_LIST_OPTIONS_INIT;
	char token[NOMAD_STATE_TOKEN_MAX];
	nomad_state_txn *txn;
	struct ids c;
	nomad_error err;
	uint8_t key[16];
	int64_t pk;

	for (size_t i = 0; i < 5; i++) {
		nomad_node *n = new_node(ns[i]);
		upsert(s, 10 + i, n);
		nomad_node_free(n);
	}
	/* A placeholder between them is never listed. */
	CHECK(nmd_uuid_to_bytes(node_id(0x1f000000), key));
	txn = sf_begin(s, 20);
	CHECK_OK(nmd_node_pk(txn, key, &pk, NULL));
	sf_commit(txn);

	CHECK_OK(list(s, NULL, &c, token, NULL));
	CHECK_INT(c.n, 5);
	CHECK_STR(token, "");
	CHECK_STR(c.id[0], node_id(0x10000000));
	CHECK_STR(c.id[4], node_id(0x21000000));

	o.prefix = "1";
	CHECK_OK(list(s, &o, &c, token, NULL));
	CHECK_INT(c.n, 3);
	o.prefix = "11";
	CHECK_OK(list(s, &o, &c, token, NULL));
	CHECK_INT(c.n, 1);
	CHECK_STR(c.id[0], node_id(0x11000000));
	o.prefix = "3";
	CHECK_OK(list(s, &o, &c, token, NULL));
	CHECK_INT(c.n, 0);
	/* Not hexadecimal: the prefix of no ID, so nothing, as in Nomad. */
	o.prefix = "xyz";
	CHECK_OK(list(s, &o, &c, token, NULL));
	CHECK_INT(c.n, 0);

	/* Pages of two, resumed by token. */
	o.prefix = NULL;
	o.per_page = 2;
	CHECK_OK(list(s, &o, &c, token, NULL));
	CHECK_INT(c.n, 2);
	CHECK_STR(c.id[1], node_id(0x11000000));
	CHECK_STR(token, hex_of(node_id(0x12000000)));
	o.next_token = token;
	{
		char next[NOMAD_STATE_TOKEN_MAX];
		CHECK_OK(list(s, &o, &c, next, NULL));
		CHECK_INT(c.n, 2);
		CHECK_STR(c.id[0], node_id(0x12000000));
		CHECK_STR(c.id[1], node_id(0x20000000));
		CHECK_STR(next, hex_of(node_id(0x21000000)));
		memcpy(token, next, sizeof(next));
	}
	CHECK_OK(list(s, &o, &c, token, NULL));
	CHECK_INT(c.n, 1);
	CHECK_STR(c.id[0], node_id(0x21000000));
	CHECK_STR(token, "");

	/* The token may also be the ID itself. */
	o.next_token = node_id(0x20000000);
	CHECK_OK(list(s, &o, &c, NULL, NULL));
	CHECK_INT(c.n, 2);
	CHECK_STR(c.id[0], node_id(0x20000000));

	/* Reversed: down from the token, included. */
	o.reverse = true;
	o.next_token = node_id(0x12000000);
	CHECK_OK(list(s, &o, &c, token, NULL));
	CHECK_INT(c.n, 2);
	CHECK_STR(c.id[0], node_id(0x12000000));
	CHECK_STR(c.id[1], node_id(0x11000000));
	CHECK_STR(token, hex_of(node_id(0x10000000)));
	o.next_token = NULL;
	o.per_page = 0;
	o.prefix = "2";
	CHECK_OK(list(s, &o, &c, token, NULL));
	CHECK_INT(c.n, 2);
	CHECK_STR(c.id[0], node_id(0x21000000));

	o.next_token = "nonsense";
	CHECK_INT(list(s, &o, &c, token, &err), NOMAD_EINVAL);
	CHECK_CONTAINS(err.message, "token");
	nomad_state_close(s);
}
