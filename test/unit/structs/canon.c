/* SPDX-License-Identifier: MPL-2.0 */
/*
 * nomad_job_canonicalize: Nomad's defaults per job type, the job-to-group
 * and group-to-task merges, values the user set surviving, and a second
 * run changing nothing. Jobs are built in C so that these tests do not
 * depend on the JSON codec.
 */
#include <nomad/structs.h>

#include "structs/pb.h"
#include "test.h"
#include "jobs.h"

static Nomad__TaskGroup *group0(nomad_job *job)
{
	return job->taskgroups[0];
}

static Nomad__Task *task0(nomad_job *job)
{
	return job->taskgroups[0]->tasks[0];
}

static void canon(nomad_job *job)
{
	nomad_error err;
	CHECK_OK(nomad_job_canonicalize(job, &err));
}

static void check_restart(const Nomad__RestartPolicy *r, int attempts,
			  int64_t interval, int64_t delay)
{
	CHECK(r != NULL);
	CHECK(r->has_attempts && r->has_interval && r->has_delay);
	CHECK_INT(r->attempts, attempts);
	CHECK_INT(r->interval, interval);
	CHECK_INT(r->delay, delay);
	CHECK(r->has_mode);
	CHECK_INT(r->mode, NOMAD__RESTART_POLICY__MODE_KIND__fail);
	CHECK(r->has_rendertemplates && !r->rendertemplates);
}

/* ---- defaults per job type ---------------------------------------------- */

NMD_TEST(test_structs_canon__job_defaults)
{
	nomad_job *job = tj_raw_job(0);

	canon(job);
	CHECK_STR(job->name, "example");
	CHECK_STR(job->region, "global");
	CHECK_STR(job->namespace_, "default");
	CHECK(job->has_type);
	CHECK_INT(job->type, NOMAD__JOB_TYPE__service);
	CHECK(job->has_priority);
	CHECK_INT(job->priority, 50);
	CHECK(job->has_allatonce && !job->allatonce);
	CHECK_INT(job->n_datacenters, 1);
	CHECK_STR(job->datacenters[0], "*");
	CHECK_STR(job->nodepool, "default");
	nomad_job_free(job);
}

NMD_TEST(test_structs_canon__service_group_defaults)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__service);
	Nomad__TaskGroup *tg = group0(job);
	const Nomad__UpdateStrategy *u;
	const Nomad__MigrateStrategy *m;
	const Nomad__ReschedulePolicy *r;

	canon(job);
	CHECK(tg->has_count);
	CHECK_INT(tg->count, 1);
	CHECK((u = tg->update) != NULL);
	CHECK_INT(u->stagger, 30 * SEC);
	CHECK_INT(u->maxparallel, 1);
	CHECK_INT(u->healthcheck, NOMAD__HEALTH_CHECK_MODE__checks);
	CHECK_INT(u->minhealthytime, 10 * SEC);
	CHECK_INT(u->healthydeadline, 5 * MINUTE);
	CHECK_INT(u->progressdeadline, 10 * MINUTE);
	CHECK(u->has_canary && u->canary == 0);
	CHECK(u->has_autorevert && !u->autorevert);
	CHECK(u->has_autopromote && !u->autopromote);
	/* The job-level block is the default the group inherited. */
	CHECK(nomad_msg_equal(&job->update->base, &u->base));
	CHECK((m = tg->migrate) != NULL);
	CHECK_INT(m->maxparallel, 1);
	CHECK_INT(m->healthcheck, NOMAD__HEALTH_CHECK_MODE__checks);
	CHECK_INT(m->minhealthytime, 10 * SEC);
	CHECK_INT(m->healthydeadline, 5 * MINUTE);
	check_restart(tg->restartpolicy, 2, 30 * MINUTE, 15 * SEC);
	CHECK((r = tg->reschedulepolicy) != NULL);
	CHECK(r->has_unlimited && r->unlimited);
	CHECK_INT(r->attempts, 0);
	CHECK_INT(r->interval, 0);
	CHECK_INT(r->delay, 30 * SEC);
	CHECK_INT(r->delayfunction,
		  NOMAD__RESCHEDULE_POLICY__DELAY_FUNCTION_KIND__exponential);
	CHECK_INT(r->maxdelay, HOUR);
	CHECK(tg->ephemeraldisk != NULL);
	CHECK_INT(tg->ephemeraldisk->sizemb, 300);
	CHECK(tg->ephemeraldisk->has_sticky && !tg->ephemeraldisk->sticky);
	CHECK(tg->ephemeraldisk->has_migrate && !tg->ephemeraldisk->migrate);
	nomad_job_free(job);
}

