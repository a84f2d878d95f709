/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Evaluations in the state store: upsert with its indexes, UUID checks,
 * lookups, the listing (ID order, namespaces, prefixes, pages, reverse),
 * the evaluations of a job, deletes, the queued counts they put in job
 * summaries, and the cancelling of blocked evaluations by a complete one.
 */
#include <nomad/state.h>

#include "test.h"
#include "fixtures.h"
#include "state/state_int.h"
#include "structs/pb.h"

/* A UUID whose first byte is `first` and last digits `n`. */
static const char *uuid(unsigned first, unsigned n)
{
	static char buf[8][NOMAD_UUID_LEN + 1];
	static unsigned next;
	char *b = buf[next++ % 8];
	snprintf(b, NOMAD_UUID_LEN + 1, "%02x000000-0000-4000-8000-%012x",
		 first, n);
	return b;
}

static nomad_eval *make_eval(const char *id, const char *ns,
			     const char *job_id,
			     Nomad__Evaluation__StatusKind status)
{
	nomad_eval *e = nomad_eval_new();
	CHECK(e != NULL);
	CHECK(nmd_pb_set_string(NULL, &e->id, id));
	CHECK(nmd_pb_set_string(NULL, &e->namespace_, ns));
	CHECK(nmd_pb_set_string(NULL, &e->jobid, job_id));
	CHECK(nmd_pb_set_string(NULL, &e->triggeredby, "job-register"));
	e->has_status = 1;
	e->status = status;
	return e;
}

static void put(nomad_state *s, uint64_t index, nomad_eval **es, size_t n)
{
	nomad_state_txn *txn;
	nomad_error err;
	CHECK_OK(nomad_state_txn_begin(s, index, &txn, NULL));
	if (nomad_state_evals_upsert(txn, es, n, &err))
		nmd_test_fail(__FILE__, __LINE__, "upsert: %s", err.message);
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
}

static void free_evals(nomad_eval **es, size_t n)
{
	for (size_t i = 0; i < n; i++)
		nomad_eval_free(es[i]);
}

static nomad_eval *get(nomad_state *s, const char *id)
{
	nomad_state_snap *snap;
	nomad_eval *e = NULL;
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_OK(nomad_state_eval_get(snap, id, &e));
	nomad_state_snap_close(snap);
	return e;
}

struct seen {
	unsigned n;
	char ids[32][NOMAD_UUID_LEN + 1];
};

static int collect(const ProtobufCMessage *m, void *ud)
{
	struct seen *c = ud;
	const nomad_eval *e = (const nomad_eval *)m;
	if (c->n < 32)
		snprintf(c->ids[c->n], sizeof(c->ids[0]), "%s", e->id);
	c->n++;
	return 0;
}

static const char *list(nomad_state *s, const nomad_state_list_options *o,
			struct seen *c)
{
	static char tok[NOMAD_STATE_TOKEN_MAX];
	nomad_state_snap *snap;
	nomad_error err;
	memset(c, 0, sizeof(*c));
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	if (nomad_state_evals_list(snap, o, collect, c, tok, &err))
		nmd_test_fail(__FILE__, __LINE__, "list: %s", err.message);
	nomad_state_snap_close(snap);
	return tok;
}

