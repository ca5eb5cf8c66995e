/*
 * publisher.h - the schedule, published: materialise the show instances
 * of the window, build what the station fills by itself, compile the
 * snapshot, and put it in the schedule key-value bucket with a new
 * revision — only when it differs from what the bucket holds.
 *
 * The window starts at now rounded down to step_us (an hour by default)
 * and lasts window_us (48 hours) — less when the snapshot would not fit
 * in one message of the queue (mq_max_payload: 1 MiB unless the NATS
 * server is configured otherwise): then it ends where the first item
 * that does not fit starts, and playout plays the fallback after it
 * until the next publication. It rolls forward once an hour
 * and an unchanged schedule is not republished on every pass. "Differs"
 * compares the encoded snapshots without their revision and generation
 * time (the encoding is deterministic).
 *
 *   struct publisher p;
 *   publisher_init(&p, &opts);
 *   publisher_load(&p, mq);              learn the bucket's revision
 *   on a change notification or a timer:
 *           publisher_pass(&p, db, mq, time_now_us(), &result);
 *   publisher_release(&p);
 *
 * One publisher per station: two running at once may publish the same
 * revision number twice (playout then keeps the first).
 */
#ifndef ONAIR_MESSAGES_PUBLISHER_H
#define ONAIR_MESSAGES_PUBLISHER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "db/db.h"
#include "mq/mq.h"

/* Subject on which the create block says "the schedule may have changed"
 * (a core NATS message, no body needed): the web API after an edit,
 * `onair schedule --notify`. */
#define PUBLISHER_SUBJECT_CHANGED "onair.schedule.changed"

struct publisher_options {
	int64_t window_us;	/* length of the window; 0 = 48 hours */
	int64_t step_us;	/* the window starts at now rounded down to this; 0 = 1 hour */
	const char *zoneinfo_dir;	/* NULL = the system's */
	uint64_t seed;		/* random smart blocks; 0 = from the clock */
};

struct publisher {
	struct publisher_options o;
	uint64_t revision;	/* the last revision published or found */
	uint64_t kv_rev;	/* the bucket's revision of the snapshot key it last saw
				 * (0: none): it publishes only over that one */
	bool known;		/* last holds what the bucket holds */
	struct buf last;	/* its encoding, without revision and generation time */
};

/* What one pass did. */
struct publisher_result {
	bool published;		/* a new revision was put in the bucket */
	uint64_t revision;	/* the revision in force after the pass */
	size_t items;		/* items in the compiled snapshot */
	size_t gaps;		/* gaps reported by the compiler */
	int64_t window_start, window_end;	/* as published */
	bool shortened;		/* the window was cut so that the snapshot fits in one
				   message of the queue (mq_max_payload) */
	int64_t took_us;	/* time the pass took */
	char err[256];		/* why a pass failed */
};

/* Set up p with a copy of *o (which may be NULL: defaults). */
void publisher_init(struct publisher *p, const struct publisher_options *o);
/* Free what p holds. */
void publisher_release(struct publisher *p);

/*
 * Read the bucket's current snapshot: its revision becomes the base of
 * the next, and its content the comparison for the first pass (so a
 * restart does not republish an unchanged schedule). 0; -ENOENT (the
 * bucket is empty: the first pass publishes revision 1); or an error of
 * the queue (then the first pass publishes, with a revision above
 * whatever it learns later).
 */
int publisher_load(struct publisher *p, struct mq *mq);

/*
 * One pass at instant now, as described above; *out says what happened.
 * 0; or an error from materialising, building or compiling (the
 * database's), or from the queue (-ENOTCONN, -ETIMEDOUT: retry later),
 * with a sentence in out->err. Nothing is published after an error.
 */
int publisher_pass(struct publisher *p, struct db *db, struct mq *mq, int64_t now,
		   struct publisher_result *out);

#include "common/banned.h"
#endif
