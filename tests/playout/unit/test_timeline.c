/* The timeline planner: what is pushed when, late joins, changes, misses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/timeutil.h"
#include "playout/timeline.h"

#define S USEC_PER_SEC
#define T0 (INT64_C(1800000000) * S)

static const char *const hashes[] = {
	"sha256:1111111111111111111111111111111111111111111111111111111111111111",
	"sha256:2222222222222222222222222222222222222222222222222222222222222222",
	"sha256:3333333333333333333333333333333333333333333333333333333333333333",
	"sha256:4444444444444444444444444444444444444444444444444444444444444444",
	"sha256:5555555555555555555555555555555555555555555555555555555555555555",
	"sha256:6666666666666666666666666666666666666666666666666666666666666666",
};

static struct proto_item items[8];
static struct proto_snapshot snap;
static bool missing[8];

static bool have(void *ud, const struct proto_media *m)
{
	for (size_t i = 0; i < 8; i++)
		if (items[i].media.hash == m->hash)
			return !missing[i];
	return false;
}

/* n file items of len seconds each, back to back from T0. */
static void make(size_t n, int64_t len)
{
	memset(items, 0, sizeof(items));
	memset(missing, 0, sizeof(missing));
	for (size_t i = 0; i < n; i++) {
		items[i] = (struct proto_item){
			.id = (int64_t)i + 1,
			.kind = PROTO_ITEM_FILE,
			.start = T0 + (int64_t)i * len,
			.end = T0 + (int64_t)(i + 1) * len,
			.media = { .id = 100 + (int64_t)i, .hash = (char *)hashes[i % 6], .size = 1,
				   .duration = len + 10 * S },
			.cue_out = len,
			.fade_in = S / 2,
			.fade_out = S,
		};
	}
	snap = (struct proto_snapshot){ .revision = 1, .items = items, .n_items = n };
}

static size_t plan(struct timeline *t, int64_t now, struct timeline_action *a)
{
	return timeline_plan(t, &snap, now, have, NULL, a, 32);
}

static void test_pushes_lead_before_start(void **state)
{
	make(3, 60 * S);
	struct timeline t;
	timeline_init(&t);
	struct timeline_action a[32];
	assert_int_equal(plan(&t, T0 - 10 * S, a), 0);
	size_t n = plan(&t, T0 - 2 * S, a);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].kind, TL_PUSH);
	assert_int_equal(a[0].item_id, 1);
	assert_int_equal(a[0].gate, T0);
	assert_int_equal(a[0].cue_in, 0);
	assert_int_equal(a[0].cue_out, 60 * S);
	assert_int_equal(a[0].fade_in, S / 2);
	assert_false(a[0].late);
	/* Pushed once only. */
	assert_int_equal(plan(&t, T0 - S, a), 0);
	assert_int_equal(plan(&t, T0 + 30 * S, a), 0);
	/* The next one lead before its start, into another slot. */
	n = plan(&t, T0 + 58 * S, a);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].item_id, 2);
	assert_int_not_equal(a[0].slot, timeline_slot_of(&t, 1));
}

static void test_ended_item_frees_its_slot(void **state)
{
	make(2, 10 * S);
	struct timeline t;
	timeline_init(&t);
	struct timeline_action a[32];
	plan(&t, T0 - S, a);
	assert_true(timeline_mark_started(&t, a[0].slot, 1));
	assert_false(timeline_mark_started(&t, a[0].slot, 2));
	size_t n = plan(&t, T0 + 10 * S, a);
	/* item 1 ended (started: completed); item 2 is due and pushed late
	 * by nothing (start == now, within push latency: joined). */
	assert_true(n >= 1);
	assert_int_equal(a[0].kind, TL_ENDED);
	assert_int_equal(a[0].item_id, 1);
	assert_true(a[0].started);
	assert_int_equal(timeline_slot_of(&t, 1), -1);
}

static void test_late_join_moves_cue_in(void **state)
{
	make(2, 60 * S);
	struct timeline t;
	timeline_init(&t);
	t.push_latency = 100 * USEC_PER_MSEC;
	struct timeline_action a[32];
	size_t n = plan(&t, T0 + 20 * S, a);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].kind, TL_PUSH);
	assert_true(a[0].late);
	assert_int_equal(a[0].gate, T0 + 20 * S + 100 * USEC_PER_MSEC);
	assert_int_equal(a[0].cue_in, 20 * S + 100 * USEC_PER_MSEC);
	assert_int_equal(a[0].cue_out, 60 * S);
	assert_true(a[0].fade_in > 0 && a[0].fade_in <= S / 2);
}

