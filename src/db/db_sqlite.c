/*
 * db_sqlite.c - the SQLite backend: one sqlite3 connection with a small
 * cache of compiled statements; see db.h.
 *
 * Statements are compiled once (sqlite3_prepare_v3, PERSISTENT) and kept
 * in a cache of DB_STMT_CACHE_SIZE entries keyed by their SQL text; the
 * least recently used one is finalised when a new one needs the room. A
 * cached statement being stepped by an open db_rows is "in use": running
 * the same SQL again meanwhile compiles a second, transient copy.
 *
 * Parameters are written $1..$N. SQLite numbers named parameters by their
 * first appearance in the text, so "... $2 ... $1" has $2 as index 1:
 * each statement keeps a map from SQLite's index to our number, made from
 * sqlite3_bind_parameter_name when it is compiled.
 */
#include "db/db_internal.h"

#include <errno.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <strings.h>

#include "common/alloc.h"
#include "common/log.h"

#define BUSY_TIMEOUT_MS 5000

struct stmt_entry {
	sqlite3_stmt *stmt;	/* NULL: a free cache slot */
	char *sql;		/* owned copy of the text (the cache key) */
	uint64_t hash;
	uint64_t last_used;	/* the connection's tick when last taken */
	int nparams;		/* sqlite3_bind_parameter_count */
	int *param_map;		/* [i], i in 1..nparams: our $k for SQLite's index i */
	bool counts_changes;	/* INSERT/UPDATE/DELETE: report sqlite3_changes64 */
	bool in_use;		/* an open db_rows is stepping it */
	bool cached;		/* lives in the cache (else owned by its user) */
};

struct db_sqlite {
	struct db base;
	sqlite3 *conn;
	uint64_t tick;
	struct stmt_entry cache[DB_STMT_CACHE_SIZE];
};

struct rows_sqlite {
	struct db_rows base;
	struct db_sqlite *d;
	struct stmt_entry *entry;	/* cached, or &own */
	struct stmt_entry own;		/* a transient statement */
	bool pending;		/* the first row, stepped by db_query, not yet returned */
	bool done;
};

static const struct db_ops sqlite_ops;

static struct db_sqlite *to_sqlite(struct db *db)
{
	return (struct db_sqlite *)db;
}

/* FNV-1a, for finding a statement in the cache. */
static uint64_t hash_text(const char *s)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= UINT64_C(0x100000001b3);
	}
	return h;
}

static int map_error(struct db_sqlite *d, int rc, const char *sql)
{
	db_set_error(&d->base, "%s", sqlite3_errmsg(d->conn));
	switch (rc) {
	case SQLITE_CONSTRAINT_UNIQUE:
	case SQLITE_CONSTRAINT_PRIMARYKEY:
	case SQLITE_CONSTRAINT_ROWID:
		return -EEXIST;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return db_fk_error(sql);
	case SQLITE_CONSTRAINT_TRIGGER:
		/* ON DELETE RESTRICT is a built-in trigger with this message. */
		if (strcmp(sqlite3_errmsg(d->conn), "FOREIGN KEY constraint failed") == 0)
			return db_fk_error(sql);
		break;
	default:
		break;
	}
	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_RANGE:
	case SQLITE_TOOBIG:
		return -EINVAL;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_INTERRUPT:
		return -ECANCELED;
	case SQLITE_AUTH:
	case SQLITE_PERM:
		return -EACCES;
	default:
		return -EIO;
	}
}

/* True when s holds nothing but blanks, ';' and comments. */
static bool only_blanks(const char *s)
{
	for (;;) {
		const char *w;
		size_t n = db_first_keyword(s, &w);
		if (n > 0)
			return false;
		if (*w == ';') {
			s = w + 1;
			continue;
		}
		return *w == '\0';
	}
}

/* Our parameter number from SQLite's name of it: "$1".."$32766", else 0. */
static int param_number(const char *name)
{
	if (!name || name[0] != '$' || name[1] < '1' || name[1] > '9')
		return 0;
	long k = 0;
	for (const char *p = name + 1; *p; p++) {
		if (*p < '0' || *p > '9' || k > 32766)
			return 0;
		k = k * 10 + (*p - '0');
	}
	return k <= 32766 ? (int)k : 0;
}

