/*
 * protocol.h - protocol v1 between "Create the schedule" and "Play the
 * schedule": the schedule snapshot, playout events, commands with their
 * replies, and worker tasks.
 *
 * This is the only code the two blocks share. Every message is a JSON
 * object with "type" and "version"; docs/protocol.md describes them in
 * prose, docs/protocol/<type>.schema.json as JSON Schemas.
 *
 * Conventions in the C structs:
 *   - instants are int64_t microseconds since the Unix epoch (UTC); on the
 *     wire they are RFC 3339 strings;
 *   - durations are int64_t microseconds; on the wire they are seconds as
 *     JSON numbers (at most microsecond precision);
 *   - strings are owned, NUL-terminated, valid UTF-8 without NUL bytes;
 *     NULL means "absent" for optional strings;
 *   - a struct is filled by proto_*_decode and freed by proto_*_release;
 *     the caller owns the struct itself.
 *
 * Decoding validates everything (types, ranges, string lengths, enum
 * values, the ordering and overlap of items) and fails as a whole: on
 * error the output struct is left released and `err` says what and where
 * ("items[3].start: must not be before items[2].start"). Unknown fields
 * are ignored (forward compatibility inside v1); a message whose version
 * is greater than PROTO_VERSION is refused with -ONAIR_EPROTO_VERSION.
 *
 * Encoding never fails for a struct that would pass validation; it
 * returns -EINVAL for one that would not (it validates first), so nothing
 * invalid is ever sent. Encoded output is deterministic: the same struct
 * gives the same bytes (keys in a fixed order).
 *
 * Fields that do not apply to a message's kind (a url on a FILE item, a
 * reason on ITEM_STARTED, the error of an ok reply, ...) are ignored by
 * validation and not encoded; the decoder leaves them zero/NULL and does
 * not read them from the wire. So decode(encode(x)) == x for every valid
 * x whose inapplicable fields are zero.
 *
 * uint64_t counters (revision, seq) are at most INT64_MAX on the wire.
 *
 * Thread-safety: all functions are reentrant; structs are not shared.
 */
#ifndef ONAIR_PROTOCOL_H
#define ONAIR_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define PROTO_VERSION 1

/* Limits every decoder enforces. */
#define PROTO_MESSAGE_MAX (16u << 20)	/* bytes of JSON */
#define PROTO_ITEMS_MAX 100000u		/* items in a snapshot */
#define PROTO_FALLBACK_MAX 10000u	/* fallback items */
#define PROTO_OUTPUTS_MAX 16u
#define PROTO_LIVE_USERS_MAX 1000u
#define PROTO_STRING_MAX 1024u		/* any short text field, bytes */
#define PROTO_URL_MAX 4096u
#define PROTO_LISTENERS_MAX INT64_C(1000000000)	/* a listener count */
#define PROTO_ERR_MAX 256u		/* size of struct proto_error text */
/* Longest duration, us (10^9 s, about 31.7 years): every value up to it
 * survives the trip through seconds as a JSON number exactly. */
#define PROTO_DURATION_MAX INT64_C(1000000000000000)

/* Where and why a decode failed. */
struct proto_error {
	char text[PROTO_ERR_MAX];
};

/* ---------------------------------------------------------------- snapshot
 *
 * The compiled schedule for a window: every decision taken. Items are in
 * start order; item k+1 may begin before item k ends only by its own
 * crossfade (item k+1 .crossfade >= items[k].end - items[k+1].start).
 */

enum proto_item_kind {
	PROTO_ITEM_FILE = 0,	/* a media file from the library */
	PROTO_ITEM_WEBSTREAM,	/* relay of a remote stream URL */
	PROTO_ITEM_LIVE,	/* a slot reserved for a live show source */
	PROTO_ITEM_SILENCE,	/* deliberate silence (rare; e.g. a minute's silence) */
};

