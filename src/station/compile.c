/*
 * compile.c - the database -> a protocol v1 snapshot; see compile.h.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "common/alloc.h"
#include "station/compile.h"
#include "station/recurrence.h"
#include "station/settings.h"

/* Gain limits of the protocol, and the true peak normalisation keeps. */
#define GAIN_MIN (-60.0)
#define GAIN_MAX 24.0
#define PEAK_CEILING_DBTP (-1.0)
/* Gaps shorter than this are rounding between items, not holes. */
#define GAP_MIN_US INT64_C(1000)

/* The state of one compilation. */
struct compiler {
	struct db *db;
	const struct compile_options *o;
	struct station_settings st;
	struct proto_snapshot *snap;
	size_t cap_items;
	struct compile_report *rep;
	char *err;
	size_t errlen;
};

void compile_report_release(struct compile_report *r)
{
	if (!r)
		return;
	free(r->gaps);
	free(r->problems);
	memset(r, 0, sizeof(*r));
}

static void problem(struct compiler *c, int64_t item_id, int64_t instance_id, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void problem(struct compiler *c, int64_t item_id, int64_t instance_id, const char *fmt, ...)
{
	struct compile_report *r = c->rep;
	r->problems = xreallocarray(r->problems, r->n_problems + 1, sizeof(*r->problems));
	struct compile_problem *p = &r->problems[r->n_problems++];
	p->item_id = item_id;
	p->instance_id = instance_id;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->text, sizeof(p->text), fmt, ap);
	va_end(ap);
}

static int db_fail(struct compiler *c, int r, const char *what)
{
	if (c->err && c->errlen)
		snprintf(c->err, c->errlen, "%s: %.200s", what, db_errmsg(c->db));
	return r;
}

/* A copy of text for a metadata field: NULL for NULL or "", at most
 * PROTO_STRING_MAX bytes cut at a character boundary. */
static char *meta_text(const char *text)
{
	if (!text || !*text)
		return NULL;
	size_t n = strlen(text);
	if (n > PROTO_STRING_MAX) {
		n = PROTO_STRING_MAX;
		while (n > 0 && ((unsigned char)text[n] & 0xc0) == 0x80)
			n--;
	}
	return xstrndup(text, n);
}

/* The gain for a file: the item's, or what brings it to the target. */
static double item_gain(const struct compiler *c, struct db_rows *rows, int col_gain,
			int col_loudness, int col_peak)
{
	double g = 0;
	if (!db_col_is_null(rows, col_gain)) {
		g = db_col_real(rows, col_gain);
	} else if (col_loudness >= 0 && !db_col_is_null(rows, col_loudness)) {
		g = c->st.loudness_target_lufs - db_col_real(rows, col_loudness);
		if (!db_col_is_null(rows, col_peak)) {
			double room = PEAK_CEILING_DBTP - db_col_real(rows, col_peak);
			if (g > room)
				g = room;
		}
	}
	if (!isfinite(g))
		return 0;
	return g < GAIN_MIN ? GAIN_MIN : g > GAIN_MAX ? GAIN_MAX : g;
}

/* Whether a file row can be sent: ready, hashed, sized, with a length. */
static const char *media_problem(struct db_rows *rows, int col)
{
	const char *status = db_col_text(rows, col + 5);
	if (!status || strcmp(status, "ready") != 0)
		return status && strcmp(status, "failed") == 0 ? "failed analysis"
							       : "not analysed yet";
	const char *hash = db_col_text(rows, col + 1);
	if (!hash || strncmp(hash, "sha256:", 7) != 0 || strlen(hash) != 71)
		return "has no content hash";
	if (db_col_int(rows, col + 2) <= 0 || db_col_int(rows, col + 4) <= 0)
		return "has no size or no duration";
	return NULL;
}

/* Fill m from the file columns starting at col: id, content_hash, size,
 * mime, duration_us, (import_status). */
static void read_media(struct db_rows *rows, int col, struct proto_media *m)
{
	m->id = db_col_int(rows, col);
	m->hash = xstrdup(db_col_text(rows, col + 1));
	m->size = db_col_int(rows, col + 2);
	m->mime = meta_text(db_col_text(rows, col + 3));
	m->duration = db_col_int(rows, col + 4);
}

