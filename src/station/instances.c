/*
 * instances.c - show_instances rows from the shows' rules (see
 * instances.h and docs/internals/scheduling.md).
 *
 * instances_materialise works in phases inside one transaction:
 *
 *  1. rules: each show_recurrences row is expanded over the window
 *     widened by a week on each side (so that the rows found by their
 *     date near the window are matched without a query each), and
 *     matched with its rows by instance_date: a row whose times differ
 *     is updated; one without an occurrence is checked on its own (a
 *     move can take an occurrence far away) and, if it really has none,
 *     set aside as "vanished"; an occurrence in the window without a row
 *     is set aside as "pending". Rows of deleted rules (recurrence_id
 *     NULL, instance_date set) in the window are vanished too.
 *  2. vanished rows: adopted by an occurrence of another rule of the
 *     same show on the same date (a split rule), else deleted if they
 *     have not started.
 *  3. pending occurrences: adopt a row of the same show and date whose
 *     own occurrence is gone (outside the window), else are inserted.
 *  4. rebroadcasts of every original in the window; orphaned future
 *     rebroadcasts in the window are deleted.
 *  5. links of linked shows.
 */
#include "station/instances.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/timeutil.h"
#include "station/placement.h"

#define USEC_PER_DAY (INT64_C(86400) * USEC_PER_SEC)
/* Widening of the window for matching rows with occurrences. */
#define MATCH_DAYS_BEFORE 7
#define MATCH_DAYS_AFTER 5
/* Local dates of occurrences that start in a window lie within these
 * many days of the window's UTC dates (see recurrence.c). */
#define DATE_DAYS_BEFORE 6
#define DATE_DAYS_AFTER 4

struct zone {
	char *name;
	struct tz *tz;	/* NULL when it failed to load */
	int error;
};

struct rule {
	int64_t id, show_id;
	struct recurrence r;	/* exceptions NULL outside process_rule */
	const struct tz *zone;
	bool ok;		/* valid: its rows may be changed */
};

struct rebroadcast {
	int64_t id, show_id;
	int offset_days;
	unsigned hour, minute, second;
	bool ok;
};

/* A row of a rule (or of a deleted rule) as read. */
struct row {
	int64_t id, show_id, recurrence_id;	/* recurrence_id 0 = NULL */
	int64_t starts_at, ends_at;
	char date[RECURRENCE_DATE_SIZE];
	bool matched;
};

/* An occurrence in the window without a row. */
struct pending {
	const struct rule *rule;
	char date[RECURRENCE_DATE_SIZE];
	int64_t starts_at, ends_at;
	bool done;
};

/* An original instance whose rebroadcasts are made. */
struct original {
	int64_t id, show_id, starts_at, ends_at;
	const struct tz *zone;
};

struct ctx {
	struct db *db;
	const char *zoneinfo_dir;
	int64_t from, to, now;
	char dmin[RECURRENCE_DATE_SIZE], dmax[RECURRENCE_DATE_SIZE];	/* dates that can start
									   in the window */
	struct instances_report *rep;
	struct zone *zones;
	size_t n_zones;
	struct rule *rules;
	size_t n_rules;
	struct rebroadcast *rbs;
	size_t n_rbs;
	struct row *vanished;
	size_t n_vanished, cap_vanished;
	struct pending *pending;
	size_t n_pending, cap_pending;
	struct original *originals;
	size_t n_originals, cap_originals;
};

/* Append one element to a growing array of *n elements of size size. */
static void *grow(void *v, size_t *n, size_t *cap, size_t size)
{
	if (*n == *cap) {
		*cap = *cap ? 2 * *cap : 16;
		v = xreallocarray(v, *cap, size);
	}
	(*n)++;
	return v;
}

__attribute__((format(printf, 6, 7))) static void problem(struct ctx *c, int64_t recurrence_id,
							   int64_t rebroadcast_id, int64_t show_id,
							   int error, const char *fmt, ...)
{
	struct instances_report *rep = c->rep;
	if (rep->n_problems == INSTANCES_PROBLEMS_MAX) {
		rep->problems_dropped++;
		return;
	}
	rep->problems = xreallocarray(rep->problems, rep->n_problems + 1, sizeof(*rep->problems));
	struct instances_problem *p = &rep->problems[rep->n_problems++];
	memset(p, 0, sizeof(*p));
	p->recurrence_id = recurrence_id;
	p->rebroadcast_id = rebroadcast_id;
	p->show_id = show_id;
	p->error = error;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(p->reason, sizeof(p->reason), fmt, ap);
	va_end(ap);
}

/* The zone name from the cache, loading it the first time. */
static int zone_get(struct ctx *c, const char *name, const struct tz **out)
{
	for (size_t i = 0; i < c->n_zones; i++) {
		if (strcmp(c->zones[i].name, name) == 0) {
			*out = c->zones[i].tz;
			return c->zones[i].error;
		}
	}
	c->zones = xreallocarray(c->zones, c->n_zones + 1, sizeof(*c->zones));
	struct zone *z = &c->zones[c->n_zones++];
	z->name = xstrdup(name);
	z->tz = NULL;
	z->error = tz_load(&z->tz, name, c->zoneinfo_dir);
	if (z->error < 0)
		z->tz = NULL;
	*out = z->tz;
	return z->error;
}

