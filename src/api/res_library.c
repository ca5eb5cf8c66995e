/*
 * res_library.c - the library's resources: track types, files (their
 * metadata; bytes in and out are in media.c), webstreams and podcasts
 * with their episodes.
 */
#include "api/resources.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "api/audit.h"
#include "api/body.h"
#include "common/error.h"
#include "db/db.h"
#include "storage/storage.h"
#include "worker/podcast.h"

static const struct field track_type_fields[] = {
	FID,
	{ .name = "code", .column = "code", .type = FT_TEXT,
	  .flags = FF_REQ | FF_NONEMPTY | FF_SORT | FF_FILTER, .max = 32 },
	{ .name = "name", .column = "name", .type = FT_TEXT,
	  .flags = FF_REQ | FF_NONEMPTY | FF_SORT | FF_SEARCH, .max = 200 },
	FTXT("description", 0, 4000),
	{ .name = "silence_threshold_db", .column = "silence_threshold_db", .type = FT_REAL,
	  .min = -120, .max = 0 },
	FINT("silence_min_us", 0, 0, INT64_C(60000000)),
};

/* A track type's code: [a-z0-9_-], as it is used in smart block criteria. */
static int track_type_check(struct api_request *req, int64_t id, json_t *body,
			    struct field_errors *fe, struct extra_cols *extra,
			    struct api_response *res)
{
	const char *code = json_string_value(json_object_get(body, "code"));
	for (const char *p = code; p && *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' ||
		      *p == '-')) {
			field_error(fe, "code", "may hold only a-z, 0-9, '_' and '-'");
			break;
		}
	}
	return 0;
}

const struct resource res_track_types = {
	.name = "track type",
	.table = "track_types",
	.fields = track_type_fields,
	.nfields = NFIELDS(track_type_fields),
	.create_role = ROLE_PM,
	.write_role = ROLE_PM,
	.default_sort = "lower(name)",
	.check = track_type_check,
};

static const struct field file_fields[] = {
	FID,
	FLD("content_hash", FT_TEXT, FF_RO | FF_FILTER),
	FLD("size", FT_INT, FF_RO | FF_SORT),
	FLD("mime", FT_TEXT, FF_RO | FF_FILTER),
	{ .name = "import_status", .column = "import_status", .type = FT_ENUM,
	  .flags = FF_RO | FF_FILTER | FF_SORT,
	  .choices = (const char *const[]){ "pending", "ready", "failed", NULL } },
	FLD("failure_reason", FT_TEXT, FF_RO),
	{ .name = "uploaded_by", .column = "uploaded_by", .type = FT_ID,
	  .flags = FF_RO | FF_FILTER | FF_NULL, .ref = "user" },
	FCREATED,
	FUPDATED,
	FREF("track_type_id", FF_NULL | FF_FILTER, "track type"),
	FTXT("title", FF_NULL | FF_SORT | FF_SEARCH, 500),
	FTXT("artist", FF_NULL | FF_SORT | FF_SEARCH | FF_FILTER, 500),
	FTXT("album", FF_NULL | FF_SORT | FF_SEARCH | FF_FILTER, 500),
	FTXT("genre", FF_NULL | FF_SORT | FF_FILTER, 200),
	FINT("year", FF_NULL | FF_SORT | FF_FILTER, 0, 9999),
	FINT("track_number", FF_NULL, 0, 9999),
	FINT("disc_number", FF_NULL, 0, 999),
	FTXT("composer", FF_NULL | FF_FILTER, 500),
	FTXT("label", FF_NULL | FF_FILTER, 500),
	FTXT("isrc", FF_NULL | FF_FILTER, 32),
	{ .name = "bpm", .column = "bpm", .type = FT_REAL, .flags = FF_NULL, .min = 0, .max = 1000 },
	FTXT("comment", FF_NULL, 4000),
	FTXT("language", FF_NULL | FF_FILTER, 64),
	FLD("duration_us", FT_INT, FF_RO | FF_SORT),
	FLD("sample_rate", FT_INT, FF_RO),
	FLD("channels", FT_INT, FF_RO),
	FLD("bitrate", FT_INT, FF_RO),
	FLD("codec", FT_TEXT, FF_RO),
	FLD("container", FT_TEXT, FF_RO),
	FLD("loudness_lufs", FT_REAL, FF_RO | FF_SORT),
	FLD("loudness_range", FT_REAL, FF_RO),
	FLD("true_peak_dbtp", FT_REAL, FF_RO),
	FLD("replaygain_db", FT_REAL, FF_RO),
	FINT("cue_in_us", FF_NULL, 0, INT64_MAX),
	FINT("cue_out_us", FF_NULL, 0, INT64_MAX),
	/* Fades of the file, for items without their own (at most 30 s, as the
	 * station's defaults). */
	FINT("fade_in_us", FF_NULL, 0, 30000000),
	FINT("fade_out_us", FF_NULL, 0, 30000000),
	FLD("last_played_at", FT_TIME, FF_RO | FF_SORT),
	FLD("play_count", FT_INT, FF_RO | FF_SORT),
	FLD("published_at", FT_TIME, FF_NULL | FF_SORT),
};

