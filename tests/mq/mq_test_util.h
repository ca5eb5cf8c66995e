/*
 * mq_test_util.h - small helpers shared by the queue integration tests
 * (header-only: each test program includes it once).
 */
#ifndef ONAIR_TESTS_MQ_TEST_UTIL_H
#define ONAIR_TESTS_MQ_TEST_UTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include "common/log.h"
#include "common/timeutil.h"
#include "harness.h"
#include "mq/mq.h"

/* Operation timeout for the tests' connections: short, so that retries
 * during an outage are quick. */
#define TEST_MQ_TIMEOUT_US (2 * USEC_PER_SEC)

static inline void test_sleep_us(int64_t us)
{
	struct timespec ts = { .tv_sec = (time_t)(us / USEC_PER_SEC),
			       .tv_nsec = (long)(us % USEC_PER_SEC) * 1000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* ONAIR_TEST_LOG=debug|info|warn|error sets the log level (default warn,
 * so test output shows problems only). */
static inline void test_log_setup(void)
{
	enum log_level level = LOG_WARN;
	const char *env = getenv("ONAIR_TEST_LOG");
	if (env)
		log_level_parse(env, &level);
	log_set_level(level);
}

/* Connect to url and wait (bounded) for the connection: 0 or -errno. */
static inline int test_mq_connect(struct mq **out, const char *url, const char *name)
{
	struct mq_options opts = {
		.url = url,
		.name = name,
		.timeout_us = TEST_MQ_TIMEOUT_US,
	};
	int r = mq_connect(out, &opts);
	if (r < 0)
		return r;
	r = mq_wait_connected(*out, 10 * USEC_PER_SEC);
	if (r < 0) {
		mq_close(*out);
		*out = NULL;
	}
	return r;
}

/* A started server with a connection and the topology in place. */
struct test_env {
	struct harness_nats nats;
	struct mq *mq;
};

static inline int test_env_setup(void **state)
{
	struct test_env *env = calloc(1, sizeof(*env));
	if (!env)
		return -1;
	*state = env;
	if (harness_nats_start(&env->nats) < 0)
		return -1;
	if (test_mq_connect(&env->mq, env->nats.url, "test") < 0)
		return -1;
	if (mq_ensure_topology(env->mq) < 0)
		return -1;
	return 0;
}

static inline int test_env_teardown(void **state)
{
	struct test_env *env = *state;
	if (!env)
		return 0;
	mq_close(env->mq);
	if (env->nats.proc.pid > 0)
		harness_nats_stop(&env->nats);
	free(env);
	*state = NULL;
	return 0;
}

#include "common/banned.h"
#endif
