/*
 * dead_air.c - the dead-air watchdog at work in playout; see dead_air.h.
 */
#include "playout/dead_air.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/timeutil.h"
#include "playout/playout_internal.h"

#define COMPONENT "watchdog"
/* The probe reads Icecast this often; a mount unlisted for longer than
 * STALE_US has lost its source. */
#define PROBE_PERIOD_US (1 * USEC_PER_SEC)
#define STALE_US (3 * USEC_PER_SEC)

static int get_seconds(const struct config *cfg, const char *key, int64_t min, int64_t *out_us)
{
	int64_t v = 0;
	int r = config_get_int(cfg, key, min, 86400, &v);
	if (r < 0) {
		log_error(COMPONENT, "%s: must be a whole number of seconds, %lld to 86400", key,
			  (long long)min);
		return r;
	}
	*out_us = v * USEC_PER_SEC;
	return 0;
}

int dead_air_open(struct playout *p)
{
	struct dead_air *d = &p->air;
	memset(d, 0, sizeof(*d));
	d->held = PROTO_SRC_NONE;
	int64_t output_us = 0, escalate_us = 0;
	int r = config_get_bool(p->cfg, "watchdog.enabled", &d->enabled);
	if (r == 0) r = config_get_bool(p->cfg, "watchdog.live_silence_ok", &d->live_silence_ok);
	if (r == 0) r = get_seconds(p->cfg, "watchdog.silence_s", 1, &d->silence_us);
	if (r == 0) r = get_seconds(p->cfg, "watchdog.output_s", 1, &output_us);
	if (r == 0) r = get_seconds(p->cfg, "watchdog.escalate_s", 1, &escalate_us);
	if (r < 0)
		return -EINVAL;
	const char *db = config_get(p->cfg, "watchdog.threshold_db");
	char *end = NULL;
	d->threshold_db = db ? strtod(db, &end) : NAN;
	if (!db || end == db || *end || !(d->threshold_db <= 0 && d->threshold_db >= -120)) {
		log_error(COMPONENT, "watchdog.threshold_db: must be a level in dBFS, -120 to 0");
		return -EINVAL;
	}
	watchdog_init(&d->wd, output_us, escalate_us);
	const char *pw = config_get(p->cfg, "icecast.password");
	const char *host = config_get(p->cfg, "icecast.host");
	const char *port = config_get(p->cfg, "icecast.port");
	if (d->enabled && pw && host && *host && port) {
		char url[512];
		snprintf(url, sizeof(url), "http://%s:%s/status-json.xsl", host, port);
		r = air_probe_start(url, PROBE_PERIOD_US, &d->probe);
		if (r < 0)
			log_warn(COMPONENT, "cannot read Icecast's mount list back: %s",
				 strerror(-r));
	}
	return 0;
}

void dead_air_close(struct playout *p)
{
	air_probe_stop(p->air.probe);
	p->air.probe = NULL;
}

void dead_air_on_blank(struct playout *p, bool silent)
{
	if (silent != p->air.blank)
		log_info(COMPONENT, "the output is %s", silent ? "silent" : "sounding again");
	p->air.blank = silent;
}

void dead_air_on_liquidsoap_start(struct playout *p)
{
	memset(p->air.up_since, 0, sizeof(p->air.up_since));
	p->air.blank = false;
	watchdog_liquidsoap_restarted(&p->air.wd, time_mono_us());
}

static void release_hold(struct playout *p, const char *why)
{
	struct dead_air *d = &p->air;
	if (d->held == PROTO_SRC_NONE)
		return;
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "onair.source %s on", proto_source_name(d->held));
	struct buf reply;
	buf_init(&reply, LIQ_CTL_REPLY_MAX);
	if (!p->liq_ready || liq_command(p, cmd, &reply) == 0)
		log_info(COMPONENT, "%s is back on air: %s", proto_source_name(d->held), why);
	buf_release(&reply);
	d->held = PROTO_SRC_NONE;
}

void dead_air_on_live_connect(struct playout *p, enum proto_live_input input)
{
	enum proto_source s = input == PROTO_LIVE_MAIN ? PROTO_SRC_MAIN_LIVE : PROTO_SRC_SHOW_LIVE;
	if (p->air.held == s)
		release_hold(p, "the DJ connected again");
}

void dead_air_on_source_command(struct playout *p, enum proto_source source)
{
	if (p->air.held == source)
		p->air.held = PROTO_SRC_NONE;
}

static int64_t item_now(const struct playout *p, int64_t now)
{
	long i = p->have_snap ? proto_snapshot_item_at(&p->snap, now) : -1;
	return i >= 0 ? p->snap.items[i].id : 0;
}

static bool silence_intended(const struct playout *p, int64_t now)
{
	if (p->source == PROTO_SRC_SHOW_LIVE || p->source == PROTO_SRC_MAIN_LIVE)
		return p->air.live_silence_ok;
	long i = p->have_snap ? proto_snapshot_item_at(&p->snap, now) : -1;
	return i >= 0 && p->snap.items[i].kind == PROTO_ITEM_SILENCE;
}

