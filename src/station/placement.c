/*
 * placement.c - the items of a show instance (see placement.h and
 * docs/internals/scheduling.md).
 *
 * Every edit follows the same steps inside one transaction: find the
 * instance addressed and its content instance, increase the content
 * instance's version if it is still the one the caller read (on
 * PostgreSQL that UPDATE also locks the row, so concurrent editors of
 * one instance queue there and the later one finds the version
 * changed), read the items into a list of slots in their order, change
 * the list, then write back only the rows whose instance, position or
 * times differ, and insert the new ones.
 */
#include "station/placement.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"

/* Seconds, for messages. */
#define SECONDS(us) ((double)(us) / 1e6)

/* An item to insert, checked, with the values its row gets. */
struct newrow {
	enum placement_kind kind;
	int64_t file_id, webstream_id;	/* 0 = NULL */
	int64_t cue_in, cue_out;	/* as stored; -1 = NULL */
	int64_t fade_in, fade_out, crossfade;	/* -1 = NULL */
	double gain;
	bool has_gain;
	int64_t playlist, smart_block;	/* 0 = NULL */
	const char *origin;
	int64_t length;
};

/* One item in the new order of an instance. */
struct slot {
	int64_t id;		/* 0: not stored yet (add says what to insert) */
	int64_t length;		/* us, 1 .. PLACEMENT_LENGTH_MAX */
	int64_t crossfade;	/* the item's own; -1: the station's default */
	int64_t old_instance;	/* where the row is now */
	long old_position;	/* -1 for a new row */
	int64_t old_start, old_end;
	int64_t start, end;	/* computed */
	bool gone;		/* to be removed */
	const struct newrow *add;
	size_t add_index;	/* add's index in the caller's items (for ids) */
};

struct slots {
	struct slot *v;
	size_t n, cap;
};

/* The instance an edit addresses and the one whose items it edits. */
struct inst {
	int64_t id;		/* addressed */
	int64_t content;	/* whose items are edited */
	int64_t starts_at;	/* the content instance's start */
	int64_t version;	/* the content instance's version after the edit */
};

static int db_fail(char *err, size_t errlen, int r)
{
	if (r == -EBUSY)
		return error_set(err, errlen, r, "the database is busy: try again");
	return error_set(err, errlen, r, "database error: %s", onair_strerror(r));
}

const char *placement_kind_name(enum placement_kind k)
{
	switch (k) {
	case PLACEMENT_FILE:
		return "file";
	case PLACEMENT_WEBSTREAM:
		return "webstream";
	case PLACEMENT_LIVE:
		return "live";
	case PLACEMENT_SILENCE:
		return "silence";
	}
	return "?";
}

int placement_kind_parse(const char *text, enum placement_kind *out)
{
	static const enum placement_kind kinds[] = { PLACEMENT_FILE, PLACEMENT_WEBSTREAM,
						     PLACEMENT_LIVE, PLACEMENT_SILENCE };
	for (size_t i = 0; text && i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		if (strcmp(text, placement_kind_name(kinds[i])) == 0) {
			*out = kinds[i];
			return 0;
		}
	}
	return -EINVAL;
}

void placement_item_init(struct placement_item *it, enum placement_kind kind)
{
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->cue_in_us = -1;
	it->cue_out_us = -1;
	it->fade_in_us = -1;
	it->fade_out_us = -1;
	it->crossfade_us = -1;
}

static void slots_insert(struct slots *s, size_t at, const struct slot *v)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 16;
		s->v = xreallocarray(s->v, s->cap, sizeof(*s->v));
	}
	memmove(&s->v[at + 1], &s->v[at], (s->n - at) * sizeof(*s->v));
	s->v[at] = *v;
	s->n++;
}

static void slots_remove(struct slots *s, size_t at)
{
	memmove(&s->v[at], &s->v[at + 1], (s->n - at - 1) * sizeof(*s->v));
	s->n--;
}

