#include "playout/playout.h"
#include "playout/playout_internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <curl/curl.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/cli.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/runtime.h"
#include "common/timeutil.h"
#include "mq/mq.h"
#include "mq/presence.h"
#include "playout/event_log.h"
#include "playout/hls_http.h"
#include "playout/hls_listeners.h"
#include "playout/liq_ctl.h"
#include "playout/liq_proc.h"
#include "playout/liq_script.h"
#include "playout/safety_feed.h"
#include "playout/media_cache.h"
#include "playout/safety_tone.h"
#include "playout/snapshot_store.h"
#include "playout/timeline.h"

#define COMPONENT "playout"
#define LOOP_US (100 * USEC_PER_MSEC)
#define MAX_ACTIONS 64
#define PATH_LEN PLAYOUT_PATH_LEN
/* Warn about a file not in the cache this long before its item. */
#define MISSING_WARNING_US (600 * USEC_PER_SEC)

const struct config_key playout_config_keys[] = {
	CLI_COMMON_KEYS,
	{ "playout.instance", NULL, "this instance's name, [A-Za-z0-9_-] (default: host name)" },
	{ "playout.state_dir", "/var/lib/onair-playout",
	  "last snapshot, media cache, event journal, Liquidsoap files" },
	{ "playout.media_url", "http://127.0.0.1:8080/api/v1/files/{id}/content",
	  "where media is downloaded from ({id}, {hash} are replaced)" },
	{ "playout.media_token", NULL, "service credential for media downloads (bearer token)" },
	{ "playout.snapshot_url", NULL,
	  "where to fetch the snapshot over HTTP when asked (reload) or when the queue is away" },
	{ "playout.cache_hours", "24", "hours of schedule whose media is kept ready" },
	{ "playout.liquidsoap", "liquidsoap", "Liquidsoap program" },
	{ "playout.safety_file", NULL, "audio looped when nothing else plays (default: a soft tone)" },
	{ "playout.stop_liquidsoap", "true", "stop Liquidsoap when playout stops cleanly" },
	{ "icecast.host", "127.0.0.1", "Icecast server (empty: no Icecast outputs)" },
	{ "icecast.port", "8000", "Icecast port" },
	{ "icecast.password", NULL, "Icecast source password (unset: no Icecast outputs)" },
	{ "icecast.safety_feed", "true",
	  "feed MOUNT.safety with the safety audio, the fallback-mount that keeps listeners while Liquidsoap restarts" },
	{ "playout.ffmpeg", "ffmpeg", "FFmpeg program (encodes the safety audio for the safety feeds)" },
	{ "harbor.address", "127.0.0.1", "address the live inputs listen on" },
	{ "harbor.port", "8001", "port of the live inputs (0: none)" },
	{ "hls.address", "127.0.0.1", "address the HLS server listens on" },
	{ "hls.port", "8002", "port of the HLS server (0: HLS not served)" },
	DEAD_AIR_CONFIG_KEYS,
	METRICS_HTTP_CONFIG_KEYS,
	MQ_CONFIG_KEYS,
};
const size_t playout_config_keys_count =
	sizeof(playout_config_keys) / sizeof(playout_config_keys[0]);

/* ------------------------------------------------------------ helpers */

void emit(struct playout *p, struct proto_event *e)
{
	if (!p->events)
		return;
	e->snapshot_revision = p->have_snap ? p->snap.revision : 0;
	playout_metrics_event(p, e);
	int r = event_log_emit(p->events, e);
	if (r < 0)
		log_warn(COMPONENT, "event %s not recorded: %s", proto_event_kind_name(e->kind),
			 onair_strerror(r));
}

static long find_item(const struct playout *p, int64_t id)
{
	if (!p->have_snap)
		return -1;
	for (size_t i = 0; i < p->snap.n_items; i++)
		if (p->snap.items[i].id == id)
			return (long)i;
	return -1;
}

static bool cache_has(void *userdata, const struct proto_media *m)
{
	struct playout *p = userdata;
	char path[PATH_LEN];
	return media_cache_path(p->cache, m->hash, path, sizeof(path)) == 0;
}

static void fmt_time(int64_t t, char *out, size_t size)
{
	if (time_format_rfc3339(t, out, size) < 0)
		snprintf(out, size, "?");
}

/* Everything in a snapshot that shapes the Liquidsoap script. */
static uint64_t script_fingerprint(const struct proto_snapshot *s)
{
	uint64_t h = UINT64_C(0xcbf29ce484222325);
#define MIX(v) do { h ^= (uint64_t)(v); h *= UINT64_C(0x100000001b3); } while (0)
#define MIXS(str) do { for (const char *q_ = (str) ? (str) : ""; *q_; q_++) MIX(*q_); MIX(0); } while (0)
	MIXS(s->station_name);
	MIX(s->n_outputs);
	for (size_t i = 0; i < s->n_outputs; i++) {
		MIXS(s->outputs[i].mount);
		MIXS(s->outputs[i].name);
		MIX(s->outputs[i].format);
		MIX(s->outputs[i].bitrate);
	}
	MIX(s->hls.enabled);
	MIX(s->hls.bitrate);
	MIX(s->hls.segment);
	MIX(s->hls.segments);
	for (int i = 0; i < 2; i++) {
		MIX(s->live[i].enabled);
		MIXS(s->live[i].mount);
		MIX(s->live[i].fade);
	}
#undef MIX
#undef MIXS
	return h;
}

/* Outputs when no snapshot was ever received: one MP3 mount and HLS, so a
 * new station is audible (safety loop) before its first schedule. */
static void default_snapshot(struct proto_snapshot *s)
{
	static struct proto_output out = { .mount = "/live.mp3", .format = PROTO_FORMAT_MP3,
					   .bitrate = 128 };
	memset(s, 0, sizeof(*s));
	s->station_name = "onair";
	s->outputs = &out;
	s->n_outputs = 1;
	s->hls = (struct proto_hls){ .enabled = true, .bitrate = 128,
				     .segment = 2 * USEC_PER_SEC, .segments = 6 };
}

/* ------------------------------------------------------------ Liquidsoap */

/* The snapshot whose outputs are played: the last one received, or the
 * defaults (filled into def) before the first. */
const struct proto_snapshot *played_snapshot(const struct playout *p,
					     struct proto_snapshot *def)
{
	if (p->have_snap)
		return &p->snap;
	default_snapshot(def);
	return def;
}

static int write_script(struct playout *p)
{
	struct proto_snapshot def;
	const struct proto_snapshot *s = played_snapshot(p, &def);
	const char *pw = config_get(p->cfg, "icecast.password");
	const char *host = config_get(p->cfg, "icecast.host");
	int64_t port = 0, harbor_port = 0;
	config_get_int(p->cfg, "icecast.port", 1, 65535, &port);
	config_get_int(p->cfg, "harbor.port", 0, 65535, &harbor_port);
	struct liq_script_options o = {
		.socket_path = p->socket_path,
		.fallback_m3u = p->fallback_m3u,
		.safety_file = p->safety_file,
		.hls_dir = p->hls_dir,
		.icecast_host = (pw && host && *host) ? host : NULL,
		.icecast_port = (int)port,
		.icecast_password = pw,
		.harbor_address = config_get(p->cfg, "harbor.address"),
		.harbor_port = (int)harbor_port,
		.auth_command = p->auth_command,
		.state_dir = p->state_dir,
		.station_name = s->station_name,
		.transition_fade = s->live[PROTO_LIVE_SHOW].fade,
		.snap = s,
		.run = (uint64_t)(time_now_us() / USEC_PER_SEC),
		.silence_us = p->air.enabled ? p->air.silence_us : 0,
		.silence_db = p->air.threshold_db,
	};
	struct buf text;
	buf_init(&text, 1 << 20);
	int r = liq_script_write(&o, &text);
	if (r == 0)
		r = fs_write_atomic(p->state_dir, "onair.liq", text.data, text.len);
	buf_release(&text);
	if (r == 0)
		p->script_fp = script_fingerprint(s);
	return r;
}

