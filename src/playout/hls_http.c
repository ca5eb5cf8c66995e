/*
 * hls_http.c - static HTTP server for the HLS directory (libmicrohttpd).
 *
 * We bind the listening socket ourselves (so a busy port is reported as
 * -EADDRINUSE) and hand it to libmicrohttpd, which runs a pool of epoll
 * threads over it. Every request is answered on the second call of the
 * access handler: answering on the first call makes libmicrohttpd close
 * the connection, and players fetch a segment every few seconds over one
 * keep-alive connection.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <microhttpd.h>

#include "common/alloc.h"
#include "common/buf.h"
#include "common/fsutil.h"
#include "common/http_range.h"
#include "common/log.h"
#include "playout/hls_http.h"
#include "playout/hls_playlist.h"

#define COMPONENT "hls"

#define HLS_THREADS 2
#define HLS_CONNECTION_TIMEOUT_S 30
#define HLS_NAME_MAX 255
#define HLS_ALLOW "GET, HEAD, OPTIONS"
#define SEQ_SLOTS 4		/* media playlists whose numbering is kept */
#define SEQ_SAVE_EVERY 5	/* segments between two saves of the numbering */

/* The numbering of one media playlist (hls_playlist.h). */
struct seq_slot {
	char name[HLS_NAME_MAX + 1];	/* "" unused */
	struct hls_seq seq;
	int64_t saved_next;
	char saved_run[sizeof(((struct hls_seq *)0)->run)];
	char *last;		/* the playlist last served, for when the file is gone */
	size_t last_len;
};

struct hls_http {
	struct MHD_Daemon *daemon;
	int dirfd;
	uint16_t port;
	void (*on_segment)(void *userdata, const char *client, const char *name);
	void *userdata;
	char *state_dir;	/* NULL: playlists as they are */
	pthread_mutex_t seq_lock;
	struct seq_slot slots[SEQ_SLOTS];
};

struct content_type {
	const char *ext;
	const char *type;
	const char *cache_control;	/* NULL: no header */
	bool playlist;
};

static const struct content_type content_types[] = {
	{ ".m3u8", "application/vnd.apple.mpegurl", "no-cache", true },
	{ ".ts", "video/mp2t", "max-age=60", false },
	{ ".aac", "audio/aac", "max-age=60", false },
	{ ".m4s", "video/iso.segment", "max-age=60", false },
	{ ".mp4", "audio/mp4", "max-age=60", false },
};

static const struct content_type default_type = {
	"", "application/octet-stream", NULL, false
};

/* Marks a request whose headers were seen (the first handler call). */
static char request_seen;

static const char body_not_found[] = "not found\n";
static const char body_not_allowed[] = "method not allowed\n";
static const char body_unsatisfiable[] = "range not satisfiable\n";
static const char body_error[] = "internal error\n";

