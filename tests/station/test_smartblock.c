/*
 * test_smartblock.c - smart blocks (src/station/smartblock.h), run on
 * SQLite and on PostgreSQL.
 *
 * Files are made with fixture_file() and given their metadata with plain
 * UPDATEs. Most checks evaluate a block sorted by title and compare the
 * picked titles, joined with commas, with what the rule should match.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "common/timeutil.h"
#include "station/smartblock.h"
#include "station_fixture.h"

#define SEC USEC_PER_SEC
#define MIN (INT64_C(60) * SEC)
#define HOUR (INT64_C(60) * MIN)
#define DAY (INT64_C(24) * HOUR)

/* "Now" of the tests: 2024-03-31T12:00:00Z. */
static int64_t now_us;

static int64_t utc(const char *rfc3339)
{
	int64_t t = 0;
	if (time_parse_rfc3339(rfc3339, &t) != 0)
		fail_msg("bad test instant %s", rfc3339);
	return t;
}

static int setup(void **state)
{
	now_us = utc("2024-03-31T12:00:00Z");
	*state = fixture_db();
	return 0;
}

static int teardown(void **state)
{
	db_close(*state);
	return 0;
}

/* ---- rows ---- */

static int64_t file(struct db *db, const char *title, const char *artist, int64_t duration_us)
{
	return fixture_file(db, title, artist, duration_us);
}

/* UPDATE files SET col = value WHERE id = id; col is a constant of the
 * test. */
static void set_text(struct db *db, int64_t id, const char *col, const char *value)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "UPDATE files SET %.40s = $1 WHERE id = $2", col);
	fixture_exec(db, sql, DB_PARAMS(DB_T(value), DB_I(id)));
}

static void set_int(struct db *db, int64_t id, const char *col, int64_t value)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "UPDATE files SET %.40s = $1 WHERE id = $2", col);
	fixture_exec(db, sql, DB_PARAMS(DB_I(value), DB_I(id)));
}

static void set_real(struct db *db, int64_t id, const char *col, double value)
{
	char sql[128];
	snprintf(sql, sizeof(sql), "UPDATE files SET %.40s = $1 WHERE id = $2", col);
	fixture_exec(db, sql, DB_PARAMS(DB_R(value), DB_I(id)));
}

/* A file scheduled (schedule_items) from starts_at for its length. */
static void schedule(struct db *db, int64_t file_id, int64_t starts_at)
{
	int64_t show = fixture_show(db, "show");
	int64_t instance = fixture_instance(db, show, starts_at - HOUR, starts_at + HOUR);
	fixture_exec(db,
		     "INSERT INTO schedule_items (instance_id, position, starts_at, ends_at, kind,"
		     " file_id) VALUES ($1, 0, $2, $3, 'file', $4)",
		     DB_PARAMS(DB_I(instance), DB_I(starts_at), DB_I(starts_at + MIN),
			       DB_I(file_id)));
}

/* ---- blocks ---- */

/* A block sorted by title that takes everything it matches. */
static struct smartblock block(void)
{
	struct smartblock b;
	smartblock_init(&b);
	b.sort = SB_SORT_TITLE;
	b.limit_value = 1000;
	return b;
}

static void add(struct smartblock *b, int group, const char *field, enum smartblock_modifier m,
		const char *value, const char *value2)
{
	int r = smartblock_add_criterion(b, group, field, m, value, value2);
	if (r != 0)
		fail_msg("smartblock_add_criterion(%s): %d", field, r);
}

static struct smartblock_context context(void)
{
	return (struct smartblock_context){ .at = now_us, .seed = 1 };
}

static void evaluate(struct db *db, const struct smartblock *b,
		     const struct smartblock_context *ctx, struct smartblock_result *res)
{
	char err[256] = "";
	if (smartblock_validate(b, err, sizeof(err)) != 0)
		fail_msg("block not valid: %s", err);
	int r = smartblock_evaluate(db, b, ctx, res);
	if (r != 0)
		fail_msg("smartblock_evaluate: %d %s", r, db_errmsg(db));
	int64_t total = 0;
	for (size_t i = 0; i < res->n; i++)
		total += res->picks[i].length_us - (i ? ctx->crossfade_us : 0);
	assert_int_equal(res->total_us, total);
}

static char joined[4096];

/* The titles of res's picks, joined with commas ("-" for NULL). */
static const char *titles(const struct smartblock_result *res)
{
	size_t len = 0;
	joined[0] = '\0';
	for (size_t i = 0; i < res->n && len < sizeof(joined); i++) {
		const char *t = res->picks[i].title ? res->picks[i].title : "-";
		int n = snprintf(joined + len, sizeof(joined) - len, "%s%s", i ? "," : "", t);
		if (n < 0)
			break;
		len += (size_t)n;
	}
	return joined;
}

/* Evaluate b (and release it); the picked titles. */
static const char *picked(struct db *db, struct smartblock *b)
{
	struct smartblock_context ctx = context();
	struct smartblock_result res;
	evaluate(db, b, &ctx, &res);
	smartblock_release(b);
	titles(&res);
	smartblock_result_release(&res);
	return joined;
}

/* The titles one criterion matches. */
static const char *match(struct db *db, const char *field, enum smartblock_modifier m,
			 const char *value, const char *value2)
{
	struct smartblock b = block();
	add(&b, 0, field, m, value, value2);
	return picked(db, &b);
}

/* The message smartblock_validate gives for b (and release it). */
static const char *invalid(struct smartblock *b)
{
	static char err[256];
	err[0] = '\0';
	assert_int_equal(smartblock_validate(b, err, sizeof(err)), -EINVAL);
	struct smartblock_context ctx = context();
	struct smartblock_result res;
	assert_int_equal(smartblock_evaluate(NULL, b, &ctx, &res), -EINVAL);
	assert_int_equal(res.n, 0);
	smartblock_release(b);
	return err;
}

/* The message for a block with one criterion. */
static const char *invalid1(const char *field, enum smartblock_modifier m, const char *value,
			    const char *value2)
{
	struct smartblock b = block();
	add(&b, 0, field, m, value, value2);
	return invalid(&b);
}

/* ---- tests ---- */

static void test_names(void **state)
{
	for (int m = SB_IS; m <= SB_NOT_IN_LAST; m++) {
		enum smartblock_modifier back;
		const char *name = smartblock_modifier_name((enum smartblock_modifier)m);
		assert_int_equal(smartblock_modifier_parse(name, &back), 0);
		assert_int_equal(back, m);
	}
	for (int s = SB_SORT_RANDOM; s <= SB_SORT_ARTIST; s++) {
		enum smartblock_sort back;
		const char *name = smartblock_sort_name((enum smartblock_sort)s);
		assert_int_equal(smartblock_sort_parse(name, &back), 0);
		assert_int_equal(back, s);
	}
	enum smartblock_limit l;
	assert_int_equal(smartblock_limit_parse("duration", &l), 0);
	assert_int_equal(l, SB_LIMIT_DURATION);
	assert_string_equal(smartblock_limit_name(SB_LIMIT_ITEMS), "items");
	assert_string_equal(smartblock_modifier_name(SB_STARTS_WITH), "starts_with");
	assert_string_equal(smartblock_sort_name(SB_SORT_LEAST_PLAYED), "least_played");
	assert_string_equal(smartblock_modifier_name((enum smartblock_modifier)99), "?");
	enum smartblock_modifier m;
	assert_int_equal(smartblock_modifier_parse("IS", &m), -EINVAL);
	assert_int_equal(smartblock_modifier_parse(NULL, &m), -EINVAL);
	assert_int_equal(smartblock_sort_parse("shuffle", &(enum smartblock_sort){ 0 }), -EINVAL);
	assert_true(smartblock_field_known("track_type"));
	assert_true(smartblock_field_known("duration"));
	assert_false(smartblock_field_known("duration_us"));
	assert_false(smartblock_field_known("storage_key"));
	assert_false(smartblock_field_known(NULL));
}

static void test_add_criterion_bounds(void **state)
{
	struct smartblock b;
	smartblock_init(&b);
	char big[300];
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_int_equal(smartblock_add_criterion(&b, 0, "title", SB_IS, big, NULL), -EINVAL);
	assert_int_equal(smartblock_add_criterion(&b, 0, "title", SB_IS, "a", big), -EINVAL);
	assert_int_equal(smartblock_add_criterion(&b, 0, big, SB_IS, "a", NULL), -EINVAL);
	assert_int_equal(b.n_criteria, 0);
	for (unsigned i = 0; i < SMARTBLOCK_CRITERIA_MAX; i++)
		assert_int_equal(smartblock_add_criterion(&b, 0, "title", SB_IS, "a", NULL), 0);
	assert_int_equal(smartblock_add_criterion(&b, 0, "title", SB_IS, "a", NULL), -E2BIG);
	assert_int_equal(smartblock_validate(&b, NULL, 0), 0);
	smartblock_release(&b);
	smartblock_release(&b);
	assert_null(b.criteria);
}

