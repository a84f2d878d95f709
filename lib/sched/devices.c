/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Devices, as Nomad's scheduler/feasible/device.go and the device part of
 * its bin-packing (rank.go) handle them: a task's `device` requests (a
 * name "gpu", "nvidia/gpu" or "nvidia/gpu/1080ti", a count, constraints
 * and affinities on the device's attributes) against the node's device
 * groups (vendor/type/name, instances with a health flag, attributes).
 *
 *   feasible  each request of the group takes `count` healthy instances
 *             of a matching group, the groups tried in the node's order
 *             (DeviceChecker; filtered as "missing devices"); checked per
 *             node, since a host's computed class need not cover devices;
 *   fit       each request gets `count` healthy instances that no
 *             allocation on the node and no earlier request of the same
 *             placement holds, from the matching group with the best
 *             affinity score, the later of equals (AssignDevice);
 *             "devices: no devices match request" when none has them,
 *             "devices: no devices available" on a node without devices;
 *   score     the sum of matched affinity weights over the sum of their
 *             absolute values, for the requests that have affinities,
 *             appended as "devices".
 *
 * Who holds each instance is kept per node (struct nmd_devstate), built
 * the first time a placement asks that node for devices: an allocation
 * from the host's usage (its device_ids), a placement of this plan, or
 * nobody. Stops and preemptions give instances back (and a stop taken
 * back takes them again), so no instance is handed to two allocations.
 *
 * Attributes are typed (plugins/shared/structs): int, float, string or
 * bool, numbers with an optional unit (MiB, GHz, mW, ...). Literal targets
 * are parsed as ParseAttribute does; numbers compare in their base unit,
 * a number with a unit never compares with one without, strings compare
 * bytewise and booleans only for (in)equality.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "core/error.h"
#include "sched/sched_int.h"
#include "structs/pb.h"

#define PA (&e->plan_alloc)

/* Holders of an instance besides an index into the node's usage. */
#define DEV_FREE (-1)
#define DEV_UNHEALTHY (-2)
#define DEV_PLACED (-3)                  /* given by this plan */

struct devgroup {
	const Nomad__NodeDeviceResource *d;
	int32_t *holder;                 /* per instance */
	size_t n;
};

struct nmd_devstate {
	struct devgroup *g;
	size_t n;
};

/* ---- typed attributes ---------------------------------------------------- */

enum { U_BYTE = 1, U_BYTERATE, U_HERTZ, U_WATT };

struct unit {
	const char *name;
	int base;
	int64_t mult;
	bool inverse;                    /* base / mult (mW) */
};

/* Nomad's units, longest names first: suffixes are tried in this order. */
static const struct unit units[] = {
	{"KiB/s", U_BYTERATE, 1LL << 10, false}, {"MiB/s", U_BYTERATE, 1LL << 20, false},
	{"GiB/s", U_BYTERATE, 1LL << 30, false}, {"TiB/s", U_BYTERATE, 1LL << 40, false},
	{"PiB/s", U_BYTERATE, 1LL << 50, false}, {"EiB/s", U_BYTERATE, 1LL << 60, false},
	{"kB/s", U_BYTERATE, 1000LL, false}, {"KB/s", U_BYTERATE, 1000LL, false},
	{"MB/s", U_BYTERATE, 1000000LL, false}, {"GB/s", U_BYTERATE, 1000000000LL, false},
	{"TB/s", U_BYTERATE, 1000000000000LL, false},
	{"PB/s", U_BYTERATE, 1000000000000000LL, false},
	{"EB/s", U_BYTERATE, 1000000000000000000LL, false},
	{"KiB", U_BYTE, 1LL << 10, false}, {"MiB", U_BYTE, 1LL << 20, false},
	{"GiB", U_BYTE, 1LL << 30, false}, {"TiB", U_BYTE, 1LL << 40, false},
	{"PiB", U_BYTE, 1LL << 50, false}, {"EiB", U_BYTE, 1LL << 60, false},
	{"MHz", U_HERTZ, 1000000LL, false}, {"GHz", U_HERTZ, 1000000000LL, false},
	{"kB", U_BYTE, 1000LL, false}, {"KB", U_BYTE, 1000LL, false},
	{"MB", U_BYTE, 1000000LL, false}, {"GB", U_BYTE, 1000000000LL, false},
	{"TB", U_BYTE, 1000000000000LL, false},
	{"PB", U_BYTE, 1000000000000000LL, false},
	{"EB", U_BYTE, 1000000000000000000LL, false},
	{"mW", U_WATT, 1000LL, true}, {"kW", U_WATT, 1000LL, false},
	{"MW", U_WATT, 1000000LL, false}, {"GW", U_WATT, 1000000000LL, false},
	{"W", U_WATT, 1LL, false},
};

