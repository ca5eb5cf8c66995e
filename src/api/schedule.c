/*
 * schedule.c - show instances and their items: reading a window,
 * placing, moving and removing items with the station's scheduling rules
 * (station/placement.h) and optimistic concurrency.
 *
 * Reads make sure the instances of their window exist
 * (instances_materialise). That is a write, so it is done once per
 * window and process and then again only after a minute or after a
 * change made through this process.
 */
#include "api/resources.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/audit.h"
#include "api/body.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "db/db.h"
#include "station/build.h"
#include "station/instances.h"
#include "station/placement.h"

#define DAY_US (INT64_C(86400) * 1000000)
#define INSTANCES_WINDOW_DAYS 62
#define SCHEDULE_WINDOW_DAYS 31
#define COVER_TTL_US (INT64_C(60) * 1000000)

static pthread_mutex_t cover_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t cover_from, cover_to, cover_until, cover_epoch;
static int64_t change_epoch;

void schedule_cache_invalidate(void)
{
	pthread_mutex_lock(&cover_lock);
	change_epoch++;
	pthread_mutex_unlock(&cover_lock);
}

/* Materialise [from, to) unless this process did so lately. */
static int ensure_instances(struct api_request *req, int64_t from, int64_t to)
{
	pthread_mutex_lock(&cover_lock);
	bool covered = cover_epoch == change_epoch && req->now < cover_until &&
		       from >= cover_from && to <= cover_to;
	int64_t epoch = change_epoch;
	pthread_mutex_unlock(&cover_lock);
	if (covered)
		return 0;
	int r = -EBUSY;
	for (int attempt = 0; attempt < 3 && (r == -EBUSY || r == -EEXIST); attempt++) {
		struct instances_report rep;
		r = instances_materialise(req->db, from, to, req->now, NULL, &rep);
		if (r == 0) {
			for (size_t i = 0; i < rep.n_problems; i++)
				log_warn("api", "show %" PRId64 ": %s", rep.problems[i].show_id,
					 rep.problems[i].reason);
			instances_report_release(&rep);
		}
	}
	if (r < 0)
		return r;
	pthread_mutex_lock(&cover_lock);
	if (epoch == change_epoch) {
		cover_from = from;
		cover_to = to;
		cover_until = req->now + COVER_TTL_US;
		cover_epoch = epoch;
	}
	pthread_mutex_unlock(&cover_lock);
	return 0;
}

#define INSTANCE_COLS \
	"i.id, i.show_id, s.name, s.color, i.starts_at, i.ends_at, i.version," \
	" i.recurrence_id, i.instance_date, i.rebroadcast_of, i.linked_to"

/* The instance row read with INSTANCE_COLS, with its fill. */
static json_t *instance_json(struct api_request *req, struct db_rows *rows)
{
	json_t *o = json_pack("{s:I, s:I, s:s, s:o, s:o, s:o, s:I}",
			      "id", (json_int_t)db_col_int(rows, 0),
			      "show_id", (json_int_t)db_col_int(rows, 1),
			      "show_name", db_col_text(rows, 2),
			      "color", json_col_text(rows, 3),
			      "starts_at", json_time(db_col_int(rows, 4)),
			      "ends_at", json_time(db_col_int(rows, 5)),
			      "version", (json_int_t)db_col_int(rows, 6));
	json_object_set_new(o, "recurrence_id", json_col_int(rows, 7));
	json_object_set_new(o, "instance_date", json_col_text(rows, 8));
	json_object_set_new(o, "rebroadcast_of", json_col_int(rows, 9));
	json_object_set_new(o, "linked_to", json_col_int(rows, 10));
	return o;
}

/* Add the fill of instance id to o. */
static void add_fill(struct api_request *req, json_t *o, int64_t id)
{
	struct placement_fill fill;
	if (placement_fill(req->db, id, &fill) < 0)
		memset(&fill, 0, sizeof(fill));
	json_object_set_new(o, "scheduled_us", json_integer(fill.scheduled_us));
	json_object_set_new(o, "gap_us", json_integer(fill.gap_us));
	json_object_set_new(o, "overbooked_us", json_integer(fill.overbooked_us));
	json_object_set_new(o, "items_count", json_integer((json_int_t)fill.n_items));
}

