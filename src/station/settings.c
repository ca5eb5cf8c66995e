/*
 * settings.c - the station_settings row and the playout settings
 * document; see settings.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "station/settings.h"

/* The defaults of a fresh station, as JSON so that they go through the
 * same validation as anything a user stores. */
static const char default_outputs[] = "[{\"mount\":\"/live.mp3\",\"format\":\"mp3\",\"bitrate\":128}]";
static const char default_hls[] = "{\"enabled\":true,\"bitrate\":128,\"segment\":2,\"segments\":6}";
static const char default_live_main[] = "{\"enabled\":true,\"mount\":\"main\",\"fade\":1}";
static const char default_live_show[] = "{\"enabled\":true,\"mount\":\"show\",\"fade\":1}";

static void seterr(char *err, size_t errlen, const char *what, const char *detail)
{
	if (err && errlen)
		snprintf(err, errlen, "%s%s", what, detail ? detail : "");
}

void playout_settings_release(struct playout_settings *p)
{
	for (size_t i = 0; i < p->n_outputs; i++) {
		free(p->outputs[i].mount);
		free(p->outputs[i].name);
	}
	free(p->outputs);
	for (int i = 0; i < 2; i++)
		free(p->live[i].mount);
	memset(p, 0, sizeof(*p));
}

/* member of obj, or the default parsed from def (a new reference). */
static json_t *member_or_default(json_t *obj, const char *key, const char *def)
{
	json_t *v = obj ? json_object_get(obj, key) : NULL;
	if (v)
		return json_incref(v);
	return json_loads(def, 0, NULL);
}

/* Check that obj has no member outside names (NULL-terminated). */
static int only_members(json_t *obj, const char *path, const char *const *names, char *err,
			size_t errlen)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		bool known = false;
		for (size_t i = 0; names[i]; i++)
			known = known || strcmp(key, names[i]) == 0;
		if (!known) {
			if (err && errlen)
				snprintf(err, errlen, "%s%.64s: unknown setting", path, key);
			return -EINVAL;
		}
	}
	return 0;
}

/* The settings document as the playout part of a minimal snapshot. */
static json_t *as_snapshot(json_t *doc, char *err, size_t errlen)
{
	static const char *const top[] = { "outputs", "hls", "live", NULL };
	static const char *const live_names[] = { "main", "show", NULL };
	json_t *settings = NULL;
	if (json_is_array(doc) && json_array_size(doc) == 0) {
		settings = json_object();	/* the column's default: all defaults */
	} else if (json_is_array(doc)) {
		settings = json_pack("{sO}", "outputs", doc);
	} else if (json_is_object(doc)) {
		if (only_members(doc, "", top, err, errlen) < 0)
			return NULL;
		settings = json_incref(doc);
	} else {
		seterr(err, errlen, "the playout settings must be a JSON object", NULL);
		return NULL;
	}
	if (!settings)
		return NULL;

	json_t *live_in = json_object_get(settings, "live");
	if (live_in && !json_is_object(live_in)) {
		seterr(err, errlen, "live: must be an object", NULL);
		json_decref(settings);
		return NULL;
	}
	if (live_in && only_members(live_in, "live.", live_names, err, errlen) < 0) {
		json_decref(settings);
		return NULL;
	}
	json_t *snap = json_pack("{ss si si ss s{ss ss} s{ss ss} s[] s{s:o s:o} s:o s:o}",
				 "type", "snapshot", "version", PROTO_VERSION, "revision", 1,
				 "generated_at", "2000-01-01T00:00:00Z",
				 "station", "name", "settings", "timezone", "UTC",
				 "window", "start", "2000-01-01T00:00:00Z", "end",
				 "2000-01-02T00:00:00Z",
				 "items",
				 "live",
				 "main", member_or_default(live_in, "main", default_live_main),
				 "show", member_or_default(live_in, "show", default_live_show),
				 "outputs", member_or_default(settings, "outputs", default_outputs),
				 "hls", member_or_default(settings, "hls", default_hls));
	json_decref(settings);
	if (!snap)
		seterr(err, errlen, "the playout settings could not be read", NULL);
	return snap;
}

int playout_settings_parse(const char *json, struct playout_settings *out, char *err,
			   size_t errlen)
{
	memset(out, 0, sizeof(*out));
	json_error_t jerr;
	json_t *doc = json_loads(json ? json : "", JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
	if (!doc) {
		seterr(err, errlen, "not JSON: ", jerr.text);
		return -EINVAL;
	}
	json_t *snap = as_snapshot(doc, err, errlen);
	json_decref(doc);
	if (!snap)
		return -EINVAL;
	for (int i = 0; i < 2; i++) {
		json_t *in = json_object_get(json_object_get(snap, "live"), i ? "show" : "main");
		if (json_is_object(in) && json_object_get(in, "users")) {
			seterr(err, errlen, i ? "live.show.users" : "live.main.users",
			       ": the accounts allowed on the live inputs are the station's users");
			json_decref(snap);
			return -EINVAL;
		}
	}
	char *text = json_dumps(snap, JSON_COMPACT);
	json_decref(snap);
	if (!text)
		return -ENOMEM;

	struct proto_snapshot s;
	struct proto_error perr;
	int r = proto_snapshot_decode(text, strlen(text), &s, &perr);
	free(text);
	if (r < 0) {
		seterr(err, errlen, perr.text, NULL);
		return -EINVAL;
	}
	out->outputs = s.outputs;
	out->n_outputs = s.n_outputs;
	out->hls = s.hls;
	for (int i = 0; i < 2; i++) {
		out->live[i] = s.live[i];
		s.live[i].mount = NULL;
	}
	s.outputs = NULL;
	s.n_outputs = 0;
	proto_snapshot_release(&s);
	return 0;
}

void station_settings_release(struct station_settings *s)
{
	playout_settings_release(&s->playout);
}

int station_settings_load(struct db *db, struct station_settings *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	struct db_rows *rows;
	int r = db_query(db,
			 "SELECT name, timezone, default_fade_in_us, default_fade_out_us,"
			 " default_crossfade_us, loudness_target_lufs, fallback_playlist_id, outputs,"
			 " version FROM station_settings WHERE id = 1",
			 NULL, 0, &rows);
	if (r < 0) {
		seterr(err, errlen, "reading the station settings: ", db_errmsg(db));
		return r;
	}
	if (!db_rows_next(rows)) {
		r = db_rows_error(rows) < 0 ? db_rows_error(rows) : -ENOENT;
		seterr(err, errlen, "the station settings are missing (run onair migrate)", NULL);
		goto out_free_rows;
	}
	snprintf(out->name, sizeof(out->name), "%s", db_col_text(rows, 0));
	snprintf(out->timezone, sizeof(out->timezone), "%s", db_col_text(rows, 1));
	out->default_fade_in_us = db_col_int(rows, 2);
	out->default_fade_out_us = db_col_int(rows, 3);
	out->default_crossfade_us = db_col_int(rows, 4);
	out->loudness_target_lufs = db_col_real(rows, 5);
	out->fallback_playlist_id = db_col_int(rows, 6);
	out->version = db_col_int(rows, 8);
	r = playout_settings_parse(db_col_text(rows, 7), &out->playout, err, errlen);
out_free_rows:
	db_rows_free(rows);
	return r;
}
