/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Devices: requests by type, vendor/type and vendor/type/name; healthy
 * instances only; constraints and affinities on typed attributes (units
 * included); the instance IDs written into AllocatedResources; the
 * metrics when a node has no such devices or none left; and, placing many
 * allocations over few nodes across evaluations, that no instance is
 * ever given to two allocations.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "structs/pb.h"
#include "harness.h"

static nomad_job *gpu_job(const char *id, int count, const char *device,
			  int n)
{
	nomad_job *j = th_job(id, count, 100, 64);
	th_ask_device(j->taskgroups[0]->tasks[0], device, n);
	return j;
}

/* The devices given to task 0 of `a`. */
static const Nomad__AllocatedTaskResources *task0(const nomad_alloc *a)
{
	return a->allocatedresources->tasks[0]->value;
}

static const char *node_name(struct th_cluster *c, const char *id)
{
	for (size_t k = 0; k < c->n_nodes; k++)
		if (!strcmp(c->nodes[k]->id, id))
			return c->nodes[k]->name;
	return "";
}

NMD_TEST(test_sched_devices__placed_with_instance_ids)
{
	struct th_cluster *c = th_new();
	nomad_node *n;
	const nomad_alloc *a;
	const Nomad__AllocatedDeviceResource *d;
	th_add_node(c, "plain", "dc1", 8000, 8192, 100000);
	n = th_add_node(c, "gpu", "dc1", 8000, 8192, 100000);
	th_add_devices(n, "nvidia", "gpu", "1080ti", 2);
	th_node_changed(c, n);
	th_register(c, gpu_job("train", 1, "nvidia/gpu", 2));
	th_run_ok(c, "train", 1);
	a = th_alloc_named(c, "train.web[0]");
	CHECK(a != NULL);
	CHECK_STR(node_name(c, a->nodeid), "gpu");
	CHECK_INT(task0(a)->n_devices, 1);
	d = task0(a)->devices[0];
	CHECK_STR(d->vendor, "nvidia");
	CHECK_STR(d->type, "gpu");
	CHECK_STR(d->name, "1080ti");
	CHECK_INT(d->n_deviceids, 2);
	CHECK_STR(d->deviceids[0], "gpu-1080ti-0");
	CHECK_STR(d->deviceids[1], "gpu-1080ti-1");
	/* The node without devices was filtered, as Nomad keys it. */
	CHECK_INT(th_entry(a->metrics->constraintfiltered,
			    a->metrics->n_constraintfiltered, "missing devices"),
		  1);
	th_free(c);
}

NMD_TEST(test_sched_devices__names_match_by_parts)
{
	static const struct {
		const char *ask;
		bool fits;
	} cases[] = {
		{"gpu", true}, {"nvidia/gpu", true}, {"nvidia/gpu/1080ti", true},
		{"amd/gpu", false}, {"nvidia/gpu/2080ti", false},
		{"fpga", false}, {"nvidia/fpga", false}, {"", false},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct th_cluster *c = th_new();
		nomad_node *n = th_add_node(c, "gpu", "dc1", 8000, 8192, 100000);
		th_add_devices(n, "nvidia", "gpu", "1080ti", 1);
		th_node_changed(c, n);
		th_register(c, gpu_job("j", 1, cases[i].ask, 1));
		th_run_ok(c, "j", 2);
		if (th_running(c, "j") != (cases[i].fits ? 1u : 0u))
			nmd_test_fail(__FILE__, __LINE__, "%s: %zu placed",
				      cases[i].ask, th_running(c, "j"));
		th_free(c);
	}
}

NMD_TEST(test_sched_devices__unhealthy_instances_do_not_count)
{
	struct th_cluster *c = th_new();
	nomad_node *n = th_add_node(c, "gpu", "dc1", 8000, 8192, 100000);
	Nomad__NodeDeviceResource *d = th_add_devices(n, "nvidia", "gpu", "k80", 2);
	const Nomad__AllocationMetric *m;
	d->instances[1]->healthy = false;
	th_node_changed(c, n);
	th_register(c, gpu_job("j", 1, "gpu", 2));
	th_run_ok(c, "j", 3);
	CHECK_INT(th_running(c, "j"), 0);
	m = th_failed_metric(th_last_update(c), "web");
	CHECK(m != NULL);
	CHECK_INT(th_entry(m->constraintfiltered, m->n_constraintfiltered,
			    "missing devices"), 1);
	/* One is healthy: one is what it gets. */
	th_register(c, gpu_job("j", 1, "gpu", 1));
	th_run_ok(c, "j", 4);
	CHECK_INT(th_running(c, "j"), 1);
	CHECK_STR(task0(th_alloc_named(c, "j.web[0]"))->devices[0]->deviceids[0],
		  "gpu-k80-0");
	th_free(c);
}

