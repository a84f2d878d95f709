/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Job diffs and update kinds: a realistic two-group job is built in C,
 * copied, changed in one place, and the diff must show that change in
 * Nomad's shape (names, Old/New as Go prints them, types, annotations);
 * the update kind of each single change must be the one Nomad's
 * scheduler would pick.
 */
#include "test.h"
#include "structs/pb.h"

#define NONE NOMAD__DIFF_TYPE__None
#define ADDED NOMAD__DIFF_TYPE__Added
#define DELETED NOMAD__DIFF_TYPE__Deleted
#define EDITED NOMAD__DIFF_TYPE__Edited

#define NEW(T, d) ((T *)nmd_pb_new(&(d), NULL))
#define ADD(arr, n, e) CHECK(NMD_PB_APPEND(NULL, arr, n, e))
#define SET_I(m, f, v) ((m)->has_##f = 1, (m)->f = (v))

static const int64_t SEC = 1000000000;

/* ---- building a job ------------------------------------------------------ */

static void set_str(char **slot, const char *v)
{
	CHECK(nmd_pb_set_string(NULL, slot, v));
}

static void add_str(char ***arr, size_t *n, const char *v)
{
	char *d = NULL;
	set_str(&d, v);
	CHECK(nmd_pb_append(NULL, (void ***)arr, n, d));
}

static void set_meta(Nomad__StringEntry ***e, size_t *n, const char *k,
		     const char *v)
{
	CHECK(nmd_map_set(NULL, e, n, k, v));
}

static Nomad__RawJSON *raw(const char *json)
{
	Nomad__RawJSON *r = NEW(Nomad__RawJSON, nomad__raw_json__descriptor);
	set_str(&r->json, json);
	return r;
}

static Nomad__Task *make_task(const char *name, const char *driver,
			      const char *config, int cpu, int mem)
{
	Nomad__Task *t = NEW(Nomad__Task, nomad__task__descriptor);
	set_str(&t->name, name);
	set_str(&t->driver, driver);
	t->config = raw(config);
	set_meta(&t->env, &t->n_env, "PORT", "8080");
	t->resources = NEW(Nomad__Resources, nomad__resources__descriptor);
	SET_I(t->resources, cpu, cpu);
	SET_I(t->resources, memorymb, mem);
	t->logconfig = NEW(Nomad__LogConfig, nomad__log_config__descriptor);
	SET_I(t->logconfig, maxfiles, 10);
	SET_I(t->logconfig, maxfilesizemb, 10);
	SET_I(t->logconfig, disabled, 0);
	SET_I(t, killtimeout, 5 * SEC);
	t->restartpolicy = NEW(Nomad__RestartPolicy,
			       nomad__restart_policy__descriptor);
	SET_I(t->restartpolicy, attempts, 2);
	SET_I(t->restartpolicy, interval, 1800 * SEC);
	return t;
}

static Nomad__TaskGroup *make_group(const char *name, int count)
{
	Nomad__TaskGroup *g =
		NEW(Nomad__TaskGroup, nomad__task_group__descriptor);
	Nomad__UpdateStrategy *u;

	set_str(&g->name, name);
	SET_I(g, count, count);
	g->restartpolicy = NEW(Nomad__RestartPolicy,
			       nomad__restart_policy__descriptor);
	SET_I(g->restartpolicy, attempts, 2);
	SET_I(g->restartpolicy, interval, 1800 * SEC);
	SET_I(g->restartpolicy, delay, 15 * SEC);
	SET_I(g->restartpolicy, mode, NOMAD__RESTART_POLICY__MODE_KIND__fail);
	g->ephemeraldisk = NEW(Nomad__EphemeralDisk,
			       nomad__ephemeral_disk__descriptor);
	SET_I(g->ephemeraldisk, sizemb, 300);
	u = g->update = NEW(Nomad__UpdateStrategy,
			    nomad__update_strategy__descriptor);
	SET_I(u, maxparallel, 1);
	SET_I(u, healthcheck, NOMAD__HEALTH_CHECK_MODE__checks);
	SET_I(u, minhealthytime, 10 * SEC);
	SET_I(u, healthydeadline, 300 * SEC);
	SET_I(u, progressdeadline, 600 * SEC);
	SET_I(u, canary, 0);
	SET_I(u, autorevert, 0);
	SET_I(u, autopromote, 0);
	SET_I(u, stagger, 30 * SEC);
	return g;
}

/* Group networking: bridge mode, dynamic port "http" mapped to 8080, and
 * a service "web" on it with one HTTP check. */
static void add_network(Nomad__TaskGroup *g)
{
	Nomad__NetworkResource *n = NEW(Nomad__NetworkResource,
					nomad__network_resource__descriptor);
	Nomad__Port *p = NEW(Nomad__Port, nomad__port__descriptor);
	Nomad__Service *s = NEW(Nomad__Service, nomad__service__descriptor);
	Nomad__ServiceCheck *c = NEW(Nomad__ServiceCheck,
				     nomad__service_check__descriptor);

	set_str(&n->mode, "bridge");
	set_str(&p->label, "http");
	SET_I(p, to, 8080);
	ADD(n->dynamicports, n->n_dynamicports, p);
	ADD(g->networks, g->n_networks, n);
	set_str(&s->name, "web");
	set_str(&s->portlabel, "http");
	set_str(&s->provider, "consul");
	add_str(&s->tags, &s->n_tags, "v1");
	add_str(&s->tags, &s->n_tags, "blue");
	set_str(&c->name, "alive");
	set_str(&c->type, "http");
	set_str(&c->path, "/health");
	SET_I(c, interval, 10 * SEC);
	SET_I(c, timeout, 2 * SEC);
	ADD(s->checks, s->n_checks, c);
	ADD(g->services, g->n_services, s);
}

static nomad_job *make_job(void)
{
	nomad_job *j = nomad_job_new();
	Nomad__TaskGroup *fe, *be;

	CHECK(j);
	set_str(&j->id, "web");
	set_str(&j->name, "web");
	set_str(&j->region, "global");
	set_str(&j->namespace_, "default");
	set_str(&j->nodepool, "default");
	SET_I(j, type, NOMAD__JOB_TYPE__service);
	SET_I(j, priority, 50);
	SET_I(j, allatonce, 0);
	SET_I(j, version, 3);
	add_str(&j->datacenters, &j->n_datacenters, "dc1");
	set_meta(&j->meta, &j->n_meta, "owner", "team-a");

	fe = make_group("frontend", 2);
	add_network(fe);
	ADD(fe->tasks, fe->n_tasks,
	    make_task("server", "docker",
		      "{\"image\":\"nginx:1.25\",\"args\":[\"-g\",\"daemon "
		      "off;\"],\"ports\":[\"http\"]}",
		      100, 256));
	ADD(fe->tasks, fe->n_tasks,
	    make_task("logger", "exec", "{\"command\":\"/bin/logger\"}", 50, 64));
	ADD(j->taskgroups, j->n_taskgroups, fe);

	be = make_group("backend", 1);
	ADD(be->tasks, be->n_tasks,
	    make_task("api", "raw_exec",
		      "{\"command\":\"/usr/bin/api\",\"port\":8081}", 200, 128));
	ADD(j->taskgroups, j->n_taskgroups, be);
	return j;
}

