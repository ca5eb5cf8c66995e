/*
 * compile_bench.c - how long the schedule compiler takes for a busy
 * station, against a plain SELECT of the same rows measured in the same
 * run (the ratio is the figure; no threshold).
 *
 * The station (a SQLite file in a temporary directory): a 100,000-track
 * library, 24 one-hour shows a day for a year. The shows of the first
 * two days are filled the way the station fills them: every other show
 * by a smart block (evaluated over the whole library, with artist
 * separation) and the others by a playlist, through build_expand and
 * placement_insert. The rest of the year repeats those two days with
 * plain INSERTs (the compiler reads items the same way, whoever placed
 * them).
 *
 *   compile-bench [REPEATS]      (default 5; the median is printed)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/timeutil.h"
#include "db/db.h"
#include "db/migrations.h"
#include "station/build.h"
#include "station/compile.h"
#include "station/placement.h"

#define S INT64_C(1000000)
#define MIN (60 * S)
#define H (60 * MIN)
#define DAY (24 * H)
#define TRACKS 100000
#define DAYS 365
/* 2027-01-04T00:00:00Z */
#define T0 INT64_C(1799020800000000)

static int die(struct db *db, const char *what, int r)
{
	fprintf(stderr, "compile-bench: %s: %d %s\n", what, r, db ? db_errmsg(db) : "");
	exit(1);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static void fill_library(struct db *db)
{
	static const char *const genres[] = { "rock", "pop", "jazz", "soul", "electronic",
					      "folk", "classical", "hip-hop" };
	int r = db_begin(db);
	if (r < 0)
		die(db, "begin", r);
	uint64_t x = 88172645463325252u;
	for (int i = 0; i < TRACKS; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		char hash[80], title[32], artist[32], key[40];
		snprintf(hash, sizeof(hash), "sha256:%064d", i + 1);
		snprintf(title, sizeof(title), "Track %d", i);
		snprintf(artist, sizeof(artist), "Artist %d", (int)(x % 9000));
		snprintf(key, sizeof(key), "%d.mp3", i);
		int64_t dur = (int64_t)(120 + x % 300) * S;
		r = db_exec(db,
			    "INSERT INTO files (content_hash, size, mime, storage_key, import_status,"
			    " created_at, updated_at, title, artist, genre, year, duration_us,"
			    " cue_in_us, cue_out_us, loudness_lufs, true_peak_dbtp) VALUES ($1, $2,"
			    " 'audio/mpeg', $3, 'ready', $4, $4, $5, $6, $7, $8, $9, 0, $9, $10, $11)",
			    DB_PARAMS(DB_T(hash), DB_I(4000000 + i), DB_T(key), DB_I(i),
				      DB_T(title), DB_T(artist), DB_T(genres[x % 8]),
				      DB_I(1960 + (int)(x % 66)), DB_I(dur),
				      DB_R(-8.0 - (double)(x % 20)), DB_R(-0.5 - (double)(x % 6))));
		if (r < 0)
			die(db, "insert file", r);
	}
	if ((r = db_commit(db)) < 0)
		die(db, "commit", r);
}

static int64_t q_int(struct db *db, const char *sql, const struct db_param *p, size_t n)
{
	int64_t v;
	int r = db_query_int(db, sql, p, n, &v);
	if (r < 0)
		die(db, sql, r);
	return v;
}

/* Two days filled through the library's own functions. */
static void fill_two_days(struct db *db, int64_t show, int64_t block, int64_t playlist)
{
	for (int h = 0; h < 48; h++) {
		int64_t start = T0 + h * H;
		int64_t inst = q_int(db,
				     "INSERT INTO show_instances (show_id, starts_at, ends_at,"
				     " created_at, updated_at) VALUES ($1, $2, $3, 0, 0) RETURNING id",
				     DB_PARAMS(DB_I(show), DB_I(start), DB_I(start + H)));
		struct build_items items = { 0 };
		struct build_context ctx = { .at = start, .remaining_us = H, .seed = (uint64_t)h };
		int r = build_expand(db, h % 2 ? BUILD_SMART_BLOCK : BUILD_PLAYLIST,
				     h % 2 ? block : playlist, &ctx, NULL, &items);
		if (r < 0)
			die(db, "build_expand", r);
		char err[256];
		r = placement_insert(db, T0 - DAY, inst, 1, -1, items.items, items.n, NULL, NULL,
				     err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "placement_insert: %s\n", err);
			die(db, "placement_insert", r);
		}
		build_items_release(&items);
	}
}

