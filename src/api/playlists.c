/*
 * playlists.c - playlists with their items, smart blocks with their
 * criteria and a preview of what they would pick.
 */
#include "api/resources.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/audit.h"
#include "api/body.h"
#include "db/db.h"
#include "station/smartblock.h"

#define PLAYLIST_ITEMS_MAX 5000
#define FADE_MAX INT64_C(60000000)

static const struct field playlist_fields[] = {
	FID,
	{ .name = "name", .column = "name", .type = FT_TEXT,
	  .flags = FF_REQ | FF_NONEMPTY | FF_SORT | FF_SEARCH, .max = 200 },
	FTXT("description", FF_SEARCH, 4000),
	{ .name = "owner_id", .column = "owner_id", .type = FT_ID,
	  .flags = FF_OWNER | FF_NULL | FF_FILTER, .ref = "user" },
	FCREATED,
	FUPDATED,
	FLD("version", FT_INT, FF_RO),
};

const struct resource res_playlists = {
	.name = "playlist",
	.table = "playlists",
	.fields = playlist_fields,
	.nfields = NFIELDS(playlist_fields),
	.create_role = ROLE_HOST,
	.write_role = ROLE_PM,
	.owner_column = "owner_id",
	.timestamps = true,
	.versioned = true,
	.schedule_change = true,
	.default_sort = "lower(name)",
};

static const char *const limit_choices[] = { "items", "duration", NULL };
static const char *const sort_choices[] = { "random", "newest", "oldest", "least_played",
					    "title", "artist", NULL };

static const struct field smart_block_fields[] = {
	FID,
	{ .name = "name", .column = "name", .type = FT_TEXT,
	  .flags = FF_REQ | FF_NONEMPTY | FF_SORT | FF_SEARCH, .max = SMARTBLOCK_NAME_SIZE - 1 },
	FTXT("description", FF_SEARCH, 4000),
	{ .name = "owner_id", .column = "owner_id", .type = FT_ID,
	  .flags = FF_OWNER | FF_NULL | FF_FILTER, .ref = "user" },
	FENUM("limit_type", 0, limit_choices),
	FINT("limit_value", 0, 1, SMARTBLOCK_DURATION_MAX),
	FLD("fill_show", FT_BOOL, 0),
	FENUM("sort", 0, sort_choices),
	FLD("allow_repeats", FT_BOOL, 0),
	FLD("overflow", FT_BOOL, 0),
	FINT("artist_separation_us", FF_NULL, 0, SMARTBLOCK_DURATION_MAX),
	FINT("title_separation_us", FF_NULL, 0, SMARTBLOCK_DURATION_MAX),
	FCREATED,
	FUPDATED,
};

/* An item limit within SMARTBLOCK_ITEMS_MAX (the merged row's type
 * decides what the value means). */
static int smart_block_check(struct api_request *req, int64_t id, json_t *body,
			     struct field_errors *fe, struct extra_cols *extra,
			     struct api_response *res)
{
	const char *type = json_string_value(json_object_get(body, "limit_type"));
	json_t *value = json_object_get(body, "limit_value");
	char stored[16] = "items";
	if (!type && id > 0) {
		struct db_rows *rows;
		if (db_query(req->db, "SELECT limit_type FROM smart_blocks WHERE id = $1",
			     DB_PARAMS(DB_I(id)), &rows) == 0) {
			if (db_rows_next(rows) && db_col_text(rows, 0))
				snprintf(stored, sizeof(stored), "%s", db_col_text(rows, 0));
			db_rows_free(rows);
		}
		type = stored;
	}
	if (json_is_integer(value) && (!type || strcmp(type, "items") == 0) &&
	    json_integer_value(value) > SMARTBLOCK_ITEMS_MAX)
		field_error(fe, "limit_value", "at most %d items", SMARTBLOCK_ITEMS_MAX);
	return 0;
}

const struct resource res_smart_blocks = {
	.name = "smart block",
	.table = "smart_blocks",
	.fields = smart_block_fields,
	.nfields = NFIELDS(smart_block_fields),
	.create_role = ROLE_HOST,
	.write_role = ROLE_PM,
	.owner_column = "owner_id",
	.timestamps = true,
	.schedule_change = true,
	.default_sort = "lower(name)",
	.check = smart_block_check,
};

