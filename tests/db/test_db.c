/*
 * test_db.c - the database interface and the migrations, against SQLite
 * or PostgreSQL: the same tests run on the backend named by argv[1]
 * ("sqlite": a fresh file per test in a temporary directory; "postgres":
 * a server started by the harness, with the schema emptied per test).
 */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/timeutil.h"
#include "db/db.h"
#include "db/migrations.h"
#include "harness.h"

static enum db_backend backend;
static struct harness_pg pg;
static char tmpdir[256];
static int files_made;

struct env {
	char url[512];
	struct db *db;
};

/* ---- helpers */

static void fresh_url(char *url, size_t size)
{
	if (backend == DB_SQLITE)
		snprintf(url, size, "sqlite://%s/test-%d.db", tmpdir, ++files_made);
	else
		snprintf(url, size, "%s", pg.url);
}

static struct db *open_url(const char *url)
{
	struct db *db = NULL;
	char err[256];
	int r = db_open(&db, url, err, sizeof(err));
	if (r < 0)
		fprintf(stderr, "db_open: %s\n", err);
	assert_int_equal(r, 0);
	assert_non_null(db);
	return db;
}

static int setup(void **state)
{
	struct env *env = calloc(1, sizeof(*env));
	if (!env)
		return -1;
	fresh_url(env->url, sizeof(env->url));
	char err[256];
	if (db_open(&env->db, env->url, err, sizeof(err)) < 0) {
		fprintf(stderr, "db_open: %s\n", err);
		free(env);
		return -1;
	}
	if (backend == DB_POSTGRES &&
	    db_exec_script(env->db, "DROP SCHEMA public CASCADE; CREATE SCHEMA public") < 0) {
		fprintf(stderr, "emptying the schema: %s\n", db_errmsg(env->db));
		db_close(env->db);
		free(env);
		return -1;
	}
	*state = env;
	return 0;
}

static int teardown(void **state)
{
	struct env *env = *state;
	db_close(env->db);
	free(env);
	return 0;
}

/* Run sql expecting success; print the backend's message otherwise. */
static void must(struct db *db, int r)
{
	if (r < 0)
		fprintf(stderr, "unexpected error %d: %s\n", r, db_errmsg(db));
	assert_true(r >= 0);
}

static int64_t count(struct db *db, const char *sql)
{
	int64_t n = -1;
	must(db, db_query_int(db, sql, NULL, 0, &n));
	return n;
}

/* ---- opening */

static void test_open_close(void **state)
{
	struct env *env = *state;
	assert_int_equal(db_backend(env->db), backend);
	assert_string_equal(db_errmsg(env->db), "");
	db_close(NULL);

	struct db *mem = open_url("sqlite::memory:");
	assert_int_equal(db_backend(mem), DB_SQLITE);
	must(mem, db_exec(mem, "CREATE TABLE t (x BIGINT)", NULL, 0));
	assert_int_equal(db_exec(mem, "INSERT INTO t VALUES ($1)", DB_PARAMS(DB_I(7))), 1);
	assert_int_equal(count(mem, "SELECT x FROM t"), 7);
	db_close(mem);

	/* A relative SQLite path is taken from the working directory. */
	char cwd[512];
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir(tmpdir), 0);
	struct db *rel = open_url("sqlite://relative.db");
	db_close(rel);
	struct stat st;
	assert_int_equal(stat("relative.db", &st), 0);
	assert_int_equal(chdir(cwd), 0);
}

static void test_bad_urls(void **state)
{
	(void)state;
	static const char *const invalid[] = {
		"", "mysql://localhost/x", "sqlite://", "sqlite:///", "sqlite:memory",
		"postgresql://%zz", "postgresql://localhost/x?no_such_option=1",
	};
	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++) {
		struct db *db = (struct db *)1;
		char err[256] = "";
		assert_int_equal(db_open(&db, invalid[i], err, sizeof(err)), -EINVAL);
		assert_null(db);
		assert_true(err[0] != '\0');
	}
	struct db *db;
	char err[256];
	assert_int_equal(db_open(&db, NULL, err, sizeof(err)), -EINVAL);

	/* A directory that does not exist. */
	assert_int_equal(db_open(&db, "sqlite:///nonexistent-onair-dir/x.db", err, sizeof(err)),
			 -ENOENT);
	assert_non_null(strstr(err, "nonexistent-onair-dir"));

	/* A file that is not a database. */
	char path[400];
	snprintf(path, sizeof(path), "%s/garbage.db", tmpdir);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	for (int i = 0; i < 100; i++)
		fputs("this is not an SQLite database file\n", f);
	fclose(f);
	char url[450];
	snprintf(url, sizeof(url), "sqlite://%s", path);
	assert_true(db_open(&db, url, err, sizeof(err)) < 0);
	assert_true(err[0] != '\0');

	/* Nobody listens on port 1; the password never shows in the message. */
	assert_int_equal(db_open(&db, "postgresql://u:secretword@127.0.0.1:1/x?connect_timeout=5",
				 err, sizeof(err)),
			 -ECONNREFUSED);
	assert_true(err[0] != '\0');
	assert_null(strstr(err, "secretword"));
	/* No error buffer is fine. */
	assert_int_equal(db_open(&db, "nope", NULL, 0), -EINVAL);
}

/* ---- values */

