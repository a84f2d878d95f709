/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Feasibility scenarios over the harness, each asserting the plan: which
 * nodes a job may use (datacenter globs, node pools, status, eligibility,
 * drain, drivers), every constraint operand at job, group and task level
 * over attribute, node and meta targets, the computed-class cache and a
 * constraint on a unique.* value escaping it, static and dynamic ports,
 * and what a placement that fails reports (its AllocationMetric and the
 * blocked evaluation's class eligibility).
 */
#include <string.h>

#include "test.h"
#include "structs/pb.h"
#include "harness.h"

static Nomad__Constraint *constraint(const char *l, const char *op,
				     const char *r)
{
	Nomad__Constraint *k = nmd_pb_new(&nomad__constraint__descriptor, NULL);
	CHECK(k != NULL);
	if (l)
		CHECK(nmd_pb_set_string(NULL, &k->ltarget, l));
	CHECK(nmd_pb_set_string(NULL, &k->operand, op));
	if (r)
		CHECK(nmd_pb_set_string(NULL, &k->rtarget, r));
	return k;
}

enum level { JOB, GROUP, TASK };

/* Add a constraint to the job, its first group or that group's first
 * task. */
static void constrain(nomad_job *j, enum level at, const char *l,
		      const char *op, const char *r)
{
	Nomad__Constraint *k = constraint(l, op, r);
	nomad_task_group *tg = j->taskgroups[0];
	nomad_task *t = tg->tasks[0];
	switch (at) {
	case JOB:
		CHECK(NMD_PB_APPEND(NULL, j->constraints, j->n_constraints, k));
		break;
	case GROUP:
		CHECK(NMD_PB_APPEND(NULL, tg->constraints, tg->n_constraints, k));
		break;
	case TASK:
		CHECK(NMD_PB_APPEND(NULL, t->constraints, t->n_constraints, k));
		break;
	}
}

static void set_meta(nomad_node *n, const char *k, const char *v)
{
	CHECK(nmd_map_set(NULL, &n->meta, &n->n_meta, k, v));
}

static void add_dc(nomad_job *j, const char *dc)
{
	char *s = NULL;
	CHECK(nmd_pb_set_string(NULL, &s, dc));
	CHECK(NMD_PB_APPEND(NULL, j->datacenters, j->n_datacenters, s));
}

static size_t on(struct th_cluster *c, const char *job, const nomad_node *n)
{
	return th_running_on(c, job, n->id);
}

/* The first key of `list` starting with `prefix`, or NULL. */
static const char *key_with(Nomad__IntEntry *const *list, size_t n,
			    const char *prefix)
{
	for (size_t i = 0; i < n; i++)
		if (!strncmp(list[i]->key, prefix, strlen(prefix)))
			return list[i]->key;
	return NULL;
}

/* Distinct hosts at job level: each node takes at most one allocation,
 * so the nodes used are exactly the feasible ones. */
static void one_per_node(nomad_job *j)
{
	Nomad__Constraint *k = constraint(NULL, "distinct_hosts", NULL);
	CHECK(NMD_PB_APPEND(NULL, j->constraints, j->n_constraints, k));
}

/* The nodes running `job`, as a bit mask by node index. */
static unsigned used_mask(struct th_cluster *c, const char *job)
{
	unsigned m = 0;
	for (size_t k = 0; k < c->n_nodes; k++)
		if (on(c, job, c->nodes[k]))
			m |= 1u << k;
	return m;
}

/* ---- which nodes a job may use ------------------------------------------ */

NMD_TEST(test_sched_scenarios_feasibility__datacenter_globs_and_lists)
{
	struct th_cluster *c = th_new();
	nomad_job *j = th_job("web", 4, 100, 100);
	th_add_node(c, "a", "us-east-1", 4000, 4096, 10000);
	th_add_node(c, "b", "us-east-12", 4000, 4096, 10000);
	th_add_node(c, "c", "eu-west", 4000, 4096, 10000);
	th_add_node(c, "d", "ap-south", 4000, 4096, 10000);
	/* "?" is one character; a list takes the union. */
	CHECK(nmd_pb_set_string(NULL, &j->datacenters[0], "us-east-?"));
	add_dc(j, "eu-*");
	one_per_node(j);
	th_register(c, j);
	th_run_ok(c, "web", 7);
	CHECK_INT(used_mask(c, "web"), 0x5);
	/* Placements that found no node: the group failed, not the eval. */
	CHECK_INT(th_last_update(c)->status,
		  NOMAD__EVALUATION__STATUS_KIND__complete);
	CHECK(th_failed_metric(th_last_update(c), "web") != NULL);
	th_free(c);
}

NMD_TEST(test_sched_scenarios_feasibility__star_and_no_datacenters_take_all)
{
	struct th_cluster *c = th_new();
	nomad_job *j = th_job("star", 3, 100, 100), *k;
	th_add_node(c, "a", "dc1", 4000, 4096, 10000);
	th_add_node(c, "b", "dc2", 4000, 4096, 10000);
	th_add_node(c, "c", "edge", 4000, 4096, 10000);
	CHECK(nmd_pb_set_string(NULL, &j->datacenters[0], "*"));
	one_per_node(j);
	th_register(c, j);
	th_run_ok(c, "star", 7);
	CHECK_INT(used_mask(c, "star"), 0x7);
	/* No datacenters at all reads as Nomad's default, "*". */
	k = th_job("none", 3, 100, 100);
	free(k->datacenters[0]);
	free(k->datacenters);
	k->datacenters = NULL;
	k->n_datacenters = 0;
	one_per_node(k);
	th_register(c, k);
	th_run_ok(c, "none", 7);
	CHECK_INT(used_mask(c, "none"), 0x7);
	th_free(c);
}

NMD_TEST(test_sched_scenarios_feasibility__pool_without_nodes_blocks)
{
	struct th_cluster *c = th_new();
	nomad_job *j = th_job("gpu-job", 2, 100, 100);
	const nomad_eval *done;
	const Nomad__AllocationMetric *m;
	th_add_node(c, "a", "dc1", 4000, 4096, 10000);
	CHECK(nmd_pb_set_string(NULL, &j->nodepool, "gpu"));
	th_register(c, j);
	th_run_ok(c, "gpu-job", 7);
	CHECK_INT(th_running(c, "gpu-job"), 0);
	CHECK_INT(c->n_plans, 0); /* nothing to submit */
	done = th_last_update(c);
	CHECK_INT(done->status, NOMAD__EVALUATION__STATUS_KIND__complete);
	m = th_failed_metric(done, "web");
	CHECK(m != NULL);
	CHECK_INT(m->nodesevaluated, 0);
	CHECK_INT(m->coalescedfailures, 1);
	CHECK_INT(done->queuedallocations[0]->value, 2);
	CHECK_INT(c->n_created, 1);
	CHECK_INT(c->created[0]->status, NOMAD__EVALUATION__STATUS_KIND__blocked);
	/* A node joins the pool: the blocked evaluation places both. */
	{
		nomad_node *g = th_add_node(c, "g", "dc1", 4000, 4096, 10000);
		nomad_eval *b = NULL;
		nomad_error err;
		CHECK(nmd_pb_set_string(NULL, &g->nodepool, "gpu"));
		th_node_changed(c, g);
		CHECK_OK(nomad_eval_copy(&b, c->created[0]));
		CHECK_OK(th_run_eval(c, b, 3, &err));
		nomad_eval_free(b);
		CHECK_INT(on(c, "gpu-job", g), 2);
	}
	th_free(c);
}

NMD_TEST(test_sched_scenarios_feasibility__only_ready_nodes)
{
	struct th_cluster *c = th_new();
	nomad_node *init = th_add_node(c, "init", "dc1", 4000, 4096, 10000);
	nomad_node *down = th_add_node(c, "down", "dc1", 4000, 4096, 10000);
	nomad_node *disc = th_add_node(c, "disc", "dc1", 4000, 4096, 10000);
	nomad_node *ok = th_add_node(c, "ok", "dc1", 4000, 4096, 10000);
	nomad_job *j = th_job("web", 4, 100, 100);
	const Nomad__AllocationMetric *m;
	init->status = NOMAD__NODE__STATUS_KIND__initializing;
	down->status = NOMAD__NODE__STATUS_KIND__down;
	disc->status = NOMAD__NODE__STATUS_KIND__disconnected;
	th_node_changed(c, ok);
	one_per_node(j);
	th_register(c, j);
	th_run_ok(c, "web", 7);
	CHECK_INT(used_mask(c, "web"), 0x8);
	/* Nodes that are not ready are never candidates: not evaluated. */
	m = th_failed_metric(th_last_update(c), "web");
	CHECK(m != NULL);
	CHECK_INT(m->nodesevaluated, 1);
	CHECK_INT(m->coalescedfailures, 2);
	th_free(c);
}

NMD_TEST(test_sched_scenarios_feasibility__ineligible_and_draining_nodes)
{
	struct th_cluster *c = th_new();
	nomad_node *off = th_add_node(c, "off", "dc1", 4000, 4096, 10000);
	nomad_node *drain = th_add_node(c, "drain", "dc1", 4000, 4096, 10000);
	th_add_node(c, "ok", "dc1", 4000, 4096, 10000);
	nomad_job *j = th_job("web", 3, 100, 100);
	off->schedulingeligibility = NOMAD__NODE__ELIGIBILITY_KIND__ineligible;
	drain->drainstrategy = nmd_pb_new(&nomad__drain_strategy__descriptor, NULL);
	drain->schedulingeligibility = NOMAD__NODE__ELIGIBILITY_KIND__ineligible;
	th_node_changed(c, off);
	one_per_node(j);
	th_register(c, j);
	th_run_ok(c, "web", 7);
	CHECK_INT(used_mask(c, "web"), 0x4);
	CHECK_INT(th_running(c, "web"), 1);
	/* Eligible again: the next evaluation uses it. */
	off->schedulingeligibility = NOMAD__NODE__ELIGIBILITY_KIND__eligible;
	th_node_changed(c, off);
	th_run_ok(c, "web", 7);
	CHECK_INT(used_mask(c, "web"), 0x5);
	th_free(c);
}

/* A node reporting driver info for docker; its own computed class (the
 * meta) so that each node's drivers are checked for itself. */
static nomad_node *driver_node(struct th_cluster *c, const char *name,
			       bool detected, bool healthy)
{
	nomad_node *n = th_add_node(c, name, "dc1", 4000, 4096, 10000);
	Nomad__DriverInfoEntry *e =
		nmd_pb_new(&nomad__driver_info_entry__descriptor, NULL);
	CHECK(nmd_pb_set_string(NULL, &e->key, "docker"));
	e->value = nmd_pb_new(&nomad__driver_info__descriptor, NULL);
	e->value->has_detected = e->value->has_healthy = 1;
	e->value->detected = detected;
	e->value->healthy = healthy;
	CHECK(NMD_PB_APPEND(NULL, n->drivers, n->n_drivers, e));
	set_meta(n, "which", name);
	th_node_changed(c, n);
	return n;
}

NMD_TEST(test_sched_scenarios_feasibility__drivers_detected_and_healthy)
{
	struct th_cluster *c = th_new();
	const Nomad__AllocationMetric *m;
	nomad_job *j = th_job("web", 5, 100, 100);
	nomad_node *off;
	driver_node(c, "good", true, true);
	/* Driver info wins over the attribute, which still says "1". */
	driver_node(c, "sick", true, false);
	driver_node(c, "gone", false, false);
	/* No driver info: the driver.<name> attribute decides. */
	th_add_node(c, "attr", "dc1", 4000, 4096, 10000);
	off = th_add_node(c, "attr-off", "dc1", 4000, 4096, 10000);
	th_set_attr(off, "driver.docker", "0");
	th_node_changed(c, off);
	one_per_node(j);
	th_register(c, j);
	th_run_ok(c, "web", 7);
	CHECK_INT(used_mask(c, "web"), 0x9);
	m = th_failed_metric(th_last_update(c), "web");
	CHECK(m != NULL);
	CHECK_INT(m->nodesevaluated, 5);
	CHECK_INT(m->nodesfiltered, 5); /* 3 drivers, 2 distinct_hosts */
	th_free(c);
}

NMD_TEST(test_sched_scenarios_feasibility__missing_driver_reason)
{
	struct th_cluster *c = th_new();
	nomad_job *j = th_job("java", 1, 100, 100);
	const Nomad__AllocationMetric *m;
	th_add_node(c, "a", "dc1", 4000, 4096, 10000);
	CHECK(nmd_pb_set_string(NULL, &j->taskgroups[0]->tasks[0]->driver,
				"java"));
	th_register(c, j);
	th_run_ok(c, "java", 7);
	m = th_failed_metric(th_last_update(c), "web");
	CHECK(m != NULL);
	CHECK_INT(m->nodesevaluated, 1);
	CHECK_INT(m->nodesfiltered, 1);
	CHECK_INT(th_entry(m->constraintfiltered, m->n_constraintfiltered,
			"missing drivers"), 1);
	th_free(c);
}

/* ---- constraint operands through the scheduler ---------------------------- */

/* Four nodes:
 *   n0  dc1  class small  rack r1  tags a,b  4 cores   nomad 1.5.3
 *   n1  dc1  class large  rack r2  tags b,c  16 cores  nomad 1.7.2
 *   n2  dc1  class large  rack r3  tags c    32 cores  nomad 1.9.0  gpu
 *   n3  dc2  no class     no rack  no tags   8 cores   nomad 2.0.0-beta.1
 */
static struct th_cluster *four_nodes(void)
{
	static const char *const cls[] = {"small", "large", "large", NULL};
	static const char *const rack[] = {"r1", "r2", "r3", NULL};
	static const char *const tags[] = {"a,b", "b, c", "c", NULL};
	static const char *const cores[] = {"4", "16", "32", "8"};
	static const char *const ver[] = {"1.5.3", "1.7.2", "1.9.0",
					  "2.0.0-beta.1"};
	struct th_cluster *c = th_new();
	for (int i = 0; i < 4; i++) {
		char name[16];
		nomad_node *n;
		snprintf(name, sizeof(name), "n%d", i);
		n = th_add_node(c, name, i == 3 ? "dc2" : "dc1", 8000, 8192,
				10000);
		if (cls[i])
			CHECK(nmd_pb_set_string(NULL, &n->nodeclass, cls[i]));
		if (rack[i])
			set_meta(n, "rack", rack[i]);
		if (tags[i])
			set_meta(n, "tags", tags[i]);
		th_set_attr(n, "cpu.numcores", cores[i]);
		th_set_attr(n, "nomad.version", ver[i]);
		if (i == 2)
			th_set_attr(n, "gpu.model", "a100");
		th_node_changed(c, n);
	}
	return c;
}

struct row {
	const char *l, *op, *r;
	unsigned want; /* bit k: node nk is used */
};

/* Each row at job, group and task level: the nodes used are exactly the
 * ones the constraint holds on. */
static void check_rows(const struct row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++)
		for (int at = JOB; at <= TASK; at++) {
			struct th_cluster *c = four_nodes();
			nomad_job *j = th_job("op", 4, 100, 100);
			char r[64];
			/* ${node.unique.id} of n2, known once the nodes are */
			snprintf(r, sizeof(r), "%s",
				 rows[i].r && !strcmp(rows[i].r, "<n2>")
					 ? c->nodes[2]->id : rows[i].r);
			add_dc(j, "dc2");
			one_per_node(j);
			constrain(j, (enum level)at, rows[i].l, rows[i].op,
				  rows[i].r ? r : NULL);
			th_register(c, j);
			th_run_ok(c, "op", 7);
			if (used_mask(c, "op") != rows[i].want)
				nmd_test_fail(__FILE__, __LINE__,
					      "%s %s %s at level %d: nodes 0x%x, "
					      "want 0x%x", rows[i].l, rows[i].op,
					      rows[i].r ? rows[i].r : "", at,
					      used_mask(c, "op"), rows[i].want);
			th_free(c);
		}
}

