/*
 * compile.h - the schedule compiler: what the database says the station
 * plays, turned into a protocol v1 snapshot for a window of time.
 *
 * The compiler only reads. Instances must have been materialised
 * (instances.h) and built (build.h) for the window before; the message
 * API does materialise -> build -> compile -> publish. Every decision is
 * taken here, so that playout only follows instants:
 *
 *   - items are the schedule_items of the instances overlapping the
 *     window, at their stored times, cut at their show's end (an
 *     overbooked show is cut there, with its fade-out ending at the cut);
 *   - the later item wins where two overlap by more than the crossfade
 *     the later one declares (overlapping shows): the earlier one is cut,
 *     or dropped when nothing of it is left;
 *   - cue points, fades and crossfades are the item's own or else the
 *     file's (cue points) and the station's defaults (fades, crossfade);
 *     the first item of an instance has no crossfade;
 *   - gain is the item's own, or else what brings the file to the
 *     station's loudness target, limited so that its true peak stays at
 *     or below -1 dBTP, within -60..+24 dB;
 *   - files that are not ready (pending, failed, without hash or
 *     duration) are left out and reported, never sent;
 *   - the station's fallback playlist (its ready files) is the fallback;
 *   - live inputs: admins and program managers may always broadcast on
 *     both inputs; hosts of a show with live_input 'hosts', and every
 *     host for 'any', on the show input during each instance of the show
 *     in the window (valid_from/valid_until). Accounts without a password
 *     or disabled are left out.
 *
 * Every hole in the window is reported with its reason (no show, or an
 * underbooked show); none is silent unless the station has no fallback
 * playlist (reported too: playout then plays its safety loop).
 * docs/internals/scheduling.md has the rules with examples.
 */
#ifndef ONAIR_STATION_COMPILE_H
#define ONAIR_STATION_COMPILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"
#include "protocol/protocol.h"

struct compile_options {
	int64_t from;		/* window start, UTC us */
	int64_t to;		/* window end, UTC us, > from */
	int64_t now;		/* generated_at */
	uint64_t revision;	/* the snapshot's revision (0 = 1) */
	size_t max_items;	/* at most this many items (0 = PROTO_ITEMS_MAX); the window
				   then ends where the first item left out starts */
};

/* A stretch of the window with nothing scheduled. */
struct compile_gap {
	int64_t start, end;	/* UTC us */
	int64_t instance_id;	/* the underbooked show instance; 0 = no show */
};

/* Something the compiler left out or changed, for the operator. */
struct compile_problem {
	int64_t item_id;	/* schedule item, 0 if none */
	int64_t instance_id;	/* show instance, 0 if none */
	char text[192];
};

struct compile_report {
	size_t n_items;		/* items in the snapshot */
	size_t cut_at_show_end;	/* items cut (or dropped) because the show ended */
	size_t overlaps_cut;	/* items cut or dropped by a later item */
	size_t dropped;		/* items left out (problems says why) */
	bool no_fallback;	/* the station has no fallback playlist, or none of its files is ready */
	bool truncated;		/* max_items reached: the window was shortened */
	struct compile_gap *gaps;	/* n_gaps, in time order; owned */
	size_t n_gaps;
	struct compile_problem *problems;	/* n_problems; owned */
	size_t n_problems;
};

/*
 * Compile the window o->from .. o->to of db into *out (released by the
 * caller with proto_snapshot_release) and describe what was done in
 * *report (released with compile_report_release; may be NULL). The
 * snapshot passes proto_snapshot_validate. Errors (*out and *report
 * empty): -EINVAL o is not a window or the station settings do not
 * parse (err says why); -ENOENT no settings row; an error of the
 * database; -EPROTO the result did not validate (a bug: err has the
 * validator's message). err may be NULL.
 */
int compile_snapshot(struct db *db, const struct compile_options *o, struct proto_snapshot *out,
		     struct compile_report *report, char *err, size_t errlen);

/* Free what a compile_report holds and zero it. Safe on a zeroed one. */
void compile_report_release(struct compile_report *r);

#include "common/banned.h"
#endif
