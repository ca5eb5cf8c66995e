/*
 * smartblock.c - smart blocks: criteria to one query, then the picking
 * in C (see smartblock.h and docs/internals/smartblock.md).
 *
 * The query's WHERE clause is built from a fixed list of fields: the
 * column names in the SQL only ever come from that list, every value is
 * a parameter. The matching files are read once into an array (their
 * artist and title copied into one arena), sorted, and picked from with
 * the separation history in two hash tables (lower-cased artist or title
 * to the start times seen), so no query runs per candidate or per pick.
 */
#include "station/smartblock.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/error.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/timeutil.h"

#define MIN_US (INT64_C(60) * USEC_PER_SEC)
#define HOUR_US (INT64_C(60) * MIN_US)
#define DAY_US (INT64_C(24) * HOUR_US)
#define WEEK_US (INT64_C(7) * DAY_US)
/* Largest amount of a relative date ("10000 years"). */
#define RELATIVE_MAX 10000
/* Largest magnitude of a number in a criterion (keeps conversions exact),
 * and of a duration in seconds (its microseconds fit an int64_t). */
#define NUMBER_MAX 1e15
#define DURATION_SECONDS_MAX 1e12
/* Longest SQL text and largest string arena of one evaluation. */
#define SQL_MAX (1u << 20)
#define ARENA_MAX ((size_t)1 << 30)
/* "No conflicting play" for the separation checks. */
#define NO_CONFLICT INT64_MIN

/* ---- names ---- */

static const char *const modifier_names[] = {
	[SB_IS] = "is",
	[SB_IS_NOT] = "is_not",
	[SB_CONTAINS] = "contains",
	[SB_NOT_CONTAINS] = "not_contains",
	[SB_STARTS_WITH] = "starts_with",
	[SB_ENDS_WITH] = "ends_with",
	[SB_GREATER] = "greater",
	[SB_LESS] = "less",
	[SB_BETWEEN] = "between",
	[SB_IN_LAST] = "in_last",
	[SB_NOT_IN_LAST] = "not_in_last",
};
#define N_MODIFIERS (sizeof(modifier_names) / sizeof(modifier_names[0]))

static const char *const limit_names[] = {
	[SB_LIMIT_ITEMS] = "items",
	[SB_LIMIT_DURATION] = "duration",
};
#define N_LIMITS (sizeof(limit_names) / sizeof(limit_names[0]))

static const char *const sort_names[] = {
	[SB_SORT_RANDOM] = "random",
	[SB_SORT_NEWEST] = "newest",
	[SB_SORT_OLDEST] = "oldest",
	[SB_SORT_LEAST_PLAYED] = "least_played",
	[SB_SORT_TITLE] = "title",
	[SB_SORT_ARTIST] = "artist",
};
#define N_SORTS (sizeof(sort_names) / sizeof(sort_names[0]))

static int parse_name(const char *text, const char *const *names, size_t n, int *out)
{
	if (!text)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(text, names[i]) == 0) {
			*out = (int)i;
			return 0;
		}
	}
	return -EINVAL;
}

int smartblock_modifier_parse(const char *text, enum smartblock_modifier *out)
{
	int v;
	int r = parse_name(text, modifier_names, N_MODIFIERS, &v);
	if (r == 0)
		*out = (enum smartblock_modifier)v;
	return r;
}

const char *smartblock_modifier_name(enum smartblock_modifier m)
{
	return (unsigned)m < N_MODIFIERS ? modifier_names[m] : "?";
}

int smartblock_limit_parse(const char *text, enum smartblock_limit *out)
{
	int v;
	int r = parse_name(text, limit_names, N_LIMITS, &v);
	if (r == 0)
		*out = (enum smartblock_limit)v;
	return r;
}

const char *smartblock_limit_name(enum smartblock_limit l)
{
	return (unsigned)l < N_LIMITS ? limit_names[l] : "?";
}

int smartblock_sort_parse(const char *text, enum smartblock_sort *out)
{
	int v;
	int r = parse_name(text, sort_names, N_SORTS, &v);
	if (r == 0)
		*out = (enum smartblock_sort)v;
	return r;
}

const char *smartblock_sort_name(enum smartblock_sort s)
{
	return (unsigned)s < N_SORTS ? sort_names[s] : "?";
}

/* ---- fields ---- */

enum field_type {
	FT_TEXT,
	FT_INT,		/* INTEGER / BIGINT column */
	FT_REAL,	/* DOUBLE PRECISION column */
	FT_DURATION,	/* seconds in the criterion, microseconds in the column */
	FT_DATE,	/* BIGINT microseconds since the epoch */
};

struct field {
	const char *name;
	const char *column;	/* the SQL for it: only these strings reach the query */
	enum field_type type;
};

/* What a criterion may look at. "track_type" needs the join with
 * track_types (alias t); files is f. */
static const struct field fields[] = {
	{ "title", "f.title", FT_TEXT },
	{ "artist", "f.artist", FT_TEXT },
	{ "album", "f.album", FT_TEXT },
	{ "genre", "f.genre", FT_TEXT },
	{ "composer", "f.composer", FT_TEXT },
	{ "label", "f.label", FT_TEXT },
	{ "isrc", "f.isrc", FT_TEXT },
	{ "comment", "f.comment", FT_TEXT },
	{ "language", "f.language", FT_TEXT },
	{ "codec", "f.codec", FT_TEXT },
	{ "container", "f.container", FT_TEXT },
	{ "mime", "f.mime", FT_TEXT },
	{ "track_type", "t.code", FT_TEXT },
	{ "year", "f.year", FT_INT },
	{ "track_number", "f.track_number", FT_INT },
	{ "disc_number", "f.disc_number", FT_INT },
	{ "bitrate", "f.bitrate", FT_INT },
	{ "sample_rate", "f.sample_rate", FT_INT },
	{ "channels", "f.channels", FT_INT },
	{ "play_count", "f.play_count", FT_INT },
	{ "bpm", "f.bpm", FT_REAL },
	{ "loudness_lufs", "f.loudness_lufs", FT_REAL },
	{ "true_peak_dbtp", "f.true_peak_dbtp", FT_REAL },
	{ "duration", "f.duration_us", FT_DURATION },
	{ "created_at", "f.created_at", FT_DATE },
	{ "updated_at", "f.updated_at", FT_DATE },
	{ "last_played_at", "f.last_played_at", FT_DATE },
};
#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))

static const struct field *find_field(const char *name)
{
	for (size_t i = 0; i < N_FIELDS; i++)
		if (strcmp(name, fields[i].name) == 0)
			return &fields[i];
	return NULL;
}

bool smartblock_field_known(const char *field)
{
	return field && find_field(field) != NULL;
}