/* Cue points in order and within the file. */
static int file_check(struct api_request *req, int64_t id, json_t *body, struct field_errors *fe,
		      struct extra_cols *extra, struct api_response *res)
{
	json_t *ci = json_object_get(body, "cue_in_us"), *co = json_object_get(body, "cue_out_us");
	if (!ci && !co)
		return 0;
	struct db_rows *rows;
	int r = db_query(req->db, "SELECT cue_in_us, cue_out_us, duration_us FROM files"
			 " WHERE id = $1", DB_PARAMS(DB_I(id)), &rows);
	if (r < 0) {
		problem_errno(res, r, "the file", NULL);
		return -1;
	}
	int64_t in = 0, out = -1, dur = -1;
	if (db_rows_next(rows)) {
		in = db_col_int(rows, 0);
		out = db_col_is_null(rows, 1) ? -1 : db_col_int(rows, 1);
		dur = db_col_is_null(rows, 2) ? -1 : db_col_int(rows, 2);
	}
	db_rows_free(rows);
	if (ci)
		in = json_is_integer(ci) ? json_integer_value(ci) : 0;
	if (co)
		out = json_is_integer(co) ? json_integer_value(co) : -1;
	if (out < 0)
		out = dur;
	if (out >= 0 && out <= in)
		field_error(fe, co ? "cue_out_us" : "cue_in_us", "cue out must come after cue in");
	else if (dur >= 0 && (out > dur || in >= dur))
		field_error(fe, co ? "cue_out_us" : "cue_in_us",
			    "cue points must lie within the file (%" PRId64 " us)", dur);
	return 0;
}

/* Remove the stored bytes of a deleted file. */
static void file_deleted(struct api_request *req, int64_t id, const char *key)
{
	if (key[0] && storage_key_valid(key))
		storage_remove(req->ctx->storage, key);
}

const struct resource res_files = {
	.name = "file",
	.table = "files",
	.fields = file_fields,
	.nfields = NFIELDS(file_fields),
	.create_role = ROLE_HOST,
	.write_role = ROLE_PM,
	.owner_column = "uploaded_by",
	.timestamps = true,
	.schedule_change = true,
	.default_sort = "lower(title)",
	.check = file_check,
	.after_delete = file_deleted,
	.delete_extra_column = "storage_key",
};

static const struct field webstream_fields[] = {
	FID,
	{ .name = "name", .column = "name", .type = FT_TEXT,
	  .flags = FF_REQ | FF_NONEMPTY | FF_SORT | FF_SEARCH, .max = 200 },
	{ .name = "url", .column = "url", .type = FT_TEXT, .flags = FF_REQ | FF_NONEMPTY,
	  .max = 2000 },
	FTXT("description", 0, 4000),
	{ .name = "duration_us", .column = "duration_us", .type = FT_INT, .flags = FF_REQ | FF_SORT,
	  .min = 1000000, .max = INT64_C(86400000000) },
	{ .name = "created_by", .column = "created_by", .type = FT_ID,
	  .flags = FF_OWNER | FF_NULL | FF_FILTER, .ref = "user" },
	FCREATED,
	FUPDATED,
};


