/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Time and randomness as values: the system clocks and the system's random
 * generator stand behind a NULL nomad_clock / nomad_rng, and the seeded
 * xoshiro256** generator lets a simulation replay a run from its seed.
 * UUIDs are built on top of whichever random source the caller hands in.
 */
#include <stdbool.h>
#include <string.h>
#include <time.h>

#include <bsd/stdlib.h>

#include <nomad/core.h>

/* ------------------------------------------------------------------ */
/* Clocks                                                              */

static int64_t sys_ns(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (int64_t)ts.tv_sec * INT64_C(1000000000) + ts.tv_nsec;
}

int64_t nomad_clock_monotonic_ns(const nomad_clock *clock)
{
	if (clock && clock->monotonic_ns)
		return clock->monotonic_ns(clock->userdata);
	return sys_ns(CLOCK_MONOTONIC);
}

int64_t nomad_clock_wall_ns(const nomad_clock *clock)
{
	if (clock && clock->wall_ns)
		return clock->wall_ns(clock->userdata);
	return sys_ns(CLOCK_REALTIME);
}

/* ------------------------------------------------------------------ */
/* Seeded generator: xoshiro256** 1.0 (Blackman and Vigna, public domain) */

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t xoshiro_next(nomad_rng_seeded *st)
{
	uint64_t *s = st->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

/* splitmix64, the seeding the xoshiro authors recommend: it spreads any
 * seed (0 included) over the state, which must not be all zero. */
static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));

	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

static void seeded_fill(void *buf, size_t len, void *userdata)
{
	unsigned char *p = buf;

	while (len > 0) {
		uint64_t v = xoshiro_next(userdata);
		/* Little-endian byte order, so every machine gets the same
		 * bytes; what is left of the last word is dropped. */
		for (int i = 0; i < 8 && len > 0; i++, len--) {
			*p++ = (unsigned char)v;
			v >>= 8;
		}
	}
}

void nomad_rng_init_seeded(nomad_rng *rng, nomad_rng_seeded *state,
			   uint64_t seed)
{
	if (!rng || !state)
		return;
	for (int i = 0; i < 4; i++)
		state->s[i] = splitmix64(&seed);
	rng->version = NOMAD_RNG_VERSION;
	rng->fill = seeded_fill;
	rng->userdata = state;
}

void nomad_rng_fill(const nomad_rng *rng, void *buf, size_t len)
{
	if (len == 0)
		return;
	if (rng && rng->fill)
		rng->fill(buf, len, rng->userdata);
	else
		arc4random_buf(buf, len);
}

static uint64_t rng_u64(const nomad_rng *rng)
{
	unsigned char b[8];
	uint64_t v = 0;

	nomad_rng_fill(rng, b, sizeof(b));
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | b[i];
	return v;
}

uint64_t nomad_rng_uniform(const nomad_rng *rng, uint64_t bound)
{
	uint64_t min, r;

	if (bound < 2)
		return 0;
	/* Reject the low 2^64 mod bound values so that what is left is a
	 * whole number of copies of [0, bound): no modulo bias. Fewer than
	 * half the draws are rejected whatever the bound. */
	min = ((uint64_t)0 - bound) % bound;
	do
		r = rng_u64(rng);
	while (r < min);
	return r % bound;
}

/* ------------------------------------------------------------------ */
/* UUIDs                                                               */

void nomad_uuid_generate(const nomad_rng *rng, char out[NOMAD_UUID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char b[16];
	size_t o = 0;

	nomad_rng_fill(rng, b, sizeof(b));
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40); /* version 4 */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80); /* variant 10xx */
	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[b[i] >> 4];
		out[o++] = hex[b[i] & 0x0f];
	}
	out[o] = '\0';
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	       (c >= 'A' && c <= 'F');
}

int nomad_uuid_valid(const char *s)
{
	if (!s)
		return 0;
	for (size_t i = 0; i < NOMAD_UUID_LEN; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;
		/* A NUL ends the loop here as a failure of either test. */
		if (dash ? s[i] != '-' : !is_hex(s[i]))
			return 0;
	}
	return s[NOMAD_UUID_LEN] == '\0';
}
