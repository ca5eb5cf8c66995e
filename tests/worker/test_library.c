/*
 * test_library.c - the library's rows (worker/library.h) on SQLite and
 * PostgreSQL: files added and found by content hash, analysis results
 * written to every column without overwriting what a user edited, failed
 * files, the tasks table's life cycle, and library_analyze_file on WAV
 * files made here (track type silence settings, hash check, missing
 * bytes).
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/fsutil.h"
#include "common/timeutil.h"
#include "harness.h"
#include "station_fixture.h"
#include "storage/storage.h"
#include "worker/library.h"

static char store_root[512];

static const char *hash_of(int n)
{
	static char h[80];
	snprintf(h, sizeof(h), "sha256:%064d", n);
	return h;
}

static void test_add_file_dedupe(void **state)
{
	struct db *db = fixture_db();
	int64_t user = fixture_user(db, "ann", "host");
	int64_t tt = fixture_int(db, "INSERT INTO track_types (code, name)"
				 " VALUES ('music', 'Music') RETURNING id", NULL, 0);
	int64_t id1 = 0, id2 = 0, id3 = 0;
	bool existed = true;
	assert_int_equal(library_add_file(db, hash_of(1), 1234, "audio/mpeg", "k/1.mp3", user, tt,
					  "/music/a.mp3", 100, &id1, &existed), 0);
	assert_false(existed);
	assert_true(id1 > 0);
	/* The same bytes again (another key, no source): the first row. */
	assert_int_equal(library_add_file(db, hash_of(1), 1234, "audio/mpeg", "k/other.mp3", 0, 0,
					  NULL, 200, &id2, &existed), 0);
	assert_true(existed);
	assert_int_equal(id2, id1);
	assert_int_equal(library_add_file(db, hash_of(2), 10, "audio/ogg", "k/2.ogg", 0, 0, NULL,
					  300, &id3, &existed), 0);
	assert_false(existed);
	assert_int_not_equal(id3, id1);

	struct db_rows *rows;
	assert_int_equal(db_query(db, "SELECT import_status, size, mime, storage_key, uploaded_by,"
				  " track_type_id, source_path, created_at, updated_at FROM files"
				  " WHERE id = $1", DB_PARAMS(DB_I(id1)), &rows), 0);
	assert_true(db_rows_next(rows));
	assert_string_equal(db_col_text(rows, 0), "pending");
	assert_int_equal(db_col_int(rows, 1), 1234);
	assert_string_equal(db_col_text(rows, 2), "audio/mpeg");
	assert_string_equal(db_col_text(rows, 3), "k/1.mp3");
	assert_int_equal(db_col_int(rows, 4), user);
	assert_int_equal(db_col_int(rows, 5), tt);
	assert_string_equal(db_col_text(rows, 6), "/music/a.mp3");
	assert_int_equal(db_col_int(rows, 7), 100);
	assert_int_equal(db_col_int(rows, 8), 100);
	db_rows_free(rows);

	struct library_file_info info;
	assert_int_equal(library_find_file(db, hash_of(1), &info), 0);
	assert_int_equal(info.id, id1);
	assert_string_equal(info.status, "pending");
	assert_true(info.imported);
	assert_int_equal(info.track_type_id, tt);
	assert_int_equal(library_find_file(db, hash_of(2), &info), 0);
	assert_false(info.imported);
	assert_int_equal(info.track_type_id, 0);
	assert_int_equal(library_find_file(db, hash_of(3), &info), -ENOENT);

	/* References that do not exist; bad arguments. */
	assert_int_equal(library_add_file(db, hash_of(4), 1, "audio/mpeg", "k/4", 9999, 0, NULL, 0,
					  &id1, &existed), -ENOENT);
	assert_int_equal(library_add_file(db, "", 1, "audio/mpeg", "k/4", 0, 0, NULL, 0, &id1,
					  &existed), -EINVAL);
	assert_int_equal(library_add_file(db, hash_of(4), -1, "audio/mpeg", "k/4", 0, 0, NULL, 0,
					  &id1, &existed), -EINVAL);
	/* A source path that is not UTF-8 is stored as text all the same. */
	assert_int_equal(library_add_file(db, hash_of(5), 1, "audio/mpeg", "k/5", 0, 0,
					  "/music/caf\xe9.mp3", 0, &id1, &existed), 0);
	assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM files WHERE source_path = $1",
				     DB_PARAMS(DB_T("/music/caf\xc3\xa9.mp3"))), 1);
	db_close(db);
}

