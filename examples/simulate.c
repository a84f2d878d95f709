/* SPDX-License-Identifier: MPL-2.0 */
/*
 * simulate: a cluster simulation that calls libnomad's scheduler as a
 * library. It builds N nodes of given shapes, feeds them a stream of jobs
 * (generated from a seed, or read from a CSV trace) in virtual time, and
 * reports utilisation over time, placement latency, waiting and
 * fragmentation. `-algorithm both` runs the same workload under bin-pack
 * and spread and prints the two side by side.
 *
 *   build/examples/simulate -nodes 1000 -jobs 2000 -rate 2
 *   build/examples/simulate -trace examples/traces/sample.csv -nodes 4
 *   build/examples/simulate -h
 *
 * examples/README.md documents every flag, the trace format and every
 * metric. Build it against an installed libnomad with
 *
 *   cc simulate.c $(pkg-config --cflags --libs libnomad) -lm -o simulate
 *
 * How it fits together. The host (this program) owns the cluster: nodes,
 * the allocations on them (indexed by node, by job and by ID) and the
 * jobs. It implements the scheduler's state ops over that picture and its
 * planner ops as the plan applier: submit_plan checks each node's
 * placements still fit, commits them (usage goes up) and the plan's stops
 * (usage goes down). Events run in virtual time from a heap: a batch
 * job's allocations complete when their duration ends; a service job is
 * stopped (deregistered, through an evaluation) when its duration ends.
 * Jobs with allocations that did not fit wait in a FIFO queue with the
 * blocked evaluation the scheduler created, and are evaluated again when
 * capacity that could hold one of their allocations frees up.
 *
 * The only wall-clock reads time nomad_sched_process calls; everything
 * else, and so every figure but the latency ones, is the same for the
 * same flags and seed. State lives in a struct passed around: no global
 * mutable state.
 *
 * Public API only: <nomad/nomad.h>, linked with -lnomad (and -lm).
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <nomad/nomad.h>

#define PROG "simulate"
#define MAX_SHAPES 64
#define MAX_LINE 4096          /* longest trace line */
#define MAX_GROUPS 1000        /* task groups per job */
#define MAX_NAME 128           /* job and group names */
#define MAX_SAMPLES 1000000    /* utilisation samples kept per run */
#define TABLE_ROWS 24          /* rows of the utilisation table */
#define NODE_DISK_MB 10000000  /* disk is not simulated: 10 TB per node */
#define EPOCH_NS 1700000000000000000LL /* virtual time 0, as Unix time */
#define NONE SIZE_MAX

/* ------------------------------------------------------------------ */
/* Small helpers                                                        */

/* Out of memory ends the program: a simulation has nothing to fall back
 * on, and every call site stays one line. */
static void *xrealloc(void *p, size_t n, size_t size)
{
	void *q;
	size_t bytes = n * size;
	if (size && n > SIZE_MAX / size) {
		fprintf(stderr, PROG ": out of memory\n");
		exit(1);
	}
	if (!(q = realloc(p, bytes ? bytes : 1))) {
		fprintf(stderr, PROG ": out of memory\n");
		exit(1);
	}
	return q;
}

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);
	if (!p) {
		fprintf(stderr, PROG ": out of memory\n");
		exit(1);
	}
	return p;
}

static char *xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(xrealloc(NULL, n, 1), s, n);
}

/* Grow an array to hold one more element. */
#define GROW(arr, n, cap)                                                     \
	do {                                                                  \
		if ((n) == (cap)) {                                           \
			(cap) = (cap) ? (cap) * 2 : 16;                       \
			(arr) = xrealloc((arr), (cap), sizeof(*(arr)));       \
		}                                                             \
	} while (0)

/* A growing string, for the job JSON. */
struct sbuf {
	char *p;
	size_t n, cap;
};

static void sb_printf(struct sbuf *b, const char *fmt, ...)
{
	for (;;) {
		va_list ap;
		int k;
		va_start(ap, fmt);
		k = vsnprintf(b->p ? b->p + b->n : NULL, b->cap - b->n, fmt, ap);
		va_end(ap);
		if (k >= 0 && (size_t)k < b->cap - b->n) {
			b->n += (size_t)k;
			return;
		}
		b->cap = (b->cap + (k > 0 ? (size_t)k : 0) + 64) * 2;
		b->p = xrealloc(b->p, b->cap, 1);
	}
}

/* A string-keyed hash map (open addressing, FNV-1a) from IDs to values;
 * keys are borrowed and must outlive their entry. Deleted entries leave a
 * tombstone until the next rehash. */
struct map_slot {
	const char *key;           /* NULL: empty; &tombstone: deleted */
	uintptr_t value;
};

