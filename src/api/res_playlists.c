/*
 * res_playlists.c - playlists with their items, smart blocks with their
 * criteria, and a preview of what a smart block would pick.
 *
 * Playlists and smart blocks themselves are served by the resource engine
 * (resource.c); their items and criteria are replaced whole, in one
 * transaction, by the handlers here. What the builder does with them is in
 * src/station/build.c and smartblock.c.
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
#include "station/placement.h"
#include "station/smartblock.h"

/* Most items of one playlist. */
#define PLAYLIST_ITEMS_MAX 5000
/* Gain of an item, dB. */
#define GAIN_MIN (-60.0)
#define GAIN_MAX 20.0
/* Field errors a PUT of items gathers before the rest goes unchecked (field_error
 * keeps 50). */
#define ITEM_ERRORS_MAX 50
/* A preview of a fill_show block without remaining_us fills this much. */
#define PREVIEW_FILL_US INT64_C(3600000000)

/* ------------------------------------------------------------ the resources */

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

/* Playlists: a host makes them and owns them; program managers change any. PATCH
 * may carry the version read (409 when it changed). */
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

/*
 * The limit as the block will have it (the body's members over the stored
 * row, or the schema's defaults on create): a new limit_type needs its
 * limit_value (it counts other things), and an items limit is at most
 * SMARTBLOCK_ITEMS_MAX (the field declaration bounds a duration).
 */
static int smart_block_check(struct api_request *req, int64_t id, json_t *body,
			     struct field_errors *fe, struct extra_cols *extra,
			     struct api_response *res)
{
	json_t *type_v = json_object_get(body, "limit_type");
	json_t *value_v = json_object_get(body, "limit_value");
	if (!type_v && !value_v)
		return 0;
	/* Members of the wrong type have their error already. */
	if ((type_v && !json_is_string(type_v)) || (value_v && !json_is_integer(value_v)))
		return 0;
	char stored[16] = "items";
	if (id > 0) {
		struct db_rows *rows;
		int r = db_query(req->db, "SELECT limit_type FROM smart_blocks WHERE id = $1",
				 DB_PARAMS(DB_I(id)), &rows);
		if (r < 0) {
			problem_errno(res, r, "the smart block", NULL);
			return -1;
		}
		if (db_rows_next(rows))
			snprintf(stored, sizeof(stored), "%s",
				 db_col_text(rows, 0) ? db_col_text(rows, 0) : "");
		db_rows_free(rows);
	}
	const char *type = type_v ? json_string_value(type_v) : stored;
	if (!value_v) {
		if (strcmp(type, stored) != 0)
			field_error(fe, "limit_value", "is required with a new limit_type (%s)",
				    strcmp(type, "items") == 0 ? "a number of files"
				    : "microseconds");
		return 0;
	}
	if (strcmp(type, "items") == 0 && json_integer_value(value_v) > SMARTBLOCK_ITEMS_MAX)
		field_error(fe, "limit_value", "an items limit can be at most %d",
			    SMARTBLOCK_ITEMS_MAX);
	return 0;
}

/* Smart blocks: owned and changed as playlists; their criteria are a
 * sub-resource (smart_block_criteria_get/put). */
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

/* ------------------------------------------------------------ helpers */

/* s as a JSON string; null for NULL and for text that is not UTF-8. */
static json_t *json_text_or_null(const char *s)
{
	json_t *v = s ? json_string(s) : NULL;
	return v ? v : json_null();
}

/* ------------------------------------------------------------ playlist items */

static const char *const ref_names[3] = { "file_id", "smart_block_id", "webstream_id" };
static const char *const ref_kinds[3] = { "file", "smart_block", "webstream" };
static const char *const ref_what[3] = { "file", "smart block", "webstream" };
enum { REF_FILE, REF_BLOCK, REF_WEBSTREAM };

static const char *const over_names[5] = { "cue_in_us", "cue_out_us", "fade_in_us",
					   "fade_out_us", "crossfade_us" };
enum { OV_CUE_IN, OV_CUE_OUT, OV_FADE_IN, OV_FADE_OUT, OV_CROSSFADE };

/* The items document of playlist id, answered with status 200; or a problem
 * (404 for an unknown playlist). */
