/* SPDX-License-Identifier: MPL-2.0 */
/*
 * nomad_job_validate: a canonicalised job of each type is valid; then one
 * test per family of Nomad's rules, each checking the exact message and
 * its path, and a job with many problems getting all of them. The cron
 * and version-constraint parsers are tested directly too.
 */
#include <nomad/structs.h>

#include "structs/pb.h"
#include "structs/validate_int.h"
#include "test.h"
#include "jobs.h"

/* ---- building jobs --------------------------------------------------------- */

static void set(char **slot, const char *s)
{
	CHECK(nmd_pb_set_string(NULL, slot, s));
}

static void canon(nomad_job *job)
{
	CHECK_OK(nomad_job_canonicalize(job, NULL));
}

/* Job "example", group "web", task "api", canonicalised. */
static nomad_job *make_job(Nomad__JobType type)
{
	nomad_job *job = tj_raw_job(type);
	canon(job);
	return job;
}

static Nomad__TaskGroup *group0(nomad_job *job)
{
	return job->taskgroups[0];
}

static Nomad__Task *task0(nomad_job *job)
{
	return job->taskgroups[0]->tasks[0];
}

static Nomad__Constraint *constraint(const char *l, const char *op,
				     const char *r)
{
	Nomad__Constraint *c = tj_new_msg(&nomad__constraint__descriptor);
	c->ltarget = l ? tj_dup(l) : NULL;
	c->operand = op ? tj_dup(op) : NULL;
	c->rtarget = r ? tj_dup(r) : NULL;
	return c;
}

static Nomad__Port *port(const char *label, int value, int to)
{
	Nomad__Port *p = tj_new_msg(&nomad__port__descriptor);
	p->label = tj_dup(label);
	p->has_value = value != 0;
	p->value = value;
	p->has_to = to != 0;
	p->to = to;
	return p;
}

static Nomad__NetworkResource *add_network(Nomad__TaskGroup *tg)
{
	Nomad__NetworkResource *n = tj_new_msg(&nomad__network_resource__descriptor);
	CHECK(NMD_PB_APPEND(NULL, tg->networks, tg->n_networks, n));
	return n;
}

static Nomad__Service *add_service(Nomad__Service ***arr, size_t *n,
				   const char *name, const char *port_label)
{
	Nomad__Service *s = tj_new_msg(&nomad__service__descriptor);
	s->name = name ? tj_dup(name) : NULL;
	s->portlabel = port_label ? tj_dup(port_label) : NULL;
	CHECK(nmd_pb_append(NULL, (void ***)arr, n, s));
	return s;
}

static Nomad__ServiceCheck *add_check(Nomad__Service *s, const char *name,
				      const char *type)
{
	Nomad__ServiceCheck *c = tj_new_msg(&nomad__service_check__descriptor);
	c->name = tj_dup(name);
	c->type = tj_dup(type);
	c->has_interval = c->has_timeout = 1;
	c->interval = 10 * SEC;
	c->timeout = 2 * SEC;
	CHECK(NMD_PB_APPEND(NULL, s->checks, s->n_checks, c));
	return c;
}

/* ---- looking at problems ---------------------------------------------------- */

static void dump(const nomad_problems *p)
{
	for (size_t i = 0; i < nomad_problems_count(p); i++)
		fprintf(stderr, "      problem: %s\n", nomad_problems_get(p, i));
}

static bool has(const nomad_problems *p, const char *s)
{
	for (size_t i = 0; i < nomad_problems_count(p); i++)
		if (strcmp(nomad_problems_get(p, i), s) == 0)
			return true;
	return false;
}

#define CHECK_PROBLEM(p, s)                                                   \
	do {                                                                  \
		if (!has((p), (s))) {                                         \
			dump(p);                                              \
			nmd_test_fail(__FILE__, __LINE__,                     \
				      "no problem \"%s\"", (s));              \
		}                                                             \
	} while (0)

#define CHECK_COUNT(p, n)                                                     \
	do {                                                                  \
		if (nomad_problems_count(p) != (size_t)(n)) {                 \
			dump(p);                                              \
			CHECK_INT(nomad_problems_count(p), (n));              \
		}                                                             \
	} while (0)

/* Validate; the return code must agree with the list. */
static nomad_problems *validate(const nomad_job *job)
{
	nomad_problems *p = NULL;
	nomad_error err;
	nomad_err rc = nomad_job_validate(job, &p, &err);

	CHECK(p != NULL);
	CHECK_INT(rc, nomad_problems_count(p) ? NOMAD_EINVAL : NOMAD_OK);
	if (rc == NOMAD_EINVAL)
		CHECK_CONTAINS(err.message, nomad_problems_get(p, 0));
	return p;
}

/* The one problem a job has. */
static void check_only(nomad_job *job, const char *problem)
{
	nomad_problems *p = validate(job);

	CHECK_PROBLEM(p, problem);
	CHECK_COUNT(p, 1);
	nomad_problems_free(p);
	nomad_job_free(job);
}

/* ---- valid jobs ------------------------------------------------------------------ */

NMD_TEST(test_structs_validate__canonical_jobs_valid)
{
	static const Nomad__JobType types[] = {
		NOMAD__JOB_TYPE__service, NOMAD__JOB_TYPE__batch,
		NOMAD__JOB_TYPE__system, NOMAD__JOB_TYPE__sysbatch};

	for (size_t i = 0; i < sizeof(types) / sizeof(*types); i++) {
		nomad_job *job = make_job(types[i]);
		nomad_problems *p = validate(job);
		nomad_error err;

		CHECK_COUNT(p, 0);
		CHECK_INT(nomad_job_validate(job, NULL, &err), NOMAD_OK);
		nomad_problems_free(p);
		nomad_job_free(job);
	}
}