struct map {
	struct map_slot *slots;
	size_t cap, used, live;    /* used counts tombstones too */
	char tombstone;            /* its address marks deleted slots */
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static struct map_slot *map_find(const struct map *m, const char *key)
{
	size_t k;
	if (!m->cap)
		return NULL;
	for (k = hash_str(key) & (m->cap - 1); m->slots[k].key;
	     k = (k + 1) & (m->cap - 1))
		if (m->slots[k].key != &m->tombstone &&
		    !strcmp(m->slots[k].key, key))
			return &m->slots[k];
	return NULL;
}

static bool map_get(const struct map *m, const char *key, uintptr_t *value)
{
	const struct map_slot *s = key ? map_find(m, key) : NULL;
	if (s)
		*value = s->value;
	return s != NULL;
}

static void map_rehash(struct map *m)
{
	struct map_slot *old = m->slots;
	size_t old_cap = m->cap, cap = 16;
	while ((m->live + 1) * 2 > cap)
		cap *= 2;
	m->slots = xcalloc(cap, sizeof(*m->slots));
	m->cap = cap;
	m->used = m->live;
	for (size_t i = 0; i < old_cap; i++) {
		size_t k;
		if (!old[i].key || old[i].key == &m->tombstone)
			continue;
		for (k = hash_str(old[i].key) & (cap - 1); m->slots[k].key;
		     k = (k + 1) & (cap - 1))
			;
		m->slots[k] = old[i];
	}
	free(old);
}

/* Add or replace. */
static void map_put(struct map *m, const char *key, uintptr_t value)
{
	struct map_slot *s = map_find(m, key);
	size_t k;
	if (s) {
		s->value = value;
		return;
	}
	if ((m->used + 1) * 4 > m->cap * 3)
		map_rehash(m);
	for (k = hash_str(key) & (m->cap - 1);
	     m->slots[k].key && m->slots[k].key != &m->tombstone;
	     k = (k + 1) & (m->cap - 1))
		;
	if (!m->slots[k].key)
		m->used++;
	m->slots[k].key = key;
	m->slots[k].value = value;
	m->live++;
}

static void map_del(struct map *m, const char *key)
{
	struct map_slot *s = map_find(m, key);
	if (s) {
		s->key = &m->tombstone;
		m->live--;
	}
}

static void map_free(struct map *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------------ */
/* Flags                                                                */

enum algorithm { ALG_BINPACK, ALG_SPREAD, ALG_BOTH };

struct shape {
	int64_t cpu, mem;          /* MHz, MB */
	unsigned weight;
};

struct range {
	double lo, hi;
};

struct options {
	long nodes;
	struct shape shapes[MAX_SHAPES];
	size_t n_shapes;
	long racks;
	int algorithm;
	const char *trace;
	uint64_t seed;
	long jobs, allocs;
	double rate;
	struct range groups, count, cpu, memory, duration;
	double service_share, spread_share;
	double interval;
	const char *csv;
	const char *generator_flag; /* the first generator flag given */
};

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
static bool parse_number(const char *s, double *out)
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

static bool within(double v, double min, double max, bool integer)
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

static void options_init(struct options *o)
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
static int parse_flags(struct options *o, int argc, char **argv)
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

/* ------------------------------------------------------------------ */
/* The workload: jobs as the trace or the generator describe them       */

struct wl_group {
	char *name;
	long count;
	int64_t cpu, mem;          /* MHz and MB per allocation */
	char *spread;              /* a spread attribute, or NULL */
};

struct wl_job {
	char *id;
	bool service;
	int64_t arrive_ms, duration_ms;
	struct wl_group *groups;
	size_t n_groups, cap_groups;
	unsigned line;             /* its first trace line; 0 when generated */
	size_t seq;                /* order of appearance, for a stable sort */
};

struct workload {
	struct wl_job *jobs;
	size_t n, cap;
	const char *source;        /* the trace's path; NULL when generated */
	uint64_t allocs;           /* what all the jobs ask for */
	int64_t median_cpu, median_mem;
};

static const char *const trace_columns[] = {
	"time_s", "job_id", "type", "group", "count", "cpu_mhz", "memory_mb",
	"duration_s", "spread"};
#define N_COLUMNS 8            /* the ninth, spread, is optional */

static int trace_error(const char *path, unsigned line, const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s:%u: ", path, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

/* Job and group names: they go into JSON and allocation names as is. */
static bool is_name(const char *s, size_t len)
{
	if (!len || len > MAX_NAME)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' ||
		      s[i] == '-'))
			return false;
	return true;
}

/* "${meta.rack}", "${node.datacenter}": a node attribute to spread over. */
static bool is_target(const char *s)
{
	size_t len = strlen(s);
	return len > 3 && !strncmp(s, "${", 2) && s[len - 1] == '}' &&
	       is_name(s + 2, len - 3);
}

/* Split `line` at commas, in place, trimming blanks around each field.
 * Returns how many fields there are, which may exceed `max`. */
static size_t split(char *line, char **fields, size_t max)
{
	size_t n = 0;
	char *p = line;
	for (;;) {
		char *comma = strchr(p, ','), *end;
		if (comma)
			*comma = '\0';
		while (*p == ' ' || *p == '\t')
			p++;
		end = p + strlen(p);
		while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
		if (n < max)
			fields[n] = p;
		n++;
		if (!comma)
			return n;
		p = comma + 1;
	}
}

/* One trace row, checked. */
struct row {
	int64_t time_ms, duration_ms;
	const char *job, *group, *spread;
	bool service;
	long count;
	int64_t cpu, mem;
};

static bool whole(const char *s, double min, double max, double *out)
{
	return parse_number(s, out) && within(*out, min, max, true);
}

static int parse_row(const char *path, unsigned line, char **f, size_t n,
		     struct row *r)
{
	double v;
	memset(r, 0, sizeof(*r));
	if (!parse_number(f[0], &v) || v < 0 || v > 1e9)
		return trace_error(path, line, "time_s: expected seconds from 0 "
				   "to 1e9, got '%.40s'", f[0]);
	r->time_ms = llround(v * 1000);
	if (!is_name(f[1], strlen(f[1])))
		return trace_error(path, line, "job_id: expected 1 to %d of "
				   "A-Z a-z 0-9 . _ -, got '%.40s'", MAX_NAME, f[1]);
	r->job = f[1];
	if (strcmp(f[2], "service") && strcmp(f[2], "batch"))
		return trace_error(path, line, "type: expected service or batch, "
				   "got '%.40s'", f[2]);
	r->service = !strcmp(f[2], "service");
	if (!is_name(f[3], strlen(f[3])))
		return trace_error(path, line, "group: expected 1 to %d of "
				   "A-Z a-z 0-9 . _ -, got '%.40s'", MAX_NAME, f[3]);
	r->group = f[3];
	if (!whole(f[4], 1, 10000, &v))
		return trace_error(path, line, "count: expected a whole number "
				   "from 1 to 10000, got '%.40s'", f[4]);
	r->count = (long)v;
	if (!whole(f[5], 1, 10000000, &v))
		return trace_error(path, line, "cpu_mhz: expected a whole number "
				   "from 1 to 10000000, got '%.40s'", f[5]);
	r->cpu = (int64_t)v;
	if (!whole(f[6], 10, 100000000, &v))
		return trace_error(path, line, "memory_mb: expected a whole "
				   "number from 10 to 100000000, got '%.40s'", f[6]);
	r->mem = (int64_t)v;
	if (!parse_number(f[7], &v) || v <= 0 || v > 1e9)
		return trace_error(path, line, "duration_s: expected seconds "
				   "above 0, up to 1e9, got '%.40s'", f[7]);
	r->duration_ms = llround(v * 1000) > 0 ? llround(v * 1000) : 1;
	if (n > N_COLUMNS && *f[8] && !is_target(f[8]))
		return trace_error(path, line, "spread: expected nothing or a "
				   "target such as ${meta.rack}, got '%.40s'", f[8]);
	r->spread = n > N_COLUMNS && *f[8] ? f[8] : NULL;
	return 0;
}

/* Rows with the same job_id form one job: its first row gives the job's
 * time, type and duration, which the others must repeat. */
static int add_row(struct workload *w, struct map *ids, const char *path,
		   unsigned line, const struct row *r)
{
	struct wl_job *j;
	struct wl_group *g;
	uintptr_t at;
	if (map_get(ids, r->job, &at)) {
		j = &w->jobs[at];
		if (j->arrive_ms != r->time_ms || j->service != r->service ||
		    j->duration_ms != r->duration_ms)
			return trace_error(path, line, "job %s: time_s, type and "
					   "duration_s differ from its first "
					   "row (line %u)", r->job, j->line);
		for (size_t i = 0; i < j->n_groups; i++)
			if (!strcmp(j->groups[i].name, r->group))
				return trace_error(path, line, "job %s: group %s "
						   "given twice", r->job, r->group);
		if (j->n_groups == MAX_GROUPS)
			return trace_error(path, line, "job %s: more than %d "
					   "groups", r->job, MAX_GROUPS);
	} else {
		GROW(w->jobs, w->n, w->cap);
		j = &w->jobs[w->n];
		memset(j, 0, sizeof(*j));
		j->id = xstrdup(r->job);
		j->service = r->service;
		j->arrive_ms = r->time_ms;
		j->duration_ms = r->duration_ms;
		j->line = line;
		j->seq = w->n;
		map_put(ids, j->id, w->n++);
	}
	GROW(j->groups, j->n_groups, j->cap_groups);
	g = &j->groups[j->n_groups++];
	g->name = xstrdup(r->group);
	g->count = r->count;
	g->cpu = r->cpu;
	g->mem = r->mem;
	g->spread = r->spread ? xstrdup(r->spread) : NULL;
	w->allocs += (uint64_t)r->count;
	return 0;
}

/* The header names the columns, in order; spread may be left out. */
static int check_header(const char *path, unsigned line, char **f, size_t n,
			size_t *columns)
{
	bool ok = n == N_COLUMNS || n == N_COLUMNS + 1;
	for (size_t i = 0; ok && i < n; i++)
		ok = !strcmp(f[i], trace_columns[i]);
	if (!ok)
		return trace_error(path, line, "expected the header line "
				   "time_s,job_id,type,group,count,cpu_mhz,"
				   "memory_mb,duration_s[,spread]");
	*columns = n;
	return 0;
}

/* One line of the trace: a comment, a blank, the header or a row. */
static int trace_line(struct workload *w, struct map *ids, const char *path,
		      unsigned line, char *text, size_t *columns)
{
	char *f[N_COLUMNS + 2];
	struct row r;
	size_t n;
	while (*text == ' ' || *text == '\t')
		text++;
	if (!*text || *text == '#')
		return 0;
	if (strchr(text, '"'))
		return trace_error(path, line, "quoted fields are not supported");
	n = split(text, f, N_COLUMNS + 2);
	if (!*columns)
		return check_header(path, line, f, n, columns);
	if (n != *columns)
		return trace_error(path, line, "expected %zu fields, got %zu",
				   *columns, n);
	if (parse_row(path, line, f, n, &r) < 0)
		return -1;
	return add_row(w, ids, path, line, &r);
}

static int cmp_arrival(const void *x, const void *y)
{
	const struct wl_job *a = x, *b = y;
	if (a->arrive_ms != b->arrive_ms)
		return a->arrive_ms < b->arrive_ms ? -1 : 1;
	return (a->seq > b->seq) - (a->seq < b->seq);
}

/* Read one line without its newline. Returns 1, 0 at the end of the
 * file, or -1 for a line too long or holding a NUL byte (*why says which;
 * the rest of that line is skipped). */
static int read_line(FILE *f, char *buf, size_t cap, const char **why)
{
	size_t n = 0;
	int c;
	*why = NULL;
	while ((c = getc(f)) != EOF && c != '\n') {
		if (c == '\0' && !*why)
			*why = "the line holds a NUL byte";
		else if (n + 1 == cap && !*why)
			*why = "the line is longer than 4096 bytes";
		else if (n + 1 < cap)
			buf[n++] = (char)c;
	}
	buf[n] = '\0';
	if (n && buf[n - 1] == '\r')
		buf[--n] = '\0';
	if (*why)
		return -1;
	return c != EOF || n ? 1 : 0;
}

static int trace_load(struct workload *w, const char *path)
{
	FILE *f = fopen(path, "r");
	char buf[MAX_LINE + 1];
	const char *why;
	unsigned line = 0;
	size_t columns = 0;
	struct map ids = {0};
	int rc = 0, got;
	if (!f) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		return -1;
	}
	w->source = path;
	while (!rc && (got = read_line(f, buf, sizeof(buf), &why)) != 0) {
		char *text = buf;
		line++;
		if (got < 0) {
			rc = trace_error(path, line, "%s", why);
			break;
		}
		if (line == 1 && !strncmp(text, "\xef\xbb\xbf", 3))
			text += 3; /* a UTF-8 byte order mark */
		rc = trace_line(w, &ids, path, line, text, &columns);
	}
	if (!rc && ferror(f)) {
		fprintf(stderr, PROG ": %s: %s\n", path, strerror(errno));
		rc = -1;
	} else if (!rc && !columns) {
		rc = trace_error(path, line ? line : 1, "no header line: expected "
				 "time_s,job_id,type,group,count,cpu_mhz,"
				 "memory_mb,duration_s[,spread]");
	} else if (!rc && !w->n) {
		rc = trace_error(path, line, "no jobs in the trace");
	}
	fclose(f);
	map_free(&ids);
	if (!rc)
		qsort(w->jobs, w->n, sizeof(*w->jobs), cmp_arrival);
	return rc;
}

/* The generator: the library's seeded xoshiro256** behind nomad_rng. */
struct gen {
	nomad_rng rng;
	nomad_rng_seeded state;
};

/* Uniform in (0, 1). */
static double gen_unit(struct gen *g)
{
	return ((double)nomad_rng_uniform(&g->rng, 1ULL << 53) + 0.5) /
	       9007199254740992.0;
}

static long gen_int(struct gen *g, struct range r)
{
	return (long)r.lo + (long)nomad_rng_uniform(&g->rng,
						    (uint64_t)(r.hi - r.lo) + 1);
}

/* Log-uniform: as many draws between 100 and 200 as between 1000 and
 * 2000, so that small asks are common and large ones rare. */
static double gen_log(struct gen *g, struct range r)
{
	return r.lo == r.hi ? r.lo : r.lo * exp(gen_unit(g) * log(r.hi / r.lo));
}

