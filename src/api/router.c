/*
 * router.c - matching routes and admitting callers; see router.h.
 */
#include "api/router.h"

#include <stdio.h>
#include <string.h>

#include "api/auth.h"
#include "api/problem.h"
#include "api/web.h"

/* A path parameter: a row id of 1..15 digits, no sign, no leading zero. */
static bool parse_id(const char *s, size_t len, int64_t *out)
{
	if (len == 0 || len > 15 || s[0] == '0')
		return false;
	int64_t v = 0;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return true;
}

/* Whether path fits pattern, collecting the ids. */
static bool path_matches(const char *pattern, const char *path, int64_t *ids, size_t *nids)
{
	size_t n = 0;
	const char *p = pattern, *s = path;
	while (*p && *s) {
		if (*p == '{') {
			const char *pe = strchr(p, '}');
			const char *se = strchr(s, '/');
			if (!pe)
				return false;
			size_t slen = se ? (size_t)(se - s) : strlen(s);
			if (n >= API_MAX_PARAMS || !parse_id(s, slen, &ids[n]))
				return false;
			n++;
			p = pe + 1;
			s += slen;
			continue;
		}
		if (*p != *s)
			return false;
		p++;
		s++;
	}
	if (*p || *s)
		return false;
	*nids = n;
	return true;
}

const struct api_route *router_match(const char *method, const char *path, int64_t *ids,
				     size_t *nids, int *status, char *allow, size_t allowlen)
{
	size_t n;
	const struct api_route *routes = api_routes(&n);
	bool is_head = strcmp(method, "HEAD") == 0;
	bool path_found = false;
	if (allow && allowlen)
		allow[0] = '\0';
	for (size_t i = 0; i < n; i++) {
		int64_t tmp[API_MAX_PARAMS];
		size_t ntmp = 0;
		if (!path_matches(routes[i].pattern, path, tmp, &ntmp))
			continue;
		path_found = true;
		if (strcmp(routes[i].method, method) == 0 ||
		    (is_head && strcmp(routes[i].method, "GET") == 0)) {
			memcpy(ids, tmp, sizeof(tmp[0]) * ntmp);
			*nids = ntmp;
			*status = 200;
			return &routes[i];
		}
		if (allow && allowlen && !strstr(allow, routes[i].method)) {
			size_t used = strlen(allow);
			snprintf(allow + used, allowlen - used, "%s%s", used ? ", " : "",
				 routes[i].method);
			if (strcmp(routes[i].method, "GET") == 0 && !strstr(allow, "HEAD")) {
				used = strlen(allow);
				snprintf(allow + used, allowlen - used, ", HEAD");
			}
		}
	}
	*status = path_found ? 405 : 404;
	return NULL;
}

static bool is_safe_method(const char *method)
{
	return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0 ||
	       strcmp(method, "OPTIONS") == 0;
}

bool router_admit(struct api_request *req, struct api_response *res)
{
	const struct api_route *route = req->route;
	if ((route->flags & ROUTE_PUBLIC) && !req->ctx->public_enabled) {
		problem(res, 404, "the public endpoints are switched off on this station");
		return false;
	}
	if (auth_identify(req, res) < 0)
		return false;
	const struct api_caller *c = &req->caller;
	if (c->auth == AUTH_SERVICE) {
		if (route->flags & ROUTE_SERVICE)
			return true;
		problem(res, 403, "the playout service credential may only download media");
		return false;
	}
	if (route->role == ROLE_NONE)
		return true;
	if (c->auth == AUTH_NONE) {
		problem(res, 401, "log in or send an API token (Authorization: Bearer ...)");
		api_response_header(res, "WWW-Authenticate", "Bearer realm=\"onair\"");
		return false;
	}
	if (c->role < route->role) {
		problem(res, 403, "a %s may not do this (needs %s or more)", api_role_name(c->role),
			api_role_name(route->role));
		return false;
	}
	if (c->auth == AUTH_SESSION && !is_safe_method(req->method) &&
	    !(route->flags & ROUTE_NO_CSRF) && !auth_csrf_ok(req)) {
		problem(res, 403, "the X-CSRF-Token header is missing or wrong for this session");
		return false;
	}
	return true;
}

void router_unmatched(struct api_request *req, int status, const char *allow,
		      struct api_response *res)
{
	if (status == 405) {
		problem(res, 405, "%s is not allowed here; allowed: %s", req->method, allow);
		api_response_header(res, "Allow", allow);
	} else if ((strcmp(req->method, "GET") == 0 || strcmp(req->method, "HEAD") == 0) &&
		   strncmp(req->path, "/api/", 5) != 0 && web_serve(req, res)) {
		return;
	} else {
		problem(res, 404, "there is no such resource");
	}
}

void router_dispatch(struct api_request *req, struct api_response *res)
{
	api_response_init(res);
	int status;
	char allow[128];
	req->route = router_match(req->method, req->path, req->ids, &req->nids, &status, allow,
				  sizeof(allow));
	if (!req->route) {
		router_unmatched(req, status, allow, res);
		return;
	}
	if (req->route->stream) {
		problem(res, 500, "a streamed route was called with a buffered body");
		return;
	}
	if (!router_admit(req, res))
		return;
	req->route->handler(req, res);
	res->head = strcmp(req->method, "HEAD") == 0;
}
