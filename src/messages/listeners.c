/*
 * listeners.c - Icecast listener counts into listener_counts; see
 * listeners.h.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>
#include <jansson.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "messages/listeners.h"

static size_t collect(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct buf *b = userdata;
	return buf_append(b, data, size * nmemb) == 0 ? size * nmemb : 0;
}

static int fetch(const char *url, struct buf *body, char *err, size_t errlen)
{
	CURL *curl = curl_easy_init();
	if (!curl)
		return -ENOMEM;
	char cerr[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 5000L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, cerr);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "onair/" ONAIR_VERSION);
	CURLcode c = curl_easy_perform(curl);
	long status = 0;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(curl);
	if (c != CURLE_OK) {
		if (err && errlen)
			snprintf(err, errlen, "%s: %s", url, cerr[0] ? cerr : curl_easy_strerror(c));
		return c == CURLE_COULDNT_CONNECT	? -ECONNREFUSED
		       : c == CURLE_OPERATION_TIMEDOUT ? -ETIMEDOUT
						       : -EIO;
	}
	if (status != 200) {
		if (err && errlen)
			snprintf(err, errlen, "%s: HTTP %ld", url, status);
		return -EIO;
	}
	return 0;
}

int listeners_poll_icecast(struct db *db, const char *status_url, int64_t at, size_t *stored,
			   struct metric *gauge, char *err, size_t errlen)
{
	if (stored)
		*stored = 0;
	struct buf body;
	buf_init(&body, ICECAST_STATUS_MAX);
	struct icecast_source *samples = xcalloc(ICECAST_MOUNTS_MAX, sizeof(*samples));
	int r = fetch(status_url, &body, err, errlen);
	if (r < 0)
		goto out_release;
	int n = icecast_status_parse(body.data, body.len, samples, ICECAST_MOUNTS_MAX);
	if (n < 0) {
		if (err && errlen)
			snprintf(err, errlen, "%.200s: not an Icecast status document", status_url);
		r = n;
		goto out_release;
	}
	for (int i = 0; i < n; i++) {
		const char *output = samples[i].output;
		metric_set(gauge, (double)samples[i].listeners, &output);
		r = db_exec(db,
			    "INSERT INTO listener_counts (output, at, listeners) VALUES ($1, $2, $3)"
			    " ON CONFLICT (output, at) DO NOTHING",
			    DB_PARAMS(DB_T(samples[i].output), DB_I(at), DB_I(samples[i].listeners)));
		if (r < 0) {
			if (err && errlen)
				snprintf(err, errlen, "storing listener counts: %.200s", db_errmsg(db));
			goto out_release;
		}
	}
	if (stored)
		*stored = (size_t)n;
	r = 0;
out_release:
	free(samples);
	buf_release(&body);
	return r;
}

/* ------------------------------------------------------------- sampler */

#define SAMPLER_URLS_MAX 16

struct listeners_sampler {
	struct db *db;
	struct metric *gauge;
	char *urls[SAMPLER_URLS_MAX];
	bool failing[SAMPLER_URLS_MAX];
	size_t n;
	int64_t interval;
	pthread_t thread;
	atomic_bool stop;
};

static void *sample(void *arg)
{
	struct listeners_sampler *s = arg;
	int64_t next = 0;
	while (!atomic_load(&s->stop)) {
		int64_t now = time_now_us();
		if (now < next) {
			nanosleep(&(struct timespec){ 0, 200000000 }, NULL);
			continue;
		}
		int64_t at = now - time_floor_mod(now, s->interval);
		next = at + s->interval;
		for (size_t i = 0; i < s->n && !atomic_load(&s->stop); i++) {
			char err[256] = "";
			size_t stored;
			int r = listeners_poll_icecast(s->db, s->urls[i], at, &stored, s->gauge,
						       err, sizeof(err));
			if (r < 0 && !s->failing[i])
				log_warn("listeners", "no listener counts: %s", err);
			else if (r == 0 && s->failing[i])
				log_info("listeners", "listener counts from %s again", s->urls[i]);
			s->failing[i] = r < 0;
		}
	}
	return NULL;
}

int listeners_start(struct listeners_sampler **out, const char *status_urls,
		    int64_t interval_us, const char *db_url, struct metrics *metrics, char *err,
		    size_t errlen)
{
	if (!status_urls || !*status_urls || interval_us < USEC_PER_SEC) {
		if (err && errlen)
			snprintf(err, errlen, "no status URL, or an interval under a second");
		return -EINVAL;
	}
	struct listeners_sampler *s = xcalloc(1, sizeof(*s));
	s->interval = interval_us;
	s->gauge = metrics_gauge(metrics, "onair_listeners",
				 "listeners of each Icecast output at the last sample", "output");
	const char *p = status_urls;
	int r = 0;
	while (*p && r == 0) {
		size_t len = strcspn(p, ",");
		while (len && (*p == ' ' || *p == '\t'))
			p++, len--;
		char *url = xstrndup(p, len);
		while (*url && (url[strlen(url) - 1] == ' ' || url[strlen(url) - 1] == '\t'))
			url[strlen(url) - 1] = '\0';
		if (s->n == SAMPLER_URLS_MAX ||
		    (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)) {
			if (err && errlen)
				snprintf(err, errlen, "'%.100s' is not an http(s) URL (or more than %d)",
					 url, SAMPLER_URLS_MAX);
			free(url);
			r = -EINVAL;
			break;
		}
		s->urls[s->n++] = url;
		p += len;
		if (*p == ',')
			p++;
	}
	if (r == 0 && s->n == 0)
		r = -EINVAL;
	if (r == 0)
		r = db_open(&s->db, db_url, err, errlen);
	if (r == 0)
		r = -pthread_create(&s->thread, NULL, sample, s);
	if (r < 0) {
		db_close(s->db);
		for (size_t i = 0; i < s->n; i++)
			free(s->urls[i]);
		free(s);
		return r;
	}
	*out = s;
	return 0;
}

void listeners_stop(struct listeners_sampler *s)
{
	if (!s)
		return;
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	db_close(s->db);
	for (size_t i = 0; i < s->n; i++)
		free(s->urls[i]);
	free(s);
}
