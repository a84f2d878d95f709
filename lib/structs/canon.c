/* SPDX-License-Identifier: MPL-2.0 */
/*
 * nomad_job_canonicalize: Nomad's defaults, filled in place. This is the
 * client-side Canonicalize of Nomad's api package (api/jobs.go, tasks.go,
 * resources.go, services.go) followed by the few defaults the server adds
 * on register (priority 50, datacenters ["*"], node pool "default",
 * parameterized payload "optional"), so that a job read from any client
 * ends up in the form Nomad stores.
 *
 * Policies are filled field by field: a field the user set is kept, and
 * only unset ones take a default. Job-level update, migrate and reschedule
 * blocks are merged into each group (the group's own fields win), the
 * group's restart block into each task. Every step only fills what is
 * unset, so a second run changes nothing.
 *
 * Allocation failures set a flag in the walk's state instead of unwinding
 * each step; the entry point checks it once, as nmd_buf does. The job may
 * then be partly canonicalised, which is still a valid job to free.
 */
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/error.h"
#include "structs/pb.h"

#define SEC INT64_C(1000000000)
#define MINUTE (60 * SEC)
#define HOUR (60 * MINUTE)

#define DELAY_CONSTANT NOMAD__RESCHEDULE_POLICY__DELAY_FUNCTION_KIND__constant
#define DELAY_EXPONENTIAL                                                     \
	NOMAD__RESCHEDULE_POLICY__DELAY_FUNCTION_KIND__exponential

/* State of one canonicalisation. */
struct canon {
	const nomad_job *job;
	Nomad__JobType type; /* the job's type once defaulted */
	bool oom;
};

/* Set an optional scalar when it is unset. */
#define DEFAULT(m, f, v)                                                      \
	do {                                                                  \
		if (!(m)->has_##f) {                                          \
			(m)->has_##f = 1;                                     \
			(m)->f = (v);                                         \
		}                                                             \
	} while (0)

/* ---- small helpers ----------------------------------------------------- */

static void set_string(struct canon *c, char **slot, const char *s)
{
	if (!nmd_pb_set_string(NULL, slot, s))
		c->oom = true;
}

/* Default a string that is unset, or also empty when `empty_too`: Nomad's
 * api treats some fields as pointers (nil only) and the server others as
 * plain strings ("" too). */
static void default_string(struct canon *c, char **slot, const char *v,
			   bool empty_too)
{
	if (!*slot || (empty_too && !**slot))
		set_string(c, slot, v);
}

/* Make sure *slot holds a message of type `desc`. */
static void *ensure(struct canon *c, void *slot,
		    const ProtobufCMessageDescriptor *desc)
{
	void **p = slot;

	if (!*p && !(*p = nmd_pb_new(desc, NULL)))
		c->oom = true;
	return *p;
}

static void *copy_msg(struct canon *c, const void *msg)
{
	ProtobufCMessage *out = NULL;

	if (nomad_msg_copy(&out, msg, NULL) < 0)
		c->oom = true;
	return out;
}

static void append_string(struct canon *c, char ***arr, size_t *n,
			  const char *s)
{
	char *copy = nmd_strdup(NULL, s);

	if (!copy || !nmd_pb_append(NULL, (void ***)arr, n, copy)) {
		nmd_free(NULL, copy);
		c->oom = true;
	}
}

/*
 * Copy every scalar or string field set in `src` into `dst`: all of them
 * when `overwrite` (a merge where `src` wins), or only those `dst` lacks (a
 * default fill). Policy blocks hold nothing else, so one descriptor walk
 * serves update, migrate, restart, reschedule and check_restart alike.
 */
static void merge_fields(struct canon *c, ProtobufCMessage *dst,
			 const ProtobufCMessage *src, bool overwrite)
{
	const ProtobufCMessageDescriptor *d = dst->descriptor;

	for (unsigned int i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];

		if (f->label == PROTOBUF_C_LABEL_REPEATED ||
		    f->type == PROTOBUF_C_TYPE_MESSAGE ||
		    f->type == PROTOBUF_C_TYPE_BYTES)
			continue;
		if (!nmd_pb_field_present(src, f) ||
		    (!overwrite && nmd_pb_field_present(dst, f)))
			continue;
		if (f->type == PROTOBUF_C_TYPE_STRING) {
			set_string(c, nmd_pb_field_ptr(dst, f),
				   *(char *const *)nmd_pb_field_ptr(src, f));
			continue;
		}
		memcpy(nmd_pb_field_ptr(dst, f), nmd_pb_field_ptr(src, f),
		       nmd_pb_scalar_size(f->type));
		*(protobuf_c_boolean *)nmd_pb_quant_ptr(dst, f) = 1;
	}
}

