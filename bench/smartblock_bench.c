/*
 * smartblock_bench.c - how long smartblock_evaluate takes over a large
 * library, against a plain SELECT of the same rows measured in the same
 * run (the ratio is the figure; no threshold).
 *
 * The library (a SQLite file in a temporary directory): 100,000 ready
 * tracks by 6,000 artists (a few prolific, most with a handful of
 * tracks), 20 genres (rock and pop the most common), years 1950..2024
 * (more recent ones more common), lengths of 2 to 8 minutes around
 * 3:45, play history for two thirds of them. Timed, alternately:
 *
 *   (a) SELECT id, duration_us, artist, title FROM files WHERE <the
 *       block's criteria>, reading every row;
 *   (b) smartblock_evaluate of a block with those criteria: (genre is
 *       rock AND year between 1990 and 1999) OR genre contains jazz;
 *       random order, 1 hour, artist separation 30 minutes.
 *
 *   smartblock-bench [RUNS [FILES]]     (defaults 15 and 100000; medians)
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/timeutil.h"
#include "db/db.h"
#include "db/migrations.h"
#include "station/smartblock.h"

#define S INT64_C(1000000)
#define MIN (60 * S)
#define HOUR (60 * MIN)
#define DAY (24 * HOUR)
#define ARTISTS 6000
/* 2026-01-05T00:00:00Z */
#define T0 INT64_C(1767571200000000)

/* The block's WHERE clause as smartblock_evaluate writes it; the
 * second form (import_status compared as it is) makes SQLite read the
 * rows through files_status_idx, for comparison. */
static const char *const baseline_sql =
	"SELECT id, duration_us, artist, title FROM files"
	" WHERE import_status || '' = 'ready' AND duration_us IS NOT NULL"
	" AND ((lower(genre) = lower($1) AND year >= $2 AND year <= $3)"
	" OR (lower(genre) LIKE lower($4) ESCAPE '\\'))";
static const char *const indexed_sql =
	"SELECT id, duration_us, artist, title FROM files"
	" WHERE import_status = 'ready' AND duration_us IS NOT NULL"
	" AND ((lower(genre) = lower($1) AND year >= $2 AND year <= $3)"
	" OR (lower(genre) LIKE lower($4) ESCAPE '\\'))";

static void die(struct db *db, const char *what, int r)
{
	fprintf(stderr, "smartblock-bench: %s: %d %s\n", what, r, db ? db_errmsg(db) : "");
	exit(1);
}