static void test_param_types(void **state)
{
	struct db *db = ((struct env *)*state)->db;
	must(db, db_exec_script(db, "CREATE TABLE t (id {{ID}}, i BIGINT, r DOUBLE PRECISION,"
				    " s TEXT, b {{BLOB}}, f BOOLEAN)"));
	static const unsigned char bytes[] = { 0x00, 0x01, 0x02, 0xff, 0x00, 0x80, '\'', '\\' };
	static const char utf8[] = "Grüße, 日本語, emoji 🎵, ½ — \"quoted\" 'single'";
	const char *sql = "INSERT INTO t (i, r, s, b, f) VALUES ($1, $2, $3, $4, $5) RETURNING id";
	int64_t id[4];
	must(db, db_query_int(db, sql, DB_PARAMS(DB_I(INT64_MAX), DB_R(0.1), DB_T(utf8),
						 DB_BYTES(bytes, sizeof(bytes)), DB_B(true)),
			      &id[0]));
	must(db, db_query_int(db, sql, DB_PARAMS(DB_I(INT64_MIN), DB_R(-1.5e300), DB_T(""),
						 DB_BYTES(NULL, 0), DB_B(false)),
			      &id[1]));
	must(db, db_query_int(db, sql, DB_PARAMS(DB_N, DB_N, DB_T(NULL), DB_N, DB_N), &id[2]));
	must(db, db_query_int(db, sql, DB_PARAMS(DB_I(-5), DB_R(2.75), DB_T("42"),
						 DB_BYTES("x", 1), DB_N),
			      &id[3]));
	assert_true(id[0] > 0);
	assert_true(id[1] > id[0] && id[2] > id[1] && id[3] > id[2]);

	struct db_rows *rows;
	must(db, db_query(db, "SELECT id, i, r, s, b, f FROM t ORDER BY id", NULL, 0, &rows));
	assert_int_equal(db_col_count(rows), 6);
	size_t len;

	assert_true(db_rows_next(rows));
	assert_int_equal(db_col_int(rows, 0), id[0]);
	assert_true(db_col_int(rows, 1) == INT64_MAX);
	assert_true(db_col_real(rows, 2) == 0.1);
	assert_string_equal(db_col_text(rows, 3), utf8);
	const void *b = db_col_blob(rows, 4, &len);
	assert_int_equal(len, sizeof(bytes));
	assert_memory_equal(b, bytes, sizeof(bytes));
	assert_true(db_col_bool(rows, 5));
	assert_int_equal(db_col_int(rows, 5), 1);
	assert_string_equal(db_col_text(rows, 5), "1");
	assert_false(db_col_is_null(rows, 1));

	assert_true(db_rows_next(rows));
	assert_true(db_col_int(rows, 1) == INT64_MIN);
	assert_true(db_col_real(rows, 2) == -1.5e300);
	assert_string_equal(db_col_text(rows, 3), "");
	assert_false(db_col_is_null(rows, 3));
	b = db_col_blob(rows, 4, &len);
	assert_non_null(b);
	assert_int_equal(len, 0);
	assert_false(db_col_is_null(rows, 4));
	assert_false(db_col_bool(rows, 5));
	assert_false(db_col_is_null(rows, 5));

	assert_true(db_rows_next(rows));
	for (int c = 1; c <= 5; c++)
		assert_true(db_col_is_null(rows, c));
	assert_int_equal(db_col_int(rows, 1), 0);
	assert_true(db_col_real(rows, 2) == 0.0);
	assert_null(db_col_text(rows, 3));
	len = 99;
	assert_null(db_col_blob(rows, 4, &len));
	assert_int_equal(len, 0);
	assert_false(db_col_bool(rows, 5));

	/* Conversions between types. */
	assert_true(db_rows_next(rows));
	assert_string_equal(db_col_text(rows, 1), "-5");
	assert_true(db_col_real(rows, 1) == -5.0);
	assert_int_equal(db_col_int(rows, 2), 2);
	assert_int_equal(db_col_int(rows, 3), 42);
	assert_true(db_col_real(rows, 3) == 42.0);
	/* Two conversions of one row are both valid until the next row. */
	const char *t1 = db_col_text(rows, 1);
	const char *t0 = db_col_text(rows, 0);
	assert_string_equal(t1, "-5");
	assert_non_null(t0);
	/* Out of range columns read as NULL. */
	assert_true(db_col_is_null(rows, 6));
	assert_true(db_col_is_null(rows, -1));
	assert_null(db_col_text(rows, 99));

	assert_false(db_rows_next(rows));
	assert_false(db_rows_next(rows));
	assert_int_equal(db_rows_error(rows), 0);
	db_rows_free(rows);

	/* Aggregates: PostgreSQL's SUM of BIGINT is NUMERIC. */
	assert_int_equal(count(db, "SELECT COUNT(*) FROM t"), 4);
	must(db, db_query(db, "SELECT SUM(i), AVG(r), MAX(s) FROM t WHERE id > $1",
			  DB_PARAMS(DB_I(id[1])), &rows));
	assert_true(db_rows_next(rows));
	assert_int_equal(db_col_int(rows, 0), -5);
	assert_string_equal(db_col_text(rows, 0), "-5");
	assert_true(db_col_real(rows, 1) == 2.75);
	assert_string_equal(db_col_text(rows, 2), "42");
	db_rows_free(rows);
}

static void test_numeric_values(void **state)
{
	struct db *db = ((struct env *)*state)->db;
	static const struct {
		const char *text;
		int64_t i;
		double r;
	} cases[] = {
		{ "12345678901234.000056", 12345678901234, 12345678901234.000056 },
		{ "-0.00012", 0, -0.00012 },
		{ "100000000", 100000000, 1e8 },
		{ "0.00000001", 0, 1e-8 },
		{ "-42.5", -42, -42.5 },
		{ "0", 0, 0.0 },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct db_rows *rows;
		must(db, db_query(db, "SELECT CAST($1 AS NUMERIC)", DB_PARAMS(DB_T(cases[i].text)),
				  &rows));
		assert_true(db_rows_next(rows));
		assert_int_equal(db_col_int(rows, 0), cases[i].i);
		double r = db_col_real(rows, 0);
		assert_true(fabs(r - cases[i].r) <= 1e-12 * (1.0 + fabs(r)));
		if (backend == DB_POSTGRES)	/* exact decimal text */
			assert_string_equal(db_col_text(rows, 0), cases[i].text);
		db_rows_free(rows);
	}
}

static void test_param_numbering(void **state)
{
	struct db *db = ((struct env *)*state)->db;
	/* $2 appears first: SQLite numbers parameters by first appearance. */
	struct db_rows *rows;
	must(db, db_query(db, "SELECT $2, $1, $2, $3", DB_PARAMS(DB_I(1), DB_I(2), DB_T("three")),
			  &rows));
	assert_true(db_rows_next(rows));
	assert_int_equal(db_col_int(rows, 0), 2);
	assert_int_equal(db_col_int(rows, 1), 1);
	assert_int_equal(db_col_int(rows, 2), 2);
	assert_string_equal(db_col_text(rows, 3), "three");
	assert_false(db_rows_next(rows));
	db_rows_free(rows);

	/* An untyped NULL gets its type from a CAST (docs/internals/db.md). */
	int64_t is_null = 0;
	must(db, db_query_int(db, "SELECT CASE WHEN CAST($1 AS BIGINT) IS NULL THEN 1 ELSE 0 END",
			      DB_PARAMS(DB_N), &is_null));
	assert_int_equal(is_null, 1);

	/* Too few parameters. */
	assert_int_equal(db_exec(db, "SELECT $1, $2", DB_PARAMS(DB_I(1))), -EINVAL);
	assert_true(db_errmsg(db)[0] != '\0');
	/* A parameter of no known type. */
	struct db_param bad = { .type = (enum db_type)99 };
	assert_int_equal(db_exec(db, "SELECT $1", &bad, 1), -EINVAL);
	/* The connection is still fine. */
	assert_int_equal(count(db, "SELECT 1"), 1);

	/* Many parameters (past the inline arrays of the PostgreSQL backend). */
	struct db_param many[40];
	char sql[400] = "SELECT 0";
	size_t len = strlen(sql);
	for (int i = 0; i < 40; i++) {
		many[i] = DB_I(i + 1);
		len += (size_t)snprintf(sql + len, sizeof(sql) - len, " + $%d", i + 1);
	}
	int64_t sum = 0;
	must(db, db_query_int(db, sql, many, 40, &sum));
	assert_int_equal(sum, 40 * 41 / 2);
}