NMD_TEST(test_sched_scenarios_feasibility__equality_operands)
{
	static const struct row rows[] = {
		{"${attr.kernel.name}", "=", "linux", 0xf},
		{"${node.class}", "==", "large", 0x6},
		{"${meta.rack}", "is", "r2", 0x2},
		{"${node.datacenter}", "=", "dc2", 0x8},
		{"${node.pool}", "=", "default", 0xf},
		{"${node.unique.id}", "=", "<n2>", 0x4},
		{"r1", "=", "${meta.rack}", 0x1},
		/* A target that is not found is never equal. */
		{"${meta.nope}", "=", "", 0x0},
		{"${node.unique.name}", "!=", "n0", 0xe},
		/* One side missing: not equal, so n3 (no rack) passes. */
		{"${meta.rack}", "!=", "r1", 0xe},
		{"${node.class}", "not", "large", 0x9},
	};
	check_rows(rows, sizeof(rows) / sizeof(*rows));
}

NMD_TEST(test_sched_scenarios_feasibility__ordering_operands)
{
	static const struct row rows[] = {
		/* Numbers, not text: "16" > "8". */
		{"${attr.cpu.numcores}", "<", "16", 0x9},
		{"${attr.cpu.numcores}", "<=", "16", 0xb},
		{"${attr.cpu.numcores}", ">", "8", 0x6},
		{"${attr.cpu.numcores}", ">=", "8", 0xe},
		/* Text when not numbers; a missing value never orders. */
		{"${meta.rack}", ">", "r1", 0x6},
		{"${meta.rack}", "<=", "r2", 0x3},
	};
	check_rows(rows, sizeof(rows) / sizeof(*rows));
}