NMD_TEST(test_structs_canon__task_defaults)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__service);
	Nomad__Task *t = task0(job);

	canon(job);
	CHECK(t->resources != NULL);
	CHECK_INT(t->resources->cpu, 100);
	CHECK(t->resources->has_cores);
	CHECK_INT(t->resources->cores, 0);
	CHECK_INT(t->resources->memorymb, 300);
	CHECK(t->has_killtimeout);
	CHECK_INT(t->killtimeout, 5 * SEC);
	CHECK(t->logconfig != NULL);
	CHECK_INT(t->logconfig->maxfiles, 10);
	CHECK_INT(t->logconfig->maxfilesizemb, 10);
	CHECK(t->logconfig->has_disabled && !t->logconfig->disabled);
	/* The task restarts as its group does. */
	CHECK(nomad_msg_equal(&t->restartpolicy->base,
			      &group0(job)->restartpolicy->base));
	nomad_job_free(job);
}

NMD_TEST(test_structs_canon__batch_defaults)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__batch);
	Nomad__TaskGroup *tg = group0(job);
	const Nomad__ReschedulePolicy *r;

	canon(job);
	CHECK(job->update == NULL);
	CHECK(tg->update == NULL);
	CHECK(tg->migrate == NULL);
	check_restart(tg->restartpolicy, 3, 24 * HOUR, 15 * SEC);
	CHECK((r = tg->reschedulepolicy) != NULL);
	CHECK_INT(r->attempts, 1);
	CHECK_INT(r->interval, 24 * HOUR);
	CHECK_INT(r->delay, 5 * SEC);
	CHECK_INT(r->delayfunction,
		  NOMAD__RESCHEDULE_POLICY__DELAY_FUNCTION_KIND__constant);
	CHECK(r->has_maxdelay && r->maxdelay == 0);
	CHECK(r->has_unlimited && !r->unlimited);
	CHECK_INT(tg->ephemeraldisk->sizemb, 300);
	nomad_job_free(job);
}

NMD_TEST(test_structs_canon__system_defaults)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__system);
	Nomad__TaskGroup *tg = group0(job);

	canon(job);
	CHECK(job->update == NULL);
	CHECK(tg->update == NULL);
	CHECK(tg->migrate == NULL);
	CHECK(tg->reschedulepolicy == NULL);
	check_restart(tg->restartpolicy, 2, 30 * MINUTE, 15 * SEC);
	CHECK_INT(tg->count, 1);
	nomad_job_free(job);
}

NMD_TEST(test_structs_canon__sysbatch_defaults)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__sysbatch);
	Nomad__TaskGroup *tg = group0(job);

	canon(job);
	CHECK(tg->update == NULL);
	CHECK(tg->migrate == NULL);
	CHECK(tg->reschedulepolicy == NULL);
	check_restart(tg->restartpolicy, 3, 24 * HOUR, 15 * SEC);
	check_restart(task0(job)->restartpolicy, 3, 24 * HOUR, 15 * SEC);
	nomad_job_free(job);
}

/* A system job's own update block is filled in; it has no default one. */
NMD_TEST(test_structs_canon__system_update_filled)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__system);
	Nomad__TaskGroup *tg = group0(job);

	tg->update = tj_new_msg(&nomad__update_strategy__descriptor);
	tg->update->has_maxparallel = 1;
	tg->update->maxparallel = 2;
	canon(job);
	CHECK_INT(tg->update->maxparallel, 2);
	CHECK_INT(tg->update->healthydeadline, 5 * MINUTE);
	CHECK_INT(tg->update->stagger, 30 * SEC);
	nomad_job_free(job);
}