/* Segments of earlier Liquidsoap runs are named apart (liq_script.h) and
 * left behind: remove those no playlist can still name (older than 5
 * minutes), so players fetching the last ones of a run get them. */
static void sweep_hls(struct playout *p)
{
	DIR *d = opendir(p->hls_dir);
	if (!d)
		return;
	time_t old = time(NULL) - 300;
	int removed = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		const char *dot = strrchr(e->d_name, '.');
		struct stat st;
		if (!dot || (strcmp(dot, ".ts") != 0 && strcmp(dot, ".aac") != 0) ||
		    fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISREG(st.st_mode) || st.st_mtime >= old)
			continue;
		if (unlinkat(dirfd(d), e->d_name, 0) == 0)
			removed++;
	}
	closedir(d);
	if (removed)
		log_info(COMPONENT, "removed %d HLS segments of earlier runs", removed);
}

void liq_restart(struct playout *p, const char *why)
{
	log_info(COMPONENT, "restarting Liquidsoap: %s", why);
	liq_proc_stop(&p->liq, 5 * USEC_PER_SEC);
	liq_ctl_release(&p->ctl);
	p->liq_ready = false;
	p->liq_retry_at = 0;
}

int liq_command(struct playout *p, const char *cmd, struct buf *reply)
{
	int r = liq_ctl_command(&p->ctl, cmd, reply);
	if (r < 0) {
		log_warn(COMPONENT, "Liquidsoap command failed (%s): %.80s", onair_strerror(r), cmd);
		p->liq_ready = false;
	}
	return r;
}

void report_cut(struct playout *p, const char *why)
{
	for (int k = 0; k < LIQ_SLOTS; k++) {
		struct timeline_slot *sl = &p->tl.slots[k];
		if (!sl->item_id || !sl->started)
			continue;
		struct proto_event ended = {
			.kind = PROTO_EV_ITEM_ENDED, .at = time_now_us(),
			.item_id = sl->item_id, .scheduled = sl->busy_until,
			.reason = PROTO_END_CUT, .message = (char *)why,
		};
		emit(p, &ended);
		sl->started = false;
	}
}

/* Start Liquidsoap if it is not running; note when it answers. */
static void supervise_liquidsoap(struct playout *p)
{
	int64_t now = time_mono_us();
	if (!liq_proc_alive(&p->liq)) {
		if (p->liq_ready) {
			log_error(COMPONENT, "Liquidsoap died; restarting it");
			struct proto_event e = { .kind = PROTO_EV_ERROR,
						 .message = "Liquidsoap died; restarting it" };
			emit(p, &e);
			/* What was playing was cut; the restart joins it again. */
			report_cut(p, "Liquidsoap died");
			/* A Liquidsoap that dies soon after starting is restarted
			 * less and less often. */
			if (now - p->liq.started_at < 60 * USEC_PER_SEC)
				p->liq_failures++;
		}
		p->liq_ready = false;
		liq_ctl_release(&p->ctl);
		if (now < p->liq_retry_at)
			return;
		/* A first start: give the queue a moment to deliver a schedule, so
		 * Liquidsoap does not start with defaults only to be restarted. */
		if (!p->have_snap && now - p->started_at < 3 * USEC_PER_SEC)
			return;
		if (write_script(p) < 0) {
			log_error(COMPONENT, "cannot write the Liquidsoap script");
			p->liq_retry_at = now + 5 * USEC_PER_SEC;
			return;
		}
		sweep_hls(p);
		int r = liq_proc_start(&p->liq);
		int64_t backoff = USEC_PER_SEC << (p->liq_failures < 5 ? p->liq_failures : 5);
		p->liq_retry_at = now + backoff;
		if (r < 0) {
			log_error(COMPONENT, "cannot start Liquidsoap: %s", onair_strerror(r));
			p->liq_failures++;
			return;
		}
		p->liq_adopted = false;
		/* Nothing is up until the new Liquidsoap says so. */
		memset(p->outputs_up, 0, sizeof(p->outputs_up));
		dead_air_on_liquidsoap_start(p);
		playout_metrics_liquidsoap_started(p);
		timeline_reset(&p->tl);
		p->ws_on = false;
		log_tail_release(&p->tail);
		log_tail_init(&p->tail, p->liq.log_path, true);
		return;
	}
	if (p->liq_ready) {
		if (now - p->liq.started_at > 60 * USEC_PER_SEC)
			p->liq_failures = 0;
		return;
	}
	struct buf reply;
	buf_init(&reply, LIQ_CTL_REPLY_MAX);
	if (liq_ctl_command(&p->ctl, "onair.ping", &reply) == 0 &&
	    strcmp(reply.data, "pong") == 0) {
		p->liq_ready = true;
		log_info(COMPONENT, "Liquidsoap is ready (pid %d)", (int)p->liq.pid);
	} else if (now - p->liq.started_at > 60 * USEC_PER_SEC) {
		p->liq_failures++;
		liq_restart(p, "no answer on its socket for 60 s");
	}
	buf_release(&reply);
}

static enum proto_source source_from_name(const char *name);
static int output_index(const struct playout *p, const char *name);

/* A playout that restarts while Liquidsoap plays on: the slots that hold a
 * playing item keep it (no glitch); anything queued but not started is
 * dropped and pushed again by the timeline. */
static void adopt_slots(struct playout *p)
{
	struct buf reply;
	buf_init(&reply, LIQ_CTL_REPLY_MAX);
	if (liq_command(p, "onair.status", &reply) < 0)
		goto out;
	json_error_t jerr;
	json_t *root = json_loads(reply.data, 0, &jerr);
	json_t *slots = json_object_get(root, "slots");
	int64_t now = time_now_us();
	/* Liquidsoap reports the source on air only when it changes: take it
	 * from the status, or this playout shows "none" until the next change. */
	const char *source = json_string_value(json_object_get(root, "source"));
	if (source && source_from_name(source) != p->source) {
		log_info(COMPONENT, "on air: %s (was %s)", source, proto_source_name(p->source));
		p->source = source_from_name(source);
	}
	const char *name;
	json_t *up;
	json_object_foreach(json_object_get(root, "outputs"), name, up) {
		int idx = output_index(p, name);
		if (idx >= 0)
			p->outputs_up[idx] = json_is_true(up);
	}
	int64_t latest_start = INT64_MIN;
	for (size_t k = 0; k < json_array_size(slots) && k < LIQ_SLOTS; k++) {
		json_t *sl = json_array_get(slots, k);
		const char *item = json_string_value(json_object_get(sl, "item"));
		bool playing = json_is_true(json_object_get(sl, "playing"));
		long idx = item && *item ? find_item(p, strtoll(item, NULL, 10)) : -1;
		const struct proto_item *it = idx >= 0 ? &p->snap.items[idx] : NULL;
		if (playing && it && it->end > now) {
			p->tl.slots[k] = (struct timeline_slot){
				.item_id = it->id,
				.fingerprint = timeline_item_fingerprint(it),
				.gate = it->start,
				.busy_until = it->end,
				.scheduled_start = it->start,
				.started = true,
			};
			log_info(COMPONENT, "slot %zu: item %" PRId64 " keeps playing", k, it->id);
			if (it->start > latest_start) {
				latest_start = it->start;
				p->on_air_item = it->id;
			}
		} else {
			char cmd[64];
			snprintf(cmd, sizeof(cmd), "onair.clear %zu", k);
			liq_command(p, cmd, &reply);
		}
	}
	json_decref(root);
out:
	buf_release(&reply);
}

/* --------------------------------------------------- what Liquidsoap says */