NMD_TEST(test_sched_scenarios_feasibility__version_semver_regexp_operands)
{
	static const struct row rows[] = {
		/* A pre-release never matches a constraint without one. */
		{"${attr.nomad.version}", "version", ">= 1.6, < 2.0", 0x6},
		{"${attr.nomad.version}", "version", "~> 1.5.0", 0x1},
		{"${attr.nomad.version}", "version", ">= 2.0.0-alpha", 0x8},
		/* SemVer orders a pre-release of 2.0.0 above 1.7.0. */
		{"${attr.nomad.version}", "semver", ">= 1.7.0", 0xe},
		{"${attr.nomad.version}", "semver", "< 2.0.0", 0xf},
		{"${node.unique.name}", "regexp", "^n[12]$", 0x6},
		{"${meta.rack}", "regexp", "r[13]", 0x5},
		{"${attr.kernel.name}", "regexp", "^lin", 0xf},
	};
	check_rows(rows, sizeof(rows) / sizeof(*rows));
}

NMD_TEST(test_sched_scenarios_feasibility__set_and_presence_operands)
{
	static const struct row rows[] = {
		{"${meta.tags}", "set_contains", "b", 0x3},
		{"${meta.tags}", "set_contains_all", "c,b", 0x2},
		{"${meta.tags}", "set_contains_any", "a, c", 0x7},
		{"${meta.tags}", "set_contains_any", "z", 0x0},
		{"${attr.gpu.model}", "is_set", NULL, 0x4},
		{"${meta.rack}", "is_not_set", NULL, 0x8},
		{"${node.class}", "is_set", NULL, 0xf},
	};
	check_rows(rows, sizeof(rows) / sizeof(*rows));
}

