/*
 * db.h - the station database: one thin interface over SQLite (embedded,
 * one file, the default) and PostgreSQL (for several API instances).
 *
 * SQL is written once, with $1..$N placeholders, following the portable
 * rules of docs/internals/db.md: instants and durations are BIGINT
 * microseconds, booleans BOOLEAN bound with DB_B, JSON is TEXT, and
 * migrations say {{ID}} and {{BLOB}} where the two dialects differ.
 *
 *   struct db *db;
 *   char err[256];
 *   if (db_open(&db, "sqlite:///var/lib/onair/onair.db", err, sizeof(err)) < 0)
 *           ... err says why
 *   int64_t id;
 *   r = db_query_int(db, "INSERT INTO users (name, role, created_at)"
 *                    " VALUES ($1, $2, $3) RETURNING id",
 *                    DB_PARAMS(DB_T("ann"), DB_T("host"), DB_I(now)), &id);
 *   if (r == -EEXIST) ... a user of that name exists
 *
 *   struct db_rows *rows;
 *   r = db_query(db, "SELECT id, name FROM users WHERE role = $1",
 *                DB_PARAMS(DB_T("host")), &rows);
 *   while (r == 0 && db_rows_next(rows))
 *           use db_col_int(rows, 0), db_col_text(rows, 1)
 *   if (r == 0) { r = db_rows_error(rows); db_rows_free(rows); }
 *   db_close(db);
 *
 * Errors are negative errno values, the same on both backends:
 *   -EEXIST      a UNIQUE or PRIMARY KEY constraint failed;
 *   -ENOENT      a FOREIGN KEY failed in an INSERT or UPDATE: the
 *                referenced row does not exist;
 *   -ENOTEMPTY   a FOREIGN KEY failed in a DELETE: the row is still
 *                referenced (ON DELETE RESTRICT / NO ACTION);
 *   -EINVAL      another constraint failed (NOT NULL, CHECK), a value was
 *                out of range for its column, a text parameter was not
 *                UTF-8, or the call itself was wrong (a $N past the
 *                parameters given; on SQLite also a placeholder that is
 *                not $N, or several statements in one call);
 *   -EBUSY       the database is locked or a transaction could not be
 *                serialised (SQLite busy after the 5 s busy timeout,
 *                PostgreSQL 40001, 40P01, 55P03): retry the transaction;
 *   -ENOTCONN    the PostgreSQL connection is broken (the next call
 *                reconnects once); -ECONNREFUSED from db_open;
 *   -EACCES      permission denied; -ENOSPC disk full; -ECANCELED
 *                statement cancelled (PostgreSQL statement_timeout);
 *   -EIO         anything else (SQL syntax, missing table, ...).
 * db_errmsg() gives the backend's message for the log.
 *
 * Threads: a struct db is one connection and must be used by one thread
 * at a time; open one per thread. Different connections may be used from
 * different threads at once.
 */
#ifndef ONAIR_DB_H
#define ONAIR_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct db;
struct db_rows;

enum db_backend {
	DB_SQLITE,
	DB_POSTGRES,
};

enum db_type {
	DB_NULL,	/* SQL NULL */
	DB_INT,		/* int64_t: PostgreSQL int8 */
	DB_REAL,	/* double: float8 */
	DB_TEXT,	/* NUL-terminated UTF-8: text; a NULL pointer binds NULL */
	DB_BLOB,	/* bytes: bytea / BLOB */
	DB_BOOL,	/* bool: boolean (stored 0/1 by SQLite) */
};

/* A parameter; make them with the DB_* macros below. The pointed-to text
 * and bytes are only read during the call that takes the parameter. */
struct db_param {
	enum db_type type;
	union {
		int64_t i;
		double r;
		bool b;
		const char *t;
		struct {
			const void *data;
			size_t len;
		} blob;
	} v;
};

