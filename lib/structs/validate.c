/* SPDX-License-Identifier: MPL-2.0 */
/*
 * nomad_job_validate: Nomad's structs.Job.Validate, TaskGroup.Validate and
 * Task.Validate, collecting every problem instead of stopping at the
 * first. This file holds the problem list, the path that prefixes each
 * problem, and the walk over job, groups, tasks and networks; the checks
 * of single blocks are in validate_rules.c and of services in
 * validate_services.c.
 *
 * Nomad nests its messages ("Task group web validation failed: Task api
 * validation failed: ..."); here the nesting becomes a path in front of
 * the message instead, `group "web" task "api": resources: ...`, so every
 * problem reads on its own line. The order is Nomad's.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/timeutil.h"
#include "structs/validate_int.h"

struct nomad_problems {
	char **items;
	size_t n;
	size_t cap;
	bool oom;
};

/* ---- the problem list -------------------------------------------------- */

size_t nomad_problems_count(const nomad_problems *p)
{
	return p ? p->n : 0;
}

const char *nomad_problems_get(const nomad_problems *p, size_t i)
{
	return p && i < p->n ? p->items[i] : NULL;
}

void nomad_problems_free(nomad_problems *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		nmd_free(NULL, p->items[i]);
	nmd_free(NULL, p->items);
	nmd_free(NULL, p);
}

static void problems_add(nomad_problems *p, char *s)
{
	if (p->n == p->cap) {
		size_t cap = p->cap ? 2 * p->cap : 8;
		char **items = nmd_reallocarray(NULL, p->items, cap,
						sizeof(*items));

		if (!items) {
			nmd_free(NULL, s);
			p->oom = true;
			return;
		}
		p->items = items;
		p->cap = cap;
	}
	p->items[p->n++] = s;
}

void nmd_vproblem(struct nmd_vctx *v, const char *fmt, ...)
{
	struct nmd_buf b;
	va_list ap;
	char *msg;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	nmd_buf_init(&b, NULL);
	if (n < 0 || !nmd_buf_reserve(&b, v->path.len + (size_t)n)) {
		v->problems->oom = true;
		return;
	}
	if (v->path.len)
		nmd_buf_append(&b, v->path.data, v->path.len);
	va_start(ap, fmt);
	(void)vsnprintf(b.data + b.len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b.len += (size_t)n;
	msg = nmd_buf_steal(&b, NULL);
	if (msg)
		problems_add(v->problems, msg);
	else
		v->problems->oom = true;
}

void nmd_vctx_oom(struct nmd_vctx *v)
{
	v->problems->oom = true;
}

/* ---- the path ---------------------------------------------------------- */

size_t nmd_vpath_push(struct nmd_vctx *v, const char *block)
{
	size_t mark = v->path.len;

	nmd_buf_printf(&v->path, "%s: ", block);
	return mark;
}

size_t nmd_vpath_push_index(struct nmd_vctx *v, const char *block, size_t i)
{
	size_t mark = v->path.len;

	nmd_buf_printf(&v->path, "%s %zu: ", block, i + 1);
	return mark;
}

size_t nmd_vpath_push_named(struct nmd_vctx *v, const char *block,
			    const char *name, size_t i, bool join)
{
	size_t mark = v->path.len;

	/* `group "a": ` becomes `group "a" task "b": ` */
	if (join && v->path.len >= 2)
		v->path.len -= 1, v->path.data[v->path.len - 1] = ' ';
	if (name && *name)
		nmd_buf_printf(&v->path, "%s \"%s\": ", block, name);
	else
		nmd_buf_printf(&v->path, "%s %zu: ", block, i + 1);
	return mark;
}

void nmd_vpath_pop(struct nmd_vctx *v, size_t mark)
{
	/* A joined push changed the separator before the mark; put it back. */
	if (mark >= 2 && v->path.len >= mark && v->path.data)
		memcpy(v->path.data + mark - 2, ": ", 2);
	v->path.len = mark;
	if (v->path.data)
		v->path.data[mark] = '\0';
}

const char *nmd_vdur(char *buf, int64_t ns)
{
	nmd_duration_format(ns, buf, 32);
	return buf;
}

/* ---- networks ---------------------------------------------------------- */

/* A port seen so far: its label, or its static value on a host network. */
struct port_seen {
	const char *label;
	const char *task; /* NULL for the group's network */
	const char *hostnet;
	int32_t value;
};

struct ports_seen {
	struct port_seen *items;
	size_t n, cap;
};

static void seen_add(struct nmd_vctx *v, struct ports_seen *s,
		     struct port_seen e)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 8;
		struct port_seen *items;

		items = nmd_reallocarray(NULL, s->items, cap, sizeof(*items));
		if (!items) {
			nmd_vctx_oom(v);
			return;
		}
		s->items = items;
		s->cap = cap;
	}
	s->items[s->n++] = e;
}

