/*
 * settings.h - the station's settings (the one row of station_settings)
 * and the playout settings that travel in every snapshot.
 *
 * station_settings.outputs is a JSON document, the playout part of a
 * snapshot without the users (docs/internals/scheduling.md):
 *
 *   { "outputs": [ { "mount": "/live.mp3", "format": "mp3", "bitrate": 128 } ],
 *     "hls": { "enabled": true, "bitrate": 128, "segment": 2, "segments": 6 },
 *     "live": { "main": { "enabled": true, "mount": "main", "fade": 1 },
 *               "show": { "enabled": true, "mount": "show", "fade": 1 } } }
 *
 * Every member is optional; a missing one takes its default (the values
 * above). A bare array is read as the "outputs" member, and the empty
 * array (the column's default) gives the defaults: a fresh station
 * streams MP3 at 128 kbit/s on /live.mp3, HLS, and both live inputs.
 * The document is checked with the protocol's own snapshot validator, so
 * what the settings accept is exactly what playout accepts.
 */
#ifndef ONAIR_STATION_SETTINGS_H
#define ONAIR_STATION_SETTINGS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"
#include "protocol/protocol.h"

/* Longest station name and time zone kept. */
#define STATION_NAME_MAX 1024u
#define STATION_TZ_MAX 64u

/* The playout settings: outputs, HLS, live inputs (without users). */
struct playout_settings {
	struct proto_output *outputs;	/* owned */
	size_t n_outputs;
	struct proto_hls hls;
	struct proto_live_input_cfg live[2];	/* indexed by enum proto_live_input;
						   mount owned; users NULL */
};

struct station_settings {
	char name[STATION_NAME_MAX + 1];
	char timezone[STATION_TZ_MAX + 1];
	int64_t default_fade_in_us;
	int64_t default_fade_out_us;
	int64_t default_crossfade_us;
	double loudness_target_lufs;
	int64_t fallback_playlist_id;	/* 0 = none */
	int64_t version;
	struct playout_settings playout;
};

/*
 * Read the settings row into *out (release with station_settings_release).
 * 0; -ENOENT when the row is missing (the database was not migrated);
 * -EINVAL when the stored playout settings do not parse (err says where:
 * "outputs[0].bitrate: must be between 32 and 512"); or an error of
 * db_query. err may be NULL.
 */
int station_settings_load(struct db *db, struct station_settings *out, char *err, size_t errlen);
void station_settings_release(struct station_settings *s);

/*
 * Parse and check a playout settings document (the text of
 * station_settings.outputs) into *out (release with
 * playout_settings_release). 0, or -EINVAL with the reason in err
 * ("hls.segment: must be between 1 and 30 s", "not JSON: ..."); *out is
 * then empty. Used when the settings are stored and when they are read.
 */
int playout_settings_parse(const char *json, struct playout_settings *out, char *err,
			   size_t errlen);
void playout_settings_release(struct playout_settings *p);

#include "common/banned.h"
#endif
