/*
 * test_compile.c - the schedule compiler and the station settings, on
 * SQLite or PostgreSQL (argv[1]). Items are stored with explicit times,
 * so that each rule of compile.h is checked on its own.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "station/compile.h"
#include "station/settings.h"
#include "station_fixture.h"

#define S INT64_C(1000000)
#define MIN (60 * S)
#define H (60 * MIN)
/* 2026-11-30T10:00:00Z */
#define T0 INT64_C(1796032800000000)

static const char *const hash_a =
	"$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG";

static int64_t add_item(struct db *db, int64_t instance, int position, int64_t start,
			int64_t end, int64_t file_id)
{
	return fixture_int(db,
			   "INSERT INTO schedule_items (instance_id, position, starts_at, ends_at,"
			   " kind, file_id) VALUES ($1, $2, $3, $4, 'file', $5) RETURNING id",
			   DB_PARAMS(DB_I(instance), DB_I(position), DB_I(start), DB_I(end),
				     DB_I(file_id)));
}

static void compile_ok(struct db *db, int64_t from, int64_t to, struct proto_snapshot *s,
		       struct compile_report *rep)
{
	char err[256] = "";
	struct compile_options o = { .from = from, .to = to, .now = from - H, .revision = 7 };
	int r = compile_snapshot(db, &o, s, rep, err, sizeof(err));
	if (r < 0)
		fail_msg("compile_snapshot: %d %s", r, err);
	/* Whatever was compiled survives the wire. */
	struct buf b;
	buf_init(&b, PROTO_MESSAGE_MAX);
	assert_int_equal(proto_snapshot_encode(s, &b), 0);
	struct proto_snapshot back;
	struct proto_error perr;
	if (proto_snapshot_decode(b.data, b.len, &back, &perr) < 0)
		fail_msg("decode of the compiled snapshot: %s", perr.text);
	assert_int_equal(back.n_items, s->n_items);
	proto_snapshot_release(&back);
	buf_release(&b);
}

static void set_settings(struct db *db, const char *outputs)
{
	fixture_exec(db, "UPDATE station_settings SET outputs = $1 WHERE id = 1",
		     DB_PARAMS(DB_T(outputs)));
}

/* ---- settings */

static void test_settings_defaults(void **state)
{
	(void)state;
	struct db *db = fixture_db();
	struct station_settings st;
	char err[256];
	assert_int_equal(station_settings_load(db, &st, err, sizeof(err)), 0);
	assert_string_equal(st.name, "onair");
	assert_string_equal(st.timezone, "UTC");
	assert_int_equal(st.playout.n_outputs, 1);
	assert_string_equal(st.playout.outputs[0].mount, "/live.mp3");
	assert_int_equal(st.playout.outputs[0].format, PROTO_FORMAT_MP3);
	assert_int_equal(st.playout.outputs[0].bitrate, 128);
	assert_true(st.playout.hls.enabled);
	assert_true(st.playout.live[PROTO_LIVE_MAIN].enabled);
	assert_string_equal(st.playout.live[PROTO_LIVE_SHOW].mount, "show");
	station_settings_release(&st);
	db_close(db);
}

