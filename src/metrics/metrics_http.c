/*
 * metrics_http.c - GET /metrics over libmicrohttpd; see metrics_http.h.
 */
#include "metrics/metrics_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/log.h"

#define RENDER_MAX (8u << 20)

struct metrics_http {
	struct metrics *m;
	struct MHD_Daemon *daemon;
};

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *type,
			      char *body, size_t len, bool owned)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
		len, body, owned ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
	if (!resp) {
		if (owned)
			free(body);
		return MHD_NO;
	}
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
	enum MHD_Result r = MHD_queue_response(conn, status, resp);
	MHD_destroy_response(resp);
	return r;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct metrics_http *h = cls;
	(void)version;
	(void)upload_data;
	if (!*con_cls) {	/* first call: headers only */
		*con_cls = h;
		return MHD_YES;
	}
	*upload_data_size = 0;
	static char not_found[] = "not found: the metrics are at /metrics\n";
	static char not_allowed[] = "only GET and HEAD\n";
	if (strcmp(url, "/metrics") != 0)
		return answer(conn, 404, "text/plain", not_found, sizeof(not_found) - 1, false);
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
		return answer(conn, 405, "text/plain", not_allowed, sizeof(not_allowed) - 1,
			      false);
	struct buf out;
	buf_init(&out, RENDER_MAX);
	if (metrics_render(h->m, &out) < 0) {
		buf_release(&out);
		static char big[] = "the metrics do not fit\n";
		return answer(conn, 500, "text/plain", big, sizeof(big) - 1, false);
	}
	size_t len = 0;
	char *body = buf_detach(&out, &len);
	return answer(conn, 200, METRICS_CONTENT_TYPE, body, len, true);
}

int metrics_http_start(struct metrics *m, const char *address, int port,
		       struct metrics_http **out, uint16_t *bound)
{
	*out = NULL;
	struct sockaddr_storage ss;
	memset(&ss, 0, sizeof(ss));
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL;
	if (port < 0 || port > 65535 || !address)
		return -EINVAL;
	struct sockaddr_in *v4 = (struct sockaddr_in *)(void *)&ss;
	struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)(void *)&ss;
	if (inet_pton(AF_INET, address, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
	} else if (inet_pton(AF_INET6, address, &v6->sin6_addr) == 1) {
		v6->sin6_family = AF_INET6;
		v6->sin6_port = htons((uint16_t)port);
		flags |= MHD_USE_IPv6;
	} else {
		return -EINVAL;
	}
	struct metrics_http *h = xcalloc(1, sizeof(*h));
	h->m = m;
	h->daemon = MHD_start_daemon(flags, 0, NULL, NULL, on_request, h,
				     MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
				     MHD_OPTION_CONNECTION_TIMEOUT, 30u,
				     MHD_OPTION_CONNECTION_LIMIT, 64u, MHD_OPTION_END);
	if (!h->daemon) {
		free(h);
		return -EADDRINUSE;
	}
	if (bound) {
		const union MHD_DaemonInfo *di =
			MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
		*bound = di ? di->port : 0;
	}
	*out = h;
	return 0;
}

int metrics_http_start_from(struct metrics *m, const struct config *cfg, const char *role,
			    struct metrics_http **out)
{
	*out = NULL;
	int64_t port = 0;
	if (config_get_int(cfg, "metrics.port", 0, 65535, &port) < 0) {
		log_error(role, "metrics.port must be a port number (0: no metrics endpoint)");
		return -EINVAL;
	}
	if (port == 0)
		return 0;
	const char *address = config_get(cfg, "metrics.address");
	int r = metrics_http_start(m, address ? address : "127.0.0.1", (int)port, out, NULL);
	if (r < 0)
		log_error(role, "cannot serve metrics on %s:%lld: %s", address ? address : "?",
			  (long long)port, onair_strerror(r));
	else
		log_info(role, "metrics at http://%s:%lld/metrics", address, (long long)port);
	return r;
}

void metrics_http_stop(struct metrics_http *h)
{
	if (!h)
		return;
	MHD_stop_daemon(h->daemon);
	free(h);
}
