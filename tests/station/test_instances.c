/*
 * test_instances.c - show instances from rules (src/station/instances.h),
 * on SQLite and PostgreSQL (argv[1]). Zones come from
 * tests/station/zoneinfo (see test_tz.c), found through
 * $ONAIR_SOURCE_ROOT.
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

#include "common/timeutil.h"
#include "station/instances.h"
#include "station/placement.h"
#include "station/recurrence.h"
#include "station_fixture.h"

#define MIN (60 * USEC_PER_SEC)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)

static char zoneinfo[4096];

static int64_t utc(const char *rfc3339)
{
	int64_t t = 0;
	if (time_parse_rfc3339(rfc3339, &t) != 0)
		fail_msg("bad test instant %s", rfc3339);
	return t;
}

struct rule_spec {
	const char *frequency;
	int weekdays;		/* bit 0 = Monday */
	int week_position;	/* 0 = NULL */
	int repeat_every;	/* 0 = 1 */
	const char *start_date, *start_time;
	int64_t duration_us;
	const char *timezone;
	const char *end_date;	/* NULL = none */
};

static int64_t add_rule(struct db *db, int64_t show, struct rule_spec r)
{
	return fixture_int(db,
			   "INSERT INTO show_recurrences (show_id, frequency, repeat_every,"
			   " weekdays, week_position, start_date, start_time, duration_us,"
			   " timezone, end_date, created_at, updated_at)"
			   " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 0, 0) RETURNING id",
			   DB_PARAMS(DB_I(show), DB_T(r.frequency),
				     DB_I(r.repeat_every ? r.repeat_every : 1), DB_I(r.weekdays),
				     r.week_position ? DB_I(r.week_position) : DB_N,
				     DB_T(r.start_date), DB_T(r.start_time), DB_I(r.duration_us),
				     DB_T(r.timezone), DB_T(r.end_date)));
}

static int64_t add_exception(struct db *db, int64_t rule, const char *date, const char *kind,
			     int64_t moved_from, int64_t moved_to)
{
	bool moved = strcmp(kind, "moved") == 0;
	return fixture_int(db,
			   "INSERT INTO show_exceptions (recurrence_id, instance_date, kind,"
			   " moved_starts_at, moved_ends_at) VALUES ($1, $2, $3, $4, $5)"
			   " RETURNING id",
			   DB_PARAMS(DB_I(rule), DB_T(date), DB_T(kind),
				     moved ? DB_I(moved_from) : DB_N,
				     moved ? DB_I(moved_to) : DB_N));
}

static void materialise(struct db *db, int64_t from, int64_t to, int64_t now,
			struct instances_report *rep)
{
	int r = instances_materialise(db, from, to, now, zoneinfo, rep);
	if (r != 0)
		fail_msg("instances_materialise: %d %s", r, db_errmsg(db));
}

/* Materialise and expect nothing to change. */
static void materialise_nothing(struct db *db, int64_t from, int64_t to, int64_t now)
{
	struct instances_report rep;
	materialise(db, from, to, now, &rep);
	assert_int_equal(rep.created, 0);
	assert_int_equal(rep.updated, 0);
	assert_int_equal(rep.deleted, 0);
	assert_int_equal(rep.relinked, 0);
	instances_report_release(&rep);
}

struct inst {
	bool found;
	int64_t id, starts_at, ends_at, version, linked_to, recurrence_id;
};

static struct inst inst_where(struct db *db, const char *sql, const struct db_param *p, size_t n)
{
	struct db_rows *rows;
	assert_int_equal(db_query(db, sql, p, n, &rows), 0);
	struct inst out = { 0 };
	if (db_rows_next(rows)) {
		out.found = true;
		out.id = db_col_int(rows, 0);
		out.starts_at = db_col_int(rows, 1);
		out.ends_at = db_col_int(rows, 2);
		out.version = db_col_int(rows, 3);
		out.linked_to = db_col_int(rows, 4);
		out.recurrence_id = db_col_int(rows, 5);
		assert_false(db_rows_next(rows));
	}
	assert_int_equal(db_rows_error(rows), 0);
	db_rows_free(rows);
	return out;
}

/* The row of rule for date. */
static struct inst inst_of(struct db *db, int64_t rule, const char *date)
{
	return inst_where(db,
			  "SELECT id, starts_at, ends_at, version, linked_to, recurrence_id"
			  " FROM show_instances WHERE recurrence_id = $1 AND instance_date = $2",
			  DB_PARAMS(DB_I(rule), DB_T(date)));
}

/* The row of show for date, whatever its rule. */
static struct inst inst_of_show(struct db *db, int64_t show, const char *date)
{
	return inst_where(db,
			  "SELECT id, starts_at, ends_at, version, linked_to, recurrence_id"
			  " FROM show_instances WHERE show_id = $1 AND instance_date = $2"
			  " AND rebroadcast_rule_id IS NULL",
			  DB_PARAMS(DB_I(show), DB_T(date)));
}

static void expect(struct db *db, int64_t rule, const char *date, const char *starts,
		   int64_t length)
{
	struct inst i = inst_of(db, rule, date);
	if (!i.found)
		fail_msg("no instance of rule %lld on %s", (long long)rule, date);
	assert_int_equal(i.starts_at, utc(starts));
	assert_int_equal(i.ends_at - i.starts_at, length);
}

static int64_t count(struct db *db, const char *sql, const struct db_param *p, size_t n)
{
	return fixture_int(db, sql, p, n);
}

