/*
 * resource.c - the generic resource engine; see resource.h.
 */
#include "api/resource.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/audit.h"
#include "api/body.h"
#include "api/resources.h"
#include "api/router.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "mq/mq.h"

#define LIST_LIMIT_DEFAULT 50
#define LIST_LIMIT_MAX 500
#define SQL_MAX 8192
#define PARAMS_MAX 48
#define TEXT_MAX_DEFAULT 2000
/* Matches a search counts before it says "at least" (total_exact false). */
#define SEARCH_COUNT_MAX 1000

json_t *json_time(int64_t t)
{
	char ts[40];
	if (time_format_rfc3339(t, ts, sizeof(ts)) < 0)
		return json_null();
	return json_string(ts);
}

json_t *json_col_int(struct db_rows *rows, int c)
{
	return db_col_is_null(rows, c) ? json_null() : json_integer(db_col_int(rows, c));
}

json_t *json_col_text(struct db_rows *rows, int c)
{
	const char *t = db_col_text(rows, c);
	json_t *v = t ? json_string(t) : NULL;
	return v ? v : json_null();
}

static const struct resource *route_resource(const struct api_request *req)
{
	return req->route->data;
}

static void select_list(struct buf *sql, const struct resource *rs)
{
	bool first = true;
	for (size_t i = 0; i < rs->nfields; i++) {
		if (rs->fields[i].flags & FF_VIRTUAL)
			continue;
		buf_printf(sql, "%s%s", first ? "" : ", ", rs->fields[i].column);
		first = false;
	}
}

static json_t *row_json(struct db_rows *rows, const struct resource *rs)
{
	json_t *obj = json_object();
	int c = -1;
	for (size_t i = 0; i < rs->nfields; i++) {
		const struct field *f = &rs->fields[i];
		if (f->flags & FF_VIRTUAL)
			continue;
		c++;
		json_t *v;
		if (db_col_is_null(rows, c)) {
			v = json_null();
		} else {
			switch (f->type) {
			case FT_INT:
			case FT_ID:
				v = json_integer(db_col_int(rows, c));
				break;
			case FT_REAL: {
				double d = db_col_real(rows, c);
				v = isfinite(d) ? json_real(d) : json_null();
				break;
			}
			case FT_BOOL:
				v = json_boolean(db_col_bool(rows, c));
				break;
			case FT_TIME:
				v = json_time(db_col_int(rows, c));
				break;
			case FT_JSON: {
				const char *t = db_col_text(rows, c);
				v = json_loads(t, JSON_DECODE_ANY, NULL);
				if (!v)
					v = json_null();
				break;
			}
			default: {
				const char *t = db_col_text(rows, c);
				v = json_string(t ? t : "");
				if (!v)	/* not UTF-8: never stored by the API, but say so */
					v = json_string("\xef\xbf\xbd");
				break;
			}
			}
		}
		json_object_set_new(obj, f->name, v);
	}
	return obj;
}

json_t *resource_read(struct db *db, const struct resource *rs, int64_t id, int *err)
{
	struct buf sql;
	buf_init(&sql, SQL_MAX);
	buf_append_str(&sql, "SELECT ");
	select_list(&sql, rs);
	buf_printf(&sql, " FROM %s WHERE id = $1", rs->table);
	struct db_rows *rows;
	int r = db_query(db, sql.data, DB_PARAMS(DB_I(id)), &rows);
	buf_release(&sql);
	json_t *obj = NULL;
	if (r == 0) {
		if (db_rows_next(rows))
			obj = row_json(rows, rs);
		else
			r = db_rows_error(rows) < 0 ? db_rows_error(rows) : -ENOENT;
		db_rows_free(rows);
	}
	*err = r;
	return obj;
}

static const struct field *find_field(const struct resource *rs, const char *name)
{
	for (size_t i = 0; i < rs->nfields; i++) {
		if (strcmp(rs->fields[i].name, name) == 0)
			return &rs->fields[i];
	}
	return NULL;
}

