/*
 * mq.c - the connection, its state, the topology and publishing.
 *
 * Consumers are in mq_consumer.c, key-value in mq_kv.c, request/reply in
 * mq_request.c.
 */
#include "mq/mq.h"

#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "mq/mq_internal.h"

#define MQ_DEFAULT_TIMEOUT_US (5 * USEC_PER_SEC)
#define MQ_RECONNECT_WAIT_MS 250
#define MQ_RECONNECT_JITTER_MS 50
#define MQ_RECONNECT_BUF_SIZE (8 * 1024 * 1024)
#define MQ_PING_INTERVAL_MS 10000
#define MQ_MAX_PINGS_OUT 2
#define MQ_LIBRARY_SHUTDOWN_MS 5000

#define NSEC_PER_SEC INT64_C(1000000000)
#define NSEC_PER_MIN (60 * NSEC_PER_SEC)
#define NSEC_PER_DAY (24 * 60 * NSEC_PER_MIN)

/*
 * Error mapping, libnats status (and JetStream error code when the status
 * is NATS_ERR) to errno:
 *
 *   NATS_OK                                              0
 *   NATS_TIMEOUT                                         -ETIMEDOUT
 *   NATS_NO_RESPONDERS (no stream or responder for the
 *     subject), NATS_NOT_FOUND, JSStreamNotFoundErr,
 *     JSConsumerNotFoundErr, JSNoMessageFoundErr         -ENOENT
 *   JSStreamNameExistErr, JSConsumerNameExistErr,
 *     JSConsumerExistingActiveErr                        -EEXIST
 *   NATS_CONNECTION_CLOSED, NATS_CONNECTION_DISCONNECTED,
 *     NATS_NOT_YET_CONNECTED, NATS_NO_SERVER,
 *     NATS_STALE_CONNECTION, NATS_IO_ERROR, NATS_DRAINING -ENOTCONN
 *   NATS_INVALID_ARG, NATS_INVALID_SUBJECT,
 *     NATS_INVALID_TIMEOUT, NATS_ADDRESS_MISSING,
 *     NATS_INVALID_QUEUE_NAME, NATS_INVALID_SUBSCRIPTION,
 *     NATS_ILLEGAL_STATE                                 -EINVAL
 *   NATS_NO_MEMORY                                       -ENOMEM
 *   NATS_MAX_PAYLOAD, JSStreamMessageExceedsMaximumErr   -EMSGSIZE
 *   NATS_INSUFFICIENT_BUFFER (reconnect buffer full),
 *     NATS_SLOW_CONSUMER                                 -ENOBUFS
 *   NATS_CONNECTION_AUTH_FAILED, NATS_NOT_PERMITTED      -EACCES
 *   NATS_MISSED_HEARTBEAT, NATS_MISMATCH                 -EAGAIN
 *   NATS_NO_SERVER_SUPPORT                               -EOPNOTSUPP
 *   JSInsufficientResourcesErr, JSStorageResources-
 *     ExceededErr, JSMemoryResourcesExceededErr,
 *     JSStreamStoreFailedErr                             -ENOSPC
 *   NATS_ERR with any other or no code (the server
 *     refused), NATS_PROTOCOL_ERROR, NATS_LINE_TOO_LONG,
 *     NATS_SECURE_CONNECTION_*, NATS_SSL_ERROR           -EPROTO
 *   anything else (NATS_SYS_ERROR, library not
 *     initialised, ...)                                  -ONAIR_EMQ
 */
