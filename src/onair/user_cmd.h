/*
 * user_cmd.h - "onair user": the station's accounts from the command
 * line. There is no default account: the first admin is made here.
 *
 *   onair user add NAME --role ROLE [--email ADDRESS] [--display-name TEXT]
 *   onair user passwd NAME
 *   onair user disable NAME | enable NAME
 *   onair user list
 *
 * ROLE is admin, program_manager, host or guest. The password is read
 * from standard input (its first line; on a terminal it is asked twice
 * without echo), at least 8 characters, and stored as an Argon2id hash
 * (libsodium crypto_pwhash_str). NAME is 1 to 64 of [A-Za-z0-9._-].
 * Each change is written to the audit log (actor "cli").
 */
#ifndef ONAIR_USER_CMD_H
#define ONAIR_USER_CMD_H

#include "common/config.h"

/* Run the command in argv[0..argc-1] (argv[0] is "user") against
 * database.url (migrated first). Returns the exit code: 0, 1 on a
 * failure (said on stderr: "a user named 'ann' already exists"), 2 for
 * a usage error. */
int user_command(const struct config *cfg, int argc, char **argv);

#include "common/banned.h"
#endif
