/* SPDX-License-Identifier: MPL-2.0 */
/**
 * @file nomad/structs.h
 * @brief The domain model: jobs, groups, tasks, nodes, allocations,
 *        evaluations, deployments and plans, with their JSON and protobuf
 *        forms, Nomad's defaults, validation and job diffs.
 *
 * The types are protoc-c's structs generated from proto/structs.proto
 * (installed as <nomad/structs.pb-c.h>); fields are Nomad's JSON names in
 * lowercase (`job->taskgroups`, `task->resources->memorymb`; protoc-c
 * adds an underscore to C keywords: `namespace_`, `new_`), scalar fields
 * carry a `has_` flag, strings are NULL when unset, and repeated fields are
 * a count `n_x` with an array `x`. Maps such as Meta are repeated
 * key/value entries, kept sorted by key by the decoder.
 *
 * Objects are owned by whoever receives them through `**out` and are freed
 * with the matching `_free`. The typed helpers below (`nomad_job_*`, ...)
 * allocate with the C library; the generic `nomad_msg_*` calls take an
 * allocator, and a message must be freed with the allocator that built it.
 *
 * Threads: an object may be read (any call taking it as const) from several
 * threads at once; a call that changes it needs it alone. Distinct objects
 * are independent. No call keeps state between calls.
 */
#ifndef NOMAD_STRUCTS_H
#define NOMAD_STRUCTS_H

#include <stdbool.h>
#include <nomad/core.h>
#include <nomad/structs.pb-c.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Public names for the generated types. */
typedef Nomad__Job nomad_job;
typedef Nomad__TaskGroup nomad_task_group;
typedef Nomad__Task nomad_task;
typedef Nomad__Resources nomad_resources;
typedef Nomad__Node nomad_node;
typedef Nomad__Allocation nomad_alloc;
typedef Nomad__Evaluation nomad_eval;
typedef Nomad__Deployment nomad_deployment;
typedef Nomad__JobSummary nomad_job_summary;
typedef Nomad__Plan nomad_plan;
typedef Nomad__PlanResult nomad_plan_result;
typedef Nomad__JobRegisterRequest nomad_job_register_request;
typedef Nomad__JobDiff nomad_job_diff;
typedef Nomad__JobListStub nomad_job_list_stub;
typedef Nomad__NodeListStub nomad_node_list_stub;
typedef Nomad__AllocationListStub nomad_alloc_list_stub;
typedef Nomad__Namespace nomad_namespace;
typedef Nomad__NodePool nomad_node_pool;
typedef Nomad__ACLPolicy nomad_acl_policy;
typedef Nomad__ACLToken nomad_acl_token;
typedef Nomad__Variable nomad_variable;
typedef Nomad__ServiceRegistration nomad_service_registration;
typedef Nomad__SchedulerConfiguration nomad_scheduler_config;
typedef Nomad__PeriodicLaunch nomad_periodic_launch;

/* ------------------------------------------------------------------ */
/* Any message: JSON, protobuf, copy, compare                          */

/** Decode flags (nomad_json_options.flags). */
enum {
	/** A member the schema does not know is an error. Without this
	 *  flag unknown members are skipped, as Nomad (Go's decoder) does. */
	NOMAD_JSON_STRICT = 1u << 0,
	/** Match member names exactly; by default a case-insensitive match is
	 *  accepted when no exact one exists, as Go's decoder does. */
	NOMAD_JSON_CASE_SENSITIVE = 1u << 1,
};

/** Encode flags (the `flags` argument of the `_to_json` calls). */
enum {
	/** Indent with four spaces and end with a newline, as `?pretty`. */
	NOMAD_JSON_PRETTY = 1u << 0,
	/** Leave out unset fields and empty lists and maps instead of
	 *  writing null. */
	NOMAD_JSON_OMIT_EMPTY = 1u << 1,
};

#define NOMAD_JSON_OPTIONS_VERSION 1

/** How to decode JSON. A NULL options pointer means all defaults. */
typedef struct nomad_json_options {
	unsigned int version;   /**< NOMAD_JSON_OPTIONS_VERSION */
	unsigned int flags;     /**< NOMAD_JSON_STRICT, ... */
	const char *name;       /**< the input's name in errors ("job.json") */
	unsigned int max_depth; /**< nesting limit; 0 means 128 */
} nomad_json_options;

#define NOMAD_JSON_OPTIONS_INIT {NOMAD_JSON_OPTIONS_VERSION, 0, NULL, 0}

/**
 * Initialise `opts` to the defaults of `version`.
 *
 * @return NOMAD_OK, or NOMAD_EINVAL for an unknown version
 */
NOMAD_EXTERN nomad_err nomad_json_options_init(nomad_json_options *opts,
					       unsigned int version);