/* Whether some output does not deliver; what and which in d->fault. */
static bool output_fault(struct playout *p, int64_t now, int64_t mono)
{
	struct dead_air *d = &p->air;
	struct proto_snapshot def;
	const struct proto_snapshot *s = played_snapshot(p, &def);
	d->fault[0] = d->fault_output[0] = '\0';
	int64_t last_read = d->probe ? air_probe_last_read(d->probe) : 0;
	for (size_t i = 0; d->probe && i < s->n_outputs && i < PROTO_OUTPUTS_MAX; i++) {
		const char *mount = s->outputs[i].mount;
		snprintf(d->fault_output, sizeof(d->fault_output), "icecast:%s", mount);
		if (!p->outputs_up[i]) {
			d->up_since[i] = 0;
			snprintf(d->fault, sizeof(d->fault), "Liquidsoap is not connected to %s",
				 mount);
			return true;
		}
		if (!d->up_since[i])
			d->up_since[i] = mono;
		/* Icecast is read once a second: a source just connected may
		 * not be in its list yet. Only reads that worked count. */
		int64_t seen = air_probe_mount_seen(d->probe, mount);
		if (last_read && last_read - d->up_since[i] > STALE_US &&
		    last_read - seen > STALE_US) {
			snprintf(d->fault, sizeof(d->fault), "Icecast does not list %s", mount);
			return true;
		}
	}
	if (p->hls && s->hls.enabled) {
		snprintf(d->fault_output, sizeof(d->fault_output), "hls");
		if (!p->outputs_up[PROTO_OUTPUTS_MAX]) {
			snprintf(d->fault, sizeof(d->fault), "the HLS output is stopped");
			return true;
		}
		char path[PLAYOUT_PATH_LEN + 48];
		/* live.m3u8 is the master playlist, written once; aac.m3u8 is
		 * the media playlist, rewritten with every segment. */
		snprintf(path, sizeof(path), "%s/aac.m3u8", p->hls_dir);
		struct stat st;
		int64_t limit = 2 * s->hls.segment + 2 * USEC_PER_SEC;
		if (stat(path, &st) == 0) {
			int64_t age = now - ((int64_t)st.st_mtim.tv_sec * USEC_PER_SEC +
					     st.st_mtim.tv_nsec / 1000);
			if (age > limit) {
				snprintf(d->fault, sizeof(d->fault),
					 "the HLS playlist was last written %.0f s ago",
					 (double)age / USEC_PER_SEC);
				return true;
			}
		} else if (mono - p->liq.started_at > limit) {
			snprintf(d->fault, sizeof(d->fault), "no HLS playlist is written");
			return true;
		}
	}
	d->fault_output[0] = '\0';
	return false;
}

/* Switch source s off, so the station fallback plays. */
static void hold_source(struct playout *p, enum proto_source s, int64_t now)
{
	struct dead_air *d = &p->air;
	if (s != PROTO_SRC_SCHEDULE && s != PROTO_SRC_SHOW_LIVE && s != PROTO_SRC_MAIN_LIVE) {
		log_warn(COMPONENT, "the %s source is the one on air: nothing to switch away from",
			 proto_source_name(s));
		return;
	}
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "onair.source %s off", proto_source_name(s));
	struct buf reply;
	buf_init(&reply, LIQ_CTL_REPLY_MAX);
	if (liq_command(p, cmd, &reply) == 0) {
		d->held = s;
		d->held_item = item_now(p, now);
		d->held_pid = p->liq.pid;
	}
	buf_release(&reply);
}

static void act(struct playout *p, enum proto_watchdog_action a, enum proto_watchdog_cause c,
		int64_t now)
{
	struct dead_air *d = &p->air;
	bool output = c == PROTO_WD_OUTPUT;
	const char *what = output ? d->fault : "silence on the output";
	if (a == PROTO_WD_RECOVERED)
		log_info(COMPONENT, "dead air over (%s)", proto_watchdog_cause_name(c));
	else
		log_warn(COMPONENT, "dead air: %s; %s", what, proto_watchdog_action_name(a));
	struct proto_event e = {
		.kind = PROTO_EV_DEAD_AIR, .at = now, .action = a, .cause = c,
		.output = output && d->fault_output[0] ? d->fault_output : NULL,
		.message = a == PROTO_WD_RECOVERED ? NULL : (char *)what,
	};
	emit(p, &e);
	struct buf reply;
	buf_init(&reply, LIQ_CTL_REPLY_MAX);
	switch (a) {
	case PROTO_WD_FALLBACK:
		hold_source(p, p->source, now);
		break;
	case PROTO_WD_RESTART_OUTPUT:
		liq_command(p, "onair.restart_outputs", &reply);
		break;
	case PROTO_WD_RESTART_LIQUIDSOAP:
		report_cut(p, "restarted by the dead-air watchdog");
		liq_restart(p, "dead air");
		break;
	case PROTO_WD_RECOVERED:
	case PROTO_WD__COUNT:
		break;
	}
	buf_release(&reply);
}

void dead_air_tick(struct playout *p, int64_t now, int64_t mono)
{
	struct dead_air *d = &p->air;
	if (!d->enabled)
		return;
	if (d->held != PROTO_SRC_NONE) {
		if (item_now(p, now) != d->held_item) {
			release_hold(p, "the schedule moved on to its next item");
		} else if (p->liq_ready && p->liq.pid != d->held_pid) {
			/* A new Liquidsoap starts with every source on. */
			enum proto_source s = d->held;
			d->held = PROTO_SRC_NONE;
			hold_source(p, s, now);
		}
	}
	if (!liq_proc_alive(&p->liq))
		return;	/* supervision restarts it */
	if (silence_intended(p, now))
		d->intended_at = now;
	watchdog_set_silent(&d->wd, d->blank && now - d->intended_at >= d->silence_us);
	watchdog_set_output_fault(&d->wd, output_fault(p, now, mono), mono);
	enum proto_watchdog_action a;
	enum proto_watchdog_cause c;
	if (watchdog_next(&d->wd, mono, &a, &c))
		act(p, a, c, now);
}
