/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Validation of service blocks and their checks, as Nomad's services.go
 * (Service.Validate, ServiceCheck.validateCommon, validateConsul and
 * validateNomad) and the service parts of structs.go (validateServices for
 * a task, TaskGroup.validateServices for a group). A service is reported
 * at `service "name": `, a check at `service "name": check "name": `.
 *
 * As in Nomad, a check stops at its first common problem: later rules
 * assume the earlier ones hold.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "structs/validate_int.h"

#define SEC INT64_C(1000000000)

static bool empty(const char *s)
{
	return !s || !*s;
}

static bool eq(const char *a, const char *b)
{
	return strcmp(a ? a : "", b) == 0;
}

static bool one_of(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (eq(s, *list))
			return true;
	return false;
}

/* Whether `s` is all digits (Go's strconv.Atoi, less the sign), into *n. */
static bool numeric(const char *s, long *n)
{
	*n = 0;
	if (!*s)
		return false;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s) || *n > 1000000)
			return false;
		*n = *n * 10 + (*s - '0');
	}
	return true;
}

/* ---- names ------------------------------------------------------------- */

/*
 * RFC 1123 labels of at most 63 characters, after `${...}` references are
 * replaced by a placeholder (they are interpolated at run time).
 */
static bool service_name_ok(const char *name)
{
	size_t len = 0;
	char prev = 0, first = 0;

	for (const char *p = name; *p; p++) {
		const char *end;

		if (p[0] == '$' && p[1] == '{' && (end = strchr(p, '}'))) {
			/* "ENV-VAR" */
			first = first ? first : 'E';
			prev = 'R';
			len += 7;
			p = end;
			continue;
		}
		if (!isalnum((unsigned char)*p) && *p != '-')
			return false;
		first = first ? first : *p;
		prev = *p;
		len++;
	}
	return len >= 1 && len <= 63 && first != '-' && prev != '-';
}

static void check_service_common(struct nmd_vctx *v, const Nomad__Service *s)
{
	static const char *const updates[] = {"", "require_healthy",
					      "ignore_warnings", "ignore", NULL};
	static const char *const modes[] = {"host", "driver", "alloc",
					    "alloc_ipv6", NULL};
	const char *am = s->addressmode ? s->addressmode : "";

	if (!service_name_ok(s->name ? s->name : ""))
		nmd_vproblem(v, "service name must be valid per RFC 1123 and "
				"can contain only alphanumeric characters or "
				"dashes and must be no longer than 63 "
				"characters: \"%s\"", s->name ? s->name : "");
	if (one_of(am, modes)) {
		if (!empty(s->address))
			nmd_vproblem(v, "service address_mode must be "
					"\"auto\" if address is set");
	} else if (*am && strcmp(am, "auto") != 0) {
		nmd_vproblem(v, "service address_mode must be \"auto\", "
				"\"host\", or \"driver\"; not \"%s\"", am);
	}
	if (!one_of(s->onupdate, updates))
		nmd_vproblem(v, "service on_update must be \"require_healthy\","
				" \"ignore_warnings\", or \"ignore\"; not "
				"\"%s\"", s->onupdate);
}

/* ---- checks ------------------------------------------------------------ */

static bool requires_port(const Nomad__ServiceCheck *c)
{
	return eq(c->type, "grpc") || eq(c->type, "http") || eq(c->type, "tcp");
}

/* An absolute URL has a scheme ("http://x", "x:y"). */
static bool url_absolute(const char *s)
{
	if (!isalpha((unsigned char)*s))
		return false;
	while (isalnum((unsigned char)*s) || *s == '+' || *s == '-' ||
	       *s == '.')
		s++;
	return *s == ':';
}

