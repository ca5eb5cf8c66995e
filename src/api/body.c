/*
 * body.c - strict JSON bodies and query parameters; see body.h.
 */
#include "api/body.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/timeutil.h"

json_t *body_object(struct api_request *req, struct api_response *res)
{
	const char *type = api_header(req, "Content-Type");
	if (!type || (strncasecmp(type, "application/json", 16) != 0 ||
		      (type[16] != '\0' && type[16] != ';' && type[16] != ' '))) {
		problem(res, 415, "send the body as application/json");
		return NULL;
	}
	if (req->body_len > BODY_JSON_MAX) {
		problem(res, 413, "the body is larger than %d bytes", BODY_JSON_MAX);
		return NULL;
	}
	json_error_t jerr;
	json_t *doc = json_loadb(req->body ? req->body : "", req->body_len,
				 JSON_REJECT_DUPLICATES, &jerr);
	if (!doc) {
		problem(res, 400, "malformed JSON at line %d, column %d: %s", jerr.line,
			jerr.column, jerr.text);
		return NULL;
	}
	if (!json_is_object(doc)) {
		json_decref(doc);
		problem(res, 400, "the body must be a JSON object");
		return NULL;
	}
	return doc;
}

void body_only(json_t *obj, const char *const *allowed, struct field_errors *fe)
{
	const char *key;
	json_t *v;
	json_object_foreach(obj, key, v) {
		bool known = false;
		for (size_t i = 0; allowed[i]; i++) {
			if (strcmp(allowed[i], key) == 0) {
				known = true;
				break;
			}
		}
		if (!known)
			field_error(fe, key, "unknown field");
	}
}

int body_text(json_t *obj, const char *key, size_t max, const char **out, struct field_errors *fe)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return 0;
	if (!json_is_string(v)) {
		field_error(fe, key, "must be a string");
		return -1;
	}
	size_t len = json_string_length(v);
	const char *s = json_string_value(v);
	if (strlen(s) != len) {
		field_error(fe, key, "must not contain NUL characters");
		return -1;
	}
	if (len > max) {
		field_error(fe, key, "must be at most %zu bytes", max);
		return -1;
	}
	*out = s;
	return 1;
}

int body_int(json_t *obj, const char *key, int64_t min, int64_t max, int64_t *out,
	     struct field_errors *fe)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return 0;
	if (!json_is_integer(v)) {
		field_error(fe, key, "must be an integer");
		return -1;
	}
	json_int_t i = json_integer_value(v);
	if (i < min || i > max) {
		field_error(fe, key, "must be between %lld and %lld", (long long)min,
			    (long long)max);
		return -1;
	}
	*out = i;
	return 1;
}

int body_bool(json_t *obj, const char *key, bool *out, struct field_errors *fe)
{
	json_t *v = json_object_get(obj, key);
	if (!v)
		return 0;
	if (!json_is_boolean(v)) {
		field_error(fe, key, "must be true or false");
		return -1;
	}
	*out = json_is_true(v);
	return 1;
}

int body_id_or_null(json_t *obj, const char *key, int64_t *out, bool *is_null,
		    struct field_errors *fe)
{
	json_t *v = json_object_get(obj, key);
	*is_null = false;
	if (!v)
		return 0;
	if (json_is_null(v)) {
		*is_null = true;
		return 0;
	}
	return body_int(obj, key, 1, INT64_MAX, out, fe);
}

int query_int(const struct api_request *req, const char *key, int64_t min, int64_t max,
	      int64_t *out, struct api_response *res)
{
	const char *s = api_query(req, key);
	if (!s)
		return 0;
	char *end;
	errno = 0;
	long long v = strtoll(s, &end, 10);
	if (!*s || *end || errno || v < min || v > max) {
		problem_field(res, 400, key, "query parameter %s must be an integer from %lld to %lld",
			      key, (long long)min, (long long)max);
		return -1;
	}
	*out = v;
	return 1;
}

int query_time(const struct api_request *req, const char *key, int64_t *out,
	       struct api_response *res)
{
	const char *s = api_query(req, key);
	if (!s)
		return 0;
	if (time_parse_rfc3339(s, out) < 0) {
		problem_field(res, 400, key,
			      "query parameter %s must be an RFC 3339 time (2026-11-28T18:00:00Z)",
			      key);
		return -1;
	}
	return 1;
}

bool query_only(const struct api_request *req, const char *const *allowed,
		struct api_response *res)
{
	for (size_t q = 0; q < req->nquery; q++) {
		bool known = false;
		for (size_t i = 0; allowed[i]; i++) {
			if (strcmp(allowed[i], req->query[q].key) == 0) {
				known = true;
				break;
			}
		}
		if (!known) {
			problem_field(res, 400, req->query[q].key, "unknown query parameter %s",
				      req->query[q].key);
			return false;
		}
	}
	return true;
}

bool query_range(const struct api_request *req, int64_t max_days, int64_t *from, int64_t *to,
		 struct api_response *res)
{
	int a = query_time(req, "from", from, res);
	if (a < 0)
		return false;
	int b = query_time(req, "to", to, res);
	if (b < 0)
		return false;
	if (a == 0 || b == 0) {
		problem_field(res, 400, a == 0 ? "from" : "to",
			      "from and to are required (RFC 3339 times)");
		return false;
	}
	if (*to <= *from || *to - *from > max_days * INT64_C(86400000000)) {
		problem_field(res, 400, "to", "to must be after from and at most %lld days later",
			      (long long)max_days);
		return false;
	}
	return true;
}

bool need_queue(const struct api_request *req, struct api_response *res)
{
	if (req->ctx->mq)
		return true;
	problem(res, 503, "the message queue is not connected; try again");
	api_response_header(res, "Retry-After", "5");
	return false;
}