static void clamp_fades(struct proto_item *it)
{
	int64_t len = it->end - it->start;
	if (it->fade_in > len)
		it->fade_in = len;
	if (it->fade_out > len)
		it->fade_out = len;
	if (it->crossfade >= len)
		it->crossfade = len - 1;
}

static void item_free(struct proto_item *it)
{
	free(it->media.hash);
	free(it->media.mime);
	free(it->url);
	free(it->meta.title);
	free(it->meta.artist);
	free(it->meta.album);
	free(it->show.name);
	memset(it, 0, sizeof(*it));
}

/*
 * Append candidate to the snapshot's items, resolving overlaps: the
 * later item wins beyond the crossfade it declares (intended). Takes
 * ownership of *cand.
 */
static void place(struct compiler *c, struct proto_item *cand, int64_t intended)
{
	struct proto_snapshot *s = c->snap;
	/* A crossfade is shorter than the item that declares it. */
	if (intended >= cand->end - cand->start)
		intended = cand->end - cand->start - 1;
	if (intended < 0)
		intended = 0;
	while (s->n_items > 0) {
		struct proto_item *p = &s->items[s->n_items - 1];
		if (p->start < cand->start) {
			if (p->end - cand->start <= intended)
				break;	/* a gap, or the overlap cand declares */
			/* p runs past the overlap cand allows: cut it */
			p->end = cand->start + intended;
			if (p->end - p->start > p->crossfade) {
				clamp_fades(p);
				c->rep->overlaps_cut++;
				problem(c, p->id, p->show.instance_id,
					"cut short by item %lld, which starts before it ends",
					(long long)cand->id);
				break;
			}
		}
		/* cand starts with or before p, or leaves nothing of it */
		c->rep->overlaps_cut++;
		c->rep->dropped++;
		problem(c, p->id, p->show.instance_id, "left out: item %lld overlaps it",
			(long long)cand->id);
		item_free(p);
		s->n_items--;
	}
	int64_t overlap = 0;
	if (s->n_items > 0) {
		overlap = s->items[s->n_items - 1].end - cand->start;
		overlap = overlap < 0 ? 0 : overlap > intended ? intended : overlap;
	}
	cand->crossfade = overlap;
	clamp_fades(cand);
	if (s->n_items == c->cap_items) {
		s->items = xreallocarray(s->items, c->cap_items ? c->cap_items * 2 : 256,
					 sizeof(*s->items));
		c->cap_items = c->cap_items ? c->cap_items * 2 : 256;
	}
	s->items[s->n_items++] = *cand;
	memset(cand, 0, sizeof(*cand));
}

/* Columns of the items query. */
enum {
	I_ID, I_KIND, I_START, I_END, I_CUE_IN, I_CUE_OUT, I_FADE_IN, I_FADE_OUT, I_XFADE, I_GAIN,
	I_POSITION, I_INSTANCE, I_SHOW, I_INST_END, I_SHOW_NAME,
	I_FILE, /* id, content_hash, size, mime, duration_us, import_status */
	I_FILE_CUE_IN = I_FILE + 6, I_FILE_CUE_OUT, I_TITLE, I_ARTIST, I_ALBUM, I_LOUDNESS,
	I_PEAK, I_URL, I_WS_NAME, I_FILE_FADE_IN, I_FILE_FADE_OUT,
};

