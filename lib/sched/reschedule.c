/* SPDX-License-Identifier: MPL-2.0 */
/*
 * When a failed allocation is replaced, by its group's reschedule policy,
 * as Nomad's Allocation.NextRescheduleTime and NextDelay decide:
 *
 *   - a policy with no attempts and not unlimited never reschedules;
 *   - a limited one allows `attempts` reschedules within `interval`
 *     before the failure, and only while the next delay is shorter than
 *     the interval;
 *   - the delay is `delay` at first, then constant, doubled
 *     (exponential) or the sum of the last two (fibonacci), capped at
 *     max_delay; once capped, an allocation that ran longer than the cap
 *     since its last reschedule starts the series again;
 *   - the failure time is the last task's FinishedAt, or the
 *     allocation's ModifyTime.
 */
#include "sched/sched_int.h"
#include "structs/pb.h"

static int64_t finished_at(const Nomad__TaskState *ts)
{
	return ts ? nmd_ts_ns(ts->finishedat) : 0;
}

int64_t nmd_alloc_fail_time(const nomad_alloc *a)
{
	int64_t last = 0;
	for (size_t i = 0; i < a->n_taskstates; i++) {
		int64_t t = finished_at(a->taskstates[i]->value);
		if (t > last)
			last = t;
	}
	return last ? last : a->modifytime;
}

static size_t n_events(const nomad_alloc *a)
{
	return a->rescheduletracker ? a->rescheduletracker->n_events : 0;
}

static const Nomad__RescheduleEvent *event(const nomad_alloc *a, size_t back)
{
	return a->rescheduletracker->events[n_events(a) - 1 - back];
}

int64_t nmd_reschedule_delay(const nomad_alloc *a,
			     const Nomad__ReschedulePolicy *p)
{
	int64_t delay = p->delay;
	size_t n = n_events(a);
	if (!n)
		return delay;
	switch (p->has_delayfunction ? p->delayfunction
				     : NOMAD__RESCHEDULE_POLICY__DELAY_FUNCTION_KIND__constant) {
	case NOMAD__RESCHEDULE_POLICY__DELAY_FUNCTION_KIND__exponential:
		delay = event(a, 0)->delay * 2;
		break;
	case NOMAD__RESCHEDULE_POLICY__DELAY_FUNCTION_KIND__fibonacci:
		if (n >= 2) {
			int64_t n1 = event(a, 0)->delay, n2 = event(a, 1)->delay;
			/* A series that was reset starts over. */
			delay = n2 == p->maxdelay && n1 == p->delay ? n1 : n1 + n2;
		}
		break;
	default:
		return delay;
	}
	if (p->maxdelay > 0 && delay > p->maxdelay) {
		delay = p->maxdelay;
		/* Ran longer than the cap since the last reschedule: the
		 * series starts again. */
		if (nmd_alloc_fail_time(a) - event(a, 0)->rescheduletime > delay)
			delay = p->delay;
	}
	return delay;
}

/* Reschedules within the policy's interval before the failure. */
static int32_t attempted(const nomad_alloc *a, const Nomad__ReschedulePolicy *p,
			 int64_t fail_time)
{
	int32_t n = 0;
	for (size_t i = 0; i < n_events(a); i++)
		if (fail_time - a->rescheduletracker->events[i]->rescheduletime <
		    p->interval)
			n++;
	return n;
}

bool nmd_reschedule_next(const nomad_alloc *a, const Nomad__ReschedulePolicy *p,
			 int64_t *when, int64_t *delay)
{
	int64_t fail_time = nmd_alloc_fail_time(a);
	bool eligible;
	if (!p || !fail_time ||
	    (a->has_desiredstatus &&
	     a->desiredstatus != NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run) ||
	    a->clientstatus != NOMAD__ALLOCATION__CLIENT_STATUS_KIND__failed)
		return false;
	*delay = nmd_reschedule_delay(a, p);
	*when = fail_time + *delay;
	eligible = p->unlimited || (p->attempts > 0 && !a->rescheduletracker);
	if (p->attempts > 0 && n_events(a))
		eligible = attempted(a, p, fail_time) < p->attempts &&
			   *delay < p->interval;
	return eligible;
}

/* When the allocation started: its first task's StartedAt, or its
 * CreateTime. */
static int64_t start_time(const nomad_alloc *a)
{
	int64_t first = 0;
	for (size_t i = 0; i < a->n_taskstates; i++) {
		const Nomad__TaskState *ts = a->taskstates[i]->value;
		int64_t t = ts ? nmd_ts_ns(ts->startedat) : 0;
		if (t && (!first || t < first))
			first = t;
	}
	return first ? first : a->createtime;
}

bool nmd_alloc_ran_out(const nomad_alloc *a, const nomad_task_group *tg)
{
	int64_t start;
	if (!tg || tg->maxrunduration <= 0 || !a->has_clientstatus ||
	    a->clientstatus != NOMAD__ALLOCATION__CLIENT_STATUS_KIND__failed)
		return false;
	start = start_time(a);
	return start && nmd_alloc_fail_time(a) - start >= tg->maxrunduration;
}