NMD_TEST(test_state_evals__upsert_and_get)
{
	nomad_state *s = sf_open(NULL);
	nomad_eval *e = make_eval(uuid(0xab, 0xc), "default", "web",
				  NOMAD__EVALUATION__STATUS_KIND__pending);
	nomad_eval *got;
	nomad_state_snap *snap;
	put(s, 10, &e, 1);
	/* As in Nomad, the caller's evaluation gets its indexes. */
	CHECK_INT(e->createindex, 10);
	CHECK_INT(e->modifyindex, 10);
	got = get(s, uuid(0xab, 0xc));
	CHECK_STR(got->id, uuid(0xab, 0xc));
	CHECK_STR(got->jobid, "web");
	CHECK_INT(got->status, NOMAD__EVALUATION__STATUS_KIND__pending);
	CHECK_INT(got->createindex, 10);
	CHECK_INT(got->modifyindex, 10);
	nomad_eval_free(got);

	/* Updated later: CreateIndex stays, even when the caller sends
	 * another one. */
	e->status = NOMAD__EVALUATION__STATUS_KIND__complete;
	e->createindex = 3;
	put(s, 20, &e, 1);
	got = get(s, uuid(0xab, 0xc));
	CHECK_INT(got->status, NOMAD__EVALUATION__STATUS_KIND__complete);
	CHECK_INT(got->createindex, 10);
	CHECK_INT(got->modifyindex, 20);
	nomad_eval_free(got);

	/* Upper-case IDs name the same row. */
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_OK(nomad_state_eval_get(snap,
				      "AB000000-0000-4000-8000-00000000000C",
				      &got));
	nomad_eval_free(got);
	CHECK_INT(nomad_state_eval_get(snap, uuid(0xab, 0xd), &got),
		  NOMAD_ENOTFOUND);
	CHECK(got == NULL);
	CHECK_INT(nomad_state_eval_get(snap, "not-a-uuid", &got),
		  NOMAD_ENOTFOUND);
	CHECK_INT(nomad_state_snap_table_index(snap, NOMAD_TABLE_EVALS), 20);
	CHECK_INT(nomad_state_snap_table_index(snap, NOMAD_TABLE_JOBS), 0);
	nomad_state_snap_close(snap);
	nomad_eval_free(e);
	nomad_state_close(s);
}

NMD_TEST(test_state_evals__bad_id_writes_nothing)
{
	nomad_state *s = sf_open(NULL);
	nomad_eval *es[2] = {
		make_eval(uuid(0x10, 1), "default", "web",
			  NOMAD__EVALUATION__STATUS_KIND__pending),
		make_eval("eval-1", "default", "web",
			  NOMAD__EVALUATION__STATUS_KIND__pending)};
	nomad_state_txn *txn;
	nomad_state_snap *snap;
	nomad_eval *got;
	nomad_error err;
	CHECK_OK(nomad_state_txn_begin(s, 10, &txn, NULL));
	CHECK_INT(nomad_state_evals_upsert(txn, es, 2, &err), NOMAD_EINVAL);
	CHECK_CONTAINS(err.message, "eval-1");
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_INT(nomad_state_eval_get(snap, uuid(0x10, 1), &got),
		  NOMAD_ENOTFOUND);
	CHECK_INT(nomad_state_snap_table_index(snap, NOMAD_TABLE_EVALS), 0);
	nomad_state_snap_close(snap);
	free_evals(es, 2);
	nomad_state_close(s);
}

/* Nine evaluations: six in "default" for two jobs, two in "prod", one in
 * "dev", with IDs that sort in the order given by their first byte. */
static void put_evals(nomad_state *s)
{
	static const struct {
		unsigned first;
		const char *ns, *job;
	} defs[] = {
		{0x50, "default", "web"}, {0x10, "default", "web"},
		{0x3a, "default", "api"}, {0x3b, "default", "web"},
		{0xff, "default", "api"}, {0x00, "default", "web"},
		{0x20, "prod", "web"},    {0x60, "prod", "web"},
		{0x40, "dev", "web"},
	};
	nomad_eval *es[9];
	for (size_t i = 0; i < 9; i++)
		es[i] = make_eval(uuid(defs[i].first, (unsigned)i), defs[i].ns,
				  defs[i].job,
				  NOMAD__EVALUATION__STATUS_KIND__pending);
	put(s, 10, es, 9);
	free_evals(es, 9);
}