static void slots_release(struct slots *s)
{
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static int64_t clamp_length(int64_t len)
{
	if (len < 1)
		return 1;
	if (len > PLACEMENT_LENGTH_MAX)
		return PLACEMENT_LENGTH_MAX;
	return len;
}

/* The length of a stored item from the current row of load_slots'
 * query. */
static int64_t row_length(struct db_rows *rows)
{
	const char *kind = db_col_text(rows, 1);
	bool is_file = kind && strcmp(kind, "file") == 0;
	int64_t cue_in, cue_out;
	if (is_file) {
		int64_t dur = db_col_is_null(rows, 5) ? -1 : db_col_int(rows, 5);
		cue_in = !db_col_is_null(rows, 2) ? db_col_int(rows, 2)
			 : !db_col_is_null(rows, 6) ? db_col_int(rows, 6)
						    : 0;
		cue_out = !db_col_is_null(rows, 3) ? db_col_int(rows, 3)
			  : !db_col_is_null(rows, 7) ? db_col_int(rows, 7)
			  : dur >= 0		     ? dur
						     : 0;
		if (dur >= 0 && cue_out > dur)
			cue_out = dur;
		if (cue_in < 0)
			cue_in = 0;
	} else {
		cue_in = db_col_is_null(rows, 2) ? 0 : db_col_int(rows, 2);
		cue_out = !db_col_is_null(rows, 3) ? db_col_int(rows, 3)
			  : !db_col_is_null(rows, 8) ? db_col_int(rows, 8)
						     : 0;
	}
	/* Keep the subtraction in range whatever the columns hold. */
	if (cue_out > PLACEMENT_LENGTH_MAX * 2 || cue_in < -PLACEMENT_LENGTH_MAX ||
	    cue_in > PLACEMENT_LENGTH_MAX * 2 || cue_out < -PLACEMENT_LENGTH_MAX)
		return PLACEMENT_LENGTH_MAX;
	return clamp_length(cue_out - cue_in);
}

/* The items of instance into s, in their order. */
static int load_slots(struct db *db, int64_t instance, struct slots *s, char *err, size_t errlen)
{
	struct db_rows *rows;
	int r = db_query(db,
			 "SELECT i.id, i.kind, i.cue_in_us, i.cue_out_us, i.crossfade_us,"
			 " f.duration_us, f.cue_in_us, f.cue_out_us, w.duration_us, i.position,"
			 " i.starts_at, i.ends_at"
			 " FROM schedule_items i"
			 " LEFT JOIN files f ON f.id = i.file_id"
			 " LEFT JOIN webstreams w ON w.id = i.webstream_id"
			 " WHERE i.instance_id = $1 ORDER BY i.position, i.id",
			 DB_PARAMS(DB_I(instance)), &rows);
	if (r < 0)
		return db_fail(err, errlen, r);
	while (db_rows_next(rows)) {
		if (s->n == PLACEMENT_ITEMS_MAX) {
			db_rows_free(rows);
			return error_set(err, errlen, -E2BIG,
				    "show instance %" PRId64 " holds more than %u items", instance,
				    PLACEMENT_ITEMS_MAX);
		}
		struct slot v = {
			.id = db_col_int(rows, 0),
			.length = row_length(rows),
			.crossfade = db_col_is_null(rows, 4) ? -1 : db_col_int(rows, 4),
			.old_instance = instance,
			.old_position = (long)db_col_int(rows, 9),
			.old_start = db_col_int(rows, 10),
			.old_end = db_col_int(rows, 11),
		};
		if (v.crossfade < -1)
			v.crossfade = 0;
		slots_insert(s, s->n, &v);
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0)
		return db_fail(err, errlen, r);
	return 0;
}

/* Back to back from start: see placement.h. */
static void compute_times(struct slots *s, int64_t start, int64_t default_crossfade)
{
	for (size_t i = 0; i < s->n; i++) {
		struct slot *v = &s->v[i];
		if (i == 0) {
			v->start = start;
		} else {
			const struct slot *prev = &s->v[i - 1];
			int64_t cf = v->crossfade >= 0 ? v->crossfade : default_crossfade;
			if (cf > prev->length - 1)
				cf = prev->length - 1;
			if (cf > v->length - 1)
				cf = v->length - 1;
			if (cf < 0)
				cf = 0;
			v->start = prev->end - cf;
		}
		v->end = v->start + v->length;
	}
}

static struct db_param opt_int(int64_t v, int64_t none)
{
	return v == none ? DB_N : DB_I(v);
}

/* Insert the new row of slot v at position pos. */
static int insert_row(struct db *db, int64_t instance, long pos, struct slot *v, int64_t *ids)
{
	const struct newrow *a = v->add;
	int64_t id;
	int r = db_query_int(
		db,
		"INSERT INTO schedule_items (instance_id, position, starts_at, ends_at, kind,"
		" file_id, webstream_id, source_playlist_id, source_smart_block_id, cue_in_us,"
		" cue_out_us, fade_in_us, fade_out_us, crossfade_us, gain_db, origin)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
		" RETURNING id",
		DB_PARAMS(DB_I(instance), DB_I(pos), DB_I(v->start), DB_I(v->end),
			  DB_T(placement_kind_name(a->kind)), opt_int(a->file_id, 0),
			  opt_int(a->webstream_id, 0), opt_int(a->playlist, 0),
			  opt_int(a->smart_block, 0), opt_int(a->cue_in, -1),
			  opt_int(a->cue_out, -1), opt_int(a->fade_in, -1),
			  opt_int(a->fade_out, -1), opt_int(a->crossfade, -1),
			  a->has_gain ? DB_R(a->gain) : DB_N, DB_T(a->origin)),
		&id);
	if (r < 0)
		return r;
	v->id = id;
	if (ids)
		ids[v->add_index] = id;
	return 0;
}

/* Time s from start and write every row of it that changed into
 * instance; new rows are inserted (their ids into ids). */
static int finish(struct db *db, int64_t instance, int64_t start, struct slots *s, int64_t *ids,
		  char *err, size_t errlen)
{
	int64_t default_crossfade = 0;
	int r = db_query_int(db, "SELECT default_crossfade_us FROM station_settings WHERE id = 1",
			     NULL, 0, &default_crossfade);
	if (r == -ENOENT || r == -ENODATA || default_crossfade < 0)
		default_crossfade = 0;
	else if (r < 0)
		return db_fail(err, errlen, r);
	compute_times(s, start, default_crossfade);
	for (size_t i = 0; i < s->n; i++) {
		struct slot *v = &s->v[i];
		r = 0;
		if (v->id == 0) {
			r = insert_row(db, instance, (long)i, v, ids);
			if (r == -ENOENT)
				return error_set(err, errlen, r,
					    "a file, webstream, playlist or smart block of the "
					    "items no longer exists");
		} else if (v->old_instance != instance || v->old_position != (long)i ||
			   v->old_start != v->start || v->old_end != v->end) {
			r = db_exec(db,
				    "UPDATE schedule_items SET instance_id = $2, position = $3,"
				    " starts_at = $4, ends_at = $5, version = version + 1"
				    " WHERE id = $1",
				    DB_PARAMS(DB_I(v->id), DB_I(instance), DB_I((int64_t)i),
					      DB_I(v->start), DB_I(v->end)));
		}
		if (r < 0)
			return db_fail(err, errlen, r);
	}
	return 0;
}

/* Find instance id (what: "show instance" or "target show instance"),
 * refuse it when it has ended, and find its content instance. */
static int open_inst(struct db *db, int64_t now, int64_t id, bool target, struct inst *out,
		     char *err, size_t errlen)
{
	const char *what = target ? "target show instance" : "show instance";
	struct db_rows *rows;
	int r = db_query(db, "SELECT ends_at, linked_to FROM show_instances WHERE id = $1",
			 DB_PARAMS(DB_I(id)), &rows);
	if (r < 0)
		return db_fail(err, errlen, r);
	bool found = db_rows_next(rows);
	int64_t ends_at = found ? db_col_int(rows, 0) : 0;
	int64_t linked = found && !db_col_is_null(rows, 1) ? db_col_int(rows, 1) : 0;
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0)
		return db_fail(err, errlen, r);
	if (!found)
		return error_set(err, errlen, -ENOENT, "%s %" PRId64 " does not exist", what, id);
	if (ends_at <= now)
		return error_set(err, errlen, -EPERM, "the %s has already ended",
			    target ? "target show" : "show");
	out->id = id;
	out->content = linked ? linked : id;
	r = db_query_int(db, "SELECT starts_at FROM show_instances WHERE id = $1",
			 DB_PARAMS(DB_I(out->content)), &out->starts_at);
	if (r == -ENOENT)
		return error_set(err, errlen, r, "show instance %" PRId64 " (whose content %s %" PRId64
			    " shares) does not exist", out->content, what, id);
	if (r < 0)
		return db_fail(err, errlen, r);
	return 0;
}

