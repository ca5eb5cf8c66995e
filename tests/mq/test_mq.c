/*
 * test_mq.c - the queue client against a real nats-server: connecting,
 * topology, publishing, pull consumers, key-value and request/reply.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <nats/nats.h>

#include "common/buf.h"
#include "common/timeutil.h"
#include "harness.h"
#include "mq/mq.h"
#include "mq_test_util.h"

/* ---- connection and topology */

static void test_topology_idempotent(void **state)
{
	struct test_env *env = *state;
	/* setup ran it once already */
	assert_int_equal(mq_ensure_topology(env->mq), 0);
	assert_int_equal(mq_ensure_topology(env->mq), 0);

	/* A second connection, as another process would, finds it all. */
	struct mq *other = NULL;
	assert_int_equal(test_mq_connect(&other, env->nats.url, "other"), 0);
	assert_int_equal(mq_ensure_topology(other), 0);
	mq_close(other);

	/* Each stream captures its subjects. */
	uint64_t seq = 0;
	assert_int_equal(mq_publish(env->mq, MQ_SUBJECT_EVENTS ".a", "e", 1, NULL, &seq), 0);
	assert_int_equal(seq, 1);
	assert_int_equal(mq_publish(env->mq, MQ_SUBJECT_TASKS ".a", "t", 1, NULL, &seq), 0);
	assert_int_equal(seq, 1);
	assert_int_equal(mq_publish(env->mq, MQ_SUBJECT_DEAD ".tasks.a", "d", 1, NULL, &seq), 0);
	assert_int_equal(seq, 1);
	/* No stream for this one. */
	assert_int_equal(mq_publish(env->mq, "onair.nowhere", "x", 1, NULL, NULL), -ENOENT);
	/* And the schedule bucket is there. */
	assert_int_equal(mq_kv_put(env->mq, MQ_KV_SCHEDULE, MQ_KV_SNAPSHOT_KEY, "{}", 2, NULL), 0);
}

static atomic_int state_up_calls;

static void on_state(void *userdata, bool connected)
{
	if (connected)
		atomic_fetch_add(&state_up_calls, 1);
}

static void test_connect_before_server(void **state)
{
	struct harness_nats nats = { 0 };
	nats.port = harness_free_port();
	assert_true(nats.port > 0);
	char url[64];
	snprintf(url, sizeof(url), "nats://127.0.0.1:%d", nats.port);

	struct mq_options opts = {
		.url = url,
		.name = "early",
		.timeout_us = TEST_MQ_TIMEOUT_US,
		.on_state = on_state,
	};
	struct mq *mq = NULL;
	assert_int_equal(mq_connect(&mq, &opts), 0);
	assert_non_null(mq);
	assert_false(mq_connected(mq));
	assert_int_equal(mq_wait_connected(mq, 200 * USEC_PER_MSEC), -ETIMEDOUT);

	assert_int_equal(harness_nats_start(&nats), 0);
	assert_int_equal(mq_wait_connected(mq, 10 * USEC_PER_SEC), 0);
	assert_true(mq_connected(mq));
	assert_int_equal(mq_ensure_topology(mq), 0);
	/* The callback comes from a library thread: give it a bounded time. */
	int64_t deadline = time_mono_us() + 5 * USEC_PER_SEC;
	while (atomic_load(&state_up_calls) == 0 && time_mono_us() < deadline)
		test_sleep_us(10 * USEC_PER_MSEC);
	assert_int_equal(atomic_load(&state_up_calls), 1);

	mq_close(mq);
	assert_int_equal(harness_nats_stop(&nats), 0);
}