/**
 * Decode JSON in Nomad's API shape into a new message of type `desc`.
 *
 * The input is one JSON value (an object for a message). Numbers must fit
 * their field (an int32 field refuses 2^31), integer fields refuse
 * fractions, enum fields take their spellings ("service", "canceled") or
 * "" for unset, JSON null leaves a field unset, and durations are integer
 * nanoseconds. Errors name the line, column and field path:
 * `job.json:12:20: TaskGroups[0].Count: expected an integer, got string`.
 *
 * @param out the new message, owned by the caller; NULL on failure
 * @param alloc allocator for the message; NULL for the C library's
 * @return NOMAD_OK, NOMAD_EPARSE for malformed JSON, NOMAD_EINVAL for a
 *         value of the wrong type or range, NOMAD_ENOMEM
 */
NOMAD_EXTERN nomad_err nomad_msg_from_json(ProtobufCMessage **out,
					   const ProtobufCMessageDescriptor *desc,
					   const char *json, size_t len,
					   const nomad_json_options *opts,
					   const nomad_allocator *alloc,
					   nomad_error *err);

/**
 * Encode a message as JSON in Nomad's API shape: members in schema order,
 * unset fields as null (or left out with NOMAD_JSON_OMIT_EMPTY), map keys
 * sorted, times in RFC 3339. Encoding the decoded form of an encoding gives
 * the same bytes.
 *
 * @param out NUL-terminated text, allocated with `alloc` (nomad_free() for
 *        the default); `len` (may be NULL) receives its length
 * @return NOMAD_OK or NOMAD_ENOMEM
 */
NOMAD_EXTERN nomad_err nomad_msg_to_json(const ProtobufCMessage *msg,
					 unsigned int flags,
					 const nomad_allocator *alloc,
					 char **out, size_t *len,
					 nomad_error *err);

/**
 * A new, empty message of type `desc` (every field unset).
 *
 * @return NULL when out of memory
 */
NOMAD_EXTERN ProtobufCMessage *nomad_msg_new(const ProtobufCMessageDescriptor *desc,
					     const nomad_allocator *alloc);

/** Free a message built with `alloc`. NULL is accepted. */
NOMAD_EXTERN void nomad_msg_free(ProtobufCMessage *msg,
				 const nomad_allocator *alloc);

/**
 * Deep copy.
 *
 * @return NOMAD_OK or NOMAD_ENOMEM (*out NULL)
 */
NOMAD_EXTERN nomad_err nomad_msg_copy(ProtobufCMessage **out,
				      const ProtobufCMessage *msg,
				      const nomad_allocator *alloc);

/**
 * Deep equality of two messages of the same type: presence, values,
 * lists in order. Two NULLs are equal.
 */
NOMAD_EXTERN bool nomad_msg_equal(const ProtobufCMessage *a,
				  const ProtobufCMessage *b);

/**
 * Encode as protobuf (the wire and storage form).
 *
 * @param out allocated with `alloc`; `len` receives its size
 * @return NOMAD_OK or NOMAD_ENOMEM
 */
NOMAD_EXTERN nomad_err nomad_msg_pack(const ProtobufCMessage *msg,
				      const nomad_allocator *alloc,
				      uint8_t **out, size_t *len);

/**
 * Decode protobuf into a new message of type `desc`.
 *
 * @return NOMAD_OK, NOMAD_ECORRUPT for bytes that are not such a message
 */
NOMAD_EXTERN nomad_err nomad_msg_unpack(ProtobufCMessage **out,
					const ProtobufCMessageDescriptor *desc,
					const uint8_t *data, size_t len,
					const nomad_allocator *alloc,
					nomad_error *err);

/**
 * The JSON spelling of an enum value ("service", "canceled").
 *
 * @return a static string, or NULL for a value the enum does not have
 */
NOMAD_EXTERN const char *nomad_enum_name(const ProtobufCEnumDescriptor *desc,
					 int value);

/**
 * The value of an enum spelling, matched exactly.
 *
 * @return NOMAD_OK, or NOMAD_ENOTFOUND
 */
NOMAD_EXTERN nomad_err nomad_enum_value(const ProtobufCEnumDescriptor *desc,
					const char *name, int *out);

/* ------------------------------------------------------------------ */
/* Typed helpers                                                       */