/* A media file as playout needs it: what to fetch and how to check it. */
struct proto_media {
	int64_t id;		/* library file id, > 0 */
	char *hash;		/* "sha256:" + 64 lowercase hex digits */
	int64_t size;		/* bytes, > 0 */
	int64_t duration;	/* us, > 0: the decoded length */
	char *mime;		/* optional, e.g. "audio/mpeg" */
};

/* Descriptive metadata sent to the outputs (now playing). All optional. */
struct proto_metadata {
	char *title;
	char *artist;
	char *album;
};

/* The show an item belongs to (absent for items outside shows). */
struct proto_show_ref {
	int64_t id;		/* show id, > 0; 0 means "no show" */
	int64_t instance_id;	/* show instance id, > 0 */
	char *name;
};

struct proto_item {
	int64_t id;		/* schedule item id, > 0, unique in the snapshot */
	enum proto_item_kind kind;
	int64_t start;		/* instant: when it must be on air */
	int64_t end;		/* instant: when it must stop; end > start */
	struct proto_media media;	/* kind FILE only (else zeroed) */
	char *url;		/* kind WEBSTREAM only: http(s) URL */
	int64_t cue_in;		/* FILE: us into the media where playing starts, >= 0 */
	int64_t cue_out;	/* FILE: us into the media where it stops, > cue_in,
				 * <= duration; 0 for other kinds (they play to the end) */
	int64_t fade_in;	/* us, >= 0, <= end - start */
	int64_t fade_out;	/* us, >= 0, <= end - start */
	int64_t crossfade;	/* us this item overlaps the previous one, >= 0,
				 * < end - start */
	double gain_db;		/* gain to apply, -60..+24 dB */
	struct proto_metadata meta;
	struct proto_show_ref show;	/* id 0: no show (the rest is ignored) */
};

/* Station fallback: what plays when nothing is scheduled. */
struct proto_fallback_item {
	struct proto_media media;
	double gain_db;
	struct proto_metadata meta;
};

enum proto_live_input {
	PROTO_LIVE_MAIN = 0,	/* main input: overrides everything */
	PROTO_LIVE_SHOW,	/* show input: overrides the schedule */
};

/* One account allowed on a live input; the password is hashed. */
struct proto_live_user {
	char *name;
	char *password_hash;	/* libsodium crypto_pwhash_str form ("$argon2id$...") */
	int64_t valid_from;	/* instant; 0 = always */
	int64_t valid_until;	/* instant; 0 = always; > valid_from when both set */
};

struct proto_live_input_cfg {
	bool enabled;
	char *mount;		/* harbor mount name, e.g. "show" */
	int64_t fade;		/* us, transition fade in and out, >= 0 */
	struct proto_live_user *users;
	size_t n_users;
};

enum proto_format {
	PROTO_FORMAT_MP3 = 0,
	PROTO_FORMAT_VORBIS,
	PROTO_FORMAT_OPUS,
	PROTO_FORMAT_AAC,
};

/* An Icecast mount the play block feeds. Where the Icecast server is and
 * its source password are the play machine's own settings, not here. */
struct proto_output {
	char *mount;		/* "/live.mp3": starts with '/', [A-Za-z0-9._/-] */
	enum proto_format format;
	int bitrate;		/* kbit/s, 32..512 */
	char *name;		/* optional stream name shown to listeners */
};

/* HLS output; when disabled the other fields are ignored. */
struct proto_hls {
	bool enabled;
	int bitrate;		/* kbit/s AAC, 32..512 */
	int64_t segment;	/* us, 1..30 s */
	int segments;		/* segments kept in the playlist, 3..100 */
};

struct proto_snapshot {
	uint64_t revision;	/* > 0, increases with every publication */
	int64_t generated_at;	/* instant */
	char *station_name;
	char *timezone;		/* IANA name, e.g. "Europe/Berlin" */
	int64_t window_start;	/* instant; items may start before it (one in play) */
	int64_t window_end;	/* instant; > window_start */
	int64_t default_crossfade;	/* us, >= 0 */
	struct proto_item *items;
	size_t n_items;
	struct proto_fallback_item *fallback;
	size_t n_fallback;
	struct proto_live_input_cfg live[2];	/* indexed by enum proto_live_input */
	struct proto_output *outputs;
	size_t n_outputs;
	struct proto_hls hls;
};

