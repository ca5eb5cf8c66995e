/*
 * snapshot.c - the schedule snapshot: decoder, validator, encoder.
 *
 * The decoder reads the JSON tree into the struct, checking JSON types and
 * presence; proto_snapshot_validate then checks every value and the rules
 * between items. The encoder runs the same validation first.
 */
#include "protocol/protocol.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/timeutil.h"
#include "protocol/json_util.h"

#define HASH_PREFIX "sha256:"
#define HASH_HEX_LEN 64
#define TIMEZONE_MAX 64
#define MOUNT_MAX 64		/* live input mount names */
#define OUTPUT_MOUNT_MAX 128	/* "/" + up to 127 characters */
#define PASSWORD_HASH_MAX 256
#define GAIN_MIN (-60.0)
#define GAIN_MAX 24.0
#define BITRATE_MIN 32
#define BITRATE_MAX 512
#define HLS_SEGMENT_MIN (1 * USEC_PER_SEC)
#define HLS_SEGMENT_MAX (30 * USEC_PER_SEC)
#define HLS_SEGMENTS_MIN 3
#define HLS_SEGMENTS_MAX 100

/* ------------------------------------------------------------------ release */

static void media_release(struct proto_media *m)
{
	free(m->hash);
	free(m->mime);
	memset(m, 0, sizeof(*m));
}

static void item_release(struct proto_item *it)
{
	media_release(&it->media);
	free(it->url);
	metadata_release(&it->meta);
	free(it->show.name);
	memset(it, 0, sizeof(*it));
}

static void live_input_release(struct proto_live_input_cfg *in)
{
	free(in->mount);
	for (size_t i = 0; i < in->n_users; i++) {
		free(in->users[i].name);
		free(in->users[i].password_hash);
	}
	free(in->users);
	memset(in, 0, sizeof(*in));
}

void proto_snapshot_release(struct proto_snapshot *s)
{
	free(s->station_name);
	free(s->timezone);
	for (size_t i = 0; i < s->n_items; i++)
		item_release(&s->items[i]);
	free(s->items);
	for (size_t i = 0; i < s->n_fallback; i++) {
		media_release(&s->fallback[i].media);
		metadata_release(&s->fallback[i].meta);
	}
	free(s->fallback);
	for (size_t i = 0; i < PROTO_LIVE_INPUTS; i++)
		live_input_release(&s->live[i]);
	for (size_t i = 0; i < s->n_outputs; i++) {
		free(s->outputs[i].mount);
		free(s->outputs[i].name);
	}
	free(s->outputs);
	memset(s, 0, sizeof(*s));
}

/* ---------------------------------------------------------------- validate */

static bool is_lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static bool hash_valid(const char *h)
{
	size_t plen = strlen(HASH_PREFIX);
	if (strncmp(h, HASH_PREFIX, plen) != 0 || strlen(h) != plen + HASH_HEX_LEN)
		return false;
	for (size_t i = plen; h[i]; i++) {
		if (!is_lower_hex(h[i]))
			return false;
	}
	return true;
}

static int validate_hash(const char *h, const char *path, struct proto_error *err)
{
	if (!h)
		return perr_at(err, path, "hash", "required");
	if (!hash_valid(h))
		return perr_at(err, path, "hash", "must be sha256:<64 lowercase hex digits>");
	return 0;
}

/* path is the holder of "media" ("items[3]", "fallback[0]"). */
static int validate_media(const struct proto_media *m, const char *path, struct proto_error *err)
{
	char p[PATH_MAX_LEN];
	int rc;
	path_key(p, sizeof(p), path, "media");
	if ((rc = pv_range(m->id, 1, INT64_MAX, p, "id", err)) < 0 ||
	    (rc = validate_hash(m->hash, p, err)) < 0 ||
	    (rc = pv_range(m->size, 1, INT64_MAX, p, "size", err)) < 0 ||
	    (rc = pv_duration(m->duration, 1, PROTO_DURATION_MAX, p, "duration", err)) < 0 ||
	    (rc = pv_text(m->mime, PROTO_STRING_MAX, PV_NOCTL, p, "mime", err)) < 0)
		return rc;
	return 0;
}

static int validate_gain(double g, const char *path, struct proto_error *err)
{
	if (!isfinite(g) || g < GAIN_MIN || g > GAIN_MAX)
		return perr_at(err, path, "gain_db", "must be -60..24 dB");
	return 0;
}

