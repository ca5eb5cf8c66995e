#include "playout/event_log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/error.h"
#include "common/fsutil.h"
#include "common/log.h"
#include "common/timeutil.h"

#define COMPONENT "events"
#define JOURNAL "events.journal"
#define SEQ_FILE "events.seq"
#define SENT_FILE "events.sent"
#define DEFAULT_MAX_PENDING 100000
#define COMPACT_BYTES (1u << 20)

struct pending {
	uint64_t seq;
	char *json;
	size_t len;
};

struct event_log {
	char dir[1024];
	char journal[1100];
	char instance[65];
	char subject[128];
	struct mq *mq;
	size_t max_pending;

	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t sender;
	bool stop;
	int journal_fd;
	off_t journal_size;
	uint64_t last_seq;	/* last assigned */
	uint64_t sent_seq;	/* last confirmed by the queue */
	struct pending *q;	/* ring of unsent events, oldest at head */
	size_t q_head, q_len, q_cap;
};

static uint64_t read_number(const char *dir, const char *name)
{
	char path[1200];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	struct buf b;
	buf_init(&b, 64);
	uint64_t v = 0;
	if (fs_read_file(path, &b) == 0)
		v = strtoull(b.data, NULL, 10);
	buf_release(&b);
	return v;
}

static int write_number(const char *dir, const char *name, uint64_t v)
{
	char text[32];
	int n = snprintf(text, sizeof(text), "%" PRIu64 "\n", v);
	return fs_write_atomic(dir, name, text, (size_t)n);
}

static void q_push(struct event_log *l, uint64_t seq, char *json, size_t len)
{
	if (l->q_len == l->max_pending) {
		log_warn(COMPONENT, "journal full (%zu unsent): dropping event %" PRIu64,
			 l->max_pending, l->q[l->q_head].seq);
		free(l->q[l->q_head].json);
		l->q_head = (l->q_head + 1) % l->q_cap;
		l->q_len--;
	}
	if (l->q_len == l->q_cap) {
		size_t cap = l->q_cap ? l->q_cap * 2 : 64;
		struct pending *nq = xcalloc(cap, sizeof(*nq));
		for (size_t i = 0; i < l->q_len; i++)
			nq[i] = l->q[(l->q_head + i) % l->q_cap];
		free(l->q);
		l->q = nq;
		l->q_cap = cap;
		l->q_head = 0;
	}
	l->q[(l->q_head + l->q_len) % l->q_cap] = (struct pending){ seq, json, len };
	l->q_len++;
}

static void q_pop(struct event_log *l)
{
	free(l->q[l->q_head].json);
	l->q_head = (l->q_head + 1) % l->q_cap;
	l->q_len--;
}

/* Read the journal: every line is one encoded event; keep the unsent ones. */
static int load_journal(struct event_log *l)
{
	struct buf text;
	buf_init(&text, 512u << 20);
	int r = fs_read_file(l->journal, &text);
	if (r == -ENOENT)
		r = 0;
	for (char *line = text.data; r == 0 && line < text.data + text.len;) {
		char *nl = memchr(line, '\n', (size_t)(text.data + text.len - line));
		if (!nl)
			break;	/* a torn last line from a crash: dropped */
		struct proto_event e;
		struct proto_error err;
		if (proto_event_decode(line, (size_t)(nl - line), &e, &err) == 0) {
			if (e.seq > l->sent_seq)
				q_push(l, e.seq, xstrndup(line, (size_t)(nl - line)),
				       (size_t)(nl - line));
			if (e.seq > l->last_seq)
				l->last_seq = e.seq;
			proto_event_release(&e);
		} else {
			log_warn(COMPONENT, "journal line skipped: %s", err.text);
		}
		line = nl + 1;
	}
	buf_release(&text);
	return r;
}

/* Rewrite the journal with only the unsent events. Called with the lock. */
static int compact(struct event_log *l)
{
	struct buf text;
	buf_init(&text, 512u << 20);
	for (size_t i = 0; i < l->q_len; i++) {
		const struct pending *pe = &l->q[(l->q_head + i) % l->q_cap];
		if (buf_append(&text, pe->json, pe->len) < 0 || buf_append_char(&text, '\n') < 0)
			break;
	}
	int r = fs_write_atomic(l->dir, JOURNAL, text.data, text.len);
	buf_release(&text);
	if (r < 0)
		return r;
	if (l->journal_fd >= 0)
		close(l->journal_fd);
	l->journal_fd = open(l->journal, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (l->journal_fd < 0)
		return -errno;
	struct stat st;
	l->journal_size = fstat(l->journal_fd, &st) == 0 ? st.st_size : 0;
	return 0;
}

/* Wait on l->wake (lock held) for at most ms milliseconds. */
static void wait_wake(struct event_log *l, long ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&l->wake, &l->lock, &ts);
}

