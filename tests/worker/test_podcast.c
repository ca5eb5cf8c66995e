/*
 * test_podcast.c - polling and ingest against a loopback HTTP server run
 * by the test (plain sockets on 127.0.0.1): conditional GETs and 304,
 * redirects, 404 and 503, a slow answer, an enclosure over the limit
 * (announced and not), a connection dropped mid-way, a body that is not
 * audio. Episodes are MP3 tones made with ffmpeg at start. Tasks go to a
 * real nats-server (harness) and are read back from ONAIR_TASKS. Runs on
 * the backend named in argv[1] (sqlite or postgres).
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "common/buf.h"
#include "common/fsutil.h"
#include "common/timeutil.h"
#include "harness.h"
#include "mq/mq.h"
#include "protocol/protocol.h"
#include "station_fixture.h"
#include "storage/storage.h"
#include "worker/podcast.h"

/* ------------------------------------------------------------ HTTP server */

#define MAX_FEEDS 8
#define MAX_PATHS 64

struct served_feed {
	char name[32];
	struct buf body;
	char etag[64];
	char last_modified[64];
};

static struct {
	pthread_mutex_t lock;
	int fd;
	int port;
	pthread_t thread;
	atomic_bool stop;
	struct served_feed feeds[MAX_FEEDS];
	struct {
		char path[128];
		int hits;
	} paths[MAX_PATHS];
	char last_inm[128];	/* If-None-Match of the last feed request */
	char last_ims[128];	/* If-Modified-Since */
	struct buf mp3a, mp3b;
} srv = { .lock = PTHREAD_MUTEX_INITIALIZER };

static void send_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static void respond(int fd, int status, const char *extra_headers, const void *body, size_t len)
{
	char head[1024];
	int n = snprintf(head, sizeof(head),
			 "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n%s\r\n",
			 status, len, extra_headers ? extra_headers : "");
	send_all(fd, head, (size_t)n);
	if (len)
		send_all(fd, body, len);
}

/* The value of header name in the request head req, into out. */
static void header_value(const char *req, const char *name, char *out, size_t size)
{
	out[0] = '\0';
	size_t nl = strlen(name);
	for (const char *line = strstr(req, "\r\n"); line; line = strstr(line + 2, "\r\n")) {
		const char *h = line + 2;
		if (strncasecmp(h, name, nl) == 0 && h[nl] == ':') {
			const char *v = h + nl + 1;
			while (*v == ' ')
				v++;
			size_t vl = strcspn(v, "\r\n");
			snprintf(out, size, "%.*s", (int)vl, v);
			return;
		}
	}
}

static void count_hit(const char *path)
{
	for (int i = 0; i < MAX_PATHS; i++) {
		if (srv.paths[i].path[0] == '\0') {
			snprintf(srv.paths[i].path, sizeof(srv.paths[i].path), "%.127s", path);
			srv.paths[i].hits = 1;
			return;
		}
		if (strcmp(srv.paths[i].path, path) == 0) {
			srv.paths[i].hits++;
			return;
		}
	}
}

static int hits(const char *path)
{
	pthread_mutex_lock(&srv.lock);
	int n = 0;
	for (int i = 0; i < MAX_PATHS; i++)
		if (strcmp(srv.paths[i].path, path) == 0)
			n = srv.paths[i].hits;
	pthread_mutex_unlock(&srv.lock);
	return n;
}

static void serve_feed(int fd, const char *name, const char *req)
{
	pthread_mutex_lock(&srv.lock);
	struct served_feed *f = NULL;
	for (int i = 0; i < MAX_FEEDS; i++)
		if (strcmp(srv.feeds[i].name, name) == 0)
			f = &srv.feeds[i];
	header_value(req, "If-None-Match", srv.last_inm, sizeof(srv.last_inm));
	header_value(req, "If-Modified-Since", srv.last_ims, sizeof(srv.last_ims));
	if (!f) {
		pthread_mutex_unlock(&srv.lock);
		respond(fd, 404, NULL, "no", 2);
		return;
	}
	char headers[512] = "Content-Type: application/rss+xml\r\n";
	size_t hl = strlen(headers);
	if (f->etag[0])
		hl += (size_t)snprintf(headers + hl, sizeof(headers) - hl, "ETag: %s\r\n", f->etag);
	if (f->last_modified[0])
		snprintf(headers + hl, sizeof(headers) - hl, "Last-Modified: %s\r\n",
			 f->last_modified);
	if (f->etag[0] && strcmp(srv.last_inm, f->etag) == 0)
		respond(fd, 304, headers, NULL, 0);
	else
		respond(fd, 200, headers, f->body.data, f->body.len);
	pthread_mutex_unlock(&srv.lock);
}

