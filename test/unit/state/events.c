/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The state store's event stream: events published on commit with
 * Nomad's topic, type, key, namespace, filter keys, index and payload,
 * none on abort; filtering by topic, key, filter key and namespace;
 * resuming from a buffered index, and NOMAD_ERANGE for an index that left
 * the buffer or a subscriber that fell behind; waiting for an event from
 * another thread, the ready callback, and the end of subscriptions on a
 * snapshot restore.
 */
#include <pthread.h>
#include <unistd.h>

#include <nomad/state.h>

#include "test.h"
#include "fixtures.h"
#include "state/state_int.h"
#include "structs/pb.h"

static nomad_state *open_store(unsigned buffer)
{
	nomad_state_config cfg = NOMAD_STATE_CONFIG_INIT;
	cfg.event_buffer = buffer;
	return sf_open(&cfg);
}

static nomad_node *new_node(unsigned n)
{
	nomad_node *node = nomad_node_new();
	CHECK(node != NULL);
	CHECK(nmd_pb_set_string(NULL, &node->id, sf_uuid('0', n)));
	CHECK(nmd_pb_set_string(NULL, &node->name, "client"));
	CHECK(nmd_pb_set_string(NULL, &node->datacenter, "dc1"));
	return node;
}

static nomad_eval *new_eval(unsigned n, const char *ns, const char *job_id)
{
	nomad_eval *e = nomad_eval_new();
	CHECK(e != NULL);
	CHECK(nmd_pb_set_string(NULL, &e->id, sf_uuid('e', n)));
	CHECK(nmd_pb_set_string(NULL, &e->namespace_, ns));
	CHECK(nmd_pb_set_string(NULL, &e->jobid, job_id));
	e->has_status = 1;
	e->status = NOMAD__EVALUATION__STATUS_KIND__pending;
	return e;
}

static nomad_state_sub *subscribe(nomad_state *s, uint64_t index,
				  const nomad_state_topic_filter *topics,
				  size_t n, const char *ns)
{
	nomad_state_subscribe_options o = NOMAD_STATE_SUBSCRIBE_OPTIONS_INIT;
	nomad_state_sub *sub;
	nomad_error err;
	o.index = index;
	o.topics = topics;
	o.n_topics = n;
	o.ns = ns;
	if (nomad_state_subscribe(s, &o, NULL, NULL, &sub, &err))
		nmd_test_fail(__FILE__, __LINE__, "subscribe: %s", err.message);
	return sub;
}

/* The next event, which must be there. */
static const nomad_state_event *next(nomad_state_sub *sub)
{
	const nomad_state_event *ev;
	nomad_error err;
	if (nomad_state_sub_next(sub, 0, &ev, &err))
		nmd_test_fail(__FILE__, __LINE__, "sub_next: %s", err.message);
	return ev;
}

static void check_event(const nomad_state_event *ev, const char *topic,
			const char *type, const char *key, const char *ns,
			uint64_t index)
{
	CHECK_STR(ev->topic, topic);
	CHECK_STR(ev->type, type);
	CHECK_STR(ev->key, key);
	CHECK_STR(ev->ns, ns);
	CHECK_INT(ev->index, index);
}

static void check_none(nomad_state_sub *sub)
{
	const nomad_state_event *ev = NULL;
	CHECK_INT(nomad_state_sub_next(sub, 0, &ev, NULL), NOMAD_ETIMEDOUT);
	CHECK(ev == NULL);
}

