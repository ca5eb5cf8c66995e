/*
 * api_metrics.h - the web API's Prometheus metrics: requests by route,
 * method and status with their latency, served at GET /metrics on the
 * API's own port (outside /api/v1: loopback clients, or any client with
 * the bearer token api.metrics_token).
 */
#ifndef ONAIR_API_METRICS_H
#define ONAIR_API_METRICS_H

#include <stdbool.h>
#include <stdint.h>

#include "api/api.h"

/* Create ctx->metrics and the request families. */
void api_metrics_init(struct api_ctx *ctx);

/* Whether req is GET /metrics; if so res holds the answer (the
 * exposition, or 403 for a client that may not read it). */
bool api_metrics_serve(struct api_request *req, struct api_response *res);

/* Count a request answered with status after took_us; route NULL: it
 * matched no route. */
void api_metrics_count(const struct api_ctx *ctx, const struct api_route *route,
		       const char *method, int status, int64_t took_us);

#include "common/banned.h"
#endif
