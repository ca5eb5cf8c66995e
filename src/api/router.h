/*
 * router.h - the web API's routes: matching a method and path to a
 * handler, and admitting the caller (credentials, role, CSRF).
 *
 * Every route of /api/v1 is in one table (routes.c) with the weakest
 * role it allows, so that the permission matrix test and the OpenAPI
 * check can walk it. Ownership rules that depend on the row (a host may
 * change the playlists it owns) are the handlers' job.
 */
#ifndef ONAIR_API_ROUTER_H
#define ONAIR_API_ROUTER_H

#include "api/api.h"

typedef void (*api_handler)(struct api_request *req, struct api_response *res);

/*
 * A route whose body is streamed instead of buffered (uploads). begin is
 * called once the caller is admitted, before any byte: 0, or -1 with res
 * filled (the body is then not read). data gets the body in pieces: 0 to
 * go on, -1 with res filled to stop. finish ends a body that arrived
 * whole and fills res. abort is called instead of finish when the client
 * went away or data failed; it must undo what begin and data did.
 * state is the route's own, set by begin.
 */
struct api_stream_ops {
	int (*begin)(struct api_request *req, struct api_response *res, void **state);
	int (*data)(struct api_request *req, void *state, const char *data, size_t len,
		    struct api_response *res);
	void (*finish)(struct api_request *req, void *state, struct api_response *res);
	void (*abort)(struct api_request *req, void *state);
};

enum {
	ROUTE_SERVICE = 1u << 0,	/* the playout service credential may call it */
	ROUTE_NO_CSRF = 1u << 1,	/* a session need not send the CSRF header (login) */
	ROUTE_PUBLIC = 1u << 2,		/* one of the public endpoints that can be switched off */
};

struct api_route {
	const char *method;
	const char *pattern;		/* "/api/v1/files/{id}/content": {x} is a row id */
	api_handler handler;		/* NULL for a streamed route (stream) */
	enum api_role role;		/* weakest role allowed; ROLE_NONE: anyone */
	unsigned flags;
	const void *data;		/* handler's data (the resource of generic handlers) */
	const struct api_stream_ops *stream;	/* NULL: the body is buffered */
};

/* The route table and its length. */
const struct api_route *api_routes(size_t *n);

/*
 * The route for method and path, with its path parameters in ids[0..]
 * (*nids of them). NULL when none matches: *status says 404 (no such
 * path) or 405 (the path exists; allow, when not NULL, gets the methods
 * it has, ", "-separated). HEAD matches GET routes.
 */
const struct api_route *router_match(const char *method, const char *path, int64_t *ids,
				     size_t *nids, int *status, char *allow, size_t allowlen);

/*
 * Identify the caller of req (req->route set) and check it may use the
 * route: credentials, role, CSRF for sessions changing things. true to go
 * on; false with res filled (401, 403, 404 for public endpoints switched
 * off).
 */
bool router_admit(struct api_request *req, struct api_response *res);

/*
 * Answer a request whose body was buffered: match, admit, call the
 * handler. res is initialised here. Unknown paths get 404, wrong methods
 * 405 with Allow.
 */
void router_dispatch(struct api_request *req, struct api_response *res);

/*
 * Answer a request no route matched (status and allow from router_match):
 * 405 with Allow; a GET or HEAD outside /api/ from the web app's files
 * (web.h) when there is such a file; 404 otherwise.
 */
void router_unmatched(struct api_request *req, int status, const char *allow,
		      struct api_response *res);

#include "common/banned.h"
#endif
