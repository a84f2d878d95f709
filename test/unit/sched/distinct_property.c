/* SPDX-License-Identifier: MPL-2.0 */
/*
 * distinct_property: job- and group-level constraints, the allowed count
 * (RTarget), counts from existing allocations and from the plan's own
 * placements, stops giving a value back, and the ConstraintFiltered keys
 * Nomad writes for a full value, a missing property and a bad RTarget.
 */
#include <stdio.h>
#include <string.h>

#include "test.h"
#include "structs/pb.h"
#include "harness.h"

/* Two nodes per rack, racks r0 .. r<racks-1>, in meta.rack. */
static struct th_cluster *racks(int n_racks)
{
	struct th_cluster *c = th_new();
	for (int r = 0; r < n_racks; r++)
		for (int k = 0; k < 2; k++) {
			char name[32], rack[16];
			nomad_node *n;
			snprintf(name, sizeof(name), "r%d-n%d", r, k);
			snprintf(rack, sizeof(rack), "r%d", r);
			n = th_add_node(c, name, "dc1", 8000, 8192, 100000);
			CHECK(nmd_map_set(NULL, &n->meta, &n->n_meta, "rack", rack));
			th_node_changed(c, n);
		}
	return c;
}

static Nomad__Constraint *distinct(const char *ltarget, const char *rtarget)
{
	Nomad__Constraint *k = nmd_pb_new(&nomad__constraint__descriptor, NULL);
	CHECK(k != NULL);
	CHECK(nmd_pb_set_string(NULL, &k->ltarget, ltarget));
	CHECK(nmd_pb_set_string(NULL, &k->operand, "distinct_property"));
	if (rtarget)
		CHECK(nmd_pb_set_string(NULL, &k->rtarget, rtarget));
	return k;
}

static nomad_job *job_level(const char *id, int count, const char *rtarget)
{
	nomad_job *j = th_job(id, count, 100, 64);
	Nomad__Constraint *k = distinct("${meta.rack}", rtarget);
	CHECK(NMD_PB_APPEND(NULL, j->constraints, j->n_constraints, k));
	return j;
}

static const char *rack_of(struct th_cluster *c, const nomad_alloc *a)
{
	for (size_t k = 0; k < c->n_nodes; k++)
		if (!strcmp(c->nodes[k]->id, a->nodeid))
			for (size_t m = 0; m < c->nodes[k]->n_meta; m++)
				if (!strcmp(c->nodes[k]->meta[m]->key, "rack"))
					return c->nodes[k]->meta[m]->value;
	return "";
}

/* Live allocations of `job` (and group `tg`, NULL: any) in `rack`. */
static size_t in_rack(struct th_cluster *c, const char *job, const char *tg,
		      const char *rack)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n_allocs; i++) {
		const nomad_alloc *a = c->allocs[i];
		if (strcmp(a->jobid, job) || (tg && strcmp(a->taskgroup, tg)) ||
		    a->desiredstatus != NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run)
			continue;
		n += !strcmp(rack_of(c, a), rack);
	}
	return n;
}

NMD_TEST(test_sched_distinct_property__one_per_value)
{
	struct th_cluster *c = racks(3);
	th_register(c, job_level("web", 3, NULL));
	th_run_ok(c, "web", 1);
	CHECK_INT(th_running(c, "web"), 3);
	CHECK_INT(in_rack(c, "web", NULL, "r0"), 1);
	CHECK_INT(in_rack(c, "web", NULL, "r1"), 1);
	CHECK_INT(in_rack(c, "web", NULL, "r2"), 1);
	CHECK_INT(c->n_created, 0);
	th_free(c);
}

NMD_TEST(test_sched_distinct_property__full_values_are_filtered)
{
	struct th_cluster *c = racks(3);
	const Nomad__AllocationMetric *m;
	char key[128];
	int64_t total = 0;
	th_register(c, job_level("web", 4, NULL));
	th_run_ok(c, "web", 2);
	CHECK_INT(th_running(c, "web"), 3);
	m = th_failed_metric(th_last_update(c), "web");
	CHECK(m != NULL);
	/* Every node was looked at and filtered: its rack is in use. */
	CHECK_INT(m->nodesfiltered, 6);
	for (int r = 0; r < 3; r++) {
		snprintf(key, sizeof(key),
			 "distinct_property: ${meta.rack}=r%d used by 1 allocs", r);
		CHECK_INT(th_entry(m->constraintfiltered, m->n_constraintfiltered,
				    key), 2);
		total += 2;
	}
	CHECK_INT(total, 6);
	CHECK_INT(c->n_created, 1); /* blocked */
	th_free(c);
}

