/*
 * test_property.c - for random valid edits, the compiled snapshot is
 * always valid: it passes the protocol validator (which checks that
 * starts increase and that items overlap only by their crossfades), every
 * item lies inside its show instance, and nothing is on air twice. Runs
 * on SQLite or PostgreSQL (argv[1]); ONAIR_PROPERTY_SEED replays a run
 * (the seed is printed), ONAIR_PROPERTY_ROUNDS changes its length.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "station/compile.h"
#include "station/placement.h"
#include "station_fixture.h"

#define S INT64_C(1000000)
#define MIN (60 * S)
#define H (60 * MIN)
#define T0 INT64_C(1796032800000000)
#define NOW (T0 - H)

#define N_INSTANCES 8
#define N_FILES 12

static uint64_t rng;

static uint64_t next_random(void)
{
	/* xorshift64* */
	rng ^= rng >> 12;
	rng ^= rng << 25;
	rng ^= rng >> 27;
	return rng * UINT64_C(2685821657736338717);
}

static int64_t pick(int64_t lo, int64_t hi)
{
	return lo + (int64_t)(next_random() % (uint64_t)(hi - lo + 1));
}

struct world {
	struct db *db;
	int64_t instances[N_INSTANCES];
	int64_t files[N_FILES];
	int64_t webstream;
};

static int64_t version_of(struct db *db, int64_t instance)
{
	return fixture_int(db, "SELECT version FROM show_instances WHERE id = $1",
			   DB_PARAMS(DB_I(instance)));
}

static int64_t n_items(struct db *db, int64_t instance)
{
	return fixture_int(db, "SELECT COUNT(*) FROM schedule_items WHERE instance_id = $1",
			   DB_PARAMS(DB_I(instance)));
}

static int64_t some_item(struct db *db, int64_t instance)
{
	int64_t n = n_items(db, instance);
	if (n == 0)
		return 0;
	return fixture_int(db,
			   "SELECT id FROM schedule_items WHERE instance_id = $1 AND position = $2",
			   DB_PARAMS(DB_I(instance), DB_I(pick(0, n - 1))));
}

static void random_item(const struct world *w, struct placement_item *it)
{
	int64_t k = pick(0, 9);
	if (k < 7) {
		placement_item_init(it, PLACEMENT_FILE);
		it->file_id = w->files[pick(0, N_FILES - 1)];
		if (pick(0, 3) == 0) {
			it->cue_in_us = pick(0, 20) * S;
			it->cue_out_us = it->cue_in_us + pick(40, 100) * S;
		}
	} else if (k == 7) {
		placement_item_init(it, PLACEMENT_WEBSTREAM);
		it->webstream_id = w->webstream;
		it->length_us = pick(0, 1) ? 0 : pick(1, 20) * MIN;
	} else {
		placement_item_init(it, k == 8 ? PLACEMENT_LIVE : PLACEMENT_SILENCE);
		it->length_us = pick(1, 30) * MIN;
	}
	if (pick(0, 2) == 0)
		it->crossfade_us = pick(0, 8) * S;
	if (pick(0, 2) == 0)
		it->fade_in_us = pick(0, 10) * S;
	if (pick(0, 2) == 0)
		it->fade_out_us = pick(0, 10) * S;
	if (pick(0, 4) == 0) {
		it->has_gain = true;
		it->gain_db = (double)pick(-20, 10);
	}
}

/* One random edit; returns what placement said (0, or an error that a
 * valid edit may meet: none is expected here). */
static int random_edit(struct world *w)
{
	struct db *db = w->db;
	int64_t inst = w->instances[pick(0, N_INSTANCES - 1)];
	int64_t version = version_of(db, inst);
	char err[256] = "";
	int r;
	int64_t what = pick(0, 9);
	if (what < 6 || n_items(db, inst) == 0) {
		struct placement_item items[3];
		size_t n = (size_t)pick(1, 3);
		for (size_t i = 0; i < n; i++)
			random_item(w, &items[i]);
		long pos = (long)pick(-1, n_items(db, inst));
		r = placement_insert(db, NOW, inst, version, pos, items, n, NULL, NULL, err,
				     sizeof(err));
	} else if (what < 8) {
		int64_t to = w->instances[pick(0, N_INSTANCES - 1)];
		int64_t item = some_item(db, inst);
		long pos = (long)pick(-1, n_items(db, to) - (to == inst ? 1 : 0));
		r = placement_move(db, NOW, inst, version, item, to, version_of(db, to), pos,
				   NULL, err, sizeof(err));
	} else if (what == 8) {
		int64_t item = some_item(db, inst);
		r = placement_remove(db, NOW, inst, version, &item, 1, NULL, err, sizeof(err));
	} else {
		/* A station-wide change: the default crossfade, then retime. */
		fixture_exec(db, "UPDATE station_settings SET default_crossfade_us = $1 WHERE id = 1",
			     DB_PARAMS(DB_I(pick(0, 5) * S)));
		for (int i = 0; i < N_INSTANCES; i++)
			if ((r = placement_retime(db, w->instances[i])) < 0)
				break;
	}
	/* A crossfade longer than a short item is refused by placement:
	 * that is the one refusal a random edit may meet. */
	if (r == -EINVAL && strstr(err, "crossfade"))
		r = 0;
	if (r < 0)
		fail_msg("edit %" PRId64 " on instance %" PRId64 ": %d %s", what, inst, r, err);
	return r;
}