static const char *type_text(enum field_type t)
{
	switch (t) {
	case FT_TEXT:
		return "text";
	case FT_DATE:
		return "a date";
	default:
		return "a number";
	}
}

static bool modifier_applies(enum field_type t, enum smartblock_modifier m)
{
	switch (m) {
	case SB_IS:
	case SB_IS_NOT:
		return true;
	case SB_CONTAINS:
	case SB_NOT_CONTAINS:
	case SB_STARTS_WITH:
	case SB_ENDS_WITH:
		return t == FT_TEXT;
	case SB_GREATER:
	case SB_LESS:
	case SB_BETWEEN:
		return t != FT_TEXT;
	case SB_IN_LAST:
	case SB_NOT_IN_LAST:
		return t == FT_DATE;
	}
	return false;
}

/* ---- blocks ---- */

void smartblock_init(struct smartblock *b)
{
	memset(b, 0, sizeof(*b));
	b->limit_type = SB_LIMIT_ITEMS;
	b->limit_value = 10;
	b->sort = SB_SORT_RANDOM;
}

void smartblock_release(struct smartblock *b)
{
	if (!b)
		return;
	free(b->criteria);
	smartblock_init(b);
}

/* Copy s into out (size bytes): false when it does not fit. */
static bool copy_text(char *out, size_t size, const char *s)
{
	size_t n = strlen(s);
	if (n >= size)
		return false;
	memcpy(out, s, n + 1);
	return true;
}

int smartblock_add_criterion(struct smartblock *b, int group_no, const char *field,
			     enum smartblock_modifier modifier, const char *value,
			     const char *value2)
{
	if (b->n_criteria >= SMARTBLOCK_CRITERIA_MAX)
		return -E2BIG;
	struct smartblock_criterion c = { .group_no = group_no, .modifier = modifier };
	if (!field || !value || !copy_text(c.field, sizeof(c.field), field) ||
	    !copy_text(c.value, sizeof(c.value), value) ||
	    !copy_text(c.value2, sizeof(c.value2), value2 ? value2 : ""))
		return -EINVAL;
	b->criteria = xreallocarray(b->criteria, b->n_criteria + 1, sizeof(*b->criteria));
	b->criteria[b->n_criteria++] = c;
	return 0;
}

/* Copy s into out (size bytes), cut at a UTF-8 character boundary when
 * it is too long. */
static void copy_cut(char *out, size_t size, const char *s)
{
	size_t n = strlen(s);
	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(out, s, n);
	out[n] = '\0';
}

int smartblock_load(struct db *db, int64_t id, struct smartblock *out)
{
	smartblock_init(out);
	struct db_rows *rows;
	int r = db_query(db,
			 "SELECT name, limit_type, limit_value, sort, allow_repeats, overflow,"
			 " COALESCE(artist_separation_us, 0), COALESCE(title_separation_us, 0),"
			 " fill_show FROM smart_blocks WHERE id = $1",
			 DB_PARAMS(DB_I(id)), &rows);
	if (r < 0)
		return r;
	if (!db_rows_next(rows)) {
		r = db_rows_error(rows);
		db_rows_free(rows);
		return r < 0 ? r : -ENOENT;
	}
	out->id = id;
	copy_cut(out->name, sizeof(out->name), db_col_text(rows, 0) ? db_col_text(rows, 0) : "");
	if (smartblock_limit_parse(db_col_text(rows, 1), &out->limit_type) < 0 ||
	    smartblock_sort_parse(db_col_text(rows, 3), &out->sort) < 0)
		r = -EINVAL;
	out->limit_value = db_col_int(rows, 2);
	out->allow_repeats = db_col_bool(rows, 4);
	out->overflow = db_col_bool(rows, 5);
	out->artist_separation_us = db_col_int(rows, 6);
	out->title_separation_us = db_col_int(rows, 7);
	out->fill_show = db_col_bool(rows, 8);
	db_rows_free(rows);
	if (r < 0)
		goto out_release;

	r = db_query(db,
		     "SELECT group_no, field, modifier, value, COALESCE(value2, '')"
		     " FROM smart_block_criteria WHERE smart_block_id = $1 ORDER BY group_no, id",
		     DB_PARAMS(DB_I(id)), &rows);
	if (r < 0)
		goto out_release;
	while (db_rows_next(rows)) {
		enum smartblock_modifier m;
		const char *field = db_col_text(rows, 1);
		const char *value = db_col_text(rows, 3);
		const char *value2 = db_col_text(rows, 4);
		if (smartblock_modifier_parse(db_col_text(rows, 2), &m) < 0) {
			r = -EINVAL;
			break;
		}
		r = smartblock_add_criterion(out, (int)db_col_int(rows, 0), field ? field : "", m,
					     value ? value : "", value2);
		if (r < 0)
			break;
	}
	if (r == 0)
		r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0)
		goto out_release;
	return 0;

out_release:
	smartblock_release(out);
	return r;
}

/* ---- values ---- */

/* Well-formed UTF-8 (what PostgreSQL accepts), NUL-terminated. */
static bool utf8_valid(const char *text)
{
	const unsigned char *s = (const unsigned char *)text;
	while (*s) {
		unsigned c = *s++;
		if (c < 0x80)
			continue;
		int n;
		unsigned min;
		if ((c & 0xe0) == 0xc0) {
			n = 1, min = 0x80, c &= 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2, min = 0x800, c &= 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3, min = 0x10000, c &= 0x07;
		} else {
			return false;
		}
		for (int i = 0; i < n; i++) {
			if ((*s & 0xc0) != 0x80)
				return false;
			c = (c << 6) | (*s++ & 0x3f);
		}
		if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
			return false;
	}
	return true;
}

/* s without leading and trailing blanks, into out (size bytes). */
static void trim(const char *s, char *out, size_t size)
{
	while (*s == ' ' || *s == '\t')
		s++;
	size_t n = strnlen(s, size - 1);
	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
		n--;
	memcpy(out, s, n);
	out[n] = '\0';
}

/* A decimal number: [+-]digits[.digits] (or .digits), |v| <= NUMBER_MAX. */
static bool parse_number(const char *text, double *out)
{
	char s[SMARTBLOCK_VALUE_SIZE];
	trim(text, s, sizeof(s));
	const char *p = s;
	if (*p == '+' || *p == '-')
		p++;
	size_t int_digits = strspn(p, "0123456789");
	p += int_digits;
	size_t frac_digits = 0;
	if (*p == '.') {
		p++;
		frac_digits = strspn(p, "0123456789");
		p += frac_digits;
	}
	if (*p != '\0' || int_digits + frac_digits == 0)
		return false;
	double v = strtod(s, NULL);
	if (!isfinite(v) || fabs(v) > NUMBER_MAX)
		return false;
	*out = v;
	return true;
}

