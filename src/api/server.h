/*
 * server.h - the web API's HTTP server (libmicrohttpd): a pool of
 * threads, each with its own database connection, turning HTTP requests
 * into api_request values for the router and api_response values back
 * into HTTP. JSON bodies are buffered up to BODY_JSON_MAX; streamed
 * routes (uploads) get their bytes as they arrive and are aborted when
 * the client goes away.
 */
#ifndef ONAIR_API_SERVER_H
#define ONAIR_API_SERVER_H

#include <stdint.h>

#include "api/api.h"

struct api_server;

/*
 * Listen on listen ("127.0.0.1:8080", "[::1]:8080", port 0 for any free
 * one) with threads worker threads, serving ctx (which must outlive the
 * server). *port_out (may be NULL) gets the bound port. 0, -EINVAL for a
 * malformed address, -EADDRINUSE, or -EIO when the server cannot start.
 */
int api_server_start(struct api_server **out, struct api_ctx *ctx, const char *listen,
		     unsigned threads, uint16_t *port_out);

/* Stop serving (open connections are closed) and free s (NULL is ignored). */
void api_server_stop(struct api_server *s);

#include "common/banned.h"
#endif