static const struct port_seen *seen_label(const struct ports_seen *s,
					  const char *label)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->items[i].label, label) == 0)
			return &s->items[i];
	return NULL;
}

static const struct port_seen *seen_static(const struct ports_seen *s,
					   const char *hostnet, int32_t value)
{
	for (size_t i = 0; i < s->n; i++)
		if (s->items[i].value == value &&
		    strcmp(s->items[i].hostnet, hostnet) == 0)
			return &s->items[i];
	return NULL;
}

static void check_static_port(struct nmd_vctx *v, const Nomad__Port *p,
			      struct port_seen e, struct ports_seen *statics)
{
	const struct port_seen *o = seen_static(statics, e.hostnet, e.value);

	if (o && !p->ignorecollision) {
		if (o->task)
			nmd_vproblem(v, "static port %d already reserved by "
					"%s:%s", e.value, o->task, o->label);
		else
			nmd_vproblem(v, "static port %d already reserved by "
					"taskgroup network:%s", e.value,
				     o->label);
	} else if (e.value > 65535) {
		nmd_vproblem(v, "port %s (%d) cannot be greater than 65535",
			     e.label, e.value);
	} else if (e.value < 0) {
		nmd_vproblem(v, "port %s (%d) cannot be negative", e.label,
			     e.value);
	} else if (!o) {
		seen_add(v, statics, e);
	}
}

/* Nomad's TaskGroup.validateNetworks for one port; `task` is NULL for the
 * group's network. Only group ports claim labels, as in Nomad. */
static void check_port(struct nmd_vctx *v, const Nomad__Port *p,
		       const char *task, struct ports_seen *labels,
		       struct ports_seen *statics)
{
	struct port_seen e = {nmd_vstr(p->label), task,
			      p->hostnetwork && *p->hostnetwork
				      ? p->hostnetwork
				      : "default",
			      p->value};

	if (seen_label(labels, e.label))
		nmd_vproblem(v, "port label %s already in use by taskgroup "
				"network", e.label);
	else if (!task)
		seen_add(v, labels, e);
	if (p->value != 0)
		check_static_port(v, p, e, statics);
	if (p->to < -1)
		nmd_vproblem(v, "port \"%s\" cannot be mapped to negative "
				"value %d", e.label, p->to);
	else if (p->to > 65535)
		nmd_vproblem(v, "port \"%s\" cannot be mapped to a port (%d) "
				"greater than 65535", e.label, p->to);
}

static void check_net_ports(struct nmd_vctx *v,
			    const Nomad__NetworkResource *n, const char *task,
			    struct ports_seen *labels,
			    struct ports_seen *statics)
{
	for (size_t i = 0; i < n->n_reservedports; i++)
		check_port(v, n->reservedports[i], task, labels, statics);
	for (size_t i = 0; i < n->n_dynamicports; i++)
		check_port(v, n->dynamicports[i], task, labels, statics);
}

static void check_networks(struct nmd_vctx *v, const Nomad__TaskGroup *tg)
{
	struct ports_seen labels = {0}, statics = {0};
	size_t mark = nmd_vpath_push(v, "network");

	for (size_t i = 0; i < tg->n_networks; i++)
		check_net_ports(v, tg->networks[i], NULL, &labels, &statics);
	for (size_t i = 0; i < tg->n_tasks; i++) {
		const Nomad__Task *t = tg->tasks[i];

		for (size_t j = 0; t->resources && j < t->resources->n_networks;
		     j++)
			check_net_ports(v, t->resources->networks[j],
					nmd_vstr(t->name), &labels, &statics);
	}
	if (tg->n_networks > 1)
		nmd_vproblem(v, "only one network resource is allowed");
	nmd_vpath_pop(v, mark);
	nmd_free(NULL, labels.items);
	nmd_free(NULL, statics.items);
}

/* ---- tasks ------------------------------------------------------------- */

static bool is_system(const struct nmd_vctx *v)
{
	return v->type == NOMAD__JOB_TYPE__system;
}

