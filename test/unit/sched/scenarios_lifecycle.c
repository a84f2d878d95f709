/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Lifecycle scenarios over the harness, each asserting the plan: counts
 * going up and down (highest names stopped first), a job stopped or
 * purged, finished batch work left alone, failed allocations rescheduled
 * now, later (a follow-up evaluation at WaitUntil) or not at all by their
 * policy's attempts, interval, delay function and the reschedule window,
 * the failed node's penalty, plans committed in part and retried up to
 * the attempt limit, and the same seed giving the same plan, byte for
 * byte.
 */
#include <math.h>
#include <string.h>

#include "test.h"
#include "structs/pb.h"
#include "harness.h"

#define SEC 1000000000LL
#define NOW 1700000000000000000LL /* the harness's "now" */

static struct th_cluster *cluster(int nodes)
{
	struct th_cluster *c = th_new();
	for (int i = 0; i < nodes; i++) {
		char name[16];
		snprintf(name, sizeof(name), "n%d", i);
		th_add_node(c, name, "dc1", 8000, 8192, 100000);
	}
	return c;
}

/* Every allocation the scheduler stopped in `plan`. */
static size_t stops_in(const nomad_plan *p, const char *why)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_nodeupdate; i++)
		for (size_t k = 0; k < p->nodeupdate[i]->value->n_items; k++) {
			const nomad_alloc *a = p->nodeupdate[i]->value->items[k];
			CHECK_INT(a->desiredstatus,
				  NOMAD__ALLOCATION__DESIRED_STATUS_KIND__stop);
			n += !why || (a->desireddescription &&
				      !strcmp(a->desireddescription, why));
		}
	return n;
}

/* New allocations in `plan`: NodeAllocation also carries in-place and
 * attribute updates of stored ones, which have a CreateIndex. */
static size_t placed_in(const nomad_plan *p)
{
	size_t n = 0;
	for (size_t i = 0; i < p->n_nodeallocation; i++)
		for (size_t k = 0; k < p->nodeallocation[i]->value->n_items; k++)
			n += !p->nodeallocation[i]->value->items[k]->has_createindex;
	return n;
}

/* The first new allocation in `plan`. */
static const nomad_alloc *first_placed(const nomad_plan *p)
{
	for (size_t i = 0; i < p->n_nodeallocation; i++)
		for (size_t k = 0; k < p->nodeallocation[i]->value->n_items; k++)
			if (!p->nodeallocation[i]->value->items[k]->has_createindex)
				return p->nodeallocation[i]->value->items[k];
	return NULL;
}

static nomad_alloc *alloc_by_id(struct th_cluster *c, const char *id)
{
	for (size_t i = 0; i < c->n_allocs; i++)
		if (!strcmp(c->allocs[i]->id, id))
			return c->allocs[i];
	return NULL;
}

static const nomad_plan *last_plan(struct th_cluster *c)
{
	CHECK(c->n_plans > 0);
	return c->plans[c->n_plans - 1];
}

/* ---- counts, stops, purges ---------------------------------------------------- */

NMD_TEST(test_sched_scenarios_lifecycle__count_down_stops_highest_names)
{
	struct th_cluster *c = cluster(3);
	th_register(c, th_job("web", 5, 100, 100));
	th_run_ok(c, "web", 13);
	th_register(c, th_job("web", 2, 100, 100));
	th_run_ok(c, "web", 13);
	CHECK_INT(stops_in(last_plan(c), "alloc not needed due to job update"),
		  3);
	CHECK_INT(placed_in(last_plan(c)), 0);
	for (size_t i = 0; i < last_plan(c)->n_nodeupdate; i++)
		for (size_t k = 0;
		     k < last_plan(c)->nodeupdate[i]->value->n_items; k++) {
			const char *name =
				last_plan(c)->nodeupdate[i]->value->items[k]->name;
			CHECK(!strcmp(name, "web.web[2]") ||
			      !strcmp(name, "web.web[3]") ||
			      !strcmp(name, "web.web[4]"));
		}
	CHECK(th_alloc_named(c, "web.web[0]") && th_alloc_named(c, "web.web[1]"));
	/* Up again: the free names, lowest first. */
	th_register(c, th_job("web", 4, 100, 100));
	th_run_ok(c, "web", 13);
	CHECK_INT(placed_in(last_plan(c)), 2);
	CHECK_INT(stops_in(last_plan(c), NULL), 0);
	CHECK(th_alloc_named(c, "web.web[2]") && th_alloc_named(c, "web.web[3]"));
	CHECK(th_alloc_named(c, "web.web[4]") == NULL);
	CHECK_INT(th_running(c, "web"), 4);
	th_free(c);
}

