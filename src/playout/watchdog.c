/*
 * watchdog.c - the dead-air watchdog's decisions (see watchdog.h).
 */
#include "playout/watchdog.h"

#include <string.h>

/* Liquidsoap restarts for a fault that outlives them: at most this far
 * apart. */
#define RESTART_WAIT_MAX_US (300LL * 1000 * 1000)

void watchdog_init(struct watchdog *w, int64_t output_after_us, int64_t escalate_us)
{
	memset(w, 0, sizeof(*w));
	w->output_after_us = output_after_us > 0 ? output_after_us : 1;
	w->escalate_us = escalate_us > 0 ? escalate_us : 1;
}

void watchdog_set_silent(struct watchdog *w, bool silent)
{
	w->silent = silent;
}

void watchdog_set_output_fault(struct watchdog *w, bool faulty, int64_t now)
{
	if (faulty && !w->output_bad)
		w->output_bad_since = now;
	w->output_bad = faulty;
}

void watchdog_liquidsoap_restarted(struct watchdog *w, int64_t now)
{
	w->silent = false;
	if (w->output_bad)
		w->output_bad_since = now;
}

bool watchdog_alarm(const struct watchdog *w)
{
	return w->alarm;
}

static bool act(struct watchdog *w, enum proto_watchdog_action a, int64_t now,
		enum proto_watchdog_action *action, enum proto_watchdog_cause *cause)
{
	bool again = w->acted && w->last == PROTO_WD_RESTART_LIQUIDSOAP;
	w->wait_us = a == PROTO_WD_RESTART_LIQUIDSOAP && again ? w->wait_us * 2 : w->escalate_us;
	if (w->wait_us > RESTART_WAIT_MAX_US)
		w->wait_us = RESTART_WAIT_MAX_US;
	w->acted = true;
	w->last = a;
	w->acted_at = now;
	*action = a;
	*cause = w->cause;
	return true;
}

bool watchdog_next(struct watchdog *w, int64_t now, enum proto_watchdog_action *action,
		   enum proto_watchdog_cause *cause)
{
	bool output = w->output_bad && now - w->output_bad_since >= w->output_after_us;
	if (!w->silent && !w->output_bad) {
		if (!w->alarm)
			return false;
		w->alarm = false;
		w->acted = false;
		*action = PROTO_WD_RECOVERED;
		*cause = w->cause;
		return true;
	}
	/* A fault not counted yet (an output given its grace after a
	 * restart) neither starts an alarm nor ends one. */
	if (!w->silent && !output)
		return false;
	if (!w->alarm) {
		w->alarm = true;
		w->acted = false;
		w->cause = w->silent ? PROTO_WD_SILENCE : PROTO_WD_OUTPUT;
		return act(w, w->cause == PROTO_WD_SILENCE ? PROTO_WD_FALLBACK
							   : PROTO_WD_RESTART_OUTPUT,
			   now, action, cause);
	}
	if (now - w->acted_at < w->wait_us)
		return false;
	return act(w, w->last == PROTO_WD_FALLBACK ? PROTO_WD_RESTART_OUTPUT
						   : PROTO_WD_RESTART_LIQUIDSOAP,
		   now, action, cause);
}
