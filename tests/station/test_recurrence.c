/*
 * test_recurrence.c - show recurrence rules (src/station/recurrence.h).
 *
 * Zones come from tests/station/zoneinfo (see test_tz.c). Besides the
 * worked examples of docs/internals/recurrence.md, every frequency is
 * compared with a plain day-by-day reference over many rules and
 * windows.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "common/timeutil.h"
#include "station/recurrence.h"
#include "station/tz.h"

#define HOUR_US (INT64_C(3600) * USEC_PER_SEC)
#define DAY_US (24 * HOUR_US)

static char zoneinfo[4096];

static struct tz *load(const char *name)
{
	struct tz *tz = NULL;
	int r = tz_load(&tz, name, zoneinfo);
	if (r != 0)
		fail_msg("tz_load(%s): %d", name, r);
	return tz;
}

static int64_t utc(const char *rfc3339)
{
	int64_t t = 0;
	if (time_parse_rfc3339(rfc3339, &t) != 0)
		fail_msg("bad test instant %s", rfc3339);
	return t;
}

static struct recurrence rule(enum recurrence_frequency f, const char *start_date,
			      const char *start_time, int64_t duration_us, const char *zone)
{
	struct recurrence r = { .frequency = f, .repeat_every = 1, .duration_us = duration_us };
	snprintf(r.start_date, sizeof(r.start_date), "%.10s", start_date);
	snprintf(r.start_time, sizeof(r.start_time), "%.8s", start_time);
	snprintf(r.timezone, sizeof(r.timezone), "%.64s", zone);
	return r;
}

/* Expand r over [from, to) in its own zone; the rule must be valid. */
static void expand(const struct recurrence *r, int64_t from, int64_t to,
		   struct recurrence_instances *out)
{
	char err[256] = "";
	if (recurrence_validate(r, zoneinfo, err, sizeof(err)) != 0)
		fail_msg("rule not valid: %s", err);
	struct tz *zone = load(r->timezone);
	int ret = recurrence_expand(r, zone, from, to, out);
	tz_free(zone);
	if (ret != 0)
		fail_msg("recurrence_expand: %d", ret);
	for (size_t i = 1; i < out->n; i++)
		assert_true(out->items[i - 1].starts_at <= out->items[i].starts_at);
}

/* The instances' dates, comma-separated. */
static void dates_of(const struct recurrence_instances *in, char *out, size_t size)
{
	size_t len = 0;
	out[0] = '\0';
	for (size_t i = 0; i < in->n && len < size; i++) {
		int n = snprintf(out + len, size - len, "%s%s", i ? "," : "",
				 in->items[i].instance_date);
		assert_true(n > 0 && (size_t)n < size - len);
		len += (size_t)n;
	}
}

static void assert_dates(const struct recurrence *r, const char *from, const char *to,
			 const char *want)
{
	struct recurrence_instances out;
	expand(r, utc(from), utc(to), &out);
	char got[4096];
	dates_of(&out, got, sizeof(got));
	if (strcmp(got, want) != 0)
		fail_msg("got  %s\nwant %s", got, want);
	recurrence_instances_release(&out);
}

static void assert_local(const char *zone_name, int64_t t, const char *want)
{
	struct tz *zone = load(zone_name);
	struct tz_local lt;
	assert_int_equal(tz_utc_to_local(zone, t, &lt), 0);
	char got[64];
	snprintf(got, sizeof(got), "%04d-%02u-%02u %02u:%02u %s", (int)lt.year, lt.month, lt.day,
		 lt.hour, lt.minute, lt.abbr);
	if (strcmp(got, want) != 0)
		fail_msg("local time %s, want %s", got, want);
	tz_free(zone);
}

/* ------------------------------------------------------------ DST */

static void test_start_in_spring_forward_gap(void **state)
{
	/* Sundays 02:30 in Berlin; 2027-03-28 has no 02:30 (02:00 CET ->
	 * 03:00 CEST): that instance starts at 03:30 CEST = 01:30Z. */
	struct recurrence r = rule(RECURRENCE_WEEKLY, "2027-03-14", "02:30", HOUR_US,
				   "Europe/Berlin");
	r.weekdays = 1u << 6;
	struct recurrence_instances out;
	expand(&r, utc("2027-03-20T00:00:00Z"), utc("2027-04-10T00:00:00Z"), &out);
	assert_int_equal(out.n, 3);
	assert_string_equal(out.items[0].instance_date, "2027-03-21");
	assert_int_equal(out.items[0].starts_at, utc("2027-03-21T01:30:00Z"));
	assert_int_equal(out.items[0].flags, 0);
	assert_string_equal(out.items[1].instance_date, "2027-03-28");
	assert_int_equal(out.items[1].starts_at, utc("2027-03-28T01:30:00Z"));
	assert_int_equal(out.items[1].ends_at, utc("2027-03-28T02:30:00Z"));
	assert_int_equal(out.items[1].flags, RECURRENCE_INSTANCE_SHIFTED);
	assert_local("Europe/Berlin", out.items[1].starts_at, "2027-03-28 03:30 CEST");
	assert_string_equal(out.items[2].instance_date, "2027-04-04");
	assert_int_equal(out.items[2].starts_at, utc("2027-04-04T00:30:00Z"));
	recurrence_instances_release(&out);
}

static void test_start_in_fall_back_overlap(void **state)
{
	/* Sundays 01:30 in New York; on 2027-11-07 01:30 happens twice: the
	 * first one (EDT, 05:30Z) is taken. */
	struct recurrence r = rule(RECURRENCE_WEEKLY, "2027-10-31", "01:30", 2 * HOUR_US,
				   "America/New_York");
	r.weekdays = 1u << 6;
	struct recurrence_instances out;
	expand(&r, utc("2027-10-30T00:00:00Z"), utc("2027-11-15T00:00:00Z"), &out);
	assert_int_equal(out.n, 3);
	assert_int_equal(out.items[0].starts_at, utc("2027-10-31T05:30:00Z"));
	assert_string_equal(out.items[1].instance_date, "2027-11-07");
	assert_int_equal(out.items[1].starts_at, utc("2027-11-07T05:30:00Z"));
	assert_int_equal(out.items[1].flags, RECURRENCE_INSTANCE_AMBIGUOUS);
	assert_local("America/New_York", out.items[1].starts_at, "2027-11-07 01:30 EDT");
	/* Two hours of real time: it ends at 02:30 EST. */
	assert_int_equal(out.items[1].ends_at, utc("2027-11-07T07:30:00Z"));
	assert_local("America/New_York", out.items[1].ends_at, "2027-11-07 02:30 EST");
	assert_int_equal(out.items[2].starts_at, utc("2027-11-14T06:30:00Z"));
	recurrence_instances_release(&out);
}