/* An analysis as analyze_file would give for a tagged stereo MP3. */
static void sample_analysis(struct analysis *a)
{
	analysis_init(a);
	a->ok = true;
	snprintf(a->container, sizeof(a->container), "mp3");
	snprintf(a->codec, sizeof(a->codec), "mp3");
	snprintf(a->channel_layout, sizeof(a->channel_layout), "stereo");
	a->sample_rate_hz = 44100;
	a->channels = 2;
	a->bitrate_bps = 192000;
	a->samples = 44100 * 200;
	a->duration_us = 200 * USEC_PER_SEC;
	a->declared_duration_us = 200 * USEC_PER_SEC;
	a->loudness_lufs = -11.5;
	a->loudness_range_lu = 6.25;
	a->true_peak_dbtp = -0.5;
	a->sample_peak_dbfs = -0.75;
	a->replaygain_track_gain_db = -6.5;
	a->cue_in_us = 120000;
	a->cue_out_us = 199500000;
	a->tags.title = xstrdup("Song");
	a->tags.artist = xstrdup("Band");
	a->tags.album = xstrdup("Album");
	a->tags.genre = xstrdup("Pop");
	a->tags.composer = xstrdup("Writer");
	a->tags.label = xstrdup("Label");
	a->tags.isrc = xstrdup("USRC17607839");
	a->tags.comment = xstrdup("A comment");
	a->tags.language = xstrdup("eng");
	a->tags.year = 2004;
	a->tags.track_number = 3;
	a->tags.disc_number = 1;
	a->tags.bpm = 120.5;
}

