/*
 * res_shows.c - shows and their rules: the shows resource and their
 * hosts, recurrences (when a show happens) and exceptions (one
 * occurrence cancelled, moved or edited).
 *
 * Rules are checked as the station reads them (recurrence_validate,
 * recurrence_occurs_on). After a rule is created or deleted, or an
 * exception is, the show's instances to come are made again
 * (instances_materialise) from now to the last one already made (at most
 * FOLLOW_MAX_US ahead, at least FOLLOW_AHEAD_US): rows that have not
 * started follow the rule (new times, their items retimed) or are
 * deleted with their items when their occurrence is gone. A PATCH of a
 * recurrence goes through the generic engine, which has no hook after
 * the write: its instances follow at the next materialisation of their
 * window (onair messages on the change notice, any API listing, or a
 * read or edit of one of them: res_schedule.c).
 */
#include "api/resources.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/audit.h"
#include "api/body.h"
#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "db/db.h"
#include "station/instances.h"
#include "station/recurrence.h"

#define DAY_US (INT64_C(86400) * 1000000)
/* After a rule changes, instances are made from now to this far ahead at
 * least, ... */
#define FOLLOW_AHEAD_US (62 * DAY_US)
/* ... and at most this far, even when rows exist further ahead (those
 * follow when their window is next materialised). */
#define FOLLOW_MAX_US (366 * DAY_US)
/* instances_materialise tries (-EBUSY, -EEXIST: another connection). */
#define MATERIALISE_TRIES 3
/* Longest text of a field declared without a bound (as the engine). */
#define TEXT_MAX 2000
/* Most hosts of one show. */
#define HOSTS_MAX 50

/* ------------------------------------------------------------ shows */

static const char *const live_input_choices[] = { "none", "hosts", "any", NULL };

static const struct field show_fields[] = {
	FID,
	{ .name = "name", .column = "name", .type = FT_TEXT,
	  .flags = FF_REQ | FF_NONEMPTY | FF_SORT | FF_SEARCH, .max = 200 },
	FTXT("description", 0, 4000),
	FTXT("url", FF_NULL, 2000),
	FTXT("genre", FF_NULL | FF_SORT | FF_SEARCH | FF_FILTER, 200),
	FTXT("color", FF_NULL, 64),
	FTXT("background_color", FF_NULL, 64),
	FLD("image_path", FT_TEXT, FF_RO),
	FENUM("live_input", FF_FILTER, live_input_choices),
	FREF("autoplaylist_id", FF_NULL | FF_FILTER, "playlist"),
	FLD("autoplaylist_repeat", FT_BOOL, 0),
	FREF("intro_playlist_id", FF_NULL, "playlist"),
	FREF("outro_playlist_id", FF_NULL, "playlist"),
	FLD("linked", FT_BOOL, FF_FILTER),
	FCREATED,
	FUPDATED,
};

/* "#rrggbb" with hexadecimal digits. */
static bool color_ok(const char *s)
{
	if (strlen(s) != 7 || s[0] != '#')
		return false;
	for (size_t i = 1; i < 7; i++) {
		char c = s[i];
		if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')))
			return false;
	}
	return true;
}