/* ---- merges ------------------------------------------------------------- */

NMD_TEST(test_structs_canon__update_job_into_groups)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__service);
	Nomad__TaskGroup *web = group0(job), *db = tj_add_group(job, "db");

	tj_add_task(db, "pg");
	job->update = tj_new_msg(&nomad__update_strategy__descriptor);
	job->update->has_maxparallel = job->update->has_canary = 1;
	job->update->maxparallel = 3;
	job->update->canary = 1;
	web->update = tj_new_msg(&nomad__update_strategy__descriptor);
	web->update->has_minhealthytime = web->update->has_maxparallel = 1;
	web->update->minhealthytime = 20 * SEC;
	web->update->maxparallel = 0; /* the group wins, even with zero */
	canon(job);
	CHECK_INT(web->update->maxparallel, 0);
	CHECK_INT(web->update->canary, 1);
	CHECK_INT(web->update->minhealthytime, 20 * SEC);
	CHECK_INT(web->update->healthydeadline, 5 * MINUTE);
	CHECK_INT(db->update->maxparallel, 3);
	CHECK_INT(db->update->canary, 1);
	CHECK_INT(db->update->minhealthytime, 10 * SEC);
	nomad_job_free(job);
}

/* max_parallel 0 (no deployments) is a value like any other: kept and
 * inherited, with the rest of the block filled in. */
NMD_TEST(test_structs_canon__update_max_parallel_zero_kept)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__system);

	job->update = tj_new_msg(&nomad__update_strategy__descriptor);
	job->update->has_maxparallel = 1;
	job->update->maxparallel = 0;
	canon(job);
	CHECK(group0(job)->update != NULL);
	CHECK(group0(job)->update->has_maxparallel);
	CHECK_INT(group0(job)->update->maxparallel, 0);
	CHECK_INT(group0(job)->update->healthydeadline, 5 * MINUTE);
	nomad_job_free(job);
}

NMD_TEST(test_structs_canon__reschedule_job_into_group)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__service);
	Nomad__TaskGroup *tg = group0(job);
	const Nomad__ReschedulePolicy *r;

	job->reschedule = tj_new_msg(&nomad__reschedule_policy__descriptor);
	job->reschedule->has_attempts = job->reschedule->has_unlimited = 1;
	job->reschedule->attempts = 5;
	job->reschedule->unlimited = 0;
	job->reschedule->has_interval = 1;
	job->reschedule->interval = HOUR;
	tg->reschedulepolicy = tj_new_msg(&nomad__reschedule_policy__descriptor);
	tg->reschedulepolicy->has_delay = 1;
	tg->reschedulepolicy->delay = 10 * SEC;
	canon(job);
	r = tg->reschedulepolicy;
	CHECK_INT(r->attempts, 5);
	CHECK_INT(r->interval, HOUR);
	CHECK(!r->unlimited);
	CHECK_INT(r->delay, 10 * SEC);
	CHECK_INT(r->delayfunction,
		  NOMAD__RESCHEDULE_POLICY__DELAY_FUNCTION_KIND__exponential);
	CHECK_INT(r->maxdelay, HOUR);
	nomad_job_free(job);
}

NMD_TEST(test_structs_canon__migrate_job_into_group)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__service);

	job->migrate = tj_new_msg(&nomad__migrate_strategy__descriptor);
	job->migrate->has_maxparallel = 1;
	job->migrate->maxparallel = 4;
	canon(job);
	CHECK_INT(group0(job)->migrate->maxparallel, 4);
	CHECK_INT(group0(job)->migrate->healthydeadline, 5 * MINUTE);
	nomad_job_free(job);
}

