/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The one-pass protobuf decoder against protobuf-c's own: the same
 * messages from the same bytes (random messages of every type, every
 * prefix of them, single-byte corruptions), the same bytes packed again,
 * unknown fields kept, packed and unpacked repeated numbers, repeated
 * occurrences merged, and hostile nesting refused.
 */
#include <stdlib.h>
#include <string.h>

#include "test.h"
#include "core/arena.h"
#include "structs/pb.h"
#include "random.h"

static const ProtobufCMessageDescriptor *const types[] = {
	&nomad__job__descriptor, &nomad__node__descriptor,
	&nomad__allocation__descriptor, &nomad__evaluation__descriptor,
	&nomad__deployment__descriptor, &nomad__plan_result__descriptor,
	&nomad__aclpolicy__descriptor, &nomad__variable__descriptor,
	&nomad__scheduler_configuration__descriptor};

static uint8_t *pack(const ProtobufCMessage *m, size_t *len)
{
	uint8_t *out = NULL;
	CHECK_OK(nomad_msg_pack(m, NULL, &out, len));
	return out;
}

static bool read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
	*v = 0;
	for (int shift = 0; *p < end && shift < 70; shift += 7) {
		uint8_t b = *(*p)++;
		*v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80))
			return true;
	}
	return false;
}

/* Whether protobuf-c's leniency explains it taking bytes we refuse: a
 * key with field number 0 or above 2^29 - 1 (it keeps them as unknown
 * fields, the latter cut to 32 bits) or a single
 * bool not written as a varint (it reads any wire type as a bool). The
 * protobuf spec, and Go, refuse both; so do we. Walks the message as a
 * decoder would, up to where the bytes stop making sense. */
static bool protobuf_c_lax(const ProtobufCMessageDescriptor *d,
			   const uint8_t *p, size_t len)
{
	const uint8_t *end = p + len;
	uint64_t key, v;
	while (p < end) {
		const ProtobufCFieldDescriptor *f;
		if (!read_varint(&p, end, &key))
			return false;
		if (key >> 3 == 0 || key >> 3 > 0x1fffffff)
			return true;
		f = protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3));
		if (f && f->type == PROTOBUF_C_TYPE_BOOL && (key & 7) != 0 &&
		    f->label != PROTOBUF_C_LABEL_REPEATED)
			return true;
		switch (key & 7) {
		case 0:
			if (!read_varint(&p, end, &v))
				return false;
			break;
		case 1:
		case 5:
			if ((size_t)(end - p) < ((key & 7) == 1 ? 8u : 4u))
				return false;
			p += (key & 7) == 1 ? 8 : 4;
			break;
		case 2:
			if (!read_varint(&p, end, &v) || v > (uint64_t)(end - p))
				return false;
			if (f && f->type == PROTOBUF_C_TYPE_MESSAGE &&
			    protobuf_c_lax(f->descriptor, p, (size_t)v))
				return true;
			p += v;
			break;
		default:
			return false;
		}
	}
	return false;
}

/* Decode [data, data + len) with protobuf-c, with ours through malloc and
 * with ours into an arena; all three agree on success, and on the result. */
static void agree(const ProtobufCMessageDescriptor *d, const uint8_t *data,
		  size_t len, const char *what, size_t at)
{
	ProtobufCMessage *ref = protobuf_c_message_unpack(d, NULL, len, data);
	ProtobufCMessage *ours = nmd_pb_decode(d, data, len, NULL);
	struct nmd_arena ar;
	ProtobufCMessage *in_arena;
	nmd_arena_init(&ar, NULL);
	in_arena = nmd_pb_decode_arena(d, data, len, &ar);
	if (ref && !ours && !in_arena && protobuf_c_lax(d, data, len)) {
		protobuf_c_message_free_unpacked(ref, NULL);
		nmd_arena_free(&ar);
		return;
	}
	if (!ref != !ours || !ref != !in_arena)
		nmd_test_fail(__FILE__, __LINE__,
			      "%s %s at %zu: protobuf-c %s, ours %s, arena %s",
			      d->name, what, at, ref ? "decodes" : "refuses",
			      ours ? "decodes" : "refuses",
			      in_arena ? "decodes" : "refuses");
	if (ref) {
		char where[512] = "";
		size_t n1, n2;
		uint8_t *b1 = pack(ref, &n1), *b2 = pack(ours, &n2);
		if (!nomad_msg_equal(ref, ours)) {
			tr_first_difference(ref, ours, where, sizeof(where));
			nmd_test_fail(__FILE__, __LINE__, "%s %s at %zu: differs at %s",
				      d->name, what, at, where);
		}
		CHECK(nomad_msg_equal(ref, in_arena));
		/* Unknown fields too: the bytes pack back the same. */
		CHECK_INT(n1, n2);
		CHECK(memcmp(b1, b2, n1) == 0);
		nomad_free(b1);
		nomad_free(b2);
	}
	protobuf_c_message_free_unpacked(ref, NULL);
	protobuf_c_message_free_unpacked(ours, NULL);
	nmd_arena_free(&ar);
}