static void test_show_spanning_the_change(void **state)
{
	/* 01:00 for three hours on both change days in Berlin: three hours
	 * of real time, so it ends at 05:00 CEST in spring and 03:00 CET in
	 * autumn. */
	struct recurrence r = rule(RECURRENCE_ONCE, "2027-03-28", "01:00", 3 * HOUR_US,
				   "Europe/Berlin");
	struct recurrence_instances out;
	expand(&r, utc("2027-01-01T00:00:00Z"), utc("2028-01-01T00:00:00Z"), &out);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.items[0].starts_at, utc("2027-03-28T00:00:00Z"));
	assert_int_equal(out.items[0].ends_at - out.items[0].starts_at, 3 * HOUR_US);
	assert_local("Europe/Berlin", out.items[0].ends_at, "2027-03-28 05:00 CEST");
	recurrence_instances_release(&out);

	r = rule(RECURRENCE_ONCE, "2027-10-31", "01:00", 3 * HOUR_US, "Europe/Berlin");
	expand(&r, utc("2027-01-01T00:00:00Z"), utc("2028-01-01T00:00:00Z"), &out);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.items[0].starts_at, utc("2027-10-30T23:00:00Z"));
	assert_int_equal(out.items[0].ends_at - out.items[0].starts_at, 3 * HOUR_US);
	assert_local("Europe/Berlin", out.items[0].ends_at, "2027-10-31 03:00 CET");
	recurrence_instances_release(&out);
}

static void test_day_long_show_on_short_and_long_days(void **state)
{
	/* Every day from midnight for 24 hours. On the 23-hour day it ends
	 * at 01:00 the next day (overlapping the next instance by an hour);
	 * on the 25-hour day at 23:00 (an hour before the next). */
	struct recurrence r = rule(RECURRENCE_WEEKLY, "2027-01-01", "00:00", 24 * HOUR_US,
				   "Europe/Berlin");
	r.weekdays = 0x7f;
	struct recurrence_instances out;
	expand(&r, utc("2027-03-27T22:00:00Z"), utc("2027-03-28T22:00:00Z"), &out);
	assert_int_equal(out.n, 1);
	assert_string_equal(out.items[0].instance_date, "2027-03-28");
	assert_int_equal(out.items[0].starts_at, utc("2027-03-27T23:00:00Z"));
	assert_int_equal(out.items[0].ends_at, utc("2027-03-28T23:00:00Z"));
	assert_local("Europe/Berlin", out.items[0].ends_at, "2027-03-29 01:00 CEST");
	recurrence_instances_release(&out);

	expand(&r, utc("2027-10-30T21:00:00Z"), utc("2027-10-31T22:00:00Z"), &out);
	assert_int_equal(out.n, 1);
	assert_string_equal(out.items[0].instance_date, "2027-10-31");
	assert_int_equal(out.items[0].starts_at, utc("2027-10-30T22:00:00Z"));
	assert_int_equal(out.items[0].ends_at, utc("2027-10-31T22:00:00Z"));
	assert_local("Europe/Berlin", out.items[0].ends_at, "2027-10-31 23:00 CET");
	recurrence_instances_release(&out);
}

static void test_local_time_kept_across_changes(void **state)
{
	/* Weekdays 07:00 in New York all year: always 07:00 local, 12:00Z
	 * in winter, 11:00Z in summer; far in the future too (footer). */
	struct recurrence r = rule(RECURRENCE_WEEKLY, "2027-01-04", "07:00", HOUR_US,
				   "America/New_York");
	r.weekdays = 0x1f;
	struct tz *zone = load("America/New_York");
	const char *windows[][2] = { { "2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z" },
				     { "2090-01-01T00:00:00Z", "2091-01-01T00:00:00Z" } };
	for (size_t w = 0; w < 2; w++) {
		struct recurrence_instances out;
		expand(&r, utc(windows[w][0]), utc(windows[w][1]), &out);
		assert_true(out.n >= 260 && out.n <= 262);
		size_t summer = 0;
		for (size_t i = 0; i < out.n; i++) {
			struct tz_local lt;
			assert_int_equal(tz_utc_to_local(zone, out.items[i].starts_at, &lt), 0);
			assert_int_equal(lt.hour, 7);
			assert_int_equal(lt.minute, 0);
			assert_true(lt.weekday < 5);
			summer += lt.is_dst;
		}
		assert_true(summer > 150 && summer < 190);
		recurrence_instances_release(&out);
	}
	tz_free(zone);
}

/* ------------------------------------------------------------ frequencies */

static void test_weekly_several_weekdays(void **state)
{
	/* Monday, Wednesday, Friday from Wednesday 2027-01-06: not Monday 4th. */
	struct recurrence r = rule(RECURRENCE_WEEKLY, "2027-01-06", "18:00", HOUR_US,
				   "Europe/Berlin");
	r.weekdays = 1u << 0 | 1u << 2 | 1u << 4;
	assert_dates(&r, "2027-01-01T00:00:00Z", "2027-01-18T00:00:00Z",
		     "2027-01-06,2027-01-08,2027-01-11,2027-01-13,2027-01-15");
	struct recurrence_instances out;
	expand(&r, utc("2027-01-04T00:00:00Z"), utc("2027-01-07T00:00:00Z"), &out);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.items[0].starts_at, utc("2027-01-06T17:00:00Z"));
	assert_int_equal(out.items[0].ends_at, utc("2027-01-06T18:00:00Z"));
	recurrence_instances_release(&out);
}