/* Increase the content instance's version if it is expected (-1: any). */
static int bump(struct db *db, int64_t now, struct inst *in, int64_t expected, bool target,
		char *err, size_t errlen)
{
	int64_t v = 0;
	int r;
	if (expected == -1)
		r = db_query_int(db,
				 "UPDATE show_instances SET version = version + 1, updated_at = $2"
				 " WHERE id = $1 RETURNING version",
				 DB_PARAMS(DB_I(in->content), DB_I(now)), &v);
	else
		r = db_query_int(db,
				 "UPDATE show_instances SET version = version + 1, updated_at = $2"
				 " WHERE id = $1 AND version = $3 RETURNING version",
				 DB_PARAMS(DB_I(in->content), DB_I(now), DB_I(expected)), &v);
	if (r == 0) {
		in->version = v;
		return 0;
	}
	if (r != -ENOENT)
		return db_fail(err, errlen, r);
	int64_t current;
	r = db_query_int(db, "SELECT version FROM show_instances WHERE id = $1",
			 DB_PARAMS(DB_I(in->content)), &current);
	if (r == -ENOENT)
		return error_set(err, errlen, r, "show instance %" PRId64 " does not exist",
			    in->content);
	if (r < 0)
		return db_fail(err, errlen, r);
	return error_set(err, errlen, -ESTALE,
		    "the %s was changed by someone else (now version %" PRId64
		    ", the edit was made on version %" PRId64 "): reload it and try again",
		    target ? "target show instance" : "show instance", current, expected);
}