/* A date: "YYYY-MM-DD" (a whole UTC day) or an RFC 3339 instant, as the
 * range [*lo, *hi). */
static bool parse_date(const char *text, int64_t *lo, int64_t *hi)
{
	char s[SMARTBLOCK_VALUE_SIZE];
	trim(text, s, sizeof(s));
	if (strlen(s) == 10 && s[4] == '-' && s[7] == '-' && strspn(s, "0123456789-") == 10) {
		unsigned y = (unsigned)strtoul(s, NULL, 10);
		unsigned m = (unsigned)strtoul(s + 5, NULL, 10);
		unsigned d = (unsigned)strtoul(s + 8, NULL, 10);
		if (strspn(s, "0123456789") != 4 || strspn(s + 5, "0123456789") != 2 ||
		    strspn(s + 8, "0123456789") != 2 || y < 1 || m < 1 || m > 12 || d < 1 ||
		    d > time_days_in_month(y, m))
			return false;
		*lo = time_days_from_civil(y, m, d) * DAY_US;
		*hi = *lo + DAY_US;
		return true;
	}
	int64_t t;
	if (time_parse_rfc3339(s, &t) != 0)
		return false;
	*lo = t;
	*hi = t + 1;
	return true;
}

enum unit { U_MINUTE, U_HOUR, U_DAY, U_WEEK, U_MONTH, U_YEAR };

/* "N unit": N from 1 to RELATIVE_MAX, unit minute(s) .. year(s). */
static bool parse_relative(const char *text, int64_t *amount, enum unit *unit)
{
	static const char *const units[] = { "minute", "hour", "day", "week", "month", "year" };
	char s[SMARTBLOCK_VALUE_SIZE];
	trim(text, s, sizeof(s));
	size_t digits = strspn(s, "0123456789");
	if (digits == 0 || digits > 5)
		return false;
	int64_t n = strtoll(s, NULL, 10);
	const char *u = s + digits;
	size_t blanks = strspn(u, " \t");
	if (blanks == 0 || n < 1 || n > RELATIVE_MAX)
		return false;
	u += blanks;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t len = strlen(units[i]);
		if (strncasecmp(u, units[i], len) == 0 &&
		    (u[len] == '\0' || ((u[len] == 's' || u[len] == 'S') && u[len + 1] == '\0'))) {
			*amount = n;
			*unit = (enum unit)i;
			return true;
		}
	}
	return false;
}

/* The instant amount units before at; calendar months and years are
 * counted on the UTC calendar (the 31st less a month is the last day of
 * the shorter month). */
static int64_t relative_start(int64_t at, int64_t amount, enum unit unit)
{
	static const int64_t step[] = { MIN_US, HOUR_US, DAY_US, WEEK_US };
	int64_t t;
	if (unit <= U_WEEK) {
		t = at - amount * step[unit];
	} else {
		int64_t days = time_floor_div(at, DAY_US);
		int64_t tod = at - days * DAY_US;
		int64_t y;
		unsigned m, d;
		time_civil_from_days(days, &y, &m, &d);
		int64_t months = y * 12 + (m - 1) - (unit == U_MONTH ? amount : 12 * amount);
		int64_t y2 = time_floor_div(months, 12);
		unsigned m2 = (unsigned)time_floor_mod(months, 12) + 1;
		if (y2 < 1)
			return TIME_MIN_US;
		unsigned dim = time_days_in_month(y2, m2);
		t = time_days_from_civil(y2, m2, d < dim ? d : dim) * DAY_US + tod;
	}
	return t < TIME_MIN_US ? TIME_MIN_US : t;
}

/* A criterion in numbers. */
struct parsed {
	const struct field *field;
	double num[2];		/* FT_INT, FT_REAL, FT_DURATION (seconds) */
	int64_t lo[2], hi[2];	/* FT_DATE: [lo, hi) of each value */
	int64_t amount;		/* in_last, not_in_last */
	enum unit unit;
};

/* Check criterion number k (from 1) and turn it into numbers. */
static int parse_criterion(const struct smartblock_criterion *c, size_t k, struct parsed *p,
			   char *err, size_t errlen)
{
	memset(p, 0, sizeof(*p));
	if (!memchr(c->field, '\0', sizeof(c->field)))
		return error_set(err, errlen, -EINVAL, "criterion %zu: the field name is too long", k);
	if (!memchr(c->value, '\0', sizeof(c->value)) ||
	    !memchr(c->value2, '\0', sizeof(c->value2)))
		return error_set(err, errlen, -EINVAL, "criterion %zu: the value is too long", k);
	const struct field *f = find_field(c->field);
	if (!f)
		return error_set(err, errlen, -EINVAL, "criterion %zu: unknown field '%.31s'", k, c->field);
	p->field = f;
	if ((unsigned)c->modifier >= N_MODIFIERS)
		return error_set(err, errlen, -EINVAL, "criterion %zu: unknown modifier", k);
	const char *mod = modifier_names[c->modifier];
	if (!modifier_applies(f->type, c->modifier))
		return error_set(err, errlen, -EINVAL, "criterion %zu: '%s' does not apply to %s (%s)", k, mod,
			    f->name, type_text(f->type));
	if (!utf8_valid(c->value) || !utf8_valid(c->value2))
		return error_set(err, errlen, -EINVAL, "criterion %zu: the value is not valid UTF-8", k);
	bool between = c->modifier == SB_BETWEEN;
	if (between && c->value2[0] == '\0')
		return error_set(err, errlen, -EINVAL, "criterion %zu: 'between' needs a second value", k);
	if (!between && c->value2[0] != '\0')
		return error_set(err, errlen, -EINVAL, "criterion %zu: only 'between' takes a second value", k);

	if (c->modifier == SB_IN_LAST || c->modifier == SB_NOT_IN_LAST) {
		if (!parse_relative(c->value, &p->amount, &p->unit))
			return error_set(err, errlen, -EINVAL,
				    "criterion %zu: %s needs an amount and a unit, like '7 days'",
				    k, mod);
		return 0;
	}
	int n = between ? 2 : 1;
	for (int i = 0; i < n; i++) {
		const char *v = i ? c->value2 : c->value;
		switch (f->type) {
		case FT_TEXT:
			break;
		case FT_INT:
		case FT_REAL:
		case FT_DURATION:
			if (!parse_number(v, &p->num[i]))
				return error_set(err, errlen, -EINVAL,
					    "criterion %zu: %s: '%.100s' is not a number", k,
					    f->name, v);
			if (f->type == FT_DURATION && fabs(p->num[i]) > DURATION_SECONDS_MAX)
				return error_set(err, errlen, -EINVAL,
					    "criterion %zu: %s: '%.100s' is out of range", k,
					    f->name, v);
			break;
		case FT_DATE:
			if (!parse_date(v, &p->lo[i], &p->hi[i]))
				return error_set(err, errlen, -EINVAL,
					    "criterion %zu: %s: '%.100s' is not a date"
					    " (YYYY-MM-DD or RFC 3339)",
					    k, f->name, v);
			break;
		}
	}
	if (between && ((f->type == FT_DATE && p->lo[0] > p->lo[1]) ||
			(f->type != FT_DATE && p->num[0] > p->num[1])))
		return error_set(err, errlen, -EINVAL, "criterion %zu: 'between' needs the lower value first", k);
	return 0;
}