static void playlist_items_answer(struct api_request *req, int64_t id, struct api_response *res)
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
	/* The length as the builder counts it (build.c): the item's cue points,
	 * else the file's, else its duration; a webstream's duration. */
	struct db_rows *rows;
	r = db_query(req->db,
		     "SELECT i.id, i.position, i.file_id, i.smart_block_id, i.webstream_id,"
		     " i.cue_in_us, i.cue_out_us, i.fade_in_us, i.fade_out_us, i.crossfade_us,"
		     " i.gain_db, f.title, f.artist, COALESCE(b.name, w.name),"
		     " COALESCE(i.cue_out_us, f.cue_out_us, f.duration_us, w.duration_us)"
		     "  - COALESCE(i.cue_in_us, f.cue_in_us, 0)"
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
		int kind = !db_col_is_null(rows, 2) ? REF_FILE
			   : !db_col_is_null(rows, 3) ? REF_BLOCK : REF_WEBSTREAM;
		json_t *it = json_object();
		json_object_set_new(it, "id", json_integer(db_col_int(rows, 0)));
		json_object_set_new(it, "position", json_integer(db_col_int(rows, 1)));
		json_object_set_new(it, "kind", json_string(ref_kinds[kind]));
		for (int c = 0; c < 3; c++)
			json_object_set_new(it, ref_names[c], json_col_int(rows, 2 + c));
		for (int c = 0; c < 5; c++)
			json_object_set_new(it, over_names[c], json_col_int(rows, 5 + c));
		double gain = db_col_real(rows, 10);
		json_object_set_new(it, "gain_db", !db_col_is_null(rows, 10) && isfinite(gain)
				    ? json_real(gain) : json_null());
		json_object_set_new(it, "title", json_col_text(rows, 11));
		json_object_set_new(it, "artist", json_col_text(rows, 12));
		json_object_set_new(it, "name", json_col_text(rows, 13));
		if (kind != REF_BLOCK && !db_col_is_null(rows, 14)) {
			int64_t length = db_col_int(rows, 14);
			if (length < 0)
				length = 0;
			json_object_set_new(it, "duration_us", json_integer(length));
			total += length;
		} else {
			/* A smart block's length is known when it is built; a file
			 * not analysed yet has none. */
			json_object_set_new(it, "duration_us", json_null());
			total_known = false;
		}
		json_array_append_new(items, it);
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0) {
		json_decref(items);
		problem_errno(res, r, what, NULL);
		return;
	}
	json_t *doc = json_object();
	json_object_set_new(doc, "playlist_id", json_integer(id));
	json_object_set_new(doc, "version", json_integer(version));
	json_object_set_new(doc, "items", items);
	json_object_set_new(doc, "total_us", json_integer(total));
	json_object_set_new(doc, "total_known", json_boolean(total_known));
	api_response_json(res, 200, doc);
}

/* GET /playlists/{id}/items: the items in order with what they name. */
void playlist_items_get(struct api_request *req, struct api_response *res)
{
	static const char *const allowed[] = { NULL };
	if (query_only(req, allowed, res))
		playlist_items_answer(req, req->ids[0], res);
}

/* One item of a PUT, read and checked. */
struct pl_item {
	int kind;		/* REF_*, or -1 while unknown */
	int64_t ref;		/* the row it names */
	int64_t over[5];	/* OV_*: -1 = NULL */
	double gain;
	bool has_gain;
};

/* What the named row tells about the item's length: -1 where unknown. */
struct ref_facts {
	int64_t duration, cue_in, cue_out;
};

/* Whether row ref of the kind's table exists (1) or not (0), with its facts;
 * or a negative errno. */
