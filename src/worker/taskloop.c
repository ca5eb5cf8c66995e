/*
 * taskloop.c - `onair worker`: tasks from the queue to their handlers;
 * see taskloop.h.
 */
#include "worker/taskloop.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/alloc.h"
#include "common/cli.h"
#include "common/error.h"
#include "common/log.h"
#include "common/runtime.h"
#include "metrics/metrics_http.h"
#include "mq/presence.h"
#include "worker/library.h"

#define LOG "worker"
/* How long one fetch waits: also how quickly a thread sees a stop. */
#define FETCH_WAIT_US (1 * USEC_PER_SEC)
/* Pause after the queue or the database failed a thread. */
#define TROUBLE_PAUSE_US (1 * USEC_PER_SEC)
/* Redelivery delay of a task of a newer protocol version. */
#define NEWER_VERSION_DELAY_US (60 * USEC_PER_SEC)
/* Redelivery delay of a task whose dead letter could not be published. */
#define DEAD_LETTER_RETRY_US (5 * USEC_PER_SEC)
/* Temporary files older than this in the store are from a crash. */
#define SWEEP_AGE_US (3600 * USEC_PER_SEC)
#define ERR_LEN 512

static task_handler_fn handlers[PROTO_TASK__COUNT] = {
	[PROTO_TASK_ANALYZE_FILE] = taskloop_analyze_file,
};

struct loop {
	const struct config *cfg;
	const char *db_url;
	struct mq *mq;
	struct storage *st;
	int max_attempts;
	atomic_bool stop;
	struct metrics *metrics;
	struct metric *tasks, *duration, *redeliveries, *waiting, *in_progress;
};

struct worker_thread {
	struct loop *loop;
	int no;
	pthread_t thread;
	bool started;
};

int taskloop_register(enum proto_task_kind kind, task_handler_fn fn)
{
	if ((int)kind < 0 || kind >= PROTO_TASK__COUNT)
		return -EINVAL;
	handlers[kind] = fn;
	return 0;
}

bool task_env_stopping(void *opaque)
{
	const struct task_env *env = opaque;
	return env && env->stop && atomic_load(env->stop);
}

static bool loop_stopping(struct loop *l)
{
	return atomic_load(&l->stop);
}

/* Sleep up to us, waking early when the loop stops. */
static void pause_us(struct loop *l, int64_t us)
{
	int64_t end = time_mono_us() + us;
	while (!loop_stopping(l)) {
		int64_t left = end - time_mono_us();
		if (left <= 0)
			return;
		if (left > 100 * USEC_PER_MSEC)
			left = 100 * USEC_PER_MSEC;
		struct timespec ts = { 0, (long)(left * 1000) };
		nanosleep(&ts, NULL);
	}
}

/* Retry delay after failed attempt number attempt (1, 2, ...). */
static int64_t retry_delay_us(int attempt)
{
	int64_t d = TASKLOOP_RETRY_BASE_US;
	for (int i = 1; i < attempt && d < TASKLOOP_RETRY_MAX_US; i++)
		d *= 2;
	return d < TASKLOOP_RETRY_MAX_US ? d : TASKLOOP_RETRY_MAX_US;
}

/* ---- the built-in handler */

/* The files row's import_status into status: 0 or -ENOENT or an error. */
static int file_status(struct db *db, int64_t file_id, char status[16])
{
	struct db_rows *rows;
	int r = db_query(db, "SELECT import_status FROM files WHERE id = $1",
			 DB_PARAMS(DB_I(file_id)), &rows);
	if (r < 0)
		return r;
	r = -ENOENT;
	if (db_rows_next(rows)) {
		const char *s = db_col_text(rows, 0);
		snprintf(status, 16, "%s", s ? s : "");
		r = 0;
	}
	if (db_rows_error(rows) < 0)
		r = db_rows_error(rows);
	db_rows_free(rows);
	return r;
}

