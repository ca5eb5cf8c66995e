/*
 * leader.c - the lease that makes one `onair messages` the leader; see
 * leader.h.
 */
#include "messages/leader.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"
#include "common/log.h"
#include "common/timeutil.h"

#define COMPONENT "leader"

void leader_init(struct leader *l, const char *id, int64_t ttl_us)
{
	memset(l, 0, sizeof(*l));
	snprintf(l->id, sizeof(l->id), "%s", id);
	l->ttl_us = ttl_us;
}

static void step_down(struct leader *l, const char *why)
{
	if (l->leading)
		log_warn(COMPONENT, "no longer leading: %s", why);
	l->leading = false;
	l->rev = 0;
}

bool leader_tick(struct leader *l, struct mq *mq, int64_t mono)
{
	/* Never lead on a lease that may have expired for the others. */
	if (l->leading && mono - l->renewed_at >= l->ttl_us * 2 / 3)
		step_down(l, "the lease could not be renewed in time");
	int64_t every = l->leading ? l->ttl_us / 3 : l->ttl_us / 6;
	if (mono - l->tried_at < every)
		return l->leading;
	l->tried_at = mono;
	if (!mq_connected(mq))
		return l->leading;
	if (!l->bucket_ready) {
		int r = mq_lease_bucket(mq, LEADER_BUCKET, l->ttl_us);
		if (r < 0)
			return l->leading;
		l->bucket_ready = true;
	}
	size_t len = strlen(l->id);
	uint64_t rev = 0;
	if (l->leading) {
		int r = mq_kv_update(mq, LEADER_BUCKET, LEADER_KEY, l->id, len, l->rev, &rev);
		if (r == 0) {
			l->rev = rev;
			l->renewed_at = mono;
		} else if (r == -ESTALE) {
			step_down(l, "another instance holds the lease");
		}
		return l->leading;
	}
	int r = mq_kv_create(mq, LEADER_BUCKET, LEADER_KEY, l->id, len, &rev);
	if (r == 0) {
		l->leading = true;
		l->rev = rev;
		l->renewed_at = mono;
		log_info(COMPONENT, "leading: this instance publishes the schedule (%s)", l->id);
	} else if (r != -EEXIST) {
		log_debug(COMPONENT, "taking the lease: %s", onair_strerror(r));
	}
	return l->leading;
}

void leader_release(struct leader *l, struct mq *mq)
{
	if (!l->leading)
		return;
	/* Write an empty lease over ours, checked: never over another's. A
	 * follower creates the key only when it is gone, so delete it. */
	uint64_t rev = 0;
	if (mq_kv_update(mq, LEADER_BUCKET, LEADER_KEY, "", 0, l->rev, &rev) == 0)
		mq_kv_delete(mq, LEADER_BUCKET, LEADER_KEY);
	l->leading = false;
	log_info(COMPONENT, "gave the lease up");
}