static nomad_job *copy_job(const nomad_job *j)
{
	nomad_job *c = NULL;
	CHECK_OK(nomad_job_copy(&c, j));
	return c;
}

static Nomad__TaskGroup *grp(nomad_job *j, const char *name)
{
	for (size_t i = 0; i < j->n_taskgroups; i++)
		if (strcmp(j->taskgroups[i]->name, name) == 0)
			return j->taskgroups[i];
	nmd_test_fail(__FILE__, __LINE__, "no group %s", name);
}

static Nomad__Task *tsk(nomad_job *j, const char *g, const char *name)
{
	Nomad__TaskGroup *tg = grp(j, g);
	for (size_t i = 0; i < tg->n_tasks; i++)
		if (strcmp(tg->tasks[i]->name, name) == 0)
			return tg->tasks[i];
	nmd_test_fail(__FILE__, __LINE__, "no task %s", name);
}

static void set_config(Nomad__Task *t, const char *json)
{
	set_str(&t->config->json, json);
}

/* ---- reading a diff ------------------------------------------------------ */

static nomad_job_diff *diff(const nomad_job *a, const nomad_job *b,
			    unsigned flags)
{
	nomad_job_diff *d = NULL;
	nomad_error err;
	if (nomad_job_diff_compute(&d, a, b, flags, &err) != NOMAD_OK)
		nmd_test_fail(__FILE__, __LINE__, "diff: %s", err.message);
	CHECK(d);
	return d;
}

/* The i-th entry named `name` of a list of fields or objects. */
static const Nomad__FieldDiff *field_at(Nomad__FieldDiff *const *f, size_t n,
					const char *name, size_t nth)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(f[i]->name, name) == 0 && nth-- == 0)
			return f[i];
	return NULL;
}

static const Nomad__ObjectDiff *object_at(Nomad__ObjectDiff *const *o,
					  size_t n, const char *name,
					  size_t nth)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(o[i]->name, name) == 0 && nth-- == 0)
			return o[i];
	return NULL;
}

#define FIELD(d, name) field_at((d)->fields, (d)->n_fields, (name), 0)
#define OBJECT(d, name) object_at((d)->objects, (d)->n_objects, (name), 0)
#define OBJECT_N(d, name, i) object_at((d)->objects, (d)->n_objects, (name), (i))

static const Nomad__TaskGroupDiff *gdiff(const nomad_job_diff *d,
					 const char *name)
{
	for (size_t i = 0; i < d->n_taskgroups; i++)
		if (strcmp(d->taskgroups[i]->name, name) == 0)
			return d->taskgroups[i];
	nmd_test_fail(__FILE__, __LINE__, "no group diff %s", name);
}

static const Nomad__TaskDiff *tdiff(const Nomad__TaskGroupDiff *g,
				    const char *name)
{
	for (size_t i = 0; i < g->n_tasks; i++)
		if (strcmp(g->tasks[i]->name, name) == 0)
			return g->tasks[i];
	nmd_test_fail(__FILE__, __LINE__, "no task diff %s", name);
}

#define CHECK_FIELD(f, t, o, n)                                               \
	do {                                                                  \
		const Nomad__FieldDiff *f_ = (f);                             \
		CHECK(f_ != NULL);                                            \
		CHECK_INT(f_->type, (t));                                     \
		CHECK_STR(f_->old, (o));                                      \
		CHECK_STR(f_->new_, (n));                                     \
	} while (0)

/* The only annotation of a task or field is `note`. */
#define CHECK_NOTE(d, note)                                                   \
	do {                                                                  \
		CHECK_INT((d)->n_annotations, 1);                             \
		CHECK_STR((d)->annotations[0], (note));                       \
	} while (0)

/* ---- whole jobs ------------------------------------------------------------ */

NMD_TEST(test_structs_diff__identical)
{
	nomad_job *a = make_job(), *b = copy_job(a);
	unsigned flags[] = {0, NOMAD_DIFF_CONTEXTUAL};

	for (size_t k = 0; k < 2; k++) {
		nomad_job_diff *d = diff(a, b, flags[k]);
		CHECK_INT(d->type, NONE);
		CHECK_STR(d->id, "web");
		CHECK_INT(d->n_fields, 0);
		CHECK_INT(d->n_objects, 0);
		/* Every group and task is listed, unchanged, sorted. */
		CHECK_INT(d->n_taskgroups, 2);
		CHECK_STR(d->taskgroups[0]->name, "backend");
		CHECK_STR(d->taskgroups[1]->name, "frontend");
		for (size_t i = 0; i < 2; i++) {
			const Nomad__TaskGroupDiff *g = d->taskgroups[i];
			CHECK_INT(g->type, NONE);
			CHECK_INT(g->n_fields + g->n_objects, 0);
			for (size_t t = 0; t < g->n_tasks; t++) {
				CHECK_INT(g->tasks[t]->type, NONE);
				CHECK_INT(g->tasks[t]->n_annotations, 0);
			}
		}
		CHECK_STR(gdiff(d, "frontend")->tasks[0]->name, "logger");
		CHECK_STR(gdiff(d, "frontend")->tasks[1]->name, "server");
		nomad_job_diff_free(d);
	}
	nomad_job_free(a);
	nomad_job_free(b);
}

NMD_TEST(test_structs_diff__priority)
{
	nomad_job *a = make_job(), *b = copy_job(a);
	nomad_job_diff *d;

	b->priority = 60;
	d = diff(a, b, 0);
	CHECK_INT(d->type, EDITED);
	CHECK_STR(d->id, "web");
	CHECK_INT(d->n_fields, 1);
	CHECK_STR(d->fields[0]->name, "Priority");
	CHECK_FIELD(d->fields[0], EDITED, "50", "60");
	CHECK_INT(d->n_objects, 0);
	CHECK_INT(gdiff(d, "frontend")->type, NONE);
	nomad_job_diff_free(d);
	nomad_job_free(a);
	nomad_job_free(b);
}

/* Nomad's Job.Diff filter: what the server sets never shows, Stop does. */
NMD_TEST(test_structs_diff__server_fields)
{
	nomad_job *a = make_job(), *b = copy_job(a);
	nomad_job_diff *d;

	SET_I(b, version, 9);
	SET_I(b, jobmodifyindex, 120);
	SET_I(b, modifyindex, 121);
	SET_I(b, createindex, 7);
	SET_I(b, submittime, 1700000000 * SEC);
	SET_I(b, stable, 1);
	SET_I(b, status, NOMAD__JOB__STATUS_KIND__running);
	set_str(&b->statusdescription, "running");
	set_str(&b->vaulttoken, "s.secret");
	set_str(&b->nomadtokenid, "token-accessor");
	d = diff(a, b, 0);
	CHECK_INT(d->type, NONE);
	CHECK_INT(d->n_fields, 0);
	nomad_job_diff_free(d);

	SET_I(b, stop, 1);
	d = diff(a, b, 0);
	CHECK_INT(d->type, EDITED);
	CHECK_INT(d->n_fields, 1);
	/* Unset reads as Go's zero value. */
	CHECK_FIELD(FIELD(d, "Stop"), EDITED, "false", "true");
	nomad_job_diff_free(d);
	nomad_job_free(a);
	nomad_job_free(b);
}

