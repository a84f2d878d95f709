/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The scheduler's insides: one evaluation's working state (the nodes it
 * may use with their usage as the plan so far changes it, the plan being
 * built, the placement metrics) and the pieces that work on it.
 */
#ifndef NMD_SCHED_INT_H
#define NMD_SCHED_INT_H

#include <nomad/sched.h>

#include "core/arena.h"
#include "core/ctx.h"
#include "sched/constraint.h"
#include "sched/ports.h"

struct nomad_sched {
	struct nmd_ctx ctx;
	/* What one evaluation builds, kept between evaluations so that its
	 * memory is reused rather than mapped and faulted in again. */
	struct nmd_arena arena;
	nomad_sched_state_ops state;
	void *state_ud;
	nomad_sched_planner_ops planner;
	void *planner_ud;
};

/* What a task group asks of one node. */
struct nmd_ask {
	int64_t cpu, mem, disk;
	const Nomad__Port **static_ports; /* group networks' reserved ports */
	size_t n_static;
	const Nomad__Port **dynamic_ports;
	size_t n_dynamic;
	size_t n_devices;                /* device requests of its tasks */
	bool host_volumes;               /* it asks for host volumes */
};

/* A node during one evaluation: what it holds, the plan's changes
 * included. Usage is read from the host the first time it is needed. */
struct nmd_snode {
	const nomad_sched_node *n;
	bool loaded;
	bool dev_loaded;                 /* dev built (NULL: no devices) */
	int64_t cpu, mem, disk;          /* in use */
	uint16_t *ports;                 /* in use, sorted */
	size_t n_ports, cap_ports;
	/* Allocations of the evaluated job on the node, by task group index
	 * (the last slot counts all groups): for anti-affinity and
	 * distinct_hosts. */
	uint32_t *job_count;
	int port_min, port_max;          /* the dynamic range */
	uint32_t memo;                   /* its class's memo + 1, 0: not yet */
	/* The node's lists in the plan being built, once it has some. */
	Nomad__AllocationList *plan_alloc, *plan_update;
	/* What the host said the node holds (borrowed), for preemption. */
	const nomad_sched_usage *const *usage;
	size_t n_usage;
	/* Of those, the ones the plan preempts (NodePreemptions). */
	const nomad_sched_usage **preempted;
	size_t n_preempted, cap_preempted;
	Nomad__AllocationList *plan_preempt;
	/* Its device instances and who holds them; NULL: it has none. */
	struct nmd_devstate *dev;
};

/* One evaluation. */
struct nmd_eval_ctx {
	nomad_sched *s;
	const nomad_eval *eval;
	const nomad_job *job;            /* NULL: stop everything */
	bool job_stopped;
	const nomad_deployment *deployment; /* the job's latest, or NULL */
	uint64_t index;                  /* the state index of the picture */
	int64_t now;
	nomad_rng rng;
	nomad_rng_seeded rng_state;
	struct nmd_regex_cache regex;

	const nomad_alloc *const *allocs; /* the job's, from the host */
	size_t n_allocs;
	const nomad_sched_node *const *all_nodes;
	size_t n_all_nodes;
	struct nmd_snode *snodes;        /* one per entry of all_nodes */
	struct nmd_snode **touched;      /* those whose usage was read */
	size_t n_touched;
	/* node ID -> snode, open addressing over n_all_nodes * 2 slots;
	 * built on first use */
	uint32_t *by_id;
	size_t id_slots;

