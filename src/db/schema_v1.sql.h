/*
 * schema_v1.sql.h - migration 1: the station's data model. Included by
 * migrations.c only.
 *
 * Portable SQL (docs/internals/db.md): {{ID}} is the auto-increment
 * primary key, instants are BIGINT microseconds since the epoch (UTC,
 * columns named *_at), durations BIGINT microseconds (*_us), booleans
 * BOOLEAN, JSON documents TEXT. Local calendar values of recurrences are
 * TEXT in ISO form ('2026-11-28', '18:30:00'), so they sort as text.
 *
 * CHECK constraints list the values of enums that are part of the data
 * model and change only with it (roles, import status). Enums that grow
 * with the protocol (task kinds, playout sources, end reasons) are checked
 * by the code instead: SQLite cannot change a CHECK without rebuilding
 * the table.
 *
 * References: ON DELETE CASCADE for rows that belong to their parent
 * (items of a playlist), SET NULL for history that must outlive what it
 * points to (as-run, audit), RESTRICT where deleting would silently break
 * the schedule (a scheduled file): such a DELETE fails with -ENOTEMPTY.
 *
 * Each string is one step (kept under 4095 bytes, the longest literal ISO
 * C requires compilers to support); they run in order in one transaction.
 */
#ifndef ONAIR_DB_SCHEMA_V1_SQL_H
#define ONAIR_DB_SCHEMA_V1_SQL_H