static bool is_dml(sqlite3_stmt *stmt, const char *sql)
{
	if (sqlite3_stmt_readonly(stmt))
		return false;
	const char *w;
	size_t n = db_first_keyword(sql, &w);
	static const char *const verbs[] = { "INSERT", "UPDATE", "DELETE", "REPLACE", "WITH" };
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (n == strlen(verbs[i]) && strncasecmp(w, verbs[i], n) == 0)
			return true;
	}
	return false;
}

static void entry_release(struct stmt_entry *e)
{
	sqlite3_finalize(e->stmt);
	free(e->sql);
	free(e->param_map);
	memset(e, 0, sizeof(*e));
}

/* Compile sql into e (which must be empty). 0 or -errno. */
static int compile(struct db_sqlite *d, const char *sql, uint64_t hash, bool persistent,
		   struct stmt_entry *e)
{
	sqlite3_stmt *stmt = NULL;
	const char *tail = NULL;
	int rc = sqlite3_prepare_v3(d->conn, sql, -1, persistent ? SQLITE_PREPARE_PERSISTENT : 0,
				    &stmt, &tail);
	if (rc != SQLITE_OK)
		return map_error(d, rc, sql);
	if (!stmt) {
		db_set_error(&d->base, "empty SQL statement");
		return -EINVAL;
	}
	if (tail && !only_blanks(tail)) {
		sqlite3_finalize(stmt);
		db_set_error(&d->base, "several statements in one call (use db_exec_script)");
		return -EINVAL;
	}
	int nparams = sqlite3_bind_parameter_count(stmt);
	int *map = xcalloc((size_t)nparams + 1, sizeof(int));
	for (int i = 1; i <= nparams; i++) {
		const char *name = sqlite3_bind_parameter_name(stmt, i);
		map[i] = param_number(name);
		if (map[i] == 0) {
			db_set_error(&d->base, "parameter %s: write parameters as $1..$N",
				     name ? name : "?");
			free(map);
			sqlite3_finalize(stmt);
			return -EINVAL;
		}
	}
	e->stmt = stmt;
	e->sql = xstrdup(sql);
	e->hash = hash;
	e->nparams = nparams;
	e->param_map = map;
	e->counts_changes = is_dml(stmt, sql);
	d->base.stats.prepared++;
	return 0;
}

/*
 * A statement for sql, ready to bind: from the cache, or compiled into
 * it, or (when the cached one is in use or every entry is) compiled into
 * *transient. *out points to the entry. 0 or -errno.
 */
static int stmt_get(struct db_sqlite *d, const char *sql, struct stmt_entry *transient,
		    struct stmt_entry **out)
{
	uint64_t hash = hash_text(sql);
	struct stmt_entry *slot = NULL;
	bool busy_copy = false;
	for (int i = 0; i < DB_STMT_CACHE_SIZE; i++) {
		struct stmt_entry *e = &d->cache[i];
		if (!e->stmt) {
			if (!slot || slot->stmt)
				slot = e;
			continue;
		}
		if (e->hash == hash && strcmp(e->sql, sql) == 0) {
			if (e->in_use) {
				busy_copy = true;
				continue;
			}
			e->last_used = ++d->tick;
			d->base.stats.reused++;
			*out = e;
			return 0;
		}
		if (!e->in_use && (!slot || (slot->stmt && e->last_used < slot->last_used)))
			slot = e;
	}
	if (busy_copy || !slot) {
		memset(transient, 0, sizeof(*transient));
		int r = compile(d, sql, hash, false, transient);
		if (r < 0)
			return r;
		*out = transient;
		return 0;
	}
	if (slot->stmt) {
		entry_release(slot);
		d->base.stats.evicted++;
	}
	int r = compile(d, sql, hash, true, slot);
	if (r < 0)
		return r;
	slot->cached = true;
	slot->last_used = ++d->tick;
	*out = slot;
	return 0;
}

