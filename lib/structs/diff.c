/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The engine of job diffs: Nomad's diff.go rebuilt over protoc-c's
 * descriptors. A message's primitive fields are flattened as Nomad's
 * flatmap does (scalars as Go prints them, string maps as "Meta[key]"),
 * the two flat maps give the FieldDiffs, and the nested objects a spec
 * names (diff.h) become ObjectDiffs, with lists matched as sets, by key,
 * by position, or by Nomad's service and template matching. Free-form
 * JSON (a driver's Config) is parsed and flattened the way Go flattens a
 * map[string]interface{}: "args[0]", "auth[username]".
 *
 * Every function here builds its result or returns NULL; a failed
 * allocation sets ctx->oom and the top level discards the whole diff, so
 * the code in between needs no unwinding.
 */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/buf.h"
#include "core/json.h"
#include "structs/diff.h"
#include "structs/pb.h"

#define NONE NOMAD__DIFF_TYPE__None
#define ADDED NOMAD__DIFF_TYPE__Added
#define DELETED NOMAD__DIFF_TYPE__Deleted
#define EDITED NOMAD__DIFF_TYPE__Edited

/* ---- strings ------------------------------------------------------------ */

static char *sdup(struct nmd_diff_ctx *c, const char *s)
{
	char *d = nmd_strdup(NULL, s ? s : "");
	if (!d)
		c->oom = true;
	return d;
}

static char *dupf(struct nmd_diff_ctx *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static char *dupf(struct nmd_diff_ctx *c, const char *fmt, ...)
{
	va_list ap;
	int len;
	char *s;

	va_start(ap, fmt);
	len = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (len < 0 || !(s = nmd_malloc(NULL, (size_t)len + 1))) {
		c->oom = true;
		return NULL;
	}
	va_start(ap, fmt);
	vsnprintf(s, (size_t)len + 1, fmt, ap);
	va_end(ap);
	return s;
}

/* NULL reads as "", as an unset Go string. */
static bool str_eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

/*
 * Go's %v of a float64 (strconv's 'g' with the shortest precision): the
 * fewest digits that read back to the same value, written as %e (with at
 * least two exponent digits) when the exponent is below -4 or at least 6,
 * and plainly otherwise: 8080, 0.5, 1e+06, 1.5e-05.
 */
static void go_float(char *out, size_t size, double v)
{
	char tmp[40], digits[24], b[64];
	int prec, exp, nd = 0, dp;
	size_t n = 0;
	const char *p = tmp;

	if (isnan(v) || isinf(v)) {
		snprintf(out, size, "%s",
			 isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (prec = 1; prec < 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*e", prec - 1, v);
		if (strtod(tmp, NULL) == v)
			break;
	}
	if (*p == '-')
		b[n++] = *p++;
	for (; *p && *p != 'e'; p++)
		if (*p != '.')
			digits[nd++] = *p;
	exp = *p ? atoi(p + 1) : 0;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	if (exp < -4 || exp >= 6) {
		b[n++] = digits[0];
		if (nd > 1) {
			b[n++] = '.';
			memcpy(b + n, digits + 1, (size_t)nd - 1);
			n += (size_t)nd - 1;
		}
		snprintf(b + n, sizeof(b) - n, "e%c%02d", exp < 0 ? '-' : '+',
			 abs(exp));
		snprintf(out, size, "%s", b);
		return;
	}
	dp = exp + 1;
	if (dp <= 0) {
		b[n++] = '0';
		b[n++] = '.';
		for (int i = 0; i < -dp; i++)
			b[n++] = '0';
	}
	for (int i = 0; i < nd || i < dp; i++) {
		if (i == dp && dp > 0)
			b[n++] = '.';
		b[n++] = i < nd ? digits[i] : '0';
	}
	b[n] = '\0';
	snprintf(out, size, "%s", b);
}

/* ---- flat maps: sorted key/value pairs ----------------------------------- */

struct kv {
	char *key;
	char *val;
	size_t seq;
};

struct flat {
	struct kv *v;
	size_t n, cap;
};

static void flat_put(struct nmd_diff_ctx *c, struct flat *f, char *key,
		     char *val)
{
	if (key && val && f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 16;
		struct kv *grown = nmd_reallocarray(NULL, f->v, cap,
						    sizeof(*f->v));
		if (grown) {
			f->v = grown;
			f->cap = cap;
		}
	}
	if (!key || !val || f->n == f->cap) {
		c->oom = true;
		nmd_free(NULL, key);
		nmd_free(NULL, val);
		return;
	}
	f->v[f->n] = (struct kv){key, val, f->n};
	f->n++;
}

static void flat_free(struct flat *f)
{
	for (size_t i = 0; i < f->n; i++) {
		nmd_free(NULL, f->v[i].key);
		nmd_free(NULL, f->v[i].val);
	}
	nmd_free(NULL, f->v);
	*f = (struct flat){0};
}

static int cmp_kv(const void *x, const void *y)
{
	const struct kv *p = x, *q = y;
	int c = strcmp(p->key, q->key);
	if (c)
		return c;
	return p->seq < q->seq ? -1 : p->seq > q->seq;
}

/* Sort by key; of equal keys the last one put wins, as in a Go map. */
static void flat_finish(struct flat *f)
{
	size_t out = 0;

	if (f->n > 1)
		qsort(f->v, f->n, sizeof(*f->v), cmp_kv);
	for (size_t i = 0; i < f->n; i++) {
		if (i + 1 < f->n && strcmp(f->v[i].key, f->v[i + 1].key) == 0) {
			nmd_free(NULL, f->v[i].key);
			nmd_free(NULL, f->v[i].val);
			continue;
		}
		f->v[out++] = f->v[i];
	}
	f->n = out;
}

static bool flat_equal(const struct flat *a, const struct flat *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (strcmp(a->v[i].key, b->v[i].key) != 0 ||
		    strcmp(a->v[i].val, b->v[i].val) != 0)
			return false;
	return true;
}

/* ---- flattening a message's primitive fields ---------------------------- */

static bool in_list(const char *const *list, const char *name)
{
	for (; list && *list; list++)
		if (strcmp(*list, name) == 0)
			return true;
	return false;
}

/* One scalar as Go's flatmap prints it; an unset value is Go's zero. */
static char *scalar_text(struct nmd_diff_ctx *c,
			 const ProtobufCFieldDescriptor *f, const void *p,
			 bool set)
{
	char num[64];

	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
		return sdup(c, *(char *const *)p);
	case PROTOBUF_C_TYPE_BOOL:
		return sdup(c, set && *(const protobuf_c_boolean *)p ? "true"
								     : "false");
	case PROTOBUF_C_TYPE_ENUM:
		return sdup(c, set ? nomad_enum_name(f->descriptor,
						     *(const int *)p)
				   : NULL);
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return dupf(c, "%" PRId32, set ? *(const int32_t *)p : 0);
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		return dupf(c, "%" PRId64, set ? *(const int64_t *)p : 0);
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return dupf(c, "%" PRIu32, set ? *(const uint32_t *)p : 0);
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return dupf(c, "%" PRIu64, set ? *(const uint64_t *)p : 0);
	case PROTOBUF_C_TYPE_FLOAT:
		go_float(num, sizeof(num), set ? *(const float *)p : 0);
		return sdup(c, num);
	case PROTOBUF_C_TYPE_DOUBLE:
		go_float(num, sizeof(num), set ? *(const double *)p : 0);
		return sdup(c, num);
	default:
		return NULL; /* bytes and messages are never flattened */
	}
}

/* A string map (Meta, Env) as "Name[key]" fields, or bare keys. */
static void flatten_map(struct nmd_diff_ctx *c, const struct nmd_diff_spec *s,
			const ProtobufCMessage *m,
			const ProtobufCFieldDescriptor *f, struct flat *out)
{
	const ProtobufCMessageDescriptor *ed = f->descriptor;
	const ProtobufCFieldDescriptor *kf = &ed->fields[0], *vf = &ed->fields[1];
	size_t n = *(const size_t *)nmd_pb_quant_ptr(m, f);
	ProtobufCMessage *const *e =
		*(ProtobufCMessage *const *const *)nmd_pb_field_ptr(m, f);

	if (vf->type == PROTOBUF_C_TYPE_MESSAGE ||
	    vf->type == PROTOBUF_C_TYPE_BYTES)
		return; /* Go skips pointers below the first struct */
	for (size_t i = 0; i < n; i++) {
		const char *k = *(char *const *)nmd_pb_field_ptr(e[i], kf);
		char *key = (s->flags & NMD_DS_BARE)
				    ? sdup(c, k)
				    : dupf(c, "%s[%s]", f->name, k ? k : "");
		if (key && in_list(s->skip, key)) {
			nmd_free(NULL, key);
			continue;
		}
		flat_put(c, out, key,
			 scalar_text(c, vf, nmd_pb_field_ptr(e[i], vf),
				     nmd_pb_field_present(e[i], vf)));
	}
}

/* A string list joined by "," (Nomad's DNSConfig flattening). */
static void flatten_joined(struct nmd_diff_ctx *c, const ProtobufCMessage *m,
			   const ProtobufCFieldDescriptor *f, struct flat *out)
{
	size_t n = *(const size_t *)nmd_pb_quant_ptr(m, f);
	char *const *v = *(char *const *const *)nmd_pb_field_ptr(m, f);
	struct nmd_buf joined;
	char *text;

	if (n == 0)
		return;
	nmd_buf_init(&joined, NULL);
	for (size_t i = 0; i < n; i++) {
		if (i)
			nmd_buf_putc(&joined, ',');
		nmd_buf_puts(&joined, v[i] ? v[i] : "");
	}
	if (!(text = nmd_buf_steal(&joined, NULL))) {
		c->oom = true;
		return;
	}
	flat_put(c, out, sdup(c, f->name), text);
}

/* Nomad's flatmap.Flatten(obj, filter, true): the scalars of `m`, its
 * string maps, and none of its nested messages or lists. */
static void flatten_msg(struct nmd_diff_ctx *c, const struct nmd_diff_spec *s,
			const ProtobufCMessage *m, bool both, struct flat *out)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;

	for (unsigned int i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		bool set;

		if (in_list(s->skip, f->name))
			continue;
		if (f->label == PROTOBUF_C_LABEL_REPEATED) {
			if (f->type == PROTOBUF_C_TYPE_MESSAGE &&
			    nmd_pb_is_map_entry(f->descriptor))
				flatten_map(c, s, m, f, out);
			else if (f->type == PROTOBUF_C_TYPE_STRING &&
				 (s->flags & NMD_DS_JOIN))
				flatten_joined(c, m, f, out);
			continue;
		}
		if (f->type == PROTOBUF_C_TYPE_MESSAGE ||
		    f->type == PROTOBUF_C_TYPE_BYTES)
			continue;
		set = nmd_pb_field_present(m, f);
		if (in_list(s->edit_ptr, f->name)) {
			if (both)
				flat_put(c, out, sdup(c, f->name),
					 set ? scalar_text(c, f,
							   nmd_pb_field_ptr(m, f),
							   true)
					     : sdup(c, ""));
			continue;
		}
		if (!set && in_list(s->ptr, f->name))
			continue;
		flat_put(c, out, sdup(c, f->name),
			 scalar_text(c, f, nmd_pb_field_ptr(m, f), set));
	}
	flat_finish(out);
}

/* Go's flatmap.Flatten of a map[string]interface{} decoded from JSON. */
static void flatten_json(struct nmd_diff_ctx *c, const char *prefix,
			 const cJSON *v, struct flat *out)
{
	char num[64];
	const char *val = "";

	if (cJSON_IsObject(v) || cJSON_IsArray(v)) {
		size_t i = 0;
		for (const cJSON *e = v->child; e && !c->oom; e = e->next, i++) {
			char *key;
			if (!cJSON_IsObject(v))
				key = dupf(c, "%s[%zu]", prefix, i);
			else if (*prefix)
				key = dupf(c, "%s[%s]", prefix, e->string);
			else
				key = sdup(c, e->string);
			if (key)
				flatten_json(c, key, e, out);
			nmd_free(NULL, key);
		}
		return;
	}
	if (cJSON_IsString(v)) {
		val = v->valuestring;
	} else if (cJSON_IsNumber(v)) {
		go_float(num, sizeof(num), v->valuedouble);
		val = num;
	} else if (cJSON_IsBool(v)) {
		val = cJSON_IsTrue(v) ? "true" : "false";
	} else if (cJSON_IsNull(v)) {
		val = "nil";
	}
	flat_put(c, out, sdup(c, prefix), sdup(c, val));
}

/* ---- building diffs ------------------------------------------------------ */

void *nmd_diff_new(struct nmd_diff_ctx *c,
		   const ProtobufCMessageDescriptor *desc, int type,
		   const char *name)
{
	ProtobufCMessage *m = nmd_pb_new(desc, NULL);
	const ProtobufCFieldDescriptor *tf, *nf;

	if (!m) {
		c->oom = true;
		return NULL;
	}
	tf = protobuf_c_message_descriptor_get_field_by_name(desc, "Type");
	*(protobuf_c_boolean *)nmd_pb_quant_ptr(m, tf) = 1;
	*(int *)nmd_pb_field_ptr(m, tf) = type;
	nf = protobuf_c_message_descriptor_get_field_by_name(desc, "Name");
	if (nf && name &&
	    !nmd_pb_set_string(NULL, nmd_pb_field_ptr(m, nf), name)) {
		c->oom = true;
		nmd_pb_free(m, NULL);
		return NULL;
	}
	return m;
}

void nmd_diff_push(struct nmd_diff_ctx *c, void ***arr, size_t *n, void *elem)
{
	if (!elem)
		return;
	if (!nmd_pb_append(NULL, arr, n, elem)) {
		c->oom = true;
		nmd_pb_free(elem, NULL);
	}
}
#define PUSH NMD_DIFF_PUSH

void nmd_diff_add_string(struct nmd_diff_ctx *c, char ***arr, size_t *n,
			 const char *s)
{
	char *d = sdup(c, s);

	if (d && !nmd_pb_append(NULL, (void ***)arr, n, d)) {
		c->oom = true;
		nmd_free(NULL, d);
	}
}

static Nomad__FieldDiff *field_new(struct nmd_diff_ctx *c, int type,
				   const char *name, const char *old,
				   const char *new_)
{
	Nomad__FieldDiff *d =
		nmd_diff_new(c, &nomad__field_diff__descriptor, type, name);

	if (d && (!nmd_pb_set_string(NULL, &d->old, old) ||
		  !nmd_pb_set_string(NULL, &d->new_, new_))) {
		c->oom = true;
		nmd_pb_free(d, NULL);
		return NULL;
	}
	return d;
}

/* Nomad's fieldDiff: "" on one side is Added or Deleted. */
static void field_one(struct nmd_diff_ctx *c, const char *name,
		      const char *old, const char *new_, bool ctx,
		      Nomad__ObjectDiff *o)
{
	int type;

	if (strcmp(old, new_) == 0) {
		if (!ctx)
			return;
		type = NONE;
	} else {
		type = !*old ? ADDED : !*new_ ? DELETED : EDITED;
	}
	PUSH(c, o->fields, o->n_fields, field_new(c, type, name, old, new_));
}

/* Nomad's fieldDiffs over two flat maps (NULL: the object is absent); the
 * result is sorted by name because both inputs are. */
static void field_diffs(struct nmd_diff_ctx *c, const struct flat *a,
			const struct flat *b, bool ctx, Nomad__ObjectDiff *o)
{
	size_t i = 0, j = 0, na = a ? a->n : 0, nb = b ? b->n : 0;

	while (i < na || j < nb) {
		int cmp = i == na   ? 1
			  : j == nb ? -1
				    : strcmp(a->v[i].key, b->v[j].key);
		const char *name = cmp <= 0 ? a->v[i].key : b->v[j].key;
		const char *old = cmp <= 0 ? a->v[i].val : "";
		const char *new_ = cmp >= 0 ? b->v[j].val : "";

		field_one(c, name, old, new_, ctx, o);
		i += cmp <= 0;
		j += cmp >= 0;
	}
}

bool nmd_diff_any_change(Nomad__FieldDiff *const *f, size_t nf,
			 Nomad__ObjectDiff *const *o, size_t no)
{
	for (size_t i = 0; i < nf; i++)
		if (f[i]->type != NONE)
			return true;
	for (size_t i = 0; i < no; i++)
		if (o[i]->type != NONE)
			return true;
	return false;
}

/* primitiveObjectDiff's type: Edited, or Added/Deleted when all changes
 * are; None when nothing changed. */
static int type_from_fields(Nomad__FieldDiff *const *f, size_t n)
{
	bool added = false, deleted = false;

	for (size_t i = 0; i < n; i++) {
		if (f[i]->type == EDITED)
			return EDITED;
		added |= f[i]->type == ADDED;
		deleted |= f[i]->type == DELETED;
	}
	if (added && deleted)
		return EDITED;
	return added ? ADDED : deleted ? DELETED : NONE;
}

/* ---- ordering (Nomad's FieldDiffs and ObjectDiffs Less) ------------------ */

static int type_rank(int t)
{
	return t == EDITED ? 0 : t == ADDED ? 1 : t == DELETED ? 2 : 3;
}

static int cmp_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static int cmp_field(const Nomad__FieldDiff *a, const Nomad__FieldDiff *b)
{
	int r = cmp_str(a->name, b->name);
	if (!r)
		r = cmp_str(a->old, b->old);
	return r ? r : cmp_str(a->new_, b->new_);
}

static int cmp_object(const Nomad__ObjectDiff *a, const Nomad__ObjectDiff *b)
{
	int r = cmp_str(a->name, b->name);

	if (!r)
		r = type_rank(a->type) - type_rank(b->type);
	if (!r && a->n_fields != b->n_fields)
		return a->n_fields < b->n_fields ? -1 : 1;
	if (!r && a->n_objects != b->n_objects)
		return a->n_objects < b->n_objects ? -1 : 1;
	for (size_t i = 0; !r && i < a->n_fields; i++)
		r = cmp_field(a->fields[i], b->fields[i]);
	for (size_t i = 0; !r && i < a->n_objects; i++)
		r = cmp_object(a->objects[i], b->objects[i]);
	return r;
}

static int qcmp_field(const void *x, const void *y)
{
	return cmp_field(*(Nomad__FieldDiff *const *)x,
			 *(Nomad__FieldDiff *const *)y);
}

static int qcmp_object(const void *x, const void *y)
{
	return cmp_object(*(Nomad__ObjectDiff *const *)x,
			  *(Nomad__ObjectDiff *const *)y);
}

static void sort_objects(Nomad__ObjectDiff **v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), qcmp_object);
}