/* Parameters being bound, with storage for converted text. */
struct params {
	struct db_param p[PARAMS_MAX];
	size_t n;
	char text[8][160];
	size_t ntext;
	char *owned[4];		/* JSON documents serialised for binding */
	size_t nowned;
};

static void params_release(struct params *ps)
{
	for (size_t i = 0; i < ps->nowned; i++)
		free(ps->owned[i]);
	ps->nowned = 0;
}

static int param_add(struct params *ps, struct db_param p)
{
	if (ps->n >= PARAMS_MAX)
		return -E2BIG;
	ps->p[ps->n++] = p;
	return (int)ps->n;
}

/* Store a copy of s in ps (for a LIKE pattern); NULL when out of room. */
static const char *param_text(struct params *ps, const char *s)
{
	if (ps->ntext >= 8)
		return NULL;
	snprintf(ps->text[ps->ntext], sizeof(ps->text[0]), "%s", s);
	return ps->text[ps->ntext++];
}

/* A filter value from the query string as the field's parameter; false
 * when it does not parse. */
static bool filter_value(const struct field *f, const char *s, struct db_param *out)
{
	if ((f->flags & FF_NULL) && strcmp(s, "null") == 0) {
		*out = DB_N;
		return true;
	}
	switch (f->type) {
	case FT_INT:
	case FT_ID: {
		char *end;
		errno = 0;
		long long v = strtoll(s, &end, 10);
		if (!*s || *end || errno)
			return false;
		*out = DB_I(v);
		return true;
	}
	case FT_BOOL:
		if (strcmp(s, "true") != 0 && strcmp(s, "false") != 0)
			return false;
		*out = DB_B(strcmp(s, "true") == 0);
		return true;
	case FT_TEXT:
		*out = DB_T(s);
		return true;
	case FT_ENUM:
		for (size_t i = 0; f->choices && f->choices[i]; i++) {
			if (strcmp(f->choices[i], s) == 0) {
				*out = DB_T(f->choices[i]);
				return true;
			}
		}
		return false;
	default:
		return false;
	}
}

/* Escape LIKE wildcards of s with '\' into out. */
static void like_pattern(const char *s, char *out, size_t size)
{
	size_t o = 0;
	if (size < 3)
		return;
	out[o++] = '%';
	for (; *s && o + 3 < size; s++) {
		if (*s == '%' || *s == '_' || *s == '\\')
			out[o++] = '\\';
		out[o++] = *s;
	}
	out[o++] = '%';
	out[o] = '\0';
}

