/*
 * test_build.c - playlists and smart blocks expanded into items, and the
 * builder (linked shows, rebroadcasts, autoplaylists), on SQLite or
 * PostgreSQL (argv[1]).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "station/build.h"
#include "station/compile.h"
#include "station_fixture.h"

#define S INT64_C(1000000)
#define MIN (60 * S)
#define H (60 * MIN)
/* 2026-11-30T10:00:00Z, and a "now" an hour before. */
#define T0 INT64_C(1796032800000000)
#define NOW (T0 - H)

static int64_t version_of(struct db *db, int64_t instance)
{
	return fixture_int(db, "SELECT version FROM show_instances WHERE id = $1",
			   DB_PARAMS(DB_I(instance)));
}

static int64_t count_items(struct db *db, int64_t instance, const char *origin)
{
	return fixture_int(db,
			   "SELECT COUNT(*) FROM schedule_items WHERE instance_id = $1"
			   " AND origin = $2",
			   DB_PARAMS(DB_I(instance), DB_T(origin)));
}

static void place_file(struct db *db, int64_t instance, int64_t file)
{
	struct placement_item it;
	placement_item_init(&it, PLACEMENT_FILE);
	it.file_id = file;
	char err[256];
	int r = placement_insert(db, NOW, instance, version_of(db, instance), -1, &it, 1, NULL,
				 NULL, err, sizeof(err));
	if (r < 0)
		fail_msg("placement_insert: %d %s", r, err);
}

/* The file ids of an instance's items, in order, as "1,2,3". */
static void item_files(struct db *db, int64_t instance, char *out, size_t size)
{
	struct db_rows *rows;
	assert_int_equal(db_query(db,
				  "SELECT file_id FROM schedule_items WHERE instance_id = $1"
				  " ORDER BY position",
				  DB_PARAMS(DB_I(instance)), &rows),
			 0);
	size_t len = 0;
	out[0] = '\0';
	while (db_rows_next(rows))
		len += (size_t)snprintf(out + len, size - len, "%s%lld", len ? "," : "",
					(long long)db_col_int(rows, 0));
	db_rows_free(rows);
}

static int64_t add_block(struct db *db, const char *genre, bool fill)
{
	int64_t b = fixture_int(db,
				"INSERT INTO smart_blocks (name, limit_type, limit_value, sort,"
				" fill_show, created_at, updated_at) VALUES ('b', 'items', 2,"
				" 'title', $1, 0, 0) RETURNING id",
				DB_PARAMS(DB_B(fill)));
	fixture_exec(db,
		     "INSERT INTO smart_block_criteria (smart_block_id, group_no, field, modifier,"
		     " value) VALUES ($1, 0, 'genre', 'is', $2)",
		     DB_PARAMS(DB_I(b), DB_T(genre)));
	return b;
}

static void test_expand_playlist(void **state)
{
	(void)state;
	struct db *db = fixture_db();
	fixture_exec(db, "UPDATE station_settings SET default_crossfade_us = $1 WHERE id = 1",
		     DB_PARAMS(DB_I(2 * S)));
	int64_t a = fixture_file(db, "A", "x", 4 * MIN);
	int64_t jazz[3];
	for (int i = 0; i < 3; i++) {
		char title[8];
		snprintf(title, sizeof(title), "J%d", i);
		jazz[i] = fixture_file(db, title, "y", 10 * MIN);
		fixture_exec(db, "UPDATE files SET genre = 'jazz' WHERE id = $1",
			     DB_PARAMS(DB_I(jazz[i])));
	}
	int64_t ws = fixture_int(db,
				 "INSERT INTO webstreams (name, url, duration_us, created_at,"
				 " updated_at) VALUES ('w', 'http://h/s', $1, 0, 0) RETURNING id",
				 DB_PARAMS(DB_I(5 * MIN)));
	int64_t block = add_block(db, "jazz", true);
	int64_t pl = fixture_playlist(db, "P");
	fixture_playlist_add_file(db, pl, a);
	fixture_exec(db, "UPDATE playlist_items SET cue_in_us = $1 WHERE playlist_id = $2",
		     DB_PARAMS(DB_I(MIN), DB_I(pl)));
	fixture_exec(db,
		     "INSERT INTO playlist_items (playlist_id, position, smart_block_id)"
		     " VALUES ($1, 2, $2)",
		     DB_PARAMS(DB_I(pl), DB_I(block)));
	fixture_exec(db,
		     "INSERT INTO playlist_items (playlist_id, position, webstream_id)"
		     " VALUES ($1, 3, $2)",
		     DB_PARAMS(DB_I(pl), DB_I(ws)));

	/* In a 30-minute show: A from 1:00 (3 min), then the block fills what
	 * is left (two 10-minute jazz files fit), then the webstream. */
	struct build_items out = { 0 };
	struct build_context ctx = { .at = T0, .remaining_us = 30 * MIN, .seed = 1 };
	assert_int_equal(build_expand(db, BUILD_PLAYLIST, pl, &ctx, NULL, &out), 0);
	assert_int_equal(out.n, 4);
	assert_true(out.items[0].file_id == a && out.items[0].cue_in_us == MIN);
	assert_true(out.items[0].source_playlist_id == pl);
	assert_true(out.items[1].file_id == jazz[0] && out.items[1].source_smart_block_id == block);
	assert_true(out.items[2].file_id == jazz[1]);
	assert_true(out.items[3].kind == PLACEMENT_WEBSTREAM && out.items[3].webstream_id == ws);
	assert_true(out.total_us == 3 * MIN + 3 * (10 * MIN - 2 * S) - 5 * MIN);
	build_items_release(&out);

	/* A smart block on its own, outside a show: its own limit (2). */
	ctx.remaining_us = 0;
	assert_int_equal(build_expand(db, BUILD_SMART_BLOCK, block, &ctx, "autoplaylist", &out),
			 0);
	assert_int_equal(out.n, 2);
	assert_string_equal(out.items[0].origin, "autoplaylist");
	build_items_release(&out);

	assert_int_equal(build_expand(db, BUILD_PLAYLIST, 999, &ctx, NULL, &out), -ENOENT);
	assert_int_equal(build_expand(db, BUILD_FILE, 999, &ctx, NULL, &out), -ENOENT);
	build_items_release(&out);
	db_close(db);
}

