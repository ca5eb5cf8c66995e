/*
 * tz.c - TZif reader and local/UTC conversion (see tz.h).
 *
 * File format: RFC 9636 ("The Time Zone Information Format (TZif)").
 * A zone is a sorted table of transitions, each switching to a local
 * time type (UT offset, DST flag, abbreviation), plus, from version 2 on,
 * a POSIX TZ string that continues the rules after the last transition
 * (Debian's files list transitions up to 2037; the string covers the
 * rest).
 */
#include "station/tz.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/timeutil.h"

#define SECS_PER_DAY INT64_C(86400)
#define SECS_PER_HOUR 3600

/* UT offsets RFC 9636 allows: -24:59:59 .. +25:59:59. */
#define UTOFF_MIN (-89999)
#define UTOFF_MAX 93599
/* Every instant whose local time is L lies within SEARCH_SPAN seconds
 * of L (offsets are smaller than 26 hours). */
#define SEARCH_SPAN (26 * 3600)
/* A file may not have more than this many transitions within any
 * 2 * SEARCH_SPAN seconds, which bounds the work of tz_local_to_utc. */
#define TRANS_PER_SPAN_MAX 32
/* Intervals tz_local_to_utc may meet in its window: table transitions
 * plus a few from the footer rules. */
#define INTERVALS_MAX (TRANS_PER_SPAN_MAX + 16)
/* Hours allowed in a footer offset (POSIX) and in a rule time (the
 * version 3 extension). */
#define OFFSET_HOURS_MAX 24
#define RULE_HOURS_MAX 167

struct tz_type {
	int32_t utoff;		/* seconds east of UTC */
	bool isdst;
	uint32_t abbr;		/* index into chars of a NUL-terminated string */
};

enum rule_kind {
	RULE_JULIAN1,		/* Jn: day n (1..365) of the year, 29 February never counted */
	RULE_JULIAN0,		/* n: day n (0..365) of the year, 29 February counted */
	RULE_MONTH,		/* Mm.w.d: weekday d (0 = Sunday) of week w (5 = last) of month m */
};

struct tz_rule {
	enum rule_kind kind;
	int day;		/* n, or the weekday for RULE_MONTH */
	int month;		/* RULE_MONTH: 1..12 */
	int week;		/* RULE_MONTH: 1..5 */
	int32_t time;		/* seconds after local midnight, -167 h .. 167 h */
};

/* The POSIX TZ string at the end of a version 2+ file. */
struct tz_footer {
	bool present;		/* a non-empty string */
	bool has_dst;		/* with a daylight saving part and its rules */
	int32_t std_off;	/* seconds east of UTC */
	int32_t dst_off;
	char std_abbr[TZ_ABBR_SIZE];
	char dst_abbr[TZ_ABBR_SIZE];
	struct tz_rule start;	/* when DST starts, in standard local time */
	struct tz_rule end;	/* when DST ends, in daylight local time */
};

struct tz {
	char *name;		/* NULL for tz_parse */
	size_t n_trans;
	int64_t *trans;		/* strictly ascending, seconds since the epoch */
	uint8_t *trans_type;	/* index into types, per transition */
	size_t n_types;		/* 1..256 */
	struct tz_type *types;
	char *chars;		/* abbreviations */
	size_t n_chars;
	struct tz_footer footer;
};

/* The local time type in force at some instant. */
struct period {
	int32_t off;
	bool isdst;
	const char *abbr;
};

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* ------------------------------------------------------------ names */

bool tz_name_valid(const char *name)
{
	if (!name)
		return false;
	size_t n = strnlen(name, TZ_NAME_MAX + 1);
	if (n == 0 || n > TZ_NAME_MAX || name[0] == '/' || name[n - 1] == '/')
		return false;
	/* '.' is not allowed at all, so neither is "." nor "..". */
	if (strstr(name, "..") || strstr(name, "//"))
		return false;
	for (size_t i = 0; i < n; i++) {
		char c = name[i];
		if (!is_alpha(c) && !is_digit(c) && c != '_' && c != '+' && c != '-' && c != '/')
			return false;
	}
	return true;
}