/* Check it and fill *out; errors without the "item N: " prefix. */
static int resolve(struct db *db, const struct placement_item *it, struct newrow *out, char *err,
		   size_t errlen)
{
	static const char *const origins[] = { "manual", "linked", "rebroadcast", "autoplaylist" };
	memset(out, 0, sizeof(*out));
	out->origin = it->origin ? it->origin : "manual";
	bool known = false;
	for (size_t i = 0; i < sizeof(origins) / sizeof(origins[0]); i++)
		known = known || strcmp(out->origin, origins[i]) == 0;
	if (!known)
		return error_set(err, errlen, -EINVAL, "unknown origin '%.32s'", out->origin);
	if ((unsigned)it->kind > PLACEMENT_SILENCE)
		return error_set(err, errlen, -EINVAL, "unknown item kind");
	const char *kind = placement_kind_name(it->kind);
	if (it->fade_in_us < -1)
		return error_set(err, errlen, -EINVAL, "fade_in_us is negative");
	if (it->fade_out_us < -1)
		return error_set(err, errlen, -EINVAL, "fade_out_us is negative");
	if (it->crossfade_us < -1)
		return error_set(err, errlen, -EINVAL, "crossfade_us is negative");
	if (it->source_playlist_id < 0 || it->source_smart_block_id < 0)
		return error_set(err, errlen, -EINVAL, "a source id is negative");
	out->kind = it->kind;
	out->fade_in = it->fade_in_us;
	out->fade_out = it->fade_out_us;
	out->crossfade = it->crossfade_us;
	out->gain = it->gain_db;
	out->has_gain = it->has_gain;
	out->playlist = it->source_playlist_id;
	out->smart_block = it->source_smart_block_id;

	int r;
	if (it->kind == PLACEMENT_FILE) {
		if (it->file_id <= 0)
			return error_set(err, errlen, -EINVAL, "a file item needs a file_id");
		if (it->webstream_id != 0)
			return error_set(err, errlen, -EINVAL, "a file item has no webstream_id");
		if (it->length_us != 0)
			return error_set(err, errlen, -EINVAL,
				    "a file item is as long as its cue points say: "
				    "leave length_us 0");
		if (it->cue_in_us < -1 || it->cue_out_us < -1)
			return error_set(err, errlen, -EINVAL, "cue points must not be negative");
		struct db_rows *rows;
		r = db_query(db,
			     "SELECT import_status, duration_us, cue_in_us, cue_out_us FROM files"
			     " WHERE id = $1",
			     DB_PARAMS(DB_I(it->file_id)), &rows);
		if (r < 0)
			return db_fail(err, errlen, r);
		if (!db_rows_next(rows)) {
			r = db_rows_error(rows);
			db_rows_free(rows);
			if (r < 0)
				return db_fail(err, errlen, r);
			return error_set(err, errlen, -ENOENT, "file %" PRId64 " does not exist",
				    it->file_id);
		}
		char status[16];
		snprintf(status, sizeof(status), "%s",
			 db_col_text(rows, 0) ? db_col_text(rows, 0) : "");
		int64_t dur = db_col_is_null(rows, 1) ? -1 : db_col_int(rows, 1);
		int64_t f_in = db_col_is_null(rows, 2) ? -1 : db_col_int(rows, 2);
		int64_t f_out = db_col_is_null(rows, 3) ? -1 : db_col_int(rows, 3);
		db_rows_free(rows);
		if (strcmp(status, "ready") != 0)
			return error_set(err, errlen, -EINVAL, "file %" PRId64 " is not ready (%s)",
				    it->file_id,
				    strcmp(status, "pending") == 0  ? "pending analysis"
				    : strcmp(status, "failed") == 0 ? "its analysis failed"
								    : status);
		if (dur <= 0)
			return error_set(err, errlen, -EINVAL, "file %" PRId64 " has no duration",
				    it->file_id);
		int64_t cue_in = it->cue_in_us >= 0 ? it->cue_in_us : f_in >= 0 ? f_in : 0;
		int64_t cue_out = it->cue_out_us >= 0 ? it->cue_out_us : f_out >= 0 ? f_out : dur;
		if (cue_out > dur)
			return error_set(err, errlen, -EINVAL,
				    "file %" PRId64 ": cue out %.3f s is beyond the file's "
				    "duration (%.3f s)",
				    it->file_id, SECONDS(cue_out), SECONDS(dur));
		if (cue_in >= dur)
			return error_set(err, errlen, -EINVAL,
				    "file %" PRId64 ": cue in %.3f s is beyond the file's "
				    "duration (%.3f s)",
				    it->file_id, SECONDS(cue_in), SECONDS(dur));
		if (cue_out <= cue_in)
			return error_set(err, errlen, -EINVAL,
				    "file %" PRId64 ": cue out (%.3f s) is not after cue in "
				    "(%.3f s)",
				    it->file_id, SECONDS(cue_out), SECONDS(cue_in));
		out->file_id = it->file_id;
		out->cue_in = it->cue_in_us;
		out->cue_out = it->cue_out_us;
		out->length = cue_out - cue_in;
	} else {
		if (it->cue_in_us != -1 || it->cue_out_us != -1)
			return error_set(err, errlen, -EINVAL,
				    "cue points are only for files: give a %s item its length_us",
				    kind);
		if (it->kind == PLACEMENT_WEBSTREAM) {
			if (it->webstream_id <= 0)
				return error_set(err, errlen, -EINVAL,
					    "a webstream item needs a webstream_id");
			if (it->file_id != 0)
				return error_set(err, errlen, -EINVAL,
					    "a webstream item has no file_id");
			if (it->length_us < 0)
				return error_set(err, errlen, -EINVAL, "length_us is negative");
			int64_t dur;
			r = db_query_int(db, "SELECT duration_us FROM webstreams WHERE id = $1",
					 DB_PARAMS(DB_I(it->webstream_id)), &dur);
			if (r == -ENOENT)
				return error_set(err, errlen, r, "webstream %" PRId64 " does not exist",
					    it->webstream_id);
			if (r < 0)
				return db_fail(err, errlen, r);
			out->webstream_id = it->webstream_id;
			out->length = it->length_us ? it->length_us : dur;
		} else {
			if (it->file_id != 0 || it->webstream_id != 0)
				return error_set(err, errlen, -EINVAL,
					    "a %s item has no file_id or webstream_id", kind);
			if (it->length_us <= 0)
				return error_set(err, errlen, -EINVAL,
					    "a %s item needs a length (length_us)", kind);
			out->length = it->length_us;
		}
		out->cue_in = 0;
		out->cue_out = out->length;
	}
	if (out->length > PLACEMENT_LENGTH_MAX)
		return error_set(err, errlen, -EINVAL, "the item is longer than 31 days");
	if (it->crossfade_us >= out->length)
		return error_set(err, errlen, -EINVAL,
			    "the crossfade (%.3f s) is not shorter than the item (%.3f s)",
			    SECONDS(it->crossfade_us), SECONDS(out->length));

	int64_t one;
	if (out->playlist) {
		r = db_query_int(db, "SELECT 1 FROM playlists WHERE id = $1",
				 DB_PARAMS(DB_I(out->playlist)), &one);
		if (r == -ENOENT)
			return error_set(err, errlen, r, "playlist %" PRId64 " does not exist",
				    out->playlist);
		if (r < 0)
			return db_fail(err, errlen, r);
	}
	if (out->smart_block) {
		r = db_query_int(db, "SELECT 1 FROM smart_blocks WHERE id = $1",
				 DB_PARAMS(DB_I(out->smart_block)), &one);
		if (r == -ENOENT)
			return error_set(err, errlen, r, "smart block %" PRId64 " does not exist",
				    out->smart_block);
		if (r < 0)
			return db_fail(err, errlen, r);
	}
	return 0;
}