static void gen_job(struct gen *g, const struct options *o, struct wl_job *j)
{
	j->service = gen_unit(g) < o->service_share;
	j->duration_ms = llround(gen_log(g, o->duration) * 1000);
	if (j->duration_ms < 1)
		j->duration_ms = 1;
	j->n_groups = j->cap_groups = (size_t)gen_int(g, o->groups);
	j->groups = xcalloc(j->n_groups, sizeof(*j->groups));
	for (size_t k = 0; k < j->n_groups; k++) {
		struct wl_group *grp = &j->groups[k];
		char name[32];
		snprintf(name, sizeof(name), "g%zu", k);
		grp->name = xstrdup(name);
		grp->count = gen_int(g, o->count);
		grp->cpu = llround(gen_log(g, o->cpu));
		grp->mem = llround(gen_log(g, o->memory));
		if (o->racks && gen_unit(g) < o->spread_share)
			grp->spread = xstrdup("${meta.rack}");
	}
}

static void generate(struct workload *w, const struct options *o)
{
	long limit = o->jobs ? o->jobs : o->allocs ? 10000000 : 1000;
	struct gen g;
	double t = 0;
	nomad_rng_init_seeded(&g.rng, &g.state, o->seed);
	for (long i = 0; i < limit &&
			(!o->allocs || w->allocs < (uint64_t)o->allocs); i++) {
		struct wl_job *j;
		char id[32];
		GROW(w->jobs, w->n, w->cap);
		j = &w->jobs[w->n++];
		memset(j, 0, sizeof(*j));
		t += -log(gen_unit(&g)) / o->rate; /* Poisson arrivals */
		snprintf(id, sizeof(id), "job-%06ld", i);
		j->id = xstrdup(id);
		j->seq = (size_t)i;
		j->arrive_ms = llround(t * 1000);
		gen_job(&g, o, j);
		for (size_t k = 0; k < j->n_groups; k++)
			w->allocs += (uint64_t)j->groups[k].count;
	}
}

struct weighted {
	int64_t v;
	uint64_t w;
};

static int cmp_weighted(const void *x, const void *y)
{
	const struct weighted *a = x, *b = y;
	return (a->v > b->v) - (a->v < b->v);
}

static int64_t weighted_median(struct weighted *x, size_t n, uint64_t total)
{
	uint64_t acc = 0;
	qsort(x, n, sizeof(*x), cmp_weighted);
	for (size_t i = 0; i < n; i++)
		if ((acc += x[i].w) * 2 >= total)
			return x[i].v;
	return 0;
}

/* The median ask of all the allocations the workload asks for, cpu and
 * memory each on its own: the fragmentation metrics measure free room
 * against it. */
static void workload_medians(struct workload *w)
{
	size_t n = 0;
	struct weighted *cpu, *mem;
	for (size_t i = 0; i < w->n; i++)
		n += w->jobs[i].n_groups;
	cpu = xcalloc(n, sizeof(*cpu));
	mem = xcalloc(n, sizeof(*mem));
	n = 0;
	for (size_t i = 0; i < w->n; i++)
		for (size_t k = 0; k < w->jobs[i].n_groups; k++, n++) {
			const struct wl_group *g = &w->jobs[i].groups[k];
			cpu[n] = (struct weighted){g->cpu, (uint64_t)g->count};
			mem[n] = (struct weighted){g->mem, (uint64_t)g->count};
		}
	w->median_cpu = weighted_median(cpu, n, w->allocs);
	w->median_mem = weighted_median(mem, n, w->allocs);
	free(cpu);
	free(mem);
}

static void workload_free(struct workload *w)
{
	for (size_t i = 0; i < w->n; i++) {
		for (size_t k = 0; k < w->jobs[i].n_groups; k++) {
			free(w->jobs[i].groups[k].name);
			free(w->jobs[i].groups[k].spread);
		}
		free(w->jobs[i].groups);
		free(w->jobs[i].id);
	}
	free(w->jobs);
	memset(w, 0, sizeof(*w));
}

/* ------------------------------------------------------------------ */
/* The cluster and one run over it                                      */

struct node {
	char id[NOMAD_UUID_LEN + 1], name[24], class[24];
	nomad_node *node;          /* as a client would register it */
	nomad_sched_node view;     /* what the scheduler reads */
	int64_t used_cpu, used_mem;
	nomad_sched_usage **usage; /* its live allocations */
	size_t n_usage, cap_usage;
	uint64_t dirty;            /* the instant it last freed room */
};

/* What every allocation of one task group holds, shared by them all: the
 * scheduler reads it back when it stops one. */
struct group_res {
	Nomad__AllocatedResources ar;
	Nomad__AllocatedSharedResources shared;
	Nomad__AllocatedTaskResourcesEntry entry, *entries[1];
	Nomad__AllocatedTaskResources task;
	Nomad__AllocatedCpuResources cpu;
	Nomad__AllocatedMemoryResources mem;
};

/* One allocation, indexed three ways: on its node (node->usage), in its
 * job (run_job.allocs) and by ID (run.alloc_ids). */
struct sim_alloc {
	nomad_alloc a;             /* first: the job's list hands out &a */
	nomad_sched_usage u;       /* its entry in the node's usage */
	char id[NOMAD_UUID_LEN + 1];
	struct node *node;
	size_t at;                 /* its index in node->usage */
	size_t job, group;
	int64_t end_ms;            /* batch: when it completes */
	bool live;                 /* holds resources on its node */
};

static struct sim_alloc *alloc_of(const nomad_alloc *a)
{
	return (struct sim_alloc *)(void *)(uintptr_t)a;
}

static struct sim_alloc *alloc_of_usage(const nomad_sched_usage *u)
{
	return (struct sim_alloc *)(void *)((uintptr_t)u -
					    offsetof(struct sim_alloc, u));
}

enum job_state { JOB_PENDING, JOB_ACTIVE, JOB_DONE };

struct run_job {
	const struct wl_job *spec;
	enum job_state state;
	nomad_job *job;            /* built at arrival, freed when done */
	struct group_res *res;     /* per group */
	long *placed;              /* per group: allocations placed so far */
	nomad_alloc **allocs;      /* every allocation, terminal ones too */
	size_t n_allocs, cap_allocs;
	uint64_t unplaced, live;
	nomad_eval *blocked;       /* the scheduler's blocked evaluation */
	nomad_eval *next_blocked;  /* set during a call, swapped in after */
	bool waited, queued, all_placed;
	int64_t placed_all_ms, last_end_ms;
	size_t prev, next;         /* links in the queue of waiting jobs */
};

enum event_kind { EV_COMPLETE, EV_STOP };

struct event {
	int64_t t;
	uint64_t seq;              /* ties break in the order of pushing */
	enum event_kind kind;
	size_t job;
};

struct sample {
	int64_t t;
	double cpu, mem, scpu, smem; /* percent */
	uint64_t running, queued;
	int64_t empty;
};

struct counters {
	uint64_t evals, placed, failed, cancelled, rejected, anomalies;
	int64_t *latency;          /* ns per nomad_sched_process call */
	size_t n_latency, cap_latency;
};

struct run {
	const struct options *o;
	const struct workload *w;
	struct node *nodes;
	const nomad_sched_node **views;
	size_t n_nodes;
	struct run_job *jobs;
	struct map job_ids, alloc_ids;
	nomad_scheduler_config *config;
	nomad_sched *sched;
	uint64_t index, eval_seq, event_seq, instant;
	int64_t now_ms, end_ms;
	struct event *heap;
	size_t n_heap, cap_heap, next_arrival;
	size_t q_head, q_tail;     /* jobs waiting for room, FIFO */
	/* the cluster's totals, kept as usage changes */
	int64_t cap_cpu, cap_mem, used_cpu, used_mem, strand_cpu, strand_mem;
	int64_t empty;
	uint64_t running, queued_allocs;
	struct node **dirty;       /* nodes that freed room this instant */
	size_t n_dirty, cap_dirty;
	/* submit_plan's answer when it rejects nodes */
	Nomad__PlanResult result;
	char **rejected;
	Nomad__AllocationListEntry **committed;
	size_t n_rejected, cap_rejected, n_committed, cap_committed;
	struct sample *samples;
	size_t n_samples, cap_samples;
	int64_t next_sample_ms, interval_ms;
	bool samples_capped;
	struct counters c;
};

/* The cluster's totals: a node's share is taken out before its usage
 * changes and put back after, so that no sample has to walk the nodes. */
static void node_account(struct run *r, const struct node *n, int sign)
{
	int64_t free_cpu = n->view.cpu_mhz - n->used_cpu;
	int64_t free_mem = n->view.memory_mb - n->used_mem;
	r->used_cpu += sign * n->used_cpu;
	r->used_mem += sign * n->used_mem;
	if (!n->n_usage)
		r->empty += sign;
	if (free_cpu < r->w->median_cpu || free_mem < r->w->median_mem) {
		r->strand_cpu += sign * free_cpu;
		r->strand_mem += sign * free_mem;
	}
}

static void node_add(struct run *r, struct node *n, struct sim_alloc *sa)
{
	node_account(r, n, -1);
	GROW(n->usage, n->n_usage, n->cap_usage);
	sa->node = n;
	sa->at = n->n_usage;
	n->usage[n->n_usage++] = &sa->u;
	n->used_cpu += sa->u.cpu_mhz;
	n->used_mem += sa->u.memory_mb;
	node_account(r, n, 1);
	sa->live = true;
	r->running++;
}

/* Give an allocation's resources back to its node, which may now hold
 * what a waiting job asks for. */
static void node_release(struct run *r, struct sim_alloc *sa)
{
	struct node *n = sa->node;
	struct sim_alloc *last;
	node_account(r, n, -1);
	last = alloc_of_usage(n->usage[--n->n_usage]);
	n->usage[sa->at] = &last->u;
	last->at = sa->at;
	n->used_cpu -= sa->u.cpu_mhz;
	n->used_mem -= sa->u.memory_mb;
	node_account(r, n, 1);
	sa->live = false;
	r->running--;
	r->jobs[sa->job].live--;
	if (n->dirty != r->instant) {
		n->dirty = r->instant;
		GROW(r->dirty, r->n_dirty, r->cap_dirty);
		r->dirty[r->n_dirty++] = n;
	}
}