NMD_TEST(test_sched_scenarios_lifecycle__count_zero_stops_the_group)
{
	struct th_cluster *c = cluster(2);
	th_register(c, th_job("web", 3, 100, 100));
	th_run_ok(c, "web", 13);
	th_register(c, th_job("web", 0, 100, 100));
	th_run_ok(c, "web", 13);
	CHECK_INT(stops_in(last_plan(c), "alloc not needed due to job update"),
		  3);
	CHECK_INT(th_running(c, "web"), 0);
	CHECK_INT(th_last_update(c)->status,
		  NOMAD__EVALUATION__STATUS_KIND__complete);
	CHECK_INT(c->n_created, 0);
	th_free(c);
}

NMD_TEST(test_sched_scenarios_lifecycle__stop_then_purge)
{
	struct th_cluster *c = cluster(2);
	nomad_job *j;
	th_register(c, th_job("a", 2, 100, 100));
	th_register(c, th_job("b", 2, 100, 100));
	th_run_ok(c, "a", 13);
	th_run_ok(c, "b", 13);
	/* Stopped: every allocation stops, nothing is placed. */
	j = th_job("a", 2, 100, 100);
	j->has_stop = j->stop = 1;
	th_register(c, j);
	th_run_ok(c, "a", 13);
	CHECK_INT(stops_in(last_plan(c), "alloc not needed due to job update"),
		  2);
	CHECK_INT(placed_in(last_plan(c)), 0);
	CHECK_INT(th_running(c, "a"), 0);
	/* Run again: nothing left to stop, no plan. */
	th_run_ok(c, "a", 13);
	CHECK_INT(c->n_plans, 3);
	/* Purged: the job is gone, its allocations stop the same way. */
	for (size_t i = 0; i < c->n_jobs; i++)
		if (!strcmp(c->jobs[i]->id, "b")) {
			nomad_job_free(c->jobs[i]);
			c->jobs[i] = c->jobs[--c->n_jobs];
			break;
		}
	CHECK(th_find_job(c, "b") == NULL);
	th_run_ok(c, "b", 13);
	CHECK_INT(stops_in(last_plan(c), "alloc not needed due to job update"),
		  2);
	CHECK_INT(th_running(c, "b"), 0);
	CHECK_INT(th_last_update(c)->status,
		  NOMAD__EVALUATION__STATUS_KIND__complete);
	th_free(c);
}

NMD_TEST(test_sched_scenarios_lifecycle__batch_complete_keeps_its_name)
{
	struct th_cluster *c = cluster(2);
	nomad_job *j = th_job("work", 2, 100, 100);
	j->type = NOMAD__JOB_TYPE__batch;
	th_register(c, j);
	th_run_ok(c, "work", 13);
	th_alloc_named(c, "work.web[0]")->clientstatus =
		NOMAD__ALLOCATION__CLIENT_STATUS_KIND__complete;
	/* Nothing changed: the finished one is not run again. */
	th_run_ok(c, "work", 13);
	CHECK_INT(c->n_plans, 1);
	/* Three wanted of the same version (a count change in place): the
	 * finished one holds its name, only the new name is placed. */
	j->taskgroups[0]->count = 3;
	th_run_ok(c, "work", 13);
	CHECK_INT(placed_in(last_plan(c)), 1);
	CHECK_STR(first_placed(last_plan(c))->name, "work.web[2]");
	CHECK_INT(th_running(c, "work"), 2);
	th_free(c);
}

