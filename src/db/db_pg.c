/*
 * db_pg.c - the PostgreSQL backend (libpq); see db.h.
 *
 * Each statement goes through PQexecParams with typed parameters and
 * binary results:
 *   - DB_INT, DB_REAL, DB_BOOL and DB_BLOB are sent in binary as int8,
 *     float8, bool and bytea (no formatting, no escaping of bytes);
 *     DB_TEXT is sent as text (type text); DB_NULL has no type, so the
 *     server takes it from the context ("x = $1" gets x's type);
 *   - every result column comes back in binary, so integers and floats are
 *     read by swapping bytes, never by parsing text. Conversions to text
 *     (db_col_text on a number) are formatted into a per-column buffer
 *     that lives until the next row.
 * The whole result of a query is held in memory (a PGresult).
 *
 * A connection found broken (server restart, network) fails its call with
 * -ENOTCONN; the next call resets it once (PQreset) before running.
 */
#include "db/db_internal.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <libpq-fe.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/log.h"

/* Type OIDs (catalog/pg_type.h, stable across versions). */
#define OID_BOOL 16
#define OID_BYTEA 17
#define OID_CHAR 18
#define OID_NAME 19
#define OID_INT8 20
#define OID_INT2 21
#define OID_INT4 23
#define OID_TEXT 25
#define OID_OID 26
#define OID_JSON 114
#define OID_FLOAT4 700
#define OID_FLOAT8 701
#define OID_UNKNOWN 705
#define OID_BPCHAR 1042
#define OID_VARCHAR 1043
#define OID_NUMERIC 1700
#define OID_JSONB 3802

#define MIN_SERVER_VERSION 100000	/* identity columns */
#define INLINE_PARAMS 16
#define NUMERIC_TEXT_MAX (1u << 20)

struct db_pg {
	struct db base;
	PGconn *conn;
};

struct rows_pg {
	struct db_rows base;
	PGresult *res;
	int nrows;
	int row;		/* current row; -1 before the first */
	char **conv;		/* [ncols]: text made for the current row, or NULL */
};

/* Parameters as libpq wants them; inline storage for the usual few. */
struct pg_params {
	Oid *types;
	const char **values;
	int *lengths;
	int *formats;
	uint64_t *words;	/* big-endian int8/float8 bodies */
	Oid types_in[INLINE_PARAMS];
	const char *values_in[INLINE_PARAMS];
	int lengths_in[INLINE_PARAMS];
	int formats_in[INLINE_PARAMS];
	uint64_t words_in[INLINE_PARAMS];
	bool heap;
};

static const struct db_ops pg_ops;

static const char bool_true = 1, bool_false = 0;

static struct db_pg *to_pg(struct db *db)
{
	return (struct db_pg *)db;
}

static void notice_to_log(void *arg, const char *message)
{
	size_t len = strlen(message);
	while (len > 0 && message[len - 1] == '\n')
		len--;
	log_debug("db", "postgresql: %.*s", (int)len, message);
}

/* ---- errors */

static int map_sqlstate(const char *state, const char *sql)
{
	if (!state || strlen(state) != 5)
		return -EIO;
	if (strcmp(state, "23505") == 0)
		return -EEXIST;
	if (strcmp(state, "23503") == 0)
		return db_fk_error(sql);
	if (strncmp(state, "23", 2) == 0 || strncmp(state, "22", 2) == 0)
		return -EINVAL;	/* integrity constraint, data exception */
	if (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0 ||
	    strcmp(state, "55P03") == 0)
		return -EBUSY;	/* serialization failure, deadlock, lock not available */
	if (strcmp(state, "08P01") == 0)
		return -EINVAL;	/* protocol violation: wrong number of parameters */
	if (strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
	    strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0)
		return -ENOTCONN;	/* connection exception, server shutting down */
	if (strncmp(state, "28", 2) == 0 || strcmp(state, "42501") == 0)
		return -EACCES;
	if (strcmp(state, "53100") == 0)
		return -ENOSPC;
	if (strcmp(state, "57014") == 0)
		return -ECANCELED;	/* statement timeout, cancel request */
	return -EIO;
}