static int ref_lookup(struct db *db, int kind, int64_t ref, struct ref_facts *facts)
{
	static const char *const sql[3] = {
		"SELECT duration_us, cue_in_us, cue_out_us FROM files WHERE id = $1",
		"SELECT NULL, NULL, NULL FROM smart_blocks WHERE id = $1",
		"SELECT duration_us, NULL, NULL FROM webstreams WHERE id = $1",
	};
	facts->duration = facts->cue_in = facts->cue_out = -1;
	struct db_rows *rows;
	int r = db_query(db, sql[kind], DB_PARAMS(DB_I(ref)), &rows);
	if (r < 0)
		return r;
	int found = 0;
	if (db_rows_next(rows)) {
		found = 1;
		int64_t *dst[3] = { &facts->duration, &facts->cue_in, &facts->cue_out };
		for (int c = 0; c < 3; c++)
			*dst[c] = db_col_is_null(rows, c) ? -1 : db_col_int(rows, c);
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	return r < 0 ? r : found;
}

/* Check the cue points and crossfade of an item against the length of what it
 * names (when known), adding errors to sub. */
static void check_lengths(const struct pl_item *out, const struct ref_facts *f,
			  struct field_errors *sub)
{
	int64_t in = out->over[OV_CUE_IN] >= 0 ? out->over[OV_CUE_IN]
		     : f->cue_in >= 0 ? f->cue_in : 0;
	int64_t end = out->over[OV_CUE_OUT] >= 0 ? out->over[OV_CUE_OUT]
		      : f->cue_out >= 0 ? f->cue_out : f->duration;
	if (out->kind == REF_FILE && out->over[OV_CUE_OUT] >= 0 && f->duration >= 0 &&
	    out->over[OV_CUE_OUT] > f->duration) {
		field_error(sub, "cue_out_us", "is after the end of the file (%" PRId64 " us)",
			    f->duration);
		return;
	}
	if (out->kind == REF_FILE && (out->over[OV_CUE_IN] >= 0 || out->over[OV_CUE_OUT] >= 0) &&
	    end >= 0 && end <= in) {
		if (out->over[OV_CUE_OUT] >= 0)
			field_error(sub, "cue_out_us", "must be after the cue in (%" PRId64 " us)",
				    in);
		else
			field_error(sub, "cue_in_us", "must be before the cue out (%" PRId64 " us)",
				    end);
		return;
	}
	if (out->over[OV_CROSSFADE] >= 0 && end > in && out->over[OV_CROSSFADE] >= end - in)
		field_error(sub, "crossfade_us", "must be shorter than the item (%" PRId64 " us)",
			    end - in);
}

/*
 * Read item i of a PUT into *out. Errors about it go to fe as "items.i.field";
 * 0, or a negative errno when the database failed.
 */
static int read_item(struct db *db, json_t *it, size_t i, struct pl_item *out,
		     struct field_errors *fe)
{
	char prefix[32];
	snprintf(prefix, sizeof(prefix), "items.%zu", i);
	memset(out, 0, sizeof(*out));
	out->kind = -1;
	for (int c = 0; c < 5; c++)
		out->over[c] = -1;
	if (!json_is_object(it)) {
		field_error(fe, prefix, "must be an object");
		return 0;
	}
	static const char *const allowed[] = { "file_id", "smart_block_id", "webstream_id",
					       "cue_in_us", "cue_out_us", "fade_in_us",
					       "fade_out_us", "crossfade_us", "gain_db", NULL };
	struct field_errors sub = { 0 };
	body_only(it, allowed, &sub);

	int given = 0, r = 0;
	for (int c = 0; c < 3; c++) {
		int64_t ref;
		bool is_null;
		int got = body_id_or_null(it, ref_names[c], &ref, &is_null, &sub);
		if (got != 0)
			given++;
		if (got == 1 && out->kind < 0) {
			out->kind = c;
			out->ref = ref;
		}
	}
	if (given != 1) {
		field_error(&sub, ref_names[0],
			    "give exactly one of file_id, smart_block_id, webstream_id");
		out->kind = -1;
	}
	for (int c = 0; c < 5; c++) {
		json_t *v = json_object_get(it, over_names[c]);
		if (!v || json_is_null(v) ||
		    body_int(it, over_names[c], 0, PLACEMENT_LENGTH_MAX, &out->over[c], &sub) < 1)
			continue;
		if (c <= OV_CUE_OUT && out->kind >= 0 && out->kind != REF_FILE)
			field_error(&sub, over_names[c], "only files have cue points");
		else if (out->kind == REF_BLOCK)
			field_error(&sub, over_names[c], "does not apply to a smart block (its"
				    " files play with their own)");
	}
	json_t *g = json_object_get(it, "gain_db");
	if (g && !json_is_null(g)) {
		double d = json_number_value(g);
		if (!json_is_number(g) || !isfinite(d) || d < GAIN_MIN || d > GAIN_MAX)
			field_error(&sub, "gain_db", "must be a number from %g to %g", GAIN_MIN,
				    GAIN_MAX);
		else if (out->kind == REF_BLOCK)
			field_error(&sub, "gain_db", "does not apply to a smart block (its files"
				    " play with their own)");
		out->gain = d;
		out->has_gain = true;
	}
	/* The row it names, once the item is well formed. */
	if (!field_errors_any(&sub) && out->kind >= 0) {
		struct ref_facts facts;
		r = ref_lookup(db, out->kind, out->ref, &facts);
		if (r == 0)
			field_error(&sub, ref_names[out->kind], "no %s has this id",
				    ref_what[out->kind]);
		else if (r > 0)
			check_lengths(out, &facts, &sub);
		r = r < 0 ? r : 0;
	}
	field_errors_merge(fe, prefix, &sub);
	return r;
}

/*
 * PUT /playlists/{id}/items: replace every item, at the version read. The
 * caller must own the playlist or be a program manager.
 */
void playlist_items_put(struct api_request *req, struct api_response *res)
{
	int64_t id = req->ids[0];
	char what[48];
	snprintf(what, sizeof(what), "playlist %" PRId64, id);
	if (resource_may_write(req, &res_playlists, id, res) < 0)
		return;
	json_t *body = body_object(req, res);
	if (!body)
		return;
	struct field_errors fe = { 0 };
	struct pl_item *items = NULL;
	size_t n = 0;
	int r = 0;
	static const char *const allowed[] = { "version", "items", NULL };
	body_only(body, allowed, &fe);
	int64_t version = 0;
	if (body_int(body, "version", 1, INT64_MAX, &version, &fe) == 0)
		field_error(&fe, "version", "is required (the version you read)");
	json_t *list = json_object_get(body, "items");
	if (!json_is_array(list))
		field_error(&fe, "items", "is required: an array of items");
	else if (json_array_size(list) > PLAYLIST_ITEMS_MAX)
		field_error(&fe, "items", "at most %d items", PLAYLIST_ITEMS_MAX);
	else
		n = json_array_size(list);
	if (n > 0) {
		items = calloc(n, sizeof(*items));
		if (!items) {
			problem_errno(res, -ENOMEM, "reading the items", NULL);
			goto out;
		}
	}
	for (size_t i = 0; i < n && r == 0; i++) {
		if (json_array_size(fe.list) >= ITEM_ERRORS_MAX)
			break;
		r = read_item(req->db, json_array_get(list, i), i, &items[i], &fe);
	}
	if (r < 0) {
		field_errors_release(&fe);
		problem_errno(res, r, "checking the items", NULL);
		goto out;
	}
	if (field_errors_any(&fe)) {
		problem_fields(res, &fe);
		goto out;
	}

	r = db_begin(req->db);
	if (r == 0) {
		r = db_exec(req->db, "UPDATE playlists SET version = version + 1, updated_at = $1"
			    " WHERE id = $2 AND version = $3",
			    DB_PARAMS(DB_I(req->now), DB_I(id), DB_I(version)));
		if (r == 0)	/* changed since it was read (or deleted meanwhile) */
			r = -ESTALE;
	}
	if (r >= 0)
		r = db_exec(req->db, "DELETE FROM playlist_items WHERE playlist_id = $1",
			    DB_PARAMS(DB_I(id)));
	for (size_t i = 0; r >= 0 && i < n; i++) {
		const struct pl_item *it = &items[i];
		struct db_param p[11] = { DB_I(id), DB_I((int64_t)i), DB_N, DB_N, DB_N };
		p[2 + it->kind] = DB_I(it->ref);
		for (int c = 0; c < 5; c++)
			p[5 + c] = it->over[c] >= 0 ? DB_I(it->over[c]) : DB_N;
		p[10] = it->has_gain ? DB_R(it->gain) : DB_N;
		r = db_exec(req->db,
			    "INSERT INTO playlist_items (playlist_id, position, file_id,"
			    " smart_block_id, webstream_id, cue_in_us, cue_out_us, fade_in_us,"
			    " fade_out_us, crossfade_us, gain_db)"
			    " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
			    p, sizeof(p) / sizeof(p[0]));
	}
	if (r >= 0)
		r = db_commit(req->db);
	if (r < 0) {
		db_rollback(req->db);
		/* -ENOENT: a FOREIGN KEY, a row deleted since the check. */
		if (r == -ENOENT)
			problem(res, 409, "a file, smart block or webstream of the items was"
				" deleted meanwhile; reload and try again");
		else
			problem_errno(res, r, what, NULL);
		goto out;
	}
	char details[48];
	snprintf(details, sizeof(details), "{\"items\":%zu}", n);
	audit(req, "update", "playlist items", id, details);
	resource_schedule_changed(req);
	playlist_items_answer(req, id, res);
out:
	free(items);
	json_decref(body);
}

/* ------------------------------------------------------------ smart block criteria */

static const char *const modifier_names[] = {
	"is", "is_not", "contains", "not_contains", "starts_with", "ends_with", "greater",
	"less", "between", "in_last", "not_in_last", NULL,
};

/* The criteria document of smart block id, answered with 200; or a problem
 * (404 for an unknown block). */
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
		json_t *c = json_object();
		json_object_set_new(c, "id", json_integer(db_col_int(rows, 0)));
		json_object_set_new(c, "group", json_integer(db_col_int(rows, 1)));
		json_object_set_new(c, "field", json_text_or_null(db_col_text(rows, 2)));
		json_object_set_new(c, "modifier", json_text_or_null(db_col_text(rows, 3)));
		json_object_set_new(c, "value", json_text_or_null(db_col_text(rows, 4)));
		json_object_set_new(c, "value2", json_text_or_null(db_col_text(rows, 5)));
		json_array_append_new(list, c);
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0) {
		json_decref(list);
		problem_errno(res, r, what, NULL);
		return;
	}
	json_t *doc = json_object();
	json_object_set_new(doc, "smart_block_id", json_integer(id));
	json_object_set_new(doc, "criteria", list);
	api_response_json(res, 200, doc);
}

