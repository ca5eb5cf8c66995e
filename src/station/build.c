/*
 * build.c - playlists and smart blocks into items; linked shows,
 * rebroadcasts and autoplaylists built ahead of air. See build.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/timeutil.h"
#include "station/build.h"
#include "station/smartblock.h"

/* Most items one expansion makes (a repeated autoplaylist included). */
#define BUILD_ITEMS_MAX 5000u

void build_items_release(struct build_items *b)
{
	free(b->items);
	free(b->lengths);
	memset(b, 0, sizeof(*b));
}

static struct placement_item *append(struct build_items *out)
{
	out->items = xreallocarray(out->items, out->n + 1, sizeof(*out->items));
	out->lengths = xreallocarray(out->lengths, out->n + 1, sizeof(*out->lengths));
	out->lengths[out->n] = 0;
	struct placement_item *it = &out->items[out->n++];
	memset(it, 0, sizeof(*it));
	it->cue_in_us = it->cue_out_us = -1;
	it->fade_in_us = it->fade_out_us = it->crossfade_us = -1;
	return it;
}

/* The crossfade an item will start with: its own, or the station's. */
static int64_t crossfade_of(const struct placement_item *it, int64_t station_xfade)
{
	return it->crossfade_us >= 0 ? it->crossfade_us : station_xfade;
}

/* Count the item just appended into out->total_us. */
static void account(struct build_items *out, int64_t length, int64_t station_xfade)
{
	if (out->n > 1)
		length -= crossfade_of(&out->items[out->n - 1], station_xfade);
	out->lengths[out->n - 1] = length > 0 ? length : 0;
	out->total_us += out->lengths[out->n - 1];
}

/* Take the last item off. */
static void pop_last(struct build_items *out)
{
	out->n--;
	out->total_us -= out->lengths[out->n];
}

static int station_crossfade(struct db *db, int64_t *out)
{
	int r = db_query_int(db, "SELECT default_crossfade_us FROM station_settings WHERE id = 1",
			     NULL, 0, out);
	return r == -ENOENT || r == -ENODATA ? (*out = 0, 0) : r;
}

static int expand_file(struct db *db, int64_t id, const char *origin, struct build_items *out,
		       int64_t xfade)
{
	struct db_rows *rows;
	int r = db_query(db,
			 "SELECT COALESCE(cue_out_us, duration_us, 0) - COALESCE(cue_in_us, 0)"
			 " FROM files WHERE id = $1",
			 DB_PARAMS(DB_I(id)), &rows);
	if (r < 0)
		return r;
	if (!db_rows_next(rows)) {
		r = db_rows_error(rows) < 0 ? db_rows_error(rows) : -ENOENT;
		goto out_free_rows;
	}
	struct placement_item *it = append(out);
	it->kind = PLACEMENT_FILE;
	it->file_id = id;
	it->origin = origin;
	account(out, db_col_int(rows, 0), xfade);
out_free_rows:
	db_rows_free(rows);
	return r;
}

static int expand_webstream(struct db *db, int64_t id, const char *origin,
			    struct build_items *out, int64_t xfade)
{
	int64_t length;
	int r = db_query_int(db, "SELECT duration_us FROM webstreams WHERE id = $1",
			     DB_PARAMS(DB_I(id)), &length);
	if (r < 0)
		return r;
	struct placement_item *it = append(out);
	it->kind = PLACEMENT_WEBSTREAM;
	it->webstream_id = id;
	it->origin = origin;
	account(out, length, xfade);
	return 0;
}

/* Room left for what comes next, from ctx and what out holds already:
 * 0 when not in a show, -1 when the show is full. */
static int64_t room_left(const struct build_context *ctx, const struct build_items *out,
			 int64_t start_total)
{
	if (ctx->remaining_us <= 0)
		return 0;
	int64_t left = ctx->remaining_us - (out->total_us - start_total);
	return left > 0 ? left : -1;
}