/* The error of a failed res (may be NULL), with its message recorded. */
static int result_error(struct db_pg *d, PGresult *res, const char *sql)
{
	if (!res || PQstatus(d->conn) == CONNECTION_BAD) {
		db_set_error(&d->base, "%s", PQerrorMessage(d->conn));
		if (PQstatus(d->conn) == CONNECTION_BAD)
			return -ENOTCONN;
		if (!res)
			return -ENOMEM;
	}
	const char *primary = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	if (primary)
		db_set_error(&d->base, "%s%s%s%s", primary, detail ? " (" : "",
			     detail ? detail : "", detail ? ")" : "");
	else
		db_set_error(&d->base, "%s", PQresultErrorMessage(res));
	return map_sqlstate(PQresultErrorField(res, PG_DIAG_SQLSTATE), sql);
}

/* Reset a connection found broken by an earlier call, once per call. */
static int ensure_connected(struct db_pg *d)
{
	if (PQstatus(d->conn) == CONNECTION_OK)
		return 0;
	PQreset(d->conn);
	if (PQstatus(d->conn) == CONNECTION_OK) {
		log_info("db", "reconnected to PostgreSQL");
		return 0;
	}
	db_set_error(&d->base, "PostgreSQL connection lost: %s", PQerrorMessage(d->conn));
	return -ENOTCONN;
}

/* ---- parameters */

static void params_release(struct pg_params *pp)
{
	if (!pp->heap)
		return;
	free(pp->types);
	free(pp->values);
	free(pp->lengths);
	free(pp->formats);
	free(pp->words);
}

static int params_fill(struct db_pg *d, struct pg_params *pp, const struct db_param *p, size_t n)
{
	if (n > INT_MAX) {
		db_set_error(&d->base, "too many parameters");
		return -EINVAL;
	}
	pp->heap = n > INLINE_PARAMS;
	if (pp->heap) {
		pp->types = xcalloc(n, sizeof(Oid));
		pp->values = xcalloc(n, sizeof(char *));
		pp->lengths = xcalloc(n, sizeof(int));
		pp->formats = xcalloc(n, sizeof(int));
		pp->words = xcalloc(n, sizeof(uint64_t));
	} else {
		pp->types = pp->types_in;
		pp->values = pp->values_in;
		pp->lengths = pp->lengths_in;
		pp->formats = pp->formats_in;
		pp->words = pp->words_in;
	}
	for (size_t i = 0; i < n; i++) {
		pp->lengths[i] = 0;
		pp->formats[i] = 1;
		switch (p[i].type) {
		case DB_INT:
			pp->types[i] = OID_INT8;
			pp->words[i] = htobe64((uint64_t)p[i].v.i);
			pp->values[i] = (const char *)&pp->words[i];
			pp->lengths[i] = 8;
			break;
		case DB_REAL: {
			uint64_t bits;
			memcpy(&bits, &p[i].v.r, sizeof(bits));
			pp->types[i] = OID_FLOAT8;
			pp->words[i] = htobe64(bits);
			pp->values[i] = (const char *)&pp->words[i];
			pp->lengths[i] = 8;
			break;
		}
		case DB_BOOL:
			pp->types[i] = OID_BOOL;
			pp->values[i] = p[i].v.b ? &bool_true : &bool_false;
			pp->lengths[i] = 1;
			break;
		case DB_TEXT:
			pp->types[i] = OID_TEXT;
			pp->values[i] = p[i].v.t;	/* NULL: SQL NULL */
			pp->formats[i] = 0;
			break;
		case DB_BLOB:
			if (p[i].v.blob.len > INT_MAX) {
				db_set_error(&d->base, "parameter $%zu: too many bytes", i + 1);
				params_release(pp);
				return -EINVAL;
			}
			pp->types[i] = OID_BYTEA;
			pp->values[i] = p[i].v.blob.len ? p[i].v.blob.data : "";
			pp->lengths[i] = (int)p[i].v.blob.len;
			break;
		default:
			pp->types[i] = 0;	/* the server infers it */
			pp->values[i] = NULL;
			pp->formats[i] = 0;
			break;
		}
	}
	return 0;
}

