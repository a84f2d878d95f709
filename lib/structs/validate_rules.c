/* SPDX-License-Identifier: MPL-2.0 */
/*
 * The checks of single blocks, each mirroring the Validate method of the
 * Nomad struct of the same name (nomad/structs/structs.go, services.go,
 * volumes.go, group.go): constraints, affinities, spreads, the update,
 * migrate, restart, reschedule and disconnect policies, periodic and
 * parameterized configs, resources, templates, artifacts, vault blocks and
 * volume requests. Messages are Nomad's, first letter lowercased; the
 * caller has already put the block's path in front of them.
 *
 * Fields that are unset count as Go's zero value, as they would in Nomad
 * after decoding: validation is meant to run on a canonicalised job.
 */
#include <ctype.h>
#include <regex.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "structs/validate_int.h"

#define SEC INT64_C(1000000000)

static bool eq(const char *a, const char *b)
{
	return strcmp(nmd_vstr(a), b) == 0;
}

static bool empty(const char *s)
{
	return !s || !*s;
}

/* a * b, saturating at INT64_MAX (both non-negative). */
static int64_t mul_sat(int64_t a, int64_t b)
{
	if (a <= 0 || b <= 0)
		return a * b;
	return a > INT64_MAX / b ? INT64_MAX : a * b;
}

static int64_t add_sat(int64_t a, int64_t b)
{
	return b > 0 && a > INT64_MAX - b ? INT64_MAX : a + b;
}

/* ---- placement --------------------------------------------------------- */

static bool is_relational(const char *op)
{
	static const char *const ops[] = {"=",  "==", "is", "!=", "not",
					  "<",  "<=", ">",  ">="};

	for (size_t i = 0; i < sizeof(ops) / sizeof(*ops); i++)
		if (strcmp(op, ops[i]) == 0)
			return true;
	return false;
}

static bool is_set_op(const char *op)
{
	return strcmp(op, "set_contains") == 0 ||
	       strcmp(op, "set_contains_all") == 0 ||
	       strcmp(op, "set_contains_any") == 0;
}

/* Go's RE2 and POSIX ERE differ in details, but agree on what a malformed
 * pattern is for the expressions constraints use. */
static void check_regexp(struct nmd_vctx *v, const char *re)
{
	regex_t rx;
	char why[128];
	int rc = regcomp(&rx, re, REG_EXTENDED | REG_NOSUB);

	if (rc == 0) {
		regfree(&rx);
		return;
	}
	regerror(rc, &rx, why, sizeof(why));
	nmd_vproblem(v, "regular expression failed to compile: %s", why);
}

/* The operand checks shared by constraints and affinities; false when the
 * operand is not one of them. `kind` is "constraint" or "affinity". */
static bool check_operand(struct nmd_vctx *v, const char *op, const char *r,
			  const char *kind)
{
	char why[160];

	if (strcmp(op, "regexp") == 0) {
		check_regexp(v, r);
	} else if (strcmp(op, "version") == 0 || strcmp(op, "semver") == 0) {
		bool semver = op[0] == 's';

		if (!nmd_version_constraint_parse(r, semver, why, sizeof(why)))
			nmd_vproblem(v, "%s %s is invalid: %s",
				     semver ? "semver" : "version", kind, why);
	} else if (is_relational(op)) {
		if (!*r)
			nmd_vproblem(v, "operator \"%s\" requires an RTarget",
				     op);
	} else {
		return false;
	}
	return true;
}

static void check_distinct_property(struct nmd_vctx *v, const char *r)
{
	unsigned long long n = 0;
	const char *p;

	if (!*r)
		return;
	for (p = r; isdigit((unsigned char)*p); p++)
		n = n * 10 + (unsigned long long)(*p - '0');
	if (*p || p - r > 19)
		nmd_vproblem(v, "failed to convert RTarget \"%s\" to uint64",
			     r);
	else if (n < 1)
		nmd_vproblem(v, "distinct property must have an allowed count "
				"of 1 or greater: %llu < 1", n);
}

void nmd_check_constraint(struct nmd_vctx *v, const Nomad__Constraint *c)
{
	const char *op = nmd_vstr(c->operand), *r = nmd_vstr(c->rtarget);
	bool need_ltarget = true;

	if (!*op)
		nmd_vproblem(v, "missing constraint operand");
	if (strcmp(op, "distinct_hosts") == 0) {
		need_ltarget = false;
	} else if (is_set_op(op)) {
		if (!*r)
			nmd_vproblem(v, "set contains constraint requires an "
					"RTarget");
	} else if (strcmp(op, "distinct_property") == 0) {
		check_distinct_property(v, r);
	} else if (strcmp(op, "is_set") == 0 || strcmp(op, "is_not_set") == 0) {
		if (*r)
			nmd_vproblem(v, "operator \"%s\" does not support an "
					"RTarget", op);
	} else if (!check_operand(v, op, r, "constraint")) {
		nmd_vproblem(v, "unknown constraint type \"%s\"", op);
	}
	if (need_ltarget && empty(c->ltarget))
		nmd_vproblem(v, "no LTarget provided but is required by "
				"constraint");
}

