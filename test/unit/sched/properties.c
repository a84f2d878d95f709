/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Properties of the scheduler over random clusters and jobs, each drawn
 * from a seeded generator passed around explicitly:
 *
 *   - after every committed plan no node holds more cpu, memory or disk
 *     than it has, and no host port twice (or one the node reserves);
 *   - every placed allocation is on a node it may use: ready, eligible,
 *     in the job's datacenters and pool, with the drivers, satisfying
 *     every job, group and task constraint and distinct_hosts;
 *   - when the cluster clearly has room, every group gets its count;
 *   - the same seed gives the same plans and evaluations, byte for byte.
 *
 * And bad input (jobs that fail validation, nodes without resources,
 * unknown operands, malformed patterns and versions) ends in an error or
 * a failed placement with a reason, never a crash; run it under ASan.
 */
#include <fnmatch.h>
#include <string.h>

#include "test.h"
#include "sched/constraint.h"
#include "structs/pb.h"
#include "harness.h"

/* ---- a seeded generator ------------------------------------------------------ */

struct rnd {
	uint64_t s;
};

static uint64_t rnd_next(struct rnd *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL); /* splitmix64 */
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int rnd_int(struct rnd *r, int lo, int hi)
{
	return lo + (int)(rnd_next(r) % (uint64_t)(hi - lo + 1));
}

static bool rnd_pct(struct rnd *r, int pct)
{
	return rnd_int(r, 0, 99) < pct;
}

static const char *rnd_pick(struct rnd *r, const char *const *v, size_t n)
{
	return v[rnd_next(r) % n];
}

#define PICK(r, arr) rnd_pick((r), (arr), sizeof(arr) / sizeof(*(arr)))

/* ---- random clusters ----------------------------------------------------------- */

/* Dynamic ports come from 20000-32000 or a node's own range at 30000 and
 * above; static ones from 8000-8015, outside both. */
#define STATIC_LO 8000
#define STATIC_HI 8015

static void random_node(struct th_cluster *c, struct rnd *r, int i, bool roomy)
{
	static const char *const dcs[] = {"dc1", "dc1", "dc2", "edge"};
	static const char *const racks[] = {"r0", "r1", "r2", "r3"};
	static const char *const tags[] = {"a", "b", "a,b", "c"};
	static const char *const cores[] = {"2", "4", "8", "16"};
	static const char *const vers[] = {"1.5.0", "1.6.2", "1.8.0",
					   "2.0.0-beta.1"};
	static const char *const classes[] = {"small", "large"};
	char name[16];
	nomad_node *n;
	int cpu = roomy ? 64000 : rnd_int(r, 1, 8) * 1000;
	int mem = roomy ? 65536 : rnd_int(r, 1, 8) * 1024;
	int disk = roomy ? 100000 : rnd_int(r, 1, 4) * 1000;
	/* Now and then a node without resources at all. */
	if (!roomy && rnd_pct(r, 5))
		cpu = mem = disk = 0;
	snprintf(name, sizeof(name), "n%d", i);
	n = th_add_node(c, name, PICK(r, dcs), cpu, mem, disk);
	if (rnd_pct(r, 80))
		CHECK(nmd_map_set(NULL, &n->meta, &n->n_meta, "rack",
				  PICK(r, racks)));
	if (rnd_pct(r, 60))
		CHECK(nmd_map_set(NULL, &n->meta, &n->n_meta, "tags",
				  PICK(r, tags)));
	if (rnd_pct(r, 70))
		CHECK(nmd_pb_set_string(NULL, &n->nodeclass, PICK(r, classes)));
	th_set_attr(n, "cpu.numcores", PICK(r, cores));
	th_set_attr(n, "nomad.version", PICK(r, vers));
	if (rnd_pct(r, 15))
		th_set_attr(n, "kernel.name", "windows");
	if (rnd_pct(r, 15))
		th_set_attr(n, "driver.docker", "0");
	if (!roomy && rnd_pct(r, 10))
		n->status = NOMAD__NODE__STATUS_KIND__down;
	if (!roomy && rnd_pct(r, 10))
		n->schedulingeligibility =
			NOMAD__NODE__ELIGIBILITY_KIND__ineligible;
	if (rnd_pct(r, 20)) {
		int lo = 30000 + rnd_int(r, 0, 100);
		n->noderesources->has_mindynamicport = 1;
		n->noderesources->mindynamicport = lo;
		n->noderesources->has_maxdynamicport = 1;
		n->noderesources->maxdynamicport = lo + rnd_int(r, 0, 6);
	}
	if (rnd_pct(r, 20)) {
		char spec[32];
		int p = rnd_int(r, STATIC_LO, STATIC_HI - 2);
		n->reservedresources = nmd_pb_new(
			&nomad__node_reserved_resources__descriptor, NULL);
		n->reservedresources->networks = nmd_pb_new(
			&nomad__node_reserved_network_resources__descriptor, NULL);
		snprintf(spec, sizeof(spec), "22,%d-%d", p, p + 2);
		CHECK(nmd_pb_set_string(NULL,
					&n->reservedresources->networks
						 ->reservedhostports,
					spec));
	}
	th_node_changed(c, n);
}