NMD_TEST(test_sched_devices__none_left_is_exhaustion)
{
	struct th_cluster *c = th_new();
	nomad_node *n = th_add_node(c, "gpu", "dc1", 8000, 8192, 100000);
	const Nomad__AllocationMetric *m;
	const nomad_alloc *a0, *a1;
	th_add_devices(n, "nvidia", "gpu", "t4", 2);
	th_node_changed(c, n);
	th_register(c, gpu_job("j", 3, "gpu", 1));
	th_run_ok(c, "j", 5);
	CHECK_INT(th_running(c, "j"), 2);
	a0 = th_alloc_named(c, "j.web[0]");
	a1 = th_alloc_named(c, "j.web[1]");
	CHECK(a0 && a1);
	CHECK(strcmp(task0(a0)->devices[0]->deviceids[0],
		     task0(a1)->devices[0]->deviceids[0]) != 0);
	m = th_failed_metric(th_last_update(c), "web");
	CHECK(m != NULL);
	CHECK_INT(m->nodesexhausted, 1);
	CHECK_INT(th_entry(m->dimensionexhausted, m->n_dimensionexhausted,
			    "devices: no devices match request"), 1);
	th_free(c);
}

/* Two groups on one node: an 8 GiB card with 3584 cores and an 11 GiB one
 * with 4352. */
static struct th_cluster *two_models(void)
{
	struct th_cluster *c = th_new();
	nomad_node *n = th_add_node(c, "gpu", "dc1", 8000, 8192, 100000);
	Nomad__NodeDeviceResource *small = th_add_devices(n, "nvidia", "gpu",
							  "1070", 1);
	Nomad__NodeDeviceResource *big = th_add_devices(n, "nvidia", "gpu",
							"1080ti", 1);
	th_device_attr(small, "memory", NULL, 8, "GiB");
	th_device_attr(small, "cuda_cores", NULL, 3584, NULL);
	th_device_attr(big, "memory", NULL, 11264, "MiB");
	th_device_attr(big, "cuda_cores", NULL, 4352, NULL);
	th_device_attr(big, "driver", "410.48", 0, NULL);
	th_node_changed(c, n);
	return c;
}

static void constrain(Nomad__RequestedDevice *r, const char *l, const char *op,
		      const char *rt)
{
	Nomad__Constraint *k = nmd_pb_new(&nomad__constraint__descriptor, NULL);
	CHECK(nmd_pb_set_string(NULL, &k->ltarget, l));
	CHECK(nmd_pb_set_string(NULL, &k->operand, op));
	CHECK(nmd_pb_set_string(NULL, &k->rtarget, rt));
	CHECK(NMD_PB_APPEND(NULL, r->constraints, r->n_constraints, k));
}

/* The model the one-device request constrained by (l op r) gets, or
 * NULL when it does not fit. */
static const char *model_for(const char *l, const char *op, const char *r)
{
	static char model[32];
	struct th_cluster *c = two_models();
	nomad_job *j = th_job("j", 1, 100, 64);
	const nomad_alloc *a;
	constrain(th_ask_device(j->taskgroups[0]->tasks[0], "gpu", 1), l, op, r);
	th_register(c, j);
	th_run_ok(c, "j", 6);
	a = th_alloc_named(c, "j.web[0]");
	if (!a) {
		th_free(c);
		return NULL;
	}
	snprintf(model, sizeof(model), "%s", task0(a)->devices[0]->name);
	th_free(c);
	return model;
}