static int64_t rows_of(struct db *db, int64_t show)
{
	return count(db, "SELECT COUNT(*) FROM show_instances WHERE show_id = $1",
		     DB_PARAMS(DB_I(show)));
}

static void test_weekly_and_dst_berlin(void **state)
{
	struct db *db = fixture_db();
	int64_t show = fixture_show(db, "Evening");
	int64_t rule = add_rule(db, show,
				(struct rule_spec){ "weekly", 1, 0, 0, "2027-01-04", "18:00", HOUR,
						    "Europe/Berlin", NULL });
	int64_t now = utc("2026-12-01T00:00:00Z");
	struct instances_report rep;
	materialise(db, utc("2027-01-01T00:00:00Z"), utc("2027-02-01T00:00:00Z"), now, &rep);
	assert_int_equal(rep.created, 4);
	assert_int_equal(rep.n_problems, 0);
	instances_report_release(&rep);
	expect(db, rule, "2027-01-04", "2027-01-04T17:00:00Z", HOUR);
	expect(db, rule, "2027-01-25", "2027-01-25T17:00:00Z", HOUR);
	assert_int_equal(rows_of(db, show), 4);

	/* Across the change to summer time the local 18:00 stays. */
	materialise(db, utc("2027-03-20T00:00:00Z"), utc("2027-04-01T00:00:00Z"), now, &rep);
	assert_int_equal(rep.created, 2);
	instances_report_release(&rep);
	expect(db, rule, "2027-03-22", "2027-03-22T17:00:00Z", HOUR);
	expect(db, rule, "2027-03-29", "2027-03-29T16:00:00Z", HOUR);

	/* Again: nothing changes. */
	materialise_nothing(db, utc("2027-01-01T00:00:00Z"), utc("2027-02-01T00:00:00Z"), now);
	materialise_nothing(db, utc("2027-03-20T00:00:00Z"), utc("2027-04-01T00:00:00Z"), now);
	assert_int_equal(rows_of(db, show), 6);
	assert_int_equal(count(db, "SELECT COUNT(*) FROM show_instances WHERE version <> 1",
			       NULL, 0),
			 0);
	db_close(db);
}

static void test_monthly_new_york(void **state)
{
	struct db *db = fixture_db();
	int64_t show = fixture_show(db, "Monthly");
	struct rule_spec day_spec = { "monthly_by_day", 0, 0, 0, "2027-01-15", "20:00", 2 * HOUR,
				      "America/New_York", NULL };
	int64_t by_day = add_rule(db, show, day_spec);
	int64_t by_wd = add_rule(db, show,
				 (struct rule_spec){ "monthly_by_weekday", 0, 2, 0, "2027-01-12",
						     "09:30", 30 * MIN, "America/New_York", NULL });
	int64_t now = utc("2026-12-01T00:00:00Z");
	struct instances_report rep;
	materialise(db, utc("2027-01-01T00:00:00Z"), utc("2028-01-01T00:00:00Z"), now, &rep);
	assert_int_equal(rep.created, 24);
	instances_report_release(&rep);
	/* 20:00 EST = 01:00Z the next day; 20:00 EDT = 00:00Z. */
	expect(db, by_day, "2027-01-15", "2027-01-16T01:00:00Z", 2 * HOUR);
	expect(db, by_day, "2027-07-15", "2027-07-16T00:00:00Z", 2 * HOUR);
	expect(db, by_day, "2027-12-15", "2027-12-16T01:00:00Z", 2 * HOUR);
	/* Second Tuesdays. */
	expect(db, by_wd, "2027-01-12", "2027-01-12T14:30:00Z", 30 * MIN);
	expect(db, by_wd, "2027-03-09", "2027-03-09T14:30:00Z", 30 * MIN);
	expect(db, by_wd, "2027-04-13", "2027-04-13T13:30:00Z", 30 * MIN);
	assert_false(inst_of(db, by_wd, "2027-04-06").found);
	materialise_nothing(db, utc("2027-01-01T00:00:00Z"), utc("2028-01-01T00:00:00Z"), now);
	db_close(db);
}