	/* The plan, metrics and everything else built for the planner live
	 * in this arena, which each attempt starts over. */
	struct nmd_arena *arena;         /* the scheduler's */
	nomad_allocator plan_alloc;
	nomad_plan *plan;
	size_t n_placed, n_stopped, n_updated;
	nomad_alloc *last_placed;        /* by nmd_sched_plan_place */
	/* Per task group: placements that did not fit, and the metric of the
	 * first failure (FailedTGAllocs). */
	Nomad__AllocationMetricEntry **failed;
	size_t n_failed;
	bool escaped;                    /* a constraint named unique.* */
	/* The allocations the plan stops, as given by the host (a pointer
	 * set in the arena). */
	const void **stopped;
	size_t n_stopped_set, cap_stopped;
	/* What the reconciler decided per task group (plan annotations),
	 * by group index; in the arena. */
	Nomad__DesiredUpdates **desired;
	/* Follow-up evaluations for delayed reschedules, created once the
	 * plan is committed. */
	nomad_eval **followups;
	size_t n_followups;
	/* computed class -> eligible for the job (ClassEligibility) */
	Nomad__BoolEntry **class_elig;
	size_t n_class_elig;
	/* The job's distinct_property counts while a stack is up, else
	 * NULL; in the arena. */
	struct nmd_props *props;
};

/* Why the plan stops an allocation (its DesiredDescription), Nomad's. */
#define NMD_WHY_NOT_NEEDED "alloc not needed due to job update"
#define NMD_WHY_LOST "alloc is lost since its node is down"
#define NMD_WHY_MIGRATING "alloc is being migrated"
#define NMD_WHY_UPDATING "alloc is being updated due to job update"
#define NMD_WHY_RESCHEDULED "alloc was rescheduled because it failed"

/* NOMAD_ENOMEM, "scheduler: out of memory". */
nomad_err nmd_sched_oom(nomad_error *err);

/* FNV-1a of a string, for the evaluation's hash tables and seed. */
uint64_t nmd_sched_hash(const char *s);

/* ---- nodes (nodes.c) ------------------------------------------------- */

nomad_err nmd_sched_nodes_load(struct nmd_eval_ctx *e, nomad_error *err);
void nmd_sched_nodes_free(struct nmd_eval_ctx *e);
struct nmd_snode *nmd_sched_node_by_id(struct nmd_eval_ctx *e, const char *id);
/* Read the node's usage from the host, once. */
nomad_err nmd_sched_node_usage(struct nmd_eval_ctx *e, struct nmd_snode *sn,
			       nomad_error *err);
/* The plan adds or removes an allocation of the job's group `tg`. */
bool nmd_sched_node_add(struct nmd_eval_ctx *e, struct nmd_snode *sn,
			const struct nmd_ask *ask, const uint16_t *ports,
			size_t n_ports, size_t tg);
void nmd_sched_node_remove(struct nmd_eval_ctx *e, struct nmd_snode *sn,
			   int64_t cpu, int64_t mem, int64_t disk,
			   const uint16_t *ports, size_t n_ports, int tg);

/* ---- choosing a node (select.c) -------------------------------------- */

/* The ask of task group `tg` of the evaluated job. */
void nmd_sched_ask(const nomad_task_group *tg, struct nmd_ask *ask);

/* One device instance a placement is given. */
struct nmd_dev_pick {
	uint16_t task, req;              /* task index, its device request */
	uint16_t group, inst;            /* node device group, instance */
};

/* Allocations a placement would evict, and what that frees. */
struct nmd_preempted {
	const nomad_sched_usage **u;     /* in the arena */
	size_t n, cap;
	int64_t cpu, mem, disk;
};

struct nmd_choice {
	struct nmd_snode *node;
	double score;
	uint16_t ports[NMD_MAX_PORTS];   /* the dynamic ports picked */
	size_t n_ports;
	struct nmd_dev_pick *devs;       /* device instances, in the arena */
	size_t n_devs, cap_devs;
	double dev_affinity;             /* sum of matched device affinity
					    weights over the sum of |weights| */
	bool has_dev_affinity;
	struct nmd_preempted pre;        /* what it preempts (n 0: nothing) */
};

/* The stack: candidate nodes for the job in a seeded order, walked round
 * robin across placements as Nomad's source iterator is. */
