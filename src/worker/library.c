/*
 * library.c - files and tasks rows for the worker and the importers; see
 * library.h.
 */
#include "worker/library.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/timeutil.h"
#include "protocol/protocol.h"
#include "worker/tags.h"

/* Longest source_path stored, in bytes. */
#define SOURCE_PATH_MAX 4096

/* A copy of s that a text column accepts: s itself when it is valid UTF-8
 * of at most max bytes, otherwise text_to_utf8's reading of it. NULL for
 * NULL (or nothing left). Free with free(). */
static char *db_text(const char *s, size_t max)
{
	if (!s)
		return NULL;
	size_t n = strlen(s);
	if (n <= max && text_utf8_valid(s, n))
		return xstrdup(s);
	return text_to_utf8(s, max);
}

static void set_err(char *err, size_t errlen, const char *what, int r)
{
	if (errlen)
		snprintf(err, errlen, "%s: %s", what, onair_strerror(r));
}

const char *library_mime_for_ext(const char *ext)
{
	static const struct {
		const char *ext;
		const char *mime;
	} map[] = {
		{ "mp3", "audio/mpeg" }, { "mp2", "audio/mpeg" }, { "mpga", "audio/mpeg" },
		{ "ogg", "audio/ogg" },	 { "oga", "audio/ogg" },  { "opus", "audio/ogg" },
		{ "flac", "audio/flac" }, { "wav", "audio/wav" }, { "m4a", "audio/mp4" },
		{ "mp4", "audio/mp4" },	 { "aac", "audio/aac" },  { "aif", "audio/aiff" },
		{ "aiff", "audio/aiff" }, { "wma", "audio/x-ms-wma" }, { "webm", "audio/webm" },
		{ "mka", "audio/x-matroska" },
	};
	if (ext && *ext == '.')
		ext++;
	for (size_t i = 0; ext && i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcasecmp(ext, map[i].ext) == 0)
			return map[i].mime;
	}
	return "application/octet-stream";
}

const char *library_mime_for_container(const char *container)
{
	static const struct {
		const char *container;
		const char *mime;
	} map[] = {
		{ "mp3", "audio/mpeg" },
		{ "ogg", "audio/ogg" },
		{ "flac", "audio/flac" },
		{ "wav", "audio/wav" },
		{ "w64", "audio/wav" },
		{ "mov,mp4,m4a,3gp,3g2,mj2", "audio/mp4" },
		{ "aac", "audio/aac" },
		{ "aiff", "audio/aiff" },
		{ "matroska,webm", "audio/webm" },
		{ "asf", "audio/x-ms-wma" },
	};
	for (size_t i = 0; container && i < sizeof(map) / sizeof(map[0]); i++) {
		if (strcmp(container, map[i].container) == 0)
			return map[i].mime;
	}
	return NULL;
}

/* The id of the files row with content hash: 0, -ENOENT, or an error. */
static int file_id_by_hash(struct db *db, const char *hash, int64_t *id)
{
	return db_query_int(db, "SELECT id FROM files WHERE content_hash = $1",
			    DB_PARAMS(DB_T(hash)), id);
}

int library_add_file(struct db *db, const char *hash, int64_t size, const char *mime,
		     const char *storage_key, int64_t uploaded_by, int64_t track_type_id,
		     const char *source_path, int64_t now, int64_t *id, bool *existed)
{
	if (!db || !hash || !*hash || !mime || !*mime || !storage_key || !*storage_key ||
	    size < 0 || !id || !existed)
		return -EINVAL;
	char *src = db_text(source_path, SOURCE_PATH_MAX);
	int r = 0;
	/* Insert, or find the row a concurrent insert made; a row deleted
	 * between the two gives another round. */
	for (int round = 0; round < 3; round++) {
		struct db_rows *rows = NULL;
		r = db_query(db,
			     "INSERT INTO files (content_hash, size, mime, storage_key,"
			     " uploaded_by, track_type_id, source_path, import_status, created_at,"
			     " updated_at)"
			     " VALUES ($1, $2, $3, $4, $5, $6, $7, 'pending', $8, $8)"
			     " ON CONFLICT (content_hash) DO NOTHING RETURNING id",
			     DB_PARAMS(DB_T(hash), DB_I(size), DB_T(mime), DB_T(storage_key),
				       uploaded_by > 0 ? DB_I(uploaded_by) : DB_N,
				       track_type_id > 0 ? DB_I(track_type_id) : DB_N, DB_T(src),
				       DB_I(now)),
			     &rows);
		if (r < 0)
			goto out_free_src;
		bool inserted = db_rows_next(rows);
		if (inserted)
			*id = db_col_int(rows, 0);
		r = db_rows_error(rows);
		db_rows_free(rows);
		if (r < 0)
			goto out_free_src;
		if (inserted) {
			*existed = false;
			goto out_free_src;
		}
		r = file_id_by_hash(db, hash, id);
		if (r == 0) {
			*existed = true;
			goto out_free_src;
		}
		if (r != -ENOENT)
			goto out_free_src;
	}
	r = -EBUSY;
out_free_src:
	free(src);
	return r;
}