void instances_list_handler(struct api_request *req, struct api_response *res)
{
	static const char *const allowed[] = { "from", "to", "show_id", NULL };
	if (!query_only(req, allowed, res))
		return;
	int64_t from, to, show = 0;
	if (!query_range(req, INSTANCES_WINDOW_DAYS, &from, &to, res) ||
	    query_int(req, "show_id", 1, INT64_MAX, &show, res) < 0)
		return;
	int r = ensure_instances(req, from, to);
	if (r < 0) {
		problem_errno(res, r, "the instances", NULL);
		return;
	}
	struct db_rows *rows;
	r = db_query(req->db, "SELECT " INSTANCE_COLS " FROM show_instances i"
		     " JOIN shows s ON s.id = i.show_id"
		     " WHERE i.starts_at < $2 AND i.ends_at > $1 AND ($3 = 0 OR i.show_id = $3)"
		     " ORDER BY i.starts_at, i.id LIMIT 5000",
		     DB_PARAMS(DB_I(from), DB_I(to), DB_I(show)), &rows);
	if (r < 0) {
		problem_errno(res, r, "the instances", NULL);
		return;
	}
	json_t *items = json_array();
	while (db_rows_next(rows))
		json_array_append_new(items, instance_json(req, rows));
	db_rows_free(rows);
	for (size_t i = 0; i < json_array_size(items); i++) {
		json_t *o = json_array_get(items, i);
		add_fill(req, o, json_integer_value(json_object_get(o, "id")));
	}
	api_response_json(res, 200, json_pack("{s:o}", "items", items));
}

/* The whole document of instance id: the instance, its fill, hosts and
 * items. NULL with *err set. */
static json_t *instance_document(struct api_request *req, int64_t id, int *err)
{
	struct db_rows *rows;
	int r = db_query(req->db, "SELECT " INSTANCE_COLS " FROM show_instances i"
			 " JOIN shows s ON s.id = i.show_id WHERE i.id = $1",
			 DB_PARAMS(DB_I(id)), &rows);
	if (r < 0) {
		*err = r;
		return NULL;
	}
	if (!db_rows_next(rows)) {
		db_rows_free(rows);
		*err = -ENOENT;
		return NULL;
	}
	json_t *o = instance_json(req, rows);
	db_rows_free(rows);
	add_fill(req, o, id);
	int64_t content = id;
	placement_content_instance(req->db, id, &content);
	json_t *hosts = json_array();
	if (db_query(req->db, "SELECT h.user_id FROM show_hosts h JOIN show_instances i"
		     " ON i.show_id = h.show_id WHERE i.id = $1 ORDER BY h.user_id",
		     DB_PARAMS(DB_I(id)), &rows) == 0) {
		while (db_rows_next(rows))
			json_array_append_new(hosts, json_integer(db_col_int(rows, 0)));
		db_rows_free(rows);
	}
	json_object_set_new(o, "hosts", hosts);
	json_t *items = json_array();
	r = db_query(req->db,
		     "SELECT si.id, si.position, si.kind, si.file_id, si.webstream_id, si.starts_at,"
		     " si.ends_at, si.cue_in_us, si.cue_out_us, si.fade_in_us, si.fade_out_us,"
		     " si.crossfade_us, si.gain_db, COALESCE(f.title, w.name), f.artist, si.origin,"
		     " si.source_playlist_id FROM schedule_items si"
		     " LEFT JOIN files f ON f.id = si.file_id"
		     " LEFT JOIN webstreams w ON w.id = si.webstream_id"
		     " WHERE si.instance_id = $1 ORDER BY si.position, si.id",
		     DB_PARAMS(DB_I(content)), &rows);
	if (r == 0) {
		while (db_rows_next(rows)) {
			json_t *it = json_pack("{s:I, s:i, s:s}", "id",
					       (json_int_t)db_col_int(rows, 0), "position",
					       (int)db_col_int(rows, 1), "kind", db_col_text(rows, 2));
			json_object_set_new(it, "file_id", json_col_int(rows, 3));
			json_object_set_new(it, "webstream_id", json_col_int(rows, 4));
			json_object_set_new(it, "starts_at", json_time(db_col_int(rows, 5)));
			json_object_set_new(it, "ends_at", json_time(db_col_int(rows, 6)));
			static const char *const over[] = { "cue_in_us", "cue_out_us", "fade_in_us",
							    "fade_out_us", "crossfade_us" };
			for (int c = 0; c < 5; c++)
				json_object_set_new(it, over[c], json_col_int(rows, 7 + c));
			json_object_set_new(it, "gain_db", db_col_is_null(rows, 12) ? json_null()
					    : json_real(db_col_real(rows, 12)));
			json_object_set_new(it, "title", json_col_text(rows, 13));
			json_object_set_new(it, "artist", json_col_text(rows, 14));
			json_object_set_new(it, "origin", json_col_text(rows, 15));
			json_object_set_new(it, "source_playlist_id", json_col_int(rows, 16));
			json_array_append_new(items, it);
		}
		db_rows_free(rows);
	}
	json_object_set_new(o, "items", items);
	*err = 0;
	return o;
}

