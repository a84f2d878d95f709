/* SPDX-License-Identifier: MPL-2.0 */
/*
 * simulate: the command line. Go-style flags from one table, each with
 * its range and its help text; -h prints them, and a bad value is named
 * with what was expected. Number parsing is shared with the trace reader.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simulate.h"

enum flag_kind { F_LONG, F_U64, F_DOUBLE, F_RANGE, F_SHAPES, F_ALGORITHM,
		 F_STRING };

struct flag {
	const char *name;
	enum flag_kind kind;
	size_t off;                /* of its field in struct options */
	double min, max;
	bool integer;              /* F_RANGE: whole numbers only */
	bool generator;            /* shapes the generated workload */
	const char *arg, *help;
};

#define OPT(f) offsetof(struct options, f)

static const struct flag flags[] = {
	{.name = "nodes", .kind = F_LONG, .off = OPT(nodes), .min = 1,
	 .max = 1000000, .arg = "N", .help = "nodes in the cluster (100)"},
	{.name = "shapes", .kind = F_SHAPES, .arg = "LIST",
	 .help = "node shapes CPUxMEM[:WEIGHT],... in MHz and MB, given out "
		 "round robin by weight (4000x8192,8000x16384)"},
	{.name = "racks", .kind = F_LONG, .off = OPT(racks), .min = 0,
	 .max = 1000000, .arg = "N",
	 .help = "give nodes meta.rack rack-0..rack-N-1 in contiguous blocks "
		 "(0: no rack)"},
	{.name = "algorithm", .kind = F_ALGORITHM, .arg = "NAME",
	 .help = "binpack, spread, or both: the same workload twice (binpack)"},
	{.name = "trace", .kind = F_STRING, .off = OPT(trace), .arg = "FILE",
	 .help = "read the jobs from a CSV trace instead of generating them"},
	{.name = "seed", .kind = F_U64, .off = OPT(seed), .arg = "N",
	 .help = "seed of the generator and the scheduler (1)"},
	{.name = "jobs", .kind = F_LONG, .off = OPT(jobs), .min = 1,
	 .max = 10000000, .generator = true, .arg = "N",
	 .help = "jobs to generate (1000; with -allocs, as many as it takes)"},
	{.name = "allocs", .kind = F_LONG, .off = OPT(allocs), .min = 0,
	 .max = 1000000000, .generator = true, .arg = "N",
	 .help = "stop generating once the jobs ask for N allocations "
		 "(0: no limit)"},
	{.name = "rate", .kind = F_DOUBLE, .off = OPT(rate), .min = 1e-6,
	 .max = 1e6, .generator = true, .arg = "R",
	 .help = "job arrivals per virtual second, Poisson (0.2)"},
	{.name = "groups", .kind = F_RANGE, .off = OPT(groups), .min = 1,
	 .max = MAX_GROUPS, .integer = true, .generator = true, .arg = "A-B",
	 .help = "task groups per job, uniform (1-2)"},
	{.name = "count", .kind = F_RANGE, .off = OPT(count), .min = 1,
	 .max = 10000, .integer = true, .generator = true, .arg = "A-B",
	 .help = "allocations per group, uniform (1-10)"},
	{.name = "cpu", .kind = F_RANGE, .off = OPT(cpu), .min = 1,
	 .max = 10000000, .integer = true, .generator = true, .arg = "A-B",
	 .help = "MHz per allocation, log-uniform (100-2000)"},
	{.name = "memory", .kind = F_RANGE, .off = OPT(memory), .min = 10,
	 .max = 100000000, .integer = true, .generator = true, .arg = "A-B",
	 .help = "MB per allocation, log-uniform (128-4096)"},
	{.name = "duration", .kind = F_RANGE, .off = OPT(duration),
	 .min = 0.001, .max = 1e9, .generator = true, .arg = "A-B",
	 .help = "virtual seconds a job runs, log-uniform (60-1800)"},
	{.name = "service-share", .kind = F_DOUBLE, .off = OPT(service_share),
	 .min = 0, .max = 1, .generator = true, .arg = "F",
	 .help = "share of jobs that are services, the rest batch (0.3)"},
	{.name = "spread-share", .kind = F_DOUBLE, .off = OPT(spread_share),
	 .min = 0, .max = 1, .generator = true, .arg = "F",
	 .help = "share of groups with a spread over ${meta.rack}; needs "
		 "-racks (0)"},
	{.name = "interval", .kind = F_DOUBLE, .off = OPT(interval),
	 .min = 0.001, .max = 1e9, .arg = "S",
	 .help = "virtual seconds between utilisation samples (60)"},
	{.name = "csv", .kind = F_STRING, .off = OPT(csv), .arg = "FILE",
	 .help = "write every sample as CSV to FILE (-: standard output, and "
		 "the report to standard error)"},
};
#define N_FLAGS (sizeof(flags) / sizeof(flags[0]))

