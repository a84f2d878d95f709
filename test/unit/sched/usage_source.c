/* SPDX-License-Identifier: MPL-2.0 */
/*
 * What the state store's scheduler source tells the scheduler about each
 * allocation on a node, beyond cpu, memory, disk and ports: its job's
 * priority, type and migrate max_parallel (when the evaluated job may
 * preempt), and the device instances it holds (on nodes with devices).
 */
#include <stdio.h>
#include <string.h>

#include <nomad/state.h>

#include "test.h"
#include "structs/pb.h"
#include "harness.h"

struct store {
	nomad_state *s;
	uint64_t index;
};

static nomad_state_txn *txn_begin(struct store *st)
{
	nomad_state_txn *txn;
	CHECK_OK(nomad_state_txn_begin(st->s, ++st->index, &txn, NULL));
	return txn;
}

static void put_job(struct store *st, nomad_job *j)
{
	nomad_state_txn *txn = txn_begin(st);
	CHECK_OK(nomad_state_job_upsert(txn, j, NULL));
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
	nomad_job_free(j);
}

/* An allocation of `job` on `node` holding device instance `dev` (NULL:
 * none). */
static void put_alloc(struct store *st, const char *id, const char *job,
		      const char *node, const char *dev)
{
	nomad_alloc *a = nomad_alloc_new();
	nomad_state_txn *txn;
	Nomad__AllocatedResources *ar =
		nmd_pb_new(&nomad__allocated_resources__descriptor, NULL);
	Nomad__AllocatedTaskResourcesEntry *te =
		nmd_pb_new(&nomad__allocated_task_resources_entry__descriptor, NULL);
	CHECK(nmd_pb_set_string(NULL, &a->id, id));
	CHECK(nmd_pb_set_string(NULL, &a->namespace_, "default"));
	CHECK(nmd_pb_set_string(NULL, &a->jobid, job));
	CHECK(nmd_pb_set_string(NULL, &a->taskgroup, "web"));
	CHECK(nmd_pb_set_string(NULL, &a->nodeid, node));
	CHECK(nmd_pb_set_string(NULL, &a->name, "x.web[0]"));
	a->has_desiredstatus = a->has_clientstatus = 1;
	a->desiredstatus = NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run;
	a->clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__running;
	CHECK(nmd_pb_set_string(NULL, &te->key, "server"));
	te->value = nmd_pb_new(&nomad__allocated_task_resources__descriptor, NULL);
	te->value->cpu = nmd_pb_new(&nomad__allocated_cpu_resources__descriptor, NULL);
	te->value->cpu->has_cpushares = 1;
	te->value->cpu->cpushares = 100;
	te->value->memory =
		nmd_pb_new(&nomad__allocated_memory_resources__descriptor, NULL);
	if (dev) {
		Nomad__AllocatedDeviceResource *d = nmd_pb_new(
			&nomad__allocated_device_resource__descriptor, NULL);
		char *copy = NULL;
		CHECK(nmd_pb_set_string(NULL, &d->vendor, "nvidia"));
		CHECK(nmd_pb_set_string(NULL, &d->type, "gpu"));
		CHECK(nmd_pb_set_string(NULL, &d->name, "t4"));
		CHECK(nmd_pb_set_string(NULL, &copy, dev));
		CHECK(NMD_PB_APPEND(NULL, d->deviceids, d->n_deviceids, copy));
		CHECK(NMD_PB_APPEND(NULL, te->value->devices, te->value->n_devices, d));
	}
	CHECK(NMD_PB_APPEND(NULL, ar->tasks, ar->n_tasks, te));
	a->allocatedresources = ar;
	txn = txn_begin(st);
	CHECK_OK(nomad_state_allocs_upsert(txn, &a, 1, NULL));
	CHECK_OK(nomad_state_txn_commit(txn, NULL));
	nomad_alloc_free(a);
}

static const nomad_sched_usage *find(const nomad_sched_usage *const *u,
				     size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(u[i]->alloc_id, id))
			return u[i];
	return NULL;
}

