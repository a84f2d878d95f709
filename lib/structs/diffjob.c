/* SPDX-License-Identifier: MPL-2.0 */
/*
 * nomad_job_diff_compute: the job, group and task levels of Nomad's diff
 * (nomad/structs/diff.go) and the plan annotations of scheduler/
 * annotate.go, over the engine in diff.c.
 *
 * The tables below are the only per-type knowledge: for each message,
 * which fields Nomad leaves out or shows only when set, and which nested
 * objects it diffs, under what name and how lists are matched. Every
 * other scalar and string map of a message is a field, found through its
 * descriptor. Where Nomad's diff says nothing about a block the scheduler
 * still acts on (spreads, a group's migrate block, a task's restart
 * policy, lifecycle, CSI plugin and secrets), the table adds it, so that
 * a change never shows as an edited group with no visible detail.
 */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "structs/diff.h"
#include "structs/pb.h"

#define NONE NOMAD__DIFF_TYPE__None
#define ADDED NOMAD__DIFF_TYPE__Added
#define DELETED NOMAD__DIFF_TYPE__Deleted
#define EDITED NOMAD__DIFF_TYPE__Edited

#define NAMES(...) ((const char *const[]){__VA_ARGS__, NULL})
#define KIDS(a) .children = (a), .n_children = sizeof(a) / sizeof((a)[0])
#define PRIM(d) {.desc = &(d), .style = NMD_DIFF_PRIM}
#define PLAIN(d) {.desc = &(d), .style = NMD_DIFF_STRUCT}

/* ---- objects Nomad diffs with primitiveObjectDiff -------------------------- */

static const struct nmd_diff_spec constraint_spec =
	PRIM(nomad__constraint__descriptor);
static const struct nmd_diff_spec affinity_spec =
	PRIM(nomad__affinity__descriptor);
static const struct nmd_diff_spec restart_spec =
	PRIM(nomad__restart_policy__descriptor);
static const struct nmd_diff_spec reschedule_spec =
	PRIM(nomad__reschedule_policy__descriptor);
static const struct nmd_diff_spec disk_spec =
	PRIM(nomad__ephemeral_disk__descriptor);
static const struct nmd_diff_spec consul_spec =
	PRIM(nomad__consul_block__descriptor);
static const struct nmd_diff_spec migrate_spec =
	PRIM(nomad__migrate_strategy__descriptor);
static const struct nmd_diff_spec dispatch_spec =
	PRIM(nomad__dispatch_payload_config__descriptor);
static const struct nmd_diff_spec artifact_spec =
	PRIM(nomad__task_artifact__descriptor);
static const struct nmd_diff_spec lifecycle_spec =
	PRIM(nomad__task_lifecycle__descriptor);
static const struct nmd_diff_spec csi_plugin_spec =
	PRIM(nomad__task_csiplugin_config__descriptor);
static const struct nmd_diff_spec cron_spec =
	PRIM(nomad__task_schedule_cron__descriptor);
static const struct nmd_diff_spec strategy_spec =
	PRIM(nomad__multiregion_strategy__descriptor);
static const struct nmd_diff_spec weights_spec =
	PRIM(nomad__service_weights__descriptor);
static const struct nmd_diff_spec static_port_spec =
	PRIM(nomad__port__descriptor);

/* Stagger is deprecated; a dynamic port's value is the scheduler's. */
static const struct nmd_diff_spec update_spec = {
	.desc = &nomad__update_strategy__descriptor, .style = NMD_DIFF_PRIM,
	.skip = NAMES("Stagger")};
static const struct nmd_diff_spec dynamic_port_spec = {
	.desc = &nomad__port__descriptor, .style = NMD_DIFF_PRIM,
	.skip = NAMES("Value", "IgnoreCollision")};
/* Enabled is the API's deprecated twin of Disabled; Nomad's struct has
 * only Disabled. */