/* ------------------------------------------------------------ footer */

/* A POSIX TZ string being parsed: s .. end, no NUL needed. */
struct cursor {
	const char *s;
	const char *end;
};

static bool at(const struct cursor *c, char ch)
{
	return c->s < c->end && *c->s == ch;
}

/* Up to max_digits decimal digits, at least one. */
static bool parse_uint(struct cursor *c, int max_digits, int *out)
{
	int v = 0, n = 0;
	while (c->s < c->end && is_digit(*c->s) && n < max_digits) {
		v = v * 10 + (*c->s - '0');
		c->s++;
		n++;
	}
	if (n == 0 || (c->s < c->end && is_digit(*c->s)))
		return false;
	*out = v;
	return true;
}

/* An abbreviation: three or more letters, or <...> around three or more
 * letters, digits, '+' and '-'. */
static bool parse_abbr(struct cursor *c, char out[TZ_ABBR_SIZE])
{
	const char *begin;
	size_t n;
	if (at(c, '<')) {
		c->s++;
		begin = c->s;
		while (c->s < c->end && (is_alpha(*c->s) || is_digit(*c->s) || *c->s == '+' ||
					 *c->s == '-'))
			c->s++;
		n = (size_t)(c->s - begin);
		if (!at(c, '>'))
			return false;
		c->s++;
	} else {
		begin = c->s;
		while (c->s < c->end && is_alpha(*c->s))
			c->s++;
		n = (size_t)(c->s - begin);
	}
	if (n < 3 || n >= TZ_ABBR_SIZE)
		return false;
	memcpy(out, begin, n);
	out[n] = '\0';
	return true;
}

/* [+-]hh[:mm[:ss]] with hh <= max_hours, as signed seconds. */
static bool parse_hms(struct cursor *c, int max_hours, int32_t *out)
{
	int sign = 1;
	if (at(c, '+')) {
		c->s++;
	} else if (at(c, '-')) {
		sign = -1;
		c->s++;
	}
	int h, m = 0, s = 0;
	if (!parse_uint(c, 3, &h) || h > max_hours)
		return false;
	if (at(c, ':')) {
		c->s++;
		if (!parse_uint(c, 2, &m) || m > 59)
			return false;
		if (at(c, ':')) {
			c->s++;
			if (!parse_uint(c, 2, &s) || s > 59)
				return false;
		}
	}
	*out = sign * (h * 3600 + m * 60 + s);
	return true;
}

/* date[/time]: Jn, n or Mm.w.d; the time defaults to 02:00. */
static bool parse_rule(struct cursor *c, struct tz_rule *r)
{
	memset(r, 0, sizeof(*r));
	if (at(c, 'J')) {
		c->s++;
		r->kind = RULE_JULIAN1;
		if (!parse_uint(c, 3, &r->day) || r->day < 1 || r->day > 365)
			return false;
	} else if (at(c, 'M')) {
		c->s++;
		r->kind = RULE_MONTH;
		if (!parse_uint(c, 2, &r->month) || r->month < 1 || r->month > 12 || !at(c, '.'))
			return false;
		c->s++;
		if (!parse_uint(c, 1, &r->week) || r->week < 1 || r->week > 5 || !at(c, '.'))
			return false;
		c->s++;
		if (!parse_uint(c, 1, &r->day) || r->day > 6)
			return false;
	} else {
		r->kind = RULE_JULIAN0;
		if (!parse_uint(c, 3, &r->day) || r->day > 365)
			return false;
	}
	r->time = 2 * SECS_PER_HOUR;
	if (at(c, '/')) {
		c->s++;
		if (!parse_hms(c, RULE_HOURS_MAX, &r->time))
			return false;
	}
	return true;
}