static void test_dst_edges(void **state)
{
	struct db *db = fixture_db();
	int64_t show = fixture_show(db, "Night");
	/* Sunday 02:30 in Berlin: on 2027-03-28 there is no 02:30. */
	int64_t gap = add_rule(db, show,
			       (struct rule_spec){ "weekly", 1 << 6, 0, 0, "2027-03-21", "02:30",
						   HOUR, "Europe/Berlin", "2027-04-04" });
	/* Sunday 01:30 in New York: on 2027-11-07 it happens twice. */
	int64_t twice = add_rule(db, show,
				 (struct rule_spec){ "weekly", 1 << 6, 0, 0, "2027-10-31", "01:30",
						     2 * HOUR, "America/New_York", "2027-11-14" });
	/* Shows spanning the changes. */
	int64_t spring = add_rule(db, show,
				  (struct rule_spec){ "once", 0, 0, 0, "2027-03-28", "01:00",
						      3 * HOUR, "Europe/Berlin", NULL });
	int64_t autumn = add_rule(db, show,
				  (struct rule_spec){ "once", 0, 0, 0, "2027-10-31", "01:00",
						      3 * HOUR, "Europe/Berlin", NULL });
	/* Day-long every day. */
	struct rule_spec daily_spec = { "weekly", 127, 0, 0, "2027-03-01", "00:00", DAY,
					"Europe/Berlin", NULL };
	int64_t daily = add_rule(db, show, daily_spec);
	int64_t now = utc("2027-01-01T00:00:00Z");
	struct instances_report rep;
	materialise(db, utc("2027-03-20T00:00:00Z"), utc("2027-04-10T00:00:00Z"), now, &rep);
	instances_report_release(&rep);
	materialise(db, utc("2027-10-25T00:00:00Z"), utc("2027-11-20T00:00:00Z"), now, &rep);
	assert_int_equal(rep.n_problems, 0);
	instances_report_release(&rep);

	expect(db, gap, "2027-03-21", "2027-03-21T01:30:00Z", HOUR);
	expect(db, gap, "2027-03-28", "2027-03-28T01:30:00Z", HOUR);	/* 03:30 CEST */
	expect(db, gap, "2027-04-04", "2027-04-04T00:30:00Z", HOUR);
	expect(db, twice, "2027-10-31", "2027-10-31T05:30:00Z", 2 * HOUR);
	expect(db, twice, "2027-11-07", "2027-11-07T05:30:00Z", 2 * HOUR);	/* 01:30 EDT */
	expect(db, twice, "2027-11-14", "2027-11-14T06:30:00Z", 2 * HOUR);
	/* 01:00 CET to 05:00 CEST; 01:00 CEST to 03:00 CET. */
	expect(db, spring, "2027-03-28", "2027-03-28T00:00:00Z", 3 * HOUR);
	expect(db, autumn, "2027-10-31", "2027-10-30T23:00:00Z", 3 * HOUR);
	/* 24 hours on the 23-hour day ends at 01:00 on the 29th ... */
	expect(db, daily, "2027-03-28", "2027-03-27T23:00:00Z", DAY);
	expect(db, daily, "2027-03-29", "2027-03-28T22:00:00Z", DAY);
	/* ... and on the 25-hour day at 23:00. */
	expect(db, daily, "2027-10-31", "2027-10-30T22:00:00Z", DAY);
	expect(db, daily, "2027-11-01", "2027-10-31T23:00:00Z", DAY);
	materialise_nothing(db, utc("2027-03-20T00:00:00Z"), utc("2027-04-10T00:00:00Z"), now);
	materialise_nothing(db, utc("2027-10-25T00:00:00Z"), utc("2027-11-20T00:00:00Z"), now);
	db_close(db);
}

/* A file item in instance (appended); the instance must not have ended
 * at now. */
static void add_item(struct db *db, int64_t instance, int64_t file, int64_t now)
{
	struct placement_item it;
	placement_item_init(&it, PLACEMENT_FILE);
	it.file_id = file;
	char err[256] = "";
	int64_t v = fixture_int(db, "SELECT version FROM show_instances WHERE id = $1",
				DB_PARAMS(DB_I(instance)));
	if (placement_insert(db, now, instance, v, -1, &it, 1, NULL, NULL, err, sizeof(err)) != 0)
		fail_msg("placement_insert: %s", err);
}

static int64_t items_in(struct db *db, int64_t instance)
{
	return count(db, "SELECT COUNT(*) FROM schedule_items WHERE instance_id = $1",
		     DB_PARAMS(DB_I(instance)));
}

static void test_exceptions(void **state)
{
	struct db *db = fixture_db();
	int64_t show = fixture_show(db, "Weekly");
	int64_t rule = add_rule(db, show,
				(struct rule_spec){ "weekly", 1, 0, 0, "2027-01-04", "18:00", HOUR,
						    "Europe/Berlin", NULL });
	int64_t file = fixture_file(db, "Song", "Band", 3 * MIN);
	int64_t from = utc("2027-01-01T00:00:00Z"), to = utc("2027-03-01T00:00:00Z");
	int64_t early = utc("2026-12-01T00:00:00Z");
	struct instances_report rep;
	materialise(db, from, to, early, &rep);
	assert_int_equal(rep.created, 8);
	instances_report_release(&rep);
	struct inst jan11 = inst_of(db, rule, "2027-01-11");
	struct inst feb1 = inst_of(db, rule, "2027-02-01");
	struct inst feb8 = inst_of(db, rule, "2027-02-08");
	add_item(db, jan11.id, file, early);
	add_item(db, feb1.id, file, early);
	add_item(db, feb1.id, file, early);
	add_item(db, feb8.id, file, early);

	/* Now is 2027-01-20: Jan 11 is past, Feb 1 is not. Cancel both. */
	int64_t now = utc("2027-01-20T12:00:00Z");
	add_exception(db, rule, "2027-01-11", "cancelled", 0, 0);
	add_exception(db, rule, "2027-02-01", "cancelled", 0, 0);
	materialise(db, from, to, now, &rep);
	assert_int_equal(rep.created, 0);
	assert_int_equal(rep.deleted, 1);
	assert_int_equal(rep.deleted_items, 2);
	instances_report_release(&rep);
	assert_true(inst_of(db, rule, "2027-01-11").found);
	assert_int_equal(items_in(db, jan11.id), 1);
	assert_false(inst_of(db, rule, "2027-02-01").found);
	assert_int_equal(count(db, "SELECT COUNT(*) FROM schedule_items WHERE instance_id = $1",
			       DB_PARAMS(DB_I(feb1.id))),
			 0);
	materialise_nothing(db, from, to, now);

	/* Move Feb 8 to the Tuesday at 20:00 UTC: same row, new times, its
	 * items follow. */
	int64_t ms = utc("2027-02-09T20:00:00Z"), me = utc("2027-02-09T21:30:00Z");
	int64_t exc = add_exception(db, rule, "2027-02-08", "moved", ms, me);
	materialise(db, from, to, now, &rep);
	assert_int_equal(rep.updated, 1);
	assert_int_equal(rep.created, 0);
	assert_int_equal(rep.deleted, 0);
	instances_report_release(&rep);
	struct inst moved = inst_of(db, rule, "2027-02-08");
	assert_int_equal(moved.id, feb8.id);
	assert_int_equal(moved.starts_at, ms);
	assert_int_equal(moved.ends_at, me);
	assert_int_equal(moved.version, feb8.version + 2);	/* the item, then the move */
	assert_int_equal(count(db, "SELECT starts_at FROM schedule_items WHERE instance_id = $1",
			       DB_PARAMS(DB_I(feb8.id))),
			 ms);
	materialise_nothing(db, from, to, now);

	/* Moved far outside the window: still the same row. */
	int64_t far = utc("2027-06-01T10:00:00Z");
	fixture_exec(db,
		     "UPDATE show_exceptions SET moved_starts_at = $2, moved_ends_at = $3"
		     " WHERE id = $1",
		     DB_PARAMS(DB_I(exc), DB_I(far), DB_I(far + HOUR)));
	materialise(db, from, to, now, &rep);
	assert_int_equal(rep.updated, 1);
	assert_int_equal(rep.deleted, 0);
	instances_report_release(&rep);
	assert_int_equal(inst_of(db, rule, "2027-02-08").starts_at, far);
	/* ... and back when the exception goes. */
	fixture_exec(db, "DELETE FROM show_exceptions WHERE id = $1", DB_PARAMS(DB_I(exc)));
	materialise(db, from, to, now, &rep);
	assert_int_equal(rep.updated, 1);
	instances_report_release(&rep);
	expect(db, rule, "2027-02-08", "2027-02-08T17:00:00Z", HOUR);
	assert_int_equal(inst_of(db, rule, "2027-02-08").id, feb8.id);
	assert_int_equal(items_in(db, feb8.id), 1);
	db_close(db);
}