/* No criteria: every ready file with a duration, never pending or
 * failed ones. */
static void test_no_criteria_ready_only(void **state)
{
	struct db *db = *state;
	file(db, "a", NULL, MIN);
	file(db, "b", NULL, MIN);
	int64_t pending = file(db, "c pending", NULL, MIN);
	set_text(db, pending, "import_status", "pending");
	int64_t failed = file(db, "d failed", NULL, MIN);
	set_text(db, failed, "import_status", "failed");
	int64_t no_duration = file(db, "e no duration", NULL, MIN);
	fixture_exec(db, "UPDATE files SET duration_us = NULL, cue_out_us = NULL WHERE id = $1",
		     DB_PARAMS(DB_I(no_duration)));
	file(db, "f", NULL, MIN);

	struct smartblock b = block();
	struct smartblock_context ctx = context();
	struct smartblock_result res;
	evaluate(db, &b, &ctx, &res);
	assert_string_equal(titles(&res), "a,b,f");
	assert_int_equal(res.candidates, 3);
	assert_true(res.short_fill);
	smartblock_result_release(&res);

	/* Random sort, repeats allowed: still never those. */
	b.sort = SB_SORT_RANDOM;
	b.allow_repeats = true;
	b.limit_value = 50;
	evaluate(db, &b, &ctx, &res);
	assert_int_equal(res.n, 50);
	for (size_t i = 0; i < res.n; i++) {
		assert_int_not_equal(res.picks[i].file_id, pending);
		assert_int_not_equal(res.picks[i].file_id, failed);
		assert_int_not_equal(res.picks[i].file_id, no_duration);
	}
	smartblock_result_release(&res);
	smartblock_release(&b);
}

static void test_text_modifiers(void **state)
{
	struct db *db = *state;
	set_text(db, file(db, "a", NULL, MIN), "genre", "Rock");
	set_text(db, file(db, "b", NULL, MIN), "genre", "rock and roll");
	set_text(db, file(db, "c", NULL, MIN), "genre", "Hard ROCK");
	file(db, "d", NULL, MIN); /* genre NULL */
	set_text(db, file(db, "e", NULL, MIN), "genre", "Jazz");

	assert_string_equal(match(db, "genre", SB_IS, "rOcK", NULL), "a");
	assert_string_equal(match(db, "genre", SB_IS, "roc", NULL), "");
	assert_string_equal(match(db, "genre", SB_IS_NOT, "rock", NULL), "b,c,d,e");
	assert_string_equal(match(db, "genre", SB_CONTAINS, "ROCK", NULL), "a,b,c");
	assert_string_equal(match(db, "genre", SB_CONTAINS, "blues", NULL), "");
	assert_string_equal(match(db, "genre", SB_NOT_CONTAINS, "rock", NULL), "d,e");
	assert_string_equal(match(db, "genre", SB_STARTS_WITH, "rock", NULL), "a,b");
	assert_string_equal(match(db, "genre", SB_STARTS_WITH, "roll", NULL), "");
	assert_string_equal(match(db, "genre", SB_ENDS_WITH, "Rock", NULL), "a,c");
	assert_string_equal(match(db, "genre", SB_ENDS_WITH, "and", NULL), "");
	/* Another text column, NULL for all but one. */
	set_text(db, 1, "album", "Blue Train");
	assert_string_equal(match(db, "album", SB_CONTAINS, "train", NULL), "a");
	assert_string_equal(match(db, "album", SB_NOT_CONTAINS, "train", NULL), "b,c,d,e");
	assert_string_equal(match(db, "mime", SB_IS, "AUDIO/MPEG", NULL), "a,b,c,d,e");
	/* An empty "contains" matches every value, not NULL. */
	assert_string_equal(match(db, "album", SB_CONTAINS, "", NULL), "a");
}

/* %, _ and \ in a value are themselves, and SQL in a value is text. */
static void test_metacharacters(void **state)
{
	struct db *db = *state;
	file(db, "a 100% pure", NULL, MIN);
	file(db, "b 100 pure", NULL, MIN);
	file(db, "c a_b", NULL, MIN);
	file(db, "d axb", NULL, MIN);
	file(db, "e back\\slash", NULL, MIN);
	file(db, "f backslash", NULL, MIN);
	file(db, "g '; DROP TABLE files; --", NULL, MIN);
	file(db, "h it's", NULL, MIN);

	assert_string_equal(match(db, "title", SB_CONTAINS, "%", NULL), "a 100% pure");
	assert_string_equal(match(db, "title", SB_CONTAINS, "0%", NULL), "a 100% pure");
	assert_string_equal(match(db, "title", SB_CONTAINS, "_", NULL), "c a_b");
	assert_string_equal(match(db, "title", SB_CONTAINS, "a_b", NULL), "c a_b");
	assert_string_equal(match(db, "title", SB_CONTAINS, "\\", NULL), "e back\\slash");
	assert_string_equal(match(db, "title", SB_ENDS_WITH, "k\\slash", NULL), "e back\\slash");
	assert_string_equal(match(db, "title", SB_STARTS_WITH, "a 100%", NULL), "a 100% pure");
	assert_string_equal(match(db, "title", SB_NOT_CONTAINS, "%", NULL),
			    "b 100 pure,c a_b,d axb,e back\\slash,f backslash,"
			    "g '; DROP TABLE files; --,h it's");
	assert_string_equal(match(db, "title", SB_CONTAINS, "'", NULL),
			    "g '; DROP TABLE files; --,h it's");
	assert_string_equal(match(db, "title", SB_IS, "g '; DROP TABLE files; --", NULL),
			    "g '; DROP TABLE files; --");
	assert_string_equal(match(db, "title", SB_CONTAINS, "'; DROP TABLE files; --", NULL),
			    "g '; DROP TABLE files; --");
	assert_string_equal(match(db, "title", SB_IS, "x' OR '1'='1", NULL), "");
	assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM files", NULL, 0), 8);

	/* The field name never reaches the SQL. */
	assert_string_equal(invalid1("title; DROP TABLE files", SB_IS, "x", NULL),
			    "criterion 1: unknown field 'title; DROP TABLE files'");
}

static void test_number_modifiers(void **state)
{
	struct db *db = *state;
	set_int(db, file(db, "a", NULL, MIN), "year", 1985);
	set_int(db, file(db, "b", NULL, MIN), "year", 1990);
	set_int(db, file(db, "c", NULL, MIN), "year", 1995);
	file(db, "d", NULL, MIN); /* year NULL */
	set_int(db, file(db, "e", NULL, MIN), "year", 2000);

	assert_string_equal(match(db, "year", SB_IS, "1990", NULL), "b");
	assert_string_equal(match(db, "year", SB_IS, " 1990 ", NULL), "b");
	assert_string_equal(match(db, "year", SB_IS, "1991", NULL), "");
	assert_string_equal(match(db, "year", SB_IS_NOT, "1990", NULL), "a,c,d,e");
	assert_string_equal(match(db, "year", SB_GREATER, "1990", NULL), "c,e");
	assert_string_equal(match(db, "year", SB_GREATER, "2000", NULL), "");
	assert_string_equal(match(db, "year", SB_LESS, "1990", NULL), "a");
	assert_string_equal(match(db, "year", SB_LESS, "1900", NULL), "");
	assert_string_equal(match(db, "year", SB_BETWEEN, "1990", "1999"), "b,c");
	assert_string_equal(match(db, "year", SB_BETWEEN, "1989.5", "1995"), "b,c");
	assert_string_equal(match(db, "year", SB_BETWEEN, "1991", "1994"), "");
	assert_string_equal(match(db, "year", SB_IS, "1990.5", NULL), "");
	assert_string_equal(match(db, "year", SB_GREATER, "-5", NULL), "a,b,c,e");
	assert_string_equal(match(db, "play_count", SB_IS, "0", NULL), "a,b,c,d,e");

	/* A DOUBLE PRECISION column. */
	set_real(db, 1, "bpm", 120.5);
	set_real(db, 2, "bpm", 128);
	assert_string_equal(match(db, "bpm", SB_IS, "120.5", NULL), "a");
	assert_string_equal(match(db, "bpm", SB_IS, "128", NULL), "b");
	assert_string_equal(match(db, "bpm", SB_GREATER, "121", NULL), "b");
	assert_string_equal(match(db, "bpm", SB_LESS, "200", NULL), "a,b");
	assert_string_equal(match(db, "bpm", SB_IS_NOT, "128", NULL), "a,c,d,e");
	assert_string_equal(match(db, "bpm", SB_BETWEEN, "120", "125"), "a");
	set_real(db, 3, "loudness_lufs", -14.2);
	assert_string_equal(match(db, "loudness_lufs", SB_LESS, "-14", NULL), "c");
}