NMD_TEST(test_structs_canon__restart_group_into_task)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__service);
	Nomad__TaskGroup *tg = group0(job);
	Nomad__Task *t = task0(job), *other = tj_add_task(tg, "sidecar");

	tg->restartpolicy = tj_new_msg(&nomad__restart_policy__descriptor);
	tg->restartpolicy->has_attempts = 1;
	tg->restartpolicy->attempts = 5;
	t->restartpolicy = tj_new_msg(&nomad__restart_policy__descriptor);
	t->restartpolicy->has_delay = 1;
	t->restartpolicy->delay = SEC;
	canon(job);
	check_restart(tg->restartpolicy, 5, 30 * MINUTE, 15 * SEC);
	check_restart(t->restartpolicy, 5, 30 * MINUTE, SEC);
	check_restart(other->restartpolicy, 5, 30 * MINUTE, 15 * SEC);
	nomad_job_free(job);
}

/* ---- what the user set ------------------------------------------------------ */

NMD_TEST(test_structs_canon__user_values_kept)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__batch);
	Nomad__TaskGroup *tg = group0(job);
	Nomad__Task *t = task0(job);

	job->name = tj_dup("named");
	job->region = tj_dup("eu");
	job->namespace_ = tj_dup("prod");
	job->has_priority = 1;
	job->priority = 70;
	job->datacenters = calloc(1, sizeof(char *));
	job->datacenters[0] = tj_dup("dc1");
	job->n_datacenters = 1;
	job->nodepool = tj_dup("gpu");
	tg->has_count = 1;
	tg->count = 0;
	t->resources = tj_new_msg(&nomad__resources__descriptor);
	t->resources->has_cpu = t->resources->has_memorymb = 1;
	t->resources->cpu = 500;
	t->resources->memorymb = 256;
	t->has_killtimeout = 1;
	t->killtimeout = 0;
	canon(job);
	CHECK_STR(job->name, "named");
	CHECK_STR(job->region, "eu");
	CHECK_STR(job->namespace_, "prod");
	CHECK_INT(job->priority, 70);
	CHECK_INT(job->n_datacenters, 1);
	CHECK_STR(job->datacenters[0], "dc1");
	CHECK_STR(job->nodepool, "gpu");
	CHECK_INT(tg->count, 0);
	CHECK_INT(t->resources->cpu, 500);
	CHECK_INT(t->resources->memorymb, 256);
	CHECK_INT(t->killtimeout, 0);
	nomad_job_free(job);
}

NMD_TEST(test_structs_canon__count_from_scaling)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__service);
	Nomad__TaskGroup *tg = group0(job);

	tg->scaling = tj_new_msg(&nomad__scaling_policy__descriptor);
	tg->scaling->has_min = tg->scaling->has_max = 1;
	tg->scaling->min = 3;
	tg->scaling->max = 10;
	canon(job);
	CHECK_INT(tg->count, 3);
	CHECK(tg->scaling->has_enabled && tg->scaling->enabled);
	CHECK_STR(tg->scaling->type, "horizontal");
	nomad_job_free(job);
}

NMD_TEST(test_structs_canon__cores_without_cpu)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__service);
	Nomad__Task *t = task0(job);

	t->resources = tj_new_msg(&nomad__resources__descriptor);
	t->resources->has_cores = 1;
	t->resources->cores = 2;
	canon(job);
	CHECK(t->resources->has_cpu);
	CHECK_INT(t->resources->cpu, 0);
	CHECK_INT(t->resources->cores, 2);
	CHECK_INT(t->resources->memorymb, 300);
	nomad_job_free(job);
}

NMD_TEST(test_structs_canon__priority_zero_is_default)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__service);

	job->has_priority = 1;
	job->priority = 0;
	job->namespace_ = tj_dup("");
	canon(job);
	CHECK_INT(job->priority, 50);
	CHECK_STR(job->namespace_, "default");
	nomad_job_free(job);
}

/* ---- smaller blocks ------------------------------------------------------------ */