static void on_started(struct playout *p, int slot, int64_t item_id, int64_t at)
{
	if (!timeline_mark_started(&p->tl, slot, item_id))
		return;
	long idx = find_item(p, item_id);
	const struct proto_item *it = idx >= 0 ? &p->snap.items[idx] : NULL;
	bool late = p->tl.slots[slot].late;
	if (it && !late)
		log_info(COMPONENT, "item %" PRId64 " started, %+.3f s from its time", item_id,
			 (double)(at - it->start) / USEC_PER_SEC);
	else
		log_info(COMPONENT, "item %" PRId64 " joined late", item_id);
	p->on_air_item = item_id;
	struct proto_event e = {
		.kind = PROTO_EV_ITEM_STARTED,
		.at = at,
		.item_id = item_id,
		.scheduled = it ? it->start : at,
		.source = PROTO_SRC_SCHEDULE,
	};
	if (it)
		e.meta = it->meta;
	emit(p, &e);
}

static enum proto_source source_from_name(const char *name)
{
	for (int s = 0; s < PROTO_SRC__COUNT; s++)
		if (strcmp(proto_source_name((enum proto_source)s), name) == 0)
			return (enum proto_source)s;
	return PROTO_SRC_NONE;
}

static int output_index(const struct playout *p, const char *name)
{
	if (strcmp(name, "hls") == 0)
		return PROTO_OUTPUTS_MAX;
	for (size_t i = 0; p->have_snap && i < p->snap.n_outputs; i++) {
		char label[160];
		snprintf(label, sizeof(label), "icecast:%s", p->snap.outputs[i].mount);
		if (strcmp(label, name) == 0)
			return (int)i;
	}
	return -1;
}

static void on_liq_line(void *userdata, const char *line)
{
	struct playout *p = userdata;
	static const char prefix[] = "ONAIR-EVENT ";
	if (strncmp(line, prefix, sizeof(prefix) - 1) != 0) {
		log_debug("liquidsoap", "%s", line);
		return;
	}
	json_error_t jerr;
	json_t *ev = json_loads(line + sizeof(prefix) - 1, 0, &jerr);
	if (!ev) {
		log_warn(COMPONENT, "unreadable event from Liquidsoap: %s", line);
		return;
	}
	const char *kind = json_string_value(json_object_get(ev, "event"));
	double t = json_number_value(json_object_get(ev, "t"));
	int64_t at = t > 0 ? (int64_t)llround(t * USEC_PER_SEC) : time_now_us();
	if (!kind) {
		/* ignore */
	} else if (strcmp(kind, "start") == 0) {
		const char *item = json_string_value(json_object_get(ev, "item"));
		int slot = (int)json_integer_value(json_object_get(ev, "slot"));
		if (item)
			on_started(p, slot, strtoll(item, NULL, 10), at);
	} else if (strcmp(kind, "source") == 0) {
		const char *name = json_string_value(json_object_get(ev, "source"));
		enum proto_source now = source_from_name(name ? name : "");
		if (now != p->source) {
			log_info(COMPONENT, "on air: %s (was %s)", proto_source_name(now),
				 proto_source_name(p->source));
			struct proto_event e = { .kind = PROTO_EV_SOURCE_CHANGED, .at = at,
						 .source = now, .previous = p->source };
			p->source = now;
			emit(p, &e);
		}
	} else if (strcmp(kind, "live_refused") == 0) {
		const char *input = json_string_value(json_object_get(ev, "input"));
		const char *user = json_string_value(json_object_get(ev, "user"));
		log_warn(COMPONENT, "live %s input: login of '%s' refused", input ? input : "?",
			 user ? user : "");
	} else if (strcmp(kind, "live_connect") == 0 || strcmp(kind, "live_disconnect") == 0) {
		const char *input = json_string_value(json_object_get(ev, "input"));
		const char *user = json_string_value(json_object_get(ev, "user"));
		bool connect = kind[5] == 'c';
		int in = input && strcmp(input, "main") == 0 ? PROTO_LIVE_MAIN : PROTO_LIVE_SHOW;
		if (!connect && p->live_gone[in]) {
			json_decref(ev);
			return;
		}
		p->live_gone[in] = !connect;
		if (connect)
			dead_air_on_live_connect(p, (enum proto_live_input)in);
		log_info(COMPONENT, "live %s input: %s%s%s", input ? input : "?",
			 connect ? "connected" : "disconnected", user ? " " : "", user ? user : "");
		struct proto_event e = {
			.kind = connect ? PROTO_EV_LIVE_CONNECTED : PROTO_EV_LIVE_DISCONNECTED,
			.at = at,
			.input = (enum proto_live_input)in,
			.user = (char *)(user && *user ? user : NULL),
		};
		emit(p, &e);
	} else if (strcmp(kind, "blank") == 0 || strcmp(kind, "noise") == 0) {
		dead_air_on_blank(p, kind[0] == 'b');
	} else if (strcmp(kind, "webstream") == 0) {
		p->ws_on = json_is_true(json_object_get(ev, "on"));
		if (p->ws_on)
			p->ws_on_at = at;
	} else if (strcmp(kind, "output") == 0) {
		const char *name = json_string_value(json_object_get(ev, "output"));
		bool up = json_is_true(json_object_get(ev, "up"));
		int idx = name ? output_index(p, name) : -1;
		if (idx >= 0)
			p->outputs_up[idx] = up;
		log_info(COMPONENT, "output %s is %s", name ? name : "?", up ? "up" : "down");
		struct proto_event e = { .kind = up ? PROTO_EV_OUTPUT_UP : PROTO_EV_OUTPUT_DOWN,
					 .at = at, .output = (char *)(name ? name : "?") };
		emit(p, &e);
	}
	json_decref(ev);
}

/* --------------------------------------------------------------- actions */

static int build_uri(struct playout *p, const struct proto_item *it,
		     const struct timeline_action *a, const char *path, struct buf *out)
{
	char num[64];
	int r = buf_printf(out, "annotate:onair_item=\"%" PRId64 "\"", it->id);
	if (r == 0)
		r = buf_printf(out, ",liq_cue_in=\"%.6f\",liq_cue_out=\"%.6f\"",
			       (double)a->cue_in / USEC_PER_SEC, (double)a->cue_out / USEC_PER_SEC);
	if (r == 0)
		r = buf_printf(out, ",liq_fade_in=\"%.3f\",liq_fade_out=\"%.3f\"",
			       (double)a->fade_in / USEC_PER_SEC, (double)a->fade_out / USEC_PER_SEC);
	snprintf(num, sizeof(num), "%.2f dB", it->gain_db);
	if (r == 0)
		r = buf_append_str(out, ",liq_amplify=");
	if (r == 0)
		r = liq_annotate_value(out, num);
	const char *names[] = { "title", "artist", "album" };
	const char *values[] = { it->meta.title, it->meta.artist, it->meta.album };
	for (int i = 0; i < 3 && r == 0; i++) {
		if (!values[i])
			continue;
		r = buf_printf(out, ",%s=", names[i]);
		if (r == 0)
			r = liq_annotate_value(out, values[i]);
	}
	if (r == 0)
		r = buf_printf(out, ":%s", path);
	return r;
}