/* GET /smart-blocks/{id}/criteria: the criteria by group. */
void smart_block_criteria_get(struct api_request *req, struct api_response *res)
{
	static const char *const allowed[] = { NULL };
	if (query_only(req, allowed, res))
		criteria_answer(req, req->ids[0], res);
}

/*
 * The settings of smart block id in *b, without criteria (they are being
 * replaced). Stored criteria that smartblock_load cannot read (written around
 * the API) do not stop their replacement. 0 or a negative errno.
 */
static int block_settings(struct db *db, int64_t id, struct smartblock *b)
{
	int r = smartblock_load(db, id, b);
	if (r == 0) {
		free(b->criteria);
		b->criteria = NULL;
		b->n_criteria = 0;
		return 0;
	}
	if (r != -EINVAL && r != -E2BIG)
		return r;
	smartblock_init(b);
	struct db_rows *rows;
	r = db_query(db, "SELECT limit_type, limit_value, sort, allow_repeats, overflow,"
		     " COALESCE(artist_separation_us, 0), COALESCE(title_separation_us, 0),"
		     " fill_show FROM smart_blocks WHERE id = $1", DB_PARAMS(DB_I(id)), &rows);
	if (r < 0)
		return r;
	if (!db_rows_next(rows)) {
		r = db_rows_error(rows);
		db_rows_free(rows);
		return r < 0 ? r : -ENOENT;
	}
	b->id = id;
	if (smartblock_limit_parse(db_col_text(rows, 0), &b->limit_type) < 0 ||
	    smartblock_sort_parse(db_col_text(rows, 2), &b->sort) < 0)
		r = -EINVAL;
	b->limit_value = db_col_int(rows, 1);
	b->allow_repeats = db_col_bool(rows, 3);
	b->overflow = db_col_bool(rows, 4);
	b->artist_separation_us = db_col_int(rows, 5);
	b->title_separation_us = db_col_int(rows, 6);
	b->fill_show = db_col_bool(rows, 7);
	db_rows_free(rows);
	return r;
}