NMD_TEST(test_sched_devices__constraints_on_typed_attributes)
{
	/* Numbers, in their base unit across units. */
	CHECK_STR(model_for("${device.attr.cuda_cores}", ">", "4000"), "1080ti");
	CHECK_STR(model_for("${device.attr.cuda_cores}", "<", "4000"), "1070");
	CHECK_STR(model_for("${device.attr.memory}", ">=", "10 GiB"), "1080ti");
	CHECK_STR(model_for("${device.attr.memory}", "<", "10240MiB"), "1070");
	CHECK_STR(model_for("${device.attr.memory}", "=", "8192 MiB"), "1070");
	/* A unit never compares with no unit, nor bytes with hertz. */
	CHECK(model_for("${device.attr.memory}", ">", "4") == NULL);
	CHECK(model_for("${device.attr.memory}", ">", "1 GHz") == NULL);
	/* The model, the vendor, set and version operands. */
	CHECK_STR(model_for("${device.model}", "=", "1080ti"), "1080ti");
	CHECK_STR(model_for("${device.model}", "!=", "1080ti"), "1070");
	/* As in Nomad, a literal that reads as a number is one: the string
	 * model "1070" neither equals nor differs from it. */
	CHECK(model_for("${device.model}", "=", "1070") == NULL);
	CHECK(model_for("${device.model}", "!=", "1070") == NULL);
	CHECK_STR(model_for("${device.vendor}", "=", "nvidia"), "1080ti");
	CHECK_STR(model_for("${device.model}", "regexp", "^10[0-9]0ti$"), "1080ti");
	CHECK_STR(model_for("${device.attr.driver}", "version", ">= 400"), "1080ti");
	CHECK_STR(model_for("${device.attr.driver}", "is_set", ""), "1080ti");
	CHECK_STR(model_for("${device.attr.driver}", "is_not_set", ""), "1070");
	CHECK(model_for("${device.attr.nope}", "=", "1") == NULL);
}

NMD_TEST(test_sched_devices__affinity_picks_the_group_and_scores)
{
	struct th_cluster *c = two_models();
	nomad_job *j = th_job("j", 1, 100, 64);
	Nomad__RequestedDevice *r =
		th_ask_device(j->taskgroups[0]->tasks[0], "nvidia/gpu", 1);
	Nomad__Affinity *aff = nmd_pb_new(&nomad__affinity__descriptor, NULL);
	const nomad_alloc *a;
	bool scored = false;
	CHECK(nmd_pb_set_string(NULL, &aff->ltarget, "${device.attr.memory}"));
	CHECK(nmd_pb_set_string(NULL, &aff->operand, ">="));
	CHECK(nmd_pb_set_string(NULL, &aff->rtarget, "10 GiB"));
	aff->has_weight = 1;
	aff->weight = 75;
	CHECK(NMD_PB_APPEND(NULL, r->affinities, r->n_affinities, aff));
	th_register(c, j);
	th_run_ok(c, "j", 7);
	a = th_alloc_named(c, "j.web[0]");
	CHECK(a != NULL);
	CHECK_STR(task0(a)->devices[0]->name, "1080ti");
	/* "devices" = matched weight / total weight = 1. */
	for (size_t i = 0; i < a->metrics->n_scoremetadata; i++)
		for (size_t k = 0; k < a->metrics->scoremetadata[i]->n_scores; k++) {
			const Nomad__FloatEntry *f =
				a->metrics->scoremetadata[i]->scores[k];
			if (!strcmp(f->key, "devices")) {
				CHECK(f->value > 0.999 && f->value < 1.001);
				scored = true;
			}
		}
	CHECK(scored);
	th_free(c);
}

NMD_TEST(test_sched_devices__negative_affinity_avoids)
{
	struct th_cluster *c = two_models();
	nomad_job *j = th_job("j", 1, 100, 64);
	Nomad__RequestedDevice *r = th_ask_device(j->taskgroups[0]->tasks[0],
						  "gpu", 1);
	Nomad__Affinity *aff = nmd_pb_new(&nomad__affinity__descriptor, NULL);
	CHECK(nmd_pb_set_string(NULL, &aff->ltarget, "${device.model}"));
	CHECK(nmd_pb_set_string(NULL, &aff->operand, "="));
	CHECK(nmd_pb_set_string(NULL, &aff->rtarget, "1080ti"));
	aff->has_weight = 1;
	aff->weight = -50;
	CHECK(NMD_PB_APPEND(NULL, r->affinities, r->n_affinities, aff));
	th_register(c, j);
	th_run_ok(c, "j", 8);
	CHECK_STR(task0(th_alloc_named(c, "j.web[0]"))->devices[0]->name, "1070");
	th_free(c);
}