/* Most blocks, used as Nomad's own examples do: no false alarms. */
NMD_TEST(test_structs_validate__rich_job_valid)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__service);
	Nomad__TaskGroup *tg = group0(job);
	Nomad__Task *t = task0(job);
	Nomad__NetworkResource *n = add_network(tg);
	Nomad__Service *s;
	Nomad__Template *tp = tj_new_msg(&nomad__template__descriptor);
	Nomad__TaskArtifact *a = tj_new_msg(&nomad__task_artifact__descriptor);
	Nomad__Affinity *af = tj_new_msg(&nomad__affinity__descriptor);
	Nomad__VolumeRequestEntry *ve = tj_new_msg(&nomad__volume_request_entry__descriptor);
	Nomad__VolumeMount *vm = tj_new_msg(&nomad__volume_mount__descriptor);
	nomad_problems *p;

	CHECK(NMD_PB_APPEND(NULL, job->constraints, job->n_constraints,
			    constraint("${attr.kernel.name}", "=", "linux")));
	CHECK(NMD_PB_APPEND(NULL, tg->constraints, tg->n_constraints,
			    constraint(NULL, "distinct_hosts", "true")));
	CHECK(NMD_PB_APPEND(NULL, tg->constraints, tg->n_constraints,
			    constraint("${attr.nomad.version}", "semver",
				       ">= 1.6.0, < 2.0.0")));
	af->ltarget = tj_dup("${node.datacenter}");
	af->operand = tj_dup("regexp");
	af->rtarget = tj_dup("^dc[0-9]+$");
	CHECK(NMD_PB_APPEND(NULL, tg->affinities, tg->n_affinities, af));
	CHECK(NMD_PB_APPEND(NULL, n->dynamicports, n->n_dynamicports,
			    port("http", 0, 8080)));
	CHECK(NMD_PB_APPEND(NULL, n->reservedports, n->n_reservedports,
			    port("admin", 9000, 0)));
	s = add_service(&t->services, &t->n_services, "web-api", "http");
	add_check(s, "alive", "http")->path = tj_dup("/health");
	s = add_service(&tg->services, &tg->n_services, "web-admin", "admin");
	add_check(s, "tcp", "tcp");
	tp->embeddedtmpl = tj_dup("{{ key \"x\" }}");
	tp->destpath = tj_dup("local/app.conf");
	CHECK(NMD_PB_APPEND(NULL, t->templates, t->n_templates, tp));
	a->gettersource = tj_dup("https://example.com/app.tgz");
	CHECK(NMD_PB_APPEND(NULL, t->artifacts, t->n_artifacts, a));
	ve->key = tj_dup("data");
	ve->value = tj_new_msg(&nomad__volume_request__descriptor);
	ve->value->type = tj_dup("host");
	ve->value->source = tj_dup("data");
	CHECK(NMD_PB_APPEND(NULL, tg->volumes, tg->n_volumes, ve));
	vm->volume = tj_dup("data");
	vm->destination = tj_dup("/data");
	CHECK(NMD_PB_APPEND(NULL, t->volumemounts, t->n_volumemounts, vm));
	canon(job);
	p = validate(job);
	CHECK_COUNT(p, 0);
	nomad_problems_free(p);
	nomad_job_free(job);
}

/* ---- job level ----------------------------------------------------------------- */

NMD_TEST(test_structs_validate__job_id_space)
{
	nomad_job *job = make_job(NOMAD__JOB_TYPE__service);
	nomad_error err;

	set(&job->id, "bad example");
	CHECK_INT(nomad_job_validate(job, NULL, &err), NOMAD_EINVAL);
	CHECK_INT(err.code, NOMAD_EINVAL);
	CHECK_STR(err.message, "job ID contains a space");
	check_only(job, "job ID contains a space");
}

NMD_TEST(test_structs_validate__job_identity)
{
	nomad_job *job = make_job(NOMAD__JOB_TYPE__service);
	nomad_problems *p;

	set(&job->region, "");
	set(&job->id, NULL);
	set(&job->name, "");
	set(&job->namespace_, "");
	job->priority = 101;
	set(&job->datacenters[0], "");
	p = validate(job);
	CHECK_PROBLEM(p, "missing job region");
	CHECK_PROBLEM(p, "missing job ID");
	CHECK_PROBLEM(p, "missing job name");
	CHECK_PROBLEM(p, "job must be in a namespace");
	CHECK_PROBLEM(p, "job priority must be between [1, 100]");
	CHECK_PROBLEM(p, "job datacenter must be non-empty string");
	CHECK_COUNT(p, 6);
	nomad_problems_free(p);
	job->has_type = 0;
	job->priority = 0;
	p = validate(job);
	CHECK_PROBLEM(p, "missing job type");
	CHECK_PROBLEM(p, "job priority must be between [1, 100]");
	nomad_problems_free(p);
	nomad_job_free(job);
}

NMD_TEST(test_structs_validate__job_needs_groups_and_datacenters)
{
	nomad_job *job = nomad_job_new();
	nomad_problems *p;

	job->id = tj_dup("empty");
	canon(job);
	for (size_t i = 0; i < job->n_datacenters; i++)
		free(job->datacenters[i]);
	free(job->datacenters);
	job->datacenters = NULL;
	job->n_datacenters = 0;
	p = validate(job);
	CHECK_PROBLEM(p, "missing job datacenters");
	CHECK_PROBLEM(p, "missing job task groups");
	CHECK_COUNT(p, 2);
	nomad_problems_free(p);
	nomad_job_free(job);
}

NMD_TEST(test_structs_validate__group_names_and_counts)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__system);
	Nomad__TaskGroup *dupe = tj_add_group(job, "web"), *anon = tj_add_group(job, "");
	nomad_problems *p;

	tj_add_task(dupe, "a");
	tj_add_task(anon, "b");
	canon(job);
	group0(job)->count = 2;
	anon->count = -1;
	p = validate(job);
	CHECK_PROBLEM(p, "job task group 2 redefines 'web' from group 1");
	CHECK_PROBLEM(p, "job task group 3 missing name");
	CHECK_PROBLEM(p, "group \"web\": count 2 cannot exceed 1 with system "
			 "scheduler");
	CHECK_PROBLEM(p, "group 3: missing task group name");
	CHECK_PROBLEM(p, "group 3: task group count can't be negative");
	CHECK_COUNT(p, 5);
	nomad_problems_free(p);
	nomad_job_free(job);
}

/* ---- tasks -------------------------------------------------------------------- */

NMD_TEST(test_structs_validate__tasks)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__service);
	Nomad__TaskGroup *tg = group0(job), *empty = tj_add_group(job, "empty");
	Nomad__Task *t = task0(job), *again = tj_add_task(tg, "api");
	nomad_problems *p;

	(void)empty;
	tj_add_task(tg, "api");
	canon(job);
	set(&t->driver, "");
	t->killtimeout = -1;
	t->has_leader = again->has_leader = 1;
	t->leader = again->leader = 1;
	set(&again->name, "a/b");
	p = validate(job);
	CHECK_PROBLEM(p, "group \"web\" task \"api\": missing task driver");
	CHECK_PROBLEM(p, "group \"web\" task \"api\": KillTimeout must be a "
			 "positive value");
	CHECK_PROBLEM(p, "group \"web\" task \"a/b\": task name cannot include "
			 "slashes");
	CHECK_PROBLEM(p, "group \"web\": task 3 redefines 'api' from task 1");
	CHECK_PROBLEM(p, "group \"web\": only one task may be marked as leader");
	CHECK_PROBLEM(p, "group \"empty\": missing tasks for task group");
	CHECK_COUNT(p, 6);
	nomad_problems_free(p);
	nomad_job_free(job);
}

