/* SPDX-License-Identifier: MPL-2.0 */
/*
 * JSON to message, for every type in proto/structs.proto, driven by the
 * protoc-c descriptors: a member's name picks the field (exactly, else
 * case-insensitively as Go does), the field's type says what JSON value it
 * takes. The pull lexer feeds values straight into the message, so there is
 * no intermediate tree. A failed decode frees the partial message, and the
 * error names the line, the column and the field path.
 *
 * The message is kept consistent at every step (a count is raised only for
 * an element that is already stored), so freeing it half-built is safe.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/base64.h"
#include "core/error.h"
#include "core/jsonlex.h"
#include "core/timeutil.h"
#include "structs/pb.h"

/* One step of the path to the value being decoded, for error messages. */
struct frame {
	const char *name; /* a field name, or NULL */
	long index;       /* a list index, or -1 */
	const char *key;  /* a map key, or NULL */
};

struct dec {
	struct nmd_jlex lex;
	const nomad_allocator *a;
	unsigned int flags;
	unsigned int depth;
	struct frame path[sizeof(((struct nmd_jlex *)0)->stack) + 1];
};

static nomad_err decode_message(struct dec *d, ProtobufCMessage *msg);
static nomad_err decode_repeated(struct dec *d,
				 const ProtobufCFieldDescriptor *f,
				 ProtobufCMessage *msg);

/* ---- path and errors ---------------------------------------------------- */

static void push(struct dec *d, const char *name, long index, const char *key)
{
	if (d->depth < sizeof(d->path) / sizeof(d->path[0]))
		d->path[d->depth] = (struct frame){name, index, key};
	d->depth++;
}

static void pop(struct dec *d)
{
	d->depth--;
}

static void render_path(const struct dec *d, char *out, size_t cap)
{
	size_t len = 0;
	unsigned n = d->depth;
	out[0] = '\0';
	if (n > sizeof(d->path) / sizeof(d->path[0]))
		n = sizeof(d->path) / sizeof(d->path[0]);
	for (unsigned i = 0; i < n && len < cap; i++) {
		const struct frame *fr = &d->path[i];
		int w;
		if (fr->name)
			w = snprintf(out + len, cap - len, "%s%s",
				     len ? "." : "", fr->name);
		else if (fr->key)
			w = snprintf(out + len, cap - len, "[%s]", fr->key);
		else
			w = snprintf(out + len, cap - len, "[%ld]", fr->index);
		if (w < 0)
			break;
		len += (size_t)w;
	}
	if (len == 0)
		snprintf(out, cap, "(top level)");
}

static nomad_err fail(struct dec *d, nomad_err code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static nomad_err fail(struct dec *d, nomad_err code, const char *fmt, ...)
{
	char path[200], msg[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	render_path(d, path, sizeof(path));
	return nmd_jlex_fail(&d->lex, code, "%s: %s", path, msg);
}

/* The lexer already recorded a syntax error; pass its code on. */
static nomad_err lex_error(struct dec *d)
{
	return d->lex.code ? d->lex.code : NOMAD_EPARSE;
}

static nomad_err type_error(struct dec *d, const char *expected)
{
	return fail(d, NOMAD_EINVAL, "expected %s, got %s", expected,
		    nmd_jtok_name(d->lex.tok));
}

static nomad_err oom(struct dec *d)
{
	return fail(d, NOMAD_ENOMEM, "out of memory");
}

/* ---- field lookup ---------------------------------------------------------- */

static int name_cmp(const char *name, const char *key, size_t len)
{
	int c = strncmp(name, key, len);
	if (c)
		return c;
	return name[len] != '\0'; /* name is longer: it sorts after */
}

static const ProtobufCFieldDescriptor *
find_field(const struct dec *d, const ProtobufCMessageDescriptor *desc,
	   const char *key, size_t len)
{
	size_t lo = 0, hi = desc->n_fields;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const ProtobufCFieldDescriptor *f =
			&desc->fields[desc->fields_sorted_by_name[mid]];
		int c = name_cmp(f->name, key, len);
		if (c == 0)
			return f;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (d->flags & NOMAD_JSON_CASE_SENSITIVE)
		return NULL;
	for (unsigned i = 0; i < desc->n_fields; i++) {
		const char *name = desc->fields[i].name;
		if (strncasecmp(name, key, len) == 0 && name[len] == '\0')
			return &desc->fields[i];
	}
	return NULL;
}

/* ---- clearing a field before it is set again (duplicate members) -------- */

static void free_value(struct dec *d, const ProtobufCFieldDescriptor *f,
		       void *slot)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		nmd_free(d->a, *(char **)slot);
		*(char **)slot = NULL;
		break;
	case PROTOBUF_C_TYPE_BYTES:
		nmd_free(d->a, ((ProtobufCBinaryData *)slot)->data);
		memset(slot, 0, sizeof(ProtobufCBinaryData));
		break;
	case PROTOBUF_C_TYPE_MESSAGE:
		nmd_pb_free(*(void **)slot, d->a);
		*(void **)slot = NULL;
		break;
	default:
		memset(slot, 0, nmd_pb_scalar_size(f->type));
	}
}

