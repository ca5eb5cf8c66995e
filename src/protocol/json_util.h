/*
 * json_util.h - helpers shared by the codecs of libonair-protocol (not
 * installed, not used outside src/protocol/).
 *
 *   - error text: perr() formats "path: reason" into a struct proto_error;
 *   - checks on struct values (pv_*), used by every *_validate function;
 *   - a reader over a jansson tree (jr_*) that checks the JSON type of a
 *     field and converts it, naming the field's path on error;
 *   - a writer (jw_*) that appends compact JSON to a struct buf in the
 *     order of the calls, with durations as exact decimal seconds.
 *
 * Paths are written as in the error texts: "items[3].media.hash". A path
 * argument is the path of the object that holds the field ("" at the top
 * level); the helpers add ".key".
 */
#ifndef ONAIR_PROTOCOL_JSON_UTIL_H
#define ONAIR_PROTOCOL_JSON_UTIL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "protocol/protocol.h"

/* Room for any path the codecs build. */
#define PATH_MAX_LEN 96

/* Format the reason into err (when not NULL); returns -EINVAL. */
int perr(struct proto_error *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Format "<path>.<key>: <reason>" into err (key may be NULL: "<path>: ");
 * returns -EINVAL. */
int perr_at(struct proto_error *err, const char *path, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* Write "<path>.<key>" (or "<key>" at the top level) into out. */
void path_key(char *out, size_t size, const char *path, const char *key);
/* Write "<path>.<key>[<i>]" into out. */
void path_index(char *out, size_t size, const char *path, const char *key, size_t i);

/* ------------------------------------------------------------ value checks */

/* True when s[0..len) is well-formed UTF-8 (no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
bool utf8_valid(const char *s, size_t len);

/* How pv_text checks a string. */
enum {
	PV_REQUIRED = 1 << 0,	/* NULL is an error */
	PV_NONEMPTY = 1 << 1,	/* "" is an error */
	PV_NOCTL = 1 << 2,	/* no bytes < 0x20 or 0x7f */
};

/* Check a string field: NULL (allowed unless PV_REQUIRED), at most max
 * bytes, valid UTF-8, and the flags. 0 or -EINVAL with "path.key: ...". */
int pv_text(const char *s, size_t max, unsigned flags, const char *path, const char *key,
	    struct proto_error *err);
/* Check that s matches [A-Za-z0-9<extra>]{1,max}; NULL is an error. */
int pv_token(const char *s, const char *extra, size_t max, const char *path, const char *key,
	     struct proto_error *err);
/* Check an instant: TIME_MIN_US..TIME_MAX_US. */
int pv_instant(int64_t t, const char *path, const char *key, struct proto_error *err);
/* Check an integer is in min..max. */
int pv_range(int64_t v, int64_t min, int64_t max, const char *path, const char *key,
	     struct proto_error *err);
/* Check a duration is in min..max us, max <= PROTO_DURATION_MAX. */
int pv_duration(int64_t d, int64_t min, int64_t max, const char *path, const char *key,
		struct proto_error *err);
/* Check an enum value is below count. */
int pv_enum(int v, int count, const char *path, const char *key, struct proto_error *err);

/* ------------------------------------------------------------------ reader */

/*
 * Load and check the envelope of a message: len <= PROTO_MESSAGE_MAX
 * (else -E2BIG), valid JSON without duplicate keys, an object whose
 * "version" is an integer >= 1 and <= PROTO_VERSION (else
 * -ONAIR_EPROTO_VERSION) and whose "type" is type. On success *root is the
 * object (json_decref it).
 */
int jr_load(const char *json, size_t len, const char *type, json_t **root,
	    struct proto_error *err);

/*
 * Field readers. Each looks up key in obj. An absent field or a JSON null
 * is "absent": an error when required, else the output is left as it is
 * (the caller's default) and 0 returned. A present field of the wrong JSON
 * type or out of range is an error. They return 0 or -EINVAL with err.
 */
int jr_int(json_t *obj, const char *path, const char *key, bool required, int64_t min,
	   int64_t max, int64_t *out, struct proto_error *err);
int jr_uint64(json_t *obj, const char *path, const char *key, bool required, uint64_t *out,
	      struct proto_error *err);
int jr_bool(json_t *obj, const char *path, const char *key, bool required, bool *out,
	    struct proto_error *err);
/* A finite number (integer or real). */
int jr_double(json_t *obj, const char *path, const char *key, bool required, double *out,
	      struct proto_error *err);
/* A string without NUL, copied into *out (owned; *out must be NULL). */
int jr_string(json_t *obj, const char *path, const char *key, bool required, char **out,
	      struct proto_error *err);
/* An RFC 3339 date-time string, as us since the epoch. */
int jr_instant(json_t *obj, const char *path, const char *key, bool required, int64_t *out,
	       struct proto_error *err);
/* Seconds as a number, 0..PROTO_DURATION_MAX us, rounded to the nearest us. */
int jr_duration(json_t *obj, const char *path, const char *key, bool required, int64_t *out,
		struct proto_error *err);
/* A string that is one of names[0..count) (the wire names of an enum). */
int jr_enum(json_t *obj, const char *path, const char *key, bool required,
	    const char *const *names, int count, int *out, struct proto_error *err);
/* An object; *out is NULL when absent. */
int jr_object(json_t *obj, const char *path, const char *key, bool required, json_t **out,
	      struct proto_error *err);
/* An array of at most max elements; *out is NULL when absent. */
int jr_array(json_t *obj, const char *path, const char *key, bool required, size_t max,
	     json_t **out, struct proto_error *err);
/* Check that element i of an array (at path.key[i]) is an object. */
int jr_element_object(json_t *elem, const char *path, struct proto_error *err);

/* ------------------------------------------------------------------ writer */

/* A JSON writer appending to a buffer; the first failure sticks. */
struct jw {
	struct buf *b;
	size_t start;	/* b->len when the writer began */
	int err;	/* 0 or the first error (-ENOSPC) */
};

/* Begin writing to b (appending after what it holds). */
void jw_init(struct jw *w, struct buf *b);
/* 0, or the first error; on error b is cut back to what it held before. */
int jw_finish(struct jw *w);

/*
 * Value writers: key is the member name inside an object, or NULL for an
 * array element or the top-level value. Separators are added as needed.
 */
void jw_object_begin(struct jw *w, const char *key);
void jw_object_end(struct jw *w);
void jw_array_begin(struct jw *w, const char *key);
void jw_array_end(struct jw *w);
/* A string (escaped); s must be valid UTF-8. */
void jw_string(struct jw *w, const char *key, const char *s);
/* A string, or nothing at all when s is NULL. */
void jw_string_opt(struct jw *w, const char *key, const char *s);
void jw_int(struct jw *w, const char *key, int64_t v);
void jw_uint64(struct jw *w, const char *key, uint64_t v);
void jw_bool(struct jw *w, const char *key, bool v);
/* A finite double in the shortest form that reads back to the same value. */
void jw_double(struct jw *w, const char *key, double v);
/* An instant as RFC 3339 (t must be in TIME_MIN_US..TIME_MAX_US). */
void jw_instant(struct jw *w, const char *key, int64_t t);
/* A duration (>= 0) as seconds: "30", "0.5", "1.000001". */
void jw_duration(struct jw *w, const char *key, int64_t us);
/* Metadata as an object, or nothing when all its fields are NULL. */
void jw_metadata(struct jw *w, const char *key, const struct proto_metadata *m);

/* ------------------------------------------------------ shared sub-objects */

/* Read an optional "metadata" object of obj into m. */
int jr_metadata(json_t *obj, const char *path, struct proto_metadata *m,
		struct proto_error *err);
/* Check metadata strings (path is the holder of "metadata"). */
int pv_metadata(const struct proto_metadata *m, const char *path, struct proto_error *err);
/* Free the strings of m and zero it. */
void metadata_release(struct proto_metadata *m);

/* Number of values of the enums that have no __COUNT member. */
#define PROTO_ITEM_KINDS 4
#define PROTO_FORMATS 4
#define PROTO_LIVE_INPUTS 2

/* Wire names of the enums, indexed by value. */
extern const char *const proto_item_kind_names[PROTO_ITEM_KINDS];
extern const char *const proto_event_kind_names[PROTO_EV__COUNT];
extern const char *const proto_source_names[PROTO_SRC__COUNT];
extern const char *const proto_end_reason_names[PROTO_END__COUNT];
extern const char *const proto_watchdog_action_names[PROTO_WD__COUNT];
extern const char *const proto_watchdog_cause_names[PROTO_WD_CAUSE__COUNT];
extern const char *const proto_command_kind_names[PROTO_CMD__COUNT];
extern const char *const proto_task_kind_names[PROTO_TASK__COUNT];
extern const char *const proto_format_names[PROTO_FORMATS];
extern const char *const proto_live_input_names[PROTO_LIVE_INPUTS];

#include "common/banned.h"
#endif