static void do_action(struct playout *p, const struct timeline_action *a)
{
	const struct proto_item *it = a->item_index >= 0 ? &p->snap.items[a->item_index] : NULL;
	struct buf *cmd = &p->scratch;
	struct buf reply;
	buf_init(&reply, LIQ_CTL_REPLY_MAX);
	buf_reset(cmd);
	switch (a->kind) {
	case TL_PUSH: {
		char path[PATH_LEN];
		if (!it || media_cache_path(p->cache, it->media.hash, path, sizeof(path)) < 0) {
			timeline_forget_slot(&p->tl, a->slot);
			break;
		}
		buf_printf(cmd, "onair.push %d %.6f ", a->slot, (double)a->gate / USEC_PER_SEC);
		if (build_uri(p, it, a, path, cmd) < 0 || liq_command(p, cmd->data, &reply) < 0 ||
		    strcmp(reply.data, "OK") != 0) {
			log_warn(COMPONENT, "push of item %" PRId64 " failed: %s", a->item_id,
				 reply.data);
			timeline_forget_slot(&p->tl, a->slot);
			break;
		}
		char when[TIME_RFC3339_MAX];
		fmt_time(a->gate, when, sizeof(when));
		log_info(COMPONENT, "item %" PRId64 " queued in slot %d for %s%s", a->item_id,
			 a->slot, when, a->late ? " (joining late)" : "");
		break;
	}
	case TL_CLEAR:
	case TL_ENDED: {
		if (a->kind == TL_CLEAR) {
			buf_printf(cmd, "onair.clear %d", a->slot);
			liq_command(p, cmd->data, &reply);
		}
		if (!a->started && a->kind == TL_CLEAR)
			break;
		if (a->item_id == p->skipped_item) {
			/* Its end was reported when it was skipped. */
			p->skipped_item = 0;
			break;
		}
		struct proto_event e = {
			.kind = PROTO_EV_ITEM_ENDED,
			.at = time_now_us(),
			.item_id = a->item_id,
			.scheduled = it ? it->end : 0,
			.reason = a->kind == TL_CLEAR ? PROTO_END_CUT
				  : a->started	      ? PROTO_END_COMPLETED
							: PROTO_END_FAILED,
		};
		if (!e.scheduled)
			e.scheduled = e.at;
		if (e.reason == PROTO_END_FAILED && a->slot < 0) {
			log_warn(COMPONENT, "item %" PRId64 " ended without playing: its file "
					    "never reached the cache", a->item_id);
			e.message = "its file was not in the local cache";
		} else if (e.reason == PROTO_END_FAILED) {
			log_warn(COMPONENT, "item %" PRId64 " never started (undecodable file?)",
				 a->item_id);
			e.message = "Liquidsoap did not start it";
		}
		if (p->on_air_item == a->item_id)
			p->on_air_item = 0;
		emit(p, &e);
		break;
	}
	case TL_WEBSTREAM:
		if (a->end <= a->gate) {
			liq_command(p, "onair.webstream 0 0.000001 http://127.0.0.1:9/", &reply);
			break;
		}
		/* Liquidsoap reports again whether it plays (see check_unstarted). */
		p->ws_on = false;
		buf_printf(cmd, "onair.webstream %.6f %.6f %s", (double)a->gate / USEC_PER_SEC,
			   (double)a->end / USEC_PER_SEC, it ? it->url : "");
		liq_command(p, cmd->data, &reply);
		log_info(COMPONENT, "webstream item %" PRId64 " set: %s", a->item_id, reply.data);
		break;
	case TL_SILENCE:
		buf_printf(cmd, "onair.silence %.6f %.6f", (double)a->gate / USEC_PER_SEC,
			   (double)(a->end > a->gate ? a->end : a->gate + 1) / USEC_PER_SEC);
		liq_command(p, cmd->data, &reply);
		break;
	case TL_MISSING: {
		log_warn(COMPONENT, "item %" PRId64 ": media %" PRId64 " is not in the cache; "
				    "the fallback covers it", a->item_id, it ? it->media.id : 0);
		struct proto_event e = {
			.kind = PROTO_EV_CACHE_MISSING,
			.at = time_now_us(),
			.media_id = it ? it->media.id : 1,
			.message = "not in the local cache at its time",
		};
		emit(p, &e);
		break;
	}
	}
	buf_release(&reply);
}

/* A push that Liquidsoap accepted but never started (file undecodable):
 * report it once, let the fallback cover. */
static void check_unstarted(struct playout *p, int64_t now)
{
	for (int k = 0; k < LIQ_SLOTS; k++) {
		struct timeline_slot *sl = &p->tl.slots[k];
		if (!sl->item_id || sl->started || sl->failed || now < sl->gate + 3 * USEC_PER_SEC)
			continue;
		sl->failed = true;
		log_error(COMPONENT, "item %" PRId64 " did not start 3 s after its time in slot %d",
			  sl->item_id, k);
		struct proto_event e = { .kind = PROTO_EV_ERROR, .at = now,
					 .message = "a scheduled item did not start; fallback on air" };
		emit(p, &e);
	}
	/* The webstream: started when Liquidsoap says it plays in its window;
	 * a dead one is reported like an undecodable file. */
	struct timeline_channel *ws = &p->tl.webstream;
	if (!ws->item_id || ws->started)
		return;
	long idx = find_item(p, ws->item_id);
	const struct proto_item *it = idx >= 0 ? &p->snap.items[idx] : NULL;
	if (p->ws_on && now >= ws->start) {
		ws->started = true;
		int64_t at = p->ws_on_at > ws->start ? p->ws_on_at : ws->start;
		if (it && ws->start == it->start)
			log_info(COMPONENT, "webstream item %" PRId64 " started, %+.3f s from its time",
				 ws->item_id, (double)(at - it->start) / USEC_PER_SEC);
		else
			log_info(COMPONENT, "webstream item %" PRId64 " joined late", ws->item_id);
		p->on_air_item = ws->item_id;
		struct proto_event e = { .kind = PROTO_EV_ITEM_STARTED, .at = at,
					 .item_id = ws->item_id, .scheduled = it ? it->start : at,
					 .source = PROTO_SRC_SCHEDULE };
		if (it)
			e.meta = it->meta;
		emit(p, &e);
	} else if (!ws->failed && now >= ws->start + 3 * USEC_PER_SEC) {
		ws->failed = true;
		log_error(COMPONENT, "webstream item %" PRId64 " did not start 3 s after its time",
			  ws->item_id);
		struct proto_event e = { .kind = PROTO_EV_ERROR, .at = now,
					 .message = "a webstream did not start; fallback on air" };
		emit(p, &e);
	}
}

/* ------------------------------------------------------------- snapshots */

static void update_wants(struct playout *p, int64_t now)
{
	/* Right after a new snapshot its files are still downloading. */
	bool downloads_had_time = time_mono_us() - p->snap_taken_at > 60 * USEC_PER_SEC;
	if (!p->have_snap)
		return;
	size_t n = 0;
	struct media_cache_want *w =
		xcalloc(p->snap.n_items + p->snap.n_fallback + 1, sizeof(*w));
	for (size_t i = 0; i < p->snap.n_fallback; i++)
		w[n++] = (struct media_cache_want){ .media = &p->snap.fallback[i].media,
						    .needed_at = now };
	for (size_t i = 0; i < p->snap.n_items; i++) {
		const struct proto_item *it = &p->snap.items[i];
		if (it->kind != PROTO_ITEM_FILE || it->end <= now || it->start > now + p->horizon)
			continue;
		w[n++] = (struct media_cache_want){ .media = &it->media, .needed_at = it->start };
		/* Say early what will be missing, while there is time to act. */
		if (downloads_had_time && it->start > now && it->start - now < MISSING_WARNING_US &&
		    !cache_has(p, &it->media) && timeline_note_missing(&p->tl, it->id)) {
			char when[TIME_RFC3339_MAX];
			fmt_time(it->start, when, sizeof(when));
			log_warn(COMPONENT, "item %" PRId64 " at %s: media %" PRId64
				 " is not in the cache yet", it->id, when, it->media.id);
			struct proto_event e = {
				.kind = PROTO_EV_CACHE_MISSING, .at = now, .media_id = it->media.id,
				.message = "needed within 10 minutes, not in the cache yet",
			};
			emit(p, &e);
		}
	}
	int r = media_cache_want(p->cache, w, n);
	if (r < 0)
		log_warn(COMPONENT, "media cache refused the want list: %s", onair_strerror(r));
	free(w);
}

