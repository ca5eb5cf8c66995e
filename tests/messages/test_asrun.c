/*
 * test_asrun.c - playout events into the as-run log, on SQLite or
 * PostgreSQL (argv[1]): each rule of asrun.h applied directly, then the
 * consumer reading a real nats-server, with duplicates, two playout
 * instances reporting the same items, and the consumer restarted in the
 * middle: every item once, nothing counted twice.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/timeutil.h"
#include "harness.h"
#include "messages/asrun.h"
#include "mq/mq.h"
#include "protocol/protocol.h"
#include "station_fixture.h"

#define S INT64_C(1000000)
#define MIN (60 * S)
#define H (60 * MIN)
#define T0 INT64_C(1799020800000000)

static struct harness_nats nats;

/* The JSON of an event. */
static void encode(const struct proto_event *e, struct buf *out)
{
	buf_reset(out);
	assert_int_equal(proto_event_encode(e, out), 0);
}

static void apply(struct db *db, const struct proto_event *e, bool want_duplicate)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	encode(e, &b);
	struct asrun_result res;
	int r = asrun_apply(db, b.data, b.len, T0, &res);
	if (r < 0)
		fail_msg("asrun_apply: %d %s", r, res.err);
	assert_int_equal(res.duplicate, want_duplicate);
	buf_release(&b);
}

static struct proto_event started(const char *inst, uint64_t seq, int64_t item, int64_t at)
{
	return (struct proto_event){ .instance = (char *)inst, .seq = seq, .at = at,
				     .kind = PROTO_EV_ITEM_STARTED, .item_id = item,
				     .scheduled = at, .source = PROTO_SRC_SCHEDULE };
}

static struct proto_event ended(const char *inst, uint64_t seq, int64_t item, int64_t at,
				enum proto_end_reason why)
{
	return (struct proto_event){ .instance = (char *)inst, .seq = seq, .at = at,
				     .kind = PROTO_EV_ITEM_ENDED, .item_id = item,
				     .scheduled = at, .reason = why };
}

static int64_t q(struct db *db, const char *sql, const struct db_param *p, size_t n)
{
	return fixture_int(db, sql, p, n);
}

/* A show with n 3-minute items from T0; their ids in items[], the file in *file. */
static void schedule(struct db *db, int64_t *items, int n, int64_t *file)
{
	int64_t inst = fixture_instance(db, fixture_show(db, "Show"), T0, T0 + H);
	*file = fixture_file(db, "Song", "Ann", 3 * MIN);
	for (int i = 0; i < n; i++)
		items[i] = q(db,
			     "INSERT INTO schedule_items (instance_id, position, starts_at, ends_at,"
			     " kind, file_id) VALUES ($1, $2, $3, $4, 'file', $5) RETURNING id",
			     DB_PARAMS(DB_I(inst), DB_I(i), DB_I(T0 + i * 3 * MIN),
				       DB_I(T0 + (i + 1) * 3 * MIN), DB_I(*file)));
}