void resource_list(struct api_request *req, struct api_response *res)
{
	const struct resource *rs = route_resource(req);
	int64_t limit = LIST_LIMIT_DEFAULT, offset = 0;
	if (query_int(req, "limit", 1, LIST_LIMIT_MAX, &limit, res) < 0 ||
	    query_int(req, "offset", 0, INT32_MAX, &offset, res) < 0)
		return;
	struct params ps = { .n = 0 };
	struct buf where;
	buf_init(&where, SQL_MAX);
	buf_append_str(&where, " WHERE 1 = 1");
	const char *sort = NULL;
	bool searching = false;
	char sort_expr[96];
	bool desc = false;
	for (size_t q = 0; q < req->nquery; q++) {
		const char *key = req->query[q].key, *val = req->query[q].value ? req->query[q].value : "";
		if (strcmp(key, "limit") == 0 || strcmp(key, "offset") == 0)
			continue;
		if (strcmp(key, "sort") == 0) {
			desc = val[0] == '-';
			const struct field *f = find_field(rs, val + (desc ? 1 : 0));
			if (!f || !(f->flags & FF_SORT)) {
				problem_field(res, 400, "sort", "cannot sort by \"%.64s\"", val);
				goto out;
			}
			sort = f->column;
			/* Text sorts A..Z without regard to case (and uses the
			 * lower(...) indexes). */
			if (f->type == FT_TEXT) {
				snprintf(sort_expr, sizeof(sort_expr), "lower(%s)", f->column);
				sort = sort_expr;
			}
			continue;
		}
		if (strcmp(key, "q") == 0) {
			searching = true;
			char pat[160];
			like_pattern(val, pat, sizeof(pat));
			const char *pt = param_text(&ps, pat);
			int n = pt ? param_add(&ps, DB_T(pt)) : -E2BIG;
			if (n < 0) {
				problem(res, 400, "too many query parameters");
				goto out;
			}
			/* Case-insensitive: SQLite's LIKE is (for ASCII), PostgreSQL
			 * has ILIKE; no lower() per row. */
			const char *like = db_backend(req->db) == DB_POSTGRES ? "ILIKE" : "LIKE";
			buf_append_str(&where, " AND (1 = 0");
			for (size_t i = 0; i < rs->nfields; i++) {
				if (rs->fields[i].flags & FF_SEARCH)
					buf_printf(&where, " OR %s %s $%d ESCAPE '\\'",
						   rs->fields[i].column, like, n);
			}
			buf_append_str(&where, ")");
			continue;
		}
		const struct field *f = find_field(rs, key);
		if (!f || !(f->flags & FF_FILTER)) {
			problem_field(res, 400, key, "unknown query parameter %.64s", key);
			goto out;
		}
		struct db_param p;
		if (!filter_value(f, val, &p)) {
			problem_field(res, 400, key, "\"%.64s\" is not a valid %s", val, f->name);
			goto out;
		}
		if (p.type == DB_NULL) {
			buf_printf(&where, " AND %s IS NULL", f->column);
			continue;
		}
		int n = param_add(&ps, p);
		if (n < 0) {
			problem(res, 400, "too many query parameters");
			goto out;
		}
		buf_printf(&where, " AND %s = $%d", f->column, n);
	}

	/* A search counts its matches up to SEARCH_COUNT_MAX only: the count
	 * is a scan, while the page stops at its last row. */
	int64_t total = 0;
	struct buf sql;
	buf_init(&sql, SQL_MAX);
	if (searching)
		buf_printf(&sql, "SELECT COUNT(*) FROM (SELECT 1 FROM %s%s LIMIT %d) AS matches",
			   rs->table, where.data, SEARCH_COUNT_MAX + 1);
	else
		buf_printf(&sql, "SELECT COUNT(*) FROM %s%s", rs->table, where.data);
	int r = db_query_int(req->db, sql.data, ps.p, ps.n, &total);
	if (r < 0) {
		buf_release(&sql);
		problem_errno(res, r, "the list", NULL);
		goto out;
	}
	buf_reset(&sql);
	buf_append_str(&sql, "SELECT ");
	select_list(&sql, rs);
	buf_printf(&sql, " FROM %s%s ORDER BY %s%s, id%s LIMIT %" PRId64 " OFFSET %" PRId64,
		   rs->table, where.data, sort ? sort : (rs->default_sort ? rs->default_sort : "id"),
		   desc ? " DESC" : "", desc ? " DESC" : "", limit, offset);
	struct db_rows *rows;
	r = db_query(req->db, sql.data, ps.p, ps.n, &rows);
	buf_release(&sql);
	if (r < 0) {
		problem_errno(res, r, "the list", NULL);
		goto out;
	}
	json_t *items = json_array();
	while (db_rows_next(rows))
		json_array_append_new(items, row_json(rows, rs));
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0) {
		json_decref(items);
		problem_errno(res, r, "the list", NULL);
		goto out;
	}
	bool exact = !searching || total <= SEARCH_COUNT_MAX;
	api_response_json(res, 200, json_pack("{s:o, s:I, s:b, s:I, s:I}", "items", items, "total",
					      (json_int_t)(exact ? total : SEARCH_COUNT_MAX),
					      "total_exact", exact, "limit", (json_int_t)limit,
					      "offset", (json_int_t)offset));
out:
	buf_release(&where);
}