static void test_every_n_weeks(void **state)
{
	/* Tuesday and Thursday every 2 weeks from Thursday 2027-01-07: the
	 * weeks counted from the week of 2027-01-04 (a Monday). */
	struct recurrence r = rule(RECURRENCE_WEEKLY, "2027-01-07", "10:00", HOUR_US, "UTC");
	r.weekdays = 1u << 1 | 1u << 3;
	r.repeat_every = 2;
	assert_dates(&r, "2027-01-01T00:00:00Z", "2027-02-20T00:00:00Z",
		     "2027-01-07,2027-01-19,2027-01-21,2027-02-02,2027-02-04,2027-02-16,"
		     "2027-02-18");
	r.repeat_every = 3;
	assert_dates(&r, "2027-01-01T00:00:00Z", "2027-03-01T00:00:00Z",
		     "2027-01-07,2027-01-26,2027-01-28,2027-02-16,2027-02-18");
	r.repeat_every = 4;
	assert_dates(&r, "2027-01-01T00:00:00Z", "2027-03-10T00:00:00Z",
		     "2027-01-07,2027-02-02,2027-02-04,2027-03-02,2027-03-04");
	/* A Sunday start: its week began the Monday before. */
	r = rule(RECURRENCE_WEEKLY, "2027-01-10", "10:00", HOUR_US, "UTC");
	r.weekdays = 1u << 0 | 1u << 6;
	r.repeat_every = 2;
	assert_dates(&r, "2027-01-01T00:00:00Z", "2027-02-01T00:00:00Z",
		     "2027-01-10,2027-01-18,2027-01-24");
}

static void test_monthly_by_day(void **state)
{
	/* The 31st: months without one have no instance. */
	struct recurrence r = rule(RECURRENCE_MONTHLY_BY_DAY, "2027-01-31", "20:00", HOUR_US,
				   "Europe/Berlin");
	assert_dates(&r, "2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z",
		     "2027-01-31,2027-03-31,2027-05-31,2027-07-31,2027-08-31,2027-10-31,"
		     "2027-12-31");
	r.repeat_every = 2;
	assert_dates(&r, "2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z",
		     "2027-01-31,2027-03-31,2027-05-31,2027-07-31");
	/* The 29th: February only in leap years. */
	r = rule(RECURRENCE_MONTHLY_BY_DAY, "2027-01-29", "20:00", HOUR_US, "Europe/Berlin");
	assert_dates(&r, "2027-01-01T00:00:00Z", "2027-04-01T00:00:00Z", "2027-01-29,2027-03-29");
	assert_dates(&r, "2028-01-01T00:00:00Z", "2028-04-01T00:00:00Z",
		     "2028-01-29,2028-02-29,2028-03-29");
}

static void test_monthly_by_weekday(void **state)
{
	/* Second Tuesday (2027-01-12 is one). */
	struct recurrence r = rule(RECURRENCE_MONTHLY_BY_WEEKDAY, "2027-01-12", "19:00", HOUR_US,
				   "Europe/Berlin");
	r.week_position = 2;
	assert_dates(&r, "2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z",
		     "2027-01-12,2027-02-09,2027-03-09,2027-04-13,2027-05-11,2027-06-08,"
		     "2027-07-13,2027-08-10,2027-09-14,2027-10-12,2027-11-09,2027-12-14");
	/* Last Friday. */
	r = rule(RECURRENCE_MONTHLY_BY_WEEKDAY, "2027-01-29", "22:00", HOUR_US, "Europe/Berlin");
	r.week_position = -1;
	assert_dates(&r, "2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z",
		     "2027-01-29,2027-02-26,2027-03-26,2027-04-30,2027-05-28,2027-06-25,"
		     "2027-07-30,2027-08-27,2027-09-24,2027-10-29,2027-11-26,2027-12-31");
	/* Fifth Friday: only in months that have one. */
	r.week_position = 5;
	assert_dates(&r, "2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z",
		     "2027-01-29,2027-04-30,2027-07-30,2027-10-29,2027-12-31");
	/* Every 3 months, last Friday. */
	r.week_position = -1;
	r.repeat_every = 3;
	assert_dates(&r, "2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z",
		     "2027-01-29,2027-04-30,2027-07-30,2027-10-29");
	/* Start date not itself an instance: second Tuesday from the first. */
	r = rule(RECURRENCE_MONTHLY_BY_WEEKDAY, "2027-01-05", "19:00", HOUR_US, "Europe/Berlin");
	r.week_position = 2;
	assert_dates(&r, "2027-01-01T00:00:00Z", "2027-03-01T00:00:00Z", "2027-01-12,2027-02-09");
}

static void test_once(void **state)
{
	struct recurrence r = rule(RECURRENCE_ONCE, "2027-06-15", "12:00", HOUR_US, "Asia/Kolkata");
	struct recurrence_instances out;
	expand(&r, utc("2027-06-15T06:30:00Z"), utc("2027-06-15T06:30:00.000001Z"), &out);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.items[0].starts_at, utc("2027-06-15T06:30:00Z"));
	recurrence_instances_release(&out);
	/* The window is half-open; an instance is in it by its start. */
	expand(&r, utc("2027-06-15T06:30:00.000001Z"), utc("2027-06-15T08:00:00Z"), &out);
	assert_int_equal(out.n, 0);
	recurrence_instances_release(&out);
	expand(&r, utc("2027-06-14T00:00:00Z"), utc("2027-06-15T06:30:00Z"), &out);
	assert_int_equal(out.n, 0);
	recurrence_instances_release(&out);
	/* An empty window. */
	struct tz *zone = load("Asia/Kolkata");
	assert_int_equal(recurrence_expand(&r, zone, 5, 5, &out), 0);
	assert_int_equal(out.n, 0);
	assert_int_equal(recurrence_expand(&r, zone, 6, 5, &out), -EINVAL);
	tz_free(zone);
}

static void test_end_date_inclusive(void **state)
{
	struct recurrence r = rule(RECURRENCE_WEEKLY, "2027-01-04", "23:30", HOUR_US,
				   "Europe/Berlin");
	r.weekdays = 1u << 0;
	snprintf(r.end_date, sizeof(r.end_date), "2027-01-25");
	assert_dates(&r, "2026-12-01T00:00:00Z", "2027-03-01T00:00:00Z",
		     "2027-01-04,2027-01-11,2027-01-18,2027-01-25");
	snprintf(r.end_date, sizeof(r.end_date), "2027-01-24");
	assert_dates(&r, "2026-12-01T00:00:00Z", "2027-03-01T00:00:00Z",
		     "2027-01-04,2027-01-11,2027-01-18");
	/* The end date is local: 23:30 on the 25th is 22:30Z. */
	snprintf(r.end_date, sizeof(r.end_date), "2027-01-25");
	struct recurrence_instances out;
	expand(&r, utc("2027-01-25T00:00:00Z"), utc("2027-02-01T00:00:00Z"), &out);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.items[0].starts_at, utc("2027-01-25T22:30:00Z"));
	recurrence_instances_release(&out);
}