NMD_TEST(test_state_events__published_on_commit)
{
	nomad_state *s = open_store(0);
	nomad_state_sub *sub = subscribe(s, 0, NULL, 0, "*");
	const nomad_state_event *ev;
	const nomad_job *j;

	check_none(sub);
	sf_put_job(s, 10, "default", "example");
	ev = next(sub);
	check_event(ev, "Job", "JobRegistered", "example", "default", 10);
	CHECK_INT(ev->n_filter_keys, 0);
	CHECK(ev->payload != NULL);
	CHECK(ev->payload->descriptor == &nomad__job__descriptor);
	j = (const nomad_job *)ev->payload;
	CHECK_STR(j->id, "example");
	CHECK_INT(j->modifyindex, 10);
	CHECK_INT(j->createindex, 10);
	CHECK_INT(j->version, 0);
	check_none(sub);

	/* The update's payload is the stored job after the write. */
	sf_put_job(s, 11, "default", "example");
	ev = next(sub);
	check_event(ev, "Job", "JobRegistered", "example", "default", 11);
	j = (const nomad_job *)ev->payload;
	CHECK_INT(j->modifyindex, 11);
	CHECK_INT(j->createindex, 10);
	check_none(sub);
	nomad_state_sub_close(sub);
	nomad_state_close(s);
}

NMD_TEST(test_state_events__none_on_abort)
{
	nomad_state *s = open_store(0);
	nomad_state_sub *sub = subscribe(s, 0, NULL, 0, "*");
	nomad_state_txn *txn = sf_begin(s, 5);
	nomad_job *j = sf_job("default", "gone");
	nomad_node *n = new_node(1);

	CHECK_OK(nomad_state_job_upsert(txn, j, NULL));
	CHECK_OK(nomad_state_node_upsert(txn, n, NULL));
	nomad_state_txn_abort(txn);
	check_none(sub);

	/* The same index, committed this time: only its own events. */
	txn = sf_begin(s, 5);
	CHECK_OK(nomad_state_node_upsert(txn, n, NULL));
	sf_commit(txn);
	check_event(next(sub), "Node", "NodeRegistration", n->id, "", 5);
	check_none(sub);
	nomad_job_free(j);
	nomad_node_free(n);
	nomad_state_sub_close(sub);
	nomad_state_close(s);
}

NMD_TEST(test_state_events__node_types)
{
	nomad_state *s = open_store(0);
	nomad_state_sub *sub = subscribe(s, 0, NULL, 0, NULL);
	nomad_node *n = new_node(1);
	const char *ids[1] = {n->id};
	Nomad__DrainStrategy ds = NOMAD__DRAIN_STRATEGY__INIT;
	nomad_state_txn *txn;
	const nomad_state_event *ev;

	txn = sf_begin(s, 1);
	CHECK_OK(nomad_state_node_upsert(txn, n, NULL));
	sf_commit(txn);
	txn = sf_begin(s, 2);
	CHECK_OK(nomad_state_node_status(txn, n->id,
					 NOMAD__NODE__STATUS_KIND__ready,
					 1700000000, NULL, NULL));
	sf_commit(txn);
	txn = sf_begin(s, 3);
	CHECK_OK(nomad_state_node_eligibility(txn, n->id, false, NULL));
	sf_commit(txn);
	txn = sf_begin(s, 4);
	CHECK_OK(nomad_state_node_drain(txn, n->id, &ds, false, NULL));
	sf_commit(txn);
	txn = sf_begin(s, 5);
	CHECK_OK(nomad_state_nodes_delete(txn, ids, 1, NULL));
	sf_commit(txn);

	/* Node events have no namespace, so a "default" subscriber sees
	 * them. Eligibility is typed NodeDrain, as Nomad's MsgTypeEvents. */
	check_event(next(sub), "Node", "NodeRegistration", n->id, "", 1);
	ev = next(sub);
	check_event(ev, "Node", "NodeStreamEvent", n->id, "", 2);
	CHECK_INT(((const nomad_node *)ev->payload)->status,
		  NOMAD__NODE__STATUS_KIND__ready);
	check_event(next(sub), "Node", "NodeDrain", n->id, "", 3);
	ev = next(sub);
	check_event(ev, "Node", "NodeDrain", n->id, "", 4);
	CHECK(((const nomad_node *)ev->payload)->drainstrategy != NULL);
	/* A deregistration carries the node as it was. */
	ev = next(sub);
	check_event(ev, "Node", "NodeDeregistration", n->id, "", 5);
	CHECK(ev->payload && ev->payload->descriptor == &nomad__node__descriptor);
	CHECK_INT(((const nomad_node *)ev->payload)->modifyindex, 4);
	check_none(sub);
	nomad_node_free(n);
	nomad_state_sub_close(sub);
	nomad_state_close(s);
}

