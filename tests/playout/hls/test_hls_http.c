/*
 * test_hls_http.c - the HLS file server, end to end over HTTP on
 * 127.0.0.1 with libcurl as the client.
 */
#define _XOPEN_SOURCE 700
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>

#include "common/buf.h"
#include "playout/hls_http.h"

#define SEG_SIZE 1000
#define HOOK_MAX 64
#define MANY_CLIENTS 300

struct hook_log {
	pthread_mutex_t lock;
	int n;
	char clients[HOOK_MAX][64];
	char names[HOOK_MAX][64];
};

struct fixture {
	char base[256];
	char www[300];
	struct hls_http *server;
	uint16_t port;
	struct hook_log hooks;
	char seg[SEG_SIZE];
};

struct reply {
	long status;
	long connects;
	struct buf body;
	struct buf headers;
};

static void on_segment(void *userdata, const char *client, const char *name)
{
	struct hook_log *log = userdata;
	pthread_mutex_lock(&log->lock);
	if (log->n < HOOK_MAX) {
		snprintf(log->clients[log->n], sizeof(log->clients[0]), "%s", client);
		snprintf(log->names[log->n], sizeof(log->names[0]), "%s", name);
	}
	log->n++;
	pthread_mutex_unlock(&log->lock);
}

static int hook_count(struct fixture *f)
{
	pthread_mutex_lock(&f->hooks.lock);
	int n = f->hooks.n;
	pthread_mutex_unlock(&f->hooks.lock);
	return n;
}

static void write_file(const char *dir, const char *name, const void *data, size_t len)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void rm_rf(const char *path)
{
	nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

#define FDS_MAX 1024

struct fd_snapshot {
	int n;
	char fds[FDS_MAX][80];	/* "<number> <target>", target cut at 63 */
};

/* The open descriptors with what they point to (a socket's target names
 * its inode, so a reused number shows as different). */
static void snapshot_fds(struct fd_snapshot *s)
{
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	int self = dirfd(d);
	s->n = 0;
	struct dirent *e;
	while ((e = readdir(d)) && s->n < FDS_MAX) {
		if (e->d_name[0] == '.' || atoi(e->d_name) == self)
			continue;
		char path[300], target[64] = "";
		snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
		ssize_t n = readlink(path, target, sizeof(target) - 1);
		if (n < 0)
			continue;	/* closed meanwhile */
		target[n] = '\0';
		snprintf(s->fds[s->n++], sizeof(s->fds[0]), "%.12s %s", e->d_name, target);
	}
	closedir(d);
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	const char *tmp = getenv("TMPDIR");
	snprintf(f->base, sizeof(f->base), "%s/onair-hls-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	assert_non_null(mkdtemp(f->base));
	snprintf(f->www, sizeof(f->www), "%s/www", f->base);
	assert_int_equal(mkdir(f->www, 0755), 0);

	for (size_t i = 0; i < SEG_SIZE; i++)
		f->seg[i] = (char)('A' + i % 26);
	const char *playlist = "#EXTM3U\n#EXT-X-VERSION:3\n#EXTINF:2.0,\nseg1.ts\n";
	write_file(f->www, "live.m3u8", playlist, strlen(playlist));
	write_file(f->www, "seg1.ts", f->seg, SEG_SIZE);
	write_file(f->www, "a.aac", "aac", 3);
	write_file(f->www, "b.m4s", "m4s", 3);
	write_file(f->www, "init.mp4", "mp4", 3);
	write_file(f->www, "plain_file-1", "plain", 5);
	write_file(f->www, "a..b", "dots", 4);
	write_file(f->www, ".hidden", "hidden", 6);
	write_file(f->www, "empty.ts", "", 0);
	write_file(f->base, "outside.txt", "SECRET", 6);

	char path[512];
	snprintf(path, sizeof(path), "%s/sub", f->www);
	assert_int_equal(mkdir(path, 0755), 0);
	write_file(path, "x", "x", 1);
	snprintf(path, sizeof(path), "%s/link.ts", f->www);
	assert_int_equal(symlink("../outside.txt", path), 0);
	snprintf(path, sizeof(path), "%s/fifo.ts", f->www);
	assert_int_equal(mkfifo(path, 0644), 0);

	pthread_mutex_init(&f->hooks.lock, NULL);
	struct hls_http_options o = {
		.dir = f->www,
		.address = "127.0.0.1",
		.on_segment = on_segment,
		.userdata = &f->hooks,
	};
	assert_int_equal(hls_http_start(&f->server, &o), 0);
	f->port = hls_http_port(f->server);
	assert_true(f->port > 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	hls_http_stop(f->server);
	pthread_mutex_destroy(&f->hooks.lock);
	rm_rf(f->base);
	free(f);
	return 0;
}

static size_t collect(char *ptr, size_t size, size_t nmemb, void *arg)
{
	struct buf *b = arg;
	return buf_append(b, ptr, size * nmemb) == 0 ? size * nmemb : 0;
}

static void reply_init(struct reply *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body, 1 << 20);
	buf_init(&r->headers, 1 << 16);
}

static void reply_release(struct reply *r)
{
	buf_release(&r->body);
	buf_release(&r->headers);
}

/* Value of the last header called name in r (case-insensitive), or NULL. */
static const char *header(struct reply *r, const char *name, char *out, size_t size)
{
	const char *found = NULL;
	size_t nlen = strlen(name);
	for (const char *line = r->headers.data; line && *line;) {
		const char *eol = strstr(line, "\r\n");
		size_t len = eol ? (size_t)(eol - line) : strlen(line);
		if (len > nlen && strncasecmp(line, name, nlen) == 0 && line[nlen] == ':') {
			const char *v = line + nlen + 1;
			while (*v == ' ')
				v++;
			snprintf(out, size, "%.*s", (int)(len - (size_t)(v - line)), v);
			found = out;
		}
		line = eol ? eol + 2 : NULL;
	}
	return found;
}

/*
 * One request on curl (reused, so connections are kept). method NULL is
 * GET; path is sent as is (no "../" squashing); range and body optional.
 */
static void request(struct fixture *f, CURL *curl, const char *method, const char *path,
		    const char *range, const char *body, struct reply *r)
{
	char url[512];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", (unsigned)f->port, path);
	char range_header[128];
	struct curl_slist *headers = NULL;
	if (range) {
		snprintf(range_header, sizeof(range_header), "Range: %s", range);
		headers = curl_slist_append(headers, range_header);
	}
	curl_easy_reset(curl);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_HEADERDATA, &r->headers);
	if (headers)
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
	if (method && strcmp(method, "HEAD") == 0)
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	else if (method && strcmp(method, "POST") == 0)
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body ? body : "");
	else if (method)
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
	CURLcode res = curl_easy_perform(curl);
	if (res != CURLE_OK)
		fail_msg("%s %s: %s", method ? method : "GET", path, curl_easy_strerror(res));
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(curl, CURLINFO_NUM_CONNECTS, &r->connects);
	curl_slist_free_all(headers);
}

