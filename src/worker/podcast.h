/*
 * podcast.h - podcasts the station follows: polling their feeds into
 * podcast_episodes, and ingesting episodes into the library.
 *
 *   podcast_enqueue_due    (a timer, every minute or so) puts a
 *                          poll_podcast task on the queue for each
 *                          podcast whose poll_interval_us has passed;
 *   podcast_poll           (the poll_podcast task) fetches the feed,
 *                          conditionally (ETag / Last-Modified), and
 *                          upserts its episodes; with auto_ingest it
 *                          queues the newest episode when it is new;
 *   podcast_ingest         (the ingest_episode task) downloads an
 *                          episode straight into the media store, adds
 *                          the file to the library and analyses it.
 *
 * HTTP: libcurl, http and https only (redirects too, at most
 * max_redirects), a total time limit per transfer, and a size limit
 * enforced while the bytes arrive (a Content-Length over it stops the
 * transfer before the body). Feeds are read into memory (at most
 * max_feed_bytes, never more than FEED_MAX_BYTES); episodes are streamed
 * into storage_put_stream, never held whole in memory, and a transfer
 * that fails half-way leaves nothing in the store.
 *
 * Task handlers (podcast_poll, podcast_ingest) return 0 on success, or a
 * negative errno with a sentence in err:
 *   transient (podcast_error_transient: the task loop retries with
 *   backoff): -EAGAIN (HTTP 5xx, 408 or 429, a connection dropped
 *   mid-way, a name that does not resolve, the database connection or
 *   the queue down, the store not writable), -ETIMEDOUT, -ECONNREFUSED,
 *   -EBUSY (the database is locked);
 *   permanent (retrying cannot help): -ENOENT (HTTP 404/410, or no such
 *   podcast/episode row), -EACCES (HTTP 401/403), -EPROTO (another HTTP
 *   status, TLS failure), -ELOOP (too many redirects), -EPROTONOSUPPORT
 *   (a URL or redirect that is not http/https), -EFBIG (over the size
 *   limit), -EBADMSG / -EILSEQ / -E2BIG (the feed cannot be parsed, see
 *   feed.h; an episode that is not playable audio), -EINVAL (bad
 *   arguments), -EIO (anything else).
 * err (errlen bytes) is always NUL-terminated when errlen > 0, and holds
 * a short note on success ("304 not modified", "3 new episodes").
 *
 * Thread-safety: every function uses the caller's db (one thread at a
 * time per connection); mq and st are thread-safe; several polls and
 * ingests may run in parallel threads on their own connections. libcurl
 * is initialised once per process, the first time.
 */
#ifndef ONAIR_WORKER_PODCAST_H
#define ONAIR_WORKER_PODCAST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"
#include "mq/mq.h"
#include "storage/storage.h"

/* Shortest poll interval honoured: a smaller poll_interval_us counts as
 * this. */
#define PODCAST_POLL_MIN_US (60 * INT64_C(1000000))
/* Longest text kept in podcasts.last_error and podcast_episodes.failure_reason. */
#define PODCAST_ERROR_MAX 1000

struct podcast_options {
	int64_t max_feed_bytes;		/* feed document; <= 0 or more than FEED_MAX_BYTES:
					 * FEED_MAX_BYTES */
	int64_t max_episode_bytes;	/* one episode's audio; <= 0: the default */
	int64_t timeout_us;		/* whole transfer (connect to last byte); <= 0:
					 * the default */
	int max_redirects;		/* redirects followed (0 = none); < 0: the default */
	const char *user_agent;		/* NULL: "onair/<version> (podcasts)" */
};

/* Fill o with the defaults: feeds up to FEED_MAX_BYTES, episodes up to
 * 2 GiB, 15 minutes per transfer, 5 redirects, the default user agent. */
void podcast_options_init(struct podcast_options *o);

/* Is r (from podcast_poll or podcast_ingest) worth a retry? True for
 * -EAGAIN, -ETIMEDOUT, -ECONNREFUSED and -EBUSY. */
bool podcast_error_transient(int r);