int mq_errno(natsStatus s, jsErrCode jerr)
{
	switch (s) {
	case NATS_OK:
		return 0;
	case NATS_TIMEOUT:
		return -ETIMEDOUT;
	case NATS_NO_RESPONDERS:
	case NATS_NOT_FOUND:
		return -ENOENT;
	case NATS_CONNECTION_CLOSED:
	case NATS_CONNECTION_DISCONNECTED:
	case NATS_NOT_YET_CONNECTED:
	case NATS_NO_SERVER:
	case NATS_STALE_CONNECTION:
	case NATS_IO_ERROR:
	case NATS_DRAINING:
		return -ENOTCONN;
	case NATS_INVALID_ARG:
	case NATS_INVALID_SUBJECT:
	case NATS_INVALID_TIMEOUT:
	case NATS_ADDRESS_MISSING:
	case NATS_INVALID_QUEUE_NAME:
	case NATS_INVALID_SUBSCRIPTION:
	case NATS_ILLEGAL_STATE:
		return -EINVAL;
	case NATS_NO_MEMORY:
		return -ENOMEM;
	case NATS_MAX_PAYLOAD:
		return -EMSGSIZE;
	case NATS_INSUFFICIENT_BUFFER:
	case NATS_SLOW_CONSUMER:
		return -ENOBUFS;
	case NATS_CONNECTION_AUTH_FAILED:
	case NATS_NOT_PERMITTED:
		return -EACCES;
	case NATS_MISSED_HEARTBEAT:
	case NATS_MISMATCH:
		return -EAGAIN;
	case NATS_NO_SERVER_SUPPORT:
		return -EOPNOTSUPP;
	case NATS_PROTOCOL_ERROR:
	case NATS_LINE_TOO_LONG:
	case NATS_SECURE_CONNECTION_WANTED:
	case NATS_SECURE_CONNECTION_REQUIRED:
	case NATS_SSL_ERROR:
		return -EPROTO;
	case NATS_ERR:
		break;
	default:
		return -ONAIR_EMQ;
	}
	switch (jerr) {
	case JSStreamNotFoundErr:
	case JSConsumerNotFoundErr:
	case JSNoMessageFoundErr:
		return -ENOENT;
	case JSStreamNameExistErr:
	case JSConsumerNameExistErr:
	case JSConsumerExistingActiveErr:
		return -EEXIST;
	case JSStreamMessageExceedsMaximumErr:
		return -EMSGSIZE;
	case JSInsufficientResourcesErr:
	case JSStorageResourcesExceededErr:
	case JSMemoryResourcesExceededErr:
	case JSStreamStoreFailedErr:
		return -ENOSPC;
	default:
		return -EPROTO;
	}
}

int mq_fail(natsStatus s, jsErrCode jerr, const char *fmt, ...)
{
	int err = mq_errno(s, jerr);
	bool transient = err == -ETIMEDOUT || err == -ENOTCONN || err == -ENOENT;
	enum log_level level = transient ? LOG_DEBUG : LOG_WARN;
	if (!log_enabled(level))
		return err;

	char what[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);

	/* The thread's last error describes s only if it has the same status. */
	natsStatus last = NATS_OK;
	const char *text = nats_GetLastError(&last);
	if (last != s || !text || !*text)
		text = natsStatus_GetText(s);
	if (jerr)
		log_write(level, MQ_LOG, "%s: %s (JetStream error %d)", what, text, (int)jerr);
	else
		log_write(level, MQ_LOG, "%s: %s", what, text);
	return err;
}

int64_t mq_ms(int64_t timeout_us)
{
	if (timeout_us <= USEC_PER_MSEC)
		return 1;
	if (timeout_us > INT64_MAX - USEC_PER_MSEC)
		return INT64_MAX / USEC_PER_MSEC;
	return (timeout_us + USEC_PER_MSEC - 1) / USEC_PER_MSEC;
}

int64_t mq_ms_left(int64_t deadline_us)
{
	int64_t left = deadline_us - time_mono_us();
	if (left <= 0)
		return 0;
	return mq_ms(left);
}

/* ---- connection state */

uint64_t mq_generation(struct mq *mq)
{
	pthread_mutex_lock(&mq->lock);
	uint64_t g = mq->generation;
	pthread_mutex_unlock(&mq->lock);
	return g;
}

static void notify_state(struct mq *mq, bool connected)
{
	pthread_mutex_lock(&mq->lock);
	if (connected)
		mq->generation++;
	bool closing = mq->closing;
	pthread_cond_broadcast(&mq->cond);
	pthread_mutex_unlock(&mq->lock);
	/* No user callback once mq_close has begun: the caller may be
	 * tearing down what userdata points to. */
	if (!closing && mq->on_state)
		mq->on_state(mq->userdata, connected);
}

static void on_connected(natsConnection *nc, void *closure)
{
	struct mq *mq = closure;
	char url[256] = "";
	natsConnection_GetConnectedUrl(nc, url, sizeof(url));
	log_info(MQ_LOG, "%s: connected to %s", mq->name, url);
	notify_state(mq, true);
}

static void on_disconnected(natsConnection *nc, void *closure)
{
	struct mq *mq = closure;
	pthread_mutex_lock(&mq->lock);
	bool closing = mq->closing;
	pthread_mutex_unlock(&mq->lock);
	if (!closing)
		log_warn(MQ_LOG, "%s: disconnected; reconnecting", mq->name);
	notify_state(mq, false);
}