/* The items document of playlist id (200), or a problem. */
static void playlist_items_answer(struct api_request *req, int64_t id, int status,
				  struct api_response *res)
{
	char what[48];
	snprintf(what, sizeof(what), "playlist %" PRId64, id);
	int64_t version;
	int r = db_query_int(req->db, "SELECT version FROM playlists WHERE id = $1",
			     DB_PARAMS(DB_I(id)), &version);
	if (r < 0) {
		problem_errno(res, r, what, NULL);
		return;
	}
	struct db_rows *rows;
	r = db_query(req->db,
		     "SELECT i.id, i.position, i.file_id, i.smart_block_id, i.webstream_id,"
		     " i.cue_in_us, i.cue_out_us, i.fade_in_us, i.fade_out_us, i.crossfade_us,"
		     " i.gain_db, f.title, f.artist, f.duration_us, f.cue_in_us, f.cue_out_us,"
		     " COALESCE(b.name, w.name), w.duration_us"
		     " FROM playlist_items i LEFT JOIN files f ON f.id = i.file_id"
		     " LEFT JOIN smart_blocks b ON b.id = i.smart_block_id"
		     " LEFT JOIN webstreams w ON w.id = i.webstream_id"
		     " WHERE i.playlist_id = $1 ORDER BY i.position, i.id",
		     DB_PARAMS(DB_I(id)), &rows);
	if (r < 0) {
		problem_errno(res, r, what, NULL);
		return;
	}
	json_t *items = json_array();
	int64_t total = 0;
	bool total_known = true;
	while (db_rows_next(rows)) {
		const char *kind = !db_col_is_null(rows, 2) ? "file"
				   : !db_col_is_null(rows, 3) ? "smart_block" : "webstream";
		json_t *it = json_pack("{s:I, s:i, s:s}", "id", (json_int_t)db_col_int(rows, 0),
				       "position", (int)db_col_int(rows, 1), "kind", kind);
		static const char *const ids[] = { "file_id", "smart_block_id", "webstream_id" };
		for (int c = 0; c < 3; c++)
			json_object_set_new(it, ids[c], json_col_int(rows, 2 + c));
		static const char *const over[] = { "cue_in_us", "cue_out_us", "fade_in_us",
						    "fade_out_us", "crossfade_us" };
		for (int c = 0; c < 5; c++)
			json_object_set_new(it, over[c], json_col_int(rows, 5 + c));
		json_object_set_new(it, "gain_db", db_col_is_null(rows, 10) ? json_null()
				    : json_real(db_col_real(rows, 10)));
		json_object_set_new(it, "title", json_col_text(rows, 11));
		json_object_set_new(it, "artist", json_col_text(rows, 12));
		json_object_set_new(it, "name", json_col_text(rows, 16));
		int64_t length = -1;
		if (strcmp(kind, "file") == 0 && !db_col_is_null(rows, 13)) {
			int64_t in = !db_col_is_null(rows, 5) ? db_col_int(rows, 5)
				     : db_col_int(rows, 14);
			int64_t out = !db_col_is_null(rows, 6) ? db_col_int(rows, 6)
				      : !db_col_is_null(rows, 15) ? db_col_int(rows, 15)
				      : db_col_int(rows, 13);
			length = out > in ? out - in : 0;
		} else if (strcmp(kind, "webstream") == 0 && !db_col_is_null(rows, 17)) {
			length = db_col_int(rows, 17);
		}
		json_object_set_new(it, "duration_us", length >= 0 ? json_integer(length)
				    : json_null());
		if (length >= 0)
			total += length;
		else
			total_known = false;
		json_array_append_new(items, it);
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0) {
		json_decref(items);
		problem_errno(res, r, what, NULL);
		return;
	}
	api_response_json(res, status, json_pack("{s:I, s:I, s:o, s:I, s:b}", "playlist_id",
						 (json_int_t)id, "version", (json_int_t)version,
						 "items", items, "total_us", (json_int_t)total,
						 "total_known", total_known));
}

void playlist_items_get(struct api_request *req, struct api_response *res)
{
	static const char *const allowed[] = { NULL };
	if (query_only(req, allowed, res))
		playlist_items_answer(req, req->ids[0], 200, res);
}