/* ------------------------------------------------------------ exceptions */

static void test_exceptions(void **state)
{
	struct recurrence_exception ex[] = {
		{ "2027-01-11", RECURRENCE_CANCELLED, 0, 0 },
		{ "2027-01-18", RECURRENCE_MOVED, 0, 0 },
		{ "2027-01-25", RECURRENCE_EDITED, 0, 0 },
		{ "2027-02-01", RECURRENCE_MOVED, 0, 0 },
		{ "2027-02-08", RECURRENCE_MOVED, 0, 0 },
		{ "2027-01-12", RECURRENCE_CANCELLED, 0, 0 },	/* not a Monday: ignored */
		{ "2027-01-13", RECURRENCE_MOVED, 0, 0 },	/* not a Monday: ignored */
	};
	ex[1].moved_starts_at = utc("2027-01-19T15:00:00Z");
	ex[1].moved_ends_at = utc("2027-01-19T16:30:00Z");
	ex[3].moved_starts_at = utc("2030-01-01T00:00:00Z");
	ex[3].moved_ends_at = utc("2030-01-01T01:00:00Z");
	ex[4].moved_starts_at = utc("2027-01-28T10:00:00Z");
	ex[4].moved_ends_at = utc("2027-01-28T11:00:00Z");
	ex[6].moved_starts_at = utc("2027-01-14T10:00:00Z");
	ex[6].moved_ends_at = utc("2027-01-14T11:00:00Z");
	struct recurrence r = rule(RECURRENCE_WEEKLY, "2027-01-04", "10:00", HOUR_US,
				   "Europe/Berlin");
	r.weekdays = 1u << 0;
	r.exceptions = ex;
	r.n_exceptions = sizeof(ex) / sizeof(ex[0]);

	struct recurrence_instances out;
	expand(&r, utc("2027-01-01T00:00:00Z"), utc("2027-02-01T00:00:00Z"), &out);
	assert_int_equal(out.n, 4);
	assert_string_equal(out.items[0].instance_date, "2027-01-04");
	assert_int_equal(out.items[0].flags, 0);
	assert_string_equal(out.items[1].instance_date, "2027-01-18");
	assert_int_equal(out.items[1].starts_at, utc("2027-01-19T15:00:00Z"));
	assert_int_equal(out.items[1].ends_at, utc("2027-01-19T16:30:00Z"));
	assert_int_equal(out.items[1].flags, RECURRENCE_INSTANCE_MOVED);
	assert_string_equal(out.items[2].instance_date, "2027-01-25");
	assert_int_equal(out.items[2].starts_at, utc("2027-01-25T09:00:00Z"));
	assert_int_equal(out.items[2].flags, RECURRENCE_INSTANCE_EDITED);
	/* Moved earlier, into this window, from February. */
	assert_string_equal(out.items[3].instance_date, "2027-02-08");
	assert_int_equal(out.items[3].starts_at, utc("2027-01-28T10:00:00Z"));
	assert_int_equal(out.items[3].flags, RECURRENCE_INSTANCE_MOVED);
	recurrence_instances_release(&out);

	/* February: the 1st and the 8th were moved away. */
	assert_dates(&r, "2027-02-01T00:00:00Z", "2027-02-20T00:00:00Z", "2027-02-15");
	/* The 1st is found where it was moved to, years later. */
	expand(&r, utc("2029-12-31T00:00:00Z"), utc("2030-01-02T00:00:00Z"), &out);
	assert_int_equal(out.n, 2);
	assert_string_equal(out.items[0].instance_date, "2029-12-31");
	assert_int_equal(out.items[0].flags, 0);
	assert_string_equal(out.items[1].instance_date, "2027-02-01");
	assert_int_equal(out.items[1].flags, RECURRENCE_INSTANCE_MOVED);
	assert_int_equal(out.items[1].starts_at, utc("2030-01-01T00:00:00Z"));
	recurrence_instances_release(&out);

	/* A moved instance whose date is after the rule's end is gone. */
	snprintf(r.end_date, sizeof(r.end_date), "2027-01-31");
	assert_dates(&r, "2027-01-01T00:00:00Z", "2031-01-01T00:00:00Z",
		     "2027-01-04,2027-01-18,2027-01-25");
}

/* ------------------------------------------------------------ windows */

static void test_far_window_is_direct(void **state)
{
	/* Every day since 2027: a week of 2037 looks at about a week of dates. */
	struct recurrence r = rule(RECURRENCE_WEEKLY, "2027-01-01", "09:00", HOUR_US,
				   "Europe/Berlin");
	r.weekdays = 0x7f;
	struct recurrence_instances out;
	expand(&r, utc("2037-03-02T00:00:00Z"), utc("2037-03-09T00:00:00Z"), &out);
	assert_int_equal(out.n, 7);
	assert_string_equal(out.items[0].instance_date, "2037-03-02");
	assert_true(out.candidates <= 7 + 8 + 3);	/* the window, its margins, the weeks */
	recurrence_instances_release(&out);

	/* Ten years of it: one instance a day, and not much more work. */
	expand(&r, utc("2030-01-01T00:00:00Z"), utc("2040-01-01T00:00:00Z"), &out);
	assert_int_equal(out.n, 3652);
	assert_true(out.candidates <= out.n + out.n / 7 + 40);
	recurrence_instances_release(&out);

	/* Monthly and every 4 weeks, a century on. */
	r = rule(RECURRENCE_MONTHLY_BY_WEEKDAY, "2027-01-29", "22:00", HOUR_US, "Europe/Berlin");
	r.week_position = -1;
	expand(&r, utc("2127-01-01T00:00:00Z"), utc("2127-02-01T00:00:00Z"), &out);
	assert_int_equal(out.n, 1);
	assert_string_equal(out.items[0].instance_date, "2127-01-31");
	assert_true(out.candidates <= 3);
	recurrence_instances_release(&out);
	r = rule(RECURRENCE_WEEKLY, "2027-01-04", "22:00", HOUR_US, "Europe/Berlin");
	r.weekdays = 1u << 0;
	r.repeat_every = 4;
	expand(&r, utc("2127-01-01T00:00:00Z"), utc("2127-03-01T00:00:00Z"), &out);
	assert_int_equal(out.n, 2);
	assert_true(out.candidates <= 6);
	recurrence_instances_release(&out);
}