static void test_store_analysis(void **state)
{
	struct db *db = fixture_db();
	int64_t id;
	bool existed;
	assert_int_equal(library_add_file(db, hash_of(1), 5000, "application/octet-stream", "k/1",
					  0, 0, NULL, 10, &id, &existed), 0);
	struct analysis a;
	sample_analysis(&a);
	assert_int_equal(library_store_analysis(db, id, &a, "wf/1.json", "art/1.jpg", 20), 0);

	struct db_rows *rows;
	const char *sql =
		"SELECT import_status, failure_reason, mime, duration_us, sample_rate, channels,"
		" bitrate, codec, container, loudness_lufs, loudness_range, true_peak_dbtp,"
		" replaygain_db, cue_in_us, cue_out_us, waveform_path, artwork_path, title, artist,"
		" album, genre, year, track_number, disc_number, composer, label, isrc, bpm,"
		" comment, language, updated_at FROM files WHERE id = $1";
	assert_int_equal(db_query(db, sql, DB_PARAMS(DB_I(id)), &rows), 0);
	assert_true(db_rows_next(rows));
	assert_string_equal(db_col_text(rows, 0), "ready");
	assert_true(db_col_is_null(rows, 1));
	assert_string_equal(db_col_text(rows, 2), "audio/mpeg");
	assert_int_equal(db_col_int(rows, 3), 200 * USEC_PER_SEC);
	assert_int_equal(db_col_int(rows, 4), 44100);
	assert_int_equal(db_col_int(rows, 5), 2);
	assert_int_equal(db_col_int(rows, 6), 192000);
	assert_string_equal(db_col_text(rows, 7), "mp3");
	assert_string_equal(db_col_text(rows, 8), "mp3");
	assert_true(fabs(db_col_real(rows, 9) - -11.5) < 1e-9);
	assert_true(fabs(db_col_real(rows, 10) - 6.25) < 1e-9);
	assert_true(fabs(db_col_real(rows, 11) - -0.5) < 1e-9);
	assert_true(fabs(db_col_real(rows, 12) - -6.5) < 1e-9);
	assert_int_equal(db_col_int(rows, 13), 120000);
	assert_int_equal(db_col_int(rows, 14), 199500000);
	assert_string_equal(db_col_text(rows, 15), "wf/1.json");
	assert_string_equal(db_col_text(rows, 16), "art/1.jpg");
	assert_string_equal(db_col_text(rows, 17), "Song");
	assert_string_equal(db_col_text(rows, 18), "Band");
	assert_string_equal(db_col_text(rows, 19), "Album");
	assert_string_equal(db_col_text(rows, 20), "Pop");
	assert_int_equal(db_col_int(rows, 21), 2004);
	assert_int_equal(db_col_int(rows, 22), 3);
	assert_int_equal(db_col_int(rows, 23), 1);
	assert_string_equal(db_col_text(rows, 24), "Writer");
	assert_string_equal(db_col_text(rows, 25), "Label");
	assert_string_equal(db_col_text(rows, 26), "USRC17607839");
	assert_true(fabs(db_col_real(rows, 27) - 120.5) < 1e-9);
	assert_string_equal(db_col_text(rows, 28), "A comment");
	assert_string_equal(db_col_text(rows, 29), "eng");
	assert_int_equal(db_col_int(rows, 30), 20);
	db_rows_free(rows);

	/* A user edits tags and clears the album; a new analysis (other
	 * tags, other levels, other artwork) fills only what is NULL. */
	fixture_exec(db, "UPDATE files SET title = 'My title', year = 1999, album = NULL"
		     " WHERE id = $1", DB_PARAMS(DB_I(id)));
	free(a.tags.title);
	a.tags.title = xstrdup("Other");
	free(a.tags.album);
	a.tags.album = xstrdup("Album 2");
	a.tags.year = 2010;
	a.loudness_lufs = -14;
	assert_int_equal(library_store_analysis(db, id, &a, "wf/2.json", "art/2.png", 30), 0);
	assert_int_equal(db_query(db, "SELECT title, year, album, artist, loudness_lufs,"
				  " waveform_path, artwork_path FROM files WHERE id = $1",
				  DB_PARAMS(DB_I(id)), &rows), 0);
	assert_true(db_rows_next(rows));
	assert_string_equal(db_col_text(rows, 0), "My title");
	assert_int_equal(db_col_int(rows, 1), 1999);
	assert_string_equal(db_col_text(rows, 2), "Album 2");
	assert_string_equal(db_col_text(rows, 3), "Band");
	assert_true(fabs(db_col_real(rows, 4) - -14) < 1e-9);
	assert_string_equal(db_col_text(rows, 5), "wf/2.json");
	assert_string_equal(db_col_text(rows, 6), "art/1.jpg");	/* kept */
	db_rows_free(rows);

	/* Idempotent: the same analysis again gives the same row. */
	assert_int_equal(library_store_analysis(db, id, &a, "wf/2.json", "art/2.png", 30), 0);
	assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM files WHERE id = $1 AND"
				     " import_status = 'ready' AND title = 'My title'",
				     DB_PARAMS(DB_I(id))), 1);

	/* Silence: levels that are not finite are stored as NULL. */
	a.loudness_lufs = -INFINITY;
	a.replaygain_track_gain_db = NAN;
	a.true_peak_dbtp = -INFINITY;
	assert_int_equal(library_store_analysis(db, id, &a, NULL, NULL, 40), 0);
	assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM files WHERE id = $1 AND"
				     " loudness_lufs IS NULL AND replaygain_db IS NULL AND"
				     " true_peak_dbtp IS NULL AND waveform_path IS NULL",
				     DB_PARAMS(DB_I(id))), 1);
	assert_int_equal(library_store_analysis(db, id + 100, &a, NULL, NULL, 40), -ENOENT);
	analysis_release(&a);
	db_close(db);
}