static struct th_cluster *random_cluster(struct rnd *r, int lo, int hi,
					 bool roomy)
{
	struct th_cluster *c = th_new();
	int n = rnd_int(r, lo, hi);
	for (int i = 0; i < n; i++)
		random_node(c, r, i, roomy);
	return c;
}

/* ---- random jobs ------------------------------------------------------------- */

static Nomad__Constraint *constraint(const char *l, const char *op,
				     const char *rt)
{
	Nomad__Constraint *k = nmd_pb_new(&nomad__constraint__descriptor, NULL);
	if (l)
		CHECK(nmd_pb_set_string(NULL, &k->ltarget, l));
	if (op)
		CHECK(nmd_pb_set_string(NULL, &k->operand, op));
	if (rt)
		CHECK(nmd_pb_set_string(NULL, &k->rtarget, rt));
	return k;
}

static const char *const good_constraints[][3] = {
	{"${attr.kernel.name}", "=", "linux"},
	{"${meta.rack}", "!=", "r0"},
	{"${meta.rack}", "regexp", "^r[12]$"},
	{"${attr.cpu.numcores}", ">=", "4"},
	{"${node.datacenter}", "=", "dc1"},
	{"${meta.tags}", "set_contains_any", "a,c"},
	{"${meta.tags}", "set_contains", "a"},
	{"${attr.nomad.version}", "version", ">= 1.6"},
	{"${attr.nomad.version}", "semver", "< 2.0.0"},
	{"${meta.rack}", "is_set", NULL},
	{"${node.class}", "!=", "small"},
	{"${attr.unique.hostname}", "!=", "n1"},
};

static void add_random_constraint(struct rnd *r, nomad_job *j, size_t g)
{
	const char *const *k =
		good_constraints[rnd_next(r) % (sizeof(good_constraints) /
						sizeof(*good_constraints))];
	Nomad__Constraint *x = constraint(k[0], k[1], k[2]);
	nomad_task_group *tg = j->taskgroups[g];
	switch (rnd_int(r, 0, 2)) {
	case 0:
		CHECK(NMD_PB_APPEND(NULL, j->constraints, j->n_constraints, x));
		break;
	case 1:
		CHECK(NMD_PB_APPEND(NULL, tg->constraints, tg->n_constraints, x));
		break;
	default:
		CHECK(NMD_PB_APPEND(NULL, tg->tasks[0]->constraints,
				    tg->tasks[0]->n_constraints, x));
	}
}

static void add_port(nomad_task_group *tg, const char *label, int value)
{
	Nomad__Port *p = nmd_pb_new(&nomad__port__descriptor, NULL);
	Nomad__NetworkResource *net;
	if (!tg->n_networks) {
		net = nmd_pb_new(&nomad__network_resource__descriptor, NULL);
		CHECK(NMD_PB_APPEND(NULL, tg->networks, tg->n_networks, net));
	}
	net = tg->networks[0];
	CHECK(nmd_pb_set_string(NULL, &p->label, label));
	if (value) {
		p->has_value = 1;
		p->value = value;
		CHECK(NMD_PB_APPEND(NULL, net->reservedports, net->n_reservedports,
				    p));
	} else {
		CHECK(NMD_PB_APPEND(NULL, net->dynamicports, net->n_dynamicports,
				    p));
	}
}

struct job_shape {
	bool constraints;                /* random constraints */
	bool ports;                      /* static and dynamic ports */
	bool scores;                     /* affinities and spreads */
	int max_count, max_cpu, max_mem;
};

