/*
 * asrun.h - playout events into the as-run log, exactly once.
 *
 * Every event is stored in playout_events under its identity (instance,
 * seq) in the same transaction as its effects, so a redelivered event
 * changes nothing (the insert finds it and the effects are skipped):
 *
 *   item_started   one as_run row per schedule item, whichever playout
 *                  instance reports it first; a second report (another
 *                  instance, a restart joining late) only moves started_at
 *                  earlier. The file's play_count and last_played_at are
 *                  counted once, with the first report.
 *   item_ended     ended_at is the latest end reported; end_reason is
 *                  'completed' if any instance played it to its end, else
 *                  the latest reason (skipped, cut, replaced, failed). An
 *                  item that ends without having started (its file never
 *                  reached playout) gets a row of its own with that reason.
 *   live_connected / live_disconnected
 *                  a live_sessions row per connection, opened and closed.
 *   heartbeat      with hls_listeners: a listener_counts row for the
 *                  output "hls:<instance>" at the heartbeat's second.
 *   anything else  kept in playout_events only (per instance, for
 *                  diagnosis: source changes, outputs, errors, heartbeats).
 *
 * The consumer reads the ONAIR_EVENTS stream with the durable consumer
 * "messages" and acknowledges an event once it is committed; a database
 * failure naks it (redelivered after a second); an event that does not
 * decode is terminated and logged.
 */
#ifndef ONAIR_MESSAGES_ASRUN_H
#define ONAIR_MESSAGES_ASRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"
#include "metrics/metrics.h"
#include "mq/mq.h"

/* Durable consumer name on ONAIR_EVENTS. */
#define ASRUN_DURABLE "messages"

struct asrun_result {
	bool duplicate;		/* the event had been applied before: nothing changed */
	int kind;		/* enum proto_event_kind of the event */
	int reason;		/* enum proto_end_reason of an item_ended event */
	char err[256];		/* why it was refused */
};

/*
 * Apply one event (len bytes of JSON) received at now. 0 (see
 * out->duplicate); -EINVAL the event does not decode (out->err says
 * why: drop it); or a database error (nothing applied: retry). Opens and
 * ends its own transaction.
 */
int asrun_apply(struct db *db, const char *json, size_t len, int64_t now,
		struct asrun_result *out);

struct asrun_consumer;

/*
 * Start a thread that consumes the events into db_url's database (its
 * own connection) until asrun_stop. 0, or -errno (the database cannot be
 * opened: err says why). The consumer is opened when the queue is up,
 * and again after errors. metrics (may be NULL) gets
 * onair_events_total{event} and onair_asrun_items_total{result} (an
 * item started, or how it ended).
 */
int asrun_start(struct asrun_consumer **out, struct mq *mq, const char *db_url,
		struct metrics *metrics, char *err,
		size_t errlen);
/* Stop the thread (finishing the event in hand) and free c; NULL is ignored. */
void asrun_stop(struct asrun_consumer *c);

#include "common/banned.h"
#endif
