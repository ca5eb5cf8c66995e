/*
 * hls_http.h - serve the HLS playlist and segments to listeners.
 *
 * A small static HTTP/1.1 server (libmicrohttpd, thread pool) over one
 * directory: GET and HEAD of "*.m3u8" (application/vnd.apple.mpegurl,
 * no-cache) and "*.ts" / "*.aac" / "*.m4s" / "*.mp4" (video/mp2t,
 * audio/aac, video/iso.segment, audio/mp4; max-age=60); any other name is
 * application/octet-stream. Every answer carries
 * "Access-Control-Allow-Origin: *" so a web player on another origin can
 * read it; OPTIONS answers a CORS preflight; other methods get 405.
 * The URL path is "/<name>" or "/hls/<name>". Only plain regular files
 * directly in that directory are served: any path with "/", "..", a NUL,
 * a name starting with '.' or not matching [A-Za-z0-9._-]+, a symbolic
 * link or a directory is a 404, so nothing outside the directory can be
 * reached. A single byte range is answered (206, or 416 when it is past
 * the end). It belongs to the play block so listeners keep their stream
 * when the create block is down.
 *
 * With a state_dir, media playlists are served through hls_playlist.h
 * (one numbering across Liquidsoap restarts), the numbering kept in
 * "<state_dir>/hls-<playlist>.seq" so it survives a playout restart too;
 * while a media playlist's file is missing (a Liquidsoap starting again
 * removes it until its first segment) the last one served is served.
 *
 * Thread-safety: start/stop from one thread; the hook is called from
 * server threads.
 */
#ifndef ONAIR_PLAYOUT_HLS_HTTP_H
#define ONAIR_PLAYOUT_HLS_HTTP_H

#include <stdint.h>

struct hls_http;

struct hls_http_options {
	const char *dir;	/* directory Liquidsoap writes the HLS files to */
	const char *address;	/* IPv4/IPv6 literal to bind, e.g. "127.0.0.1" */
	uint16_t port;		/* 0 = any free port (see hls_http_port) */
	/* Called for each segment served (for listener statistics): the
	 * client's address as text and the file name. A segment is any file
	 * but a playlist; it counts on a GET of its first byte (a whole-file
	 * GET or a range from 0), not on HEAD. Optional. */
	void (*on_segment)(void *userdata, const char *client, const char *name);
	void *userdata;
	/* Where the playlists' numbering is kept; NULL: files served as
	 * they are. */
	const char *state_dir;
};

/* Start serving. 0, -EINVAL (bad options or address), -EADDRINUSE,
 * -errno (e.g. -ENOENT: no such directory), -EIO (the server library
 * refused to start). */
int hls_http_start(struct hls_http **out, const struct hls_http_options *opts);
/* The port actually bound. */
uint16_t hls_http_port(const struct hls_http *h);
/* Stop and free; NULL ok. */
void hls_http_stop(struct hls_http *h);

#include "common/banned.h"
#endif