static void test_rule_edits(void **state)
{
	struct db *db = fixture_db();
	int64_t show = fixture_show(db, "Edited");
	int64_t rule = add_rule(db, show,
				(struct rule_spec){ "weekly", 1, 0, 0, "2027-01-04", "18:00", HOUR,
						    "Europe/Berlin", NULL });
	int64_t file = fixture_file(db, "Song", "Band", 3 * MIN);
	int64_t from = utc("2027-01-01T00:00:00Z"), to = utc("2027-03-01T00:00:00Z");
	struct instances_report rep;
	materialise(db, from, to, utc("2026-12-01T00:00:00Z"), &rep);
	instances_report_release(&rep);
	struct inst jan11 = inst_of(db, rule, "2027-01-11");
	struct inst feb1 = inst_of(db, rule, "2027-02-01");
	add_item(db, feb1.id, file, utc("2026-12-01T00:00:00Z"));

	/* 18:00 becomes 19:30 on 2027-01-20: the rows to come follow. */
	int64_t now = utc("2027-01-20T12:00:00Z");
	fixture_exec(db, "UPDATE show_recurrences SET start_time = '19:30' WHERE id = $1",
		     DB_PARAMS(DB_I(rule)));
	materialise(db, from, to, now, &rep);
	assert_int_equal(rep.updated, 5);	/* Jan 25 .. Feb 22 */
	assert_int_equal(rep.created, 0);
	assert_int_equal(rep.deleted, 0);
	instances_report_release(&rep);
	struct inst j11 = inst_of(db, rule, "2027-01-11");
	assert_int_equal(j11.starts_at, jan11.starts_at);
	assert_int_equal(j11.version, jan11.version);
	expect(db, rule, "2027-01-25", "2027-01-25T18:30:00Z", HOUR);
	expect(db, rule, "2027-02-01", "2027-02-01T18:30:00Z", HOUR);
	assert_int_equal(inst_of(db, rule, "2027-02-01").id, feb1.id);
	assert_int_equal(count(db, "SELECT starts_at FROM schedule_items WHERE instance_id = $1",
			       DB_PARAMS(DB_I(feb1.id))),
			 utc("2027-02-01T18:30:00Z"));
	materialise_nothing(db, from, to, now);

	/* Shortened: the rule ends on 2027-02-10. */
	fixture_exec(db, "UPDATE show_recurrences SET end_date = '2027-02-10' WHERE id = $1",
		     DB_PARAMS(DB_I(rule)));
	materialise(db, from, to, now, &rep);
	assert_int_equal(rep.deleted, 2);	/* Feb 15, 22 */
	instances_report_release(&rep);
	assert_true(inst_of(db, rule, "2027-02-08").found);
	assert_false(inst_of(db, rule, "2027-02-15").found);

	/* The rule deleted: its rows to come go, past ones stay. */
	fixture_exec(db, "DELETE FROM show_recurrences WHERE id = $1", DB_PARAMS(DB_I(rule)));
	materialise(db, from, to, now, &rep);
	assert_int_equal(rep.deleted, 3);	/* Jan 25, Feb 1, Feb 8 */
	assert_int_equal(rep.deleted_items, 1);
	instances_report_release(&rep);
	assert_int_equal(rows_of(db, show), 3);	/* Jan 4, 11, 18 */
	db_close(db);
}