/* Colours are "#rrggbb"; the URL, when not empty, an http(s) URL. */
static int show_check(struct api_request *req, int64_t id, json_t *body, struct field_errors *fe,
		      struct extra_cols *extra, struct api_response *res)
{
	static const char *const colors[] = { "color", "background_color" };
	for (size_t i = 0; i < sizeof(colors) / sizeof(colors[0]); i++) {
		const char *c = json_string_value(json_object_get(body, colors[i]));
		if (c && !color_ok(c))
			field_error(fe, colors[i], "must be a colour as #rrggbb (#336699)");
	}
	const char *url = json_string_value(json_object_get(body, "url"));
	if (url && *url && !http_url_ok(url))
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

/* true when show id exists; false with res filled (404...). */
static bool show_exists(struct api_request *req, int64_t id, struct api_response *res)
{
	int64_t found;
	int r = db_query_int(req->db, "SELECT id FROM shows WHERE id = $1", DB_PARAMS(DB_I(id)),
			     &found);
	if (r < 0) {
		char what[48];
		snprintf(what, sizeof(what), "show %" PRId64, id);
		problem_errno(res, r, what, NULL);
		return false;
	}
	return true;
}

/* A text column as JSON: null for NULL, U+FFFD for text that is not UTF-8. */
static json_t *col_text_json(struct db_rows *rows, int col)
{
	if (db_col_is_null(rows, col))
		return json_null();
	const char *t = db_col_text(rows, col);
	json_t *v = json_string(t ? t : "");
	return v ? v : json_string("\xef\xbf\xbd");
}

/* {"show_id", "hosts": [{id, name, display_name}]} of show (which
 * exists), or NULL with *err set. */
static json_t *hosts_doc(struct db *db, int64_t show, int *err)
{
	struct db_rows *rows;
	*err = db_query(db,
			"SELECT u.id, u.name, u.display_name FROM show_hosts h"
			" JOIN users u ON u.id = h.user_id WHERE h.show_id = $1"
			" ORDER BY lower(u.name), u.id",
			DB_PARAMS(DB_I(show)), &rows);
	if (*err < 0)
		return NULL;
	json_t *hosts = json_array();
	while (db_rows_next(rows)) {
		json_t *h = json_object();
		json_object_set_new(h, "id", json_integer(db_col_int(rows, 0)));
		json_object_set_new(h, "name", col_text_json(rows, 1));
		json_object_set_new(h, "display_name", col_text_json(rows, 2));
		json_array_append_new(hosts, h);
	}
	*err = db_rows_error(rows);
	db_rows_free(rows);
	if (*err < 0) {
		json_decref(hosts);
		return NULL;
	}
	return json_pack("{s:I, s:o}", "show_id", (json_int_t)show, "hosts", hosts);
}

void show_hosts_get(struct api_request *req, struct api_response *res)
{
	if (!show_exists(req, req->ids[0], res))
		return;
	int r;
	json_t *doc = hosts_doc(req->db, req->ids[0], &r);
	if (!doc) {
		problem_errno(res, r, "the show's hosts", NULL);
		return;
	}
	api_response_json(res, 200, doc);
}

/* The user ids of body's "user_ids" into ids (without repeats, *n of
 * them), each an existing user; errors added to fe. 0, or a database
 * error. */
static int read_user_ids(struct db *db, json_t *body, int64_t *ids, size_t *n,
			 struct field_errors *fe)
{
	*n = 0;
	json_t *list = json_object_get(body, "user_ids");
	if (!list) {
		field_error(fe, "user_ids", "is required");
		return 0;
	}
	if (!json_is_array(list)) {
		field_error(fe, "user_ids", "must be an array of user ids");
		return 0;
	}
	if (json_array_size(list) > HOSTS_MAX) {
		field_error(fe, "user_ids", "must hold at most %d users", HOSTS_MAX);
		return 0;
	}
	size_t i;
	json_t *v;
	json_array_foreach(list, i, v) {
		char name[32];
		snprintf(name, sizeof(name), "user_ids.%zu", i);
		if (!json_is_integer(v) || json_integer_value(v) < 1) {
			field_error(fe, name, "must be a user id (an integer from 1)");
			continue;
		}
		int64_t id = json_integer_value(v), found;
		int r = db_query_int(db, "SELECT id FROM users WHERE id = $1", DB_PARAMS(DB_I(id)),
				     &found);
		if (r == -ENOENT) {
			field_error(fe, name, "no user has this id");
			continue;
		}
		if (r < 0)
			return r;
		bool seen = false;
		for (size_t k = 0; k < *n && !seen; k++)
			seen = ids[k] == id;
		if (!seen)
			ids[(*n)++] = id;
	}
	return 0;
}

void show_hosts_put(struct api_request *req, struct api_response *res)
{
	static const char *const allowed[] = { "user_ids", NULL };
	int64_t show = req->ids[0];
	if (!show_exists(req, show, res))
		return;
	json_t *body = body_object(req, res);
	if (!body)
		return;
	struct field_errors fe = { 0 };
	body_only(body, allowed, &fe);
	int64_t ids[HOSTS_MAX];
	size_t n = 0;
	int r = read_user_ids(req->db, body, ids, &n, &fe);
	if (r < 0) {
		field_errors_release(&fe);
		problem_errno(res, r, "the users", NULL);
		goto out;
	}
	if (field_errors_any(&fe)) {
		problem_fields(res, &fe);
		goto out;
	}
	r = db_begin(req->db);
	if (r == 0)
		r = db_exec(req->db, "DELETE FROM show_hosts WHERE show_id = $1",
			    DB_PARAMS(DB_I(show)));
	for (size_t i = 0; r >= 0 && i < n; i++)
		r = db_exec(req->db, "INSERT INTO show_hosts (show_id, user_id) VALUES ($1, $2)",
			    DB_PARAMS(DB_I(show), DB_I(ids[i])));
	if (r >= 0)
		r = db_commit(req->db);
	if (r < 0) {
		db_rollback(req->db);
		if (r == -ENOENT)	/* the show or a user was deleted meanwhile */
			problem(res, 409, "the show or one of the users was deleted meanwhile;"
				" reload and try again");
		else
			problem_errno(res, r, "the show's hosts", NULL);
		goto out;
	}
	audit(req, "update", "show hosts", show, NULL);
	resource_schedule_changed(req);	/* hosts may go live during the show */
	json_t *doc = hosts_doc(req->db, show, &r);
	if (!doc)
		problem_errno(res, r, "the show's hosts", NULL);
	else
		api_response_json(res, 200, doc);
out:
	json_decref(body);
}

/* ------------------------------------------------------------ following rule changes */

/*
 * Bring the instances to come of show_id in step with its rules: made
 * again from now to its last instance (FOLLOW_AHEAD_US at least,
 * FOLLOW_MAX_US at most). Never fails the request: the change is stored,
 * and the next materialisation of the window does the same.
 */
static void follow_rules(struct api_request *req, int64_t show_id)
{
	int64_t from = req->now, to = from + FOLLOW_AHEAD_US, last;
	int r = db_query_int(req->db,
			     "SELECT MAX(starts_at) FROM show_instances WHERE show_id = $1"
			     " AND starts_at > $2",
			     DB_PARAMS(DB_I(show_id), DB_I(from)), &last);
	if (r == 0 && last >= to)
		to = last < from + FOLLOW_MAX_US ? last + 1 : from + FOLLOW_MAX_US;
	if (to > TIME_MAX_US)
		to = TIME_MAX_US;
	struct instances_report rep;
	for (int i = 0; i < MATERIALISE_TRIES; i++) {
		r = instances_materialise(req->db, from, to, req->now, NULL, &rep);
		if (r != -EBUSY && r != -EEXIST)
			break;
	}
	if (r < 0) {
		log_warn("api", "show %" PRId64 ": cannot make its instances again: %s (%s)",
			 show_id, onair_strerror(r), db_errmsg(req->db));
		return;
	}
	log_debug("api", "show %" PRId64 ": instances made %zu, updated %zu, deleted %zu"
		  " (with %zu items), relinked %zu; %zu rules skipped",
		  show_id, rep.created, rep.updated, rep.deleted, rep.deleted_items, rep.relinked,
		  rep.n_problems + rep.problems_dropped);
	instances_report_release(&rep);
}

/* ------------------------------------------------------------ recurrences */

static const char *const frequency_choices[] = { "once", "weekly", "monthly_by_day",
						 "monthly_by_weekday", NULL };

static const struct field recurrence_fields[] = {
	FID,
	{ .name = "show_id", .column = "show_id", .type = FT_ID, .flags = FF_RO | FF_FILTER,
	  .ref = "show" },
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

/* Copy text into dst (size bytes): false when it does not fit. */
static bool copy_text(char *dst, size_t size, const char *text)
{
	int n = snprintf(dst, size, "%s", text ? text : "");
	return n >= 0 && (size_t)n < size;
}

/* Read rule id into *r (and its show into *show_id, may be NULL). 0,
 * -ENOENT, or a database error. */
static int rule_load(struct db *db, int64_t id, struct recurrence *r, int64_t *show_id)
{
	memset(r, 0, sizeof(*r));
	struct db_rows *rows;
	int ret = db_query(db,
			   "SELECT frequency, repeat_every, weekdays, week_position, start_date,"
			   " start_time, duration_us, timezone, end_date, show_id"
			   " FROM show_recurrences WHERE id = $1",
			   DB_PARAMS(DB_I(id)), &rows);
	if (ret < 0)
		return ret;
	if (db_rows_next(rows)) {
		enum recurrence_frequency f = RECURRENCE_ONCE;
		const char *ft = db_col_text(rows, 0);
		if (!ft || recurrence_frequency_parse(ft, &f) < 0)
			f = (enum recurrence_frequency)-1;	/* recurrence_validate says so */
		r->frequency = f;
		r->repeat_every = (int)db_col_int(rows, 1);
		r->weekdays = (unsigned)db_col_int(rows, 2);
		r->week_position = db_col_is_null(rows, 3) ? 0 : (int)db_col_int(rows, 3);
		copy_text(r->start_date, sizeof(r->start_date), db_col_text(rows, 4));
		copy_text(r->start_time, sizeof(r->start_time), db_col_text(rows, 5));
		r->duration_us = db_col_int(rows, 6);
		copy_text(r->timezone, sizeof(r->timezone), db_col_text(rows, 7));
		copy_text(r->end_date, sizeof(r->end_date), db_col_text(rows, 8));
		if (show_id)
			*show_id = db_col_int(rows, 9);
	} else {
		ret = db_rows_error(rows) < 0 ? db_rows_error(rows) : -ENOENT;
	}
	db_rows_free(rows);
	return ret;
}

/* Check the writable members of body against fields[] as the engine
 * does (types, bounds, enums; the required ones when create). Errors
 * added to fe. */
static void fields_check(const struct field *fields, size_t n, json_t *body, bool create,
			 struct field_errors *fe)
{
	for (size_t i = 0; i < n; i++) {
		const struct field *f = &fields[i];
		if (f->flags & FF_RO)
			continue;
		json_t *v = json_object_get(body, f->name);
		if (!v) {
			if (create && (f->flags & FF_REQ))
				field_error(fe, f->name, "is required");
			continue;
		}
		if (json_is_null(v)) {
			if (!(f->flags & FF_NULL))
				field_error(fe, f->name, "must not be null");
			continue;
		}
		int64_t iv;
		const char *s;
		switch (f->type) {
		case FT_INT:
			body_int(body, f->name, f->min, f->max, &iv, fe);
			break;
		case FT_ID:
			body_int(body, f->name, 1, INT64_MAX, &iv, fe);
			break;
		case FT_TIME:
			if (!json_is_string(v) || time_parse_rfc3339(json_string_value(v), &iv) < 0)
				field_error(fe, f->name,
					    "must be an RFC 3339 time (2026-11-28T18:00:00Z)");
			break;
		case FT_TEXT:
		case FT_ENUM:
			if (body_text(body, f->name, f->max > 0 ? (size_t)f->max : TEXT_MAX,
				      &s, fe) <= 0)
				break;
			if ((f->flags & FF_NONEMPTY) && !*s)
				field_error(fe, f->name, "must not be empty");
			if (f->type == FT_ENUM) {
				bool ok = false;
				char list[256] = "";
				size_t len = 0;
				for (size_t k = 0; f->choices[k]; k++) {
					ok = ok || strcmp(f->choices[k], s) == 0;
					int w = snprintf(list + len, sizeof(list) - len, "%s%s",
							 k ? ", " : "", f->choices[k]);
					if (w > 0 && (size_t)w < sizeof(list) - len)
						len += (size_t)w;
				}
				if (!ok)
					field_error(fe, f->name, "must be one of %s", list);
			}
			break;
		default:
			field_error(fe, f->name, "cannot be set here");
			break;
		}
	}
}

/* Set the members of body over *r. Their types and bounds were checked
 * (fields_check or the engine); week_position 0 is refused here. */
static void rule_merge(json_t *body, struct recurrence *r, struct field_errors *fe)
{
	json_t *v;
	enum recurrence_frequency f;
	if ((v = json_object_get(body, "frequency")) && json_is_string(v) &&
	    recurrence_frequency_parse(json_string_value(v), &f) == 0)
		r->frequency = f;
	if ((v = json_object_get(body, "repeat_every")) && json_is_integer(v))
		r->repeat_every = (int)json_integer_value(v);
	if ((v = json_object_get(body, "weekdays")) && json_is_integer(v))
		r->weekdays = (unsigned)json_integer_value(v);
	if ((v = json_object_get(body, "week_position"))) {
		if (json_is_integer(v) && json_integer_value(v) == 0)
			field_error(fe, "week_position", "must be 1 to 5, or -1 for the last"
				    " (null when not monthly_by_weekday)");
		r->week_position = json_is_integer(v) ? (int)json_integer_value(v) : 0;
	}
	if ((v = json_object_get(body, "duration_us")) && json_is_integer(v))
		r->duration_us = json_integer_value(v);
	const struct {
		const char *name;
		char *dst;
		size_t size;
	} texts[] = {
		{ "start_date", r->start_date, sizeof(r->start_date) },
		{ "start_time", r->start_time, sizeof(r->start_time) },
		{ "timezone", r->timezone, sizeof(r->timezone) },
		{ "end_date", r->end_date, sizeof(r->end_date) },
	};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		v = json_object_get(body, texts[i].name);
		if (!v || !(json_is_string(v) || json_is_null(v)))
			continue;
		if (!copy_text(texts[i].dst, texts[i].size, json_string_value(v)))
			field_error(fe, texts[i].name, "is too long");
	}
}

/* The member a sentence of recurrence_validate is about. */
static const char *rule_field(const char *sentence)
{
	static const struct {
		const char *word, *field;
	} map[] = {
		/* Most specific first: "a monthly_by_weekday rule needs
		 * week_position", "end_date is before start_date". */
		{ "week_position", "week_position" },
		{ "weekday", "weekdays" },
		{ "repeat_every", "repeat_every" },
		{ "duration_us", "duration_us" },
		{ "start_time", "start_time" },
		{ "time zone", "timezone" },
		{ "end_date", "end_date" },
		{ "start_date", "start_date" },
		{ "frequency", "frequency" },
	};
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if (strstr(sentence, map[i].word))
			return map[i].field;
	}
	return "recurrence";
}