static void test_close_without_server(void **state)
{
	/* Nothing listens there: mq_connect still succeeds, and closing the
	 * connection that never came up returns promptly. */
	int port = harness_free_port();
	assert_true(port > 0);
	char url[64];
	snprintf(url, sizeof(url), "nats://127.0.0.1:%d", port);
	struct mq_options opts = { .url = url, .timeout_us = TEST_MQ_TIMEOUT_US };
	struct mq *mq = NULL;
	assert_int_equal(mq_connect(&mq, &opts), 0);
	assert_false(mq_connected(mq));
	/* Operations fail while not connected (bounded by the timeout; the
	 * bound checked here is loose, it only catches a hang). */
	int64_t t0 = time_mono_us();
	assert_true(mq_publish(mq, MQ_SUBJECT_EVENTS ".x", "x", 1, "id", NULL) < 0);
	assert_true(time_mono_us() - t0 < TEST_MQ_TIMEOUT_US + 20 * USEC_PER_SEC);
	mq_close(mq);
}

static void test_connect_bad_arguments(void **state)
{
	struct mq *mq = (struct mq *)1;
	struct mq_options opts = { .url = NULL };
	assert_int_equal(mq_connect(&mq, &opts), -EINVAL);
	assert_null(mq);
	opts.url = "";
	assert_int_equal(mq_connect(&mq, &opts), -EINVAL);
	mq_close(NULL);
}

/* ---- publishing and consumers */

/* Fetch until want messages arrived or timeout_us passed. */
static size_t fetch_n(struct mq_consumer *c, struct mq_msg **msgs, size_t want,
		      int64_t timeout_us)
{
	size_t got = 0;
	int64_t deadline = time_mono_us() + timeout_us;
	while (got < want) {
		int64_t left = deadline - time_mono_us();
		if (left <= 0)
			break;
		size_t n = 0;
		int r = mq_consumer_fetch(c, msgs + got, want - got, left, &n);
		assert_int_equal(r, 0);
		got += n;
	}
	return got;
}

static void test_publish_dedup(void **state)
{
	struct test_env *env = *state;
	const char *subject = MQ_SUBJECT_EVENTS ".dedup";
	uint64_t seq1 = 0, seq2 = 0, seq3 = 0;
	assert_int_equal(mq_publish(env->mq, subject, "one", 3, "evt-1", &seq1), 0);
	assert_int_equal(mq_publish(env->mq, subject, "one", 3, "evt-1", &seq2), 0);
	assert_int_equal(seq1, seq2);
	assert_int_equal(mq_publish(env->mq, subject, "two", 3, "evt-2", &seq3), 0);
	assert_int_equal(seq3, seq1 + 1);

	struct mq_consumer_options co = {
		.stream = MQ_STREAM_EVENTS,
		.durable = "dedup",
		.filter = subject,
	};
	struct mq_consumer *c = NULL;
	assert_int_equal(mq_consumer_open(env->mq, &co, &c), 0);
	struct mq_msg *msgs[8];
	size_t n = fetch_n(c, msgs, 8, 1 * USEC_PER_SEC);
	assert_int_equal(n, 2);
	assert_string_equal(msgs[0]->msg_id, "evt-1");
	assert_memory_equal(msgs[0]->data, "one", 3);
	assert_string_equal(msgs[1]->msg_id, "evt-2");
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(mq_msg_ack(msgs[i]), 0);
		mq_msg_free(msgs[i]);
	}
	mq_consumer_close(c);

	assert_int_equal(mq_publish_core(env->mq, "onair.heartbeat.test", "hb", 2), 0);
}