static nomad_job *random_job(struct rnd *r, const char *id,
			     const struct job_shape *s)
{
	static const char *const dcsets[] = {"dc1", "dc*", "*", "*", "dc2"};
	nomad_job *j = th_job(id, rnd_int(r, 0, s->max_count),
			      rnd_int(r, 1, s->max_cpu),
			      rnd_int(r, 10, s->max_mem));
	int groups = rnd_int(r, 1, 3);
	if (rnd_pct(r, 30))
		j->type = NOMAD__JOB_TYPE__batch;
	CHECK(nmd_pb_set_string(NULL, &j->datacenters[0], PICK(r, dcsets)));
	for (int g = 1; g < groups; g++) {
		nomad_task_group *tg = NULL;
		char name[16];
		CHECK_OK(nomad_msg_copy((ProtobufCMessage **)&tg,
					&j->taskgroups[0]->base, NULL));
		snprintf(name, sizeof(name), "g%d", g);
		CHECK(nmd_pb_set_string(NULL, &tg->name, name));
		tg->count = rnd_int(r, 0, s->max_count);
		tg->tasks[0]->resources->cpu = rnd_int(r, 1, s->max_cpu);
		tg->tasks[0]->resources->memorymb = rnd_int(r, 10, s->max_mem);
		tg->ephemeraldisk->sizemb = rnd_int(r, 10, 500);
		CHECK(NMD_PB_APPEND(NULL, j->taskgroups, j->n_taskgroups, tg));
	}
	for (size_t g = 0; g < j->n_taskgroups; g++) {
		nomad_task_group *tg = j->taskgroups[g];
		if (s->constraints)
			for (int k = rnd_pct(r, 50) ? rnd_int(r, 1, 2) : 0; k > 0;
			     k--)
				add_random_constraint(r, j, g);
		if (s->constraints && rnd_pct(r, 15)) {
			Nomad__Constraint *x =
				constraint(NULL, "distinct_hosts", NULL);
			CHECK(NMD_PB_APPEND(NULL, tg->constraints,
					    tg->n_constraints, x));
		}
		if (s->ports && rnd_pct(r, 40)) {
			char label[48];
			snprintf(label, sizeof(label), "s%zu", g);
			add_port(tg, label,
				 rnd_int(r, STATIC_LO, STATIC_HI));
		}
		for (int k = s->ports ? rnd_int(r, 0, 2) : 0; k > 0; k--) {
			char label[48];
			snprintf(label, sizeof(label), "d%zu_%d", g, k);
			add_port(tg, label, 0);
		}
		if (s->scores && rnd_pct(r, 40)) {
			Nomad__Spread *sp =
				nmd_pb_new(&nomad__spread__descriptor, NULL);
			CHECK(nmd_pb_set_string(NULL, &sp->attribute,
						"${meta.rack}"));
			sp->has_weight = 1;
			sp->weight = rnd_int(r, 1, 100);
			if (rnd_pct(r, 50)) {
				Nomad__SpreadTarget *t = nmd_pb_new(
					&nomad__spread_target__descriptor, NULL);
				CHECK(nmd_pb_set_string(NULL, &t->value, "r1"));
				t->has_percent = 1;
				t->percent = rnd_int(r, 0, 100);
				CHECK(NMD_PB_APPEND(NULL, sp->spreadtarget,
						    sp->n_spreadtarget, t));
			}
			CHECK(NMD_PB_APPEND(NULL, tg->spreads, tg->n_spreads, sp));
		}
	}
	if (s->scores && rnd_pct(r, 40)) {
		Nomad__Affinity *a = nmd_pb_new(&nomad__affinity__descriptor, NULL);
		CHECK(nmd_pb_set_string(NULL, &a->ltarget, "${node.class}"));
		CHECK(nmd_pb_set_string(NULL, &a->operand, "="));
		CHECK(nmd_pb_set_string(NULL, &a->rtarget, "large"));
		a->has_weight = 1;
		a->weight = rnd_int(r, -100, 100);
		CHECK(NMD_PB_APPEND(NULL, j->affinities, j->n_affinities, a));
	}
	return j;
}

/* Register and schedule `n_jobs` random jobs "j0", "j1", ... */
static void schedule_random_jobs(struct th_cluster *c, struct rnd *r,
				 int n_jobs, const struct job_shape *s)
{
	for (int i = 0; i < n_jobs; i++) {
		char id[16];
		snprintf(id, sizeof(id), "j%d", i);
		th_register(c, random_job(r, id, s));
		th_run_ok(c, id, rnd_next(r));
	}
}

/* ---- the checks --------------------------------------------------------------- */

static bool live(const nomad_alloc *a)
{
	return a->desiredstatus == NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run &&
	       a->clientstatus != NOMAD__ALLOCATION__CLIENT_STATUS_KIND__complete &&
	       a->clientstatus != NOMAD__ALLOCATION__CLIENT_STATUS_KIND__failed &&
	       a->clientstatus != NOMAD__ALLOCATION__CLIENT_STATUS_KIND__lost;
}

static bool reserved_on(const nomad_node *n, int port)
{
	const char *spec = n->reservedresources &&
				   n->reservedresources->networks
			   ? n->reservedresources->networks->reservedhostports
			   : NULL;
	while (spec && *spec) {
		char *end;
		long lo = strtol(spec, &end, 10), hi = lo;
		if (*end == '-')
			hi = strtol(end + 1, &end, 10);
		if (port >= lo && port <= hi)
			return true;
		spec = *end == ',' ? end + 1 : end;
		if (*spec && *spec != ',' && (*spec < '0' || *spec > '9'))
			break;
	}
	return false;
}

/* No node holds more than it has; no host port is used twice on a node,
 * nor one the node reserves; dynamic ports are in the node's range. */