NMD_TEST(test_state_events__job_eval_deployment_types)
{
	nomad_state *s = open_store(0);
	nomad_state_sub *sub = subscribe(s, 0, NULL, 0, "*");
	nomad_eval *e = new_eval(1, "prod", "api");
	nomad_deployment *d = nomad_deployment_new();
	Nomad__DeploymentStatusUpdate u = NOMAD__DEPLOYMENT_STATUS_UPDATE__INIT;
	nomad_job *j = sf_job("prod", "api");
	nomad_state_txn *txn;
	const nomad_state_event *ev;

	CHECK(nmd_pb_set_string(NULL, &d->id, sf_uuid('d', 1)));
	CHECK(nmd_pb_set_string(NULL, &d->namespace_, "prod"));
	CHECK(nmd_pb_set_string(NULL, &d->jobid, "api"));
	d->has_status = 1;
	d->status = NOMAD__DEPLOYMENT__STATUS_KIND__running;

	txn = sf_begin(s, 7);
	CHECK_OK(nomad_state_evals_upsert(txn, &e, 1, NULL));
	CHECK_OK(nomad_state_deployment_upsert(txn, d, NULL));
	sf_commit(txn);
	ev = next(sub);
	check_event(ev, "Evaluation", "EvaluationUpdated", e->id, "prod", 7);
	CHECK_INT(ev->n_filter_keys, 1); /* the job; no deployment ID */
	CHECK_STR(ev->filter_keys[0], "api");
	CHECK_STR(((const nomad_eval *)ev->payload)->id, e->id);
	ev = next(sub);
	check_event(ev, "Deployment", "DeploymentStatusUpdate", d->id, "prod", 7);
	CHECK_INT(ev->n_filter_keys, 1);
	CHECK_STR(ev->filter_keys[0], "api");

	/* A status update with its job and evaluation: all three carry the
	 * update's type, as Nomad types a log entry's events by message. */
	u.deploymentid = d->id;
	u.has_status = 1;
	u.status = NOMAD__DEPLOYMENT__STATUS_KIND__failed;
	u.statusdescription = (char *)"Failed due to unhealthy allocations";
	e->status = NOMAD__EVALUATION__STATUS_KIND__complete;
	txn = sf_begin(s, 8);
	CHECK_OK(nomad_state_deployment_status(txn, &u, j, e, NULL));
	sf_commit(txn);
	ev = next(sub);
	check_event(ev, "Deployment", "DeploymentStatusUpdate", d->id, "prod", 8);
	CHECK_INT(((const nomad_deployment *)ev->payload)->status,
		  NOMAD__DEPLOYMENT__STATUS_KIND__failed);
	/* At commit the job's status is worked out again (its evaluation
	 * completed and it has no allocation: dead). As in Nomad, that is
	 * no event of its own: the job's one event carries its final state. */
	ev = next(sub);
	check_event(ev, "Job", "DeploymentStatusUpdate", "api", "prod", 8);
	CHECK_INT(((const nomad_job *)ev->payload)->status,
		  NOMAD__JOB__STATUS_KIND__dead);
	check_event(next(sub), "Evaluation", "DeploymentStatusUpdate", e->id,
		    "prod", 8);
	check_none(sub);

	/* The override ended with the operation. */
	txn = sf_begin(s, 9);
	CHECK_OK(nomad_state_job_delete(txn, "prod", "api", NULL));
	sf_commit(txn);
	ev = next(sub);
	check_event(ev, "Job", "JobDeregistered", "api", "prod", 9);
	CHECK_INT(((const nomad_job *)ev->payload)->modifyindex, 8);
	check_none(sub);

	nomad_eval_free(e);
	nomad_deployment_free(d);
	nomad_job_free(j);
	nomad_state_sub_close(sub);
	nomad_state_close(s);
}