enum akind { A_STRING, A_BOOL, A_INT, A_FLOAT };

struct attr {
	enum akind k;
	long long i;
	double f;
	const char *s;
	bool b;
	const struct unit *unit;         /* a known unit, or NULL */
};

static const struct unit *unit_named(const char *name)
{
	for (size_t i = 0; name && *name && i < sizeof(units) / sizeof(*units); i++)
		if (!strcmp(units[i].name, name))
			return &units[i];
	return NULL;
}

static void attr_from_pb(const Nomad__Attribute *a, struct attr *out)
{
	memset(out, 0, sizeof(*out));
	out->s = "";
	if (!a)
		return;
	out->unit = unit_named(a->unit); /* unknown units are none */
	if (a->has_boolval) {
		out->k = A_BOOL;
		out->b = a->boolval;
	} else if (a->stringval) {
		out->s = a->stringval;
	} else if (a->has_intval) {
		out->k = A_INT;
		out->i = a->intval;
	} else if (a->has_floatval) {
		out->k = A_FLOAT;
		out->f = a->floatval;
	}
}

static bool go_parse_bool(const char *s, bool *b)
{
	static const char *const yes[] = {"1", "t", "T", "TRUE", "true", "True"};
	static const char *const no[] = {"0", "f", "F", "FALSE", "false", "False"};
	for (size_t i = 0; i < 6; i++) {
		if (!strcmp(s, yes[i]))
			return *b = true;
		if (!strcmp(s, no[i])) {
			*b = false;
			return true;
		}
	}
	return false;
}

/* ParseAttribute: a number with an optional known unit suffix, else a
 * bool, else the string. `buf` holds the number's text. */
static void attr_parse(const char *in, struct attr *out, char *buf, size_t cap)
{
	size_t len = strlen(in);
	const char *num = in;
	memset(out, 0, sizeof(*out));
	out->s = in;
	if (len && ((in[len - 1] >= 'a' && in[len - 1] <= 'z') ||
		    (in[len - 1] >= 'A' && in[len - 1] <= 'Z'))) {
		for (size_t i = 0; i < sizeof(units) / sizeof(*units); i++) {
			size_t ul = strlen(units[i].name);
			size_t start = 0, end;
			if (ul > len || strcmp(in + len - ul, units[i].name))
				continue;
			/* TrimSpace of what precedes the unit */
			end = len - ul;
			while (start < end && (in[start] == ' ' || in[start] == '\t'))
				start++;
			while (end > start && (in[end - 1] == ' ' || in[end - 1] == '\t'))
				end--;
			if (end - start >= cap)
				return; /* too long to be a number: a string */
			memcpy(buf, in + start, end - start);
			buf[end - start] = '\0';
			num = buf;
			out->unit = &units[i];
			break;
		}
	}
	if (nmd_sched_parse_int(num, &out->i)) {
		out->k = A_INT;
	} else if (nmd_sched_parse_float(num, &out->f)) {
		out->k = A_FLOAT;
	} else {
		out->unit = NULL;
		if (go_parse_bool(in, &out->b))
			out->k = A_BOOL;
	}
}

static long double base_value(const struct attr *a)
{
	long double v = a->k == A_INT ? (long double)a->i : (long double)a->f;
	if (!a->unit)
		return v;
	return a->unit->inverse ? v / a->unit->mult : v * a->unit->mult;
}

