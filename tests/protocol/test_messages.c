#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "common/error.h"
#include "fixtures.h"

/*
 * Round trip x through encode and decode: decode(encode(x)) equals x
 * field by field and encode(decode(encode(x))) is byte-identical.
 */
#define ROUND_TRIP(T, x, json_out)                                                      \
	do {                                                                            \
		struct proto_##T d_;                                                    \
		struct proto_error err_ = { "" };                                       \
		struct buf b1_, b2_;                                                    \
		buf_init(&b1_, PROTO_MESSAGE_MAX);                                      \
		buf_init(&b2_, PROTO_MESSAGE_MAX);                                      \
		assert_int_equal(proto_##T##_encode((x), &b1_), 0);                     \
		int rc_ = proto_##T##_decode(b1_.data, b1_.len, &d_, &err_);            \
		if (rc_ != 0)                                                           \
			fail_msg("%s: %s", b1_.data, err_.text);                        \
		assert_##T##_equal((x), &d_);                                           \
		assert_int_equal(proto_##T##_encode(&d_, &b2_), 0);                     \
		assert_string_equal(b1_.data, b2_.data);                                \
		proto_##T##_release(&d_);                                               \
		buf_release(&b2_);                                                      \
		*(json_out) = buf_detach(&b1_, NULL);                                   \
	} while (0)

/* ------------------------------------------------------------------ events */

static void test_event_round_trip_every_kind(void **state)
{
	static const char *const expect[PROTO_EV__COUNT] = {
		[PROTO_EV_ITEM_STARTED] = ",\"event\":\"item_started\",\"snapshot_revision\":42,"
					  "\"item_id\":1001,\"scheduled\":\"2026-11-28T10:00:00Z\","
					  "\"source\":\"schedule\","
					  "\"metadata\":{\"title\":\"Song\",\"artist\":\"Band\"}}",
		[PROTO_EV_ITEM_ENDED] = ",\"event\":\"item_ended\",\"snapshot_revision\":42,"
					"\"item_id\":1001,\"scheduled\":\"2026-11-28T10:03:00Z\","
					"\"reason\":\"replaced\"}",
		[PROTO_EV_SOURCE_CHANGED] = ",\"event\":\"source_changed\","
					    "\"snapshot_revision\":42,\"source\":\"main_live\","
					    "\"previous\":\"fallback\"}",
		[PROTO_EV_LIVE_CONNECTED] = ",\"event\":\"live_connected\","
					    "\"snapshot_revision\":42,\"input\":\"show\","
					    "\"user\":\"anna\"}",
		[PROTO_EV_LIVE_DISCONNECTED] = ",\"event\":\"live_disconnected\","
					       "\"snapshot_revision\":42,\"input\":\"show\","
					       "\"user\":\"anna\"}",
		[PROTO_EV_OUTPUT_UP] = ",\"event\":\"output_up\",\"snapshot_revision\":42,"
				       "\"output\":\"icecast:/live.mp3\"}",
		[PROTO_EV_OUTPUT_DOWN] = ",\"event\":\"output_down\",\"snapshot_revision\":42,"
					 "\"output\":\"hls\",\"message\":\"disk full\"}",
		[PROTO_EV_CACHE_MISSING] = ",\"event\":\"cache_missing\",\"snapshot_revision\":42,"
					   "\"media_id\":501,\"message\":\"HTTP 404\"}",
		[PROTO_EV_ERROR] = ",\"event\":\"error\",\"snapshot_revision\":42,"
				   "\"message\":\"liquidsoap: \\\"restart\\\"\\n\"}",
		[PROTO_EV_HEARTBEAT] = ",\"event\":\"heartbeat\",\"snapshot_revision\":42,"
				       "\"source\":\"safety\"}",
		[PROTO_EV_DEAD_AIR] = ",\"event\":\"dead_air\",\"snapshot_revision\":42,"
				      "\"action\":\"restart_output\",\"cause\":\"output\","
				      "\"output\":\"icecast:/live.mp3\","
				      "\"message\":\"Icecast does not list /live.mp3\"}",
	};
	const char *head = "{\"type\":\"event\",\"version\":1,\"instance\":\"studio-a_1\","
			   "\"seq\":1234567,\"at\":\"2026-11-28T10:00:00.000250Z\"";
	for (int k = 0; k < PROTO_EV__COUNT; k++) {
		struct proto_event e;
		char *json;
		fix_event(&e, (enum proto_event_kind)k);
		ROUND_TRIP(event, &e, &json);
		char want[512];
		snprintf(want, sizeof(want), "%s%s", head, expect[k]);
		assert_string_equal(json, want);
		free(json);
		proto_event_release(&e);
	}
}

static void test_event_inapplicable_fields(void **state)
{
	/* Fields of other kinds are ignored by validate and not encoded. */
	struct proto_event e;
	struct buf b;
	fix_event(&e, PROTO_EV_HEARTBEAT);
	e.item_id = -5;
	e.reason = (enum proto_end_reason)77;
	e.output = xstrdup("\x01 not encoded");
	e.message = xstrdup("not encoded");
	e.meta.title = xstrdup("not encoded");
	buf_init(&b, 4096);
	assert_int_equal(proto_event_validate(&e, NULL), 0);
	assert_int_equal(proto_event_encode(&e, &b), 0);
	assert_null(strstr(b.data, "encoded"));
	assert_null(strstr(b.data, "item_id"));
	buf_release(&b);
	proto_event_release(&e);

	/* And on the wire they are not even read. */
	const char *json = "{\"type\":\"event\",\"version\":1,\"instance\":\"a\",\"seq\":1,"
			   "\"at\":\"2026-11-28T10:00:00Z\",\"event\":\"heartbeat\","
			   "\"source\":\"none\",\"item_id\":\"x\",\"metadata\":5,\"future\":[]}";
	struct proto_error err;
	assert_int_equal(proto_event_decode(json, strlen(json), &e, &err), 0);
	assert_int_equal(e.item_id, 0);
	assert_null(e.meta.title);
	assert_int_equal(e.snapshot_revision, 0);
	assert_int_equal(e.source, PROTO_SRC_NONE);
	proto_event_release(&e);
}

#define R(name, path, value, err) { name, path, value, NULL, 0, err }

static char *gen_long_instance(void)
{
	return json_long_string("", 'i', 65);
}
static char *gen_long_message(void)
{
	return json_long_string("", 'm', PROTO_STRING_MAX + 1);
}

static const struct reject_case item_started_rejects[] = {
	{ "version 2", "version", "2", NULL, -ONAIR_EPROTO_VERSION, "version: 2 is newer" },
	R("version 0", "version", "0", "version: must be >= 1"),
	R("type command", "type", "\"command\"", "type: must be \"event\""),
	R("instance missing", "instance", NULL, "instance: required"),
	R("instance empty", "instance", "\"\"", "instance: must match [A-Za-z0-9_-]{1,64}"),
	R("instance dot", "instance", "\"studio.a\"", "instance: must match"),
	R("instance number", "instance", "1", "instance: must be a string"),
	{ "instance too long", "instance", NULL, gen_long_instance, 0, "instance: must match" },
	R("seq 0", "seq", "0", "seq: must be 1.."),
	R("seq negative", "seq", "-3", "seq: must be >= 0"),
	R("seq string", "seq", "\"1\"", "seq: must be an integer"),
	R("seq missing", "seq", NULL, "seq: required"),
	R("at missing", "at", NULL, "at: required"),
	R("at bad", "at", "\"2026-11-28T25:00:00Z\"", "at: must be an RFC 3339 date-time"),
	R("event unknown", "event", "\"item_paused\"", "event: must be one of: item_started,"),
	R("event missing", "event", NULL, "event: required"),
	R("snapshot_revision negative", "snapshot_revision", "-1",
	  "snapshot_revision: must be >= 0"),
	R("item_id 0", "item_id", "0", "item_id: must be >= 1"),
	R("item_id missing", "item_id", NULL, "item_id: required"),
	R("scheduled missing", "scheduled", NULL, "scheduled: required"),
	R("source missing", "source", NULL, "source: required"),
	R("source unknown", "source", "\"radio\"",
	  "source: must be one of: schedule, show_live, main_live, fallback, safety, none"),
	R("metadata string", "metadata", "\"x\"", "metadata: must be an object"),
	R("metadata title bool", "metadata.title", "false", "metadata.title: must be a string"),
};

static const struct reject_case item_ended_rejects[] = {
	R("reason missing", "reason", NULL, "reason: required"),
	R("reason unknown", "reason", "\"stopped\"",
	  "reason: must be one of: completed, skipped, cut, replaced, failed"),
	R("item_id negative", "item_id", "-1", "item_id: must be >= 1"),
};

static const struct reject_case source_changed_rejects[] = {
	R("previous missing", "previous", NULL, "previous: required"),
	R("previous unknown", "previous", "\"live\"", "previous: must be one of"),
	R("source missing", "source", NULL, "source: required"),
};

static const struct reject_case live_rejects[] = {
	R("input missing", "input", NULL, "input: required"),
	R("input unknown", "input", "\"backup\"", "input: must be one of: main, show"),
	R("user number", "user", "5", "user: must be a string"),
	R("user control", "user", "\"a\\u001fb\"", "user: must not contain control characters"),
};

static const struct reject_case output_rejects[] = {
	R("output missing", "output", NULL, "output: required"),
	R("output empty", "output", "\"\"", "output: must not be empty"),
	R("output control", "output", "\"hls\\n\"", "output: must not contain control characters"),
	{ "message too long", "message", NULL, gen_long_message, 0,
	  "message: longer than 1024 bytes" },
};

static const struct reject_case cache_missing_rejects[] = {
	R("media_id 0", "media_id", "0", "media_id: must be >= 1"),
	R("media_id missing", "media_id", NULL, "media_id: required"),
	R("media_id real", "media_id", "5.5", "media_id: must be an integer"),
};

/* Encode the fixture event of kind k (free() the result). */
static char *event_json(enum proto_event_kind k)
{
	struct proto_event e;
	struct buf b;
	fix_event(&e, k);
	buf_init(&b, 1 << 20);
	if (proto_event_encode(&e, &b) < 0)
		abort();
	proto_event_release(&e);
	return buf_detach(&b, NULL);
}

/* ---------------------------------------------------------------- commands */

static void test_command_round_trip_every_kind(void **state)
{
	static const char *const expect[PROTO_CMD__COUNT] = {
		[PROTO_CMD_SKIP] = "\"command\":\"skip\"}",
		[PROTO_CMD_SOURCE] = ("\"command\":\"source\",\"source\":\"show_live\","
				      "\"enabled\":true}"),
		[PROTO_CMD_DISCONNECT_LIVE] = "\"command\":\"disconnect_live\",\"input\":\"show\"}",
		[PROTO_CMD_RELOAD] = "\"command\":\"reload\"}",
		[PROTO_CMD_STATUS] = "\"command\":\"status\"}",
	};
	for (int k = 0; k < PROTO_CMD__COUNT; k++) {
		struct proto_command c;
		char *json;
		char want[256];
		fix_command(&c, (enum proto_command_kind)k);
		ROUND_TRIP(command, &c, &json);
		snprintf(want, sizeof(want),
			 "{\"type\":\"command\",\"version\":1,\"id\":\"req:2026-11-28.abc_1-2\",%s",
			 expect[k]);
		assert_string_equal(json, want);
		free(json);
		proto_command_release(&c);
	}
	/* Every switchable source, on and off. */
	static const enum proto_source srcs[] = { PROTO_SRC_SCHEDULE, PROTO_SRC_SHOW_LIVE,
						  PROTO_SRC_MAIN_LIVE };
	for (size_t i = 0; i < 6; i++) {
		struct proto_command c;
		char *json;
		fix_command(&c, PROTO_CMD_SOURCE);
		c.source = srcs[i % 3];
		c.enabled = i < 3;
		ROUND_TRIP(command, &c, &json);
		free(json);
		proto_command_release(&c);
	}
}

static void test_command_validate(void **state)
{
	struct proto_command c;
	struct proto_error err;
	fix_command(&c, PROTO_CMD_SOURCE);
	c.source = PROTO_SRC_FALLBACK;
	assert_int_equal(proto_command_validate(&c, &err), -EINVAL);
	assert_string_equal(err.text, "source: must be one of: schedule, show_live, main_live");
	struct buf b;
	buf_init(&b, 1024);
	assert_int_equal(proto_command_encode(&c, &b), -EINVAL);
	assert_int_equal(b.len, 0);
	c.kind = PROTO_CMD__COUNT;
	assert_int_equal(proto_command_validate(&c, &err), -EINVAL);
	assert_string_equal(err.text, "command: unknown value 5");
	buf_release(&b);
	proto_command_release(&c);
}

static char *gen_long_id(void)
{
	return json_long_string("", 'x', 65);
}

static const struct reject_case command_rejects[] = {
	{ "version 2", "version", "2", NULL, -ONAIR_EPROTO_VERSION, "version: 2 is newer" },
	R("type reply", "type", "\"reply\"", "type: must be \"command\""),
	R("id missing", "id", NULL, "id: required"),
	R("id empty", "id", "\"\"", "id: must match [A-Za-z0-9_.:-]{1,64}"),
	R("id space", "id", "\"a b\"", "id: must match"),
	R("id slash", "id", "\"a/b\"", "id: must match"),
	{ "id too long", "id", NULL, gen_long_id, 0, "id: must match" },
	R("command unknown", "command", "\"shutdown\"",
	  "command: must be one of: skip, source, disconnect_live, reload, status"),
	R("command missing", "command", NULL, "command: required"),
	R("source not switchable", "source", "\"fallback\"",
	  "source: must be one of: schedule, show_live, main_live"),
	R("source unknown", "source", "\"tape\"", "source: must be one of"),
	R("source missing", "source", NULL, "source: required"),
	R("enabled missing", "enabled", NULL, "enabled: required"),
	R("enabled string", "enabled", "\"true\"", "enabled: must be true or false"),
	R("enabled number", "enabled", "1", "enabled: must be true or false"),
};

static const struct reject_case disconnect_rejects[] = {
	R("input missing", "input", NULL, "input: required"),
	R("input unknown", "input", "\"both\"", "input: must be one of: main, show"),
};

static char *command_json(enum proto_command_kind k)
{
	struct proto_command c;
	struct buf b;
	fix_command(&c, k);
	buf_init(&b, 1 << 20);
	if (proto_command_encode(&c, &b) < 0)
		abort();
	proto_command_release(&c);
	return buf_detach(&b, NULL);
}

/* ----------------------------------------------------------------- replies */

static void test_reply_round_trip(void **state)
{
	struct proto_reply r;
	char *json;

	fix_reply(&r, true, true);
	ROUND_TRIP(reply, &r, &json);
	assert_string_equal(json,
			    "{\"type\":\"reply\",\"version\":1,\"command_id\":\"req-1\","
			    "\"instance\":\"studio-a\",\"ok\":true,\"status\":{"
			    "\"snapshot_revision\":42,\"source\":\"schedule\","
			    "\"on_air_item_id\":1001,\"next_item_id\":1002,"
			    "\"next_start\":\"2026-11-28T10:02:58.500Z\",\"cache_ready\":17,"
			    "\"cache_missing\":4294967295,\"outputs\":["
			    "{\"output\":\"icecast:/live.mp3\",\"up\":true},"
			    "{\"output\":\"hls\",\"up\":false}]}}");
	free(json);
	proto_reply_release(&r);

	fix_reply(&r, false, false);
	ROUND_TRIP(reply, &r, &json);
	assert_string_equal(json, "{\"type\":\"reply\",\"version\":1,\"command_id\":\"req-1\","
				  "\"instance\":\"studio-a\",\"ok\":false,"
				  "\"error\":\"no live source connected\"}");
	free(json);
	proto_reply_release(&r);

	/* ok without status; a status with nothing next and no outputs. */
	fix_reply(&r, true, false);
	ROUND_TRIP(reply, &r, &json);
	free(json);
	r.has_status = true;
	r.status.source = PROTO_SRC_NONE;
	ROUND_TRIP(reply, &r, &json);
	assert_non_null(strstr(json, "\"next_item_id\":0,\"cache_ready\":0,\"cache_missing\":0,"
				     "\"outputs\":[]}}"));
	free(json);
	proto_reply_release(&r);

	/* An error on an ok reply does not apply: not encoded. */
	fix_reply(&r, true, false);
	r.error = xstrdup("ignored");
	struct buf b;
	buf_init(&b, 1024);
	assert_int_equal(proto_reply_encode(&r, &b), 0);
	assert_null(strstr(b.data, "ignored"));
	buf_release(&b);
	proto_reply_release(&r);
}

static char *gen_too_many_status_outputs(void)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	buf_append_char(&b, '[');
	for (unsigned i = 0; i <= PROTO_OUTPUTS_MAX + 1; i++)
		buf_printf(&b, "%s{\"output\":\"o%u\",\"up\":true}", i ? "," : "", i);
	buf_append_char(&b, ']');
	return buf_detach(&b, NULL);
}

static const struct reject_case reply_rejects[] = {
	{ "version 2", "version", "2", NULL, -ONAIR_EPROTO_VERSION, "version: 2 is newer" },
	R("type event", "type", "\"event\"", "type: must be \"reply\""),
	R("command_id missing", "command_id", NULL, "command_id: required"),
	R("command_id bad", "command_id", "\"req 1\"", "command_id: must match"),
	R("instance bad", "instance", "\"a:b\"", "instance: must match [A-Za-z0-9_-]{1,64}"),
	R("ok missing", "ok", NULL, "ok: required"),
	R("ok number", "ok", "0", "ok: must be true or false"),
	R("status array", "status", "[]", "status: must be an object"),
	R("status source missing", "status.source", NULL, "status.source: required"),
	R("status source unknown", "status.source", "\"x\"", "status.source: must be one of"),
	R("status on_air_item_id negative", "status.on_air_item_id", "-1",
	  "status.on_air_item_id: must be >= 0"),
	R("status next_start missing", "status.next_start", NULL, "status.next_start: required"),
	R("status next_start bad", "status.next_start", "\"soon\"",
	  "status.next_start: must be an RFC 3339 date-time"),
	R("status cache_ready negative", "status.cache_ready", "-1",
	  "status.cache_ready: must be 0..4294967295"),
	R("status cache_missing too big", "status.cache_missing", "4294967296",
	  "status.cache_missing: must be 0..4294967295"),
	R("status outputs object", "status.outputs", "{}", "status.outputs: must be an array"),
	R("status output not object", "status.outputs.1", "\"hls\"",
	  "status.outputs[1]: must be an object"),
	R("status output up missing", "status.outputs.1.up", NULL,
	  "status.outputs[1].up: required"),
	R("status output name empty", "status.outputs.0.output", "\"\"",
	  "status.outputs[0].output: must not be empty"),
	{ "status outputs too many", "status.outputs", NULL, gen_too_many_status_outputs, 0,
	  "status.outputs: more than 17 elements" },
};

static const struct reject_case reply_error_rejects[] = {
	R("error missing when not ok", "error", NULL, "error: required"),
	R("error empty when not ok", "error", "\"\"", "error: must not be empty"),
	R("error number", "error", "1", "error: must be a string"),
};

static char *reply_json(bool ok, bool with_status)
{
	struct proto_reply r;
	struct buf b;
	fix_reply(&r, ok, with_status);
	buf_init(&b, 1 << 20);
	if (proto_reply_encode(&r, &b) < 0)
		abort();
	proto_reply_release(&r);
	return buf_detach(&b, NULL);
}

/* ------------------------------------------------------------------- tasks */

static void test_task_round_trip_every_kind(void **state)
{
	static const char *const expect[PROTO_TASK__COUNT] = {
		[PROTO_TASK_ANALYZE_FILE] = "\"task\":\"analyze_file\","
					    "\"created_at\":\"2026-11-28T09:59:59.999999Z\","
					    "\"file_id\":501}",
		[PROTO_TASK_POLL_PODCAST] = "\"task\":\"poll_podcast\","
					    "\"created_at\":\"2026-11-28T09:59:59.999999Z\","
					    "\"podcast_id\":9}",
		[PROTO_TASK_INGEST_EPISODE] = "\"task\":\"ingest_episode\","
					      "\"created_at\":\"2026-11-28T09:59:59.999999Z\","
					      "\"podcast_id\":9,"
					      "\"episode_id\":9223372036854775807}",
	};
	for (int k = 0; k < PROTO_TASK__COUNT; k++) {
		struct proto_task t;
		char *json;
		char want[256];
		fix_task(&t, (enum proto_task_kind)k);
		ROUND_TRIP(task, &t, &json);
		snprintf(want, sizeof(want),
			 "{\"type\":\"task\",\"version\":1,\"id\":\"task.01J9Z3:analyze-1\",%s",
			 expect[k]);
		assert_string_equal(json, want);
		free(json);
		proto_task_release(&t);
	}
}

static const struct reject_case ingest_rejects[] = {
	{ "version 2", "version", "2", NULL, -ONAIR_EPROTO_VERSION, "version: 2 is newer" },
	R("type snapshot", "type", "\"snapshot\"", "type: must be \"task\""),
	R("id bad", "id", "\"x y\"", "id: must match [A-Za-z0-9_.:-]{1,64}"),
	R("task unknown", "task", "\"transcode\"",
	  "task: must be one of: analyze_file, poll_podcast, ingest_episode"),
	R("created_at missing", "created_at", NULL, "created_at: required"),
	R("created_at number", "created_at", "0", "created_at: must be a string"),
	R("podcast_id missing", "podcast_id", NULL, "podcast_id: required"),
	R("podcast_id 0", "podcast_id", "0", "podcast_id: must be >= 1"),
	R("episode_id negative", "episode_id", "-1", "episode_id: must be >= 1"),
	R("episode_id string", "episode_id", "\"7\"", "episode_id: must be an integer"),
};

static const struct reject_case analyze_rejects[] = {
	R("file_id missing", "file_id", NULL, "file_id: required"),
	R("file_id 0", "file_id", "0", "file_id: must be >= 1"),
};

static char *task_json(enum proto_task_kind k)
{
	struct proto_task t;
	struct buf b;
	fix_task(&t, k);
	buf_init(&b, 1 << 20);
	if (proto_task_encode(&t, &b) < 0)
		abort();
	proto_task_release(&t);
	return buf_detach(&b, NULL);
}

/* ----------------------------------------------------------- message type */

static void test_message_type(void **state)
{
	char out[16];
	static const char *const ok[][2] = {
		{ "{\"type\":\"snapshot\"}", "snapshot" },
		{ "{\"version\":9,\"type\":\"event\",\"x\":[1]}", "event" },
		{ "{\"type\":\"command\"}", "command" },
		{ "{\"type\":\"reply\"}", "reply" },
		{ "{\"type\":\"task\"}", "task" },
		{ "{\"type\":\"future_thing\"}", "future_thing" },
	};
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		assert_int_equal(proto_message_type(ok[i][0], strlen(ok[i][0]), out, sizeof(out)),
				 0);
		assert_string_equal(out, ok[i][1]);
	}
	static const char *const bad[] = {
		"", "{", "[]", "{\"type\":1}", "{\"type\":\"\"}", "{\"kind\":\"event\"}",
		"{\"type\":\"a_type_name_that_is_too_long\"}", "{\"type\":\"a\",\"type\":\"b\"}",
		"{\"type\":\"ev\\u0000nt\"}", "\"event\"",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(proto_message_type(bad[i], strlen(bad[i]), out, sizeof(out)),
				 -EINVAL);
		assert_string_equal(out, "");
	}
	/* Truncated to the given length. */
	assert_int_equal(proto_message_type("{\"type\":\"task\"}xyz", 15, out, sizeof(out)), 0);
	assert_string_equal(out, "task");
	/* Every encoder's output says its own type. */
	char *json = event_json(PROTO_EV_HEARTBEAT);
	assert_int_equal(proto_message_type(json, strlen(json), out, sizeof(out)), 0);
	assert_string_equal(out, "event");
	free(json);
	json = task_json(PROTO_TASK_POLL_PODCAST);
	assert_int_equal(proto_message_type(json, strlen(json), out, sizeof(out)), 0);
	assert_string_equal(out, "task");
	free(json);
}