static void clear_field(struct dec *d, const ProtobufCFieldDescriptor *f,
			ProtobufCMessage *msg)
{
	void *slot = nmd_pb_field_ptr(msg, f);
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t *n = nmd_pb_quant_ptr(msg, f);
		size_t sz = nmd_pb_scalar_size(f->type);
		char *arr = *(char **)slot;
		for (size_t i = 0; i < *n; i++)
			free_value(d, f, arr + i * sz);
		nmd_free(d->a, arr);
		*(char **)slot = NULL;
		*n = 0;
		return;
	}
	free_value(d, f, slot);
	if (f->type != PROTOBUF_C_TYPE_STRING &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE &&
	    f->label == PROTOBUF_C_LABEL_OPTIONAL)
		*(protobuf_c_boolean *)nmd_pb_quant_ptr(msg, f) = 0;
}

/* ---- scalars ------------------------------------------------------------- */

static nomad_err decode_int(struct dec *d, ProtobufCType type, void *slot)
{
	int64_t i;
	uint64_t u;
	const char *s = d->lex.str;
	size_t n = d->lex.slen;
	if (d->lex.tok != NMD_JT_NUMBER)
		return type_error(d, "an integer");
	switch (type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		if (!nmd_json_num_i64(s, n, &i) || i < INT32_MIN || i > INT32_MAX)
			break;
		*(int32_t *)slot = (int32_t)i;
		return NOMAD_OK;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		if (!nmd_json_num_u64(s, n, &u) || u > UINT32_MAX)
			break;
		*(uint32_t *)slot = (uint32_t)u;
		return NOMAD_OK;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		if (!nmd_json_num_u64(s, n, &u))
			break;
		*(uint64_t *)slot = u;
		return NOMAD_OK;
	default:
		if (!nmd_json_num_i64(s, n, &i))
			break;
		*(int64_t *)slot = i;
		return NOMAD_OK;
	}
	if (memchr(s, '.', n) || memchr(s, 'e', n) || memchr(s, 'E', n))
		return fail(d, NOMAD_EINVAL, "expected an integer, got %.*s",
			    (int)(n > 40 ? 40 : n), s);
	return fail(d, NOMAD_ERANGE, "number %.*s%s is out of range for %s",
		    (int)(n > 40 ? 40 : n), s, n > 40 ? "..." : "",
		    type == PROTOBUF_C_TYPE_INT32 ? "a 32-bit integer"
		    : type == PROTOBUF_C_TYPE_UINT32 ? "an unsigned 32-bit integer"
		    : type == PROTOBUF_C_TYPE_UINT64 ? "an unsigned 64-bit integer"
						      : "a 64-bit integer");
}

