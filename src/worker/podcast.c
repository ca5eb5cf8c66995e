/*
 * podcast.c - polling podcast feeds and ingesting episodes; see podcast.h.
 *
 * HTTP goes through one small fetcher on a libcurl multi handle, driven
 * by whoever reads from it: fetch_read() pumps the transfer until bytes
 * are there, so a download can be handed to storage_put_stream (which
 * pulls) without a thread and without holding more than PENDING_MAX
 * bytes (the write callback pauses the transfer when that much is
 * waiting, and reading resumes it).
 */
#include "worker/podcast.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/error.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "protocol/protocol.h"
#include "worker/feed.h"
#include "worker/library.h"
#include "worker/tags.h"

#define DEFAULT_MAX_EPISODE_BYTES (INT64_C(2) << 30)
#define DEFAULT_TIMEOUT_US (15 * 60 * USEC_PER_SEC)
#define DEFAULT_MAX_REDIRECTS 5
#define DEFAULT_USER_AGENT "onair/" ONAIR_VERSION " (podcasts)"
/* Connecting may take at most this long (or the whole timeout if shorter). */
#define CONNECT_TIMEOUT_US (30 * USEC_PER_SEC)
/* Bytes received and not yet read before the transfer is paused. */
#define PENDING_MAX (256u << 10)
/* Longest ETag / Last-Modified value kept. */
#define HEADER_VALUE_MAX 512
#define MSG_MAX 512

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_result;

static void curl_init(void)
{
	curl_init_result = curl_global_init(CURL_GLOBAL_DEFAULT);
}

void podcast_options_init(struct podcast_options *o)
{
	o->max_feed_bytes = FEED_MAX_BYTES;
	o->max_episode_bytes = DEFAULT_MAX_EPISODE_BYTES;
	o->timeout_us = DEFAULT_TIMEOUT_US;
	o->max_redirects = DEFAULT_MAX_REDIRECTS;
	o->user_agent = NULL;
}

/* o with the defaults put in for what it leaves unset. */
static void resolve_options(const struct podcast_options *o, struct podcast_options *out)
{
	podcast_options_init(out);
	if (!o)
		return;
	if (o->max_feed_bytes > 0 && o->max_feed_bytes < FEED_MAX_BYTES)
		out->max_feed_bytes = o->max_feed_bytes;
	if (o->max_episode_bytes > 0)
		out->max_episode_bytes = o->max_episode_bytes;
	if (o->timeout_us > 0)
		out->timeout_us = o->timeout_us;
	if (o->max_redirects >= 0)
		out->max_redirects = o->max_redirects;
	out->user_agent = o->user_agent;
}

bool podcast_error_transient(int r)
{
	return r == -EAGAIN || r == -ETIMEDOUT || r == -ECONNREFUSED || r == -EBUSY;
}

/* A database error as a handler returns it: a connection that broke or a
 * statement cancelled is worth a retry. */
static int db_error(int r)
{
	return r == -ENOTCONN || r == -ECANCELED ? -EAGAIN : r;
}

/* A queue error as a handler returns it. */
static int mq_error(int r)
{
	return r == -ENOTCONN || r == -ENOMEM ? -EAGAIN : r;
}

/* ------------------------------------------------------------------ fetch */

struct fetch {
	CURLM *multi;
	CURL *easy;
	struct curl_slist *headers;
	char curl_err[CURL_ERROR_SIZE];
	const char *url;
	int64_t timeout_us;
	int64_t max_bytes;
	bool allow_304;		/* a conditional GET: 304 is an answer */

	char *pending;		/* received, not yet read: pending[off..len) */
	size_t len, off, cap;
	bool paused;
	int64_t received;

	bool status_checked;
	bool bad_status;
	bool over_limit;
	bool done;
	int error;		/* once done: 0 or a negative errno (msg says why) */
	long status;		/* HTTP status of the last response */
	char msg[MSG_MAX];
	char etag[HEADER_VALUE_MAX];
	char last_modified[HEADER_VALUE_MAX];
};

static size_t on_header(char *data, size_t size, size_t nitems, void *ud)
{
	struct fetch *f = ud;
	size_t n = size * nitems;
	if (n >= 5 && memcmp(data, "HTTP/", 5) == 0) {
		/* A new response (after a redirect, or a 100): forget the
		 * previous one's validators. */
		f->etag[0] = f->last_modified[0] = '\0';
		return n;
	}
	const char *colon = memchr(data, ':', n);
	if (!colon)
		return n;
	size_t name_len = (size_t)(colon - data);
	char *dst;
	if (name_len == 4 && strncasecmp(data, "etag", 4) == 0)
		dst = f->etag;
	else if (name_len == 13 && strncasecmp(data, "last-modified", 13) == 0)
		dst = f->last_modified;
	else
		return n;
	const char *v = colon + 1;
	const char *end = data + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	size_t vl = (size_t)(end - v);
	if (vl == 0 || vl >= HEADER_VALUE_MAX)
		return n;
	for (size_t i = 0; i < vl; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7E)
			return n;	/* not a value we could send back */
	memcpy(dst, v, vl);
	dst[vl] = '\0';
	return n;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *ud)
{
	struct fetch *f = ud;
	size_t n = size * nmemb;
	if (!f->status_checked) {
		long code = 0;
		curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &code);
		f->status_checked = true;
		if (code < 200 || code > 299) {
			/* An error page is not the feed or the episode. */
			f->status = code;
			f->bad_status = true;
			return 0;
		}
	}
	if (f->received + (int64_t)n > f->max_bytes) {
		f->over_limit = true;
		return 0;
	}
	size_t have = f->len - f->off;
	if (have > 0 && have + n > PENDING_MAX) {
		f->paused = true;
		return CURL_WRITEFUNC_PAUSE;
	}
	if (f->off > 0) {
		memmove(f->pending, f->pending + f->off, have);
		f->len = have;
		f->off = 0;
	}
	if (f->len + n > f->cap) {
		f->cap = f->len + n > PENDING_MAX ? f->len + n : PENDING_MAX;
		f->pending = xrealloc(f->pending, f->cap);
	}
	memcpy(f->pending + f->len, data, n);
	f->len += n;
	f->received += (int64_t)n;
	return n;
}

