/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Host ports: reserved port lists as Nomad writes them, and dynamic
 * ports that never collide, chosen deterministically for a seed, also
 * when the range is nearly full.
 */
#include <stdlib.h>

#include "test.h"
#include "sched/ports.h"

NMD_TEST(test_sched_ports__parse_lists_and_ranges)
{
	uint16_t *p;
	size_t n;
	CHECK(nmd_ports_parse("22,80,8000-8003, 443 ,80", &p, &n));
	CHECK_INT(n, 7);
	CHECK_INT(p[0], 22);
	CHECK_INT(p[1], 80);
	CHECK_INT(p[2], 443);
	CHECK_INT(p[3], 8000);
	CHECK_INT(p[6], 8003);
	CHECK(nmd_ports_contains(p, n, 8002));
	CHECK(!nmd_ports_contains(p, n, 8004));
	CHECK(!nmd_ports_contains(p, n, 1));
	free(p);
	CHECK(nmd_ports_parse("", &p, &n));
	CHECK_INT(n, 0);
	CHECK(nmd_ports_parse(NULL, &p, &n));
	CHECK_INT(n, 0);
	CHECK(nmd_ports_parse("65535", &p, &n));
	CHECK_INT(p[0], 65535);
	free(p);
}

NMD_TEST(test_sched_ports__parse_refuses_malformed)
{
	static const char *const bad[] = {"0", "65536", "80-22", "80,", ",80",
					  "80;81", "http", "80-", "-80",
					  "1-2-3", "99999999999999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		uint16_t *p = (uint16_t *)1;
		size_t n = 9;
		if (nmd_ports_parse(bad[i], &p, &n))
			nmd_test_fail(__FILE__, __LINE__, "\"%s\" was accepted", bad[i]);
		CHECK(p == NULL);
		CHECK_INT(n, 0);
	}
}

static void seeded(nomad_rng *rng, nomad_rng_seeded *st, uint64_t seed)
{
	nomad_rng_init_seeded(rng, st, seed);
}

NMD_TEST(test_sched_ports__pick_avoids_used_and_repeats)
{
	uint16_t used[] = {20000, 20001, 20002, 20005};
	uint16_t out[8];
	nomad_rng rng;
	nomad_rng_seeded st;
	seeded(&rng, &st, 7);
	/* A range of 8 with 4 used: exactly 4 free, all of them chosen. */
	CHECK(nmd_ports_pick(used, 4, 20000, 20007, 4, &rng, out));
	for (int i = 0; i < 4; i++) {
		CHECK(!nmd_ports_contains(used, 4, out[i]));
		CHECK(out[i] >= 20000 && out[i] <= 20007);
		for (int j = 0; j < i; j++)
			CHECK(out[i] != out[j]);
	}
	/* One more than is free: refused. */
	CHECK(!nmd_ports_pick(used, 4, 20000, 20007, 5, &rng, out));
	/* A backwards range holds nothing. */
	CHECK(!nmd_ports_pick(NULL, 0, 30000, 20000, 1, &rng, out));
	CHECK(nmd_ports_pick(NULL, 0, 30000, 20000, 0, &rng, out));
}

NMD_TEST(test_sched_ports__pick_is_deterministic_for_a_seed)
{
	uint16_t a[3], b[3], c[3];
	nomad_rng r1, r2, r3;
	nomad_rng_seeded s1, s2, s3;
	seeded(&r1, &s1, 42);
	seeded(&r2, &s2, 42);
	seeded(&r3, &s3, 43);
	CHECK(nmd_ports_pick(NULL, 0, NMD_PORT_DYNAMIC_MIN, NMD_PORT_DYNAMIC_MAX,
			     3, &r1, a));
	CHECK(nmd_ports_pick(NULL, 0, NMD_PORT_DYNAMIC_MIN, NMD_PORT_DYNAMIC_MAX,
			     3, &r2, b));
	CHECK(nmd_ports_pick(NULL, 0, NMD_PORT_DYNAMIC_MIN, NMD_PORT_DYNAMIC_MAX,
			     3, &r3, c));
	CHECK(a[0] == b[0] && a[1] == b[1] && a[2] == b[2]);
	CHECK(a[0] != c[0] || a[1] != c[1] || a[2] != c[2]);
}

NMD_TEST(test_sched_ports__pick_finds_the_last_free_port)
{
	/* All of 20000-32000 used but one: random probes miss it, the
	 * precise pass finds it. */
	size_t n = 0;
	uint16_t *used = malloc(12001 * sizeof(*used)), out[1];
	nomad_rng rng;
	nomad_rng_seeded st;
	for (int p = 20000; p <= 32000; p++)
		if (p != 27777)
			used[n++] = (uint16_t)p;
	seeded(&rng, &st, 1);
	CHECK(nmd_ports_pick(used, n, 20000, 32000, 1, &rng, out));
	CHECK_INT(out[0], 27777);
	CHECK(!nmd_ports_pick(used, n, 20000, 32000, 2, &rng, out));
	free(used);
}