NMD_TEST(test_structs_pb_decode__random_messages_match_protobuf_c)
{
	for (size_t t = 0; t < sizeof(types) / sizeof(*types); t++)
		for (uint64_t seed = 1; seed <= 30; seed++) {
			ProtobufCMessage *m = tr_random_msg(types[t], seed * 7 + t);
			size_t len;
			uint8_t *bytes = pack(m, &len);
			agree(types[t], bytes, len, "whole", len);
			nomad_free(bytes);
			nomad_msg_free(m, NULL);
		}
}

NMD_TEST(test_structs_pb_decode__every_prefix_and_corruption_agrees)
{
	for (size_t t = 0; t < sizeof(types) / sizeof(*types); t++)
		for (uint64_t seed = 1; seed <= 4; seed++) {
			ProtobufCMessage *m = tr_random_msg(types[t], seed * 13 + t);
			size_t len;
			uint8_t *bytes = pack(m, &len), *bad = malloc(len + 1);
			/* A cut anywhere: inside a field both refuse, at a field
			 * boundary both decode the fields before it. */
			for (size_t cut = 0; cut < len && cut < 600; cut++)
				agree(types[t], bytes, cut, "prefix", cut);
			/* One byte changed: a different tag, wire type, length or
			 * value; never a crash, always the same verdict. */
			for (size_t i = 0; i < len && i < 400; i++) {
				static const uint8_t subst[] = {0x00, 0x80, 0xff, 0x0a,
								0x12, 0x7f};
				memcpy(bad, bytes, len);
				bad[i] = subst[i % sizeof(subst)];
				agree(types[t], bad, len, "corrupted byte", i);
			}
			free(bad);
			nomad_free(bytes);
			nomad_msg_free(m, NULL);
		}
}

/* NodeCpuResources.ReservableCpuCores (repeated int32, field 3)
 * written unpacked, then packed: the same list. */
