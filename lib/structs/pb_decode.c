/* SPDX-License-Identifier: MPL-2.0 */
/*
 * A one-pass protobuf decoder driven by protoc-c's descriptors. It builds
 * exactly what protobuf_c_message_unpack builds (the result is freed with
 * protobuf_c_message_free_unpacked and the same allocator), about twice
 * as fast: protobuf-c scans a message once to count its repeated fields
 * and once more to parse them, where this parses straight into the
 * struct, growing repeated arrays by doubling. With an arena allocator
 * the doubling's old arrays are simply left behind until the reset.
 *
 * Decoding into a message that already holds fields merges, as the
 * protobuf spec asks of a repeated occurrence of an embedded message:
 * scalars are replaced, repeated fields appended to, submessages merged.
 */
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "structs/pb.h"

/* Deeper nesting than the schema has means a corrupt or hostile input. */
#define MAX_DEPTH 64
#define MAX_FIELD_NUMBER 0x1fffffff

struct dec {
	const uint8_t *p, *end;
	ProtobufCAllocator *a;
	struct nmd_arena *arena; /* when set, allocate here and never free */
	int depth;
	bool unsupported; /* a oneof or required field: fall back */
};

static void *dalloc(struct dec *d, size_t size)
{
	if (d->arena)
		return nmd_arena_alloc(d->arena, size);
	return d->a->alloc(d->a->allocator_data, size);
}

static void dfree(struct dec *d, void *p)
{
	if (!d->arena)
		d->a->free(d->a->allocator_data, p);
}

static inline bool read_varint(struct dec *d, uint64_t *out)
{
	uint64_t v = 0;
	if (d->p < d->end && *d->p < 0x80) { /* most keys, lengths, values */
		*out = *d->p++;
		return true;
	}
	if (d->end - d->p >= 10) { /* room for the longest: no bound checks */
		const uint8_t *p = d->p;
		for (int shift = 0; shift < 70; shift += 7) {
			uint8_t b = *p++;
			v |= (uint64_t)(b & 0x7f) << shift;
			if (!(b & 0x80)) {
				d->p = p;
				*out = v;
				return true;
			}
		}
		return false;
	}
	for (int shift = 0; shift < 70 && d->p < d->end; shift += 7) {
		uint8_t b = *d->p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80)) {
			*out = v;
			return true;
		}
	}
	return false; /* truncated, or longer than ten bytes */
}

static bool read_fixed(struct dec *d, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	if ((size_t)(d->end - d->p) < n)
		return false;
	for (size_t i = 0; i < n; i++)
		v |= (uint64_t)d->p[i] << (8 * i);
	d->p += n;
	*out = v;
	return true;
}

/* The length-delimited payload at d->p: [*start, *start + *len). */
static inline bool read_bytes(struct dec *d, const uint8_t **start,
			      size_t *len)
{
	const uint8_t *at = d->p;
	uint64_t n;
	if (at < d->end && *at < 0x80) { /* under 128 bytes */
		n = *d->p++;
	} else if (!read_varint(d, &n) || d->p - at > 5) {
		/* At most 5 bytes (a 32-bit length), as protobuf-c has it. */
		return false;
	}
	if (n > (uint64_t)(d->end - d->p))
		return false;
	*start = d->p;
	*len = (size_t)n;
	d->p += n;
	return true;
}

/* The field numbered `id`, through protoc-c's field_ranges: runs of
 * consecutive numbers, each mapping to a run of fields[] (our messages
 * number their fields densely, so there are one or two runs). */
static const ProtobufCFieldDescriptor *
find_field(const ProtobufCMessageDescriptor *desc, uint32_t id)
{
	const ProtobufCIntRange *r = desc->field_ranges;
	unsigned lo = 0, hi = desc->n_field_ranges;
	if (hi == 1) { /* fields numbered 1..n, or any one run */
		uint32_t off = id - (uint32_t)r[0].start_value;
		return off < desc->n_fields ? &desc->fields[off] : NULL;
	}
	while (lo < hi) {
		unsigned mid = lo + (hi - lo) / 2;
		if (id < (uint32_t)r[mid].start_value) {
			hi = mid;
		} else {
			unsigned run = r[mid + 1].orig_index - r[mid].orig_index;
			uint32_t off = id - (uint32_t)r[mid].start_value;
			if (off < run)
				return &desc->fields[r[mid].orig_index + off];
			lo = mid + 1;
		}
	}
	return NULL;
}