/* Decode and validate a snapshot from len bytes of JSON. 0, -EINVAL (bad
 * message, reason in err), -E2BIG (over PROTO_MESSAGE_MAX), or
 * -ONAIR_EPROTO_VERSION. */
int proto_snapshot_decode(const char *json, size_t len, struct proto_snapshot *out,
			  struct proto_error *err);
/* Validate s as the decoder would: 0 or -EINVAL with err. */
int proto_snapshot_validate(const struct proto_snapshot *s, struct proto_error *err);
/* Append the JSON encoding of s to out. 0, -EINVAL (s invalid), -ENOSPC
 * (out's limit). */
int proto_snapshot_encode(const struct proto_snapshot *s, struct buf *out);
/* Free everything s owns and zero it. Safe on a zeroed struct. */
void proto_snapshot_release(struct proto_snapshot *s);
/* Index of the item on air at instant t (the latest-starting item with
 * start <= t < end), or -1. */
long proto_snapshot_item_at(const struct proto_snapshot *s, int64_t t);

/* ------------------------------------------------------------------ events
 *
 * Published by each playout instance on subject "onair.events.<instance>".
 * (instance, seq) identifies an event; seq increases by one per event of
 * an instance and survives restarts (it is kept on disk), so a consumer
 * recognises a redelivery.
 */

enum proto_event_kind {
	PROTO_EV_ITEM_STARTED = 0,
	PROTO_EV_ITEM_ENDED,
	PROTO_EV_SOURCE_CHANGED,
	PROTO_EV_LIVE_CONNECTED,
	PROTO_EV_LIVE_DISCONNECTED,
	PROTO_EV_OUTPUT_UP,
	PROTO_EV_OUTPUT_DOWN,
	PROTO_EV_CACHE_MISSING,
	PROTO_EV_ERROR,
	PROTO_EV_HEARTBEAT,
	PROTO_EV_DEAD_AIR,	/* the dead-air watchdog acted */
	PROTO_EV__COUNT
};

enum proto_source {
	PROTO_SRC_SCHEDULE = 0,
	PROTO_SRC_SHOW_LIVE,	/* the show harbor */
	PROTO_SRC_MAIN_LIVE,	/* the main harbor */
	PROTO_SRC_FALLBACK,	/* station fallback playlist */
	PROTO_SRC_SAFETY,	/* the built-in safety loop */
	PROTO_SRC_NONE,
	PROTO_SRC__COUNT
};

enum proto_end_reason {
	PROTO_END_COMPLETED = 0,	/* played to its end */
	PROTO_END_SKIPPED,		/* skipped by a command */
	PROTO_END_CUT,			/* cut short by the next item or a reload */
	PROTO_END_REPLACED,		/* covered by a live source */
	PROTO_END_FAILED,		/* could not be played (missing, undecodable) */
	PROTO_END__COUNT
};

/* DEAD_AIR: what the watchdog did, and why. */
enum proto_watchdog_action {
	PROTO_WD_FALLBACK = 0,		/* put the station fallback on air */
	PROTO_WD_RESTART_OUTPUT,	/* stopped and started the outputs */
	PROTO_WD_RESTART_LIQUIDSOAP,	/* restarted Liquidsoap */
	PROTO_WD_RECOVERED,		/* the fault is over */
	PROTO_WD__COUNT
};

enum proto_watchdog_cause {
	PROTO_WD_SILENCE = 0,	/* the output is silent */
	PROTO_WD_OUTPUT,	/* an output does not deliver */
	PROTO_WD_CAUSE__COUNT
};