/* Attribute.Compare: *out -1, 0, 1; false when the two do not compare. */
static bool attr_compare(const struct attr *a, const struct attr *b, int *out)
{
	if (a->unit || b->unit) {
		if (!a->unit || !b->unit || a->unit->base != b->unit->base)
			return false;
	} else if ((a->k == A_STRING) != (b->k == A_STRING) ||
		   (a->k == A_BOOL && b->k != A_BOOL)) {
		return false;
	}
	if (a->k == A_BOOL) {
		*out = a->b != b->b;
	} else if (a->k == A_STRING) {
		int c = strcmp(a->s, b->s);
		*out = (c > 0) - (c < 0);
	} else if (b->k != A_INT && b->k != A_FLOAT) {
		return false;
	} else {
		long double x = base_value(a), y = base_value(b);
		if (isnan(x) || isnan(y))
			return false;
		*out = (x > y) - (x < y);
	}
	return true;
}

/* The text of a string attribute, or of an int one when `ints` (version
 * operands take both). */
static const char *attr_text(const struct attr *a, bool ints, char *buf,
			     size_t cap)
{
	if (a->k == A_STRING)
		return a->s;
	if (ints && a->k == A_INT) {
		snprintf(buf, cap, "%lld", a->i);
		return buf;
	}
	return NULL;
}

/* checkAttributeConstraint (and checkAttributeAffinity, the same). */
static bool attr_check(struct nmd_regex_cache *cache, const char *operand,
		       const struct attr *l, bool lfound, const struct attr *r,
		       bool rfound)
{
	const char *op = operand && *operand ? operand : "=";
	char lb[32], rb[32];
	const char *ls, *rs;
	int c;
	if (!strcmp(op, "distinct_hosts") || !strcmp(op, "distinct_property"))
		return true;
	if (!strcmp(op, "is_set"))
		return lfound;
	if (!strcmp(op, "is_not_set"))
		return !lfound;
	if (!strcmp(op, "!=") || !strcmp(op, "not")) {
		if (!lfound && !rfound)
			return false;
		if (lfound != rfound)
			return true;
		return attr_compare(l, r, &c) && c != 0;
	}
	if (!lfound || !rfound)
		return false;
	if (!strcmp(op, "=") || !strcmp(op, "==") || !strcmp(op, "is"))
		return attr_compare(l, r, &c) && c == 0;
	if (!strcmp(op, "<") || !strcmp(op, "<=") || !strcmp(op, ">") ||
	    !strcmp(op, ">=")) {
		if (!attr_compare(l, r, &c))
			return false;
		if (op[0] == '<')
			return op[1] ? c != 1 : c == -1;
		return op[1] ? c != -1 : c == 1;
	}
	ls = attr_text(l, !strcmp(op, "version") || !strcmp(op, "semver"), lb,
		       sizeof(lb));
	rs = attr_text(r, false, rb, sizeof(rb));
	/* The string operands (regexp, set_contains*, version, semver). */
	return ls && rs && nmd_sched_check_operand(cache, op, ls, true, rs, true);
}

/* ---- device targets and requests --------------------------------------- */

/* resolveDeviceTarget: a literal, ${device.model|vendor|type} or
 * ${device.attr.<key>}. */
static bool dev_target(const char *t, const Nomad__NodeDeviceResource *d,
		       struct attr *out, char *buf, size_t cap)
{
	const char *key;
	size_t klen;
	t = t ? t : "";
	if (strncmp(t, "${", 2) != 0) {
		attr_parse(t, out, buf, cap);
		return true;
	}
	memset(out, 0, sizeof(*out));
	if (!strcmp(t, "${device.model}"))
		out->s = d->name ? d->name : "";
	else if (!strcmp(t, "${device.vendor}"))
		out->s = d->vendor ? d->vendor : "";
	else if (!strcmp(t, "${device.type}"))
		out->s = d->type ? d->type : "";
	else if (strncmp(t, "${device.attr.", 14) != 0)
		return false;
	else {
		key = t + 14;
		klen = strlen(key);
		if (klen && key[klen - 1] == '}')
			klen--;
		for (size_t i = 0; i < d->n_attributes; i++) {
			const Nomad__AttributeEntry *a = d->attributes[i];
			if (a && a->key && !strncmp(a->key, key, klen) &&
			    a->key[klen] == '\0') {
				attr_from_pb(a->value, out);
				return true;
			}
		}
		return false;
	}
	return true;
}