int taskloop_analyze_file(struct task_env *env, const struct proto_task *t, char *err,
			  size_t errlen)
{
	char status[16];
	int r = file_status(env->db, t->file_id, status);
	if (r == -ENOENT) {
		snprintf(err, errlen, "file %lld no longer exists", (long long)t->file_id);
		return TASK_GONE;
	}
	if (r < 0) {
		snprintf(err, errlen, "reading the files row: %s", onair_strerror(r));
		return r;
	}
	if (strcmp(status, "ready") == 0) {
		snprintf(err, errlen, "already ready");
		return TASK_DONE;
	}
	struct library_analyze_options o = {
		.cancel = task_env_stopping,
		.cancel_opaque = env,
		.verify_hash = true,
	};
	bool playable = false;
	char why[ERR_LEN];
	r = library_analyze_file(env->db, env->st, t->file_id, &o, &playable, why, sizeof(why));
	if (r == 0) {
		if (playable)
			snprintf(err, errlen, "ready");
		else
			snprintf(err, errlen, "not playable: %.400s", why);
		return TASK_DONE;
	}
	if (r == -ENOENT) {
		snprintf(err, errlen, "file %lld no longer exists", (long long)t->file_id);
		return TASK_GONE;
	}
	if (r == -ECANCELED)
		return r;
	snprintf(err, errlen, "%s", why[0] ? why : onair_strerror(r));
	if (env->last_attempt) {
		/* The file shows why it never became ready. */
		int m = library_mark_failed(env->db, t->file_id, err, time_now_us());
		if (m < 0 && m != -ENOENT)
			log_warn(LOG, "file %lld: cannot mark it failed: %s", (long long)t->file_id,
				 onair_strerror(m));
	}
	return r;
}

/* ---- one message */

/* Answer a message, logging a failure (the task then comes back after
 * the ack wait, and the handlers are idempotent). */
static void answer_ack(struct mq_msg *m)
{
	int r = mq_msg_ack(m);
	if (r < 0)
		log_warn(LOG, "ack of %s seq %llu failed: %s", m->subject,
			 (unsigned long long)m->stream_seq, onair_strerror(r));
}

static void answer_nak(struct mq_msg *m, int64_t delay_us)
{
	int r = mq_msg_nak(m, delay_us);
	if (r < 0)
		log_warn(LOG, "nak of %s seq %llu failed: %s", m->subject,
			 (unsigned long long)m->stream_seq, onair_strerror(r));
}

static void answer_term(struct mq_msg *m)
{
	int r = mq_msg_term(m);
	if (r < 0)
		log_warn(LOG, "term of %s seq %llu failed: %s", m->subject,
			 (unsigned long long)m->stream_seq, onair_strerror(r));
}

/* Republish a message's bytes on the dead-letter subject for tail
 * ("tasks.<kind>"). 0 or -errno. */
static int dead_letter(struct loop *l, const char *tail, const struct mq_msg *m,
		       const char *msg_id)
{
	char subject[256];
	snprintf(subject, sizeof(subject), "%s.%.200s", MQ_SUBJECT_DEAD, tail);
	int r = mq_publish(l->mq, subject, m->data, m->len, msg_id, NULL);
	if (r < 0)
		log_error(LOG, "cannot publish on %s: %s", subject, onair_strerror(r));
	return r;
}

/* A message that is not a task this worker can read: dead-letter it on
 * onair.dead.<its subject after "onair."> and terminate it. */
static void reject_undecodable(struct loop *l, struct mq_msg *m, const char *why)
{
	const char *prefix = "onair.";
	const char *tail = strncmp(m->subject, prefix, strlen(prefix)) == 0
				   ? m->subject + strlen(prefix)
				   : "tasks.invalid";
	log_error(LOG, "undecodable task on %s (seq %llu): %s; dead-lettered", m->subject,
		  (unsigned long long)m->stream_seq, why);
	if (dead_letter(l, tail, m, m->msg_id) < 0) {
		answer_nak(m, DEAD_LETTER_RETRY_US);
		return;
	}
	answer_term(m);
}

/* "file 12", "podcast 3", "podcast 3 episode 7". */
static void describe(const struct proto_task *t, char *out, size_t size)
{
	switch (t->kind) {
	case PROTO_TASK_ANALYZE_FILE:
		snprintf(out, size, "file %lld", (long long)t->file_id);
		break;
	case PROTO_TASK_POLL_PODCAST:
		snprintf(out, size, "podcast %lld", (long long)t->podcast_id);
		break;
	case PROTO_TASK_INGEST_EPISODE:
		snprintf(out, size, "podcast %lld episode %lld", (long long)t->podcast_id,
			 (long long)t->episode_id);
		break;
	default:
		snprintf(out, size, "?");
		break;
	}
}