static void test_linked_show(void **state)
{
	(void)state;
	struct db *db = fixture_db();
	int64_t show = fixture_show(db, "Linked");
	fixture_exec(db, "UPDATE shows SET linked = $1 WHERE id = $2",
		     DB_PARAMS(DB_B(true), DB_I(show)));
	int64_t root = fixture_instance(db, show, T0, T0 + H);
	int64_t next = fixture_instance(db, show, T0 + 24 * H, T0 + 25 * H);
	int64_t later = fixture_instance(db, show, T0 + 48 * H, T0 + 49 * H);
	fixture_exec(db, "UPDATE show_instances SET linked_to = $1 WHERE id IN ($2, $3)",
		     DB_PARAMS(DB_I(root), DB_I(next), DB_I(later)));
	int64_t f1 = fixture_file(db, "1", "a", 5 * MIN), f2 = fixture_file(db, "2", "b", 5 * MIN);
	place_file(db, root, f1);
	place_file(db, root, f2);

	struct build_report rep;
	assert_int_equal(build_window(db, T0, T0 + 72 * H, NOW, 1, &rep), 0);
	assert_int_equal(rep.failed, 0);
	assert_int_equal(rep.linked, 2);
	char got[64], want[64];
	snprintf(want, sizeof(want), "%lld,%lld", (long long)f1, (long long)f2);
	item_files(db, next, got, sizeof(got));
	assert_string_equal(got, want);
	assert_int_equal(count_items(db, later, "linked"), 2);

	/* Nothing changed: nothing rebuilt. */
	assert_int_equal(build_window(db, T0, T0 + 72 * H, NOW, 1, &rep), 0);
	assert_int_equal(rep.linked, 0);

	/* The root changes: the copies that have not started follow; one
	 * already on air stays as it is. */
	int64_t f3 = fixture_file(db, "3", "c", 5 * MIN);
	place_file(db, root, f3);
	assert_int_equal(build_window(db, T0, T0 + 72 * H, T0 + 24 * H + MIN, 1, &rep), 0);
	assert_int_equal(rep.linked, 1);
	assert_int_equal(count_items(db, next, "linked"), 2);
	assert_int_equal(count_items(db, later, "linked"), 3);

	/* And the compiled schedule plays the copies at their own times. */
	struct proto_snapshot s;
	struct compile_options o = { .from = T0, .to = T0 + 72 * H, .now = NOW };
	char err[256];
	assert_int_equal(compile_snapshot(db, &o, &s, NULL, err, sizeof(err)), 0);
	assert_int_equal(s.n_items, 3 + 2 + 3);
	assert_true(s.items[5].start == T0 + 48 * H && s.items[5].show.instance_id == later);
	proto_snapshot_release(&s);
	db_close(db);
}

static void test_rebroadcast(void **state)
{
	(void)state;
	struct db *db = fixture_db();
	int64_t show = fixture_show(db, "Talk");
	int64_t orig = fixture_instance(db, show, T0, T0 + H);
	int64_t again = fixture_instance(db, show, T0 + 12 * H, T0 + 13 * H);
	int64_t kept = fixture_instance(db, show, T0 + 36 * H, T0 + 37 * H);
	fixture_exec(db, "UPDATE show_instances SET rebroadcast_of = $1 WHERE id IN ($2, $3)",
		     DB_PARAMS(DB_I(orig), DB_I(again), DB_I(kept)));
	int64_t f = fixture_file(db, "talk", "t", 50 * MIN);
	place_file(db, orig, f);
	int64_t other = fixture_file(db, "special", "s", 10 * MIN);
	place_file(db, kept, other);	/* someone placed something by hand */
	struct build_report rep;
	assert_int_equal(build_window(db, T0, T0 + 48 * H, NOW, 1, &rep), 0);
	assert_int_equal(rep.rebroadcast, 1);
	assert_int_equal(rep.kept, 1);
	assert_int_equal(count_items(db, again, "rebroadcast"), 1);
	assert_int_equal(count_items(db, kept, "manual"), 1);
	assert_int_equal(count_items(db, kept, "rebroadcast"), 0);
	db_close(db);
}

