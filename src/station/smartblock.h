/*
 * smartblock.h - smart blocks: saved rules that pick library files when
 * the schedule is built ("30 minutes of rock from the 90s, least
 * recently played first, no artist twice within 45 minutes").
 *
 * A struct smartblock mirrors a row of smart_blocks with its
 * smart_block_criteria (src/db/schema_v1.sql.h, schema_v2.sql.h).
 * smartblock_evaluate runs one query for the files that match the
 * criteria (criteria of one group_no are ANDed, groups are ORed; only
 * files with import_status 'ready' and a duration), then picks from them
 * in C: sort, limit by items or time (with a best fit for the last
 * minutes), repeats, overflow, and artist/title separation against what
 * plays around the block. docs/internals/smartblock.md has the rules.
 *
 *   struct smartblock b;
 *   if (smartblock_load(db, id, &b) == 0) {
 *           char err[256];
 *           if (smartblock_validate(&b, err, sizeof(err)) < 0)
 *                   ... err names the criterion and what is wrong
 *           struct smartblock_context ctx = { .at = starts_at, .remaining_us = left,
 *                                             .crossfade_us = xf, .seed = seed };
 *           struct smartblock_result res;
 *           if (smartblock_evaluate(db, &b, &ctx, &res) == 0) {
 *                   for (size_t i = 0; i < res.n; i++)
 *                           place(res.picks[i].file_id, res.picks[i].length_us);
 *                   smartblock_result_release(&res);
 *           }
 *           smartblock_release(&b);
 *   }
 *
 * Nothing here keeps state: the functions are thread-safe, with the
 * usual rule that a struct db is used by one thread at a time.
 */
#ifndef ONAIR_STATION_SMARTBLOCK_H
#define ONAIR_STATION_SMARTBLOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "db/db.h"

/* Sizes of the text arrays of a criterion and of a block's name, with
 * the NUL. */
#define SMARTBLOCK_FIELD_SIZE 32u
#define SMARTBLOCK_VALUE_SIZE 256u
#define SMARTBLOCK_NAME_SIZE 256u
/* Most criteria in one block. */
#define SMARTBLOCK_CRITERIA_MAX 100u
/* Largest limit of a block limited by items. */
#define SMARTBLOCK_ITEMS_MAX 10000
/* Longest duration limit, fill_show time and separation: 31 days. */
#define SMARTBLOCK_DURATION_MAX (INT64_C(31) * 86400 * 1000000)
/* Most picks one evaluation returns (a duration limit filled with very
 * short files, repeated, stops here). */
#define SMARTBLOCK_PICKS_MAX 100000u
/* Most matching files one evaluation reads. */
#define SMARTBLOCK_CANDIDATES_MAX 5000000u

enum smartblock_modifier {
	SB_IS = 0,		/* "is" */
	SB_IS_NOT,		/* "is_not" */
	SB_CONTAINS,		/* "contains" */
	SB_NOT_CONTAINS,	/* "not_contains" */
	SB_STARTS_WITH,		/* "starts_with" */
	SB_ENDS_WITH,		/* "ends_with" */
	SB_GREATER,		/* "greater": numbers, dates (after) */
	SB_LESS,		/* "less": numbers, dates (before) */
	SB_BETWEEN,		/* "between": value .. value2, both included */
	SB_IN_LAST,		/* "in_last": dates, "7 days" before ctx->at or later */
	SB_NOT_IN_LAST,		/* "not_in_last": dates before that, or NULL */
};

enum smartblock_limit {
	SB_LIMIT_ITEMS = 0,	/* "items": limit_value files */
	SB_LIMIT_DURATION,	/* "duration": limit_value microseconds */
};

enum smartblock_sort {
	SB_SORT_RANDOM = 0,	/* "random": shuffled with ctx->seed */
	SB_SORT_NEWEST,		/* "newest": created_at, latest first */
	SB_SORT_OLDEST,		/* "oldest": created_at, earliest first */
	SB_SORT_LEAST_PLAYED,	/* "least_played": never played first, then last_played_at,
				   then play_count */
	SB_SORT_TITLE,		/* "title": A..Z without regard to ASCII case, NULL last */
	SB_SORT_ARTIST,		/* "artist": A..Z, then title; NULL last */
};