/* Check criterion i of a PUT (its shape; smartblock_validate checks the
 * values), adding errors to fe as "criteria.i.member". */
static void read_criterion(json_t *c, size_t i, struct field_errors *fe)
{
	char prefix[32];
	snprintf(prefix, sizeof(prefix), "criteria.%zu", i);
	if (!json_is_object(c)) {
		field_error(fe, prefix, "must be an object");
		return;
	}
	static const char *const keys[] = { "group", "field", "modifier", "value", "value2",
					    NULL };
	struct field_errors sub = { 0 };
	body_only(c, keys, &sub);
	int64_t group = 0;
	const char *field = NULL, *mod = NULL, *value = NULL;
	body_int(c, "group", 0, 99, &group, &sub);
	if (body_text(c, "field", SMARTBLOCK_FIELD_SIZE - 1, &field, &sub) == 0)
		field_error(&sub, "field", "is required");
	else if (field && !smartblock_field_known(field))
		field_error(&sub, "field", "unknown field \"%s\"", field);
	if (body_text(c, "modifier", 16, &mod, &sub) == 0)
		field_error(&sub, "modifier", "is required");
	enum smartblock_modifier m;
	if (mod && smartblock_modifier_parse(mod, &m) < 0) {
		char names[192] = "";
		for (size_t k = 0; modifier_names[k]; k++) {
			size_t used = strlen(names);
			snprintf(names + used, sizeof(names) - used, "%s%s", k ? ", " : "",
				 modifier_names[k]);
		}
		field_error(&sub, "modifier", "must be one of %s", names);
	}
	if (body_text(c, "value", SMARTBLOCK_VALUE_SIZE - 1, &value, &sub) == 0)
		field_error(&sub, "value", "is required");
	json_t *v2 = json_object_get(c, "value2");
	if (v2 && !json_is_null(v2)) {
		const char *value2;
		body_text(c, "value2", SMARTBLOCK_VALUE_SIZE - 1, &value2, &sub);
	}
	field_errors_merge(fe, prefix, &sub);
}