static void check_task_constraints(struct nmd_vctx *v, const Nomad__Task *t)
{
	for (size_t i = 0; i < t->n_constraints; i++) {
		const char *op = nmd_vstr(t->constraints[i]->operand);
		size_t mark = nmd_vpath_push_index(v, "constraint", i);

		nmd_check_constraint(v, t->constraints[i]);
		if (!strcmp(op, "distinct_hosts") ||
		    !strcmp(op, "distinct_property"))
			nmd_vproblem(v, "disallowed operand at task level: %s",
				     op);
		nmd_vpath_pop(v, mark);
	}
	if (is_system(v) && t->n_affinities)
		nmd_vproblem(v, "system jobs may not have an affinity block");
	for (size_t i = 0; !is_system(v) && i < t->n_affinities; i++) {
		size_t mark = nmd_vpath_push_index(v, "affinity", i);

		nmd_check_affinity(v, t->affinities[i]);
		nmd_vpath_pop(v, mark);
	}
}

static void check_task_logs(struct nmd_vctx *v, const Nomad__TaskGroup *tg,
			    const Nomad__Task *t)
{
	const Nomad__LogConfig *l = t->logconfig;
	const Nomad__EphemeralDisk *disk = tg->ephemeraldisk;
	size_t mark;
	int64_t use;

	if (!l) {
		nmd_vproblem(v, "missing log config");
		return;
	}
	mark = nmd_vpath_push(v, "logs");
	if (l->maxfiles < 1)
		nmd_vproblem(v, "minimum number of files is 1; got %d",
			     l->maxfiles);
	if (l->maxfilesizemb < 1)
		nmd_vproblem(v, "minimum file size is 1MB; got %d",
			     l->maxfilesizemb);
	nmd_vpath_pop(v, mark);
	/* Logs that are not written take no room. */
	use = (int64_t)l->maxfiles * l->maxfilesizemb;
	if (disk && !l->disabled && disk->sizemb <= use)
		nmd_vproblem(v, "log storage (%lld MB) must be less than "
				"requested disk capacity (%d MB)",
			     (long long)use, disk->sizemb);
}

static void check_task_templates(struct nmd_vctx *v, const Nomad__Task *t)
{
	for (size_t i = 0; i < t->n_templates; i++) {
		const char *dest = nmd_vstr(t->templates[i]->destpath);
		size_t mark = nmd_vpath_push_index(v, "template", i);

		nmd_check_template(v, t->templates[i]);
		nmd_vpath_pop(v, mark);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(nmd_vstr(t->templates[j]->destpath), dest)) {
				nmd_vproblem(v, "template %zu has same "
						"destination as %zu", i + 1,
					     j + 1);
				break;
			}
	}
	for (size_t i = 0; i < t->n_artifacts; i++) {
		size_t mark = nmd_vpath_push_index(v, "artifact", i);

		nmd_check_artifact(v, t->artifacts[i]);
		nmd_vpath_pop(v, mark);
	}
}

static void check_task_lifecycle(struct nmd_vctx *v, const Nomad__Task *t)
{
	const Nomad__TaskLifecycle *l = t->lifecycle;
	const char *hook;
	size_t mark;

	if (!l)
		return;
	mark = nmd_vpath_push(v, "lifecycle");
	hook = nomad_enum_name(&nomad__task_lifecycle__hook_kind__descriptor,
			       (int)l->hook);
	if (!l->has_hook)
		nmd_vproblem(v, "no lifecycle hook provided");
	else if (!hook)
		nmd_vproblem(v, "invalid hook: %d", (int)l->hook);
	else if (l->sidecar && strcmp(hook, "poststop") == 0)
		nmd_vproblem(v, "sidecar is only valid with the prestart or "
				"poststart hook");
	nmd_vpath_pop(v, mark);
}

static bool has_volume(const Nomad__TaskGroup *tg, const char *name)
{
	for (size_t i = 0; i < tg->n_volumes; i++)
		if (!strcmp(nmd_vstr(tg->volumes[i]->key), name))
			return true;
	return false;
}