NMD_TEST(test_sched_distinct_property__rtarget_is_the_count)
{
	struct th_cluster *c = racks(3);
	const Nomad__AllocationMetric *m;
	th_register(c, job_level("web", 7, "2"));
	th_run_ok(c, "web", 3);
	CHECK_INT(th_running(c, "web"), 6);
	for (int r = 0; r < 3; r++) {
		char rack[16];
		snprintf(rack, sizeof(rack), "r%d", r);
		CHECK_INT(in_rack(c, "web", NULL, rack), 2);
	}
	m = th_failed_metric(th_last_update(c), "web");
	CHECK(m != NULL);
	CHECK_INT(th_entry(m->constraintfiltered, m->n_constraintfiltered,
			    "distinct_property: ${meta.rack}=r1 used by 2 allocs"),
		  2);
	th_free(c);
}

NMD_TEST(test_sched_distinct_property__existing_allocations_count)
{
	struct th_cluster *c = racks(3);
	nomad_job *j = job_level("web", 2, NULL);
	th_register(c, j);
	th_run_ok(c, "web", 4);
	CHECK_INT(th_running(c, "web"), 2);
	/* Scaled to 3: the new one must go to the rack the first two left. */
	j = job_level("web", 3, NULL);
	th_register(c, j);
	th_run_ok(c, "web", 5);
	CHECK_INT(th_running(c, "web"), 3);
	CHECK_INT(in_rack(c, "web", NULL, "r0"), 1);
	CHECK_INT(in_rack(c, "web", NULL, "r1"), 1);
	CHECK_INT(in_rack(c, "web", NULL, "r2"), 1);
	/* And to 4: nowhere left. */
	j = job_level("web", 4, NULL);
	th_register(c, j);
	th_run_ok(c, "web", 6);
	CHECK_INT(th_running(c, "web"), 3);
	CHECK(th_failed_metric(th_last_update(c), "web") != NULL);
	th_free(c);
}

NMD_TEST(test_sched_distinct_property__missing_property_filters)
{
	struct th_cluster *c = racks(1);
	const Nomad__AllocationMetric *m;
	th_add_node(c, "bare-0", "dc1", 8000, 8192, 100000);
	th_add_node(c, "bare-1", "dc1", 8000, 8192, 100000);
	th_register(c, job_level("web", 2, NULL));
	th_run_ok(c, "web", 7);
	CHECK_INT(th_running(c, "web"), 1);
	CHECK_INT(in_rack(c, "web", NULL, "r0"), 1);
	m = th_failed_metric(th_last_update(c), "web");
	CHECK(m != NULL);
	CHECK_INT(th_entry(m->constraintfiltered, m->n_constraintfiltered,
			    "missing property \"${meta.rack}\""), 2);
	th_free(c);
}

NMD_TEST(test_sched_distinct_property__bad_rtarget_filters_every_node)
{
	struct th_cluster *c = racks(2);
	const Nomad__AllocationMetric *m;
	th_register(c, job_level("web", 1, "two"));
	th_run_ok(c, "web", 8);
	CHECK_INT(th_running(c, "web"), 0);
	m = th_failed_metric(th_last_update(c), "web");
	CHECK(m != NULL);
	CHECK_INT(m->nodesfiltered, 4);
	CHECK_INT(th_entry(m->constraintfiltered, m->n_constraintfiltered,
			    "failed to convert RTarget \"two\" to uint64: "
			    "strconv.ParseUint: parsing \"two\": invalid syntax"),
		  4);
	th_free(c);
}

/* A second group "api" like the first. */
static void add_group(nomad_job *j, const char *name, int count)
{
	nomad_task_group *tg = NULL;
	CHECK_OK(nomad_msg_copy((ProtobufCMessage **)&tg,
				&j->taskgroups[0]->base, NULL));
	CHECK(nmd_pb_set_string(NULL, &tg->name, name));
	tg->count = count;
	for (size_t i = 0; i < tg->n_constraints; i++)
		nmd_pb_free(tg->constraints[i], NULL);
	tg->n_constraints = 0;
	CHECK(NMD_PB_APPEND(NULL, j->taskgroups, j->n_taskgroups, tg));
}

NMD_TEST(test_sched_distinct_property__group_level_counts_its_group)
{
	struct th_cluster *c = racks(3);
	nomad_job *j = th_job("app", 3, 100, 64);
	add_group(j, "api", 3);
	for (size_t g = 0; g < 2; g++) {
		Nomad__Constraint *k = distinct("${meta.rack}", NULL);
		CHECK(NMD_PB_APPEND(NULL, j->taskgroups[g]->constraints,
				    j->taskgroups[g]->n_constraints, k));
	}
	th_register(c, j);
	th_run_ok(c, "app", 9);
	/* Each group once per rack; the two groups do not see each other. */
	CHECK_INT(th_running(c, "app"), 6);
	for (int r = 0; r < 3; r++) {
		char rack[16];
		snprintf(rack, sizeof(rack), "r%d", r);
		CHECK_INT(in_rack(c, "app", "web", rack), 1);
		CHECK_INT(in_rack(c, "app", "api", rack), 1);
	}
	th_free(c);
}

