/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Between jobs.c and summary.c (lib/state only): the summary follows the
 * job's groups, and a child job (dispatched or periodic) counts in its
 * parent's summary by status, as Nomad's updateSummaryWithJob and
 * setJobStatus do.
 */
#ifndef NMD_STATE_JOBS_INT_H
#define NMD_STATE_JOBS_INT_H

#include "state/state_int.h"

/* Create the summary of the job stored under `job_pk`, or bring its
 * groups in line with `job`'s: missing groups start at zero, groups the
 * job no longer has are dropped. */
nomad_err nmd_summary_job_upserted(nomad_state_txn *txn, int64_t job_pk,
				   const nomad_job *job, nomad_error *err);

/* Delete the summary of the job stored under `job_pk`. */
nomad_err nmd_summary_job_deleted(nomad_state_txn *txn, int64_t job_pk,
				  nomad_error *err);

/* A child of job (ns, parent_id) went from job status `from` to `to`
 * (Nomad__Job__StatusKind, or -1 for none: new or deleted): move it
 * between the parent's Children counts. A missing parent is skipped. */
nomad_err nmd_summary_child_changed(nomad_state_txn *txn, const char *ns,
				    const char *parent_id, int from, int to,
				    nomad_error *err);

#endif