static int validate_url(const char *url, const char *path, struct proto_error *err)
{
	int rc = pv_text(url, PROTO_URL_MAX, PV_REQUIRED | PV_NOCTL, path, "url", err);
	if (rc < 0)
		return rc;
	const char *rest;
	if (strncmp(url, "http://", 7) == 0)
		rest = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		rest = url + 8;
	else
		return perr_at(err, path, "url", "must start with http:// or https://");
	if (*rest == '\0' || *rest == '/')
		return perr_at(err, path, "url", "must name a host");
	if (strchr(url, ' '))
		return perr_at(err, path, "url", "must not contain spaces");
	return 0;
}

static int validate_show(const struct proto_show_ref *show, const char *path,
			 struct proto_error *err)
{
	if (show->id == 0)
		return 0;
	char p[PATH_MAX_LEN];
	int rc;
	path_key(p, sizeof(p), path, "show");
	if ((rc = pv_range(show->id, 1, INT64_MAX, p, "id", err)) < 0 ||
	    (rc = pv_range(show->instance_id, 1, INT64_MAX, p, "instance_id", err)) < 0 ||
	    (rc = pv_text(show->name, PROTO_STRING_MAX, 0, p, "name", err)) < 0)
		return rc;
	return 0;
}

/* Check item i on its own and against the one before it (prev, or NULL). */
static int validate_item(const struct proto_item *it, size_t i, const struct proto_item *prev,
			 struct proto_error *err)
{
	char p[PATH_MAX_LEN];
	int rc;
	path_index(p, sizeof(p), "", "items", i);
	if ((rc = pv_range(it->id, 1, INT64_MAX, p, "id", err)) < 0 ||
	    (rc = pv_enum((int)it->kind, PROTO_ITEM_KINDS, p, "kind", err)) < 0 ||
	    (rc = pv_instant(it->start, p, "start", err)) < 0 ||
	    (rc = pv_instant(it->end, p, "end", err)) < 0)
		return rc;
	if (it->end <= it->start)
		return perr_at(err, p, "end", "must be after start");
	int64_t length = it->end - it->start;

	switch (it->kind) {
	case PROTO_ITEM_FILE:
		if ((rc = validate_media(&it->media, p, err)) < 0 ||
		    (rc = pv_duration(it->cue_in, 0, PROTO_DURATION_MAX, p, "cue_in", err)) < 0 ||
		    (rc = pv_duration(it->cue_out, 0, PROTO_DURATION_MAX, p, "cue_out", err)) < 0)
			return rc;
		if (it->cue_out <= it->cue_in)
			return perr_at(err, p, "cue_out", "must be after cue_in");
		if (it->cue_out > it->media.duration)
			return perr_at(err, p, "cue_out", "must not be after media.duration");
		break;
	case PROTO_ITEM_WEBSTREAM:
		if ((rc = validate_url(it->url, p, err)) < 0)
			return rc;
		break;
	case PROTO_ITEM_LIVE:
	case PROTO_ITEM_SILENCE:
		break;
	}

	if ((rc = pv_duration(it->fade_in, 0, length, p, "fade_in", err)) < 0 ||
	    (rc = pv_duration(it->fade_out, 0, length, p, "fade_out", err)) < 0 ||
	    (rc = pv_duration(it->crossfade, 0, PROTO_DURATION_MAX, p, "crossfade", err)) < 0)
		return rc;
	if (it->crossfade >= length)
		return perr_at(err, p, "crossfade", "must be shorter than the item (end - start)");
	if ((rc = validate_gain(it->gain_db, p, err)) < 0 ||
	    (rc = pv_metadata(&it->meta, p, err)) < 0 ||
	    (rc = validate_show(&it->show, p, err)) < 0)
		return rc;

	if (!prev)
		return 0;
	if (it->start <= prev->start)
		return perr_at(err, p, "start", "must be after items[%zu].start", i - 1);
	if (it->start < prev->end - it->crossfade)
		return perr_at(err, p, "start",
			       "overlaps items[%zu] by more than this item's crossfade", i - 1);
	return 0;
}

struct id_index {
	int64_t id;
	size_t index;
};