static void handle(int fd)
{
	char req[16384];
	size_t len = 0;
	while (len + 1 < sizeof(req)) {
		ssize_t n = recv(fd, req + len, sizeof(req) - 1 - len, 0);
		if (n <= 0)
			return;
		len += (size_t)n;
		req[len] = '\0';
		if (strstr(req, "\r\n\r\n"))
			break;
	}
	char path[256];
	if (sscanf(req, "GET %255s ", path) != 1)
		return;
	pthread_mutex_lock(&srv.lock);
	count_hit(path);
	pthread_mutex_unlock(&srv.lock);

	if (strncmp(path, "/feeds/", 7) == 0) {
		serve_feed(fd, path + 7, req);
	} else if (strncmp(path, "/r/", 3) == 0) {
		char loc[300];
		snprintf(loc, sizeof(loc), "Location: /%.250s\r\n", path + 3);
		respond(fd, 302, loc, NULL, 0);
	} else if (strcmp(path, "/loop") == 0) {
		respond(fd, 302, "Location: /loop\r\n", NULL, 0);
	} else if (strcmp(path, "/ftp") == 0) {
		respond(fd, 302, "Location: ftp://127.0.0.1:1/x.mp3\r\n", NULL, 0);
	} else if (strncmp(path, "/status/", 8) == 0) {
		respond(fd, atoi(path + 8), "Content-Type: text/html\r\n", "<html>error</html>",
			18);
	} else if (strcmp(path, "/slow") == 0) {
		struct timespec ts = { 2, 500000000 };
		nanosleep(&ts, NULL);
		respond(fd, 200, NULL, "late", 4);
	} else if (strcmp(path, "/notfeed") == 0) {
		const char *html = "<html><body><p>Welcome</p></body></html>";
		respond(fd, 200, "Content-Type: text/html\r\n", html, strlen(html));
	} else if (strcmp(path, "/audio/a.mp3") == 0 || strcmp(path, "/audio/same-as-a") == 0) {
		respond(fd, 200, "Content-Type: audio/mpeg\r\n", srv.mp3a.data, srv.mp3a.len);
	} else if (strcmp(path, "/audio/b.mp3") == 0) {
		respond(fd, 200, "Content-Type: audio/mpeg\r\n", srv.mp3b.data, srv.mp3b.len);
	} else if (strcmp(path, "/audio/text.mp3") == 0) {
		const char *t = "this is not audio, only text that claims to be\n";
		respond(fd, 200, "Content-Type: audio/mpeg\r\n", t, strlen(t));
	} else if (strcmp(path, "/audio/big.mp3") == 0) {
		/* Announces 50 MB; sends a little and closes. */
		const char *h = "HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\n"
				"Content-Length: 50000000\r\nConnection: close\r\n\r\n";
		send_all(fd, h, strlen(h));
		send_all(fd, srv.mp3a.data, 1000);
	} else if (strcmp(path, "/audio/endless.mp3") == 0) {
		/* No length: 600 KB until the connection closes. */
		const char *h = "HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\n"
				"Connection: close\r\n\r\n";
		send_all(fd, h, strlen(h));
		char chunk[16384];
		memset(chunk, 0x55, sizeof(chunk));
		for (int i = 0; i < 600 * 1024 / (int)sizeof(chunk); i++)
			send_all(fd, chunk, sizeof(chunk));
	} else if (strcmp(path, "/audio/drop.mp3") == 0) {
		/* Announces the whole file, sends half, drops the connection. */
		char h[256];
		int n = snprintf(h, sizeof(h),
				 "HTTP/1.1 200 OK\r\nContent-Type: audio/mpeg\r\n"
				 "Content-Length: %zu\r\n\r\n", srv.mp3b.len);
		send_all(fd, h, (size_t)n);
		send_all(fd, srv.mp3b.data, srv.mp3b.len / 2);
	} else {
		respond(fd, 404, "Content-Type: text/html\r\n", "<html>404</html>", 16);
	}
}

static void *server_main(void *arg)
{
	while (!atomic_load(&srv.stop)) {
		struct pollfd p = { .fd = srv.fd, .events = POLLIN };
		if (poll(&p, 1, 100) <= 0)
			continue;
		int c = accept(srv.fd, NULL, NULL);
		if (c < 0)
			continue;
		handle(c);
		shutdown(c, SHUT_RDWR);
		close(c);
	}
	return NULL;
}

