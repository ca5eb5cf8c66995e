/*
 * media_cache.h - the play block's local copy of every file it will need.
 *
 * The cache keeps verified copies of media files in one directory, named
 * by content hash ("<64 hex>" with no extension; Liquidsoap probes the
 * content). It is told what is wanted (media_cache_want), nearest first,
 * and a background thread downloads what is missing over HTTP (libcurl)
 * from a URL made from a template, checks size and SHA-256, and moves the
 * file into place atomically (write to a temporary name, fsync, rename),
 * so a file under its final name is always whole and verified. Failed
 * downloads are retried with exponential backoff (1 s doubling to 5 min),
 * except that a file needed within a minute (or already in play) that
 * could not be had at all (not found, no connection) is tried again at
 * least every 2 s, so it is found soon after it appears.
 * Files no longer wanted are evicted by media_cache_evict.
 *
 * The cache never needs the create block once a file is in: a restarted
 * playout finds its files again by hash (a file present under its final
 * name is trusted; media_cache_verify re-hashes on demand).
 *
 * Thread-safety: all functions may be called from any thread.
 */
#ifndef ONAIR_PLAYOUT_MEDIA_CACHE_H
#define ONAIR_PLAYOUT_MEDIA_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "protocol/protocol.h"

struct media_cache;

struct media_cache_options {
	const char *dir;	/* cache directory, created if missing */
	/* Where to download from. "{id}" is replaced by the media id and
	 * "{hash}" by the 64 hex digits of its hash, e.g.
	 * "http://127.0.0.1:8080/api/v1/files/{id}/content". http, https and
	 * file URLs are accepted. */
	const char *url_template;
	const char *bearer_token;	/* optional: "Authorization: Bearer <token>" */
	int64_t timeout_us;	/* whole-download limit; 0 = 10 minutes */
	int64_t max_file_size;	/* bytes; 0 = 2 GiB */
	/* Called (from the download thread) when a wanted file failed to
	 * download or verify; why is a short human text. Optional. */
	void (*on_failure)(void *userdata, int64_t media_id, const char *why);
	void *userdata;
	/* First retry delay after a failure, doubling up to 5 minutes;
	 * 0 = 1 s. Tests set it shorter. */
	int64_t retry_min_us;
};

/* A file the schedule needs, and when it is first needed. */
struct media_cache_want {
	const struct proto_media *media;	/* borrowed for the call only */
	int64_t needed_at;			/* instant */
};

struct media_cache_stats {
	uint32_t wanted;	/* files in the current want list */
	uint32_t ready;		/* of those, present and verified */
	uint32_t missing;	/* of those, not present */
	uint32_t failing;	/* of the missing, whose last attempt failed */
	uint64_t bytes_downloaded;	/* received since start, failed attempts included */
};

/* Create the cache and start its download thread. 0, -EINVAL (bad
 * options), or -errno (directory not usable). Free with media_cache_free. */
int media_cache_new(struct media_cache **out, const struct media_cache_options *opts);
/* Stop the download thread (an interrupted download is discarded) and free. NULL ok. */
void media_cache_free(struct media_cache *c);

/* Replace the want list (copied). Downloads go nearest needed_at first.
 * A file listed twice counts once, at its earliest needed_at. A file
 * that failed keeps its retry delay across calls.
 * 0 or -EINVAL (a media without a valid hash or with size <= 0; the list
 * is then unchanged). */
int media_cache_want(struct media_cache *c, const struct media_cache_want *wants, size_t n);

/* Path of the verified local copy of the file with this hash
 * ("sha256:<hex>") into out ("<dir>/<hex>"), and note that it was used
 * now (see media_cache_evict). 0, -EINVAL (not a valid hash), -ENOENT
 * (not present), -ENOSPC (out too small). */
int media_cache_path(struct media_cache *c, const char *hash, char *out, size_t size);

/* Re-hash the local copy; delete it if it does not match. 0 (good),
 * -ENOENT (absent), -EBADMSG (was corrupt, now removed), -errno. */
int media_cache_verify(struct media_cache *c, const char *hash);

/* Delete cached files that are not in the want list and were not used in
 * the last keep_us (media_cache_path is a use; a file not used since this
 * cache was created counts as last used at its creation; keep_us 0
 * deletes every file not wanted). Only "<64 hex>" names are touched.
 * Returns the number deleted (>= 0) or -errno (some file could not be
 * deleted). */
int media_cache_evict(struct media_cache *c, int64_t keep_us);

/* Current figures. */
void media_cache_get_stats(struct media_cache *c, struct media_cache_stats *out);

/* Wait until every wanted file needed before deadline (needed_at <
 * deadline; INT64_MAX for all) is ready, up to timeout_us. 0 or
 * -ETIMEDOUT. For tests and start-up. */
int media_cache_wait_ready(struct media_cache *c, int64_t deadline, int64_t timeout_us);

#include "common/banned.h"
#endif
