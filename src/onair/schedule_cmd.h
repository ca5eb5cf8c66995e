/*
 * schedule_cmd.h - "onair schedule": materialise the show instances of a
 * window, build what the station fills by itself (linked shows,
 * rebroadcasts, autoplaylists), compile the snapshot and print it as
 * JSON on stdout, with what was done and every gap and problem on
 * stderr. `onair schedule | onair publish-snapshot -` hands it to
 * playout by hand; `onair messages` does the same on its own.
 *
 *   onair schedule [--from INSTANT|now] [--hours N] [--revision N]
 *                  [--seed N] [--no-build] [--quiet]
 */
#ifndef ONAIR_SCHEDULE_CMD_H
#define ONAIR_SCHEDULE_CMD_H

#include "common/config.h"

/* Run the command in argv[0..argc-1] (argv[0] is "schedule") against
 * database.url. Returns the exit code: 0, 1 on a failure (said on
 * stderr), 2 for a usage error. */
int schedule_command(const struct config *cfg, int argc, char **argv);

#include "common/banned.h"
#endif