NMD_TEST(test_sched_scenarios_lifecycle__batch_new_version_runs_again)
{
	/* Finished allocations of an older version of a batch job are left
	 * out (filterOldTerminalAllocs): the new version runs that name
	 * again. */
	struct th_cluster *c = cluster(2);
	nomad_job *j = th_job("work", 2, 100, 100);
	j->type = NOMAD__JOB_TYPE__batch;
	th_register(c, j);
	th_run_ok(c, "work", 13);
	th_alloc_named(c, "work.web[0]")->clientstatus =
		NOMAD__ALLOCATION__CLIENT_STATUS_KIND__complete;
	j = th_job("work", 2, 100, 200);
	j->type = NOMAD__JOB_TYPE__batch;
	th_register(c, j);
	th_run_ok(c, "work", 13);
	CHECK_INT(placed_in(last_plan(c)), 2);
	CHECK_INT(stops_in(last_plan(c), "alloc is being updated due to job update"),
		  1);
	CHECK_INT(th_alloc_named(c, "work.web[0]")->jobversion, 1);
	CHECK_INT(th_alloc_named(c, "work.web[1]")->jobversion, 1);
	CHECK_INT(th_running(c, "work"), 2);
	th_free(c);
}

/* ---- rescheduling ------------------------------------------------------------- */

#define CONSTANT NOMAD__RESCHEDULE_POLICY__DELAY_FUNCTION_KIND__constant
#define EXPONENTIAL NOMAD__RESCHEDULE_POLICY__DELAY_FUNCTION_KIND__exponential
#define FIBONACCI NOMAD__RESCHEDULE_POLICY__DELAY_FUNCTION_KIND__fibonacci

static void add_event(nomad_alloc *a, int64_t at, int64_t delay,
		      const char *prev_node)
{
	Nomad__RescheduleEvent *ev =
		nmd_pb_new(&nomad__reschedule_event__descriptor, NULL);
	if (!a->rescheduletracker)
		a->rescheduletracker =
			nmd_pb_new(&nomad__reschedule_tracker__descriptor, NULL);
	ev->has_rescheduletime = ev->has_delay = 1;
	ev->rescheduletime = at;
	ev->delay = delay;
	if (prev_node)
		CHECK(nmd_pb_set_string(NULL, &ev->prevnodeid, prev_node));
	CHECK(NMD_PB_APPEND(NULL, a->rescheduletracker->events,
			    a->rescheduletracker->n_events, ev));
}

/* A service job "web" of `count` on `nodes` nodes under policy `p`,
 * placed. */
static struct th_cluster *placed(int nodes, int count,
				 Nomad__ReschedulePolicy *p)
{
	struct th_cluster *c = cluster(nodes);
	nomad_job *j = th_job("web", count, 100, 100);
	j->taskgroups[0]->reschedulepolicy = p;
	th_register(c, j);
	th_run_ok(c, "web", 13);
	CHECK_INT(th_running(c, "web"), (size_t)count);
	return c;
}

/* Fail the allocation named `name` at `at`; returns it. */
static nomad_alloc *fail(struct th_cluster *c, const char *name, int64_t at)
{
	nomad_alloc *a = th_alloc_named(c, name);
	CHECK(a != NULL);
	a->clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__failed;
	a->has_modifytime = 1;
	a->modifytime = at;
	return a;
}

NMD_TEST(test_sched_scenarios_lifecycle__reschedule_now_exponential)
{
	struct th_cluster *c = placed(
		2, 1, th_reschedule_policy(3, 3600 * SEC, 10 * SEC, EXPONENTIAL, 300 * SEC,
			     false));
	nomad_alloc *a = fail(c, "web.web[0]", NOW - 120 * SEC);
	char id[64], node[64];
	const nomad_alloc *next;
	const Nomad__RescheduleTracker *t;
	snprintf(id, sizeof(id), "%s", a->id);
	snprintf(node, sizeof(node), "%s", a->nodeid);
	/* One reschedule before, 10 s after the delay: the next is 20 s,
	 * passed by now. */
	add_event(a, NOW - 200 * SEC, 10 * SEC, NULL);
	th_run_ok(c, "web", 13);
	CHECK_INT(stops_in(last_plan(c), "alloc was rescheduled because it failed"),
		  1);
	next = th_alloc_named(c, "web.web[0]");
	CHECK(next != NULL && strcmp(next->id, id) != 0);
	CHECK_STR(next->previousallocation, id);
	t = next->rescheduletracker;
	CHECK(t != NULL);
	CHECK_INT(t->n_events, 2);
	CHECK_INT(t->events[0]->delay, 10 * SEC);
	CHECK_INT(t->events[1]->delay, 20 * SEC);
	CHECK_INT(t->events[1]->rescheduletime, NOW);
	CHECK_STR(t->events[1]->prevallocid, id);
	CHECK_STR(t->events[1]->prevnodeid, node);
	CHECK_INT(c->n_created, 0);
	th_free(c);
}