static void test_too_many_instances(void **state)
{
	struct recurrence r = rule(RECURRENCE_WEEKLY, "1800-01-01", "09:00", HOUR_US, "UTC");
	r.weekdays = 0x7f;
	struct tz *zone = load("UTC");
	struct recurrence_instances out;
	assert_int_equal(recurrence_expand(&r, zone, utc("1800-01-01T00:00:00Z"),
					   utc("2200-01-01T00:00:00Z"), &out),
			 -E2BIG);
	assert_null(out.items);
	assert_int_equal(out.n, 0);
	recurrence_instances_release(&out);
	/* The whole range onair has: fine when it is few instances. */
	r = rule(RECURRENCE_MONTHLY_BY_DAY, "0001-01-01", "00:00", HOUR_US, "UTC");
	r.repeat_every = 2;
	assert_int_equal(recurrence_expand(&r, zone, INT64_MIN, INT64_MAX, &out), 0);
	assert_int_equal(out.n, 9999 * 6);
	assert_string_equal(out.items[0].instance_date, "0001-01-01");
	assert_int_equal(out.items[0].starts_at, TIME_MIN_US);
	assert_string_equal(out.items[out.n - 1].instance_date, "9999-11-01");
	recurrence_instances_release(&out);
	tz_free(zone);
}

/* ------------------------------------------------------------ reference */

static unsigned wday(int64_t day)
{
	return (unsigned)(((day + 3) % 7 + 7) % 7);
}

/* Day by day, the obvious way. */
static bool ref_occurs(const struct recurrence *r, int64_t day)
{
	int64_t sy, y;
	unsigned sm, sd, m, d;
	int64_t start = time_days_from_civil(atoi(r->start_date), (unsigned)atoi(r->start_date + 5),
					     (unsigned)atoi(r->start_date + 8));
	if (day < start)
		return false;
	if (r->end_date[0] &&
	    day > time_days_from_civil(atoi(r->end_date), (unsigned)atoi(r->end_date + 5),
				       (unsigned)atoi(r->end_date + 8)))
		return false;
	time_civil_from_days(start, &sy, &sm, &sd);
	time_civil_from_days(day, &y, &m, &d);
	int64_t months = (y - sy) * 12 + (int64_t)m - (int64_t)sm;
	switch (r->frequency) {
	case RECURRENCE_ONCE:
		return day == start;
	case RECURRENCE_WEEKLY: {
		int64_t weeks = ((day - wday(day)) - (start - wday(start))) / 7;
		return (r->weekdays >> wday(day) & 1) && weeks % r->repeat_every == 0;
	}
	case RECURRENCE_MONTHLY_BY_DAY:
		return d == sd && months % r->repeat_every == 0;
	case RECURRENCE_MONTHLY_BY_WEEKDAY: {
		if (wday(day) != wday(start) || months % r->repeat_every != 0)
			return false;
		int64_t next_month_day = day + 7;
		int64_t ny;
		unsigned nm, nd;
		time_civil_from_days(next_month_day, &ny, &nm, &nd);
		if (r->week_position == -1)
			return nm != m;
		return (int)((d - 1) / 7 + 1) == r->week_position;
	}
	}
	return false;
}

static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static unsigned rnd(unsigned n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (unsigned)(rng_state % n);
}

static void test_against_reference(void **state)
{
	struct tz *zone = load("UTC");
	static const int every[] = { 1, 2, 3, 4, 5, 7, 12, 13 };
	static const int positions[] = { 1, 2, 3, 4, 5, -1 };
	int checked = 0;
	for (int i = 0; i < 600; i++) {
		struct recurrence r = { .frequency = (enum recurrence_frequency)rnd(4),
					.repeat_every = every[rnd(8)],
					.duration_us = HOUR_US };
		int64_t start = time_days_from_civil(2020, 1, 1) + rnd(3000);
		int64_t y;
		unsigned m, d;
		time_civil_from_days(start, &y, &m, &d);
		snprintf(r.start_date, sizeof(r.start_date), "%04d-%02u-%02u", (int)y, m, d);
		snprintf(r.start_time, sizeof(r.start_time), "%02u:%02u", rnd(24), rnd(60));
		snprintf(r.timezone, sizeof(r.timezone), "UTC");
		if (rnd(3) == 0) {
			time_civil_from_days(start + rnd(2000), &y, &m, &d);
			snprintf(r.end_date, sizeof(r.end_date), "%04d-%02u-%02u", (int)y, m, d);
		}
		if (r.frequency == RECURRENCE_ONCE)
			r.repeat_every = 1;
		if (r.frequency == RECURRENCE_WEEKLY)
			r.weekdays = 1 + rnd(127);
		if (r.frequency == RECURRENCE_MONTHLY_BY_WEEKDAY)
			r.week_position = positions[rnd(6)];
		char err[256];
		if (recurrence_validate(&r, zoneinfo, err, sizeof(err)) != 0)
			continue;	/* e.g. a fifth weekday that never comes before the end */

		int64_t from = start - 400 + rnd(3000), to = from + rnd(800);
		struct recurrence_instances out;
		assert_int_equal(recurrence_expand(&r, zone, from * DAY_US, to * DAY_US, &out), 0);
		size_t k = 0;
		for (int64_t day = from; day < to; day++) {
			char date[RECURRENCE_DATE_SIZE];
			time_civil_from_days(day, &y, &m, &d);
			snprintf(date, sizeof(date), "%04d-%02u-%02u", (int)y, m, d);
			bool want = ref_occurs(&r, day);
			if (want != recurrence_occurs_on(&r, date))
				fail_msg("rule %d (%s every %d from %s): occurs_on(%s) != %d", i,
					 recurrence_frequency_name(r.frequency), r.repeat_every,
					 r.start_date, date, want);
			if (!want)
				continue;
			if (k >= out.n || strcmp(out.items[k].instance_date, date) != 0)
				fail_msg("rule %d (%s every %d from %s): %s missing", i,
					 recurrence_frequency_name(r.frequency), r.repeat_every,
					 r.start_date, date);
			k++;
		}
		assert_int_equal(k, out.n);
		recurrence_instances_release(&out);
		checked++;
	}
	assert_true(checked > 500);
	tz_free(zone);
}