static uint64_t next(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Uniform in [0, 1). */
static double uniform(uint64_t *x)
{
	return (double)(next(x) >> 11) / 9007199254740992.0;
}

static void fill_library(struct db *db, int files)
{
	static const char *const genres[] = {
		"rock", "pop", "Rock", "jazz", "electronic", "hip hop", "soul", "folk", "classical",
		"blues", "acid jazz", "country", "reggae", "funk", "metal", "punk", "indie rock",
		"ambient", "latin", "r&b",
	};
	/* Weights of the genres above, in percent. */
	static const int weights[] = { 18, 16, 4, 6, 8, 7, 5, 5, 4, 3, 2, 4, 3, 3, 4, 2, 4, 2,
				       2, 2 };
	int r = db_begin(db);
	if (r < 0)
		die(db, "begin", r);
	uint64_t x = 88172645463325252u;
	for (int i = 0; i < files; i++) {
		char hash[80], title[48], artist[32], key[40];
		snprintf(hash, sizeof(hash), "sha256:%064d", i + 1);
		snprintf(title, sizeof(title), "Track %d", i);
		/* Artist ranks skewed towards the first ones (u^3). */
		double u = uniform(&x);
		snprintf(artist, sizeof(artist), "Artist %d", (int)(u * u * u * ARTISTS));
		snprintf(key, sizeof(key), "%d.mp3", i);
		int pick = (int)(next(&x) % 100), g = 0;
		while (pick >= weights[g]) {
			pick -= weights[g];
			g++;
		}
		/* Years: more recent ones more common (sqrt). */
		int year = 1950 + (int)(74.99 * sqrt(uniform(&x)));
		/* Lengths: the mean of three uniforms over 2..8 minutes, about 3:45
		 * most of the time, a few long ones. */
		double len = (uniform(&x) + uniform(&x) + uniform(&x)) / 3;
		int64_t dur = 120 * S + (int64_t)(len * len * 360 * S);
		int64_t created = T0 - (int64_t)(next(&x) % (5 * 365)) * DAY;
		bool played = next(&x) % 3 != 0;
		int64_t last = T0 - (int64_t)(next(&x) % (90 * DAY));
		r = db_exec(db,
			    "INSERT INTO files (content_hash, size, mime, storage_key,"
			    " import_status, created_at, updated_at, title, artist, genre, year,"
			    " duration_us, cue_in_us, cue_out_us, last_played_at, play_count)"
			    " VALUES ($1, $2, 'audio/mpeg', $3, 'ready', $4, $4, $5, $6, $7, $8,"
			    " $9, 0, $9, $10, $11)",
			    DB_PARAMS(DB_T(hash), DB_I(4000000 + i), DB_T(key), DB_I(created),
				      DB_T(title), DB_T(artist), DB_T(genres[g]), DB_I(year),
				      DB_I(dur), played ? DB_I(last) : DB_N,
				      DB_I(played ? (int64_t)(next(&x) % 200) : 0)));
		if (r < 0)
			die(db, "insert", r);
	}
	r = db_commit(db);
	if (r < 0)
		die(db, "commit", r);
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static int64_t median(int64_t *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_i64);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* (a): every row of the plain SELECT sql; the number of rows. */
static size_t run_select(struct db *db, const char *sql, size_t *bytes)
{
	struct db_rows *rows;
	int r = db_query(db, sql,
			 DB_PARAMS(DB_T("rock"), DB_I(1990), DB_I(1999), DB_T("%jazz%")), &rows);
	if (r < 0)
		die(db, "baseline", r);
	size_t n = 0, sum = 0;
	while (db_rows_next(rows)) {
		const char *artist = db_col_text(rows, 2);
		const char *title = db_col_text(rows, 3);
		sum += (size_t)db_col_int(rows, 0) + (size_t)db_col_int(rows, 1);
		sum += (artist ? strlen(artist) : 0) + (title ? strlen(title) : 0);
		n++;
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0)
		die(db, "baseline rows", r);
	*bytes = sum;
	return n;
}

/* (b): the block; the number of candidates. */
static size_t run_block(struct db *db, const struct smartblock *b, uint64_t seed, size_t *picks,
			size_t *relaxed)
{
	struct smartblock_context ctx = { .at = T0, .seed = seed };
	struct smartblock_result res;
	int r = smartblock_evaluate(db, b, &ctx, &res);
	if (r < 0)
		die(db, "smartblock_evaluate", r);
	size_t n = res.candidates;
	*picks = res.n;
	*relaxed = res.separation_relaxed;
	smartblock_result_release(&res);
	return n;
}

int main(int argc, char **argv)
{
	int runs = argc > 1 ? atoi(argv[1]) : 15;
	int files = argc > 2 ? atoi(argv[2]) : 100000;
	if (argc > 3 || runs < 1 || runs > 1000 || files < 1 || files > 10000000) {
		fprintf(stderr, "usage: smartblock-bench [RUNS [FILES]]\n");
		return 2;
	}
	const char *tmp = getenv("TMPDIR");
	char dir[512], path[600], url[700];
	snprintf(dir, sizeof(dir), "%.400s/onair-smartblock-bench-XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("smartblock-bench: mkdtemp");
		return 1;
	}
	snprintf(path, sizeof(path), "%s/bench.db", dir);
	snprintf(url, sizeof(url), "sqlite://%s", path);

	struct db *db;
	char err[256];
	int r = db_open(&db, url, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "smartblock-bench: %s\n", err);
		return 1;
	}
	r = db_migrate(db, NULL, NULL);
	if (r < 0)
		die(db, "migrate", r);
	int64_t t = time_mono_us();
	fill_library(db, files);
	printf("library: %d files in %.1f s (%s)\n", files, (double)(time_mono_us() - t) / 1e6,
	       path);

	struct smartblock b;
	smartblock_init(&b);
	b.sort = SB_SORT_RANDOM;
	b.limit_type = SB_LIMIT_DURATION;
	b.limit_value = HOUR;
	b.artist_separation_us = 30 * MIN;
	if (smartblock_add_criterion(&b, 0, "genre", SB_IS, "rock", NULL) < 0 ||
	    smartblock_add_criterion(&b, 0, "year", SB_BETWEEN, "1990", "1999") < 0 ||
	    smartblock_add_criterion(&b, 1, "genre", SB_CONTAINS, "jazz", NULL) < 0 ||
	    smartblock_validate(&b, err, sizeof(err)) < 0) {
		fprintf(stderr, "smartblock-bench: block: %s\n", err);
		return 1;
	}

	/* One of each to warm the cache and check that both see the same rows. */
	size_t bytes, picks, relaxed;
	size_t rows = run_select(db, baseline_sql, &bytes);
	size_t cands = run_block(db, &b, 0, &picks, &relaxed);
	if (rows != cands) {
		fprintf(stderr, "smartblock-bench: baseline %zu rows, block %zu candidates\n",
			rows, cands);
		return 1;
	}
	printf("rows matching: %zu; one block: %zu picks, %zu relaxed\n", rows, picks, relaxed);

	int64_t *base = calloc((size_t)runs, sizeof(*base));
	int64_t *eval = calloc((size_t)runs, sizeof(*eval));
	int64_t *indexed = calloc((size_t)runs, sizeof(*indexed));
	if (!base || !eval || !indexed)
		die(NULL, "calloc", -ENOMEM);
	for (int i = 0; i < runs; i++) {
		t = time_mono_us();
		run_select(db, baseline_sql, &bytes);
		base[i] = time_mono_us() - t;
		t = time_mono_us();
		run_block(db, &b, (uint64_t)i + 1, &picks, &relaxed);
		eval[i] = time_mono_us() - t;
		t = time_mono_us();
		run_select(db, indexed_sql, &bytes);
		indexed[i] = time_mono_us() - t;
	}
	int64_t a = median(base, runs), e = median(eval, runs), x = median(indexed, runs);
	printf("(a) plain SELECT:        %8.2f ms  (median of %d)\n", (double)a / 1000, runs);
	printf("(b) smartblock_evaluate: %8.2f ms  (median of %d)\n", (double)e / 1000, runs);
	printf("ratio b/a: %.2f\n", a > 0 ? (double)e / (double)a : 0.0);
	printf("for comparison, (a) through files_status_idx: %.2f ms\n", (double)x / 1000);

	free(base);
	free(eval);
	free(indexed);
	smartblock_release(&b);
	db_close(db);
	char side[700];
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	rmdir(dir);
	return 0;
}