#define FILL(c, dst, defaults)                                                \
	merge_fields((c), &(dst)->base, &(defaults)->base, false)

/*
 * *slot becomes a copy of `outer` with the fields of the old *slot laid
 * over it: Nomad's job-to-group inheritance. Nothing happens when `outer`
 * is NULL.
 */
static void inherit(struct canon *c, void *slot, const void *outer)
{
	ProtobufCMessage **p = slot, *merged;

	if (!outer || !(merged = copy_msg(c, outer)))
		return;
	if (*p) {
		merge_fields(c, merged, *p, true);
		nmd_pb_free(*p, NULL);
	}
	*p = merged;
}

/* ---- policy defaults --------------------------------------------------- */

static bool deploys(Nomad__JobType t)
{
	return t == NOMAD__JOB_TYPE__service || t == NOMAD__JOB_TYPE__system;
}

static void update_defaults(Nomad__UpdateStrategy *u)
{
	*u = (Nomad__UpdateStrategy)NOMAD__UPDATE_STRATEGY__INIT;
	u->has_stagger = u->has_maxparallel = u->has_healthcheck = 1;
	u->has_minhealthytime = u->has_healthydeadline = 1;
	u->has_progressdeadline = u->has_canary = 1;
	u->has_autorevert = u->has_autopromote = 1;
	u->stagger = 30 * SEC;
	u->maxparallel = 1;
	u->healthcheck = NOMAD__HEALTH_CHECK_MODE__checks;
	u->minhealthytime = 10 * SEC;
	u->healthydeadline = 5 * MINUTE;
	u->progressdeadline = 10 * MINUTE;
}

static void migrate_defaults(Nomad__MigrateStrategy *m)
{
	*m = (Nomad__MigrateStrategy)NOMAD__MIGRATE_STRATEGY__INIT;
	m->has_maxparallel = m->has_healthcheck = 1;
	m->has_minhealthytime = m->has_healthydeadline = 1;
	m->maxparallel = 1;
	m->healthcheck = NOMAD__HEALTH_CHECK_MODE__checks;
	m->minhealthytime = 10 * SEC;
	m->healthydeadline = 5 * MINUTE;
}

/* service and system: 2 in 30m, batch and sysbatch: 3 in 24h. */
static void restart_defaults(Nomad__RestartPolicy *r, Nomad__JobType t)
{
	bool svc = deploys(t);

	*r = (Nomad__RestartPolicy)NOMAD__RESTART_POLICY__INIT;
	r->has_interval = r->has_attempts = r->has_delay = 1;
	r->has_mode = r->has_rendertemplates = 1;
	r->delay = 15 * SEC;
	r->attempts = svc ? 2 : 3;
	r->interval = svc ? 30 * MINUTE : 24 * HOUR;
	r->mode = NOMAD__RESTART_POLICY__MODE_KIND__fail;
}

/* Nomad's NewDefaultReschedulePolicy. Other types (system, sysbatch) get
 * zeros, which only matter when the user wrote a block they cannot have. */
static void reschedule_defaults(Nomad__ReschedulePolicy *r, Nomad__JobType t)
{
	*r = (Nomad__ReschedulePolicy)NOMAD__RESCHEDULE_POLICY__INIT;
	r->has_attempts = r->has_interval = r->has_delay = 1;
	r->has_maxdelay = r->has_unlimited = 1;
	if (t == NOMAD__JOB_TYPE__service) {
		r->has_delayfunction = 1;
		r->delay = 30 * SEC;
		r->delayfunction = DELAY_EXPONENTIAL;
		r->maxdelay = HOUR;
		r->unlimited = 1;
	} else if (t == NOMAD__JOB_TYPE__batch) {
		r->has_delayfunction = 1;
		r->attempts = 1;
		r->interval = 24 * HOUR;
		r->delay = 5 * SEC;
		r->delayfunction = DELAY_CONSTANT;
	}
}

/* ---- job --------------------------------------------------------------- */