/* An empty part of the request matches anything. */
static bool field_eq(const char *want, size_t n, const char *have)
{
	have = have ? have : "";
	return !n || (strlen(have) == n && !strncmp(want, have, n));
}

/* DeviceIdTuple.Matches: the request's "type", "vendor/type" or
 * "vendor/type/name" parts each equal the group's. */
static bool id_matches(const char *name, const Nomad__NodeDeviceResource *d)
{
	const char *s1, *s2;
	if (!name || !*name)
		return false;
	if (!(s1 = strchr(name, '/')))
		return field_eq(name, strlen(name), d->type);
	if (!field_eq(name, (size_t)(s1 - name), d->vendor))
		return false;
	if (!(s2 = strchr(s1 + 1, '/')))
		return field_eq(s1 + 1, strlen(s1 + 1), d->type);
	return field_eq(s1 + 1, (size_t)(s2 - s1 - 1), d->type) &&
	       field_eq(s2 + 1, strlen(s2 + 1), d->name);
}

/* nodeDeviceMatches: the name, then every constraint. */
static bool dev_matches(struct nmd_regex_cache *cache,
			const Nomad__NodeDeviceResource *d,
			const Nomad__RequestedDevice *req)
{
	if (!id_matches(req->name, d))
		return false;
	for (size_t i = 0; i < req->n_constraints; i++) {
		const Nomad__Constraint *c = req->constraints[i];
		struct attr l, r;
		char lb[64], rb[64];
		bool lf = dev_target(c->ltarget, d, &l, lb, sizeof(lb));
		bool rf = dev_target(c->rtarget, d, &r, rb, sizeof(rb));
		if (!attr_check(cache, c->operand, &l, lf, &r, rf))
			return false;
	}
	return true;
}

/* Nomad's API defaults a missing count to 1. */
static size_t req_count(const Nomad__RequestedDevice *req)
{
	return req->has_count && req->count > 0 ? (size_t)req->count : 1;
}

static const Nomad__Resources *task_res(const nomad_task_group *tg, size_t t)
{
	return tg->tasks[t] ? tg->tasks[t]->resources : NULL;
}

size_t nmd_devices_count(const nomad_task_group *tg)
{
	size_t n = 0;
	for (size_t t = 0; t < tg->n_tasks; t++)
		n += task_res(tg, t) ? task_res(tg, t)->n_devices : 0;
	return n;
}

static size_t node_groups(const nomad_node *node,
			  Nomad__NodeDeviceResource *const **out)
{
	const Nomad__NodeResources *r = node ? node->noderesources : NULL;
	*out = r ? r->devices : NULL;
	return r ? r->n_devices : 0;
}

/* ---- feasibility ---------------------------------------------------------- */

bool nmd_devices_feasible(struct nmd_eval_ctx *e, const nomad_task_group *tg,
			  const nomad_node *node)
{
	Nomad__NodeDeviceResource *const *ds;
	size_t n = node_groups(node, &ds);
	size_t local[16], *avail = local;
	if (!n)
		return false;
	if (n > 16 && !(avail = nmd_arena_alloc(e->arena, n * sizeof(*avail))))
		return false;
	for (size_t g = 0; g < n; g++) {
		avail[g] = 0;
		for (size_t i = 0; i < ds[g]->n_instances; i++)
			avail[g] += ds[g]->instances[i] && ds[g]->instances[i]->healthy;
	}
	for (size_t t = 0; t < tg->n_tasks; t++) {
		const Nomad__Resources *r = task_res(tg, t);
		for (size_t q = 0; r && q < r->n_devices; q++) {
			size_t want = req_count(r->devices[q]), g;
			for (g = 0; g < n; g++)
				if (avail[g] && avail[g] >= want &&
				    dev_matches(&e->regex, ds[g], r->devices[q]))
					break;
			if (g == n)
				return false;
			avail[g] -= want;
		}
	}
	return true;
}

