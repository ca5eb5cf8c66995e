/*
 * json_util.c - error text, value checks, JSON reader and writer shared by
 * the codecs of libonair-protocol.
 */
#include "protocol/json_util.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/timeutil.h"

/* ------------------------------------------------------------------ errors */

int perr(struct proto_error *err, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->text, sizeof(err->text), fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

int perr_at(struct proto_error *err, const char *path, const char *key, const char *fmt, ...)
{
	if (!err)
		return -EINVAL;
	int n;
	if (key)
		n = snprintf(err->text, sizeof(err->text), "%s%s%s: ", path, *path ? "." : "",
			     key);
	else
		n = snprintf(err->text, sizeof(err->text), "%s: ", path);
	if (n < 0 || (size_t)n >= sizeof(err->text))
		return -EINVAL;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->text + n, sizeof(err->text) - (size_t)n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

void path_key(char *out, size_t size, const char *path, const char *key)
{
	snprintf(out, size, "%s%s%s", path, *path ? "." : "", key);
}

void path_index(char *out, size_t size, const char *path, const char *key, size_t i)
{
	snprintf(out, size, "%s%s%s[%zu]", path, *path ? "." : "", key, i);
}

/* ------------------------------------------------------------ value checks */

bool utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;
	while (i < len) {
		unsigned char c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		size_t n;
		uint32_t cp;
		if (c >= 0xc2 && c <= 0xdf) {
			n = 2;
			cp = c & 0x1f;
		} else if (c >= 0xe0 && c <= 0xef) {
			n = 3;
			cp = c & 0x0f;
		} else if (c >= 0xf0 && c <= 0xf4) {
			n = 4;
			cp = c & 0x07;
		} else {
			return false;
		}
		if (len - i < n)
			return false;
		for (size_t k = 1; k < n; k++) {
			if ((s[i + k] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (s[i + k] & 0x3f);
		}
		if ((n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) || cp > 0x10ffff ||
		    (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		i += n;
	}
	return true;
}

static bool has_control(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			return true;
	}
	return false;
}

int pv_text(const char *s, size_t max, unsigned flags, const char *path, const char *key,
	    struct proto_error *err)
{
	if (!s) {
		if (flags & PV_REQUIRED)
			return perr_at(err, path, key, "required");
		return 0;
	}
	size_t len = strlen(s);
	if (len > max)
		return perr_at(err, path, key, "longer than %zu bytes", max);
	if ((flags & PV_NONEMPTY) && len == 0)
		return perr_at(err, path, key, "must not be empty");
	if (!utf8_valid(s, len))
		return perr_at(err, path, key, "not valid UTF-8");
	if ((flags & PV_NOCTL) && has_control(s))
		return perr_at(err, path, key, "must not contain control characters");
	return 0;
}

static bool is_alnum_ascii(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int pv_token(const char *s, const char *extra, size_t max, const char *path, const char *key,
	     struct proto_error *err)
{
	if (!s)
		return perr_at(err, path, key, "required");
	size_t len = 0;
	for (const char *p = s; *p; p++, len++) {
		if (len >= max || (!is_alnum_ascii(*p) && !strchr(extra, *p)))
			break;
	}
	if (len == 0 || s[len] != '\0')
		return perr_at(err, path, key, "must match [A-Za-z0-9%s]{1,%zu}", extra, max);
	return 0;
}

int pv_instant(int64_t t, const char *path, const char *key, struct proto_error *err)
{
	if (t < TIME_MIN_US || t > TIME_MAX_US)
		return perr_at(err, path, key, "instant out of range (years 0001..9999)");
	return 0;
}

int pv_range(int64_t v, int64_t min, int64_t max, const char *path, const char *key,
	     struct proto_error *err)
{
	if (v >= min && v <= max)
		return 0;
	if (max == INT64_MAX)
		return perr_at(err, path, key, "must be >= %lld", (long long)min);
	return perr_at(err, path, key, "must be %lld..%lld", (long long)min, (long long)max);
}

/* Write us as seconds without trailing zeros into out. */
static void format_seconds(int64_t us, char *out, size_t size)
{
	int64_t sec = us / USEC_PER_SEC;
	int64_t frac = us % USEC_PER_SEC;
	if (frac < 0)
		frac = -frac;
	if (frac == 0) {
		snprintf(out, size, "%s%lld", us < 0 && sec == 0 ? "-" : "", (long long)sec);
		return;
	}
	int n = snprintf(out, size, "%s%lld.%06lld", us < 0 && sec == 0 ? "-" : "",
			 (long long)sec, (long long)frac);
	while (n > 0 && (size_t)n < size && out[n - 1] == '0')
		out[--n] = '\0';
}

int pv_duration(int64_t d, int64_t min, int64_t max, const char *path, const char *key,
		struct proto_error *err)
{
	if (max > PROTO_DURATION_MAX)
		max = PROTO_DURATION_MAX;
	if (d >= min && d <= max)
		return 0;
	char lo[32], hi[32];
	format_seconds(min, lo, sizeof(lo));
	format_seconds(max, hi, sizeof(hi));
	return perr_at(err, path, key, "must be %s..%s s", lo, hi);
}

int pv_enum(int v, int count, const char *path, const char *key, struct proto_error *err)
{
	if (v < 0 || v >= count)
		return perr_at(err, path, key, "unknown value %d", v);
	return 0;
}

/* ------------------------------------------------------------------ reader */

int jr_load(const char *json, size_t len, const char *type, json_t **root,
	    struct proto_error *err)
{
	*root = NULL;
	if (len > PROTO_MESSAGE_MAX) {
		perr(err, "message: %zu bytes, more than %u", len, PROTO_MESSAGE_MAX);
		return -E2BIG;
	}
	json_error_t je;
	json_t *r = json_loadb(json ? json : "", len, JSON_REJECT_DUPLICATES, &je);
	if (!r)
		return perr(err, "invalid JSON at line %d, column %d: %s", je.line, je.column,
			    je.text);
	int rc;
	if (!json_is_object(r)) {
		rc = perr(err, "message: must be a JSON object");
		goto out_decref;
	}
	json_t *v = json_object_get(r, "version");
	if (!v) {
		rc = perr(err, "version: required");
		goto out_decref;
	}
	if (!json_is_integer(v)) {
		rc = perr(err, "version: must be an integer");
		goto out_decref;
	}
	json_int_t version = json_integer_value(v);
	if (version < 1) {
		rc = perr(err, "version: must be >= 1");
		goto out_decref;
	}
	if (version > PROTO_VERSION) {
		perr(err, "version: %lld is newer than the supported version %d",
		     (long long)version, PROTO_VERSION);
		rc = -ONAIR_EPROTO_VERSION;
		goto out_decref;
	}
	json_t *t = json_object_get(r, "type");
	if (!json_is_string(t) || strcmp(json_string_value(t), type) != 0 ||
	    json_string_length(t) != strlen(type)) {
		rc = perr(err, "type: must be \"%s\"", type);
		goto out_decref;
	}
	*root = r;
	return 0;

out_decref:
	json_decref(r);
	return rc;
}

/* The member key of obj, or NULL when absent or null. */
static json_t *member(json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);
	return json_is_null(v) ? NULL : v;
}

int jr_int(json_t *obj, const char *path, const char *key, bool required, int64_t min,
	   int64_t max, int64_t *out, struct proto_error *err)
{
	json_t *v = member(obj, key);
	if (!v)
		return required ? perr_at(err, path, key, "required") : 0;
	if (!json_is_integer(v))
		return perr_at(err, path, key, "must be an integer");
	int64_t x = json_integer_value(v);
	int rc = pv_range(x, min, max, path, key, err);
	if (rc < 0)
		return rc;
	*out = x;
	return 0;
}

int jr_uint64(json_t *obj, const char *path, const char *key, bool required, uint64_t *out,
	      struct proto_error *err)
{
	int64_t x = (int64_t)*out;
	int rc = jr_int(obj, path, key, required, 0, INT64_MAX, &x, err);
	if (rc < 0)
		return rc;
	*out = (uint64_t)x;
	return 0;
}

int jr_bool(json_t *obj, const char *path, const char *key, bool required, bool *out,
	    struct proto_error *err)
{
	json_t *v = member(obj, key);
	if (!v)
		return required ? perr_at(err, path, key, "required") : 0;
	if (!json_is_boolean(v))
		return perr_at(err, path, key, "must be true or false");
	*out = json_is_true(v);
	return 0;
}

int jr_double(json_t *obj, const char *path, const char *key, bool required, double *out,
	      struct proto_error *err)
{
	json_t *v = member(obj, key);
	if (!v)
		return required ? perr_at(err, path, key, "required") : 0;
	if (!json_is_number(v))
		return perr_at(err, path, key, "must be a number");
	double x = json_number_value(v);
	if (!isfinite(x))
		return perr_at(err, path, key, "must be finite");
	*out = x;
	return 0;
}

/* The string member key of obj: NULL with *rc = 0 when absent. */
static const char *string_member(json_t *obj, const char *path, const char *key,
				 bool required, int *rc, struct proto_error *err)
{
	*rc = 0;
	json_t *v = member(obj, key);
	if (!v) {
		if (required)
			*rc = perr_at(err, path, key, "required");
		return NULL;
	}
	if (!json_is_string(v)) {
		*rc = perr_at(err, path, key, "must be a string");
		return NULL;
	}
	const char *s = json_string_value(v);
	if (strlen(s) != json_string_length(v)) {
		*rc = perr_at(err, path, key, "must not contain NUL");
		return NULL;
	}
	return s;
}

int jr_string(json_t *obj, const char *path, const char *key, bool required, char **out,
	      struct proto_error *err)
{
	int rc;
	const char *s = string_member(obj, path, key, required, &rc, err);
	if (s)
		*out = xstrdup(s);
	return rc;
}

int jr_instant(json_t *obj, const char *path, const char *key, bool required, int64_t *out,
	       struct proto_error *err)
{
	int rc;
	const char *s = string_member(obj, path, key, required, &rc, err);
	if (!s)
		return rc;
	rc = time_parse_rfc3339(s, out);
	if (rc == -ERANGE)
		return perr_at(err, path, key, "instant out of range (years 0001..9999)");
	if (rc < 0)
		return perr_at(err, path, key, "must be an RFC 3339 date-time");
	return 0;
}

int jr_duration(json_t *obj, const char *path, const char *key, bool required, int64_t *out,
		struct proto_error *err)
{
	const int64_t max_s = PROTO_DURATION_MAX / USEC_PER_SEC;
	json_t *v = member(obj, key);
	if (!v)
		return required ? perr_at(err, path, key, "required") : 0;
	if (json_is_integer(v)) {
		json_int_t s = json_integer_value(v);
		if (s < 0 || s > max_s)
			return perr_at(err, path, key, "must be 0..%lld s", (long long)max_s);
		*out = s * USEC_PER_SEC;
		return 0;
	}
	if (!json_is_real(v))
		return perr_at(err, path, key, "must be a number of seconds");
	double x = json_real_value(v);
	if (!isfinite(x) || x < 0 || x > (double)max_s)
		return perr_at(err, path, key, "must be 0..%lld s", (long long)max_s);
	*out = llround(x * 1e6);
	return 0;
}

int jr_enum(json_t *obj, const char *path, const char *key, bool required,
	    const char *const *names, int count, int *out, struct proto_error *err)
{
	int rc;
	const char *s = string_member(obj, path, key, required, &rc, err);
	if (!s)
		return rc;
	for (int i = 0; i < count; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = i;
			return 0;
		}
	}
	char list[160];
	size_t n = 0;
	list[0] = '\0';
	for (int i = 0; i < count && n < sizeof(list); i++) {
		int w = snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "", names[i]);
		if (w < 0)
			break;
		n += (size_t)w;
	}
	return perr_at(err, path, key, "must be one of: %s", list);
}

int jr_object(json_t *obj, const char *path, const char *key, bool required, json_t **out,
	      struct proto_error *err)
{
	*out = NULL;
	json_t *v = member(obj, key);
	if (!v)
		return required ? perr_at(err, path, key, "required") : 0;
	if (!json_is_object(v))
		return perr_at(err, path, key, "must be an object");
	*out = v;
	return 0;
}

int jr_array(json_t *obj, const char *path, const char *key, bool required, size_t max,
	     json_t **out, struct proto_error *err)
{
	*out = NULL;
	json_t *v = member(obj, key);
	if (!v)
		return required ? perr_at(err, path, key, "required") : 0;
	if (!json_is_array(v))
		return perr_at(err, path, key, "must be an array");
	if (json_array_size(v) > max)
		return perr_at(err, path, key, "more than %zu elements", max);
	*out = v;
	return 0;
}

int jr_element_object(json_t *elem, const char *path, struct proto_error *err)
{
	if (!json_is_object(elem))
		return perr_at(err, path, NULL, "must be an object");
	return 0;
}

/* ------------------------------------------------------------------ writer */

void jw_init(struct jw *w, struct buf *b)
{
	w->b = b;
	w->start = b->len;
	w->err = 0;
}

int jw_finish(struct jw *w)
{
	if (w->err) {
		w->b->len = w->start;
		if (w->b->cap)
			w->b->data[w->start] = '\0';
	}
	return w->err;
}

static void jw_append(struct jw *w, const char *s, size_t n)
{
	if (w->err)
		return;
	int rc = buf_append(w->b, s, n);
	if (rc < 0)
		w->err = rc;
}

static void jw_append_str(struct jw *w, const char *s)
{
	jw_append(w, s, strlen(s));
}

/* The JSON escape of byte c (a control character, '"' or '\\'). */
static const char *escape_of(unsigned char c, char tmp[8])
{
	switch (c) {
	case '"':
		return "\\\"";
	case '\\':
		return "\\\\";
	case '\b':
		return "\\b";
	case '\f':
		return "\\f";
	case '\n':
		return "\\n";
	case '\r':
		return "\\r";
	case '\t':
		return "\\t";
	default:
		snprintf(tmp, 8, "\\u%04x", c);
		return tmp;
	}
}

static void jw_quoted(struct jw *w, const char *s)
{
	jw_append(w, "\"", 1);
	const char *run = s;
	for (const char *p = s; *p; p++) {
		unsigned char c = (unsigned char)*p;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		char tmp[8];
		jw_append(w, run, (size_t)(p - run));
		jw_append_str(w, escape_of(c, tmp));
		run = p + 1;
	}
	jw_append_str(w, run);
	jw_append(w, "\"", 1);
}

/* Start a value: a separator when one is due, then "key": when in an object.
 * False when the writer has failed. */
static bool jw_begin(struct jw *w, const char *key)
{
	if (w->err)
		return false;
	if (w->b->len > w->start) {
		char last = w->b->data[w->b->len - 1];
		if (last != '{' && last != '[')
			jw_append(w, ",", 1);
	}
	if (key) {
		jw_quoted(w, key);
		jw_append(w, ":", 1);
	}
	return !w->err;
}

void jw_object_begin(struct jw *w, const char *key)
{
	if (jw_begin(w, key))
		jw_append(w, "{", 1);
}

void jw_object_end(struct jw *w)
{
	jw_append(w, "}", 1);
}

void jw_array_begin(struct jw *w, const char *key)
{
	if (jw_begin(w, key))
		jw_append(w, "[", 1);
}

void jw_array_end(struct jw *w)
{
	jw_append(w, "]", 1);
}

void jw_string(struct jw *w, const char *key, const char *s)
{
	if (jw_begin(w, key))
		jw_quoted(w, s);
}

void jw_string_opt(struct jw *w, const char *key, const char *s)
{
	if (s)
		jw_string(w, key, s);
}

void jw_int(struct jw *w, const char *key, int64_t v)
{
	char tmp[24];
	snprintf(tmp, sizeof(tmp), "%lld", (long long)v);
	if (jw_begin(w, key))
		jw_append_str(w, tmp);
}

void jw_uint64(struct jw *w, const char *key, uint64_t v)
{
	char tmp[24];
	snprintf(tmp, sizeof(tmp), "%llu", (unsigned long long)v);
	if (jw_begin(w, key))
		jw_append_str(w, tmp);
}

void jw_bool(struct jw *w, const char *key, bool v)
{
	if (jw_begin(w, key))
		jw_append_str(w, v ? "true" : "false");
}

void jw_double(struct jw *w, const char *key, double v)
{
	char tmp[40] = "0";
	if (!isfinite(v)) {
		if (!w->err)
			w->err = -EINVAL;
		return;
	}
	if (v != 0) {
		/* The shortest of 15..17 significant digits that reads back
		 * exactly (17 always does). Both sides use the C library's
		 * current locale; its decimal separator becomes '.' after. */
		for (int prec = 15; prec <= 17; prec++) {
			snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
			if (strtod(tmp, NULL) == v)
				break;
		}
		for (char *p = tmp; *p; p++) {
			if (*p == ',')
				*p = '.';
		}
	}
	if (jw_begin(w, key))
		jw_append_str(w, tmp);
}

void jw_instant(struct jw *w, const char *key, int64_t t)
{
	char tmp[TIME_RFC3339_MAX];
	if (time_format_rfc3339(t, tmp, sizeof(tmp)) < 0) {
		if (!w->err)
			w->err = -EINVAL;
		return;
	}
	jw_string(w, key, tmp);
}

void jw_duration(struct jw *w, const char *key, int64_t us)
{
	char tmp[32];
	format_seconds(us, tmp, sizeof(tmp));
	if (jw_begin(w, key))
		jw_append_str(w, tmp);
}

void jw_metadata(struct jw *w, const char *key, const struct proto_metadata *m)
{
	if (!m->title && !m->artist && !m->album)
		return;
	jw_object_begin(w, key);
	jw_string_opt(w, "title", m->title);
	jw_string_opt(w, "artist", m->artist);
	jw_string_opt(w, "album", m->album);
	jw_object_end(w);
}

/* ------------------------------------------------------ shared sub-objects */

int jr_metadata(json_t *obj, const char *path, struct proto_metadata *m,
		struct proto_error *err)
{
	json_t *md;
	int rc = jr_object(obj, path, "metadata", false, &md, err);
	if (rc < 0 || !md)
		return rc;
	char p[PATH_MAX_LEN];
	path_key(p, sizeof(p), path, "metadata");
	if ((rc = jr_string(md, p, "title", false, &m->title, err)) < 0 ||
	    (rc = jr_string(md, p, "artist", false, &m->artist, err)) < 0 ||
	    (rc = jr_string(md, p, "album", false, &m->album, err)) < 0)
		return rc;
	return 0;
}

int pv_metadata(const struct proto_metadata *m, const char *path, struct proto_error *err)
{
	if (!m->title && !m->artist && !m->album)
		return 0;
	char p[PATH_MAX_LEN];
	path_key(p, sizeof(p), path, "metadata");
	int rc;
	if ((rc = pv_text(m->title, PROTO_STRING_MAX, 0, p, "title", err)) < 0 ||
	    (rc = pv_text(m->artist, PROTO_STRING_MAX, 0, p, "artist", err)) < 0 ||
	    (rc = pv_text(m->album, PROTO_STRING_MAX, 0, p, "album", err)) < 0)
		return rc;
	return 0;
}

void metadata_release(struct proto_metadata *m)
{
	free(m->title);
	free(m->artist);
	free(m->album);
	m->title = m->artist = m->album = NULL;
}