/* One item of a PUT, read and checked. */
struct pl_item {
	int64_t ref[3];		/* file, smart block, webstream: one is set */
	int64_t over[5];	/* cue in/out, fade in/out, crossfade: -1 = NULL */
	double gain;
	bool has_gain;
};

static const char *const ref_names[3] = { "file_id", "smart_block_id", "webstream_id" };
static const char *const ref_tables[3] = { "files", "smart_blocks", "webstreams" };
static const char *const over_names[5] = { "cue_in_us", "cue_out_us", "fade_in_us",
					   "fade_out_us", "crossfade_us" };

static void read_item(struct api_request *req, json_t *it, size_t i, struct pl_item *out,
		      struct field_errors *fe)
{
	char f[64];
	memset(out, 0, sizeof(*out));
	for (int c = 0; c < 5; c++)
		out->over[c] = -1;
	if (!json_is_object(it)) {
		snprintf(f, sizeof(f), "items.%zu", i);
		field_error(fe, f, "must be an object");
		return;
	}
	const char *key;
	json_t *v;
	json_object_foreach(it, key, v) {
		bool known = strcmp(key, "gain_db") == 0;
		for (int c = 0; c < 3; c++)
			known = known || strcmp(key, ref_names[c]) == 0;
		for (int c = 0; c < 5; c++)
			known = known || strcmp(key, over_names[c]) == 0;
		if (!known) {
			snprintf(f, sizeof(f), "items.%zu.%.32s", i, key);
			field_error(fe, f, "unknown field");
		}
	}
	int given = 0;
	for (int c = 0; c < 3; c++) {
		json_t *id = json_object_get(it, ref_names[c]);
		if (!id || json_is_null(id))
			continue;
		given++;
		snprintf(f, sizeof(f), "items.%zu.%s", i, ref_names[c]);
		if (!json_is_integer(id) || json_integer_value(id) < 1) {
			field_error(fe, f, "must be a row id");
			continue;
		}
		out->ref[c] = json_integer_value(id);
		char sql[96];
		snprintf(sql, sizeof(sql), "SELECT id FROM %s WHERE id = $1", ref_tables[c]);
		int64_t found;
		if (db_query_int(req->db, sql, DB_PARAMS(DB_I(out->ref[c])), &found) < 0)
			field_error(fe, f, "no %s has this id",
				    c == 0 ? "file" : c == 1 ? "smart block" : "webstream");
	}
	if (given != 1) {
		snprintf(f, sizeof(f), "items.%zu", i);
		field_error(fe, f, "give exactly one of file_id, smart_block_id, webstream_id");
	}
	for (int c = 0; c < 5; c++) {
		json_t *o = json_object_get(it, over_names[c]);
		if (!o || json_is_null(o))
			continue;
		snprintf(f, sizeof(f), "items.%zu.%s", i, over_names[c]);
		int64_t max = c < 2 ? SMARTBLOCK_DURATION_MAX : FADE_MAX;
		if (!json_is_integer(o) || json_integer_value(o) < 0 || json_integer_value(o) > max) {
			field_error(fe, f, "must be an integer from 0 to %" PRId64, max);
			continue;
		}
		if (c < 2 && !out->ref[0]) {
			field_error(fe, f, "only files have cue points");
			continue;
		}
		out->over[c] = json_integer_value(o);
	}
	if (out->over[0] >= 0 && out->over[1] >= 0 && out->over[1] <= out->over[0]) {
		snprintf(f, sizeof(f), "items.%zu.cue_out_us", i);
		field_error(fe, f, "cue out must come after cue in");
	}
	json_t *g = json_object_get(it, "gain_db");
	if (g && !json_is_null(g)) {
		snprintf(f, sizeof(f), "items.%zu.gain_db", i);
		if (!json_is_number(g) || !isfinite(json_number_value(g)) ||
		    json_number_value(g) < -60 || json_number_value(g) > 20)
			field_error(fe, f, "must be a number from -60 to 20");
		out->gain = json_number_value(g);
		out->has_gain = true;
	}
}

