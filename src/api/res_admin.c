/*
 * res_admin.c - people and the station: users, settings, background
 * tasks; history: the as-run log (JSON and CSV) and listener
 * statistics; and the health check.
 */
#include "api/resources.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "api/audit.h"
#include "api/auth.h"
#include "api/body.h"
#include "common/buf.h"
#include "common/timeutil.h"
#include "station/settings.h"
#include "station/tz.h"
#include "worker/library.h"
#include "worker/podcast.h"

#define PASSWORD_MIN 8

static const char *const role_choices[] = { "admin", "program_manager", "host", "guest", NULL };

static const struct field user_fields[] = {
	FID,
	{ .name = "name", .column = "name", .type = FT_TEXT,
	  .flags = FF_REQ | FF_NONEMPTY | FF_SORT | FF_SEARCH, .max = 64 },
	FTXT("email", FF_NULL | FF_SEARCH, 254),
	FTXT("display_name", FF_SORT | FF_SEARCH, 200),
	{ .name = "role", .column = "role", .type = FT_ENUM, .flags = FF_REQ | FF_FILTER | FF_SORT,
	  .choices = role_choices },
	FLD("disabled", FT_BOOL, FF_FILTER),
	FCREATED,
	{ .name = "password", .column = "password_hash", .type = FT_TEXT, .flags = FF_VIRTUAL },
};

/* Whether another enabled admin than id exists. */
static bool other_admin(struct api_request *req, int64_t id)
{
	int64_t n = 0;
	db_query_int(req->db, "SELECT COUNT(*) FROM users WHERE role = 'admin' AND NOT disabled"
		     " AND id <> $1", DB_PARAMS(DB_I(id)), &n);
	return n > 0;
}

/* Names people can type: letters, digits, '.', '_', '-', '@'. A password
 * is hashed into password_hash. The last enabled admin stays one. */