static void check_no_overcommit(struct th_cluster *c, uint64_t seed)
{
	for (size_t k = 0; k < c->n_nodes; k++) {
		const nomad_node *n = c->nodes[k];
		const Nomad__NodeResources *nr = n->noderesources;
		int64_t cpu = 0, mem = 0, disk = 0;
		int lo = nr->has_mindynamicport ? nr->mindynamicport : 20000;
		int hi = nr->has_maxdynamicport ? nr->maxdynamicport : 32000;
		char *used = calloc(65536, 1);
		CHECK(used != NULL);
		for (size_t i = 0; i < c->n_allocs; i++) {
			const nomad_alloc *a = c->allocs[i];
			const Nomad__AllocatedResources *ar = a->allocatedresources;
			if (strcmp(a->nodeid, n->id) || !live(a))
				continue;
			for (size_t t = 0; t < ar->n_tasks; t++) {
				cpu += ar->tasks[t]->value->cpu->cpushares;
				mem += ar->tasks[t]->value->memory->memorymb;
			}
			disk += ar->shared->diskmb;
			for (size_t p = 0; p < ar->shared->n_ports; p++) {
				const Nomad__AllocatedPortMapping *pm =
					ar->shared->ports[p];
				if (used[pm->value])
					nmd_test_fail(__FILE__, __LINE__,
						      "seed %" PRIu64 ": port %d "
						      "twice on %s", seed,
						      pm->value, n->name);
				used[pm->value] = 1;
				CHECK(!reserved_on(n, pm->value));
				if (pm->label[0] == 'd')
					CHECK(pm->value >= lo && pm->value <= hi);
			}
		}
		free(used);
		if (cpu > nr->cpu->cpushares || mem > nr->memory->memorymb ||
		    disk > nr->disk->diskmb)
			nmd_test_fail(__FILE__, __LINE__,
				      "seed %" PRIu64 ": %s holds %lld/%lld/%lld "
				      "of %lld/%lld/%lld", seed, n->name,
				      (long long)cpu, (long long)mem,
				      (long long)disk,
				      (long long)nr->cpu->cpushares,
				      (long long)nr->memory->memorymb,
				      (long long)nr->disk->diskmb);
	}
}

static const nomad_node *node_by_id(struct th_cluster *c, const char *id)
{
	for (size_t k = 0; k < c->n_nodes; k++)
		if (!strcmp(c->nodes[k]->id, id))
			return c->nodes[k];
	return NULL;
}

static void check_list(const nomad_node *n, Nomad__Constraint *const *cs,
		       size_t count, const nomad_alloc *a, uint64_t seed)
{
	for (size_t i = 0; i < count; i++) {
		char text[256];
		if (cs[i]->operand && (!strcmp(cs[i]->operand, "distinct_hosts") ||
				       !strcmp(cs[i]->operand,
					       "distinct_property")))
			continue;
		if (!nmd_sched_constraint_holds(NULL, n, cs[i]))
			nmd_test_fail(__FILE__, __LINE__,
				      "seed %" PRIu64 ": %s on %s breaks %s",
				      seed, a->name, n->name,
				      nmd_sched_constraint_string(cs[i], text,
								  sizeof(text)));
	}
}

static bool has_distinct(Nomad__Constraint *const *cs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (cs[i]->operand && !strcmp(cs[i]->operand, "distinct_hosts"))
			return true;
	return false;
}

/* Every live allocation sits on a node it may use. */
static void check_placements(struct th_cluster *c, uint64_t seed)
{
	for (size_t i = 0; i < c->n_allocs; i++) {
		const nomad_alloc *a = c->allocs[i];
		const nomad_job *j = a->job;
		const nomad_node *n = node_by_id(c, a->nodeid);
		const nomad_task_group *tg = NULL;
		bool dc_ok = false;
		if (!live(a))
			continue;
		CHECK(j != NULL && n != NULL);
		for (size_t g = 0; g < j->n_taskgroups; g++)
			if (!strcmp(j->taskgroups[g]->name, a->taskgroup))
				tg = j->taskgroups[g];
		CHECK(tg != NULL);
		CHECK_INT(n->status, NOMAD__NODE__STATUS_KIND__ready);
		CHECK_INT(n->schedulingeligibility,
			  NOMAD__NODE__ELIGIBILITY_KIND__eligible);
		for (size_t d = 0; d < j->n_datacenters; d++)
			dc_ok |= fnmatch(j->datacenters[d], n->datacenter, 0) == 0;
		CHECK(dc_ok);
		CHECK_STR(nomad_map_get(n->attributes, n->n_attributes,
					"driver.docker"), "1");
		check_list(n, j->constraints, j->n_constraints, a, seed);
		check_list(n, tg->constraints, tg->n_constraints, a, seed);
		for (size_t t = 0; t < tg->n_tasks; t++)
			check_list(n, tg->tasks[t]->constraints,
				   tg->tasks[t]->n_constraints, a, seed);
		/* distinct_hosts: no other live allocation of the job (job
		 * level) or of the group (group level) on the node. */
		for (size_t k = 0; k < c->n_allocs; k++) {
			const nomad_alloc *b = c->allocs[k];
			if (b == a || !live(b) || strcmp(b->jobid, a->jobid) ||
			    strcmp(b->nodeid, a->nodeid))
				continue;
			CHECK(!has_distinct(j->constraints, j->n_constraints));
			if (!strcmp(b->taskgroup, a->taskgroup))
				CHECK(!has_distinct(tg->constraints,
						    tg->n_constraints));
		}
	}
}