/* Write the station fallback playlist from the fallback files in the cache. */
static void update_fallback_playlist(struct playout *p)
{
	struct buf text;
	buf_init(&text, 4 << 20);
	for (size_t i = 0; p->have_snap && i < p->snap.n_fallback; i++) {
		const struct proto_fallback_item *f = &p->snap.fallback[i];
		char path[PATH_LEN];
		if (media_cache_path(p->cache, f->media.hash, path, sizeof(path)) < 0)
			continue;
		char gain[32];
		snprintf(gain, sizeof(gain), "%.2f dB", f->gain_db);
		buf_append_str(&text, "annotate:liq_amplify=");
		liq_annotate_value(&text, gain);
		if (f->meta.title) {
			buf_append_str(&text, ",title=");
			liq_annotate_value(&text, f->meta.title);
		}
		if (f->meta.artist) {
			buf_append_str(&text, ",artist=");
			liq_annotate_value(&text, f->meta.artist);
		}
		buf_printf(&text, ":%s\n", path);
	}
	char hash[32];
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	for (size_t i = 0; i < text.len; i++)
		h = (h ^ (unsigned char)text.data[i]) * UINT64_C(0x100000001b3);
	snprintf(hash, sizeof(hash), "%016" PRIx64, h);
	if (strcmp(hash, p->fallback_text_hash) != 0) {
		if (fs_write_atomic(p->state_dir, "fallback.m3u", text.data, text.len) == 0)
			snprintf(p->fallback_text_hash, sizeof(p->fallback_text_hash), "%s", hash);
	}
	buf_release(&text);
}

/* Take a new snapshot (JSON text). Keeps the old one when it is invalid. */
static void take_snapshot(struct playout *p, const char *json, size_t len, const char *from)
{
	struct proto_snapshot snap;
	struct proto_error err;
	int r = proto_snapshot_decode(json, len, &snap, &err);
	if (r < 0) {
		log_error(COMPONENT, "snapshot from %s refused, keeping revision %" PRIu64 ": %s",
			  from, p->have_snap ? p->snap.revision : 0, err.text);
		struct proto_event e = { .kind = PROTO_EV_ERROR, .at = time_now_us(),
					 .message = "a snapshot was refused as invalid" };
		emit(p, &e);
		return;
	}
	if (p->have_snap && p->snap_json.len == len && memcmp(p->snap_json.data, json, len) == 0) {
		proto_snapshot_release(&snap);
		return;
	}
	if (strcmp(from, "disk") != 0 && (r = snapshot_store_save(p->state_dir, json, len)) < 0)
		log_warn(COMPONENT, "cannot store the snapshot: %s", onair_strerror(r));
	if (p->have_snap)
		proto_snapshot_release(&p->snap);
	p->snap = snap;
	p->have_snap = true;
	p->snap_taken_at = time_mono_us();
	buf_reset(&p->snap_json);
	buf_append(&p->snap_json, json, len);
	log_info(COMPONENT, "schedule revision %" PRIu64 " from %s: %zu items, %zu fallback",
		 snap.revision, from, snap.n_items, snap.n_fallback);
	update_wants(p, time_now_us());
	update_fallback_playlist(p);
	if (p->liq.pid > 0 && script_fingerprint(&p->snap) != p->script_fp)
		liq_restart(p, "output or live settings changed");
}

static size_t fetch_write(char *data, size_t size, size_t n, void *userdata)
{
	struct buf *b = userdata;
	return buf_append(b, data, size * n) == 0 ? size * n : 0;
}

/* The fetch thread: GET playout.snapshot_url, hand the body to the loop. */
static void *fetch_main(void *arg)
{
	struct playout *p = arg;
	const char *url = config_get(p->cfg, "playout.snapshot_url");
	const char *token = config_get(p->cfg, "playout.media_token");
	struct buf body;
	buf_init(&body, PROTO_MESSAGE_MAX);
	CURL *curl = curl_easy_init();
	struct curl_slist *headers = NULL;
	long status = 0;
	CURLcode rc = CURLE_FAILED_INIT;
	if (curl) {
		char auth[1024];
		if (token && *token) {
			snprintf(auth, sizeof(auth), "Authorization: Bearer %.900s", token);
			headers = curl_slist_append(headers, auth);
		}
		curl_easy_setopt(curl, CURLOPT_URL, url);
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 15000L);
		curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https,file");
		curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, fetch_write);
		curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
		rc = curl_easy_perform(curl);
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
		curl_slist_free_all(headers);
		curl_easy_cleanup(curl);
	}
	pthread_mutex_lock(&p->lock);
	if (rc == CURLE_OK && (status == 200 || status == 0)) {
		buf_reset(&p->fetched);
		buf_append(&p->fetched, body.data, body.len);
	} else {
		log_warn(COMPONENT, "fetching the snapshot from %s failed: %s (HTTP %ld)", url,
			 curl_easy_strerror(rc), status);
	}
	p->fetch_running = false;
	pthread_mutex_unlock(&p->lock);
	buf_release(&body);
	return NULL;
}

/* Start a fetch over HTTP when asked (reload), or once at start when the
 * queue is away; take a fetched snapshot. Called with the lock held. */
static void poll_fetch(struct playout *p)
{
	const char *url = config_get(p->cfg, "playout.snapshot_url");
	if (!url || !*url)
		return;
	if (!p->fetch_tried_at_start && !mq_connected(p->mq) &&
	    time_mono_us() - p->started_at > 3 * USEC_PER_SEC) {
		p->fetch_tried_at_start = true;
		p->fetch_requested = true;
	}
	if (p->fetch_requested && !p->fetch_running) {
		pthread_t t;
		p->fetch_requested = false;
		if (pthread_create(&t, NULL, fetch_main, p) == 0) {
			pthread_detach(t);
			p->fetch_running = true;
			log_info(COMPONENT, "fetching the snapshot from %s", url);
		}
	}
	if (p->fetched.len) {
		struct buf text = p->fetched;
		buf_init(&p->fetched, PROTO_MESSAGE_MAX);
		take_snapshot(p, text.data, text.len, "http");
		buf_release(&text);
	}
}

/* The queue thread: watch the schedule key, install each new snapshot. */
static void *queue_main(void *arg)
{
	struct playout *p = arg;
	struct buf value;
	buf_init(&value, PROTO_MESSAGE_MAX);
	while (!atomic_load(&p->queue_stop)) {
		/* Nothing to ask a queue that is away: a request would only
		 * wait for its timeout. */
		if (!mq_connected(p->mq)) {
			usleep(100 * 1000);
			continue;
		}
		if (!p->watch) {
			int r = mq_ensure_topology(p->mq);
			if (r == 0)
				r = mq_watch_open(p->mq, MQ_KV_SCHEDULE, MQ_KV_SNAPSHOT_KEY, &p->watch);
			if (r < 0) {
				log_warn(COMPONENT, "cannot watch the schedule yet: %s", onair_strerror(r));
				for (int i = 0; i < 10 && !atomic_load(&p->queue_stop); i++)
					usleep(100 * 1000);
				continue;
			}
			log_info(COMPONENT, "watching the schedule in the queue");
		}
		uint64_t rev;
		buf_reset(&value);
		if (mq_watch_next(p->watch, &value, &rev, 200 * USEC_PER_MSEC) == 0) {
			pthread_mutex_lock(&p->lock);
			take_snapshot(p, value.data, value.len, "queue");
			pthread_mutex_unlock(&p->lock);
		}
	}
	buf_release(&value);
	return NULL;
}

/* ---------------------------------------------------------------- status */

/* Room for the outputs a status names (fill_status points into it). */
struct status_outputs {
	struct proto_output_status outs[PROTO_OUTPUTS_MAX + 1];
	char labels[PROTO_OUTPUTS_MAX + 1][160];
};

