/*
 * playout_cmd.h - "onair playout COMMAND ...": send a command to the
 * playout instances over the queue and print every reply. For operators
 * and tests; the web API sends the same commands through the message API.
 *
 *   onair playout status|skip|reload [--instance NAME]
 *   onair playout source schedule|show_live|main_live on|off [--instance NAME]
 *   onair playout disconnect main|show [--instance NAME]
 */
#ifndef ONAIR_PLAYOUT_CMD_H
#define ONAIR_PLAYOUT_CMD_H

#include "common/config.h"

/* Run the command in argv[0..argc-1] (after "playout"). Returns the exit
 * code: 0 when at least one instance answered and all answers were ok, 1
 * otherwise, 2 for a usage error. */
int playout_command(const struct config *cfg, int argc, char **argv);

#include "common/banned.h"
#endif