/*
 * Poll the feed of podcasts row podcast_id (o NULL: the defaults).
 *   - GET podcasts.url with If-None-Match (etag) and If-Modified-Since
 *     (last_modified) when the row has them;
 *   - 304: last_checked_at = now, last_error cleared, nothing else;
 *   - 200: the feed is parsed (feed.h, relative URLs against the URL the
 *     redirects ended at); title, description and image_url are filled
 *     where the row's are empty (a user's edits stay); every episode is
 *     upserted by (podcast_id, guid): new ones come in as 'new', known
 *     ones get the feed's title, description, date, enclosure URL and
 *     size (status and file untouched); etag and last_modified are
 *     stored from the response, last_checked_at = now, last_error
 *     cleared. All of it in one transaction;
 *   - after either, with auto_ingest: when the podcast's newest episode
 *     (by published_at; episodes without a date count as oldest) is
 *     'new', it is queued (podcast_enqueue_ingest). Only the newest:
 *     the back catalogue, and earlier episodes published between two
 *     polls, stay 'new' for someone to pick;
 *   - any failure: last_error = err and last_checked_at = now (so the
 *     API shows it and podcast_enqueue_due waits a full interval), and
 *     the error is returned (see above). A podcast without a row gives
 *     -ENOENT; a NULL db or mq, -EINVAL.
 */
int podcast_poll(struct db *db, struct mq *mq, int64_t podcast_id, const struct podcast_options *o,
		 int64_t now, char *err, size_t errlen);

/*
 * Ingest podcast_episodes row episode_id (o NULL: the defaults):
 *   - already 'imported' (with a file): nothing to do, 0;
 *   - download enclosure_url into st (storage_put_stream, extension from
 *     the URL or the response's Content-Type, at most max_episode_bytes);
 *   - library_add_file (track type and uploader from the podcast; the
 *     same bytes already in the library are that file, not a copy);
 *   - unless that file is 'ready' already: library_analyze_file, and with
 *     the podcast's tag_override the file's title becomes the episode's
 *     title and its album the podcast's title (each when not empty),
 *     over the tags the file carried;
 *   - the episode gets file_id and 'imported', failure_reason cleared.
 * A permanent failure (the enclosure is gone, too big, not audio, ...)
 * makes the episode 'failed' with failure_reason = err; a transient one
 * leaves it 'pending' with failure_reason = err for the API to show (see
 * podcast_episode_fail for the last attempt). -ENOENT also when there is
 * no such episode (then nothing is written). mq is not used (the
 * analysis runs in this call); it may be NULL.
 */
int podcast_ingest(struct db *db, struct mq *mq, struct storage *st, int64_t episode_id,
		   const struct podcast_options *o, int64_t now, char *err, size_t errlen);

/*
 * Which podcasts are due: those never checked, and those whose
 * last_checked_at + poll_interval_us (at least PODCAST_POLL_MIN_US) <=
 * now. For each a poll_podcast task is published on
 * onair.tasks.poll_podcast with task id "poll.<podcast>.<slot>" (slot =
 * now / interval) as the queue's message id, and its tasks row is
 * created; a task of the same slot already there is not published again
 * (nor counted). *enqueued (may be NULL) gets the number published.
 * Stops at the first queue or database error and returns it (-EAGAIN
 * for a connection that is down, -ETIMEDOUT, -EBUSY, ...); tasks
 * published before it stay published.
 */
int podcast_enqueue_due(struct db *db, struct mq *mq, int64_t now, size_t *enqueued);

/*
 * Queue the ingest of episode_id: its status becomes 'pending', a tasks
 * row and an ingest_episode task (id "ingest.<episode>.<now>" into
 * task_id_out, may be NULL; at least 65 bytes) are made and published.
 * Episodes 'new', 'failed' or 'skipped' may be queued; -EALREADY for one
 * 'pending' or 'imported'; -ENOENT when there is none. When the publish
 * fails, the status and the tasks row are put back and the error
 * returned (-EAGAIN, -ETIMEDOUT, ...).
 */
int podcast_enqueue_ingest(struct db *db, struct mq *mq, int64_t episode_id, int64_t now,
			   char *task_id_out);

/* Give up on episode_id: 'failed' with reason (cut to PODCAST_ERROR_MAX
 * bytes), unless it is 'imported'. For the task loop's last attempt of a
 * transient failure. 0, -ENOENT, or the database's error. */
int podcast_episode_fail(struct db *db, int64_t episode_id, const char *reason, int64_t now);

#include "common/banned.h"
#endif
