/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The generic scheduler's reconciler, shared by its three files:
 * generic.c (a group's buckets, updates and placements), deployment.c
 * (the job's deployment) and disconnect.c (clients that went away and
 * came back).
 */
#ifndef NMD_SCHED_RECONCILE_H
#define NMD_SCHED_RECONCILE_H

#include "sched/sched_int.h"

#define PA (&e->plan_alloc)
#define CS(x) NOMAD__ALLOCATION__CLIENT_STATUS_KIND__##x
#define DS(x) NOMAD__ALLOCATION__DESIRED_STATUS_KIND__##x
#define DEP(x) NOMAD__DEPLOYMENT__STATUS_KIND__##x

/* The job's deployment as this evaluation sees it. */
struct dep {
	nomad_deployment *d;       /* current (a working copy), or NULL */
	const nomad_deployment *old; /* one for an older job version */
	bool created;              /* d is new: the plan carries it */
	bool paused, failed;
	/* The in-place updates made, which join the deployment. */
	nomad_alloc **inplace;
	size_t n_inplace;
};

enum bucket {
	B_OUT,            /* not considered (replaced, or server-stopped) */
	B_UNTAINTED,
	B_MIGRATE,
	B_LOST,
	B_DISCONNECTING,
	B_RECONNECTING,
	B_IGNORE,
	B_EXPIRING,
	B_RESCHEDULE_NOW,
	B_STOPPED,        /* the reconciler stops it */
};

struct ralloc {
	const nomad_alloc *a;
	long idx;
	enum bucket bucket;
	bool canary;       /* one of the current deployment's canaries */
	bool terminal;
	bool destructive;
	bool disconnecting; /* on a disconnected node: kept while replaced */
	const char *followup; /* a lost one's stop waits for this eval */
	int64_t delay;     /* of a reschedule now */
	int64_t later_at;  /* a reschedule later is due then; 0: none */
};

/* A placement the reconciler asks for. */
struct want {
	long index;
	const nomad_alloc *previous; /* the allocation it replaces */
	const char *stop_why;        /* stop `previous` when it fits */
	bool reschedule;             /* of a failed one: tracked, penalised */
	bool canary;
	int64_t delay;
};

struct group_work {
	struct want *place;
	size_t n_place, cap_place;
};

struct group {
	struct nmd_eval_ctx *e;
	struct dep *dep;
	size_t tgi;
	const nomad_task_group *tg;
	long count;
	bool batch;
	struct ralloc *as;
	size_t n;
	/* Nomad's allocNameIndex: the name indexes in use. */
	bool *names;
	size_t n_names;
	long name_cursor;            /* names below it are all taken */
	Nomad__DeploymentState *dstate;
	bool existing;               /* dstate came with the deployment */
	struct group_work *w;
	size_t n_canaries;           /* live canaries of the deployment */
	bool *canary_name;           /* by name index: a canary holds it */
	size_t n_later;              /* failed ones rescheduled later */
	bool canarying;
};

/* The plan stops `r` with `why` (client status `client_status`, or 0). */
nomad_err nmd_rec_stop(struct group *g, struct ralloc *r, const char *why,
		       int client_status, nomad_error *err);

/* ---- the deployment (deployment.c) ------------------------------------- */

bool nmd_dep_active(const nomad_deployment *d);
/* Nomad's cancelUnneededDeployments, into `dp`. */
nomad_err nmd_dep_init(struct nmd_eval_ctx *e, bool batch, struct dep *dp,
		       nomad_error *err);
/* The group's state in `d`, or NULL. */
Nomad__DeploymentState *nmd_dep_group(const nomad_deployment *d,
				      const char *group);
/* Whether `id` is a canary of `d` (promoted ones too, with `promoted`). */
bool nmd_dep_canary(const nomad_deployment *d, const char *id, bool promoted);
/* A new deployment for the job, the plan's. */
nomad_err nmd_dep_create(struct nmd_eval_ctx *e, struct dep *dp,
			 nomad_error *err);
/* Once placed: the in-place updates join it, a complete one succeeds, a
 * new one goes into the plan. */
nomad_err nmd_dep_finish(struct nmd_eval_ctx *e, struct dep *dp,
			 bool complete, nomad_error *err);

/* ---- disconnected clients (disconnect.c) ------------------------------- */

/* Nomad's filterByTainted: the bucket of one allocation. */
enum bucket nmd_rec_classify(struct group *g, const struct ralloc *r);
/* Disconnecting allocations go unknown, and are replaced or kept. */
nomad_err nmd_rec_disconnecting(struct group *g, nomad_error *err);
/* Reconnecting ones are weighed against their replacements. */
nomad_err nmd_rec_reconnecting(struct group *g, nomad_error *err);
/* stop_on_client_after: lost ones wait; *delayed when any does. */
nomad_err nmd_rec_stop_after_lost(struct group *g, bool *delayed,
				  nomad_error *err);

#endif
