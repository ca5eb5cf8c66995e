/*
 * server.c - libmicrohttpd glue of the web API; see server.h.
 */
#include "api/server.h"
#include "api/api_metrics.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "api/body.h"
#include "api/live.h"
#include "api/problem.h"
#include "api/router.h"
#include "common/alloc.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "db/db.h"

#define COMPONENT "api"
#define PATH_MAX_LEN 1024

/* A client of the live status stream (server-sent events). */
struct sse_conn {
	struct api_server *server;
	struct MHD_Connection *conn;
	uint64_t version;	/* the last version sent */
	int64_t last_sent;	/* time_mono_us of the last bytes sent */
	bool suspended;
	struct buf out;		/* bytes to send */
	size_t off;		/* sent of out */
	struct sse_conn *next;
};

struct api_server {
	struct MHD_Daemon *daemon;
	struct api_ctx *ctx;
	pthread_mutex_t sse_lock;
	struct sse_conn *sse;	/* every open stream */
	bool stopping;
	bool notifier_running;
	pthread_t notifier;
};

/* A comment line is sent when nothing else was for this long, so that
 * proxies and the client know the stream is alive. */
#define SSE_KEEPALIVE_US (INT64_C(15) * 1000000)

/* One request in flight. */
struct conn_state {
	struct api_server *server;
	struct api_request req;
	struct api_response res;
	struct buf body;
	char path[PATH_MAX_LEN + 1];
	char addr[INET6_ADDRSTRLEN];
	bool answered;		/* res is final (an early error): queue it, read nothing more */
	bool stream_open;	/* the route's stream state needs finish or abort */
	void *stream_state;
	int64_t started;	/* monotonic: the request's first call */
};

static pthread_key_t db_key;
static pthread_once_t db_key_once = PTHREAD_ONCE_INIT;

static void close_thread_db(void *db)
{
	db_close(db);
}

static void make_db_key(void)
{
	pthread_key_create(&db_key, close_thread_db);
}

/* This thread's database connection, opened on first use. */
static struct db *thread_db(const struct api_ctx *ctx)
{
	pthread_once(&db_key_once, make_db_key);
	struct db *db = pthread_getspecific(db_key);
	if (db)
		return db;
	char err[256];
	if (db_open(&db, ctx->db_url, err, sizeof(err)) < 0) {
		log_error(COMPONENT, "cannot open the database: %s", err);
		return NULL;
	}
	pthread_setspecific(db_key, db);
	return db;
}

__attribute__((format(printf, 2, 0)))
static void log_mhd(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	if (vsnprintf(line, sizeof(line), fmt, ap) < 0)
		return;
	size_t len = strlen(line);
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	log_warn(COMPONENT, "%s", line);
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind, const char *key,
				      const char *value)
{
	struct api_request *req = cls;
	if (req->nheaders < API_MAX_HEADERS) {
		req->headers[req->nheaders].key = key;
		req->headers[req->nheaders].value = value ? value : "";
		req->nheaders++;
	}
	return MHD_YES;
}

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
				     const char *value)
{
	struct api_request *req = cls;
	if (req->nquery < API_MAX_QUERY) {
		req->query[req->nquery].key = key;
		req->query[req->nquery].value = value ? value : "";
		req->nquery++;
	}
	return MHD_YES;
}

/* The next bytes of a live status stream: a new status when it changed,
 * a keep-alive comment after a quiet while, else nothing for now (the
 * connection is suspended until the notifier resumes it). */