/* ------------------------------------------------------------ split */

/* Expansion of head then tail equals that of r (dates and starts). */
static void assert_split_preserves(const struct recurrence *r, const struct recurrence *head,
				   const struct recurrence *tail, const char *from, const char *to)
{
	struct recurrence_instances whole, h, t;
	expand(r, utc(from), utc(to), &whole);
	expand(head, utc(from), utc(to), &h);
	expand(tail, utc(from), utc(to), &t);
	assert_int_equal(whole.n, h.n + t.n);
	assert_true(h.n > 0 && t.n > 0);
	for (size_t i = 0; i < whole.n; i++) {
		const struct recurrence_instance *x = i < h.n ? &h.items[i] : &t.items[i - h.n];
		assert_string_equal(whole.items[i].instance_date, x->instance_date);
		assert_int_equal(whole.items[i].starts_at, x->starts_at);
	}
	recurrence_instances_release(&whole);
	recurrence_instances_release(&h);
	recurrence_instances_release(&t);
}

static void test_split(void **state)
{
	/* Every other Tuesday: 01-05, 01-19, 02-02, 02-16, 03-02, ... From
	 * Monday 03-01 on, it moves to 21:00. */
	struct recurrence r = rule(RECURRENCE_WEEKLY, "2027-01-05", "20:00", HOUR_US,
				   "Europe/Berlin");
	r.weekdays = 1u << 1;
	r.repeat_every = 2;
	snprintf(r.end_date, sizeof(r.end_date), "2027-12-31");
	struct recurrence head, tail;
	assert_int_equal(recurrence_split(&r, "2027-03-01", &head, &tail), 0);
	assert_string_equal(head.start_date, "2027-01-05");
	assert_string_equal(head.end_date, "2027-02-28");
	assert_string_equal(tail.start_date, "2027-03-02");
	assert_string_equal(tail.end_date, "2027-12-31");
	assert_int_equal(tail.repeat_every, 2);
	assert_split_preserves(&r, &head, &tail, "2026-01-01T00:00:00Z", "2029-01-01T00:00:00Z");

	snprintf(tail.start_time, sizeof(tail.start_time), "21:00");
	assert_dates(&tail, "2027-03-01T00:00:00Z", "2027-04-01T00:00:00Z",
		     "2027-03-02,2027-03-16,2027-03-30");
	struct recurrence_instances out;
	expand(&tail, utc("2027-03-01T00:00:00Z"), utc("2027-03-03T00:00:00Z"), &out);
	assert_int_equal(out.n, 1);
	assert_int_equal(out.items[0].starts_at, utc("2027-03-02T20:00:00Z"));
	recurrence_instances_release(&out);

	/* Splitting at a date that is not an instance in the off week keeps
	 * the rhythm: tail starts at the next real date. */
	assert_int_equal(recurrence_split(&r, "2027-03-03", &head, &tail), 0);
	assert_string_equal(tail.start_date, "2027-03-16");
	assert_split_preserves(&r, &head, &tail, "2026-01-01T00:00:00Z", "2029-01-01T00:00:00Z");

	/* Exceptions stay with the dates they name. */
	struct recurrence_exception ex[] = { { "2027-01-19", RECURRENCE_CANCELLED, 0, 0 },
					     { "2027-03-16", RECURRENCE_CANCELLED, 0, 0 } };
	r.exceptions = ex;
	r.n_exceptions = 2;
	assert_int_equal(recurrence_split(&r, "2027-03-01", &head, &tail), 0);
	assert_ptr_equal(head.exceptions, ex);
	assert_ptr_equal(tail.exceptions, ex);
	assert_split_preserves(&r, &head, &tail, "2026-01-01T00:00:00Z", "2029-01-01T00:00:00Z");

	/* head may be r itself. */
	struct recurrence same = r;
	assert_int_equal(recurrence_split(&same, "2027-03-01", &same, &tail), 0);
	assert_string_equal(same.end_date, "2027-02-28");
	assert_string_equal(tail.start_date, "2027-03-02");

	/* Monthly on the 31st every 3 months: Jan, (Apr has no 31st), Jul, Oct. */
	struct recurrence mr = rule(RECURRENCE_MONTHLY_BY_DAY, "2027-01-31", "20:00", HOUR_US,
				    "Europe/Berlin");
	mr.repeat_every = 3;
	assert_int_equal(recurrence_split(&mr, "2027-02-01", &head, &tail), 0);
	assert_string_equal(head.end_date, "2027-01-31");
	assert_string_equal(tail.start_date, "2027-07-31");
	assert_string_equal(tail.end_date, "");
	assert_split_preserves(&mr, &head, &tail, "2027-01-01T00:00:00Z", "2032-01-01T00:00:00Z");

	/* Errors leave head and tail alone. */
	struct recurrence h0 = head, t0 = tail;
	assert_int_equal(recurrence_split(&r, "2027-01-05", &head, &tail), -ERANGE);
	assert_int_equal(recurrence_split(&r, "2026-06-01", &head, &tail), -ERANGE);
	assert_int_equal(recurrence_split(&r, "2027-12-29", &head, &tail), -ENOENT);
	assert_int_equal(recurrence_split(&r, "2027-02-30", &head, &tail), -EINVAL);
	assert_int_equal(recurrence_split(&r, "tomorrow", &head, &tail), -EINVAL);
	struct recurrence once = rule(RECURRENCE_ONCE, "2027-06-15", "12:00", HOUR_US, "UTC");
	assert_int_equal(recurrence_split(&once, "2027-06-15", &head, &tail), -ERANGE);
	assert_int_equal(recurrence_split(&once, "2027-06-16", &head, &tail), -ENOENT);
	assert_memory_equal(&head, &h0, sizeof(head));
	assert_memory_equal(&tail, &t0, sizeof(tail));
}

/* ------------------------------------------------------------ validation */

struct bad_rule {
	void (*edit)(struct recurrence *r);
	const char *error;
};