int library_find_file(struct db *db, const char *hash, struct library_file_info *out)
{
	if (!db || !hash || !out)
		return -EINVAL;
	struct db_rows *rows;
	int r = db_query(db,
			 "SELECT id, import_status, source_path, track_type_id FROM files"
			 " WHERE content_hash = $1",
			 DB_PARAMS(DB_T(hash)), &rows);
	if (r < 0)
		return r;
	r = -ENOENT;
	if (db_rows_next(rows)) {
		memset(out, 0, sizeof(*out));
		out->id = db_col_int(rows, 0);
		const char *status = db_col_text(rows, 1);
		snprintf(out->status, sizeof(out->status), "%s", status ? status : "");
		out->imported = !db_col_is_null(rows, 2);
		out->track_type_id = db_col_int(rows, 3);
		r = 0;
	}
	if (db_rows_error(rows) < 0)
		r = db_rows_error(rows);
	db_rows_free(rows);
	return r;
}

/* A text column's value: NULL for "" or NULL. */
static const char *nonempty(const char *s)
{
	return s && *s ? s : NULL;
}

int library_store_analysis(struct db *db, int64_t file_id, const struct analysis *a,
			   const char *waveform_key, const char *artwork_key, int64_t now)
{
	if (!db || !a || file_id <= 0)
		return -EINVAL;
	bool decoded = a->samples > 0 && a->sample_rate_hz > 0;
	const struct analysis_tags *t = &a->tags;
	char *reason = a->ok ? NULL : db_text(a->reason[0] ? a->reason : "not playable",
					      LIBRARY_REASON_MAX);
	if (!a->ok && !reason)
		reason = xstrdup("not playable");
	const char *mime = library_mime_for_container(a->container);
#define REAL_OR_NULL(ok, v) ((ok) && isfinite(v) ? DB_R(v) : DB_N)
#define INT_OR_NULL(ok, v) ((ok) ? DB_I(v) : DB_N)
	int r = db_exec(db,
			"UPDATE files SET import_status = $2, failure_reason = $3, updated_at = $4,"
			" mime = COALESCE($5, mime), duration_us = $6, sample_rate = $7,"
			" channels = $8, bitrate = $9, codec = $10, container = $11,"
			" loudness_lufs = $12, loudness_range = $13, true_peak_dbtp = $14,"
			" replaygain_db = $15, cue_in_us = $16, cue_out_us = $17,"
			" waveform_path = $18, artwork_path = COALESCE(artwork_path, $19),"
			" title = COALESCE(title, $20), artist = COALESCE(artist, $21),"
			" album = COALESCE(album, $22), genre = COALESCE(genre, $23),"
			" year = COALESCE(year, $24), track_number = COALESCE(track_number, $25),"
			" disc_number = COALESCE(disc_number, $26),"
			" composer = COALESCE(composer, $27), label = COALESCE(label, $28),"
			" isrc = COALESCE(isrc, $29), bpm = COALESCE(bpm, $30),"
			" comment = COALESCE(comment, $31), language = COALESCE(language, $32)"
			" WHERE id = $1",
			DB_PARAMS(DB_I(file_id), DB_T(a->ok ? "ready" : "failed"), DB_T(reason),
				  DB_I(now), DB_T(mime),
				  INT_OR_NULL(decoded, a->duration_us),
				  INT_OR_NULL(decoded, a->sample_rate_hz),
				  INT_OR_NULL(decoded, a->channels),
				  INT_OR_NULL(decoded && a->bitrate_bps > 0 &&
						      a->bitrate_bps <= INT32_MAX,
					      a->bitrate_bps),
				  DB_T(nonempty(a->codec)), DB_T(nonempty(a->container)),
				  REAL_OR_NULL(decoded, a->loudness_lufs),
				  REAL_OR_NULL(decoded, a->loudness_range_lu),
				  REAL_OR_NULL(decoded, a->true_peak_dbtp),
				  REAL_OR_NULL(decoded, a->replaygain_track_gain_db),
				  INT_OR_NULL(decoded, a->cue_in_us),
				  INT_OR_NULL(decoded, a->cue_out_us), DB_T(nonempty(waveform_key)),
				  DB_T(nonempty(artwork_key)), DB_T(nonempty(t->title)),
				  DB_T(nonempty(t->artist)), DB_T(nonempty(t->album)),
				  DB_T(nonempty(t->genre)), INT_OR_NULL(t->year > 0, t->year),
				  INT_OR_NULL(t->track_number > 0, t->track_number),
				  INT_OR_NULL(t->disc_number > 0, t->disc_number),
				  DB_T(nonempty(t->composer)), DB_T(nonempty(t->label)),
				  DB_T(nonempty(t->isrc)), REAL_OR_NULL(t->bpm > 0, t->bpm),
				  DB_T(nonempty(t->comment)), DB_T(nonempty(t->language))));
#undef REAL_OR_NULL
#undef INT_OR_NULL
	free(reason);
	if (r < 0)
		return r;
	return r == 0 ? -ENOENT : 0;
}