NMD_TEST(test_structs_canon__disconnect_defaults)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__service);
	Nomad__TaskGroup *tg = group0(job);

	canon(job);
	CHECK(tg->disconnect == NULL);
	tg->disconnect = tj_new_msg(&nomad__disconnect_strategy__descriptor);
	canon(job);
	CHECK(tg->disconnect->has_replace && tg->disconnect->replace);
	CHECK_INT(tg->disconnect->reconcile,
		  NOMAD__DISCONNECT_STRATEGY__RECONCILE_KIND__best_score);
	nomad_job_free(job);
}

NMD_TEST(test_structs_canon__template_defaults)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__service);
	Nomad__Task *t = task0(job);
	Nomad__Template *a = tj_new_msg(&nomad__template__descriptor);
	Nomad__Template *b = tj_new_msg(&nomad__template__descriptor);

	a->embeddedtmpl = tj_dup("x");
	b->has_changemode = 1;
	b->changemode = NOMAD__TEMPLATE__CHANGE_MODE_KIND__signal;
	CHECK(NMD_PB_APPEND(NULL, t->templates, t->n_templates, a));
	CHECK(NMD_PB_APPEND(NULL, t->templates, t->n_templates, b));
	canon(job);
	CHECK_INT(a->changemode, NOMAD__TEMPLATE__CHANGE_MODE_KIND__restart);
	CHECK_STR(a->changesignal, "");
	CHECK_INT(a->splay, 5 * SEC);
	CHECK_STR(a->perms, "0644");
	CHECK_STR(a->leftdelim, "{{");
	CHECK_STR(a->rightdelim, "}}");
	CHECK_STR(a->destpath, "");
	CHECK(a->has_envvars && !a->envvars);
	CHECK(a->has_once && !a->once);
	CHECK_STR(b->changesignal, "SIGHUP");
	nmd_pb_set_string(NULL, &a->changesignal, "sigusr1");
	canon(job);
	CHECK_STR(a->changesignal, "SIGUSR1");
	nomad_job_free(job);
}

NMD_TEST(test_structs_canon__artifact_defaults)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__batch);
	Nomad__Task *t = task0(job);
	Nomad__TaskArtifact *a = tj_new_msg(&nomad__task_artifact__descriptor);
	Nomad__TaskArtifact *f = tj_new_msg(&nomad__task_artifact__descriptor);

	a->gettersource = tj_dup("https://example.com/app.tgz");
	f->gettersource = tj_dup("https://example.com/dl/tool.bin");
	f->gettermode = tj_dup("file");
	CHECK(NMD_PB_APPEND(NULL, t->artifacts, t->n_artifacts, a));
	CHECK(NMD_PB_APPEND(NULL, t->artifacts, t->n_artifacts, f));
	canon(job);
	CHECK_STR(a->gettermode, "any");
	CHECK_STR(a->relativedest, "local/");
	CHECK(a->has_getterinsecure && !a->getterinsecure);
	CHECK_STR(f->relativedest, "local/tool.bin");
	nomad_job_free(job);
}

NMD_TEST(test_structs_canon__periodic_parameterized_defaults)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__batch);

	job->periodic = tj_new_msg(&nomad__periodic_config__descriptor);
	job->periodic->spec = tj_dup("*/5 * * * *");
	job->parameterizedjob =
		tj_new_msg(&nomad__parameterized_job_config__descriptor);
	canon(job);
	CHECK(job->periodic->has_enabled && job->periodic->enabled);
	CHECK_STR(job->periodic->spectype, "cron");
	CHECK(job->periodic->has_prohibitoverlap);
	CHECK(!job->periodic->prohibitoverlap);
	CHECK_STR(job->periodic->timezone, "UTC");
	CHECK_STR(job->parameterizedjob->payload, "optional");
	nomad_job_free(job);
}

