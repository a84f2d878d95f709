/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Rescheduling failed allocations by the group's policy: the delay
 * series and their cap and reset, attempts within the interval, a
 * replacement now (tracked, away from the failed node), a follow-up
 * evaluation for later, and no replacement when the policy allows none.
 */
#include <string.h>

#include "test.h"
#include "sched/sched_int.h"
#include "structs/pb.h"
#include "harness.h"

#define SEC 1000000000LL
#define NOW 1700000000000000000LL /* the harness's "now" */

static void add_event(nomad_alloc *a, int64_t at, int64_t delay)
{
	Nomad__RescheduleEvent *ev =
		nmd_pb_new(&nomad__reschedule_event__descriptor, NULL);
	if (!a->rescheduletracker)
		a->rescheduletracker =
			nmd_pb_new(&nomad__reschedule_tracker__descriptor, NULL);
	ev->has_rescheduletime = ev->has_delay = 1;
	ev->rescheduletime = at;
	ev->delay = delay;
	CHECK(NMD_PB_APPEND(NULL, a->rescheduletracker->events,
			    a->rescheduletracker->n_events, ev));
}

static nomad_alloc *failed_at(int64_t t)
{
	nomad_alloc *a = nomad_alloc_new();
	a->has_clientstatus = a->has_desiredstatus = a->has_modifytime = 1;
	a->clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__failed;
	a->desiredstatus = NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run;
	a->modifytime = t;
	return a;
}

NMD_TEST(test_sched_reschedule__delay_series)
{
	Nomad__ReschedulePolicy *expo = th_reschedule_policy(
		0, 0, 5 * SEC,
		NOMAD__RESCHEDULE_POLICY__DELAY_FUNCTION_KIND__exponential,
		60 * SEC, true);
	Nomad__ReschedulePolicy *fib = th_reschedule_policy(
		0, 0, 5 * SEC,
		NOMAD__RESCHEDULE_POLICY__DELAY_FUNCTION_KIND__fibonacci,
		60 * SEC, true);
	nomad_alloc *a = failed_at(NOW);
	CHECK_INT(nmd_reschedule_delay(a, expo), 5 * SEC); /* no history */
	add_event(a, NOW - 100 * SEC, 5 * SEC);
	CHECK_INT(nmd_reschedule_delay(a, expo), 10 * SEC);
	CHECK_INT(nmd_reschedule_delay(a, fib), 5 * SEC); /* needs two */
	add_event(a, NOW - 50 * SEC, 10 * SEC);
	CHECK_INT(nmd_reschedule_delay(a, expo), 20 * SEC);
	CHECK_INT(nmd_reschedule_delay(a, fib), 15 * SEC);
	/* Capped at max_delay; but having run longer than the cap since the
	 * last reschedule starts the series again. */
	add_event(a, NOW - 10 * SEC, 40 * SEC);
	CHECK_INT(nmd_reschedule_delay(a, expo), 60 * SEC);
	add_event(a, NOW - 61 * SEC, 60 * SEC);
	CHECK_INT(nmd_reschedule_delay(a, expo), 5 * SEC);
	nmd_pb_free(expo, NULL);
	nmd_pb_free(fib, NULL);
	nomad_alloc_free(a);
}

NMD_TEST(test_sched_reschedule__attempts_within_the_interval)
{
	Nomad__ReschedulePolicy *p = th_reschedule_policy(
		2, 3600 * SEC, 5 * SEC,
		NOMAD__RESCHEDULE_POLICY__DELAY_FUNCTION_KIND__constant, 0, false);
	Nomad__ReschedulePolicy *none = th_reschedule_policy(
		0, 3600 * SEC, 5 * SEC,
		NOMAD__RESCHEDULE_POLICY__DELAY_FUNCTION_KIND__constant, 0, false);
	nomad_alloc *a = failed_at(NOW);
	int64_t when, delay;
	CHECK(nmd_reschedule_next(a, p, &when, &delay));
	CHECK_INT(when, NOW + 5 * SEC);
	CHECK(!nmd_reschedule_next(a, none, &when, &delay));
	add_event(a, NOW - 7200 * SEC, 5 * SEC); /* outside the interval */
	add_event(a, NOW - 60 * SEC, 5 * SEC);
	CHECK(nmd_reschedule_next(a, p, &when, &delay));
	add_event(a, NOW - 30 * SEC, 5 * SEC);
	CHECK(!nmd_reschedule_next(a, p, &when, &delay));
	/* Only failed allocations meant to run reschedule. */
	a->clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__complete;
	CHECK(!nmd_reschedule_next(a, p, &when, &delay));
	nmd_pb_free(p, NULL);
	nmd_pb_free(none, NULL);
	nomad_alloc_free(a);
}