int library_mark_failed(struct db *db, int64_t file_id, const char *reason, int64_t now)
{
	if (!db || file_id <= 0)
		return -EINVAL;
	char *text = db_text(reason && *reason ? reason : "failed", LIBRARY_REASON_MAX);
	int r = db_exec(db,
			"UPDATE files SET import_status = 'failed', failure_reason = $2,"
			" updated_at = $3 WHERE id = $1",
			DB_PARAMS(DB_I(file_id), DB_T(text ? text : "failed"), DB_I(now)));
	free(text);
	if (r < 0)
		return r;
	return r == 0 ? -ENOENT : 0;
}

/* File name extension for an artwork MIME type. */
static const char *artwork_ext(const char *mime)
{
	if (strcmp(mime, "image/jpeg") == 0)
		return "jpg";
	if (strcmp(mime, "image/png") == 0)
		return "png";
	if (strcmp(mime, "image/gif") == 0)
		return "gif";
	if (strcmp(mime, "image/webp") == 0)
		return "webp";
	if (strcmp(mime, "image/bmp") == 0)
		return "bmp";
	return "bin";
}

/* The waveform as JSON, {"buckets":N,"min":[...],"max":[...]}, values
 * rounded to 0.0001 (as `onair analyze --waveform` prints them). */
static void waveform_json(const struct analysis *a, struct buf *out)
{
	buf_printf(out, "{\"buckets\":%zu,\"min\":[", a->waveform_buckets);
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < a->waveform_buckets; i++) {
			double v = pass == 0 ? a->waveform[i].min : a->waveform[i].max;
			if (!isfinite(v))
				v = 0;
			char num[32];
			snprintf(num, sizeof(num), "%.4f", v);
			size_t n = strlen(num);	/* "0.5000" -> "0.5", "-0.0000" -> "0" */
			while (n > 1 && num[n - 1] == '0')
				num[--n] = '\0';
			if (n > 1 && num[n - 1] == '.')
				num[--n] = '\0';
			if (strcmp(num, "-0") == 0)
				memcpy(num, "0", 2);
			buf_printf(out, "%s%s", i ? "," : "", num);
		}
		buf_append_str(out, pass == 0 ? "],\"max\":[" : "]}");
	}
}

/* What library_analyze_file reads of a files row. */
struct stored_file {
	char key[STORAGE_KEY_SIZE];
	char hash[STORAGE_HASH_SIZE];
	bool has_artwork;
	bool has_track_type;
	double silence_threshold_db;
	int64_t silence_min_us;
	bool key_ok;
};

static int read_stored_file(struct db *db, int64_t file_id, struct stored_file *f)
{
	struct db_rows *rows;
	int r = db_query(db,
			 "SELECT f.storage_key, f.content_hash, f.artwork_path, t.id,"
			 " t.silence_threshold_db, t.silence_min_us FROM files f"
			 " LEFT JOIN track_types t ON t.id = f.track_type_id WHERE f.id = $1",
			 DB_PARAMS(DB_I(file_id)), &rows);
	if (r < 0)
		return r;
	r = -ENOENT;
	if (db_rows_next(rows)) {
		memset(f, 0, sizeof(*f));
		const char *key = db_col_text(rows, 0);
		const char *hash = db_col_text(rows, 1);
		f->key_ok = key && strlen(key) < sizeof(f->key);
		snprintf(f->key, sizeof(f->key), "%.79s", key ? key : "");
		snprintf(f->hash, sizeof(f->hash), "%.71s", hash ? hash : "");
		f->has_artwork = !db_col_is_null(rows, 2);
		f->has_track_type = !db_col_is_null(rows, 3);
		f->silence_threshold_db = db_col_real(rows, 4);
		f->silence_min_us = db_col_int(rows, 5);
		r = 0;
	}
	if (db_rows_error(rows) < 0)
		r = db_rows_error(rows);
	db_rows_free(rows);
	return r;
}