void nmd_check_affinity(struct nmd_vctx *v, const Nomad__Affinity *a)
{
	const char *op = nmd_vstr(a->operand), *r = nmd_vstr(a->rtarget);
	int32_t w = a->has_weight ? a->weight : 0;

	if (!*op)
		nmd_vproblem(v, "missing affinity operand");
	if (is_set_op(op)) {
		if (!*r)
			nmd_vproblem(v, "set contains operators require an "
					"RTarget");
	} else if (!check_operand(v, op, r, "affinity")) {
		nmd_vproblem(v, "unknown affinity operator \"%s\"", op);
	}
	if (empty(a->ltarget))
		nmd_vproblem(v, "no LTarget provided but is required");
	if (w == 0)
		nmd_vproblem(v, "affinity weight cannot be zero");
	if (w > 100 || w < -100)
		nmd_vproblem(v, "affinity weight must be within the range "
				"[-100,100]");
}

void nmd_check_spread(struct nmd_vctx *v, const Nomad__Spread *s)
{
	int32_t w = s->has_weight ? s->weight : 0;
	int64_t sum = 0;

	if (empty(s->attribute))
		nmd_vproblem(v, "missing spread attribute");
	if (w <= 0 || w > 100)
		nmd_vproblem(v, "spread block must have a positive weight "
				"from 0 to 100");
	for (size_t i = 0; i < s->n_spreadtarget; i++) {
		const Nomad__SpreadTarget *t = s->spreadtarget[i];
		int32_t pct = t->has_percent ? t->percent : 0;

		for (size_t j = 0; j < i; j++)
			if (eq(s->spreadtarget[j]->value, nmd_vstr(t->value))) {
				nmd_vproblem(v, "spread target value \"%s\" "
						"already defined",
					     nmd_vstr(t->value));
				break;
			}
		if (pct < 0 || pct > 100)
			nmd_vproblem(v, "spread target percentage for value "
					"\"%s\" must be between 0 and 100",
				     nmd_vstr(t->value));
		sum += pct;
	}
	if (sum > 100)
		nmd_vproblem(v, "sum of spread target percentages must not be "
				"greater than 100%%; got %lld%%", (long long)sum);
}

/* ---- update and migrate ------------------------------------------------ */

static const char *health_name(bool has, Nomad__HealthCheckMode m)
{
	return has ? nomad_enum_name(&nomad__health_check_mode__descriptor,
				     (int)m)
		   : NULL;
}

void nmd_check_update(struct nmd_vctx *v, const Nomad__UpdateStrategy *u)
{
	int64_t min = u->minhealthytime, hd = u->healthydeadline;
	int64_t pd = u->progressdeadline;
	char a[32], b[32];

	if (!health_name(u->has_healthcheck, u->healthcheck))
		nmd_vproblem(v, "invalid health check given: \"\"");
	if (u->maxparallel < 0)
		nmd_vproblem(v, "max parallel can not be less than zero: "
				"%d < 0", u->maxparallel);
	if (u->canary < 0)
		nmd_vproblem(v, "canary count can not be less than zero: "
				"%d < 0", u->canary);
	if (u->canary <= 0 && u->autopromote)
		nmd_vproblem(v, "auto promote requires a Canary count greater "
				"than zero");
	if (min < 0)
		nmd_vproblem(v, "minimum healthy time may not be less than "
				"zero: %s", nmd_vdur(a, min));
	if (hd <= 0)
		nmd_vproblem(v, "healthy deadline must be greater than zero: "
				"%s", nmd_vdur(a, hd));
	if (pd < 0)
		nmd_vproblem(v, "progress deadline must be zero or greater: "
				"%s", nmd_vdur(a, pd));
	if (min >= hd)
		nmd_vproblem(v, "minimum healthy time must be less than "
				"healthy deadline: %s > %s",
			     nmd_vdur(a, min), nmd_vdur(b, hd));
	if (pd != 0 && hd >= pd)
		nmd_vproblem(v, "healthy deadline must be less than progress "
				"deadline: %s > %s",
			     nmd_vdur(a, hd), nmd_vdur(b, pd));
	if (u->stagger <= 0)
		nmd_vproblem(v, "stagger must be greater than zero: %s",
			     nmd_vdur(a, u->stagger));
}

void nmd_check_migrate(struct nmd_vctx *v, const Nomad__MigrateStrategy *m)
{
	const char *hc = health_name(m->has_healthcheck, m->healthcheck);
	char a[32];

	if (m->maxparallel < 0)
		nmd_vproblem(v, "MaxParallel must be >= 0 but found %d",
			     m->maxparallel);
	if (!m->has_healthcheck) {
		if (m->maxparallel > 0)
			nmd_vproblem(v, "missing HealthCheck");
	} else if (!hc || strcmp(hc, "manual") == 0) {
		nmd_vproblem(v, "invalid HealthCheck: \"%s\"", nmd_vstr(hc));
	}
	if (m->minhealthytime < 0)
		nmd_vproblem(v, "MinHealthyTime is %s and must be >= 0",
			     nmd_vdur(a, m->minhealthytime));
	if (m->healthydeadline < 0)
		nmd_vproblem(v, "HealthyDeadline is %s and must be >= 0",
			     nmd_vdur(a, m->healthydeadline));
	if (m->minhealthytime > m->healthydeadline)
		nmd_vproblem(v, "MinHealthyTime must be less than "
				"HealthyDeadline");
}