/*
 * std offset [dst [offset] ,start[/time],end[/time]]. A daylight saving
 * part must come with its rules (zic always writes them; POSIX leaves
 * the default to the implementation).
 */
static bool parse_footer(const char *s, size_t len, struct tz_footer *f)
{
	memset(f, 0, sizeof(*f));
	if (len == 0)
		return true;
	struct cursor c = { s, s + len };
	int32_t std, dst;
	if (!parse_abbr(&c, f->std_abbr) || !parse_hms(&c, OFFSET_HOURS_MAX, &std))
		return false;
	f->present = true;
	f->std_off = -std;	/* POSIX counts west of Greenwich */
	f->dst_off = f->std_off;
	if (c.s == c.end)
		return true;
	if (!parse_abbr(&c, f->dst_abbr))
		return false;
	f->has_dst = true;
	f->dst_off = f->std_off + SECS_PER_HOUR;
	if (!at(&c, ',')) {
		if (!parse_hms(&c, OFFSET_HOURS_MAX, &dst))
			return false;
		f->dst_off = -dst;
	}
	if (!at(&c, ','))
		return false;
	c.s++;
	if (!parse_rule(&c, &f->start) || !at(&c, ','))
		return false;
	c.s++;
	if (!parse_rule(&c, &f->end))
		return false;
	return c.s == c.end && f->dst_off >= UTOFF_MIN && f->dst_off <= UTOFF_MAX;
}

/* Day (since the epoch) on which rule r falls in year y. */
static int64_t rule_day(const struct tz_rule *r, int64_t y)
{
	int64_t jan1 = time_days_from_civil(y, 1, 1);
	switch (r->kind) {
	case RULE_JULIAN1:
		return jan1 + r->day - 1 + (time_is_leap_year(y) && r->day >= 60);
	case RULE_JULIAN0:
		return jan1 + r->day;
	case RULE_MONTH:
	default: {
		int64_t first = time_days_from_civil(y, (unsigned)r->month, 1);
		int64_t wd_first = time_floor_mod(first + 4, 7);	/* 1970-01-01 was a Thursday */
		int64_t d = first + time_floor_mod(r->day - wd_first, 7) + 7 * (r->week - 1);
		int64_t mlen = time_days_in_month(y, (unsigned)r->month);
		while (d >= first + mlen)
			d -= 7;
		return d;
	}
	}
}

/* The two changes of year y, as instants: DST starts at the start rule
 * read in standard time, ends at the end rule read in daylight time. */
static void footer_changes(const struct tz_footer *f, int64_t y, int64_t *start, int64_t *end)
{
	*start = rule_day(&f->start, y) * SECS_PER_DAY + f->start.time - f->std_off;
	*end = rule_day(&f->end, y) * SECS_PER_DAY + f->end.time - f->dst_off;
}

static int64_t year_of(int64_t t, int32_t off)
{
	int64_t y;
	unsigned m, d;
	time_civil_from_days(time_floor_div(t + off, SECS_PER_DAY), &y, &m, &d);
	return y;
}

static void footer_period(const struct tz_footer *f, int64_t t, struct period *p)
{
	bool dst = false;
	if (f->has_dst) {
		/*
		 * The latest change at or before t, among the changes of the
		 * years around t. On a tie the one listed later wins, so a
		 * rule like "EST5EDT,0/0,J365/25" (an end that meets the next
		 * year's start) is daylight time all year, as RFC 9636 says.
		 */
		int64_t y = year_of(t, f->std_off);
		int64_t best = 0;
		bool found = false;
		for (int64_t yy = y - 2; yy <= y + 1; yy++) {
			int64_t s, e;
			footer_changes(f, yy, &s, &e);
			if (s <= t && (!found || s >= best)) {
				best = s;
				dst = true;
				found = true;
			}
			if (e <= t && (!found || e >= best)) {
				best = e;
				dst = false;
				found = true;
			}
		}
	}
	p->off = dst ? f->dst_off : f->std_off;
	p->isdst = dst;
	p->abbr = dst ? f->dst_abbr : f->std_abbr;
}