/* One criterion row. */
struct smartblock_criterion {
	int group_no;		/* criteria with the same group_no are ANDed; groups are ORed */
	char field[SMARTBLOCK_FIELD_SIZE];	/* a files column from the whitelist, or
						   "track_type" (track_types.code) */
	enum smartblock_modifier modifier;
	char value[SMARTBLOCK_VALUE_SIZE];
	char value2[SMARTBLOCK_VALUE_SIZE];	/* between's upper bound; "" otherwise */
};

struct smartblock {
	int64_t id;
	char name[SMARTBLOCK_NAME_SIZE];
	enum smartblock_limit limit_type;
	int64_t limit_value;		/* items, or microseconds */
	bool fill_show;			/* limit = ctx->remaining_us when that is > 0 */
	enum smartblock_sort sort;
	bool allow_repeats, overflow;
	int64_t artist_separation_us, title_separation_us;	/* 0 = none */
	struct smartblock_criterion *criteria;	/* n_criteria of them; owned (free()) */
	size_t n_criteria;
};

/* Something already on air near the block: for separation. */
struct smartblock_played {
	int64_t file_id;
	int64_t starts_at;		/* UTC us */
	const char *artist, *title;	/* may be NULL; borrowed */
};

struct smartblock_context {
	int64_t at;		/* UTC us when the block's first item starts: "now" for
				   relative dates (in_last) and the reference for separation */
	int64_t remaining_us;	/* time left in the show from `at` (0 = not in a show) */
	int64_t crossfade_us;	/* overlap between consecutive picks (each item after the
				   first starts this much before the previous ends): counted
				   in duration limits */
	uint64_t seed;		/* random sort: the same seed gives the same picks */
	const struct smartblock_played *played;	/* n_played of them: extra history from
						   the caller (items placed but not yet
						   stored); borrowed */
	size_t n_played;
};

struct smartblock_pick {
	int64_t file_id;
	int64_t length_us;	/* what it will play: cue_out - cue_in (the file's cue points;
				   0 and duration when NULL) */
	char *artist, *title;	/* owned, may be NULL */
};

struct smartblock_result {
	struct smartblock_pick *picks;	/* n of them, in play order; owned */
	size_t n;
	int64_t total_us;	/* sum of lengths minus the crossfades between picks */
	size_t candidates;	/* files that matched the criteria */
	size_t separation_relaxed;	/* picks that had to break a separation rule (no
					   candidate kept it) */
	bool short_fill;	/* the limit could not be reached for want of material:
				   fewer items than asked, or a duration/fill limit not
				   reached when every file had been used (repeats off) or
				   nothing could be picked at all */
};

/* "is", "is_not", ... (the schema's text) to the enum: 0 or -EINVAL. */
int smartblock_modifier_parse(const char *text, enum smartblock_modifier *out);
/* The schema's text of m ("starts_with"); "?" for a value outside the enum. Static. */
const char *smartblock_modifier_name(enum smartblock_modifier m);
/* "items" or "duration" to the enum: 0 or -EINVAL. */
int smartblock_limit_parse(const char *text, enum smartblock_limit *out);
/* The schema's text of l; "?" for a value outside the enum. Static. */
const char *smartblock_limit_name(enum smartblock_limit l);
/* "random", "newest", "oldest", "least_played", "title", "artist" to the enum: 0 or -EINVAL. */
int smartblock_sort_parse(const char *text, enum smartblock_sort *out);
/* The schema's text of s; "?" for a value outside the enum. Static. */
const char *smartblock_sort_name(enum smartblock_sort s);

/* Whether field is a name a criterion may use ("title", "year",
 * "duration", "track_type", ...). */
bool smartblock_field_known(const char *field);

/* Make *b an empty block with the schema's defaults (10 items, random,
 * no repeats, no overflow, no separation, no criteria). No allocation. */
void smartblock_init(struct smartblock *b);