static int cmp_id_index(const void *a, const void *b)
{
	const struct id_index *x = a, *y = b;
	if (x->id != y->id)
		return x->id < y->id ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int validate_unique_ids(const struct proto_item *items, size_t n, struct proto_error *err)
{
	if (n < 2)
		return 0;
	struct id_index *ids = xcalloc(n, sizeof(*ids));
	for (size_t i = 0; i < n; i++)
		ids[i] = (struct id_index){ items[i].id, i };
	qsort(ids, n, sizeof(*ids), cmp_id_index);
	int rc = 0;
	for (size_t i = 1; i < n; i++) {
		if (ids[i].id == ids[i - 1].id) {
			rc = perr(err, "items[%zu].id: duplicate of items[%zu].id", ids[i].index,
				  ids[i - 1].index);
			break;
		}
	}
	free(ids);
	return rc;
}

static int validate_items(const struct proto_snapshot *s, struct proto_error *err)
{
	if (s->n_items > PROTO_ITEMS_MAX)
		return perr(err, "items: more than %u elements", PROTO_ITEMS_MAX);
	if (s->n_items && !s->items)
		return perr(err, "items: missing");
	for (size_t i = 0; i < s->n_items; i++) {
		int rc = validate_item(&s->items[i], i, i ? &s->items[i - 1] : NULL, err);
		if (rc < 0)
			return rc;
	}
	return validate_unique_ids(s->items, s->n_items, err);
}

static int validate_fallback(const struct proto_snapshot *s, struct proto_error *err)
{
	if (s->n_fallback > PROTO_FALLBACK_MAX)
		return perr(err, "fallback: more than %u elements", PROTO_FALLBACK_MAX);
	if (s->n_fallback && !s->fallback)
		return perr(err, "fallback: missing");
	for (size_t i = 0; i < s->n_fallback; i++) {
		const struct proto_fallback_item *f = &s->fallback[i];
		char p[PATH_MAX_LEN];
		int rc;
		path_index(p, sizeof(p), "", "fallback", i);
		if ((rc = validate_media(&f->media, p, err)) < 0 ||
		    (rc = validate_gain(f->gain_db, p, err)) < 0 ||
		    (rc = pv_metadata(&f->meta, p, err)) < 0)
			return rc;
	}
	return 0;
}

static int validate_password_hash(const char *h, const char *path, struct proto_error *err)
{
	int rc = pv_text(h, PASSWORD_HASH_MAX, PV_REQUIRED, path, "password_hash", err);
	if (rc < 0)
		return rc;
	if (strncmp(h, "$argon2id$", 10) != 0 && strncmp(h, "$argon2i$", 9) != 0)
		return perr_at(err, path, "password_hash",
			       "must start with $argon2id$ or $argon2i$");
	for (const char *c = h; *c; c++) {
		if (*c <= ' ' || *c > '~')
			return perr_at(err, path, "password_hash",
				       "must be printable ASCII without spaces");
	}
	return 0;
}

static int validate_user(const struct proto_live_user *u, const char *path,
			 struct proto_error *err)
{
	int rc;
	if ((rc = pv_text(u->name, PROTO_STRING_MAX, PV_REQUIRED | PV_NONEMPTY | PV_NOCTL, path,
			  "name", err)) < 0 ||
	    (rc = validate_password_hash(u->password_hash, path, err)) < 0)
		return rc;
	if (u->valid_from && (rc = pv_instant(u->valid_from, path, "valid_from", err)) < 0)
		return rc;
	if (u->valid_until && (rc = pv_instant(u->valid_until, path, "valid_until", err)) < 0)
		return rc;
	if (u->valid_from && u->valid_until && u->valid_until <= u->valid_from)
		return perr_at(err, path, "valid_until", "must be after valid_from");
	return 0;
}

static int validate_live_input(const struct proto_live_input_cfg *in, const char *path,
			       struct proto_error *err)
{
	int rc;
	if (in->enabled || in->mount) {
		if ((rc = pv_token(in->mount, "_-", MOUNT_MAX, path, "mount", err)) < 0)
			return rc;
	}
	if ((rc = pv_duration(in->fade, 0, PROTO_DURATION_MAX, path, "fade", err)) < 0)
		return rc;
	if (in->n_users > PROTO_LIVE_USERS_MAX)
		return perr_at(err, path, "users", "more than %u elements", PROTO_LIVE_USERS_MAX);
	if (in->n_users && !in->users)
		return perr_at(err, path, "users", "missing");
	for (size_t i = 0; i < in->n_users; i++) {
		char p[PATH_MAX_LEN];
		path_index(p, sizeof(p), path, "users", i);
		if ((rc = validate_user(&in->users[i], p, err)) < 0)
			return rc;
	}
	return 0;
}

static int validate_live(const struct proto_snapshot *s, struct proto_error *err)
{
	for (int i = 0; i < PROTO_LIVE_INPUTS; i++) {
		char p[PATH_MAX_LEN];
		path_key(p, sizeof(p), "live", proto_live_input_names[i]);
		int rc = validate_live_input(&s->live[i], p, err);
		if (rc < 0)
			return rc;
	}
	const char *a = s->live[PROTO_LIVE_MAIN].mount, *b = s->live[PROTO_LIVE_SHOW].mount;
	if (a && b && strcmp(a, b) == 0)
		return perr(err, "live.show.mount: must differ from live.main.mount");
	return 0;
}

static int validate_output_mount(const char *m, const char *path, struct proto_error *err)
{
	if (!m)
		return perr_at(err, path, "mount", "required");
	size_t len = strlen(m);
	bool ok = m[0] == '/' && len >= 2 && len <= OUTPUT_MOUNT_MAX && !strstr(m, "..");
	for (size_t i = 1; ok && i < len; i++) {
		char c = m[i];
		ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		     c == '.' || c == '_' || c == '/' || c == '-';
	}
	if (!ok)
		return perr_at(err, path, "mount",
			       "must match /[A-Za-z0-9._/-]{1,127} without \"..\"");
	return 0;
}

static int validate_outputs(const struct proto_snapshot *s, struct proto_error *err)
{
	if (s->n_outputs > PROTO_OUTPUTS_MAX)
		return perr(err, "outputs: more than %u elements", PROTO_OUTPUTS_MAX);
	if (s->n_outputs && !s->outputs)
		return perr(err, "outputs: missing");
	for (size_t i = 0; i < s->n_outputs; i++) {
		const struct proto_output *o = &s->outputs[i];
		char p[PATH_MAX_LEN];
		int rc;
		path_index(p, sizeof(p), "", "outputs", i);
		if ((rc = validate_output_mount(o->mount, p, err)) < 0 ||
		    (rc = pv_enum((int)o->format, PROTO_FORMATS, p, "format", err)) < 0 ||
		    (rc = pv_range(o->bitrate, BITRATE_MIN, BITRATE_MAX, p, "bitrate", err)) < 0 ||
		    (rc = pv_text(o->name, PROTO_STRING_MAX, PV_NOCTL, p, "name", err)) < 0)
			return rc;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(s->outputs[j].mount, o->mount) == 0)
				return perr_at(err, p, "mount", "duplicate of outputs[%zu].mount",
					       j);
		}
	}
	return 0;
}