static void test_failed_files(void **state)
{
	struct db *db = fixture_db();
	int64_t id;
	bool existed;
	assert_int_equal(library_add_file(db, hash_of(1), 10, "audio/mpeg", "k/1", 0, 0, NULL, 10,
					  &id, &existed), 0);
	struct analysis a;
	analysis_init(&a);
	a.ok = false;
	snprintf(a.reason, sizeof(a.reason), "not a supported audio file");
	snprintf(a.container, sizeof(a.container), "mp3");
	assert_int_equal(library_store_analysis(db, id, &a, NULL, NULL, 20), 0);
	struct db_rows *rows;
	assert_int_equal(db_query(db, "SELECT import_status, failure_reason, container,"
				  " duration_us, sample_rate FROM files WHERE id = $1",
				  DB_PARAMS(DB_I(id)), &rows), 0);
	assert_true(db_rows_next(rows));
	assert_string_equal(db_col_text(rows, 0), "failed");
	assert_string_equal(db_col_text(rows, 1), "not a supported audio file");
	assert_string_equal(db_col_text(rows, 2), "mp3");
	assert_true(db_col_is_null(rows, 3));
	assert_true(db_col_is_null(rows, 4));
	db_rows_free(rows);
	analysis_release(&a);

	/* A reason that is long and not UTF-8 is cut and converted. */
	char reason[3000];
	memset(reason, 'x', sizeof(reason) - 1);
	reason[sizeof(reason) - 1] = '\0';
	reason[5] = (char)0xff;
	assert_int_equal(library_mark_failed(db, id, reason, 30), 0);
	assert_int_equal(fixture_int(db, "SELECT LENGTH(failure_reason) FROM files WHERE id = $1",
				     DB_PARAMS(DB_I(id))) <= LIBRARY_REASON_MAX, 1);
	assert_int_equal(library_mark_failed(db, id, "storage: missing", 40), 0);
	assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM files WHERE id = $1 AND"
				     " failure_reason = 'storage: missing' AND updated_at = 40",
				     DB_PARAMS(DB_I(id))), 1);
	assert_int_equal(library_mark_failed(db, id + 1, "x", 40), -ENOENT);
	db_close(db);
}

static void expect_task(struct db *db, const char *task_id, const char *state, int attempts)
{
	char s[16];
	int n = -1;
	assert_int_equal(library_task_state(db, task_id, s, &n), 0);
	assert_string_equal(s, state);
	assert_int_equal(n, attempts);
}