__attribute__((format(printf, 2, 0)))
static void log_mhd(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	int n = vsnprintf(line, sizeof(line), fmt, ap);
	if (n < 0)
		return;
	size_t len = strlen(line);
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	log_warn(COMPONENT, "%s", line);
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decode %XX in place, except "%00": a NUL would cut the path short
 * ("a.ts%00.m3u8" would become "a.ts"), so it stays as text and the '%'
 * then fails the name check.
 */
static size_t unescape_path(void *cls, struct MHD_Connection *conn, char *s)
{
	char *w = s;
	const char *r = s;
	while (*r) {
		int hi = r[0] == '%' ? hex_value(r[1]) : -1;
		int lo = hi >= 0 ? hex_value(r[2]) : -1;
		if (hi >= 0 && lo >= 0 && (hi | lo) != 0) {
			*w++ = (char)(hi * 16 + lo);
			r += 3;
			continue;
		}
		*w++ = *r++;
	}
	*w = '\0';
	return (size_t)(w - s);
}

/* A plain file name: [A-Za-z0-9._-]+, not starting with '.', no "..". */
static bool name_ok(const char *name)
{
	size_t len = strlen(name);
	if (len == 0 || len > HLS_NAME_MAX || name[0] == '.' || strstr(name, ".."))
		return false;
	for (size_t i = 0; i < len; i++) {
		char ch = name[i];
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
			(ch >= '0' && ch <= '9') || ch == '.' || ch == '_' || ch == '-';
		if (!ok)
			return false;
	}
	return true;
}

/* The file name a URL path names ("/name" or "/hls/name"), or NULL. */
static const char *name_from_url(const char *url)
{
	const char *name;
	if (strncmp(url, "/hls/", 5) == 0)
		name = url + 5;
	else if (url[0] == '/')
		name = url + 1;
	else
		return NULL;
	return name_ok(name) ? name : NULL;
}

static const struct content_type *type_of(const char *name)
{
	size_t len = strlen(name);
	for (size_t i = 0; i < sizeof(content_types) / sizeof(content_types[0]); i++) {
		size_t elen = strlen(content_types[i].ext);
		if (len > elen && strcasecmp(name + len - elen, content_types[i].ext) == 0)
			return &content_types[i];
	}
	return &default_type;
}

static void add_cors(struct MHD_Response *resp)
{
	MHD_add_response_header(resp, "Access-Control-Allow-Origin", "*");
}

static enum MHD_Result queue(struct MHD_Connection *conn, unsigned status,
			     struct MHD_Response *resp)
{
	enum MHD_Result r = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return r;
}

/* A short text answer; allow and content_range are optional headers. */
static enum MHD_Result answer_text(struct MHD_Connection *conn, unsigned status,
				   const char *body, const char *allow,
				   const char *content_range)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(strlen(body),
		(void *)body, MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "text/plain; charset=utf-8");
	add_cors(resp);
	if (allow)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, allow);
	if (content_range)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, content_range);
	return queue(conn, status, resp);
}

static enum MHD_Result answer_options(struct MHD_Connection *conn)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"",
		MHD_RESPMEM_PERSISTENT);
	if (!resp)
		return MHD_NO;
	add_cors(resp);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, HLS_ALLOW);
	MHD_add_response_header(resp, "Access-Control-Allow-Methods", HLS_ALLOW);
	MHD_add_response_header(resp, "Access-Control-Allow-Headers", "Range");
	MHD_add_response_header(resp, "Access-Control-Max-Age", "86400");
	return queue(conn, MHD_HTTP_NO_CONTENT, resp);
}

static void report_segment(struct hls_http *h, struct MHD_Connection *conn, const char *name)
{
	char client[INET6_ADDRSTRLEN] = "?";
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		const void *sa = ci->client_addr;
		const struct sockaddr_in *sin = sa;
		const struct sockaddr_in6 *sin6 = sa;
		if (sin->sin_family == AF_INET)
			inet_ntop(AF_INET, &sin->sin_addr, client, sizeof(client));
		else if (sin->sin_family == AF_INET6)
			inet_ntop(AF_INET6, &sin6->sin6_addr, client, sizeof(client));
	}
	h->on_segment(h->userdata, client, name);
}

/* The numbering of playlist name, loaded from its file the first time
 * (seq_lock held); NULL when every slot is taken. */
static struct seq_slot *seq_slot(struct hls_http *h, const char *name)
{
	for (int i = 0; i < SEQ_SLOTS; i++) {
		struct seq_slot *sl = &h->slots[i];
		if (strcmp(sl->name, name) == 0)
			return sl;
		if (sl->name[0])
			continue;
		snprintf(sl->name, sizeof(sl->name), "%s", name);
		hls_seq_init(&sl->seq);
		char path[PATH_MAX], text[512];
		snprintf(path, sizeof(path), "%s/hls-%s.seq", h->state_dir, name);
		FILE *f = fopen(path, "re");
		if (f) {
			if (!fgets(text, sizeof(text), f) || hls_seq_parse(&sl->seq, text) < 0)
				log_warn(COMPONENT, "%s: unreadable, numbering %s afresh", path, name);
			fclose(f);
		}
		sl->saved_next = sl->seq.next;
		memcpy(sl->saved_run, sl->seq.run, sizeof(sl->saved_run));
		return sl;
	}
	return NULL;
}