static int validate_hls(const struct proto_hls *h, struct proto_error *err)
{
	int rc;
	if (!h->enabled)
		return 0;
	if ((rc = pv_range(h->bitrate, BITRATE_MIN, BITRATE_MAX, "hls", "bitrate", err)) < 0 ||
	    (rc = pv_duration(h->segment, HLS_SEGMENT_MIN, HLS_SEGMENT_MAX, "hls", "segment",
			      err)) < 0 ||
	    (rc = pv_range(h->segments, HLS_SEGMENTS_MIN, HLS_SEGMENTS_MAX, "hls", "segments",
			   err)) < 0)
		return rc;
	return 0;
}

int proto_snapshot_validate(const struct proto_snapshot *s, struct proto_error *err)
{
	int rc;
	if (s->revision < 1 || s->revision > INT64_MAX)
		return perr(err, "revision: must be 1..%lld", (long long)INT64_MAX);
	if ((rc = pv_instant(s->generated_at, "", "generated_at", err)) < 0 ||
	    (rc = pv_text(s->station_name, PROTO_STRING_MAX, PV_REQUIRED | PV_NONEMPTY | PV_NOCTL,
			  "station", "name", err)) < 0 ||
	    (rc = pv_token(s->timezone, "_+/-", TIMEZONE_MAX, "station", "timezone", err)) < 0 ||
	    (rc = pv_instant(s->window_start, "window", "start", err)) < 0 ||
	    (rc = pv_instant(s->window_end, "window", "end", err)) < 0)
		return rc;
	if (s->window_end <= s->window_start)
		return perr(err, "window.end: must be after window.start");
	if ((rc = pv_duration(s->default_crossfade, 0, PROTO_DURATION_MAX, "",
			      "default_crossfade", err)) < 0 ||
	    (rc = validate_items(s, err)) < 0 ||
	    (rc = validate_fallback(s, err)) < 0 ||
	    (rc = validate_live(s, err)) < 0 ||
	    (rc = validate_outputs(s, err)) < 0 ||
	    (rc = validate_hls(&s->hls, err)) < 0)
		return rc;
	return 0;
}