/* The wire type each field type is written with (packed lists aside). */
static const uint8_t wire_of_type[] = {
	[PROTOBUF_C_TYPE_SFIXED32] = PROTOBUF_C_WIRE_TYPE_32BIT,
	[PROTOBUF_C_TYPE_FIXED32] = PROTOBUF_C_WIRE_TYPE_32BIT,
	[PROTOBUF_C_TYPE_FLOAT] = PROTOBUF_C_WIRE_TYPE_32BIT,
	[PROTOBUF_C_TYPE_SFIXED64] = PROTOBUF_C_WIRE_TYPE_64BIT,
	[PROTOBUF_C_TYPE_FIXED64] = PROTOBUF_C_WIRE_TYPE_64BIT,
	[PROTOBUF_C_TYPE_DOUBLE] = PROTOBUF_C_WIRE_TYPE_64BIT,
	[PROTOBUF_C_TYPE_STRING] = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED,
	[PROTOBUF_C_TYPE_BYTES] = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED,
	[PROTOBUF_C_TYPE_MESSAGE] = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED,
	/* the rest are varints: PROTOBUF_C_WIRE_TYPE_VARINT is 0 */
};

static int wire_type_of(ProtobufCType t)
{
	return (unsigned)t < sizeof(wire_of_type) ? wire_of_type[t] : -1;
}

/* One numeric value of type `t` into `slot`, from wire type `wt`. */
static bool read_number(struct dec *d, ProtobufCType t, int wt, void *slot)
{
	uint64_t v;
	uint32_t v32;
	if (wt == PROTOBUF_C_WIRE_TYPE_32BIT ? !read_fixed(d, 4, &v)
	    : wt == PROTOBUF_C_WIRE_TYPE_64BIT ? !read_fixed(d, 8, &v)
					       : !read_varint(d, &v))
		return false;
	switch (t) {
	case PROTOBUF_C_TYPE_SINT32:
		v32 = (uint32_t)v;
		v32 = (v32 >> 1) ^ (0u - (v32 & 1));
		memcpy(slot, &v32, 4);
		return true;
	case PROTOBUF_C_TYPE_SINT64:
		v = (v >> 1) ^ (0u - (v & 1));
		memcpy(slot, &v, 8);
		return true;
	case PROTOBUF_C_TYPE_BOOL: {
		protobuf_c_boolean b = v != 0;
		memcpy(slot, &b, sizeof(b));
		return true;
	}
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		memcpy(slot, &v, 8);
		return true;
	default: /* the 32-bit kinds and enums keep the low 32 bits */
		v32 = (uint32_t)v;
		memcpy(slot, &v32, 4);
		return true;
	}
}

/* Room in a repeated array of `n` elements for `more` more. Arrays are
 * sized in powers of two (at least 4), so the capacity follows from n. */
static size_t capacity_for(size_t n)
{
	size_t c = 4;
	if (n == 0)
		return 0;
	while (c < n)
		c *= 2;
	return c;
}

static bool reserve(struct dec *d, void **arr, size_t n, size_t more,
		    size_t elem)
{
	size_t cap = capacity_for(n), want = capacity_for(n + more);
	void *grown;
	if (n + more <= cap && *arr)
		return true;
	if (want > SIZE_MAX / elem || !(grown = dalloc(d, want * elem)))
		return false;
	if (n)
		memcpy(grown, *arr, n * elem);
	if (*arr)
		dfree(d, *arr);
	*arr = grown;
	return true;
}

static bool decode_into(struct dec *d, ProtobufCMessage *msg);