struct nmd_stack {
	struct nmd_eval_ctx *e;
	struct nmd_snode **cands;        /* ready, eligible, in dc and pool */
	size_t n_cands, offset;
	size_t shuffled;                 /* cands[0, shuffled) are in their
					    final, seeded order */
	size_t limit;                    /* options ranked per placement */
	bool spread_alg;                 /* scheduler_algorithm = spread */
	struct {
		const char *name;
		bool ok;
	} dcs[16];                       /* datacenter names matched */
	size_t n_dcs;
	struct nmd_spread_state *spread; /* of the group being placed */
	/* The failed allocation a placement replaces: its nodes score -1. */
	const nomad_alloc *penalty;
	/* per computed class: 0 unknown, 1 feasible, 2 not (job level) */
	struct nmd_class_memo *memo;
	size_t n_memo, cap_memo;
	uint32_t *memo_index;            /* by class text, in the arena */
	size_t memo_slots;
	bool preempt;                    /* preemption on for the job's type */
	/* The name of the allocation being placed ("<job>.<group>[<n>]"),
	 * for per_alloc host volumes; NULL: such requests name the plain
	 * source. */
	const char *alloc_name;
};

nomad_err nmd_sched_stack_init(struct nmd_eval_ctx *e, struct nmd_stack *st,
			       bool batch, nomad_error *err);
void nmd_sched_stack_free(struct nmd_stack *st);
/* The computed classes seen, feasible or not for the job, into
 * e->class_elig (a blocked evaluation's ClassEligibility). */
nomad_err nmd_sched_stack_eligibility(struct nmd_stack *st, nomad_error *err);
/* Pick a node for one allocation of group index `tgi`; *found false when
 * none fits, with `metric` saying why. `metric` is always filled. */
nomad_err nmd_sched_select(struct nmd_stack *st, size_t tgi,
			   const struct nmd_ask *ask,
			   Nomad__AllocationMetric *metric,
			   struct nmd_choice *out, bool *found,
			   nomad_error *err);

/* The same for one given node (the system schedulers'). */
nomad_err nmd_sched_select_node(struct nmd_stack *st, struct nmd_snode *sn,
				size_t tgi, const struct nmd_ask *ask,
				Nomad__AllocationMetric *metric,
				struct nmd_choice *out, bool *found,
				nomad_error *err);
/* Ready, eligible and not draining: a node new placements may use. */
bool nmd_sched_node_eligible(const struct nmd_stack *st,
			     const struct nmd_snode *sn);
/* In one of the job's datacenters and in its node pool. */
bool nmd_sched_node_in_job(struct nmd_stack *st, const struct nmd_snode *sn);

/* ---- the plan (plan.c) ------------------------------------------------ */

nomad_err nmd_sched_plan_new(struct nmd_eval_ctx *e, nomad_error *err);
/* The node's NodeAllocation (or, with `update`, NodeUpdate) list in the
 * plan, created when it has none; `sn` NULL for a node not in the
 * cluster. NULL when out of memory. */
Nomad__AllocationList *nmd_sched_plan_list(struct nmd_eval_ctx *e,
					   struct nmd_snode *sn,
					   const char *node_id, bool update);
/* Add a placement on `c->node` of group index `tgi` named `name`. */
nomad_err nmd_sched_plan_place(struct nmd_eval_ctx *e, size_t tgi,
			       const char *name,
			       const struct nmd_choice *c,
			       const struct nmd_ask *ask,
			       Nomad__AllocationMetric *metric,
			       const nomad_alloc *previous, nomad_error *err);
/* A copy of `a` (its Job left out, ModifyTime now) appended to its
 * node's NodeAllocation list, for the caller to change: an in-place
 * update or an attribute update. NULL when out of memory. */
nomad_alloc *nmd_sched_plan_update(struct nmd_eval_ctx *e, const nomad_alloc *a);
/* Stop `a` with `why`; `client_status` lost/0. */
nomad_err nmd_sched_plan_stop(struct nmd_eval_ctx *e, const nomad_alloc *a,
			      const char *why, int client_status,
			      nomad_error *err);
/* The desired-update counters of group `tgi` (NULL when out of memory:
 * the annotation is then incomplete, never the plan). */
