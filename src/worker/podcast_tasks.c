/*
 * podcast_tasks.c - podcast task handlers for the task loop; see
 * podcast_tasks.h.
 */
#include <errno.h>

#include "common/timeutil.h"
#include "worker/podcast.h"
#include "worker/podcast_tasks.h"
#include "worker/taskloop.h"

/* The loop's outcome for a podcast function's result r. */
static int outcome(int r)
{
	if (r == 0)
		return TASK_DONE;
	if (r == -ENOENT)
		return TASK_GONE;
	if (r == -ECANCELED || podcast_error_transient(r))
		return r;
	return TASK_FAILED;
}

static int poll_handler(struct task_env *env, const struct proto_task *t, char *err,
			size_t errlen)
{
	return outcome(podcast_poll(env->db, env->mq, t->podcast_id, NULL, time_now_us(), err,
				    errlen));
}

static int ingest_handler(struct task_env *env, const struct proto_task *t, char *err,
			  size_t errlen)
{
	int r = podcast_ingest(env->db, env->mq, env->st, t->episode_id, NULL, time_now_us(), err,
			       errlen);
	int o = outcome(r);
	if (o < 0 && o != -ECANCELED && env->last_attempt)
		podcast_episode_fail(env->db, t->episode_id, err, time_now_us());
	return o;
}

int podcast_tasks_register(void)
{
	int r = taskloop_register(PROTO_TASK_POLL_PODCAST, poll_handler);
	if (r == 0)
		r = taskloop_register(PROTO_TASK_INGEST_EPISODE, ingest_handler);
	return r;
}