static void fill_status(struct playout *p, struct proto_status *st, struct status_outputs *so)
{
	memset(st, 0, sizeof(*st));
	size_t n = 0;
	for (size_t i = 0; p->have_snap && i < p->snap.n_outputs && i < PROTO_OUTPUTS_MAX; i++) {
		snprintf(so->labels[n], sizeof(so->labels[n]), "icecast:%s", p->snap.outputs[i].mount);
		so->outs[n] = (struct proto_output_status){ so->labels[n], p->outputs_up[i] };
		n++;
	}
	if (p->hls) {
		snprintf(so->labels[n], sizeof(so->labels[n]), "hls");
		so->outs[n] = (struct proto_output_status){ so->labels[n],
							     p->outputs_up[PROTO_OUTPUTS_MAX] };
		n++;
	}
	st->outputs = so->outs;
	st->n_outputs = n;
	int64_t now = time_now_us();
	st->snapshot_revision = p->have_snap ? p->snap.revision : 0;
	st->source = p->source;
	st->on_air_item_id = p->source == PROTO_SRC_SCHEDULE ? p->on_air_item : 0;
	for (size_t i = 0; p->have_snap && i < p->snap.n_items; i++) {
		if (p->snap.items[i].start > now) {
			st->next_item_id = p->snap.items[i].id;
			st->next_start = p->snap.items[i].start;
			break;
		}
	}
	struct media_cache_stats cs;
	media_cache_get_stats(p->cache, &cs);
	st->cache_ready = cs.ready;
	st->cache_missing = cs.missing;
}

static void write_status_file(struct playout *p)
{
	struct proto_status st;
	struct status_outputs so;
	fill_status(p, &st, &so);
	json_t *o = json_object();
	char when[TIME_RFC3339_MAX];
	fmt_time(time_now_us(), when, sizeof(when));
	json_object_set_new(o, "instance", json_string(p->instance));
	json_object_set_new(o, "written_at", json_string(when));
	json_object_set_new(o, "snapshot_revision", json_integer((json_int_t)st.snapshot_revision));
	json_object_set_new(o, "source", json_string(proto_source_name(st.source)));
	long idx = find_item(p, st.on_air_item_id);
	if (idx >= 0) {
		const struct proto_item *it = &p->snap.items[idx];
		json_t *cur = json_object();
		json_object_set_new(cur, "id", json_integer(it->id));
		json_object_set_new(cur, "title", json_string(it->meta.title ? it->meta.title : ""));
		json_object_set_new(cur, "artist", json_string(it->meta.artist ? it->meta.artist : ""));
		fmt_time(it->start, when, sizeof(when));
		json_object_set_new(cur, "start", json_string(when));
		fmt_time(it->end, when, sizeof(when));
		json_object_set_new(cur, "end", json_string(when));
		json_object_set_new(o, "on_air", cur);
	}
	idx = find_item(p, st.next_item_id);
	if (idx >= 0) {
		const struct proto_item *it = &p->snap.items[idx];
		json_t *next = json_object();
		json_object_set_new(next, "id", json_integer(it->id));
		json_object_set_new(next, "title", json_string(it->meta.title ? it->meta.title : ""));
		fmt_time(it->start, when, sizeof(when));
		json_object_set_new(next, "start", json_string(when));
		json_object_set_new(o, "next", next);
	}
	struct media_cache_stats cs;
	media_cache_get_stats(p->cache, &cs);
	json_t *cache = json_object();
	json_object_set_new(cache, "wanted", json_integer(cs.wanted));
	json_object_set_new(cache, "ready", json_integer(cs.ready));
	json_object_set_new(cache, "missing", json_integer(cs.missing));
	json_object_set_new(cache, "failing", json_integer(cs.failing));
	json_object_set_new(o, "cache", cache);
	json_t *outs = json_object();
	for (size_t i = 0; p->have_snap && i < p->snap.n_outputs; i++) {
		char label[160];
		snprintf(label, sizeof(label), "icecast:%s", p->snap.outputs[i].mount);
		json_object_set_new(outs, label, json_boolean(p->outputs_up[i]));
	}
	json_object_set_new(outs, "hls", json_boolean(p->outputs_up[PROTO_OUTPUTS_MAX]));
	json_object_set_new(o, "outputs", outs);
	json_object_set_new(o, "liquidsoap", json_boolean(p->liq_ready));
	json_object_set_new(o, "events_pending",
			    json_integer(p->events ? (json_int_t)event_log_pending(p->events) : 0));
	char *text = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	if (text) {
		fs_write_atomic(p->state_dir, "status.json", text, strlen(text));
		free(text);
	}
	json_decref(o);
}

/* -------------------------------------------------------------- commands */

static void answer(struct mq_request_msg *req, struct playout *p, const char *command_id,
		   bool ok, const char *error, bool with_status)
{
	struct proto_reply rep = {
		.command_id = (char *)command_id,
		.instance = p->instance,
		.ok = ok,
		.error = (char *)(ok ? NULL : error),
		.has_status = with_status,
	};
	struct status_outputs so;
	if (with_status)
		fill_status(p, &rep.status, &so);
	struct buf out;
	buf_init(&out, 1 << 20);
	if (proto_reply_encode(&rep, &out) == 0)
		mq_respond(req, out.data, out.len);
	buf_release(&out);
}

/* The item on air was skipped: report its end now, once (p->lock held). */
static void report_skipped(struct playout *p)
{
	long idx = find_item(p, p->on_air_item);
	struct proto_event e = {
		.kind = PROTO_EV_ITEM_ENDED,
		.at = time_now_us(),
		.item_id = p->on_air_item,
		.scheduled = idx >= 0 ? p->snap.items[idx].end : time_now_us(),
		.reason = PROTO_END_SKIPPED,
	};
	emit(p, &e);
	p->skipped_item = p->on_air_item;
	p->on_air_item = 0;
}

static void on_command(void *userdata, struct mq_request_msg *req)
{
	struct playout *p = userdata;
	struct proto_command cmd;
	struct proto_error err;
	if (proto_command_decode(req->data, req->len, &cmd, &err) < 0) {
		log_warn(COMPONENT, "bad command: %s", err.text);
		struct proto_reply rep = { .command_id = "invalid", .instance = p->instance,
					   .ok = false, .error = err.text };
		struct buf out;
		buf_init(&out, 4096);
		if (proto_reply_encode(&rep, &out) == 0)
			mq_respond(req, out.data, out.len);
		buf_release(&out);
		return;
	}
	pthread_mutex_lock(&p->lock);
	struct buf reply;
	buf_init(&reply, LIQ_CTL_REPLY_MAX);
	char line[128];
	int r = 0;
	bool ok = true;
	switch (cmd.kind) {
	case PROTO_CMD_SKIP:
		r = liq_command(p, "onair.skip", &reply);
		if (r == 0 && p->on_air_item && strncmp(reply.data, "ERROR", 5) != 0)
			report_skipped(p);
		break;
	case PROTO_CMD_SOURCE:
		snprintf(line, sizeof(line), "onair.source %s %s", proto_source_name(cmd.source),
			 cmd.enabled ? "on" : "off");
		r = liq_command(p, line, &reply);
		dead_air_on_source_command(p, cmd.source);
		break;
	case PROTO_CMD_DISCONNECT_LIVE:
		snprintf(line, sizeof(line), "onair.kick %s", proto_live_input_name(cmd.input));
		r = liq_command(p, line, &reply);
		break;
	case PROTO_CMD_RELOAD:
		p->fetch_requested = true;
		timeline_reset(&p->tl);
		for (int k = 0; k < LIQ_SLOTS && r == 0; k++) {
			snprintf(line, sizeof(line), "onair.clear %d", k);
			r = liq_command(p, line, &reply);
		}
		break;
	case PROTO_CMD_STATUS:
	case PROTO_CMD__COUNT:
		break;
	}
	if (r < 0 || (reply.len && strncmp(reply.data, "ERROR", 5) == 0))
		ok = false;
	log_info(COMPONENT, "command %s (%s): %s", proto_command_kind_name(cmd.kind), cmd.id,
		 ok ? "done" : "failed");
	answer(req, p, cmd.id, ok, r < 0 ? onair_strerror(r) : reply.data,
	       cmd.kind == PROTO_CMD_STATUS);
	buf_release(&reply);
	pthread_mutex_unlock(&p->lock);
	proto_command_release(&cmd);
}