NMD_TEST(test_state_evals__list)
{
	nomad_state *s = sf_open(NULL);
	nomad_state_list_options o = NOMAD_STATE_LIST_OPTIONS_INIT;
	struct seen c;
	put_evals(s);
	CHECK_STR(list(s, NULL, &c), "");
	CHECK_INT(c.n, 6);
	CHECK_STR(c.ids[0], uuid(0x00, 5));
	CHECK_STR(c.ids[1], uuid(0x10, 1));
	CHECK_STR(c.ids[2], uuid(0x3a, 2));
	CHECK_STR(c.ids[3], uuid(0x3b, 3));
	CHECK_STR(c.ids[4], uuid(0x50, 0));
	CHECK_STR(c.ids[5], uuid(0xff, 4));

	o.ns = "*";
	list(s, &o, &c);
	CHECK_INT(c.n, 9);
	CHECK_STR(c.ids[2], uuid(0x20, 6));
	CHECK_STR(c.ids[5], uuid(0x40, 8));
	CHECK_STR(c.ids[8], uuid(0xff, 4));
	o.ns = "prod";
	list(s, &o, &c);
	CHECK_INT(c.n, 2);
	CHECK_STR(c.ids[0], uuid(0x20, 6));

	/* Prefixes: a nibble, a byte, an ID up to its dash, the last
	 * possible byte, and one that is not hexadecimal. */
	o.ns = "*";
	o.prefix = "3";
	list(s, &o, &c);
	CHECK_INT(c.n, 2);
	o.prefix = "3b";
	list(s, &o, &c);
	CHECK_INT(c.n, 1);
	CHECK_STR(c.ids[0], uuid(0x3b, 3));
	o.prefix = "10000000-";
	list(s, &o, &c);
	CHECK_INT(c.n, 1);
	o.prefix = "ff";
	list(s, &o, &c);
	CHECK_INT(c.n, 1);
	CHECK_STR(c.ids[0], uuid(0xff, 4));
	o.prefix = "xyz";
	CHECK_STR(list(s, &o, &c), "");
	CHECK_INT(c.n, 0);
	o.prefix = uuid(0x60, 7);
	list(s, &o, &c);
	CHECK_INT(c.n, 1);

	o.prefix = NULL;
	o.ns = NULL;
	o.reverse = true;
	list(s, &o, &c);
	CHECK_INT(c.n, 6);
	CHECK_STR(c.ids[0], uuid(0xff, 4));
	CHECK_STR(c.ids[5], uuid(0x00, 5));
	o.prefix = "3";
	list(s, &o, &c);
	CHECK_INT(c.n, 2);
	CHECK_STR(c.ids[0], uuid(0x3b, 3));
	nomad_state_close(s);
}

NMD_TEST(test_state_evals__list_pages)
{
	nomad_state *s = sf_open(NULL);
	nomad_state_list_options o = NOMAD_STATE_LIST_OPTIONS_INIT;
	nomad_state_snap *snap;
	char tok[NOMAD_STATE_TOKEN_MAX];
	nomad_error err;
	struct seen c;
	put_evals(s);
	o.ns = "*";
	o.per_page = 4;
	snprintf(tok, sizeof(tok), "%s", list(s, &o, &c));
	CHECK_INT(c.n, 4);
	CHECK_STR(c.ids[3], uuid(0x3a, 2));
	CHECK_STR(tok, uuid(0x3b, 3)); /* the next one's ID */
	o.next_token = tok;
	snprintf(tok, sizeof(tok), "%s", list(s, &o, &c));
	CHECK_INT(c.n, 4);
	CHECK_STR(c.ids[0], uuid(0x3b, 3));
	CHECK_STR(c.ids[3], uuid(0x60, 7));
	CHECK_STR(tok, uuid(0xff, 4));
	snprintf(tok, sizeof(tok), "%s", list(s, &o, &c));
	CHECK_INT(c.n, 1);
	CHECK_STR(tok, "");

	/* Backwards in "default". */
	o.ns = NULL;
	o.reverse = true;
	o.next_token = NULL;
	o.per_page = 2;
	snprintf(tok, sizeof(tok), "%s", list(s, &o, &c));
	CHECK_STR(c.ids[0], uuid(0xff, 4));
	CHECK_STR(c.ids[1], uuid(0x50, 0));
	CHECK_STR(tok, uuid(0x3b, 3));
	o.next_token = tok;
	snprintf(tok, sizeof(tok), "%s", list(s, &o, &c));
	CHECK_STR(c.ids[0], uuid(0x3b, 3));
	CHECK_STR(c.ids[1], uuid(0x3a, 2));
	CHECK_STR(tok, uuid(0x10, 1));
	snprintf(tok, sizeof(tok), "%s", list(s, &o, &c));
	CHECK_INT(c.n, 2);
	CHECK_STR(tok, "");

	o.next_token = "zzz";
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_INT(nomad_state_evals_list(snap, &o, collect, &c, tok, &err),
		  NOMAD_EINVAL);
	CHECK_CONTAINS(err.message, "next_token");
	nomad_state_snap_close(snap);
	nomad_state_close(s);
}