/* "duration" is in seconds, over duration_us. */
static void test_duration_field(void **state)
{
	struct db *db = *state;
	file(db, "a", NULL, 180 * SEC + 400000);
	file(db, "b", NULL, 240 * SEC);
	file(db, "c", NULL, 60 * SEC);

	assert_string_equal(match(db, "duration", SB_IS, "180", NULL), "a");
	assert_string_equal(match(db, "duration", SB_IS, "180.4", NULL), "a");
	assert_string_equal(match(db, "duration", SB_IS, "181", NULL), "");
	assert_string_equal(match(db, "duration", SB_IS_NOT, "180", NULL), "b,c");
	assert_string_equal(match(db, "duration", SB_GREATER, "180", NULL), "a,b");
	assert_string_equal(match(db, "duration", SB_LESS, "180", NULL), "c");
	assert_string_equal(match(db, "duration", SB_BETWEEN, "60", "180.5"), "a,c");
	assert_string_equal(match(db, "duration", SB_BETWEEN, "200", "240"), "b");
}

static void test_date_modifiers(void **state)
{
	struct db *db = *state;
	int64_t a = file(db, "a", NULL, MIN);
	int64_t b = file(db, "b", NULL, MIN);
	int64_t c = file(db, "c", NULL, MIN);
	int64_t d = file(db, "d", NULL, MIN);
	set_int(db, a, "created_at", utc("2024-01-10T12:00:00Z"));
	set_int(db, b, "created_at", utc("2024-01-11T00:00:00Z"));
	set_int(db, c, "created_at", utc("2024-02-01T08:00:00Z"));
	set_int(db, d, "created_at", utc("2023-12-31T23:59:59Z"));

	assert_string_equal(match(db, "created_at", SB_IS, "2024-01-10", NULL), "a");
	assert_string_equal(match(db, "created_at", SB_IS, "2024-01-10T12:00:00Z", NULL), "a");
	assert_string_equal(match(db, "created_at", SB_IS, "2024-01-10T13:00:00+01:00", NULL),
			    "a");
	assert_string_equal(match(db, "created_at", SB_IS, "2024-01-10T12:00:01Z", NULL), "");
	assert_string_equal(match(db, "created_at", SB_IS_NOT, "2024-01-10", NULL), "b,c,d");
	assert_string_equal(match(db, "created_at", SB_GREATER, "2024-01-10", NULL), "b,c");
	assert_string_equal(match(db, "created_at", SB_GREATER, "2024-01-10T11:00:00Z", NULL),
			    "a,b,c");
	assert_string_equal(match(db, "created_at", SB_LESS, "2024-01-11", NULL), "a,d");
	assert_string_equal(match(db, "created_at", SB_LESS, "2024-01-01", NULL), "d");
	assert_string_equal(match(db, "created_at", SB_BETWEEN, "2024-01-10", "2024-01-11"), "a,b");
	assert_string_equal(match(db, "created_at", SB_BETWEEN, "2024-01-01", "2024-12-31"),
			    "a,b,c");

	/* Relative to the block's time (2024-03-31T12:00Z); NULL = never
	 * played. */
	set_int(db, a, "last_played_at", now_us - 2 * DAY);
	set_int(db, b, "last_played_at", now_us - 10 * DAY);
	/* c never played */
	set_int(db, d, "last_played_at", utc("2024-02-29T11:00:00Z"));
	assert_string_equal(match(db, "last_played_at", SB_IN_LAST, "7 days", NULL), "a");
	assert_string_equal(match(db, "last_played_at", SB_IN_LAST, "1 week", NULL), "a");
	assert_string_equal(match(db, "last_played_at", SB_IN_LAST, "2 Weeks", NULL), "a,b");
	assert_string_equal(match(db, "last_played_at", SB_IN_LAST, "47 hours", NULL), "");
	assert_string_equal(match(db, "last_played_at", SB_IN_LAST, "2880 minutes", NULL), "a");
	/* A month before 03-31 12:00 is 02-29 12:00 (the end of February). */
	assert_string_equal(match(db, "last_played_at", SB_IN_LAST, "1 month", NULL), "a,b");
	assert_string_equal(match(db, "last_played_at", SB_IN_LAST, "2 months", NULL), "a,b,d");
	assert_string_equal(match(db, "last_played_at", SB_IN_LAST, "1 year", NULL), "a,b,d");
	assert_string_equal(match(db, "last_played_at", SB_NOT_IN_LAST, "7 days", NULL), "b,c,d");
	assert_string_equal(match(db, "last_played_at", SB_NOT_IN_LAST, "1 year", NULL), "c");
	assert_string_equal(match(db, "last_played_at", SB_IS_NOT, "2024-03-29", NULL), "b,c,d");
	assert_string_equal(match(db, "last_played_at", SB_LESS, "2024-03-01", NULL), "d");

	/* Another instant for "now". */
	struct smartblock blk = block();
	add(&blk, 0, "last_played_at", SB_IN_LAST, "7 days", NULL);
	struct smartblock_context ctx = context();
	ctx.at = now_us + 6 * DAY;
	struct smartblock_result res;
	evaluate(db, &blk, &ctx, &res);
	assert_string_equal(titles(&res), "");
	smartblock_result_release(&res);
	smartblock_release(&blk);
}

static void test_track_type(void **state)
{
	struct db *db = *state;
	int64_t music = fixture_int(db,
				    "INSERT INTO track_types (code, name)"
				    " VALUES ('music', 'Music') RETURNING id",
				    NULL, 0);
	int64_t jingle = fixture_int(db,
				     "INSERT INTO track_types (code, name)"
				     " VALUES ('jingle', 'Jingle') RETURNING id",
				     NULL, 0);
	set_int(db, file(db, "a", NULL, MIN), "track_type_id", music);
	set_int(db, file(db, "b", NULL, MIN), "track_type_id", jingle);
	file(db, "c", NULL, MIN);

	assert_string_equal(match(db, "track_type", SB_IS, "MUSIC", NULL), "a");
	assert_string_equal(match(db, "track_type", SB_IS_NOT, "music", NULL), "b,c");
	assert_string_equal(match(db, "track_type", SB_CONTAINS, "ing", NULL), "b");
	assert_string_equal(match(db, "track_type", SB_NOT_CONTAINS, "ing", NULL), "a,c");
	assert_string_equal(match(db, "track_type", SB_STARTS_WITH, "mu", NULL), "a");
	assert_string_equal(match(db, "track_type", SB_ENDS_WITH, "gle", NULL), "b");

	/* With other criteria, in a second group. */
	struct smartblock b = block();
	add(&b, 0, "track_type", SB_IS, "jingle", NULL);
	add(&b, 1, "title", SB_IS, "c", NULL);
	assert_string_equal(picked(db, &b), "b,c");
}

static void test_groups(void **state)
{
	struct db *db = *state;
	int64_t a = file(db, "a", NULL, MIN), b = file(db, "b", NULL, MIN);
	int64_t c = file(db, "c", NULL, MIN), d = file(db, "d", NULL, MIN);
	set_text(db, a, "genre", "rock");
	set_int(db, a, "year", 1990);
	set_text(db, b, "genre", "rock");
	set_int(db, b, "year", 2000);
	set_text(db, c, "genre", "jazz");
	set_int(db, c, "year", 1990);
	set_text(db, d, "genre", "pop");
	set_int(db, d, "year", 1990);

	/* (rock AND before 1995) OR jazz */
	struct smartblock blk = block();
	add(&blk, 0, "genre", SB_IS, "rock", NULL);
	add(&blk, 0, "year", SB_LESS, "1995", NULL);
	add(&blk, 1, "genre", SB_IS, "jazz", NULL);
	assert_string_equal(picked(db, &blk), "a,c");

	/* The same with the criteria out of order and other group numbers. */
	blk = block();
	add(&blk, 7, "genre", SB_IS, "jazz", NULL);
	add(&blk, -3, "year", SB_LESS, "1995", NULL);
	add(&blk, 7, "year", SB_IS, "1990", NULL);
	add(&blk, -3, "genre", SB_IS, "rock", NULL);
	assert_string_equal(picked(db, &blk), "a,c");

	/* AND only. */
	blk = block();
	add(&blk, 0, "year", SB_IS, "1990", NULL);
	add(&blk, 0, "genre", SB_IS_NOT, "rock", NULL);
	assert_string_equal(picked(db, &blk), "c,d");

	/* OR only. */
	blk = block();
	add(&blk, 0, "genre", SB_IS, "pop", NULL);
	add(&blk, 1, "year", SB_IS, "2000", NULL);
	add(&blk, 2, "title", SB_IS, "nothing", NULL);
	assert_string_equal(picked(db, &blk), "b,d");
}