NMD_TEST(test_sched_scenarios_feasibility__levels_combine)
{
	/* Job, group and task constraints must all hold. */
	struct th_cluster *c = four_nodes();
	nomad_job *j = th_job("all", 4, 100, 100);
	add_dc(j, "dc2");
	one_per_node(j);
	constrain(j, JOB, "${attr.cpu.numcores}", ">=", "8");     /* n1 n2 n3 */
	constrain(j, GROUP, "${node.datacenter}", "=", "dc1");    /* n0 n1 n2 */
	constrain(j, TASK, "${meta.tags}", "set_contains", "c"); /* n1 n2 */
	constrain(j, TASK, "${attr.gpu.model}", "is_not_set", NULL);
	th_register(c, j);
	th_run_ok(c, "all", 7);
	CHECK_INT(used_mask(c, "all"), 0x2);
	th_free(c);
}

/* ---- the computed-class cache ----------------------------------------------- */

NMD_TEST(test_sched_scenarios_feasibility__class_checked_once)
{
	/* Three nodes alike in everything constraints see share a computed
	 * class: the constraint is checked on the first only, and the
	 * others are filtered by the class. */
	struct th_cluster *c = th_new();
	nomad_job *j = th_job("win", 1, 100, 100);
	const Nomad__AllocationMetric *m;
	for (int i = 0; i < 3; i++) {
		char name[16];
		snprintf(name, sizeof(name), "w%d", i);
		th_set_attr(th_add_node(c, name, "dc1", 4000, 4096, 10000),
			    "kernel.name", "windows");
		th_node_changed(c, c->nodes[i]);
	}
	CHECK_STR(c->nodes[0]->computedclass, c->nodes[2]->computedclass);
	constrain(j, JOB, "${attr.kernel.name}", "=", "linux");
	th_register(c, j);
	th_run_ok(c, "win", 7);
	m = th_failed_metric(th_last_update(c), "web");
	CHECK(m != NULL);
	CHECK_INT(m->nodesevaluated, 3);
	CHECK_INT(m->nodesfiltered, 3);
	CHECK_INT(th_entry(m->constraintfiltered, m->n_constraintfiltered,
			"${attr.kernel.name} = linux"), 1);
	th_free(c);
}