/* ---- restart, reschedule, disconnect ----------------------------------- */

void nmd_check_restart(struct nmd_vctx *v, const Nomad__RestartPolicy *r)
{
	const char *mode = r->has_mode
		? nomad_enum_name(&nomad__restart_policy__mode_kind__descriptor,
				  (int)r->mode)
		: NULL;
	char a[32], b[32];

	if (!mode)
		nmd_vproblem(v, "unsupported restart mode: \"\"");
	if (r->attempts == 0 && !eq(mode, "fail"))
		nmd_vproblem(v, "restart policy \"%s\" with %d attempts is "
				"ambiguous", nmd_vstr(mode), r->attempts);
	if (r->interval < 5 * SEC)
		nmd_vproblem(v, "interval can not be less than 5s (got %s)",
			     nmd_vdur(a, r->interval));
	if (mul_sat(r->attempts, r->delay) > r->interval)
		nmd_vproblem(v, "Nomad can't restart the TaskGroup %d times in "
				"an interval of %s with a delay of %s",
			     r->attempts, nmd_vdur(a, r->interval),
			     nmd_vdur(b, r->delay));
}

/* The interval that `attempts` exponential delays need, and how many of
 * them fit in `interval` (Nomad's viableAttempts, without looping over a
 * large attempt count once the delay has reached its ceiling). */
static int64_t exponential_need(const Nomad__ReschedulePolicy *r,
				int64_t *possible)
{
	int64_t need = 0, cap = r->maxdelay, i = 0;

	*possible = 0;
	for (; i < r->attempts; i++) {
		int64_t next = i < 62 ? mul_sat(r->delay, INT64_C(1) << i)
				      : INT64_MAX;
		/* Past 2^62 the delay has saturated: treat it as capped. */
		if (next > cap || i >= 62)
			break;
		need = next;
		*possible += need < r->interval;
	}
	if (i < r->attempts && cap > 0) {
		int64_t left = r->attempts - i, fit = 0;

		/* need + t*cap < interval for t = 1..left */
		if (r->interval > need)
			fit = (r->interval - need - 1) / cap;
		*possible += fit < left ? fit : left;
		need = add_sat(need, mul_sat(left, cap));
	}
	return need;
}

static int64_t fibonacci_need(const Nomad__ReschedulePolicy *r,
			      int64_t *possible)
{
	int64_t a = r->delay, b = r->delay, i = 2, n = r->attempts;

	*possible = -1;
	if (a > r->interval)
		*possible = 0;
	else if (b > r->interval)
		*possible = 1;
	for (; i < n; i++) {
		int64_t next = add_sat(a, b);

		if (next > r->maxdelay)
			break;
		a = b;
		b = next;
		if (*possible < 0 && b > r->interval)
			*possible = i;
	}
	if (i < n) {
		/* From the ceiling on, slot k is (k - i + 1) * maxdelay. */
		if (*possible < 0 && r->maxdelay > 0) {
			int64_t k = i + r->interval / r->maxdelay;

			if (k < n)
				*possible = k;
		}
		b = mul_sat(n - i, r->maxdelay);
	}
	if (*possible < 0)
		*possible = 0;
	return b;
}

static void check_delay_params(struct nmd_vctx *v,
			       const Nomad__ReschedulePolicy *r,
			       const char *fn)
{
	int64_t need, possible = 0;
	char a[32], b[32], c[32];

	if (strcmp(fn, "constant") == 0) {
		need = mul_sat(r->attempts, r->delay);
		if (r->interval >= need)
			return;
		possible = r->interval / r->delay;
		nmd_vproblem(v, "Nomad can only make %lld attempts in %s with "
				"initial delay %s and delay function \"%s\"",
			     (long long)possible, nmd_vdur(a, r->interval),
			     nmd_vdur(b, r->delay), fn);
	} else {
		need = fn[0] == 'e' ? exponential_need(r, &possible)
				    : fibonacci_need(r, &possible);
		if (fn[0] == 'e' ? possible >= r->attempts
				 : r->interval >= need)
			return;
		nmd_vproblem(v, "Nomad can only make %lld attempts in %s with "
				"initial delay %s, delay function \"%s\", and "
				"delay ceiling %s",
			     (long long)possible, nmd_vdur(a, r->interval),
			     nmd_vdur(b, r->delay), fn,
			     nmd_vdur(c, r->maxdelay));
	}
	/* Go's Round(time.Second): halves away from zero. */
	need = need > INT64_MAX - SEC / 2 ? need : (need + SEC / 2) / SEC * SEC;
	nmd_vproblem(v, "set the interval to at least %s to accommodate %d "
			"attempts", nmd_vdur(a, need), r->attempts);
}