static void check_task_mounts(struct nmd_vctx *v, const Nomad__TaskGroup *tg,
			      const Nomad__Task *t)
{
	static const char *const modes[] = {"", "private", "host-to-task",
					    "bidirectional"};

	for (size_t i = 0; i < t->n_volumemounts; i++) {
		const Nomad__VolumeMount *m = t->volumemounts[i];
		const char *mode = nmd_vstr(m->propagationmode);
		size_t mark = nmd_vpath_push_index(v, "volume_mount", i), k;

		if (!m->volume || !*m->volume)
			nmd_vproblem(v, "references an empty volume");
		else if (!has_volume(tg, m->volume))
			nmd_vproblem(v, "references undefined volume %s",
				     m->volume);
		for (k = 0; k < sizeof(modes) / sizeof(*modes); k++)
			if (!strcmp(mode, modes[k]))
				break;
		if (k == sizeof(modes) / sizeof(*modes))
			nmd_vproblem(v, "invalid propagation mode: \"%s\"",
				     mode);
		nmd_vpath_pop(v, mark);
	}
}

static void check_task_misc(struct nmd_vctx *v, const Nomad__TaskGroup *tg,
			    const Nomad__Task *t)
{
	const Nomad__TaskCSIPluginConfig *csi = t->csipluginconfig;
	const char *type = csi ? nmd_vstr(csi->type) : "";
	size_t mark;

	if (t->vault) {
		mark = nmd_vpath_push(v, "vault");
		nmd_check_vault(v, t->vault);
		nmd_vpath_pop(v, mark);
	}
	if (t->dispatchpayload) {
		if (!v->job->parameterizedjob)
			nmd_vproblem(v, "dispatch_payload requires a "
					"parameterized job");
		if (nmd_path_escapes("task/local",
				     nmd_vstr(t->dispatchpayload->file)))
			nmd_vproblem(v, "dispatch_payload: destination escapes "
					"allocation directory");
	}
	if (csi && (!csi->id || !*csi->id))
		nmd_vproblem(v, "CSIPluginConfig must have a non-empty "
				"PluginID");
	if (csi && strcmp(type, "node") && strcmp(type, "controller") &&
	    strcmp(type, "monolith"))
		nmd_vproblem(v, "CSIPluginConfig PluginType must be one of "
				"'node', 'controller', or 'monolith', got: "
				"\"%s\"", type);
	/* A restart block of its own; one inherited whole was checked with
	 * the group. */
	if (t->restartpolicy &&
	    !nomad_msg_equal(&t->restartpolicy->base,
			     tg->restartpolicy ? &tg->restartpolicy->base
					       : NULL)) {
		mark = nmd_vpath_push(v, "restart");
		nmd_check_restart(v, t->restartpolicy);
		nmd_vpath_pop(v, mark);
	}
}

static void check_task(struct nmd_vctx *v, const Nomad__TaskGroup *tg,
		       const Nomad__Task *t)
{
	size_t mark;

	if (!t->name || !*t->name)
		nmd_vproblem(v, "missing task name");
	else if (strpbrk(t->name, "/\\"))
		nmd_vproblem(v, "task name cannot include slashes");
	if (!t->driver || !*t->driver)
		nmd_vproblem(v, "missing task driver");
	if (t->killtimeout < 0)
		nmd_vproblem(v, "KillTimeout must be a positive value");
	if (t->shutdowndelay < 0)
		nmd_vproblem(v, "ShutdownDelay must be a positive value");
	if (!t->resources) {
		nmd_vproblem(v, "missing task resources");
	} else {
		mark = nmd_vpath_push(v, "resources");
		nmd_check_resources(v, t->resources);
		nmd_vpath_pop(v, mark);
	}
	check_task_logs(v, tg, t);
	check_task_constraints(v, t);
	nmd_check_task_services(v, tg, t);
	check_task_templates(v, t);
	check_task_lifecycle(v, t);
	check_task_mounts(v, tg, t);
	check_task_misc(v, tg, t);
}

/* ---- groups ------------------------------------------------------------ */

static void check_group_placement(struct nmd_vctx *v,
				  const Nomad__TaskGroup *tg)
{
	size_t mark;

	for (size_t i = 0; i < tg->n_constraints; i++) {
		mark = nmd_vpath_push_index(v, "constraint", i);
		nmd_check_constraint(v, tg->constraints[i]);
		nmd_vpath_pop(v, mark);
	}
	if (is_system(v) && tg->n_affinities)
		nmd_vproblem(v, "system jobs may not have an affinity block");
	for (size_t i = 0; !is_system(v) && i < tg->n_affinities; i++) {
		mark = nmd_vpath_push_index(v, "affinity", i);
		nmd_check_affinity(v, tg->affinities[i]);
		nmd_vpath_pop(v, mark);
	}
	if (is_system(v) && tg->n_spreads)
		nmd_vproblem(v, "system jobs may not have a spread block");
	for (size_t i = 0; !is_system(v) && i < tg->n_spreads; i++) {
		mark = nmd_vpath_push_index(v, "spread", i);
		nmd_check_spread(v, tg->spreads[i]);
		nmd_vpath_pop(v, mark);
	}
}

