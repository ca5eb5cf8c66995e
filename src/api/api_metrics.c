/*
 * api_metrics.c - the web API's Prometheus metrics; see api_metrics.h.
 */
#include "api/api_metrics.h"

#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "api/auth.h"
#include "api/problem.h"
#include "api/router.h"
#include "common/timeutil.h"

#define RENDER_MAX (8u << 20)

void api_metrics_init(struct api_ctx *ctx)
{
	static const double bounds[] = { 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1,
					 0.25, 0.5, 1, 2.5, 10 };
	ctx->metrics = metrics_new("api");
	ctx->http_requests = metrics_counter(ctx->metrics, "onair_http_requests_total",
					     "requests answered, by route, method and status",
					     "route,method,status");
	ctx->http_duration = metrics_histogram(ctx->metrics, "onair_http_request_duration_seconds",
					       "time to answer a request (to the first byte)",
					       "route", bounds, sizeof(bounds) / sizeof(bounds[0]));
}

static bool loopback(const char *addr)
{
	return addr && (strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 ||
			strncmp(addr, "::ffff:127.", 11) == 0);
}

static bool token_ok(const struct api_request *req)
{
	const char *h = api_header(req, "Authorization");
	if (!req->ctx->metrics_token_hash[0] || !h || strncasecmp(h, "Bearer ", 7) != 0)
		return false;
	char hash[AUTH_HASH_SIZE];
	auth_hash_secret(h + 7, hash);
	return sodium_memcmp(hash, req->ctx->metrics_token_hash, 64) == 0;
}

bool api_metrics_serve(struct api_request *req, struct api_response *res)
{
	if (strcmp(req->path, "/metrics") != 0)
		return false;
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
		problem(res, 405, "only GET and HEAD");
		api_response_header(res, "Allow", "GET, HEAD");
		return true;
	}
	if (!loopback(req->client_addr) && !token_ok(req)) {
		problem(res, 403, "the metrics are for loopback clients, or with api.metrics_token");
		return true;
	}
	struct buf out;
	buf_init(&out, RENDER_MAX);
	if (!req->ctx->metrics || metrics_render(req->ctx->metrics, &out) < 0)
		problem(res, 500, "the metrics cannot be rendered");
	else
		api_response_text(res, 200, METRICS_CONTENT_TYPE, out.data ? out.data : "",
				  out.len);
	buf_release(&out);
	return true;
}

void api_metrics_count(const struct api_ctx *ctx, const struct api_route *route,
		       const char *method, int status, int64_t took_us)
{
	if (!ctx->metrics)
		return;
	char code[8];
	snprintf(code, sizeof(code), "%d", status);
	const char *name = route ? route->pattern : "unmatched";
	const char *labels[] = { name, method ? method : "?", code };
	metric_add(ctx->http_requests, 1, labels);
	metric_observe(ctx->http_duration, (double)took_us / USEC_PER_SEC, &name);
}