void playlist_items_put(struct api_request *req, struct api_response *res)
{
	int64_t id = req->ids[0];
	if (resource_may_write(req, &res_playlists, id, res) < 0)
		return;
	json_t *body = body_object(req, res);
	if (!body)
		return;
	struct field_errors fe = { 0 };
	struct pl_item *items = NULL;
	static const char *const allowed[] = { "version", "items", NULL };
	body_only(body, allowed, &fe);
	int64_t version = 0;
	if (body_int(body, "version", 1, INT64_MAX, &version, &fe) == 0)
		field_error(&fe, "version", "is required (the version you read)");
	json_t *list = json_object_get(body, "items");
	if (!json_is_array(list))
		field_error(&fe, "items", "must be an array");
	else if (json_array_size(list) > PLAYLIST_ITEMS_MAX)
		field_error(&fe, "items", "at most %d items", PLAYLIST_ITEMS_MAX);
	size_t n = json_is_array(list) && !field_errors_any(&fe) ? json_array_size(list) : 0;
	items = n ? calloc(n, sizeof(*items)) : NULL;
	for (size_t i = 0; i < n && items; i++)
		read_item(req, json_array_get(list, i), i, &items[i], &fe);
	if (field_errors_any(&fe)) {
		problem_fields(res, &fe);
		goto out;
	}
	int r = db_begin(req->db);
	if (r == 0) {
		r = db_exec(req->db, "UPDATE playlists SET version = version + 1, updated_at = $1"
			    " WHERE id = $2 AND version = $3",
			    DB_PARAMS(DB_I(req->now), DB_I(id), DB_I(version)));
		if (r == 0)
			r = -ESTALE;
	}
	if (r >= 0)
		r = db_exec(req->db, "DELETE FROM playlist_items WHERE playlist_id = $1",
			    DB_PARAMS(DB_I(id)));
	for (size_t i = 0; r >= 0 && i < n; i++) {
		const struct pl_item *it = &items[i];
		struct db_param p[12] = {
			DB_I(id), DB_I((int64_t)i),
			it->ref[0] ? DB_I(it->ref[0]) : DB_N,
			it->ref[1] ? DB_I(it->ref[1]) : DB_N,
			it->ref[2] ? DB_I(it->ref[2]) : DB_N,
		};
		for (int c = 0; c < 5; c++)
			p[5 + c] = it->over[c] >= 0 ? DB_I(it->over[c]) : DB_N;
		p[10] = it->has_gain ? DB_R(it->gain) : DB_N;
		r = db_exec(req->db,
			    "INSERT INTO playlist_items (playlist_id, position, file_id,"
			    " smart_block_id, webstream_id, cue_in_us, cue_out_us, fade_in_us,"
			    " fade_out_us, crossfade_us, gain_db)"
			    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)", p, 11);
	}
	if (r >= 0)
		r = db_commit(req->db);
	if (r < 0) {
		db_rollback(req->db);
		char what[48];
		snprintf(what, sizeof(what), "playlist %" PRId64, id);
		problem_errno(res, r == -ENOENT ? -EINVAL : r, what, NULL);
		goto out;
	}
	audit(req, "update", "playlist items", id, NULL);
	resource_schedule_changed(req);
	playlist_items_answer(req, id, 200, res);
out:
	free(items);
	json_decref(body);
}

static const char *const modifier_names[] = {
	"is", "is_not", "contains", "not_contains", "starts_with", "ends_with", "greater",
	"less", "between", "in_last", "not_in_last", NULL,
};

/* The criteria document of smart block id, or a problem. */
static void criteria_answer(struct api_request *req, int64_t id, struct api_response *res)
{
	char what[48];
	snprintf(what, sizeof(what), "smart block %" PRId64, id);
	int64_t found;
	int r = db_query_int(req->db, "SELECT id FROM smart_blocks WHERE id = $1",
			     DB_PARAMS(DB_I(id)), &found);
	struct db_rows *rows = NULL;
	if (r == 0)
		r = db_query(req->db, "SELECT id, group_no, field, modifier, value, value2"
			     " FROM smart_block_criteria WHERE smart_block_id = $1"
			     " ORDER BY group_no, id", DB_PARAMS(DB_I(id)), &rows);
	if (r < 0) {
		problem_errno(res, r, what, NULL);
		return;
	}
	json_t *list = json_array();
	while (db_rows_next(rows)) {
		json_t *c = json_pack("{s:I, s:i, s:s, s:s, s:s}", "id",
				      (json_int_t)db_col_int(rows, 0), "group",
				      (int)db_col_int(rows, 1), "field", db_col_text(rows, 2),
				      "modifier", db_col_text(rows, 3), "value", db_col_text(rows, 4));
		json_object_set_new(c, "value2", json_col_text(rows, 5));
		if (c)
			json_array_append_new(list, c);
	}
	db_rows_free(rows);
	api_response_json(res, 200, json_pack("{s:I, s:o}", "smart_block_id", (json_int_t)id,
					      "criteria", list));
}