void resource_get(struct api_request *req, struct api_response *res)
{
	const struct resource *rs = route_resource(req);
	int r;
	json_t *obj = resource_read(req->db, rs, req->ids[0], &r);
	if (!obj) {
		char what[96];
		snprintf(what, sizeof(what), "%s %" PRId64, rs->name, req->ids[0]);
		problem_errno(res, r, what, NULL);
		return;
	}
	api_response_json(res, 200, obj);
}

int resource_may_write(struct api_request *req, const struct resource *rs, int64_t id,
		       struct api_response *res)
{
	char what[96];
	snprintf(what, sizeof(what), "%s %" PRId64, rs->name, id);
	char sql[256];
	snprintf(sql, sizeof(sql), "SELECT %s FROM %s WHERE id = $1",
		 rs->owner_column ? rs->owner_column : "id", rs->table);
	struct db_rows *rows;
	int r = db_query(req->db, sql, DB_PARAMS(DB_I(id)), &rows);
	if (r < 0) {
		problem_errno(res, r, what, NULL);
		return -1;
	}
	bool found = db_rows_next(rows);
	int64_t owner = found && rs->owner_column ? db_col_int(rows, 0) : 0;
	db_rows_free(rows);
	if (!found) {
		problem_errno(res, -ENOENT, what, NULL);
		return -1;
	}
	if (req->caller.role >= rs->write_role)
		return 0;
	if (rs->owner_column && owner == req->caller.user_id && req->caller.role >= rs->create_role)
		return 0;
	problem(res, 403, "only its owner or a %s may change %s", api_role_name(rs->write_role),
		what);
	return -1;
}

void resource_schedule_changed(struct api_request *req)
{
	schedule_cache_invalidate();
	public_cache_invalidate();
	if (!req->ctx->mq)
		return;
	int r = mq_publish_core(req->ctx->mq, "onair.schedule.changed", "{}", 2);
	if (r < 0)
		log_warn("api", "cannot tell the publisher about a change: %s", strerror(-r));
}

/* Bind the body's value of f into ps: 1 bound, 0 absent, -1 invalid (an
 * error added). */
static int bind_field(const struct field *f, json_t *body, struct params *ps,
		      struct field_errors *fe)
{
	json_t *v = json_object_get(body, f->name);
	if (!v)
		return 0;
	if (json_is_null(v)) {
		if (!(f->flags & FF_NULL)) {
			field_error(fe, f->name, "must not be null");
			return -1;
		}
		return param_add(ps, DB_N) < 0 ? -1 : 1;
	}
	struct db_param p;
	switch (f->type) {
	case FT_INT:
	case FT_ID: {
		int64_t i;
		int64_t min = f->type == FT_ID ? 1 : f->min, max = f->type == FT_ID ? INT64_MAX : f->max;
		if (f->type == FT_INT && min == 0 && max == 0)
			max = INT64_MAX, min = INT64_MIN;
		if (body_int(body, f->name, min, max, &i, fe) < 0)
			return -1;
		p = DB_I(i);
		break;
	}
	case FT_REAL: {
		if (!json_is_number(v)) {
			field_error(fe, f->name, "must be a number");
			return -1;
		}
		double d = json_number_value(v);
		if (!isfinite(d) || ((f->min || f->max) && (d < (double)f->min || d > (double)f->max))) {
			field_error(fe, f->name, "must be between %" PRId64 " and %" PRId64, f->min,
				    f->max);
			return -1;
		}
		p = DB_R(d);
		break;
	}
	case FT_BOOL: {
		bool b;
		if (body_bool(body, f->name, &b, fe) < 0)
			return -1;
		p = DB_B(b);
		break;
	}
	case FT_TEXT:
	case FT_ENUM: {
		const char *s;
		size_t max = f->max > 0 ? (size_t)f->max : TEXT_MAX_DEFAULT;
		if (body_text(body, f->name, max, &s, fe) < 0)
			return -1;
		if ((f->flags & FF_NONEMPTY) && !*s) {
			field_error(fe, f->name, "must not be empty");
			return -1;
		}
		if (f->type == FT_ENUM) {
			bool ok = false;
			for (size_t i = 0; f->choices && f->choices[i]; i++)
				ok = ok || strcmp(f->choices[i], s) == 0;
			if (!ok) {
				char list[256] = "";
				for (size_t i = 0; f->choices && f->choices[i]; i++)
					snprintf(list + strlen(list), sizeof(list) - strlen(list),
						 "%s%s", i ? ", " : "", f->choices[i]);
				field_error(fe, f->name, "must be one of %s", list);
				return -1;
			}
		}
		p = DB_T(s);
		break;
	}
	case FT_TIME: {
		int64_t t;
		if (!json_is_string(v) || time_parse_rfc3339(json_string_value(v), &t) < 0) {
			field_error(fe, f->name, "must be an RFC 3339 time (2026-11-28T18:00:00Z)");
			return -1;
		}
		p = DB_I(t);
		break;
	}
	case FT_JSON: {
		if (ps->nowned >= 4) {
			field_error(fe, f->name, "cannot be set here");
			return -1;
		}
		char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
		if (!text) {
			field_error(fe, f->name, "cannot be stored");
			return -1;
		}
		ps->owned[ps->nowned++] = text;
		p = DB_T(text);
		break;
	}
	default:
		field_error(fe, f->name, "cannot be set here");
		return -1;
	}
	return param_add(ps, p) < 0 ? -1 : 1;
}

