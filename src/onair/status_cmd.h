/*
 * status_cmd.h - "onair status [--json] [--timeout SECONDS]": the whole
 * station on one screen, for the operator and for monitoring.
 *
 * It asks, over the queue, every process that answers presence requests
 * (mq/presence.h) and every playout instance (a status command); reads
 * the database for what is on air, listener counts and the last hour's
 * dead air (time on the safety source); and reads the queue's backlog.
 * The exit status follows the monitoring-plugin convention:
 *   0 healthy;
 *   1 warning: a create role (api, worker, messages) does not answer, the
 *     database is unreachable, a playout refuses the status command,
 *     files of the next hours are missing, a playout was on the safety
 *     source for 5 s or more in the last hour, or the queue has a backlog
 *     (over 1000 tasks or events waiting);
 *   2 critical: off air or about to be: NATS unreachable, no playout
 *     answers, playout is on the safety source or has no source, or an
 *     output is down;
 *   3 unknown: the check itself could not run (a bad option; settings
 *     that cannot be read stop every command with 2 before it runs).
 * With --json the same findings as one JSON object on stdout.
 */
#ifndef ONAIR_STATUS_CMD_H
#define ONAIR_STATUS_CMD_H

#include "common/config.h"

#define STATUS_OK 0
#define STATUS_WARNING 1
#define STATUS_CRITICAL 2
#define STATUS_UNKNOWN 3

/* Run "onair status" with argv[0..argc-1] (argv[0] is "status"). Returns
 * one of the STATUS_* exit codes. */
int status_command(const struct config *cfg, int argc, char **argv);

#include "common/banned.h"
#endif