static void test_sorts(void **state)
{
	struct db *db = *state;
	int64_t a = file(db, "beta", "Zed", MIN);
	int64_t b = file(db, "Alpha", "zed", MIN);
	int64_t c = file(db, "gamma", "Abba", MIN);
	int64_t d = file(db, NULL, NULL, MIN);
	set_int(db, a, "created_at", 300);
	set_int(db, b, "created_at", 100);
	set_int(db, c, "created_at", 200);
	set_int(db, d, "created_at", 200);
	set_int(db, a, "last_played_at", 100);
	set_int(db, a, "play_count", 5);
	/* b never played */
	set_int(db, c, "last_played_at", 50);
	set_int(db, c, "play_count", 9);
	set_int(db, d, "last_played_at", 50);
	set_int(db, d, "play_count", 1);

	struct smartblock blk = block();
	assert_string_equal(picked(db, &blk), "Alpha,beta,gamma,-");
	blk = block();
	blk.sort = SB_SORT_ARTIST;
	assert_string_equal(picked(db, &blk), "gamma,Alpha,beta,-");
	blk = block();
	blk.sort = SB_SORT_NEWEST;
	assert_string_equal(picked(db, &blk), "beta,-,gamma,Alpha");
	blk = block();
	blk.sort = SB_SORT_OLDEST;
	assert_string_equal(picked(db, &blk), "Alpha,gamma,-,beta");
	blk = block();
	blk.sort = SB_SORT_LEAST_PLAYED;
	assert_string_equal(picked(db, &blk), "Alpha,-,gamma,beta");
}

/* The picks' ids, comma-separated. */
static void ids_of(const struct smartblock_result *res, char *out, size_t size)
{
	size_t len = 0;
	out[0] = '\0';
	for (size_t i = 0; i < res->n && len < size; i++) {
		int n = snprintf(out + len, size - len, "%s%lld", i ? "," : "",
				 (long long)res->picks[i].file_id);
		if (n < 0)
			break;
		len += (size_t)n;
	}
}

static void test_random_seed(void **state)
{
	struct db *db = *state;
	for (int i = 0; i < 30; i++) {
		char t[16];
		snprintf(t, sizeof(t), "t%02d", i);
		file(db, t, NULL, MIN);
	}
	struct smartblock b = block();
	b.sort = SB_SORT_RANDOM;
	b.limit_value = 30;
	struct smartblock_context ctx = context();
	struct smartblock_result res;
	char first[512], again[512], other[512];

	ctx.seed = 42;
	evaluate(db, &b, &ctx, &res);
	assert_int_equal(res.n, 30);
	bool seen[31] = { false };
	for (size_t i = 0; i < res.n; i++) {
		assert_true(res.picks[i].file_id >= 1 && res.picks[i].file_id <= 30);
		assert_false(seen[res.picks[i].file_id]);
		seen[res.picks[i].file_id] = true;
	}
	ids_of(&res, first, sizeof(first));
	smartblock_result_release(&res);

	evaluate(db, &b, &ctx, &res);
	ids_of(&res, again, sizeof(again));
	smartblock_result_release(&res);
	assert_string_equal(first, again);

	ctx.seed = 43;
	evaluate(db, &b, &ctx, &res);
	ids_of(&res, other, sizeof(other));
	smartblock_result_release(&res);
	assert_string_not_equal(first, other);

	/* Not the order of the ids. */
	assert_string_not_equal(first, "1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,"
				       "23,24,25,26,27,28,29,30");

	/* Fewer picks: the beginning of the same order. */
	ctx.seed = 42;
	b.limit_value = 5;
	evaluate(db, &b, &ctx, &res);
	ids_of(&res, again, sizeof(again));
	smartblock_result_release(&res);
	assert_memory_equal(first, again, strlen(again));
	assert_int_equal(first[strlen(again)], ',');
	smartblock_release(&b);
}

static void test_limit_items(void **state)
{
	struct db *db = *state;
	for (int i = 0; i < 10; i++) {
		char t[8];
		snprintf(t, sizeof(t), "%c", 'a' + i);
		file(db, t, NULL, 4 * MIN);
	}
	struct smartblock b = block();
	b.limit_value = 3;
	struct smartblock_context ctx = context();
	struct smartblock_result res;
	evaluate(db, &b, &ctx, &res);
	assert_string_equal(titles(&res), "a,b,c");
	assert_int_equal(res.total_us, 12 * MIN);
	assert_int_equal(res.candidates, 10);
	assert_false(res.short_fill);
	assert_int_equal(res.picks[0].length_us, 4 * MIN);
	smartblock_result_release(&res);
	smartblock_release(&b);
}

static void test_limit_duration_and_overflow(void **state)
{
	struct db *db = *state;
	for (int i = 0; i < 10; i++) {
		char t[8];
		snprintf(t, sizeof(t), "%c", 'a' + i);
		file(db, t, NULL, 4 * MIN);
	}
	struct smartblock b = block();
	b.limit_type = SB_LIMIT_DURATION;
	b.limit_value = 10 * MIN;
	struct smartblock_context ctx = context();
	struct smartblock_result res;

	/* No overflow: never past the limit; nothing fits the 2 minutes
	 * left, which is no shortage of material. */
	evaluate(db, &b, &ctx, &res);
	assert_string_equal(titles(&res), "a,b");
	assert_int_equal(res.total_us, 8 * MIN);
	assert_false(res.short_fill);
	smartblock_result_release(&res);

	/* Overflow: the last pick runs past, only the last. */
	b.overflow = true;
	evaluate(db, &b, &ctx, &res);
	assert_string_equal(titles(&res), "a,b,c");
	assert_int_equal(res.total_us, 12 * MIN);
	assert_true(res.total_us - res.picks[res.n - 1].length_us < b.limit_value);
	assert_false(res.short_fill);
	smartblock_result_release(&res);

	/* Exactly the limit: no extra pick with overflow either. */
	b.limit_value = 8 * MIN;
	evaluate(db, &b, &ctx, &res);
	assert_string_equal(titles(&res), "a,b");
	smartblock_result_release(&res);

	/* Crossfades are counted: 4:00 + 4 x 3:50 = 19:20 in 20:00. */
	b.overflow = false;
	b.limit_value = 20 * MIN;
	ctx.crossfade_us = 10 * SEC;
	evaluate(db, &b, &ctx, &res);
	assert_int_equal(res.n, 5);
	assert_int_equal(res.total_us, 20 * MIN - 40 * SEC);
	smartblock_result_release(&res);

	/* A file not longer than the crossfade is never picked. */
	ctx.crossfade_us = 4 * MIN;
	evaluate(db, &b, &ctx, &res);
	assert_int_equal(res.n, 0);
	assert_int_equal(res.candidates, 10);
	assert_true(res.short_fill);
	smartblock_result_release(&res);
	smartblock_release(&b);
}

static void test_fill_show(void **state)
{
	struct db *db = *state;
	for (int i = 0; i < 10; i++) {
		char t[8];
		snprintf(t, sizeof(t), "%c", 'a' + i);
		file(db, t, NULL, 4 * MIN);
	}
	struct smartblock b = block();
	b.limit_value = 2;
	b.fill_show = true;
	struct smartblock_context ctx = context();
	struct smartblock_result res;

	/* In a show: the time left. */
	ctx.remaining_us = 20 * MIN;
	evaluate(db, &b, &ctx, &res);
	assert_int_equal(res.n, 5);
	assert_int_equal(res.total_us, 20 * MIN);
	assert_false(res.short_fill);
	smartblock_result_release(&res);

	/* Not enough material for the show. */
	ctx.remaining_us = 60 * MIN;
	evaluate(db, &b, &ctx, &res);
	assert_int_equal(res.n, 10);
	assert_int_equal(res.total_us, 40 * MIN);
	assert_true(res.short_fill);
	smartblock_result_release(&res);

	/* Not in a show: the block's own limit. */
	ctx.remaining_us = 0;
	evaluate(db, &b, &ctx, &res);
	assert_int_equal(res.n, 2);
	smartblock_result_release(&res);

	/* Without fill_show the time left does not matter. */
	b.fill_show = false;
	ctx.remaining_us = 20 * MIN;
	evaluate(db, &b, &ctx, &res);
	assert_int_equal(res.n, 2);
	smartblock_result_release(&res);
	smartblock_release(&b);
}

/* 10:00 with 3:00, 3:00, 3:00, 4:00, 1:00 in that order: the 1:00 fills
 * the last minute instead of leaving it empty. */