static void test_not_worth_joining_near_the_end(void **state)
{
	make(2, 60 * S);
	struct timeline t;
	timeline_init(&t);
	struct timeline_action a[32];
	/* 1.5 s left of item 1 (< min_join 2 s): only item 2 is planned. */
	size_t n = plan(&t, T0 + 58 * S + S / 2, a);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].item_id, 2);
	assert_false(a[0].late);
}

static void test_missing_file_reported_once_then_joined(void **state)
{
	make(2, 60 * S);
	missing[0] = true;
	struct timeline t;
	timeline_init(&t);
	struct timeline_action a[32];
	size_t n = plan(&t, T0 - S, a);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].kind, TL_MISSING);
	assert_int_equal(a[0].item_id, 1);
	assert_int_equal(plan(&t, T0 + S, a), 0);
	/* The file arrives in the middle of its item: joined at the offset. */
	missing[0] = false;
	n = plan(&t, T0 + 30 * S, a);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].kind, TL_PUSH);
	assert_true(a[0].late);
	assert_true(a[0].cue_in >= 30 * S);
}

static void test_missing_file_never_came_item_fails_at_end(void **state)
{
	make(2, 60 * S);
	missing[0] = true;
	struct timeline t;
	timeline_init(&t);
	struct timeline_action a[32];
	size_t n = plan(&t, T0 - S, a);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].kind, TL_MISSING);
	assert_int_equal(plan(&t, T0 + 30 * S, a), 0);
	n = plan(&t, T0 + 58 * S, a);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].kind, TL_PUSH);
	assert_int_equal(a[0].item_id, 2);
	/* Its end comes without the file: it ended, not played, once. */
	n = plan(&t, T0 + 60 * S, a);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].kind, TL_ENDED);
	assert_int_equal(a[0].slot, -1);
	assert_int_equal(a[0].item_id, 1);
	assert_int_equal(a[0].item_index, 0);
	assert_false(a[0].started);
	assert_int_equal(plan(&t, T0 + 61 * S, a), 0);
}

static void test_missing_item_removed_is_forgotten(void **state)
{
	make(2, 60 * S);
	missing[0] = true;
	struct timeline t;
	timeline_init(&t);
	struct timeline_action a[32];
	plan(&t, T0 - S, a);
	/* A new snapshot without item 1: no end is reported for it. */
	snap.items = items + 1;
	snap.n_items = 1;
	size_t n = plan(&t, T0 + 61 * S, a);
	for (size_t i = 0; i < n; i++)
		assert_int_not_equal(a[i].kind, TL_ENDED);
	assert_int_equal(t.n_missing, 0);
}

static void test_changed_item_is_cleared_and_replanned(void **state)
{
	make(2, 60 * S);
	struct timeline t;
	timeline_init(&t);
	struct timeline_action a[32];
	plan(&t, T0 - S, a);
	int slot = a[0].slot;
	timeline_mark_started(&t, slot, 1);
	/* Same snapshot content, new revision: nothing to do. */
	snap.revision = 2;
	assert_int_equal(plan(&t, T0 + 5 * S, a), 0);
	/* Item 1 gets a new gain: cut and rejoined at its offset. */
	items[0].gain_db = -6;
	size_t n = plan(&t, T0 + 10 * S, a);
	assert_int_equal(n, 2);
	assert_int_equal(a[0].kind, TL_CLEAR);
	assert_int_equal(a[0].slot, slot);
	assert_true(a[0].started);
	assert_int_equal(a[1].kind, TL_PUSH);
	assert_int_equal(a[1].item_id, 1);
	assert_true(a[1].late);
	/* Item 1 removed: cleared, nothing pushed for it. */
	snap.items = items + 1;
	snap.n_items = 1;
	n = plan(&t, T0 + 20 * S, a);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].kind, TL_CLEAR);
	assert_int_equal(a[0].item_id, 1);
}

static void test_no_snapshot_clears_everything(void **state)
{
	make(1, 60 * S);
	struct timeline t;
	timeline_init(&t);
	struct timeline_action a[32];
	plan(&t, T0 - S, a);
	size_t n = timeline_plan(&t, NULL, T0, have, NULL, a, 32);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].kind, TL_CLEAR);
}