static void test_rules(void **state)
{
	(void)state;
	struct db *db = fixture_db();
	int64_t items[3], file;
	schedule(db, items, 3, &file);

	/* Two instances report item 0; one of them twice (a redelivery). */
	struct proto_event e = started("a", 1, items[0], T0 + 20000);
	apply(db, &e, false);
	apply(db, &e, true);
	e = started("b", 7, items[0], T0 + 10000);
	apply(db, &e, false);
	assert_int_equal(q(db, "SELECT COUNT(*) FROM as_run", NULL, 0), 1);
	assert_true(q(db, "SELECT started_at FROM as_run", NULL, 0) == T0 + 10000);
	assert_int_equal(q(db, "SELECT play_count FROM files WHERE id = $1",
			   DB_PARAMS(DB_I(file))), 1);
	assert_true(q(db, "SELECT last_played_at FROM files WHERE id = $1",
		      DB_PARAMS(DB_I(file))) == T0 + 20000);
	assert_int_equal(q(db, "SELECT COUNT(*) FROM playout_events", NULL, 0), 2);

	/* a cuts it (its Liquidsoap died), b completes it: completed. */
	e = ended("a", 2, items[0], T0 + 2 * MIN, PROTO_END_CUT);
	apply(db, &e, false);
	e = ended("b", 8, items[0], T0 + 3 * MIN, PROTO_END_COMPLETED);
	apply(db, &e, false);
	e = ended("a", 3, items[0], T0 + 3 * MIN + 1, PROTO_END_CUT);
	apply(db, &e, false);
	struct db_rows *rows;
	assert_int_equal(db_query(db, "SELECT end_reason, ended_at, title, artist, instance_id"
				      " FROM as_run WHERE schedule_item_id = $1",
				  DB_PARAMS(DB_I(items[0])), &rows),
			 0);
	assert_true(db_rows_next(rows));
	assert_string_equal(db_col_text(rows, 0), "completed");
	assert_true(db_col_int(rows, 1) == T0 + 3 * MIN + 1);
	assert_string_equal(db_col_text(rows, 2), "Song");
	assert_string_equal(db_col_text(rows, 3), "Ann");
	assert_true(db_col_int(rows, 4) > 0);
	db_rows_free(rows);

	/* Item 1 is skipped; item 2 never reached playout. */
	e = started("a", 4, items[1], T0 + 3 * MIN);
	apply(db, &e, false);
	e = ended("a", 5, items[1], T0 + 4 * MIN, PROTO_END_SKIPPED);
	apply(db, &e, false);
	e = ended("a", 6, items[2], T0 + 6 * MIN, PROTO_END_FAILED);
	apply(db, &e, false);
	assert_int_equal(q(db, "SELECT COUNT(*) FROM as_run", NULL, 0), 3);
	assert_int_equal(q(db, "SELECT COUNT(*) FROM as_run WHERE end_reason = 'skipped'"
			       " AND schedule_item_id = $1",
			   DB_PARAMS(DB_I(items[1]))),
			 1);
	assert_int_equal(q(db, "SELECT COUNT(*) FROM as_run WHERE end_reason = 'failed'"
			       " AND schedule_item_id = $1 AND started_at = $2",
			   DB_PARAMS(DB_I(items[2]), DB_I(T0 + 6 * MIN))),
			 1);
	/* A failed item is not a play. */
	assert_int_equal(q(db, "SELECT play_count FROM files WHERE id = $1",
			   DB_PARAMS(DB_I(file))), 2);

	/* A live takeover: the DJ connects and leaves. */
	fixture_user(db, "dj", "host");
	struct proto_event live = { .instance = "a", .seq = 9, .at = T0 + 10 * MIN,
				    .kind = PROTO_EV_LIVE_CONNECTED, .input = PROTO_LIVE_SHOW,
				    .user = "DJ" };
	apply(db, &live, false);
	live.seq = 10;
	live.at = T0 + 20 * MIN;
	live.kind = PROTO_EV_LIVE_DISCONNECTED;
	apply(db, &live, false);
	assert_int_equal(db_query(db, "SELECT input, user_name, user_id, instance_id, connected_at,"
				      " disconnected_at FROM live_sessions",
				  NULL, 0, &rows),
			 0);
	assert_true(db_rows_next(rows));
	assert_string_equal(db_col_text(rows, 0), "show");
	assert_string_equal(db_col_text(rows, 1), "DJ");
	assert_true(db_col_int(rows, 2) > 0);	/* found by name, any case */
	assert_true(db_col_int(rows, 3) > 0);	/* the show on air */
	assert_true(db_col_int(rows, 4) == T0 + 10 * MIN && db_col_int(rows, 5) == T0 + 20 * MIN);
	assert_false(db_rows_next(rows));
	db_rows_free(rows);

	/* An item the schedule no longer has is still logged, by its text. */
	e = started("a", 11, 999999, T0 + 30 * MIN);
	e.meta.title = "Gone";
	apply(db, &e, false);
	assert_int_equal(q(db, "SELECT COUNT(*) FROM as_run WHERE schedule_item_id IS NULL"
			       " AND title = 'Gone'", NULL, 0), 1);

	/* Heartbeats: an HLS listener count becomes a sample; one without
	 * (no HLS) does not. */
	struct proto_event hb = { .instance = "a", .seq = 12, .at = T0 + 40 * MIN + 250000,
				  .kind = PROTO_EV_HEARTBEAT, .source = PROTO_SRC_SCHEDULE,
				  .hls_reported = true, .hls_listeners = 17 };
	apply(db, &hb, false);
	apply(db, &hb, true);
	hb.seq = 13;
	hb.hls_reported = false;
	apply(db, &hb, false);
	assert_int_equal(q(db, "SELECT COUNT(*) FROM listener_counts", NULL, 0), 1);
	assert_int_equal(q(db, "SELECT listeners FROM listener_counts WHERE output = 'hls:a'"
			       " AND at = $1",
			   DB_PARAMS(DB_I(T0 + 40 * MIN))),
			 17);

	/* Not an event: refused with the reason, nothing stored. */
	struct asrun_result res;
	assert_int_equal(asrun_apply(db, "{\"type\":\"event\"}", 16, T0, &res), -EINVAL);
	assert_true(res.err[0] != '\0');
	assert_int_equal(asrun_apply(db, "not json", 8, T0, &res), -EINVAL);
	db_close(db);
}