static const struct nmd_diff_spec log_spec = {
	.desc = &nomad__log_config__descriptor, .style = NMD_DIFF_PRIM,
	.skip = NAMES("Enabled")};
/* CNIConfig.Diff diffs the Args map itself: fields named by key. */
static const struct nmd_diff_spec cni_spec = {
	.desc = &nomad__cniconfig__descriptor, .style = NMD_DIFF_PRIM,
	.flags = NMD_DS_BARE};

/* ---- resources and networks --------------------------------------------- */

static const struct nmd_diff_spec dns_spec = {
	.desc = &nomad__dnsconfig__descriptor, .style = NMD_DIFF_STRUCT,
	.flags = NMD_DS_JOIN};

static const struct nmd_diff_child network_kids[] = {
	{"ReservedPorts", "Static Port", NMD_DK_KEYED, &static_port_spec,
	 "Label", 0},
	{"DynamicPorts", "Dynamic Port", NMD_DK_KEYED, &dynamic_port_spec,
	 "Label", 0},
	{"DNS", "DNS", NMD_DK_OBJECT, &dns_spec, NULL, 0},
	{"CNI", "CNIConfig", NMD_DK_OBJECT, &cni_spec, NULL, 0},
};
static const struct nmd_diff_spec network_spec = {
	.desc = &nomad__network_resource__descriptor,
	.style = NMD_DIFF_STRUCT,
	.skip = NAMES("Device", "CIDR", "IP", "MBits"), KIDS(network_kids)};

static const struct nmd_diff_spec device_spec =
	PLAIN(nomad__requested_device__descriptor);
static const struct nmd_diff_spec numa_spec =
	PLAIN(nomad__numaresource__descriptor);

static const struct nmd_diff_child resources_kids[] = {
	{"Networks", "Network", NMD_DK_SET, &network_spec, NULL, 0},
	{"Devices", "Device", NMD_DK_KEYED, &device_spec, "Name", 0},
	{"NUMA", "NUMA", NMD_DK_OBJECT, &numa_spec, NULL, 0},
};
static const struct nmd_diff_spec resources_spec = {
	.desc = &nomad__resources__descriptor, .style = NMD_DIFF_STRUCT,
	KIDS(resources_kids)};

/* ---- services ------------------------------------------------------------ */

static const struct nmd_diff_spec check_restart_spec =
	PLAIN(nomad__check_restart__descriptor);

static const struct nmd_diff_child check_kids[] = {
	{"Header", "Header", NMD_DK_HEADER, NULL, NULL, 0},
	{"CheckRestart", "CheckRestart", NMD_DK_OBJECT, &check_restart_spec,
	 NULL, 0},
};
static const struct nmd_diff_spec check_spec = {
	.desc = &nomad__service_check__descriptor, .style = NMD_DIFF_STRUCT,
	KIDS(check_kids)};

/* Connect and Identity are free-form JSON here (structs in Nomad), so
 * they diff as flattened maps. */
static const struct nmd_diff_child service_kids[] = {
	{"CanaryTags", "CanaryTags", NMD_DK_STRSET, NULL, NULL, 0},
	{"Tags", "Tags", NMD_DK_STRSET, NULL, NULL, 0},
	{"Checks", "Check", NMD_DK_KEYED, &check_spec, "Name", 0},
	{"Connect", "ConsulConnect", NMD_DK_JSON, NULL, NULL, 0},
	{"Identity", "Identity", NMD_DK_JSON, NULL, NULL, 0},
	{"Weights", "Weights", NMD_DK_OBJECT, &weights_spec, NULL, 0},
};
static const struct nmd_diff_spec service_spec = {
	.desc = &nomad__service__descriptor, .style = NMD_DIFF_STRUCT,
	KIDS(service_kids)};

/* ---- task blocks ----------------------------------------------------------- */

static const struct nmd_diff_child vault_kids[] = {
	{"Policies", "Policies", NMD_DK_STRSET, NULL, NULL, 0},
};
static const struct nmd_diff_spec vault_spec = {
	.desc = &nomad__vault__descriptor, .style = NMD_DIFF_STRUCT,
	KIDS(vault_kids)};