static nomad_err decode_enum(struct dec *d, const ProtobufCEnumDescriptor *e,
			     int *slot, bool *set)
{
	char allowed[200];
	size_t len = 0;
	*set = false;
	if (d->lex.tok != NMD_JT_STRING)
		return type_error(d, "a string");
	if (d->lex.slen == 0)
		return NOMAD_OK; /* "" is unset, as Go's zero value */
	for (unsigned i = 0; i < e->n_values; i++) {
		const char *name = e->values[i].name;
		if (name_cmp(name, d->lex.str, d->lex.slen) == 0) {
			*slot = e->values[i].value;
			*set = true;
			return NOMAD_OK;
		}
	}
	allowed[0] = '\0';
	for (unsigned i = 0; i < e->n_values && len < sizeof(allowed); i++) {
		int w = snprintf(allowed + len, sizeof(allowed) - len, "%s%s",
				 i ? ", " : "", e->values[i].name);
		if (w > 0)
			len += (size_t)w;
	}
	return fail(d, NOMAD_EINVAL, "unknown value \"%.*s\" (expected one of: %s)",
		    (int)(d->lex.slen > 64 ? 64 : d->lex.slen), d->lex.str,
		    allowed);
}

static nomad_err decode_string(struct dec *d, char **slot)
{
	if (d->lex.tok != NMD_JT_STRING)
		return type_error(d, "a string");
	/* C strings end at NUL: refuse rather than cut the value short. */
	if (memchr(d->lex.str, '\0', d->lex.slen))
		return fail(d, NOMAD_EINVAL, "string contains a NUL character");
	if (!(*slot = nmd_strndup(d->a, d->lex.str, d->lex.slen)))
		return oom(d);
	return NOMAD_OK;
}

static nomad_err decode_bytes(struct dec *d, ProtobufCBinaryData *slot)
{
	if (d->lex.tok != NMD_JT_STRING)
		return type_error(d, "a base64 string");
	if (!nmd_base64_decode(d->a, d->lex.str, d->lex.slen, &slot->data,
			       &slot->len))
		return fail(d, NOMAD_EINVAL, "invalid base64 data");
	return NOMAD_OK;
}

/* ---- messages with a JSON form of their own ---------------------------- */

static nomad_err decode_timestamp(struct dec *d, Nomad__Timestamp *ts)
{
	int64_t sec;
	int32_t nsec;
	if (d->lex.tok != NMD_JT_STRING)
		return type_error(d, "an RFC 3339 time string");
	if (!nmd_rfc3339_parse(d->lex.str, d->lex.slen, &sec, &nsec))
		return fail(d, NOMAD_EINVAL, "invalid RFC 3339 time \"%.*s\"",
			    (int)(d->lex.slen > 40 ? 40 : d->lex.slen),
			    d->lex.str);
	ts->has_seconds = ts->has_nanos = 1;
	ts->seconds = sec;
	ts->nanos = nsec;
	return NOMAD_OK;
}

static nomad_err decode_raw(struct dec *d, Nomad__RawJSON *raw)
{
	struct nmd_buf b;
	size_t len;
	nmd_buf_init(&b, d->a);
	if (!nmd_jlex_copy_compact(&d->lex, &b)) {
		nmd_buf_free(&b);
		return d->lex.tok == NMD_JT_ERROR ? lex_error(d) : oom(d);
	}
	raw->json = nmd_buf_steal(&b, &len);
	return raw->json ? NOMAD_OK : oom(d);
}

static nomad_err decode_submessage(struct dec *d,
				   const ProtobufCMessageDescriptor *desc,
				   ProtobufCMessage **slot)
{
	bool list = nmd_pb_is_list_wrapper(desc);
	ProtobufCMessage *m;
	if (desc == &nomad__raw_json__descriptor) {
		/* any JSON value */
	} else if (desc == &nomad__timestamp__descriptor) {
		if (d->lex.tok != NMD_JT_STRING)
			return type_error(d, "an RFC 3339 time string");
	} else if (list ? d->lex.tok != NMD_JT_ARR_BEGIN
			: d->lex.tok != NMD_JT_OBJ_BEGIN) {
		return type_error(d, list ? "an array" : "an object");
	}
	if (!(*slot = m = nmd_pb_new(desc, d->a)))
		return oom(d);
	if (desc == &nomad__raw_json__descriptor)
		return decode_raw(d, (Nomad__RawJSON *)m);
	if (desc == &nomad__timestamp__descriptor)
		return decode_timestamp(d, (Nomad__Timestamp *)m);
	if (list)
		return decode_repeated(d, &desc->fields[0], m);
	return decode_message(d, m);
}