NMD_TEST(test_structs_validate__resources_memory)
{
	nomad_job *job = make_job(NOMAD__JOB_TYPE__service);

	task0(job)->resources->memorymb = 5;
	check_only(job, "group \"web\" task \"api\": resources: memory must be "
			"at least 10 MB");
}

NMD_TEST(test_structs_validate__resources)
{
	nomad_job *job = make_job(NOMAD__JOB_TYPE__service);
	Nomad__Resources *r = task0(job)->resources;
	nomad_problems *p;

	r->cores = 2;
	r->has_memorymaxmb = r->has_diskmb = 1;
	r->memorymaxmb = 100;
	r->diskmb = 10;
	p = validate(job);
	CHECK_PROBLEM(p, "group \"web\" task \"api\": resources: task can only "
			 "ask for 'cpu' or 'cores' resource, not both");
	CHECK_PROBLEM(p, "group \"web\" task \"api\": resources: MemoryMaxMB "
			 "value (100) should be larger than MemoryMB value "
			 "(300)");
	CHECK_PROBLEM(p, "group \"web\" task \"api\": resources: task can't ask "
			 "for disk resources, they have to be specified at the "
			 "task group level");
	CHECK_COUNT(p, 3);
	nomad_problems_free(p);
	/* cores alone is fine, memory_max -1 means no limit */
	r->cpu = 0;
	r->memorymaxmb = -1;
	r->diskmb = 0;
	p = validate(job);
	CHECK_COUNT(p, 0);
	nomad_problems_free(p);
	r->cores = 0;
	check_only(job, "group \"web\" task \"api\": resources: cpu must be at "
			"least 1 MHz");
}

NMD_TEST(test_structs_validate__ports)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__service);
	Nomad__TaskGroup *tg = group0(job);
	Nomad__NetworkResource *n = add_network(tg);
	nomad_problems *p;

	CHECK(NMD_PB_APPEND(NULL, n->reservedports, n->n_reservedports,
			    port("a", 8080, 0)));
	CHECK(NMD_PB_APPEND(NULL, n->reservedports, n->n_reservedports,
			    port("b", 8080, 0)));
	CHECK(NMD_PB_APPEND(NULL, n->reservedports, n->n_reservedports,
			    port("c", 70000, 0)));
	CHECK(NMD_PB_APPEND(NULL, n->dynamicports, n->n_dynamicports,
			    port("a", 0, -2)));
	CHECK(NMD_PB_APPEND(NULL, n->dynamicports, n->n_dynamicports,
			    port("d", 0, 65536)));
	canon(job);
	p = validate(job);
	CHECK_PROBLEM(p, "group \"web\": network: static port 8080 already "
			 "reserved by taskgroup network:a");
	CHECK_PROBLEM(p, "group \"web\": network: port c (70000) cannot be "
			 "greater than 65535");
	CHECK_PROBLEM(p, "group \"web\": network: port label a already in use "
			 "by taskgroup network");
	CHECK_PROBLEM(p, "group \"web\": network: port \"a\" cannot be mapped "
			 "to negative value -2");
	CHECK_PROBLEM(p, "group \"web\": network: port \"d\" cannot be mapped "
			 "to a port (65536) greater than 65535");
	CHECK_COUNT(p, 5);
	nomad_problems_free(p);
	add_network(tg);
	p = validate(job);
	CHECK_PROBLEM(p, "group \"web\": network: only one network resource is "
			 "allowed");
	nomad_problems_free(p);
	nomad_job_free(job);
}

/* ---- placement ------------------------------------------------------------------ */

NMD_TEST(test_structs_validate__constraints)
{
	nomad_job *job = make_job(NOMAD__JOB_TYPE__service);
	Nomad__TaskGroup *tg = group0(job);
	Nomad__Task *t = task0(job);
	nomad_problems *p;
	const Nomad__Constraint *list[] = {
		constraint("${attr.a}", "~", "x"),
		constraint("${attr.a}", "=", NULL),
		constraint("${attr.a}", "regexp", "(unclosed"),
		constraint("${attr.a}", "version", "not a version"),
		constraint("${attr.a}", "semver", "~> 1.2"),
		constraint("${attr.a}", "is_set", "x"),
		constraint("${attr.a}", "distinct_property", "x"),
		constraint("${attr.a}", "distinct_property", "0"),
		constraint("${attr.a}", "set_contains_any", ""),
		constraint(NULL, ">=", "3"),
		constraint("${attr.a}", NULL, "3"),
	};

	for (size_t i = 0; i < sizeof(list) / sizeof(*list); i++)
		CHECK(NMD_PB_APPEND(NULL, tg->constraints, tg->n_constraints,
				    (void *)list[i]));
	CHECK(NMD_PB_APPEND(NULL, t->constraints, t->n_constraints,
			    constraint(NULL, "distinct_hosts", "true")));
	p = validate(job);
	CHECK_PROBLEM(p, "group \"web\": constraint 1: unknown constraint type "
			 "\"~\"");
	CHECK_PROBLEM(p, "group \"web\": constraint 2: operator \"=\" requires "
			 "an RTarget");
	CHECK_CONTAINS(nomad_problems_get(p, 2), "group \"web\": constraint 3: "
			 "regular expression failed to compile: ");
	CHECK_PROBLEM(p, "group \"web\": constraint 4: version constraint is "
			 "invalid: malformed constraint: not a version");
	CHECK_PROBLEM(p, "group \"web\": constraint 5: semver constraint is "
			 "invalid: malformed constraint: ~> 1.2");
	CHECK_PROBLEM(p, "group \"web\": constraint 6: operator \"is_set\" does "
			 "not support an RTarget");
	CHECK_PROBLEM(p, "group \"web\": constraint 7: failed to convert "
			 "RTarget \"x\" to uint64");
	CHECK_PROBLEM(p, "group \"web\": constraint 8: distinct property must "
			 "have an allowed count of 1 or greater: 0 < 1");
	CHECK_PROBLEM(p, "group \"web\": constraint 9: set contains constraint "
			 "requires an RTarget");
	CHECK_PROBLEM(p, "group \"web\": constraint 10: no LTarget provided but "
			 "is required by constraint");
	CHECK_PROBLEM(p, "group \"web\": constraint 11: missing constraint "
			 "operand");
	CHECK_PROBLEM(p, "group \"web\": constraint 11: unknown constraint type "
			 "\"\"");
	CHECK_PROBLEM(p, "group \"web\" task \"api\": constraint 1: disallowed "
			 "operand at task level: distinct_hosts");
	CHECK_COUNT(p, 13);
	nomad_problems_free(p);
	nomad_job_free(job);
}

