/*
 * mq.h - the message queue: NATS with JetStream, through libnats.
 *
 * One struct mq is one connection with its JetStream context. It
 * reconnects by itself for ever (the library's reconnect logic, with a
 * bounded wait between attempts) and buffers publishes made meanwhile;
 * callers see -ENOTCONN or -ETIMEDOUT when an operation could not be
 * completed, and retry when they choose.
 *
 * Names the protocol uses (see docs/protocol.md):
 *   stream ONAIR_EVENTS      subjects onair.events.>      playout events (limits, 7 days)
 *   stream ONAIR_TASKS       subjects onair.tasks.>       worker tasks (work queue)
 *   stream ONAIR_TASKS_DEAD  subjects onair.dead.>        tasks that failed for good
 *   key-value bucket onair_schedule, key "snapshot"       the schedule snapshot
 *   request/reply onair.playout.cmd[.<instance>]          commands (no stream)
 *
 * Errors are negative errno values: -ENOTCONN (not connected now),
 * -ETIMEDOUT, -ENOENT (no such key/stream/message), -EINVAL (bad
 * argument), -EEXIST, -EPROTO (server refused), -ENOMEM.
 *
 * Thread-safety: a struct mq may be used from several threads at once
 * (libnats connections are thread-safe). A consumer or a watcher must be
 * used by one thread at a time.
 */
#ifndef ONAIR_MQ_H
#define ONAIR_MQ_H

#include "common/config.h"
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"

#define MQ_STREAM_EVENTS "ONAIR_EVENTS"
#define MQ_STREAM_TASKS "ONAIR_TASKS"
#define MQ_STREAM_DEAD "ONAIR_TASKS_DEAD"
#define MQ_SUBJECT_EVENTS "onair.events"	/* + ".<instance>" */
#define MQ_SUBJECT_TASKS "onair.tasks"		/* + ".<kind>" */
#define MQ_SUBJECT_DEAD "onair.dead"		/* + ".tasks.<kind>" */
#define MQ_SUBJECT_COMMANDS "onair.playout.cmd"	/* [+ ".<instance>"] */
#define MQ_KV_SCHEDULE "onair_schedule"
#define MQ_KV_SNAPSHOT_KEY "snapshot"

struct mq;

struct mq_options {
	const char *url;	/* "nats://127.0.0.1:4222"; comma-separated list allowed */
	const char *name;	/* connection name, optional */
	int64_t timeout_us;	/* per-operation timeout; 0 = 5 s */
	/* Called from a library thread when the connection goes down (false)
	 * or comes back (true), also when the first connection comes up after
	 * mq_connect returned without one. Never after mq_close has begun.
	 * Optional. */
	void (*on_state)(void *userdata, bool connected);
	void *userdata;
	/* A cluster: copies of every stream and of the key-value bucket
	 * (mq_ensure_topology creates them so, and updates existing ones);
	 * 0 = 1. */
	int replicas;
	/* Credentials, each optional: user and password, or a token, or a
	 * .creds file (JWT and NKey seed). */
	const char *user, *password, *token, *creds;
	/* TLS, each optional (any one turns TLS on): the CA bundle that
	 * signs the servers' certificates, this client's certificate and
	 * key. */
	const char *tls_ca, *tls_cert, *tls_key;
};

/* The configuration keys mq_options_from_config reads (beyond nats.url
 * and nats.name, which are in CLI_COMMON_KEYS). */
#define MQ_CONFIG_KEYS \
	{ "nats.replicas", "1", "copies of each stream and bucket (3 on a cluster of 3)" }, \
	{ "nats.user", NULL, "NATS user name" }, \
	{ "nats.password", NULL, "NATS password" }, \
	{ "nats.token", NULL, "NATS authentication token" }, \
	{ "nats.creds", NULL, "NATS .creds file (JWT and NKey seed)" }, \
	{ "nats.tls_ca", NULL, "CA certificates that sign the NATS servers' (turns TLS on)" }, \
	{ "nats.tls_cert", NULL, "this client's TLS certificate (with nats.tls_key)" }, \
	{ "nats.tls_key", NULL, "this client's TLS key" }

/* Fill o's url, name (when nats.name is set), replicas, credentials and
 * TLS from cfg (nats.*); the rest of o is left as it is. -EINVAL when
 * nats.replicas is not 1..5 (o->replicas is then 1). */
int mq_options_from_config(struct mq_options *o, const struct config *cfg);

/*
 * Connect. When the server is not reachable yet, still returns 0 and
 * keeps trying in the background (mq_connected() tells), so a process can
 * start before its NATS server. -EINVAL for a bad URL, -ENOMEM.
 * Free with mq_close().
 */