static bool check_type_ok(struct nmd_vctx *v, const Nomad__ServiceCheck *c,
			  bool nomad)
{
	static const char *const consul[] = {"grpc", "tcp", "http", "script",
					     NULL};
	static const char *const native[] = {"tcp", "http", NULL};
	char type[16] = "";

	for (size_t i = 0; c->type && c->type[i] && i < sizeof(type) - 1; i++)
		type[i] = (char)tolower((unsigned char)c->type[i]);
	if (!one_of(type, nomad ? native : consul)) {
		nmd_vproblem(v, "invalid check type (\"%s\"), must be one of %s",
			     type, nomad ? "tcp, http"
					 : "grpc, tcp, http, script");
		return false;
	}
	if (!strcmp(type, "http") && empty(c->path))
		nmd_vproblem(v, "http type must have http path");
	else if (!strcmp(type, "http") && url_absolute(c->path))
		nmd_vproblem(v, "http type must have relative http path");
	else if (!strcmp(type, "script") && empty(c->command))
		nmd_vproblem(v, "script type must have a valid script path");
	else
		return true;
	return false;
}

static bool check_timing_ok(struct nmd_vctx *v, const Nomad__ServiceCheck *c)
{
	char a[32];

	if (c->interval == 0)
		nmd_vproblem(v, "missing required value interval. Interval "
				"cannot be less than 1s");
	else if (c->interval < SEC)
		nmd_vproblem(v, "interval (%s) cannot be lower than 1s",
			     nmd_vdur(a, c->interval));
	else if (c->timeout == 0)
		nmd_vproblem(v, "missing required value timeout. Timeout "
				"cannot be less than 1s");
	else if (c->timeout < SEC)
		nmd_vproblem(v, "timeout (%s) is lower than required minimum "
				"timeout 1s", nmd_vdur(a, c->timeout));
	else
		return true;
	return false;
}

static bool check_modes_ok(struct nmd_vctx *v, const Nomad__ServiceCheck *c)
{
	static const char *const statuses[] = {"", "passing", "warning",
					       "critical", NULL};
	static const char *const modes[] = {"", "host", "driver", "alloc",
					    "alloc_ipv6", NULL};
	static const char *const updates[] = {"", "require_healthy",
					      "ignore_warnings", "ignore", NULL};

	if (!one_of(c->initialstatus, statuses))
		nmd_vproblem(v, "invalid initial check state (%s), must be one "
				"of \"passing\", \"warning\", \"critical\" or "
				"empty", c->initialstatus);
	else if (eq(c->addressmode, "auto"))
		nmd_vproblem(v, "invalid address_mode \"auto\" - auto only "
				"valid for services");
	else if (!one_of(c->addressmode, modes))
		nmd_vproblem(v, "invalid address_mode \"%s\"", c->addressmode);
	else if (!one_of(c->onupdate, updates))
		nmd_vproblem(v, "on_update must be \"require_healthy\", "
				"\"ignore_warnings\", or \"ignore\"; got \"%s\"",
			     c->onupdate);
	else
		return true;
	return false;
}

static bool check_restart_ok(struct nmd_vctx *v, const Nomad__ServiceCheck *c)
{
	const Nomad__CheckRestart *r = c->checkrestart;

	if (!r)
		return true;
	if (eq(c->onupdate, "ignore"))
		nmd_vproblem(v, "on_update value \"ignore\" is not compatible "
				"with check_restart");
	else if (!r->ignorewarnings && eq(c->onupdate, "ignore_warnings"))
		nmd_vproblem(v, "on_update value \"ignore_warnings\" not "
				"supported with check_restart ignore_warnings "
				"value \"false\"");
	else if (r->limit < 0)
		nmd_vproblem(v, "limit must be greater than or equal to 0 but "
				"found %d", r->limit);
	else if (r->grace < 0)
		nmd_vproblem(v, "grace period must be greater than or equal to "
				"0 but found %lld", (long long)r->grace);
	else
		return true;
	return false;
}

static bool check_common_ok(struct nmd_vctx *v, const Nomad__ServiceCheck *c,
			    bool nomad)
{
	return check_type_ok(v, c, nomad) && check_timing_ok(v, c) &&
	       check_modes_ok(v, c) && check_restart_ok(v, c);
}