static void test_autoplaylist(void **state)
{
	(void)state;
	struct db *db = fixture_db();
	int64_t body = fixture_playlist(db, "Body");
	int64_t intro = fixture_playlist(db, "Intro");
	int64_t outro = fixture_playlist(db, "Outro");
	for (int i = 0; i < 3; i++)
		fixture_playlist_add_file(db, body, fixture_file(db, "song", "x", 10 * MIN));
	int64_t fi = fixture_file(db, "intro", "station", MIN);
	int64_t fo = fixture_file(db, "outro", "station", 2 * MIN);
	fixture_playlist_add_file(db, intro, fi);
	fixture_playlist_add_file(db, outro, fo);
	int64_t show = fixture_show(db, "Auto");
	fixture_exec(db,
		     "UPDATE shows SET autoplaylist_id = $1, autoplaylist_repeat = $2,"
		     " intro_playlist_id = $3, outro_playlist_id = $4 WHERE id = $5",
		     DB_PARAMS(DB_I(body), DB_B(true), DB_I(intro), DB_I(outro), DB_I(show)));
	int64_t inst = fixture_instance(db, show, T0, T0 + H);
	int64_t manual = fixture_instance(db, show, T0 + 2 * H, T0 + 3 * H);
	place_file(db, manual, fi);

	struct build_report rep;
	assert_int_equal(build_window(db, T0, T0 + 24 * H, NOW, 1, &rep), 0);
	assert_int_equal(rep.failed, 0);
	assert_int_equal(rep.autoplaylist, 1);
	assert_int_equal(rep.kept, 1);
	/* intro (1) + five 10-minute songs + outro (2) = 53 min:
	 * a sixth song would push the outro past the end. */
	struct placement_fill fill;
	assert_int_equal(placement_fill(db, inst, &fill), 0);
	assert_int_equal(fill.n_items, 7);
	assert_true(fill.overbooked_us == 0);
	assert_true(fill.gap_us == 7 * MIN);
	struct db_rows *rows;
	assert_int_equal(db_query(db,
				  "SELECT file_id, origin FROM schedule_items WHERE instance_id = $1"
				  " ORDER BY position",
				  DB_PARAMS(DB_I(inst)), &rows),
			 0);
	int n = 0;
	int64_t first = 0, last = 0;
	while (db_rows_next(rows)) {
		if (n++ == 0)
			first = db_col_int(rows, 0);
		last = db_col_int(rows, 0);
		assert_string_equal(db_col_text(rows, 1), "autoplaylist");
	}
	db_rows_free(rows);
	assert_true(first == fi && last == fo);

	/* Built once: a second run keeps it. */
	assert_int_equal(build_window(db, T0, T0 + 24 * H, NOW, 2, &rep), 0);
	assert_int_equal(rep.autoplaylist, 0);

	/* An instance already on air: built when it is empty and was never
	 * built (a station that just started), not once it has content. */
	int64_t on_air = fixture_instance(db, show, NOW - 10 * MIN, NOW + 50 * MIN);
	assert_int_equal(build_window(db, NOW - H, NOW + H, NOW, 4, &rep), 0);
	assert_int_equal(rep.autoplaylist, 1);
	assert_true(count_items(db, on_air, "autoplaylist") > 0);
	fixture_exec(db, "UPDATE shows SET updated_at = $1 WHERE id = $2",
		     DB_PARAMS(DB_I(INT64_MAX / 2 - 1), DB_I(show)));
	assert_int_equal(build_window(db, NOW - H, NOW + H, NOW, 5, &rep), 0);
	assert_int_equal(rep.autoplaylist, 0);

	/* Without repeat, the body plays once. */
	fixture_exec(db,
		     "UPDATE shows SET autoplaylist_repeat = $1, intro_playlist_id = NULL,"
		     " outro_playlist_id = NULL, updated_at = $2 WHERE id = $3",
		     DB_PARAMS(DB_B(false), DB_I(INT64_MAX / 2), DB_I(show)));
	assert_int_equal(build_window(db, T0, T0 + 24 * H, NOW, 3, &rep), 0);
	assert_int_equal(rep.autoplaylist, 1);
	assert_int_equal(placement_fill(db, inst, &fill), 0);
	assert_int_equal(fill.n_items, 3);
	db_close(db);
}

int main(int argc, char **argv)
{
	if (fixture_init(argc, argv) < 0)
		return 2;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_expand_playlist),
		cmocka_unit_test(test_linked_show),
		cmocka_unit_test(test_rebroadcast),
		cmocka_unit_test(test_autoplaylist),
	};
	int failed = cmocka_run_group_tests_name(fixture_group("build"), tests, NULL, NULL);
	fixture_fini();
	return failed ? 1 : 0;
}