/* Store a split of rule at date as the API does: head over the rule,
 * tail (with start_time changed) as a new rule, and the exceptions from
 * the date on moved to it. Returns the new rule's id. */
static int64_t split(struct db *db, int64_t rule, int64_t show, const struct rule_spec *spec,
		     const char *date, const char *new_time)
{
	struct recurrence r = { .repeat_every = spec->repeat_every ? spec->repeat_every : 1,
				.weekdays = (unsigned)spec->weekdays,
				.duration_us = spec->duration_us };
	assert_int_equal(recurrence_frequency_parse(spec->frequency, &r.frequency), 0);
	snprintf(r.start_date, sizeof(r.start_date), "%.10s", spec->start_date);
	snprintf(r.start_time, sizeof(r.start_time), "%.8s", spec->start_time);
	snprintf(r.timezone, sizeof(r.timezone), "%.64s", spec->timezone);
	struct recurrence head, tail;
	assert_int_equal(recurrence_split(&r, date, &head, &tail), 0);
	snprintf(tail.start_time, sizeof(tail.start_time), "%.8s", new_time);
	fixture_exec(db, "UPDATE show_recurrences SET end_date = $2 WHERE id = $1",
		     DB_PARAMS(DB_I(rule), DB_T(head.end_date)));
	struct rule_spec t = *spec;
	t.start_date = tail.start_date;
	t.start_time = tail.start_time;
	t.end_date = tail.end_date[0] ? tail.end_date : NULL;
	int64_t id = add_rule(db, show, t);
	fixture_exec(db,
		     "UPDATE show_exceptions SET recurrence_id = $2 WHERE recurrence_id = $1"
		     " AND instance_date >= $3",
		     DB_PARAMS(DB_I(rule), DB_I(id), DB_T(date)));
	return id;
}

static void test_this_and_following(void **state)
{
	struct db *db = fixture_db();
	int64_t show = fixture_show(db, "Split");
	struct rule_spec spec = { "weekly", 1, 0, 0, "2027-01-04", "18:00", HOUR,
				  "Europe/Berlin", NULL };
	int64_t rule = add_rule(db, show, spec);
	int64_t file = fixture_file(db, "Song", "Band", 3 * MIN);
	int64_t from = utc("2027-01-01T00:00:00Z"), to = utc("2027-03-01T00:00:00Z");
	int64_t early = utc("2026-12-01T00:00:00Z");
	struct instances_report rep;
	materialise(db, from, to, early, &rep);
	instances_report_release(&rep);
	struct inst jan11 = inst_of(db, rule, "2027-01-11");
	struct inst feb1 = inst_of(db, rule, "2027-02-01");
	add_item(db, feb1.id, file, early);
	add_exception(db, rule, "2027-02-15", "cancelled", 0, 0);

	/* On 2027-01-20: "from 2027-02-01 on, at 20:00". */
	int64_t now = utc("2027-01-20T12:00:00Z");
	int64_t tail = split(db, rule, show, &spec, "2027-02-01", "20:00");
	materialise(db, from, to, now, &rep);
	assert_int_equal(rep.n_problems, 0);
	assert_int_equal(rep.created, 0);
	assert_int_equal(rep.updated, 3);	/* Feb 1, 8, 22 adopted by the new rule */
	assert_int_equal(rep.deleted, 1);	/* Feb 15: cancelled */
	instances_report_release(&rep);
	/* Past and before the split: the old rule's, untouched. */
	struct inst j11 = inst_of(db, rule, "2027-01-11");
	assert_int_equal(j11.id, jan11.id);
	assert_int_equal(j11.version, jan11.version);
	expect(db, rule, "2027-01-25", "2027-01-25T17:00:00Z", HOUR);
	/* From the split on: the new rule's, at 20:00 CET, with their items. */
	assert_false(inst_of(db, rule, "2027-02-01").found);
	struct inst f1 = inst_of(db, tail, "2027-02-01");
	assert_int_equal(f1.id, feb1.id);
	expect(db, tail, "2027-02-01", "2027-02-01T19:00:00Z", HOUR);
	expect(db, tail, "2027-02-08", "2027-02-08T19:00:00Z", HOUR);
	expect(db, tail, "2027-02-22", "2027-02-22T19:00:00Z", HOUR);
	assert_false(inst_of_show(db, show, "2027-02-15").found);
	assert_int_equal(count(db, "SELECT starts_at FROM schedule_items WHERE instance_id = $1",
			       DB_PARAMS(DB_I(feb1.id))),
			 utc("2027-02-01T19:00:00Z"));
	assert_int_equal(count(db,
			       "SELECT COUNT(*) FROM show_instances WHERE show_id = $1"
			       " AND recurrence_id = $2 AND instance_date >= '2027-02-01'",
			       DB_PARAMS(DB_I(show), DB_I(rule))),
			 0);
	materialise_nothing(db, from, to, now);
	/* Later windows belong to the new rule only. */
	materialise(db, to, utc("2027-04-01T00:00:00Z"), now, &rep);
	assert_int_equal(rep.created, 5);
	instances_report_release(&rep);
	assert_int_equal(count(db,
			       "SELECT COUNT(*) FROM show_instances WHERE show_id = $1"
			       " AND instance_date >= '2027-03-01' AND recurrence_id <> $2",
			       DB_PARAMS(DB_I(show), DB_I(tail))),
			 0);
	db_close(db);
}