/* The rest of the year: the two days again and again. */
static void repeat_year(struct db *db, int64_t show)
{
	int r = db_begin(db);
	if (r < 0)
		die(db, "begin", r);
	for (int d = 2; d < DAYS; d += 2) {
		int64_t shift = d * DAY;
		r = db_exec(db,
			    "INSERT INTO show_instances (show_id, starts_at, ends_at, created_at,"
			    " updated_at) SELECT show_id, starts_at + $1, ends_at + $1, 0, 0"
			    " FROM show_instances WHERE starts_at >= $2 AND starts_at < $3",
			    DB_PARAMS(DB_I(shift), DB_I(T0), DB_I(T0 + 2 * DAY)));
		if (r < 0)
			die(db, "copy instances", r);
		r = db_exec(db,
			    "INSERT INTO schedule_items (instance_id, position, starts_at, ends_at,"
			    " kind, file_id, source_smart_block_id, origin)"
			    " SELECT n.id, si.position, si.starts_at + $1, si.ends_at + $1, si.kind,"
			    " si.file_id, si.source_smart_block_id, si.origin"
			    " FROM schedule_items si JOIN show_instances o ON o.id = si.instance_id"
			    " JOIN show_instances n ON n.starts_at = o.starts_at + $1"
			    " AND n.show_id = o.show_id"
			    " WHERE o.starts_at >= $2 AND o.starts_at < $3",
			    DB_PARAMS(DB_I(shift), DB_I(T0), DB_I(T0 + 2 * DAY)));
		if (r < 0)
			die(db, "copy items", r);
	}
	if ((r = db_commit(db)) < 0)
		die(db, "commit", r);
	(void)show;
}

/* The baseline: the rows the compiler reads for a window, read plainly. */
static int64_t plain_select(struct db *db, int64_t from, int64_t to, size_t *rows_out)
{
	int64_t t = time_mono_us();
	struct db_rows *rows;
	int r = db_query(db,
			 "SELECT si.id, si.kind, si.starts_at, si.ends_at, si.cue_in_us,"
			 " si.cue_out_us, si.fade_in_us, si.fade_out_us, si.crossfade_us,"
			 " si.gain_db, si.position, i.id, i.show_id, i.ends_at, s.name,"
			 " f.id, f.content_hash, f.size, f.mime, f.duration_us, f.import_status,"
			 " f.cue_in_us, f.cue_out_us, f.title, f.artist, f.album,"
			 " f.loudness_lufs, f.true_peak_dbtp"
			 " FROM show_instances i JOIN shows s ON s.id = i.show_id"
			 " JOIN schedule_items si ON si.instance_id = i.id"
			 " LEFT JOIN files f ON f.id = si.file_id"
			 " WHERE i.starts_at < $2 AND i.ends_at > $1 AND si.starts_at < $2"
			 " AND si.ends_at > $1 ORDER BY si.starts_at",
			 DB_PARAMS(DB_I(from), DB_I(to)), &rows);
	if (r < 0)
		die(db, "plain select", r);
	size_t n = 0;
	int64_t sink = 0;
	while (db_rows_next(rows)) {
		sink += db_col_int(rows, 0);
		(void)db_col_text(rows, 16);
		(void)db_col_text(rows, 23);
		n++;
	}
	db_rows_free(rows);
	*rows_out = n;
	return time_mono_us() - t + (sink == -1);
}

static int64_t compile_once(struct db *db, int64_t from, int64_t to, size_t *items,
			    size_t *bytes)
{
	int64_t t = time_mono_us();
	struct proto_snapshot s;
	struct compile_options o = { .from = from, .to = to, .now = from,
				     .max_items = (size_t)-1 };
	char err[256];
	int r = compile_snapshot(db, &o, &s, NULL, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "compile: %s\n", err);
		die(db, "compile_snapshot", r);
	}
	*items = s.n_items;
	*bytes = 0;
	if (bytes && s.n_items <= PROTO_ITEMS_MAX) {
		struct buf b;
		buf_init(&b, PROTO_MESSAGE_MAX);
		if (proto_snapshot_encode(&s, &b) == 0)
			*bytes = b.len;
		buf_release(&b);
	}
	proto_snapshot_release(&s);
	return time_mono_us() - t;
}