/* GET path on a fresh connection; returns the status, body in r. */
static long get(struct fixture *f, const char *path, const char *range, struct reply *r)
{
	CURL *curl = curl_easy_init();
	assert_non_null(curl);
	request(f, curl, NULL, path, range, NULL, r);
	curl_easy_cleanup(curl);
	return r->status;
}

static void test_content_types(void **state)
{
	struct fixture *f = *state;
	static const struct {
		const char *path;
		const char *type;
		const char *cache;	/* NULL: no Cache-Control */
	} cases[] = {
		{ "/live.m3u8", "application/vnd.apple.mpegurl", "no-cache" },
		{ "/seg1.ts", "video/mp2t", "max-age=60" },
		{ "/a.aac", "audio/aac", "max-age=60" },
		{ "/b.m4s", "video/iso.segment", "max-age=60" },
		{ "/init.mp4", "audio/mp4", "max-age=60" },
		{ "/plain_file-1", "application/octet-stream", NULL },
		{ "/hls/live.m3u8", "application/vnd.apple.mpegurl", "no-cache" },
		{ "/hls/seg1.ts", "video/mp2t", "max-age=60" },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct reply r;
		char v[256];
		reply_init(&r);
		if (get(f, cases[i].path, NULL, &r) != 200)
			fail_msg("%s: status %ld", cases[i].path, r.status);
		assert_non_null(header(&r, "Content-Type", v, sizeof(v)));
		assert_string_equal(v, cases[i].type);
		if (cases[i].cache) {
			assert_non_null(header(&r, "Cache-Control", v, sizeof(v)));
			assert_string_equal(v, cases[i].cache);
		} else {
			assert_null(header(&r, "Cache-Control", v, sizeof(v)));
		}
		assert_non_null(header(&r, "Access-Control-Allow-Origin", v, sizeof(v)));
		assert_string_equal(v, "*");
		assert_non_null(header(&r, "Accept-Ranges", v, sizeof(v)));
		assert_string_equal(v, "bytes");
		reply_release(&r);
	}

	struct reply r;
	reply_init(&r);
	assert_int_equal(get(f, "/seg1.ts", NULL, &r), 200);
	assert_int_equal(r.body.len, SEG_SIZE);
	assert_memory_equal(r.body.data, f->seg, SEG_SIZE);
	reply_release(&r);

	/* An empty file is served as such. */
	reply_init(&r);
	assert_int_equal(get(f, "/empty.ts", NULL, &r), 200);
	assert_int_equal(r.body.len, 0);
	reply_release(&r);
}