static void canon_job_fields(struct canon *c, nomad_job *job)
{
	if (!job->name && job->id)
		set_string(c, &job->name, job->id);
	default_string(c, &job->region, "global", false);
	default_string(c, &job->namespace_, "default", true);
	DEFAULT(job, type, NOMAD__JOB_TYPE__service);
	/* The server treats 0 as "not given" (job_endpoint_hooks.go). */
	if (!job->has_priority || job->priority == 0) {
		job->has_priority = 1;
		job->priority = 50;
	}
	DEFAULT(job, allatonce, 0);
	if (job->n_datacenters == 0)
		append_string(c, &job->datacenters, &job->n_datacenters, "*");
	default_string(c, &job->nodepool, "default", true);
}

static void canon_affinities(Nomad__Affinity **a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		DEFAULT(a[i], weight, 50);
}

static void canon_spreads(Nomad__Spread **s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		DEFAULT(s[i], weight, 50);
}

static void canon_job_blocks(struct canon *c, nomad_job *job)
{
	Nomad__PeriodicConfig *p = job->periodic;
	Nomad__UpdateStrategy d;

	if (p) {
		DEFAULT(p, enabled, 1);
		default_string(c, &p->spectype, "cron", false);
		DEFAULT(p, prohibitoverlap, 0);
		default_string(c, &p->timezone, "UTC", true);
	}
	if (job->parameterizedjob)
		default_string(c, &job->parameterizedjob->payload, "optional",
			       true);
	/* A job-level update block is a default for the groups; service jobs
	 * get Nomad's even when they wrote none. */
	if (!job->update && job->type == NOMAD__JOB_TYPE__service)
		ensure(c, &job->update, &nomad__update_strategy__descriptor);
	if (job->update) {
		update_defaults(&d);
		FILL(c, job->update, &d);
	}
	canon_affinities(job->affinities, job->n_affinities);
	canon_spreads(job->spreads, job->n_spreads);
}

/* ---- group policies ---------------------------------------------------- */

static void canon_group_update(struct canon *c, Nomad__TaskGroup *tg)
{
	Nomad__UpdateStrategy d;

	/* Nomad's api skips an empty job-level block here, but it has filled
	 * that block in already, so it never is: the group always inherits. */
	inherit(c, &tg->update, c->job->update);
	/* Filled whatever the type, as Nomad's api does: a batch job's block
	 * is then refused by validation for its type alone. */
	if (tg->update) {
		update_defaults(&d);
		FILL(c, tg->update, &d);
	}
}

static void canon_group_reschedule(struct canon *c, Nomad__TaskGroup *tg)
{
	Nomad__ReschedulePolicy d;

	inherit(c, &tg->reschedulepolicy, c->job->reschedule);
	if (!tg->reschedulepolicy && c->type != NOMAD__JOB_TYPE__system &&
	    c->type != NOMAD__JOB_TYPE__sysbatch)
		ensure(c, &tg->reschedulepolicy,
		       &nomad__reschedule_policy__descriptor);
	if (tg->reschedulepolicy) {
		reschedule_defaults(&d, c->type);
		FILL(c, tg->reschedulepolicy, &d);
	}
}

static void canon_group_migrate(struct canon *c, Nomad__TaskGroup *tg)
{
	Nomad__MigrateStrategy d;

	inherit(c, &tg->migrate, c->job->migrate);
	if (!tg->migrate && c->type == NOMAD__JOB_TYPE__service)
		ensure(c, &tg->migrate, &nomad__migrate_strategy__descriptor);
	if (tg->migrate) {
		migrate_defaults(&d);
		FILL(c, tg->migrate, &d);
	}
}

static void canon_group_policies(struct canon *c, Nomad__TaskGroup *tg)
{
	Nomad__RestartPolicy r;
	Nomad__EphemeralDisk *disk;

	canon_group_update(c, tg);
	canon_group_reschedule(c, tg);
	canon_group_migrate(c, tg);
	if (ensure(c, &tg->restartpolicy, &nomad__restart_policy__descriptor)) {
		restart_defaults(&r, c->type);
		FILL(c, tg->restartpolicy, &r);
	}
	disk = ensure(c, &tg->ephemeraldisk, &nomad__ephemeral_disk__descriptor);
	if (disk) {
		DEFAULT(disk, sticky, 0);
		DEFAULT(disk, migrate, 0);
		DEFAULT(disk, sizemb, 300);
	}
	if (tg->disconnect) {
		DEFAULT(tg->disconnect, replace, 1);
		DEFAULT(tg->disconnect, reconcile,
			NOMAD__DISCONNECT_STRATEGY__RECONCILE_KIND__best_score);
	}
}