static const struct nmd_diff_spec wait_spec = {
	.desc = &nomad__wait_config__descriptor, .style = NMD_DIFF_STRUCT,
	.ptr = NAMES("Min", "Max")};

static const struct nmd_diff_child change_script_kids[] = {
	{"Args", "Args", NMD_DK_STRSET, NULL, NULL, 0},
};
static const struct nmd_diff_spec change_script_spec = {
	.desc = &nomad__change_script__descriptor, .style = NMD_DIFF_STRUCT,
	KIDS(change_script_kids)};

/* Nomad's waitConfigDiff names its object "Template", not "Wait"; kept so
 * that output matches Nomad's. */
static const struct nmd_diff_child template_kids[] = {
	{"Wait", "Template", NMD_DK_OBJECT, &wait_spec, NULL, 0},
	{"ChangeScript", "ChangeScript", NMD_DK_OBJECT, &change_script_spec,
	 NULL, 0},
};
static const struct nmd_diff_spec template_spec = {
	.desc = &nomad__template__descriptor, .style = NMD_DIFF_STRUCT,
	.ptr = NAMES("Uid", "Gid"), KIDS(template_kids)};

static const struct nmd_diff_child identity_kids[] = {
	{"Audience", "Audience", NMD_DK_STRSET, NULL, NULL, 0},
};
static const struct nmd_diff_spec identity_spec = {
	.desc = &nomad__workload_identity__descriptor,
	.style = NMD_DIFF_STRUCT, KIDS(identity_kids)};

static const struct nmd_diff_child action_kids[] = {
	{"Args", "Args", NMD_DK_STRSET, NULL, NULL, 0},
};
static const struct nmd_diff_spec action_spec = {
	.desc = &nomad__action__descriptor, .style = NMD_DIFF_STRUCT,
	KIDS(action_kids)};

static const struct nmd_diff_spec mount_spec =
	PLAIN(nomad__volume_mount__descriptor);

static const struct nmd_diff_child secret_kids[] = {
	{"Config", "Config", NMD_DK_JSON, NULL, NULL, 0},
};
static const struct nmd_diff_spec secret_spec = {
	.desc = &nomad__secret__descriptor, .style = NMD_DIFF_STRUCT,
	KIDS(secret_kids)};

/* ---- group blocks ---------------------------------------------------------- */

static const struct nmd_diff_child mount_options_kids[] = {
	{"MountFlags", "MountFlags", NMD_DK_STRSET, NULL, NULL, 0},
};
static const struct nmd_diff_spec mount_options_spec = {
	.desc = &nomad__csimount_options__descriptor,
	.style = NMD_DIFF_STRUCT, KIDS(mount_options_kids)};

static const struct nmd_diff_child volume_kids[] = {
	{"MountOptions", "MountOptions", NMD_DK_OBJECT, &mount_options_spec,
	 NULL, 0},
};
static const struct nmd_diff_spec volume_spec = {
	.desc = &nomad__volume_request__descriptor, .style = NMD_DIFF_STRUCT,
	KIDS(volume_kids)};

static const struct nmd_diff_spec disconnect_spec = {
	.desc = &nomad__disconnect_strategy__descriptor,
	.style = NMD_DIFF_STRUCT, .ptr = NAMES("StopOnClientAfter", "Replace")};

static const struct nmd_diff_child scaling_kids[] = {
	{"Policy", "Policy", NMD_DK_JSON, NULL, NULL, NMD_DS_NOCTX},
};
static const struct nmd_diff_spec scaling_spec = {
	.desc = &nomad__scaling_policy__descriptor, .style = NMD_DIFF_STRUCT,
	.flags = NMD_DS_NOCTX | NMD_DS_SORT,
	.skip = NAMES("CreateIndex", "ModifyIndex", "ID", "Type", "Namespace",
		      "Target[Job]", "Target[Group]", "Target[Namespace]"),
	KIDS(scaling_kids)};