/* ------------------------------------------------------------------ decode */

/* path is the holder of "media". */
static int read_media(json_t *holder, const char *path, struct proto_media *m,
		      struct proto_error *err)
{
	json_t *obj;
	int rc = jr_object(holder, path, "media", true, &obj, err);
	if (rc < 0)
		return rc;
	char p[PATH_MAX_LEN];
	path_key(p, sizeof(p), path, "media");
	if ((rc = jr_int(obj, p, "id", true, INT64_MIN, INT64_MAX, &m->id, err)) < 0 ||
	    (rc = jr_string(obj, p, "hash", true, &m->hash, err)) < 0 ||
	    (rc = jr_int(obj, p, "size", true, INT64_MIN, INT64_MAX, &m->size, err)) < 0 ||
	    (rc = jr_duration(obj, p, "duration", true, &m->duration, err)) < 0 ||
	    (rc = jr_string(obj, p, "mime", false, &m->mime, err)) < 0)
		return rc;
	return 0;
}

static int read_show(json_t *holder, const char *path, struct proto_show_ref *show,
		     struct proto_error *err)
{
	json_t *obj;
	int rc = jr_object(holder, path, "show", false, &obj, err);
	if (rc < 0 || !obj)
		return rc;
	char p[PATH_MAX_LEN];
	path_key(p, sizeof(p), path, "show");
	if ((rc = jr_int(obj, p, "id", true, 1, INT64_MAX, &show->id, err)) < 0 ||
	    (rc = jr_int(obj, p, "instance_id", true, INT64_MIN, INT64_MAX, &show->instance_id,
			 err)) < 0 ||
	    (rc = jr_string(obj, p, "name", false, &show->name, err)) < 0)
		return rc;
	return 0;
}

static int read_item(json_t *obj, const char *p, struct proto_item *it, struct proto_error *err)
{
	int kind = 0;
	int rc;
	if ((rc = jr_int(obj, p, "id", true, INT64_MIN, INT64_MAX, &it->id, err)) < 0 ||
	    (rc = jr_enum(obj, p, "kind", true, proto_item_kind_names, PROTO_ITEM_KINDS, &kind,
			  err)) < 0 ||
	    (rc = jr_instant(obj, p, "start", true, &it->start, err)) < 0 ||
	    (rc = jr_instant(obj, p, "end", true, &it->end, err)) < 0)
		return rc;
	it->kind = (enum proto_item_kind)kind;
	if (it->kind == PROTO_ITEM_FILE) {
		if ((rc = read_media(obj, p, &it->media, err)) < 0 ||
		    (rc = jr_duration(obj, p, "cue_in", true, &it->cue_in, err)) < 0 ||
		    (rc = jr_duration(obj, p, "cue_out", true, &it->cue_out, err)) < 0)
			return rc;
	} else if (it->kind == PROTO_ITEM_WEBSTREAM) {
		if ((rc = jr_string(obj, p, "url", true, &it->url, err)) < 0)
			return rc;
	}
	if ((rc = jr_duration(obj, p, "fade_in", false, &it->fade_in, err)) < 0 ||
	    (rc = jr_duration(obj, p, "fade_out", false, &it->fade_out, err)) < 0 ||
	    (rc = jr_duration(obj, p, "crossfade", false, &it->crossfade, err)) < 0 ||
	    (rc = jr_double(obj, p, "gain_db", false, &it->gain_db, err)) < 0 ||
	    (rc = jr_metadata(obj, p, &it->meta, err)) < 0 ||
	    (rc = read_show(obj, p, &it->show, err)) < 0)
		return rc;
	return 0;
}

static int read_fallback_item(json_t *obj, const char *p, struct proto_fallback_item *f,
			      struct proto_error *err)
{
	int rc;
	if ((rc = read_media(obj, p, &f->media, err)) < 0 ||
	    (rc = jr_double(obj, p, "gain_db", false, &f->gain_db, err)) < 0 ||
	    (rc = jr_metadata(obj, p, &f->meta, err)) < 0)
		return rc;
	return 0;
}

static int read_user(json_t *obj, const char *p, struct proto_live_user *u,
		     struct proto_error *err)
{
	int rc;
	if ((rc = jr_string(obj, p, "name", true, &u->name, err)) < 0 ||
	    (rc = jr_string(obj, p, "password_hash", true, &u->password_hash, err)) < 0 ||
	    (rc = jr_instant(obj, p, "valid_from", false, &u->valid_from, err)) < 0 ||
	    (rc = jr_instant(obj, p, "valid_until", false, &u->valid_until, err)) < 0)
		return rc;
	return 0;
}