/*
 * Each top-level type has the same family, using the C library's
 * allocator. For `job`:
 *   nomad_err nomad_job_from_json(nomad_job **out, const char *json,
 *           size_t len, const nomad_json_options *opts, nomad_error *err);
 *   nomad_err nomad_job_to_json(const nomad_job *job, unsigned flags,
 *           char **out, size_t *len, nomad_error *err);  (nomad_free())
 *   nomad_job *nomad_job_new(void);             NULL when out of memory
 *   void nomad_job_free(nomad_job *job);        NULL accepted
 *   nomad_err nomad_job_copy(nomad_job **out, const nomad_job *job);
 *   bool nomad_job_equal(const nomad_job *a, const nomad_job *b);
 *   nomad_err nomad_job_pack(const nomad_job *job, uint8_t **out,
 *           size_t *len);                        (nomad_free())
 *   nomad_err nomad_job_unpack(nomad_job **out, const uint8_t *data,
 *           size_t len, nomad_error *err);
 * They behave as the nomad_msg_* call of the same verb.
 */
#define NOMAD_STRUCTS_DECLARE_(T, P)                                          \
	NOMAD_EXTERN nomad_err P##_from_json(T **out, const char *json,       \
					     size_t len,                      \
					     const nomad_json_options *opts,  \
					     nomad_error *err);               \
	NOMAD_EXTERN nomad_err P##_to_json(const T *msg, unsigned int flags,  \
					   char **out, size_t *len,           \
					   nomad_error *err);                 \
	NOMAD_EXTERN T *P##_new(void);                                        \
	NOMAD_EXTERN void P##_free(T *msg);                                   \
	NOMAD_EXTERN nomad_err P##_copy(T **out, const T *msg);               \
	NOMAD_EXTERN bool P##_equal(const T *a, const T *b);                  \
	NOMAD_EXTERN nomad_err P##_pack(const T *msg, uint8_t **out,          \
					size_t *len);                         \
	NOMAD_EXTERN nomad_err P##_unpack(T **out, const uint8_t *data,       \
					  size_t len, nomad_error *err)

NOMAD_STRUCTS_DECLARE_(nomad_job, nomad_job);
NOMAD_STRUCTS_DECLARE_(nomad_node, nomad_node);
NOMAD_STRUCTS_DECLARE_(nomad_alloc, nomad_alloc);
NOMAD_STRUCTS_DECLARE_(nomad_eval, nomad_eval);
NOMAD_STRUCTS_DECLARE_(nomad_deployment, nomad_deployment);
NOMAD_STRUCTS_DECLARE_(nomad_job_summary, nomad_job_summary);
NOMAD_STRUCTS_DECLARE_(nomad_plan, nomad_plan);
NOMAD_STRUCTS_DECLARE_(nomad_plan_result, nomad_plan_result);
NOMAD_STRUCTS_DECLARE_(nomad_job_register_request, nomad_job_register_request);
NOMAD_STRUCTS_DECLARE_(nomad_job_diff, nomad_job_diff);
NOMAD_STRUCTS_DECLARE_(nomad_job_list_stub, nomad_job_list_stub);
NOMAD_STRUCTS_DECLARE_(nomad_node_list_stub, nomad_node_list_stub);
NOMAD_STRUCTS_DECLARE_(nomad_alloc_list_stub, nomad_alloc_list_stub);
NOMAD_STRUCTS_DECLARE_(nomad_namespace, nomad_namespace);
NOMAD_STRUCTS_DECLARE_(nomad_node_pool, nomad_node_pool);
NOMAD_STRUCTS_DECLARE_(nomad_acl_policy, nomad_acl_policy);
NOMAD_STRUCTS_DECLARE_(nomad_acl_token, nomad_acl_token);
NOMAD_STRUCTS_DECLARE_(nomad_variable, nomad_variable);
NOMAD_STRUCTS_DECLARE_(nomad_service_registration, nomad_service_registration);
NOMAD_STRUCTS_DECLARE_(nomad_scheduler_config, nomad_scheduler_config);
NOMAD_STRUCTS_DECLARE_(nomad_periodic_launch, nomad_periodic_launch);

/* ------------------------------------------------------------------ */
/* Maps                                                                 */

/**
 * The value of `key` in a string map (Meta, Env, Attributes).
 *
 * @return a pointer into the map, or NULL when the key is absent
 */
NOMAD_EXTERN const char *nomad_map_get(Nomad__StringEntry *const *entries,
				       size_t n, const char *key);

/* ------------------------------------------------------------------ */
/* Defaults                                                             */

/**
 * Fill in Nomad's defaults, in place, as Nomad's API does when a job is
 * registered: region "global", namespace "default", type "service",
 * priority 50, datacenters ["*"], node pool "default", group count 1,
 * update/migrate/restart/reschedule policies by job type with the job's
 * update and reschedule blocks merged into each group's, ephemeral disk
 * 300 MB, task resources 100 MHz / 300 MB, logs 10 x 10 MB, kill timeout
 * 5 s, and so on (`man 5 nomad-job`). Running it twice changes nothing
 * more. Fields the user set are kept.
 *
 * @return NOMAD_OK, NOMAD_EINVAL for a NULL job, or NOMAD_ENOMEM
 */
