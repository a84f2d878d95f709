/* SPDX-License-Identifier: MPL-2.0 */
/*
 * libFuzzer target for the one-pass protobuf decoder (`make fuzz`): any
 * bytes, read as each stored type, are decoded or refused without a crash
 * or leak, through malloc and through an arena. What it decodes packs and
 * decodes again to an equal message, and protobuf-c decodes the same
 * bytes to an equal message too: we may be stricter than protobuf-c
 * (field number 0, bools of other wire types), never laxer.
 */
#include <stdlib.h>

#include <nomad/structs.h>

#include "core/arena.h"
#include "structs/pb.h"

static void must(int ok)
{
	if (!ok)
		abort();
}

static void exercise(const ProtobufCMessageDescriptor *d, const uint8_t *data,
		     size_t size)
{
	ProtobufCMessage *ours = nmd_pb_decode(d, data, size, NULL), *ref, *again;
	struct nmd_arena ar;
	uint8_t *bytes;
	size_t len;
	nmd_arena_init(&ar, NULL);
	must(!ours == !nmd_pb_decode_arena(d, data, size, &ar));
	nmd_arena_free(&ar);
	if (!ours)
		return;
	ref = protobuf_c_message_unpack(d, NULL, size, data);
	must(ref && nomad_msg_equal(ours, ref));
	must(nomad_msg_pack(ours, NULL, &bytes, &len) == NOMAD_OK);
	again = nmd_pb_decode(d, bytes, len, NULL);
	must(again && nomad_msg_equal(ours, again));
	protobuf_c_message_free_unpacked(again, NULL);
	protobuf_c_message_free_unpacked(ref, NULL);
	protobuf_c_message_free_unpacked(ours, NULL);
	nomad_free(bytes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	exercise(&nomad__allocation__descriptor, data, size);
	exercise(&nomad__job__descriptor, data, size);
	exercise(&nomad__node__descriptor, data, size);
	exercise(&nomad__object_diff__descriptor, data, size);
	return 0;
}
