/*
 * body.h - reading JSON request bodies strictly: the body must be a JSON
 * object (415 for another Content-Type, 400 for malformed JSON, with the
 * line and column), unknown members are errors, and each member is read
 * with its expected type, errors gathered per field.
 */
#ifndef ONAIR_API_BODY_H
#define ONAIR_API_BODY_H

#include "api/api.h"
#include "api/problem.h"

/* Most bytes of a JSON body. */
#define BODY_JSON_MAX (1024 * 1024)

/* The body as a JSON object (a new reference), or NULL with res filled. */
json_t *body_object(struct api_request *req, struct api_response *res);

/* Add an error for every member of obj not in allowed (NULL-terminated). */
void body_only(json_t *obj, const char *const *allowed, struct field_errors *fe);

/*
 * Read member key of obj. Each returns 1 when the member is there with the
 * right type (value stored), 0 when it is absent (or null, for the
 * *_or_null readers: then *is_null is set), -1 when it has another type
 * (an error is added). Text must be valid UTF-8 (jansson checks) of at
 * most max bytes and without NUL.
 */
int body_text(json_t *obj, const char *key, size_t max, const char **out, struct field_errors *fe);
int body_int(json_t *obj, const char *key, int64_t min, int64_t max, int64_t *out,
	     struct field_errors *fe);
int body_bool(json_t *obj, const char *key, bool *out, struct field_errors *fe);
int body_id_or_null(json_t *obj, const char *key, int64_t *out, bool *is_null,
		    struct field_errors *fe);

/* A query parameter as an integer in [min, max]: 1 read, 0 absent, -1
 * invalid (res filled with a 400 naming the parameter). */
int query_int(const struct api_request *req, const char *key, int64_t min, int64_t max,
	      int64_t *out, struct api_response *res);
/* A query parameter as an RFC 3339 instant: as query_int. */
int query_time(const struct api_request *req, const char *key, int64_t *out,
	       struct api_response *res);
/* The required from and to query parameters (RFC 3339): to after from
 * and at most max_days later. false with res filled (400). */
bool query_range(const struct api_request *req, int64_t max_days, int64_t *from, int64_t *to,
		 struct api_response *res);
/* The queue, or false with a 503 (Retry-After) in res when there is none. */
bool need_queue(const struct api_request *req, struct api_response *res);
/* 400 naming the first query parameter not in allowed (NULL-terminated);
 * true when all are known. */
bool query_only(const struct api_request *req, const char *const *allowed,
		struct api_response *res);

#include "common/banned.h"
#endif
