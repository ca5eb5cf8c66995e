#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/timeutil.h"

static int64_t parse_ok(const char *s)
{
	int64_t t = 0;
	int r = time_parse_rfc3339(s, &t);
	if (r != 0)
		fail_msg("'%s' did not parse: %d", s, r);
	return t;
}

static void test_epoch_and_known_instants(void **state)
{
	assert_int_equal(parse_ok("1970-01-01T00:00:00Z"), 0);
	/* date -u -d 2026-11-28T01:02:03Z +%s */
	assert_int_equal(parse_ok("2026-11-28T01:02:03Z"), INT64_C(1795827723) * USEC_PER_SEC);
	assert_int_equal(parse_ok("2026-11-28T02:02:03+01:00"), INT64_C(1795827723) * USEC_PER_SEC);
	assert_int_equal(parse_ok("2026-11-27T20:32:03-04:30"), INT64_C(1795827723) * USEC_PER_SEC);
	assert_int_equal(parse_ok("1969-12-31T23:59:59.5Z"), -500000);
	assert_int_equal(parse_ok("2000-02-29t12:00:00.123456789z"),
			 INT64_C(951825600) * USEC_PER_SEC + 123456);
}

static void test_matches_libc(void **state)
{
	/* Every day over several centuries agrees with timegm/gmtime_r. */
	for (int64_t days = -200000; days < 200000; days += 37) {
		time_t secs = (time_t)(days * 86400 + 3723);
		struct tm tm;
		gmtime_r(&secs, &tm);
		char want[64];
		strftime(want, sizeof(want), "%Y-%m-%dT%H:%M:%SZ", &tm);
		char got[TIME_RFC3339_MAX];
		assert_true(time_format_rfc3339((int64_t)secs * USEC_PER_SEC, got, sizeof(got)) > 0);
		assert_string_equal(got, want);
		assert_int_equal(parse_ok(want), (int64_t)secs * USEC_PER_SEC);
	}
}

static void test_round_trip_fractions(void **state)
{
	const int64_t samples[] = { 0, 1, 999, 1000, 123456, 999999, -1, -999999, -1000000,
				    TIME_MIN_US, TIME_MAX_US, INT64_C(1795827723123000) };
	for (size_t i = 0; i < sizeof(samples) / sizeof(samples[0]); i++) {
		char s[TIME_RFC3339_MAX];
		assert_true(time_format_rfc3339(samples[i], s, sizeof(s)) > 0);
		assert_int_equal(parse_ok(s), samples[i]);
	}
	char s[TIME_RFC3339_MAX];
	time_format_rfc3339(1500, s, sizeof(s));
	assert_string_equal(s, "1970-01-01T00:00:00.001500Z");
	time_format_rfc3339(2000, s, sizeof(s));
	assert_string_equal(s, "1970-01-01T00:00:00.002Z");
}

static void test_rejects_invalid(void **state)
{
	const char *bad[] = {
		"", "2026-11-28", "2026-11-28T01:02:03", "2026-11-28T01:02:03ZZ",
		"2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "2026-04-31T00:00:00Z",
		"2026-11-28T24:00:00Z", "2026-11-28T23:60:00Z", "2026-11-28T23:59:60Z",
		"2026-11-28T01:02:03.Z", "2026-11-28T01:02:03.1234567890Z",
		"2026-11-28T01:02:03+0100", "2026-11-28T01:02:03+24:00", "0000-01-01T00:00:00Z",
		"2026-1-28T01:02:03Z", "x026-11-28T01:02:03Z", "2026-11-28X01:02:03Z",
		"2026-11-28T01:02:03Z ", " 2026-11-28T01:02:03Z",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int64_t t = 42;
		int r = time_parse_rfc3339(bad[i], &t);
		if (r == 0)
			fail_msg("'%s' was accepted", bad[i]);
		assert_int_equal(t, 42);
	}
	int64_t t;
	assert_int_equal(time_parse_rfc3339("0001-01-01T00:00:00+00:01", &t), -ERANGE);
}

static void test_format_limits(void **state)
{
	char s[TIME_RFC3339_MAX];
	assert_int_equal(time_format_rfc3339(TIME_MAX_US + 1, s, sizeof(s)), -ERANGE);
	assert_int_equal(time_format_rfc3339(TIME_MIN_US - 1, s, sizeof(s)), -ERANGE);
	assert_int_equal(time_format_rfc3339(0, s, 10), -ENOSPC);
	assert_int_equal(time_format_rfc3339(TIME_MAX_US, s, sizeof(s)),
			 (int)strlen("9999-12-31T23:59:59.999999Z"));
}

static void test_clocks_move(void **state)
{
	int64_t a = time_mono_us();
	int64_t now = time_now_us();
	assert_true(now > INT64_C(1700000000) * USEC_PER_SEC);
	assert_true(time_mono_us() >= a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_epoch_and_known_instants),
		cmocka_unit_test(test_matches_libc),
		cmocka_unit_test(test_round_trip_fractions),
		cmocka_unit_test(test_rejects_invalid),
		cmocka_unit_test(test_format_limits),
		cmocka_unit_test(test_clocks_move),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
