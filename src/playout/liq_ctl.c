#include "playout/liq_ctl.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "common/timeutil.h"

int liq_ctl_init(struct liq_ctl *c, const char *socket_path, int64_t timeout_us)
{
	if (strlen(socket_path) >= sizeof(c->path))
		return -ENAMETOOLONG;
	snprintf(c->path, sizeof(c->path), "%s", socket_path);
	c->fd = -1;
	c->timeout_us = timeout_us > 0 ? timeout_us : 5 * USEC_PER_SEC;
	return 0;
}

void liq_ctl_release(struct liq_ctl *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

static int ctl_connect(struct liq_ctl *c)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", c->path);
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int r = -errno;
		close(fd);
		return r;
	}
	c->fd = fd;
	return 0;
}

static int wait_fd(int fd, short events, int64_t deadline)
{
	for (;;) {
		int64_t left = deadline - time_mono_us();
		if (left <= 0)
			return -ETIMEDOUT;
		struct pollfd p = { .fd = fd, .events = events };
		int n = poll(&p, 1, (int)((left + 999) / 1000));
		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static int send_line(struct liq_ctl *c, const char *command, int64_t deadline)
{
	char line[8192];
	int n = snprintf(line, sizeof(line), "%s\n", command);
	if (n < 0 || (size_t)n >= sizeof(line))
		return -EINVAL;
	size_t off = 0;
	while (off < (size_t)n) {
		int r = wait_fd(c->fd, POLLOUT, deadline);
		if (r < 0)
			return r;
		ssize_t w = send(c->fd, line + off, (size_t)n - off, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		off += (size_t)w;
	}
	return 0;
}

/* Read until a line "END"; keep what came before it in reply. */
static int read_reply(struct liq_ctl *c, struct buf *reply, int64_t deadline)
{
	char chunk[4096];
	for (;;) {
		/* Done when the text ends with "END\n" at a line start. */
		if (reply->len >= 4 && memcmp(reply->data + reply->len - 4, "END\n", 4) == 0 &&
		    (reply->len == 4 || reply->data[reply->len - 5] == '\n')) {
			reply->len -= reply->len == 4 ? 4 : 5;
			reply->data[reply->len] = '\0';
			return 0;
		}
		int r = wait_fd(c->fd, POLLIN, deadline);
		if (r < 0)
			return r;
		ssize_t n = recv(c->fd, chunk, sizeof(chunk), 0);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (n == 0)
			return -EPIPE;
		for (ssize_t i = 0; i < n; i++) {
			if (chunk[i] == '\r')
				continue;
			if (buf_append_char(reply, chunk[i]) < 0)
				return -ENOSPC;
		}
	}
}

int liq_ctl_command(struct liq_ctl *c, const char *command, struct buf *reply)
{
	if (strpbrk(command, "\r\n"))
		return -EINVAL;
	buf_reset(reply);
	int r;
	if (c->fd < 0) {
		r = ctl_connect(c);
		if (r < 0)
			return r;
	}
	int64_t deadline = time_mono_us() + c->timeout_us;
	r = send_line(c, command, deadline);
	if (r == 0)
		r = read_reply(c, reply, deadline);
	if (r < 0)
		liq_ctl_release(c);
	return r;
}