/* ---- objects ----------------------------------------------------------- */

static Nomad__ObjectDiff *object_diff(struct nmd_diff_ctx *c,
				      const struct nmd_diff_spec *s,
				      const char *name,
				      const ProtobufCMessage *a,
				      const ProtobufCMessage *b)
{
	Nomad__ObjectDiff *o;

	if ((!a && !b) ||
	    (s->style == NMD_DIFF_STRUCT && nmd_diff_equal(a, b)))
		return NULL;
	o = nmd_diff_new(c, &nomad__object_diff__descriptor,
			 !a ? ADDED : !b ? DELETED : EDITED, name);
	if (!o)
		return NULL;
	nmd_diff_body(c, s, a, b, o);
	if (s->style == NMD_DIFF_PRIM) {
		o->type = type_from_fields(o->fields, o->n_fields);
		/* Children (a region's datacenters) count as an edit. */
		if (o->type == NONE &&
		    nmd_diff_any_change(NULL, 0, o->objects, o->n_objects))
			o->type = EDITED;
		if (o->type == NONE) {
			nmd_pb_free(o, NULL);
			return NULL;
		}
	}
	return o;
}

static bool str_in(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (str_eq(v[i], s))
			return true;
	return false;
}

/* Nomad's stringSetDiff: one field per added or removed element, and with
 * ctx one None field per kept element. */