/* ----------------------------------------------------------------- setup */

static int set_paths(struct playout *p, const char *self_path)
{
	const char *dir = config_get(p->cfg, "playout.state_dir");
	if (!dir || !*dir || strlen(dir) >= PATH_LEN - 64)
		return -EINVAL;
	snprintf(p->state_dir, sizeof(p->state_dir), "%s", dir);
	snprintf(p->script_path, sizeof(p->script_path), "%s/onair.liq", dir);
	snprintf(p->hls_dir, sizeof(p->hls_dir), "%s/hls", dir);
	snprintf(p->cache_dir, sizeof(p->cache_dir), "%s/media", dir);
	snprintf(p->fallback_m3u, sizeof(p->fallback_m3u), "%s/fallback.m3u", dir);
	if ((size_t)snprintf(p->socket_path, sizeof(p->socket_path), "%s/liquidsoap.sock", dir) >=
	    sizeof(p->socket_path))
		return -ENAMETOOLONG;
	const char *safety = config_get(p->cfg, "playout.safety_file");
	if (safety && *safety)
		snprintf(p->safety_file, sizeof(p->safety_file), "%s", safety);
	else
		snprintf(p->safety_file, sizeof(p->safety_file), "%s/safety.wav", dir);
	/* The live login checker is this very program. */
	char self[PATH_LEN];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0)
		self[n] = '\0';
	else
		snprintf(self, sizeof(self), "%s", self_path);
	if (strchr(self, '\'') || strchr(p->state_dir, '\''))
		return -EINVAL;
	snprintf(p->auth_command, sizeof(p->auth_command), "'%s' check-live", self);
	return 0;
}

/* The HLS server served a segment to client (from a server thread). */
static void on_hls_segment(void *userdata, const char *client, const char *name)
{
	struct playout *p = userdata;
	(void)name;
	hls_listeners_note(&p->hls_listeners, client, time_mono_us());
}

static int playout_open(struct playout *p, const struct config *cfg, const char *self_path)
{
	memset(p, 0, sizeof(*p));
	p->cfg = cfg;
	pthread_mutex_init(&p->lock, NULL);
	buf_init(&p->snap_json, PROTO_MESSAGE_MAX);
	buf_init(&p->scratch, 64 << 10);
	buf_init(&p->fetched, PROTO_MESSAGE_MAX);
	timeline_init(&p->tl);
	p->source = PROTO_SRC_NONE;
	p->started_at = time_mono_us();

	char host[64] = "playout";
	gethostname(host, sizeof(host) - 1);
	const char *inst = config_get(cfg, "playout.instance");
	snprintf(p->instance, sizeof(p->instance), "%s", inst && *inst ? inst : host);
	for (char *c = p->instance; *c; c++)
		if (!(*c == '-' || *c == '_' || (*c >= '0' && *c <= '9') ||
		      ((*c | 32) >= 'a' && (*c | 32) <= 'z')))
			*c = '_';
	int64_t hours = 24;
	config_get_int(cfg, "playout.cache_hours", 1, 24 * 14, &hours);
	p->horizon = hours * 3600 * USEC_PER_SEC;
	bool stop_liq = true;
	config_get_bool(cfg, "playout.stop_liquidsoap", &stop_liq);
	p->stop_liquidsoap = stop_liq;

	int r = set_paths(p, self_path);
	if (r < 0) {
		log_error(COMPONENT, "playout.state_dir is not usable");
		return r;
	}
	if ((r = dead_air_open(p)) < 0 || (r = playout_metrics_open(p)) < 0)
		return r;
	if ((r = fs_mkdir_p(p->state_dir)) < 0 || (r = fs_mkdir_p(p->hls_dir)) < 0 ||
	    (r = fs_mkdir_p(p->cache_dir)) < 0) {
		log_error(COMPONENT, "cannot create %s: %s", p->state_dir, onair_strerror(r));
		return r;
	}
	struct stat st;
	if (stat(p->safety_file, &st) < 0 && (r = safety_tone_write(p->safety_file)) < 0) {
		log_error(COMPONENT, "cannot write %s: %s", p->safety_file, onair_strerror(r));
		return r;
	}
	struct stat fst;
	if (stat(p->fallback_m3u, &fst) < 0)
		fs_write_atomic(p->state_dir, "fallback.m3u", "", 0);

	struct media_cache_options co = {
		.dir = p->cache_dir,
		.url_template = config_get(cfg, "playout.media_url"),
		.bearer_token = config_get(cfg, "playout.media_token"),
	};
	if ((r = media_cache_new(&p->cache, &co)) < 0) {
		log_error(COMPONENT, "media cache: %s", onair_strerror(r));
		return r;
	}

	char conn_name[128];
	snprintf(conn_name, sizeof(conn_name), "onair-playout-%s", p->instance);
	struct mq_options mo = { .name = conn_name };
	if ((r = mq_options_from_config(&mo, cfg)) < 0 || (r = mq_connect(&p->mq, &mo)) < 0) {
		log_error(COMPONENT, "message queue at %s: %s", mo.url, onair_strerror(r));
		return r;
	}
	struct event_log_options eo = { .dir = p->state_dir, .instance = p->instance, .mq = p->mq };
	if ((r = event_log_open(&p->events, &eo)) < 0) {
		log_error(COMPONENT, "event journal: %s", onair_strerror(r));
		return r;
	}
	char subject[160];
	snprintf(subject, sizeof(subject), "%s.%s", MQ_SUBJECT_COMMANDS, p->instance);
	if ((r = mq_serve(p->mq, MQ_SUBJECT_COMMANDS, on_command, p, &p->sub_all)) < 0 ||
	    (r = mq_serve(p->mq, subject, on_command, p, &p->sub_one)) < 0)
		log_warn(COMPONENT, "commands not available yet: %s", onair_strerror(r));
	if ((r = presence_start(p->mq, "playout", mo.name, &p->presence)) < 0)
		log_warn(COMPONENT, "not answering presence requests: %s", onair_strerror(r));

	int64_t hls_port = 0;
	config_get_int(cfg, "hls.port", 0, 65535, &hls_port);
	if (hls_port > 0) {
		hls_listeners_init(&p->hls_listeners);
		struct hls_http_options ho = { .dir = p->hls_dir,
					       .address = config_get(cfg, "hls.address"),
					       .port = (uint16_t)hls_port,
					       .on_segment = on_hls_segment,
					       .userdata = p,
					       .state_dir = p->state_dir };
		if ((r = hls_http_start(&p->hls, &ho)) < 0) {
			log_error(COMPONENT, "HLS server on port %d: %s", (int)hls_port,
				  onair_strerror(r));
			hls_listeners_release(&p->hls_listeners);
			return r;
		}
		log_info(COMPONENT, "HLS at http://%s:%d/hls/live.m3u8", ho.address,
			 (int)hls_http_port(p->hls));
	}

	struct proto_error err;
	struct proto_snapshot snap;
	r = snapshot_store_load(p->state_dir, &snap, &err);
	if (r == 0) {
		proto_snapshot_release(&snap);
		struct buf text;
		buf_init(&text, PROTO_MESSAGE_MAX);
		char path[PATH_LEN + 32];
		snprintf(path, sizeof(path), "%s/snapshot.json", p->state_dir);
		if (fs_read_file(path, &text) == 0)
			take_snapshot(p, text.data, text.len, "disk");
		buf_release(&text);
	} else if (r != -ENOENT) {
		log_warn(COMPONENT, "stored snapshot not usable: %s", err.text);
	}

	if ((r = liq_proc_init(&p->liq, config_get(cfg, "playout.liquidsoap"), p->script_path,
			       p->state_dir)) < 0)
		return r;
	liq_ctl_init(&p->ctl, p->socket_path, 2 * USEC_PER_SEC);
	if (p->have_snap && liq_proc_adopt(&p->liq)) {
		/* Keep the running script if it was made from the same settings. */
		p->script_fp = script_fingerprint(&p->snap);
		p->liq_adopted = true;
		log_tail_init(&p->tail, p->liq.log_path, false);
	} else {
		log_tail_init(&p->tail, p->liq.log_path, true);
	}
	return 0;
}