static void test_time_fit(void **state)
{
	struct db *db = *state;
	file(db, "a", NULL, 3 * MIN);
	file(db, "b", NULL, 3 * MIN);
	file(db, "c", NULL, 3 * MIN);
	file(db, "d", NULL, 4 * MIN);
	file(db, "e", NULL, 1 * MIN);
	struct smartblock b = block();
	b.limit_type = SB_LIMIT_DURATION;
	b.limit_value = 10 * MIN;
	struct smartblock_context ctx = context();
	struct smartblock_result res;
	evaluate(db, &b, &ctx, &res);
	assert_true(res.total_us <= 10 * MIN && res.total_us >= 9 * MIN);
	assert_string_equal(titles(&res), "a,b,c,e");
	assert_int_equal(res.total_us, 10 * MIN);
	smartblock_result_release(&res);

	/* Best fit: the longest that fits, then keep going. 13:00: a, b, c
	 * (9:00), d does fit (13:00). 12:30: a b c (9:00), then d (4:00)
	 * does not fit: e (1:00) does; 2:30 left, nothing fits. */
	b.limit_value = 13 * MIN;
	evaluate(db, &b, &ctx, &res);
	assert_string_equal(titles(&res), "a,b,c,d");
	smartblock_result_release(&res);
	b.limit_value = 12 * MIN + 30 * SEC;
	evaluate(db, &b, &ctx, &res);
	assert_string_equal(titles(&res), "a,b,c,e");
	assert_false(res.short_fill);
	smartblock_result_release(&res);

	/* 5:00: a, then b (3:00) does not fit, e (1:00) does. 4:00 newest
	 * first (e, d, c, b, a: by id when created at the same time): e,
	 * then d (4:00) does not fit, the longest that does is c (3:00). */
	b.limit_value = 5 * MIN;
	evaluate(db, &b, &ctx, &res);
	assert_string_equal(titles(&res), "a,e");
	smartblock_result_release(&res);
	b.limit_value = 4 * MIN;
	b.sort = SB_SORT_NEWEST; /* e, d, c, b, a (same created_at: by id, latest first) */
	evaluate(db, &b, &ctx, &res);
	assert_string_equal(titles(&res), "e,c");
	smartblock_result_release(&res);
	smartblock_release(&b);
}

static void test_repeats(void **state)
{
	struct db *db = *state;
	file(db, "a", NULL, 4 * MIN);
	file(db, "b", NULL, 4 * MIN);
	file(db, "c", NULL, 4 * MIN);
	struct smartblock b = block();
	b.limit_value = 10;
	struct smartblock_context ctx = context();
	struct smartblock_result res;

	/* Off: each once, then short. */
	evaluate(db, &b, &ctx, &res);
	assert_string_equal(titles(&res), "a,b,c");
	assert_true(res.short_fill);
	smartblock_result_release(&res);

	/* On: round again, never twice in a row. */
	b.allow_repeats = true;
	evaluate(db, &b, &ctx, &res);
	assert_int_equal(res.n, 10);
	assert_string_equal(titles(&res), "a,b,c,a,b,c,a,b,c,a");
	assert_false(res.short_fill);
	smartblock_result_release(&res);

	b.sort = SB_SORT_RANDOM;
	for (uint64_t seed = 1; seed <= 20; seed++) {
		ctx.seed = seed;
		evaluate(db, &b, &ctx, &res);
		assert_int_equal(res.n, 10);
		int count[4] = { 0 };
		for (size_t i = 0; i < res.n; i++) {
			count[res.picks[i].file_id]++;
			if (i > 0)
				assert_int_not_equal(res.picks[i].file_id,
						     res.picks[i - 1].file_id);
		}
		/* Whole rounds: each file 3 or 4 times. */
		for (int f = 1; f <= 3; f++)
			assert_true(count[f] == 3 || count[f] == 4);
		smartblock_result_release(&res);
	}

	/* Duration with repeats: 28:00 of 4:00 files in 30:00. */
	b.limit_type = SB_LIMIT_DURATION;
	b.limit_value = 30 * MIN;
	evaluate(db, &b, &ctx, &res);
	assert_int_equal(res.n, 7);
	assert_int_equal(res.total_us, 28 * MIN);
	assert_false(res.short_fill);
	smartblock_result_release(&res);

	/* Without repeats: 12:00 and short. */
	b.allow_repeats = false;
	evaluate(db, &b, &ctx, &res);
	assert_int_equal(res.n, 3);
	assert_int_equal(res.total_us, 12 * MIN);
	assert_true(res.short_fill);
	smartblock_result_release(&res);

	/* One candidate: the same file again and again. */
	b.allow_repeats = true;
	b.limit_type = SB_LIMIT_ITEMS;
	b.limit_value = 4;
	add(&b, 0, "title", SB_IS, "b", NULL);
	evaluate(db, &b, &ctx, &res);
	assert_string_equal(titles(&res), "b,b,b,b");
	smartblock_result_release(&res);
	smartblock_release(&b);

	/* No candidate at all. */
	b = block();
	b.limit_type = SB_LIMIT_DURATION;
	b.limit_value = 10 * MIN;
	b.allow_repeats = true;
	add(&b, 0, "title", SB_IS, "z", NULL);
	evaluate(db, &b, &ctx, &res);
	assert_int_equal(res.n, 0);
	assert_int_equal(res.candidates, 0);
	assert_true(res.short_fill);
	smartblock_result_release(&res);
	smartblock_release(&b);
}

static struct smartblock separated(int64_t artist_sep, int64_t title_sep, int64_t items)
{
	struct smartblock b = block();
	b.sort = SB_SORT_OLDEST;
	b.limit_value = items;
	b.artist_separation_us = artist_sep;
	b.title_separation_us = title_sep;
	return b;
}

/* Artists X, Y; the history says who played when. */
static void test_separation_played(void **state)
{
	struct db *db = *state;
	file(db, "a", "X", 4 * MIN);
	file(db, "b", "Y", 4 * MIN);
	struct smartblock b = separated(30 * MIN, 0, 1);
	struct smartblock_context ctx = context();
	struct smartblock_result res;

	struct smartblock_played played = { .file_id = 99, .starts_at = now_us - 10 * MIN,
					    .artist = "x", .title = "whatever" };
	ctx.played = &played;
	ctx.n_played = 1;
	evaluate(db, &b, &ctx, &res);
	assert_string_equal(titles(&res), "b");
	assert_int_equal(res.separation_relaxed, 0);
	smartblock_result_release(&res);

	/* Longer ago than the separation: no conflict. */
	played.starts_at = now_us - 30 * MIN - 1;
	evaluate(db, &b, &ctx, &res);
	assert_string_equal(titles(&res), "a");
	smartblock_result_release(&res);
	/* Exactly the separation ago: still a conflict. */
	played.starts_at = now_us - 30 * MIN;
	evaluate(db, &b, &ctx, &res);
	assert_string_equal(titles(&res), "b");
	smartblock_result_release(&res);

	/* After the pick's start: not history for it. */
	played.starts_at = now_us;
	evaluate(db, &b, &ctx, &res);
	assert_string_equal(titles(&res), "a");
	smartblock_result_release(&res);

	/* No separation set: the history does not matter. */
	b.artist_separation_us = 0;
	played.starts_at = now_us - MIN;
	evaluate(db, &b, &ctx, &res);
	assert_string_equal(titles(&res), "a");
	smartblock_result_release(&res);

	/* A NULL artist in the history never conflicts. */
	b.artist_separation_us = 30 * MIN;
	played.artist = NULL;
	evaluate(db, &b, &ctx, &res);
	assert_string_equal(titles(&res), "a");
	smartblock_result_release(&res);
	smartblock_release(&b);
}

/* The block's own earlier picks count, at their computed start times. */
static void test_separation_earlier_picks(void **state)
{
	struct db *db = *state;
	file(db, "a", "X", 4 * MIN);
	file(db, "b", "x", 4 * MIN);
	file(db, "c", "Y", 4 * MIN);
	file(db, "d", "Z", 4 * MIN);
	file(db, "e", "X", 4 * MIN);
	file(db, "f", NULL, 4 * MIN);
	file(db, "g", "", 4 * MIN);
	file(db, "h", NULL, 4 * MIN);

	/* X at 0:00; b (x) waits until 12:00; then e (X) waits for b. */
	struct smartblock b = separated(10 * MIN, 0, 5);
	struct smartblock_context ctx = context();
	struct smartblock_result res;
	evaluate(db, &b, &ctx, &res);
	assert_string_equal(titles(&res), "a,c,d,b,f");
	assert_int_equal(res.separation_relaxed, 0);
	smartblock_result_release(&res);

	/* With 20 minutes: a, c, d, then f, g, h (no artist), then b at
	 * 24:00 (a played at 0:00). */
	b.artist_separation_us = 20 * MIN;
	b.limit_value = 7;
	evaluate(db, &b, &ctx, &res);
	assert_string_equal(titles(&res), "a,c,d,f,g,h,b");
	assert_int_equal(res.separation_relaxed, 0);
	smartblock_result_release(&res);

	/* Crossfades make the picks start earlier: with 1:00 overlaps, the
	 * seventh starts at 18:00, within 20:00 of a: e, b conflict, and b
	 * (the first in order) is taken, relaxed. */
	ctx.crossfade_us = MIN;
	evaluate(db, &b, &ctx, &res);
	assert_string_equal(titles(&res), "a,c,d,f,g,h,b");
	assert_int_equal(res.separation_relaxed, 1);
	smartblock_result_release(&res);
	smartblock_release(&b);
}

