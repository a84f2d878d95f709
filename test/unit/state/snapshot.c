/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Snapshot streams: a large random state saved and restored into a fresh
 * store reads back identically through every read API (and goes on
 * taking the same writes identically); a save taken while writes commit
 * holds its snapshot's index only; truncated, corrupted or over-long
 * streams are refused with NOMAD_ECORRUPT and leave the target exactly as
 * it was; callbacks that fail give NOMAD_EUSER; a second restore at once
 * is refused.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <nomad/state.h>

#include "test.h"
#include "fixtures.h"
#include "core/buf.h"
#include "state/state_int.h"
#include "structs/pb.h"

/* ---- building a state ------------------------------------------------------ */

static nomad_state *open_at(const char *name, unsigned hot_max)
{
	nomad_state_config cfg = NOMAD_STATE_CONFIG_INIT;
	cfg.hot_allocs_max = hot_max;
	return sf_open_at(name, &cfg);
}

static uint64_t rng_state;

static unsigned rnd(unsigned n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned)(rng_state % n);
}

static nomad_state_txn *begin(nomad_state *s)
{
	nomad_state_txn *txn;
	nomad_error err;
	if (nomad_state_txn_begin(s, nomad_state_last_index(s) + 1, &txn, &err))
		nmd_test_fail(__FILE__, __LINE__, "begin: %s", err.message);
	return txn;
}

#define OK(call)                                                              \
	do {                                                                  \
		nomad_error e_;                                               \
		if ((call) != NOMAD_OK)                                       \
			nmd_test_fail(__FILE__, __LINE__, "%s: %s", #call,    \
				      e_.message);                            \
	} while (0)

static const char *const namespaces[] = {"default", "prod"};

static nomad_job *make_job(unsigned n, int priority)
{
	nomad_job *j = nomad_job_new();
	char id[32];
	snprintf(id, sizeof(id), "job-%04u", n);
	CHECK(j != NULL);
	CHECK(nmd_pb_set_string(NULL, &j->namespace_, namespaces[n % 2]));
	CHECK(nmd_pb_set_string(NULL, &j->id, id));
	CHECK(nmd_pb_set_string(NULL, &j->name, id));
	j->has_priority = 1;
	j->priority = priority;
	sf_add_group(j, "web", 1 + (int)(n % 3));
	if (n % 4 == 0)
		sf_add_group(j, "db", 1);
	return j;
}

static nomad_job *stored_job(nomad_state *s, unsigned n)
{
	nomad_state_snap *snap;
	nomad_job *j = NULL;
	char id[32];
	snprintf(id, sizeof(id), "job-%04u", n);
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	CHECK_OK(nomad_state_job_get(snap, namespaces[n % 2], id, &j));
	nomad_state_snap_close(snap);
	return j;
}

static void put_nodes(nomad_state *s, unsigned n_nodes)
{
	for (unsigned i = 0; i < n_nodes; i += 8) {
		nomad_state_txn *txn = begin(s);
		for (unsigned k = i; k < i + 8 && k < n_nodes; k++) {
			nomad_node *node = nomad_node_new();
			CHECK(nmd_pb_set_string(NULL, &node->id, sf_uuid('d', k)));
			CHECK(nmd_pb_set_string(NULL, &node->name, "client"));
			CHECK(nmd_pb_set_string(NULL, &node->datacenter,
						k % 2 ? "dc1" : "dc2"));
			OK(nomad_state_node_upsert(txn, node, &e_));
			nomad_node_free(node);
		}
		sf_commit(txn);
	}
	for (unsigned k = 0; k < n_nodes; k += 3) {
		Nomad__NodeEvent ev = NOMAD__NODE_EVENT__INIT;
		nomad_state_txn *txn = begin(s);
		ev.message = (char *)"heartbeat missed";
		OK(nomad_state_node_status(txn, sf_uuid('d', k),
					   k % 2 ? NOMAD__NODE__STATUS_KIND__down
						 : NOMAD__NODE__STATUS_KIND__ready,
					   1700000000 + k, &ev, &e_));
		sf_commit(txn);
	}
}

/* Jobs, each registered one to three times with a changed spec so that
 * several versions are kept. */
static void put_jobs(nomad_state *s, unsigned n_jobs)
{
	for (unsigned round = 0; round < 3; round++) {
		for (unsigned i = 0; i < n_jobs; i += 20) {
			nomad_state_txn *txn = begin(s);
			for (unsigned k = i; k < i + 20 && k < n_jobs; k++) {
				nomad_job *j;
				if (round > 0 && rnd(3) == 0)
					continue;
				j = make_job(k, 50 + (int)round * 10 + (int)rnd(5));
				OK(nomad_state_job_upsert(txn, j, &e_));
				nomad_job_free(j);
			}
			sf_commit(txn);
		}
	}
}

static void put_evals(nomad_state *s, unsigned n_evals, unsigned n_jobs)
{
	for (unsigned i = 0; i < n_evals; i += 25) {
		nomad_eval *es[25];
		size_t n = 0;
		nomad_state_txn *txn = begin(s);
		for (unsigned k = i; k < i + 25 && k < n_evals; k++) {
			unsigned jn = rnd(n_jobs);
			char id[32];
			nomad_eval *e = nomad_eval_new();
			snprintf(id, sizeof(id), "job-%04u", jn);
			CHECK(nmd_pb_set_string(NULL, &e->id, sf_uuid('e', k)));
			CHECK(nmd_pb_set_string(NULL, &e->namespace_,
						namespaces[jn % 2]));
			CHECK(nmd_pb_set_string(NULL, &e->jobid, id));
			CHECK(nmd_pb_set_string(NULL, &e->triggeredby,
						"job-register"));
			e->has_status = 1;
			e->status = k % 3 ? NOMAD__EVALUATION__STATUS_KIND__complete
					  : NOMAD__EVALUATION__STATUS_KIND__pending;
			es[n++] = e;
		}
		OK(nomad_state_evals_upsert(txn, es, n, &e_));
		sf_commit(txn);
		for (size_t k = 0; k < n; k++)
			nomad_eval_free(es[k]);
	}
}