static void measure(struct db *db, const char *label, int64_t from, int64_t to, int repeats)
{
	int64_t base[32], comp[32];
	size_t rows = 0, items = 0, bytes = 0;
	for (int i = 0; i < repeats; i++) {
		base[i] = plain_select(db, from, to, &rows);
		comp[i] = compile_once(db, from, to, &items, &bytes);
	}
	qsort(base, (size_t)repeats, sizeof(base[0]), cmp_i64);
	qsort(comp, (size_t)repeats, sizeof(comp[0]), cmp_i64);
	int64_t b = base[repeats / 2], c = comp[repeats / 2];
	printf("%-8s items %7zu (rows %7zu)  plain SELECT %9.1f ms  compile %9.1f ms"
	       "  ratio %.2f",
	       label, items, rows, (double)b / 1000, (double)c / 1000,
	       b > 0 ? (double)c / (double)b : 0.0);
	if (bytes)
		printf("  encoded %zu KiB (encode included)", bytes / 1024);
	printf("\n");
}

int main(int argc, char **argv)
{
	int repeats = argc > 1 ? atoi(argv[1]) : 5;
	if (repeats < 1 || repeats > 32)
		repeats = 5;
	char dir[] = "/tmp/onair-compile-bench-XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	char url[128];
	snprintf(url, sizeof(url), "sqlite://%s/bench.db", dir);
	struct db *db;
	char err[256];
	int r = db_open(&db, url, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "compile-bench: %s\n", err);
		return 1;
	}
	if ((r = db_migrate(db, NULL, NULL)) < 0)
		die(db, "migrate", r);

	int64_t t = time_mono_us();
	fill_library(db);
	int64_t show = q_int(db, "INSERT INTO shows (name, created_at, updated_at)"
				 " VALUES ('Busy', 0, 0) RETURNING id", NULL, 0);
	int64_t block = q_int(db,
			      "INSERT INTO smart_blocks (name, limit_type, limit_value, sort,"
			      " fill_show, artist_separation_us, created_at, updated_at) VALUES"
			      " ('Rock and soul', 'duration', $1, 'random', $2, $3, 0, 0)"
			      " RETURNING id",
			      DB_PARAMS(DB_I(H), DB_B(true), DB_I(30 * MIN)));
	db_exec(db, "INSERT INTO smart_block_criteria (smart_block_id, group_no, field,"
		    " modifier, value) VALUES ($1, 0, 'genre', 'is', 'rock'),"
		    " ($1, 1, 'genre', 'is', 'soul')",
		DB_PARAMS(DB_I(block)));
	int64_t playlist = q_int(db, "INSERT INTO playlists (name, created_at, updated_at)"
				     " VALUES ('Hour', 0, 0) RETURNING id", NULL, 0);
	for (int i = 0; i < 18; i++)
		db_exec(db, "INSERT INTO playlist_items (playlist_id, position, file_id)"
			    " VALUES ($1, $2, $3)",
			DB_PARAMS(DB_I(playlist), DB_I(i), DB_I(1 + i * 997)));
	fill_two_days(db, show, block, playlist);
	repeat_year(db, show);
	printf("station: %d tracks, %d days of 24 one-hour shows (%" PRId64
	       " items), built in %.1f s\n",
	       TRACKS, DAYS,
	       q_int(db, "SELECT COUNT(*) FROM schedule_items", NULL, 0),
	       (double)(time_mono_us() - t) / 1e6);

	measure(db, "48 h", T0 + 10 * DAY, T0 + 12 * DAY, repeats);
	measure(db, "1 year", T0, T0 + DAYS * DAY, repeats < 3 ? repeats : 3);
	db_close(db);
	char path[160];
	snprintf(path, sizeof(path), "%s/bench.db", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/bench.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/bench.db-shm", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}