void instance_get(struct api_request *req, struct api_response *res)
{
	int r;
	json_t *doc = instance_document(req, req->ids[0], &r);
	if (!doc) {
		char what[48];
		snprintf(what, sizeof(what), "show instance %" PRId64, req->ids[0]);
		problem_errno(res, r, what, NULL);
		return;
	}
	api_response_json(res, 200, doc);
}

/* A host may edit only instances of the shows they host. 0, or -1 with
 * res filled (404 for no such instance, 403). */
static int may_schedule(struct api_request *req, int64_t instance, struct api_response *res)
{
	int64_t show;
	char what[48];
	snprintf(what, sizeof(what), "show instance %" PRId64, instance);
	int r = db_query_int(req->db, "SELECT show_id FROM show_instances WHERE id = $1",
			     DB_PARAMS(DB_I(instance)), &show);
	if (r < 0) {
		problem_errno(res, r, what, NULL);
		return -1;
	}
	if (req->caller.role >= ROLE_PM)
		return 0;
	int64_t n = 0;
	db_query_int(req->db, "SELECT COUNT(*) FROM show_hosts WHERE show_id = $1 AND user_id = $2",
		     DB_PARAMS(DB_I(show), DB_I(req->caller.user_id)), &n);
	if (n > 0)
		return 0;
	problem(res, 403, "a host may only schedule into the shows they host");
	return -1;
}

/* Answer a placement error with its sentence. */
static void placement_failed(struct api_response *res, int r, const char *err, const char *field)
{
	switch (r) {
	case -ESTALE:
		problem(res, 409, "%s", err[0] ? err : "the instance was changed; reload it");
		break;
	case -EPERM:
		problem(res, 409, "%s", err[0] ? err : "the show has ended");
		break;
	case -EINVAL:
	case -ENOENT:
	case -E2BIG:
		problem_field(res, 422, field, "%s", err[0] ? err : "not acceptable");
		break;
	default:
		problem_errno(res, r, "the schedule", NULL);
		break;
	}
}

/* When the item at index position of the content instance starts (-1:
 * after the last), and the room left from there to the show's end. */
static void insertion_point(struct api_request *req, int64_t instance, long position,
			    int64_t *at, int64_t *remaining)
{
	int64_t content = instance;
	placement_content_instance(req->db, instance, &content);
	int64_t starts = 0, ends = 0;
	struct db_rows *rows;
	if (db_query(req->db, "SELECT starts_at, ends_at FROM show_instances WHERE id = $1",
		     DB_PARAMS(DB_I(instance)), &rows) == 0) {
		if (db_rows_next(rows)) {
			starts = db_col_int(rows, 0);
			ends = db_col_int(rows, 1);
		}
		db_rows_free(rows);
	}
	*at = starts;
	if (position < 0) {
		int64_t last;
		if (db_query_int(req->db, "SELECT MAX(ends_at) FROM schedule_items"
				 " WHERE instance_id = $1", DB_PARAMS(DB_I(content)), &last) == 0)
			*at = last;
	} else {
		int64_t t;
		if (db_query_int(req->db, "SELECT starts_at FROM schedule_items WHERE instance_id = $1"
				 " AND position = $2", DB_PARAMS(DB_I(content), DB_I(position)),
				 &t) == 0)
			*at = t;
	}
	*remaining = ends > *at ? ends - *at : 0;
}