/* ---- who holds what -------------------------------------------------- */

static bool find_instance(const struct nmd_devstate *ds, const char *id,
			  size_t *g, size_t *i)
{
	for (*g = 0; id && *g < ds->n; (*g)++)
		for (*i = 0; *i < ds->g[*g].n; (*i)++) {
			const Nomad__NodeDevice *inst = ds->g[*g].d->instances[*i];
			if (inst && inst->id && !strcmp(inst->id, id))
				return true;
		}
	return false;
}

/* Whether the plan already gives back what usage entry `u` holds: it
 * preempts it, or stops it (an allocation of the evaluated job). */
static bool let_go(struct nmd_eval_ctx *e, const struct nmd_snode *sn,
		   const nomad_sched_usage *u)
{
	for (size_t i = 0; i < sn->n_preempted; i++)
		if (sn->preempted[i] == u)
			return true;
	if (!u->job_id || !e->job || !e->job->id || strcmp(u->job_id, e->job->id))
		return false;
	for (size_t i = 0; i < e->n_allocs; i++)
		if (e->allocs[i]->id && u->alloc_id &&
		    !strcmp(e->allocs[i]->id, u->alloc_id))
			return nmd_sched_stopping(e, e->allocs[i]);
	return false;
}

nomad_err nmd_devices_load(struct nmd_eval_ctx *e, struct nmd_snode *sn,
			   nomad_error *err)
{
	Nomad__NodeDeviceResource *const *ds;
	size_t n = node_groups(sn->n->node, &ds);
	struct nmd_devstate *st;
	sn->dev_loaded = true;
	if (!n)
		return NOMAD_OK;
	if (!(st = nmd_arena_alloc(e->arena, sizeof(*st))) ||
	    !(st->g = nmd_arena_alloc(e->arena, n * sizeof(*st->g))))
		goto oom;
	st->n = n;
	for (size_t g = 0; g < n; g++) {
		struct devgroup *dg = &st->g[g];
		dg->d = ds[g];
		dg->n = ds[g]->n_instances;
		if (!(dg->holder = nmd_arena_alloc(e->arena, (dg->n + 1) *
							      sizeof(*dg->holder))))
			goto oom;
		/* An instance without an ID cannot be handed out either. */
		for (size_t i = 0; i < dg->n; i++)
			dg->holder[i] = ds[g]->instances[i] &&
						ds[g]->instances[i]->healthy &&
						ds[g]->instances[i]->id
					? DEV_FREE : DEV_UNHEALTHY;
	}
	for (size_t u = 0; u < sn->n_usage; u++) {
		if (!sn->usage[u]->n_device_ids || let_go(e, sn, sn->usage[u]))
			continue;
		for (size_t k = 0; k < sn->usage[u]->n_device_ids; k++) {
			size_t g, i;
			if (find_instance(st, sn->usage[u]->device_ids[k], &g, &i) &&
			    st->g[g].holder[i] == DEV_FREE)
				st->g[g].holder[i] = (int32_t)u;
		}
	}
	sn->dev = st;
	return NOMAD_OK;
oom:
	return nmd_sched_oom(err);
}

void nmd_devices_release(struct nmd_snode *sn, size_t usage_index)
{
	for (size_t g = 0; sn->dev && g < sn->dev->n; g++)
		for (size_t i = 0; i < sn->dev->g[g].n; i++)
			if (sn->dev->g[g].holder[i] == (int32_t)usage_index)
				sn->dev->g[g].holder[i] = DEV_FREE;
}

void nmd_devices_release_alloc(struct nmd_snode *sn, const char *alloc_id)
{
	for (size_t u = 0; sn->dev && alloc_id && u < sn->n_usage; u++)
		if (sn->usage[u]->alloc_id &&
		    !strcmp(sn->usage[u]->alloc_id, alloc_id))
			nmd_devices_release(sn, u);
}