NMD_TEST(test_structs_diff__datacenters)
{
	nomad_job *a = make_job(), *b = copy_job(a);
	const Nomad__ObjectDiff *o;
	nomad_job_diff *d;

	add_str(&b->datacenters, &b->n_datacenters, "dc2");
	d = diff(a, b, 0);
	CHECK_INT(d->type, EDITED);
	CHECK(o = OBJECT(d, "Datacenters"));
	CHECK_INT(o->type, ADDED);
	CHECK_INT(o->n_fields, 1);
	CHECK_STR(o->fields[0]->name, "Datacenters");
	CHECK_FIELD(o->fields[0], ADDED, "", "dc2");
	nomad_job_diff_free(d);

	/* dc1 -> dc2: one added, one removed, sorted by Old then New. */
	set_str(&b->datacenters[0], "dc2");
	b->n_datacenters = 1;
	free(b->datacenters[1]);
	d = diff(a, b, 0);
	CHECK(o = OBJECT(d, "Datacenters"));
	CHECK_INT(o->type, EDITED);
	CHECK_INT(o->n_fields, 2);
	CHECK_FIELD(o->fields[0], ADDED, "", "dc2");
	CHECK_FIELD(o->fields[1], DELETED, "dc1", "");
	nomad_job_diff_free(d);

	/* Unchanged sets are left out even with context at job level. */
	d = diff(a, a, NOMAD_DIFF_CONTEXTUAL);
	CHECK(OBJECT(d, "Datacenters") == NULL);
	nomad_job_diff_free(d);
	nomad_job_free(a);
	nomad_job_free(b);
}

NMD_TEST(test_structs_diff__meta)
{
	nomad_job *a = make_job(), *b;
	nomad_job_diff *d;

	set_meta(&a->meta, &a->n_meta, "tier", "web");
	b = copy_job(a);
	set_meta(&b->meta, &b->n_meta, "owner", "team-b");
	set_meta(&b->meta, &b->n_meta, "env", "prod");
	nmd_pb_free(b->meta[2], NULL); /* tier: owner < tier after env */
	b->n_meta = 2;
	d = diff(a, b, 0);
	CHECK_INT(d->type, EDITED);
	CHECK_INT(d->n_fields, 3);
	CHECK_STR(d->fields[0]->name, "Meta[env]");
	CHECK_FIELD(d->fields[0], ADDED, "", "prod");
	CHECK_STR(d->fields[1]->name, "Meta[owner]");
	CHECK_FIELD(d->fields[1], EDITED, "team-a", "team-b");
	CHECK_STR(d->fields[2]->name, "Meta[tier]");
	CHECK_FIELD(d->fields[2], DELETED, "web", "");
	nomad_job_diff_free(d);
	nomad_job_free(a);
	nomad_job_free(b);
}

NMD_TEST(test_structs_diff__constraint_added)
{
	nomad_job *a = make_job(), *b = copy_job(a);
	Nomad__Constraint *c = NEW(Nomad__Constraint,
				   nomad__constraint__descriptor);
	const Nomad__ObjectDiff *o;
	nomad_job_diff *d;

	set_str(&c->ltarget, "${attr.kernel.name}");
	set_str(&c->operand, "=");
	set_str(&c->rtarget, "linux");
	ADD(grp(b, "backend")->constraints, grp(b, "backend")->n_constraints, c);
	d = diff(a, b, 0);
	CHECK_INT(d->type, EDITED);
	CHECK_INT(gdiff(d, "backend")->type, EDITED);
	CHECK_INT(gdiff(d, "frontend")->type, NONE);
	CHECK(o = OBJECT(gdiff(d, "backend"), "Constraint"));
	CHECK_INT(o->type, ADDED);
	CHECK_INT(o->n_fields, 3);
	CHECK_FIELD(FIELD(o, "LTarget"), ADDED, "", "${attr.kernel.name}");
	CHECK_FIELD(FIELD(o, "Operand"), ADDED, "", "=");
	CHECK_FIELD(FIELD(o, "RTarget"), ADDED, "", "linux");
	nomad_job_diff_free(d);

	/* A changed constraint is a set change: the old one goes, the new
	 * one comes, Added sorted before Deleted. */
	nomad_job_free(a);
	a = copy_job(b);
	set_str(&c->rtarget, "darwin");
	d = diff(a, b, 0);
	CHECK_INT(gdiff(d, "backend")->n_objects, 2);
	CHECK_INT(OBJECT_N(gdiff(d, "backend"), "Constraint", 0)->type, ADDED);
	CHECK_INT(OBJECT_N(gdiff(d, "backend"), "Constraint", 1)->type, DELETED);
	nomad_job_diff_free(d);
	nomad_job_free(a);
	nomad_job_free(b);
}

/* ---- groups ------------------------------------------------------------- */

NMD_TEST(test_structs_diff__group_added)
{
	nomad_job *a = make_job(), *b = copy_job(a);
	Nomad__TaskGroup *g = make_group("cache", 3);
	const Nomad__TaskGroupDiff *gd;
	const Nomad__TaskDiff *td;
	nomad_job_diff *d;

	ADD(g->tasks, g->n_tasks,
	    make_task("redis", "docker", "{\"image\":\"redis:7\"}", 500, 512));
	ADD(b->taskgroups, b->n_taskgroups, g);
	d = diff(a, b, 0);
	CHECK_INT(d->type, EDITED);
	CHECK_INT(d->n_taskgroups, 3);
	CHECK_STR(d->taskgroups[1]->name, "cache");
	gd = gdiff(d, "cache");
	CHECK_INT(gd->type, ADDED);
	CHECK_FIELD(FIELD(gd, "Count"), ADDED, "", "3");
	CHECK_NOTE(FIELD(gd, "Count"), "forces create");
	CHECK_INT(OBJECT(gd, "Update")->type, ADDED);
	CHECK(FIELD(OBJECT(gd, "Update"), "Stagger") == NULL);
	td = tdiff(gd, "redis");
	CHECK_INT(td->type, ADDED);
	CHECK_NOTE(td, "forces create");
	CHECK_FIELD(FIELD(td, "Driver"), ADDED, "", "docker");
	CHECK_FIELD(FIELD(td, "Env[PORT]"), ADDED, "", "8080");
	CHECK_FIELD(FIELD(td, "KillTimeout"), ADDED, "", "5000000000");
	CHECK_FIELD(FIELD(OBJECT(td, "Resources"), "CPU"), ADDED, "", "500");
	CHECK_FIELD(FIELD(OBJECT(td, "Config"), "image"), ADDED, "", "redis:7");
	nomad_job_diff_free(d);
	nomad_job_free(a);
	nomad_job_free(b);
}