void smart_block_criteria_get(struct api_request *req, struct api_response *res)
{
	static const char *const allowed[] = { NULL };
	if (query_only(req, allowed, res))
		criteria_answer(req, req->ids[0], res);
}

/* "criterion 3: ..." of smartblock_validate as the field "criteria.2". */
static void validate_error(const char *msg, struct field_errors *fe)
{
	unsigned n;
	int used = 0;
	char f[32];
	if (sscanf(msg, "criterion %u: %n", &n, &used) == 1 && used > 0 && n >= 1) {
		snprintf(f, sizeof(f), "criteria.%u", n - 1);
		field_error(fe, f, "%s", msg + used);
	} else {
		field_error(fe, "criteria", "%s", msg);
	}
}

void smart_block_criteria_put(struct api_request *req, struct api_response *res)
{
	int64_t id = req->ids[0];
	if (resource_may_write(req, &res_smart_blocks, id, res) < 0)
		return;
	json_t *body = body_object(req, res);
	if (!body)
		return;
	struct field_errors fe = { 0 };
	struct smartblock b;
	smartblock_init(&b);
	static const char *const allowed[] = { "criteria", NULL };
	body_only(body, allowed, &fe);
	json_t *list = json_object_get(body, "criteria");
	if (!json_is_array(list))
		field_error(&fe, "criteria", "must be an array");
	else if (json_array_size(list) > SMARTBLOCK_CRITERIA_MAX)
		field_error(&fe, "criteria", "at most %u criteria", SMARTBLOCK_CRITERIA_MAX);
	int r = field_errors_any(&fe) ? 0 : smartblock_load(req->db, id, &b);
	if (r < 0) {
		problem_errno(res, r, "the smart block", NULL);
		goto out;
	}
	/* Validate the block with the new criteria instead of the stored ones. */
	free(b.criteria);
	b.criteria = NULL;
	b.n_criteria = 0;
	for (size_t i = 0; !field_errors_any(&fe) && i < json_array_size(list); i++) {
		json_t *c = json_array_get(list, i);
		char f[48];
		snprintf(f, sizeof(f), "criteria.%zu", i);
		if (!json_is_object(c)) {
			field_error(&fe, f, "must be an object");
			continue;
		}
		static const char *const keys[] = { "group", "field", "modifier", "value", "value2",
						    NULL };
		struct field_errors sub = { 0 };
		body_only(c, keys, &sub);
		int64_t group = 0;
		const char *field = NULL, *mod = NULL, *value = NULL, *value2 = NULL;
		body_int(c, "group", 0, 99, &group, &sub);
		if (body_text(c, "field", SMARTBLOCK_FIELD_SIZE - 1, &field, &sub) == 0)
			field_error(&sub, "field", "is required");
		if (body_text(c, "modifier", 16, &mod, &sub) == 0)
			field_error(&sub, "modifier", "is required");
		if (body_text(c, "value", SMARTBLOCK_VALUE_SIZE - 1, &value, &sub) == 0)
			field_error(&sub, "value", "is required");
		json_t *v2 = json_object_get(c, "value2");
		if (v2 && !json_is_null(v2))
			body_text(c, "value2", SMARTBLOCK_VALUE_SIZE - 1, &value2, &sub);
		enum smartblock_modifier m = SB_IS;
		if (mod && smartblock_modifier_parse(mod, &m) < 0) {
			char list_s[160] = "";
			for (size_t k = 0; modifier_names[k]; k++)
				snprintf(list_s + strlen(list_s), sizeof(list_s) - strlen(list_s),
					 "%s%s", k ? ", " : "", modifier_names[k]);
			field_error(&sub, "modifier", "must be one of %s", list_s);
		}
		if (field && !smartblock_field_known(field))
			field_error(&sub, "field", "unknown field \"%s\"", field);
		field_errors_merge(&fe, f, &sub);
		if (!field_errors_any(&fe) &&
		    smartblock_add_criterion(&b, (int)group, field, m, value, value2) < 0)
			field_error(&fe, f, "does not fit");
	}
	char err[256];
	if (!field_errors_any(&fe) && smartblock_validate(&b, err, sizeof(err)) < 0)
		validate_error(err, &fe);
	if (field_errors_any(&fe)) {
		problem_fields(res, &fe);
		goto out;
	}
	r = db_begin(req->db);
	if (r == 0)
		r = db_exec(req->db, "DELETE FROM smart_block_criteria WHERE smart_block_id = $1",
			    DB_PARAMS(DB_I(id)));
	for (size_t i = 0; r >= 0 && i < b.n_criteria; i++) {
		const struct smartblock_criterion *c = &b.criteria[i];
		r = db_exec(req->db,
			    "INSERT INTO smart_block_criteria (smart_block_id, group_no, field,"
			    " modifier, value, value2) VALUES ($1, $2, $3, $4, $5, $6)",
			    DB_PARAMS(DB_I(id), DB_I(c->group_no), DB_T(c->field),
				      DB_T(smartblock_modifier_name(c->modifier)), DB_T(c->value),
				      c->value2[0] ? DB_T(c->value2) : DB_N));
	}
	if (r >= 0)
		r = db_exec(req->db, "UPDATE smart_blocks SET updated_at = $1 WHERE id = $2",
			    DB_PARAMS(DB_I(req->now), DB_I(id)));
	if (r >= 0)
		r = db_commit(req->db);
	if (r < 0) {
		db_rollback(req->db);
		problem_errno(res, r, "the criteria", NULL);
		goto out;
	}
	audit(req, "update", "smart block criteria", id, NULL);
	resource_schedule_changed(req);
	criteria_answer(req, id, res);
out:
	smartblock_release(&b);
	json_decref(body);
}