void nmd_devices_hold_alloc(struct nmd_snode *sn, const char *alloc_id)
{
	for (size_t u = 0; sn->dev && alloc_id && u < sn->n_usage; u++) {
		if (!sn->usage[u]->alloc_id ||
		    strcmp(sn->usage[u]->alloc_id, alloc_id))
			continue;
		for (size_t k = 0; k < sn->usage[u]->n_device_ids; k++) {
			size_t g, i;
			if (find_instance(sn->dev, sn->usage[u]->device_ids[k], &g,
					  &i) &&
			    sn->dev->g[g].holder[i] == DEV_FREE)
				sn->dev->g[g].holder[i] = (int32_t)u;
		}
	}
}

/* ---- assigning instances ---------------------------------------------- */

static bool picked(const struct nmd_choice *c, size_t g, size_t i)
{
	for (size_t k = 0; k < c->n_devs; k++)
		if (c->devs[k].group == g && c->devs[k].inst == i)
			return true;
	return false;
}

/* Free for this placement: nobody holds it, or an allocation it is about
 * to preempt does, and no earlier request of it took it. */
static bool usable(const struct nmd_snode *sn, const struct nmd_choice *c,
		   size_t g, size_t i)
{
	int32_t h = sn->dev->g[g].holder[i];
	if (h == DEV_FREE)
		return !c->n_devs || !picked(c, g, i);
	return h >= 0 && !picked(c, g, i) &&
	       nmd_preempt_holds(&c->pre, sn->usage[h]);
}

static size_t usable_count(const struct nmd_snode *sn,
			   const struct nmd_choice *c, size_t g)
{
	size_t n = 0;
	for (size_t i = 0; i < sn->dev->g[g].n; i++)
		n += usable(sn, c, g, i);
	return n;
}

static bool pick(struct nmd_eval_ctx *e, struct nmd_choice *c,
		 struct nmd_dev_pick p)
{
	if (c->n_devs == c->cap_devs) {
		size_t cap = c->cap_devs ? c->cap_devs * 2 : 8;
		struct nmd_dev_pick *grown =
			nmd_arena_alloc(e->arena, cap * sizeof(*grown));
		if (!grown)
			return false;
		if (c->n_devs)
			memcpy(grown, c->devs, c->n_devs * sizeof(*grown));
		c->devs = grown;
		c->cap_devs = cap;
	}
	c->devs[c->n_devs++] = p;
	return true;
}

/* The affinity score of group `d` for `req`, and the matched weights. */
static double affinity(struct nmd_regex_cache *cache,
		       const Nomad__NodeDeviceResource *d,
		       const Nomad__RequestedDevice *req, double *matched)
{
	double total = 0, score = 0;
	*matched = 0;
	for (size_t k = 0; k < req->n_affinities; k++) {
		const Nomad__Affinity *a = req->affinities[k];
		double w = a->has_weight ? a->weight : 0;
		struct attr l, r;
		char lb[64], rb[64];
		bool lf = dev_target(a->ltarget, d, &l, lb, sizeof(lb));
		bool rf = dev_target(a->rtarget, d, &r, rb, sizeof(rb));
		total += fabs(w);
		if (attr_check(cache, a->operand, &l, lf, &r, rf)) {
			score += w;
			*matched += w;
		}
	}
	return total > 0 ? score / total : 0;
}

/* AssignDevice for request `q` of task `t`: the picks go into c. */
static bool assign_one(struct nmd_eval_ctx *e, struct nmd_snode *sn,
		       size_t t, size_t q, const Nomad__RequestedDevice *req,
		       struct nmd_choice *c, double *matched)
{
	size_t want = req_count(req), best = SIZE_MAX, got = 0;
	double best_score = 0, best_matched = 0;
	for (size_t g = 0; sn->dev && g < sn->dev->n; g++) {
		double score, m = 0;
		if (usable_count(sn, c, g) < want ||
		    !dev_matches(&e->regex, sn->dev->g[g].d, req))
			continue;
		score = req->n_affinities
				? affinity(&e->regex, sn->dev->g[g].d, req, &m) : 0;
		if (best != SIZE_MAX && score < best_score)
			continue;
		best = g;
		best_score = score;
		best_matched = m;
	}
	if (best == SIZE_MAX)
		return false;
	for (size_t i = 0; i < sn->dev->g[best].n && got < want; i++) {
		struct nmd_dev_pick p = {(uint16_t)t, (uint16_t)q, (uint16_t)best,
					 (uint16_t)i};
		if (!usable(sn, c, best, i))
			continue;
		if (!pick(e, c, p))
			return false;
		got++;
	}
	*matched = best_matched;
	return true;
}

