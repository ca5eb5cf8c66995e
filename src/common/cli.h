/*
 * cli.h - what both programs do before their command runs: parse the
 * global options (-c/--config, -l/--log-level, -h/--help, -V/--version),
 * load the settings (defaults, file, environment) and set the log level.
 */
#ifndef ONAIR_CLI_H
#define ONAIR_CLI_H

#include "common/config.h"

/* Exit codes shared by both programs. */
#define EXIT_USAGE 2		/* bad command line or configuration */

struct cli {
	const char *program;	/* argv[0]'s base name */
	const char *config_path;	/* -c FILE, or NULL */
	int argc;		/* what follows the global options */
	char **argv;
	struct config config;
};

/*
 * Parse global options from argv, then load settings from keys (the
 * file named by -c, then ONAIR_* variables) and apply log.level.
 * usage is printed for --help. Returns:
 *   0        go on with cli->argc/argv (the command and its arguments);
 *   1        done, exit 0 (--help or --version was handled);
 *   -EINVAL  usage or configuration error, already reported: exit 2.
 * On 0 the caller must cli_release(cli).
 */
int cli_start(struct cli *cli, int argc, char **argv, const struct config_key *keys,
	      size_t nkeys, const char *usage);

/* Free what cli_start allocated. */
void cli_release(struct cli *cli);

/* Settings every program has (log.level, nats.url, ...), for building a
 * program's own table; CLI_COMMON_KEYS_COUNT entries. */
#define CLI_COMMON_KEYS \
	{ "log.level", "info", "error, warn, info or debug" }, \
	{ "nats.url", "nats://127.0.0.1:4222", "NATS server URL(s), comma-separated" }, \
	{ "nats.name", NULL, "connection name shown by the NATS server (default: program and host)" }

#include "common/banned.h"
#endif