static int compile_items(struct compiler *c)
{
	const struct compile_options *o = c->o;
	struct db_rows *rows;
	/* Instances are found by their start (indexed), bounded by the
	 * longest show, then their items by instance. */
	int r = db_query(c->db,
			 "SELECT si.id, si.kind, si.starts_at, si.ends_at, si.cue_in_us,"
			 " si.cue_out_us, si.fade_in_us, si.fade_out_us, si.crossfade_us,"
			 " si.gain_db, si.position, i.id, i.show_id, i.ends_at, s.name,"
			 " f.id, f.content_hash, f.size, f.mime, f.duration_us, f.import_status,"
			 " f.cue_in_us, f.cue_out_us, f.title, f.artist, f.album,"
			 " f.loudness_lufs, f.true_peak_dbtp, w.url, w.name, f.fade_in_us,"
			 " f.fade_out_us"
			 " FROM show_instances i"
			 " JOIN shows s ON s.id = i.show_id"
			 " JOIN schedule_items si ON si.instance_id = i.id"
			 " LEFT JOIN files f ON f.id = si.file_id"
			 " LEFT JOIN webstreams w ON w.id = si.webstream_id"
			 " WHERE i.starts_at < $2 AND i.starts_at > $3 AND i.ends_at > $1"
			 " AND si.starts_at < $2 AND si.ends_at > $1"
			 " ORDER BY si.starts_at, i.starts_at, si.position, si.id",
			 DB_PARAMS(DB_I(o->from), DB_I(o->to),
				   DB_I(o->from - RECURRENCE_DURATION_MAX - 1)),
			 &rows);
	if (r < 0)
		return db_fail(c, r, "reading the schedule");
	const struct station_settings *st = &c->st;
	while (db_rows_next(rows)) {
		struct proto_item it = { 0 };
		int64_t id = db_col_int(rows, I_ID);
		int64_t instance = db_col_int(rows, I_INSTANCE);
		const char *kind = db_col_text(rows, I_KIND);
		it.id = id;
		it.start = db_col_int(rows, I_START);
		it.end = db_col_int(rows, I_END);
		int64_t show_end = db_col_int(rows, I_INST_END);
		if (it.start >= show_end) {
			c->rep->cut_at_show_end++;
			c->rep->dropped++;
			problem(c, id, instance, "left out: starts after the show ends (overbooked)");
			continue;
		}
		if (it.end > show_end) {
			it.end = show_end;
			c->rep->cut_at_show_end++;
		}
		if (strcmp(kind, "file") == 0) {
			const char *why = media_problem(rows, I_FILE);
			if (why) {
				c->rep->dropped++;
				problem(c, id, instance, "left out: file %lld %s",
					(long long)db_col_int(rows, I_FILE), why);
				continue;
			}
			it.kind = PROTO_ITEM_FILE;
			read_media(rows, I_FILE, &it.media);
			int64_t dur = it.media.duration;
			it.cue_in = !db_col_is_null(rows, I_CUE_IN) ? db_col_int(rows, I_CUE_IN)
								   : db_col_int(rows, I_FILE_CUE_IN);
			it.cue_out = !db_col_is_null(rows, I_CUE_OUT) ? db_col_int(rows, I_CUE_OUT)
				     : !db_col_is_null(rows, I_FILE_CUE_OUT)
					     ? db_col_int(rows, I_FILE_CUE_OUT)
					     : dur;
			if (it.cue_out > dur || it.cue_out <= 0)
				it.cue_out = dur;
			if (it.cue_in < 0 || it.cue_in >= it.cue_out)
				it.cue_in = 0;
			it.meta.title = meta_text(db_col_text(rows, I_TITLE));
			it.meta.artist = meta_text(db_col_text(rows, I_ARTIST));
			it.meta.album = meta_text(db_col_text(rows, I_ALBUM));
			it.gain_db = item_gain(c, rows, I_GAIN, I_LOUDNESS, I_PEAK);
		} else if (strcmp(kind, "webstream") == 0) {
			const char *url = db_col_text(rows, I_URL);
			if (!url || strlen(url) > PROTO_URL_MAX ||
			    (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) ||
			    strpbrk(url, " \t\r\n")) {
				c->rep->dropped++;
				problem(c, id, instance, "left out: the webstream has no usable URL");
				continue;
			}
			it.kind = PROTO_ITEM_WEBSTREAM;
			it.url = xstrdup(url);
			it.meta.title = meta_text(db_col_text(rows, I_WS_NAME));
			it.gain_db = item_gain(c, rows, I_GAIN, -1, -1);
		} else if (strcmp(kind, "live") == 0) {
			it.kind = PROTO_ITEM_LIVE;
		} else {
			it.kind = PROTO_ITEM_SILENCE;
		}
		/* Fades: the item's own, else its file's, else the station's. */
		it.fade_in = !db_col_is_null(rows, I_FADE_IN)	   ? db_col_int(rows, I_FADE_IN)
			     : !db_col_is_null(rows, I_FILE_FADE_IN) ? db_col_int(rows, I_FILE_FADE_IN)
								     : st->default_fade_in_us;
		it.fade_out = !db_col_is_null(rows, I_FADE_OUT)	     ? db_col_int(rows, I_FADE_OUT)
			      : !db_col_is_null(rows, I_FILE_FADE_OUT) ? db_col_int(rows, I_FILE_FADE_OUT)
								       : st->default_fade_out_us;
		if (it.kind == PROTO_ITEM_LIVE || it.kind == PROTO_ITEM_SILENCE)
			it.fade_in = it.fade_out = 0;
		int64_t intended = 0;
		if (db_col_int(rows, I_POSITION) > 0)
			intended = !db_col_is_null(rows, I_XFADE) ? db_col_int(rows, I_XFADE)
								 : st->default_crossfade_us;
		if (intended < 0)
			intended = 0;
		it.show.id = db_col_int(rows, I_SHOW);
		it.show.instance_id = instance;
		it.show.name = meta_text(db_col_text(rows, I_SHOW_NAME));
		place(c, &it, intended);
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0)
		return db_fail(c, r, "reading the schedule");
	return 0;
}

