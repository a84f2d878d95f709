/* SPDX-License-Identifier: MPL-2.0 */
/* Random messages for codec tests (random.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "core/alloc.h"
#include "structs/pb.h"
#include "random.h"

static uint64_t rnd_state;

static uint64_t rnd(void)
{
	/* xorshift64*: enough for test data, reproducible by seed */
	rnd_state ^= rnd_state >> 12;
	rnd_state ^= rnd_state << 25;
	rnd_state ^= rnd_state >> 27;
	return rnd_state * 2685821657736338717ULL;
}

static char *rnd_string(void)
{
	static const char *const pieces[] = {
		"a", "Z", "9", " ", "-", "_", "\"", "\\", "/", "\n", "\t",
		"\x01", "\x1f", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x9a\x80",
		"${attr.kernel.name}", "<>&", "\xe2\x80\xa8"};
	char buf[256] = "";
	size_t n = rnd() % 8;
	for (size_t i = 0; i < n; i++)
		strcat(buf, pieces[rnd() % (sizeof(pieces) / sizeof(*pieces))]);
	return nmd_strdup(NULL, buf);
}

static void fill(ProtobufCMessage *m, int depth);

/* RawJSON never holds a bare null: JSON null means "unset". */
static void fill_value(const ProtobufCFieldDescriptor *f, void *slot,
		       int depth)
{
	static const char *const raws[] = {
		"{}", "[]", "true", "-12.5e3", "\"x\\ny\"",
		"{\"image\":\"redis:7\",\"args\":[\"-c\",1,{\"k\":null}]}"};
	switch (f->type) {
	case PROTOBUF_C_TYPE_BOOL:
		*(protobuf_c_boolean *)slot = rnd() & 1;
		break;
	case PROTOBUF_C_TYPE_INT32:
		*(int32_t *)slot = (int32_t)rnd();
		break;
	case PROTOBUF_C_TYPE_INT64:
		*(int64_t *)slot = (int64_t)rnd();
		break;
	case PROTOBUF_C_TYPE_UINT64:
		*(uint64_t *)slot = rnd();
		break;
	case PROTOBUF_C_TYPE_DOUBLE: {
		double v = (double)(int64_t)rnd() / (double)(1 + rnd() % 1000000);
		*(double *)slot = (rnd() & 1) ? v * 1e-12 : v;
		break;
	}
	case PROTOBUF_C_TYPE_ENUM: {
		const ProtobufCEnumDescriptor *e = f->descriptor;
		*(int *)slot = e->values[rnd() % e->n_values].value;
		break;
	}
	case PROTOBUF_C_TYPE_STRING:
		*(char **)slot = rnd_string();
		break;
	case PROTOBUF_C_TYPE_BYTES: {
		ProtobufCBinaryData *b = slot;
		b->len = rnd() % 9;
		b->data = b->len ? malloc(b->len) : NULL;
		for (size_t i = 0; i < b->len; i++)
			b->data[i] = (uint8_t)rnd();
		break;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessageDescriptor *d = f->descriptor;
		ProtobufCMessage *sub = nmd_pb_new(d, NULL);
		*(ProtobufCMessage **)slot = sub;
		if (d == &nomad__timestamp__descriptor) {
			Nomad__Timestamp *ts = (Nomad__Timestamp *)sub;
			ts->has_seconds = ts->has_nanos = 1;
			ts->seconds = (int64_t)(rnd() % 253402300800ULL) -
				      62135596800LL;
			ts->nanos = (int32_t)(rnd() % 1000000000);
		} else if (d == &nomad__raw_json__descriptor) {
			((Nomad__RawJSON *)sub)->json = nmd_strdup(
				NULL, raws[rnd() % (sizeof(raws) / sizeof(*raws))]);
		} else {
			fill(sub, depth + 1);
		}
		break;
	}
	default:
		nmd_test_fail(__FILE__, __LINE__, "field type %d not covered",
			      f->type);
	}
}

static void fill_field(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
		       int depth)
{
	size_t sz = nmd_pb_scalar_size(f->type);
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t n = depth > 3 ? 0 : rnd() % 4;
		char *arr = n ? calloc(n, sz) : NULL;
		for (size_t i = 0; i < n; i++)
			fill_value(f, arr + i * sz, depth);
		*(char **)nmd_pb_field_ptr(m, f) = arr;
		*(size_t *)nmd_pb_quant_ptr(m, f) = n;
		if (f->type == PROTOBUF_C_TYPE_MESSAGE &&
		    nmd_pb_is_map_entry(f->descriptor))
			nmd_map_normalize(NULL, (ProtobufCMessage **)arr,
					  (size_t *)nmd_pb_quant_ptr(m, f));
		return;
	}
	if (depth > 4 && f->type == PROTOBUF_C_TYPE_MESSAGE)
		return;
	fill_value(f, nmd_pb_field_ptr(m, f), depth);
	if (f->type != PROTOBUF_C_TYPE_STRING &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE)
		*(protobuf_c_boolean *)nmd_pb_quant_ptr(m, f) = 1;
}

static void fill(ProtobufCMessage *m, int depth)
{
	const ProtobufCMessageDescriptor *d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++)
		if (rnd() % 3 || nmd_pb_is_map_entry(d))
			fill_field(m, &d->fields[i], depth);
}

/* Name the first field where two messages differ, for failure messages. */
void tr_first_difference(const ProtobufCMessage *a,
			     const ProtobufCMessage *b, char *out, size_t cap)
{
	const ProtobufCMessageDescriptor *d = a->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		size_t len = strlen(out);
		if (nmd_pb_field_equal(a, b, f))
			continue;
		snprintf(out + len, cap - len, ".%s", f->name);
		if (f->type == PROTOBUF_C_TYPE_MESSAGE &&
		    f->label == PROTOBUF_C_LABEL_REPEATED &&
		    *(size_t *)nmd_pb_quant_ptr(a, f) ==
			    *(size_t *)nmd_pb_quant_ptr(b, f)) {
			ProtobufCMessage **x = *(ProtobufCMessage ***)nmd_pb_field_ptr(a, f);
			ProtobufCMessage **y = *(ProtobufCMessage ***)nmd_pb_field_ptr(b, f);
			for (size_t k = 0; k < *(size_t *)nmd_pb_quant_ptr(a, f); k++)
				if (!nomad_msg_equal(x[k], y[k])) {
					len = strlen(out);
					snprintf(out + len, cap - len, "[%zu]", k);
					tr_first_difference(x[k], y[k], out, cap);
					return;
				}
		}
		if (f->type == PROTOBUF_C_TYPE_MESSAGE &&
		    f->label != PROTOBUF_C_LABEL_REPEATED &&
		    nmd_pb_field_present(a, f) && nmd_pb_field_present(b, f))
			tr_first_difference(*(ProtobufCMessage **)nmd_pb_field_ptr(a, f),
					 *(ProtobufCMessage **)nmd_pb_field_ptr(b, f),
					 out, cap);
		return;
	}
}

void tr_fill(ProtobufCMessage *m, uint64_t seed)
{
	rnd_state = seed * 0x9e3779b97f4a7c15ULL + 1;
	fill(m, 0);
}

ProtobufCMessage *tr_random_msg(const ProtobufCMessageDescriptor *d,
				uint64_t seed)
{
	ProtobufCMessage *m = nmd_pb_new(d, NULL);
	tr_fill(m, seed);
	return m;
}
