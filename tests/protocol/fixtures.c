#include "fixtures.h"

#include <errno.h>
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/alloc.h"
#include "common/error.h"

#define HASH_A "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HASH_B "sha256:fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210"

/* ---------------------------------------------------------------- builders */

static void fix_media(struct proto_media *m, int64_t id, const char *hash, int64_t duration,
		      const char *mime)
{
	m->id = id;
	m->hash = xstrdup(hash);
	m->size = 4 * 1000 * 1000 + id;
	m->duration = duration;
	m->mime = mime ? xstrdup(mime) : NULL;
}

void fix_snapshot(struct proto_snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->revision = 42;
	s->generated_at = FIX_T0 - SEC(3600) + 123456;
	s->station_name = xstrdup("Radio \"Zw\xc3\xb6lf\" \xe2\x98\x83");
	s->timezone = xstrdup("Europe/Berlin");
	s->window_start = FIX_T0 - SEC(60);
	s->window_end = FIX_T0 + SEC(86400);
	s->default_crossfade = SEC(2.5);

	s->n_items = 4;
	s->items = xcalloc(4, sizeof(*s->items));
	struct proto_item *it = &s->items[0];
	it->id = 1001;
	it->kind = PROTO_ITEM_FILE;
	it->start = FIX_T0;
	it->end = FIX_T0 + SEC(180);
	fix_media(&it->media, 501, HASH_A, SEC(185.5) + 7, "audio/mpeg");
	it->cue_in = SEC(0.25);
	it->cue_out = SEC(180.25);
	it->fade_in = SEC(0.5);
	it->fade_out = SEC(2);
	it->crossfade = 0;
	it->gain_db = -3.5;
	it->meta.title = xstrdup("T\xc3\xadtulo \"quoted\" \\ back\nslash\t\x01 \xf0\x9d\x84\x9e");
	it->meta.artist = xstrdup("Artist");
	it->meta.album = xstrdup("");
	it->show.id = 7;
	it->show.instance_id = 77;
	it->show.name = xstrdup("Morning Show");

	it = &s->items[1];
	it->id = 1002;
	it->kind = PROTO_ITEM_WEBSTREAM;
	it->start = FIX_T0 + SEC(178.5);
	it->end = FIX_T0 + SEC(3600);
	it->url = xstrdup("https://relay.example.org:8443/stream?id=1&x=%20");
	it->fade_in = 1;
	it->fade_out = SEC(1.000001);
	it->crossfade = SEC(1.5);
	it->gain_db = 0.1;
	it->meta.title = xstrdup("Relay");

	it = &s->items[2];
	it->id = 1003;
	it->kind = PROTO_ITEM_LIVE;
	it->start = FIX_T0 + SEC(3600);
	it->end = FIX_T0 + SEC(7200);
	it->gain_db = 24;
	it->show.id = 8;
	it->show.instance_id = 88;

	it = &s->items[3];
	it->id = 3;
	it->kind = PROTO_ITEM_SILENCE;
	it->start = FIX_T0 + SEC(7200);
	it->end = FIX_T0 + SEC(7260);
	it->gain_db = -60;

	s->n_fallback = 2;
	s->fallback = xcalloc(2, sizeof(*s->fallback));
	fix_media(&s->fallback[0].media, 601, HASH_B, SEC(240), "audio/ogg");
	s->fallback[0].gain_db = -1.25;
	s->fallback[0].meta.title = xstrdup("Fallback one");
	s->fallback[0].meta.artist = xstrdup("House band");
	fix_media(&s->fallback[1].media, 602, HASH_A, 999999, NULL);

	struct proto_live_input_cfg *in = &s->live[PROTO_LIVE_MAIN];
	in->enabled = true;
	in->mount = xstrdup("main");
	in->fade = SEC(3);
	in->n_users = 2;
	in->users = xcalloc(2, sizeof(*in->users));
	in->users[0].name = xstrdup("anna");
	in->users[0].password_hash = xstrdup("$argon2id$v=19$m=65536,t=2,p=1$c29tZXNhbHQ"
					     "$RdescudvJCsgt3ub+b+dWRWJTmaaJObG");
	in->users[0].valid_from = FIX_T0 - SEC(86400);
	in->users[0].valid_until = FIX_T0 + SEC(86400);
	in->users[1].name = xstrdup("bob");
	in->users[1].password_hash = xstrdup("$argon2i$v=19$m=4096,t=3,p=1$c2FsdA$aGFzaA");
	in = &s->live[PROTO_LIVE_SHOW];
	in->enabled = false;
	in->mount = xstrdup("show");
	in->fade = SEC(0.75);

	s->n_outputs = 4;
	s->outputs = xcalloc(4, sizeof(*s->outputs));
	s->outputs[0] = (struct proto_output){ xstrdup("/live.mp3"), PROTO_FORMAT_MP3, 128,
					       xstrdup("Radio (MP3)") };
	s->outputs[1] = (struct proto_output){ xstrdup("/live.ogg"), PROTO_FORMAT_VORBIS, 160,
					       NULL };
	s->outputs[2] = (struct proto_output){ xstrdup("/hq/live.opus"), PROTO_FORMAT_OPUS, 512,
					       xstrdup("HQ") };
	s->outputs[3] = (struct proto_output){ xstrdup("/live.aac"), PROTO_FORMAT_AAC, 32, NULL };

	s->hls.enabled = true;
	s->hls.bitrate = 96;
	s->hls.segment = SEC(6);
	s->hls.segments = 10;
}

