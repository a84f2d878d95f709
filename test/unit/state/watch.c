/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Blocking-query watches on a real libevent loop: a watch fires when its
 * table, or its key, moves past the index, and not for other keys; at
 * once when it is past already (a write between the caller's read and its
 * watch is not missed); on a commit from another thread; with
 * NOMAD_ETIMEDOUT and the current index when nothing comes; 5000 waiters
 * of which a commit wakes only its own; cancel; and a snapshot restore
 * waking everyone.
 *
 * Timing decides nothing here: each loop runs until the callbacks it
 * waits for have run, with a guard timer that fails the test only after
 * a generous minute.
 */
#include <pthread.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <nomad/state.h>

#include "test.h"
#include "fixtures.h"
#include "state/state_int.h"
#include "structs/pb.h"

static struct event_base *new_base(void)
{
	struct event_base *base;
	/* The application's switch, thrown before the base exists. */
	CHECK_INT(evthread_use_pthreads(), 0);
	CHECK((base = event_base_new()) != NULL);
	return base;
}

/* What one watch reported. */
struct outcome {
	int calls;
	nomad_err status;
	uint64_t index;
	int *fired;        /* a shared counter, or NULL */
};

static void watch_cb(nomad_err status, uint64_t index, void *userdata)
{
	struct outcome *o = userdata;
	o->calls++;
	o->status = status;
	o->index = index;
	if (o->fired)
		(*o->fired)++;
}

static nomad_state_watcher *watch(nomad_state *s, struct event_base *base,
				  nomad_state_table t, const char *key,
				  uint64_t min, int64_t timeout_ms,
				  struct outcome *o)
{
	nomad_state_watcher *w;
	nomad_error err;
	if (nomad_state_watch(s, base, t, key, min, timeout_ms, watch_cb, o,
			      &w, &err))
		nmd_test_fail(__FILE__, __LINE__, "watch: %s", err.message);
	CHECK(w != NULL);
	return w;
}

static void guard_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	nmd_test_fail(__FILE__, __LINE__, "the loop waited a minute for a "
					  "callback");
}

/* Run `base` until *count reaches `want`, failing after a minute. */
static void run_until(struct event_base *base, const int *count, int want)
{
	struct timeval minute = {60, 0};
	struct event *guard = evtimer_new(base, guard_cb, NULL);
	CHECK(guard != NULL);
	evtimer_add(guard, &minute);
	while (*count < want)
		CHECK(event_base_loop(base, EVLOOP_ONCE) >= 0);
	event_free(guard);
}

/* Let `base` run what is ready now, without waiting. */
static void run_ready(struct event_base *base)
{
	CHECK(event_base_loop(base, EVLOOP_NONBLOCK) >= 0);
}

NMD_TEST(test_state_watch__table_fires_past_index)
{
	nomad_state *s = sf_open(NULL);
	struct event_base *base = new_base();
	struct outcome jobs = {0}, nodes = {0};
	int fired = 0;

	sf_put_job(s, 5, "default", "a");
	jobs.fired = nodes.fired = &fired;
	watch(s, base, NOMAD_TABLE_JOBS, NULL, 5, -1, &jobs);
	watch(s, base, NOMAD_TABLE_NODES, NULL, 0, 60000, &nodes);
	run_ready(base);
	CHECK_INT(fired, 0);

	sf_put_job(s, 9, "default", "b");
	run_until(base, &fired, 1);
	CHECK_INT(jobs.calls, 1);
	CHECK_INT(jobs.status, NOMAD_OK);
	CHECK_INT(jobs.index, 9);
	CHECK_INT(nodes.calls, 0); /* still waiting */
	nomad_state_close(s); /* frees the node watch: the loop is idle */
	event_base_free(base);
}