/* Fail the task for good: dead letter, tasks row failed, term. When the
 * dead letter cannot be published the task is naked instead, its row
 * queued with the attempt not counted, so that it is neither lost nor
 * given up for the wrong reason: the next delivery runs the last attempt
 * again. Returns the outcome text. */
static const char *fail_for_good(struct loop *l, struct db *db, struct mq_msg *m,
				 const struct proto_task *t, const char *err)
{
	char tail[64];
	snprintf(tail, sizeof(tail), "tasks.%s", proto_task_kind_name(t->kind));
	int64_t now = time_now_us();
	if (dead_letter(l, tail, m, t->id) < 0) {
		library_task_requeue(db, t->id, now);
		library_task_failed(db, t->id, err, false, now);
		answer_nak(m, DEAD_LETTER_RETRY_US);
		return "failed, but could not be dead-lettered: retried later";
	}
	int r = library_task_failed(db, t->id, err, true, now);
	if (r < 0 && r != -ENOENT)
		log_warn(LOG, "task %s: cannot record its failure: %s", t->id, onair_strerror(r));
	answer_term(m);
	return "failed (dead-lettered)";
}

/* Mark the task's row running, creating it when the publisher made none:
 * 0 with *attempts, -EALREADY (finished before), -ENOENT (the row it
 * refers to is gone), or a database error. */
static int start_task(struct db *db, const struct proto_task *t, int *attempts)
{
	int64_t now = time_now_us();
	int r = library_task_start(db, t->id, now, attempts);
	if (r != -ENOENT)
		return r;
	r = library_task_create(db, t->id, proto_task_kind_name(t->kind), t->file_id,
				t->podcast_id, t->episode_id, now);
	if (r < 0 && r != -EEXIST)
		return r;
	return library_task_start(db, t->id, now, attempts);
}