static const struct nmd_diff_spec spread_target_spec =
	PLAIN(nomad__spread_target__descriptor);
static const struct nmd_diff_child spread_kids[] = {
	{"SpreadTarget", "SpreadTarget", NMD_DK_SET, &spread_target_spec, NULL,
	 0},
};
static const struct nmd_diff_spec spread_spec = {
	.desc = &nomad__spread__descriptor, .style = NMD_DIFF_STRUCT,
	KIDS(spread_kids)};

/* ---- job blocks ------------------------------------------------------------ */

static const struct nmd_diff_child periodic_kids[] = {
	{"Specs", "Specs", NMD_DK_STRSET_NZ, NULL, NULL, 0},
};
static const struct nmd_diff_spec periodic_spec = {
	.desc = &nomad__periodic_config__descriptor, .style = NMD_DIFF_STRUCT,
	KIDS(periodic_kids)};

static const struct nmd_diff_child parameterized_kids[] = {
	{"MetaOptional", "MetaOptional", NMD_DK_STRSET, NULL, NULL, 0},
	{"MetaRequired", "MetaRequired", NMD_DK_STRSET, NULL, NULL, 0},
};
static const struct nmd_diff_spec parameterized_spec = {
	.desc = &nomad__parameterized_job_config__descriptor,
	.style = NMD_DIFF_STRUCT, KIDS(parameterized_kids)};

static const struct nmd_diff_child region_kids[] = {
	{"Datacenters", "Datacenters", NMD_DK_STRSET_NZ, NULL, NULL, 0},
};
static const struct nmd_diff_spec region_spec = {
	.desc = &nomad__multiregion_region__descriptor,
	.style = NMD_DIFF_PRIM, KIDS(region_kids)};

static const struct nmd_diff_child multiregion_kids[] = {
	{"Strategy", "Strategy", NMD_DK_OBJECT, &strategy_spec, NULL, 0},
	{"Regions", "Region", NMD_DK_KEYED, &region_spec, "Name", 0},
};
static const struct nmd_diff_spec multiregion_spec = {
	.desc = &nomad__multiregion__descriptor, .style = NMD_DIFF_STRUCT,
	.flags = NMD_DS_SORT, KIDS(multiregion_kids)};

static const struct nmd_diff_spec link_spec =
	PLAIN(nomad__job_uilink__descriptor);
static const struct nmd_diff_child ui_kids[] = {
	{"Links", "Link", NMD_DK_LIST, &link_spec, NULL, 0},
};
static const struct nmd_diff_spec ui_spec = {
	.desc = &nomad__job_uiconfig__descriptor, .style = NMD_DIFF_STRUCT,
	.flags = NMD_DS_SORT, KIDS(ui_kids)};

/* ---- the three levels ----------------------------------------------------- */