static int expand_smart_block(struct db *db, int64_t id, const struct build_context *ctx,
			      int64_t start_total, int64_t playlist_id, const char *origin,
			      struct build_items *out, int64_t xfade)
{
	int64_t room = room_left(ctx, out, start_total);
	if (room < 0)
		return 0;	/* the show is full: nothing to pick */
	struct smartblock b;
	int r = smartblock_load(db, id, &b);
	if (r < 0)
		return r;
	struct smartblock_context sc = {
		.at = ctx->at + (out->total_us - start_total) - (out->n ? xfade : 0),
		.remaining_us = room,
		.crossfade_us = xfade,
		.seed = ctx->seed + (uint64_t)out->n,
	};
	if (sc.at < ctx->at)
		sc.at = ctx->at;
	struct smartblock_result res;
	r = smartblock_evaluate(db, &b, &sc, &res);
	smartblock_release(&b);
	if (r < 0)
		return r;
	for (size_t i = 0; i < res.n && out->n < BUILD_ITEMS_MAX; i++) {
		struct placement_item *it = append(out);
		it->kind = PLACEMENT_FILE;
		it->file_id = res.picks[i].file_id;
		it->source_smart_block_id = id;
		it->source_playlist_id = playlist_id;
		it->origin = origin;
		account(out, res.picks[i].length_us, xfade);
	}
	out->separation_relaxed += res.separation_relaxed;
	out->short_fill = out->short_fill || res.short_fill;
	smartblock_result_release(&res);
	return 0;
}

/* One row of playlist_items, read before anything else is queried. */
struct playlist_row {
	int64_t file_id, smart_block_id, webstream_id;
	int64_t cue_in, cue_out, fade_in, fade_out, crossfade;	/* -1 = not set */
	double gain;
	bool has_gain;
	int64_t length;		/* file or webstream */
};

static int64_t col_or_unset(struct db_rows *rows, int col)
{
	return db_col_is_null(rows, col) ? -1 : db_col_int(rows, col);
}