/* Save a slot's numbering when its run changed or it moved on enough
 * (seq_lock held). */
static void seq_save(struct hls_http *h, struct seq_slot *sl)
{
	if (strcmp(sl->saved_run, sl->seq.run) == 0 &&
	    sl->seq.next - sl->saved_next < SEQ_SAVE_EVERY)
		return;
	char name[HLS_NAME_MAX + 16], text[512];
	snprintf(name, sizeof(name), "hls-%s.seq", sl->name);
	if (hls_seq_format(&sl->seq, text, sizeof(text)) == 0 &&
	    fs_write_atomic(h->state_dir, name, text, strlen(text)) == 0) {
		sl->saved_next = sl->seq.next;
		memcpy(sl->saved_run, sl->seq.run, sizeof(sl->saved_run));
	}
}

/* A media playlist, renumbered (see hls_playlist.h): the response, or
 * NULL to serve the file as it is. Closes nothing. */
static struct MHD_Response *renumbered(struct hls_http *h, const char *name, int fd,
				       uint64_t size)
{
	if (size > HLS_PLAYLIST_MAX)
		return NULL;
	char *text = xmalloc((size_t)size + 1);
	ssize_t got = pread(fd, text, (size_t)size, 0);
	struct MHD_Response *resp = NULL;
	if (got >= 0) {
		struct buf out;
		buf_init(&out, HLS_PLAYLIST_MAX + 4096);
		pthread_mutex_lock(&h->seq_lock);
		struct seq_slot *sl = seq_slot(h, name);
		int r = sl ? hls_playlist_rewrite(&sl->seq, text, (size_t)got, &out) : -ENOSPC;
		if (r == 0) {
			seq_save(h, sl);
			free(sl->last);
			sl->last = xmalloc(out.len ? out.len : 1);
			memcpy(sl->last, out.data, out.len);
			sl->last_len = out.len;
		}
		pthread_mutex_unlock(&h->seq_lock);
		if (r == 0)
			resp = MHD_create_response_from_buffer(out.len, out.data,
							       MHD_RESPMEM_MUST_COPY);
		buf_release(&out);
	}
	free(text);
	return resp;
}

/* The playlist last served under name, while Liquidsoap (restarting)
 * has none: players keep a playlist, not a 404. NULL when there is none. */
static struct MHD_Response *last_playlist(struct hls_http *h, const char *name)
{
	struct MHD_Response *resp = NULL;
	pthread_mutex_lock(&h->seq_lock);
	for (int i = 0; i < SEQ_SLOTS; i++) {
		struct seq_slot *sl = &h->slots[i];
		if (sl->last && strcmp(sl->name, name) == 0)
			resp = MHD_create_response_from_buffer(sl->last_len, sl->last,
							       MHD_RESPMEM_MUST_COPY);
	}
	pthread_mutex_unlock(&h->seq_lock);
	return resp;
}