/* schedule_items in the database count too. */
static void test_separation_schedule(void **state)
{
	struct db *db = *state;
	int64_t a = file(db, "a", "X", 4 * MIN);
	file(db, "b", "Y", 4 * MIN);
	int64_t c = file(db, "c", "Z", 4 * MIN);
	struct smartblock b = separated(30 * MIN, 0, 1);
	struct smartblock_context ctx = context();
	struct smartblock_result res;

	schedule(db, c, now_us - 2 * HOUR); /* long ago */
	evaluate(db, &b, &ctx, &res);
	assert_string_equal(titles(&res), "a");
	smartblock_result_release(&res);

	schedule(db, a, now_us - 5 * MIN);
	evaluate(db, &b, &ctx, &res);
	assert_string_equal(titles(&res), "b");
	assert_int_equal(res.separation_relaxed, 0);
	smartblock_result_release(&res);

	/* The window moves with the picks: the third pick starts at 8:00,
	 * Z is long ago, X was 13 minutes before. */
	b.limit_value = 3;
	evaluate(db, &b, &ctx, &res);
	assert_string_equal(titles(&res), "b,c,a");
	assert_int_equal(res.separation_relaxed, 1);
	smartblock_result_release(&res);
	smartblock_release(&b);
}

static void test_separation_title(void **state)
{
	struct db *db = *state;
	file(db, "Song", "X", 4 * MIN);
	file(db, "SONG", "Y", 4 * MIN);
	file(db, "Other", "Z", 4 * MIN);
	file(db, "", "W", 4 * MIN);
	struct smartblock b = separated(0, HOUR, 1);
	struct smartblock_context ctx = context();
	struct smartblock_result res;

	struct smartblock_played played = { .starts_at = now_us - 50 * MIN, .title = "song" };
	ctx.played = &played;
	ctx.n_played = 1;
	evaluate(db, &b, &ctx, &res);
	assert_string_equal(titles(&res), "Other");
	smartblock_result_release(&res);

	/* From earlier picks: Song, then SONG waits. */
	ctx.n_played = 0;
	b.limit_value = 4;
	evaluate(db, &b, &ctx, &res);
	assert_string_equal(titles(&res), "Song,Other,,SONG");
	assert_int_equal(res.separation_relaxed, 1);
	smartblock_result_release(&res);

	/* From the schedule. */
	int64_t other = fixture_int(db, "SELECT id FROM files WHERE title = 'Other'", NULL, 0);
	schedule(db, other, now_us - 20 * MIN);
	b.limit_value = 2;
	evaluate(db, &b, &ctx, &res);
	assert_string_equal(titles(&res), "Song,");
	smartblock_result_release(&res);
	smartblock_release(&b);
}

/* When nothing keeps the rule: the least bad, counted. */
static void test_separation_relaxed(void **state)
{
	struct db *db = *state;
	file(db, "a", "X", 4 * MIN);
	file(db, "b", "Y", 4 * MIN);
	file(db, "c", "Z", 4 * MIN);
	struct smartblock b = separated(HOUR, 0, 1);
	struct smartblock_context ctx = context();
	struct smartblock_result res;

	struct smartblock_played played[] = {
		{ .starts_at = now_us - 10 * MIN, .artist = "X" },
		{ .starts_at = now_us - 50 * MIN, .artist = "Y" },
		{ .starts_at = now_us - 30 * MIN, .artist = "Z" },
		{ .starts_at = now_us - 55 * MIN, .artist = "X" },
	};
	ctx.played = played;
	ctx.n_played = 4;
	evaluate(db, &b, &ctx, &res);
	assert_string_equal(titles(&res), "b");
	assert_int_equal(res.separation_relaxed, 1);
	smartblock_result_release(&res);

	/* All of them: each one breaks the rule. */
	b.limit_value = 3;
	evaluate(db, &b, &ctx, &res);
	assert_string_equal(titles(&res), "b,c,a");
	assert_int_equal(res.separation_relaxed, 3);
	smartblock_result_release(&res);

	/* A single artist, repeats, time limit: no dead air. */
	b.limit_type = SB_LIMIT_DURATION;
	b.limit_value = 20 * MIN;
	b.allow_repeats = true;
	ctx.n_played = 0;
	add(&b, 0, "artist", SB_IS, "x", NULL);
	evaluate(db, &b, &ctx, &res);
	assert_string_equal(titles(&res), "a,a,a,a,a");
	assert_int_equal(res.separation_relaxed, 4);
	assert_int_equal(res.total_us, 20 * MIN);
	smartblock_result_release(&res);
	smartblock_release(&b);
}

/* Separation with a time fit and random order: the rules hold wherever
 * they can. */
static void test_separation_random(void **state)
{
	struct db *db = *state;
	for (int i = 0; i < 40; i++) {
		char t[16], a[16];
		snprintf(t, sizeof(t), "t%02d", i);
		snprintf(a, sizeof(a), "artist %d", i % 8);
		file(db, t, a, (3 + i % 3) * MIN);
	}
	struct smartblock b = separated(20 * MIN, 0, 1);
	b.sort = SB_SORT_RANDOM;
	b.limit_type = SB_LIMIT_DURATION;
	b.limit_value = HOUR;
	struct smartblock_context ctx = context();
	struct smartblock_result res;
	for (uint64_t seed = 1; seed <= 10; seed++) {
		ctx.seed = seed;
		evaluate(db, &b, &ctx, &res);
		assert_int_equal(res.separation_relaxed, 0);
		assert_true(res.total_us <= HOUR && res.total_us > HOUR - 3 * MIN);
		int64_t start = now_us;
		int64_t starts[64];
		for (size_t i = 0; i < res.n; i++) {
			starts[i] = start;
			for (size_t j = 0; j < i; j++)
				if (strcmp(res.picks[i].artist, res.picks[j].artist) == 0)
					assert_true(starts[i] - starts[j] > 20 * MIN);
			start += res.picks[i].length_us;
		}
		smartblock_result_release(&res);
	}
	smartblock_release(&b);
}

/*
 * Over random libraries and blocks, the rules hold: never past a limit
 * without overflow (only the last pick past it with overflow), no file
 * twice without repeats, never the same file twice in a row, a pick
 * breaks a separation exactly when it is counted as relaxed, and a
 * block that stops before its time limit without being short has no
 * file left that would fit.
 */