static int url_check(struct api_request *req, int64_t id, json_t *body, struct field_errors *fe,
		     struct extra_cols *extra, struct api_response *res)
{
	const char *url = json_string_value(json_object_get(body, "url"));
	if (url && !http_url_ok(url))
		field_error(fe, "url", "must be an http:// or https:// URL");
	return 0;
}

const struct resource res_webstreams = {
	.name = "webstream",
	.table = "webstreams",
	.fields = webstream_fields,
	.nfields = NFIELDS(webstream_fields),
	.create_role = ROLE_HOST,
	.write_role = ROLE_PM,
	.owner_column = "created_by",
	.timestamps = true,
	.schedule_change = true,
	.default_sort = "lower(name)",
	.check = url_check,
};

static const struct field podcast_fields[] = {
	FID,
	{ .name = "url", .column = "url", .type = FT_TEXT, .flags = FF_REQ | FF_NONEMPTY,
	  .max = 2000 },
	FLD("title", FT_TEXT, FF_RO | FF_SORT | FF_SEARCH),
	FLD("description", FT_TEXT, FF_RO),
	FLD("image_url", FT_TEXT, FF_RO),
	FLD("auto_ingest", FT_BOOL, FF_FILTER),
	FREF("track_type_id", FF_NULL, "track type"),
	{ .name = "poll_interval_us", .column = "poll_interval_us", .type = FT_INT,
	  .min = INT64_C(300000000), .max = INT64_C(604800000000) },
	FLD("tag_override", FT_BOOL, 0),
	{ .name = "created_by", .column = "created_by", .type = FT_ID,
	  .flags = FF_OWNER | FF_NULL | FF_RO, .ref = "user" },
	FLD("last_checked_at", FT_TIME, FF_RO),
	FLD("last_error", FT_TEXT, FF_RO),
	FCREATED,
	FUPDATED,
};

const struct resource res_podcasts = {
	.name = "podcast",
	.table = "podcasts",
	.fields = podcast_fields,
	.nfields = NFIELDS(podcast_fields),
	.create_role = ROLE_PM,
	.write_role = ROLE_PM,
	.timestamps = true,
	.default_sort = "lower(title)",
	.check = url_check,
};

/* 404 unless podcast id exists. */
static bool podcast_exists(struct api_request *req, int64_t id, struct api_response *res)
{
	int64_t found;
	int r = db_query_int(req->db, "SELECT id FROM podcasts WHERE id = $1", DB_PARAMS(DB_I(id)),
			     &found);
	if (r < 0) {
		char what[48];
		snprintf(what, sizeof(what), "podcast %" PRId64, id);
		problem_errno(res, r, what, NULL);
		return false;
	}
	return true;
}

