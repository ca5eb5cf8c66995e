/*
 * api_cmd.h - onair api: serve the web API.
 */
#ifndef ONAIR_ONAIR_API_CMD_H
#define ONAIR_ONAIR_API_CMD_H

#include <stdbool.h>

#include "common/config.h"

/* The api.* and public.* settings, for the command's settings table. */
#define API_CMD_KEYS \
	{ "api.threads", "4", "threads serving requests (each with a database connection)" }, \
	{ "api.max_upload_mb", "1024", "largest uploaded file, in MiB" }, \
	{ "api.session_hours", "12", "how long a login lasts" }, \
	{ "api.cookie_secure", "false", "mark the session cookie Secure (serve over HTTPS)" }, \
	{ "api.playout_token", NULL, "service credential playout sends to download media" }, \
	{ "api.public", "true", "serve the public endpoints (no login)" }, \
	{ "api.login_attempts", "5", "failed logins per account or address before a lock" }, \
	{ "api.web_dir", NULL, "serve the web app from this directory, not the built-in copy" }, \
	{ "api.metrics_token", NULL, "bearer token for GET /metrics from other hosts (unset: loopback only)" }, \
	{ "public.stream_url", NULL, "the Icecast mount URL listeners reach (the player page)" }, \
	{ "public.hls_url", NULL, "the HLS playlist URL listeners reach (the player page)" }

/* Run the web API until SIGTERM or SIGINT: migrate the database, open
 * the media store, connect to the queue (work that needs it answers 503
 * while it is down), listen on api.listen. An exit status: EXIT_USAGE when
 * public.stream_url or public.hls_url is not a valid URL (public_url_check). */
int api_command(const struct config *cfg);

/* Print the route table (method, path, weakest role) to stdout: for the
 * tests that check the OpenAPI document and the permissions; as_json:
 * with the declared resources' fields, for the OpenAPI generator. */
int api_routes_command(bool as_json);

#include "common/banned.h"
#endif
