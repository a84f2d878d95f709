/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Host ports (see ports.h). Dynamic ports are chosen as Nomad's network
 * index does: a few random probes of the range, which almost always
 * succeed on a node with free ports, then a precise pass over the free
 * ones when the range is crowded.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "sched/ports.h"

/* Random probes before counting the free ports (Nomad's
 * maxRandPortAttempts). */
#define RANDOM_PROBES 20

static int cmp_u16(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

static bool read_port(const char **p, long *out)
{
	char *end;
	while (**p == ' ')
		(*p)++;
	if (!isdigit((unsigned char)**p))
		return false;
	*out = strtol(*p, &end, 10);
	*p = end;
	while (**p == ' ')
		(*p)++;
	return *out >= 1 && *out <= 65535;
}

bool nmd_ports_parse(const char *spec, uint16_t **out, size_t *n)
{
	const char *p = spec;
	uint16_t *ports = NULL;
	size_t count = 0, cap = 0, kept = 0;
	*out = NULL;
	*n = 0;
	if (!spec || !*spec)
		return true;
	for (;;) {
		long lo, hi;
		if (!read_port(&p, &lo))
			goto bad;
		hi = lo;
		if (*p == '-') {
			p++;
			if (!read_port(&p, &hi) || hi < lo)
				goto bad;
		}
		if (count + (size_t)(hi - lo + 1) > cap) {
			size_t want = (count + (size_t)(hi - lo + 1)) * 2;
			uint16_t *grown = realloc(ports, want * sizeof(*ports));
			if (!grown)
				goto bad;
			ports = grown;
			cap = want;
		}
		for (long v = lo; v <= hi; v++)
			ports[count++] = (uint16_t)v;
		if (!*p)
			break;
		if (*p != ',')
			goto bad;
		p++;
	}
	qsort(ports, count, sizeof(*ports), cmp_u16);
	for (size_t i = 0; i < count; i++)
		if (!kept || ports[kept - 1] != ports[i])
			ports[kept++] = ports[i];
	*out = ports;
	*n = kept;
	return true;
bad:
	free(ports);
	return false;
}

bool nmd_ports_contains(const uint16_t *ports, size_t n, uint16_t port)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (ports[mid] < port)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && ports[lo] == port;
}

static bool taken(const uint16_t *used, size_t n_used, const uint16_t *chosen,
		  size_t n_chosen, uint16_t port)
{
	for (size_t i = 0; i < n_chosen; i++)
		if (chosen[i] == port)
			return true;
	return nmd_ports_contains(used, n_used, port);
}

bool nmd_ports_pick(const uint16_t *used, size_t n_used, int min, int max,
		    size_t want, const nomad_rng *rng, uint16_t *out)
{
	return nmd_ports_pick_more(used, n_used, min, max, 0, want, rng, out);
}

bool nmd_ports_pick_more(const uint16_t *used, size_t n_used, int min,
			 int max, size_t have, size_t want, const nomad_rng *rng,
			 uint16_t *out)
{
	size_t got = have;
	uint64_t span;
	want += have;
	if (min < 1)
		min = 1;
	if (max > 65535)
		max = 65535;
	if (max < min)
		return want == have;
	span = (uint64_t)(max - min + 1);
	for (int probe = 0; probe < RANDOM_PROBES && got < want; probe++) {
		uint16_t port = (uint16_t)(min + (int)nomad_rng_uniform(rng, span));
		if (!taken(used, n_used, out, got, port))
			out[got++] = port;
	}
	while (got < want) {
		/* Crowded: pick uniformly among the ports still free. */
		uint64_t free_ports = 0, nth;
		for (int p = min; p <= max; p++)
			free_ports += !taken(used, n_used, out, got, (uint16_t)p);
		if (!free_ports)
			return false;
		nth = nomad_rng_uniform(rng, free_ports);
		for (int p = min; p <= max; p++) {
			if (taken(used, n_used, out, got, (uint16_t)p))
				continue;
			if (nth-- == 0) {
				out[got++] = (uint16_t)p;
				break;
			}
		}
	}
	return true;
}