NOMAD_EXTERN nomad_err nomad_job_canonicalize(nomad_job *job, nomad_error *err);

/* ------------------------------------------------------------------ */
/* Validation                                                           */

/** A list of problems found by a validator; opaque. */
typedef struct nomad_problems nomad_problems;

/** How many problems the list holds. NULL counts as empty. */
NOMAD_EXTERN size_t nomad_problems_count(const nomad_problems *p);

/**
 * The i-th problem, with its path first, as
 * `group "web" task "api": resources: memory must be at least 10 MB`.
 *
 * @return a string owned by the list, or NULL when i is out of range
 */
NOMAD_EXTERN const char *nomad_problems_get(const nomad_problems *p, size_t i);

/** Free a problem list. NULL is accepted. */
NOMAD_EXTERN void nomad_problems_free(nomad_problems *p);

/**
 * Check a job (normally canonicalised first) against Nomad's rules and
 * collect every problem, not just the first: identifiers, types and
 * priorities, counts, resources, ports, constraints and their operands,
 * affinity and spread weights, and the cross-field rules (reschedule
 * attempts fit the interval, min_healthy_time < healthy_deadline <
 * progress_deadline, auto_promote needs canaries, periodic and
 * parameterized rules, lifecycle hooks, ...).
 *
 * @param out the problems (empty when the job is valid); may be NULL when
 *        only the verdict is wanted. Owned by the caller.
 * @param err on NOMAD_EINVAL, the first problem and how many there are
 * @return NOMAD_OK when the job is valid, NOMAD_EINVAL when not,
 *         NOMAD_ENOMEM
 */
NOMAD_EXTERN nomad_err nomad_job_validate(const nomad_job *job,
					  nomad_problems **out,
					  nomad_error *err);

/* ------------------------------------------------------------------ */
/* Diff and update kind                                                 */

/** Diff flags. */
enum {
	/** Include unchanged fields and objects (Type "None") as context,
	 *  as `nomad job plan -verbose` does. */
	NOMAD_DIFF_CONTEXTUAL = 1u << 0,
};

/**
 * The difference between two versions of a job in Nomad's JobDiff shape
 * (Type Added, Deleted, Edited or None, with field and object diffs, per
 * group and per task), as `nomad job plan` shows it. Either job may be
 * NULL (a new or a removed job). Server-set fields (indexes, version,
 * status, submit time) are not compared. Task diffs carry Nomad's plan
 * annotations ("forces create/destroy update", "forces in-place update",
 * ...), and a group's Count field "forces create" or "forces destroy".
 *
 * @param out the diff, owned by the caller (nomad_job_diff_free())
 * @return NOMAD_OK, NOMAD_EINVAL when the two jobs have different IDs,
 *         NOMAD_ENOMEM
 */
NOMAD_EXTERN nomad_err nomad_job_diff_compute(nomad_job_diff **out,
					      const nomad_job *old_job,
					      const nomad_job *new_job,
					      unsigned int flags,
					      nomad_error *err);

/** How a group's allocations must change to reach a new job version. */
typedef enum nomad_update_kind {
	NOMAD_UPDATE_NONE = 0,        /**< nothing in the group changed */
	NOMAD_UPDATE_INPLACE = 1,     /**< the allocations can be updated
					   where they run */
	NOMAD_UPDATE_DESTRUCTIVE = 2, /**< they must be replaced */
} nomad_update_kind;

/**
 * Decide, as Nomad's scheduler does, whether moving group `group` from
 * `old_job` to `new_job` is an in-place or a destructive update: a change
 * to the task set, drivers, users, configs, env, artifacts, templates,
 * vault, identities, volumes and mounts, networks and ports, ephemeral
 * disk, non-network resources, combined meta, log disabling or
 * restart.render_templates is destructive, and so are affinities and
 * spreads (job, group and task) and task secrets; any other change is in
 * place. A count change alone is NOMAD_UPDATE_INPLACE: the existing
 * allocations follow the new version where they run while the scheduler
 * places or stops the difference. NOMAD_UPDATE_NONE means the group and
 * the job-level spec are unchanged apart from server-set fields; a
 * job-level change (priority, datacenters, ...) makes every group
 * NOMAD_UPDATE_INPLACE. Compare canonicalised jobs: "unset" and an
 * explicit default count as different.
 *
 * @return the kind; NOMAD_UPDATE_DESTRUCTIVE when the group is missing
 *         from either job
 */
NOMAD_EXTERN nomad_update_kind nomad_task_group_update_kind(const nomad_job *old_job,
							    const nomad_job *new_job,
							    const char *group);

#ifdef __cplusplus
}
#endif

#endif /* NOMAD_STRUCTS_H */
