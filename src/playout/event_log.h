/*
 * event_log.h - playout events, kept on disk until the queue has them.
 *
 * Every event gets the instance name and the next sequence number (kept
 * in the state directory, so numbers never repeat across restarts), is
 * appended to an on-disk journal, and is then published by a background
 * thread to "onair.events.<instance>" with the message id
 * "<instance>.<seq>" (so a retried publish is stored once). While NATS is
 * away the journal grows (up to a limit; the oldest unsent events are
 * dropped past it, and that is logged); when it returns the events are
 * sent in order. A restarted playout sends what an earlier run left.
 *
 * Thread-safety: event_log_emit may be called from any thread.
 */
#ifndef ONAIR_PLAYOUT_EVENT_LOG_H
#define ONAIR_PLAYOUT_EVENT_LOG_H

#include <stddef.h>
#include <stdint.h>

#include "mq/mq.h"
#include "protocol/protocol.h"

struct event_log;

struct event_log_options {
	const char *dir;	/* state directory (journal and sequence files) */
	const char *instance;	/* playout instance name */
	struct mq *mq;		/* borrowed; may be NULL: events stay in the journal */
	size_t max_pending;	/* unsent events kept; 0 = 100000 */
};

/* Open (creating) the journal, start the sender. 0 or -errno. */
int event_log_open(struct event_log **out, const struct event_log_options *opts);
/* Stop the sender (trying once more to flush for up to 2 s) and free. NULL ok. */
void event_log_close(struct event_log *l);

/* Record e: sets e->instance (borrowed for the call), e->seq and, when 0,
 * e->at; validates; appends to the journal. 0, -EINVAL (invalid event,
 * nothing recorded), -errno (journal write failed). */
int event_log_emit(struct event_log *l, struct proto_event *e);

/* Events recorded but not yet confirmed by the queue. */
size_t event_log_pending(struct event_log *l);

/* Wait up to timeout_us until nothing is pending: 0 or -ETIMEDOUT. */
int event_log_flush(struct event_log *l, int64_t timeout_us);

#include "common/banned.h"
#endif