static void handle(struct loop *l, struct db *db, struct mq_msg *m)
{
	int64_t t0 = time_mono_us();
	struct proto_task t;
	memset(&t, 0, sizeof(t));
	struct proto_error perr;
	int r = proto_task_decode(m->data, m->len, &t, &perr);
	if (r == -ONAIR_EPROTO_VERSION) {
		log_warn(LOG, "task on %s (seq %llu) is of a newer protocol version; left for a "
			 "newer worker", m->subject, (unsigned long long)m->stream_seq);
		answer_nak(m, NEWER_VERSION_DELAY_US);
		return;
	}
	if (r < 0) {
		reject_undecodable(l, m, perr.text);
		return;
	}

	const char *kind = proto_task_kind_name(t.kind);
	const char *result = "failed";
	if (m->delivered > 1)
		metric_add(l->redeliveries, 1, &kind);
	char about[96];
	describe(&t, about, sizeof(about));
	char err[ERR_LEN] = "";
	char outcome[ERR_LEN + 128];
	int attempts = 0;
	task_handler_fn fn = handlers[t.kind];
	if (!fn) {
		snprintf(err, sizeof(err), "no handler for task kind %s in this worker", kind);
		snprintf(outcome, sizeof(outcome), "%s: %s", fail_for_good(l, db, m, &t, err), err);
		goto out_log;
	}

	r = start_task(db, &t, &attempts);
	if (r == -EALREADY) {
		answer_ack(m);
		result = "duplicate";
		snprintf(outcome, sizeof(outcome), "finished before (duplicate delivery): acked");
		goto out_log;
	}
	if (r == -ENOENT) {
		answer_term(m);
		result = "gone";
		snprintf(outcome, sizeof(outcome), "gone: %s no longer exists", about);
		goto out_log;
	}
	if (r < 0) {
		int64_t delay = retry_delay_us((int)(m->delivered > 30 ? 30 : m->delivered));
		answer_nak(m, delay);
		result = "retry";
		snprintf(outcome, sizeof(outcome), "database unavailable (%s: %s); retry in %lld s",
			 onair_strerror(r), db_errmsg(db), (long long)(delay / USEC_PER_SEC));
		goto out_log;
	}
	if (attempts > l->max_attempts) {
		/* The previous attempts ended without an answer (the worker died). */
		snprintf(err, sizeof(err), "given up after %d attempts that did not finish",
			 attempts - 1);
		if (t.kind == PROTO_TASK_ANALYZE_FILE)
			library_mark_failed(db, t.file_id, err, time_now_us());
		snprintf(outcome, sizeof(outcome), "%s: %s", fail_for_good(l, db, m, &t, err), err);
		goto out_log;
	}

	struct task_env env = {
		.db = db,
		.st = l->st,
		.mq = l->mq,
		.cfg = l->cfg,
		.attempt = attempts,
		.last_attempt = attempts >= l->max_attempts,
		.stop = &l->stop,
	};
	r = fn(&env, &t, err, sizeof(err));
	int64_t now = time_now_us();
	if (r == TASK_DONE) {
		int d = library_task_done(db, t.id, now);
		if (d < 0 && d != -ENOENT) {
			/* Redone on redelivery: handlers are idempotent. */
			int64_t delay = retry_delay_us(attempts);
			library_task_failed(db, t.id, "recording the result failed", false, now);
			answer_nak(m, delay);
			result = "retry";
			snprintf(outcome, sizeof(outcome), "done, but not recorded (%s); retry",
				 onair_strerror(d));
		} else {
			answer_ack(m);
			result = "done";
			snprintf(outcome, sizeof(outcome), "done%s%s", err[0] ? ": " : "", err);
		}
	} else if (r == TASK_GONE) {
		library_task_failed(db, t.id, err, true, now);
		answer_term(m);
		result = "gone";
		snprintf(outcome, sizeof(outcome), "gone: %s", err);
	} else if (r == -ECANCELED) {
		int q = library_task_requeue(db, t.id, now);
		if (q < 0 && q != -ENOENT)
			log_warn(LOG, "task %s: cannot put it back: %s", t.id, onair_strerror(q));
		answer_nak(m, 0);
		result = "cancelled";
		snprintf(outcome, sizeof(outcome), "cancelled (stopping): handed back");
	} else if (r < 0 && !env.last_attempt) {
		int64_t delay = retry_delay_us(attempts);
		if (!err[0])
			snprintf(err, sizeof(err), "%s", onair_strerror(r));
		int f = library_task_failed(db, t.id, err, false, now);
		if (f < 0 && f != -ENOENT)
			log_warn(LOG, "task %s: cannot record the error: %s", t.id,
				 onair_strerror(f));
		answer_nak(m, delay);
		result = "retry";
		snprintf(outcome, sizeof(outcome), "temporary failure, retry in %lld s: %s",
			 (long long)(delay / USEC_PER_SEC), err);
	} else {
		/* TASK_FAILED, an unknown outcome, or the last attempt failed. */
		if (!err[0])
			snprintf(err, sizeof(err), "%s", r < 0 ? onair_strerror(r) : "failed");
		if (r < 0) {
			char last[ERR_LEN];
			snprintf(last, sizeof(last), "after %d attempts: %.450s", attempts, err);
			snprintf(err, sizeof(err), "%s", last);
		}
		snprintf(outcome, sizeof(outcome), "%s: %s", fail_for_good(l, db, m, &t, err), err);
	}
out_log:;
	double took = (double)(time_mono_us() - t0) / USEC_PER_SEC;
	const char *labels[] = { kind, result };
	metric_add(l->tasks, 1, labels);
	metric_observe(l->duration, took, &kind);
	log_info(LOG, "%s %s (%s): %s [%.2f s, attempt %d]", kind, t.id, about, outcome, took,
		 attempts);
	proto_task_release(&t);
}

/* ---- threads */

