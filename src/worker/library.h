/*
 * library.h - the library's side of the database for the worker and the
 * importers: files rows for stored bytes, analysis results written into
 * them, and the tasks table that tracks the worker's tasks for the web
 * app.
 *
 * A files row starts 'pending' (library_add_file), and an analysis makes
 * it 'ready' or 'failed' (library_store_analysis, library_mark_failed).
 * A tasks row goes queued -> running -> done, or back to queued after a
 * temporary failure, or to failed for good:
 *
 *   library_task_create   queued
 *   library_task_start    running, attempts + 1
 *   library_task_done     done
 *   library_task_failed   queued again (final = false) or failed (final = true)
 *   library_task_requeue  queued again, the attempt not counted (stopped)
 *
 * Every function takes the caller's connection (one thread at a time, as
 * for any struct db) and returns 0 or a negative errno: the database's
 * errors as db.h lists them (-EBUSY, -ENOTCONN, ... are worth a retry),
 * plus those named below. Instants ("now") are microseconds since the
 * epoch. Text written is made valid UTF-8 first (Windows-1252 read for
 * bytes that are not), so a file's bytes never make a write fail.
 */
#ifndef ONAIR_WORKER_LIBRARY_H
#define ONAIR_WORKER_LIBRARY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"
#include "mq/mq.h"
#include "storage/storage.h"
#include "worker/analyze.h"

/* A task id with its NUL: [A-Za-z0-9_.:-]{1,64}. */
#define LIBRARY_TASK_ID_SIZE 65
/* Longest failure reason or task error stored, in bytes. */
#define LIBRARY_REASON_MAX 1000
/* Waveform buckets the worker and the import store. */
#define LIBRARY_WAVEFORM_BUCKETS 1000

/* MIME type for a file name extension ("mp3", "FLAC", with or without the
 * dot): audio/mpeg, audio/ogg, audio/flac, audio/wav, audio/mp4,
 * audio/aac, ...; "application/octet-stream" when unknown or NULL. The
 * analysis later replaces it with the type of the container it found. */
const char *library_mime_for_ext(const char *ext);

/* MIME type of an FFmpeg demuxer name (struct analysis.container), or
 * NULL when there is none worth telling. */
const char *library_mime_for_container(const char *container);

/*
 * Insert a 'pending' files row for bytes stored under storage_key with
 * content hash ("sha256:<hex>"), size and mime, or find the row that has
 * that hash already: *existed tells which, *id is the row either way.
 * uploaded_by and track_type_id are row ids, 0 for NULL; source_path
 * (where an import found the file) may be NULL. An existing row is not
 * changed. -ENOENT when uploaded_by or track_type_id names no row;
 * -EINVAL for an empty hash, key or mime, or a negative size.
 */
int library_add_file(struct db *db, const char *hash, int64_t size, const char *mime,
		     const char *storage_key, int64_t uploaded_by, int64_t track_type_id,
		     const char *source_path, int64_t now, int64_t *id, bool *existed);

/* What library_find_file tells about a files row. */
struct library_file_info {
	int64_t id;
	char status[16];	/* "pending", "ready" or "failed" */
	bool imported;		/* source_path is set: an import added it */
	int64_t track_type_id;	/* 0 when none */
};

/* Look the files row with content hash up. 0 and *out filled, -ENOENT
 * when there is none. */
int library_find_file(struct db *db, const char *hash, struct library_file_info *out);

/*
 * Write the analysis a of the files row file_id:
 *   - the technical columns (duration_us, sample_rate, channels, bitrate,
 *     codec, container, mime from the container), the levels
 *     (loudness_lufs, loudness_range, true_peak_dbtp, replaygain_db; NULL
 *     when not finite) and the cue points, all replaced (NULL for what was
 *     not measured);
 *   - waveform_path = waveform_key (NULL allowed), artwork_path =
 *     artwork_key only when the row has none (keys the caller stored with
 *     storage_put_bytes);
 *   - the descriptive columns from the tags (title, artist, album, genre,
 *     year, track_number, disc_number, composer, label, isrc, bpm,
 *     comment, language) only where the row's column is NULL: what a user
 *     edited is never overwritten;
 *   - import_status 'ready' and failure_reason NULL when a->ok, else
 *     'failed' with a->reason.
 * Writing the same analysis again gives the same row (updated_at aside).
 * -ENOENT when there is no such row.
 */
int library_store_analysis(struct db *db, int64_t file_id, const struct analysis *a,
			   const char *waveform_key, const char *artwork_key, int64_t now);

/* Set the row's import_status to 'failed' with reason (cut to
 * LIBRARY_REASON_MAX bytes). -ENOENT when there is no such row. */
int library_mark_failed(struct db *db, int64_t file_id, const char *reason, int64_t now);

