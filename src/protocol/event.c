/*
 * event.c - playout events: decoder, validator, encoder.
 *
 * Which fields an event carries depends on its kind; the table in
 * docs/protocol.md and the has_* helpers below say the same thing.
 */
#include "protocol/protocol.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "protocol/json_util.h"

#define INSTANCE_MAX 64

static bool is_item_event(enum proto_event_kind k)
{
	return k == PROTO_EV_ITEM_STARTED || k == PROTO_EV_ITEM_ENDED;
}

static bool has_source(enum proto_event_kind k)
{
	return k == PROTO_EV_ITEM_STARTED || k == PROTO_EV_SOURCE_CHANGED ||
	       k == PROTO_EV_HEARTBEAT;
}

static bool is_live_event(enum proto_event_kind k)
{
	return k == PROTO_EV_LIVE_CONNECTED || k == PROTO_EV_LIVE_DISCONNECTED;
}

static bool is_output_event(enum proto_event_kind k)
{
	return k == PROTO_EV_OUTPUT_UP || k == PROTO_EV_OUTPUT_DOWN;
}

static bool has_message(enum proto_event_kind k)
{
	return k == PROTO_EV_ERROR || k == PROTO_EV_OUTPUT_DOWN || k == PROTO_EV_CACHE_MISSING ||
	       k == PROTO_EV_DEAD_AIR;
}

void proto_event_release(struct proto_event *e)
{
	free(e->instance);
	free(e->user);
	free(e->output);
	free(e->message);
	metadata_release(&e->meta);
	memset(e, 0, sizeof(*e));
}

int proto_event_validate(const struct proto_event *e, struct proto_error *err)
{
	int rc;
	if ((rc = pv_token(e->instance, "_-", INSTANCE_MAX, "", "instance", err)) < 0)
		return rc;
	if (e->seq < 1 || e->seq > INT64_MAX)
		return perr(err, "seq: must be 1..%lld", (long long)INT64_MAX);
	if ((rc = pv_instant(e->at, "", "at", err)) < 0 ||
	    (rc = pv_enum((int)e->kind, PROTO_EV__COUNT, "", "event", err)) < 0)
		return rc;
	if (e->snapshot_revision > INT64_MAX)
		return perr(err, "snapshot_revision: must be 0..%lld", (long long)INT64_MAX);
	if (is_item_event(e->kind)) {
		if ((rc = pv_range(e->item_id, 1, INT64_MAX, "", "item_id", err)) < 0 ||
		    (rc = pv_instant(e->scheduled, "", "scheduled", err)) < 0)
			return rc;
	}
	if (e->kind == PROTO_EV_ITEM_ENDED &&
	    (rc = pv_enum((int)e->reason, PROTO_END__COUNT, "", "reason", err)) < 0)
		return rc;
	if (has_source(e->kind) &&
	    (rc = pv_enum((int)e->source, PROTO_SRC__COUNT, "", "source", err)) < 0)
		return rc;
	if (e->kind == PROTO_EV_SOURCE_CHANGED &&
	    (rc = pv_enum((int)e->previous, PROTO_SRC__COUNT, "", "previous", err)) < 0)
		return rc;
	if (is_live_event(e->kind)) {
		if ((rc = pv_enum((int)e->input, PROTO_LIVE_INPUTS, "", "input", err)) < 0 ||
		    (rc = pv_text(e->user, PROTO_STRING_MAX, PV_NOCTL, "", "user", err)) < 0)
			return rc;
	}
	if (is_output_event(e->kind) &&
	    (rc = pv_text(e->output, PROTO_STRING_MAX, PV_REQUIRED | PV_NONEMPTY | PV_NOCTL, "",
			  "output", err)) < 0)
		return rc;
	if (e->kind == PROTO_EV_CACHE_MISSING &&
	    (rc = pv_range(e->media_id, 1, INT64_MAX, "", "media_id", err)) < 0)
		return rc;
	if (e->kind == PROTO_EV_DEAD_AIR &&
	    ((rc = pv_enum((int)e->action, PROTO_WD__COUNT, "", "action", err)) < 0 ||
	     (rc = pv_enum((int)e->cause, PROTO_WD_CAUSE__COUNT, "", "cause", err)) < 0 ||
	     (rc = pv_text(e->output, PROTO_STRING_MAX, PV_NONEMPTY | PV_NOCTL, "", "output",
			   err)) < 0))
		return rc;
	if (has_message(e->kind) &&
	    (rc = pv_text(e->message, PROTO_STRING_MAX, 0, "", "message", err)) < 0)
		return rc;
	if (e->kind == PROTO_EV_ITEM_STARTED && (rc = pv_metadata(&e->meta, "", err)) < 0)
		return rc;
	if (e->kind == PROTO_EV_HEARTBEAT && e->hls_reported &&
	    (rc = pv_range(e->hls_listeners, 0, PROTO_LISTENERS_MAX, "", "hls_listeners", err)) < 0)
		return rc;
	return 0;
}

