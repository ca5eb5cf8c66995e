/*
 * mq_kv.c - key-value buckets: put, get and watching one key.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "mq/mq.h"
#include "mq/mq_internal.h"

#define KV_HISTORY 10
/* Look for a change at least this often, even without a nudge. */
#define WATCH_RESYNC_US (5 * USEC_PER_SEC)
/* After a nudge, look again this often for this long: the nudge can
 * arrive before the stream has stored the value. */
#define WATCH_RECHECK_STEP_US (25 * USEC_PER_MSEC)
#define WATCH_RECHECK_US (1 * USEC_PER_SEC)

/*
 * A watch on one key. libnats' kvStore_Watch is not used: it rests on an
 * ordered consumer that the library recreates on a thread of its own
 * after each reconnect, and destroying the watcher while that runs
 * touches freed memory (libnats 3.4.1, still so upstream). Instead:
 *   - the values are read with JetStream direct get, by revision: "the
 *     first message for the key's subject at or after last_rev + 1", so
 *     every revision the bucket still holds is returned, in order;
 *   - a plain subscription on the key's subject is the nudge to look
 *     (a put is a publish on it), besides a look after every reconnect
 *     and every WATCH_RESYNC_US.
 * Nothing on the server belongs to the watch, so a restart costs nothing.
 */
struct mq_watch {
	struct mq *mq;
	char *bucket;
	char *key;
	char *stream;		/* "KV_<bucket>" */
	char *subject;		/* "$KV.<bucket>.<key>" */
	natsSubscription *nudges;
	natsMsg *pending;	/* the value found at open, not returned yet */
	uint64_t last_rev;	/* newest revision returned (or pending) */
	uint64_t generation;	/* mq_generation() at the last look */
	bool dirty;		/* look before waiting */
	int64_t next_look_us;	/* time_mono_us() of the next periodic look */
	int64_t recheck_until_us;
};

/* Warn when an existing bucket was made with other settings: they are
 * not changed behind an operator's back. */
static void check_bucket(kvStore *kv, const char *bucket)
{
	kvStatus *st = NULL;
	if (kvStore_Status(&st, kv) != NATS_OK)
		return;
	if (kvStatus_History(st) != KV_HISTORY)
		log_warn(MQ_LOG, "bucket %s keeps %lld values per key (onair creates it with %d)",
			 bucket, (long long)kvStatus_History(st), KV_HISTORY);
	kvStatus_Destroy(st);
}

/* An existing bucket gets onair's replica count (its stream is updated). */
static int bucket_replicas(struct mq *mq, const char *bucket)
{
	char stream[128];
	snprintf(stream, sizeof(stream), "KV_%s", bucket);
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s = js_GetStreamInfo(&si, mq->js, stream, NULL, &jerr);
	if (s != NATS_OK)
		return mq_fail(s, jerr, "reading stream %s", stream);
	int r = 0;
	if (si->Config->Replicas != (int64_t)mq->replicas) {
		int64_t was = si->Config->Replicas;
		si->Config->Replicas = mq->replicas;
		jsStreamInfo *up = NULL;
		s = js_UpdateStream(&up, mq->js, si->Config, NULL, &jerr);
		if (s != NATS_OK)
			r = mq_fail(s, jerr, "setting the replicas of bucket %s to %d", bucket,
				    mq->replicas);
		else
			log_info(MQ_LOG, "bucket %s: replicas %lld -> %d", bucket, (long long)was,
				 mq->replicas);
		jsStreamInfo_Destroy(up);
	}
	jsStreamInfo_Destroy(si);
	return r;
}

/* ttl_us > 0: a lease bucket (one value per key, gone ttl_us after its
 * last write). */
static int bucket_open(struct mq *mq, const char *bucket, bool create, int64_t ttl_us,
		       kvStore **out)
{
	kvStore *kv = NULL;
	natsStatus s = js_KeyValue(&kv, mq->js, bucket);
	if (s == NATS_OK && create) {
		if (ttl_us <= 0)
			check_bucket(kv, bucket);
		int r = bucket_replicas(mq, bucket);
		if (r < 0) {
			kvStore_Destroy(kv);
			return r;
		}
	}
	if (s == NATS_NOT_FOUND && create) {
		kvConfig kc;
		kvConfig_Init(&kc);
		kc.Bucket = bucket;
		kc.History = ttl_us > 0 ? 1 : KV_HISTORY;
		kc.TTL = ttl_us > 0 ? ttl_us * 1000 : 0;
		kc.StorageType = js_FileStorage;
		kc.Replicas = mq->replicas;
		s = js_CreateKeyValue(&kv, mq->js, &kc);
		if (s == NATS_OK)
			log_info(MQ_LOG, "created key-value bucket %s", bucket);
		else
			return mq_fail(s, 0, "creating key-value bucket %s", bucket);
	}
	if (s != NATS_OK)
		return mq_fail(s, 0, "opening key-value bucket %s", bucket);
	*out = kv;
	return 0;
}