/* resolve() every item into rows (n of them), prefixing errors with
 * "item N: " when there are several. */
static int resolve_all(struct db *db, const struct placement_item *items, size_t n,
		       struct newrow *rows, char *err, size_t errlen)
{
	for (size_t i = 0; i < n; i++) {
		char msg[200] = "";
		int r = resolve(db, &items[i], &rows[i], msg, sizeof(msg));
		if (r < 0) {
			if (n > 1)
				return error_set(err, errlen, r, "item %zu: %.199s", i + 1, msg);
			return error_set(err, errlen, r, "%.199s", msg);
		}
	}
	return 0;
}

/* The slots of new rows rows[0..n-1] into s before index at. */
static void add_new(struct slots *s, size_t at, const struct newrow *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct slot v = {
			.length = rows[i].length,
			.crossfade = rows[i].crossfade,
			.old_position = -1,
			.add = &rows[i],
			.add_index = i,
		};
		slots_insert(s, at + i, &v);
	}
}

static int commit(struct db *db, char *err, size_t errlen)
{
	int r = db_commit(db);
	return r < 0 ? db_fail(err, errlen, r) : 0;
}

int placement_insert(struct db *db, int64_t now, int64_t instance_id, int64_t expected_version,
		     long position, const struct placement_item *items, size_t n,
		     int64_t *new_version, int64_t *ids, char *err, size_t errlen)
{
	if (n == 0 || !items)
		return error_set(err, errlen, -EINVAL, "no items to insert");
	if (n > PLACEMENT_ITEMS_MAX)
		return error_set(err, errlen, -E2BIG, "a show instance holds at most %u items",
			    PLACEMENT_ITEMS_MAX);
	struct newrow *rows = xcalloc(n, sizeof(*rows));
	struct slots s = { 0 };
	struct inst in;
	int r = db_begin(db);
	if (r < 0) {
		r = db_fail(err, errlen, r);
		goto out_free_rows;
	}
	r = open_inst(db, now, instance_id, false, &in, err, errlen);
	if (r == 0)
		r = bump(db, now, &in, expected_version, false, err, errlen);
	if (r == 0)
		r = load_slots(db, in.content, &s, err, errlen);
	if (r < 0)
		goto out_rollback;
	if (position < -1 || position > (long)s.n) {
		r = error_set(err, errlen, -EINVAL,
			 "position %ld is out of range (0 to %zu, or -1 for the end)", position,
			 s.n);
		goto out_rollback;
	}
	if (s.n + n > PLACEMENT_ITEMS_MAX) {
		r = error_set(err, errlen, -E2BIG, "a show instance holds at most %u items",
			 PLACEMENT_ITEMS_MAX);
		goto out_rollback;
	}
	r = resolve_all(db, items, n, rows, err, errlen);
	if (r < 0)
		goto out_rollback;
	add_new(&s, position == -1 ? s.n : (size_t)position, rows, n);
	r = finish(db, in.content, in.starts_at, &s, ids, err, errlen);
	if (r == 0)
		r = commit(db, err, errlen);
	if (r == 0 && new_version)
		*new_version = in.version;
out_rollback:
	if (r < 0)
		db_rollback(db);
	slots_release(&s);
out_free_rows:
	free(rows);
	return r;
}