void fix_event(struct proto_event *e, enum proto_event_kind k)
{
	memset(e, 0, sizeof(*e));
	e->instance = xstrdup("studio-a_1");
	e->seq = 1234567;
	e->at = FIX_T0 + 250;
	e->kind = k;
	e->snapshot_revision = 42;
	switch (k) {
	case PROTO_EV_ITEM_STARTED:
		e->item_id = 1001;
		e->scheduled = FIX_T0;
		e->source = PROTO_SRC_SCHEDULE;
		e->meta.title = xstrdup("Song");
		e->meta.artist = xstrdup("Band");
		break;
	case PROTO_EV_ITEM_ENDED:
		e->item_id = 1001;
		e->scheduled = FIX_T0 + SEC(180);
		e->reason = PROTO_END_REPLACED;
		break;
	case PROTO_EV_SOURCE_CHANGED:
		e->source = PROTO_SRC_MAIN_LIVE;
		e->previous = PROTO_SRC_FALLBACK;
		break;
	case PROTO_EV_LIVE_CONNECTED:
	case PROTO_EV_LIVE_DISCONNECTED:
		e->input = PROTO_LIVE_SHOW;
		e->user = xstrdup("anna");
		break;
	case PROTO_EV_OUTPUT_UP:
		e->output = xstrdup("icecast:/live.mp3");
		break;
	case PROTO_EV_OUTPUT_DOWN:
		e->output = xstrdup("hls");
		e->message = xstrdup("disk full");
		break;
	case PROTO_EV_CACHE_MISSING:
		e->media_id = 501;
		e->message = xstrdup("HTTP 404");
		break;
	case PROTO_EV_ERROR:
		e->message = xstrdup("liquidsoap: \"restart\"\n");
		break;
	case PROTO_EV_HEARTBEAT:
		e->source = PROTO_SRC_SAFETY;
		break;
	case PROTO_EV_DEAD_AIR:
		e->action = PROTO_WD_RESTART_OUTPUT;
		e->cause = PROTO_WD_OUTPUT;
		e->output = xstrdup("icecast:/live.mp3");
		e->message = xstrdup("Icecast does not list /live.mp3");
		break;
	case PROTO_EV__COUNT:
		break;
	}
}

void fix_command(struct proto_command *c, enum proto_command_kind k)
{
	memset(c, 0, sizeof(*c));
	c->id = xstrdup("req:2026-11-28.abc_1-2");
	c->kind = k;
	if (k == PROTO_CMD_SOURCE) {
		c->source = PROTO_SRC_SHOW_LIVE;
		c->enabled = true;
	}
	if (k == PROTO_CMD_DISCONNECT_LIVE)
		c->input = PROTO_LIVE_SHOW;
}

void fix_reply(struct proto_reply *r, bool ok, bool with_status)
{
	memset(r, 0, sizeof(*r));
	r->command_id = xstrdup("req-1");
	r->instance = xstrdup("studio-a");
	r->ok = ok;
	if (!ok)
		r->error = xstrdup("no live source connected");
	if (!with_status)
		return;
	r->has_status = true;
	r->status.snapshot_revision = 42;
	r->status.source = PROTO_SRC_SCHEDULE;
	r->status.on_air_item_id = 1001;
	r->status.next_item_id = 1002;
	r->status.next_start = FIX_T0 + SEC(178.5);
	r->status.cache_ready = 17;
	r->status.cache_missing = UINT32_MAX;
	r->status.n_outputs = 2;
	r->status.outputs = xcalloc(2, sizeof(*r->status.outputs));
	r->status.outputs[0].output = xstrdup("icecast:/live.mp3");
	r->status.outputs[0].up = true;
	r->status.outputs[1].output = xstrdup("hls");
	r->status.outputs[1].up = false;
}