static void test_consumer_ack_nak_term(void **state)
{
	struct test_env *env = *state;
	const char *subject = MQ_SUBJECT_TASKS ".acks";
	const char *ids[] = { "t-1", "t-2", "t-3" };
	for (int i = 0; i < 3; i++)
		assert_int_equal(mq_publish(env->mq, subject, ids[i], 3, ids[i], NULL), 0);

	/* A short ack wait, so a message that was not terminated would come
	 * back within the final fetch below. */
	struct mq_consumer_options co = {
		.stream = MQ_STREAM_TASKS,
		.durable = "acks",
		.filter = subject,
		.max_deliver = 5,
		.ack_wait_us = 1 * USEC_PER_SEC,
	};
	struct mq_consumer *c = NULL;
	assert_int_equal(mq_consumer_open(env->mq, &co, &c), 0);

	struct mq_msg *msgs[8];
	size_t n = fetch_n(c, msgs, 3, 5 * USEC_PER_SEC);
	assert_int_equal(n, 3);
	for (int i = 0; i < 3; i++) {
		assert_string_equal(msgs[i]->msg_id, ids[i]);
		assert_int_equal(msgs[i]->len, 3);
		assert_memory_equal(msgs[i]->data, ids[i], 3);
		assert_string_equal(msgs[i]->subject, subject);
		assert_int_equal(msgs[i]->delivered, 1);
		assert_true(msgs[i]->stream_seq > 0);
	}
	assert_true(msgs[0]->stream_seq < msgs[1]->stream_seq);
	assert_true(msgs[1]->stream_seq < msgs[2]->stream_seq);
	uint64_t nak_seq = msgs[1]->stream_seq;
	assert_int_equal(mq_msg_ack(msgs[0]), 0);
	assert_int_equal(mq_msg_nak(msgs[1], 0), 0);
	assert_int_equal(mq_msg_term(msgs[2]), 0);
	for (int i = 0; i < 3; i++)
		mq_msg_free(msgs[i]);

	/* The nak'ed one comes back at once, marked as a redelivery. */
	n = fetch_n(c, msgs, 1, 5 * USEC_PER_SEC);
	assert_int_equal(n, 1);
	assert_string_equal(msgs[0]->msg_id, "t-2");
	assert_int_equal(msgs[0]->delivered, 2);
	assert_int_equal(msgs[0]->stream_seq, nak_seq);
	/* Nak with a delay: back after it, not before (a lower bound: a busy
	 * machine only makes it later). */
	int64_t t0 = time_mono_us();
	assert_int_equal(mq_msg_nak(msgs[0], 300 * USEC_PER_MSEC), 0);
	mq_msg_free(msgs[0]);
	n = fetch_n(c, msgs, 1, 5 * USEC_PER_SEC);
	assert_int_equal(n, 1);
	assert_true(time_mono_us() - t0 >= 250 * USEC_PER_MSEC);
	assert_string_equal(msgs[0]->msg_id, "t-2");
	assert_int_equal(msgs[0]->delivered, 3);
	assert_int_equal(mq_msg_ack(msgs[0]), 0);
	mq_msg_free(msgs[0]);

	/* Acked and terminated ones never come back, even after the ack wait. */
	n = fetch_n(c, msgs, 1, 2500 * USEC_PER_MSEC);
	assert_int_equal(n, 0);
	mq_consumer_close(c);
}

static void test_consumer_rebind_and_conflict(void **state)
{
	struct test_env *env = *state;
	const char *subject = MQ_SUBJECT_TASKS ".bind";
	struct mq_consumer_options co = {
		.stream = MQ_STREAM_TASKS,
		.durable = "bind",
		.filter = subject,
		.max_deliver = 3,
		.ack_wait_us = 10 * USEC_PER_SEC,
	};
	struct mq_consumer *c = NULL;
	assert_int_equal(mq_consumer_open(env->mq, &co, &c), 0);
	assert_int_equal(mq_publish(env->mq, subject, "x", 1, "b-1", NULL), 0);
	mq_consumer_close(c);

	/* The durable stays on the server with its position. */
	c = NULL;
	assert_int_equal(mq_consumer_open(env->mq, &co, &c), 0);
	struct mq_msg *msgs[2];
	assert_int_equal(fetch_n(c, msgs, 1, 5 * USEC_PER_SEC), 1);
	assert_string_equal(msgs[0]->msg_id, "b-1");
	assert_int_equal(mq_msg_ack(msgs[0]), 0);
	mq_msg_free(msgs[0]);
	mq_consumer_close(c);

	/* Other settings for the same durable: a clear refusal. */
	struct mq_consumer_options other = co;
	other.max_deliver = 7;
	c = (struct mq_consumer *)1;
	assert_int_equal(mq_consumer_open(env->mq, &other, &c), -EEXIST);
	assert_null(c);
	other = co;
	other.filter = MQ_SUBJECT_TASKS ".else";
	assert_int_equal(mq_consumer_open(env->mq, &other, &c), -EEXIST);
	other = co;
	other.ack_wait_us = 0;
	assert_int_equal(mq_consumer_open(env->mq, &other, &c), -EEXIST);

	/* Bad names and missing streams. */
	other = co;
	other.durable = "with.dot";
	assert_int_equal(mq_consumer_open(env->mq, &other, &c), -EINVAL);
	other = co;
	other.stream = "NO_SUCH_STREAM";
	assert_int_equal(mq_consumer_open(env->mq, &other, &c), -ENOENT);
}

