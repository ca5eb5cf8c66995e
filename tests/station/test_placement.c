/*
 * test_placement.c - items of a show instance (src/station/placement.h),
 * on SQLite and PostgreSQL (argv[1]).
 */
#include <errno.h>
#include <pthread.h>
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
#include "station/placement.h"
#include "station_fixture.h"

#define SEC (USEC_PER_SEC)
#define MIN (60 * SEC)
#define HOUR (60 * MIN)

/* Now, for the edits: instances start later. */
#define NOW INT64_C(1798761600000000)	/* 2027-01-01T00:00:00Z */
#define T0 (NOW + 4 * 24 * HOUR + 10 * HOUR)	/* 2027-01-05T10:00:00Z */

struct item_row {
	int64_t id, position, starts_at, ends_at, cue_in, cue_out;
	bool cue_in_null, cue_out_null;
};

/* The items of instance in order (at most max). */
static size_t items_of(struct db *db, int64_t instance, struct item_row *out, size_t max)
{
	struct db_rows *rows;
	int r = db_query(db,
			 "SELECT id, position, starts_at, ends_at, cue_in_us, cue_out_us"
			 " FROM schedule_items WHERE instance_id = $1 ORDER BY position, id",
			 DB_PARAMS(DB_I(instance)), &rows);
	assert_int_equal(r, 0);
	size_t n = 0;
	while (db_rows_next(rows)) {
		assert_true(n < max);
		out[n] = (struct item_row){
			.id = db_col_int(rows, 0),
			.position = db_col_int(rows, 1),
			.starts_at = db_col_int(rows, 2),
			.ends_at = db_col_int(rows, 3),
			.cue_in = db_col_int(rows, 4),
			.cue_out = db_col_int(rows, 5),
			.cue_in_null = db_col_is_null(rows, 4),
			.cue_out_null = db_col_is_null(rows, 5),
		};
		n++;
	}
	assert_int_equal(db_rows_error(rows), 0);
	db_rows_free(rows);
	return n;
}

static int64_t version_of(struct db *db, int64_t instance)
{
	return fixture_int(db, "SELECT version FROM show_instances WHERE id = $1",
			   DB_PARAMS(DB_I(instance)));
}

static int64_t count_items(struct db *db, int64_t instance)
{
	return fixture_int(db, "SELECT COUNT(*) FROM schedule_items WHERE instance_id = $1",
			   DB_PARAMS(DB_I(instance)));
}

static struct placement_item file_item(int64_t file_id)
{
	struct placement_item it;
	placement_item_init(&it, PLACEMENT_FILE);
	it.file_id = file_id;
	return it;
}

static struct placement_item timed_item(enum placement_kind kind, int64_t length)
{
	struct placement_item it;
	placement_item_init(&it, kind);
	it.length_us = length;
	return it;
}

/* Insert one item, expecting success; returns its id. */
static int64_t put(struct db *db, int64_t instance, long position, struct placement_item it)
{
	char err[256] = "";
	int64_t id = 0, v = 0;
	int r = placement_insert(db, NOW, instance, version_of(db, instance), position, &it, 1, &v,
				 &id, err, sizeof(err));
	if (r != 0)
		fail_msg("placement_insert: %d %s", r, err);
	return id;
}

/* Positions 0..n-1 and every start at the previous end minus crossfade
 * (given per gap, or 0 when cf is NULL). */
static void check_chain(struct db *db, int64_t instance, int64_t start, const int64_t *lengths,
			const int64_t *cf, size_t n)
{
	struct item_row it[64];
	assert_int_equal(items_of(db, instance, it, 64), n);
	int64_t t = start;
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			t -= cf ? cf[i] : 0;
		assert_int_equal(it[i].position, (int64_t)i);
		assert_int_equal(it[i].starts_at, t);
		assert_int_equal(it[i].ends_at, t + lengths[i]);
		t += lengths[i];
	}
}

struct station {
	struct db *db;
	int64_t show, inst;	/* T0 .. T0 + 1 h */
	int64_t f60, f120, f30;	/* files of 60, 120, 30 s */
};

static void station(struct station *s)
{
	s->db = fixture_db();
	s->show = fixture_show(s->db, "Morning");
	s->inst = fixture_instance(s->db, s->show, T0, T0 + HOUR);
	s->f60 = fixture_file(s->db, "Sixty", "A", 60 * SEC);
	s->f120 = fixture_file(s->db, "Two minutes", "B", 120 * SEC);
	s->f30 = fixture_file(s->db, "Thirty", "C", 30 * SEC);
}

static void test_back_to_back(void **state)
{
	struct station s;
	station(&s);
	struct placement_item items[3] = { file_item(s.f60), file_item(s.f120),
					   file_item(s.f30) };
	int64_t ids[3] = { 0 }, v = 0;
	char err[256] = "";
	assert_int_equal(placement_insert(s.db, NOW, s.inst, 1, -1, items, 3, &v, ids, err,
					  sizeof(err)),
			 0);
	assert_int_equal(v, 2);
	assert_int_equal(version_of(s.db, s.inst), 2);
	const int64_t len[] = { 60 * SEC, 120 * SEC, 30 * SEC };
	check_chain(s.db, s.inst, T0, len, NULL, 3);
	struct item_row it[3];
	items_of(s.db, s.inst, it, 3);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(it[i].id, ids[i]);
		/* Files keep NULL cue overrides: the file's own are used. */
		assert_true(it[i].cue_in_null);
		assert_true(it[i].cue_out_null);
	}
	assert_int_equal(fixture_int(s.db,
				     "SELECT COUNT(*) FROM schedule_items"
				     " WHERE origin = 'manual' AND kind = 'file'",
				     NULL, 0),
			 3);
	db_close(s.db);
}