#define DB_N ((struct db_param){ .type = DB_NULL })
#define DB_I(x) ((struct db_param){ .type = DB_INT, .v.i = (int64_t)(x) })
#define DB_R(x) ((struct db_param){ .type = DB_REAL, .v.r = (double)(x) })
#define DB_T(s) ((struct db_param){ .type = DB_TEXT, .v.t = (s) })
#define DB_B(x) ((struct db_param){ .type = DB_BOOL, .v.b = (x) })
#define DB_BYTES(p, n) ((struct db_param){ .type = DB_BLOB, .v.blob = { (p), (n) } })

/* The (params, n) argument pair from a list of parameters:
 * db_exec(db, sql, DB_PARAMS(DB_I(1), DB_T("x"))). */
#define DB_PARAMS(...) \
	((const struct db_param[]){ __VA_ARGS__ }), \
	(sizeof((const struct db_param[]){ __VA_ARGS__ }) / sizeof(struct db_param))

/* Counters of one connection, for tests and metrics. */
struct db_stats {
	uint64_t prepared;	/* statements compiled (SQLite) */
	uint64_t reused;	/* statements taken from the cache (SQLite) */
	uint64_t evicted;	/* statements dropped from a full cache (SQLite) */
};

/* Statements kept compiled per SQLite connection (least recently used
 * goes first). */
#define DB_STMT_CACHE_SIZE 64

/*
 * Open a connection. url is one of
 *   sqlite:///abs/path.db     (the file is created if missing; its
 *   sqlite://relative/path.db  directory must exist)
 *   sqlite::memory:           (a private in-memory database)
 *   postgresql://user:pass@host:port/dbname?param=value...
 *   postgres://...            (passed to libpq as it is)
 * SQLite runs with journal_mode=WAL, synchronous=NORMAL, foreign_keys=ON
 * and a 5 s busy timeout. PostgreSQL talks UTF-8. On success *out is set
 * (free with db_close). Errors, with a message in err (which may be NULL):
 * -EINVAL an unknown or malformed URL; -ENOENT, -EACCES, -EIO, ... the
 * SQLite file cannot be opened or is not a database; -ECONNREFUSED the
 * PostgreSQL server cannot be reached or refused the login;
 * -EPROTONOSUPPORT a PostgreSQL older than 10. A PostgreSQL URL (which
 * may hold a password) is never copied into err.
 */
int db_open(struct db **out, const char *url, char *err, size_t errlen);

/* Close the connection and free db (NULL is ignored). Every db_rows of
 * db must have been freed before. */
void db_close(struct db *db);

/* Which backend db talks to. */
enum db_backend db_backend(const struct db *db);

/* The backend's message for the last failed call on db ("" when none);
 * valid until the next call on db. */
const char *db_errmsg(const struct db *db);

/*
 * Run one statement with params[0..n-1] as $1..$n. Returns the number of
 * rows the statement inserted, updated or deleted (0 for other
 * statements; rows changed by triggers or cascades are not counted), or a
 * negative errno as above. Rows a statement returns are discarded.
 */
int db_exec(struct db *db, const char *sql, const struct db_param *params, size_t n);

/*
 * Run one statement that returns rows (SELECT, or INSERT/UPDATE/DELETE
 * ... RETURNING). On success *out holds the rows, positioned before the
 * first one: call db_rows_next, read columns, and db_rows_free. The
 * statement's effects and its errors (such as a unique violation of an
 * INSERT ... RETURNING) are reported here, by db_query. PostgreSQL reads
 * every row into memory at once; SQLite reads them as db_rows_next
 * advances, so use LIMIT for large tables. Several db_rows of one db may
 * be open at once.
 */
int db_query(struct db *db, const char *sql, const struct db_param *params, size_t n,
	     struct db_rows **out);

/* Advance to the next row: true when there is one. False at the end, or
 * on an error (then db_rows_error says which). */
