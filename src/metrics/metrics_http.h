/*
 * metrics_http.h - a small HTTP server that answers GET /metrics with a
 * registry's exposition, for the roles that have no HTTP server of their
 * own (worker, messages, playout).
 */
#ifndef ONAIR_METRICS_HTTP_H
#define ONAIR_METRICS_HTTP_H

#include <stdint.h>

#include "common/config.h"
#include "metrics/metrics.h"

/* The configuration keys, for a role's key table. */
#define METRICS_HTTP_CONFIG_KEYS \
	{ "metrics.address", "127.0.0.1", "address the /metrics endpoint listens on" }, \
	{ "metrics.port", "0", "port of the /metrics endpoint (Prometheus; 0: none)" }

struct metrics_http;

/* Serve m on address:port (port 0 picks a free one; *bound gets it, may
 * be NULL). 0, -EINVAL (address), -EADDRINUSE. */
int metrics_http_start(struct metrics *m, const char *address, int port,
		       struct metrics_http **out, uint16_t *bound);

/* Start serving m as cfg's metrics.address and metrics.port say (port 0:
 * nothing is started, *out is NULL). role names the log lines. 0, or
 * -EINVAL / -EADDRINUSE (logged). */
int metrics_http_start_from(struct metrics *m, const struct config *cfg, const char *role,
			    struct metrics_http **out);

/* Stop the server; NULL is ignored. The registry is the caller's. */
void metrics_http_stop(struct metrics_http *h);

#include "common/banned.h"
#endif