/* Three nodes of one computed class (unique.* keys are left out of it)
 * and a constraint on a unique value: it escapes the class, so every
 * node is checked for itself, whichever comes first. */
NMD_TEST(test_sched_scenarios_feasibility__unique_constraint_escapes_class)
{
	for (uint64_t seed = 1; seed <= 12; seed++)
		for (int at = JOB; at <= TASK; at++) {
			struct th_cluster *c = th_new();
			nomad_job *j = th_job("esc", 2, 100, 100);
			th_add_node(c, "n0", "dc1", 4000, 4096, 10000);
			th_add_node(c, "n1", "dc1", 4000, 4096, 10000);
			th_add_node(c, "n2", "dc1", 4000, 4096, 10000);
			CHECK_STR(c->nodes[0]->computedclass,
				  c->nodes[1]->computedclass);
			one_per_node(j);
			constrain(j, (enum level)at, "${attr.unique.hostname}",
				  "!=", "n0");
			th_register(c, j);
			th_run_ok(c, "esc", seed);
			CHECK_INT(used_mask(c, "esc"), 0x6);
			CHECK_INT(c->n_created, 0);
			th_free(c);
		}
}

NMD_TEST(test_sched_scenarios_feasibility__escaped_blocked_evaluation)
{
	struct th_cluster *c = th_new();
	nomad_job *j = th_job("esc", 3, 100, 100);
	th_add_node(c, "n0", "dc1", 4000, 4096, 10000);
	th_add_node(c, "n1", "dc1", 4000, 4096, 10000);
	th_add_node(c, "n2", "dc1", 4000, 4096, 10000);
	one_per_node(j);
	constrain(j, GROUP, "${node.unique.name}", "regexp", "^n[01]$");
	th_register(c, j);
	th_run_ok(c, "esc", 7);
	CHECK_INT(used_mask(c, "esc"), 0x3);
	/* The blocked evaluation says so: any node change may unblock it. */
	CHECK_INT(c->n_created, 1);
	CHECK_INT(c->created[0]->status, NOMAD__EVALUATION__STATUS_KIND__blocked);
	CHECK(c->created[0]->escapedcomputedclass);
	th_free(c);
}

NMD_TEST(test_sched_scenarios_feasibility__blocked_class_eligibility)
{
	/* Class "win" fails the constraint, class "lin" passes but is full:
	 * the blocked evaluation waits for capacity in "lin" only. */
	struct th_cluster *c = th_new();
	nomad_job *j = th_job("big", 2, 3000, 3000);
	nomad_node *w = th_add_node(c, "w", "dc1", 8000, 8192, 10000);
	nomad_node *l = th_add_node(c, "l", "dc1", 4000, 4096, 10000);
	const nomad_eval *b;
	bool saw_w = false, saw_l = false;
	th_set_attr(w, "kernel.name", "windows");
	th_node_changed(c, w);
	constrain(j, JOB, "${attr.kernel.name}", "=", "linux");
	th_register(c, j);
	th_run_ok(c, "big", 7);
	CHECK_INT(on(c, "big", l), 1);
	CHECK_INT(c->n_created, 1);
	b = c->created[0];
	CHECK_STR(b->triggeredby, "queued-allocs");
	CHECK(!b->escapedcomputedclass);
	CHECK_INT(b->snapshotindex, c->plans[0]->snapshotindex);
	for (size_t i = 0; i < b->n_classeligibility; i++) {
		const Nomad__BoolEntry *e = b->classeligibility[i];
		if (!strcmp(e->key, w->computedclass)) {
			saw_w = true;
			CHECK(!e->value);
		} else if (!strcmp(e->key, l->computedclass)) {
			saw_l = true;
			CHECK(e->value);
		}
	}
	CHECK(saw_w && saw_l);
	CHECK_INT(b->n_classeligibility, 2);
	th_free(c);
}

/* ---- ports ------------------------------------------------------------------ */

static Nomad__NetworkResource *group_network(nomad_job *j)
{
	nomad_task_group *tg = j->taskgroups[0];
	if (!tg->n_networks) {
		Nomad__NetworkResource *n =
			nmd_pb_new(&nomad__network_resource__descriptor, NULL);
		CHECK(NMD_PB_APPEND(NULL, tg->networks, tg->n_networks, n));
	}
	return tg->networks[0];
}

static void static_port(nomad_job *j, const char *label, int value)
{
	Nomad__NetworkResource *net = group_network(j);
	Nomad__Port *p = nmd_pb_new(&nomad__port__descriptor, NULL);
	CHECK(nmd_pb_set_string(NULL, &p->label, label));
	p->has_value = 1;
	p->value = value;
	CHECK(NMD_PB_APPEND(NULL, net->reservedports, net->n_reservedports, p));
}

