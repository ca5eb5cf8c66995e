/*
 * podcast_tasks.h - the worker's handlers for poll_podcast and
 * ingest_episode tasks: podcast_poll and podcast_ingest (podcast.h)
 * answered the way the task loop (taskloop.h) expects.
 *
 *   podcast_tasks_register();   before taskloop_run
 *
 * A transient failure (podcast_error_transient) is retried by the loop;
 * on the last attempt an episode is marked failed with the reason. A
 * podcast or episode that no longer exists is TASK_GONE; anything else is
 * TASK_FAILED with the reason.
 */
#ifndef ONAIR_WORKER_PODCAST_TASKS_H
#define ONAIR_WORKER_PODCAST_TASKS_H

/* Register both handlers with the task loop. 0 or -EINVAL. */
int podcast_tasks_register(void);

#include "common/banned.h"
#endif