NMD_TEST(test_structs_diff__group_deleted)
{
	nomad_job *a = make_job(), *b = copy_job(a);
	const Nomad__TaskGroupDiff *gd;
	nomad_job_diff *d;

	nmd_pb_free(b->taskgroups[1], NULL);
	b->n_taskgroups = 1;
	d = diff(a, b, 0);
	CHECK_INT(d->type, EDITED);
	gd = gdiff(d, "backend");
	CHECK_INT(gd->type, DELETED);
	CHECK_FIELD(FIELD(gd, "Count"), DELETED, "1", "");
	CHECK_NOTE(FIELD(gd, "Count"), "forces destroy");
	CHECK_INT(tdiff(gd, "api")->type, DELETED);
	CHECK_NOTE(tdiff(gd, "api"), "forces destroy");
	CHECK_FIELD(FIELD(tdiff(gd, "api"), "Driver"), DELETED, "raw_exec", "");
	nomad_job_diff_free(d);
	nomad_job_free(a);
	nomad_job_free(b);
}

NMD_TEST(test_structs_diff__count)
{
	nomad_job *a = make_job(), *b = copy_job(a);
	const Nomad__TaskGroupDiff *gd;
	nomad_job_diff *d;

	grp(b, "frontend")->count = 5;
	d = diff(a, b, 0);
	gd = gdiff(d, "frontend");
	CHECK_INT(gd->type, EDITED);
	CHECK_INT(gd->n_fields, 1);
	CHECK_FIELD(gd->fields[0], EDITED, "2", "5");
	CHECK_NOTE(gd->fields[0], "forces create");
	CHECK_INT(tdiff(gd, "server")->type, NONE);
	nomad_job_diff_free(d);

	grp(b, "frontend")->count = 1;
	d = diff(a, b, 0);
	CHECK_NOTE(gdiff(d, "frontend")->fields[0], "forces destroy");
	nomad_job_diff_free(d);
	nomad_job_free(a);
	nomad_job_free(b);
}

/* Update block: an Edited object whose field types follow the fields;
 * with context the unchanged fields are listed as None (never Stagger,
 * which Nomad filters). */
NMD_TEST(test_structs_diff__update_block)
{
	nomad_job *a = make_job(), *b = copy_job(a);
	const Nomad__ObjectDiff *o;
	const Nomad__TaskGroupDiff *gd;
	nomad_job_diff *d;

	grp(b, "frontend")->update->maxparallel = 2;
	grp(b, "frontend")->update->stagger = 1;
	d = diff(a, b, 0);
	gd = gdiff(d, "frontend");
	CHECK_INT(gd->type, EDITED);
	CHECK_INT(gd->n_fields, 0);
	CHECK_INT(gd->n_objects, 1);
	CHECK(o = OBJECT(gd, "Update"));
	CHECK_INT(o->type, EDITED);
	CHECK_INT(o->n_fields, 1);
	CHECK_FIELD(o->fields[0], EDITED, "1", "2");
	CHECK_STR(o->fields[0]->name, "MaxParallel");
	CHECK_INT(tdiff(gd, "server")->type, NONE);
	nomad_job_diff_free(d);

	d = diff(a, b, NOMAD_DIFF_CONTEXTUAL);
	gd = gdiff(d, "frontend");
	CHECK(o = OBJECT(gd, "Update"));
	CHECK_INT(o->n_fields, 8);
	CHECK_FIELD(FIELD(o, "MaxParallel"), EDITED, "1", "2");
	CHECK_FIELD(FIELD(o, "HealthCheck"), NONE, "checks", "checks");
	CHECK_FIELD(FIELD(o, "AutoRevert"), NONE, "false", "false");
	CHECK_FIELD(FIELD(o, "MinHealthyTime"), NONE, "10000000000",
		    "10000000000");
	CHECK(FIELD(o, "Stagger") == NULL);
	/* Unchanged objects stay out, and so do group-level fields. */
	CHECK(OBJECT(gd, "RestartPolicy") == NULL);
	CHECK_INT(gd->n_fields, 0);
	nomad_job_diff_free(d);
	nomad_job_free(a);
	nomad_job_free(b);
}

NMD_TEST(test_structs_diff__service_tags)
{
	nomad_job *a = make_job(), *b = copy_job(a);
	const Nomad__ObjectDiff *s, *t;
	nomad_job_diff *d;

	set_str(&grp(b, "frontend")->services[0]->tags[0], "v2");
	d = diff(a, b, 0);
	CHECK(s = OBJECT(gdiff(d, "frontend"), "Service"));
	CHECK_INT(s->type, EDITED);
	CHECK_INT(s->n_fields, 0);
	CHECK(t = OBJECT(s, "Tags"));
	CHECK_INT(t->type, EDITED);
	CHECK_INT(t->n_fields, 2);
	CHECK_FIELD(t->fields[0], ADDED, "", "v2");
	CHECK_FIELD(t->fields[1], DELETED, "v1", "");
	CHECK(OBJECT(s, "Check") == NULL);
	nomad_job_diff_free(d);

	/* With context an edited service shows its unchanged fields and
	 * its unchanged tag as None. */
	d = diff(a, b, NOMAD_DIFF_CONTEXTUAL);
	s = OBJECT(gdiff(d, "frontend"), "Service");
	CHECK_FIELD(FIELD(s, "Name"), NONE, "web", "web");
	CHECK_FIELD(FIELD(s, "PortLabel"), NONE, "http", "http");
	CHECK_INT(OBJECT(s, "Tags")->n_fields, 3);
	nomad_job_diff_free(d);
	nomad_job_free(a);
	nomad_job_free(b);
}

/* Networks are a hash set in Nomad: a change is a Deleted and an Added
 * network, and dynamic ports are matched by label without their value. */
NMD_TEST(test_structs_diff__network)
{
	nomad_job *a = make_job(), *b = copy_job(a);
	const Nomad__TaskGroupDiff *gd;
	const Nomad__ObjectDiff *added, *port;
	nomad_job_diff *d;

	grp(b, "frontend")->networks[0]->dynamicports[0]->to = 9090;
	d = diff(a, b, 0);
	gd = gdiff(d, "frontend");
	CHECK_INT(gd->n_objects, 2);
	CHECK(added = OBJECT_N(gd, "Network", 0));
	CHECK_INT(added->type, ADDED);
	CHECK_INT(OBJECT_N(gd, "Network", 1)->type, DELETED);
	CHECK_FIELD(FIELD(added, "Mode"), ADDED, "", "bridge");
	CHECK(FIELD(added, "MBits") == NULL);
	CHECK(port = OBJECT(added, "Dynamic Port"));
	CHECK_INT(port->type, ADDED);
	CHECK_FIELD(FIELD(port, "Label"), ADDED, "", "http");
	CHECK_FIELD(FIELD(port, "To"), ADDED, "", "9090");
	CHECK(FIELD(port, "Value") == NULL);
	nomad_job_diff_free(d);
	nomad_job_free(a);
	nomad_job_free(b);
}