/* The errno and sentence for HTTP status code. */
static int status_error(struct fetch *f, long code)
{
	int r;
	if (code == 404 || code == 410)
		r = -ENOENT;
	else if (code == 401 || code == 403)
		r = -EACCES;
	else if (code == 408 || code == 429 || (code >= 500 && code <= 599))
		r = -EAGAIN;
	else
		r = -EPROTO;
	snprintf(f->msg, sizeof(f->msg), "HTTP %ld from %.300s", code, f->url);
	return r;
}

/* The errno and sentence for a transfer that ended with result. */
static int transfer_error(struct fetch *f, CURLcode result)
{
	const char *detail = f->curl_err[0] ? f->curl_err : curl_easy_strerror(result);
	int r;
	switch (result) {
	case CURLE_OPERATION_TIMEDOUT:
		snprintf(f->msg, sizeof(f->msg), "%.300s: no complete answer within %" PRId64 " s",
			 f->url, f->timeout_us / USEC_PER_SEC);
		return -ETIMEDOUT;
	case CURLE_COULDNT_CONNECT:
		r = -ECONNREFUSED;
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_PARTIAL_FILE:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
		r = -EAGAIN;
		break;
	case CURLE_TOO_MANY_REDIRECTS:
		r = -ELOOP;
		break;
	case CURLE_UNSUPPORTED_PROTOCOL:
		r = -EPROTONOSUPPORT;
		break;
	case CURLE_URL_MALFORMAT:
		r = -EINVAL;
		break;
	case CURLE_OUT_OF_MEMORY:
		r = -ENOMEM;
		break;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_BAD_CONTENT_ENCODING:
		r = -EPROTO;
		break;
	default:
		r = -EIO;
		break;
	}
	snprintf(f->msg, sizeof(f->msg), "%.300s: %.180s", f->url, detail);
	return r;
}

/* Settle f->error and f->msg once the transfer is over. */
static void fetch_finish(struct fetch *f, CURLcode result)
{
	f->done = true;
	long code = 0;
	curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &code);
	if (!f->bad_status)
		f->status = code;
	if (f->over_limit || result == CURLE_FILESIZE_EXCEEDED) {
		snprintf(f->msg, sizeof(f->msg), "%.300s: larger than the limit of %" PRId64
			 " bytes", f->url, f->max_bytes);
		f->error = -EFBIG;
	} else if (f->bad_status) {
		f->error = status_error(f, f->status);
	} else if (result != CURLE_OK) {
		f->error = transfer_error(f, result);
	} else if (code == 304 && f->allow_304) {
		f->error = 0;
	} else if (code < 200 || code > 299) {
		f->error = status_error(f, code);
	} else {
		f->error = 0;
	}
}

/*
 * Start a GET of url (not sent until the first fetch_read or
 * fetch_wait_start). etag and last_modified (may be NULL) make it
 * conditional. 0 or -ENOMEM / -EIO with f->msg.
 */
static int fetch_start(struct fetch *f, const char *url, const struct podcast_options *o,
		       int64_t max_bytes, const char *etag, const char *last_modified, bool feed)
{
	memset(f, 0, sizeof(*f));
	f->url = url;
	f->timeout_us = o->timeout_us;
	f->max_bytes = max_bytes;
	pthread_once(&curl_once, curl_init);
	if (curl_init_result != CURLE_OK) {
		snprintf(f->msg, sizeof(f->msg), "libcurl: %s",
			 curl_easy_strerror(curl_init_result));
		return -EIO;
	}
	f->easy = curl_easy_init();
	f->multi = curl_multi_init();
	if (!f->easy || !f->multi) {
		snprintf(f->msg, sizeof(f->msg), "libcurl: out of memory");
		return -ENOMEM;
	}
	char h[HEADER_VALUE_MAX + 32];
	if (etag && *etag && strlen(etag) < HEADER_VALUE_MAX) {
		snprintf(h, sizeof(h), "If-None-Match: %s", etag);
		f->headers = curl_slist_append(f->headers, h);
		f->allow_304 = true;
	}
	if (last_modified && *last_modified && strlen(last_modified) < HEADER_VALUE_MAX) {
		snprintf(h, sizeof(h), "If-Modified-Since: %s", last_modified);
		f->headers = curl_slist_append(f->headers, h);
		f->allow_304 = true;
	}
	int64_t connect_us = o->timeout_us < CONNECT_TIMEOUT_US ? o->timeout_us
								: CONNECT_TIMEOUT_US;
	CURL *e = f->easy;
	int c = CURLE_OK;
	c |= curl_easy_setopt(e, CURLOPT_URL, url);
	c |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	c |= curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	c |= curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	c |= curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)o->max_redirects);
	c |= curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(o->timeout_us / 1000));
	c |= curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)(connect_us / 1000));
	c |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	c |= curl_easy_setopt(e, CURLOPT_USERAGENT,
			      o->user_agent ? o->user_agent : DEFAULT_USER_AGENT);
	c |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body);
	c |= curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
	c |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	c |= curl_easy_setopt(e, CURLOPT_HEADERDATA, f);
	c |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, f->curl_err);
	c |= curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max_bytes);
	if (feed)	/* compressed feeds; the limit counts the decoded bytes */
		c |= curl_easy_setopt(e, CURLOPT_ACCEPT_ENCODING, "");
	if (f->headers)
		c |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, f->headers);
	if (c != CURLE_OK || curl_multi_add_handle(f->multi, e) != CURLM_OK) {
		snprintf(f->msg, sizeof(f->msg), "libcurl refused the transfer settings");
		return -EIO;
	}
	return 0;
}