NMD_TEST(test_sched_scenarios_lifecycle__reschedule_later_batches_follow_ups)
{
	/* Three failures: two within 5 s of each other share a follow-up,
	 * the third gets its own; each waits for its delay. */
	struct th_cluster *c = placed(
		2, 3, th_reschedule_policy(2, 3600 * SEC, 30 * SEC, CONSTANT, 0, false));
	const nomad_alloc *f[3];
	char ids[3][64];
	f[0] = fail(c, "web.web[0]", NOW - 10 * SEC);
	f[1] = fail(c, "web.web[1]", NOW - 8 * SEC);
	f[2] = fail(c, "web.web[2]", NOW);
	for (int i = 0; i < 3; i++)
		snprintf(ids[i], sizeof(ids[i]), "%s", f[i]->id);
	th_run_ok(c, "web", 13);
	CHECK_INT(th_running(c, "web"), 0);
	CHECK_INT(c->n_created, 2);
	for (size_t i = 0; i < 2; i++) {
		const nomad_eval *e = c->created[i];
		CHECK_STR(e->triggeredby, "alloc-failure");
		CHECK_STR(e->jobid, "web");
		CHECK_INT(e->status, NOMAD__EVALUATION__STATUS_KIND__pending);
		CHECK_INT(e->type, NOMAD__JOB_TYPE__service);
		CHECK(e->waituntil != NULL);
	}
	CHECK_INT(c->created[0]->waituntil->seconds, NOW / SEC + 20);
	CHECK_INT(c->created[1]->waituntil->seconds, NOW / SEC + 30);
	/* The failed allocations name their follow-up; nothing is stopped. */
	CHECK_STR(alloc_by_id(c, ids[0])->followupevalid, c->created[0]->id);
	CHECK_STR(alloc_by_id(c, ids[1])->followupevalid, c->created[0]->id);
	CHECK_STR(alloc_by_id(c, ids[2])->followupevalid, c->created[1]->id);
	CHECK_INT(stops_in(last_plan(c), NULL), 0);
	CHECK_INT(placed_in(last_plan(c)), 0);
	/* The first follow-up replaces its two, the other waits. */
	{
		nomad_eval *e = NULL;
		nomad_error err;
		CHECK_OK(nomad_eval_copy(&e, c->created[0]));
		CHECK_OK(th_run_eval(c, e, 3, &err));
		nomad_eval_free(e);
	}
	CHECK_INT(th_running(c, "web"), 2);
	CHECK_STR(th_alloc_named(c, "web.web[0]")->previousallocation, ids[0]);
	CHECK_STR(th_alloc_named(c, "web.web[1]")->previousallocation, ids[1]);
	CHECK(th_alloc_named(c, "web.web[2]") == NULL);
	CHECK_INT(c->n_created, 2);
	th_free(c);
}

NMD_TEST(test_sched_scenarios_lifecycle__reschedule_window_is_one_second)
{
	/* Due within a second: now. A nanosecond more: later. */
	for (int late = 0; late <= 1; late++) {
		struct th_cluster *c = placed(
			2, 1, th_reschedule_policy(2, 3600 * SEC, 5 * SEC, CONSTANT, 0, false));
		fail(c, "web.web[0]", NOW - 4 * SEC + late);
		th_run_ok(c, "web", 13);
		CHECK_INT(th_running(c, "web"), late ? 0 : 1);
		CHECK_INT(c->n_created, late ? 1 : 0);
		if (late) {
			CHECK_INT(c->created[0]->waituntil->seconds, NOW / SEC + 1);
			CHECK_INT(c->created[0]->waituntil->nanos, 1);
		}
		th_free(c);
	}
}

NMD_TEST(test_sched_scenarios_lifecycle__reschedule_follow_up_fibonacci)
{
	/* Two reschedules of 5 s each: the next fibonacci delay is 10 s. */
	struct th_cluster *c = placed(
		2, 1, th_reschedule_policy(5, 3600 * SEC, 5 * SEC, FIBONACCI, 60 * SEC, false));
	nomad_alloc *a = fail(c, "web.web[0]", NOW);
	add_event(a, NOW - 100 * SEC, 5 * SEC, NULL);
	add_event(a, NOW - 50 * SEC, 5 * SEC, NULL);
	th_run_ok(c, "web", 13);
	CHECK_INT(c->n_created, 1);
	CHECK_INT(c->created[0]->waituntil->seconds, NOW / SEC + 10);
	th_free(c);
}