/* Print `text` from column 25, wrapped before column 79. */
static void print_wrapped(FILE *out, const char *text)
{
	size_t col = 25;
	while (*text) {
		size_t word = strcspn(text, " ");
		if (col > 25 && col + 1 + word > 78) {
			fprintf(out, "\n%25s", "");
			col = 25;
		} else if (col > 25) {
			fputc(' ', out);
			col++;
		}
		fprintf(out, "%.*s", (int)word, text);
		col += word;
		text += word;
		text += strspn(text, " ");
	}
	fputc('\n', out);
}

static void usage(FILE *out)
{
	fprintf(out,
		"usage: " PROG " [flags]\n"
		"\n"
		"Simulate a cluster in virtual time, scheduling each job with\n"
		"libnomad's scheduler, and report utilisation, placement latency,\n"
		"waiting and fragmentation. Jobs come from a seeded generator or\n"
		"from -trace; examples/README.md describes the trace format and\n"
		"every metric. Defaults are in parentheses.\n\n");
	for (size_t i = 0; i < N_FLAGS; i++) {
		char left[40];
		snprintf(left, sizeof(left), "-%s %s", flags[i].name, flags[i].arg);
		fprintf(out, "  %-22s ", left);
		print_wrapped(out, flags[i].help);
	}
	fprintf(out, "  %-22s ", "-h");
	print_wrapped(out, "print this help");
}

static int bad_flag(const char *name, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, PROG ": -%s: ", name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n" PROG ": run '" PROG " -h' for usage\n");
	return -1;
}

/* A number that is the whole of `s`. */
bool parse_number(const char *s, double *out)
{
	char *end;
	double v;
	if (!*s || *s == ' ' || *s == '\t')
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (*end || errno || !isfinite(v))
		return false;
	*out = v;
	return true;
}

bool within(double v, double min, double max, bool integer)
{
	return v >= min && v <= max && (!integer || v == floor(v));
}

static int parse_range(const struct flag *f, const char *v, struct range *r)
{
	char buf[64];
	char *dash;
	snprintf(buf, sizeof(buf), "%s", v);
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (strlen(v) >= sizeof(buf) || !parse_number(buf, &r->lo) ||
	    !(dash ? parse_number(dash + 1, &r->hi) : (r->hi = r->lo, true)) ||
	    !within(r->lo, f->min, f->max, f->integer) ||
	    !within(r->hi, f->min, f->max, f->integer) || r->lo > r->hi)
		return bad_flag(f->name, "expected A-B or A with %s%.15g <= A <= "
				"B <= %.15g, got '%s'",
				f->integer ? "whole numbers, " : "", f->min,
				f->max, v);
	return 0;
}

/* "4000x8192:3,8000x16384": CPUxMEM with an optional weight. */
static int parse_shapes(struct options *o, const char *v)
{
	const char *p = v;
	o->n_shapes = 0;
	while (*p) {
		struct shape s = {0, 0, 1};
		char *end;
		long long cpu, mem, w = 1;
		errno = 0;
		cpu = strtoll(p, &end, 10);
		if (end == p || *end != 'x' || cpu < 1 || cpu > 10000000)
			goto bad;
		p = end + 1;
		mem = strtoll(p, &end, 10);
		if (end == p || mem < 1 || mem > 100000000)
			goto bad;
		p = end;
		if (*p == ':') {
			w = strtoll(p + 1, &end, 10);
			if (end == p + 1 || w < 1 || w > 1000)
				goto bad;
			p = end;
		}
		if (errno || (*p && *p != ',') || o->n_shapes == MAX_SHAPES)
			goto bad;
		if (*p == ',' && !*++p)
			goto bad;
		s.cpu = cpu;
		s.mem = mem;
		s.weight = (unsigned)w;
		o->shapes[o->n_shapes++] = s;
	}
	if (o->n_shapes)
		return 0;
bad:
	return bad_flag("shapes", "expected CPUxMEM[:WEIGHT],... (at most %d; "
			"cpu 1-10000000 MHz, memory 1-100000000 MB, weight "
			"1-1000), got '%s'", MAX_SHAPES, v);
}