static void dynamic_port(nomad_job *j, const char *label)
{
	Nomad__NetworkResource *net = group_network(j);
	Nomad__Port *p = nmd_pb_new(&nomad__port__descriptor, NULL);
	CHECK(nmd_pb_set_string(NULL, &p->label, label));
	CHECK(NMD_PB_APPEND(NULL, net->dynamicports, net->n_dynamicports, p));
}

/* The host port of `label` in the allocation named `name`; -1 if none. */
static int port_of(struct th_cluster *c, const char *name, const char *label)
{
	const nomad_alloc *a = th_alloc_named(c, name);
	const Nomad__AllocatedSharedResources *sh;
	CHECK(a != NULL);
	sh = a->allocatedresources->shared;
	for (size_t i = 0; i < sh->n_ports; i++)
		if (!strcmp(sh->ports[i]->label, label))
			return sh->ports[i]->value;
	return -1;
}

NMD_TEST(test_sched_scenarios_feasibility__static_port_collisions)
{
	struct th_cluster *c = th_new();
	nomad_node *a = th_add_node(c, "a", "dc1", 8000, 8192, 10000);
	nomad_node *b = th_add_node(c, "b", "dc1", 8000, 8192, 10000);
	nomad_job *j = th_job("lb", 3, 100, 100), *k, *o;
	const Nomad__AllocationMetric *m;
	const char *key;
	static_port(j, "http", 8080);
	th_register(c, j);
	th_run_ok(c, "lb", 7);
	/* Once per node: two placed, the third collides on both. */
	CHECK_INT(on(c, "lb", a), 1);
	CHECK_INT(on(c, "lb", b), 1);
	CHECK_INT(port_of(c, "lb.web[0]", "http"), 8080);
	m = th_failed_metric(th_last_update(c), "web");
	CHECK(m != NULL);
	CHECK_INT(m->nodesexhausted, 2);
	key = key_with(m->dimensionexhausted, m->n_dimensionexhausted,
		       "network: reserved port collision");
	CHECK(key != NULL);
	CHECK_INT(th_entry(m->dimensionexhausted, m->n_dimensionexhausted, key), 2);
	/* Another job asking the same port collides with the first. */
	k = th_job("other", 1, 100, 100);
	static_port(k, "admin", 8080);
	th_register(c, k);
	th_run_ok(c, "other", 7);
	CHECK_INT(th_running(c, "other"), 0);
	/* A free port fits beside it. */
	o = th_job("free", 2, 100, 100);
	static_port(o, "admin", 8081);
	th_register(c, o);
	th_run_ok(c, "free", 7);
	CHECK_INT(th_running(c, "free"), 2);
	th_free(c);
}

NMD_TEST(test_sched_scenarios_feasibility__node_reserved_host_ports)
{
	struct th_cluster *c = th_new();
	nomad_node *n = th_add_node(c, "a", "dc1", 8000, 8192, 10000);
	nomad_job *j = th_job("in", 1, 100, 100), *k;
	n->reservedresources =
		nmd_pb_new(&nomad__node_reserved_resources__descriptor, NULL);
	n->reservedresources->networks = nmd_pb_new(
		&nomad__node_reserved_network_resources__descriptor, NULL);
	CHECK(nmd_pb_set_string(NULL,
				&n->reservedresources->networks->reservedhostports,
				"22,8000-8010"));
	th_node_changed(c, n);
	static_port(j, "http", 8005);
	th_register(c, j);
	th_run_ok(c, "in", 7);
	CHECK_INT(th_running(c, "in"), 0);
	CHECK(th_failed_metric(th_last_update(c), "web") != NULL);
	k = th_job("out", 1, 100, 100);
	static_port(k, "http", 8011);
	th_register(c, k);
	th_run_ok(c, "out", 7);
	CHECK_INT(th_running(c, "out"), 1);
	th_free(c);
}

NMD_TEST(test_sched_scenarios_feasibility__node_dynamic_port_range)
{
	struct th_cluster *c = th_new();
	nomad_node *n = th_add_node(c, "a", "dc1", 8000, 8192, 10000);
	nomad_job *j = th_job("dyn", 4, 100, 100);
	const Nomad__AllocationMetric *m;
	int seen = 0;
	n->noderesources->has_mindynamicport = 1;
	n->noderesources->mindynamicport = 30000;
	n->noderesources->has_maxdynamicport = 1;
	n->noderesources->maxdynamicport = 30002;
	th_node_changed(c, n);
	dynamic_port(j, "http");
	th_register(c, j);
	th_run_ok(c, "dyn", 7);
	/* Three ports in the node's range: three placements, each its own. */
	CHECK_INT(th_running(c, "dyn"), 3);
	for (int i = 0; i < 4; i++) {
		char name[32];
		int p;
		snprintf(name, sizeof(name), "dyn.web[%d]", i);
		if (!th_alloc_named(c, name))
			continue;
		p = port_of(c, name, "http");
		CHECK(p >= 30000 && p <= 30002);
		CHECK(!(seen & (1 << (p - 30000))));
		seen |= 1 << (p - 30000);
	}
	CHECK_INT(seen, 0x7);
	m = th_failed_metric(th_last_update(c), "web");
	CHECK(m != NULL);
	CHECK_INT(th_entry(m->dimensionexhausted, m->n_dimensionexhausted,
			"network: dynamic port selection failed"), 1);
	th_free(c);
}

