/*
 * mq_internal.h - what the files of the queue client share; not for
 * users of mq.h.
 */
#ifndef ONAIR_MQ_INTERNAL_H
#define ONAIR_MQ_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <nats/nats.h>

#include "mq/mq.h"

/* Component name in log lines. */
#define MQ_LOG "mq"

/* One key-value bucket handle, opened once and kept until mq_close. */
struct mq_bucket {
	struct mq_bucket *next;
	char *name;
	kvStore *kv;
};

struct mq {
	natsConnection *nc;
	jsCtx *js;
	int64_t timeout_us;	/* per-operation timeout */
	int64_t timeout_ms;	/* the same for libnats (>= 1) */
	char *name;		/* connection name for log lines */
	int replicas;		/* of the streams and buckets it creates (>= 1) */
	void (*on_state)(void *userdata, bool connected);
	void *userdata;

	pthread_mutex_t lock;	/* protects what follows */
	pthread_cond_t cond;	/* signalled on every state change */
	bool closing;		/* mq_close has started: no more on_state calls */
	bool closed;		/* the library's closed callback has run */
	uint64_t generation;	/* connections made so far (first one and reconnects) */
	struct mq_bucket *buckets;
};

/* mq->generation, read under the lock: a change means the connection
 * came (back) up, so anything missed meanwhile should be looked up. */
uint64_t mq_generation(struct mq *mq);

/*
 * Map a libnats status and JetStream error code to a negative errno value
 * (the table is in mq.c). NATS_OK gives 0.
 */
int mq_errno(natsStatus s, jsErrCode jerr);

/*
 * mq_errno() plus a log line naming what failed (printf-style) with the
 * library's description of the error: at debug level for the transient
 * errors a caller retries (-ETIMEDOUT, -ENOTCONN, -ENOENT), at warning
 * level for the others. Returns the errno value.
 */
int mq_fail(natsStatus s, jsErrCode jerr, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Convert a timeout in microseconds to the milliseconds libnats wants,
 * rounding up and never below 1 ms (libnats refuses 0). */
int64_t mq_ms(int64_t timeout_us);

/* Milliseconds left until deadline_us (time_mono_us), or 0 when past. */
int64_t mq_ms_left(int64_t deadline_us);

/*
 * The handle of bucket, opened with js_KeyValue on first use and kept in
 * mq->buckets. With create, a missing bucket is created with onair's
 * settings. The handle stays owned by mq. 0 or -errno (-ENOENT: no such
 * bucket).
 */
int mq_bucket_get(struct mq *mq, const char *bucket, bool create, kvStore **out);

/* Destroy every bucket handle (from mq_close). */
void mq_buckets_release(struct mq *mq);

#include "common/banned.h"
#endif