static void test_not_found(void **state)
{
	struct fixture *f = *state;
	static const char *const paths[] = {
		"/../outside.txt",
		"/%2e%2e/outside.txt",
		"/%2E%2E%2Foutside.txt",
		"/..%2foutside.txt",
		"/hls/../outside.txt",
		"/hls/%2e%2e/outside.txt",
		"/a/b",
		"/sub/x",
		"/sub",
		"/sub/",
		"/.hidden",
		"/hls/.hidden",
		"/%2ehidden",
		"/bad$name.ts",
		"/with%20space.ts",
		"/semi;colon.ts",
		"/tilde~.ts",
		"/seg1.ts%00.m3u8",
		"/seg1.ts%00",
		"/link.ts",
		"/fifo.ts",
		"/missing.ts",
		"/a..b",
		"/",
		"/hls/",
		"/hls",
		"//seg1.ts",
		"/seg1.ts/",
		"/hls/hls/seg1.ts",
		"/other/seg1.ts",
		"/%2fseg1.ts",
		"/seg1.ts%2f",
	};
	CURL *curl = curl_easy_init();
	assert_non_null(curl);
	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		struct reply r;
		reply_init(&r);
		request(f, curl, NULL, paths[i], NULL, NULL, &r);
		if (r.status != 404)
			fail_msg("%s: status %ld, expected 404", paths[i], r.status);
		if (strstr(r.body.data, "SECRET"))
			fail_msg("%s: served the file outside the directory", paths[i]);
		char v[64];
		assert_non_null(header(&r, "Access-Control-Allow-Origin", v, sizeof(v)));
		reply_release(&r);
	}
	curl_easy_cleanup(curl);

	/* Percent-encoded plain characters are fine. */
	struct reply r;
	reply_init(&r);
	assert_int_equal(get(f, "/%73eg1.ts", NULL, &r), 200);
	assert_int_equal(r.body.len, SEG_SIZE);
	reply_release(&r);
}

static void check_range(struct fixture *f, const char *path, const char *range, long status,
			const char *content_range, size_t first, size_t len)
{
	struct reply r;
	char v[128];
	reply_init(&r);
	get(f, path, range, &r);
	if (r.status != status)
		fail_msg("Range %s: status %ld, expected %ld", range, r.status, status);
	if (content_range) {
		if (!header(&r, "Content-Range", v, sizeof(v)))
			fail_msg("Range %s: no Content-Range", range);
		assert_string_equal(v, content_range);
	} else {
		assert_null(header(&r, "Content-Range", v, sizeof(v)));
	}
	if (status != 416) {
		if (r.body.len != len)
			fail_msg("Range %s: %zu bytes, expected %zu", range, r.body.len, len);
		assert_memory_equal(r.body.data, f->seg + first, len);
	}
	reply_release(&r);
}

