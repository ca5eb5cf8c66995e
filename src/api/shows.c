/*
 * shows.c - shows with their hosts, recurrence rules and exceptions.
 * A rule is checked by the station's own recurrence_validate before it
 * is stored; instances follow the rules when they are next materialised
 * (GET /instances, GET /schedule, onair messages).
 */
#include "api/resources.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/audit.h"
#include "api/body.h"
#include "common/timeutil.h"
#include "db/db.h"
#include "station/recurrence.h"

#define SHOW_HOSTS_MAX 50

static const struct field show_fields[] = {
	FID,
	{ .name = "name", .column = "name", .type = FT_TEXT,
	  .flags = FF_REQ | FF_NONEMPTY | FF_SORT | FF_SEARCH, .max = 200 },
	FTXT("description", FF_SEARCH, 4000),
	FTXT("url", FF_NULL, 2000),
	FTXT("genre", FF_NULL | FF_SEARCH | FF_FILTER, 200),
	FTXT("color", FF_NULL, 7),
	FTXT("background_color", FF_NULL, 7),
	FLD("image_path", FT_TEXT, FF_RO),
	FENUM("live_input", FF_FILTER, ((const char *const[]){ "none", "hosts", "any", NULL })),
	FREF("autoplaylist_id", FF_NULL, "playlist"),
	FLD("autoplaylist_repeat", FT_BOOL, 0),
	FREF("intro_playlist_id", FF_NULL, "playlist"),
	FREF("outro_playlist_id", FF_NULL, "playlist"),
	FLD("linked", FT_BOOL, FF_FILTER),
	FCREATED,
	FUPDATED,
};