static Nomad__ObjectDiff *strset_diff(struct nmd_diff_ctx *c, const char *name,
				      char *const *a, size_t na,
				      char *const *b, size_t nb, bool ctx)
{
	Nomad__ObjectDiff *o;
	bool added = false, removed = false;

	o = nmd_diff_new(c, &nomad__object_diff__descriptor, NONE, name);
	if (!o)
		return NULL;
	for (size_t i = 0; i < na; i++) {
		if (str_in(a, i, a[i]))
			continue;
		if (!str_in(b, nb, a[i])) {
			field_one(c, name, a[i] ? a[i] : "", "", ctx, o);
			removed = true;
		} else {
			field_one(c, name, a[i] ? a[i] : "", a[i] ? a[i] : "",
				  ctx, o);
		}
	}
	for (size_t j = 0; j < nb; j++) {
		if (str_in(b, j, b[j]) || str_in(a, na, b[j]))
			continue;
		field_one(c, name, "", b[j] ? b[j] : "", ctx, o);
		added = true;
	}
	if (o->n_fields == 0) {
		nmd_pb_free(o, NULL);
		return NULL;
	}
	if (o->n_fields > 1)
		qsort(o->fields, o->n_fields, sizeof(*o->fields), qcmp_field);
	o->type = added && removed ? EDITED
		  : added	   ? ADDED
		  : removed	   ? DELETED
				   : NONE;
	return o;
}