/* ---- key-value */

/* A second, plain libnats connection for what mq.h does not offer. */
static void kv_delete_direct(const char *url, const char *bucket, const char *key)
{
	natsConnection *nc = NULL;
	jsCtx *js = NULL;
	kvStore *kv = NULL;
	assert_int_equal(natsConnection_ConnectTo(&nc, url), NATS_OK);
	assert_int_equal(natsConnection_JetStream(&js, nc, NULL), NATS_OK);
	assert_int_equal(js_KeyValue(&kv, js, bucket), NATS_OK);
	assert_int_equal(kvStore_Delete(kv, key), NATS_OK);
	kvStore_Destroy(kv);
	jsCtx_Destroy(js);
	natsConnection_Destroy(nc);
}

static void test_kv(void **state)
{
	struct test_env *env = *state;
	struct buf v;
	buf_init(&v, 1 << 16);
	uint64_t rev = 0, rev1 = 0, rev2 = 0;

	assert_int_equal(mq_kv_get(env->mq, MQ_KV_SCHEDULE, "k", &v, &rev), -ENOENT);
	assert_int_equal(mq_kv_get(env->mq, "no_such_bucket", "k", &v, &rev), -ENOENT);
	assert_int_equal(mq_kv_put(env->mq, MQ_KV_SCHEDULE, "k", "v1", 2, &rev1), 0);
	assert_true(rev1 > 0);
	assert_int_equal(mq_kv_get(env->mq, MQ_KV_SCHEDULE, "k", &v, &rev), 0);
	assert_string_equal(v.data, "v1");
	assert_int_equal(rev, rev1);

	/* The watch starts with the current value, then each newer one. */
	struct mq_watch *w = NULL;
	assert_int_equal(mq_watch_open(env->mq, MQ_KV_SCHEDULE, "k", &w), 0);
	buf_reset(&v);
	assert_int_equal(mq_watch_next(w, &v, &rev, 5 * USEC_PER_SEC), 0);
	assert_string_equal(v.data, "v1");
	assert_int_equal(rev, rev1);
	buf_reset(&v);
	assert_int_equal(mq_watch_next(w, &v, &rev, 200 * USEC_PER_MSEC), -ETIMEDOUT);
	assert_int_equal(mq_kv_put(env->mq, MQ_KV_SCHEDULE, "k", "v2", 2, &rev2), 0);
	assert_true(rev2 > rev1);
	assert_int_equal(mq_watch_next(w, &v, &rev, 5 * USEC_PER_SEC), 0);
	assert_string_equal(v.data, "v2");
	assert_int_equal(rev, rev2);

	/* A value over the caller's limit is refused, not truncated. */
	struct buf small;
	buf_init(&small, 4);
	assert_int_equal(mq_kv_put(env->mq, MQ_KV_SCHEDULE, "k", "too long", 8, NULL), 0);
	assert_int_equal(mq_watch_next(w, &small, &rev, 5 * USEC_PER_SEC), -ENOSPC);
	assert_int_equal(mq_kv_get(env->mq, MQ_KV_SCHEDULE, "k", &small, &rev), -ENOSPC);
	buf_release(&small);

	/* Deleting the key: the watch and get say -ENOENT. */
	kv_delete_direct(env->nats.url, MQ_KV_SCHEDULE, "k");
	buf_reset(&v);
	assert_int_equal(mq_watch_next(w, &v, &rev, 5 * USEC_PER_SEC), -ENOENT);
	assert_int_equal(mq_kv_get(env->mq, MQ_KV_SCHEDULE, "k", &v, &rev), -ENOENT);
	mq_watch_close(w);

	/* Watching a key without a value: nothing until the first put. */
	assert_int_equal(mq_watch_open(env->mq, MQ_KV_SCHEDULE, "empty", &w), 0);
	assert_int_equal(mq_watch_next(w, &v, &rev, 200 * USEC_PER_MSEC), -ETIMEDOUT);
	assert_int_equal(mq_kv_put(env->mq, MQ_KV_SCHEDULE, "empty", "first", 5, &rev1), 0);
	buf_reset(&v);
	assert_int_equal(mq_watch_next(w, &v, &rev, 5 * USEC_PER_SEC), 0);
	assert_string_equal(v.data, "first");
	assert_int_equal(rev, rev1);
	mq_watch_close(w);

	assert_int_equal(mq_watch_open(env->mq, "no_such_bucket", "k", &w), -ENOENT);
	assert_null(w);
	buf_release(&v);
}