Nomad__DesiredUpdates *nmd_sched_desired(struct nmd_eval_ctx *e, size_t tgi);
#define NMD_DESIRED(e, tgi, field)                                          \
	do {                                                                  \
		Nomad__DesiredUpdates *du_ = nmd_sched_desired((e), (tgi));   \
		if (du_) {                                                    \
			du_->has_##field = 1;                                 \
			du_->field++;                                         \
		}                                                             \
	} while (0)
/* Attach the counters to the plan as its Annotations (a dry run's). */
nomad_err nmd_sched_annotate(struct nmd_eval_ctx *e, nomad_error *err);

/* Record a group's failed placement: the first metric is kept, and
 * later ones count as CoalescedFailures (`metric` may then be NULL). */
nomad_err nmd_sched_plan_failed(struct nmd_eval_ctx *e, const char *tg,
				Nomad__AllocationMetric *metric,
				nomad_error *err);

/* Take back the stop of `a` just made (its replacement did not fit):
 * the node holds it again. */
void nmd_sched_plan_unstop(struct nmd_eval_ctx *e, const nomad_alloc *a);

/* Whether the plan stops `a` (a pointer the host gave). */
bool nmd_sched_stopping(const struct nmd_eval_ctx *e, const nomad_alloc *a);

/* ---- rescheduling (reschedule.c) --------------------------------------- */

/* When the allocation failed: its last task's FinishedAt, or ModifyTime. */
int64_t nmd_alloc_fail_time(const nomad_alloc *a);
/* The delay before its next reschedule, by policy `p`. */
int64_t nmd_reschedule_delay(const nomad_alloc *a,
			     const Nomad__ReschedulePolicy *p);
/* Whether failed allocation `a` may be replaced under `p`, and when
 * (unix ns) with which delay. */
bool nmd_reschedule_next(const nomad_alloc *a, const Nomad__ReschedulePolicy *p,
			 int64_t *when, int64_t *delay);

/* A failed allocation that ran for its group's max_run_duration: its
 * client stopped it for running too long, and running it again would
 * end the same way, so it counts as done rather than being replaced. */
bool nmd_alloc_ran_out(const nomad_alloc *a, const nomad_task_group *tg);

/* Record on the placement just made on `sn` that it reschedules
 * `previous` after `delay` (its RescheduleTracker). */
nomad_err nmd_sched_track_reschedule(struct nmd_eval_ctx *e,
				     struct nmd_snode *sn,
				     const nomad_alloc *previous, int64_t delay,
				     const Nomad__ReschedulePolicy *policy,
				     nomad_error *err);
/* The follow-up evaluation due at `when` with `trigger`: one created for
 * the plan, shared by those due within 5 s of each other. NULL when out
 * of memory. */
nomad_eval *nmd_sched_followup_eval(struct nmd_eval_ctx *e, int64_t when,
				    const char *trigger);
/* A follow-up evaluation at `when` for failed allocation `a` (shared by
 * failures within 5 s of each other), and FollowupEvalID on `a`. */
nomad_err nmd_sched_follow_up(struct nmd_eval_ctx *e, const nomad_alloc *a,
			      int64_t when, nomad_error *err);

/* ---- affinity and spread (spread.c) ----------------------------------- */

struct nmd_spread_state;
/* The spreads of group `tgi` with the counts of its allocations that
 * stay; NULL when the job and group have none (or out of memory, when
 * spreading is skipped). */
struct nmd_spread_state *nmd_spread_new(struct nmd_eval_ctx *e, size_t tgi,
					const nomad_alloc *const *as, size_t n);
/* Count a placement of the group on `sn`. */
void nmd_spread_placed(struct nmd_spread_state *ss, const struct nmd_snode *sn);
/* The spread score of `sn` (0: nothing to append). */
double nmd_spread_score(struct nmd_spread_state *ss, const struct nmd_snode *sn);
/* The node affinity score of `sn` for group `tgi`; *any false when the
 * job has no affinities (nothing to append). */
double nmd_affinity_score(struct nmd_eval_ctx *e, size_t tgi,
			  const struct nmd_snode *sn, bool *any);