NMD_TEST(test_structs_canon__network_defaults)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__service);
	Nomad__TaskGroup *tg = group0(job);
	Nomad__NetworkResource *n = tj_new_msg(&nomad__network_resource__descriptor);
	Nomad__Port *p = tj_new_msg(&nomad__port__descriptor);

	n->mode = tj_dup("");
	p->label = tj_dup("http");
	p->hostnetwork = tj_dup("");
	CHECK(NMD_PB_APPEND(NULL, n->dynamicports, n->n_dynamicports, p));
	CHECK(NMD_PB_APPEND(NULL, tg->networks, tg->n_networks, n));
	canon(job);
	CHECK_STR(n->mode, "host");
	CHECK_STR(p->hostnetwork, "default");
	nomad_job_free(job);
}

NMD_TEST(test_structs_canon__placement_weights)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__service);
	Nomad__Affinity *a = tj_new_msg(&nomad__affinity__descriptor);
	Nomad__Spread *s = tj_new_msg(&nomad__spread__descriptor);

	CHECK(NMD_PB_APPEND(NULL, job->affinities, job->n_affinities, a));
	CHECK(NMD_PB_APPEND(NULL, group0(job)->spreads, group0(job)->n_spreads,
			    s));
	canon(job);
	CHECK(a->has_weight);
	CHECK_INT(a->weight, 50);
	CHECK_INT(s->weight, 50);
	nomad_job_free(job);
}

NMD_TEST(test_structs_canon__service_defaults)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__service);
	Nomad__TaskGroup *tg = group0(job);
	Nomad__Task *t = task0(job);
	Nomad__Service *ts = tj_new_msg(&nomad__service__descriptor);
	Nomad__Service *gs = tj_new_msg(&nomad__service__descriptor);
	Nomad__Service *named = tj_new_msg(&nomad__service__descriptor);
	Nomad__ServiceCheck *c = tj_new_msg(&nomad__service_check__descriptor);

	named->name = tj_dup("${TASK}-svc");
	gs->checkrestart = tj_new_msg(&nomad__check_restart__descriptor);
	gs->checkrestart->has_limit = 1;
	gs->checkrestart->limit = 3;
	gs->onupdate = tj_dup("ignore_warnings");
	CHECK(NMD_PB_APPEND(NULL, gs->checks, gs->n_checks, c));
	CHECK(NMD_PB_APPEND(NULL, t->services, t->n_services, ts));
	CHECK(NMD_PB_APPEND(NULL, t->services, t->n_services, named));
	CHECK(NMD_PB_APPEND(NULL, tg->services, tg->n_services, gs));
	canon(job);
	CHECK_STR(ts->name, "example-web-api");
	CHECK_STR(ts->provider, "consul");
	CHECK_STR(ts->addressmode, "auto");
	CHECK_STR(ts->onupdate, "require_healthy");
	CHECK_STR(ts->taskname, "api");
	CHECK_STR(named->name, "api-svc");
	CHECK_STR(gs->name, "example-web");
	CHECK(gs->taskname == NULL);
	CHECK_STR(c->name, "service: \"example-web\" check");
	CHECK_STR(c->onupdate, "ignore_warnings");
	CHECK(c->checkrestart != NULL);
	CHECK_INT(c->checkrestart->limit, 3);
	CHECK_INT(c->checkrestart->grace, SEC);
	nomad_job_free(job);
}

NMD_TEST(test_structs_canon__task_block_defaults)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__service);
	Nomad__Task *t = task0(job);
	Nomad__VolumeMount *vm = tj_new_msg(&nomad__volume_mount__descriptor);

	t->vault = tj_new_msg(&nomad__vault__descriptor);
	t->csipluginconfig = tj_new_msg(&nomad__task_csiplugin_config__descriptor);
	t->logconfig = tj_new_msg(&nomad__log_config__descriptor);
	t->logconfig->has_enabled = 1;
	t->logconfig->enabled = 0;
	CHECK(NMD_PB_APPEND(NULL, t->volumemounts, t->n_volumemounts, vm));
	canon(job);
	CHECK(t->vault->has_env && t->vault->env);
	CHECK_STR(t->vault->changemode, "restart");
	CHECK_STR(t->vault->changesignal, "SIGHUP");
	CHECK_STR(t->vault->cluster, "default");
	CHECK_STR(t->csipluginconfig->mountdir, "/csi");
	CHECK_STR(t->csipluginconfig->stagepublishbasedir, "/local/csi");
	CHECK_INT(t->csipluginconfig->healthtimeout, 30 * SEC);
	CHECK_STR(vm->propagationmode, "private");
	CHECK(vm->has_readonly && !vm->readonly);
	/* The old "enabled = false" means disabled. */
	CHECK(t->logconfig->disabled);
	nomad_job_free(job);
}