/* Colours are "#rrggbb". */
static int show_check(struct api_request *req, int64_t id, json_t *body, struct field_errors *fe,
		      struct extra_cols *extra, struct api_response *res)
{
	static const char *const colours[] = { "color", "background_color" };
	for (int i = 0; i < 2; i++) {
		const char *c = json_string_value(json_object_get(body, colours[i]));
		if (!c)
			continue;
		bool ok = strlen(c) == 7 && c[0] == '#';
		for (int k = 1; ok && k < 7; k++)
			ok = (c[k] >= '0' && c[k] <= '9') || (c[k] >= 'a' && c[k] <= 'f') ||
			     (c[k] >= 'A' && c[k] <= 'F');
		if (!ok)
			field_error(fe, colours[i], "must be a colour like #3366cc");
	}
	const char *url = json_string_value(json_object_get(body, "url"));
	if (url && *url && strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
		field_error(fe, "url", "must be an http:// or https:// URL");
	return 0;
}

const struct resource res_shows = {
	.name = "show",
	.table = "shows",
	.fields = show_fields,
	.nfields = NFIELDS(show_fields),
	.create_role = ROLE_PM,
	.write_role = ROLE_PM,
	.timestamps = true,
	.schedule_change = true,
	.default_sort = "lower(name)",
	.check = show_check,
};

/* 0 when show id exists, else -1 with a 404 in res. */
static int show_exists(struct api_request *req, int64_t id, struct api_response *res)
{
	int64_t found;
	int r = db_query_int(req->db, "SELECT id FROM shows WHERE id = $1", DB_PARAMS(DB_I(id)),
			     &found);
	if (r < 0) {
		char what[48];
		snprintf(what, sizeof(what), "show %" PRId64, id);
		problem_errno(res, r, what, NULL);
		return -1;
	}
	return 0;
}

static void hosts_answer(struct api_request *req, int64_t show, struct api_response *res)
{
	struct db_rows *rows;
	int r = db_query(req->db, "SELECT u.id, u.name, u.display_name FROM show_hosts h"
			 " JOIN users u ON u.id = h.user_id WHERE h.show_id = $1 ORDER BY u.id",
			 DB_PARAMS(DB_I(show)), &rows);
	if (r < 0) {
		problem_errno(res, r, "the hosts", NULL);
		return;
	}
	json_t *hosts = json_array();
	while (db_rows_next(rows))
		json_array_append_new(hosts, json_pack("{s:I, s:s, s:s}", "id",
						       (json_int_t)db_col_int(rows, 0), "name",
						       db_col_text(rows, 1), "display_name",
						       db_col_text(rows, 2)));
	db_rows_free(rows);
	api_response_json(res, 200, json_pack("{s:I, s:o}", "show_id", (json_int_t)show, "hosts",
					      hosts));
}

void show_hosts_get(struct api_request *req, struct api_response *res)
{
	if (show_exists(req, req->ids[0], res) == 0)
		hosts_answer(req, req->ids[0], res);
}

void show_hosts_put(struct api_request *req, struct api_response *res)
{
	int64_t show = req->ids[0];
	if (show_exists(req, show, res) < 0)
		return;
	json_t *body = body_object(req, res);
	if (!body)
		return;
	struct field_errors fe = { 0 };
	static const char *const allowed[] = { "user_ids", NULL };
	body_only(body, allowed, &fe);
	json_t *ids = json_object_get(body, "user_ids");
	if (!json_is_array(ids))
		field_error(&fe, "user_ids", "must be an array of user ids");
	else if (json_array_size(ids) > SHOW_HOSTS_MAX)
		field_error(&fe, "user_ids", "at most %d hosts", SHOW_HOSTS_MAX);
	for (size_t i = 0; json_is_array(ids) && i < json_array_size(ids) &&
			   i < SHOW_HOSTS_MAX; i++) {
		json_t *v = json_array_get(ids, i);
		char f[32];
		snprintf(f, sizeof(f), "user_ids.%zu", i);
		int64_t found;
		if (!json_is_integer(v) || json_integer_value(v) < 1)
			field_error(&fe, f, "must be a user id");
		else if (db_query_int(req->db, "SELECT id FROM users WHERE id = $1",
				      DB_PARAMS(DB_I(json_integer_value(v))), &found) < 0)
			field_error(&fe, f, "no user has this id");
	}
	if (field_errors_any(&fe)) {
		problem_fields(res, &fe);
		goto out;
	}
	int r = db_begin(req->db);
	if (r == 0)
		r = db_exec(req->db, "DELETE FROM show_hosts WHERE show_id = $1",
			    DB_PARAMS(DB_I(show)));
	for (size_t i = 0; r >= 0 && i < json_array_size(ids); i++) {
		int64_t uid = json_integer_value(json_array_get(ids, i));
		r = db_exec(req->db, "INSERT INTO show_hosts (show_id, user_id) SELECT $1, $2"
			    " WHERE NOT EXISTS (SELECT 1 FROM show_hosts WHERE show_id = $1"
			    " AND user_id = $2)", DB_PARAMS(DB_I(show), DB_I(uid)));
	}
	if (r >= 0)
		r = db_commit(req->db);
	if (r < 0) {
		db_rollback(req->db);
		problem_errno(res, r, "the hosts", NULL);
		goto out;
	}
	audit(req, "update", "show hosts", show, NULL);
	resource_schedule_changed(req);
	hosts_answer(req, show, res);
out:
	json_decref(body);
}

static const char *const frequency_choices[] = { "once", "weekly", "monthly_by_day",
						 "monthly_by_weekday", NULL };

static const struct field recurrence_fields[] = {
	FID,
	FLD("show_id", FT_ID, FF_RO | FF_FILTER),
	FENUM("frequency", FF_REQ, frequency_choices),
	FINT("repeat_every", 0, 1, RECURRENCE_REPEAT_MAX),
	FINT("weekdays", 0, 0, 127),
	FINT("week_position", FF_NULL, -1, 5),
	FTXT("start_date", FF_REQ | FF_SORT, RECURRENCE_DATE_SIZE - 1),
	FTXT("start_time", FF_REQ, RECURRENCE_TIME_SIZE - 1),
	FINT("duration_us", FF_REQ, 1, RECURRENCE_DURATION_MAX),
	FTXT("timezone", FF_REQ, TZ_NAME_MAX),
	FTXT("end_date", FF_NULL, RECURRENCE_DATE_SIZE - 1),
	FCREATED,
	FUPDATED,
};

/* The member key of body, else the stored row's column (id > 0), as text. */
static const char *merged(json_t *body, json_t *row, const char *key, char *buf, size_t size)
{
	json_t *v = json_object_get(body, key);
	if (!v)
		v = json_object_get(row, key);
	if (json_is_string(v))
		return json_string_value(v);
	if (json_is_integer(v)) {
		snprintf(buf, size, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	}
	return NULL;
}

/* Build the rule the row will hold and let the station check it. */
static int recurrence_check(struct api_request *req, int64_t id, json_t *body,
			    struct field_errors *fe, struct extra_cols *extra,
			    struct api_response *res)
{
	if (field_errors_any(fe))
		return 0;
	json_t *row = NULL;
	if (id > 0) {
		int r;
		row = resource_read(req->db, &res_recurrences, id, &r);
		if (!row) {
			problem_errno(res, r, "the recurrence", NULL);
			return -1;
		}
	}
	struct recurrence rule;
	memset(&rule, 0, sizeof(rule));
	char b[6][64];
	const char *freq = merged(body, row, "frequency", b[0], sizeof(b[0]));
	const char *every = merged(body, row, "repeat_every", b[1], sizeof(b[1]));
	const char *days = merged(body, row, "weekdays", b[2], sizeof(b[2]));
	const char *pos = merged(body, row, "week_position", b[3], sizeof(b[3]));
	const char *dur = merged(body, row, "duration_us", b[4], sizeof(b[4]));
	const char *start_date = merged(body, row, "start_date", b[5], sizeof(b[5]));
	const char *start_time = merged(body, row, "start_time", NULL, 0);
	const char *zone = merged(body, row, "timezone", NULL, 0);
	const char *end_date = merged(body, row, "end_date", NULL, 0);
	enum recurrence_frequency f = RECURRENCE_WEEKLY;
	if (freq)
		recurrence_frequency_parse(freq, &f);
	rule.frequency = f;
	rule.repeat_every = every ? atoi(every) : 1;
	rule.weekdays = days ? (unsigned)atoi(days) : 0;
	rule.week_position = pos ? atoi(pos) : 0;
	rule.duration_us = dur ? strtoll(dur, NULL, 10) : 0;
	snprintf(rule.start_date, sizeof(rule.start_date), "%s", start_date ? start_date : "");
	snprintf(rule.start_time, sizeof(rule.start_time), "%s", start_time ? start_time : "");
	snprintf(rule.timezone, sizeof(rule.timezone), "%s", zone ? zone : "");
	snprintf(rule.end_date, sizeof(rule.end_date), "%s", end_date ? end_date : "");
	json_decref(row);
	char err[256];
	int r = recurrence_validate(&rule, NULL, err, sizeof(err));
	if (r == -EINVAL || r == -ENOENT) {
		static const char *const names[] = { "timezone", "start_date", "start_time", "end_date",
						     "weekdays", "week_position", "repeat_every",
						     "duration", NULL };
		const char *field = "recurrence";
		for (size_t i = 0; names[i]; i++) {
			if (strstr(err, names[i]) || (strcmp(names[i], "timezone") == 0 &&
						      strstr(err, "time zone"))) {
				field = strcmp(names[i], "duration") == 0 ? "duration_us" : names[i];
				break;
			}
		}
		field_error(fe, field, "%s", err);
	} else if (r < 0) {
		problem_errno(res, r, "checking the recurrence", NULL);
		return -1;
	}
	return 0;
}

const struct resource res_recurrences = {
	.name = "recurrence",
	.table = "show_recurrences",
	.fields = recurrence_fields,
	.nfields = NFIELDS(recurrence_fields),
	.create_role = ROLE_PM,
	.write_role = ROLE_PM,
	.timestamps = true,
	.schedule_change = true,
	.default_sort = "id",
	.parent_column = "show_id",
	.check = recurrence_check,
};

/* List the rows of rs whose column equals id as {"items": [...]}. */
static void list_children(struct api_request *req, const struct resource *rs,
			  const char *column, int64_t id, struct api_response *res)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "SELECT id FROM %s WHERE %s = $1 ORDER BY id", rs->table,
		 column);
	struct db_rows *rows;
	int r = db_query(req->db, sql, DB_PARAMS(DB_I(id)), &rows);
	if (r < 0) {
		problem_errno(res, r, rs->name, NULL);
		return;
	}
	int64_t ids[1000];
	size_t n = 0;
	while (n < 1000 && db_rows_next(rows))
		ids[n++] = db_col_int(rows, 0);
	db_rows_free(rows);
	json_t *items = json_array();
	for (size_t i = 0; i < n; i++) {
		json_t *o = resource_read(req->db, rs, ids[i], &r);
		if (o)
			json_array_append_new(items, o);
	}
	api_response_json(res, 200, json_pack("{s:o}", "items", items));
}