void fix_task(struct proto_task *t, enum proto_task_kind k)
{
	memset(t, 0, sizeof(*t));
	t->id = xstrdup("task.01J9Z3:analyze-1");
	t->kind = k;
	t->created_at = FIX_T0 - 1;
	if (k == PROTO_TASK_ANALYZE_FILE)
		t->file_id = 501;
	if (k == PROTO_TASK_POLL_PODCAST || k == PROTO_TASK_INGEST_EPISODE)
		t->podcast_id = 9;
	if (k == PROTO_TASK_INGEST_EPISODE)
		t->episode_id = INT64_MAX;
}

/* ------------------------------------------------------------- comparisons */

static void assert_str_eq(const char *a, const char *b)
{
	if (!a || !b)
		assert_ptr_equal(a, b);
	else
		assert_string_equal(a, b);
}

static void assert_meta_equal(const struct proto_metadata *a, const struct proto_metadata *b)
{
	assert_str_eq(a->title, b->title);
	assert_str_eq(a->artist, b->artist);
	assert_str_eq(a->album, b->album);
}

static void assert_media_equal(const struct proto_media *a, const struct proto_media *b)
{
	assert_int_equal(a->id, b->id);
	assert_str_eq(a->hash, b->hash);
	assert_int_equal(a->size, b->size);
	assert_int_equal(a->duration, b->duration);
	assert_str_eq(a->mime, b->mime);
}

void assert_snapshot_equal(const struct proto_snapshot *a, const struct proto_snapshot *b)
{
	assert_int_equal(a->revision, b->revision);
	assert_int_equal(a->generated_at, b->generated_at);
	assert_str_eq(a->station_name, b->station_name);
	assert_str_eq(a->timezone, b->timezone);
	assert_int_equal(a->window_start, b->window_start);
	assert_int_equal(a->window_end, b->window_end);
	assert_int_equal(a->default_crossfade, b->default_crossfade);
	assert_int_equal(a->n_items, b->n_items);
	for (size_t i = 0; i < a->n_items; i++) {
		const struct proto_item *x = &a->items[i], *y = &b->items[i];
		assert_int_equal(x->id, y->id);
		assert_int_equal(x->kind, y->kind);
		assert_int_equal(x->start, y->start);
		assert_int_equal(x->end, y->end);
		assert_media_equal(&x->media, &y->media);
		assert_str_eq(x->url, y->url);
		assert_int_equal(x->cue_in, y->cue_in);
		assert_int_equal(x->cue_out, y->cue_out);
		assert_int_equal(x->fade_in, y->fade_in);
		assert_int_equal(x->fade_out, y->fade_out);
		assert_int_equal(x->crossfade, y->crossfade);
		assert_true(x->gain_db == y->gain_db);
		assert_meta_equal(&x->meta, &y->meta);
		assert_int_equal(x->show.id, y->show.id);
		assert_int_equal(x->show.instance_id, y->show.instance_id);
		assert_str_eq(x->show.name, y->show.name);
	}
	assert_int_equal(a->n_fallback, b->n_fallback);
	for (size_t i = 0; i < a->n_fallback; i++) {
		assert_media_equal(&a->fallback[i].media, &b->fallback[i].media);
		assert_true(a->fallback[i].gain_db == b->fallback[i].gain_db);
		assert_meta_equal(&a->fallback[i].meta, &b->fallback[i].meta);
	}
	for (int k = 0; k < 2; k++) {
		const struct proto_live_input_cfg *x = &a->live[k], *y = &b->live[k];
		assert_int_equal(x->enabled, y->enabled);
		assert_str_eq(x->mount, y->mount);
		assert_int_equal(x->fade, y->fade);
		assert_int_equal(x->n_users, y->n_users);
		for (size_t i = 0; i < x->n_users; i++) {
			assert_str_eq(x->users[i].name, y->users[i].name);
			assert_str_eq(x->users[i].password_hash, y->users[i].password_hash);
			assert_int_equal(x->users[i].valid_from, y->users[i].valid_from);
			assert_int_equal(x->users[i].valid_until, y->users[i].valid_until);
		}
	}
	assert_int_equal(a->n_outputs, b->n_outputs);
	for (size_t i = 0; i < a->n_outputs; i++) {
		assert_str_eq(a->outputs[i].mount, b->outputs[i].mount);
		assert_int_equal(a->outputs[i].format, b->outputs[i].format);
		assert_int_equal(a->outputs[i].bitrate, b->outputs[i].bitrate);
		assert_str_eq(a->outputs[i].name, b->outputs[i].name);
	}
	assert_int_equal(a->hls.enabled, b->hls.enabled);
	assert_int_equal(a->hls.bitrate, b->hls.bitrate);
	assert_int_equal(a->hls.segment, b->hls.segment);
	assert_int_equal(a->hls.segments, b->hls.segments);
}