/* Services match by name and port label, not position: reordering them
 * shows no service diff, and an edited one is matched to its old self. */
NMD_TEST(test_structs_diff__services_matched)
{
	nomad_job *a = make_job(), *b;
	Nomad__TaskGroup *g = grp(a, "frontend");
	Nomad__Service *s = NEW(Nomad__Service, nomad__service__descriptor);
	const Nomad__TaskGroupDiff *gd;
	nomad_job_diff *d;

	set_str(&s->name, "admin");
	set_str(&s->portlabel, "admin");
	ADD(g->services, g->n_services, s);
	b = copy_job(a);
	g = grp(b, "frontend");
	s = g->services[0];
	g->services[0] = g->services[1];
	g->services[1] = s;
	d = diff(a, b, 0);
	CHECK(OBJECT(gdiff(d, "frontend"), "Service") == NULL);
	nomad_job_diff_free(d);

	set_str(&g->services[0]->address, "10.0.0.1"); /* admin */
	d = diff(a, b, 0);
	gd = gdiff(d, "frontend");
	CHECK_INT(gd->n_objects, 1);
	CHECK_INT(OBJECT(gd, "Service")->type, EDITED);
	CHECK_INT(OBJECT(gd, "Service")->n_fields, 1);
	CHECK_FIELD(FIELD(OBJECT(gd, "Service"), "Address"), ADDED, "",
		    "10.0.0.1");
	nomad_job_diff_free(d);
	nomad_job_free(a);
	nomad_job_free(b);
}

NMD_TEST(test_structs_diff__periodic)
{
	nomad_job *a = make_job(), *b = copy_job(a);
	Nomad__PeriodicConfig *p;
	const Nomad__ObjectDiff *o;
	nomad_job_diff *d;

	p = b->periodic = NEW(Nomad__PeriodicConfig,
			      nomad__periodic_config__descriptor);
	SET_I(p, enabled, 1);
	set_str(&p->spec, "*/15 * * * *");
	set_str(&p->timezone, "Europe/Minsk");
	d = diff(a, b, 0);
	CHECK(o = OBJECT(d, "Periodic"));
	CHECK_INT(o->type, ADDED);
	CHECK_INT(o->n_fields, 4);
	CHECK_FIELD(FIELD(o, "Enabled"), ADDED, "", "true");
	CHECK_FIELD(FIELD(o, "ProhibitOverlap"), ADDED, "", "false");
	CHECK_FIELD(FIELD(o, "Spec"), ADDED, "", "*/15 * * * *");
	CHECK_FIELD(FIELD(o, "TimeZone"), ADDED, "", "Europe/Minsk");
	CHECK_INT(o->n_objects, 0);
	nomad_job_diff_free(d);

	nomad_job_free(a);
	a = copy_job(b);
	add_str(&p->specs, &p->n_specs, "0 * * * *");
	d = diff(a, b, 0);
	CHECK(o = OBJECT(d, "Periodic"));
	CHECK_INT(o->type, EDITED);
	CHECK_INT(o->n_fields, 0);
	CHECK_INT(OBJECT(o, "Specs")->type, ADDED);
	CHECK_FIELD(OBJECT(o, "Specs")->fields[0], ADDED, "", "0 * * * *");
	nomad_job_diff_free(d);
	nomad_job_free(a);
	nomad_job_free(b);
}

/* Volumes are a map: one "Volume" object per changed key. */
NMD_TEST(test_structs_diff__volumes)
{
	nomad_job *a = make_job(), *b;
	Nomad__TaskGroup *g = grp(a, "backend");
	Nomad__VolumeRequestEntry *e = NEW(Nomad__VolumeRequestEntry,
		nomad__volume_request_entry__descriptor);
	const Nomad__ObjectDiff *o;
	nomad_job_diff *d;

	set_str(&e->key, "data");
	e->value = NEW(Nomad__VolumeRequest, nomad__volume_request__descriptor);
	set_str(&e->value->name, "data");
	set_str(&e->value->type, "host");
	set_str(&e->value->source, "pg");
	SET_I(e->value, readonly, 0);
	ADD(g->volumes, g->n_volumes, e);
	b = copy_job(a);
	set_str(&grp(b, "backend")->volumes[0]->value->source, "pg2");
	d = diff(a, b, 0);
	CHECK(o = OBJECT(gdiff(d, "backend"), "Volume"));
	CHECK_INT(o->type, EDITED);
	CHECK_INT(o->n_fields, 1);
	CHECK_FIELD(o->fields[0], EDITED, "pg", "pg2");
	CHECK_INT(nomad_task_group_update_kind(a, b, "backend"),
		  NOMAD_UPDATE_DESTRUCTIVE);
	nomad_job_diff_free(d);
	nomad_job_free(a);
	nomad_job_free(b);
}

/* ---- tasks ---------------------------------------------------------------- */

NMD_TEST(test_structs_diff__task_added_deleted)
{
	nomad_job *a = make_job(), *b = copy_job(a);
	Nomad__TaskGroup *g = grp(b, "frontend");
	const Nomad__TaskGroupDiff *gd;
	nomad_job_diff *d;

	nmd_pb_free(g->tasks[1], NULL); /* logger */
	g->tasks[1] = make_task("metrics", "exec", "{\"command\":\"m\"}", 10, 32);
	d = diff(a, b, 0);
	gd = gdiff(d, "frontend");
	CHECK_INT(gd->type, EDITED);
	CHECK_INT(gd->n_tasks, 3);
	CHECK_STR(gd->tasks[0]->name, "logger");
	CHECK_STR(gd->tasks[1]->name, "metrics");
	CHECK_STR(gd->tasks[2]->name, "server");
	CHECK_INT(tdiff(gd, "logger")->type, DELETED);
	CHECK_NOTE(tdiff(gd, "logger"), "forces create/destroy update");
	CHECK_INT(tdiff(gd, "metrics")->type, ADDED);
	CHECK_NOTE(tdiff(gd, "metrics"), "forces create/destroy update");
	CHECK_INT(tdiff(gd, "server")->type, NONE);
	CHECK_INT(tdiff(gd, "server")->n_annotations, 0);
	nomad_job_diff_free(d);
	nomad_job_free(a);
	nomad_job_free(b);
}