static nomad_alloc *new_alloc(unsigned n, const char *ns, const char *job_id)
{
	nomad_alloc *a = nomad_alloc_new();
	CHECK(a != NULL);
	CHECK(nmd_pb_set_string(NULL, &a->id, sf_uuid('a', n)));
	CHECK(nmd_pb_set_string(NULL, &a->nodeid, sf_uuid('0', 1)));
	CHECK(nmd_pb_set_string(NULL, &a->namespace_, ns));
	CHECK(nmd_pb_set_string(NULL, &a->jobid, job_id));
	CHECK(nmd_pb_set_string(NULL, &a->taskgroup, "web"));
	a->has_clientstatus = 1;
	a->clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__running;
	return a;
}

/* A job whose status moves at commit has one Job event per transaction,
 * with its final state: the event of the write when the job was written
 * in it (type and place kept), else one event of its own. Other jobs'
 * events are not touched. */
NMD_TEST(test_state_events__job_status_change_is_one_event)
{
	nomad_state *s = open_store(0);
	nomad_state_topic_filter f = {NOMAD_TOPIC_JOB, "*"};
	nomad_state_sub *sub = subscribe(s, 0, &f, 1, "*");
	nomad_job *web = sf_job("default", "web"), *api = sf_job("prod", "web");
	nomad_alloc *a = new_alloc(1, "default", "web");
	nomad_state_txn *txn;
	const nomad_state_event *ev;

	/* Registered with a running allocation: pending, then running at
	 * commit. The job of the same ID in another namespace keeps its
	 * own event and status. */
	txn = sf_begin(s, 5);
	CHECK_OK(nomad_state_job_upsert(txn, web, NULL));
	CHECK_OK(nomad_state_job_upsert(txn, api, NULL));
	CHECK_OK(nomad_state_allocs_upsert(txn, &a, 1, NULL));
	sf_commit(txn);
	ev = next(sub);
	check_event(ev, "Job", "JobRegistered", "web", "default", 5);
	CHECK_INT(((const nomad_job *)ev->payload)->status,
		  NOMAD__JOB__STATUS_KIND__running);
	CHECK_INT(((const nomad_job *)ev->payload)->modifyindex, 5);
	ev = next(sub);
	check_event(ev, "Job", "JobRegistered", "web", "prod", 5);
	CHECK_INT(((const nomad_job *)ev->payload)->status,
		  NOMAD__JOB__STATUS_KIND__pending);
	check_none(sub);

	/* Written twice and moved at commit: still one event. */
	web->priority = 70;
	web->has_priority = 1;
	a->clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__complete;
	txn = sf_begin(s, 6);
	CHECK_OK(nomad_state_job_upsert(txn, web, NULL));
	CHECK_OK(nomad_state_allocs_client_update(txn, &a, 1, NULL));
	sf_commit(txn);
	ev = next(sub);
	check_event(ev, "Job", "JobRegistered", "web", "default", 6);
	CHECK_INT(((const nomad_job *)ev->payload)->status,
		  NOMAD__JOB__STATUS_KIND__dead);
	CHECK_INT(((const nomad_job *)ev->payload)->priority, 70);
	check_none(sub);

	/* The status moves without the job being written: the change is
	 * the job's one event. */
	a->clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__running;
	txn = sf_begin(s, 7);
	CHECK_OK(nomad_state_allocs_upsert(txn, &a, 1, NULL));
	CHECK_OK(nomad_state_allocs_client_update(txn, &a, 1, NULL));
	sf_commit(txn);
	ev = next(sub);
	check_event(ev, "Job", "JobRegistered", "web", "default", 7);
	CHECK_INT(((const nomad_job *)ev->payload)->status,
		  NOMAD__JOB__STATUS_KIND__running);
	check_none(sub);

	nomad_job_free(web);
	nomad_job_free(api);
	nomad_alloc_free(a);
	nomad_state_sub_close(sub);
	nomad_state_close(s);
}