static void *thread_main(void *arg)
{
	struct worker_thread *w = arg;
	struct loop *l = w->loop;
	struct db *db = NULL;
	struct mq_consumer *c = NULL;
	bool db_trouble = false, mq_trouble = false;
	while (!loop_stopping(l)) {
		if (!db) {
			char err[256];
			int r = db_open(&db, l->db_url, err, sizeof(err));
			if (r < 0) {
				if (!db_trouble)
					log_warn(LOG, "thread %d: cannot open the database: %s; "
						 "retrying", w->no, err);
				db_trouble = true;
				db = NULL;
				pause_us(l, TROUBLE_PAUSE_US);
				continue;
			}
			db_trouble = false;
		}
		if (!c) {
			struct mq_consumer_options co = {
				.stream = MQ_STREAM_TASKS,
				.durable = TASKLOOP_DURABLE,
				.filter = MQ_SUBJECT_TASKS ".>",
				.ack_wait_us = TASKLOOP_ACK_WAIT_US,
			};
			int r = mq_consumer_open(l->mq, &co, &c);
			if (r < 0) {
				if (!mq_trouble)
					log_warn(LOG, "thread %d: cannot bind to consumer %s: %s; "
						 "retrying", w->no, TASKLOOP_DURABLE,
						 onair_strerror(r));
				mq_trouble = true;
				c = NULL;
				pause_us(l, TROUBLE_PAUSE_US);
				continue;
			}
		}
		struct mq_msg *m = NULL;
		size_t n = 0;
		int r = mq_consumer_fetch(c, &m, 1, FETCH_WAIT_US, &n);
		if (r < 0) {
			if (!mq_trouble)
				log_warn(LOG, "thread %d: fetching tasks failed: %s; retrying",
					 w->no, onair_strerror(r));
			mq_trouble = true;
			pause_us(l, TROUBLE_PAUSE_US);
			continue;
		}
		mq_trouble = false;
		if (n == 1) {
			handle(l, db, m);
			mq_msg_free(m);
		}
	}
	mq_consumer_close(c);
	db_close(db);
	return NULL;
}

/* ---- the command */

static void collect(struct metrics *reg, void *userdata)
{
	struct loop *l = userdata;
	(void)reg;
	uint64_t messages = 0, pending = 0, unacked = 0;
	if (mq_stream_backlog(l->mq, MQ_STREAM_TASKS, TASKLOOP_DURABLE, &messages, &pending,
			      &unacked) == 0) {
		metric_set(l->waiting, (double)pending, NULL);
		metric_set(l->in_progress, (double)unacked, NULL);
	}
}

/* The worker's metrics (tasks by kind and result, their durations,
 * redeliveries, the queue). */
static void metrics_init(struct loop *l)
{
	static const double bounds[] = { 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300 };
	l->metrics = metrics_new("worker");
	l->tasks = metrics_counter(l->metrics, "onair_tasks_total",
				   "tasks handled, by kind and result", "kind,result");
	l->duration = metrics_histogram(l->metrics, "onair_task_duration_seconds",
					"how long each task took", "kind", bounds,
					sizeof(bounds) / sizeof(bounds[0]));
	l->redeliveries = metrics_counter(l->metrics, "onair_task_redeliveries_total",
					  "tasks delivered again (a worker died or a retry)", "kind");
	l->waiting = metrics_gauge(l->metrics, "onair_tasks_waiting",
				   "tasks in the queue not yet delivered to a worker", NULL);
	l->in_progress = metrics_gauge(l->metrics, "onair_tasks_in_progress",
				       "tasks delivered and not yet answered", NULL);
	metrics_on_collect(l->metrics, collect, l);
}

static void on_mq_state(void *userdata, bool connected)
{
	if (connected)
		log_info(LOG, "message queue connected");
	else
		log_warn(LOG, "message queue disconnected; reconnecting");
}

/* Wait for the database to accept a connection (the threads open their
 * own): 0, 1 when stopped by a signal, or -EINVAL for a bad URL. */
static int wait_database(const char *url)
{
	bool told = false;
	for (;;) {
		struct db *db = NULL;
		char err[256];
		int r = db_open(&db, url, err, sizeof(err));
		if (r == 0) {
			db_close(db);
			return 0;
		}
		if (r == -EINVAL) {
			log_error(LOG, "database.url: %s", err);
			return -EINVAL;
		}
		if (!told)
			log_warn(LOG, "cannot open the database (%s); retrying", err);
		told = true;
		if (runtime_wait_signal(2 * USEC_PER_SEC) > 0)
			return 1;
	}
}

/* Wait for the queue and set up its streams: 0, or 1 when stopped. */
static int wait_queue(struct mq *mq)
{
	bool told = false;
	for (;;) {
		if (mq_connected(mq)) {
			int r = mq_ensure_topology(mq);
			if (r == 0)
				return 0;
			log_warn(LOG, "setting up streams failed (%s); will retry",
				 onair_strerror(r));
		} else if (!told) {
			log_warn(LOG, "waiting for the message queue");
			told = true;
		}
		if (runtime_wait_signal(500 * USEC_PER_MSEC) > 0)
			return 1;
	}
}