/* recurrence_validate r: 0 valid or a field error added to fe; -1 with
 * res filled when the time zone could not be read (not the client's
 * fault). */
static int rule_validate(const struct recurrence *r, struct field_errors *fe,
			 struct api_response *res)
{
	char err[256] = "";
	int ret = recurrence_validate(r, NULL, err, sizeof(err));
	if (ret == -EINVAL) {
		field_error(fe, rule_field(err), "%s", err[0] ? err : "is not a valid rule");
		return 0;
	}
	if (ret < 0) {
		problem_errno(res, ret, "reading the time zone", err[0] ? err : NULL);
		return -1;
	}
	return 0;
}

/* PATCH: the stored rule with the body's members over it must be valid. */
static int recurrence_check(struct api_request *req, int64_t id, json_t *body,
			    struct field_errors *fe, struct extra_cols *extra,
			    struct api_response *res)
{
	if (field_errors_any(fe))
		return 0;	/* the members themselves are wrong: say that first */
	struct recurrence r = { .repeat_every = 1 };
	if (id > 0) {
		int ret = rule_load(req->db, id, &r, NULL);
		if (ret < 0) {
			char what[48];
			snprintf(what, sizeof(what), "recurrence %" PRId64, id);
			problem_errno(res, ret, what, NULL);
			return -1;
		}
	}
	rule_merge(body, &r, fe);
	if (field_errors_any(fe))
		return 0;
	return rule_validate(&r, fe, res);
}