struct proto_event {
	char *instance;		/* playout instance name, [A-Za-z0-9_-]{1,64} */
	uint64_t seq;		/* > 0 */
	int64_t at;		/* instant it happened */
	enum proto_event_kind kind;
	uint64_t snapshot_revision;	/* snapshot in force (0 = none) */
	/* ITEM_STARTED / ITEM_ENDED */
	int64_t item_id;	/* > 0 for item events */
	int64_t scheduled;	/* instant it was scheduled to start/end */
	enum proto_end_reason reason;	/* ITEM_ENDED */
	/* ITEM_STARTED, SOURCE_CHANGED (new source), HEARTBEAT */
	enum proto_source source;
	enum proto_source previous;	/* SOURCE_CHANGED */
	/* LIVE_CONNECTED / LIVE_DISCONNECTED */
	enum proto_live_input input;
	char *user;		/* optional */
	/* OUTPUT_UP / OUTPUT_DOWN: "icecast:/live.mp3" or "hls"; DEAD_AIR:
	 * optional, the output at fault */
	char *output;
	/* DEAD_AIR */
	enum proto_watchdog_action action;
	enum proto_watchdog_cause cause;
	/* CACHE_MISSING */
	int64_t media_id;
	/* ERROR, OUTPUT_DOWN, CACHE_MISSING, DEAD_AIR: optional human text */
	char *message;
	/* metadata of the item (ITEM_STARTED, optional) */
	struct proto_metadata meta;
	/* HEARTBEAT, optional: distinct HLS listeners in the last minute */
	bool hls_reported;	/* hls_listeners is set */
	int64_t hls_listeners;	/* 0..PROTO_LISTENERS_MAX */
};

/* Decode, validate, encode and release as for the snapshot: decode gives
 * 0, -EINVAL (reason in err), -E2BIG or -ONAIR_EPROTO_VERSION; encode 0,
 * -EINVAL or -ENOSPC; release is safe on a zeroed struct. */
int proto_event_decode(const char *json, size_t len, struct proto_event *out,
		       struct proto_error *err);
int proto_event_validate(const struct proto_event *e, struct proto_error *err);
int proto_event_encode(const struct proto_event *e, struct buf *out);
void proto_event_release(struct proto_event *e);

/* ---------------------------------------------------------------- commands
 *
 * Request/reply on "onair.playout.cmd" (every instance answers) or
 * "onair.playout.cmd.<instance>" (one instance).
 */

enum proto_command_kind {
	PROTO_CMD_SKIP = 0,		/* end the current item now */
	PROTO_CMD_SOURCE,		/* switch a source on or off */
	PROTO_CMD_DISCONNECT_LIVE,	/* kick the DJ on a live input */
	PROTO_CMD_RELOAD,		/* re-read the snapshot, re-push the queue */
	PROTO_CMD_STATUS,		/* report status */
	PROTO_CMD__COUNT
};

struct proto_command {
	char *id;		/* request id, [A-Za-z0-9_.:-]{1,64} */
	enum proto_command_kind kind;
	enum proto_source source;	/* SOURCE: SCHEDULE, SHOW_LIVE or MAIN_LIVE */
	bool enabled;		/* SOURCE */
	enum proto_live_input input;	/* DISCONNECT_LIVE */
};

/* Decode, validate, encode and release as for the snapshot: decode gives
 * 0, -EINVAL (reason in err), -E2BIG or -ONAIR_EPROTO_VERSION; encode 0,
 * -EINVAL or -ENOSPC; release is safe on a zeroed struct. */
int proto_command_decode(const char *json, size_t len, struct proto_command *out,
			 struct proto_error *err);
int proto_command_validate(const struct proto_command *c, struct proto_error *err);
int proto_command_encode(const struct proto_command *c, struct buf *out);
void proto_command_release(struct proto_command *c);

struct proto_output_status {
	char *output;		/* "icecast:/live.mp3" or "hls" */
	bool up;
};