static void test_task_lifecycle(void **state)
{
	struct db *db = fixture_db();
	int64_t file = fixture_file(db, "T", "A", 1000000);
	assert_int_equal(library_task_create(db, "t1", "analyze_file", file, 0, 0, 100), 0);
	assert_int_equal(library_task_create(db, "t1", "analyze_file", file, 0, 0, 100), -EEXIST);
	assert_int_equal(library_task_create(db, "t2", "analyze_file", file + 99, 0, 0, 100),
			 -ENOENT);
	expect_task(db, "t1", "queued", 0);

	int attempts = 0;
	assert_int_equal(library_task_start(db, "t1", 200, &attempts), 0);
	assert_int_equal(attempts, 1);
	expect_task(db, "t1", "running", 1);
	assert_int_equal(fixture_int(db, "SELECT started_at FROM tasks WHERE task_id = 't1'", NULL,
				     0), 200);

	/* A temporary failure: queued again, the error kept. */
	assert_int_equal(library_task_failed(db, "t1", "storage: cannot read", false, 300), 0);
	expect_task(db, "t1", "queued", 1);
	assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM tasks WHERE task_id = 't1' AND"
				     " last_error = 'storage: cannot read' AND finished_at IS NULL",
				     NULL, 0), 1);
	assert_int_equal(library_task_start(db, "t1", 400, &attempts), 0);
	assert_int_equal(attempts, 2);

	/* Stopped: back to queued, the attempt not counted. */
	assert_int_equal(library_task_requeue(db, "t1", 500), 0);
	expect_task(db, "t1", "queued", 1);
	/* Not running: no change. */
	assert_int_equal(library_task_requeue(db, "t1", 500), 0);
	expect_task(db, "t1", "queued", 1);

	/* A worker died: a running task can be started again. */
	assert_int_equal(library_task_start(db, "t1", 600, &attempts), 0);
	assert_int_equal(library_task_start(db, "t1", 650, &attempts), 0);
	assert_int_equal(attempts, 3);
	assert_int_equal(library_task_done(db, "t1", 700), 0);
	expect_task(db, "t1", "done", 3);
	assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM tasks WHERE task_id = 't1' AND"
				     " last_error IS NULL AND finished_at = 700", NULL, 0), 1);
	/* A duplicate delivery finds it finished. */
	assert_int_equal(library_task_start(db, "t1", 800, &attempts), -EALREADY);
	expect_task(db, "t1", "done", 3);

	/* Failed for good. */
	assert_int_equal(library_task_create(db, "t3", "poll_podcast", 0, 0, 0, 100), 0);
	assert_int_equal(library_task_start(db, "t3", 200, NULL), 0);
	assert_int_equal(library_task_failed(db, "t3", "feed gone (404)", true, 300), 0);
	expect_task(db, "t3", "failed", 1);
	assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM tasks WHERE task_id = 't3' AND"
				     " last_error = 'feed gone (404)' AND finished_at = 300", NULL,
				     0), 1);
	assert_int_equal(library_task_start(db, "t3", 400, NULL), -EALREADY);

	char s[16];
	assert_int_equal(library_task_state(db, "nope", s, NULL), -ENOENT);
	assert_int_equal(library_task_start(db, "nope", 1, NULL), -ENOENT);
	assert_int_equal(library_task_done(db, "nope", 1), -ENOENT);
	assert_int_equal(library_task_failed(db, "nope", "x", true, 1), -ENOENT);
	assert_int_equal(library_task_requeue(db, "nope", 1), -ENOENT);

	/* The task row goes with its file. */
	fixture_exec(db, "DELETE FROM files WHERE id = $1", DB_PARAMS(DB_I(file)));
	assert_int_equal(library_task_state(db, "t1", s, NULL), -ENOENT);
	db_close(db);
}

/* A 16-bit stereo 44.1 kHz WAV: silence_s of silence, then tone_s of a
 * sine of freq Hz at -6 dBFS. */
static void make_wav(struct buf *out, double silence_s, double tone_s, double freq)
{
	uint32_t frames = (uint32_t)((silence_s + tone_s) * 44100);
	uint32_t data_len = frames * 4;
	unsigned char h[44];
	memcpy(h, "RIFF", 4);
	uint32_t v = 36 + data_len;
	memcpy(h + 4, &v, 4);
	memcpy(h + 8, "WAVEfmt ", 8);
	v = 16;
	memcpy(h + 16, &v, 4);
	uint16_t s = 1;
	memcpy(h + 20, &s, 2);	/* PCM */
	s = 2;
	memcpy(h + 22, &s, 2);	/* channels */
	v = 44100;
	memcpy(h + 24, &v, 4);
	v = 44100 * 4;
	memcpy(h + 28, &v, 4);
	s = 4;
	memcpy(h + 32, &s, 2);
	s = 16;
	memcpy(h + 34, &s, 2);
	memcpy(h + 36, "data", 4);
	memcpy(h + 40, &data_len, 4);
	assert_int_equal(buf_append(out, h, sizeof(h)), 0);
	uint32_t silent = (uint32_t)(silence_s * 44100);
	for (uint32_t i = 0; i < frames; i++) {
		int16_t x = 0;
		if (i >= silent)
			x = (int16_t)(16384 * sin(2 * M_PI * freq * (i - silent) / 44100.0));
		int16_t fr[2] = { x, x };
		assert_int_equal(buf_append(out, fr, sizeof(fr)), 0);
	}
}

