/* SPDX-License-Identifier: MPL-2.0 */
/*
 * nomad_task_group_update_kind: whether a group's allocations can follow a
 * new job version where they run or must be replaced. The destructive
 * rules are Nomad's scheduler/util.go tasksUpdated with networkUpdated,
 * nonNetworkResourcesUpdated, consulUpdated, connectServiceUpdated,
 * affinitiesUpdated, spreadsUpdated and renderTemplatesUpdated; the
 * per-task half is shared with the diff's task annotations.
 *
 * Nomad compares Go values, where an unset scalar is its zero value; the
 * macros below read protobuf fields the same way. Lists are compared in
 * order, as Nomad's slices.EqualFunc does, and maps as sets of pairs.
 *
 * Beyond tasksUpdated, a change to a task's secrets is destructive too:
 * like templates they are rendered into the task's environment before it
 * starts, and the task would not see new ones in place.
 */
#include <string.h>

#include "core/json.h"
#include "structs/diff.h"
#include "structs/pb.h"

/* A scalar field as Go sees it: 0 / false when unset or absent. */
#define VAL(m, f) ((m) && (m)->has_##f ? (m)->f : 0)

static bool s_eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/* Deep equality; RawJSON values (a secret's config) compare as JSON. */
static bool msg_eq(const void *a, const void *b)
{
	return nmd_diff_equal(a, b);
}