static void check_consul_check(struct nmd_vctx *v,
			       const Nomad__ServiceCheck *c)
{
	bool passfail = eq(c->type, "tcp") || eq(c->type, "http") ||
			eq(c->type, "grpc");

	if (!check_common_ok(v, c, false))
		return;
	if (c->expose && !eq(c->type, "http") && !eq(c->type, "grpc"))
		nmd_vproblem(v, "expose may only be set on HTTP or gRPC checks");
	else if (c->successbeforepassing < 0)
		nmd_vproblem(v, "success_before_passing must be non-negative");
	else if (c->successbeforepassing > 0 && !passfail)
		nmd_vproblem(v, "success_before_passing not supported for "
				"check of type \"%s\"", c->type);
	else if (c->failuresbeforecritical < 0)
		nmd_vproblem(v, "failures_before_critical must be "
				"non-negative");
	else if (c->failuresbeforecritical > 0 && !passfail)
		nmd_vproblem(v, "failures_before_critical not supported for "
				"check of type \"%s\"", c->type);
	else if (c->notes && strlen(c->notes) > 255)
		nmd_vproblem(v, "notes must not be longer than 255 characters");
}

static void check_nomad_check(struct nmd_vctx *v, const Nomad__ServiceCheck *c)
{
	if (!check_common_ok(v, c, true))
		return;
	if (c->expose)
		nmd_vproblem(v, "expose may only be set for Consul service "
				"checks");
	else if (eq(c->onupdate, "ignore_warnings"))
		nmd_vproblem(v, "on_update may only be set to ignore_warnings "
				"for Consul service checks");
	else if (c->checkrestart && c->checkrestart->ignorewarnings)
		nmd_vproblem(v, "ignore_warnings on check_restart only "
				"supported for Consul service checks");
	else if (eq(c->addressmode, "driver"))
		nmd_vproblem(v, "address_mode = driver may only be set for "
				"Consul service checks");
	else if (c->successbeforepassing || c->failuresbeforecritical ||
		 c->failuresbeforewarning)
		nmd_vproblem(v, "success_before_passing, "
				"failures_before_critical and "
				"failures_before_warning may only be set for "
				"Consul service checks");
	else if (!empty(c->tlsservername))
		nmd_vproblem(v, "tls_server_name may only be set for Consul "
				"service checks");
}

/* Service.Validate: the shared rules, then the provider's. */
static void check_service(struct nmd_vctx *v, const Nomad__Service *s)
{
	bool nomad = eq(s->provider, "nomad");

	check_service_common(v, s);
	if (!nomad && !eq(s->provider, "consul")) {
		nmd_vproblem(v, "service provider must be \"consul\", or "
				"\"nomad\"; not \"%s\"",
			     s->provider ? s->provider : "");
		return;
	}
	for (size_t i = 0; i < s->n_checks; i++) {
		const Nomad__ServiceCheck *c = s->checks[i];
		size_t mark = nmd_vpath_push_named(v, "check", c->name, i,
						   false);

		if (empty(s->portlabel) && empty(c->portlabel) &&
		    requires_port(c))
			nmd_vproblem(v, "check requires a port but neither "
					"check nor service \"%s\" have a port",
				     s->name ? s->name : "");
		else if (nomad)
			check_nomad_check(v, c);
		else
			check_consul_check(v, c);
		nmd_vpath_pop(v, mark);
	}
	if (nomad && s->connect)
		nmd_vproblem(v, "service with provider nomad cannot include "
				"Connect blocks");
}

/* ---- port labels ------------------------------------------------------- */

/* A port label a service or check of the task refers to. */
struct port_ref {
	const char *label;
	const char *service;
};

struct port_refs {
	struct port_ref *items;
	size_t n, cap;
};

static void ref_add(struct nmd_vctx *v, struct port_refs *r, const char *label,
		    const char *service)
{
	if (r->n == r->cap) {
		size_t cap = r->cap ? 2 * r->cap : 8;
		struct port_ref *items;

		items = nmd_reallocarray(NULL, r->items, cap, sizeof(*items));
		if (!items) {
			nmd_vctx_oom(v);
			return;
		}
		r->items = items;
		r->cap = cap;
	}
	r->items[r->n].label = label;
	r->items[r->n++].service = service ? service : "";
}

static int ref_cmp(const void *a, const void *b)
{
	const struct port_ref *x = a, *y = b;
	int c = strcmp(x->label, y->label);

	return c ? c : strcmp(x->service, y->service);
}

