/*
 * test_publisher.c - the schedule publisher against a real nats-server
 * (started by the harness) and a database (argv[1]: sqlite|postgres):
 * the first pass publishes, an unchanged schedule is not republished (not
 * even by a restarted publisher), an edit is, the window rolls forward by
 * the hour, and what is in the bucket is a valid snapshot of the edit.
 */
#include <errno.h>
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
#include "messages/publisher.h"
#include "mq/mq.h"
#include "protocol/protocol.h"
#include "station/placement.h"
#include "station_fixture.h"

#define S INT64_C(1000000)
#define MIN (60 * S)
#define H (60 * MIN)
/* 2027-01-04T10:20:00Z */
#define NOW (INT64_C(1799020800000000) + 10 * H + 20 * MIN)

static struct harness_nats nats;

static struct mq *connect_mq(void)
{
	struct mq *mq;
	struct mq_options o = { .url = nats.url, .name = "test-publisher" };
	assert_int_equal(mq_connect(&mq, &o), 0);
	assert_int_equal(mq_wait_connected(mq, 10 * S), 0);
	assert_int_equal(mq_ensure_topology(mq), 0);
	return mq;
}

static void bucket(struct mq *mq, struct proto_snapshot *s, uint64_t *kv_rev)
{
	struct buf b;
	buf_init(&b, PROTO_MESSAGE_MAX);
	assert_int_equal(mq_kv_get(mq, MQ_KV_SCHEDULE, MQ_KV_SNAPSHOT_KEY, &b, kv_rev), 0);
	struct proto_error err;
	if (proto_snapshot_decode(b.data, b.len, s, &err) < 0)
		fail_msg("bucket holds no valid snapshot: %s", err.text);
	buf_release(&b);
}

static void pass_ok(struct publisher *p, struct db *db, struct mq *mq, int64_t now,
		    struct publisher_result *res)
{
	int r = publisher_pass(p, db, mq, now, res);
	if (r < 0)
		fail_msg("publisher_pass: %d %s", r, res->err);
}

static void test_publish_when_changed(void **state)
{
	(void)state;
	struct db *db = fixture_db();
	struct mq *mq = connect_mq();
	/* A clean bucket for this test. */
	uint64_t kv_rev;
	struct proto_snapshot s;
	struct publisher p;
	publisher_init(&p, NULL);
	int r = publisher_load(&p, mq);
	assert_true(r == 0 || r == -ENOENT);
	uint64_t base = p.revision;

	struct publisher_result res;
	pass_ok(&p, db, mq, NOW, &res);
	assert_true(res.published);
	assert_true(res.revision == base + 1);
	assert_true(res.window_start == NOW - 20 * MIN);
	assert_true(res.window_end == res.window_start + 48 * H);
	bucket(mq, &s, &kv_rev);
	assert_true(s.revision == base + 1);
	assert_int_equal(s.n_items, 0);
	proto_snapshot_release(&s);

	/* Nothing changed: nothing published, within the same hour. */
	pass_ok(&p, db, mq, NOW + 30 * MIN, &res);
	assert_false(res.published);
	assert_true(res.revision == base + 1);

	/* A restarted publisher learns the revision and the content. */
	publisher_release(&p);
	publisher_init(&p, NULL);
	assert_int_equal(publisher_load(&p, mq), 0);
	assert_true(p.revision == base + 1);
	pass_ok(&p, db, mq, NOW, &res);
	assert_false(res.published);

	/* An edit: a show with a file is published as the next revision. */
	int64_t show = fixture_show(db, "Morning");
	int64_t inst = fixture_instance(db, show, NOW + H, NOW + 2 * H);
	int64_t file = fixture_file(db, "Song", "Ann", 3 * MIN);
	struct placement_item it;
	placement_item_init(&it, PLACEMENT_FILE);
	it.file_id = file;
	char err[256];
	assert_int_equal(placement_insert(db, NOW, inst, 1, -1, &it, 1, NULL, NULL, err,
					  sizeof(err)),
			 0);
	pass_ok(&p, db, mq, NOW + MIN, &res);
	assert_true(res.published);
	assert_true(res.revision == base + 2);
	assert_int_equal(res.items, 1);
	bucket(mq, &s, &kv_rev);
	assert_true(s.revision == base + 2);
	assert_int_equal(s.n_items, 1);
	assert_true(s.items[0].start == NOW + H && s.items[0].media.id == file);
	assert_string_equal(s.items[0].show.name, "Morning");
	proto_snapshot_release(&s);

	/* The next hour: the window moves, so it is published again. */
	pass_ok(&p, db, mq, NOW + H, &res);
	assert_true(res.published);
	assert_true(res.window_start == NOW - 20 * MIN + H);

	publisher_release(&p);
	mq_close(mq);
	db_close(db);
}