NMD_TEST(test_state_evals__by_job)
{
	nomad_state *s = sf_open(NULL);
	nomad_state_snap *snap;
	struct seen c = {0};
	put_evals(s);
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_OK(nomad_state_evals_by_job(snap, "default", "web", collect, &c,
					  NULL));
	CHECK_INT(c.n, 4);
	CHECK_STR(c.ids[0], uuid(0x00, 5));
	CHECK_STR(c.ids[1], uuid(0x10, 1));
	CHECK_STR(c.ids[2], uuid(0x3b, 3));
	CHECK_STR(c.ids[3], uuid(0x50, 0));
	memset(&c, 0, sizeof(c));
	CHECK_OK(nomad_state_evals_by_job(snap, "prod", "web", collect, &c,
					  NULL));
	CHECK_INT(c.n, 2);
	memset(&c, 0, sizeof(c));
	CHECK_OK(nomad_state_evals_by_job(snap, NULL, "api", collect, &c, NULL));
	CHECK_INT(c.n, 2);
	memset(&c, 0, sizeof(c));
	CHECK_OK(nomad_state_evals_by_job(snap, "default", "we", collect, &c,
					  NULL));
	CHECK_INT(c.n, 0);
	nomad_state_snap_close(snap);
	nomad_state_close(s);
}

NMD_TEST(test_state_evals__delete)
{
	nomad_state *s = sf_open(NULL);
	const char *ids[3];
	const char *allocs[1] = {"a0000000-0000-4000-8000-000000000001"};
	nomad_state_txn *txn;
	nomad_state_snap *snap;
	nomad_eval *got;
	struct seen c;
	put_evals(s);
	ids[0] = uuid(0x10, 1);
	ids[1] = uuid(0x77, 99); /* not stored: skipped */
	ids[2] = "garbage";      /* not an ID: skipped */
	CHECK_OK(nomad_state_txn_begin(s, 20, &txn, NULL));
	CHECK_OK(nomad_state_evals_delete(txn, ids, 3, allocs, 1, NULL));
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_INT(nomad_state_eval_get(snap, uuid(0x10, 1), &got),
		  NOMAD_ENOTFOUND);
	CHECK_OK(nomad_state_eval_get(snap, uuid(0x50, 0), &got));
	nomad_eval_free(got);
	CHECK_INT(nomad_state_snap_table_index(snap, NOMAD_TABLE_EVALS), 20);
	CHECK_INT(nomad_state_snap_table_index(snap, NOMAD_TABLE_ALLOCS), 20);
	nomad_state_snap_close(snap);
	list(s, NULL, &c);
	CHECK_INT(c.n, 5);
	nomad_state_close(s);
}