void assert_event_equal(const struct proto_event *a, const struct proto_event *b)
{
	assert_str_eq(a->instance, b->instance);
	assert_int_equal(a->seq, b->seq);
	assert_int_equal(a->at, b->at);
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->snapshot_revision, b->snapshot_revision);
	assert_int_equal(a->item_id, b->item_id);
	assert_int_equal(a->scheduled, b->scheduled);
	assert_int_equal(a->reason, b->reason);
	assert_int_equal(a->source, b->source);
	assert_int_equal(a->previous, b->previous);
	assert_int_equal(a->input, b->input);
	assert_str_eq(a->user, b->user);
	assert_str_eq(a->output, b->output);
	assert_int_equal(a->media_id, b->media_id);
	assert_str_eq(a->message, b->message);
	assert_meta_equal(&a->meta, &b->meta);
}

void assert_command_equal(const struct proto_command *a, const struct proto_command *b)
{
	assert_str_eq(a->id, b->id);
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->source, b->source);
	assert_int_equal(a->enabled, b->enabled);
	assert_int_equal(a->input, b->input);
}

void assert_reply_equal(const struct proto_reply *a, const struct proto_reply *b)
{
	assert_str_eq(a->command_id, b->command_id);
	assert_str_eq(a->instance, b->instance);
	assert_int_equal(a->ok, b->ok);
	assert_str_eq(a->error, b->error);
	assert_int_equal(a->has_status, b->has_status);
	const struct proto_status *x = &a->status, *y = &b->status;
	assert_int_equal(x->snapshot_revision, y->snapshot_revision);
	assert_int_equal(x->source, y->source);
	assert_int_equal(x->on_air_item_id, y->on_air_item_id);
	assert_int_equal(x->next_item_id, y->next_item_id);
	assert_int_equal(x->next_start, y->next_start);
	assert_int_equal(x->cache_ready, y->cache_ready);
	assert_int_equal(x->cache_missing, y->cache_missing);
	assert_int_equal(x->n_outputs, y->n_outputs);
	for (size_t i = 0; i < x->n_outputs; i++) {
		assert_str_eq(x->outputs[i].output, y->outputs[i].output);
		assert_int_equal(x->outputs[i].up, y->outputs[i].up);
	}
}

void assert_task_equal(const struct proto_task *a, const struct proto_task *b)
{
	assert_str_eq(a->id, b->id);
	assert_int_equal(a->kind, b->kind);
	assert_int_equal(a->created_at, b->created_at);
	assert_int_equal(a->file_id, b->file_id);
	assert_int_equal(a->podcast_id, b->podcast_id);
	assert_int_equal(a->episode_id, b->episode_id);
}

/* ---------------------------------------------------------------- mutation */

char *json_mutate(const char *json, const char *path, const char *value)
{
	json_error_t je;
	json_t *root = json_loads(json, 0, &je);
	if (!root)
		fail_msg("json_mutate: base does not parse: %s", je.text);
	json_t *v = NULL;
	if (value) {
		v = json_loads(value, JSON_DECODE_ANY | JSON_ALLOW_NUL, &je);
		if (!v)
			fail_msg("json_mutate: value %s does not parse: %s", value, je.text);
	}
	char *p = xstrdup(path);
	char *save = NULL;
	json_t *cur = root;
	char *tok = strtok_r(p, ".", &save);
	while (tok) {
		char *next = strtok_r(NULL, ".", &save);
		if (json_is_array(cur)) {
			size_t i = strtoul(tok, NULL, 10);
			if (!next) {
				if (!v)
					json_array_remove(cur, i);
				else if (i == json_array_size(cur))
					json_array_append_new(cur, v);
				else if (json_array_set_new(cur, i, v) < 0)
					fail_msg("json_mutate: no element %s in %s", tok, path);
				break;
			}
			cur = json_array_get(cur, i);
		} else if (json_is_object(cur)) {
			if (!next) {
				if (!v)
					json_object_del(cur, tok);
				else
					json_object_set_new(cur, tok, v);
				break;
			}
			cur = json_object_get(cur, tok);
		} else {
			fail_msg("json_mutate: %s: no container at %s", path, tok);
		}
		if (!cur)
			fail_msg("json_mutate: %s: nothing at %s", path, tok);
		tok = next;
	}
	free(p);
	char *out = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(root);
	return out;
}