void podcast_episodes_list(struct api_request *req, struct api_response *res)
{
	static const char *const allowed[] = { "limit", "offset", NULL };
	if (!query_only(req, allowed, res) || !podcast_exists(req, req->ids[0], res))
		return;
	int64_t limit = 50, offset = 0;
	if (query_int(req, "limit", 1, 500, &limit, res) < 0 ||
	    query_int(req, "offset", 0, INT32_MAX, &offset, res) < 0)
		return;
	struct db_rows *rows;
	int r = db_query(req->db,
			 "SELECT id, podcast_id, guid, title, description, published_at,"
			 " enclosure_url, enclosure_size, file_id, import_status, failure_reason,"
			 " created_at FROM podcast_episodes WHERE podcast_id = $1"
			 " ORDER BY published_at DESC, id DESC LIMIT $2 OFFSET $3",
			 DB_PARAMS(DB_I(req->ids[0]), DB_I(limit), DB_I(offset)), &rows);
	if (r < 0) {
		problem_errno(res, r, "the episodes", NULL);
		return;
	}
	json_t *items = json_array();
	while (db_rows_next(rows)) {
		json_t *e = json_object();
		json_object_set_new(e, "id", json_integer(db_col_int(rows, 0)));
		json_object_set_new(e, "podcast_id", json_integer(db_col_int(rows, 1)));
		json_object_set_new(e, "guid", json_string(db_col_text(rows, 2)));
		json_object_set_new(e, "title", json_string(db_col_text(rows, 3)));
		json_object_set_new(e, "description", json_string(db_col_text(rows, 4)));
		json_object_set_new(e, "published_at", db_col_is_null(rows, 5) ? json_null()
				    : json_time(db_col_int(rows, 5)));
		json_object_set_new(e, "enclosure_url", json_string(db_col_text(rows, 6)));
		json_object_set_new(e, "enclosure_size", json_col_int(rows, 7));
		json_object_set_new(e, "file_id", json_col_int(rows, 8));
		json_object_set_new(e, "import_status", json_string(db_col_text(rows, 9)));
		json_object_set_new(e, "failure_reason", json_col_text(rows, 10));
		json_object_set_new(e, "created_at", json_time(db_col_int(rows, 11)));
		json_array_append_new(items, e);
	}
	db_rows_free(rows);
	int64_t total = 0;
	db_query_int(req->db, "SELECT COUNT(*) FROM podcast_episodes WHERE podcast_id = $1",
		     DB_PARAMS(DB_I(req->ids[0])), &total);
	api_response_json(res, 200, json_pack("{s:o, s:I, s:I, s:I}", "items", items, "total",
					      (json_int_t)total, "limit", (json_int_t)limit,
					      "offset", (json_int_t)offset));
}

void podcast_poll_now(struct api_request *req, struct api_response *res)
{
	if (!podcast_exists(req, req->ids[0], res) || !need_queue(req, res))
		return;
	int r = db_exec(req->db, "UPDATE podcasts SET last_checked_at = NULL WHERE id = $1",
			DB_PARAMS(DB_I(req->ids[0])));
	size_t n = 0;
	if (r >= 0)
		r = podcast_enqueue_due(req->db, req->ctx->mq, req->now, &n);
	if (r < 0) {
		problem_errno(res, r, "queueing the poll", NULL);
		return;
	}
	audit(req, "poll", "podcast", req->ids[0], NULL);
	api_response_json(res, 202, json_pack("{s:I, s:b}", "podcast_id", (json_int_t)req->ids[0],
					      "queued", 1));
}

void podcast_episode_ingest(struct api_request *req, struct api_response *res)
{
	int64_t podcast = req->ids[0], episode = req->ids[1];
	int64_t owner;
	int r = db_query_int(req->db, "SELECT podcast_id FROM podcast_episodes WHERE id = $1",
			     DB_PARAMS(DB_I(episode)), &owner);
	if (r == 0 && owner != podcast)
		r = -ENOENT;
	if (r < 0) {
		char what[64];
		snprintf(what, sizeof(what), "episode %" PRId64 " of podcast %" PRId64, episode,
			 podcast);
		problem_errno(res, r, what, NULL);
		return;
	}
	if (!need_queue(req, res))
		return;
	char task[80];
	r = podcast_enqueue_ingest(req->db, req->ctx->mq, episode, req->now, task);
	if (r == -EALREADY) {
		problem(res, 409, "episode %" PRId64 " is already being imported or imported", episode);
		return;
	}
	if (r < 0) {
		problem_errno(res, r, "queueing the import", NULL);
		return;
	}
	audit(req, "ingest", "episode", episode, NULL);
	api_response_json(res, 202, json_pack("{s:I, s:s}", "episode_id", (json_int_t)episode,
					      "task_id", task));
}