int mq_connect(struct mq **out, const struct mq_options *opts);
/* Flush and close; safe on NULL. Close the consumers, watchers and
 * served subscriptions made with mq first. */
void mq_close(struct mq *mq);
/* True while the connection is up. */
bool mq_connected(struct mq *mq);
/* The largest message the server takes (its max_payload; 1 MiB unless
 * configured), or MQ_DEFAULT_MAX_PAYLOAD while not connected. */
#define MQ_DEFAULT_MAX_PAYLOAD ((size_t)1 << 20)
size_t mq_max_payload(struct mq *mq);
/* Wait up to timeout_us for the connection to be up: 0 or -ETIMEDOUT. */
int mq_wait_connected(struct mq *mq, int64_t timeout_us);

/* Create or update the streams and the key-value bucket above (idempotent,
 * safe to call from several processes). 0 or -errno. */
int mq_ensure_topology(struct mq *mq);

/*
 * Release the NATS library's global state and wait (up to 5 s) for its
 * threads to end. Call once at program exit, after every struct mq has
 * been closed, so that leak checkers see nothing of the library. No mq_
 * call may follow (a new mq_connect would start the library again).
 */
void mq_library_shutdown(void);

/*
 * Publish to a JetStream subject and wait for the stream's ack. msg_id,
 * when not NULL, is the deduplication id (Nats-Msg-Id): publishing the same
 * id again within the stream's window stores nothing new (and is not an
 * error), so a publish that timed out can be retried safely.
 * *seq (optional) receives the stream sequence. 0 or -errno.
 */
int mq_publish(struct mq *mq, const char *subject, const void *data, size_t len,
	       const char *msg_id, uint64_t *seq);

/* Plain NATS publish (no stream, no ack), e.g. for heartbeats. 0 or -errno. */
int mq_publish_core(struct mq *mq, const char *subject, const void *data, size_t len);

/* ---- durable pull consumers */

struct mq_consumer;

struct mq_consumer_options {
	const char *stream;	/* e.g. MQ_STREAM_TASKS */
	const char *durable;	/* durable name, [A-Za-z0-9_-] */
	const char *filter;	/* subject filter, e.g. "onair.tasks.>" */
	int max_deliver;	/* attempts before the server gives up; 0 = unlimited */
	int64_t ack_wait_us;	/* redelivery after this without ack; 0 = 30 s */
};

/* A message fetched from a consumer. Fields are valid until mq_msg_free. */
struct mq_msg {
	const char *subject;
	const char *data;	/* not NUL-terminated */
	size_t len;
	const char *msg_id;	/* the publisher's Nats-Msg-Id, or NULL */
	uint64_t stream_seq;	/* sequence in the stream */
	uint64_t delivered;	/* 1 on first delivery, 2+ on redelivery */
	void *impl;		/* private */
};

/* Bind to (creating if needed) a durable pull consumer with explicit acks,
 * delivering from the start of the stream. A durable's settings are fixed
 * when it is created: if it exists with another filter, max_deliver or
 * ack_wait, this logs the differences and returns -EEXIST. -ENOENT when
 * the stream does not exist. 0 or -errno. */
int mq_consumer_open(struct mq *mq, const struct mq_consumer_options *opts,
		     struct mq_consumer **out);
/*
 * Fetch up to max messages, waiting up to timeout_us for the first.
 * Stores them in msgs[0..*n-1] (each to be answered with ack, nak or term,
 * then freed). 0 (with *n possibly 0 on timeout), or -errno.
 */
int mq_consumer_fetch(struct mq_consumer *c, struct mq_msg **msgs, size_t max,
		      int64_t timeout_us, size_t *n);
/* Close the subscription; the durable consumer stays on the server. */
void mq_consumer_close(struct mq_consumer *c);

/* How far behind the queue is: the messages stream holds now (for the
 * tasks work queue: tasks waiting or in progress) into *messages, and,
 * when durable is not NULL, that consumer's messages not yet delivered
 * into *pending and delivered but not yet acknowledged into *unacked
 * (pointers may be NULL). 0, -ENOENT when the stream or consumer does not
 * exist, or -errno. */
int mq_stream_backlog(struct mq *mq, const char *stream, const char *durable,
		      uint64_t *messages, uint64_t *pending, uint64_t *unacked);

/* Acknowledge and wait for the server's confirmation. 0 or -errno. */
int mq_msg_ack(struct mq_msg *m);
/* Negative ack: redeliver after delay_us (0 = at once); waits for the
 * server's confirmation. 0 or -errno. */