/* Where item_id is in s, or -ENOENT with the sentence for instance
 * (the instance addressed). */
static int find_item(struct db *db, const struct slots *s, int64_t item_id, int64_t instance,
		     size_t *at, char *err, size_t errlen)
{
	for (size_t i = 0; i < s->n; i++) {
		if (s->v[i].id == item_id) {
			*at = i;
			return 0;
		}
	}
	int64_t where;
	int r = db_query_int(db, "SELECT instance_id FROM schedule_items WHERE id = $1",
			     DB_PARAMS(DB_I(item_id)), &where);
	if (r == -ENOENT)
		return error_set(err, errlen, r, "item %" PRId64 " does not exist", item_id);
	if (r < 0)
		return db_fail(err, errlen, r);
	return error_set(err, errlen, -ENOENT, "item %" PRId64 " is not in show instance %" PRId64,
		    item_id, instance);
}

int placement_move(struct db *db, int64_t now, int64_t instance_id, int64_t expected_version,
		   int64_t item_id, int64_t to_instance_id, int64_t to_expected_version,
		   long to_position, int64_t *new_version, char *err, size_t errlen)
{
	struct slots s = { 0 }, d = { 0 };
	struct inst src, dst;
	int r = db_begin(db);
	if (r < 0)
		return db_fail(err, errlen, r);
	r = open_inst(db, now, instance_id, false, &src, err, errlen);
	if (r == 0)
		r = open_inst(db, now, to_instance_id, true, &dst, err, errlen);
	if (r < 0)
		goto out_rollback;
	bool same = src.content == dst.content;
	if (same) {
		r = bump(db, now, &src, expected_version, false, err, errlen);
		dst.version = src.version;
	} else if (src.content < dst.content) {
		/* Always lock the lower id first: two moves in opposite
		 * directions cannot deadlock. */
		r = bump(db, now, &src, expected_version, false, err, errlen);
		if (r == 0)
			r = bump(db, now, &dst, to_expected_version, true, err, errlen);
	} else {
		r = bump(db, now, &dst, to_expected_version, true, err, errlen);
		if (r == 0)
			r = bump(db, now, &src, expected_version, false, err, errlen);
	}
	if (r == 0)
		r = load_slots(db, src.content, &s, err, errlen);
	size_t at = 0;
	if (r == 0)
		r = find_item(db, &s, item_id, instance_id, &at, err, errlen);
	if (r < 0)
		goto out_rollback;
	struct slot moving = s.v[at];
	slots_remove(&s, at);
	struct slots *target = same ? &s : &d;
	if (!same) {
		r = load_slots(db, dst.content, &d, err, errlen);
		if (r < 0)
			goto out_rollback;
		if (d.n >= PLACEMENT_ITEMS_MAX) {
			r = error_set(err, errlen, -E2BIG, "a show instance holds at most %u items",
				 PLACEMENT_ITEMS_MAX);
			goto out_rollback;
		}
	}
	if (to_position < -1 || to_position > (long)target->n) {
		r = error_set(err, errlen, -EINVAL,
			 "position %ld is out of range (0 to %zu, or -1 for the end)", to_position,
			 target->n);
		goto out_rollback;
	}
	slots_insert(target, to_position == -1 ? target->n : (size_t)to_position, &moving);
	r = finish(db, src.content, src.starts_at, &s, NULL, err, errlen);
	if (r == 0 && !same)
		r = finish(db, dst.content, dst.starts_at, &d, NULL, err, errlen);
	if (r == 0)
		r = commit(db, err, errlen);
	if (r == 0 && new_version)
		*new_version = src.version;
out_rollback:
	if (r < 0)
		db_rollback(db);
	slots_release(&s);
	slots_release(&d);
	return r;
}