static int server_start(void)
{
	srv.fd = socket(AF_INET, SOCK_STREAM, 0);
	if (srv.fd < 0)
		return -errno;
	int one = 1;
	setsockopt(srv.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t al = sizeof(a);
	if (bind(srv.fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(srv.fd, 16) < 0 ||
	    getsockname(srv.fd, (struct sockaddr *)&a, &al) < 0)
		return -errno;
	srv.port = ntohs(a.sin_port);
	return pthread_create(&srv.thread, NULL, server_main, NULL) == 0 ? 0 : -EAGAIN;
}

static void server_stop(void)
{
	atomic_store(&srv.stop, true);
	pthread_join(srv.thread, NULL);
	close(srv.fd);
	for (int i = 0; i < MAX_FEEDS; i++)
		buf_release(&srv.feeds[i].body);
	buf_release(&srv.mp3a);
	buf_release(&srv.mp3b);
}

/* Serve body at /feeds/<name> with these validators ("" for none). */
static void set_feed(const char *name, const char *body, const char *etag,
		     const char *last_modified)
{
	pthread_mutex_lock(&srv.lock);
	struct served_feed *f = NULL;
	for (int i = 0; i < MAX_FEEDS && !f; i++)
		if (strcmp(srv.feeds[i].name, name) == 0 || srv.feeds[i].name[0] == '\0')
			f = &srv.feeds[i];
	assert_non_null(f);
	snprintf(f->name, sizeof(f->name), "%s", name);
	buf_release(&f->body);
	buf_init(&f->body, 1u << 24);
	buf_append_str(&f->body, body);
	snprintf(f->etag, sizeof(f->etag), "%s", etag);
	snprintf(f->last_modified, sizeof(f->last_modified), "%s", last_modified);
	pthread_mutex_unlock(&srv.lock);
}

static void url_of(char *out, size_t size, const char *path)
{
	snprintf(out, size, "http://127.0.0.1:%d%s", srv.port, path);
}

/* ------------------------------------------------------------ environment */

static struct harness_nats nats;
static struct mq *mq;
static struct mq_consumer *consumer;
static struct storage *st;
static char store_dir[256];
static int64_t clock_now = INT64_C(1893456000) * USEC_PER_SEC;	/* 2030-01-01 */

/* A "now" of its own for each test, so that task ids never repeat within
 * the queue's deduplication window. */
static int64_t next_now(void)
{
	clock_now += 10 * 24 * 3600 * USEC_PER_SEC;
	return clock_now;
}

/* Fetch every task waiting on ONAIR_TASKS (waiting up to wait_us for the
 * first), ack them, and decode them into out[0..max-1]. Their count. */
static size_t drain_tasks(struct proto_task *out, size_t max, int64_t wait_us)
{
	size_t got = 0;
	for (;;) {
		struct mq_msg *msgs[16];
		size_t n = 0;
		int64_t wait = got ? 300 * USEC_PER_MSEC : wait_us;
		int r = mq_consumer_fetch(consumer, msgs, 16, wait, &n);
		if (r < 0 || n == 0)
			break;
		for (size_t i = 0; i < n; i++) {
			struct proto_error perr;
			struct proto_task t;
			if (proto_task_decode(msgs[i]->data, msgs[i]->len, &t, &perr) == 0) {
				if (got < max)
					out[got] = t;
				else
					proto_task_release(&t);
				got++;
			}
			mq_msg_ack(msgs[i]);
			mq_msg_free(msgs[i]);
		}
	}
	return got < max ? got : max;
}

static void release_tasks(struct proto_task *t, size_t n)
{
	for (size_t i = 0; i < n; i++)
		proto_task_release(&t[i]);
}

static int setup(void **state)
{
	drain_tasks(NULL, 0, 50 * USEC_PER_MSEC);
	*state = fixture_db();
	return 0;
}

static int teardown(void **state)
{
	db_close(*state);
	return 0;
}

/* ------------------------------------------------------------- db helpers */

static int64_t add_podcast(struct db *db, const char *path, bool auto_ingest, bool tag_override,
			   const char *title)
{
	char url[256];
	url_of(url, sizeof(url), path);
	return fixture_int(db,
			   "INSERT INTO podcasts (url, title, auto_ingest, tag_override,"
			   " created_at, updated_at) VALUES ($1, $2, $3, $4, 0, 0) RETURNING id",
			   DB_PARAMS(DB_T(url), DB_T(title), DB_B(auto_ingest),
				     DB_B(tag_override)));
}

static int64_t add_episode(struct db *db, int64_t podcast, const char *guid, const char *title,
			   const char *path)
{
	char url[256];
	url_of(url, sizeof(url), path);
	return fixture_int(db,
			   "INSERT INTO podcast_episodes (podcast_id, guid, title, enclosure_url,"
			   " created_at) VALUES ($1, $2, $3, $4, 0) RETURNING id",
			   DB_PARAMS(DB_I(podcast), DB_T(guid), DB_T(title), DB_T(url)));
}

/* First column of the first row of sql as text (static buffer; "(null)"
 * for NULL, "(none)" for no row). */
static const char *text_of(struct db *db, const char *sql, const struct db_param *p, size_t n)
{
	static char out[4096];
	struct db_rows *rows;
	int r = db_query(db, sql, p, n, &rows);
	if (r < 0)
		fail_msg("%s: %d %s", sql, r, db_errmsg(db));
	snprintf(out, sizeof(out), "(none)");
	if (db_rows_next(rows)) {
		const char *t = db_col_text(rows, 0);
		snprintf(out, sizeof(out), "%s", t ? t : "(null)");
	}
	db_rows_free(rows);
	return out;
}

static const char *episode_status(struct db *db, int64_t episode)
{
	return text_of(db, "SELECT import_status FROM podcast_episodes WHERE id = $1",
		       DB_PARAMS(DB_I(episode)));
}

static int64_t count_files(struct db *db)
{
	return fixture_int(db, "SELECT COUNT(*) FROM files", NULL, 0);
}

/* Files in the store (outside tmp) and in its tmp directory. */
static void store_counts(int *stored, int *tmp)
{
	*stored = *tmp = 0;
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "find '%s' -type f -not -path '*/tmp/*' | wc -l", store_dir);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%d", stored), 1);
	pclose(p);
	snprintf(cmd, sizeof(cmd), "find '%s/tmp' -type f | wc -l", store_dir);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_int_equal(fscanf(p, "%d", tmp), 1);
	pclose(p);
}

static void sha256_of(const struct buf *b, char out[80])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(h, (const unsigned char *)b->data, b->len);
	char hex[2 * sizeof(h) + 1];
	sodium_bin2hex(hex, sizeof(hex), h, sizeof(h));
	snprintf(out, 80, "sha256:%s", hex);
}

/* A feed: three episodes (newest first, as feeds are), one item without
 * audio. Enclosures are relative to the feed's own URL. */
