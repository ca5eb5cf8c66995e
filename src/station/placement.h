/*
 * placement.h - the items of a show instance: placing, moving, removing
 * and timing them.
 *
 * The items of an instance (schedule_items, src/db/schema_v1.sql.h) are
 * ordered by position, 0..n-1 without holes. Their starts_at and ends_at
 * are never given by the caller: this module recomputes them after every
 * change, back to back:
 *
 *   - the first item starts when the instance starts;
 *   - each next one starts at the previous one's end minus its crossfade
 *     (the item's crossfade_us, or station_settings.default_crossfade_us
 *     when NULL), the crossfade being shortened where needed so that it
 *     is shorter than both items it joins (a station default of 5 s does
 *     not swallow a 2 s jingle); the first item has none.
 *
 * An item's length: a file plays from cue_in to cue_out (the item's
 * overrides, else the file's cue_in_us / cue_out_us, else 0 ..
 * duration_us); a webstream, live or silence item stores its length in
 * cue_out_us (cue_in_us 0); a webstream's defaults to
 * webstreams.duration_us.
 *
 *   struct placement_item it;
 *   placement_item_init(&it, PLACEMENT_FILE);
 *   it.file_id = 12;
 *   int64_t version, id;
 *   char err[256];
 *   r = placement_insert(db, time_now_us(), instance_id, version_read, -1, &it, 1,
 *                        &version, &id, err, sizeof(err));
 *   if (r == -ESTALE) ... err: reload the instance and try again
 *
 * Optimistic concurrency: every edit names the show_instances.version it
 * read and increases it by one in the same transaction; an edit made on
 * an older version changes nothing and fails with -ESTALE. An edit
 * addressed to an instance of a linked show (linked_to set) is applied to
 * the instance whose content it shares (placement_content_instance), and
 * the version checked and increased is that one's. Whether the show has
 * ended is judged on the instance addressed.
 *
 * Overbooking is allowed: items may run past the instance's end (on air
 * they are cut there); placement_fill reports it, and the gap of an
 * underbooked instance.
 *
 * Every edit is one transaction, rolled back on any error. Errors common
 * to all edits (each with a sentence for the user in err):
 *   -ENOENT   no such show instance, item, file, webstream, playlist or
 *             smart block; an item that is not in the instance named;
 *   -EPERM    the instance addressed has already ended (ends_at <= now);
 *   -ESTALE   the instance was changed since expected_version was read;
 *   -EINVAL   an item is not acceptable (see placement_insert), or a
 *             position is out of range;
 *   -E2BIG    the instance would hold more than PLACEMENT_ITEMS_MAX items;
 *   -EBUSY    the database is busy or could not serialise the
 *             transaction: retry the whole edit (reread the version);
 *   other negative errno values from the database (db.h).
 * err may be NULL (errlen 0).
 *
 * Threads: a struct db is used by one thread at a time; any number of
 * threads may edit the same instances through their own connections.
 */
#ifndef ONAIR_STATION_PLACEMENT_H
#define ONAIR_STATION_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

/* Most items one show instance holds. */
#define PLACEMENT_ITEMS_MAX 20000u
/* Longest item: 31 days (as the longest show). */
#define PLACEMENT_LENGTH_MAX (INT64_C(31) * 86400 * 1000000)

enum placement_kind {
	PLACEMENT_FILE,
	PLACEMENT_WEBSTREAM,
	PLACEMENT_LIVE,
	PLACEMENT_SILENCE,
};

/* A concrete item to place. -1 in an int64_t override means "not set"
 * (use the file's or the station's). Strings are only read during the
 * call. */
struct placement_item {
	enum placement_kind kind;
	int64_t file_id;	/* PLACEMENT_FILE; 0 otherwise */
	int64_t webstream_id;	/* PLACEMENT_WEBSTREAM; 0 otherwise */
	int64_t length_us;	/* webstream: its length, 0 = the webstream's duration_us;
				   live, silence: required (> 0); file: 0 */
	int64_t cue_in_us, cue_out_us;	/* file overrides, or -1 */
	int64_t fade_in_us, fade_out_us, crossfade_us;	/* overrides, or -1 */
	double gain_db;
	bool has_gain;		/* gain_db is set */
	int64_t source_playlist_id, source_smart_block_id;	/* 0 = none */
	const char *origin;	/* NULL = "manual"; "linked", "rebroadcast", "autoplaylist" */
};

/* How full an instance is. */
struct placement_fill {
	int64_t instance_id, starts_at, ends_at;	/* the instance */
	int64_t scheduled_us;	/* from the instance's start to the end of the last item */
	int64_t gap_us;		/* ends_at - end of the last item, when > 0 (underbooked) */
	int64_t overbooked_us;	/* end of the last item - ends_at, when > 0 (cut on air) */
	size_t n_items;
};

/* The schema's text of k ("file", "webstream", "live", "silence"); "?"
 * for a value outside the enum. Static, thread-safe. */