/* After a rule is deleted (show_id read before): its rows to come go. */
static void recurrence_deleted(struct api_request *req, int64_t id, const char *show)
{
	char *end;
	long long s = strtoll(show, &end, 10);
	if (*show && !*end && s > 0)
		follow_rules(req, s);
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
	.default_sort = "start_date",
	.check = recurrence_check,
	.after_delete = recurrence_deleted,
	.delete_extra_column = "show_id",
};

/* {"items": [the rows of rs whose ids the query sql ($1 = id) gives, as
 * resource_read has them]}, or NULL with res filled. */
static json_t *read_list(struct api_request *req, const struct resource *rs, const char *sql,
			 int64_t id, struct api_response *res)
{
	struct db_rows *rows;
	int r = db_query(req->db, sql, DB_PARAMS(DB_I(id)), &rows);
	if (r < 0) {
		problem_errno(res, r, "the list", NULL);
		return NULL;
	}
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	while (db_rows_next(rows)) {
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			ids = xreallocarray(ids, cap, sizeof(*ids));
		}
		ids[n++] = db_col_int(rows, 0);
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	json_t *items = json_array();
	for (size_t i = 0; r == 0 && i < n; i++) {
		json_t *obj = resource_read(req->db, rs, ids[i], &r);
		if (obj)
			json_array_append_new(items, obj);
		else if (r == -ENOENT)
			r = 0;	/* deleted meanwhile */
	}
	free(ids);
	if (r < 0) {
		json_decref(items);
		problem_errno(res, r, "the list", NULL);
		return NULL;
	}
	return json_pack("{s:o}", "items", items);
}