/* ---- networks ---------------------------------------------------------- */

static void canon_ports(struct canon *c, Nomad__Port **ports, size_t n)
{
	for (size_t i = 0; i < n; i++)
		default_string(c, &ports[i]->hostnetwork, "default", true);
}

static void canon_networks(struct canon *c, Nomad__NetworkResource **nets,
			   size_t n)
{
	for (size_t i = 0; i < n; i++) {
		default_string(c, &nets[i]->mode, "host", true);
		canon_ports(c, nets[i]->reservedports, nets[i]->n_reservedports);
		canon_ports(c, nets[i]->dynamicports, nets[i]->n_dynamicports);
	}
}

/* ---- services ---------------------------------------------------------- */

/* Replace every `${key}` in *slot by `value`. */
static void replace_var(struct canon *c, char **slot, const char *key,
			const char *value)
{
	size_t klen = strlen(key), vlen = strlen(value);
	char *at, *out;

	while (*slot && (at = strstr(*slot, key))) {
		size_t pre = (size_t)(at - *slot), rest = strlen(at + klen);

		if (!(out = nmd_malloc(NULL, pre + vlen + rest + 1))) {
			c->oom = true;
			return;
		}
		memcpy(out, *slot, pre);
		memcpy(out + pre, value, vlen);
		memcpy(out + pre + vlen, at + klen, rest + 1);
		nmd_free(NULL, *slot);
		*slot = out;
	}
}

/*
 * The default name (job-group-task, or job-group for a group service) and
 * the server's interpolation of ${JOB}, ${TASKGROUP}, ${TASK}, ${BASE}.
 */
static void canon_service_name(struct canon *c, Nomad__Service *s,
			       const char *group, const char *task)
{
	const char *job = c->job->name ? c->job->name : "";
	const char *t = task ? task : "group";
	struct nmd_buf base, dflt;

	nmd_buf_init(&base, NULL);
	nmd_buf_init(&dflt, NULL);
	nmd_buf_printf(&base, "%s-%s-%s", job, group, t);
	if (task)
		nmd_buf_printf(&dflt, "%s-%s-%s", job, group, task);
	else
		nmd_buf_printf(&dflt, "%s-%s", job, group);
	if (base.oom || dflt.oom) {
		c->oom = true;
	} else {
		default_string(c, &s->name, dflt.data, true);
		replace_var(c, &s->name, "${JOB}", job);
		replace_var(c, &s->name, "${TASKGROUP}", group);
		replace_var(c, &s->name, "${TASK}", t);
		replace_var(c, &s->name, "${BASE}", base.data);
	}
	nmd_buf_free(&base);
	nmd_buf_free(&dflt);
}

/* A check's check_restart is the service's with the check's own fields
 * laid over it, then a grace of 1s (api CheckRestart.Merge). */
static void canon_check_restart(struct canon *c, Nomad__ServiceCheck *chk,
				const Nomad__CheckRestart *svc)
{
	if (svc)
		inherit(c, &chk->checkrestart, svc);
	if (chk->checkrestart)
		DEFAULT(chk->checkrestart, grace, SEC);
}

static void canon_check(struct canon *c, Nomad__Service *s,
			Nomad__ServiceCheck *chk)
{
	if (!chk->name || !*chk->name) {
		struct nmd_buf n;

		nmd_buf_init(&n, NULL);
		nmd_buf_printf(&n, "service: \"%s\" check",
			       s->name ? s->name : "");
		set_string(c, &chk->name, n.data);
		c->oom |= n.oom;
		nmd_buf_free(&n);
	}
	canon_check_restart(c, chk, s->checkrestart);
	if (chk->has_successbeforepassing && chk->successbeforepassing < 0)
		chk->successbeforepassing = 0;
	if (chk->has_failuresbeforecritical && chk->failuresbeforecritical < 0)
		chk->failuresbeforecritical = 0;
	if (chk->has_failuresbeforewarning && chk->failuresbeforewarning < 0)
		chk->failuresbeforewarning = 0;
	default_string(c, &chk->onupdate, s->onupdate, true);
}