static void bad_frequency(struct recurrence *r) { r->frequency = (enum recurrence_frequency)9; }
static void no_weekdays(struct recurrence *r) { r->weekdays = 0; }
static void weekdays_too_big(struct recurrence *r) { r->weekdays = 128; }
static void position_on_weekly(struct recurrence *r) { r->week_position = 2; }
static void weekdays_on_monthly(struct recurrence *r)
{
	r->frequency = RECURRENCE_MONTHLY_BY_DAY;
}
static void monthly_weekday_without_position(struct recurrence *r)
{
	r->frequency = RECURRENCE_MONTHLY_BY_WEEKDAY;
	r->weekdays = 0;
}
static void position_six(struct recurrence *r)
{
	monthly_weekday_without_position(r);
	r->week_position = 6;
}
static void position_minus_two(struct recurrence *r)
{
	monthly_weekday_without_position(r);
	r->week_position = -2;
}
static void repeat_zero(struct recurrence *r) { r->repeat_every = 0; }
static void repeat_huge(struct recurrence *r) { r->repeat_every = RECURRENCE_REPEAT_MAX + 1; }
static void once_repeating(struct recurrence *r)
{
	r->frequency = RECURRENCE_ONCE;
	r->weekdays = 0;
	r->repeat_every = 2;
}
static void bad_start_date(struct recurrence *r) { snprintf(r->start_date, 11, "2027-02-29"); }
static void short_start_date(struct recurrence *r) { snprintf(r->start_date, 11, "2027-3-1"); }
static void year_zero(struct recurrence *r) { snprintf(r->start_date, 11, "0000-03-01"); }
static void bad_start_time(struct recurrence *r) { snprintf(r->start_time, 9, "24:00"); }
static void bad_start_time2(struct recurrence *r) { snprintf(r->start_time, 9, "7:30"); }
static void bad_start_time3(struct recurrence *r) { snprintf(r->start_time, 9, "07:30:60"); }
static void zero_duration(struct recurrence *r) { r->duration_us = 0; }
static void long_duration(struct recurrence *r)
{
	r->duration_us = RECURRENCE_DURATION_MAX + 1;
}
static void bad_end_date(struct recurrence *r) { snprintf(r->end_date, 11, "2027-13-01"); }
static void end_before_start(struct recurrence *r) { snprintf(r->end_date, 11, "2027-01-03"); }
static void no_date_in_range(struct recurrence *r)
{
	r->weekdays = 1u << 6;	/* Sundays, from Monday 4th to Friday 8th */
	snprintf(r->end_date, 11, "2027-01-08");
}
static void unknown_zone(struct recurrence *r) { snprintf(r->timezone, 64, "Europe/Berlinn"); }
static void bad_zone_name(struct recurrence *r) { snprintf(r->timezone, 64, "../../etc/passwd"); }
static void zone_directory(struct recurrence *r) { snprintf(r->timezone, 64, "Europe"); }

static const struct recurrence_exception bad_exc_date[] = {
	{ "2027-01-32", RECURRENCE_CANCELLED, 0, 0 } };
static const struct recurrence_exception bad_exc_kind[] = {
	{ "2027-01-11", (enum recurrence_exception_kind)7, 0, 0 } };
static const struct recurrence_exception bad_exc_move[] = {
	{ "2027-01-11", RECURRENCE_MOVED, 100, 100 } };
static const struct recurrence_exception dup_exc[] = {
	{ "2027-01-11", RECURRENCE_CANCELLED, 0, 0 }, { "2027-01-18", RECURRENCE_EDITED, 0, 0 },
	{ "2027-01-11", RECURRENCE_EDITED, 0, 0 } };
static void exc_date(struct recurrence *r) { r->exceptions = bad_exc_date; r->n_exceptions = 1; }
static void exc_kind(struct recurrence *r) { r->exceptions = bad_exc_kind; r->n_exceptions = 1; }
static void exc_move(struct recurrence *r) { r->exceptions = bad_exc_move; r->n_exceptions = 1; }
static void exc_dup(struct recurrence *r) { r->exceptions = dup_exc; r->n_exceptions = 3; }
static void exc_null(struct recurrence *r) { r->n_exceptions = 1; }

static const struct bad_rule bad_rules[] = {
	{ bad_frequency, "unknown frequency" },
	{ no_weekdays, "a weekly rule needs at least one weekday" },
	{ weekdays_too_big, "weekdays must only use bits 0 (Monday) to 6 (Sunday)" },
	{ position_on_weekly, "week_position is only for monthly_by_weekday rules" },
	{ weekdays_on_monthly, "weekdays is only for weekly rules" },
	{ monthly_weekday_without_position,
	  "a monthly_by_weekday rule needs week_position 1 to 5, or -1 for the last" },
	{ position_six,
	  "a monthly_by_weekday rule needs week_position 1 to 5, or -1 for the last" },
	{ position_minus_two,
	  "a monthly_by_weekday rule needs week_position 1 to 5, or -1 for the last" },
	{ repeat_zero, "repeat_every must be between 1 and 1000" },
	{ repeat_huge, "repeat_every must be between 1 and 1000" },
	{ once_repeating, "repeat_every must be 1 for a 'once' rule" },
	{ bad_start_date, "start_date is not a date (YYYY-MM-DD)" },
	{ short_start_date, "start_date is not a date (YYYY-MM-DD)" },
	{ year_zero, "start_date is not a date (YYYY-MM-DD)" },
	{ bad_start_time, "start_time is not a time of day (HH:MM or HH:MM:SS)" },
	{ bad_start_time2, "start_time is not a time of day (HH:MM or HH:MM:SS)" },
	{ bad_start_time3, "start_time is not a time of day (HH:MM or HH:MM:SS)" },
	{ zero_duration, "duration_us must be positive and at most 31 days" },
	{ long_duration, "duration_us must be positive and at most 31 days" },
	{ bad_end_date, "end_date is not a date (YYYY-MM-DD)" },
	{ end_before_start, "end_date is before start_date" },
	{ no_date_in_range, "the rule has no date between start_date and end_date" },
	{ unknown_zone, "unknown time zone 'Europe/Berlinn'" },
	{ bad_zone_name, "time zone '../../etc/passwd' is not a valid name" },
	{ zone_directory, "unknown time zone 'Europe'" },
	{ exc_date, "exception 1: instance_date is not a date (YYYY-MM-DD)" },
	{ exc_kind, "exception 1 (2027-01-11): unknown kind" },
	{ exc_move,
	  "exception 1 (2027-01-11): a moved instance needs moved_ends_at after moved_starts_at" },
	{ exc_dup, "two exceptions for 2027-01-11" },
	{ exc_null, "exceptions missing" },
};