static void test_split_across_window_edge(void **state)
{
	/* The old row is in the window, the new rule's occurrence of the
	 * same date is not (it starts later): the row is still kept. */
	struct db *db = fixture_db();
	int64_t show = fixture_show(db, "Edge");
	struct rule_spec spec = { "weekly", 1, 0, 0, "2027-01-04", "08:00", HOUR, "UTC", NULL };
	int64_t rule = add_rule(db, show, spec);
	int64_t file = fixture_file(db, "Song", "Band", 3 * MIN);
	int64_t now = utc("2026-12-01T00:00:00Z");
	struct instances_report rep;
	materialise(db, utc("2027-02-01T00:00:00Z"), utc("2027-02-01T12:00:00Z"), now, &rep);
	assert_int_equal(rep.created, 1);
	instances_report_release(&rep);
	struct inst feb1 = inst_of(db, rule, "2027-02-01");
	add_item(db, feb1.id, file, now);
	int64_t tail = split(db, rule, show, &spec, "2027-02-01", "20:00");
	materialise(db, utc("2027-02-01T00:00:00Z"), utc("2027-02-01T12:00:00Z"), now, &rep);
	assert_int_equal(rep.deleted, 0);
	assert_int_equal(rep.updated, 1);
	instances_report_release(&rep);
	struct inst f1 = inst_of(db, tail, "2027-02-01");
	assert_int_equal(f1.id, feb1.id);
	assert_int_equal(f1.starts_at, utc("2027-02-01T20:00:00Z"));
	assert_int_equal(items_in(db, feb1.id), 1);
	db_close(db);
}

static struct inst rebroadcast_of(struct db *db, int64_t rb, int64_t original)
{
	return inst_where(db,
			  "SELECT id, starts_at, ends_at, version, linked_to, recurrence_id"
			  " FROM show_instances"
			  " WHERE rebroadcast_rule_id = $1 AND rebroadcast_of = $2",
			  DB_PARAMS(DB_I(rb), DB_I(original)));
}

static void test_rebroadcasts(void **state)
{
	struct db *db = fixture_db();
	int64_t show = fixture_show(db, "Saturday");
	/* Saturdays 10:00-12:00 in Berlin; again the same day at 22:00 and
	 * the next day at 09:00. */
	int64_t rule = add_rule(db, show,
				(struct rule_spec){ "weekly", 1 << 5, 0, 0, "2027-03-20", "10:00",
						    2 * HOUR, "Europe/Berlin", NULL });
	int64_t same_day = fixture_int(db,
				       "INSERT INTO show_rebroadcasts (show_id, offset_days,"
				       " start_time, created_at) VALUES ($1, 0, '22:00', 0)"
				       " RETURNING id",
				       DB_PARAMS(DB_I(show)));
	int64_t next_day = fixture_int(db,
				       "INSERT INTO show_rebroadcasts (show_id, offset_days,"
				       " start_time, created_at) VALUES ($1, 1, '09:00', 0)"
				       " RETURNING id",
				       DB_PARAMS(DB_I(show)));
	int64_t from = utc("2027-03-15T00:00:00Z"), to = utc("2027-04-01T00:00:00Z");
	int64_t now = utc("2027-01-01T00:00:00Z");
	struct instances_report rep;
	materialise(db, from, to, now, &rep);
	assert_int_equal(rep.created, 2 * 3);	/* Mar 20, 27 and their rebroadcasts */
	instances_report_release(&rep);
	struct inst mar20 = inst_of(db, rule, "2027-03-20");
	struct inst mar27 = inst_of(db, rule, "2027-03-27");
	assert_int_equal(mar27.starts_at, utc("2027-03-27T09:00:00Z"));
	/* 22:00 CET on the 27th; 09:00 CEST on the 28th (the change was
	 * that night). */
	struct inst r0 = rebroadcast_of(db, same_day, mar27.id);
	assert_true(r0.found);
	assert_int_equal(r0.starts_at, utc("2027-03-27T21:00:00Z"));
	assert_int_equal(r0.ends_at - r0.starts_at, 2 * HOUR);
	assert_int_equal(r0.recurrence_id, 0);
	struct inst r1 = rebroadcast_of(db, next_day, mar27.id);
	assert_int_equal(r1.starts_at, utc("2027-03-28T07:00:00Z"));
	assert_int_equal(r1.ends_at - r1.starts_at, 2 * HOUR);
	assert_int_equal(rebroadcast_of(db, next_day, mar20.id).starts_at,
			 utc("2027-03-21T08:00:00Z"));
	materialise_nothing(db, from, to, now);

	/* The rebroadcast moves to 23:00. */
	fixture_exec(db, "UPDATE show_rebroadcasts SET start_time = '23:00' WHERE id = $1",
		     DB_PARAMS(DB_I(same_day)));
	materialise(db, from, to, now, &rep);
	assert_int_equal(rep.updated, 2);
	instances_report_release(&rep);
	assert_int_equal(rebroadcast_of(db, same_day, mar27.id).starts_at,
			 utc("2027-03-27T22:00:00Z"));
	assert_int_equal(rebroadcast_of(db, same_day, mar27.id).id, r0.id);

	/* The original is moved by an hour: its rebroadcasts keep their
	 * clock times, with the new length. */
	add_exception(db, rule, "2027-03-20", "moved", utc("2027-03-20T10:00:00Z"),
		      utc("2027-03-20T11:00:00Z"));
	materialise(db, from, to, now, &rep);
	assert_int_equal(rep.updated, 3);
	instances_report_release(&rep);
	struct inst r20 = rebroadcast_of(db, next_day, mar20.id);
	assert_int_equal(r20.starts_at, utc("2027-03-21T08:00:00Z"));
	assert_int_equal(r20.ends_at - r20.starts_at, HOUR);

	/* Cancelled: the original and its rebroadcasts go. */
	add_exception(db, rule, "2027-03-27", "cancelled", 0, 0);
	materialise(db, from, to, now, &rep);
	assert_int_equal(rep.deleted, 3);
	instances_report_release(&rep);
	assert_false(rebroadcast_of(db, same_day, mar27.id).found);
	assert_int_equal(rows_of(db, show), 3);
	materialise_nothing(db, from, to, now);
	db_close(db);
}