static const struct nmd_diff_child task_kids[] = {
	{"Constraints", "Constraint", NMD_DK_SET, &constraint_spec, NULL, 0},
	{"Affinities", "Affinity", NMD_DK_SET, &affinity_spec, NULL, 0},
	{"Config", "Config", NMD_DK_JSON, NULL, NULL, 0},
	{"Resources", "Resources", NMD_DK_OBJECT, &resources_spec, NULL, 0},
	{"LogConfig", "LogConfig", NMD_DK_OBJECT, &log_spec, NULL, 0},
	{"DispatchPayload", "DispatchPayload", NMD_DK_OBJECT, &dispatch_spec,
	 NULL, 0},
	{"Artifacts", "Artifact", NMD_DK_SET, &artifact_spec, NULL, 0},
	{"Services", "Service", NMD_DK_SERVICES, &service_spec, NULL, 0},
	{"Vault", "Vault", NMD_DK_OBJECT, &vault_spec, NULL, 0},
	{"Consul", "Consul", NMD_DK_OBJECT, &consul_spec, NULL, 0},
	{"Templates", "Template", NMD_DK_TEMPLATES, &template_spec, NULL, 0},
	{"Identity", "Identity", NMD_DK_OBJECT, &identity_spec, NULL, 0},
	{"Identities", "Identity", NMD_DK_KEYED, &identity_spec, "Name", 0},
	{"Actions", "Action", NMD_DK_LIST, &action_spec, NULL, 0},
	{"VolumeMounts", "VolumeMount", NMD_DK_LIST, &mount_spec, NULL, 0},
	{"Schedule", "Schedule", NMD_DK_OBJECT, &cron_spec, "Cron", 0},
	/* Not in Nomad's Task.Diff. */
	{"RestartPolicy", "RestartPolicy", NMD_DK_OBJECT, &restart_spec, NULL,
	 0},
	{"Lifecycle", "Lifecycle", NMD_DK_OBJECT, &lifecycle_spec, NULL, 0},
	{"CSIPluginConfig", "CSIPluginConfig", NMD_DK_OBJECT, &csi_plugin_spec,
	 NULL, 0},
	{"Secrets", "Secret", NMD_DK_KEYED, &secret_spec, "Name", 0},
};
static const struct nmd_diff_spec task_spec = {
	.desc = &nomad__task__descriptor, .style = NMD_DIFF_STRUCT,
	.flags = NMD_DS_NOCTX, .skip = NAMES("Name", "Config"),
	KIDS(task_kids)};

static const struct nmd_diff_child group_kids[] = {
	{"Constraints", "Constraint", NMD_DK_SET, &constraint_spec, NULL, 0},
	{"Affinities", "Affinity", NMD_DK_SET, &affinity_spec, NULL, 0},
	{"Spreads", "Spread", NMD_DK_SET, &spread_spec, NULL, 0},
	{"RestartPolicy", "RestartPolicy", NMD_DK_OBJECT, &restart_spec, NULL,
	 0},
	{"ReschedulePolicy", "ReschedulePolicy", NMD_DK_OBJECT,
	 &reschedule_spec, NULL, 0},
	{"EphemeralDisk", "EphemeralDisk", NMD_DK_OBJECT, &disk_spec, NULL, 0},
	{"Consul", "Consul", NMD_DK_OBJECT, &consul_spec, NULL, 0},
	{"Update", "Update", NMD_DK_OBJECT, &update_spec, NULL, 0},
	{"Migrate", "Migrate", NMD_DK_OBJECT, &migrate_spec, NULL, 0},
	{"Disconnect", "Disconnect", NMD_DK_OBJECT, &disconnect_spec, NULL, 0},
	{"Networks", "Network", NMD_DK_SET, &network_spec, NULL, 0},
	{"Scaling", "Scaling", NMD_DK_OBJECT, &scaling_spec, NULL, 0},
	{"Services", "Service", NMD_DK_SERVICES, &service_spec, NULL, 0},
	{"Volumes", "Volume", NMD_DK_MAP, &volume_spec, NULL, 0},
};
/* Nomad shows these Go pointers only when comparing two groups. */
static const struct nmd_diff_spec group_spec = {
	.desc = &nomad__task_group__descriptor, .style = NMD_DIFF_STRUCT,
	.flags = NMD_DS_NOCTX, .skip = NAMES("Name"),
	.edit_ptr = NAMES("ShutdownDelay", "StopAfterClientDisconnect",
			  "MaxClientDisconnect", "MaxRunDuration"),
	KIDS(group_kids)};

/* Job.Diff's filter: the ID (reported in JobDiff.ID) and, from index 1 on,
 * the fields the server sets. Update, Reschedule and Migrate at job level
 * are defaults pushed into the groups (and diffed there), and TaskGroups
 * are diffed on their own, so as messages they are no fields here. Nomad
 * does not filter Stop or ConsulToken. */