/* RawJSON parsed; NULL when absent or unreadable. */
static cJSON *json_parse(const ProtobufCMessage *raw)
{
	const char *text = raw ? ((const Nomad__RawJSON *)raw)->json : NULL;
	return text ? nmd_cjson_parse(text, strlen(text), NULL) : NULL;
}

static bool json_empty(const cJSON *j)
{
	return !j || cJSON_IsNull(j) ||
	       ((cJSON_IsObject(j) || cJSON_IsArray(j)) && !j->child);
}

bool nmd_structs_rawjson_equal(const Nomad__RawJSON *a,
			       const Nomad__RawJSON *b)
{
	cJSON *ja = json_parse(a ? &a->base : NULL);
	cJSON *jb = json_parse(b ? &b->base : NULL);
	bool ea = json_empty(ja), eb = json_empty(jb), eq;

	eq = (ea && eb) || (!ea && !eb && cJSON_Compare(ja, jb, true));
	cJSON_Delete(ja);
	cJSON_Delete(jb);
	return eq;
}

static bool values_equal(const ProtobufCFieldDescriptor *f, const void *x,
			 const void *y)
{
	const ProtobufCMessage *a = *(ProtobufCMessage *const *)x;
	const ProtobufCMessage *b = *(ProtobufCMessage *const *)y;

	if (f->descriptor == &nomad__raw_json__descriptor)
		return nmd_structs_rawjson_equal((const Nomad__RawJSON *)a,
						 (const Nomad__RawJSON *)b);
	return nmd_diff_equal(a, b);
}