static void test_linked_shows(void **state)
{
	struct db *db = fixture_db();
	int64_t show = fixture_show(db, "Linked");
	fixture_exec(db, "UPDATE shows SET linked = $2 WHERE id = $1",
		     DB_PARAMS(DB_I(show), DB_B(true)));
	int64_t other = fixture_show(db, "Not linked");
	int64_t rule = add_rule(db, show,
				(struct rule_spec){ "weekly", 1 | 4, 0, 0, "2027-01-04", "18:00",
						    HOUR, "Europe/Berlin", NULL });
	int64_t orule = add_rule(db, other,
				 (struct rule_spec){ "weekly", 1, 0, 0, "2027-01-04", "08:00", HOUR,
						     "Europe/Berlin", NULL });
	int64_t from = utc("2027-01-01T00:00:00Z"), to = utc("2027-02-01T00:00:00Z");
	int64_t now = utc("2026-12-01T00:00:00Z");
	struct instances_report rep;
	materialise(db, from, to, now, &rep);
	assert_int_equal(rep.relinked, 7);	/* 8 instances, the first is the root */
	instances_report_release(&rep);
	struct inst root = inst_of(db, rule, "2027-01-04");
	assert_int_equal(root.linked_to, 0);
	assert_int_equal(inst_of(db, rule, "2027-01-06").linked_to, root.id);
	assert_int_equal(inst_of(db, rule, "2027-01-27").linked_to, root.id);
	assert_int_equal(inst_of(db, orule, "2027-01-11").linked_to, 0);
	int64_t content = 0;
	assert_int_equal(placement_content_instance(db, inst_of(db, rule, "2027-01-13").id,
						    &content),
			 0);
	assert_int_equal(content, root.id);
	materialise_nothing(db, from, to, now);
	/* A later window links to the same root. */
	materialise(db, to, utc("2027-02-08T00:00:00Z"), now, &rep);
	assert_int_equal(rep.created, 3);	/* and the other show's Feb 1 */
	assert_int_equal(rep.relinked, 2);
	instances_report_release(&rep);
	assert_int_equal(inst_of(db, rule, "2027-02-03").linked_to, root.id);

	/* No longer linked: the links go. */
	fixture_exec(db, "UPDATE shows SET linked = $2 WHERE id = $1",
		     DB_PARAMS(DB_I(show), DB_B(false)));
	materialise(db, from, to, now, &rep);
	assert_int_equal(rep.relinked, 9);
	instances_report_release(&rep);
	assert_int_equal(count(db,
			       "SELECT COUNT(*) FROM show_instances WHERE linked_to IS NOT NULL",
			       NULL, 0),
			 0);
	db_close(db);
}

static void test_broken_rule(void **state)
{
	struct db *db = fixture_db();
	int64_t show = fixture_show(db, "Mixed");
	int64_t good = add_rule(db, show,
				(struct rule_spec){ "weekly", 1, 0, 0, "2027-01-04", "18:00", HOUR,
						    "Europe/Berlin", NULL });
	int64_t no_day = add_rule(db, show,
				  (struct rule_spec){ "weekly", 0, 0, 0, "2027-01-04", "10:00",
						      HOUR, "Europe/Berlin", NULL });
	int64_t mars = add_rule(db, show,
				(struct rule_spec){ "weekly", 2, 0, 0, "2027-01-04", "10:00", HOUR,
						    "Mars/Olympus_Mons", NULL });
	int64_t bad_date = add_rule(db, show,
				    (struct rule_spec){ "once", 0, 0, 0, "2027-02-30", "10:00",
							HOUR, "Europe/Berlin", NULL });
	int64_t from = utc("2027-01-01T00:00:00Z"), to = utc("2027-02-01T00:00:00Z");
	int64_t now = utc("2026-12-01T00:00:00Z");
	struct instances_report rep;
	materialise(db, from, to, now, &rep);
	assert_int_equal(rep.created, 4);
	assert_int_equal(rep.n_problems, 3);
	/* Zones are checked as the rules are read, the rest as they are
	 * expanded. */
	assert_int_equal(rep.problems[0].recurrence_id, mars);
	assert_int_equal(rep.problems[0].show_id, show);
	assert_int_equal(rep.problems[0].error, -ENOENT);
	assert_string_equal(rep.problems[0].reason, "unknown time zone 'Mars/Olympus_Mons'");
	assert_int_equal(rep.problems[1].recurrence_id, no_day);
	assert_int_equal(rep.problems[1].show_id, show);
	assert_int_equal(rep.problems[1].error, -EINVAL);
	assert_string_equal(rep.problems[1].reason, "a weekly rule needs at least one weekday");
	assert_int_equal(rep.problems[2].recurrence_id, bad_date);
	assert_string_equal(rep.problems[2].reason, "start_date is not a date (YYYY-MM-DD)");
	instances_report_release(&rep);
	assert_int_equal(rows_of(db, show), 4);
	expect(db, good, "2027-01-04", "2027-01-04T17:00:00Z", HOUR);

	/* A rule that breaks keeps its rows until it is fixed. */
	fixture_exec(db, "UPDATE show_recurrences SET weekdays = 0 WHERE id = $1",
		     DB_PARAMS(DB_I(good)));
	materialise(db, from, to, now, &rep);
	assert_int_equal(rep.n_problems, 4);
	assert_int_equal(rep.deleted, 0);
	instances_report_release(&rep);
	assert_int_equal(rows_of(db, show), 4);
	db_close(db);
}

