/*
 * test_mq_restart.c - the queue client across a nats-server restart.
 *
 * The main test: a producer publishes N tasks with unique message ids
 * while a consumer with a durable pull consumer processes them, and the
 * server is restarted in the middle. The producer retries a failed
 * publish with the same id (deduplication makes that safe); the consumer
 * keeps the set of ids it processed and recognises a redelivery (an ack
 * lost in the restart, or one deliberately never sent) by its id. In the
 * end every id must have been processed exactly once.
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

#include <cmocka.h>

#include "common/buf.h"
#include "common/timeutil.h"
#include "harness.h"
#include "mq/mq.h"
#include "mq_test_util.h"

#define N_TASKS 500
#define RESTART_AFTER 150	/* processed tasks before the restart */
#define HOLD_AT 300		/* the producer waits here for the restart to begin */
#define NEVER_ACKED 50		/* this task's first delivery is processed but not acked */
#define ACK_WAIT_US (2 * USEC_PER_SEC)
#define RUN_TIMEOUT_US (60 * USEC_PER_SEC)
#define FETCH_BATCH 16
#define TASK_SUBJECT MQ_SUBJECT_TASKS ".restart"

struct run {
	struct mq *prod;
	struct mq_consumer *cons;
	int64_t deadline;
	atomic_bool restart_begun;
	atomic_bool stop;

	/* producer results */
	atomic_int published;
	int publish_retries;
	int publish_failed;	/* index that could not be published, or -1 */
	int last_publish_error;

	/* consumer results */
	atomic_int processed;	/* distinct ids processed */
	unsigned char times[N_TASKS];	/* how often each id was processed */
	int redeliveries_recognised;	/* an id seen again */
	int delivered_again;	/* messages with delivered > 1 */
	int ack_failures;
	int fetch_errors;
	int unknown_ids;
	bool never_acked_done;
};

static void *producer(void *arg)
{
	struct run *run = arg;
	run->publish_failed = -1;
	for (int i = 0; i < N_TASKS && !atomic_load(&run->stop); i++) {
		if (i == HOLD_AT) {
			/* Publish the rest through the outage. */
			while (!atomic_load(&run->restart_begun) && !atomic_load(&run->stop) &&
			       time_mono_us() < run->deadline)
				test_sleep_us(5 * USEC_PER_MSEC);
		}
		char id[32];
		int len = snprintf(id, sizeof(id), "task-%04d", i);
		for (;;) {
			int r = mq_publish(run->prod, TASK_SUBJECT, id, (size_t)len, id, NULL);
			if (r == 0)
				break;
			run->last_publish_error = r;
			if (time_mono_us() >= run->deadline || atomic_load(&run->stop)) {
				run->publish_failed = i;
				return NULL;
			}
			/* Same id again: stored at most once whatever happened. */
			run->publish_retries++;
			test_sleep_us(20 * USEC_PER_MSEC);
		}
		atomic_fetch_add(&run->published, 1);
	}
	return NULL;
}

/* The task index in a message id, or -1. */
static int task_index(const struct mq_msg *m)
{
	if (!m->msg_id || strncmp(m->msg_id, "task-", 5) != 0)
		return -1;
	char *end = NULL;
	long i = strtol(m->msg_id + 5, &end, 10);
	if (*end || i < 0 || i >= N_TASKS)
		return -1;
	/* The payload is the id too: a mismatch would be a mixed-up message. */
	if (m->len != strlen(m->msg_id) || memcmp(m->data, m->msg_id, m->len) != 0)
		return -1;
	return (int)i;
}

static void handle(struct run *run, struct mq_msg *m)
{
	if (m->delivered > 1)
		run->delivered_again++;
	int i = task_index(m);
	if (i < 0) {
		run->unknown_ids++;
		mq_msg_term(m);
		return;
	}
	if (run->times[i] > 0) {
		/* Done before: ack again, do not process again. */
		run->redeliveries_recognised++;
		if (mq_msg_ack(m) < 0)
			run->ack_failures++;
		return;
	}
	run->times[i]++;	/* "processing" */
	atomic_fetch_add(&run->processed, 1);
	if (i == NEVER_ACKED && !run->never_acked_done) {
		/* As if the worker died between its work and the ack. */
		run->never_acked_done = true;
		return;
	}
	if (mq_msg_ack(m) < 0)
		run->ack_failures++;
}