/* A new, initialised message of type `desc`, decoded from [p, p + len). */
static bool decode_sub(struct dec *d, const ProtobufCMessageDescriptor *desc,
		       ProtobufCMessage **slot, const uint8_t *p, size_t len)
{
	struct dec sub = { p, p + len, d->a, d->arena, d->depth + 1, false };
	bool ok;
	if (sub.depth > MAX_DEPTH)
		return false;
	if (!*slot) {
		if (!(*slot = dalloc(d, desc->sizeof_message)))
			return false;
		desc->message_init(*slot);
	}
	ok = decode_into(&sub, *slot);
	d->unsupported |= sub.unsupported;
	return ok;
}

/* A string or bytes value [p, p + len) into `slot`. */
static bool set_blob(struct dec *d, const ProtobufCFieldDescriptor *f,
		     void *slot, const uint8_t *p, size_t len)
{
	if (f->type == PROTOBUF_C_TYPE_STRING) {
		char **s = slot;
		char *copy = dalloc(d, len + 1);
		if (!copy)
			return false;
		memcpy(copy, p, len);
		copy[len] = '\0';
		if (*s && *s != (const char *)f->default_value)
			dfree(d, *s);
		*s = copy;
	} else {
		ProtobufCBinaryData *b = slot;
		uint8_t *copy = len ? dalloc(d, len) : NULL;
		if (len && !copy)
			return false;
		if (len)
			memcpy(copy, p, len);
		const ProtobufCBinaryData *def = f->default_value;
		if (b->data && (!def || b->data != def->data))
			dfree(d, b->data);
		b->data = copy;
		b->len = len;
	}
	return true;
}

/* Packed repeated numbers [p, p + len) appended to field `f`. */
static bool append_packed(struct dec *d, ProtobufCMessage *msg,
			  const ProtobufCFieldDescriptor *f, int wt,
			  const uint8_t *p, size_t len)
{
	size_t *n = nmd_pb_quant_ptr(msg, f);
	void **arr = nmd_pb_field_ptr(msg, f);
	size_t elem = nmd_pb_scalar_size(f->type), count = 0;
	struct dec in = { p, p + len, d->a, d->arena, d->depth, false };
	if (wt == PROTOBUF_C_WIRE_TYPE_32BIT || wt == PROTOBUF_C_WIRE_TYPE_64BIT) {
		size_t w = wt == PROTOBUF_C_WIRE_TYPE_32BIT ? 4 : 8;
		if (len % w)
			return false;
		count = len / w;
	} else {
		for (size_t i = 0; i < len; i++)
			count += !(p[i] & 0x80);
	}
	if (!count)
		return true;
	if (!reserve(d, arr, *n, count, elem))
		return false;
	/* Each varint ends in exactly one byte below 0x80, so `count`
	 * values exactly fill [p, p + len), or reading one fails. */
	for (size_t i = 0; i < count; i++, ++*n)
		if (!read_number(&in, f->type, wt, (char *)*arr + *n * elem))
			return false;
	return in.p == in.end;
}