int mq_msg_nak(struct mq_msg *m, int64_t delay_us);
/* Terminate: never redeliver; waits for the server's confirmation.
 * 0 or -errno. */
int mq_msg_term(struct mq_msg *m);
/* Free a fetched message (after ack/nak/term, or to drop it unanswered). */
void mq_msg_free(struct mq_msg *m);

/* ---- key-value */

/* Create (or open) bucket as a lease bucket: one value per key, removed
 * ttl_us (>= 100 ms) after its last write, with the replicas of mq. 0 or
 * -errno. */
int mq_lease_bucket(struct mq *mq, const char *bucket, int64_t ttl_us);
/* Put value under key only if key has none: 0 (*rev, optional, gets the
 * revision), -EEXIST when it has one, or -errno. */
int mq_kv_create(struct mq *mq, const char *bucket, const char *key, const void *data,
		 size_t len, uint64_t *rev);
/* Put value under key only if the key's last revision is last: 0, -ESTALE
 * when it is another (someone else wrote, or the key is gone), or
 * -errno. */
int mq_kv_update(struct mq *mq, const char *bucket, const char *key, const void *data,
		 size_t len, uint64_t last, uint64_t *rev);
/* Delete key's value (a create may follow). 0 or -errno. */
int mq_kv_delete(struct mq *mq, const char *bucket, const char *key);
/* Put value under key in bucket; *rev (optional) gets the new revision. */
int mq_kv_put(struct mq *mq, const char *bucket, const char *key, const void *data,
	      size_t len, uint64_t *rev);
/* Get the latest value into out (appended; out's limit applies) and its
 * revision. -ENOENT when the key has no value. */
int mq_kv_get(struct mq *mq, const char *bucket, const char *key, struct buf *out,
	      uint64_t *rev);

struct mq_watch;

/* Watch one key: the first mq_watch_next returns the current value (if
 * any), later calls each newer one. -ENOENT when there is no such bucket,
 * -EOPNOTSUPP when its stream does not allow direct get (buckets made by
 * mq_ensure_topology do). 0 or -errno. */
int mq_watch_open(struct mq *mq, const char *bucket, const char *key, struct mq_watch **out);
/* Wait up to timeout_us for the next value: 0 (value appended to out, its
 * revision in *rev), -ETIMEDOUT, -ENOENT (the key was deleted), -ENOSPC
 * (the value is over out's limit; it is skipped), or -errno. The watch
 * goes on by itself across reconnects and server restarts. */
int mq_watch_next(struct mq_watch *w, struct buf *out, uint64_t *rev, int64_t timeout_us);
void mq_watch_close(struct mq_watch *w);

/* ---- request/reply */

/* Send a request and wait up to timeout_us for the first reply, appended
 * to reply. 0, -ETIMEDOUT, -ENOENT (no responder), or -errno. */
int mq_request(struct mq *mq, const char *subject, const void *data, size_t len,
	       int64_t timeout_us, struct buf *reply);

/* Request to many responders: collect every reply that arrives within
 * timeout_us, calling on_reply for each (on the calling thread); it
 * returns true to wait for more, false when it has all it needs (the
 * wait ends then). Returns the number of replies (>= 0) or -errno. */
int mq_request_many(struct mq *mq, const char *subject, const void *data, size_t len,
		    int64_t timeout_us,
		    bool (*on_reply)(void *userdata, const char *data, size_t len),
		    void *userdata);

/* The subject of a command for instance (NULL: every instance) into out;
 * -ENAMETOOLONG when it does not fit. */
int mq_command_subject(const char *instance, char *out, size_t size);

struct mq_sub;

/* An incoming request handed to a responder. */
struct mq_request_msg {
	const char *subject;
	const char *data;
	size_t len;
	void *impl;		/* private */
};

/* Serve requests on subject (every instance serving a subject gets every
 * request): handler runs on a library thread and must answer with
 * mq_respond (once). When connected, returns once the server knows the
 * subscription; otherwise it is made on (re)connect. 0 or -errno. */
int mq_serve(struct mq *mq, const char *subject,
	     void (*handler)(void *userdata, struct mq_request_msg *req), void *userdata,
	     struct mq_sub **out);
/* Answer a request, from its handler. 0 or -errno (-EINVAL when it was
 * answered already or expects no answer). */
int mq_respond(struct mq_request_msg *req, const void *data, size_t len);
/* Stop serving (waits for a handler in progress, so never call it from
 * the handler); safe on NULL. */
void mq_sub_close(struct mq_sub *sub);

#include "common/banned.h"
#endif