void show_recurrences_list(struct api_request *req, struct api_response *res)
{
	if (show_exists(req, req->ids[0], res) == 0)
		list_children(req, &res_recurrences, "show_id", req->ids[0], res);
}

/* Create a row of rs under the path's parent id. */
static void create_child(struct api_request *req, const struct resource *rs,
			 struct api_response *res)
{
	const struct api_route *route = req->route;
	struct api_route child = *route;
	child.data = rs;
	req->route = &child;
	resource_create(req, res);
	req->route = route;
}

void show_recurrences_create(struct api_request *req, struct api_response *res)
{
	if (show_exists(req, req->ids[0], res) < 0)
		return;
	create_child(req, &res_recurrences, res);
}

static const struct field exception_fields[] = {
	FID,
	FLD("recurrence_id", FT_ID, FF_RO | FF_FILTER),
	FTXT("instance_date", FF_REQ, RECURRENCE_DATE_SIZE - 1),
	FENUM("kind", FF_REQ, ((const char *const[]){ "cancelled", "moved", "edited", NULL })),
	FLD("moved_starts_at", FT_TIME, FF_NULL),
	FLD("moved_ends_at", FT_TIME, FF_NULL),
};

const struct resource res_exceptions = {
	.name = "exception",
	.table = "show_exceptions",
	.fields = exception_fields,
	.nfields = NFIELDS(exception_fields),
	.create_role = ROLE_PM,
	.write_role = ROLE_PM,
	.schedule_change = true,
	.default_sort = "instance_date",
	.parent_column = "recurrence_id",
};