NMD_TEST(test_state_watch__fires_at_once_when_past)
{
	nomad_state *s = sf_open(NULL);
	struct event_base *base = new_base();
	struct outcome t = {0}, k = {0}, wait = {0};
	int fired = 0;
	nomad_state_watcher *w;

	sf_put_job(s, 20, "default", "a");
	t.fired = k.fired = wait.fired = &fired;
	/* A caller that read before index 20 and saw index 15. */
	watch(s, base, NOMAD_TABLE_JOBS, NULL, 15, 60000, &t);
	watch(s, base, NOMAD_TABLE_JOBS, "default/a", 15, 60000, &k);
	/* Not from inside nomad_state_watch: from the loop. */
	CHECK_INT(fired, 0);
	run_until(base, &fired, 2);
	CHECK_INT(t.status, NOMAD_OK);
	CHECK_INT(t.index, 20);
	CHECK_INT(k.status, NOMAD_OK);
	CHECK_INT(k.index, 20);
	/* At the key's own index it waits. */
	w = watch(s, base, NOMAD_TABLE_JOBS, "default/a", 20, 60000, &wait);
	run_ready(base);
	CHECK_INT(wait.calls, 0);
	nomad_state_watch_cancel(w);
	nomad_state_close(s);
	event_base_free(base);
}

NMD_TEST(test_state_watch__key_only_its_own)
{
	nomad_state *s = sf_open(NULL);
	struct event_base *base = new_base();
	struct outcome a = {0}, b = {0}, other_ns = {0}, summary = {0};
	int fired = 0;
	nomad_state_watcher *wb, *wo;

	sf_put_job(s, 1, "default", "a");
	sf_put_job(s, 2, "default", "b");
	a.fired = b.fired = other_ns.fired = summary.fired = &fired;
	watch(s, base, NOMAD_TABLE_JOBS, "default/a", 2, 60000, &a);
	wb = watch(s, base, NOMAD_TABLE_JOBS, "default/b", 2, 60000, &b);
	wo = watch(s, base, NOMAD_TABLE_JOBS, "prod/a", 2, 60000, &other_ns);
	watch(s, base, NOMAD_TABLE_JOB_SUMMARIES, "default/a", 2, 60000,
	      &summary);
	run_ready(base);
	CHECK_INT(fired, 0);

	/* A new version of a: its job and summary keys move. */
	{
		nomad_state_txn *txn;
		nomad_job *j = sf_job("default", "a");
		Nomad__TaskGroup *tg =
			nmd_pb_new(&nomad__task_group__descriptor, NULL);
		CHECK(nmd_pb_set_string(NULL, &tg->name, "db"));
		CHECK(NMD_PB_APPEND(NULL, j->taskgroups, j->n_taskgroups, tg));
		CHECK_OK(nomad_state_txn_begin(s, 3, &txn, NULL));
		CHECK_OK(nomad_state_job_upsert(txn, j, NULL));
		CHECK_OK(nomad_state_txn_commit(txn, NULL));
		nomad_job_free(j);
	}
	run_until(base, &fired, 2);
	run_ready(base);
	CHECK_INT(a.calls, 1);
	CHECK_INT(a.index, 3);
	CHECK_INT(summary.calls, 1);
	CHECK_INT(b.calls, 0);
	CHECK_INT(other_ns.calls, 0);
	nomad_state_watch_cancel(wb);
	nomad_state_watch_cancel(wo);
	nomad_state_close(s);
	event_base_free(base);
}

NMD_TEST(test_state_watch__node_and_eval_keys)
{
	nomad_state *s = sf_open(NULL);
	struct event_base *base = new_base();
	struct outcome node = {0}, eval = {0}, eval_job = {0};
	int fired = 0;
	nomad_node *n = nomad_node_new();
	nomad_eval *e = nomad_eval_new();
	nomad_state_txn *txn;

	CHECK(nmd_pb_set_string(NULL, &n->id,
				"00000001-0000-4000-8000-000000000001"));
	CHECK(nmd_pb_set_string(NULL, &e->id,
				"e0000001-0000-4000-8000-000000000001"));
	CHECK(nmd_pb_set_string(NULL, &e->namespace_, "default"));
	CHECK(nmd_pb_set_string(NULL, &e->jobid, "web"));
	node.fired = eval.fired = eval_job.fired = &fired;
	watch(s, base, NOMAD_TABLE_NODES, n->id, 0, 60000, &node);
	watch(s, base, NOMAD_TABLE_EVALS, e->id, 0, 60000, &eval);
	watch(s, base, NOMAD_TABLE_EVALS, "default/web", 0, 60000, &eval_job);
	CHECK_OK(nomad_state_txn_begin(s, 4, &txn, NULL));
	CHECK_OK(nomad_state_node_upsert(txn, n, NULL));
	CHECK_OK(nomad_state_evals_upsert(txn, &e, 1, NULL));
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
	run_until(base, &fired, 3);
	CHECK_INT(node.index, 4);
	CHECK_INT(eval.index, 4);
	CHECK_INT(eval_job.index, 4);
	nomad_node_free(n);
	nomad_eval_free(e);
	nomad_state_close(s);
	event_base_free(base);
}

