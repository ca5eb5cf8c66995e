/*
 * timeline.h - what playout must tell Liquidsoap, and when.
 *
 * Pure logic, no I/O: given the snapshot in force, the time now, which
 * media files are in the local cache, and what was already pushed, the
 * planner returns the actions to take now. Playout calls it every few
 * hundred milliseconds and after every change (new snapshot, file
 * arrived, Liquidsoap restarted).
 *
 * Rules:
 *   - a file item is pushed into a free slot `lead` before its start, with
 *     its start instant as the slot's gate, so Liquidsoap starts it on its
 *     own clock at that instant (within one frame);
 *   - an item whose start has passed (playout or Liquidsoap restarted, file
 *     arrived late, snapshot changed) is joined at the right offset: its cue
 *     in moves forward by the time elapsed (plus the expected push latency);
 *     less than `min_join` left is not worth starting;
 *   - a slot stays busy until its item's scheduled end (plus its fade), so
 *     an item is never pushed twice;
 *   - when a new snapshot changes or removes a pushed item (start, end,
 *     cue, fades, gain or media differ), its slot is cleared — at once if it
 *     had not started, and it is cut (then rejoined as changed) if it had;
 *   - a file not in the cache is not pushed: it is reported missing once,
 *     and the station fallback covers; if it arrives while its item is
 *     still running it is joined at the right offset, and if it has not
 *     come by the item's end the item ends as not played (TL_ENDED with
 *     slot -1);
 *   - webstream and silence items use their own single channel each.
 *
 * Not thread-safe: one thread owns a struct timeline.
 */
#ifndef ONAIR_PLAYOUT_TIMELINE_H
#define ONAIR_PLAYOUT_TIMELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "playout/liq_script.h"
#include "protocol/protocol.h"

#define TIMELINE_MISSING_MAX 256

struct timeline_slot {
	int64_t item_id;	/* 0 = free */
	uint64_t fingerprint;	/* what was pushed */
	int64_t gate;		/* instant the slot's gate opens */
	int64_t busy_until;	/* instant the slot is free again */
	int64_t scheduled_start;	/* the item's start in the snapshot */
	bool started;		/* Liquidsoap reported the start */
	bool late;		/* pushed as a late join */
	bool failed;		/* reported as not started */
};

/* A channel for webstream or silence items: one at a time. */
struct timeline_channel {
	int64_t item_id;
	uint64_t fingerprint;
	int64_t start, end;
	bool started;		/* webstream: heard on air (set by playout) */
	bool failed;		/* webstream: reported as not started */
};

struct timeline {
	struct timeline_slot slots[LIQ_SLOTS];
	struct timeline_channel webstream;
	struct timeline_channel silence;
	int64_t lead;		/* us before start to push; default 3 s */
	int64_t min_join;	/* us; default 2 s */
	int64_t push_latency;	/* us added to late-join offsets; default 150 ms */
	/* Items already reported missing (so each is reported once). */
	int64_t missing[TIMELINE_MISSING_MAX];
	size_t n_missing;
};

enum timeline_action_kind {
	TL_PUSH,	/* push item into slot, gate at `gate`, with cue/fades below */
	TL_CLEAR,	/* drop what slot holds (item_id: what it held) */
	TL_WEBSTREAM,	/* relay item's URL in [gate, end); end <= now stops it */
	TL_SILENCE,	/* silence in [gate, end); end <= now stops it */
	TL_MISSING,	/* item's file is not in the cache (report it) */
	TL_ENDED,	/* slot's item reached its scheduled end; slot is free. Slot
			 * -1: an item whose file never reached the cache ended */
};

struct timeline_action {
	enum timeline_action_kind kind;
	int slot;		/* TL_PUSH, TL_CLEAR, TL_ENDED */
	int64_t item_id;
	long item_index;	/* index in the snapshot's items, or -1 */
	int64_t gate;		/* TL_PUSH, TL_WEBSTREAM, TL_SILENCE: start instant */
	int64_t end;		/* TL_WEBSTREAM, TL_SILENCE */
	int64_t cue_in;		/* TL_PUSH: effective, us into the file */
	int64_t cue_out;	/* TL_PUSH: effective */
	int64_t fade_in;	/* TL_PUSH */
	int64_t fade_out;	/* TL_PUSH */
	bool started;		/* TL_CLEAR / TL_ENDED: had it been reported started */
	bool late;		/* TL_PUSH: a late join */
};

/* Tells whether a file item's media is in the local cache. */
typedef bool (*timeline_have_fn)(void *userdata, const struct proto_media *m);

/* Empty timeline with default settings. */
void timeline_init(struct timeline *t);

/* Forget what was pushed (Liquidsoap restarted with empty queues). Missing
 * reports are kept. */
void timeline_reset(struct timeline *t);

/*
 * Plan the actions due at instant now for snapshot s (NULL: no snapshot,
 * which clears everything). Writes up to max actions into out and returns
 * how many; the timeline state is updated as if each returned action was
 * carried out (call again after a failure: timeline_forget_slot undoes a
 * push that could not be done). Actions come in order: clears and ends
 * first, then pushes by start time.
 */
size_t timeline_plan(struct timeline *t, const struct proto_snapshot *s, int64_t now,
		     timeline_have_fn have, void *userdata, struct timeline_action *out,
		     size_t max);

/* Mark slot free again (its push failed). */
void timeline_forget_slot(struct timeline *t, int slot);

/* Liquidsoap reported that item_id started in slot: true when that is the
 * item the slot holds (then it is marked started). */
bool timeline_mark_started(struct timeline *t, int slot, int64_t item_id);

/* Note that item_id's file is missing: true the first time (report it
 * then), false when it was already noted. */
bool timeline_note_missing(struct timeline *t, int64_t item_id);

/* The slot holding item_id, or -1. */
int timeline_slot_of(const struct timeline *t, int64_t item_id);

/* Fingerprint of everything about an item that decides what is heard. */
uint64_t timeline_item_fingerprint(const struct proto_item *it);

#include "common/banned.h"
#endif