char *json_long_string(const char *prefix, char c, size_t n)
{
	size_t plen = strlen(prefix);
	char *s = xmalloc(plen + n + 3);
	s[0] = '"';
	memcpy(s + 1, prefix, plen);
	memset(s + 1 + plen, c, n);
	s[1 + plen + n] = '"';
	s[2 + plen + n] = '\0';
	return s;
}

/* ------------------------------------------------------------------ codecs */

static int dec_snapshot(const char *j, size_t n, void *out, struct proto_error *err)
{
	return proto_snapshot_decode(j, n, out, err);
}
static void rel_snapshot(void *m)
{
	proto_snapshot_release(m);
}
static int enc_snapshot(const void *m, struct buf *out)
{
	return proto_snapshot_encode(m, out);
}
static int dec_event(const char *j, size_t n, void *out, struct proto_error *err)
{
	return proto_event_decode(j, n, out, err);
}
static void rel_event(void *m)
{
	proto_event_release(m);
}
static int enc_event(const void *m, struct buf *out)
{
	return proto_event_encode(m, out);
}
static int dec_command(const char *j, size_t n, void *out, struct proto_error *err)
{
	return proto_command_decode(j, n, out, err);
}
static void rel_command(void *m)
{
	proto_command_release(m);
}
static int enc_command(const void *m, struct buf *out)
{
	return proto_command_encode(m, out);
}
static int dec_reply(const char *j, size_t n, void *out, struct proto_error *err)
{
	return proto_reply_decode(j, n, out, err);
}
static void rel_reply(void *m)
{
	proto_reply_release(m);
}
static int enc_reply(const void *m, struct buf *out)
{
	return proto_reply_encode(m, out);
}
static int dec_task(const char *j, size_t n, void *out, struct proto_error *err)
{
	return proto_task_decode(j, n, out, err);
}
static void rel_task(void *m)
{
	proto_task_release(m);
}
static int enc_task(const void *m, struct buf *out)
{
	return proto_task_encode(m, out);
}

const struct codec codec_snapshot = { dec_snapshot, enc_snapshot, rel_snapshot,
				      sizeof(struct proto_snapshot) };
const struct codec codec_event = { dec_event, enc_event, rel_event, sizeof(struct proto_event) };
const struct codec codec_command = { dec_command, enc_command, rel_command,
				     sizeof(struct proto_command) };
const struct codec codec_reply = { dec_reply, enc_reply, rel_reply, sizeof(struct proto_reply) };
const struct codec codec_task = { dec_task, enc_task, rel_task, sizeof(struct proto_task) };

/* ------------------------------------------------------------ reject group */

struct reject_ctx {
	const struct reject_case *row;
	const struct codec *codec;
	const char *base;
};

static void run_reject(void **state)
{
	const struct reject_ctx *ctx = *state;
	const struct reject_case *row = ctx->row;
	char *json;
	if (!row->path) {
		json = xstrdup(ctx->base);
	} else {
		char *value = row->gen ? row->gen() : NULL;
		json = json_mutate(ctx->base, row->path, row->gen ? value : row->value);
		free(value);
	}
	void *msg = xmalloc(ctx->codec->size);
	memset(msg, 0xa5, ctx->codec->size);	/* decode must not rely on a zeroed struct */
	struct proto_error err = { "" };
	int rc = ctx->codec->decode(json, strlen(json), msg, &err);
	if (rc == 0)
		ctx->codec->release(msg);
	free(msg);
	if (rc != (row->rc ? row->rc : -EINVAL) || !strstr(err.text, row->err))
		print_error("%s: rc %d, err \"%s\", expected rc %d with \"%s\"\njson: %.400s\n",
			    row->name, rc, err.text, row->rc ? row->rc : -EINVAL, row->err, json);
	free(json);
	assert_int_equal(rc, row->rc ? row->rc : -EINVAL);
	assert_non_null(strstr(err.text, row->err));
}

int run_reject_group(const char *group, const struct codec *codec, const char *base,
		     const struct reject_case *rows, size_t n)
{
	struct CMUnitTest *tests = xcalloc(n, sizeof(*tests));
	struct reject_ctx *ctx = xcalloc(n, sizeof(*ctx));
	for (size_t i = 0; i < n; i++) {
		ctx[i] = (struct reject_ctx){ &rows[i], codec, base };
		tests[i].name = rows[i].name;
		tests[i].test_func = run_reject;
		tests[i].initial_state = &ctx[i];
	}
	int failed = _cmocka_run_group_tests(group, tests, n, NULL, NULL);
	free(tests);
	free(ctx);
	return failed;
}