/* Check the body's members against rs: unknown, read-only and typed
 * values. Binds the values given, in field order, with their columns in
 * cols[]. */
static void bind_body(struct api_request *req, const struct resource *rs, json_t *body,
		      bool create, struct params *ps, const char **cols, size_t *ncols,
		      struct field_errors *fe)
{
	const char *key;
	json_t *v;
	json_object_foreach(body, key, v) {
		if (rs->versioned && !create && strcmp(key, "version") == 0)
			continue;
		const struct field *f = find_field(rs, key);
		if (!f)
			field_error(fe, key, "unknown field");
		else if (f->flags & FF_RO)
			field_error(fe, key, "is read-only");
	}
	*ncols = 0;
	for (size_t i = 0; i < rs->nfields; i++) {
		const struct field *f = &rs->fields[i];
		if (f->flags & (FF_RO | FF_VIRTUAL))
			continue;
		int b = bind_field(f, body, ps, fe);
		if (b == 1) {
			cols[(*ncols)++] = f->column;
			if ((f->flags & FF_OWNER) && req->caller.role < rs->write_role &&
			    ps->p[ps->n - 1].type == DB_INT &&
			    ps->p[ps->n - 1].v.i != req->caller.user_id)
				field_error(fe, f->name, "only a %s may give this to someone else",
					    api_role_name(rs->write_role));
		} else if (b == 0 && create && (f->flags & FF_OWNER) && !json_object_get(body, f->name)) {
			if (param_add(ps, DB_I(req->caller.user_id)) > 0)
				cols[(*ncols)++] = f->column;
		} else if (b == 0 && create && (f->flags & FF_REQ)) {
			field_error(fe, f->name, "is required");
		}
	}
}

/* Answer a failed write. */
static void write_failed(struct api_response *res, const struct resource *rs, int r, json_t *body)
{
	if (r == -ENOENT) {
		/* A FOREIGN KEY: name the reference fields that were given. */
		struct field_errors fe = { 0 };
		for (size_t i = 0; i < rs->nfields; i++) {
			if (rs->fields[i].type == FT_ID && json_is_integer(json_object_get(body, rs->fields[i].name)))
				field_error(&fe, rs->fields[i].name, "no %s has this id",
					    rs->fields[i].ref ? rs->fields[i].ref : "row");
		}
		if (field_errors_any(&fe)) {
			problem_fields(res, &fe);
			return;
		}
	}
	char what[96];
	snprintf(what, sizeof(what), "a %s like this", rs->name);
	if (r == -EEXIST) {
		problem(res, 409, "%s exists already (a unique field is taken)", what);
		return;
	}
	if (r == -EINVAL) {
		problem(res, 422, "the %s breaks a rule of the database (a value out of range?)",
			rs->name);
		return;
	}
	problem_errno(res, r, rs->name, NULL);
}