bool nmd_diff_equal(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
	const ProtobufCMessageDescriptor *d;

	if (a == b)
		return true;
	if (!a || !b || a->descriptor != b->descriptor)
		return false;
	d = a->descriptor;
	for (unsigned int i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		const char *x = nmd_pb_field_ptr(a, f);
		const char *y = nmd_pb_field_ptr(b, f);
		size_t n;

		if (f->type != PROTOBUF_C_TYPE_MESSAGE) {
			if (!nmd_pb_field_equal(a, b, f))
				return false;
			continue;
		}
		if (f->label != PROTOBUF_C_LABEL_REPEATED) {
			if (!values_equal(f, x, y))
				return false;
			continue;
		}
		n = *(const size_t *)nmd_pb_quant_ptr(a, f);
		if (n != *(const size_t *)nmd_pb_quant_ptr(b, f))
			return false;
		x = *(char *const *)x;
		y = *(char *const *)y;
		for (size_t k = 0; k < n; k++)
			if (!values_equal(f, x + k * sizeof(void *),
					  y + k * sizeof(void *)))
				return false;
	}
	return true;
}

/* Nomad's configDiff: a free-form map flattened; absent and empty are
 * the same. */
static Nomad__ObjectDiff *json_diff(struct nmd_diff_ctx *c, const char *name,
				    bool ctx, const ProtobufCMessage *a,
				    const ProtobufCMessage *b)
{
	cJSON *ja = json_parse(a), *jb = json_parse(b);
	bool ea = json_empty(ja), eb = json_empty(jb);
	struct flat fa = {0}, fb = {0};
	Nomad__ObjectDiff *o = NULL;

	if ((ea && eb) || (!ea && !eb && cJSON_Compare(ja, jb, true)))
		goto done;
	o = nmd_diff_new(c, &nomad__object_diff__descriptor,
			 ea ? ADDED : eb ? DELETED : EDITED, name);
	if (!o)
		goto done;
	if (!ea)
		flatten_json(c, "", ja, &fa);
	if (!eb)
		flatten_json(c, "", jb, &fb);
	flat_finish(&fa);
	flat_finish(&fb);
	field_diffs(c, &fa, &fb, ctx, o);
done:
	flat_free(&fa);
	flat_free(&fb);
	cJSON_Delete(ja);
	cJSON_Delete(jb);
	return o;
}