void instance_items_insert(struct api_request *req, struct api_response *res)
{
	int64_t instance = req->ids[0];
	if (may_schedule(req, instance, res) < 0)
		return;
	json_t *body = body_object(req, res);
	if (!body)
		return;
	struct field_errors fe = { 0 };
	struct build_items built = { 0 };
	static const char *const allowed[] = {
		"version", "position", "file_id", "webstream_id", "playlist_id", "smart_block_id",
		"kind", "length_us", "cue_in_us", "cue_out_us", "fade_in_us", "fade_out_us",
		"crossfade_us", "gain_db", NULL,
	};
	body_only(body, allowed, &fe);
	int64_t version = 0, position = -1, length = 0;
	if (body_int(body, "version", 1, INT64_MAX, &version, &fe) == 0)
		field_error(&fe, "version", "is required (the instance version you read)");
	body_int(body, "position", -1, PLACEMENT_ITEMS_MAX, &position, &fe);
	static const char *const sources[] = { "file_id", "webstream_id", "playlist_id",
					       "smart_block_id" };
	int64_t ids[4] = { 0 };
	int given = 0, which = -1;
	for (int i = 0; i < 4; i++) {
		if (body_int(body, sources[i], 1, INT64_MAX, &ids[i], &fe) == 1) {
			given++;
			which = i;
		}
	}
	const char *kind = NULL;
	bool has_kind = body_text(body, "kind", 16, &kind, &fe) == 1;
	if (has_kind) {
		if (strcmp(kind, "live") != 0 && strcmp(kind, "silence") != 0)
			field_error(&fe, "kind", "must be live or silence (files and webstreams are"
				    " given by their id)");
		if (body_int(body, "length_us", 1, PLACEMENT_LENGTH_MAX, &length, &fe) == 0)
			field_error(&fe, "length_us", "a %s slot needs its length", kind);
		given++;
	}
	if (given != 1 && !field_errors_any(&fe))
		field_error(&fe, "file_id", "give exactly one of file_id, webstream_id, playlist_id,"
			    " smart_block_id, or kind with length_us");
	struct placement_item one;
	placement_item_init(&one, PLACEMENT_FILE);
	static const char *const over[] = { "cue_in_us", "cue_out_us", "fade_in_us",
					     "fade_out_us", "crossfade_us" };
	int64_t *over_dst[] = { &one.cue_in_us, &one.cue_out_us, &one.fade_in_us,
				&one.fade_out_us, &one.crossfade_us };
	for (int i = 0; i < 5; i++) {
		if (body_int(body, over[i], 0, PLACEMENT_LENGTH_MAX, over_dst[i], &fe) == 1 &&
		    which != 0 && i < 2)
			field_error(&fe, over[i], "only files have cue points");
	}
	json_t *gain = json_object_get(body, "gain_db");
	if (gain && !json_is_null(gain)) {
		if (!json_is_number(gain) || !isfinite(json_number_value(gain)) ||
		    fabs(json_number_value(gain)) > 60)
			field_error(&fe, "gain_db", "must be a number from -60 to 60");
		one.gain_db = json_number_value(gain);
		one.has_gain = true;
	}
	if (field_errors_any(&fe)) {
		problem_fields(res, &fe);
		goto out;
	}
	char err[256] = "";
	int r = 0;
	const struct placement_item *items = &one;
	size_t n = 1;
	const char *field = has_kind ? "kind" : sources[which];
	if (has_kind) {
		one.kind = strcmp(kind, "live") == 0 ? PLACEMENT_LIVE : PLACEMENT_SILENCE;
		one.length_us = length;
	} else if (which == 0) {
		one.file_id = ids[0];
	} else if (which == 1) {
		one.kind = PLACEMENT_WEBSTREAM;
		one.webstream_id = ids[1];
	} else {
		struct build_context bc = { .seed = (uint64_t)req->now };
		insertion_point(req, instance, (long)position, &bc.at, &bc.remaining_us);
		r = build_expand(req->db, which == 2 ? BUILD_PLAYLIST : BUILD_SMART_BLOCK, ids[which],
				 &bc, NULL, &built);
		if (r < 0) {
			snprintf(err, sizeof(err), "%s %" PRId64 " %s",
				 which == 2 ? "playlist" : "smart block", ids[which],
				 r == -ENOENT ? "does not exist" : "cannot be expanded (not valid)");
			placement_failed(res, r == -ENOENT || r == -EINVAL ? -EINVAL : r, err, field);
			goto out;
		}
		if (built.n == 0) {
			problem_field(res, 422, field, "%s %" PRId64 " gives nothing to play",
				      which == 2 ? "the playlist" : "the smart block", ids[which]);
			goto out;
		}
		items = built.items;
		n = built.n;
	}
	int64_t new_version = 0;
	int64_t *new_ids = calloc(n, sizeof(*new_ids));
	r = placement_insert(req->db, req->now, instance, version, (long)position, items, n,
			     &new_version, new_ids, err, sizeof(err));
	if (r < 0) {
		free(new_ids);
		placement_failed(res, r, err, field);
		goto out;
	}
	audit(req, "schedule", "show instance", instance, NULL);
	schedule_cache_invalidate();
	resource_schedule_changed(req);
	json_t *doc = instance_document(req, instance, &r);
	if (!doc) {
		free(new_ids);
		problem_errno(res, r, "the show instance", NULL);
		goto out;
	}
	json_t *list = json_array();
	for (size_t i = 0; i < n; i++)
		json_array_append_new(list, json_integer(new_ids[i]));
	free(new_ids);
	json_object_set_new(doc, "item_ids", list);
	api_response_json(res, 201, doc);
out:
	build_items_release(&built);
	json_decref(body);
}