static void fetch_release(struct fetch *f)
{
	if (f->multi && f->easy)
		curl_multi_remove_handle(f->multi, f->easy);
	if (f->easy)
		curl_easy_cleanup(f->easy);
	if (f->multi)
		curl_multi_cleanup(f->multi);
	curl_slist_free_all(f->headers);
	free(f->pending);
	f->pending = NULL;
	f->easy = NULL;
	f->multi = NULL;
	f->headers = NULL;
}

/* Move the transfer on: run what is ready, and when nothing is waiting
 * to be read, wait up to 200 ms for the network. */
static void fetch_pump(struct fetch *f)
{
	int running = 0;
	CURLMcode mc = curl_multi_perform(f->multi, &running);
	if (mc != CURLM_OK) {
		snprintf(f->msg, sizeof(f->msg), "libcurl: %s", curl_multi_strerror(mc));
		f->done = true;
		f->error = -EIO;
		return;
	}
	CURLMsg *m;
	int queued;
	while ((m = curl_multi_info_read(f->multi, &queued)))
		if (m->msg == CURLMSG_DONE && m->easy_handle == f->easy)
			fetch_finish(f, m->data.result);
	if (!f->done && f->off == f->len)
		curl_multi_poll(f->multi, NULL, 0, 200, NULL);
}

/* Pump until the response's first bytes are here or it is over (so the
 * status and Content-Type are known). */
static void fetch_wait_start(struct fetch *f)
{
	while (!f->done && f->off == f->len)
		fetch_pump(f);
}

/* storage_put_stream's reader: bytes of the body, 0 at its end, or the
 * transfer's negative errno. */
static ssize_t fetch_read(void *ctx, void *buf, size_t len)
{
	struct fetch *f = ctx;
	for (;;) {
		if (f->off < f->len) {
			size_t n = f->len - f->off < len ? f->len - f->off : len;
			memcpy(buf, f->pending + f->off, n);
			f->off += n;
			if (f->off == f->len) {
				f->off = f->len = 0;
				if (f->paused) {
					f->paused = false;
					curl_easy_pause(f->easy, CURLPAUSE_CONT);
				}
			}
			return (ssize_t)n;
		}
		if (f->done)
			return f->error;
		fetch_pump(f);
	}
}

/* ---------------------------------------------------------------- helpers */

/* Text a TEXT column accepts: valid UTF-8, at most max bytes. Never NULL. */
static char *db_text(const char *s, size_t max)
{
	char *t = s ? text_to_utf8(s, max) : NULL;
	return t ? t : xstrdup("");
}

/* Publish task t (encoded) on onair.tasks.<kind> with its id as message
 * id. 0 or the handler's errno. */
static int publish_task(struct mq *mq, const struct proto_task *t)
{
	struct buf msg;
	buf_init(&msg, 4096);
	int r = proto_task_encode(t, &msg);
	if (r == 0) {
		char subject[128];
		snprintf(subject, sizeof(subject), "%s.%s", MQ_SUBJECT_TASKS,
			 proto_task_kind_name(t->kind));
		r = mq_error(mq_publish(mq, subject, msg.data, msg.len, t->id, NULL));
	}
	buf_release(&msg);
	return r;
}

/* ------------------------------------------------------------------- poll */

struct podcast_row {
	char *url;
	char *etag;
	char *last_modified;
	bool auto_ingest;
};