static void test_names(void **state)
{
	assert_string_equal(proto_item_kind_name(PROTO_ITEM_SILENCE), "silence");
	assert_string_equal(proto_event_kind_name(PROTO_EV_CACHE_MISSING), "cache_missing");
	assert_string_equal(proto_source_name(PROTO_SRC_MAIN_LIVE), "main_live");
	assert_string_equal(proto_end_reason_name(PROTO_END_CUT), "cut");
	assert_string_equal(proto_command_kind_name(PROTO_CMD_DISCONNECT_LIVE), "disconnect_live");
	assert_string_equal(proto_task_kind_name(PROTO_TASK_INGEST_EPISODE), "ingest_episode");
	assert_string_equal(proto_format_name(PROTO_FORMAT_VORBIS), "vorbis");
	assert_string_equal(proto_live_input_name(PROTO_LIVE_SHOW), "show");
	assert_string_equal(proto_event_kind_name(PROTO_EV__COUNT), "?");
	assert_string_equal(proto_source_name((enum proto_source)-1), "?");
	assert_string_equal(proto_format_name((enum proto_format)4), "?");
}

/* Wrong-type and oversize input for every decoder. */
static void test_envelope_every_decoder(void **state)
{
	const struct codec *codecs[] = { &codec_event, &codec_command, &codec_reply, &codec_task };
	size_t big_len = (size_t)PROTO_MESSAGE_MAX + 1;
	char *big = xcalloc(1, big_len);
	for (size_t i = 0; i < 4; i++) {
		void *msg = xcalloc(1, codecs[i]->size);
		struct proto_error err;
		assert_int_equal(codecs[i]->decode(big, big_len, msg, &err), -E2BIG);
		assert_int_equal(codecs[i]->decode("{\"type\":", 8, msg, &err), -EINVAL);
		assert_non_null(strstr(err.text, "invalid JSON at line 1"));
		const char *v2 = "{\"version\":2}";
		assert_int_equal(codecs[i]->decode(v2, strlen(v2), msg, &err),
				 -ONAIR_EPROTO_VERSION);
		assert_string_equal(err.text, "version: 2 is newer than the supported version 1");
		free(msg);
	}
	free(big);
}