/* Store bytes and add a files row for them. */
static int64_t stored_file(struct db *db, struct storage *st, const struct buf *b,
			   int64_t track_type, char key[STORAGE_KEY_SIZE])
{
	char hash[STORAGE_HASH_SIZE];
	assert_int_equal(storage_put_bytes(st, b->data, b->len, "wav", key, hash), 0);
	int64_t id;
	bool existed;
	assert_int_equal(library_add_file(db, hash, (int64_t)b->len, "audio/wav", key, 0,
					  track_type, NULL, 1, &id, &existed), 0);
	assert_false(existed);
	return id;
}

static void test_analyze_file(void **state)
{
	struct db *db = fixture_db();
	struct storage *st;
	assert_int_equal(storage_open(&st, store_root), 0);
	/* Track types' defaults: -50 dB, 1 s of silence at least. */
	int64_t tt = fixture_int(db, "INSERT INTO track_types (code, name) VALUES ('music', 'M')"
				 " RETURNING id", NULL, 0);
	struct buf w1, w2;
	buf_init(&w1, 1 << 24);
	buf_init(&w2, 1 << 24);
	make_wav(&w1, 0.5, 2.0, 440);
	make_wav(&w2, 0.5, 2.0, 550);
	char key1[STORAGE_KEY_SIZE], key2[STORAGE_KEY_SIZE];
	int64_t with_tt = stored_file(db, st, &w1, tt, key1);
	int64_t without = stored_file(db, st, &w2, 0, key2);

	struct library_analyze_options o = { .verify_hash = true };
	bool playable = false;
	char err[256];
	assert_int_equal(library_analyze_file(db, st, with_tt, &o, &playable, err, sizeof(err)), 0);
	assert_true(playable);
	assert_int_equal(library_analyze_file(db, st, without, &o, &playable, err, sizeof(err)), 0);
	assert_true(playable);

	/* 0.5 s of leading silence: shorter than the track type's 1 s, so
	 * not cut; cut with analyze.h's 20 ms default. */
	struct db_rows *rows;
	assert_int_equal(db_query(db, "SELECT id, cue_in_us, duration_us, sample_rate, channels,"
				  " import_status, waveform_path, loudness_lufs, mime FROM files"
				  " ORDER BY id", NULL, 0, &rows), 0);
	char wf_key[STORAGE_KEY_SIZE] = "";
	for (int i = 0; i < 2; i++) {
		assert_true(db_rows_next(rows));
		int64_t cue_in = db_col_int(rows, 1);
		if (db_col_int(rows, 0) == with_tt)
			assert_int_equal(cue_in, 0);
		else
			assert_true(llabs(cue_in - 500000) < 1000);
		assert_true(llabs(db_col_int(rows, 2) - 2500000) < 1000);
		assert_int_equal(db_col_int(rows, 3), 44100);
		assert_int_equal(db_col_int(rows, 4), 2);
		assert_string_equal(db_col_text(rows, 5), "ready");
		assert_non_null(db_col_text(rows, 6));
		snprintf(wf_key, sizeof(wf_key), "%s", db_col_text(rows, 6));
		assert_false(db_col_is_null(rows, 7));
		assert_string_equal(db_col_text(rows, 8), "audio/wav");
	}
	db_rows_free(rows);

	/* The waveform is JSON in the store. */
	char path[1024];
	assert_int_equal(storage_path(st, wf_key, path, sizeof(path)), 0);
	struct buf json;
	buf_init(&json, 1 << 20);
	assert_int_equal(fs_read_file(path, &json), 0);
	assert_memory_equal(json.data, "{\"buckets\":1000,\"min\":[", 23);
	assert_non_null(strstr(json.data, "],\"max\":["));
	buf_release(&json);

	/* Bytes that do not match the row's hash: the file fails. */
	fixture_exec(db, "UPDATE files SET import_status = 'pending', content_hash = $1"
		     " WHERE id = $2", DB_PARAMS(DB_T(hash_of(77)), DB_I(without)));
	assert_int_equal(library_analyze_file(db, st, without, &o, &playable, err, sizeof(err)), 0);
	assert_false(playable);
	assert_non_null(strstr(err, "content hash"));
	assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM files WHERE id = $1 AND"
				     " import_status = 'failed'", DB_PARAMS(DB_I(without))), 1);

	/* The stored bytes are missing: a failure worth retrying, nothing
	 * written. */
	assert_int_equal(storage_path(st, key1, path, sizeof(path)), 0);
	char moved[1100];
	snprintf(moved, sizeof(moved), "%s.away", path);
	assert_int_equal(rename(path, moved), 0);
	fixture_exec(db, "UPDATE files SET import_status = 'pending' WHERE id = $1",
		     DB_PARAMS(DB_I(with_tt)));
	int r = library_analyze_file(db, st, with_tt, &o, &playable, err, sizeof(err));
	assert_int_equal(r, -EIO);
	assert_non_null(strstr(err, key1));
	assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM files WHERE id = $1 AND"
				     " import_status = 'pending'", DB_PARAMS(DB_I(with_tt))), 1);
	assert_int_equal(rename(moved, path), 0);

	/* No such row; a key the store did not make. */
	assert_int_equal(library_analyze_file(db, st, with_tt + 100, &o, &playable, err,
					      sizeof(err)), -ENOENT);
	fixture_exec(db, "UPDATE files SET storage_key = '../../etc/passwd' WHERE id = $1",
		     DB_PARAMS(DB_I(with_tt)));
	assert_int_equal(library_analyze_file(db, st, with_tt, &o, &playable, err, sizeof(err)), 0);
	assert_false(playable);
	assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM files WHERE id = $1 AND"
				     " import_status = 'failed'"
				     " AND failure_reason = 'invalid storage key'",
				     DB_PARAMS(DB_I(with_tt))), 1);

	buf_release(&w1);
	buf_release(&w2);
	storage_close(st);
	db_close(db);
}