/* ---- what a placement holds beyond cpu, memory and disk (nodes.c) ---- */

/* Give back what `u` holds on `sn` (it is preempted). */
void nmd_sched_node_release(struct nmd_eval_ctx *e, struct nmd_snode *sn,
			    const nomad_sched_usage *u);
/* Record placement `a` of choice `c` (plan.c calls it): the allocations
 * it preempts, its device instances, its distinct_property count. False
 * when out of memory. */
bool nmd_sched_place_extras(struct nmd_eval_ctx *e, size_t tgi,
			    const struct nmd_choice *c, nomad_alloc *a);
/* The plan stops `a` on `sn` (plan.c calls it): its device instances
 * are free and it no longer counts for distinct_property. */
void nmd_sched_stop_extras(struct nmd_eval_ctx *e, struct nmd_snode *sn,
			   const nomad_alloc *a);
/* The plan takes that stop back (plan.c calls it): `a` holds them again. */
void nmd_sched_unstop_extras(struct nmd_eval_ctx *e, struct nmd_snode *sn,
			     const nomad_alloc *a);

/* ---- distinct_property (property.c) ----------------------------------- */

struct nmd_props;
/* The job's distinct_property constraints, job and group level, with
 * the counts of its allocations that stay, into e->props (NULL when it
 * has none). */
nomad_err nmd_props_init(struct nmd_eval_ctx *e, nomad_error *err);
/* Whether one more allocation of group `tgi` on `sn` stays within every
 * such constraint; if not, `why` gets Nomad's reason. */
bool nmd_props_allow(struct nmd_eval_ctx *e, size_t tgi,
		     const struct nmd_snode *sn, char *why, size_t cap);
/* The plan added (delta 1) or stopped (-1) an allocation of group `tg`
 * (not a group index: the job's only) on `sn`. */
void nmd_props_count(struct nmd_eval_ctx *e, const struct nmd_snode *sn,
		     int tg, int delta);

/* ---- host volumes (volumes.c) ----------------------------------------- */

#define NMD_WHY_HOST_VOLUMES "missing compatible host volumes"
/* Whether the group asks for any host volume. */
bool nmd_volumes_wanted(const nomad_task_group *tg);
/* Whether `node` has every host volume the group asks for, writable
 * where asked so; `alloc_name` gives per_alloc volumes their suffix. */
bool nmd_volumes_feasible(const nomad_task_group *tg, const nomad_node *node,
			  const char *alloc_name);

/* ---- devices (devices.c) ----------------------------------------------- */

#define NMD_WHY_DEVICES "missing devices"
struct nmd_devstate;
/* How many device requests the group's tasks make. */
size_t nmd_devices_count(const nomad_task_group *tg);
/* Whether the node has healthy devices for every request (DeviceChecker;
 * what other allocations hold is the fit's business). */
bool nmd_devices_feasible(struct nmd_eval_ctx *e, const nomad_task_group *tg,
			  const nomad_node *node);
/* Build sn->dev from the node's devices and its usage's device_ids, the
 * first time a placement asks the node for devices (the usage is read);
 * what the plan stops or preempts there is free. */
nomad_err nmd_devices_load(struct nmd_eval_ctx *e, struct nmd_snode *sn,
			   nomad_error *err);
/* Instances for every device request of group `tgi` on `sn` into c
 * (with the affinity score), counting those of c->pre as free; with
 * `preempt`, evicting holders (into c->pre) when a request cannot be met
 * otherwise. NULL on success, else the DimensionExhausted key. */
const char *nmd_devices_assign(struct nmd_stack *st, struct nmd_snode *sn,
			       size_t tgi, struct nmd_choice *c, bool preempt);
/* Write c's instances into `a`'s AllocatedResources and mark them held.
 * False when out of memory. */
bool nmd_devices_place(struct nmd_eval_ctx *e, const struct nmd_choice *c,
		       nomad_alloc *a, size_t tgi);
/* Free the instances held by usage entry `usage_index` of the node, or
 * by allocation `alloc_id`. */