static ssize_t sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sse_conn *c = cls;
	struct api_server *s = c->server;
	pthread_mutex_lock(&s->sse_lock);
	if (s->stopping) {
		pthread_mutex_unlock(&s->sse_lock);
		return MHD_CONTENT_READER_END_OF_STREAM;
	}
	if (c->off >= c->out.len) {
		buf_reset(&c->out);
		c->off = 0;
		uint64_t v = live_status_version(s->ctx->live);
		int64_t t = time_mono_us();
		if (v != c->version) {
			json_t *doc = live_status_json(s->ctx->live, time_now_us());
			char *text = json_dumps(doc, JSON_COMPACT);
			json_decref(doc);
			buf_printf(&c->out, "event: status\nid: %llu\ndata: %s\n\n",
				   (unsigned long long)v, text ? text : "{}");
			free(text);
			c->version = v;
			c->last_sent = t;
		} else if (t - c->last_sent >= SSE_KEEPALIVE_US) {
			buf_append_str(&c->out, ": keep-alive\n\n");
			c->last_sent = t;
		} else {
			c->suspended = true;
			MHD_suspend_connection(c->conn);
			pthread_mutex_unlock(&s->sse_lock);
			return 0;
		}
	}
	size_t n = c->out.len - c->off;
	if (n > max)
		n = max;
	memcpy(buf, c->out.data + c->off, n);
	c->off += n;
	pthread_mutex_unlock(&s->sse_lock);
	return (ssize_t)n;
}

static void sse_free(void *cls)
{
	struct sse_conn *c = cls;
	struct api_server *s = c->server;
	pthread_mutex_lock(&s->sse_lock);
	for (struct sse_conn **p = &s->sse; *p; p = &(*p)->next) {
		if (*p == c) {
			*p = c->next;
			break;
		}
	}
	pthread_mutex_unlock(&s->sse_lock);
	buf_release(&c->out);
	free(c);
}

/* Resume every suspended stream (stopping: all of them, to end them). */
static void sse_resume_all(struct api_server *s)
{
	pthread_mutex_lock(&s->sse_lock);
	for (struct sse_conn *c = s->sse; c; c = c->next) {
		if (c->suspended) {
			c->suspended = false;
			MHD_resume_connection(c->conn);
		}
	}
	pthread_mutex_unlock(&s->sse_lock);
}

/* Wakes the streams when the live status changes, and every keep-alive
 * period. */
static void *sse_notifier(void *arg)
{
	struct api_server *s = arg;
	uint64_t seen = live_status_version(s->ctx->live);
	for (;;) {
		seen = live_status_wait(s->ctx->live, seen, SSE_KEEPALIVE_US);
		pthread_mutex_lock(&s->sse_lock);
		bool stop = s->stopping;
		pthread_mutex_unlock(&s->sse_lock);
		if (stop)
			break;
		sse_resume_all(s);
	}
	return NULL;
}

static struct MHD_Response *sse_response(struct api_server *s, struct MHD_Connection *conn)
{
	struct sse_conn *c = xcalloc(1, sizeof(*c));
	c->server = s;
	c->conn = conn;
	c->version = UINT64_MAX;
	buf_init(&c->out, 1 << 20);
	struct MHD_Response *resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024,
								       sse_read, c, sse_free);
	if (!resp) {
		buf_release(&c->out);
		free(c);
		return NULL;
	}
	pthread_mutex_lock(&s->sse_lock);
	c->next = s->sse;
	s->sse = c;
	pthread_mutex_unlock(&s->sse_lock);
	MHD_add_response_header(resp, "X-Accel-Buffering", "no");
	return resp;
}