static bool net_has_label(const Nomad__NetworkResource *n, const char *label)
{
	for (size_t i = 0; i < n->n_reservedports; i++)
		if (eq(n->reservedports[i]->label, label))
			return true;
	for (size_t i = 0; i < n->n_dynamicports; i++)
		if (eq(n->dynamicports[i]->label, label))
			return true;
	return false;
}

/* The group's first network, and for a task its deprecated own ones. */
static bool label_known(const Nomad__TaskGroup *tg, const Nomad__Task *t,
			const char *label)
{
	if (tg->n_networks && net_has_label(tg->networks[0], label))
		return true;
	for (size_t i = 0; t && t->resources && i < t->resources->n_networks;
	     i++)
		if (net_has_label(t->resources->networks[i], label))
			return true;
	return false;
}

/* One problem per missing label, naming its services in order. */
static void report_refs(struct nmd_vctx *v, const Nomad__TaskGroup *tg,
			const Nomad__Task *t, struct port_refs *r)
{
	struct nmd_buf names;
	size_t i = 0;

	if (r->n)
		qsort(r->items, r->n, sizeof(*r->items), ref_cmp);
	nmd_buf_init(&names, NULL);
	while (i < r->n) {
		const char *label = r->items[i].label;

		nmd_buf_reset(&names);
		for (; i < r->n && !strcmp(r->items[i].label, label); i++)
			if (!names.len || strcmp(r->items[i - 1].service,
						 r->items[i].service))
				nmd_buf_printf(&names, "%s%s",
					       names.len ? ", " : "",
					       r->items[i].service);
		if (!label_known(tg, t, label))
			nmd_vproblem(v, "port label \"%s\" referenced by "
					"services %s does not exist", label,
				     names.len ? names.data : "");
	}
	nmd_buf_free(&names);
	nmd_free(NULL, r->items);
}

/* ---- a task's services ------------------------------------------------- */

/* validateServices' port rules for one check of a task service. */
static void check_check_port(struct nmd_vctx *v, const Nomad__Service *s,
			     const Nomad__ServiceCheck *c,
			     struct port_refs *refs)
{
	const char *port = !empty(c->portlabel) ? c->portlabel : s->portlabel;
	long num;

	if (eq(c->addressmode, "alloc"))
		nmd_vproblem(v, "check \"%s\" cannot use "
				"address_mode=\"alloc\", only checks defined "
				"in a \"group\" service block can use this "
				"mode", c->name ? c->name : "");
	if (!requires_port(c))
		return;
	if (empty(port)) {
		nmd_vproblem(v, "check \"%s\" is missing a port",
			     c->name ? c->name : "");
	} else if (numeric(port, &num)) {
		if (!eq(c->addressmode, "driver"))
			nmd_vproblem(v, "check \"%s\" cannot use a numeric port "
					"%ld without setting "
					"address_mode=\"driver\"",
				     c->name ? c->name : "", num);
		else if (num <= 0)
			nmd_vproblem(v, "check \"%s\" has invalid numeric port "
					"%ld", c->name ? c->name : "", num);
	} else {
		ref_add(v, refs, port, s->name);
	}
}

static void check_task_service(struct nmd_vctx *v, const Nomad__Service *s,
			       struct port_refs *refs)
{
	long num;

	check_service(v, s);
	if (eq(s->addressmode, "alloc"))
		nmd_vproblem(v, "cannot use address_mode=\"alloc\", only "
				"services defined in a \"group\" block can use "
				"this mode");
	if (!empty(s->portlabel) &&
	    !(eq(s->addressmode, "driver") && numeric(s->portlabel, &num)))
		ref_add(v, refs, s->portlabel, s->name);
	if (s->connect)
		nmd_vproblem(v, "cannot have \"connect\" block, only services "
				"defined in a \"group\" block can");
	for (size_t i = 0; i < s->n_checks; i++) {
		const Nomad__ServiceCheck *c = s->checks[i];

		for (size_t j = 0; j < i; j++)
			if (eq(s->checks[j]->name, c->name ? c->name : "")) {
				nmd_vproblem(v, "check \"%s\" is duplicate",
					     c->name ? c->name : "");
				break;
			}
		check_check_port(v, s, c, refs);
	}
}

static bool same_service(const Nomad__Service *a, const Nomad__Service *b)
{
	return eq(a->name, b->name ? b->name : "") &&
	       eq(a->portlabel, b->portlabel ? b->portlabel : "");
}