static void on_reconnected(natsConnection *nc, void *closure)
{
	struct mq *mq = closure;
	char url[256] = "";
	natsConnection_GetConnectedUrl(nc, url, sizeof(url));
	log_info(MQ_LOG, "%s: reconnected to %s", mq->name, url);
	notify_state(mq, true);
}

static void on_closed(natsConnection *nc, void *closure)
{
	struct mq *mq = closure;
	log_debug(MQ_LOG, "%s: connection closed", mq->name);
	pthread_mutex_lock(&mq->lock);
	mq->closed = true;
	pthread_cond_broadcast(&mq->cond);
	pthread_mutex_unlock(&mq->lock);
	/* Nothing may touch mq after the unlock: mq_close frees it. */
}

static void on_async_error(natsConnection *nc, natsSubscription *sub, natsStatus err,
			   void *closure)
{
	struct mq *mq = closure;
	const char *subject = sub ? natsSubscription_GetSubject(sub) : NULL;
	if (err == NATS_MISSED_HEARTBEAT)
		log_info(MQ_LOG, "%s: missed heartbeats on %s; the library resets it",
			 mq->name, subject ? subject : "a subscription");
	else
		log_warn(MQ_LOG, "%s: %s%s%s", mq->name, natsStatus_GetText(err),
			 subject ? " on " : "", subject ? subject : "");
}

/* Wait on mq->cond until deadline (monotonic us); caller holds mq->lock.
 * Returns false once the deadline has passed. */
static bool cond_wait_until(struct mq *mq, int64_t deadline_us)
{
	int64_t now = time_mono_us();
	if (now >= deadline_us)
		return false;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	int64_t left = deadline_us - now;
	ts.tv_sec += (time_t)(left / USEC_PER_SEC);
	ts.tv_nsec += (long)(left % USEC_PER_SEC) * 1000;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&mq->cond, &mq->lock, &ts);
	return true;
}

#define MQ_SERVERS_MAX 16

/* The server list: "a,b, c" as separate URLs (libnats 3.4.1's SetURL
 * takes a list but then connects to none of its servers). */
static natsStatus set_servers(natsOptions *no, const char *list)
{
	char *copy = xstrdup(list ? list : "");
	const char *urls[MQ_SERVERS_MAX];
	int n = 0;
	for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok && n < MQ_SERVERS_MAX;
	     tok = strtok_r(NULL, ",", &save)) {
		while (*tok == ' ' || *tok == '\t')
			tok++;
		size_t len = strlen(tok);
		while (len && (tok[len - 1] == ' ' || tok[len - 1] == '\t'))
			tok[--len] = '\0';
		if (len)
			urls[n++] = tok;
	}
	natsStatus s = n == 0 ? NATS_INVALID_ARG : natsOptions_SetServers(no, urls, n);
	free(copy);
	return s;
}

static natsStatus set_options(struct mq *mq, natsOptions *no, const struct mq_options *opts)
{
	natsStatus s = set_servers(no, opts->url);
	if (s == NATS_OK)
		s = natsOptions_SetName(no, mq->name);
	/* Servers are tried in the order given: the first is the preferred. */
	if (s == NATS_OK)
		s = natsOptions_SetNoRandomize(no, true);
	if (s == NATS_OK)
		s = natsOptions_SetTimeout(no, mq->timeout_ms);
	if (s == NATS_OK)
		s = natsOptions_SetMaxReconnect(no, -1);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectWait(no, MQ_RECONNECT_WAIT_MS);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectJitter(no, MQ_RECONNECT_JITTER_MS, MQ_RECONNECT_JITTER_MS);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectBufSize(no, MQ_RECONNECT_BUF_SIZE);
	if (s == NATS_OK)
		s = natsOptions_SetPingInterval(no, MQ_PING_INTERVAL_MS);
	if (s == NATS_OK)
		s = natsOptions_SetMaxPingsOut(no, MQ_MAX_PINGS_OUT);
	/* A request in flight when the connection drops fails at once
	 * (-ENOTCONN) rather than at its timeout: its answer is lost. */
	if (s == NATS_OK)
		s = natsOptions_SetFailRequestsOnDisconnect(no, true);
	if (s == NATS_OK)
		s = natsOptions_SetDisconnectedCB(no, on_disconnected, mq);
	if (s == NATS_OK)
		s = natsOptions_SetReconnectedCB(no, on_reconnected, mq);
	if (s == NATS_OK)
		s = natsOptions_SetClosedCB(no, on_closed, mq);
	if (s == NATS_OK)
		s = natsOptions_SetErrorHandler(no, on_async_error, mq);
	if (s == NATS_OK)
		s = natsOptions_SetRetryOnFailedConnect(no, true, on_connected, mq);
	if (s == NATS_OK && opts->user && *opts->user)
		s = natsOptions_SetUserInfo(no, opts->user, opts->password ? opts->password : "");
	if (s == NATS_OK && opts->token && *opts->token)
		s = natsOptions_SetToken(no, opts->token);
	if (s == NATS_OK && opts->creds && *opts->creds)
		s = natsOptions_SetUserCredentialsFromFiles(no, opts->creds, NULL);
	bool tls = (opts->tls_ca && *opts->tls_ca) || (opts->tls_cert && *opts->tls_cert);
	if (s == NATS_OK && tls)
		s = natsOptions_SetSecure(no, true);
	if (s == NATS_OK && opts->tls_ca && *opts->tls_ca)
		s = natsOptions_LoadCATrustedCertificates(no, opts->tls_ca);
	if (s == NATS_OK && opts->tls_cert && *opts->tls_cert)
		s = natsOptions_LoadCertificatesChain(no, opts->tls_cert,
						      opts->tls_key ? opts->tls_key : "");
	return s;
}