void show_recurrences_list(struct api_request *req, struct api_response *res)
{
	static const char *const none[] = { NULL };
	if (!query_only(req, none, res) || !show_exists(req, req->ids[0], res))
		return;
	json_t *doc = read_list(req, &res_recurrences,
				"SELECT id FROM show_recurrences WHERE show_id = $1"
				" ORDER BY start_date, start_time, id",
				req->ids[0], res);
	if (doc)
		api_response_json(res, 200, doc);
}

/* 201 with row id of rs and its Location under /api/v1/<path>. */
static void created(struct api_request *req, struct api_response *res, const struct resource *rs,
		    const char *path, int64_t id)
{
	int r;
	json_t *obj = resource_read(req->db, rs, id, &r);
	if (!obj) {
		problem_errno(res, r, rs->name, NULL);
		return;
	}
	char loc[96];
	snprintf(loc, sizeof(loc), "/api/v1/%s/%" PRId64, path, id);
	api_response_json(res, 201, obj);
	api_response_header(res, "Location", loc);
}

void show_recurrences_create(struct api_request *req, struct api_response *res)
{
	static const char *const allowed[] = { "frequency", "repeat_every", "weekdays",
					       "week_position", "start_date", "start_time",
					       "duration_us", "timezone", "end_date", "show_id",
					       NULL };
	int64_t show = req->ids[0];
	if (!show_exists(req, show, res))
		return;
	json_t *body = body_object(req, res);
	if (!body)
		return;
	struct field_errors fe = { 0 };
	body_only(body, allowed, &fe);
	if (json_object_get(body, "show_id"))
		field_error(&fe, "show_id", "is read-only: the show is the one of the path");
	fields_check(recurrence_fields, NFIELDS(recurrence_fields), body, true, &fe);
	struct recurrence r = { .repeat_every = 1 };
	if (!field_errors_any(&fe))
		rule_merge(body, &r, &fe);
	if (!field_errors_any(&fe) && rule_validate(&r, &fe, res) < 0) {
		field_errors_release(&fe);
		goto out;
	}
	if (field_errors_any(&fe)) {
		problem_fields(res, &fe);
		goto out;
	}
	int64_t id;
	int ret = db_query_int(req->db,
			       "INSERT INTO show_recurrences (show_id, frequency, repeat_every,"
			       " weekdays, week_position, start_date, start_time, duration_us,"
			       " timezone, end_date, created_at, updated_at)"
			       " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $11)"
			       " RETURNING id",
			       DB_PARAMS(DB_I(show), DB_T(recurrence_frequency_name(r.frequency)),
					 DB_I(r.repeat_every), DB_I(r.weekdays),
					 r.week_position ? DB_I(r.week_position) : DB_N,
					 DB_T(r.start_date), DB_T(r.start_time),
					 DB_I(r.duration_us), DB_T(r.timezone),
					 r.end_date[0] ? DB_T(r.end_date) : DB_N,
					 DB_I(req->now)),
			       &id);
	if (ret < 0) {
		char what[48];
		snprintf(what, sizeof(what), "show %" PRId64, show);
		problem_errno(res, ret, ret == -ENOENT ? what : "the recurrence", NULL);
		goto out;
	}
	audit(req, "create", res_recurrences.name, id, NULL);
	follow_rules(req, show);
	resource_schedule_changed(req);
	created(req, res, &res_recurrences, "recurrences", id);
out:
	json_decref(body);
}