NMD_TEST(test_sched_scenarios_feasibility__dynamic_ports_skip_used_ones)
{
	/* Ports held on the node (another job's static and dynamic ones)
	 * are never handed out again. */
	for (uint64_t seed = 1; seed <= 8; seed++) {
		struct th_cluster *c = th_new();
		nomad_node *n = th_add_node(c, "a", "dc1", 8000, 8192, 10000);
		nomad_job *s = th_job("fixed", 1, 100, 100);
		nomad_job *d = th_job("dyn", 2, 100, 100);
		int p0, p1;
		n->noderesources->has_mindynamicport = 1;
		n->noderesources->mindynamicport = 40000;
		n->noderesources->has_maxdynamicport = 1;
		n->noderesources->maxdynamicport = 40003;
		th_node_changed(c, n);
		static_port(s, "a", 40000);
		static_port(s, "b", 40002);
		th_register(c, s);
		th_run_ok(c, "fixed", seed);
		dynamic_port(d, "http");
		th_register(c, d);
		th_run_ok(c, "dyn", seed);
		CHECK_INT(th_running(c, "dyn"), 2);
		p0 = port_of(c, "dyn.web[0]", "http");
		p1 = port_of(c, "dyn.web[1]", "http");
		CHECK((p0 == 40001 && p1 == 40003) || (p0 == 40003 && p1 == 40001));
		th_free(c);
	}
}

/* ---- what a failed placement reports ------------------------------------------ */

NMD_TEST(test_sched_scenarios_feasibility__failure_metrics)
{
	struct th_cluster *c = th_new();
	nomad_job *j = th_job("m", 1, 1000, 1000);
	const Nomad__AllocationMetric *m;
	const nomad_eval *done;
	nomad_node *w1 = th_add_node(c, "w1", "dc1", 8000, 8192, 10000);
	nomad_node *w2 = th_add_node(c, "w2", "dc1", 8000, 8192, 10000);
	th_add_node(c, "cpu", "dc1", 500, 8192, 10000);
	th_add_node(c, "mem", "dc1", 8000, 512, 10000);
	th_add_node(c, "disk", "dc1", 8000, 8192, 100);
	/* Two filtered nodes of their own classes, one per dimension. */
	th_set_attr(w1, "kernel.name", "windows");
	th_set_attr(w2, "kernel.name", "darwin");
	th_node_changed(c, w1);
	th_node_changed(c, w2);
	constrain(j, GROUP, "${attr.kernel.name}", "=", "linux");
	th_register(c, j);
	th_run_ok(c, "m", 7);
	CHECK_INT(th_running(c, "m"), 0);
	done = th_last_update(c);
	CHECK_INT(done->status, NOMAD__EVALUATION__STATUS_KIND__complete);
	CHECK(done->blockedeval != NULL);
	m = th_failed_metric(done, "web");
	CHECK(m != NULL);
	CHECK_INT(m->nodesevaluated, 5);
	CHECK_INT(m->nodesfiltered, 2);
	CHECK_INT(m->nodesexhausted, 3);
	CHECK_INT(th_entry(m->constraintfiltered, m->n_constraintfiltered,
			"${attr.kernel.name} = linux"), 2);
	CHECK_INT(m->n_dimensionexhausted, 3);
	CHECK_INT(th_entry(m->dimensionexhausted, m->n_dimensionexhausted, "cpu"), 1);
	CHECK_INT(th_entry(m->dimensionexhausted, m->n_dimensionexhausted,
			"memory"), 1);
	CHECK_INT(th_entry(m->dimensionexhausted, m->n_dimensionexhausted, "disk"),
		  1);
	CHECK_INT(m->coalescedfailures, 0);
	CHECK_INT(done->queuedallocations[0]->value, 1);
	th_free(c);
}

NMD_TEST(test_sched_scenarios_feasibility__coalesced_failures)
{
	struct th_cluster *c = th_new();
	const Nomad__AllocationMetric *m;
	th_add_node(c, "a", "dc1", 2000, 2048, 10000);
	th_register(c, th_job("many", 10, 500, 500));
	th_run_ok(c, "many", 7);
	CHECK_INT(th_running(c, "many"), 4);
	m = th_failed_metric(th_last_update(c), "web");
	CHECK(m != NULL);
	/* The first failure's metric, six placements in all. */
	CHECK_INT(m->coalescedfailures, 5);
	CHECK_INT(th_last_update(c)->queuedallocations[0]->value, 6);
	CHECK_INT(th_entry(m->dimensionexhausted, m->n_dimensionexhausted, "cpu"), 1);
	th_free(c);
}

/* ---- metrics keys and port choices, as Nomad has them ------------------ */

/* ClassFiltered counts by the node's class, only for nodes with one; a
 * node filtered through its computed class says so. */