static void test_range(void **state)
{
	struct fixture *f = *state;
	check_range(f, "/seg1.ts", "bytes=2-5", 206, "bytes 2-5/1000", 2, 4);
	check_range(f, "/seg1.ts", "bytes=0-0", 206, "bytes 0-0/1000", 0, 1);
	check_range(f, "/seg1.ts", "bytes=990-", 206, "bytes 990-999/1000", 990, 10);
	check_range(f, "/seg1.ts", "bytes=-3", 206, "bytes 997-999/1000", 997, 3);
	check_range(f, "/seg1.ts", "bytes=-5000", 206, "bytes 0-999/1000", 0, 1000);
	check_range(f, "/seg1.ts", "bytes=995-2000", 206, "bytes 995-999/1000", 995, 5);
	check_range(f, "/seg1.ts", "bytes=999-999", 206, "bytes 999-999/1000", 999, 1);
	check_range(f, "/seg1.ts", "bytes=1000-", 416, "bytes */1000", 0, 0);
	check_range(f, "/seg1.ts", "bytes=1000-1005", 416, "bytes */1000", 0, 0);
	check_range(f, "/seg1.ts", "bytes=99999999999999999999999-", 416, "bytes */1000", 0, 0);
	check_range(f, "/seg1.ts", "bytes=-0", 416, "bytes */1000", 0, 0);
	check_range(f, "/empty.ts", "bytes=0-", 416, "bytes */0", 0, 0);
	/* Not a single valid byte range: ignored, the whole file. */
	check_range(f, "/seg1.ts", "bytes=5-2", 200, NULL, 0, SEG_SIZE);
	check_range(f, "/seg1.ts", "bytes=0-1,5-6", 200, NULL, 0, SEG_SIZE);
	check_range(f, "/seg1.ts", "items=0-1", 200, NULL, 0, SEG_SIZE);
	check_range(f, "/seg1.ts", "bytes=abc", 200, NULL, 0, SEG_SIZE);
	check_range(f, "/seg1.ts", "bytes=-", 200, NULL, 0, SEG_SIZE);
}

static void test_head(void **state)
{
	struct fixture *f = *state;
	int hooks = hook_count(f);
	CURL *curl = curl_easy_init();
	assert_non_null(curl);
	struct reply r;
	char v[64];
	reply_init(&r);
	request(f, curl, "HEAD", "/seg1.ts", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 0);
	assert_non_null(header(&r, "Content-Length", v, sizeof(v)));
	assert_string_equal(v, "1000");
	assert_non_null(header(&r, "Content-Type", v, sizeof(v)));
	assert_string_equal(v, "video/mp2t");
	reply_release(&r);

	reply_init(&r);
	request(f, curl, "HEAD", "/missing.ts", NULL, NULL, &r);
	assert_int_equal(r.status, 404);
	reply_release(&r);

	reply_init(&r);
	request(f, curl, "HEAD", "/seg1.ts", "bytes=10-19", NULL, &r);
	assert_int_equal(r.status, 206);
	assert_non_null(header(&r, "Content-Length", v, sizeof(v)));
	assert_string_equal(v, "10");
	assert_non_null(header(&r, "Content-Range", v, sizeof(v)));
	assert_string_equal(v, "bytes 10-19/1000");
	reply_release(&r);
	curl_easy_cleanup(curl);
	assert_int_equal(hook_count(f), hooks);
}

static void test_methods(void **state)
{
	struct fixture *f = *state;
	static const char *const methods[] = { "POST", "PUT", "DELETE", "PATCH", "BREW" };
	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++) {
		CURL *curl = curl_easy_init();
		assert_non_null(curl);
		struct reply r;
		char v[64];
		reply_init(&r);
		request(f, curl, methods[i], "/seg1.ts", NULL, "a=1&b=2", &r);
		if (r.status != 405)
			fail_msg("%s: status %ld, expected 405", methods[i], r.status);
		assert_non_null(header(&r, "Allow", v, sizeof(v)));
		assert_string_equal(v, "GET, HEAD, OPTIONS");
		reply_release(&r);
		curl_easy_cleanup(curl);
	}

	CURL *curl = curl_easy_init();
	assert_non_null(curl);
	struct reply r;
	char v[64];
	reply_init(&r);
	request(f, curl, "OPTIONS", "/seg1.ts", NULL, NULL, &r);
	assert_int_equal(r.status, 204);
	assert_non_null(header(&r, "Access-Control-Allow-Origin", v, sizeof(v)));
	assert_string_equal(v, "*");
	assert_non_null(header(&r, "Access-Control-Allow-Methods", v, sizeof(v)));
	assert_string_equal(v, "GET, HEAD, OPTIONS");
	assert_non_null(header(&r, "Access-Control-Allow-Headers", v, sizeof(v)));
	assert_string_equal(v, "Range");
	reply_release(&r);
	curl_easy_cleanup(curl);
}