static const char feed_v1[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<rss version=\"2.0\" xmlns:itunes=\"http://www.itunes.com/dtds/podcast-1.0.dtd\">\n"
	"<channel><title>Loopback FM</title><description>Tones &amp; more</description>\n"
	"<itunes:image href=\"/art.jpg\"/>\n"
	"<item><title>Third</title><guid>ep-3</guid>"
	"<pubDate>Wed, 03 Jan 2024 10:00:00 GMT</pubDate>"
	"<enclosure url=\"../audio/a.mp3\" length=\"1234\" type=\"audio/mpeg\"/></item>\n"
	"<item><title>Second</title><guid>ep-2</guid>"
	"<pubDate>Tue, 02 Jan 2024 10:00:00 GMT</pubDate>"
	"<enclosure url=\"../audio/b.mp3\" type=\"audio/mpeg\"/></item>\n"
	"<item><title>First</title><guid>ep-1</guid>"
	"<pubDate>Mon, 01 Jan 2024 10:00:00 GMT</pubDate>"
	"<enclosure url=\"http://elsewhere.invalid/1.mp3\" length=\"99\"/></item>\n"
	"<item><title>Only text</title><guid>post</guid></item>\n"
	"</channel></rss>\n";

/* The same feed later: a fourth episode, and the third renamed. */
static const char feed_v2[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<rss version=\"2.0\"><channel><title>Loopback FM renamed</title>\n"
	"<item><title>Fourth</title><guid>ep-4</guid>"
	"<pubDate>Thu, 04 Jan 2024 10:00:00 GMT</pubDate>"
	"<enclosure url=\"../audio/b.mp3\"/></item>\n"
	"<item><title>Third (fixed)</title><guid>ep-3</guid>"
	"<pubDate>Wed, 03 Jan 2024 10:00:00 GMT</pubDate>"
	"<enclosure url=\"../audio/a.mp3\" length=\"1234\" type=\"audio/mpeg\"/></item>\n"
	"<item><title>Second</title><guid>ep-2</guid>"
	"<pubDate>Tue, 02 Jan 2024 10:00:00 GMT</pubDate>"
	"<enclosure url=\"../audio/b.mp3\" type=\"audio/mpeg\"/></item>\n"
	"<item><title>First</title><guid>ep-1</guid>"
	"<pubDate>Mon, 01 Jan 2024 10:00:00 GMT</pubDate>"
	"<enclosure url=\"http://elsewhere.invalid/1.mp3\" length=\"99\"/></item>\n"
	"</channel></rss>\n";

#define JAN3 (INT64_C(1704276000) * USEC_PER_SEC)

/* ------------------------------------------------------------------ polls */

static void test_poll_new_then_304_then_changed(void **state)
{
	struct db *db = *state;
	set_feed("a", feed_v1, "\"v1\"", "Wed, 03 Jan 2024 10:00:00 GMT");
	int64_t pod = add_podcast(db, "/feeds/a", false, true, "");
	int64_t now = next_now();
	char err[512];
	assert_int_equal(podcast_poll(db, mq, pod, NULL, now, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "3 new"));
	assert_string_equal(text_of(db, "SELECT title FROM podcasts WHERE id = $1",
				    DB_PARAMS(DB_I(pod))), "Loopback FM");
	assert_string_equal(text_of(db, "SELECT description FROM podcasts WHERE id = $1",
				    DB_PARAMS(DB_I(pod))), "Tones & more");
	char url[256];
	url_of(url, sizeof(url), "/art.jpg");
	assert_string_equal(text_of(db, "SELECT image_url FROM podcasts WHERE id = $1",
				    DB_PARAMS(DB_I(pod))), url);
	assert_string_equal(text_of(db, "SELECT etag FROM podcasts WHERE id = $1",
				    DB_PARAMS(DB_I(pod))), "\"v1\"");
	assert_string_equal(text_of(db, "SELECT last_modified FROM podcasts WHERE id = $1",
				    DB_PARAMS(DB_I(pod))), "Wed, 03 Jan 2024 10:00:00 GMT");
	assert_string_equal(text_of(db, "SELECT last_error FROM podcasts WHERE id = $1",
				    DB_PARAMS(DB_I(pod))), "(null)");
	assert_int_equal(fixture_int(db, "SELECT last_checked_at FROM podcasts WHERE id = $1",
				     DB_PARAMS(DB_I(pod))), now);
	assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM podcast_episodes"
				     " WHERE podcast_id = $1 AND import_status = 'new'",
				     DB_PARAMS(DB_I(pod))), 3);
	/* Fields of one episode; the relative enclosure is resolved. */
	url_of(url, sizeof(url), "/audio/a.mp3");
	assert_string_equal(text_of(db, "SELECT enclosure_url FROM podcast_episodes"
				    " WHERE guid = 'ep-3'", NULL, 0), url);
	assert_string_equal(text_of(db, "SELECT title FROM podcast_episodes WHERE guid = 'ep-3'",
				    NULL, 0), "Third");
	assert_int_equal(fixture_int(db, "SELECT published_at FROM podcast_episodes"
				     " WHERE guid = 'ep-3'", NULL, 0), JAN3);
	assert_int_equal(fixture_int(db, "SELECT enclosure_size FROM podcast_episodes"
				     " WHERE guid = 'ep-3'", NULL, 0), 1234);
	assert_string_equal(text_of(db, "SELECT enclosure_size FROM podcast_episodes"
				    " WHERE guid = 'ep-2'", NULL, 0), "(null)");
	/* Oldest gets the lowest id (inserted from the end of the feed). */
	assert_true(fixture_int(db, "SELECT id FROM podcast_episodes WHERE guid = 'ep-1'", NULL,
				0) < fixture_int(db, "SELECT id FROM podcast_episodes"
						 " WHERE guid = 'ep-3'", NULL, 0));

	/* Again: conditional, 304, only last_checked_at moves. */
	int64_t later = now + 3600 * USEC_PER_SEC;
	int before = hits("/feeds/a");
	int r = podcast_poll(db, mq, pod, NULL, later, err, sizeof(err));
	if (r != 0)
		fail_msg("second poll: %d %s", r, err);
	assert_non_null(strstr(err, "304"));
	assert_int_equal(hits("/feeds/a"), before + 1);
	pthread_mutex_lock(&srv.lock);
	assert_string_equal(srv.last_inm, "\"v1\"");
	assert_string_equal(srv.last_ims, "Wed, 03 Jan 2024 10:00:00 GMT");
	pthread_mutex_unlock(&srv.lock);
	assert_int_equal(fixture_int(db, "SELECT last_checked_at FROM podcasts WHERE id = $1",
				     DB_PARAMS(DB_I(pod))), later);
	assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM podcast_episodes", NULL, 0), 3);

	/* The feed changes (and loses its validators); a user renamed the
	 * podcast meanwhile, and one episode was imported. */
	fixture_exec(db, "UPDATE podcasts SET title = 'Mine' WHERE id = $1", DB_PARAMS(DB_I(pod)));
	fixture_exec(db, "UPDATE podcast_episodes SET import_status = 'imported'"
		     " WHERE guid = 'ep-3'", NULL, 0);
	set_feed("a", feed_v2, "", "");
	assert_int_equal(podcast_poll(db, mq, pod, NULL, later + 1, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "1 new"));
	assert_string_equal(text_of(db, "SELECT title FROM podcasts WHERE id = $1",
				    DB_PARAMS(DB_I(pod))), "Mine");
	assert_string_equal(text_of(db, "SELECT etag FROM podcasts WHERE id = $1",
				    DB_PARAMS(DB_I(pod))), "(null)");
	assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM podcast_episodes", NULL, 0), 4);
	assert_string_equal(text_of(db, "SELECT title FROM podcast_episodes WHERE guid = 'ep-3'",
				    NULL, 0), "Third (fixed)");
	assert_string_equal(text_of(db, "SELECT import_status FROM podcast_episodes"
				    " WHERE guid = 'ep-3'", NULL, 0), "imported");
	assert_string_equal(text_of(db, "SELECT import_status FROM podcast_episodes"
				    " WHERE guid = 'ep-4'", NULL, 0), "new");
	/* Nothing queued without auto_ingest. */
	struct proto_task t[4];
	assert_int_equal(drain_tasks(t, 4, 300 * USEC_PER_MSEC), 0);
}

static void test_poll_through_redirect(void **state)
{
	struct db *db = *state;
	set_feed("b", feed_v1, "", "");
	int64_t pod = add_podcast(db, "/r/feeds/b", false, true, "");
	char err[512];
	assert_int_equal(podcast_poll(db, mq, pod, NULL, next_now(), err, sizeof(err)), 0);
	/* Resolved against where the redirect led (/feeds/b), not /r/... */
	char url[256];
	url_of(url, sizeof(url), "/audio/b.mp3");
	assert_string_equal(text_of(db, "SELECT enclosure_url FROM podcast_episodes"
				    " WHERE guid = 'ep-2'", NULL, 0), url);

	/* Redirects are capped. */
	struct podcast_options o;
	podcast_options_init(&o);
	o.max_redirects = 0;
	assert_int_equal(podcast_poll(db, mq, pod, &o, next_now(), err, sizeof(err)), -ELOOP);
	assert_false(podcast_error_transient(-ELOOP));
}