static void publish(struct mq *mq, const struct proto_event *e)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	encode(e, &b);
	char subject[128], id[128];
	snprintf(subject, sizeof(subject), "%s.%s", MQ_SUBJECT_EVENTS, e->instance);
	snprintf(id, sizeof(id), "%s.%" PRIu64, e->instance, e->seq);
	assert_int_equal(mq_publish(mq, subject, b.data, b.len, id, NULL), 0);
	buf_release(&b);
}

static int64_t wait_count(struct db *db, const char *sql, int64_t want)
{
	int64_t n = -1;
	for (int i = 0; i < 200; i++) {
		n = q(db, sql, NULL, 0);
		if (n == want)
			break;
		nanosleep(&(struct timespec){ 0, 50000000 }, NULL);
	}
	return n;
}

static void test_consumer(void **state)
{
	(void)state;
	struct db *db = fixture_db();
	char url[512];
	/* The consumer opens its own connection to the same database. */
	int64_t items[40], file;
	schedule(db, items, 40, &file);
	assert_int_equal(fixture_url(url, sizeof(url)), 0);

	struct mq *mq;
	struct mq_options o = { .url = nats.url, .name = "test-asrun" };
	assert_int_equal(mq_connect(&mq, &o), 0);
	assert_int_equal(mq_wait_connected(mq, 10 * S), 0);
	assert_int_equal(mq_ensure_topology(mq), 0);

	struct asrun_consumer *c;
	char err[256];
	assert_int_equal(asrun_start(&c, mq, url, NULL, err, sizeof(err)), 0);
	/* Two instances play the same 40 items; the first 20 are also
	 * published twice (a retried publish: the stream stores them once). */
	for (int i = 0; i < 20; i++) {
		struct proto_event a = started("a", (uint64_t)i + 1, items[i], T0 + i * 3 * MIN);
		struct proto_event b = started("b", (uint64_t)i + 1, items[i], T0 + i * 3 * MIN + 5);
		publish(mq, &a);
		publish(mq, &a);
		publish(mq, &b);
	}
	assert_int_equal(wait_count(db, "SELECT COUNT(*) FROM playout_events", 40), 40);
	/* The consumer stops in the middle and a new one takes over. */
	asrun_stop(c);
	for (int i = 20; i < 40; i++) {
		struct proto_event a = started("a", (uint64_t)i + 1, items[i], T0 + i * 3 * MIN);
		struct proto_event b = started("b", (uint64_t)i + 1, items[i], T0 + i * 3 * MIN + 5);
		publish(mq, &a);
		publish(mq, &b);
	}
	assert_int_equal(asrun_start(&c, mq, url, NULL, err, sizeof(err)), 0);
	assert_int_equal(wait_count(db, "SELECT COUNT(*) FROM playout_events", 80), 80);
	assert_int_equal(q(db, "SELECT COUNT(*) FROM as_run", NULL, 0), 40);
	assert_int_equal(q(db, "SELECT COUNT(DISTINCT schedule_item_id) FROM as_run", NULL, 0), 40);
	assert_int_equal(q(db, "SELECT play_count FROM files WHERE id = $1",
			   DB_PARAMS(DB_I(file))), 40);
	/* Every as-run start is the earlier report (instance a's). */
	assert_int_equal(q(db, "SELECT COUNT(*) FROM as_run WHERE playout_instance = 'a'", NULL,
			   0), 40);
	asrun_stop(c);
	mq_close(mq);
	db_close(db);
}

int main(int argc, char **argv)
{
	if (fixture_init(argc, argv) < 0)
		return 2;
	if (harness_nats_start(&nats) < 0) {
		fixture_fini();
		return 1;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_consumer),
	};
	int failed = cmocka_run_group_tests_name(fixture_group("asrun"), tests, NULL, NULL);
	harness_nats_stop(&nats);
	fixture_fini();
	mq_library_shutdown();
	return failed ? 1 : 0;
}