/* Add the criteria of list (checked by read_criterion) to b: 0 or -EINVAL. */
static int add_criteria(struct smartblock *b, json_t *list)
{
	for (size_t i = 0; i < json_array_size(list); i++) {
		json_t *c = json_array_get(list, i);
		json_t *v2 = json_object_get(c, "value2");
		enum smartblock_modifier m;
		if (smartblock_modifier_parse(json_string_value(json_object_get(c, "modifier")),
					      &m) < 0)
			return -EINVAL;
		int r = smartblock_add_criterion(b, (int)json_integer_value(json_object_get(c,
								"group")),
						 json_string_value(json_object_get(c, "field")), m,
						 json_string_value(json_object_get(c, "value")),
						 json_is_string(v2) ? json_string_value(v2) : NULL);
		if (r < 0)
			return -EINVAL;
	}
	return 0;
}

/* smartblock_validate's sentence: "criterion 3: ..." becomes the field
 * "criteria.2"; another (the block's own settings) a 422 without a field. */
static void validate_failed(const char *msg, struct api_response *res)
{
	unsigned n;
	int used = 0;
	if (sscanf(msg, "criterion %u: %n", &n, &used) == 1 && used > 0 && n >= 1) {
		struct field_errors fe = { 0 };
		char f[32];
		snprintf(f, sizeof(f), "criteria.%u", n - 1);
		field_error(&fe, f, "%s", msg + used);
		problem_fields(res, &fe);
	} else {
		problem(res, 422, "the smart block is not valid: %s", msg);
	}
}

/*
 * PUT /smart-blocks/{id}/criteria: replace every criterion, after checking
 * the block with them as the builder will. The caller must own the block or
 * be a program manager.
 */
