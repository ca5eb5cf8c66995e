/*
 * safety_feed.c - the source of each output's Icecast fallback mount; see
 * safety_feed.h.
 *
 * The feed is a plain Icecast source client: "PUT <mount> HTTP/1.1" with
 * Basic authentication as user "source", an "HTTP/1.x 200" answer, then
 * the audio. It is paced by the file's constant byte rate, a little ahead
 * of real time (LEAD_US) so Icecast's queue never runs dry.
 */
#include "playout/safety_feed.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/log.h"
#include "common/timeutil.h"

#define COMPONENT "safety"

extern char **environ;
#define CHUNK 4096
#define LEAD_US (500 * USEC_PER_MSEC)
#define RETRY_US USEC_PER_SEC
#define STEP_US (100 * USEC_PER_MSEC)	/* how often a sleeping thread looks at stop */
#define IO_TIMEOUT_MS 5000
#define POLL_STEP_MS 100	/* a blocked thread looks at stop this often */
#define ANSWER_MAX 1024

struct safety_feed {
	char host[256];
	char port[8];
	char password[256];
	char mount[512];
	char file[1024];
	char source[1024];	/* encoded into file first when set */
	char ffmpeg[256];
	int bitrate;
	enum proto_format format;
	int64_t byte_rate;	/* bytes per second of the file */
	pthread_t thread;
	atomic_bool stop;
};

bool safety_feed_supported(enum proto_format format)
{
	return format == PROTO_FORMAT_MP3 || format == PROTO_FORMAT_AAC;
}

/* Sleep until the monotonic instant until, or less when stopped. */
static void sleep_until(struct safety_feed *f, int64_t until)
{
	for (;;) {
		int64_t left = until - time_mono_us();
		if (left <= 0 || atomic_load(&f->stop))
			return;
		if (left > STEP_US)
			left = STEP_US;
		struct timespec ts = { left / USEC_PER_SEC, (long)(left % USEC_PER_SEC) * 1000 };
		nanosleep(&ts, NULL);
	}
}

/* Wait for events on fd for at most IO_TIMEOUT_MS, looking at stop every
 * POLL_STEP_MS: 1 ready, 0 timed out or stopped, -errno. */
static int wait_fd(struct safety_feed *f, int fd, short events)
{
	for (int waited = 0; waited < IO_TIMEOUT_MS && !atomic_load(&f->stop);
	     waited += POLL_STEP_MS) {
		struct pollfd pfd = { .fd = fd, .events = events };
		int pr = poll(&pfd, 1, POLL_STEP_MS);
		if (pr > 0)
			return 1;
		if (pr < 0 && errno != EINTR)
			return -errno;
	}
	return 0;
}

static int connect_to(struct safety_feed *f)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *res = NULL;
	int e = getaddrinfo(f->host, f->port, &hints, &res);
	if (e != 0)
		return -EHOSTUNREACH;
	int fd = -ECONNREFUSED;
	for (struct addrinfo *a = res; a; a = a->ai_next) {
		int s = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC, a->ai_protocol);
		if (s < 0)
			continue;
		int fl = fcntl(s, F_GETFL);
		fcntl(s, F_SETFL, fl | O_NONBLOCK);
		int c = connect(s, a->ai_addr, a->ai_addrlen);
		if (c < 0 && errno == EINPROGRESS) {
			int err = 0;
			socklen_t len = sizeof(err);
			int w = wait_fd(f, s, POLLOUT);
			c = w > 0 && getsockopt(s, SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err == 0
				    ? 0 : -1;
			errno = w > 0 ? (err ? err : ECONNREFUSED) : ETIMEDOUT;
		}
		if (c == 0) {
			fd = s;
			break;
		}
		fd = -errno;
		close(s);
	}
	freeaddrinfo(res);
	return fd;
}

