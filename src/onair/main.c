/*
 * onair - the "Create the schedule" block: one program, one command per
 * role (api, worker, messages) plus administration commands.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cli.h"
#include "common/log.h"
#include "common/runtime.h"
#include "metrics/metrics_http.h"
#include "mq/mq.h"
#include "onair/analyze_cmd.h"
#include "onair/backup_cmd.h"
#include "onair/import_cmd.h"
#include "onair/messages_cmd.h"
#include "onair/migrate.h"
#include "onair/playout_cmd.h"
#include "onair/publish.h"
#include "onair/role.h"
#include "onair/api_cmd.h"
#include "onair/schedule_cmd.h"
#include "onair/status_cmd.h"
#include "onair/user_cmd.h"

static const struct config_key onair_keys[] = {
	CLI_COMMON_KEYS,
	{ "api.listen", "127.0.0.1:8080", "address:port the web API listens on" },
	API_CMD_KEYS,
	{ "database.url", "sqlite:///var/lib/onair/onair.db",
	  "sqlite:///path/file.db or postgresql://user@host/db" },
	{ "storage.path", "/var/lib/onair/media", "media directory" },
	{ "worker.parallelism", "0", "analysis tasks at once (0 = number of cores)" },
	{ "worker.max_attempts", "5", "attempts of a task before it fails for good" },
	{ "messages.publish", "true", "whether onair messages publishes the compiled schedule" },
	{ "messages.interval", "60", "seconds between two compilations without a change" },
	{ "messages.window_hours", "48", "hours of schedule in each snapshot" },
	{ "messages.icecast_status", NULL,
	  "Icecast status URLs (comma-separated http://host:port/status-json.xsl) to count listeners" },
	{ "messages.listeners_interval", "60", "seconds between two listener counts" },
	METRICS_HTTP_CONFIG_KEYS,
	MQ_CONFIG_KEYS,
};

static const char usage[] =
	"Usage: onair [OPTIONS] COMMAND [ARGS]\n"
	"\n"
	"The schedule-building side of the onair radio automation system.\n"
	"\n"
	"Commands:\n"
	"  api         serve the web API and the web app ('api routes': list the routes)\n"
	"  worker      run background tasks (analysis, podcasts)\n"
	"  messages    talk to playout: publish the schedule, take in events\n"
	"  config      print the effective settings and where each comes from\n"
	"  migrate     create or upgrade the database schema (database.url)\n"
	"  playout COMMAND   send a command to playout: status, skip, reload,\n"
	"              source NAME on|off, disconnect main|show (see 'onair playout')\n"
	"  analyze FILE...  analyse media files, one JSON line each (see 'onair analyze -h')\n"
	"  import DIR...  store, add and analyse the audio files of directories\n"
	"              (see 'onair import -h')\n"
	"  enqueue-analysis FILE_ID...\n"
	"              queue the analysis of library files for the worker\n"
	"  user add|passwd|disable|enable|list\n"
	"              the station's accounts (see 'onair user -h')\n"
	"  backup DIR  a consistent copy of the database and the media, while it runs\n"
	"  restore DIR put a backup back into an empty database and the media store\n"
	"  status      the whole station on one screen; exit 0 healthy, 1 warning,\n"
	"              2 critical (see 'onair status -h')\n"
	"  schedule    compile the schedule of a window and print the snapshot\n"
	"              (see 'onair schedule -h')\n"
	"  publish-snapshot FILE\n"
	"              validate a schedule snapshot and hand it to playout\n"
	"\n"
	"Options:\n"
	"  -c, --config FILE      read settings from an INI file\n"
	"  -l, --log-level LEVEL  error, warn, info or debug\n"
	"  -h, --help             show this help\n"
	"  -V, --version          show the version\n"
	"\n"
	"Every setting can also be given as an environment variable:\n"
	"[nats] url = ... is ONAIR_NATS_URL. See 'onair config'.\n";

int main(int argc, char **argv)
{
	int r = runtime_block_signals();
	if (r < 0) {
		fprintf(stderr, "onair: cannot set up signals\n");
		return EXIT_FAILURE;
	}
	struct cli cli;
	r = cli_start(&cli, argc, argv, onair_keys, sizeof(onair_keys) / sizeof(onair_keys[0]),
		      usage);
	if (r == 1)
		return EXIT_SUCCESS;
	if (r < 0)
		return EXIT_USAGE;

	int code = EXIT_USAGE;
	if (cli.argc < 1) {
		fprintf(stderr, "%s: missing command\nTry '%s --help'.\n", cli.program,
			cli.program);
		goto out;
	}
	const char *cmd = cli.argv[0];
	if (strcmp(cmd, "api") == 0 && cli.argc >= 2 && strcmp(cli.argv[1], "routes") == 0) {
		code = api_routes_command(cli.argc == 3 && strcmp(cli.argv[2], "--json") == 0);
	} else if (strcmp(cmd, "api") == 0 || strcmp(cmd, "worker") == 0 ||
	    strcmp(cmd, "messages") == 0) {
		if (cli.argc > 1) {
			fprintf(stderr, "%s %s: unexpected argument '%s'\n", cli.program, cmd,
				cli.argv[1]);
			goto out;
		}
		code = strcmp(cmd, "messages") == 0 ? messages_command(&cli.config)
		       : strcmp(cmd, "api") == 0    ? api_command(&cli.config)
						     : role_run(cmd, &cli.config);
	} else if (strcmp(cmd, "playout") == 0) {
		code = playout_command(&cli.config, cli.argc - 1, cli.argv + 1);
	} else if (strcmp(cmd, "publish-snapshot") == 0) {
		if (cli.argc != 2) {
			fprintf(stderr, "Usage: %s publish-snapshot FILE|-\n", cli.program);
			goto out;
		}
		code = publish_snapshot_file(&cli.config, cli.argv[1]);
	} else if (strcmp(cmd, "migrate") == 0) {
		if (cli.argc > 1) {
			fprintf(stderr, "%s migrate: unexpected argument '%s'\n", cli.program,
				cli.argv[1]);
			goto out;
		}
		code = migrate_run(&cli.config);
	} else if (strcmp(cmd, "user") == 0) {
		code = user_command(&cli.config, cli.argc, cli.argv);
	} else if (strcmp(cmd, "backup") == 0) {
		code = backup_command(&cli.config, cli.argc, cli.argv);
	} else if (strcmp(cmd, "restore") == 0) {
		code = restore_command(&cli.config, cli.argc, cli.argv);
	} else if (strcmp(cmd, "status") == 0) {
		code = status_command(&cli.config, cli.argc, cli.argv);
	} else if (strcmp(cmd, "schedule") == 0) {
		code = schedule_command(&cli.config, cli.argc, cli.argv);
	} else if (strcmp(cmd, "analyze") == 0) {
		code = analyze_command(&cli.config, cli.argc, cli.argv);
	} else if (strcmp(cmd, "import") == 0) {
		code = import_command(&cli.config, cli.argc, cli.argv);
	} else if (strcmp(cmd, "enqueue-analysis") == 0) {
		code = enqueue_analysis_command(&cli.config, cli.argc, cli.argv);
	} else if (strcmp(cmd, "config") == 0) {
		config_dump(&cli.config, stdout);
		code = EXIT_SUCCESS;
	} else if (strcmp(cmd, "version") == 0) {
		printf("%s %s\n", cli.program, ONAIR_VERSION);
		code = EXIT_SUCCESS;
	} else {
		fprintf(stderr, "%s: unknown command '%s'\nTry '%s --help'.\n", cli.program, cmd,
			cli.program);
	}
out:
	cli_release(&cli);
	mq_library_shutdown();
	return code;
}
