/*
 * problem.h - errors as RFC 9457 problem details, the one error shape of
 * the web API:
 *
 *   {"type": "about:blank", "title": "Unprocessable Content", "status": 422,
 *    "detail": "the request has invalid fields",
 *    "errors": [{"field": "name", "message": "must not be empty"}]}
 *
 * served as application/problem+json. "errors" is there when fields are
 * at fault; "field" is a JSON pointer-like dotted path into the body
 * ("items.3.file_id") or the name of a query parameter.
 */
#ifndef ONAIR_API_PROBLEM_H
#define ONAIR_API_PROBLEM_H

#include "api/api.h"

/* The reason phrase of an HTTP status ("Not Found"). */
const char *problem_title(int status);

/* Answer status with detail (printf format). */
void problem(struct api_response *res, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Answer status with detail and one field at fault. */
void problem_field(struct api_response *res, int status, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Field errors gathered while validating a body: add them, then answer
 * with problem_fields (422) when any was added.
 */
struct field_errors {
	json_t *list;		/* array of {field, message}; NULL while empty */
};
void field_error(struct field_errors *fe, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* True when an error was added. */
bool field_errors_any(const struct field_errors *fe);
/* Answer 422 with the errors (taking them) and a general detail. */
void problem_fields(struct api_response *res, struct field_errors *fe);
/* Move the errors of sub into fe, each field as "prefix.field". */
void field_errors_merge(struct field_errors *fe, const char *prefix, struct field_errors *sub);
/* Free the errors without answering. */
void field_errors_release(struct field_errors *fe);

/*
 * Answer a negative errno from the core library as the client should see
 * it: -ENOENT 404, -EEXIST/-ENOTEMPTY/-ESTALE 409, -EINVAL 422,
 * -EFBIG 413, -EBUSY/-ENOTCONN/-ECONNREFUSED/-ETIMEDOUT 503 (with
 * Retry-After), anything else 500. what says what failed ("the
 * playlist"); detail, when not NULL, is the sentence to show.
 */
void problem_errno(struct api_response *res, int err, const char *what, const char *detail);

#include "common/banned.h"
#endif
