/*
 * messages_cmd.h - "onair messages": the message API, the only part of
 * the create block that talks to playout. Today it publishes the
 * compiled schedule (src/messages/publisher.h): at start, when told the
 * schedule may have changed (core subject onair.schedule.changed,
 * debounced), and every messages.interval seconds so that the window
 * rolls forward; it takes the playout events into the as-run log
 * (src/messages/asrun.h) on a thread of its own; and it counts Icecast
 * listeners (src/messages/listeners.h) when messages.icecast_status names
 * the servers; and every minute it queues the podcast polls that are due
 * (podcast_enqueue_due) for the workers. Settings: database.url, nats.url, messages.publish,
 * messages.interval, messages.window_hours, messages.icecast_status,
 * messages.listeners_interval.
 */
#ifndef ONAIR_MESSAGES_CMD_H
#define ONAIR_MESSAGES_CMD_H

#include "common/config.h"

/* Run until SIGTERM/SIGINT. Returns the exit code: 0 after a clean stop,
 * 1 when it cannot start (bad settings, database unusable). */
int messages_command(const struct config *cfg);

#include "common/banned.h"
#endif