void nmd_check_task_services(struct nmd_vctx *v, const Nomad__TaskGroup *tg,
			     const Nomad__Task *t)
{
	struct port_refs refs = {0};

	for (size_t i = 0; i < t->n_services; i++) {
		const Nomad__Service *s = t->services[i];
		size_t mark = nmd_vpath_push_named(v, "service", s->name, i,
						   false);

		check_task_service(v, s, &refs);
		nmd_vpath_pop(v, mark);
		for (size_t j = 0; j < i; j++)
			if (same_service(t->services[j], s)) {
				nmd_vproblem(v, "service \"%s\" is duplicate",
					     s->name ? s->name : "");
				break;
			}
	}
	report_refs(v, tg, t, &refs);
}

/* ---- a group's services ------------------------------------------------ */

static bool has_task(const Nomad__TaskGroup *tg, const char *name)
{
	for (size_t i = 0; i < tg->n_tasks; i++)
		if (eq(tg->tasks[i]->name, name))
			return true;
	return false;
}

static void check_group_check(struct nmd_vctx *v, const Nomad__TaskGroup *tg,
			      const Nomad__Service *s,
			      const Nomad__ServiceCheck *c)
{
	const char *name = c->name ? c->name : "";

	if (empty(c->taskname)) {
		if (empty(s->taskname) && eq(c->type, "script"))
			nmd_vproblem(v, "service or check \"%s\" must specify "
					"task parameter", name);
		return;
	}
	if (!eq(c->type, "script") && !eq(c->type, "grpc"))
		nmd_vproblem(v, "check %s invalid: only script and gRPC checks "
				"should have tasks", name);
	if (eq(c->addressmode, "driver"))
		nmd_vproblem(v, "check \"%s\" invalid: cannot use "
				"address_mode=\"driver\", only checks defined "
				"in a \"task\" service block can use this mode",
			     name);
	if (!has_task(tg, c->taskname))
		nmd_vproblem(v, "check %s invalid: refers to non-existent task "
				"%s", name, c->taskname);
}

/* Task services count too: a group service may not repeat one. */
static bool seen_before(const Nomad__TaskGroup *tg, size_t upto,
			const Nomad__Service *s)
{
	for (size_t i = 0; i < tg->n_tasks; i++)
		for (size_t j = 0; j < tg->tasks[i]->n_services; j++)
			if (same_service(tg->tasks[i]->services[j], s))
				return true;
	for (size_t i = 0; i < upto; i++)
		if (same_service(tg->services[i], s))
			return true;
	return false;
}

static void check_group_service(struct nmd_vctx *v, const Nomad__TaskGroup *tg,
				size_t i, struct port_refs *refs)
{
	const Nomad__Service *s = tg->services[i];
	size_t before = nomad_problems_count(v->problems);
	long num;

	check_service(v, s);
	/* Nomad skips the rest of an invalid group service. */
	if (nomad_problems_count(v->problems) != before)
		return;
	if (eq(s->addressmode, "driver"))
		nmd_vproblem(v, "cannot use address_mode=\"driver\", only "
				"services defined in a \"task\" block can use "
				"this mode");
	if (seen_before(tg, i, s))
		nmd_vproblem(v, "service %s is duplicate",
			     s->name ? s->name : "");
	for (size_t j = 0; j < s->n_checks; j++)
		check_group_check(v, tg, s, s->checks[j]);
	/* Nomad's own provider resolves ports from the group network only. */
	if (eq(s->provider, "nomad") && !empty(s->portlabel) &&
	    !numeric(s->portlabel, &num))
		ref_add(v, refs, s->portlabel, s->name);
}

void nmd_check_group_services(struct nmd_vctx *v, const Nomad__TaskGroup *tg)
{
	struct port_refs refs = {0};

	for (size_t i = 0; i < tg->n_services; i++) {
		size_t mark = nmd_vpath_push_named(v, "service",
						   tg->services[i]->name, i,
						   false);

		check_group_service(v, tg, i, &refs);
		nmd_vpath_pop(v, mark);
	}
	report_refs(v, tg, NULL, &refs);
}