static enum MHD_Result queue_response(struct MHD_Connection *conn, struct conn_state *cs)
{
	struct api_response *res = &cs->res;
	struct MHD_Response *resp;
	const char *type = res->content_type;
	if (res->sse && cs->server->ctx->live) {
		resp = sse_response(cs->server, conn);
		type = "text/event-stream";
		api_response_header(res, "Cache-Control", "no-cache");
	} else if (res->fd >= 0) {
		resp = MHD_create_response_from_fd_at_offset64(res->fd_length, res->fd,
							       res->fd_offset);
		if (resp)
			res->fd = -1;	/* MHD owns it now */
	} else if (res->json) {
		char *text = json_dumps(res->json, JSON_COMPACT);
		size_t len = text ? strlen(text) : 0;
		resp = MHD_create_response_from_buffer(len, text ? text : (void *)"",
						       text ? MHD_RESPMEM_MUST_FREE
							    : MHD_RESPMEM_PERSISTENT);
		if (!resp)
			free(text);
	} else if (res->text) {
		resp = MHD_create_response_from_buffer(res->text_len, res->text,
						       MHD_RESPMEM_MUST_FREE);
		if (resp)
			res->text = NULL;
	} else {
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
		type = NULL;
	}
	if (!resp)
		return MHD_NO;
	api_metrics_count(cs->server->ctx, cs->req.route, cs->req.method, res->status,
			  time_mono_us() - cs->started);
	if (type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	bool has_cache = false;
	for (size_t i = 0; i < res->nheaders; i++) {
		MHD_add_response_header(resp, res->headers[i].name, res->headers[i].value);
		has_cache = has_cache || strcasecmp(res->headers[i].name, "Cache-Control") == 0;
	}
	if (!has_cache)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	enum MHD_Result r = MHD_queue_response(conn, (unsigned)res->status, resp);
	MHD_destroy_response(resp);
	return r;
}

/* Set up cs for a new request; false with cs->res filled when it is
 * answered at once. */
static bool start_request(struct api_server *s, struct MHD_Connection *conn,
			  struct conn_state *cs, const char *url, const char *method)
{
	struct api_request *req = &cs->req;
	req->ctx = s->ctx;
	req->method = method;
	req->now = time_now_us();
	MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, req);
	MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, req);
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci && ci->client_addr) {
		const struct sockaddr *sa = ci->client_addr;
		if (sa->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr,
				  cs->addr, sizeof(cs->addr));
		else if (sa->sa_family == AF_INET6)
			inet_ntop(AF_INET6,
				  &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr,
				  cs->addr, sizeof(cs->addr));
	}
	req->client_addr = cs->addr;
	if (strlen(url) > PATH_MAX_LEN) {
		problem(&cs->res, 414, "the path is too long");
		return false;
	}
	snprintf(cs->path, sizeof(cs->path), "%s", url);
	req->path = cs->path;
	if (api_metrics_serve(req, &cs->res))
		return false;

	int status;
	char allow[128];
	req->route = router_match(method, req->path, req->ids, &req->nids, &status, allow,
				  sizeof(allow));
	if (!req->route) {
		router_unmatched(req, status, allow, &cs->res);
		return false;
	}
	req->db = thread_db(s->ctx);
	if (!req->db) {
		problem(&cs->res, 503, "the database cannot be reached; try again");
		api_response_header(&cs->res, "Retry-After", "5");
		return false;
	}
	if (!router_admit(req, &cs->res))
		return false;
	if (req->route->stream) {
		if (req->route->stream->begin(req, &cs->res, &cs->stream_state) < 0)
			return false;
		cs->stream_open = true;
		return true;
	}
	const char *len = api_header(req, "Content-Length");
	if (len && strtoull(len, NULL, 10) > BODY_JSON_MAX) {
		problem(&cs->res, 413, "the body is larger than %d bytes", BODY_JSON_MAX);
		return false;
	}
	return true;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct api_server *s = cls;
	struct conn_state *cs = *con_cls;
	if (!cs) {
		cs = xcalloc(1, sizeof(*cs));
		cs->server = s;
		cs->started = time_mono_us();
		api_response_init(&cs->res);
		buf_init(&cs->body, BODY_JSON_MAX);
		*con_cls = cs;
		if (!start_request(s, conn, cs, url, method)) {
			cs->answered = true;
			return queue_response(conn, cs);
		}
		return MHD_YES;
	}
	if (cs->answered) {
		*upload_data_size = 0;	/* discard the rest */
		return MHD_YES;
	}
	struct api_request *req = &cs->req;
	if (*upload_data_size > 0) {
		size_t n = *upload_data_size;
		*upload_data_size = 0;
		if (cs->stream_open) {
			if (req->route->stream->data(req, cs->stream_state, upload_data, n,
						     &cs->res) < 0) {
				req->route->stream->abort(req, cs->stream_state);
				cs->stream_open = false;
				cs->answered = true;
				return queue_response(conn, cs);
			}
			return MHD_YES;
		}
		if (buf_append(&cs->body, upload_data, n) < 0) {
			problem(&cs->res, 413, "the body is larger than %d bytes", BODY_JSON_MAX);
			cs->answered = true;
			return queue_response(conn, cs);
		}
		return MHD_YES;
	}
	/* The whole body is here. */
	if (cs->stream_open) {
		cs->stream_open = false;
		req->route->stream->finish(req, cs->stream_state, &cs->res);
	} else {
		req->body = cs->body.data;
		req->body_len = cs->body.len;
		req->route->handler(req, &cs->res);
	}
	cs->answered = true;
	return queue_response(conn, cs);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
			 enum MHD_RequestTerminationCode toe)
{
	struct conn_state *cs = *con_cls;
	if (!cs)
		return;
	if (cs->stream_open)
		cs->req.route->stream->abort(&cs->req, cs->stream_state);
	api_response_release(&cs->res);
	buf_release(&cs->body);
	free(cs);
	*con_cls = NULL;
}

