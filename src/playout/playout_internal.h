/*
 * playout_internal.h - the state of a running playout, shared by the
 * parts of playout.c that live in files of their own (dead_air.c). Not
 * for use outside src/playout.
 */
#ifndef ONAIR_PLAYOUT_INTERNAL_H
#define ONAIR_PLAYOUT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/config.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "mq/mq.h"
#include "mq/presence.h"
#include "playout/dead_air.h"
#include "playout/event_log.h"
#include "playout/hls_http.h"
#include "playout/hls_listeners.h"
#include "playout/liq_ctl.h"
#include "playout/liq_proc.h"
#include "playout/media_cache.h"
#include "playout/playout_metrics.h"
#include "playout/safety_feed.h"
#include "playout/timeline.h"
#include "protocol/protocol.h"

#define PLAYOUT_PATH_LEN 1024
/* HLS listeners: clients that fetched a segment within this long. */
#define HLS_LISTENER_WINDOW_US (60 * USEC_PER_SEC)

struct playout {
	const struct config *cfg;
	char instance[65];
	char state_dir[PLAYOUT_PATH_LEN];
	char script_path[PLAYOUT_PATH_LEN + 32];
	char socket_path[108];
	char hls_dir[PLAYOUT_PATH_LEN + 32];
	char cache_dir[PLAYOUT_PATH_LEN + 32];
	char fallback_m3u[PLAYOUT_PATH_LEN + 32];
	char safety_file[PLAYOUT_PATH_LEN + 32];
	char auth_command[2 * PLAYOUT_PATH_LEN];
	int64_t horizon;
	bool stop_liquidsoap;

	/* The schedule watch runs on its own thread: a queue that is away or
	 * slow must never hold up the play loop. Only that thread touches
	 * watch; it takes lock to install a snapshot. */
	struct mq_watch *watch;
	pthread_t queue_thread;
	bool queue_thread_started;
	atomic_bool queue_stop;

	pthread_mutex_t lock;	/* everything below */
	struct mq *mq;
	struct mq_sub *sub_all, *sub_one;
	struct presence *presence;
	struct safety_feed *feeds[PROTO_OUTPUTS_MAX];
	size_t n_feeds;
	uint64_t feeds_fp;	/* what the running feeds were made from */
	struct proto_snapshot snap;
	bool have_snap;
	struct buf snap_json;
	uint64_t script_fp;	/* fingerprint of what the running script was made from */
	struct media_cache *cache;
	struct event_log *events;
	struct timeline tl;
	struct liq_proc liq;
	struct liq_ctl ctl;
	bool liq_ready;		/* answering on its socket */
	bool liq_adopted;	/* running from an earlier playout: adopt its slots */
	int64_t liq_retry_at;	/* monotonic */
	int liq_failures;
	struct log_tail tail;
	struct hls_http *hls;
	struct hls_listeners hls_listeners;	/* set up when hls runs */
	enum proto_source source;
	int64_t on_air_item;
	int64_t skipped_item;	/* reported ended by a skip: its end is not reported again */
	/* Per live input: a disconnect was reported and no connect since
	 * (Liquidsoap may report one disconnect twice). */
	bool live_gone[2];
	bool outputs_up[PROTO_OUTPUTS_MAX + 1];	/* last: HLS */
	bool ws_on;		/* Liquidsoap: the webstream plays in its window */
	int64_t ws_on_at;
	int64_t next_heartbeat, next_wants, next_status, next_evict;
	char fallback_text_hash[32];
	struct buf scratch;
	int64_t started_at;	/* monotonic */
	int64_t snap_taken_at;	/* monotonic: when the snapshot in force arrived */
	/* Snapshot fetch over HTTP, done by a thread of its own. */
	bool fetch_running;
	bool fetch_requested;
	bool fetch_tried_at_start;
	struct buf fetched;	/* a fetched snapshot waiting to be taken */
	struct dead_air air;	/* the dead-air watchdog (dead_air.h) */
	struct playout_metrics metrics;
};

/* Record e (instance, seq and snapshot revision are filled in) in the
 * event journal, to be published. p->lock held. */
void emit(struct playout *p, struct proto_event *e);

/* The snapshot whose outputs are played: the last one received, or the
 * defaults (filled into def) before the first. */
const struct proto_snapshot *played_snapshot(const struct playout *p,
					     struct proto_snapshot *def);

/* Report every started item as cut (why: the event's message) and mark
 * its slot not started, so it is reported once. */
void report_cut(struct playout *p, const char *why);

/* Stop Liquidsoap (it is started again by the next tick), logging why. */
void liq_restart(struct playout *p, const char *why);

/* Send cmd to Liquidsoap's server, its answer in reply. 0 or a negative
 * errno (logged; Liquidsoap is then not counted ready). */
int liq_command(struct playout *p, const char *cmd, struct buf *reply);

#include "common/banned.h"
#endif