static void put_deployments(nomad_state *s, unsigned n_deps)
{
	for (unsigned k = 0; k < n_deps; k++) {
		nomad_state_txn *txn = begin(s);
		nomad_deployment *d = nomad_deployment_new();
		Nomad__DeploymentStateEntry *e =
			nmd_pb_new(&nomad__deployment_state_entry__descriptor, NULL);
		Nomad__DeploymentState *st =
			nmd_pb_new(&nomad__deployment_state__descriptor, NULL);
		char id[32];
		snprintf(id, sizeof(id), "job-%04u", k);
		CHECK(d && e && st);
		CHECK(nmd_pb_set_string(NULL, &d->id, sf_uuid('f', k)));
		CHECK(nmd_pb_set_string(NULL, &d->namespace_, namespaces[k % 2]));
		CHECK(nmd_pb_set_string(NULL, &d->jobid, id));
		d->has_status = 1;
		d->status = NOMAD__DEPLOYMENT__STATUS_KIND__running;
		CHECK(nmd_pb_set_string(NULL, &e->key, "web"));
		e->value = st;
		st->has_desiredtotal = 1;
		st->desiredtotal = 3;
		CHECK(NMD_PB_APPEND(NULL, d->taskgroups, d->n_taskgroups, e));
		OK(nomad_state_deployment_upsert(txn, d, &e_));
		sf_commit(txn);
		nomad_deployment_free(d);
	}
}

/* Allocations of the first `n_jobs` jobs, each carrying its job's stored
 * version, numbered from `first`. */
static void put_allocs(nomad_state *s, unsigned first, unsigned n_allocs,
		       unsigned n_nodes, unsigned n_jobs, unsigned n_evals,
		       unsigned n_deps)
{
	nomad_job **jobs = calloc(n_jobs, sizeof(*jobs));
	CHECK(jobs != NULL);
	for (unsigned i = 0; i < n_jobs; i++)
		jobs[i] = stored_job(s, i);
	for (unsigned i = 0; i < n_allocs; i += 100) {
		nomad_alloc *as[100];
		size_t n = 0;
		nomad_state_txn *txn = begin(s);
		for (unsigned k = i; k < i + 100 && k < n_allocs; k++) {
			unsigned jn = rnd(n_jobs);
			nomad_alloc *a = nomad_alloc_new();
			char name[64];
			snprintf(name, sizeof(name), "%s.web[%u]", jobs[jn]->id, k);
			CHECK(nmd_pb_set_string(NULL, &a->id, sf_uuid('a', first + k)));
			CHECK(nmd_pb_set_string(NULL, &a->nodeid,
						sf_uuid('d', rnd(n_nodes))));
			CHECK(nmd_pb_set_string(NULL, &a->evalid,
						sf_uuid('e', rnd(n_evals))));
			CHECK(nmd_pb_set_string(NULL, &a->jobid, jobs[jn]->id));
			CHECK(nmd_pb_set_string(NULL, &a->namespace_,
						jobs[jn]->namespace_));
			CHECK(nmd_pb_set_string(NULL, &a->taskgroup, "web"));
			CHECK(nmd_pb_set_string(NULL, &a->name, name));
			if (jn < n_deps && rnd(2))
				CHECK(nmd_pb_set_string(NULL, &a->deploymentid,
							sf_uuid('f', jn)));
			a->has_desiredstatus = a->has_clientstatus = 1;
			a->desiredstatus = NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run;
			a->clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__pending;
			CHECK_OK(nomad_job_copy(&a->job, jobs[jn]));
			as[n++] = a;
		}
		OK(nomad_state_allocs_upsert(txn, as, n, &e_));
		sf_commit(txn);
		for (size_t k = 0; k < n; k++)
			nomad_alloc_free(as[k]);
	}
	for (unsigned i = 0; i < n_jobs; i++)
		nomad_job_free(jobs[i]);
	free(jobs);
}

/* Clients report on a third of the allocations. */
static void update_allocs(nomad_state *s, unsigned first, unsigned n_allocs)
{
	for (unsigned i = 0; i < n_allocs; i += 150) {
		nomad_alloc *us[50];
		size_t n = 0;
		nomad_state_txn *txn = begin(s);
		for (unsigned k = i; k < i + 150 && k < n_allocs; k += 3) {
			nomad_alloc *u = nomad_alloc_new();
			CHECK(nmd_pb_set_string(NULL, &u->id, sf_uuid('a', first + k)));
			u->has_clientstatus = 1;
			u->clientstatus =
				rnd(4) ? NOMAD__ALLOCATION__CLIENT_STATUS_KIND__running
				       : NOMAD__ALLOCATION__CLIENT_STATUS_KIND__complete;
			CHECK(nmd_pb_set_string(NULL, &u->clientdescription,
						"reported"));
			us[n++] = u;
		}
		OK(nomad_state_allocs_client_update(txn, us, n, &e_));
		sf_commit(txn);
		for (size_t k = 0; k < n; k++)
			nomad_alloc_free(us[k]);
	}
}