static int compile_fallback(struct compiler *c)
{
	if (c->st.fallback_playlist_id == 0) {
		c->rep->no_fallback = true;
		problem(c, 0, 0, "the station has no fallback playlist: gaps play the safety loop");
		return 0;
	}
	struct db_rows *rows;
	int r = db_query(c->db,
			 "SELECT pi.gain_db, f.id, f.content_hash, f.size, f.mime, f.duration_us,"
			 " f.import_status, f.title, f.artist, f.album, f.loudness_lufs,"
			 " f.true_peak_dbtp FROM playlist_items pi JOIN files f ON f.id = pi.file_id"
			 " WHERE pi.playlist_id = $1 ORDER BY pi.position, pi.id",
			 DB_PARAMS(DB_I(c->st.fallback_playlist_id)), &rows);
	if (r < 0)
		return db_fail(c, r, "reading the fallback playlist");
	struct proto_snapshot *s = c->snap;
	while (db_rows_next(rows)) {
		const char *why = media_problem(rows, 1);
		if (why) {
			problem(c, 0, 0, "fallback: file %lld left out: %s",
				(long long)db_col_int(rows, 1), why);
			continue;
		}
		if (s->n_fallback == PROTO_FALLBACK_MAX)
			break;
		s->fallback = xreallocarray(s->fallback, s->n_fallback + 1, sizeof(*s->fallback));
		struct proto_fallback_item *f = &s->fallback[s->n_fallback++];
		memset(f, 0, sizeof(*f));
		read_media(rows, 1, &f->media);
		f->gain_db = item_gain(c, rows, 0, 10, 11);
		f->meta.title = meta_text(db_col_text(rows, 7));
		f->meta.artist = meta_text(db_col_text(rows, 8));
		f->meta.album = meta_text(db_col_text(rows, 9));
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0)
		return db_fail(c, r, "reading the fallback playlist");
	if (s->n_fallback == 0) {
		c->rep->no_fallback = true;
		problem(c, 0, 0, "the fallback playlist has no ready file: gaps play the safety loop");
	}
	return 0;
}

static bool hash_usable(const char *h)
{
	if (!h || strlen(h) > 256 ||
	    (strncmp(h, "$argon2id$", 10) != 0 && strncmp(h, "$argon2i$", 9) != 0))
		return false;
	for (const char *p = h; *p; p++)
		if (*p <= ' ' || *p > '~')
			return false;
	return true;
}

static void add_user(struct compiler *c, struct proto_live_input_cfg *in, const char *name,
		     const char *hash, int64_t from, int64_t until)
{
	if (!name || !*name || strpbrk(name, "\x01\x02\x03\x04\x05\x06\x07\x08\t\n\v\f\r") ||
	    !hash_usable(hash))
		return;
	if (in->n_users == PROTO_LIVE_USERS_MAX) {
		problem(c, 0, 0, "more than %u live accounts: the rest are left out",
			PROTO_LIVE_USERS_MAX);
		return;
	}
	in->users = xreallocarray(in->users, in->n_users + 1, sizeof(*in->users));
	struct proto_live_user *u = &in->users[in->n_users++];
	u->name = meta_text(name);
	u->password_hash = xstrdup(hash);
	u->valid_from = from;
	u->valid_until = until;
}

