/*
 * command.c - playout commands and their replies: decoders, validators,
 * encoders.
 */
#include "protocol/protocol.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "protocol/json_util.h"

#define ID_EXTRA "_.:-"
#define ID_MAX 64
#define INSTANCE_MAX 64
#define STATUS_OUTPUTS_MAX (PROTO_OUTPUTS_MAX + 1)	/* the Icecast mounts and HLS */

/* ---------------------------------------------------------------- commands */

static bool is_switchable_source(enum proto_source s)
{
	return s == PROTO_SRC_SCHEDULE || s == PROTO_SRC_SHOW_LIVE || s == PROTO_SRC_MAIN_LIVE;
}

void proto_command_release(struct proto_command *c)
{
	free(c->id);
	memset(c, 0, sizeof(*c));
}

int proto_command_validate(const struct proto_command *c, struct proto_error *err)
{
	int rc;
	if ((rc = pv_token(c->id, ID_EXTRA, ID_MAX, "", "id", err)) < 0 ||
	    (rc = pv_enum((int)c->kind, PROTO_CMD__COUNT, "", "command", err)) < 0)
		return rc;
	if (c->kind == PROTO_CMD_SOURCE && !is_switchable_source(c->source))
		return perr(err, "source: must be one of: schedule, show_live, main_live");
	if (c->kind == PROTO_CMD_DISCONNECT_LIVE &&
	    (rc = pv_enum((int)c->input, PROTO_LIVE_INPUTS, "", "input", err)) < 0)
		return rc;
	return 0;
}

static int read_command(json_t *root, struct proto_command *c, struct proto_error *err)
{
	int kind = 0, v = 0;
	int rc;
	if ((rc = jr_string(root, "", "id", true, &c->id, err)) < 0 ||
	    (rc = jr_enum(root, "", "command", true, proto_command_kind_names, PROTO_CMD__COUNT,
			  &kind, err)) < 0)
		return rc;
	c->kind = (enum proto_command_kind)kind;
	if (c->kind == PROTO_CMD_SOURCE) {
		if ((rc = jr_enum(root, "", "source", true, proto_source_names, PROTO_SRC__COUNT,
				  &v, err)) < 0 ||
		    (rc = jr_bool(root, "", "enabled", true, &c->enabled, err)) < 0)
			return rc;
		c->source = (enum proto_source)v;
	}
	if (c->kind == PROTO_CMD_DISCONNECT_LIVE) {
		if ((rc = jr_enum(root, "", "input", true, proto_live_input_names,
				  PROTO_LIVE_INPUTS, &v, err)) < 0)
			return rc;
		c->input = (enum proto_live_input)v;
	}
	return 0;
}

int proto_command_decode(const char *json, size_t len, struct proto_command *out,
			 struct proto_error *err)
{
	json_t *root;
	memset(out, 0, sizeof(*out));
	int rc = jr_load(json, len, "command", &root, err);
	if (rc < 0)
		return rc;
	if ((rc = read_command(root, out, err)) < 0 ||
	    (rc = proto_command_validate(out, err)) < 0)
		goto out_release;
	json_decref(root);
	return 0;

out_release:
	proto_command_release(out);
	json_decref(root);
	return rc;
}

int proto_command_encode(const struct proto_command *c, struct buf *out)
{
	if (proto_command_validate(c, NULL) < 0)
		return -EINVAL;
	struct jw w;
	jw_init(&w, out);
	jw_object_begin(&w, NULL);
	jw_string(&w, "type", "command");
	jw_int(&w, "version", PROTO_VERSION);
	jw_string(&w, "id", c->id);
	jw_string(&w, "command", proto_command_kind_name(c->kind));
	if (c->kind == PROTO_CMD_SOURCE) {
		jw_string(&w, "source", proto_source_name(c->source));
		jw_bool(&w, "enabled", c->enabled);
	}
	if (c->kind == PROTO_CMD_DISCONNECT_LIVE)
		jw_string(&w, "input", proto_live_input_name(c->input));
	jw_object_end(&w);
	return jw_finish(&w);
}

