/*
 * live.c - the playouts' live status from their events; see live.h.
 */
#include "api/live.h"

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/resource.h"
#include "common/alloc.h"
#include "common/log.h"
#include "mq/mq.h"
#include "protocol/protocol.h"

#define TEXT_MAX 256

struct live_output {
	char name[TEXT_MAX];
	bool up;
	char message[TEXT_MAX];
	int64_t at;
};

struct live_instance {
	char name[72];
	uint64_t last_seq;
	int64_t last_seen;
	enum proto_source source;
	bool source_known;
	uint64_t snapshot_revision;
	int64_t item_id, item_started, item_scheduled;
	char title[TEXT_MAX], artist[TEXT_MAX];
	bool live[2];
	char live_user[2][TEXT_MAX];
	struct live_output outputs[LIVE_OUTPUTS_MAX];
	size_t n_outputs;
	bool hls_reported;
	int64_t hls_listeners;
	char error[TEXT_MAX];
	int64_t error_at;
	/* The dead-air watchdog's last action (wd_at 0: none seen). */
	enum proto_watchdog_action wd_action;
	enum proto_watchdog_cause wd_cause;
	char wd_output[TEXT_MAX], wd_message[TEXT_MAX];
	int64_t wd_at;
};

struct live_status {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	bool woken;
	uint64_t version;
	struct live_instance inst[LIVE_INSTANCES_MAX];
	size_t n;
	struct mq_sub *sub;
};

static void copy_text(char *dst, const char *src)
{
	snprintf(dst, TEXT_MAX, "%s", src ? src : "");
}

/* The instance named name, added when there is room; NULL when full. */
static struct live_instance *instance(struct live_status *ls, const char *name)
{
	for (size_t i = 0; i < ls->n; i++) {
		if (strcmp(ls->inst[i].name, name) == 0)
			return &ls->inst[i];
	}
	if (ls->n >= LIVE_INSTANCES_MAX)
		return NULL;
	struct live_instance *in = &ls->inst[ls->n++];
	memset(in, 0, sizeof(*in));
	snprintf(in->name, sizeof(in->name), "%s", name);
	return in;
}

static void set_output(struct live_instance *in, const char *name, bool up, const char *message,
		       int64_t at)
{
	struct live_output *o = NULL;
	for (size_t i = 0; i < in->n_outputs; i++) {
		if (strcmp(in->outputs[i].name, name) == 0)
			o = &in->outputs[i];
	}
	if (!o) {
		if (in->n_outputs >= LIVE_OUTPUTS_MAX)
			return;
		o = &in->outputs[in->n_outputs++];
		copy_text(o->name, name);
	}
	o->up = up;
	copy_text(o->message, up ? "" : message);
	o->at = at;
}

static void apply(struct live_instance *in, const struct proto_event *e)
{
	in->last_seq = e->seq;
	if (e->at > in->last_seen)
		in->last_seen = e->at;
	if (e->snapshot_revision)
		in->snapshot_revision = e->snapshot_revision;
	switch (e->kind) {
	case PROTO_EV_ITEM_STARTED:
		in->item_id = e->item_id;
		in->item_started = e->at;
		in->item_scheduled = e->scheduled;
		copy_text(in->title, e->meta.title);
		copy_text(in->artist, e->meta.artist);
		in->source = e->source;
		in->source_known = true;
		break;
	case PROTO_EV_ITEM_ENDED:
		if (in->item_id == e->item_id)
			in->item_id = 0;
		break;
	case PROTO_EV_SOURCE_CHANGED:
	case PROTO_EV_HEARTBEAT:
		in->source = e->source;
		in->source_known = true;
		if (e->kind == PROTO_EV_HEARTBEAT) {
			in->hls_reported = e->hls_reported;
			in->hls_listeners = e->hls_listeners;
		}
		break;
	case PROTO_EV_LIVE_CONNECTED:
	case PROTO_EV_LIVE_DISCONNECTED:
		if ((unsigned)e->input < 2) {
			in->live[e->input] = e->kind == PROTO_EV_LIVE_CONNECTED;
			copy_text(in->live_user[e->input], in->live[e->input] ? e->user : "");
		}
		break;
	case PROTO_EV_OUTPUT_UP:
	case PROTO_EV_OUTPUT_DOWN:
		if (e->output)
			set_output(in, e->output, e->kind == PROTO_EV_OUTPUT_UP, e->message, e->at);
		break;
	case PROTO_EV_ERROR:
		copy_text(in->error, e->message ? e->message : "error");
		in->error_at = e->at;
		break;
	case PROTO_EV_DEAD_AIR:
		in->wd_action = e->action;
		in->wd_cause = e->cause;
		copy_text(in->wd_output, e->output);
		copy_text(in->wd_message, e->message);
		in->wd_at = e->at;
		break;
	default:
		break;
	}
}

