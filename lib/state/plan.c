/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Applying a plan result (Nomad's UpsertPlanResults): the allocations a
 * plan stops, places and preempts, the deployment it creates or updates,
 * and the evaluations it spawns, all inside the caller's transaction so
 * that a failure anywhere leaves none of it written.
 */
#include "core/error.h"
#include "state/state_int.h"
#include "structs/pb.h"

/* Stop (or evict) one allocation: the plan carries only what changes. */
static nomad_err stop_one(nomad_state_txn *txn, const nomad_alloc *diff,
			  Nomad__Allocation__DesiredStatusKind desired,
			  nomad_error *err)
{
	nomad_alloc *a = NULL;
	nomad_err rc = nmd_alloc_get_txn(txn, diff->id, &a, err);
	if (rc == NOMAD_ENOTFOUND)
		return nmd_seterr(err, NOMAD_ENOTFOUND,
				  "state: plan stops allocation %s, which does "
				  "not exist", diff->id ? diff->id : "(none)");
	if (rc < 0)
		return rc;
	a->has_desiredstatus = 1;
	a->desiredstatus = diff->has_desiredstatus ? diff->desiredstatus : desired;
	if ((diff->desireddescription &&
	     !nmd_pb_set_string(NULL, &a->desireddescription,
				diff->desireddescription)) ||
	    (diff->followupevalid &&
	     !nmd_pb_set_string(NULL, &a->followupevalid, diff->followupevalid)) ||
	    (diff->preemptedbyallocation &&
	     !nmd_pb_set_string(NULL, &a->preemptedbyallocation,
				diff->preemptedbyallocation))) {
		nomad_alloc_free(a);
		return nmd_seterr(err, NOMAD_ENOMEM, "state: out of memory");
	}
	/* A stop may also say the client is gone (lost). */
	if (diff->has_clientstatus) {
		int from = a->has_clientstatus ? (int)a->clientstatus
			   : NOMAD__ALLOCATION__CLIENT_STATUS_KIND__pending;
		a->has_clientstatus = 1;
		a->clientstatus = diff->clientstatus;
		if ((rc = nmd_summary_alloc_changed(
			     txn, a->namespace_ ? a->namespace_ : "default",
			     a->jobid, a->taskgroup, from, (int)a->clientstatus,
			     err)) < 0) {
			nomad_alloc_free(a);
			return rc;
		}
	}
	rc = nmd_alloc_put_txn(txn, a, true, err);
	nomad_alloc_free(a);
	return rc;
}

static nomad_err stop_all(nomad_state_txn *txn,
			  Nomad__AllocationListEntry *const *entries, size_t n,
			  Nomad__Allocation__DesiredStatusKind desired,
			  nomad_error *err)
{
	for (size_t i = 0; i < n; i++) {
		const Nomad__AllocationList *list = entries[i]->value;
		for (size_t j = 0; list && j < list->n_items; j++) {
			nomad_err rc = stop_one(txn, list->items[j], desired, err);
			if (rc < 0)
				return rc;
		}
	}
	return NOMAD_OK;
}

static nomad_err place_all(nomad_state_txn *txn,
			   Nomad__AllocationListEntry *const *entries,
			   size_t n, nomad_error *err)
{
	for (size_t i = 0; i < n; i++) {
		const Nomad__AllocationList *list = entries[i]->value;
		nomad_err rc;
		if (!list || !list->n_items)
			continue;
		if ((rc = nomad_state_allocs_upsert(txn, list->items,
						    list->n_items, err)) < 0)
			return rc;
	}
	return NOMAD_OK;
}

static nomad_err apply(nomad_state_txn *txn, const nomad_plan_result *result,
		       nomad_eval *const *evals, size_t n_evals,
		       nomad_error *err);

nomad_err nomad_state_plan_apply(nomad_state_txn *txn,
				 const nomad_plan_result *result,
				 nomad_eval *const *evals, size_t n_evals,
				 nomad_error *err)
{
	nomad_err rc;
	const char *prev;
	if (!txn || !result)
		return nmd_seterr(err, NOMAD_EINVAL, "state: no plan result");
	/* Every event of a plan is a PlanResult, as Nomad types them. */
	prev = nmd_txn_event_type_push(txn, NOMAD_EVENT_PLAN_RESULT);
	rc = apply(txn, result, evals, n_evals, err);
	nmd_txn_event_type_pop(txn, prev);
	return rc;
}

static nomad_err apply(nomad_state_txn *txn, const nomad_plan_result *result,
		       nomad_eval *const *evals, size_t n_evals,
		       nomad_error *err)
{
	nomad_err rc;
	if ((rc = stop_all(txn, result->nodeupdate, result->n_nodeupdate,
			   NOMAD__ALLOCATION__DESIRED_STATUS_KIND__stop, err)) < 0 ||
	    (rc = stop_all(txn, result->nodepreemptions,
			   result->n_nodepreemptions,
			   NOMAD__ALLOCATION__DESIRED_STATUS_KIND__evict, err)) < 0)
		return rc;
	if (result->deployment &&
	    (rc = nomad_state_deployment_upsert(txn, result->deployment, err)) < 0)
		return rc;
	for (size_t i = 0; i < result->n_deploymentupdates; i++)
		if ((rc = nomad_state_deployment_status(
			     txn, result->deploymentupdates[i], NULL, NULL,
			     err)) < 0)
			return rc;
	if ((rc = place_all(txn, result->nodeallocation,
			    result->n_nodeallocation, err)) < 0)
		return rc;
	if (n_evals && (rc = nomad_state_evals_upsert(txn, evals, n_evals, err)) < 0)
		return rc;
	return NOMAD_OK;
}
