/*
 * mq_consumer.c - durable pull consumers and the messages they fetch.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "mq/mq.h"
#include "mq/mq_internal.h"

#define DEFAULT_ACK_WAIT_US (30 * USEC_PER_SEC)
/* Largest batch one fetch asks for. */
#define FETCH_MAX 1024

struct mq_consumer {
	struct mq *mq;
	natsSubscription *sub;
	char *stream;
	char *durable;
};

/* A fetched message: the public part first, impl is the natsMsg. */
struct msg_box {
	struct mq_msg pub;
	int64_t timeout_ms;	/* the connection's timeout, for acks */
};

static struct msg_box *box_of(struct mq_msg *m)
{
	return (struct msg_box *)m;
}

static bool valid_durable(const char *s)
{
	if (!s || !*s)
		return false;
	for (; *s; s++) {
		char c = *s;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '_' || c == '-';
		if (!ok)
			return false;
	}
	return true;
}

static int64_t want_ack_wait_ns(const struct mq_consumer_options *o)
{
	int64_t us = o->ack_wait_us > 0 ? o->ack_wait_us : DEFAULT_ACK_WAIT_US;
	return us * 1000;
}

static int64_t want_max_deliver(const struct mq_consumer_options *o)
{
	return o->max_deliver > 0 ? o->max_deliver : -1;
}

/* Compare an existing consumer's settings with what the caller asks for:
 * 0, or -EEXIST with an error line listing the differences. */
static int check_config(const struct mq_consumer_options *o, const jsConsumerConfig *cc)
{
	if (!cc) {
		log_error(MQ_LOG, "consumer %s on stream %s: the server sent no configuration",
			  o->durable, o->stream);
		return -EPROTO;
	}
	struct buf why;
	buf_init(&why, 2048);
	const char *have_filter = cc->FilterSubject ? cc->FilterSubject : "";
	const char *want_filter = o->filter ? o->filter : "";
	if (strcmp(have_filter, want_filter) != 0)
		buf_printf(&why, " filter \"%s\" (wanted \"%s\");", have_filter, want_filter);
	if (cc->DeliverSubject && *cc->DeliverSubject)
		buf_printf(&why, " it is a push consumer (wanted pull);");
	if (cc->AckPolicy != js_AckExplicit)
		buf_printf(&why, " ack policy is not explicit;");
	int64_t have_md = cc->MaxDeliver > 0 ? cc->MaxDeliver : -1;
	if (have_md != want_max_deliver(o))
		buf_printf(&why, " max deliver %lld (wanted %lld);", (long long)have_md,
			   (long long)want_max_deliver(o));
	if (cc->AckWait != want_ack_wait_ns(o))
		buf_printf(&why, " ack wait %lld ms (wanted %lld ms);",
			   (long long)(cc->AckWait / 1000000),
			   (long long)(want_ack_wait_ns(o) / 1000000));
	int r = 0;
	if (why.len > 0) {
		why.data[why.len - 1] = '\0';	/* drop the last ';' */
		log_error(MQ_LOG, "consumer %s on stream %s exists with other settings:%s; "
			  "its settings are fixed at creation: delete it or use another durable name",
			  o->durable, o->stream, why.data);
		r = -EEXIST;
	}
	buf_release(&why);
	return r;
}

/* Get the durable's settings, creating it when it does not exist. */
static int lookup_or_create(struct mq *mq, const struct mq_consumer_options *o,
			    jsConsumerInfo **ci)
{
	jsErrCode jerr = 0;
	natsStatus s = js_GetConsumerInfo(ci, mq->js, o->stream, o->durable, NULL, &jerr);
	if (s == NATS_OK)
		return 0;
	if (s != NATS_NOT_FOUND || jerr == JSStreamNotFoundErr)
		return mq_fail(s, jerr, "looking up consumer %s on stream %s", o->durable, o->stream);

	jsConsumerConfig cc;
	jsConsumerConfig_Init(&cc);
	cc.Durable = o->durable;
	cc.DeliverPolicy = js_DeliverAll;
	cc.AckPolicy = js_AckExplicit;
	cc.AckWait = want_ack_wait_ns(o);
	cc.MaxDeliver = want_max_deliver(o);
	cc.FilterSubject = o->filter && *o->filter ? o->filter : NULL;
	cc.ReplayPolicy = js_ReplayInstant;
	cc.Replicas = mq->replicas;
	jerr = 0;
	s = js_AddConsumer(ci, mq->js, o->stream, &cc, NULL, &jerr);
	if (s == NATS_OK) {
		log_info(MQ_LOG, "created consumer %s on stream %s", o->durable, o->stream);
		return 0;
	}
	int r = mq_fail(s, jerr, "creating consumer %s on stream %s", o->durable, o->stream);
	/* Another process may have created it meanwhile: use it if so. */
	jsErrCode jerr2 = 0;
	if (js_GetConsumerInfo(ci, mq->js, o->stream, o->durable, NULL, &jerr2) == NATS_OK)
		return 0;
	return r;
}