/* Write all of data, waiting at most IO_TIMEOUT_MS for room. 0 or -errno. */
static int send_all(struct safety_feed *f, int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len > 0) {
		int pr = wait_fd(f, fd, POLLOUT);
		if (pr <= 0)
			return pr == 0 ? -ETIMEDOUT : pr;
		ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
		if (w < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

/* Send the source request and read Icecast's answer: 0 when accepted,
 * -EACCES when refused (its status line in why), or -errno. */
static int handshake(struct safety_feed *f, int fd, char *why, size_t whylen)
{
	char cred[300], auth[420], req[2048];
	snprintf(cred, sizeof(cred), "source:%s", f->password);
	sodium_bin2base64(auth, sizeof(auth), (const unsigned char *)cred, strlen(cred),
			  sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(cred, sizeof(cred));
	int n = snprintf(req, sizeof(req),
			 "PUT %s HTTP/1.1\r\nHost: %s:%s\r\nAuthorization: Basic %s\r\n"
			 "User-Agent: onair-playout/%s\r\nContent-Type: %s\r\n"
			 "Ice-Public: 0\r\nIce-Name: onair safety\r\n\r\n",
			 f->mount, f->host, f->port, auth, ONAIR_VERSION,
			 f->format == PROTO_FORMAT_AAC ? "audio/aac" : "audio/mpeg");
	sodium_memzero(auth, sizeof(auth));
	int r = n > 0 && (size_t)n < sizeof(req) ? send_all(f, fd, req, (size_t)n) : -ENAMETOOLONG;
	sodium_memzero(req, sizeof(req));
	if (r < 0)
		return r;
	char answer[ANSWER_MAX];
	size_t got = 0;
	answer[0] = '\0';
	while (got < sizeof(answer) - 1 && !strstr(answer, "\r\n\r\n")) {
		int pr = wait_fd(f, fd, POLLIN);
		if (pr <= 0)
			return pr == 0 ? -ETIMEDOUT : pr;
		ssize_t rd = recv(fd, answer + got, sizeof(answer) - 1 - got, 0);
		if (rd <= 0)
			return rd == 0 ? -ECONNRESET : -errno;
		got += (size_t)rd;
		answer[got] = '\0';
	}
	answer[got] = '\0';
	char *eol = strstr(answer, "\r\n");
	if (eol)
		*eol = '\0';
	if (strncmp(answer, "HTTP/1.", 7) == 0 && strncmp(answer + 8, " 200", 4) == 0)
		return 0;
	snprintf(why, whylen, "%.120s", answer);
	return -EACCES;
}

/* Stream the file in a loop until stopped or the connection fails. */
static int stream(struct safety_feed *f, int fd)
{
	int in = open(f->file, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -errno;
	char buf[CHUNK];
	int64_t start = time_mono_us(), sent = 0;
	int r = 0;
	while (!atomic_load(&f->stop)) {
		ssize_t n = read(in, buf, sizeof(buf));
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0) {
			if (lseek(in, 0, SEEK_SET) < 0 || sent == 0) {
				r = sent == 0 ? -ENODATA : -errno;
				break;
			}
			continue;
		}
		if ((r = send_all(f, fd, buf, (size_t)n)) < 0)
			break;
		sent += n;
		/* Ahead of real time by LEAD_US, never more. */
		sleep_until(f, start + sent * USEC_PER_SEC / f->byte_rate - LEAD_US);
	}
	close(in);
	return r;
}

static void *feed_main(void *arg)
{
	struct safety_feed *f = arg;
	int last_error = 0;
	/* The audio, encoded like the output, once (here, not in playout's
	 * loop: it takes a moment). */
	struct stat fst, sst;
	if (f->source[0] && (stat(f->file, &fst) < 0 ||
			     (stat(f->source, &sst) == 0 && sst.st_mtime > fst.st_mtime))) {
		int r = safety_feed_encode(f->ffmpeg, f->source, f->file, f->format, f->bitrate);
		if (r < 0) {
			log_error(COMPONENT, "no safety feed for %s: encoding %s: %s", f->mount,
				  f->source, strerror(-r));
			return NULL;
		}
	}
	while (!atomic_load(&f->stop)) {
		int64_t attempt = time_mono_us();
		char why[160] = "";
		int fd = connect_to(f);
		int r = fd;
		if (fd >= 0) {
			r = handshake(f, fd, why, sizeof(why));
			if (r == 0) {
				log_info(COMPONENT, "feeding %s on %s:%s", f->mount, f->host, f->port);
				last_error = 0;
				r = stream(f, fd);
			}
			close(fd);
		}
		if (r < 0 && r != last_error && !atomic_load(&f->stop)) {
			log_warn(COMPONENT, "%s on %s:%s: %s%s; retrying every second", f->mount,
				 f->host, f->port, r == -EACCES ? "refused: " : "",
				 r == -EACCES ? why : strerror(-r));
			last_error = r;
		}
		sleep_until(f, attempt + RETRY_US);
	}
	return NULL;
}

int safety_feed_start(struct safety_feed **out, const struct safety_feed_options *o)
{
	if (!out)
		return -EINVAL;
	*out = NULL;
	if (!o || !o->host || !o->password || !o->mount || o->mount[0] != '/' || !o->file ||
	    o->port < 1 || o->port > 65535 || !safety_feed_supported(o->format) ||
	    o->bitrate < 8 || o->bitrate > 1024)
		return -EINVAL;
	struct safety_feed *f = xcalloc(1, sizeof(*f));
	if (snprintf(f->host, sizeof(f->host), "%s", o->host) >= (int)sizeof(f->host) ||
	    snprintf(f->password, sizeof(f->password), "%s", o->password) >= (int)sizeof(f->password) ||
	    snprintf(f->mount, sizeof(f->mount), "%s%s", o->mount, SAFETY_FEED_SUFFIX) >=
		    (int)sizeof(f->mount) ||
	    snprintf(f->file, sizeof(f->file), "%s", o->file) >= (int)sizeof(f->file) ||
	    snprintf(f->source, sizeof(f->source), "%s", o->source ? o->source : "") >=
		    (int)sizeof(f->source) ||
	    snprintf(f->ffmpeg, sizeof(f->ffmpeg), "%s", o->ffmpeg ? o->ffmpeg : "ffmpeg") >=
		    (int)sizeof(f->ffmpeg)) {
		free(f);
		return -ENAMETOOLONG;
	}
	snprintf(f->port, sizeof(f->port), "%d", o->port);
	f->format = o->format;
	f->bitrate = o->bitrate;
	f->byte_rate = (int64_t)o->bitrate * 1000 / 8;
	atomic_init(&f->stop, false);
	int e = pthread_create(&f->thread, NULL, feed_main, f);
	if (e != 0) {
		sodium_memzero(f->password, sizeof(f->password));
		free(f);
		return -e;
	}
	*out = f;
	return 0;
}

void safety_feed_stop(struct safety_feed *f)
{
	if (!f)
		return;
	atomic_store(&f->stop, true);
	pthread_join(f->thread, NULL);
	sodium_memzero(f->password, sizeof(f->password));
	free(f);
}

int safety_feed_encode(const char *ffmpeg, const char *in, const char *out,
		       enum proto_format format, int kbps)
{
	if (!ffmpeg || !in || !out || !safety_feed_supported(format) || kbps < 8 || kbps > 1024)
		return -EINVAL;
	char tmp[1100], rate[16];
	/* Two feeds may encode the same file at once: each its own name. */
	static atomic_uint serial;
	if (snprintf(tmp, sizeof(tmp), "%s.%d.%u.tmp", out, (int)getpid(),
		     atomic_fetch_add(&serial, 1)) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	snprintf(rate, sizeof(rate), "%dk", kbps);
	bool mp3 = format == PROTO_FORMAT_MP3;
	const char *argv[32];
	size_t n = 0;
	const char *head[] = { ffmpeg, "-nostdin", "-loglevel", "error", "-y", "-i", in,
			       "-ac", "2", "-ar", "44100", "-c:a", mp3 ? "libmp3lame" : "aac",
			       "-b:a", rate, "-map_metadata", "-1" };
	for (size_t i = 0; i < sizeof(head) / sizeof(head[0]); i++)
		argv[n++] = head[i];
	if (mp3) {	/* no ID3 tag or Xing frame: the file loops as bare frames */
		argv[n++] = "-id3v2_version";
		argv[n++] = "0";
		argv[n++] = "-write_xing";
		argv[n++] = "0";
	}
	argv[n++] = "-f";
	argv[n++] = mp3 ? "mp3" : "adts";
	argv[n++] = tmp;
	argv[n] = NULL;

	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawnattr_init(&attr);
	sigset_t none;
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
	pid_t pid;
	int e = posix_spawnp(&pid, ffmpeg, &fa, &attr, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	if (e != 0)
		return -e;
	int status = 0;
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		unlink(tmp);
		return -EIO;
	}
	struct stat st;
	if (stat(tmp, &st) < 0 || st.st_size == 0) {
		unlink(tmp);
		return -EIO;
	}
	if (rename(tmp, out) < 0) {
		int r = -errno;
		unlink(tmp);
		return r;
	}
	return 0;
}