/* ---- preempting for devices (PreemptForDevice) ------------------------- */

/* One way to free enough instances of one group. */
struct dev_option {
	const nomad_sched_usage **u;
	size_t n;
	int net_priority;                /* sum of the distinct priorities */
};

static int cmp_priority(const void *x, const void *y)
{
	const nomad_sched_usage *const *a = x, *const *b = y;
	return ((*a)->job_priority > (*b)->job_priority) -
	       ((*a)->job_priority < (*b)->job_priority);
}

/* How many instances of group `g` allocation `u` holds. */
static size_t held_in(const struct nmd_snode *sn, size_t g,
		      const nomad_sched_usage *u)
{
	size_t n = 0;
	for (size_t i = 0; i < sn->dev->g[g].n; i++) {
		int32_t h = sn->dev->g[g].holder[i];
		n += h >= 0 && sn->usage[h] == u;
	}
	return n;
}

/* Evict, lowest priorities first, holders of group `g` until `want`
 * instances would be free; then keep only as many, those holding the
 * most first. False when the group cannot be freed enough. */
static bool group_option(struct nmd_eval_ctx *e, struct nmd_snode *sn,
			 size_t g, size_t want, const struct nmd_choice *c,
			 struct dev_option *o)
{
	size_t free_n = usable_count(sn, c, g), got = 0, n = 0, kept = 0;
	const nomad_sched_usage **h =
		nmd_arena_alloc(e->arena, (sn->n_usage + 1) * sizeof(*h));
	if (!h)
		return false;
	for (size_t u = 0; u < sn->n_usage; u++)
		if (held_in(sn, g, sn->usage[u]) &&
		    nmd_preempt_candidate(e, sn, &c->pre, sn->usage[u]))
			h[n++] = sn->usage[u];
	/* Stable, so that equal priorities keep the node's order. */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && cmp_priority(&h[j - 1], &h[j]) > 0; j--) {
			const nomad_sched_usage *t = h[j];
			h[j] = h[j - 1];
			h[j - 1] = t;
		}
	while (kept < n && got + free_n < want)
		got += held_in(sn, g, h[kept++]);
	if (got + free_n < want)
		return false;
	/* selectBestAllocs: those holding the most first, as few as do. */
	for (size_t i = 1; i < kept; i++)
		for (size_t j = i; j > 0 && held_in(sn, g, h[j - 1]) <
						    held_in(sn, g, h[j]); j--) {
			const nomad_sched_usage *t = h[j];
			h[j] = h[j - 1];
			h[j - 1] = t;
		}
	o->u = h;
	o->n = 0;
	o->net_priority = 0;
	for (got = 0; o->n < kept && got + free_n < want; o->n++) {
		bool seen = false;
		got += held_in(sn, g, h[o->n]);
		for (size_t k = 0; k < o->n && !seen; k++)
			seen = h[k]->job_priority == h[o->n]->job_priority;
		if (!seen)
			o->net_priority += h[o->n]->job_priority;
	}
	return true;
}

/* The option with the lowest net priority over the matching groups. */
static bool preempt_for(struct nmd_eval_ctx *e, struct nmd_snode *sn,
			const Nomad__RequestedDevice *req, struct nmd_choice *c)
{
	struct dev_option best = {NULL, 0, 0}, o;
	bool have = false;
	for (size_t g = 0; sn->dev && g < sn->dev->n; g++) {
		if (!dev_matches(&e->regex, sn->dev->g[g].d, req) ||
		    !group_option(e, sn, g, req_count(req), c, &o))
			continue;
		if (!have || o.net_priority < best.net_priority)
			best = o;
		have = true;
	}
	for (size_t i = 0; have && i < best.n; i++)
		if (!nmd_preempt_add(e, &c->pre, best.u[i]))
			return false;
	return have && best.n > 0;
}

