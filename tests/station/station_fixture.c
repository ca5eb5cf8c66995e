/*
 * station_fixture.c - databases and rows for the station tests; see
 * station_fixture.h.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "db_template.h"
#include "harness.h"
#include "station_fixture.h"

static enum db_backend backend;
static struct harness_pg pg;
static char tmpdir[256];
static struct db_template templ;
static int64_t unique_counter;
static char group[128];
static char last_url[512];

int fixture_init(int argc, char **argv)
{
	if (argc != 2 || (strcmp(argv[1], "sqlite") != 0 && strcmp(argv[1], "postgres") != 0)) {
		fprintf(stderr, "usage: %s sqlite|postgres\n", argv[0]);
		return -1;
	}
	backend = strcmp(argv[1], "sqlite") == 0 ? DB_SQLITE : DB_POSTGRES;
	if (harness_tmpdir(tmpdir, sizeof(tmpdir)) < 0)
		return -1;
	if (backend == DB_POSTGRES && harness_pg_start(&pg) < 0)
		return -1;
	db_template_init(&templ, backend, tmpdir, &pg);
	return 0;
}

void fixture_fini(void)
{
	db_template_fini(&templ);
	if (backend == DB_POSTGRES)
		harness_pg_stop(&pg);
}

const char *fixture_group(const char *name)
{
	snprintf(group, sizeof(group), "%.100s-%s", name,
		 backend == DB_SQLITE ? "sqlite" : "postgres");
	return group;
}

enum db_backend fixture_backend(void)
{
	return backend;
}

struct db *fixture_db(void)
{
	char url[512];
	char err[256] = "";
	struct db *db = NULL;
	int r = db_template_fresh(&templ, url, sizeof(url), err, sizeof(err));
	if (r < 0)
		fail_msg("a fresh database: %d %s", r, err);
	snprintf(last_url, sizeof(last_url), "%s", url);
	r = db_open(&db, url, err, sizeof(err));
	if (r < 0)
		fail_msg("db_open: %s", err);
	return db;
}

int fixture_url(char *out, size_t size)
{
	int n = snprintf(out, size, "%s", last_url);
	return n < 0 || (size_t)n >= size ? -ENOSPC : 0;
}

void fixture_exec(struct db *db, const char *sql, const struct db_param *params, size_t n)
{
	int r = db_exec(db, sql, params, n);
	if (r < 0)
		fail_msg("%s: %d %s", sql, r, db_errmsg(db));
}

int64_t fixture_int(struct db *db, const char *sql, const struct db_param *params, size_t n)
{
	int64_t v = 0;
	int r = db_query_int(db, sql, params, n, &v);
	if (r < 0)
		fail_msg("%s: %d %s", sql, r, db_errmsg(db));
	return v;
}

int64_t fixture_user(struct db *db, const char *name, const char *role)
{
	return fixture_int(db,
			   "INSERT INTO users (name, role, created_at) VALUES ($1, $2, 0)"
			   " RETURNING id",
			   DB_PARAMS(DB_T(name), DB_T(role)));
}

int64_t fixture_file(struct db *db, const char *title, const char *artist, int64_t duration_us)
{
	char hash[80];
	char key[80];
	int64_t n = ++unique_counter;
	snprintf(hash, sizeof(hash), "sha256:%064lld", (long long)n);
	snprintf(key, sizeof(key), "fixture/%lld.mp3", (long long)n);
	return fixture_int(db,
			   "INSERT INTO files (content_hash, size, mime, storage_key, import_status,"
			   " created_at, updated_at, title, artist, duration_us, cue_in_us,"
			   " cue_out_us) VALUES ($1, $2, 'audio/mpeg', $3, 'ready', 0, 0, $4, $5,"
			   " $6, 0, $6) RETURNING id",
			   DB_PARAMS(DB_T(hash), DB_I(1000 + n), DB_T(key), DB_T(title),
				     DB_T(artist), DB_I(duration_us)));
}

int64_t fixture_show(struct db *db, const char *name)
{
	return fixture_int(db,
			   "INSERT INTO shows (name, created_at, updated_at) VALUES ($1, 0, 0)"
			   " RETURNING id",
			   DB_PARAMS(DB_T(name)));
}

int64_t fixture_instance(struct db *db, int64_t show_id, int64_t starts_at, int64_t ends_at)
{
	return fixture_int(db,
			   "INSERT INTO show_instances (show_id, starts_at, ends_at, created_at,"
			   " updated_at) VALUES ($1, $2, $3, 0, 0) RETURNING id",
			   DB_PARAMS(DB_I(show_id), DB_I(starts_at), DB_I(ends_at)));
}

int64_t fixture_playlist(struct db *db, const char *name)
{
	return fixture_int(db,
			   "INSERT INTO playlists (name, created_at, updated_at) VALUES ($1, 0, 0)"
			   " RETURNING id",
			   DB_PARAMS(DB_T(name)));
}

void fixture_playlist_add_file(struct db *db, int64_t playlist_id, int64_t file_id)
{
	fixture_exec(db,
		     "INSERT INTO playlist_items (playlist_id, position, file_id)"
		     " SELECT $1, COALESCE(MAX(position), 0) + 1, $2 FROM playlist_items"
		     " WHERE playlist_id = $1",
		     DB_PARAMS(DB_I(playlist_id), DB_I(file_id)));
}