/* Poll podcast pod (url set to path) and expect r; last_error must then
 * contain what. */
static void poll_fails(struct db *db, const char *path, const struct podcast_options *o, int r,
		       const char *what)
{
	char url[256];
	url_of(url, sizeof(url), path);
	int64_t pod = fixture_int(db,
				  "INSERT INTO podcasts (url, created_at, updated_at)"
				  " VALUES ($1, 0, 0) RETURNING id", DB_PARAMS(DB_T(url)));
	int64_t now = next_now();
	char err[512];
	int got = podcast_poll(db, mq, pod, o, now, err, sizeof(err));
	if (got != r || !strstr(err, what))
		fail_msg("%s: got %d \"%s\", want %d with \"%s\"", path, got, err, r, what);
	const char *le = text_of(db, "SELECT last_error FROM podcasts WHERE id = $1",
				 DB_PARAMS(DB_I(pod)));
	if (!strstr(le, what))
		fail_msg("%s: last_error \"%s\" without \"%s\"", path, le, what);
	assert_int_equal(fixture_int(db, "SELECT last_checked_at FROM podcasts WHERE id = $1",
				     DB_PARAMS(DB_I(pod))), now);
	assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM podcast_episodes"
				     " WHERE podcast_id = $1", DB_PARAMS(DB_I(pod))), 0);
}

static void test_poll_errors(void **state)
{
	struct db *db = *state;
	poll_fails(db, "/status/404", NULL, -ENOENT, "HTTP 404");
	poll_fails(db, "/status/410", NULL, -ENOENT, "HTTP 410");
	poll_fails(db, "/status/403", NULL, -EACCES, "HTTP 403");
	poll_fails(db, "/status/503", NULL, -EAGAIN, "HTTP 503");
	poll_fails(db, "/status/429", NULL, -EAGAIN, "HTTP 429");
	poll_fails(db, "/loop", NULL, -ELOOP, "/loop");
	poll_fails(db, "/ftp", NULL, -EPROTONOSUPPORT, "/ftp");
	poll_fails(db, "/notfeed", NULL, -EBADMSG, "not an RSS or Atom feed");
	struct podcast_options o;
	podcast_options_init(&o);
	o.timeout_us = 1 * USEC_PER_SEC;
	poll_fails(db, "/slow", &o, -ETIMEDOUT, "within 1 s");
	set_feed("big", feed_v1, "", "");
	o.timeout_us = 0;
	o.max_feed_bytes = 100;
	poll_fails(db, "/feeds/big", &o, -EFBIG, "larger than the limit of 100 bytes");

	/* Nothing listens on a port that was just free. */
	int port = harness_free_port();
	assert_true(port > 0);
	char url[128];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/feed", port);
	int64_t pod = fixture_int(db, "INSERT INTO podcasts (url, created_at, updated_at)"
				  " VALUES ($1, 0, 0) RETURNING id", DB_PARAMS(DB_T(url)));
	char err[512];
	assert_int_equal(podcast_poll(db, mq, pod, NULL, next_now(), err, sizeof(err)),
			 -ECONNREFUSED);
	assert_true(podcast_error_transient(-ECONNREFUSED));
	assert_true(podcast_error_transient(-ETIMEDOUT));
	assert_true(podcast_error_transient(-EAGAIN));
	assert_true(podcast_error_transient(-EBUSY));
	assert_false(podcast_error_transient(-ENOENT));

	/* A scheme libcurl must not even try. */
	pod = fixture_int(db, "INSERT INTO podcasts (url, created_at, updated_at)"
			  " VALUES ('file:///etc/passwd', 0, 0) RETURNING id", NULL, 0);
	assert_int_equal(podcast_poll(db, mq, pod, NULL, next_now(), err, sizeof(err)),
			 -EPROTONOSUPPORT);

	/* No such podcast. */
	assert_int_equal(podcast_poll(db, mq, 999999, NULL, next_now(), err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, "no podcast"));

	/* A podcast that failed and then works has its error cleared. */
	set_feed("later", "<rss><channel><title>Back</title></channel></rss>", "", "");
	pod = add_podcast(db, "/feeds/later", false, true, "");
	fixture_exec(db, "UPDATE podcasts SET last_error = 'HTTP 503' WHERE id = $1",
		     DB_PARAMS(DB_I(pod)));
	assert_int_equal(podcast_poll(db, mq, pod, NULL, next_now(), err, sizeof(err)), 0);
	assert_string_equal(text_of(db, "SELECT last_error FROM podcasts WHERE id = $1",
				    DB_PARAMS(DB_I(pod))), "(null)");
	assert_string_equal(text_of(db, "SELECT title FROM podcasts WHERE id = $1",
				    DB_PARAMS(DB_I(pod))), "Back");
}