/* Load recurrence id as a struct recurrence (no exceptions). */
static int load_rule(struct db *db, int64_t id, struct recurrence *rule)
{
	struct db_rows *rows;
	int r = db_query(db, "SELECT frequency, repeat_every, weekdays, week_position, start_date,"
			 " start_time, duration_us, timezone, end_date FROM show_recurrences"
			 " WHERE id = $1", DB_PARAMS(DB_I(id)), &rows);
	if (r < 0)
		return r;
	if (!db_rows_next(rows)) {
		db_rows_free(rows);
		return -ENOENT;
	}
	memset(rule, 0, sizeof(*rule));
	enum recurrence_frequency f = RECURRENCE_WEEKLY;
	recurrence_frequency_parse(db_col_text(rows, 0), &f);
	rule->frequency = f;
	rule->repeat_every = (int)db_col_int(rows, 1);
	rule->weekdays = (unsigned)db_col_int(rows, 2);
	rule->week_position = (int)db_col_int(rows, 3);
	snprintf(rule->start_date, sizeof(rule->start_date), "%s", db_col_text(rows, 4));
	snprintf(rule->start_time, sizeof(rule->start_time), "%s", db_col_text(rows, 5));
	rule->duration_us = db_col_int(rows, 6);
	snprintf(rule->timezone, sizeof(rule->timezone), "%s", db_col_text(rows, 7));
	snprintf(rule->end_date, sizeof(rule->end_date), "%s",
		 db_col_text(rows, 8) ? db_col_text(rows, 8) : "");
	db_rows_free(rows);
	return 0;
}

void recurrence_exceptions_list(struct api_request *req, struct api_response *res)
{
	struct recurrence rule;
	int r = load_rule(req->db, req->ids[0], &rule);
	if (r < 0) {
		problem_errno(res, r, "the recurrence", NULL);
		return;
	}
	list_children(req, &res_exceptions, "recurrence_id", req->ids[0], res);
}

void recurrence_exceptions_create(struct api_request *req, struct api_response *res)
{
	struct recurrence rule;
	int r = load_rule(req->db, req->ids[0], &rule);
	if (r < 0) {
		problem_errno(res, r, "the recurrence", NULL);
		return;
	}
	json_t *body = body_object(req, res);
	if (!body)
		return;
	struct field_errors fe = { 0 };
	const char *date = json_string_value(json_object_get(body, "instance_date"));
	const char *kind = json_string_value(json_object_get(body, "kind"));
	if (date && !recurrence_occurs_on(&rule, date))
		field_error(&fe, "instance_date", "the rule has no instance on %.16s", date);
	if (kind && strcmp(kind, "moved") == 0) {
		int64_t a = 0, b = 0;
		const char *sa = json_string_value(json_object_get(body, "moved_starts_at"));
		const char *sb = json_string_value(json_object_get(body, "moved_ends_at"));
		if (!sa || time_parse_rfc3339(sa, &a) < 0)
			field_error(&fe, "moved_starts_at", "a moved instance needs its new start");
		if (!sb || time_parse_rfc3339(sb, &b) < 0)
			field_error(&fe, "moved_ends_at", "a moved instance needs its new end");
		else if (sa && b <= a)
			field_error(&fe, "moved_ends_at", "must be after moved_starts_at");
	}
	json_decref(body);
	if (field_errors_any(&fe)) {
		problem_fields(res, &fe);
		return;
	}
	create_child(req, &res_exceptions, res);
}