/* Store the waveform and artwork of a; their keys into wf_key and
 * art_key ("" when none). 0 or -errno with err. */
static int store_extras(struct storage *st, const struct analysis *a, bool want_artwork,
			char wf_key[STORAGE_KEY_SIZE], char art_key[STORAGE_KEY_SIZE], char *err,
			size_t errlen)
{
	char hash[STORAGE_HASH_SIZE];
	wf_key[0] = art_key[0] = '\0';
	if (a->waveform && a->waveform_buckets > 0) {
		struct buf json;
		buf_init(&json, SIZE_MAX / 2);
		waveform_json(a, &json);
		int r = storage_put_bytes(st, json.data, json.len, "json", wf_key, hash);
		buf_release(&json);
		if (r < 0) {
			set_err(err, errlen, "storing the waveform", r);
			return r;
		}
	}
	if (want_artwork && a->artwork && a->artwork_bytes > 0) {
		int r = storage_put_bytes(st, a->artwork, a->artwork_bytes,
					  artwork_ext(a->artwork_mime), art_key, hash);
		if (r < 0) {
			set_err(err, errlen, "storing the artwork", r);
			return r;
		}
	}
	return 0;
}

int library_analyze_file(struct db *db, struct storage *st, int64_t file_id,
			 const struct library_analyze_options *o, bool *playable, char *err,
			 size_t errlen)
{
	static const struct library_analyze_options defaults = { 0 };
	if (!o)
		o = &defaults;
	if (errlen)
		err[0] = '\0';
	if (playable)
		*playable = false;
	if (!db || !st || file_id <= 0)
		return -EINVAL;

	struct stored_file f;
	int r = read_stored_file(db, file_id, &f);
	if (r == -ENOENT)
		return r;
	if (r < 0) {
		set_err(err, errlen, "reading the files row", r);
		return r;
	}
	char path[PATH_MAX];
	if (!f.key_ok || storage_path(st, f.key, path, sizeof(path)) < 0) {
		/* Not a key the store made: no retry can help. */
		if (errlen)
			snprintf(err, errlen, "invalid storage key");
		r = library_mark_failed(db, file_id, "invalid storage key", time_now_us());
		if (r < 0 && r != -ENOENT) {
			set_err(err, errlen, "marking the file failed", r);
			return r;
		}
		return r == -ENOENT ? -ENOENT : 0;
	}

	struct analyze_options ao;
	analyze_options_init(&ao);
	if (f.has_track_type) {
		ao.silence_threshold_dbfs = f.silence_threshold_db;
		ao.silence_min_us = f.silence_min_us;
	}
	ao.waveform_buckets = LIBRARY_WAVEFORM_BUCKETS;
	if (o->time_limit_us > 0)
		ao.time_limit_us = o->time_limit_us;
	ao.hash = o->verify_hash;
	ao.cancel = o->cancel;
	ao.cancel_opaque = o->cancel_opaque;

	struct analysis a;
	r = analyze_file(path, &ao, &a);
	switch (r) {
	case 0:
	case -EBADMSG:
	case -ETIMEDOUT:
	case -EFBIG:
		break;		/* a verdict on the file */
	case -ECANCELED:
		goto out_release;
	default:
		/* The stored bytes could not be read (or memory ran out): the
		 * store's problem, not the file's. */
		if (errlen)
			snprintf(err, errlen, "reading stored file %s: %s", f.key,
				 a.reason[0] ? a.reason : onair_strerror(r));
		if (r == -ENOENT || r >= 0)
			r = -EIO;
		goto out_release;
	}
	if (o->verify_hash && a.content_hash[0] && strcmp(a.content_hash, f.hash) != 0) {
		a.ok = false;
		snprintf(a.reason, sizeof(a.reason),
			 "the stored bytes do not match the file's content hash (%.71s)",
			 a.content_hash);
	}

	char wf_key[STORAGE_KEY_SIZE], art_key[STORAGE_KEY_SIZE];
	wf_key[0] = art_key[0] = '\0';
	if (a.ok) {
		r = store_extras(st, &a, !f.has_artwork, wf_key, art_key, err, errlen);
		if (r < 0)
			goto out_release;
	}
	r = library_store_analysis(db, file_id, &a, wf_key, art_key, time_now_us());
	if (r == -ENOENT)
		goto out_release;
	if (r < 0) {
		set_err(err, errlen, "writing the analysis", r);
		goto out_release;
	}
	if (playable)
		*playable = a.ok;
	if (!a.ok && errlen)
		snprintf(err, errlen, "%s", a.reason[0] ? a.reason : "not playable");
out_release:
	analysis_release(&a);
	return r;
}