/* ----------------------------------------------------------------- replies */

void proto_reply_release(struct proto_reply *r)
{
	free(r->command_id);
	free(r->instance);
	free(r->error);
	for (size_t i = 0; i < r->status.n_outputs; i++)
		free(r->status.outputs[i].output);
	free(r->status.outputs);
	memset(r, 0, sizeof(*r));
}

static int validate_status(const struct proto_status *st, struct proto_error *err)
{
	int rc;
	if (st->snapshot_revision > INT64_MAX)
		return perr(err, "status.snapshot_revision: must be 0..%lld", (long long)INT64_MAX);
	if ((rc = pv_enum((int)st->source, PROTO_SRC__COUNT, "status", "source", err)) < 0 ||
	    (rc = pv_range(st->on_air_item_id, 0, INT64_MAX, "status", "on_air_item_id",
			   err)) < 0 ||
	    (rc = pv_range(st->next_item_id, 0, INT64_MAX, "status", "next_item_id", err)) < 0)
		return rc;
	if (st->next_item_id && (rc = pv_instant(st->next_start, "status", "next_start", err)) < 0)
		return rc;
	if (st->n_outputs > STATUS_OUTPUTS_MAX)
		return perr(err, "status.outputs: more than %u elements", STATUS_OUTPUTS_MAX);
	if (st->n_outputs && !st->outputs)
		return perr(err, "status.outputs: missing");
	for (size_t i = 0; i < st->n_outputs; i++) {
		char p[PATH_MAX_LEN];
		path_index(p, sizeof(p), "status", "outputs", i);
		if ((rc = pv_text(st->outputs[i].output, PROTO_STRING_MAX,
				  PV_REQUIRED | PV_NONEMPTY | PV_NOCTL, p, "output", err)) < 0)
			return rc;
	}
	return 0;
}

int proto_reply_validate(const struct proto_reply *r, struct proto_error *err)
{
	int rc;
	if ((rc = pv_token(r->command_id, ID_EXTRA, ID_MAX, "", "command_id", err)) < 0 ||
	    (rc = pv_token(r->instance, "_-", INSTANCE_MAX, "", "instance", err)) < 0)
		return rc;
	if (!r->ok && (rc = pv_text(r->error, PROTO_STRING_MAX, PV_REQUIRED | PV_NONEMPTY, "",
				    "error", err)) < 0)
		return rc;
	if (r->has_status && (rc = validate_status(&r->status, err)) < 0)
		return rc;
	return 0;
}

static int read_status_output(json_t *obj, const char *p, struct proto_output_status *o,
			      struct proto_error *err)
{
	int rc;
	if ((rc = jr_element_object(obj, p, err)) < 0 ||
	    (rc = jr_string(obj, p, "output", true, &o->output, err)) < 0 ||
	    (rc = jr_bool(obj, p, "up", true, &o->up, err)) < 0)
		return rc;
	return 0;
}

