/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Generic operations on protoc-c messages, driven by their descriptors:
 * new, free, deep copy, deep equality, protobuf pack and unpack, enum
 * names, and sorted string maps. Because they read the descriptors, they
 * work for every type in proto/structs.proto without per-type code.
 */
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "core/arena.h"
#include "core/error.h"
#include "structs/pb.h"

static void *pb_alloc(void *data, size_t size)
{
	return nmd_malloc(data, size);
}

static void pb_free(void *data, void *ptr)
{
	nmd_free(data, ptr);
}

ProtobufCAllocator *nmd_pb_allocator(const nomad_allocator *a,
				     ProtobufCAllocator *storage)
{
	if (!a)
		return NULL;
	storage->alloc = pb_alloc;
	storage->free = pb_free;
	storage->allocator_data = (void *)a;
	return storage;
}

static void *arena_alloc(void *data, size_t size)
{
	return nmd_arena_alloc(data, size);
}

static void arena_free(void *data, void *ptr)
{
	(void)data;
	(void)ptr;
}

ProtobufCAllocator *nmd_pb_arena_allocator(struct nmd_arena *ar,
					   ProtobufCAllocator *storage)
{
	storage->alloc = arena_alloc;
	storage->free = arena_free;
	storage->allocator_data = ar;
	return storage;
}

void *nmd_pb_new(const ProtobufCMessageDescriptor *desc,
		 const nomad_allocator *a)
{
	void *msg = nmd_malloc(a, desc->sizeof_message);
	if (msg)
		desc->message_init(msg);
	return msg;
}

void nmd_pb_free(void *msg, const nomad_allocator *a)
{
	ProtobufCAllocator st;
	if (msg)
		protobuf_c_message_free_unpacked(msg, nmd_pb_allocator(a, &st));
}

bool nmd_pb_grow(const nomad_allocator *a, void **arr, size_t n, size_t size)
{
	void *grown = nmd_reallocarray(a, *arr, n + 1, size);
	if (!grown)
		return false;
	*arr = grown;
	return true;
}

bool nmd_pb_append(const nomad_allocator *a, void ***arr, size_t *n,
		   void *elem)
{
	if (!nmd_pb_grow(a, (void **)arr, *n, sizeof(void *)))
		return false;
	(*arr)[(*n)++] = elem;
	return true;
}

bool nmd_pb_set_string(const nomad_allocator *a, char **slot, const char *s)
{
	char *copy = NULL;
	if (s && !(copy = nmd_strdup(a, s)))
		return false;
	nmd_free(a, *slot);
	*slot = copy;
	return true;
}

bool nmd_pb_is_map_entry(const ProtobufCMessageDescriptor *desc)
{
	return desc->n_fields == 2 && desc->fields[0].id == 1 &&
	       desc->fields[1].id == 2 &&
	       strcmp(desc->fields[0].name, "key") == 0 &&
	       strcmp(desc->fields[1].name, "value") == 0 &&
	       desc->fields[0].type == PROTOBUF_C_TYPE_STRING;
}

bool nmd_pb_is_list_wrapper(const ProtobufCMessageDescriptor *desc)
{
	size_t len = strlen(desc->name);
	return desc->n_fields == 1 &&
	       desc->fields[0].label == PROTOBUF_C_LABEL_REPEATED && len > 4 &&
	       strcmp(desc->name + len - 4, "List") == 0;
}

size_t nmd_pb_scalar_size(ProtobufCType type)
{
	switch (type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_ENUM:
		return 4;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(void *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	}
	return 0;
}

bool nmd_pb_field_present(const ProtobufCMessage *msg,
			  const ProtobufCFieldDescriptor *f)
{
	const void *p = nmd_pb_field_ptr(msg, f);
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)nmd_pb_quant_ptr(msg, f) > 0;
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_MESSAGE:
		return *(void *const *)p != NULL;
	default:
		if (f->label == PROTOBUF_C_LABEL_REQUIRED)
			return true;
		return *(const protobuf_c_boolean *)nmd_pb_quant_ptr(msg, f);
	}
}

/* ---- copy ---------------------------------------------------------------- */