/*
 * Append a criterion to b (b->criteria grows; b owns it). value2 may be
 * NULL (""). The criterion is not checked (smartblock_validate does).
 * 0; -EINVAL field, value or value2 does not fit its array (b
 * unchanged); -E2BIG b has SMARTBLOCK_CRITERIA_MAX criteria already.
 */
int smartblock_add_criterion(struct smartblock *b, int group_no, const char *field,
			     enum smartblock_modifier modifier, const char *value,
			     const char *value2);

/*
 * Read smart block id and its criteria (by group_no, then id) into *out,
 * which the caller releases with smartblock_release. The block is not
 * validated: call smartblock_validate before using it. NULL separations
 * read as 0, a NULL value2 as "", a name too long for the array is cut
 * at a character boundary. Errors (*out empty): -ENOENT no such block;
 * -EINVAL a stored value does not fit its array (field, value or value2
 * of SMARTBLOCK_*_SIZE bytes or more) or an unknown limit_type, sort or
 * modifier; -E2BIG more than SMARTBLOCK_CRITERIA_MAX criteria; or an
 * error of db_query.
 */
int smartblock_load(struct db *db, int64_t id, struct smartblock *out);

/*
 * Check b as the API should before storing it and as smartblock_evaluate
 * does before using it: 0, or -EINVAL with a sentence for the user in
 * err (errlen bytes; err may be NULL). Criteria are named by their
 * place in b->criteria, from 1: "criterion 2: 'between' needs a second
 * value", "criterion 1: unknown field 'colour'", "criterion 3: year:
 * 'abc' is not a number", "criterion 1: in_last needs an amount and a
 * unit, like '7 days'", "criterion 2: 'contains' does not apply to year
 * (a number)". The block's own settings are checked too (limit above 0
 * and within SMARTBLOCK_ITEMS_MAX or SMARTBLOCK_DURATION_MAX,
 * separations 0 .. SMARTBLOCK_DURATION_MAX, known enums).
 */
int smartblock_validate(const struct smartblock *b, char *err, size_t errlen);

/*
 * Pick files for b placed at ctx->at into *out (released by the caller
 * with smartblock_result_release). One query reads the matching files,
 * one more (only when b has a separation) the schedule_items around
 * ctx->at; nothing is written. The rules (docs/internals/smartblock.md):
 *   - limit: b's items or duration; with fill_show, ctx->remaining_us
 *     when that is > 0 (a duration, at most SMARTBLOCK_DURATION_MAX);
 *   - order: b->sort (random: a shuffle seeded with ctx->seed, the same
 *     for the same seed and files);
 *   - duration limits without overflow never pass the limit: when the
 *     next file in order does not fit, the longest one that fits is
 *     taken, until none fits; with overflow the last pick may run past;
 *   - repeats: without allow_repeats each file at most once (short_fill
 *     when they run out); with it, the files come round again, never the
 *     same file twice in a row unless it is the only one;
 *   - separation: no artist (title) that starts within
 *     artist_separation_us (title_separation_us) before a pick, among the
 *     earlier picks, ctx->played and schedule_items in the database;
 *     when no file keeps the rule, the one whose conflicting play is
 *     longest ago is taken and counted in separation_relaxed;
 *   - files whose length (cue_out - cue_in) is not above
 *     ctx->crossfade_us are never picked.
 * Errors (*out empty): -EINVAL b is not valid (smartblock_validate), or
 * ctx is NULL, ctx->at is outside TIME_MIN_US..TIME_MAX_US,
 * ctx->remaining_us is negative, ctx->crossfade_us is negative or above
 * SMARTBLOCK_DURATION_MAX, ctx->played is NULL with n_played > 0;
 * -E2BIG more than SMARTBLOCK_CANDIDATES_MAX files match; or an error
 * of db_query.
 */
int smartblock_evaluate(struct db *db, const struct smartblock *b,
			const struct smartblock_context *ctx, struct smartblock_result *out);

/* Free b's criteria and empty it (smartblock_init). Safe to call twice. */
void smartblock_release(struct smartblock *b);
/* Free what smartblock_evaluate put in *r and empty it. Safe to call twice. */
void smartblock_result_release(struct smartblock_result *r);

#include "common/banned.h"
#endif