/* A map of string lists (a check's Header) as "key[i]" fields. */
static void flatten_header(struct nmd_diff_ctx *c,
			   Nomad__StringListEntry *const *e, size_t n,
			   struct flat *out)
{
	for (size_t i = 0; i < n; i++) {
		const char *key = e[i]->key ? e[i]->key : "";
		Nomad__StringList *l = e[i]->value;
		for (size_t j = 0; l && j < l->n_items; j++)
			flat_put(c, out, dupf(c, "%s[%zu]", key, j),
				 sdup(c, l->items[j]));
	}
	flat_finish(out);
}

static Nomad__ObjectDiff *header_diff(struct nmd_diff_ctx *c, const char *name,
				      Nomad__StringListEntry *const *a,
				      size_t na,
				      Nomad__StringListEntry *const *b,
				      size_t nb)
{
	struct flat fa = {0}, fb = {0};
	Nomad__ObjectDiff *o = NULL;

	flatten_header(c, a, na, &fa);
	flatten_header(c, b, nb, &fb);
	if ((na == 0 && nb == 0) || (na && nb && flat_equal(&fa, &fb)))
		goto done;
	o = nmd_diff_new(c, &nomad__object_diff__descriptor,
			 na == 0 ? ADDED : nb == 0 ? DELETED : EDITED, name);
	if (o)
		field_diffs(c, &fa, &fb, c->contextual, o);
done:
	flat_free(&fa);
	flat_free(&fb);
	return o;
}

/* ---- lists of objects ----------------------------------------------------- */

struct objlist {
	Nomad__ObjectDiff **v;
	size_t n;
};

static bool msg_in(void *const *v, size_t n, const void *m)
{
	for (size_t i = 0; i < n; i++)
		if (nmd_diff_equal(v[i], m))
			return true;
	return false;
}

/* Nomad's primitiveObjectSetDiff and networkResourceDiffs: elements equal
 * on both sides are unchanged, the others Deleted (old) and Added (new). */
static void set_diffs(struct nmd_diff_ctx *c, const struct nmd_diff_child *ch,
		      void *const *a, size_t na, void *const *b, size_t nb,
		      struct objlist *l)
{
	for (size_t i = 0; i < na; i++)
		if (!msg_in(a, i, a[i]) && !msg_in(b, nb, a[i]))
			PUSH(c, l->v, l->n,
			     object_diff(c, ch->spec, ch->name, a[i], NULL));
	for (size_t j = 0; j < nb; j++)
		if (!msg_in(b, j, b[j]) && !msg_in(a, na, b[j]))
			PUSH(c, l->v, l->n,
			     object_diff(c, ch->spec, ch->name, NULL, b[j]));
}

struct item {
	const char *key;
	const ProtobufCMessage *msg;
};

/* The elements of a keyed list (key: field `via`) or of a map of
 * messages, as key/message pairs. NULL with *n == 0 when empty. */
static struct item *items(struct nmd_diff_ctx *c,
			  const struct nmd_diff_child *ch,
			  const ProtobufCFieldDescriptor *f, void *const *v,
			  size_t n)
{
	const ProtobufCMessageDescriptor *ed = f->descriptor;
	const ProtobufCFieldDescriptor *kf, *vf = NULL;
	struct item *out;

	if (n == 0)
		return NULL;
	if (!(out = nmd_calloc(NULL, n, sizeof(*out)))) {
		c->oom = true;
		return NULL;
	}
	if (ch->kind == NMD_DK_MAP) {
		kf = &ed->fields[0];
		vf = &ed->fields[1];
	} else {
		kf = protobuf_c_message_descriptor_get_field_by_name(ed, ch->via);
	}
	for (size_t i = 0; i < n; i++) {
		out[i].key = *(char *const *)nmd_pb_field_ptr(v[i], kf);
		out[i].msg = vf ? *(ProtobufCMessage *const *)nmd_pb_field_ptr(
					  v[i], vf)
				: v[i];
	}
	return out;
}

/* The message of the last item with `key` (a Go map keeps the last). */
static const ProtobufCMessage *item_find(const struct item *v, size_t n,
					 const char *key, bool *found)
{
	for (size_t i = n; i-- > 0;)
		if (str_eq(v[i].key, key)) {
			*found = true;
			return v[i].msg;
		}
	*found = false;
	return NULL;
}