int placement_remove(struct db *db, int64_t now, int64_t instance_id, int64_t expected_version,
		     const int64_t *item_ids, size_t n, int64_t *new_version, char *err,
		     size_t errlen)
{
	if (n == 0 || !item_ids)
		return error_set(err, errlen, -EINVAL, "no items to remove");
	struct slots s = { 0 };
	struct inst in;
	int r = db_begin(db);
	if (r < 0)
		return db_fail(err, errlen, r);
	r = open_inst(db, now, instance_id, false, &in, err, errlen);
	if (r == 0)
		r = bump(db, now, &in, expected_version, false, err, errlen);
	if (r == 0)
		r = load_slots(db, in.content, &s, err, errlen);
	for (size_t i = 0; r == 0 && i < n; i++) {
		size_t at = 0;
		r = find_item(db, &s, item_ids[i], instance_id, &at, err, errlen);
		if (r == 0)
			s.v[at].gone = true;
	}
	if (r < 0)
		goto out_rollback;
	for (size_t i = s.n; i-- > 0;) {
		if (!s.v[i].gone)
			continue;
		r = db_exec(db, "DELETE FROM schedule_items WHERE id = $1",
			    DB_PARAMS(DB_I(s.v[i].id)));
		if (r < 0) {
			r = db_fail(err, errlen, r);
			goto out_rollback;
		}
		slots_remove(&s, i);
	}
	r = finish(db, in.content, in.starts_at, &s, NULL, err, errlen);
	if (r == 0)
		r = commit(db, err, errlen);
	if (r == 0 && new_version)
		*new_version = in.version;
out_rollback:
	if (r < 0)
		db_rollback(db);
	slots_release(&s);
	return r;
}