/* Whether the delay settings are sound enough to cross-check. */
static bool check_delays(struct nmd_vctx *v, const Nomad__ReschedulePolicy *r,
			 const char *fn)
{
	bool ok = true;
	char a[32], b[32];

	if (r->delay < 5 * SEC) {
		nmd_vproblem(v, "delay cannot be less than 5s (got %s)",
			     nmd_vdur(a, r->delay));
		ok = false;
	}
	if (!*fn) {
		nmd_vproblem(v, "invalid delay function \"\", must be one of "
				"[\"constant\" \"exponential\" \"fibonacci\"]");
		ok = false;
	}
	if (strcmp(fn, "constant") == 0)
		return ok;
	if (r->maxdelay < 5 * SEC) {
		nmd_vproblem(v, "max Delay cannot be less than 5s (got %s)",
			     nmd_vdur(a, r->maxdelay));
		ok = false;
	}
	if (r->maxdelay < r->delay) {
		nmd_vproblem(v, "max Delay cannot be less than Delay %s "
				"(got %s)",
			     nmd_vdur(a, r->delay), nmd_vdur(b, r->maxdelay));
		ok = false;
	}
	return ok;
}

void nmd_check_reschedule(struct nmd_vctx *v,
			  const Nomad__ReschedulePolicy *r)
{
	const ProtobufCEnumDescriptor *kinds =
		&nomad__reschedule_policy__delay_function_kind__descriptor;
	const char *fn = r->has_delayfunction
		? nomad_enum_name(kinds, (int)r->delayfunction)
		: NULL;
	bool delays_ok;
	char a[32];

	/* A policy that never reschedules has nothing to check. */
	if (r->attempts <= 0 && !r->unlimited)
		return;
	if (r->attempts > 0 && r->interval <= 0)
		nmd_vproblem(v, "interval must be a non zero value if "
				"Attempts > 0");
	if (r->attempts > 0 && r->unlimited) {
		nmd_vproblem(v, "reschedule Policy with Attempts = %d, "
				"Interval = %s, and Unlimited = true is "
				"ambiguous", r->attempts,
			     nmd_vdur(a, r->interval));
		nmd_vproblem(v, "if Attempts >0, Unlimited cannot also be set "
				"to true");
	}
	delays_ok = check_delays(v, r, nmd_vstr(fn));
	if (r->unlimited)
		return;
	if (r->interval < 15 * SEC)
		nmd_vproblem(v, "interval cannot be less than 15s (got %s)",
			     nmd_vdur(a, r->interval));
	if (delays_ok)
		check_delay_params(v, r, fn);
}

void nmd_check_disconnect(struct nmd_vctx *v,
			  const Nomad__DisconnectStrategy *d)
{
	if (d->has_stoponclientafter) {
		if (d->stoponclientafter < 0)
			nmd_vproblem(v, "stop_on_client_after must be a "
					"positive value");
		if (v->type != NOMAD__JOB_TYPE__service &&
		    v->type != NOMAD__JOB_TYPE__batch)
			nmd_vproblem(v, "stop_on_client_after can only be used "
					"with service or batch job types");
	}
	if (d->lostafter < 0)
		nmd_vproblem(v, "lost_after cannot be a negative duration");
	if (d->lostafter != 0 && d->has_stoponclientafter)
		nmd_vproblem(v, "using both lost_after and "
				"stop_on_client_after is not supported");
	if (d->has_reconcile &&
	    !nomad_enum_name(
		    &nomad__disconnect_strategy__reconcile_kind__descriptor,
		    (int)d->reconcile))
		nmd_vproblem(v, "invalid reconcile option: %d",
			     (int)d->reconcile);
}

/* ---- periodic and parameterized ---------------------------------------- */

/* Without a time zone database, only the shape of an IANA name. */
static bool tz_plausible(const char *tz)
{
	if (*tz == '/' || strstr(tz, ".."))
		return false;
	for (const char *p = tz; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("/_-+", *p))
			return false;
	return true;
}

static void check_cron(struct nmd_vctx *v, const char *spec)
{
	char why[128];

	if (!nmd_cron_parse(spec, why, sizeof(why)))
		nmd_vproblem(v, "invalid cron spec \"%s\": %s", spec, why);
}

void nmd_check_periodic(struct nmd_vctx *v, const Nomad__PeriodicConfig *p)
{
	const char *type = nmd_vstr(p->spectype);

	if (empty(p->spec) && p->n_specs == 0)
		nmd_vproblem(v, "must specify a spec");
	if (!empty(p->timezone) && !tz_plausible(p->timezone))
		nmd_vproblem(v, "invalid time zone \"%s\"", p->timezone);
	if (strcmp(type, "cron") == 0) {
		if (!empty(p->spec))
			check_cron(v, p->spec);
		for (size_t i = 0; i < p->n_specs; i++)
			check_cron(v, nmd_vstr(p->specs[i]));
	} else if (strcmp(type, "_internal_test") != 0) {
		nmd_vproblem(v, "unknown periodic specification type \"%s\"",
			     type);
	}
}

