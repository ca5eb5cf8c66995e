/*
 * icecast_status.h - Icecast 2.4's public status document
 * (/status-json.xsl), read by onair messages for listener counts and by
 * playout's watchdog to see which mounts have a source.
 *
 * An output is named "icecast:<host:port><mount>", from the source's
 * listen URL.
 */
#ifndef ONAIR_PROTOCOL_ICECAST_STATUS_H
#define ONAIR_PROTOCOL_ICECAST_STATUS_H

#include <stddef.h>
#include <stdint.h>

/* Longest output name kept, with its NUL. */
#define ICECAST_OUTPUT_SIZE 192u
/* Most mounts read from one status document. */
#define ICECAST_MOUNTS_MAX 256u
/* Largest status document read, bytes. */
#define ICECAST_STATUS_MAX (1u << 20)

struct icecast_source {
	char output[ICECAST_OUTPUT_SIZE];	/* "icecast:127.0.0.1:8000/live.mp3" */
	int64_t listeners;			/* >= 0 */
};

/*
 * Read an Icecast 2.4 status-json.xsl document (len bytes): for every
 * source with a "listenurl" and a "listeners" count, a sample named from
 * the URL's host, port and mount. Sources without either are skipped;
 * Icecast writes a single source as an object and several as an array,
 * and no source at all as no "source" member: all are read. Returns the
 * number of samples written to out (at most max), or -EINVAL when the
 * document is not JSON or has no "icestats" object. Thread-safe.
 */
int icecast_status_parse(const char *json, size_t len, struct icecast_source *out,
			 size_t max);

#include "common/banned.h"
#endif