NMD_TEST(test_structs_diff__resources)
{
	nomad_job *a = make_job(), *b = copy_job(a);
	const Nomad__TaskDiff *td;
	const Nomad__ObjectDiff *o;
	nomad_job_diff *d;

	tsk(b, "frontend", "server")->resources->cpu = 200;
	d = diff(a, b, 0);
	CHECK_INT(d->type, EDITED);
	td = tdiff(gdiff(d, "frontend"), "server");
	CHECK_INT(td->type, EDITED);
	CHECK_NOTE(td, "forces create/destroy update");
	CHECK_INT(td->n_fields, 0);
	CHECK_INT(td->n_objects, 1);
	CHECK(o = OBJECT(td, "Resources"));
	CHECK_INT(o->type, EDITED);
	CHECK_INT(o->n_fields, 1);
	CHECK_STR(o->fields[0]->name, "CPU");
	CHECK_FIELD(o->fields[0], EDITED, "100", "200");
	CHECK_INT(tdiff(gdiff(d, "frontend"), "logger")->type, NONE);
	nomad_job_diff_free(d);
	nomad_job_free(a);
	nomad_job_free(b);
}

/* The driver config is free-form JSON, flattened as Go flattens a map:
 * nested arrays as "args[1]", numbers as Go prints a float64. */
NMD_TEST(test_structs_diff__config)
{
	nomad_job *a = make_job(), *b = copy_job(a);
	const Nomad__ObjectDiff *o;
	nomad_job_diff *d;

	set_config(tsk(b, "frontend", "server"),
		   "{\"ports\":[\"http\"],\"image\":\"nginx:1.26\","
		   "\"args\":[\"-g\",\"daemon on;\"]}");
	set_config(tsk(b, "backend", "api"),
		   "{\"command\":\"/usr/bin/api\",\"port\":8082,\"ratio\":0.5,"
		   "\"big\":1000000,\"tiny\":0.00001,\"auth\":{\"user\":\"x\"}}");
	d = diff(a, b, 0);
	o = OBJECT(tdiff(gdiff(d, "frontend"), "server"), "Config");
	CHECK(o);
	CHECK_INT(o->type, EDITED);
	CHECK_INT(o->n_fields, 2);
	CHECK_FIELD(o->fields[0], EDITED, "daemon off;", "daemon on;");
	CHECK_STR(o->fields[0]->name, "args[1]");
	CHECK_FIELD(FIELD(o, "image"), EDITED, "nginx:1.25", "nginx:1.26");
	CHECK_NOTE(tdiff(gdiff(d, "frontend"), "server"),
		   "forces create/destroy update");

	o = OBJECT(tdiff(gdiff(d, "backend"), "api"), "Config");
	CHECK_FIELD(FIELD(o, "port"), EDITED, "8081", "8082");
	CHECK_FIELD(FIELD(o, "ratio"), ADDED, "", "0.5");
	CHECK_FIELD(FIELD(o, "big"), ADDED, "", "1e+06");
	CHECK_FIELD(FIELD(o, "tiny"), ADDED, "", "1e-05");
	CHECK_FIELD(FIELD(o, "auth[user]"), ADDED, "", "x");
	CHECK(FIELD(o, "command") == NULL);
	nomad_job_diff_free(d);

	/* Key order and spacing are not changes. */
	set_config(tsk(b, "frontend", "server"),
		   "{ \"ports\": [\"http\"], \"args\": [\"-g\", \"daemon off;\"],"
		   " \"image\": \"nginx:1.25\" }");
	d = diff(a, b, 0);
	CHECK_INT(gdiff(d, "frontend")->type, NONE);
	CHECK_INT(tdiff(gdiff(d, "frontend"), "server")->type, NONE);
	CHECK(OBJECT(tdiff(gdiff(d, "frontend"), "server"), "Config") == NULL);
	nomad_job_diff_free(d);
	nomad_job_free(a);
	nomad_job_free(b);
}

NMD_TEST(test_structs_diff__task_inplace)
{
	nomad_job *a = make_job(), *b = copy_job(a);
	const Nomad__TaskDiff *td;
	nomad_job_diff *d;

	tsk(b, "frontend", "server")->killtimeout = 10 * SEC;
	set_meta(&tsk(b, "frontend", "logger")->env,
		 &tsk(b, "frontend", "logger")->n_env, "PORT", "9090");
	d = diff(a, b, 0);
	td = tdiff(gdiff(d, "frontend"), "server");
	CHECK_FIELD(FIELD(td, "KillTimeout"), EDITED, "5000000000",
		    "10000000000");
	CHECK_NOTE(td, "forces in-place update");
	td = tdiff(gdiff(d, "frontend"), "logger");
	CHECK_FIELD(FIELD(td, "Env[PORT]"), EDITED, "8080", "9090");
	CHECK_NOTE(td, "forces create/destroy update");
	nomad_job_diff_free(d);
	nomad_job_free(a);
	nomad_job_free(b);
}

/* ---- missing jobs and errors ------------------------------------------- */

NMD_TEST(test_structs_diff__new_job)
{
	nomad_job *b = make_job();
	const Nomad__TaskGroupDiff *gd;
	nomad_job_diff *d = diff(NULL, b, 0);

	CHECK_INT(d->type, ADDED);
	CHECK_STR(d->id, "web");
	CHECK_FIELD(FIELD(d, "Priority"), ADDED, "", "50");
	CHECK_FIELD(FIELD(d, "Name"), ADDED, "", "web");
	CHECK_FIELD(FIELD(d, "Meta[owner]"), ADDED, "", "team-a");
	CHECK_FIELD(FIELD(d, "Stop"), ADDED, "", "false");
	CHECK(FIELD(d, "ID") == NULL);
	CHECK(FIELD(d, "Version") == NULL);
	CHECK_INT(OBJECT(d, "Datacenters")->type, ADDED);
	CHECK_INT(d->n_taskgroups, 2);
	gd = gdiff(d, "frontend");
	CHECK_INT(gd->type, ADDED);
	CHECK_NOTE(FIELD(gd, "Count"), "forces create");
	CHECK_NOTE(tdiff(gd, "server"), "forces create");
	nomad_job_diff_free(d);
	nomad_job_free(b);
}

NMD_TEST(test_structs_diff__removed_job)
{
	nomad_job *a = make_job();
	nomad_job_diff *d = diff(a, NULL, 0);

	CHECK_INT(d->type, DELETED);
	CHECK_STR(d->id, "web");
	CHECK_FIELD(FIELD(d, "Priority"), DELETED, "50", "");
	CHECK_INT(gdiff(d, "backend")->type, DELETED);
	CHECK_NOTE(tdiff(gdiff(d, "backend"), "api"), "forces destroy");
	nomad_job_diff_free(d);

	d = diff(NULL, NULL, 0);
	CHECK_INT(d->type, NONE);
	CHECK(d->id == NULL);
	CHECK_INT(d->n_taskgroups, 0);
	nomad_job_diff_free(d);
	nomad_job_free(a);
}