/* ---- request/reply */

struct responder {
	const char *name;
	bool silent;	/* never answers */
	atomic_int calls;
};

static void respond(void *userdata, struct mq_request_msg *req)
{
	struct responder *rs = userdata;
	atomic_fetch_add(&rs->calls, 1);
	if (rs->silent)
		return;
	/* A library thread: no cmocka assertions here. */
	char out[256];
	int n = snprintf(out, sizeof(out), "%s:%.*s", rs->name, (int)req->len, req->data);
	if (n < 0 || (size_t)n >= sizeof(out))
		n = 0;
	mq_respond(req, out, (size_t)n);
	/* Only one answer per request. */
	if (mq_respond(req, out, (size_t)n) != -EINVAL)
		fprintf(stderr, "second mq_respond was not refused\n");
}

struct replies {
	int count;
	int enough;		/* stop after this many replies; 0: wait the timeout */
	char text[4][64];
};

static bool collect(void *userdata, const char *data, size_t len)
{
	struct replies *rp = userdata;
	if (rp->count < 4)
		snprintf(rp->text[rp->count], sizeof(rp->text[0]), "%.*s", (int)len, data);
	rp->count++;
	return rp->enough == 0 || rp->count < rp->enough;
}

static int cmp_text(const void *a, const void *b)
{
	return strcmp(a, b);
}

