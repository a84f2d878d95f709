/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Job summaries over a long random sequence of placements, client status
 * changes and garbage collection, checked after every commit against a
 * plain in-memory model of what Nomad's updateSummaryWithAlloc counts.
 */
#include <nomad/state.h>

#include "test.h"
#include "structs/pb.h"

enum { JOBS = 3, GROUPS = 2, ALLOCS = 60, STEPS = 600 };

/* The model: per job and group, the count in each client status bucket
 * (pending = Starting, running, complete, failed, lost, unknown). */
struct model {
	int bucket[JOBS][GROUPS][7];
	int status[ALLOCS];   /* client status, 0: not placed */
	bool gone[ALLOCS];    /* garbage collected: never placed again */
};

static const char *job_name(unsigned j)
{
	static const char *const names[JOBS] = {"api", "web", "batch"};
	return names[j];
}

static const char *group_name(unsigned g)
{
	return g ? "workers" : "front";
}

static const char *uuid(unsigned n)
{
	static char buf[NOMAD_UUID_LEN + 1];
	snprintf(buf, sizeof(buf), "a%07x-0000-4000-8000-%012x", n, n);
	return buf;
}

static nomad_job *make_job(unsigned j)
{
	nomad_job *job = nomad_job_new();
	CHECK(nmd_pb_set_string(NULL, &job->id, job_name(j)));
	CHECK(nmd_pb_set_string(NULL, &job->namespace_, "default"));
	for (unsigned g = 0; g < GROUPS; g++) {
		Nomad__TaskGroup *tg = nmd_pb_new(&nomad__task_group__descriptor, NULL);
		CHECK(nmd_pb_set_string(NULL, &tg->name, group_name(g)));
		CHECK(NMD_PB_APPEND(NULL, job->taskgroups, job->n_taskgroups, tg));
	}
	return job;
}

static nomad_alloc *make_alloc(unsigned n, int client)
{
	nomad_alloc *a = nomad_alloc_new();
	CHECK(nmd_pb_set_string(NULL, &a->id, uuid(n)));
	CHECK(nmd_pb_set_string(NULL, &a->nodeid, "0d000000-0000-4000-8000-000000000001"));
	CHECK(nmd_pb_set_string(NULL, &a->jobid, job_name(n % JOBS)));
	CHECK(nmd_pb_set_string(NULL, &a->taskgroup, group_name((n / JOBS) % GROUPS)));
	a->has_clientstatus = 1;
	a->clientstatus = client;
	return a;
}

static void check_against_model(nomad_state *s, const struct model *m)
{
	nomad_state_snap *snap;
	CHECK_OK(nomad_state_snapshot(s, &snap, NULL));
	for (unsigned j = 0; j < JOBS; j++) {
		nomad_job_summary *sum;
		CHECK_OK(nomad_state_job_summary_get(snap, "default", job_name(j), &sum));
		CHECK_INT(sum->n_summary, GROUPS);
		for (size_t k = 0; k < sum->n_summary; k++) {
			const Nomad__TaskGroupSummary *t = sum->summary[k]->value;
			unsigned g = strcmp(sum->summary[k]->key, "front") ? 1 : 0;
			const int *b = m->bucket[j][g];
			CHECK_INT(t->starting, b[NOMAD__ALLOCATION__CLIENT_STATUS_KIND__pending]);
			CHECK_INT(t->running, b[NOMAD__ALLOCATION__CLIENT_STATUS_KIND__running]);
			CHECK_INT(t->complete, b[NOMAD__ALLOCATION__CLIENT_STATUS_KIND__complete]);
			CHECK_INT(t->failed, b[NOMAD__ALLOCATION__CLIENT_STATUS_KIND__failed]);
			CHECK_INT(t->lost, b[NOMAD__ALLOCATION__CLIENT_STATUS_KIND__lost]);
			CHECK_INT(t->unknown, b[NOMAD__ALLOCATION__CLIENT_STATUS_KIND__unknown]);
		}
		nomad_job_summary_free(sum);
	}
	nomad_state_snap_close(snap);
}

NMD_TEST(test_state_summary_model__random_sequence_matches_model)
{
	char path[512];
	nomad_state_config cfg = NOMAD_STATE_CONFIG_INIT;
	nomad_state *s;
	nomad_state_txn *txn;
	struct model m;
	uint64_t seed = 99, index = 1;
	memset(&m, 0, sizeof(m));
	snprintf(path, sizeof(path), "%s/state.db", nmd_test_tmpdir());
	cfg.path = path;
	cfg.hot_allocs_max = 25; /* some allocations move to the cold table */
	CHECK_OK(nomad_state_open(&s, &cfg, NULL));
	CHECK_OK(nomad_state_txn_begin(s, index++, &txn, NULL));
	for (unsigned j = 0; j < JOBS; j++) {
		nomad_job *job = make_job(j);
		CHECK_OK(nomad_state_job_upsert(txn, job, NULL));
		nomad_job_free(job);
	}
	CHECK_OK(nomad_state_txn_commit(txn, NULL));

	for (unsigned step = 0; step < STEPS; step++) {
		unsigned n, j, g;
		int to;
		nomad_alloc *a;
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		n = (unsigned)(seed >> 33) % ALLOCS;
		to = 1 + (int)((seed >> 20) % 6); /* pending .. unknown */
		j = n % JOBS;
		g = (n / JOBS) % GROUPS;
		if (m.gone[n])
			continue;
		CHECK_OK(nomad_state_txn_begin(s, index++, &txn, NULL));
		if (!m.status[n]) {
			/* Placed by the scheduler, as pending. */
			a = make_alloc(n, NOMAD__ALLOCATION__CLIENT_STATUS_KIND__pending);
			CHECK_OK(nomad_state_allocs_upsert(txn, &a, 1, NULL));
			nomad_alloc_free(a);
			m.status[n] = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__pending;
			m.bucket[j][g][m.status[n]]++;
		} else if ((seed >> 40) % 8 == 0) {
			/* Garbage collected: the counts stay, as in Nomad. */
			const char *id = uuid(n);
			CHECK_OK(nomad_state_evals_delete(txn, NULL, 0, &id, 1, NULL));
			m.gone[n] = true;
		} else {
			/* The client reports a new status. */
			a = make_alloc(n, to);
			CHECK_OK(nomad_state_allocs_client_update(txn, &a, 1, NULL));
			nomad_alloc_free(a);
			m.bucket[j][g][m.status[n]]--;
			m.bucket[j][g][to]++;
			m.status[n] = to;
		}
		CHECK_OK(nomad_state_txn_commit(txn, NULL));
		if (step % 50 == 0)
			check_against_model(s, &m);
	}
	check_against_model(s, &m);
	nomad_state_close(s);
	/* And after a reopen. */
	CHECK_OK(nomad_state_open(&s, &cfg, NULL));
	check_against_model(s, &m);
	nomad_state_close(s);
}