static void test_short_items_wait_for_a_free_slot(void **state)
{
	/* Eight 1-second jingles: never more than LIQ_SLOTS held at once. */
	make(8, S);
	for (size_t i = 0; i < 8; i++)
		items[i].fade_in = items[i].fade_out = 0;
	struct timeline t;
	timeline_init(&t);
	t.min_join = S / 2;
	struct timeline_action a[32];
	size_t pushed = 0;
	for (int64_t now = T0 - 5 * S; now < T0 + 9 * S; now += 100 * USEC_PER_MSEC) {
		size_t n = plan(&t, now, a);
		for (size_t i = 0; i < n; i++) {
			if (a[i].kind != TL_PUSH)
				continue;
			pushed++;
			assert_false(a[i].late);
			timeline_mark_started(&t, a[i].slot, a[i].item_id);
		}
		size_t busy = 0;
		for (int k = 0; k < LIQ_SLOTS; k++)
			busy += t.slots[k].item_id != 0;
		assert_true(busy <= LIQ_SLOTS);
	}
	assert_int_equal(pushed, 8);
}

static void test_overbooked_item_is_cut_at_its_end(void **state)
{
	make(1, 60 * S);
	items[0].cue_out = 50 * S;
	items[0].media.duration = 200 * S;
	items[0].end = T0 + 30 * S;	/* the show ends before the file does */
	struct timeline t;
	timeline_init(&t);
	struct timeline_action a[32];
	plan(&t, T0 - S, a);
	assert_int_equal(a[0].cue_out, 30 * S);
	assert_true(a[0].fade_out <= 30 * S);
}

static void test_webstream_and_silence_channels(void **state)
{
	make(3, 60 * S);
	items[1].kind = PROTO_ITEM_WEBSTREAM;
	items[1].url = "http://127.0.0.1:9/stream";
	items[2].kind = PROTO_ITEM_SILENCE;
	struct timeline t;
	timeline_init(&t);
	struct timeline_action a[32];
	plan(&t, T0 - S, a);
	size_t n = plan(&t, T0 + 58 * S, a);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].kind, TL_WEBSTREAM);
	assert_int_equal(a[0].gate, T0 + 60 * S);
	assert_int_equal(a[0].end, T0 + 120 * S);
	n = plan(&t, T0 + 118 * S, a);
	assert_true(n >= 1);
	assert_int_equal(a[n - 1].kind, TL_SILENCE);
	/* The webstream is removed while on air: stopped at once. */
	snap.n_items = 1;
	n = plan(&t, T0 + 100 * S, a);
	bool stopped = false;
	for (size_t i = 0; i < n; i++)
		if (a[i].kind == TL_WEBSTREAM && a[i].end <= T0 + 100 * S)
			stopped = true;
	assert_true(stopped);
}

static void test_short_item_on_time_is_pushed(void **state)
{
	/* A 1-second jingle is shorter than min_join: on time it still plays. */
	make(1, S);
	struct timeline t;
	timeline_init(&t);
	struct timeline_action a[32];
	size_t n = plan(&t, T0 - 2 * S, a);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].kind, TL_PUSH);
	assert_int_equal(a[0].cue_out - a[0].cue_in, S);
	/* Late, it is not worth joining. */
	timeline_reset(&t);
	assert_int_equal(plan(&t, T0 + S / 2, a), 0);
}

static void test_reset_forgets_pushes(void **state)
{
	make(1, 60 * S);
	struct timeline t;
	timeline_init(&t);
	struct timeline_action a[32];
	plan(&t, T0 - S, a);
	timeline_reset(&t);
	/* After a Liquidsoap restart the current item is joined again. */
	size_t n = plan(&t, T0 + 10 * S, a);
	assert_int_equal(n, 1);
	assert_int_equal(a[0].kind, TL_PUSH);
	assert_true(a[0].late);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pushes_lead_before_start),
		cmocka_unit_test(test_ended_item_frees_its_slot),
		cmocka_unit_test(test_late_join_moves_cue_in),
		cmocka_unit_test(test_not_worth_joining_near_the_end),
		cmocka_unit_test(test_missing_file_reported_once_then_joined),
		cmocka_unit_test(test_missing_file_never_came_item_fails_at_end),
		cmocka_unit_test(test_missing_item_removed_is_forgotten),
		cmocka_unit_test(test_changed_item_is_cleared_and_replanned),
		cmocka_unit_test(test_no_snapshot_clears_everything),
		cmocka_unit_test(test_short_items_wait_for_a_free_slot),
		cmocka_unit_test(test_overbooked_item_is_cut_at_its_end),
		cmocka_unit_test(test_webstream_and_silence_channels),
		cmocka_unit_test(test_short_item_on_time_is_pushed),
		cmocka_unit_test(test_reset_forgets_pushes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