NMD_TEST(test_structs_validate__affinities_and_spreads)
{
	nomad_job *job = make_job(NOMAD__JOB_TYPE__service);
	Nomad__Affinity *zero = tj_new_msg(&nomad__affinity__descriptor);
	Nomad__Affinity *big = tj_new_msg(&nomad__affinity__descriptor);
	Nomad__Spread *s = tj_new_msg(&nomad__spread__descriptor);
	Nomad__SpreadTarget *t1 = tj_new_msg(&nomad__spread_target__descriptor);
	Nomad__SpreadTarget *t2 = tj_new_msg(&nomad__spread_target__descriptor);
	nomad_problems *p;

	zero->ltarget = tj_dup("${node.class}");
	zero->operand = tj_dup("=");
	zero->rtarget = tj_dup("big");
	zero->has_weight = 1;
	big->ltarget = tj_dup("${node.class}");
	big->operand = tj_dup("set_contains");
	big->rtarget = tj_dup("a,b");
	big->has_weight = 1;
	big->weight = 101;
	s->attribute = tj_dup("${node.datacenter}");
	s->has_weight = 1;
	s->weight = 0;
	t1->value = tj_dup("dc1");
	t2->value = tj_dup("dc1");
	t1->has_percent = t2->has_percent = 1;
	t1->percent = 70;
	t2->percent = 50;
	CHECK(NMD_PB_APPEND(NULL, s->spreadtarget, s->n_spreadtarget, t1));
	CHECK(NMD_PB_APPEND(NULL, s->spreadtarget, s->n_spreadtarget, t2));
	CHECK(NMD_PB_APPEND(NULL, job->affinities, job->n_affinities, zero));
	CHECK(NMD_PB_APPEND(NULL, job->affinities, job->n_affinities, big));
	CHECK(NMD_PB_APPEND(NULL, job->spreads, job->n_spreads, s));
	p = validate(job);
	CHECK_PROBLEM(p, "affinity 1: affinity weight cannot be zero");
	CHECK_PROBLEM(p, "affinity 2: affinity weight must be within the range "
			 "[-100,100]");
	CHECK_PROBLEM(p, "spread 1: spread block must have a positive weight "
			 "from 0 to 100");
	CHECK_PROBLEM(p, "spread 1: spread target value \"dc1\" already "
			 "defined");
	CHECK_PROBLEM(p, "spread 1: sum of spread target percentages must not "
			 "be greater than 100%; got 120%");
	CHECK_COUNT(p, 5);
	nomad_problems_free(p);
	/* system jobs take neither */
	job->type = NOMAD__JOB_TYPE__system;
	p = validate(job);
	CHECK_PROBLEM(p, "system jobs may not have an affinity block");
	CHECK_PROBLEM(p, "system jobs may not have a spread block");
	nomad_problems_free(p);
	nomad_job_free(job);
}

/* ---- policies ------------------------------------------------------------------- */

NMD_TEST(test_structs_validate__reschedule_constant)
{
	nomad_job *job = make_job(NOMAD__JOB_TYPE__batch);
	Nomad__ReschedulePolicy *r = group0(job)->reschedulepolicy;
	nomad_problems *p;

	r->attempts = 10;
	r->interval = 30 * SEC;
	p = validate(job);
	CHECK_PROBLEM(p, "group \"web\": reschedule: Nomad can only make 6 "
			 "attempts in 30s with initial delay 5s and delay "
			 "function \"constant\"");
	CHECK_PROBLEM(p, "group \"web\": reschedule: set the interval to at "
			 "least 50s to accommodate 10 attempts");
	CHECK_COUNT(p, 2);
	nomad_problems_free(p);
	r->delay = SEC;
	r->interval = 10 * SEC;
	p = validate(job);
	CHECK_PROBLEM(p, "group \"web\": reschedule: delay cannot be less than "
			 "5s (got 1s)");
	CHECK_PROBLEM(p, "group \"web\": reschedule: interval cannot be less "
			 "than 15s (got 10s)");
	CHECK_COUNT(p, 2);
	nomad_problems_free(p);
	nomad_job_free(job);
}

NMD_TEST(test_structs_validate__reschedule_progressive)
{
	nomad_job *job = make_job(NOMAD__JOB_TYPE__service);
	Nomad__ReschedulePolicy *r = group0(job)->reschedulepolicy;
	nomad_problems *p;

	r->unlimited = 0;
	r->attempts = 5;
	r->interval = MINUTE;
	r->delay = 5 * SEC;
	p = validate(job);
	CHECK_PROBLEM(p, "group \"web\": reschedule: Nomad can only make 4 "
			 "attempts in 1m0s with initial delay 5s, delay function "
			 "\"exponential\", and delay ceiling 1h0m0s");
	CHECK_PROBLEM(p, "group \"web\": reschedule: set the interval to at "
			 "least 1m20s to accommodate 5 attempts");
	CHECK_COUNT(p, 2);
	nomad_problems_free(p);
	r->delayfunction =
		NOMAD__RESCHEDULE_POLICY__DELAY_FUNCTION_KIND__fibonacci;
	r->interval = 20 * SEC;
	p = validate(job);
	CHECK_PROBLEM(p, "group \"web\": reschedule: Nomad can only make 4 "
			 "attempts in 20s with initial delay 5s, delay function "
			 "\"fibonacci\", and delay ceiling 1h0m0s");
	CHECK_PROBLEM(p, "group \"web\": reschedule: set the interval to at "
			 "least 25s to accommodate 5 attempts");
	CHECK_COUNT(p, 2);
	nomad_problems_free(p);
	/* attempts and unlimited together */
	r->unlimited = 1;
	r->interval = HOUR;
	p = validate(job);
	CHECK_PROBLEM(p, "group \"web\": reschedule: reschedule Policy with "
			 "Attempts = 5, Interval = 1h0m0s, and Unlimited = true "
			 "is ambiguous");
	CHECK_PROBLEM(p, "group \"web\": reschedule: if Attempts >0, Unlimited "
			 "cannot also be set to true");
	CHECK_COUNT(p, 2);
	nomad_problems_free(p);
	/* a large attempt count once the ceiling is hit: no long loop */
	r->unlimited = 0;
	r->attempts = 2000000000;
	r->maxdelay = MINUTE;
	r->delayfunction =
		NOMAD__RESCHEDULE_POLICY__DELAY_FUNCTION_KIND__exponential;
	p = validate(job);
	CHECK_COUNT(p, 2);
	nomad_problems_free(p);
	nomad_job_free(job);
}

