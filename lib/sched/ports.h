/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Host ports for placements (ports.c): a node's reserved port list, and
 * choosing dynamic ports that no allocation on the node holds.
 */
#ifndef NMD_SCHED_PORTS_H
#define NMD_SCHED_PORTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nomad/core.h>

/* Nomad's default dynamic port range. */
#define NMD_PORT_DYNAMIC_MIN 20000
#define NMD_PORT_DYNAMIC_MAX 32000

/* Parse a port list as Nomad's ReservedHostPorts ("22,80,8000-8100"),
 * appending the ports in ascending order without repeats to a newly
 * allocated *out (free()). An empty or NULL spec is an empty list. False
 * for a malformed spec (a port outside 1-65535, a range backwards, stray
 * text), with *out NULL. */
bool nmd_ports_parse(const char *spec, uint16_t **out, size_t *n);

/* Whether sorted `ports` holds `port`. */
bool nmd_ports_contains(const uint16_t *ports, size_t n, uint16_t port);

/* Choose `want` distinct ports in [min, max] that neither sorted `used`
 * nor the ports already chosen hold: first by random probes, as Nomad
 * does, then, when the range is crowded, uniformly among the free ones.
 * False when fewer than `want` are free. */
bool nmd_ports_pick(const uint16_t *used, size_t n_used, int min, int max,
		    size_t want, const nomad_rng *rng, uint16_t *out);
/* The same, with out[0, have) already taken (the group's own static
 * ports): the `want` new ones go to out[have, have + want). */
bool nmd_ports_pick_more(const uint16_t *used, size_t n_used, int min,
			 int max, size_t have, size_t want, const nomad_rng *rng,
			 uint16_t *out);

/* The most ports, static and dynamic, one placement may ask for. */
#define NMD_MAX_PORTS 128

#endif
