/*
 * mq_request.c - request/reply on plain NATS subjects (no stream).
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "mq/mq.h"
#include "mq/mq_internal.h"

struct mq_sub {
	struct mq *mq;
	natsSubscription *sub;
	char *subject;
	void (*handler)(void *userdata, struct mq_request_msg *req);
	void *userdata;

	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;	/* the library will call handler no more */
};

/* What mq_request_msg.impl points to, for mq_respond. */
struct request_impl {
	natsConnection *nc;
	natsMsg *msg;
	bool answered;
};

int mq_request(struct mq *mq, const char *subject, const void *data, size_t len,
	       int64_t timeout_us, struct buf *reply)
{
	if (!mq || !subject || !*subject || (!data && len) || !reply)
		return -EINVAL;
	if (len > INT_MAX)
		return -EMSGSIZE;
	natsMsg *rm = NULL;
	natsStatus s = natsConnection_Request(&rm, mq->nc, subject, data, (int)len,
					      mq_ms(timeout_us));
	if (s != NATS_OK)
		return mq_fail(s, 0, "request on %s", subject);
	int rlen = natsMsg_GetDataLength(rm);
	int r = buf_append(reply, natsMsg_GetData(rm), rlen > 0 ? (size_t)rlen : 0);
	natsMsg_Destroy(rm);
	return r;
}

int mq_command_subject(const char *instance, char *out, size_t size)
{
	int n = instance ? snprintf(out, size, "%s.%s", MQ_SUBJECT_COMMANDS, instance)
			 : snprintf(out, size, "%s", MQ_SUBJECT_COMMANDS);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

int mq_request_many(struct mq *mq, const char *subject, const void *data, size_t len,
		    int64_t timeout_us,
		    bool (*on_reply)(void *userdata, const char *data, size_t len),
		    void *userdata)
{
	if (!mq || !subject || !*subject || (!data && len) || !on_reply)
		return -EINVAL;
	if (len > INT_MAX)
		return -EMSGSIZE;
	int64_t deadline = time_mono_us() + (timeout_us > 0 ? timeout_us : 0);

	natsInbox *inbox = NULL;
	natsStatus s = natsInbox_Create(&inbox);
	if (s != NATS_OK)
		return mq_fail(s, 0, "inbox for a request on %s", subject);
	int r;
	natsSubscription *sub = NULL;
	s = natsConnection_SubscribeSync(&sub, mq->nc, inbox);
	if (s != NATS_OK) {
		r = mq_fail(s, 0, "subscribing for replies on %s", subject);
		goto out_destroy_inbox;
	}
	/* The SUB goes out before the PUB on the same connection, so the
	 * server knows the inbox before any responder answers. */
	s = natsConnection_PublishRequest(mq->nc, subject, inbox, data, (int)len);
	if (s != NATS_OK) {
		r = mq_fail(s, 0, "request on %s", subject);
		goto out_destroy_sub;
	}

	int count = 0;
	for (;;) {
		int64_t ms = mq_ms_left(deadline);
		if (ms <= 0)
			break;
		natsMsg *m = NULL;
		s = natsSubscription_NextMsg(&m, sub, ms);
		/* NATS_NO_RESPONDERS: the server's answer that nobody listens
		 * (libnats turns that status message into this error). */
		if (s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS)
			break;
		if (s != NATS_OK) {
			r = mq_fail(s, 0, "replies to a request on %s", subject);
			goto out_destroy_sub;
		}
		if (natsMsg_IsNoResponders(m)) {
			natsMsg_Destroy(m);
			break;
		}
		int mlen = natsMsg_GetDataLength(m);
		const char *mdata = natsMsg_GetData(m);
		bool more = on_reply(userdata, mdata ? mdata : "", mlen > 0 ? (size_t)mlen : 0);
		natsMsg_Destroy(m);
		count++;
		if (!more)
			break;
	}
	r = count;

out_destroy_sub:
	natsSubscription_Destroy(sub);
out_destroy_inbox:
	natsInbox_Destroy(inbox);
	return r;
}

static void on_request(natsConnection *nc, natsSubscription *nsub, natsMsg *msg, void *closure)
{
	struct mq_sub *sub = closure;
	struct request_impl impl = { .nc = nc, .msg = msg };
	int len = natsMsg_GetDataLength(msg);
	const char *data = natsMsg_GetData(msg);
	struct mq_request_msg req = {
		.subject = natsMsg_GetSubject(msg),
		.data = data ? data : "",
		.len = len > 0 ? (size_t)len : 0,
		.impl = &impl,
	};
	sub->handler(sub->userdata, &req);
	if (!impl.answered && natsMsg_GetReply(msg))
		log_debug(MQ_LOG, "request on %s left unanswered", req.subject);
	natsMsg_Destroy(msg);
}

static void on_sub_complete(void *closure)
{
	struct mq_sub *sub = closure;
	pthread_mutex_lock(&sub->lock);
	sub->done = true;
	pthread_cond_broadcast(&sub->cond);
	pthread_mutex_unlock(&sub->lock);
	/* Nothing may touch sub after the unlock: mq_sub_close frees it. */
}

static void sub_free(struct mq_sub *sub)
{
	pthread_cond_destroy(&sub->cond);
	pthread_mutex_destroy(&sub->lock);
	free(sub->subject);
	free(sub);
}

int mq_serve(struct mq *mq, const char *subject,
	     void (*handler)(void *userdata, struct mq_request_msg *req), void *userdata,
	     struct mq_sub **out)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!mq || !subject || !*subject || !handler)
		return -EINVAL;

	struct mq_sub *sub = xcalloc(1, sizeof(*sub));
	sub->mq = mq;
	sub->subject = xstrdup(subject);
	sub->handler = handler;
	sub->userdata = userdata;
	pthread_mutex_init(&sub->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&sub->cond, &ca);
	pthread_condattr_destroy(&ca);

	/* A plain subscription, not a queue group: every instance answers. */
	natsStatus s = natsConnection_Subscribe(&sub->sub, mq->nc, subject, on_request, sub);
	if (s != NATS_OK) {
		int r = mq_fail(s, 0, "serving requests on %s", subject);
		sub_free(sub);
		return r;
	}
	s = natsSubscription_SetOnCompleteCB(sub->sub, on_sub_complete, sub);
	if (s != NATS_OK) {
		int r = mq_fail(s, 0, "serving requests on %s", subject);
		/* Without the callback, closing could not wait for a handler:
		 * keep the closure allocated rather than risk a late use. */
		natsSubscription_Destroy(sub->sub);
		return r;
	}
	/* Make sure the server has the subscription before returning, so a
	 * request sent right after (from anywhere) finds the responder. When
	 * not connected, the library sends it on (re)connect. */
	if (mq_connected(mq)) {
		s = natsConnection_FlushTimeout(mq->nc, mq->timeout_ms);
		if (s != NATS_OK)
			mq_fail(s, 0, "serving requests on %s: flush", subject);
	}
	*out = sub;
	return 0;
}