/* Field `f` with wire type `wt`, at d->p. */
static bool decode_field(struct dec *d, ProtobufCMessage *msg,
			 const ProtobufCFieldDescriptor *f, int wt)
{
	void *slot = nmd_pb_field_ptr(msg, f);
	const uint8_t *p = NULL;
	size_t len = 0;
	int want = wire_type_of(f->type);

	if ((f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) ||
	    f->label == PROTOBUF_C_LABEL_REQUIRED) {
		d->unsupported = true; /* not in our schema: protobuf-c's job */
		return false;
	}
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t *n = nmd_pb_quant_ptr(msg, f);
		void **arr = slot;
		size_t elem = f->type == PROTOBUF_C_TYPE_STRING ||
					      f->type == PROTOBUF_C_TYPE_MESSAGE
				      ? sizeof(void *)
				      : nmd_pb_scalar_size(f->type);
		if (wt == PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED &&
		    want != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED)
			return read_bytes(d, &p, &len) &&
			       append_packed(d, msg, f, want, p, len);
		if (wt != want || !reserve(d, arr, *n, 1, elem))
			return false;
		if (want != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED) {
			if (!read_number(d, f->type, wt, (char *)*arr + *n * elem))
				return false;
			++*n;
			return true;
		}
		if (!read_bytes(d, &p, &len))
			return false;
		if (f->type == PROTOBUF_C_TYPE_MESSAGE) {
			ProtobufCMessage **sub = (ProtobufCMessage **)*arr + *n;
			*sub = NULL;
			if (!(*sub = dalloc(d, ((const ProtobufCMessageDescriptor *)
							f->descriptor)->sizeof_message)))
				return false;
			((const ProtobufCMessageDescriptor *)f->descriptor)
				->message_init(*sub);
			++*n; /* counted before decoding: a failure frees it */
			return decode_sub(d, f->descriptor, sub, p, len);
		}
		if (f->type == PROTOBUF_C_TYPE_STRING)
			((char **)*arr)[*n] = NULL;
		else
			memset((char *)*arr + *n * elem, 0, elem);
		if (!set_blob(d, f, (char *)*arr + *n * elem, p, len))
			return false;
		++*n;
		return true;
	}

	if (wt != want)
		return false;
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL &&
	    f->type != PROTOBUF_C_TYPE_STRING &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE)
		*(protobuf_c_boolean *)nmd_pb_quant_ptr(msg, f) = 1;
	if (want != PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED)
		return read_number(d, f->type, wt, slot);
	if (!read_bytes(d, &p, &len))
		return false;
	if (f->type == PROTOBUF_C_TYPE_MESSAGE)
		return decode_sub(d, f->descriptor, slot, p, len);
	return set_blob(d, f, slot, p, len);
}

/* A singular optional field, the common case, in one switch. */
static bool decode_optional(struct dec *d, ProtobufCMessage *msg,
			    const ProtobufCFieldDescriptor *f, int wt)
{
	void *slot = nmd_pb_field_ptr(msg, f);
	protobuf_c_boolean *has = nmd_pb_quant_ptr(msg, f);
	const uint8_t *p;
	size_t len;
	uint64_t v;
	if (wt != wire_type_of(f->type))
		return false;
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		char *copy;
		if (!read_bytes(d, &p, &len) || !(copy = dalloc(d, len + 1)))
			return false;
		memcpy(copy, p, len);
		copy[len] = '\0';
		if (*(char **)slot &&
		    *(char **)slot != (const char *)f->default_value)
			dfree(d, *(char **)slot);
		*(char **)slot = copy;
		return true;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		return read_bytes(d, &p, &len) &&
		       decode_sub(d, f->descriptor, slot, p, len);
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_ENUM:
		if (!read_varint(d, &v))
			return false;
		*(uint32_t *)slot = (uint32_t)v;
		*has = 1;
		return true;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_UINT64:
		if (!read_varint(d, &v))
			return false;
		*(uint64_t *)slot = v;
		*has = 1;
		return true;
	case PROTOBUF_C_TYPE_BOOL:
		if (!read_varint(d, &v))
			return false;
		*(protobuf_c_boolean *)slot = v != 0;
		*has = 1;
		return true;
	case PROTOBUF_C_TYPE_BYTES:
		*has = 1;
		return read_bytes(d, &p, &len) && set_blob(d, f, slot, p, len);
	default:
		*has = 1;
		return read_number(d, f->type, wt, slot);
	}
}

