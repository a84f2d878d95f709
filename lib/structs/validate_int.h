/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Shared by validate.c (the problem list, the path and the walk over job,
 * groups and tasks), validate_rules.c (the checks of single blocks and the
 * small parsers they need: cron specs, version constraints, paths) and
 * validate_services.c (services and their checks). For files inside
 * lib/structs/ only; the unit tests reach the parsers through it too.
 *
 * A problem reads `<path><message>`: the path names where it is, as
 * `group "web" task "api": resources: ` (empty at job level), and the
 * message is Nomad's, with its first letter lowercased.
 */
#ifndef NMD_STRUCTS_VALIDATE_INT_H
#define NMD_STRUCTS_VALIDATE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nomad/structs.h>

#include "core/buf.h"

/* One validation walk. */
struct nmd_vctx {
	nomad_problems *problems;
	struct nmd_buf path; /* "" or ending in ": " */
	const nomad_job *job;
	int type; /* the job's Nomad__JobType, 0 when unset */
};

/* Add a problem at the current path. Out of memory is recorded in the
 * list and reported once at the end. */
void nmd_vproblem(struct nmd_vctx *v, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Record that memory ran out; the walk goes on and fails at the end. */
void nmd_vctx_oom(struct nmd_vctx *v);

/* Extend the path by `block` ("resources: "); returns the mark to pop to. */
size_t nmd_vpath_push(struct nmd_vctx *v, const char *block);
/* Extend it by `block N` with N 1-based ("constraint 2: "). */
size_t nmd_vpath_push_index(struct nmd_vctx *v, const char *block, size_t i);
/* Extend it by `block "name"`, or `block N` when the name is empty. With
 * `join`, the new part continues the last one (`group "a" task "b": `). */
size_t nmd_vpath_push_named(struct nmd_vctx *v, const char *block,
			    const char *name, size_t i, bool join);
void nmd_vpath_pop(struct nmd_vctx *v, size_t mark);

/* Go's Duration.String() of `ns` into `buf` (32 bytes), returned. */
const char *nmd_vdur(char *buf, int64_t ns);

/* "" for NULL. */
static inline const char *nmd_vstr(const char *s)
{
	return s ? s : "";
}

/* ---- single blocks (validate_rules.c) ------------------------------------ */

/* Placement rules. */
void nmd_check_constraint(struct nmd_vctx *v, const Nomad__Constraint *c);
void nmd_check_affinity(struct nmd_vctx *v, const Nomad__Affinity *a);
void nmd_check_spread(struct nmd_vctx *v, const Nomad__Spread *s);

/* Policies. */
void nmd_check_update(struct nmd_vctx *v, const Nomad__UpdateStrategy *u);
void nmd_check_migrate(struct nmd_vctx *v, const Nomad__MigrateStrategy *m);
void nmd_check_restart(struct nmd_vctx *v, const Nomad__RestartPolicy *r);
void nmd_check_reschedule(struct nmd_vctx *v,
			  const Nomad__ReschedulePolicy *r);
void nmd_check_disconnect(struct nmd_vctx *v,
			  const Nomad__DisconnectStrategy *d);
void nmd_check_periodic(struct nmd_vctx *v, const Nomad__PeriodicConfig *p);
void nmd_check_parameterized(struct nmd_vctx *v,
			     const Nomad__ParameterizedJobConfig *p);

/* Task blocks. */
void nmd_check_resources(struct nmd_vctx *v, const Nomad__Resources *r);
void nmd_check_template(struct nmd_vctx *v, const Nomad__Template *t);
void nmd_check_artifact(struct nmd_vctx *v, const Nomad__TaskArtifact *a);
void nmd_check_vault(struct nmd_vctx *v, const Nomad__Vault *vault);
void nmd_check_volume(struct nmd_vctx *v, const Nomad__VolumeRequest *r,
		      int32_t count, int32_t canaries);

/* Services (validate_services.c): a task's, with the ports of its group,
 * and a group's own. */
void nmd_check_task_services(struct nmd_vctx *v, const Nomad__TaskGroup *tg,
			     const Nomad__Task *t);
void nmd_check_group_services(struct nmd_vctx *v,
			      const Nomad__TaskGroup *tg);

/* Whether `path`, joined to the allocation directory under `prefix`
 * ("task", "task/local"), leaves that directory (Nomad's
 * PathEscapesAllocDir, lexically). */
bool nmd_path_escapes(const char *prefix, const char *path);

/* Parsers. Each returns true when `s` is valid, else false with a reason
 * in `why` (lowercase, no trailing period). */
bool nmd_cron_parse(const char *s, char *why, size_t cap);
bool nmd_version_constraint_parse(const char *s, bool semver, char *why,
				  size_t cap);

#endif
