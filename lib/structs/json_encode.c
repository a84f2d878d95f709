/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Message to JSON in Nomad's API shape, for every type in
 * proto/structs.proto, driven by the protoc-c descriptors. Members come in
 * schema order (Go's struct order), unset fields are null, map keys are
 * sorted (as Go's encoder sorts them), times are RFC 3339, bytes base64,
 * and floats use the shortest form that reads back to the same value.
 * With NOMAD_JSON_PRETTY the layout is Go's MarshalIndent with four spaces.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/base64.h"
#include "core/error.h"
#include "core/jsonlex.h"
#include "core/timeutil.h"
#include "structs/pb.h"

struct enc {
	struct nmd_buf b;
	unsigned int flags;
	unsigned int indent;
};

static void enc_message(struct enc *e, const ProtobufCMessage *msg);

static bool pretty(const struct enc *e)
{
	return e->flags & NOMAD_JSON_PRETTY;
}

static void newline(struct enc *e)
{
	if (!pretty(e))
		return;
	nmd_buf_putc(&e->b, '\n');
	for (unsigned i = 0; i < e->indent; i++)
		nmd_buf_append(&e->b, "    ", 4);
}

static void put_key(struct enc *e, const char *key, bool first)
{
	if (!first)
		nmd_buf_putc(&e->b, ',');
	newline(e);
	nmd_buf_put_json_string(&e->b, key, strlen(key));
	nmd_buf_puts(&e->b, pretty(e) ? ": " : ":");
}

/* A schema field name: an identifier that needs no escaping, so it is
 * copied in one piece (the encoder's most frequent write). */
static void put_field_name(struct enc *e, const char *name, bool first)
{
	size_t n = strlen(name);
	if (!first)
		nmd_buf_putc(&e->b, ',');
	newline(e);
	if (!nmd_buf_reserve(&e->b, n + 4))
		return;
	e->b.data[e->b.len++] = '"';
	memcpy(e->b.data + e->b.len, name, n);
	e->b.len += n;
	e->b.data[e->b.len++] = '"';
	e->b.data[e->b.len++] = ':';
	e->b.data[e->b.len] = '\0';
	if (pretty(e))
		nmd_buf_putc(&e->b, ' ');
}

/* ---- numbers ---------------------------------------------------------------- */

/* Go's float formatting in encoding/json: the shortest digits that read
 * back exactly, plain notation for 1e-6 <= |v| < 1e21, else exponent. */
static void put_double(struct nmd_buf *b, double v)
{
	char sci[40], digits[24], out[400];
	int prec, exp, nd = 0, o = 0;
	const char *p;
	if (!isfinite(v)) {
		nmd_buf_puts(b, "null"); /* Go refuses; null keeps JSON valid */
		return;
	}
	if (v == 0) {
		nmd_buf_putc(b, '0');
		return;
	}
	for (prec = 0; prec < 17; prec++) {
		snprintf(sci, sizeof(sci), "%.*e", prec, v);
		if (strtod(sci, NULL) == v)
			break;
	}
	for (p = sci; *p && *p != 'e'; p++)
		if (*p >= '0' && *p <= '9')
			digits[nd++] = *p;
	exp = atoi(p + 1);
	if (v < 0)
		out[o++] = '-';
	if (fabs(v) < 1e-6 || fabs(v) >= 1e21) {
		out[o++] = digits[0];
		if (nd > 1) {
			out[o++] = '.';
			memcpy(out + o, digits + 1, (size_t)nd - 1);
			o += nd - 1;
		}
		o += snprintf(out + o, sizeof(out) - (size_t)o, "e%c%d",
			      exp < 0 ? '-' : '+', abs(exp));
	} else if (exp < 0) {
		out[o++] = '0';
		out[o++] = '.';
		for (int i = 0; i < -exp - 1; i++)
			out[o++] = '0';
		memcpy(out + o, digits, (size_t)nd);
		o += nd;
	} else {
		for (int i = 0; i <= exp || i < nd; i++) {
			if (i == exp + 1)
				out[o++] = '.';
			out[o++] = i < nd ? digits[i] : '0';
		}
	}
	nmd_buf_append(b, out, (size_t)o);
}

/* ---- special messages ---------------------------------------------------- */

static void enc_timestamp(struct enc *e, const Nomad__Timestamp *ts)
{
	char text[48];
	size_t n = nmd_rfc3339_format(ts->seconds, ts->nanos, text,
				      sizeof(text));
	nmd_buf_putc(&e->b, '"');
	nmd_buf_append(&e->b, text, n < sizeof(text) ? n : sizeof(text) - 1);
	nmd_buf_putc(&e->b, '"');
}

/* Re-indent compact raw JSON for pretty output, token by token: a comma
 * before every key or value but the first in its container, a new line
 * before each inside a container, none for an empty one. */
static void enc_raw_pretty(struct enc *e, const char *json)
{
	struct nmd_jlex lex;
	size_t mark = e->b.len;
	unsigned base = e->indent;
	enum nmd_jtok t, prev = NMD_JT_EOF;
	nmd_jlex_init(&lex, json, strlen(json), 0, e->b.alloc, NULL);
	while ((t = nmd_jlex_next(&lex)) != NMD_JT_EOF && t != NMD_JT_ERROR) {
		bool opens = t == NMD_JT_OBJ_BEGIN || t == NMD_JT_ARR_BEGIN;
		bool after_open = prev == NMD_JT_OBJ_BEGIN ||
				  prev == NMD_JT_ARR_BEGIN;
		if (t == NMD_JT_OBJ_END || t == NMD_JT_ARR_END) {
			e->indent--;
			if (!after_open)
				newline(e);
			nmd_buf_putc(&e->b, t == NMD_JT_OBJ_END ? '}' : ']');
			prev = t;
			continue;
		}
		if (prev != NMD_JT_KEY) {
			if (!after_open && prev != NMD_JT_EOF)
				nmd_buf_putc(&e->b, ',');
			if (lex.depth - opens > 0)
				newline(e);
		}
		if (opens) {
			nmd_buf_putc(&e->b, t == NMD_JT_OBJ_BEGIN ? '{' : '[');
			e->indent++;
		} else if (t == NMD_JT_KEY || t == NMD_JT_STRING) {
			nmd_buf_put_json_string(&e->b, lex.str, lex.slen);
			if (t == NMD_JT_KEY)
				nmd_buf_puts(&e->b, ": ");
		} else {
			nmd_buf_append(&e->b, lex.str, lex.slen);
		}
		prev = t;
	}
	nmd_jlex_free(&lex);
	e->indent = base;
	if (t == NMD_JT_ERROR) { /* not JSON after all: write it as it is */
		e->b.len = mark;
		nmd_buf_puts(&e->b, json);
	}
}

static void enc_raw(struct enc *e, const Nomad__RawJSON *raw)
{
	if (!raw->json)
		nmd_buf_puts(&e->b, "null");
	else if (pretty(e))
		enc_raw_pretty(e, raw->json);
	else
		nmd_buf_puts(&e->b, raw->json);
}

/* ---- values ---------------------------------------------------------------- */

static void enc_value(struct enc *e, const ProtobufCFieldDescriptor *f,
		      const void *slot)
{
	struct nmd_buf *b = &e->b;
	switch (f->type) {
	case PROTOBUF_C_TYPE_BOOL:
		nmd_buf_puts(b, *(const protobuf_c_boolean *)slot ? "true"
								  : "false");
		break;
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		nmd_buf_put_i64(b, *(const int32_t *)slot);
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		nmd_buf_put_u64(b, *(const uint32_t *)slot);
		break;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		nmd_buf_put_i64(b, *(const int64_t *)slot);
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		nmd_buf_put_u64(b, *(const uint64_t *)slot);
		break;
	case PROTOBUF_C_TYPE_FLOAT:
		put_double(b, *(const float *)slot);
		break;
	case PROTOBUF_C_TYPE_DOUBLE:
		put_double(b, *(const double *)slot);
		break;
	case PROTOBUF_C_TYPE_ENUM: {
		int v = *(const int *)slot;
		const char *name = nomad_enum_name(f->descriptor, v);
		if (name)
			nmd_buf_put_json_string(b, name, strlen(name));
		else
			nmd_buf_put_i64(b, v); /* a value this build lacks */
		break;
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)slot;
		if (s)
			nmd_buf_put_json_string(b, s, strlen(s));
		else
			nmd_buf_puts(b, "null");
		break;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *bd = slot;
		nmd_buf_putc(b, '"');
		nmd_base64_encode(b, bd->data, bd->len);
		nmd_buf_putc(b, '"');
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		enc_message(e, *(ProtobufCMessage *const *)slot);
		break;
	}
}

static void enc_list(struct enc *e, const ProtobufCFieldDescriptor *f,
		     const char *arr, size_t n)
{
	size_t sz = nmd_pb_scalar_size(f->type);
	nmd_buf_putc(&e->b, '[');
	e->indent++;
	for (size_t i = 0; i < n; i++) {
		if (i)
			nmd_buf_putc(&e->b, ',');
		newline(e);
		enc_value(e, f, arr + i * sz);
	}
	e->indent--;
	newline(e);
	nmd_buf_putc(&e->b, ']');
}

static const char *entry_key(const ProtobufCMessage *m)
{
	const char *k = *(char *const *)nmd_pb_field_ptr(
		m, &m->descriptor->fields[0]);
	return k ? k : "";
}

static int cmp_entries(const void *x, const void *y)
{
	return strcmp(entry_key(*(ProtobufCMessage *const *)x),
		      entry_key(*(ProtobufCMessage *const *)y));
}

static void enc_entry_value(struct enc *e, const ProtobufCMessage *m)
{
	const ProtobufCFieldDescriptor *vf = &m->descriptor->fields[1];
	if (!nmd_pb_field_present(m, vf))
		nmd_buf_puts(&e->b, "null");
	else
		enc_value(e, vf, nmd_pb_field_ptr(m, vf));
}

static void enc_map(struct enc *e, ProtobufCMessage *const *entries, size_t n)
{
	ProtobufCMessage **sorted = NULL;
	bool in_order = true;
	for (size_t i = 1; i < n && in_order; i++)
		in_order = strcmp(entry_key(entries[i - 1]),
				  entry_key(entries[i])) <= 0;
	/* Built by hand out of order: sort a copy of the pointers. */
	if (!in_order && (sorted = nmd_calloc(e->b.alloc, n, sizeof(*sorted)))) {
		memcpy(sorted, entries, n * sizeof(*sorted));
		qsort(sorted, n, sizeof(*sorted), cmp_entries);
		entries = sorted;
	}
	nmd_buf_putc(&e->b, '{');
	e->indent++;
	for (size_t i = 0; i < n; i++) {
		put_key(e, entry_key(entries[i]), i == 0);
		enc_entry_value(e, entries[i]);
	}
	e->indent--;
	newline(e);
	nmd_buf_putc(&e->b, '}');
	nmd_free(e->b.alloc, sorted);
}

static void enc_field(struct enc *e, const ProtobufCMessage *msg,
		      const ProtobufCFieldDescriptor *f)
{
	const void *slot = nmd_pb_field_ptr(msg, f);
	if (!nmd_pb_field_present(msg, f)) {
		nmd_buf_puts(&e->b, "null");
	} else if (f->label != PROTOBUF_C_LABEL_REPEATED) {
		enc_value(e, f, slot);
	} else {
		size_t n = *(const size_t *)nmd_pb_quant_ptr(msg, f);
		const char *arr = *(char *const *)slot;
		if (f->type == PROTOBUF_C_TYPE_MESSAGE &&
		    nmd_pb_is_map_entry(f->descriptor))
			enc_map(e, (ProtobufCMessage *const *)arr, n);
		else
			enc_list(e, f, arr, n);
	}
}

static void enc_message(struct enc *e, const ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *desc;
	bool first = true;
	if (!msg) {
		nmd_buf_puts(&e->b, "null");
		return;
	}
	desc = msg->descriptor;
	if (desc == &nomad__timestamp__descriptor)
		return enc_timestamp(e, (const Nomad__Timestamp *)msg);
	if (desc == &nomad__raw_json__descriptor)
		return enc_raw(e, (const Nomad__RawJSON *)msg);
	if (nmd_pb_is_list_wrapper(desc)) {
		const ProtobufCFieldDescriptor *f = &desc->fields[0];
		return enc_list(e, f, *(char *const *)nmd_pb_field_ptr(msg, f),
				*(const size_t *)nmd_pb_quant_ptr(msg, f));
	}
	nmd_buf_putc(&e->b, '{');
	e->indent++;
	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		if ((e->flags & NOMAD_JSON_OMIT_EMPTY) &&
		    !nmd_pb_field_present(msg, f))
			continue;
		put_field_name(e, f->name, first);
		enc_field(e, msg, f);
		first = false;
	}
	e->indent--;
	if (!first)
		newline(e);
	nmd_buf_putc(&e->b, '}');
}

nomad_err nomad_msg_to_json(const ProtobufCMessage *msg, unsigned int flags,
			    const nomad_allocator *alloc, char **out,
			    size_t *len, nomad_error *err)
{
	struct enc e = {.flags = flags};
	if (!out)
		return nmd_seterr(err, NOMAD_EINVAL, "json: no output");
	*out = NULL;
	if (len)
		*len = 0;
	if (!msg)
		return nmd_seterr(err, NOMAD_EINVAL, "json: no message");
	nmd_buf_init(&e.b, alloc);
	nmd_buf_reserve(&e.b, 1024);
	enc_message(&e, msg);
	if (pretty(&e))
		nmd_buf_putc(&e.b, '\n');
	if (e.b.oom) {
		nmd_buf_free(&e.b);
		return nmd_seterr(err, NOMAD_ENOMEM, "json: out of memory");
	}
	*out = nmd_buf_steal(&e.b, len);
	return *out ? NOMAD_OK : nmd_seterr(err, NOMAD_ENOMEM,
					    "json: out of memory");
}
