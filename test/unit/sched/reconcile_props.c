/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The reconciler under random histories: a job scaled, updated in place
 * and destructively, with and without canaries; allocations that turn
 * healthy, unhealthy or fail; nodes that go down, come back and drain;
 * deployments promoted. After every evaluation the cluster must hold:
 *
 *   - no node over its cpu or memory;
 *   - no more allocations meant to run than the count, plus the canaries
 *     while the deployment waits for promotion;
 *   - no two allocations meant to run with the same name, as long as no
 *     canary ever ran (a promoted canary of a cancelled deployment and
 *     the allocation it stood in for may share a name, as in Nomad);
 *   - with no update block, no node down and no failure (failed
 *     allocations without a reschedule policy stay failed), exactly the
 *     count.
 *
 * And the same history with the same seeds gives the same plans, byte for
 * byte.
 */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "structs/pb.h"
#include "harness.h"

#define DS_RUN NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run
#define CS(x) NOMAD__ALLOCATION__CLIENT_STATUS_KIND__##x

static uint64_t next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static unsigned pick(uint64_t *s, unsigned n)
{
	return (unsigned)(next(s) % n);
}

struct spec {
	int count, cpu, priority;
	int max_parallel, canary; /* max_parallel 0: no update block */
};

static nomad_job *build(const struct spec *sp)
{
	nomad_job *j = th_job("web", sp->count, sp->cpu, 128);
	j->priority = sp->priority;
	if (sp->max_parallel)
		th_update(j, sp->max_parallel, sp->canary, false);
	return j;
}

static bool live(const nomad_alloc *a)
{
	return a->desiredstatus == DS_RUN && a->clientstatus != CS(complete) &&
	       a->clientstatus != CS(failed) && a->clientstatus != CS(lost);
}

static bool is_canary(const nomad_alloc *a)
{
	return a->deploymentstatus && a->deploymentstatus->canary;
}

static void check_invariants(struct th_cluster *c, const struct spec *sp,
			     int down_nodes, bool failed, bool canaried,
			     unsigned step)
{
	size_t n_live = 0;
	const nomad_deployment *d = th_deployment(c, "web");
	const Nomad__DeploymentState *st =
		d && d->n_taskgroups ? d->taskgroups[0]->value : NULL;
	bool waiting = d && st && st->desiredcanaries && !st->promoted &&
		       (d->status == NOMAD__DEPLOYMENT__STATUS_KIND__running ||
			d->status == NOMAD__DEPLOYMENT__STATUS_KIND__paused);
	long allowed = sp->count + (waiting ? st->desiredcanaries : 0);
	for (size_t k = 0; k < c->n_nodes; k++) {
		int64_t cpu = 0, mem = 0;
		for (size_t i = 0; i < c->n_allocs; i++) {
			const nomad_alloc *a = c->allocs[i];
			const nomad_job *j = a->job;
			if (!live(a) || strcmp(a->nodeid, c->nodes[k]->id))
				continue;
			cpu += j->taskgroups[0]->tasks[0]->resources->cpu;
			mem += j->taskgroups[0]->tasks[0]->resources->memorymb;
		}
		if (cpu > c->snodes[k].cpu_mhz || mem > c->snodes[k].memory_mb)
			nmd_test_fail(__FILE__, __LINE__,
				      "step %u: node %zu over: cpu %lld mem %lld",
				      step, k, (long long)cpu, (long long)mem);
	}
	for (size_t i = 0; i < c->n_allocs; i++) {
		const nomad_alloc *a = c->allocs[i];
		if (!live(a) || a->clientstatus == CS(unknown))
			continue;
		n_live++;
		for (size_t k = i + 1; k < c->n_allocs; k++) {
			const nomad_alloc *b = c->allocs[k];
			if (!canaried && live(b) && b->clientstatus != CS(unknown) &&
			    !strcmp(a->name, b->name) && !is_canary(a) &&
			    !is_canary(b))
				nmd_test_fail(__FILE__, __LINE__,
					      "step %u: two live allocations "
					      "named %s", step, a->name);
		}
	}
	if ((long)n_live > allowed)
		nmd_test_fail(__FILE__, __LINE__,
			      "step %u: %zu live allocations, at most %ld",
			      step, n_live, allowed);
	if (!sp->max_parallel && !down_nodes && !failed &&
	    (long)n_live != sp->count)
		nmd_test_fail(__FILE__, __LINE__,
			      "step %u: %zu live allocations, count %d", step,
			      n_live, sp->count);
}