static void test_list(void **state)
{
	struct db *db = fixture_db();
	int64_t a = fixture_show(db, "A 'quoted' show");
	int64_t b = fixture_show(db, "B");
	add_rule(db, a, (struct rule_spec){ "weekly", 1, 0, 0, "2027-01-04", "23:00", 2 * HOUR,
					    "UTC", NULL });
	add_rule(db, b, (struct rule_spec){ "weekly", 2, 0, 0, "2027-01-05", "00:30", HOUR, "UTC",
					    NULL });
	struct instances_report rep;
	materialise(db, utc("2027-01-01T00:00:00Z"), utc("2027-02-01T00:00:00Z"),
		    utc("2026-12-01T00:00:00Z"), &rep);
	instances_report_release(&rep);
	struct instance_rows rows;
	/* Tuesday 2027-01-05 00:00 .. 01:00: A's Monday show still runs. */
	assert_int_equal(instances_list(db, utc("2027-01-05T00:00:00Z"),
					utc("2027-01-05T01:00:00Z"), &rows),
			 0);
	assert_int_equal(rows.n, 2);
	assert_int_equal(rows.items[0].show_id, a);
	assert_string_equal(rows.items[0].show_name, "A 'quoted' show");
	assert_int_equal(rows.items[0].starts_at, utc("2027-01-04T23:00:00Z"));
	assert_string_equal(rows.items[0].instance_date, "2027-01-04");
	assert_int_equal(rows.items[0].version, 1);
	assert_int_equal(rows.items[1].show_id, b);
	assert_int_equal(rows.items[1].starts_at, utc("2027-01-05T00:30:00Z"));
	assert_int_equal(rows.items[1].linked_to, 0);
	assert_int_equal(rows.items[1].rebroadcast_of, 0);
	instance_rows_release(&rows);
	/* Ends exactly at the window's start: not in it. */
	assert_int_equal(instances_list(db, utc("2027-01-05T01:30:00Z"),
					utc("2027-01-11T23:00:00Z"), &rows),
			 0);
	assert_int_equal(rows.n, 0);
	instance_rows_release(&rows);
	assert_int_equal(instances_list(db, utc("2027-01-01T00:00:00Z"),
					utc("2027-02-01T00:00:00Z"), &rows),
			 0);
	assert_int_equal(rows.n, 8);
	for (size_t i = 1; i < rows.n; i++)
		assert_true(rows.items[i - 1].starts_at <= rows.items[i].starts_at);
	instance_rows_release(&rows);
	assert_int_equal(instances_list(db, 10, 5, &rows), -EINVAL);
	db_close(db);
}

static void test_far_window(void **state)
{
	/* A week of 2037 of a daily rule from 2027: only that week's rows. */
	struct db *db = fixture_db();
	int64_t show = fixture_show(db, "Daily");
	struct rule_spec spec = { "weekly", 127, 0, 0, "2027-01-01", "12:00", HOUR,
				  "Europe/Berlin", NULL };
	int64_t rule = add_rule(db, show, spec);
	struct instances_report rep;
	materialise(db, utc("2037-06-01T00:00:00Z"), utc("2037-06-08T00:00:00Z"),
		    utc("2027-01-01T00:00:00Z"), &rep);
	assert_int_equal(rep.created, 7);
	instances_report_release(&rep);
	assert_int_equal(rows_of(db, show), 7);
	expect(db, rule, "2037-06-01", "2037-06-01T10:00:00Z", HOUR);
	/* An empty window changes nothing; a reversed one is refused. */
	materialise_nothing(db, utc("2037-06-01T00:00:00Z"), utc("2037-06-01T00:00:00Z"),
			    utc("2027-01-01T00:00:00Z"));
	assert_int_equal(instances_materialise(db, 10, 5, 0, zoneinfo, &rep), -EINVAL);
	db_close(db);
}

int main(int argc, char **argv)
{
	const char *root = getenv("ONAIR_SOURCE_ROOT");
	snprintf(zoneinfo, sizeof(zoneinfo), "%s/tests/station/zoneinfo", root ? root : ".");
	if (fixture_init(argc, argv) < 0)
		return 2;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_weekly_and_dst_berlin),
		cmocka_unit_test(test_monthly_new_york),
		cmocka_unit_test(test_dst_edges),
		cmocka_unit_test(test_exceptions),
		cmocka_unit_test(test_rule_edits),
		cmocka_unit_test(test_this_and_following),
		cmocka_unit_test(test_split_across_window_edge),
		cmocka_unit_test(test_rebroadcasts),
		cmocka_unit_test(test_linked_shows),
		cmocka_unit_test(test_broken_rule),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_far_window),
	};
	int failed = cmocka_run_group_tests_name(fixture_group("instances"), tests, NULL, NULL);
	fixture_fini();
	return failed ? 1 : 0;
}