static void *consumer(void *arg)
{
	struct run *run = arg;
	struct mq_msg *msgs[FETCH_BATCH];
	while (atomic_load(&run->processed) < N_TASKS && !atomic_load(&run->stop) &&
	       time_mono_us() < run->deadline) {
		size_t n = 0;
		int r = mq_consumer_fetch(run->cons, msgs, FETCH_BATCH, 500 * USEC_PER_MSEC, &n);
		if (r < 0) {
			run->fetch_errors++;
			test_sleep_us(50 * USEC_PER_MSEC);
			continue;
		}
		for (size_t k = 0; k < n; k++) {
			handle(run, msgs[k]);
			mq_msg_free(msgs[k]);
		}
	}
	return NULL;
}

/* Wait for a counter to reach want, up to the run's deadline. */
static bool wait_for(atomic_int *counter, int want, int64_t deadline)
{
	while (atomic_load(counter) < want) {
		if (time_mono_us() >= deadline)
			return false;
		test_sleep_us(2 * USEC_PER_MSEC);
	}
	return true;
}

static void test_process_exactly_once_across_restart(void **state)
{
	struct test_env *env = *state;
	struct run *run = calloc(1, sizeof(*run));
	assert_non_null(run);
	run->deadline = time_mono_us() + RUN_TIMEOUT_US;

	/* Producer and consumer on their own connections, as the two sides
	 * would be in their own processes. */
	assert_int_equal(test_mq_connect(&run->prod, env->nats.url, "producer"), 0);
	struct mq *cons_mq = NULL;
	assert_int_equal(test_mq_connect(&cons_mq, env->nats.url, "consumer"), 0);
	struct mq_consumer_options co = {
		.stream = MQ_STREAM_TASKS,
		.durable = "restart",
		.filter = TASK_SUBJECT,
		.ack_wait_us = ACK_WAIT_US,
	};
	assert_int_equal(mq_consumer_open(cons_mq, &co, &run->cons), 0);

	pthread_t prod_thread, cons_thread;
	assert_int_equal(pthread_create(&prod_thread, NULL, producer, run), 0);
	assert_int_equal(pthread_create(&cons_thread, NULL, consumer, run), 0);

	/* From here on no assertion until both threads are joined. */
	bool reached = wait_for(&run->processed, RESTART_AFTER, run->deadline);
	int published_at_restart = atomic_load(&run->published);
	int processed_at_restart = atomic_load(&run->processed);
	int restart_r = -ECANCELED;
	int64_t restart_us = 0;
	if (reached) {
		atomic_store(&run->restart_begun, true);
		int64_t t0 = time_mono_us();
		restart_r = harness_nats_restart(&env->nats);
		restart_us = time_mono_us() - t0;
	}
	if (!reached || restart_r < 0)
		atomic_store(&run->stop, true);
	pthread_join(prod_thread, NULL);
	pthread_join(cons_thread, NULL);

	/* Anything still unacked comes back after the ack wait: collect it,
	 * so that a late redelivery of a new id would be caught too. */
	struct mq_msg *msgs[FETCH_BATCH];
	int64_t drain_end = time_mono_us() + ACK_WAIT_US + ACK_WAIT_US / 2;
	while (restart_r == 0 && time_mono_us() < drain_end) {
		size_t n = 0;
		if (mq_consumer_fetch(run->cons, msgs, FETCH_BATCH, drain_end - time_mono_us(),
				      &n) < 0)
			break;
		for (size_t k = 0; k < n; k++) {
			handle(run, msgs[k]);
			mq_msg_free(msgs[k]);
		}
	}

	int twice = 0, missing = 0;
	for (int i = 0; i < N_TASKS; i++) {
		if (run->times[i] > 1)
			twice++;
		if (run->times[i] == 0)
			missing++;
	}
	printf("restart after %d processed (%d published): restart took %lld ms (%d)\n",
	       processed_at_restart, published_at_restart, (long long)(restart_us / 1000),
	       restart_r);
	printf("published %d/%d with %d publish retries (last error %d); processed %d/%d, "
	       "%d missing, %d twice\n",
	       atomic_load(&run->published), N_TASKS, run->publish_retries,
	       run->last_publish_error, atomic_load(&run->processed), N_TASKS, missing, twice);
	printf("redeliveries recognised by message id: %d (1 from the task never acked); "
	       "deliveries with delivered > 1: %d; ack failures: %d; fetch errors: %d; "
	       "unknown ids: %d\n",
	       run->redeliveries_recognised, run->delivered_again, run->ack_failures,
	       run->fetch_errors, run->unknown_ids);
	fflush(stdout);

	if (!reached)
		fail_msg("only %d of %d tasks processed before the restart point within %lld s",
			 processed_at_restart, RESTART_AFTER,
			 (long long)(RUN_TIMEOUT_US / USEC_PER_SEC));
	assert_int_equal(restart_r, 0);
	if (run->publish_failed >= 0)
		fail_msg("task %d could not be published before the deadline (last error %d)",
			 run->publish_failed, run->last_publish_error);
	assert_int_equal(atomic_load(&run->published), N_TASKS);
	assert_int_equal(run->unknown_ids, 0);
	assert_int_equal(twice, 0);
	assert_int_equal(missing, 0);
	assert_int_equal(atomic_load(&run->processed), N_TASKS);
	/* At least the task whose ack was withheld came back. */
	assert_true(run->never_acked_done);
	assert_true(run->redeliveries_recognised >= 1);

	mq_consumer_close(run->cons);
	mq_close(cons_mq);
	mq_close(run->prod);
	free(run);
}