NMD_TEST(test_sched_devices__existing_allocations_hold_their_instances)
{
	struct th_cluster *c = th_new();
	nomad_node *n = th_add_node(c, "gpu", "dc1", 8000, 8192, 100000);
	const nomad_alloc *a, *b;
	th_add_devices(n, "nvidia", "gpu", "v100", 3);
	th_node_changed(c, n);
	th_register(c, gpu_job("first", 1, "gpu", 2));
	th_run_ok(c, "first", 9);
	th_register(c, gpu_job("second", 1, "gpu", 1));
	th_run_ok(c, "second", 10);
	a = th_alloc_named(c, "first.web[0]");
	b = th_alloc_named(c, "second.web[0]");
	CHECK(a && b);
	CHECK_STR(task0(b)->devices[0]->deviceids[0], "gpu-v100-2");
	/* A third finds none. */
	th_register(c, gpu_job("third", 1, "gpu", 1));
	th_run_ok(c, "third", 11);
	CHECK_INT(th_running(c, "third"), 0);
	/* Stopping the first gives its two back. */
	{
		nomad_job *stop = gpu_job("first", 1, "gpu", 2);
		stop->has_stop = stop->stop = 1;
		th_register(c, stop);
		th_run_ok(c, "first", 12);
	}
	th_run_ok(c, "third", 13);
	CHECK_INT(th_running(c, "third"), 1);
	th_free(c);
}

NMD_TEST(test_sched_devices__replaced_in_place_keeps_its_device)
{
	/* A system job on a one-GPU node, updated destructively: the stop
	 * gives the instance back before the replacement asks for it. */
	struct th_cluster *c = th_new();
	nomad_node *n = th_add_node(c, "gpu", "dc1", 8000, 8192, 100000);
	nomad_job *j = gpu_job("agent", 1, "gpu", 1);
	th_add_devices(n, "nvidia", "gpu", "a100", 1);
	th_node_changed(c, n);
	j->type = NOMAD__JOB_TYPE__system;
	th_register(c, j);
	th_run_ok(c, "agent", 14);
	CHECK_INT(th_running(c, "agent"), 1);
	j = gpu_job("agent", 1, "gpu", 1);
	j->type = NOMAD__JOB_TYPE__system;
	j->taskgroups[0]->tasks[0]->resources->cpu = 300;
	th_register(c, j);
	th_run_ok(c, "agent", 15);
	CHECK_INT(th_running(c, "agent"), 1);
	CHECK_INT(th_alloc_named(c, "agent.web[0]")->jobversion, 1);
	CHECK_STR(task0(th_alloc_named(c, "agent.web[0]"))->devices[0]->deviceids[0],
		  "gpu-a100-0");
	th_free(c);
}

/* ---- never one instance twice ---------------------------------------- */

static uint64_t next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* Every (node, instance) live allocations hold, with repeats. */
struct held {
	const char *node, *id;
};

static size_t collect(struct th_cluster *c, struct held *out, size_t cap)
{
	size_t n = 0;
	for (size_t i = 0; i < c->n_allocs; i++) {
		const nomad_alloc *a = c->allocs[i];
		const Nomad__AllocatedResources *ar = a->allocatedresources;
		if (a->desiredstatus != NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run)
			continue;
		for (size_t t = 0; ar && t < ar->n_tasks; t++) {
			const Nomad__AllocatedTaskResources *tr = ar->tasks[t]->value;
			for (size_t d = 0; d < tr->n_devices; d++)
				for (size_t k = 0; k < tr->devices[d]->n_deviceids; k++) {
					CHECK(n < cap);
					out[n].node = a->nodeid;
					out[n++].id = tr->devices[d]->deviceids[k];
				}
		}
	}
	return n;
}

/* No (node, instance) held twice, and each an instance of its node. */
static void check_unique(struct th_cluster *c)
{
	struct held *h = calloc(4096, sizeof(*h));
	size_t n;
	CHECK(h != NULL);
	n = collect(c, h, 4096);
	for (size_t i = 0; i < n; i++) {
		const char *name = node_name(c, h[i].node);
		CHECK(strncmp(h[i].id, name, strlen(name)) == 0);
		for (size_t k = i + 1; k < n; k++)
			if (!strcmp(h[i].node, h[k].node) && !strcmp(h[i].id, h[k].id))
				nmd_test_fail(__FILE__, __LINE__,
					      "instance %s held twice", h[i].id);
	}
	free(h);
}