int mq_options_from_config(struct mq_options *o, const struct config *cfg)
{
	o->url = config_get(cfg, "nats.url");
	const char *name = config_get(cfg, "nats.name");
	if (name && *name)
		o->name = name;
	o->user = config_get(cfg, "nats.user");
	o->password = config_get(cfg, "nats.password");
	o->token = config_get(cfg, "nats.token");
	o->creds = config_get(cfg, "nats.creds");
	o->tls_ca = config_get(cfg, "nats.tls_ca");
	o->tls_cert = config_get(cfg, "nats.tls_cert");
	o->tls_key = config_get(cfg, "nats.tls_key");
	int64_t replicas = 1;
	int r = config_get_int(cfg, "nats.replicas", 1, 5, &replicas);
	o->replicas = r < 0 ? 1 : (int)replicas;
	if (r < 0)
		log_error(MQ_LOG, "nats.replicas must be 1 to 5");
	return r < 0 ? -EINVAL : 0;
}

static void mq_free(struct mq *mq)
{
	pthread_cond_destroy(&mq->cond);
	pthread_mutex_destroy(&mq->lock);
	free(mq->name);
	free(mq);
}

/* Close and destroy mq->nc, waiting for the library's closed callback so
 * that no callback can run on mq afterwards. False if it did not come. */
static bool close_connection(struct mq *mq)
{
	pthread_mutex_lock(&mq->lock);
	mq->closing = true;
	pthread_mutex_unlock(&mq->lock);

	natsConnection_Close(mq->nc);

	int64_t deadline = time_mono_us() + mq->timeout_us + MQ_LIBRARY_SHUTDOWN_MS * USEC_PER_MSEC;
	pthread_mutex_lock(&mq->lock);
	while (!mq->closed && cond_wait_until(mq, deadline))
		;
	bool closed = mq->closed;
	pthread_mutex_unlock(&mq->lock);

	natsConnection_Destroy(mq->nc);
	mq->nc = NULL;
	if (!closed)
		log_warn(MQ_LOG, "%s: the connection did not confirm its close; "
			 "keeping its state allocated", mq->name);
	return closed;
}