/* Copy text (may be NULL) into a fixed array: false if it does not fit. */
static bool copy_text(char *dst, size_t size, const char *text)
{
	if (!text)
		text = "";
	size_t n = strlen(text);
	if (n >= size)
		return false;
	memcpy(dst, text, n + 1);
	return true;
}

static int load_rules(struct ctx *c)
{
	struct db_rows *rows;
	int r = db_query(c->db,
			 "SELECT id, show_id, frequency, repeat_every, weekdays, week_position,"
			 " start_date, start_time, duration_us, timezone, end_date"
			 " FROM show_recurrences ORDER BY id",
			 NULL, 0, &rows);
	if (r < 0)
		return r;
	size_t cap = 0;
	while (db_rows_next(rows)) {
		c->rules = grow(c->rules, &c->n_rules, &cap, sizeof(*c->rules));
		struct rule *ru = &c->rules[c->n_rules - 1];
		memset(ru, 0, sizeof(*ru));
		ru->id = db_col_int(rows, 0);
		ru->show_id = db_col_int(rows, 1);
		struct recurrence *rc = &ru->r;
		const char *what = NULL;
		if (recurrence_frequency_parse(db_col_text(rows, 2), &rc->frequency) < 0)
			what = "frequency";
		int64_t every = db_col_int(rows, 3), wd = db_col_int(rows, 4);
		int64_t pos = db_col_is_null(rows, 5) ? 0 : db_col_int(rows, 5);
		rc->repeat_every = every >= 0 && every <= RECURRENCE_REPEAT_MAX ? (int)every : 0;
		rc->weekdays = wd >= 0 && wd < 128 ? (unsigned)wd : 128;
		rc->week_position = pos >= -1 && pos <= 5 ? (int)pos : 6;
		rc->duration_us = db_col_int(rows, 8);
		if (!copy_text(rc->start_date, sizeof(rc->start_date), db_col_text(rows, 6)))
			what = "start_date";
		if (!copy_text(rc->start_time, sizeof(rc->start_time), db_col_text(rows, 7)))
			what = "start_time";
		if (!copy_text(rc->timezone, sizeof(rc->timezone), db_col_text(rows, 9)))
			what = "timezone";
		if (!copy_text(rc->end_date, sizeof(rc->end_date), db_col_text(rows, 10)))
			what = "end_date";
		if (what) {
			problem(c, ru->id, 0, ru->show_id, -EINVAL, "%s is not valid", what);
			continue;
		}
		ru->ok = true;
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0)
		return r;
	/* Zones after the rows are read (no statement open meanwhile). */
	for (size_t i = 0; i < c->n_rules; i++) {
		struct rule *ru = &c->rules[i];
		if (!ru->ok)
			continue;
		r = zone_get(c, ru->r.timezone, &ru->zone);
		if (r == -ENOENT || r == -EINVAL) {
			problem(c, ru->id, 0, ru->show_id, r, "unknown time zone '%.64s'",
				ru->r.timezone);
			ru->ok = false;
		} else if (r < 0) {
			problem(c, ru->id, 0, ru->show_id, r, "cannot load time zone '%.64s': %s",
				ru->r.timezone, onair_strerror(r));
			ru->ok = false;
		}
	}
	return 0;
}

