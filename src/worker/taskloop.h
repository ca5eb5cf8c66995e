/*
 * taskloop.h - the worker's task loop (`onair worker`): take tasks from
 * the work-queue stream ONAIR_TASKS, run their handlers, and answer the
 * queue.
 *
 * worker.parallelism threads each bind to the durable pull consumer
 * "worker" (filter onair.tasks.>) and fetch one task at a time, with a
 * database connection of their own. Per task:
 *   - the tasks row is marked running (created first when the publisher
 *     made none); a task already done or failed is a duplicate delivery
 *     and is acked without running again;
 *   - the handler registered for the task's kind runs; its outcome
 *     decides the answer:
 *       TASK_DONE     tasks row done, ack;
 *       TASK_FAILED   tasks row failed (err kept), the task is republished
 *                     on onair.dead.tasks.<kind> (stream ONAIR_TASKS_DEAD),
 *                     term;
 *       TASK_GONE     what the task is about no longer exists: tasks row
 *                     failed (if it still exists), term, no dead letter;
 *       -ECANCELED    the worker is stopping: tasks row queued again (the
 *                     attempt not counted), nak for immediate redelivery;
 *       other < 0     a temporary failure: tasks row queued with err as
 *                     last_error, nak with a delay of 1 s x 2^(attempt-1)
 *                     (at most 5 min); on attempt worker.max_attempts it
 *                     is a TASK_FAILED instead.
 *   - one log line: kind, task id, what it is about, outcome, time taken.
 * Messages that do not decode are dead-lettered and terminated; a task of
 * a newer protocol version is naked for another worker (60 s).
 *
 * Handlers: analyze_file is built in (library_analyze_file: the file
 * becomes 'ready', or 'failed' with its reason when it is not playable,
 * which is a result, not an error). poll_podcast and ingest_episode get
 * their handlers from src/worker/podcast.c, registered with
 * taskloop_register before taskloop_run; a kind without a handler is
 * dead-lettered and terminated with a log line.
 *
 * On SIGTERM/SIGINT the threads stop fetching; analyses in hand are
 * cancelled and their tasks naked at once (another worker takes them
 * over), and taskloop_run returns.
 */
#ifndef ONAIR_WORKER_TASKLOOP_H
#define ONAIR_WORKER_TASKLOOP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/config.h"
#include "common/timeutil.h"
#include "db/db.h"
#include "mq/mq.h"
#include "protocol/protocol.h"
#include "storage/storage.h"

/* Handler outcomes (besides negative errno values, see above). */
#define TASK_DONE 0
#define TASK_FAILED 1
#define TASK_GONE 2

/* Durable consumer name shared by every worker. */
#define TASKLOOP_DURABLE "worker"
/* Redelivery of a task whose worker died without answering. Longer than
 * any analysis (120 s) or podcast download (15 min). */
#define TASKLOOP_ACK_WAIT_US (20 * 60 * USEC_PER_SEC)
/* Retry delays: 1 s x 2^(attempt - 1), at most 5 min. */
#define TASKLOOP_RETRY_BASE_US (1 * USEC_PER_SEC)
#define TASKLOOP_RETRY_MAX_US (5 * 60 * USEC_PER_SEC)

/* What a handler works with: valid during the call only. */
struct task_env {
	struct db *db;			/* the thread's own connection */
	struct storage *st;		/* the media directory (thread-safe) */
	struct mq *mq;			/* the queue connection (thread-safe) */
	const struct config *cfg;	/* the settings (read only) */
	int attempt;			/* 1 on the first attempt */
	bool last_attempt;		/* a temporary failure now is final: leave a
					 * trace in your own rows (the file, the
					 * episode) if you have one */
	const atomic_bool *stop;	/* private: use task_env_stopping */
};

/* True once the worker is stopping. Matches analyze_options.cancel (pass
 * the env as cancel_opaque); handlers doing long work poll it and return
 * -ECANCELED. */
bool task_env_stopping(void *env);

/*
 * A handler for one task kind. Returns TASK_DONE, TASK_FAILED (can never
 * succeed; err says why), TASK_GONE (its object was deleted), -ECANCELED
 * (stopped), or another negative errno for a temporary failure (err says
 * what). err has errlen bytes (at least 256); on TASK_DONE it may hold a
 * short note for the log line ("ready", "not playable: ...").
 */
typedef int (*task_handler_fn)(struct task_env *env, const struct proto_task *t, char *err,
			       size_t errlen);

/* Set the handler of kind (replacing any; NULL removes it). Call before
 * taskloop_run, from one thread. 0 or -EINVAL for a kind out of range. */
int taskloop_register(enum proto_task_kind kind, task_handler_fn fn);

/* The built-in handler of analyze_file tasks (registered from the start). */
int taskloop_analyze_file(struct task_env *env, const struct proto_task *t, char *err,
			  size_t errlen);

/*
 * Run `onair worker` with settings cfg (database.url, storage.path,
 * nats.url, nats.name, worker.parallelism, worker.max_attempts) until
 * SIGTERM or SIGINT, which the caller must have blocked
 * (runtime_block_signals). Waits for the queue and the database when they
 * are not reachable yet. Returns the process exit code: 0 after a clean
 * stop, 1 when it cannot start (bad settings, storage.path unusable), 2
 * for an invalid setting.
 */
int taskloop_run(const struct config *cfg);

#include "common/banned.h"
#endif
