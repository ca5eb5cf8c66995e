/*
 * protocol.c - wire names of the enums and the message-type peek.
 *
 * The codecs themselves are in snapshot.c, event.c, command.c (commands
 * and replies) and task.c; json_util.c has what they share.
 */
#include "protocol/protocol.h"

#include <errno.h>
#include <jansson.h>
#include <string.h>

#include "protocol/json_util.h"

const char *const proto_item_kind_names[PROTO_ITEM_KINDS] = {
	[PROTO_ITEM_FILE] = "file",
	[PROTO_ITEM_WEBSTREAM] = "webstream",
	[PROTO_ITEM_LIVE] = "live",
	[PROTO_ITEM_SILENCE] = "silence",
};

const char *const proto_event_kind_names[PROTO_EV__COUNT] = {
	[PROTO_EV_ITEM_STARTED] = "item_started",
	[PROTO_EV_ITEM_ENDED] = "item_ended",
	[PROTO_EV_SOURCE_CHANGED] = "source_changed",
	[PROTO_EV_LIVE_CONNECTED] = "live_connected",
	[PROTO_EV_LIVE_DISCONNECTED] = "live_disconnected",
	[PROTO_EV_OUTPUT_UP] = "output_up",
	[PROTO_EV_OUTPUT_DOWN] = "output_down",
	[PROTO_EV_CACHE_MISSING] = "cache_missing",
	[PROTO_EV_ERROR] = "error",
	[PROTO_EV_HEARTBEAT] = "heartbeat",
	[PROTO_EV_DEAD_AIR] = "dead_air",
};

const char *const proto_watchdog_action_names[PROTO_WD__COUNT] = {
	[PROTO_WD_FALLBACK] = "fallback",
	[PROTO_WD_RESTART_OUTPUT] = "restart_output",
	[PROTO_WD_RESTART_LIQUIDSOAP] = "restart_liquidsoap",
	[PROTO_WD_RECOVERED] = "recovered",
};

const char *const proto_watchdog_cause_names[PROTO_WD_CAUSE__COUNT] = {
	[PROTO_WD_SILENCE] = "silence",
	[PROTO_WD_OUTPUT] = "output",
};

const char *const proto_source_names[PROTO_SRC__COUNT] = {
	[PROTO_SRC_SCHEDULE] = "schedule",
	[PROTO_SRC_SHOW_LIVE] = "show_live",
	[PROTO_SRC_MAIN_LIVE] = "main_live",
	[PROTO_SRC_FALLBACK] = "fallback",
	[PROTO_SRC_SAFETY] = "safety",
	[PROTO_SRC_NONE] = "none",
};

const char *const proto_end_reason_names[PROTO_END__COUNT] = {
	[PROTO_END_COMPLETED] = "completed",
	[PROTO_END_SKIPPED] = "skipped",
	[PROTO_END_CUT] = "cut",
	[PROTO_END_REPLACED] = "replaced",
	[PROTO_END_FAILED] = "failed",
};

const char *const proto_command_kind_names[PROTO_CMD__COUNT] = {
	[PROTO_CMD_SKIP] = "skip",
	[PROTO_CMD_SOURCE] = "source",
	[PROTO_CMD_DISCONNECT_LIVE] = "disconnect_live",
	[PROTO_CMD_RELOAD] = "reload",
	[PROTO_CMD_STATUS] = "status",
};

const char *const proto_task_kind_names[PROTO_TASK__COUNT] = {
	[PROTO_TASK_ANALYZE_FILE] = "analyze_file",
	[PROTO_TASK_POLL_PODCAST] = "poll_podcast",
	[PROTO_TASK_INGEST_EPISODE] = "ingest_episode",
};

const char *const proto_format_names[PROTO_FORMATS] = {
	[PROTO_FORMAT_MP3] = "mp3",
	[PROTO_FORMAT_VORBIS] = "vorbis",
	[PROTO_FORMAT_OPUS] = "opus",
	[PROTO_FORMAT_AAC] = "aac",
};

const char *const proto_live_input_names[PROTO_LIVE_INPUTS] = {
	[PROTO_LIVE_MAIN] = "main",
	[PROTO_LIVE_SHOW] = "show",
};

/* names[v], or "?" when v is outside 0..count-1. */
static const char *name_of(const char *const *names, int count, int v)
{
	return v >= 0 && v < count ? names[v] : "?";
}

const char *proto_item_kind_name(enum proto_item_kind k)
{
	return name_of(proto_item_kind_names, PROTO_ITEM_KINDS, (int)k);
}

const char *proto_event_kind_name(enum proto_event_kind k)
{
	return name_of(proto_event_kind_names, PROTO_EV__COUNT, (int)k);
}

const char *proto_source_name(enum proto_source s)
{
	return name_of(proto_source_names, PROTO_SRC__COUNT, (int)s);
}

const char *proto_watchdog_action_name(enum proto_watchdog_action a)
{
	return name_of(proto_watchdog_action_names, PROTO_WD__COUNT, (int)a);
}

const char *proto_watchdog_cause_name(enum proto_watchdog_cause c)
{
	return name_of(proto_watchdog_cause_names, PROTO_WD_CAUSE__COUNT, (int)c);
}

const char *proto_end_reason_name(enum proto_end_reason r)
{
	return name_of(proto_end_reason_names, PROTO_END__COUNT, (int)r);
}

const char *proto_command_kind_name(enum proto_command_kind k)
{
	return name_of(proto_command_kind_names, PROTO_CMD__COUNT, (int)k);
}

const char *proto_task_kind_name(enum proto_task_kind k)
{
	return name_of(proto_task_kind_names, PROTO_TASK__COUNT, (int)k);
}

const char *proto_format_name(enum proto_format f)
{
	return name_of(proto_format_names, PROTO_FORMATS, (int)f);
}

const char *proto_live_input_name(enum proto_live_input i)
{
	return name_of(proto_live_input_names, PROTO_LIVE_INPUTS, (int)i);
}

int proto_message_type(const char *json, size_t len, char *out, size_t size)
{
	if (size > 0)
		out[0] = '\0';
	if (len > PROTO_MESSAGE_MAX)
		return -EINVAL;
	json_t *root = json_loadb(json ? json : "", len, JSON_REJECT_DUPLICATES, NULL);
	if (!root)
		return -EINVAL;
	int rc = -EINVAL;
	json_t *t = json_object_get(root, "type");
	if (!json_is_string(t))
		goto out_decref;
	size_t n = json_string_length(t);
	const char *s = json_string_value(t);
	if (n == 0 || n >= size || strlen(s) != n)
		goto out_decref;
	memcpy(out, s, n + 1);
	rc = 0;

out_decref:
	json_decref(root);
	return rc;
}