static void canon_services(struct canon *c, Nomad__Service **svcs, size_t n,
			   const char *group, const char *task)
{
	for (size_t i = 0; i < n; i++) {
		Nomad__Service *s = svcs[i];

		canon_service_name(c, s, group, task);
		default_string(c, &s->addressmode, "auto", true);
		default_string(c, &s->onupdate, "require_healthy", true);
		default_string(c, &s->provider, "consul", true);
		if (task)
			default_string(c, &s->taskname, task, true);
		for (size_t j = 0; j < s->n_checks; j++)
			canon_check(c, s, s->checks[j]);
	}
}

/* ---- tasks ------------------------------------------------------------- */

/* api Resources.Canonicalize: cpu 100 unless cores are asked for, 300 MB. */
static void canon_resources(struct canon *c, Nomad__Task *t)
{
	Nomad__Resources *r;

	r = ensure(c, &t->resources, &nomad__resources__descriptor);
	if (!r)
		return;
	if (!r->has_cores) {
		r->has_cores = 1;
		r->cores = 0;
		DEFAULT(r, cpu, 100);
	}
	DEFAULT(r, cpu, 0);
	DEFAULT(r, memorymb, 300);
	canon_networks(c, r->networks, r->n_networks);
	for (size_t i = 0; i < r->n_devices; i++) {
		DEFAULT(r->devices[i], count, 1);
		canon_affinities(r->devices[i]->affinities,
				 r->devices[i]->n_affinities);
	}
}

static void canon_logs(struct canon *c, Nomad__Task *t)
{
	Nomad__LogConfig *l;

	l = ensure(c, &t->logconfig, &nomad__log_config__descriptor);
	if (!l)
		return;
	DEFAULT(l, maxfiles, 10);
	DEFAULT(l, maxfilesizemb, 10);
	/* COMPAT: "enabled" was the old, inverted spelling of "disabled". */
	DEFAULT(l, disabled, l->has_enabled ? !l->enabled : 0);
}

/* Go's path.Base, then filepath.Join("local", base). */
static void artifact_file_dest(struct canon *c, Nomad__TaskArtifact *a)
{
	const char *src = a->gettersource, *end = src + strlen(src), *b;
	struct nmd_buf d;

	while (end > src && end[-1] == '/')
		end--;
	for (b = end; b > src && b[-1] != '/';)
		b--;
	nmd_buf_init(&d, NULL);
	if (b == end || (end - b == 1 && *b == '.'))
		nmd_buf_puts(&d, "local");
	else if (end - b == 2 && b[0] == '.' && b[1] == '.')
		nmd_buf_puts(&d, ".");
	else
		nmd_buf_printf(&d, "local/%.*s", (int)(end - b), b);
	if (d.oom)
		c->oom = true;
	else
		set_string(c, &a->relativedest, d.data);
	nmd_buf_free(&d);
}

static void canon_artifacts(struct canon *c, Nomad__Task *t)
{
	for (size_t i = 0; i < t->n_artifacts; i++) {
		Nomad__TaskArtifact *a = t->artifacts[i];

		default_string(c, &a->gettermode, "any", false);
		DEFAULT(a, getterinsecure, 0);
		default_string(c, &a->gettersource, "", false);
		if (a->relativedest || c->oom)
			continue;
		if (strcmp(a->gettermode, "file") == 0)
			artifact_file_dest(c, a);
		else
			set_string(c, &a->relativedest, "local/");
	}
}

static void canon_template(struct canon *c, Nomad__Template *tp)
{
	bool signal;

	default_string(c, &tp->sourcepath, "", false);
	default_string(c, &tp->destpath, "", false);
	default_string(c, &tp->embeddedtmpl, "", false);
	DEFAULT(tp, changemode, NOMAD__TEMPLATE__CHANGE_MODE_KIND__restart);
	signal = tp->changemode == NOMAD__TEMPLATE__CHANGE_MODE_KIND__signal;
	if (!tp->changesignal)
		set_string(c, &tp->changesignal, signal ? "SIGHUP" : "");
	for (char *p = tp->changesignal; p && *p; p++)
		if (*p >= 'a' && *p <= 'z')
			*p = (char)(*p - 'a' + 'A');
	if (tp->changescript) {
		default_string(c, &tp->changescript->command, "", false);
		DEFAULT(tp->changescript, timeout, 5 * SEC);
		DEFAULT(tp->changescript, failonerror, 0);
	}
	DEFAULT(tp, once, 0);
	DEFAULT(tp, splay, 5 * SEC);
	default_string(c, &tp->perms, "0644", false);
	default_string(c, &tp->leftdelim, "{{", false);
	default_string(c, &tp->rightdelim, "}}", false);
	DEFAULT(tp, envvars, 0);
	DEFAULT(tp, errmissingkey, 0);
	DEFAULT(tp, vaultgrace, 0);
}