static bool copy_message(const nomad_allocator *a, const ProtobufCMessage *src,
			 ProtobufCMessage **out);

/* Copy one value of type f->type from `from` to the zeroed slot `to`. */
static bool copy_value(const nomad_allocator *a,
		       const ProtobufCFieldDescriptor *f, const void *from,
		       void *to)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)from;
		if (s == f->default_value || !s) {
			*(const char **)to = s;
			return true;
		}
		return (*(char **)to = nmd_strdup(a, s)) != NULL;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *bf = from;
		ProtobufCBinaryData *bt = to;
		bt->len = bf->len;
		bt->data = NULL;
		if (!bf->data || bf->len == 0)
			return true;
		if (!(bt->data = nmd_malloc(a, bf->len)))
			return false;
		memcpy(bt->data, bf->data, bf->len);
		return true;
	}
	case PROTOBUF_C_TYPE_MESSAGE: {
		const ProtobufCMessage *m = *(ProtobufCMessage *const *)from;
		*(ProtobufCMessage **)to = NULL;
		return !m || copy_message(a, m, (ProtobufCMessage **)to);
	}
	default:
		memcpy(to, from, nmd_pb_scalar_size(f->type));
		return true;
	}
}

static bool copy_repeated(const nomad_allocator *a,
			  const ProtobufCFieldDescriptor *f,
			  const ProtobufCMessage *src, ProtobufCMessage *dst)
{
	size_t n = *(const size_t *)nmd_pb_quant_ptr(src, f);
	size_t sz = nmd_pb_scalar_size(f->type);
	const char *from = *(char *const *)nmd_pb_field_ptr(src, f);
	size_t *dn = nmd_pb_quant_ptr(dst, f);
	char **darr = nmd_pb_field_ptr(dst, f);
	if (n == 0)
		return true;
	if (!(*darr = nmd_calloc(a, n, sz)))
		return false;
	/* Count each element once it is whole, so a failure mid-way leaves
	 * a message that frees cleanly. */
	for (size_t i = 0; i < n; i++) {
		if (!copy_value(a, f, from + i * sz, *darr + i * sz)) {
			if (f->type == PROTOBUF_C_TYPE_MESSAGE)
				nmd_pb_free(*(void **)(*darr + i * sz), a);
			return false;
		}
		*dn = i + 1;
	}
	return true;
}

static bool copy_field(const nomad_allocator *a,
		       const ProtobufCFieldDescriptor *f,
		       const ProtobufCMessage *src, ProtobufCMessage *dst)
{
	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return copy_repeated(a, f, src, dst);
	if (f->type != PROTOBUF_C_TYPE_STRING &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE &&
	    f->label == PROTOBUF_C_LABEL_OPTIONAL) {
		const protobuf_c_boolean *has = nmd_pb_quant_ptr(src, f);
		if (!*has)
			return true;
		*(protobuf_c_boolean *)nmd_pb_quant_ptr(dst, f) = 1;
	}
	return copy_value(a, f, nmd_pb_field_ptr(src, f),
			  nmd_pb_field_ptr(dst, f));
}

static bool copy_message(const nomad_allocator *a, const ProtobufCMessage *src,
			 ProtobufCMessage **out)
{
	const ProtobufCMessageDescriptor *desc = src->descriptor;
	ProtobufCMessage *dst = nmd_pb_new(desc, a);
	*out = dst;
	if (!dst)
		return false;
	for (unsigned i = 0; i < desc->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &desc->fields[i];
		if (!copy_field(a, f, src, dst))
			return false;
	}
	return true;
}

nomad_err nomad_msg_copy(ProtobufCMessage **out, const ProtobufCMessage *msg,
			 const nomad_allocator *alloc)
{
	ProtobufCMessage *copy = NULL;
	*out = NULL;
	if (!msg)
		return NOMAD_EINVAL;
	if (!copy_message(alloc, msg, &copy)) {
		nmd_pb_free(copy, alloc);
		return NOMAD_ENOMEM;
	}
	*out = copy;
	return NOMAD_OK;
}

/* ---- equality ------------------------------------------------------------ */