NMD_TEST(test_state_events__filter_topic_and_key)
{
	nomad_state *s = open_store(0);
	const nomad_state_topic_filter job_a[] = {{"Job", "a"}};
	const nomad_state_topic_filter by_job[] = {{"Evaluation", "b"},
						   {"Node", "*"}};
	const nomad_state_topic_filter any_b[] = {{"*", "b"}};
	const nomad_state_topic_filter all[] = {{"*", "*"}};
	nomad_state_sub *s1 = subscribe(s, 0, job_a, 1, NULL);
	nomad_state_sub *s2 = subscribe(s, 0, by_job, 2, NULL);
	nomad_state_sub *s3 = subscribe(s, 0, any_b, 1, NULL);
	nomad_state_sub *s4 = subscribe(s, 0, all, 1, NULL);
	nomad_state_txn *txn;
	nomad_eval *e = new_eval(1, "default", "b");
	nomad_node *n = new_node(3);

	sf_put_job(s, 1, "default", "a");
	sf_put_job(s, 2, "default", "b");
	txn = sf_begin(s, 3);
	CHECK_OK(nomad_state_evals_upsert(txn, &e, 1, NULL));
	CHECK_OK(nomad_state_node_upsert(txn, n, NULL));
	sf_commit(txn);

	check_event(next(s1), "Job", "JobRegistered", "a", "default", 1);
	check_none(s1);
	/* "b" matches the evaluation by its filter key (its job). */
	check_event(next(s2), "Evaluation", "EvaluationUpdated", e->id,
		    "default", 3);
	check_event(next(s2), "Node", "NodeRegistration", n->id, "", 3);
	check_none(s2);
	check_event(next(s3), "Job", "JobRegistered", "b", "default", 2);
	check_event(next(s3), "Evaluation", "EvaluationUpdated", e->id,
		    "default", 3);
	check_none(s3);
	for (int i = 0; i < 4; i++)
		CHECK(next(s4) != NULL);
	check_none(s4);

	nomad_eval_free(e);
	nomad_node_free(n);
	nomad_state_sub_close(s1);
	nomad_state_sub_close(s2);
	nomad_state_sub_close(s3);
	nomad_state_sub_close(s4);
	nomad_state_close(s);
}

NMD_TEST(test_state_events__filter_namespace)
{
	nomad_state *s = open_store(0);
	nomad_state_sub *def = subscribe(s, 0, NULL, 0, NULL);
	nomad_state_sub *prod = subscribe(s, 0, NULL, 0, "prod");
	nomad_state_sub *all = subscribe(s, 0, NULL, 0, "*");
	nomad_node *n = new_node(1);
	nomad_state_txn *txn;

	sf_put_job(s, 1, "default", "a");
	sf_put_job(s, 2, "prod", "a");
	txn = sf_begin(s, 3);
	CHECK_OK(nomad_state_node_upsert(txn, n, NULL));
	sf_commit(txn);

	check_event(next(def), "Job", "JobRegistered", "a", "default", 1);
	check_event(next(def), "Node", "NodeRegistration", n->id, "", 3);
	check_none(def);
	check_event(next(prod), "Job", "JobRegistered", "a", "prod", 2);
	check_event(next(prod), "Node", "NodeRegistration", n->id, "", 3);
	check_none(prod);
	CHECK_INT(next(all)->index, 1);
	CHECK_INT(next(all)->index, 2);
	CHECK_INT(next(all)->index, 3);
	check_none(all);

	nomad_node_free(n);
	nomad_state_sub_close(def);
	nomad_state_sub_close(prod);
	nomad_state_sub_close(all);
	nomad_state_close(s);
}