static int read_event(json_t *root, struct proto_event *e, struct proto_error *err)
{
	int kind = 0, v = 0;
	int rc;
	if ((rc = jr_string(root, "", "instance", true, &e->instance, err)) < 0 ||
	    (rc = jr_uint64(root, "", "seq", true, &e->seq, err)) < 0 ||
	    (rc = jr_instant(root, "", "at", true, &e->at, err)) < 0 ||
	    (rc = jr_enum(root, "", "event", true, proto_event_kind_names, PROTO_EV__COUNT, &kind,
			  err)) < 0 ||
	    (rc = jr_uint64(root, "", "snapshot_revision", false, &e->snapshot_revision, err)) < 0)
		return rc;
	e->kind = (enum proto_event_kind)kind;
	if (is_item_event(e->kind)) {
		if ((rc = jr_int(root, "", "item_id", true, INT64_MIN, INT64_MAX, &e->item_id,
				 err)) < 0 ||
		    (rc = jr_instant(root, "", "scheduled", true, &e->scheduled, err)) < 0)
			return rc;
	}
	if (e->kind == PROTO_EV_ITEM_ENDED) {
		if ((rc = jr_enum(root, "", "reason", true, proto_end_reason_names,
				  PROTO_END__COUNT, &v, err)) < 0)
			return rc;
		e->reason = (enum proto_end_reason)v;
	}
	if (has_source(e->kind)) {
		if ((rc = jr_enum(root, "", "source", true, proto_source_names, PROTO_SRC__COUNT,
				  &v, err)) < 0)
			return rc;
		e->source = (enum proto_source)v;
	}
	if (e->kind == PROTO_EV_SOURCE_CHANGED) {
		if ((rc = jr_enum(root, "", "previous", true, proto_source_names, PROTO_SRC__COUNT,
				  &v, err)) < 0)
			return rc;
		e->previous = (enum proto_source)v;
	}
	if (is_live_event(e->kind)) {
		if ((rc = jr_enum(root, "", "input", true, proto_live_input_names,
				  PROTO_LIVE_INPUTS, &v, err)) < 0 ||
		    (rc = jr_string(root, "", "user", false, &e->user, err)) < 0)
			return rc;
		e->input = (enum proto_live_input)v;
	}
	if (is_output_event(e->kind) &&
	    (rc = jr_string(root, "", "output", true, &e->output, err)) < 0)
		return rc;
	if (e->kind == PROTO_EV_CACHE_MISSING &&
	    (rc = jr_int(root, "", "media_id", true, INT64_MIN, INT64_MAX, &e->media_id, err)) < 0)
		return rc;
	if (e->kind == PROTO_EV_DEAD_AIR) {
		if ((rc = jr_enum(root, "", "action", true, proto_watchdog_action_names,
				  PROTO_WD__COUNT, &v, err)) < 0)
			return rc;
		e->action = (enum proto_watchdog_action)v;
		if ((rc = jr_enum(root, "", "cause", true, proto_watchdog_cause_names,
				  PROTO_WD_CAUSE__COUNT, &v, err)) < 0 ||
		    (rc = jr_string(root, "", "output", false, &e->output, err)) < 0)
			return rc;
		e->cause = (enum proto_watchdog_cause)v;
	}
	if (has_message(e->kind) &&
	    (rc = jr_string(root, "", "message", false, &e->message, err)) < 0)
		return rc;
	if (e->kind == PROTO_EV_ITEM_STARTED && (rc = jr_metadata(root, "", &e->meta, err)) < 0)
		return rc;
	if (e->kind == PROTO_EV_HEARTBEAT) {
		json_t *n = json_object_get(root, "hls_listeners");
		if (n && !json_is_null(n)) {
			if ((rc = jr_int(root, "", "hls_listeners", true, INT64_MIN, INT64_MAX,
					 &e->hls_listeners, err)) < 0)
				return rc;
			e->hls_reported = true;
		}
	}
	return 0;
}