static bool value_equal(const ProtobufCFieldDescriptor *f, const void *x,
			const void *y)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(char *const *)x, *t = *(char *const *)y;
		return s == t || (s && t && strcmp(s, t) == 0);
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *p = x, *q = y;
		return p->len == q->len &&
		       (p->len == 0 || memcmp(p->data, q->data, p->len) == 0);
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		return nomad_msg_equal(*(ProtobufCMessage *const *)x,
				       *(ProtobufCMessage *const *)y);
	case PROTOBUF_C_TYPE_BOOL:
		return !*(const protobuf_c_boolean *)x ==
		       !*(const protobuf_c_boolean *)y;
	default:
		return memcmp(x, y, nmd_pb_scalar_size(f->type)) == 0;
	}
}

bool nmd_pb_field_equal(const ProtobufCMessage *a, const ProtobufCMessage *b,
			const ProtobufCFieldDescriptor *f)
{
	const void *x = nmd_pb_field_ptr(a, f), *y = nmd_pb_field_ptr(b, f);
	if (f->label == PROTOBUF_C_LABEL_REPEATED) {
		size_t n = *(const size_t *)nmd_pb_quant_ptr(a, f);
		size_t sz = nmd_pb_scalar_size(f->type);
		const char *xa = *(char *const *)x, *ya = *(char *const *)y;
		if (n != *(const size_t *)nmd_pb_quant_ptr(b, f))
			return false;
		for (size_t i = 0; i < n; i++)
			if (!value_equal(f, xa + i * sz, ya + i * sz))
				return false;
		return true;
	}
	if (f->type != PROTOBUF_C_TYPE_STRING &&
	    f->type != PROTOBUF_C_TYPE_MESSAGE &&
	    f->label == PROTOBUF_C_LABEL_OPTIONAL) {
		bool ha = *(const protobuf_c_boolean *)nmd_pb_quant_ptr(a, f);
		bool hb = *(const protobuf_c_boolean *)nmd_pb_quant_ptr(b, f);
		if (ha != hb)
			return false;
		if (!ha)
			return true;
	}
	return value_equal(f, x, y);
}

bool nomad_msg_equal(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
	if (a == b)
		return true;
	if (!a || !b || a->descriptor != b->descriptor)
		return false;
	for (unsigned i = 0; i < a->descriptor->n_fields; i++)
		if (!nmd_pb_field_equal(a, b, &a->descriptor->fields[i]))
			return false;
	return true;
}

/* ---- the public generic calls ------------------------------------------ */

ProtobufCMessage *nomad_msg_new(const ProtobufCMessageDescriptor *desc,
				const nomad_allocator *alloc)
{
	return desc ? nmd_pb_new(desc, alloc) : NULL;
}

void nomad_msg_free(ProtobufCMessage *msg, const nomad_allocator *alloc)
{
	nmd_pb_free(msg, alloc);
}

nomad_err nomad_msg_pack(const ProtobufCMessage *msg,
			 const nomad_allocator *alloc, uint8_t **out,
			 size_t *len)
{
	size_t size;
	*out = NULL;
	*len = 0;
	if (!msg)
		return NOMAD_EINVAL;
	size = protobuf_c_message_get_packed_size(msg);
	/* One spare byte so that an empty message still gets a buffer. */
	if (!(*out = nmd_malloc(alloc, size + 1)))
		return NOMAD_ENOMEM;
	*len = protobuf_c_message_pack(msg, *out);
	return NOMAD_OK;
}

nomad_err nomad_msg_unpack(ProtobufCMessage **out,
			   const ProtobufCMessageDescriptor *desc,
			   const uint8_t *data, size_t len,
			   const nomad_allocator *alloc, nomad_error *err)
{
	ProtobufCAllocator st;
	*out = NULL;
	if (!desc || (!data && len))
		return nmd_seterr(err, NOMAD_EINVAL, "protobuf: no input");
	*out = nmd_pb_decode(desc, data, len, nmd_pb_allocator(alloc, &st));
	if (!*out)
		return nmd_seterr(err, NOMAD_ECORRUPT,
				  "protobuf: %zu bytes are not a valid %s",
				  len, desc->name);
	return NOMAD_OK;
}