/* How library_analyze_file runs. Zero-initialise for the defaults. */
struct library_analyze_options {
	/* Stop when cancel(cancel_opaque) returns true (polled during the
	 * analysis); may be NULL. */
	bool (*cancel)(void *opaque);
	void *cancel_opaque;
	/* Wall-clock limit of one analysis; 0 = analyze.h's default (120 s). */
	int64_t time_limit_us;
	/* Hash the stored bytes on the way and fail the file when they do not
	 * match its content_hash (storage corrupted). */
	bool verify_hash;
};

/*
 * Analyse the stored bytes of files row file_id (its storage_key under
 * st) with its track type's silence settings (analyze.h's defaults when
 * it has none), store the waveform (JSON) and artwork with
 * storage_put_bytes, and write the result with library_store_analysis.
 * *playable (may be NULL) tells whether the file became 'ready'; when it
 * became 'failed', err holds the reason. Returns:
 *   0            the result is stored ('ready' or 'failed');
 *   -ENOENT      there is no such files row (nothing was done);
 *   -ECANCELED   o->cancel asked to stop (nothing was written);
 *   another negative errno: a failure worth retrying, err says what: the
 *   stored bytes could not be read (-EIO, -EACCES, ...; a stored file that
 *   is missing gives -EIO), the store could not be written, the database
 *   failed (-EBUSY, -ENOTCONN, ...), -ENOMEM inside the analysis.
 * err (errlen bytes, may be 0) is always NUL-terminated when errlen > 0.
 */
int library_analyze_file(struct db *db, struct storage *st, int64_t file_id,
			 const struct library_analyze_options *o, bool *playable, char *err,
			 size_t errlen);

/*
 * Insert the tasks row of task_id (state 'queued') for kind (the
 * protocol's name, "analyze_file", ...) about file_id, podcast_id,
 * episode_id (0 for NULL). -EEXIST when task_id exists; -ENOENT when a
 * referenced row does not.
 */
int library_task_create(struct db *db, const char *task_id, const char *kind, int64_t file_id,
			int64_t podcast_id, int64_t episode_id, int64_t now);

/*
 * Mark the task running: attempts + 1 (into *attempts, may be NULL),
 * started_at = now. A task found 'running' (its worker died) is started
 * again. -ENOENT when there is no such row; -EALREADY when it is 'done'
 * or 'failed' already (a duplicate delivery: nothing changes).
 */
int library_task_start(struct db *db, const char *task_id, int64_t now, int *attempts);

/* Mark the task done (finished_at = now, last_error NULL). -ENOENT. */
int library_task_done(struct db *db, const char *task_id, int64_t now);

/*
 * Record a failure of the task's attempt with error (cut to
 * LIBRARY_REASON_MAX bytes) as last_error: final = false puts it back to
 * 'queued' for a retry, final = true makes it 'failed' for good
 * (finished_at = now). The attempt stays counted. -ENOENT.
 */
int library_task_failed(struct db *db, const char *task_id, const char *error, bool final,
			int64_t now);

/* Put a running task back to 'queued' without counting its attempt
 * (attempts - 1): it was stopped, not failed. -ENOENT. */
int library_task_requeue(struct db *db, const char *task_id, int64_t now);

/* The task's state ("queued", "running", "done" or "failed") into
 * state[16] and its attempts into *attempts (may be NULL). -ENOENT. */
int library_task_state(struct db *db, const char *task_id, char state[16], int *attempts);

/*
 * Queue the analysis of files row file_id: make a task id
 * ("analyze-<file_id>-<16 random hex digits>", into task_id_out), insert
 * its tasks row, and publish the task on onair.tasks.analyze_file with
 * the task id as the message id (a worker skips a file that is ready by
 * then). When the publish fails the tasks row is deleted again and the
 * queue's error returned (-ENOTCONN, -ETIMEDOUT,
 * ...: retry later). -ENOENT when there is no such file. Thread-safe as
 * far as mq is (db is the caller's).
 */
int library_enqueue_analysis(struct db *db, struct mq *mq, int64_t file_id, int64_t now,
			     char task_id_out[LIBRARY_TASK_ID_SIZE]);

/*
 * Analyse files row file_id again, whatever its state: as
 * library_enqueue_analysis, but the file is marked pending (its
 * failure_reason cleared) before the task is published, so that the worker
 * runs it and no later write undoes its result. When the publish fails
 * the file's status and reason are put back. 0 or -errno as
 * library_enqueue_analysis.
 */
int library_reanalyze(struct db *db, struct mq *mq, int64_t file_id, int64_t now,
		      char task_id_out[LIBRARY_TASK_ID_SIZE]);

#include "common/banned.h"
#endif