static void podcast_row_release(struct podcast_row *p)
{
	free(p->url);
	free(p->etag);
	free(p->last_modified);
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static int load_podcast(struct db *db, int64_t id, struct podcast_row *p)
{
	memset(p, 0, sizeof(*p));
	struct db_rows *rows;
	int r = db_query(db,
			 "SELECT url, etag, last_modified, auto_ingest FROM podcasts WHERE id = $1",
			 DB_PARAMS(DB_I(id)), &rows);
	if (r < 0)
		return r;
	if (db_rows_next(rows)) {
		p->url = xstrdup(db_col_text(rows, 0) ? db_col_text(rows, 0) : "");
		p->etag = dup_or_null(db_col_text(rows, 1));
		p->last_modified = dup_or_null(db_col_text(rows, 2));
		p->auto_ingest = db_col_bool(rows, 3);
	} else {
		r = db_rows_error(rows) < 0 ? db_rows_error(rows) : -ENOENT;
	}
	db_rows_free(rows);
	return r;
}

/* Note a failed poll on the row (best effort: the poll's error is what
 * the caller returns). */
static void record_poll_error(struct db *db, int64_t id, const char *msg, int64_t now)
{
	char *m = db_text(msg && *msg ? msg : "unknown error", PODCAST_ERROR_MAX);
	int r = db_exec(db,
			"UPDATE podcasts SET last_error = $1, last_checked_at = $2 WHERE id = $3",
			DB_PARAMS(DB_T(m), DB_I(now), DB_I(id)));
	if (r < 0)
		log_warn("podcast", "podcast %" PRId64 ": recording the error failed: %s", id,
			 onair_strerror(r));
	free(m);
}

/*
 * Write what a 200 brought: the podcast's metadata and validators, and
 * the episodes, in one transaction. Episodes go in from the last of the
 * feed to the first: feeds list the newest first, so new rows get ids
 * in publication order (the tie-break of podcast_poll's "newest").
 */
static int store_feed(struct db *db, int64_t id, const struct feed *f, const char *etag,
		      const char *last_modified, int64_t now, size_t *added)
{
	*added = 0;
	int r = db_begin(db);
	if (r < 0)
		return r;
	r = db_exec(db,
		    "UPDATE podcasts SET"
		    " title = CASE WHEN title = '' THEN $1 ELSE title END,"
		    " description = CASE WHEN description = '' THEN $2 ELSE description END,"
		    " image_url = COALESCE(image_url, $3),"
		    " etag = $4, last_modified = $5, last_checked_at = $6, last_error = NULL,"
		    " updated_at = $6 WHERE id = $7",
		    DB_PARAMS(DB_T(f->title), DB_T(f->description), DB_T(f->image_url),
			      DB_T(etag && *etag ? etag : NULL),
			      DB_T(last_modified && *last_modified ? last_modified : NULL),
			      DB_I(now), DB_I(id)));
	if (r == 0)
		r = -ENOENT;
	for (size_t i = f->n; r >= 0 && i-- > 0;) {
		const struct feed_episode *e = &f->episodes[i];
		struct db_param published = e->published_at ? DB_I(e->published_at) : DB_N;
		struct db_param size = e->enclosure_size > 0 ? DB_I(e->enclosure_size) : DB_N;
		r = db_exec(db,
			    "INSERT INTO podcast_episodes (podcast_id, guid, title, description,"
			    " published_at, enclosure_url, enclosure_size, import_status,"
			    " created_at, updated_at)"
			    " VALUES ($1, $2, $3, $4, CAST($5 AS BIGINT), $6, CAST($7 AS BIGINT),"
			    " 'new', $8, $8)"
			    " ON CONFLICT (podcast_id, guid) DO NOTHING",
			    DB_PARAMS(DB_I(id), DB_T(e->guid), DB_T(e->title), DB_T(e->description),
				      published, DB_T(e->enclosure_url), size, DB_I(now)));
		if (r == 1) {
			(*added)++;
			continue;
		}
		if (r < 0)
			break;
		r = db_exec(db,
			    "UPDATE podcast_episodes SET title = $3, description = $4,"
			    " published_at = CAST($5 AS BIGINT), enclosure_url = $6,"
			    " enclosure_size = CAST($7 AS BIGINT), updated_at = $8"
			    " WHERE podcast_id = $1 AND guid = $2 AND (title <> $3"
			    " OR description <> $4"
			    " OR published_at IS DISTINCT FROM CAST($5 AS BIGINT)"
			    " OR enclosure_url <> $6"
			    " OR enclosure_size IS DISTINCT FROM CAST($7 AS BIGINT))",
			    DB_PARAMS(DB_I(id), DB_T(e->guid), DB_T(e->title), DB_T(e->description),
				      published, DB_T(e->enclosure_url), size, DB_I(now)));
	}
	if (r >= 0)
		r = db_commit(db);
	if (r < 0)
		db_rollback(db);
	return r < 0 ? r : 0;
}

/* With auto_ingest: queue the podcast's newest episode when it is new.
 * *queued tells whether one was. */
static int auto_ingest(struct db *db, struct mq *mq, int64_t id, int64_t now, bool *queued)
{
	*queued = false;
	struct db_rows *rows;
	int r = db_query(db,
			 "SELECT id, import_status FROM podcast_episodes WHERE podcast_id = $1"
			 " ORDER BY published_at DESC NULLS LAST, id DESC LIMIT 1",
			 DB_PARAMS(DB_I(id)), &rows);
	if (r < 0)
		return db_error(r);
	int64_t episode = 0;
	if (db_rows_next(rows) && strcmp(db_col_text(rows, 1), "new") == 0)
		episode = db_col_int(rows, 0);
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0)
		return db_error(r);
	if (episode == 0)
		return 0;
	r = podcast_enqueue_ingest(db, mq, episode, now, NULL);
	if (r == -EALREADY)
		return 0;	/* someone queued it meanwhile */
	if (r == 0)
		*queued = true;
	return r;
}