static void test_crossfades(void **state)
{
	struct station s;
	station(&s);
	fixture_exec(s.db, "UPDATE station_settings SET default_crossfade_us = $1",
		     DB_PARAMS(DB_I(5 * SEC)));
	struct placement_item items[4] = { file_item(s.f60), file_item(s.f120), file_item(s.f30),
					   file_item(s.f60) };
	items[0].crossfade_us = 20 * SEC;	/* first item: no crossfade */
	items[1].crossfade_us = 10 * SEC;
	items[3].crossfade_us = 0;
	char err[256] = "";
	assert_int_equal(placement_insert(s.db, NOW, s.inst, 1, -1, items, 4, NULL, NULL, err,
					  sizeof(err)),
			 0);
	const int64_t len[] = { 60 * SEC, 120 * SEC, 30 * SEC, 60 * SEC };
	const int64_t cf[] = { 0, 10 * SEC, 5 * SEC, 0 };
	check_chain(s.db, s.inst, T0, len, cf, 4);

	/* A station default longer than a jingle is shortened to fit it. */
	int64_t jingle = fixture_file(s.db, "Jingle", "J", 2 * SEC);
	put(s.db, s.inst, -1, file_item(jingle));
	struct item_row it[5];
	assert_int_equal(items_of(s.db, s.inst, it, 5), 5);
	assert_true(it[4].starts_at > it[3].starts_at);
	assert_int_equal(it[4].ends_at, it[3].ends_at + 1);
	db_close(s.db);
}

static void test_cue_overrides(void **state)
{
	struct station s;
	station(&s);
	int64_t f = fixture_file(s.db, "Long", "D", 300 * SEC);
	fixture_exec(s.db, "UPDATE files SET cue_in_us = $2, cue_out_us = $3 WHERE id = $1",
		     DB_PARAMS(DB_I(f), DB_I(2 * SEC), DB_I(290 * SEC)));
	struct placement_item items[4] = { file_item(f), file_item(f), file_item(f),
					   file_item(f) };
	items[1].cue_in_us = 10 * SEC;
	items[2].cue_out_us = 100 * SEC;
	items[3].cue_in_us = 0;
	items[3].cue_out_us = 300 * SEC;
	char err[256] = "";
	assert_int_equal(placement_insert(s.db, NOW, s.inst, 1, -1, items, 4, NULL, NULL, err,
					  sizeof(err)),
			 0);
	const int64_t len[] = { 288 * SEC, 280 * SEC, 98 * SEC, 300 * SEC };
	check_chain(s.db, s.inst, T0, len, NULL, 4);
	struct item_row it[4];
	items_of(s.db, s.inst, it, 4);
	assert_true(it[0].cue_in_null);
	assert_int_equal(it[1].cue_in, 10 * SEC);
	assert_true(it[1].cue_out_null);
	assert_int_equal(it[2].cue_out, 100 * SEC);

	/* The file's cue points change: a retime follows them. */
	fixture_exec(s.db, "UPDATE files SET cue_in_us = 0 WHERE id = $1", DB_PARAMS(DB_I(f)));
	assert_int_equal(placement_retime(s.db, s.inst), 0);
	const int64_t len2[] = { 290 * SEC, 280 * SEC, 100 * SEC, 300 * SEC };
	check_chain(s.db, s.inst, T0, len2, NULL, 4);
	db_close(s.db);
}

static void test_webstream_live_silence(void **state)
{
	struct station s;
	station(&s);
	int64_t ws = fixture_int(s.db,
				 "INSERT INTO webstreams (name, url, duration_us, created_at,"
				 " updated_at) VALUES ('Relay', 'http://example.com/s', $1, 0, 0)"
				 " RETURNING id",
				 DB_PARAMS(DB_I(HOUR)));
	struct placement_item items[4];
	placement_item_init(&items[0], PLACEMENT_WEBSTREAM);
	items[0].webstream_id = ws;
	placement_item_init(&items[1], PLACEMENT_WEBSTREAM);
	items[1].webstream_id = ws;
	items[1].length_us = 10 * MIN;
	items[2] = timed_item(PLACEMENT_LIVE, 30 * MIN);
	items[3] = timed_item(PLACEMENT_SILENCE, 5 * SEC);
	char err[256] = "";
	assert_int_equal(placement_insert(s.db, NOW, s.inst, 1, -1, items, 4, NULL, NULL, err,
					  sizeof(err)),
			 0);
	const int64_t len[] = { HOUR, 10 * MIN, 30 * MIN, 5 * SEC };
	check_chain(s.db, s.inst, T0, len, NULL, 4);
	struct item_row it[4];
	items_of(s.db, s.inst, it, 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(it[i].cue_in, 0);
		assert_int_equal(it[i].cue_out, len[i]);
	}
	db_close(s.db);
}

