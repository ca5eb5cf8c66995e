/*
 * air_probe.c - Icecast's mount list read back from outside; see
 * air_probe.h.
 */
#include "playout/air_probe.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/timeutil.h"
#include "protocol/icecast_status.h"

#define MOUNTS_MAX 64
#define MOUNT_SIZE 128

struct air_probe {
	char *url;
	int64_t period;
	pthread_t thread;
	atomic_bool stop;
	pthread_mutex_t lock;	/* the table below */
	char mounts[MOUNTS_MAX][MOUNT_SIZE];
	int64_t seen[MOUNTS_MAX];
	size_t n;
	int64_t last_read;	/* the last read that worked */
};

static size_t collect(char *data, size_t size, size_t nmemb, void *userdata)
{
	struct buf *b = userdata;
	return buf_append(b, data, size * nmemb) == 0 ? size * nmemb : 0;
}

/* "icecast:host:port/mount" -> "/mount" (NULL if there is no path). */
static const char *mount_of(const char *output)
{
	return strchr(output, '/');
}

static void note(struct air_probe *p, const char *mount, int64_t now)
{
	if (strlen(mount) >= MOUNT_SIZE)
		return;
	size_t i = 0;
	while (i < p->n && strcmp(p->mounts[i], mount) != 0)
		i++;
	if (i == p->n) {
		if (p->n == MOUNTS_MAX)
			return;
		snprintf(p->mounts[p->n++], MOUNT_SIZE, "%s", mount);
	}
	p->seen[i] = now;
}

static void read_once(struct air_probe *p, CURL *curl, struct buf *body,
		      struct icecast_source *sources)
{
	buf_reset(body);
	curl_easy_setopt(curl, CURLOPT_URL, p->url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, 2000L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
	long status = 0;
	CURLcode cr = curl_easy_perform(curl);
	if (cr == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	int n = cr == CURLE_OK && status == 200
			? icecast_status_parse(body->data, body->len, sources, ICECAST_MOUNTS_MAX)
			: -EIO;
	int64_t now = time_mono_us();
	pthread_mutex_lock(&p->lock);
	if (n >= 0)
		p->last_read = now;
	for (int i = 0; i < n; i++) {
		const char *m = mount_of(sources[i].output);
		if (m)
			note(p, m, now);
	}
	pthread_mutex_unlock(&p->lock);
}

static void *probe_main(void *arg)
{
	struct air_probe *p = arg;
	CURL *curl = curl_easy_init();
	struct buf body;
	buf_init(&body, ICECAST_STATUS_MAX);
	struct icecast_source *sources = xcalloc(ICECAST_MOUNTS_MAX, sizeof(*sources));
	int64_t next = 0;
	while (curl && !atomic_load(&p->stop)) {
		int64_t now = time_mono_us();
		if (now < next) {
			nanosleep(&(struct timespec){ 0, 100000000 }, NULL);
			continue;
		}
		next = now + p->period;
		read_once(p, curl, &body, sources);
	}
	free(sources);
	buf_release(&body);
	if (curl)
		curl_easy_cleanup(curl);
	return NULL;
}

int air_probe_start(const char *status_url, int64_t period_us, struct air_probe **out)
{
	*out = NULL;
	if (!status_url || strncmp(status_url, "http", 4) != 0 || period_us < 100000)
		return -EINVAL;
	struct air_probe *p = xcalloc(1, sizeof(*p));
	p->url = xstrdup(status_url);
	p->period = period_us;
	pthread_mutex_init(&p->lock, NULL);
	int r = pthread_create(&p->thread, NULL, probe_main, p);
	if (r != 0) {
		pthread_mutex_destroy(&p->lock);
		free(p->url);
		free(p);
		return -r;
	}
	*out = p;
	return 0;
}

void air_probe_stop(struct air_probe *p)
{
	if (!p)
		return;
	atomic_store(&p->stop, true);
	pthread_join(p->thread, NULL);
	pthread_mutex_destroy(&p->lock);
	free(p->url);
	free(p);
}

int64_t air_probe_mount_seen(struct air_probe *p, const char *mount)
{
	int64_t at = 0;
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->mounts[i], mount) == 0)
			at = p->seen[i];
	pthread_mutex_unlock(&p->lock);
	return at;
}

int64_t air_probe_last_read(struct air_probe *p)
{
	pthread_mutex_lock(&p->lock);
	int64_t at = p->last_read;
	pthread_mutex_unlock(&p->lock);
	return at;
}