/* What a playout instance reports (reply to STATUS, optional otherwise). */
struct proto_status {
	uint64_t snapshot_revision;
	enum proto_source source;
	int64_t on_air_item_id;	/* 0 = none */
	int64_t next_item_id;	/* 0 = none */
	int64_t next_start;	/* instant; 0 when next_item_id is 0 */
	uint32_t cache_ready;	/* files of the cache horizon present and verified */
	uint32_t cache_missing;	/* files of the horizon not (yet) present */
	struct proto_output_status *outputs;	/* at most PROTO_OUTPUTS_MAX + 1 */
	size_t n_outputs;
};

struct proto_reply {
	char *command_id;	/* the request's id */
	char *instance;
	bool ok;
	char *error;		/* required when !ok: why (ignored when ok) */
	bool has_status;
	struct proto_status status;
};

/* Decode, validate, encode and release as for the snapshot: decode gives
 * 0, -EINVAL (reason in err), -E2BIG or -ONAIR_EPROTO_VERSION; encode 0,
 * -EINVAL or -ENOSPC; release is safe on a zeroed struct. */
int proto_reply_decode(const char *json, size_t len, struct proto_reply *out,
		       struct proto_error *err);
int proto_reply_validate(const struct proto_reply *r, struct proto_error *err);
int proto_reply_encode(const struct proto_reply *r, struct buf *out);
void proto_reply_release(struct proto_reply *r);

/* ------------------------------------------------------------------- tasks
 *
 * Worker tasks on the work-queue stream, subject "onair.tasks.<kind>".
 */

enum proto_task_kind {
	PROTO_TASK_ANALYZE_FILE = 0,	/* analyse an uploaded file */
	PROTO_TASK_POLL_PODCAST,	/* poll one podcast feed */
	PROTO_TASK_INGEST_EPISODE,	/* download and import one episode */
	PROTO_TASK__COUNT
};

struct proto_task {
	char *id;		/* task id, [A-Za-z0-9_.:-]{1,64}; the queue's message id */
	enum proto_task_kind kind;
	int64_t created_at;	/* instant */
	int64_t file_id;	/* ANALYZE_FILE, > 0 */
	int64_t podcast_id;	/* POLL_PODCAST, INGEST_EPISODE, > 0 */
	int64_t episode_id;	/* INGEST_EPISODE, > 0 */
};

/* Decode, validate, encode and release as for the snapshot: decode gives
 * 0, -EINVAL (reason in err), -E2BIG or -ONAIR_EPROTO_VERSION; encode 0,
 * -EINVAL or -ENOSPC; release is safe on a zeroed struct. */
int proto_task_decode(const char *json, size_t len, struct proto_task *out,
		      struct proto_error *err);
int proto_task_validate(const struct proto_task *t, struct proto_error *err);
int proto_task_encode(const struct proto_task *t, struct buf *out);
void proto_task_release(struct proto_task *t);

/* ------------------------------------------------------------------- names */

/* Wire names of the enums ("file", "item_started", "show_live", ...).
 * Never NULL for a valid value; "?" otherwise. */
const char *proto_item_kind_name(enum proto_item_kind k);
const char *proto_event_kind_name(enum proto_event_kind k);
const char *proto_source_name(enum proto_source s);
const char *proto_end_reason_name(enum proto_end_reason r);
const char *proto_watchdog_action_name(enum proto_watchdog_action a);
const char *proto_watchdog_cause_name(enum proto_watchdog_cause c);
const char *proto_command_kind_name(enum proto_command_kind k);
const char *proto_task_kind_name(enum proto_task_kind k);
const char *proto_format_name(enum proto_format f);
const char *proto_live_input_name(enum proto_live_input i);

/* Peek at a message: its "type" ("snapshot", "event", "command", "reply",
 * "task") copied into out (size >= 16). 0 or -EINVAL. */
int proto_message_type(const char *json, size_t len, char *out, size_t size);

#include "common/banned.h"
#endif