/* Node i's shape: round robin by weight (weights 3 and 1 give
 * a a a b a a a b ...). */
static const struct shape *shape_of(const struct options *o, size_t i)
{
	unsigned total = 0, at;
	for (size_t k = 0; k < o->n_shapes; k++)
		total += o->shapes[k].weight;
	at = (unsigned)(i % total);
	for (size_t k = 0; k < o->n_shapes; k++) {
		if (at < o->shapes[k].weight)
			return &o->shapes[k];
		at -= o->shapes[k].weight;
	}
	return &o->shapes[0];
}

static int node_init(struct run *r, size_t i)
{
	struct node *n = &r->nodes[i];
	const struct shape *s = shape_of(r->o, i);
	char meta[64] = "", json[512];
	nomad_error err;
	/* At most a million nodes: eight hex digits tell them apart. */
	snprintf(n->id, sizeof(n->id), "%08x-0000-4000-8000-000000000000",
		 (unsigned)i);
	snprintf(n->name, sizeof(n->name), "node-%u", (unsigned)i);
	snprintf(n->class, sizeof(n->class), "default");
	if (r->o->racks) {
		/* Racks in contiguous blocks, so that each holds the mix of
		 * shapes. Nodes alike but for their rack share a class. */
		size_t rack = i * (size_t)r->o->racks / r->n_nodes;
		snprintf(n->class, sizeof(n->class), "rack-%zu", rack);
		snprintf(meta, sizeof(meta), ",\"Meta\":{\"rack\":\"%s\"}",
			 n->class);
	}
	snprintf(json, sizeof(json),
		 "{\"ID\":\"%s\",\"Name\":\"%s\",\"Datacenter\":\"dc1\","
		 "\"Drivers\":{\"exec\":{\"Detected\":true,\"Healthy\":true}}%s}",
		 n->id, n->name, meta);
	if (nomad_node_from_json(&n->node, json, strlen(json), NULL, &err)) {
		fprintf(stderr, PROG ": node %s: %s\n", n->name, err.message);
		return -1;
	}
	n->view = (nomad_sched_node){
		.node = n->node, .id = n->id, .name = n->name,
		.datacenter = "dc1", .node_pool = "default", .node_class = "",
		.computed_class = n->class,
		.status = NOMAD__NODE__STATUS_KIND__ready, .eligible = true,
		.cpu_mhz = s->cpu, .memory_mb = s->mem, .disk_mb = NODE_DISK_MB};
	r->views[i] = &n->view;
	r->cap_cpu += s->cpu;
	r->cap_mem += s->mem;
	node_account(r, n, 1);
	return 0;
}

/* A node by ID. The IDs are made in node_init: their first eight hex
 * digits are the node's index, so the scheduler's many lookups need no
 * hashing. */
static struct node *node_find(const struct run *r, const char *id)
{
	unsigned long i;
	char *end;
	if (!id || strlen(id) != NOMAD_UUID_LEN)
		return NULL;
	i = strtoul(id, &end, 16);
	if (end != id + 8 || i >= r->n_nodes || strcmp(r->nodes[i].id, id))
		return NULL;
	return &r->nodes[i];
}

/* ---- events -------------------------------------------------------- */

static bool before(const struct event *a, const struct event *b)
{
	return a->t != b->t ? a->t < b->t : a->seq < b->seq;
}

static void heap_push(struct run *r, int64_t t, enum event_kind kind,
		      size_t job)
{
	size_t i;
	GROW(r->heap, r->n_heap, r->cap_heap);
	i = r->n_heap++;
	r->heap[i] = (struct event){t, r->event_seq++, kind, job};
	while (i && before(&r->heap[i], &r->heap[(i - 1) / 2])) {
		struct event tmp = r->heap[i];
		r->heap[i] = r->heap[(i - 1) / 2];
		r->heap[(i - 1) / 2] = tmp;
		i = (i - 1) / 2;
	}
}

static struct event heap_pop(struct run *r)
{
	struct event top = r->heap[0];
	size_t i = 0;
	r->heap[0] = r->heap[--r->n_heap];
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		struct event tmp;
		if (l < r->n_heap && before(&r->heap[l], &r->heap[m]))
			m = l;
		if (l + 1 < r->n_heap && before(&r->heap[l + 1], &r->heap[m]))
			m = l + 1;
		if (m == i)
			return top;
		tmp = r->heap[i];
		r->heap[i] = r->heap[m];
		r->heap[m] = tmp;
		i = m;
	}
}

/* ---- the queue of jobs waiting for room ---------------------------- */

static void queue_update(struct run *r, size_t ji)
{
	struct run_job *rj = &r->jobs[ji];
	bool want = rj->state == JOB_ACTIVE && rj->unplaced > 0;
	if (want && !rj->queued) {
		rj->prev = r->q_tail;
		rj->next = NONE;
		if (r->q_tail != NONE)
			r->jobs[r->q_tail].next = ji;
		else
			r->q_head = ji;
		r->q_tail = ji;
	} else if (!want && rj->queued) {
		if (rj->prev != NONE)
			r->jobs[rj->prev].next = rj->next;
		else
			r->q_head = rj->next;
		if (rj->next != NONE)
			r->jobs[rj->next].prev = rj->prev;
		else
			r->q_tail = rj->prev;
	}
	rj->queued = want;
}

/* ---- jobs ---------------------------------------------------------- */

/* Report a problem with a job where it came from: its trace line, or the
 * generator. */
static int job_error(const struct run *r, const struct wl_job *s,
		     const char *what)
{
	if (r->w->source)
		fprintf(stderr, "%s:%u: job %s: %s\n", r->w->source, s->line,
			s->id, what);
	else
		fprintf(stderr, PROG ": generated job %s: %s\n", s->id, what);
	return -1;
}

static void group_res_init(struct group_res *g, const nomad_task_group *tg)
{
	const nomad_task *t = tg->n_tasks ? tg->tasks[0] : NULL;
	const nomad_resources *res = t ? t->resources : NULL;
	nomad__allocated_resources__init(&g->ar);
	nomad__allocated_shared_resources__init(&g->shared);
	nomad__allocated_task_resources_entry__init(&g->entry);
	nomad__allocated_task_resources__init(&g->task);
	nomad__allocated_cpu_resources__init(&g->cpu);
	nomad__allocated_memory_resources__init(&g->mem);
	g->cpu.has_cpushares = 1;
	g->cpu.cpushares = res && res->has_cpu ? res->cpu : 0;
	g->mem.has_memorymb = 1;
	g->mem.memorymb = res && res->has_memorymb ? res->memorymb : 0;
	g->task.cpu = &g->cpu;
	g->task.memory = &g->mem;
	g->entry.key = t ? t->name : NULL;
	g->entry.value = &g->task;
	g->entries[0] = &g->entry;
	g->ar.tasks = g->entries;
	g->ar.n_tasks = 1;
	g->shared.has_diskmb = 1;
	g->shared.diskmb = tg->ephemeraldisk && tg->ephemeraldisk->has_sizemb
				   ? tg->ephemeraldisk->sizemb : 0;
	g->ar.shared = &g->shared;
}

/* The job as a user would submit it (JSON), with Nomad's defaults filled
 * in and checked as the server would at registration. */
static int job_build(struct run *r, struct run_job *rj)
{
	const struct wl_job *s = rj->spec;
	struct sbuf b = {0};
	nomad_error err;
	nomad_err rc;
	sb_printf(&b, "{\"ID\":\"%s\",\"Name\":\"%s\",\"Type\":\"%s\","
		  "\"Datacenters\":[\"dc1\"],\"TaskGroups\":[", s->id, s->id,
		  s->service ? "service" : "batch");
	for (size_t k = 0; k < s->n_groups; k++) {
		const struct wl_group *g = &s->groups[k];
		sb_printf(&b, "%s{\"Name\":\"%s\",\"Count\":%ld,", k ? "," : "",
			  g->name, g->count);
		if (g->spread)
			sb_printf(&b, "\"Spreads\":[{\"Attribute\":\"%s\","
				  "\"Weight\":100}],", g->spread);
		sb_printf(&b, "\"Tasks\":[{\"Name\":\"main\",\"Driver\":\"exec\","
			  "\"Resources\":{\"CPU\":%" PRId64 ",\"MemoryMB\":%"
			  PRId64 "}}]}", g->cpu, g->mem);
	}
	sb_printf(&b, "]}");
	rc = nomad_job_from_json(&rj->job, b.p, b.n, NULL, &err);
	if (rc == NOMAD_OK)
		rc = nomad_job_canonicalize(rj->job, &err);
	if (rc == NOMAD_OK)
		rc = nomad_job_validate(rj->job, NULL, &err);
	free(b.p);
	if (rc != NOMAD_OK)
		return job_error(r, s, err.message);
	if (rj->job->n_taskgroups != s->n_groups)
		return job_error(r, s, "the canonical job lost a group");
	rj->res = xcalloc(s->n_groups, sizeof(*rj->res));
	for (size_t k = 0; k < s->n_groups; k++)
		group_res_init(&rj->res[k], rj->job->taskgroups[k]);
	return 0;
}

/* A finished job lets go of everything but its figures. */
static void job_finish(struct run *r, size_t ji)
{
	struct run_job *rj = &r->jobs[ji];
	rj->state = JOB_DONE;
	queue_update(r, ji);
	for (size_t i = 0; i < rj->n_allocs; i++) {
		struct sim_alloc *sa = alloc_of(rj->allocs[i]);
		if (sa->live) { /* the scheduler left it running */
			r->c.anomalies++;
			node_release(r, sa);
		}
		map_del(&r->alloc_ids, sa->id);
		free(sa->a.name);
		free(sa);
	}
	free(rj->allocs);
	rj->allocs = NULL;
	rj->n_allocs = rj->cap_allocs = 0;
	nomad_job_free(rj->job);
	rj->job = NULL;
	free(rj->res);
	rj->res = NULL;
	free(rj->placed);
	rj->placed = NULL;
	nomad_eval_free(rj->blocked);
	nomad_eval_free(rj->next_blocked);
	rj->blocked = rj->next_blocked = NULL;
}