/* Parse "host:port" / "[v6]:port" into ss. */
static int parse_listen(const char *listen, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128];
	const char *colon = strrchr(listen, ':');
	if (!colon)
		return -EINVAL;
	size_t hlen = (size_t)(colon - listen);
	if (hlen == 0 || hlen >= sizeof(host))
		return -EINVAL;
	memcpy(host, listen, hlen);
	host[hlen] = '\0';
	char *end;
	long port = strtol(colon + 1, &end, 10);
	if (*end || port < 0 || port > 65535 || colon[1] == '\0')
		return -EINVAL;
	memset(ss, 0, sizeof(*ss));
	if (host[0] == '[' && host[hlen - 1] == ']') {
		host[hlen - 1] = '\0';
		struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;
		a6->sin6_family = AF_INET6;
		a6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host + 1, &a6->sin6_addr) != 1)
			return -EINVAL;
		*len = sizeof(*a6);
		return 0;
	}
	struct sockaddr_in *a4 = (struct sockaddr_in *)ss;
	a4->sin_family = AF_INET;
	a4->sin_port = htons((uint16_t)port);
	if (strcmp(host, "localhost") == 0)
		snprintf(host, sizeof(host), "127.0.0.1");
	if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
		return -EINVAL;
	*len = sizeof(*a4);
	return 0;
}

int api_server_start(struct api_server **out, struct api_ctx *ctx, const char *listen,
		     unsigned threads, uint16_t *port_out)
{
	*out = NULL;
	struct sockaddr_storage ss;
	socklen_t sslen;
	if (!listen || parse_listen(listen, &ss, &sslen) < 0)
		return -EINVAL;
	struct api_server *s = xcalloc(1, sizeof(*s));
	s->ctx = ctx;
	pthread_mutex_init(&s->sse_lock, NULL);
	/* poll, not epoll: with epoll, libmicrohttpd 0.9.75 misses a client
	 * that hangs up in the middle of a body (an upload's temporary
	 * file then stays until the connection times out); measured by
	 * tests/api/test_core.py. */
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL | MHD_USE_ERROR_LOG |
			 MHD_ALLOW_SUSPEND_RESUME;
	if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	s->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, s,
				     MHD_OPTION_EXTERNAL_LOGGER, log_mhd, NULL,
				     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				     MHD_OPTION_THREAD_POOL_SIZE, threads ? threads : 2,
				     MHD_OPTION_NOTIFY_COMPLETED, on_completed, s,
				     MHD_OPTION_CONNECTION_TIMEOUT, 120u,
				     MHD_OPTION_CONNECTION_LIMIT, 1000u,
				     MHD_OPTION_END);
	if (!s->daemon) {
		pthread_mutex_destroy(&s->sse_lock);
		free(s);
		return -EADDRINUSE;
	}
	if (ctx->live && pthread_create(&s->notifier, NULL, sse_notifier, s) == 0)
		s->notifier_running = true;
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	if (port_out)
		*port_out = di ? di->port : 0;
	*out = s;
	return 0;
}

void api_server_stop(struct api_server *s)
{
	if (!s)
		return;
	pthread_mutex_lock(&s->sse_lock);
	s->stopping = true;
	pthread_mutex_unlock(&s->sse_lock);
	/* Suspended connections must be resumed before the daemon stops:
	 * their next read ends their stream. */
	sse_resume_all(s);
	if (s->notifier_running) {
		live_status_wake(s->ctx->live);
		pthread_join(s->notifier, NULL);
	}
	MHD_stop_daemon(s->daemon);
	pthread_mutex_destroy(&s->sse_lock);
	free(s);
}