/* Run sql with p; on success the result (TUPLES_OK or COMMAND_OK) in
 * *out, which the caller clears. 0 or -errno. */
static int run(struct db_pg *d, const char *sql, const struct db_param *p, size_t n,
	       PGresult **out)
{
	*out = NULL;
	int r = ensure_connected(d);
	if (r < 0)
		return r;
	struct pg_params pp;
	r = params_fill(d, &pp, p, n);
	if (r < 0)
		return r;
	PGresult *res = PQexecParams(d->conn, sql, (int)n, pp.types, pp.values, pp.lengths,
				     pp.formats, 1);
	params_release(&pp);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		r = result_error(d, res, sql);
		PQclear(res);
		return r;
	}
	*out = res;
	return 0;
}

/* Rows changed by an INSERT, UPDATE or DELETE (from its command tag). */
static int changed_rows(PGresult *res)
{
	const char *tag = PQcmdStatus(res);
	if (strncmp(tag, "INSERT ", 7) != 0 && strncmp(tag, "UPDATE ", 7) != 0 &&
	    strncmp(tag, "DELETE ", 7) != 0)
		return 0;
	const char *count = PQcmdTuples(res);
	long long v = count && *count ? strtoll(count, NULL, 10) : 0;
	return v > INT_MAX ? INT_MAX : (int)v;
}

static int pg_exec(struct db *db, const char *sql, const struct db_param *p, size_t n)
{
	struct db_pg *d = to_pg(db);
	PGresult *res;
	int r = run(d, sql, p, n, &res);
	if (r < 0)
		return r;
	r = changed_rows(res);
	PQclear(res);
	return r;
}

static int pg_query(struct db *db, const char *sql, const struct db_param *p, size_t n,
		    struct db_rows **out)
{
	struct db_pg *d = to_pg(db);
	PGresult *res;
	int r = run(d, sql, p, n, &res);
	if (r < 0)
		return r;
	struct rows_pg *rows = xcalloc(1, sizeof(*rows));
	rows->base.ops = &pg_ops;
	rows->base.ncols = PQnfields(res);
	rows->res = res;
	rows->nrows = PQntuples(res);
	rows->row = -1;
	*out = &rows->base;
	return 0;
}

/* ---- rows */

static void conv_clear(struct rows_pg *rows)
{
	if (!rows->conv)
		return;
	for (int i = 0; i < rows->base.ncols; i++) {
		free(rows->conv[i]);
		rows->conv[i] = NULL;
	}
}

/* Keep text made for col until the next row; returns it. */
static const char *conv_keep(struct rows_pg *rows, int col, char *text)
{
	if (!rows->conv)
		rows->conv = xcalloc((size_t)rows->base.ncols, sizeof(char *));
	free(rows->conv[col]);
	rows->conv[col] = text;
	return text;
}

static bool pg_next(struct db_rows *base)
{
	struct rows_pg *rows = (struct rows_pg *)base;
	conv_clear(rows);
	if (rows->row + 1 >= rows->nrows) {
		rows->row = rows->nrows;
		return false;
	}
	rows->row++;
	return true;
}

static void pg_rows_free(struct db_rows *base)
{
	struct rows_pg *rows = (struct rows_pg *)base;
	conv_clear(rows);
	free(rows->conv);
	PQclear(rows->res);
	free(rows);
}

static bool known_type(Oid t)
{
	switch (t) {
	case OID_BOOL:
	case OID_BYTEA:
	case OID_CHAR:
	case OID_NAME:
	case OID_INT8:
	case OID_INT2:
	case OID_INT4:
	case OID_TEXT:
	case OID_OID:
	case OID_JSON:
	case OID_FLOAT4:
	case OID_FLOAT8:
	case OID_UNKNOWN:
	case OID_BPCHAR:
	case OID_VARCHAR:
	case OID_NUMERIC:
	case OID_JSONB:
		return true;
	default:
		return false;
	}
}

