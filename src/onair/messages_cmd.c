/*
 * messages_cmd.c - "onair messages"; see messages_cmd.h.
 */
#include "onair/messages_cmd.h"

#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/error.h"
#include "common/log.h"
#include "common/runtime.h"
#include "common/timeutil.h"
#include "db/db.h"
#include "db/migrations.h"
#include "messages/asrun.h"
#include "messages/leader.h"
#include "messages/listeners.h"
#include "messages/publisher.h"
#include "metrics/metrics_http.h"
#include "mq/mq.h"
#include "mq/presence.h"
#include "worker/podcast.h"

#define ROLE "messages"
/* How often the loop looks at its flags. */
#define TICK_US (100 * USEC_PER_MSEC)
/* A change is compiled once no other has come for this long (a burst of
 * edits makes one publication), and at the latest after DEBOUNCE_MAX_US. */
#define DEBOUNCE_QUIET_US (150 * USEC_PER_MSEC)
#define DEBOUNCE_MAX_US (600 * USEC_PER_MSEC)
/* How often the podcasts due for a poll are queued for the workers. */
#define PODCASTS_EVERY_US (60 * USEC_PER_SEC)
/* The lead moves within about this long of its holder dying. */
#define LEADER_TTL_US (2 * USEC_PER_SEC)

struct messages {
	atomic_bool changed;		/* a notification arrived */
	atomic_int_fast64_t first_change;	/* the first since the last pass (monotonic us) */
	atomic_int_fast64_t last_change;	/* the latest one's time (monotonic us) */
};

static void on_mq_state(void *userdata, bool connected)
{
	(void)userdata;
	if (connected)
		log_info(ROLE, "message queue connected");
	else
		log_warn(ROLE, "message queue disconnected; reconnecting");
}

static void on_changed(void *userdata, struct mq_request_msg *req)
{
	struct messages *m = userdata;
	int64_t now = time_mono_us();
	if (!atomic_load(&m->changed))
		atomic_store(&m->first_change, now);
	atomic_store(&m->last_change, now);
	atomic_store(&m->changed, true);
	(void)mq_respond(req, "", 0);	/* for a requester; a plain publish expects none */
}

/* How long the loop may sleep: a tick, or less when a change is due for
 * its publication sooner (so an edit is published DEBOUNCE_QUIET_US after
 * it, not up to a tick later). */
static int64_t next_wait(struct messages *m, bool publishing)
{
	if (!publishing || !atomic_load(&m->changed))
		return TICK_US;
	int64_t t = time_mono_us();
	int64_t due = atomic_load(&m->last_change) + DEBOUNCE_QUIET_US;
	int64_t cap = atomic_load(&m->first_change) + DEBOUNCE_MAX_US;
	if (cap < due)
		due = cap;
	int64_t wait = due - t;
	if (wait > TICK_US)
		return TICK_US;
	return wait > USEC_PER_MSEC ? wait : USEC_PER_MSEC;
}

/* The messages role's own metrics (the as-run consumer and the listener
 * sampler add theirs). */
struct messages_metrics {
	struct metrics *reg;
	struct metric *published, *publish_failed, *revision, *pending, *unacked, *leading;
	struct mq *mq;
};

static void collect(struct metrics *reg, void *userdata)
{
	struct messages_metrics *mm = userdata;
	(void)reg;
	uint64_t messages = 0, pending = 0, unacked = 0;
	if (mq_stream_backlog(mm->mq, MQ_STREAM_EVENTS, ASRUN_DURABLE, &messages, &pending,
			      &unacked) == 0) {
		metric_set(mm->pending, (double)pending, NULL);
		metric_set(mm->unacked, (double)unacked, NULL);
	}
}

static void metrics_init(struct messages_metrics *mm, struct mq *mq)
{
	mm->mq = mq;
	mm->reg = metrics_new(ROLE);
	mm->published = metrics_counter(mm->reg, "onair_snapshots_published_total",
					"schedule snapshots published (a new revision)", NULL);
	mm->publish_failed = metrics_counter(mm->reg, "onair_snapshot_publish_failures_total",
					     "compilations or publications that failed", NULL);
	mm->revision = metrics_gauge(mm->reg, "onair_snapshot_revision",
				     "the revision of the schedule last published", NULL);
	mm->pending = metrics_gauge(mm->reg, "onair_events_pending",
				    "playout events in the queue not yet delivered to the as-run log",
				    NULL);
	mm->unacked = metrics_gauge(mm->reg, "onair_events_unacked",
				    "playout events delivered but not yet stored", NULL);
	/* Filled by the listener sampler (listeners.c) when it runs. */
	metrics_gauge(mm->reg, "onair_listeners",
		      "listeners of each Icecast output at the last sample", "output");
	mm->leading = metrics_gauge(mm->reg, "onair_messages_leader",
				    "1 while this instance leads (publishes the schedule)", NULL);
	metric_set(mm->leading, 0, NULL);
	metric_add(mm->published, 0, NULL);
	metric_add(mm->publish_failed, 0, NULL);
	metrics_on_collect(mm->reg, collect, mm);
}

