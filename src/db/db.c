/*
 * db.c - the backend-independent part of the database interface: URLs,
 * argument checks, transactions, script expansion; see db.h.
 */
#include "db/db_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "common/buf.h"

/* Largest schema script after {{...}} expansion. */
#define SCRIPT_MAX (4u << 20)

void db_set_error(struct db *db, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(db->errmsg, sizeof(db->errmsg), fmt, ap);
	va_end(ap);
	/* Backends' messages often end in a newline. */
	size_t len = strlen(db->errmsg);
	while (len > 0 && (db->errmsg[len - 1] == '\n' || db->errmsg[len - 1] == ' '))
		db->errmsg[--len] = '\0';
}

static void set_err(char *err, size_t errlen, const char *msg, const char *detail)
{
	if (err && errlen > 0)
		snprintf(err, errlen, "%s%s%s", msg, detail ? ": " : "", detail ? detail : "");
}

int db_open(struct db **out, const char *url, char *err, size_t errlen)
{
	if (err && errlen > 0)
		err[0] = '\0';
	if (!out || !url) {
		set_err(err, errlen, "no database URL", NULL);
		return -EINVAL;
	}
	*out = NULL;
	if (strcmp(url, "sqlite::memory:") == 0)
		return db_sqlite_open(out, ":memory:", err, errlen);
	if (strncmp(url, "sqlite://", 9) == 0) {
		const char *path = url + 9;
		if (!*path || strcmp(path, "/") == 0) {
			set_err(err, errlen, "no file name in SQLite URL", url);
			return -EINVAL;
		}
		return db_sqlite_open(out, path, err, errlen);
	}
	if (strncmp(url, "postgresql://", 13) == 0 || strncmp(url, "postgres://", 11) == 0)
		return db_pg_open(out, url, err, errlen);
	set_err(err, errlen,
		"unknown database URL (want sqlite:///path.db, sqlite::memory:"
		" or postgresql://...)",
		NULL);
	return -EINVAL;
}

void db_close(struct db *db)
{
	if (db)
		db->ops->close(db);
}

enum db_backend db_backend(const struct db *db)
{
	return db->backend;
}

const char *db_errmsg(const struct db *db)
{
	return db->errmsg;
}

void db_get_stats(const struct db *db, struct db_stats *out)
{
	*out = db->stats;
}

/* Well-formed UTF-8 (no overlong forms, surrogates or values past
 * U+10FFFF), as PostgreSQL demands; SQLite would store anything. */