static int read_live_input(json_t *live, int which, struct proto_live_input_cfg *in,
			   struct proto_error *err)
{
	const char *key = proto_live_input_names[which];
	json_t *obj, *users;
	int rc = jr_object(live, "live", key, false, &obj, err);
	if (rc < 0 || !obj)
		return rc;
	char p[PATH_MAX_LEN];
	path_key(p, sizeof(p), "live", key);
	if ((rc = jr_bool(obj, p, "enabled", true, &in->enabled, err)) < 0 ||
	    (rc = jr_string(obj, p, "mount", false, &in->mount, err)) < 0 ||
	    (rc = jr_duration(obj, p, "fade", false, &in->fade, err)) < 0 ||
	    (rc = jr_array(obj, p, "users", false, PROTO_LIVE_USERS_MAX, &users, err)) < 0)
		return rc;
	size_t n = json_array_size(users);
	if (n == 0)
		return 0;
	in->users = xcalloc(n, sizeof(*in->users));
	in->n_users = n;
	for (size_t i = 0; i < n; i++) {
		json_t *u = json_array_get(users, i);
		char up[PATH_MAX_LEN];
		path_index(up, sizeof(up), p, "users", i);
		if ((rc = jr_element_object(u, up, err)) < 0 ||
		    (rc = read_user(u, up, &in->users[i], err)) < 0)
			return rc;
	}
	return 0;
}

static int read_output(json_t *obj, const char *p, struct proto_output *o,
		       struct proto_error *err)
{
	int format = 0;
	int64_t bitrate = 0;
	int rc;
	if ((rc = jr_string(obj, p, "mount", true, &o->mount, err)) < 0 ||
	    (rc = jr_enum(obj, p, "format", true, proto_format_names, PROTO_FORMATS, &format,
			  err)) < 0 ||
	    (rc = jr_int(obj, p, "bitrate", true, BITRATE_MIN, BITRATE_MAX, &bitrate, err)) < 0 ||
	    (rc = jr_string(obj, p, "name", false, &o->name, err)) < 0)
		return rc;
	o->format = (enum proto_format)format;
	o->bitrate = (int)bitrate;
	return 0;
}

static int read_hls(json_t *root, struct proto_hls *h, struct proto_error *err)
{
	json_t *obj;
	int64_t bitrate = 0, segments = 0;
	int rc = jr_object(root, "", "hls", false, &obj, err);
	if (rc < 0 || !obj)
		return rc;
	if ((rc = jr_bool(obj, "hls", "enabled", true, &h->enabled, err)) < 0 || !h->enabled)
		return rc;
	if ((rc = jr_int(obj, "hls", "bitrate", true, BITRATE_MIN, BITRATE_MAX, &bitrate,
			 err)) < 0 ||
	    (rc = jr_duration(obj, "hls", "segment", true, &h->segment, err)) < 0 ||
	    (rc = jr_int(obj, "hls", "segments", true, HLS_SEGMENTS_MIN, HLS_SEGMENTS_MAX,
			 &segments, err)) < 0)
		return rc;
	h->bitrate = (int)bitrate;
	h->segments = (int)segments;
	return 0;
}

/*
 * Read the array root.key (at most max elements) into a new array of
 * elements of size bytes, calling read for each. *arr and *n are set
 * before the elements are read, so a failure leaves them for release.
 */
static int read_array(json_t *root, const char *key, bool required, size_t max, size_t size,
		      void **arr, size_t *n,
		      int (*read)(json_t *obj, const char *p, void *elem, struct proto_error *err),
		      struct proto_error *err)
{
	json_t *a;
	int rc = jr_array(root, "", key, required, max, &a, err);
	if (rc < 0)
		return rc;
	size_t count = json_array_size(a);
	if (count == 0)
		return 0;
	char *elems = xcalloc(count, size);
	*arr = elems;
	*n = count;
	for (size_t i = 0; i < count; i++) {
		json_t *obj = json_array_get(a, i);
		char p[PATH_MAX_LEN];
		path_index(p, sizeof(p), "", key, i);
		if ((rc = jr_element_object(obj, p, err)) < 0 ||
		    (rc = read(obj, p, elems + i * size, err)) < 0)
			return rc;
	}
	return 0;
}