/* The first change of the footer rules after t, if they have any. */
static bool footer_next(const struct tz_footer *f, int64_t t, int64_t *next)
{
	if (!f->has_dst)
		return false;
	int64_t y = year_of(t, f->std_off);
	int64_t best = INT64_MAX;
	for (int64_t yy = y - 1; yy <= y + 2; yy++) {
		int64_t ch[2];
		footer_changes(f, yy, &ch[0], &ch[1]);
		for (int i = 0; i < 2; i++) {
			if (ch[i] > t && ch[i] < best)
				best = ch[i];
		}
	}
	if (best == INT64_MAX)
		return false;
	*next = best;
	return true;
}

/* ------------------------------------------------------------ lookups */

static void type_period(const struct tz *tz, size_t type, struct period *p)
{
	const struct tz_type *ty = &tz->types[type];
	p->off = ty->utoff;
	p->isdst = ty->isdst;
	p->abbr = tz->chars + ty->abbr;
}

/* Index of the last transition at or before t; t >= trans[0]. */
static size_t trans_index(const struct tz *tz, int64_t t)
{
	size_t lo = 0, hi = tz->n_trans;	/* trans[lo] <= t < trans[hi] */
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if (tz->trans[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return lo;
}

/* The local time type in force at t (seconds): before the first
 * transition type 0; after the last, the footer (or the last type);
 * with no transitions at all, the footer (or type 0). */
static void period_at(const struct tz *tz, int64_t t, struct period *p)
{
	size_t n = tz->n_trans;
	if (n == 0 || t >= tz->trans[n - 1]) {
		if (tz->footer.present)
			footer_period(&tz->footer, t, p);
		else
			type_period(tz, n == 0 ? 0 : tz->trans_type[n - 1], p);
		return;
	}
	if (t < tz->trans[0]) {
		type_period(tz, 0, p);
		return;
	}
	type_period(tz, tz->trans_type[trans_index(tz, t)], p);
}

/* The first transition (table or footer) after t. The offset may be the
 * same on both sides. */
static bool next_transition(const struct tz *tz, int64_t t, int64_t *next)
{
	size_t n = tz->n_trans;
	if (n > 0 && t < tz->trans[n - 1]) {
		*next = t < tz->trans[0] ? tz->trans[0] : tz->trans[trans_index(tz, t) + 1];
		return true;
	}
	return tz->footer.present && footer_next(&tz->footer, t, next);
}

int32_t tz_offset_at(const struct tz *tz, int64_t utc_us)
{
	struct period p;
	period_at(tz, time_floor_div(utc_us, USEC_PER_SEC), &p);
	return p.off;
}

const char *tz_name(const struct tz *tz)
{
	return tz->name ? tz->name : "";
}

int tz_utc_to_local(const struct tz *tz, int64_t utc_us, struct tz_local *out)
{
	if (utc_us < TIME_MIN_US || utc_us > TIME_MAX_US)
		return -ERANGE;
	int64_t secs = time_floor_div(utc_us, USEC_PER_SEC);
	struct period p;
	period_at(tz, secs, &p);
	int64_t local = secs + p.off;
	int64_t days = time_floor_div(local, SECS_PER_DAY);
	int64_t sod = local - days * SECS_PER_DAY;
	struct tz_local lt = { 0 };
	time_civil_from_days(days, &lt.year, &lt.month, &lt.day);
	lt.hour = (unsigned)(sod / 3600);
	lt.minute = (unsigned)(sod / 60 % 60);
	lt.second = (unsigned)(sod % 60);
	lt.usec = (uint32_t)(utc_us - secs * USEC_PER_SEC);
	lt.weekday = (unsigned)time_floor_mod(days + 3, 7);
	lt.utc_offset = p.off;
	lt.is_dst = p.isdst;
	snprintf(lt.abbr, sizeof(lt.abbr), "%.*s", (int)(TZ_ABBR_SIZE - 1), p.abbr);
	*out = lt;
	return 0;
}

int tz_local_to_utc(const struct tz *tz, const struct tz_local *lt, enum tz_resolve how,
		    int64_t *utc_us, enum tz_local_kind *kind)
{
	if (lt->year < 1 || lt->year > 9999 || lt->month < 1 || lt->month > 12 || lt->day < 1 ||
	    lt->day > time_days_in_month(lt->year, lt->month) || lt->hour > 23 || lt->minute > 59 ||
	    lt->second > 59 || lt->usec > 999999)
		return -EINVAL;
	int64_t local = time_days_from_civil(lt->year, lt->month, lt->day) * SECS_PER_DAY +
			lt->hour * 3600 + lt->minute * 60 + lt->second;

	/*
	 * Cut [local - SEARCH_SPAN, local + SEARCH_SPAN] into intervals of
	 * constant offset; the first reaches back, the last forward, without
	 * end. The instants showing local are local - off for each interval
	 * that contains that instant.
	 */
	struct {
		int64_t start;
		int32_t off;
	} iv[INTERVALS_MAX];
	struct period p;
	period_at(tz, local - SEARCH_SPAN, &p);
	iv[0].start = INT64_MIN;
	iv[0].off = p.off;
	size_t n = 1;
	int64_t cur = local - SEARCH_SPAN, next;
	while (next_transition(tz, cur, &next) && next <= local + SEARCH_SPAN) {
		if (n == INTERVALS_MAX)
			return -ERANGE;	/* not for a file tz_parse accepted */
		period_at(tz, next, &p);
		iv[n].start = next;
		iv[n].off = p.off;
		n++;
		cur = next;
	}

	size_t found = 0;
	int64_t first = 0, last = 0;
	for (size_t i = 0; i < n; i++) {
		int64_t t = local - iv[i].off;
		if (t < iv[i].start || (i + 1 < n && t >= iv[i + 1].start))
			continue;
		if (found == 0 || t < first)
			first = t;
		if (found == 0 || t > last)
			last = t;
		found++;
	}
	int64_t t;
	enum tz_local_kind k;
	if (found == 1) {
		t = first;
		k = TZ_LOCAL_UNIQUE;
	} else if (found > 1) {
		t = how == TZ_RESOLVE_LATER ? last : first;
		k = TZ_LOCAL_OVERLAP;
	} else {
		/* In a gap: the clocks jumped from before local to after it
		 * at some change; read local with the offset before it. */
		size_t i = 0;
		while (i + 1 < n && !(local >= iv[i + 1].start + iv[i].off &&
				      local < iv[i + 1].start + iv[i + 1].off))
			i++;
		if (i + 1 >= n)
			return -ERANGE;	/* not reached: some interval ends before local */
		t = local - iv[i].off;
		/* Should another change follow within the gap (no real zone
		 * does that), take the instant of the jump itself, which
		 * still shows a later local time. */
		if (i + 2 < n && t >= iv[i + 2].start)
			t = iv[i + 1].start;
		k = TZ_LOCAL_GAP;
	}
	if (t < TIME_MIN_US / USEC_PER_SEC || t > TIME_MAX_US / USEC_PER_SEC)
		return -ERANGE;
	*utc_us = t * USEC_PER_SEC + lt->usec;
	if (kind)
		*kind = k;
	return 0;
}

/* ------------------------------------------------------------ parsing */

struct header {
	uint8_t version;	/* 0, or '2', '3', '4', ... */
	uint32_t isutcnt, isstdcnt, leapcnt, timecnt, typecnt, charcnt;
};

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t be64(const uint8_t *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

#define HEADER_SIZE 44u

static int read_header(const uint8_t *p, size_t len, size_t pos, struct header *h)
{
	if (len - pos < HEADER_SIZE || memcmp(p + pos, "TZif", 4) != 0)
		return -EBADMSG;
	p += pos;
	h->version = p[4];
	if (h->version != 0 && h->version < '2')
		return -EBADMSG;
	h->isutcnt = be32(p + 20);
	h->isstdcnt = be32(p + 24);
	h->leapcnt = be32(p + 28);
	h->timecnt = be32(p + 32);
	h->typecnt = be32(p + 36);
	h->charcnt = be32(p + 40);
	return 0;
}

/* Whether the counts of a data block onair reads are consistent. */
static bool counts_valid(const struct header *h)
{
	return h->typecnt != 0 && h->typecnt <= 256 && h->charcnt != 0 &&
	       (h->isutcnt == 0 || h->isutcnt == h->typecnt) &&
	       (h->isstdcnt == 0 || h->isstdcnt == h->typecnt);
}

/* Bytes of the data block after header h, with timesize-byte times. */
static uint64_t block_size(const struct header *h, unsigned timesize)
{
	return (uint64_t)h->timecnt * timesize + h->timecnt + (uint64_t)h->typecnt * 6 +
	       h->charcnt + (uint64_t)h->leapcnt * (timesize + 4) + h->isstdcnt + h->isutcnt;
}

/* Read the data block at p (block_size(h, timesize) bytes, checked by
 * the caller) into tz. */
static int read_block(const uint8_t *p, const struct header *h, unsigned timesize, struct tz *tz)
{
	if (!counts_valid(h))
		return -EBADMSG;
	if (h->leapcnt != 0)
		return -ENOTSUP;
	tz->n_trans = h->timecnt;
	tz->trans = xcalloc(h->timecnt ? h->timecnt : 1, sizeof(*tz->trans));
	tz->trans_type = xmalloc(h->timecnt ? h->timecnt : 1);
	tz->n_types = h->typecnt;
	tz->types = xcalloc(h->typecnt, sizeof(*tz->types));
	tz->n_chars = h->charcnt;
	tz->chars = xmalloc(h->charcnt);

	for (uint32_t i = 0; i < h->timecnt; i++, p += timesize) {
		int64_t t = timesize == 8 ? (int64_t)be64(p) : (int64_t)(int32_t)be32(p);
		if (i > 0 && t <= tz->trans[i - 1])
			return -EBADMSG;
		tz->trans[i] = t;
	}
	/* Bound the transitions in any window tz_local_to_utc looks at. */
	for (uint32_t i = TRANS_PER_SPAN_MAX; i < h->timecnt; i++) {
		uint64_t gap = (uint64_t)tz->trans[i] - (uint64_t)tz->trans[i - TRANS_PER_SPAN_MAX];
		if (gap <= 2 * SEARCH_SPAN)
			return -EBADMSG;
	}
	for (uint32_t i = 0; i < h->timecnt; i++, p++) {
		if (*p >= h->typecnt)
			return -EBADMSG;
		tz->trans_type[i] = *p;
	}
	const uint8_t *types = p;
	p += (size_t)h->typecnt * 6;
	memcpy(tz->chars, p, h->charcnt);
	p += h->charcnt;
	for (uint32_t i = 0; i < h->typecnt; i++) {
		const uint8_t *ty = types + (size_t)i * 6;
		int32_t utoff = (int32_t)be32(ty);
		if (utoff < UTOFF_MIN || utoff > UTOFF_MAX || ty[4] > 1 || ty[5] >= h->charcnt ||
		    !memchr(tz->chars + ty[5], '\0', h->charcnt - ty[5]))
			return -EBADMSG;
		tz->types[i].utoff = utoff;
		tz->types[i].isdst = ty[4];
		tz->types[i].abbr = ty[5];
	}
	/* Standard/wall and UT/local indicators: only checked (they matter
	 * for POSIX TZ strings without rules, which onair does not use). */
	const uint8_t *isstd = p, *isut = p + h->isstdcnt;
	for (uint32_t i = 0; i < h->typecnt; i++) {
		unsigned std = i < h->isstdcnt ? isstd[i] : 0;
		unsigned ut = i < h->isutcnt ? isut[i] : 0;
		if (std > 1 || ut > 1 || (ut && !std))
			return -EBADMSG;
	}
	return 0;
}

void tz_free(struct tz *tz)
{
	if (!tz)
		return;
	free(tz->name);
	free(tz->trans);
	free(tz->trans_type);
	free(tz->types);
	free(tz->chars);
	free(tz);
}

int tz_parse(const void *data, size_t len, struct tz **out)
{
	const uint8_t *p = data;
	if (len > TZ_FILE_MAX)
		return -EFBIG;
	struct header h;
	int r = read_header(p, len, 0, &h);
	if (r < 0)
		return r;
	size_t pos = HEADER_SIZE;
	uint64_t size = block_size(&h, 4);
	if (size > len - pos)
		return -EBADMSG;
	unsigned timesize = 4;
	if (h.version != 0) {
		/* Skip the 32-bit data (only its size matters) to the second
		 * header and its 64-bit data. */
		uint8_t version = h.version;
		pos += (size_t)size;
		r = read_header(p, len, pos, &h);
		if (r < 0)
			return r;
		if (h.version != version)
			return -EBADMSG;
		pos += HEADER_SIZE;
		size = block_size(&h, 8);
		if (size > len - pos)
			return -EBADMSG;
		timesize = 8;
	}

	struct tz *tz = xcalloc(1, sizeof(*tz));
	r = read_block(p + pos, &h, timesize, tz);
	if (r < 0)
		goto out_free_tz;
	pos += (size_t)size;
	if (h.version != 0) {
		/* The footer: "\n" TZ string "\n", ending the file. */
		const uint8_t *nl = len - pos >= 2 && p[pos] == '\n' ?
					    memchr(p + pos + 1, '\n', len - pos - 1) : NULL;
		if (!nl || (size_t)(nl - p) != len - 1 ||
		    !parse_footer((const char *)p + pos + 1, len - pos - 2, &tz->footer)) {
			r = -EBADMSG;
			goto out_free_tz;
		}
	} else if (pos != len) {
		r = -EBADMSG;
		goto out_free_tz;
	}
	*out = tz;
	return 0;

out_free_tz:
	tz_free(tz);
	return r;
}

int tz_load(struct tz **out, const char *name, const char *zoneinfo_dir)
{
	if (!tz_name_valid(name))
		return -EINVAL;
	if (!zoneinfo_dir)
		zoneinfo_dir = TZ_ZONEINFO_DIR;
	char path[PATH_MAX];
	int n = snprintf(path, sizeof(path), "%s/%s", zoneinfo_dir, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;

	/* O_NONBLOCK: a FIFO planted in the directory must not hang us. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return errno == ENOTDIR ? -ENOENT : -errno;
	int r;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out_close_fd;
	}
	if (S_ISDIR(st.st_mode)) {
		r = -ENOENT;
		goto out_close_fd;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EBADMSG;
		goto out_close_fd;
	}
	if (st.st_size > (off_t)TZ_FILE_MAX) {
		r = -EFBIG;
		goto out_close_fd;
	}

	struct buf data;
	buf_init(&data, TZ_FILE_MAX);
	for (;;) {
		char chunk[4096];
		ssize_t got = read(fd, chunk, sizeof(chunk));
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = -errno;
			goto out_release_data;
		}
		if (got == 0)
			break;
		if (buf_append(&data, chunk, (size_t)got) < 0) {
			r = -EFBIG;
			goto out_release_data;
		}
	}
	struct tz *tz;
	r = tz_parse(data.data, data.len, &tz);
	if (r == 0) {
		tz->name = xstrdup(name);
		*out = tz;
	}
out_release_data:
	buf_release(&data);
out_close_fd:
	close(fd);
	return r;
}