static const char *const schema_v1[] = {
	/* People and access. role: what a user may do (see the API docs).
	 * password_hash: NULL for accounts that cannot log in with a
	 * password. Names and e-mail addresses are unique without regard to
	 * ASCII case. */
	"CREATE TABLE users ("
	" id {{ID}},"
	" name TEXT NOT NULL,"
	" email TEXT,"
	" display_name TEXT NOT NULL DEFAULT '',"
	" role TEXT NOT NULL CHECK (role IN ('admin', 'program_manager', 'host', 'guest')),"
	" password_hash TEXT,"
	" created_at BIGINT NOT NULL,"
	" disabled BOOLEAN NOT NULL DEFAULT FALSE);"
	"CREATE UNIQUE INDEX users_name_idx ON users (lower(name));"
	"CREATE UNIQUE INDEX users_email_idx ON users (lower(email));",

	/* Web sessions: the cookie's token is never stored, only its hash.
	 * csrf_token is compared with the header of state-changing requests. */
	"CREATE TABLE sessions ("
	" token_hash TEXT PRIMARY KEY,"
	" user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
	" csrf_token TEXT NOT NULL,"
	" created_at BIGINT NOT NULL,"
	" expires_at BIGINT NOT NULL,"
	" last_seen_at BIGINT);"
	"CREATE INDEX sessions_user_idx ON sessions (user_id);"
	"CREATE INDEX sessions_expires_idx ON sessions (expires_at);",

	/* API tokens for scripts: role is the token's scope, at most its
	 * user's role. A revoked token stays for the audit trail. */
	"CREATE TABLE api_tokens ("
	" id {{ID}},"
	" token_hash TEXT NOT NULL UNIQUE,"
	" user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
	" name TEXT NOT NULL,"
	" role TEXT NOT NULL CHECK (role IN ('admin', 'program_manager', 'host', 'guest')),"
	" created_at BIGINT NOT NULL,"
	" last_used_at BIGINT,"
	" revoked_at BIGINT);"
	"CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);",

	/* Kinds of audio (music, jingle, ad, talk...), with the silence
	 * detection settings used to find cue points on import. */
	"CREATE TABLE track_types ("
	" id {{ID}},"
	" code TEXT NOT NULL UNIQUE,"
	" name TEXT NOT NULL,"
	" description TEXT NOT NULL DEFAULT '',"
	" silence_threshold_db DOUBLE PRECISION NOT NULL DEFAULT -50,"
	" silence_min_us BIGINT NOT NULL DEFAULT 1000000 CHECK (silence_min_us >= 0));",

	/* The library. content_hash ("sha256:" + hex) identifies the bytes:
	 * the same upload twice is one file. storage_key is the path under
	 * storage.path. Metadata is NULL when unknown; the analysis fields
	 * are filled by the worker (import_status 'ready'). bitrate in
	 * bits/s, loudness_range in LU, true_peak in dBTP. */
	"CREATE TABLE files ("
	" id {{ID}},"
	" content_hash TEXT NOT NULL UNIQUE,"
	" size BIGINT NOT NULL CHECK (size >= 0),"
	" mime TEXT NOT NULL,"
	" storage_key TEXT NOT NULL,"
	" import_status TEXT NOT NULL DEFAULT 'pending'"
	"  CHECK (import_status IN ('pending', 'ready', 'failed')),"
	" failure_reason TEXT,"
	" uploaded_by BIGINT REFERENCES users (id) ON DELETE SET NULL,"
	" created_at BIGINT NOT NULL,"
	" updated_at BIGINT NOT NULL,"
	" track_type_id BIGINT REFERENCES track_types (id) ON DELETE SET NULL,"
	" title TEXT, artist TEXT, album TEXT, genre TEXT,"
	" year INTEGER, track_number INTEGER, disc_number INTEGER,"
	" composer TEXT, label TEXT, isrc TEXT, bpm DOUBLE PRECISION,"
	" comment TEXT, language TEXT,"
	" duration_us BIGINT CHECK (duration_us IS NULL OR duration_us >= 0),"
	" sample_rate INTEGER, channels INTEGER, bitrate INTEGER,"
	" codec TEXT, container TEXT,"
	" loudness_lufs DOUBLE PRECISION, loudness_range DOUBLE PRECISION,"
	" true_peak_dbtp DOUBLE PRECISION, replaygain_db DOUBLE PRECISION,"
	" cue_in_us BIGINT, cue_out_us BIGINT,"
	" waveform_path TEXT, artwork_path TEXT,"
	" last_played_at BIGINT,"
	" play_count BIGINT NOT NULL DEFAULT 0);"
	"CREATE INDEX files_title_idx ON files (lower(title));"
	"CREATE INDEX files_artist_idx ON files (lower(artist));"
	"CREATE INDEX files_album_idx ON files (lower(album));"
	"CREATE INDEX files_status_idx ON files (import_status, created_at);"
	"CREATE INDEX files_track_type_idx ON files (track_type_id);"
	"CREATE INDEX files_last_played_idx ON files (last_played_at);",

	/* Remote streams relayed on air; duration_us is how long one is
	 * scheduled by default. */
	"CREATE TABLE webstreams ("
	" id {{ID}},"
	" name TEXT NOT NULL,"
	" url TEXT NOT NULL,"
	" description TEXT NOT NULL DEFAULT '',"
	" duration_us BIGINT NOT NULL CHECK (duration_us > 0),"
	" created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,"
	" created_at BIGINT NOT NULL,"
	" updated_at BIGINT NOT NULL);",

	/* Smart blocks: a rule that picks files when the schedule is built.
	 * limit_type 'items' counts files, 'duration' is microseconds;
	 * overflow lets the last file run past a duration limit; repeats
	 * allows a file twice; the separations keep one artist or title from
	 * coming back within that time. */
	"CREATE TABLE smart_blocks ("
	" id {{ID}},"
	" name TEXT NOT NULL,"
	" description TEXT NOT NULL DEFAULT '',"
	" owner_id BIGINT REFERENCES users (id) ON DELETE SET NULL,"
	" limit_type TEXT NOT NULL DEFAULT 'items' CHECK (limit_type IN ('items', 'duration')),"
	" limit_value BIGINT NOT NULL DEFAULT 10 CHECK (limit_value > 0),"
	" sort TEXT NOT NULL DEFAULT 'random'"
	"  CHECK (sort IN ('random', 'newest', 'oldest', 'least_played', 'title', 'artist')),"
	" allow_repeats BOOLEAN NOT NULL DEFAULT FALSE,"
	" overflow BOOLEAN NOT NULL DEFAULT FALSE,"
	" artist_separation_us BIGINT,"
	" title_separation_us BIGINT,"
	" created_at BIGINT NOT NULL,"
	" updated_at BIGINT NOT NULL);"
	/* A file matches when every criterion of one group matches (AND
	 * within a group, OR between groups). field names a files column
	 * (checked against a list in the code); value2 is the upper bound
	 * of 'between'. Values are text, converted by the field's type. */
	"CREATE TABLE smart_block_criteria ("
	" id {{ID}},"
	" smart_block_id BIGINT NOT NULL REFERENCES smart_blocks (id) ON DELETE CASCADE,"
	" group_no INTEGER NOT NULL DEFAULT 0,"
	" field TEXT NOT NULL,"
	" modifier TEXT NOT NULL CHECK (modifier IN ('is', 'is_not', 'contains', 'not_contains',"
	"  'starts_with', 'ends_with', 'greater', 'less', 'between', 'in_last', 'not_in_last')),"
	" value TEXT NOT NULL,"
	" value2 TEXT);"
	"CREATE INDEX smart_block_criteria_block_idx ON smart_block_criteria (smart_block_id);",

	/* Playlists: an ordered list of files, smart blocks or webstreams
	 * (exactly one per item). The overrides are NULL to use the file's
	 * own cue points and the station's fades. */
	"CREATE TABLE playlists ("
	" id {{ID}},"
	" name TEXT NOT NULL,"
	" description TEXT NOT NULL DEFAULT '',"
	" owner_id BIGINT REFERENCES users (id) ON DELETE SET NULL,"
	" created_at BIGINT NOT NULL,"
	" updated_at BIGINT NOT NULL,"
	" version BIGINT NOT NULL DEFAULT 1);"
	"CREATE TABLE playlist_items ("
	" id {{ID}},"
	" playlist_id BIGINT NOT NULL REFERENCES playlists (id) ON DELETE CASCADE,"
	" position INTEGER NOT NULL,"
	" file_id BIGINT REFERENCES files (id) ON DELETE CASCADE,"
	" smart_block_id BIGINT REFERENCES smart_blocks (id) ON DELETE CASCADE,"
	" webstream_id BIGINT REFERENCES webstreams (id) ON DELETE CASCADE,"
	" cue_in_us BIGINT, cue_out_us BIGINT,"
	" fade_in_us BIGINT, fade_out_us BIGINT, crossfade_us BIGINT,"
	" gain_db DOUBLE PRECISION,"
	" CHECK ((CASE WHEN file_id IS NULL THEN 0 ELSE 1 END)"
	"  + (CASE WHEN smart_block_id IS NULL THEN 0 ELSE 1 END)"
	"  + (CASE WHEN webstream_id IS NULL THEN 0 ELSE 1 END) = 1));"
	"CREATE INDEX playlist_items_playlist_idx ON playlist_items (playlist_id, position);"
	"CREATE INDEX playlist_items_file_idx ON playlist_items (file_id);"
	"CREATE INDEX playlist_items_block_idx ON playlist_items (smart_block_id);"
	"CREATE INDEX playlist_items_webstream_idx ON playlist_items (webstream_id);",

	/* Podcasts followed by the worker; episodes are imported as files.
	 * etag and last_modified make polling cheap. */
	"CREATE TABLE podcasts ("
	" id {{ID}},"
	" url TEXT NOT NULL UNIQUE,"
	" title TEXT NOT NULL DEFAULT '',"
	" description TEXT NOT NULL DEFAULT '',"
	" image_url TEXT,"
	" auto_ingest BOOLEAN NOT NULL DEFAULT FALSE,"
	" track_type_id BIGINT REFERENCES track_types (id) ON DELETE SET NULL,"
	" created_by BIGINT REFERENCES users (id) ON DELETE SET NULL,"
	" etag TEXT, last_modified TEXT,"
	" last_checked_at BIGINT, last_error TEXT,"
	" created_at BIGINT NOT NULL,"
	" updated_at BIGINT NOT NULL);"
	"CREATE TABLE podcast_episodes ("
	" id {{ID}},"
	" podcast_id BIGINT NOT NULL REFERENCES podcasts (id) ON DELETE CASCADE,"
	" guid TEXT NOT NULL,"
	" title TEXT NOT NULL DEFAULT '',"
	" description TEXT NOT NULL DEFAULT '',"
	" published_at BIGINT,"
	" enclosure_url TEXT NOT NULL,"
	" enclosure_size BIGINT,"
	" file_id BIGINT REFERENCES files (id) ON DELETE SET NULL,"
	" import_status TEXT NOT NULL DEFAULT 'new'"
	"  CHECK (import_status IN ('new', 'pending', 'imported', 'failed', 'skipped')),"
	" created_at BIGINT NOT NULL,"
	" UNIQUE (podcast_id, guid));"
	"CREATE INDEX podcast_episodes_published_idx"
	" ON podcast_episodes (podcast_id, published_at);",

	/* Shows. live_input: who may go live on the show input during the
	 * show ('none', its 'hosts', or 'any' user allowed to broadcast).
	 * autoplaylist fills empty instances (repeated to fill the slot when
	 * autoplaylist_repeat); intro and outro play at the edges. linked:
	 * every instance shares the content of the first. */
	"CREATE TABLE shows ("
	" id {{ID}},"
	" name TEXT NOT NULL,"
	" description TEXT NOT NULL DEFAULT '',"
	" url TEXT,"
	" genre TEXT,"
	" color TEXT,"
	" background_color TEXT,"
	" image_path TEXT,"
	" live_input TEXT NOT NULL DEFAULT 'none' CHECK (live_input IN ('none', 'hosts', 'any')),"
	" autoplaylist_id BIGINT REFERENCES playlists (id) ON DELETE SET NULL,"
	" autoplaylist_repeat BOOLEAN NOT NULL DEFAULT FALSE,"
	" intro_playlist_id BIGINT REFERENCES playlists (id) ON DELETE SET NULL,"
	" outro_playlist_id BIGINT REFERENCES playlists (id) ON DELETE SET NULL,"
	" linked BOOLEAN NOT NULL DEFAULT FALSE,"
	" created_at BIGINT NOT NULL,"
	" updated_at BIGINT NOT NULL);"
	"CREATE TABLE show_hosts ("
	" show_id BIGINT NOT NULL REFERENCES shows (id) ON DELETE CASCADE,"
	" user_id BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,"
	" PRIMARY KEY (show_id, user_id));"
	"CREATE INDEX show_hosts_user_idx ON show_hosts (user_id);",

	/* When a show happens, in its own time zone (an IANA name), so that
	 * it keeps its local time across daylight saving changes.
	 * frequency 'once' (start_date only), 'weekly' (weekdays: bit 0 =
	 * Monday .. bit 6 = Sunday), 'monthly_by_day' (the start date's day
	 * of the month), 'monthly_by_weekday' (week_position 1..5 or -1 for
	 * the last, of the start date's weekday); repeat_every: every N
	 * weeks or months. end_date is the last local date, inclusive. */
	"CREATE TABLE show_recurrences ("
	" id {{ID}},"
	" show_id BIGINT NOT NULL REFERENCES shows (id) ON DELETE CASCADE,"
	" frequency TEXT NOT NULL"
	"  CHECK (frequency IN ('once', 'weekly', 'monthly_by_day', 'monthly_by_weekday')),"
	" repeat_every INTEGER NOT NULL DEFAULT 1 CHECK (repeat_every >= 1),"
	" weekdays INTEGER NOT NULL DEFAULT 0 CHECK (weekdays >= 0 AND weekdays < 128),"
	" week_position INTEGER CHECK (week_position IS NULL"
	"  OR week_position IN (1, 2, 3, 4, 5, -1)),"
	" start_date TEXT NOT NULL,"
	" start_time TEXT NOT NULL,"
	" duration_us BIGINT NOT NULL CHECK (duration_us > 0),"
	" timezone TEXT NOT NULL,"
	" end_date TEXT,"
	" created_at BIGINT NOT NULL,"
	" updated_at BIGINT NOT NULL);"
	"CREATE INDEX show_recurrences_show_idx ON show_recurrences (show_id);"
	/* One occurrence changed: 'cancelled', 'moved' (to moved_starts_at
	 * .. moved_ends_at) or 'edited' (its instance keeps its own
	 * content). instance_date is the local date it would have had. */
	"CREATE TABLE show_exceptions ("
	" id {{ID}},"
	" recurrence_id BIGINT NOT NULL REFERENCES show_recurrences (id) ON DELETE CASCADE,"
	" instance_date TEXT NOT NULL,"
	" kind TEXT NOT NULL CHECK (kind IN ('cancelled', 'moved', 'edited')),"
	" moved_starts_at BIGINT,"
	" moved_ends_at BIGINT,"
	" CHECK (kind <> 'moved' OR (moved_starts_at IS NOT NULL"
	"  AND moved_ends_at > moved_starts_at)),"
	" UNIQUE (recurrence_id, instance_date));",

	/* Occurrences made concrete, the unit the schedule is built in.
	 * rebroadcast_of: the instance whose content this one replays;
	 * linked_to: the instance whose content a linked show shares.
	 * version increases on every change: an update says which version
	 * it read (optimistic concurrency). */
	"CREATE TABLE show_instances ("
	" id {{ID}},"
	" show_id BIGINT NOT NULL REFERENCES shows (id) ON DELETE CASCADE,"
	" recurrence_id BIGINT REFERENCES show_recurrences (id) ON DELETE SET NULL,"
	" instance_date TEXT,"
	" starts_at BIGINT NOT NULL,"
	" ends_at BIGINT NOT NULL,"
	" rebroadcast_of BIGINT REFERENCES show_instances (id) ON DELETE SET NULL,"
	" linked_to BIGINT REFERENCES show_instances (id) ON DELETE SET NULL,"
	" version BIGINT NOT NULL DEFAULT 1,"
	" created_at BIGINT NOT NULL,"
	" updated_at BIGINT NOT NULL,"
	" CHECK (ends_at > starts_at));"
	"CREATE INDEX show_instances_starts_idx ON show_instances (starts_at);"
	"CREATE INDEX show_instances_show_idx ON show_instances (show_id, starts_at);"
	"CREATE INDEX show_instances_recurrence_idx ON show_instances (recurrence_id);",

	/* The schedule: what plays when, inside an instance. kind as in the
	 * protocol ('file', 'webstream', 'live', 'silence'); a scheduled file
	 * or webstream cannot be deleted (RESTRICT). source_playlist_id says
	 * where an item came from, for display. */
	"CREATE TABLE schedule_items ("
	" id {{ID}},"
	" instance_id BIGINT NOT NULL REFERENCES show_instances (id) ON DELETE CASCADE,"
	" position INTEGER NOT NULL,"
	" starts_at BIGINT NOT NULL,"
	" ends_at BIGINT NOT NULL,"
	" kind TEXT NOT NULL CHECK (kind IN ('file', 'webstream', 'live', 'silence')),"
	" file_id BIGINT REFERENCES files (id) ON DELETE RESTRICT,"
	" webstream_id BIGINT REFERENCES webstreams (id) ON DELETE RESTRICT,"
	" source_playlist_id BIGINT REFERENCES playlists (id) ON DELETE SET NULL,"
	" cue_in_us BIGINT, cue_out_us BIGINT,"
	" fade_in_us BIGINT, fade_out_us BIGINT, crossfade_us BIGINT,"
	" gain_db DOUBLE PRECISION,"
	" version BIGINT NOT NULL DEFAULT 1,"
	" CHECK (ends_at > starts_at),"
	" CHECK (kind <> 'file' OR file_id IS NOT NULL),"
	" CHECK (kind <> 'webstream' OR webstream_id IS NOT NULL));"
	"CREATE INDEX schedule_items_starts_idx ON schedule_items (starts_at);"
	"CREATE INDEX schedule_items_instance_idx ON schedule_items (instance_id, position);"
	"CREATE INDEX schedule_items_file_idx ON schedule_items (file_id);"
	"CREATE INDEX schedule_items_webstream_idx ON schedule_items (webstream_id);",

	/* What actually went on air, from playout events. (playout_instance,
	 * event_seq) identifies the event, so a redelivered one is stored
	 * once. title and artist are copied: the log outlives the files.
	 * source and end_reason are the protocol's names. */
	"CREATE TABLE as_run ("
	" id {{ID}},"
	" playout_instance TEXT NOT NULL,"
	" event_seq BIGINT NOT NULL,"
	" schedule_item_id BIGINT REFERENCES schedule_items (id) ON DELETE SET NULL,"
	" instance_id BIGINT REFERENCES show_instances (id) ON DELETE SET NULL,"
	" file_id BIGINT REFERENCES files (id) ON DELETE SET NULL,"
	" title TEXT, artist TEXT,"
	" scheduled_start_at BIGINT,"
	" started_at BIGINT NOT NULL,"
	" ended_at BIGINT,"
	" source TEXT NOT NULL,"
	" end_reason TEXT,"
	" UNIQUE (playout_instance, event_seq));"
	"CREATE INDEX as_run_started_idx ON as_run (started_at);"
	"CREATE INDEX as_run_item_idx ON as_run (schedule_item_id);"
	"CREATE INDEX as_run_file_idx ON as_run (file_id);",

	/* Live broadcasts on the 'main' or 'show' input; user_name is what
	 * the harbor was told. */
	"CREATE TABLE live_sessions ("
	" id {{ID}},"
	" input TEXT NOT NULL CHECK (input IN ('main', 'show')),"
	" user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,"
	" user_name TEXT,"
	" instance_id BIGINT REFERENCES show_instances (id) ON DELETE SET NULL,"
	" playout_instance TEXT NOT NULL,"
	" connected_at BIGINT NOT NULL,"
	" disconnected_at BIGINT);"
	"CREATE INDEX live_sessions_connected_idx ON live_sessions (connected_at);"
	/* Listener samples per output ("icecast:/live.mp3" or "hls"). */
	"CREATE TABLE listener_counts ("
	" id {{ID}},"
	" output TEXT NOT NULL,"
	" at BIGINT NOT NULL,"
	" listeners INTEGER NOT NULL CHECK (listeners >= 0),"
	" UNIQUE (output, at));"
	"CREATE INDEX listener_counts_at_idx ON listener_counts (at);",

	/* Station settings: one row (id 1) of typed columns. outputs is the
	 * JSON description of the streams playout sends. */
	"CREATE TABLE station_settings ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" name TEXT NOT NULL,"
	" description TEXT NOT NULL DEFAULT '',"
	" timezone TEXT NOT NULL,"
	" default_fade_in_us BIGINT NOT NULL CHECK (default_fade_in_us >= 0),"
	" default_fade_out_us BIGINT NOT NULL CHECK (default_fade_out_us >= 0),"
	" default_crossfade_us BIGINT NOT NULL CHECK (default_crossfade_us >= 0),"
	" loudness_target_lufs DOUBLE PRECISION NOT NULL,"
	" fallback_playlist_id BIGINT REFERENCES playlists (id) ON DELETE SET NULL,"
	" outputs TEXT NOT NULL DEFAULT '[]',"
	" version BIGINT NOT NULL DEFAULT 1,"
	" updated_at BIGINT NOT NULL);"
	"INSERT INTO station_settings (id, name, timezone, default_fade_in_us,"
	" default_fade_out_us, default_crossfade_us, loudness_target_lufs, updated_at)"
	" VALUES (1, 'onair', 'UTC', 0, 0, 0, -16, 0);",

	/* Who changed what. actor is the user's name at the time (or
	 * 'system'); entity and entity_id name the object ('file', '42');
	 * details is JSON. */
	"CREATE TABLE audit_log ("
	" id {{ID}},"
	" at BIGINT NOT NULL,"
	" user_id BIGINT REFERENCES users (id) ON DELETE SET NULL,"
	" actor TEXT NOT NULL,"
	" action TEXT NOT NULL,"
	" entity TEXT NOT NULL,"
	" entity_id TEXT,"
	" details TEXT);"
	"CREATE INDEX audit_log_at_idx ON audit_log (at);"
	"CREATE INDEX audit_log_entity_idx ON audit_log (entity, entity_id);",

	/* Background tasks handed to the worker through the queue, tracked
	 * here for the web app. task_id is the queue message id; kind is the
	 * protocol's name ('analyze_file', ...). */
	"CREATE TABLE tasks ("
	" id {{ID}},"
	" task_id TEXT NOT NULL UNIQUE,"
	" kind TEXT NOT NULL,"
	" state TEXT NOT NULL DEFAULT 'queued'"
	"  CHECK (state IN ('queued', 'running', 'done', 'failed')),"
	" file_id BIGINT REFERENCES files (id) ON DELETE CASCADE,"
	" podcast_id BIGINT REFERENCES podcasts (id) ON DELETE CASCADE,"
	" episode_id BIGINT REFERENCES podcast_episodes (id) ON DELETE CASCADE,"
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" last_error TEXT,"
	" created_at BIGINT NOT NULL,"
	" updated_at BIGINT NOT NULL,"
	" started_at BIGINT,"
	" finished_at BIGINT);"
	"CREATE INDEX tasks_state_idx ON tasks (state, updated_at);"
	"CREATE INDEX tasks_file_idx ON tasks (file_id);",

	NULL,
};

#endif
