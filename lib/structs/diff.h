/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Job diffs, shared by the files of lib/structs/ that build them: the
 * descriptor-driven diff engine (diff.c), the table of Nomad's per-type
 * diff rules with the job, group and task levels (diffjob.c), and the
 * update-kind rules of Nomad's scheduler (update.c).
 *
 * The engine walks a message's descriptor for its primitive fields, as
 * Nomad's flatmap does, and takes its nested objects from a `spec`: which
 * fields become ObjectDiffs, under what name, and how list elements are
 * matched. Everything not named in a spec's children is either a
 * primitive field (scalars and string maps) or not diffed, as in Nomad.
 */
#ifndef NMD_STRUCTS_DIFF_H
#define NMD_STRUCTS_DIFF_H

#include <stdbool.h>
#include <nomad/structs.h>

/* How an object's type is decided. */
enum nmd_diff_style {
	/* Nomad's per-type Diff methods: equal is no diff, a missing side is
	 * Added or Deleted, anything else Edited even when no shown field
	 * changed. */
	NMD_DIFF_STRUCT,
	/* Nomad's primitiveObjectDiff: the type follows the field diffs
	 * (Edited, or Added/Deleted when every change is one), and no
	 * changed field means no diff. */
	NMD_DIFF_PRIM,
};

/* How a child field of a message is diffed. */
enum nmd_diff_kind {
	NMD_DK_OBJECT,    /* one nested message (`via` descends once more) */
	NMD_DK_STRSET,    /* repeated string as a set (stringSetDiff) */
	NMD_DK_STRSET_NZ, /* the same, left out when unchanged */
	NMD_DK_SET,       /* repeated message matched by equality */
	NMD_DK_KEYED,     /* repeated message matched by string field `via` */
	NMD_DK_MAP,       /* map entries holding messages, matched by key */
	NMD_DK_LIST,      /* repeated message matched by position */
	NMD_DK_SERVICES,  /* Nomad's service matching (name, port, index) */
	NMD_DK_TEMPLATES, /* Nomad's template matching (destination) */
	NMD_DK_JSON,      /* a RawJSON value, flattened like a Go map */
	NMD_DK_HEADER,    /* a map of string lists, flattened */
};

/* Spec flags. */
enum {
	NMD_DS_NOCTX = 1u << 0, /* fields never contextual (job, group, task) */
	NMD_DS_SORT = 1u << 1,  /* sort all child objects at the end */
	NMD_DS_JOIN = 1u << 2,  /* string lists are fields joined by "," */
	NMD_DS_BARE = 1u << 3,  /* map entries are named by key alone */
};

struct nmd_diff_spec;

struct nmd_diff_child {
	const char *field; /* the field's proto name in the parent */
	const char *name;  /* the ObjectDiff's Name */
	enum nmd_diff_kind kind;
	const struct nmd_diff_spec *spec; /* for message elements */
	const char *via;   /* KEYED: key field; OBJECT: sub-message */
	unsigned int flags; /* NMD_DS_NOCTX for JSON children */
};

struct nmd_diff_spec {
	const ProtobufCMessageDescriptor *desc;
	enum nmd_diff_style style;
	unsigned int flags;
	/* NULL-terminated lists of field names (or flattened keys such as
	 * "Target[Job]") that are not fields of the diff. */
	const char *const *skip;
	/* Fields that are Go pointers in Nomad: shown only when set. */
	const char *const *ptr;
	/* Go pointers Nomad shows only when both sides exist, as "" when
	 * unset (TaskGroup.ShutdownDelay and its kin). */
	const char *const *edit_ptr;
	const struct nmd_diff_child *children;
	size_t n_children;
};

/* State of one diff computation; `oom` is set by any failed allocation
 * and makes the caller discard the result. */
struct nmd_diff_ctx {
	bool contextual;
	bool oom;
};

/* A new ObjectDiff (FieldDiff, ...) of `desc` with Type and Name set. */
void *nmd_diff_new(struct nmd_diff_ctx *c,
		   const ProtobufCMessageDescriptor *desc, int type,
		   const char *name);

/* Fill `out`'s Fields and Objects with the diff of `a` and `b` under `s`.
 * A NULL side has no fields at all (everything on the other side is
 * Added or Deleted) and empty children. */
void nmd_diff_body(struct nmd_diff_ctx *c, const struct nmd_diff_spec *s,
		   const ProtobufCMessage *a, const ProtobufCMessage *b,
		   Nomad__ObjectDiff *out);

/* Deep equality as Nomad's reflect.DeepEqual sees it: like
 * nomad_msg_equal, but RawJSON values compare as JSON (key order and
 * spacing do not count). */
bool nmd_diff_equal(const ProtobufCMessage *a, const ProtobufCMessage *b);

/* Whether any of the fields or objects is not of Type None. */
bool nmd_diff_any_change(Nomad__FieldDiff *const *f, size_t nf,
			 Nomad__ObjectDiff *const *o, size_t no);

/* Append the message `elem` to a repeated message field; NULL adds
 * nothing. On failure `elem` is freed and c->oom set. */
void nmd_diff_push(struct nmd_diff_ctx *c, void ***arr, size_t *n,
		   void *elem);
#define NMD_DIFF_PUSH(c, arr, n, e)                                           \
	nmd_diff_push((c), (void ***)&(arr), &(n), (e))

/* Append `s` to a repeated string field; sets c->oom on failure. */
void nmd_diff_add_string(struct nmd_diff_ctx *c, char ***arr, size_t *n,
			 const char *s);

/* Whether a job field is set by the server and left out of diffs and of
 * the update-kind comparison (Version, indexes, status, tokens, ...). */
bool nmd_structs_job_server_field(const char *name);

/* Whether two RawJSON values hold the same JSON; NULL, `null` and `{}`
 * count as empty and equal each other. */
bool nmd_structs_rawjson_equal(const Nomad__RawJSON *a,
			       const Nomad__RawJSON *b);

/* Whether task `task` of group `group` needs to be recreated: Nomad's
 * per-task tasksUpdated checks (driver, user, config, env, artifacts,
 * vault, consul, templates, CSI plugin, volume mounts, combined meta,
 * networks, non-network resources, identities, log disabling,
 * restart.render_templates, secrets). True when the group or the task is
 * missing from either job. */
bool nmd_structs_task_destructive(const nomad_job *old_job,
				  const nomad_job *new_job, const char *group,
				  const char *task);

#endif
