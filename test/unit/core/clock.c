/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Unit tests for lib/core/clock.c: the system and custom clocks, the
 * seeded generator (fixed known-answer bytes, so every machine agrees),
 * uniform draws, and UUID generation and validation.
 */
#include <stdbool.h>

#include <nomad/core.h>

#include "test.h"

static int64_t fake_mono(void *ud)
{
	return *(int64_t *)ud;
}

static int64_t fake_wall(void *ud)
{
	return *(int64_t *)ud + 1;
}

/* Hands out 0x00, 0x01, 0x02, ... */
static void counting_fill(void *buf, size_t len, void *ud)
{
	unsigned char *p = buf, *next = ud;

	for (size_t i = 0; i < len; i++)
		p[i] = (*next)++;
}

NMD_TEST(test_core_clock__system_monotonic)
{
	int64_t prev = nomad_clock_monotonic_ns(NULL);

	CHECK(prev >= 0);
	for (int i = 0; i < 1000; i++) {
		int64_t t = nomad_clock_monotonic_ns(NULL);
		CHECK(t >= prev);
		prev = t;
	}
}

NMD_TEST(test_core_clock__system_wall)
{
	/* After 2020-01-01 and before 2200-01-01. */
	int64_t t = nomad_clock_wall_ns(NULL);

	CHECK(t > INT64_C(1577836800) * 1000000000);
	CHECK(t < INT64_C(7258118400) * 1000000000);
}

NMD_TEST(test_core_clock__custom)
{
	int64_t v = 42;
	nomad_clock c = {NOMAD_CLOCK_VERSION, fake_mono, fake_wall, &v};

	CHECK_INT(nomad_clock_monotonic_ns(&c), 42);
	CHECK_INT(nomad_clock_wall_ns(&c), 43);
	v = 1000;
	CHECK_INT(nomad_clock_monotonic_ns(&c), 1000);
}

NMD_TEST(test_core_clock__seeded_known_bytes)
{
	/* xoshiro256** seeded through splitmix64, first two outputs as
	 * little-endian bytes (computed independently). */
	static const unsigned char seed0[16] = {
		0xb4, 0xf2, 0x75, 0xcb, 0x36, 0x5f, 0xec, 0x99,
		0x2a, 0x45, 0x56, 0x49, 0x78, 0x1f, 0x6e, 0xbf};
	static const unsigned char seed42[16] = {
		0x16, 0xc7, 0x2e, 0x0c, 0x2e, 0x0b, 0x78, 0x15,
		0x7e, 0x3a, 0x11, 0x6d, 0x86, 0xd9, 0x04, 0x61};
	nomad_rng_seeded st;
	nomad_rng rng;
	unsigned char out[16];

	nomad_rng_init_seeded(&rng, &st, 0);
	CHECK_INT(rng.version, NOMAD_RNG_VERSION);
	nomad_rng_fill(&rng, out, sizeof(out));
	CHECK(memcmp(out, seed0, sizeof(out)) == 0);
	nomad_rng_init_seeded(&rng, &st, 42);
	nomad_rng_fill(&rng, out, sizeof(out));
	CHECK(memcmp(out, seed42, sizeof(out)) == 0);
}

NMD_TEST(test_core_clock__seeded_determinism)
{
	nomad_rng_seeded s1, s2, s3;
	nomad_rng r1, r2, r3;
	unsigned char a[1000], b[1000], c[1000];

	nomad_rng_init_seeded(&r1, &s1, 12345);
	nomad_rng_init_seeded(&r2, &s2, 12345);
	nomad_rng_init_seeded(&r3, &s3, 12346);
	nomad_rng_fill(&r1, a, sizeof(a));
	/* Odd-sized pieces still give the same stream per whole word. */
	nomad_rng_fill(&r2, b, 8);
	nomad_rng_fill(&r2, b + 8, sizeof(b) - 8);
	nomad_rng_fill(&r3, c, sizeof(c));
	CHECK(memcmp(a, b, sizeof(a)) == 0);
	CHECK(memcmp(a, c, sizeof(a)) != 0);
	nomad_rng_fill(&r1, a, 0); /* a no-op */
}

NMD_TEST(test_core_clock__system_fill)
{
	unsigned char a[32] = {0}, b[32] = {0}, zero[32] = {0};
	nomad_rng empty = {NOMAD_RNG_VERSION, NULL, NULL};

	nomad_rng_fill(NULL, a, sizeof(a));
	nomad_rng_fill(&empty, b, sizeof(b));
	/* 2^-256 odds of a false failure. */
	CHECK(memcmp(a, zero, sizeof(a)) != 0);
	CHECK(memcmp(a, b, sizeof(a)) != 0);
}