#define RUN(group, codec, base, rows)                                                    \
	do {                                                                             \
		char *b_ = (base);                                                       \
		failed += run_reject_group(group, codec, b_, rows,                       \
					   sizeof(rows) / sizeof((rows)[0]));            \
		free(b_);                                                                \
	} while (0)

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_event_round_trip_every_kind),
		cmocka_unit_test(test_event_inapplicable_fields),
		cmocka_unit_test(test_command_round_trip_every_kind),
		cmocka_unit_test(test_command_validate),
		cmocka_unit_test(test_reply_round_trip),
		cmocka_unit_test(test_task_round_trip_every_kind),
		cmocka_unit_test(test_message_type),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_envelope_every_decoder),
	};
	int failed = cmocka_run_group_tests_name("messages", tests, NULL, NULL);
	RUN("event-item_started-reject", &codec_event, event_json(PROTO_EV_ITEM_STARTED),
	    item_started_rejects);
	RUN("event-item_ended-reject", &codec_event, event_json(PROTO_EV_ITEM_ENDED),
	    item_ended_rejects);
	RUN("event-source_changed-reject", &codec_event, event_json(PROTO_EV_SOURCE_CHANGED),
	    source_changed_rejects);
	RUN("event-live_connected-reject", &codec_event, event_json(PROTO_EV_LIVE_CONNECTED),
	    live_rejects);
	RUN("event-output_down-reject", &codec_event, event_json(PROTO_EV_OUTPUT_DOWN),
	    output_rejects);
	RUN("event-cache_missing-reject", &codec_event, event_json(PROTO_EV_CACHE_MISSING),
	    cache_missing_rejects);
	RUN("command-source-reject", &codec_command, command_json(PROTO_CMD_SOURCE),
	    command_rejects);
	RUN("command-disconnect_live-reject", &codec_command,
	    command_json(PROTO_CMD_DISCONNECT_LIVE), disconnect_rejects);
	RUN("reply-status-reject", &codec_reply, reply_json(true, true), reply_rejects);
	RUN("reply-error-reject", &codec_reply, reply_json(false, false), reply_error_rejects);
	RUN("task-ingest_episode-reject", &codec_task, task_json(PROTO_TASK_INGEST_EPISODE),
	    ingest_rejects);
	RUN("task-analyze_file-reject", &codec_task, task_json(PROTO_TASK_ANALYZE_FILE),
	    analyze_rejects);
	return failed ? 1 : 0;
}