NMD_TEST(test_structs_validate__restart)
{
	nomad_job *job = make_job(NOMAD__JOB_TYPE__service);
	Nomad__RestartPolicy *r = group0(job)->restartpolicy;
	Nomad__Task *t = task0(job);
	nomad_problems *p;

	r->attempts = 10;
	r->interval = MINUTE;
	/* the task's own block differs from the group's */
	t->restartpolicy->interval = SEC;
	t->restartpolicy->attempts = 0;
	t->restartpolicy->mode = NOMAD__RESTART_POLICY__MODE_KIND__delay;
	p = validate(job);
	CHECK_PROBLEM(p, "group \"web\": restart: Nomad can't restart the "
			 "TaskGroup 10 times in an interval of 1m0s with a delay "
			 "of 15s");
	CHECK_PROBLEM(p, "group \"web\" task \"api\": restart: restart policy "
			 "\"delay\" with 0 attempts is ambiguous");
	CHECK_PROBLEM(p, "group \"web\" task \"api\": restart: interval can not "
			 "be less than 5s (got 1s)");
	CHECK_COUNT(p, 3);
	nomad_problems_free(p);
	nomad_job_free(job);
}

NMD_TEST(test_structs_validate__update)
{
	nomad_job *job = make_job(NOMAD__JOB_TYPE__service);
	Nomad__UpdateStrategy *u = group0(job)->update;
	nomad_problems *p;

	u->maxparallel = -1;
	u->autopromote = 1;
	u->minhealthytime = 10 * MINUTE;
	u->progressdeadline = 2 * MINUTE;
	p = validate(job);
	CHECK_PROBLEM(p, "group \"web\": update: max parallel can not be less "
			 "than zero: -1 < 0");
	CHECK_PROBLEM(p, "group \"web\": update: auto promote requires a Canary "
			 "count greater than zero");
	CHECK_PROBLEM(p, "group \"web\": update: minimum healthy time must be "
			 "less than healthy deadline: 10m0s > 5m0s");
	CHECK_PROBLEM(p, "group \"web\": update: healthy deadline must be less "
			 "than progress deadline: 5m0s > 2m0s");
	CHECK_COUNT(p, 4);
	nomad_problems_free(p);
	nomad_job_free(job);
}

NMD_TEST(test_structs_validate__update_by_type)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__batch);

	group0(job)->update = tj_new_msg(&nomad__update_strategy__descriptor);
	canon(job);
	check_only(job, "group \"web\": job type \"batch\" does not allow "
			"update block");
}

NMD_TEST(test_structs_validate__migrate)
{
	nomad_job *job = make_job(NOMAD__JOB_TYPE__service);
	nomad_problems *p;

	group0(job)->migrate->minhealthytime = HOUR;
	group0(job)->migrate->healthcheck = NOMAD__HEALTH_CHECK_MODE__manual;
	p = validate(job);
	CHECK_PROBLEM(p, "group \"web\": migrate: invalid HealthCheck: "
			 "\"manual\"");
	CHECK_PROBLEM(p, "group \"web\": migrate: MinHealthyTime must be less "
			 "than HealthyDeadline");
	CHECK_COUNT(p, 2);
	nomad_problems_free(p);
	nomad_job_free(job);
	job = tj_raw_job(NOMAD__JOB_TYPE__batch);
	group0(job)->migrate = tj_new_msg(&nomad__migrate_strategy__descriptor);
	canon(job);
	check_only(job, "group \"web\": job type \"batch\" does not allow "
			"migrate block");
}

NMD_TEST(test_structs_validate__system_reschedule)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__system);

	group0(job)->reschedulepolicy =
		tj_new_msg(&nomad__reschedule_policy__descriptor);
	canon(job);
	check_only(job, "group \"web\": system jobs should not have a "
			"reschedule policy");
}

NMD_TEST(test_structs_validate__disconnect)
{
	nomad_job *job = make_job(NOMAD__JOB_TYPE__system);
	Nomad__DisconnectStrategy *d = tj_new_msg(&nomad__disconnect_strategy__descriptor);
	nomad_problems *p;

	d->has_lostafter = d->has_stoponclientafter = 1;
	d->lostafter = -SEC;
	d->stoponclientafter = MINUTE;
	group0(job)->disconnect = d;
	p = validate(job);
	CHECK_PROBLEM(p, "group \"web\": disconnect: stop_on_client_after can "
			 "only be used with service or batch job types");
	CHECK_PROBLEM(p, "group \"web\": disconnect: lost_after cannot be a "
			 "negative duration");
	CHECK_PROBLEM(p, "group \"web\": disconnect: using both lost_after and "
			 "stop_on_client_after is not supported");
	CHECK_COUNT(p, 3);
	nomad_problems_free(p);
	nomad_job_free(job);
}

/* ---- periodic and parameterized --------------------------------------------------- */

NMD_TEST(test_structs_validate__periodic)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__batch);
	nomad_problems *p;

	job->periodic = tj_new_msg(&nomad__periodic_config__descriptor);
	job->periodic->spec = tj_dup("61 * * * *");
	job->periodic->timezone = tj_dup("Not A Zone");
	canon(job);
	p = validate(job);
	CHECK_PROBLEM(p, "periodic: invalid cron spec \"61 * * * *\": syntax "
			 "error in minute field: \"61\"");
	CHECK_PROBLEM(p, "periodic: invalid time zone \"Not A Zone\"");
	CHECK_COUNT(p, 2);
	nomad_problems_free(p);
	set(&job->periodic->spec, "*/15 * * * * *");
	set(&job->periodic->timezone, "America/New_York");
	p = validate(job);
	CHECK_COUNT(p, 0);
	nomad_problems_free(p);
	job->type = NOMAD__JOB_TYPE__service;
	p = validate(job);
	CHECK_PROBLEM(p, "periodic can only be used with \"batch\" or "
			 "\"sysbatch\" scheduler");
	nomad_problems_free(p);
	nomad_job_free(job);
}