static size_t running_in_group(struct th_cluster *c, const char *job,
			       const char *group)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n_allocs; i++)
		n += live(c->allocs[i]) && !strcmp(c->allocs[i]->jobid, job) &&
		     !strcmp(c->allocs[i]->taskgroup, group);
	return n;
}

/* ---- the properties ------------------------------------------------------------ */

NMD_TEST(test_sched_properties__no_overcommit)
{
	static const struct job_shape shape = {true, true, true, 8, 3000, 3000};
	for (uint64_t seed = 1; seed <= 40; seed++) {
		struct rnd r = {seed};
		struct th_cluster *c = random_cluster(&r, 1, 12, false);
		schedule_random_jobs(c, &r, rnd_int(&r, 1, 6), &shape);
		check_no_overcommit(c, seed);
		th_free(c);
	}
}

NMD_TEST(test_sched_properties__placements_satisfy_constraints)
{
	static const struct job_shape shape = {true, true, true, 6, 2000, 2000};
	for (uint64_t seed = 100; seed < 140; seed++) {
		struct rnd r = {seed};
		struct th_cluster *c = random_cluster(&r, 1, 12, false);
		schedule_random_jobs(c, &r, rnd_int(&r, 1, 6), &shape);
		check_placements(c, seed);
		th_free(c);
	}
}

NMD_TEST(test_sched_properties__counts_met_when_room)
{
	/* Roomy nodes, all usable, jobs without constraints or static
	 * ports: every group gets its count, and no placement fails. */
	static const struct job_shape shape = {false, false, true, 10, 500, 500};
	for (uint64_t seed = 200; seed < 240; seed++) {
		struct rnd r = {seed};
		struct th_cluster *c = th_new();
		int n_nodes = rnd_int(&r, 1, 10), n_jobs = rnd_int(&r, 1, 5);
		for (int i = 0; i < n_nodes; i++) {
			char name[16];
			snprintf(name, sizeof(name), "n%d", i);
			th_add_node(c, name, rnd_pct(&r, 50) ? "dc1" : "dc2",
				    64000, 65536, 100000);
		}
		for (int i = 0; i < n_jobs; i++) {
			char id[16];
			nomad_job *j;
			snprintf(id, sizeof(id), "j%d", i);
			j = random_job(&r, id, &shape);
			CHECK(nmd_pb_set_string(NULL, &j->datacenters[0], "dc*"));
			th_register(c, j);
			th_run_ok(c, id, rnd_next(&r));
			CHECK_INT(th_last_update(c)->n_failedtgallocs, 0);
		}
		for (size_t k = 0; k < c->n_jobs; k++) {
			const nomad_job *j = c->jobs[k];
			for (size_t g = 0; g < j->n_taskgroups; g++)
				CHECK_INT(running_in_group(c, j->id,
							   j->taskgroups[g]->name),
					  j->taskgroups[g]->count);
		}
		check_no_overcommit(c, seed);
		th_free(c);
	}
}

NMD_TEST(test_sched_properties__counts_met_after_scaling_and_failures)
{
	/* The same after scaling every group and failing some allocations
	 * (an unlimited policy replaces them at once), within two
	 * evaluations. */
	static const struct job_shape shape = {false, false, false, 8, 400, 400};
	for (uint64_t seed = 300; seed < 330; seed++) {
		struct rnd r = {seed};
		struct th_cluster *c = th_new();
		nomad_job *j, *k;
		for (int i = 0; i < rnd_int(&r, 1, 6); i++) {
			char name[16];
			snprintf(name, sizeof(name), "n%d", i);
			th_add_node(c, name, "dc1", 64000, 65536, 100000);
		}
		j = random_job(&r, "app", &shape);
		CHECK(nmd_pb_set_string(NULL, &j->datacenters[0], "dc1"));
		CHECK_OK(nomad_job_copy(&k, j));
		th_register(c, j);
		th_run_ok(c, "app", rnd_next(&r));
		for (size_t i = 0; i < c->n_allocs; i++)
			if (rnd_pct(&r, 30)) {
				c->allocs[i]->clientstatus =
					NOMAD__ALLOCATION__CLIENT_STATUS_KIND__failed;
				c->allocs[i]->modifytime =
					1700000000000000000LL - 3600000000000LL;
			}
		for (size_t g = 0; g < k->n_taskgroups; g++) {
			Nomad__ReschedulePolicy *p = nmd_pb_new(
				&nomad__reschedule_policy__descriptor, NULL);
			p->has_unlimited = p->has_delay = 1;
			p->unlimited = 1;
			p->delay = 5000000000LL;
			k->taskgroups[g]->reschedulepolicy = p;
			k->taskgroups[g]->count = rnd_int(&r, 0, 12);
		}
		th_register(c, k);
		th_run_ok(c, "app", rnd_next(&r));
		/* As in Nomad, an evaluation that both reschedules and scales
		 * down stops the excess only among the allocations that were
		 * running (computeStop before computePlacements); the next
		 * evaluation stops the rest. */
		th_run_ok(c, "app", rnd_next(&r));
		for (size_t g = 0; g < k->n_taskgroups; g++)
			CHECK_INT(running_in_group(c, "app", k->taskgroups[g]->name),
				  k->taskgroups[g]->count);
		check_no_overcommit(c, seed);
		th_free(c);
	}
}