static enum MHD_Result answer_file(struct hls_http *h, struct MHD_Connection *conn,
				   const char *url, bool is_get)
{
	const char *name = name_from_url(url);
	if (!name)
		return answer_text(conn, MHD_HTTP_NOT_FOUND, body_not_found, NULL, NULL);

	int fd = openat(h->dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT && h->state_dir && type_of(name)->playlist) {
		struct MHD_Response *resp = last_playlist(h, name);
		if (resp) {
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
						type_of(name)->type);
			MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-cache");
			add_cors(resp);
			return queue(conn, MHD_HTTP_OK, resp);
		}
		errno = ENOENT;
	}
	if (fd < 0) {
		int err = errno;
		if (err == ENOENT || err == ELOOP || err == ENOTDIR || err == EACCES)
			return answer_text(conn, MHD_HTTP_NOT_FOUND, body_not_found, NULL, NULL);
		log_warn(COMPONENT, "open %s: %s", name, strerror(err));
		return answer_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, body_error, NULL, NULL);
	}
	struct stat st;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return answer_text(conn, MHD_HTTP_NOT_FOUND, body_not_found, NULL, NULL);
	}
	uint64_t size = (uint64_t)st.st_size;

	uint64_t first = 0, last = 0;
	enum http_range kind = HTTP_RANGE_WHOLE;
	const char *range = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							MHD_HTTP_HEADER_RANGE);
	/* We send no validators, so an If-Range can never match: whole file. */
	const char *if_range = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
							   MHD_HTTP_HEADER_IF_RANGE);
	if (range && !if_range)
		kind = http_range_parse(range, size, &first, &last);
	if (kind == HTTP_RANGE_UNSATISFIABLE) {
		close(fd);
		char cr[48];
		snprintf(cr, sizeof(cr), "bytes */%" PRIu64, size);
		return answer_text(conn, MHD_HTTP_RANGE_NOT_SATISFIABLE, body_unsatisfiable,
				   NULL, cr);
	}

	uint64_t offset = kind == HTTP_RANGE_PART ? first : 0;
	uint64_t len = kind == HTTP_RANGE_PART ? last - first + 1 : size;
	const struct content_type *type = type_of(name);
	struct MHD_Response *resp = NULL;
	if (type->playlist && h->state_dir && kind == HTTP_RANGE_WHOLE) {
		resp = renumbered(h, name, fd, size);
		if (resp)
			close(fd);
	}
	/* Takes fd on success only. */
	if (!resp)
		resp = MHD_create_response_from_fd_at_offset64(len, fd, offset);
	if (!resp) {
		close(fd);
		return answer_text(conn, MHD_HTTP_INTERNAL_SERVER_ERROR, body_error, NULL, NULL);
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type->type);
	if (type->cache_control)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, type->cache_control);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_ACCEPT_RANGES, "bytes");
	add_cors(resp);
	MHD_add_response_header(resp, "Access-Control-Expose-Headers",
				"Content-Length, Content-Range, Accept-Ranges");
	unsigned status = MHD_HTTP_OK;
	if (kind == HTTP_RANGE_PART) {
		char cr[80];
		snprintf(cr, sizeof(cr), "bytes %" PRIu64 "-%" PRIu64 "/%" PRIu64,
			 first, last, size);
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_RANGE, cr);
		status = MHD_HTTP_PARTIAL_CONTENT;
	}
	/* A segment fetched in pieces counts once: at its first byte. */
	if (is_get && h->on_segment && !type->playlist && offset == 0)
		report_segment(h, conn, name);
	return queue(conn, status, resp);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size,
				  void **req_cls)
{
	struct hls_http *h = cls;
	bool is_get = strcmp(method, MHD_HTTP_METHOD_GET) == 0;
	bool is_head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	bool is_options = strcmp(method, MHD_HTTP_METHOD_OPTIONS) == 0;

	if (!*req_cls) {
		/* Refuse other methods at once, before reading any body
		 * (the connection is then closed, which is fine for them). */
		if (!is_get && !is_head && !is_options)
			return answer_text(conn, MHD_HTTP_METHOD_NOT_ALLOWED, body_not_allowed,
					   HLS_ALLOW, NULL);
		*req_cls = &request_seen;
		return MHD_YES;
	}
	if (*upload_data_size != 0) {
		/* A body on GET/HEAD/OPTIONS means nothing: drop it. */
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (is_options)
		return answer_options(conn);
	return answer_file(h, conn, url, is_get);
}

static int parse_address(const char *address, uint16_t port, struct sockaddr_storage *ss,
			 socklen_t *len)
{
	memset(ss, 0, sizeof(*ss));
	struct sockaddr_in *sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;
	if (inet_pton(AF_INET, address, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
		*len = sizeof(*sin);
		return 0;
	}
	if (inet_pton(AF_INET6, address, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
		*len = sizeof(*sin6);
		return 0;
	}
	return -EINVAL;
}

/* A bound, listening, non-blocking socket; its port in *port. -errno. */
static int open_listener(const char *address, uint16_t want_port, uint16_t *port)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int r = parse_address(address, want_port, &ss, &len);
	if (r < 0)
		return r;
	int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0)
		goto out_close_fd_errno;
	if (ss.ss_family == AF_INET6 &&
	    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one)) < 0)
		goto out_close_fd_errno;
	if (bind(fd, (struct sockaddr *)&ss, len) < 0)
		goto out_close_fd_errno;
	if (listen(fd, SOMAXCONN) < 0)
		goto out_close_fd_errno;
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		goto out_close_fd_errno;
	*port = ntohs(ss.ss_family == AF_INET ? ((struct sockaddr_in *)&ss)->sin_port
					      : ((struct sockaddr_in6 *)&ss)->sin6_port);
	return fd;