static void test_keep_alive(void **state)
{
	struct fixture *f = *state;
	CURL *curl = curl_easy_init();
	assert_non_null(curl);
	static const struct {
		const char *method;
		const char *path;
		const char *range;
		long status;
	} seq[] = {
		{ NULL, "/seg1.ts", NULL, 200 },
		{ NULL, "/live.m3u8", NULL, 200 },
		{ NULL, "/missing.ts", NULL, 404 },
		{ NULL, "/seg1.ts", "bytes=1-2", 206 },
		{ NULL, "/seg1.ts", "bytes=5000-", 416 },
		{ "HEAD", "/seg1.ts", NULL, 200 },
		{ "OPTIONS", "/seg1.ts", NULL, 204 },
		{ NULL, "/seg1.ts", NULL, 200 },
	};
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		struct reply r;
		reply_init(&r);
		request(f, curl, seq[i].method, seq[i].path, seq[i].range, NULL, &r);
		assert_int_equal(r.status, seq[i].status);
		if (i == 0 && r.connects != 1)
			fail_msg("first request: %ld new connections", r.connects);
		if (i > 0 && r.connects != 0)
			fail_msg("request %zu (%s): opened a new connection (keep-alive lost)",
				 i, seq[i].path);
		reply_release(&r);
	}
	curl_easy_cleanup(curl);
}

static void test_segment_hook(void **state)
{
	struct fixture *f = *state;
	pthread_mutex_lock(&f->hooks.lock);
	f->hooks.n = 0;
	pthread_mutex_unlock(&f->hooks.lock);

	struct reply r;
	reply_init(&r);
	assert_int_equal(get(f, "/seg1.ts", NULL, &r), 200);
	reply_release(&r);
	reply_init(&r);
	assert_int_equal(get(f, "/live.m3u8", NULL, &r), 200);
	reply_release(&r);
	reply_init(&r);
	assert_int_equal(get(f, "/missing.ts", NULL, &r), 404);
	reply_release(&r);
	reply_init(&r);
	assert_int_equal(get(f, "/seg1.ts", "bytes=500-", &r), 206);
	reply_release(&r);
	reply_init(&r);
	assert_int_equal(get(f, "/hls/a.aac", "bytes=0-1", &r), 206);
	reply_release(&r);

	/* The hook runs before the answer is sent, so it is seen by now. */
	pthread_mutex_lock(&f->hooks.lock);
	assert_int_equal(f->hooks.n, 2);
	assert_string_equal(f->hooks.clients[0], "127.0.0.1");
	assert_string_equal(f->hooks.names[0], "seg1.ts");
	assert_string_equal(f->hooks.clients[1], "127.0.0.1");
	assert_string_equal(f->hooks.names[1], "a.aac");
	pthread_mutex_unlock(&f->hooks.lock);
}