NMD_TEST(test_sched_scenarios_lifecycle__attempts_exhausted_within_interval)
{
	struct th_cluster *c = placed(
		2, 1, th_reschedule_policy(1, 3600 * SEC, 5 * SEC, CONSTANT, 0, false));
	nomad_alloc *a = fail(c, "web.web[0]", NOW - 60 * SEC);
	add_event(a, NOW - 600 * SEC, 5 * SEC, NULL);
	th_run_ok(c, "web", 13);
	/* Spent: it keeps its name, failed; nothing placed or created. */
	CHECK_INT(c->n_plans, 1);
	CHECK_INT(c->n_created, 0);
	CHECK_INT(th_running(c, "web"), 0);
	CHECK_INT(th_last_update(c)->status,
		  NOMAD__EVALUATION__STATUS_KIND__complete);
	CHECK_INT(th_last_update(c)->n_failedtgallocs, 0);
	th_free(c);
}

NMD_TEST(test_sched_scenarios_lifecycle__attempts_outside_interval_count_not)
{
	struct th_cluster *c = placed(
		2, 1, th_reschedule_policy(1, 3600 * SEC, 5 * SEC, CONSTANT, 0, false));
	nomad_alloc *a = fail(c, "web.web[0]", NOW - 60 * SEC);
	const Nomad__RescheduleTracker *t;
	add_event(a, NOW - 7200 * SEC, 5 * SEC, NULL);
	th_run_ok(c, "web", 13);
	CHECK_INT(th_running(c, "web"), 1);
	/* Only events within the interval are carried over, so the old one
	 * is not; the new one is there in any case. */
	t = th_alloc_named(c, "web.web[0]")->rescheduletracker;
	CHECK(t != NULL && t->n_events >= 1);
	CHECK_INT(t->events[t->n_events - 1]->rescheduletime, NOW);
	th_free(c);
}

NMD_TEST(test_sched_scenarios_lifecycle__unlimited_always_reschedules)
{
	struct th_cluster *c = placed(
		2, 1, th_reschedule_policy(0, 0, 5 * SEC, CONSTANT, 0, true));
	nomad_alloc *a = fail(c, "web.web[0]", NOW - 60 * SEC);
	const Nomad__RescheduleTracker *t;
	char id[64];
	snprintf(id, sizeof(id), "%s", a->id);
	for (int i = 0; i < 8; i++)
		add_event(a, NOW - (100 - i) * SEC, 5 * SEC, NULL);
	th_run_ok(c, "web", 13);
	CHECK_INT(th_running(c, "web"), 1);
	/* The history is capped; the newest event is this reschedule. */
	t = th_alloc_named(c, "web.web[0]")->rescheduletracker;
	CHECK(t != NULL);
	CHECK(t->n_events >= 5 && t->n_events <= 6);
	CHECK_STR(t->events[t->n_events - 1]->prevallocid, id);
	CHECK_INT(t->events[t->n_events - 2]->rescheduletime, NOW - 93 * SEC);
	th_free(c);
}

NMD_TEST(test_sched_scenarios_lifecycle__no_policy_no_reschedule)
{
	struct th_cluster *c = placed(2, 2, NULL);
	fail(c, "web.web[1]", NOW - 600 * SEC);
	th_run_ok(c, "web", 13);
	CHECK_INT(c->n_plans, 1);
	CHECK_INT(th_running(c, "web"), 1);
	CHECK(th_alloc_named(c, "web.web[1]") == NULL);
	th_free(c);
}

NMD_TEST(test_sched_scenarios_lifecycle__follow_up_past_due_reschedules_now)
{
	/* A failed allocation waiting on a follow-up whose time has come is
	 * rescheduled by whichever evaluation sees it first. */
	struct th_cluster *c = placed(
		2, 1, th_reschedule_policy(2, 3600 * SEC, 30 * SEC, CONSTANT, 0, false));
	nomad_alloc *a = fail(c, "web.web[0]", NOW - 60 * SEC);
	CHECK(nmd_pb_set_string(NULL, &a->followupevalid,
				"ffffffff-0000-4000-8000-000000000001"));
	th_run_ok(c, "web", 13);
	CHECK_INT(th_running(c, "web"), 1);
	CHECK_INT(c->n_created, 0);
	th_free(c);
}