/* The instance that holds item id: 0 and *instance, or -ENOENT. */
static int item_instance(struct api_request *req, int64_t id, int64_t *instance)
{
	return db_query_int(req->db, "SELECT instance_id FROM schedule_items WHERE id = $1",
			    DB_PARAMS(DB_I(id)), instance);
}

void schedule_item_move(struct api_request *req, struct api_response *res)
{
	int64_t item = req->ids[0], instance;
	char what[48];
	snprintf(what, sizeof(what), "schedule item %" PRId64, item);
	int r = item_instance(req, item, &instance);
	if (r < 0) {
		problem_errno(res, r, what, NULL);
		return;
	}
	if (may_schedule(req, instance, res) < 0)
		return;
	json_t *body = body_object(req, res);
	if (!body)
		return;
	struct field_errors fe = { 0 };
	static const char *const allowed[] = { "version", "position", "instance_id",
					       "target_version", NULL };
	body_only(body, allowed, &fe);
	int64_t version = 0, position = -1, target = instance, target_version = 0;
	if (body_int(body, "version", 1, INT64_MAX, &version, &fe) == 0)
		field_error(&fe, "version", "is required (the instance version you read)");
	if (body_int(body, "position", -1, PLACEMENT_ITEMS_MAX, &position, &fe) == 0)
		field_error(&fe, "position", "is required (-1 for the end)");
	body_int(body, "instance_id", 1, INT64_MAX, &target, &fe);
	if (body_int(body, "target_version", 1, INT64_MAX, &target_version, &fe) == 0 &&
	    target != instance)
		field_error(&fe, "target_version", "is required to move into another instance");
	if (field_errors_any(&fe)) {
		problem_fields(res, &fe);
		goto out;
	}
	if (target != instance && may_schedule(req, target, res) < 0)
		goto out;
	char err[256] = "";
	int64_t new_version;
	r = placement_move(req->db, req->now, instance, version, item, target, target_version,
			   (long)position, &new_version, err, sizeof(err));
	if (r < 0) {
		placement_failed(res, r, err, "position");
		goto out;
	}
	audit(req, "move", "schedule item", item, NULL);
	schedule_cache_invalidate();
	resource_schedule_changed(req);
	json_t *doc = instance_document(req, target, &r);
	if (!doc)
		problem_errno(res, r, "the show instance", NULL);
	else
		api_response_json(res, 200, doc);
out:
	json_decref(body);
}

