/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The scheduler view: capacity and usage per node, the allocations on a
 * node, kept current by commits (and not by aborted transactions), and a
 * long random sequence of writes after which the incrementally maintained
 * view equals one rebuilt from the tables.
 */
#include <nomad/state.h>

#include "test.h"
#include "fixtures.h"
#include "structs/pb.h"

static nomad_state *open_store(const char *name, unsigned hot_max)
{
	nomad_state_config cfg = NOMAD_STATE_CONFIG_INIT;
	cfg.hot_allocs_max = hot_max;
	return sf_open_at(name, &cfg);
}

static nomad_node *node(unsigned n)
{
	nomad_node *nd = nomad_node_new();
	Nomad__NodeResources *r = nmd_pb_new(&nomad__node_resources__descriptor, NULL);
	CHECK(nmd_pb_set_string(NULL, &nd->id, sf_uuid('d', n)));
	CHECK(nmd_pb_set_string(NULL, &nd->name, "n"));
	CHECK(nmd_pb_set_string(NULL, &nd->datacenter, "dc1"));
	r->cpu = nmd_pb_new(&nomad__node_cpu_resources__descriptor, NULL);
	r->cpu->has_cpushares = 1;
	r->cpu->cpushares = 4000;
	r->memory = nmd_pb_new(&nomad__node_memory_resources__descriptor, NULL);
	r->memory->has_memorymb = 1;
	r->memory->memorymb = 8192;
	r->disk = nmd_pb_new(&nomad__node_disk_resources__descriptor, NULL);
	r->disk->has_diskmb = 1;
	r->disk->diskmb = 100000;
	nd->noderesources = r;
	nd->reservedresources = nmd_pb_new(&nomad__node_reserved_resources__descriptor, NULL);
	nd->reservedresources->cpu = nmd_pb_new(&nomad__node_reserved_cpu_resources__descriptor, NULL);
	nd->reservedresources->cpu->has_cpushares = 1;
	nd->reservedresources->cpu->cpushares = 100;
	return nd;
}

static nomad_alloc *alloc(unsigned n, unsigned nd, int cpu, int port)
{
	nomad_alloc *a = nomad_alloc_new();
	Nomad__AllocatedResources *ar = nmd_pb_new(&nomad__allocated_resources__descriptor, NULL);
	Nomad__AllocatedTaskResourcesEntry *te =
		nmd_pb_new(&nomad__allocated_task_resources_entry__descriptor, NULL);
	CHECK(nmd_pb_set_string(NULL, &a->id, sf_uuid('a', n)));
	CHECK(nmd_pb_set_string(NULL, &a->nodeid, sf_uuid('d', nd)));
	CHECK(nmd_pb_set_string(NULL, &a->jobid, "web"));
	CHECK(nmd_pb_set_string(NULL, &a->taskgroup, "g"));
	a->has_desiredstatus = a->has_clientstatus = 1;
	a->desiredstatus = NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run;
	a->clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__pending;
	CHECK(nmd_pb_set_string(NULL, &te->key, "t"));
	te->value = nmd_pb_new(&nomad__allocated_task_resources__descriptor, NULL);
	te->value->cpu = nmd_pb_new(&nomad__allocated_cpu_resources__descriptor, NULL);
	te->value->cpu->has_cpushares = 1;
	te->value->cpu->cpushares = cpu;
	te->value->memory = nmd_pb_new(&nomad__allocated_memory_resources__descriptor, NULL);
	te->value->memory->has_memorymb = 1;
	te->value->memory->memorymb = cpu / 2;
	CHECK(NMD_PB_APPEND(NULL, ar->tasks, ar->n_tasks, te));
	ar->shared = nmd_pb_new(&nomad__allocated_shared_resources__descriptor, NULL);
	ar->shared->has_diskmb = 1;
	ar->shared->diskmb = 10;
	if (port) {
		Nomad__AllocatedPortMapping *p =
			nmd_pb_new(&nomad__allocated_port_mapping__descriptor, NULL);
		CHECK(nmd_pb_set_string(NULL, &p->label, "http"));
		p->has_value = 1;
		p->value = port;
		CHECK(NMD_PB_APPEND(NULL, ar->shared->ports, ar->shared->n_ports, p));
	}
	a->allocatedresources = ar;
	return a;
}

typedef nomad_err (*write_fn)(nomad_state_txn *txn, void *arg);

static void write_at(nomad_state *s, uint64_t index, write_fn fn, void *arg,
		     bool commit)
{
	nomad_state_txn *txn;
	nomad_error err;
	CHECK_OK(nomad_state_txn_begin(s, index, &txn, &err));
	if (fn(txn, arg))
		nmd_test_fail(__FILE__, __LINE__, "write failed");
	if (commit)
		CHECK_OK(nomad_state_txn_commit(txn, &err));
	else
		nomad_state_txn_abort(txn);
}

static nomad_err put_node(nomad_state_txn *txn, void *arg)
{
	return nomad_state_node_upsert(txn, arg, NULL);
}

static nomad_err put_alloc(nomad_state_txn *txn, void *arg)
{
	nomad_alloc *a = arg;
	return nomad_state_allocs_upsert(txn, &a, 1, NULL);
}

static nomad_err client_update(nomad_state_txn *txn, void *arg)
{
	nomad_alloc *a = arg;
	return nomad_state_allocs_client_update(txn, &a, 1, NULL);
}

static nomad_err gc_alloc(nomad_state_txn *txn, void *arg)
{
	const char *id = arg;
	return nomad_state_evals_delete(txn, NULL, 0, &id, 1, NULL);
}

static int copy_node(const nomad_state_view_node *n, void *ud)
{
	*(nomad_state_view_node *)ud = *n;
	((nomad_state_view_node *)ud)->node = NULL; /* borrowed: drop */
	((nomad_state_view_node *)ud)->ports_used = NULL;
	return 0;
}