/* The current row's value of col: NULL when SQL NULL, not on a row, or of
 * a type we do not decode. */
static const char *value(struct rows_pg *rows, int col, Oid *type, int *len)
{
	if (rows->row < 0 || rows->row >= rows->nrows ||
	    PQgetisnull(rows->res, rows->row, col))
		return NULL;
	*type = PQftype(rows->res, col);
	if (!known_type(*type))
		return NULL;
	*len = PQgetlength(rows->res, rows->row, col);
	return PQgetvalue(rows->res, rows->row, col);
}

static uint16_t get16(const char *v)
{
	uint16_t x;
	memcpy(&x, v, 2);
	return be16toh(x);
}

static uint32_t get32(const char *v)
{
	uint32_t x;
	memcpy(&x, v, 4);
	return be32toh(x);
}

static uint64_t get64(const char *v)
{
	uint64_t x;
	memcpy(&x, v, 8);
	return be64toh(x);
}

static double get_float8(const char *v)
{
	uint64_t bits = get64(v);
	double x;
	memcpy(&x, &bits, sizeof(x));
	return x;
}

static float get_float4(const char *v)
{
	uint32_t bits = get32(v);
	float x;
	memcpy(&x, &bits, sizeof(x));
	return x;
}

/*
 * NUMERIC's binary form as decimal text: int16 ndigits, int16 weight,
 * uint16 sign, int16 dscale, then ndigits base-10000 digits, the first
 * worth 10000^weight. NULL when malformed.
 */
