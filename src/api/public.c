/*
 * public.c - the public endpoints: no login, switched off with the
 * setting api.public=false (the router answers 404 then; routes flagged
 * ROUTE_PUBLIC).
 *
 * LibreTime compatible (for station websites and widgets written for it;
 * matched against github.com/libretime/libretime at f371bcfc):
 *
 *  GET /api/live-info
 *    legacy/application/controllers/ApiController.php liveInfoAction;
 *    type=interval (the default): Application_Model_Schedule::
 *    GetPlayOrderRangeOld (legacy/application/models/Schedule.php) with
 *    Application_Model_Show::getPrevCurrentNextOld (models/Show.php);
 *    type=endofday: Show::getCurrentShow and Show::getNextShows up to the
 *    station's next midnight, limit rows (default 5). The tracks come from
 *    Schedule::getPreviousCurrentNextMedia. As there, only currentShow,
 *    nextShow and schedulerTime are converted to the time zone; previous,
 *    current and next stay in UTC (the documented sample in
 *    docs/user-manual/playout-history.md shows the same).
 *  GET /api/live-info-v2
 *    ApiController.php liveInfoV2Action: Schedule::GetPlayOrderRange with
 *    Show::getPrevCurrentNext (days, default 2; shows, default 5), every
 *    starts/ends converted (applyLiveTimezoneAdjustments), plus "sources".
 *  GET /api/week-info
 *    ApiController.php weekInfoAction and legacy/application/common/
 *    WidgetHelper.php getWeekInfo: monday .. sunday, nextmonday ..
 *    nextsunday from this week's Monday 00:00 in the station's zone, each
 *    the Show::getNextShows rows of that day.
 *  All: times "Y-m-d H:i:s"; "timezone" a zone name (upper case when
 *  given as an abbreviation), "timezoneOffset" seconds as a string,
 *  "AIRTIME_API_VERSION" "1.1" (legacy/application/configs/
 *  constants.php); every string HTML-escaped as SecurityHelper::
 *  htmlescape_recursive does (htmlspecialchars, ENT_QUOTES); JSONP with
 *  callback= (ApiController.php returnJsonOrJsonp); query parameters not
 *  known are ignored, as there (jQuery adds "_").
 *  Not reproduced: "image_path" and metadata.artwork_url (no logo or
 *  artwork endpoint here: "" and null), "metadata" holds a subset of
 *  cc_files' columns, timezone abbreviations are only those the tz
 *  database has as zones (UTC, EST, CET...), "source_enabled" is always
 *  "Scheduled".
 *
 * Our own:
 *  GET /api/v1/public/now-playing  the station, the show and item now and next.
 *  GET /api/v1/public/week         the shows of the 7 days from today's start.
 *  GET /api/v1/public/shows.ics    an iCalendar (RFC 5545) feed of the instances
 *                                  from 7 days back to 8 weeks ahead.
 *  GET /player                     the embeddable player page (player.html): now
 *                                  playing from now-playing, whose "streams" member
 *                                  gives the stream URLs (public.stream_url,
 *                                  public.hls_url), so none is in the page.
 *
 * The show instances are materialised (instances_materialise) for a
 * window covering all of these at most every PUB_COVER_TTL_US per
 * process, so a rule changed elsewhere shows after at most that long.
 */
#include "api/resources.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "api/body.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "db/db.h"
#include "station/instances.h"
#include "station/tz.h"

#include "player_html.h"

#define SEC_US INT64_C(1000000)
#define DAY_US (INT64_C(86400) * SEC_US)
/* LibreTime's constants (ApiController.php, constants.php). */
#define LT_API_VERSION "1.1"
#define LT_DEFAULT_LIMIT 5
#define LT_DEFAULT_DAYS 2
/* Our bounds of LibreTime's limit/shows and days parameters. */
#define LT_LIMIT_MAX 1000
#define LT_DAYS_MAX 31
/* The window materialised: from 2 days back (instances_materialise makes
 * nothing older) to PUB_AHEAD_DAYS after today; redone after the TTL. */
#define PUB_LOOKBACK_US (INT64_C(48) * 3600 * SEC_US)
#define PUB_AHEAD_DAYS 60
#define PUB_COVER_TTL_US (INT64_C(30) * SEC_US)
#define PUB_MATERIALISE_TRIES 3
/* Most instances one request reads. */
#define PUB_ROWS_MAX 5000
/* The iCalendar window and its largest size. */
#define ICS_BACK_US (INT64_C(7) * DAY_US)
#define ICS_AHEAD_US (INT64_C(56) * DAY_US)
#define ICS_MAX (INT64_C(16) * 1024 * 1024)
#define ICS_LINE_OCTETS 75
/* Longest JSONP callback name accepted. */
#define CALLBACK_MAX 128

/* ------------------------------------------------------------ data */

/* An instance with its show, as the public endpoints show it. */
struct pub_show {
	int64_t id, show_id, starts, ends;
	char *name, *description, *genre;	/* owned; never NULL */
	char *url, *color;			/* owned; NULL when not set */
};

struct pub_shows {
	struct pub_show *v;
	size_t n;
};

/* A schedule item with what is known of what it plays. */
struct pub_item {
	bool found;
	int64_t id, instance_id, starts, ends, instance_ends;
	char kind[16];
	bool played;
	bool has_file;
	int64_t file_id;
	json_t *file;		/* the LibreTime metadata of a file; owned, NULL if none */
	char *title, *artist;	/* owned; NULL when not set */
	char *webstream;	/* owned; NULL when none */
	char *show_name;	/* owned; never NULL when found */
};

/* The zone times are shown in. */
struct zone {
	struct tz *tz;		/* owned */
	char name[TZ_NAME_MAX + 1];
	bool upcase;		/* given as an abbreviation: shown in upper case */
};

struct station {
	char name[1025];
	char tz[TZ_NAME_MAX + 1];
};

static char *dup_col(struct db_rows *rows, int c)
{
	if (db_col_is_null(rows, c))
		return NULL;
	const char *t = db_col_text(rows, c);
	return xstrdup(t ? t : "");
}