static int compile_live(struct compiler *c)
{
	struct proto_snapshot *s = c->snap;
	struct db_rows *rows;
	int r = db_query(c->db,
			 "SELECT name, password_hash FROM users WHERE role IN ('admin',"
			 " 'program_manager') AND NOT disabled AND password_hash IS NOT NULL"
			 " ORDER BY name",
			 NULL, 0, &rows);
	if (r < 0)
		return db_fail(c, r, "reading the live accounts");
	while (db_rows_next(rows)) {
		for (int i = 0; i < 2; i++)
			if (s->live[i].enabled)
				add_user(c, &s->live[i], db_col_text(rows, 0), db_col_text(rows, 1),
					 0, 0);
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0)
		return db_fail(c, r, "reading the live accounts");
	if (!s->live[PROTO_LIVE_SHOW].enabled)
		return 0;

	/* Hosts during their shows: 'hosts' lets the show's hosts in, 'any'
	 * every host of the station. */
	r = db_query(c->db,
			 "SELECT u.name, u.password_hash, i.starts_at, i.ends_at"
			 " FROM show_instances i JOIN shows s ON s.id = i.show_id"
			 " JOIN users u ON (s.live_input = 'hosts' AND u.id IN"
			 "  (SELECT h.user_id FROM show_hosts h WHERE h.show_id = s.id))"
			 "  OR (s.live_input = 'any' AND u.role = 'host')"
			 " WHERE i.starts_at < $2 AND i.starts_at > $3 AND i.ends_at > $1"
			 " AND u.role <> 'guest' AND NOT u.disabled AND u.password_hash IS NOT NULL"
			 " ORDER BY i.starts_at, u.name",
			 DB_PARAMS(DB_I(c->o->from), DB_I(c->o->to),
				   DB_I(c->o->from - RECURRENCE_DURATION_MAX - 1)),
			 &rows);
	if (r < 0)
		return db_fail(c, r, "reading the show hosts");
	while (db_rows_next(rows))
		add_user(c, &s->live[PROTO_LIVE_SHOW], db_col_text(rows, 0), db_col_text(rows, 1),
			 db_col_int(rows, 2), db_col_int(rows, 3));
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0)
		return db_fail(c, r, "reading the show hosts");
	return 0;
}

static void add_gap(struct compile_report *rep, int64_t start, int64_t end, int64_t instance)
{
	if (end - start < GAP_MIN_US)
		return;
	rep->gaps = xreallocarray(rep->gaps, rep->n_gaps + 1, sizeof(*rep->gaps));
	rep->gaps[rep->n_gaps++] = (struct compile_gap){ start, end, instance };
}

/* The instances overlapping the window, in start order, for the gaps. */
struct span {
	int64_t id, start, end;
};

static int load_spans(struct compiler *c, struct span **out, size_t *n)
{
	*out = NULL;
	*n = 0;
	struct db_rows *rows;
	int r = db_query(c->db,
			 "SELECT id, starts_at, ends_at FROM show_instances"
			 " WHERE starts_at < $2 AND starts_at > $3 AND ends_at > $1"
			 " ORDER BY starts_at, id",
			 DB_PARAMS(DB_I(c->snap->window_start), DB_I(c->snap->window_end),
				   DB_I(c->snap->window_start - RECURRENCE_DURATION_MAX - 1)),
			 &rows);
	if (r < 0)
		return db_fail(c, r, "reading the show instances");
	size_t cap = 0;
	while (db_rows_next(rows)) {
		if (*n == cap) {
			cap = cap ? cap * 2 : 64;
			*out = xreallocarray(*out, cap, sizeof(**out));
		}
		(*out)[(*n)++] = (struct span){ db_col_int(rows, 0), db_col_int(rows, 1),
						db_col_int(rows, 2) };
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
		return db_fail(c, r, "reading the show instances");
	}
	return 0;
}

/* Report the hole [t, until): split it by the instances that cover parts
 * of it (spans from *next on; spans that end before t are passed). */
static void report_hole(struct compiler *c, const struct span *spans, size_t n, size_t *next,
			int64_t t, int64_t until)
{
	while (*next < n && spans[*next].end <= t)
		(*next)++;
	for (size_t i = *next; i < n && spans[i].start < until; i++) {
		int64_t s = spans[i].start, e = spans[i].end;
		if (e <= t)
			continue;
		if (s > t)
			add_gap(c->rep, t, s, 0);
		if (s < t)
			s = t;
		if (e > until)
			e = until;
		if (e > s)
			add_gap(c->rep, s, e, spans[i].id);
		if (e > t)
			t = e;
	}
	if (t < until)
		add_gap(c->rep, t, until, 0);
}