static struct th_cluster *with_failed(int64_t delay, int attempts,
				      int64_t failed_ago, char *first_node,
				      char *first_id)
{
	struct th_cluster *c = th_new();
	nomad_job *j = th_job("web", 1, 100, 100);
	nomad_error err;
	nomad_alloc *a;
	th_add_node(c, "n0", "dc1", 4000, 4096, 10000);
	th_add_node(c, "n1", "dc1", 4000, 4096, 10000);
	j->taskgroups[0]->reschedulepolicy = th_reschedule_policy(
		attempts, 3600 * SEC, delay,
		NOMAD__RESCHEDULE_POLICY__DELAY_FUNCTION_KIND__constant, 0, false);
	th_register(c, j);
	CHECK_OK(th_run(c, "web", 1, &err));
	a = th_alloc_named(c, "web.web[0]");
	a->clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__failed;
	a->modifytime = NOW - failed_ago;
	snprintf(first_node, 64, "%s", a->nodeid);
	snprintf(first_id, 64, "%s", a->id);
	return c;
}

NMD_TEST(test_sched_reschedule__now_tracked_and_away_from_the_node)
{
	char node[64], id[64];
	struct th_cluster *c = with_failed(5 * SEC, 2, 60 * SEC, node, id);
	nomad_error err;
	const nomad_alloc *next;
	CHECK_OK(th_run(c, "web", 2, &err));
	next = th_alloc_named(c, "web.web[0]");
	CHECK(next != NULL);
	CHECK(strcmp(next->id, id) != 0);
	CHECK_STR(next->previousallocation, id);
	CHECK(strcmp(next->nodeid, node) != 0); /* the penalty */
	CHECK(next->rescheduletracker != NULL);
	CHECK_INT(next->rescheduletracker->n_events, 1);
	CHECK_STR(next->rescheduletracker->events[0]->prevallocid, id);
	CHECK_STR(next->rescheduletracker->events[0]->prevnodeid, node);
	CHECK_INT(next->rescheduletracker->events[0]->delay, 5 * SEC);
	/* The failed one is stopped, saying why. */
	for (size_t i = 0; i < c->n_allocs; i++)
		if (!strcmp(c->allocs[i]->id, id))
			CHECK_INT(c->allocs[i]->desiredstatus,
				  NOMAD__ALLOCATION__DESIRED_STATUS_KIND__stop);
	CHECK_INT(th_running(c, "web"), 1);
	th_free(c);
}

NMD_TEST(test_sched_reschedule__later_through_a_follow_up)
{
	char node[64], id[64];
	struct th_cluster *c = with_failed(30 * SEC, 2, 0, node, id);
	nomad_error err;
	const nomad_alloc *failed = NULL;
	CHECK_OK(th_run(c, "web", 2, &err));
	CHECK_INT(th_running(c, "web"), 0); /* not yet */
	CHECK_INT(c->n_created, 1);
	CHECK_STR(c->created[0]->triggeredby, "alloc-failure");
	CHECK(c->created[0]->waituntil != NULL);
	CHECK_INT(c->created[0]->waituntil->seconds, NOW / SEC + 30);
	for (size_t i = 0; i < c->n_allocs; i++)
		if (!strcmp(c->allocs[i]->id, id))
			failed = c->allocs[i];
	CHECK(failed != NULL);
	CHECK_STR(failed->followupevalid, c->created[0]->id);
	/* Another evaluation before then leaves it to the follow-up. */
	CHECK_OK(th_run(c, "web", 3, &err));
	CHECK_INT(c->n_created, 1);
	CHECK_INT(th_running(c, "web"), 0);
	/* The follow-up replaces it. */
	{
		nomad_eval *f = NULL;
		CHECK_OK(nomad_eval_copy(&f, c->created[0]));
		CHECK_OK(th_run_eval(c, f, 4, &err));
		nomad_eval_free(f);
	}
	CHECK_INT(th_running(c, "web"), 1);
	CHECK_STR(th_alloc_named(c, "web.web[0]")->previousallocation, id);
	th_free(c);
}