static size_t group_index(const struct run_job *rj, const char *name)
{
	for (size_t g = 0; name && g < rj->job->n_taskgroups; g++)
		if (!strcmp(rj->job->taskgroups[g]->name, name))
			return g;
	return NONE;
}

/* ---- the plan applier ---------------------------------------------- */

/* What an allocation in a plan holds. */
static void held(const nomad_alloc *a, int64_t *cpu, int64_t *mem,
		 int64_t *disk)
{
	const Nomad__AllocatedResources *ar = a->allocatedresources;
	*cpu = *mem = *disk = 0;
	for (size_t t = 0; ar && t < ar->n_tasks; t++) {
		const Nomad__AllocatedTaskResources *tr = ar->tasks[t]->value;
		if (!tr)
			continue;
		*cpu += tr->cpu ? tr->cpu->cpushares : 0;
		*mem += tr->memory ? tr->memory->memorymb : 0;
	}
	if (ar && ar->shared)
		*disk = ar->shared->diskmb;
}

/* The end of a placed allocation: a batch one completes, a service
 * job is stopped, duration_s after it started. */
static void schedule_end(struct run *r, size_t ji, struct sim_alloc *sa)
{
	struct run_job *rj = &r->jobs[ji];
	int64_t end = r->now_ms + rj->spec->duration_ms;
	if (rj->spec->service) {
		if (rj->n_allocs == 1) /* its first placement */
			heap_push(r, end, EV_STOP, ji);
		return;
	}
	sa->end_ms = end;
	if (rj->last_end_ms != end) /* one event per instant is enough */
		heap_push(r, end, EV_COMPLETE, ji);
	rj->last_end_ms = end;
}

/* The host's copy of a placement: what job_allocs and node_usage hand
 * the scheduler from now on. Strings are borrowed from the job and the
 * node, which outlive it. */
static struct sim_alloc *alloc_new(const struct run *r, struct run_job *rj,
				   size_t g, struct node *n,
				   const nomad_alloc *item)
{
	struct sim_alloc *sa = xcalloc(1, sizeof(*sa));
	int64_t cpu, mem, disk;
	held(item, &cpu, &mem, &disk);
	snprintf(sa->id, sizeof(sa->id), "%s", item->id);
	nomad__allocation__init(&sa->a);
	sa->a.id = sa->id;
	sa->a.namespace_ = rj->job->namespace_;
	sa->a.name = xstrdup(item->name ? item->name : "");
	sa->a.nodeid = n->id;
	sa->a.nodename = n->name;
	sa->a.jobid = rj->job->id;
	sa->a.taskgroup = rj->job->taskgroups[g]->name;
	sa->a.allocatedresources = &rj->res[g].ar;
	sa->a.has_desiredstatus = sa->a.has_clientstatus = 1;
	sa->a.desiredstatus = NOMAD__ALLOCATION__DESIRED_STATUS_KIND__run;
	sa->a.clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__running;
	sa->a.has_jobversion = sa->a.has_createindex = sa->a.has_createtime = 1;
	sa->a.jobversion = item->jobversion;
	sa->a.createindex = r->index;
	sa->a.createtime = EPOCH_NS + r->now_ms * 1000000;
	sa->u = (nomad_sched_usage){
		.alloc_id = sa->id, .ns = sa->a.namespace_, .job_id = sa->a.jobid,
		.task_group = sa->a.taskgroup, .job_priority = rj->job->priority,
		.cpu_mhz = cpu, .memory_mb = mem, .disk_mb = disk,
		.create_index = r->index, .job_type = rj->job->type};
	sa->group = g;
	return sa;
}

static void place_alloc(struct run *r, struct node *n, const nomad_alloc *item)
{
	struct run_job *rj;
	struct sim_alloc *sa;
	uintptr_t ji;
	size_t g;
	if (!item->id || strlen(item->id) > NOMAD_UUID_LEN ||
	    !map_get(&r->job_ids, item->jobid, &ji) ||
	    r->jobs[ji].state != JOB_ACTIVE ||
	    (g = group_index(&r->jobs[ji], item->taskgroup)) == NONE) {
		r->c.anomalies++;
		return;
	}
	rj = &r->jobs[ji];
	sa = alloc_new(r, rj, g, n, item);
	sa->job = ji;
	node_add(r, n, sa);
	rj->live++;
	GROW(rj->allocs, rj->n_allocs, rj->cap_allocs);
	rj->allocs[rj->n_allocs++] = &sa->a;
	map_put(&r->alloc_ids, sa->id, (uintptr_t)sa);
	r->c.placed++;
	if (rj->placed[g]++ < rj->spec->groups[g].count) {
		rj->unplaced--;
		r->queued_allocs--;
		if (!rj->unplaced) {
			rj->all_placed = true;
			rj->placed_all_ms = r->now_ms;
		}
	} else {
		r->c.anomalies++; /* more than the group's count */
	}
	schedule_end(r, ji, sa);
}

static void stop_alloc(struct run *r, const nomad_alloc *item)
{
	struct sim_alloc *sa;
	uintptr_t p;
	if (!item->id || !map_get(&r->alloc_ids, item->id, &p)) {
		r->c.anomalies++;
		return;
	}
	sa = (struct sim_alloc *)p;
	sa->a.desiredstatus = NOMAD__ALLOCATION__DESIRED_STATUS_KIND__stop;
	if (sa->live) {
		/* The client would stop it and report it complete. */
		sa->a.clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__complete;
		node_release(r, sa);
	}
}

static void reject_node(struct run *r, char *id)
{
	GROW(r->rejected, r->n_rejected, r->cap_rejected);
	r->rejected[r->n_rejected++] = id;
	r->c.rejected++;
}

/* One node's placements, whole or not at all, as Nomad's plan applier:
 * the node must still hold them with what it already runs. */
static void commit_node(struct run *r, Nomad__AllocationListEntry *e)
{
	struct node *n = node_find(r, e->key);
	int64_t cpu = 0, mem = 0;
	uintptr_t ignored;
	if (!n) {
		reject_node(r, e->key ? e->key : (char *)"");
		return;
	}
	for (size_t k = 0; e->value && k < e->value->n_items; k++) {
		const nomad_alloc *a = e->value->items[k];
		int64_t c, m, d;
		if (a->id && map_get(&r->alloc_ids, a->id, &ignored))
			continue; /* an update of one it runs already */
		held(a, &c, &m, &d);
		cpu += c;
		mem += m;
	}
	if (n->used_cpu + cpu > n->view.cpu_mhz ||
	    n->used_mem + mem > n->view.memory_mb) {
		reject_node(r, n->id);
		return;
	}
	for (size_t k = 0; e->value && k < e->value->n_items; k++) {
		const nomad_alloc *a = e->value->items[k];
		if (!a->id || !map_get(&r->alloc_ids, a->id, &ignored))
			place_alloc(r, n, a);
	}
	GROW(r->committed, r->n_committed, r->cap_committed);
	r->committed[r->n_committed++] = e;
}

static nomad_err op_submit_plan(void *ud, const nomad_plan *plan,
				const nomad_plan_result **out)
{
	struct run *r = ud;
	r->index++;
	r->n_rejected = r->n_committed = 0;
	/* Stops first: they make room for the placements. */
	for (size_t i = 0; i < plan->n_nodeupdate; i++)
		for (size_t k = 0; plan->nodeupdate[i]->value &&
				   k < plan->nodeupdate[i]->value->n_items; k++)
			stop_alloc(r, plan->nodeupdate[i]->value->items[k]);
	for (size_t i = 0; i < plan->n_nodepreemptions; i++)
		for (size_t k = 0; plan->nodepreemptions[i]->value &&
				   k < plan->nodepreemptions[i]->value->n_items; k++)
			stop_alloc(r, plan->nodepreemptions[i]->value->items[k]);
	for (size_t i = 0; i < plan->n_nodeallocation; i++)
		commit_node(r, plan->nodeallocation[i]);
	if (!r->n_rejected) {
		*out = NULL; /* all of it was committed */
		return NOMAD_OK;
	}
	nomad__plan_result__init(&r->result);
	r->result.nodeupdate = plan->nodeupdate;
	r->result.n_nodeupdate = plan->n_nodeupdate;
	r->result.nodeallocation = r->committed;
	r->result.n_nodeallocation = r->n_committed;
	r->result.rejectednodes = r->rejected;
	r->result.n_rejectednodes = r->n_rejected;
	r->result.has_refreshindex = 1;
	r->result.refreshindex = r->index;
	*out = &r->result;
	return NOMAD_OK;
}

/* A blocked evaluation, new or back to waiting: the job keeps it to be
 * evaluated again when room frees up. It is swapped in once the call
 * that made it returns, as that call may still be reading the old one. */
static nomad_err keep_blocked(struct run *r, const nomad_eval *ev)
{
	uintptr_t ji;
	nomad_eval *copy = NULL;
	if (!ev->jobid || !map_get(&r->job_ids, ev->jobid, &ji)) {
		r->c.anomalies++;
		return NOMAD_OK;
	}
	if (nomad_eval_copy(&copy, ev) != NOMAD_OK)
		return NOMAD_ENOMEM;
	nomad_eval_free(r->jobs[ji].next_blocked);
	r->jobs[ji].next_blocked = copy;
	return NOMAD_OK;
}