static void test_settings_documents(void **state)
{
	(void)state;
	struct playout_settings p;
	char err[256];
	assert_int_equal(playout_settings_parse(
				 "{\"outputs\":[{\"mount\":\"/a.ogg\",\"format\":\"vorbis\","
				 "\"bitrate\":96},{\"mount\":\"/b.opus\",\"format\":\"opus\","
				 "\"bitrate\":64,\"name\":\"B\"}],\"hls\":{\"enabled\":false},"
				 "\"live\":{\"show\":{\"enabled\":false}}}",
				 &p, err, sizeof(err)),
			 0);
	assert_int_equal(p.n_outputs, 2);
	assert_string_equal(p.outputs[1].name, "B");
	assert_false(p.hls.enabled);
	assert_true(p.live[PROTO_LIVE_MAIN].enabled);
	assert_false(p.live[PROTO_LIVE_SHOW].enabled);
	playout_settings_release(&p);

	/* A bare array is the outputs. */
	assert_int_equal(playout_settings_parse("[{\"mount\":\"/x\",\"format\":\"aac\","
						"\"bitrate\":32}]",
						&p, err, sizeof(err)),
			 0);
	assert_int_equal(p.n_outputs, 1);
	assert_true(p.hls.enabled);
	playout_settings_release(&p);

	static const struct {
		const char *doc;
		const char *expect;
	} bad[] = {
		{ "{", "not JSON" },
		{ "42", "must be a JSON object" },
		{ "{\"output\":[]}", "output: unknown setting" },
		{ "{\"live\":{\"side\":{}}}", "live.side: unknown setting" },
		{ "{\"outputs\":[{\"mount\":\"/a\",\"format\":\"mp3\",\"bitrate\":1000}]}",
		  "bitrate" },
		{ "{\"outputs\":[{\"mount\":\"/../a\",\"format\":\"mp3\",\"bitrate\":128}]}",
		  "mount" },
		{ "{\"hls\":{\"enabled\":true,\"bitrate\":128,\"segment\":90,\"segments\":5}}",
		  "segment" },
		{ "{\"live\":{\"main\":{\"enabled\":true,\"mount\":\"m\",\"users\":[]}}}",
		  "station's users" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		assert_int_equal(playout_settings_parse(bad[i].doc, &p, err, sizeof(err)), -EINVAL);
		if (!strstr(err, bad[i].expect))
			fail_msg("%s: error '%s' does not say '%s'", bad[i].doc, err, bad[i].expect);
		assert_int_equal(p.n_outputs, 0);
	}

	/* A broken stored document stops the compiler with the reason. */
	struct db *db = fixture_db();
	set_settings(db, "{\"hls\":7}");
	struct proto_snapshot s;
	struct compile_options o = { .from = T0, .to = T0 + H, .now = T0 };
	assert_int_equal(compile_snapshot(db, &o, &s, NULL, err, sizeof(err)), -EINVAL);
	assert_non_null(strstr(err, "hls"));
	db_close(db);
}

/* ---- items */

static void test_empty_station(void **state)
{
	(void)state;
	struct db *db = fixture_db();
	struct proto_snapshot s;
	struct compile_report rep;
	compile_ok(db, T0, T0 + 48 * H, &s, &rep);
	assert_int_equal(s.revision, 7);
	assert_int_equal(s.n_items, 0);
	assert_int_equal(s.n_outputs, 1);
	assert_true(rep.no_fallback);
	assert_int_equal(rep.n_gaps, 1);
	assert_true(rep.gaps[0].start == T0 && rep.gaps[0].end == T0 + 48 * H);
	assert_int_equal(rep.gaps[0].instance_id, 0);
	assert_true(rep.n_problems >= 1);
	compile_report_release(&rep);
	proto_snapshot_release(&s);
	db_close(db);
}

static void test_back_to_back_with_defaults(void **state)
{
	(void)state;
	struct db *db = fixture_db();
	fixture_exec(db,
		     "UPDATE station_settings SET name = 'Radio Zwölf', timezone = 'Europe/Berlin',"
		     " default_fade_in_us = $1, default_fade_out_us = $2,"
		     " default_crossfade_us = $3 WHERE id = 1",
		     DB_PARAMS(DB_I(S / 2), DB_I(S), DB_I(2 * S)));
	int64_t show = fixture_show(db, "Morning");
	int64_t inst = fixture_instance(db, show, T0, T0 + H);
	int64_t f1 = fixture_file(db, "One", "Ann", 3 * MIN);
	int64_t f2 = fixture_file(db, "Two", "Bob", 4 * MIN);
	int64_t i1 = add_item(db, inst, 0, T0, T0 + 3 * MIN, f1);
	int64_t i2 = add_item(db, inst, 1, T0 + 3 * MIN - 2 * S, T0 + 7 * MIN - 2 * S, f2);
	/* Item 2 declares its own fades. */
	fixture_exec(db, "UPDATE schedule_items SET fade_in_us = 0, fade_out_us = $1 WHERE id = $2",
		     DB_PARAMS(DB_I(3 * S), DB_I(i2)));
	/* File One fades in over 2 s (set on its waveform): item 1, without
	 * fades of its own, takes that and the station's fade out. File Two's
	 * fades give way to item 2's own. */
	fixture_exec(db, "UPDATE files SET fade_in_us = $1 WHERE id = $2",
		     DB_PARAMS(DB_I(2 * S), DB_I(f1)));
	fixture_exec(db, "UPDATE files SET fade_in_us = $1, fade_out_us = $1 WHERE id = $2",
		     DB_PARAMS(DB_I(4 * S), DB_I(f2)));

	struct proto_snapshot s;
	struct compile_report rep;
	compile_ok(db, T0, T0 + 2 * H, &s, &rep);
	assert_string_equal(s.station_name, "Radio Zwölf");
	assert_string_equal(s.timezone, "Europe/Berlin");
	assert_true(s.default_crossfade == 2 * S);
	assert_int_equal(s.n_items, 2);
	const struct proto_item *a = &s.items[0], *b = &s.items[1];
	assert_true(a->id == i1 && b->id == i2);
	assert_true(a->start == T0 && a->end == T0 + 3 * MIN);
	assert_true(a->crossfade == 0);
	assert_true(b->crossfade == 2 * S);
	assert_true(a->fade_in == 2 * S && a->fade_out == S);
	assert_true(b->fade_in == 0 && b->fade_out == 3 * S);
	assert_true(a->cue_in == 0 && a->cue_out == 3 * MIN);
	assert_string_equal(a->meta.title, "One");
	assert_string_equal(b->meta.artist, "Bob");
	assert_true(a->show.id == show && a->show.instance_id == inst);
	assert_string_equal(a->show.name, "Morning");
	assert_true(a->media.id == f1 && a->media.duration == 3 * MIN);
	assert_non_null(a->media.hash);
	/* The rest of the show is reported as underbooked, then no show. */
	assert_int_equal(rep.n_gaps, 2);
	assert_true(rep.gaps[0].instance_id == inst && rep.gaps[0].start == T0 + 7 * MIN - 2 * S &&
		    rep.gaps[0].end == T0 + H);
	assert_true(rep.gaps[1].instance_id == 0 && rep.gaps[1].start == T0 + H);
	compile_report_release(&rep);
	proto_snapshot_release(&s);
	db_close(db);
}

static void test_overbooked_cut_at_show_end(void **state)
{
	(void)state;
	struct db *db = fixture_db();
	int64_t show = fixture_show(db, "Short");
	int64_t inst = fixture_instance(db, show, T0, T0 + 10 * MIN);
	int64_t f = fixture_file(db, "Long", "X", 6 * MIN);
	add_item(db, inst, 0, T0, T0 + 6 * MIN, f);
	int64_t cut = add_item(db, inst, 1, T0 + 6 * MIN, T0 + 12 * MIN, f);
	int64_t gone = add_item(db, inst, 2, T0 + 12 * MIN, T0 + 18 * MIN, f);
	int64_t next_show = fixture_instance(db, fixture_show(db, "Next"), T0 + 10 * MIN,
					     T0 + 20 * MIN);
	int64_t next = add_item(db, next_show, 0, T0 + 10 * MIN, T0 + 16 * MIN, f);

	struct proto_snapshot s;
	struct compile_report rep;
	compile_ok(db, T0, T0 + 20 * MIN, &s, &rep);
	assert_int_equal(s.n_items, 3);
	assert_true(s.items[1].id == cut && s.items[1].end == T0 + 10 * MIN);
	assert_true(s.items[2].id == next && s.items[2].start == T0 + 10 * MIN);
	assert_int_equal(rep.cut_at_show_end, 2);
	bool reported = false;
	for (size_t i = 0; i < rep.n_problems; i++)
		reported = reported || (rep.problems[i].item_id == gone &&
					strstr(rep.problems[i].text, "overbooked"));
	assert_true(reported);
	compile_report_release(&rep);
	proto_snapshot_release(&s);
	db_close(db);
}

static void test_not_ready_files_left_out(void **state)
{
	(void)state;
	struct db *db = fixture_db();
	int64_t inst = fixture_instance(db, fixture_show(db, "S"), T0, T0 + H);
	int64_t ok = fixture_file(db, "ok", NULL, 5 * MIN);
	int64_t pending = fixture_file(db, "pending", NULL, 5 * MIN);
	int64_t failed = fixture_file(db, "failed", NULL, 5 * MIN);
	fixture_exec(db, "UPDATE files SET import_status = 'pending' WHERE id = $1",
		     DB_PARAMS(DB_I(pending)));
	fixture_exec(db, "UPDATE files SET import_status = 'failed' WHERE id = $1",
		     DB_PARAMS(DB_I(failed)));
	add_item(db, inst, 0, T0, T0 + 5 * MIN, pending);
	add_item(db, inst, 1, T0 + 5 * MIN, T0 + 10 * MIN, ok);
	add_item(db, inst, 2, T0 + 10 * MIN, T0 + 15 * MIN, failed);
	struct proto_snapshot s;
	struct compile_report rep;
	compile_ok(db, T0, T0 + H, &s, &rep);
	assert_int_equal(s.n_items, 1);
	assert_true(s.items[0].media.id == ok);
	assert_int_equal(rep.dropped, 2);
	int says = 0;
	for (size_t i = 0; i < rep.n_problems; i++)
		says += strstr(rep.problems[i].text, "not analysed yet") != NULL ||
			strstr(rep.problems[i].text, "failed analysis") != NULL;
	assert_int_equal(says, 2);
	/* Both holes are in the show: underbooked, not "no show". */
	assert_int_equal(rep.n_gaps, 2);
	assert_true(rep.gaps[0].instance_id == inst && rep.gaps[0].end == T0 + 5 * MIN);
	assert_true(rep.gaps[1].instance_id == inst && rep.gaps[1].start == T0 + 10 * MIN);
	compile_report_release(&rep);
	proto_snapshot_release(&s);
	db_close(db);
}

static void test_overlapping_shows(void **state)
{
	(void)state;
	struct db *db = fixture_db();
	int64_t a = fixture_instance(db, fixture_show(db, "A"), T0, T0 + H);
	int64_t b = fixture_instance(db, fixture_show(db, "B"), T0 + 30 * MIN, T0 + H);
	int64_t f = fixture_file(db, "f", NULL, 20 * MIN);
	add_item(db, a, 0, T0, T0 + 20 * MIN, f);
	int64_t cut = add_item(db, a, 1, T0 + 20 * MIN, T0 + 40 * MIN, f);
	int64_t covered = add_item(db, a, 2, T0 + 40 * MIN, T0 + 60 * MIN, f);
	int64_t winner = add_item(db, b, 0, T0 + 30 * MIN, T0 + 50 * MIN, f);
	struct proto_snapshot s;
	struct compile_report rep;
	compile_ok(db, T0, T0 + H, &s, &rep);
	/* B's item starts inside A's second: A's is cut there; A's third
	 * starts after B's and wins in turn, cutting B's. */
	assert_int_equal(s.n_items, 4);
	assert_true(s.items[1].id == cut && s.items[1].end == T0 + 30 * MIN);
	assert_true(s.items[2].id == winner && s.items[2].end == T0 + 40 * MIN);
	assert_true(s.items[3].id == covered);
	assert_int_equal(rep.overlaps_cut, 2);
	compile_report_release(&rep);
	proto_snapshot_release(&s);

	/* Same start: the later row wins, the other is left out. */
	int64_t c = fixture_instance(db, fixture_show(db, "C"), T0 + 2 * H, T0 + 3 * H);
	add_item(db, c, 0, T0 + 2 * H, T0 + 2 * H + 20 * MIN, f);
	int64_t d = fixture_instance(db, fixture_show(db, "D"), T0 + 2 * H, T0 + 3 * H);
	int64_t last = add_item(db, d, 0, T0 + 2 * H, T0 + 2 * H + 20 * MIN, f);
	compile_ok(db, T0 + 2 * H, T0 + 3 * H, &s, &rep);
	assert_int_equal(s.n_items, 1);
	assert_true(s.items[0].id == last);
	assert_int_equal(rep.dropped, 1);
	compile_report_release(&rep);
	proto_snapshot_release(&s);
	db_close(db);
}

static void test_crossfade_longer_than_item(void **state)
{
	(void)state;
	struct db *db = fixture_db();
	fixture_exec(db, "UPDATE station_settings SET default_crossfade_us = $1 WHERE id = 1",
		     DB_PARAMS(DB_I(5 * S)));
	int64_t inst = fixture_instance(db, fixture_show(db, "S"), T0, T0 + H);
	int64_t song = fixture_file(db, "song", NULL, MIN);
	int64_t jingle = fixture_file(db, "jingle", NULL, 2 * S);
	add_item(db, inst, 0, T0, T0 + MIN, song);
	/* Stored as if it overlapped by the whole 5 s default: longer than
	 * the jingle itself. The song is cut so that the jingle's crossfade
	 * stays shorter than the jingle. */
	int64_t j = add_item(db, inst, 1, T0 + MIN - 5 * S, T0 + MIN - 3 * S, jingle);
	struct proto_snapshot s;
	compile_ok(db, T0, T0 + H, &s, NULL);
	assert_int_equal(s.n_items, 2);
	assert_true(s.items[1].id == j);
	assert_true(s.items[1].crossfade < s.items[1].end - s.items[1].start);
	assert_true(s.items[0].end == s.items[1].start + s.items[1].crossfade);
	proto_snapshot_release(&s);
	db_close(db);
}

static void test_gain(void **state)
{
	(void)state;
	struct db *db = fixture_db();
	fixture_exec(db, "UPDATE station_settings SET loudness_target_lufs = -16 WHERE id = 1",
		     NULL, 0);
	int64_t inst = fixture_instance(db, fixture_show(db, "S"), T0, T0 + H);
	int64_t quiet = fixture_file(db, "quiet", NULL, MIN);
	int64_t peaky = fixture_file(db, "peaky", NULL, MIN);
	int64_t loud = fixture_file(db, "loud", NULL, MIN);
	int64_t unknown = fixture_file(db, "unknown", NULL, MIN);
	fixture_exec(db, "UPDATE files SET loudness_lufs = -22, true_peak_dbtp = -9 WHERE id = $1",
		     DB_PARAMS(DB_I(quiet)));
	fixture_exec(db, "UPDATE files SET loudness_lufs = -22, true_peak_dbtp = -3 WHERE id = $1",
		     DB_PARAMS(DB_I(peaky)));
	fixture_exec(db, "UPDATE files SET loudness_lufs = -8, true_peak_dbtp = 0.5 WHERE id = $1",
		     DB_PARAMS(DB_I(loud)));
	add_item(db, inst, 0, T0, T0 + MIN, quiet);
	add_item(db, inst, 1, T0 + MIN, T0 + 2 * MIN, peaky);
	add_item(db, inst, 2, T0 + 2 * MIN, T0 + 3 * MIN, loud);
	int64_t own = add_item(db, inst, 3, T0 + 3 * MIN, T0 + 4 * MIN, quiet);
	add_item(db, inst, 4, T0 + 4 * MIN, T0 + 5 * MIN, unknown);
	fixture_exec(db, "UPDATE schedule_items SET gain_db = -4.5 WHERE id = $1",
		     DB_PARAMS(DB_I(own)));
	struct proto_snapshot s;
	compile_ok(db, T0, T0 + H, &s, NULL);
	assert_int_equal(s.n_items, 5);
	assert_true(fabs(s.items[0].gain_db - 6.0) < 1e-9);	/* -22 -> -16 */
	assert_true(fabs(s.items[1].gain_db - 2.0) < 1e-9);	/* peak -3 + 2 = -1 dBTP */
	assert_true(fabs(s.items[2].gain_db + 8.0) < 1e-9);	/* -8 -> -16 */
	assert_true(fabs(s.items[3].gain_db + 4.5) < 1e-9);	/* the item's own */
	assert_true(s.items[4].gain_db == 0);			/* not measured */
	proto_snapshot_release(&s);
	db_close(db);
}

static void test_webstream_live_silence(void **state)
{
	(void)state;
	struct db *db = fixture_db();
	int64_t inst = fixture_instance(db, fixture_show(db, "S"), T0, T0 + H);
	int64_t ws = fixture_int(db,
				 "INSERT INTO webstreams (name, url, duration_us, created_at,"
				 " updated_at) VALUES ('Relay', 'https://relay.example/x.mp3', $1, 0,"
				 " 0) RETURNING id",
				 DB_PARAMS(DB_I(10 * MIN)));
	int64_t bad = fixture_int(db,
				  "INSERT INTO webstreams (name, url, duration_us, created_at,"
				  " updated_at) VALUES ('Bad', 'ftp://x/y', $1, 0, 0) RETURNING id",
				  DB_PARAMS(DB_I(10 * MIN)));
	fixture_exec(db,
		     "INSERT INTO schedule_items (instance_id, position, starts_at, ends_at, kind,"
		     " webstream_id, cue_in_us, cue_out_us) VALUES ($1, 0, $2, $3, 'webstream', $4,"
		     " 0, $5)",
		     DB_PARAMS(DB_I(inst), DB_I(T0), DB_I(T0 + 10 * MIN), DB_I(ws),
			       DB_I(10 * MIN)));
	fixture_exec(db,
		     "INSERT INTO schedule_items (instance_id, position, starts_at, ends_at, kind)"
		     " VALUES ($1, 1, $2, $3, 'live')",
		     DB_PARAMS(DB_I(inst), DB_I(T0 + 10 * MIN), DB_I(T0 + 40 * MIN)));
	fixture_exec(db,
		     "INSERT INTO schedule_items (instance_id, position, starts_at, ends_at, kind)"
		     " VALUES ($1, 2, $2, $3, 'silence')",
		     DB_PARAMS(DB_I(inst), DB_I(T0 + 40 * MIN), DB_I(T0 + 41 * MIN)));
	fixture_exec(db,
		     "INSERT INTO schedule_items (instance_id, position, starts_at, ends_at, kind,"
		     " webstream_id) VALUES ($1, 3, $2, $3, 'webstream', $4)",
		     DB_PARAMS(DB_I(inst), DB_I(T0 + 41 * MIN), DB_I(T0 + 51 * MIN), DB_I(bad)));
	struct proto_snapshot s;
	struct compile_report rep;
	compile_ok(db, T0, T0 + H, &s, &rep);
	assert_int_equal(s.n_items, 3);
	assert_int_equal(s.items[0].kind, PROTO_ITEM_WEBSTREAM);
	assert_string_equal(s.items[0].url, "https://relay.example/x.mp3");
	assert_string_equal(s.items[0].meta.title, "Relay");
	assert_int_equal(s.items[1].kind, PROTO_ITEM_LIVE);
	assert_int_equal(s.items[2].kind, PROTO_ITEM_SILENCE);
	assert_int_equal(rep.dropped, 1);
	compile_report_release(&rep);
	proto_snapshot_release(&s);
	db_close(db);
}

static void test_fallback(void **state)
{
	(void)state;
	struct db *db = fixture_db();
	int64_t pl = fixture_playlist(db, "Fallback");
	int64_t a = fixture_file(db, "A", "x", MIN);
	int64_t p = fixture_file(db, "P", "x", MIN);
	int64_t b = fixture_file(db, "B", "x", MIN);
	fixture_exec(db, "UPDATE files SET import_status = 'pending' WHERE id = $1",
		     DB_PARAMS(DB_I(p)));
	fixture_playlist_add_file(db, pl, a);
	fixture_playlist_add_file(db, pl, p);
	fixture_playlist_add_file(db, pl, b);
	fixture_exec(db, "UPDATE station_settings SET fallback_playlist_id = $1 WHERE id = 1",
		     DB_PARAMS(DB_I(pl)));
	struct proto_snapshot s;
	struct compile_report rep;
	compile_ok(db, T0, T0 + H, &s, &rep);
	assert_false(rep.no_fallback);
	assert_int_equal(s.n_fallback, 2);
	assert_true(s.fallback[0].media.id == a && s.fallback[1].media.id == b);
	assert_string_equal(s.fallback[1].meta.title, "B");
	compile_report_release(&rep);
	proto_snapshot_release(&s);

	/* Only unready files: as good as none. */
	fixture_exec(db, "UPDATE files SET import_status = 'failed'", NULL, 0);
	compile_ok(db, T0, T0 + H, &s, &rep);
	assert_int_equal(s.n_fallback, 0);
	assert_true(rep.no_fallback);
	compile_report_release(&rep);
	proto_snapshot_release(&s);
	db_close(db);
}

static bool has_user(const struct proto_live_input_cfg *in, const char *name, int64_t from,
		     int64_t until)
{
	for (size_t i = 0; i < in->n_users; i++)
		if (strcmp(in->users[i].name, name) == 0 && in->users[i].valid_from == from &&
		    in->users[i].valid_until == until)
			return true;
	return false;
}

static void set_hash(struct db *db, int64_t user)
{
	fixture_exec(db, "UPDATE users SET password_hash = $1 WHERE id = $2",
		     DB_PARAMS(DB_T(hash_a), DB_I(user)));
}

static void test_live_accounts(void **state)
{
	(void)state;
	struct db *db = fixture_db();
	int64_t admin = fixture_user(db, "root", "admin");
	int64_t pm = fixture_user(db, "pm", "program_manager");
	int64_t host = fixture_user(db, "dj", "host");
	int64_t other = fixture_user(db, "other", "host");
	int64_t guest = fixture_user(db, "guest", "guest");
	int64_t off = fixture_user(db, "off", "admin");
	fixture_user(db, "nopass", "admin");
	set_hash(db, admin);
	set_hash(db, pm);
	set_hash(db, host);
	set_hash(db, other);
	set_hash(db, guest);
	set_hash(db, off);
	fixture_exec(db, "UPDATE users SET disabled = $1 WHERE id = $2",
		     DB_PARAMS(DB_B(true), DB_I(off)));
	int64_t show = fixture_show(db, "Hosted");
	fixture_exec(db, "UPDATE shows SET live_input = 'hosts' WHERE id = $1",
		     DB_PARAMS(DB_I(show)));
	fixture_exec(db, "INSERT INTO show_hosts (show_id, user_id) VALUES ($1, $2)",
		     DB_PARAMS(DB_I(show), DB_I(host)));
	fixture_instance(db, show, T0, T0 + H);
	fixture_instance(db, show, T0 + 24 * H, T0 + 25 * H);
	int64_t open = fixture_show(db, "Open");
	fixture_exec(db, "UPDATE shows SET live_input = 'any' WHERE id = $1",
		     DB_PARAMS(DB_I(open)));
	fixture_instance(db, open, T0 + 2 * H, T0 + 3 * H);
	fixture_instance(db, fixture_show(db, "Closed"), T0 + 4 * H, T0 + 5 * H);

	struct proto_snapshot s;
	compile_ok(db, T0, T0 + 48 * H, &s, NULL);
	const struct proto_live_input_cfg *main_in = &s.live[PROTO_LIVE_MAIN];
	const struct proto_live_input_cfg *show_in = &s.live[PROTO_LIVE_SHOW];
	assert_int_equal(main_in->n_users, 2);
	assert_true(has_user(main_in, "root", 0, 0) && has_user(main_in, "pm", 0, 0));
	assert_true(has_user(show_in, "root", 0, 0) && has_user(show_in, "pm", 0, 0));
	assert_true(has_user(show_in, "dj", T0, T0 + H));
	assert_true(has_user(show_in, "dj", T0 + 24 * H, T0 + 25 * H));
	assert_true(has_user(show_in, "dj", T0 + 2 * H, T0 + 3 * H));
	assert_true(has_user(show_in, "other", T0 + 2 * H, T0 + 3 * H));
	assert_false(has_user(show_in, "other", T0, T0 + H));
	/* 2 always + dj 3 times + other once */
	assert_int_equal(show_in->n_users, 6);
	assert_string_equal(show_in->users[0].password_hash, hash_a);
	proto_snapshot_release(&s);

	/* A disabled input carries nobody. */
	set_settings(db, "{\"live\":{\"show\":{\"enabled\":false}}}");
	compile_ok(db, T0, T0 + 48 * H, &s, NULL);
	assert_false(s.live[PROTO_LIVE_SHOW].enabled);
	assert_int_equal(s.live[PROTO_LIVE_SHOW].n_users, 0);
	assert_int_equal(s.live[PROTO_LIVE_MAIN].n_users, 2);
	proto_snapshot_release(&s);
	db_close(db);
}

static void test_window_and_truncation(void **state)
{
	(void)state;
	struct db *db = fixture_db();
	int64_t inst = fixture_instance(db, fixture_show(db, "S"), T0 - H, T0 + H);
	int64_t f = fixture_file(db, "f", NULL, 10 * MIN);
	for (int i = 0; i < 12; i++)
		add_item(db, inst, i, T0 - H + i * 10 * MIN, T0 - H + (i + 1) * 10 * MIN, f);
	/* The item in play when the window opens is included. */
	struct proto_snapshot s;
	compile_ok(db, T0 + 5 * MIN, T0 + 30 * MIN, &s, NULL);
	assert_int_equal(s.n_items, 3);
	assert_true(s.items[0].start == T0 && s.items[0].end == T0 + 10 * MIN);
	proto_snapshot_release(&s);

	struct compile_report rep;
	struct compile_options o = { .from = T0 - H, .to = T0 + H, .now = T0, .max_items = 5 };
	char err[256];
	assert_int_equal(compile_snapshot(db, &o, &s, &rep, err, sizeof(err)), 0);
	assert_int_equal(s.n_items, 5);
	assert_true(rep.truncated);
	assert_true(s.window_end == T0 - H + 50 * MIN);
	compile_report_release(&rep);
	proto_snapshot_release(&s);

	o.to = o.from;
	assert_int_equal(compile_snapshot(db, &o, &s, &rep, err, sizeof(err)), -EINVAL);
	db_close(db);
}

int main(int argc, char **argv)
{
	if (fixture_init(argc, argv) < 0)
		return 2;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_settings_defaults),
		cmocka_unit_test(test_settings_documents),
		cmocka_unit_test(test_empty_station),
		cmocka_unit_test(test_back_to_back_with_defaults),
		cmocka_unit_test(test_overbooked_cut_at_show_end),
		cmocka_unit_test(test_not_ready_files_left_out),
		cmocka_unit_test(test_overlapping_shows),
		cmocka_unit_test(test_crossfade_longer_than_item),
		cmocka_unit_test(test_gain),
		cmocka_unit_test(test_webstream_live_silence),
		cmocka_unit_test(test_fallback),
		cmocka_unit_test(test_live_accounts),
		cmocka_unit_test(test_window_and_truncation),
	};
	int failed = cmocka_run_group_tests_name(fixture_group("compile"), tests, NULL, NULL);
	fixture_fini();
	return failed ? 1 : 0;
}
