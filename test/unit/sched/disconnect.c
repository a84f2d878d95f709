/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Disconnected clients: a group's disconnect block decides whether an
 * allocation on a node that stopped heartbeating is lost at once, kept
 * as unknown (and replaced or not) until lost_after runs out, and which
 * copy stays when the node comes back; stop_on_client_after holds the
 * replacement until the client has stopped its copy.
 */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "structs/pb.h"
#include "harness.h"

#define CS(x) NOMAD__ALLOCATION__CLIENT_STATUS_KIND__##x
#define HOUR 3600000000000LL

/* Two nodes, "web" with one allocation on the first; the second joins
 * after, so the replacement has somewhere to go. */
static struct th_cluster *one_alloc(nomad_job *j, nomad_node **first)
{
	struct th_cluster *c = th_new();
	*first = th_add_node(c, "a", "dc1", 4000, 8192, 100000);
	th_register(c, j);
	th_run_ok(c, "web", 1);
	th_alloc_named(c, "web.web[0]")->clientstatus = CS(running);
	th_add_node(c, "b", "dc1", 4000, 8192, 100000);
	return c;
}

static nomad_job *with_disconnect(int64_t lost_after, int replace,
				  int reconcile)
{
	nomad_job *j = th_job("web", 1, 100, 128);
	Nomad__DisconnectStrategy *d =
		nmd_pb_new(&nomad__disconnect_strategy__descriptor, NULL);
	d->has_lostafter = lost_after > 0;
	d->lostafter = lost_after;
	if (replace >= 0) {
		d->has_replace = 1;
		d->replace = replace;
	}
	if (reconcile) {
		d->has_reconcile = 1;
		d->reconcile = reconcile;
	}
	j->taskgroups[0]->disconnect = d;
	return j;
}

static void set_status(struct th_cluster *c, nomad_node *n, int status)
{
	n->status = status;
	th_node_changed(c, n);
}

static nomad_alloc *by_id(struct th_cluster *c, const char *id)
{
	for (size_t i = 0; i < c->n_allocs; i++)
		if (!strcmp(c->allocs[i]->id, id))
			return c->allocs[i];
	return NULL;
}

static size_t live_on(struct th_cluster *c, const nomad_node *n)
{
	return th_running_on(c, "web", n->id);
}

/* Without a disconnect block, a disconnected node's allocation is lost
 * and replaced at once. */
NMD_TEST(test_sched_disconnect__no_block_means_lost)
{
	nomad_node *a;
	struct th_cluster *c = one_alloc(th_job("web", 1, 100, 128), &a);
	char id[NOMAD_UUID_LEN + 1];
	snprintf(id, sizeof(id), "%s", th_alloc_named(c, "web.web[0]")->id);
	set_status(c, a, NOMAD__NODE__STATUS_KIND__disconnected);
	th_run_ok(c, "web", 2);
	CHECK_INT(by_id(c, id)->clientstatus, CS(lost));
	CHECK_INT(live_on(c, a), 0);
	CHECK_INT(th_running(c, "web"), 1);
	th_free(c);
}

/* lost_after: the allocation goes unknown, stays, and is replaced; a
 * follow-up evaluation comes when lost_after runs out. */
NMD_TEST(test_sched_disconnect__unknown_and_replaced)
{
	nomad_node *a;
	struct th_cluster *c = one_alloc(with_disconnect(HOUR, -1, 0), &a);
	const nomad_eval *f = NULL;
	nomad_alloc *orig, *repl = NULL;
	char id[NOMAD_UUID_LEN + 1];
	snprintf(id, sizeof(id), "%s", th_alloc_named(c, "web.web[0]")->id);
	set_status(c, a, NOMAD__NODE__STATUS_KIND__disconnected);
	th_run_ok(c, "web", 2);
	orig = by_id(c, id);
	CHECK_INT(orig->clientstatus, CS(unknown));
	CHECK_INT(orig->desiredstatus, NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run);
	CHECK_STR(orig->clientdescription,
		  "alloc is unknown since its node is disconnected");
	CHECK_INT(orig->n_allocstates, 1);
	CHECK_STR(orig->allocstates[0]->value, "unknown");
	for (size_t i = 0; i < c->n_created; i++)
		if (!strcmp(c->created[i]->triggeredby, "max-disconnect-timeout"))
			f = c->created[i];
	CHECK(f != NULL);
	CHECK_STR(orig->followupevalid, f->id);
	CHECK_INT(f->waituntil->seconds, (TH_NOW + HOUR) / 1000000000LL);
	for (size_t i = 0; i < c->n_allocs; i++)
		if (c->allocs[i]->previousallocation &&
		    !strcmp(c->allocs[i]->previousallocation, id))
			repl = c->allocs[i];
	CHECK(repl != NULL);
	CHECK(strcmp(repl->nodeid, a->id) != 0);
	CHECK_STR(repl->name, "web.web[0]");
	/* Nothing more while it stays unknown. */
	th_run_ok(c, "web", 3);
	CHECK_INT(c->n_allocs, 2);
	CHECK_INT(by_id(c, id)->desiredstatus,
		  NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run);
	th_free(c);
}

NMD_TEST(test_sched_disconnect__replace_false_waits)
{
	nomad_node *a;
	struct th_cluster *c = one_alloc(with_disconnect(HOUR, 0, 0), &a);
	set_status(c, a, NOMAD__NODE__STATUS_KIND__disconnected);
	th_run_ok(c, "web", 2);
	CHECK_INT(c->n_allocs, 1);
	CHECK_INT(c->allocs[0]->clientstatus, CS(unknown));
	th_free(c);
}