static nomad_err op_update_eval(void *ud, const nomad_eval *ev)
{
	(void)ud, (void)ev; /* the outcome is read off the cluster instead */
	return NOMAD_OK;
}

static nomad_err op_create_eval(void *ud, const nomad_eval *ev)
{
	struct run *r = ud;
	if (ev->has_status &&
	    ev->status == NOMAD__EVALUATION__STATUS_KIND__blocked)
		return keep_blocked(r, ev);
	r->c.anomalies++; /* a follow-up: nothing here fails to reschedule */
	return NOMAD_OK;
}

static nomad_err op_reblock_eval(void *ud, const nomad_eval *ev)
{
	return keep_blocked(ud, ev);
}

/* ---- the state ops: the scheduler's window on the cluster ----------- */

static nomad_err op_begin(void *ud, uint64_t *index)
{
	*index = ((struct run *)ud)->index;
	return NOMAD_OK;
}

static nomad_err op_nodes(void *ud, const nomad_sched_node *const **out,
			  size_t *n)
{
	struct run *r = ud;
	*out = r->views;
	*n = r->n_nodes;
	return NOMAD_OK;
}

static nomad_err op_node_usage(void *ud, const char *node_id,
			       const nomad_sched_usage *const **out, size_t *n)
{
	struct node *node = node_find(ud, node_id);
	*out = node ? (const nomad_sched_usage *const *)node->usage : NULL;
	*n = node ? node->n_usage : 0;
	return NOMAD_OK;
}

static nomad_err op_job_allocs(void *ud, const char *ns, const char *job_id,
			       const nomad_alloc *const **out, size_t *n)
{
	struct run *r = ud;
	uintptr_t ji;
	(void)ns; /* one namespace */
	*out = NULL;
	*n = 0;
	if (map_get(&r->job_ids, job_id, &ji)) {
		*out = (const nomad_alloc *const *)r->jobs[ji].allocs;
		*n = r->jobs[ji].n_allocs;
	}
	return NOMAD_OK;
}

static nomad_err op_job(void *ud, const char *ns, const char *job_id,
			const nomad_job **out)
{
	struct run *r = ud;
	uintptr_t ji;
	(void)ns;
	*out = map_get(&r->job_ids, job_id, &ji) ? r->jobs[ji].job : NULL;
	return NOMAD_OK;
}

static nomad_err op_deployment(void *ud, const char *ns, const char *job_id,
			       const nomad_deployment **out)
{
	(void)ud, (void)ns, (void)job_id;
	*out = NULL;
	return NOMAD_OK;
}

static nomad_err op_config(void *ud, const nomad_scheduler_config **out)
{
	*out = ((struct run *)ud)->config;
	return NOMAD_OK;
}

static const nomad_sched_state_ops state_ops = {
	.version = NOMAD_SCHED_STATE_OPS_VERSION, .begin = op_begin,
	.nodes = op_nodes, .node_usage = op_node_usage,
	.job_allocs = op_job_allocs, .job = op_job,
	.latest_deployment = op_deployment, .config = op_config};

static const nomad_sched_planner_ops planner_ops = {
	.version = NOMAD_SCHED_PLANNER_OPS_VERSION,
	.submit_plan = op_submit_plan, .update_eval = op_update_eval,
	.create_eval = op_create_eval, .reblock_eval = op_reblock_eval};

/* ---- evaluations --------------------------------------------------- */

/* An evaluation made here (a job registered or stopped), with
 * deterministic IDs: they seed the scheduler's draws. */
struct fresh_eval {
	nomad_eval ev;
	char id[NOMAD_UUID_LEN + 1];
	char trigger[32];
};

static void eval_fresh(struct run *r, const struct run_job *rj,
		       struct fresh_eval *f, const char *trigger)
{
	nomad__evaluation__init(&f->ev);
	snprintf(f->id, sizeof(f->id), "00000000-0000-4000-8000-%012" PRIx64,
		 ++r->eval_seq);
	snprintf(f->trigger, sizeof(f->trigger), "%s", trigger);
	f->ev.id = f->id;
	f->ev.namespace_ = rj->job->namespace_;
	f->ev.jobid = rj->job->id;
	f->ev.triggeredby = f->trigger;
	f->ev.has_type = f->ev.has_priority = f->ev.has_status = 1;
	f->ev.type = rj->job->type;
	f->ev.priority = rj->job->priority;
	f->ev.status = NOMAD__EVALUATION__STATUS_KIND__pending;
	f->ev.has_createtime = 1;
	f->ev.createtime = EPOCH_NS + r->now_ms * 1000000;
}

/*
 * One call of the scheduler, timed: the only wall-clock read. Placements
 * the call did not make for the job's missing allocations count as
 * failed; the job waits in the queue while any are missing.
 */
static int evaluate(struct run *r, size_t ji, const nomad_eval *ev)
{
	struct run_job *rj = &r->jobs[ji];
	nomad_sched_input in = {ev, EPOCH_NS + r->now_ms * 1000000, r->o->seed};
	uint64_t missing = rj->job->stop ? 0 : rj->unplaced;
	uint64_t placed = r->c.placed;
	nomad_error err;
	int64_t t0 = nomad_clock_monotonic_ns(NULL);
	nomad_err rc = nomad_sched_process(r->sched, &in, &err);
	GROW(r->c.latency, r->c.n_latency, r->c.cap_latency);
	r->c.latency[r->c.n_latency++] = nomad_clock_monotonic_ns(NULL) - t0;
	r->c.evals++;
	if (rc != NOMAD_OK) {
		fprintf(stderr, PROG ": job %s: evaluation %s: %s: %s\n",
			rj->spec->id, ev->id, nomad_strerror(rc), err.message);
		return -1;
	}
	if (missing > r->c.placed - placed)
		r->c.failed += missing - (r->c.placed - placed);
	if (rj->next_blocked) {
		nomad_eval_free(rj->blocked);
		rj->blocked = rj->next_blocked;
		rj->next_blocked = NULL;
	}
	if (!rj->unplaced && rj->blocked) {
		nomad_eval_free(rj->blocked); /* nothing left to wait for */
		rj->blocked = NULL;
	}
	queue_update(r, ji);
	return 0;
}

static int job_arrive(struct run *r, size_t ji)
{
	struct run_job *rj = &r->jobs[ji];
	struct fresh_eval f;
	if (job_build(r, rj) < 0)
		return -1;
	rj->state = JOB_ACTIVE;
	rj->placed = xcalloc(rj->spec->n_groups, sizeof(*rj->placed));
	for (size_t g = 0; g < rj->spec->n_groups; g++)
		rj->unplaced += (uint64_t)rj->spec->groups[g].count;
	r->queued_allocs += rj->unplaced;
	eval_fresh(r, rj, &f, "job-register");
	if (evaluate(r, ji, &f.ev) < 0)
		return -1;
	rj->waited = rj->unplaced > 0;
	return 0;
}

/* A service job's time is up: deregister it (Nomad's `job stop`), and
 * let the scheduler stop its allocations. Those still waiting for room
 * are cancelled. */
static int job_stop(struct run *r, size_t ji)
{
	struct run_job *rj = &r->jobs[ji];
	struct fresh_eval f;
	rj->job->has_stop = rj->job->stop = 1;
	eval_fresh(r, rj, &f, "job-deregister");
	if (evaluate(r, ji, &f.ev) < 0)
		return -1;
	r->c.cancelled += rj->unplaced;
	r->queued_allocs -= rj->unplaced;
	rj->unplaced = 0;
	job_finish(r, ji);
	return 0;
}

/* A batch job's allocations whose time is up complete. */
static void job_complete(struct run *r, size_t ji)
{
	struct run_job *rj = &r->jobs[ji];
	for (size_t i = 0; i < rj->n_allocs; i++) {
		struct sim_alloc *sa = alloc_of(rj->allocs[i]);
		if (!sa->live || sa->end_ms > r->now_ms)
			continue;
		sa->a.clientstatus = NOMAD__ALLOCATION__CLIENT_STATUS_KIND__complete;
		node_release(r, sa);
	}
	if (!rj->unplaced && !rj->live)
		job_finish(r, ji);
}

/* Whether a waiting job has an allocation that fits on a node that freed
 * room in this instant: only then can evaluating it again place more. */
static bool fits_freed(const struct run *r, const struct run_job *rj,
		       int64_t max_cpu, int64_t max_mem)
{
	for (size_t g = 0; g < rj->spec->n_groups; g++) {
		const struct wl_group *grp = &rj->spec->groups[g];
		if (rj->placed[g] >= grp->count || grp->cpu > max_cpu ||
		    grp->mem > max_mem)
			continue;
		for (size_t d = 0; d < r->n_dirty; d++) {
			const struct node *n = r->dirty[d];
			if (n->view.cpu_mhz - n->used_cpu >= grp->cpu &&
			    n->view.memory_mb - n->used_mem >= grp->mem)
				return true;
		}
	}
	return false;
}

/*
 * Room freed up: evaluate the waiting jobs again, oldest first, with the
 * blocked evaluations the scheduler left them. Nomad's blocked-evals
 * tracker unblocks on any capacity change of a node class it could use;
 * this one asks the sharper question of fits_freed(), so that a queue of
 * jobs too large for the room freed costs nothing.
 */
static int retry_waiting(struct run *r)
{
	int64_t max_cpu = 0, max_mem = 0;
	size_t next;
	for (size_t d = 0; d < r->n_dirty; d++) {
		const struct node *n = r->dirty[d];
		if (n->view.cpu_mhz - n->used_cpu > max_cpu)
			max_cpu = n->view.cpu_mhz - n->used_cpu;
		if (n->view.memory_mb - n->used_mem > max_mem)
			max_mem = n->view.memory_mb - n->used_mem;
	}
	for (size_t ji = r->n_dirty ? r->q_head : NONE; ji != NONE; ji = next) {
		struct run_job *rj = &r->jobs[ji];
		struct fresh_eval f;
		next = rj->next;
		if (!fits_freed(r, rj, max_cpu, max_mem))
			continue;
		if (!rj->blocked) { /* the scheduler should have made one */
			r->c.anomalies++;
			eval_fresh(r, rj, &f, "queued-allocs");
		}
		if (evaluate(r, ji, rj->blocked ? rj->blocked : &f.ev) < 0)
			return -1;
	}
	r->n_dirty = 0;
	r->instant++;
	return 0;
}

