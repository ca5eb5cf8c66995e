/*
 * test_media_cache.c - the media cache against real servers on
 * 127.0.0.1: the HLS file server (hls_http) as the origin, a tiny raw
 * socket server for slow and scripted answers, and file:// URLs.
 */
#define _XOPEN_SOURCE 700
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <sodium.h>

#include "common/buf.h"
#include "common/timeutil.h"
#include "playout/hls_http.h"
#include "playout/media_cache.h"

#define LOG_MAX 64
#define REASON_LEN 256
#define WAIT_US (30 * USEC_PER_SEC)
#define FAST_RETRY_US (50 * USEC_PER_MSEC)

/* A media file: its bytes, hash and protocol description. */
struct mfile {
	char hex[65];
	char hash[72];
	unsigned char *data;
	size_t len;
	struct proto_media m;
};

struct fixture {
	char base[256];
	char origin[300];
	char cache_dir[300];
	struct hls_http *server;
	uint16_t port;
	struct media_cache *cache;

	pthread_mutex_t lock;	/* guards the logs below */
	int hits;		/* files the origin served, in order */
	char hit_names[LOG_MAX][72];
	int failures;
	int64_t failure_ids[LOG_MAX];
	char failure_why[LOG_MAX][REASON_LEN];
	int64_t failure_at[LOG_MAX];	/* monotonic us */
};

/* --- helpers ----------------------------------------------------------- */