static int user_check(struct api_request *req, int64_t id, json_t *body, struct field_errors *fe,
		      struct extra_cols *extra, struct api_response *res)
{
	const char *name = json_string_value(json_object_get(body, "name"));
	for (const char *p = name; p && *p; p++) {
		bool ok = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
			  (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-' ||
			  *p == '@';
		if (!ok) {
			field_error(fe, "name", "may hold letters, digits, '.', '_', '-' and '@' only");
			break;
		}
	}
	json_t *pw = json_object_get(body, "password");
	if (pw) {
		const char *s = json_string_value(pw);
		if (!s) {
			field_error(fe, "password", "must be a string");
		} else if (strlen(s) < PASSWORD_MIN || strlen(s) > 1024) {
			field_error(fe, "password", "must be %d to 1024 characters", PASSWORD_MIN);
		} else if (!field_errors_any(fe)) {
			if (auth_hash_password(s, extra->value[extra->n], sizeof(extra->value[0])) < 0) {
				problem(res, 503, "not enough memory to hash the password; try again");
				return -1;
			}
			extra->column[extra->n++] = "password_hash";
		}
	}
	if (id > 0) {
		const char *role = json_string_value(json_object_get(body, "role"));
		bool demote = role && strcmp(role, "admin") != 0;
		bool disable = json_is_true(json_object_get(body, "disabled"));
		if ((demote || disable) && !other_admin(req, id)) {
			int64_t is_admin = 0;
			db_query_int(req->db, "SELECT COUNT(*) FROM users WHERE id = $1 AND"
				     " role = 'admin' AND NOT disabled", DB_PARAMS(DB_I(id)),
				     &is_admin);
			if (is_admin) {
				problem(res, 409, "this is the last admin: make another admin first");
				return -1;
			}
		}
		if (disable)
			db_exec(req->db, "DELETE FROM sessions WHERE user_id = $1",
				DB_PARAMS(DB_I(id)));
	}
	return 0;
}

const struct resource res_users = {
	.name = "user",
	.table = "users",
	.fields = user_fields,
	.nfields = NFIELDS(user_fields),
	.create_role = ROLE_ADMIN,
	.write_role = ROLE_ADMIN,
	.created_only = true,
	.default_sort = "lower(name)",
	.check = user_check,
};

void users_delete(struct api_request *req, struct api_response *res)
{
	if (req->ids[0] == req->caller.user_id) {
		problem(res, 409, "you cannot delete your own account");
		return;
	}
	if (!other_admin(req, req->ids[0])) {
		problem(res, 409, "this is the last admin: make another admin first");
		return;
	}
	resource_delete(req, res);
}

static const struct field settings_fields[] = {
	{ .name = "name", .column = "name", .type = FT_TEXT, .flags = FF_NONEMPTY,
	  .max = STATION_NAME_MAX },
	FTXT("description", 0, 4000),
	FTXT("timezone", FF_NONEMPTY, STATION_TZ_MAX),
	FINT("default_fade_in_us", 0, 0, INT64_C(30000000)),
	FINT("default_fade_out_us", 0, 0, INT64_C(30000000)),
	FINT("default_crossfade_us", 0, 0, INT64_C(30000000)),
	{ .name = "loudness_target_lufs", .column = "loudness_target_lufs", .type = FT_REAL,
	  .min = -40, .max = -5 },
	FREF("fallback_playlist_id", FF_NULL, "playlist"),
	FLD("outputs", FT_JSON, 0),
	FLD("version", FT_INT, FF_RO),
	FLD("updated_at", FT_TIME, FF_RO),
};

static int settings_check(struct api_request *req, int64_t id, json_t *body,
			  struct field_errors *fe, struct extra_cols *extra,
			  struct api_response *res)
{
	const char *zone = json_string_value(json_object_get(body, "timezone"));
	if (zone) {
		struct tz *tz = NULL;
		if (!tz_name_valid(zone) || tz_load(&tz, zone, NULL) < 0)
			field_error(fe, "timezone", "unknown time zone \"%.64s\"", zone);
		tz_free(tz);
	}
	json_t *outputs = json_object_get(body, "outputs");
	if (outputs) {
		char *text = json_dumps(outputs, JSON_COMPACT | JSON_ENCODE_ANY);
		struct playout_settings ps;
		char err[256];
		if (!text || playout_settings_parse(text, &ps, err, sizeof(err)) < 0)
			field_error(fe, "outputs", "%s", text ? err : "cannot be read");
		else
			playout_settings_release(&ps);
		free(text);
	}
	return 0;
}

const struct resource res_settings = {
	.name = "settings",
	.table = "station_settings",
	.fields = settings_fields,
	.nfields = NFIELDS(settings_fields),
	.create_role = ROLE_ADMIN,
	.write_role = ROLE_ADMIN,
	.versioned = true,
	.schedule_change = true,
	.check = settings_check,
};

void settings_get(struct api_request *req, struct api_response *res)
{
	req->ids[0] = 1;
	resource_get(req, res);
}

void settings_update(struct api_request *req, struct api_response *res)
{
	req->ids[0] = 1;
	resource_update(req, res);
	/* resource_update does not know the row has no updated_at trigger:
	 * set it, and answer with the new value. */
	if (res->status == 200 &&
	    db_exec(req->db, "UPDATE station_settings SET updated_at = $1 WHERE id = 1",
		    DB_PARAMS(DB_I(req->now))) >= 0 && json_is_object(res->json))
		json_object_set_new(res->json, "updated_at", json_time(req->now));
}

static const struct field task_fields[] = {
	FID,
	FLD("task_id", FT_TEXT, FF_RO | FF_FILTER),
	FLD("kind", FT_TEXT, FF_RO | FF_FILTER | FF_SORT),
	{ .name = "state", .column = "state", .type = FT_ENUM, .flags = FF_RO | FF_FILTER | FF_SORT,
	  .choices = (const char *const[]){ "queued", "running", "done", "failed", NULL } },
	FLD("file_id", FT_ID, FF_RO | FF_FILTER | FF_NULL),
	FLD("podcast_id", FT_ID, FF_RO | FF_FILTER | FF_NULL),
	FLD("episode_id", FT_ID, FF_RO | FF_FILTER | FF_NULL),
	FLD("attempts", FT_INT, FF_RO),
	FLD("last_error", FT_TEXT, FF_RO),
	FCREATED,
	FUPDATED,
	FLD("started_at", FT_TIME, FF_RO),
	FLD("finished_at", FT_TIME, FF_RO),
};

const struct resource res_tasks = {
	.name = "task",
	.table = "tasks",
	.fields = task_fields,
	.nfields = NFIELDS(task_fields),
	.create_role = ROLE_ADMIN,
	.write_role = ROLE_ADMIN,
	.default_sort = "created_at DESC",
};

void task_retry(struct api_request *req, struct api_response *res)
{
	char what[48];
	snprintf(what, sizeof(what), "task %" PRId64, req->ids[0]);
	struct db_rows *rows;
	int r = db_query(req->db, "SELECT kind, state, file_id, podcast_id, episode_id FROM tasks"
			 " WHERE id = $1", DB_PARAMS(DB_I(req->ids[0])), &rows);
	if (r < 0) {
		problem_errno(res, r, what, NULL);
		return;
	}
	if (!db_rows_next(rows)) {
		db_rows_free(rows);
		problem_errno(res, -ENOENT, what, NULL);
		return;
	}
	char kind[32], state[16];
	snprintf(kind, sizeof(kind), "%s", db_col_text(rows, 0));
	snprintf(state, sizeof(state), "%s", db_col_text(rows, 1));
	int64_t file = db_col_int(rows, 2), podcast = db_col_int(rows, 3),
		episode = db_col_int(rows, 4);
	db_rows_free(rows);
	if (strcmp(state, "failed") != 0) {
		problem(res, 409, "%s is %s; only a failed task can be retried", what, state);
		return;
	}
	if (!need_queue(req, res))
		return;
	char task_id[LIBRARY_TASK_ID_SIZE + 16] = "";
	if (strcmp(kind, "analyze_file") == 0 && file) {
		r = library_reanalyze(req->db, req->ctx->mq, file, req->now, task_id);
	} else if (strcmp(kind, "ingest_episode") == 0 && episode) {
		r = podcast_enqueue_ingest(req->db, req->ctx->mq, episode, req->now, task_id);
	} else if (strcmp(kind, "poll_podcast") == 0 && podcast) {
		r = db_exec(req->db, "UPDATE podcasts SET last_checked_at = NULL WHERE id = $1",
			    DB_PARAMS(DB_I(podcast)));
		if (r >= 0)
			r = podcast_enqueue_due(req->db, req->ctx->mq, req->now, NULL);
		snprintf(task_id, sizeof(task_id), "poll.%" PRId64, podcast);
	} else {
		problem(res, 409, "%s (%s) cannot be retried: what it worked on is gone", what,
			kind);
		return;
	}
	if (r < 0) {
		problem_errno(res, r, "queueing the retry", NULL);
		return;
	}
	audit(req, "retry", "task", req->ids[0], NULL);
	api_response_json(res, 202, json_pack("{s:I, s:s}", "retried", (json_int_t)req->ids[0],
					      "task_id", task_id));
}

/* One CSV field, quoted when needed (RFC 4180). */
static void csv_field(struct buf *b, const char *s, bool last)
{
	s = s ? s : "";
	if (strpbrk(s, ",\"\r\n")) {
		buf_append_char(b, '"');
		for (; *s; s++) {
			if (*s == '"')
				buf_append_char(b, '"');
			buf_append_char(b, *s);
		}
		buf_append_char(b, '"');
	} else {
		buf_append_str(b, s);
	}
	buf_append_str(b, last ? "\r\n" : ",");
}

#define AS_RUN_COLS 13
static const char *const as_run_names[AS_RUN_COLS] = {
	"id", "started_at", "ended_at", "scheduled_start_at", "title", "artist", "file_id",
	"show_name", "instance_id", "source", "end_reason", "playout_instance", "kind",
};

/*
 * The as-run log: the items played (one row per item, whichever playout
 * instance reported it first) and the live sessions, a DJ's title being
 * their name. A DJ (or an unnamed one) on the same input heard by several
 * playout instances within LIVE_SAME_US of each other is one session: the
 * first instance's within the window.
 */
#define LIVE_SAME_US "30000000"
#define AS_RUN_SQL \
	"SELECT a.id, a.started_at, a.ended_at, a.scheduled_start_at, a.title," \
	" a.artist, a.file_id, s.name, a.instance_id, a.source, a.end_reason," \
	" a.playout_instance, 'item' FROM as_run a" \
	" LEFT JOIN show_instances i ON i.id = a.instance_id" \
	" LEFT JOIN shows s ON s.id = i.show_id" \
	" WHERE a.started_at >= $1 AND a.started_at < $2" \
	" UNION ALL" \
	" SELECT l.id, l.connected_at, l.disconnected_at, NULL, l.user_name, NULL, NULL," \
	" s.name, l.instance_id, CASE WHEN l.input = 'main' THEN 'main_live'" \
	" ELSE 'show_live' END, NULL, l.playout_instance, 'live' FROM live_sessions l" \
	" LEFT JOIN show_instances i ON i.id = l.instance_id" \
	" LEFT JOIN shows s ON s.id = i.show_id" \
	" WHERE l.connected_at >= $1 AND l.connected_at < $2 AND NOT EXISTS (SELECT 1" \
	" FROM live_sessions o WHERE o.input = l.input" \
	" AND (o.user_name = l.user_name OR (o.user_name IS NULL AND l.user_name IS NULL))" \
	" AND o.playout_instance <> l.playout_instance AND o.connected_at >= $1" \
	" AND o.connected_at > l.connected_at - " LIVE_SAME_US \
	" AND (o.connected_at < l.connected_at OR (o.connected_at = l.connected_at" \
	" AND o.id < l.id)))" \
	" ORDER BY 2, 13, 1 LIMIT $3 OFFSET $4"

void as_run_list(struct api_request *req, struct api_response *res)
{
	static const char *const allowed[] = { "from", "to", "format", "limit", "offset", NULL };
	if (!query_only(req, allowed, res))
		return;
	int64_t from, to, limit = 1000, offset = 0;
	if (!query_range(req, 366, &from, &to, res) ||
	    query_int(req, "limit", 1, 100000, &limit, res) < 0 ||
	    query_int(req, "offset", 0, INT32_MAX, &offset, res) < 0)
		return;
	const char *format = api_query(req, "format");
	const char *accept = api_header(req, "Accept");
	bool csv = (format && strcmp(format, "csv") == 0) ||
		   (!format && accept && strncmp(accept, "text/csv", 8) == 0);
	if (format && !csv && strcmp(format, "json") != 0) {
		problem_field(res, 400, "format", "format must be json or csv");
		return;
	}
	if (csv && !api_query(req, "limit"))
		limit = 100000;
	struct db_rows *rows;
	int r = db_query(req->db, AS_RUN_SQL,
			 DB_PARAMS(DB_I(from), DB_I(to), DB_I(limit), DB_I(offset)), &rows);
	if (r < 0) {
		problem_errno(res, r, "the as-run log", NULL);
		return;
	}
	struct buf out;
	buf_init(&out, (size_t)256 << 20);
	json_t *items = csv ? NULL : json_array();
	if (csv) {
		for (int c = 0; c < AS_RUN_COLS; c++)
			csv_field(&out, as_run_names[c], c == AS_RUN_COLS - 1);
	}
	while (db_rows_next(rows)) {
		if (csv) {
			for (int c = 0; c < AS_RUN_COLS; c++) {
				char ts[40];
				const char *v = db_col_text(rows, c);
				if ((c >= 1 && c <= 3) && !db_col_is_null(rows, c)) {
					time_format_rfc3339(db_col_int(rows, c), ts, sizeof(ts));
					v = ts;
				}
				csv_field(&out, v, c == AS_RUN_COLS - 1);
			}
			continue;
		}
		json_t *o = json_object();
		for (int c = 0; c < AS_RUN_COLS; c++) {
			json_t *v;
			if (db_col_is_null(rows, c))
				v = json_null();
			else if (c >= 1 && c <= 3)
				v = json_time(db_col_int(rows, c));
			else if (c == 0 || c == 6 || c == 8)
				v = json_integer(db_col_int(rows, c));
			else
				v = json_string(db_col_text(rows, c));
			json_object_set_new(o, as_run_names[c], v ? v : json_null());
		}
		json_array_append_new(items, o);
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0) {
		json_decref(items);
		buf_release(&out);
		problem_errno(res, r, "the as-run log", NULL);
		return;
	}
	if (csv) {
		api_response_text(res, 200, "text/csv; charset=utf-8", out.data ? out.data : "",
				  out.len);
		api_response_header(res, "Content-Disposition", "attachment; filename=\"as-run.csv\"");
	} else {
		api_response_json(res, 200, json_pack("{s:o, s:I, s:I}", "items", items, "limit",
						      (json_int_t)limit, "offset", (json_int_t)offset));
	}
	buf_release(&out);
}

void listener_stats(struct api_request *req, struct api_response *res)
{
	static const char *const allowed[] = { "from", "to", "output", NULL };
	if (!query_only(req, allowed, res))
		return;
	int64_t from, to;
	if (!query_range(req, 31, &from, &to, res))
		return;
	const char *output = api_query(req, "output");
	struct db_rows *rows;
	int r = db_query(req->db,
			 "SELECT output, at, listeners FROM listener_counts"
			 " WHERE at >= $1 AND at < $2 AND ($3 IS NULL OR output = $3)"
			 " ORDER BY at, output LIMIT 50001",
			 DB_PARAMS(DB_I(from), DB_I(to), DB_T(output)), &rows);
	if (r < 0) {
		problem_errno(res, r, "the listener counts", NULL);
		return;
	}
	json_t *items = json_array();
	while (db_rows_next(rows)) {
		json_array_append_new(items, json_pack("{s:s, s:o, s:I}", "output",
						       db_col_text(rows, 0), "at",
						       json_time(db_col_int(rows, 1)), "listeners",
						       (json_int_t)db_col_int(rows, 2)));
	}
	db_rows_free(rows);
	if (json_array_size(items) > 50000) {
		json_decref(items);
		problem_field(res, 400, "to", "more than 50000 samples: ask for a shorter range");
		return;
	}
	api_response_json(res, 200, json_pack("{s:o}", "items", items));
}

void listener_stats_shows(struct api_request *req, struct api_response *res)
{
	static const char *const allowed[] = { "from", "to", NULL };
	if (!query_only(req, allowed, res))
		return;
	int64_t from, to;
	if (!query_range(req, 366, &from, &to, res))
		return;
	struct db_rows *rows;
	int r = db_query(req->db,
			 "SELECT i.id, s.id, s.name, i.starts_at, i.ends_at, c.output,"
			 " MAX(c.listeners), AVG(c.listeners), COUNT(c.id)"
			 " FROM show_instances i JOIN shows s ON s.id = i.show_id"
			 " JOIN listener_counts c ON c.at >= i.starts_at AND c.at < i.ends_at"
			 " WHERE i.starts_at < $2 AND i.ends_at > $1"
			 " GROUP BY i.id, s.id, s.name, i.starts_at, i.ends_at, c.output"
			 " ORDER BY i.starts_at, c.output",
			 DB_PARAMS(DB_I(from), DB_I(to)), &rows);
	if (r < 0) {
		problem_errno(res, r, "the listener counts", NULL);
		return;
	}
	json_t *items = json_array();
	while (db_rows_next(rows)) {
		json_array_append_new(items, json_pack(
			"{s:I, s:I, s:s, s:o, s:o, s:s, s:I, s:f, s:I}",
			"instance_id", (json_int_t)db_col_int(rows, 0),
			"show_id", (json_int_t)db_col_int(rows, 1),
			"show_name", db_col_text(rows, 2),
			"starts_at", json_time(db_col_int(rows, 3)),
			"ends_at", json_time(db_col_int(rows, 4)),
			"output", db_col_text(rows, 5),
			"peak", (json_int_t)db_col_int(rows, 6),
			"average", db_col_real(rows, 7),
			"samples", (json_int_t)db_col_int(rows, 8)));
	}
	db_rows_free(rows);
	api_response_json(res, 200, json_pack("{s:o}", "items", items));
}

void health(struct api_request *req, struct api_response *res)
{
	api_response_json(res, 200, json_pack("{s:s, s:s}", "status", "ok", "version",
					      ONAIR_VERSION));
}