/* Past lost_after the unknown allocation is lost for good. */
NMD_TEST(test_sched_disconnect__expired_is_lost)
{
	nomad_node *a;
	struct th_cluster *c = one_alloc(with_disconnect(HOUR, 0, 0), &a);
	char id[NOMAD_UUID_LEN + 1];
	snprintf(id, sizeof(id), "%s", th_alloc_named(c, "web.web[0]")->id);
	set_status(c, a, NOMAD__NODE__STATUS_KIND__disconnected);
	th_run_ok(c, "web", 2);
	c->now = TH_NOW + HOUR + 1;
	th_run_ok(c, "web", 3);
	CHECK_INT(by_id(c, id)->clientstatus, CS(lost));
	CHECK_INT(by_id(c, id)->desiredstatus,
		  NOMAD__ALLOCATION__DESIRED_STATUS_KIND__stop);
	CHECK_INT(th_running(c, "web"), 1);
	CHECK_INT(live_on(c, a), 0);
	th_free(c);
}

/* The node comes back: the disconnect block's reconcile decides which
 * copy stays. */
static void reconnect_case(int reconcile, bool original_stays)
{
	nomad_node *a;
	struct th_cluster *c = one_alloc(with_disconnect(HOUR, -1, reconcile), &a);
	nomad_alloc *orig, *repl = NULL;
	char id[NOMAD_UUID_LEN + 1];
	snprintf(id, sizeof(id), "%s", th_alloc_named(c, "web.web[0]")->id);
	set_status(c, a, NOMAD__NODE__STATUS_KIND__disconnected);
	th_run_ok(c, "web", 2);
	for (size_t i = 0; i < c->n_allocs; i++)
		if (c->allocs[i]->previousallocation)
			repl = c->allocs[i];
	CHECK(repl != NULL);
	repl->clientstatus = CS(running);
	/* Back, and its client says the allocation is running. */
	set_status(c, a, NOMAD__NODE__STATUS_KIND__ready);
	by_id(c, id)->clientstatus = CS(running);
	th_run_ok(c, "web", 3);
	orig = by_id(c, id);
	CHECK_INT(th_running(c, "web"), 1);
	if (original_stays) {
		CHECK_INT(orig->desiredstatus,
			  NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run);
		CHECK_INT(orig->n_allocstates, 2);
		CHECK_STR(orig->allocstates[1]->value, "running");
		CHECK_INT(live_on(c, a), 1);
	} else {
		CHECK_INT(orig->desiredstatus,
			  NOMAD__ALLOCATION__DESIRED_STATUS_KIND__stop);
		CHECK_INT(live_on(c, a), 0);
	}
	/* Settled: the next evaluation changes nothing. */
	{
		size_t plans = c->n_plans;
		th_run_ok(c, "web", 4);
		CHECK_INT(c->n_plans, plans);
	}
	th_free(c);
}

NMD_TEST(test_sched_disconnect__reconnect_keep_original)
{
	reconnect_case(NOMAD__DISCONNECT_STRATEGY__RECONCILE_KIND__keep_original,
		       true);
}

NMD_TEST(test_sched_disconnect__reconnect_keep_replacement)
{
	reconnect_case(NOMAD__DISCONNECT_STRATEGY__RECONCILE_KIND__keep_replacement,
		       false);
}

/* A failed reconnecting allocation is stopped; the replacement stays. */
NMD_TEST(test_sched_disconnect__reconnect_failed_stops)
{
	nomad_node *a;
	struct th_cluster *c = one_alloc(with_disconnect(HOUR, -1, 0), &a);
	char id[NOMAD_UUID_LEN + 1];
	snprintf(id, sizeof(id), "%s", th_alloc_named(c, "web.web[0]")->id);
	set_status(c, a, NOMAD__NODE__STATUS_KIND__disconnected);
	th_run_ok(c, "web", 2);
	set_status(c, a, NOMAD__NODE__STATUS_KIND__ready);
	by_id(c, id)->clientstatus = CS(failed);
	th_run_ok(c, "web", 3);
	CHECK_INT(by_id(c, id)->desiredstatus,
		  NOMAD__ALLOCATION__DESIRED_STATUS_KIND__stop);
	CHECK_INT(th_running(c, "web"), 1);
	CHECK_INT(live_on(c, a), 0);
	th_free(c);
}

/* stop_on_client_after: the lost allocation's replacement waits until
 * its client has surely stopped it. */
NMD_TEST(test_sched_disconnect__stop_on_client_after_delays)
{
	nomad_node *a;
	nomad_job *j = th_job("web", 1, 100, 128);
	struct th_cluster *c;
	const nomad_eval *f = NULL;
	j->taskgroups[0]->disconnect =
		nmd_pb_new(&nomad__disconnect_strategy__descriptor, NULL);
	j->taskgroups[0]->disconnect->has_stoponclientafter = 1;
	j->taskgroups[0]->disconnect->stoponclientafter = 30000000000LL;
	c = one_alloc(j, &a);
	set_status(c, a, NOMAD__NODE__STATUS_KIND__down);
	th_run_ok(c, "web", 2);
	CHECK_INT(th_running(c, "web"), 0);
	CHECK_INT(c->n_allocs, 1);
	CHECK_INT(c->allocs[0]->clientstatus, CS(lost));
	for (size_t i = 0; i < c->n_created; i++)
		if (c->created[i]->waituntil)
			f = c->created[i];
	CHECK(f != NULL);
	/* 30 s plus the default 5 s kill timeout. */
	CHECK_INT(f->waituntil->seconds, (TH_NOW + 35000000000LL) / 1000000000LL);
	c->now = TH_NOW + 36000000000LL;
	th_run_ok(c, "web", 3);
	CHECK_INT(th_running(c, "web"), 1);
	th_free(c);
}
