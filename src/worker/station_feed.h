/*
 * station_feed.h - the station's own podcast: an RSS 2.0 + iTunes feed of
 * the library files that have been published (files.published_at set).
 *
 *   struct buf out;
 *   buf_init(&out, 8u << 20);
 *   if (station_feed_write(db, "https://radio.example", &out) == 0)
 *           serve out.data, out.len as application/rss+xml
 *   buf_release(&out);
 *
 * The channel is the station (station_settings: name, description);
 * each item one file, newest publication first: title, artist as
 * itunes:author, comment as description, an enclosure at
 * <base_url>/api/v1/files/<id>/content with the file's size and MIME
 * type, the content hash as guid (stable: the same bytes stay the same
 * episode), pubDate (RFC 822, UTC) and itunes:duration. Only files whose
 * import is 'ready' are listed, at most STATION_FEED_MAX_ITEMS.
 *
 * The document is written by libxml2's xmlTextWriter, which escapes
 * markup; characters XML 1.0 cannot carry at all (control characters,
 * U+FFFE, U+FFFF) are dropped and bytes that are not UTF-8 replaced by
 * U+FFFD, so no value in the database can make the feed ill-formed.
 */
#ifndef ONAIR_WORKER_STATION_FEED_H
#define ONAIR_WORKER_STATION_FEED_H

#include "common/buf.h"
#include "db/db.h"

#define STATION_FEED_MAX_ITEMS 1000	/* newest published files listed */

/*
 * Append the feed to out. base_url is the station's public http(s) URL
 * ("https://radio.example", a trailing '/' is ignored). The output is
 * deterministic: the same rows give the same bytes.
 * Errors (out may then hold part of a document: reset it):
 *   -EINVAL   base_url is NULL or not an http(s) URL;
 *   -ENOSPC   the feed does not fit in out's limit;
 *   -ENOMEM   libxml2 could not allocate;
 *   any error of db_query (the database's).
 * Thread-safety: as the db connection (one thread at a time per db).
 */
int station_feed_write(struct db *db, const char *base_url, struct buf *out);

#include "common/banned.h"
#endif
