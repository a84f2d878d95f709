/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Descriptor-driven helpers over protoc-c's messages, shared by the JSON
 * codec, defaults, validation and diff (and by later subsystems through
 * this narrow header). Every message built here can be freed with
 * protobuf_c_message_free_unpacked and the matching allocator.
 */
#ifndef NMD_STRUCTS_PB_H
#define NMD_STRUCTS_PB_H

#include <stdbool.h>
#include <nomad/structs.h>

/* protobuf-c's allocator view of `a`; NULL (its default, malloc) for NULL. */
ProtobufCAllocator *nmd_pb_allocator(const nomad_allocator *a,
				     ProtobufCAllocator *storage);

struct nmd_arena;
/* protobuf-c's allocator view of an arena: frees are no-ops, the arena's
 * reset takes everything back. Decode with it, never free_unpacked. */
ProtobufCAllocator *nmd_pb_arena_allocator(struct nmd_arena *ar,
					   ProtobufCAllocator *storage);

/* Decode `len` bytes of `desc`'s wire form, as protobuf_c_message_unpack
 * does and to the same structure, in one pass; NULL when the bytes are
 * not a valid message or memory runs out. `a` NULL means malloc. */
ProtobufCMessage *nmd_pb_decode(const ProtobufCMessageDescriptor *desc,
				const uint8_t *data, size_t len,
				ProtobufCAllocator *a);
/* The same into an arena: the fastest way to read many rows. */
ProtobufCMessage *nmd_pb_decode_arena(const ProtobufCMessageDescriptor *desc,
				      const uint8_t *data, size_t len,
				      struct nmd_arena *arena);

/* A new message with every field unset, or NULL. */
void *nmd_pb_new(const ProtobufCMessageDescriptor *desc,
		 const nomad_allocator *a);
void nmd_pb_free(void *msg, const nomad_allocator *a);

/* Append `elem` to a repeated pointer field (*arr, *n): the array grows by
 * doubling, so appends are amortised O(1). False when out of memory (the
 * field is unchanged and `elem` still belongs to the caller). */
bool nmd_pb_append(const nomad_allocator *a, void ***arr, size_t *n,
		   void *elem);
#define NMD_PB_APPEND(a, field_arr, field_n, elem)                            \
	nmd_pb_append((a), (void ***)&(field_arr), &(field_n), (elem))

/* Grow a repeated field's array so that it can take one more element of
 * `size` bytes (any element type). */
bool nmd_pb_grow(const nomad_allocator *a, void **arr, size_t n, size_t size);

/* Replace *slot's string with a copy of `s` (NULL unsets). */
bool nmd_pb_set_string(const nomad_allocator *a, char **slot, const char *s);

/* A Timestamp as Unix nanoseconds (NULL: 0), and back (the nanoseconds
 * kept in [0, 1e9) for times before 1970 too). */
int64_t nmd_ts_ns(const Nomad__Timestamp *t);
void nmd_ts_set(Nomad__Timestamp *t, int64_t ns);

/* A map field's messages have `key` (field 1) and `value` (field 2). */
bool nmd_pb_is_map_entry(const ProtobufCMessageDescriptor *desc);
/* A "...List" message with one repeated field: a JSON array. */
bool nmd_pb_is_list_wrapper(const ProtobufCMessageDescriptor *desc);

/* Set key to value in a sorted string map, replacing an existing value. */
bool nmd_map_set(const nomad_allocator *a, Nomad__StringEntry ***entries,
		 size_t *n, const char *key, const char *value);

/* Sort a map field's entries by key and keep only the last of equal keys
 * (JSON's "last one wins"). `entries` are map-entry messages. */
void nmd_map_normalize(const nomad_allocator *a, ProtobufCMessage **entries,
		       size_t *n);

/* The address of field `f` in `msg`, and of its quantifier (has_ or n_). */
static inline void *nmd_pb_field_ptr(const ProtobufCMessage *msg,
				     const ProtobufCFieldDescriptor *f)
{
	return (char *)msg + f->offset;
}
static inline void *nmd_pb_quant_ptr(const ProtobufCMessage *msg,
				     const ProtobufCFieldDescriptor *f)
{
	return (char *)msg + f->quantifier_offset;
}

/* Size in bytes of one value of a scalar field type. */
size_t nmd_pb_scalar_size(ProtobufCType type);

/* Whether an optional or repeated field holds a value (a list: non-empty). */
bool nmd_pb_field_present(const ProtobufCMessage *msg,
			  const ProtobufCFieldDescriptor *f);

/* Deep equality of one field of two messages of the same type. */
bool nmd_pb_field_equal(const ProtobufCMessage *a, const ProtobufCMessage *b,
			const ProtobufCFieldDescriptor *f);

#endif