/* A watch keeps giving new values after the server restarts. */
static void test_watch_across_restart(void **state)
{
	struct test_env *env = *state;
	struct buf v;
	buf_init(&v, 1024);
	uint64_t rev = 0, rev1 = 0;
	assert_int_equal(mq_kv_put(env->mq, MQ_KV_SCHEDULE, MQ_KV_SNAPSHOT_KEY, "before", 6, &rev1), 0);
	struct mq_watch *w = NULL;
	assert_int_equal(mq_watch_open(env->mq, MQ_KV_SCHEDULE, MQ_KV_SNAPSHOT_KEY, &w), 0);
	assert_int_equal(mq_watch_next(w, &v, &rev, 5 * USEC_PER_SEC), 0);
	assert_string_equal(v.data, "before");

	assert_int_equal(harness_nats_restart(&env->nats), 0);
	assert_int_equal(mq_wait_connected(env->mq, 10 * USEC_PER_SEC), 0);

	/* Put (retrying through the reconnect), then the watch must see it. */
	uint64_t rev2 = 0;
	int64_t deadline = time_mono_us() + 10 * USEC_PER_SEC;
	int r;
	while ((r = mq_kv_put(env->mq, MQ_KV_SCHEDULE, MQ_KV_SNAPSHOT_KEY, "after", 5, &rev2)) < 0 &&
	       time_mono_us() < deadline)
		test_sleep_us(50 * USEC_PER_MSEC);
	assert_int_equal(r, 0);

	int64_t t0 = time_mono_us();
	deadline = t0 + 40 * USEC_PER_SEC;
	buf_reset(&v);
	do {
		r = mq_watch_next(w, &v, &rev, 1 * USEC_PER_SEC);
	} while (r == -ETIMEDOUT && time_mono_us() < deadline);
	printf("watch saw the value put after the restart %lld ms later\n",
	       (long long)((time_mono_us() - t0) / 1000));
	assert_int_equal(r, 0);
	assert_string_equal(v.data, "after");
	assert_int_equal(rev, rev2);
	mq_watch_close(w);
	buf_release(&v);
}

/* While the server is down, operations fail within their timeout (no
 * hang), and work again once it is back. */