const char *nomad_enum_name(const ProtobufCEnumDescriptor *desc, int value)
{
	const ProtobufCEnumValue *v =
		desc ? protobuf_c_enum_descriptor_get_value(desc, value) : NULL;
	return v ? v->name : NULL;
}

nomad_err nomad_enum_value(const ProtobufCEnumDescriptor *desc,
			   const char *name, int *out)
{
	const ProtobufCEnumValue *v;
	if (!desc || !name)
		return NOMAD_EINVAL;
	v = protobuf_c_enum_descriptor_get_value_by_name(desc, name);
	if (!v)
		return NOMAD_ENOTFOUND;
	*out = v->value;
	return NOMAD_OK;
}

/* ---- maps -------------------------------------------------------------- */

const char *nomad_map_get(Nomad__StringEntry *const *entries, size_t n,
			  const char *key)
{
	if (!key)
		return NULL;
	for (size_t i = 0; i < n; i++)
		if (entries[i]->key && strcmp(entries[i]->key, key) == 0)
			return entries[i]->value;
	return NULL;
}

static const char *entry_key(const ProtobufCMessage *e)
{
	const char *k = *(char *const *)nmd_pb_field_ptr(
		e, &e->descriptor->fields[0]);
	return k ? k : "";
}

bool nmd_map_set(const nomad_allocator *a, Nomad__StringEntry ***entries,
		 size_t *n, const char *key, const char *value)
{
	size_t lo = 0, hi = *n;
	Nomad__StringEntry *e;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(entry_key(&(*entries)[mid]->base), key);
		if (c == 0)
			return nmd_pb_set_string(a, &(*entries)[mid]->value,
						 value);
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (!(e = nmd_pb_new(&nomad__string_entry__descriptor, a)))
		return false;
	if (!nmd_pb_set_string(a, &e->key, key) ||
	    !nmd_pb_set_string(a, &e->value, value) ||
	    !nmd_pb_grow(a, (void **)entries, *n, sizeof(**entries))) {
		nmd_pb_free(e, a);
		return false;
	}
	memmove(*entries + lo + 1, *entries + lo, (*n - lo) * sizeof(**entries));
	(*entries)[lo] = e;
	(*n)++;
	return true;
}

struct keyed {
	ProtobufCMessage *entry;
	size_t index;
};

static int cmp_keyed(const void *x, const void *y)
{
	const struct keyed *p = x, *q = y;
	int c = strcmp(entry_key(p->entry), entry_key(q->entry));
	if (c)
		return c;
	return p->index < q->index ? -1 : p->index > q->index;
}

void nmd_map_normalize(const nomad_allocator *a, ProtobufCMessage **entries,
		       size_t *n)
{
	struct keyed *tmp;
	size_t out = 0;
	bool sorted = true;
	for (size_t i = 1; i < *n && sorted; i++)
		sorted = strcmp(entry_key(entries[i - 1]),
				entry_key(entries[i])) < 0;
	if (sorted)
		return;
	if (!(tmp = nmd_calloc(a, *n, sizeof(*tmp))))
		return; /* left unsorted: still correct, only not canonical */
	for (size_t i = 0; i < *n; i++)
		tmp[i] = (struct keyed){entries[i], i};
	qsort(tmp, *n, sizeof(*tmp), cmp_keyed);
	for (size_t i = 0; i < *n; i++) {
		bool last_of_key = i + 1 == *n ||
				   strcmp(entry_key(tmp[i].entry),
					  entry_key(tmp[i + 1].entry)) != 0;
		if (last_of_key)
			entries[out++] = tmp[i].entry;
		else
			nmd_pb_free(tmp[i].entry, a);
	}
	*n = out;
	nmd_free(a, tmp);
}

int64_t nmd_ts_ns(const Nomad__Timestamp *t)
{
	return t ? t->seconds * 1000000000LL + t->nanos : 0;
}

void nmd_ts_set(Nomad__Timestamp *t, int64_t ns)
{
	int64_t s = ns / 1000000000LL, r = ns % 1000000000LL;
	if (r < 0) {
		r += 1000000000LL;
		s--;
	}
	t->has_seconds = t->has_nanos = 1;
	t->seconds = s;
	t->nanos = (int32_t)r;
}