struct shape {
	unsigned nodes, jobs, evals, deps, allocs;
};

static const struct shape large = {48, 240, 320, 60, 3000};
static const struct shape small = {6, 12, 10, 4, 120};

static void build(nomad_state *s, const struct shape *sh, uint64_t seed)
{
	const char *gone_evals[] = {sf_uuid('e', 1), sf_uuid('e', 2)};
	const char *gone_allocs[] = {sf_uuid('a', 5), sf_uuid('a', 6), sf_uuid('a', 7)};
	nomad_state_txn *txn;
	char id[32];
	rng_state = seed;
	put_nodes(s, sh->nodes);
	put_jobs(s, sh->jobs);
	put_evals(s, sh->evals, sh->jobs);
	put_deployments(s, sh->deps);
	put_allocs(s, 0, sh->allocs, sh->nodes, sh->jobs, sh->evals, sh->deps);
	update_allocs(s, 0, sh->allocs);
	/* Some garbage collected, one job purged. */
	txn = begin(s);
	OK(nomad_state_evals_delete(txn, gone_evals, 2, gone_allocs, 3, &e_));
	snprintf(id, sizeof(id), "job-%04u", sh->jobs - 1);
	OK(nomad_state_job_delete(txn, namespaces[(sh->jobs - 1) % 2], id, &e_));
	sf_commit(txn);
}

/* ---- reading a state back whole --------------------------------------------- */

struct keys {
	size_t n, cap;
	char (*k)[2][NOMAD_UUID_LEN + 64];
};

static void keys_add(struct keys *ks, const char *a, const char *b)
{
	if (ks->n == ks->cap) {
		ks->cap = ks->cap ? ks->cap * 2 : 64;
		ks->k = realloc(ks->k, ks->cap * sizeof(*ks->k));
		CHECK(ks->k != NULL);
	}
	snprintf(ks->k[ks->n][0], sizeof(ks->k[0][0]), "%s", a ? a : "");
	snprintf(ks->k[ks->n][1], sizeof(ks->k[0][1]), "%s", b ? b : "");
	ks->n++;
}

struct dump {
	struct nmd_buf out;
	struct keys keys;     /* what the listing saw, for follow-up reads */
	int kind;             /* 0 alloc, 1 job, 2 eval, 3 node, 4 deployment */
	unsigned objects;
};

static void dump_put(struct dump *d, const void *p, size_t n)
{
	uint64_t len = n;
	nmd_buf_append(&d->out, &len, sizeof(len));
	nmd_buf_append(&d->out, p, n);
	CHECK(!d->out.oom);
}

static void dump_msg(struct dump *d, const ProtobufCMessage *m)
{
	uint8_t *bytes;
	size_t len;
	CHECK_OK(nomad_msg_pack(m, NULL, &bytes, &len));
	dump_put(d, bytes, len);
	nomad_free(bytes);
	d->objects++;
}

/* Every object a listing passes, packed; and its key kept. */
static int dump_cb(const ProtobufCMessage *m, void *ud)
{
	struct dump *d = ud;
	dump_msg(d, m);
	switch (d->kind) {
	case 1:
		keys_add(&d->keys, ((const nomad_job *)m)->namespace_,
			 ((const nomad_job *)m)->id);
		break;
	case 2:
		keys_add(&d->keys, ((const nomad_eval *)m)->id, NULL);
		break;
	case 3:
		keys_add(&d->keys, ((const nomad_node *)m)->id, NULL);
		break;
	case 4:
		keys_add(&d->keys, ((const nomad_deployment *)m)->id, NULL);
		break;
	default:
		keys_add(&d->keys, ((const nomad_alloc *)m)->id, NULL);
		break;
	}
	return 0;
}

/* Objects passed by follow-up queries: packed, keys not kept. */
static int dump_only_cb(const ProtobufCMessage *m, void *ud)
{
	dump_msg(ud, m);
	return 0;
}

static void list_all(struct dump *d, int kind,
		     nomad_err (*fn)(nomad_state_snap *,
				     const nomad_state_list_options *,
				     nomad_state_iter_cb, void *,
				     char[NOMAD_STATE_TOKEN_MAX], nomad_error *),
		     nomad_state_snap *snap)
{
	nomad_state_list_options o = NOMAD_STATE_LIST_OPTIONS_INIT;
	o.ns = "*";
	d->kind = kind;
	d->keys.n = 0;
	OK(fn(snap, &o, dump_cb, d, NULL, &e_));
	dump_put(d, "|", 1);
}

/* Everything the read API says about the state `snap` sees, as bytes:
 * two stores are equal when their dumps are. */
static struct nmd_buf dump_snap(nomad_state_snap *snap, unsigned *objects)
{
	struct dump d = {0};
	const unsigned all = NOMAD_STATE_TERMINAL | NOMAD_STATE_WITH_JOB;
	uint64_t idx = nomad_state_snap_index(snap);
	nmd_buf_init(&d.out, NULL);
	dump_put(&d, &idx, sizeof(idx));
	for (int t = 0; t < NOMAD_TABLE_COUNT_; t++) {
		idx = nomad_state_snap_table_index(snap, (nomad_state_table)t);
		dump_put(&d, &idx, sizeof(idx));
	}

