/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The typed helper families of structs.h (nomad_job_from_json, ...): thin
 * wrappers that fix the descriptor and use the C library's allocator.
 */
#include "core/error.h"
#include "structs/pb.h"

#define DEFINE_FAMILY(T, P, DESC)                                             \
	nomad_err P##_from_json(T **out, const char *json, size_t len,        \
				const nomad_json_options *opts,               \
				nomad_error *err)                             \
	{                                                                     \
		return nomad_msg_from_json((ProtobufCMessage **)out, &DESC,   \
					   json, len, opts, NULL, err);       \
	}                                                                     \
	nomad_err P##_to_json(const T *msg, unsigned int flags, char **out,   \
			      size_t *len, nomad_error *err)                  \
	{                                                                     \
		return nomad_msg_to_json(&msg->base, flags, NULL, out, len,   \
					 err);                                \
	}                                                                     \
	T *P##_new(void)                                                      \
	{                                                                     \
		return nmd_pb_new(&DESC, NULL);                               \
	}                                                                     \
	void P##_free(T *msg)                                                 \
	{                                                                     \
		nmd_pb_free(msg, NULL);                                       \
	}                                                                     \
	nomad_err P##_copy(T **out, const T *msg)                             \
	{                                                                     \
		return nomad_msg_copy((ProtobufCMessage **)out,               \
				      msg ? &msg->base : NULL, NULL);         \
	}                                                                     \
	bool P##_equal(const T *a, const T *b)                                \
	{                                                                     \
		return nomad_msg_equal(a ? &a->base : NULL,                   \
				       b ? &b->base : NULL);                  \
	}                                                                     \
	nomad_err P##_pack(const T *msg, uint8_t **out, size_t *len)          \
	{                                                                     \
		return nomad_msg_pack(msg ? &msg->base : NULL, NULL, out,     \
				      len);                                   \
	}                                                                     \
	nomad_err P##_unpack(T **out, const uint8_t *data, size_t len,        \
			     nomad_error *err)                                \
	{                                                                     \
		return nomad_msg_unpack((ProtobufCMessage **)out, &DESC,      \
					data, len, NULL, err);                \
	}

DEFINE_FAMILY(nomad_job, nomad_job, nomad__job__descriptor)
DEFINE_FAMILY(nomad_node, nomad_node, nomad__node__descriptor)
DEFINE_FAMILY(nomad_alloc, nomad_alloc, nomad__allocation__descriptor)
DEFINE_FAMILY(nomad_eval, nomad_eval, nomad__evaluation__descriptor)
DEFINE_FAMILY(nomad_deployment, nomad_deployment, nomad__deployment__descriptor)
DEFINE_FAMILY(nomad_job_summary, nomad_job_summary, nomad__job_summary__descriptor)
DEFINE_FAMILY(nomad_plan, nomad_plan, nomad__plan__descriptor)
DEFINE_FAMILY(nomad_plan_result, nomad_plan_result, nomad__plan_result__descriptor)
DEFINE_FAMILY(nomad_job_register_request, nomad_job_register_request,
	      nomad__job_register_request__descriptor)
DEFINE_FAMILY(nomad_job_diff, nomad_job_diff, nomad__job_diff__descriptor)
DEFINE_FAMILY(nomad_job_list_stub, nomad_job_list_stub,
	      nomad__job_list_stub__descriptor)
DEFINE_FAMILY(nomad_node_list_stub, nomad_node_list_stub,
	      nomad__node_list_stub__descriptor)
DEFINE_FAMILY(nomad_alloc_list_stub, nomad_alloc_list_stub,
	      nomad__allocation_list_stub__descriptor)
DEFINE_FAMILY(nomad_namespace, nomad_namespace, nomad__namespace__descriptor)
DEFINE_FAMILY(nomad_node_pool, nomad_node_pool, nomad__node_pool__descriptor)
DEFINE_FAMILY(nomad_acl_policy, nomad_acl_policy, nomad__aclpolicy__descriptor)
DEFINE_FAMILY(nomad_acl_token, nomad_acl_token, nomad__acltoken__descriptor)
DEFINE_FAMILY(nomad_variable, nomad_variable, nomad__variable__descriptor)
DEFINE_FAMILY(nomad_service_registration, nomad_service_registration,
	      nomad__service_registration__descriptor)
DEFINE_FAMILY(nomad_scheduler_config, nomad_scheduler_config,
	      nomad__scheduler_configuration__descriptor)
DEFINE_FAMILY(nomad_periodic_launch, nomad_periodic_launch,
	      nomad__periodic_launch__descriptor)