int mq_respond(struct mq_request_msg *req, const void *data, size_t len)
{
	if (!req || !req->impl || (!data && len))
		return -EINVAL;
	if (len > INT_MAX)
		return -EMSGSIZE;
	struct request_impl *impl = req->impl;
	const char *reply = natsMsg_GetReply(impl->msg);
	if (!reply || !*reply || impl->answered)
		return -EINVAL;
	natsStatus s = natsConnection_Publish(impl->nc, reply, data, (int)len);
	if (s != NATS_OK)
		return mq_fail(s, 0, "answering a request on %s", req->subject);
	impl->answered = true;
	return 0;
}

void mq_sub_close(struct mq_sub *sub)
{
	if (!sub)
		return;
	natsStatus s = natsSubscription_Unsubscribe(sub->sub);
	if (s != NATS_OK && s != NATS_CONNECTION_CLOSED && s != NATS_INVALID_SUBSCRIPTION)
		mq_fail(s, 0, "stop serving %s", sub->subject);

	/* Wait until the library has returned from the last handler call. */
	int64_t deadline = time_mono_us() + sub->mq->timeout_us + 5 * USEC_PER_SEC;
	pthread_mutex_lock(&sub->lock);
	while (!sub->done) {
		int64_t left = deadline - time_mono_us();
		if (left <= 0)
			break;
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += (time_t)(left / USEC_PER_SEC);
		ts.tv_nsec += (long)(left % USEC_PER_SEC) * 1000;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&sub->cond, &sub->lock, &ts);
	}
	bool done = sub->done;
	pthread_mutex_unlock(&sub->lock);

	natsSubscription_Destroy(sub->sub);
	if (!done) {
		log_warn(MQ_LOG, "stop serving %s: a handler did not return; keeping its state",
			 sub->subject);
		return;
	}
	sub_free(sub);
}