/* Every plan and every evaluation the scheduler produced for a random
 * scenario, packed one after another. */
static uint8_t *scenario_bytes(uint64_t seed, size_t *len)
{
	static const struct job_shape shape = {true, true, true, 8, 3000, 3000};
	struct rnd r = {seed};
	struct th_cluster *c = random_cluster(&r, 3, 15, false);
	uint8_t *all = NULL;
	*len = 0;
	schedule_random_jobs(c, &r, 4, &shape);
	for (size_t i = 0; i < c->n_plans + c->n_created + c->n_updated; i++) {
		const ProtobufCMessage *m =
			i < c->n_plans ? &c->plans[i]->base
			: i < c->n_plans + c->n_created
				? &c->created[i - c->n_plans]->base
				: &c->updated[i - c->n_plans - c->n_created]->base;
		uint8_t *one;
		size_t n;
		CHECK_OK(nomad_msg_pack(m, NULL, &one, &n));
		all = realloc(all, *len + n + 1);
		CHECK(all != NULL);
		memcpy(all + *len, one, n);
		*len += n;
		nomad_free(one);
	}
	th_free(c);
	return all;
}

NMD_TEST(test_sched_properties__same_seed_same_bytes)
{
	for (uint64_t seed = 400; seed < 425; seed++) {
		size_t a_len, b_len;
		uint8_t *a = scenario_bytes(seed, &a_len);
		uint8_t *b = scenario_bytes(seed, &b_len);
		if (a_len != b_len || (a_len && memcmp(a, b, a_len)))
			nmd_test_fail(__FILE__, __LINE__,
				      "seed %" PRIu64 ": runs differ", seed);
		free(a);
		free(b);
	}
}

/* ---- bad input ------------------------------------------------------------------ */

/* The job the bad ones are made from, canonicalised: it validates. */
static nomad_job *good_job(const char *id)
{
	nomad_job *j = th_job(id, 2, 100, 128);
	nomad_error err;
	CHECK_OK(nomad_job_canonicalize(j, &err));
	if (nomad_job_validate(j, NULL, &err) != NOMAD_OK)
		nmd_test_fail(__FILE__, __LINE__, "base job invalid: %s",
			      err.message);
	return j;
}

/* `j` fails validation with a message naming `what`. */
static void check_invalid(const nomad_job *j, const char *what)
{
	nomad_error err;
	memset(&err, 0, sizeof(err));
	CHECK_INT(nomad_job_validate(j, NULL, &err), NOMAD_EINVAL);
	CHECK_CONTAINS(err.message, what);
}

/* Schedule `j` on a small cluster anyway: it must end in an error with a
 * message, or in an evaluation whose failed placements say why; never
 * in a crash, and never over-committing a node. */
static void schedule_anyway(nomad_job *j, bool want_failure)
{
	struct th_cluster *c = th_new();
	char id[128];
	nomad_error err;
	nomad_err rc;
	snprintf(id, sizeof(id), "%s", j->id);
	th_add_node(c, "a", "dc1", 4000, 4096, 10000);
	th_add_node(c, "b", "dc1", 4000, 4096, 10000);
	th_register(c, j);
	memset(&err, 0, sizeof(err));
	rc = th_run(c, id, 1, &err);
	if (rc != NOMAD_OK) {
		CHECK(err.message[0] != '\0');
	} else {
		const nomad_eval *done = th_last_update(c);
		CHECK(done != NULL);
		CHECK_INT(done->status, NOMAD__EVALUATION__STATUS_KIND__complete);
		for (size_t i = 0; i < done->n_failedtgallocs; i++) {
			const Nomad__AllocationMetric *m =
				done->failedtgallocs[i]->value;
			CHECK(m->n_constraintfiltered || m->n_dimensionexhausted ||
			      m->nodesevaluated == 0);
		}
		if (want_failure)
			CHECK(done->n_failedtgallocs > 0);
	}
	check_no_overcommit(c, 0);
	check_placements(c, 0);
	th_free(c);
}

NMD_TEST(test_sched_properties__job_without_groups)
{
	nomad_job *j = good_job("empty");
	for (size_t g = 0; g < j->n_taskgroups; g++)
		nmd_pb_free(j->taskgroups[g], NULL);
	j->n_taskgroups = 0;
	check_invalid(j, "group");
	schedule_anyway(j, false);
}