NMD_TEST(test_sched_devices__no_instance_is_given_twice)
{
	for (uint64_t seed = 1; seed <= 12; seed++) {
		struct th_cluster *c = th_new();
		uint64_t s = seed * 0x9e3779b97f4a7c15ULL;
		size_t capacity = 0, placed = 0, asked = 0;
		int nodes = 2 + (int)(next(&s) % 3);
		for (int k = 0; k < nodes; k++) {
			char name[32];
			nomad_node *n;
			Nomad__NodeDeviceResource *d;
			int count = 1 + (int)(next(&s) % 4);
			snprintf(name, sizeof(name), "n%d", k);
			n = th_add_node(c, name, "dc1", 64000, 65536, 1000000);
			d = th_add_devices(n, "nvidia", "gpu", "t4", count);
			/* Some instances unhealthy. */
			for (int i = 0; i < count; i++)
				if (next(&s) % 4 == 0)
					d->instances[i]->healthy = false;
				else
					capacity++;
			th_node_changed(c, n);
		}
		/* Jobs asking 1 or 2 instances per allocation, several
		 * allocations each, scheduled one after the other so that
		 * later ones see what earlier ones hold. */
		for (int jn = 0; jn < 6; jn++) {
			char id[32];
			int per = 1 + (int)(next(&s) % 2);
			int count = 1 + (int)(next(&s) % 4);
			snprintf(id, sizeof(id), "job%d", jn);
			th_register(c, gpu_job(id, count, "gpu", per));
			th_run_ok(c, id, seed * 100 + (uint64_t)jn);
			asked += (size_t)(per * count);
			placed += th_running(c, id) * (size_t)per;
			check_unique(c);
		}
		/* Stop one job and place another: freed instances are reused,
		 * never shared. */
		{
			nomad_job *stop = gpu_job("job0", 1, "gpu", 1);
			stop->has_stop = stop->stop = 1;
			th_register(c, stop);
			th_run_ok(c, "job0", seed * 100 + 50);
			th_register(c, gpu_job("late", 4, "gpu", 1));
			th_run_ok(c, "late", seed * 100 + 51);
			check_unique(c);
		}
		CHECK(placed <= capacity);
		CHECK(placed <= asked);
		th_free(c);
	}
}

NMD_TEST(test_sched_devices__failed_replacement_keeps_its_instance)
{
	/* Group a holds the node's one GPU; its new version fits nowhere,
	 * so its stop is taken back, and group b, new, must not get the
	 * instance a still holds. */
	struct th_cluster *c = th_new();
	nomad_node *n = th_add_node(c, "gpu", "dc1", 4000, 8192, 100000);
	nomad_job *j = gpu_job("j", 1, "gpu", 1);
	nomad_task_group *b = NULL;
	const Nomad__AllocationMetric *m;
	th_add_devices(n, "nvidia", "gpu", "l4", 1);
	th_node_changed(c, n);
	CHECK(nmd_pb_set_string(NULL, &j->taskgroups[0]->name, "a"));
	th_register(c, j);
	th_run_ok(c, "j", 16);
	CHECK_INT(th_running(c, "j"), 1);
	j = gpu_job("j", 1, "gpu", 1);
	CHECK(nmd_pb_set_string(NULL, &j->taskgroups[0]->name, "a"));
	j->taskgroups[0]->tasks[0]->resources->cpu = 5000;
	CHECK_OK(nomad_msg_copy((ProtobufCMessage **)&b,
				&j->taskgroups[0]->base, NULL));
	CHECK(nmd_pb_set_string(NULL, &b->name, "b"));
	b->tasks[0]->resources->cpu = 100;
	CHECK(NMD_PB_APPEND(NULL, j->taskgroups, j->n_taskgroups, b));
	th_register(c, j);
	th_run_ok(c, "j", 17);
	CHECK(th_alloc_named(c, "j.a[0]") != NULL);
	CHECK(th_alloc_named(c, "j.b[0]") == NULL);
	check_unique(c);
	m = th_failed_metric(th_last_update(c), "b");
	CHECK(m != NULL);
	CHECK_INT(th_entry(m->dimensionexhausted, m->n_dimensionexhausted,
			    "devices: no devices match request"), 1);
	th_free(c);
}