NMD_TEST(test_sched_scenarios_lifecycle__penalty_node)
{
	struct th_cluster *c = placed(
		2, 1, th_reschedule_policy(3, 3600 * SEC, 5 * SEC, CONSTANT, 0, false));
	nomad_alloc *a = fail(c, "web.web[0]", NOW - 60 * SEC);
	const nomad_alloc *next;
	char node[64];
	bool seen = false;
	snprintf(node, sizeof(node), "%s", a->nodeid);
	th_run_ok(c, "web", 13);
	next = th_alloc_named(c, "web.web[0]");
	CHECK(strcmp(next->nodeid, node) != 0);
	for (size_t i = 0; i < next->metrics->n_scoremetadata; i++) {
		const Nomad__NodeScoreMeta *m = next->metrics->scoremetadata[i];
		for (size_t k = 0; k < m->n_scores; k++)
			if (!strcmp(m->scores[k]->key, "node-reschedule-penalty")) {
				CHECK_STR(m->nodeid, node);
				CHECK(fabs(m->scores[k]->value + 1.0) < 1e-12);
				seen = true;
			}
	}
	CHECK(seen);
	th_free(c);
}

NMD_TEST(test_sched_scenarios_lifecycle__penalty_is_only_a_preference)
{
	/* One node: the replacement goes back to where it failed. */
	struct th_cluster *c = placed(
		1, 1, th_reschedule_policy(3, 3600 * SEC, 5 * SEC, CONSTANT, 0, false));
	nomad_alloc *a = fail(c, "web.web[0]", NOW - 60 * SEC);
	char node[64];
	snprintf(node, sizeof(node), "%s", a->nodeid);
	th_run_ok(c, "web", 13);
	CHECK_INT(th_running(c, "web"), 1);
	CHECK_STR(th_alloc_named(c, "web.web[0]")->nodeid, node);
	th_free(c);
}

/* ---- plan attempts ------------------------------------------------------------- */

NMD_TEST(test_sched_scenarios_lifecycle__partial_commit_then_max_attempts)
{
	/* Node "big" takes both allocations, node "one" one of them; the
	 * plan applier rejects "big". The first plan commits what landed on
	 * "one", the retries keep failing on "big", and the evaluation ends
	 * failed with a blocked one to retry it. */
	struct th_cluster *c = th_new();
	nomad_node *big = th_add_node(c, "big", "dc1", 8000, 8192, 100000);
	nomad_node *one = th_add_node(c, "one", "dc1", 1000, 1024, 100000);
	const nomad_eval *done;
	th_register(c, th_job("web", 2, 800, 800));
	c->reject_node = big->id;
	th_run_ok(c, "web", 13);
	CHECK_INT(th_running_on(c, "web", one->id), 1);
	CHECK_INT(th_running_on(c, "web", big->id), 0);
	CHECK(c->n_plans >= 5);
	/* Each retry looked at a fresh picture: the last asks only for the
	 * allocation still missing. */
	CHECK_INT(placed_in(last_plan(c)), 1);
	CHECK_STR(first_placed(last_plan(c))->nodeid, big->id);
	done = th_last_update(c);
	CHECK_INT(done->status, NOMAD__EVALUATION__STATUS_KIND__failed);
	CHECK_STR(done->statusdescription, "maximum attempts reached (5)");
	CHECK_INT(c->n_created, 1);
	CHECK_STR(c->created[0]->triggeredby, "max-plan-attempts");
	CHECK_INT(c->created[0]->status, NOMAD__EVALUATION__STATUS_KIND__blocked);
	CHECK_STR(done->blockedeval, c->created[0]->id);
	th_free(c);
}

