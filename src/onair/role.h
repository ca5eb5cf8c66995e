/*
 * role.h - the long-running roles of the onair program (api, worker,
 * messages): connect to the queue, run until SIGTERM/SIGINT, stop cleanly.
 */
#ifndef ONAIR_ROLE_H
#define ONAIR_ROLE_H

#include "common/config.h"

/* Run role name ("api", "worker" or "messages") with settings cfg until a
 * stop signal ("worker" is worker/taskloop.h's taskloop_run). Returns the
 * process exit code. */
int role_run(const char *name, const struct config *cfg);

#include "common/banned.h"
#endif