/* Two lists of messages, element by element. */
static bool list_eq(void *const *a, size_t na, void *const *b, size_t nb)
{
	if (na != nb)
		return false;
	for (size_t i = 0; i < na; i++)
		if (!msg_eq(a[i], b[i]))
			return false;
	return true;
}
#define LIST_EQ(a, b, f)                                                      \
	list_eq((void *const *)(a)->f, (a)->n_##f, (void *const *)(b)->f,     \
		(b)->n_##f)

static const Nomad__StringEntry *map_find(Nomad__StringEntry *const *e,
					  size_t n, const char *key)
{
	for (size_t i = n; i-- > 0;)
		if (s_eq(e[i]->key, key))
			return e[i];
	return NULL;
}

/* Every pair of `a` is in `b`. */
static bool map_in(Nomad__StringEntry *const *a, size_t na,
		   Nomad__StringEntry *const *b, size_t nb)
{
	for (size_t i = 0; i < na; i++) {
		const Nomad__StringEntry *e = map_find(b, nb, a[i]->key);
		if (!e || !s_eq(e->value, a[i]->value))
			return false;
	}
	return true;
}

static bool map_eq(Nomad__StringEntry *const *a, size_t na,
		   Nomad__StringEntry *const *b, size_t nb)
{
	return map_in(a, na, b, nb) && map_in(b, nb, a, na);
}

static const Nomad__TaskGroup *find_group(const nomad_job *j, const char *name)
{
	for (size_t i = j ? j->n_taskgroups : 0; i-- > 0;)
		if (s_eq(j->taskgroups[i]->name, name))
			return j->taskgroups[i];
	return NULL;
}

static const Nomad__Task *find_task(const Nomad__TaskGroup *g, const char *name)
{
	for (size_t i = g ? g->n_tasks : 0; i-- > 0;)
		if (s_eq(g->tasks[i]->name, name))
			return g->tasks[i];
	return NULL;
}

/* ---- networks ------------------------------------------------------------ */

/* networkPortMap: label, value, to and host network of the static ports,
 * then the dynamic ones with their value ignored (the scheduler's). */
static bool ports_eq(const Nomad__NetworkResource *a,
		     const Nomad__NetworkResource *b)
{
	if (a->n_reservedports != b->n_reservedports ||
	    a->n_dynamicports != b->n_dynamicports)
		return false;
	for (size_t i = 0; i < a->n_reservedports; i++) {
		const Nomad__Port *p = a->reservedports[i];
		const Nomad__Port *q = b->reservedports[i];
		if (!s_eq(p->label, q->label) || VAL(p, value) != VAL(q, value) ||
		    VAL(p, to) != VAL(q, to) ||
		    !s_eq(p->hostnetwork, q->hostnetwork))
			return false;
	}
	for (size_t i = 0; i < a->n_dynamicports; i++) {
		const Nomad__Port *p = a->dynamicports[i];
		const Nomad__Port *q = b->dynamicports[i];
		if (!s_eq(p->label, q->label) || VAL(p, to) != VAL(q, to) ||
		    !s_eq(p->hostnetwork, q->hostnetwork))
			return false;
	}
	return true;
}

/* networkUpdated: mode, bandwidth, hostname, DNS, CNI and ports. */
static bool network_updated(Nomad__NetworkResource *const *a, size_t na,
			    Nomad__NetworkResource *const *b, size_t nb)
{
	if (na != nb)
		return true;
	for (size_t i = 0; i < na; i++) {
		const Nomad__NetworkResource *x = a[i], *y = b[i];
		if (!s_eq(x->mode, y->mode) || VAL(x, mbits) != VAL(y, mbits) ||
		    !s_eq(x->hostname, y->hostname) || !msg_eq(x->dns, y->dns) ||
		    !msg_eq(x->cni, y->cni) || !ports_eq(x, y))
			return true;
	}
	return false;
}

/* ---- placement: job + group (+ task) affinities and spreads ------------- */

/* The k-th affinity of the job, then the group, then each task. */
static const Nomad__Affinity *affinity_at(const nomad_job *j,
					  const Nomad__TaskGroup *g, size_t k,
					  size_t *total)
{
	const Nomad__Affinity *found = NULL;
	size_t n = 0;

#define TAKE(owner)                                                           \
	do {                                                                  \
		if (!found && k >= n && k < n + (owner)->n_affinities)        \
			found = (owner)->affinities[k - n];                   \
		n += (owner)->n_affinities;                                   \
	} while (0)
	TAKE(j);
	TAKE(g);
	for (size_t i = 0; i < g->n_tasks; i++)
		TAKE(g->tasks[i]);
#undef TAKE
	*total = n;
	return found;
}

static bool affinities_updated(const nomad_job *ja, const Nomad__TaskGroup *ga,
			       const nomad_job *jb, const Nomad__TaskGroup *gb)
{
	size_t na, nb;

	affinity_at(ja, ga, 0, &na);
	affinity_at(jb, gb, 0, &nb);
	if (na != nb)
		return true;
	for (size_t k = 0; k < na; k++)
		if (!msg_eq(affinity_at(ja, ga, k, &na),
			    affinity_at(jb, gb, k, &nb)))
			return true;
	return false;
}

static bool spreads_updated(const nomad_job *ja, const Nomad__TaskGroup *ga,
			    const nomad_job *jb, const Nomad__TaskGroup *gb)
{
	size_t na = ja->n_spreads + ga->n_spreads;

	if (na != jb->n_spreads + gb->n_spreads)
		return true;
	for (size_t k = 0; k < na; k++) {
		const Nomad__Spread *x = k < ja->n_spreads
						 ? ja->spreads[k]
						 : ga->spreads[k - ja->n_spreads];
		const Nomad__Spread *y = k < jb->n_spreads
						 ? jb->spreads[k]
						 : gb->spreads[k - jb->n_spreads];
		if (!msg_eq(x, y))
			return true;
	}
	return false;
}

/* ---- consul and connect ---------------------------------------------------- */

/* consulUpdated: the namespace always counts; cluster and partition only
 * when both blocks exist. */
static bool consul_updated(const Nomad__ConsulBlock *a,
			   const Nomad__ConsulBlock *b)
{
	if (!s_eq(a ? a->namespace_ : NULL, b ? b->namespace_ : NULL))
		return true;
	return a && b &&
	       (!s_eq(a->cluster, b->cluster) ||
		!s_eq(a->partition, b->partition));
}

static cJSON *raw_parse(const Nomad__RawJSON *r)
{
	return r && r->json ? nmd_cjson_parse(r->json, strlen(r->json), NULL)
			    : NULL;
}

static bool j_null(const cJSON *v)
{
	return !v || cJSON_IsNull(v);
}

static const cJSON *j_get(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

static bool j_eq(const cJSON *a, const cJSON *b)
{
	if (j_null(a) || j_null(b))
		return j_null(a) == j_null(b);
	return cJSON_Compare(a, b, true);
}

/* connectUpdated: native mode, gateway, sidecar task, and the sidecar
 * service's presence and port; the rest is updated in place through
 * Consul. */
static bool connect_updated(const Nomad__RawJSON *ra, const Nomad__RawJSON *rb)
{
	cJSON *a = raw_parse(ra), *b = raw_parse(rb);
	const cJSON *sa, *sb;
	bool updated;

	if (j_null(a) || j_null(b)) {
		updated = j_null(a) != j_null(b);
		goto done;
	}
	sa = j_get(a, "SidecarService");
	sb = j_get(b, "SidecarService");
	updated = (!cJSON_IsTrue(j_get(a, "Native")) !=
		   !cJSON_IsTrue(j_get(b, "Native"))) ||
		  !j_eq(j_get(a, "Gateway"), j_get(b, "Gateway")) ||
		  !j_eq(j_get(a, "SidecarTask"), j_get(b, "SidecarTask")) ||
		  j_null(sa) != j_null(sb) ||
		  (!j_null(sa) &&
		   !s_eq(cJSON_GetStringValue(j_get(sa, "Port")),
			 cJSON_GetStringValue(j_get(sb, "Port"))));
done:
	cJSON_Delete(a);
	cJSON_Delete(b);
	return updated;
}

/* connectServiceUpdated: a group service with a connect block, against
 * the first service of the same name. */
static bool connect_service_updated(const Nomad__TaskGroup *ga,
				    const Nomad__TaskGroup *gb)
{
	for (size_t i = 0; i < ga->n_services; i++) {
		const Nomad__Service *sa = ga->services[i];
		if (!sa->connect || !sa->connect->json)
			continue;
		for (size_t j = 0; j < gb->n_services; j++) {
			const Nomad__Service *sb = gb->services[j];
			if (!s_eq(sa->name, sb->name))
				continue;
			if (connect_updated(sa->connect, sb->connect) ||
			    !s_eq(sa->portlabel, sb->portlabel) ||
			    !s_eq(sa->cluster, sb->cluster))
				return true;
			break;
		}
	}
	return false;
}

/* ---- the rest of the group ---------------------------------------------- */

static bool volumes_eq(const Nomad__TaskGroup *a, const Nomad__TaskGroup *b)
{
	if (a->n_volumes != b->n_volumes)
		return false;
	for (size_t i = 0; i < a->n_volumes; i++) {
		const Nomad__VolumeRequestEntry *e = a->volumes[i], *f = NULL;
		for (size_t j = 0; j < b->n_volumes && !f; j++)
			if (s_eq(b->volumes[j]->key, e->key))
				f = b->volumes[j];
		if (!f || !msg_eq(e->value, f->value))
			return false;
	}
	return true;
}

/* renderTemplatesUpdated: unset and false are the same. */
static bool render_templates_updated(const Nomad__RestartPolicy *a,
				     const Nomad__RestartPolicy *b)
{
	return !VAL(a, rendertemplates) != !VAL(b, rendertemplates);
}

/* The group-wide half of tasksUpdated. */
static bool group_updated(const nomad_job *ja, const Nomad__TaskGroup *ga,
			  const nomad_job *jb, const Nomad__TaskGroup *gb)
{
	return ga->n_tasks != gb->n_tasks ||
	       !msg_eq(ga->ephemeraldisk, gb->ephemeraldisk) ||
	       network_updated(ga->networks, ga->n_networks, gb->networks,
			       gb->n_networks) ||
	       affinities_updated(ja, ga, jb, gb) ||
	       spreads_updated(ja, ga, jb, gb) ||
	       consul_updated(ga->consul, gb->consul) ||
	       connect_service_updated(ga, gb) || !volumes_eq(ga, gb) ||
	       render_templates_updated(ga->restartpolicy, gb->restartpolicy);
}

/* ---- tasks --------------------------------------------------------------- */

/* The task's meta over the group's over the job's (CombinedTaskMeta). */
static const Nomad__StringEntry *meta_get(const nomad_job *j,
					  const Nomad__TaskGroup *g,
					  const Nomad__Task *t, const char *key)
{
	const Nomad__StringEntry *e = map_find(t->meta, t->n_meta, key);

	if (!e)
		e = map_find(g->meta, g->n_meta, key);
	if (!e)
		e = map_find(j->meta, j->n_meta, key);
	return e;
}

/* Both combined maps agree on every key in `keys`. */
static bool meta_keys_eq(const nomad_job *ja, const Nomad__TaskGroup *ga,
			 const Nomad__Task *ta, const nomad_job *jb,
			 const Nomad__TaskGroup *gb, const Nomad__Task *tb,
			 Nomad__StringEntry *const *keys, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const Nomad__StringEntry *x = meta_get(ja, ga, ta, keys[i]->key);
		const Nomad__StringEntry *y = meta_get(jb, gb, tb, keys[i]->key);
		if (!x != !y || (x && !s_eq(x->value, y->value)))
			return false;
	}
	return true;
}

static bool meta_eq(const nomad_job *ja, const Nomad__TaskGroup *ga,
		    const Nomad__Task *ta, const nomad_job *jb,
		    const Nomad__TaskGroup *gb, const Nomad__Task *tb)
{
#define KEYS(m) (m)->meta, (m)->n_meta
	return meta_keys_eq(ja, ga, ta, jb, gb, tb, KEYS(ja)) &&
	       meta_keys_eq(ja, ga, ta, jb, gb, tb, KEYS(ga)) &&
	       meta_keys_eq(ja, ga, ta, jb, gb, tb, KEYS(ta)) &&
	       meta_keys_eq(ja, ga, ta, jb, gb, tb, KEYS(jb)) &&
	       meta_keys_eq(ja, ga, ta, jb, gb, tb, KEYS(gb)) &&
	       meta_keys_eq(ja, ga, ta, jb, gb, tb, KEYS(tb));
#undef KEYS
}

/* nonNetworkResourcesUpdated, with the task networks checked first. */
static bool resources_updated(const Nomad__Resources *a,
			      const Nomad__Resources *b)
{
	static const Nomad__Resources none = NOMAD__RESOURCES__INIT;

	if (!a)
		a = &none;
	if (!b)
		b = &none;
	return network_updated(a->networks, a->n_networks, b->networks,
			       b->n_networks) ||
	       VAL(a, cpu) != VAL(b, cpu) || VAL(a, cores) != VAL(b, cores) ||
	       VAL(a, memorymb) != VAL(b, memorymb) ||
	       VAL(a, memorymaxmb) != VAL(b, memorymaxmb) ||
	       !LIST_EQ(a, b, devices) || !msg_eq(a->numa, b->numa) ||
	       VAL(a, secretsmb) != VAL(b, secretsmb);
}

/* What the task runs: driver, user, config, env, files. */
static bool task_runtime_updated(const Nomad__Task *a, const Nomad__Task *b)
{
	return !s_eq(a->driver, b->driver) || !s_eq(a->user, b->user) ||
	       !nmd_structs_rawjson_equal(a->config, b->config) ||
	       !map_eq(a->env, a->n_env, b->env, b->n_env) ||
	       !LIST_EQ(a, b, artifacts) || !msg_eq(a->vault, b->vault) ||
	       consul_updated(a->consul, b->consul) ||
	       !LIST_EQ(a, b, templates) ||
	       !msg_eq(a->csipluginconfig, b->csipluginconfig) ||
	       !LIST_EQ(a, b, volumemounts) || !LIST_EQ(a, b, secrets);
}

static bool task_updated(const nomad_job *ja, const Nomad__TaskGroup *ga,
			 const Nomad__Task *ta, const nomad_job *jb,
			 const Nomad__TaskGroup *gb, const Nomad__Task *tb)
{
	if (!ta || !tb)
		return true;
	return task_runtime_updated(ta, tb) ||
	       !meta_eq(ja, ga, ta, jb, gb, tb) ||
	       resources_updated(ta->resources, tb->resources) ||
	       !msg_eq(ta->identity, tb->identity) ||
	       !LIST_EQ(ta, tb, identities) ||
	       /* starting or stopping log collection changes stdout */
	       !VAL(ta->logconfig, disabled) != !VAL(tb->logconfig, disabled) ||
	       render_templates_updated(ta->restartpolicy, tb->restartpolicy);
}

bool nmd_structs_task_destructive(const nomad_job *old_job,
				  const nomad_job *new_job, const char *group,
				  const char *task)
{
	const Nomad__TaskGroup *ga = find_group(old_job, group);
	const Nomad__TaskGroup *gb = find_group(new_job, group);

	if (!ga || !gb)
		return true;
	return task_updated(old_job, ga, find_task(ga, task), new_job, gb,
			    find_task(gb, task));
}

/* ---- the group ------------------------------------------------------------- */

/* The job-level spec a group inherits: every job field but the groups
 * and what the server sets. */
static bool job_spec_equal(const nomad_job *a, const nomad_job *b)
{
	const ProtobufCMessageDescriptor *d = &nomad__job__descriptor;

	for (unsigned int i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (strcmp(f->name, "TaskGroups") == 0 ||
		    nmd_structs_job_server_field(f->name))
			continue;
		if (!nmd_pb_field_equal(&a->base, &b->base, f))
			return false;
	}
	return true;
}

nomad_update_kind nomad_task_group_update_kind(const nomad_job *old_job,
					       const nomad_job *new_job,
					       const char *group)
{
	const Nomad__TaskGroup *ga = find_group(old_job, group);
	const Nomad__TaskGroup *gb = find_group(new_job, group);

	if (!ga || !gb || group_updated(old_job, ga, new_job, gb))
		return NOMAD_UPDATE_DESTRUCTIVE;
	for (size_t i = 0; i < ga->n_tasks; i++)
		if (task_updated(old_job, ga, ga->tasks[i], new_job, gb,
				 find_task(gb, ga->tasks[i]->name)))
			return NOMAD_UPDATE_DESTRUCTIVE;
	if (!msg_eq(ga, gb) ||
	    !job_spec_equal(old_job, new_job))
		return NOMAD_UPDATE_INPLACE;
	return NOMAD_UPDATE_NONE;
}