static void test_mime(void **state)
{
	assert_string_equal(library_mime_for_ext("MP3"), "audio/mpeg");
	assert_string_equal(library_mime_for_ext(".flac"), "audio/flac");
	assert_string_equal(library_mime_for_ext("oga"), "audio/ogg");
	assert_string_equal(library_mime_for_ext("m4a"), "audio/mp4");
	assert_string_equal(library_mime_for_ext("exe"), "application/octet-stream");
	assert_string_equal(library_mime_for_ext(NULL), "application/octet-stream");
	assert_string_equal(library_mime_for_container("mov,mp4,m4a,3gp,3g2,mj2"), "audio/mp4");
	assert_null(library_mime_for_container("nut"));
	assert_null(library_mime_for_container(NULL));
}

int main(int argc, char **argv)
{
	if (fixture_init(argc, argv) < 0)
		return 2;
	char dir[256];
	if (harness_tmpdir(dir, sizeof(dir)) < 0)
		return 2;
	snprintf(store_root, sizeof(store_root), "%s/media", dir);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_add_file_dedupe),
		cmocka_unit_test(test_store_analysis),
		cmocka_unit_test(test_failed_files),
		cmocka_unit_test(test_task_lifecycle),
		cmocka_unit_test(test_analyze_file),
		cmocka_unit_test(test_mime),
	};
	int failed = cmocka_run_group_tests_name(fixture_group("library"), tests, NULL, NULL);
	fixture_fini();
	return failed ? 1 : 0;
}
