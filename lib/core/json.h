/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Small helpers over cJSON for ad-hoc documents whose shape is not known in
 * advance, such as a driver's free-form `config` block. Typed documents
 * (jobs, nodes, allocations) go through core/jsonlex.h instead, which keeps
 * int64 values exact; cJSON holds every number as a double.
 *
 * cJSON allocates with its own hooks (malloc unless the application called
 * cJSON_InitHooks, which libnomad never does); free a tree with
 * cJSON_Delete.
 *
 * The getters share one contract. An absent key, a JSON null and a NULL
 * `obj` (so lookups chain through cJSON_GetObjectItemCaseSensitive) return
 * NOMAD_ENOTFOUND without touching `err` or `*out`, so a caller can set a
 * default first. A value of the wrong type, or an `obj` that is not an
 * object, returns NOMAD_EINVAL with a message that names the key, prefixed
 * by the object's own key when it has one:
 * `config: "command": expected a string, got number`. When a key appears
 * twice the last one counts, as in Go's encoding/json.
 *
 * Threads: one thread at a time per tree. cJSON records the position of a
 * failed parse in a static of its own, so concurrent failing parses race
 * on that (we never read it).
 */
#ifndef NMD_CORE_JSON_H
#define NMD_CORE_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <nomad/core.h>

/* Parse exactly one JSON value from text[0..len) (no NUL needed; only
 * white space may follow the value). NULL on failure, with NOMAD_EPARSE,
 * the line and column (1-based, in bytes) and "json: syntax error near
 * line L column C" in `err`. */
cJSON *nmd_cjson_parse(const char *text, size_t len, nomad_error *err);

/* The name of an item's type as messages use it: "string", "number",
 * "bool", "null", "array", "object"; "invalid" for NULL. */
const char *nmd_cjson_type_name(const cJSON *item);

/* *out borrows the string from the tree. */
nomad_err nmd_cjson_get_string(const cJSON *obj, const char *key,
			       const char **out, nomad_error *err);
/* The number must be integral and within int64's range (values beyond
 * 2^53 are whatever double cJSON rounded them to). */
nomad_err nmd_cjson_get_i64(const cJSON *obj, const char *key, int64_t *out,
			    nomad_error *err);
nomad_err nmd_cjson_get_bool(const cJSON *obj, const char *key, bool *out,
			     nomad_error *err);
/* An array of strings, copied with allocator `a`: *out holds *n strings
 * and a NULL after them, as argv does (an empty array gives a one-element
 * array holding NULL); `n` may be NULL. Free with
 * nmd_cjson_free_string_array. NOMAD_ENOMEM when an allocation fails. */
nomad_err nmd_cjson_get_string_array(const cJSON *obj, const char *key,
				     const nomad_allocator *a, char ***out,
				     size_t *n, nomad_error *err);
/* Free what nmd_cjson_get_string_array returned; NULL is accepted. */
void nmd_cjson_free_string_array(const nomad_allocator *a, char **arr);

#endif