void nmd_check_parameterized(struct nmd_vctx *v,
			     const Nomad__ParameterizedJobConfig *p)
{
	const char *pay = nmd_vstr(p->payload);
	struct nmd_buf both;

	if (strcmp(pay, "optional") != 0 && strcmp(pay, "required") != 0 &&
	    strcmp(pay, "forbidden") != 0)
		nmd_vproblem(v, "unknown payload requirement: \"%s\"", pay);
	nmd_buf_init(&both, NULL);
	for (size_t i = 0; i < p->n_metarequired; i++)
		for (size_t j = 0; j < p->n_metaoptional; j++)
			if (eq(p->metarequired[i], nmd_vstr(p->metaoptional[j])))
				nmd_buf_printf(&both, "%s%s", both.len ? " " : "",
					       p->metarequired[i]);
	if (both.len)
		nmd_vproblem(v, "required and optional meta keys should be "
				"disjoint. Following keys exist in both: [%s]",
			     both.data);
	nmd_buf_free(&both);
}

/* ---- task blocks ------------------------------------------------------- */

static void check_device(struct nmd_vctx *v, const Nomad__RequestedDevice *d)
{
	size_t mark;

	if (empty(d->name))
		nmd_vproblem(v, "device name must be given as one of the "
				"following: type, vendor/type, or "
				"vendor/type/name");
	for (size_t i = 0; i < d->n_constraints; i++) {
		const char *op = nmd_vstr(d->constraints[i]->operand);

		mark = nmd_vpath_push_index(v, "constraint", i);
		if (strcmp(op, "distinct_hosts") == 0 ||
		    strcmp(op, "distinct_property") == 0)
			nmd_vproblem(v, "using unsupported operand \"%s\"", op);
		else
			nmd_check_constraint(v, d->constraints[i]);
		nmd_vpath_pop(v, mark);
	}
	for (size_t i = 0; i < d->n_affinities; i++) {
		mark = nmd_vpath_push_index(v, "affinity", i);
		nmd_check_affinity(v, d->affinities[i]);
		nmd_vpath_pop(v, mark);
	}
}

/* The two minimums are worded as include/nomad/structs.h documents them;
 * the rest is Nomad's text. */
void nmd_check_resources(struct nmd_vctx *v, const Nomad__Resources *r)
{
	if (r->cores > 0 && r->cpu > 0)
		nmd_vproblem(v, "task can only ask for 'cpu' or 'cores' "
				"resource, not both");
	if (r->cpu < 1 && r->cores <= 0)
		nmd_vproblem(v, "cpu must be at least 1 MHz");
	if (r->memorymb < 10)
		nmd_vproblem(v, "memory must be at least 10 MB");
	if (r->diskmb > 0)
		nmd_vproblem(v, "task can't ask for disk resources, they have "
				"to be specified at the task group level");
	for (size_t i = 0; i < r->n_devices; i++) {
		size_t mark = nmd_vpath_push_index(v, "device", i);

		check_device(v, r->devices[i]);
		nmd_vpath_pop(v, mark);
	}
	/* -1 is "no limit" (resources.memory_max). */
	if (r->memorymaxmb != 0 && r->memorymaxmb != -1 &&
	    r->memorymaxmb < r->memorymb)
		nmd_vproblem(v, "MemoryMaxMB value (%d) should be larger than "
				"MemoryMB value (%d)", r->memorymaxmb,
			     r->memorymb);
}

static bool octal_perms(const char *s)
{
	unsigned long n = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '7')
			return false;
		if ((n = n * 8 + (unsigned long)(*s - '0')) > 07777)
			return false;
	}
	return true;
}

static void check_change_mode(struct nmd_vctx *v, const Nomad__Template *t)
{
	switch (t->has_changemode ? (int)t->changemode : 0) {
	case NOMAD__TEMPLATE__CHANGE_MODE_KIND__restart:
	case NOMAD__TEMPLATE__CHANGE_MODE_KIND__noop:
		break;
	case NOMAD__TEMPLATE__CHANGE_MODE_KIND__signal:
		if (empty(t->changesignal))
			nmd_vproblem(v, "must specify signal value when change "
					"mode is signal");
		if (t->envvars)
			nmd_vproblem(v, "cannot use signals with env var "
					"templates");
		break;
	case NOMAD__TEMPLATE__CHANGE_MODE_KIND__script:
		if (!t->changescript)
			nmd_vproblem(v, "must specify change script "
					"configuration value when change mode "
					"is script");
		else if (empty(t->changescript->command))
			nmd_vproblem(v, "must specify script path value when "
					"change mode is script");
		break;
	default:
		nmd_vproblem(v, "invalid change mode. Must be one of the "
				"following: noop, signal, restart, script");
	}
}

