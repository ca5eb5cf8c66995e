/*
 * migrations.h - the database schema, versioned.
 *
 * Schema changes are migrations compiled into the binary: numbered
 * scripts in portable SQL (db_exec_script, with {{ID}} and {{BLOB}}),
 * applied in order, each in its own transaction together with the row
 * recording it in the schema_version table. A database newer than the
 * binary is refused: an older onair must not write to a schema it does
 * not know. See docs/internals/db.md for how to add one.
 */
#ifndef ONAIR_DB_MIGRATIONS_H
#define ONAIR_DB_MIGRATIONS_H

#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

struct db_migration {
	int64_t version;		/* > 0, increasing along the list */
	const char *name;		/* a few words, kept in schema_version */
	const char *const *steps;	/* scripts run in order, NULL-terminated */
};

/* The version of the newest migration in this binary. */
int64_t db_schema_latest(void);

/* The schema version of db: 0 for a database without a schema_version
 * table. 0 or an error as db_query. */
int db_schema_version(struct db *db, int64_t *out);

/*
 * Bring db to the newest schema. *from is set to the version found and
 * *to to the version reached (either may be NULL). Safe to run from
 * several processes at once: PostgreSQL takes an advisory lock for the
 * duration, SQLite serialises on BEGIN IMMEDIATE, and a migration another
 * process applied meanwhile is skipped. Returns 0; -EPROTO when the
 * database's version is newer than db_schema_latest() (nothing is
 * changed); or an error as db_exec when a migration fails, which is then
 * rolled back (earlier ones stay applied; *to tells how far it got).
 * db_errmsg says what happened. Must not be called inside a transaction.
 */
int db_migrate(struct db *db, int64_t *from, int64_t *to);

/* db_migrate with the n migrations of list instead of the built-in ones
 * (for tests). */
int db_migrate_list(struct db *db, const struct db_migration *list, size_t n, int64_t *from,
		    int64_t *to);

#include "common/banned.h"
#endif