static void test_auto_ingest_queues_newest(void **state)
{
	struct db *db = *state;
	set_feed("auto", feed_v1, "\"a1\"", "");
	int64_t pod = add_podcast(db, "/feeds/auto", true, true, "");
	char err[512];
	int64_t now = next_now();
	assert_int_equal(podcast_poll(db, mq, pod, NULL, now, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "newest queued"));
	int64_t ep3 = fixture_int(db, "SELECT id FROM podcast_episodes WHERE guid = 'ep-3'",
				  NULL, 0);
	assert_string_equal(episode_status(db, ep3), "pending");
	assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM podcast_episodes"
				     " WHERE import_status = 'new'", NULL, 0), 2);

	struct proto_task t[4];
	size_t n = drain_tasks(t, 4, 5 * USEC_PER_SEC);
	assert_int_equal(n, 1);
	assert_int_equal(t[0].kind, PROTO_TASK_INGEST_EPISODE);
	assert_int_equal(t[0].episode_id, ep3);
	assert_int_equal(t[0].podcast_id, pod);
	assert_int_equal(t[0].created_at, now);
	assert_string_equal(text_of(db, "SELECT kind FROM tasks WHERE task_id = $1",
				    DB_PARAMS(DB_T(t[0].id))), "ingest_episode");
	assert_int_equal(fixture_int(db, "SELECT episode_id FROM tasks WHERE task_id = $1",
				     DB_PARAMS(DB_T(t[0].id))), ep3);
	release_tasks(t, n);

	/* Polled again (304): the newest is pending already, nothing new. */
	assert_int_equal(podcast_poll(db, mq, pod, NULL, now + 1, err, sizeof(err)), 0);
	assert_int_equal(drain_tasks(t, 4, 300 * USEC_PER_MSEC), 0);

	/* A newer episode appears: it is queued, the older 'new' ones not. */
	set_feed("auto", feed_v2, "\"a2\"", "");
	assert_int_equal(podcast_poll(db, mq, pod, NULL, now + 2, err, sizeof(err)), 0);
	int64_t ep4 = fixture_int(db, "SELECT id FROM podcast_episodes WHERE guid = 'ep-4'",
				  NULL, 0);
	n = drain_tasks(t, 4, 5 * USEC_PER_SEC);
	assert_int_equal(n, 1);
	assert_int_equal(t[0].episode_id, ep4);
	release_tasks(t, n);
	assert_string_equal(episode_status(db, ep4), "pending");
	assert_string_equal(text_of(db, "SELECT import_status FROM podcast_episodes"
				    " WHERE guid = 'ep-2'", NULL, 0), "new");
}

static void test_enqueue_ingest(void **state)
{
	struct db *db = *state;
	int64_t pod = add_podcast(db, "/feeds/none", false, true, "P");
	int64_t ep = add_episode(db, pod, "g", "E", "/audio/a.mp3");
	int64_t now = next_now();
	char id[65];
	assert_int_equal(podcast_enqueue_ingest(db, mq, ep, now, id), 0);
	assert_string_equal(episode_status(db, ep), "pending");
	char want[65];
	snprintf(want, sizeof(want), "ingest.%lld.%lld", (long long)ep, (long long)now);
	assert_string_equal(id, want);
	assert_int_equal(podcast_enqueue_ingest(db, mq, ep, now + 1, NULL), -EALREADY);
	struct proto_task t[4];
	size_t n = drain_tasks(t, 4, 5 * USEC_PER_SEC);
	assert_int_equal(n, 1);
	assert_string_equal(t[0].id, want);
	release_tasks(t, n);

	/* A failed episode may be queued again. */
	assert_int_equal(podcast_episode_fail(db, ep, "gone", now), 0);
	assert_string_equal(episode_status(db, ep), "failed");
	assert_int_equal(podcast_enqueue_ingest(db, mq, ep, now + 2, NULL), 0);
	assert_string_equal(episode_status(db, ep), "pending");
	assert_string_equal(text_of(db, "SELECT failure_reason FROM podcast_episodes WHERE id = $1",
				    DB_PARAMS(DB_I(ep))), "(null)");
	n = drain_tasks(t, 4, 5 * USEC_PER_SEC);
	assert_int_equal(n, 1);
	release_tasks(t, n);
	assert_int_equal(podcast_enqueue_ingest(db, mq, 999999, now, NULL), -ENOENT);
	assert_int_equal(podcast_episode_fail(db, 999999, "x", now), -ENOENT);
}

static void test_enqueue_due(void **state)
{
	struct db *db = *state;
	int64_t now = next_now();
	int64_t hour = 3600 * USEC_PER_SEC;
	int64_t never = add_podcast(db, "/feeds/1", false, true, "");
	int64_t stale = add_podcast(db, "/feeds/2", false, true, "");
	int64_t fresh = add_podcast(db, "/feeds/3", false, true, "");
	int64_t tiny = add_podcast(db, "/feeds/4", false, true, "");
	fixture_exec(db, "UPDATE podcasts SET last_checked_at = $1 WHERE id = $2",
		     DB_PARAMS(DB_I(now - 2 * hour), DB_I(stale)));
	fixture_exec(db, "UPDATE podcasts SET last_checked_at = $1 WHERE id = $2",
		     DB_PARAMS(DB_I(now - hour / 2), DB_I(fresh)));
	/* An interval of 0 counts as the minimum: checked 30 s ago, not due. */
	fixture_exec(db, "UPDATE podcasts SET last_checked_at = $1, poll_interval_us = 0"
		     " WHERE id = $2", DB_PARAMS(DB_I(now - 30 * USEC_PER_SEC), DB_I(tiny)));
	size_t queued = 99;
	assert_int_equal(podcast_enqueue_due(db, mq, now, &queued), 0);
	assert_int_equal(queued, 2);
	struct proto_task t[8];
	size_t n = drain_tasks(t, 8, 5 * USEC_PER_SEC);
	assert_int_equal(n, 2);
	int64_t slot = now / hour;
	char want[2][65];
	snprintf(want[0], 65, "poll.%lld.%lld", (long long)never, (long long)slot);
	snprintf(want[1], 65, "poll.%lld.%lld", (long long)stale, (long long)slot);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(t[i].kind, PROTO_TASK_POLL_PODCAST);
		assert_true(strcmp(t[i].id, want[0]) == 0 || strcmp(t[i].id, want[1]) == 0);
		assert_true(t[i].podcast_id == never || t[i].podcast_id == stale);
	}
	assert_int_not_equal(t[0].podcast_id, t[1].podcast_id);
	release_tasks(t, n);
	assert_int_equal(fixture_int(db, "SELECT COUNT(*) FROM tasks WHERE kind = 'poll_podcast'",
				     NULL, 0), 2);

	/* Again within the slot: nothing new. */
	assert_int_equal(podcast_enqueue_due(db, mq, now + 20 * USEC_PER_SEC, &queued), 0);
	assert_int_equal(queued, 0);
	assert_int_equal(drain_tasks(t, 8, 300 * USEC_PER_MSEC), 0);

	/* An hour later every podcast is due (the tiny one too); the two
	 * still unpolled get a task of the new slot. */
	assert_int_equal(podcast_enqueue_due(db, mq, now + hour, &queued), 0);
	assert_int_equal(queued, 4);
	n = drain_tasks(t, 8, 5 * USEC_PER_SEC);
	assert_int_equal(n, 4);
	release_tasks(t, n);
}