static void sleep_us(int64_t us)
{
	struct timespec ts = { .tv_sec = us / USEC_PER_SEC, .tv_nsec = (us % USEC_PER_SEC) * 1000 };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void on_segment(void *userdata, const char *client, const char *name)
{
	struct fixture *f = userdata;
	pthread_mutex_lock(&f->lock);
	if (f->hits < LOG_MAX)
		snprintf(f->hit_names[f->hits], sizeof(f->hit_names[0]), "%s", name);
	f->hits++;
	pthread_mutex_unlock(&f->lock);
}

static void on_failure(void *userdata, int64_t media_id, const char *why)
{
	struct fixture *f = userdata;
	pthread_mutex_lock(&f->lock);
	if (f->failures < LOG_MAX) {
		f->failure_ids[f->failures] = media_id;
		snprintf(f->failure_why[f->failures], REASON_LEN, "%s", why);
		f->failure_at[f->failures] = time_mono_us();
	}
	f->failures++;
	pthread_mutex_unlock(&f->lock);
}

static int hits(struct fixture *f)
{
	pthread_mutex_lock(&f->lock);
	int n = f->hits;
	pthread_mutex_unlock(&f->lock);
	return n;
}

static int failures(struct fixture *f)
{
	pthread_mutex_lock(&f->lock);
	int n = f->failures;
	pthread_mutex_unlock(&f->lock);
	return n;
}

/* Wait (bounded) until at least n failures were reported. */
static void wait_failures(struct fixture *f, int n)
{
	int64_t end = time_mono_us() + WAIT_US;
	while (failures(f) < n) {
		if (time_mono_us() > end)
			fail_msg("waited %lld s for %d failure report(s), got %d",
				 (long long)(WAIT_US / USEC_PER_SEC), n, failures(f));
		sleep_us(5 * USEC_PER_MSEC);
	}
}

static void failure_reason(struct fixture *f, int i, int64_t *id, char *why, size_t size)
{
	pthread_mutex_lock(&f->lock);
	*id = f->failure_ids[i];
	snprintf(why, size, "%s", f->failure_why[i]);
	pthread_mutex_unlock(&f->lock);
}

static void mfile_make(struct mfile *mf, int64_t id, size_t len, unsigned seed)
{
	memset(mf, 0, sizeof(*mf));
	mf->data = malloc(len ? len : 1);
	assert_non_null(mf->data);
	mf->len = len;
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < len; i++) {
		x = x * 1103515245u + 12345u;
		mf->data[i] = (unsigned char)(x >> 16);
	}
	unsigned char digest[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(digest, mf->data, len);
	sodium_bin2hex(mf->hex, sizeof(mf->hex), digest, sizeof(digest));
	snprintf(mf->hash, sizeof(mf->hash), "sha256:%s", mf->hex);
	mf->m.id = id;
	mf->m.hash = mf->hash;
	mf->m.size = (int64_t)len;
	mf->m.duration = 1000000;
}

static void mfile_release(struct mfile *mf)
{
	free(mf->data);
}

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		fail_msg("create %s: %s", path, strerror(errno));
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void put_origin(struct fixture *f, const struct mfile *mf)
{
	write_file(f->origin, mf->hex, mf->data, mf->len);
}

static bool file_exists(const char *dir, const char *name)
{
	char path[512];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return stat(path, &st) == 0;
}

static int count_parts(const char *dir)
{
	DIR *d = opendir(dir);
	assert_non_null(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strncmp(e->d_name, ".part-", 6) == 0)
			n++;
	closedir(d);
	return n;
}

/* The file at path has exactly mf's bytes. */
static void assert_same_file(const char *path, const struct mfile *mf)
{
	struct buf b;
	buf_init(&b, mf->len + 1);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		fail_msg("open %s: %s", path, strerror(errno));
	char chunk[8192];
	ssize_t n;
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		assert_int_equal(buf_append(&b, chunk, (size_t)n), 0);
	close(fd);
	assert_int_equal(b.len, mf->len);
	assert_memory_equal(b.data, mf->data, mf->len);
	buf_release(&b);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void start_server(struct fixture *f, uint16_t port)
{
	struct hls_http_options o = {
		.dir = f->origin,
		.address = "127.0.0.1",
		.port = port,
		.on_segment = on_segment,
		.userdata = f,
	};
	assert_int_equal(hls_http_start(&f->server, &o), 0);
	f->port = hls_http_port(f->server);
}

static void start_cache_opts(struct fixture *f, struct media_cache_options *o)
{
	o->dir = f->cache_dir;
	o->on_failure = on_failure;
	o->userdata = f;
	if (!o->retry_min_us)
		o->retry_min_us = FAST_RETRY_US;
	int r = media_cache_new(&f->cache, o);
	if (r < 0)
		fail_msg("media_cache_new: %s", strerror(-r));
}

/* A cache downloading from the test's HLS server. */
static void start_cache(struct fixture *f)
{
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/{hash}", (unsigned)f->port);
	struct media_cache_options o = { .url_template = url };
	start_cache_opts(f, &o);
}

static void want(struct fixture *f, struct mfile **files, size_t n, const int64_t *needed_s)
{
	struct media_cache_want w[LOG_MAX];
	assert_true(n <= LOG_MAX);
	int64_t now = time_now_us();
	for (size_t i = 0; i < n; i++) {
		w[i].media = &files[i]->m;
		w[i].needed_at = now + (needed_s ? needed_s[i] : (int64_t)i) * USEC_PER_SEC;
	}
	assert_int_equal(media_cache_want(f->cache, w, n), 0);
}

static void wait_all_ready(struct fixture *f)
{
	int r = media_cache_wait_ready(f->cache, INT64_MAX, WAIT_US);
	if (r < 0) {
		struct media_cache_stats st;
		media_cache_get_stats(f->cache, &st);
		fail_msg("files not ready after %lld s: wanted %u ready %u failing %u",
			 (long long)(WAIT_US / USEC_PER_SEC), st.wanted, st.ready, st.failing);
	}
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	const char *tmp = getenv("TMPDIR");
	snprintf(f->base, sizeof(f->base), "%s/onair-cache-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(f->base));
	snprintf(f->origin, sizeof(f->origin), "%s/origin", f->base);
	snprintf(f->cache_dir, sizeof(f->cache_dir), "%s/cache", f->base);
	assert_int_equal(mkdir(f->origin, 0755), 0);
	pthread_mutex_init(&f->lock, NULL);
	start_server(f, 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	media_cache_free(f->cache);
	hls_http_stop(f->server);
	pthread_mutex_destroy(&f->lock);
	nftw(f->base, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* --- a raw HTTP server for what hls_http will not do -------------------- */

enum raw_mode {
	RAW_DRIBBLE,	/* 200 with a huge Content-Length, then 1.6 KB/s for 20 s */
	RAW_NOT_FOUND,	/* 404, and keep the request */
	RAW_REDIRECT,	/* 302 to location */
};

struct raw_server {
	int lfd;
	uint16_t port;
	enum raw_mode mode;
	pthread_t thread;
	atomic_bool stop;
	atomic_long sent;
	pthread_mutex_t lock;
	char request[4096];
	int requests;
	char location[512];
};

/* Read a request head (until the blank line); false when stopping. */
static bool raw_read_head(struct raw_server *s, int fd, char *head, size_t size)
{
	size_t len = 0;
	head[0] = '\0';
	while (!atomic_load(&s->stop)) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 50) <= 0)
			continue;
		ssize_t n = recv(fd, head + len, size - 1 - len, 0);
		if (n <= 0)
			return false;
		len += (size_t)n;
		head[len] = '\0';
		if (strstr(head, "\r\n\r\n") || len == size - 1)
			return true;
	}
	return false;
}

static void raw_serve(struct raw_server *s, int fd)
{
	char head[4096];
	if (!raw_read_head(s, fd, head, sizeof(head)))
		return;
	pthread_mutex_lock(&s->lock);
	snprintf(s->request, sizeof(s->request), "%s", head);
	s->requests++;
	pthread_mutex_unlock(&s->lock);

	if (s->mode == RAW_REDIRECT) {
		char answer[700];
		pthread_mutex_lock(&s->lock);
		int n = snprintf(answer, sizeof(answer), "HTTP/1.1 302 Found\r\nLocation: %s\r\n"
				 "Content-Length: 0\r\nConnection: close\r\n\r\n", s->location);
		pthread_mutex_unlock(&s->lock);
		send(fd, answer, (size_t)n, MSG_NOSIGNAL);
		return;
	}
	if (s->mode == RAW_NOT_FOUND) {
		static const char answer[] = "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
					     "Connection: close\r\n\r\n";
		send(fd, answer, sizeof(answer) - 1, MSG_NOSIGNAL);
		return;
	}
	static const char answer[] = "HTTP/1.1 200 OK\r\nContent-Length: 67108864\r\n"
				     "Content-Type: application/octet-stream\r\n\r\n";
	if (send(fd, answer, sizeof(answer) - 1, MSG_NOSIGNAL) < 0)
		return;
	char chunk[16];
	memset(chunk, 'x', sizeof(chunk));
	/* Give up after a while, so that a client that cannot stop shows
	 * as slow instead of hanging the test. */
	int64_t end = time_mono_us() + 20 * USEC_PER_SEC;
	while (!atomic_load(&s->stop) && time_mono_us() < end) {
		if (send(fd, chunk, sizeof(chunk), MSG_NOSIGNAL) < 0)
			return;
		atomic_fetch_add(&s->sent, (long)sizeof(chunk));
		sleep_us(10 * USEC_PER_MSEC);
	}
}

static void *raw_main(void *arg)
{
	struct raw_server *s = arg;
	while (!atomic_load(&s->stop)) {
		struct pollfd p = { .fd = s->lfd, .events = POLLIN };
		if (poll(&p, 1, 50) <= 0)
			continue;
		int fd = accept(s->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		raw_serve(s, fd);
		close(fd);
	}
	return NULL;
}

static void raw_start(struct raw_server *s, enum raw_mode mode)
{
	memset(s, 0, sizeof(*s));
	s->mode = mode;
	atomic_init(&s->stop, false);
	atomic_init(&s->sent, 0);
	pthread_mutex_init(&s->lock, NULL);
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	struct sockaddr_in sin = { .sin_family = AF_INET };
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(s->lfd, 16), 0);
	socklen_t len = sizeof(sin);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&sin, &len), 0);
	s->port = ntohs(sin.sin_port);
	assert_int_equal(pthread_create(&s->thread, NULL, raw_main, s), 0);
}

static void raw_stop(struct raw_server *s)
{
	atomic_store(&s->stop, true);
	pthread_join(s->thread, NULL);
	close(s->lfd);
	pthread_mutex_destroy(&s->lock);
}

/* --- tests ------------------------------------------------------------- */

static void test_download_verify_path(void **state)
{
	struct fixture *f = *state;
	struct mfile a, b, c;
	mfile_make(&a, 1, 100000, 1);
	mfile_make(&b, 2, 1, 2);
	mfile_make(&c, 3, 300000, 3);
	put_origin(f, &a);
	put_origin(f, &b);
	put_origin(f, &c);
	start_cache(f);

	struct mfile *files[] = { &a, &b, &c };
	want(f, files, 3, NULL);
	wait_all_ready(f);

	for (size_t i = 0; i < 3; i++) {
		char path[512], expect[512];
		assert_int_equal(media_cache_path(f->cache, files[i]->hash, path, sizeof(path)), 0);
		snprintf(expect, sizeof(expect), "%s/%s", f->cache_dir, files[i]->hex);
		assert_string_equal(path, expect);
		assert_same_file(path, files[i]);
		assert_int_equal(media_cache_verify(f->cache, files[i]->hash), 0);
	}
	struct media_cache_stats st;
	media_cache_get_stats(f->cache, &st);
	assert_int_equal(st.wanted, 3);
	assert_int_equal(st.ready, 3);
	assert_int_equal(st.missing, 0);
	assert_int_equal(st.failing, 0);
	assert_int_equal(st.bytes_downloaded, a.len + b.len + c.len);
	assert_int_equal(failures(f), 0);
	assert_int_equal(hits(f), 3);
	assert_int_equal(count_parts(f->cache_dir), 0);

	/* Buffer too small; not present; not a hash. */
	char small[16];
	assert_int_equal(media_cache_path(f->cache, a.hash, small, sizeof(small)), -ENOSPC);
	struct mfile d;
	mfile_make(&d, 4, 10, 4);
	char path[512];
	assert_int_equal(media_cache_path(f->cache, d.hash, path, sizeof(path)), -ENOENT);
	assert_int_equal(media_cache_path(f->cache, "sha256:abc", path, sizeof(path)), -EINVAL);
	assert_int_equal(media_cache_path(f->cache, a.hex, path, sizeof(path)), -EINVAL);

	/* A restarted cache finds its files without downloading them again. */
	media_cache_free(f->cache);
	f->cache = NULL;
	start_cache(f);
	want(f, files, 3, NULL);
	wait_all_ready(f);
	assert_int_equal(hits(f), 3);
	assert_int_equal(media_cache_path(f->cache, c.hash, path, sizeof(path)), 0);

	mfile_release(&a);
	mfile_release(&b);
	mfile_release(&c);
	mfile_release(&d);
}

static void test_wrong_hash_then_fixed(void **state)
{
	struct fixture *f = *state;
	struct mfile good, bad;
	mfile_make(&good, 11, 5000, 11);
	mfile_make(&bad, 11, 5000, 12);
	/* Same size, other bytes, under the good file's name. */
	write_file(f->origin, good.hex, bad.data, bad.len);
	start_cache(f);
	struct mfile *files[] = { &good };
	want(f, files, 1, NULL);

	wait_failures(f, 1);
	int64_t id;
	char why[REASON_LEN];
	failure_reason(f, 0, &id, why, sizeof(why));
	assert_int_equal(id, 11);
	assert_string_equal(why, "sha256 mismatch");
	char path[512];
	assert_int_equal(media_cache_path(f->cache, good.hash, path, sizeof(path)), -ENOENT);
	assert_false(file_exists(f->cache_dir, good.hex));
	struct media_cache_stats st;
	media_cache_get_stats(f->cache, &st);
	assert_int_equal(st.wanted, 1);
	assert_int_equal(st.missing, 1);
	assert_int_equal(st.failing, 1);

	/* The origin gets the right file: a later retry stores it. */
	put_origin(f, &good);
	wait_all_ready(f);
	assert_int_equal(media_cache_path(f->cache, good.hash, path, sizeof(path)), 0);
	assert_same_file(path, &good);
	assert_int_equal(count_parts(f->cache_dir), 0);
	media_cache_get_stats(f->cache, &st);
	assert_int_equal(st.failing, 0);
	assert_int_equal(st.ready, 1);

	mfile_release(&good);
	mfile_release(&bad);
}

static void test_wrong_size(void **state)
{
	struct fixture *f = *state;
	struct mfile shorter, longer;
	mfile_make(&shorter, 21, 100, 21);
	mfile_make(&longer, 22, 100, 22);
	/* The origin has 50 bytes for the first and 200 for the second. */
	write_file(f->origin, shorter.hex, shorter.data, 50);
	unsigned char big[200];
	memcpy(big, longer.data, 100);
	memset(big + 100, 'z', 100);
	write_file(f->origin, longer.hex, big, sizeof(big));
	/* A long retry delay: one report each. */
	struct media_cache_options o = { .retry_min_us = 60 * USEC_PER_SEC };
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/{hash}", (unsigned)f->port);
	o.url_template = url;
	start_cache_opts(f, &o);
	struct mfile *files[] = { &shorter, &longer };
	want(f, files, 2, NULL);

	wait_failures(f, 2);
	for (int i = 0; i < 2; i++) {
		int64_t id;
		char why[REASON_LEN];
		failure_reason(f, i, &id, why, sizeof(why));
		if (id == 21)
			assert_string_equal(why, "size 50 != expected 100");
		else if (id == 22)
			assert_string_equal(why, "size 200 != expected 100");
		else
			fail_msg("failure for unknown media %lld", (long long)id);
	}
	assert_false(file_exists(f->cache_dir, shorter.hex));
	assert_false(file_exists(f->cache_dir, longer.hex));
	assert_int_equal(count_parts(f->cache_dir), 0);

	mfile_release(&shorter);
	mfile_release(&longer);
}

/* Larger than max_file_size: refused without a download. */
static void test_max_file_size(void **state)
{
	struct fixture *f = *state;
	struct mfile big;
	mfile_make(&big, 31, 5000, 31);
	put_origin(f, &big);
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/{hash}", (unsigned)f->port);
	struct media_cache_options o = { .url_template = url, .max_file_size = 1000 };
	start_cache_opts(f, &o);
	struct mfile *files[] = { &big };
	want(f, files, 1, NULL);
	wait_failures(f, 1);
	int64_t id;
	char why[REASON_LEN];
	failure_reason(f, 0, &id, why, sizeof(why));
	assert_int_equal(id, 31);
	assert_string_equal(why, "size 5000 > max_file_size 1000");
	assert_int_equal(hits(f), 0);
	mfile_release(&big);
}

static void test_not_found(void **state)
{
	struct fixture *f = *state;
	struct mfile here, gone;
	mfile_make(&here, 41, 1000, 41);
	mfile_make(&gone, 42, 1000, 42);
	put_origin(f, &here);
	start_cache(f);
	struct mfile *files[] = { &here, &gone };
	int64_t needed[] = { 10, 100 };
	want(f, files, 2, needed);

	wait_failures(f, 1);
	int64_t id;
	char why[REASON_LEN];
	failure_reason(f, 0, &id, why, sizeof(why));
	assert_int_equal(id, 42);
	assert_string_equal(why, "HTTP 404");

	/* What is needed within a minute is ready; not everything is. */
	assert_int_equal(media_cache_wait_ready(f->cache, time_now_us() + 60 * USEC_PER_SEC,
						WAIT_US), 0);
	assert_int_equal(media_cache_wait_ready(f->cache, INT64_MAX, 100 * USEC_PER_MSEC),
			 -ETIMEDOUT);
	struct media_cache_stats st;
	media_cache_get_stats(f->cache, &st);
	assert_int_equal(st.wanted, 2);
	assert_int_equal(st.ready, 1);
	assert_int_equal(st.missing, 1);
	assert_int_equal(st.failing, 1);

	/* A new want list without it: nothing is failing any more. */
	struct mfile *only[] = { &here };
	want(f, only, 1, NULL);
	media_cache_get_stats(f->cache, &st);
	assert_int_equal(st.wanted, 1);
	assert_int_equal(st.ready, 1);
	assert_int_equal(st.failing, 0);
	/* An empty want list. */
	assert_int_equal(media_cache_want(f->cache, NULL, 0), 0);
	media_cache_get_stats(f->cache, &st);
	assert_int_equal(st.wanted, 0);
	assert_int_equal(media_cache_wait_ready(f->cache, INT64_MAX, 0), 0);

	mfile_release(&here);
	mfile_release(&gone);
}

static void test_server_down_then_up(void **state)
{
	struct fixture *f = *state;
	struct mfile mf;
	mfile_make(&mf, 51, 20000, 51);
	put_origin(f, &mf);
	uint16_t port = f->port;
	hls_http_stop(f->server);
	f->server = NULL;

	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/{hash}", (unsigned)port);
	struct media_cache_options o = { .url_template = url, .retry_min_us = 100 * USEC_PER_MSEC };
	start_cache_opts(f, &o);
	struct mfile *files[] = { &mf };
	want(f, files, 1, NULL);

	/* Four failures, each retry after twice the previous delay: at least
	 * 100 + 200 + 400 ms from the first report to the fourth (less a
	 * little for how late the first report was). */
	wait_failures(f, 4);
	pthread_mutex_lock(&f->lock);
	int64_t span = f->failure_at[3] - f->failure_at[0];
	pthread_mutex_unlock(&f->lock);
	if (span < 600 * USEC_PER_MSEC)
		fail_msg("4 attempts within %lld ms: no exponential backoff",
			 (long long)(span / USEC_PER_MSEC));
	int64_t id;
	char why[REASON_LEN];
	failure_reason(f, 0, &id, why, sizeof(why));
	assert_int_equal(id, 51);
	assert_non_null(strstr(why, "onnect"));

	/* The server comes back on the same port. */
	start_server(f, port);
	wait_all_ready(f);
	char path[512];
	assert_int_equal(media_cache_path(f->cache, mf.hash, path, sizeof(path)), 0);
	assert_same_file(path, &mf);
	mfile_release(&mf);
}

static void test_nearest_first(void **state)
{
	struct fixture *f = *state;
	enum { N = 5 };
	struct mfile mf[N];
	for (int i = 0; i < N; i++) {
		mfile_make(&mf[i], 60 + i, 2000 + (size_t)i, 60u + (unsigned)i);
		put_origin(f, &mf[i]);
	}
	start_cache(f);
	/* Given out of order, and file 4 twice (first needed in 5 s). */
	struct mfile *files[] = { &mf[0], &mf[1], &mf[2], &mf[3], &mf[4], &mf[4] };
	int64_t needed[] = { 50, 10, 40, 20, 300, 5 };
	want(f, files, 6, needed);
	wait_all_ready(f);

	const int order[] = { 4, 1, 3, 2, 0 };
	pthread_mutex_lock(&f->lock);
	assert_int_equal(f->hits, N);
	for (int i = 0; i < N; i++)
		if (strcmp(f->hit_names[i], mf[order[i]].hex) != 0)
			fail_msg("download %d was %.12s, expected media %lld", i,
				 f->hit_names[i], (long long)mf[order[i]].m.id);
	pthread_mutex_unlock(&f->lock);
	struct media_cache_stats st;
	media_cache_get_stats(f->cache, &st);
	assert_int_equal(st.wanted, N);
	assert_int_equal(st.ready, N);
	for (int i = 0; i < N; i++)
		mfile_release(&mf[i]);
}

static void test_evict(void **state)
{
	struct fixture *f = *state;
	struct mfile a, b, c;
	mfile_make(&a, 71, 1000, 71);
	mfile_make(&b, 72, 1000, 72);
	mfile_make(&c, 73, 1000, 73);
	put_origin(f, &a);
	put_origin(f, &b);
	put_origin(f, &c);
	start_cache(f);
	struct mfile *all[] = { &a, &b, &c };
	want(f, all, 3, NULL);
	wait_all_ready(f);

	/* A new run of the cache: none of the files was used by it yet. */
	media_cache_free(f->cache);
	f->cache = NULL;
	write_file(f->cache_dir, "notes.txt", "keep", 4);
	start_cache(f);
	struct mfile *only_a[] = { &a };
	want(f, only_a, 1, NULL);
	/* Not used in the last hour: nothing, the cache started just now. */
	assert_int_equal(media_cache_evict(f->cache, 3600 * USEC_PER_SEC), 0);

	/* Let the start of this run age, then use b. */
	sleep_us(1500 * USEC_PER_MSEC);
	char path[512];
	assert_int_equal(media_cache_path(f->cache, b.hash, path, sizeof(path)), 0);
	/* A part file of some download: never evicted. */
	write_file(f->cache_dir, ".part-x", "x", 1);

	/* Not used in the last second: c only (a is wanted, b just used). */
	assert_int_equal(media_cache_evict(f->cache, USEC_PER_SEC), 1);
	assert_true(file_exists(f->cache_dir, a.hex));
	assert_true(file_exists(f->cache_dir, b.hex));
	assert_false(file_exists(f->cache_dir, c.hex));

	/* keep 0: everything not wanted. */
	assert_int_equal(media_cache_evict(f->cache, 0), 1);
	assert_true(file_exists(f->cache_dir, a.hex));
	assert_false(file_exists(f->cache_dir, b.hex));
	assert_int_equal(media_cache_path(f->cache, b.hash, path, sizeof(path)), -ENOENT);
	assert_true(file_exists(f->cache_dir, "notes.txt"));
	assert_true(file_exists(f->cache_dir, ".part-x"));
	assert_int_equal(media_cache_evict(f->cache, 0), 0);

	struct media_cache_stats st;
	media_cache_get_stats(f->cache, &st);
	assert_int_equal(st.wanted, 1);
	assert_int_equal(st.ready, 1);

	mfile_release(&a);
	mfile_release(&b);
	mfile_release(&c);
}

static void test_stale_parts_removed(void **state)
{
	struct fixture *f = *state;
	struct mfile mf;
	mfile_make(&mf, 81, 100, 81);
	assert_int_equal(mkdir(f->cache_dir, 0755), 0);
	char part[128];
	snprintf(part, sizeof(part), ".part-%s-0123456789abcdef", mf.hex);
	write_file(f->cache_dir, part, "half", 4);
	write_file(f->cache_dir, ".part-", "", 0);
	write_file(f->cache_dir, "notes.txt", "keep", 4);
	write_file(f->cache_dir, mf.hex, mf.data, mf.len);

	start_cache(f);
	assert_int_equal(count_parts(f->cache_dir), 0);
	assert_true(file_exists(f->cache_dir, "notes.txt"));
	char path[512];
	assert_int_equal(media_cache_path(f->cache, mf.hash, path, sizeof(path)), 0);
	mfile_release(&mf);
}

static void test_verify_corrupt(void **state)
{
	struct fixture *f = *state;
	struct mfile mf;
	mfile_make(&mf, 91, 4096, 91);
	put_origin(f, &mf);
	start_cache(f);
	struct mfile *files[] = { &mf };
	want(f, files, 1, NULL);
	wait_all_ready(f);
	assert_int_equal(media_cache_verify(f->cache, mf.hash), 0);

	/* Flip the bytes of the local copy (same size). */
	unsigned char *other = malloc(mf.len);
	assert_non_null(other);
	for (size_t i = 0; i < mf.len; i++)
		other[i] = (unsigned char)~mf.data[i];
	write_file(f->cache_dir, mf.hex, other, mf.len);
	free(other);
	assert_int_equal(media_cache_verify(f->cache, mf.hash), -EBADMSG);
	assert_false(file_exists(f->cache_dir, mf.hex));

	/* Still wanted: fetched again. */
	wait_all_ready(f);
	assert_int_equal(media_cache_verify(f->cache, mf.hash), 0);
	assert_int_equal(hits(f), 2);

	/* Deleted behind the cache's back: media_cache_path notices. */
	char path[512];
	assert_int_equal(media_cache_path(f->cache, mf.hash, path, sizeof(path)), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(media_cache_path(f->cache, mf.hash, path, sizeof(path)), -ENOENT);
	assert_int_equal(media_cache_verify(f->cache, mf.hash), -ENOENT);
	wait_all_ready(f);
	assert_int_equal(media_cache_path(f->cache, mf.hash, path, sizeof(path)), 0);
	assert_same_file(path, &mf);
	assert_int_equal(hits(f), 3);

	assert_int_equal(media_cache_verify(f->cache, "sha256:xyz"), -EINVAL);
	mfile_release(&mf);
}

/* Stopping in the middle of a slow download returns promptly and leaves
 * no part file. */
static void test_free_during_slow_download(void **state)
{
	struct fixture *f = *state;
	struct raw_server s;
	raw_start(&s, RAW_DRIBBLE);
	struct mfile mf;
	mfile_make(&mf, 101, 100, 101);
	mf.m.size = 64 << 20;	/* what the server announces */
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/{hash}", (unsigned)s.port);
	struct media_cache_options o = { .url_template = url };
	start_cache_opts(f, &o);
	struct mfile *files[] = { &mf };
	want(f, files, 1, NULL);

	int64_t end = time_mono_us() + WAIT_US;
	while (atomic_load(&s.sent) < 256) {
		if (time_mono_us() > end)
			fail_msg("the download did not start");
		sleep_us(5 * USEC_PER_MSEC);
	}
	assert_int_equal(count_parts(f->cache_dir), 1);

	int64_t t0 = time_mono_us();
	media_cache_free(f->cache);
	f->cache = NULL;
	int64_t took = time_mono_us() - t0;
	/* The server goes on for 20 s; curl checks for a stop about once a
	 * second at the least. */
	if (took > 10 * USEC_PER_SEC)
		fail_msg("media_cache_free took %lld ms during a download",
			 (long long)(took / USEC_PER_MSEC));
	assert_int_equal(count_parts(f->cache_dir), 0);
	assert_false(file_exists(f->cache_dir, mf.hex));
	assert_int_equal(failures(f), 0);
	raw_stop(&s);
	mfile_release(&mf);
}

static void test_timeout(void **state)
{
	struct fixture *f = *state;
	struct raw_server s;
	raw_start(&s, RAW_DRIBBLE);
	struct mfile mf;
	mfile_make(&mf, 111, 100, 111);
	mf.m.size = 64 << 20;
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/{hash}", (unsigned)s.port);
	struct media_cache_options o = {
		.url_template = url,
		.timeout_us = 300 * USEC_PER_MSEC,
		.retry_min_us = 60 * USEC_PER_SEC,
	};
	start_cache_opts(f, &o);
	struct mfile *files[] = { &mf };
	want(f, files, 1, NULL);
	wait_failures(f, 1);
	int64_t id;
	char why[REASON_LEN];
	failure_reason(f, 0, &id, why, sizeof(why));
	assert_int_equal(id, 111);
	if (strncmp(why, "timeout", 7) != 0)
		fail_msg("reason \"%s\", expected a timeout", why);
	assert_int_equal(count_parts(f->cache_dir), 0);
	struct media_cache_stats st;
	media_cache_get_stats(f->cache, &st);
	assert_true(st.bytes_downloaded > 0);
	media_cache_free(f->cache);
	f->cache = NULL;
	raw_stop(&s);
	mfile_release(&mf);
}

/* {id} in the template, and the bearer token is sent. */
static void test_request_form(void **state)
{
	struct fixture *f = *state;
	struct raw_server s;
	raw_start(&s, RAW_NOT_FOUND);
	struct mfile mf;
	mfile_make(&mf, 42, 100, 121);
	char url[256];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/api/v1/files/{id}/content?h={hash}",
		 (unsigned)s.port);
	struct media_cache_options o = {
		.url_template = url,
		.bearer_token = "tok-123",
		.retry_min_us = 60 * USEC_PER_SEC,
	};
	start_cache_opts(f, &o);
	struct mfile *files[] = { &mf };
	want(f, files, 1, NULL);
	wait_failures(f, 1);
	int64_t id;
	char why[REASON_LEN];
	failure_reason(f, 0, &id, why, sizeof(why));
	assert_string_equal(why, "HTTP 404");

	char line[256];
	snprintf(line, sizeof(line), "GET /api/v1/files/42/content?h=%s HTTP/1.1\r\n", mf.hex);
	pthread_mutex_lock(&s.lock);
	assert_int_equal(s.requests, 1);
	if (strncmp(s.request, line, strlen(line)) != 0)
		fail_msg("request was: %s", s.request);
	assert_non_null(strstr(s.request, "\r\nAuthorization: Bearer tok-123\r\n"));
	pthread_mutex_unlock(&s.lock);
	media_cache_free(f->cache);
	f->cache = NULL;
	raw_stop(&s);
	mfile_release(&mf);
}

static void set_location(struct raw_server *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void set_location(struct raw_server *s, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pthread_mutex_lock(&s->lock);
	vsnprintf(s->location, sizeof(s->location), fmt, ap);
	pthread_mutex_unlock(&s->lock);
	va_end(ap);
}

/* Redirects are followed, but not to a local file nor for ever. */
static void test_redirects(void **state)
{
	struct fixture *f = *state;
	struct mfile a, b;
	mfile_make(&a, 151, 2000, 151);
	mfile_make(&b, 152, 2000, 152);
	put_origin(f, &a);
	put_origin(f, &b);
	struct raw_server s;
	raw_start(&s, RAW_REDIRECT);
	set_location(&s, "http://127.0.0.1:%u/%s", (unsigned)f->port, a.hex);
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/{hash}", (unsigned)s.port);
	struct media_cache_options o = { .url_template = url, .retry_min_us = 60 * USEC_PER_SEC };
	start_cache_opts(f, &o);
	struct mfile *files[] = { &a };
	want(f, files, 1, NULL);
	wait_all_ready(f);
	assert_int_equal(hits(f), 1);

	set_location(&s, "file://%s/%s", f->origin, b.hex);
	struct mfile *both[] = { &a, &b };
	want(f, both, 2, NULL);
	wait_failures(f, 1);
	int64_t id;
	char why[REASON_LEN];
	failure_reason(f, 0, &id, why, sizeof(why));
	assert_int_equal(id, 152);
	assert_false(file_exists(f->cache_dir, b.hex));

	/* A redirect loop ends. */
	media_cache_free(f->cache);
	f->cache = NULL;
	set_location(&s, "http://127.0.0.1:%u/loop", (unsigned)s.port);
	start_cache_opts(f, &o);
	want(f, both, 2, NULL);
	wait_failures(f, 2);
	failure_reason(f, 1, &id, why, sizeof(why));
	assert_int_equal(id, 152);
	if (!strstr(why, "edirect"))
		fail_msg("reason \"%s\", expected too many redirects", why);

	media_cache_free(f->cache);
	f->cache = NULL;
	raw_stop(&s);
	mfile_release(&a);
	mfile_release(&b);
}

static void test_file_urls(void **state)
{
	struct fixture *f = *state;
	struct mfile a, b, missing;
	mfile_make(&a, 7, 3000, 131);
	mfile_make(&b, 8, 3000, 132);
	mfile_make(&missing, 9, 3000, 133);
	write_file(f->origin, "7.bin", a.data, a.len);
	/* b's file holds the wrong bytes. */
	write_file(f->origin, "8.bin", missing.data, missing.len);
	char url[512];
	snprintf(url, sizeof(url), "file://%s/{id}.bin", f->origin);
	struct media_cache_options o = { .url_template = url, .retry_min_us = 60 * USEC_PER_SEC };
	start_cache_opts(f, &o);
	struct mfile *files[] = { &a, &b, &missing };
	want(f, files, 3, NULL);

	assert_int_equal(media_cache_wait_ready(f->cache, time_now_us() + 500 * USEC_PER_MSEC,
						WAIT_US), 0);
	char path[512];
	assert_int_equal(media_cache_path(f->cache, a.hash, path, sizeof(path)), 0);
	assert_same_file(path, &a);

	wait_failures(f, 2);
	for (int i = 0; i < 2; i++) {
		int64_t id;
		char why[REASON_LEN];
		failure_reason(f, i, &id, why, sizeof(why));
		if (id == 8)
			assert_string_equal(why, "sha256 mismatch");
		else if (id == 9)
			assert_non_null(strstr(why, "9.bin"));
		else
			fail_msg("failure for media %lld: %s", (long long)id, why);
	}
	assert_int_equal(count_parts(f->cache_dir), 0);
	mfile_release(&a);
	mfile_release(&b);
	mfile_release(&missing);
}

static void test_bad_arguments(void **state)
{
	struct fixture *f = *state;
	struct media_cache *c = NULL;
	struct media_cache_options o = { .dir = f->cache_dir, .url_template = "http://x/{hash}" };

	assert_int_equal(media_cache_new(&c, NULL), -EINVAL);
	o.url_template = NULL;
	assert_int_equal(media_cache_new(&c, &o), -EINVAL);
	o.url_template = "ftp://x/{hash}";
	assert_int_equal(media_cache_new(&c, &o), -EINVAL);
	o.url_template = "/files/{hash}";
	assert_int_equal(media_cache_new(&c, &o), -EINVAL);
	char long_url[3000];
	memset(long_url, 'a', sizeof(long_url) - 1);
	memcpy(long_url, "http://", 7);
	long_url[sizeof(long_url) - 1] = '\0';
	o.url_template = long_url;
	assert_int_equal(media_cache_new(&c, &o), -EINVAL);
	o.url_template = "https://x/{hash}";
	o.bearer_token = "a\r\nX-Evil: 1";
	assert_int_equal(media_cache_new(&c, &o), -EINVAL);
	o.bearer_token = NULL;
	o.timeout_us = -1;
	assert_int_equal(media_cache_new(&c, &o), -EINVAL);
	o.timeout_us = 0;
	o.dir = NULL;
	assert_int_equal(media_cache_new(&c, &o), -EINVAL);
	char file_dir[512];
	snprintf(file_dir, sizeof(file_dir), "%s/a-file", f->base);
	write_file(f->base, "a-file", "x", 1);
	o.dir = file_dir;
	assert_int_equal(media_cache_new(&c, &o), -ENOTDIR);
	assert_null(c);
	media_cache_free(NULL);

	/* Want lists with a bad entry are refused whole. */
	start_cache(f);
	struct mfile good;
	mfile_make(&good, 1, 10, 141);
	struct proto_media bad = good.m;
	struct media_cache_want w[2] = { { &good.m, 0 }, { &bad, 0 } };
	char hash[80];
	static const char *const bad_hashes[] = {
		"sha256:0123",
		"md5:0123456789abcdef0123456789abcdef",
		"sha256:zz23456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
	};
	for (size_t i = 0; i < sizeof(bad_hashes) / sizeof(bad_hashes[0]); i++) {
		snprintf(hash, sizeof(hash), "%s", bad_hashes[i]);
		bad.hash = hash;
		assert_int_equal(media_cache_want(f->cache, w, 2), -EINVAL);
	}
	bad.hash = NULL;
	assert_int_equal(media_cache_want(f->cache, w, 2), -EINVAL);
	bad = good.m;
	bad.size = 0;
	assert_int_equal(media_cache_want(f->cache, w, 2), -EINVAL);
	w[1].media = NULL;
	assert_int_equal(media_cache_want(f->cache, w, 2), -EINVAL);
	assert_int_equal(media_cache_want(f->cache, NULL, 1), -EINVAL);
	struct media_cache_stats st;
	media_cache_get_stats(f->cache, &st);
	assert_int_equal(st.wanted, 0);
	mfile_release(&good);
}

int main(void)
{
	if (sodium_init() < 0)
		return 1;
	curl_global_init(CURL_GLOBAL_DEFAULT);
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_download_verify_path),
		T(test_wrong_hash_then_fixed),
		T(test_wrong_size),
		T(test_max_file_size),
		T(test_not_found),
		T(test_server_down_then_up),
		T(test_nearest_first),
		T(test_evict),
		T(test_stale_parts_removed),
		T(test_verify_corrupt),
		T(test_free_during_slow_download),
		T(test_timeout),
		T(test_request_form),
		T(test_redirects),
		T(test_file_urls),
		T(test_bad_arguments),
	};
#undef T
	int r = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return r;
}