/* ------------------------------------------------------------ exceptions */

static const char *const exception_kinds[] = { "cancelled", "moved", "edited", NULL };

static const struct field exception_fields[] = {
	FID,
	{ .name = "recurrence_id", .column = "recurrence_id", .type = FT_ID,
	  .flags = FF_RO | FF_FILTER, .ref = "recurrence" },
	FTXT("instance_date", FF_REQ | FF_SORT, RECURRENCE_DATE_SIZE - 1),
	FENUM("kind", FF_REQ | FF_FILTER, exception_kinds),
	FLD("moved_starts_at", FT_TIME, FF_NULL),
	FLD("moved_ends_at", FT_TIME, FF_NULL),
};

/* After an exception is deleted (its rule's id read before): the
 * occurrence comes back as the rule has it. */
static void exception_deleted(struct api_request *req, int64_t id, const char *recurrence)
{
	char *end;
	long long rec = strtoll(recurrence, &end, 10);
	int64_t show;
	if (!*recurrence || *end || rec <= 0)
		return;
	if (db_query_int(req->db, "SELECT show_id FROM show_recurrences WHERE id = $1",
			 DB_PARAMS(DB_I(rec)), &show) == 0)
		follow_rules(req, show);
}

const struct resource res_exceptions = {
	.name = "exception",
	.table = "show_exceptions",
	.fields = exception_fields,
	.nfields = NFIELDS(exception_fields),
	.create_role = ROLE_PM,
	.write_role = ROLE_PM,
	.schedule_change = true,
	.default_sort = "instance_date",
	.after_delete = exception_deleted,
	.delete_extra_column = "recurrence_id",
};