int podcast_poll(struct db *db, struct mq *mq, int64_t podcast_id, const struct podcast_options *o,
		 int64_t now, char *err, size_t errlen)
{
	char own_err[MSG_MAX];
	if (!err || errlen == 0) {
		err = own_err;
		errlen = sizeof(own_err);
	}
	(void)error_set(err, errlen, 0, "%s", "");
	if (!db || !mq || podcast_id <= 0) {
		(void)error_set(err, errlen, 0, "invalid arguments");
		return -EINVAL;
	}
	struct podcast_options opts;
	resolve_options(o, &opts);

	struct podcast_row p;
	int r = load_podcast(db, podcast_id, &p);
	if (r == -ENOENT) {
		(void)error_set(err, errlen, 0, "no podcast %" PRId64, podcast_id);
		return r;
	}
	if (r < 0) {
		(void)error_set(err, errlen, 0, "reading the podcast: %s", onair_strerror(r));
		return db_error(r);
	}

	struct fetch f;
	struct buf body;
	buf_init(&body, (size_t)opts.max_feed_bytes);
	r = fetch_start(&f, p.url, &opts, opts.max_feed_bytes, p.etag, p.last_modified, true);
	char chunk[16384];
	while (r == 0) {
		ssize_t n = fetch_read(&f, chunk, sizeof(chunk));
		if (n <= 0) {
			r = (int)n;
			break;
		}
		if (buf_append(&body, chunk, (size_t)n) < 0) {
			snprintf(f.msg, sizeof(f.msg), "%.300s: larger than the limit of %" PRId64
				 " bytes", p.url, opts.max_feed_bytes);
			r = -EFBIG;
		}
	}
	if (r < 0) {
		(void)error_set(err, errlen, 0, "%s", f.msg);
		goto out_record;
	}

	char note[128];
	if (f.status == 304) {
		r = db_exec(db, "UPDATE podcasts SET last_checked_at = $1, last_error = NULL"
				" WHERE id = $2", DB_PARAMS(DB_I(now), DB_I(podcast_id)));
		if (r < 0) {
			(void)error_set(err, errlen, 0, "updating the podcast: %s", onair_strerror(r));
			r = db_error(r);
			goto out_record;
		}
		r = 0;
		snprintf(note, sizeof(note), "304 not modified");
	} else {
		const char *base = NULL;
		curl_easy_getinfo(f.easy, CURLINFO_EFFECTIVE_URL, &base);
		struct feed feed;
		char perr[256];
		r = feed_parse(body.data, body.len, base ? base : p.url, &feed, perr, sizeof(perr));
		if (r < 0) {
			(void)error_set(err, errlen, 0, "feed %.300s: %s", p.url, perr);
			goto out_record;
		}
		size_t added;
		r = store_feed(db, podcast_id, &feed, f.etag, f.last_modified, now, &added);
		snprintf(note, sizeof(note), "%zu episodes, %zu new, %zu skipped", feed.n, added,
			 feed.skipped);
		feed_release(&feed);
		if (r == -ENOENT) {
			(void)error_set(err, errlen, 0, "podcast %" PRId64 " was deleted", podcast_id);
			goto out_release;
		}
		if (r < 0) {
			(void)error_set(err, errlen, 0, "storing the episodes: %s", onair_strerror(r));
			r = db_error(r);
			goto out_record;
		}
	}
	if (p.auto_ingest) {
		bool queued;
		r = auto_ingest(db, mq, podcast_id, now, &queued);
		if (r < 0) {
			(void)error_set(err, errlen, 0, "queueing the newest episode: %s", onair_strerror(r));
			goto out_record;
		}
		if (queued && strlen(note) + 32 < sizeof(note))
			memcpy(note + strlen(note), ", newest queued", sizeof(", newest queued"));
	}
	(void)error_set(err, errlen, 0, "%s", note);
	goto out_release;

out_record:
	record_poll_error(db, podcast_id, err, now);
out_release:
	fetch_release(&f);
	buf_release(&body);
	podcast_row_release(&p);
	return r;
}

/* ---------------------------------------------------------------- enqueue */

int podcast_enqueue_ingest(struct db *db, struct mq *mq, int64_t episode_id, int64_t now,
			   char *task_id_out)
{
	if (!db || !mq || episode_id <= 0)
		return -EINVAL;
	struct db_rows *rows;
	int r = db_query(db, "SELECT podcast_id, import_status FROM podcast_episodes WHERE id = $1",
			 DB_PARAMS(DB_I(episode_id)), &rows);
	if (r < 0)
		return db_error(r);
	int64_t podcast_id = 0;
	char status[16] = "";
	if (db_rows_next(rows)) {
		podcast_id = db_col_int(rows, 0);
		snprintf(status, sizeof(status), "%s", db_col_text(rows, 1));
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0)
		return db_error(r);
	if (podcast_id == 0)
		return -ENOENT;
	if (strcmp(status, "pending") == 0 || strcmp(status, "imported") == 0)
		return -EALREADY;

	char id[LIBRARY_TASK_ID_SIZE];
	snprintf(id, sizeof(id), "ingest.%" PRId64 ".%" PRId64, episode_id, now);
	const char *kind = proto_task_kind_name(PROTO_TASK_INGEST_EPISODE);
	r = db_begin(db);
	if (r < 0)
		return db_error(r);
	r = db_exec(db,
		    "UPDATE podcast_episodes SET import_status = 'pending', failure_reason = NULL,"
		    " updated_at = $2 WHERE id = $1 AND import_status = $3",
		    DB_PARAMS(DB_I(episode_id), DB_I(now), DB_T(status)));
	if (r == 0)
		r = -EALREADY;	/* changed meanwhile */
	if (r > 0)
		r = library_task_create(db, id, kind, 0, podcast_id, episode_id, now);
	if (r >= 0)
		r = db_commit(db);
	if (r < 0) {
		db_rollback(db);
		return r == -EALREADY ? r : db_error(r);
	}

	struct proto_task t = {
		.id = id,
		.kind = PROTO_TASK_INGEST_EPISODE,
		.created_at = now,
		.podcast_id = podcast_id,
		.episode_id = episode_id,
	};
	r = publish_task(mq, &t);
	if (r < 0) {
		/* Put things back, so that the next poll (or the user) can try
		 * again. */
		db_exec(db, "DELETE FROM tasks WHERE task_id = $1", DB_PARAMS(DB_T(id)));
		db_exec(db,
			"UPDATE podcast_episodes SET import_status = $2 WHERE id = $1"
			" AND import_status = 'pending'",
			DB_PARAMS(DB_I(episode_id), DB_T(status)));
		return r;
	}
	if (task_id_out)
		memcpy(task_id_out, id, sizeof(id));
	return 0;
}

