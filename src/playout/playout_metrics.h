/*
 * playout_metrics.h - playout's Prometheus metrics, served on
 * metrics.address:metrics.port (metrics_http.h): Liquidsoap restarts,
 * items started and how they ended, seconds on each source and of
 * silence, dead-air watchdog actions, outputs up, HLS listeners, the age
 * and revision of the snapshot in force, events waiting for the queue.
 */
#ifndef ONAIR_PLAYOUT_METRICS_H
#define ONAIR_PLAYOUT_METRICS_H

#include <stdint.h>

#include "metrics/metrics.h"
#include "metrics/metrics_http.h"
#include "protocol/protocol.h"

struct playout;

struct playout_metrics {
	struct metrics *reg;
	struct metrics_http *http;
	struct metric *liq_restarts, *items, *source_seconds, *silence_seconds, *dead_air;
	struct metric *snapshot_age, *snapshot_revision, *outputs_up, *hls_listeners;
	struct metric *events_pending;
	int64_t last_tick;	/* monotonic */
	int liq_starts;
};

/* Create the registry and start its server as p->cfg says. 0 or -errno
 * (the endpoint cannot be served: logged). */
int playout_metrics_open(struct playout *p);
/* Stop the server and free the registry. Safe on an unopened one. */
void playout_metrics_close(struct playout *p);
/* Count event e (items, watchdog actions) as it is emitted. */
void playout_metrics_event(struct playout *p, const struct proto_event *e);
/* Add the time since the last tick to the source on air (and to the
 * silence while the output is silent). p->lock held. */
void playout_metrics_tick(struct playout *p, int64_t mono);
/* Liquidsoap was started (a start after the first is a restart). */
void playout_metrics_liquidsoap_started(struct playout *p);

#include "common/banned.h"
#endif