static void *sender_main(void *arg)
{
	struct event_log *l = arg;
	pthread_mutex_lock(&l->lock);
	while (!l->stop || l->q_len) {
		if (l->q_len == 0 || !l->mq || !mq_connected(l->mq)) {
			if (l->stop)
				break;
			wait_wake(l, 250);
			continue;
		}
		struct pending pe = l->q[l->q_head];
		char *json = xstrndup(pe.json, pe.len);
		char msg_id[96];
		snprintf(msg_id, sizeof(msg_id), "%s.%" PRIu64, l->instance, pe.seq);
		pthread_mutex_unlock(&l->lock);
		int r = mq_publish(l->mq, l->subject, json, pe.len, msg_id, NULL);
		free(json);
		pthread_mutex_lock(&l->lock);
		if (r < 0) {
			log_debug(COMPONENT, "publish of event %" PRIu64 " failed: %s", pe.seq,
				  onair_strerror(r));
			if (l->stop)
				break;
			wait_wake(l, 1000);
			continue;
		}
		if (l->q_len && l->q[l->q_head].seq == pe.seq)
			q_pop(l);
		l->sent_seq = pe.seq;
		write_number(l->dir, SENT_FILE, pe.seq);
		if (l->q_len == 0 && l->journal_size > (off_t)COMPACT_BYTES)
			compact(l);
		pthread_cond_broadcast(&l->wake);
	}
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

int event_log_open(struct event_log **out, const struct event_log_options *opts)
{
	if (!opts->dir || !opts->instance || strlen(opts->instance) > 64)
		return -EINVAL;
	struct event_log *l = xcalloc(1, sizeof(*l));
	snprintf(l->dir, sizeof(l->dir), "%s", opts->dir);
	snprintf(l->journal, sizeof(l->journal), "%s/%s", opts->dir, JOURNAL);
	snprintf(l->instance, sizeof(l->instance), "%s", opts->instance);
	snprintf(l->subject, sizeof(l->subject), "%s.%s", MQ_SUBJECT_EVENTS, opts->instance);
	l->mq = opts->mq;
	l->max_pending = opts->max_pending ? opts->max_pending : DEFAULT_MAX_PENDING;
	l->journal_fd = -1;
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->wake, NULL);
	l->last_seq = read_number(l->dir, SEQ_FILE);
	l->sent_seq = read_number(l->dir, SENT_FILE);
	int r = load_journal(l);
	if (r == 0)
		r = compact(l);
	if (r < 0)
		goto out_free;
	if (l->q_len)
		log_info(COMPONENT, "%zu events from an earlier run still to send", l->q_len);
	r = -pthread_create(&l->sender, NULL, sender_main, l);
	if (r < 0)
		goto out_free;
	*out = l;
	return 0;
out_free:
	if (l->journal_fd >= 0)
		close(l->journal_fd);
	while (l->q_len)
		q_pop(l);
	free(l->q);
	free(l);
	return r;
}

void event_log_close(struct event_log *l)
{
	if (!l)
		return;
	event_log_flush(l, 2 * USEC_PER_SEC);
	pthread_mutex_lock(&l->lock);
	l->stop = true;
	/* What is still unsent stays in the journal for the next run. */
	while (l->q_len)
		q_pop(l);
	pthread_cond_broadcast(&l->wake);
	pthread_mutex_unlock(&l->lock);
	pthread_join(l->sender, NULL);
	if (l->journal_fd >= 0)
		close(l->journal_fd);
	free(l->q);
	pthread_cond_destroy(&l->wake);
	pthread_mutex_destroy(&l->lock);
	free(l);
}

int event_log_emit(struct event_log *l, struct proto_event *e)
{
	pthread_mutex_lock(&l->lock);
	e->instance = l->instance;
	e->seq = l->last_seq + 1;
	if (!e->at)
		e->at = time_now_us();
	struct buf text;
	buf_init(&text, PROTO_MESSAGE_MAX);
	int r = proto_event_encode(e, &text);
	if (r < 0)
		goto out_unlock;
	if (buf_append_char(&text, '\n') < 0) {
		r = -ENOSPC;
		goto out_unlock;
	}
	ssize_t w = write(l->journal_fd, text.data, text.len);
	if (w != (ssize_t)text.len) {
		r = w < 0 ? -errno : -EIO;
		goto out_unlock;
	}
	fdatasync(l->journal_fd);
	l->journal_size += w;
	l->last_seq = e->seq;
	write_number(l->dir, SEQ_FILE, e->seq);
	size_t len = text.len - 1;
	q_push(l, e->seq, buf_detach(&text, NULL), len);
	pthread_cond_broadcast(&l->wake);
out_unlock:
	buf_release(&text);
	pthread_mutex_unlock(&l->lock);
	return r;
}

size_t event_log_pending(struct event_log *l)
{
	pthread_mutex_lock(&l->lock);
	size_t n = l->q_len;
	pthread_mutex_unlock(&l->lock);
	return n;
}

int event_log_flush(struct event_log *l, int64_t timeout_us)
{
	int64_t deadline = time_mono_us() + timeout_us;
	pthread_mutex_lock(&l->lock);
	while (l->q_len && time_mono_us() < deadline) {
		wait_wake(l, 50);
	}
	int r = l->q_len ? -ETIMEDOUT : 0;
	pthread_mutex_unlock(&l->lock);
	return r;
}
