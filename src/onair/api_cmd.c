/*
 * api_cmd.c - onair api; see api_cmd.h.
 */
#include "onair/api_cmd.h"

#include <errno.h>
#include <malloc.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "api/api_metrics.h"
#include "api/auth.h"
#include "api/live.h"
#include "api/resources.h"
#include "api/router.h"
#include "api/server.h"
#include "api/throttle.h"
#include "common/cli.h"
#include "common/error.h"
#include "common/log.h"
#include "common/runtime.h"
#include "common/timeutil.h"
#include "db/db.h"
#include "db/migrations.h"
#include "mq/mq.h"
#include "mq/presence.h"
#include "storage/storage.h"

#define ROLE "api"

static void on_mq_state(void *userdata, bool connected)
{
	if (connected)
		log_info(ROLE, "message queue connected");
	else
		log_warn(ROLE, "message queue disconnected; reconnecting");
}

static int migrate(const char *url)
{
	struct db *db = NULL;
	char err[512];
	int r = db_open(&db, url, err, sizeof(err));
	if (r < 0) {
		log_error(ROLE, "database: %s", err[0] ? err : onair_strerror(r));
		return r;
	}
	int64_t from_v = 0, to_v = 0;
	r = db_migrate(db, &from_v, &to_v);
	if (r < 0)
		log_error(ROLE, "database schema: %s", r == -EPROTO ? "newer than this program"
								  : db_errmsg(db));
	else if (to_v != from_v)
		log_info(ROLE, "database schema upgraded from version %" PRId64 " to %" PRId64,
			 from_v, to_v);
	db_close(db);
	return r;
}

int api_command(const struct config *cfg)
{
	int64_t threads = 4, upload_mb = 1024, session_h = 12, attempts = 5;
	bool secure = false, public_on = true;
	if (config_get_int(cfg, "api.threads", 1, 64, &threads) == -EINVAL ||
	    config_get_int(cfg, "api.max_upload_mb", 1, 1024 * 1024, &upload_mb) == -EINVAL ||
	    config_get_int(cfg, "api.session_hours", 1, 24 * 365, &session_h) == -EINVAL ||
	    config_get_int(cfg, "api.login_attempts", 1, 1000, &attempts) == -EINVAL ||
	    config_get_bool(cfg, "api.cookie_secure", &secure) == -EINVAL ||
	    config_get_bool(cfg, "api.public", &public_on) == -EINVAL) {
		log_error(ROLE, "an api.* setting is not valid (see onair config)");
		return EXIT_FAILURE;
	}
	const char *urls[] = { "public.stream_url", "public.hls_url" };
	const char *url_values[2];
	for (int i = 0; i < 2; i++) {
		const char *u = config_get(cfg, urls[i]);
		url_values[i] = u && *u ? u : NULL;
		if (url_values[i] && public_url_check(url_values[i]) < 0) {
			log_error(ROLE, "%s is not an http:// or https:// URL a browser can play "
				  "(at most %d characters, an ASCII host, no user part, no spaces "
				  "or quotes): %s", urls[i], PUBLIC_URL_MAX, url_values[i]);
			return EXIT_USAGE;
		}
	}
	/* Responses of a few hundred KiB are built and freed all the time:
	 * keep the heap instead of giving it back (and faulting it in again)
	 * on every request. Measured: a schedule window read in half the time. */
	mallopt(M_MMAP_THRESHOLD, 8 * 1024 * 1024);
	mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
	if (sodium_init() < 0) {
		log_error(ROLE, "libsodium cannot start");
		return EXIT_FAILURE;
	}
	const char *db_url = config_get(cfg, "database.url");
	if (migrate(db_url) < 0)
		return EXIT_FAILURE;
	struct presence *presence = NULL;
	struct api_ctx ctx = {
		.db_url = db_url,
		.max_upload = upload_mb * 1024 * 1024,
		.session_ttl_us = session_h * 3600 * USEC_PER_SEC,
		.cookie_secure = secure,
		.public_enabled = public_on,
		.web_dir = config_get(cfg, "api.web_dir"),
		.stream_url = url_values[0],
		.hls_url = url_values[1],
	};
	const char *token = config_get(cfg, "api.playout_token");
	if (token && *token)
		auth_hash_secret(token, ctx.service_token_hash);
	const char *mtoken = config_get(cfg, "api.metrics_token");
	if (mtoken && *mtoken)
		auth_hash_secret(mtoken, ctx.metrics_token_hash);
	api_metrics_init(&ctx);
	int r = storage_open(&ctx.storage, config_get(cfg, "storage.path"));
	if (r < 0) {
		log_error(ROLE, "media store %s: %s", config_get(cfg, "storage.path"),
			  onair_strerror(r));
		return EXIT_FAILURE;
	}
	int code = EXIT_FAILURE;
	/* An address may fail more often than an account: several people
	 * may share it (one office, one NAT). */
	ctx.throttle = throttle_new(4096, (unsigned)attempts, 30 * USEC_PER_SEC,
				    15 * 60 * USEC_PER_SEC);
	ctx.throttle_addr = throttle_new(4096, 4 * (unsigned)attempts, 30 * USEC_PER_SEC,
					 15 * 60 * USEC_PER_SEC);
	char host[64] = "localhost", conn_name[128];
	gethostname(host, sizeof(host) - 1);
	snprintf(conn_name, sizeof(conn_name), "onair-api@%.64s", host);
	const char *configured = config_get(cfg, "nats.name");
	struct mq_options opts = {
		.url = config_get(cfg, "nats.url"),
		.name = configured ? configured : conn_name,
		.on_state = on_mq_state,
	};
	r = mq_options_from_config(&opts, cfg);
	if (r == 0)
		r = mq_connect(&ctx.mq, &opts);
	if (r < 0) {
		log_error(ROLE, "cannot use message queue at %s: %s", opts.url, onair_strerror(r));
		goto out;
	}
	if ((r = presence_start(ctx.mq, ROLE, opts.name, &presence)) < 0)
		log_warn(ROLE, "not answering presence requests: %s", onair_strerror(r));
	r = live_status_start(&ctx.live, ctx.mq);
	if (r < 0)
		log_warn(ROLE, "the playouts' live status is off: %s", onair_strerror(r));
	struct api_server *server = NULL;
	uint16_t port = 0;
	const char *listen = config_get(cfg, "api.listen");
	r = api_server_start(&server, &ctx, listen, (unsigned)threads, &port);
	if (r < 0) {
		log_error(ROLE, "cannot listen on %s: %s", listen, onair_strerror(r));
		goto out;
	}
	log_info(ROLE, "running: http://%s/api/v1 (port %u, %" PRId64 " threads, version %s)",
		 listen, (unsigned)port, threads, ONAIR_VERSION);
	bool topology = false;
	int sig = 0;
	while (sig == 0) {
		if (!topology && mq_connected(ctx.mq)) {
			r = mq_ensure_topology(ctx.mq);
			if (r == 0)
				topology = true;
			else
				log_warn(ROLE, "setting up streams failed (%s); will retry",
					 onair_strerror(r));
		}
		sig = runtime_wait_signal(topology ? -1 : 500 * USEC_PER_MSEC);
	}
	log_info(ROLE, "stopping on %s", strsignal(sig));
	api_server_stop(server);
	code = EXIT_SUCCESS;
	log_info(ROLE, "stopped");
out:
	live_status_stop(ctx.live);
	presence_stop(presence);
	mq_close(ctx.mq);
	throttle_free(ctx.throttle);
	throttle_free(ctx.throttle_addr);
	storage_close(ctx.storage);
	metrics_free(ctx.metrics);
	return code;
}