/* Reset e for its next use (bindings cleared, so no pointer to the
 * caller's memory stays behind); a transient one is finalised. */
static void stmt_put(struct stmt_entry *e)
{
	sqlite3_reset(e->stmt);
	sqlite3_clear_bindings(e->stmt);
	e->in_use = false;
	if (!e->cached)
		entry_release(e);
}

static int bind_params(struct db_sqlite *d, struct stmt_entry *e, const struct db_param *p,
		       size_t n, bool copy)
{
	sqlite3_destructor_type how = copy ? SQLITE_TRANSIENT : SQLITE_STATIC;
	for (int i = 1; i <= e->nparams; i++) {
		int k = e->param_map[i];
		if ((size_t)k > n) {
			db_set_error(&d->base,
				     "the statement uses $%d but %zu parameters were given", k, n);
			return -EINVAL;
		}
		const struct db_param *v = &p[k - 1];
		int rc;
		switch (v->type) {
		case DB_INT:
			rc = sqlite3_bind_int64(e->stmt, i, v->v.i);
			break;
		case DB_REAL:
			rc = sqlite3_bind_double(e->stmt, i, v->v.r);
			break;
		case DB_BOOL:
			rc = sqlite3_bind_int(e->stmt, i, v->v.b ? 1 : 0);
			break;
		case DB_TEXT:
			rc = v->v.t ? sqlite3_bind_text64(e->stmt, i, v->v.t, strlen(v->v.t), how,
							  SQLITE_UTF8)
				    : sqlite3_bind_null(e->stmt, i);
			break;
		case DB_BLOB:
			/* A NULL pointer would bind NULL, not an empty blob. */
			if (v->v.blob.len == 0)
				rc = sqlite3_bind_zeroblob(e->stmt, i, 0);
			else
				rc = sqlite3_bind_blob64(e->stmt, i, v->v.blob.data,
							 v->v.blob.len, how);
			break;
		default:
			rc = sqlite3_bind_null(e->stmt, i);
			break;
		}
		if (rc != SQLITE_OK)
			return map_error(d, rc, e->sql);
	}
	return 0;
}

static int sqlite_exec(struct db *db, const char *sql, const struct db_param *p, size_t n)
{
	struct db_sqlite *d = to_sqlite(db);
	struct stmt_entry transient, *e;
	int r = stmt_get(d, sql, &transient, &e);
	if (r < 0)
		return r;
	r = bind_params(d, e, p, n, false);
	if (r < 0)
		goto out_put;
	int rc;
	while ((rc = sqlite3_step(e->stmt)) == SQLITE_ROW)
		;
	if (rc != SQLITE_DONE) {
		r = map_error(d, rc, sql);
		goto out_put;
	}
	if (e->counts_changes) {
		sqlite3_int64 changed = sqlite3_changes64(d->conn);
		r = changed > INT_MAX ? INT_MAX : (int)changed;
	}
out_put:
	stmt_put(e);
	return r;
}

static int sqlite_query(struct db *db, const char *sql, const struct db_param *p, size_t n,
			struct db_rows **out)
{
	struct db_sqlite *d = to_sqlite(db);
	struct rows_sqlite *rows = xcalloc(1, sizeof(*rows));
	struct stmt_entry *e;
	int r = stmt_get(d, sql, &rows->own, &e);
	if (r < 0)
		goto out_free_rows;
	e->in_use = true;
	r = bind_params(d, e, p, n, true);
	if (r < 0)
		goto out_put;
	/* Step once here, so that the statement's errors (and, for
	 * RETURNING, all its changes) happen in db_query. */
	int rc = sqlite3_step(e->stmt);
	if (rc == SQLITE_ROW) {
		rows->pending = true;
	} else if (rc == SQLITE_DONE) {
		rows->done = true;
	} else {
		r = map_error(d, rc, sql);
		goto out_put;
	}
	rows->base.ops = &sqlite_ops;
	rows->base.ncols = sqlite3_column_count(e->stmt);
	rows->d = d;
	rows->entry = e;
	*out = &rows->base;
	return 0;

out_put:
	stmt_put(e);
out_free_rows:
	free(rows);
	return r;
}

