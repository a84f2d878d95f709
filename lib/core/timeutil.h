/* SPDX-License-Identifier: MPL-2.0 */
/*
 * Time text in the forms Nomad uses: RFC 3339 timestamps (Go's
 * time.RFC3339Nano) and Go duration strings ("1h30m", "250ms").
 * Pure functions: no time zone database, no locale, no clock.
 */
#ifndef NMD_CORE_TIMEUTIL_H
#define NMD_CORE_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Days from 1970-01-01 to the given proleptic Gregorian date. */
int64_t nmd_days_from_civil(int64_t year, unsigned int month, unsigned int day);
void nmd_civil_from_days(int64_t days, int64_t *year, unsigned int *month,
			 unsigned int *day);

/* Parse "2006-01-02T15:04:05[.frac](Z|+hh:mm|-hh:mm)" (a lowercase t/z and a
 * space for T are accepted) into UTC seconds and nanoseconds. Years 0000 to
 * 9999. Fractions beyond nanoseconds are truncated. */
bool nmd_rfc3339_parse(const char *s, size_t len, int64_t *sec, int32_t *nsec);

/* Format in UTC as Go's RFC3339Nano: "2006-01-02T15:04:05.999999999Z" with
 * trailing fractional zeros removed (no fraction when it is zero).
 * Returns the length (as snprintf); 40 bytes always suffice. */
size_t nmd_rfc3339_format(int64_t sec, int32_t nsec, char *buf, size_t cap);

/* Parse a Go duration ("300ms", "-1.5h", "2h45m", "1us", "1µs", "0") into
 * nanoseconds. False on bad syntax, unknown units or overflow. */
bool nmd_duration_parse(const char *s, size_t len, int64_t *ns);

/* Format as Go's Duration.String() ("1h0m0s", "1.5s", "100ms", "0s").
 * Returns the length (as snprintf); 32 bytes always suffice. */
size_t nmd_duration_format(int64_t ns, char *buf, size_t cap);

#endif