NMD_TEST(test_state_events__resume_from_index)
{
	nomad_state *s = open_store(0);
	nomad_state_sub *sub;

	sf_put_job(s, 10, "default", "a");
	sf_put_job(s, 11, "default", "b");
	sf_put_job(s, 13, "default", "c");

	sub = subscribe(s, 11, NULL, 0, NULL);
	check_event(next(sub), "Job", "JobRegistered", "b", "default", 11);
	check_event(next(sub), "Job", "JobRegistered", "c", "default", 13);
	check_none(sub);
	nomad_state_sub_close(sub);

	/* An index between two commits starts at the next one; 0 at the
	 * oldest buffered; one in the future waits for it. */
	sub = subscribe(s, 12, NULL, 0, NULL);
	CHECK_INT(next(sub)->index, 13);
	check_none(sub);
	nomad_state_sub_close(sub);
	sub = subscribe(s, 0, NULL, 0, NULL);
	CHECK_INT(next(sub)->index, 10);
	nomad_state_sub_close(sub);
	sub = subscribe(s, 20, NULL, 0, NULL);
	check_none(sub);
	sf_put_job(s, 15, "default", "d");
	check_none(sub);
	sf_put_job(s, 20, "default", "e");
	CHECK_INT(next(sub)->index, 20);
	nomad_state_sub_close(sub);
	nomad_state_close(s);
}

NMD_TEST(test_state_events__too_far_behind)
{
	nomad_state *s = open_store(3);
	nomad_state_sub *sub, *slow;
	const nomad_state_event *held;
	nomad_error err;
	char id[16];

	slow = subscribe(s, 0, NULL, 0, NULL);
	for (unsigned i = 1; i <= 10; i++) {
		snprintf(id, sizeof(id), "job-%u", i);
		sf_put_job(s, i, "default", id);
		if (i == 1)
			held = next(slow); /* then reads no more for a while */
	}
	/* Only the last three commits are buffered. */
	CHECK_INT(nomad_state_subscribe(s, NULL, NULL, NULL, &sub, NULL),
		  NOMAD_OK);
	CHECK_INT(next(sub)->index, 8);
	nomad_state_sub_close(sub);
	{
		nomad_state_subscribe_options o =
			NOMAD_STATE_SUBSCRIBE_OPTIONS_INIT;
		o.index = 2;
		CHECK_INT(nomad_state_subscribe(s, &o, NULL, NULL, &sub, &err),
			  NOMAD_ERANGE);
		CHECK(sub == NULL);
		CHECK_STR(err.message, "state: index 2 is older than the "
				       "oldest buffered event 8");
		o.index = 7;
		CHECK_INT(nomad_state_subscribe(s, &o, NULL, NULL, &sub, &err),
			  NOMAD_ERANGE);
		o.index = 8;
		CHECK_OK(nomad_state_subscribe(s, &o, NULL, NULL, &sub, &err));
		CHECK_INT(next(sub)->index, 8);
		CHECK_INT(next(sub)->index, 9);
		CHECK_INT(next(sub)->index, 10);
		check_none(sub);
		nomad_state_sub_close(sub);
	}
	/* The event it holds stays valid after its batch left the buffer. */
	CHECK_STR(held->key, "job-1");
	CHECK_STR(((const nomad_job *)held->payload)->id, "job-1");
	/* Then it has lost its place, for good. */
	CHECK_INT(nomad_state_sub_next(slow, 0, &held, &err), NOMAD_ERANGE);
	CHECK(strstr(err.message, "fell behind: index 2 is older than the "
				  "oldest buffered event 8") != NULL);
	CHECK_INT(nomad_state_sub_next(slow, 0, &held, NULL), NOMAD_ERANGE);
	nomad_state_sub_close(slow);
	nomad_state_close(s);
}

struct writer {
	nomad_state *s;
	uint64_t index;
};

static void *write_later(void *arg)
{
	struct writer *w = arg;
	usleep(20000);
	sf_put_job(w->s, w->index, "default", "late");
	return NULL;
}