const char *placement_kind_name(enum placement_kind k);
/* The schema's text to the enum: 0, or -EINVAL. Thread-safe. */
int placement_kind_parse(const char *text, enum placement_kind *out);

/* Set *it to an item of kind with every id 0, no length, no gain, origin
 * NULL and every override -1 (not set). Thread-safe. */
void placement_item_init(struct placement_item *it, enum placement_kind kind);

/*
 * Insert items[0..n-1] (n >= 1) before the item at index position of the
 * instance's content (0 = first, the number of items or -1 = append),
 * then retime the whole instance. now (UTC us) decides whether the show
 * has ended. On success *new_version (may be NULL) is the content
 * instance's new version, and ids (n of them, may be NULL) the new
 * items' ids, in order. Besides the common errors: -EINVAL, with a
 * sentence, when n is 0, position is out of range, or an item is not
 * acceptable: a file that is not ready ("file 12 is not ready (pending
 * analysis)"), has no duration, cue points out of order (cue_out <=
 * cue_in) or beyond the file's duration; a live or silence item without
 * a length; a length over PLACEMENT_LENGTH_MAX; a negative fade or
 * crossfade; a crossfade not shorter than the item; ids or cue points
 * given for a kind that has none; an unknown origin. When n > 1 the
 * sentence starts with "item N: " (from 1).
 */
int placement_insert(struct db *db, int64_t now, int64_t instance_id, int64_t expected_version,
		     long position, const struct placement_item *items, size_t n,
		     int64_t *new_version, int64_t *ids, char *err, size_t errlen);

/*
 * Move item item_id of the instance instance_id (read at
 * expected_version) to index to_position (-1 = the end) of the instance
 * to_instance_id (read at to_expected_version), which may be the same
 * one; to_position counts the items as they are without the moved one.
 * Both instances are retimed. When both name the same content, only
 * expected_version is checked (once) and to_expected_version is ignored;
 * otherwise both are checked and increased, and the target's new version
 * is to_expected_version + 1. *new_version (may be NULL) is the source's
 * new version. Both instances must not have ended. Errors: the common
 * ones (-ENOENT also when the item is not in the source instance;
 * -EINVAL a to_position out of range).
 */
int placement_move(struct db *db, int64_t now, int64_t instance_id, int64_t expected_version,
		   int64_t item_id, int64_t to_instance_id, int64_t to_expected_version,
		   long to_position, int64_t *new_version, char *err, size_t errlen);

/*
 * Remove the items item_ids[0..n-1] (n >= 1; an id given twice counts
 * once) from the instance, renumber and retime the rest. Errors: the
 * common ones (-ENOENT when an item does not exist or is not in the
 * instance; -EINVAL when n is 0).
 */
int placement_remove(struct db *db, int64_t now, int64_t instance_id, int64_t expected_version,
		     const int64_t *item_ids, size_t n, int64_t *new_version, char *err,
		     size_t errlen);

/*
 * Replace every item of the instance by items[0..n-1] (n may be 0: empty
 * it), as the builder does for a linked or rebroadcast copy or an
 * autoplaylist. expected_version -1 skips the version check (the version
 * is still increased) and, for an instance of a linked show, replaces
 * the instance's own items (its copy of the root's) instead of its
 * content instance's: that is how the builder writes the copies. Errors
 * as placement_insert (but n 0 is fine).
 */
int placement_replace(struct db *db, int64_t now, int64_t instance_id, int64_t expected_version,
		      const struct placement_item *items, size_t n, int64_t *new_version,
		      char *err, size_t errlen);

/*
 * How full the instance instance_id is, into *out: its own times, and
 * the items of its content instance (its own, or those of the instance
 * it is linked to) measured from the content instance's start. Reads
 * only. 0, -ENOENT no such instance, or a database error.
 */
int placement_fill(struct db *db, int64_t instance_id, struct placement_fill *out);

/*
 * Recompute the positions (0..n-1) and times of the instance's own items
 * from its start, the items' lengths and crossfades, the files' current
 * cue points and the station's default crossfade (after a change of any
 * of them, or of the instance's times). Runs inside the transaction open
 * on db if there is one (and then leaves it open, also on error: the
 * caller rolls back), else in its own. Does not change the instance's
 * version. An item whose stored cue points no longer fit its file is
 * timed with them cut to the file (at least 1 us long). 0, -ENOENT no
 * such instance, -E2BIG more than PLACEMENT_ITEMS_MAX items, or a
 * database error (-EBUSY: retry).
 */
int placement_retime(struct db *db, int64_t instance_id);

/*
 * The instance whose items instance_id plays and edits into
 * *content_id: for an instance of a linked show the one it is linked to
 * (linked_to), for any other itself. 0, -ENOENT no such instance, or a
 * database error.
 */
int placement_content_instance(struct db *db, int64_t instance_id, int64_t *content_id);

#include "common/banned.h"
#endif