void nmd_check_template(struct nmd_vctx *v, const Nomad__Template *t)
{
	char a[32], b[32];

	if (empty(t->sourcepath) && empty(t->embeddedtmpl))
		nmd_vproblem(v, "must specify a source path or have an "
				"embedded template");
	if (empty(t->destpath))
		nmd_vproblem(v, "must specify a destination for the template");
	else if (nmd_path_escapes("task", t->destpath))
		nmd_vproblem(v, "destination escapes allocation directory");
	check_change_mode(v, t);
	if (t->splay < 0)
		nmd_vproblem(v, "must specify positive splay value");
	if (!empty(t->perms) && !octal_perms(t->perms))
		nmd_vproblem(v, "failed to parse \"%s\" as octal", t->perms);
	if (t->wait) {
		if (t->wait->min < 0 || t->wait->max < 0)
			nmd_vproblem(v, "wait: min and max cannot be negative");
		else if (t->wait->has_max && t->wait->min > t->wait->max)
			nmd_vproblem(v, "wait: min %s is greater than max %s",
				     nmd_vdur(a, t->wait->min),
				     nmd_vdur(b, t->wait->max));
	}
}

/* go-getter's "checksum" option: "type:hex". */
static void check_checksum(struct nmd_vctx *v, const char *sum)
{
	static const struct {
		const char *type;
		size_t bytes;
	} kinds[] = {{"md5", 16}, {"sha1", 20}, {"sha256", 32}, {"sha512", 64}};
	const char *colon, *hex, *p;

	/* Interpolated at run time: nothing to check yet. */
	if (strstr(sum, "${"))
		return;
	while (isspace((unsigned char)*sum))
		sum++;
	if (!*sum) {
		nmd_vproblem(v, "checksum value cannot be empty");
		return;
	}
	colon = strchr(sum, ':');
	if (!colon || strchr(colon + 1, ':')) {
		nmd_vproblem(v, "checksum must be given as \"type:value\"; "
				"got \"%s\"", sum);
		return;
	}
	for (p = hex = colon + 1; isxdigit((unsigned char)*p); p++)
		;
	if ((*p && !isspace((unsigned char)*p)) || (p - hex) % 2) {
		nmd_vproblem(v, "invalid checksum: %s", hex);
		return;
	}
	for (size_t i = 0; i < sizeof(kinds) / sizeof(*kinds); i++)
		if (strlen(kinds[i].type) == (size_t)(colon - sum) &&
		    strncmp(kinds[i].type, sum, (size_t)(colon - sum)) == 0) {
			if ((size_t)(p - hex) != 2 * kinds[i].bytes)
				nmd_vproblem(v, "invalid %s checksum: %.*s",
					     kinds[i].type, (int)(p - hex),
					     hex);
			return;
		}
	nmd_vproblem(v, "unsupported checksum type: %.*s",
		     (int)(colon - sum), sum);
}

void nmd_check_artifact(struct nmd_vctx *v, const Nomad__TaskArtifact *a)
{
	const char *mode = nmd_vstr(a->gettermode);
	const char *sum;

	if (empty(a->gettersource))
		nmd_vproblem(v, "source must be specified");
	if (*mode && strcmp(mode, "any") != 0 && strcmp(mode, "file") != 0 &&
	    strcmp(mode, "dir") != 0)
		nmd_vproblem(v, "invalid artifact mode \"%s\"; must be one of: "
				"any, file, dir", mode);
	if (nmd_path_escapes("task", nmd_vstr(a->relativedest)))
		nmd_vproblem(v, "destination escapes allocation directory");
	sum = nomad_map_get(a->getteroptions, a->n_getteroptions, "checksum");
	if (sum)
		check_checksum(v, sum);
}

void nmd_check_vault(struct nmd_vctx *v, const Nomad__Vault *vault)
{
	const char *mode = nmd_vstr(vault->changemode);

	for (size_t i = 0; i < vault->n_policies; i++)
		if (eq(vault->policies[i], "root"))
			nmd_vproblem(v, "can not specify \"root\" policy");
	if (strcmp(mode, "signal") == 0) {
		if (empty(vault->changesignal))
			nmd_vproblem(v, "signal must be specified when using "
					"change mode \"signal\"");
	} else if (strcmp(mode, "noop") != 0 && strcmp(mode, "restart") != 0) {
		nmd_vproblem(v, "unknown change mode \"%s\"", mode);
	}
}

static void check_csi_volume(struct nmd_vctx *v, const Nomad__VolumeRequest *r,
			     int32_t count)
{
	const char *am = nmd_vstr(r->accessmode);
	bool one = count > 1 && !r->peralloc;

	if (empty(r->attachmentmode))
		nmd_vproblem(v, "CSI volumes must have an attachment mode");
	else if (eq(r->attachmentmode, "block-device") && r->mountoptions)
		nmd_vproblem(v, "block devices cannot have mount options");
	if (!*am) {
		nmd_vproblem(v, "CSI volumes must have an access mode");
	} else if (strcmp(am, "single-node-reader-only") == 0) {
		if (!r->readonly)
			nmd_vproblem(v, "%s volumes must be read-only", am);
		if (one)
			nmd_vproblem(v, "volume with %s access mode allows "
					"only one reader", am);
	} else if (strcmp(am, "single-node-writer") == 0) {
		if (one)
			nmd_vproblem(v, "volume with %s access mode allows "
					"only one writer", am);
	} else if (strcmp(am, "multi-node-reader-only") == 0) {
		if (!r->readonly)
			nmd_vproblem(v, "%s volumes must be read-only", am);
	}
}