/* A consumer made before its stream got more replicas keeps the count it
 * was made with (and dies with its one server): give it the stream's. */
static int scale(struct mq *mq, const struct mq_consumer_options *o, jsConsumerInfo *ci)
{
	int have = ci->Cluster ? ci->Cluster->ReplicasLen + 1 : 1;
	if (have == mq->replicas || !ci->Config)
		return 0;
	jsConsumerConfig cc = *ci->Config;
	cc.Replicas = mq->replicas;
	jsConsumerInfo *up = NULL;
	jsErrCode jerr = 0;
	natsStatus s = js_UpdateConsumer(&up, mq->js, o->stream, &cc, NULL, &jerr);
	if (s != NATS_OK)
		return mq_fail(s, jerr, "setting the replicas of consumer %s on stream %s to %d",
			       o->durable, o->stream, mq->replicas);
	log_info(MQ_LOG, "consumer %s on stream %s: replicas %d -> %d", o->durable, o->stream,
		 have, mq->replicas);
	jsConsumerInfo_Destroy(up);
	return 0;
}

int mq_consumer_open(struct mq *mq, const struct mq_consumer_options *opts,
		     struct mq_consumer **out)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!mq || !opts || !opts->stream || !*opts->stream || !valid_durable(opts->durable) ||
	    opts->max_deliver < 0 || opts->ack_wait_us < 0 ||
	    opts->ack_wait_us > INT64_MAX / 1000)
		return -EINVAL;

	jsConsumerInfo *ci = NULL;
	int r = lookup_or_create(mq, opts, &ci);
	if (r < 0)
		return r;
	r = check_config(opts, ci->Config);
	if (r == 0)
		r = scale(mq, opts, ci);
	jsConsumerInfo_Destroy(ci);
	if (r < 0)
		return r;

	/* Bind to the durable that now exists; never create from here. */
	jsSubOptions so;
	jsSubOptions_Init(&so);
	so.Stream = opts->stream;
	so.Consumer = opts->durable;
	natsSubscription *sub = NULL;
	jsErrCode jerr = 0;
	natsStatus s = js_PullSubscribe(&sub, mq->js,
					opts->filter && *opts->filter ? opts->filter : NULL,
					opts->durable, NULL, &so, &jerr);
	if (s != NATS_OK)
		return mq_fail(s, jerr, "binding to consumer %s on stream %s", opts->durable,
			       opts->stream);

	struct mq_consumer *c = xcalloc(1, sizeof(*c));
	c->mq = mq;
	c->sub = sub;
	c->stream = xstrdup(opts->stream);
	c->durable = xstrdup(opts->durable);
	*out = c;
	return 0;
}

/* Wrap a fetched libnats message (taking it over) in a struct mq_msg. */
static struct mq_msg *wrap_msg(struct mq_consumer *c, natsMsg *nm)
{
	struct msg_box *box = xcalloc(1, sizeof(*box));
	box->timeout_ms = c->mq->timeout_ms;
	struct mq_msg *m = &box->pub;
	m->impl = nm;
	m->subject = natsMsg_GetSubject(nm);
	m->data = natsMsg_GetData(nm);
	int len = natsMsg_GetDataLength(nm);
	m->len = len > 0 ? (size_t)len : 0;
	if (!m->data)
		m->data = "";
	const char *id = NULL;
	if (natsMsgHeader_Get(nm, "Nats-Msg-Id", &id) == NATS_OK && id && *id)
		m->msg_id = id;
	jsMsgMetaData *meta = NULL;
	natsStatus s = natsMsg_GetMetaData(&meta, nm);
	if (s == NATS_OK) {
		m->stream_seq = meta->Sequence.Stream;
		m->delivered = meta->NumDelivered;
		jsMsgMetaData_Destroy(meta);
	} else {
		mq_fail(s, 0, "reading the metadata of a message on %s", m->subject);
		m->delivered = 1;
	}
	return m;
}