static const char *handler_kind(api_handler h)
{
	return h == resource_list ? "list" : h == resource_create ? "create"
	       : h == resource_get ? "get" : h == resource_update ? "update"
	       : h == resource_delete ? "delete" : "custom";
}

static json_t *field_json(const struct field *f)
{
	static const char *const types[] = { "int", "id", "real", "text", "enum", "bool", "time",
					     "json" };
	static const char *const flags[] = { "ro", "req", "null", "filter", "sort", "search",
					     "nonempty", "owner", "virtual" };
	json_t *o = json_pack("{s:s, s:s}", "name", f->name, "type", types[f->type]);
	json_t *fl = json_array();
	for (unsigned i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
		if (f->flags & (1u << i))
			json_array_append_new(fl, json_string(flags[i]));
	}
	json_object_set_new(o, "flags", fl);
	if (f->min || f->max) {
		json_object_set_new(o, "min", json_integer(f->min));
		json_object_set_new(o, "max", json_integer(f->max));
	}
	if (f->choices) {
		json_t *ch = json_array();
		for (size_t i = 0; f->choices[i]; i++)
			json_array_append_new(ch, json_string(f->choices[i]));
		json_object_set_new(o, "choices", ch);
	}
	return o;
}

/* The route table with the declared resources, as JSON: for the OpenAPI
 * document's generator (docs/openapi/build_openapi.py). */
static int api_routes_json(void)
{
	size_t n;
	const struct api_route *routes = api_routes(&n);
	json_t *list = json_array(), *resources = json_object();
	for (size_t i = 0; i < n; i++) {
		const struct api_route *r = &routes[i];
		const struct resource *rs = r->data;
		json_t *o = json_pack("{s:s, s:s, s:s, s:b, s:s}", "method", r->method, "path",
				      r->pattern, "role", r->role == ROLE_NONE ? "none"
				      : api_role_name(r->role), "service", (r->flags & ROUTE_SERVICE) != 0,
				      "handler", handler_kind(r->handler));
		json_object_set_new(o, "resource", rs ? json_string(rs->table) : json_null());
		json_array_append_new(list, o);
		if (!rs || json_object_get(resources, rs->table))
			continue;
		json_t *fields = json_array();
		for (size_t k = 0; k < rs->nfields; k++)
			json_array_append_new(fields, field_json(&rs->fields[k]));
		json_object_set_new(resources, rs->table,
				    json_pack("{s:s, s:o, s:b}", "name", rs->name, "fields", fields,
					      "versioned", rs->versioned));
	}
	json_t *doc = json_pack("{s:o, s:o}", "routes", list, "resources", resources);
	char *text = json_dumps(doc, JSON_INDENT(1) | JSON_SORT_KEYS);
	json_decref(doc);
	if (!text)
		return EXIT_FAILURE;
	puts(text);
	free(text);
	return EXIT_SUCCESS;
}

int api_routes_command(bool as_json)
{
	if (as_json)
		return api_routes_json();
	size_t n;
	const struct api_route *routes = api_routes(&n);
	for (size_t i = 0; i < n; i++)
		printf("%s %s %s%s\n", routes[i].method, routes[i].pattern,
		       routes[i].role == ROLE_NONE ? "none" : api_role_name(routes[i].role),
		       routes[i].flags & ROUTE_SERVICE ? " service" : "");
	return EXIT_SUCCESS;
}
