/*
 * onair-playout - the "Play the schedule" block. It never links the
 * database: everything it needs arrives through the protocol (the
 * schedule snapshot in the queue's key-value bucket) and over HTTP.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/cli.h"
#include "common/error.h"
#include "common/log.h"
#include "common/runtime.h"
#include "common/timeutil.h"
#include "mq/mq.h"
#include "playout/playout.h"

static const char usage[] =
	"Usage: onair-playout [OPTIONS] [COMMAND]\n"
	"\n"
	"The playing side of the onair radio automation system.\n"
	"\n"
	"Commands:\n"
	"  run         play the schedule (the default)\n"
	"  status      show what the running service is doing\n"
	"  config      print the effective settings and where each comes from\n"
	"  check-live  check a live login (used by Liquidsoap; reads ONAIR_LIVE_*)\n"
	"  hash-password\n"
	"              print the hash of the password read from standard input\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE      read settings from an INI file\n"
	"  -l, --log-level LEVEL  error, warn, info or debug\n"
	"  -h, --help             show this help\n"
	"  -V, --version          show the version\n"
	"\n"
	"Every setting can also be given as an environment variable:\n"
	"[playout] instance = ... is ONAIR_PLAYOUT_INSTANCE. See 'onair-playout config'.\n";

int main(int argc, char **argv)
{
	if (runtime_block_signals() < 0) {
		fprintf(stderr, "onair-playout: cannot set up signals\n");
		return EXIT_FAILURE;
	}
	struct cli cli;
	int r = cli_start(&cli, argc, argv, playout_config_keys, playout_config_keys_count, usage);
	if (r == 1)
		return EXIT_SUCCESS;
	if (r < 0)
		return EXIT_USAGE;
	int code = EXIT_USAGE;
	const char *cmd = cli.argc > 0 ? cli.argv[0] : "run";
	if (cli.argc > 1) {
		fprintf(stderr, "%s %s: unexpected argument '%s'\n", cli.program, cmd, cli.argv[1]);
	} else if (strcmp(cmd, "run") == 0) {
		code = playout_run(&cli.config, argv[0]);
	} else if (strcmp(cmd, "status") == 0) {
		code = playout_print_status(&cli.config);
	} else if (strcmp(cmd, "hash-password") == 0) {
		code = playout_hash_password();
	} else if (strcmp(cmd, "check-live") == 0) {
		code = playout_check_live(&cli.config);
	} else if (strcmp(cmd, "config") == 0) {
		config_dump(&cli.config, stdout);
		code = EXIT_SUCCESS;
	} else {
		fprintf(stderr, "%s: unknown command '%s'\nTry '%s --help'.\n", cli.program, cmd,
			cli.program);
	}
	cli_release(&cli);
	mq_library_shutdown();
	return code;
}