void smart_block_criteria_put(struct api_request *req, struct api_response *res)
{
	int64_t id = req->ids[0];
	char what[48];
	snprintf(what, sizeof(what), "smart block %" PRId64, id);
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
		field_error(&fe, "criteria", "is required: an array of criteria");
	else if (json_array_size(list) > SMARTBLOCK_CRITERIA_MAX)
		field_error(&fe, "criteria", "at most %u criteria", SMARTBLOCK_CRITERIA_MAX);
	else
		for (size_t i = 0; i < json_array_size(list); i++)
			read_criterion(json_array_get(list, i), i, &fe);
	if (field_errors_any(&fe)) {
		problem_fields(res, &fe);
		goto out;
	}
	int r = block_settings(req->db, id, &b);
	if (r < 0) {
		problem_errno(res, r, what, r == -EINVAL ? "the smart block's stored limit or sort"
			      " cannot be read" : NULL);
		goto out;
	}
	if (add_criteria(&b, list) < 0) {
		problem(res, 422, "the criteria do not fit");
		goto out;
	}
	char err[256];
	if (smartblock_validate(&b, err, sizeof(err)) < 0) {
		validate_failed(err, res);
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
	if (r == 0)	/* deleted since the owner check */
		r = -ENOENT;
	if (r >= 0)
		r = db_commit(req->db);
	if (r < 0) {
		db_rollback(req->db);
		problem_errno(res, r, what, NULL);
		goto out;
	}
	char details[48];
	snprintf(details, sizeof(details), "{\"criteria\":%zu}", b.n_criteria);
	audit(req, "update", "smart block criteria", id, details);
	resource_schedule_changed(req);
	criteria_answer(req, id, res);
out:
	smartblock_release(&b);
	json_decref(body);
}

/* ------------------------------------------------------------ preview */

/*
 * GET /smart-blocks/{id}/preview?at=&remaining_us=&seed=: what the block
 * would pick if it were built at `at` (default now) with remaining_us left
 * in the show (default 1 h for a fill_show block, else 0) and the random
 * seed (default 1). Nothing is written.
 */
void smart_block_preview(struct api_request *req, struct api_response *res)
{
	static const char *const allowed[] = { "at", "remaining_us", "seed", NULL };
	if (!query_only(req, allowed, res))
		return;
	int64_t id = req->ids[0];
	int64_t at = req->now, remaining = -1, seed = 1;
	if (query_time(req, "at", &at, res) < 0 ||
	    query_int(req, "remaining_us", 0, SMARTBLOCK_DURATION_MAX, &remaining, res) < 0 ||
	    query_int(req, "seed", 0, INT64_MAX, &seed, res) < 0)
		return;
	char what[48];
	snprintf(what, sizeof(what), "smart block %" PRId64, id);
	struct smartblock b;
	int r = smartblock_load(req->db, id, &b);
	if (r < 0) {
		if (r == -EINVAL || r == -E2BIG)
			problem(res, 422, "%s cannot be read (stored criteria that are not"
				" valid): replace its criteria", what);
		else
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
		.remaining_us = remaining >= 0 ? remaining : (b.fill_show ? PREVIEW_FILL_US : 0),
		.seed = (uint64_t)seed,
	};
	struct smartblock_result out;
	r = smartblock_evaluate(req->db, &b, &ctx, &out);
	smartblock_release(&b);
	if (r == -E2BIG) {
		problem(res, 422, "more than %u files match: narrow the criteria",
			SMARTBLOCK_CANDIDATES_MAX);
		return;
	}
	if (r < 0) {
		problem_errno(res, r, "the preview", NULL);
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < out.n; i++) {
		const struct smartblock_pick *p = &out.picks[i];
		json_t *it = json_object();
		json_object_set_new(it, "file_id", json_integer(p->file_id));
		json_object_set_new(it, "title", json_text_or_null(p->title));
		json_object_set_new(it, "artist", json_text_or_null(p->artist));
		json_object_set_new(it, "length_us", json_integer(p->length_us));
		json_array_append_new(items, it);
	}
	json_t *doc = json_object();
	json_object_set_new(doc, "smart_block_id", json_integer(id));
	json_object_set_new(doc, "at", json_time(at));
	json_object_set_new(doc, "items", items);
	json_object_set_new(doc, "total_us", json_integer(out.total_us));
	json_object_set_new(doc, "candidates", json_integer((json_int_t)out.candidates));
	json_object_set_new(doc, "separation_relaxed",
			    json_integer((json_int_t)out.separation_relaxed));
	json_object_set_new(doc, "short_fill", json_boolean(out.short_fill));
	smartblock_result_release(&out);
	api_response_json(res, 200, doc);
}