NMD_TEST(test_sched_reschedule__no_attempts_no_replacement)
{
	char node[64], id[64];
	struct th_cluster *c = with_failed(5 * SEC, 0, 60 * SEC, node, id);
	nomad_error err;
	CHECK_OK(th_run(c, "web", 2, &err));
	CHECK_INT(th_running(c, "web"), 0);
	CHECK_INT(c->n_plans, 1); /* only the first placement */
	th_free(c);
}

/* The replacement carries the history its policy counts: the last five
 * events of an unlimited policy, those within the interval of a limited
 * one, and the new event. */
static const nomad_alloc *reschedule_with_history(Nomad__ReschedulePolicy *p,
						  const int64_t *ago, size_t n,
						  struct th_cluster **out)
{
	struct th_cluster *c = th_new();
	nomad_job *j = th_job("web", 1, 100, 100);
	nomad_error err;
	nomad_alloc *a;
	th_add_node(c, "n0", "dc1", 4000, 4096, 10000);
	th_add_node(c, "n1", "dc1", 4000, 4096, 10000);
	j->taskgroups[0]->reschedulepolicy = p;
	th_register(c, j);
	CHECK_OK(th_run(c, "web", 1, &err));
	a = th_alloc_named(c, "web.web[0]");
	for (size_t i = 0; i < n; i++)
		add_event(a, NOW - ago[i], 5 * SEC);
	a->clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__failed;
	a->modifytime = NOW - 3600 * SEC;
	CHECK_OK(th_run(c, "web", 2, &err));
	*out = c;
	return th_alloc_named(c, "web.web[0]");
}

NMD_TEST(test_sched_reschedule__history_carried_over)
{
	static const int64_t many[] = {7000 * SEC, 6000 * SEC, 5000 * SEC,
				       4000 * SEC, 3000 * SEC, 2000 * SEC,
				       1000 * SEC};
	static const int64_t two[] = {7200 * SEC, 600 * SEC};
	struct th_cluster *c;
	const nomad_alloc *next = reschedule_with_history(
		th_reschedule_policy(0, 0, 5 * SEC,
		       NOMAD__RESCHEDULE_POLICY__DELAY_FUNCTION_KIND__constant, 0,
		       true),
		many, 7, &c);
	CHECK(next && next->rescheduletracker);
	CHECK_INT(next->rescheduletracker->n_events, 6);
	CHECK_INT(next->rescheduletracker->events[0]->rescheduletime,
		  NOW - 5000 * SEC);
	CHECK_INT(next->rescheduletracker->events[5]->rescheduletime, NOW);
	th_free(c);
	next = reschedule_with_history(
		th_reschedule_policy(3, 3600 * SEC, 5 * SEC,
		       NOMAD__RESCHEDULE_POLICY__DELAY_FUNCTION_KIND__constant, 0,
		       false),
		two, 2, &c);
	CHECK(next && next->rescheduletracker);
	CHECK_INT(next->rescheduletracker->n_events, 2);
	CHECK_INT(next->rescheduletracker->events[0]->rescheduletime,
		  NOW - 600 * SEC);
	th_free(c);
}

/* Failures due within 5 s of the earliest share its follow-up, whatever
 * order the allocations come in. */
