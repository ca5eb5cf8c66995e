/*
 * commands.c - POST /api/v1/playout/commands: an operator's command
 * (skip, a source switch, disconnecting a DJ, reload, status) sent to
 * every playout instance, or one, over the queue (protocol v1 command on
 * onair.playout.cmd[.<instance>]), answered with each instance's reply.
 *
 * The wait ends when every instance the live status knows as healthy has
 * answered (one, for a named instance), or after COMMAND_WAIT_US: an
 * instance that is up but has not sent an event yet is then still heard.
 *
 * Program managers and admins may send any command. A host may skip,
 * switch the show input and disconnect the show input's DJ while a show
 * they host is on air (what LibreTime lets a DJ do during their show);
 * status is theirs to ask for at any time.
 */
#include "api/resources.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api/audit.h"
#include "api/body.h"
#include "api/live.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/timeutil.h"
#include "db/db.h"
#include "mq/mq.h"
#include "protocol/protocol.h"

#define COMMAND_WAIT_US (INT64_C(2) * 1000000)
#define REPLIES_MAX 64

struct collected {
	const char *id;		/* the command's id: other replies are ignored */
	size_t expected;	/* stop after this many replies; 0: wait the whole time */
	size_t n;
	json_t *replies;	/* array */
};

static const struct {
	const char *name;
	enum proto_command_kind kind;
} command_names[] = {
	{ "skip", PROTO_CMD_SKIP },
	{ "source", PROTO_CMD_SOURCE },
	{ "disconnect_live", PROTO_CMD_DISCONNECT_LIVE },
	{ "reload", PROTO_CMD_RELOAD },
	{ "status", PROTO_CMD_STATUS },
};

static const struct {
	const char *name;
	enum proto_source source;
} source_names[] = {
	{ "schedule", PROTO_SRC_SCHEDULE },
	{ "show_live", PROTO_SRC_SHOW_LIVE },
	{ "main_live", PROTO_SRC_MAIN_LIVE },
};

static const struct {
	const char *name;
	enum proto_live_input input;
} input_names[] = {
	{ "main", PROTO_LIVE_MAIN },
	{ "show", PROTO_LIVE_SHOW },
};

#define FIND(table, text, member, out)                                                  \
	do {                                                                            \
		for (size_t i_ = 0; i_ < sizeof(table) / sizeof(table[0]); i_++)        \
			if (strcmp(table[i_].name, (text)) == 0) {                      \
				*(out) = table[i_].member;                              \
				found = true;                                           \
			}                                                               \
	} while (0)

static bool instance_name_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 64)
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-'))
			return false;
	}
	return true;
}

/*
 * Read the body into cmd and *instance (NULL: every instance). false with
 * res filled (422 naming each member at fault).
 */