static int bucket_get(struct mq *mq, const char *bucket, bool create, int64_t ttl_us,
		      kvStore **out)
{
	*out = NULL;
	pthread_mutex_lock(&mq->lock);
	for (struct mq_bucket *b = mq->buckets; b; b = b->next) {
		if (strcmp(b->name, bucket) == 0) {
			*out = b->kv;
			break;
		}
	}
	pthread_mutex_unlock(&mq->lock);
	if (*out)
		return 0;

	/* Open outside the lock (it is a round trip to the server); when two
	 * threads race, the first handle stored wins. */
	kvStore *kv = NULL;
	int r = bucket_open(mq, bucket, create, ttl_us, &kv);
	if (r < 0)
		return r;
	pthread_mutex_lock(&mq->lock);
	for (struct mq_bucket *b = mq->buckets; b; b = b->next) {
		if (strcmp(b->name, bucket) == 0) {
			*out = b->kv;
			break;
		}
	}
	if (!*out) {
		struct mq_bucket *b = xcalloc(1, sizeof(*b));
		b->name = xstrdup(bucket);
		b->kv = kv;
		b->next = mq->buckets;
		mq->buckets = b;
		*out = kv;
		kv = NULL;
	}
	pthread_mutex_unlock(&mq->lock);
	kvStore_Destroy(kv);
	return 0;
}

int mq_bucket_get(struct mq *mq, const char *bucket, bool create, kvStore **out)
{
	return bucket_get(mq, bucket, create, 0, out);
}

int mq_lease_bucket(struct mq *mq, const char *bucket, int64_t ttl_us)
{
	if (!mq || !bucket || !*bucket || ttl_us < 100000)
		return -EINVAL;
	kvStore *kv = NULL;
	return bucket_get(mq, bucket, true, ttl_us, &kv);
}

/* The three ways of writing a value; what a refusal by the server means
 * (NATS_ERR: a create over a value, an update over another revision). */
enum kv_write { KV_PUT, KV_CREATE, KV_UPDATE };

static int kv_write(struct mq *mq, const char *bucket, const char *key, const void *data,
		    size_t len, enum kv_write how, uint64_t last, uint64_t *rev)
{
	if (!mq || !bucket || !*bucket || !key || !*key || (!data && len))
		return -EINVAL;
	if (len > INT_MAX)
		return -EMSGSIZE;
	kvStore *kv = NULL;
	int r = mq_bucket_get(mq, bucket, false, &kv);
	if (r < 0)
		return r;
	uint64_t got = 0;
	natsStatus s = how == KV_CREATE ? kvStore_Create(&got, kv, key, data, (int)len)
		       : how == KV_UPDATE ? kvStore_Update(&got, kv, key, data, (int)len, last)
					  : kvStore_Put(&got, kv, key, data, (int)len);
	if (s == NATS_ERR && how != KV_PUT)
		return how == KV_CREATE ? -EEXIST : -ESTALE;
	if (s != NATS_OK)
		return mq_fail(s, 0, "writing %s in bucket %s", key, bucket);
	if (rev)
		*rev = got;
	return 0;
}

int mq_kv_create(struct mq *mq, const char *bucket, const char *key, const void *data,
		 size_t len, uint64_t *rev)
{
	return kv_write(mq, bucket, key, data, len, KV_CREATE, 0, rev);
}

int mq_kv_update(struct mq *mq, const char *bucket, const char *key, const void *data,
		 size_t len, uint64_t last, uint64_t *rev)
{
	return kv_write(mq, bucket, key, data, len, KV_UPDATE, last, rev);
}

int mq_kv_put(struct mq *mq, const char *bucket, const char *key, const void *data,
	      size_t len, uint64_t *rev)
{
	return kv_write(mq, bucket, key, data, len, KV_PUT, 0, rev);
}

int mq_kv_delete(struct mq *mq, const char *bucket, const char *key)
{
	if (!mq || !bucket || !*bucket || !key || !*key)
		return -EINVAL;
	kvStore *kv = NULL;
	int r = mq_bucket_get(mq, bucket, false, &kv);
	if (r < 0)
		return r;
	natsStatus s = kvStore_Delete(kv, key);
	if (s != NATS_OK)
		return mq_fail(s, 0, "deleting %s in bucket %s", key, bucket);
	return 0;
}

void mq_buckets_release(struct mq *mq)
{
	pthread_mutex_lock(&mq->lock);
	struct mq_bucket *b = mq->buckets;
	mq->buckets = NULL;
	pthread_mutex_unlock(&mq->lock);
	while (b) {
		struct mq_bucket *next = b->next;
		kvStore_Destroy(b->kv);
		free(b->name);
		free(b);
		b = next;
	}
}