	list_all(&d, 1, nomad_state_jobs_list, snap);
	for (size_t i = 0; i < d.keys.n; i++) {
		const char *ns = d.keys.k[i][0], *id = d.keys.k[i][1];
		nomad_job_summary *sum;
		nomad_job *j;
		CHECK_OK(nomad_state_job_get(snap, ns, id, &j));
		dump_msg(&d, &j->base);
		nomad_job_free(j);
		CHECK_OK(nomad_state_job_version_get(snap, ns, id, 0, &j));
		dump_msg(&d, &j->base);
		nomad_job_free(j);
		CHECK_OK(nomad_state_job_summary_get(snap, ns, id, &sum));
		dump_msg(&d, &sum->base);
		nomad_job_summary_free(sum);
		OK(nomad_state_job_versions(snap, ns, id, dump_only_cb, &d, &e_));
		OK(nomad_state_allocs_by_job(snap, ns, id, all, dump_only_cb,
					     &d, &e_));
		OK(nomad_state_evals_by_job(snap, ns, id, dump_only_cb, &d, &e_));
		OK(nomad_state_deployments_by_job(snap, ns, id, dump_only_cb,
						  &d, &e_));
	}
	list_all(&d, 2, nomad_state_evals_list, snap);
	for (size_t i = 0; i < d.keys.n; i++)
		OK(nomad_state_allocs_by_eval(snap, d.keys.k[i][0], all,
					      dump_only_cb, &d, &e_));
	list_all(&d, 3, nomad_state_nodes_list, snap);
	for (size_t i = 0; i < d.keys.n; i++)
		OK(nomad_state_allocs_by_node(snap, d.keys.k[i][0], all,
					      dump_only_cb, &d, &e_));
	list_all(&d, 4, nomad_state_deployments_list, snap);
	for (size_t i = 0; i < d.keys.n; i++)
		OK(nomad_state_allocs_by_deployment(snap, d.keys.k[i][0], all,
						    dump_only_cb, &d, &e_));
	list_all(&d, 0, nomad_state_allocs_list, snap);
	for (size_t i = 0; i < d.keys.n; i++) {
		nomad_alloc *a;
		CHECK_OK(nomad_state_alloc_get(snap, d.keys.k[i][0], true, &a));
		dump_msg(&d, &a->base);
		nomad_alloc_free(a);
	}
	free(d.keys.k);
	if (objects)
		*objects = d.objects;
	return d.out;
}

static struct nmd_buf dump_store(nomad_state *s, unsigned *objects)
{
	nomad_state_snap *snap;
	struct nmd_buf b;
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	b = dump_snap(snap, objects);
	nomad_state_snap_close(snap);
	return b;
}

static void check_same(const struct nmd_buf *a, const struct nmd_buf *b,
		       int line)
{
	size_t n = a->len < b->len ? a->len : b->len, i = 0;
	if (a->len == b->len && memcmp(a->data, b->data, n) == 0)
		return;
	while (i < n && a->data[i] == b->data[i])
		i++;
	nmd_test_fail(__FILE__, line,
		      "states differ: dumps of %zu and %zu bytes, first "
		      "difference at byte %zu", a->len, b->len, i);
}

/* ---- the scheduler view -------------------------------------------------------- */

struct lines {
	char **v;
	size_t n, cap;
};

static void lines_add(struct lines *l, const char *text)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 64;
		l->v = realloc(l->v, l->cap * sizeof(*l->v));
		CHECK(l->v != NULL);
	}
	CHECK((l->v[l->n++] = strdup(text)) != NULL);
}

static int view_node_cb(const nomad_state_view_node *n, void *ud)
{
	char line[256];
	int len = snprintf(line, sizeof(line), "node %s %d %d %d %lld %lld %lld %zu",
			   n->id, n->status, n->eligible, n->draining,
			   (long long)n->cpu_used_mhz,
			   (long long)n->memory_used_mb,
			   (long long)n->disk_used_mb, n->n_allocs);
	for (size_t i = 0; i < n->n_ports_used && len < 200; i++)
		len += snprintf(line + len, sizeof(line) - (size_t)len, " %u",
				n->ports_used[i]);
	lines_add(ud, line);
	return 0;
}

static int view_alloc_cb(const nomad_state_view_alloc *a, void *ud)
{
	char line[256];
	snprintf(line, sizeof(line), "alloc %s %s/%s %s %d %d", a->id, a->ns,
		 a->job_id, a->task_group, a->desired_status, a->client_status);
	lines_add(ud, line);
	return 0;
}