static bool sqlite_next(struct db_rows *base)
{
	struct rows_sqlite *rows = (struct rows_sqlite *)base;
	if (rows->done)
		return false;
	if (rows->pending) {
		rows->pending = false;
		return true;
	}
	int rc = sqlite3_step(rows->entry->stmt);
	if (rc == SQLITE_ROW)
		return true;
	rows->done = true;
	if (rc != SQLITE_DONE)
		base->error = map_error(rows->d, rc, rows->entry->sql);
	return false;
}

static void sqlite_rows_free(struct db_rows *base)
{
	struct rows_sqlite *rows = (struct rows_sqlite *)base;
	stmt_put(rows->entry);
	free(rows);
}

static sqlite3_stmt *row_stmt(struct db_rows *base)
{
	return ((struct rows_sqlite *)base)->entry->stmt;
}

static bool sqlite_is_null(struct db_rows *rows, int col)
{
	return sqlite3_column_type(row_stmt(rows), col) == SQLITE_NULL;
}

static int64_t sqlite_col_int(struct db_rows *rows, int col)
{
	return sqlite3_column_int64(row_stmt(rows), col);
}

static double sqlite_col_real(struct db_rows *rows, int col)
{
	return sqlite3_column_double(row_stmt(rows), col);
}

static const char *sqlite_col_text(struct db_rows *rows, int col)
{
	return (const char *)sqlite3_column_text(row_stmt(rows), col);
}

static const void *sqlite_col_blob(struct db_rows *rows, int col, size_t *len)
{
	sqlite3_stmt *stmt = row_stmt(rows);
	if (sqlite3_column_type(stmt, col) == SQLITE_NULL)
		return NULL;
	const void *p = sqlite3_column_blob(stmt, col);
	int n = sqlite3_column_bytes(stmt, col);
	*len = n > 0 ? (size_t)n : 0;
	return p ? p : "";
}

static int sqlite_exec_script(struct db *db, const char *sql)
{
	struct db_sqlite *d = to_sqlite(db);
	int rc = sqlite3_exec(d->conn, sql, NULL, NULL, NULL);
	return rc == SQLITE_OK ? 0 : map_error(d, rc, sql);
}

static int sqlite_commit(struct db *db)
{
	int r = sqlite_exec(db, "COMMIT", NULL, 0);
	return r < 0 ? r : 0;
}

static bool sqlite_in_transaction(struct db *db)
{
	return !sqlite3_get_autocommit(to_sqlite(db)->conn);
}

static void sqlite_close(struct db *db)
{
	struct db_sqlite *d = to_sqlite(db);
	for (int i = 0; i < DB_STMT_CACHE_SIZE; i++) {
		if (d->cache[i].stmt)
			entry_release(&d->cache[i]);
	}
	int rc = sqlite3_close(d->conn);
	if (rc != SQLITE_OK) {
		/* Rows left open: a bug of the caller. Let SQLite free the
		 * connection when they are finalised. */
		log_error("db", "closing SQLite with statements still open: %s",
			  sqlite3_errmsg(d->conn));
		sqlite3_close_v2(d->conn);
	}
	free(d);
}

/* Run one pragma and give its first result as text into out. */
static int pragma(struct db_sqlite *d, const char *sql, char *out, size_t size)
{
	sqlite3_stmt *stmt;
	int rc = sqlite3_prepare_v2(d->conn, sql, -1, &stmt, NULL);
	if (rc != SQLITE_OK)
		return map_error(d, rc, sql);
	rc = sqlite3_step(stmt);
	if (out && size > 0) {
		const unsigned char *v = rc == SQLITE_ROW ? sqlite3_column_text(stmt, 0) : NULL;
		snprintf(out, size, "%s", v ? (const char *)v : "");
	}
	int r = 0;
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		r = map_error(d, rc, sql);
	sqlite3_finalize(stmt);
	return r;
}