/* More simultaneous clients than one poll thread handled well. */
static void test_many_clients(void **state)
{
	struct fixture *f = *state;
	CURLM *multi = curl_multi_init();
	assert_non_null(multi);
	CURL *easy[MANY_CLIENTS];
	struct buf bodies[MANY_CLIENTS];
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/seg1.ts", (unsigned)f->port);
	for (int i = 0; i < MANY_CLIENTS; i++) {
		easy[i] = curl_easy_init();
		assert_non_null(easy[i]);
		buf_init(&bodies[i], 4096);
		curl_easy_setopt(easy[i], CURLOPT_URL, url);
		curl_easy_setopt(easy[i], CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(easy[i], CURLOPT_TIMEOUT, 60L);
		curl_easy_setopt(easy[i], CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(easy[i], CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(easy[i], CURLOPT_WRITEDATA, &bodies[i]);
		curl_multi_add_handle(multi, easy[i]);
	}
	int running = 1;
	while (running) {
		assert_int_equal(curl_multi_perform(multi, &running), CURLM_OK);
		if (running)
			curl_multi_poll(multi, NULL, 0, 1000, NULL);
	}
	int ok = 0;
	CURLMsg *msg;
	int left;
	CURLcode results[MANY_CLIENTS];
	for (int i = 0; i < MANY_CLIENTS; i++)
		results[i] = CURLE_OK;
	while ((msg = curl_multi_info_read(multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		long status = 0;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
		for (int i = 0; i < MANY_CLIENTS; i++)
			if (easy[i] == msg->easy_handle)
				results[i] = msg->data.result;
		if (msg->data.result == CURLE_OK && status == 200)
			ok++;
	}
	for (int i = 0; i < MANY_CLIENTS; i++) {
		if (bodies[i].len != SEG_SIZE)
			fail_msg("client %d got %zu bytes (curl: %s)", i, bodies[i].len,
				 curl_easy_strerror(results[i]));
		curl_multi_remove_handle(multi, easy[i]);
		curl_easy_cleanup(easy[i]);
		buf_release(&bodies[i]);
	}
	curl_multi_cleanup(multi);
	assert_int_equal(ok, MANY_CLIENTS);
}

static void test_start_errors(void **state)
{
	struct fixture *f = *state;
	struct hls_http *h = NULL;
	struct hls_http_options o = { .dir = f->www, .address = "127.0.0.1" };

	assert_int_equal(hls_http_start(&h, NULL), -EINVAL);
	o.address = NULL;
	assert_int_equal(hls_http_start(&h, &o), -EINVAL);
	o.address = "localhost";
	assert_int_equal(hls_http_start(&h, &o), -EINVAL);
	o.address = "127.0.0.1";
	o.dir = NULL;
	assert_int_equal(hls_http_start(&h, &o), -EINVAL);
	char missing[512];
	snprintf(missing, sizeof(missing), "%s/nope", f->base);
	o.dir = missing;
	assert_int_equal(hls_http_start(&h, &o), -ENOENT);
	o.dir = f->www;
	o.port = f->port;
	assert_int_equal(hls_http_start(&h, &o), -EADDRINUSE);
	assert_null(h);
	hls_http_stop(NULL);
}

static bool can_connect(uint16_t port)
{
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(port) };
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	bool ok = connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(fd);
	return ok;
}

/* Start and stop leave no descriptor behind and free the port. */
static void test_stop_releases(void **state)
{
	struct fixture *f = *state;
	/* Compare the sets, not the counts: the fixture's server may still
	 * be closing connections of earlier tests. */
	struct fd_snapshot before;
	snapshot_fds(&before);
	for (int i = 0; i < 3; i++) {
		struct hls_http *h = NULL;
		struct hls_http_options o = { .dir = f->www, .address = "127.0.0.1" };
		assert_int_equal(hls_http_start(&h, &o), 0);
		uint16_t port = hls_http_port(h);
		assert_true(can_connect(port));
		hls_http_stop(h);
		assert_false(can_connect(port));
	}
	/* A failed start too. */
	struct hls_http *h = NULL;
	struct hls_http_options o = { .dir = f->www, .address = "127.0.0.1", .port = f->port };
	assert_int_equal(hls_http_start(&h, &o), -EADDRINUSE);
	struct fd_snapshot after;
	snapshot_fds(&after);
	for (int i = 0; i < after.n; i++) {
		bool found = false;
		for (int j = 0; j < before.n && !found; j++)
			found = strcmp(after.fds[i], before.fds[j]) == 0;
		if (!found)
			fail_msg("descriptor left open: %s", after.fds[i]);
	}
}

static void test_ipv6(void **state)
{
	struct fixture *f = *state;
	struct hls_http *h = NULL;
	struct hls_http_options o = { .dir = f->www, .address = "::1" };
	int r = hls_http_start(&h, &o);
	if (r == -EADDRNOTAVAIL || r == -EAFNOSUPPORT) {
		skip();
		return;
	}
	assert_int_equal(r, 0);
	CURL *curl = curl_easy_init();
	assert_non_null(curl);
	char url[128];
	snprintf(url, sizeof(url), "http://[::1]:%u/seg1.ts", (unsigned)hls_http_port(h));
	struct buf body;
	buf_init(&body, 4096);
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
	assert_int_equal(curl_easy_perform(curl), CURLE_OK);
	long status = 0;
	curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
	assert_int_equal(status, 200);
	assert_int_equal(body.len, SEG_SIZE);
	buf_release(&body);
	curl_easy_cleanup(curl);
	hls_http_stop(h);
}

int main(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_content_types),
		cmocka_unit_test(test_not_found),
		cmocka_unit_test(test_range),
		cmocka_unit_test(test_head),
		cmocka_unit_test(test_methods),
		cmocka_unit_test(test_keep_alive),
		cmocka_unit_test(test_segment_hook),
		cmocka_unit_test(test_many_clients),
		cmocka_unit_test(test_start_errors),
		cmocka_unit_test(test_stop_releases),
		cmocka_unit_test(test_ipv6),
	};
	int r = cmocka_run_group_tests(tests, setup, teardown);
	curl_global_cleanup();
	return r;
}
