/*
 * timeutil.h - UTC time in microseconds, RFC 3339 text form.
 *
 * onair keeps wall-clock instants as int64_t microseconds since the Unix
 * epoch (UTC, leap seconds ignored as POSIX does). That covers years
 * 0001..9999 without overflow. Durations are int64_t microseconds too.
 */
#ifndef ONAIR_TIMEUTIL_H
#define ONAIR_TIMEUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define USEC_PER_SEC INT64_C(1000000)
#define USEC_PER_MSEC INT64_C(1000)

/* Longest text time_format_rfc3339 writes, with its NUL. */
#define TIME_RFC3339_MAX 32

/* Earliest and latest instants accepted (0001-01-01 .. 9999-12-31T23:59:59.999999Z). */
#define TIME_MIN_US INT64_C(-62135596800000000)
#define TIME_MAX_US INT64_C(253402300799999999)

/* Wall clock now (CLOCK_REALTIME), microseconds since the epoch. */
int64_t time_now_us(void);
/* Monotonic clock (CLOCK_MONOTONIC) in microseconds, for intervals. */
int64_t time_mono_us(void);

/*
 * Write t as RFC 3339 in UTC ("2026-11-28T01:02:03Z", with ".123" or
 * ".123456" when the fraction is not zero) into out (size >=
 * TIME_RFC3339_MAX). Returns the length, or -ERANGE if t is outside
 * TIME_MIN_US..TIME_MAX_US, or -ENOSPC if size is too small.
 */
int time_format_rfc3339(int64_t t, char *out, size_t size);

/*
 * Parse an RFC 3339 date-time ("2026-11-28T01:02:03.5+01:00", 'T' or 't'
 * or ' ' as separator, 'Z'/'z' or a numeric offset; at most 9 fraction
 * digits, rounded down to microseconds). The whole string must match.
 * Returns 0 and sets *out, or -EINVAL for text that is not a valid
 * date-time (including Feb 30, hour 24, second 60), -ERANGE outside the
 * supported years.
 */
int time_parse_rfc3339(const char *s, int64_t *out);

/* a / b rounded toward minus infinity (b > 0). */
int64_t time_floor_div(int64_t a, int64_t b);
/* a mod b in [0, b) (b > 0). */
int64_t time_floor_mod(int64_t a, int64_t b);
/* Is y a leap year in the proleptic Gregorian calendar? */
bool time_is_leap_year(int64_t y);
/* Days in month m (1..12) of year y. */
unsigned time_days_in_month(int64_t y, unsigned m);
/* Day of the week of a day number (days since 1970-01-01): 0 = Monday .. 6 = Sunday. */
unsigned time_weekday(int64_t days);

/* Days since 1970-01-01 of a proleptic Gregorian civil date. */
int64_t time_days_from_civil(int64_t y, unsigned m, unsigned d);
/* Inverse of time_days_from_civil. */
void time_civil_from_days(int64_t days, int64_t *y, unsigned *m, unsigned *d);

#include "common/banned.h"
#endif