static void test_insert_positions(void **state)
{
	struct station s;
	station(&s);
	int64_t a = put(s.db, s.inst, -1, file_item(s.f60));	/* [a] */
	int64_t b = put(s.db, s.inst, 0, file_item(s.f120));	/* [b a] */
	int64_t c = put(s.db, s.inst, 1, file_item(s.f30));	/* [b c a] */
	int64_t d = put(s.db, s.inst, 3, file_item(s.f30));	/* [b c a d] */
	struct item_row it[4];
	assert_int_equal(items_of(s.db, s.inst, it, 4), 4);
	assert_int_equal(it[0].id, b);
	assert_int_equal(it[1].id, c);
	assert_int_equal(it[2].id, a);
	assert_int_equal(it[3].id, d);
	const int64_t len[] = { 120 * SEC, 30 * SEC, 60 * SEC, 30 * SEC };
	check_chain(s.db, s.inst, T0, len, NULL, 4);
	assert_int_equal(version_of(s.db, s.inst), 5);

	/* Several at once in the middle. */
	struct placement_item two[2] = { file_item(s.f60), file_item(s.f60) };
	int64_t ids[2];
	char err[256] = "";
	assert_int_equal(placement_insert(s.db, NOW, s.inst, 5, 2, two, 2, NULL, ids, err,
					  sizeof(err)),
			 0);
	struct item_row it6[6];
	assert_int_equal(items_of(s.db, s.inst, it6, 6), 6);
	assert_int_equal(it6[2].id, ids[0]);
	assert_int_equal(it6[3].id, ids[1]);
	assert_int_equal(it6[4].id, a);
	const int64_t len6[] = { 120 * SEC, 30 * SEC, 60 * SEC, 60 * SEC, 60 * SEC, 30 * SEC };
	check_chain(s.db, s.inst, T0, len6, NULL, 6);
	db_close(s.db);
}