static int read_status(json_t *obj, struct proto_status *st, struct proto_error *err)
{
	const char *p = "status";
	int64_t ready = 0, missing = 0;
	int v = 0;
	json_t *outputs;
	int rc;
	if ((rc = jr_uint64(obj, p, "snapshot_revision", false, &st->snapshot_revision,
			    err)) < 0 ||
	    (rc = jr_enum(obj, p, "source", true, proto_source_names, PROTO_SRC__COUNT, &v,
			  err)) < 0 ||
	    (rc = jr_int(obj, p, "on_air_item_id", false, INT64_MIN, INT64_MAX,
			 &st->on_air_item_id, err)) < 0 ||
	    (rc = jr_int(obj, p, "next_item_id", false, INT64_MIN, INT64_MAX, &st->next_item_id,
			 err)) < 0)
		return rc;
	st->source = (enum proto_source)v;
	if (st->next_item_id &&
	    (rc = jr_instant(obj, p, "next_start", true, &st->next_start, err)) < 0)
		return rc;
	if ((rc = jr_int(obj, p, "cache_ready", false, 0, UINT32_MAX, &ready, err)) < 0 ||
	    (rc = jr_int(obj, p, "cache_missing", false, 0, UINT32_MAX, &missing, err)) < 0 ||
	    (rc = jr_array(obj, p, "outputs", false, STATUS_OUTPUTS_MAX, &outputs, err)) < 0)
		return rc;
	st->cache_ready = (uint32_t)ready;
	st->cache_missing = (uint32_t)missing;
	size_t n = json_array_size(outputs);
	if (n == 0)
		return 0;
	st->outputs = xcalloc(n, sizeof(*st->outputs));
	st->n_outputs = n;
	for (size_t i = 0; i < n; i++) {
		char op[PATH_MAX_LEN];
		path_index(op, sizeof(op), p, "outputs", i);
		if ((rc = read_status_output(json_array_get(outputs, i), op, &st->outputs[i],
					     err)) < 0)
			return rc;
	}
	return 0;
}

static int read_reply(json_t *root, struct proto_reply *r, struct proto_error *err)
{
	json_t *status;
	int rc;
	if ((rc = jr_string(root, "", "command_id", true, &r->command_id, err)) < 0 ||
	    (rc = jr_string(root, "", "instance", true, &r->instance, err)) < 0 ||
	    (rc = jr_bool(root, "", "ok", true, &r->ok, err)) < 0)
		return rc;
	if (!r->ok && (rc = jr_string(root, "", "error", true, &r->error, err)) < 0)
		return rc;
	if ((rc = jr_object(root, "", "status", false, &status, err)) < 0 || !status)
		return rc;
	r->has_status = true;
	return read_status(status, &r->status, err);
}

int proto_reply_decode(const char *json, size_t len, struct proto_reply *out,
		       struct proto_error *err)
{
	json_t *root;
	memset(out, 0, sizeof(*out));
	int rc = jr_load(json, len, "reply", &root, err);
	if (rc < 0)
		return rc;
	if ((rc = read_reply(root, out, err)) < 0 || (rc = proto_reply_validate(out, err)) < 0)
		goto out_release;
	json_decref(root);
	return 0;

out_release:
	proto_reply_release(out);
	json_decref(root);
	return rc;
}

static void write_status(struct jw *w, const struct proto_status *st)
{
	jw_object_begin(w, "status");
	jw_uint64(w, "snapshot_revision", st->snapshot_revision);
	jw_string(w, "source", proto_source_name(st->source));
	jw_int(w, "on_air_item_id", st->on_air_item_id);
	jw_int(w, "next_item_id", st->next_item_id);
	if (st->next_item_id)
		jw_instant(w, "next_start", st->next_start);
	jw_int(w, "cache_ready", st->cache_ready);
	jw_int(w, "cache_missing", st->cache_missing);
	jw_array_begin(w, "outputs");
	for (size_t i = 0; i < st->n_outputs; i++) {
		jw_object_begin(w, NULL);
		jw_string(w, "output", st->outputs[i].output);
		jw_bool(w, "up", st->outputs[i].up);
		jw_object_end(w);
	}
	jw_array_end(w);
	jw_object_end(w);
}

int proto_reply_encode(const struct proto_reply *r, struct buf *out)
{
	if (proto_reply_validate(r, NULL) < 0)
		return -EINVAL;
	struct jw w;
	jw_init(&w, out);
	jw_object_begin(&w, NULL);
	jw_string(&w, "type", "reply");
	jw_int(&w, "version", PROTO_VERSION);
	jw_string(&w, "command_id", r->command_id);
	jw_string(&w, "instance", r->instance);
	jw_bool(&w, "ok", r->ok);
	if (!r->ok)
		jw_string(&w, "error", r->error);
	if (r->has_status)
		write_status(&w, &r->status);
	jw_object_end(&w);
	return jw_finish(&w);
}