static char *numeric_text(const char *v, int len)
{
	if (len < 8)
		return NULL;
	int ndigits = (int16_t)get16(v);
	int weight = (int16_t)get16(v + 2);
	uint16_t sign = get16(v + 4);
	int dscale = (int16_t)get16(v + 6);
	if (ndigits < 0 || dscale < 0 || len < 8 + 2 * ndigits)
		return NULL;
	if (sign == 0xc000)
		return xstrdup("NaN");
	if (sign == 0xd000)
		return xstrdup("Infinity");
	if (sign == 0xf000)
		return xstrdup("-Infinity");
	struct buf b;
	buf_init(&b, NUMERIC_TEXT_MAX);
	int r = 0;
	if (sign == 0x4000)
		r = buf_append_char(&b, '-');
	if (weight < 0) {
		r = r < 0 ? r : buf_append_char(&b, '0');
	} else {
		for (int i = 0; i <= weight && r == 0; i++) {
			int digit = i < ndigits ? (int16_t)get16(v + 8 + 2 * i) : 0;
			r = buf_printf(&b, i == 0 ? "%d" : "%04d", digit);
		}
	}
	if (dscale > 0 && r == 0) {
		r = buf_append_char(&b, '.');
		size_t start = b.len;
		for (int p = 0; p < dscale && r == 0; p += 4) {
			int i = weight + 1 + p / 4;
			int digit = i >= 0 && i < ndigits ? (int16_t)get16(v + 8 + 2 * i) : 0;
			r = buf_printf(&b, "%04d", digit);
		}
		if (r == 0) {
			b.len = start + (size_t)dscale;
			b.data[b.len] = '\0';
		}
	}
	if (r < 0) {
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

static int64_t real_to_int(double x)
{
	if (isnan(x))
		return 0;
	if (x >= 9223372036854775807.0)
		return INT64_MAX;
	if (x <= -9223372036854775808.0)
		return INT64_MIN;
	return (int64_t)x;
}

static bool is_text_type(Oid t)
{
	return t == OID_TEXT || t == OID_VARCHAR || t == OID_BPCHAR || t == OID_NAME ||
	       t == OID_CHAR || t == OID_JSON || t == OID_UNKNOWN || t == OID_BYTEA;
}

static bool pg_is_null(struct db_rows *base, int col)
{
	Oid t;
	int len;
	return value((struct rows_pg *)base, col, &t, &len) == NULL;
}

static int64_t pg_col_int(struct db_rows *base, int col)
{
	Oid t = 0;
	int len = 0;
	const char *v = value((struct rows_pg *)base, col, &t, &len);
	if (!v)
		return 0;
	switch (t) {
	case OID_INT8:
		return len == 8 ? (int64_t)get64(v) : 0;
	case OID_INT4:
		return len == 4 ? (int32_t)get32(v) : 0;
	case OID_INT2:
		return len == 2 ? (int16_t)get16(v) : 0;
	case OID_OID:
		return len == 4 ? get32(v) : 0;
	case OID_BOOL:
		return len == 1 && v[0] ? 1 : 0;
	case OID_FLOAT8:
		return len == 8 ? real_to_int(get_float8(v)) : 0;
	case OID_FLOAT4:
		return len == 4 ? real_to_int(get_float4(v)) : 0;
	case OID_NUMERIC: {
		char *text = numeric_text(v, len);
		int64_t x = text ? strtoll(text, NULL, 10) : 0;
		free(text);
		return x;
	}
	case OID_JSONB:
		return len > 0 ? strtoll(v + 1, NULL, 10) : 0;
	default:
		return strtoll(v, NULL, 10);
	}
}

static double pg_col_real(struct db_rows *base, int col)
{
	Oid t = 0;
	int len = 0;
	const char *v = value((struct rows_pg *)base, col, &t, &len);
	if (!v)
		return 0.0;
	switch (t) {
	case OID_FLOAT8:
		return len == 8 ? get_float8(v) : 0.0;
	case OID_FLOAT4:
		return len == 4 ? (double)get_float4(v) : 0.0;
	case OID_NUMERIC: {
		char *text = numeric_text(v, len);
		double x = text ? strtod(text, NULL) : 0.0;
		free(text);
		return x;
	}
	case OID_JSONB:
		return len > 0 ? strtod(v + 1, NULL) : 0.0;
	default:
		if (is_text_type(t))
			return strtod(v, NULL);
		return (double)pg_col_int(base, col);
	}
}

static const char *pg_col_text(struct db_rows *base, int col)
{
	struct rows_pg *rows = (struct rows_pg *)base;
	Oid t = 0;
	int len = 0;
	const char *v = value(rows, col, &t, &len);
	if (!v)
		return NULL;
	if (is_text_type(t))
		return v;	/* libpq NUL-terminates every value */
	if (t == OID_JSONB)
		return len > 0 ? v + 1 : "";	/* after the format version byte */
	if (rows->conv && rows->conv[col])
		return rows->conv[col];
	char num[40];
	switch (t) {
	case OID_NUMERIC:
		return conv_keep(rows, col, numeric_text(v, len));
	case OID_FLOAT8:
	case OID_FLOAT4:
		snprintf(num, sizeof(num), "%.17g", pg_col_real(base, col));
		break;
	default:	/* integers and booleans */
		snprintf(num, sizeof(num), "%" PRId64, pg_col_int(base, col));
		break;
	}
	return conv_keep(rows, col, xstrdup(num));
}

static const void *pg_col_blob(struct db_rows *base, int col, size_t *len)
{
	struct rows_pg *rows = (struct rows_pg *)base;
	Oid t = 0;
	int n = 0;
	const char *v = value(rows, col, &t, &n);
	if (!v)
		return NULL;
	if (is_text_type(t)) {
		*len = n > 0 ? (size_t)n : 0;
		return v;
	}
	const char *text = pg_col_text(base, col);
	*len = text ? strlen(text) : 0;
	return text;
}

/* ---- scripts, transactions, connection */

static int pg_exec_script(struct db *db, const char *sql)
{
	struct db_pg *d = to_pg(db);
	int r = ensure_connected(d);
	if (r < 0)
		return r;
	PGresult *res = PQexec(d->conn, sql);
	ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
	r = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK || st == PGRES_EMPTY_QUERY
		    ? 0
		    : result_error(d, res, sql);
	PQclear(res);
	return r;
}

static int pg_commit(struct db *db)
{
	struct db_pg *d = to_pg(db);
	PGresult *res;
	int r = run(d, "COMMIT", NULL, 0, &res);
	if (r < 0)
		return r;
	/* COMMIT of a transaction spoilt by an error answers "ROLLBACK". */
	if (strcmp(PQcmdStatus(res), "ROLLBACK") == 0) {
		db_set_error(&d->base, "transaction rolled back after an earlier error");
		r = -EIO;
	}
	PQclear(res);
	return r;
}

static bool pg_in_transaction(struct db *db)
{
	PGTransactionStatusType st = PQtransactionStatus(to_pg(db)->conn);
	return st == PQTRANS_INTRANS || st == PQTRANS_INERROR || st == PQTRANS_ACTIVE;
}

static void pg_close(struct db *db)
{
	PQfinish(to_pg(db)->conn);
	free(db);
}

int db_pg_open(struct db **out, const char *url, char *err, size_t errlen)
{
	char *perr = NULL;
	PQconninfoOption *opts = PQconninfoParse(url, &perr);
	if (!opts) {
		if (err && errlen > 0)
			snprintf(err, errlen, "bad PostgreSQL URL: %s",
				 perr ? perr : "out of memory");
		size_t len = err && errlen > 0 ? strlen(err) : 0;
		while (len > 0 && err[len - 1] == '\n')
			err[--len] = '\0';
		PQfreemem(perr);
		return -EINVAL;
	}
	PQconninfoFree(opts);

	/* Keywords apply in order: the URL (dbname, expanded) may override
	 * the first two, but the encoding is always UTF-8. */
	const char *const keys[] = { "fallback_application_name", "connect_timeout", "dbname",
				     "client_encoding", NULL };
	const char *const values[] = { "onair", "10", url, "UTF8", NULL };
	struct db_pg *d = xcalloc(1, sizeof(*d));
	d->base.ops = &pg_ops;
	d->base.backend = DB_POSTGRES;
	d->conn = PQconnectdbParams(keys, values, 1);
	int r;
	if (!d->conn) {
		r = -ENOMEM;
		goto out_free;
	}
	if (PQstatus(d->conn) != CONNECTION_OK) {
		if (err && errlen > 0)
			snprintf(err, errlen, "cannot connect to PostgreSQL: %s",
				 PQerrorMessage(d->conn));
		r = -ECONNREFUSED;
		goto out_finish;
	}
	if (PQserverVersion(d->conn) < MIN_SERVER_VERSION) {
		if (err && errlen > 0)
			snprintf(err, errlen, "PostgreSQL %d is too old: onair needs 10 or later",
				 PQserverVersion(d->conn) / 10000);
		r = -EPROTONOSUPPORT;
		goto out_finish;
	}
	PQsetNoticeProcessor(d->conn, notice_to_log, NULL);
	*out = &d->base;
	return 0;

out_finish:
	if (err && errlen > 0) {
		size_t len = strlen(err);
		while (len > 0 && err[len - 1] == '\n')
			err[--len] = '\0';
	}
	PQfinish(d->conn);
out_free:
	free(d);
	return r;
}

static const struct db_ops pg_ops = {
	.id_type = "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY",
	.blob_type = "BYTEA",
	.begin_sql = "BEGIN",
	.close = pg_close,
	.exec = pg_exec,
	.query = pg_query,
	.exec_script = pg_exec_script,
	.commit = pg_commit,
	.in_transaction = pg_in_transaction,
	.next = pg_next,
	.rows_free = pg_rows_free,
	.is_null = pg_is_null,
	.col_int = pg_col_int,
	.col_real = pg_col_real,
	.col_text = pg_col_text,
	.col_blob = pg_col_blob,
};