NMD_TEST(test_structs_pb_decode__packed_and_unpacked_repeated_numbers)
{
	static const uint8_t unpacked[] = {0x18, 0x01, 0x18, 0x02, 0x18, 0x83,
					   0x01, 0x18, 0xff, 0xff, 0xff, 0xff,
					   0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
	static const uint8_t packed[] = {0x1a, 0x0e, 0x01, 0x02, 0x83, 0x01,
					 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					 0xff, 0xff, 0xff, 0x01};
	static const uint8_t mixed[] = {0x18, 0x01, 0x1a, 0x03, 0x02, 0x83,
					0x01};
	static const uint8_t short_packed[] = {0x1a, 0x02, 0x01, 0x83};
	const ProtobufCMessageDescriptor *d =
		&nomad__node_cpu_resources__descriptor;
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(
			d, "ReservableCpuCores");
	ProtobufCMessage *a, *b, *c;
	if (!f || f->id != 3)
		nmd_test_skip("schema moved ReservableCpuCores");
	a = nmd_pb_decode(d, unpacked, sizeof(unpacked), NULL);
	b = nmd_pb_decode(d, packed, sizeof(packed), NULL);
	c = nmd_pb_decode(d, mixed, sizeof(mixed), NULL);
	CHECK(a && b && c);
	CHECK_INT(*(size_t *)nmd_pb_quant_ptr(a, f), 4);
	CHECK(nomad_msg_equal(a, b));
	CHECK_INT((*(int32_t **)nmd_pb_field_ptr(a, f))[2], 131);
	CHECK_INT((*(int32_t **)nmd_pb_field_ptr(a, f))[3], -1);
	CHECK_INT(*(size_t *)nmd_pb_quant_ptr(c, f), 3);
	CHECK(nmd_pb_decode(d, short_packed, sizeof(short_packed), NULL) == NULL);
	agree(d, unpacked, sizeof(unpacked), "unpacked", 0);
	agree(d, packed, sizeof(packed), "packed", 0);
	agree(d, mixed, sizeof(mixed), "mixed", 0);
	nomad_msg_free(a, NULL);
	nomad_msg_free(b, NULL);
	nomad_msg_free(c, NULL);
}

NMD_TEST(test_structs_pb_decode__unknown_fields_kept_and_packed_again)
{
	/* Field 9999 as a varint, field 9998 as bytes, field 9997 as a
	 * fixed64 and 9996 as a fixed32, around a known ID (field 1). */
	static const uint8_t in[] = {
		0xf8, 0xf0, 0x04, 0x96, 0x01,                   /* 9999: 150 */
		0x0a, 0x02, 'i', 'd',                            /* ID "id" */
		0xf2, 0xf0, 0x04, 0x03, 'x', 'y', 'z',           /* 9998 */
		0xe9, 0xf0, 0x04, 1, 2, 3, 4, 5, 6, 7, 8,        /* 9997 */
		0xe5, 0xf0, 0x04, 9, 8, 7, 6};                   /* 9996 */
	ProtobufCMessage *m = nmd_pb_decode(&nomad__allocation__descriptor, in,
					    sizeof(in), NULL);
	size_t len;
	uint8_t *out;
	CHECK(m != NULL);
	CHECK_STR(((nomad_alloc *)m)->id, "id");
	CHECK_INT(m->n_unknown_fields, 4);
	CHECK_INT(m->unknown_fields[1].len, 4); /* with its length, as protobuf-c */
	out = pack(m, &len);
	CHECK_INT(len, sizeof(in)); /* same fields; known ones come first */
	agree(&nomad__allocation__descriptor, in, sizeof(in), "unknown", 0);
	nomad_free(out);
	nomad_msg_free(m, NULL);
}

NMD_TEST(test_structs_pb_decode__repeated_submessage_occurrences_merge)
{
	/* Allocation.Metrics (field 13?) looked up by name, sent twice:
	 * the second occurrence merges into the first. */
	const ProtobufCFieldDescriptor *f =
		protobuf_c_message_descriptor_get_field_by_name(
			&nomad__allocation__descriptor, "Metrics");
	nomad_alloc *a = nomad_alloc_new(), *got;
	uint8_t *one, *two, *both;
	size_t n1, n2;
	CHECK(f != NULL);
	a->metrics = nmd_pb_new(&nomad__allocation_metric__descriptor, NULL);
	a->metrics->has_nodesevaluated = 1;
	a->metrics->nodesevaluated = 7;
	one = pack(&a->base, &n1);
	a->metrics->has_nodesevaluated = 0;
	a->metrics->has_nodesfiltered = 1;
	a->metrics->nodesfiltered = 3;
	two = pack(&a->base, &n2);
	both = malloc(n1 + n2);
	memcpy(both, one, n1);
	memcpy(both + n1, two, n2);
	got = (nomad_alloc *)nmd_pb_decode(&nomad__allocation__descriptor, both,
					   n1 + n2, NULL);
	CHECK(got && got->metrics);
	CHECK_INT(got->metrics->nodesevaluated, 7);
	CHECK_INT(got->metrics->nodesfiltered, 3);
	agree(&nomad__allocation__descriptor, both, n1 + n2, "merge", 0);
	free(both);
	nomad_free(one);
	nomad_free(two);
	nomad_alloc_free(got);
	nomad_alloc_free(a);
}

/* `levels` ObjectDiffs, each the only entry of its parent's Objects. */
static size_t nested_diffs(uint8_t *buf, size_t cap, int levels)
{
	size_t n = 0; /* built back to front: buf[cap - n, cap) */
	for (int i = 0; i < levels; i++) {
		uint8_t head[11];
		size_t h = 0, len = n;
		head[h++] = 0x22; /* field 4, length-delimited */
		for (; len >= 0x80; len >>= 7)
			head[h++] = (uint8_t)(len | 0x80);
		head[h++] = (uint8_t)len;
		CHECK(n + h <= cap);
		n += h;
		memcpy(buf + cap - n, head, h);
	}
	memmove(buf, buf + cap - n, n);
	return n;
}

NMD_TEST(test_structs_pb_decode__hostile_nesting_is_refused)
{
	/* ObjectDiff holds ObjectDiffs: a chain 30 deep decodes as
	 * protobuf-c decodes it; 1,000 deep is refused rather than recursed
	 * into (protobuf-c would follow it down the stack). */
	static uint8_t buf[8192];
	size_t n = nested_diffs(buf, sizeof(buf), 30);
	const ProtobufCMessageDescriptor *d = &nomad__object_diff__descriptor;
	ProtobufCMessage *m;
	agree(d, buf, n, "30 deep", 0);
	n = nested_diffs(buf, sizeof(buf), 1000);
	CHECK(nmd_pb_decode(d, buf, n, NULL) == NULL);
	/* An empty buffer is an empty message; NULL with a length is not. */
	m = nmd_pb_decode(d, NULL, 0, NULL);
	CHECK(m != NULL);
	nomad_msg_free(m, NULL);
	CHECK(nmd_pb_decode(d, NULL, 4, NULL) == NULL);
}