static void test_properties(void **state)
{
	struct db *db = *state;
	enum { FILES = 24 };
	int64_t length[FILES + 1];
	const char *artists[] = { "A", "b", "B", "c", "D", NULL, "" };
	uint64_t x = 12345;
	for (int i = 1; i <= FILES; i++) {
		char t[16];
		snprintf(t, sizeof(t), "t%02d", i % 9);
		x = x * 6364136223846793005u + 1442695040888963407u;
		length[i] = (int64_t)(30 + (x >> 33) % 400) * SEC;
		const char *artist = artists[(x >> 20) % 7];
		assert_int_equal(file(db, t, artist, length[i]), i);
	}
	for (int round = 0; round < 120; round++) {
		x = x * 6364136223846793005u + 1442695040888963407u;
		struct smartblock b;
		smartblock_init(&b);
		b.sort = (enum smartblock_sort)((x >> 10) % 6);
		b.allow_repeats = (x >> 14) & 1;
		b.overflow = (x >> 15) & 1;
		b.limit_type = (x >> 16) & 1 ? SB_LIMIT_DURATION : SB_LIMIT_ITEMS;
		b.limit_value = b.limit_type == SB_LIMIT_ITEMS ? (int64_t)(1 + (x >> 20) % 40)
							      : (int64_t)(1 + (x >> 20) % 90) * MIN;
		b.artist_separation_us = (x >> 30) % 3 ? (int64_t)((x >> 32) % 30) * MIN : 0;
		b.title_separation_us = (x >> 40) % 3 ? 0 : (int64_t)((x >> 42) % 60) * MIN;
		struct smartblock_context ctx = context();
		ctx.seed = x;
		ctx.crossfade_us = (x >> 50) % 2 ? 5 * SEC : 0;
		struct smartblock_result res;
		evaluate(db, &b, &ctx, &res);
		assert_int_equal(res.candidates, FILES);

		bool used[FILES + 1] = { false };
		int64_t starts[4096];
		size_t relaxed = 0;
		int64_t start = ctx.at;
		assert_true(res.n < 4096);
		for (size_t i = 0; i < res.n; i++) {
			int64_t id = res.picks[i].file_id;
			assert_true(id >= 1 && id <= FILES);
			assert_int_equal(res.picks[i].length_us, length[id]);
			if (!b.allow_repeats)
				assert_false(used[id]);
			used[id] = true;
			if (i > 0)
				assert_int_not_equal(id, res.picks[i - 1].file_id);
			starts[i] = start;
			bool breaks = false;
			for (size_t j = 0; j < i; j++) {
				int64_t ago = start - starts[j];
				const char *a1 = res.picks[i].artist, *a2 = res.picks[j].artist;
				const char *t1 = res.picks[i].title, *t2 = res.picks[j].title;
				if (a1 && *a1 && a2 && strcasecmp(a1, a2) == 0 &&
				    ago <= b.artist_separation_us && b.artist_separation_us > 0)
					breaks = true;
				if (t1 && *t1 && t2 && strcasecmp(t1, t2) == 0 &&
				    ago <= b.title_separation_us && b.title_separation_us > 0)
					breaks = true;
			}
			relaxed += breaks;
			start += res.picks[i].length_us - ctx.crossfade_us;
		}
		assert_int_equal(relaxed, res.separation_relaxed);
		if (b.limit_type == SB_LIMIT_ITEMS) {
			assert_true((int64_t)res.n <= b.limit_value);
			assert_true(res.short_fill == ((int64_t)res.n < b.limit_value));
		} else if (!b.overflow) {
			assert_true(res.total_us <= b.limit_value);
			int64_t room = b.limit_value - res.total_us;
			if (res.n > 0)
				room += ctx.crossfade_us;
			for (int id = 1; id <= FILES && !res.short_fill && res.n > 0; id++) {
				bool eligible = (b.allow_repeats || !used[id]) &&
						id != res.picks[res.n - 1].file_id &&
						length[id] > ctx.crossfade_us;
				if (eligible && length[id] <= room)
					fail_msg("round %d: file %d (%lld us) fits in %lld us",
						 round, id, (long long)length[id],
						 (long long)room);
			}
		} else if (res.n > 0) {
			int64_t last = res.picks[res.n - 1].length_us;
			if (res.n > 1)
				last -= ctx.crossfade_us;
			assert_true(res.total_us - last < b.limit_value);
			assert_true(res.short_fill == (res.total_us < b.limit_value));
		}
		smartblock_result_release(&res);
	}
}

/* Statements run on a SQLite connection between two readings. */
static uint64_t statements(const struct db_stats *before, const struct db_stats *after)
{
	return after->prepared + after->reused - before->prepared - before->reused;
}

/* One query for the candidates and one for the schedule around the
 * block, however many files and picks (counted on SQLite, whose
 * connection counts its statements). */
static void test_query_count(void **state)
{
	struct db *db = *state;
	for (int i = 0; i < 200; i++) {
		char t[16], a[16];
		snprintf(t, sizeof(t), "t%03d", i);
		snprintf(a, sizeof(a), "artist %d", i % 5);
		file(db, t, a, (2 + i % 4) * MIN);
	}
	schedule(db, 1, now_us - 10 * MIN);
	struct smartblock b = block();
	b.sort = SB_SORT_RANDOM;
	b.limit_type = SB_LIMIT_DURATION;
	b.limit_value = 3 * HOUR;
	b.artist_separation_us = 30 * MIN;
	b.title_separation_us = HOUR;
	add(&b, 0, "artist", SB_STARTS_WITH, "artist", NULL);
	add(&b, 1, "year", SB_IS_NOT, "1990", NULL);
	struct smartblock_context ctx = context();
	struct smartblock_result res;
	struct db_stats before, after;
	db_get_stats(db, &before);
	evaluate(db, &b, &ctx, &res);
	db_get_stats(db, &after);
	assert_int_equal(res.total_us, 3 * HOUR);
	assert_true(res.n >= 36);
	if (fixture_backend() == DB_SQLITE)
		assert_int_equal(statements(&before, &after), 2);
	smartblock_result_release(&res);

	/* Without separation, only the candidates. */
	b.artist_separation_us = b.title_separation_us = 0;
	db_get_stats(db, &before);
	evaluate(db, &b, &ctx, &res);
	db_get_stats(db, &after);
	if (fixture_backend() == DB_SQLITE)
		assert_int_equal(statements(&before, &after), 1);
	smartblock_result_release(&res);
	smartblock_release(&b);
}

static void test_validation(void **state)
{
	assert_string_equal(invalid1("colour", SB_IS, "red", NULL),
			    "criterion 1: unknown field 'colour'");
	assert_string_equal(invalid1("year", SB_IS, "abc", NULL),
			    "criterion 1: year: 'abc' is not a number");
	assert_string_equal(invalid1("year", SB_IS, "", NULL),
			    "criterion 1: year: '' is not a number");
	assert_string_equal(invalid1("year", SB_IS, "1e3", NULL),
			    "criterion 1: year: '1e3' is not a number");
	assert_string_equal(invalid1("bpm", SB_GREATER, "nan", NULL),
			    "criterion 1: bpm: 'nan' is not a number");
	assert_string_equal(invalid1("duration", SB_GREATER, "99999999999999", NULL),
			    "criterion 1: duration: '99999999999999' is out of range");
	assert_string_equal(invalid1("last_played_at", SB_IN_LAST, "7", NULL),
			    "criterion 1: in_last needs an amount and a unit, like '7 days'");
	assert_string_equal(invalid1("last_played_at", SB_IN_LAST, "days", NULL),
			    "criterion 1: in_last needs an amount and a unit, like '7 days'");
	assert_string_equal(invalid1("last_played_at", SB_IN_LAST, "7 fortnights", NULL),
			    "criterion 1: in_last needs an amount and a unit, like '7 days'");
	assert_string_equal(invalid1("last_played_at", SB_IN_LAST, "0 days", NULL),
			    "criterion 1: in_last needs an amount and a unit, like '7 days'");
	assert_string_equal(invalid1("created_at", SB_NOT_IN_LAST, "-1 days", NULL),
			    "criterion 1: not_in_last needs an amount and a unit, like '7 days'");
	assert_string_equal(invalid1("created_at", SB_IS, "2024-02-30", NULL),
			    "criterion 1: created_at: '2024-02-30' is not a date"
			    " (YYYY-MM-DD or RFC 3339)");
	assert_string_equal(invalid1("created_at", SB_IS, "yesterday", NULL),
			    "criterion 1: created_at: 'yesterday' is not a date"
			    " (YYYY-MM-DD or RFC 3339)");
	assert_string_equal(invalid1("year", SB_CONTAINS, "19", NULL),
			    "criterion 1: 'contains' does not apply to year (a number)");
	assert_string_equal(invalid1("title", SB_GREATER, "m", NULL),
			    "criterion 1: 'greater' does not apply to title (text)");
	assert_string_equal(invalid1("year", SB_IN_LAST, "7 days", NULL),
			    "criterion 1: 'in_last' does not apply to year (a number)");
	assert_string_equal(invalid1("created_at", SB_STARTS_WITH, "2024", NULL),
			    "criterion 1: 'starts_with' does not apply to created_at (a date)");
	assert_string_equal(invalid1("title", SB_IS, "a", "b"),
			    "criterion 1: only 'between' takes a second value");
	assert_string_equal(invalid1("year", SB_BETWEEN, "2000", "1990"),
			    "criterion 1: 'between' needs the lower value first");
	assert_string_equal(invalid1("created_at", SB_BETWEEN, "2024-02-01", "2024-01-01"),
			    "criterion 1: 'between' needs the lower value first");
	assert_string_equal(invalid1("year", (enum smartblock_modifier)42, "1", NULL),
			    "criterion 1: unknown modifier");
	assert_string_equal(invalid1("title", SB_IS, "\xff\xfe", NULL),
			    "criterion 1: the value is not valid UTF-8");

	/* Named by their place. */
	struct smartblock b = block();
	add(&b, 0, "year", SB_GREATER, "1990", NULL);
	add(&b, 1, "year", SB_BETWEEN, "1990", NULL);
	assert_string_equal(invalid(&b), "criterion 2: 'between' needs a second value");

	/* Arrays without their NUL (filled in directly, not through
	 * smartblock_add_criterion). */
	b = block();
	add(&b, 0, "title", SB_IS, "x", NULL);
	memset(b.criteria[0].value, 'v', sizeof(b.criteria[0].value));
	assert_string_equal(invalid(&b), "criterion 1: the value is too long");
	b = block();
	add(&b, 0, "title", SB_IS, "x", NULL);
	memset(b.criteria[0].field, 'f', sizeof(b.criteria[0].field));
	assert_string_equal(invalid(&b), "criterion 1: the field name is too long");

	/* The block's own settings. */
	b = block();
	for (unsigned i = 0; i < SMARTBLOCK_CRITERIA_MAX; i++)
		add(&b, 0, "title", SB_IS, "x", NULL);
	b.n_criteria++; /* one more than add allows (never read) */
	assert_string_equal(invalid(&b), "a block can have at most 100 criteria");
	b = block();
	b.limit_value = 0;
	assert_string_equal(invalid(&b), "the limit must be more than 0");
	b = block();
	b.limit_value = SMARTBLOCK_ITEMS_MAX + 1;
	assert_string_equal(invalid(&b), "a block can pick at most 10000 items");
	b = block();
	b.limit_type = SB_LIMIT_DURATION;
	b.limit_value = SMARTBLOCK_DURATION_MAX + 1;
	assert_string_equal(invalid(&b), "a duration limit can be at most 31 days");
	b = block();
	b.artist_separation_us = -1;
	assert_string_equal(invalid(&b), "a separation cannot be negative");
	b = block();
	b.title_separation_us = SMARTBLOCK_DURATION_MAX + 1;
	assert_string_equal(invalid(&b), "a separation can be at most 31 days");
	b = block();
	b.sort = (enum smartblock_sort)17;
	assert_string_equal(invalid(&b), "unknown sort");
	b = block();
	b.limit_type = (enum smartblock_limit)3;
	assert_string_equal(invalid(&b), "unknown limit type");

	/* Good ones, of every kind. */
	b = block();
	add(&b, 0, "title", SB_CONTAINS, "", NULL);
	add(&b, 0, "year", SB_BETWEEN, "1990", "1990");
	add(&b, 0, "bpm", SB_LESS, "-3.5", NULL);
	add(&b, 0, "duration", SB_GREATER, ".5", NULL);
	add(&b, 0, "created_at", SB_BETWEEN, "2024-01-01", "2024-01-01T10:00:00+02:00");
	add(&b, 1, "updated_at", SB_IN_LAST, "  12 Hours ", NULL);
	add(&b, 1, "last_played_at", SB_NOT_IN_LAST, "1 year", NULL);
	add(&b, 2, "track_type", SB_IS_NOT, "ad", NULL);
	char err[256] = "x";
	assert_int_equal(smartblock_validate(&b, err, sizeof(err)), 0);
	assert_string_equal(err, "");
	assert_int_equal(smartblock_validate(&b, NULL, 0), 0);
	smartblock_release(&b);
	assert_int_equal(smartblock_validate(NULL, err, sizeof(err)), -EINVAL);
}