/* Decode the current (non-null) token as one value of field `f`. `set` is
 * cleared when the value means "unset" (an empty enum string). */
static nomad_err decode_value(struct dec *d, const ProtobufCFieldDescriptor *f,
			      void *slot, bool *set)
{
	*set = true;
	switch (f->type) {
	case PROTOBUF_C_TYPE_BOOL:
		if (d->lex.tok != NMD_JT_TRUE && d->lex.tok != NMD_JT_FALSE)
			return type_error(d, "a boolean");
		*(protobuf_c_boolean *)slot = d->lex.tok == NMD_JT_TRUE;
		return NOMAD_OK;
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE: {
		double v;
		if (d->lex.tok != NMD_JT_NUMBER)
			return type_error(d, "a number");
		if (!nmd_json_num_double(d->lex.str, d->lex.slen, &v))
			return fail(d, NOMAD_ERANGE, "number out of range");
		if (f->type == PROTOBUF_C_TYPE_FLOAT)
			*(float *)slot = (float)v;
		else
			*(double *)slot = v;
		return NOMAD_OK;
	}
	case PROTOBUF_C_TYPE_ENUM:
		return decode_enum(d, f->descriptor, slot, set);
	case PROTOBUF_C_TYPE_STRING:
		return decode_string(d, slot);
	case PROTOBUF_C_TYPE_BYTES:
		return decode_bytes(d, slot);
	case PROTOBUF_C_TYPE_MESSAGE:
		return decode_submessage(d, f->descriptor, slot);
	default:
		return decode_int(d, f->type, slot);
	}
}

/* ---- lists and maps -------------------------------------------------------- */

/* Make room for element n of a list whose array holds *cap elements. */
static bool list_room(struct dec *d, char **arr, size_t n, size_t *cap,
		      size_t size)
{
	size_t want;
	char *grown;
	if (n < *cap)
		return true;
	want = *cap ? *cap * 2 : 4;
	if (!(grown = nmd_reallocarray(d->a, *arr, want, size)))
		return false;
	*arr = grown;
	*cap = want;
	return true;
}

static nomad_err decode_list_element(struct dec *d,
				     const ProtobufCFieldDescriptor *f,
				     char **arr, size_t *n, size_t *cap)
{
	size_t sz = nmd_pb_scalar_size(f->type);
	char tmp[sizeof(ProtobufCBinaryData)] = {0};
	bool set;
	nomad_err rc;
	if (!list_room(d, arr, *n, cap, sz))
		return oom(d);
	/* A null element is the zero value, as in Go ("" for a string); a
	 * list of messages never holds a null (protobuf cannot carry one). */
	if (d->lex.tok == NMD_JT_NULL) {
		if (f->type == PROTOBUF_C_TYPE_MESSAGE)
			return type_error(d, "an object");
		memset(*arr + *n * sz, 0, sz);
		if (f->type == PROTOBUF_C_TYPE_STRING &&
		    !(*(char **)(*arr + *n * sz) = nmd_strdup(d->a, "")))
			return oom(d);
		(*n)++;
		return NOMAD_OK;
	}
	if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
		/* Store first so that a failure frees the partial element. */
		ProtobufCMessage **slot = (ProtobufCMessage **)(*arr + *n * sz);
		*slot = NULL;
		(*n)++;
		return decode_submessage(d, f->descriptor, slot);
	}
	if ((rc = decode_value(d, f, tmp, &set)) < 0) {
		free_value(d, f, tmp);
		return rc;
	}
	memcpy(*arr + *n * sz, tmp, sz);
	(*n)++;
	return NOMAD_OK;
}