static bool later_dup(const struct item *v, size_t n, size_t i)
{
	for (size_t j = i + 1; j < n; j++)
		if (str_eq(v[i].key, v[j].key))
			return true;
	return false;
}

/* Nomad's keyed diffs (checks by name, ports by label, volumes by key). */
static void keyed_diffs(struct nmd_diff_ctx *c, const struct nmd_diff_child *ch,
			const ProtobufCFieldDescriptor *f, void *const *a,
			size_t na, void *const *b, size_t nb,
			struct objlist *l)
{
	struct item *ia = items(c, ch, f, a, na), *ib = items(c, ch, f, b, nb);
	bool found;

	if (c->oom)
		goto done;
	for (size_t i = 0; i < na; i++) {
		const ProtobufCMessage *m;
		if (later_dup(ia, na, i))
			continue;
		m = item_find(ib, nb, ia[i].key, &found);
		PUSH(c, l->v, l->n,
		     object_diff(c, ch->spec, ch->name, ia[i].msg, m));
	}
	for (size_t j = 0; j < nb; j++) {
		if (later_dup(ib, nb, j))
			continue;
		item_find(ia, na, ib[j].key, &found);
		if (!found)
			PUSH(c, l->v, l->n,
			     object_diff(c, ch->spec, ch->name, NULL,
					 ib[j].msg));
	}
done:
	nmd_free(NULL, ia);
	nmd_free(NULL, ib);
}

/* Nomad's positional diffs (actions, volume mounts, UI links). */
static void list_diffs(struct nmd_diff_ctx *c, const struct nmd_diff_child *ch,
		       void *const *a, size_t na, void *const *b, size_t nb,
		       struct objlist *l)
{
	for (size_t i = 0; i < na || i < nb; i++)
		PUSH(c, l->v, l->n,
		     object_diff(c, ch->spec, ch->name, i < na ? a[i] : NULL,
				 i < nb ? b[i] : NULL));
}

/* findServiceMatch: name weighs 3, port label 2, position 1; a match
 * needs more than 2. */
static int service_match(const Nomad__Service *s, size_t idx,
			 Nomad__Service *const *v, size_t n, const int *matched)
{
	int best = 0, match = -1;

	for (size_t i = 0; i < n; i++) {
		int score = (i == idx) +
			    2 * str_eq(s->portlabel, v[i]->portlabel) +
			    3 * str_eq(s->name, v[i]->name);
		if (matched[i] < 0 && score > 2 && score > best) {
			best = score;
			match = (int)i;
		}
	}
	return match;
}

/* Templates match by destination, the first unmatched one. */
static int template_match(const Nomad__Template *t, size_t idx,
			  Nomad__Template *const *v, size_t n,
			  const int *matched)
{
	(void)idx;
	for (size_t i = 0; i < n; i++)
		if (matched[i] < 0 && str_eq(t->destpath, v[i]->destpath))
			return (int)i;
	return -1;
}

typedef int (*match_fn)(const void *elem, size_t idx, void *const *v,
			size_t n, const int *matched);

static int service_match_any(const void *e, size_t idx, void *const *v,
			     size_t n, const int *matched)
{
	return service_match(e, idx, (Nomad__Service *const *)v, n, matched);
}

static int template_match_any(const void *e, size_t idx, void *const *v,
			      size_t n, const int *matched)
{
	return template_match(e, idx, (Nomad__Template *const *)v, n, matched);
}

/* serviceDiffs and templateDiffs: a single element on each side is
 * always compared; otherwise each old element takes its best unmatched
 * partner, and what is left over was deleted or added. */
static void matched_diffs(struct nmd_diff_ctx *c,
			  const struct nmd_diff_child *ch, match_fn match,
			  void *const *a, size_t na, void *const *b, size_t nb,
			  struct objlist *l)
{
	int *matched;

	if (na == 1 && nb == 1) {
		PUSH(c, l->v, l->n,
		     object_diff(c, ch->spec, ch->name, a[0], b[0]));
		return;
	}
	if (!(matched = nmd_calloc(NULL, nb ? nb : 1, sizeof(*matched)))) {
		c->oom = true;
		return;
	}
	for (size_t j = 0; j < nb; j++)
		matched[j] = -1;
	for (size_t i = 0; i < na; i++) {
		int j = match(a[i], i, b, nb, matched);
		if (j >= 0)
			matched[j] = (int)i;
		PUSH(c, l->v, l->n,
		     object_diff(c, ch->spec, ch->name, a[i],
				 j >= 0 ? b[j] : NULL));
	}
	for (size_t j = 0; j < nb; j++)
		if (matched[j] < 0)
			PUSH(c, l->v, l->n,
			     object_diff(c, ch->spec, ch->name, NULL, b[j]));
	nmd_free(NULL, matched);
}

/* ---- children ------------------------------------------------------------ */

static const ProtobufCMessage *get_msg(const ProtobufCMessage *m,
				       const ProtobufCFieldDescriptor *f)
{
	return m ? *(ProtobufCMessage *const *)nmd_pb_field_ptr(m, f) : NULL;
}

