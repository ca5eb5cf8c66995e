/*
 * problem.c - RFC 9457 problem details; see problem.h.
 */
#include "api/problem.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "common/error.h"

const char *problem_title(int status)
{
	switch (status) {
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 406: return "Not Acceptable";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 412: return "Precondition Failed";
	case 413: return "Content Too Large";
	case 415: return "Unsupported Media Type";
	case 416: return "Range Not Satisfiable";
	case 422: return "Unprocessable Content";
	case 429: return "Too Many Requests";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	default: return status < 500 ? "Client Error" : "Server Error";
	}
}

static void answer(struct api_response *res, int status, const char *detail, json_t *errors)
{
	json_t *doc = json_pack("{s:s, s:s, s:i, s:s}", "type", "about:blank", "title",
				problem_title(status), "status", status, "detail", detail);
	if (doc && errors)
		json_object_set_new(doc, "errors", errors);
	else
		json_decref(errors);
	api_response_json(res, status, doc);
	res->content_type = "application/problem+json";
}

void problem(struct api_response *res, int status, const char *fmt, ...)
{
	char detail[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	answer(res, status, detail, NULL);
}

void problem_field(struct api_response *res, int status, const char *field, const char *fmt, ...)
{
	char detail[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	json_t *errors = json_pack("[{s:s, s:s}]", "field", field, "message", detail);
	answer(res, status, detail, errors);
}

void field_error(struct field_errors *fe, const char *field, const char *fmt, ...)
{
	char msg[384];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (!fe->list)
		fe->list = json_array();
	/* A hostile body could name thousands of bad fields: 50 are enough. */
	if (json_array_size(fe->list) < 50)
		json_array_append_new(fe->list, json_pack("{s:s, s:s}", "field", field,
							  "message", msg));
}

bool field_errors_any(const struct field_errors *fe)
{
	return fe->list && json_array_size(fe->list) > 0;
}

void problem_fields(struct api_response *res, struct field_errors *fe)
{
	char detail[512];
	json_t *first = json_array_get(fe->list, 0);
	const char *field = json_string_value(json_object_get(first, "field"));
	const char *msg = json_string_value(json_object_get(first, "message"));
	if (json_array_size(fe->list) == 1 && field && msg)
		snprintf(detail, sizeof(detail), "%s: %s", field, msg);
	else
		snprintf(detail, sizeof(detail), "%zu fields are invalid",
			 json_array_size(fe->list));
	answer(res, 422, detail, fe->list);
	fe->list = NULL;
}

void field_errors_merge(struct field_errors *fe, const char *prefix, struct field_errors *sub)
{
	for (size_t i = 0; i < json_array_size(sub->list); i++) {
		json_t *e = json_array_get(sub->list, i);
		field_error(fe, "", "%s", json_string_value(json_object_get(e, "message")));
		json_t *last = json_array_get(fe->list, json_array_size(fe->list) - 1);
		char full[160];
		snprintf(full, sizeof(full), "%s.%s", prefix,
			 json_string_value(json_object_get(e, "field")));
		if (last)
			json_object_set_new(last, "field", json_string(full));
	}
	field_errors_release(sub);
}

void field_errors_release(struct field_errors *fe)
{
	json_decref(fe->list);
	fe->list = NULL;
}

void problem_errno(struct api_response *res, int err, const char *what, const char *detail)
{
	char buf[512];
	int status;
	switch (err) {
	case -ENOENT:
		status = 404;
		snprintf(buf, sizeof(buf), "%s does not exist", what);
		break;
	case -EEXIST:
		status = 409;
		snprintf(buf, sizeof(buf), "%s exists already", what);
		break;
	case -ENOTEMPTY:
		status = 409;
		snprintf(buf, sizeof(buf), "%s is still in use", what);
		break;
	case -ESTALE:
		status = 409;
		snprintf(buf, sizeof(buf), "%s was changed by someone else; reload and try again",
			 what);
		break;
	case -EINVAL:
		status = 422;
		snprintf(buf, sizeof(buf), "%s is not valid", what);
		break;
	case -EFBIG:
		status = 413;
		snprintf(buf, sizeof(buf), "%s is too large", what);
		break;
	case -EBUSY:
	case -ENOTCONN:
	case -ECONNREFUSED:
	case -ETIMEDOUT:
		status = 503;
		snprintf(buf, sizeof(buf), "the server is busy (%s); try again", onair_strerror(err));
		break;
	default:
		status = 500;
		snprintf(buf, sizeof(buf), "%s failed: %s", what, onair_strerror(err));
		break;
	}
	answer(res, status, detail ? detail : buf, NULL);
	if (status == 503)
		api_response_header(res, "Retry-After", "1");
}