static void shows_release(struct pub_shows *s)
{
	for (size_t i = 0; i < s->n; i++) {
		free(s->v[i].name);
		free(s->v[i].description);
		free(s->v[i].genre);
		free(s->v[i].url);
		free(s->v[i].color);
	}
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static void item_release(struct pub_item *it)
{
	json_decref(it->file);
	free(it->title);
	free(it->artist);
	free(it->webstream);
	free(it->show_name);
	memset(it, 0, sizeof(*it));
}

/* A JSON string of t (NULL: null; not UTF-8: U+FFFD). */
static json_t *jstr(const char *t)
{
	if (!t)
		return json_null();
	json_t *v = json_string(t);
	return v ? v : json_string("\xef\xbf\xbd");
}

/* The station's name and zone name into *st. 0 or a database error. */
static int station_load(struct db *db, struct station *st)
{
	struct db_rows *rows;
	int r = db_query(db, "SELECT name, timezone FROM station_settings WHERE id = $1",
			 DB_PARAMS(DB_I(1)), &rows);
	if (r < 0)
		return r;
	snprintf(st->name, sizeof(st->name), "onair");
	snprintf(st->tz, sizeof(st->tz), "UTC");
	if (db_rows_next(rows)) {
		const char *n = db_col_text(rows, 0), *z = db_col_text(rows, 1);
		snprintf(st->name, sizeof(st->name), "%s", n ? n : "");
		snprintf(st->tz, sizeof(st->tz), "%s", z ? z : "UTC");
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	return r;
}

/* Load zone name into *z; 0 or tz_load's error. */
static int zone_try(struct zone *z, const char *name, bool upcase)
{
	if (!tz_name_valid(name) || tz_load(&z->tz, name, NULL) < 0)
		return -ENOENT;
	snprintf(z->name, sizeof(z->name), "%s", name);
	z->upcase = upcase;
	return 0;
}

/*
 * The zone of LibreTime's timezone parameter (ApiController.php
 * updateTimezone): lower-cased, then each /-separated word (and each
 * word after _ or -) capitalised ("europe/berlin" -> "Europe/Berlin"); or
 * the whole in upper case ("utc" -> "UTC", shown in upper case); else
 * the station's zone (then UTC). 0, or -ENOENT when not even UTC loads.
 */
static int zone_pick(struct zone *z, const char *station_tz, const char *param)
{
	memset(z, 0, sizeof(*z));
	if (param && *param && strlen(param) <= TZ_NAME_MAX) {
		char word[TZ_NAME_MAX + 1], upper[TZ_NAME_MAX + 1];
		size_t i = 0;
		for (; param[i]; i++) {
			unsigned char c = (unsigned char)tolower((unsigned char)param[i]);
			bool start = i == 0 || strchr("/_-", param[i - 1]);
			word[i] = (char)(start ? toupper(c) : c);
			upper[i] = (char)toupper(c);
		}
		word[i] = upper[i] = '\0';
		if (zone_try(z, word, false) == 0 || zone_try(z, upper, true) == 0)
			return 0;
	}
	if (zone_try(z, station_tz, false) == 0)
		return 0;
	log_warn("api", "the station's time zone %s does not load; showing UTC", station_tz);
	return zone_try(z, "UTC", false);
}

/* "Y-m-d H:i:s" of t in zone z (NULL: UTC) into out. */
static void local_text(const struct zone *z, int64_t t, char *out, size_t size)
{
	struct tz_local lt;
	memset(&lt, 0, sizeof(lt));
	if (z && tz_utc_to_local(z->tz, t, &lt) == 0) {
		snprintf(out, size, "%04" PRId64 "-%02u-%02u %02u:%02u:%02u", lt.year, lt.month,
			 lt.day, lt.hour, lt.minute, lt.second);
		return;
	}
	int64_t secs = time_floor_div(t, SEC_US);
	int64_t days = time_floor_div(secs, 86400), sod = time_floor_mod(secs, 86400);
	int64_t y;
	unsigned m, d;
	time_civil_from_days(days, &y, &m, &d);
	snprintf(out, size, "%04" PRId64 "-%02u-%02u %02u:%02u:%02u", y, m, d,
		 (unsigned)(sod / 3600), (unsigned)(sod / 60 % 60), (unsigned)(sod % 60));
}

/* The instant of local midnight days after the local date of t in z. */
static int64_t local_midnight(const struct zone *z, int64_t t, int days)
{
	struct tz_local lt;
	if (tz_utc_to_local(z->tz, t, &lt) < 0)
		return t;
	int64_t n = time_days_from_civil(lt.year, lt.month, lt.day) + days;
	struct tz_local m;
	memset(&m, 0, sizeof(m));
	time_civil_from_days(n, &m.year, &m.month, &m.day);
	int64_t out;
	if (tz_local_to_utc(z->tz, &m, TZ_RESOLVE_EARLIER, &out, NULL) < 0)
		return t + (int64_t)days * DAY_US;
	return out;
}

/* ------------------------------------------------------------ instances */

static pthread_mutex_t cover_lock = PTHREAD_MUTEX_INITIALIZER;
static int64_t cover_to, cover_until;

void public_cache_invalidate(void)
{
	pthread_mutex_lock(&cover_lock);
	cover_until = 0;
	pthread_mutex_unlock(&cover_lock);
}

/* Make the show instances of [now - 2 days, today + PUB_AHEAD_DAYS)
 * unless this process did in the last PUB_COVER_TTL_US. 0, or -1 with
 * res filled. */
static int materialise(struct api_request *req, const struct zone *z,
		       struct api_response *res)
{
	int64_t to = local_midnight(z, req->now, PUB_AHEAD_DAYS);
	pthread_mutex_lock(&cover_lock);
	bool hit = cover_until > req->now && cover_to >= to;
	pthread_mutex_unlock(&cover_lock);
	if (hit)
		return 0;
	struct instances_report rep;
	int r = 0;
	for (int i = 0; i < PUB_MATERIALISE_TRIES; i++) {
		r = instances_materialise(req->db, req->now - PUB_LOOKBACK_US, to, req->now, NULL,
					  &rep);
		if (r != -EBUSY && r != -EEXIST)
			break;
	}
	if (r < 0) {
		problem_errno(res, r == -EEXIST ? -EBUSY : r, "making the show instances", NULL);
		return -1;
	}
	instances_report_release(&rep);
	pthread_mutex_lock(&cover_lock);
	cover_to = to;
	cover_until = req->now + PUB_COVER_TTL_US;
	pthread_mutex_unlock(&cover_lock);
	return 0;
}

/*
 * The instances starting in [from, to) and ending after min_ends, by
 * starts_at then id, at most PUB_ROWS_MAX, into *out (release with
 * shows_release). 0 or a database error.
 */
static int shows_load(struct db *db, int64_t from, int64_t to, int64_t min_ends,
		      struct pub_shows *out)
{
	memset(out, 0, sizeof(*out));
	struct db_rows *rows;
	int r = db_query(db,
			 "SELECT i.id, i.show_id, i.starts_at, i.ends_at, s.name, s.description,"
			 " s.genre, s.url, s.color"
			 " FROM show_instances i JOIN shows s ON s.id = i.show_id"
			 " WHERE i.starts_at >= $1 AND i.starts_at < $2 AND i.ends_at > $3"
			 " ORDER BY i.starts_at, i.id LIMIT $4",
			 DB_PARAMS(DB_I(from), DB_I(to), DB_I(min_ends), DB_I(PUB_ROWS_MAX)),
			 &rows);
	if (r < 0)
		return r;
	size_t cap = 0;
	while (db_rows_next(rows)) {
		if (out->n == cap) {
			cap = cap ? 2 * cap : 16;
			out->v = xreallocarray(out->v, cap, sizeof(*out->v));
		}
		struct pub_show *s = &out->v[out->n++];
		s->id = db_col_int(rows, 0);
		s->show_id = db_col_int(rows, 1);
		s->starts = db_col_int(rows, 2);
		s->ends = db_col_int(rows, 3);
		s->name = dup_col(rows, 4);
		s->description = dup_col(rows, 5);
		s->genre = dup_col(rows, 6);
		s->url = dup_col(rows, 7);
		s->color = dup_col(rows, 8);
		if (!s->name)
			s->name = xstrdup("");
		if (!s->description)
			s->description = xstrdup("");
		if (!s->genre)
			s->genre = xstrdup("");
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0)
		shows_release(out);
	return r;
}

/* ------------------------------------------------------------ items */

enum { PREV, CURRENT, NEXT };

#define ITEM_COLUMNS \
	"SELECT si.id, si.instance_id, si.kind, si.starts_at, si.ends_at, i.ends_at," \
	" (SELECT COUNT(*) FROM as_run a WHERE a.schedule_item_id = si.id), s.name," \
	" w.name, f.id, f.title, f.artist, f.album, f.genre, f.year, f.track_number," \
	" f.composer, f.label, f.isrc, f.language, f.comment, f.mime, f.bitrate," \
	" f.sample_rate, f.size, f.duration_us, f.cue_in_us, f.cue_out_us, f.bpm" \
	" FROM schedule_items si JOIN show_instances i ON i.id = si.instance_id" \
	" JOIN shows s ON s.id = i.show_id LEFT JOIN files f ON f.id = si.file_id" \
	" LEFT JOIN webstreams w ON w.id = si.webstream_id"
enum {
	IT_ID, IT_INSTANCE, IT_KIND, IT_STARTS, IT_ENDS, IT_INST_ENDS, IT_PLAYED, IT_SHOW,
	IT_WEBSTREAM, IT_FILE, IT_TITLE, IT_ARTIST, IT_ALBUM, IT_GENRE, IT_YEAR, IT_TRACK,
	IT_COMPOSER, IT_LABEL, IT_ISRC, IT_LANGUAGE, IT_COMMENT, IT_MIME, IT_BITRATE, IT_RATE,
	IT_SIZE, IT_DURATION, IT_CUE_IN, IT_CUE_OUT, IT_BPM
};

/* LibreTime's interval text "HH:MM:SS.ffffff" of us. */
static json_t *interval_json(struct db_rows *rows, int c)
{
	if (db_col_is_null(rows, c))
		return json_null();
	int64_t us = db_col_int(rows, c);
	if (us < 0)
		us = 0;
	char t[48];
	snprintf(t, sizeof(t), "%02" PRId64 ":%02u:%02u.%06u", us / (3600 * SEC_US),
		 (unsigned)(us / (60 * SEC_US) % 60), (unsigned)(us / SEC_US % 60),
		 (unsigned)(us % SEC_US));
	return json_string(t);
}

static json_t *col_int(struct db_rows *rows, int c)
{
	return db_col_is_null(rows, c) ? json_null() : json_integer(db_col_int(rows, c));
}

static json_t *col_text(struct db_rows *rows, int c)
{
	return db_col_is_null(rows, c) ? json_null() : jstr(db_col_text(rows, c));
}

/* The cc_files-like metadata of the file of the current row. */
static json_t *file_metadata(struct db_rows *rows)
{
	json_t *m = json_object();
	json_object_set_new(m, "id", json_integer(db_col_int(rows, IT_FILE)));
	json_object_set_new(m, "track_title", col_text(rows, IT_TITLE));
	json_object_set_new(m, "artist_name", col_text(rows, IT_ARTIST));
	json_object_set_new(m, "album_title", col_text(rows, IT_ALBUM));
	json_object_set_new(m, "genre", col_text(rows, IT_GENRE));
	json_t *year = json_null();
	if (!db_col_is_null(rows, IT_YEAR)) {
		char y[24];
		snprintf(y, sizeof(y), "%" PRId64, db_col_int(rows, IT_YEAR));
		json_decref(year);
		year = json_string(y);
	}
	json_object_set_new(m, "year", year);
	json_object_set_new(m, "track_number", col_int(rows, IT_TRACK));
	json_object_set_new(m, "composer", col_text(rows, IT_COMPOSER));
	json_object_set_new(m, "label", col_text(rows, IT_LABEL));
	json_object_set_new(m, "isrc_number", col_text(rows, IT_ISRC));
	json_object_set_new(m, "language", col_text(rows, IT_LANGUAGE));
	json_object_set_new(m, "comments", col_text(rows, IT_COMMENT));
	json_object_set_new(m, "mime", col_text(rows, IT_MIME));
	json_object_set_new(m, "bit_rate", col_int(rows, IT_BITRATE));
	json_object_set_new(m, "sample_rate", col_int(rows, IT_RATE));
	json_object_set_new(m, "filesize", col_int(rows, IT_SIZE));
	json_object_set_new(m, "length", interval_json(rows, IT_DURATION));
	json_object_set_new(m, "cuein", interval_json(rows, IT_CUE_IN));
	json_object_set_new(m, "cueout", interval_json(rows, IT_CUE_OUT));
	json_object_set_new(m, "bpm", db_col_is_null(rows, IT_BPM) ? json_null()
			    : json_integer((json_int_t)db_col_real(rows, IT_BPM)));
	return m;
}

/*
 * The item that played last (which PREV: ended before now), plays now
 * (CURRENT) or plays next (NEXT: starts after now), as LibreTime's
 * getPreviousCurrentNextMedia finds it; items past their instance's end
 * (overbooked: never played) are skipped. *it found or not. 0 or a
 * database error.
 */
static int item_load(struct db *db, int which, int64_t now, struct pub_item *it)
{
	static const char *const sql[] = {
		ITEM_COLUMNS " WHERE si.starts_at < $1 AND si.ends_at < $1"
		" AND si.starts_at < i.ends_at ORDER BY si.starts_at DESC, si.id DESC LIMIT 1",
		ITEM_COLUMNS " WHERE si.starts_at <= $1 AND si.ends_at > $1 AND si.starts_at >= $2"
		" AND si.starts_at < i.ends_at ORDER BY si.starts_at DESC, si.id DESC LIMIT 1",
		ITEM_COLUMNS " WHERE si.starts_at > $1"
		" AND si.starts_at < i.ends_at ORDER BY si.starts_at, si.id LIMIT 1",
	};
	memset(it, 0, sizeof(*it));
	struct db_rows *rows;
	int r = which == CURRENT
		? db_query(db, sql[which], DB_PARAMS(DB_I(now), DB_I(now - 32 * DAY_US)), &rows)
		: db_query(db, sql[which], DB_PARAMS(DB_I(now)), &rows);
	if (r < 0)
		return r;
	if (db_rows_next(rows)) {
		it->found = true;
		it->id = db_col_int(rows, IT_ID);
		it->instance_id = db_col_int(rows, IT_INSTANCE);
		const char *k = db_col_text(rows, IT_KIND);
		snprintf(it->kind, sizeof(it->kind), "%s", k ? k : "");
		it->starts = db_col_int(rows, IT_STARTS);
		it->ends = db_col_int(rows, IT_ENDS);
		it->instance_ends = db_col_int(rows, IT_INST_ENDS);
		it->played = db_col_int(rows, IT_PLAYED) > 0;
		it->show_name = dup_col(rows, IT_SHOW);
		if (!it->show_name)
			it->show_name = xstrdup("");
		it->webstream = dup_col(rows, IT_WEBSTREAM);
		it->has_file = !db_col_is_null(rows, IT_FILE);
		if (it->has_file) {
			it->file_id = db_col_int(rows, IT_FILE);
			it->title = dup_col(rows, IT_TITLE);
			it->artist = dup_col(rows, IT_ARTIST);
			it->file = file_metadata(rows);
		}
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0)
		item_release(it);
	return r;
}

/* ------------------------------------------------------------ LibreTime */

/* htmlspecialchars(s, ENT_QUOTES) as a JSON string (NULL: null). */
static json_t *hstr(const char *s)
{
	if (!s)
		return json_null();
	struct buf b;
	buf_init(&b, (size_t)-1 / 2);
	for (const char *p = s; *p; p++) {
		switch (*p) {
		case '&': buf_append_str(&b, "&amp;"); break;
		case '"': buf_append_str(&b, "&quot;"); break;
		case '\'': buf_append_str(&b, "&#039;"); break;
		case '<': buf_append_str(&b, "&lt;"); break;
		case '>': buf_append_str(&b, "&gt;"); break;
		default: buf_append_char(&b, *p); break;
		}
	}
	json_t *v = jstr(b.data);
	buf_release(&b);
	return v;
}

static json_t *ltime(const struct zone *z, int64_t t)
{
	char s[64];
	local_text(z, t, s, sizeof(s));
	return json_string(s);
}

/* Which members a LibreTime show row has. */
enum {
	LS_TIMESTAMPS = 1u << 0,	/* start_timestamp, end_timestamp */
	LS_INSTANCE_DESC = 1u << 1,	/* instance_description */
	LS_GENRE = 1u << 2,		/* genre (getPrevCurrentNext) */
	LS_URL = 1u << 3,		/* url, image_path */
	LS_TYPE = 1u << 4,		/* "type": "show" */
	LS_DESC = 1u << 5,		/* description */
};
/* getCurrentShow / getNextShows rows (week-info, endofday). */
#define LS_NEXTSHOWS (LS_TIMESTAMPS | LS_INSTANCE_DESC | LS_URL | LS_DESC)
/* getPrevCurrentNextOld's current row. */
#define LS_OLD (LS_TIMESTAMPS | LS_URL | LS_DESC)
/* getPrevCurrentNext (v2). */
#define LS_V2 (LS_GENRE | LS_URL | LS_DESC)

/* A show row as LibreTime's SQL gives it, times in zone z (NULL: UTC). */
static json_t *lt_show(const struct pub_show *s, const struct zone *z, unsigned m)
{
	json_t *o = json_object();
	if (m & LS_TIMESTAMPS) {
		json_object_set_new(o, "start_timestamp", ltime(z, s->starts));
		json_object_set_new(o, "end_timestamp", ltime(z, s->ends));
	}
	json_object_set_new(o, "name", hstr(s->name));
	if (m & LS_DESC)
		json_object_set_new(o, "description", hstr(s->description));
	if (m & LS_GENRE)
		json_object_set_new(o, "genre", hstr(s->genre));
	json_object_set_new(o, "id", json_integer(s->show_id));
	json_object_set_new(o, "instance_id", json_integer(s->id));
	if (m & LS_INSTANCE_DESC)
		json_object_set_new(o, "instance_description", json_string(""));
	json_object_set_new(o, "record", json_integer(0));
	if (m & LS_URL) {
		json_object_set_new(o, "url", hstr(s->url ? s->url : ""));
		json_object_set_new(o, "image_path", json_string(""));
	}
	json_object_set_new(o, "starts", ltime(z, s->starts));
	json_object_set_new(o, "ends", ltime(z, s->ends));
	if (m & LS_TYPE)
		json_object_set_new(o, "type", json_string("show"));
	return o;
}

/*
 * A track as getPreviousCurrentNextMedia gives it (which: PREV, CURRENT,
 * NEXT), times in zone z (NULL: UTC); artwork: add metadata.artwork_url
 * (live-info). null when not found.
 */
static json_t *lt_track(const struct pub_item *it, int which, const struct zone *z,
			bool artwork)
{
	if (!it->found)
		return json_null();
	int64_t ends = it->ends;
	if (which == CURRENT && ends > it->instance_ends)
		ends = it->instance_ends;
	json_t *o = json_object();
	json_object_set_new(o, "starts", ltime(z, it->starts));
	json_object_set_new(o, "ends", ltime(z, ends));
	bool live = strcmp(it->kind, "live") == 0;
	if (live) {
		struct buf b;
		buf_init(&b, (size_t)-1 / 2);
		buf_printf(&b, "%s - Live Stream", it->show_name);
		json_object_set_new(o, "type", json_string("livestream"));
		json_object_set_new(o, "name", hstr(b.data));
		buf_release(&b);
	} else if (it->has_file) {
		struct buf b;
		buf_init(&b, (size_t)-1 / 2);
		buf_printf(&b, "%s - %s", it->artist ? it->artist : "", it->title ? it->title : "");
		json_object_set_new(o, "type", json_string("track"));
		json_object_set_new(o, "name", hstr(b.data));
		buf_release(&b);
	} else if (it->webstream) {
		json_object_set_new(o, "type", json_string("webstream"));
		json_object_set_new(o, "name", hstr(it->webstream));
	} else {
		json_object_set_new(o, "type", json_null());
		json_object_set_new(o, "name", json_string(""));
	}
	if (which == CURRENT)
		json_object_set_new(o, "media_item_played", json_boolean(it->played && !live));
	if (!(which == CURRENT && live)) {
		json_t *meta = json_null();
		if (it->file) {
			json_decref(meta);
			meta = json_deep_copy(it->file);
			const char *k;
			json_t *v;
			json_object_foreach(meta, k, v) {
				if (json_is_string(v))
					json_object_set_new(meta, k, hstr(json_string_value(v)));
			}
			if (artwork)
				json_object_set_new(meta, "artwork_url", json_null());
		}
		json_object_set_new(o, "metadata", meta);
	}
	if (which == CURRENT)
		json_object_set_new(o, "record", json_string("0"));
	return o;
}

/* Answer doc (stolen) as JSON, or as JSONP when callback= is given (a
 * JavaScript identifier path; 400 for another). */
static void lt_answer(struct api_request *req, json_t *doc, struct api_response *res)
{
	const char *cb = api_query(req, "callback");
	if (!cb || !*cb) {
		api_response_json(res, 200, doc);
		return;
	}
	bool ok = strlen(cb) <= CALLBACK_MAX && !isdigit((unsigned char)cb[0]);
	for (const char *p = cb; ok && *p; p++)
		ok = isalnum((unsigned char)*p) || *p == '_' || *p == '$' || *p == '.';
	if (!ok) {
		json_decref(doc);
		problem_field(res, 400, "callback", "callback must be a JavaScript name of at most"
			      " %d characters ([A-Za-z0-9_$.], not starting with a digit)",
			      CALLBACK_MAX);
		return;
	}
	char *text = json_dumps(doc, JSON_COMPACT);
	json_decref(doc);
	if (!text) {
		problem_errno(res, -ENOMEM, "the answer", NULL);
		return;
	}
	struct buf b;
	buf_init(&b, (size_t)-1 / 2);
	buf_printf(&b, "%s(%s)", cb, text);
	free(text);
	api_response_text(res, 200, "application/javascript", b.data, b.len);
	buf_release(&b);
}

/* A LibreTime query parameter as an integer in [lo, hi] (PHP's
 * is_numeric and the SQL LIMIT): def when absent or not a number. */
static int64_t lt_int(const struct api_request *req, const char *key, int64_t def, int64_t lo,
		      int64_t hi)
{
	const char *v = api_query(req, key);
	if (!v || !*v)
		return def;
	char *end;
	errno = 0;
	double d = strtod(v, &end);
	if (errno || *end || end == v || d != d)
		return def;
	if (d < (double)lo)
		return lo;
	if (d > (double)hi)
		return hi;
	return (int64_t)d;
}

/* Station, zone and instances for a LibreTime endpoint. 0, or -1 with
 * res filled. */
static int lt_begin(struct api_request *req, struct station *st, struct zone *z,
		    struct api_response *res)
{
	int r = station_load(req->db, st);
	if (r < 0) {
		problem_errno(res, r, "the station's settings", NULL);
		return -1;
	}
	if (zone_pick(z, st->tz, api_query(req, "timezone")) < 0) {
		problem_errno(res, -ENOENT, "the time zone UTC", "/usr/share/zoneinfo is missing");
		return -1;
	}
	if (materialise(req, z, res) < 0) {
		tz_free(z->tz);
		z->tz = NULL;
		return -1;
	}
	return 0;
}

static json_t *zone_name_json(const struct zone *z)
{
	char n[TZ_NAME_MAX + 1];
	size_t i = 0;
	for (; z->name[i] && i < TZ_NAME_MAX; i++)
		n[i] = (char)(z->upcase ? toupper((unsigned char)z->name[i]) : z->name[i]);
	n[i] = '\0';
	return hstr(n);
}

/* The tracks before, at and after now into it[PREV], it[CURRENT],
 * it[NEXT] (release each with item_release). 0 or a database error (all
 * released). */
static int tracks_load(struct db *db, int64_t now, struct pub_item it[3])
{
	int r = 0;
	for (int w = PREV; w <= NEXT && r == 0; w++)
		r = item_load(db, w, now, &it[w]);
	if (r < 0) {
		for (int w = PREV; w <= NEXT; w++)
			item_release(&it[w]);
	}
	return r;
}

/* GET /api/live-info: LibreTime's liveInfoAction (see the top). Never fails for
 * bad parameters but callback (400); 503 when the database is down. */
void public_live_info(struct api_request *req, struct api_response *res)
{
	struct station st;
	struct zone z;
	if (lt_begin(req, &st, &z, res) < 0)
		return;
	int64_t now = req->now;
	bool endofday = api_query(req, "type") && strcmp(api_query(req, "type"), "endofday") == 0;
	int64_t limit = lt_int(req, "limit", LT_DEFAULT_LIMIT, 0, LT_LIMIT_MAX);
	struct pub_shows rows = { 0 };
	struct pub_item it[3];
	memset(it, 0, sizeof(it));
	json_t *doc = json_object();
	int r;
	json_object_set_new(doc, "env", json_string("production"));
	json_object_set_new(doc, "schedulerTime", ltime(&z, now));
	if (endofday) {
		/* getCurrentShow and getNextShows(now, limit, next midnight). */
		int64_t end = local_midnight(&z, now, 1);
		json_t *cur = json_array(), *next = json_array();
		json_object_set_new(doc, "currentShow", cur);
		json_object_set_new(doc, "nextShow", next);
		r = shows_load(req->db, now - INSTANCES_LENGTH_MAX, now + 1, now, &rows);
		for (size_t i = 0; r == 0 && i < rows.n; i++)
			json_array_append_new(cur, lt_show(&rows.v[i], &z, LS_NEXTSHOWS));
		shows_release(&rows);
		if (r == 0)
			r = shows_load(req->db, now, end, INT64_MIN, &rows);
		for (size_t i = 0; r == 0 && i < rows.n && (int64_t)i < limit; i++)
			json_array_append_new(next, lt_show(&rows.v[i], &z, LS_NEXTSHOWS));
		if (r < 0)
			goto fail;
	} else {
		/* GetPlayOrderRangeOld with getPrevCurrentNextOld: instances
		 * starting after now - 2 days and ending before now + 2 days. */
		r = shows_load(req->db, now - 2 * DAY_US + 1, now + 2 * DAY_US, INT64_MIN, &rows);
		if (r == 0)
			r = tracks_load(req->db, now, it);
		if (r < 0)
			goto fail;
		long prev = -1, cur = -1, next = -1, prev_index = -1, last = -1;
		bool prev_short = false;
		for (size_t i = 0; i < rows.n; i++) {
			const struct pub_show *s = &rows.v[i];
			if (s->ends >= now + 2 * DAY_US)
				continue;
			if (s->starts <= now && s->ends > now) {
				cur = (long)i;
				prev = last;
				for (size_t k = i + 1; k < rows.n && next < 0; k++) {
					if (rows.v[k].ends < now + 2 * DAY_US)
						next = (long)k;
				}
				break;
			}
			if (s->ends < now)
				prev_index = (long)i;
			if (s->starts > now) {
				next = (long)i;
				break;
			}
			last = (long)i;
		}
		if (cur < 0 && prev_index >= 0) {
			prev = prev_index;
			prev_short = true;
		}
		/* As getPrevCurrentNextOld: previousShow[0] is the row before
		 * the current one (only when there is one). */
		json_t *prev_show = prev >= 0 ? lt_show(&rows.v[prev], NULL, prev_short
			? (LS_TIMESTAMPS | LS_TYPE | LS_DESC) : (LS_OLD | LS_TYPE)) : NULL;
		json_t *jprev = it[PREV].found ? lt_track(&it[PREV], PREV, NULL, true)
			: prev_show ? json_incref(prev_show) : json_null();
		json_t *jcur = lt_track(&it[CURRENT], CURRENT, NULL, true);
		json_t *jnext = it[NEXT].found ? lt_track(&it[NEXT], NEXT, NULL, true)
			: next >= 0 ? lt_show(&rows.v[next], NULL, LS_OLD | LS_TYPE) : json_null();
		json_decref(prev_show);
		json_object_set_new(doc, "previous", jprev);
		json_object_set_new(doc, "current", jcur);
		json_object_set_new(doc, "next", jnext);
		json_t *curs = json_array(), *nexts = json_array();
		if (cur >= 0)
			json_array_append_new(curs, lt_show(&rows.v[cur], &z, LS_OLD));
		if (next >= 0)
			json_array_append_new(nexts, lt_show(&rows.v[next], &z, LS_OLD | LS_TYPE));
		json_object_set_new(doc, "currentShow", curs);
		json_object_set_new(doc, "nextShow", nexts);
		json_object_set_new(doc, "source_enabled", json_string("Scheduled"));
	}
	char off[24];
	snprintf(off, sizeof(off), "%" PRId32, tz_offset_at(z.tz, now));
	json_object_set_new(doc, "timezone", zone_name_json(&z));
	json_object_set_new(doc, "timezoneOffset", json_string(off));
	json_object_set_new(doc, "AIRTIME_API_VERSION", json_string(LT_API_VERSION));
	shows_release(&rows);
	for (int w = PREV; w <= NEXT; w++)
		item_release(&it[w]);
	tz_free(z.tz);
	lt_answer(req, doc, res);
	return;
fail:
	shows_release(&rows);
	for (int w = PREV; w <= NEXT; w++)
		item_release(&it[w]);
	tz_free(z.tz);
	json_decref(doc);
	problem_errno(res, r, "the schedule", NULL);
}

/* GET /api/live-info-v2: LibreTime's liveInfoV2Action (see the top); as
 * public_live_info. */
void public_live_info_v2(struct api_request *req, struct api_response *res)
{
	struct station st;
	struct zone z;
	if (lt_begin(req, &st, &z, res) < 0)
		return;
	int64_t now = req->now;
	int64_t days = lt_int(req, "days", LT_DEFAULT_DAYS, 0, LT_DAYS_MAX);
	int64_t limit = lt_int(req, "shows", LT_DEFAULT_LIMIT, 0, LT_LIMIT_MAX);
	int64_t end = local_midnight(&z, now, (int)days);
	struct pub_shows rows = { 0 };
	struct pub_item it[3];
	memset(it, 0, sizeof(it));
	json_t *doc = NULL;
	/* getPrevCurrentNext: starts in [now - 2 days, end), the current
	 * one first, then the next ones, then the previous ones, limit rows. */
	int r = shows_load(req->db, now - 2 * DAY_US, end > now - 2 * DAY_US ? end
			   : now - 2 * DAY_US, INT64_MIN, &rows);
	if (r == 0)
		r = tracks_load(req->db, now, it);
	if (r < 0) {
		shows_release(&rows);
		tz_free(z.tz);
		problem_errno(res, r, "the schedule", NULL);
		return;
	}
	json_t *cur = json_null(), *prev = json_array(), *next = json_array();
	int64_t taken = 0;
	for (int pass = 0; pass < 3; pass++) {
		for (size_t i = 0; i < rows.n && taken < limit; i++) {
			const struct pub_show *s = &rows.v[i];
			int cls = s->ends > now && s->starts < now ? 0 : s->starts > now ? 1 : 2;
			if (cls != pass)
				continue;
			taken++;
			/* As there: a show starting exactly now is "current"
			 * only by the later test (starts <= now < ends). */
			if (s->starts <= now && s->ends > now) {
				json_decref(cur);
				cur = lt_show(s, &z, LS_V2);
			} else if (s->ends < now) {
				json_array_append_new(prev, lt_show(s, &z, LS_V2));
			} else if (s->starts > now) {
				json_array_append_new(next, lt_show(s, &z, LS_V2));
			}
		}
	}
	doc = json_object();
	json_t *station = json_object();
	json_object_set_new(station, "env", json_string("production"));
	json_object_set_new(station, "schedulerTime", ltime(&z, now));
	json_object_set_new(station, "source_enabled", json_string("Scheduled"));
	json_object_set_new(station, "timezone", zone_name_json(&z));
	json_object_set_new(station, "AIRTIME_API_VERSION", json_string(LT_API_VERSION));
	json_object_set_new(doc, "station", station);
	json_t *tracks = json_object();
	json_object_set_new(tracks, "previous", lt_track(&it[PREV], PREV, &z, false));
	json_object_set_new(tracks, "current", lt_track(&it[CURRENT], CURRENT, &z, false));
	json_object_set_new(tracks, "next", lt_track(&it[NEXT], NEXT, &z, false));
	json_object_set_new(doc, "tracks", tracks);
	json_t *shows = json_object();
	json_object_set_new(shows, "previous", prev);
	json_object_set_new(shows, "current", cur);
	json_object_set_new(shows, "next", next);
	json_object_set_new(doc, "shows", shows);
	json_object_set_new(doc, "sources", json_pack("{s:s, s:s, s:s}", "livedj", "off",
						      "masterdj", "off", "scheduledplay", "on"));
	shows_release(&rows);
	for (int w = PREV; w <= NEXT; w++)
		item_release(&it[w]);
	tz_free(z.tz);
	lt_answer(req, doc, res);
}

/* GET /api/week-info: LibreTime's weekInfoAction (see the top); as
 * public_live_info. */
void public_week_info(struct api_request *req, struct api_response *res)
{
	static const char *const dow[] = {
		"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday",
		"nextmonday", "nexttuesday", "nextwednesday", "nextthursday", "nextfriday",
		"nextsaturday", "nextsunday",
	};
	struct station st;
	struct zone z;
	if (lt_begin(req, &st, &z, res) < 0)
		return;
	/* This week's Monday 00:00 in the station's zone (getWeekStartDateTime),
	 * then day by day in the zone shown. */
	struct zone sz;
	int64_t start = req->now;
	if (zone_pick(&sz, st.tz, NULL) == 0) {
		struct tz_local lt;
		if (tz_utc_to_local(sz.tz, req->now, &lt) == 0)
			start = local_midnight(&sz, req->now, -(int)lt.weekday);
		tz_free(sz.tz);
	}
	struct pub_shows rows;
	int r = shows_load(req->db, start, local_midnight(&z, start, 15), INT64_MIN, &rows);
	if (r < 0) {
		tz_free(z.tz);
		problem_errno(res, r, "the schedule", NULL);
		return;
	}
	json_t *doc = json_object();
	int64_t day_start = start;
	size_t k = 0;
	for (int d = 0; d < 14; d++) {
		int64_t day_end = local_midnight(&z, day_start, 1);
		if (day_end <= day_start)	/* a zone shown whose midnight is not start's */
			day_end = day_start + DAY_US;
		json_t *a = json_array();
		for (; k < rows.n && rows.v[k].starts < day_start; k++)
			;
		for (; k < rows.n && rows.v[k].starts < day_end; k++)
			json_array_append_new(a, lt_show(&rows.v[k], &z, LS_NEXTSHOWS));
		json_object_set_new(doc, dow[d], a);
		day_start = day_end;
	}
	json_object_set_new(doc, "AIRTIME_API_VERSION", json_string(LT_API_VERSION));
	shows_release(&rows);
	tz_free(z.tz);
	lt_answer(req, doc, res);
}

/* ------------------------------------------------------------ our own */

/* Station, zone (the station's) and instances for our endpoints, which
 * take no query parameters. 0, or -1 with res filled. */
static int own_begin(struct api_request *req, struct station *st, struct zone *z,
		     struct api_response *res)
{
	static const char *const none[] = { NULL };
	if (!query_only(req, none, res))
		return -1;
	int r = station_load(req->db, st);
	if (r < 0) {
		problem_errno(res, r, "the station's settings", NULL);
		return -1;
	}
	if (zone_pick(z, st->tz, NULL) < 0) {
		problem_errno(res, -ENOENT, "the time zone UTC", "/usr/share/zoneinfo is missing");
		return -1;
	}
	if (materialise(req, z, res) < 0) {
		tz_free(z->tz);
		z->tz = NULL;
		return -1;
	}
	return 0;
}

static json_t *station_json(const struct station *st)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", jstr(st->name));
	json_object_set_new(o, "timezone", jstr(st->tz));
	return o;
}

static json_t *own_show(const struct pub_show *s, bool full)
{
	json_t *o = json_object();
	json_object_set_new(o, "instance_id", json_integer(s->id));
	json_object_set_new(o, "show_id", json_integer(s->show_id));
	json_object_set_new(o, "name", jstr(s->name));
	if (full) {
		json_object_set_new(o, "description", jstr(s->description));
		json_object_set_new(o, "url", jstr(s->url));
		json_object_set_new(o, "color", jstr(s->color));
	}
	json_object_set_new(o, "starts_at", json_time(s->starts));
	json_object_set_new(o, "ends_at", json_time(s->ends));
	return o;
}

static json_t *own_item(const struct pub_item *it)
{
	if (!it->found)
		return json_null();
	json_t *o = json_object();
	json_object_set_new(o, "kind", json_string(it->kind));
	json_object_set_new(o, "title", jstr(it->has_file ? it->title : it->webstream));
	json_object_set_new(o, "artist", jstr(it->artist));
	json_object_set_new(o, "show_name", jstr(it->show_name));
	json_object_set_new(o, "instance_id", json_integer(it->instance_id));
	json_object_set_new(o, "starts_at", json_time(it->starts));
	json_object_set_new(o, "ends_at", json_time(it->ends < it->instance_ends ? it->ends
							: it->instance_ends));
	return o;
}

/* GET /api/v1/public/now-playing: the station, and the show and item now and
 * next. 400 for any query parameter. */
void public_now_playing(struct api_request *req, struct api_response *res)
{
	struct station st;
	struct zone z;
	if (own_begin(req, &st, &z, res) < 0)
		return;
	tz_free(z.tz);
	int64_t now = req->now;
	struct pub_shows cur = { 0 }, next = { 0 };
	struct pub_item it[3];
	memset(it, 0, sizeof(it));
	int r = shows_load(req->db, now - INSTANCES_LENGTH_MAX, now + 1, now, &cur);
	if (r == 0)
		r = shows_load(req->db, now + 1, now + 62 * DAY_US, INT64_MIN, &next);
	if (r == 0)
		r = item_load(req->db, CURRENT, now, &it[CURRENT]);
	if (r == 0)
		r = item_load(req->db, NEXT, now, &it[NEXT]);
	if (r < 0) {
		problem_errno(res, r, "the schedule", NULL);
		goto out;
	}
	json_t *doc = json_object();
	json_object_set_new(doc, "station", station_json(&st));
	json_t *jnow = json_object(), *jnext = json_object();
	/* The latest-starting instance on air now (one that overlaps another). */
	json_object_set_new(jnow, "show", cur.n ? own_show(&cur.v[cur.n - 1], false)
			    : json_null());
	json_object_set_new(jnow, "item", own_item(&it[CURRENT]));
	json_object_set_new(jnext, "show", next.n ? own_show(&next.v[0], false) : json_null());
	json_object_set_new(jnext, "item", own_item(&it[NEXT]));
	json_object_set_new(doc, "now", jnow);
	json_object_set_new(doc, "next", jnext);
	json_object_set_new(doc, "streams", json_pack("{s:o, s:o}",
						      "icecast", jstr(req->ctx->stream_url),
						      "hls", jstr(req->ctx->hls_url)));
	api_response_json(res, 200, doc);
out:
	shows_release(&cur);
	shows_release(&next);
	for (int w = PREV; w <= NEXT; w++)
		item_release(&it[w]);
}

/* GET /api/v1/public/week: the instances overlapping the 7 days from today's
 * start in the station's zone. 400 for any query parameter. */
void public_week(struct api_request *req, struct api_response *res)
{
	struct station st;
	struct zone z;
	if (own_begin(req, &st, &z, res) < 0)
		return;
	int64_t from = local_midnight(&z, req->now, 0), to = local_midnight(&z, req->now, 7);
	tz_free(z.tz);
	struct pub_shows rows;
	int r = shows_load(req->db, from - INSTANCES_LENGTH_MAX, to, from, &rows);
	if (r < 0) {
		problem_errno(res, r, "the schedule", NULL);
		return;
	}
	json_t *items = json_array();
	for (size_t i = 0; i < rows.n; i++)
		json_array_append_new(items, own_show(&rows.v[i], true));
	shows_release(&rows);
	json_t *doc = json_object();
	json_object_set_new(doc, "station", station_json(&st));
	json_object_set_new(doc, "from", json_time(from));
	json_object_set_new(doc, "to", json_time(to));
	json_object_set_new(doc, "items", items);
	api_response_json(res, 200, doc);
}

/* ------------------------------------------------------------ iCalendar */

/* Append content line text (name:value, already escaped) folded at
 * ICS_LINE_OCTETS octets without splitting a UTF-8 character, then
 * CRLF. 0 or -ENOSPC. */
static int ics_line(struct buf *b, const char *text)
{
	size_t col = 0;
	int r = 0;
	for (const unsigned char *p = (const unsigned char *)text; *p && r == 0;) {
		size_t n = *p < 0x80 ? 1 : (*p & 0xe0) == 0xc0 ? 2 : (*p & 0xf0) == 0xe0 ? 3
			 : (*p & 0xf8) == 0xf0 ? 4 : 1;
		for (size_t k = 1; k < n; k++) {
			if ((p[k] & 0xc0) != 0x80) {	/* not UTF-8: one byte */
				n = 1;
				break;
			}
		}
		if (col + n > ICS_LINE_OCTETS) {
			r = buf_append(b, "\r\n ", 3);
			col = 1;
		}
		if (r == 0)
			r = buf_append(b, p, n);
		col += n;
		p += n;
	}
	return r ? r : buf_append(b, "\r\n", 2);
}

/* name ":" value escaped as TEXT (RFC 5545 3.3.11: \ ; , and newlines;
 * other control characters dropped), as one folded line. */
static int ics_text(struct buf *b, const char *name, const char *value)
{
	struct buf l;
	buf_init(&l, (size_t)ICS_MAX);
	int r = buf_printf(&l, "%s:", name);
	for (const char *p = value; *p && r == 0; p++) {
		unsigned char c = (unsigned char)*p;
		if (c == '\\' || c == ';' || c == ',')
			r = buf_printf(&l, "\\%c", c);
		else if (c == '\n')
			r = buf_append_str(&l, "\\n");
		else if (c == '\r' && p[1] == '\n')
			continue;
		else if (c == '\r')
			r = buf_append_str(&l, "\\n");
		else if (c < 0x20 || c == 0x7f)
			continue;
		else
			r = buf_append_char(&l, (char)c);
	}
	if (r == 0)
		r = ics_line(b, l.data);
	buf_release(&l);
	return r;
}

/* "YYYYMMDDTHHMMSSZ" of t (whole seconds). */
static void ics_time(int64_t t, char *out, size_t size)
{
	int64_t secs = time_floor_div(t, SEC_US);
	int64_t days = time_floor_div(secs, 86400), sod = time_floor_mod(secs, 86400);
	int64_t y;
	unsigned m, d;
	time_civil_from_days(days, &y, &m, &d);
	snprintf(out, size, "%04" PRId64 "%02u%02u" "T%02u%02u%02uZ", y, m, d,
		 (unsigned)(sod / 3600), (unsigned)(sod / 60 % 60), (unsigned)(sod % 60));
}

/* Whether a URI can go in a content line as it is (no controls, no space). */
static bool uri_ok(const char *u)
{
	if (!u || !*u)
		return false;
	for (const unsigned char *p = (const unsigned char *)u; *p; p++) {
		if (*p <= 0x20 || *p == 0x7f)
			return false;
	}
	return true;
}

/* GET /api/v1/public/shows.ics: the instances overlapping [now - 7 days,
 * now + 56 days) as iCalendar. 400 for any query parameter. */
void public_shows_ics(struct api_request *req, struct api_response *res)
{
	struct station st;
	struct zone z;
	if (own_begin(req, &st, &z, res) < 0)
		return;
	tz_free(z.tz);
	int64_t from = req->now - ICS_BACK_US, to = req->now + ICS_AHEAD_US;
	struct pub_shows rows;
	int r = shows_load(req->db, from - INSTANCES_LENGTH_MAX, to, from, &rows);
	if (r < 0) {
		problem_errno(res, r, "the schedule", NULL);
		return;
	}
	/* The UID's domain part: the station's name, [A-Za-z0-9.-] kept,
	 * the rest as '-'. */
	char host[256];
	size_t hn = 0;
	for (const char *p = st.name; *p && hn + 1 < sizeof(host); p++)
		host[hn++] = isalnum((unsigned char)*p) || *p == '.' || *p == '-' ? *p : '-';
	host[hn] = '\0';
	if (!hn)
		snprintf(host, sizeof(host), "onair");
	char stamp[32], a[32], e[32], line[512];
	ics_time(req->now, stamp, sizeof(stamp));
	struct buf b;
	buf_init(&b, (size_t)ICS_MAX);
	r = ics_line(&b, "BEGIN:VCALENDAR");
	if (r == 0)
		r = ics_line(&b, "PRODID:-//onair//public shows//EN");
	if (r == 0)
		r = ics_line(&b, "VERSION:2.0");
	if (r == 0)
		r = ics_line(&b, "CALSCALE:GREGORIAN");
	if (r == 0)
		r = ics_line(&b, "METHOD:PUBLISH");
	if (r == 0)
		r = ics_text(&b, "X-WR-CALNAME", st.name);
	if (r == 0)
		r = ics_text(&b, "X-WR-TIMEZONE", st.tz);
	for (size_t i = 0; r == 0 && i < rows.n; i++) {
		const struct pub_show *s = &rows.v[i];
		ics_time(s->starts, a, sizeof(a));
		ics_time(s->ends, e, sizeof(e));
		r = ics_line(&b, "BEGIN:VEVENT");
		snprintf(line, sizeof(line), "UID:instance-%" PRId64 "@%s", s->id, host);
		if (r == 0)
			r = ics_line(&b, line);
		snprintf(line, sizeof(line), "DTSTAMP:%s", stamp);
		if (r == 0)
			r = ics_line(&b, line);
		snprintf(line, sizeof(line), "DTSTART:%s", a);
		if (r == 0)
			r = ics_line(&b, line);
		snprintf(line, sizeof(line), "DTEND:%s", e);
		if (r == 0)
			r = ics_line(&b, line);
		if (r == 0)
			r = ics_text(&b, "SUMMARY", s->name);
		if (r == 0 && *s->description)
			r = ics_text(&b, "DESCRIPTION", s->description);
		if (r == 0 && uri_ok(s->url)) {
			struct buf u;
			buf_init(&u, (size_t)ICS_MAX);
			r = buf_printf(&u, "URL:%s", s->url);
			if (r == 0)
				r = ics_line(&b, u.data);
			buf_release(&u);
		}
		if (r == 0)
			r = ics_line(&b, "END:VEVENT");
	}
	if (r == 0)
		r = ics_line(&b, "END:VCALENDAR");
	shows_release(&rows);
	if (r < 0) {
		buf_release(&b);
		problem(res, 503, "the calendar is larger than %" PRId64 " bytes", ICS_MAX);
		return;
	}
	api_response_text(res, 200, "text/calendar; charset=utf-8", b.data, b.len);
	buf_release(&b);
}

/* ------------------------------------------------------------ the player page */

/* The Content-Security-Policy hash sources of the page's one <script> and
 * one <style> element (each tag at the start of a line): "'sha256-<base64>'",
 * or "'none'" when the page has no such element. Made once. */
static char player_script_hash[64], player_style_hash[64];
static pthread_once_t player_hash_once = PTHREAD_ONCE_INIT;

/* Hash the text between open and close in the page into out. */
static void player_hash(const char *open, const char *close, char *out, size_t size)
{
	const char *a = strstr(player_html, open);
	const char *b = a ? strstr(a + strlen(open), close) : NULL;
	if (!b) {
		snprintf(out, size, "'none'");
		return;
	}
	a += strlen(open);
	unsigned char digest[crypto_hash_sha256_BYTES];
	char b64[sodium_base64_ENCODED_LEN(crypto_hash_sha256_BYTES,
					  sodium_base64_VARIANT_ORIGINAL)];
	crypto_hash_sha256(digest, (const unsigned char *)a, (unsigned long long)(b - a));
	sodium_bin2base64(b64, sizeof(b64), digest, sizeof(digest),
			  sodium_base64_VARIANT_ORIGINAL);
	snprintf(out, size, "'sha256-%s'", b64);
}

static void player_hashes(void)
{
	player_hash("\n<script>", "</script>", player_script_hash, sizeof(player_script_hash));
	player_hash("\n<style>", "</style>", player_style_hash, sizeof(player_style_hash));
}

/* The length of the scheme and authority of an http(s) URL ("https://host:8000"),
 * 0 when it has none. */
static size_t url_origin_len(const char *url)
{
	size_t skip = http_scheme_len(url);
	if (!skip)
		return 0;
	size_t n = strcspn(url + skip, "/?#");
	return n ? skip + n : 0;
}

int public_url_check(const char *url)
{
	size_t len = strlen(url), origin = url_origin_len(url);
	if (len > PUBLIC_URL_MAX || origin == 0)
		return -EINVAL;
	size_t host = url[4] == ':' ? 7 : 8;
	if (url[host] == ':')
		return -EINVAL;		/* a port and no host */
	for (size_t i = host; i < origin; i++) {
		unsigned char c = (unsigned char)url[i];
		if (!isalnum(c) && !strchr(".-:[]", c))
			return -EINVAL;	/* user part, percent-escape or not ASCII */
	}
	for (size_t i = origin; i < len; i++) {
		unsigned char c = (unsigned char)url[i];
		if (c <= 0x20 || c >= 0x7f || strchr("\"'<>\\`{}|^", c))
			return -EINVAL;
	}
	return 0;
}

/* The origin of url ("https://host:8000", lower case) into out; "" when url is
 * NULL or has none. */
static void url_origin(const char *url, char out[PUBLIC_URL_MAX + 1])
{
	size_t n = url ? url_origin_len(url) : 0;
	if (n > PUBLIC_URL_MAX)
		n = 0;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)url[i]);
	out[n] = '\0';
}

