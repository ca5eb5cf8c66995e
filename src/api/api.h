/*
 * api.h - the web API's request, response and caller, shared by the
 * HTTP server (server.c), the router (router.c) and the handlers.
 *
 * A handler sees a request that does not depend on the HTTP library
 * (so tests and the fuzz target can drive it directly) and fills a
 * response: a JSON document, a text body or a file. Errors are answered
 * with problem details (problem.h); a handler never returns a 500 for
 * the client's mistakes.
 */
#ifndef ONAIR_API_API_H
#define ONAIR_API_API_H

#include "metrics/metrics.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <jansson.h>

struct db;
struct mq;
struct storage;
struct throttle;
struct live_status;

/* Roles, weakest first: a route names the weakest role it allows. */
enum api_role {
	ROLE_NONE = 0,		/* not logged in */
	ROLE_GUEST,
	ROLE_HOST,
	ROLE_PM,		/* program manager */
	ROLE_ADMIN,
};

/* The role's name as stored ("guest", "program_manager"...), "" for
 * ROLE_NONE. */
const char *api_role_name(enum api_role role);
/* The role of a stored name; ROLE_NONE for an unknown one. */
enum api_role api_role_from_name(const char *name);

/* How the caller proved who it is. */
enum api_auth {
	AUTH_NONE,
	AUTH_SESSION,		/* the session cookie (needs the CSRF header to change things) */
	AUTH_TOKEN,		/* a user's API token */
	AUTH_SERVICE,		/* the playout service credential: media downloads only */
};

struct api_caller {
	enum api_auth auth;
	enum api_role role;
	int64_t user_id;	/* 0 for none and for the service */
	char name[128];		/* user name, for the audit log */
	char session_hash[72];	/* the session's token hash (AUTH_SESSION) */
	char csrf[64];		/* the session's CSRF token (AUTH_SESSION) */
};

/* What the server shares with every handler. */
struct api_ctx {
	const char *db_url;
	struct storage *storage;
	struct mq *mq;			/* may be NULL: no queue (analysis not queued) */
	struct live_status *live;	/* the playouts' state; may be NULL */
	struct throttle *throttle;	/* failed logins per account */
	struct throttle *throttle_addr;	/* ... per client address (a higher limit) */
	int64_t max_upload;		/* bytes per uploaded file */
	int64_t session_ttl_us;
	bool cookie_secure;		/* add Secure to the session cookie */
	char service_token_hash[72];	/* "" when no service credential is set */
	bool public_enabled;		/* public (no login) endpoints are served */
	const char *web_dir;		/* web app files from here (development); NULL: built in */
	const char *stream_url;		/* the Icecast mount for listeners; NULL: none */
	const char *hls_url;		/* the HLS playlist for listeners; NULL: none */
	/* GET /metrics (Prometheus): the registry, the request families, and
	 * the hash of api.metrics_token ("": loopback clients only). */
	struct metrics *metrics;
	struct metric *http_requests, *http_duration;
	char metrics_token_hash[72];
};

struct api_kv {
	const char *key;
	const char *value;
};

#define API_MAX_PARAMS 4
#define API_MAX_QUERY 32
#define API_MAX_HEADERS 48
#define API_MAX_RESP_HEADERS 8

struct api_request {
	const char *method;		/* "GET", "POST", ... */
	const char *path;		/* decoded path, without the query */
	int64_t ids[API_MAX_PARAMS];	/* the route's {id}-like path parameters */
	size_t nids;
	struct api_kv query[API_MAX_QUERY];
	size_t nquery;
	struct api_kv headers[API_MAX_HEADERS];
	size_t nheaders;
	const char *client_addr;	/* "127.0.0.1" */
	const char *body;		/* buffered body (not for streamed uploads) */
	size_t body_len;
	struct api_caller caller;
	struct api_ctx *ctx;
	struct db *db;			/* this thread's connection */
	const struct api_route *route;
	int64_t now;			/* time_now_us() at the start */
};

/* A response. Exactly one body kind is used: json, text or fd. */
struct api_response {
	int status;
	json_t *json;			/* owned */
	char *text;			/* owned, text_len bytes */
	size_t text_len;
	const char *content_type;	/* static; for text and fd bodies */
	int fd;				/* -1 for none; owned */
	uint64_t fd_offset;
	uint64_t fd_length;
	bool head;			/* HEAD: headers only */
	bool sse;			/* a server-sent event stream of the live status */
	struct {
		char name[32];
		char value[1536];	/* room for a Content-Security-Policy */
	} headers[API_MAX_RESP_HEADERS];
	size_t nheaders;
};

/* Make res an empty 200 response. */
void api_response_init(struct api_response *res);
/* Free what res owns and make it empty again. */
void api_response_release(struct api_response *res);
/* Add a header (silently dropped past API_MAX_RESP_HEADERS or when too long). */
void api_response_header(struct api_response *res, const char *name, const char *value);
/* Answer status with a JSON document (stolen: the response owns it). */
void api_response_json(struct api_response *res, int status, json_t *doc);
/* Answer status with a copy of len bytes of text of the given type. */
void api_response_text(struct api_response *res, int status, const char *type, const char *text,
		       size_t len);

/* The value of query parameter key, or NULL. */
const char *api_query(const struct api_request *req, const char *key);
/* The value of header name (case-insensitive), or NULL. */
const char *api_header(const struct api_request *req, const char *name);

#include "common/banned.h"
#endif