static const char *const job_skip[] = {
	"ID",	      "Status",	      "StatusDescription", "Version",
	"Stable",     "CreateIndex",  "ModifyIndex",	   "JobModifyIndex",
	"SubmitTime", "NomadTokenID", "VaultToken",	   "VersionTag",
	NULL};

bool nmd_structs_job_server_field(const char *name)
{
	for (const char *const *p = job_skip + 1; *p; p++)
		if (strcmp(*p, name) == 0)
			return true;
	return false;
}

static const struct nmd_diff_child job_kids[] = {
	{"Datacenters", "Datacenters", NMD_DK_STRSET_NZ, NULL, NULL, 0},
	{"Constraints", "Constraint", NMD_DK_SET, &constraint_spec, NULL, 0},
	{"Affinities", "Affinity", NMD_DK_SET, &affinity_spec, NULL, 0},
	{"Spreads", "Spread", NMD_DK_SET, &spread_spec, NULL, 0},
	{"Periodic", "Periodic", NMD_DK_OBJECT, &periodic_spec, NULL, 0},
	{"ParameterizedJob", "ParameterizedJob", NMD_DK_OBJECT,
	 &parameterized_spec, NULL, 0},
	{"Multiregion", "Multiregion", NMD_DK_OBJECT, &multiregion_spec, NULL,
	 0},
	{"UI", "UI", NMD_DK_OBJECT, &ui_spec, NULL, 0},
};
static const struct nmd_diff_spec job_spec = {
	.desc = &nomad__job__descriptor, .style = NMD_DIFF_STRUCT,
	.flags = NMD_DS_NOCTX, .skip = job_skip, KIDS(job_kids)};

/* The Fields and Objects of `a` against `b` under `s`, moved into the
 * caller's lists (a TaskDiff or TaskGroupDiff has no ObjectDiff inside). */
static void body(struct nmd_diff_ctx *c, const struct nmd_diff_spec *s,
		 const void *a, const void *b, size_t *nf,
		 Nomad__FieldDiff ***f, size_t *no, Nomad__ObjectDiff ***o)
{
	Nomad__ObjectDiff *tmp =
		nmd_diff_new(c, &nomad__object_diff__descriptor, NONE, NULL);

	if (!tmp)
		return;
	nmd_diff_body(c, s, a, b, tmp);
	*nf = tmp->n_fields;
	*f = tmp->fields;
	*no = tmp->n_objects;
	*o = tmp->objects;
	tmp->n_fields = tmp->n_objects = 0;
	tmp->fields = NULL;
	tmp->objects = NULL;
	nmd_pb_free(tmp, NULL);
}

static bool name_eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

static int diff_type(const void *a, const void *b)
{
	if (!a)
		return ADDED;
	if (!b)
		return DELETED;
	return nmd_diff_equal(a, b) ? NONE : EDITED;
}

/* ---- tasks ------------------------------------------------------------- */

static Nomad__TaskDiff *task_diff(struct nmd_diff_ctx *c, const Nomad__Task *a,
				  const Nomad__Task *b)
{
	Nomad__TaskDiff *d = nmd_diff_new(c, &nomad__task_diff__descriptor,
					  diff_type(a, b), (b ? b : a)->name);

	if (d)
		body(c, &task_spec, a, b, &d->n_fields, &d->fields,
		     &d->n_objects, &d->objects);
	return d;
}

/* The last task named `name` (Nomad keys tasks by name in a map). */
static const Nomad__Task *find_task(const Nomad__TaskGroup *g,
				    const char *name, size_t *idx)
{
	for (size_t i = g ? g->n_tasks : 0; i-- > 0;)
		if (name_eq(g->tasks[i]->name, name)) {
			if (idx)
				*idx = i;
			return g->tasks[i];
		}
	return NULL;
}

static int cmp_task_diff(const void *x, const void *y)
{
	const Nomad__TaskDiff *p = *(Nomad__TaskDiff *const *)x;
	const Nomad__TaskDiff *q = *(Nomad__TaskDiff *const *)y;
	return strcmp(p->name ? p->name : "", q->name ? q->name : "");
}