static void test_invalid_utf8(void **state)
{
	struct db *db = ((struct env *)*state)->db;
	must(db, db_exec(db, "CREATE TABLE t (s TEXT)", NULL, 0));
	static const char *const bad[] = {
		"\xff\xfe", "ab\xc0\xaf", "\xed\xa0\x80", "\xe2\x82", "\xf4\x90\x80\x80", "x\x80",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(db_exec(db, "INSERT INTO t VALUES ($1)", DB_PARAMS(DB_T(bad[i]))),
				 -EINVAL);
	assert_int_equal(count(db, "SELECT COUNT(*) FROM t"), 0);
}

static void test_injection_strings(void **state)
{
	struct db *db = ((struct env *)*state)->db;
	must(db, db_exec_script(db, "CREATE TABLE t (id {{ID}}, s TEXT NOT NULL)"));
	static const char *const nasty[] = {
		"'; DROP TABLE t; --",
		"Robert'); DROP TABLE students;--",
		"\" OR 1=1 --",
		"' OR '1'='1",
		"$1",
		"$$ dollar $$ $tag$ quoted $tag$",
		"?",
		":name @name",
		"\\",
		"\\'",
		"E'\\x41'",
		"%s%n%x%%",
		"{{ID}} {{BLOB}}",
		"/* comment */ -- comment",
		"line1\nline2\r\n\ttab",
		"\x01\x02\x1f\x7f",
		"",
		"; ; ;",
	};
	size_t n = sizeof(nasty) / sizeof(nasty[0]);
	for (size_t i = 0; i < n; i++) {
		int64_t id;
		must(db, db_query_int(db, "INSERT INTO t (s) VALUES ($1) RETURNING id",
				      DB_PARAMS(DB_T(nasty[i])), &id));
		struct db_rows *rows;
		must(db, db_query(db, "SELECT s FROM t WHERE id = $1", DB_PARAMS(DB_I(id)), &rows));
		assert_true(db_rows_next(rows));
		assert_string_equal(db_col_text(rows, 0), nasty[i]);
		db_rows_free(rows);
		int64_t found;
		must(db, db_query_int(db, "SELECT COUNT(*) FROM t WHERE s = $1",
				      DB_PARAMS(DB_T(nasty[i])), &found));
		assert_int_equal(found, 1);
	}
	assert_int_equal(count(db, "SELECT COUNT(*) FROM t"), (int64_t)n);

	/* The portable search of the rules: case-folded LIKE with escapes. */
	must(db, db_exec(db, "INSERT INTO t (s) VALUES ('50% OFF'), ('500 off'), ('5_0')", NULL,
			 0));
	int64_t found;
	const char *search = "SELECT COUNT(*) FROM t WHERE lower(s) LIKE lower($1) ESCAPE '\\'";
	must(db, db_query_int(db, search, DB_PARAMS(DB_T("50\\%%")), &found));
	assert_int_equal(found, 1);
	must(db, db_query_int(db, search, DB_PARAMS(DB_T("50%")), &found));
	assert_int_equal(found, 2);
	must(db, db_query_int(db, search, DB_PARAMS(DB_T("5\\_0")), &found));
	assert_int_equal(found, 1);
	/* NULLS LAST sorts alike. */
	struct db_rows *rows;
	must(db, db_exec_script(db, "CREATE TABLE o (x BIGINT);"
				    " INSERT INTO o VALUES (2), (NULL), (1)"));
	must(db, db_query(db, "SELECT x FROM o ORDER BY x NULLS LAST", NULL, 0, &rows));
	assert_true(db_rows_next(rows));
	assert_int_equal(db_col_int(rows, 0), 1);
	assert_true(db_rows_next(rows));
	assert_int_equal(db_col_int(rows, 0), 2);
	assert_true(db_rows_next(rows));
	assert_true(db_col_is_null(rows, 0));
	db_rows_free(rows);
}

/* ---- statements and errors */

static void test_returning_and_changes(void **state)
{
	struct db *db = ((struct env *)*state)->db;
	must(db, db_exec_script(db, "CREATE TABLE t (id {{ID}}, name TEXT NOT NULL, n BIGINT)"));
	int64_t a, b;
	must(db, db_query_int(db, "INSERT INTO t (name, n) VALUES ($1, $2) RETURNING id",
			      DB_PARAMS(DB_T("a"), DB_I(1)), &a));
	must(db, db_query_int(db, "INSERT INTO t (name, n) VALUES ($1, $2) RETURNING id",
			      DB_PARAMS(DB_T("b"), DB_I(2)), &b));
	assert_true(b > a);

	/* Several rows back from one statement. */
	struct db_rows *rows;
	must(db, db_query(db, "INSERT INTO t (name, n) VALUES ('c', 3), ('d', 4)"
			      " RETURNING id, name", NULL, 0, &rows));
	int got = 0;
	while (db_rows_next(rows)) {
		assert_true(db_col_int(rows, 0) > b);
		got++;
	}
	assert_int_equal(db_rows_error(rows), 0);
	db_rows_free(rows);
	assert_int_equal(got, 2);

	/* db_exec counts changed rows, and only for INSERT/UPDATE/DELETE. */
	assert_int_equal(db_exec(db, "UPDATE t SET n = n + 10 WHERE n >= $1",
				 DB_PARAMS(DB_I(2))),
			 3);
	assert_int_equal(db_exec(db, "UPDATE t SET n = 0 WHERE id = $1", DB_PARAMS(DB_I(-1))), 0);
	assert_int_equal(db_exec(db, "SELECT * FROM t", NULL, 0), 0);
	assert_int_equal(db_exec(db, "DELETE FROM t WHERE name IN ($1, $2)",
				 DB_PARAMS(DB_T("a"), DB_T("zz"))),
			 1);
	assert_int_equal(db_exec(db, "CREATE INDEX t_n_idx ON t (n)", NULL, 0), 0);

	/* No row, NULL value. */
	int64_t v = 123;
	assert_int_equal(db_query_int(db, "SELECT n FROM t WHERE id = $1", DB_PARAMS(DB_I(-1)), &v),
			 -ENOENT);
	assert_int_equal(db_query_int(db, "SELECT NULL", NULL, 0, &v), -ENODATA);
	assert_int_equal(v, 123);

	/* A query that returns nothing. */
	must(db, db_query(db, "DELETE FROM t WHERE id = $1", DB_PARAMS(DB_I(-1)), &rows));
	assert_false(db_rows_next(rows));
	db_rows_free(rows);
}

static void test_constraint_errors(void **state)
{
	struct db *db = ((struct env *)*state)->db;
	must(db, db_exec_script(db,
		"CREATE TABLE u (id {{ID}}, name TEXT NOT NULL UNIQUE, n BIGINT CHECK (n >= 0));"
		"CREATE UNIQUE INDEX u_lower_idx ON u (lower(name));"));
	must(db, db_exec(db, "INSERT INTO u (name, n) VALUES ($1, $2)",
			 DB_PARAMS(DB_T("ann"), DB_I(1))));
	assert_int_equal(db_exec(db, "INSERT INTO u (name, n) VALUES ($1, $2)",
				 DB_PARAMS(DB_T("ann"), DB_I(2))),
			 -EEXIST);
	assert_non_null(strstr(db_errmsg(db), "u"));
	/* Through a unique index on an expression. */
	assert_int_equal(db_exec(db, "INSERT INTO u (name) VALUES ($1)", DB_PARAMS(DB_T("ANN"))),
			 -EEXIST);
	/* Primary key. */
	int64_t id = count(db, "SELECT id FROM u");
	assert_int_equal(db_exec(db, "INSERT INTO u (id, name) VALUES ($1, $2)",
				 DB_PARAMS(DB_I(id), DB_T("bob"))),
			 -EEXIST);
	/* Through RETURNING: the error comes from db_query. */
	struct db_rows *rows = (struct db_rows *)1;
	assert_int_equal(db_query(db, "INSERT INTO u (name) VALUES ($1) RETURNING id",
				  DB_PARAMS(DB_T("ann")), &rows),
			 -EEXIST);
	assert_null(rows);
	/* NOT NULL and CHECK. */
	assert_int_equal(db_exec(db, "INSERT INTO u (name) VALUES ($1)", DB_PARAMS(DB_N)), -EINVAL);
	assert_int_equal(db_exec(db, "INSERT INTO u (name, n) VALUES ($1, $2)",
				 DB_PARAMS(DB_T("cy"), DB_I(-1))),
			 -EINVAL);
	assert_true(db_errmsg(db)[0] != '\0');
	/* Nothing of that was stored, and the connection works. */
	assert_int_equal(count(db, "SELECT COUNT(*) FROM u"), 1);
	/* A success clears the message. */
	assert_string_equal(db_errmsg(db), "");
}

static void test_foreign_keys(void **state)
{
	struct db *db = ((struct env *)*state)->db;
	must(db, db_exec_script(db,
		"CREATE TABLE parent (id {{ID}}, name TEXT);"
		"CREATE TABLE kept (id {{ID}},"
		" parent_id BIGINT NOT NULL REFERENCES parent (id) ON DELETE RESTRICT);"
		"CREATE TABLE owned (id {{ID}},"
		" parent_id BIGINT NOT NULL REFERENCES parent (id) ON DELETE CASCADE);"
		"CREATE TABLE loose (id {{ID}},"
		" parent_id BIGINT REFERENCES parent (id) ON DELETE SET NULL);"));
	int64_t p1, p2;
	const char *add = "INSERT INTO parent (name) VALUES ($1) RETURNING id";
	must(db, db_query_int(db, add, DB_PARAMS(DB_T("p1")), &p1));
	must(db, db_query_int(db, add, DB_PARAMS(DB_T("p2")), &p2));

	/* A missing parent. */
	assert_int_equal(db_exec(db, "INSERT INTO kept (parent_id) VALUES ($1)",
				 DB_PARAMS(DB_I(p2 + 1000))),
			 -ENOENT);
	assert_true(db_errmsg(db)[0] != '\0');
	must(db, db_exec(db, "INSERT INTO kept (parent_id) VALUES ($1)", DB_PARAMS(DB_I(p1))));
	assert_int_equal(db_exec(db, "UPDATE kept SET parent_id = $1", DB_PARAMS(DB_I(p2 + 1000))),
			 -ENOENT);
	/* A parent still referenced. */
	assert_int_equal(db_exec(db, "DELETE FROM parent WHERE id = $1", DB_PARAMS(DB_I(p1))),
			 -ENOTEMPTY);
	/* Cascades and SET NULL (SQLite enforces keys: foreign_keys=ON). */
	must(db, db_exec(db, "INSERT INTO owned (parent_id) VALUES ($1)", DB_PARAMS(DB_I(p2))));
	must(db, db_exec(db, "INSERT INTO loose (parent_id) VALUES ($1)", DB_PARAMS(DB_I(p2))));
	assert_int_equal(db_exec(db, "DELETE FROM parent WHERE id = $1", DB_PARAMS(DB_I(p2))), 1);
	assert_int_equal(count(db, "SELECT COUNT(*) FROM owned"), 0);
	assert_int_equal(count(db, "SELECT COUNT(*) FROM loose WHERE parent_id IS NULL"), 1);
}

static void test_sql_errors(void **state)
{
	struct db *db = ((struct env *)*state)->db;
	assert_int_equal(db_exec(db, "SELEC 1", NULL, 0), -EIO);
	assert_true(db_errmsg(db)[0] != '\0');
	struct db_rows *rows;
	assert_int_equal(db_query(db, "SELECT * FROM no_such_table", NULL, 0, &rows), -EIO);
	assert_int_equal(db_exec_script(db, "CREATE TABLE a (x BIGINT); CREATE TABLE ("), -EIO);
	assert_int_equal(db_exec_script(db, "CREATE TABLE b (x {{NOPE}})"), -EINVAL);
	assert_int_equal(count(db, "SELECT 1"), 1);
}

static void test_transactions(void **state)
{
	struct db *db = ((struct env *)*state)->db;
	must(db, db_exec(db, "CREATE TABLE t (x BIGINT PRIMARY KEY)", NULL, 0));
	assert_false(db_in_transaction(db));
	assert_int_equal(db_commit(db), -EINVAL);
	assert_int_equal(db_rollback(db), 0);

	must(db, db_begin(db));
	assert_true(db_in_transaction(db));
	assert_int_equal(db_begin(db), -EINVAL);
	must(db, db_exec(db, "INSERT INTO t VALUES ($1)", DB_PARAMS(DB_I(1))));
	must(db, db_rollback(db));
	assert_false(db_in_transaction(db));
	assert_int_equal(count(db, "SELECT COUNT(*) FROM t"), 0);

	must(db, db_begin(db));
	must(db, db_exec(db, "INSERT INTO t VALUES ($1)", DB_PARAMS(DB_I(1))));
	must(db, db_exec(db, "INSERT INTO t VALUES ($1)", DB_PARAMS(DB_I(2))));
	must(db, db_commit(db));
	assert_false(db_in_transaction(db));
	assert_int_equal(count(db, "SELECT COUNT(*) FROM t"), 2);

	/* A failure inside, then a rollback: nothing of it stays. */
	must(db, db_begin(db));
	must(db, db_exec(db, "INSERT INTO t VALUES ($1)", DB_PARAMS(DB_I(3))));
	assert_int_equal(db_exec(db, "INSERT INTO t VALUES ($1)", DB_PARAMS(DB_I(1))), -EEXIST);
	must(db, db_rollback(db));
	assert_int_equal(count(db, "SELECT COUNT(*) FROM t"), 2);

	/* A failure, then a commit: PostgreSQL has spoilt the transaction
	 * and rolls it back; SQLite undid the failed statement only. */
	must(db, db_begin(db));
	must(db, db_exec(db, "INSERT INTO t VALUES ($1)", DB_PARAMS(DB_I(3))));
	assert_int_equal(db_exec(db, "INSERT INTO t VALUES ($1)", DB_PARAMS(DB_I(1))), -EEXIST);
	if (backend == DB_POSTGRES) {
		assert_int_equal(db_commit(db), -EIO);
		assert_false(db_in_transaction(db));
		assert_int_equal(count(db, "SELECT COUNT(*) FROM t"), 2);
	} else {
		must(db, db_commit(db));
		assert_int_equal(count(db, "SELECT COUNT(*) FROM t"), 3);
	}

	/* Another connection sees committed rows only. */
	struct db *other = open_url(((struct env *)*state)->url);
	must(db, db_begin(db));
	must(db, db_exec(db, "INSERT INTO t VALUES ($1)", DB_PARAMS(DB_I(10))));
	int64_t n;
	must(other, db_query_int(other, "SELECT COUNT(*) FROM t WHERE x = 10", NULL, 0, &n));
	assert_int_equal(n, 0);
	must(db, db_commit(db));
	must(other, db_query_int(other, "SELECT COUNT(*) FROM t WHERE x = 10", NULL, 0, &n));
	assert_int_equal(n, 1);
	db_close(other);
}

/* ---- the statement cache */

static void test_statement_cache(void **state)
{
	struct db *db = ((struct env *)*state)->db;
	must(db, db_exec(db, "CREATE TABLE t (i BIGINT, s TEXT)", NULL, 0));
	struct db_stats before, after;
	db_get_stats(db, &before);
	const char *insert = "INSERT INTO t (i, s) VALUES ($1, $2)";
	char text[32];
	for (int i = 0; i < 500; i++) {
		snprintf(text, sizeof(text), "row %d", i);
		assert_int_equal(db_exec(db, insert, DB_PARAMS(DB_I(i), DB_T(text))), 1);
	}
	db_get_stats(db, &after);
	if (backend == DB_SQLITE) {
		assert_int_equal(after.prepared - before.prepared, 1);
		assert_int_equal(after.reused - before.reused, 499);
	}
	assert_int_equal(count(db, "SELECT COUNT(*) FROM t"), 500);
	must(db, db_query_int(db, "SELECT SUM(i) FROM t WHERE s LIKE $1", DB_PARAMS(DB_T("row 4%")),
			      &(int64_t){ 0 }));

	/* More distinct statements than the cache holds. */
	db_get_stats(db, &before);
	for (int round = 0; round < 2; round++) {
		for (int k = 0; k < 2 * DB_STMT_CACHE_SIZE + 10; k++) {
			char sql[80];
			snprintf(sql, sizeof(sql), "SELECT i + %d FROM t WHERE i = $1", k);
			int64_t v;
			must(db, db_query_int(db, sql, DB_PARAMS(DB_I(k)), &v));
			assert_int_equal(v, 2 * k);
		}
	}
	db_get_stats(db, &after);
	if (backend == DB_SQLITE) {
		assert_true(after.evicted - before.evicted >= DB_STMT_CACHE_SIZE);
		assert_int_equal(after.prepared - before.prepared,
				 2 * (2 * DB_STMT_CACHE_SIZE + 10));
	}
	/* The first statement was evicted and comes back. */
	assert_int_equal(db_exec(db, insert, DB_PARAMS(DB_I(1000), DB_T("again"))), 1);

	/* The same SQL while its rows are still open: two independent runs. */
	const char *select = "SELECT i FROM t WHERE i < $1 ORDER BY i";
	struct db_rows *outer, *inner;
	must(db, db_query(db, select, DB_PARAMS(DB_I(3)), &outer));
	assert_true(db_rows_next(outer));
	assert_int_equal(db_col_int(outer, 0), 0);
	must(db, db_query(db, select, DB_PARAMS(DB_I(2)), &inner));
	int64_t expect = 0;
	while (db_rows_next(inner))
		assert_int_equal(db_col_int(inner, 0), expect++);
	assert_int_equal(expect, 2);
	db_rows_free(inner);
	assert_true(db_rows_next(outer));
	assert_int_equal(db_col_int(outer, 0), 1);
	assert_true(db_rows_next(outer));
	assert_int_equal(db_col_int(outer, 0), 2);
	assert_false(db_rows_next(outer));
	db_rows_free(outer);
	/* Freed early, before the end of its rows. */
	must(db, db_query(db, select, DB_PARAMS(DB_I(100)), &outer));
	assert_true(db_rows_next(outer));
	db_rows_free(outer);

	/* A cached statement follows a change of the table. */
	const char *star = "SELECT * FROM t WHERE i = $1";
	must(db, db_query(db, star, DB_PARAMS(DB_I(1)), &outer));
	assert_int_equal(db_col_count(outer), 2);
	db_rows_free(outer);
	must(db, db_exec(db, "ALTER TABLE t ADD COLUMN extra BIGINT", NULL, 0));
	must(db, db_query(db, star, DB_PARAMS(DB_I(1)), &outer));
	assert_int_equal(db_col_count(outer), 3);
	assert_true(db_rows_next(outer));
	assert_true(db_col_is_null(outer, 2));
	db_rows_free(outer);

	/* Many rows read as their types. */
	int64_t rows_read = 0, sum = 0;
	must(db, db_query(db, "SELECT i, s FROM t WHERE i < 500 ORDER BY i", NULL, 0, &outer));
	while (db_rows_next(outer)) {
		assert_int_equal(db_col_int(outer, 0), rows_read);
		snprintf(text, sizeof(text), "row %d", (int)rows_read);
		assert_string_equal(db_col_text(outer, 1), text);
		sum += db_col_int(outer, 0);
		rows_read++;
	}
	assert_int_equal(db_rows_error(outer), 0);
	db_rows_free(outer);
	assert_int_equal(rows_read, 500);
	assert_int_equal(sum, 499 * 500 / 2);
}

static void test_sqlite_specifics(void **state)
{
	if (backend != DB_SQLITE)
		skip();
	struct db *db = ((struct env *)*state)->db;
	/* Placeholders other than $N, and several statements in one call. */
	assert_int_equal(db_exec(db, "SELECT ?", DB_PARAMS(DB_I(1))), -EINVAL);
	assert_int_equal(db_exec(db, "SELECT :x", DB_PARAMS(DB_I(1))), -EINVAL);
	assert_int_equal(db_exec(db, "SELECT $0", DB_PARAMS(DB_I(1))), -EINVAL);
	assert_int_equal(db_exec(db, "SELECT 1; SELECT 2", NULL, 0), -EINVAL);
	assert_int_equal(db_exec(db, "  -- nothing\n", NULL, 0), -EINVAL);
	/* A trailing semicolon and comment are fine. */
	assert_int_equal(db_exec(db, "SELECT 1; -- done\n", NULL, 0), 0);
	int64_t v = 0;
	must(db, db_query_int(db, "PRAGMA foreign_keys", NULL, 0, &v));
	assert_int_equal(v, 1);
	struct db_rows *rows;
	must(db, db_query(db, "PRAGMA journal_mode", NULL, 0, &rows));
	assert_true(db_rows_next(rows));
	assert_string_equal(db_col_text(rows, 0), "wal");
	db_rows_free(rows);
}

static void test_pg_reconnect(void **state)
{
	if (backend != DB_POSTGRES)
		skip();
	struct db *db = ((struct env *)*state)->db;
	must(db, db_exec(db, "CREATE TABLE t (x BIGINT)", NULL, 0));
	/* The server ends our session, as a restart would. */
	assert_int_equal(db_exec(db, "SELECT pg_terminate_backend(pg_backend_pid())", NULL, 0),
			 -ENOTCONN);
	assert_true(db_errmsg(db)[0] != '\0');
	/* The next call reconnects. */
	assert_int_equal(db_exec(db, "INSERT INTO t VALUES ($1)", DB_PARAMS(DB_I(1))), 1);
	assert_int_equal(count(db, "SELECT COUNT(*) FROM t"), 1);
	/* Lost inside a transaction: nothing runs until the rollback. */
	must(db, db_begin(db));
	must(db, db_exec(db, "INSERT INTO t VALUES ($1)", DB_PARAMS(DB_I(5))));
	assert_int_equal(db_exec(db, "SELECT pg_terminate_backend(pg_backend_pid())", NULL, 0),
			 -ENOTCONN);
	assert_true(db_in_transaction(db));
	assert_int_equal(db_exec(db, "INSERT INTO t VALUES ($1)", DB_PARAMS(DB_I(6))), -EIO);
	assert_int_equal(db_commit(db), -EIO);
	assert_int_equal(db_begin(db), -EINVAL);
	must(db, db_rollback(db));
	assert_false(db_in_transaction(db));
	assert_int_equal(count(db, "SELECT COUNT(*) FROM t"), 1);

	/* A serialization failure is -EBUSY (retry). */
	struct db *other = open_url(((struct env *)*state)->url);
	must(db, db_exec(db, "BEGIN ISOLATION LEVEL SERIALIZABLE", NULL, 0));
	assert_int_equal(count(db, "SELECT COUNT(*) FROM t"), 1);
	must(other, db_exec(other, "UPDATE t SET x = 2", NULL, 0));
	assert_int_equal(db_exec(db, "UPDATE t SET x = 3", NULL, 0), -EBUSY);
	must(db, db_rollback(db));
	db_close(other);
}

/* ---- several connections */

struct writer {
	const char *url;
	int id;
	int n;
	int failures;
	int first_error;
	char errmsg[256];
};

static void *writer_main(void *arg)
{
	struct writer *w = arg;
	struct db *db;
	if (db_open(&db, w->url, w->errmsg, sizeof(w->errmsg)) < 0) {
		w->failures = w->n;
		return NULL;
	}
	for (int i = 0; i < w->n; i++) {
		int r;
		if (i % 10 == 0) {
			/* A few small transactions among the single inserts. */
			r = db_begin(db);
			if (r == 0)
				r = db_exec(db, "INSERT INTO t (w, i) VALUES ($1, $2)",
					    DB_PARAMS(DB_I(w->id), DB_I(i)));
			if (r >= 0)
				r = db_commit(db);
			if (r < 0)
				db_rollback(db);
		} else {
			r = db_exec(db, "INSERT INTO t (w, i) VALUES ($1, $2)",
				    DB_PARAMS(DB_I(w->id), DB_I(i)));
		}
		if (r < 0) {
			if (!w->failures++) {
				w->first_error = r;
				snprintf(w->errmsg, sizeof(w->errmsg), "%s", db_errmsg(db));
			}
		}
	}
	db_close(db);
	return NULL;
}

static void test_concurrent_writers(void **state)
{
	struct env *env = *state;
	must(env->db, db_exec_script(env->db, "CREATE TABLE t (id {{ID}}, w BIGINT, i BIGINT)"));
	struct writer w[2] = {
		{ .url = env->url, .id = 1, .n = 300 },
		{ .url = env->url, .id = 2, .n = 300 },
	};
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, writer_main, &w[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	for (int i = 0; i < 2; i++) {
		if (w[i].failures)
			fprintf(stderr, "writer %d: %d failures, first %d: %s\n", w[i].id,
				w[i].failures, w[i].first_error, w[i].errmsg);
		assert_int_equal(w[i].failures, 0);
	}
	assert_int_equal(count(env->db, "SELECT COUNT(*) FROM t"), 600);
	assert_int_equal(count(env->db, "SELECT COUNT(DISTINCT i) FROM t WHERE w = 2"), 300);
}

struct blocked {
	const char *url;
	int result;
	char errmsg[256];
};

static void *blocked_main(void *arg)
{
	struct blocked *b = arg;
	struct db *db;
	b->result = db_open(&db, b->url, b->errmsg, sizeof(b->errmsg));
	if (b->result < 0)
		return NULL;
	b->result = db_exec(db, "INSERT INTO t (x) VALUES ($1)", DB_PARAMS(DB_I(2)));
	if (b->result < 0)
		snprintf(b->errmsg, sizeof(b->errmsg), "%s", db_errmsg(db));
	db_close(db);
	return NULL;
}

static void test_busy_wait(void **state)
{
	struct env *env = *state;
	must(env->db, db_exec(env->db, "CREATE TABLE t (x BIGINT)", NULL, 0));
	/* Hold the write lock while another connection inserts: it waits
	 * (SQLite's busy timeout) instead of failing. */
	must(env->db, db_begin(env->db));
	must(env->db, db_exec(env->db, "INSERT INTO t (x) VALUES ($1)", DB_PARAMS(DB_I(1))));
	struct blocked b = { .url = env->url, .result = 1 };
	pthread_t th;
	assert_int_equal(pthread_create(&th, NULL, blocked_main, &b), 0);
	struct timespec ts = { .tv_sec = 0, .tv_nsec = 300 * 1000 * 1000 };
	nanosleep(&ts, NULL);
	must(env->db, db_commit(env->db));
	pthread_join(th, NULL);
	if (b.result != 1)
		fprintf(stderr, "blocked insert: %d %s\n", b.result, b.errmsg);
	assert_int_equal(b.result, 1);
	assert_int_equal(count(env->db, "SELECT COUNT(*) FROM t"), 2);
}

/* ---- migrations */

static void test_migrate(void **state)
{
	struct db *db = ((struct env *)*state)->db;
	int64_t v = -1, from = -1, to = -1;
	must(db, db_schema_version(db, &v));
	assert_int_equal(v, 0);
	must(db, db_migrate(db, &from, &to));
	assert_int_equal(from, 0);
	assert_int_equal(to, db_schema_latest());
	must(db, db_schema_version(db, &v));
	assert_int_equal(v, db_schema_latest());
	assert_int_equal(count(db, "SELECT COUNT(*) FROM schema_version"), db_schema_latest());

	/* Again: nothing to do. */
	must(db, db_migrate(db, &from, &to));
	assert_int_equal(from, db_schema_latest());
	assert_int_equal(to, db_schema_latest());

	/* The data model takes data. */
	int64_t now = time_now_us();
	int64_t user, file, show, inst;
	const char *add_user = "INSERT INTO users (name, role, created_at) VALUES ($1, $2, $3)"
			       " RETURNING id";
	must(db, db_query_int(db, add_user, DB_PARAMS(DB_T("Ann"), DB_T("host"), DB_I(now)),
			      &user));
	assert_int_equal(db_query_int(db, add_user,
				      DB_PARAMS(DB_T("ann"), DB_T("guest"), DB_I(now)), &v),
			 -EEXIST);
	assert_int_equal(db_query_int(db, add_user,
				      DB_PARAMS(DB_T("bob"), DB_T("emperor"), DB_I(now)), &v),
			 -EINVAL);
	must(db, db_exec(db, "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at,"
			     " expires_at) VALUES ($1, $2, $3, $4, $5)",
			 DB_PARAMS(DB_T("h1"), DB_I(user), DB_T("c"), DB_I(now), DB_I(now + 1))));
	must(db, db_query_int(db, "INSERT INTO files (content_hash, size, mime, storage_key,"
				  " created_at, updated_at, title, artist, duration_us,"
				  " loudness_lufs, uploaded_by)"
				  " VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10)"
				  " RETURNING id",
			      DB_PARAMS(DB_T("sha256:00"), DB_I(1234), DB_T("audio/mpeg"),
					DB_T("00/00"), DB_I(now), DB_T("Title"), DB_T("Artist"),
					DB_I(180 * USEC_PER_SEC), DB_R(-14.2), DB_I(user)),
			      &file));
	must(db, db_query_int(db, "INSERT INTO shows (name, created_at, updated_at)"
				  " VALUES ($1, $2, $2) RETURNING id",
			      DB_PARAMS(DB_T("Morning"), DB_I(now)), &show));
	must(db, db_query_int(db, "INSERT INTO show_instances (show_id, starts_at, ends_at,"
				  " created_at, updated_at) VALUES ($1, $2, $3, $4, $4)"
				  " RETURNING id",
			      DB_PARAMS(DB_I(show), DB_I(now), DB_I(now + 3600 * USEC_PER_SEC),
					DB_I(now)),
			      &inst));
	must(db, db_exec(db, "INSERT INTO schedule_items (instance_id, position, starts_at,"
			     " ends_at, kind, file_id) VALUES ($1, 0, $2, $3, 'file', $4)",
			 DB_PARAMS(DB_I(inst), DB_I(now), DB_I(now + 180 * USEC_PER_SEC),
				   DB_I(file))));
	/* A file item needs its file; a scheduled file cannot go. */
	assert_int_equal(db_exec(db, "INSERT INTO schedule_items (instance_id, position, starts_at,"
				     " ends_at, kind) VALUES ($1, 1, $2, $3, 'file')",
				 DB_PARAMS(DB_I(inst), DB_I(now), DB_I(now + 1))),
			 -EINVAL);
	assert_int_equal(db_exec(db, "DELETE FROM files WHERE id = $1", DB_PARAMS(DB_I(file))),
			 -ENOTEMPTY);
	/* Deleting the user ends their sessions and keeps their upload. */
	assert_int_equal(db_exec(db, "DELETE FROM users WHERE id = $1", DB_PARAMS(DB_I(user))), 1);
	assert_int_equal(count(db, "SELECT COUNT(*) FROM sessions"), 0);
	assert_int_equal(count(db, "SELECT COUNT(*) FROM files WHERE uploaded_by IS NULL"), 1);
	/* as_run stores an event once. */
	const char *as_run = "INSERT INTO as_run (playout_instance, event_seq, file_id, started_at,"
			     " source) VALUES ($1, $2, $3, $4, $5)";
	must(db, db_exec(db, as_run, DB_PARAMS(DB_T("main"), DB_I(7), DB_I(file), DB_I(now),
					       DB_T("schedule"))));
	assert_int_equal(db_exec(db, as_run, DB_PARAMS(DB_T("main"), DB_I(7), DB_I(file),
						       DB_I(now), DB_T("schedule"))),
			 -EEXIST);
	/* Booleans and the settings row. */
	struct db_rows *rows;
	must(db, db_query(db, "SELECT name, timezone, loudness_target_lufs FROM station_settings",
			  NULL, 0, &rows));
	assert_true(db_rows_next(rows));
	assert_string_equal(db_col_text(rows, 1), "UTC");
	assert_true(db_col_real(rows, 2) == -16.0);
	db_rows_free(rows);
	must(db, db_query_int(db, add_user, DB_PARAMS(DB_T("cy"), DB_T("admin"), DB_I(now)),
			      &user));
	assert_int_equal(db_exec(db, "UPDATE users SET disabled = $1 WHERE id = $2",
				 DB_PARAMS(DB_B(true), DB_I(user))),
			 1);
	assert_int_equal(count(db, "SELECT COUNT(*) FROM users WHERE disabled"), 1);
	must(db, db_query(db, "SELECT disabled FROM users WHERE id = $1", DB_PARAMS(DB_I(user)),
			  &rows));
	assert_true(db_rows_next(rows));
	assert_true(db_col_bool(rows, 0));
	db_rows_free(rows);

	/* A database from a newer onair is refused, and left alone. */
	must(db, db_exec(db, "INSERT INTO schema_version (version, name, applied_at)"
			     " VALUES ($1, $2, $3)",
			 DB_PARAMS(DB_I(db_schema_latest() + 1), DB_T("future"), DB_I(now))));
	assert_int_equal(db_migrate(db, &from, &to), -EPROTO);
	assert_int_equal(from, db_schema_latest() + 1);
	assert_non_null(strstr(db_errmsg(db), "newer"));
	must(db, db_schema_version(db, &v));
	assert_int_equal(v, db_schema_latest() + 1);
}

static void test_migration_failure(void **state)
{
	struct db *db = ((struct env *)*state)->db;
	static const char *const one[] = { "CREATE TABLE m1 (id {{ID}}, x BIGINT)", NULL };
	static const char *const two_bad[] = {
		"CREATE TABLE m2 (x BIGINT);",
		"INSERT INTO m2 VALUES (1); CREATE TABLE m2bad (",
		NULL,
	};
	static const char *const two[] = { "CREATE TABLE m2 (x BIGINT)", NULL };
	static const char *const three[] = { "ALTER TABLE m2 ADD COLUMN y TEXT", NULL };
	const struct db_migration bad[] = { { 1, "one", one }, { 2, "two", two_bad } };
	const struct db_migration good[] = {
		{ 1, "one", one }, { 2, "two", two }, { 3, "three", three },
	};

	int64_t from = -1, to = -1, v;
	assert_int_equal(db_migrate_list(db, bad, 2, &from, &to), -EIO);
	assert_int_equal(from, 0);
	assert_int_equal(to, 1);
	assert_non_null(strstr(db_errmsg(db), "migration 2 (two)"));
	assert_false(db_in_transaction(db));
	must(db, db_schema_version(db, &v));
	assert_int_equal(v, 1);
	/* Migration 2 left nothing behind. */
	assert_int_equal(db_exec(db, "SELECT * FROM m2", NULL, 0), -EIO);
	must(db, db_exec(db, "SELECT * FROM m1", NULL, 0));

	must(db, db_migrate_list(db, good, 3, &from, &to));
	assert_int_equal(from, 1);
	assert_int_equal(to, 3);
	must(db, db_exec(db, "INSERT INTO m2 (x, y) VALUES (1, 'y')", NULL, 0));

	/* Lists out of order, and migrating inside a transaction. */
	const struct db_migration unordered[] = { { 2, "two", two }, { 1, "one", one } };
	assert_int_equal(db_migrate_list(db, unordered, 2, NULL, NULL), -EINVAL);
	must(db, db_begin(db));
	assert_int_equal(db_migrate(db, NULL, NULL), -EINVAL);
	must(db, db_rollback(db));
}

struct migrator {
	const char *url;
	int result;
	int64_t from, to;
	char errmsg[256];
};

static void *migrator_main(void *arg)
{
	struct migrator *m = arg;
	struct db *db;
	m->result = db_open(&db, m->url, m->errmsg, sizeof(m->errmsg));
	if (m->result < 0)
		return NULL;
	m->result = db_migrate(db, &m->from, &m->to);
	if (m->result < 0)
		snprintf(m->errmsg, sizeof(m->errmsg), "%s", db_errmsg(db));
	db_close(db);
	return NULL;
}

static void test_concurrent_migrate(void **state)
{
	struct env *env = *state;
	struct migrator m[3];
	pthread_t th[3];
	for (int i = 0; i < 3; i++) {
		m[i] = (struct migrator){ .url = env->url, .result = 1 };
		assert_int_equal(pthread_create(&th[i], NULL, migrator_main, &m[i]), 0);
	}
	for (int i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	int from_empty = 0;
	for (int i = 0; i < 3; i++) {
		if (m[i].result != 0)
			fprintf(stderr, "migrator %d: %d %s\n", i, m[i].result, m[i].errmsg);
		assert_int_equal(m[i].result, 0);
		assert_int_equal(m[i].to, db_schema_latest());
		from_empty += m[i].from == 0;
	}
	assert_true(from_empty >= 1);
	int64_t v;
	must(env->db, db_schema_version(env->db, &v));
	assert_int_equal(v, db_schema_latest());
	assert_int_equal(count(env->db, "SELECT COUNT(*) FROM schema_version"), db_schema_latest());
}

int main(int argc, char **argv)
{
	if (argc != 2 || (strcmp(argv[1], "sqlite") != 0 && strcmp(argv[1], "postgres") != 0)) {
		fprintf(stderr, "usage: %s sqlite|postgres\n", argv[0]);
		return 2;
	}
	backend = strcmp(argv[1], "sqlite") == 0 ? DB_SQLITE : DB_POSTGRES;
	if (harness_tmpdir(tmpdir, sizeof(tmpdir)) < 0)
		return 1;
	if (backend == DB_POSTGRES && harness_pg_start(&pg) < 0)
		return 1;

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_open_close),
		T(test_bad_urls),
		T(test_param_types),
		T(test_numeric_values),
		T(test_param_numbering),
		T(test_invalid_utf8),
		T(test_injection_strings),
		T(test_returning_and_changes),
		T(test_constraint_errors),
		T(test_foreign_keys),
		T(test_sql_errors),
		T(test_transactions),
		T(test_statement_cache),
		T(test_sqlite_specifics),
		T(test_pg_reconnect),
		T(test_concurrent_writers),
		T(test_busy_wait),
		T(test_migrate),
		T(test_migration_failure),
		T(test_concurrent_migrate),
	};
#undef T
	int failed = cmocka_run_group_tests_name(backend == DB_SQLITE ? "db-sqlite" : "db-postgres",
						 tests, NULL, NULL);
	if (backend == DB_POSTGRES)
		harness_pg_stop(&pg);
	return failed ? 1 : 0;
}