int db_sqlite_open(struct db **out, const char *path, char *err, size_t errlen)
{
	struct db_sqlite *d = xcalloc(1, sizeof(*d));
	d->base.ops = &sqlite_ops;
	d->base.backend = DB_SQLITE;
	int r;
	int rc = sqlite3_open_v2(path, &d->conn,
				 SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				 NULL);
	if (rc != SQLITE_OK) {
		int sys = d->conn ? sqlite3_system_errno(d->conn) : 0;
		r = sys > 0 ? -sys : (rc == SQLITE_NOMEM ? -ENOMEM : -EIO);
		if (err && errlen > 0)
			snprintf(err, errlen, "cannot open SQLite database %s: %s%s%s%s", path,
				 d->conn ? sqlite3_errmsg(d->conn) : sqlite3_errstr(rc),
				 sys > 0 ? " (" : "", sys > 0 ? strerror(sys) : "",
				 sys > 0 ? ")" : "");
		goto out_close;
	}
	sqlite3_extended_result_codes(d->conn, 1);
	sqlite3_busy_timeout(d->conn, BUSY_TIMEOUT_MS);

	char mode[32];
	if ((r = pragma(d, "PRAGMA journal_mode=WAL", mode, sizeof(mode))) < 0 ||
	    (r = pragma(d, "PRAGMA synchronous=NORMAL", NULL, 0)) < 0 ||
	    (r = pragma(d, "PRAGMA foreign_keys=ON", NULL, 0)) < 0) {
		if (err && errlen > 0)
			snprintf(err, errlen, "cannot use SQLite database %s: %s", path,
				 d->base.errmsg);
		goto out_close;
	}
	if (strcasecmp(mode, "wal") != 0 && strcmp(path, ":memory:") != 0)
		log_warn("db", "SQLite database %s: journal mode is %s, not WAL", path, mode);
	d->base.errmsg[0] = '\0';
	*out = &d->base;
	return 0;

out_close:
	sqlite3_close(d->conn);
	free(d);
	return r;
}

static const struct db_ops sqlite_ops = {
	.id_type = "INTEGER PRIMARY KEY AUTOINCREMENT",
	.blob_type = "BLOB",
	.begin_sql = "BEGIN IMMEDIATE",
	.close = sqlite_close,
	.exec = sqlite_exec,
	.query = sqlite_query,
	.exec_script = sqlite_exec_script,
	.commit = sqlite_commit,
	.in_transaction = sqlite_in_transaction,
	.next = sqlite_next,
	.rows_free = sqlite_rows_free,
	.is_null = sqlite_is_null,
	.col_int = sqlite_col_int,
	.col_real = sqlite_col_real,
	.col_text = sqlite_col_text,
	.col_blob = sqlite_col_blob,
};

int db_sqlite_backup(struct db *db, const char *path, char *err, size_t errlen)
{
	struct db_sqlite *d = (struct db_sqlite *)db;
	if (access(path, F_OK) == 0)
		return -EEXIST;
	sqlite3 *dst = NULL;
	int rc = sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot create %s: %s", path,
			 dst ? sqlite3_errmsg(dst) : sqlite3_errstr(rc));
		sqlite3_close(dst);
		return -EIO;
	}
	/* One step copies every page in one read transaction: a consistent
	 * copy, which writers (WAL) do not have to wait for. */
	sqlite3_backup *b = sqlite3_backup_init(dst, "main", d->conn, "main");
	if (!b) {
		snprintf(err, errlen, "backup of the database: %s", sqlite3_errmsg(dst));
		sqlite3_close(dst);
		unlink(path);
		return -EIO;
	}
	for (int tries = 0; tries < 200; tries++) {
		rc = sqlite3_backup_step(b, -1);
		if (rc != SQLITE_BUSY && rc != SQLITE_LOCKED)
			break;
		sqlite3_sleep(50);
	}
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		snprintf(err, errlen, "backup of the database: %s", sqlite3_errstr(rc));
		sqlite3_close(dst);
		unlink(path);
		return -EIO;
	}
	rc = sqlite3_close(dst);
	return rc == SQLITE_OK ? 0 : -EIO;
}