int mq_kv_get(struct mq *mq, const char *bucket, const char *key, struct buf *out,
	      uint64_t *rev)
{
	if (!mq || !bucket || !*bucket || !key || !*key || !out)
		return -EINVAL;
	kvStore *kv = NULL;
	int r = mq_bucket_get(mq, bucket, false, &kv);
	if (r < 0)
		return r;
	kvEntry *e = NULL;
	natsStatus s = kvStore_Get(&e, kv, key);
	if (s != NATS_OK)
		return mq_fail(s, 0, "getting %s from bucket %s", key, bucket);
	int len = kvEntry_ValueLen(e);
	r = buf_append(out, kvEntry_Value(e), len > 0 ? (size_t)len : 0);
	if (r == 0 && rev)
		*rev = kvEntry_Revision(e);
	kvEntry_Destroy(e);
	return r;
}

/* A key: subject tokens of [A-Za-z0-9_=/-] joined by single dots, no
 * wildcards (the key-value store's rule). */
static bool valid_key(const char *key)
{
	if (!key || !*key || key[0] == '.')
		return false;
	for (const char *p = key; *p; p++) {
		char c = *p;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '/' ||
			  c == '=' || (c == '.' && p[1] != '.' && p[1] != '\0');
		if (!ok)
			return false;
	}
	return true;
}

/* Direct get of the key's last value (last_rev 0 and last) or of the first
 * revision after last_rev: 0 with *msg, -ENOENT when there is none, or
 * -errno (NATS_NO_RESPONDERS, e.g. while JetStream starts, is an error
 * here, not "nothing"). */
static int watch_get(struct mq_watch *w, bool last, natsMsg **msg)
{
	jsDirectGetMsgOptions o;
	jsDirectGetMsgOptions_Init(&o);
	if (last) {
		o.LastBySubject = w->subject;
	} else {
		o.Sequence = w->last_rev + 1;
		o.NextBySubject = w->subject;
	}
	*msg = NULL;
	natsStatus s = js_DirectGetMsg(msg, w->mq->js, w->stream, NULL, &o);
	if (s == NATS_NOT_FOUND)
		return -ENOENT;
	if (s == NATS_NO_RESPONDERS)
		return mq_fail(NATS_TIMEOUT, 0, "watching %s in bucket %s: no answer", w->key,
			       w->bucket);
	if (s != NATS_OK)
		return mq_fail(s, 0, "watching %s in bucket %s", w->key, w->bucket);
	return 0;
}

/* Hand a value to the caller and free it: 0, -ENOENT (a delete or purge
 * marker) or -ENOSPC. */
static int watch_deliver(struct mq_watch *w, natsMsg *msg, struct buf *out, uint64_t *rev)
{
	const char *op = NULL;
	int r;
	if (natsMsgHeader_Get(msg, "KV-Operation", &op) == NATS_OK && op &&
	    (strcmp(op, "DEL") == 0 || strcmp(op, "PURGE") == 0)) {
		r = -ENOENT;
	} else {
		int len = natsMsg_GetDataLength(msg);
		r = buf_append(out, natsMsg_GetData(msg), len > 0 ? (size_t)len : 0);
		if (r < 0)
			log_warn(MQ_LOG, "value of %s in bucket %s (%d bytes) is over the limit; skipped",
				 w->key, w->bucket, len);
	}
	if (rev)
		*rev = natsMsg_GetSequence(msg);
	natsMsg_Destroy(msg);
	return r;
}

