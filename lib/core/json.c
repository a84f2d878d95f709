/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Helpers over cJSON for free-form documents (a driver's config block and
 * the like): parsing with a located error, and typed getters whose
 * messages name the key. See json.h for the shared contract.
 *
 * cJSON's process-wide hooks are left alone (the application owns them),
 * and so is its global error pointer: the position comes back through
 * cJSON_ParseWithLengthOpts' return_parse_end instead.
 */
#include <string.h>

#include "core/alloc.h"
#include "core/error.h"
#include "core/json.h"

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Line and column (1-based, bytes) of offset `pos` in text. */
static void locate(const char *text, size_t pos, unsigned int *line,
		   unsigned int *col)
{
	size_t start = 0;

	*line = 1;
	for (size_t i = 0; i < pos; i++)
		if (text[i] == '\n') {
			(*line)++;
			start = i + 1;
		}
	*col = (unsigned int)(pos - start + 1);
}

cJSON *nmd_cjson_parse(const char *text, size_t len, nomad_error *err)
{
	const char *end = NULL;
	cJSON *root = NULL;
	size_t pos = 0;
	unsigned int line, col;

	if (!text) {
		nmd_seterr(err, NOMAD_EINVAL, "json: no input");
		return NULL;
	}
	/* Not NUL-terminated: cJSON stops at len, and trailing text is
	 * checked here instead. */
	root = cJSON_ParseWithLengthOpts(text, len, &end, false);
	if (end && end >= text && end <= text + len)
		pos = (size_t)(end - text);
	if (root) {
		while (pos < len && is_space(text[pos]))
			pos++;
		if (pos == len)
			return root;
		cJSON_Delete(root);
	}
	locate(text, pos, &line, &col);
	nmd_seterr_at(err, NOMAD_EPARSE, NULL, line, col,
		      "json: syntax error near line %u column %u", line, col);
	return NULL;
}

const char *nmd_cjson_type_name(const cJSON *item)
{
	if (!item)
		return "invalid";
	switch (item->type & 0xff) {
	case cJSON_False:
	case cJSON_True:
		return "bool";
	case cJSON_NULL:
		return "null";
	case cJSON_Number:
		return "number";
	case cJSON_String:
		return "string";
	case cJSON_Array:
		return "array";
	case cJSON_Object:
		return "object";
	case cJSON_Raw:
		return "raw";
	}
	return "invalid";
}

/* The member named `key`, the last one when it repeats (Go's rule). */
static const cJSON *member(const cJSON *obj, const char *key)
{
	const cJSON *found = NULL;

	for (const cJSON *c = obj->child; c; c = c->next)
		if (c->string && strcmp(c->string, key) == 0)
			found = c;
	return found;
}

/* "config: " when the object has a key of its own, else "". */
static const char *prefix(const cJSON *obj, const char **sep)
{
	bool named = obj->string && obj->string[0];

	*sep = named ? ": " : "";
	return named ? obj->string : "";
}

/* Find `key` in obj: NOMAD_OK with *item set, NOMAD_ENOTFOUND when absent
 * or null, NOMAD_EINVAL when obj is not an object. */
static nomad_err lookup(const cJSON *obj, const char *key,
			const cJSON **item, nomad_error *err)
{
	const char *sep, *pre;

	if (!obj || !key)
		return NOMAD_ENOTFOUND;
	pre = prefix(obj, &sep);
	if (!cJSON_IsObject(obj))
		return nmd_seterr(err, NOMAD_EINVAL,
				  "%s%s\"%s\": expected an object, got %s", pre,
				  sep, key, nmd_cjson_type_name(obj));
	*item = member(obj, key);
	if (!*item || cJSON_IsNull(*item))
		return NOMAD_ENOTFOUND;
	return NOMAD_OK;
}

static nomad_err type_error(const cJSON *obj, const char *key,
			    const char *want, const cJSON *item,
			    nomad_error *err)
{
	const char *sep, *pre = prefix(obj, &sep);

	return nmd_seterr(err, NOMAD_EINVAL, "%s%s\"%s\": expected %s, got %s",
			  pre, sep, key, want, nmd_cjson_type_name(item));
}