/* Nomad's taskDiffs: every task of either group, sorted by name. */
static void task_diffs(struct nmd_diff_ctx *c, const Nomad__TaskGroup *a,
		       const Nomad__TaskGroup *b, Nomad__TaskGroupDiff *d)
{
	size_t last;

	for (size_t i = 0; a && i < a->n_tasks; i++) {
		const Nomad__Task *t = a->tasks[i];
		if (find_task(a, t->name, &last) && last != i)
			continue;
		NMD_DIFF_PUSH(c, d->tasks, d->n_tasks,
			      task_diff(c, t, find_task(b, t->name, NULL)));
	}
	for (size_t j = 0; b && j < b->n_tasks; j++) {
		const Nomad__Task *t = b->tasks[j];
		if ((find_task(b, t->name, &last) && last != j) ||
		    find_task(a, t->name, NULL))
			continue;
		NMD_DIFF_PUSH(c, d->tasks, d->n_tasks, task_diff(c, NULL, t));
	}
	if (d->n_tasks > 1)
		qsort(d->tasks, d->n_tasks, sizeof(*d->tasks), cmp_task_diff);
}

/* ---- annotations (scheduler/annotate.go) ---------------------------------- */

static long count_of(const char *s)
{
	return s && *s ? strtol(s, NULL, 10) : 0;
}

/* A count that goes up forces creates, one that goes down destroys. */
static void annotate_count(struct nmd_diff_ctx *c, Nomad__TaskGroupDiff *g)
{
	for (size_t i = 0; i < g->n_fields; i++) {
		Nomad__FieldDiff *f = g->fields[i];
		long old, new_;

		if (!name_eq(f->name, "Count"))
			continue;
		old = count_of(f->old);
		new_ = count_of(f->new_);
		if (old != new_)
			nmd_diff_add_string(c, &f->annotations,
					    &f->n_annotations,
					    old < new_ ? "forces create"
						       : "forces destroy");
		return;
	}
}

/*
 * A task of a group that comes or goes is created or destroyed with it.
 * Otherwise a changed task is annotated with what its own change forces,
 * decided by the scheduler's rules (nomad_task_group_update_kind's
 * per-task part) rather than by annotate.go's field-name heuristics, so
 * that plan and scheduler agree.
 */
static void annotate_task(struct nmd_diff_ctx *c, const Nomad__TaskGroupDiff *g,
			  Nomad__TaskDiff *t, const nomad_job *a,
			  const nomad_job *b)
{
	const char *note;

	if (t->type == NONE)
		return;
	if (g->type == ADDED || g->type == DELETED)
		note = t->type == ADDED ? "forces create" : "forces destroy";
	else if (t->type != EDITED ||
		 nmd_structs_task_destructive(a, b, g->name, t->name))
		note = "forces create/destroy update";
	else
		note = "forces in-place update";
	nmd_diff_add_string(c, &t->annotations, &t->n_annotations, note);
}

/* ---- groups ------------------------------------------------------------ */

static Nomad__TaskGroupDiff *group_diff(struct nmd_diff_ctx *c,
					const nomad_job *ja, const nomad_job *jb,
					const Nomad__TaskGroup *a,
					const Nomad__TaskGroup *b)
{
	Nomad__TaskGroupDiff *d = nmd_diff_new(
		c, &nomad__task_group_diff__descriptor, diff_type(a, b),
		(b ? b : a)->name);

	if (!d)
		return NULL;
	body(c, &group_spec, a, b, &d->n_fields, &d->fields, &d->n_objects,
	     &d->objects);
	task_diffs(c, a, b, d);
	annotate_count(c, d);
	for (size_t i = 0; i < d->n_tasks; i++)
		annotate_task(c, d, d->tasks[i], ja, jb);
	return d;
}