NMD_TEST(test_structs_diff__id_mismatch)
{
	nomad_job *a = make_job(), *b = copy_job(a);
	nomad_job_diff *d = (nomad_job_diff *)1;
	nomad_error err;

	set_str(&b->id, "api");
	CHECK_INT(nomad_job_diff_compute(&d, a, b, 0, &err), NOMAD_EINVAL);
	CHECK(d == NULL);
	CHECK_INT(err.code, NOMAD_EINVAL);
	CHECK_CONTAINS(err.message, "different IDs");
	CHECK_CONTAINS(err.message, "new=api");
	nomad_job_free(a);
	nomad_job_free(b);
}

/* The JSON form of a diff has Nomad's plan shape. */
NMD_TEST(test_structs_diff__json)
{
	nomad_job *a = make_job(), *b = copy_job(a);
	nomad_job_diff *d;
	nomad_error err;
	char *json = NULL;
	size_t len = 0;

	b->priority = 60;
	tsk(b, "frontend", "server")->resources->cpu = 200;
	d = diff(a, b, 0);
	CHECK_OK(nomad_job_diff_to_json(d, NOMAD_JSON_OMIT_EMPTY, &json, &len,
					&err));
	CHECK_CONTAINS(json, "{\"Type\":\"Edited\",\"ID\":\"web\",\"Fields\":"
			     "[{\"Type\":\"Edited\",\"Name\":\"Priority\","
			     "\"Old\":\"50\",\"New\":\"60\"}]");
	CHECK_CONTAINS(json, "\"Name\":\"server\"");
	CHECK_CONTAINS(json, "\"Annotations\":[\"forces create/destroy "
			     "update\"]");
	CHECK_CONTAINS(json, "{\"Type\":\"Edited\",\"Name\":\"CPU\","
			     "\"Old\":\"100\",\"New\":\"200\"}");
	nomad_free(json);
	nomad_job_diff_free(d);
	nomad_job_free(a);
	nomad_job_free(b);
}

/* ---- update kinds ---------------------------------------------------------- */

static void m_none(nomad_job *j)
{
	SET_I(j, version, 4);
	SET_I(j, jobmodifyindex, 99);
}

static void m_count(nomad_job *j)
{
	grp(j, "frontend")->count = 3;
}

static void m_env(nomad_job *j)
{
	Nomad__Task *t = tsk(j, "frontend", "server");
	set_meta(&t->env, &t->n_env, "PORT", "9090");
}

static void m_cpu(nomad_job *j)
{
	tsk(j, "frontend", "server")->resources->cpu = 500;
}

static void m_memory_max(nomad_job *j)
{
	SET_I(tsk(j, "frontend", "logger")->resources, memorymaxmb, 128);
}

static void m_tag(nomad_job *j)
{
	set_str(&grp(j, "frontend")->services[0]->tags[1], "green");
}

static void m_check(nomad_job *j)
{
	grp(j, "frontend")->services[0]->checks[0]->interval = 30 * SEC;
}

static void m_update(nomad_job *j)
{
	grp(j, "frontend")->update->maxparallel = 3;
}

static void m_job_meta(nomad_job *j)
{
	set_meta(&j->meta, &j->n_meta, "owner", "team-z");
}

static void m_task_meta(nomad_job *j)
{
	Nomad__Task *t = tsk(j, "frontend", "logger");
	set_meta(&t->meta, &t->n_meta, "build", "42");
}

static void m_restart_attempts(nomad_job *j)
{
	grp(j, "frontend")->restartpolicy->attempts = 5;
}

static void m_render_templates(nomad_job *j)
{
	SET_I(tsk(j, "frontend", "server")->restartpolicy, rendertemplates, 1);
}

static void m_kill_timeout(nomad_job *j)
{
	tsk(j, "frontend", "server")->killtimeout = 30 * SEC;
}

static void m_config(nomad_job *j)
{
	set_config(tsk(j, "frontend", "logger"), "{\"command\":\"/bin/log2\"}");
}

static void m_log_disabled(nomad_job *j)
{
	tsk(j, "frontend", "logger")->logconfig->disabled = 1;
}

static void m_log_files(nomad_job *j)
{
	tsk(j, "frontend", "logger")->logconfig->maxfiles = 3;
}

static void m_port_to(nomad_job *j)
{
	grp(j, "frontend")->networks[0]->dynamicports[0]->to = 8081;
}

static void m_priority(nomad_job *j)
{
	j->priority = 70;
}

static void m_other_group(nomad_job *j)
{
	tsk(j, "backend", "api")->resources->cpu = 999;
}

static void m_disk(nomad_job *j)
{
	grp(j, "frontend")->ephemeraldisk->sizemb = 500;
}

static void m_task_added(nomad_job *j)
{
	Nomad__TaskGroup *g = grp(j, "frontend");
	ADD(g->tasks, g->n_tasks, make_task("x", "exec", "{}", 10, 10));
}

static void m_driver(nomad_job *j)
{
	set_str(&tsk(j, "frontend", "logger")->driver, "raw_exec");
}

static void m_affinity(nomad_job *j)
{
	Nomad__Affinity *af = NEW(Nomad__Affinity, nomad__affinity__descriptor);
	set_str(&af->ltarget, "${node.class}");
	set_str(&af->operand, "=");
	set_str(&af->rtarget, "large");
	SET_I(af, weight, 50);
	ADD(j->affinities, j->n_affinities, af);
}

static void m_spread(nomad_job *j)
{
	Nomad__Spread *s = NEW(Nomad__Spread, nomad__spread__descriptor);
	set_str(&s->attribute, "${node.datacenter}");
	ADD(grp(j, "frontend")->spreads, grp(j, "frontend")->n_spreads, s);
}

static void m_constraint(nomad_job *j)
{
	Nomad__Constraint *c = NEW(Nomad__Constraint,
				   nomad__constraint__descriptor);
	set_str(&c->ltarget, "${attr.kernel.name}");
	set_str(&c->rtarget, "linux");
	ADD(grp(j, "frontend")->constraints, grp(j, "frontend")->n_constraints,
	    c);
}

static void m_vault(nomad_job *j)
{
	Nomad__Task *t = tsk(j, "frontend", "server");
	t->vault = NEW(Nomad__Vault, nomad__vault__descriptor);
	set_str(&t->vault->role, "web");
}

static void m_template(nomad_job *j)
{
	Nomad__Task *t = tsk(j, "frontend", "server");
	Nomad__Template *tp = NEW(Nomad__Template, nomad__template__descriptor);
	set_str(&tp->destpath, "local/app.conf");
	set_str(&tp->embeddedtmpl, "port={{ env \"PORT\" }}");
	ADD(t->templates, t->n_templates, tp);
}

static void m_consul_ns(nomad_job *j)
{
	Nomad__TaskGroup *g = grp(j, "frontend");
	g->consul = NEW(Nomad__ConsulBlock, nomad__consul_block__descriptor);
	set_str(&g->consul->namespace_, "team");
}