int taskloop_run(const struct config *cfg)
{
	int64_t parallelism = 0, max_attempts = 5;
	if (config_get_int(cfg, "worker.parallelism", 0, 1024, &parallelism) < 0) {
		log_error(LOG, "worker.parallelism must be an integer from 0 to 1024");
		return EXIT_USAGE;
	}
	if (config_get_int(cfg, "worker.max_attempts", 1, 1000, &max_attempts) < 0) {
		log_error(LOG, "worker.max_attempts must be an integer from 1 to 1000");
		return EXIT_USAGE;
	}
	if (parallelism == 0) {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		parallelism = n > 0 ? n : 1;
	}
	const char *db_url = config_get(cfg, "database.url");
	const char *storage_path = config_get(cfg, "storage.path");
	if (!db_url || !*db_url || !storage_path || !*storage_path) {
		log_error(LOG, "database.url and storage.path must be set");
		return EXIT_USAGE;
	}

	struct loop l = {
		.cfg = cfg,
		.db_url = db_url,
		.max_attempts = (int)max_attempts,
	};
	atomic_init(&l.stop, false);
	int code = EXIT_FAILURE;
	int r = storage_open(&l.st, storage_path);
	if (r < 0) {
		log_error(LOG, "storage.path %s: %s", storage_path, onair_strerror(r));
		return EXIT_FAILURE;
	}
	r = storage_sweep(l.st, SWEEP_AGE_US);
	if (r > 0)
		log_info(LOG, "removed %d temporary files left in %s/tmp", r, storage_path);

	r = wait_database(db_url);
	if (r != 0) {
		code = r < 0 ? EXIT_USAGE : EXIT_SUCCESS;
		goto out_close_storage;
	}

	char conn_name[128];
	char host[64] = "localhost";
	gethostname(host, sizeof(host) - 1);
	snprintf(conn_name, sizeof(conn_name), "onair-worker@%s", host);
	const char *configured = config_get(cfg, "nats.name");
	struct mq_options mo = {
		.url = config_get(cfg, "nats.url"),
		.name = configured ? configured : conn_name,
		.on_state = on_mq_state,
	};
	r = mq_options_from_config(&mo, cfg);
	if (r == 0)
		r = mq_connect(&l.mq, &mo);
	if (r < 0) {
		log_error(LOG, "cannot use message queue at %s: %s", mo.url, onair_strerror(r));
		code = EXIT_USAGE;
		goto out_close_storage;
	}
	struct presence *presence = NULL;
	if ((r = presence_start(l.mq, "worker", mo.name, &presence)) < 0)
		log_warn(LOG, "not answering presence requests: %s", onair_strerror(r));
	metrics_init(&l);
	struct metrics_http *mh = NULL;
	metrics_http_start_from(l.metrics, cfg, LOG, &mh);
	log_info(LOG, "starting (version %s, pid %d, %lld threads, max %d attempts, queue %s)",
		 ONAIR_VERSION, (int)getpid(), (long long)parallelism, l.max_attempts, mo.url);
	r = wait_queue(l.mq);
	if (r != 0) {
		code = EXIT_SUCCESS;
		goto out_close_mq;
	}

	struct worker_thread *threads = xcalloc((size_t)parallelism, sizeof(*threads));
	for (int64_t i = 0; i < parallelism; i++) {
		threads[i].loop = &l;
		threads[i].no = (int)i + 1;
		int e = pthread_create(&threads[i].thread, NULL, thread_main, &threads[i]);
		if (e != 0) {
			log_error(LOG, "cannot start thread %lld: %s", (long long)i + 1,
				  onair_strerror(-e));
			atomic_store(&l.stop, true);
			break;
		}
		threads[i].started = true;
	}
	int sig = 0;
	if (!atomic_load(&l.stop)) {
		log_info(LOG, "running");
		while (sig == 0)
			sig = runtime_wait_signal(-1);
		log_info(LOG, "stopping on %s: cancelling the tasks in hand", strsignal(sig));
		code = EXIT_SUCCESS;
	}
	atomic_store(&l.stop, true);
	for (int64_t i = 0; i < parallelism; i++) {
		if (threads[i].started)
			pthread_join(threads[i].thread, NULL);
	}
	free(threads);
	log_info(LOG, "stopped");
out_close_mq:
	metrics_http_stop(mh);
	metrics_free(l.metrics);
	presence_stop(presence);
	mq_close(l.mq);
out_close_storage:
	storage_close(l.st);
	return code;
}