nomad_err nmd_cjson_get_string(const cJSON *obj, const char *key,
			       const char **out, nomad_error *err)
{
	const cJSON *item = NULL;
	nomad_err error;

	if ((error = lookup(obj, key, &item, err)) < 0)
		return error;
	if (!cJSON_IsString(item) || !item->valuestring)
		return type_error(obj, key, "a string", item, err);
	*out = item->valuestring;
	return NOMAD_OK;
}

nomad_err nmd_cjson_get_i64(const cJSON *obj, const char *key, int64_t *out,
			    nomad_error *err)
{
	/* [-2^63, 2^63) exactly: both bounds are powers of two. */
	const double lo = -9223372036854775808.0, hi = 9223372036854775808.0;
	const cJSON *item = NULL;
	const char *sep, *pre;
	nomad_err error;
	double d;

	if ((error = lookup(obj, key, &item, err)) < 0)
		return error;
	if (!cJSON_IsNumber(item))
		return type_error(obj, key, "an integer", item, err);
	d = item->valuedouble;
	/* Written so that NaN fails too. */
	if (!(d >= lo && d < hi) || (double)(int64_t)d != d) {
		pre = prefix(obj, &sep);
		return nmd_seterr(err, NOMAD_EINVAL,
				  "%s%s\"%s\": expected an integer, got %g",
				  pre, sep, key, d);
	}
	*out = (int64_t)d;
	return NOMAD_OK;
}

nomad_err nmd_cjson_get_bool(const cJSON *obj, const char *key, bool *out,
			     nomad_error *err)
{
	const cJSON *item = NULL;
	nomad_err error;

	if ((error = lookup(obj, key, &item, err)) < 0)
		return error;
	if (!cJSON_IsBool(item))
		return type_error(obj, key, "a bool", item, err);
	*out = cJSON_IsTrue(item);
	return NOMAD_OK;
}

void nmd_cjson_free_string_array(const nomad_allocator *a, char **arr)
{
	if (!arr)
		return;
	for (char **p = arr; *p; p++)
		nmd_free(a, *p);
	nmd_free(a, arr);
}

/* Every element must be a string; the first that is not is reported. */
static nomad_err check_elems(const cJSON *obj, const char *key,
			     const cJSON *arr, size_t *count,
			     nomad_error *err)
{
	const char *sep, *pre;
	size_t i = 0;

	for (const cJSON *c = arr->child; c; c = c->next, i++)
		if (!cJSON_IsString(c) || !c->valuestring) {
			pre = prefix(obj, &sep);
			return nmd_seterr(err, NOMAD_EINVAL,
					  "%s%s\"%s\"[%zu]: expected a string, "
					  "got %s",
					  pre, sep, key, i,
					  nmd_cjson_type_name(c));
		}
	*count = i;
	return NOMAD_OK;
}

nomad_err nmd_cjson_get_string_array(const cJSON *obj, const char *key,
				     const nomad_allocator *a, char ***out,
				     size_t *n, nomad_error *err)
{
	nomad_err error = NOMAD_OK;
	const cJSON *item = NULL, *c;
	char **arr = NULL;
	size_t count = 0, i = 0;

	if ((error = lookup(obj, key, &item, err)) < 0)
		goto done;
	if (!cJSON_IsArray(item)) {
		error = type_error(obj, key, "an array of strings", item, err);
		goto done;
	}
	if ((error = check_elems(obj, key, item, &count, err)) < 0)
		goto done;
	/* count + 1 cannot wrap: each element is a node in memory. The
	 * zeroed array stays NULL-terminated however far the copy gets. */
	if (!(arr = nmd_calloc(a, count + 1, sizeof(*arr)))) {
		error = nmd_seterr(err, NOMAD_ENOMEM, "json: out of memory");
		goto done;
	}
	for (c = item->child; c; c = c->next, i++)
		if (!(arr[i] = nmd_strdup(a, c->valuestring))) {
			error = nmd_seterr(err, NOMAD_ENOMEM,
					   "json: out of memory");
			goto done;
		}
	*out = arr;
	arr = NULL;
	if (n)
		*n = count;
done:
	nmd_cjson_free_string_array(a, arr);
	return error;
}