static bool read_command(struct api_request *req, struct api_response *res,
			 struct proto_command *cmd, const char **instance, json_t **body_out)
{
	static const char *const allowed[] = { "command", "source", "enabled", "input",
					       "instance", NULL };
	json_t *body = body_object(req, res);
	if (!body)
		return false;
	struct field_errors fe = { 0 };
	body_only(body, allowed, &fe);
	const char *verb = NULL, *source = NULL, *input = NULL;
	bool found;
	*instance = NULL;
	if (body_text(body, "command", 32, &verb, &fe) == 0)
		field_error(&fe, "command", "is required");
	if (verb) {
		found = false;
		FIND(command_names, verb, kind, &cmd->kind);
		if (!found)
			field_error(&fe, "command", "must be one of skip, source, disconnect_live,"
				    " reload, status");
	}
	int has_source = body_text(body, "source", 32, &source, &fe);
	int has_enabled = body_bool(body, "enabled", &cmd->enabled, &fe);
	int has_input = body_text(body, "input", 32, &input, &fe);
	if (body_text(body, "instance", 64, instance, &fe) == 1 && !instance_name_ok(*instance))
		field_error(&fe, "instance", "must be 1 to 64 of A-Z, a-z, 0-9, _ and -");
	bool is_source = verb && strcmp(verb, "source") == 0;
	bool is_disconnect = verb && strcmp(verb, "disconnect_live") == 0;
	if (is_source && has_source == 0)
		field_error(&fe, "source", "is required for the source command");
	if (is_source && has_enabled == 0)
		field_error(&fe, "enabled", "is required for the source command");
	if (!is_source && has_source == 1)
		field_error(&fe, "source", "is only for the source command");
	if (!is_source && has_enabled == 1)
		field_error(&fe, "enabled", "is only for the source command");
	if (source) {
		found = false;
		FIND(source_names, source, source, &cmd->source);
		if (!found)
			field_error(&fe, "source", "must be one of schedule, show_live, main_live");
	}
	if (is_disconnect && has_input == 0)
		field_error(&fe, "input", "is required for the disconnect_live command");
	if (!is_disconnect && has_input == 1)
		field_error(&fe, "input", "is only for the disconnect_live command");
	if (input) {
		found = false;
		FIND(input_names, input, input, &cmd->input);
		if (!found)
			field_error(&fe, "input", "must be main or show");
	}
	if (field_errors_any(&fe)) {
		problem_fields(res, &fe);
		json_decref(body);
		return false;
	}
	*body_out = body;
	return true;
}

/*
 * Whether a host may send cmd now: status always; skip, the show input
 * switch and disconnecting the show input's DJ while a show they host is
 * on air. 0, or -1 with res filled (403, or the database's error).
 */
static int host_may_command(struct api_request *req, const struct proto_command *cmd,
			    struct api_response *res)
{
	if (req->caller.role >= ROLE_PM || cmd->kind == PROTO_CMD_STATUS)
		return 0;
	bool show_scope = cmd->kind == PROTO_CMD_SKIP ||
			  (cmd->kind == PROTO_CMD_SOURCE && cmd->source == PROTO_SRC_SHOW_LIVE) ||
			  (cmd->kind == PROTO_CMD_DISCONNECT_LIVE && cmd->input == PROTO_LIVE_SHOW);
	if (!show_scope) {
		problem(res, 403, "only a program manager may send this command");
		return -1;
	}
	if (schedule_materialise(req, req->now, req->now + 1, res) < 0)
		return -1;
	int64_t show;
	int r = db_query_int(req->db, "SELECT i.show_id FROM show_instances i"
			     " JOIN show_hosts h ON h.show_id = i.show_id"
			     " WHERE i.starts_at <= $1 AND i.ends_at > $1 AND h.user_id = $2"
			     " LIMIT 1", DB_PARAMS(DB_I(req->now), DB_I(req->caller.user_id)),
			     &show);
	if (r == 0)
		return 0;
	if (r == -ENOENT)
		problem(res, 403, "a host may send this command only while a show they host is"
			" on air");
	else
		problem_errno(res, r, "the shows on air", NULL);
	return -1;
}

static json_t *status_json(const struct proto_status *st)
{
	json_t *o = json_pack("{s:I, s:s, s:I, s:I}",
			      "snapshot_revision", (json_int_t)st->snapshot_revision,
			      "source", proto_source_name(st->source),
			      "cache_ready", (json_int_t)st->cache_ready,
			      "cache_missing", (json_int_t)st->cache_missing);
	json_object_set_new(o, "on_air_item_id", st->on_air_item_id ?
			    json_integer(st->on_air_item_id) : json_null());
	json_object_set_new(o, "next_item_id", st->next_item_id ?
			    json_integer(st->next_item_id) : json_null());
	json_object_set_new(o, "next_start", st->next_item_id ? json_time(st->next_start) :
			    json_null());
	json_t *outputs = json_array();
	for (size_t i = 0; i < st->n_outputs; i++)
		json_array_append_new(outputs, json_pack("{s:s, s:b}", "output",
							 st->outputs[i].output, "up",
							 st->outputs[i].up));
	json_object_set_new(o, "outputs", outputs);
	return o;
}