NMD_TEST(test_structs_validate__parameterized)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__batch);
	Nomad__ParameterizedJobConfig *pj;
	nomad_problems *p;

	task0(job)->dispatchpayload =
		tj_new_msg(&nomad__dispatch_payload_config__descriptor);
	task0(job)->dispatchpayload->file = tj_dup("../../../../etc/passwd");
	canon(job);
	p = validate(job);
	CHECK_PROBLEM(p, "group \"web\" task \"api\": dispatch_payload requires "
			 "a parameterized job");
	CHECK_PROBLEM(p, "group \"web\" task \"api\": dispatch_payload: "
			 "destination escapes allocation directory");
	CHECK_COUNT(p, 2);
	nomad_problems_free(p);
	pj = job->parameterizedjob =
		tj_new_msg(&nomad__parameterized_job_config__descriptor);
	pj->payload = tj_dup("sometimes");
	pj->metarequired = calloc(1, sizeof(char *));
	pj->metarequired[0] = tj_dup("k");
	pj->n_metarequired = 1;
	pj->metaoptional = calloc(1, sizeof(char *));
	pj->metaoptional[0] = tj_dup("k");
	pj->n_metaoptional = 1;
	set(&task0(job)->dispatchpayload->file, "input.json");
	p = validate(job);
	CHECK_PROBLEM(p, "parameterized: unknown payload requirement: "
			 "\"sometimes\"");
	CHECK_PROBLEM(p, "parameterized: required and optional meta keys "
			 "should be disjoint. Following keys exist in both: [k]");
	CHECK_COUNT(p, 2);
	nomad_problems_free(p);
	nomad_job_free(job);
}

/* ---- task blocks ------------------------------------------------------------------- */

NMD_TEST(test_structs_validate__lifecycle_disk_logs)
{
	nomad_job *job = make_job(NOMAD__JOB_TYPE__service);
	Nomad__Task *t = task0(job);
	nomad_problems *p;

	t->lifecycle = tj_new_msg(&nomad__task_lifecycle__descriptor);
	t->lifecycle->has_hook = t->lifecycle->has_sidecar = 1;
	t->lifecycle->hook = NOMAD__TASK_LIFECYCLE__HOOK_KIND__poststop;
	t->lifecycle->sidecar = 1;
	group0(job)->ephemeraldisk->sizemb = 5;
	t->logconfig->maxfiles = 0;
	p = validate(job);
	CHECK_PROBLEM(p, "group \"web\" task \"api\": lifecycle: sidecar is "
			 "only valid with the prestart or poststart hook");
	CHECK_PROBLEM(p, "group \"web\": ephemeral_disk: minimum DiskMB value "
			 "is 10; got 5");
	CHECK_PROBLEM(p, "group \"web\" task \"api\": logs: minimum number of "
			 "files is 1; got 0");
	CHECK_COUNT(p, 3);
	nomad_problems_free(p);
	t->logconfig->maxfiles = 10;
	t->lifecycle->has_hook = 0;
	group0(job)->ephemeraldisk->sizemb = 100;
	p = validate(job);
	CHECK_PROBLEM(p, "group \"web\" task \"api\": lifecycle: no lifecycle "
			 "hook provided");
	CHECK_PROBLEM(p, "group \"web\" task \"api\": log storage (100 MB) must "
			 "be less than requested disk capacity (100 MB)");
	CHECK_COUNT(p, 2);
	nomad_problems_free(p);
	nomad_job_free(job);
}

NMD_TEST(test_structs_validate__templates)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__service);
	Nomad__Task *t = task0(job);
	Nomad__Template *a = tj_new_msg(&nomad__template__descriptor);
	Nomad__Template *b = tj_new_msg(&nomad__template__descriptor);
	Nomad__Template *c = tj_new_msg(&nomad__template__descriptor);
	nomad_problems *p;

	b->embeddedtmpl = tj_dup("x");
	b->destpath = tj_dup("../../../etc/passwd");
	b->perms = tj_dup("999");
	b->has_changemode = 1;
	b->changemode = NOMAD__TEMPLATE__CHANGE_MODE_KIND__signal;
	c->sourcepath = tj_dup("local/in.tpl");
	c->destpath = tj_dup("../../../etc/passwd");
	CHECK(NMD_PB_APPEND(NULL, t->templates, t->n_templates, a));
	CHECK(NMD_PB_APPEND(NULL, t->templates, t->n_templates, b));
	CHECK(NMD_PB_APPEND(NULL, t->templates, t->n_templates, c));
	canon(job);
	set(&b->changesignal, "");
	p = validate(job);
	CHECK_PROBLEM(p, "group \"web\" task \"api\": template 1: must specify "
			 "a source path or have an embedded template");
	CHECK_PROBLEM(p, "group \"web\" task \"api\": template 1: must specify "
			 "a destination for the template");
	CHECK_PROBLEM(p, "group \"web\" task \"api\": template 2: destination "
			 "escapes allocation directory");
	CHECK_PROBLEM(p, "group \"web\" task \"api\": template 2: must specify "
			 "signal value when change mode is signal");
	CHECK_PROBLEM(p, "group \"web\" task \"api\": template 2: failed to "
			 "parse \"999\" as octal");
	CHECK_PROBLEM(p, "group \"web\" task \"api\": template 3: destination "
			 "escapes allocation directory");
	CHECK_PROBLEM(p, "group \"web\" task \"api\": template 3 has same "
			 "destination as 2");
	CHECK_COUNT(p, 7);
	nomad_problems_free(p);
	nomad_job_free(job);
}