NMD_TEST(test_core_clock__uniform_bounds)
{
	nomad_rng_seeded st;
	nomad_rng rng;
	int seen[10] = {0};

	nomad_rng_init_seeded(&rng, &st, 7);
	CHECK_INT(nomad_rng_uniform(&rng, 0), 0);
	CHECK_INT(nomad_rng_uniform(&rng, 1), 0);
	for (int i = 0; i < 2000; i++) {
		uint64_t v = nomad_rng_uniform(&rng, 10);
		CHECK(v < 10);
		seen[v]++;
	}
	for (int i = 0; i < 10; i++)
		CHECK(seen[i] > 100); /* deterministic for this seed */
	for (int i = 0; i < 2000; i++) {
		CHECK(nomad_rng_uniform(&rng, 3) < 3);
		CHECK(nomad_rng_uniform(&rng, (UINT64_C(1) << 63) + 1) <=
		      (UINT64_C(1) << 63));
		CHECK(nomad_rng_uniform(NULL, 1000) < 1000);
	}
	CHECK(nomad_rng_uniform(&rng, UINT64_MAX) < UINT64_MAX);
}

NMD_TEST(test_core_clock__uniform_rejects_biased_draws)
{
	/* bound = 2^63 + 1: the low 2^63 - 1 values are rejected. A source
	 * of 0x00 0x01 ... gives 0x0706050403020100 first (rejected, it is
	 * small), then 0x0f0e0d0c0b0a0908 (rejected), ... until a word has
	 * its top bit set: bytes 0x80..0x87, the 17th word. */
	unsigned char next = 0;
	nomad_rng rng = {NOMAD_RNG_VERSION, counting_fill, &next};
	uint64_t bound = (UINT64_C(1) << 63) + 1;
	uint64_t v = nomad_rng_uniform(&rng, bound);

	CHECK_INT(next, 0x88);
	CHECK(v == UINT64_C(0x8786858483828180) % bound);
}

static bool uuid_shape(const char *u)
{
	if (strlen(u) != NOMAD_UUID_LEN)
		return false;
	for (int i = 0; i < NOMAD_UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		if (dash ? u[i] != '-' : !strchr("0123456789abcdef", u[i]))
			return false;
	}
	return u[14] == '4' && strchr("89ab", u[19]) != NULL;
}

NMD_TEST(test_core_clock__uuid_generate)
{
	nomad_rng_seeded st;
	nomad_rng rng;
	char a[NOMAD_UUID_LEN + 1], b[NOMAD_UUID_LEN + 1];

	nomad_rng_init_seeded(&rng, &st, 1);
	for (int i = 0; i < 500; i++) {
		nomad_uuid_generate(&rng, a);
		CHECK(uuid_shape(a));
		CHECK(nomad_uuid_valid(a));
		nomad_uuid_generate(&rng, b);
		CHECK(strcmp(a, b) != 0);
	}
	nomad_uuid_generate(NULL, a);
	CHECK(uuid_shape(a));
}

NMD_TEST(test_core_clock__uuid_bits)
{
	/* A counting source shows exactly which bits are forced: the
	 * version nibble of byte 6 and the variant bits of byte 8. */
	unsigned char next = 0;
	nomad_rng rng = {NOMAD_RNG_VERSION, counting_fill, &next};
	char u[NOMAD_UUID_LEN + 1];

	nomad_uuid_generate(&rng, u);
	CHECK_STR(u, "00010203-0405-4607-8809-0a0b0c0d0e0f");
	next = 0xf0;
	nomad_uuid_generate(&rng, u);
	CHECK_STR(u, "f0f1f2f3-f4f5-46f7-b8f9-fafbfcfdfeff");
}

NMD_TEST(test_core_clock__uuid_seeded_repeatable)
{
	nomad_rng_seeded s1, s2;
	nomad_rng r1, r2;
	char a[NOMAD_UUID_LEN + 1], b[NOMAD_UUID_LEN + 1];

	nomad_rng_init_seeded(&r1, &s1, 99);
	nomad_rng_init_seeded(&r2, &s2, 99);
	nomad_uuid_generate(&r1, a);
	nomad_uuid_generate(&r2, b);
	CHECK_STR(a, b);
}

NMD_TEST(test_core_clock__uuid_valid)
{
	static const char *const good[] = {
		"00000000-0000-0000-0000-000000000000",
		"123e4567-e89b-12d3-a456-426614174000",
		"ABCDEF01-2345-6789-ABCD-EF0123456789",
		"aBcDeF01-2345-4789-8bcd-ef0123456789",
	};
	static const char *const bad[] = {
		"",
		"123e4567-e89b-12d3-a456-42661417400",   /* short */
		"123e4567-e89b-12d3-a456-4266141740000", /* long */
		"123e4567-e89b-12d3-a456-426614174000 ", /* trailing */
		"123e4567e89b-12d3-a456-4266141740000",  /* dash moved */
		"123e4567-e89b-12d3-a456_426614174000",
		"123e4567-e89b-12d3-a456-42661417400g",
		"g23e4567-e89b-12d3-a456-426614174000",
		"{123e4567-e89b-12d3-a456-426614174000}",
		"123e4567-e89b-12d3-a456-4266-4174000",
		"------------------------------------",
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK_INT(nomad_uuid_valid(good[i]), 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK_INT(nomad_uuid_valid(bad[i]), 0);
	CHECK_INT(nomad_uuid_valid(NULL), 0);
}