static void test_errors_during_outage(void **state)
{
	struct test_env *env = *state;
	struct mq_consumer_options co = {
		.stream = MQ_STREAM_TASKS,
		.durable = "outage",
		.filter = MQ_SUBJECT_TASKS ".outage",
	};
	struct mq_consumer *c = NULL;
	assert_int_equal(mq_consumer_open(env->mq, &co, &c), 0);
	assert_int_equal(harness_nats_stop(&env->nats), 0);
	/* A loose bound: it only catches an operation that hangs. */
	int64_t limit = TEST_MQ_TIMEOUT_US + 20 * USEC_PER_SEC;

	int64_t t0 = time_mono_us();
	int r = mq_publish(env->mq, MQ_SUBJECT_TASKS ".outage", "x", 1, "o-1", NULL);
	assert_true(r == -ETIMEDOUT || r == -ENOTCONN);
	assert_true(time_mono_us() - t0 < limit);

	struct mq_msg *msgs[4];
	size_t n = 99;
	t0 = time_mono_us();
	r = mq_consumer_fetch(c, msgs, 4, 500 * USEC_PER_MSEC, &n);
	assert_true(r == 0 || r == -ENOTCONN);
	assert_int_equal(n, 0);
	assert_true(time_mono_us() - t0 < limit);

	struct buf v;
	buf_init(&v, 1024);
	t0 = time_mono_us();
	r = mq_kv_get(env->mq, MQ_KV_SCHEDULE, MQ_KV_SNAPSHOT_KEY, &v, NULL);
	assert_true(r == -ETIMEDOUT || r == -ENOTCONN);
	assert_true(time_mono_us() - t0 < limit);
	t0 = time_mono_us();
	r = mq_request(env->mq, MQ_SUBJECT_COMMANDS, "x", 1, 300 * USEC_PER_MSEC, &v);
	assert_true(r == -ETIMEDOUT || r == -ENOTCONN);
	assert_true(time_mono_us() - t0 < limit);
	assert_false(mq_connected(env->mq));

	assert_int_equal(harness_nats_start(&env->nats), 0);
	assert_int_equal(mq_wait_connected(env->mq, 10 * USEC_PER_SEC), 0);
	/* The publish that timed out may or may not be stored: retry with
	 * its id, then exactly one message is there. */
	int64_t deadline = time_mono_us() + 10 * USEC_PER_SEC;
	while ((r = mq_publish(env->mq, MQ_SUBJECT_TASKS ".outage", "x", 1, "o-1", NULL)) < 0 &&
	       time_mono_us() < deadline)
		test_sleep_us(50 * USEC_PER_MSEC);
	assert_int_equal(r, 0);
	n = 0;
	size_t got = 0;
	deadline = time_mono_us() + 3 * USEC_PER_SEC;
	while (time_mono_us() < deadline) {
		assert_int_equal(mq_consumer_fetch(c, msgs + got, 4 - got, 500 * USEC_PER_MSEC, &n), 0);
		got += n;
		if (got == 4)
			break;
	}
	assert_int_equal(got, 1);
	assert_string_equal(msgs[0]->msg_id, "o-1");
	assert_int_equal(mq_msg_ack(msgs[0]), 0);
	mq_msg_free(msgs[0]);
	buf_release(&v);
	mq_consumer_close(c);
}

static void serve_echo(void *userdata, struct mq_request_msg *req)
{
	mq_respond(req, req->data, req->len);
}

/* A responder answers again once the connection is back. */
static void test_serve_across_restart(void **state)
{
	struct test_env *env = *state;
	struct mq *client = NULL;
	assert_int_equal(test_mq_connect(&client, env->nats.url, "client"), 0);
	struct mq_sub *sub = NULL;
	assert_int_equal(mq_serve(env->mq, MQ_SUBJECT_COMMANDS ".echo", serve_echo, NULL, &sub), 0);
	struct buf reply;
	buf_init(&reply, 1024);
	assert_int_equal(mq_request(client, MQ_SUBJECT_COMMANDS ".echo", "1", 1, 5 * USEC_PER_SEC,
				    &reply), 0);
	assert_string_equal(reply.data, "1");

	assert_int_equal(harness_nats_restart(&env->nats), 0);

	/* Until both connections are back (and the responder's subscription
	 * resent) requests fail; then they succeed. */
	int64_t deadline = time_mono_us() + 15 * USEC_PER_SEC;
	int r;
	do {
		buf_reset(&reply);
		r = mq_request(client, MQ_SUBJECT_COMMANDS ".echo", "2", 1, 1 * USEC_PER_SEC, &reply);
		if (r < 0)
			test_sleep_us(50 * USEC_PER_MSEC);
	} while (r < 0 && time_mono_us() < deadline);
	assert_int_equal(r, 0);
	assert_string_equal(reply.data, "2");
	mq_sub_close(sub);
	mq_close(client);
	buf_release(&reply);
}

int main(void)
{
	test_log_setup();
	setvbuf(stdout, NULL, _IOLBF, 0);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_process_exactly_once_across_restart,
						test_env_setup, test_env_teardown),
		cmocka_unit_test_setup_teardown(test_errors_during_outage, test_env_setup,
						test_env_teardown),
		cmocka_unit_test_setup_teardown(test_watch_across_restart, test_env_setup,
						test_env_teardown),
		cmocka_unit_test_setup_teardown(test_serve_across_restart, test_env_setup,
						test_env_teardown),
	};
	int failed = cmocka_run_group_tests_name("mq-restart", tests, NULL, NULL);
	mq_library_shutdown();
	return failed;
}