/* ----------------------------------------------------------------- ingest */

static void test_ingest_ok_and_idempotent(void **state)
{
	struct db *db = *state;
	int64_t pod = add_podcast(db, "/feeds/none", false, true, "My Show");
	int64_t ep = add_episode(db, pod, "g1", "Episode One", "/audio/a.mp3");
	int64_t now = next_now();
	char err[512];
	int r = podcast_ingest(db, mq, st, ep, NULL, now, err, sizeof(err));
	if (r != 0)
		fail_msg("ingest: %d %s", r, err);
	assert_string_equal(episode_status(db, ep), "imported");
	int64_t file = fixture_int(db, "SELECT file_id FROM podcast_episodes WHERE id = $1",
				   DB_PARAMS(DB_I(ep)));
	assert_true(file > 0);
	char hash[80];
	sha256_of(&srv.mp3a, hash);
	assert_string_equal(text_of(db, "SELECT content_hash FROM files WHERE id = $1",
				    DB_PARAMS(DB_I(file))), hash);
	assert_int_equal(fixture_int(db, "SELECT size FROM files WHERE id = $1",
				     DB_PARAMS(DB_I(file))), (int64_t)srv.mp3a.len);
	assert_string_equal(text_of(db, "SELECT import_status FROM files WHERE id = $1",
				    DB_PARAMS(DB_I(file))), "ready");
	assert_string_equal(text_of(db, "SELECT mime FROM files WHERE id = $1",
				    DB_PARAMS(DB_I(file))), "audio/mpeg");
	/* tag_override: over the file's own title "Tone A" and album. */
	assert_string_equal(text_of(db, "SELECT title FROM files WHERE id = $1",
				    DB_PARAMS(DB_I(file))), "Episode One");
	assert_string_equal(text_of(db, "SELECT album FROM files WHERE id = $1",
				    DB_PARAMS(DB_I(file))), "My Show");
	assert_true(fixture_int(db, "SELECT duration_us FROM files WHERE id = $1",
				DB_PARAMS(DB_I(file))) > 1900000);
	/* The bytes are in the store under the key. */
	char path[512];
	assert_int_equal(storage_path(st, text_of(db, "SELECT storage_key FROM files WHERE id = $1",
						  DB_PARAMS(DB_I(file))), path, sizeof(path)), 0);
	struct stat sb;
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_size, (off_t)srv.mp3a.len);

	/* Again: nothing downloaded, nothing changed. */
	int before = hits("/audio/a.mp3");
	assert_int_equal(podcast_ingest(db, mq, st, ep, NULL, now + 1, err, sizeof(err)), 0);
	assert_non_null(strstr(err, "imported already"));
	assert_int_equal(hits("/audio/a.mp3"), before);
	assert_int_equal(count_files(db), 1);

	/* The same bytes from another episode (another URL): the same file,
	 * which keeps its tags. */
	int64_t ep2 = add_episode(db, pod, "g2", "Episode Two", "/audio/same-as-a");
	assert_int_equal(podcast_ingest(db, mq, st, ep2, NULL, now + 2, err, sizeof(err)), 0);
	assert_int_equal(fixture_int(db, "SELECT file_id FROM podcast_episodes WHERE id = $1",
				     DB_PARAMS(DB_I(ep2))), file);
	assert_int_equal(count_files(db), 1);
	assert_string_equal(text_of(db, "SELECT title FROM files WHERE id = $1",
				    DB_PARAMS(DB_I(file))), "Episode One");
}

static void test_ingest_without_tag_override(void **state)
{
	struct db *db = *state;
	int64_t tt = fixture_int(db, "INSERT INTO track_types (code, name)"
				 " VALUES ('pod', 'Podcast') RETURNING id", NULL, 0);
	int64_t pod = add_podcast(db, "/feeds/none", false, false, "My Show");
	fixture_exec(db, "UPDATE podcasts SET track_type_id = $1 WHERE id = $2",
		     DB_PARAMS(DB_I(tt), DB_I(pod)));
	/* Through a redirect; the extension comes from the episode URL. */
	int64_t ep = add_episode(db, pod, "g1", "Episode B", "/r/audio/b.mp3");
	char err[512];
	int r = podcast_ingest(db, mq, st, ep, NULL, next_now(), err, sizeof(err));
	if (r != 0)
		fail_msg("ingest: %d %s", r, err);
	int64_t file = fixture_int(db, "SELECT file_id FROM podcast_episodes WHERE id = $1",
				   DB_PARAMS(DB_I(ep)));
	assert_string_equal(text_of(db, "SELECT title FROM files WHERE id = $1",
				    DB_PARAMS(DB_I(file))), "Tone B");
	assert_string_equal(text_of(db, "SELECT album FROM files WHERE id = $1",
				    DB_PARAMS(DB_I(file))), "Tone Album");
	assert_int_equal(fixture_int(db, "SELECT track_type_id FROM files WHERE id = $1",
				     DB_PARAMS(DB_I(file))), tt);
	const char *key = text_of(db, "SELECT storage_key FROM files WHERE id = $1",
				  DB_PARAMS(DB_I(file)));
	assert_non_null(strstr(key, ".mp3"));
}

/* Ingest an episode at path and expect r; the episode must end in
 * status with a failure_reason containing what, and nothing stored. */