static void stop_feeds(struct playout *p)
{
	for (size_t i = 0; i < p->n_feeds; i++)
		safety_feed_stop(p->feeds[i]);
	p->n_feeds = 0;
}

/* Keep one safety feed for each Icecast output of the schedule (see
 * safety_feed.h), made again when the outputs or the server change. */
static void sync_feeds(struct playout *p)
{
	struct proto_snapshot def;
	const struct proto_snapshot *s = played_snapshot(p, &def);
	const char *pw = config_get(p->cfg, "icecast.password");
	const char *host = config_get(p->cfg, "icecast.host");
	int64_t port = 0;
	bool on = true;
	config_get_int(p->cfg, "icecast.port", 1, 65535, &port);
	config_get_bool(p->cfg, "icecast.safety_feed", &on);
	if (!on || !pw || !host || !*host)
		return;
	uint64_t h = UINT64_C(0xcbf29ce484222325);
	for (size_t i = 0; i < s->n_outputs; i++) {
		for (const char *c = s->outputs[i].mount; *c; c++)
			h = (h ^ (unsigned char)*c) * UINT64_C(0x100000001b3);
		h = (h ^ ((uint64_t)s->outputs[i].format << 32 | (uint64_t)s->outputs[i].bitrate)) *
		    UINT64_C(0x100000001b3);
	}
	if (p->feeds_fp == h)
		return;
	stop_feeds(p);
	p->feeds_fp = h;
	for (size_t i = 0; i < s->n_outputs && p->n_feeds < PROTO_OUTPUTS_MAX; i++) {
		const struct proto_output *o = &s->outputs[i];
		if (!safety_feed_supported(o->format)) {
			log_info(COMPONENT, "no safety feed for %s (only MP3 and AAC loop)", o->mount);
			continue;
		}
		char file[PATH_LEN + 64];
		snprintf(file, sizeof(file), "%s/safety-%d.%s", p->state_dir, o->bitrate,
			 o->format == PROTO_FORMAT_AAC ? "aac" : "mp3");
		struct safety_feed_options fo = {
			.host = host, .port = (int)port, .password = pw, .mount = o->mount,
			.file = file, .format = o->format, .bitrate = o->bitrate,
			.source = p->safety_file, .ffmpeg = config_get(p->cfg, "playout.ffmpeg"),
		};
		int r = safety_feed_start(&p->feeds[p->n_feeds], &fo);
		if (r < 0) {
			log_error(COMPONENT, "no safety feed for %s: %s", o->mount, onair_strerror(r));
			continue;
		}
		p->n_feeds++;
	}
}

static void playout_close(struct playout *p)
{
	if (p->queue_thread_started) {
		atomic_store(&p->queue_stop, true);
		pthread_join(p->queue_thread, NULL);
	}
	mq_sub_close(p->sub_all);
	mq_sub_close(p->sub_one);
	presence_stop(p->presence);
	stop_feeds(p);
	dead_air_close(p);
	playout_metrics_close(p);
	if (p->stop_liquidsoap) {
		liq_proc_stop(&p->liq, 5 * USEC_PER_SEC);
		/* Liquidsoap leaves its control socket behind. */
		if (p->socket_path[0] && unlink(p->socket_path) < 0 && errno != ENOENT)
			log_warn(COMPONENT, "cannot remove %s: %s", p->socket_path, strerror(errno));
	} else if (p->liq.pid > 0)
		log_info(COMPONENT, "leaving Liquidsoap (pid %d) running", (int)p->liq.pid);
	liq_ctl_release(&p->ctl);
	log_tail_release(&p->tail);
	if (p->hls) {
		hls_http_stop(p->hls);
		hls_listeners_release(&p->hls_listeners);
	}
	event_log_close(p->events);
	mq_watch_close(p->watch);
	mq_close(p->mq);
	media_cache_free(p->cache);
	if (p->have_snap)
		proto_snapshot_release(&p->snap);
	buf_release(&p->snap_json);
	buf_release(&p->scratch);
	/* A fetch thread still running holds the lock only briefly; wait for it. */
	for (int i = 0; i < 200; i++) {
		pthread_mutex_lock(&p->lock);
		bool running = p->fetch_running;
		pthread_mutex_unlock(&p->lock);
		if (!running)
			break;
		usleep(100 * 1000);
	}
	buf_release(&p->fetched);
	pthread_mutex_destroy(&p->lock);
}

static void tick(struct playout *p)
{
	int64_t now = time_now_us();
	poll_fetch(p);
	sync_feeds(p);
	supervise_liquidsoap(p);
	log_tail_poll(&p->tail, on_liq_line, p);
	if (p->liq_ready) {
		if (p->liq_adopted) {
			adopt_slots(p);
			p->liq_adopted = false;
		}
		struct timeline_action actions[MAX_ACTIONS];
		size_t n = timeline_plan(&p->tl, p->have_snap ? &p->snap : NULL, now, cache_has, p,
					 actions, MAX_ACTIONS);
		for (size_t i = 0; i < n && p->liq_ready; i++)
			do_action(p, &actions[i]);
		check_unstarted(p, now);
	}
	int64_t mono = time_mono_us();
	dead_air_tick(p, now, mono);
	playout_metrics_tick(p, mono);
	if (mono >= p->next_wants) {
		update_wants(p, now);
		p->next_wants = mono + 5 * USEC_PER_SEC;
	}
	if (mono >= p->next_evict) {
		int r = media_cache_evict(p->cache, 6 * 3600 * USEC_PER_SEC);
		if (r > 0)
			log_info(COMPONENT, "evicted %d media files no longer needed", r);
		p->next_evict = mono + 600 * USEC_PER_SEC;
	}
	if (mono >= p->next_status) {
		/* Every second: a fallback file that just arrived joins the
		 * fallback playlist (it is only rewritten when it changes). */
		update_fallback_playlist(p);
		write_status_file(p);
		p->next_status = mono + USEC_PER_SEC;
	}
	if (mono >= p->next_heartbeat) {
		struct proto_event e = { .kind = PROTO_EV_HEARTBEAT, .at = now, .source = p->source };
		if (p->hls) {
			e.hls_reported = true;
			e.hls_listeners = (int64_t)hls_listeners_count(&p->hls_listeners, mono,
								       HLS_LISTENER_WINDOW_US);
		}
		emit(p, &e);
		p->next_heartbeat = mono + 30 * USEC_PER_SEC;
	}
}

int playout_run(const struct config *cfg, const char *self_path)
{
	struct playout *p = xcalloc(1, sizeof(*p));
	int code = EXIT_FAILURE;
	if (playout_open(p, cfg, self_path) < 0)
		goto out_close;
	log_info(COMPONENT, "instance %s running (version %s, pid %d, state in %s)", p->instance,
		 ONAIR_VERSION, (int)getpid(), p->state_dir);
	int tr = pthread_create(&p->queue_thread, NULL, queue_main, p);
	if (tr != 0) {
		log_error(COMPONENT, "cannot start the queue thread: %s", onair_strerror(-tr));
		goto out_close;
	}
	p->queue_thread_started = true;
	int sig = 0;
	while (sig == 0) {
		pthread_mutex_lock(&p->lock);
		tick(p);
		pthread_mutex_unlock(&p->lock);
		sig = runtime_wait_signal(LOOP_US);
	}
	log_info(COMPONENT, "stopping on %s", strsignal(sig));
	code = EXIT_SUCCESS;
out_close:
	playout_close(p);
	free(p);
	log_info(COMPONENT, "stopped");
	return code;
}