static int report_gaps(struct compiler *c)
{
	const struct proto_snapshot *s = c->snap;
	struct span *spans;
	size_t n, next = 0;
	int r = load_spans(c, &spans, &n);
	if (r < 0)
		return r;
	int64_t t = s->window_start;
	for (size_t i = 0; i < s->n_items && t < s->window_end; i++) {
		const struct proto_item *it = &s->items[i];
		if (it->start > t + GAP_MIN_US)
			report_hole(c, spans, n, &next, t,
				    it->start < s->window_end ? it->start : s->window_end);
		if (it->end > t)
			t = it->end;
	}
	if (t < s->window_end)
		report_hole(c, spans, n, &next, t, s->window_end);
	free(spans);
	return 0;
}

/* Apply max_items: keep the items that start before the first one left
 * out, and end the window there. */
static void truncate_items(struct compiler *c, size_t max)
{
	struct proto_snapshot *s = c->snap;
	if (s->n_items <= max)
		return;
	size_t keep = max;
	while (keep > 0 && s->items[keep].start <= s->window_start)
		keep--;
	int64_t end = s->items[keep].start;
	if (end <= s->window_start)
		end = s->window_start + 1;
	for (size_t i = keep; i < s->n_items; i++)
		item_free(&s->items[i]);
	s->n_items = keep;
	s->window_end = end;
	c->rep->truncated = true;
}

static int fill_station(struct compiler *c)
{
	struct proto_snapshot *s = c->snap;
	struct playout_settings *p = &c->st.playout;
	s->station_name = xstrdup(*c->st.name ? c->st.name : "onair");
	s->timezone = xstrdup(*c->st.timezone ? c->st.timezone : "UTC");
	s->default_crossfade = c->st.default_crossfade_us;
	s->outputs = p->outputs;
	s->n_outputs = p->n_outputs;
	p->outputs = NULL;
	p->n_outputs = 0;
	s->hls = p->hls;
	for (int i = 0; i < 2; i++) {
		s->live[i] = p->live[i];
		p->live[i].mount = NULL;
	}
	return 0;
}

int compile_snapshot(struct db *db, const struct compile_options *o, struct proto_snapshot *out,
		     struct compile_report *report, char *err, size_t errlen)
{
	struct compile_report own;
	struct compile_report *rep = report ? report : &own;
	memset(out, 0, sizeof(*out));
	memset(rep, 0, sizeof(*rep));
	if (o->to <= o->from) {
		if (err && errlen)
			snprintf(err, errlen, "the window ends before it starts");
		return -EINVAL;
	}
	struct compiler c = { .db = db, .o = o, .snap = out, .rep = rep, .err = err,
			      .errlen = errlen };
	int r = station_settings_load(db, &c.st, err, errlen);
	if (r < 0)
		goto out_release;
	out->revision = o->revision ? o->revision : 1;
	out->generated_at = o->now;
	out->window_start = o->from;
	out->window_end = o->to;
	if ((r = fill_station(&c)) < 0 || (r = compile_items(&c)) < 0 ||
	    (r = compile_fallback(&c)) < 0 || (r = compile_live(&c)) < 0)
		goto out_release;
	truncate_items(&c, o->max_items ? o->max_items : PROTO_ITEMS_MAX);
	if ((r = report_gaps(&c)) < 0)
		goto out_release;
	rep->n_items = out->n_items;
	if (!o->max_items || o->max_items <= PROTO_ITEMS_MAX) {
		struct proto_error perr;
		if (proto_snapshot_validate(out, &perr) < 0) {
			if (err && errlen)
				snprintf(err, errlen, "the compiled snapshot is not valid: %s",
					 perr.text);
			r = -EPROTO;
			goto out_release;
		}
	}
	station_settings_release(&c.st);
	if (!report)
		compile_report_release(&own);
	return 0;

out_release:
	station_settings_release(&c.st);
	proto_snapshot_release(out);
	compile_report_release(rep);
	return r;
}
