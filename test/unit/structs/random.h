/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Random messages of any type for codec tests: every field kind, nested
 * a few levels, maps sorted as the codecs keep them, strings with quotes,
 * controls and multi-byte UTF-8. Reproducible by seed.
 */
#ifndef NMD_TEST_STRUCTS_RANDOM_H
#define NMD_TEST_STRUCTS_RANDOM_H

#include <stddef.h>
#include <stdint.h>
#include <nomad/structs.h>

/* Fill `m` (fresh, of any type) with random fields drawn from `seed`. */
void tr_fill(ProtobufCMessage *m, uint64_t seed);
/* A newly allocated random message of type `d` (free with nomad_msg_free). */
ProtobufCMessage *tr_random_msg(const ProtobufCMessageDescriptor *d,
				uint64_t seed);
/* The path of the first field where `a` and `b` differ, appended to out. */
void tr_first_difference(const ProtobufCMessage *a, const ProtobufCMessage *b,
			 char *out, size_t cap);

#endif