bool db_rows_next(struct db_rows *rows);
/* 0, or the negative errno that stopped db_rows_next early. */
int db_rows_error(const struct db_rows *rows);
/* Number of columns of the result. */
int db_col_count(const struct db_rows *rows);
/* Free rows (NULL is ignored). */
void db_rows_free(struct db_rows *rows);

/*
 * Columns of the current row, numbered from 0. A NULL value reads as 0,
 * 0.0, false, or a NULL pointer (db_col_is_null tells NULL from a value).
 * Values are converted as SQLite does: a REAL read as an integer is
 * truncated (and clamped), text read as a number takes its numeric
 * prefix, a number read as text is formatted (a boolean as "1"/"0"). The
 * text of a REAL is for display only: it differs between backends.
 * PostgreSQL columns of other types than BIGINT, INTEGER, SMALLINT,
 * DOUBLE PRECISION, REAL, NUMERIC, BOOLEAN, TEXT, VARCHAR, BYTEA, JSON
 * and JSONB read as NULL: CAST them to TEXT in the SQL. A column number
 * out of range reads as NULL.
 */
bool db_col_is_null(struct db_rows *rows, int col);
int64_t db_col_int(struct db_rows *rows, int col);
double db_col_real(struct db_rows *rows, int col);
bool db_col_bool(struct db_rows *rows, int col);
/* NUL-terminated text, valid until the next db_rows_next or
 * db_rows_free. NULL for a NULL value. */
const char *db_col_text(struct db_rows *rows, int col);
/* Bytes and their count in *len, valid as for db_col_text; NULL (and
 * *len 0) for a NULL value; an empty BLOB gives a non-NULL pointer. */
const void *db_col_blob(struct db_rows *rows, int col, size_t *len);

/*
 * Run a query and read the first column of its first row as an integer
 * (for RETURNING id, COUNT(*), ...). 0 and *out set; -ENOENT when there
 * is no row; -ENODATA when the value is NULL; or an error as db_query.
 */
int db_query_int(struct db *db, const char *sql, const struct db_param *params, size_t n,
		 int64_t *out);

/*
 * Run several ';'-separated statements without parameters (schema
 * scripts), after replacing {{ID}} by the backend's auto-increment primary
 * key column type and {{BLOB}} by its byte-string type. 0 or an error as
 * db_exec; statements before a failing one stay done unless a
 * transaction is rolled back.
 */
int db_exec_script(struct db *db, const char *sql);

/*
 * Transactions. db_begin starts one (SQLite: BEGIN IMMEDIATE, taking the
 * write lock at once, so a transaction does not fail half-way with
 * -EBUSY; PostgreSQL: BEGIN, read committed); -EINVAL when one is already
 * open (they do not nest). db_commit ends it; a commit that fails leaves
 * the transaction open (SQLite) or rolled back (PostgreSQL): call
 * db_rollback after any failure inside a transaction. On PostgreSQL a
 * failed statement spoils the transaction, and db_commit then rolls back
 * and returns -EIO. An error that ends the transaction by itself (SQLite
 * rolls back after some I/O errors; a lost PostgreSQL connection takes it
 * along) makes every call but db_rollback fail with -EIO until
 * db_rollback, so that later statements cannot run outside the
 * transaction the caller believes open. db_rollback is harmless without
 * a transaction. Free every db_rows before db_commit.
 */
int db_begin(struct db *db);
int db_commit(struct db *db);
int db_rollback(struct db *db);
/* True while a transaction is open on db (or ended by an error and not
 * yet rolled back). */
bool db_in_transaction(struct db *db);

/*
 * Copy a SQLite database, consistent as of one instant, into a new file
 * path while others keep writing (SQLite's online backup, in one step).
 * 0; -ENOTSUP for PostgreSQL (use pg_dump); -EEXIST when path exists;
 * -EIO with a message in err.
 */
int db_backup_to(struct db *db, const char *path, char *err, size_t errlen);

/* Counters of db since it was opened. */
void db_get_stats(const struct db *db, struct db_stats *out);

#include "common/banned.h"
#endif