/* Rule id into *r and *show, or false with res filled (404...). */
static bool rule_found(struct api_request *req, int64_t id, struct recurrence *r, int64_t *show,
		       struct api_response *res)
{
	int ret = rule_load(req->db, id, r, show);
	if (ret < 0) {
		char what[48];
		snprintf(what, sizeof(what), "recurrence %" PRId64, id);
		problem_errno(res, ret, what, NULL);
		return false;
	}
	return true;
}

void recurrence_exceptions_list(struct api_request *req, struct api_response *res)
{
	static const char *const none[] = { NULL };
	struct recurrence r;
	int64_t show;
	if (!query_only(req, none, res) || !rule_found(req, req->ids[0], &r, &show, res))
		return;
	json_t *doc = read_list(req, &res_exceptions,
				"SELECT id FROM show_exceptions WHERE recurrence_id = $1"
				" ORDER BY instance_date, id",
				req->ids[0], res);
	if (doc)
		api_response_json(res, 200, doc);
}

/* The moved times of an exception of kind (checked members of body):
 * both for 'moved', ends after starts, at most a show's longest; none for
 * the others. Errors added to fe. */
static void moved_times(json_t *body, const char *kind, int64_t *starts, int64_t *ends,
			struct field_errors *fe)
{
	json_t *s = json_object_get(body, "moved_starts_at");
	json_t *e = json_object_get(body, "moved_ends_at");
	bool has_s = s && !json_is_null(s), has_e = e && !json_is_null(e);
	if (strcmp(kind, "moved") != 0) {
		if (has_s)
			field_error(fe, "moved_starts_at", "is only for a moved exception");
		if (has_e)
			field_error(fe, "moved_ends_at", "is only for a moved exception");
		return;
	}
	if (!has_s)
		field_error(fe, "moved_starts_at", "is required for a moved exception");
	if (!has_e)
		field_error(fe, "moved_ends_at", "is required for a moved exception");
	if (!has_s || !has_e)
		return;
	time_parse_rfc3339(json_string_value(s), starts);
	time_parse_rfc3339(json_string_value(e), ends);
	if (*ends <= *starts)
		field_error(fe, "moved_ends_at", "must be after moved_starts_at");
	else if (*ends - *starts > RECURRENCE_DURATION_MAX)
		field_error(fe, "moved_ends_at", "a show lasts at most 31 days");
}