void schedule_item_remove(struct api_request *req, struct api_response *res)
{
	static const char *const allowed[] = { "version", NULL };
	if (!query_only(req, allowed, res))
		return;
	int64_t item = req->ids[0], instance, version = 0;
	int q = query_int(req, "version", 1, INT64_MAX, &version, res);
	if (q < 0)
		return;
	char what[48];
	snprintf(what, sizeof(what), "schedule item %" PRId64, item);
	int r = item_instance(req, item, &instance);
	if (r < 0) {
		problem_errno(res, r, what, NULL);
		return;
	}
	if (may_schedule(req, instance, res) < 0)
		return;
	if (q == 0) {
		problem_field(res, 400, "version", "?version= (the instance version you read)"
			      " is required");
		return;
	}
	char err[256] = "";
	r = placement_remove(req->db, req->now, instance, version, &item, 1, NULL, err,
			     sizeof(err));
	if (r < 0) {
		placement_failed(res, r, err, "version");
		return;
	}
	audit(req, "remove", "schedule item", item, NULL);
	schedule_cache_invalidate();
	resource_schedule_changed(req);
	res->status = 204;
}

void schedule_window(struct api_request *req, struct api_response *res)
{
	static const char *const allowed[] = { "from", "to", NULL };
	if (!query_only(req, allowed, res))
		return;
	int64_t from, to;
	if (!query_range(req, SCHEDULE_WINDOW_DAYS, &from, &to, res))
		return;
	int r = ensure_instances(req, from, to);
	if (r < 0) {
		problem_errno(res, r, "the schedule", NULL);
		return;
	}
	struct db_rows *rows;
	r = db_query(req->db,
		     "SELECT si.id, si.instance_id, i.show_id, s.name, si.starts_at, si.ends_at,"
		     " si.kind, si.file_id, si.webstream_id, COALESCE(f.title, w.name), f.artist,"
		     " f.duration_us FROM schedule_items si"
		     " JOIN show_instances i ON i.id = si.instance_id"
		     " JOIN shows s ON s.id = i.show_id"
		     " LEFT JOIN files f ON f.id = si.file_id"
		     " LEFT JOIN webstreams w ON w.id = si.webstream_id"
		     " WHERE si.starts_at < $2 AND si.ends_at > $1"
		     " ORDER BY si.starts_at, si.id LIMIT 50000",
		     DB_PARAMS(DB_I(from), DB_I(to)), &rows);
	if (r < 0) {
		problem_errno(res, r, "the schedule", NULL);
		return;
	}
	json_t *items = json_array();
	while (db_rows_next(rows)) {
		json_t *it = json_pack("{s:I, s:I, s:I, s:s, s:o, s:o, s:s}",
				       "id", (json_int_t)db_col_int(rows, 0),
				       "instance_id", (json_int_t)db_col_int(rows, 1),
				       "show_id", (json_int_t)db_col_int(rows, 2),
				       "show_name", db_col_text(rows, 3),
				       "starts_at", json_time(db_col_int(rows, 4)),
				       "ends_at", json_time(db_col_int(rows, 5)),
				       "kind", db_col_text(rows, 6));
		json_object_set_new(it, "file_id", json_col_int(rows, 7));
		json_object_set_new(it, "webstream_id", json_col_int(rows, 8));
		json_object_set_new(it, "title", json_col_text(rows, 9));
		json_object_set_new(it, "artist", json_col_text(rows, 10));
		json_object_set_new(it, "duration_us", json_col_int(rows, 11));
		json_array_append_new(items, it);
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0) {
		json_decref(items);
		problem_errno(res, r, "the schedule", NULL);
		return;
	}
	api_response_json(res, 200, json_pack("{s:o, s:o, s:o}", "from", json_time(from), "to",
					      json_time(to), "items", items));
}
