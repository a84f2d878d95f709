/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Between evals.c and allocs.c (lib/state only): garbage collection
 * deletes evaluations and allocations in one transaction (Nomad's
 * DeleteEval), and the allocation side lives in allocs.c.
 */
#ifndef NMD_STATE_EVALS_INT_H
#define NMD_STATE_EVALS_INT_H

#include "state/state_int.h"

/* Delete allocations by ID (allocs.c), with their secondary index rows.
 * IDs that are not UUIDs or do not exist are skipped. */
nomad_err nmd_allocs_delete(nomad_state_txn *txn, const char *const *ids,
			    size_t n, nomad_error *err);

#endif