NMD_TEST(test_sched_usage_source__job_facts_and_device_ids)
{
	char path[512];
	nomad_state_config cfg = NOMAD_STATE_CONFIG_INIT;
	struct store st = {NULL, 0};
	struct th_cluster *c = th_new();
	nomad_state_sched_source *src;
	const nomad_sched_state_ops *ops = nomad_state_sched_ops();
	const nomad_sched_usage *const *u;
	const nomad_sched_usage *a, *b;
	const nomad_job *job;
	nomad_node *gpu, *plain;
	uint64_t index;
	size_t n;
	snprintf(path, sizeof(path), "%s/state.db", nmd_test_tmpdir());
	cfg.path = path;
	CHECK_OK(nomad_state_open(&st.s, &cfg, NULL));
	gpu = th_add_node(c, "gpu", "dc1", 4000, 4096, 10000);
	th_add_devices(gpu, "nvidia", "gpu", "t4", 2);
	plain = th_add_node(c, "plain", "dc1", 4000, 4096, 10000);
	{
		nomad_state_txn *txn = txn_begin(&st);
		CHECK_OK(nomad_state_node_upsert(txn, gpu, NULL));
		CHECK_OK(nomad_state_node_upsert(txn, plain, NULL));
		CHECK_OK(nomad_state_txn_commit(txn, NULL));
	}
	{
		nomad_job *low = th_job("low", 1, 100, 64);
		nomad_job *agent = th_job("agent", 1, 100, 64);
		low->priority = 20;
		low->type = NOMAD__JOB_TYPE__batch;
		low->taskgroups[0]->migrate =
			nmd_pb_new(&nomad__migrate_strategy__descriptor, NULL);
		low->taskgroups[0]->migrate->has_maxparallel = 1;
		low->taskgroups[0]->migrate->maxparallel = 3;
		agent->type = NOMAD__JOB_TYPE__system;
		put_job(&st, low);
		put_job(&st, agent);
		put_job(&st, th_job("svc", 1, 100, 64));
	}
	put_alloc(&st, "aaaaaaaa-0000-4000-8000-000000000001", "low", gpu->id,
		  "gpu-t4-1");
	put_alloc(&st, "aaaaaaaa-0000-4000-8000-000000000002", "gone", gpu->id,
		  NULL);
	put_alloc(&st, "aaaaaaaa-0000-4000-8000-000000000003", "low", plain->id,
		  NULL);
	CHECK_OK(nomad_state_sched_source_new(st.s, &src, NULL));

	/* A system job may preempt (Nomad's default): the facts are there. */
	CHECK_OK(ops->begin(src, &index));
	CHECK_OK(ops->job(src, "default", "agent", &job));
	CHECK_OK(ops->node_usage(src, gpu->id, &u, &n));
	CHECK_INT(n, 2);
	a = find(u, n, "aaaaaaaa-0000-4000-8000-000000000001");
	b = find(u, n, "aaaaaaaa-0000-4000-8000-000000000002");
	CHECK(a && b);
	CHECK_INT(a->job_priority, 20);
	CHECK_INT(a->job_type, NOMAD__JOB_TYPE__batch);
	CHECK_INT(a->migrate_max_parallel, 3);
	CHECK_INT(a->n_device_ids, 1);
	CHECK_STR(a->device_ids[0], "gpu-t4-1");
	/* A job the store does not have: Nomad's default priority. */
	CHECK_INT(b->job_priority, 50);
	CHECK_INT(b->job_type, 0);
	CHECK_INT(b->n_device_ids, 0);
	/* A node without devices is not looked up for them. */
	CHECK_OK(ops->node_usage(src, plain->id, &u, &n));
	CHECK_INT(n, 1);
	CHECK_INT(u[0]->job_priority, 20);
	CHECK_INT(u[0]->n_device_ids, 0);

	/* A service job may not (by default): device IDs, no job facts. */
	CHECK_OK(ops->begin(src, &index));
	CHECK_OK(ops->job(src, "default", "svc", &job));
	CHECK_OK(ops->node_usage(src, gpu->id, &u, &n));
	a = find(u, n, "aaaaaaaa-0000-4000-8000-000000000001");
	CHECK(a != NULL);
	CHECK_INT(a->job_priority, 0);
	CHECK_INT(a->n_device_ids, 1);

	/* Unless the configuration says it may. */
	{
		nomad_scheduler_config *sc =
			nmd_pb_new(&nomad__scheduler_configuration__descriptor, NULL);
		nomad_state_txn *txn = txn_begin(&st);
		sc->preemptionconfig =
			nmd_pb_new(&nomad__preemption_config__descriptor, NULL);
		sc->preemptionconfig->has_serviceschedulerenabled = 1;
		sc->preemptionconfig->serviceschedulerenabled = true;
		CHECK_OK(nomad_state_scheduler_config_set(txn, sc, NULL));
		CHECK_OK(nomad_state_txn_commit(txn, NULL));
		nomad_msg_free(&sc->base, NULL);
	}
	CHECK_OK(ops->begin(src, &index));
	CHECK_OK(ops->job(src, "default", "svc", &job));
	CHECK_OK(ops->node_usage(src, gpu->id, &u, &n));
	a = find(u, n, "aaaaaaaa-0000-4000-8000-000000000001");
	CHECK(a != NULL);
	CHECK_INT(a->job_priority, 20);

	nomad_state_sched_source_free(src);
	nomad_state_close(st.s);
	th_free(c);
}
