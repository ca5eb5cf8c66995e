#include "common/cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"

extern char **environ;

int cli_start(struct cli *cli, int argc, char **argv, const struct config_key *keys,
	      size_t nkeys, const char *usage)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	memset(cli, 0, sizeof(*cli));
	const char *slash = strrchr(argv[0], '/');
	cli->program = slash ? slash + 1 : argv[0];
	const char *log_level = NULL;
	int c;
	optind = 1;
	/* '+': stop at the first non-option, the command. */
	while ((c = getopt_long(argc, argv, "+c:l:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cli->config_path = optarg;
			break;
		case 'l':
			log_level = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		case 'V':
			printf("%s %s\n", cli->program, ONAIR_VERSION);
			return 1;
		default:
			fprintf(stderr, "Try '%s --help'.\n", cli->program);
			return -EINVAL;
		}
	}
	cli->argc = argc - optind;
	cli->argv = argv + optind;

	config_init(&cli->config, keys, nkeys);
	if (cli->config_path) {
		char err[512];
		int r = config_load_file(&cli->config, cli->config_path, err, sizeof(err));
		if (r < 0) {
			fprintf(stderr, "%s: %s\n", cli->program, err);
			goto out_release;
		}
	}
	config_load_env(&cli->config, environ);
	if (log_level)
		config_set(&cli->config, "log.level", log_level);
	enum log_level level;
	const char *lv = config_get(&cli->config, "log.level");
	if (!lv || log_level_parse(lv, &level) < 0) {
		fprintf(stderr, "%s: invalid log level '%s' (error, warn, info, debug)\n",
			cli->program, lv ? lv : "");
		goto out_release;
	}
	log_set_level(level);
	return 0;

out_release:
	config_release(&cli->config);
	return -EINVAL;
}

void cli_release(struct cli *cli)
{
	config_release(&cli->config);
}