static void ready_cb(nomad_state_sub *sub, uint64_t index, void *userdata)
{
	uint64_t *seen = userdata;
	(void)sub;
	__atomic_store_n(seen, index, __ATOMIC_SEQ_CST);
}

NMD_TEST(test_state_events__wait_and_ready_callback)
{
	nomad_state *s = open_store(0);
	nomad_state_sub *sub;
	const nomad_state_event *ev;
	struct writer w = {s, 42};
	uint64_t seen = 0;
	pthread_t t;

	CHECK_OK(nomad_state_subscribe(s, NULL, ready_cb, &seen, &sub, NULL));
	CHECK_INT(pthread_create(&t, NULL, write_later, &w), 0);
	/* Generous: the wait ends as soon as the event is there. */
	CHECK_OK(nomad_state_sub_next(sub, 60000, &ev, NULL));
	check_event(ev, "Job", "JobRegistered", "late", "default", 42);
	CHECK_INT(pthread_join(t, NULL), 0);
	CHECK_INT(__atomic_load_n(&seen, __ATOMIC_SEQ_CST), 42);
	/* A short wait that ends empty. */
	CHECK_INT(nomad_state_sub_next(sub, 10, &ev, NULL), NOMAD_ETIMEDOUT);
	nomad_state_sub_close(sub);
	nomad_state_close(s);
}

NMD_TEST(test_state_events__restore_ends_subscriptions)
{
	nomad_state *s = open_store(0);
	nomad_state_sub *sub = subscribe(s, 0, NULL, 0, NULL);
	const nomad_state_event *ev;
	nomad_error err;

	sf_put_job(s, 5, "default", "a");
	/* What snapshot_restore does once the content is replaced. */
	pthread_mutex_lock(&s->write_lock);
	nmd_changes_restored(s);
	pthread_mutex_unlock(&s->write_lock);
	CHECK_INT(nomad_state_sub_next(sub, 0, &ev, &err), NOMAD_ERANGE);
	CHECK(strstr(err.message, "restored") != NULL);
	nomad_state_sub_close(sub);
	/* Events at or below the restored index are gone for good. */
	{
		nomad_state_subscribe_options o =
			NOMAD_STATE_SUBSCRIBE_OPTIONS_INIT;
		o.index = 5;
		CHECK_INT(nomad_state_subscribe(s, &o, NULL, NULL, &sub, NULL),
			  NOMAD_ERANGE);
		o.index = 6;
		CHECK_OK(nomad_state_subscribe(s, &o, NULL, NULL, &sub, NULL));
	}
	sf_put_job(s, 6, "default", "b");
	check_event(next(sub), "Job", "JobRegistered", "b", "default", 6);
	nomad_state_sub_close(sub);
	nomad_state_close(s);
}

NMD_TEST(test_state_events__bad_arguments)
{
	nomad_state *s = open_store(0);
	nomad_state_subscribe_options o = NOMAD_STATE_SUBSCRIBE_OPTIONS_INIT;
	nomad_state_sub *sub = (nomad_state_sub *)&o;
	const nomad_state_event *ev;

	o.version = 99;
	CHECK_INT(nomad_state_subscribe(s, &o, NULL, NULL, &sub, NULL),
		  NOMAD_EINVAL);
	CHECK(sub == NULL);
	o.version = NOMAD_STATE_SUBSCRIBE_OPTIONS_VERSION;
	o.n_topics = 1;
	CHECK_INT(nomad_state_subscribe(s, &o, NULL, NULL, &sub, NULL),
		  NOMAD_EINVAL);
	CHECK_INT(nomad_state_subscribe(s, NULL, NULL, NULL, NULL, NULL),
		  NOMAD_EINVAL);
	CHECK_INT(nomad_state_sub_next(NULL, 0, &ev, NULL), NOMAD_EINVAL);
	nomad_state_sub_close(NULL);
	nomad_state_close(s);
}