int mq_watch_open(struct mq *mq, const char *bucket, const char *key, struct mq_watch **out)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!mq || !bucket || !*bucket || !valid_key(key))
		return -EINVAL;
	kvStore *kv = NULL;
	int r = mq_bucket_get(mq, bucket, false, &kv);
	if (r < 0)
		return r;

	struct mq_watch *w = xcalloc(1, sizeof(*w));
	w->mq = mq;
	w->bucket = xstrdup(bucket);
	w->key = xstrdup(key);
	struct buf name;
	buf_init(&name, 4096);
	if (buf_printf(&name, "KV_%s", bucket) < 0) {
		r = -EINVAL;
		goto out_free_watch;
	}
	w->stream = buf_detach(&name, NULL);
	if (buf_printf(&name, "$KV.%s.%s", bucket, key) < 0) {
		r = -EINVAL;
		goto out_free_watch;
	}
	w->subject = buf_detach(&name, NULL);

	/* Direct get needs the stream to allow it; buckets made by libnats
	 * 3.x on a 2.9 server do. */
	jsStreamInfo *si = NULL;
	jsErrCode jerr = 0;
	natsStatus s = js_GetStreamInfo(&si, mq->js, w->stream, NULL, &jerr);
	if (s != NATS_OK) {
		r = mq_fail(s, jerr, "watching %s in bucket %s", key, bucket);
		goto out_free_watch;
	}
	bool direct = si->Config && si->Config->AllowDirect;
	jsStreamInfo_Destroy(si);
	if (!direct) {
		log_error(MQ_LOG, "cannot watch bucket %s: its stream %s does not allow direct get "
			  "(made by an old client?)", bucket, w->stream);
		r = -EOPNOTSUPP;
		goto out_free_watch;
	}

	/* Subscribe before reading, so that no change falls in between. */
	s = natsConnection_SubscribeSync(&w->nudges, mq->nc, w->subject);
	if (s != NATS_OK) {
		r = mq_fail(s, 0, "watching %s in bucket %s", key, bucket);
		goto out_free_watch;
	}
	w->generation = mq_generation(mq);
	r = watch_get(w, true, &w->pending);
	if (r == -ENOENT) {
		w->last_rev = 0;	/* no value yet: every revision is new */
	} else if (r < 0) {
		goto out_destroy_sub;
	} else {
		w->last_rev = natsMsg_GetSequence(w->pending);
	}
	w->dirty = false;
	w->next_look_us = time_mono_us() + WATCH_RESYNC_US;
	*out = w;
	return 0;

out_destroy_sub:
	natsSubscription_Destroy(w->nudges);
out_free_watch:
	buf_release(&name);
	free(w->stream);
	free(w->subject);
	free(w->bucket);
	free(w->key);
	free(w);
	return r;
}

/* Take every queued nudge: one look covers them all. */
static void drain_nudges(struct mq_watch *w)
{
	uint64_t queued = 0;
	while (natsSubscription_QueuedMsgs(w->nudges, &queued) == NATS_OK && queued > 0) {
		natsMsg *m = NULL;
		if (natsSubscription_NextMsg(&m, w->nudges, 1) != NATS_OK)
			break;
		natsMsg_Destroy(m);
	}
}

int mq_watch_next(struct mq_watch *w, struct buf *out, uint64_t *rev, int64_t timeout_us)
{
	if (!w || !out)
		return -EINVAL;
	if (w->pending) {
		natsMsg *msg = w->pending;
		w->pending = NULL;
		return watch_deliver(w, msg, out, rev);
	}
	int64_t deadline = time_mono_us() + (timeout_us > 0 ? timeout_us : 0);
	for (;;) {
		int64_t now = time_mono_us();
		uint64_t gen = mq_generation(w->mq);
		if (w->dirty || gen != w->generation || now >= w->next_look_us) {
			w->generation = gen;
			w->next_look_us = now + WATCH_RESYNC_US;
			natsMsg *msg = NULL;
			int r = watch_get(w, false, &msg);
			if (r == 0) {
				w->last_rev = natsMsg_GetSequence(msg);
				w->dirty = true;	/* there may be more */
				return watch_deliver(w, msg, out, rev);
			}
			if (r == -ENOENT) {
				w->dirty = now < w->recheck_until_us;
			} else if (r == -ETIMEDOUT || r == -ENOTCONN || r == -ENOBUFS) {
				/* Not reachable now: look again after a reconnect
				 * or a pause; the caller sees a timeout. */
				w->dirty = false;
				w->next_look_us = now + WATCH_RECHECK_STEP_US * 10;
			} else {
				return r;
			}
		}
		now = time_mono_us();
		if (now >= deadline)
			return -ETIMEDOUT;
		int64_t wait = deadline - now;
		if (w->dirty && wait > WATCH_RECHECK_STEP_US)
			wait = WATCH_RECHECK_STEP_US;
		if (w->next_look_us - now < wait)
			wait = w->next_look_us > now ? w->next_look_us - now : 0;
		/* Wake within 100 ms to notice a reconnect. */
		if (wait > 100 * USEC_PER_MSEC)
			wait = 100 * USEC_PER_MSEC;
		natsMsg *m = NULL;
		natsStatus s = natsSubscription_NextMsg(&m, w->nudges, mq_ms(wait));
		if (s == NATS_OK) {
			natsMsg_Destroy(m);
			drain_nudges(w);
			w->dirty = true;
			w->recheck_until_us = time_mono_us() + WATCH_RECHECK_US;
		} else if (s != NATS_TIMEOUT) {
			return mq_fail(s, 0, "watching %s in bucket %s", w->key, w->bucket);
		}
	}
}

void mq_watch_close(struct mq_watch *w)
{
	if (!w)
		return;
	natsSubscription_Destroy(w->nudges);
	natsMsg_Destroy(w->pending);
	free(w->stream);
	free(w->subject);
	free(w->bucket);
	free(w->key);
	free(w);
}
