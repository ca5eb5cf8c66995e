/*
 * recurrence.h - when a show happens: rules expanded into instances.
 *
 * A struct recurrence mirrors a row of show_recurrences (see
 * src/db/schema_v1.sql.h) with its show_exceptions. recurrence_expand
 * turns it into the concrete instances that start inside a window of
 * UTC instants, jumping straight to the window (the work is proportional
 * to the window, not to its distance from the rule's start date).
 *
 * Dates and times of a rule are local to its time zone: every instance
 * starts at its local date plus start_time there, converted to UTC with
 * tz_local_to_utc (a start in a DST gap moves forward by the gap; one in
 * a repeated hour takes the first occurrence), and lasts duration_us of
 * real time. docs/internals/recurrence.md has the rules and examples.
 *
 *   struct tz *zone;
 *   tz_load(&zone, r.timezone, NULL);
 *   struct recurrence_instances out;
 *   if (recurrence_expand(&r, zone, from, to, &out) == 0) {
 *           for (size_t i = 0; i < out.n; i++)
 *                   use(out.items[i].starts_at, out.items[i].ends_at, out.items[i].instance_date);
 *           recurrence_instances_release(&out);
 *   }
 *   tz_free(zone);
 *
 * Nothing here keeps state: all functions are thread-safe.
 */
#ifndef ONAIR_STATION_RECURRENCE_H
#define ONAIR_STATION_RECURRENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "station/tz.h"

/* Size of a local date "YYYY-MM-DD" with its NUL. */
#define RECURRENCE_DATE_SIZE 11u
/* Size of a local time "HH:MM:SS" with its NUL. */
#define RECURRENCE_TIME_SIZE 9u
/* Largest repeat_every (weeks or months). */
#define RECURRENCE_REPEAT_MAX 1000
/* Longest show: 31 days. */
#define RECURRENCE_DURATION_MAX (INT64_C(31) * 86400 * 1000000)
/* Most instances one recurrence_expand returns. */
#define RECURRENCE_INSTANCES_MAX 100000u

enum recurrence_frequency {
	RECURRENCE_ONCE = 0,		/* "once": start_date only */
	RECURRENCE_WEEKLY,		/* "weekly": on the weekdays, every repeat_every weeks */
	RECURRENCE_MONTHLY_BY_DAY,	/* "monthly_by_day": start_date's day of the month */
	RECURRENCE_MONTHLY_BY_WEEKDAY,	/* "monthly_by_weekday": the week_position-th
					   start_date's weekday of the month */
};

enum recurrence_exception_kind {
	RECURRENCE_CANCELLED = 0,	/* "cancelled": no instance that day */
	RECURRENCE_MOVED,		/* "moved": at moved_starts_at .. moved_ends_at instead */
	RECURRENCE_EDITED,		/* "edited": as usual, but with its own content */
};

/* One row of show_exceptions. */
struct recurrence_exception {
	char instance_date[RECURRENCE_DATE_SIZE];	/* local date the instance would have had */
	enum recurrence_exception_kind kind;
	int64_t moved_starts_at;	/* RECURRENCE_MOVED: UTC us */
	int64_t moved_ends_at;		/* RECURRENCE_MOVED: UTC us, > moved_starts_at */
};

/*
 * One row of show_recurrences. Text columns are copied into the arrays
 * (a value that does not fit is invalid: check snprintf's result);
 * exceptions is borrowed, the caller keeps it alive while using r.
 */
struct recurrence {
	enum recurrence_frequency frequency;
	int repeat_every;		/* 1 .. RECURRENCE_REPEAT_MAX; 1 for once */
	unsigned weekdays;		/* weekly only: bit 0 = Monday .. bit 6 = Sunday; else 0 */
	int week_position;		/* monthly_by_weekday: 1..5 or -1 (last); else 0 (NULL) */
	char start_date[RECURRENCE_DATE_SIZE];	/* "YYYY-MM-DD", local, first possible date */
	char start_time[RECURRENCE_TIME_SIZE];	/* "HH:MM" or "HH:MM:SS", local */
	int64_t duration_us;		/* 1 .. RECURRENCE_DURATION_MAX, real (elapsed) time */
	char timezone[TZ_NAME_MAX + 1];	/* IANA name, "Europe/Berlin" */
	char end_date[RECURRENCE_DATE_SIZE];	/* last local date, inclusive; "" = no end */
	const struct recurrence_exception *exceptions;	/* n_exceptions of them; may be NULL if 0 */
	size_t n_exceptions;
};

/* Flags of an instance. */
enum {
	RECURRENCE_INSTANCE_MOVED = 1 << 0,	/* a "moved" exception placed it */
	RECURRENCE_INSTANCE_EDITED = 1 << 1,	/* an "edited" exception: it has its own content */
	RECURRENCE_INSTANCE_SHIFTED = 1 << 2,	/* start_time did not exist that day (DST gap):
						   it starts later by the length of the gap */
	RECURRENCE_INSTANCE_AMBIGUOUS = 1 << 3,	/* start_time happened twice that day: the
						   first was taken */
};