static void test_validate(void **state)
{
	struct recurrence good = rule(RECURRENCE_WEEKLY, "2027-01-04", "07:30:15", HOUR_US,
				      "Europe/Berlin");
	good.weekdays = 1u << 0;
	char err[256] = "";
	assert_int_equal(recurrence_validate(&good, zoneinfo, err, sizeof(err)), 0);
	assert_int_equal(recurrence_validate(&good, zoneinfo, NULL, 0), 0);
	struct tz *zone = load("Europe/Berlin");
	for (size_t i = 0; i < sizeof(bad_rules) / sizeof(bad_rules[0]); i++) {
		struct recurrence r = good;
		bad_rules[i].edit(&r);
		snprintf(err, sizeof(err), "untouched");
		int ret = recurrence_validate(&r, zoneinfo, err, sizeof(err));
		if (ret != -EINVAL || strcmp(err, bad_rules[i].error) != 0)
			fail_msg("rule %zu: %d '%s', want '%s'", i, ret, err, bad_rules[i].error);
		assert_int_equal(recurrence_validate(&r, zoneinfo, NULL, 0), -EINVAL);
		/* expand refuses the same, except what only the zone or the
		 * dates' existence decide. */
		struct recurrence_instances out;
		int want = strstr(bad_rules[i].error, "time zone") ||
				   strstr(bad_rules[i].error, "has no date") ?
			   0 :
			   -EINVAL;
		assert_int_equal(recurrence_expand(&r, zone, 0, utc("2028-01-01T00:00:00Z"), &out),
				 want);
		recurrence_instances_release(&out);
		if (!strstr(bad_rules[i].error, "exception"))
			assert_false(want != 0 && recurrence_occurs_on(&r, "2027-01-04"));
	}
	tz_free(zone);

	/* A text that fills the array is refused, not cut. */
	struct recurrence r = good;
	memset(r.timezone, 'A', sizeof(r.timezone));
	assert_int_equal(recurrence_validate(&r, zoneinfo, err, sizeof(err)), -EINVAL);
	r = good;
	memset(r.start_date, '1', sizeof(r.start_date));
	assert_int_equal(recurrence_validate(&r, zoneinfo, err, sizeof(err)), -EINVAL);
	/* A short error buffer is cut, still terminated. */
	r = good;
	r.weekdays = 0;
	char small[8];
	assert_int_equal(recurrence_validate(&r, zoneinfo, small, sizeof(small)), -EINVAL);
	assert_string_equal(small, "a weekl");
}

static void test_names(void **state)
{
	for (int f = RECURRENCE_ONCE; f <= RECURRENCE_MONTHLY_BY_WEEKDAY; f++) {
		enum recurrence_frequency back;
		assert_int_equal(
			recurrence_frequency_parse(
				recurrence_frequency_name((enum recurrence_frequency)f), &back),
			0);
		assert_int_equal(back, f);
	}
	enum recurrence_frequency fr;
	assert_int_equal(recurrence_frequency_parse("monthly_by_weekday", &fr), 0);
	assert_int_equal(fr, RECURRENCE_MONTHLY_BY_WEEKDAY);
	assert_int_equal(recurrence_frequency_parse("daily", &fr), -EINVAL);
	assert_int_equal(recurrence_frequency_parse("?", &fr), -EINVAL);
	assert_string_equal(recurrence_frequency_name((enum recurrence_frequency)42), "?");
	enum recurrence_exception_kind k;
	assert_int_equal(recurrence_exception_kind_parse("moved", &k), 0);
	assert_int_equal(k, RECURRENCE_MOVED);
	assert_int_equal(recurrence_exception_kind_parse("cancelled", &k), 0);
	assert_int_equal(k, RECURRENCE_CANCELLED);
	assert_int_equal(recurrence_exception_kind_parse("edited", &k), 0);
	assert_int_equal(k, RECURRENCE_EDITED);
	assert_int_equal(recurrence_exception_kind_parse("Moved", &k), -EINVAL);
	assert_string_equal(recurrence_exception_kind_name((enum recurrence_exception_kind)5), "?");
}

static void test_occurs_on(void **state)
{
	struct recurrence r = rule(RECURRENCE_MONTHLY_BY_WEEKDAY, "2027-01-12", "19:00", HOUR_US,
				   "Europe/Berlin");
	r.week_position = 2;
	assert_true(recurrence_occurs_on(&r, "2027-01-12"));
	assert_true(recurrence_occurs_on(&r, "2031-06-10"));
	assert_false(recurrence_occurs_on(&r, "2027-01-05"));
	assert_false(recurrence_occurs_on(&r, "2026-12-08"));	/* before the start */
	assert_false(recurrence_occurs_on(&r, "2027-01-13"));
	assert_false(recurrence_occurs_on(&r, "2027-1-12"));
	assert_false(recurrence_occurs_on(&r, ""));
}

int main(void)
{
	const char *root = getenv("ONAIR_SOURCE_ROOT");
	snprintf(zoneinfo, sizeof(zoneinfo), "%s/tests/station/zoneinfo", root ? root : ".");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_in_spring_forward_gap),
		cmocka_unit_test(test_start_in_fall_back_overlap),
		cmocka_unit_test(test_show_spanning_the_change),
		cmocka_unit_test(test_day_long_show_on_short_and_long_days),
		cmocka_unit_test(test_local_time_kept_across_changes),
		cmocka_unit_test(test_weekly_several_weekdays),
		cmocka_unit_test(test_every_n_weeks),
		cmocka_unit_test(test_monthly_by_day),
		cmocka_unit_test(test_monthly_by_weekday),
		cmocka_unit_test(test_once),
		cmocka_unit_test(test_end_date_inclusive),
		cmocka_unit_test(test_exceptions),
		cmocka_unit_test(test_far_window_is_direct),
		cmocka_unit_test(test_too_many_instances),
		cmocka_unit_test(test_against_reference),
		cmocka_unit_test(test_split),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_occurs_on),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
