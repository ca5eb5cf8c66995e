/* Playout events: journaled on disk while the queue is away, sent in
 * order when it comes back, never twice, numbered across restarts. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/timeutil.h"
#include "harness.h"
#include "mq/mq.h"
#include "playout/event_log.h"

static struct proto_event heartbeat(void)
{
	return (struct proto_event){ .kind = PROTO_EV_HEARTBEAT, .source = PROTO_SRC_SCHEDULE };
}

/* Read every event in the stream (from a fresh durable consumer). */
static size_t read_stream(struct mq *mq, const char *durable, uint64_t *seqs, size_t max)
{
	struct mq_consumer_options co = { .stream = MQ_STREAM_EVENTS, .durable = durable,
					  .filter = "onair.events.>" };
	struct mq_consumer *c;
	assert_int_equal(mq_consumer_open(mq, &co, &c), 0);
	size_t n = 0;
	for (;;) {
		struct mq_msg *msgs[64];
		size_t got = 0;
		assert_int_equal(mq_consumer_fetch(c, msgs, 64, 500 * USEC_PER_MSEC, &got), 0);
		if (got == 0)
			break;
		for (size_t i = 0; i < got; i++) {
			struct proto_event e;
			struct proto_error err;
			assert_int_equal(proto_event_decode(msgs[i]->data, msgs[i]->len, &e, &err), 0);
			assert_string_equal(e.instance, "inst-1");
			char want_id[64];
			snprintf(want_id, sizeof(want_id), "inst-1.%llu", (unsigned long long)e.seq);
			assert_string_equal(msgs[i]->msg_id, want_id);
			if (n < max)
				seqs[n] = e.seq;
			n++;
			proto_event_release(&e);
			mq_msg_ack(msgs[i]);
			mq_msg_free(msgs[i]);
		}
	}
	mq_consumer_close(c);
	return n;
}

static void test_journal_while_away_then_send(void **state)
{
	char dir[256];
	assert_int_equal(harness_tmpdir(dir, sizeof(dir)), 0);
	struct harness_nats nats;
	memset(&nats, 0, sizeof(nats));
	assert_int_equal(harness_nats_start(&nats), 0);
	assert_int_equal(harness_nats_stop(&nats), 0);

	/* The queue is away: events go to the journal. */
	struct mq *mq;
	struct mq_options mo = { .url = nats.url, .timeout_us = 2 * USEC_PER_SEC };
	assert_int_equal(mq_connect(&mq, &mo), 0);
	struct event_log_options eo = { .dir = dir, .instance = "inst-1", .mq = mq };
	struct event_log *log;
	assert_int_equal(event_log_open(&log, &eo), 0);
	for (int i = 0; i < 5; i++) {
		struct proto_event e = heartbeat();
		assert_int_equal(event_log_emit(log, &e), 0);
		assert_int_equal(e.seq, (uint64_t)i + 1);
	}
	assert_int_equal(event_log_pending(log), 5);
	/* Stop with everything unsent; a new run finds it in the journal. */
	event_log_close(log);
	assert_int_equal(event_log_open(&log, &eo), 0);
	assert_int_equal(event_log_pending(log), 5);
	struct proto_event e = heartbeat();
	assert_int_equal(event_log_emit(log, &e), 0);
	assert_int_equal(e.seq, 6);

	/* The queue comes back: everything is sent, in order. */
	assert_int_equal(harness_nats_start(&nats), 0);
	assert_int_equal(mq_wait_connected(mq, 20 * USEC_PER_SEC), 0);
	assert_int_equal(mq_ensure_topology(mq), 0);
	assert_int_equal(event_log_flush(log, 30 * USEC_PER_SEC), 0);
	uint64_t seqs[32];
	size_t n = read_stream(mq, "check1", seqs, 32);
	assert_int_equal(n, 6);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(seqs[i], i + 1);

	/* Reopening after everything was sent sends nothing again. */
	event_log_close(log);
	assert_int_equal(event_log_open(&log, &eo), 0);
	assert_int_equal(event_log_pending(log), 0);
	e = heartbeat();
	assert_int_equal(event_log_emit(log, &e), 0);
	assert_int_equal(e.seq, 7);
	assert_int_equal(event_log_flush(log, 30 * USEC_PER_SEC), 0);
	n = read_stream(mq, "check2", seqs, 32);
	assert_int_equal(n, 7);
	assert_int_equal(seqs[6], 7);

	event_log_close(log);
	mq_close(mq);
	harness_nats_stop(&nats);
}

static void test_invalid_event_is_refused(void **state)
{
	char dir[256];
	assert_int_equal(harness_tmpdir(dir, sizeof(dir)), 0);
	struct event_log_options eo = { .dir = dir, .instance = "inst-1" };
	struct event_log *log;
	assert_int_equal(event_log_open(&log, &eo), 0);
	/* An item event without an item id is not valid. */
	struct proto_event e = { .kind = PROTO_EV_ITEM_STARTED };
	assert_int_equal(event_log_emit(log, &e), -EINVAL);
	assert_int_equal(event_log_pending(log), 0);
	e = heartbeat();
	assert_int_equal(event_log_emit(log, &e), 0);
	assert_int_equal(e.seq, 1);
	event_log_close(log);
}

static void test_bounded_journal_drops_oldest(void **state)
{
	char dir[256];
	assert_int_equal(harness_tmpdir(dir, sizeof(dir)), 0);
	struct event_log_options eo = { .dir = dir, .instance = "inst-1", .max_pending = 3 };
	struct event_log *log;
	assert_int_equal(event_log_open(&log, &eo), 0);
	for (int i = 0; i < 10; i++) {
		struct proto_event e = heartbeat();
		assert_int_equal(event_log_emit(log, &e), 0);
	}
	assert_int_equal(event_log_pending(log), 3);
	event_log_close(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_journal_while_away_then_send),
		cmocka_unit_test(test_invalid_event_is_refused),
		cmocka_unit_test(test_bounded_journal_drops_oldest),
	};
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	mq_library_shutdown();
	return r;
}