/* GET /player: the page, whatever the query (the page reads it).
 *
 * Its Content-Security-Policy: the page's own script and style by hash,
 * and 'self' for scripts, so that it can load the vendored hls.js
 * (/vendor/hls.light.min.js, src/web/vendor). Media from the streams'
 * origins. The page plays HLS only when there is no Icecast URL; then it
 * may do so through hls.js, which fetches the playlist and segments itself
 * (connect-src: the HLS origin) and plays them from a MediaSource (media-src
 * blob:). With an Icecast URL neither is allowed. */
void public_player(struct api_request *req, struct api_response *res)
{
	pthread_once(&player_hash_once, player_hashes);
	char ice[PUBLIC_URL_MAX + 1], hls[PUBLIC_URL_MAX + 1];
	url_origin(req->ctx->stream_url, ice);
	url_origin(req->ctx->hls_url, hls);
	bool hls_js = hls[0] && !ice[0];
	char connect[PUBLIC_URL_MAX + 32];
	snprintf(connect, sizeof(connect), "connect-src 'self'%s%s", hls_js ? " " : "",
		 hls_js ? hls : "");
	if (strcmp(ice, hls) == 0)
		hls[0] = '\0';
	char media[2 * PUBLIC_URL_MAX + 32];
	snprintf(media, sizeof(media), "media-src%s%s%s%s%s%s", ice[0] ? " " : "", ice,
		 hls[0] ? " " : "", hls, hls_js ? " blob:" : "",
		 ice[0] || hls[0] ? "" : " 'none'");
	char csp[sizeof(res->headers[0].value)];
	int n = snprintf(csp, sizeof(csp),
			 "default-src 'none'; script-src 'self' %s; style-src %s; %s; "
			 "%s; img-src data:; frame-ancestors *; base-uri 'none'; "
			 "form-action 'none'", player_script_hash, player_style_hash,
			 connect, media);
	if (n < 0 || (size_t)n >= sizeof(csp)) {
		problem(res, 500, "the player's Content-Security-Policy is too long");
		return;
	}
	api_response_text(res, 200, "text/html; charset=utf-8", player_html, PLAYER_HTML_LEN);
	api_response_header(res, "Content-Security-Policy", csp);
	api_response_header(res, "Cache-Control", "public, max-age=300");
	api_response_header(res, "Referrer-Policy", "no-referrer");
}