int podcast_enqueue_due(struct db *db, struct mq *mq, int64_t now, size_t *enqueued)
{
	if (enqueued)
		*enqueued = 0;
	if (!db || !mq)
		return -EINVAL;
	struct db_rows *rows;
	int r = db_query(db,
			 "SELECT id, poll_interval_us FROM podcasts WHERE last_checked_at IS NULL"
			 " OR last_checked_at + (CASE WHEN poll_interval_us < $2 THEN $2"
			 " ELSE poll_interval_us END) <= $1 ORDER BY id",
			 DB_PARAMS(DB_I(now), DB_I(PODCAST_POLL_MIN_US)), &rows);
	if (r < 0)
		return db_error(r);
	struct due {
		int64_t id, interval;
	} *due = NULL;
	size_t n = 0, cap = 0;
	while (db_rows_next(rows)) {
		if (n == cap) {
			cap = cap ? 2 * cap : 16;
			due = xreallocarray(due, cap, sizeof(*due));
		}
		due[n].id = db_col_int(rows, 0);
		int64_t iv = db_col_int(rows, 1);
		due[n].interval = iv < PODCAST_POLL_MIN_US ? PODCAST_POLL_MIN_US : iv;
		n++;
	}
	r = db_rows_error(rows);
	db_rows_free(rows);
	if (r < 0) {
		free(due);
		return db_error(r);
	}

	const char *kind = proto_task_kind_name(PROTO_TASK_POLL_PODCAST);
	for (size_t i = 0; i < n; i++) {
		char id[LIBRARY_TASK_ID_SIZE];
		snprintf(id, sizeof(id), "poll.%" PRId64 ".%" PRId64, due[i].id,
			 time_floor_div(now, due[i].interval));
		r = library_task_create(db, id, kind, 0, due[i].id, 0, now);
		if (r == -EEXIST || r == -ENOENT) {
			r = 0;	/* queued in this slot already, or deleted meanwhile */
			continue;
		}
		if (r < 0) {
			r = db_error(r);
			break;
		}
		struct proto_task t = {
			.id = id,
			.kind = PROTO_TASK_POLL_PODCAST,
			.created_at = now,
			.podcast_id = due[i].id,
		};
		r = publish_task(mq, &t);
		if (r < 0) {
			db_exec(db, "DELETE FROM tasks WHERE task_id = $1", DB_PARAMS(DB_T(id)));
			break;
		}
		if (enqueued)
			(*enqueued)++;
	}
	free(due);
	return r;
}

/* ----------------------------------------------------------------- ingest */

int podcast_episode_fail(struct db *db, int64_t episode_id, const char *reason, int64_t now)
{
	char *m = db_text(reason && *reason ? reason : "failed", PODCAST_ERROR_MAX);
	int r = db_exec(db,
			"UPDATE podcast_episodes SET import_status = 'failed', failure_reason = $1,"
			" updated_at = $2 WHERE id = $3 AND import_status <> 'imported'",
			DB_PARAMS(DB_T(m), DB_I(now), DB_I(episode_id)));
	free(m);
	if (r == 0) {
		/* Imported, or no such row. */
		int64_t one;
		r = db_query_int(db, "SELECT 1 FROM podcast_episodes WHERE id = $1",
				 DB_PARAMS(DB_I(episode_id)), &one);
	}
	return r < 0 ? r : 0;
}

/* Note a transient failure: the episode stays 'pending', with why. */
static void note_retry(struct db *db, int64_t episode_id, const char *reason, int64_t now)
{
	char *m = db_text(reason, PODCAST_ERROR_MAX);
	db_exec(db,
		"UPDATE podcast_episodes SET failure_reason = $1, updated_at = $2"
		" WHERE id = $3 AND import_status = 'pending'",
		DB_PARAMS(DB_T(m), DB_I(now), DB_I(episode_id)));
	free(m);
}

struct episode_row {
	int64_t podcast_id;
	char *title;
	char *url;
	char status[16];
	int64_t file_id;
	char *podcast_title;
	bool tag_override;
	int64_t track_type_id;
	int64_t created_by;
};

static void episode_row_release(struct episode_row *e)
{
	free(e->title);
	free(e->url);
	free(e->podcast_title);
}