int live_status_feed(struct live_status *ls, const char *json, size_t len)
{
	struct proto_event e;
	struct proto_error err;
	memset(&e, 0, sizeof(e));
	int r = proto_event_decode(json, len, &e, &err);
	if (r < 0) {
		proto_event_release(&e);
		return -EINVAL;
	}
	pthread_mutex_lock(&ls->lock);
	struct live_instance *in = instance(ls, e.instance);
	if (in && e.seq > in->last_seq) {
		apply(in, &e);
		ls->version++;
		pthread_cond_broadcast(&ls->changed);
	}
	pthread_mutex_unlock(&ls->lock);
	proto_event_release(&e);
	return 0;
}

static void on_event(void *userdata, struct mq_request_msg *msg)
{
	struct live_status *ls = userdata;
	if (live_status_feed(ls, msg->data, msg->len) < 0)
		log_warn("api", "ignoring a malformed playout event on %s", msg->subject);
}

struct live_status *live_status_new(void)
{
	struct live_status *ls = xcalloc(1, sizeof(*ls));
	pthread_mutex_init(&ls->lock, NULL);
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&ls->changed, &attr);
	pthread_condattr_destroy(&attr);
	return ls;
}

int live_status_start(struct live_status **out, struct mq *mq)
{
	struct live_status *ls = live_status_new();
	int r = mq_serve(mq, "onair.events.>", on_event, ls, &ls->sub);
	if (r < 0) {
		live_status_stop(ls);
		*out = NULL;
		return r;
	}
	*out = ls;
	return 0;
}

void live_status_stop(struct live_status *ls)
{
	if (!ls)
		return;
	mq_sub_close(ls->sub);
	pthread_cond_destroy(&ls->changed);
	pthread_mutex_destroy(&ls->lock);
	free(ls);
}

uint64_t live_status_version(struct live_status *ls)
{
	pthread_mutex_lock(&ls->lock);
	uint64_t v = ls->version;
	pthread_mutex_unlock(&ls->lock);
	return v;
}

uint64_t live_status_wait(struct live_status *ls, uint64_t seen, int64_t timeout_us)
{
	struct timespec until;
	clock_gettime(CLOCK_MONOTONIC, &until);
	until.tv_sec += (time_t)(timeout_us / 1000000);
	until.tv_nsec += (long)(timeout_us % 1000000) * 1000;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&ls->lock);
	while (ls->version == seen && !ls->woken) {
		if (pthread_cond_timedwait(&ls->changed, &ls->lock, &until) == ETIMEDOUT)
			break;
	}
	uint64_t v = ls->version;
	pthread_mutex_unlock(&ls->lock);
	return v;
}

void live_status_wake(struct live_status *ls)
{
	pthread_mutex_lock(&ls->lock);
	ls->woken = true;
	pthread_cond_broadcast(&ls->changed);
	pthread_mutex_unlock(&ls->lock);
}

static json_t *text_or_null(const char *s)
{
	json_t *v = s[0] ? json_string(s) : NULL;
	return v ? v : json_null();
}