static void test_request_reply(void **state)
{
	struct test_env *env = *state;
	const char *subject = MQ_SUBJECT_COMMANDS ".a";
	struct responder a = { .name = "a" };
	struct mq_sub *sub_a = NULL;
	assert_int_equal(mq_serve(env->mq, subject, respond, &a, &sub_a), 0);

	struct buf reply;
	buf_init(&reply, 1024);
	assert_int_equal(mq_request(env->mq, subject, "ping", 4, 5 * USEC_PER_SEC, &reply), 0);
	assert_string_equal(reply.data, "a:ping");

	/* Nobody listens: told so (a timeout would be -ETIMEDOUT). */
	buf_reset(&reply);
	assert_int_equal(mq_request(env->mq, MQ_SUBJECT_COMMANDS ".nobody", "x", 1,
				    5 * USEC_PER_SEC, &reply), -ENOENT);

	/* Somebody listens but does not answer. */
	struct responder quiet = { .name = "quiet", .silent = true };
	struct mq_sub *sub_q = NULL;
	assert_int_equal(mq_serve(env->mq, MQ_SUBJECT_COMMANDS ".quiet", respond, &quiet, &sub_q), 0);
	assert_int_equal(mq_request(env->mq, MQ_SUBJECT_COMMANDS ".quiet", "x", 1,
				    300 * USEC_PER_MSEC, &reply), -ETIMEDOUT);
	assert_int_equal(atomic_load(&quiet.calls), 1);
	mq_sub_close(sub_q);

	/* Two instances on the broadcast subject, on their own connections:
	 * both answer. */
	struct mq *mq1 = NULL, *mq2 = NULL;
	assert_int_equal(test_mq_connect(&mq1, env->nats.url, "playout-1"), 0);
	assert_int_equal(test_mq_connect(&mq2, env->nats.url, "playout-2"), 0);
	struct responder r1 = { .name = "one" }, r2 = { .name = "two" };
	struct mq_sub *s1 = NULL, *s2 = NULL;
	assert_int_equal(mq_serve(mq1, MQ_SUBJECT_COMMANDS, respond, &r1, &s1), 0);
	assert_int_equal(mq_serve(mq2, MQ_SUBJECT_COMMANDS, respond, &r2, &s2), 0);
	/* mq_serve returns once the server has the subscription. */

	struct replies rp = { 0 };
	int n = mq_request_many(env->mq, MQ_SUBJECT_COMMANDS, "status", 6, 1 * USEC_PER_SEC,
				collect, &rp);
	assert_int_equal(n, 2);
	assert_int_equal(rp.count, 2);
	qsort(rp.text, 2, sizeof(rp.text[0]), cmp_text);
	assert_string_equal(rp.text[0], "one:status");
	assert_string_equal(rp.text[1], "two:status");

	/* A collector that has what it needs ends the wait before the
	 * timeout: one reply of two, long before 30 s. */
	memset(&rp, 0, sizeof(rp));
	rp.enough = 1;
	int64_t t1 = time_mono_us();
	n = mq_request_many(env->mq, MQ_SUBJECT_COMMANDS, "status", 6, 30 * USEC_PER_SEC,
			    collect, &rp);
	assert_int_equal(n, 1);
	assert_int_equal(rp.count, 1);
	assert_true(time_mono_us() - t1 < 30 * USEC_PER_SEC);
	/* The other responder answered too (to an inbox nobody reads any
	 * more): let it finish before its subscription is closed. */
	for (int i = 0; i < 500 && (atomic_load(&r1.calls) < 2 || atomic_load(&r2.calls) < 2);
	     i++)
		usleep(10000);

	/* No responder at all: 0 replies, returned on the server's "no
	 * responders" answer rather than at the (long) timeout. */
	memset(&rp, 0, sizeof(rp));
	int64_t t0 = time_mono_us();
	n = mq_request_many(env->mq, MQ_SUBJECT_COMMANDS ".nobody", "status", 6,
			    30 * USEC_PER_SEC, collect, &rp);
	assert_int_equal(n, 0);
	assert_true(time_mono_us() - t0 < 30 * USEC_PER_SEC);

	mq_sub_close(s1);
	mq_sub_close(s2);
	mq_sub_close(sub_a);
	mq_sub_close(NULL);
	mq_close(mq1);
	mq_close(mq2);
	buf_release(&reply);
}

int main(void)
{
	test_log_setup();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_connect_bad_arguments),
		cmocka_unit_test(test_close_without_server),
		cmocka_unit_test(test_connect_before_server),
		cmocka_unit_test_setup_teardown(test_topology_idempotent, test_env_setup,
						test_env_teardown),
		cmocka_unit_test_setup_teardown(test_publish_dedup, test_env_setup,
						test_env_teardown),
		cmocka_unit_test_setup_teardown(test_consumer_ack_nak_term, test_env_setup,
						test_env_teardown),
		cmocka_unit_test_setup_teardown(test_consumer_rebind_and_conflict, test_env_setup,
						test_env_teardown),
		cmocka_unit_test_setup_teardown(test_kv, test_env_setup, test_env_teardown),
		cmocka_unit_test_setup_teardown(test_request_reply, test_env_setup,
						test_env_teardown),
	};
	int failed = cmocka_run_group_tests_name("mq", tests, NULL, NULL);
	mq_library_shutdown();
	return failed;
}