static int read_item_cb(json_t *obj, const char *p, void *elem, struct proto_error *err)
{
	return read_item(obj, p, elem, err);
}

static int read_fallback_cb(json_t *obj, const char *p, void *elem, struct proto_error *err)
{
	return read_fallback_item(obj, p, elem, err);
}

static int read_output_cb(json_t *obj, const char *p, void *elem, struct proto_error *err)
{
	return read_output(obj, p, elem, err);
}

static int read_snapshot(json_t *root, struct proto_snapshot *s, struct proto_error *err)
{
	json_t *station, *window, *live;
	void *items = NULL, *fallback = NULL, *outputs = NULL;
	int rc;
	if ((rc = jr_uint64(root, "", "revision", true, &s->revision, err)) < 0 ||
	    (rc = jr_instant(root, "", "generated_at", true, &s->generated_at, err)) < 0 ||
	    (rc = jr_object(root, "", "station", true, &station, err)) < 0 ||
	    (rc = jr_string(station, "station", "name", true, &s->station_name, err)) < 0 ||
	    (rc = jr_string(station, "station", "timezone", true, &s->timezone, err)) < 0 ||
	    (rc = jr_object(root, "", "window", true, &window, err)) < 0 ||
	    (rc = jr_instant(window, "window", "start", true, &s->window_start, err)) < 0 ||
	    (rc = jr_instant(window, "window", "end", true, &s->window_end, err)) < 0 ||
	    (rc = jr_duration(root, "", "default_crossfade", false, &s->default_crossfade,
			      err)) < 0)
		return rc;

	rc = read_array(root, "items", true, PROTO_ITEMS_MAX, sizeof(*s->items), &items,
			&s->n_items, read_item_cb, err);
	s->items = items;
	if (rc < 0)
		return rc;
	rc = read_array(root, "fallback", false, PROTO_FALLBACK_MAX, sizeof(*s->fallback),
			&fallback, &s->n_fallback, read_fallback_cb, err);
	s->fallback = fallback;
	if (rc < 0)
		return rc;
	if ((rc = jr_object(root, "", "live", false, &live, err)) < 0)
		return rc;
	if (live) {
		if ((rc = read_live_input(live, PROTO_LIVE_MAIN, &s->live[PROTO_LIVE_MAIN],
					  err)) < 0 ||
		    (rc = read_live_input(live, PROTO_LIVE_SHOW, &s->live[PROTO_LIVE_SHOW],
					  err)) < 0)
			return rc;
	}
	rc = read_array(root, "outputs", false, PROTO_OUTPUTS_MAX, sizeof(*s->outputs), &outputs,
			&s->n_outputs, read_output_cb, err);
	s->outputs = outputs;
	if (rc < 0)
		return rc;
	return read_hls(root, &s->hls, err);
}

int proto_snapshot_decode(const char *json, size_t len, struct proto_snapshot *out,
			  struct proto_error *err)
{
	json_t *root;
	memset(out, 0, sizeof(*out));
	int rc = jr_load(json, len, "snapshot", &root, err);
	if (rc < 0)
		return rc;
	if ((rc = read_snapshot(root, out, err)) < 0 ||
	    (rc = proto_snapshot_validate(out, err)) < 0)
		goto out_release;
	json_decref(root);
	return 0;

out_release:
	proto_snapshot_release(out);
	json_decref(root);
	return rc;
}

/* ------------------------------------------------------------------ encode */

static void write_media(struct jw *w, const struct proto_media *m)
{
	jw_object_begin(w, "media");
	jw_int(w, "id", m->id);
	jw_string(w, "hash", m->hash);
	jw_int(w, "size", m->size);
	jw_duration(w, "duration", m->duration);
	jw_string_opt(w, "mime", m->mime);
	jw_object_end(w);
}

static void write_item(struct jw *w, const struct proto_item *it)
{
	jw_object_begin(w, NULL);
	jw_int(w, "id", it->id);
	jw_string(w, "kind", proto_item_kind_name(it->kind));
	jw_instant(w, "start", it->start);
	jw_instant(w, "end", it->end);
	if (it->kind == PROTO_ITEM_FILE)
		write_media(w, &it->media);
	if (it->kind == PROTO_ITEM_WEBSTREAM)
		jw_string(w, "url", it->url);
	if (it->kind == PROTO_ITEM_FILE) {
		jw_duration(w, "cue_in", it->cue_in);
		jw_duration(w, "cue_out", it->cue_out);
	}
	jw_duration(w, "fade_in", it->fade_in);
	jw_duration(w, "fade_out", it->fade_out);
	jw_duration(w, "crossfade", it->crossfade);
	jw_double(w, "gain_db", it->gain_db);
	jw_metadata(w, "metadata", &it->meta);
	if (it->show.id) {
		jw_object_begin(w, "show");
		jw_int(w, "id", it->show.id);
		jw_int(w, "instance_id", it->show.instance_id);
		jw_string_opt(w, "name", it->show.name);
		jw_object_end(w);
	}
	jw_object_end(w);
}

