/*
 * watchdog.h - the dead-air watchdog's decisions.
 *
 * Pure logic, no I/O. Playout tells it what it observes about what the
 * play block actually sends: silence on the mixed output (Liquidsoap's
 * blank detector, minus intended silence), and whether every output is
 * delivering (Liquidsoap's own view, and Icecast's mount list and the HLS
 * playlist read back from outside). The watchdog answers with the next
 * action, in this order, each after the previous one had `escalate_us` to
 * work:
 *
 *   silence:       fallback -> restart outputs -> restart Liquidsoap
 *   output fault:               restart outputs -> restart Liquidsoap
 *
 * (switching to the station fallback cannot help an output that does not
 * deliver, so an output fault starts at the second step). After the
 * Liquidsoap restart it restarts Liquidsoap again, at doubling intervals,
 * as long as the fault lasts. When the fault clears it answers
 * PROTO_WD_RECOVERED once.
 *
 * Not thread-safe: one thread owns a struct watchdog.
 */
#ifndef ONAIR_PLAYOUT_WATCHDOG_H
#define ONAIR_PLAYOUT_WATCHDOG_H

#include <stdbool.h>
#include <stdint.h>

#include "protocol/protocol.h"

struct watchdog {
	int64_t output_after_us;	/* an output fault counts after this long */
	int64_t escalate_us;		/* time each action is given */
	bool silent;			/* silence that is an alarm */
	bool output_bad;
	int64_t output_bad_since;
	bool alarm;
	enum proto_watchdog_cause cause;
	bool acted;			/* an action of this alarm was taken */
	enum proto_watchdog_action last;	/* ... and this was the last one */
	int64_t acted_at;
	int64_t wait_us;		/* before the next action */
};

/* Set w up. output_after_us: how long an output must be faulty before it
 * counts (silence is timed by the detector itself); escalate_us: how long
 * each action has to work before the next. Both > 0. */
void watchdog_init(struct watchdog *w, int64_t output_after_us, int64_t escalate_us);

/* Whether the output is silent now (alarming silence only: intended
 * silence is the caller's to leave out). */
void watchdog_set_silent(struct watchdog *w, bool silent);

/* Whether some output fails to deliver now (instant now). */
void watchdog_set_output_fault(struct watchdog *w, bool faulty, int64_t now);

/* Liquidsoap was restarted (by anyone): what it reported is gone, and
 * outputs get output_after_us from now before they count again. */
void watchdog_liquidsoap_restarted(struct watchdog *w, int64_t now);

/* Whether there is an action to take at instant now (most of the time
 * not); if so, the action in *action and the alarm's cause in *cause. */
bool watchdog_next(struct watchdog *w, int64_t now, enum proto_watchdog_action *action,
		   enum proto_watchdog_cause *cause);

/* Whether an alarm is on (a fault, actions taken or to come). */
bool watchdog_alarm(const struct watchdog *w);

#endif
