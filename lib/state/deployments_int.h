/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Pieces shared between deployments.c and the allocation writers
 * that state_int.h does not declare (yet): counting an allocation into its
 * deployment. For files inside lib/state only.
 */
#ifndef NMD_STATE_DEPLOYMENTS_INT_H
#define NMD_STATE_DEPLOYMENTS_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "state/state_int.h"

/* Nomad's updateDeploymentWithAlloc: count an allocation that is being
 * placed or updated into its deployment's group state (PlacedAllocs,
 * HealthyAllocs, UnhealthyAllocs, PlacedCanaries, RequireProgressBy) and
 * write the deployment when that changed. `old` is the stored allocation
 * before the change, NULL for a new one; `cur` is what will be stored.
 * An allocation without a DeploymentID, or whose deployment or group is
 * unknown, changes nothing. *health_moved (may be NULL) is set when the
 * health counters moved: Nomad then sets cur's DeploymentStatus
 * ModifyIndex to the index, which is the caller's to do (deployments.c). */
nomad_err nmd_deployment_alloc_changed(nomad_state_txn *txn,
				       const nomad_alloc *old,
				       const nomad_alloc *cur,
				       bool *health_moved, nomad_error *err);

#endif