out_close_fd_errno:
	r = -errno;
	close(fd);
	return r;
}

int hls_http_start(struct hls_http **out, const struct hls_http_options *opts)
{
	if (!out || !opts || !opts->dir || !opts->address)
		return -EINVAL;
	*out = NULL;

	int r;
	int dirfd = open(opts->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0)
		return -errno;
	uint16_t port = 0;
	int lfd = open_listener(opts->address, opts->port, &port);
	if (lfd < 0) {
		r = lfd;
		goto out_close_dirfd;
	}
	/*
	 * libmicrohttpd closes the socket it is given when it fails late in
	 * start-up but not when it fails early, so it gets a duplicate and
	 * we always close ours: never a double close.
	 */
	int mhd_fd = fcntl(lfd, F_DUPFD_CLOEXEC, 0);
	if (mhd_fd < 0) {
		r = -errno;
		goto out_close_lfd;
	}

	struct hls_http *h = xcalloc(1, sizeof(*h));
	h->dirfd = dirfd;
	h->port = port;
	h->on_segment = opts->on_segment;
	h->userdata = opts->userdata;
	h->state_dir = opts->state_dir ? xstrdup(opts->state_dir) : NULL;
	pthread_mutex_init(&h->seq_lock, NULL);
	/* poll, not epoll: libmicrohttpd 0.9.75's epoll mode can miss a
	 * connection's events (a client that hangs up, one left without an
	 * answer until the timeout). */
	h->daemon = MHD_start_daemon(MHD_USE_POLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0,
				     NULL, NULL, on_request, h,
				     MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL,
				     MHD_OPTION_LISTEN_SOCKET, mhd_fd,
				     MHD_OPTION_THREAD_POOL_SIZE, (unsigned)HLS_THREADS,
				     MHD_OPTION_CONNECTION_TIMEOUT,
				     (unsigned)HLS_CONNECTION_TIMEOUT_S,
				     MHD_OPTION_UNESCAPE_CALLBACK, unescape_path, NULL,
				     MHD_OPTION_END);
	if (!h->daemon) {
		log_error(COMPONENT, "cannot start the HTTP server on %s port %u",
			  opts->address, (unsigned)port);
		r = -EIO;
		goto out_free_h;
	}
	close(lfd);
	log_info(COMPONENT, "serving %s on %s port %u", opts->dir, opts->address,
		 (unsigned)port);
	*out = h;
	return 0;

out_free_h:
	pthread_mutex_destroy(&h->seq_lock);
	free(h->state_dir);
	free(h);
out_close_lfd:
	close(lfd);
out_close_dirfd:
	close(dirfd);
	return r;
}

uint16_t hls_http_port(const struct hls_http *h)
{
	return h->port;
}

void hls_http_stop(struct hls_http *h)
{
	if (!h)
		return;
	/* Closes the listening socket too. */
	MHD_stop_daemon(h->daemon);
	close(h->dirfd);
	for (int i = 0; i < SEQ_SLOTS; i++)
		free(h->slots[i].last);
	pthread_mutex_destroy(&h->seq_lock);
	free(h->state_dir);
	free(h);
}