NMD_TEST(test_sched_distinct_property__job_level_counts_every_group)
{
	struct th_cluster *c = racks(3);
	nomad_job *j = job_level("app", 2, NULL);
	add_group(j, "api", 2);
	th_register(c, j);
	th_run_ok(c, "app", 10);
	/* Four allocations, three racks: one group member is left over. */
	CHECK_INT(th_running(c, "app"), 3);
	CHECK_INT(in_rack(c, "app", NULL, "r0"), 1);
	CHECK_INT(in_rack(c, "app", NULL, "r1"), 1);
	CHECK_INT(in_rack(c, "app", NULL, "r2"), 1);
	CHECK(th_failed_metric(th_last_update(c), "api") != NULL);
	th_free(c);
}

NMD_TEST(test_sched_distinct_property__stopped_allocation_frees_its_value)
{
	struct th_cluster *c = racks(3);
	nomad_alloc *a;
	nomad_node *n = NULL;
	char rack[16];
	th_register(c, job_level("web", 3, NULL));
	th_run_ok(c, "web", 11);
	CHECK_INT(th_running(c, "web"), 3);
	/* Drain the node of web[0]: its replacement may only go to the
	 * other node of the same rack, which the migration frees. */
	a = th_alloc_named(c, "web.web[0]");
	CHECK(a != NULL);
	snprintf(rack, sizeof(rack), "%s", rack_of(c, a));
	for (size_t k = 0; k < c->n_nodes; k++)
		if (!strcmp(c->nodes[k]->id, a->nodeid))
			n = c->nodes[k];
	n->drainstrategy = nmd_pb_new(&nomad__drain_strategy__descriptor, NULL);
	n->has_schedulingeligibility = 1;
	n->schedulingeligibility = NOMAD__NODE__ELIGIBILITY_KIND__ineligible;
	th_node_changed(c, n);
	/* As the drainer marks it. */
	a->desiredtransition =
		nmd_pb_new(&nomad__desired_transition__descriptor, NULL);
	a->desiredtransition->has_migrate = a->desiredtransition->migrate = 1;
	th_run_ok(c, "web", 12);
	CHECK_INT(th_running(c, "web"), 3);
	CHECK_INT(th_running_on(c, "web", n->id), 0);
	CHECK_INT(in_rack(c, "web", NULL, rack), 1);
	th_free(c);
}

NMD_TEST(test_sched_distinct_property__system_job_replaced_in_place)
{
	struct th_cluster *c = racks(2);
	nomad_job *j = job_level("agent", 1, NULL);
	char before[2][64];
	j->type = NOMAD__JOB_TYPE__system;
	th_register(c, j);
	th_run_ok(c, "agent", 13);
	/* One per rack: the second node of each is filtered. */
	CHECK_INT(th_running(c, "agent"), 2);
	CHECK_INT(in_rack(c, "agent", NULL, "r0"), 1);
	CHECK_INT(in_rack(c, "agent", NULL, "r1"), 1);
	for (size_t i = 0, k = 0; i < c->n_allocs; i++)
		snprintf(before[k++], sizeof(before[0]), "%s", c->allocs[i]->nodeid);
	/* A destructive update stops each and places it again on its node:
	 * the stop gives the rack back first. */
	j = job_level("agent", 1, NULL);
	j->type = NOMAD__JOB_TYPE__system;
	j->taskgroups[0]->tasks[0]->resources->cpu = 200;
	th_register(c, j);
	th_run_ok(c, "agent", 14);
	CHECK_INT(th_running(c, "agent"), 2);
	CHECK_INT(th_running_on(c, "agent", before[0]), 1);
	CHECK_INT(th_running_on(c, "agent", before[1]), 1);
	CHECK_INT(in_rack(c, "agent", NULL, "r0"), 1);
	CHECK_INT(in_rack(c, "agent", NULL, "r1"), 1);
	th_free(c);
}

NMD_TEST(test_sched_distinct_property__failed_replacement_keeps_its_value)
{
	/* Group a's new version fits nowhere, so its stop is taken back and
	 * it keeps rack r0: group b, new, finds the rack used. */
	struct th_cluster *c = racks(1);
	nomad_job *j = job_level("app", 1, NULL);
	const Nomad__AllocationMetric *m;
	CHECK(nmd_pb_set_string(NULL, &j->taskgroups[0]->name, "a"));
	th_register(c, j);
	th_run_ok(c, "app", 15);
	CHECK_INT(th_running(c, "app"), 1);
	j = job_level("app", 1, NULL);
	CHECK(nmd_pb_set_string(NULL, &j->taskgroups[0]->name, "a"));
	add_group(j, "b", 1);
	j->taskgroups[0]->tasks[0]->resources->cpu = 9000;
	th_register(c, j);
	th_run_ok(c, "app", 16);
	CHECK(th_alloc_named(c, "app.a[0]") != NULL);
	CHECK(th_alloc_named(c, "app.b[0]") == NULL);
	m = th_failed_metric(th_last_update(c), "b");
	CHECK(m != NULL);
	CHECK_INT(th_entry(m->constraintfiltered, m->n_constraintfiltered,
			    "distinct_property: ${meta.rack}=r0 used by 1 allocs"),
		  2);
	th_free(c);
}