static int set_flag(struct options *o, const struct flag *f, const char *v)
{
	char *base = (char *)o + f->off;
	double d;
	if (f->generator && !o->generator_flag)
		o->generator_flag = f->name;
	switch (f->kind) {
	case F_LONG:
	case F_DOUBLE:
		if (!parse_number(v, &d) ||
		    !within(d, f->min, f->max, f->kind == F_LONG))
			return bad_flag(f->name, "expected a %s from %.15g to "
					"%.15g, got '%s'", f->kind == F_LONG
					? "whole number" : "number",
					f->min, f->max, v);
		if (f->kind == F_LONG)
			*(long *)(void *)base = (long)d;
		else
			*(double *)(void *)base = d;
		return 0;
	case F_U64: {
		char *end;
		unsigned long long u;
		errno = 0;
		u = strtoull(v, &end, 10);
		if (!*v || *end || errno || *v == '-')
			return bad_flag(f->name, "expected a whole number from 0 "
					"to %llu, got '%s'", (unsigned long long)
					UINT64_MAX, v);
		*(uint64_t *)(void *)base = u;
		return 0;
	}
	case F_RANGE:
		return parse_range(f, v, (struct range *)(void *)base);
	case F_SHAPES:
		return parse_shapes(o, v);
	case F_ALGORITHM:
		if (!strcmp(v, "binpack"))
			o->algorithm = ALG_BINPACK;
		else if (!strcmp(v, "spread"))
			o->algorithm = ALG_SPREAD;
		else if (!strcmp(v, "both"))
			o->algorithm = ALG_BOTH;
		else
			return bad_flag(f->name, "expected binpack, spread or "
					"both, got '%s'", v);
		return 0;
	case F_STRING:
		if (!*v)
			return bad_flag(f->name, "expected a file name");
		*(const char **)(void *)base = v;
		return 0;
	}
	return 0;
}

void options_init(struct options *o)
{
	memset(o, 0, sizeof(*o));
	o->nodes = 100;
	o->shapes[0] = (struct shape){4000, 8192, 1};
	o->shapes[1] = (struct shape){8000, 16384, 1};
	o->n_shapes = 2;
	o->algorithm = ALG_BINPACK;
	o->seed = 1;
	o->jobs = 0; /* 1000, or as many as -allocs needs */
	o->rate = 0.2;
	o->groups = (struct range){1, 2};
	o->count = (struct range){1, 10};
	o->cpu = (struct range){100, 2000};
	o->memory = (struct range){128, 4096};
	o->duration = (struct range){60, 1800};
	o->service_share = 0.3;
	o->interval = 60;
}

/*
 * Go-style flags: -name value, -name=value, and --name as well.
 * Returns 0, 1 after -h (usage printed), or -1 after an error.
 */
int parse_flags(struct options *o, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *eq, *value;
		const struct flag *f = NULL;
		size_t len;
		if (arg[0] != '-' || !arg[1]) {
			fprintf(stderr, PROG ": '%s': not a flag (flags start "
				"with -)\n" PROG ": run '" PROG " -h' for usage\n",
				arg);
			return -1;
		}
		arg += arg[1] == '-' ? 2 : 1;
		if (!strcmp(arg, "h") || !strcmp(arg, "help")) {
			usage(stdout);
			return 1;
		}
		eq = strchr(arg, '=');
		len = eq ? (size_t)(eq - arg) : strlen(arg);
		for (size_t k = 0; k < N_FLAGS && !f; k++)
			if (strlen(flags[k].name) == len &&
			    !strncmp(flags[k].name, arg, len))
				f = &flags[k];
		if (!f)
			return bad_flag(arg, "unknown flag");
		if (eq)
			value = eq + 1;
		else if (i + 1 < argc)
			value = argv[++i];
		else
			return bad_flag(f->name, "needs a value (%s)", f->arg);
		if (set_flag(o, f, value) < 0)
			return -1;
	}
	if (o->trace && o->generator_flag)
		return bad_flag(o->generator_flag, "shapes the generated "
				"workload and cannot be combined with -trace");
	if (o->spread_share > 0 && !o->racks)
		return bad_flag("spread-share", "needs -racks: the spreads are "
				"over ${meta.rack}");
	return 0;
}
