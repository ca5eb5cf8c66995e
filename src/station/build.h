/*
 * build.h - content built ahead of air: playlists and smart blocks turned
 * into concrete items, and the instances the station fills by itself
 * (linked shows, rebroadcasts, autoplaylists).
 *
 * build_expand is what placing a playlist or a smart block into a show
 * does: the files are chosen now (smart blocks evaluated for the time
 * and room at the insert point), so that the schedule shows exactly what
 * will play. build_window runs before every compilation (the message
 * API: materialise -> build -> compile -> publish) and fills, for the
 * instances that have not started yet:
 *
 *   - a linked show's instances with a copy of its root's items (origin
 *     'linked'), again whenever the root changes;
 *   - a rebroadcast with a copy of its original's items (origin
 *     'rebroadcast'), again whenever the original changes;
 *   - an instance of a show with an autoplaylist and no item placed by a
 *     user: the intro playlist, the autoplaylist (again and again until
 *     the show is full when autoplaylist_repeat is set), and the outro
 *     playlist at the end (origin 'autoplaylist'); built once, and again
 *     when the show's settings change.
 *
 * An instance that is over is never touched, nor one on air that has
 * items or was built before; an instance on air that is empty and was
 * never built (the station just started, or the autoplaylist was just
 * set) is built, and playout joins its current item part-way. Items a
 * user placed are never replaced. docs/internals/scheduling.md has
 * examples.
 */
#ifndef ONAIR_STATION_BUILD_H
#define ONAIR_STATION_BUILD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"
#include "station/placement.h"

/* What a source is. */
enum build_source {
	BUILD_FILE,
	BUILD_WEBSTREAM,
	BUILD_PLAYLIST,
	BUILD_SMART_BLOCK,
};

/* Concrete items made by build_expand (placement_item's strings are not
 * owned: origin is static). */
struct build_items {
	struct placement_item *items;	/* n of them, in play order; owned */
	int64_t *lengths;	/* n: what each adds to total_us (its length less the
				   crossfade it starts with); owned */
	size_t n;
	int64_t total_us;	/* their length, back to back with crossfades */
	size_t separation_relaxed;	/* smart block picks that broke a separation rule */
	bool short_fill;	/* a smart block found less than it was asked for */
};

/* Where the expansion goes. */
struct build_context {
	int64_t at;		/* UTC us where the first item will start */
	int64_t remaining_us;	/* room left in the show from at (0 = not in a show) */
	uint64_t seed;		/* for random smart blocks: same seed, same picks */
};

/*
 * The items source (kind, id) stands for at ctx->at: a file or a
 * webstream as one item, a playlist as its items in order (its smart
 * blocks evaluated where they fall, with the room left), a smart block
 * as its picks. origin NULL means "manual". Appends to *out (empty it
 * with build_items_release). Errors: -ENOENT no such source (or a
 * playlist item's smart block is gone); -EINVAL a smart block that is
 * not valid; an error of the database.
 */
int build_expand(struct db *db, enum build_source kind, int64_t id,
		 const struct build_context *ctx, const char *origin, struct build_items *out);
void build_items_release(struct build_items *b);

struct build_report {
	size_t linked;		/* instances filled with their root's copy */
	size_t rebroadcast;	/* instances filled with their original's copy */
	size_t autoplaylist;	/* instances filled from their show's autoplaylist */
	size_t kept;		/* instances left alone: they have items placed by a user */
	size_t failed;		/* instances that could not be built (logged in problems) */
	char problems[4][192];	/* the first few failures, for the log */
};

/*
 * Build the instances that overlap [from, to) and have not started by
 * now (or are on air, empty and never built), as above;
 * seed makes random smart blocks repeatable (each instance derives its
 * own from it). One transaction per instance: an instance that fails is
 * counted, described, and the others are still built. 0, or an error of
 * the database when the instances cannot even be listed.
 */
int build_window(struct db *db, int64_t from, int64_t to, int64_t now, uint64_t seed,
		 struct build_report *report);

#include "common/banned.h"
#endif