void recurrence_exceptions_create(struct api_request *req, struct api_response *res)
{
	static const char *const allowed[] = { "instance_date", "kind", "moved_starts_at",
					       "moved_ends_at", "recurrence_id", NULL };
	int64_t rec = req->ids[0], show;
	struct recurrence r;
	if (!rule_found(req, rec, &r, &show, res))
		return;
	json_t *body = body_object(req, res);
	if (!body)
		return;
	struct field_errors fe = { 0 };
	body_only(body, allowed, &fe);
	if (json_object_get(body, "recurrence_id"))
		field_error(&fe, "recurrence_id", "is read-only: the recurrence is the one of the"
			    " path");
	fields_check(exception_fields, NFIELDS(exception_fields), body, true, &fe);
	int64_t starts = 0, ends = 0, day;
	const char *date = json_string_value(json_object_get(body, "instance_date"));
	const char *kind = json_string_value(json_object_get(body, "kind"));
	if (!field_errors_any(&fe)) {
		if (!recurrence_date_parse(date, &day))
			field_error(&fe, "instance_date", "must be a date (YYYY-MM-DD)");
		else if (!recurrence_occurs_on(&r, date))
			field_error(&fe, "instance_date", "recurrence %" PRId64
				    " has no occurrence on %s", rec, date);
		moved_times(body, kind, &starts, &ends, &fe);
	}
	if (field_errors_any(&fe)) {
		problem_fields(res, &fe);
		goto out;
	}
	bool moved = strcmp(kind, "moved") == 0;
	int64_t id;
	int ret = db_query_int(req->db,
			       "INSERT INTO show_exceptions (recurrence_id, instance_date, kind,"
			       " moved_starts_at, moved_ends_at) VALUES ($1, $2, $3, $4, $5)"
			       " RETURNING id",
			       DB_PARAMS(DB_I(rec), DB_T(date), DB_T(kind),
					 moved ? DB_I(starts) : DB_N, moved ? DB_I(ends) : DB_N),
			       &id);
	if (ret == -EEXIST) {
		problem_field(res, 409, "instance_date",
			      "recurrence %" PRId64 " has an exception for %s already; delete it"
			      " first", rec, date);
		goto out;
	}
	if (ret < 0) {
		char what[48];
		snprintf(what, sizeof(what), "recurrence %" PRId64, rec);
		problem_errno(res, ret, ret == -ENOENT ? what : "the exception", NULL);
		goto out;
	}
	audit(req, "create", res_exceptions.name, id, NULL);
	follow_rules(req, show);
	resource_schedule_changed(req);
	created(req, res, &res_exceptions, "exceptions", id);
out:
	json_decref(body);
}
