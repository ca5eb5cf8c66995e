/*
 * web.c - serving the embedded web app. The pages are a shell that loads
 * ES modules from /app/; every answer is revalidated (no-cache + ETag),
 * so a new onair api is picked up at the next load and an unchanged file
 * costs a 304. The HTML carries a Content-Security-Policy that allows
 * scripts, styles and connections to this origin only (media may come
 * from the station's stream servers).
 */
#include "api/web.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "api/problem.h"
#include "common/alloc.h"

/* Largest file read from api.web_dir. */
#define WEB_FILE_MAX (4 << 20)

#define CSP_HTML                                                                  \
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:;" \
	" connect-src 'self'; media-src 'self' http: https: blob:; object-src 'none';"   \
	" base-uri 'none'; form-action 'self'; frame-ancestors 'self'"

static int by_path(const void *key, const void *elem)
{
	return strcmp(key, ((const struct web_asset *)elem)->path);
}

const struct web_asset *web_asset_find(const char *path)
{
	if (!path)
		return NULL;
	if (strcmp(path, "/") == 0)
		path = "/index.html";
	return bsearch(path, web_assets, web_assets_count, sizeof(web_assets[0]), by_path);
}

/* Whether an If-None-Match value names etag (a list, or "*"). */
static bool etag_matches(const char *header, const char *etag)
{
	if (!header)
		return false;
	if (strcmp(header, "*") == 0)
		return true;
	size_t n = strlen(etag);
	for (const char *p = header; (p = strstr(p, etag)) != NULL; p += n) {
		bool start = p == header || p[-1] == ' ' || p[-1] == ',' || p[-1] == '/';
		bool end = p[n] == '\0' || p[n] == ',' || p[n] == ' ';
		if (start && end)
			return true;
	}
	return false;
}

/*
 * Answer a's file from dir (api.web_dir, for working on the web app
 * without rebuilding): only the paths the build knows are served, so no
 * request names another file. Not cached.
 */
static void serve_from_dir(const char *dir, const struct web_asset *a,
			   struct api_response *res)
{
	char path[4096];
	int fd = -1;
	struct stat st;
	char *data = NULL;
	if ((size_t)snprintf(path, sizeof(path), "%s%s", dir, a->path) >= sizeof(path) ||
	    (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0 ||
	    !S_ISREG(st.st_mode) || st.st_size > WEB_FILE_MAX)
		goto fail;
	data = xmalloc((size_t)st.st_size + 1);
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, data + got, (size_t)st.st_size - got);
		if (n <= 0)
			goto fail;
		got += (size_t)n;
	}
	api_response_text(res, 200, a->type, data, got);
	api_response_header(res, "Cache-Control", "no-store");
	free(data);
	close(fd);
	return;
fail:
	free(data);
	if (fd >= 0)
		close(fd);
	problem(res, 404, "%s is not in api.web_dir", a->path);
}

bool web_serve(struct api_request *req, struct api_response *res)
{
	const struct web_asset *a = web_asset_find(req->path);
	if (!a)
		return false;
	if (req->ctx && req->ctx->web_dir && *req->ctx->web_dir) {
		serve_from_dir(req->ctx->web_dir, a, res);
		if (strncmp(a->type, "text/html", 9) == 0)
			api_response_header(res, "Content-Security-Policy", CSP_HTML);
		res->head = strcmp(req->method, "HEAD") == 0;
		return true;
	}
	if (etag_matches(api_header(req, "If-None-Match"), a->etag)) {
		res->status = 304;
	} else {
		api_response_text(res, 200, a->type, (const char *)a->data, a->len);
	}
	api_response_header(res, "ETag", a->etag);
	api_response_header(res, "Cache-Control", "no-cache");
	api_response_header(res, "Referrer-Policy", "same-origin");
	if (strncmp(a->type, "text/html", 9) == 0)
		api_response_header(res, "Content-Security-Policy", CSP_HTML);
	res->head = strcmp(req->method, "HEAD") == 0;
	return true;
}