NMD_TEST(test_sched_reschedule__follow_ups_batched_by_time)
{
	struct th_cluster *c = th_new();
	nomad_job *j = th_job("web", 2, 100, 100);
	nomad_error err;
	th_add_node(c, "n0", "dc1", 4000, 4096, 10000);
	j->taskgroups[0]->reschedulepolicy = th_reschedule_policy(
		3, 3600 * SEC, 30 * SEC,
		NOMAD__RESCHEDULE_POLICY__DELAY_FUNCTION_KIND__constant, 0, false);
	th_register(c, j);
	CHECK_OK(th_run(c, "web", 1, &err));
	/* web[0] is due at now+30 s, web[1] at now+27 s. */
	{
		nomad_alloc *a0 = th_alloc_named(c, "web.web[0]");
		nomad_alloc *a1 = th_alloc_named(c, "web.web[1]");
		CHECK(a0 && a1);
		a0->clientstatus = a1->clientstatus =
			NOMAD__ALLOCATION__CLIENT_STATUS_KIND__failed;
		a0->modifytime = NOW;
		a1->modifytime = NOW - 3 * SEC;
	}
	CHECK_OK(th_run(c, "web", 2, &err));
	CHECK_INT(c->n_created, 1);
	CHECK_INT(c->created[0]->waituntil->seconds, NOW / SEC + 27);
	th_free(c);
}

/* A plan committed in part starts the attempts over: one good node's
 * placement lands, then five attempts at the rejecting node fail. */
NMD_TEST(test_sched_reschedule__progress_resets_the_attempts)
{
	struct th_cluster *c = th_new();
	nomad_job *j = th_job("web", 2, 3000, 100);
	nomad_error err;
	th_add_node(c, "good", "dc1", 4000, 4096, 10000);
	th_add_node(c, "bad", "dc1", 4000, 4096, 10000);
	th_register(c, j);
	c->reject_node = c->nodes[1]->id;
	CHECK_OK(th_run(c, "web", 1, &err));
	CHECK_INT(th_running(c, "web"), 1);
	CHECK_INT(c->n_plans, 6);
	CHECK_STR(th_last_update(c)->statusdescription,
		  "maximum attempts reached (5)");
	th_free(c);
}

/* A failed allocation that ran for its max_run_duration was stopped for
 * running too long: it is done, not rescheduled; one that failed sooner
 * is rescheduled as usual. */
NMD_TEST(test_sched_reschedule__max_run_duration_is_done)
{
	for (int sooner = 0; sooner < 2; sooner++) {
		struct th_cluster *c = th_new();
		nomad_job *j = th_job("job", 1, 100, 100);
		nomad_alloc *a;
		th_add_node(c, "n0", "dc1", 4000, 4096, 10000);
		j->type = NOMAD__JOB_TYPE__batch;
		j->taskgroups[0]->has_maxrunduration = 1;
		j->taskgroups[0]->maxrunduration = 60 * SEC;
		j->taskgroups[0]->reschedulepolicy = th_reschedule_policy(
			0, 0, 5 * SEC,
			NOMAD__RESCHEDULE_POLICY__DELAY_FUNCTION_KIND__constant, 0,
			true);
		th_register(c, j);
		th_run_ok(c, "job", 1);
		a = th_alloc_named(c, "job.web[0]");
		CHECK(a != NULL);
		a->createtime = NOW - 200 * SEC;
		a->clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__failed;
		a->modifytime = sooner ? NOW - 190 * SEC : NOW - 130 * SEC;
		th_run_ok(c, "job", 2);
		CHECK_INT(th_running(c, "job"), sooner ? 1 : 0);
		CHECK_INT(c->n_plans, sooner ? 2 : 1);
		th_free(c);
	}
}

/* The same for sysbatch: a run that ran out is not started again. */
NMD_TEST(test_sched_reschedule__sysbatch_max_run_duration)
{
	struct th_cluster *c = th_new();
	nomad_job *j = th_job("sweep", 1, 100, 100);
	nomad_alloc *a;
	th_add_node(c, "n0", "dc1", 4000, 4096, 10000);
	j->type = NOMAD__JOB_TYPE__sysbatch;
	j->taskgroups[0]->has_maxrunduration = 1;
	j->taskgroups[0]->maxrunduration = 60 * SEC;
	th_register(c, j);
	th_run_ok(c, "sweep", 1);
	a = th_alloc_named(c, "sweep.web[0]");
	CHECK(a != NULL);
	a->createtime = NOW - 100 * SEC;
	a->clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__failed;
	a->modifytime = NOW - 30 * SEC;
	th_run_ok(c, "sweep", 2);
	CHECK_INT(th_running(c, "sweep"), 0);
	CHECK_INT(c->n_plans, 1);
	th_free(c);
}