int proto_event_decode(const char *json, size_t len, struct proto_event *out,
		       struct proto_error *err)
{
	json_t *root;
	memset(out, 0, sizeof(*out));
	int rc = jr_load(json, len, "event", &root, err);
	if (rc < 0)
		return rc;
	if ((rc = read_event(root, out, err)) < 0 || (rc = proto_event_validate(out, err)) < 0)
		goto out_release;
	json_decref(root);
	return 0;

out_release:
	proto_event_release(out);
	json_decref(root);
	return rc;
}

int proto_event_encode(const struct proto_event *e, struct buf *out)
{
	if (proto_event_validate(e, NULL) < 0)
		return -EINVAL;
	struct jw w;
	jw_init(&w, out);
	jw_object_begin(&w, NULL);
	jw_string(&w, "type", "event");
	jw_int(&w, "version", PROTO_VERSION);
	jw_string(&w, "instance", e->instance);
	jw_uint64(&w, "seq", e->seq);
	jw_instant(&w, "at", e->at);
	jw_string(&w, "event", proto_event_kind_name(e->kind));
	jw_uint64(&w, "snapshot_revision", e->snapshot_revision);
	if (is_item_event(e->kind)) {
		jw_int(&w, "item_id", e->item_id);
		jw_instant(&w, "scheduled", e->scheduled);
	}
	if (e->kind == PROTO_EV_ITEM_ENDED)
		jw_string(&w, "reason", proto_end_reason_name(e->reason));
	if (has_source(e->kind))
		jw_string(&w, "source", proto_source_name(e->source));
	if (e->kind == PROTO_EV_SOURCE_CHANGED)
		jw_string(&w, "previous", proto_source_name(e->previous));
	if (is_live_event(e->kind)) {
		jw_string(&w, "input", proto_live_input_name(e->input));
		jw_string_opt(&w, "user", e->user);
	}
	if (is_output_event(e->kind))
		jw_string(&w, "output", e->output);
	if (e->kind == PROTO_EV_CACHE_MISSING)
		jw_int(&w, "media_id", e->media_id);
	if (e->kind == PROTO_EV_DEAD_AIR) {
		jw_string(&w, "action", proto_watchdog_action_name(e->action));
		jw_string(&w, "cause", proto_watchdog_cause_name(e->cause));
		jw_string_opt(&w, "output", e->output);
	}
	if (has_message(e->kind))
		jw_string_opt(&w, "message", e->message);
	if (e->kind == PROTO_EV_ITEM_STARTED)
		jw_metadata(&w, "metadata", &e->meta);
	if (e->kind == PROTO_EV_HEARTBEAT && e->hls_reported)
		jw_int(&w, "hls_listeners", e->hls_listeners);
	jw_object_end(&w);
	return jw_finish(&w);
}