static const char *type_name(const struct nmd_vctx *v)
{
	return nmd_vstr(nomad_enum_name(&nomad__job_type__descriptor, v->type));
}

/* Restart, reschedule and the ephemeral disk. */
static void check_group_policies(struct nmd_vctx *v,
				 const Nomad__TaskGroup *tg)
{
	bool sys = is_system(v) || v->type == NOMAD__JOB_TYPE__sysbatch;
	size_t mark;

	if (!tg->restartpolicy) {
		nmd_vproblem(v, "should have a restart policy");
	} else {
		mark = nmd_vpath_push(v, "restart");
		nmd_check_restart(v, tg->restartpolicy);
		nmd_vpath_pop(v, mark);
	}
	if (sys && tg->reschedulepolicy) {
		nmd_vproblem(v, "system jobs should not have a reschedule "
				"policy");
	} else if (!sys && !tg->reschedulepolicy) {
		nmd_vproblem(v, "should have a reschedule policy");
	} else if (!sys) {
		mark = nmd_vpath_push(v, "reschedule");
		nmd_check_reschedule(v, tg->reschedulepolicy);
		nmd_vpath_pop(v, mark);
	}
	if (!tg->ephemeraldisk)
		nmd_vproblem(v, "should have an ephemeral disk object");
	else if (tg->ephemeraldisk->sizemb < 10)
		nmd_vproblem(v, "ephemeral_disk: minimum DiskMB value is 10; "
				"got %d", tg->ephemeraldisk->sizemb);
}

/* Update, migrate and disconnect. */
static void check_group_strategies(struct nmd_vctx *v,
				   const Nomad__TaskGroup *tg)
{
	bool deploys = v->type == NOMAD__JOB_TYPE__service || is_system(v);
	size_t mark;

	if (tg->update) {
		if (!deploys)
			nmd_vproblem(v, "job type \"%s\" does not allow update "
					"block", type_name(v));
		mark = nmd_vpath_push(v, "update");
		nmd_check_update(v, tg->update);
		nmd_vpath_pop(v, mark);
	}
	if (tg->migrate && v->type != NOMAD__JOB_TYPE__service) {
		nmd_vproblem(v, "job type \"%s\" does not allow migrate block",
			     type_name(v));
	} else if (tg->migrate) {
		mark = nmd_vpath_push(v, "migrate");
		nmd_check_migrate(v, tg->migrate);
		nmd_vpath_pop(v, mark);
	}
	if (tg->disconnect) {
		mark = nmd_vpath_push(v, "disconnect");
		nmd_check_disconnect(v, tg->disconnect);
		nmd_vpath_pop(v, mark);
	}
}

static void check_group_tasks(struct nmd_vctx *v, const Nomad__TaskGroup *tg)
{
	size_t leaders = 0;

	for (size_t i = 0; i < tg->n_tasks; i++) {
		const char *name = nmd_vstr(tg->tasks[i]->name);

		if (!*name)
			nmd_vproblem(v, "task %zu missing name", i + 1);
		for (size_t j = 0; *name && j < i; j++)
			if (!strcmp(nmd_vstr(tg->tasks[j]->name), name)) {
				nmd_vproblem(v, "task %zu redefines '%s' from "
						"task %zu", i + 1, name, j + 1);
				break;
			}
		leaders += tg->tasks[i]->leader != 0;
	}
	if (leaders > 1)
		nmd_vproblem(v, "only one task may be marked as leader");
}

static void check_group_volumes(struct nmd_vctx *v,
				const Nomad__TaskGroup *tg)
{
	int32_t canaries = tg->update ? tg->update->canary : 0;

	for (size_t i = 0; i < tg->n_volumes; i++) {
		const Nomad__VolumeRequestEntry *e = tg->volumes[i];
		size_t mark = nmd_vpath_push_named(v, "volume", e->key, i,
						   false);

		if (e->value)
			nmd_check_volume(v, e->value, tg->count, canaries);
		nmd_vpath_pop(v, mark);
	}
}