struct recurrence_instance {
	int64_t starts_at;		/* UTC us */
	int64_t ends_at;		/* UTC us; starts_at + duration_us unless moved */
	char instance_date[RECURRENCE_DATE_SIZE];	/* its local date by the rule
							   (before any move) */
	unsigned flags;			/* RECURRENCE_INSTANCE_* */
};

/* The result of recurrence_expand. */
struct recurrence_instances {
	struct recurrence_instance *items;	/* n of them, by starts_at then instance_date */
	size_t n;
	size_t candidates;	/* steps taken: weeks or months visited, dates looked at;
				   grows with the window's length, not its distance from
				   start_date (tests check this) */
};

/* "YYYY-MM-DD" (years 0001..9999, a real date), NUL-terminated within
 * RECURRENCE_DATE_SIZE bytes, to a day number (days since 1970-01-01):
 * true, or false for anything else. */
bool recurrence_date_parse(const char *s, int64_t *day);
/* Day number to "YYYY-MM-DD", clamped to years 0001..9999. */
void recurrence_date_format(int64_t day, char out[RECURRENCE_DATE_SIZE]);
/* "HH:MM" or "HH:MM:SS" (00:00:00..23:59:59) to its parts: true, or
 * false for anything else. */
bool recurrence_time_parse(const char *s, unsigned *h, unsigned *m, unsigned *sec);

/* "once", "weekly", ... to the enum: 0 or -EINVAL. */
int recurrence_frequency_parse(const char *text, enum recurrence_frequency *out);
/* The schema's text of f ("weekly"); "?" for a value outside the enum. Static. */
const char *recurrence_frequency_name(enum recurrence_frequency f);
/* "cancelled", "moved", "edited" to the enum: 0 or -EINVAL. */
int recurrence_exception_kind_parse(const char *text, enum recurrence_exception_kind *out);
/* The schema's text of k; "?" for a value outside the enum. Static. */
const char *recurrence_exception_kind_name(enum recurrence_exception_kind k);

/*
 * Check r as the API should before storing it: 0, or -EINVAL with a
 * sentence for the user in err (errlen bytes; err may be NULL), such as
 * "a weekly rule needs at least one weekday", "week_position is only for
 * monthly_by_weekday rules", "start_date is not a date (YYYY-MM-DD)",
 * "end_date is before start_date", "unknown time zone 'Europe/Berlinn'",
 * "the rule has no date between start_date and end_date". The time zone
 * is loaded from zoneinfo_dir (NULL: TZ_ZONEINFO_DIR); an error other
 * than "no such zone" while loading it is returned as is (with err set).
 * Exceptions whose date is not one of the rule's are allowed (they are
 * ignored: see recurrence_expand).
 */
int recurrence_validate(const struct recurrence *r, const char *zoneinfo_dir, char *err,
			size_t errlen);

/*
 * The instances of r that start in [from, to) (UTC us) into *out, which
 * the caller releases with recurrence_instances_release. zone is r's
 * time zone (loaded by the caller from r->timezone, so that it can be
 * shared). Exceptions: "cancelled" removes the instance of its date;
 * "moved" puts it at moved_starts_at .. moved_ends_at (it is returned
 * when that start is in the window, wherever its date is); "edited"
 * keeps it and sets RECURRENCE_INSTANCE_EDITED. Exceptions for dates
 * that are not the rule's (left over from an earlier version of it) are
 * ignored. Errors (*out empty): -EINVAL r is not valid (what
 * recurrence_validate checks, except the time zone) or from > to;
 * -E2BIG more than RECURRENCE_INSTANCES_MAX instances.
 */
int recurrence_expand(const struct recurrence *r, const struct tz *zone, int64_t from, int64_t to,
		      struct recurrence_instances *out);

/* Free what recurrence_expand put in *out and empty it. Safe to call twice. */
void recurrence_instances_release(struct recurrence_instances *out);

/*
 * Whether r has an instance on local date ("YYYY-MM-DD"), exceptions
 * not considered (they are not even looked at). false when the date or
 * the rule is not valid.
 */
bool recurrence_occurs_on(const struct recurrence *r, const char *local_date);

/*
 * "This and all following": split r at local date from_local_date into
 * head (copy of r ending the day before) and tail (copy of r starting at
 * its first date on or after from_local_date, so that a rule every N
 * weeks or months keeps its rhythm, and ending when r ends). The caller
 * then changes what the edit changes in tail, stores head over r and
 * tail as a new rule. Both keep r's exceptions pointer: each ignores the
 * exceptions outside its own dates; in the database, move the exceptions
 * dated from_local_date or later to the new rule. head may be r itself.
 * Errors (head and tail untouched): -EINVAL r or the date is not valid;
 * -ERANGE r has no date before from_local_date (edit the whole rule
 * instead); -ENOENT r has no date on or after it (nothing to split off).
 */
int recurrence_split(const struct recurrence *r, const char *from_local_date,
		     struct recurrence *head, struct recurrence *tail);

#include "common/banned.h"
#endif
