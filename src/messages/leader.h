/*
 * leader.h - which `onair messages` instance leads: the one that
 * compiles and publishes the schedule and queues the podcast polls. Every
 * instance takes in playout events (the as-run log is shared work: each
 * event is delivered to one instance, and applying one twice changes
 * nothing).
 *
 * The lease is a key in a NATS key-value bucket whose values expire
 * LEADER_TTL after their last write (mq_lease_bucket). An instance that
 * finds the key empty creates it (create-if-absent: one wins) and leads;
 * the leader renews it every third of the TTL with an update checked
 * against the revision it wrote last, so a renewal can never overwrite
 * another leader's lease. A leader that could not renew for two thirds of
 * the TTL steps down before its lease can expire, so two leaders never
 * overlap by the clock of one host. The schedule itself is also fenced:
 * the publisher writes the snapshot only over the revision it last saw
 * (publisher.c). See docs/messages.md.
 */
#ifndef ONAIR_MESSAGES_LEADER_H
#define ONAIR_MESSAGES_LEADER_H

#include <stdbool.h>
#include <stdint.h>

#include "mq/mq.h"

#define LEADER_BUCKET "onair_leaders"
#define LEADER_KEY "messages"

struct leader {
	char id[160];		/* this instance: "host pid" */
	int64_t ttl_us;
	bool leading;
	uint64_t rev;		/* the lease's revision this instance wrote last */
	int64_t renewed_at;	/* monotonic, last successful write */
	int64_t tried_at;	/* monotonic, last attempt */
	bool bucket_ready;
};

/* Set l up for the instance named id, with a lease of ttl_us. */
void leader_init(struct leader *l, const char *id, int64_t ttl_us);

/* Try to take or renew the lease as due (call often, e.g. every 100 ms);
 * whether this instance leads now. Logs every change. */
bool leader_tick(struct leader *l, struct mq *mq, int64_t mono);

/* Give the lease up (a clean stop): another instance leads at once. */
void leader_release(struct leader *l, struct mq *mq);

#include "common/banned.h"
#endif