static nomad_err decode_repeated(struct dec *d,
				 const ProtobufCFieldDescriptor *f,
				 ProtobufCMessage *msg)
{
	char **arr = nmd_pb_field_ptr(msg, f);
	size_t *n = nmd_pb_quant_ptr(msg, f), cap = 0;
	nomad_err rc = NOMAD_OK;
	if (d->lex.tok != NMD_JT_ARR_BEGIN)
		return type_error(d, "an array");
	clear_field(d, f, msg);
	for (long i = 0;; i++) {
		enum nmd_jtok t = nmd_jlex_next(&d->lex);
		if (t == NMD_JT_ARR_END)
			break;
		if (t == NMD_JT_ERROR)
			return lex_error(d);
		push(d, NULL, i, NULL);
		rc = decode_list_element(d, f, arr, n, &cap);
		pop(d);
		if (rc < 0)
			return rc;
	}
	return rc;
}

/* One member of a map object: a new entry keyed by the member name. */
static nomad_err decode_map_entry(struct dec *d,
				  const ProtobufCMessageDescriptor *edesc,
				  char **arr, size_t *n, size_t *cap)
{
	const ProtobufCFieldDescriptor *vf = &edesc->fields[1];
	ProtobufCMessage *e;
	char **key;
	bool set;
	nomad_err rc;
	if (!list_room(d, arr, *n, cap, sizeof(void *)) ||
	    !(e = nmd_pb_new(edesc, d->a)))
		return oom(d);
	((ProtobufCMessage **)*arr)[(*n)++] = e;
	key = nmd_pb_field_ptr(e, &edesc->fields[0]);
	if ((rc = decode_string(d, key)) < 0)
		return rc;
	push(d, NULL, -1, *key);
	if (nmd_jlex_next(&d->lex) == NMD_JT_ERROR)
		rc = lex_error(d);
	else if (d->lex.tok != NMD_JT_NULL &&
		 (rc = decode_value(d, vf, nmd_pb_field_ptr(e, vf), &set)) >= 0 &&
		 set && vf->type != PROTOBUF_C_TYPE_STRING &&
		 vf->type != PROTOBUF_C_TYPE_MESSAGE)
		*(protobuf_c_boolean *)nmd_pb_quant_ptr(e, vf) = 1;
	pop(d);
	return rc;
}

static nomad_err decode_map(struct dec *d, const ProtobufCFieldDescriptor *f,
			    ProtobufCMessage *msg)
{
	char **arr = nmd_pb_field_ptr(msg, f);
	size_t *n = nmd_pb_quant_ptr(msg, f), cap = 0;
	nomad_err rc;
	if (d->lex.tok != NMD_JT_OBJ_BEGIN)
		return type_error(d, "an object");
	clear_field(d, f, msg);
	for (;;) {
		enum nmd_jtok t = nmd_jlex_next(&d->lex);
		if (t == NMD_JT_OBJ_END)
			break;
		if (t == NMD_JT_ERROR)
			return lex_error(d);
		/* The lexer returns the member name as a string token. */
		d->lex.tok = NMD_JT_STRING;
		if ((rc = decode_map_entry(d, f->descriptor, arr, n, &cap)) < 0)
			return rc;
	}
	/* Sorted by key, last duplicate wins: the canonical form. */
	nmd_map_normalize(d->a, (ProtobufCMessage **)*arr, n);
	return NOMAD_OK;
}

/* ---- fields and messages --------------------------------------------------- */

static nomad_err decode_field(struct dec *d, const ProtobufCFieldDescriptor *f,
			      ProtobufCMessage *msg)
{
	void *slot = nmd_pb_field_ptr(msg, f);
	bool set;
	nomad_err rc;
	if (d->lex.tok == NMD_JT_NULL) {
		clear_field(d, f, msg);
		return NOMAD_OK;
	}
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		if (f->type == PROTOBUF_C_TYPE_MESSAGE &&
		    nmd_pb_is_map_entry(f->descriptor))
			return decode_map(d, f, msg);
		return decode_repeated(d, f, msg);
	}
	clear_field(d, f, msg);
	if ((rc = decode_value(d, f, slot, &set)) < 0)
		return rc;
	if (set && f->type != PROTOBUF_C_TYPE_STRING &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE &&
	    f->label == PROTOBUF_C_LABEL_OPTIONAL)
		*(protobuf_c_boolean *)nmd_pb_quant_ptr(msg, f) = 1;
	return NOMAD_OK;
}

