/*
 * presence.h - "who is there": every long-running onair process (api,
 * worker, messages, playout) answers requests on MQ_SUBJECT_PRESENCE with
 * one JSON object saying what it is and how it is:
 *
 *   {"role": "worker", "name": "onair-worker@host", "host": "host",
 *    "pid": 1234, "version": "0.1.0", "started_at": "2026-...Z",
 *    "errors": 0, "warnings": 3,
 *    "last_problem": {"at": "2026-...Z", "text": "[worker] ..."} | null}
 *
 * errors and warnings count the log lines of those levels since the
 * start; last_problem is the latest of them. `onair status` gathers the
 * answers (every responder gets every request: a plain subscription).
 */
#ifndef ONAIR_MQ_PRESENCE_H
#define ONAIR_MQ_PRESENCE_H

#include "mq/mq.h"

#define MQ_SUBJECT_PRESENCE "onair.presence"

struct presence;

/* Answer presence requests as role ("api", "worker", ...) with connection
 * name name (both copied), from now until presence_stop. 0 or -errno. */
int presence_start(struct mq *mq, const char *role, const char *name, struct presence **out);
/* Stop answering and free; safe on NULL. */
void presence_stop(struct presence *p);

#include "common/banned.h"
#endif