static void ingest_fails(struct db *db, const char *path, const struct podcast_options *o, int r,
			 const char *status, const char *what)
{
	static int made;
	char feed[64];
	snprintf(feed, sizeof(feed), "/feeds/none-%d", ++made);
	int64_t pod = add_podcast(db, feed, false, true, "P");
	char guid[64];
	snprintf(guid, sizeof(guid), "g-%s", path);
	int64_t ep = add_episode(db, pod, guid, "E", path);
	int64_t files = count_files(db);
	int stored0, tmp0;
	store_counts(&stored0, &tmp0);
	char err[512];
	int got = podcast_ingest(db, mq, st, ep, o, next_now(), err, sizeof(err));
	if (got != r || !strstr(err, what))
		fail_msg("%s: got %d \"%s\", want %d with \"%s\"", path, got, err, r, what);
	assert_string_equal(episode_status(db, ep), status);
	const char *reason = text_of(db, "SELECT failure_reason FROM podcast_episodes"
				     " WHERE id = $1", DB_PARAMS(DB_I(ep)));
	if (!strstr(reason, what))
		fail_msg("%s: failure_reason \"%s\" without \"%s\"", path, reason, what);
	assert_string_equal(text_of(db, "SELECT file_id FROM podcast_episodes WHERE id = $1",
				    DB_PARAMS(DB_I(ep))), "(null)");
	if (r != -EBADMSG) {
		/* Nothing half-stored: no row, no file, no temporary. */
		assert_int_equal(count_files(db), files);
		int stored, tmp;
		store_counts(&stored, &tmp);
		assert_int_equal(stored, stored0);
		assert_int_equal(tmp, 0);
	}
}

static void test_ingest_failures(void **state)
{
	struct db *db = *state;
	ingest_fails(db, "/status/404", NULL, -ENOENT, "failed", "HTTP 404");
	ingest_fails(db, "/status/500", NULL, -EAGAIN, "pending", "HTTP 500");
	ingest_fails(db, "/audio/drop.mp3", NULL, -EAGAIN, "pending", "drop.mp3");
	struct podcast_options o;
	podcast_options_init(&o);
	o.max_episode_bytes = 100 * 1024;
	/* Announced too big: refused before the body. */
	ingest_fails(db, "/audio/big.mp3", &o, -EFBIG, "failed", "larger than the limit");
	/* Not announced: stopped while it arrives. */
	ingest_fails(db, "/audio/endless.mp3", &o, -EFBIG, "failed", "larger than the limit");
	o.max_episode_bytes = 0;
	o.timeout_us = 1 * USEC_PER_SEC;
	ingest_fails(db, "/slow", &o, -ETIMEDOUT, "pending", "within 1 s");
	ingest_fails(db, "/ftp", NULL, -EPROTONOSUPPORT, "failed", "/ftp");
	/* Bytes that are not audio are stored and analysed, and fail. */
	ingest_fails(db, "/audio/text.mp3", NULL, -EBADMSG, "failed", "not playable");

	/* The transient ones succeed once the server behaves: the same
	 * episode, its URL fixed. */
	int64_t ep = fixture_int(db, "SELECT id FROM podcast_episodes WHERE guid = $1",
				 DB_PARAMS(DB_T("g-/audio/drop.mp3")));
	char url[256];
	url_of(url, sizeof(url), "/audio/b.mp3");
	fixture_exec(db, "UPDATE podcast_episodes SET enclosure_url = $1 WHERE id = $2",
		     DB_PARAMS(DB_T(url), DB_I(ep)));
	char err[512];
	assert_int_equal(podcast_ingest(db, mq, st, ep, NULL, next_now(), err, sizeof(err)), 0);
	assert_string_equal(episode_status(db, ep), "imported");
	assert_string_equal(text_of(db, "SELECT failure_reason FROM podcast_episodes WHERE id = $1",
				    DB_PARAMS(DB_I(ep))), "(null)");

	assert_int_equal(podcast_ingest(db, mq, st, 999999, NULL, next_now(), err, sizeof(err)),
			 -ENOENT);
}

/* ------------------------------------------------------------------- main */

static int make_tone(const char *dir, const char *name, int freq, const char *title,
		     struct buf *out)
{
	char path[512], cmd[1024];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(cmd, sizeof(cmd),
		 "ffmpeg -nostdin -v error -y -f lavfi -i sine=frequency=%d:duration=2"
		 " -metadata title='%s' -metadata album='Tone Album' -c:a libmp3lame -b:a 64k '%s'",
		 freq, title, path);
	if (system(cmd) != 0) {
		fprintf(stderr, "test_podcast: ffmpeg failed (scripts/install-deps.sh test)\n");
		return -1;
	}
	buf_init(out, 1u << 24);
	return fs_read_file(path, out);
}

int main(int argc, char **argv)
{
	if (fixture_init(argc, argv) < 0)
		return 2;
	char dir[256];
	if (harness_tmpdir(dir, sizeof(dir)) < 0 || sodium_init() < 0)
		return 2;
	if (make_tone(dir, "a.mp3", 440, "Tone A", &srv.mp3a) < 0 ||
	    make_tone(dir, "b.mp3", 660, "Tone B", &srv.mp3b) < 0)
		return 2;
	snprintf(store_dir, sizeof(store_dir), "%.200s/store", dir);
	if (storage_open(&st, store_dir) < 0)
		return 2;
	if (server_start() < 0) {
		fprintf(stderr, "test_podcast: cannot start the HTTP server\n");
		return 2;
	}
	if (harness_nats_start(&nats) < 0)
		return 2;
	struct mq_options mo = { .url = nats.url, .name = "test-podcast" };
	struct mq_consumer_options co = {
		.stream = MQ_STREAM_TASKS,
		.durable = "podcast_test",
		.filter = MQ_SUBJECT_TASKS ".>",
	};
	if (mq_connect(&mq, &mo) < 0 || mq_wait_connected(mq, 10 * USEC_PER_SEC) < 0 ||
	    mq_ensure_topology(mq) < 0 || mq_consumer_open(mq, &co, &consumer) < 0) {
		fprintf(stderr, "test_podcast: cannot set up the queue\n");
		return 2;
	}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_poll_new_then_304_then_changed),
		T(test_poll_through_redirect),
		T(test_poll_errors),
		T(test_auto_ingest_queues_newest),
		T(test_enqueue_ingest),
		T(test_enqueue_due),
		T(test_ingest_ok_and_idempotent),
		T(test_ingest_without_tag_override),
		T(test_ingest_failures),
	};
#undef T
	int failed = cmocka_run_group_tests_name(fixture_group("podcast"), tests, NULL, NULL);

	mq_consumer_close(consumer);
	mq_close(mq);
	mq_library_shutdown();
	harness_nats_stop(&nats);
	server_stop();
	storage_close(st);
	fixture_fini();
	return failed ? 1 : 0;
}