static int load_episode(struct db *db, int64_t id, struct episode_row *e)
{
	memset(e, 0, sizeof(*e));
	struct db_rows *rows;
	int r = db_query(db,
			 "SELECT e.podcast_id, e.title, e.enclosure_url, e.import_status,"
			 " e.file_id,"
			 " p.title, p.tag_override, p.track_type_id, p.created_by"
			 " FROM podcast_episodes e JOIN podcasts p ON p.id = e.podcast_id"
			 " WHERE e.id = $1",
			 DB_PARAMS(DB_I(id)), &rows);
	if (r < 0)
		return r;
	if (db_rows_next(rows)) {
		e->podcast_id = db_col_int(rows, 0);
		e->title = xstrdup(db_col_text(rows, 1) ? db_col_text(rows, 1) : "");
		e->url = xstrdup(db_col_text(rows, 2) ? db_col_text(rows, 2) : "");
		snprintf(e->status, sizeof(e->status), "%s",
			 db_col_text(rows, 3) ? db_col_text(rows, 3) : "");
		e->file_id = db_col_int(rows, 4);
		e->podcast_title = xstrdup(db_col_text(rows, 5) ? db_col_text(rows, 5) : "");
		e->tag_override = db_col_bool(rows, 6);
		e->track_type_id = db_col_int(rows, 7);
		e->created_by = db_col_int(rows, 8);
	} else {
		r = db_rows_error(rows) < 0 ? db_rows_error(rows) : -ENOENT;
	}
	db_rows_free(rows);
	return r;
}

/* The file extension for a download: the URL path's ("ep1.MP3?x" ->
 * "mp3"), else the Content-Type's, else "bin". */
static void pick_ext(const char *url, const char *content_type, char out[STORAGE_EXT_MAX + 1])
{
	snprintf(out, STORAGE_EXT_MAX + 1, "bin");
	const char *p = strstr(url, "://");
	p = p ? p + 3 : url;
	size_t n = strcspn(p, "?#");
	const char *slash = NULL;
	for (const char *c = p; c < p + n; c++)
		if (*c == '/')
			slash = c;
	if (slash) {
		const char *dot = NULL;
		for (const char *c = slash; c < p + n; c++)
			if (*c == '.')
				dot = c;
		if (dot) {
			size_t el = (size_t)(p + n - dot - 1);
			bool ok = el >= 1 && el <= STORAGE_EXT_MAX;
			for (size_t i = 0; ok && i < el; i++)
				ok = isalnum((unsigned char)dot[1 + i]);
			if (ok) {
				for (size_t i = 0; i < el; i++)
					out[i] = (char)tolower((unsigned char)dot[1 + i]);
				out[el] = '\0';
				const char *m = library_mime_for_ext(out);
				if (strcmp(m, "application/octet-stream") != 0)
					return;
			}
		}
	}
	static const struct {
		const char *type, *ext;
	} types[] = {
		{ "audio/mpeg", "mp3" }, { "audio/mp3", "mp3" }, { "audio/x-mp3", "mp3" },
		{ "audio/mp4", "m4a" }, { "audio/x-m4a", "m4a" }, { "audio/m4a", "m4a" },
		{ "audio/aac", "aac" }, { "audio/aacp", "aac" }, { "audio/ogg", "ogg" },
		{ "audio/vorbis", "ogg" }, { "audio/opus", "opus" }, { "audio/flac", "flac" },
		{ "audio/x-flac", "flac" }, { "audio/wav", "wav" }, { "audio/x-wav", "wav" },
		{ "audio/wave", "wav" },
	};
	if (!content_type)
		return;
	size_t tl = strcspn(content_type, "; \t");
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		if (strlen(types[i].type) == tl &&
		    strncasecmp(content_type, types[i].type, tl) == 0) {
			snprintf(out, STORAGE_EXT_MAX + 1, "%s", types[i].ext);
			return;
		}
	}
}

/* A storage error that is the store's (not the episode's) is worth a
 * retry; one over the limit is not. */
static int storage_error(int r)
{
	return r == -EFBIG || r == -EINVAL ? r : -EAGAIN;
}

/*
 * The ingest proper, once the episode row is read: download, store, add,
 * analyse. *file_id on success. A negative errno with err set otherwise.
 */