int placement_replace(struct db *db, int64_t now, int64_t instance_id, int64_t expected_version,
		      const struct placement_item *items, size_t n, int64_t *new_version,
		      char *err, size_t errlen)
{
	if (n > 0 && !items)
		return error_set(err, errlen, -EINVAL, "items missing");
	if (n > PLACEMENT_ITEMS_MAX)
		return error_set(err, errlen, -E2BIG, "a show instance holds at most %u items",
			    PLACEMENT_ITEMS_MAX);
	struct newrow *rows = xcalloc(n ? n : 1, sizeof(*rows));
	struct slots s = { 0 };
	struct inst in;
	int r = db_begin(db);
	if (r < 0) {
		r = db_fail(err, errlen, r);
		goto out_free_rows;
	}
	r = open_inst(db, now, instance_id, false, &in, err, errlen);
	if (r == 0 && expected_version == -1 && in.content != instance_id) {
		/* The builder writes a linked instance's own copy. */
		in.content = instance_id;
		r = db_query_int(db, "SELECT starts_at FROM show_instances WHERE id = $1",
				 DB_PARAMS(DB_I(instance_id)), &in.starts_at);
		if (r < 0)
			r = db_fail(err, errlen, r);
	}
	if (r == 0)
		r = bump(db, now, &in, expected_version, false, err, errlen);
	if (r == 0)
		r = resolve_all(db, items, n, rows, err, errlen);
	if (r < 0)
		goto out_rollback;
	r = db_exec(db, "DELETE FROM schedule_items WHERE instance_id = $1",
		    DB_PARAMS(DB_I(in.content)));
	if (r < 0) {
		r = db_fail(err, errlen, r);
		goto out_rollback;
	}
	add_new(&s, 0, rows, n);
	r = finish(db, in.content, in.starts_at, &s, NULL, err, errlen);
	if (r == 0)
		r = commit(db, err, errlen);
	if (r == 0 && new_version)
		*new_version = in.version;
out_rollback:
	if (r < 0)
		db_rollback(db);
	slots_release(&s);
out_free_rows:
	free(rows);
	return r;
}

int placement_fill(struct db *db, int64_t instance_id, struct placement_fill *out)
{
	struct db_rows *rows;
	int r = db_query(db,
			 "SELECT i.starts_at, i.ends_at, c.id, c.starts_at"
			 " FROM show_instances i"
			 " LEFT JOIN show_instances c ON c.id = COALESCE(i.linked_to, i.id)"
			 " WHERE i.id = $1",
			 DB_PARAMS(DB_I(instance_id)), &rows);
	if (r < 0)
		return r;
	bool found = db_rows_next(rows);
	struct placement_fill f = { .instance_id = instance_id };
	int64_t content = instance_id, content_start = 0;
	if (found) {
		f.starts_at = db_col_int(rows, 0);
		f.ends_at = db_col_int(rows, 1);
		content = db_col_is_null(rows, 2) ? instance_id : db_col_int(rows, 2);
		content_start = db_col_is_null(rows, 2) ? f.starts_at : db_col_int(rows, 3);
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0)
		return r;
	if (!found)
		return -ENOENT;
	r = db_query(db,
		     "SELECT COUNT(*), MAX(ends_at) FROM schedule_items WHERE instance_id = $1",
		     DB_PARAMS(DB_I(content)), &rows);
	if (r < 0)
		return r;
	if (db_rows_next(rows)) {
		f.n_items = (size_t)db_col_int(rows, 0);
		if (f.n_items > 0 && !db_col_is_null(rows, 1))
			f.scheduled_us = db_col_int(rows, 1) - content_start;
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0)
		return r;
	int64_t length = f.ends_at - f.starts_at;
	if (f.scheduled_us < length)
		f.gap_us = length - f.scheduled_us;
	else
		f.overbooked_us = f.scheduled_us - length;
	*out = f;
	return 0;
}

int placement_retime(struct db *db, int64_t instance_id)
{
	bool own = !db_in_transaction(db);
	struct slots s = { 0 };
	int r = 0;
	if (own) {
		r = db_begin(db);
		if (r < 0)
			return r;
	}
	int64_t start;
	r = db_query_int(db, "SELECT starts_at FROM show_instances WHERE id = $1",
			 DB_PARAMS(DB_I(instance_id)), &start);
	if (r == 0)
		r = load_slots(db, instance_id, &s, NULL, 0);
	if (r == 0)
		r = finish(db, instance_id, start, &s, NULL, NULL, 0);
	if (r == 0 && own)
		r = db_commit(db);
	if (r < 0 && own)
		db_rollback(db);
	slots_release(&s);
	return r;
}

int placement_content_instance(struct db *db, int64_t instance_id, int64_t *content_id)
{
	struct db_rows *rows;
	int r = db_query(db, "SELECT linked_to FROM show_instances WHERE id = $1",
			 DB_PARAMS(DB_I(instance_id)), &rows);
	if (r < 0)
		return r;
	bool found = db_rows_next(rows);
	int64_t content = found && !db_col_is_null(rows, 0) ? db_col_int(rows, 0) : instance_id;
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0)
		return r;
	if (!found)
		return -ENOENT;
	*content_id = content;
	return 0;
}