static nomad_job *make_job(const char *id, const char *g1, const char *g2)
{
	nomad_job *j = nomad_job_new();
	const char *groups[2] = {g1, g2};
	CHECK(nmd_pb_set_string(NULL, &j->namespace_, "default"));
	CHECK(nmd_pb_set_string(NULL, &j->id, id));
	for (int i = 0; i < 2; i++) {
		Nomad__TaskGroup *tg =
			nmd_pb_new(&nomad__task_group__descriptor, NULL);
		CHECK(nmd_pb_set_string(NULL, &tg->name, groups[i]));
		CHECK(NMD_PB_APPEND(NULL, j->taskgroups, j->n_taskgroups, tg));
	}
	return j;
}

static void queue(nomad_eval *e, const char *group, int64_t n)
{
	Nomad__IntEntry *q = nmd_pb_new(&nomad__int_entry__descriptor, NULL);
	CHECK(nmd_pb_set_string(NULL, &q->key, group));
	q->has_value = 1;
	q->value = n;
	CHECK(NMD_PB_APPEND(NULL, e->queuedallocations, e->n_queuedallocations,
			    q));
}

static nomad_job_summary *summary(nomad_state *s, const char *id)
{
	nomad_state_snap *snap;
	nomad_job_summary *sum = NULL;
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_OK(nomad_state_job_summary_get(snap, "default", id, &sum));
	nomad_state_snap_close(snap);
	return sum;
}

NMD_TEST(test_state_evals__queued_counts)
{
	nomad_state *s = sf_open(NULL);
	nomad_job *j = make_job("web", "api", "web");
	nomad_eval *e = make_eval(uuid(0x10, 1), "default", "web",
				  NOMAD__EVALUATION__STATUS_KIND__complete);
	nomad_job_summary *sum;
	nomad_state_txn *txn;
	CHECK_OK(nomad_state_txn_begin(s, 10, &txn, NULL));
	CHECK_OK(nomad_state_job_upsert(txn, j, NULL));
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
	queue(e, "web", 3);
	queue(e, "gone", 7); /* not a group of the job: ignored */
	put(s, 20, &e, 1);
	sum = summary(s, "web");
	CHECK_STR(sum->summary[1]->key, "web");
	CHECK_INT(sum->summary[1]->value->queued, 3);
	CHECK_INT(sum->summary[0]->value->queued, 0);
	CHECK_INT(sum->modifyindex, 20);
	nomad_job_summary_free(sum);

	/* Placements take from Queued. */
	CHECK_OK(nomad_state_txn_begin(s, 30, &txn, NULL));
	CHECK_OK(nmd_summary_alloc_changed(
		txn, "default", "web", "web", -1,
		NOMAD__ALLOCATION__CLIENT_STATUS_KIND__pending, NULL));
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
	sum = summary(s, "web");
	CHECK_INT(sum->summary[1]->value->queued, 2);
	CHECK_INT(sum->summary[1]->value->starting, 1);
	nomad_job_summary_free(sum);

	/* A blocked evaluation reports what is still queued; an evaluation
	 * of a job the store does not have changes nothing. */
	nomad_eval *b = make_eval(uuid(0x20, 2), "default", "web",
				  NOMAD__EVALUATION__STATUS_KIND__blocked);
	nomad_eval *o = make_eval(uuid(0x30, 3), "default", "other",
				  NOMAD__EVALUATION__STATUS_KIND__complete);
	nomad_eval *both[2] = {b, o};
	queue(b, "web", 1);
	queue(b, "api", 4);
	queue(o, "web", 9);
	put(s, 40, both, 2);
	sum = summary(s, "web");
	CHECK_INT(sum->summary[0]->value->queued, 4);
	CHECK_INT(sum->summary[1]->value->queued, 1);
	CHECK_INT(sum->modifyindex, 40);
	nomad_job_summary_free(sum);
	nomad_eval_free(b);
	nomad_eval_free(o);
	nomad_eval_free(e);
	nomad_job_free(j);
	nomad_state_close(s);
}