static void write_live_input(struct jw *w, const char *key, const struct proto_live_input_cfg *in)
{
	jw_object_begin(w, key);
	jw_bool(w, "enabled", in->enabled);
	jw_string_opt(w, "mount", in->mount);
	jw_duration(w, "fade", in->fade);
	jw_array_begin(w, "users");
	for (size_t i = 0; i < in->n_users; i++) {
		const struct proto_live_user *u = &in->users[i];
		jw_object_begin(w, NULL);
		jw_string(w, "name", u->name);
		jw_string(w, "password_hash", u->password_hash);
		if (u->valid_from)
			jw_instant(w, "valid_from", u->valid_from);
		if (u->valid_until)
			jw_instant(w, "valid_until", u->valid_until);
		jw_object_end(w);
	}
	jw_array_end(w);
	jw_object_end(w);
}

int proto_snapshot_encode(const struct proto_snapshot *s, struct buf *out)
{
	if (proto_snapshot_validate(s, NULL) < 0)
		return -EINVAL;
	struct jw w;
	jw_init(&w, out);
	jw_object_begin(&w, NULL);
	jw_string(&w, "type", "snapshot");
	jw_int(&w, "version", PROTO_VERSION);
	jw_uint64(&w, "revision", s->revision);
	jw_instant(&w, "generated_at", s->generated_at);
	jw_object_begin(&w, "station");
	jw_string(&w, "name", s->station_name);
	jw_string(&w, "timezone", s->timezone);
	jw_object_end(&w);
	jw_object_begin(&w, "window");
	jw_instant(&w, "start", s->window_start);
	jw_instant(&w, "end", s->window_end);
	jw_object_end(&w);
	jw_duration(&w, "default_crossfade", s->default_crossfade);

	jw_array_begin(&w, "items");
	for (size_t i = 0; i < s->n_items; i++)
		write_item(&w, &s->items[i]);
	jw_array_end(&w);

	jw_array_begin(&w, "fallback");
	for (size_t i = 0; i < s->n_fallback; i++) {
		const struct proto_fallback_item *f = &s->fallback[i];
		jw_object_begin(&w, NULL);
		write_media(&w, &f->media);
		jw_double(&w, "gain_db", f->gain_db);
		jw_metadata(&w, "metadata", &f->meta);
		jw_object_end(&w);
	}
	jw_array_end(&w);

	jw_object_begin(&w, "live");
	write_live_input(&w, "main", &s->live[PROTO_LIVE_MAIN]);
	write_live_input(&w, "show", &s->live[PROTO_LIVE_SHOW]);
	jw_object_end(&w);

	jw_array_begin(&w, "outputs");
	for (size_t i = 0; i < s->n_outputs; i++) {
		const struct proto_output *o = &s->outputs[i];
		jw_object_begin(&w, NULL);
		jw_string(&w, "mount", o->mount);
		jw_string(&w, "format", proto_format_name(o->format));
		jw_int(&w, "bitrate", o->bitrate);
		jw_string_opt(&w, "name", o->name);
		jw_object_end(&w);
	}
	jw_array_end(&w);

	jw_object_begin(&w, "hls");
	jw_bool(&w, "enabled", s->hls.enabled);
	if (s->hls.enabled) {
		jw_int(&w, "bitrate", s->hls.bitrate);
		jw_duration(&w, "segment", s->hls.segment);
		jw_int(&w, "segments", s->hls.segments);
	}
	jw_object_end(&w);
	jw_object_end(&w);
	return jw_finish(&w);
}

/* ------------------------------------------------------------------ lookup */

long proto_snapshot_item_at(const struct proto_snapshot *s, int64_t t)
{
	/* The last item with start <= t. Items before it end no later than
	 * it does (the overlap rule), so if it is over, all of them are. */
	size_t lo = 0, hi = s->n_items;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (s->items[mid].start <= t)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return -1;
	return t < s->items[lo - 1].end ? (long)(lo - 1) : -1;
}