static int read_playlist(struct db *db, int64_t id, struct playlist_row **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	int64_t exists;
	int r = db_query_int(db, "SELECT id FROM playlists WHERE id = $1", DB_PARAMS(DB_I(id)),
			     &exists);
	if (r < 0)
		return r;
	struct db_rows *rows;
	r = db_query(db,
		     "SELECT pi.file_id, pi.smart_block_id, pi.webstream_id, pi.cue_in_us,"
		     " pi.cue_out_us, pi.fade_in_us, pi.fade_out_us, pi.crossfade_us, pi.gain_db,"
		     " COALESCE(pi.cue_out_us, f.cue_out_us, f.duration_us, w.duration_us, 0)"
		     "  - COALESCE(pi.cue_in_us, f.cue_in_us, 0)"
		     " FROM playlist_items pi LEFT JOIN files f ON f.id = pi.file_id"
		     " LEFT JOIN webstreams w ON w.id = pi.webstream_id"
		     " WHERE pi.playlist_id = $1 ORDER BY pi.position, pi.id",
		     DB_PARAMS(DB_I(id)), &rows);
	if (r < 0)
		return r;
	while (db_rows_next(rows) && *n < BUILD_ITEMS_MAX) {
		*out = xreallocarray(*out, *n + 1, sizeof(**out));
		struct playlist_row *p = &(*out)[(*n)++];
		p->file_id = db_col_int(rows, 0);
		p->smart_block_id = db_col_int(rows, 1);
		p->webstream_id = db_col_int(rows, 2);
		p->cue_in = col_or_unset(rows, 3);
		p->cue_out = col_or_unset(rows, 4);
		p->fade_in = col_or_unset(rows, 5);
		p->fade_out = col_or_unset(rows, 6);
		p->crossfade = col_or_unset(rows, 7);
		p->has_gain = !db_col_is_null(rows, 8);
		p->gain = db_col_real(rows, 8);
		p->length = db_col_int(rows, 9);
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return r;
}

static int expand_playlist(struct db *db, int64_t id, const struct build_context *ctx,
			   int64_t start_total, const char *origin, struct build_items *out,
			   int64_t xfade)
{
	struct playlist_row *rows;
	size_t n;
	int r = read_playlist(db, id, &rows, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n && r == 0 && out->n < BUILD_ITEMS_MAX; i++) {
		const struct playlist_row *p = &rows[i];
		if (p->smart_block_id) {
			r = expand_smart_block(db, p->smart_block_id, ctx, start_total, id, origin,
					       out, xfade);
			continue;
		}
		struct placement_item *it = append(out);
		it->kind = p->file_id ? PLACEMENT_FILE : PLACEMENT_WEBSTREAM;
		it->file_id = p->file_id;
		it->webstream_id = p->webstream_id;
		if (p->file_id) {
			it->cue_in_us = p->cue_in;
			it->cue_out_us = p->cue_out;
		}
		it->fade_in_us = p->fade_in;
		it->fade_out_us = p->fade_out;
		it->crossfade_us = p->crossfade;
		it->gain_db = p->gain;
		it->has_gain = p->has_gain;
		it->source_playlist_id = id;
		it->origin = origin;
		account(out, p->length, xfade);
	}
	free(rows);
	return r;
}

int build_expand(struct db *db, enum build_source kind, int64_t id,
		 const struct build_context *ctx, const char *origin, struct build_items *out)
{
	int64_t xfade;
	int r = station_crossfade(db, &xfade);
	if (r < 0)
		return r;
	int64_t start_total = out->total_us;
	switch (kind) {
	case BUILD_FILE:
		return expand_file(db, id, origin, out, xfade);
	case BUILD_WEBSTREAM:
		return expand_webstream(db, id, origin, out, xfade);
	case BUILD_PLAYLIST:
		return expand_playlist(db, id, ctx, start_total, origin, out, xfade);
	case BUILD_SMART_BLOCK:
		return expand_smart_block(db, id, ctx, start_total, 0, origin, out, xfade);
	}
	return -EINVAL;
}

/* ------------------------------------------------------------ the builder */

/* An instance to build and what it needs. */
struct target {
	int64_t id, starts_at, ends_at;
	int64_t linked_to, rebroadcast_of;
	bool built;
	int64_t built_at;
	int64_t autoplaylist, intro, outro;
	bool repeat;
	int64_t show_updated_at;
	int64_t now;		/* of this build */
};

static void report_failure(struct build_report *rep, int64_t instance, int r, const char *what)
{
	if (rep->failed < sizeof(rep->problems) / sizeof(rep->problems[0]))
		snprintf(rep->problems[rep->failed], sizeof(rep->problems[0]),
			 "instance %lld: %s: error %d", (long long)instance, what, r);
	rep->failed++;
}

/* Items of an instance as placement items (for copies and comparisons). */
static int read_items(struct db *db, int64_t instance, const char *origin,
		      struct build_items *out)
{
	struct db_rows *rows;
	int r = db_query(db,
			 "SELECT kind, file_id, webstream_id, cue_in_us, cue_out_us, fade_in_us,"
			 " fade_out_us, crossfade_us, gain_db, source_playlist_id,"
			 " source_smart_block_id FROM schedule_items WHERE instance_id = $1"
			 " ORDER BY position, id",
			 DB_PARAMS(DB_I(instance)), &rows);
	if (r < 0)
		return r;
	while (db_rows_next(rows)) {
		const char *kind = db_col_text(rows, 0);
		struct placement_item *it = append(out);
		it->kind = strcmp(kind, "file") == 0	    ? PLACEMENT_FILE
			   : strcmp(kind, "webstream") == 0 ? PLACEMENT_WEBSTREAM
			   : strcmp(kind, "live") == 0	    ? PLACEMENT_LIVE
							    : PLACEMENT_SILENCE;
		it->file_id = db_col_int(rows, 1);
		it->webstream_id = db_col_int(rows, 2);
		if (it->kind == PLACEMENT_FILE) {
			it->cue_in_us = col_or_unset(rows, 3);
			it->cue_out_us = col_or_unset(rows, 4);
		} else {
			it->length_us = db_col_int(rows, 4);
		}
		it->fade_in_us = col_or_unset(rows, 5);
		it->fade_out_us = col_or_unset(rows, 6);
		it->crossfade_us = col_or_unset(rows, 7);
		it->has_gain = !db_col_is_null(rows, 8);
		it->gain_db = db_col_real(rows, 8);
		it->source_playlist_id = db_col_int(rows, 9);
		it->source_smart_block_id = db_col_int(rows, 10);
		it->origin = origin;
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	return r;
}

static bool same_items(const struct build_items *a, const struct build_items *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		const struct placement_item *x = &a->items[i], *y = &b->items[i];
		if (x->kind != y->kind || x->file_id != y->file_id ||
		    x->webstream_id != y->webstream_id || x->length_us != y->length_us ||
		    x->cue_in_us != y->cue_in_us || x->cue_out_us != y->cue_out_us ||
		    x->fade_in_us != y->fade_in_us || x->fade_out_us != y->fade_out_us ||
		    x->crossfade_us != y->crossfade_us || x->has_gain != y->has_gain ||
		    (x->has_gain && x->gain_db != y->gain_db))
			return false;
	}
	return true;
}

static int count_manual(struct db *db, int64_t instance, int64_t *n)
{
	return db_query_int(db,
			    "SELECT COUNT(*) FROM schedule_items WHERE instance_id = $1"
			    " AND origin = 'manual'",
			    DB_PARAMS(DB_I(instance)), n);
}

static int store(struct db *db, const struct target *t, const struct build_items *items)
{
	char err[256];
	int64_t version;
	int r = placement_replace(db, t->now, t->id, -1, items->items, items->n, &version, err,
				  sizeof(err));
	if (r < 0)
		return r;
	int c = db_exec(db, "UPDATE show_instances SET built_at = $1 WHERE id = $2",
			DB_PARAMS(DB_I(time_now_us()), DB_I(t->id)));
	return c < 0 ? c : 0;
}

/* A linked instance or a rebroadcast: a copy of its source's items. */
static int build_copy(struct db *db, const struct target *t, struct build_report *rep)
{
	bool linked = t->linked_to != 0;
	const char *origin = linked ? "linked" : "rebroadcast";
	int64_t source = linked ? t->linked_to : t->rebroadcast_of;
	int64_t manual = 0;
	int r;
	if (!linked && (r = count_manual(db, t->id, &manual)) < 0)
		return r;
	if (manual > 0) {
		rep->kept++;
		return 0;
	}
	if ((r = placement_content_instance(db, source, &source)) < 0)
		return r;
	struct build_items want = { 0 }, have = { 0 };
	if ((r = read_items(db, source, origin, &want)) < 0 ||
	    (r = read_items(db, t->id, origin, &have)) < 0)
		goto out_release;
	if (!same_items(&want, &have) || (!t->built && want.n > 0)) {
		if ((r = store(db, t, &want)) < 0)
			goto out_release;
		if (linked)
			rep->linked++;
		else
			rep->rebroadcast++;
	}
out_release:
	build_items_release(&want);
	build_items_release(&have);
	return r;
}

/* An autoplaylist: intro, body (repeated if asked), outro at the end. */
static int build_autoplaylist(struct db *db, const struct target *t, uint64_t seed,
			      struct build_report *rep)
{
	int64_t manual;
	int r = count_manual(db, t->id, &manual);
	if (r < 0)
		return r;
	if (manual > 0) {
		rep->kept++;
		return 0;
	}
	if (t->built && t->show_updated_at < t->built_at)
		return 0;	/* built, and the show has not changed since */
	int64_t length = t->ends_at - t->starts_at;
	struct build_items outro = { 0 }, all = { 0 };
	struct build_context ctx = { .at = t->starts_at, .remaining_us = length, .seed = seed };
	if (t->outro &&
	    (r = build_expand(db, BUILD_PLAYLIST, t->outro, &ctx, "autoplaylist", &outro)) < 0)
		goto out_release;
	if (t->intro &&
	    (r = build_expand(db, BUILD_PLAYLIST, t->intro, &ctx, "autoplaylist", &all)) < 0)
		goto out_release;
	int64_t body_end = length - outro.total_us;
	for (int round = 0; r == 0 && all.total_us < body_end && all.n < BUILD_ITEMS_MAX;
	     round++) {
		size_t before_n = all.n;
		int64_t before = all.total_us;
		struct build_context body = { .at = t->starts_at + all.total_us,
					      .remaining_us = body_end - all.total_us,
					      .seed = seed + (uint64_t)round * 7919 };
		r = build_expand(db, BUILD_PLAYLIST, t->autoplaylist, &body, "autoplaylist",
				 &all);
		if (r < 0 || all.n == before_n || all.total_us <= before || !t->repeat)
			break;
	}
	if (r < 0)
		goto out_release;
	/* With an outro, the body stops where the outro must start. */
	while (outro.n > 0 && all.n > 0 && all.total_us > body_end)
		pop_last(&all);
	for (size_t i = 0; i < outro.n; i++) {
		*append(&all) = outro.items[i];
		all.lengths[all.n - 1] = outro.lengths[i];
		all.total_us += outro.lengths[i];
	}
	if ((r = store(db, t, &all)) < 0)
		goto out_release;
	rep->autoplaylist++;
out_release:
	build_items_release(&outro);
	build_items_release(&all);
	return r;
}

static int list_targets(struct db *db, int64_t from, int64_t to, int64_t now,
			struct target **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	struct db_rows *rows;
	int r = db_query(db,
			 "SELECT i.id, i.starts_at, i.ends_at, i.linked_to, i.rebroadcast_of,"
			 " i.built_at, s.autoplaylist_id, s.autoplaylist_repeat,"
			 " s.intro_playlist_id, s.outro_playlist_id, s.updated_at"
			 " FROM show_instances i JOIN shows s ON s.id = i.show_id"
			 " WHERE i.starts_at < $2 AND i.ends_at > $1 AND i.ends_at > $3"
			 " AND (i.starts_at > $3 OR (i.built_at IS NULL AND NOT EXISTS"
			 "  (SELECT 1 FROM schedule_items si WHERE si.instance_id = i.id)))"
			 " AND (i.linked_to IS NOT NULL OR i.rebroadcast_of IS NOT NULL"
			 "  OR s.autoplaylist_id IS NOT NULL)"
			 " ORDER BY i.starts_at, i.id",
			 DB_PARAMS(DB_I(from), DB_I(to), DB_I(now)), &rows);
	if (r < 0)
		return r;
	while (db_rows_next(rows)) {
		*out = xreallocarray(*out, *n + 1, sizeof(**out));
		struct target *t = &(*out)[(*n)++];
		t->id = db_col_int(rows, 0);
		t->starts_at = db_col_int(rows, 1);
		t->ends_at = db_col_int(rows, 2);
		t->linked_to = db_col_int(rows, 3);
		t->rebroadcast_of = db_col_int(rows, 4);
		t->built = !db_col_is_null(rows, 5);
		t->built_at = db_col_int(rows, 5);
		t->autoplaylist = db_col_int(rows, 6);
		t->repeat = db_col_bool(rows, 7);
		t->intro = db_col_int(rows, 8);
		t->outro = db_col_int(rows, 9);
		t->show_updated_at = db_col_int(rows, 10);
		t->now = now;
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return r;
}

int build_window(struct db *db, int64_t from, int64_t to, int64_t now, uint64_t seed,
		 struct build_report *report)
{
	memset(report, 0, sizeof(*report));
	struct target *targets;
	size_t n;
	int r = list_targets(db, from, to, now, &targets, &n);
	if (r < 0)
		return r;
	for (size_t i = 0; i < n; i++) {
		const struct target *t = &targets[i];
		uint64_t own_seed = seed ^ ((uint64_t)t->id * UINT64_C(0x9e3779b97f4a7c15));
		if (t->linked_to || t->rebroadcast_of) {
			r = build_copy(db, t, report);
			if (r < 0)
				report_failure(report, t->id, r, "copying its content");
		} else {
			r = build_autoplaylist(db, t, own_seed, report);
			if (r < 0)
				report_failure(report, t->id, r, "filling its autoplaylist");
		}
	}
	free(targets);
	return 0;
}