NMD_TEST(test_structs_validate__artifacts)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__batch);
	Nomad__Task *t = task0(job);
	Nomad__TaskArtifact *a = tj_new_msg(&nomad__task_artifact__descriptor);
	Nomad__TaskArtifact *b = tj_new_msg(&nomad__task_artifact__descriptor);
	nomad_problems *p;

	a->gettermode = tj_dup("zip");
	b->gettersource = tj_dup("https://example.com/x.tgz");
	CHECK(nmd_map_set(NULL, &b->getteroptions, &b->n_getteroptions,
			  "checksum", "md5:abcd"));
	CHECK(NMD_PB_APPEND(NULL, t->artifacts, t->n_artifacts, a));
	CHECK(NMD_PB_APPEND(NULL, t->artifacts, t->n_artifacts, b));
	canon(job);
	p = validate(job);
	CHECK_PROBLEM(p, "group \"web\" task \"api\": artifact 1: source must "
			 "be specified");
	CHECK_PROBLEM(p, "group \"web\" task \"api\": artifact 1: invalid "
			 "artifact mode \"zip\"; must be one of: any, file, dir");
	CHECK_PROBLEM(p, "group \"web\" task \"api\": artifact 2: invalid md5 "
			 "checksum: abcd");
	CHECK_COUNT(p, 3);
	nomad_problems_free(p);
	nomad_job_free(job);
}

NMD_TEST(test_structs_validate__services)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__service);
	Nomad__TaskGroup *tg = group0(job);
	Nomad__Task *t = task0(job);
	Nomad__Service *s;
	Nomad__ServiceCheck *c;
	nomad_problems *p;
	Nomad__NetworkResource *n = add_network(tg);

	CHECK(NMD_PB_APPEND(NULL, n->dynamicports, n->n_dynamicports,
			    port("http", 0, 0)));
	s = add_service(&t->services, &t->n_services, "bad_name", "nope");
	c = add_check(s, "slow", "http");
	c->interval = 0;
	add_service(&t->services, &t->n_services, "ok", "http");
	add_service(&t->services, &t->n_services, "ok", "http");
	s = add_service(&tg->services, &tg->n_services, "native", "missing");
	s->provider = tj_dup("nomad");
	canon(job);
	p = validate(job);
	CHECK_PROBLEM(p, "group \"web\" task \"api\": service \"bad_name\": "
			 "service name must be valid per RFC 1123 and can "
			 "contain only alphanumeric characters or dashes and "
			 "must be no longer than 63 characters: \"bad_name\"");
	CHECK_PROBLEM(p, "group \"web\" task \"api\": service \"bad_name\": "
			 "check \"slow\": http type must have http path");
	CHECK_PROBLEM(p, "group \"web\" task \"api\": service \"ok\" is "
			 "duplicate");
	CHECK_PROBLEM(p, "group \"web\" task \"api\": port label \"nope\" "
			 "referenced by services bad_name does not exist");
	CHECK_PROBLEM(p, "group \"web\": port label \"missing\" referenced by "
			 "services native does not exist");
	CHECK_COUNT(p, 5);
	nomad_problems_free(p);
	set(&c->path, "/health");
	p = validate(job);
	CHECK_PROBLEM(p, "group \"web\" task \"api\": service \"bad_name\": "
			 "check \"slow\": missing required value interval. "
			 "Interval cannot be less than 1s");
	nomad_problems_free(p);
	nomad_job_free(job);
}

NMD_TEST(test_structs_validate__volumes)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__service);
	Nomad__TaskGroup *tg = group0(job);
	Nomad__VolumeRequestEntry *a = tj_new_msg(&nomad__volume_request_entry__descriptor);
	Nomad__VolumeRequestEntry *b = tj_new_msg(&nomad__volume_request_entry__descriptor);
	Nomad__VolumeMount *vm = tj_new_msg(&nomad__volume_mount__descriptor);
	nomad_problems *p;

	a->key = tj_dup("cache");
	a->value = tj_new_msg(&nomad__volume_request__descriptor);
	a->value->type = tj_dup("nfs");
	b->key = tj_dup("db");
	b->value = tj_new_msg(&nomad__volume_request__descriptor);
	b->value->type = tj_dup("csi");
	CHECK(NMD_PB_APPEND(NULL, tg->volumes, tg->n_volumes, a));
	CHECK(NMD_PB_APPEND(NULL, tg->volumes, tg->n_volumes, b));
	vm->volume = tj_dup("other");
	CHECK(NMD_PB_APPEND(NULL, task0(job)->volumemounts,
			    task0(job)->n_volumemounts, vm));
	canon(job);
	p = validate(job);
	CHECK_PROBLEM(p, "group \"web\": volume \"cache\": volume has "
			 "unrecognized type nfs");
	CHECK_PROBLEM(p, "group \"web\": volume \"db\": volume has an empty "
			 "source");
	CHECK_PROBLEM(p, "group \"web\": volume \"db\": CSI volumes must have "
			 "an attachment mode");
	CHECK_PROBLEM(p, "group \"web\": volume \"db\": CSI volumes must have "
			 "an access mode");
	CHECK_PROBLEM(p, "group \"web\" task \"api\": volume_mount 1: "
			 "references undefined volume other");
	CHECK_COUNT(p, 5);
	nomad_problems_free(p);
	nomad_job_free(job);
}

/* ---- many problems, the error, the list ------------------------------------------------ */

NMD_TEST(test_structs_validate__collects_everything)
{
	nomad_job *job = make_job(NOMAD__JOB_TYPE__service);
	nomad_problems *p = NULL;
	nomad_error err;
	char want[160];

	set(&job->id, "bad id");
	job->priority = 0;
	group0(job)->count = -3;
	set(&task0(job)->driver, NULL);
	task0(job)->resources->memorymb = 1;
	CHECK_INT(nomad_job_validate(job, &p, &err), NOMAD_EINVAL);
	CHECK_COUNT(p, 5);
	CHECK_STR(nomad_problems_get(p, 0), "job ID contains a space");
	CHECK_STR(nomad_problems_get(p, 1),
		  "job priority must be between [1, 100]");
	CHECK_STR(nomad_problems_get(p, 2),
		  "group \"web\": task group count can't be negative");
	CHECK_STR(nomad_problems_get(p, 3),
		  "group \"web\" task \"api\": missing task driver");
	CHECK_STR(nomad_problems_get(p, 4), "group \"web\" task \"api\": "
					    "resources: memory must be at "
					    "least 10 MB");
	snprintf(want, sizeof(want), "%s (and 4 more problems)",
		 nomad_problems_get(p, 0));
	CHECK_STR(err.message, want);
	CHECK_INT(err.code, NOMAD_EINVAL);
	CHECK(nomad_problems_get(p, 5) == NULL);
	nomad_problems_free(p);
	/* out may be NULL; the verdict and message are the same */
	CHECK_INT(nomad_job_validate(job, NULL, &err), NOMAD_EINVAL);
	CHECK_STR(err.message, want);
	job->priority = 50;
	group0(job)->count = 1;
	set(&task0(job)->driver, "exec");
	task0(job)->resources->memorymb = 64;
	CHECK_INT(nomad_job_validate(job, NULL, &err), NOMAD_EINVAL);
	CHECK_STR(err.message, "job ID contains a space");
	set(&job->id, "ok");
	CHECK_INT(nomad_job_validate(job, NULL, NULL), NOMAD_OK);
	nomad_job_free(job);
}