NMD_TEST(test_sched_properties__negative_count)
{
	nomad_job *j = good_job("neg");
	j->taskgroups[0]->count = -3;
	check_invalid(j, "count");
	schedule_anyway(j, false);
}

NMD_TEST(test_sched_properties__task_without_resources)
{
	nomad_job *j = good_job("zero");
	j->taskgroups[0]->tasks[0]->resources->cpu = 0;
	j->taskgroups[0]->tasks[0]->resources->memorymb = 0;
	check_invalid(j, "cpu");
	schedule_anyway(j, false);
}

NMD_TEST(test_sched_properties__group_without_tasks)
{
	nomad_job *j = good_job("notask");
	nomad_task_group *tg = j->taskgroups[0];
	for (size_t t = 0; t < tg->n_tasks; t++)
		nmd_pb_free(tg->tasks[t], NULL);
	tg->n_tasks = 0;
	check_invalid(j, "task");
	schedule_anyway(j, false);
}

NMD_TEST(test_sched_properties__node_without_resources)
{
	/* The only node has nothing: a failed placement saying which
	 * dimension ran out. */
	struct th_cluster *c = th_new();
	const Nomad__AllocationMetric *m;
	th_add_node(c, "empty", "dc1", 0, 0, 0);
	th_register(c, th_job("web", 1, 100, 100));
	th_run_ok(c, "web", 1);
	CHECK_INT(th_running(c, "web"), 0);
	m = th_last_update(c)->failedtgallocs[0]->value;
	CHECK_INT(m->nodesexhausted, 1);
	CHECK_INT(m->n_dimensionexhausted, 1);
	CHECK_STR(m->dimensionexhausted[0]->key, "cpu");
	CHECK_INT(c->n_created, 1);
	th_free(c);
}

/* A job with one bad constraint at `level` (0 job, 1 group, 2 task). */
static nomad_job *bad_constraint(const char *id, int level, const char *l,
				 const char *op, const char *r)
{
	nomad_job *j = good_job(id);
	Nomad__Constraint *k = constraint(l, op, r);
	nomad_task_group *tg = j->taskgroups[0];
	if (level == 0)
		CHECK(NMD_PB_APPEND(NULL, j->constraints, j->n_constraints, k));
	else if (level == 1)
		CHECK(NMD_PB_APPEND(NULL, tg->constraints, tg->n_constraints, k));
	else
		CHECK(NMD_PB_APPEND(NULL, tg->tasks[0]->constraints,
				    tg->tasks[0]->n_constraints, k));
	return j;
}