NMD_TEST(test_state_evals__complete_cancels_blocked)
{
	nomad_state *s = sf_open(NULL);
	nomad_eval *es[3] = {
		make_eval(uuid(0x10, 1), "default", "web",
			  NOMAD__EVALUATION__STATUS_KIND__blocked),
		make_eval(uuid(0x20, 2), "default", "api",
			  NOMAD__EVALUATION__STATUS_KIND__blocked),
		make_eval(uuid(0x30, 3), "default", "web",
			  NOMAD__EVALUATION__STATUS_KIND__pending),
	};
	nomad_eval *done, *got;
	Nomad__AllocationMetricEntry *f;
	put(s, 10, es, 3);

	/* Complete but with placement failures: the blocked one stays. */
	es[2]->status = NOMAD__EVALUATION__STATUS_KIND__complete;
	f = nmd_pb_new(&nomad__allocation_metric_entry__descriptor, NULL);
	CHECK(nmd_pb_set_string(NULL, &f->key, "web"));
	CHECK(NMD_PB_APPEND(NULL, es[2]->failedtgallocs,
			    es[2]->n_failedtgallocs, f));
	put(s, 20, &es[2], 1);
	got = get(s, uuid(0x10, 1));
	CHECK_INT(got->status, NOMAD__EVALUATION__STATUS_KIND__blocked);
	nomad_eval_free(got);

	done = make_eval(uuid(0x40, 4), "default", "web",
			 NOMAD__EVALUATION__STATUS_KIND__complete);
	put(s, 30, &done, 1);
	got = get(s, uuid(0x10, 1));
	CHECK_INT(got->status, NOMAD__EVALUATION__STATUS_KIND__canceled);
	CHECK_INT(got->modifyindex, 30);
	CHECK_INT(got->createindex, 10);
	CHECK_CONTAINS(got->statusdescription, uuid(0x10, 1));
	CHECK_CONTAINS(got->statusdescription, "successful");
	nomad_eval_free(got);
	got = get(s, uuid(0x20, 2)); /* another job's: untouched */
	CHECK_INT(got->status, NOMAD__EVALUATION__STATUS_KIND__blocked);
	CHECK_INT(got->modifyindex, 10);
	nomad_eval_free(got);
	got = get(s, uuid(0x40, 4));
	CHECK_INT(got->status, NOMAD__EVALUATION__STATUS_KIND__complete);
	nomad_eval_free(got);
	nomad_eval_free(done);
	free_evals(es, 3);
	nomad_state_close(s);
}

NMD_TEST(test_state_evals__snapshot_and_reopen)
{
	nomad_state *s = sf_open(NULL);
	nomad_eval *e = make_eval(uuid(0x10, 1), "default", "web",
				  NOMAD__EVALUATION__STATUS_KIND__pending);
	nomad_state_snap *before;
	nomad_eval *got;
	put(s, 10, &e, 1);
	CHECK_OK(nomad_state_snapshot(s, &before, NULL));
	e->status = NOMAD__EVALUATION__STATUS_KIND__failed;
	put(s, 11, &e, 1);
	CHECK_OK(nomad_state_eval_get(before, uuid(0x10, 1), &got));
	CHECK_INT(got->status, NOMAD__EVALUATION__STATUS_KIND__pending);
	CHECK_INT(nomad_state_snap_table_index(before, NOMAD_TABLE_EVALS), 10);
	nomad_eval_free(got);
	nomad_state_snap_close(before);
	nomad_state_close(s);

	s = sf_open(NULL);
	CHECK_INT(nomad_state_last_index(s), 11);
	got = get(s, uuid(0x10, 1));
	CHECK_INT(got->status, NOMAD__EVALUATION__STATUS_KIND__failed);
	CHECK_INT(got->modifyindex, 11);
	nomad_eval_free(got);
	nomad_eval_free(e);
	nomad_state_close(s);
}