static bool on_reply(void *userdata, const char *data, size_t len)
{
	struct collected *c = userdata;
	struct proto_reply rep = { 0 };
	struct proto_error err;
	if (proto_reply_decode(data, len, &rep, &err) < 0 || strcmp(rep.command_id, c->id) != 0 ||
	    c->n >= REPLIES_MAX) {
		proto_reply_release(&rep);
		return true;
	}
	json_t *o = json_pack("{s:s, s:b}", "instance", rep.instance, "ok", rep.ok);
	json_object_set_new(o, "error", rep.ok ? json_null() : json_string(rep.error));
	json_object_set_new(o, "status", rep.has_status ? status_json(&rep.status) : json_null());
	json_array_append_new(c->replies, o);
	c->n++;
	proto_reply_release(&rep);
	return c->expected == 0 || c->n < c->expected;
}

static int by_instance(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	return strcmp(json_string_value(json_object_get(x, "instance")),
		      json_string_value(json_object_get(y, "instance")));
}

/* The replies sorted by instance name (a new array). */
static json_t *sorted(json_t *replies)
{
	size_t n = json_array_size(replies);
	json_t **v = n ? xcalloc(n, sizeof(*v)) : NULL;
	json_t *out = json_array();
	for (size_t i = 0; i < n; i++)
		v[i] = json_array_get(replies, i);
	qsort(v, n, sizeof(*v), by_instance);
	for (size_t i = 0; i < n; i++)
		json_array_append(out, v[i]);
	free(v);
	return out;
}

void playout_command_send(struct api_request *req, struct api_response *res)
{
	struct proto_command cmd = { 0 };
	const char *instance;
	json_t *body = NULL;
	if (!need_queue(req, res) || !read_command(req, res, &cmd, &instance, &body))
		return;
	if (host_may_command(req, &cmd, res) < 0)
		goto out_body;

	char id[64];
	unsigned char rnd[6];
	randombytes_buf(rnd, sizeof(rnd));
	snprintf(id, sizeof(id), "api-%" PRId64 "-%02x%02x%02x%02x%02x%02x", req->now, rnd[0],
		 rnd[1], rnd[2], rnd[3], rnd[4], rnd[5]);
	cmd.id = id;
	struct buf msg;
	buf_init(&msg, 4096);
	int r = proto_command_encode(&cmd, &msg);
	if (r < 0) {
		problem_errno(res, r, "the command", NULL);
		goto out_msg;
	}
	char subject[160];
	r = mq_command_subject(instance, subject, sizeof(subject));	/* names are <= 64 */
	if (r < 0) {
		problem_errno(res, r, "the command's subject", NULL);
		goto out_msg;
	}
	struct collected c = {
		.id = id,
		.expected = instance ? 1 : live_status_healthy(req->ctx->live, req->now),
		.replies = json_array(),
	};
	int64_t t0 = time_mono_us();
	r = mq_request_many(req->ctx->mq, subject, msg.data, msg.len, COMMAND_WAIT_US, on_reply,
			    &c);
	int64_t waited = time_mono_us() - t0;
	audit(req, "command", "playout", 0, msg.data);
	if (r < 0) {
		problem_errno(res, r, "the message queue", NULL);
	} else if (c.n == 0) {
		if (instance)
			problem(res, 503, "playout instance %s did not answer", instance);
		else
			problem(res, 503, "no playout instance answered");
		api_response_header(res, "Retry-After", "5");
	} else {
		bool all_ok = true;
		size_t i;
		json_t *v;
		json_array_foreach(c.replies, i, v)
			all_ok = all_ok && json_is_true(json_object_get(v, "ok"));
		json_t *doc = json_pack("{s:s, s:s, s:b, s:o, s:I}", "id", id, "command",
					proto_command_kind_name(cmd.kind), "ok", all_ok,
					"replies", sorted(c.replies), "waited_us",
					(json_int_t)waited);
		api_response_json(res, 200, doc);
	}
	json_decref(c.replies);
out_msg:
	buf_release(&msg);
out_body:
	json_decref(body);
}