int library_task_create(struct db *db, const char *task_id, const char *kind, int64_t file_id,
			int64_t podcast_id, int64_t episode_id, int64_t now)
{
	if (!db || !task_id || !*task_id || !kind || !*kind)
		return -EINVAL;
	int r = db_exec(db,
			"INSERT INTO tasks (task_id, kind, state, file_id, podcast_id, episode_id,"
			" attempts, created_at, updated_at)"
			" VALUES ($1, $2, 'queued', $3, $4, $5, 0, $6, $6)",
			DB_PARAMS(DB_T(task_id), DB_T(kind), file_id > 0 ? DB_I(file_id) : DB_N,
				  podcast_id > 0 ? DB_I(podcast_id) : DB_N,
				  episode_id > 0 ? DB_I(episode_id) : DB_N, DB_I(now)));
	return r < 0 ? r : 0;
}

/* After an UPDATE of task_id changed nothing: -ENOENT when there is no
 * such row, else other (the row is in a state the update skips). */
static int task_missing_or(struct db *db, const char *task_id, int other)
{
	int64_t one;
	int r = db_query_int(db, "SELECT 1 FROM tasks WHERE task_id = $1",
			     DB_PARAMS(DB_T(task_id)), &one);
	if (r == 0)
		return other;
	return r;
}

int library_task_start(struct db *db, const char *task_id, int64_t now, int *attempts)
{
	if (!db || !task_id)
		return -EINVAL;
	int64_t n = 0;
	int r = db_query_int(db,
			     "UPDATE tasks SET state = 'running', attempts = attempts + 1,"
			     " started_at = $2, updated_at = $2"
			     " WHERE task_id = $1 AND state IN ('queued', 'running')"
			     " RETURNING attempts",
			     DB_PARAMS(DB_T(task_id), DB_I(now)), &n);
	if (r == -ENOENT)
		return task_missing_or(db, task_id, -EALREADY);
	if (r < 0)
		return r;
	if (attempts)
		*attempts = n > INT_MAX ? INT_MAX : (int)n;
	return 0;
}

int library_task_done(struct db *db, const char *task_id, int64_t now)
{
	if (!db || !task_id)
		return -EINVAL;
	int r = db_exec(db,
			"UPDATE tasks SET state = 'done', last_error = NULL, updated_at = $2,"
			" finished_at = $2 WHERE task_id = $1",
			DB_PARAMS(DB_T(task_id), DB_I(now)));
	if (r < 0)
		return r;
	return r == 0 ? -ENOENT : 0;
}

int library_task_failed(struct db *db, const char *task_id, const char *error, bool final,
			int64_t now)
{
	if (!db || !task_id)
		return -EINVAL;
	char *text = db_text(error && *error ? error : "failed", LIBRARY_REASON_MAX);
	int r;
	if (final)
		r = db_exec(db,
			    "UPDATE tasks SET state = 'failed', last_error = $2, updated_at = $3,"
			    " finished_at = $3 WHERE task_id = $1",
			    DB_PARAMS(DB_T(task_id), DB_T(text ? text : "failed"), DB_I(now)));
	else
		r = db_exec(db,
			    "UPDATE tasks SET state = 'queued', last_error = $2, updated_at = $3"
			    " WHERE task_id = $1",
			    DB_PARAMS(DB_T(task_id), DB_T(text ? text : "failed"), DB_I(now)));
	free(text);
	if (r < 0)
		return r;
	return r == 0 ? -ENOENT : 0;
}