NMD_TEST(test_structs_validate__two_problems_singular)
{
	nomad_job *job = make_job(NOMAD__JOB_TYPE__service);
	nomad_error err;

	set(&job->id, "a b");
	set(&job->name, NULL);
	CHECK_INT(nomad_job_validate(job, NULL, &err), NOMAD_EINVAL);
	CHECK_STR(err.message, "job ID contains a space (and 1 more problem)");
	nomad_job_free(job);
}

NMD_TEST(test_structs_validate__null_arguments)
{
	nomad_problems *p = (nomad_problems *)1;
	nomad_error err;

	CHECK_INT(nomad_job_validate(NULL, &p, &err), NOMAD_EINVAL);
	CHECK(p == NULL);
	CHECK_CONTAINS(err.message, "no job");
	CHECK_INT(nomad_problems_count(NULL), 0);
	CHECK(nomad_problems_get(NULL, 0) == NULL);
	nomad_problems_free(NULL);
}

/* ---- the parsers ------------------------------------------------------------------------ */

NMD_TEST(test_structs_validate__cron_specs)
{
	static const char *const good[] = {
		"* * * * *",        "*/15 * * * * *",  "0 0 * * * * 2030",
		"0 9-17/2 * * MON-FRI", "30 2 L * ?",   "0 0 15W * *",
		"0 12 * JAN,jul *", "0 0 * * 5L",      "0 0 * * 1#3",
		"@daily",           "@hourly",         "0 0 1 1 7",
	};
	static const char *const bad[] = {
		"",        "* * * *",     "* * * * * * * *", "60 * * * *",
		"* 24 * * *", "* * 0 * *", "* * * 13 *",     "* * * * 8",
		"*/0 * * * *", "a * * * *", "1,,2 * * * *",   "@every 5m",
		"0 0 * * 1#6", "* * * * * 1969",
	};
	char why[128];

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		if (!nmd_cron_parse(good[i], why, sizeof(why)))
			nmd_test_fail(__FILE__, __LINE__, "\"%s\": %s", good[i],
				      why);
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		if (nmd_cron_parse(bad[i], why, sizeof(why)))
			nmd_test_fail(__FILE__, __LINE__, "\"%s\" accepted",
				      bad[i]);
	CHECK(!nmd_cron_parse("* * * * * * * *", why, sizeof(why)));
	CHECK_STR(why, "too many fields");
	CHECK(!nmd_cron_parse("* * *", why, sizeof(why)));
	CHECK_STR(why, "missing field(s)");
}

NMD_TEST(test_structs_validate__version_constraints)
{
	static const char *const good[] = {
		">= 1.2.3",       "1.0",          "~> 1.2",
		"> 1.0, < 2.0",   "= v1.2.3-beta.1+build.5",
		"!= 0.9rc1",      " >=1.0 ",
	};
	char why[128];

	for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++)
		if (!nmd_version_constraint_parse(good[i], false, why,
						  sizeof(why)))
			nmd_test_fail(__FILE__, __LINE__, "\"%s\": %s", good[i],
				      why);
	CHECK(!nmd_version_constraint_parse("", false, why, sizeof(why)));
	CHECK(!nmd_version_constraint_parse(">= x", false, why, sizeof(why)));
	CHECK_STR(why, "malformed constraint: >= x");
	CHECK(!nmd_version_constraint_parse("1.0,", false, why, sizeof(why)));
	CHECK(nmd_version_constraint_parse(">= 1.2.3-rc1", true, why,
					   sizeof(why)));
	CHECK(!nmd_version_constraint_parse("~> 1.2", true, why, sizeof(why)));
	CHECK(!nmd_version_constraint_parse("1.2.3.4", true, why, sizeof(why)));
	CHECK(!nmd_version_constraint_parse("1.0beta", true, why, sizeof(why)));
}

NMD_TEST(test_structs_validate__path_escapes)
{
	CHECK(!nmd_path_escapes("task", "local/x"));
	CHECK(!nmd_path_escapes("task", "/etc/passwd"));
	CHECK(!nmd_path_escapes("task", "../alloc/data"));
	CHECK(nmd_path_escapes("task", "../../x"));
	CHECK(!nmd_path_escapes("task/local", "../../x"));
	CHECK(nmd_path_escapes("task/local", "../../../x"));
	CHECK(!nmd_path_escapes("task", ""));
}

/* ---- the shared corpus -------------------------------------------------------------------- */

static nomad_job_register_request *load(const char *name)
{
	const char *dir = nmd_test_corpus_dir();
	nomad_job_register_request *req = NULL;
	nomad_error err;
	char path[512];
	size_t len;
	char *text;

	if (!dir)
		nmd_test_skip("no corpus directory");
	snprintf(path, sizeof(path), "%s/api/%s", dir, name);
	if (!(text = nmd_test_read_file(path, &len)))
		nmd_test_skip("corpus file missing");
	if (nomad_job_register_request_from_json(&req, text, len, NULL, &err))
		nmd_test_fail(__FILE__, __LINE__, "%s: %s", name, err.message);
	free(text);
	CHECK(req && req->job);
	return req;
}

NMD_TEST(test_structs_validate__corpus_example_short)
{
	nomad_job_register_request *req = load("example-short.json");
	nomad_problems *p;

	canon(req->job);
	p = validate(req->job);
	CHECK_COUNT(p, 0);
	CHECK_STR(req->job->region, "global");
	CHECK_STR(req->job->taskgroups[0]->networks[0]->mode, "host");
	nomad_problems_free(p);
	nomad_job_register_request_free(req);
}

NMD_TEST(test_structs_validate__corpus_example_short_bad)
{
	nomad_job_register_request *req = load("example-short-bad.json");
	nomad_error err;

	canon(req->job);
	CHECK_INT(nomad_job_validate(req->job, NULL, &err), NOMAD_EINVAL);
	CHECK_CONTAINS(err.message, "contains a space");
	CHECK(req->job->taskgroups[0]->disconnect->replace);
	nomad_job_register_request_free(req);
}