static int ingest(struct db *db, struct storage *st, int64_t episode_id,
		  const struct episode_row *e, const struct podcast_options *o, int64_t now,
		  int64_t *file_id, char *err, size_t errlen)
{
	struct fetch f;
	int r = fetch_start(&f, e->url, o, o->max_episode_bytes, NULL, NULL, false);
	if (r < 0) {
		(void)error_set(err, errlen, 0, "%s", f.msg);
		goto out_release;
	}
	fetch_wait_start(&f);
	const char *ctype = NULL;
	curl_easy_getinfo(f.easy, CURLINFO_CONTENT_TYPE, &ctype);
	char ext[STORAGE_EXT_MAX + 1];
	pick_ext(e->url, ctype, ext);
	char mime[128];
	snprintf(mime, sizeof(mime), "%s", library_mime_for_ext(ext));

	char key[STORAGE_KEY_SIZE], hash[STORAGE_HASH_SIZE];
	int64_t size = 0;
	r = storage_put_stream(st, fetch_read, &f, ext, o->max_episode_bytes, key, hash, &size);
	if (r < 0) {
		if (f.done && f.error < 0 && r == f.error) {
			(void)error_set(err, errlen, 0, "%s", f.msg);
		} else if (r == -EFBIG) {
			(void)error_set(err, errlen, 0, "%.300s: larger than the limit of %" PRId64 " bytes",
				e->url, o->max_episode_bytes);
		} else {
			(void)error_set(err, errlen, 0, "storing %.300s: %s", e->url, onair_strerror(r));
			r = storage_error(r);
		}
		goto out_release;
	}
	fetch_release(&f);

	bool existed = false;
	r = library_add_file(db, hash, size, mime, key, e->created_by, e->track_type_id, NULL, now,
			     file_id, &existed);
	if (r == -ENOENT) {
		/* The uploader or track type went away meanwhile: without them. */
		r = library_add_file(db, hash, size, mime, key, 0, 0, NULL, now, file_id, &existed);
	}
	if (r < 0) {
		(void)error_set(err, errlen, 0, "adding the file to the library: %s", onair_strerror(r));
		return db_error(r);
	}
	struct library_file_info info;
	r = library_find_file(db, hash, &info);
	if (r < 0) {
		(void)error_set(err, errlen, 0, "reading the file back: %s", onair_strerror(r));
		return r == -ENOENT ? -EAGAIN : db_error(r);
	}
	if (strcmp(info.status, "ready") == 0)
		return 0;	/* the same bytes, analysed already: reused as they are */

	bool playable = false;
	char aerr[256] = "";
	r = library_analyze_file(db, st, *file_id, NULL, &playable, aerr, sizeof(aerr));
	if (r < 0) {
		(void)error_set(err, errlen, 0, "analysing: %s", aerr[0] ? aerr : onair_strerror(r));
		return r == -EBUSY ? r : -EAGAIN;
	}
	if (!playable) {
		(void)error_set(err, errlen, 0, "%.300s is not playable audio: %s", e->url, aerr);
		return -EBADMSG;
	}
	if (e->tag_override) {
		r = db_exec(db,
			    "UPDATE files SET"
			    " title = CASE WHEN $1 = '' THEN title ELSE $1 END,"
			    " album = CASE WHEN $2 = '' THEN album ELSE $2 END,"
			    " updated_at = $3 WHERE id = $4",
			    DB_PARAMS(DB_T(e->title), DB_T(e->podcast_title), DB_I(now),
				      DB_I(*file_id)));
		if (r < 0) {
			(void)error_set(err, errlen, 0, "writing the podcast's tags: %s", onair_strerror(r));
			return db_error(r);
		}
	}
	return 0;

out_release:
	fetch_release(&f);
	return r;
}

int podcast_ingest(struct db *db, struct mq *mq, struct storage *st, int64_t episode_id,
		   const struct podcast_options *o, int64_t now, char *err, size_t errlen)
{
	(void)mq;	/* nothing to queue after an ingest (the analysis runs here) */
	char own_err[MSG_MAX];
	if (!err || errlen == 0) {
		err = own_err;
		errlen = sizeof(own_err);
	}
	(void)error_set(err, errlen, 0, "%s", "");
	if (!db || !st || episode_id <= 0) {
		(void)error_set(err, errlen, 0, "invalid arguments");
		return -EINVAL;
	}
	struct podcast_options opts;
	resolve_options(o, &opts);

	struct episode_row e;
	int r = load_episode(db, episode_id, &e);
	if (r == -ENOENT) {
		(void)error_set(err, errlen, 0, "no episode %" PRId64, episode_id);
		return r;
	}
	if (r < 0) {
		(void)error_set(err, errlen, 0, "reading the episode: %s", onair_strerror(r));
		return db_error(r);
	}
	if (strcmp(e.status, "imported") == 0 && e.file_id > 0) {
		(void)error_set(err, errlen, 0, "imported already (file %" PRId64 ")", e.file_id);
		goto out_release;
	}
	/* A task may come from elsewhere than podcast_enqueue_ingest. */
	r = db_exec(db,
		    "UPDATE podcast_episodes SET import_status = 'pending', updated_at = $2"
		    " WHERE id = $1 AND import_status <> 'pending'",
		    DB_PARAMS(DB_I(episode_id), DB_I(now)));
	if (r < 0) {
		(void)error_set(err, errlen, 0, "marking the episode pending: %s", onair_strerror(r));
		r = db_error(r);
		goto out_release;
	}

	int64_t file_id = 0;
	r = ingest(db, st, episode_id, &e, &opts, now, &file_id, err, errlen);
	if (r == 0) {
		r = db_exec(db,
			    "UPDATE podcast_episodes SET file_id = $1, import_status = 'imported',"
			    " failure_reason = NULL, updated_at = $2 WHERE id = $3",
			    DB_PARAMS(DB_I(file_id), DB_I(now), DB_I(episode_id)));
		if (r == 0) {
			(void)error_set(err, errlen, 0, "episode %" PRId64 " was deleted", episode_id);
			r = -ENOENT;
		} else if (r < 0) {
			(void)error_set(err, errlen, 0, "marking the episode imported: %s", onair_strerror(r));
			r = db_error(r);
			note_retry(db, episode_id, err, now);
		} else {
			(void)error_set(err, errlen, 0, "imported as file %" PRId64, file_id);
			r = 0;
		}
	} else if (podcast_error_transient(r)) {
		note_retry(db, episode_id, err, now);
	} else {
		podcast_episode_fail(db, episode_id, err, now);
	}

out_release:
	episode_row_release(&e);
	return r;
}