int mq_connect(struct mq **out, const struct mq_options *opts)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!opts || !opts->url || !*opts->url)
		return -EINVAL;

	struct mq *mq = xcalloc(1, sizeof(*mq));
	mq->timeout_us = opts->timeout_us > 0 ? opts->timeout_us : MQ_DEFAULT_TIMEOUT_US;
	mq->timeout_ms = mq_ms(mq->timeout_us);
	mq->name = xstrdup(opts->name && *opts->name ? opts->name : "onair");
	mq->replicas = opts->replicas > 0 ? opts->replicas : 1;
	mq->on_state = opts->on_state;
	mq->userdata = opts->userdata;
	pthread_mutex_init(&mq->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&mq->cond, &ca);
	pthread_condattr_destroy(&ca);

	int r;
	natsOptions *no = NULL;
	natsStatus s = natsOptions_Create(&no);
	if (s != NATS_OK) {
		r = mq_fail(s, 0, "%s: creating connection options", mq->name);
		goto out_free_mq;
	}
	s = set_options(mq, no, opts);
	if (s != NATS_OK) {
		r = mq_fail(s, 0, "%s: connection options for %s", mq->name, opts->url);
		goto out_destroy_options;
	}

	s = natsConnection_Connect(&mq->nc, no);
	if (s == NATS_NOT_YET_CONNECTED) {
		log_info(MQ_LOG, "%s: no server at %s yet; connecting in the background",
			 mq->name, opts->url);
	} else if (s != NATS_OK) {
		r = mq_fail(s, 0, "%s: connecting to %s", mq->name, opts->url);
		/* No connection object: only a bad URL or a resource problem
		 * fails here, since unreachable servers are retried. */
		if (r == -ENOTCONN || r == -EPROTO || r == -ONAIR_EMQ)
			r = -EINVAL;
		goto out_destroy_options;
	} else {
		char url[256] = "";
		natsConnection_GetConnectedUrl(mq->nc, url, sizeof(url));
		log_info(MQ_LOG, "%s: connected to %s", mq->name, url);
		pthread_mutex_lock(&mq->lock);
		mq->generation++;
		pthread_mutex_unlock(&mq->lock);
	}

	jsOptions jo;
	jsOptions_Init(&jo);
	jo.Wait = mq->timeout_ms;
	s = natsConnection_JetStream(&mq->js, mq->nc, &jo);
	if (s != NATS_OK) {
		r = mq_fail(s, 0, "%s: JetStream context", mq->name);
		goto out_close_connection;
	}

	natsOptions_Destroy(no);
	*out = mq;
	return 0;

out_close_connection:
	if (!close_connection(mq)) {
		natsOptions_Destroy(no);
		return r;
	}
out_destroy_options:
	natsOptions_Destroy(no);
out_free_mq:
	mq_free(mq);
	return r;
}

void mq_close(struct mq *mq)
{
	if (!mq)
		return;
	mq_buckets_release(mq);
	jsCtx_Destroy(mq->js);
	mq->js = NULL;
	if (natsConnection_Status(mq->nc) == NATS_CONN_STATUS_CONNECTED) {
		natsStatus s = natsConnection_FlushTimeout(mq->nc, mq->timeout_ms);
		if (s != NATS_OK)
			mq_fail(s, 0, "%s: flushing before close", mq->name);
	}
	if (!close_connection(mq))
		return; /* a late callback could still use mq: leave it */
	log_debug(MQ_LOG, "%s: closed", mq->name);
	mq_free(mq);
}

bool mq_connected(struct mq *mq)
{
	return mq && mq->nc && natsConnection_Status(mq->nc) == NATS_CONN_STATUS_CONNECTED;
}

size_t mq_max_payload(struct mq *mq)
{
	int64_t n = mq && mq->nc && mq_connected(mq) ? natsConnection_GetMaxPayload(mq->nc) : 0;
	return n > 0 ? (size_t)n : MQ_DEFAULT_MAX_PAYLOAD;
}

int mq_wait_connected(struct mq *mq, int64_t timeout_us)
{
	if (!mq)
		return -EINVAL;
	int64_t deadline = time_mono_us() + (timeout_us > 0 ? timeout_us : 0);
	int r = -ETIMEDOUT;
	pthread_mutex_lock(&mq->lock);
	for (;;) {
		if (mq_connected(mq)) {
			r = 0;
			break;
		}
		/* Wake at least every 50 ms: the status is the library's and a
		 * change may come without a callback (initial connect). */
		int64_t step = time_mono_us() + 50 * USEC_PER_MSEC;
		if (!cond_wait_until(mq, step < deadline ? step : deadline))
			break;
	}
	pthread_mutex_unlock(&mq->lock);
	return r;
}

void mq_library_shutdown(void)
{
	natsStatus s = nats_CloseAndWait(MQ_LIBRARY_SHUTDOWN_MS);
	/* NATS_NOT_INITIALIZED: the process never used the queue; fine. */
	if (s != NATS_OK && s != NATS_NOT_INITIALIZED)
		log_warn(MQ_LOG, "shutting the NATS library down: %s", natsStatus_GetText(s));
}

/* ---- topology */