static json_t *instance_json(const struct live_instance *in, int64_t now)
{
	json_t *o = json_pack("{s:s, s:o, s:b, s:s, s:I}", "instance", in->name, "last_seen",
			      json_time(in->last_seen), "healthy",
			      now - in->last_seen < LIVE_HEALTHY_US, "source",
			      in->source_known ? proto_source_name(in->source) : "none",
			      "snapshot_revision", (json_int_t)in->snapshot_revision);
	json_t *on_air = json_null();
	if (in->item_id) {
		on_air = json_pack("{s:I, s:o, s:o}", "item_id", (json_int_t)in->item_id,
				   "started_at", json_time(in->item_started), "scheduled",
				   json_time(in->item_scheduled));
		json_object_set_new(on_air, "title", text_or_null(in->title));
		json_object_set_new(on_air, "artist", text_or_null(in->artist));
	}
	json_object_set_new(o, "on_air", on_air);
	json_t *live = json_object();
	json_object_set_new(live, "main", in->live[0] ? json_string(in->live_user[0][0]
				    ? in->live_user[0] : "unknown") : json_null());
	json_object_set_new(live, "show", in->live[1] ? json_string(in->live_user[1][0]
				    ? in->live_user[1] : "unknown") : json_null());
	json_object_set_new(o, "live", live);
	json_t *outputs = json_array();
	for (size_t i = 0; i < in->n_outputs; i++) {
		const struct live_output *out = &in->outputs[i];
		json_t *oj = json_pack("{s:s, s:b, s:o}", "output", out->name, "up", out->up,
				       "changed_at", json_time(out->at));
		json_object_set_new(oj, "message", text_or_null(out->message));
		json_array_append_new(outputs, oj);
	}
	json_object_set_new(o, "outputs", outputs);
	json_object_set_new(o, "hls_listeners", in->hls_reported ? json_integer(in->hls_listeners)
			    : json_null());
	json_t *wd = json_null();
	if (in->wd_at) {
		wd = json_pack("{s:b, s:s, s:s, s:o}", "dead_air", in->wd_action != PROTO_WD_RECOVERED,
			       "action", proto_watchdog_action_name(in->wd_action), "cause",
			       proto_watchdog_cause_name(in->wd_cause), "at", json_time(in->wd_at));
		json_object_set_new(wd, "output", text_or_null(in->wd_output));
		json_object_set_new(wd, "message", text_or_null(in->wd_message));
	}
	json_object_set_new(o, "watchdog", wd);
	json_object_set_new(o, "last_error", in->error[0]
			    ? json_pack("{s:s, s:o}", "message", in->error, "at",
					json_time(in->error_at)) : json_null());
	return o;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct live_instance *)a)->name,
		      ((const struct live_instance *)b)->name);
}

json_t *live_status_json(struct live_status *ls, int64_t now)
{
	json_t *list = json_array();
	uint64_t version = 0;
	if (ls) {
		struct live_instance *copy = xcalloc(LIVE_INSTANCES_MAX, sizeof(*copy));
		pthread_mutex_lock(&ls->lock);
		size_t n = ls->n;
		memcpy(copy, ls->inst, n * sizeof(copy[0]));
		version = ls->version;
		pthread_mutex_unlock(&ls->lock);
		qsort(copy, n, sizeof(copy[0]), by_name);
		for (size_t i = 0; i < n; i++)
			json_array_append_new(list, instance_json(&copy[i], now));
		free(copy);
	}
	return json_pack("{s:I, s:o}", "version", (json_int_t)version, "instances", list);
}

size_t live_status_healthy(struct live_status *ls, int64_t now)
{
	size_t healthy = 0;
	if (!ls)
		return 0;
	pthread_mutex_lock(&ls->lock);
	for (size_t i = 0; i < ls->n; i++)
		healthy += now - ls->inst[i].last_seen < LIVE_HEALTHY_US;
	pthread_mutex_unlock(&ls->lock);
	return healthy;
}