static int cmp_line(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The scheduler view as sorted text (its order is its own). */
static char *view_text(nomad_state *s)
{
	struct lines nodes = {0}, all = {0};
	struct nmd_buf b;
	char idx[32];
	OK(nomad_state_view_nodes(s, view_node_cb, &nodes, &e_));
	for (size_t i = 0; i < nodes.n; i++) {
		char id[NOMAD_UUID_LEN + 1];
		memcpy(id, nodes.v[i] + 5, NOMAD_UUID_LEN);
		id[NOMAD_UUID_LEN] = '\0';
		lines_add(&all, nodes.v[i]);
		OK(nomad_state_view_node_allocs(s, id, view_alloc_cb, &all, &e_));
		free(nodes.v[i]);
	}
	free(nodes.v);
	qsort(all.v, all.n, sizeof(*all.v), cmp_line);
	nmd_buf_init(&b, NULL);
	snprintf(idx, sizeof(idx), "index %llu\n",
		 (unsigned long long)nomad_state_view_index(s));
	nmd_buf_puts(&b, idx);
	for (size_t i = 0; i < all.n; i++) {
		nmd_buf_puts(&b, all.v[i]);
		nmd_buf_putc(&b, '\n');
		free(all.v[i]);
	}
	free(all.v);
	CHECK(!b.oom && b.data);
	return b.data;
}

/* ---- streams in memory -------------------------------------------------------- */

struct stream {
	struct nmd_buf b;
	size_t pos, limit;   /* reading: where, and how far */
	size_t chunk;        /* largest read */
	int fail_at_call;    /* write: return nonzero on that call (from 1) */
	int calls;
	nomad_state *writer; /* write: commit a job into it on every call */
	unsigned written;
};

static int write_mem(const void *data, size_t len, void *ud)
{
	struct stream *st = ud;
	CHECK(len > 0 && len <= 64 * 1024);
	if (++st->calls == st->fail_at_call)
		return 7;
	nmd_buf_append(&st->b, data, len);
	CHECK(!st->b.oom);
	if (st->writer) {
		/* Writes go on while the snapshot is saved. */
		nomad_state_txn *txn = begin(st->writer);
		nomad_job *j = make_job(9000 + st->written++, 70);
		OK(nomad_state_job_upsert(txn, j, &e_));
		sf_commit(txn);
		nomad_job_free(j);
	}
	return 0;
}

static long read_mem(void *buf, size_t cap, void *ud)
{
	struct stream *st = ud;
	size_t n = st->limit - st->pos;
	if (n > cap)
		n = cap;
	if (n > st->chunk)
		n = st->chunk;
	memcpy(buf, st->b.data + st->pos, n);
	st->pos += n;
	return (long)n;
}

static long read_fail(void *buf, size_t cap, void *ud)
{
	struct stream *st = ud;
	if (st->pos > st->limit / 2)
		return -1;
	return read_mem(buf, cap, ud);
}

static struct stream save(nomad_state_snap *snap)
{
	struct stream st = {0};
	nomad_error err;
	nmd_buf_init(&st.b, NULL);
	if (nomad_state_snapshot_save(snap, write_mem, &st, &err))
		nmd_test_fail(__FILE__, __LINE__, "save: %s", err.message);
	return st;
}

static struct stream save_store(nomad_state *s)
{
	nomad_state_snap *snap;
	struct stream st;
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	st = save(snap);
	nomad_state_snap_close(snap);
	return st;
}

static nomad_err restore(nomad_state *s, struct stream *st, size_t limit,
			 nomad_error *err)
{
	st->pos = 0;
	st->limit = limit;
	if (!st->chunk)
		st->chunk = 4093; /* odd reads: records straddle them */
	return nomad_state_snapshot_restore(s, read_mem, st, err);
}

static bool scratch_exists(nomad_state *s)
{
	char path[600];
	struct stat sb;
	snprintf(path, sizeof(path), "%s.restore", s->path);
	return stat(path, &sb) == 0;
}

/* ---- tests ------------------------------------------------------------------- */

NMD_TEST(test_state_snapshot__round_trip_large_state)
{
	nomad_state *src = open_at("src.db", 700), *dst = open_at("dst.db", 700);
	struct nmd_buf a, b;
	struct stream st, again;
	unsigned objects;
	nomad_error err;

	build(src, &large, 42);
	/* Allocations sit in both tables: 3000 placed, the hot one holding
	 * at most 700 before they move. */
	CHECK(src->hot_count > 0 && src->hot_count < large.allocs);

	st = save_store(src);
	CHECK(st.b.len > 100000);
	CHECK(memcmp(st.b.data, "NOMADSNP", 8) == 0);
	if (restore(dst, &st, st.b.len, &err))
		nmd_test_fail(__FILE__, __LINE__, "restore: %s", err.message);
	CHECK(!scratch_exists(dst));

	a = dump_store(src, &objects);
	b = dump_store(dst, NULL);
	/* Thousands of objects were compared, not a few. */
	CHECK(objects > 2 * large.allocs);
	check_same(&a, &b, __LINE__);
	CHECK_INT(nomad_state_last_index(dst), nomad_state_last_index(src));
	CHECK_INT(dst->hot_count, src->hot_count);
	CHECK_INT(dst->next_alloc_pk, src->next_alloc_pk);

	/* Saving the restored store gives the same bytes. */
	again = save_store(dst);
	CHECK_INT(again.b.len, st.b.len);
	CHECK(memcmp(again.b.data, st.b.data, st.b.len) == 0);

	/* Both go on alike: the same writes (new jobs, allocations that push
	 * the hot table over its limit) give the same states. */
	for (int i = 0; i < 2; i++) {
		nomad_state *s = i ? dst : src;
		nomad_state_txn *txn = begin(s);
		nomad_job *j = make_job(7, 99);
		rng_state = 7;
		OK(nomad_state_job_upsert(txn, j, &e_));
		sf_commit(txn);
		nomad_job_free(j);
		put_allocs(s, 100000, 700, large.nodes, 20, large.evals,
			   large.deps);
	}
	nmd_buf_free(&a);
	nmd_buf_free(&b);
	a = dump_store(src, NULL);
	b = dump_store(dst, NULL);
	check_same(&a, &b, __LINE__);
	CHECK_INT(dst->hot_count, src->hot_count);

	nmd_buf_free(&a);
	nmd_buf_free(&b);
	nmd_buf_free(&st.b);
	nmd_buf_free(&again.b);
	nomad_state_close(src);
	nomad_state_close(dst);
}

NMD_TEST(test_state_snapshot__replaces_existing_content)
{
	nomad_state *src = open_at("src.db", 50), *dst = open_at("dst.db", 50);
	nomad_state *empty = open_at("empty.db", 0);
	struct nmd_buf a, b;
	struct stream st;
	nomad_state_snap *snap;
	nomad_job *j;

	build(src, &small, 1);
	build(dst, &large, 2); /* more of everything, at a higher index */
	CHECK(nomad_state_last_index(dst) > nomad_state_last_index(src));
	a = dump_store(src, NULL);
	b = dump_store(dst, NULL);
	CHECK(a.len != b.len || memcmp(a.data, b.data, a.len) != 0);
	nmd_buf_free(&a);
	nmd_buf_free(&b);
	st = save_store(src);
	CHECK_OK(restore(dst, &st, st.b.len, NULL));
	a = dump_store(src, NULL);
	b = dump_store(dst, NULL);
	check_same(&a, &b, __LINE__);
	/* The index went back with the content. */
	CHECK_INT(nomad_state_last_index(dst), nomad_state_last_index(src));
	nmd_buf_free(&st.b);

	/* An empty store's snapshot empties a store. */
	st = save_store(empty);
	CHECK_OK(restore(dst, &st, st.b.len, NULL));
	CHECK_INT(nomad_state_last_index(dst), 0);
	CHECK_INT(dst->hot_count, 0);
	CHECK_OK(nomad_state_snapshot(dst, &snap, NULL));
	CHECK_INT(nomad_state_job_get(snap, "default", "job-0000", &j),
		  NOMAD_ENOTFOUND);
	CHECK_INT(nomad_state_snap_table_index(snap, NOMAD_TABLE_ALLOCS), 0);
	nomad_state_snap_close(snap);

	nmd_buf_free(&a);
	nmd_buf_free(&b);
	nmd_buf_free(&st.b);
	nomad_state_close(src);
	nomad_state_close(dst);
	nomad_state_close(empty);
}

NMD_TEST(test_state_snapshot__save_while_writes_commit)
{
	nomad_state *src = open_at("src.db", 100), *dst = open_at("dst.db", 0);
	nomad_state_snap *snap;
	struct nmd_buf at_snap, b;
	struct stream st = {0};
	uint64_t index;
	nomad_job *j;
	nomad_error err;

	build(src, &large, 3);
	CHECK_OK(nomad_state_snapshot(src, &snap, NULL));
	index = nomad_state_snap_index(snap);
	at_snap = dump_snap(snap, NULL);

	/* Every chunk the save hands over, a write commits in src. */
	nmd_buf_init(&st.b, NULL);
	st.writer = src;
	if (nomad_state_snapshot_save(snap, write_mem, &st, &err))
		nmd_test_fail(__FILE__, __LINE__, "save: %s", err.message);
	CHECK(st.written > 3);
	CHECK_INT(nomad_state_last_index(src), index + st.written);
	nomad_state_snap_close(snap);

	CHECK_OK(restore(dst, &st, st.b.len, NULL));
	CHECK_INT(nomad_state_last_index(dst), index);
	b = dump_store(dst, NULL);
	check_same(&at_snap, &b, __LINE__);
	CHECK_OK(nomad_state_snapshot(dst, &snap, NULL));
	CHECK_INT(nomad_state_job_get(snap, "default", "job-9000", &j),
		  NOMAD_ENOTFOUND);
	nomad_state_snap_close(snap);
	/* src has them all. */
	CHECK_OK(nomad_state_snapshot(src, &snap, NULL));
	CHECK_OK(nomad_state_job_get(snap, "default", "job-9000", &j));
	nomad_job_free(j);
	nomad_state_snap_close(snap);

	nmd_buf_free(&at_snap);
	nmd_buf_free(&b);
	nmd_buf_free(&st.b);
	nomad_state_close(src);
	nomad_state_close(dst);
}

struct writer {
	nomad_state *s;
	atomic_bool stop;
	unsigned written;
};

static void *writer_main(void *ud)
{
	struct writer *w = ud;
	while (!atomic_load(&w->stop) || w->written < 3) {
		nomad_state_txn *txn = begin(w->s);
		nomad_job *j = make_job(8000 + w->written++, 60);
		OK(nomad_state_job_upsert(txn, j, &e_));
		sf_commit(txn);
		nomad_job_free(j);
	}
	return NULL;
}

NMD_TEST(test_state_snapshot__save_while_another_thread_writes)
{
	nomad_state *src = open_at("src.db", 300), *dst = open_at("dst.db", 0);
	struct writer w = {.s = NULL};
	nomad_state_snap *snap;
	struct nmd_buf at_snap, b;
	struct stream st;
	pthread_t th;
	uint64_t index;

	build(src, &large, 4);
	w.s = src;
	atomic_init(&w.stop, false);
	CHECK_OK(nomad_state_snapshot(src, &snap, NULL));
	index = nomad_state_snap_index(snap);
	CHECK_OK(pthread_create(&th, NULL, writer_main, &w));
	st = save(snap);
	at_snap = dump_snap(snap, NULL);
	nomad_state_snap_close(snap);
	atomic_store(&w.stop, true);
	CHECK_OK(pthread_join(th, NULL));
	CHECK(nomad_state_last_index(src) >= index + 3);

	CHECK_OK(restore(dst, &st, st.b.len, NULL));
	CHECK_INT(nomad_state_last_index(dst), index);
	b = dump_store(dst, NULL);
	check_same(&at_snap, &b, __LINE__);

	nmd_buf_free(&at_snap);
	nmd_buf_free(&b);
	nmd_buf_free(&st.b);
	nomad_state_close(src);
	nomad_state_close(dst);
}

/* The target of the refused restores below: a state of its own, which
 * must come out of each attempt byte for byte the same. */
struct target {
	nomad_state *s;
	struct nmd_buf before;
	char *view;           /* the scheduler view, built before */
	uint64_t index;
};

static void target_init(struct target *t)
{
	t->s = open_at("dst.db", 40);
	build(t->s, &small, 99);
	t->before = dump_store(t->s, NULL);
	t->view = view_text(t->s);
	t->index = nomad_state_last_index(t->s);
}

static void target_free(struct target *t)
{
	nmd_buf_free(&t->before);
	free(t->view); /* an nmd_buf with the C library allocator */
	nomad_state_close(t->s);
}

static void target_check(struct target *t, int line)
{
	struct nmd_buf now = dump_store(t->s, NULL);
	char *view;
	check_same(&t->before, &now, line);
	if (nomad_state_last_index(t->s) != t->index)
		nmd_test_fail(__FILE__, line, "the last index moved");
	if (scratch_exists(t->s))
		nmd_test_fail(__FILE__, line, "the scratch file is left over");
	nmd_buf_free(&now);
	view = view_text(t->s);
	if (strcmp(view, t->view) != 0)
		nmd_test_fail(__FILE__, line, "the scheduler view changed");
	free(view);
}

static void refused(struct target *t, struct stream *st, size_t limit,
		    const char *want, int line)
{
	nomad_error err;
	nomad_err rc = restore(t->s, st, limit, &err);
	if (rc != NOMAD_ECORRUPT)
		nmd_test_fail(__FILE__, line, "restore returned %d (%s)", rc,
			      rc ? err.message : "");
	if (!strstr(err.message, want))
		nmd_test_fail(__FILE__, line, "\"%s\" does not contain \"%s\"",
			      err.message, want);
	if (!strstr(err.message, "byte "))
		nmd_test_fail(__FILE__, line, "no offset in \"%s\"",
			      err.message);
	target_check(t, line);
}

NMD_TEST(test_state_snapshot__truncated_is_refused)
{
	nomad_state *src = open_at("src.db", 200);
	struct target t;
	struct stream st;
	nomad_error err;
	char want[64];

	build(src, &large, 5);
	st = save_store(src);
	target_init(&t);
	for (int k = 0; k < 10; k++) {
		size_t cut = st.b.len * (size_t)k / 10;
		snprintf(want, sizeof(want), "truncated at byte %zu", cut);
		refused(&t, &st, cut, want, __LINE__);
	}
	/* Down to the last byte of the checksum. */
	snprintf(want, sizeof(want), "truncated at byte %zu", st.b.len - 1);
	refused(&t, &st, st.b.len - 1, want, __LINE__);

	/* The target still takes the whole stream afterwards. */
	if (restore(t.s, &st, st.b.len, &err))
		nmd_test_fail(__FILE__, __LINE__, "restore: %s", err.message);
	CHECK_INT(nomad_state_last_index(t.s), nomad_state_last_index(src));

	target_free(&t);
	nmd_buf_free(&st.b);
	nomad_state_close(src);
}

/* Flip one byte of the stream, try it, flip it back. */
static void corrupt_at(struct target *t, struct stream *st, size_t off,
		       const char *want, int line)
{
	st->b.data[off] ^= 0x5a;
	refused(t, st, st->b.len, want, line);
	st->b.data[off] ^= 0x5a;
}

NMD_TEST(test_state_snapshot__corruption_is_refused)
{
	nomad_state *src = open_at("src.db", 200);
	struct target t;
	struct stream st;
	size_t len;
	nomad_error err;

	build(src, &large, 6);
	st = save_store(src);
	len = st.b.len;
	target_init(&t);

	corrupt_at(&t, &st, 0, "bad magic at byte 0", __LINE__);
	corrupt_at(&t, &st, 7, "bad magic", __LINE__);
	corrupt_at(&t, &st, 11, "format version", __LINE__);
	corrupt_at(&t, &st, 15, "schema version", __LINE__);
	/* The index is only covered by the checksum. */
	corrupt_at(&t, &st, 20, "checksum mismatch", __LINE__);
	/* The first record: its kind, its length, its table name. */
	corrupt_at(&t, &st, 24, "unknown record kind", __LINE__);
	corrupt_at(&t, &st, 26, "", __LINE__);
	corrupt_at(&t, &st, 31, "which this store's schema does not have",
		   __LINE__);
	/* Bodies deep inside: only the checksum can tell. Other bytes in
	 * between break the framing or the schema; all are refused. */
	for (int k = 1; k <= 12; k++)
		corrupt_at(&t, &st, len * (size_t)k / 13 + (size_t)k, "",
			   __LINE__);
	for (size_t off = len / 2; off < len / 2 + 24; off++)
		corrupt_at(&t, &st, off, "", __LINE__);
	/* The trailer: kind, count, checksum. */
	corrupt_at(&t, &st, len - 41, "", __LINE__);
	corrupt_at(&t, &st, len - 35, "checksum mismatch", __LINE__);
	corrupt_at(&t, &st, len - 1, "checksum mismatch", __LINE__);

	/* Bytes after the trailer. */
	nmd_buf_append(&st.b, "x", 1);
	refused(&t, &st, len + 1, "after its trailer", __LINE__);
	st.b.len = len;

	if (restore(t.s, &st, len, &err))
		nmd_test_fail(__FILE__, __LINE__, "restore: %s", err.message);
	CHECK_INT(nomad_state_last_index(t.s), nomad_state_last_index(src));

	target_free(&t);
	nmd_buf_free(&st.b);
	nomad_state_close(src);
}

NMD_TEST(test_state_snapshot__every_byte_of_a_small_stream)
{
	nomad_state *src = open_at("src.db", 0);
	struct target t;
	struct stream st;
	nomad_job *j = make_job(1, 50);
	nomad_state_txn *txn;

	txn = begin(src);
	OK(nomad_state_job_upsert(txn, j, &e_));
	sf_commit(txn);
	nomad_job_free(j);
	st = save_store(src);
	target_init(&t);
	/* A store with one job: a few kilobytes, every byte tried. */
	CHECK(st.b.len < 16384);
	for (size_t off = 0; off < st.b.len; off++)
		corrupt_at(&t, &st, off, "", __LINE__);

	target_free(&t);
	nmd_buf_free(&st.b);
	nomad_state_close(src);
}

NMD_TEST(test_state_snapshot__callback_errors)
{
	nomad_state *src = open_at("src.db", 0);
	nomad_state_snap *snap;
	struct target t;
	struct stream st = {0};
	nomad_error err;

	build(src, &small, 8);
	CHECK_OK(nomad_state_snapshot(src, &snap, NULL));
	nmd_buf_init(&st.b, NULL);
	st.fail_at_call = 1;
	CHECK_INT(nomad_state_snapshot_save(snap, write_mem, &st, &err),
		  NOMAD_EUSER);
	CHECK_CONTAINS(err.message, "write callback returned 7 at byte 0");
	CHECK_INT(st.b.len, 0);
	/* The snapshot is still usable and saves whole. */
	st = save(snap);
	nomad_state_snap_close(snap);
	CHECK_INT(nomad_state_snapshot_save(NULL, write_mem, &st, &err),
		  NOMAD_EINVAL);

	target_init(&t);
	st.pos = 0;
	st.limit = st.b.len;
	st.chunk = 1000;
	CHECK_INT(nomad_state_snapshot_restore(t.s, read_fail, &st, &err),
		  NOMAD_EUSER);
	CHECK_CONTAINS(err.message, "read callback returned -1");
	target_check(&t, __LINE__);
	CHECK_INT(nomad_state_snapshot_restore(t.s, NULL, &st, &err),
		  NOMAD_EINVAL);

	target_free(&t);
	nmd_buf_free(&st.b);
	nomad_state_close(src);
}

NMD_TEST(test_state_snapshot__one_restore_at_a_time)
{
	nomad_state *src = open_at("src.db", 0);
	struct target t;
	struct stream st;
	char path[600];
	nomad_error err;
	int fd;

	build(src, &small, 9);
	st = save_store(src);
	target_init(&t);
	/* Another restore holds the scratch file. */
	snprintf(path, sizeof(path), "%s.restore", t.s->path);
	fd = open(path, O_RDWR | O_CREAT, 0600);
	CHECK(fd >= 0);
	CHECK_OK(flock(fd, LOCK_EX));
	CHECK_INT(restore(t.s, &st, st.b.len, &err), NOMAD_ECONFLICT);
	CHECK_CONTAINS(err.message, "another snapshot restore");
	close(fd);
	unlink(path);
	target_check(&t, __LINE__);
	/* A scratch file a crashed restore left behind is no obstacle. */
	fd = open(path, O_RDWR | O_CREAT, 0600);
	CHECK(fd >= 0);
	CHECK(write(fd, "garbage", 7) == 7);
	close(fd);
	CHECK_OK(restore(t.s, &st, st.b.len, NULL));
	CHECK(!scratch_exists(t.s));
	CHECK_INT(nomad_state_last_index(t.s), nomad_state_last_index(src));

	target_free(&t);
	nmd_buf_free(&st.b);
	nomad_state_close(src);
}

NMD_TEST(test_state_snapshot__restore_refreshes_the_scheduler_view)
{
	nomad_state *src = open_at("src.db", 300), *dst = open_at("dst.db", 50);
	nomad_state *fresh = open_at("fresh.db", 0);
	struct stream st;
	char *before, *after, *want;

	build(src, &large, 12);
	build(dst, &small, 13);
	/* dst's view is built, and kept by commits from now on. */
	before = view_text(dst);
	st = save_store(src);
	CHECK_OK(restore(dst, &st, st.b.len, NULL));
	CHECK_OK(restore(fresh, &st, st.b.len, NULL));
	after = view_text(dst);
	want = view_text(fresh); /* built from the restored tables */
	CHECK(strcmp(before, want) != 0);
	CHECK_STR(after, want);
	CHECK(strstr(want, "alloc ") != NULL);
	free(after);
	free(want);

	/* Both go on alike from there. */
	for (int i = 0; i < 2; i++) {
		rng_state = 77;
		put_allocs(i ? dst : fresh, 200000, 150, large.nodes, 10,
			   large.evals, large.deps);
	}
	after = view_text(dst);
	want = view_text(fresh);
	CHECK_STR(after, want);

	free(before);
	free(after);
	free(want);
	nmd_buf_free(&st.b);
	nomad_state_close(src);
	nomad_state_close(dst);
	nomad_state_close(fresh);
}