static bool utf8_valid(const unsigned char *s)
{
	while (*s) {
		unsigned c = *s;
		if (c < 0x80) {
			s++;
			continue;
		}
		int n;
		unsigned min;
		if ((c & 0xe0) == 0xc0) {
			n = 1;
			min = 0x80;
			c &= 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			min = 0x800;
			c &= 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			min = 0x10000;
			c &= 0x07;
		} else {
			return false;
		}
		for (int i = 1; i <= n; i++) {
			if ((s[i] & 0xc0) != 0x80)
				return false;
			c = (c << 6) | (s[i] & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return false;
		s += n + 1;
	}
	return true;
}

static int check_call(struct db *db, const char *sql, const struct db_param *p, size_t n)
{
	db->errmsg[0] = '\0';
	if (db->tx_lost) {
		db_set_error(db, "the transaction was ended by an earlier error: call db_rollback");
		return -EIO;
	}
	if (!sql || (n > 0 && !p)) {
		db_set_error(db, "no SQL or no parameters");
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		switch (p[i].type) {
		case DB_NULL:
		case DB_INT:
		case DB_REAL:
		case DB_BOOL:
			break;
		case DB_TEXT:
			if (p[i].v.t && !utf8_valid((const unsigned char *)p[i].v.t)) {
				db_set_error(db, "parameter $%zu is not valid UTF-8", i + 1);
				return -EINVAL;
			}
			break;
		case DB_BLOB:
			if (!p[i].v.blob.data && p[i].v.blob.len > 0) {
				db_set_error(db, "parameter $%zu: no bytes", i + 1);
				return -EINVAL;
			}
			break;
		default:
			db_set_error(db, "parameter $%zu has an unknown type %d", i + 1,
				     (int)p[i].type);
			return -EINVAL;
		}
	}
	return 0;
}

/*
 * Note a transaction that a failed call ended under the caller's feet
 * (SQLite rolls back by itself after some errors; a lost PostgreSQL
 * connection takes its transaction along). Until db_rollback, calls are
 * refused: otherwise the caller's next statements would run, and commit,
 * outside the transaction it believes open.
 */
static int after_call(struct db *db, bool was_in_tx, int r)
{
	if (r < 0 && was_in_tx && !db->ops->in_transaction(db))
		db->tx_lost = true;
	return r;
}

int db_exec(struct db *db, const char *sql, const struct db_param *params, size_t n)
{
	int r = check_call(db, sql, params, n);
	if (r < 0)
		return r;
	bool in_tx = db->ops->in_transaction(db);
	return after_call(db, in_tx, db->ops->exec(db, sql, params, n));
}

int db_query(struct db *db, const char *sql, const struct db_param *params, size_t n,
	     struct db_rows **out)
{
	*out = NULL;
	int r = check_call(db, sql, params, n);
	if (r < 0)
		return r;
	bool in_tx = db->ops->in_transaction(db);
	return after_call(db, in_tx, db->ops->query(db, sql, params, n, out));
}

int db_query_int(struct db *db, const char *sql, const struct db_param *params, size_t n,
		 int64_t *out)
{
	struct db_rows *rows;
	int r = db_query(db, sql, params, n, &rows);
	if (r < 0)
		return r;
	if (!db_rows_next(rows)) {
		r = db_rows_error(rows);
		if (r == 0)
			r = -ENOENT;
	} else if (db_col_is_null(rows, 0)) {
		r = -ENODATA;
	} else {
		*out = db_col_int(rows, 0);
	}
	db_rows_free(rows);
	return r;
}

bool db_rows_next(struct db_rows *rows)
{
	return rows->ops->next(rows);
}

int db_rows_error(const struct db_rows *rows)
{
	return rows->error;
}

int db_col_count(const struct db_rows *rows)
{
	return rows->ncols;
}

void db_rows_free(struct db_rows *rows)
{
	if (rows)
		rows->ops->rows_free(rows);
}

bool db_col_is_null(struct db_rows *rows, int col)
{
	if (col < 0 || col >= rows->ncols)
		return true;
	return rows->ops->is_null(rows, col);
}

int64_t db_col_int(struct db_rows *rows, int col)
{
	if (col < 0 || col >= rows->ncols)
		return 0;
	return rows->ops->col_int(rows, col);
}

double db_col_real(struct db_rows *rows, int col)
{
	if (col < 0 || col >= rows->ncols)
		return 0.0;
	return rows->ops->col_real(rows, col);
}

bool db_col_bool(struct db_rows *rows, int col)
{
	return db_col_int(rows, col) != 0;
}

const char *db_col_text(struct db_rows *rows, int col)
{
	if (col < 0 || col >= rows->ncols)
		return NULL;
	return rows->ops->col_text(rows, col);
}

const void *db_col_blob(struct db_rows *rows, int col, size_t *len)
{
	*len = 0;
	if (col < 0 || col >= rows->ncols)
		return NULL;
	return rows->ops->col_blob(rows, col, len);
}

/* ---- scripts */

/* Append script with {{ID}} and {{BLOB}} replaced; -EINVAL for another
 * {{NAME}}, -ENOSPC past SCRIPT_MAX. */
static int expand_script(struct db *db, const char *sql, struct buf *out)
{
	const char *s = sql;
	for (;;) {
		const char *open = strstr(s, "{{");
		if (!open)
			return buf_append_str(out, s);
		int r = buf_append(out, s, (size_t)(open - s));
		if (r < 0)
			return r;
		const char *close = strstr(open + 2, "}}");
		size_t len = close ? (size_t)(close - open - 2) : 0;
		const char *with = NULL;
		if (close && len == 2 && memcmp(open + 2, "ID", 2) == 0)
			with = db->ops->id_type;
		else if (close && len == 4 && memcmp(open + 2, "BLOB", 4) == 0)
			with = db->ops->blob_type;
		if (!with) {
			db_set_error(db, "unknown placeholder in script: %.20s", open);
			return -EINVAL;
		}
		r = buf_append_str(out, with);
		if (r < 0)
			return r;
		s = close + 2;
	}
}

int db_exec_script(struct db *db, const char *sql)
{
	int r = check_call(db, sql, NULL, 0);
	if (r < 0)
		return r;
	struct buf text;
	buf_init(&text, SCRIPT_MAX);
	r = expand_script(db, sql, &text);
	if (r == -ENOSPC)
		db_set_error(db, "script longer than %u bytes", SCRIPT_MAX);
	if (r == 0) {
		bool in_tx = db->ops->in_transaction(db);
		r = after_call(db, in_tx, db->ops->exec_script(db, text.data));
	}
	buf_release(&text);
	return r;
}

/* ---- transactions */

bool db_in_transaction(struct db *db)
{
	return db->tx_lost || db->ops->in_transaction(db);
}

int db_begin(struct db *db)
{
	db->errmsg[0] = '\0';
	if (db_in_transaction(db)) {
		db_set_error(db, "a transaction is already open");
		return -EINVAL;
	}
	int r = db->ops->exec(db, db->ops->begin_sql, NULL, 0);
	return r < 0 ? r : 0;
}

int db_commit(struct db *db)
{
	db->errmsg[0] = '\0';
	if (db->tx_lost) {
		db_set_error(db, "the transaction was ended by an earlier error: call db_rollback");
		return -EIO;
	}
	if (!db->ops->in_transaction(db)) {
		db_set_error(db, "no transaction is open");
		return -EINVAL;
	}
	/* Whatever happens, the caller no longer counts on the transaction. */
	return db->ops->commit(db);
}

int db_rollback(struct db *db)
{
	db->errmsg[0] = '\0';
	db->tx_lost = false;
	if (!db->ops->in_transaction(db))
		return 0;
	int r = db->ops->exec(db, "ROLLBACK", NULL, 0);
	return r < 0 ? r : 0;
}

/* ---- helpers for the backends */

size_t db_first_keyword(const char *sql, const char **word)
{
	const char *s = sql;
	for (;;) {
		while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r' || *s == '(')
			s++;
		if (s[0] == '-' && s[1] == '-') {
			s += strcspn(s, "\n");
			continue;
		}
		if (s[0] == '/' && s[1] == '*') {
			const char *end = strstr(s + 2, "*/");
			s = end ? end + 2 : s + strlen(s);
			continue;
		}
		break;
	}
	size_t n = 0;
	while ((s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z'))
		n++;
	*word = s;
	return n;
}

int db_fk_error(const char *sql)
{
	const char *w;
	size_t n = db_first_keyword(sql, &w);
	if (n == 6 && strncasecmp(w, "DELETE", 6) == 0)
		return -ENOTEMPTY;
	return -ENOENT;
}

int db_backup_to(struct db *db, const char *path, char *err, size_t errlen)
{
	if (!db || !path)
		return -EINVAL;
	if (db->backend != DB_SQLITE)
		return -ENOTSUP;
	return db_sqlite_backup(db, path, err, errlen);
}