int mq_consumer_fetch(struct mq_consumer *c, struct mq_msg **msgs, size_t max,
		      int64_t timeout_us, size_t *n)
{
	if (n)
		*n = 0;
	if (!c || !msgs || !n || max == 0)
		return -EINVAL;
	int batch = max > FETCH_MAX ? FETCH_MAX : (int)max;

	/* One pull request that the server answers as soon as it has at
	 * least one message (or at the timeout): with a batch above 1,
	 * libnats asks with no_wait plus an expiry. */
	natsMsgList list = { 0 };
	jsErrCode jerr = 0;
	natsStatus s = natsSubscription_Fetch(&list, c->sub, batch, mq_ms(timeout_us), &jerr);
	if (s == NATS_TIMEOUT || s == NATS_NOT_FOUND)
		return 0;
	if (s != NATS_OK)
		return mq_fail(s, jerr, "fetching from consumer %s on stream %s", c->durable,
			       c->stream);
	size_t got = 0;
	for (int i = 0; i < list.Count; i++) {
		natsMsg *nm = list.Msgs[i];
		if (!nm)
			continue;
		list.Msgs[i] = NULL;
		msgs[got++] = wrap_msg(c, nm);
	}
	natsMsgList_Destroy(&list);
	*n = got;
	return 0;
}

void mq_consumer_close(struct mq_consumer *c)
{
	if (!c)
		return;
	/* The subscription was bound to an existing durable, so libnats
	 * leaves the consumer on the server. */
	natsSubscription_Destroy(c->sub);
	free(c->stream);
	free(c->durable);
	free(c);
}

/* Options making a nak or term wait for the server's answer, for the
 * connection's timeout (libnats makes any ack synchronous when given a
 * Wait). */
static void ack_options(struct mq_msg *m, jsOptions *jo)
{
	jsOptions_Init(jo);
	jo->Wait = box_of(m)->timeout_ms;
}

int mq_msg_ack(struct mq_msg *m)
{
	if (!m || !m->impl)
		return -EINVAL;
	jsErrCode jerr = 0;
	natsStatus s = natsMsg_AckSync(m->impl, NULL, &jerr);
	if (s != NATS_OK)
		return mq_fail(s, jerr, "acknowledging %s seq %llu", m->subject,
			       (unsigned long long)m->stream_seq);
	return 0;
}

int mq_msg_nak(struct mq_msg *m, int64_t delay_us)
{
	if (!m || !m->impl || delay_us < 0)
		return -EINVAL;
	jsOptions jo;
	ack_options(m, &jo);
	natsStatus s;
	if (delay_us > 0)
		s = natsMsg_NakWithDelay(m->impl, mq_ms(delay_us), &jo);
	else
		s = natsMsg_Nak(m->impl, &jo);
	if (s != NATS_OK)
		return mq_fail(s, 0, "negative ack of %s seq %llu", m->subject,
			       (unsigned long long)m->stream_seq);
	return 0;
}

int mq_msg_term(struct mq_msg *m)
{
	if (!m || !m->impl)
		return -EINVAL;
	jsOptions jo;
	ack_options(m, &jo);
	natsStatus s = natsMsg_Term(m->impl, &jo);
	if (s != NATS_OK)
		return mq_fail(s, 0, "terminating %s seq %llu", m->subject,
			       (unsigned long long)m->stream_seq);
	return 0;
}

void mq_msg_free(struct mq_msg *m)
{
	if (!m)
		return;
	natsMsg_Destroy(m->impl);
	free(box_of(m));
}

int mq_stream_backlog(struct mq *mq, const char *stream, const char *durable,
		      uint64_t *messages, uint64_t *pending, uint64_t *unacked)
{
	if (!mq || !stream || !*stream)
		return -EINVAL;
	jsErrCode jerr = 0;
	jsStreamInfo *si = NULL;
	natsStatus s = js_GetStreamInfo(&si, mq->js, stream, NULL, &jerr);
	if (s != NATS_OK)
		return mq_errno(s, jerr) < 0 ? mq_errno(s, jerr) : -EIO;
	if (messages)
		*messages = si->State.Msgs;
	jsStreamInfo_Destroy(si);
	if (!durable)
		return 0;
	jsConsumerInfo *ci = NULL;
	jerr = 0;
	s = js_GetConsumerInfo(&ci, mq->js, stream, durable, NULL, &jerr);
	if (s != NATS_OK)
		return mq_errno(s, jerr) < 0 ? mq_errno(s, jerr) : -EIO;
	if (pending)
		*pending = ci->NumPending;
	if (unacked)
		*unacked = (uint64_t)ci->NumAckPending;
	jsConsumerInfo_Destroy(ci);
	return 0;
}
