/*
 * dead_air.h - the dead-air watchdog at work in playout: what it watches
 * and what it does (watchdog.h decides when).
 *
 * It watches what the play block actually sends:
 *   - silence on the mixed output, from Liquidsoap's blank detector
 *     (below watchdog.threshold_db for watchdog.silence_s); silence is
 *     intended, so no alarm, during a silence item of the schedule, and
 *     from a live DJ when watchdog.live_silence_ok is set;
 *   - every output: Liquidsoap's own view (connected or not), Icecast's
 *     public status document read back from outside (is the mount listed
 *     with a source?), and the HLS playlist on disk (is it still being
 *     written?); a fault lasting watchdog.output_s is an alarm.
 *
 * Its actions, each logged and published as a dead_air event: put the
 * station fallback on air (the source that was silent is switched off
 * until the schedule's next item, or a DJ's reconnection), restart the
 * outputs, restart Liquidsoap (see watchdog.h for the order).
 */
#ifndef ONAIR_PLAYOUT_DEAD_AIR_H
#define ONAIR_PLAYOUT_DEAD_AIR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/config.h"
#include "playout/air_probe.h"
#include "playout/watchdog.h"
#include "protocol/protocol.h"

/* The configuration keys, for playout_config_keys. */
#define DEAD_AIR_CONFIG_KEYS \
	{ "watchdog.enabled", "true", "act on dead air (silence, outputs that do not deliver)" }, \
	{ "watchdog.silence_s", "10", "seconds of silence before the watchdog acts" }, \
	{ "watchdog.threshold_db", "-50", "level (dBFS) under which the output counts as silent" }, \
	{ "watchdog.output_s", "10", "seconds an output may fail to deliver before the watchdog acts" }, \
	{ "watchdog.escalate_s", "10", "seconds each watchdog action is given before the next" }, \
	{ "watchdog.live_silence_ok", "false", "silence from a live DJ is intended (no alarm)" }

struct playout;

struct dead_air {
	bool enabled;
	bool live_silence_ok;
	int64_t silence_us;
	double threshold_db;
	struct watchdog wd;
	struct air_probe *probe;	/* NULL: no Icecast outputs */
	bool blank;		/* Liquidsoap's detector says silent */
	int64_t intended_at;	/* last instant the silence was intended */
	int64_t up_since[PROTO_OUTPUTS_MAX];	/* monotonic; 0: down */
	char fault[256];	/* what an output fault is, for the event */
	char fault_output[160];
	/* The source the watchdog took off air, until the item changes. */
	enum proto_source held;	/* PROTO_SRC_NONE: none */
	int64_t held_item;
	pid_t held_pid;		/* the Liquidsoap that was told */
};

/* Read the watchdog's settings and start its Icecast probe. 0 or
 * -EINVAL (a setting out of range, logged). */
int dead_air_open(struct playout *p);

/* Stop the probe. Safe on an unopened one. */
void dead_air_close(struct playout *p);

/* What the blank detector said: "blank" (silent) or "noise". */
void dead_air_on_blank(struct playout *p, bool silent);

/* A live DJ connected to input: a source held off air for its silence is
 * given back. */
void dead_air_on_live_connect(struct playout *p, enum proto_live_input input);

/* The operator switched a source on or off: the watchdog no longer holds
 * it. */
void dead_air_on_source_command(struct playout *p, enum proto_source source);

/* Liquidsoap was (re)started (playout has marked every output down): its
 * outputs get their grace, its silence report is forgotten. */
void dead_air_on_liquidsoap_start(struct playout *p);

/* Watch and act; called by every tick of the play loop (p->lock held). */
void dead_air_tick(struct playout *p, int64_t now, int64_t mono);

#include "common/banned.h"
#endif