static nomad_alloc *random_live(struct th_cluster *c, uint64_t *s)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n_allocs; i++)
		n += live(c->allocs[i]);
	if (!n)
		return NULL;
	n = pick(s, (unsigned)n);
	for (size_t i = 0; i < c->n_allocs; i++)
		if (live(c->allocs[i]) && n-- == 0)
			return c->allocs[i];
	return NULL;
}

/* One random event. */
static void event(struct th_cluster *c, struct spec *sp, uint64_t *s,
		  int *down_nodes, bool *failed)
{
	nomad_alloc *a;
	switch (pick(s, 9)) {
	case 0: /* scale */
		sp->count = 1 + (int)pick(s, 8);
		th_register(c, build(sp));
		break;
	case 1: /* destructive */
		sp->cpu = 100 + 50 * (int)pick(s, 6);
		th_register(c, build(sp));
		break;
	case 2: /* in place */
		sp->priority = 40 + (int)pick(s, 30);
		th_register(c, build(sp));
		break;
	case 3:
		th_all_healthy(c, "web");
		break;
	case 4:
		if ((a = random_live(c, s)))
			th_set_health(c, a, pick(s, 4) != 0);
		break;
	case 5:
		if ((a = random_live(c, s))) {
			*failed = true;
			a->clientstatus = CS(failed);
			a->modifytime = TH_NOW - 3600000000000LL;
		}
		break;
	case 6: { /* a node goes down, or comes back */
		nomad_node *n = c->nodes[pick(s, (unsigned)c->n_nodes)];
		bool down = n->status == NOMAD__NODE__STATUS_KIND__down;
		n->status = down ? NOMAD__NODE__STATUS_KIND__ready
				 : NOMAD__NODE__STATUS_KIND__down;
		*down_nodes += down ? -1 : 1;
		th_node_changed(c, n);
		break;
	}
	case 7:
		if (th_deployment(c, "web"))
			th_promote(c, "web");
		break;
	default: /* the update block changes */
		sp->max_parallel = (int)pick(s, 3);
		sp->canary = sp->max_parallel ? (int)pick(s, 3) : 0;
		th_register(c, build(sp));
		break;
	}
}

/* Run one random history of `steps` events; the plans' bytes, appended
 * to *out when it is not NULL. */
static void history(uint64_t seed, unsigned steps, uint8_t **out, size_t *len)
{
	struct th_cluster *c = th_new();
	struct spec sp = {3, 100, 50, 0, 0};
	uint64_t s = seed;
	int down = 0;
	bool failed = false, canaried = false;
	for (int i = 0; i < 6; i++) {
		char name[16];
		snprintf(name, sizeof(name), "n%d", i);
		th_add_node(c, name, "dc1", 1000, 4096, 100000);
	}
	th_register(c, build(&sp));
	for (unsigned step = 0; step < steps; step++) {
		nomad_error err;
		size_t before = c->n_plans;
		if (th_run(c, "web", seed + step, &err) != NOMAD_OK)
			nmd_test_fail(__FILE__, __LINE__, "step %u: %s", step,
				      err.message);
		canaried = canaried || sp.canary;
		check_invariants(c, &sp, down, failed, canaried, step);
		for (size_t p = before; out && p < c->n_plans; p++) {
			uint8_t *buf;
			size_t n;
			CHECK_OK(nomad_msg_pack(&c->plans[p]->base, NULL, &buf, &n));
			*out = realloc(*out, *len + n);
			CHECK(*out != NULL);
			memcpy(*out + *len, buf, n);
			*len += n;
			nomad_free(buf);
		}
		event(c, &sp, &s, &down, &failed);
	}
	th_free(c);
}

NMD_TEST(test_sched_reconcile_props__random_histories_hold)
{
	for (uint64_t seed = 1; seed <= 200; seed++)
		history(seed, 60, NULL, NULL);
}

NMD_TEST(test_sched_reconcile_props__same_history_same_plans)
{
	for (uint64_t seed = 100; seed < 105; seed++) {
		uint8_t *a = NULL, *b = NULL;
		size_t na = 0, nb = 0;
		history(seed, 30, &a, &na);
		history(seed, 30, &b, &nb);
		CHECK(na > 0);
		CHECK_INT(na, nb);
		CHECK(memcmp(a, b, na) == 0);
		free(a);
		free(b);
	}
}