static void test_bad_context(void **state)
{
	struct db *db = *state;
	struct smartblock b = block();
	struct smartblock_context ctx = context();
	struct smartblock_result res;
	assert_int_equal(smartblock_evaluate(db, &b, NULL, &res), -EINVAL);
	ctx.crossfade_us = -1;
	assert_int_equal(smartblock_evaluate(db, &b, &ctx, &res), -EINVAL);
	ctx = context();
	ctx.remaining_us = -1;
	assert_int_equal(smartblock_evaluate(db, &b, &ctx, &res), -EINVAL);
	ctx = context();
	ctx.n_played = 1;
	assert_int_equal(smartblock_evaluate(db, &b, &ctx, &res), -EINVAL);
	ctx = context();
	ctx.at = TIME_MAX_US + 1;
	assert_int_equal(smartblock_evaluate(db, &b, &ctx, &res), -EINVAL);
	assert_int_equal(res.n, 0);
	assert_null(res.picks);
	smartblock_release(&b);
}

static void test_load(void **state)
{
	struct db *db = *state;
	struct smartblock b;
	assert_int_equal(smartblock_load(db, 12345, &b), -ENOENT);
	assert_int_equal(b.n_criteria, 0);

	int64_t id = fixture_int(db,
				 "INSERT INTO smart_blocks (name, limit_type, limit_value, sort,"
				 " allow_repeats, overflow, artist_separation_us, fill_show,"
				 " created_at, updated_at) VALUES ('Rock 90s', 'duration',"
				 " 1800000000, 'least_played', TRUE, FALSE, 2700000000, TRUE, 0, 0)"
				 " RETURNING id",
				 NULL, 0);
	fixture_exec(db,
		     "INSERT INTO smart_block_criteria (smart_block_id, group_no, field, modifier,"
		     " value, value2) VALUES ($1, 1, 'genre', 'is', 'jazz', NULL),"
		     " ($1, 0, 'genre', 'contains', 'rock', ''),"
		     " ($1, 0, 'year', 'between', '1990', '1999')",
		     DB_PARAMS(DB_I(id)));
	assert_int_equal(smartblock_load(db, id, &b), 0);
	assert_int_equal(b.id, id);
	assert_string_equal(b.name, "Rock 90s");
	assert_int_equal(b.limit_type, SB_LIMIT_DURATION);
	assert_int_equal(b.limit_value, 30 * MIN);
	assert_int_equal(b.sort, SB_SORT_LEAST_PLAYED);
	assert_true(b.allow_repeats);
	assert_false(b.overflow);
	assert_true(b.fill_show);
	assert_int_equal(b.artist_separation_us, 45 * MIN);
	assert_int_equal(b.title_separation_us, 0);
	assert_int_equal(b.n_criteria, 3);
	assert_int_equal(b.criteria[0].group_no, 0);
	assert_string_equal(b.criteria[0].field, "genre");
	assert_int_equal(b.criteria[0].modifier, SB_CONTAINS);
	assert_string_equal(b.criteria[0].value, "rock");
	assert_string_equal(b.criteria[0].value2, "");
	assert_string_equal(b.criteria[1].field, "year");
	assert_int_equal(b.criteria[1].modifier, SB_BETWEEN);
	assert_string_equal(b.criteria[1].value2, "1999");
	assert_int_equal(b.criteria[2].group_no, 1);
	assert_string_equal(b.criteria[2].value, "jazz");
	assert_int_equal(smartblock_validate(&b, NULL, 0), 0);

	/* And it runs. */
	int64_t f = file(db, "t", "A", 4 * MIN);
	set_text(db, f, "genre", "Jazz");
	struct smartblock_context ctx = context();
	struct smartblock_result res;
	evaluate(db, &b, &ctx, &res);
	assert_int_equal(res.candidates, 1);
	/* 30:00 of one 4:00 file, repeated: it always breaks the separation. */
	assert_string_equal(titles(&res), "t,t,t,t,t,t,t");
	assert_int_equal(res.separation_relaxed, 6);
	smartblock_result_release(&res);
	smartblock_release(&b);

	/* Stored but not valid: loaded, and validate says why. */
	fixture_exec(db,
		     "INSERT INTO smart_block_criteria (smart_block_id, group_no, field, modifier,"
		     " value) VALUES ($1, 2, 'colour', 'is', 'red')",
		     DB_PARAMS(DB_I(id)));
	assert_int_equal(smartblock_load(db, id, &b), 0);
	char err[256];
	assert_int_equal(smartblock_validate(&b, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "criterion 4: unknown field 'colour'");
	smartblock_release(&b);

	/* A value too long for the struct. */
	char big[400];
	memset(big, 'v', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	fixture_exec(db,
		     "INSERT INTO smart_block_criteria (smart_block_id, group_no, field, modifier,"
		     " value) VALUES ($1, 3, 'title', 'is', $2)",
		     DB_PARAMS(DB_I(id), DB_T(big)));
	assert_int_equal(smartblock_load(db, id, &b), -EINVAL);
	assert_null(b.criteria);
	assert_int_equal(b.n_criteria, 0);
}

int main(int argc, char **argv)
{
	if (fixture_init(argc, argv) < 0)
		return 2;
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_add_criterion_bounds),
		T(test_no_criteria_ready_only),
		T(test_text_modifiers),
		T(test_metacharacters),
		T(test_number_modifiers),
		T(test_duration_field),
		T(test_date_modifiers),
		T(test_track_type),
		T(test_groups),
		T(test_sorts),
		T(test_random_seed),
		T(test_limit_items),
		T(test_limit_duration_and_overflow),
		T(test_fill_show),
		T(test_time_fit),
		T(test_repeats),
		T(test_separation_played),
		T(test_separation_earlier_picks),
		T(test_separation_schedule),
		T(test_separation_title),
		T(test_separation_relaxed),
		T(test_separation_random),
		T(test_properties),
		T(test_query_count),
		T(test_validation),
		T(test_bad_context),
		T(test_load),
	};
#undef T
	int failed = cmocka_run_group_tests_name(fixture_group("smartblock"), tests, NULL, NULL);
	fixture_fini();
	return failed ? 1 : 0;
}