/* ---- utilisation samples ------------------------------------------- */

static double pct(int64_t part, int64_t total)
{
	return total > 0 ? 100.0 * (double)part / (double)total : 0;
}

/* Samples at every interval before `t`: the state after every event up
 * to and including the sample's time. */
static void sample_until(struct run *r, int64_t t)
{
	while (r->next_sample_ms < t) {
		struct sample *s;
		if (r->n_samples == MAX_SAMPLES) {
			int64_t skip = (t - r->next_sample_ms + r->interval_ms - 1) /
				       r->interval_ms;
			r->next_sample_ms += skip * r->interval_ms;
			r->samples_capped = true;
			return;
		}
		GROW(r->samples, r->n_samples, r->cap_samples);
		s = &r->samples[r->n_samples++];
		s->t = r->next_sample_ms;
		s->cpu = pct(r->used_cpu, r->cap_cpu);
		s->mem = pct(r->used_mem, r->cap_mem);
		s->scpu = pct(r->strand_cpu, r->cap_cpu - r->used_cpu);
		s->smem = pct(r->strand_mem, r->cap_mem - r->used_mem);
		s->running = r->running;
		s->queued = r->queued_allocs;
		s->empty = r->empty;
		r->next_sample_ms += r->interval_ms;
	}
}

/* ---- the run ------------------------------------------------------- */

static int handle(struct run *r, const struct event *e)
{
	if (r->jobs[e->job].state != JOB_ACTIVE)
		return 0;
	if (e->kind == EV_STOP)
		return job_stop(r, e->job);
	job_complete(r, e->job);
	return 0;
}

/*
 * The event loop, in virtual time. At each instant: the events due
 * (completions, service stops), then the waiting jobs that the room
 * freed may now fit, then the jobs arriving, so that jobs that waited
 * get the room before newcomers.
 */
static int run_loop(struct run *r)
{
	const struct workload *w = r->w;
	for (;;) {
		bool have_event = r->n_heap > 0;
		bool have_arrival = r->next_arrival < w->n;
		int64_t t;
		if (!have_event && !have_arrival)
			break;
		t = !have_arrival ? r->heap[0].t
		    : !have_event ? w->jobs[r->next_arrival].arrive_ms
		    : r->heap[0].t < w->jobs[r->next_arrival].arrive_ms
			    ? r->heap[0].t : w->jobs[r->next_arrival].arrive_ms;
		sample_until(r, t);
		r->now_ms = r->end_ms = t;
		while (r->n_heap && r->heap[0].t == t) {
			struct event e = heap_pop(r);
			if (handle(r, &e) < 0)
				return -1;
		}
		if (retry_waiting(r) < 0)
			return -1;
		while (r->next_arrival < w->n &&
		       w->jobs[r->next_arrival].arrive_ms == t)
			if (job_arrive(r, r->next_arrival++) < 0)
				return -1;
	}
	sample_until(r, r->end_ms + 1);
	return 0;
}

static int run_init(struct run *r, const struct options *o,
		    const struct workload *w, enum algorithm alg)
{
	nomad_sched_config cfg = NOMAD_SCHED_CONFIG_INIT;
	nomad_error err;
	memset(r, 0, sizeof(*r));
	r->o = o;
	r->w = w;
	r->q_head = r->q_tail = NONE;
	r->instant = 1;
	r->n_nodes = (size_t)o->nodes;
	r->nodes = xcalloc(r->n_nodes, sizeof(*r->nodes));
	r->views = xcalloc(r->n_nodes, sizeof(*r->views));
	for (size_t i = 0; i < r->n_nodes; i++)
		if (node_init(r, i) < 0)
			return -1;
	r->jobs = xcalloc(w->n, sizeof(*r->jobs));
	for (size_t i = 0; i < w->n; i++) {
		r->jobs[i].spec = &w->jobs[i];
		r->jobs[i].prev = r->jobs[i].next = NONE;
		map_put(&r->job_ids, w->jobs[i].id, i);
	}
	/* The algorithm, as `nomad operator scheduler set-config` sets it. */
	if (!(r->config = nomad_scheduler_config_new())) {
		fprintf(stderr, PROG ": out of memory\n");
		return -1;
	}
	r->config->has_scheduleralgorithm = 1;
	r->config->scheduleralgorithm = alg == ALG_SPREAD
		? NOMAD__SCHEDULER_ALGORITHM__spread
		: NOMAD__SCHEDULER_ALGORITHM__binpack;
	cfg.state = &state_ops;
	cfg.state_userdata = r;
	cfg.planner = &planner_ops;
	cfg.planner_userdata = r;
	if (nomad_sched_new(&r->sched, &cfg, &err) != NOMAD_OK) {
		fprintf(stderr, PROG ": scheduler: %s\n", err.message);
		return -1;
	}
	r->interval_ms = llround(o->interval * 1000);
	if (r->interval_ms < 1)
		r->interval_ms = 1;
	r->next_sample_ms = w->jobs[0].arrive_ms / r->interval_ms * r->interval_ms;
	return 0;
}

static void run_free(struct run *r)
{
	for (size_t i = 0; r->jobs && i < r->w->n; i++)
		if (r->jobs[i].state == JOB_ACTIVE)
			job_finish(r, i);
	for (size_t i = 0; r->nodes && i < r->n_nodes; i++) {
		nomad_node_free(r->nodes[i].node);
		free(r->nodes[i].usage);
	}
	nomad_sched_free(r->sched);
	nomad_scheduler_config_free(r->config);
	map_free(&r->job_ids);
	map_free(&r->alloc_ids);
	free(r->nodes);
	free(r->views);
	free(r->jobs);
	free(r->heap);
	free(r->dirty);
	free(r->rejected);
	free(r->committed);
	free(r->samples);
	free(r->c.latency);
	memset(r, 0, sizeof(*r));
}

/* ------------------------------------------------------------------ */
/* Reports                                                              */

/* What one run came to; examples/README.md defines each figure. */
struct summary {
	double sim_s;
	uint64_t evals, placed, failed, never, cancelled, rejected, anomalies;
	uint64_t jobs, finished, waited, waiting_end;
	double wait_mean, wait_p50, wait_p99, wait_max;
	double cpu_mean, cpu_peak, mem_mean, mem_peak;
	double scpu_mean, smem_mean, empty_mean;
	double lat_p50, lat_p99, lat_max, sched_s;
};

/* A run's results, kept once the run itself is freed. */
struct result {
	const char *name;
	struct sample *samples;
	size_t n_samples;
	bool capped;
	struct summary s;
};

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

/* The nearest-rank percentile of sorted values. */
static double percentile(const double *v, size_t n, double p)
{
	size_t k = (size_t)ceil(p * (double)n);
	return n ? v[k ? k - 1 : 0] : 0;
}

static void summarise_waits(const struct run *r, struct summary *s)
{
	double *waits = xcalloc(r->w->n, sizeof(*waits)), sum = 0;
	size_t n = 0;
	for (size_t i = 0; i < r->w->n; i++) {
		const struct run_job *rj = &r->jobs[i];
		s->finished += rj->state == JOB_DONE;
		s->waited += rj->waited;
		if (rj->state == JOB_ACTIVE && rj->unplaced) {
			s->waiting_end++;
			s->never += rj->unplaced;
		}
		if (rj->waited && rj->all_placed) {
			waits[n] = (double)(rj->placed_all_ms -
					    rj->spec->arrive_ms) / 1000.0;
			sum += waits[n++];
		}
	}
	qsort(waits, n, sizeof(*waits), cmp_double);
	s->wait_mean = n ? sum / (double)n : 0;
	s->wait_p50 = percentile(waits, n, 0.50);
	s->wait_p99 = percentile(waits, n, 0.99);
	s->wait_max = n ? waits[n - 1] : 0;
	free(waits);
}

static void summarise_samples(const struct run *r, struct summary *s)
{
	for (size_t i = 0; i < r->n_samples; i++) {
		const struct sample *x = &r->samples[i];
		s->cpu_mean += x->cpu;
		s->mem_mean += x->mem;
		s->scpu_mean += x->scpu;
		s->smem_mean += x->smem;
		s->empty_mean += (double)x->empty;
		s->cpu_peak = x->cpu > s->cpu_peak ? x->cpu : s->cpu_peak;
		s->mem_peak = x->mem > s->mem_peak ? x->mem : s->mem_peak;
	}
	if (r->n_samples) {
		double n = (double)r->n_samples;
		s->cpu_mean /= n;
		s->mem_mean /= n;
		s->scpu_mean /= n;
		s->smem_mean /= n;
		s->empty_mean /= n;
	}
}

static void summarise(const struct run *r, struct summary *s)
{
	size_t n = r->c.n_latency;
	double *lat = xcalloc(n, sizeof(*lat));
	memset(s, 0, sizeof(*s));
	s->sim_s = (double)r->end_ms / 1000.0;
	s->evals = r->c.evals;
	s->placed = r->c.placed;
	s->failed = r->c.failed;
	s->cancelled = r->c.cancelled;
	s->rejected = r->c.rejected;
	s->anomalies = r->c.anomalies;
	s->jobs = r->w->n;
	summarise_waits(r, s);
	summarise_samples(r, s);
	for (size_t i = 0; i < n; i++) {
		lat[i] = (double)r->c.latency[i] / 1000.0;
		s->sched_s += lat[i] / 1e6;
	}
	qsort(lat, n, sizeof(*lat), cmp_double);
	s->lat_p50 = percentile(lat, n, 0.50);
	s->lat_p99 = percentile(lat, n, 0.99);
	s->lat_max = n ? lat[n - 1] : 0;
	free(lat);
}