/* A field this build does not know, kept so that it packs again. */
static bool keep_unknown(struct dec *d, ProtobufCMessage *msg, uint32_t tag,
			 int wt, const uint8_t *start)
{
	ProtobufCMessageUnknownField *u;
	const uint8_t *p;
	size_t len;
	uint64_t v;
	switch (wt) {
	case PROTOBUF_C_WIRE_TYPE_VARINT:
		if (!read_varint(d, &v))
			return false;
		break;
	case PROTOBUF_C_WIRE_TYPE_64BIT:
	case PROTOBUF_C_WIRE_TYPE_32BIT:
		if (!read_fixed(d, wt == PROTOBUF_C_WIRE_TYPE_32BIT ? 4 : 8, &v))
			return false;
		break;
	case PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED:
		if (!read_bytes(d, &p, &len))
			return false;
		break;
	default:
		return false; /* groups are not supported, as in protobuf-c */
	}
	/* As protobuf-c keeps it: the value's bytes after the tag, with the
	 * length prefix of a length-delimited one. */
	len = (size_t)(d->p - start);
	if (!reserve(d, (void **)&msg->unknown_fields, msg->n_unknown_fields,
		     1, sizeof(*u)))
		return false;
	u = &msg->unknown_fields[msg->n_unknown_fields];
	u->tag = tag;
	u->wire_type = (ProtobufCWireType)wt;
	u->len = len;
	if (!(u->data = dalloc(d, len ? len : 1)))
		return false;
	memcpy(u->data, start, len);
	msg->n_unknown_fields++;
	return true;
}

static bool decode_into(struct dec *d, ProtobufCMessage *msg)
{
	const ProtobufCMessageDescriptor *desc = msg->descriptor;
	while (d->p < d->end) {
		const ProtobufCFieldDescriptor *f;
		uint64_t key;
		uint32_t tag;
		int wt;
		const uint8_t *at = d->p;
		if (*at < 0x80) { /* fields 1 to 15 */
			key = *d->p++;
		} else if (!read_varint(d, &key) || d->p - at > 5 ||
			   key >> 3 > MAX_FIELD_NUMBER) {
			/* A field number is below 2^29, its key at most 5
			 * bytes. */
			return false;
		}
		if (key >> 3 == 0)
			return false;
		tag = (uint32_t)(key >> 3);
		wt = (int)(key & 7);
		if ((f = find_field(desc, tag))) {
			if (!(f->label == PROTOBUF_C_LABEL_OPTIONAL && f->flags == 0
				      ? decode_optional(d, msg, f, wt)
				      : decode_field(d, msg, f, wt)))
				return false;
		} else if (!keep_unknown(d, msg, tag, wt, d->p)) {
			return false;
		}
	}
	return true;
}

static void *libc_alloc(void *data, size_t size)
{
	(void)data;
	return malloc(size);
}

static void libc_free(void *data, void *ptr)
{
	(void)data;
	free(ptr);
}

static ProtobufCMessage *decode(struct dec *d,
				const ProtobufCMessageDescriptor *desc)
{
	ProtobufCMessage *msg;
	if (!(msg = dalloc(d, desc->sizeof_message)))
		return NULL;
	desc->message_init(msg);
	if (decode_into(d, msg))
		return msg;
	if (!d->arena)
		protobuf_c_message_free_unpacked(msg, d->a);
	return NULL;
}

ProtobufCMessage *nmd_pb_decode(const ProtobufCMessageDescriptor *desc,
				const uint8_t *data, size_t len,
				ProtobufCAllocator *a)
{
	ProtobufCAllocator libc = { libc_alloc, libc_free, NULL };
	struct dec d = { data, data + len, a ? a : &libc, NULL, 0, false };
	ProtobufCMessage *msg;
	if (!data)
		return len ? NULL : nmd_pb_decode(desc, (const uint8_t *)"", 0, a);
	msg = decode(&d, desc);
	if (!msg && d.unsupported)
		msg = protobuf_c_message_unpack(desc, a, len, data);
	return msg;
}

ProtobufCMessage *nmd_pb_decode_arena(const ProtobufCMessageDescriptor *desc,
				      const uint8_t *data, size_t len,
				      struct nmd_arena *arena)
{
	ProtobufCAllocator pa;
	struct dec d = { data, data + len, NULL, arena, 0, false };
	ProtobufCMessage *msg;
	if (!data)
		return len ? NULL
			   : nmd_pb_decode_arena(desc, (const uint8_t *)"", 0,
						 arena);
	msg = decode(&d, desc);
	if (!msg && d.unsupported)
		msg = protobuf_c_message_unpack(
			desc, nmd_pb_arena_allocator(arena, &pa), len, data);
	return msg;
}