NMD_TEST(test_sched_properties__bad_constraints_fail_with_a_reason)
{
	static const struct {
		const char *l, *op, *r, *problem;
	} bad[] = {
		{"${attr.kernel.name}", "~=", "linux", "unknown constraint type"},
		{"${attr.kernel.name}", "regexp", "([a-",
		 "regular expression failed to compile"},
		{"${attr.kernel.name}", "regexp", "a{2,1}",
		 "regular expression failed to compile"},
		{"${attr.nomad.version}", "version", "~~ one.two",
		 "version constraint is invalid"},
		{"${attr.nomad.version}", "version", ">= 1.0,",
		 "version constraint is invalid"},
		{"${attr.nomad.version}", "semver", "~> 1.2",
		 "semver constraint is invalid"},
		{"${attr.nomad.version}", "semver", "1.2.3.4.5",
		 "semver constraint is invalid"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		for (int level = 0; level < 3; level++) {
			nomad_job *j = bad_constraint("bad", level, bad[i].l,
						      bad[i].op, bad[i].r);
			struct th_cluster *c = th_new();
			const nomad_eval *done;
			const Nomad__AllocationMetric *m;
			char key[256];
			th_set_attr(th_add_node(c, "a", "dc1", 4000, 4096, 10000),
				    "nomad.version", "1.2.3");
			th_node_changed(c, c->nodes[0]);
			check_invalid(j, bad[i].problem);
			th_register(c, j);
			th_run_ok(c, "bad", 1);
			/* Nothing placed; the reason is the constraint. */
			CHECK_INT(th_running(c, "bad"), 0);
			done = th_last_update(c);
			CHECK_INT(done->n_failedtgallocs, 1);
			m = done->failedtgallocs[0]->value;
			CHECK_INT(m->nodesfiltered, 1);
			snprintf(key, sizeof(key), "%s %s %s", bad[i].l, bad[i].op,
				 bad[i].r);
			CHECK_INT(m->n_constraintfiltered, 1);
			CHECK_STR(m->constraintfiltered[0]->key, key);
			th_free(c);
		}
}

NMD_TEST(test_sched_properties__odd_specs_do_not_crash)
{
	/* Shapes a validated job never has, straight to the scheduler:
	 * constraints with missing parts, an empty operand, affinities and
	 * spreads with odd weights and targets, dozens of ports, a huge
	 * count. Any outcome but a crash (or an over-committed node). */
	for (int shape = 0; shape < 10; shape++) {
		nomad_job *j = good_job("odd");
		nomad_task_group *tg = j->taskgroups[0];
		switch (shape) {
		case 0:
			CHECK(NMD_PB_APPEND(NULL, j->constraints, j->n_constraints,
					    constraint(NULL, "=", NULL)));
			break;
		case 1:
			CHECK(NMD_PB_APPEND(NULL, j->constraints, j->n_constraints,
					    constraint("${attr.kernel.name}", NULL,
						       "linux")));
			break;
		case 2:
			CHECK(NMD_PB_APPEND(NULL, tg->constraints,
					    tg->n_constraints,
					    constraint("${", "regexp", "${")));
			break;
		case 3: {
			Nomad__Affinity *a =
				nmd_pb_new(&nomad__affinity__descriptor, NULL);
			CHECK(nmd_pb_set_string(NULL, &a->operand, "bogus"));
			a->has_weight = 1;
			a->weight = 0;
			CHECK(NMD_PB_APPEND(NULL, j->affinities, j->n_affinities, a));
			break;
		}
		case 4: {
			Nomad__Spread *s = nmd_pb_new(&nomad__spread__descriptor,
						      NULL);
			Nomad__SpreadTarget *t = nmd_pb_new(
				&nomad__spread_target__descriptor, NULL);
			t->has_percent = 1;
			t->percent = 250;
			CHECK(NMD_PB_APPEND(NULL, s->spreadtarget,
					    s->n_spreadtarget, t));
			s->has_weight = 1;
			s->weight = -5;
			CHECK(NMD_PB_APPEND(NULL, tg->spreads, tg->n_spreads, s));
			break;
		}
		case 5:
			for (int p = 0; p < 70; p++) {
				char label[16];
				snprintf(label, sizeof(label), "p%d", p);
				add_port(tg, label, p % 2 ? 0 : STATIC_LO + p);
			}
			break;
		case 6:
			tg->count = 3000;
			break;
		case 7:
			nmd_pb_free(tg->tasks[0]->resources, NULL);
			tg->tasks[0]->resources = NULL;
			nmd_pb_free(tg->ephemeraldisk, NULL);
			tg->ephemeraldisk = NULL;
			break;
		case 8:
			tg->tasks[0]->resources->cpu = -100;
			tg->tasks[0]->resources->memorymb = -100;
			break;
		default:
			CHECK(nmd_pb_set_string(NULL, &j->datacenters[0], "[dc"));
			CHECK(nmd_pb_set_string(NULL, &j->nodepool, ""));
			break;
		}
		schedule_anyway(j, false);
	}
}

NMD_TEST(test_sched_properties__random_garbage_constraints)
{
	/* Random operands, patterns and versions, valid or not, on random
	 * clusters: no crash, nothing over-committed, and what is placed
	 * satisfies what it was asked. */
	static const char *const ops[] = {
		"=", "!=", "<", ">=", "version", "semver", "regexp",
		"set_contains", "set_contains_any", "is_set", "is_not_set",
		"distinct_hosts", "", "==", "nope", "~>", "regex"};
	static const char *const lefts[] = {
		"${attr.nomad.version}", "${meta.rack}", "${meta.tags}",
		"${node.class}", "${attr.cpu.numcores}", "${attr.missing}",
		"${node.unique.name}", "literal", "${", "${meta.}"};
	static const char *const rights[] = {
		">= 1.6", "~> 1.5", "< 2.0.0", "((", "^r[0-9]+$", "a,b", "4",
		"r1", "", "1.2.3.4.5", "[[:alpha:]]", "(?i)R1", "x{1000}",
		">= 1.0, < , 2", "*", "${attr.cpu.numcores}"};
	static const struct job_shape shape = {false, true, true, 6, 1500, 1500};
	for (uint64_t seed = 500; seed < 540; seed++) {
		struct rnd r = {seed};
		struct th_cluster *c = random_cluster(&r, 1, 8, false);
		for (int i = 0; i < 4; i++) {
			char id[16];
			nomad_job *j;
			snprintf(id, sizeof(id), "g%d", i);
			j = random_job(&r, id, &shape);
			for (int k = rnd_int(&r, 1, 3); k > 0; k--) {
				Nomad__Constraint *x = constraint(
					PICK(&r, lefts), PICK(&r, ops),
					PICK(&r, rights));
				nomad_task_group *tg =
					j->taskgroups[rnd_next(&r) % j->n_taskgroups];
				CHECK(NMD_PB_APPEND(NULL, tg->constraints,
						    tg->n_constraints, x));
			}
			th_register(c, j);
			th_run_ok(c, id, rnd_next(&r));
		}
		check_no_overcommit(c, seed);
		check_placements(c, seed);
		th_free(c);
	}
}