static int load_rebroadcasts(struct ctx *c)
{
	struct db_rows *rows;
	int r = db_query(c->db,
			 "SELECT id, show_id, offset_days, start_time FROM show_rebroadcasts"
			 " ORDER BY id",
			 NULL, 0, &rows);
	if (r < 0)
		return r;
	size_t cap = 0;
	while (db_rows_next(rows)) {
		c->rbs = grow(c->rbs, &c->n_rbs, &cap, sizeof(*c->rbs));
		struct rebroadcast *rb = &c->rbs[c->n_rbs - 1];
		memset(rb, 0, sizeof(*rb));
		rb->id = db_col_int(rows, 0);
		rb->show_id = db_col_int(rows, 1);
		int64_t off = db_col_int(rows, 2);
		const char *t = db_col_text(rows, 3);
		if (off < 0 || off > 365) {
			problem(c, 0, rb->id, rb->show_id, -EINVAL,
				"offset_days must be between 0 and 365");
		} else if (!t || !recurrence_time_parse(t, &rb->hour, &rb->minute, &rb->second)) {
			problem(c, 0, rb->id, rb->show_id, -EINVAL,
				"start_time is not a time of day (HH:MM or HH:MM:SS)");
		} else {
			rb->offset_days = (int)off;
			rb->ok = true;
		}
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	return r;
}

static const struct rule *rule_by_id(const struct ctx *c, int64_t id)
{
	for (size_t i = 0; i < c->n_rules; i++)
		if (c->rules[i].id == id)
			return &c->rules[i];
	return NULL;
}

static void add_original(struct ctx *c, int64_t id, int64_t show_id, int64_t starts_at,
			 int64_t ends_at, const struct tz *zone)
{
	c->originals = grow(c->originals, &c->n_originals, &c->cap_originals,
			    sizeof(*c->originals));
	c->originals[c->n_originals - 1] = (struct original){ id, show_id, starts_at, ends_at,
							      zone };
}

/*
 * Whether rule has an occurrence dated date (a local "YYYY-MM-DD"), with
 * its exception if any, and its times.
 */
static int occurrence_on(struct ctx *c, const struct rule *ru, const char *date, bool *exists,
			 int64_t *starts_at, int64_t *ends_at)
{
	*exists = false;
	int64_t day;
	if (!recurrence_date_parse(date, &day) || !recurrence_occurs_on(&ru->r, date))
		return 0;
	struct db_rows *rows;
	int r = db_query(c->db,
			 "SELECT kind, moved_starts_at, moved_ends_at FROM show_exceptions"
			 " WHERE recurrence_id = $1 AND instance_date = $2",
			 DB_PARAMS(DB_I(ru->id), DB_T(date)), &rows);
	if (r < 0)
		return r;
	enum recurrence_exception_kind kind = RECURRENCE_EDITED;
	bool has = db_rows_next(rows);
	int64_t ms = 0, me = 0;
	if (has) {
		if (recurrence_exception_kind_parse(db_col_text(rows, 0), &kind) < 0)
			has = false;
		ms = db_col_int(rows, 1);
		me = db_col_int(rows, 2);
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0)
		return r;
	if (has && kind == RECURRENCE_CANCELLED)
		return 0;
	if (has && kind == RECURRENCE_MOVED && me > ms) {
		*exists = true;
		*starts_at = ms;
		*ends_at = me;
		return 0;
	}
	/* Its regular times: expand the days around it, without exceptions. */
	struct recurrence plain = ru->r;
	plain.exceptions = NULL;
	plain.n_exceptions = 0;
	struct recurrence_instances out = { 0 };
	int64_t mid = day * USEC_PER_DAY;
	r = recurrence_expand(&plain, ru->zone, mid - 3 * USEC_PER_DAY, mid + 4 * USEC_PER_DAY,
			      &out);
	if (r < 0)
		return 0;
	for (size_t i = 0; i < out.n; i++) {
		if (strcmp(out.items[i].instance_date, date) == 0) {
			*exists = true;
			*starts_at = out.items[i].starts_at;
			*ends_at = out.items[i].ends_at;
		}
	}
	recurrence_instances_release(&out);
	return 0;
}

/* Give row id the rule, date and times, increase its version and retime
 * its items. */
static int update_row(struct ctx *c, int64_t id, int64_t recurrence_id, const char *date,
		      int64_t starts_at, int64_t ends_at)
{
	int r = db_exec(c->db,
			"UPDATE show_instances SET recurrence_id = $2, instance_date = $3,"
			" starts_at = $4, ends_at = $5, version = version + 1, updated_at = $6"
			" WHERE id = $1",
			DB_PARAMS(DB_I(id), DB_I(recurrence_id), DB_T(date), DB_I(starts_at),
				  DB_I(ends_at), DB_I(c->now)));
	if (r < 0)
		return r;
	c->rep->updated++;
	return placement_retime(c->db, id);
}

/* Delete row id with its items. */
static int delete_row(struct ctx *c, int64_t id)
{
	int64_t items = 0;
	int r = db_query_int(c->db, "SELECT COUNT(*) FROM schedule_items WHERE instance_id = $1",
			     DB_PARAMS(DB_I(id)), &items);
	if (r < 0)
		return r;
	r = db_exec(c->db, "DELETE FROM show_instances WHERE id = $1", DB_PARAMS(DB_I(id)));
	if (r < 0)
		return r;
	if (r > 0) {
		c->rep->deleted++;
		c->rep->deleted_items += (size_t)items;
	}
	return 0;
}

/* Delete (delete_row) every show instance whose id sql selects. */
static int delete_selected(struct ctx *c, const char *sql, const struct db_param *params,
			   size_t np)
{
	struct db_rows *rows;
	int r = db_query(c->db, sql, params, np, &rows);
	if (r < 0)
		return r;
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	while (db_rows_next(rows)) {
		ids = grow(ids, &n, &cap, sizeof(*ids));
		ids[n - 1] = db_col_int(rows, 0);
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	for (size_t i = 0; r == 0 && i < n; i++)
		r = delete_row(c, ids[i]);
	free(ids);
	return r;
}

/* Delete the rebroadcasts of original id that have not started, then
 * the original. */
static int delete_original(struct ctx *c, int64_t id)
{
	int r = delete_selected(c,
				"SELECT id FROM show_instances"
				" WHERE rebroadcast_of = $1 AND starts_at > $2 ORDER BY id",
				DB_PARAMS(DB_I(id), DB_I(c->now)));
	if (r < 0)
		return r;
	return delete_row(c, id);
}

static int date_cmp(const void *a, const void *b)
{
	const struct recurrence_instance *x = a, *y = b;
	return strcmp(x->instance_date, y->instance_date);
}

static int load_exceptions(struct ctx *c, const struct rule *ru, int64_t from, int64_t to,
			   const char *dmin, const char *dmax, struct recurrence_exception **out,
			   size_t *n)
{
	struct db_rows *rows;
	int r = db_query(c->db,
			 "SELECT instance_date, kind, moved_starts_at, moved_ends_at"
			 " FROM show_exceptions WHERE recurrence_id = $1"
			 " AND ((instance_date >= $2 AND instance_date <= $3)"
			 " OR (kind = 'moved' AND moved_starts_at >= $4 AND moved_starts_at < $5))"
			 " ORDER BY instance_date",
			 DB_PARAMS(DB_I(ru->id), DB_T(dmin), DB_T(dmax), DB_I(from), DB_I(to)),
			 &rows);
	if (r < 0)
		return r;
	size_t cap = 0;
	while (db_rows_next(rows)) {
		struct recurrence_exception e = { 0 };
		if (!copy_text(e.instance_date, sizeof(e.instance_date), db_col_text(rows, 0)) ||
		    recurrence_exception_kind_parse(db_col_text(rows, 1), &e.kind) < 0)
			continue;
		e.moved_starts_at = db_col_int(rows, 2);
		e.moved_ends_at = db_col_int(rows, 3);
		*out = grow(*out, n, &cap, sizeof(**out));
		(*out)[*n - 1] = e;
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	return r;
}

static int load_rows(struct ctx *c, const struct rule *ru, struct row **out, size_t *n)
{
	struct db_rows *rows;
	int r = db_query(c->db,
			 "SELECT id, show_id, starts_at, ends_at, instance_date FROM show_instances"
			 " WHERE recurrence_id = $1 AND ((starts_at >= $2 AND starts_at < $3)"
			 " OR (instance_date >= $4 AND instance_date <= $5))",
			 DB_PARAMS(DB_I(ru->id), DB_I(c->from), DB_I(c->to), DB_T(c->dmin),
				   DB_T(c->dmax)),
			 &rows);
	if (r < 0)
		return r;
	size_t cap = 0;
	while (db_rows_next(rows)) {
		struct row w = {
			.id = db_col_int(rows, 0),
			.show_id = db_col_int(rows, 1),
			.recurrence_id = ru->id,
			.starts_at = db_col_int(rows, 2),
			.ends_at = db_col_int(rows, 3),
		};
		if (!copy_text(w.date, sizeof(w.date), db_col_text(rows, 4)))
			w.date[0] = '\0';
		*out = grow(*out, n, &cap, sizeof(**out));
		(*out)[*n - 1] = w;
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	return r;
}

/* Bring row w in step with occurrence times (if it has not started). */
static int sync_row(struct ctx *c, const struct rule *ru, struct row *w, int64_t starts_at,
		    int64_t ends_at)
{
	if (w->starts_at == starts_at && w->ends_at == ends_at)
		return 0;
	if (w->starts_at <= c->now)
		return 0;
	int r = update_row(c, w->id, ru->id, w->date, starts_at, ends_at);
	if (r == 0) {
		w->starts_at = starts_at;
		w->ends_at = ends_at;
	}
	return r;
}

/* Phase 1 for one rule. */
static int process_rule(struct ctx *c, struct rule *ru)
{
	int64_t wfrom = c->from - MATCH_DAYS_BEFORE * USEC_PER_DAY;
	int64_t wto = c->to + MATCH_DAYS_AFTER * USEC_PER_DAY;
	if (wfrom < TIME_MIN_US)
		wfrom = TIME_MIN_US;
	if (wto > TIME_MAX_US)
		wto = TIME_MAX_US;
	char emin[RECURRENCE_DATE_SIZE], emax[RECURRENCE_DATE_SIZE];
	recurrence_date_format(time_floor_div(wfrom, USEC_PER_DAY) - DATE_DAYS_BEFORE, emin);
	recurrence_date_format(time_floor_div(wto, USEC_PER_DAY) + DATE_DAYS_AFTER, emax);

	struct recurrence_exception *exc = NULL;
	size_t n_exc = 0;
	struct row *rows = NULL;
	size_t n_rows = 0;
	bool *used = NULL;
	struct recurrence_instances occ = { 0 };
	int r = load_exceptions(c, ru, wfrom, wto, emin, emax, &exc, &n_exc);
	if (r < 0)
		goto out_free;
	ru->r.exceptions = exc;
	ru->r.n_exceptions = n_exc;
	r = recurrence_expand(&ru->r, ru->zone, wfrom, wto, &occ);
	if (r < 0) {
		char reason[256] = "";
		if (r == -E2BIG)
			snprintf(reason, sizeof(reason),
				 "the rule has more than %u instances around the window",
				 RECURRENCE_INSTANCES_MAX);
		else if (recurrence_validate(&ru->r, c->zoneinfo_dir, reason, sizeof(reason)) == 0)
			snprintf(reason, sizeof(reason), "the rule cannot be expanded: %s",
				 onair_strerror(r));
		problem(c, ru->id, 0, ru->show_id, r, "%s", reason);
		ru->ok = false;
		r = 0;
		goto out_free;
	}
	if (occ.n > 1)
		qsort(occ.items, occ.n, sizeof(*occ.items), date_cmp);
	used = xcalloc(occ.n ? occ.n : 1, sizeof(*used));

	r = load_rows(c, ru, &rows, &n_rows);
	if (r < 0)
		goto out_free;
	for (size_t i = 0; r == 0 && i < n_rows; i++) {
		struct row *w = &rows[i];
		struct recurrence_instance key = { 0 };
		memcpy(key.instance_date, w->date, sizeof(key.instance_date));
		struct recurrence_instance *o =
			occ.n ? bsearch(&key, occ.items, occ.n, sizeof(*occ.items), date_cmp)
			      : NULL;
		if (o) {
			used[o - occ.items] = true;
			r = sync_row(c, ru, w, o->starts_at, o->ends_at);
			if (r == 0 && o->starts_at >= c->from && o->starts_at < c->to)
				add_original(c, w->id, w->show_id, w->starts_at, w->ends_at,
					     ru->zone);
			continue;
		}
		bool exists;
		int64_t s, e;
		r = occurrence_on(c, ru, w->date, &exists, &s, &e);
		if (r < 0)
			break;
		if (exists) {
			r = sync_row(c, ru, w, s, e);
		} else {
			c->vanished = grow(c->vanished, &c->n_vanished, &c->cap_vanished,
					   sizeof(*c->vanished));
			c->vanished[c->n_vanished - 1] = *w;
		}
	}
	if (r < 0)
		goto out_free;

	for (size_t i = 0; i < occ.n; i++) {
		const struct recurrence_instance *o = &occ.items[i];
		if (used[i] || o->starts_at < c->from || o->starts_at >= c->to)
			continue;
		if (strcmp(o->instance_date, c->dmin) < 0 ||
		    strcmp(o->instance_date, c->dmax) > 0) {
			/* Moved here from afar: its row was not among those read. */
			struct db_rows *q;
			r = db_query(c->db,
				     "SELECT id, show_id, starts_at, ends_at FROM show_instances"
				     " WHERE recurrence_id = $1 AND instance_date = $2",
				     DB_PARAMS(DB_I(ru->id), DB_T(o->instance_date)), &q);
			if (r < 0)
				goto out_free;
			struct row w = { .recurrence_id = ru->id };
			bool found = db_rows_next(q);
			if (found) {
				w.id = db_col_int(q, 0);
				w.show_id = db_col_int(q, 1);
				w.starts_at = db_col_int(q, 2);
				w.ends_at = db_col_int(q, 3);
				memcpy(w.date, o->instance_date, sizeof(w.date));
			}
			r = db_rows_error(q);
			db_rows_free(q);
			if (r == 0 && found) {
				r = sync_row(c, ru, &w, o->starts_at, o->ends_at);
				add_original(c, w.id, w.show_id, w.starts_at, w.ends_at, ru->zone);
			}
			if (r < 0)
				goto out_free;
			if (found)
				continue;
		}
		c->pending = grow(c->pending, &c->n_pending, &c->cap_pending, sizeof(*c->pending));
		struct pending *p = &c->pending[c->n_pending - 1];
		memset(p, 0, sizeof(*p));
		p->rule = ru;
		memcpy(p->date, o->instance_date, sizeof(p->date));
		p->starts_at = o->starts_at;
		p->ends_at = o->ends_at;
	}
out_free:
	ru->r.exceptions = NULL;
	ru->r.n_exceptions = 0;
	recurrence_instances_release(&occ);
	free(used);
	free(rows);
	free(exc);
	return r;
}

/* Rows of deleted rules (recurrence_id NULL, a date, not a rebroadcast)
 * that start in the window: vanished. */
static int load_orphans(struct ctx *c)
{
	struct db_rows *rows;
	int r = db_query(c->db,
			 "SELECT id, show_id, starts_at, ends_at, instance_date FROM show_instances"
			 " WHERE recurrence_id IS NULL AND rebroadcast_rule_id IS NULL"
			 " AND instance_date IS NOT NULL AND starts_at >= $1 AND starts_at < $2",
			 DB_PARAMS(DB_I(c->from), DB_I(c->to)), &rows);
	if (r < 0)
		return r;
	while (db_rows_next(rows)) {
		struct row w = {
			.id = db_col_int(rows, 0),
			.show_id = db_col_int(rows, 1),
			.starts_at = db_col_int(rows, 2),
			.ends_at = db_col_int(rows, 3),
		};
		if (!copy_text(w.date, sizeof(w.date), db_col_text(rows, 4)))
			continue;
		c->vanished = grow(c->vanished, &c->n_vanished, &c->cap_vanished,
				   sizeof(*c->vanished));
		c->vanished[c->n_vanished - 1] = w;
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	return r;
}

/* Whether rule ru already has a row dated date. */
static int has_row(struct ctx *c, const struct rule *ru, const char *date, bool *out)
{
	int64_t id;
	int r = db_query_int(c->db,
			     "SELECT id FROM show_instances WHERE recurrence_id = $1"
			     " AND instance_date = $2",
			     DB_PARAMS(DB_I(ru->id), DB_T(date)), &id);
	*out = r == 0;
	return r == -ENOENT ? 0 : r;
}

/* Phase 2: each vanished row is adopted by another rule of its show
 * with an occurrence on its date, or deleted if it has not started. */
static int settle_vanished(struct ctx *c)
{
	for (size_t i = 0; i < c->n_vanished; i++) {
		struct row *v = &c->vanished[i];
		bool adopted = false;
		for (size_t k = 0; k < c->n_pending && !adopted; k++) {
			struct pending *p = &c->pending[k];
			if (p->done || p->rule->show_id != v->show_id ||
			    strcmp(p->date, v->date) != 0)
				continue;
			p->done = true;
			adopted = true;
			int r = 0;
			if (v->starts_at > c->now) {
				r = update_row(c, v->id, p->rule->id, p->date, p->starts_at,
					       p->ends_at);
				add_original(c, v->id, v->show_id, p->starts_at, p->ends_at,
					     p->rule->zone);
			} else {
				add_original(c, v->id, v->show_id, v->starts_at, v->ends_at,
					     p->rule->zone);
			}
			if (r < 0)
				return r;
		}
		for (size_t k = 0; k < c->n_rules && !adopted; k++) {
			const struct rule *ru = &c->rules[k];
			if (!ru->ok || ru->show_id != v->show_id || ru->id == v->recurrence_id)
				continue;
			bool exists, taken = false;
			int64_t s, e;
			int r = occurrence_on(c, ru, v->date, &exists, &s, &e);
			if (r == 0 && exists)
				r = has_row(c, ru, v->date, &taken);
			if (r < 0)
				return r;
			if (!exists || taken)
				continue;
			adopted = true;
			if (v->starts_at > c->now) {
				r = update_row(c, v->id, ru->id, v->date, s, e);
				if (r < 0)
					return r;
			}
		}
		if (!adopted && v->starts_at > c->now) {
			int r = delete_original(c, v->id);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* Phase 3: insert the pending occurrences, unless a row of the show for
 * the date whose occurrence is gone can be adopted. */
static int settle_pending(struct ctx *c)
{
	for (size_t i = 0; i < c->n_pending; i++) {
		struct pending *p = &c->pending[i];
		if (p->done)
			continue;
		const struct rule *ru = p->rule;
		struct db_rows *rows;
		int r = db_query(c->db,
				 "SELECT id, recurrence_id, starts_at, ends_at FROM show_instances"
				 " WHERE show_id = $1 AND instance_date = $2"
				 " AND rebroadcast_rule_id IS NULL"
				 " AND (recurrence_id IS NULL OR recurrence_id <> $3) ORDER BY id",
				 DB_PARAMS(DB_I(ru->show_id), DB_T(p->date), DB_I(ru->id)), &rows);
		if (r < 0)
			return r;
		struct row *cand = NULL;
		size_t n = 0, cap = 0;
		while (db_rows_next(rows)) {
			cand = grow(cand, &n, &cap, sizeof(*cand));
			cand[n - 1] = (struct row){
				.id = db_col_int(rows, 0),
				.recurrence_id = db_col_is_null(rows, 1) ? 0 : db_col_int(rows, 1),
				.starts_at = db_col_int(rows, 2),
				.ends_at = db_col_int(rows, 3),
			};
		}
		r = db_rows_error(rows);
		db_rows_free(rows);
		const struct row *adopt = NULL;
		for (size_t k = 0; r == 0 && k < n && !adopt; k++) {
			if (cand[k].recurrence_id == 0) {
				adopt = &cand[k];
				continue;
			}
			const struct rule *other = rule_by_id(c, cand[k].recurrence_id);
			if (!other || !other->ok)
				continue;
			bool exists;
			int64_t s, e;
			r = occurrence_on(c, other, p->date, &exists, &s, &e);
			if (r == 0 && !exists)
				adopt = &cand[k];
		}
		if (r == 0 && adopt && adopt->starts_at > c->now) {
			r = update_row(c, adopt->id, ru->id, p->date, p->starts_at, p->ends_at);
			add_original(c, adopt->id, ru->show_id, p->starts_at, p->ends_at, ru->zone);
		} else if (r == 0 && adopt) {
			add_original(c, adopt->id, ru->show_id, adopt->starts_at, adopt->ends_at,
				     ru->zone);
		} else if (r == 0) {
			int64_t id;
			r = db_query_int(c->db,
					 "INSERT INTO show_instances (show_id, recurrence_id,"
					 " instance_date, starts_at, ends_at, created_at,"
					 " updated_at)"
					 " VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
					 DB_PARAMS(DB_I(ru->show_id), DB_I(ru->id), DB_T(p->date),
						   DB_I(p->starts_at), DB_I(p->ends_at),
						   DB_I(c->now)),
					 &id);
			if (r == 0) {
				c->rep->created++;
				add_original(c, id, ru->show_id, p->starts_at, p->ends_at,
					     ru->zone);
			}
		}
		free(cand);
		if (r < 0)
			return r;
		p->done = true;
	}
	return 0;
}

/* The times of rebroadcast rb of original o. false if out of range. */
static bool rebroadcast_times(struct ctx *c, const struct rebroadcast *rb,
			      const struct original *o, int64_t *starts_at, int64_t *ends_at)
{
	struct tz_local lt;
	if (tz_utc_to_local(o->zone, o->starts_at, &lt) < 0)
		return false;
	int64_t day = time_days_from_civil(lt.year, lt.month, lt.day) + rb->offset_days;
	struct tz_local at = { 0 };
	time_civil_from_days(day, &at.year, &at.month, &at.day);
	at.hour = rb->hour;
	at.minute = rb->minute;
	at.second = rb->second;
	if (tz_local_to_utc(o->zone, &at, TZ_RESOLVE_EARLIER, starts_at, NULL) < 0)
		return false;
	int64_t len = o->ends_at - o->starts_at;
	if (*starts_at > TIME_MAX_US - len)
		return false;
	*ends_at = *starts_at + len;
	return true;
}

/* Make or update the rebroadcast rb of original o. */
static int sync_rebroadcast(struct ctx *c, const struct rebroadcast *rb, const struct original *o)
{
	int64_t s, e;
	if (!rebroadcast_times(c, rb, o, &s, &e)) {
		problem(c, 0, rb->id, rb->show_id, -ERANGE,
			"the rebroadcast of instance %" PRId64 " is out of range", o->id);
		return 0;
	}
	struct db_rows *rows;
	int r = db_query(c->db,
			 "SELECT id, starts_at, ends_at FROM show_instances"
			 " WHERE rebroadcast_rule_id = $1 AND rebroadcast_of = $2",
			 DB_PARAMS(DB_I(rb->id), DB_I(o->id)), &rows);
	if (r < 0)
		return r;
	bool found = db_rows_next(rows);
	int64_t id = found ? db_col_int(rows, 0) : 0;
	int64_t old_start = found ? db_col_int(rows, 1) : 0;
	int64_t old_end = found ? db_col_int(rows, 2) : 0;
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0)
		return r;
	if (!found) {
		r = db_query_int(c->db,
				 "INSERT INTO show_instances (show_id, starts_at, ends_at,"
				 " rebroadcast_of, rebroadcast_rule_id, created_at, updated_at)"
				 " VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
				 DB_PARAMS(DB_I(o->show_id), DB_I(s), DB_I(e), DB_I(o->id),
					   DB_I(rb->id), DB_I(c->now)),
				 &id);
		if (r == 0)
			c->rep->created++;
		return r;
	}
	if ((old_start == s && old_end == e) || old_start <= c->now)
		return 0;
	r = db_exec(c->db,
		    "UPDATE show_instances SET starts_at = $2, ends_at = $3,"
		    " version = version + 1, updated_at = $4 WHERE id = $1",
		    DB_PARAMS(DB_I(id), DB_I(s), DB_I(e), DB_I(c->now)));
	if (r < 0)
		return r;
	c->rep->updated++;
	return placement_retime(c->db, id);
}

/* Phase 4. */
static int make_rebroadcasts(struct ctx *c)
{
	for (size_t i = 0; i < c->n_originals; i++) {
		const struct original *o = &c->originals[i];
		for (size_t k = 0; k < c->n_rbs; k++) {
			const struct rebroadcast *rb = &c->rbs[k];
			if (!rb->ok || rb->show_id != o->show_id)
				continue;
			int r = sync_rebroadcast(c, rb, o);
			if (r < 0)
				return r;
		}
	}
	/* Rebroadcasts whose original was deleted elsewhere. */
	return delete_selected(c,
			       "SELECT id FROM show_instances WHERE rebroadcast_rule_id IS NOT NULL"
			       " AND rebroadcast_of IS NULL AND starts_at >= $1 AND starts_at < $2"
			       " AND starts_at > $3 ORDER BY id",
			       DB_PARAMS(DB_I(c->from), DB_I(c->to), DB_I(c->now)));
}

/* Phase 5. */
static int link_shows(struct ctx *c)
{
	int r = db_exec(c->db,
			"UPDATE show_instances SET linked_to = NULL, version = version + 1,"
			" updated_at = $1 WHERE linked_to IS NOT NULL AND starts_at > $1"
			" AND show_id IN (SELECT id FROM shows WHERE NOT linked)",
			DB_PARAMS(DB_I(c->now)));
	if (r < 0)
		return r;
	c->rep->relinked += (size_t)r;
	struct db_rows *rows;
	r = db_query(c->db, "SELECT id FROM shows WHERE linked ORDER BY id", NULL, 0, &rows);
	if (r < 0)
		return r;
	int64_t *shows = NULL;
	size_t n = 0, cap = 0;
	while (db_rows_next(rows)) {
		shows = grow(shows, &n, &cap, sizeof(*shows));
		shows[n - 1] = db_col_int(rows, 0);
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	for (size_t i = 0; r == 0 && i < n; i++) {
		int64_t root;
		r = db_query_int(c->db,
				 "SELECT id FROM show_instances WHERE show_id = $1"
				 " AND rebroadcast_rule_id IS NULL ORDER BY starts_at, id LIMIT 1",
				 DB_PARAMS(DB_I(shows[i])), &root);
		if (r == -ENOENT) {
			r = 0;
			continue;
		}
		if (r < 0)
			break;
		r = db_exec(c->db,
			    "UPDATE show_instances SET linked_to = NULL, version = version + 1,"
			    " updated_at = $2 WHERE id = $1 AND linked_to IS NOT NULL"
			    " AND starts_at > $2",
			    DB_PARAMS(DB_I(root), DB_I(c->now)));
		if (r < 0)
			break;
		c->rep->relinked += (size_t)r;
		r = db_exec(c->db,
			    "UPDATE show_instances SET linked_to = $2, version = version + 1,"
			    " updated_at = $3 WHERE show_id = $1 AND rebroadcast_rule_id IS NULL"
			    " AND id <> $2 AND starts_at > $3"
			    " AND (linked_to IS NULL OR linked_to <> $2)",
			    DB_PARAMS(DB_I(shows[i]), DB_I(root), DB_I(c->now)));
		if (r < 0)
			break;
		c->rep->relinked += (size_t)r;
		r = 0;
	}
	free(shows);
	return r;
}

static void ctx_release(struct ctx *c)
{
	for (size_t i = 0; i < c->n_zones; i++) {
		free(c->zones[i].name);
		tz_free(c->zones[i].tz);
	}
	free(c->zones);
	free(c->rules);
	free(c->rbs);
	free(c->vanished);
	free(c->pending);
	free(c->originals);
}

int instances_materialise(struct db *db, int64_t from, int64_t to, int64_t now,
			  const char *zoneinfo_dir, struct instances_report *report)
{
	memset(report, 0, sizeof(*report));
	if (from > to || from < TIME_MIN_US || to > TIME_MAX_US)
		return -EINVAL;
	struct ctx c = {
		.db = db,
		.zoneinfo_dir = zoneinfo_dir,
		.from = from,
		.to = to,
		.now = now,
		.rep = report,
	};
	recurrence_date_format(time_floor_div(from, USEC_PER_DAY) - DATE_DAYS_BEFORE, c.dmin);
	recurrence_date_format(time_floor_div(to, USEC_PER_DAY) + DATE_DAYS_AFTER, c.dmax);
	int r = db_begin(db);
	if (r < 0)
		goto out_release;
	r = load_rules(&c);
	if (r == 0)
		r = load_rebroadcasts(&c);
	for (size_t i = 0; r == 0 && i < c.n_rules; i++)
		if (c.rules[i].ok)
			r = process_rule(&c, &c.rules[i]);
	if (r == 0)
		r = load_orphans(&c);
	if (r == 0)
		r = settle_vanished(&c);
	if (r == 0)
		r = settle_pending(&c);
	if (r == 0)
		r = make_rebroadcasts(&c);
	if (r == 0)
		r = link_shows(&c);
	if (r == 0)
		r = db_commit(db);
	if (r < 0)
		db_rollback(db);
out_release:
	ctx_release(&c);
	if (r < 0)
		instances_report_release(report);
	return r;
}

void instances_report_release(struct instances_report *report)
{
	free(report->problems);
	memset(report, 0, sizeof(*report));
}

int instances_list(struct db *db, int64_t from, int64_t to, struct instance_rows *out)
{
	memset(out, 0, sizeof(*out));
	if (from > to || from < TIME_MIN_US || to > TIME_MAX_US)
		return -EINVAL;
	struct db_rows *rows;
	int r = db_query(db,
			 "SELECT i.id, i.show_id, i.starts_at, i.ends_at, i.linked_to,"
			 " i.rebroadcast_of, i.rebroadcast_rule_id, i.recurrence_id,"
			 " i.instance_date, i.version, s.name"
			 " FROM show_instances i JOIN shows s ON s.id = i.show_id"
			 " WHERE i.starts_at < $2 AND i.starts_at >= $3 AND i.ends_at > $1"
			 " ORDER BY i.starts_at, i.id",
			 DB_PARAMS(DB_I(from), DB_I(to), DB_I(from - INSTANCES_LENGTH_MAX)), &rows);
	if (r < 0)
		return r;
	size_t cap = 0;
	while (db_rows_next(rows)) {
		if (out->n == INSTANCES_LIST_MAX) {
			r = -E2BIG;
			break;
		}
		out->items = grow(out->items, &out->n, &cap, sizeof(*out->items));
		struct instance_row *it = &out->items[out->n - 1];
		memset(it, 0, sizeof(*it));
		it->id = db_col_int(rows, 0);
		it->show_id = db_col_int(rows, 1);
		it->starts_at = db_col_int(rows, 2);
		it->ends_at = db_col_int(rows, 3);
		it->linked_to = db_col_int(rows, 4);
		it->rebroadcast_of = db_col_int(rows, 5);
		it->rebroadcast_rule_id = db_col_int(rows, 6);
		it->recurrence_id = db_col_int(rows, 7);
		if (!copy_text(it->instance_date, sizeof(it->instance_date), db_col_text(rows, 8)))
			it->instance_date[0] = '\0';
		it->version = db_col_int(rows, 9);
		const char *name = db_col_text(rows, 10);
		it->show_name = xstrdup(name ? name : "");
	}
	if (r == 0)
		r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0)
		instance_rows_release(out);
	return r;
}

void instance_rows_release(struct instance_rows *out)
{
	for (size_t i = 0; i < out->n; i++)
		free(out->items[i].show_name);
	free(out->items);
	memset(out, 0, sizeof(*out));
}