static void check_group_scaling(struct nmd_vctx *v, const Nomad__TaskGroup *tg)
{
	const Nomad__ScalingPolicy *sp = tg->scaling;
	size_t mark;

	if (!sp)
		return;
	mark = nmd_vpath_push(v, "scaling");
	if (!sp->type || !*sp->type)
		nmd_vproblem(v, "missing scaling policy type");
	else if (strcmp(sp->type, "horizontal") != 0)
		nmd_vproblem(v, "task group scaling policy had invalid type: "
				"\"%s\"", sp->type);
	if (sp->max < 0)
		nmd_vproblem(v, "maximum count must be specified and "
				"non-negative");
	else if (sp->max < sp->min)
		nmd_vproblem(v, "maximum count must not be less than minimum "
				"count");
	if (sp->min < 0)
		nmd_vproblem(v, "minimum count must be specified and "
				"non-negative");
	if (sp->max < tg->count)
		nmd_vproblem(v, "task group count must not be greater than "
				"maximum count in scaling policy");
	if (tg->count < sp->min)
		nmd_vproblem(v, "task group count must not be less than "
				"minimum count in scaling policy");
	nmd_vpath_pop(v, mark);
}

static void check_group(struct nmd_vctx *v, const Nomad__TaskGroup *tg)
{
	if (!tg->name || !*tg->name)
		nmd_vproblem(v, "missing task group name");
	if (tg->count < 0)
		nmd_vproblem(v, "task group count can't be negative");
	if (is_system(v) && tg->count > 1)
		nmd_vproblem(v, "count %d cannot exceed 1 with system "
				"scheduler", tg->count);
	if (tg->shutdowndelay < 0)
		nmd_vproblem(v, "ShutdownDelay must be a positive value");
	if (tg->n_tasks == 0)
		nmd_vproblem(v, "missing tasks for task group");
	check_group_placement(v, tg);
	check_group_policies(v, tg);
	check_group_strategies(v, tg);
	check_group_tasks(v, tg);
	check_group_volumes(v, tg);
	check_networks(v, tg);
	nmd_check_group_services(v, tg);
	check_group_scaling(v, tg);
	for (size_t i = 0; i < tg->n_tasks; i++) {
		size_t mark = nmd_vpath_push_named(v, "task",
						   tg->tasks[i]->name, i, true);

		check_task(v, tg, tg->tasks[i]);
		nmd_vpath_pop(v, mark);
	}
}

/* ---- the job ----------------------------------------------------------- */

static void check_job_identity(struct nmd_vctx *v, const nomad_job *job)
{
	bool multi = job->multiregion && job->multiregion->n_regions > 0;

	if ((!job->region || !*job->region) && !job->multiregion)
		nmd_vproblem(v, "missing job region");
	if (!job->id || !*job->id)
		nmd_vproblem(v, "missing job ID");
	else if (strchr(job->id, ' '))
		nmd_vproblem(v, "job ID contains a space");
	if (!job->name || !*job->name)
		nmd_vproblem(v, "missing job name");
	if (!job->namespace_ || !*job->namespace_)
		nmd_vproblem(v, "job must be in a namespace");
	if (!job->has_type)
		nmd_vproblem(v, "missing job type");
	else if (!nomad_enum_name(&nomad__job_type__descriptor, job->type))
		nmd_vproblem(v, "invalid job type: %d", (int)job->type);
	if (job->priority < 1 || job->priority > 100)
		nmd_vproblem(v, "job priority must be between [1, 100]");
	if (job->n_datacenters == 0 && !multi)
		nmd_vproblem(v, "missing job datacenters");
	for (size_t i = 0; i < job->n_datacenters; i++)
		if (!job->datacenters[i] || !*job->datacenters[i])
			nmd_vproblem(v, "job datacenter must be non-empty "
					"string");
	if (job->n_taskgroups == 0)
		nmd_vproblem(v, "missing job task groups");
}