const char *nmd_devices_assign(struct nmd_stack *st, struct nmd_snode *sn,
			       size_t tgi, struct nmd_choice *c, bool preempt)
{
	struct nmd_eval_ctx *e = st->e;
	const nomad_task_group *tg = e->job->taskgroups[tgi];
	const char *why = sn->dev ? "devices: no devices match request"
				  : "devices: no devices available";
	double total = 0, matched = 0;
	c->n_devs = 0;
	for (size_t t = 0; t < tg->n_tasks; t++) {
		const Nomad__Resources *r = task_res(tg, t);
		for (size_t q = 0; r && q < r->n_devices; q++) {
			const Nomad__RequestedDevice *req = r->devices[q];
			double m = 0;
			if (!assign_one(e, sn, t, q, req, c, &m) &&
			    (!preempt || !preempt_for(e, sn, req, c) ||
			     !assign_one(e, sn, t, q, req, c, &m)))
				return why;
			for (size_t k = 0; k < req->n_affinities; k++)
				total += fabs((double)(req->affinities[k]->has_weight
						      ? req->affinities[k]->weight : 0));
			matched += req->n_affinities ? m : 0;
		}
	}
	c->has_dev_affinity = total != 0;
	c->dev_affinity = total != 0 ? matched / total : 0;
	return NULL;
}

/* ---- the placement's record ---------------------------------------------- */

static Nomad__AllocatedTaskResources *task_of(nomad_alloc *a, const char *name)
{
	Nomad__AllocatedResources *ar = a->allocatedresources;
	for (size_t k = 0; ar && name && k < ar->n_tasks; k++)
		if (ar->tasks[k]->key && !strcmp(ar->tasks[k]->key, name))
			return ar->tasks[k]->value;
	return NULL;
}

/* The AllocatedDeviceResource of request (t, q), created on first use. */
static Nomad__AllocatedDeviceResource *
device_entry(struct nmd_eval_ctx *e, Nomad__AllocatedTaskResources *tr,
	     const Nomad__NodeDeviceResource *d, Nomad__AllocatedDeviceResource **last)
{
	Nomad__AllocatedDeviceResource *r;
	if (*last)
		return *last;
	if (!(r = nmd_pb_new(&nomad__allocated_device_resource__descriptor, PA)) ||
	    !nmd_pb_set_string(PA, &r->vendor, d->vendor ? d->vendor : "") ||
	    !nmd_pb_set_string(PA, &r->type, d->type ? d->type : "") ||
	    !nmd_pb_set_string(PA, &r->name, d->name ? d->name : "") ||
	    !NMD_PB_APPEND(PA, tr->devices, tr->n_devices, r))
		return NULL;
	return *last = r;
}

bool nmd_devices_place(struct nmd_eval_ctx *e, const struct nmd_choice *c,
		       nomad_alloc *a, size_t tgi)
{
	const nomad_task_group *tg = e->job->taskgroups[tgi];
	struct nmd_snode *sn = c->node;
	Nomad__AllocatedDeviceResource *last = NULL;
	for (size_t k = 0; k < c->n_devs; k++) {
		const struct nmd_dev_pick *p = &c->devs[k];
		const struct devgroup *dg = &sn->dev->g[p->group];
		Nomad__AllocatedTaskResources *tr =
			task_of(a, tg->tasks[p->task]->name);
		char *id = NULL;
		/* Picks of one request are adjacent and from one group. */
		if (k && (p->task != c->devs[k - 1].task ||
			  p->req != c->devs[k - 1].req))
			last = NULL;
		sn->dev->g[p->group].holder[p->inst] = DEV_PLACED;
		if (!tr)
			continue;
		if (!device_entry(e, tr, dg->d, &last) ||
		    !nmd_pb_set_string(PA, &id, dg->d->instances[p->inst]->id) ||
		    !NMD_PB_APPEND(PA, last->deviceids, last->n_deviceids, id))
			return false;
	}
	return true;
}