void smart_block_preview(struct api_request *req, struct api_response *res)
{
	static const char *const allowed[] = { "at", "remaining_us", "seed", NULL };
	if (!query_only(req, allowed, res))
		return;
	int64_t at = req->now, remaining = -1, seed = 1;
	if (query_time(req, "at", &at, res) < 0 ||
	    query_int(req, "remaining_us", 0, SMARTBLOCK_DURATION_MAX, &remaining, res) < 0 ||
	    query_int(req, "seed", 0, INT64_MAX, &seed, res) < 0)
		return;
	struct smartblock b;
	int r = smartblock_load(req->db, req->ids[0], &b);
	if (r < 0) {
		char what[48];
		snprintf(what, sizeof(what), "smart block %" PRId64, req->ids[0]);
		problem_errno(res, r, what, NULL);
		return;
	}
	char err[256];
	if (smartblock_validate(&b, err, sizeof(err)) < 0) {
		smartblock_release(&b);
		problem(res, 422, "the smart block cannot pick anything: %s", err);
		return;
	}
	struct smartblock_context ctx = {
		.at = at,
		.remaining_us = remaining >= 0 ? remaining : (b.fill_show ? INT64_C(3600000000) : 0),
		.seed = (uint64_t)seed,
	};
	struct smartblock_result out;
	r = smartblock_evaluate(req->db, &b, &ctx, &out);
	smartblock_release(&b);
	if (r < 0) {
		problem_errno(res, r, "the preview", r == -E2BIG
			      ? "too many files match: narrow the criteria" : NULL);
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < out.n; i++) {
		const struct smartblock_pick *p = &out.picks[i];
		json_t *it = json_pack("{s:I, s:I}", "file_id", (json_int_t)p->file_id, "length_us",
				       (json_int_t)p->length_us);
		json_object_set_new(it, "title", p->title ? json_string(p->title) : json_null());
		json_object_set_new(it, "artist", p->artist ? json_string(p->artist) : json_null());
		json_array_append_new(items, it);
	}
	api_response_json(res, 200, json_pack("{s:I, s:o, s:o, s:I, s:I, s:I, s:b}",
		"smart_block_id", (json_int_t)req->ids[0], "at", json_time(at), "items", items,
		"total_us", (json_int_t)out.total_us, "candidates", (json_int_t)out.candidates,
		"separation_relaxed", (json_int_t)out.separation_relaxed,
		"short_fill", out.short_fill));
	smartblock_result_release(&out);
}