static void test_move_within(void **state)
{
	struct station s;
	station(&s);
	int64_t a = put(s.db, s.inst, -1, file_item(s.f60));
	int64_t b = put(s.db, s.inst, -1, file_item(s.f120));
	int64_t c = put(s.db, s.inst, -1, file_item(s.f30));
	int64_t v = 0;
	char err[256] = "";
	/* c to the front: [c a b] */
	assert_int_equal(placement_move(s.db, NOW, s.inst, 4, c, s.inst, 4, 0, &v, err,
					sizeof(err)),
			 0);
	assert_int_equal(v, 5);
	struct item_row it[3];
	items_of(s.db, s.inst, it, 3);
	assert_int_equal(it[0].id, c);
	assert_int_equal(it[1].id, a);
	assert_int_equal(it[2].id, b);
	const int64_t len[] = { 30 * SEC, 60 * SEC, 120 * SEC };
	check_chain(s.db, s.inst, T0, len, NULL, 3);
	/* a to the end (-1): [c b a] */
	assert_int_equal(placement_move(s.db, NOW, s.inst, 5, a, s.inst, 5, -1, &v, err,
					sizeof(err)),
			 0);
	items_of(s.db, s.inst, it, 3);
	assert_int_equal(it[0].id, c);
	assert_int_equal(it[1].id, b);
	assert_int_equal(it[2].id, a);
	/* Out of range: 0..2 without the moved one. */
	assert_int_equal(placement_move(s.db, NOW, s.inst, 6, a, s.inst, 6, 3, &v, err,
					sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "position 3 is out of range (0 to 2, or -1 for the end)");
	assert_int_equal(version_of(s.db, s.inst), 6);
	db_close(s.db);
}

static void test_move_between(void **state)
{
	struct station s;
	station(&s);
	int64_t other = fixture_instance(s.db, s.show, T0 + 2 * HOUR, T0 + 3 * HOUR);
	int64_t a = put(s.db, s.inst, -1, file_item(s.f60));
	int64_t b = put(s.db, s.inst, -1, file_item(s.f120));
	int64_t x = put(s.db, other, -1, file_item(s.f30));
	/* inst at version 3, other at 2. */
	char err[256] = "";
	int64_t v = 0;
	/* A stale target: nothing changes. */
	assert_int_equal(placement_move(s.db, NOW, s.inst, 3, a, other, 1, 0, &v, err,
					sizeof(err)),
			 -ESTALE);
	assert_string_equal(err, "the target show instance was changed by someone else (now "
				 "version 2, the edit was made on version 1): reload it and try "
				 "again");
	assert_int_equal(version_of(s.db, s.inst), 3);
	assert_int_equal(version_of(s.db, other), 2);
	assert_int_equal(count_items(s.db, s.inst), 2);
	/* A stale source. */
	assert_int_equal(placement_move(s.db, NOW, s.inst, 2, a, other, 2, 0, &v, err,
					sizeof(err)),
			 -ESTALE);
	assert_int_equal(version_of(s.db, other), 2);
	/* a to the front of other: [a x] and [b]. */
	assert_int_equal(placement_move(s.db, NOW, s.inst, 3, a, other, 2, 0, &v, err,
					sizeof(err)),
			 0);
	assert_int_equal(v, 4);
	assert_int_equal(version_of(s.db, s.inst), 4);
	assert_int_equal(version_of(s.db, other), 3);
	const int64_t len1[] = { 120 * SEC };
	check_chain(s.db, s.inst, T0, len1, NULL, 1);
	const int64_t len2[] = { 60 * SEC, 30 * SEC };
	check_chain(s.db, other, T0 + 2 * HOUR, len2, NULL, 2);
	struct item_row it[2];
	items_of(s.db, other, it, 2);
	assert_int_equal(it[0].id, a);
	assert_int_equal(it[1].id, x);
	(void)b;
	/* The item is no longer in inst. */
	assert_int_equal(placement_move(s.db, NOW, s.inst, 4, a, other, 3, 0, &v, err,
					sizeof(err)),
			 -ENOENT);
	char want[128];
	snprintf(want, sizeof(want), "item %lld is not in show instance %lld", (long long)a,
		 (long long)s.inst);
	assert_string_equal(err, want);
	db_close(s.db);
}

static void test_remove_and_replace(void **state)
{
	struct station s;
	station(&s);
	int64_t ids[5];
	for (int i = 0; i < 5; i++)
		ids[i] = put(s.db, s.inst, -1, file_item(i % 2 ? s.f60 : s.f30));
	/* [30 60 30 60 30] at version 6; remove 1, 3 (and 1 again). */
	int64_t gone[3] = { ids[1], ids[3], ids[1] };
	int64_t v = 0;
	char err[256] = "";
	assert_int_equal(placement_remove(s.db, NOW, s.inst, 6, gone, 3, &v, err, sizeof(err)),
			 0);
	assert_int_equal(v, 7);
	const int64_t len[] = { 30 * SEC, 30 * SEC, 30 * SEC };
	check_chain(s.db, s.inst, T0, len, NULL, 3);
	struct item_row it[3];
	items_of(s.db, s.inst, it, 3);
	assert_int_equal(it[0].id, ids[0]);
	assert_int_equal(it[1].id, ids[2]);
	assert_int_equal(it[2].id, ids[4]);
	/* Removing an unknown item changes nothing. */
	int64_t bad[2] = { ids[0], 999999 };
	assert_int_equal(placement_remove(s.db, NOW, s.inst, 7, bad, 2, &v, err, sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "item 999999 does not exist");
	assert_int_equal(count_items(s.db, s.inst), 3);
	assert_int_equal(version_of(s.db, s.inst), 7);

	/* Replace with two items, then (version ignored) with none. */
	struct placement_item two[2] = { file_item(s.f120), timed_item(PLACEMENT_SILENCE, SEC) };
	two[0].origin = "autoplaylist";
	assert_int_equal(placement_replace(s.db, NOW, s.inst, 7, two, 2, &v, err, sizeof(err)),
			 0);
	assert_int_equal(v, 8);
	const int64_t len2[] = { 120 * SEC, SEC };
	check_chain(s.db, s.inst, T0, len2, NULL, 2);
	assert_int_equal(fixture_int(s.db,
				     "SELECT COUNT(*) FROM schedule_items WHERE instance_id = $1"
				     " AND origin = 'autoplaylist'",
				     DB_PARAMS(DB_I(s.inst))),
			 1);
	assert_int_equal(placement_replace(s.db, NOW, s.inst, 3, two, 2, &v, err, sizeof(err)),
			 -ESTALE);
	assert_int_equal(placement_replace(s.db, NOW, s.inst, -1, NULL, 0, &v, err, sizeof(err)),
			 0);
	assert_int_equal(v, 9);
	assert_int_equal(count_items(s.db, s.inst), 0);
	db_close(s.db);
}

static void test_stale_edit(void **state)
{
	struct station s;
	station(&s);
	put(s.db, s.inst, -1, file_item(s.f60));
	/* Two editors read version 2; the first one's edit wins. */
	int64_t read_a = version_of(s.db, s.inst), read_b = read_a;
	struct placement_item it = file_item(s.f30);
	char err[256] = "";
	int64_t v = 0;
	assert_int_equal(placement_insert(s.db, NOW, s.inst, read_a, -1, &it, 1, &v, NULL, err,
					  sizeof(err)),
			 0);
	assert_int_equal(v, 3);
	struct item_row before[2];
	assert_int_equal(items_of(s.db, s.inst, before, 2), 2);
	assert_int_equal(placement_insert(s.db, NOW, s.inst, read_b, 0, &it, 1, &v, NULL, err,
					  sizeof(err)),
			 -ESTALE);
	assert_string_equal(err, "the show instance was changed by someone else (now version 3, "
				 "the edit was made on version 2): reload it and try again");
	assert_int_equal(placement_remove(s.db, NOW, s.inst, read_b, &before[0].id, 1, &v, err,
					  sizeof(err)),
			 -ESTALE);
	assert_int_equal(placement_move(s.db, NOW, s.inst, read_b, before[0].id, s.inst, read_b,
					1, &v, err, sizeof(err)),
			 -ESTALE);
	struct item_row after[2];
	assert_int_equal(items_of(s.db, s.inst, after, 2), 2);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(after[i].id, before[i].id);
		assert_int_equal(after[i].position, before[i].position);
		assert_int_equal(after[i].starts_at, before[i].starts_at);
		assert_int_equal(after[i].ends_at, before[i].ends_at);
	}
	assert_int_equal(version_of(s.db, s.inst), 3);
	db_close(s.db);
}

/* Insert it into s.inst at version 1 + the edits so far and expect code
 * and message want (NULL: do not check). Nothing must change. */
static void refused(struct station *s, struct placement_item *items, size_t n, long position,
		    int code, const char *want)
{
	int64_t v0 = version_of(s->db, s->inst), n0 = count_items(s->db, s->inst);
	char err[256] = "";
	int64_t v = -7;
	assert_int_equal(placement_insert(s->db, NOW, s->inst, v0, position, items, n, &v, NULL,
					  err, sizeof(err)),
			 code);
	if (want)
		assert_string_equal(err, want);
	assert_int_equal(v, -7);
	assert_int_equal(version_of(s->db, s->inst), v0);
	assert_int_equal(count_items(s->db, s->inst), n0);
}

static void test_errors(void **state)
{
	struct station s;
	station(&s);
	put(s.db, s.inst, -1, file_item(s.f60));
	char want[256];
	struct placement_item it;

	int64_t pending = fixture_file(s.db, "Pending", "P", 60 * SEC);
	fixture_exec(s.db, "UPDATE files SET import_status = 'pending' WHERE id = $1",
		     DB_PARAMS(DB_I(pending)));
	it = file_item(pending);
	snprintf(want, sizeof(want), "file %lld is not ready (pending analysis)",
		 (long long)pending);
	refused(&s, &it, 1, -1, -EINVAL, want);
	struct placement_item two[2] = { file_item(s.f30), file_item(pending) };
	snprintf(want, sizeof(want), "item 2: file %lld is not ready (pending analysis)",
		 (long long)pending);
	refused(&s, two, 2, -1, -EINVAL, want);

	int64_t failed = fixture_file(s.db, "Failed", "F", 60 * SEC);
	fixture_exec(s.db, "UPDATE files SET import_status = 'failed' WHERE id = $1",
		     DB_PARAMS(DB_I(failed)));
	it = file_item(failed);
	snprintf(want, sizeof(want), "file %lld is not ready (its analysis failed)",
		 (long long)failed);
	refused(&s, &it, 1, -1, -EINVAL, want);

	int64_t nodur = fixture_file(s.db, "No duration", "N", 60 * SEC);
	fixture_exec(s.db,
		     "UPDATE files SET duration_us = NULL, cue_in_us = NULL, cue_out_us = NULL"
		     " WHERE id = $1",
		     DB_PARAMS(DB_I(nodur)));
	it = file_item(nodur);
	snprintf(want, sizeof(want), "file %lld has no duration", (long long)nodur);
	refused(&s, &it, 1, -1, -EINVAL, want);

	it = file_item(999999);
	refused(&s, &it, 1, -1, -ENOENT, "file 999999 does not exist");

	it = file_item(s.f60);
	it.cue_in_us = 6 * SEC;
	it.cue_out_us = 5 * SEC;
	snprintf(want, sizeof(want), "file %lld: cue out (5.000 s) is not after cue in (6.000 s)",
		 (long long)s.f60);
	refused(&s, &it, 1, -1, -EINVAL, want);
	it.cue_in_us = 5 * SEC;
	refused(&s, &it, 1, -1, -EINVAL, NULL);
	it.cue_in_us = -1;
	it.cue_out_us = 61 * SEC;
	snprintf(want, sizeof(want),
		 "file %lld: cue out 61.000 s is beyond the file's duration (60.000 s)",
		 (long long)s.f60);
	refused(&s, &it, 1, -1, -EINVAL, want);
	it.cue_out_us = -1;
	it.cue_in_us = 60 * SEC;
	snprintf(want, sizeof(want),
		 "file %lld: cue in 60.000 s is beyond the file's duration (60.000 s)",
		 (long long)s.f60);
	refused(&s, &it, 1, -1, -EINVAL, want);

	it = timed_item(PLACEMENT_LIVE, 0);
	refused(&s, &it, 1, -1, -EINVAL, "a live item needs a length (length_us)");
	it = timed_item(PLACEMENT_SILENCE, -5);
	refused(&s, &it, 1, -1, -EINVAL, "a silence item needs a length (length_us)");
	it = timed_item(PLACEMENT_LIVE, 32 * 24 * HOUR);
	refused(&s, &it, 1, -1, -EINVAL, "the item is longer than 31 days");

	it = file_item(s.f30);
	refused(&s, &it, 1, 2, -EINVAL, "position 2 is out of range (0 to 1, or -1 for the end)");
	refused(&s, &it, 1, -2, -EINVAL,
		"position -2 is out of range (0 to 1, or -1 for the end)");

	it = file_item(s.f30);
	it.fade_in_us = -2;
	refused(&s, &it, 1, -1, -EINVAL, "fade_in_us is negative");
	it = file_item(s.f30);
	it.fade_out_us = -1000;
	refused(&s, &it, 1, -1, -EINVAL, "fade_out_us is negative");
	it = file_item(s.f30);
	it.crossfade_us = -3;
	refused(&s, &it, 1, -1, -EINVAL, "crossfade_us is negative");
	it = file_item(s.f30);
	it.crossfade_us = 30 * SEC;
	refused(&s, &it, 1, -1, -EINVAL,
		"the crossfade (30.000 s) is not shorter than the item (30.000 s)");

	placement_item_init(&it, PLACEMENT_WEBSTREAM);
	it.webstream_id = 4242;
	refused(&s, &it, 1, -1, -ENOENT, "webstream 4242 does not exist");
	it = timed_item(PLACEMENT_LIVE, MIN);
	it.cue_in_us = 0;
	refused(&s, &it, 1, -1, -EINVAL,
		"cue points are only for files: give a live item its length_us");
	placement_item_init(&it, PLACEMENT_FILE);
	refused(&s, &it, 1, -1, -EINVAL, "a file item needs a file_id");
	it = file_item(s.f30);
	it.source_playlist_id = 777;
	refused(&s, &it, 1, -1, -ENOENT, "playlist 777 does not exist");
	refused(&s, &it, 0, -1, -EINVAL, "no items to insert");

	/* Unknown instance and items. */
	char err[256] = "";
	it = file_item(s.f30);
	assert_int_equal(placement_insert(s.db, NOW, 999999, 1, -1, &it, 1, NULL, NULL, err,
					  sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "show instance 999999 does not exist");
	assert_int_equal(placement_move(s.db, NOW, s.inst, 2, 999999, s.inst, 2, 0, NULL, err,
					sizeof(err)),
			 -ENOENT);
	assert_string_equal(err, "item 999999 does not exist");
	assert_int_equal(version_of(s.db, s.inst), 2);
	int64_t content;
	assert_int_equal(placement_content_instance(s.db, 999999, &content), -ENOENT);
	struct placement_fill f;
	assert_int_equal(placement_fill(s.db, 999999, &f), -ENOENT);
	assert_int_equal(placement_retime(s.db, 999999), -ENOENT);
	db_close(s.db);
}

static void test_fill(void **state)
{
	struct station s;
	station(&s);
	struct placement_fill f;
	assert_int_equal(placement_fill(s.db, s.inst, &f), 0);
	assert_int_equal(f.n_items, 0);
	assert_int_equal(f.scheduled_us, 0);
	assert_int_equal(f.gap_us, HOUR);
	assert_int_equal(f.overbooked_us, 0);

	/* Underbooked: 50 minutes of live. */
	put(s.db, s.inst, -1, timed_item(PLACEMENT_LIVE, 50 * MIN));
	assert_int_equal(placement_fill(s.db, s.inst, &f), 0);
	assert_int_equal(f.instance_id, s.inst);
	assert_int_equal(f.starts_at, T0);
	assert_int_equal(f.ends_at, T0 + HOUR);
	assert_int_equal(f.n_items, 1);
	assert_int_equal(f.scheduled_us, 50 * MIN);
	assert_int_equal(f.gap_us, 10 * MIN);
	assert_int_equal(f.overbooked_us, 0);

	/* Exactly full. */
	put(s.db, s.inst, -1, timed_item(PLACEMENT_SILENCE, 10 * MIN));
	assert_int_equal(placement_fill(s.db, s.inst, &f), 0);
	assert_int_equal(f.gap_us, 0);
	assert_int_equal(f.overbooked_us, 0);

	/* Overbooked by 2 minutes: allowed. */
	put(s.db, s.inst, -1, file_item(s.f120));
	assert_int_equal(placement_fill(s.db, s.inst, &f), 0);
	assert_int_equal(f.n_items, 3);
	assert_int_equal(f.scheduled_us, HOUR + 2 * MIN);
	assert_int_equal(f.gap_us, 0);
	assert_int_equal(f.overbooked_us, 2 * MIN);
	db_close(s.db);
}

static void test_linked(void **state)
{
	struct station s;
	station(&s);
	int64_t later = fixture_instance(s.db, s.show, T0 + 24 * HOUR, T0 + 24 * HOUR + 2 * HOUR);
	fixture_exec(s.db, "UPDATE show_instances SET linked_to = $1 WHERE id = $2",
		     DB_PARAMS(DB_I(s.inst), DB_I(later)));
	int64_t content = 0;
	assert_int_equal(placement_content_instance(s.db, later, &content), 0);
	assert_int_equal(content, s.inst);
	assert_int_equal(placement_content_instance(s.db, s.inst, &content), 0);
	assert_int_equal(content, s.inst);

	/* An edit addressed to the linked instance goes to the root, and its
	 * version is the root's. */
	struct placement_item it = file_item(s.f60);
	int64_t v = 0, id = 0;
	char err[256] = "";
	assert_int_equal(placement_insert(s.db, NOW, later, 1, -1, &it, 1, &v, &id, err,
					  sizeof(err)),
			 0);
	assert_int_equal(v, 2);
	assert_int_equal(version_of(s.db, s.inst), 2);
	assert_int_equal(version_of(s.db, later), 1);
	assert_int_equal(count_items(s.db, s.inst), 1);
	assert_int_equal(count_items(s.db, later), 0);
	const int64_t len[] = { 60 * SEC };
	check_chain(s.db, s.inst, T0, len, NULL, 1);
	/* later's own version (1) is not the one checked. */
	fixture_exec(s.db, "UPDATE show_instances SET version = 5 WHERE id = $1",
		     DB_PARAMS(DB_I(later)));
	assert_int_equal(placement_insert(s.db, NOW, later, 5, -1, &it, 1, &v, NULL, err,
					  sizeof(err)),
			 -ESTALE);
	assert_int_equal(placement_remove(s.db, NOW, later, 2, &id, 1, &v, err, sizeof(err)), 0);
	assert_int_equal(count_items(s.db, s.inst), 0);

	/* The fill of the linked instance: the root's items, its own length. */
	put(s.db, s.inst, -1, timed_item(PLACEMENT_LIVE, 90 * MIN));
	struct placement_fill f;
	assert_int_equal(placement_fill(s.db, later, &f), 0);
	assert_int_equal(f.instance_id, later);
	assert_int_equal(f.n_items, 1);
	assert_int_equal(f.scheduled_us, 90 * MIN);
	assert_int_equal(f.gap_us, 30 * MIN);
	assert_int_equal(placement_fill(s.db, s.inst, &f), 0);
	assert_int_equal(f.overbooked_us, 30 * MIN);
	db_close(s.db);
}

static void test_retime_after_default_crossfade(void **state)
{
	struct station s;
	station(&s);
	struct placement_item items[3] = { file_item(s.f60), file_item(s.f120),
					   file_item(s.f30) };
	items[2].crossfade_us = SEC;
	char err[256] = "";
	assert_int_equal(placement_insert(s.db, NOW, s.inst, 1, -1, items, 3, NULL, NULL, err,
					  sizeof(err)),
			 0);
	const int64_t len[] = { 60 * SEC, 120 * SEC, 30 * SEC };
	const int64_t cf0[] = { 0, 0, SEC };
	check_chain(s.db, s.inst, T0, len, cf0, 3);
	fixture_exec(s.db, "UPDATE station_settings SET default_crossfade_us = $1",
		     DB_PARAMS(DB_I(3 * SEC)));
	assert_int_equal(placement_retime(s.db, s.inst), 0);
	const int64_t cf1[] = { 0, 3 * SEC, SEC };
	check_chain(s.db, s.inst, T0, len, cf1, 3);
	assert_int_equal(version_of(s.db, s.inst), 2);
	/* The instance moves: a retime follows it. */
	fixture_exec(s.db, "UPDATE show_instances SET starts_at = $2, ends_at = $3 WHERE id = $1",
		     DB_PARAMS(DB_I(s.inst), DB_I(T0 + HOUR), DB_I(T0 + 2 * HOUR)));
	assert_int_equal(placement_retime(s.db, s.inst), 0);
	check_chain(s.db, s.inst, T0 + HOUR, len, cf1, 3);
	db_close(s.db);
}

static void test_ended_show(void **state)
{
	struct station s;
	station(&s);
	int64_t past = fixture_instance(s.db, s.show, NOW - 2 * HOUR, NOW - HOUR);
	int64_t running = fixture_instance(s.db, s.show, NOW - HOUR, NOW + HOUR);
	int64_t a = put(s.db, s.inst, -1, file_item(s.f60));
	struct placement_item it = file_item(s.f60);
	char err[256] = "";
	assert_int_equal(placement_insert(s.db, NOW, past, 1, -1, &it, 1, NULL, NULL, err,
					  sizeof(err)),
			 -EPERM);
	assert_string_equal(err, "the show has already ended");
	assert_int_equal(placement_replace(s.db, NOW, past, -1, &it, 1, NULL, err, sizeof(err)),
			 -EPERM);
	assert_int_equal(placement_move(s.db, NOW, s.inst, 2, a, past, 1, 0, NULL, err,
					sizeof(err)),
			 -EPERM);
	assert_string_equal(err, "the target show has already ended");
	assert_int_equal(count_items(s.db, past), 0);
	assert_int_equal(count_items(s.db, s.inst), 1);
	assert_int_equal(version_of(s.db, past), 1);
	assert_int_equal(version_of(s.db, s.inst), 2);
	/* A show on air can still be edited; one ending exactly now cannot. */
	assert_int_equal(placement_insert(s.db, NOW, running, 1, -1, &it, 1, NULL, NULL, err,
					  sizeof(err)),
			 0);
	assert_int_equal(placement_insert(s.db, NOW + HOUR, running, 2, -1, &it, 1, NULL, NULL,
					  err, sizeof(err)),
			 -EPERM);
	db_close(s.db);
}

static void test_metacharacters(void **state)
{
	struct station s;
	station(&s);
	int64_t odd = fixture_show(s.db, "'; DROP TABLE schedule_items; --");
	int64_t inst = fixture_instance(s.db, odd, T0, T0 + HOUR);
	int64_t f = fixture_file(s.db, "Robert'); DROP TABLE files;--", "%_\\", 60 * SEC);
	put(s.db, inst, -1, file_item(f));
	struct placement_item it = file_item(f);
	it.origin = "manual'; DELETE FROM schedule_items; --";
	char err[256] = "";
	assert_int_equal(placement_insert(s.db, NOW, inst, 2, -1, &it, 1, NULL, NULL, err,
					  sizeof(err)),
			 -EINVAL);
	assert_string_equal(err, "unknown origin 'manual'; DELETE FROM schedule_it'");
	assert_int_equal(count_items(s.db, inst), 1);
	assert_int_equal(fixture_int(s.db, "SELECT COUNT(*) FROM files", NULL, 0), 4);
	db_close(s.db);
}

/* Two editors, each with its own connection, 50 edits each. */

struct editor {
	char url[600];
	int64_t inst;
	int64_t file;
	unsigned seed;
	int done;		/* successful edits */
	int inserted, removed;
	int retries;
	int failure;		/* an unexpected error */
	char err[256];
};

static int64_t query_version(struct db *db, int64_t inst, int *r)
{
	int64_t v = 0;
	*r = db_query_int(db, "SELECT version FROM show_instances WHERE id = $1",
			  DB_PARAMS(DB_I(inst)), &v);
	return v;
}

static void *edit_thread(void *arg)
{
	struct editor *e = arg;
	struct db *db;
	char err[256];
	if (db_open(&db, e->url, err, sizeof(err)) < 0) {
		e->failure = -1;
		snprintf(e->err, sizeof(e->err), "db_open: %.200s", err);
		return NULL;
	}
	while (e->done < 50 && !e->failure) {
		if (e->retries > 20000) {
			e->failure = -ETIMEDOUT;
			break;
		}
		int r;
		int64_t v = query_version(db, e->inst, &r);
		if (r < 0) {
			if (r == -EBUSY) {
				e->retries++;
				continue;
			}
			e->failure = r;
			break;
		}
		int64_t ids[64];
		size_t n = 0;
		struct db_rows *rows;
		r = db_query(db,
			     "SELECT id FROM schedule_items WHERE instance_id = $1"
			     " ORDER BY position",
			     DB_PARAMS(DB_I(e->inst)), &rows);
		if (r == 0) {
			while (db_rows_next(rows) && n < 64)
				ids[n++] = db_col_int(rows, 0);
			r = db_rows_error(rows);
			db_rows_free(rows);
		}
		if (r < 0) {
			if (r == -EBUSY) {
				e->retries++;
				continue;
			}
			e->failure = r;
			break;
		}
		e->seed = e->seed * 1103515245u + 12345u;
		unsigned pick = (e->seed >> 16) % 3;
		int kind;
		if (n < 3 || (pick == 0 && n < 40)) {
			struct placement_item it = file_item(e->file);
			r = placement_insert(db, NOW, e->inst, v, (long)((e->seed >> 8) % (n + 1)),
					     &it, 1, NULL, NULL, err, sizeof(err));
			kind = 0;
		} else if (pick == 1) {
			r = placement_move(db, NOW, e->inst, v, ids[(e->seed >> 4) % n], e->inst, v,
					   (long)((e->seed >> 12) % n), NULL, err, sizeof(err));
			kind = 1;
		} else {
			r = placement_remove(db, NOW, e->inst, v, &ids[(e->seed >> 4) % n], 1, NULL,
					     err, sizeof(err));
			kind = 2;
		}
		if (r == -ESTALE || r == -EBUSY) {
			e->retries++;
			continue;
		}
		if (r < 0) {
			e->failure = r;
			snprintf(e->err, sizeof(e->err), "%.200s", err);
			break;
		}
		e->done++;
		e->inserted += kind == 0;
		e->removed += kind == 2;
	}
	db_close(db);
	return NULL;
}

/* A URL for a second connection to the database of db. */
static void url_of(struct db *db, char *url, size_t size)
{
	struct db_rows *rows;
	if (fixture_backend() == DB_SQLITE) {
		assert_int_equal(db_query(db, "PRAGMA database_list", NULL, 0, &rows), 0);
		assert_true(db_rows_next(rows));
		snprintf(url, size, "sqlite://%.500s", db_col_text(rows, 2));
	} else {
		assert_int_equal(db_query(db,
					  "SELECT CAST(current_user AS TEXT),"
					  " CAST(inet_server_port() AS BIGINT),"
					  " CAST(current_database() AS TEXT)",
					  NULL, 0, &rows),
				 0);
		assert_true(db_rows_next(rows));
		snprintf(url, size, "postgresql://%.100s@127.0.0.1:%lld/%.100s",
			 db_col_text(rows, 0), (long long)db_col_int(rows, 1),
			 db_col_text(rows, 2));
	}
	db_rows_free(rows);
}

static void test_concurrent_editors(void **state)
{
	struct station s;
	station(&s);
	struct editor e[2];
	memset(e, 0, sizeof(e));
	for (int i = 0; i < 2; i++) {
		url_of(s.db, e[i].url, sizeof(e[i].url));
		e[i].inst = s.inst;
		e[i].file = i ? s.f30 : s.f60;
		e[i].seed = 17u + 31u * (unsigned)i;
	}
	pthread_t t[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, edit_thread, &e[i]), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_join(t[i], NULL), 0);
	for (int i = 0; i < 2; i++) {
		if (e[i].failure)
			fail_msg("editor %d: %d %s", i, e[i].failure, e[i].err);
		assert_int_equal(e[i].done, 50);
	}
	/* Every successful edit counted once in the version. */
	assert_int_equal(version_of(s.db, s.inst), 1 + 100);
	int64_t n = e[0].inserted + e[1].inserted - e[0].removed - e[1].removed;
	assert_int_equal(count_items(s.db, s.inst), n);
	/* Positions 0..n-1, times back to back from the items' lengths. */
	struct db_rows *rows;
	assert_int_equal(db_query(s.db,
				  "SELECT i.position, i.starts_at, i.ends_at, f.duration_us"
				  " FROM schedule_items i JOIN files f ON f.id = i.file_id"
				  " WHERE i.instance_id = $1 ORDER BY i.position",
				  DB_PARAMS(DB_I(s.inst)), &rows),
			 0);
	int64_t pos = 0, t0 = T0;
	while (db_rows_next(rows)) {
		assert_int_equal(db_col_int(rows, 0), pos);
		assert_int_equal(db_col_int(rows, 1), t0);
		assert_int_equal(db_col_int(rows, 2), t0 + db_col_int(rows, 3));
		t0 += db_col_int(rows, 3);
		pos++;
	}
	assert_int_equal(db_rows_error(rows), 0);
	db_rows_free(rows);
	assert_int_equal(pos, n);
	db_close(s.db);
}

int main(int argc, char **argv)
{
	if (fixture_init(argc, argv) < 0)
		return 2;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_back_to_back),
		cmocka_unit_test(test_crossfades),
		cmocka_unit_test(test_cue_overrides),
		cmocka_unit_test(test_webstream_live_silence),
		cmocka_unit_test(test_insert_positions),
		cmocka_unit_test(test_move_within),
		cmocka_unit_test(test_move_between),
		cmocka_unit_test(test_remove_and_replace),
		cmocka_unit_test(test_stale_edit),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_fill),
		cmocka_unit_test(test_linked),
		cmocka_unit_test(test_retime_after_default_crossfade),
		cmocka_unit_test(test_ended_show),
		cmocka_unit_test(test_metacharacters),
		cmocka_unit_test(test_concurrent_editors),
	};
	int failed = cmocka_run_group_tests_name(fixture_group("placement"), tests, NULL, NULL);
	fixture_fini();
	return failed ? 1 : 0;
}
