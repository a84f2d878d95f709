/* SPDX-License-Identifier: MPL-2.0 */
/*
 * simulate: the workload, the jobs as the trace or the generator describe
 * them. A CSV trace is read and checked line by line (an error names the
 * file, line and field); the generator draws jobs from the library's
 * seeded RNG. Both end with the jobs in order of arrival and the median
 * ask the fragmentation figures measure against.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "simulate.h"

#define MAX_LINE 4096          /* longest trace line */
#define MAX_NAME 128           /* job and group names */

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

int trace_load(struct workload *w, const char *path)
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

void generate(struct workload *w, const struct options *o)
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
void workload_medians(struct workload *w)
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

void workload_free(struct workload *w)
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