static void test_queue_down(void **state)
{
	(void)state;
	struct db *db = fixture_db();
	struct mq *mq = connect_mq();
	struct publisher p;
	publisher_init(&p, NULL);
	publisher_load(&p, mq);
	uint64_t before = p.revision;
	assert_int_equal(harness_nats_stop(&nats), 0);
	/* The database changes while the queue is away: the pass fails and
	 * says why, and publishes once the queue is back. */
	fixture_instance(db, fixture_show(db, "S"), NOW + H, NOW + 2 * H);
	struct publisher_result res;
	int r = publisher_pass(&p, db, mq, NOW + 2 * H, &res);
	assert_true(r < 0);
	assert_false(res.published);
	assert_non_null(strstr(res.err, "publishing the schedule"));
	assert_int_equal(harness_nats_start(&nats), 0);
	assert_int_equal(mq_wait_connected(mq, 20 * S), 0);
	r = -1;
	for (int i = 0; i < 50 && r < 0; i++) {
		r = publisher_pass(&p, db, mq, NOW + 2 * H, &res);
		if (r < 0)
			nanosleep(&(struct timespec){ 0, 200000000 }, NULL);
	}
	if (r < 0)
		fail_msg("never published after the queue came back: %s", res.err);
	/* Published by this pass, or by an earlier one whose answer was lost
	 * while the server was coming back (the next, fenced write then
	 * found it there and read it back). */
	assert_true(res.published || (p.known && p.revision > before));
	struct buf text;
	buf_init(&text, PROTO_MESSAGE_MAX);
	uint64_t kv_rev = 0;
	assert_int_equal(mq_kv_get(mq, MQ_KV_SCHEDULE, MQ_KV_SNAPSHOT_KEY, &text, &kv_rev), 0);
	assert_true(kv_rev == p.kv_rev);
	buf_release(&text);
	publisher_release(&p);
	mq_close(mq);
	db_close(db);
}

static void test_too_big_for_one_message(void **state)
{
	(void)state;
	struct db *db = fixture_db();
	struct mq *mq = connect_mq();
	/* 6000 five-second items in the next 10 hours: about 2.5 MB encoded,
	 * over the server's 1 MiB. */
	int64_t inst = fixture_instance(db, fixture_show(db, "Jingles"), NOW, NOW + 10 * H);
	int64_t file = fixture_file(db, "Jingle", "Station", 5 * S);
	assert_int_equal(db_begin(db), 0);
	for (int i = 0; i < 6000; i++)
		fixture_exec(db,
			     "INSERT INTO schedule_items (instance_id, position, starts_at, ends_at,"
			     " kind, file_id) VALUES ($1, $2, $3, $4, 'file', $5)",
			     DB_PARAMS(DB_I(inst), DB_I(i), DB_I(NOW + i * 5 * S),
				       DB_I(NOW + (i + 1) * 5 * S), DB_I(file)));
	assert_int_equal(db_commit(db), 0);
	struct publisher p;
	publisher_init(&p, NULL);
	publisher_load(&p, mq);
	struct publisher_result res;
	pass_ok(&p, db, mq, NOW, &res);
	assert_true(res.published);
	assert_true(res.shortened);
	assert_true(res.items > 100 && res.items < 6000);
	uint64_t kv_rev;
	struct proto_snapshot s;
	bucket(mq, &s, &kv_rev);
	assert_int_equal(s.n_items, res.items);
	/* The window ends where the first item left out would start. */
	assert_true(s.window_end == s.items[s.n_items - 1].end);
	assert_true(s.window_end < NOW + 10 * H);
	proto_snapshot_release(&s);
	publisher_release(&p);
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
		cmocka_unit_test(test_publish_when_changed),
		cmocka_unit_test(test_queue_down),
		cmocka_unit_test(test_too_big_for_one_message),
	};
	int failed = cmocka_run_group_tests_name(fixture_group("publisher"), tests, NULL, NULL);
	harness_nats_stop(&nats);
	fixture_fini();
	mq_library_shutdown();
	return failed ? 1 : 0;
}