static void canon_task_blocks(struct canon *c, Nomad__Task *t)
{
	Nomad__Vault *v = t->vault;

	if (v) {
		DEFAULT(v, env, 1);
		DEFAULT(v, disablefile, 0);
		default_string(c, &v->namespace_, "", false);
		default_string(c, &v->cluster, "default", true);
		default_string(c, &v->changemode, "restart", false);
		default_string(c, &v->changesignal, "SIGHUP", false);
		DEFAULT(v, allowtokenexpiration, 0);
	}
	if (t->consul)
		default_string(c, &t->consul->cluster, "default", true);
	for (size_t i = 0; i < t->n_templates; i++)
		canon_template(c, t->templates[i]);
	for (size_t i = 0; i < t->n_volumemounts; i++) {
		Nomad__VolumeMount *vm = t->volumemounts[i];

		default_string(c, &vm->propagationmode, "private", false);
		DEFAULT(vm, readonly, 0);
		default_string(c, &vm->selinuxlabel, "", false);
	}
	if (t->csipluginconfig) {
		Nomad__TaskCSIPluginConfig *p = t->csipluginconfig;

		default_string(c, &p->mountdir, "/csi", true);
		default_string(c, &p->stagepublishbasedir, "/local/csi", true);
		if (!p->has_healthtimeout || p->healthtimeout == 0) {
			p->has_healthtimeout = 1;
			p->healthtimeout = 30 * SEC;
		}
	}
}

static void canon_task(struct canon *c, Nomad__TaskGroup *tg, Nomad__Task *t)
{
	canon_resources(c, t);
	DEFAULT(t, killtimeout, 5 * SEC);
	canon_logs(c, t);
	canon_artifacts(c, t);
	canon_task_blocks(c, t);
	canon_services(c, t->services, t->n_services,
		       tg->name ? tg->name : "", t->name ? t->name : "");
	canon_affinities(t->affinities, t->n_affinities);
	/* The task restarts as its group does, except for what it sets. */
	if (!tg->restartpolicy)
		return;
	if (t->restartpolicy)
		FILL(c, t->restartpolicy, tg->restartpolicy);
	else
		t->restartpolicy = copy_msg(c, tg->restartpolicy);
}

/* ---- group ------------------------------------------------------------- */

static void canon_group_count(struct canon *c, Nomad__TaskGroup *tg)
{
	Nomad__ScalingPolicy *sp = tg->scaling;

	if (!tg->has_count) {
		tg->has_count = 1;
		tg->count = sp && sp->has_min ? (int32_t)sp->min : 1;
	}
	if (sp) {
		DEFAULT(sp, enabled, 1);
		DEFAULT(sp, min, tg->count);
		default_string(c, &sp->type, "horizontal", true);
	}
}

static void canon_group(struct canon *c, Nomad__TaskGroup *tg)
{
	const char *name = tg->name ? tg->name : "";

	canon_group_count(c, tg);
	if (tg->consul) {
		if (c->job->consulnamespace)
			default_string(c, &tg->consul->namespace_,
				       c->job->consulnamespace, true);
		default_string(c, &tg->consul->cluster, "default", true);
	}
	canon_group_policies(c, tg);
	for (size_t i = 0; i < tg->n_tasks; i++)
		canon_task(c, tg, tg->tasks[i]);
	canon_spreads(tg->spreads, tg->n_spreads);
	canon_affinities(tg->affinities, tg->n_affinities);
	canon_networks(c, tg->networks, tg->n_networks);
	canon_services(c, tg->services, tg->n_services, name, NULL);
}

nomad_err nomad_job_canonicalize(nomad_job *job, nomad_error *err)
{
	struct canon c = {.job = job};

	if (!job)
		return nmd_seterr(err, NOMAD_EINVAL,
				  "structs: canonicalize: no job given");
	canon_job_fields(&c, job);
	c.type = job->type;
	canon_job_blocks(&c, job);
	for (size_t i = 0; i < job->n_taskgroups && !c.oom; i++)
		canon_group(&c, job->taskgroups[i]);
	if (c.oom)
		return nmd_seterr(err, NOMAD_ENOMEM,
				  "structs: canonicalize: out of memory");
	return NOMAD_OK;
}