int smartblock_validate(const struct smartblock *b, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!b)
		return error_set(err, errlen, -EINVAL, "no block");
	if ((unsigned)b->limit_type >= N_LIMITS)
		return error_set(err, errlen, -EINVAL, "unknown limit type");
	if (b->limit_value <= 0)
		return error_set(err, errlen, -EINVAL, "the limit must be more than 0");
	if (b->limit_type == SB_LIMIT_ITEMS && b->limit_value > SMARTBLOCK_ITEMS_MAX)
		return error_set(err, errlen, -EINVAL, "a block can pick at most %d items", SMARTBLOCK_ITEMS_MAX);
	if (b->limit_type == SB_LIMIT_DURATION && b->limit_value > SMARTBLOCK_DURATION_MAX)
		return error_set(err, errlen, -EINVAL, "a duration limit can be at most 31 days");
	if ((unsigned)b->sort >= N_SORTS)
		return error_set(err, errlen, -EINVAL, "unknown sort");
	if (b->artist_separation_us < 0 || b->title_separation_us < 0)
		return error_set(err, errlen, -EINVAL, "a separation cannot be negative");
	if (b->artist_separation_us > SMARTBLOCK_DURATION_MAX ||
	    b->title_separation_us > SMARTBLOCK_DURATION_MAX)
		return error_set(err, errlen, -EINVAL, "a separation can be at most 31 days");
	if (b->n_criteria > SMARTBLOCK_CRITERIA_MAX)
		return error_set(err, errlen, -EINVAL, "a block can have at most %u criteria",
			    SMARTBLOCK_CRITERIA_MAX);
	if (b->n_criteria > 0 && !b->criteria)
		return error_set(err, errlen, -EINVAL, "no criteria");
	for (size_t i = 0; i < b->n_criteria; i++) {
		struct parsed p;
		int r = parse_criterion(&b->criteria[i], i + 1, &p, err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- the query ---- */

struct query {
	struct buf sql;
	struct db_param *params;	/* n of them */
	size_t n;
	char **owned;			/* n_owned texts the params point to */
	size_t n_owned;
};

/* Add a parameter: its number for $N. */
static int param(struct query *q, struct db_param p)
{
	q->params[q->n++] = p;
	return (int)q->n;
}

/* value as a LIKE pattern: %, _ and \ escaped with \, between prefix and
 * suffix ("%" or ""). */
static int like_param(struct query *q, const char *prefix, const char *value, const char *suffix)
{
	size_t len = strlen(value);
	char *s = xmalloc(2 * len + 3);
	char *o = s;
	if (*prefix)
		*o++ = '%';
	for (size_t i = 0; i < len; i++) {
		if (value[i] == '%' || value[i] == '_' || value[i] == '\\')
			*o++ = '\\';
		*o++ = value[i];
	}
	if (*suffix)
		*o++ = '%';
	*o = '\0';
	q->owned[q->n_owned++] = s;
	return param(q, DB_T(s));
}

/* A number for a column of type t: an integer parameter when it is one. */
static struct db_param number_param(enum field_type t, double v)
{
	if (t == FT_INT && v == floor(v))
		return DB_I((int64_t)v);
	return DB_R(v);
}

/* The SQL of one criterion (already parsed), appended to q->sql. */
static int criterion_sql(struct query *q, const struct smartblock_criterion *c,
			 const struct parsed *p, int64_t at)
{
	const char *col = p->field->column;
	struct buf *s = &q->sql;
	int a, z;

	switch (p->field->type) {
	case FT_TEXT:
		switch (c->modifier) {
		case SB_IS:
			return buf_printf(s, "lower(%s) = lower($%d)", col,
					  param(q, DB_T(c->value)));
		case SB_IS_NOT:
			return buf_printf(s, "(%s IS NULL OR lower(%s) <> lower($%d))", col, col,
					  param(q, DB_T(c->value)));
		case SB_CONTAINS:
			return buf_printf(s, "lower(%s) LIKE lower($%d) ESCAPE '\\'", col,
					  like_param(q, "%", c->value, "%"));
		case SB_NOT_CONTAINS:
			return buf_printf(s, "(%s IS NULL OR lower(%s) NOT LIKE lower($%d)"
					     " ESCAPE '\\')",
					  col, col, like_param(q, "%", c->value, "%"));
		case SB_STARTS_WITH:
			return buf_printf(s, "lower(%s) LIKE lower($%d) ESCAPE '\\'", col,
					  like_param(q, "", c->value, "%"));
		case SB_ENDS_WITH:
			return buf_printf(s, "lower(%s) LIKE lower($%d) ESCAPE '\\'", col,
					  like_param(q, "%", c->value, ""));
		default:
			return -EINVAL;
		}
	case FT_INT:
	case FT_REAL:
		switch (c->modifier) {
		case SB_IS:
			return buf_printf(s, "%s = $%d", col,
					  param(q, number_param(p->field->type, p->num[0])));
		case SB_IS_NOT:
			return buf_printf(s, "(%s IS NULL OR %s <> $%d)", col, col,
					  param(q, number_param(p->field->type, p->num[0])));
		case SB_GREATER:
			return buf_printf(s, "%s > $%d", col,
					  param(q, number_param(p->field->type, p->num[0])));
		case SB_LESS:
			return buf_printf(s, "%s < $%d", col,
					  param(q, number_param(p->field->type, p->num[0])));
		case SB_BETWEEN:
			a = param(q, number_param(p->field->type, p->num[0]));
			z = param(q, number_param(p->field->type, p->num[1]));
			return buf_printf(s, "(%s >= $%d AND %s <= $%d)", col, a, col, z);
		default:
			return -EINVAL;
		}
	case FT_DURATION: {
		int64_t us0 = llround(p->num[0] * 1e6);
		int64_t us1 = llround(p->num[1] * 1e6);
		/* "is 180" is any length from 3:00.000000 to 3:00.999999. */
		int64_t width = p->num[0] == floor(p->num[0]) ? USEC_PER_SEC : 1;
		switch (c->modifier) {
		case SB_IS:
			a = param(q, DB_I(us0));
			z = param(q, DB_I(us0 + width));
			return buf_printf(s, "(%s >= $%d AND %s < $%d)", col, a, col, z);
		case SB_IS_NOT:
			a = param(q, DB_I(us0));
			z = param(q, DB_I(us0 + width));
			return buf_printf(s, "(%s IS NULL OR %s < $%d OR %s >= $%d)", col, col,
					  a, col, z);
		case SB_GREATER:
			return buf_printf(s, "%s > $%d", col, param(q, DB_I(us0)));
		case SB_LESS:
			return buf_printf(s, "%s < $%d", col, param(q, DB_I(us0)));
		case SB_BETWEEN:
			a = param(q, DB_I(us0));
			z = param(q, DB_I(us1));
			return buf_printf(s, "(%s >= $%d AND %s <= $%d)", col, a, col, z);
		default:
			return -EINVAL;
		}
	}
	case FT_DATE:
		switch (c->modifier) {
		case SB_IS:
			a = param(q, DB_I(p->lo[0]));
			z = param(q, DB_I(p->hi[0]));
			return buf_printf(s, "(%s >= $%d AND %s < $%d)", col, a, col, z);
		case SB_IS_NOT:
			a = param(q, DB_I(p->lo[0]));
			z = param(q, DB_I(p->hi[0]));
			return buf_printf(s, "(%s IS NULL OR %s < $%d OR %s >= $%d)", col, col,
					  a, col, z);
		case SB_GREATER:
			return buf_printf(s, "%s >= $%d", col, param(q, DB_I(p->hi[0])));
		case SB_LESS:
			return buf_printf(s, "%s < $%d", col, param(q, DB_I(p->lo[0])));
		case SB_BETWEEN:
			a = param(q, DB_I(p->lo[0]));
			z = param(q, DB_I(p->hi[1]));
			return buf_printf(s, "(%s >= $%d AND %s < $%d)", col, a, col, z);
		case SB_IN_LAST:
			return buf_printf(s, "%s >= $%d", col,
					  param(q, DB_I(relative_start(at, p->amount, p->unit))));
		case SB_NOT_IN_LAST:
			return buf_printf(s, "(%s IS NULL OR %s < $%d)", col, col,
					  param(q, DB_I(relative_start(at, p->amount, p->unit))));
		default:
			return -EINVAL;
		}
	}
	return -EINVAL;
}

/* How many sort keys the query returns for sort (columns 4 and 5). */
static int sort_keys(enum smartblock_sort sort)
{
	if (sort == SB_SORT_LEAST_PLAYED)
		return 2;
	return sort == SB_SORT_NEWEST || sort == SB_SORT_OLDEST ? 1 : 0;
}

/* Criteria in the order of their groups (stable within a group). */
static int by_group(const void *pa, const void *pb)
{
	const struct smartblock_criterion *a = *(const struct smartblock_criterion *const *)pa;
	const struct smartblock_criterion *b = *(const struct smartblock_criterion *const *)pb;
	if (a->group_no != b->group_no)
		return a->group_no < b->group_no ? -1 : 1;
	return a < b ? -1 : a > b;
}

static void query_release(struct query *q)
{
	buf_release(&q->sql);
	for (size_t i = 0; i < q->n_owned; i++)
		free(q->owned[i]);
	free(q->owned);
	free(q->params);
}

/* The candidates' SELECT for b (valid) into q. */
static int build_query(const struct smartblock *b, int64_t at, struct query *q)
{
	buf_init(&q->sql, SQL_MAX);
	q->params = xcalloc(2 * b->n_criteria + 1, sizeof(*q->params));
	q->owned = xcalloc(b->n_criteria + 1, sizeof(*q->owned));
	q->n = q->n_owned = 0;

	const struct smartblock_criterion **sorted = xcalloc(b->n_criteria + 1, sizeof(*sorted));
	bool track_type = false;
	for (size_t i = 0; i < b->n_criteria; i++) {
		sorted[i] = &b->criteria[i];
		track_type |= strcmp(b->criteria[i].field, "track_type") == 0;
	}
	qsort(sorted, b->n_criteria, sizeof(*sorted), by_group);

	/* id, length, artist, title, and what the sort needs (columns 4, 5). */
	int r = buf_append_str(&q->sql,
			       "SELECT f.id, COALESCE(f.cue_out_us, f.duration_us)"
			       " - COALESCE(f.cue_in_us, 0), f.artist, f.title");
	if (r == 0 && sort_keys(b->sort) == 1)
		r = buf_append_str(&q->sql, ", f.created_at");
	if (r == 0 && sort_keys(b->sort) == 2)
		r = buf_append_str(&q->sql, ", f.last_played_at, f.play_count");
	if (r == 0)
		r = buf_append_str(&q->sql, " FROM files f");
	if (r == 0 && track_type)
		r = buf_append_str(&q->sql, " LEFT JOIN track_types t ON t.id = f.track_type_id");
	/* "|| ''" keeps SQLite from reading nearly every row through
	 * files_status_idx (without statistics it takes the index for
	 * selective): a plain scan is several times faster, and indexes that
	 * do narrow the search (lower(artist) for "artist is") still serve. */
	if (r == 0)
		r = buf_append_str(&q->sql, " WHERE f.import_status || '' = 'ready'"
					    " AND f.duration_us IS NOT NULL");
	for (size_t i = 0; r == 0 && i < b->n_criteria; i++) {
		const struct smartblock_criterion *c = sorted[i];
		bool first_of_group = i == 0 || sorted[i - 1]->group_no != c->group_no;
		if (i == 0)
			r = buf_append_str(&q->sql, " AND ((");
		else if (first_of_group)
			r = buf_append_str(&q->sql, ") OR (");
		else
			r = buf_append_str(&q->sql, " AND ");
		struct parsed p;
		if (r == 0)
			r = parse_criterion(c, (size_t)(c - b->criteria) + 1, &p, NULL, 0);
		if (r == 0)
			r = criterion_sql(q, c, &p, at);
	}
	if (r == 0 && b->n_criteria > 0)
		r = buf_append_str(&q->sql, "))");
	free(sorted);
	return r;
}

/* ---- candidates ---- */

/* A text in the arena: its offset while the arena grows, then its
 * address. */
union text {
	size_t off;		/* SIZE_MAX for NULL */
	const char *s;		/* NULL for NULL */
};

struct cand {
	int64_t id;
	int64_t length;
	int64_t key1, key2;	/* newest, oldest: created_at; least_played:
				   last_played_at, play_count */
	union text artist, title;
	uint64_t artist_hash, title_hash;	/* 0: no key (NULL or empty) */
	bool never_played;
	bool used;			/* picked in this round */
};

struct arena {
	char *data;
	size_t len, cap;
};

/* Copy s (may be NULL) into a: its offset, SIZE_MAX for NULL, or
 * -E2BIG in *r past ARENA_MAX. */
static size_t arena_put(struct arena *a, const char *s, int *r)
{
	if (!s)
		return SIZE_MAX;
	size_t n = strlen(s) + 1;
	if (n > ARENA_MAX - a->len) {
		*r = -E2BIG;
		return SIZE_MAX;
	}
	if (a->len + n > a->cap) {
		size_t cap = a->cap ? a->cap : 4096;
		while (cap < a->len + n)
			cap *= 2;
		a->data = xrealloc(a->data, cap);
		a->cap = cap;
	}
	memcpy(a->data + a->len, s, n);
	size_t off = a->len;
	a->len += n;
	return off;
}

static char fold(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* FNV-1a of s folded to ASCII lower case; 0 for NULL or "". */
static uint64_t key_hash(const char *s)
{
	if (!s || !*s)
		return 0;
	uint64_t h = UINT64_C(14695981039346656037);
	for (; *s; s++) {
		h ^= (unsigned char)fold(*s);
		h *= UINT64_C(1099511628211);
	}
	return h ? h : 1;
}

/* ---- separation history ---- */

struct hentry {
	uint64_t hash;		/* 0: free slot */
	char *key;		/* lower case */
	int64_t *starts;	/* n start times, in the order added */
	size_t n, cap;
};

struct hindex {
	struct hentry *slots;	/* cap of them, a power of two */
	size_t cap, used;
};

static void hindex_release(struct hindex *ix)
{
	for (size_t i = 0; i < ix->cap; i++) {
		free(ix->slots[i].key);
		free(ix->slots[i].starts);
	}
	free(ix->slots);
	memset(ix, 0, sizeof(*ix));
}

static bool key_equal(const char *key, const char *s)
{
	for (; *key && *s; key++, s++)
		if (*key != fold(*s))
			return false;
	return *key == *s;
}

/* The entry of s (hash h != 0), or the free slot where it would go. */
static struct hentry *hindex_slot(const struct hindex *ix, uint64_t h, const char *s)
{
	size_t mask = ix->cap - 1;
	for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
		struct hentry *e = &ix->slots[i];
		if (e->hash == 0 || (e->hash == h && key_equal(e->key, s)))
			return e;
	}
}

static void hindex_add(struct hindex *ix, const char *s, int64_t start)
{
	uint64_t h = key_hash(s);
	if (h == 0)
		return;
	if (2 * (ix->used + 1) > ix->cap) {
		struct hindex big = { .cap = ix->cap ? 2 * ix->cap : 64 };
		big.slots = xcalloc(big.cap, sizeof(*big.slots));
		for (size_t i = 0; i < ix->cap; i++) {
			struct hentry *e = &ix->slots[i];
			if (e->hash)
				*hindex_slot(&big, e->hash, e->key) = *e;
		}
		big.used = ix->used;
		free(ix->slots);
		*ix = big;
	}
	struct hentry *e = hindex_slot(ix, h, s);
	if (e->hash == 0) {
		e->hash = h;
		e->key = xstrdup(s);
		for (char *k = e->key; *k; k++)
			*k = fold(*k);
		ix->used++;
	}
	if (e->n == e->cap) {
		e->cap = e->cap ? 2 * e->cap : 4;
		e->starts = xreallocarray(e->starts, e->cap, sizeof(*e->starts));
	}
	e->starts[e->n++] = start;
}

/* The latest start of s (hash h) in [start - sep, start), or NO_CONFLICT. */
static int64_t hindex_latest(const struct hindex *ix, uint64_t h, const char *s, int64_t start,
			     int64_t sep)
{
	if (h == 0 || sep <= 0 || ix->cap == 0)
		return NO_CONFLICT;
	const struct hentry *e = hindex_slot(ix, h, s);
	int64_t latest = NO_CONFLICT;
	for (size_t i = 0; i < e->n; i++)
		if (e->starts[i] >= start - sep && e->starts[i] < start && e->starts[i] > latest)
			latest = e->starts[i];
	return latest;
}

/* ---- picking ---- */

struct picker {
	struct cand **order;	/* n candidates, in the block's order */
	size_t n;
	size_t cursor;		/* order[..cursor) are all used */
	size_t used;		/* candidates used in this round */
	const struct cand *last;	/* the previous pick */
	int64_t artist_sep, title_sep;
	struct hindex artists, titles;
	uint64_t rng;
};

/* splitmix64 */
static uint64_t rng_next(uint64_t *state)
{
	uint64_t z = (*state += UINT64_C(0x9e3779b97f4a7c15));
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0. */
static uint64_t rng_below(uint64_t *state, uint64_t n)
{
	uint64_t threshold = (0 - n) % n;
	for (;;) {
		uint64_t r = rng_next(state);
		if (r >= threshold)
			return r % n;
	}
}

static void shuffle(struct picker *p)
{
	for (size_t i = p->n; i > 1; i--) {
		size_t j = (size_t)rng_below(&p->rng, i);
		struct cand *t = p->order[i - 1];
		p->order[i - 1] = p->order[j];
		p->order[j] = t;
	}
}

static int cmp_i64(int64_t a, int64_t b)
{
	return a < b ? -1 : a > b;
}

/* Text A..Z without regard to ASCII case, NULL last. */
static int cmp_text(const char *a, const char *b)
{
	if (!a || !b)
		return !a - !b;
	return strcasecmp(a, b);
}

#define CANDS(pa, pb) \
	const struct cand *a = *(const struct cand *const *)(pa); \
	const struct cand *b = *(const struct cand *const *)(pb)

static int by_id(const void *pa, const void *pb)
{
	CANDS(pa, pb);
	return cmp_i64(a->id, b->id);
}

static int by_newest(const void *pa, const void *pb)
{
	CANDS(pa, pb);
	int c = cmp_i64(b->key1, a->key1);
	return c ? c : cmp_i64(b->id, a->id);
}

static int by_oldest(const void *pa, const void *pb)
{
	CANDS(pa, pb);
	int c = cmp_i64(a->key1, b->key1);
	return c ? c : cmp_i64(a->id, b->id);
}

static int by_least_played(const void *pa, const void *pb)
{
	CANDS(pa, pb);
	if (a->never_played != b->never_played)
		return a->never_played ? -1 : 1;
	int c = a->never_played ? 0 : cmp_i64(a->key1, b->key1);
	if (!c)
		c = cmp_i64(a->key2, b->key2);
	return c ? c : cmp_i64(a->id, b->id);
}

static int by_title(const void *pa, const void *pb)
{
	CANDS(pa, pb);
	int c = cmp_text(a->title.s, b->title.s);
	return c ? c : cmp_i64(a->id, b->id);
}

static int by_artist(const void *pa, const void *pb)
{
	CANDS(pa, pb);
	int c = cmp_text(a->artist.s, b->artist.s);
	if (!c)
		c = cmp_text(a->title.s, b->title.s);
	return c ? c : cmp_i64(a->id, b->id);
}

static void sort_candidates(struct picker *p, enum smartblock_sort sort)
{
	switch (sort) {
	case SB_SORT_RANDOM: {
		/* From the order of ids, whatever order the rows came in. */
		bool ascending = true;
		for (size_t i = 1; i < p->n && ascending; i++)
			ascending = p->order[i - 1]->id < p->order[i]->id;
		if (!ascending)
			qsort(p->order, p->n, sizeof(*p->order), by_id);
		shuffle(p);
		return;
	}
	case SB_SORT_NEWEST:
		qsort(p->order, p->n, sizeof(*p->order), by_newest);
		return;
	case SB_SORT_OLDEST:
		qsort(p->order, p->n, sizeof(*p->order), by_oldest);
		return;
	case SB_SORT_LEAST_PLAYED:
		qsort(p->order, p->n, sizeof(*p->order), by_least_played);
		return;
	case SB_SORT_TITLE:
		qsort(p->order, p->n, sizeof(*p->order), by_title);
		return;
	case SB_SORT_ARTIST:
		qsort(p->order, p->n, sizeof(*p->order), by_artist);
		return;
	}
}

/* The latest play within the separations before start that c would
 * conflict with, or NO_CONFLICT. */
static int64_t conflict(const struct picker *p, const struct cand *c, int64_t start)
{
	int64_t a = hindex_latest(&p->artists, c->artist_hash, c->artist.s, start, p->artist_sep);
	int64_t t = hindex_latest(&p->titles, c->title_hash, c->title.s, start, p->title_sep);
	return a > t ? a : t;
}

/* Whether c may come next: unused in this round (unless any), and not
 * the previous pick again (unless it is the only candidate). */
static bool available(const struct picker *p, const struct cand *c, bool any)
{
	return (any || !c->used) && (c != p->last || p->n == 1);
}

/*
 * The next pick that keeps the separations: the first available one in
 * order; when fit is set and that one is longer than room, the longest
 * available one that fits (the first in order among equals). NULL when
 * there is none.
 */
static struct cand *choose_strict(struct picker *p, bool any, bool fit, int64_t room, int64_t start)
{
	size_t i = any ? 0 : p->cursor;
	for (; i < p->n; i++) {
		struct cand *c = p->order[i];
		if (!available(p, c, any) || conflict(p, c, start) != NO_CONFLICT)
			continue;
		if (!fit || c->length <= room)
			return c;
		break;
	}
	struct cand *best = NULL;
	for (i++; i < p->n; i++) {
		struct cand *c = p->order[i];
		if (c->length > room || (best && c->length <= best->length))
			continue;
		if (!available(p, c, any) || conflict(p, c, start) != NO_CONFLICT)
			continue;
		best = c;
		if (c->length == room)
			break;
	}
	return best;
}

/* The available pick (that fits, with fit) whose conflicting play is
 * longest ago; among equals the longest with fit, else the first. */
static struct cand *choose_relaxed(struct picker *p, bool any, bool fit, int64_t room,
				   int64_t start)
{
	struct cand *best = NULL;
	int64_t best_at = 0;
	for (size_t i = any ? 0 : p->cursor; i < p->n; i++) {
		struct cand *c = p->order[i];
		if (!available(p, c, any) || (fit && c->length > room))
			continue;
		int64_t at = conflict(p, c, start);
		if (!best || at < best_at || (fit && at == best_at && c->length > best->length)) {
			best = c;
			best_at = at;
		}
	}
	return best;
}

static void new_round(struct picker *p, bool reshuffle)
{
	for (size_t i = 0; i < p->n; i++)
		p->order[i]->used = false;
	p->used = 0;
	p->cursor = 0;
	if (reshuffle)
		shuffle(p);
}

/* a + b, a * b for b >= 0, stopping at INT64_MAX. */
static int64_t add_sat(int64_t a, int64_t b)
{
	if (b > 0 && a > INT64_MAX - b)
		return INT64_MAX;
	return a + b;
}

static int64_t mul_sat(int64_t a, int64_t b)
{
	if (a <= 0 || b <= 0)
		return 0;
	return a > INT64_MAX / b ? INT64_MAX : a * b;
}

/* The schedule_items (files) starting in [from, to), into the history. */
static int load_history(struct db *db, struct picker *p, int64_t from, int64_t to)
{
	struct db_rows *rows;
	int r = db_query(db,
			 "SELECT s.starts_at, f.artist, f.title FROM schedule_items s"
			 " JOIN files f ON f.id = s.file_id"
			 " WHERE s.starts_at >= $1 AND s.starts_at < $2",
			 DB_PARAMS(DB_I(from), DB_I(to)), &rows);
	if (r < 0)
		return r;
	while (db_rows_next(rows)) {
		int64_t start = db_col_int(rows, 0);
		if (p->artist_sep > 0 && db_col_text(rows, 1))
			hindex_add(&p->artists, db_col_text(rows, 1), start);
		if (p->title_sep > 0 && db_col_text(rows, 2))
			hindex_add(&p->titles, db_col_text(rows, 2), start);
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	return r;
}

/* Read the candidates of q into *cands (n of them) and their texts into
 * arena; out->candidates counts them. */
static int load_candidates(struct db *db, const struct query *q, int keys, bool hashes,
			   struct cand **cands, size_t *n, struct arena *arena,
			   struct smartblock_result *out)
{
	struct db_rows *rows;
	int r = db_query(db, q->sql.data, q->params, q->n, &rows);
	if (r < 0)
		return r;
	size_t cap = 0;
	struct cand *c = NULL;
	*n = 0;
	while (db_rows_next(rows)) {
		out->candidates++;
		if (out->candidates > SMARTBLOCK_CANDIDATES_MAX) {
			r = -E2BIG;
			break;
		}
		if (*n == cap) {
			cap = cap ? 2 * cap : 1024;
			c = xreallocarray(c, cap, sizeof(*c));
		}
		struct cand *x = &c[*n];
		const char *artist = db_col_text(rows, 2);
		const char *title = db_col_text(rows, 3);
		*x = (struct cand){
			.id = db_col_int(rows, 0),
			.length = db_col_int(rows, 1),
			.key1 = keys > 0 ? db_col_int(rows, 4) : 0,
			.key2 = keys > 1 ? db_col_int(rows, 5) : 0,
			.never_played = keys > 1 && db_col_is_null(rows, 4),
			.artist.off = arena_put(arena, artist, &r),
			.title.off = arena_put(arena, title, &r),
			.artist_hash = hashes ? key_hash(artist) : 0,
			.title_hash = hashes ? key_hash(title) : 0,
		};
		if (r < 0)
			break;
		(*n)++;
	}
	if (r == 0)
		r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0) {
		free(c);
		*n = 0;
		c = NULL;
	}
	*cands = c;
	return r;
}

static int check_context(const struct smartblock_context *ctx)
{
	if (!ctx || ctx->at < TIME_MIN_US || ctx->at > TIME_MAX_US || ctx->remaining_us < 0 ||
	    ctx->crossfade_us < 0 || ctx->crossfade_us > SMARTBLOCK_DURATION_MAX ||
	    (ctx->n_played > 0 && !ctx->played))
		return -EINVAL;
	return 0;
}

int smartblock_evaluate(struct db *db, const struct smartblock *b,
			const struct smartblock_context *ctx, struct smartblock_result *out)
{
	memset(out, 0, sizeof(*out));
	if (smartblock_validate(b, NULL, 0) < 0 || check_context(ctx) < 0)
		return -EINVAL;

	bool by_time = b->limit_type == SB_LIMIT_DURATION;
	int64_t limit = b->limit_value;
	if (b->fill_show && ctx->remaining_us > 0) {
		by_time = true;
		limit = ctx->remaining_us < SMARTBLOCK_DURATION_MAX ? ctx->remaining_us
								   : SMARTBLOCK_DURATION_MAX;
	}
	bool fit = by_time && !b->overflow;
	int64_t xf = ctx->crossfade_us;
	struct picker p = {
		.artist_sep = b->artist_separation_us,
		.title_sep = b->title_separation_us,
		.rng = ctx->seed,
	};
	bool separation = p.artist_sep > 0 || p.title_sep > 0;

	struct query q;
	int r = build_query(b, ctx->at, &q);
	if (r < 0)
		goto out_release_query;
	struct cand *cands = NULL;
	size_t n_cands = 0;
	struct arena arena = { 0 };
	r = load_candidates(db, &q, sort_keys(b->sort), separation, &cands, &n_cands, &arena, out);
	if (r < 0)
		goto out_free_arena;

	/* Only what can be played after a crossfade. */
	p.order = xcalloc(n_cands + 1, sizeof(*p.order));
	int64_t longest = 0;
	for (size_t i = 0; i < n_cands; i++) {
		struct cand *c = &cands[i];
		c->artist.s = c->artist.off == SIZE_MAX ? NULL : arena.data + c->artist.off;
		c->title.s = c->title.off == SIZE_MAX ? NULL : arena.data + c->title.off;
		if (c->length <= xf || c->length <= 0)
			continue;
		p.order[p.n++] = c;
		longest = c->length > longest ? c->length : longest;
	}
	sort_candidates(&p, b->sort);

	if (separation && p.n > 0) {
		int64_t sep = p.artist_sep > p.title_sep ? p.artist_sep : p.title_sep;
		/* Picks start before at + limit (time), or within limit - 1
		 * lengths of the longest file (items). */
		int64_t span = by_time ? limit : mul_sat(limit - 1, longest);
		int64_t to = add_sat(add_sat(ctx->at, span), 1);
		r = load_history(db, &p, ctx->at - sep, to);
		if (r < 0)
			goto out_free_picker;
		for (size_t i = 0; i < ctx->n_played; i++) {
			const struct smartblock_played *pl = &ctx->played[i];
			if (p.artist_sep > 0 && pl->artist)
				hindex_add(&p.artists, pl->artist, pl->starts_at);
			if (p.title_sep > 0 && pl->title)
				hindex_add(&p.titles, pl->title, pl->starts_at);
		}
	}

	size_t cap = 0;
	int64_t start = ctx->at;
	while (out->n < SMARTBLOCK_PICKS_MAX) {
		if (by_time ? out->total_us >= limit : (int64_t)out->n >= limit)
			break;
		if (p.used == p.n) {
			if (!b->allow_repeats || p.n == 0)
				break;
			new_round(&p, b->sort == SB_SORT_RANDOM);
		}
		while (p.cursor < p.n && p.order[p.cursor]->used)
			p.cursor++;
		int64_t room = out->n ? limit - out->total_us + xf : limit;
		bool relaxed = false;
		struct cand *c = choose_strict(&p, false, fit, room, start);
		if (!c && b->allow_repeats)
			c = choose_strict(&p, true, fit, room, start);
		if (!c) {
			c = choose_relaxed(&p, false, fit, room, start);
			if (!c && b->allow_repeats)
				c = choose_relaxed(&p, true, fit, room, start);
			relaxed = c != NULL;
		}
		if (!c)
			break;

		if (out->n == cap) {
			cap = cap ? 2 * cap : 16;
			out->picks = xreallocarray(out->picks, cap, sizeof(*out->picks));
		}
		out->picks[out->n++] = (struct smartblock_pick){
			.file_id = c->id,
			.length_us = c->length,
			.artist = c->artist.s ? xstrdup(c->artist.s) : NULL,
			.title = c->title.s ? xstrdup(c->title.s) : NULL,
		};
		out->separation_relaxed += relaxed;
		if (!c->used) {
			c->used = true;
			p.used++;
		}
		p.last = c;
		if (p.artist_sep > 0 && c->artist.s)
			hindex_add(&p.artists, c->artist.s, start);
		if (p.title_sep > 0 && c->title.s)
			hindex_add(&p.titles, c->title.s, start);
		out->total_us = start + c->length - ctx->at;
		start += c->length - xf;
	}

	/* Short: fewer items than asked; or time left when the files ran
	 * out (each used once, no repeats) or none could be placed at all. */
	if (!by_time)
		out->short_fill = (int64_t)out->n < limit;
	else
		out->short_fill = out->total_us < limit && (out->n == 0 || p.used == p.n);

out_free_picker:
	hindex_release(&p.artists);
	hindex_release(&p.titles);
	free(p.order);
out_free_arena:
	free(arena.data);
	free(cands);
	if (r < 0)
		smartblock_result_release(out);
out_release_query:
	query_release(&q);
	return r;
}

void smartblock_result_release(struct smartblock_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++) {
		free(r->picks[i].artist);
		free(r->picks[i].title);
	}
	free(r->picks);
	memset(r, 0, sizeof(*r));
}
