/*
 * live.h - what the playouts say they are doing, from their events
 * (onair.events.>, protocol v1): for each playout instance its source,
 * the item on air, the live DJs, its outputs, its snapshot revision,
 * its HLS listeners and when it was last heard of. Kept in memory by
 * `onair api` and served by GET /api/v1/status.
 */
#ifndef ONAIR_API_LIVE_H
#define ONAIR_API_LIVE_H

#include <stdint.h>

#include <jansson.h>

struct mq;
struct live_status;

/* A playout is healthy while its last event is younger than this (it
 * sends a heartbeat every 30 s). */
#define LIVE_HEALTHY_US (INT64_C(90) * 1000000)
/* Playout instances and outputs per instance kept. */
#define LIVE_INSTANCES_MAX 16
#define LIVE_OUTPUTS_MAX 17

/* Subscribe to the playouts' events on mq (the subscription is renewed
 * on reconnects). 0 and *out, or -errno. */
int live_status_start(struct live_status **out, struct mq *mq);
/* Unsubscribe and free ls (NULL is ignored). */
void live_status_stop(struct live_status *ls);

/*
 * Take in one event (JSON of protocol v1). Events of an instance older
 * than (by seq) one already taken are ignored. 0, or -EINVAL for a
 * message that is not a valid event. Thread-safe. Exposed for tests.
 */
int live_status_feed(struct live_status *ls, const char *json, size_t len);

/* The number of changes taken in so far (0 at the start). */
uint64_t live_status_version(struct live_status *ls);

/*
 * Wait until the version differs from seen or timeout_us passes (or
 * live_status_wake is called); the version then. Thread-safe.
 */
uint64_t live_status_wait(struct live_status *ls, uint64_t seen, int64_t timeout_us);

/* Wake every live_status_wait (at shutdown). */
void live_status_wake(struct live_status *ls);

/* A new live status that is fed by hand (no queue): for tests. */
struct live_status *live_status_new(void);

/*
 * The state as JSON (a new reference): {"version", "instances": [{
 * "instance", "last_seen", "healthy", "source", "snapshot_revision",
 * "on_air": {item_id, started_at, scheduled, title, artist} | null,
 * "live": {"main": user|null, "show": user|null} (connected DJs),
 * "outputs": [{output, up, message, changed_at}], "hls_listeners",
 * "last_error": {message, at} | null}]}, instances by name; healthy as
 * of now. ls NULL gives no instances. Thread-safe.
 */
json_t *live_status_json(struct live_status *ls, int64_t now);

/* The number of playout instances healthy as of now (0 for ls NULL).
 * Thread-safe. */
size_t live_status_healthy(struct live_status *ls, int64_t now);

#include "common/banned.h"
#endif