void nmd_check_volume(struct nmd_vctx *v, const Nomad__VolumeRequest *r,
		      int32_t count, int32_t canaries)
{
	bool host = eq(r->type, "host"), csi = eq(r->type, "csi");

	if (!host && !csi) {
		nmd_vproblem(v, "volume has unrecognized type %s",
			     nmd_vstr(r->type));
		return;
	}
	if (empty(r->source))
		nmd_vproblem(v, "volume has an empty source");
	if (r->peralloc) {
		if (v->type == NOMAD__JOB_TYPE__system ||
		    v->type == NOMAD__JOB_TYPE__sysbatch)
			nmd_vproblem(v, "volume cannot be per_alloc for system "
					"or sysbatch jobs");
		if (canaries > 0)
			nmd_vproblem(v, "volume cannot be per_alloc when "
					"canaries are in use");
	}
	if (host && r->mountoptions)
		nmd_vproblem(v, "host volumes cannot have mount options");
	if (csi)
		check_csi_volume(v, r, count);
}

/* ---- paths ------------------------------------------------------------- */

/* Walk `s` segment by segment from depth *d; false once above the root. */
static bool walk_path(const char *s, long *d)
{
	while (*s) {
		size_t n = strcspn(s, "/");

		if (n == 2 && s[0] == '.' && s[1] == '.') {
			if (--*d < 0)
				return false;
		} else if (n && !(n == 1 && s[0] == '.')) {
			++*d;
		}
		s += n;
		s += *s == '/';
	}
	return true;
}

bool nmd_path_escapes(const char *prefix, const char *path)
{
	long depth = 0;

	return !walk_path(prefix, &depth) || !walk_path(path, &depth);
}

/* ---- cron specs (github.com/hashicorp/cronexpr) ------------------------ */

enum {
	CRON_ANY = 1,  /* '?' allowed */
	CRON_DOM = 2,  /* L, LW, nW */
	CRON_DOW = 4,  /* nL, n#k */
};

struct cron_field {
	const char *name;
	int lo, hi;
	const char *const *names; /* full names; the first 3 letters do too */
	int name_base;
	unsigned int flags;
};

static const char *const cron_months[] = {
	"january", "february", "march",     "april",   "may",      "june",
	"july",    "august",   "september", "october", "november", "december",
	NULL};
static const char *const cron_days[] = {"sunday",   "monday", "tuesday",
					"wednesday", "thursday", "friday",
					"saturday",  NULL};

static const struct cron_field cron_fields[] = {
	{"second", 0, 59, NULL, 0, 0},
	{"minute", 0, 59, NULL, 0, 0},
	{"hour", 0, 23, NULL, 0, 0},
	{"day-of-month", 1, 31, NULL, 0, CRON_ANY | CRON_DOM},
	{"month", 1, 12, cron_months, 1, 0},
	{"day-of-week", 0, 7, cron_days, 0, CRON_ANY | CRON_DOW},
	{"year", 1970, 2099, NULL, 0, 0},
};

/* A number or a name of field `f` at *p; advances *p. */
static bool cron_value(const struct cron_field *f, const char **p)
{
	const char *s = *p;
	long n = 0;

	if (isdigit((unsigned char)*s)) {
		while (isdigit((unsigned char)*s) && n < 100000)
			n = n * 10 + (*s++ - '0');
		*p = s;
		return n >= f->lo && n <= f->hi;
	}
	for (size_t i = 0; f->names && f->names[i]; i++) {
		const char *name = f->names[i];
		size_t len = 0;

		while (isalpha((unsigned char)s[len]))
			len++;
		if ((len == 3 || len == strlen(name)) &&
		    strncasecmp(s, name, len) == 0) {
			*p = s + len;
			return true;
		}
	}
	return false;
}

/* "/step" after a range or a star. */
static bool cron_step(const char **p)
{
	const char *s = *p + 1;
	long n = 0;

	if (**p != '/')
		return true;
	if (!isdigit((unsigned char)*s))
		return false;
	while (isdigit((unsigned char)*s) && n < 100000)
		n = n * 10 + (*s++ - '0');
	*p = s;
	return n > 0;
}

/* One comma-separated item of a field, whole. */
static bool cron_item(const struct cron_field *f, const char *s)
{
	if (strcmp(s, "*") == 0 || ((f->flags & CRON_ANY) && !strcmp(s, "?")))
		return true;
	if (s[0] == '*')
		return s++, cron_step(&s) && !*s;
	if ((f->flags & CRON_DOM) && (!strcmp(s, "L") || !strcmp(s, "LW")))
		return true;
	if ((f->flags & CRON_DOW) && !strcmp(s, "L"))
		return true;
	if (!cron_value(f, &s))
		return false;
	if ((f->flags & CRON_DOM) && !strcmp(s, "W"))
		return true;
	if ((f->flags & CRON_DOW) && !strcmp(s, "L"))
		return true;
	if ((f->flags & CRON_DOW) && s[0] == '#')
		return s[1] >= '1' && s[1] <= '5' && !s[2];
	if (*s == '-') {
		s++;
		if (!cron_value(f, &s))
			return false;
	}
	return cron_step(&s) && !*s;
}