static size_t get_rep(const ProtobufCMessage *m,
		      const ProtobufCFieldDescriptor *f, void *const **arr)
{
	*arr = m ? *(void *const *const *)nmd_pb_field_ptr(m, f) : NULL;
	return m ? *(const size_t *)nmd_pb_quant_ptr(m, f) : 0;
}

/* One nested message, or the message a level further down (`via`). */
static const ProtobufCMessage *get_sub(const ProtobufCMessage *m,
				       const ProtobufCFieldDescriptor *f,
				       const char *via)
{
	const ProtobufCMessage *sub = get_msg(m, f);
	const ProtobufCFieldDescriptor *vf;

	if (!sub || !via)
		return sub;
	vf = protobuf_c_message_descriptor_get_field_by_name(f->descriptor, via);
	return get_msg(sub, vf);
}

/* Children whose diff is at most one object. */
static Nomad__ObjectDiff *single_child(struct nmd_diff_ctx *c,
				       const struct nmd_diff_child *ch,
				       const ProtobufCFieldDescriptor *f,
				       const ProtobufCMessage *a,
				       const ProtobufCMessage *b)
{
	bool ctx = c->contextual && !(ch->flags & NMD_DS_NOCTX);
	void *const *va, *const *vb;
	size_t na, nb;
	Nomad__ObjectDiff *o;

	if (ch->kind == NMD_DK_OBJECT)
		return object_diff(c, ch->spec, ch->name, get_sub(a, f, ch->via),
				   get_sub(b, f, ch->via));
	if (ch->kind == NMD_DK_JSON)
		return json_diff(c, ch->name, ctx, get_msg(a, f), get_msg(b, f));
	na = get_rep(a, f, &va);
	nb = get_rep(b, f, &vb);
	switch (ch->kind) {
	case NMD_DK_HEADER:
		return header_diff(c, ch->name,
				   (Nomad__StringListEntry *const *)va, na,
				   (Nomad__StringListEntry *const *)vb, nb);
	default: /* the string sets */
		o = strset_diff(c, ch->name, (char *const *)va, na,
				(char *const *)vb, nb, ctx);
		if (o && o->type == NONE && ch->kind == NMD_DK_STRSET_NZ) {
			nmd_pb_free(o, NULL);
			o = NULL;
		}
		return o;
	}
}

static void child_diffs(struct nmd_diff_ctx *c, const struct nmd_diff_spec *s,
			const struct nmd_diff_child *ch,
			const ProtobufCMessage *a, const ProtobufCMessage *b,
			Nomad__ObjectDiff *out)
{
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(s->desc,
								ch->field);
	void *const *va, *const *vb;
	size_t na, nb;
	struct objlist l = {0};

	if (f->label != PROTOBUF_C_LABEL_REPEATED ||
	    ch->kind == NMD_DK_HEADER || ch->kind == NMD_DK_STRSET ||
	    ch->kind == NMD_DK_STRSET_NZ) {
		PUSH(c, out->objects, out->n_objects,
		     single_child(c, ch, f, a, b));
		return;
	}
	na = get_rep(a, f, &va);
	nb = get_rep(b, f, &vb);
	switch (ch->kind) {
	case NMD_DK_SET:
		set_diffs(c, ch, va, na, vb, nb, &l);
		break;
	case NMD_DK_KEYED:
	case NMD_DK_MAP:
		keyed_diffs(c, ch, f, va, na, vb, nb, &l);
		break;
	case NMD_DK_LIST:
		list_diffs(c, ch, va, na, vb, nb, &l);
		break;
	case NMD_DK_SERVICES:
		matched_diffs(c, ch, service_match_any, va, na, vb, nb, &l);
		break;
	case NMD_DK_TEMPLATES:
		matched_diffs(c, ch, template_match_any, va, na, vb, nb, &l);
		break;
	default:
		break;
	}
	sort_objects(l.v, l.n);
	for (size_t i = 0; i < l.n; i++)
		PUSH(c, out->objects, out->n_objects, l.v[i]);
	nmd_free(NULL, l.v);
}

void nmd_diff_body(struct nmd_diff_ctx *c, const struct nmd_diff_spec *s,
		   const ProtobufCMessage *a, const ProtobufCMessage *b,
		   Nomad__ObjectDiff *out)
{
	struct flat fa = {0}, fb = {0};
	bool ctx = c->contextual && !(s->flags & NMD_DS_NOCTX);

	if (a)
		flatten_msg(c, s, a, a && b, &fa);
	if (b)
		flatten_msg(c, s, b, a && b, &fb);
	field_diffs(c, a ? &fa : NULL, b ? &fb : NULL, ctx, out);
	flat_free(&fa);
	flat_free(&fb);
	for (size_t i = 0; i < s->n_children; i++)
		child_diffs(c, s, &s->children[i], a, b, out);
	if (s->flags & NMD_DS_SORT)
		sort_objects(out->objects, out->n_objects);
}