NMD_TEST(test_sched_scenarios_feasibility__class_metrics_by_node_class)
{
	struct th_cluster *c = th_new();
	nomad_job *j = th_job("win", 1, 100, 100);
	const Nomad__AllocationMetric *m;
	for (int i = 0; i < 3; i++) {
		char name[16];
		nomad_node *n;
		snprintf(name, sizeof(name), "w%d", i);
		n = th_add_node(c, name, "dc1", 4000, 4096, 10000);
		th_set_attr(n, "kernel.name", "windows");
		if (i < 2)
			CHECK(nmd_pb_set_string(NULL, &n->nodeclass, "batch"));
		th_node_changed(c, n);
	}
	constrain(j, JOB, "${attr.kernel.name}", "=", "linux");
	th_register(c, j);
	th_run_ok(c, "win", 7);
	m = th_failed_metric(th_last_update(c), "web");
	CHECK(m != NULL);
	CHECK_INT(m->nodesfiltered, 3);
	CHECK_INT(th_entry(m->classfiltered, m->n_classfiltered, "batch"), 2);
	CHECK_INT(m->n_classfiltered, 1);
	/* The two "batch" nodes share a computed class: one check, one
	 * class hit; the third is a class of its own. */
	CHECK_INT(th_entry(m->constraintfiltered, m->n_constraintfiltered,
			"${attr.kernel.name} = linux"), 2);
	CHECK_INT(th_entry(m->constraintfiltered, m->n_constraintfiltered,
			"computed class ineligible"), 1);
	th_free(c);
}

/* A dynamic port never takes one of the group's own static ports, and
 * many dynamic ports are all given. */
NMD_TEST(test_sched_scenarios_feasibility__dynamic_ports_avoid_own_static)
{
	struct th_cluster *c = th_new();
	nomad_node *n = th_add_node(c, "a", "dc1", 8000, 8192, 10000);
	nomad_job *j = th_job("dyn", 1, 100, 100), *many = th_job("many", 1, 100, 100);
	const Nomad__AllocatedSharedResources *sh;
	n->noderesources->has_mindynamicport = n->noderesources->has_maxdynamicport = 1;
	n->noderesources->mindynamicport = 20000;
	n->noderesources->maxdynamicport = 20001;
	th_node_changed(c, n);
	static_port(j, "admin", 20000);
	dynamic_port(j, "http");
	th_register(c, j);
	th_run_ok(c, "dyn", 7);
	CHECK_INT(th_running(c, "dyn"), 1);
	CHECK_INT(port_of(c, "dyn.web[0]", "admin"), 20000);
	CHECK_INT(port_of(c, "dyn.web[0]", "http"), 20001);
	/* Forty dynamic ports, all distinct, on a wide range. */
	n->noderesources->maxdynamicport = 32000;
	th_node_changed(c, n);
	for (int i = 0; i < 40; i++) {
		char label[16];
		snprintf(label, sizeof(label), "p%d", i);
		dynamic_port(many, label);
	}
	th_register(c, many);
	th_run_ok(c, "many", 7);
	sh = th_alloc_named(c, "many.web[0]")->allocatedresources->shared;
	CHECK_INT(sh->n_ports, 40);
	for (size_t i = 0; i < sh->n_ports; i++)
		for (size_t k = i + 1; k < sh->n_ports; k++)
			CHECK(sh->ports[i]->value != sh->ports[k]->value);
	th_free(c);
}

/* Score metadata lists the best node first. */
NMD_TEST(test_sched_scenarios_feasibility__scores_best_first)
{
	struct th_cluster *c = th_new();
	nomad_job *j = th_job("web", 1, 500, 256);
	const nomad_alloc *a;
	for (int i = 0; i < 6; i++) {
		char name[16];
		snprintf(name, sizeof(name), "n%d", i);
		th_add_node(c, name, "dc1", 1000 + 500 * i, 4096, 10000);
	}
	th_register(c, j);
	th_run_ok(c, "web", 7);
	a = th_alloc_named(c, "web.web[0]");
	CHECK(a && a->metrics && a->metrics->n_scoremetadata >= 2);
	for (size_t i = 1; i < a->metrics->n_scoremetadata; i++)
		CHECK(a->metrics->scoremetadata[i - 1]->normscore >=
		      a->metrics->scoremetadata[i]->normscore);
	CHECK_STR(a->metrics->scoremetadata[0]->nodeid, a->nodeid);
	th_free(c);
}

/* The driver.<name> attribute is read as Go's ParseBool reads it. */
NMD_TEST(test_sched_scenarios_feasibility__driver_attribute_parse_bool)
{
	static const char *const yes[] = {"1", "t", "T", "true", "TRUE", "True"};
	static const char *const no[] = {"0", "f", "yes", "", "on"};
	for (size_t i = 0; i < sizeof(yes) / sizeof(*yes) + sizeof(no) / sizeof(*no);
	     i++) {
		bool want = i < sizeof(yes) / sizeof(*yes);
		const char *v = want ? yes[i] : no[i - sizeof(yes) / sizeof(*yes)];
		struct th_cluster *c = th_new();
		nomad_node *n = th_add_node(c, "a", "dc1", 4000, 4096, 10000);
		th_set_attr(n, "driver.docker", v);
		th_node_changed(c, n);
		th_register(c, th_job("web", 1, 100, 100));
		th_run_ok(c, "web", 7);
		if ((th_running(c, "web") == 1) != want)
			nmd_test_fail(__FILE__, __LINE__,
				      "driver.docker = \"%s\": placed %zu", v,
				      th_running(c, "web"));
		th_free(c);
	}
}