static void print_header(FILE *out, const struct options *o,
			 const struct workload *w)
{
	fprintf(out, "cluster     %ld nodes:", o->nodes);
	for (size_t k = 0; k < o->n_shapes; k++) {
		size_t count = 0;
		for (size_t i = 0; i < (size_t)o->nodes; i++)
			count += shape_of(o, i) == &o->shapes[k];
		fprintf(out, "%s %zu x %" PRId64 " MHz/%" PRId64 " MB",
			k ? "," : "", count, o->shapes[k].cpu, o->shapes[k].mem);
	}
	if (o->racks)
		fprintf(out, "; %ld racks", o->racks);
	fprintf(out, "\nworkload    %zu jobs asking for %" PRIu64 " allocations, ",
		w->n, w->allocs);
	if (w->source)
		fprintf(out, "from %s (seed %" PRIu64 ")\n", w->source, o->seed);
	else
		fprintf(out, "generated with seed %" PRIu64 "\n", o->seed);
	fprintf(out, "median ask  %" PRId64 " MHz, %" PRId64 " MB\n",
		w->median_cpu, w->median_mem);
}

static void print_row(FILE *out, const struct result *res, size_t n_res,
		      size_t i, int decimals)
{
	bool timed = false;
	for (size_t k = 0; k < n_res; k++) {
		const struct sample *x = &res[k].samples[i];
		if (!timed && i < res[k].n_samples) {
			fprintf(out, "%10.*f", decimals, (double)x->t / 1000.0);
			timed = true;
		}
	}
	for (size_t k = 0; k < n_res; k++) {
		const struct sample *x = &res[k].samples[i];
		if (i >= res[k].n_samples)
			fprintf(out, "  %44s", ""); /* that run ended sooner */
		else
			fprintf(out, "  %7.1f%7.1f%8" PRIu64 "%7" PRId64
				"%7.1f%7.1f", x->cpu, x->mem, x->queued,
				x->empty, x->scpu, x->smem);
	}
	fputc('\n', out);
}

/* The utilisation table: about TABLE_ROWS evenly spaced samples, and the
 * last one; -csv has them all. */
static void print_series(FILE *out, const struct result *res, size_t n_res,
			 double interval)
{
	size_t n = 0, stride;
	int decimals = interval < 1 ? 3 : 0;
	for (size_t k = 0; k < n_res; k++)
		n = res[k].n_samples > n ? res[k].n_samples : n;
	stride = n > TABLE_ROWS ? (n + TABLE_ROWS - 1) / TABLE_ROWS : 1;
	fprintf(out, "\nutilisation, sampled every %g s", interval);
	if (stride > 1)
		fprintf(out, "; 1 sample in %zu shown, -csv FILE for all", stride);
	fprintf(out, "\n%10s", "");
	for (size_t k = 0; k < n_res; k++)
		fprintf(out, "  %-44s", res[k].name);
	fprintf(out, "\n%10s", "time_s");
	for (size_t k = 0; k < n_res; k++)
		fprintf(out, "     cpu%%   mem%%  queued  empty  scpu%%  smem%%");
	fputc('\n', out);
	for (size_t i = 0; i < n; i += stride)
		print_row(out, res, n_res, i, decimals);
	if (n && (n - 1) % stride)
		print_row(out, res, n_res, n - 1, decimals);
	for (size_t k = 0; k < n_res; k++)
		if (res[k].capped)
			fprintf(out, "(%s: sampling stopped after %d samples)\n",
				res[k].name, MAX_SAMPLES);
}

enum metric_fmt { M_COUNT, M_1, M_3 };

struct metric {
	const char *label;
	size_t off;
	enum metric_fmt fmt;
};

#define SUM(f) offsetof(struct summary, f)

static const struct metric metrics[] = {
	{"virtual time (s)", SUM(sim_s), M_1},
	{"evaluations", SUM(evals), M_COUNT},
	{"placements made", SUM(placed), M_COUNT},
	{"placements failed", SUM(failed), M_COUNT},
	{"allocations never placed", SUM(never), M_COUNT},
	{"allocations cancelled", SUM(cancelled), M_COUNT},
	{"plan nodes rejected", SUM(rejected), M_COUNT},
	{"jobs", SUM(jobs), M_COUNT},
	{"jobs finished", SUM(finished), M_COUNT},
	{"jobs that waited", SUM(waited), M_COUNT},
	{"jobs waiting at end", SUM(waiting_end), M_COUNT},
	{"wait mean (s)", SUM(wait_mean), M_1},
	{"wait p50 (s)", SUM(wait_p50), M_1},
	{"wait p99 (s)", SUM(wait_p99), M_1},
	{"wait max (s)", SUM(wait_max), M_1},
	{"cpu used mean (%)", SUM(cpu_mean), M_1},
	{"cpu used peak (%)", SUM(cpu_peak), M_1},
	{"memory used mean (%)", SUM(mem_mean), M_1},
	{"memory used peak (%)", SUM(mem_peak), M_1},
	{"stranded cpu mean (%)", SUM(scpu_mean), M_1},
	{"stranded memory mean (%)", SUM(smem_mean), M_1},
	{"empty nodes mean", SUM(empty_mean), M_1},
	{"host anomalies", SUM(anomalies), M_COUNT},
	{"latency p50 (us)", SUM(lat_p50), M_1},
	{"latency p99 (us)", SUM(lat_p99), M_1},
	{"latency max (us)", SUM(lat_max), M_1},
	{"time in scheduler (s)", SUM(sched_s), M_3},
};

static void print_summary(FILE *out, const struct result *res, size_t n_res)
{
	fprintf(out, "\n%-28s", "summary");
	for (size_t k = 0; k < n_res; k++)
		fprintf(out, " %14s", res[k].name);
	fputc('\n', out);
	for (size_t m = 0; m < sizeof(metrics) / sizeof(*metrics); m++) {
		fprintf(out, "  %-26s", metrics[m].label);
		for (size_t k = 0; k < n_res; k++) {
			const char *base = (const char *)&res[k].s + metrics[m].off;
			if (metrics[m].fmt == M_COUNT)
				fprintf(out, " %14" PRIu64,
					*(const uint64_t *)(const void *)base);
			else
				fprintf(out, " %14.*f",
					metrics[m].fmt == M_1 ? 1 : 3,
					*(const double *)(const void *)base);
		}
		fputc('\n', out);
	}
}

static void write_csv(FILE *f, const struct result *res)
{
	for (size_t i = 0; i < res->n_samples; i++) {
		const struct sample *x = &res->samples[i];
		fprintf(f, "%s,%.3f,%.2f,%.2f,%" PRIu64 ",%" PRIu64 ",%" PRId64
			",%.2f,%.2f\n", res->name, (double)x->t / 1000.0, x->cpu,
			x->mem, x->running, x->queued, x->empty, x->scpu,
			x->smem);
	}
}

/* ------------------------------------------------------------------ */

static int simulate(const struct options *o, const struct workload *w,
		    enum algorithm alg, struct result *res)
{
	struct run r;
	int rc = run_init(&r, o, w, alg);
	if (rc == 0)
		rc = run_loop(&r);
	if (rc == 0) {
		res->name = alg == ALG_SPREAD ? "spread" : "binpack";
		summarise(&r, &res->s);
		res->samples = r.samples; /* the report keeps them */
		res->n_samples = r.n_samples;
		res->capped = r.samples_capped;
		r.samples = NULL;
	}
	run_free(&r);
	return rc;
}

int main(int argc, char **argv)
{
	struct options o;
	struct workload w = {0};
	struct result res[2] = {{0}};
	enum algorithm algs[2] = {ALG_BINPACK, ALG_SPREAD};
	size_t n_res;
	FILE *csv = NULL, *out = stdout;
	int rc, status = 1;
	options_init(&o);
	if ((rc = parse_flags(&o, argc, argv)) != 0)
		return rc > 0 ? 0 : 2;
	if (o.trace) {
		if (trace_load(&w, o.trace) < 0)
			goto done;
	} else {
		generate(&w, &o);
	}
	workload_medians(&w);
	if (o.csv && !strcmp(o.csv, "-")) {
		csv = stdout;
		out = stderr;
	} else if (o.csv && !(csv = fopen(o.csv, "w"))) {
		fprintf(stderr, PROG ": %s: %s\n", o.csv, strerror(errno));
		goto done;
	}
	if (o.algorithm != ALG_BOTH)
		algs[0] = (enum algorithm)o.algorithm;
	n_res = o.algorithm == ALG_BOTH ? 2 : 1;
	print_header(out, &o, &w);
	for (size_t k = 0; k < n_res; k++)
		if (simulate(&o, &w, algs[k], &res[k]) < 0)
			goto done;
	print_series(out, res, n_res, o.interval);
	print_summary(out, res, n_res);
	if (csv) {
		fprintf(csv, "algorithm,time_s,cpu_pct,mem_pct,running_allocs,"
			"queued_allocs,empty_nodes,stranded_cpu_pct,"
			"stranded_mem_pct\n");
		for (size_t k = 0; k < n_res; k++)
			write_csv(csv, &res[k]);
	}
	status = 0;
done:
	if (csv && csv != stdout && fclose(csv) != 0 && status == 0) {
		fprintf(stderr, PROG ": %s: %s\n", o.csv, strerror(errno));
		status = 1;
	}
	for (size_t k = 0; k < 2; k++)
		free(res[k].samples);
	workload_free(&w);
	return status;
}
