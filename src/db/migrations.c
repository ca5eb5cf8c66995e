/*
 * migrations.c - the schema's migrations and the code that applies them;
 * see migrations.h.
 */
#include "db/migrations.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "db/db_internal.h"
#include "db/schema_v1.sql.h"
#include "db/schema_v2.sql.h"
#include "db/schema_v3.sql.h"
#include "db/schema_v4.sql.h"
#include "db/schema_v5.sql.h"

/* Key of the PostgreSQL advisory lock held while migrating ("onair" and 1). */
#define MIGRATE_LOCK_KEY INT64_C(0x6f6e616972000001)

static const struct db_migration migrations[] = {
	{ 1, "station data model", schema_v1 },
	{ 2, "scheduling rules", schema_v2 },
	{ 3, "worker: podcasts, feed, imports", schema_v3 },
	{ 4, "as-run log and playout events", schema_v4 },
	{ 5, "fades of library files", schema_v5 },
};

#define N_MIGRATIONS (sizeof(migrations) / sizeof(migrations[0]))

int64_t db_schema_latest(void)
{
	return migrations[N_MIGRATIONS - 1].version;
}

static const char create_version_table[] =
	"CREATE TABLE IF NOT EXISTS schema_version ("
	" version BIGINT PRIMARY KEY,"
	" name TEXT NOT NULL,"
	" applied_at BIGINT NOT NULL)";

static int read_version(struct db *db, int64_t *out)
{
	int r = db_query_int(db, "SELECT COALESCE(MAX(version), 0) FROM schema_version", NULL, 0,
			     out);
	if (r == -ENOENT || r == -ENODATA) {
		*out = 0;
		return 0;
	}
	return r;
}

int db_schema_version(struct db *db, int64_t *out)
{
	const char *sql = db_backend(db) == DB_SQLITE
				  ? "SELECT COUNT(*) FROM sqlite_master"
				    " WHERE type = 'table' AND name = 'schema_version'"
				  : "SELECT COUNT(*) FROM pg_catalog.pg_tables"
				    " WHERE schemaname = current_schema()"
				    " AND tablename = 'schema_version'";
	int64_t tables = 0;
	int r = db_query_int(db, sql, NULL, 0, &tables);
	if (r < 0)
		return r;
	if (tables == 0) {
		*out = 0;
		return 0;
	}
	return read_version(db, out);
}

/* Roll back after a failure, keeping the failure's message. */
static int fail(struct db *db, int r, const char *what)
{
	char msg[DB_ERRMSG_MAX];
	snprintf(msg, sizeof(msg), "%s", db->errmsg);
	db_rollback(db);
	db_set_error(db, "%s: %s", what, msg);
	return r;
}

/* Apply m unless the database already has it. 0 or -errno. */
static int apply(struct db *db, const struct db_migration *m, int64_t *current)
{
	char what[160];
	snprintf(what, sizeof(what), "migration %" PRId64 " (%.100s)", m->version, m->name);
	int r = db_begin(db);
	if (r < 0)
		return fail(db, r, what);
	/* Another process may have applied it since we looked. */
	if ((r = read_version(db, current)) < 0)
		return fail(db, r, what);
	if (*current >= m->version)
		return db_commit(db);
	for (const char *const *step = m->steps; *step; step++) {
		if ((r = db_exec_script(db, *step)) < 0)
			return fail(db, r, what);
	}
	r = db_exec(db,
		    "INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)",
		    DB_PARAMS(DB_I(m->version), DB_T(m->name), DB_I(time_now_us())));
	if (r < 0)
		return fail(db, r, what);
	if ((r = db_commit(db)) < 0)
		return fail(db, r, what);
	*current = m->version;
	log_info("db", "applied %s", what);
	return 0;
}

static int migrate_locked(struct db *db, const struct db_migration *list, size_t n,
			  int64_t *from, int64_t *to)
{
	int64_t current = 0;
	int r = db_begin(db);
	if (r < 0 || (r = db_exec(db, create_version_table, NULL, 0)) < 0 ||
	    (r = read_version(db, &current)) < 0 || (r = db_commit(db)) < 0)
		return fail(db, r, "reading the schema version");
	*from = *to = current;

	int64_t latest = n > 0 ? list[n - 1].version : 0;
	if (current > latest) {
		db_set_error(db,
			     "the database has schema version %" PRId64 ", newer than the %" PRId64
			     " this onair knows: upgrade onair (or restore a matching backup)",
			     current, latest);
		return -EPROTO;
	}
	for (size_t i = 0; i < n; i++) {
		if (list[i].version <= current)
			continue;
		r = apply(db, &list[i], &current);
		*to = current;
		if (r < 0)
			return r;
	}
	return 0;
}

int db_migrate_list(struct db *db, const struct db_migration *list, size_t n, int64_t *from,
		    int64_t *to)
{
	int64_t from_v = 0, to_v = 0;
	int r;
	for (size_t i = 0; i < n; i++) {
		if (list[i].version <= 0 || (i > 0 && list[i].version <= list[i - 1].version) ||
		    !list[i].steps) {
			db_set_error(db, "migration list out of order at entry %zu", i);
			r = -EINVAL;
			goto out;
		}
	}
	if (db_in_transaction(db)) {
		db_set_error(db, "cannot migrate inside a transaction");
		r = -EINVAL;
		goto out;
	}
	bool pg = db_backend(db) == DB_POSTGRES;
	if (pg) {
		/* Session lock: held across the transactions below, released
		 * by the server if this connection dies. */
		r = db_exec(db, "SELECT pg_advisory_lock($1)", DB_PARAMS(DB_I(MIGRATE_LOCK_KEY)));
		if (r < 0)
			goto out;
	}
	r = migrate_locked(db, list, n, &from_v, &to_v);
	if (pg) {
		char msg[DB_ERRMSG_MAX];
		snprintf(msg, sizeof(msg), "%s", db->errmsg);
		db_exec(db, "SELECT pg_advisory_unlock($1)", DB_PARAMS(DB_I(MIGRATE_LOCK_KEY)));
		snprintf(db->errmsg, sizeof(db->errmsg), "%s", msg);
	}
out:
	if (from)
		*from = from_v;
	if (to)
		*to = to_v;
	return r;
}

int db_migrate(struct db *db, int64_t *from, int64_t *to)
{
	return db_migrate_list(db, migrations, N_MIGRATIONS, from, to);
}