static void pass(struct publisher *p, struct db *db, struct mq *mq, const char *why,
		 bool *failing, struct messages_metrics *mm)
{
	struct publisher_result res;
	int r = publisher_pass(p, db, mq, time_now_us(), &res);
	if (r < 0) {
		metric_add(mm->publish_failed, 1, NULL);
		if (!*failing)
			log_warn(ROLE, "publishing the schedule (%s) failed: %s; will retry", why,
				 res.err);
		*failing = true;
		return;
	}
	if (*failing)
		log_info(ROLE, "publishing works again");
	*failing = false;
	metric_set(mm->revision, (double)res.revision, NULL);
	if (res.published) {
		metric_add(mm->published, 1, NULL);
		log_info(ROLE, "published schedule revision %" PRIu64 " (%zu items, %zu gaps, %s)"
			       " in %" PRId64 " ms%s",
			 res.revision, res.items, res.gaps, why, res.took_us / 1000,
			 res.shortened ? "; the window was shortened to fit one message of the queue"
				       : "");
	} else {
		log_debug(ROLE, "schedule unchanged (%s), revision %" PRIu64, why, res.revision);
	}
}

int messages_command(const struct config *cfg)
{
	bool publish = true;
	int64_t interval_s = 60, window_h = 48;
	if (config_get_bool(cfg, "messages.publish", &publish) == -EINVAL ||
	    config_get_int(cfg, "messages.interval", 1, 86400, &interval_s) == -EINVAL ||
	    config_get_int(cfg, "messages.window_hours", 1, 24 * 31, &window_h) == -EINVAL) {
		log_error(ROLE, "messages.publish, messages.interval (1..86400 s) or"
				" messages.window_hours (1..744) is not valid");
		return EXIT_FAILURE;
	}
	struct db *db = NULL;
	char err[512];
	int r = db_open(&db, config_get(cfg, "database.url"), err, sizeof(err));
	if (r < 0) {
		log_error(ROLE, "database: %s", err[0] ? err : onair_strerror(r));
		return EXIT_FAILURE;
	}
	int64_t from_v = 0, to_v = 0;
	r = db_migrate(db, &from_v, &to_v);
	if (r < 0) {
		log_error(ROLE, "database schema: %s", r == -EPROTO ? "newer than this program"
								  : db_errmsg(db));
		db_close(db);
		return EXIT_FAILURE;
	}
	if (to_v != from_v)
		log_info(ROLE, "database schema upgraded from version %" PRId64 " to %" PRId64,
			 from_v, to_v);
	char host[64] = "localhost";
	char conn_name[128];
	gethostname(host, sizeof(host) - 1);
	snprintf(conn_name, sizeof(conn_name), "onair-messages@%.64s", host);
	const char *configured = config_get(cfg, "nats.name");
	struct mq_options opts = {
		.url = config_get(cfg, "nats.url"),
		.name = configured ? configured : conn_name,
		.on_state = on_mq_state,
	};
	struct mq *mq = NULL;
	r = mq_options_from_config(&opts, cfg);
	if (r == 0)
		r = mq_connect(&mq, &opts);
	if (r < 0) {
		log_error(ROLE, "cannot use message queue at %s: %s", opts.url, onair_strerror(r));
		db_close(db);
		return EXIT_FAILURE;
	}
	log_info(ROLE, "starting (version %s, pid %d, queue %s)%s", ONAIR_VERSION, (int)getpid(),
		 opts.url, publish ? "" : "; publishing the schedule is switched off");

	struct presence *presence = NULL;
	if ((r = presence_start(mq, ROLE, opts.name, &presence)) < 0)
		log_warn(ROLE, "not answering presence requests: %s", onair_strerror(r));
	struct messages_metrics mm;
	metrics_init(&mm, mq);
	struct metrics_http *mh = NULL;
	metrics_http_start_from(mm.reg, cfg, ROLE, &mh);
	struct asrun_consumer *asrun = NULL;
	r = asrun_start(&asrun, mq, config_get(cfg, "database.url"), mm.reg, err, sizeof(err));
	if (r < 0) {
		log_error(ROLE, "as-run log: database: %s", err[0] ? err : onair_strerror(r));
		metrics_http_stop(mh);
		metrics_free(mm.reg);
		presence_stop(presence);
		mq_close(mq);
		db_close(db);
		return EXIT_FAILURE;
	}
	struct listeners_sampler *sampler = NULL;
	const char *status_urls = config_get(cfg, "messages.icecast_status");
	int64_t listeners_s = 60;
	if (config_get_int(cfg, "messages.listeners_interval", 1, 86400, &listeners_s) == -EINVAL)
		log_warn(ROLE, "messages.listeners_interval is not 1..86400 s: using 60");
	if (status_urls && *status_urls) {
		r = listeners_start(&sampler, status_urls, listeners_s * USEC_PER_SEC,
				    config_get(cfg, "database.url"), mm.reg, err, sizeof(err));
		if (r < 0)
			log_error(ROLE, "listener counts are off: %s", err);
	}
	struct messages m = { 0 };
	struct publisher pub;
	struct publisher_options po = { .window_us = window_h * 3600 * USEC_PER_SEC };
	publisher_init(&pub, &po);
	struct mq_sub *sub = NULL;
	struct leader ld;
	char leader_id[160];
	snprintf(leader_id, sizeof(leader_id), "%s pid %d", host, (int)getpid());
	leader_init(&ld, leader_id, LEADER_TTL_US);
	bool ready = false, failing = false, leading = false;
	int64_t next_timer = 0, next_podcasts = 0;
	int sig = 0;
	while (sig == 0) {
		if (!ready && mq_connected(mq)) {
			r = mq_ensure_topology(mq);
			if (r == 0)
				r = mq_serve(mq, PUBLISHER_SUBJECT_CHANGED, on_changed, &m, &sub);
			if (r == 0) {
				r = publisher_load(&pub, mq);
				if (r < 0 && r != -ENOENT)
					log_warn(ROLE, "reading the published schedule: %s",
						 onair_strerror(r));
				ready = true;
				log_info(ROLE, "running; schedule revision %" PRIu64, pub.revision);
			} else {
				log_warn(ROLE, "setting up the queue failed (%s); will retry",
					 onair_strerror(r));
			}
		}
		int64_t t = time_mono_us();
		bool lead = ready && leader_tick(&ld, mq, t);
		if (lead != leading) {
			leading = lead;
			metric_set(mm.leading, lead, NULL);
			if (lead) {
				/* Start from what the last leader published. */
				r = publisher_load(&pub, mq);
				if (r < 0 && r != -ENOENT)
					log_warn(ROLE, "reading the published schedule: %s",
						 onair_strerror(r));
				next_timer = 0;
				next_podcasts = 0;
			}
		}
		if (leading && publish) {
			int64_t quiet = t - atomic_load(&m.last_change);
			int64_t waiting = t - atomic_load(&m.first_change);
			if (atomic_load(&m.changed) &&
			    (quiet >= DEBOUNCE_QUIET_US || waiting >= DEBOUNCE_MAX_US)) {
				atomic_store(&m.changed, false);
				pass(&pub, db, mq, "changed", &failing, &mm);
				next_timer = time_mono_us() + interval_s * USEC_PER_SEC;
			} else if (t >= next_timer) {
				pass(&pub, db, mq, next_timer ? "timer" : "start", &failing, &mm);
				next_timer = time_mono_us() +
					     (failing ? 5 * USEC_PER_SEC : interval_s * USEC_PER_SEC);
			}
		}
		if (leading && t >= next_podcasts) {
			size_t queued = 0;
			r = podcast_enqueue_due(db, mq, time_now_us(), &queued);
			if (r < 0)
				log_warn(ROLE, "queueing podcast polls failed: %s", onair_strerror(r));
			else if (queued)
				log_info(ROLE, "%zu podcast poll%s queued", queued, queued == 1 ? "" : "s");
			next_podcasts = t + PODCASTS_EVERY_US;
		}
		sig = runtime_wait_signal(next_wait(&m, ready && publish));
	}
	log_info(ROLE, "stopping on %s", strsignal(sig));
	leader_release(&ld, mq);
	mq_sub_close(sub);
	metrics_http_stop(mh);
	asrun_stop(asrun);
	listeners_stop(sampler);
	metrics_free(mm.reg);
	publisher_release(&pub);
	presence_stop(presence);
	mq_close(mq);
	db_close(db);
	log_info(ROLE, "stopped");
	return EXIT_SUCCESS;
}
