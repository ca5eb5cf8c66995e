/*
 * instances.h - show instances made concrete in the database.
 *
 * The rules of a show (show_recurrences with their show_exceptions, and
 * show_rebroadcasts; src/db/schema_v1.sql.h, schema_v2.sql.h) say when
 * it happens; instances_materialise writes the show_instances rows that
 * the rules give for a window of time, and keeps them in step when the
 * rules change, without losing what was placed in them.
 * instances_list reads them back for the schedule builder and the API.
 *
 *   struct instances_report rep;
 *   r = instances_materialise(db, from, from + 14 * day, time_now_us(), NULL, &rep);
 *   if (r == 0) {
 *           log rep.created, rep.updated, rep.deleted; each rep.problems[i].reason
 *           instances_report_release(&rep);
 *   } else if (r == -EBUSY) ... retry
 *
 * docs/internals/scheduling.md ("Instances") has the rules and examples.
 *
 * Threads: a struct db is used by one thread at a time. Two connections
 * may materialise at once: on SQLite the transactions queue; on
 * PostgreSQL one may fail on the unique indexes (-EEXIST) or with
 * -EBUSY: run it again.
 */
#ifndef ONAIR_STATION_INSTANCES_H
#define ONAIR_STATION_INSTANCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"
#include "station/recurrence.h"

/* Most problems one report lists (the others are only counted). */
#define INSTANCES_PROBLEMS_MAX 1000u
/* Most rows instances_list returns. */
#define INSTANCES_LIST_MAX 100000u
/* Longest instance instances_list is sure to find when it starts before
 * the window: the longest show a rule makes. */
#define INSTANCES_LENGTH_MAX RECURRENCE_DURATION_MAX

/* A rule that was skipped. */
struct instances_problem {
	int64_t recurrence_id;	/* the show_recurrences row, or 0 */
	int64_t rebroadcast_id;	/* the show_rebroadcasts row, or 0 */
	int64_t show_id;
	int error;		/* negative errno: -EINVAL (not valid), -ENOENT (unknown
				   time zone), -E2BIG (too many instances), ... */
	char reason[256];	/* a sentence: "a weekly rule needs at least one weekday" */
};

/* What instances_materialise did. */
struct instances_report {
	size_t created;		/* rows inserted (instances and rebroadcasts) */
	size_t updated;		/* rows whose times or rule changed */
	size_t deleted;		/* rows deleted (their occurrence is gone) */
	size_t deleted_items;	/* schedule_items deleted with them */
	size_t relinked;	/* rows whose linked_to changed */
	struct instances_problem *problems;	/* n_problems of them; owned */
	size_t n_problems;
	size_t problems_dropped;	/* problems beyond INSTANCES_PROBLEMS_MAX */
};

/*
 * Make the show_instances rows of every show for the instants [from,
 * to): one per instance that recurrence_expand gives for each
 * show_recurrences row (with its show_exceptions), that is, per
 * occurrence that starts in the window, plus the rebroadcasts of each
 * such original (show_rebroadcasts: offset_days after the original's
 * local date, at start_time local to the original's rule's time zone,
 * the original's length; rebroadcast_of = the original's row,
 * rebroadcast_rule_id = the rule).
 *
 * Idempotent: a row is keyed by (recurrence_id, instance_date), a
 * rebroadcast by (rebroadcast_rule_id, rebroadcast_of); an existing row
 * is updated only when its times changed (a moved exception, an edited
 * rule), its version increased and its items retimed
 * (placement_retime). A row whose occurrence no longer exists (a
 * cancelled exception, a rule edited, shortened or deleted) is deleted
 * with its items (and its rebroadcasts) if it has not started yet
 * (starts_at > now) — unless another rule of the same show now has an
 * occurrence on its date with no row, as after "this and all following"
 * (recurrence_split): then that rule adopts the row, which keeps its
 * items. Rows that have started (starts_at <= now) are never changed or
 * deleted; an occurrence that starts at or before now is not created
 * when the show already has a started row for its date.
 *
 * Linked shows (shows.linked): the show's earliest instance that is not
 * a rebroadcast is its root (linked_to NULL); every other such instance
 * that has not started gets linked_to = the root. Instances of shows
 * that are not linked get linked_to NULL (again, only those that have
 * not started).
 *
 * A rule that recurrence_validate refuses (or whose expansion fails) is
 * skipped and listed in report->problems; its rows are left alone and
 * the other rules are materialised. One transaction; the work grows
 * with the number of rules and the instances in the window, not with
 * the window's distance from the rules' start. Time zones are loaded
 * from zoneinfo_dir (NULL: TZ_ZONEINFO_DIR), once per distinct name per
 * call.
 *
 * On success *report (caller's struct) is filled: release it with
 * instances_report_release. Errors (nothing changed, *report empty):
 * -EINVAL from > to; -EBUSY retry; -EEXIST another connection made the
 * same rows at the same time: retry; other database errors (db.h).
 */
int instances_materialise(struct db *db, int64_t from, int64_t to, int64_t now,
			  const char *zoneinfo_dir, struct instances_report *report);

/* Free the problems of report and empty it. Safe to call twice. */
void instances_report_release(struct instances_report *report);

/* One show_instances row, as instances_list gives it. 0 stands for a
 * NULL id. */
struct instance_row {
	int64_t id;
	int64_t show_id;
	int64_t starts_at, ends_at;	/* UTC us */
	int64_t linked_to;		/* linked show: the instance whose content it plays */
	int64_t rebroadcast_of;		/* rebroadcast: the original */
	int64_t rebroadcast_rule_id;
	int64_t recurrence_id;
	char instance_date[RECURRENCE_DATE_SIZE];	/* "" for none */
	int64_t version;
	char *show_name;		/* owned; never NULL */
};

struct instance_rows {
	struct instance_row *items;	/* n of them, owned */
	size_t n;
};

/*
 * The instances overlapping [from, to) (starts_at < to and ends_at >
 * from), ordered by starts_at then id, into *out (release with
 * instance_rows_release). Instances longer than INSTANCES_LENGTH_MAX
 * that start before from - INSTANCES_LENGTH_MAX are not found (no rule
 * makes them; the search uses the index on starts_at). Errors (*out
 * empty): -EINVAL from > to; -E2BIG more than INSTANCES_LIST_MAX rows;
 * database errors (db.h).
 */
int instances_list(struct db *db, int64_t from, int64_t to, struct instance_rows *out);

/* Free what instances_list put in *out and empty it. Safe to call twice. */
void instance_rows_release(struct instance_rows *out);

#include "common/banned.h"
#endif