static void check_snapshot(struct world *w, int64_t from, int64_t to)
{
	struct proto_snapshot s;
	struct compile_report rep;
	struct compile_options o = { .from = from, .to = to, .now = NOW };
	char err[512];
	int r = compile_snapshot(w->db, &o, &s, &rep, err, sizeof(err));
	if (r < 0)
		fail_msg("compile_snapshot: %d %s", r, err);
	struct proto_error perr;
	if (proto_snapshot_validate(&s, &perr) < 0)
		fail_msg("invalid snapshot: %s", perr.text);
	for (size_t i = 0; i < s.n_items; i++) {
		const struct proto_item *it = &s.items[i];
		int64_t start = fixture_int(w->db, "SELECT starts_at FROM show_instances WHERE id = $1",
					    DB_PARAMS(DB_I(it->show.instance_id)));
		int64_t end = fixture_int(w->db, "SELECT ends_at FROM show_instances WHERE id = $1",
					  DB_PARAMS(DB_I(it->show.instance_id)));
		if (it->start < start || it->end > end)
			fail_msg("item %" PRId64 " (%" PRId64 "..%" PRId64
				 ") outside its instance %" PRId64 "..%" PRId64,
				 it->id, it->start, it->end, start, end);
		if (i > 0 && it->start <= s.items[i - 1].start)
			fail_msg("item %zu does not start after item %zu", i, i - 1);
		if (i > 0 && it->start < s.items[i - 1].end - it->crossfade)
			fail_msg("item %zu overlaps item %zu beyond its crossfade", i, i - 1);
	}
	/* Gaps are reported inside the window, in order, without overlap. */
	for (size_t i = 0; i < rep.n_gaps; i++) {
		assert_true(rep.gaps[i].start < rep.gaps[i].end);
		assert_true(rep.gaps[i].start >= from && rep.gaps[i].end <= s.window_end);
		if (i > 0)
			assert_true(rep.gaps[i].start >= rep.gaps[i - 1].end);
	}
	compile_report_release(&rep);
	proto_snapshot_release(&s);
}

static void test_random_edits(void **state)
{
	(void)state;
	const char *seed_env = getenv("ONAIR_PROPERTY_SEED");
	const char *rounds_env = getenv("ONAIR_PROPERTY_ROUNDS");
	rng = seed_env ? strtoull(seed_env, NULL, 0) : (uint64_t)time(NULL) * 2654435761u + 1;
	if (rng == 0)
		rng = 1;
	int rounds = rounds_env ? atoi(rounds_env) : 600;
	printf("property seed: ONAIR_PROPERTY_SEED=%" PRIu64 " (%d rounds)\n", rng, rounds);

	struct world w = { .db = fixture_db() };
	for (int i = 0; i < N_FILES; i++) {
		char title[16];
		snprintf(title, sizeof(title), "t%d", i);
		w.files[i] = fixture_file(w.db, title, "a", pick(2, 9) * MIN + pick(0, 59) * S);
		fixture_exec(w.db, "UPDATE files SET loudness_lufs = $1, true_peak_dbtp = $2"
				   " WHERE id = $3",
			     DB_PARAMS(DB_R((double)pick(-30, -5)), DB_R((double)pick(-12, 2)),
				       DB_I(w.files[i])));
	}
	w.webstream = fixture_int(w.db,
				  "INSERT INTO webstreams (name, url, duration_us, created_at,"
				  " updated_at) VALUES ('w', 'https://relay.example/a', $1, 0, 0)"
				  " RETURNING id",
				  DB_PARAMS(DB_I(15 * MIN)));
	/* Shows back to back, one overlapping its neighbour, one with a gap. */
	int64_t show = fixture_show(w.db, "random");
	int64_t t = T0;
	for (int i = 0; i < N_INSTANCES; i++) {
		int64_t len = pick(1, 4) * 30 * MIN;
		int64_t start = t;
		if (i == 3)
			start -= 20 * MIN;	/* overlaps the previous show */
		if (i == 5)
			start += 45 * MIN;	/* a hole with no show */
		w.instances[i] = fixture_instance(w.db, show, start, start + len);
		t = start + len;
	}
	for (int round = 0; round < rounds; round++) {
		random_edit(&w);
		if (round % 10 == 9) {
			int64_t a = T0 + pick(-2, 8) * 30 * MIN;
			check_snapshot(&w, a, a + pick(1, 12) * 30 * MIN);
		}
	}
	check_snapshot(&w, T0 - H, t + H);
	db_close(w.db);
}

int main(int argc, char **argv)
{
	if (fixture_init(argc, argv) < 0)
		return 2;
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_edits),
	};
	int failed = cmocka_run_group_tests_name(fixture_group("property"), tests, NULL, NULL);
	fixture_fini();
	return failed ? 1 : 0;
}
