/*
 * listeners.h - listener statistics: how many listen to each Icecast
 * mount, sampled by onair messages from each Icecast server's public
 * status document (/status-json.xsl), stored in listener_counts.
 *
 * An output is named "icecast:<host:port><mount>" (one per Icecast
 * server and mount: two playout instances feeding two servers give two
 * outputs, which the API adds up). Samples are taken at instants rounded
 * down to the sampling interval, so a sample repeated after a restart
 * lands on the same row (UNIQUE (output, at)) and is stored once.
 */
#ifndef ONAIR_MESSAGES_LISTENERS_H
#define ONAIR_MESSAGES_LISTENERS_H

#include <stddef.h>
#include <stdint.h>

#include "db/db.h"
#include "metrics/metrics.h"
#include "protocol/icecast_status.h"

/*
 * Fetch status_url (http or https, 5 s timeout, at most
 * ICECAST_STATUS_MAX bytes), read it, and store each sample at instant
 * at into listener_counts (a sample already stored for that output and
 * instant is left as it is). *stored (may be NULL) gets the number of
 * samples; gauge (may be NULL), labelled by output, gets each count.
 * 0; -ECONNREFUSED, -ETIMEDOUT, -EIO the server could not be
 * read (err says why); -EINVAL its answer is not a status document; or a
 * database error.
 */
int listeners_poll_icecast(struct db *db, const char *status_url, int64_t at, size_t *stored,
			   struct metric *gauge, char *err, size_t errlen);

struct listeners_sampler;

/*
 * Start a thread that samples every URL of the comma-separated list
 * status_urls each interval_us (at instants rounded down to it) into
 * db_url's database, on its own connection, logging failures (once per
 * URL until it works again). 0, -EINVAL (no URL, a URL that is not http
 * or https, interval under a second), or the error of db_open (err says
 * why). metrics (may be NULL) gets onair_listeners{output}.
 */
int listeners_start(struct listeners_sampler **out, const char *status_urls,
		    int64_t interval_us, const char *db_url, struct metrics *metrics, char *err,
		    size_t errlen);
/* Stop the thread (within a second) and free s; NULL is ignored. */
void listeners_stop(struct listeners_sampler *s);

#include "common/banned.h"
#endif
