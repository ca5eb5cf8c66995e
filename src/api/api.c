/*
 * api.c - requests, responses and roles; see api.h.
 */
#include "api/api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/alloc.h"

static const char *const role_names[] = {
	[ROLE_NONE] = "",
	[ROLE_GUEST] = "guest",
	[ROLE_HOST] = "host",
	[ROLE_PM] = "program_manager",
	[ROLE_ADMIN] = "admin",
};

const char *api_role_name(enum api_role role)
{
	if ((unsigned)role >= sizeof(role_names) / sizeof(role_names[0]))
		return "";
	return role_names[role];
}

enum api_role api_role_from_name(const char *name)
{
	if (!name)
		return ROLE_NONE;
	for (int r = ROLE_GUEST; r <= ROLE_ADMIN; r++) {
		if (strcmp(name, role_names[r]) == 0)
			return (enum api_role)r;
	}
	return ROLE_NONE;
}

void api_response_init(struct api_response *res)
{
	memset(res, 0, sizeof(*res));
	res->status = 200;
	res->fd = -1;
}

void api_response_release(struct api_response *res)
{
	json_decref(res->json);
	free(res->text);
	if (res->fd >= 0)
		close(res->fd);
	api_response_init(res);
}

void api_response_header(struct api_response *res, const char *name, const char *value)
{
	if (res->nheaders >= API_MAX_RESP_HEADERS ||
	    strlen(name) >= sizeof(res->headers[0].name) ||
	    strlen(value) >= sizeof(res->headers[0].value))
		return;
	for (size_t i = 0; i < res->nheaders; i++) {
		if (strcasecmp(res->headers[i].name, name) == 0) {
			snprintf(res->headers[i].value, sizeof(res->headers[i].value), "%s", value);
			return;
		}
	}
	snprintf(res->headers[res->nheaders].name, sizeof(res->headers[0].name), "%s", name);
	snprintf(res->headers[res->nheaders].value, sizeof(res->headers[0].value), "%s", value);
	res->nheaders++;
}

/* Drop any body res holds, keeping its headers. */
static void drop_body(struct api_response *res)
{
	json_decref(res->json);
	res->json = NULL;
	free(res->text);
	res->text = NULL;
	res->text_len = 0;
	if (res->fd >= 0)
		close(res->fd);
	res->fd = -1;
	res->content_type = NULL;
}

void api_response_json(struct api_response *res, int status, json_t *doc)
{
	drop_body(res);
	res->status = status;
	res->json = doc;
	res->content_type = "application/json";
}

void api_response_text(struct api_response *res, int status, const char *type, const char *text,
		       size_t len)
{
	drop_body(res);
	res->status = status;
	res->text = xmalloc(len + 1);
	memcpy(res->text, text, len);
	res->text[len] = '\0';
	res->text_len = len;
	res->content_type = type;
}

const char *api_query(const struct api_request *req, const char *key)
{
	for (size_t i = 0; i < req->nquery; i++) {
		if (strcmp(req->query[i].key, key) == 0)
			return req->query[i].value ? req->query[i].value : "";
	}
	return NULL;
}

const char *api_header(const struct api_request *req, const char *name)
{
	for (size_t i = 0; i < req->nheaders; i++) {
		if (strcasecmp(req->headers[i].key, name) == 0)
			return req->headers[i].value;
	}
	return NULL;
}
