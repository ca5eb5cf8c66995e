/*
 * db_internal.h - what db.c shares with the two backends (db_sqlite.c,
 * db_pg.c). Not for use outside src/db.
 *
 * Each backend embeds struct db and struct db_rows as the first member of
 * its own structs and fills a struct db_ops. db.c checks arguments (types,
 * UTF-8, transaction state) and dispatches; the backends do the work and
 * report errors with db_set_error().
 */
#ifndef ONAIR_DB_INTERNAL_H
#define ONAIR_DB_INTERNAL_H

#include "db/db.h"

#define DB_ERRMSG_MAX 1024

struct db_ops {
	const char *id_type;	/* what {{ID}} becomes in scripts */
	const char *blob_type;	/* what {{BLOB}} becomes */
	const char *begin_sql;	/* the statement db_begin runs */
	void (*close)(struct db *db);
	int (*exec)(struct db *db, const char *sql, const struct db_param *p, size_t n);
	int (*query)(struct db *db, const char *sql, const struct db_param *p, size_t n,
		     struct db_rows **out);
	int (*exec_script)(struct db *db, const char *sql);
	/* Commit: COMMIT, but also tells a spoiled transaction from a good one. */
	int (*commit)(struct db *db);
	bool (*in_transaction)(struct db *db);
	/* Rows. */
	bool (*next)(struct db_rows *rows);
	void (*rows_free)(struct db_rows *rows);
	bool (*is_null)(struct db_rows *rows, int col);
	int64_t (*col_int)(struct db_rows *rows, int col);
	double (*col_real)(struct db_rows *rows, int col);
	const char *(*col_text)(struct db_rows *rows, int col);
	const void *(*col_blob)(struct db_rows *rows, int col, size_t *len);
};

struct db {
	const struct db_ops *ops;
	enum db_backend backend;
	struct db_stats stats;
	bool tx_lost;		/* a transaction ended by an error: calls are refused
				 * until db_rollback */
	char errmsg[DB_ERRMSG_MAX];
};

struct db_rows {
	const struct db_ops *ops;
	int ncols;
	int error;		/* what stopped next(), or 0 */
};

/* Record a message for db_errmsg (printf-style). */
void db_set_error(struct db *db, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The error for a failed FOREIGN KEY constraint: -ENOTEMPTY when sql is a
 * DELETE (the row is still referenced), -ENOENT otherwise (the referenced
 * row is missing). */
int db_fk_error(const char *sql);

/* Length of the first keyword of sql after blanks and comments, and where
 * it starts in *word. */
size_t db_first_keyword(const char *sql, const char **word);

/* Backends: open; 0 and *out, or -errno with a message in err. */
int db_sqlite_open(struct db **out, const char *path, char *err, size_t errlen);
int db_pg_open(struct db **out, const char *conninfo, char *err, size_t errlen);
/* db_backup_to for SQLite. */
int db_sqlite_backup(struct db *db, const char *path, char *err, size_t errlen);

#include "common/banned.h"
#endif
