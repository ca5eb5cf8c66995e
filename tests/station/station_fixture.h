/*
 * station_fixture.h - what the station tests share: a fresh, migrated
 * database on the backend named on the command line ("sqlite": a new
 * file per call in a temporary directory; "postgres": a server started
 * by the harness, its schema emptied per call), and rows inserted with
 * plain values so that a test reads like the station it builds.
 *
 *   int main(int argc, char **argv)
 *   {
 *           if (fixture_init(argc, argv) < 0)
 *                   return 2;
 *           int failed = cmocka_run_group_tests_name(fixture_group("placement"), ...);
 *           fixture_fini();
 *           return failed ? 1 : 0;
 *   }
 *
 * Every helper fails the running cmocka test on an error.
 */
#ifndef ONAIR_TESTS_STATION_FIXTURE_H
#define ONAIR_TESTS_STATION_FIXTURE_H

#include <stddef.h>
#include <stdbool.h>
#include <stdint.h>

#include "db/db.h"

/* Read the backend from argv[1] ("sqlite" or "postgres") and start what
 * it needs. 0, or -1 after printing why (usage, PostgreSQL failed). */
int fixture_init(int argc, char **argv);
/* Stop what fixture_init started. */
void fixture_fini(void);
/* "name-sqlite" or "name-postgres", for cmocka's group name (static
 * buffer, valid until the next call). */
const char *fixture_group(const char *name);
/* The backend fixture_init chose. */
enum db_backend fixture_backend(void);
/* A fresh database with every migration applied. Close with db_close. */
struct db *fixture_db(void);

/* The URL of the database the last fixture_db made (for a second
 * connection): 0, or -ENOSPC when it does not fit. */
int fixture_url(char *out, size_t size);

/* Run sql (no rows wanted) and fail the test unless it succeeds. */
void fixture_exec(struct db *db, const char *sql, const struct db_param *params, size_t n);
/* Run sql that returns one integer (RETURNING id) and fail the test
 * unless it does. */
int64_t fixture_int(struct db *db, const char *sql, const struct db_param *params, size_t n);

/* A user; role "admin", "program_manager", "host" or "guest". */
int64_t fixture_user(struct db *db, const char *name, const char *role);
/* A ready library file of duration_us with that title and artist (NULL
 * allowed); hash, size and storage key are made up and unique. */
int64_t fixture_file(struct db *db, const char *title, const char *artist, int64_t duration_us);
/* A show named name with no recurrence. */
int64_t fixture_show(struct db *db, const char *name);
/* A show instance of show_id from starts_at to ends_at (UTC us),
 * without recurrence. */
int64_t fixture_instance(struct db *db, int64_t show_id, int64_t starts_at, int64_t ends_at);
/* A playlist named name, empty. */
int64_t fixture_playlist(struct db *db, const char *name);
/* Append file_id to playlist_id (no overrides). */
void fixture_playlist_add_file(struct db *db, int64_t playlist_id, int64_t file_id);

#endif