static nomad_state_view_node get(nomad_state *s, unsigned nd)
{
	nomad_state_view_node v;
	memset(&v, 0, sizeof(v));
	CHECK_OK(nomad_state_view_node_get(s, sf_uuid('d', nd), copy_node, &v, NULL));
	return v;
}

NMD_TEST(test_state_view__capacity_usage_and_allocs)
{
	nomad_state *s = open_store("v.db", 0);
	nomad_node *n1 = node(1);
	nomad_alloc *a1 = alloc(1, 1, 500, 20001), *a2 = alloc(2, 1, 300, 0);
	nomad_state_view_node v;
	write_at(s, 1, put_node, n1, true);
	write_at(s, 2, put_alloc, a1, true); /* before the view exists */
	v = get(s, 1);                        /* builds it */
	CHECK_INT(v.cpu_mhz, 3900);
	CHECK_INT(v.memory_mb, 8192);
	CHECK_INT(v.cpu_used_mhz, 500);
	CHECK_INT(v.memory_used_mb, 250);
	CHECK_INT(v.disk_used_mb, 10);
	CHECK_INT(v.n_allocs, 1);
	CHECK_INT(v.n_ports_used, 1);
	CHECK(v.eligible);
	CHECK_INT(nomad_state_view_index(s), 2);

	write_at(s, 3, put_alloc, a2, true); /* applied by the commit */
	v = get(s, 1);
	CHECK_INT(v.cpu_used_mhz, 800);
	CHECK_INT(v.n_allocs, 2);

	/* An aborted write changes nothing. */
	{
		nomad_alloc *a3 = alloc(3, 1, 1000, 0);
		write_at(s, 4, put_alloc, a3, false);
		nomad_alloc_free(a3);
	}
	CHECK_INT(get(s, 1).cpu_used_mhz, 800);

	/* Terminal allocations stop counting; GC removes them. */
	a1->clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__complete;
	write_at(s, 5, client_update, a1, true);
	v = get(s, 1);
	CHECK_INT(v.cpu_used_mhz, 300);
	CHECK_INT(v.n_ports_used, 0);
	write_at(s, 6, gc_alloc, (void *)sf_uuid('a', 2), true);
	v = get(s, 1);
	CHECK_INT(v.cpu_used_mhz, 0);
	CHECK_INT(v.n_allocs, 0);
	CHECK_INT(nomad_state_view_node_get(s, sf_uuid('d', 9), copy_node, &v, NULL),
		  NOMAD_ENOTFOUND);
	nomad_node_free(n1);
	nomad_alloc_free(a1);
	nomad_alloc_free(a2);
	nomad_state_close(s);
}

struct sums {
	long cpu, n;
};

static int sum_allocs(const nomad_state_view_alloc *a, void *ud)
{
	struct sums *t = ud;
	CHECK_STR(a->job_id, "web");
	CHECK_STR(a->ns, "default");
	CHECK_STR(a->task_group, "g");
	t->cpu += a->cpu_mhz;
	t->n++;
	return 0;
}

/* Per node: (n_allocs, cpu used, memory used, ports used). */
static void fingerprint(nomad_state *s, unsigned nodes, long out[][4])
{
	for (unsigned i = 0; i < nodes; i++) {
		nomad_state_view_node v = get(s, i);
		struct sums t = {0, 0};
		CHECK_OK(nomad_state_view_node_allocs(s, sf_uuid('d', i), sum_allocs,
						      &t, NULL));
		CHECK_INT(t.n, (long)v.n_allocs);
		CHECK_INT(t.cpu, v.cpu_used_mhz);
		out[i][0] = (long)v.n_allocs;
		out[i][1] = (long)v.cpu_used_mhz;
		out[i][2] = (long)v.memory_used_mb;
		out[i][3] = (long)v.n_ports_used;
	}
}

NMD_TEST(test_state_view__random_writes_match_a_rebuilt_view)
{
	enum { NODES = 6, ALLOCS = 80, STEPS = 400 };
	nomad_state *s = open_store("r.db", 16);
	long live[NODES][4], rebuilt[NODES][4];
	uint64_t index = 1, seed = 7;
	for (unsigned i = 0; i < NODES; i++) {
		nomad_node *n = node(i);
		write_at(s, index++, put_node, n, true);
		nomad_node_free(n);
	}
	(void)get(s, 0); /* build the view now: all later writes are deltas */
	for (unsigned step = 0; step < STEPS; step++) {
		unsigned id, op;
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		id = (unsigned)(seed >> 33) % ALLOCS;
		op = (unsigned)(seed >> 20) % 4;
		nomad_alloc *a = alloc(id, id % NODES, 100 + (int)(id * 10),
				       id % 3 ? 21000 + (int)id : 0);
		if (op == 0 || op == 1) {
			write_at(s, index++, put_alloc, a, op == 0 || step % 7);
		} else if (op == 2) {
			a->clientstatus = step % 2
				? NOMAD__ALLOCATION__CLIENT_STATUS_KIND__running
				: NOMAD__ALLOCATION__CLIENT_STATUS_KIND__failed;
			write_at(s, index++, client_update, a, true);
		} else {
			write_at(s, index++, gc_alloc, (void *)sf_uuid('a', id), true);
		}
		nomad_alloc_free(a);
	}
	fingerprint(s, NODES, live);
	nomad_state_close(s);
	s = open_store("r.db", 16); /* its view is built from the tables */
	fingerprint(s, NODES, rebuilt);
	for (unsigned i = 0; i < NODES; i++)
		for (unsigned k = 0; k < 4; k++)
			CHECK_INT(live[i][k], rebuilt[i][k]);
	nomad_state_close(s);
}
