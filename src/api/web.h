/*
 * web.h - the web app's files (src/web), embedded in onair api at build
 * time (scripts/embed_web.py) and served at / with ETags: one binary
 * carries the station's interface, nothing to install beside it.
 */
#ifndef ONAIR_API_WEB_H
#define ONAIR_API_WEB_H

#include <stdbool.h>
#include <stddef.h>

#include "api/api.h"

struct web_asset {
	const char *path;		/* "/index.html", "/app/main.js" */
	const char *type;		/* media type */
	const char *etag;		/* quoted */
	const unsigned char *data;
	size_t len;
};

/* The embedded files, sorted by path. */
extern const struct web_asset web_assets[];
extern const size_t web_assets_count;

/* The asset at path ("/" is "/index.html"), or NULL. */
const struct web_asset *web_asset_find(const char *path);

/*
 * Answer a GET or HEAD of req->path from the web app's files: 200 with
 * the file, or 304 when If-None-Match names its ETag, into res (freshly
 * initialised). false (res untouched) when there is no such file.
 */
bool web_serve(struct api_request *req, struct api_response *res);

#include "common/banned.h"
#endif