void nmd_devices_release(struct nmd_snode *sn, size_t usage_index);
void nmd_devices_release_alloc(struct nmd_snode *sn, const char *alloc_id);
/* Allocation `alloc_id` holds its instances again (a stop taken back). */
void nmd_devices_hold_alloc(struct nmd_snode *sn, const char *alloc_id);

/* ---- preemption (preempt.c) -------------------------------------------- */

/* Whether jobs of `type` preempt under `cfg` (NULL: Nomad's defaults). */
bool nmd_preempt_enabled(const nomad_scheduler_config *cfg, int type);
/* Whether `pre` evicts `u`. */
bool nmd_preempt_holds(const struct nmd_preempted *pre,
		       const nomad_sched_usage *u);
/* Whether `pre` evicts an allocation holding `port`. */
bool nmd_preempt_frees_port(const struct nmd_preempted *pre, uint16_t port);
/* Whether the evaluated job may preempt `u` on `sn`: another job, at
 * least 10 lower in priority, not already preempted (plan or `pre`). */
bool nmd_preempt_candidate(const struct nmd_eval_ctx *e,
			   const struct nmd_snode *sn,
			   const struct nmd_preempted *pre,
			   const nomad_sched_usage *u);
/* Add `u` to `pre`; false when out of memory. */
bool nmd_preempt_add(struct nmd_eval_ctx *e, struct nmd_preempted *pre,
		     const nomad_sched_usage *u);
/* What to evict on `sn` for group `tgi`'s ask to fit, into c->pre;
 * false when nothing would do. */
bool nmd_preempt_find(struct nmd_stack *st, struct nmd_snode *sn, size_t tgi,
		      const struct nmd_ask *ask, struct nmd_choice *c);
/* The "preemption" score of a node evicting `pre`. */
double nmd_preempt_score(const struct nmd_preempted *pre);
/* Evict c->pre in the plan for new allocation `a` of group `tgi`; false
 * when out of memory. */
bool nmd_preempt_place(struct nmd_eval_ctx *e, size_t tgi,
		       const struct nmd_choice *c, nomad_alloc *a);
/* A dry run's Annotations.PreemptedAllocs (plan.c calls it). */
nomad_err nmd_sched_annotate_preempted(struct nmd_eval_ctx *e,
				       Nomad__PlanAnnotations *an,
				       nomad_error *err);
/* A `preemption` evaluation for each job the committed plan preempts
 * (sched.c calls it). */
nomad_err nmd_sched_preemption_evals(struct nmd_eval_ctx *e, nomad_error *err);

/* ---- schedulers -------------------------------------------------------- */

/* Each runs with the job present and not stopped, its allocations in
 * e->allocs. */
nomad_err nmd_sched_generic(struct nmd_eval_ctx *e, bool batch,
			    nomad_error *err);
nomad_err nmd_sched_system(struct nmd_eval_ctx *e, bool sysbatch,
			   nomad_error *err);
/* Shared by the schedulers (generic.c). */
nomad_err nmd_sched_stop_all(struct nmd_eval_ctx *e,
			     const nomad_alloc *const *as, size_t n,
			     nomad_error *err);
/* Cancel the job's active deployment: the job is stopped or gone. */
nomad_err nmd_sched_cancel_deployment(struct nmd_eval_ctx *e, nomad_error *err);
/* Stop the allocations of task groups the job no longer has. */
nomad_err nmd_sched_stop_unknown_groups(struct nmd_eval_ctx *e,
					const nomad_alloc *const *as, size_t n,
					nomad_error *err);
bool nmd_sched_client_terminal(const nomad_alloc *a);
bool nmd_sched_server_terminal(const nomad_alloc *a);
/* Move `a` to the job's current version in place: its copy in the plan,
 * or NULL when out of memory. */
nomad_alloc *nmd_sched_update_in_place(struct nmd_eval_ctx *e,
				       const nomad_alloc *a);
nomad_update_kind nmd_sched_update_kind(const struct nmd_eval_ctx *e,
					const nomad_alloc *a,
					const char *group);

#endif