void resource_create(struct api_request *req, struct api_response *res)
{
	const struct resource *rs = route_resource(req);
	json_t *body = body_object(req, res);
	if (!body)
		return;
	struct params ps = { .n = 0 };
	const char *cols[PARAMS_MAX];
	size_t ncols = 0;
	struct field_errors fe = { 0 };
	struct extra_cols extra = { .n = 0 };
	bind_body(req, rs, body, true, &ps, cols, &ncols, &fe);
	if (rs->check &&
	    rs->check(req, 0, body, &fe, &extra, res) < 0) {
		field_errors_release(&fe);
		goto out;
	}
	if (field_errors_any(&fe)) {
		problem_fields(res, &fe);
		goto out;
	}
	for (size_t i = 0; i < extra.n; i++) {
		param_add(&ps, DB_T(extra.value[i]));
		cols[ncols++] = extra.column[i];
	}
	if (rs->parent_column) {
		param_add(&ps, DB_I(req->ids[0]));
		cols[ncols++] = rs->parent_column;
	}
	if (ncols == 0 && !rs->timestamps && !rs->created_only) {
		problem(res, 422, "the body gives no field of the %s", rs->name);
		goto out;
	}
	if (rs->timestamps || rs->created_only) {
		param_add(&ps, DB_I(req->now));
		cols[ncols++] = "created_at";
	}
	if (rs->timestamps) {
		param_add(&ps, DB_I(req->now));
		cols[ncols++] = "updated_at";
	}
	struct buf sql;
	buf_init(&sql, SQL_MAX);
	buf_printf(&sql, "INSERT INTO %s (", rs->table);
	for (size_t i = 0; i < ncols; i++)
		buf_printf(&sql, "%s%s", i ? ", " : "", cols[i]);
	buf_append_str(&sql, ") VALUES (");
	for (size_t i = 0; i < ncols; i++)
		buf_printf(&sql, "%s$%zu", i ? ", " : "", i + 1);
	buf_append_str(&sql, ") RETURNING id");
	int64_t id;
	int r = db_query_int(req->db, sql.data, ps.p, ps.n, &id);
	buf_release(&sql);
	if (r < 0) {
		write_failed(res, rs, r, body);
		goto out;
	}
	audit(req, "create", rs->name, id, NULL);
	if (rs->schedule_change)
		resource_schedule_changed(req);
	json_t *obj = resource_read(req->db, rs, id, &r);
	if (!obj) {
		problem_errno(res, r, rs->name, NULL);
		goto out;
	}
	char loc[160];
	if (rs->parent_column)	/* /shows/1/recurrences -> /recurrences/7 */
		snprintf(loc, sizeof(loc), "/api/v1/%s/%" PRId64, strrchr(req->path, '/') + 1, id);
	else
		snprintf(loc, sizeof(loc), "%s/%" PRId64, req->path, id);
	api_response_json(res, 201, obj);
	api_response_header(res, "Location", loc);
out:
	params_release(&ps);
	json_decref(body);
}