static void m_volume(nomad_job *j)
{
	Nomad__TaskGroup *g = grp(j, "frontend");
	Nomad__VolumeRequestEntry *e =
		NEW(Nomad__VolumeRequestEntry,
		    nomad__volume_request_entry__descriptor);
	set_str(&e->key, "data");
	e->value = NEW(Nomad__VolumeRequest, nomad__volume_request__descriptor);
	set_str(&e->value->type, "host");
	set_str(&e->value->source, "data");
	ADD(g->volumes, g->n_volumes, e);
}

static void m_identity(nomad_job *j)
{
	Nomad__Task *t = tsk(j, "frontend", "logger");
	t->identity = NEW(Nomad__WorkloadIdentity,
			  nomad__workload_identity__descriptor);
	SET_I(t->identity, env, 1);
}

static void m_shutdown_delay(nomad_job *j)
{
	SET_I(grp(j, "frontend"), shutdowndelay, 5 * SEC);
}

static void m_datacenters(nomad_job *j)
{
	add_str(&j->datacenters, &j->n_datacenters, "dc2");
}

/* Both jobs get a Connect service; only the new one is then changed. */
static void p_connect(nomad_job *j)
{
	Nomad__Service *s = grp(j, "frontend")->services[0];
	s->connect = raw("{\"Native\":false,\"SidecarService\":{\"Port\":"
			 "\"http\",\"Proxy\":{\"Upstreams\":[]}}}");
}

static void m_connect_port(nomad_job *j)
{
	set_str(&grp(j, "frontend")->services[0]->connect->json,
		"{\"Native\":false,\"SidecarService\":{\"Port\":\"9000\","
		"\"Proxy\":{\"Upstreams\":[]}}}");
}

static void m_connect_proxy(nomad_job *j)
{
	set_str(&grp(j, "frontend")->services[0]->connect->json,
		"{\"Native\":false,\"SidecarService\":{\"Port\":\"http\","
		"\"Proxy\":{\"Upstreams\":[{\"DestinationName\":\"db\"}]}}}");
}

struct kind_case {
	const char *what;
	void (*prep)(nomad_job *);   /* applied to both jobs */
	void (*change)(nomad_job *); /* applied to the new job */
	nomad_update_kind want;
};

static const struct kind_case kind_cases[] = {
	{"server-set fields only", NULL, m_none, NOMAD_UPDATE_NONE},
	{"other group", NULL, m_other_group, NOMAD_UPDATE_NONE},
	/* Count is not in tasksUpdated: existing allocations are updated
	 * in place while the scheduler places or stops the difference. */
	{"count", NULL, m_count, NOMAD_UPDATE_INPLACE},
	{"service tag", NULL, m_tag, NOMAD_UPDATE_INPLACE},
	{"service check", NULL, m_check, NOMAD_UPDATE_INPLACE},
	{"update block", NULL, m_update, NOMAD_UPDATE_INPLACE},
	{"restart attempts", NULL, m_restart_attempts, NOMAD_UPDATE_INPLACE},
	{"kill timeout", NULL, m_kill_timeout, NOMAD_UPDATE_INPLACE},
	{"log max files", NULL, m_log_files, NOMAD_UPDATE_INPLACE},
	{"job priority", NULL, m_priority, NOMAD_UPDATE_INPLACE},
	{"job datacenters", NULL, m_datacenters, NOMAD_UPDATE_INPLACE},
	{"group constraint", NULL, m_constraint, NOMAD_UPDATE_INPLACE},
	{"shutdown delay", NULL, m_shutdown_delay, NOMAD_UPDATE_INPLACE},
	{"connect proxy", p_connect, m_connect_proxy, NOMAD_UPDATE_INPLACE},
	{"env", NULL, m_env, NOMAD_UPDATE_DESTRUCTIVE},
	{"cpu", NULL, m_cpu, NOMAD_UPDATE_DESTRUCTIVE},
	{"memory max", NULL, m_memory_max, NOMAD_UPDATE_DESTRUCTIVE},
	{"job meta", NULL, m_job_meta, NOMAD_UPDATE_DESTRUCTIVE},
	{"task meta", NULL, m_task_meta, NOMAD_UPDATE_DESTRUCTIVE},
	{"render templates", NULL, m_render_templates,
	 NOMAD_UPDATE_DESTRUCTIVE},
	{"config", NULL, m_config, NOMAD_UPDATE_DESTRUCTIVE},
	{"log disabled", NULL, m_log_disabled, NOMAD_UPDATE_DESTRUCTIVE},
	{"dynamic port to", NULL, m_port_to, NOMAD_UPDATE_DESTRUCTIVE},
	{"ephemeral disk", NULL, m_disk, NOMAD_UPDATE_DESTRUCTIVE},
	{"task added", NULL, m_task_added, NOMAD_UPDATE_DESTRUCTIVE},
	{"driver", NULL, m_driver, NOMAD_UPDATE_DESTRUCTIVE},
	{"job affinity", NULL, m_affinity, NOMAD_UPDATE_DESTRUCTIVE},
	{"group spread", NULL, m_spread, NOMAD_UPDATE_DESTRUCTIVE},
	{"vault", NULL, m_vault, NOMAD_UPDATE_DESTRUCTIVE},
	{"template", NULL, m_template, NOMAD_UPDATE_DESTRUCTIVE},
	{"consul namespace", NULL, m_consul_ns, NOMAD_UPDATE_DESTRUCTIVE},
	{"volume", NULL, m_volume, NOMAD_UPDATE_DESTRUCTIVE},
	{"identity", NULL, m_identity, NOMAD_UPDATE_DESTRUCTIVE},
	{"connect port", p_connect, m_connect_port, NOMAD_UPDATE_DESTRUCTIVE},
};

NMD_TEST(test_structs_diff__update_kind)
{
	for (size_t i = 0; i < sizeof(kind_cases) / sizeof(kind_cases[0]); i++) {
		const struct kind_case *k = &kind_cases[i];
		nomad_job *a = make_job(), *b;
		nomad_update_kind got;

		if (k->prep)
			k->prep(a);
		b = copy_job(a);
		k->change(b);
		got = nomad_task_group_update_kind(a, b, "frontend");
		if (got != k->want)
			nmd_test_fail(__FILE__, __LINE__, "%s: got %d, want %d",
				      k->what, got, k->want);
		nomad_job_free(a);
		nomad_job_free(b);
	}
}

NMD_TEST(test_structs_diff__update_kind_missing_group)
{
	nomad_job *a = make_job(), *b = copy_job(a);

	CHECK_INT(nomad_task_group_update_kind(a, b, "frontend"),
		  NOMAD_UPDATE_NONE);
	CHECK_INT(nomad_task_group_update_kind(a, b, "nope"),
		  NOMAD_UPDATE_DESTRUCTIVE);
	CHECK_INT(nomad_task_group_update_kind(NULL, b, "frontend"),
		  NOMAD_UPDATE_DESTRUCTIVE);
	CHECK_INT(nomad_task_group_update_kind(a, NULL, "frontend"),
		  NOMAD_UPDATE_DESTRUCTIVE);
	nomad_job_free(a);
	nomad_job_free(b);
}