int library_task_requeue(struct db *db, const char *task_id, int64_t now)
{
	if (!db || !task_id)
		return -EINVAL;
	int r = db_exec(db,
			"UPDATE tasks SET state = 'queued', updated_at = $2,"
			" attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END"
			" WHERE task_id = $1 AND state = 'running'",
			DB_PARAMS(DB_T(task_id), DB_I(now)));
	if (r < 0)
		return r;
	return r == 0 ? task_missing_or(db, task_id, 0) : 0;
}

int library_task_state(struct db *db, const char *task_id, char state[16], int *attempts)
{
	if (!db || !task_id || !state)
		return -EINVAL;
	struct db_rows *rows;
	int r = db_query(db, "SELECT state, attempts FROM tasks WHERE task_id = $1",
			 DB_PARAMS(DB_T(task_id)), &rows);
	if (r < 0)
		return r;
	r = -ENOENT;
	if (db_rows_next(rows)) {
		const char *s = db_col_text(rows, 0);
		snprintf(state, 16, "%s", s ? s : "");
		if (attempts)
			*attempts = (int)db_col_int(rows, 1);
		r = 0;
	}
	if (db_rows_error(rows) < 0)
		r = db_rows_error(rows);
	db_rows_free(rows);
	return r;
}

int library_enqueue_analysis(struct db *db, struct mq *mq, int64_t file_id, int64_t now,
			     char task_id_out[LIBRARY_TASK_ID_SIZE])
{
	if (!db || !mq || file_id <= 0 || !task_id_out)
		return -EINVAL;
	if (sodium_init() < 0)
		return -EIO;
	unsigned char rnd[8];
	char hex[2 * sizeof(rnd) + 1];
	randombytes_buf(rnd, sizeof(rnd));
	sodium_bin2hex(hex, sizeof(hex), rnd, sizeof(rnd));
	char id[LIBRARY_TASK_ID_SIZE];
	snprintf(id, sizeof(id), "analyze-%lld-%s", (long long)file_id, hex);

	const char *kind = proto_task_kind_name(PROTO_TASK_ANALYZE_FILE);
	int r = library_task_create(db, id, kind, file_id, 0, 0, now);
	if (r < 0)
		return r;
	struct proto_task t = {
		.id = id,
		.kind = PROTO_TASK_ANALYZE_FILE,
		.created_at = now,
		.file_id = file_id,
	};
	struct buf msg;
	buf_init(&msg, 4096);
	r = proto_task_encode(&t, &msg);
	if (r == 0) {
		char subject[128];
		snprintf(subject, sizeof(subject), "%s.%s", MQ_SUBJECT_TASKS, kind);
		r = mq_publish(mq, subject, msg.data, msg.len, id, NULL);
	}
	buf_release(&msg);
	if (r < 0) {
		db_exec(db, "DELETE FROM tasks WHERE task_id = $1", DB_PARAMS(DB_T(id)));
		return r;
	}
	memcpy(task_id_out, id, sizeof(id));
	return 0;
}

int library_reanalyze(struct db *db, struct mq *mq, int64_t file_id, int64_t now,
		      char task_id_out[LIBRARY_TASK_ID_SIZE])
{
	if (!db || !mq || file_id <= 0 || !task_id_out)
		return -EINVAL;
	/* The file is pending before the task can run: a worker that takes it
	 * at once must see it pending (not skip it as ready), and must not
	 * have its result overwritten afterwards. */
	char old_status[16] = "pending";
	char *old_reason = NULL;
	struct db_rows *rows;
	if (db_query(db, "SELECT import_status, failure_reason FROM files WHERE id = $1",
		     DB_PARAMS(DB_I(file_id)), &rows) >= 0) {
		if (db_rows_next(rows)) {
			if (db_col_text(rows, 0))
				snprintf(old_status, sizeof(old_status), "%s", db_col_text(rows, 0));
			if (db_col_text(rows, 1))
				old_reason = xstrdup(db_col_text(rows, 1));
		}
		db_rows_free(rows);
	}
	int r = db_exec(db, "UPDATE files SET import_status = 'pending', failure_reason = NULL,"
			" updated_at = $1 WHERE id = $2", DB_PARAMS(DB_I(now), DB_I(file_id)));
	if (r >= 0)
		r = library_enqueue_analysis(db, mq, file_id, now, task_id_out);
	if (r < 0)
		db_exec(db, "UPDATE files SET import_status = $1, failure_reason = $2 WHERE id = $3",
			DB_PARAMS(DB_T(old_status), old_reason ? DB_T(old_reason) : DB_N,
				  DB_I(file_id)));
	free(old_reason);
	return r;
}