NMD_TEST(test_sched_scenarios_lifecycle__batch_has_two_plan_attempts)
{
	struct th_cluster *c = cluster(1);
	nomad_job *j = th_job("work", 1, 100, 100);
	j->type = NOMAD__JOB_TYPE__batch;
	th_register(c, j);
	c->reject_node = c->nodes[0]->id;
	th_run_ok(c, "work", 13);
	CHECK_INT(c->n_plans, 2);
	CHECK_STR(th_last_update(c)->statusdescription,
		  "maximum attempts reached (2)");
	CHECK_INT(th_last_update(c)->status, NOMAD__EVALUATION__STATUS_KIND__failed);
	CHECK_STR(c->created[0]->triggeredby, "max-plan-attempts");
	th_free(c);
}

/* ---- determinism ---------------------------------------------------------------- */

/* A mixed cluster and job (ports, affinity, spread, more than fits),
 * run with `seed`; the plan and the blocked evaluation, packed. */
static void run_packed(uint64_t seed, uint8_t **plan, size_t *plan_len,
		       uint8_t **blocked, size_t *blocked_len)
{
	struct th_cluster *c = th_new();
	nomad_job *j = th_job("det", 80, 700, 700);
	Nomad__NetworkResource *net =
		nmd_pb_new(&nomad__network_resource__descriptor, NULL);
	Nomad__Port *p = nmd_pb_new(&nomad__port__descriptor, NULL);
	Nomad__Affinity *a = nmd_pb_new(&nomad__affinity__descriptor, NULL);
	Nomad__Spread *s = nmd_pb_new(&nomad__spread__descriptor, NULL);
	for (int i = 0; i < 24; i++) {
		char name[16], rack[16];
		nomad_node *n;
		snprintf(name, sizeof(name), "n%d", i);
		snprintf(rack, sizeof(rack), "r%d", i % 3);
		n = th_add_node(c, name, "dc1", 2000 + 500 * (i % 4),
				2048 + 512 * (i % 5), 10000);
		CHECK(nmd_map_set(NULL, &n->meta, &n->n_meta, "rack", rack));
		th_node_changed(c, n);
	}
	CHECK(nmd_pb_set_string(NULL, &p->label, "http"));
	CHECK(NMD_PB_APPEND(NULL, net->dynamicports, net->n_dynamicports, p));
	CHECK(NMD_PB_APPEND(NULL, j->taskgroups[0]->networks,
			    j->taskgroups[0]->n_networks, net));
	CHECK(nmd_pb_set_string(NULL, &a->ltarget, "${meta.rack}"));
	CHECK(nmd_pb_set_string(NULL, &a->operand, "="));
	CHECK(nmd_pb_set_string(NULL, &a->rtarget, "r1"));
	a->has_weight = 1;
	a->weight = 40;
	CHECK(NMD_PB_APPEND(NULL, j->affinities, j->n_affinities, a));
	CHECK(nmd_pb_set_string(NULL, &s->attribute, "${meta.rack}"));
	s->has_weight = 1;
	s->weight = 60;
	CHECK(NMD_PB_APPEND(NULL, j->taskgroups[0]->spreads,
			    j->taskgroups[0]->n_spreads, s));
	th_register(c, j);
	th_run_ok(c, "det", seed);
	CHECK_INT(c->n_plans, 1);
	CHECK_INT(c->n_created, 1);
	CHECK_OK(nomad_msg_pack(&c->plans[0]->base, NULL, plan, plan_len));
	CHECK_OK(nomad_msg_pack(&c->created[0]->base, NULL, blocked,
				blocked_len));
	th_free(c);
}

NMD_TEST(test_sched_scenarios_lifecycle__same_seed_same_bytes)
{
	uint8_t *p[3], *b[3];
	size_t pl[3], bl[3];
	run_packed(42, &p[0], &pl[0], &b[0], &bl[0]);
	run_packed(42, &p[1], &pl[1], &b[1], &bl[1]);
	run_packed(43, &p[2], &pl[2], &b[2], &bl[2]);
	CHECK_INT(pl[0], pl[1]);
	CHECK(memcmp(p[0], p[1], pl[0]) == 0);
	CHECK_INT(bl[0], bl[1]);
	CHECK(memcmp(b[0], b[1], bl[0]) == 0);
	/* Another seed draws other IDs and ports at least. */
	CHECK(pl[0] != pl[2] || memcmp(p[0], p[2], pl[0]) != 0);
	for (int i = 0; i < 3; i++) {
		nomad_free(p[i]);
		nomad_free(b[i]);
	}
}