void resource_update(struct api_request *req, struct api_response *res)
{
	const struct resource *rs = route_resource(req);
	int64_t id = req->ids[0];
	if (resource_may_write(req, rs, id, res) < 0)
		return;
	json_t *body = body_object(req, res);
	if (!body)
		return;
	struct params ps = { .n = 0 };
	const char *cols[PARAMS_MAX];
	size_t ncols = 0;
	struct field_errors fe = { 0 };
	struct extra_cols extra = { .n = 0 };
	bind_body(req, rs, body, false, &ps, cols, &ncols, &fe);
	int64_t version = 0;
	bool has_version = rs->versioned &&
			   body_int(body, "version", 1, INT64_MAX, &version, &fe) == 1;
	if (rs->check &&
	    rs->check(req, id, body, &fe, &extra, res) < 0) {
		field_errors_release(&fe);
		goto out;
	}
	if (field_errors_any(&fe)) {
		problem_fields(res, &fe);
		goto out;
	}
	for (size_t i = 0; i < extra.n; i++) {
		param_add(&ps, DB_T(extra.value[i]));
		cols[ncols++] = extra.column[i];
	}
	if (ncols > 0) {
		struct buf sql;
		buf_init(&sql, SQL_MAX);
		buf_printf(&sql, "UPDATE %s SET ", rs->table);
		for (size_t i = 0; i < ncols; i++)
			buf_printf(&sql, "%s%s = $%zu", i ? ", " : "", cols[i], i + 1);
		if (rs->timestamps) {
			param_add(&ps, DB_I(req->now));
			buf_printf(&sql, ", updated_at = $%zu", ps.n);
		}
		if (rs->versioned)
			buf_append_str(&sql, ", version = version + 1");
		param_add(&ps, DB_I(id));
		buf_printf(&sql, " WHERE id = $%zu", ps.n);
		if (has_version) {
			param_add(&ps, DB_I(version));
			buf_printf(&sql, " AND version = $%zu", ps.n);
		}
		int r = db_exec(req->db, sql.data, ps.p, ps.n);
		buf_release(&sql);
		if (r == 0 && has_version)
			r = -ESTALE;
		if (r < 0) {
			if (r == -ESTALE) {
				char what[96];
				snprintf(what, sizeof(what), "%s %" PRId64, rs->name, id);
				problem_errno(res, r, what, NULL);
			} else {
				write_failed(res, rs, r, body);
			}
			goto out;
		}
		audit(req, "update", rs->name, id, NULL);
		if (rs->schedule_change)
			resource_schedule_changed(req);
	}
	int r;
	json_t *obj = resource_read(req->db, rs, id, &r);
	if (!obj)
		problem_errno(res, r, rs->name, NULL);
	else
		api_response_json(res, 200, obj);
out:
	params_release(&ps);
	json_decref(body);
}

void resource_delete(struct api_request *req, struct api_response *res)
{
	const struct resource *rs = route_resource(req);
	int64_t id = req->ids[0];
	if (resource_may_write(req, rs, id, res) < 0)
		return;
	char extra[256] = "";
	if (rs->delete_extra_column) {
		char sql[256];
		snprintf(sql, sizeof(sql), "SELECT %s FROM %s WHERE id = $1",
			 rs->delete_extra_column, rs->table);
		struct db_rows *rows;
		if (db_query(req->db, sql, DB_PARAMS(DB_I(id)), &rows) == 0) {
			if (db_rows_next(rows) && db_col_text(rows, 0))
				snprintf(extra, sizeof(extra), "%s", db_col_text(rows, 0));
			db_rows_free(rows);
		}
	}
	char sql[256];
	snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE id = $1", rs->table);
	int r = db_exec(req->db, sql, DB_PARAMS(DB_I(id)));
	if (r < 0) {
		char what[96];
		snprintf(what, sizeof(what), "%s %" PRId64, rs->name, id);
		if (r == -ENOTEMPTY)
			problem(res, 409, "%s is still used (in the schedule, a playlist or a show)"
				"; remove it from there first", what);
		else
			problem_errno(res, r, what, NULL);
		return;
	}
	audit(req, "delete", rs->name, id, NULL);
	if (rs->after_delete)
		rs->after_delete(req, id, extra);
	if (rs->schedule_change)
		resource_schedule_changed(req);
	res->status = 204;
}

size_t http_scheme_len(const char *url)
{
	if (strncasecmp(url, "http://", 7) == 0)
		return 7;
	if (strncasecmp(url, "https://", 8) == 0)
		return 8;
	return 0;
}

bool http_url_ok(const char *url)
{
	size_t skip = http_scheme_len(url);
	if (!skip || !url[skip] || url[skip] == '/')
		return false;
	for (const unsigned char *p = (const unsigned char *)url; *p; p++) {
		if (*p <= ' ' || *p == 0x7f)
			return false;
	}
	return true;
}