static void check_job_placement(struct nmd_vctx *v, const nomad_job *job)
{
	size_t mark;

	for (size_t i = 0; i < job->n_constraints; i++) {
		mark = nmd_vpath_push_index(v, "constraint", i);
		nmd_check_constraint(v, job->constraints[i]);
		nmd_vpath_pop(v, mark);
	}
	if (is_system(v) && job->n_affinities)
		nmd_vproblem(v, "system jobs may not have an affinity block");
	for (size_t i = 0; !is_system(v) && i < job->n_affinities; i++) {
		mark = nmd_vpath_push_index(v, "affinity", i);
		nmd_check_affinity(v, job->affinities[i]);
		nmd_vpath_pop(v, mark);
	}
	if (is_system(v) && job->n_spreads)
		nmd_vproblem(v, "system jobs may not have a spread block");
	for (size_t i = 0; !is_system(v) && i < job->n_spreads; i++) {
		mark = nmd_vpath_push_index(v, "spread", i);
		nmd_check_spread(v, job->spreads[i]);
		nmd_vpath_pop(v, mark);
	}
}

/* Missing and duplicate names, reported at job level as Nomad does. */
static void check_group_names(struct nmd_vctx *v, const nomad_job *job)
{
	for (size_t i = 0; i < job->n_taskgroups; i++) {
		const char *name = nmd_vstr(job->taskgroups[i]->name);

		if (!*name) {
			nmd_vproblem(v, "job task group %zu missing name",
				     i + 1);
			continue;
		}
		for (size_t j = 0; j < i; j++)
			if (!strcmp(nmd_vstr(job->taskgroups[j]->name), name)) {
				nmd_vproblem(v, "job task group %zu redefines "
						"'%s' from group %zu",
					     i + 1, name, j + 1);
				break;
			}
	}
}

/* Periodic and parameterized jobs are batch or sysbatch jobs. */
static void check_job_launch(struct nmd_vctx *v, const nomad_job *job)
{
	bool batchy = v->type == NOMAD__JOB_TYPE__batch ||
		      v->type == NOMAD__JOB_TYPE__sysbatch;
	size_t mark;

	if (job->periodic && job->periodic->enabled) {
		if (!batchy)
			nmd_vproblem(v, "periodic can only be used with "
					"\"batch\" or \"sysbatch\" scheduler");
		mark = nmd_vpath_push(v, "periodic");
		nmd_check_periodic(v, job->periodic);
		nmd_vpath_pop(v, mark);
	}
	if (job->parameterizedjob && !job->dispatched) {
		if (!batchy)
			nmd_vproblem(v, "parameterized job can only be used "
					"with \"batch\" or \"sysbatch\" "
					"scheduler");
		mark = nmd_vpath_push(v, "parameterized");
		nmd_check_parameterized(v, job->parameterizedjob);
		nmd_vpath_pop(v, mark);
	}
}

static void check_job(struct nmd_vctx *v, const nomad_job *job)
{
	check_job_identity(v, job);
	check_job_placement(v, job);
	check_group_names(v, job);
	for (size_t i = 0; i < job->n_taskgroups; i++) {
		size_t mark = nmd_vpath_push_named(
			v, "group", job->taskgroups[i]->name, i, false);

		check_group(v, job->taskgroups[i]);
		nmd_vpath_pop(v, mark);
	}
	check_job_launch(v, job);
}

nomad_err nomad_job_validate(const nomad_job *job, nomad_problems **out,
			     nomad_error *err)
{
	struct nmd_vctx v = {.job = job};
	nomad_err error = NOMAD_OK;
	size_t n;

	if (out)
		*out = NULL;
	if (!job)
		return nmd_seterr(err, NOMAD_EINVAL,
				  "structs: validate: no job given");
	if (!(v.problems = nmd_calloc(NULL, 1, sizeof(*v.problems))))
		return nmd_seterr(err, NOMAD_ENOMEM,
				  "structs: validate: out of memory");
	nmd_buf_init(&v.path, NULL);
	v.type = job->has_type ? (int)job->type : 0;
	check_job(&v, job);
	if (v.problems->oom || v.path.oom) {
		error = nmd_seterr(err, NOMAD_ENOMEM,
				   "structs: validate: out of memory");
		goto done;
	}
	n = v.problems->n;
	if (n == 1)
		error = nmd_seterr(err, NOMAD_EINVAL, "%s",
				   v.problems->items[0]);
	else if (n > 1)
		error = nmd_seterr(err, NOMAD_EINVAL,
				   "%s (and %zu more problem%s)",
				   v.problems->items[0], n - 1,
				   n > 2 ? "s" : "");
	if (out) {
		*out = v.problems;
		v.problems = NULL;
	}
done:
	nomad_problems_free(v.problems);
	nmd_buf_free(&v.path);
	return error;
}