/* ---- idempotence and errors ---------------------------------------------------- */

/* A job using most blocks, for the idempotence check. */
static nomad_job *busy_job(void)
{
	nomad_job *job = tj_raw_job(NOMAD__JOB_TYPE__service);
	Nomad__TaskGroup *tg = group0(job);
	Nomad__Task *t = task0(job);
	Nomad__Service *s = tj_new_msg(&nomad__service__descriptor);
	Nomad__ServiceCheck *c = tj_new_msg(&nomad__service_check__descriptor);
	Nomad__Template *tp = tj_new_msg(&nomad__template__descriptor);
	Nomad__TaskArtifact *a = tj_new_msg(&nomad__task_artifact__descriptor);

	job->update = tj_new_msg(&nomad__update_strategy__descriptor);
	job->update->has_canary = 1;
	job->update->canary = 2;
	job->reschedule = tj_new_msg(&nomad__reschedule_policy__descriptor);
	job->reschedule->has_delay = 1;
	job->reschedule->delay = 45 * SEC;
	tg->restartpolicy = tj_new_msg(&nomad__restart_policy__descriptor);
	tg->restartpolicy->has_attempts = 1;
	tg->restartpolicy->attempts = 4;
	tg->disconnect = tj_new_msg(&nomad__disconnect_strategy__descriptor);
	s->checkrestart = tj_new_msg(&nomad__check_restart__descriptor);
	CHECK(NMD_PB_APPEND(NULL, s->checks, s->n_checks, c));
	CHECK(NMD_PB_APPEND(NULL, t->services, t->n_services, s));
	tp->changesignal = tj_dup("sighup");
	CHECK(NMD_PB_APPEND(NULL, t->templates, t->n_templates, tp));
	a->gettersource = tj_dup("x/y.zip");
	a->gettermode = tj_dup("file");
	CHECK(NMD_PB_APPEND(NULL, t->artifacts, t->n_artifacts, a));
	tj_add_task(tj_add_group(job, "db"), "pg");
	return job;
}

NMD_TEST(test_structs_canon__idempotent)
{
	nomad_job *job = busy_job(), *once = NULL;

	canon(job);
	CHECK_OK(nomad_job_copy(&once, job));
	canon(job);
	CHECK(nomad_job_equal(once, job));
	nomad_job_free(once);
	nomad_job_free(job);
}

NMD_TEST(test_structs_canon__idempotent_per_type)
{
	static const Nomad__JobType types[] = {
		NOMAD__JOB_TYPE__service, NOMAD__JOB_TYPE__batch,
		NOMAD__JOB_TYPE__system, NOMAD__JOB_TYPE__sysbatch};

	for (size_t i = 0; i < sizeof(types) / sizeof(*types); i++) {
		nomad_job *job = busy_job(), *once = NULL;

		job->type = types[i];
		canon(job);
		CHECK_OK(nomad_job_copy(&once, job));
		canon(job);
		CHECK(nomad_job_equal(once, job));
		nomad_job_free(once);
		nomad_job_free(job);
	}
}

NMD_TEST(test_structs_canon__null_job)
{
	nomad_error err;

	CHECK_INT(nomad_job_canonicalize(NULL, &err), NOMAD_EINVAL);
	CHECK_INT(err.code, NOMAD_EINVAL);
	CHECK_CONTAINS(err.message, "no job");
	CHECK_INT(nomad_job_canonicalize(NULL, NULL), NOMAD_EINVAL);
}