static bool cron_field_ok(const struct cron_field *f, const char *text,
			  size_t len, char *why, size_t cap)
{
	char item[64];
	size_t i = 0;

	while (i <= len) {
		size_t n = 0;

		while (i + n < len && text[i + n] != ',')
			n++;
		if (n == 0 || n >= sizeof(item))
			goto bad;
		memcpy(item, text + i, n);
		item[n] = '\0';
		if (!cron_item(f, item))
			goto bad;
		i += n + 1;
	}
	return true;
bad:
	snprintf(why, cap, "syntax error in %s field: \"%.*s\"", f->name,
		 (int)len, text);
	return false;
}

static bool cron_macro(const char *s)
{
	static const char *const macros[] = {"@yearly", "@annually", "@monthly",
					     "@weekly", "@daily",    "@midnight",
					     "@hourly"};

	for (size_t i = 0; i < sizeof(macros) / sizeof(*macros); i++)
		if (strcmp(s, macros[i]) == 0)
			return true;
	return false;
}

/*
 * cronexpr's layouts: 5 fields are minute to day-of-week, 6 add a year
 * after them, 7 put seconds first as well.
 */
bool nmd_cron_parse(const char *s, char *why, size_t cap)
{
	const char *start[8];
	size_t len[8], n = 0, first;

	while (isspace((unsigned char)*s))
		s++;
	if (*s == '@') {
		size_t l = strcspn(s, " \t\r\n");

		if (l == strlen(s) && cron_macro(s))
			return true;
		snprintf(why, cap, "unknown descriptor \"%s\"", s);
		return false;
	}
	while (*s && n < 8) {
		start[n] = s;
		len[n] = strcspn(s, " \t\r\n");
		s += len[n++];
		while (isspace((unsigned char)*s))
			s++;
	}
	if (n < 5 || *s || n > 7) {
		snprintf(why, cap, n < 5 ? "missing field(s)"
					 : "too many fields");
		return false;
	}
	first = n == 7 ? 0 : 1;
	for (size_t i = 0; i < n; i++)
		if (!cron_field_ok(&cron_fields[first + i], start[i], len[i],
				   why, cap))
			return false;
	return true;
}

/* ---- version constraints (github.com/hashicorp/go-version) ------------- */

static bool ident_char(char c)
{
	return isalnum((unsigned char)c) || c == '-' || c == '~';
}

/* Dot-separated non-empty identifiers. */
static const char *idents(const char *p)
{
	do {
		const char *q = p + (*p == '.');

		if (!ident_char(*q))
			return NULL;
		while (ident_char(*q))
			q++;
		p = q;
	} while (*p == '.');
	return p;
}

/* go-version's version syntax; with `semver`, NewSemver's stricter one (at
 * most three numbers, a pre-release only after '-'). */
static bool version_ok(const char *p, const char *end, bool semver)
{
	int segments = 0;

	p += *p == 'v';
	do {
		p += segments > 0;
		if (!isdigit((unsigned char)*p))
			return false;
		while (isdigit((unsigned char)*p))
			p++;
		segments++;
	} while (*p == '.' && isdigit((unsigned char)p[1]));
	if (semver && segments > 3)
		return false;
	if (*p == '-' || (!semver && (isalpha((unsigned char)*p) || *p == '~')))
		if (!(p = idents(p + (*p == '-' && ident_char(p[1])))))
			return false;
	if (*p == '+' && !(p = idents(p + 1)))
		return false;
	return p == end;
}

static bool constraint_ok(const char *s, size_t len, bool semver)
{
	static const char *const ops[] = {"~>", ">=", "<=", "!=", "=", ">", "<"};
	const char *end = s + len;

	while (s < end && isspace((unsigned char)*s))
		s++;
	while (end > s && isspace((unsigned char)end[-1]))
		end--;
	for (size_t i = semver ? 1 : 0; i < sizeof(ops) / sizeof(*ops); i++)
		if (strncmp(s, ops[i], strlen(ops[i])) == 0) {
			s += strlen(ops[i]);
			break;
		}
	while (s < end && isspace((unsigned char)*s))
		s++;
	return s < end && version_ok(s, end, semver);
}

bool nmd_version_constraint_parse(const char *s, bool semver, char *why,
				  size_t cap)
{
	do {
		size_t n = strcspn(s, ",");

		if (!constraint_ok(s, n, semver)) {
			snprintf(why, cap, "malformed constraint: %.*s", (int)n,
				 s);
			return false;
		}
		s += n;
	} while (*s++ == ',');
	return true;
}