/* Create the stream, or update it when it exists with other settings. */
static int ensure_stream(struct mq *mq, jsStreamConfig *cfg)
{
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	cfg->Replicas = mq->replicas;
	natsStatus s = js_AddStream(&si, mq->js, cfg, NULL, &jerr);
	if (s == NATS_OK) {
		jsStreamInfo_Destroy(si);
		return 0;
	}
	if (s != NATS_ERR || jerr != JSStreamNameExistErr)
		return mq_fail(s, jerr, "creating stream %s", cfg->Name);

	jerr = 0;
	s = js_UpdateStream(&si, mq->js, cfg, NULL, &jerr);
	if (s != NATS_OK)
		return mq_fail(s, jerr, "updating stream %s to onair's settings", cfg->Name);
	jsStreamInfo_Destroy(si);
	log_info(MQ_LOG, "stream %s updated to onair's settings", cfg->Name);
	return 0;
}

int mq_ensure_topology(struct mq *mq)
{
	if (!mq)
		return -EINVAL;

	const char *events_subjects[] = { MQ_SUBJECT_EVENTS ".>" };
	const char *tasks_subjects[] = { MQ_SUBJECT_TASKS ".>" };
	const char *dead_subjects[] = { MQ_SUBJECT_DEAD ".>" };
	jsStreamConfig events, tasks, dead;

	jsStreamConfig_Init(&events);
	events.Name = MQ_STREAM_EVENTS;
	events.Subjects = events_subjects;
	events.SubjectsLen = 1;
	events.Retention = js_LimitsPolicy;
	events.Storage = js_FileStorage;
	events.MaxAge = 7 * NSEC_PER_DAY;
	events.Duplicates = 10 * NSEC_PER_MIN;

	jsStreamConfig_Init(&tasks);
	tasks.Name = MQ_STREAM_TASKS;
	tasks.Subjects = tasks_subjects;
	tasks.SubjectsLen = 1;
	tasks.Retention = js_WorkQueuePolicy;
	tasks.Storage = js_FileStorage;
	tasks.Duplicates = 10 * NSEC_PER_MIN;

	jsStreamConfig_Init(&dead);
	dead.Name = MQ_STREAM_DEAD;
	dead.Subjects = dead_subjects;
	dead.SubjectsLen = 1;
	dead.Retention = js_LimitsPolicy;
	dead.Storage = js_FileStorage;
	dead.MaxAge = 30 * NSEC_PER_DAY;
	dead.Duplicates = 10 * NSEC_PER_MIN;

	int r = ensure_stream(mq, &events);
	if (r == 0)
		r = ensure_stream(mq, &tasks);
	if (r == 0)
		r = ensure_stream(mq, &dead);
	if (r < 0)
		return r;

	kvStore *kv = NULL;
	return mq_bucket_get(mq, MQ_KV_SCHEDULE, true, &kv);
}

/* ---- publishing */

int mq_publish(struct mq *mq, const char *subject, const void *data, size_t len,
	       const char *msg_id, uint64_t *seq)
{
	if (!mq || !subject || !*subject || (!data && len))
		return -EINVAL;
	if (len > INT_MAX)
		return -EMSGSIZE;

	jsPubOptions po;
	jsPubOptions_Init(&po);
	po.MaxWait = mq->timeout_ms;
	if (msg_id && *msg_id)
		po.MsgId = msg_id;

	jsPubAck *pa = NULL;
	jsErrCode jerr = 0;
	natsStatus s = js_Publish(&pa, mq->js, subject, data, (int)len, &po, &jerr);
	if (s != NATS_OK)
		return mq_fail(s, jerr, "publishing to %s%s%s", subject,
			       po.MsgId ? " with id " : "", po.MsgId ? po.MsgId : "");
	if (pa->Duplicate)
		log_debug(MQ_LOG, "publishing to %s: id %s already stored (seq %llu)", subject,
			  po.MsgId ? po.MsgId : "?", (unsigned long long)pa->Sequence);
	if (seq)
		*seq = pa->Sequence;
	jsPubAck_Destroy(pa);
	return 0;
}

int mq_publish_core(struct mq *mq, const char *subject, const void *data, size_t len)
{
	if (!mq || !subject || !*subject || (!data && len))
		return -EINVAL;
	if (len > INT_MAX)
		return -EMSGSIZE;
	natsStatus s = natsConnection_Publish(mq->nc, subject, data, (int)len);
	if (s != NATS_OK)
		return mq_fail(s, 0, "publishing to %s", subject);
	return 0;
}