static const Nomad__TaskGroup *find_group(const nomad_job *j, const char *name,
					  size_t *idx)
{
	for (size_t i = j ? j->n_taskgroups : 0; i-- > 0;)
		if (name_eq(j->taskgroups[i]->name, name)) {
			if (idx)
				*idx = i;
			return j->taskgroups[i];
		}
	return NULL;
}

static int cmp_group_diff(const void *x, const void *y)
{
	const Nomad__TaskGroupDiff *p = *(Nomad__TaskGroupDiff *const *)x;
	const Nomad__TaskGroupDiff *q = *(Nomad__TaskGroupDiff *const *)y;
	return strcmp(p->name ? p->name : "", q->name ? q->name : "");
}

/* Nomad's taskGroupDiffs: every group of either job, sorted by name. */
static void group_diffs(struct nmd_diff_ctx *c, const nomad_job *a,
			const nomad_job *b, nomad_job_diff *d)
{
	size_t last;

	for (size_t i = 0; a && i < a->n_taskgroups; i++) {
		const Nomad__TaskGroup *g = a->taskgroups[i];
		if (find_group(a, g->name, &last) && last != i)
			continue;
		NMD_DIFF_PUSH(c, d->taskgroups, d->n_taskgroups,
			      group_diff(c, a, b, g,
					 find_group(b, g->name, NULL)));
	}
	for (size_t j = 0; b && j < b->n_taskgroups; j++) {
		const Nomad__TaskGroup *g = b->taskgroups[j];
		if ((find_group(b, g->name, &last) && last != j) ||
		    find_group(a, g->name, NULL))
			continue;
		NMD_DIFF_PUSH(c, d->taskgroups, d->n_taskgroups,
			      group_diff(c, a, b, NULL, g));
	}
	if (d->n_taskgroups > 1)
		qsort(d->taskgroups, d->n_taskgroups, sizeof(*d->taskgroups),
		      cmp_group_diff);
}

/* ---- the job --------------------------------------------------------------- */

static bool any_group_change(const nomad_job_diff *d)
{
	for (size_t i = 0; i < d->n_taskgroups; i++)
		if (d->taskgroups[i]->type != NONE)
			return true;
	return false;
}

nomad_err nomad_job_diff_compute(nomad_job_diff **out,
				 const nomad_job *old_job,
				 const nomad_job *new_job, unsigned int flags,
				 nomad_error *err)
{
	struct nmd_diff_ctx c = {.contextual = flags & NOMAD_DIFF_CONTEXTUAL};
	const nomad_job *named = new_job ? new_job : old_job;
	nomad_job_diff *d;

	if (!out)
		return nmd_seterr(err, NOMAD_EINVAL, "structs: diff: no output");
	*out = NULL;
	if (old_job && new_job && !name_eq(old_job->id, new_job->id))
		return nmd_seterr(err, NOMAD_EINVAL,
				  "structs: cannot diff jobs with different "
				  "IDs: old=%s new=%s",
				  old_job->id ? old_job->id : "",
				  new_job->id ? new_job->id : "");
	d = nmd_diff_new(&c, &nomad__job_diff__descriptor,
			 !old_job && new_job   ? ADDED
			 : old_job && !new_job ? DELETED
					       : NONE,
			 NULL);
	if (d && named) {
		if (!nmd_pb_set_string(NULL, &d->id, named->id))
			c.oom = true;
		body(&c, &job_spec, old_job, new_job, &d->n_fields, &d->fields,
		     &d->n_objects, &d->objects);
		group_diffs(&c, old_job, new_job, d);
		/* Nomad compares no whole jobs: the filtered fields change
		 * on every register. */
		if (d->type == NONE &&
		    (nmd_diff_any_change(d->fields, d->n_fields, d->objects,
					 d->n_objects) ||
		     any_group_change(d)))
			d->type = EDITED;
	}
	if (!d || c.oom) {
		nmd_pb_free(d, NULL);
		return nmd_seterr(err, NOMAD_ENOMEM,
				  "structs: diff: out of memory");
	}
	*out = d;
	return NOMAD_OK;
}