NMD_TEST(test_state_watch__timeout)
{
	nomad_state *s = sf_open(NULL);
	struct event_base *base = new_base();
	struct outcome t = {0}, k = {0};
	int fired = 0;

	sf_put_job(s, 7, "default", "a");
	t.fired = k.fired = &fired;
	watch(s, base, NOMAD_TABLE_JOBS, NULL, 7, 20, &t);
	watch(s, base, NOMAD_TABLE_JOBS, "default/a", 7, 0, &k);
	run_until(base, &fired, 2);
	CHECK_INT(t.calls, 1);
	CHECK_INT(t.status, NOMAD_ETIMEDOUT);
	CHECK_INT(t.index, 7);
	CHECK_INT(k.status, NOMAD_ETIMEDOUT);
	CHECK_INT(k.index, 7);
	/* Gone after firing: a later commit calls nothing. */
	sf_put_job(s, 8, "default", "a");
	run_ready(base);
	CHECK_INT(fired, 2);
	nomad_state_close(s);
	event_base_free(base);
}

struct committer {
	nomad_state *s;
};

static void *commit_later(void *arg)
{
	struct committer *c = arg;
	usleep(20000);
	sf_put_job(c->s, 30, "default", "x");
	return NULL;
}

NMD_TEST(test_state_watch__commit_from_another_thread)
{
	nomad_state *s = sf_open(NULL);
	struct event_base *base = new_base();
	struct committer c = {s};
	struct outcome o = {0};
	int fired = 0;
	pthread_t t;

	o.fired = &fired;
	watch(s, base, NOMAD_TABLE_JOBS, "default/x", 0, 60000, &o);
	CHECK_INT(pthread_create(&t, NULL, commit_later, &c), 0);
	/* The loop sleeps in epoll; event_active from the committing
	 * thread wakes it. */
	run_until(base, &fired, 1);
	CHECK_INT(pthread_join(t, NULL), 0);
	CHECK_INT(o.status, NOMAD_OK);
	CHECK_INT(o.index, 30);
	nomad_state_close(s);
	event_base_free(base);
}

#define MANY 5000

NMD_TEST(test_state_watch__thousands_of_waiters)
{
	nomad_state *s = sf_open(NULL);
	struct event_base *base = new_base();
	struct outcome *o = calloc(MANY + 1, sizeof(*o));
	nomad_state_watcher **w = calloc(MANY + 1, sizeof(*w));
	int fired = 0;
	char key[64];
	nomad_state_txn *txn;

	CHECK(o && w);
	sf_put_job(s, 1, "default", "seed");
	for (int i = 0; i < MANY; i++) {
		o[i].fired = &fired;
		snprintf(key, sizeof(key), "default/job-%d", i);
		w[i] = watch(s, base, NOMAD_TABLE_JOBS, key, 1, 600000, &o[i]);
	}
	o[MANY].fired = &fired;
	w[MANY] = watch(s, base, NOMAD_TABLE_NODES, NULL, 1, 600000, &o[MANY]);
	run_ready(base);
	CHECK_INT(fired, 0);

	/* One commit writes two of the jobs. */
	CHECK_OK(nomad_state_txn_begin(s, 2, &txn, NULL));
	{
		nomad_job *a = sf_job("default", "job-7");
		nomad_job *b = sf_job("default", "job-4242");
		CHECK_OK(nomad_state_job_upsert(txn, a, NULL));
		CHECK_OK(nomad_state_job_upsert(txn, b, NULL));
		nomad_job_free(a);
		nomad_job_free(b);
	}
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
	run_until(base, &fired, 2);
	run_ready(base);
	CHECK_INT(fired, 2);
	for (int i = 0; i <= MANY; i++) {
		int want = i == 7 || i == 4242;
		CHECK_INT(o[i].calls, want);
		if (want) {
			CHECK_INT(o[i].status, NOMAD_OK);
			CHECK_INT(o[i].index, 2);
		} else {
			nomad_state_watch_cancel(w[i]);
		}
	}
	free(o);
	free(w);
	nomad_state_close(s);
	event_base_free(base);
}