static nomad_err decode_member(struct dec *d, ProtobufCMessage *msg)
{
	const ProtobufCFieldDescriptor *f =
		find_field(d, msg->descriptor, d->lex.str, d->lex.slen);
	nomad_err rc;
	if (!f) {
		if (d->flags & NOMAD_JSON_STRICT) {
			return fail(d, NOMAD_EINVAL,
				    "unknown field \"%.*s\" in %s",
				    (int)(d->lex.slen > 64 ? 64 : d->lex.slen),
				    d->lex.str, msg->descriptor->short_name);
		}
		if (nmd_jlex_next(&d->lex) == NMD_JT_ERROR ||
		    !nmd_jlex_skip(&d->lex))
			return lex_error(d);
		return NOMAD_OK;
	}
	push(d, f->name, -1, NULL);
	if (nmd_jlex_next(&d->lex) == NMD_JT_ERROR)
		rc = lex_error(d);
	else
		rc = decode_field(d, f, msg);
	pop(d);
	return rc;
}

static nomad_err decode_message(struct dec *d, ProtobufCMessage *msg)
{
	for (;;) {
		enum nmd_jtok t = nmd_jlex_next(&d->lex);
		nomad_err rc;
		if (t == NMD_JT_OBJ_END)
			return NOMAD_OK;
		if (t != NMD_JT_KEY)
			return lex_error(d);
		if ((rc = decode_member(d, msg)) < 0)
			return rc;
	}
}

nomad_err nomad_json_options_init(nomad_json_options *opts,
				  unsigned int version)
{
	if (!opts || version != NOMAD_JSON_OPTIONS_VERSION)
		return NOMAD_EINVAL;
	*opts = (nomad_json_options)NOMAD_JSON_OPTIONS_INIT;
	return NOMAD_OK;
}

nomad_err nomad_msg_from_json(ProtobufCMessage **out,
			      const ProtobufCMessageDescriptor *desc,
			      const char *json, size_t len,
			      const nomad_json_options *opts,
			      const nomad_allocator *alloc, nomad_error *err)
{
	struct dec *d;
	ProtobufCMessage *msg = NULL;
	nomad_err rc;

	if (!out || !desc || (!json && len))
		return nmd_seterr(err, NOMAD_EINVAL, "json: no input");
	*out = NULL;
	if (opts && opts->version != NOMAD_JSON_OPTIONS_VERSION)
		return nmd_seterr(err, NOMAD_EINVAL,
				  "json: unknown options version %u",
				  opts->version);
	/* The path frames make the state a few kilobytes: keep it off the
	 * stack of threads with small stacks. */
	if (!(d = nmd_calloc(alloc, 1, sizeof(*d))))
		return nmd_seterr(err, NOMAD_ENOMEM, "json: out of memory");
	d->a = alloc;
	d->flags = opts ? opts->flags : 0;
	nmd_jlex_init(&d->lex, json ? json : "", len,
		      opts ? opts->max_depth : 0, alloc, err);
	d->lex.name = opts ? opts->name : NULL;

	if (nmd_jlex_next(&d->lex) == NMD_JT_ERROR) {
		rc = lex_error(d);
	} else if (d->lex.tok != NMD_JT_OBJ_BEGIN) {
		rc = fail(d, NOMAD_EINVAL, "expected a JSON object for %s, got %s",
			  desc->short_name, nmd_jtok_name(d->lex.tok));
	} else if (!(msg = nmd_pb_new(desc, alloc))) {
		rc = oom(d);
	} else if ((rc = decode_message(d, msg)) >= 0 &&
		   nmd_jlex_next(&d->lex) != NMD_JT_EOF) {
		rc = lex_error(d);
	}
	nmd_jlex_free(&d->lex);
	nmd_free(alloc, d);
	if (rc < 0) {
		nmd_pb_free(msg, alloc);
		return rc;
	}
	*out = msg;
	return NOMAD_OK;
}