NMD_TEST(test_state_watch__cancel)
{
	nomad_state *s = sf_open(NULL);
	struct event_base *base = new_base();
	struct outcome a = {0}, b = {0}, c = {0};
	int fired = 0;
	nomad_state_watcher *wa, *wb;

	a.fired = b.fired = c.fired = &fired;
	wa = watch(s, base, NOMAD_TABLE_JOBS, NULL, 0, 60000, &a);
	wb = watch(s, base, NOMAD_TABLE_JOBS, "default/a", 0, 60000, &b);
	watch(s, base, NOMAD_TABLE_JOBS, "default/a", 0, 60000, &c);
	nomad_state_watch_cancel(wa);
	nomad_state_watch_cancel(wb);
	nomad_state_watch_cancel(NULL);
	sf_put_job(s, 3, "default", "a");
	run_until(base, &fired, 1);
	run_ready(base);
	CHECK_INT(a.calls, 0);
	CHECK_INT(b.calls, 0);
	CHECK_INT(c.calls, 1);

	/* Cancelled after a commit activated it, before the loop ran it. */
	wa = watch(s, base, NOMAD_TABLE_JOBS, NULL, 3, 60000, &a);
	sf_put_job(s, 4, "default", "a");
	nomad_state_watch_cancel(wa);
	run_ready(base);
	CHECK_INT(a.calls, 0);
	nomad_state_close(s);
	event_base_free(base);
}

NMD_TEST(test_state_watch__restore_wakes_all)
{
	nomad_state *s = sf_open(NULL);
	struct event_base *base = new_base();
	struct outcome t = {0}, k = {0};
	int fired = 0;

	sf_put_job(s, 5, "default", "a");
	t.fired = k.fired = &fired;
	watch(s, base, NOMAD_TABLE_NODES, NULL, 5, 60000, &t);
	watch(s, base, NOMAD_TABLE_JOBS, "default/a", 5, 60000, &k);
	pthread_mutex_lock(&s->write_lock);
	nmd_changes_restored(s);
	pthread_mutex_unlock(&s->write_lock);
	run_until(base, &fired, 2);
	CHECK_INT(t.status, NOMAD_OK);
	CHECK_INT(t.index, 0);  /* the nodes table was never written */
	CHECK_INT(k.status, NOMAD_OK);
	CHECK_INT(k.index, 5);
	nomad_state_close(s);
	event_base_free(base);
}

NMD_TEST(test_state_watch__bad_arguments)
{
	nomad_state *s = sf_open(NULL);
	struct event_base *base = new_base();
	nomad_state_watcher *w = (nomad_state_watcher *)base;
	struct outcome o = {0};

	CHECK_INT(nomad_state_watch(s, NULL, NOMAD_TABLE_JOBS, NULL, 0, 10,
				    watch_cb, &o, &w, NULL),
		  NOMAD_EINVAL);
	CHECK(w == NULL);
	CHECK_INT(nomad_state_watch(s, base, NOMAD_TABLE_COUNT_, NULL, 0, 10,
				    watch_cb, &o, &w, NULL),
		  NOMAD_EINVAL);
	CHECK_INT(nomad_state_watch(s, base, NOMAD_TABLE_JOBS, NULL, 0, 10,
				    NULL, &o, &w, NULL),
		  NOMAD_EINVAL);
	nomad_state_close(s);
	event_base_free(base);
}
